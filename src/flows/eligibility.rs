//! "Is this enterprise excluded at time T?", asked by every step of every flow.

use chrono::NaiveDateTime;

use crate::db::{parties, DbConn};
use crate::domain::credit::{excluded_at, RatingRecord};
use crate::error::{AppError, Exclusion, Party};

/// The exclusion in force for `code` at `at`, if any.
pub fn exclusion(
    conn: &mut DbConn,
    code: &str,
    at: NaiveDateTime,
) -> Result<Option<RatingRecord>, AppError> {
    let history: Vec<RatingRecord> = parties::ratings(conn, code)?
        .iter()
        .filter_map(|r| r.record())
        .collect();
    Ok(excluded_at(&history, at).cloned())
}

/// The refusal for a party excluded by `r`, naming the party, rating and reference.
pub fn refusal(party: Party, code: &str, name: &str, r: &RatingRecord) -> AppError {
    AppError::EnterpriseExcluded(Box::new(excluded(party, code, name, r)))
}

fn excluded(party: Party, code: &str, name: &str, r: &RatingRecord) -> Exclusion {
    Exclusion {
        party,
        code: code.into(),
        name: name.into(),
        rating: r.rating,
        since: r.effective_from.date(),
        reference: r.reference.clone(),
        warehouse: None,
        held: false,
    }
}

/// Refuses when `code` is excluded at `at`, naming the party, rating and reference.
pub fn ensure_not_excluded(
    conn: &mut DbConn,
    party: Party,
    code: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    match exclusion(conn, code, at)? {
        Some(r) => Err(refusal(party, code, name, &r)),
        None => Ok(()),
    }
}

/// A warehouse whose operator is excluded can do nothing while that rating is in force.
pub fn ensure_warehouse_operable(
    conn: &mut DbConn,
    warehouse: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    let wh = parties::warehouse(conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    let op = parties::enterprise(conn, &wh.operator_code)?;
    let name = op.map(|e| e.name).unwrap_or_default();
    match exclusion(conn, &wh.operator_code, at)? {
        Some(r) => Err(warehouse_refusal(warehouse, &wh.operator_code, &name, &r)),
        None => Ok(()),
    }
}

/// The refusal for a warehouse whose operator is excluded by `r`.
pub fn warehouse_refusal(
    warehouse: &str,
    operator: &str,
    name: &str,
    r: &RatingRecord,
) -> AppError {
    AppError::EnterpriseExcluded(Box::new(Exclusion {
        warehouse: Some(warehouse.into()),
        ..excluded(Party::Operator, operator, name, r)
    }))
}

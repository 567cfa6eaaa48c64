//! Customs hold and release (扣留 / 放行) by a supervisor, from any open state and back.

use diesel::prelude::*;

use crate::audit::{Actor, Changes, NewEntry};
use crate::db::returns::{self as store, ReturnRow};
use crate::db::schema::{declarations, returns};
use crate::db::writer::Tx;
use crate::db::DbConn;
use crate::domain::returns::{Action, State};
use crate::error::AppError;

/// Returns physically in a warehouse (received, sorted, inspected) that involve `party` as
/// e-commerce enterprise or declaring agent.
pub fn open_returns_of_party(conn: &mut DbConn, party: &str) -> Result<Vec<String>, AppError> {
    Ok(returns::table
        .inner_join(declarations::table)
        .filter(returns::state.eq_any(["received", "sorted", "inspected"]))
        .filter(
            declarations::ebc_code
                .eq(party)
                .or(declarations::agent_code.eq(party)),
        )
        .select(returns::id)
        .order(returns::id)
        .load(conn)?)
}

/// The e-commerce enterprise of a return, so that holds are found by enterprise in the log.
fn ebc_of(conn: &mut DbConn, r: &ReturnRow) -> Result<Option<String>, AppError> {
    Ok(store::declaration(conn, &r.invt_no)?.map(|d| d.ebc_code))
}

fn load(tx: &mut Tx<'_>, id: &str) -> Result<ReturnRow, AppError> {
    store::get(tx.conn, id)?
        .ok_or_else(|| AppError::NotFound(format!("return {id} does not exist")))
}

/// Puts a return on hold, remembering where it was.
pub fn hold_return(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ReturnRow, AppError> {
    let mut r = load(tx, id)?;
    let state = State::parse(&r.state)
        .ok_or_else(|| AppError::Internal(format!("bad state {}", r.state)))?;
    if state.next(Action::Hold).is_none() {
        return Err(AppError::InvalidState(format!(
            "return {id} is {} and cannot be held",
            r.state
        )));
    }
    let before = r.state.clone();
    r.held_from = Some(before.clone());
    r.state = State::Held.as_str().into();
    store::update_from(tx.conn, &r, &before)?;
    let ebc = ebc_of(tx.conn, &r)?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.hold",
            entity_kind: "return",
            entity_id: id,
            warehouse: r.warehouse_code.as_deref(),
            enterprise: ebc.as_deref(),
            changes: Changes::new().set("state", &before, "held"),
            reason: Some(reason),
        },
    )?;
    Ok(r)
}

/// Releases a held return back to the state it was held in.
pub fn release_return(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ReturnRow, AppError> {
    let mut r = load(tx, id)?;
    if r.state != State::Held.as_str() {
        return Err(AppError::InvalidState(format!(
            "return {id} is {}, not held",
            r.state
        )));
    }
    let back = r.held_from.clone().unwrap_or_else(|| "received".into());
    r.state = back.clone();
    r.held_from = None;
    store::update_from(tx.conn, &r, "held")?;
    let ebc = ebc_of(tx.conn, &r)?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.release",
            entity_kind: "return",
            entity_id: id,
            warehouse: r.warehouse_code.as_deref(),
            enterprise: ebc.as_deref(),
            changes: Changes::new().set("state", "held", &back),
            reason: Some(reason),
        },
    )?;
    Ok(r)
}

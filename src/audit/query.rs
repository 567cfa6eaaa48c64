//! Reading the audit log: filters and cursor paging, newest first.

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;

use super::AuditEntry;
use crate::db::schema::audit_entries;
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Entries at or after this time (RFC 3339).
    pub from: Option<DateTime<FixedOffset>>,
    /// Entries before this time (RFC 3339).
    pub to: Option<DateTime<FixedOffset>>,
    pub actor: Option<String>,
    pub enterprise: Option<String>,
    pub warehouse: Option<String>,
    /// Entity id, e.g. a return id.
    pub entity: Option<String>,
    pub action: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[+-]?[0-9]+$")]
    pub cursor: Option<String>,
    /// Entries per page, 1–500 (default 50); for the CSV export, entries per file, 1–100000
    /// (the default).
    #[param(minimum = 1, maximum = 100000)]
    pub limit: Option<i64>,
}

pub const MAX_LIMIT: i64 = 500;

impl Filter {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(AppError::validation(
                "limit",
                format!("between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    fn cursor(&self) -> Result<Option<i64>, AppError> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse::<i64>().map_err(|_| {
                    AppError::validation("cursor", "use the next_cursor of the previous page")
                })
            })
            .transpose()
    }
}

/// One page of entries matching `f`, newest first (by time, then by sequence), and the
/// cursor of the next page.
///
/// The order is the one the `(warehouse, at, seq)` and `(at, seq)` indexes hold, so a first
/// page filtered by warehouse and time range reads about one page of index entries, however
/// long the range (ordering by `seq` alone made the database read and sort the whole range).
/// The cursor stays the `seq` of the last entry shown; the next page starts right after that
/// entry's place in the order.
pub fn page(
    conn: &mut DbConn,
    f: &Filter,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<String>), AppError> {
    let cursor = f.cursor()?;
    // Where the cursor's entry stands in the order (entries are never removed).
    let after: Option<NaiveDateTime> = match cursor {
        Some(c) => audit_entries::table
            .find(c)
            .select(audit_entries::at)
            .get_result(conn)
            .optional()?,
        None => None,
    };
    let mut q = audit_entries::table.into_boxed();
    if let Some(t) = f.from {
        q = q.filter(audit_entries::at.ge(t.naive_utc()));
    }
    if let Some(t) = f.to {
        q = q.filter(audit_entries::at.lt(t.naive_utc()));
    }
    if let Some(v) = &f.actor {
        q = q.filter(audit_entries::actor.eq(v.clone()));
    }
    if let Some(v) = &f.enterprise {
        q = q.filter(audit_entries::enterprise.eq(v.clone()));
    }
    if let Some(v) = &f.warehouse {
        q = q.filter(audit_entries::warehouse.eq(v.clone()));
    }
    if let Some(v) = &f.entity {
        q = q.filter(audit_entries::entity_id.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_entries::action.eq(v.clone()));
    }
    match (cursor, after) {
        // (at, seq) < (cursor's at, cursor): the first conjunct bounds the index range.
        (Some(c), Some(at)) => {
            q = q
                .filter(audit_entries::at.le(at))
                .filter(audit_entries::at.lt(at).or(audit_entries::seq.lt(c)));
        }
        // A cursor no entry has (not one this endpoint gave): entries before it in the chain.
        (Some(c), None) => q = q.filter(audit_entries::seq.lt(c)),
        (None, _) => {}
    }
    let mut rows: Vec<AuditEntry> = q
        .order((audit_entries::at.desc(), audit_entries::seq.desc()))
        .limit(limit + 1)
        .select(AuditEntry::as_select())
        .load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    Ok((rows, next))
}

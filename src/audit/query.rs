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
    /// Entries up to this time, inclusive of what it shows: a time given to the minute
    /// (`…T12:40:00+08:00`) includes that whole minute, one given to the second that whole
    /// second (RFC 3339).
    pub to: Option<DateTime<FixedOffset>>,
    /// A waybill, declaration list number (invtNo), order number, product barcode or HS code:
    /// the entries of the returns (and lists) it belongs to.
    #[param(max_length = 64)]
    pub search: Option<String>,
    /// Entries of the steps filmed by this camera (its code).
    #[param(max_length = 30, pattern = "^[A-Za-z0-9-]+$")]
    pub camera: Option<String>,
    /// The language of the export's actions and reasons: `zh` or `en` (default: the
    /// reader's `Accept-Language`, Chinese when it says nothing else).
    #[param(pattern = "^(zh|en)$")]
    pub lang: Option<String>,
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
        q = q.filter(audit_entries::at.lt(upper_bound(t)));
    }
    if let Some(term) = f.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let ids = entities_matching(conn, term)?;
        q = q.filter(audit_entries::entity_id.eq_any(ids));
    }
    if let Some(cam) = f.camera.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        if cam.len() > 30 || !cam.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(AppError::validation(
                "camera",
                "a camera code: letters, digits and -",
            ));
        }
        let cam = cam.to_ascii_uppercase();
        // The camera a step recorded is a field of its changes (`"camera": {after: CODE}`), in
        // the canonical encoding; the code has no LIKE wildcards (checked above).
        q = q.filter(
            audit_entries::changes
                .like(format!("%\"camera\":{{\"after\":\"{cam}\",%"))
                .or(audit_entries::changes.like(format!(
                    "%\"camera\":{{\"before\":null,\"after\":\"{cam}\"}}%"
                ))),
        );
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

/// The end (exclusive) of a `to` bound, inclusive of what it shows: to the minute when its
/// seconds are 0, else to the second when it has no fraction, else to the microsecond.
pub fn upper_bound(to: DateTime<FixedOffset>) -> NaiveDateTime {
    use chrono::{Duration, Timelike};
    let t = to.naive_utc();
    if to.nanosecond() != 0 {
        t + Duration::microseconds(1)
    } else if to.second() != 0 {
        t + Duration::seconds(1)
    } else {
        t + Duration::minutes(1)
    }
}

/// Lists at most this many by one search (an HS code may be on many).
const SEARCH_LISTS: i64 = 1000;

/// The entity ids (return ids and list numbers) that a waybill, list number (invtNo), order
/// number, product barcode or HS code belongs to.
pub fn entities_matching(conn: &mut DbConn, term: &str) -> Result<Vec<String>, AppError> {
    use crate::db::schema::{declaration_lines, declarations, returns};
    if term.chars().count() > 64 {
        return Err(AppError::validation("search", "at most 64 characters"));
    }
    let upper = term.to_ascii_uppercase();
    let by_line = declaration_lines::table
        .filter(
            declaration_lines::bar_code
                .eq(term)
                .or(declaration_lines::gcode.eq(term)),
        )
        .select(declaration_lines::invt_no);
    let lists: Vec<String> = declarations::table
        .filter(
            declarations::invt_no
                .eq(&upper)
                .or(declarations::order_no.eq(term))
                .or(declarations::logistics_no.eq(&upper))
                .or(declarations::logistics_no.eq(term))
                .or(declarations::invt_no.eq_any(by_line)),
        )
        .select(declarations::invt_no)
        .limit(SEARCH_LISTS)
        .load(conn)?;
    let mut ids: Vec<String> = returns::table
        .filter(
            returns::invt_no
                .eq_any(&lists)
                .or(returns::logistics_no.eq(&upper))
                .or(returns::id.eq(&upper)),
        )
        .select(returns::id)
        .load(conn)?;
    ids.extend(lists);
    Ok(ids)
}

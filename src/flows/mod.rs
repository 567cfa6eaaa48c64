//! Business actions, one file each, read top to bottom: load → check rules → write → audit,
//! all inside the one transaction the writer opens for the request.

pub mod declarations;
pub mod demo;
pub mod eligibility;
pub mod handheld;
pub mod idempotency;
pub mod imports;
pub mod labels;
pub mod parties;
pub mod printing;
pub mod returns;
pub mod users;

use chrono::NaiveDateTime;

use crate::db::{parties as store, DbConn};
use crate::error::AppError;

/// The rating that was in force for `code` at `at`, ignoring the record `except`.
pub(crate) fn eligibility_rating_before(
    conn: &mut DbConn,
    code: &str,
    except: i64,
    at: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    let history: Vec<_> = store::ratings(conn, code)?
        .iter()
        .filter(|r| r.id != except)
        .filter_map(|r| r.record())
        .collect();
    Ok(crate::domain::credit::rating_at(&history, at).map(|r| r.rating.as_str().to_string()))
}

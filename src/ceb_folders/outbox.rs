//! The outbox (`BR_CEB_OUTBOX`): each CEB625 return application the warehouse files (made
//! here with `POST /api/v1/returns`, not one imported from an agent's CEB625) is written there
//! for the customs client to send, once.
//!
//! The message is made and kept in the transaction that files the application
//! ([`enqueue`]); after the commit a worker writes it as `CEB625_<message guid>.xml` (under a
//! temporary dot-name, flushed, renamed) and marks it written. A crash before the file is
//! written writes it later; a crash after the file but before the mark writes the same name
//! with the same bytes again, never a second, different message.

use std::path::Path;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::files;
use crate::customs::{self, BaseTransfer};
use crate::db::returns::ReturnRow;
use crate::db::schema::ceb_outbox;
use crate::db::writer::{Tx, Writer};
use crate::db::{DbConn, Pool};
use crate::error::AppError;

/// Messages written per round, at most.
const ROUND: i64 = 100;

/// The file name of a message: its type and its guid.
pub fn file_name(message_guid: &str) -> String {
    format!("CEB625_{message_guid}.xml")
}

/// Is `name` a file this outbox writes (and so, while it is there, not yet collected)?
pub fn is_ours(name: &str) -> bool {
    name.starts_with("CEB625_") && name.ends_with(".xml") && !files::is_temporary(name)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ceb_outbox)]
pub struct OutboxRow {
    pub message_guid: String,
    pub return_id: String,
    pub file_name: String,
    pub xml: String,
    pub created_at: NaiveDateTime,
    pub written_at: Option<NaiveDateTime>,
}

/// Files the application `r` for the outbox, in the transaction that made it: its CEB625
/// message (one application, a fresh message guid) is made now and kept, so that what is
/// written is exactly what was filed, however often it must be written.
pub fn enqueue(tx: &mut Tx<'_>, r: &ReturnRow, base: &BaseTransfer) -> Result<(), AppError> {
    let guid = customs::new_guid();
    let xml = crate::flows::returns::customs::ceb625_message(tx.conn, r, base, &guid)?;
    diesel::insert_into(ceb_outbox::table)
        .values((
            ceb_outbox::message_guid.eq(&guid),
            ceb_outbox::return_id.eq(&r.id),
            ceb_outbox::file_name.eq(file_name(&guid)),
            ceb_outbox::xml.eq(&xml),
            ceb_outbox::created_at.eq(tx.now),
            ceb_outbox::written_at.eq(None::<NaiveDateTime>),
        ))
        .execute(tx.conn)?;
    Ok(())
}

/// Messages filed and not yet written, oldest first (at most `limit`), and how many there are.
pub fn unwritten(conn: &mut DbConn, limit: i64) -> Result<(Vec<OutboxRow>, i64), AppError> {
    let rows = ceb_outbox::table
        .filter(ceb_outbox::written_at.is_null())
        .order((ceb_outbox::created_at.asc(), ceb_outbox::message_guid.asc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?;
    let total = ceb_outbox::table
        .filter(ceb_outbox::written_at.is_null())
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

/// The messages of these file names (those still in the folder), for the status.
pub fn by_file_names(conn: &mut DbConn, names: &[String]) -> Result<Vec<OutboxRow>, AppError> {
    let mut rows = Vec::new();
    // In slices, so that a folder holding thousands of files stays within a query's limits.
    for chunk in names.chunks(500) {
        rows.extend(
            ceb_outbox::table
                .filter(ceb_outbox::file_name.eq_any(chunk))
                .select(OutboxRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// One round: writes the messages not yet written into `dir` and marks them written.
/// Answers how many were written; an error says why the rest waits.
pub fn round(pool: &Pool, writer: &Writer, dir: &Path) -> Result<usize, String> {
    let rows = {
        let mut conn = pool.get().map_err(|e| format!("database: {e}"))?;
        unwritten(&mut conn, ROUND)
            .map_err(|e| format!("database: {e}"))?
            .0
    };
    if rows.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut trouble = None;
    for row in rows {
        match files::write_atomically(dir, &row.file_name, row.xml.as_bytes()) {
            Ok(()) => written.push(row.message_guid),
            Err(e) => {
                trouble = Some(format!("{}: {e}", dir.join(&row.file_name).display()));
                break;
            }
        }
    }
    let n = written.len();
    if n > 0 {
        writer
            .write_blocking(move |tx| {
                diesel::update(
                    ceb_outbox::table
                        .filter(ceb_outbox::message_guid.eq_any(&written))
                        .filter(ceb_outbox::written_at.is_null()),
                )
                .set(ceb_outbox::written_at.eq(Some(tx.now)))
                .execute(tx.conn)?;
                Ok(())
            })
            .map_err(|e| format!("database: {e}"))?;
    }
    match trouble {
        Some(why) => Err(why),
        None => Ok(n),
    }
}

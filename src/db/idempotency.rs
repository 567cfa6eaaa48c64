//! Stored answers to requests that carried an `Idempotency-Key`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredAnswer {
    pub key: String,
    pub username: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, key: &str) -> Result<Option<StoredAnswer>, AppError> {
    Ok(idempotency_keys::table
        .find(key)
        .select(StoredAnswer::as_select())
        .first(conn)
        .optional()?)
}

pub fn store(conn: &mut DbConn, answer: &StoredAnswer) -> Result<(), AppError> {
    diesel::insert_into(idempotency_keys::table)
        .values(answer)
        .execute(conn)?;
    Ok(())
}

/// Forgets answers older than `before` (kept at least 24 hours).
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, AppError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)?,
    )
}

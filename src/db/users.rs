//! Users, their sessions and bearer tokens, and the sign-in throttle.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{login_throttle, sessions, users};
use super::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub warehouse_code: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub username: String,
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle, treat_none_as_null = true)]
pub struct ThrottleRow {
    pub username: String,
    pub failures: i32,
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

pub fn user(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .find(username)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<UserRow>, AppError> {
    Ok(users::table
        .order(users::username)
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(users::table.count().get_result(conn)?)
}

pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<(), AppError> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// What an admin changes of a user: `None` leaves the password hash as it is.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub struct UserUpdate<'a> {
    pub active: bool,
    pub password_hash: Option<&'a str>,
}

/// Sets whether a user may sign in, and (when given) a new password hash.
pub fn update(conn: &mut DbConn, username: &str, u: &UserUpdate<'_>) -> Result<(), AppError> {
    diesel::update(users::table.find(username))
        .set(u)
        .execute(conn)?;
    Ok(())
}

/// Ends every session and bearer token of a user; returns how many there were.
pub fn delete_sessions_of(conn: &mut DbConn, username: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(sessions::table.filter(sessions::username.eq(username))).execute(conn)?)
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> Result<(), AppError> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The live session or token with this hash, with its user.
pub fn session_user(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(SessionRow, UserRow)>, AppError> {
    // Asked on every authenticated request: on the inner connection (see `on_inner!`).
    Ok(on_inner!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(users::active.eq(true))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .get_result(c)
        .optional())?)
}

pub fn delete_session(conn: &mut DbConn, token_hash: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(sessions::table.find(token_hash)).execute(conn)?)
}

pub fn delete_expired_sessions(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}

pub fn throttle(conn: &mut DbConn, username: &str) -> Result<Option<ThrottleRow>, AppError> {
    Ok(login_throttle::table
        .find(username)
        .select(ThrottleRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn save_throttle(conn: &mut DbConn, row: &ThrottleRow) -> Result<(), AppError> {
    let updated = diesel::update(login_throttle::table.find(&row.username))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(login_throttle::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes throttle rows whose window started before `window_start_before` and whose lock
/// (if any) has passed at `now`.
pub fn purge_throttles(
    conn: &mut DbConn,
    window_start_before: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::delete(
        login_throttle::table
            .filter(login_throttle::window_start.lt(window_start_before))
            .filter(
                login_throttle::locked_until
                    .is_null()
                    .or(login_throttle::locked_until.le(now)),
            ),
    )
    .execute(conn)?)
}

pub fn clear_throttle(conn: &mut DbConn, username: &str) -> Result<(), AppError> {
    diesel::delete(login_throttle::table.find(username)).execute(conn)?;
    Ok(())
}

//! Users, their sessions and bearer tokens, and the sign-in throttle.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{sessions, sign_in_throttle, users};
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
    /// `cookie` (a browser's session) or `token` (a bearer token).
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// A token's public id, by which it is listed and revoked (none for a cookie session).
    pub token_id: Option<String>,
    /// A token's name, given by its maker.
    pub name: Option<String>,
    /// `full` or `customs` (see `domain::roles::Scope`).
    pub scope: String,
}

/// Failed sign-ins of one user name from one client address.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sign_in_throttle)]
pub struct ThrottleRow {
    pub username: String,
    pub client: String,
    pub failures: i32,
    pub last_failure_at: NaiveDateTime,
    /// No sign-in of this name from this address is tried before then.
    pub delayed_until: NaiveDateTime,
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

/// The sessions among `token_hashes` still open at `now`, each with its active user, in one
/// statement (a write batch confirms its floor steps' callers together: `db::batch`).
pub fn session_users(
    conn: &mut DbConn,
    token_hashes: &[&str],
    now: NaiveDateTime,
) -> Result<Vec<(SessionRow, UserRow)>, AppError> {
    Ok(on_inner!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(super::AnyOf::new(sessions::token_hash, token_hashes))
        .filter(sessions::expires_at.gt(now))
        .filter(users::active.eq(true))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .load(c))?)
}

pub fn delete_session(conn: &mut DbConn, token_hash: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(sessions::table.find(token_hash)).execute(conn)?)
}

pub fn delete_expired_sessions(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}

/// The live bearer tokens of `username` (of everybody with `None`), newest first.
pub fn tokens(
    conn: &mut DbConn,
    username: Option<&str>,
    now: NaiveDateTime,
) -> Result<Vec<SessionRow>, AppError> {
    let mut q = sessions::table
        .filter(sessions::kind.eq("token"))
        .filter(sessions::expires_at.gt(now))
        .into_boxed();
    if let Some(u) = username {
        q = q.filter(sessions::username.eq(u.to_string()));
    }
    Ok(
        q.order((sessions::created_at.desc(), sessions::token_id.desc()))
            .select(SessionRow::as_select())
            .load(conn)?,
    )
}

/// The live bearer token with this public id.
pub fn token(
    conn: &mut DbConn,
    token_id: &str,
    now: NaiveDateTime,
) -> Result<Option<SessionRow>, AppError> {
    Ok(sessions::table
        .filter(sessions::kind.eq("token"))
        .filter(sessions::token_id.eq(token_id))
        .filter(sessions::expires_at.gt(now))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn throttle(
    conn: &mut DbConn,
    username: &str,
    client: &str,
) -> Result<Option<ThrottleRow>, AppError> {
    Ok(sign_in_throttle::table
        .find((username, client))
        .select(ThrottleRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every throttle row, most recent failure first.
pub fn throttles(conn: &mut DbConn) -> Result<Vec<ThrottleRow>, AppError> {
    Ok(sign_in_throttle::table
        .order((
            sign_in_throttle::last_failure_at.desc(),
            sign_in_throttle::username,
            sign_in_throttle::client,
        ))
        .select(ThrottleRow::as_select())
        .load(conn)?)
}

pub fn save_throttle(conn: &mut DbConn, row: &ThrottleRow) -> Result<(), AppError> {
    let updated = diesel::update(sign_in_throttle::table.find((&row.username, &row.client)))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(sign_in_throttle::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes throttle rows whose last failure was before `failed_before` and whose delay has
/// passed at `now`.
pub fn purge_throttles(
    conn: &mut DbConn,
    failed_before: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::delete(
        sign_in_throttle::table
            .filter(sign_in_throttle::last_failure_at.lt(failed_before))
            .filter(sign_in_throttle::delayed_until.le(now)),
    )
    .execute(conn)?)
}

/// Clears the throttle of `username` from `client` (from every address with `None`); answers
/// the rows cleared.
pub fn clear_throttle(
    conn: &mut DbConn,
    username: &str,
    client: Option<&str>,
) -> Result<Vec<ThrottleRow>, AppError> {
    let mut sel = sign_in_throttle::table
        .filter(sign_in_throttle::username.eq(username))
        .into_boxed();
    if let Some(c) = client {
        sel = sel.filter(sign_in_throttle::client.eq(c.to_string()));
    }
    let rows: Vec<ThrottleRow> = sel.select(ThrottleRow::as_select()).load(conn)?;
    let mut gone = diesel::delete(sign_in_throttle::table)
        .filter(sign_in_throttle::username.eq(username))
        .into_boxed();
    if let Some(c) = client {
        gone = gone.filter(sign_in_throttle::client.eq(c.to_string()));
    }
    gone.execute(conn)?;
    Ok(rows)
}

//! Users, passwords, sessions, tokens and the sign-in throttle.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Condvar, Mutex};

use crate::audit::{Actor, Changes, NewEntry};
use crate::db::users::{self as store, SessionRow, ThrottleRow, UserRow};
use crate::db::writer::Tx;
use crate::db::{parties, DbConn};
use crate::domain::ids;
use crate::domain::roles::{Role, Scope};
use crate::error::AppError;

/// Failed sign-ins of one name from one address that cost no wait; from then on each failure
/// doubles the wait before the next try (1 s, 2 s, 4 s, …), up to [`MAX_DELAY_SECONDS`]. A
/// name is never locked: the right password from another address is not held up at all.
pub const FREE_FAILURES: i32 = 3;
pub const MAX_DELAY_SECONDS: i64 = 300;
/// Failures further apart than this start counting again.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub username: String,
    /// floor, supervisor or admin
    #[schema(pattern = "^(floor|supervisor|admin)$")]
    pub role: String,
    /// Required for floor staff, who act only there.
    pub warehouse: Option<String>,
    /// At least 10 characters, at most 512 bytes.
    #[schema(min_length = 10, max_length = 512)]
    pub password: String,
}

/// A user input checked and with its password hashed (slow: done off the writer thread).
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub warehouse: Option<String>,
    pub password_hash: String,
}

pub fn check_password_strength(p: &str) -> Result<(), AppError> {
    if p.chars().count() < 10 {
        return Err(AppError::validation("password", "at least 10 characters"));
    }
    if p.len() > 512 {
        return Err(AppError::validation("password", "at most 512 bytes"));
    }
    Ok(())
}

/// Password hashes computed at the same time, at most, in the whole process. Each takes
/// Argon2's 19 MiB and a core for tens of milliseconds: a burst of sign-ins (or of guesses at
/// unknown user names, each checked against a dummy hash) waits here in turn instead of
/// taking memory without bound.
pub const HASHING_AT_ONCE: usize = 2;

static HASHING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Runs `f` once one of the [`HASHING_AT_ONCE`] slots is free.
fn in_hashing_slot<T>(f: impl FnOnce() -> T) -> T {
    struct Slot;
    impl Drop for Slot {
        fn drop(&mut self) {
            let mut busy = HASHING.0.lock().unwrap_or_else(|p| p.into_inner());
            *busy -= 1;
            HASHING.1.notify_one();
        }
    }
    let mut busy = HASHING.0.lock().unwrap_or_else(|p| p.into_inner());
    while *busy >= HASHING_AT_ONCE {
        busy = HASHING.1.wait(busy).unwrap_or_else(|p| p.into_inner());
    }
    *busy += 1;
    drop(busy);
    let _slot = Slot;
    f()
}

pub fn hash_password(p: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    in_hashing_slot(|| {
        Argon2::default()
            .hash_password(p.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

/// Verifies a password against a stored hash; a malformed hash never matches.
pub fn verify_password(p: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| in_hashing_slot(|| Argon2::default().verify_password(p.as_bytes(), &h).is_ok()))
        .unwrap_or(false)
}

/// A fixed hash to verify against when the user does not exist, so timing tells nothing.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

pub fn prepare(input: &UserInput) -> Result<NewUser, AppError> {
    let username = input.username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(AppError::validation(
            "username",
            "1–64 letters, digits, '.', '_' or '-'",
        ));
    }
    let role = Role::parse(input.role.trim())
        .ok_or_else(|| AppError::validation("role", "use floor, supervisor or admin"))?;
    let warehouse = match (
        &role,
        input
            .warehouse
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty()),
    ) {
        (Role::Floor, None) => {
            return Err(AppError::validation(
                "warehouse",
                "floor staff need a warehouse",
            ))
        }
        (Role::Floor, Some(w)) => Some(ids::place_code("warehouse", w, 20)?),
        (_, Some(_)) => {
            return Err(AppError::validation(
                "warehouse",
                "only floor staff are bound to a warehouse",
            ))
        }
        (_, None) => None,
    };
    check_password_strength(&input.password)?;
    Ok(NewUser {
        username: username.to_string(),
        role,
        warehouse,
        password_hash: hash_password(&input.password)?,
    })
}

pub fn create_user(tx: &mut Tx<'_>, actor: &Actor, u: NewUser) -> Result<UserRow, AppError> {
    if let Some(w) = &u.warehouse {
        if parties::warehouse(tx.conn, w)?.is_none() {
            return Err(AppError::validation(
                "warehouse",
                format!("warehouse {w} does not exist"),
            ));
        }
    }
    if store::user(tx.conn, &u.username)?.is_some() {
        return Err(AppError::AlreadyExists {
            kind: "user",
            id: u.username.clone(),
        });
    }
    let row = UserRow {
        username: u.username.clone(),
        password_hash: u.password_hash,
        role: u.role.as_str().into(),
        warehouse_code: u.warehouse.clone(),
        active: true,
        created_at: tx.now,
    };
    store::insert(tx.conn, &row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "user.create",
            entity_kind: "user",
            entity_id: &row.username,
            warehouse: row.warehouse_code.as_deref(),
            enterprise: None,
            changes: Changes::new()
                .created("role", &row.role)
                .created("warehouse", &row.warehouse_code),
            reason: None,
        },
    )?;
    Ok(row)
}

/// What an admin changes about a user: whether it may sign in, and its password.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// false: the user can no longer sign in, and every session and token of it ends.
    pub active: Option<bool>,
    /// A new password (at least 10 characters); every session and token of the user ends.
    #[schema(min_length = 10, max_length = 512)]
    pub password: Option<String>,
}

/// A user change checked, its password hashed (slow: done off the writer thread).
pub struct PreparedChange {
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

pub fn prepare_change(c: &UserChange) -> Result<PreparedChange, AppError> {
    if c.active.is_none() && c.password.is_none() {
        return Err(AppError::validation(
            "body",
            "give active, password or both",
        ));
    }
    let password_hash = match &c.password {
        Some(p) => {
            check_password_strength(p)?;
            Some(hash_password(p)?)
        }
        None => None,
    };
    Ok(PreparedChange {
        active: c.active,
        password_hash,
    })
}

/// Deactivates or reactivates a user, or sets its password. Either ends every session and
/// token the user has (a password that may be known to someone else, a person who left). An
/// admin cannot deactivate itself (so an active admin always remains).
pub fn change_user(
    tx: &mut Tx<'_>,
    actor: &Actor,
    username: &str,
    c: PreparedChange,
) -> Result<UserRow, AppError> {
    let mut row = store::user(tx.conn, username)?
        .ok_or_else(|| AppError::NotFound(format!("user {username} does not exist")))?;
    let active = c.active.unwrap_or(row.active);
    if active == row.active && c.password_hash.is_none() {
        // Asked to be what it already is: nothing to write, nothing to record.
        return Ok(row);
    }
    if !active && username == actor.username {
        return Err(AppError::Conflict(
            "you cannot deactivate your own account; ask another admin".into(),
        ));
    }
    let password_hash = c.password_hash.as_deref();
    store::update(
        tx.conn,
        username,
        &store::UserUpdate {
            active,
            password_hash,
        },
    )?;
    let ended = if !active || password_hash.is_some() {
        store::delete_sessions_of(tx.conn, username)?
    } else {
        0
    };
    let mut changes = Changes::new().set("active", row.active, active);
    if password_hash.is_some() {
        // That it changed, never the hash.
        changes = changes.set("password", Option::<&str>::None, "reset");
    }
    if ended > 0 {
        changes = changes.set("sessions", ended, 0);
    }
    row.active = active;
    tx.audit(
        actor,
        NewEntry {
            action: "user.update",
            entity_kind: "user",
            entity_id: username,
            warehouse: row.warehouse_code.as_deref(),
            enterprise: None,
            changes,
            reason: None,
        },
    )?;
    Ok(row)
}

pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The wait after `failures` failed sign-ins in a row.
pub fn delay_after(failures: i32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::zero();
    }
    let doublings = (failures - FREE_FAILURES).min(20) as u32;
    Duration::seconds((1_i64 << doublings).min(MAX_DELAY_SECONDS))
}

/// How long a sign-in of `username` from `client` must still wait at `now`: the refusal to
/// answer, or nothing when it may be tried.
pub fn throttled(
    conn: &mut DbConn,
    username: &str,
    client: &str,
    now: NaiveDateTime,
) -> Result<Option<AppError>, AppError> {
    Ok(store::throttle(conn, username, client)?
        .filter(|t| t.delayed_until > now)
        .map(|t| slowed_down((t.delayed_until - now).num_seconds() + 1)))
}

/// The refusal of a sign-in tried before its wait is over.
pub fn slowed_down(seconds: i64) -> AppError {
    AppError::RateLimited(format!(
        "too many failed sign-ins of this name from this address; try again in {seconds} s"
    ))
}

/// Counts a failed sign-in of `username` from `client`, and sets the wait before the next.
pub fn record_failure(tx: &mut Tx<'_>, username: &str, client: &str) -> Result<(), AppError> {
    let now = tx.now;
    let window = Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let failures = match store::throttle(tx.conn, username, client)? {
        Some(t) if t.last_failure_at + window > now => t.failures + 1,
        _ => 1,
    };
    store::save_throttle(
        tx.conn,
        &ThrottleRow {
            username: username.into(),
            client: client.into(),
            failures,
            last_failure_at: now,
            delayed_until: now + delay_after(failures),
        },
    )
}

/// An admin clears the throttle of `username` (from one address, or from all): its next
/// sign-in is tried at once. Recorded in the audit log.
pub fn clear_throttle(
    tx: &mut Tx<'_>,
    actor: &Actor,
    username: &str,
    client: Option<&str>,
) -> Result<usize, AppError> {
    let cleared = store::clear_throttle(tx.conn, username, client)?;
    if cleared.is_empty() {
        return Err(AppError::NotFound(format!(
            "no sign-in of {username} is being slowed down{}",
            client.map(|c| format!(" from {c}")).unwrap_or_default()
        )));
    }
    let clients: Vec<&str> = cleared.iter().map(|t| t.client.as_str()).collect();
    let failures: i32 = cleared.iter().map(|t| t.failures).sum();
    tx.audit(
        actor,
        NewEntry {
            action: "throttle.clear",
            entity_kind: "user",
            entity_id: username,
            warehouse: None,
            enterprise: None,
            changes: Changes::new().set("failures", failures, 0).set(
                "clients",
                &clients,
                Vec::<&str>::new(),
            ),
            reason: None,
        },
    )?;
    Ok(cleared.len())
}

/// Opens a browser session for a user who has just given the right password from `client`
/// (whose throttle is cleared); answers its token, for the cookie.
pub fn open_session(
    tx: &mut Tx<'_>,
    user: &UserRow,
    client: &str,
    ttl: Duration,
) -> Result<String, AppError> {
    store::clear_throttle(tx.conn, &user.username, Some(client))?;
    store::delete_expired_sessions(tx.conn, tx.now)?;
    let token = new_token();
    store::insert_session(
        tx.conn,
        &SessionRow {
            token_hash: token_hash(&token),
            username: user.username.clone(),
            kind: "cookie".into(),
            created_at: tx.now,
            expires_at: tx.now + ttl,
            token_id: None,
            name: None,
            scope: Scope::Full.as_str().into(),
        },
    )?;
    Ok(token)
}

/// A bearer token asked for: by a signed-in browser session, with the user's password again.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for, to recognise it in the list (1–64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The user's password, asked again: whoever holds the session alone cannot make tokens.
    #[schema(max_length = 512)]
    pub password: String,
    /// `full` (default): what the user's role may do; `customs`: read the audit log, its
    /// verification and the exports only (supervisors and admins).
    pub scope: Option<Scope>,
    /// Days until it expires (1 up to the configured maximum, which is also the default).
    #[schema(minimum = 1)]
    pub days: Option<i64>,
}

/// A bearer token as listed: never the token itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// Its public id, to revoke it by.
    pub id: String,
    pub username: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A new bearer token: shown once, here (only its hash is kept).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub view: TokenView,
    pub token: String,
}

impl TryFrom<SessionRow> for TokenView {
    type Error = AppError;

    fn try_from(s: SessionRow) -> Result<Self, AppError> {
        Ok(TokenView {
            id: s.token_id.unwrap_or_default(),
            username: s.username,
            name: s.name.unwrap_or_default(),
            scope: Scope::parse(&s.scope)
                .ok_or_else(|| AppError::Internal(format!("bad scope {}", s.scope)))?,
            created_at: s.created_at.and_utc(),
            expires_at: s.expires_at.and_utc(),
        })
    }
}

/// Checks a token request's name, scope and lifetime (at most `max_days`) for `user`: the
/// scope and the days it will have.
pub fn check_token_input(
    input: &TokenInput,
    user: &UserRow,
    max_days: i64,
) -> Result<(Scope, i64), AppError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::validation(
            "name",
            "give the token a name of 1–64 characters",
        ));
    }
    let scope = input.scope.unwrap_or(Scope::Full);
    if scope == Scope::Customs && user.role == Role::Floor.as_str() {
        return Err(AppError::validation(
            "scope",
            "the customs scope reads the audit log, which floor staff may not",
        ));
    }
    let days = input.days.unwrap_or(max_days);
    if !(1..=max_days).contains(&days) {
        return Err(AppError::validation(
            "days",
            format!("between 1 and {max_days} days"),
        ));
    }
    Ok((scope, days))
}

/// Makes a bearer token for `user` (checked by [`check_token_input`]); recorded in the audit
/// log with its id, name, scope and expiry, never the token.
pub fn create_token(
    tx: &mut Tx<'_>,
    actor: &Actor,
    user: &UserRow,
    name: &str,
    scope: Scope,
    days: i64,
) -> Result<NewToken, AppError> {
    store::delete_expired_sessions(tx.conn, tx.now)?;
    let token = new_token();
    let hash = token_hash(&token);
    let row = SessionRow {
        token_id: Some(format!("tk_{}", &new_token()[..16])),
        token_hash: hash,
        username: user.username.clone(),
        kind: "token".into(),
        created_at: tx.now,
        expires_at: tx.now + Duration::days(days),
        name: Some(name.trim().to_string()),
        scope: scope.as_str().into(),
    };
    store::insert_session(tx.conn, &row)?;
    let view = TokenView::try_from(row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "token.create",
            entity_kind: "token",
            entity_id: &view.id,
            warehouse: user.warehouse_code.as_deref(),
            enterprise: None,
            changes: Changes::new()
                .created("user", &view.username)
                .created("name", &view.name)
                .created("scope", view.scope.as_str())
                .created("expires_at", view.expires_at),
            reason: None,
        },
    )?;
    Ok(NewToken { view, token })
}

/// Revokes the bearer token `id`: its owner's own, or anyone's for an admin (404 otherwise,
/// as for a token that does not exist). Recorded in the audit log.
pub fn revoke_token(tx: &mut Tx<'_>, actor: &Actor, id: &str) -> Result<(), AppError> {
    let not_found = || AppError::NotFound(format!("there is no token {id}"));
    let row = store::token(tx.conn, id, tx.now)?.ok_or_else(not_found)?;
    if row.username != actor.username && actor.role != Role::Admin.as_str() {
        return Err(not_found());
    }
    store::delete_session(tx.conn, &row.token_hash)?;
    let view = TokenView::try_from(row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "token.revoke",
            entity_kind: "token",
            entity_id: &view.id,
            warehouse: None,
            enterprise: None,
            changes: Changes::new().set(
                "token",
                serde_json::json!({
                    "user": view.username,
                    "name": view.name,
                    "scope": view.scope,
                    "expires_at": view.expires_at,
                }),
                "revoked",
            ),
            reason: None,
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod hashing_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn no_more_than_the_allowed_password_hashes_run_at_once_and_all_finish() {
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (now, most) = (now.clone(), most.clone());
                std::thread::spawn(move || {
                    in_hashing_slot(|| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=HASHING_AT_ONCE).contains(&most), "{most} at once");
        // A slot is given back even when the work panics.
        let _ = std::panic::catch_unwind(|| in_hashing_slot(|| panic!("boom")));
        assert!(verify_password("not-a-real-password", dummy_hash()));
    }
}

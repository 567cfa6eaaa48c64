//! Users, passwords, sessions, tokens and the sign-in throttle.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Condvar, Mutex};

use crate::audit::{Actor, Changes, NewEntry};
use crate::db::users::{self as store, SessionRow, ThrottleRow, UserRow};
use crate::db::writer::Tx;
use crate::db::{parties, DbConn};
use crate::domain::ids;
use crate::domain::roles::Role;
use crate::error::AppError;

/// Failed sign-ins allowed within the window before the name is locked for a while.
pub const MAX_FAILURES: i32 = 5;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    /// floor, supervisor or admin
    pub role: String,
    /// Required for floor staff, who act only there.
    pub warehouse: Option<String>,
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
        return Err(AppError::Conflict(format!(
            "user {} already exists",
            u.username
        )));
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

/// Is the name locked out at `now`?
pub fn locked(conn: &mut DbConn, username: &str, now: NaiveDateTime) -> Result<bool, AppError> {
    Ok(store::throttle(conn, username)?
        .and_then(|t| t.locked_until)
        .is_some_and(|until| until > now))
}

/// The refusal of a sign-in while the name is locked.
pub fn locked_out() -> AppError {
    AppError::RateLimited(format!(
        "too many failed sign-ins; wait {THROTTLE_WINDOW_MINUTES} minutes"
    ))
}

/// Counts a sign-in attempt as failed before its password is checked (a success clears the
/// count when it opens the session), so that guesses sent in parallel cannot outrun the lock;
/// refused with `rate_limited` while the name is locked.
pub fn begin_attempt(tx: &mut Tx<'_>, username: &str) -> Result<(), AppError> {
    if locked(tx.conn, username, tx.now)? {
        return Err(locked_out());
    }
    record_failure(tx, username)
}

/// Counts a failed sign-in; the fifth within the window locks the name for the window.
pub fn record_failure(tx: &mut Tx<'_>, username: &str) -> Result<(), AppError> {
    let now = tx.now;
    let window = Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let mut row = match store::throttle(tx.conn, username)? {
        Some(t) if t.window_start + window > now => t,
        _ => ThrottleRow {
            username: username.into(),
            failures: 0,
            window_start: now,
            locked_until: None,
        },
    };
    row.failures += 1;
    if row.failures >= MAX_FAILURES {
        row.locked_until = Some(now + window);
    }
    store::save_throttle(tx.conn, &row)
}

/// Opens a session (cookie) or token for a signed-in user.
pub fn open_session(
    tx: &mut Tx<'_>,
    user: &UserRow,
    kind: &str,
    ttl: Duration,
) -> Result<String, AppError> {
    store::clear_throttle(tx.conn, &user.username)?;
    store::delete_expired_sessions(tx.conn, tx.now)?;
    let token = new_token();
    store::insert_session(
        tx.conn,
        &SessionRow {
            token_hash: token_hash(&token),
            username: user.username.clone(),
            kind: kind.into(),
            created_at: tx.now,
            expires_at: tx.now + ttl,
        },
    )?;
    Ok(token)
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

//! `Idempotency-Key`: the same key with the same body replays the first answer; with a
//! different body it is refused. Answers are stored in the same transaction as the action.

use sha2::{Digest, Sha256};

use crate::db::idempotency::{self as store, StoredAnswer};
use crate::db::writer::Tx;
use crate::db::DbConn;
use crate::error::AppError;

/// Hours an answer is kept (at least a day, so a device that was offline overnight retries safely).
pub const KEEP_HOURS: i64 = 48;

pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// A replayed or fresh answer: status and JSON body.
pub type Answer = (u16, String);

/// The key an answer is stored under: keys are the user's own.
pub fn scoped_key(username: &str, key: &str) -> String {
    format!("{username}\u{1f}{key}")
}

/// Runs `action` and stores its answer under the user's key, in the same transaction.
///
/// A request in a savepoint of its own does not look the key up first: a key that was used
/// before makes the storing fail (or the action itself, since what it asked is done already),
/// and the savepoint then undoes the action. A floor step has no savepoint: its batch read
/// which of its steps' keys were used before (`db::batch`), so a used key refuses it before it
/// runs, and its answer is stored with the batch's others, in one statement before the commit.
/// Either way the caller asks [`replay`] after any failure of a keyed request, once the
/// transaction is over, so that a retry gets the first answer.
pub fn once(
    tx: &mut Tx<'_>,
    username: &str,
    key: Option<&str>,
    hash: &str,
    action: impl FnOnce(&mut Tx<'_>) -> Result<Answer, AppError>,
) -> Result<Answer, AppError> {
    let Some(key) = key else { return action(tx) };
    let key = scoped_key(username, key);
    let guarded = tx.guarded();
    if !guarded && tx.batch.key_used(&key) {
        return Err(AppError::Conflict(
            "this Idempotency-Key was used before".into(),
        ));
    }
    let answer = action(tx)?;
    let stored = StoredAnswer {
        key,
        username: username.into(),
        request_hash: hash.into(),
        status: i32::from(answer.0),
        body: answer.1.clone(),
        created_at: tx.now,
    };
    if guarded {
        store::store(tx.conn, &stored)?;
    } else {
        tx.batch.store_answer(stored);
    }
    Ok(answer)
}

/// After a keyed request failed: the first answer stored under the key, when the same request
/// was answered before; the refusal `idempotency_mismatch` when the key was used for another
/// request; `None` when the key is new (the failure stands).
pub fn replay(
    conn: &mut DbConn,
    username: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Answer>, AppError> {
    match store::find(conn, &scoped_key(username, key))? {
        Some(stored) if stored.request_hash == hash => {
            Ok(Some((stored.status as u16, stored.body)))
        }
        Some(_) => Err(AppError::IdempotencyMismatch),
        None => Ok(None),
    }
}

//! `Idempotency-Key`: the same key with the same body replays the first answer; with a
//! different body it is refused. Answers are stored in the same transaction as the action.

use sha2::{Digest, Sha256};

use crate::db::idempotency::{self as store, StoredAnswer};
use crate::db::writer::Tx;
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

/// Runs `action` once per (user, key); replays its stored answer afterwards.
pub fn once(
    tx: &mut Tx<'_>,
    username: &str,
    key: Option<&str>,
    hash: &str,
    action: impl FnOnce(&mut Tx<'_>) -> Result<Answer, AppError>,
) -> Result<Answer, AppError> {
    let Some(key) = key else { return action(tx) };
    let scoped = format!("{username}\u{1f}{key}");
    if let Some(stored) = store::find(tx.conn, &scoped)? {
        if stored.request_hash != hash {
            return Err(AppError::IdempotencyMismatch);
        }
        return Ok((stored.status as u16, stored.body));
    }
    let answer = action(tx)?;
    store::store(
        tx.conn,
        &StoredAnswer {
            key: scoped,
            username: username.into(),
            request_hash: hash.into(),
            status: i32::from(answer.0),
            body: answer.1.clone(),
            created_at: tx.now,
        },
    )?;
    Ok(answer)
}

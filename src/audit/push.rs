//! The feed the server pushes to customs (`BR_CUSTOMS_FEED_URL`): batches of audit entries in
//! sequence order, each batch a JSON `{"items": [...], "head": {signed head of its last entry}}`
//! POSTed with the configured `Authorization` header. A batch counts as delivered on a 2xx;
//! anything else, a timeout or a refused connection is retried with a growing wait (1 s, 2 s,
//! 4 s … at most 60 s). Where delivery stands is kept in the database (`feed_delivery`), so it
//! resumes after a restart from the last delivered sequence: it never skips, it may repeat (the
//! receiver drops repeats by `seq`). With several nodes on PostgreSQL, the node holding an
//! advisory lock delivers; the others wait to take over.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::signing::Signer;
use super::{AuditEntry, ChainHead};
use crate::db::schema::{audit_entries, feed_delivery};
use crate::db::writer::Writer;
use crate::db::{DbConn, Pool};
use crate::error::AppError;
use crate::http::feed::FeedEntry;

/// Entries in one pushed batch, at most.
pub const BATCH: i64 = 200;
/// Longest wait between two tries.
const MAX_BACKOFF_SECONDS: i64 = 60;
/// The advisory lock key of the delivering node (PostgreSQL): "br-feed".
const LEADER_LOCK: i64 = 0x0062_722d_6665_6564;

/// Where to push, and how.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// The whole `Authorization` header value (e.g. `Bearer …`), when the receiver wants one.
    pub authorization: Option<String>,
    /// How long one POST may take before it counts as failed.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feed_delivery)]
struct DeliveryRow {
    delivered_seq: i64,
    delivered_at: Option<NaiveDateTime>,
    failures: i32,
    last_error: Option<String>,
    next_try_at: Option<NaiveDateTime>,
}

/// Where the push stands, for supervisors, `/healthz` and `bonded-returns feed status`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedStatus {
    /// Whether a push target is configured (`BR_CUSTOMS_FEED_URL`).
    pub configured: bool,
    /// The last sequence customs acknowledged.
    pub delivered_seq: i64,
    pub delivered_at: Option<chrono::DateTime<Utc>>,
    /// The newest sequence of the chain.
    pub head_seq: i64,
    /// Entries not yet delivered.
    pub lag_entries: i64,
    /// Age in seconds of the oldest entry not yet delivered (0 when none waits).
    pub lag_seconds: i64,
    /// Failed tries in a row.
    pub failures: i32,
    pub last_error: Option<String>,
    pub next_try_at: Option<chrono::DateTime<Utc>>,
}

/// Where the push stands now.
pub fn status(conn: &mut DbConn, configured: bool) -> Result<FeedStatus, AppError> {
    let row: DeliveryRow = feed_delivery::table
        .find(1)
        .select(DeliveryRow::as_select())
        .first(conn)?;
    let head = super::load_head(conn)?;
    let oldest: Option<NaiveDateTime> = audit_entries::table
        .filter(audit_entries::seq.gt(row.delivered_seq))
        .order(audit_entries::seq.asc())
        .select(audit_entries::at)
        .first(conn)
        .optional()?;
    let now = Utc::now().naive_utc();
    Ok(FeedStatus {
        configured,
        delivered_seq: row.delivered_seq,
        delivered_at: row.delivered_at.map(|t| t.and_utc()),
        head_seq: head.seq,
        lag_entries: (head.seq - row.delivered_seq).max(0),
        lag_seconds: oldest.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0),
        failures: row.failures,
        last_error: row.last_error,
        next_try_at: row.next_try_at.map(|t| t.and_utc()),
    })
}

#[derive(Serialize)]
struct Batch<'a> {
    items: &'a [FeedEntry],
    head: super::signing::SignedHead,
}

/// One round: pushes the next batch after what was delivered. `Ok(true)` when something was
/// delivered, `Ok(false)` when nothing waits; `Err` says why the batch was not delivered.
fn push_once(
    pool: &Pool,
    agent: &ureq::Agent,
    target: &Target,
    signer: &Signer,
) -> Result<Option<i64>, String> {
    let mut conn = pool.get().map_err(|e| format!("database: {e}"))?;
    let delivered: i64 = feed_delivery::table
        .find(1)
        .select(feed_delivery::delivered_seq)
        .first(&mut conn)
        .map_err(|e| format!("database: {e}"))?;
    let rows: Vec<AuditEntry> = audit_entries::table
        .filter(audit_entries::seq.gt(delivered))
        .order(audit_entries::seq.asc())
        .limit(BATCH)
        .select(AuditEntry::as_select())
        .load(&mut conn)
        .map_err(|e| format!("database: {e}"))?;
    drop(conn);
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let head = signer.sign(&ChainHead {
        seq: last.seq,
        hash: last.hash.clone(),
    });
    let last_seq = last.seq;
    let items: Vec<FeedEntry> = rows.into_iter().map(FeedEntry::from).collect();
    let body = serde_json::to_vec(&Batch {
        items: &items,
        head,
    })
    .map_err(|e| e.to_string())?;
    let mut req = agent
        .post(&target.url)
        .header("Content-Type", "application/json");
    if let Some(auth) = &target.authorization {
        req = req.header("Authorization", auth);
    }
    let resp = req.send(&body[..]).map_err(|e| format!("{e}"))?;
    let status = resp.status();
    if status.is_success() {
        Ok(Some(last_seq))
    } else {
        Err(format!("the receiver answered {status}"))
    }
}

/// Records a delivered batch (or a failure and when to try again).
fn record(writer: &Writer, outcome: &Result<Option<i64>, String>) -> Result<Duration, AppError> {
    match outcome {
        Ok(None) => Ok(Duration::from_millis(500)),
        Ok(Some(seq)) => {
            let seq = *seq;
            writer.write_blocking(move |tx| {
                diesel::update(feed_delivery::table.find(1))
                    .set((
                        feed_delivery::delivered_seq.eq(seq),
                        feed_delivery::delivered_at.eq(Some(tx.now)),
                        feed_delivery::failures.eq(0),
                        feed_delivery::last_error.eq(None::<String>),
                        feed_delivery::next_try_at.eq(None::<NaiveDateTime>),
                    ))
                    // Never backwards (a node that lost the lead meanwhile).
                    .filter(feed_delivery::delivered_seq.lt(seq))
                    .execute(tx.conn)?;
                Ok(())
            })?;
            Ok(Duration::ZERO)
        }
        Err(why) => {
            let why: String = why.chars().take(500).collect();
            let failures = writer.write_blocking(move |tx| {
                let failures: i32 = feed_delivery::table
                    .find(1)
                    .select(feed_delivery::failures)
                    .first(tx.conn)?;
                let failures = failures.saturating_add(1);
                let wait = backoff(failures);
                diesel::update(feed_delivery::table.find(1))
                    .set((
                        feed_delivery::failures.eq(failures),
                        feed_delivery::last_error.eq(Some(why)),
                        feed_delivery::next_try_at
                            .eq(Some(tx.now + chrono::Duration::seconds(wait))),
                    ))
                    .execute(tx.conn)?;
                Ok(failures)
            })?;
            Ok(Duration::from_secs(backoff(failures) as u64))
        }
    }
}

/// Seconds to wait after `failures` failed tries in a row.
pub fn backoff(failures: i32) -> i64 {
    let doublings = failures.clamp(1, 10) as u32 - 1;
    (1_i64 << doublings).min(MAX_BACKOFF_SECONDS)
}

/// Starts the pusher on a thread of its own (when a target is configured).
pub fn start(pool: Pool, writer: Writer, signer: Arc<Signer>, target: Target, postgres: bool) {
    let spawned = std::thread::Builder::new()
        .name("customs-feed".into())
        .spawn(move || run(pool, writer, signer, target, postgres));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the customs feed");
    }
}

fn run(pool: Pool, writer: Writer, signer: Arc<Signer>, target: Target, postgres: bool) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(target.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    // On PostgreSQL the node that holds the lock (on a connection of its own, for as long as
    // it lives) delivers; the others wait to take over.
    let mut leader: Option<diesel::r2d2::PooledConnection<crate::db::DbManager>> = None;
    loop {
        if postgres && leader.is_none() {
            leader = take_lead(&pool, LEADER_LOCK);
            if leader.is_none() {
                std::thread::sleep(Duration::from_secs(2));
                continue;
            }
        }
        let outcome = push_once(&pool, &agent, &target, &signer);
        if let Err(why) = &outcome {
            tracing::warn!(error = %why, "customs feed: batch not delivered; will try again");
        }
        match record(&writer, &outcome) {
            Ok(wait) => {
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "customs feed: could not record where it stands");
                // The lead may have gone with a broken connection: take it again.
                leader = None;
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
}

/// The advisory lock `key` (PostgreSQL) of a node that works alone, on a connection kept for
/// it (the lock lasts as long as the connection), or `None` when another node holds it.
pub(crate) fn take_lead(
    pool: &Pool,
    key: i64,
) -> Option<diesel::r2d2::PooledConnection<crate::db::DbManager>> {
    #[derive(QueryableByName)]
    struct Got {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let mut conn = pool.get().ok()?;
    let got: Got = diesel::sql_query(format!("SELECT pg_try_advisory_lock({key}) AS locked"))
        .get_result(&mut *conn)
        .ok()?;
    got.locked.then_some(conn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wait_doubles_up_to_a_minute() {
        let waits: Vec<i64> = (1..=9).map(super::backoff).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}

//! The event feed customs pulls (GACC 2021 No.70 Art.4, data networked with customs): audit
//! entries in sequence order with their hashes, so that a consumer verifies continuity as it
//! reads, and a long poll (`wait`) for what comes next. A consumer that restarts from the last
//! sequence it kept misses nothing.

use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::auth::Session;
use super::{read, AppState};
use crate::audit::signing::SignedHead;
use crate::audit::{self, AuditEntry};
use crate::db::schema::audit_entries;
use crate::domain::roles::Role;
use crate::error::AppError;

/// Most entries one answer carries.
pub const MAX_LIMIT: i64 = 1000;
/// Longest wait of a long poll, in seconds.
pub const MAX_WAIT: u64 = 30;
/// How often a long poll looks for new entries (other nodes write too).
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Entries after this sequence number (0, or none: from the first).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Entries per answer, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Seconds to hold the request open until an entry after `after` exists, 0–30 (default 0).
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

/// An entry exactly as the chain hashes it: `hash` is the SHA-256 (hex) of the JSON object
/// `{"seq","at","actor","role","action","entity_kind","entity_id","warehouse","enterprise",
/// "changes","reason","request_id","prev_hash"}` with these values, in this order, without
/// spaces; `prev_hash` is the hash of the entry before (64 zeros before the first).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedEntry {
    pub seq: i64,
    /// UTC, to the microsecond: `2026-12-07T04:40:59.123456Z`.
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub warehouse: Option<String>,
    pub enterprise: Option<String>,
    /// The changes as the text that is hashed (JSON).
    pub changes: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEntry> for FeedEntry {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: audit::canonical_time(&e.at),
            actor: e.actor,
            role: e.role,
            action: e.action,
            entity_kind: e.entity_kind,
            entity_id: e.entity_id,
            warehouse: e.warehouse,
            enterprise: e.enterprise,
            changes: e.changes,
            reason: e.reason,
            request_id: e.request_id,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    /// Entries after `after`, in sequence order.
    pub items: Vec<FeedEntry>,
    /// Where to go on from: the last sequence given (or `after` when nothing was).
    pub next_after: i64,
    /// The chain's head when this answer was read, signed with the installation's key.
    pub head: SignedHead,
}

/// Where the push to customs stands (supervisors and admins; tokens of the `customs` scope).
#[utoipa::path(get, path = "/api/v1/feed/status", responses((status = 200, body = crate::audit::push::FeedStatus), (status = 403, description = "only supervisors, admins and customs tokens read the feed (`forbidden`)")))]
pub async fn status(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let configured = state.config.customs_feed.is_some();
    let st = read(&state, move |c| crate::audit::push::status(c, configured)).await?;
    Ok(HttpResponse::Ok().json(st))
}

/// Entries after `after`, oldest first (supervisors and admins; tokens of the `customs` scope).
#[utoipa::path(get, path = "/api/v1/feed", params(FeedQuery), responses((status = 200, body = FeedPage), (status = 403, description = "only supervisors, admins and customs tokens read the feed (`forbidden`)")))]
pub async fn feed(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<FeedQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let q = q
        .map(|q| q.into_inner())
        .map_err(|e| AppError::validation("query", e.to_string()))?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(AppError::validation(
            "after",
            "a sequence number, 0 or more",
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            format!("between 1 and {MAX_LIMIT}"),
        ));
    }
    let wait = q.wait.unwrap_or(0);
    if wait > MAX_WAIT {
        return Err(AppError::validation(
            "wait",
            format!("at most {MAX_WAIT} seconds"),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        let last_try = Instant::now() >= deadline;
        let (rows, head) = read(&state, move |c| {
            let rows: Vec<AuditEntry> = audit_entries::table
                .filter(audit_entries::seq.gt(after))
                .order(audit_entries::seq.asc())
                .limit(limit)
                .select(AuditEntry::as_select())
                .load(c)?;
            // The head only for an answer, not on every poll of a long wait.
            let head = if rows.is_empty() && !last_try {
                None
            } else {
                Some(audit::load_head(c)?)
            };
            Ok((rows, head))
        })
        .await?;
        if let Some(head) = head {
            let next_after = rows.last().map(|e| e.seq).unwrap_or(after);
            return Ok(HttpResponse::Ok().json(FeedPage {
                items: rows.into_iter().map(FeedEntry::from).collect(),
                next_after,
                head: state.signer.sign(&head),
            }));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        actix_web::rt::time::sleep(left.min(POLL)).await;
    }
}

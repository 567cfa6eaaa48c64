//! The audit log for supervisors and administrators: entries, verification, head, CSV.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::auth::Session;
use super::{read, AppState};
use crate::audit::query::{self, Filter};
use crate::audit::{self, AuditEntry, ChainHead};
use crate::domain::roles::Role;
use crate::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list))
        .route("/audit/verify", web::get().to(verify))
        .route("/audit/head", web::get().to(head))
        .route("/audit/export.csv", web::get().to(export_csv));
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EntryOut {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub warehouse: Option<String>,
    pub enterprise: Option<String>,
    /// `{field: {"before": …, "after": …}}`
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEntry> for EntryOut {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at.and_utc(),
            changes: serde_json::from_str(&e.changes)
                .unwrap_or(serde_json::Value::String(e.changes.clone())),
            actor: e.actor,
            role: e.role,
            action: e.action,
            entity_kind: e.entity_kind,
            entity_id: e.entity_id,
            warehouse: e.warehouse,
            enterprise: e.enterprise,
            reason: e.reason,
            request_id: e.request_id,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Page {
    pub items: Vec<EntryOut>,
    pub next_cursor: Option<String>,
}

fn filter(q: Result<web::Query<Filter>, actix_web::Error>) -> Result<Filter, AppError> {
    q.map(|q| q.into_inner())
        .map_err(|e| AppError::validation("query", e.to_string()))
}

#[utoipa::path(get, path = "/api/v1/audit", params(Filter), responses((status = 200, body = Page), (status = 403, description = "only supervisors and admins read the audit log (`forbidden`)")))]
pub async fn list(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<Filter>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let f = filter(q)?;
    let limit = f.limit()?;
    let (rows, next_cursor) = read(&state, move |c| query::page(c, &f, limit)).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows.into_iter().map(EntryOut::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", responses((status = 200, description = "`{\"ok\":true,\"entries\":N,\"head\":\"<hex>\"}`, or `ok: false` and the first broken entry", body = Object), (status = 403, description = "only supervisors and admins verify the audit log (`forbidden`)")))]
pub async fn verify(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let v = read(&state, |c| audit::verify(c, None)).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeadOut {
    pub seq: i64,
    pub hash: String,
    /// Keep this and later run `bonded-returns audit verify --expect-head SEQ:HASH`.
    pub expect_head: String,
}

#[utoipa::path(get, path = "/api/v1/audit/head", responses((status = 200, body = HeadOut), (status = 403, description = "only supervisors and admins read the audit log (`forbidden`)")))]
pub async fn head(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let ChainHead { seq, hash } = read(&state, audit::load_head).await?;
    Ok(HttpResponse::Ok().json(HeadOut {
        expect_head: format!("{seq}:{hash}"),
        seq,
        hash,
    }))
}

/// Most rows one CSV export carries.
const CSV_MAX: i64 = 100_000;

#[utoipa::path(get, path = "/api/v1/audit/export.csv", params(Filter), responses((status = 200, description = "the entries as CSV (at most `limit`, default 100000; `X-Truncated` and `X-Next-Cursor` when more match)", content_type = "text/csv"), (status = 403, description = "only supervisors and admins export the audit log (`forbidden`)")))]
pub async fn export_csv(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<Filter>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let mut f = filter(q)?;
    // For the CSV, `limit` is how many entries one file may carry.
    let max = match f.limit {
        None => CSV_MAX,
        Some(n) if (1..=CSV_MAX).contains(&n) => n,
        Some(_) => {
            return Err(AppError::validation(
                "limit",
                format!("between 1 and {CSV_MAX} entries per file"),
            ))
        }
    };
    let (bytes, rest) = read(&state, move |c| {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "seq",
            "at",
            "actor",
            "role",
            "action",
            "entity_kind",
            "entity_id",
            "warehouse",
            "enterprise",
            "changes",
            "reason",
            "request_id",
            "prev_hash",
            "hash",
        ];
        w.write_record(header)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut total: i64 = 0;
        let rest = loop {
            let (rows, next) = query::page(c, &f, MAX_LIMIT_PAGE.min(max - total))?;
            for e in rows {
                total += 1;
                w.write_record([
                    e.seq.to_string(),
                    e.at.and_utc().to_rfc3339(),
                    e.actor,
                    e.role,
                    e.action,
                    e.entity_kind,
                    e.entity_id,
                    e.warehouse.unwrap_or_default(),
                    e.enterprise.unwrap_or_default(),
                    e.changes,
                    e.reason.unwrap_or_default(),
                    e.request_id.unwrap_or_default(),
                    e.prev_hash,
                    e.hash,
                ])
                .map_err(|e| AppError::Internal(e.to_string()))?;
            }
            match next {
                Some(n) if total < max => f.cursor = Some(n),
                // More entries match than one file carries: say so, and where to go on.
                Some(n) => break Some(n),
                None => break None,
            }
        };
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((bytes, rest))
    })
    .await?;
    let mut resp = HttpResponse::Ok();
    resp.content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"audit.csv\""));
    if let Some(cursor) = rest {
        // The file holds the first CSV_MAX entries; the next export starts at this cursor.
        resp.insert_header(("X-Truncated", "true"))
            .insert_header(("X-Next-Cursor", cursor));
    }
    Ok(resp.body(bytes))
}

const MAX_LIMIT_PAGE: i64 = query::MAX_LIMIT;

//! The audit log for supervisors and administrators: entries, verification, head, CSV.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::auth::Session;
use super::{read, AppState};
use crate::audit::export::{self, Lang};
use crate::audit::footage::{self, Footage, Templates};
use crate::audit::query::{self, Filter};
use crate::audit::signing::SignedHead;
use crate::audit::{self, AuditEntry, ChainHead};
use crate::domain::roles::Role;
use crate::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list))
        .route("/audit/verify", web::get().to(verify))
        .route("/audit/head", web::get().to(head))
        .route("/audit/key", web::get().to(key))
        .route("/audit/export.csv", web::get().to(export_csv))
        .route("/audit/export.xlsx", web::get().to(export_xlsx));
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
    /// The camera that filmed the step (floor steps).
    pub camera: Option<String>,
    /// The bin the step put the goods in (receive, sort, restock).
    pub bin: Option<String>,
    /// The area of the warehouse where the step happened.
    pub area: Option<String>,
    /// Units the step moved, counted or inspected.
    pub quantity: Option<i64>,
    /// The window of the camera's footage around the step (from 30 s before to 90 s after
    /// unless configured), and its link on the NVR when the camera has a playback template.
    pub footage: Option<Footage>,
}

/// The playback templates of the cameras of the warehouses of `entries`.
pub fn templates_for(
    conn: &mut crate::db::DbConn,
    entries: &[AuditEntry],
) -> Result<Templates, AppError> {
    footage::templates(conn, entries.iter().filter_map(|e| e.warehouse.clone()))
}

impl EntryOut {
    /// The entry as read out, with its camera, bin, area, quantity and footage as fields of
    /// their own.
    pub fn build(e: AuditEntry, templates: &Templates) -> Self {
        let changes: serde_json::Value = serde_json::from_str(&e.changes)
            .unwrap_or(serde_json::Value::String(e.changes.clone()));
        let after = |field: &str| changes.get(field).and_then(|c| c.get("after"));
        let text = |field: &str| after(field).and_then(|v| v.as_str()).map(String::from);
        let camera = text("camera");
        let footage = footage::of_step(&changes, e.warehouse.as_deref(), e.at.and_utc(), templates);
        Self {
            camera,
            bin: text("bin"),
            area: text("area"),
            quantity: after("quantity").and_then(|v| v.as_i64()),
            footage,
            seq: e.seq,
            at: e.at.and_utc(),
            changes,
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
    let (items, next_cursor) = read(&state, move |c| {
        let (rows, next) = query::page(c, &f, limit)?;
        let templates = templates_for(c, &rows)?;
        let items = rows
            .into_iter()
            .map(|e| EntryOut::build(e, &templates))
            .collect();
        Ok((items, next))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", responses((status = 200, description = "`{\"ok\":true,\"entries\":N,\"head\":\"<hex>\"}`, or `ok: false` and the first broken entry", body = Object), (status = 403, description = "only supervisors and admins verify the audit log (`forbidden`)")))]
pub async fn verify(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let v = read(&state, |c| audit::verify(c, None)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The installation's public key, which verifies its signed heads.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyOut {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// The public key, 64 hex digits.
    pub public_key: String,
    /// What the key signs: the head's sequence and hash in this text.
    pub signed_message: &'static str,
}

/// The installation's public key (anyone signed in): customs keeps it to check signed heads.
#[utoipa::path(get, path = "/api/v1/audit/key", responses((status = 200, body = KeyOut)))]
pub async fn key(state: web::Data<AppState>, _s: Session) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(KeyOut {
        algorithm: "Ed25519",
        public_key: state.signer.public_key(),
        signed_message: "bonded-returns audit head\\n{seq}\\n{hash}\\n",
    }))
}

#[utoipa::path(get, path = "/api/v1/audit/head", responses((status = 200, body = SignedHead, description = "the head, signed with the installation's key: keep `expect_head` and later run `bonded-returns audit verify --expect-head SEQ:HASH:SIGNATURE --public-key KEY`"), (status = 403, description = "only supervisors and admins read the audit log (`forbidden`)")))]
pub async fn head(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let head: ChainHead = read(&state, audit::load_head).await?;
    Ok(HttpResponse::Ok().json(state.signer.sign(&head)))
}

/// Most rows one export file carries.
const EXPORT_MAX: i64 = 100_000;

impl From<EntryOut> for export::Row {
    fn from(e: EntryOut) -> Self {
        let (footage_from, footage_to, footage_url) = match e.footage {
            Some(f) => (Some(f.from), Some(f.to), f.url),
            None => (None, None, None),
        };
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            role: e.role,
            action: e.action,
            entity_kind: e.entity_kind,
            entity_id: e.entity_id,
            warehouse: e.warehouse,
            enterprise: e.enterprise,
            camera: e.camera,
            bin: e.bin,
            area: e.area,
            quantity: e.quantity,
            footage_from,
            footage_to,
            footage_url,
            changes: e.changes.to_string(),
            reason: e.reason,
            request_id: e.request_id,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// The rows of an export of `f` (at most `limit`, default [`EXPORT_MAX`]), the cursor to go on
/// from when more match, and the language of the file.
async fn export_rows(
    state: &web::Data<AppState>,
    s: &Session,
    req: &HttpRequest,
    q: Result<web::Query<Filter>, actix_web::Error>,
) -> Result<(Vec<export::Row>, Option<String>, Lang), AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let mut f = filter(q)?;
    let lang = Lang::choose(
        f.lang.as_deref(),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )?;
    // For an export, `limit` is how many entries one file may carry.
    let max = match f.limit {
        None => EXPORT_MAX,
        Some(n) if (1..=EXPORT_MAX).contains(&n) => n,
        Some(_) => {
            return Err(AppError::validation(
                "limit",
                format!("between 1 and {EXPORT_MAX} entries per file"),
            ))
        }
    };
    let (rows, rest) = read(state, move |c| {
        let mut out: Vec<export::Row> = Vec::new();
        let rest = loop {
            let (rows, next) = query::page(c, &f, query::MAX_LIMIT.min(max - out.len() as i64))?;
            let templates = templates_for(c, &rows)?;
            out.extend(
                rows.into_iter()
                    .map(|e| export::Row::from(EntryOut::build(e, &templates))),
            );
            match next {
                Some(n) if (out.len() as i64) < max => f.cursor = Some(n),
                // More entries match than one file carries: say so, and where to go on.
                Some(n) => break Some(n),
                None => break None,
            }
        };
        Ok((out, rest))
    })
    .await?;
    Ok((rows, rest, lang))
}

/// An export file's answer: its type and name, and `X-Truncated`/`X-Next-Cursor` when more
/// entries match than it carries.
fn file_answer(
    bytes: Vec<u8>,
    content_type: &str,
    name: &str,
    rest: Option<String>,
) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    resp.content_type(content_type).insert_header((
        "Content-Disposition",
        format!("attachment; filename=\"{name}\""),
    ));
    if let Some(cursor) = rest {
        resp.insert_header(("X-Truncated", "true"))
            .insert_header(("X-Next-Cursor", cursor));
    }
    resp.body(bytes)
}

#[utoipa::path(get, path = "/api/v1/audit/export.csv", params(Filter), responses((status = 200, description = "the entries as CSV, UTF-8 with a byte-order mark, every cell a spreadsheet would run as a formula neutralised (at most `limit`, default 100000; `X-Truncated` and `X-Next-Cursor` when more match)", content_type = "text/csv"), (status = 403, description = "only supervisors and admins export the audit log (`forbidden`)")))]
pub async fn export_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    q: Result<web::Query<Filter>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let (rows, rest, lang) = export_rows(&state, &s, &req, q).await?;
    let bytes = super::off_thread(move || export::csv(&rows, lang)).await??;
    Ok(file_answer(
        bytes,
        "text/csv; charset=utf-8",
        "audit.csv",
        rest,
    ))
}

#[utoipa::path(get, path = "/api/v1/audit/export.xlsx", params(Filter), responses((status = 200, description = "the same rows as the CSV, as an XLSX workbook: times as dates (in China time), numbers as numbers, text as text, never a formula; a frozen header row", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, description = "only supervisors and admins export the audit log (`forbidden`)")))]
pub async fn export_xlsx(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    q: Result<web::Query<Filter>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let (rows, rest, lang) = export_rows(&state, &s, &req, q).await?;
    let bytes = super::off_thread(move || export::xlsx(&rows, lang)).await??;
    Ok(file_answer(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "audit.xlsx",
        rest,
    ))
}

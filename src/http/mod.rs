//! The HTTP edge: parse, authenticate, authorise, call one flow, answer. Thin on purpose.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod feed;
pub mod folders;
pub mod handheld;
pub mod health;
pub mod labels;
pub mod openapi;
pub mod printing;
pub mod returns;
pub mod ui;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer, ResponseError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::audit::Actor;
use crate::config::Config;
use crate::db::batch::Prefetch;
use crate::db::writer::{Tx, Writer, Writes};
use crate::db::Pool;
use crate::error::{AppError, Exclusion};
use crate::flows::idempotency::{self, Answer};
use auth::{FloorCaller, Session};

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 1024 * 1024;

pub struct AppState {
    pub pool: Pool,
    pub writer: Writer,
    pub config: Config,
    pub backend: &'static str,
    /// Idempotency keys whose first request is still running on this node.
    pub in_flight: Mutex<HashSet<String>>,
    /// Floor sessions seen on this node (claims for the floor steps' fast path).
    pub known_floor: auth::KnownFloor,
    /// Sign-in checks of one name from one address, one at a time.
    pub sign_in_queue: auth::SignInQueue,
    /// The installation's key, which signs every published chain head.
    pub signer: Arc<crate::audit::signing::Signer>,
}

pub fn require_json(req: &HttpRequest) -> Result<(), AppError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(
            "send the body as application/json".into(),
        ))
    }
}

/// Parses a JSON body; every mistake becomes a `validation` problem naming what is wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let body = if body.iter().all(|b| b.is_ascii_whitespace()) {
        b"{}".as_slice()
    } else {
        body
    };
    if std::str::from_utf8(body).is_err() {
        return Err(AppError::validation("body", "the body is not valid UTF-8"));
    }
    if body.len() > JSON_LIMIT {
        return Err(AppError::PayloadTooLarge(format!(
            "a JSON body may have at most {JSON_LIMIT} bytes"
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        AppError::validation(field, e.inner().to_string())
    })?;
    // Anything after the JSON value is a mistake too.
    de.end()
        .map_err(|e| AppError::validation("body", e.to_string()))?;
    Ok(value)
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    match req.headers().get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| AppError::validation("Idempotency-Key", "must be printable ASCII"))?;
            if k.is_empty() || k.len() > 200 || !k.chars().all(|c| c.is_ascii_graphic()) {
                return Err(AppError::validation(
                    "Idempotency-Key",
                    "1–200 printable ASCII characters",
                ));
            }
            Ok(Some(k.to_string()))
        }
    }
}

/// An answer that commits and is sent as given (a 2xx, or a refusal that changed something).
pub fn answer<T: Serialize>(status: StatusCode, body: &T) -> Result<Answer, AppError> {
    let json = serde_json::to_string(body).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((status.as_u16(), json))
}

/// Runs slow CPU work (argon2, XML parsing, label rendering) on the blocking thread pool,
/// never on an actix worker.
pub async fn off_thread<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub fn ok<T: Serialize>(body: &T) -> Result<Answer, AppError> {
    answer(StatusCode::OK, body)
}

pub fn created<T: Serialize>(body: &T) -> Result<Answer, AppError> {
    answer(StatusCode::CREATED, body)
}

/// Turns an error into an answer that is committed with what the flow wrote before it
/// (e.g. a return put on hold when its party turned out to be excluded).
pub fn refusal_after_change(e: &AppError) -> Result<Answer, AppError> {
    answer(e.status_code(), &e.problem())
}

struct InFlight {
    state: web::Data<AppState>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = self.state.in_flight.lock() {
            set.remove(&self.key);
        }
    }
}

/// Runs a mutating request: JSON body parsed into `I`, the flow run by the writer in the
/// shared transaction, the `Idempotency-Key` honoured, the answer sent after the commit.
pub async fn mutate<I, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    body: &[u8],
    flow: F,
) -> Result<HttpResponse, AppError>
where
    I: DeserializeOwned + Send + 'static,
    F: FnOnce(&mut Tx<'_>, &Actor, I) -> Result<Answer, AppError> + Send + 'static,
{
    mutate_parsed(state, req, session, body, json_input(req, body)?, flow).await
}

/// A mutation's JSON body, read into `I`.
pub(crate) fn json_input<I: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<I, AppError> {
    require_json(req)?;
    parse_json(body)
}

/// The part of [`mutate`] after the body was read into `input` (by JSON or otherwise, e.g. a
/// customs XML message): `body` is what the idempotency hash covers.
pub async fn mutate_parsed<I, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    body: &[u8],
    input: I,
    flow: F,
) -> Result<HttpResponse, AppError>
where
    I: Send + 'static,
    F: FnOnce(&mut Tx<'_>, &Actor, I) -> Result<Answer, AppError> + Send + 'static,
{
    let who = Writing {
        session,
        claim: None,
        writes: Writes::Anything,
        step: None,
    };
    write_as(state, req, who, body, input, flow).await
}

/// What a floor step acts on, known before it runs: the return and, for a restock, the bin
/// whose stock it reads (see `db::batch`).
pub struct StepOf {
    pub return_id: String,
    pub stock_bin: Option<String>,
}

/// [`mutate`] for a floor step (`step` says of `I` what it acts on): a caller known on this
/// node is confirmed inside the write transaction, before the step (see [`FloorCaller`]); the
/// step runs without a savepoint of its own, on what its batch read for all its steps
/// (`db::batch`).
pub async fn mutate_floor<I, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    caller: &FloorCaller,
    body: &[u8],
    step: impl FnOnce(&I) -> StepOf,
    flow: F,
) -> Result<HttpResponse, AppError>
where
    I: DeserializeOwned + Send + 'static,
    F: FnOnce(&mut Tx<'_>, &Actor, I) -> Result<Answer, AppError> + Send + 'static,
{
    let input: I = json_input(req, body)?;
    let step = step(&input);
    let who = Writing {
        session: caller.session(),
        claim: caller.claim().map(str::to_owned),
        // A floor step never changes reference data.
        writes: Writes::NoReferenceData,
        step: Some(step),
    };
    let answer = write_as(state, req, who, body, input, flow).await;
    if let (Err(AppError::Unauthenticated(_) | AppError::Forbidden(_)), Some(hash)) =
        (&answer, caller.claim())
    {
        // Ended, or no longer floor staff (or refused for another reason): the next request
        // of this session is read from the database again.
        state.known_floor.forget(hash);
    }
    answer
}

/// Who a write runs as, and what it may change.
struct Writing<'a> {
    session: &'a Session,
    /// The session's token hash when it is only claimed (a floor caller known on this node):
    /// it is confirmed first in the transaction.
    claim: Option<String>,
    writes: Writes,
    /// A floor step: what it acts on.
    step: Option<StepOf>,
}

/// Runs `flow` through the writer as `who`, honouring the `Idempotency-Key`.
async fn write_as<I, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    who: Writing<'_>,
    body: &[u8],
    input: I,
    flow: F,
) -> Result<HttpResponse, AppError>
where
    I: Send + 'static,
    F: FnOnce(&mut Tx<'_>, &Actor, I) -> Result<Answer, AppError> + Send + 'static,
{
    let Writing {
        session,
        claim,
        writes,
        step,
    } = who;
    let key = idempotency_key(req)?;
    let _guard = match &key {
        Some(k) => {
            let scoped = idempotency::scoped_key(&session.username, k);
            let mut set = state
                .in_flight
                .lock()
                .map_err(|_| AppError::Internal("in-flight set poisoned".into()))?;
            if !set.insert(scoped.clone()) {
                return Err(AppError::IdempotencyInProgress);
            }
            Some(InFlight {
                state: state.clone(),
                key: scoped,
            })
        }
        None => None,
    };
    let hash = idempotency::request_hash(req.method().as_str(), req.path(), body);
    let actor = session.actor();
    let audit_actor = actor.clone();
    let username = session.username.clone();
    let (key_in, hash_in, claim_in) = (key.clone(), hash.clone(), claim.clone());
    let run = move |tx: &mut Tx<'_>| {
        let actor = FloorCaller::confirm(tx, claim.as_deref(), actor)?;
        idempotency::once(tx, &username, key_in.as_deref(), &hash_in, |tx| {
            flow(tx, &actor, input)
        })
    };
    let result = match step {
        Some(StepOf {
            return_id,
            stock_bin,
        }) => {
            let prefetch = Prefetch {
                return_id,
                stock_bin,
                key: key
                    .as_deref()
                    .map(|k| idempotency::scoped_key(&session.username, k)),
                claim: claim_in,
            };
            state.writer.write_step(prefetch, run).await
        }
        None => state.writer.write_as(writes, run).await,
    };
    let result = match (result, key) {
        // Nothing of the failed request was kept: if its key was used before, answer as then.
        // Not when the write could not be done (the key may not be readable either), nor when
        // the caller's session turned out to be over or no longer allowed.
        (Err(e), Some(key))
            if !matches!(
                e,
                AppError::Unavailable(_) | AppError::Unauthenticated(_) | AppError::Forbidden(_)
            ) =>
        {
            let username = session.username.clone();
            match read(state, move |c| {
                idempotency::replay(c, &username, &key, &hash)
            })
            .await
            {
                Ok(Some(stored)) => Ok(stored),
                Ok(None) => Err(e),
                Err(refused) => Err(refused),
            }
        }
        (result, _) => result,
    };
    let (status, body) = match result {
        Ok(answer) => answer,
        Err(AppError::EnterpriseExcluded(why)) => {
            record_refusal(state, &audit_actor, req, &why).await;
            return Err(AppError::EnterpriseExcluded(why));
        }
        Err(e) => return Err(e),
    };
    let status = StatusCode::from_u16(status).map_err(|e| AppError::Internal(e.to_string()))?;
    if status == StatusCode::NO_CONTENT {
        return Ok(HttpResponse::NoContent().finish());
    }
    let ct = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    Ok(HttpResponse::build(status).content_type(ct).body(body))
}

/// Customs must see refused attempts by excluded parties too: the refusal is recorded in the
/// audit log (the refused change itself is not).
async fn record_refusal(
    state: &web::Data<AppState>,
    actor: &Actor,
    req: &HttpRequest,
    why: &Exclusion,
) {
    let (actor, path, enterprise, why) = (
        actor.clone(),
        format!("{} {}", req.method(), req.path()),
        why.code.clone(),
        why.to_string(),
    );
    let written = state
        .writer
        .write(move |tx| {
            tx.audit(
                &actor,
                crate::audit::NewEntry {
                    action: "refused.enterprise_excluded",
                    entity_kind: "request",
                    entity_id: &path,
                    warehouse: actor.warehouse.as_deref(),
                    enterprise: Some(&enterprise),
                    changes: crate::audit::Changes::new(),
                    reason: Some(&why),
                },
            )
        })
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record a refusal in the audit log");
    }
}

/// Runs a read on the pool (never on an actix worker thread).
pub async fn read<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    crate::db::read(&state.pool, f).await
}

/// Body types an HTML form (or a `no-cors` fetch) on another site can send without a CORS
/// preflight. No endpoint takes them.
const FORM_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// Why a state change must be refused as cross-site, if it must (see `same_origin`).
fn cross_site(req: &ServiceRequest) -> Option<AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    // A bearer token is never added by a browser on its own, and when one is sent the cookie
    // is ignored: such a request cannot be forged from another site.
    if auth::bearer(req.headers()).is_some() {
        return None;
    }
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("\u{fffd}").trim().to_ascii_lowercase())
    };
    if let Some(origin) = header(header::ORIGIN) {
        let host = req.connection_info().host().to_ascii_lowercase();
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        if origin == "null" || origin_host != host {
            return Some(AppError::CrossSite(format!(
                "a change sent from another site ({origin}) is refused; use this site's own pages"
            )));
        }
    }
    if let Some(site) = header(header::HeaderName::from_static("sec-fetch-site")) {
        if site != "same-origin" && site != "none" {
            return Some(AppError::CrossSite(format!(
                "a change sent from another site (Sec-Fetch-Site: {site}) is refused; use this site's own pages"
            )));
        }
    }
    if let Some(ct) = header(header::CONTENT_TYPE) {
        let essence = ct.split(';').next().unwrap_or("").trim();
        if FORM_TYPES.contains(&essence) {
            return Some(AppError::UnsupportedMediaType(format!(
                "{essence} is not accepted; send application/json (XML for imports)"
            )));
        }
    }
    None
}

/// Refuses cross-site state changes made with the session cookie (CSRF), on top of its
/// SameSite=Strict: for every method but GET, HEAD and OPTIONS without a bearer token,
/// - an `Origin` other than this server's host (or `null`) → 403 `cross_site_request`;
/// - `Sec-Fetch-Site` other than `same-origin` or `none` → 403 `cross_site_request`;
/// - a body type an HTML form can send without a preflight (`FORM_TYPES`) → 415
///   `unsupported_media_type`.
async fn same_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    if let Some(refusal) = cross_site(&req) {
        let resp = refusal.error_response();
        return Ok(req.into_response(resp).map_into_right_body());
    }
    let res = next.call(req).await?;
    Ok(res.map_body(|_, b| b.boxed()).map_into_left_body())
}

/// Makes every error answer a problem+json, including the framework's own (404, 405, 413…).
async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let err = match status {
            StatusCode::NOT_FOUND => AppError::NotFound("no such resource".into()),
            StatusCode::METHOD_NOT_ALLOWED => {
                AppError::MethodNotAllowed("method not allowed here".into())
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge("the body is too large".into())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                AppError::UnsupportedMediaType("unsupported content type".into())
            }
            StatusCode::UNAUTHORIZED => AppError::Unauthenticated(String::new()),
            StatusCode::FORBIDDEN => AppError::Forbidden("not allowed".into()),
            s if s.is_server_error() => AppError::Internal(format!("framework error {s}")),
            _ => AppError::validation("request", "the request could not be read"),
        };
        // The answer's status is the problem's own, so that the two always agree (a framework
        // status with no error of its own becomes a 400 `validation` or a 500 `internal`).
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(req, err.error_response()));
    }
    Ok(res.map_into_boxed_body())
}

/// Registers every route; used by `serve` and the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(crate::customs::MAX_MESSAGE_BYTES))
        .route("/healthz", web::get().to(health::healthz))
        .route("/api/openapi.json", web::get().to(openapi::spec))
        .service(
            web::scope("/api/v1")
                .route("/session", web::post().to(auth::sign_in))
                .route("/session", web::delete().to(auth::sign_out))
                .route("/me", web::get().to(auth::me))
                .route("/tokens", web::post().to(auth::create_token))
                .route("/tokens", web::get().to(auth::list_tokens))
                .route("/tokens/{id}", web::delete().to(auth::revoke_token))
                .route("/throttles", web::get().to(auth::list_throttles))
                .route("/feed", web::get().to(feed::feed))
                .route("/feed/status", web::get().to(feed::status))
                .route("/customs/folders", web::get().to(folders::status))
                .route(
                    "/throttles/{username}",
                    web::delete().to(auth::clear_throttle),
                )
                .configure(admin::routes)
                .configure(audit::routes)
                .configure(returns::routes)
                .configure(labels::routes)
                .configure(handheld::routes)
                .configure(printing::routes)
                .default_service(web::to(no_route)),
        )
        .configure(ui::routes)
        .default_service(web::to(no_route));
}

/// The answer to a request no route took: 405 when its path has routes for other methods (a
/// route's guard is its method, so the router went on past them), with the methods the
/// OpenAPI description has for it in `Allow`; 404 otherwise. The UI's catch-all (`GET` of any
/// path) does not count for `/api` and the paths under it.
async fn no_route(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let api = path == "/api" || path.starts_with("/api/");
    let pattern = req
        .resource_map()
        .match_pattern(path)
        .filter(|p| !(p == ui::FALLBACK && api));
    let Some(pattern) = pattern else {
        let what = if api {
            "no such API endpoint"
        } else {
            "no such page"
        };
        return AppError::NotFound(what.into()).error_response();
    };
    let allow = if pattern == ui::FALLBACK || pattern == "/" {
        Some("GET")
    } else {
        openapi::allowed_methods(&pattern)
    };
    let mut resp = AppError::MethodNotAllowed(format!(
        "{} is not allowed here{}",
        req.method(),
        allow.map(|a| format!("; use {a}")).unwrap_or_default()
    ))
    .error_response();
    if let Some(allow) = allow.and_then(|a| header::HeaderValue::from_str(a).ok()) {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    resp
}

/// Builds the app around `state`, with the middleware every deployment has.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .wrap(from_fn(same_origin))
        .wrap(from_fn(problems))
        .wrap(request_log())
        .wrap(from_fn(normalise_path))
        .configure(configure)
}

/// Characters written percent-encoded in a normalised path: controls, space, non-ASCII and
/// what would end or confuse a path (`"#<>?\^`{|}`). `%` is not among them: after decoding,
/// a `%` can only be the start of a kept `%25`, `%2F` or `%2B`.
const PATH_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The path as the router reads it, in one spelling: percent-encoded characters decoded (as
/// the router does; `%2F`, `%25` and `%2B` kept), dot segments resolved, repeated slashes
/// merged, then encoded again where a path needs it. `/api/%761/%73can//x` and
/// `/api/v1/returns/../scan/x` are both `/api/v1/scan/x`.
pub fn normalised_path(raw: &actix_web::http::Uri) -> String {
    let decoded = actix_web::dev::Url::new(raw.clone()).path().to_string();
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/').skip(1) {
        match segment {
            "." | "" => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut path = String::with_capacity(decoded.len());
    for s in &segments {
        path.push('/');
        path.extend(percent_encoding::utf8_percent_encode(s, PATH_ENCODE));
    }
    // A trailing slash stays (a directory of the UI, say); the root is "/".
    if path.is_empty() || (decoded.ends_with('/') && !segments.is_empty()) {
        path.push('/');
    }
    path
}

/// Rewrites the request's path to [`normalised_path`] before anything reads it: the router,
/// the request log (which hides scanned codes), the Idempotency-Key hash and every rule keyed
/// on the path see one spelling of it.
async fn normalise_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = normalised_path(req.uri());
    if path != req.path() {
        let mut parts = req.uri().clone().into_parts();
        let target = match parts.path_and_query.as_ref().and_then(|pq| pq.query()) {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(pq) = actix_web::http::uri::PathAndQuery::try_from(target) {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = actix_web::http::Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
            }
        }
    }
    next.call(req).await
}

/// One line per request: status, method, path and time. Never the query string, which may
/// hold what someone typed into a search (a buyer's phone number, say), nor a scanned code
/// (whatever was under the scanner), nor any header.
fn request_log() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%s %{method}xi %{path}xi %Dms")
        .custom_request_replace("method", |req| req.method().to_string())
        .custom_request_replace("path", |req| {
            if req.path().starts_with("/api/v1/scan/") {
                "/api/v1/scan/{code}".to_string()
            } else {
                req.path().to_string()
            }
        })
        .exclude("/healthz")
}

/// Serves until stopped.
pub async fn serve(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
) -> std::io::Result<()> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2);
    HttpServer::new(move || app(state.clone()))
        .workers(workers)
        .listen(listener)?
        .run()
        .await
}

pub type SharedState = Arc<AppState>;

/// The OpenAPI part of the return-flow routes.
pub fn flow_api() -> utoipa::openapi::OpenApi {
    let mut doc = <returns::FlowApi as utoipa::OpenApi>::openapi();
    doc.merge(<labels::LabelApi as utoipa::OpenApi>::openapi());
    doc.merge(<handheld::HandheldApi as utoipa::OpenApi>::openapi());
    doc.merge(<printing::PrintingApi as utoipa::OpenApi>::openapi());
    doc
}

#[cfg(test)]
mod tests {
    use super::normalised_path;

    #[test]
    fn a_path_has_one_spelling() {
        for (raw, path) in [
            ("/api/v1/%73can/13800138000", "/api/v1/scan/13800138000"),
            ("/api/%761/scan/13800138000?x=1", "/api/v1/scan/13800138000"),
            ("/api/v1/returns/../scan/138", "/api/v1/scan/138"),
            ("/api/v1/./scan//138", "/api/v1/scan/138"),
            ("/../../api/v1/me", "/api/v1/me"),
            ("/api/v1/scan/%E4%B8%AD%20x", "/api/v1/scan/%E4%B8%AD%20x"),
            ("/api/v1/scan/a%2Fb%25c%2Bd", "/api/v1/scan/a%2Fb%25c%2Bd"),
            ("/", "/"),
            ("//", "/"),
            ("/ui/", "/ui/"),
        ] {
            let uri: actix_web::http::Uri = raw.parse().unwrap();
            assert_eq!(normalised_path(&uri), path, "{raw}");
        }
    }
}

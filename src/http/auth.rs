//! Who is calling: cookie sessions kept in the database (so several nodes share them),
//! bearer tokens for scripts, role and warehouse checks.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{off_thread, AppState};
use crate::audit::Actor;
use crate::db::users::{SessionRow, UserRow};
use crate::db::{self, users as user_store};
use crate::domain::roles::{Role, Scope};
use crate::error::AppError;
use crate::flows::users::{self as user_flow, NewToken, TokenInput, TokenView};

pub const COOKIE: &str = "br_session";

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub role: Role,
    pub warehouse: Option<String>,
    pub token_hash: String,
    pub request_id: String,
    /// What this session or token may do (a `customs` token: reading for customs only).
    pub scope: Scope,
    /// A bearer token (not a browser's cookie session).
    pub is_token: bool,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor {
            username: self.username.clone(),
            role: self.role.as_str().into(),
            warehouse: self.warehouse.clone(),
            request_id: Some(self.request_id.clone()),
        }
    }

    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the {} role may not do this",
                self.role.as_str()
            )))
        }
    }

    /// Floor staff act only in their own warehouse; others everywhere.
    pub fn may_see_warehouse(&self, warehouse: Option<&str>) -> bool {
        match self.role {
            Role::Floor => warehouse.is_some() && warehouse == self.warehouse.as_deref(),
            _ => true,
        }
    }

    /// Refuses what the session's scope does not cover (a `customs` token reads the audit
    /// log, its verification and the exports only).
    pub fn require_scope(&self, method: &str, path: &str) -> Result<(), AppError> {
        if self.scope.allows(method, path) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "a token of the {} scope may not do this: it reads the audit log, its verification and the exports only",
                self.scope.as_str()
            )))
        }
    }

    pub fn require_warehouse(&self, warehouse: &str) -> Result<(), AppError> {
        if self.may_see_warehouse(Some(warehouse)) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "you work in warehouse {}, not {warehouse}",
                self.warehouse.as_deref().unwrap_or("-")
            )))
        }
    }
}

fn request_id(req: &HttpRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        // Kept (and written into the audit log) only when it is an id: letters and digits,
        // with `-`, `_`, `.` and `:` after the first; anything else (a formula such as `=1+1`,
        // text, markup) is replaced by a fresh id.
        .filter(|v| {
            v.len() <= 64
                && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        })
        .map(String::from)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The token of an `Authorization: Bearer …` header. When there is one, it alone counts (a
/// cookie sent along is ignored), which is why such requests cannot be forged cross-site.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

fn presented_token(req: &HttpRequest) -> Option<String> {
    if let Some(t) = bearer(req.headers()) {
        return Some(t.to_string());
    }
    req.cookie(COOKIE).map(|c| c.value().to_string())
}

impl FromRequest for Session {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let p = presented(req);
        Box::pin(async move {
            let s = look_up(&*p.state?, &token_hash_of(p.token)?, p.request_id).await?;
            s.require_scope(&p.method, &p.path)?;
            Ok(s)
        })
    }
}

/// What the session extractors take from the request before they wait for anything.
struct Presented {
    token: Option<String>,
    state: Result<web::Data<AppState>, AppError>,
    request_id: String,
    method: String,
    path: String,
}

fn presented(req: &HttpRequest) -> Presented {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("no app state".into()));
    Presented {
        token: presented_token(req),
        state,
        request_id: request_id(req),
        method: req.method().to_string(),
        path: req.path().to_string(),
    }
}

/// The hash under which a presented token's session is kept; 401 for anything that is not
/// a token at all.
fn token_hash_of(token: Option<String>) -> Result<String, AppError> {
    let token = token
        .filter(|t| t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| AppError::Unauthenticated(String::new()))?;
    Ok(user_flow::token_hash(&token))
}

fn ended() -> AppError {
    AppError::Unauthenticated("your session has ended; sign in again".into())
}

/// The session and its user, read through the pool.
async fn look_up(state: &AppState, hash: &str, rid: String) -> Result<Session, AppError> {
    let key = hash.to_string();
    let found = db::read(&state.pool, move |c| {
        user_store::session_user(c, &key, Utc::now().naive_utc())
    })
    .await?;
    let (s, u) = found.ok_or_else(ended)?;
    session_of(s, u, rid)
}

/// The caller as the database knows them.
fn session_of(s: SessionRow, u: UserRow, rid: String) -> Result<Session, AppError> {
    let role =
        Role::parse(&u.role).ok_or_else(|| AppError::Internal(format!("bad role {}", u.role)))?;
    let scope = Scope::parse(&s.scope)
        .ok_or_else(|| AppError::Internal(format!("bad scope {}", s.scope)))?;
    Ok(Session {
        username: u.username,
        role,
        warehouse: u.warehouse_code,
        is_token: s.kind == "token",
        token_hash: s.token_hash,
        request_id: rid,
        scope,
    })
}

/// Floor sessions this node has seen, by token hash: user name and warehouse. Only ever a
/// claim: see [`FloorCaller`]. Bounded (cleared when full) and forgotten at sign-out here.
#[derive(Default)]
pub struct KnownFloor {
    map: Mutex<HashMap<String, KnownCaller>>,
}

/// A floor caller known on this node: user name, warehouse, and whether it is a bearer token.
type KnownCaller = (String, Option<String>, bool);

/// Sessions remembered at most (about 100 bytes each).
const KNOWN_FLOOR_MAX: usize = 10_000;

impl KnownFloor {
    fn get(&self, hash: &str) -> Option<KnownCaller> {
        self.map.lock().ok()?.get(hash).cloned()
    }

    fn remember(&self, s: &Session) {
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= KNOWN_FLOOR_MAX {
                m.clear();
            }
            m.insert(
                s.token_hash.clone(),
                (s.username.clone(), s.warehouse.clone(), s.is_token),
            );
        }
    }

    pub fn forget(&self, hash: &str) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(hash);
        }
    }
}

/// The caller of a floor step (receive, sort, inspect, restock, dispose): the scanners' hot
/// path. A floor session this node has seen before is taken as a claim and confirmed inside
/// the step's own write transaction ([`FloorCaller::confirm`]: the same look-up as
/// [`Session`], with role and warehouse taken from the database), instead of a look-up
/// through the read pool first. The write batch reads the sessions of all its claimed callers
/// in one statement (`db::batch`), so on PostgreSQL this costs one round trip per batch under
/// the write lock, not one per request beforehand. A session ended on any node, an expired
/// one, a deactivated user or a changed role is refused there, before the step runs.
pub enum FloorCaller {
    /// Read from the database for this request.
    Confirmed(Session),
    /// Known on this node; to be confirmed in the write transaction.
    Claimed(Session),
}

impl FloorCaller {
    pub fn session(&self) -> &Session {
        match self {
            Self::Confirmed(s) | Self::Claimed(s) => s,
        }
    }

    /// The token hash still to be confirmed in the write transaction, for a claim.
    pub fn claim(&self) -> Option<&str> {
        match self {
            Self::Claimed(s) => Some(&s.token_hash),
            Self::Confirmed(_) => None,
        }
    }

    /// In the write transaction: the actor the step runs as. A claim is checked against the
    /// database (session still open and unexpired, user active and still floor staff) and the
    /// actor built from what the database says.
    pub fn confirm(
        tx: &mut crate::db::writer::Tx<'_>,
        claim: Option<&str>,
        actor: Actor,
    ) -> Result<Actor, AppError> {
        let Some(hash) = claim else { return Ok(actor) };
        let (s, u) = match tx.batch.session(hash) {
            // Read with the batch's other claims: still open now (the read was a moment ago).
            Some(found) => found
                .filter(|(s, _)| s.expires_at > tx.now)
                .cloned()
                .ok_or_else(ended)?,
            None => user_store::session_user(tx.conn, hash, tx.now)?.ok_or_else(ended)?,
        };
        let session = session_of(s, u, actor.request_id.unwrap_or_default())?;
        session.require(&[Role::Floor])?;
        if session.scope != Scope::Full {
            return Err(AppError::Forbidden(
                "this token may not do floor steps".into(),
            ));
        }
        Ok(session.actor())
    }
}

impl FromRequest for FloorCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let p = presented(req);
        Box::pin(async move {
            let state = p.state?;
            let hash = token_hash_of(p.token)?;
            if let Some((username, warehouse, is_token)) = state.known_floor.get(&hash) {
                return Ok(Self::Claimed(Session {
                    username,
                    role: Role::Floor,
                    warehouse,
                    token_hash: hash,
                    request_id: p.request_id,
                    scope: Scope::Full,
                    is_token,
                }));
            }
            let s = look_up(&state, &hash, p.request_id).await?;
            s.require_scope(&p.method, &p.path)?;
            if s.role == Role::Floor && s.scope == Scope::Full {
                state.known_floor.remember(&s);
            }
            Ok(Self::Confirmed(s))
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[schema(max_length = 64)]
    pub username: String,
    #[schema(max_length = 512)]
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub warehouse: Option<String>,
}

/// Sign-in checks of one user name from one client address run one after another on a node:
/// guesses sent in parallel each see the failures before them (and their wait), and correct
/// sign-ins sent in parallel all succeed, in turn.
#[derive(Default)]
pub struct SignInQueue {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A turn in the [`SignInQueue`]; the next waiting check goes when it is dropped.
pub struct SignInTurn<'a> {
    queue: &'a SignInQueue,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SignInQueue {
    pub async fn turn(&self, username: &str, client: &str) -> SignInTurn<'_> {
        let key = format!("{username}\n{client}");
        let lock = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        SignInTurn {
            queue: self,
            key,
            guard: Some(guard),
        }
    }
}

impl Drop for SignInTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.queue.map.lock().unwrap_or_else(|p| p.into_inner());
        // Nobody else holds or waits for this key's lock: forget it.
        if map
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            map.remove(&self.key);
        }
    }
}

/// The address a request comes from, for the sign-in throttle: the peer's, or, when the peer
/// is one of the configured trusted proxies (`BR_TRUSTED_PROXIES`), the nearest address in
/// `X-Forwarded-For` that is not one of them.
pub fn client_address(req: &HttpRequest, trusted: &[IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip().to_canonical()) else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !trusted.contains(&client) {
                    break;
                }
            }
            // A hop that is no address: the last trusted one vouches for nothing further.
            Err(_) => break,
        }
    }
    client.to_string()
}

/// Checks `password` for `username` from `client`, in turn with the other checks of that name
/// from that address: refused at once while its wait from earlier failures lasts; a failure is
/// counted (and the next wait set) before the turn ends. Answers the user when it is right.
async fn check_password(
    state: &AppState,
    client: &str,
    username: &str,
    password: String,
) -> Result<Option<UserRow>, AppError> {
    let _turn = state.sign_in_queue.turn(username, client).await;
    let now = Utc::now().naive_utc();
    let (name, from) = (username.to_string(), client.to_string());
    let (waiting, user) = db::read(&state.pool, move |c| {
        Ok((
            user_flow::throttled(c, &name, &from, now)?,
            user_store::user(c, &name)?,
        ))
    })
    .await?;
    if let Some(refusal) = waiting {
        return Err(refusal);
    }
    let user_for_check = user.clone();
    let ok = off_thread(move || match &user_for_check {
        Some(u) if u.active => user_flow::verify_password(&password, &u.password_hash),
        _ => {
            user_flow::verify_password(&password, user_flow::dummy_hash());
            false
        }
    })
    .await?;
    if ok {
        return Ok(user);
    }
    let (name, from) = (username.to_string(), client.to_string());
    state
        .writer
        .write(move |tx| user_flow::record_failure(tx, &name, &from))
        .await?;
    Ok(None)
}

/// Signs in: 200 and the session cookie; 401 on bad credentials; 429 while failed sign-ins of
/// the name from this address must wait (the wait grows with each failure; nobody is locked out).
#[utoipa::path(post, path = "/api/v1/session", request_body = SignIn, responses((status = 200, body = Me), (status = 401), (status = 429)))]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let input: SignIn = super::json_input(&req, &body)?;
    let username = input.username.trim().to_string();
    if username.is_empty() || username.len() > 64 || input.password.len() > 512 {
        return Err(AppError::Unauthenticated(
            "wrong user name or password".into(),
        ));
    }
    let client = client_address(&req, &state.config.trusted_proxies);
    let Some(user) = check_password(&state, &client, &username, input.password).await? else {
        return Err(AppError::Unauthenticated(
            "wrong user name or password".into(),
        ));
    };
    let ttl = state.config.session_hours;
    let u = user.clone();
    let token = state
        .writer
        .write(move |tx| user_flow::open_session(tx, &u, &client, Duration::hours(ttl)))
        .await?;
    let cookie = Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.cookie_secure)
        .max_age(CookieDuration::hours(ttl))
        .finish();
    let role = Role::parse(&user.role).ok_or_else(|| AppError::Internal("bad role".into()))?;
    Ok(HttpResponse::Ok().cookie(cookie).json(Me {
        username: user.username,
        role,
        warehouse: user.warehouse_code,
    }))
}

/// Signs out: the session is deleted on the server and the cookie cleared. Bearer tokens are
/// not ended by it (revoke them with `DELETE /api/v1/tokens/{id}`); sent with a token, it ends
/// that token.
#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204), (status = 401)))]
pub async fn sign_out(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    let hash = s.token_hash.clone();
    state.known_floor.forget(&hash);
    state
        .writer
        .write(move |tx| user_store::delete_session(tx.conn, &hash))
        .await?;
    let mut gone = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.cookie_secure)
        .finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(s: Session) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(Me {
        username: s.username,
        role: s.role,
        warehouse: s.warehouse,
    }))
}

/// Makes a bearer token (name, scope, expiry) for the signed-in user, who gives the password
/// again. Only a browser session may: a token cannot make tokens (403). A wrong password is a
/// `validation` problem on `password` and counts as a failed sign-in. The token is shown once.
/// (Not idempotent by key: a token is never stored in clear, not even as a replayable answer.)
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenInput, responses((status = 201, body = NewToken), (status = 400), (status = 401), (status = 403), (status = 429)))]
pub async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    if s.is_token {
        return Err(AppError::Forbidden(
            "a token cannot make tokens: sign in with your password and make it there".into(),
        ));
    }
    let input: TokenInput = super::json_input(&req, &body)?;
    let user = user_store_read(&state, &s.username).await?;
    let (scope, days) = user_flow::check_token_input(&input, &user, state.config.token_days)?;
    let client = client_address(&req, &state.config.trusted_proxies);
    if check_password(&state, &client, &s.username, input.password)
        .await?
        .is_none()
    {
        return Err(AppError::validation(
            "password",
            "that is not your password",
        ));
    }
    let actor = s.actor();
    let name = input.name;
    let out = state
        .writer
        .write(move |tx| user_flow::create_token(tx, &actor, &user, &name, scope, days))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// The signed-in user, as the database has it now.
async fn user_store_read(state: &AppState, username: &str) -> Result<UserRow, AppError> {
    let name = username.to_string();
    db::read(&state.pool, move |c| user_store::user(c, &name))
        .await?
        .ok_or_else(ended)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

/// The caller's live bearer tokens (an admin: everybody's), newest first; never the tokens.
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = TokenList), (status = 401), (status = 403)))]
pub async fn list_tokens(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    let whose = (s.role != Role::Admin).then(|| s.username.clone());
    let rows = db::read(&state.pool, move |c| {
        user_store::tokens(c, whose.as_deref(), Utc::now().naive_utc())
    })
    .await?;
    let items = rows
        .into_iter()
        .map(TokenView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(TokenList { items }))
}

/// Revokes a bearer token at once, on every node: one's own, or anyone's for an admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path, description = "the token's public id")), responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let flow = |tx: &mut crate::db::writer::Tx<'_>, actor: &crate::audit::Actor, id: String| {
        user_flow::revoke_token(tx, actor, &id)?;
        Ok((204, String::new()))
    };
    super::mutate_parsed(&state, &req, &s, &[], id, flow).await
}

/// A throttled sign-in: a user name from a client address, with its failures and its wait.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThrottleView {
    pub username: String,
    pub client: String,
    pub failures: i32,
    pub last_failure_at: chrono::DateTime<Utc>,
    /// The next sign-in of the name from the address is not tried before then.
    pub delayed_until: chrono::DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThrottleList {
    pub items: Vec<ThrottleView>,
}

/// Failed sign-ins being counted, per user name and client address (admin).
#[utoipa::path(get, path = "/api/v1/throttles", responses((status = 200, body = ThrottleList), (status = 401), (status = 403)))]
pub async fn list_throttles(
    state: web::Data<AppState>,
    s: Session,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let rows = db::read(&state.pool, user_store::throttles).await?;
    let items = rows
        .into_iter()
        .map(|t| ThrottleView {
            username: t.username,
            client: t.client,
            failures: t.failures,
            last_failure_at: t.last_failure_at.and_utc(),
            delayed_until: t.delayed_until.and_utc(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ThrottleList { items }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClearThrottle {
    /// Only the failures from this address (all addresses when not given).
    pub client: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Cleared {
    /// Throttle rows cleared (one per client address).
    pub cleared: usize,
}

/// Clears the sign-in throttle of a user (from one address or all): its next sign-in is tried
/// at once (admin). Recorded in the audit log as `throttle.clear`.
#[utoipa::path(delete, path = "/api/v1/throttles/{username}", params(("username" = String, Path), ClearThrottle), responses((status = 200, body = Cleared), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn clear_throttle(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    query: web::Query<ClearThrottle>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let input = (path.into_inner(), query.into_inner().client);
    let flow = |tx: &mut crate::db::writer::Tx<'_>,
                actor: &crate::audit::Actor,
                (username, client): (String, Option<String>)| {
        let cleared = user_flow::clear_throttle(tx, actor, &username, client.as_deref())?;
        super::ok(&Cleared { cleared })
    };
    super::mutate_parsed(&state, &req, &s, &[], input, flow).await
}

//! Who is calling: cookie sessions kept in the database (so several nodes share them),
//! bearer tokens for scripts, role and warehouse checks.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{off_thread, AppState};
use crate::audit::Actor;
use crate::db::users::{SessionRow, UserRow};
use crate::db::{self, users as user_store};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::flows::users as user_flow;

pub const COOKIE: &str = "br_session";

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub role: Role,
    pub warehouse: Option<String>,
    pub token_hash: String,
    pub request_id: String,
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
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_graphic()))
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
        let (token, state, rid) = presented(req);
        Box::pin(async move { look_up(&*state?, &token_hash_of(token)?, rid).await })
    }
}

/// What the session extractors take from the request before they wait for anything: the
/// presented token, the app state and the request id.
type Presented = (
    Option<String>,
    Result<web::Data<AppState>, AppError>,
    String,
);

fn presented(req: &HttpRequest) -> Presented {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("no app state".into()));
    (presented_token(req), state, request_id(req))
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
    Ok(Session {
        username: u.username,
        role,
        warehouse: u.warehouse_code,
        token_hash: s.token_hash,
        request_id: rid,
    })
}

/// Floor sessions this node has seen, by token hash: user name and warehouse. Only ever a
/// claim: see [`FloorCaller`]. Bounded (cleared when full) and forgotten at sign-out here.
#[derive(Default)]
pub struct KnownFloor {
    map: Mutex<HashMap<String, (String, Option<String>)>>,
}

/// Sessions remembered at most (about 100 bytes each).
const KNOWN_FLOOR_MAX: usize = 10_000;

impl KnownFloor {
    fn get(&self, hash: &str) -> Option<(String, Option<String>)> {
        self.map.lock().ok()?.get(hash).cloned()
    }

    fn remember(&self, s: &Session) {
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= KNOWN_FLOOR_MAX {
                m.clear();
            }
            m.insert(
                s.token_hash.clone(),
                (s.username.clone(), s.warehouse.clone()),
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
/// path. On SQLite a floor session this node has seen before is taken as a claim and
/// confirmed inside the step's own write transaction ([`FloorCaller::confirm`]: the same
/// look-up as [`Session`], on the writer's connection, with role and warehouse taken from
/// the database), instead of a round trip through the read pool first. A session ended on
/// any node, an expired one, a deactivated user or a changed role is refused there, before
/// the step runs. On PostgreSQL the writer holds the cluster-wide write lock, so the session
/// is read through the pool beforehand, as for every other request.
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
        conn: &mut crate::db::DbConn,
        claim: Option<&str>,
        actor: Actor,
        now: chrono::NaiveDateTime,
    ) -> Result<Actor, AppError> {
        let Some(hash) = claim else { return Ok(actor) };
        let (s, u) = user_store::session_user(conn, hash, now)?.ok_or_else(ended)?;
        let session = session_of(s, u, actor.request_id.unwrap_or_default())?;
        session.require(&[Role::Floor])?;
        Ok(session.actor())
    }
}

impl FromRequest for FloorCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let (token, state, rid) = presented(req);
        Box::pin(async move {
            let state = state?;
            let hash = token_hash_of(token)?;
            let known = (state.backend == "sqlite")
                .then(|| state.known_floor.get(&hash))
                .flatten();
            if let Some((username, warehouse)) = known {
                return Ok(Self::Claimed(Session {
                    username,
                    role: Role::Floor,
                    warehouse,
                    token_hash: hash,
                    request_id: rid,
                }));
            }
            let s = look_up(&state, &hash, rid).await?;
            if s.role == Role::Floor {
                state.known_floor.remember(&s);
            }
            Ok(Self::Confirmed(s))
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub warehouse: Option<String>,
}

/// Signs in: 200 and the session cookie; 401 on bad credentials; 429 after repeated failures.
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
    let now = Utc::now().naive_utc();
    let name = username.clone();
    let (locked, user) = db::read(&state.pool, move |c| {
        Ok((
            user_flow::locked(c, &name, now)?,
            user_store::user(c, &name)?,
        ))
    })
    .await?;
    if locked {
        return Err(user_flow::locked_out());
    }
    // Counted before the (slow) password check, in the shared write path, so that parallel
    // guesses cannot all pass the check above before the first failure is recorded.
    let name = username.clone();
    state
        .writer
        .write(move |tx| user_flow::begin_attempt(tx, &name))
        .await?;
    let password = input.password;
    let user_for_check = user.clone();
    let ok = off_thread(move || match &user_for_check {
        Some(u) if u.active => user_flow::verify_password(&password, &u.password_hash),
        _ => {
            user_flow::verify_password(&password, user_flow::dummy_hash());
            false
        }
    })
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(AppError::Unauthenticated(
            "wrong user name or password".into(),
        ));
    };
    let ttl = state.config.session_hours;
    let u = user.clone();
    let token = state
        .writer
        .write(move |tx| user_flow::open_session(tx, &u, "cookie", Duration::hours(ttl)))
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

/// Signs out: the session is deleted on the server and the cookie cleared.
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Issues a bearer token for scripts, valid for the configured number of days.
/// (Not idempotent by key: a token is never stored in clear, not even as a replayable answer.)
#[utoipa::path(post, path = "/api/v1/tokens", responses((status = 201, body = TokenOut), (status = 401)))]
pub async fn create_token(
    state: web::Data<AppState>,
    s: Session,
) -> Result<HttpResponse, AppError> {
    let days = state.config.token_days;
    let name = s.username.clone();
    let out = state
        .writer
        .write(move |tx| {
            let user = user_store::user(tx.conn, &name)?
                .ok_or_else(|| AppError::Unauthenticated(String::new()))?;
            let token = user_flow::open_session(tx, &user, "token", Duration::days(days))?;
            Ok(TokenOut {
                token,
                expires_at: (tx.now + Duration::days(days)).and_utc(),
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

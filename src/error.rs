//! The one error type of the service, and its policy.
//!
//! Policy:
//! - Everything a client can cause is a 4xx with a stable machine `code` and a plain
//!   `detail` saying what to do: `validation` (400, with `errors: [{field, message}]`),
//!   `unauthenticated` (401), `forbidden`, `enterprise_excluded` and `cross_site_request`
//!   (403: a state change sent with the session cookie from another site), `not_found` (404),
//!   `conflict`, `invalid_state`, `idempotency_in_progress` (409), `payload_too_large` (413),
//!   `unsupported_media_type` (415), `deadline_passed`, `quantity_exceeds`,
//!   `idempotency_mismatch` (422), `rate_limited` (429).
//! - Infrastructure trouble is `unavailable` (503, retryable: a full write queue, a failed
//!   commit, a busy or unreachable database) or `internal` (500). Their cause is logged in
//!   full on the server; the client sees only a bare sentence, never SQL or paths.
//! - A storage-level unique violation means two requests raced for the same thing: `conflict`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::credit::CreditRating;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    /// What is wrong, in English (for a script's log; screens use `rule`).
    pub message: String,
    /// The rule the value broke, for a screen to say it in its reader's language: `required`,
    /// `too_long` (with `max`), `code` (letters, digits, `-`, `_`, with `max`),
    /// `enterprise_code`, `invt_no`, `gcode`, `waybill`, `one_of` (with `allowed`),
    /// `control_characters`, `unknown` (a reference to something that does not exist),
    /// `printer_address` (not a `host:port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// With `too_long` and `code`: the most characters allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
    /// With `one_of`: the values allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            rule: None,
            max: None,
            allowed: None,
        }
    }

    /// This error with the rule it broke (and its limit).
    pub fn rule(mut self, rule: &'static str, max: Option<usize>) -> Self {
        self.rule = Some(rule);
        self.max = max;
        self
    }

    /// A value outside `allowed`.
    pub fn one_of(field: impl Into<String>, allowed: &[&str]) -> Self {
        let mut e = Self::new(field, format!("use one of {}", allowed.join(", ")));
        e.rule = Some("one_of");
        e.allowed = Some(allowed.iter().map(|a| a.to_string()).collect());
        e
    }
}

/// Which party an `enterprise_excluded` refusal names, and the rating that excludes it. Sent as
/// the problem's `excluded` member, so that a screen can say it in its reader's language; its
/// English sentence is the problem's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Exclusion {
    /// `ecommerce` (the return's e-commerce enterprise), `agent` (its declaring agent) or
    /// `operator` (a warehouse operator).
    pub party: Party,
    pub code: String,
    pub name: String,
    /// The rating in force at the time of the refused action.
    pub rating: CreditRating,
    /// The day that rating took effect.
    pub since: chrono::NaiveDate,
    /// The document the rating rests on.
    pub reference: String,
    /// The warehouse that cannot operate because of its operator's rating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    /// The refusal put the return on customs hold (it was already in the warehouse).
    pub held: bool,
}

/// The role of an excluded party. Described as `ExcludedParty`: `Party` is the `{code, name}`
/// of a return's parties (`flows::returns::view::Party`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ExcludedParty)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Ecommerce,
    Agent,
    Operator,
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rated = format!(
            "is rated {} ({}) since {} (reference {})",
            self.rating.as_str(),
            self.rating.chinese(),
            self.since.format("%Y-%m-%d"),
            self.reference
        );
        let (name, code) = (&self.name, &self.code);
        match (&self.warehouse, self.party) {
            (Some(w), _) => write!(
                f,
                "warehouse {w} cannot operate: its operator {name} ({code}) {rated}"
            )?,
            (None, party) => {
                let role = match party {
                    Party::Ecommerce => "e-commerce enterprise",
                    Party::Agent => "declaring agent",
                    Party::Operator => "warehouse operator",
                };
                write!(
                    f,
                    "the {role} {name} ({code}) {rated}: excluded from the return flow"
                )?
            }
        }
        if self.held {
            write!(f, ". The return has been put on customs hold: place it in the hold area and notify a supervisor")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    #[error("sign in first")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    EnterpriseExcluded(Box<Exclusion>),
    /// A cookie-authenticated state change that a browser says came from another site.
    #[error("{0}")]
    CrossSite(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Something with this id exists already (a `conflict` that says what exists).
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: &'static str, id: String },
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    DeadlinePassed(String),
    #[error("{0}")]
    QuantityExceeds(String),
    #[error("the same Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyInProgress,
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A floor step in an area of a warehouse that no camera covers.
    #[error("no camera covers the {area} area of warehouse {warehouse}: an admin must register one before work is done there")]
    NoCameraCoverage { warehouse: String, area: String },
    /// Retryable infrastructure trouble; the text is logged, not shown.
    #[error("service temporarily unavailable: {0}")]
    Unavailable(String),
    /// A bug or unexpected failure; the text is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// Start-up and command-line failures (never sent over HTTP).
    #[error("{0}")]
    Startup(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A validation error that names the rule the value broke (see [`FieldError::rule`]).
    pub fn broke(
        field: impl Into<String>,
        message: impl Into<String>,
        rule: &'static str,
        max: Option<usize>,
    ) -> Self {
        Self::Validation(vec![FieldError::new(field, message).rule(rule, max)])
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::EnterpriseExcluded(_) => "enterprise_excluded",
            Self::CrossSite(_) => "cross_site_request",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) | Self::AlreadyExists { .. } => "conflict",
            Self::InvalidState(_) => "invalid_state",
            Self::DeadlinePassed(_) => "deadline_passed",
            Self::QuantityExceeds(_) => "quantity_exceeds",
            Self::IdempotencyMismatch => "idempotency_mismatch",
            Self::IdempotencyInProgress => "idempotency_in_progress",
            Self::RateLimited(_) => "rate_limited",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::NoCameraCoverage { .. } => "no_camera_coverage",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) | Self::Startup(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "Invalid request",
            Self::Unauthenticated(_) => "Not signed in",
            Self::Forbidden(_) => "Not allowed",
            Self::EnterpriseExcluded(_) => "Enterprise excluded (dishonest credit rating)",
            Self::CrossSite(_) => "Cross-site request refused",
            Self::NotFound(_) => "Not found",
            Self::Conflict(_) | Self::AlreadyExists { .. } => "Conflict",
            Self::InvalidState(_) => "Not possible in the current state",
            Self::DeadlinePassed(_) => "Deadline passed",
            Self::QuantityExceeds(_) => "Quantity exceeds what is allowed",
            Self::IdempotencyMismatch => "Idempotency key reused",
            Self::IdempotencyInProgress => "Request in progress",
            Self::RateLimited(_) => "Too many attempts",
            Self::PayloadTooLarge(_) => "Request too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::MethodNotAllowed(_) => "Method not allowed",
            Self::NoCameraCoverage { .. } => "No camera covers this area",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) | Self::Startup(_) => "Internal error",
        }
    }

    /// The problem+json body of this error.
    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:bonded-returns:problem:{}", self.code()),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail: self.public_detail(),
            code: self.code().into(),
            errors: match self {
                Self::Validation(errs) => Some(errs.clone()),
                _ => None,
            },
            excluded: match self {
                Self::EnterpriseExcluded(x) => Some((**x).clone()),
                _ => None,
            },
            area: match self {
                Self::NoCameraCoverage { area, .. } => Some(area.clone()),
                _ => None,
            },
            exists: match self {
                Self::AlreadyExists { kind, id } => Some(Exists {
                    kind: (*kind).to_string(),
                    id: id.clone(),
                }),
                _ => None,
            },
        }
    }

    /// What the client may read; infrastructure details stay in the log.
    fn public_detail(&self) -> String {
        match self {
            Self::Validation(errs) => errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            Self::Unauthenticated(m) if m.is_empty() => "Sign in first.".into(),
            Self::Unavailable(_) => {
                "The service is busy or its database is unavailable; retry shortly.".into()
            }
            Self::Internal(_) | Self::Startup(_) => {
                "Something went wrong on the server; it has been logged.".into()
            }
            other => other.to_string(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// With `enterprise_excluded`: which party, and the rating that excludes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<Exclusion>,
    /// With `no_camera_coverage`: the area of the warehouse that no camera covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// With a `conflict` over an id in use: what exists already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exists: Option<Exists>,
}

/// What exists already: its kind (`enterprise`, `warehouse`, `bin`, `camera`, `printer`, `user`)
/// and id.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Exists {
    pub kind: String,
    pub id: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::EnterpriseExcluded(_) | Self::CrossSite(_) => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_)
            | Self::AlreadyExists { .. }
            | Self::InvalidState(_)
            | Self::IdempotencyInProgress
            | Self::NoCameraCoverage { .. } => StatusCode::CONFLICT,
            Self::DeadlinePassed(_) | Self::QuantityExceeds(_) | Self::IdempotencyMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) | Self::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        }
        let problem = self.problem();
        let mut resp = HttpResponse::build(status);
        resp.content_type("application/problem+json");
        if matches!(self, Self::Unavailable(_) | Self::RateLimited(_)) {
            resp.insert_header(("Retry-After", "1"));
        }
        resp.json(problem)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            E::NotFound => Self::NotFound("not found".into()),
            E::DatabaseError(K::UniqueViolation, _) => {
                Self::Conflict("this already exists (or another request just created it)".into())
            }
            E::DatabaseError(K::CheckViolation, info) => {
                // The constraint's text names tables and columns: it is logged, not sent.
                tracing::warn!(
                    constraint = info.message(),
                    "a storage rule refused a write"
                );
                Self::Conflict(
                    "refused by a storage rule (a value outside what can be stored)".into(),
                )
            }
            E::DatabaseError(K::ForeignKeyViolation, _) => {
                Self::Conflict("refers to something that does not exist".into())
            }
            E::DatabaseError(K::ClosedConnection | K::SerializationFailure, _) => {
                Self::Unavailable(e.to_string())
            }
            E::DatabaseError(_, info)
                if info.message().contains("locked") || info.message().contains("busy") =>
            {
                Self::Unavailable(e.to_string())
            }
            // PostgreSQL refuses NUL in text; it can only have come from the client (a path,
            // query or field not checked for control characters), so it is the client's mistake.
            E::DatabaseError(_, info)
                if info
                    .message()
                    .starts_with("invalid byte sequence for encoding") =>
            {
                Self::validation("request", "text must not contain NUL characters")
            }
            _ => Self::Internal(e.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("database pool: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

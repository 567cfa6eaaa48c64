//! The OpenAPI description, generated from the handlers' annotations so it cannot drift.
//!
//! How an operation declares what it can answer (`tests/api/conformance.rs` checks every answer
//! of the API tests against this document: a status left out fails them):
//! - Its `#[utoipa::path]` lists its successes, with their bodies, and the refusals that come
//!   from what it does: 403 for a role, a warehouse or an excluded enterprise it refuses; 404;
//!   409 and 422 from its flow; 429 from a throttle; 400 for a check of its own when it has no
//!   parameter and no body. A refusal needs only a description, e.g.
//!   `(status = 404, description = "no such return")`: [`Statuses`] gives every status from 400
//!   up its `application/problem+json` body (`Problem`, narrowed to that status and its codes).
//! - [`Statuses`] adds what any request of an operation's kind can get, so that no handler
//!   repeats it:
//!   - under `/api/v1`: 500 `internal` and 503 `unavailable`;
//!   - unless in [`PUBLIC`]: 401 `unauthenticated`, and the session cookie or bearer token as
//!     its security requirement;
//!   - a path or query parameter, or a body: 400 `validation`;
//!   - a body: 413 `payload_too_large` and 415 `unsupported_media_type`;
//!   - every method but GET: 403 `cross_site_request` and 415 (a form body; `http::same_origin`);
//!   - unless in [`PUBLIC`], what a token of the customs scope may not do (`Scope::allows`):
//!     403 `forbidden`;
//!   - every method but GET under `/api/v1`, unless in [`UNKEYED`]: the `Idempotency-Key` header,
//!     with 400 for a malformed key, 409 `idempotency_in_progress` and 422 `idempotency_mismatch`.
//! - 404 for a path that has no route and 405 for a method its path does not have are answered
//!   outside any operation (`http::no_route`); the 405 names the methods described here.
//! - A new error status or `code` goes into [`CODES`], which narrows each refusal's body.
//!
//! Inputs carry the constraints the server enforces (`#[schema(max_length = …, pattern = …)]`
//! on their fields, enumerations through `schema_with`), as the server reads them after
//! trimming surrounding spaces.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};

use super::{admin, audit, auth, feed, folders, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bonded-returns",
        description = "Bonded return center warehouse (跨境电商零售进口退货中心仓) API. Every refusal is `application/problem+json` with a stable `code`; a path no operation has is answered 404 `not_found`, and a method its path does not have 405 `method_not_allowed` with the path's methods in `Allow`."
    ),
    paths(
        spec,
        health::healthz,
        auth::sign_in,
        auth::sign_out,
        auth::me,
        auth::create_token,
        auth::list_tokens,
        auth::revoke_token,
        auth::list_throttles,
        auth::clear_throttle,
        admin::list_enterprises,
        admin::create_enterprise,
        admin::get_enterprise,
        admin::list_ratings,
        admin::rate,
        admin::list_warehouses,
        admin::create_warehouse,
        admin::get_warehouse,
        admin::list_bins,
        admin::create_bin,
        admin::list_cameras,
        admin::create_camera,
        admin::list_users,
        admin::create_user,
        admin::change_user,
        audit::list,
        audit::verify,
        audit::head,
        audit::key,
        feed::feed,
        feed::status,
        folders::status,
        audit::export_csv,
        audit::export_xlsx,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::domain::returns::State
    ))
)]
pub struct ApiDoc;

/// The description: the handlers' annotations, merged with the return-flow routes' own part,
/// with what every operation of a kind can answer added ([`Statuses`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::flow_api());
    Statuses.modify(&mut doc);
    doc
}

/// The description as served (built once).
fn served() -> &'static str {
    static SERVED: OnceLock<String> = OnceLock::new();
    SERVED.get_or_init(|| serde_json::to_string(&document()).unwrap_or_default())
}

/// This OpenAPI 3.1 description of the API.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    responses((status = 200, description = "this description", body = Object))
)]
pub async fn spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(served())
}

/// The methods the description has for the route `template` (e.g. `GET, POST`), for the
/// `Allow` header of a 405.
pub fn allowed_methods(template: &str) -> Option<&'static str> {
    static ALLOWED: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    ALLOWED
        .get_or_init(|| {
            document()
                .paths
                .paths
                .into_iter()
                .map(|(path, mut item)| {
                    let methods: Vec<&str> = operations(&mut item)
                        .into_iter()
                        .map(|(m, _)| m.as_str())
                        .collect();
                    (path, methods.join(", "))
                })
                .collect()
        })
        .get(template)
        .map(String::as_str)
}

/// Operations answered without a session.
pub const PUBLIC: &[(Method, &str)] = &[
    (Method::Get, "/healthz"),
    (Method::Get, "/api/openapi.json"),
    (Method::Post, "/api/v1/session"),
];

/// Changes under `/api/v1` that do not go through `http::mutate` and so do not honour an
/// `Idempotency-Key`: signing in and out, and making a token (a token is never stored in
/// clear, not even as an answer to replay).
pub const UNKEYED: &[(Method, &str)] = &[
    (Method::Post, "/api/v1/session"),
    (Method::Delete, "/api/v1/session"),
    (Method::Post, "/api/v1/tokens"),
];

/// The problem `code`s each refusal status carries (`AppError::code` and `status_code`).
pub const CODES: &[(u16, &[&str])] = &[
    (400, &["validation"]),
    (401, &["unauthenticated"]),
    (
        403,
        &["forbidden", "enterprise_excluded", "cross_site_request"],
    ),
    (404, &["not_found"]),
    (405, &["method_not_allowed"]),
    (
        409,
        &[
            "conflict",
            "invalid_state",
            "idempotency_in_progress",
            "no_camera_coverage",
        ],
    ),
    (413, &["payload_too_large"]),
    (415, &["unsupported_media_type"]),
    (
        422,
        &[
            "deadline_passed",
            "quantity_exceeds",
            "idempotency_mismatch",
        ],
    ),
    (429, &["rate_limited"]),
    (500, &["internal"]),
    (503, &["unavailable"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Trace,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
            Self::Trace => "TRACE",
        }
    }
}

/// The operations of a path, by method.
fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::Get, &mut item.get),
        (Method::Post, &mut item.post),
        (Method::Put, &mut item.put),
        (Method::Patch, &mut item.patch),
        (Method::Delete, &mut item.delete),
        (Method::Head, &mut item.head),
        (Method::Options, &mut item.options),
        (Method::Trace, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
    .collect()
}

/// Adds to every operation what any request of its kind can be answered (see the module's
/// documentation), and gives every refusal its problem+json body.
pub struct Statuses;

const SESSION: &str = "session";
const BEARER: &str = "bearer";

impl Modify for Statuses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::auth::COOKIE,
                "the HttpOnly session cookie set by POST /api/v1/session",
            ))),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        for (status, codes) in CODES {
            components.schemas.insert(
                problem_schema_name(*status),
                narrowed_problem(*status, codes),
            );
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                add_generic(method, path, op);
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (Ok(status), RefOr::T(response)) = (status.parse::<u16>(), response) {
                        if status >= 400 {
                            as_problem(status, response);
                        }
                    }
                }
            }
        }
    }
}

fn add_generic(method: Method, path: &str, op: &mut Operation) {
    let api = path.starts_with("/api/v1/");
    let public = PUBLIC.contains(&(method, path));
    let params = op
        .parameters
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
    let body = op.request_body.is_some();
    let change = method != Method::Get;
    let keyed = change && api && !UNKEYED.contains(&(method, path));
    let mut add = |status: u16, why: &str| {
        let key = status.to_string();
        match op.responses.responses.get_mut(&key) {
            Some(RefOr::T(r)) if r.description.is_empty() => r.description = why.to_string(),
            Some(RefOr::T(r)) => {
                if !r.description.contains(why) {
                    r.description = format!("{}; or {why}", r.description);
                }
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                op.responses.responses.insert(
                    key,
                    RefOr::T(ResponseBuilder::new().description(why).build()),
                );
            }
        }
    };
    if params || body || keyed {
        add(
            400,
            "a parameter, header or the body is not valid (`validation`, with `errors`)",
        );
    }
    if !public {
        add(
            401,
            "not signed in, or the session or token has ended (`unauthenticated`)",
        );
    }
    if change {
        add(
            403,
            "a change sent with the session cookie from another site (`cross_site_request`)",
        );
    }
    // A token of the customs scope is refused everything its scope does not allow.
    if !public && !crate::domain::roles::Scope::Customs.allows(method.as_str(), path) {
        add(403, "the token's scope does not allow this (`forbidden`)");
    }
    if keyed {
        add(
            409,
            "a request with this Idempotency-Key is still running (`idempotency_in_progress`)",
        );
    }
    if body {
        add(413, "the body is too large (`payload_too_large`)");
    }
    if body || change {
        add(
            415,
            "the body is not of a type this operation takes (`unsupported_media_type`)",
        );
    }
    if keyed {
        add(
            422,
            "this Idempotency-Key was used with another request (`idempotency_mismatch`)",
        );
    }
    if api {
        add(
            500,
            "something went wrong on the server (`internal`); it has been logged",
        );
        add(503, "the service is busy or its database does not answer (`unavailable`); retry after `Retry-After` seconds");
    }
    if !public {
        op.security = Some(vec![
            SecurityRequirement::new::<_, [&str; 0], &str>(SESSION, []),
            SecurityRequirement::new::<_, [&str; 0], &str>(BEARER, []),
        ]);
    }
    if keyed {
        op.parameters
            .get_or_insert_with(Vec::new)
            .push(idempotency_key());
    }
}

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The same key with the same request answers as the first time and changes nothing again; with another request it is refused (422).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200))
                .pattern(Some("^[!-~]+$")),
        ))
        .build()
}

pub fn problem_schema_name(status: u16) -> String {
    format!("Problem{status}")
}

/// `Problem` with its `status` and `code` as a refusal with `status` has them.
fn narrowed_problem(status: u16, codes: &[&str]) -> RefOr<Schema> {
    let all_of = AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(
            ObjectBuilder::new()
                .property(
                    "status",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .enum_values(Some([status])),
                )
                .property(
                    "code",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(codes.iter().copied())),
                ),
        )
        .build();
    RefOr::T(Schema::AllOf(all_of))
}

/// A refusal's body: problem+json, narrowed to its status when the status is one of [`CODES`].
fn as_problem(status: u16, response: &mut Response) {
    let schema = if CODES.iter().any(|(s, _)| *s == status) {
        problem_schema_name(status)
    } else {
        "Problem".to_string()
    };
    response.content.clear();
    response.content.insert(
        "application/problem+json".into(),
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build(),
    );
    if status == 429 || status == 503 {
        response.headers.insert(
            "Retry-After".into(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("seconds to wait before trying again"))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    /// Every schema the description refers to is in it (a type added to an answer or to the
    /// problem body must be registered, or clients generated from the spec break).
    #[test]
    fn every_schema_reference_resolves() {
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = serde_json::to_value(super::document()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        let schemas = &doc["components"]["schemas"];
        let missing: Vec<&String> = found
            .iter()
            .filter(|r| {
                let name = r.trim_start_matches("#/components/schemas/");
                schemas.get(name).is_none()
            })
            .collect();
        assert!(!found.is_empty());
        assert!(missing.is_empty(), "unresolved references: {missing:?}");
        for name in [
            "Problem",
            "Exclusion",
            "ExcludedParty",
            "Party",
            "CreditRating",
        ] {
            assert!(schemas.get(name).is_some(), "{name} is not described");
        }
    }

    /// Two types of one name would be one schema: the last registered overwrote the other
    /// (the error enum `Party` once replaced the `{code, name}` of a return's parties).
    #[test]
    fn a_party_of_a_return_and_an_excluded_party_are_two_schemas() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Party"]["type"], "object", "{}", schemas["Party"]);
        assert_eq!(
            schemas["Party"]["required"],
            serde_json::json!(["code", "name"])
        );
        assert_eq!(schemas["ExcludedParty"]["type"], "string");
        assert_eq!(
            schemas["Exclusion"]["properties"]["party"]["$ref"],
            "#/components/schemas/ExcludedParty"
        );
        for (view, member) in [
            ("ReturnView", "ebc"),
            ("ReturnView", "logistics"),
            ("DeclarationView", "agent"),
            ("Summary", "ebc"),
        ] {
            assert_eq!(
                schemas[view]["properties"][member]["$ref"], "#/components/schemas/Party",
                "{view}.{member}"
            );
        }
    }

    /// The status and code of every refusal are among those [`super::CODES`] publishes.
    #[test]
    fn every_error_has_its_status_and_code_in_the_table() {
        use crate::error::{AppError, Exclusion, Party};
        use actix_web::ResponseError;
        let exclusion = Exclusion {
            party: Party::Agent,
            code: "3301960001".into(),
            name: "n".into(),
            rating: crate::domain::credit::CreditRating::Dishonest,
            since: chrono::NaiveDate::default(),
            reference: "r".into(),
            warehouse: None,
            held: false,
        };
        let s = String::new;
        let all = [
            AppError::Validation(vec![]),
            AppError::Unauthenticated(s()),
            AppError::Forbidden(s()),
            AppError::EnterpriseExcluded(Box::new(exclusion)),
            AppError::CrossSite(s()),
            AppError::NotFound(s()),
            AppError::Conflict(s()),
            AppError::InvalidState(s()),
            AppError::DeadlinePassed(s()),
            AppError::QuantityExceeds(s()),
            AppError::IdempotencyMismatch,
            AppError::IdempotencyInProgress,
            AppError::RateLimited(s()),
            AppError::PayloadTooLarge(s()),
            AppError::UnsupportedMediaType(s()),
            AppError::MethodNotAllowed(s()),
            AppError::Unavailable(s()),
            AppError::Internal(s()),
            AppError::Startup(s()),
        ];
        for e in all {
            let status = e.status_code().as_u16();
            let codes = super::CODES
                .iter()
                .find(|(s, _)| *s == status)
                .map(|(_, c)| *c)
                .unwrap_or_else(|| panic!("status {status} of {e:?} is not in CODES"));
            assert!(
                codes.contains(&e.code()),
                "{} is not among the codes of {status}",
                e.code()
            );
        }
    }

    /// Every `{name}` of a route is a path parameter of its operations, and every path
    /// parameter is in the route (a query struct without `parameter_in = Query` was once
    /// described as path parameters).
    #[test]
    fn path_parameters_are_the_routes_placeholders() {
        let doc = serde_json::to_value(super::document()).unwrap();
        for (template, ops) in doc["paths"].as_object().unwrap() {
            let mut holes: Vec<&str> = template
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            holes.sort_unstable();
            for (method, op) in ops.as_object().unwrap() {
                let mut named: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .filter_map(|p| p["name"].as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                named.sort_unstable();
                assert_eq!(holes, named, "{method} {template}");
            }
        }
    }

    /// Every refusal an operation describes has a problem+json body, and what any request of
    /// its kind can get is there.
    #[test]
    fn every_operation_describes_the_refusals_of_its_kind() {
        let doc = serde_json::to_value(super::document()).unwrap();
        for (template, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                for (status, r) in responses {
                    if status.as_str() >= "400" {
                        assert!(
                            r["content"]["application/problem+json"]["schema"]["$ref"]
                                .as_str()
                                .is_some_and(|s| s.starts_with("#/components/schemas/Problem")),
                            "{method} {template} {status}: {r}"
                        );
                    }
                }
                if template.starts_with("/api/v1/") {
                    for status in ["500", "503"] {
                        assert!(
                            responses.contains_key(status),
                            "{method} {template} {status}"
                        );
                    }
                }
                if method != "get" {
                    for status in ["403", "415"] {
                        assert!(
                            responses.contains_key(status),
                            "{method} {template} {status}"
                        );
                    }
                }
            }
        }
    }
}

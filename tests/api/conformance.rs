//! Every answer of the API tests checked against the OpenAPI description the server publishes
//! (`bonded_returns::http::openapi::document()`, built once per test binary): the operation is
//! found from the method and the path (matched against the description's path templates), its
//! status must be described, its content type one the status describes, and a JSON body valid
//! against that status's schema (JSON Schema 2020-12, `$ref`s into the components resolved).
//! A path no operation has must be answered with a problem+json 404, and a method its path
//! does not have with a 405. Other bodies (CSV, XML, SVG, PNG, ZPL) are checked for their
//! status and content type only. Paths outside the API (the UI's pages) are not described.
//!
//! `TestApp::send` calls [`check`] for every answer, and the hostile suite calls [`verdict`]
//! for its raw ones; a mismatch fails the test that met it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

/// One answer to check.
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The request target's path (a query after `?` is ignored), as sent.
    pub target: &'a str,
    pub status: u16,
    /// The answer's `Content-Type` ("" when there is none).
    pub content_type: &'a str,
    pub body: &'a [u8],
}

/// Panics, saying what does not match, unless `x` is an answer the description allows.
#[track_caller]
pub fn check(x: &Exchange<'_>) {
    if let Err(why) = verdict(x) {
        panic!("the answer does not match the OpenAPI description: {why}");
    }
}

/// Whether `x` is an answer the description allows; why not, when it is not.
pub fn verdict(x: &Exchange<'_>) -> Result<(), String> {
    let path = x.target.split(['?', '#']).next().unwrap_or("");
    let Some(segments) = segments(path) else {
        // Not a path this API can have: not ours to judge (the server's normalising of such
        // targets is tested elsewhere).
        return Ok(());
    };
    let api = segments.first().is_some_and(|s| s == "api") || segments == ["healthz"];
    if !api {
        return Ok(());
    }
    let spec = Spec::get();
    let head = x.method == "HEAD";
    let seen = || {
        format!(
            "{} {} answered {} {:?}: {}",
            x.method,
            x.target,
            x.status,
            x.content_type,
            clip(x.body)
        )
    };
    let Some(template) = spec.route(&segments) else {
        return refusal(x, 404, head).map_err(|why| {
            format!(
                "no operation has this path, so 404 was due: {why}; {}",
                seen()
            )
        });
    };
    // Methods are case-sensitive: `get` is not GET (and no operation of the description).
    let method = match x.method {
        "GET" | "PUT" | "POST" | "DELETE" | "OPTIONS" | "HEAD" | "PATCH" | "TRACE" => {
            x.method.to_ascii_lowercase()
        }
        _ => String::new(),
    };
    let Some(op) = spec.doc["paths"][template].get(&method) else {
        return refusal(x, 405, head).map_err(|why| {
            format!(
                "{template} has no {method} operation, so 405 was due: {why}; {}",
                seen()
            )
        });
    };
    let operation = format!("{} {template}", x.method);
    let responses = &op["responses"];
    let status = x.status.to_string();
    let range = format!("{}XX", x.status / 100);
    let Some(response) = [status.as_str(), range.as_str(), "default"]
        .iter()
        .find_map(|s| responses.get(*s))
    else {
        let described: Vec<&String> = responses
            .as_object()
            .map(|r| r.keys().collect())
            .unwrap_or_default();
        return Err(format!(
            "{operation}: status {} is not described (described: {described:?}); {}",
            x.status,
            seen()
        ));
    };
    let content = response["content"].as_object();
    if head {
        return Ok(());
    }
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        if x.body.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "{operation} {status}: described without a body, but one came; {}",
            seen()
        ));
    };
    let answered = essence(x.content_type);
    let Some((media, described)) = content.iter().find(|(m, _)| essence(m) == answered) else {
        let media: Vec<&String> = content.keys().collect();
        return Err(format!(
            "{operation} {status}: content type {:?} is not described (described: {media:?}); {}",
            x.content_type,
            seen()
        ));
    };
    if !is_json(media) {
        return Ok(());
    }
    let body: Value = serde_json::from_slice(x.body).map_err(|e| {
        format!(
            "{operation} {status}: the {media} body is not JSON ({e}); {}",
            seen()
        )
    })?;
    let Some(schema) = described.get("schema") else {
        return Ok(());
    };
    let errors = spec.validate(schema, &body);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{operation} {status}: the body is not valid against {}:\n    - {}\n  {}",
            schema_name(schema),
            errors.join("\n    - "),
            seen()
        ))
    }
}

/// A refusal outside any operation: problem+json with this status and a `Problem` body.
fn refusal(x: &Exchange<'_>, status: u16, head: bool) -> Result<(), String> {
    if x.status != status {
        return Err(format!("got {}", x.status));
    }
    if essence(x.content_type) != "application/problem+json" {
        return Err(format!("content type {:?}", x.content_type));
    }
    if head {
        return Ok(());
    }
    let body: Value = serde_json::from_slice(x.body).map_err(|e| format!("not JSON: {e}"))?;
    let schema = json!({"$ref": format!("#/components/schemas/Problem{status}")});
    let errors = Spec::get().validate(&schema, &body);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("not a Problem{status}: {}", errors.join("; ")))
    }
}

/// The description, its routes, and the validators compiled from it so far.
struct Spec {
    doc: Value,
    /// Every path template, split into segments (`None` for a `{placeholder}`).
    routes: Vec<(String, Vec<Option<String>>)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Spec {
    fn get() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let doc = serde_json::to_value(bonded_returns::http::openapi::document())
                .expect("the OpenAPI description serialises");
            let routes = doc["paths"]
                .as_object()
                .expect("paths in the description")
                .keys()
                .map(|t| {
                    let parts = t
                        .trim_start_matches('/')
                        .split('/')
                        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                        .collect();
                    (t.clone(), parts)
                })
                .collect();
            Spec {
                doc,
                routes,
                validators: Mutex::new(HashMap::new()),
            }
        })
    }

    /// The template `segments` match; one with more fixed segments wins (`/a/b` before `/a/{x}`).
    fn route(&self, segments: &[String]) -> Option<&str> {
        self.routes
            .iter()
            .filter(|(_, parts)| {
                parts.len() == segments.len()
                    && parts.iter().zip(segments).all(|(p, s)| match p {
                        Some(fixed) => fixed == s,
                        None => !s.is_empty(),
                    })
            })
            .max_by_key(|(_, parts)| parts.iter().filter(|p| p.is_some()).count())
            .map(|(t, _)| t.as_str())
    }

    /// Why `instance` is not valid against `schema` (a schema of the description); nothing
    /// when it is. Each schema is compiled once, with the description's components.
    fn validate(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let key = schema.to_string();
        let cached = self
            .validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let validator = match cached {
            Some(v) => v,
            None => {
                let v = Arc::new(compile(&self.doc, schema));
                self.validators
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, v.clone());
                v
            }
        };
        validator
            .iter_errors(instance)
            .take(8)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{} {e}", if at.is_empty() { "(body)" } else { at.as_str() })
            })
            .collect()
    }
}

/// `schema` as a document of its own that carries the description's components, so that its
/// `#/components/schemas/…` references resolve.
fn compile(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
    });
    if let (Some(root), Some(s)) = (root.as_object_mut(), schema.as_object()) {
        for (k, v) in s {
            root.insert(k.clone(), v.clone());
        }
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the description's schema {schema} does not compile: {e}"))
}

/// The path's segments as the router reads them: percent-escapes decoded (but `%2F`, `%25`
/// and `%2B`, which the router keeps), `.` and `..` resolved, empty segments dropped but a
/// trailing one. `None` for a target that is not an absolute path or not UTF-8 once decoded.
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('/')?;
    let mut out: Vec<String> = Vec::new();
    let raw: Vec<&str> = rest.split('/').collect();
    let last = raw.len() - 1;
    for (i, s) in raw.iter().enumerate() {
        let s = decode(s)?;
        match s.as_str() {
            "." => {}
            ".." => {
                out.pop();
            }
            "" if i == last && !out.is_empty() => out.push(s),
            "" => {}
            _ => out.push(s),
        }
    }
    Some(out)
}

fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(c) if !matches!(c, b'/' | b'%' | b'+') => {
                out.push(c);
                i += 3;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media: &str) -> bool {
    let m = essence(media);
    m == "application/json" || m.ends_with("+json")
}

fn schema_name(schema: &Value) -> String {
    schema["$ref"]
        .as_str()
        .map(|r| r.trim_start_matches("#/components/schemas/").to_string())
        .unwrap_or_else(|| clip(schema.to_string().as_bytes()))
}

fn clip(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut clipped: String = text.chars().take(300).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

// The checker itself: it must catch what it is there for.

fn ok(
    method: &str,
    target: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> Result<(), String> {
    verdict(&Exchange {
        method,
        target,
        status,
        content_type,
        body: body.as_bytes(),
    })
}

const PROBLEM: &str = "application/problem+json";

fn problem(status: u16, code: &str) -> String {
    json!({
        "type": format!("urn:bonded-returns:problem:{code}"),
        "title": "t",
        "status": status,
        "detail": "d",
        "code": code,
    })
    .to_string()
}

#[test]
fn the_checker_takes_answers_the_description_allows() {
    ok(
        "GET",
        "/healthz",
        200,
        "application/json",
        r#"{"status":"ok","database":"sqlite"}"#,
    )
    .unwrap();
    ok(
        "GET",
        "/api/v1/returns/RT20261122000001",
        404,
        PROBLEM,
        &problem(404, "not_found"),
    )
    .unwrap();
    ok(
        "GET",
        "/api/v1/me?x=1",
        401,
        PROBLEM,
        &problem(401, "unauthenticated"),
    )
    .unwrap();
    ok(
        "TRACE",
        "/api/v1/me",
        405,
        PROBLEM,
        &problem(405, "method_not_allowed"),
    )
    .unwrap();
    ok("HEAD", "/api/v1/me", 405, PROBLEM, "").unwrap();
    ok(
        "GET",
        "/api/v1/nothing/here",
        404,
        PROBLEM,
        &problem(404, "not_found"),
    )
    .unwrap();
    ok(
        "GET",
        "/api/v1/%73can/x/..",
        401,
        PROBLEM,
        &problem(401, "unauthenticated"),
    )
    .unwrap_err();
    ok(
        "GET",
        "/api/v1/%73can/x",
        401,
        PROBLEM,
        &problem(401, "unauthenticated"),
    )
    .unwrap();
    ok(
        "GET",
        "/api/v1/audit/export.csv",
        200,
        "text/csv; charset=utf-8",
        "seq,at\n",
    )
    .unwrap();
    ok("GET", "/index.html", 200, "text/html", "<html>").unwrap();
}

#[test]
fn the_checker_catches_answers_the_description_does_not_allow() {
    let cases: [(&str, &str, u16, &str, String, &str); 10] = [
        // A body that is not the schema's: a member missing, one of the wrong type.
        (
            "GET",
            "/healthz",
            200,
            "application/json",
            r#"{"status":"ok"}"#.into(),
            "database",
        ),
        (
            "GET",
            "/healthz",
            200,
            "application/json",
            r#"{"status":1,"database":"x"}"#.into(),
            "status",
        ),
        // A status the operation does not have.
        (
            "GET",
            "/healthz",
            404,
            PROBLEM,
            problem(404, "not_found"),
            "not described",
        ),
        // A refusal with another status in its body, or a code of another status.
        (
            "GET",
            "/api/v1/me",
            401,
            PROBLEM,
            problem(400, "validation"),
            "Problem401",
        ),
        (
            "GET",
            "/api/v1/returns/RT1",
            404,
            PROBLEM,
            problem(404, "conflict"),
            "Problem404",
        ),
        // A content type the status does not describe.
        (
            "GET",
            "/api/v1/me",
            401,
            "application/json",
            problem(401, "unauthenticated"),
            "content type",
        ),
        // A method the path does not have, answered as if it had none.
        (
            "TRACE",
            "/api/v1/me",
            404,
            PROBLEM,
            problem(404, "not_found"),
            "405 was due",
        ),
        (
            "get",
            "/api/v1/me",
            401,
            PROBLEM,
            problem(401, "unauthenticated"),
            "405 was due",
        ),
        // No such path, answered as if it were one.
        (
            "GET",
            "/api/v1/nothing",
            200,
            "application/json",
            "{}".into(),
            "404 was due",
        ),
        // Not JSON where JSON is described.
        (
            "GET",
            "/healthz",
            200,
            "application/json",
            "ok".into(),
            "not JSON",
        ),
    ];
    for (method, target, status, ct, body, why) in cases {
        let err = ok(method, target, status, ct, &body)
            .expect_err(&format!("{method} {target} {status} {body} must not pass"));
        assert!(err.contains(why), "{method} {target} {status}: {err}");
        assert!(
            err.contains(&body.chars().take(20).collect::<String>()),
            "the body is shown: {err}"
        );
    }
}

/// The description's patterns say what the server's parsers accept (sampled).
#[test]
fn the_published_patterns_agree_with_the_parsers() {
    use bonded_returns::domain::ids::{self, schema};
    let agree = |pattern: &str, parse: &dyn Fn(&str) -> bool, samples: &[&str]| {
        let v = jsonschema::validator_for(&json!({"type": "string", "pattern": pattern}))
            .expect("the pattern compiles");
        for s in samples {
            assert_eq!(
                v.is_valid(&json!(s)),
                parse(s),
                "{pattern} and the parser differ on {s:?}"
            );
        }
    };
    agree(
        schema::ENTERPRISE_CODE,
        &|s| ids::enterprise_code("c", s).is_ok(),
        &[
            "3301960001",
            "91330100MA2H000003",
            "330196000",
            "33019600011",
            "3301-60001",
            "91330100ma2h000003",
            "91330100MA2H0000033",
        ],
    );
    agree(
        schema::INVT_NO,
        &|s| ids::invt_no("i", s).is_ok(),
        &[
            "290120261000000001",
            "29012026100000000",
            "2901202610000000012",
            "2901202610000000-1",
        ],
    );
    agree(
        schema::GCODE,
        &|s| ids::gcode("g", s).is_ok(),
        &["3304990099", "330499009", "33049900991", "330499009X"],
    );
    agree(
        schema::WAYBILL,
        &|s| ids::waybill("w", s).is_ok(),
        &[
            "SF1234567890",
            "SF 123",
            "运单1",
            &"A".repeat(60),
            &"A".repeat(61),
            "a~!",
        ],
    );
    agree(
        schema::PLACE_CODE,
        &|s| ids::place_code("p", s, 30).is_ok(),
        &["WH-A", "A_1", "A.1", "a b", "仓1", "x"],
    );
    agree(
        schema::TEXT,
        &|s| ids::text("t", s, 1000).is_ok(),
        &[
            "面霜",
            "a b",
            "two\nlines",
            "tab\there",
            "bell\u{7}",
            "del\u{7f}",
            "x",
            "c1\u{85}c",
        ],
    );
}

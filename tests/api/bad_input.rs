//! Whatever a client sends, the answer is a 4xx problem+json with a `code`, never a 5xx, and
//! nothing changes. Checked on the endpoints of the foundation field by field, and on every
//! operation the OpenAPI description lists with garbage of every kind.

use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use serde_json::{json, Value};

use crate::support::*;

/// A JSON endpoint with a body that it accepts.
struct Endpoint {
    path: String,
    valid: Value,
    /// Fields that may be left out.
    optional: &'static [&'static str],
    /// Free text, where any words are fine.
    free_text: &'static [&'static str],
    /// Codes, where any short name of letters and digits is fine.
    codes: &'static [&'static str],
}

fn endpoints(seed: &Seed) -> Vec<Endpoint> {
    vec![
        Endpoint {
            path: "/api/v1/session".into(),
            valid: json!({"username": ADMIN, "password": ADMIN_PASSWORD}),
            optional: &[],
            free_text: &[],
            codes: &[],
        },
        Endpoint {
            path: "/api/v1/enterprises".into(),
            valid: json!({"code": "4401960077", "name": "广州某报关行", "kinds": ["agent", "logistics"]}),
            optional: &[],
            free_text: &["name"],
            codes: &[],
        },
        Endpoint {
            path: format!("/api/v1/enterprises/{}/ratings", seed.a.operator),
            // In force only from a month ahead, so that the warehouse can still be worked on
            // when the valid bodies go through (a fixed date would start failing once passed).
            valid: json!({"rating": "dishonest", "effective_from": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(), "reference": "渝关信〔2026〕5号"}),
            optional: &["effective_from"],
            free_text: &["reference"],
            codes: &[],
        },
        Endpoint {
            path: "/api/v1/warehouses".into(),
            valid: json!({"code": "WH-C", "name": "丙仓", "operator": seed.b.operator, "zone": "西永综保区"}),
            optional: &[],
            free_text: &["name", "zone"],
            codes: &["code"],
        },
        Endpoint {
            path: format!("/api/v1/warehouses/{}/bins", seed.a.warehouse),
            valid: json!({"code": "A-RST-99", "area": "restock"}),
            optional: &[],
            free_text: &[],
            codes: &["code"],
        },
        Endpoint {
            path: format!("/api/v1/warehouses/{}/cameras", seed.a.warehouse),
            valid: json!({"code": "CAM-A9", "name": "复核台", "area": "discrepancy"}),
            optional: &[],
            free_text: &["name"],
            codes: &["code"],
        },
        Endpoint {
            path: "/api/v1/users".into(),
            valid: json!({"username": "new.user", "role": "floor", "warehouse": seed.a.warehouse, "password": "a-long-password"}),
            optional: &["warehouse"],
            free_text: &["password"],
            codes: &["username"],
        },
    ]
}

/// A body and the content type it is sent with.
struct Bad {
    what: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn bad(what: impl Into<String>, body: impl Into<Vec<u8>>) -> Bad {
    Bad {
        what: what.into(),
        content_type: Some("application/json"),
        body: body.into(),
    }
}

fn deep(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Bodies that are wrong whatever the endpoint.
fn garbage(valid: &Value) -> Vec<Bad> {
    let valid_bytes = serde_json::to_vec(valid).unwrap();
    let mut v = vec![
        bad("not JSON", "hello"),
        bad("truncated JSON", r#"{"code": "#),
        bad("XML", "<enterprise><code>1</code></enterprise>"),
        bad("empty body", ""),
        bad("only whitespace", "  \n "),
        bad("null", "null"),
        bad("a number", "42"),
        bad("a string", "\"text\""),
        bad("an array", "[1, 2, 3]"),
        bad("an empty object", "{}"),
        bad("an unknown field only", r#"{"zzz": 1}"#),
        bad("deep nesting", deep(100_000)),
        bad(
            "deep nesting in an object",
            format!(r#"{{"code": {}}}"#, deep(5_000)),
        ),
        bad("a huge number", r#"{"code": 1e400}"#),
        bad("a lone surrogate", r#"{"code": "\ud800"}"#),
        bad("NUL bytes", b"{\"code\": \"\0\"}\0".to_vec()),
        bad("bad UTF-8", b"{\"code\": \"\xff\xfe\xfd\"}".to_vec()),
        bad(
            "a body over 1 MB",
            format!(r#"{{"code": "{}"}}"#, "x".repeat(1_100_000)),
        ),
        bad(
            "valid JSON then junk",
            [valid_bytes.as_slice(), b"}}junk"].concat(),
        ),
    ];
    for (ct, what) in [
        (None, "no content type"),
        (Some("text/plain"), "text/plain"),
        (Some("application/x-www-form-urlencoded"), "a form"),
        (Some("application/xml"), "XML content type"),
        (Some("multipart/form-data; boundary=x"), "multipart"),
    ] {
        v.push(Bad {
            what: format!("a valid body sent as {what}"),
            content_type: ct,
            body: valid_bytes.clone(),
        });
    }
    v
}

/// Bodies that are wrong for this endpoint's fields: types, missing, unknown, oversize, values.
fn field_mistakes(e: &Endpoint) -> Vec<Bad> {
    let obj = e.valid.as_object().unwrap();
    let mut v = Vec::new();
    let mut with = |what: String, f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut o = obj.clone();
        f(&mut o);
        v.push(bad(what, serde_json::to_vec(&Value::Object(o)).unwrap()));
    };
    with("an unknown field".into(), &|o| {
        o.insert("is_admin".into(), json!(true));
    });
    for (field, value) in obj {
        if !e.optional.contains(&field.as_str()) {
            with(format!("{field} missing"), &|o| {
                o.remove(field);
            });
        }
        for wrong in [json!(12345), json!(true), json!({"a": 1}), json!(-1.5)] {
            with(format!("{field} = {wrong}"), &|o| {
                o.insert(field.clone(), wrong.clone());
            });
        }
        if !value.is_array() {
            with(format!("{field} = []"), &|o| {
                o.insert(field.clone(), json!([]));
            });
        }
        if !e.optional.contains(&field.as_str()) {
            with(format!("{field} = null"), &|o| {
                o.insert(field.clone(), Value::Null);
            });
        }
        let mut texts = vec![
            ("oversize", "x".repeat(100_000)),
            ("oversize Chinese", "退".repeat(50_000)),
            ("empty", String::new()),
            ("blank", "   ".into()),
            ("control characters", "a\u{7}\u{1b}[31mb".into()),
            ("path traversal", "../../etc/passwd".into()),
            ("SQL", "x'; DROP TABLE audit_entries; --".into()),
            ("unknown value", "pirate".into()),
        ];
        if field == "effective_from" {
            texts.push(("not a date", "2026-13-45T99:00:00Z".into()));
            texts.push(("a date without zone", "2026-12-01T00:00:00".into()));
        }
        for (what, text) in texts {
            let fine = match what {
                "path traversal" | "SQL" => e.free_text.contains(&field.as_str()),
                "unknown value" => {
                    e.free_text.contains(&field.as_str()) || e.codes.contains(&field.as_str())
                }
                _ => false,
            };
            if fine {
                continue;
            }
            let value = if value.is_array() {
                json!([text])
            } else {
                json!(text)
            };
            with(format!("{field}: {what}"), &|o| {
                o.insert(field.clone(), value.clone());
            });
        }
    }
    v
}

fn send_bad(app: &TestApp, client: &Client, method: reqwest::Method, path: &str, b: &Bad) -> Reply {
    let mut req = client.request(method, app.url(path)).body(b.body.clone());
    if let Some(ct) = b.content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    app.send(req)
}

#[track_caller]
fn assert_refused(reply: &Reply, what: &str) {
    assert!(
        (400..500).contains(&reply.status),
        "{what}: expected a 4xx, got {} {}",
        reply.status,
        clip(&reply.text, 300)
    );
    assert!(
        reply.is_problem(),
        "{what}: not a problem+json with a code: {} {:?} {}",
        reply.status,
        reply.content_type,
        clip(&reply.text, 300)
    );
}

/// Counts of everything a refused request must not have touched.
fn snapshot(app: &TestApp) -> Vec<i64> {
    [
        "enterprises",
        "credit_ratings",
        "warehouses",
        "bins",
        "cameras",
        "users",
        "idempotency_keys",
    ]
    .iter()
    .map(|t| app.count(t))
    .collect()
}

both! {
    fn every_invalid_body_on_every_foundation_endpoint_is_a_4xx_problem_and_changes_nothing(
        app: &TestApp,
    ) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let head = app.head();
        let counts = snapshot(app);
        let mut sent = 0;
        for e in endpoints(&seed) {
            let mut cases = garbage(&e.valid);
            cases.extend(field_mistakes(&e));
            for b in &cases {
                let reply = send_bad(app, &admin, reqwest::Method::POST, &e.path, b);
                assert_refused(&reply, &format!("POST {} with {}", e.path, b.what));
                sent += 1;
            }
        }
        assert!(sent > 300, "only {sent} cases");
        assert_eq!(app.head(), head, "a refused request changed the audit log");
        assert_eq!(snapshot(app), counts, "a refused request changed something");
        // The admin was never locked out or signed out by any of it.
        app.get(&admin, "/api/v1/me").assert_status(200);

        // And the valid bodies do go through, so the mistakes above were the only reason.
        for e in endpoints(&seed).iter().skip(1) {
            let reply = app.post_json(&admin, &e.path, &e.valid);
            assert_eq!(reply.status, 201, "POST {}: {}", e.path, reply.text);
        }
    }

    fn garbage_sent_to_every_operation_of_the_openapi_description_never_gets_a_5xx(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let spec = app.get(&app.client(), "/api/openapi.json");
        spec.assert_status(200);
        let paths = spec.json["paths"]
            .as_object()
            .expect("paths in the OpenAPI description");
        let head = app.head();
        let counts = snapshot(app);
        let mut operations = 0;
        for (template, ops) in paths {
            // Own session and tokens: garbage there must not sign the admin out.
            if template == "/api/v1/session" || template == "/api/v1/tokens" {
                continue;
            }
            let path = fill(template, &seed);
            for (method, op) in ops.as_object().unwrap() {
                let method: reqwest::Method = method.to_uppercase().parse().unwrap();
                if method == reqwest::Method::GET {
                    let junk = "?limit=-1&cursor=%FF%FE&from=yesterday&to=1e400&state=bogus&warehouse=%00&q=%27%3B--&ids=,,,&area=nowhere";
                    let reply = app.get(&admin, &format!("{path}{junk}"));
                    assert!(
                        reply.status < 500,
                        "GET {path}{junk}: {} {}",
                        reply.status,
                        reply.text
                    );
                    if reply.status >= 400 {
                        assert_refused(&reply, &format!("GET {path}{junk}"));
                    }
                    operations += 1;
                    continue;
                }
                let takes_body = op.get("requestBody").is_some();
                let valid = json!({"code": "X"});
                for b in garbage(&valid) {
                    let reply = send_bad(app, &admin, method.clone(), &path, &b);
                    if takes_body {
                        assert_refused(&reply, &format!("{method} {path} with {}", b.what));
                    } else {
                        assert!(
                            reply.status < 500,
                            "{method} {path} with {}: {} {}",
                            b.what,
                            reply.status,
                            reply.text
                        );
                    }
                }
                operations += 1;
            }
        }
        assert!(
            operations >= 20,
            "the OpenAPI description lists only {operations} operations"
        );
        assert_eq!(app.head(), head, "garbage changed the audit log");
        assert_eq!(snapshot(app), counts, "garbage changed something");
        app.get(&admin, "/api/v1/me").assert_status(200);
    }

    fn a_cross_site_post_is_refused_with_403(app: &TestApp) {
        let admin = app.admin();
        let head = app.head();
        let body = json!({"code": "4401960088", "name": "某企业", "kinds": ["agent"]});
        for origin in [
            "http://evil.example",
            "null",
            "https://evil.example:443",
            "http://127.0.0.1.evil.example",
        ] {
            let reply = app.send(
                admin
                    .post(app.url("/api/v1/enterprises"))
                    .header(ORIGIN, origin)
                    .json(&body),
            );
            reply.assert_problem(403, "cross_site_request");
        }
        // Signing someone out from another site is refused too.
        app.send(
            admin
                .delete(app.url("/api/v1/session"))
                .header(ORIGIN, "http://evil.example"),
        )
        .assert_problem(403, "cross_site_request");
        app.get(&admin, "/api/v1/me").assert_status(200);
        assert_eq!(app.head(), head);
        assert_eq!(app.count("enterprises"), 0);
        // The app's own pages send their own origin, and that is fine.
        let own = app.send(
            admin
                .post(app.url("/api/v1/enterprises"))
                .header(ORIGIN, app.base_url.as_str())
                .json(&body),
        );
        own.assert_status(201);
        // Reads are not state changes: a cross-site GET is answered as usual.
        app.send(
            admin
                .get(app.url("/api/v1/me"))
                .header(ORIGIN, "http://evil.example"),
        )
        .assert_status(200);
    }

    fn unknown_paths_and_methods_are_4xx_problems(app: &TestApp) {
        let admin = app.admin();
        for path in [
            "/api/v1/nope",
            "/api/v1/enterprises/4401960001/nope",
            "/api/v2/enterprises",
            "/api/nope",
            "/api/v1/",
            "/api/v1/warehouses/%FF%FE/bins",
        ] {
            let reply = app.get(&admin, path);
            reply.assert_problem(404, "not_found");
            let anonymous = app.get(&app.client(), path);
            assert_refused(&anonymous, path);
        }
        for (method, path) in [
            (reqwest::Method::PUT, "/api/v1/enterprises"),
            (reqwest::Method::PATCH, "/api/v1/users"),
            (reqwest::Method::DELETE, "/api/v1/warehouses"),
            (reqwest::Method::POST, "/api/v1/me"),
            (reqwest::Method::POST, "/api/v1/nope"),
        ] {
            let reply = app.send(
                admin
                    .request(method.clone(), app.url(path))
                    .json(&json!({})),
            );
            assert_refused(&reply, &format!("{method} {path}"));
        }
    }

    fn a_nul_character_anywhere_is_a_4xx_never_a_500(app: &TestApp) {
        // PostgreSQL cannot store NUL in text; that must not turn into a server error.
        let seed = app.seed_parties();
        let admin = app.admin();
        let head = app.head();
        for path in [
            "/api/v1/enterprises/%00".to_string(),
            "/api/v1/enterprises/4401%0096000/ratings".into(),
            "/api/v1/warehouses/WH%00A".into(),
            format!("/api/v1/warehouses/{}%00/bins", seed.a.warehouse),
            "/api/v1/audit?actor=ad%00min".into(),
            "/api/v1/audit?entity=%00&warehouse=%00&action=%00&enterprise=%00".into(),
            "/api/v1/audit/export.csv?actor=%00".into(),
        ] {
            let reply = app.get(&admin, &path);
            if reply.status != 200 {
                assert_refused(&reply, &path);
            }
        }
        let reply = app.post_json(
            &admin,
            &format!("/api/v1/warehouses/{}%00/bins", seed.a.warehouse),
            &json!({"code": "A-1", "area": "hold"}),
        );
        assert_refused(&reply, "a bin in a warehouse with NUL in its code");
        let reply = app.post_json(
            &admin,
            "/api/v1/enterprises/4401%0096000/ratings",
            &json!({"rating": "dishonest", "reference": "x"}),
        );
        assert_refused(&reply, "a rating of an enterprise with NUL in its code");
        for (username, password) in [
            ("ad\u{0}min", ADMIN_PASSWORD),
            (ADMIN, "pass\u{0}word-long"),
        ] {
            let reply = app.sign_in(&app.client(), username, password);
            assert_refused(&reply, &format!("sign in as {username:?}"));
        }
        let reply = app.post_json(
            &admin,
            "/api/v1/users",
            &json!({"username": "x", "role": "supervisor", "password": "a-long-pass\u{0}word"}),
        );
        assert_eq!(
            reply.status, 201,
            "NUL in a password is only bytes to hash: {}",
            reply.text
        );
        assert_eq!(app.head().seq, head.seq + 1);
    }

    fn bad_query_strings_and_headers_are_4xx_problems(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        for query in [
            "limit=abc",
            "limit=0",
            "limit=100000",
            "limit=-5",
            "from=yesterday",
            "to=2026-13-01T00:00:00Z",
            "cursor=abc",
            "cursor=",
            "bogus=1",
            "limit=1&limit=2",
        ] {
            app.get(&admin, &format!("/api/v1/audit?{query}"))
                .assert_problem(400, "validation");
        }
        // The export takes the same filter (its size is not a page's, so `limit` is moot there).
        for query in [
            "limit=abc",
            "from=yesterday",
            "to=2026-13-01T00:00:00Z",
            "cursor=abc",
            "bogus=1",
        ] {
            app.get(&admin, &format!("/api/v1/audit/export.csv?{query}"))
                .assert_problem(400, "validation");
        }
        let head = app.head();
        let reply = app.post_json(
            &admin,
            &format!(
                "/api/v1/enterprises/{}/ratings?dry_run=maybe",
                seed.a.operator
            ),
            &json!({"rating": "dishonest", "reference": "x"}),
        );
        assert_refused(&reply, "dry_run=maybe");
        for key in ["x".repeat(300), "has space".into(), String::new()] {
            let reply = app.send(
                admin
                    .post(app.url("/api/v1/enterprises"))
                    .header("Idempotency-Key", key.as_str())
                    .json(&json!({"code": "4401960001", "name": "某企业", "kinds": ["agent"]})),
            );
            reply.assert_problem(400, "validation");
        }
        let reply = app.send(
            admin
                .post(app.url("/api/v1/enterprises"))
                .header(
                    "Idempotency-Key",
                    reqwest::header::HeaderValue::from_bytes(b"\xe9t\xe9").unwrap(),
                )
                .json(&json!({"code": "4401960001", "name": "某企业", "kinds": ["agent"]})),
        );
        reply.assert_problem(400, "validation");
        assert_eq!(app.head(), head);
        let stranger = app.client();
        for auth in [
            "Bearer ".to_string() + &"a".repeat(10_000),
            "Basic YWRtaW46YWRtaW4=".into(),
            "Bearer".into(),
            format!("Bearer {}", "g".repeat(64)),
        ] {
            let reply = app.send(
                stranger
                    .get(app.url("/api/v1/me"))
                    .header(AUTHORIZATION, auth.as_str()),
            );
            reply.assert_problem(401, "unauthenticated");
        }
    }
}

/// A concrete path for an OpenAPI template, naming things that exist where it can.
fn fill(template: &str, seed: &Seed) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .unwrap_or(rest.len() - 1);
        let name = &rest[open + 1..close];
        let value = match name {
            "code" if out.contains("/warehouses/") => seed.a.warehouse.clone(),
            "code" if out.contains("/enterprises/") => seed.a.operator.clone(),
            "warehouse" => seed.a.warehouse.clone(),
            "bin" => seed.a.bin("restock").to_string(),
            "id" if out.contains("/returns/") => "RT20261122000001".into(),
            "id" => "1".into(),
            "invt_no" => "50072026I000000001".into(),
            "code" => "A-RESTOCK-01".into(),
            _ => "X".into(),
        };
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

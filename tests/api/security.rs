//! Security: every route × every role × own/other warehouse (the access matrix), the session
//! cookie's flags, cross-site (CSRF-style) state changes, and the sign-in throttle.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Helpers shared by the tests below.

/// A client without a cookie store: every request carries exactly the credentials it is given.
fn bare() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

/// The `br_session` Set-Cookie header of a reply ("" when there is none).
fn session_set_cookie(reply: &Reply) -> String {
    reply
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("br_session="))
        .unwrap_or("")
        .to_string()
}

/// A Set-Cookie header taken apart: its value and its attributes (names in lower case).
struct SetCookie {
    value: String,
    attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn parse(header: &str) -> Self {
        let mut parts = header.split(';').map(str::trim);
        let first = parts.next().unwrap_or("");
        let value = first
            .split_once('=')
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
                None => (p.to_ascii_lowercase(), None),
            })
            .collect();
        Self { value, attrs }
    }

    fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == name)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Signs `username` in with a bare client and gives back the session token of the cookie.
#[track_caller]
fn session_token(app: &TestApp, username: &str, password: &str) -> String {
    let reply = app.sign_in(&bare(), username, password);
    reply.assert_status(200);
    let token = SetCookie::parse(&session_set_cookie(&reply)).value;
    assert_eq!(token.len(), 64, "a session token: {token:?}");
    token
}

fn with_cookie(token: &str) -> String {
    format!("br_session={token}")
}

fn env_flag(name: &str) -> bool {
    std::env::var(name)
        .map(|v| ["1", "true", "yes", "on"].contains(&v.trim().to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

fn session_hours() -> i64 {
    std::env::var("BR_SESSION_HOURS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(12)
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    t: Option<String>,
}

/// One text column of a query (NULL as `None`), on either backend.
fn texts(app: &TestApp, sql: &str) -> Vec<Option<String>> {
    sql_rows::<Text>(&mut app.conn(), sql)
        .expect("the query runs")
        .into_iter()
        .map(|r| r.t)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The access matrix.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    FloorA,
    FloorB,
    Supervisor,
    Admin,
}

const WHO: [Who; 5] = [
    Who::Anonymous,
    Who::FloorA,
    Who::FloorB,
    Who::Supervisor,
    Who::Admin,
];

/// Routes the server has outside the OpenAPI description (public by design): the description
/// itself and the embedded UI.
const NOT_IN_OPENAPI: [(&str, &str); 3] = [
    ("GET", "/api/openapi.json"),
    ("GET", "/"),
    ("GET", "/{path}"),
];

enum Body {
    None,
    Json(Value),
    /// JSON with the caller's own password added (for what asks for it again).
    Reauth(Value),
    Xml(String),
}

type Check<'a> = Box<dyn Fn(&Reply) -> Option<String> + 'a>;

/// One request, valid in every respect but (possibly) who sends it.
struct Row<'a> {
    method: Method,
    /// The route as the OpenAPI description names it.
    route: &'static str,
    path: String,
    /// Made anew for every cell (so that creations do not collide).
    body: Box<dyn Fn() -> Body + 'a>,
    /// Anonymous, floor staff of A, floor staff of B, supervisor, admin.
    expect: [u16; 5],
    /// Signs in anew for every cell and sends that session (for signing out).
    fresh_session: bool,
    /// Must appear in what an allowed caller who may see warehouse A reads (a control for
    /// the check that floor staff of B never read it).
    reveals: Option<String>,
    /// More to check on a successful answer; `Some(why)` when it is wrong.
    check: Option<Check<'a>>,
}

fn row<'a>(
    method: Method,
    route: &'static str,
    path: impl Into<String>,
    expect: [u16; 5],
) -> Row<'a> {
    Row {
        method,
        route,
        path: path.into(),
        body: Box::new(|| Body::None),
        expect,
        fresh_session: false,
        reveals: None,
        check: None,
    }
}

impl<'a> Row<'a> {
    fn json(mut self, v: Value) -> Self {
        self.body = Box::new(move || Body::Json(v.clone()));
        self
    }

    fn json_with(mut self, f: impl Fn() -> Value + 'a) -> Self {
        self.body = Box::new(move || Body::Json(f()));
        self
    }

    fn reauth(mut self, v: Value) -> Self {
        self.body = Box::new(move || Body::Reauth(v.clone()));
        self
    }

    fn xml_with(mut self, f: impl Fn() -> String + 'a) -> Self {
        self.body = Box::new(move || Body::Xml(f()));
        self
    }

    fn fresh(mut self) -> Self {
        self.fresh_session = true;
        self
    }

    fn reveals(mut self, s: impl Into<String>) -> Self {
        self.reveals = Some(s.into());
        self
    }

    fn check(mut self, f: impl Fn(&Reply) -> Option<String> + 'a) -> Self {
        self.check = Some(Box::new(f));
        self
    }
}

/// Who sends a cell: their user (to sign in anew) and their session.
struct Caller {
    who: Who,
    user: Option<(String, String)>,
    token: Option<String>,
}

static SERIAL: AtomicU32 = AtomicU32::new(1);

/// A number not used before in this run, for names that must be new.
fn serial() -> u32 {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

// Expected statuses, in the order of `WHO`.
const ANYONE: [u16; 5] = [200, 200, 200, 200, 200];
const SIGNED_IN: [u16; 5] = [401, 200, 200, 200, 200];
/// Reads of warehouse A's things: floor staff of B are told they do not exist.
const SEES_A: [u16; 5] = [401, 200, 404, 200, 200];
const ADMIN_CREATES: [u16; 5] = [401, 403, 403, 403, 201];
const CUSTOMS_READS: [u16; 5] = [401, 403, 403, 200, 200];
/// A step on one of A's returns: floor staff of A only; B's do not see the return.
const FLOOR_A_STEP: [u16; 5] = [401, 200, 404, 403, 403];
const SUPERVISOR_DECIDES: [u16; 5] = [401, 403, 403, 200, 403];

/// Everything in warehouse A the matrix works on.
struct World {
    /// Returns in A: one to read, and one per step.
    read: String,
    to_receive: String,
    received: String,
    sorted: String,
    inspected: String,
    to_hold: String,
    disposals: (i64, i64),
    /// Released lists of A's operator: to apply for, to import applications for, to read.
    to_apply: List,
    to_import: List,
    /// An enterprise to rate.
    spare: String,
    /// What floor staff of B must never read.
    secrets: Vec<String>,
    /// A bearer token of the matrix's signer (a supervisor), by its public id.
    signer_token: String,
    /// A label printer of A, one to remove, and a print job queued for the first.
    printer: String,
    spare_printer: String,
    print_job: i64,
}

fn world(k: &Kit) -> World {
    let (read_list, read) = k.return_in("declared");
    let (_, to_receive) = k.return_in("declared");
    let (_, received) = k.return_in("received");
    let (_, sorted) = k.return_in("sorted");
    let (_, inspected) = k.return_in("inspected");
    let (_, to_hold) = k.return_in("received");
    let (_, to_decide) = k.return_in("inspected");
    k.dispose(&to_decide, 1, 1, "destroy").assert_status(200);
    k.dispose(&to_decide, 2, 1, "reexport").assert_status(200);
    let pending = k.app.get(&k.sup, "/api/v1/disposals");
    pending.assert_status(200);
    let ids: Vec<i64> = pending.json["items"]
        .as_array()
        .expect("disposals")
        .iter()
        .filter(|d| d["return_id"] == to_decide.as_str())
        .map(|d| d["id"].as_i64().expect("a disposal id"))
        .collect();
    assert_eq!(ids.len(), 2, "{}", pending.text);
    let spare = "4401960077".to_string();
    k.enterprise(&spare, &["agent"]);
    let a = &k.seed.a;
    let mut secrets = vec![
        read.clone(),
        to_receive.clone(),
        received.clone(),
        sorted.clone(),
        inspected.clone(),
        to_hold.clone(),
        to_decide.clone(),
        a.warehouse.clone(),
        a.camera.clone(),
        read_list.waybill.clone(),
    ];
    secrets.extend(a.bins.iter().map(|(_, b)| b.clone()));
    let (printer, spare_printer) = ("PRN-A1".to_string(), "PRN-A2".to_string());
    for code in [&printer, &spare_printer] {
        k.app
            .post_json(
                &k.admin,
                &format!("/api/v1/warehouses/{}/printers", a.warehouse),
                &json!({"code": code, "name": "收货台打印机", "address": "192.0.2.10", "area": "receiving"}),
            )
            .assert_status(201);
    }
    let queued = k.app.post_json(
        &k.floor_a,
        &format!("/api/v1/warehouses/{}/printers/{printer}/jobs", a.warehouse),
        &json!({"label": "bin", "id": a.bin("restock")}),
    );
    queued.assert_status(201);
    let print_job = queued.json["id"].as_i64().expect("a print job");
    secrets.push(printer.clone());
    World {
        read,
        to_receive,
        received,
        sorted,
        inspected,
        to_hold,
        disposals: (ids[0], ids[1]),
        to_apply: k.released(),
        to_import: k.released(),
        spare,
        secrets,
        signer_token: String::new(),
        printer,
        spare_printer,
        print_job,
    }
}

/// Every route, with requests about warehouse A. Rows run in this order; within a row the
/// refused cells run before the allowed ones, so a success never changes what a refusal sees.
fn rows<'a>(k: &'a Kit, w: &'a World, signer: &'a TestUser) -> Vec<Row<'a>> {
    let a = &k.seed.a;
    let wh = a.warehouse.as_str();
    let r = &w.read;
    let restock_bin = a.bin("restock");
    vec![
        // Public.
        row(Method::GET, "/healthz", "/healthz", ANYONE),
        row(Method::GET, "/api/openapi.json", "/api/openapi.json", ANYONE),
        row(Method::GET, "/", "/", ANYONE),
        row(Method::GET, "/{path}", "/app.js", ANYONE),
        // Sessions and tokens.
        row(Method::POST, "/api/v1/session", "/api/v1/session", ANYONE)
            .json(json!({"username": signer.username, "password": signer.password})),
        row(Method::DELETE, "/api/v1/session", "/api/v1/session", [401, 204, 204, 204, 204]).fresh(),
        row(Method::GET, "/api/v1/me", "/api/v1/me", SIGNED_IN),
        row(Method::POST, "/api/v1/tokens", "/api/v1/tokens", [401, 201, 201, 201, 201])
            .reauth(json!({"name": "matrix"}))
            .check(|r| (r.json["token"].as_str().map(str::len) != Some(64)).then(|| format!("no token: {}", r.text))),
        row(Method::GET, "/api/v1/tokens", "/api/v1/tokens", SIGNED_IN)
            .check(|r| r.text.contains("\"token\"").then(|| format!("a token was listed: {}", r.text))),
        // The signer's token: only its owner or an admin may revoke it; to others it does not exist.
        row(Method::DELETE, "/api/v1/tokens/{id}", format!("/api/v1/tokens/{}", w.signer_token), [401, 404, 404, 404, 204]),
        // Sign-in throttles: admins only.
        row(Method::GET, "/api/v1/throttles", "/api/v1/throttles", [401, 403, 403, 403, 200])
            .check(|r| (!r.text.contains("throttled.name")).then(|| format!("the throttle is missing: {}", r.text))),
        row(Method::DELETE, "/api/v1/throttles/{username}", "/api/v1/throttles/throttled.name", [401, 403, 403, 403, 200]),
        // Enterprises and ratings.
        row(Method::GET, "/api/v1/enterprises", "/api/v1/enterprises", SIGNED_IN),
        row(Method::POST, "/api/v1/enterprises", "/api/v1/enterprises", ADMIN_CREATES).json_with(
            move || json!({"code": format!("44019{:05}", 100 + serial()), "name": "广州报关行", "kinds": ["agent"]}),
        ),
        row(Method::GET, "/api/v1/enterprises/{code}", format!("/api/v1/enterprises/{}", a.operator), SIGNED_IN),
        row(Method::GET, "/api/v1/enterprises/{code}/ratings", format!("/api/v1/enterprises/{}/ratings", a.operator), SIGNED_IN),
        row(Method::POST, "/api/v1/enterprises/{code}/ratings", format!("/api/v1/enterprises/{}/ratings", w.spare), ADMIN_CREATES)
            .json_with(move || json!({"rating": "certified", "reference": format!("署信〔2026〕{}号", serial())})),
        // Warehouses, bins, cameras.
        row(Method::GET, "/api/v1/warehouses", "/api/v1/warehouses", SIGNED_IN).reveals(wh),
        row(Method::POST, "/api/v1/warehouses", "/api/v1/warehouses", ADMIN_CREATES).json_with(
            move || json!({"code": format!("WH-S{}", serial()), "name": "丙仓", "operator": k.seed.a.operator, "zone": "西永"}),
        ),
        row(Method::GET, "/api/v1/warehouses/{code}", format!("/api/v1/warehouses/{wh}"), SEES_A),
        row(Method::GET, "/api/v1/warehouses/{code}/bins", format!("/api/v1/warehouses/{wh}/bins"), SEES_A).reveals(restock_bin),
        row(Method::POST, "/api/v1/warehouses/{code}/bins", format!("/api/v1/warehouses/{wh}/bins"), ADMIN_CREATES)
            .json_with(move || json!({"code": format!("A-SEC-{}", serial()), "area": "restock"})),
        row(Method::GET, "/api/v1/warehouses/{code}/cameras", format!("/api/v1/warehouses/{wh}/cameras"), SEES_A).reveals(a.camera.as_str()),
        row(Method::POST, "/api/v1/warehouses/{code}/cameras", format!("/api/v1/warehouses/{wh}/cameras"), ADMIN_CREATES)
            .json_with(move || json!({"code": format!("CAM-S{}", serial()), "name": "复核台", "area": "discrepancy"})),
        // Label printers and the print queue.
        row(Method::GET, "/api/v1/warehouses/{code}/printers", format!("/api/v1/warehouses/{wh}/printers"), SEES_A).reveals(w.printer.as_str()),
        row(Method::POST, "/api/v1/warehouses/{code}/printers", format!("/api/v1/warehouses/{wh}/printers"), ADMIN_CREATES)
            .json_with(move || json!({"code": format!("PRN-S{}", serial()), "name": "收货台打印机", "address": "192.0.2.11:9100", "area": "receiving"})),
        row(Method::PATCH, "/api/v1/warehouses/{code}/printers/{printer}", format!("/api/v1/warehouses/{wh}/printers/{}", w.printer), [401, 403, 403, 403, 200])
            .json(json!({"name": "收货台打印机 1号"})),
        row(Method::POST, "/api/v1/warehouses/{code}/printers/{printer}/jobs", format!("/api/v1/warehouses/{wh}/printers/{}/jobs", w.printer), [401, 201, 404, 403, 201])
            .json(json!({"label": "bin", "id": restock_bin})),
        row(Method::DELETE, "/api/v1/warehouses/{code}/printers/{printer}", format!("/api/v1/warehouses/{wh}/printers/{}", w.spare_printer), [401, 403, 403, 403, 204]),
        row(Method::GET, "/api/v1/print-jobs", format!("/api/v1/print-jobs?warehouse={wh}"), SIGNED_IN).reveals(w.printer.as_str()),
        row(Method::GET, "/api/v1/print-jobs/{id}", format!("/api/v1/print-jobs/{}", w.print_job), SEES_A),
        row(Method::POST, "/api/v1/print-jobs/{id}/retry", format!("/api/v1/print-jobs/{}/retry", w.print_job), [401, 200, 404, 403, 200])
            .json(json!({})),
        row(Method::POST, "/api/v1/print-jobs/{id}/cancel", format!("/api/v1/print-jobs/{}/cancel", w.print_job), [401, 200, 404, 403, 200])
            .json(json!({"reason": "已用浏览器打印"})),
        // Users.
        row(Method::GET, "/api/v1/users", "/api/v1/users", [401, 403, 403, 403, 200]),
        row(Method::POST, "/api/v1/users", "/api/v1/users", ADMIN_CREATES).json_with(
            move || json!({"username": format!("sec-made-{}", serial()), "role": "supervisor", "password": "long-enough-password"}),
        ),
        row(Method::PATCH, "/api/v1/users/{username}", format!("/api/v1/users/{}", signer.username), [401, 403, 403, 403, 200])
            .json(json!({"active": true})),
        // The audit log.
        row(Method::GET, "/api/v1/audit", "/api/v1/audit", CUSTOMS_READS),
        row(Method::GET, "/api/v1/audit/verify", "/api/v1/audit/verify", CUSTOMS_READS),
        row(Method::GET, "/api/v1/audit/head", "/api/v1/audit/head", CUSTOMS_READS),
        row(Method::GET, "/api/v1/audit/export.csv", "/api/v1/audit/export.csv", CUSTOMS_READS),
        row(Method::GET, "/api/v1/audit/export.xlsx", "/api/v1/audit/export.xlsx", CUSTOMS_READS),
        row(Method::GET, "/api/v1/audit/key", "/api/v1/audit/key", SIGNED_IN),
        row(Method::GET, "/api/v1/feed", "/api/v1/feed?after=0&limit=5", CUSTOMS_READS),
        row(Method::GET, "/api/v1/feed/status", "/api/v1/feed/status", CUSTOMS_READS),
        row(Method::GET, "/api/v1/customs/folders", "/api/v1/customs/folders", CUSTOMS_READS),
        // Declarations and customs messages.
        row(Method::POST, "/api/v1/declarations", "/api/v1/declarations", [401, 403, 403, 201, 201])
            .json_with(move || k.list().json()),
        row(Method::GET, "/api/v1/declarations/{invt_no}", format!("/api/v1/declarations/{}", w.to_apply.invt_no), SEES_A).reveals(w.to_apply.invt_no.clone()),
        row(Method::POST, "/api/v1/imports", "/api/v1/imports", [401, 403, 403, 200, 200])
            .xml_with(move || ceb625(&[w.to_import.invt_refund(&[(1, 1)], now())]))
            .check(|r| (r.json["created"] != 1).then(|| format!("the application was not recorded: {}", r.text))),
        // Returns.
        row(Method::GET, "/api/v1/returns", format!("/api/v1/returns?warehouse={wh}"), SIGNED_IN).reveals(w.inspected.as_str()),
        // A's lists are readable by everyone (GET /declarations), so a plain 403 for B's staff
        // tells them nothing new.
        row(Method::POST, "/api/v1/returns", "/api/v1/returns", [401, 201, 403, 201, 201]).json(json!({
            "invt_no": w.to_apply.invt_no, "logistics_no": w.to_apply.waybill, "reason": "七天无理由退货",
            "lines": [{"gnum": 1, "qty": 1}],
        })),
        row(Method::GET, "/api/v1/returns/{id}", format!("/api/v1/returns/{r}"), SEES_A),
        // B's staff naming warehouse A are refused for the warehouse before the return is
        // looked up (the same 403 for a return that does not exist).
        row(Method::POST, "/api/v1/returns/{id}/receive", format!("/api/v1/returns/{}/receive", w.to_receive), [401, 200, 403, 403, 403])
            .json(json!({"warehouse": wh, "camera": a.camera})),
        row(Method::POST, "/api/v1/returns/{id}/sort", format!("/api/v1/returns/{}/sort", w.received), FLOOR_A_STEP)
            .json(json!({"items": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}], "bin": a.bin("pending_inspection")})),
        row(Method::POST, "/api/v1/returns/{id}/inspect", format!("/api/v1/returns/{}/inspect", w.sorted), FLOOR_A_STEP)
            .json(json!({"lines": [
                {"gnum": 1, "intact": 3, "damaged_packaging": 0, "used": 0, "defective": 0, "not_original": 0},
                {"gnum": 2, "intact": 2, "damaged_packaging": 0, "used": 0, "defective": 0, "not_original": 0},
            ]})),
        row(Method::POST, "/api/v1/returns/{id}/restock", format!("/api/v1/returns/{}/restock", w.inspected), FLOOR_A_STEP)
            .json(json!({"gnum": 1, "qty": 1, "bin": restock_bin})),
        row(Method::POST, "/api/v1/returns/{id}/dispose", format!("/api/v1/returns/{}/dispose", w.inspected), FLOOR_A_STEP)
            .json(json!({"gnum": 2, "qty": 1, "route": "exit", "reference": "出区核放单 001"})),
        row(Method::POST, "/api/v1/returns/{id}/hold", format!("/api/v1/returns/{}/hold", w.to_hold), SUPERVISOR_DECIDES)
            .json(json!({"reason": "海关布控查验"})),
        row(Method::POST, "/api/v1/returns/{id}/release", format!("/api/v1/returns/{}/release", w.to_hold), SUPERVISOR_DECIDES)
            .json(json!({"reason": "查验无异常"})),
        row(Method::GET, "/api/v1/returns/{id}/ceb625.xml", format!("/api/v1/returns/{r}/ceb625.xml"), CUSTOMS_READS),
        row(Method::GET, "/api/v1/exports/ceb625", format!("/api/v1/exports/ceb625?ids={r}"), CUSTOMS_READS),
        row(Method::GET, "/api/v1/disposals", "/api/v1/disposals", CUSTOMS_READS),
        row(Method::POST, "/api/v1/disposals/{id}/approve", format!("/api/v1/disposals/{}/approve", w.disposals.0), SUPERVISOR_DECIDES)
            .json(json!({"reason": "同意销毁"})),
        row(Method::POST, "/api/v1/disposals/{id}/reject", format!("/api/v1/disposals/{}/reject", w.disposals.1), SUPERVISOR_DECIDES)
            .json(json!({"reason": "退运单证不全"})),
        row(Method::GET, "/api/v1/scan/{code}", format!("/api/v1/scan/{r}"), SEES_A),
        row(Method::GET, "/api/v1/scan/{code}", format!("/api/v1/scan/{restock_bin}"), SEES_A),
        // After the restock above, so that there is stock in A to (not) see.
        row(Method::GET, "/api/v1/stock", format!("/api/v1/stock?warehouse={wh}"), SIGNED_IN).reveals(restock_bin),
        row(Method::GET, "/api/v1/stats", format!("/api/v1/stats?warehouse={wh}"), SIGNED_IN),
        // The handheld's copy of A's open work: A's staff, and supervisors and admins naming A;
        // B's staff naming A are refused outright (warehouse codes are no secret).
        row(Method::GET, "/api/v1/handheld/snapshot", format!("/api/v1/handheld/snapshot?warehouse={wh}"), [401, 200, 403, 200, 200])
            .reveals(w.inspected.as_str()),
        // Labels.
        row(Method::GET, "/api/v1/labels/returns/{file}", format!("/api/v1/labels/returns/{r}.svg"), SEES_A),
        row(Method::GET, "/api/v1/labels/bins/{warehouse}/{file}", format!("/api/v1/labels/bins/{wh}/{restock_bin}.svg"), SEES_A),
        row(Method::GET, "/api/v1/labels/bins/{file}", format!("/api/v1/labels/bins/{wh}.svg?area=restock"), SEES_A),
        row(Method::GET, "/api/v1/labels/items/{return_id}/{file}", format!("/api/v1/labels/items/{r}/1.zpl"), SEES_A),
    ]
}

fn expected_code(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        _ => "",
    }
}

/// Sends one cell; `Err` says what is wrong with its answer.
fn cell(
    app: &TestApp,
    client: &Client,
    caller: &Caller,
    row: &Row,
    expected: u16,
    secrets: &[String],
) -> Result<(), String> {
    let token = match (&caller.user, row.fresh_session) {
        (Some((u, p)), true) => Some(session_token(app, u, p)),
        _ => caller.token.clone(),
    };
    let mut req = client.request(row.method.clone(), app.url(&row.path));
    if let Some(t) = token {
        req = req.header(COOKIE, with_cookie(&t));
    }
    req = match (row.body)() {
        Body::None => req,
        Body::Json(v) => req.json(&v),
        Body::Reauth(mut v) => {
            if let Some((_, password)) = &caller.user {
                v["password"] = json!(password);
            }
            req.json(&v)
        }
        Body::Xml(x) => req.header(CONTENT_TYPE, "application/xml").body(x),
    };
    let head = app.head();
    let reply = app.send(req);
    let short = clip(&reply.text, 300);
    if reply.status != expected {
        return Err(format!("expected {expected}, got {} {short}", reply.status));
    }
    if expected >= 400 {
        if reply.code() != expected_code(expected) || !reply.is_problem() {
            return Err(format!(
                "expected a problem+json `{}`: {short}",
                expected_code(expected)
            ));
        }
        if app.head() != head {
            return Err("a refused request wrote to the audit log".into());
        }
        return Ok(());
    }
    if let Some(check) = &row.check {
        if let Some(why) = check(&reply) {
            return Err(why);
        }
    }
    match caller.who {
        Who::FloorB => {
            if let Some(s) = secrets.iter().find(|s| reply.text.contains(s.as_str())) {
                return Err(format!(
                    "floor staff of B read {s:?} of warehouse A: {short}"
                ));
            }
        }
        Who::FloorA | Who::Supervisor | Who::Admin => {
            if let Some(s) = &row.reveals {
                if !reply.text.contains(s.as_str()) {
                    return Err(format!("{s:?} is missing: {short}"));
                }
            }
        }
        Who::Anonymous => {}
    }
    Ok(())
}

/// (METHOD, route) of every operation in the OpenAPI description.
fn openapi_operations(app: &TestApp) -> BTreeSet<(String, String)> {
    let spec = app.get(&bare(), "/api/openapi.json");
    spec.assert_status(200);
    let mut ops = BTreeSet::new();
    for (path, item) in spec.json["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                ops.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

both! {
    fn every_route_answers_every_role_as_the_contract_says_about_warehouse_a(app: &TestApp) {
        let k = Kit::new(app);
        let w = world(&k);
        let floor_a = app.create_user("floor", Some(&k.seed.a.warehouse));
        let floor_b = app.create_user("floor", Some(&k.seed.b.warehouse));
        let sup = app.create_user("supervisor", None);
        let signer = app.create_user("supervisor", None);
        let w = World {
            signer_token: {
                let browser = app.login(&signer.username, &signer.password);
                app.make_token(&browser, &signer.password);
                let listed = app.get(&browser, "/api/v1/tokens");
                listed.json["items"][0]["id"].as_str().expect("a token id").to_string()
            },
            ..w
        };
        // A name whose sign-ins are slowed down (for the throttle rows).
        for n in 0..2 {
            app.sign_in(&bare(), "throttled.name", &format!("wrong-{n}")).assert_problem(401, "unauthenticated");
        }
        let user = |u: &TestUser| Some((u.username.clone(), u.password.clone()));
        let admin = Some((ADMIN.to_string(), ADMIN_PASSWORD.to_string()));
        let callers: Vec<Caller> = WHO
            .iter()
            .zip([None, user(&floor_a), user(&floor_b), user(&sup), admin])
            .map(|(&who, user)| Caller {
                who,
                token: user.as_ref().map(|(u, p)| session_token(app, u, p)),
                user,
            })
            .collect();
        let table = rows(&k, &w, &signer);

        // Every operation the server describes has a row, and every row is a real route.
        let described = openapi_operations(app);
        let covered: BTreeSet<(String, String)> = table
            .iter()
            .map(|r| (r.method.to_string(), r.route.to_string()))
            .collect();
        let missing: Vec<_> = described.difference(&covered).collect();
        assert!(missing.is_empty(), "routes without a row in the security matrix: {missing:?}");
        let extra: Vec<_> = covered
            .difference(&described)
            .filter(|(m, p)| !NOT_IN_OPENAPI.contains(&(m.as_str(), p.as_str())))
            .collect();
        assert!(extra.is_empty(), "rows for routes the server does not describe: {extra:?}");
        assert!(described.len() >= 48, "only {} operations described", described.len());

        let client = bare();
        let mut failures = Vec::new();
        let mut cells = 0;
        for row in &table {
            let mut order: Vec<usize> = (0..WHO.len()).collect();
            order.sort_by_key(|&i| row.expect[i] < 400);
            for i in order {
                let caller = &callers[i];
                if let Err(why) = cell(app, &client, caller, row, row.expect[i], &w.secrets) {
                    failures.push(format!("{:?} {} {}: {why}", caller.who, row.method, row.path));
                }
                cells += 1;
            }
        }
        assert!(failures.is_empty(), "{} of {cells} cells are wrong:\n{}", failures.len(), failures.join("\n"));
        assert_eq!(cells, table.len() * WHO.len());
        assert!(cells >= 250, "{cells} cells");
        // The allowed steps really happened (the refusals before them did not get in the way).
        assert_eq!(k.state(&w.to_receive), "received");
        assert_eq!(k.state(&w.received), "sorted");
        assert_eq!(k.state(&w.sorted), "inspected");
        assert_eq!(k.state(&w.to_hold), "received");
        assert!(app.verify(None).ok);
    }
}

// ---------------------------------------------------------------------------------------------
// The session cookie.

both! {
    fn the_session_cookie_is_http_only_strict_host_only_expiring_and_cleared_by_signing_out(app: &TestApp) {
        let client = bare();
        let reply = app.sign_in(&client, ADMIN, ADMIN_PASSWORD);
        reply.assert_status(200);
        let set: Vec<_> = reply.headers.get_all(SET_COOKIE).iter().collect();
        assert_eq!(set.len(), 1, "one cookie: {set:?}");
        let raw = session_set_cookie(&reply);
        let cookie = SetCookie::parse(&raw);
        assert!(cookie.has("httponly"), "{raw}");
        assert_eq!(cookie.get("samesite"), Some("Strict"), "{raw}");
        assert_eq!(cookie.get("path"), Some("/"), "{raw}");
        assert!(!cookie.has("domain"), "a host-only cookie: {raw}");
        assert_eq!(cookie.has("secure"), env_flag("BR_COOKIE_SECURE"), "Secure only when configured: {raw}");
        let max_age: i64 = cookie.get("max-age").expect("a Max-Age").parse().expect("seconds");
        assert_eq!(max_age, session_hours() * 3600, "{raw}");
        // The token is random, and the database keeps only its hash, expiring with the cookie.
        let token = cookie.value.clone();
        assert!(token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()), "{raw}");
        let hash = bonded_returns::flows::users::token_hash(&token);
        assert_eq!(texts(app, &format!("SELECT token_hash AS t FROM sessions WHERE token_hash = '{token}'")).len(), 0);
        let lifetime = texts(app, &format!(
            "SELECT CAST(expires_at AS TEXT) AS t FROM sessions WHERE token_hash = '{hash}' UNION ALL \
             SELECT CAST(created_at AS TEXT) AS t FROM sessions WHERE token_hash = '{hash}'"
        ));
        let at = |s: &Option<String>| {
            let s = s.as_deref().expect("a time");
            chrono::NaiveDateTime::parse_from_str(&s[..19], "%Y-%m-%d %H:%M:%S").expect("a timestamp")
        };
        assert_eq!(lifetime.len(), 2);
        assert_eq!((at(&lifetime[0]) - at(&lifetime[1])).num_seconds(), max_age);

        let me = app.send(client.get(app.url("/api/v1/me")).header(COOKIE, with_cookie(&token)));
        me.assert_status(200);

        // Signing out tells the browser to drop the same cookie at once, and ends the session.
        let out = app.send(client.delete(app.url("/api/v1/session")).header(COOKIE, with_cookie(&token)));
        out.assert_status(204);
        let raw = session_set_cookie(&out);
        let gone = SetCookie::parse(&raw);
        assert_eq!(gone.value, "", "{raw}");
        assert_eq!(gone.get("max-age"), Some("0"), "{raw}");
        assert_eq!(gone.get("path"), Some("/"), "the same path, or it would not replace it: {raw}");
        assert!(gone.has("httponly") && gone.get("samesite") == Some("Strict"), "{raw}");
        if let Some(expires) = gone.get("expires") {
            let when = chrono::DateTime::parse_from_rfc2822(&expires.replace("GMT", "+0000")).expect("an HTTP date");
            assert!(when < chrono::Utc::now(), "{raw}");
        }
        assert_eq!(texts(app, &format!("SELECT token_hash AS t FROM sessions WHERE token_hash = '{hash}'")).len(), 0);
        app.send(client.get(app.url("/api/v1/me")).header(COOKIE, with_cookie(&token)))
            .assert_problem(401, "unauthenticated");
    }

    fn a_session_cookie_past_its_expiry_is_refused(app: &TestApp) {
        let token = session_token(app, ADMIN, ADMIN_PASSWORD);
        let hash = bonded_returns::flows::users::token_hash(&token);
        app.db
            .sql(&format!("UPDATE sessions SET expires_at = '2000-01-01 00:00:00' WHERE token_hash = '{hash}'"))
            .expect("the session is aged");
        app.send(bare().get(app.url("/api/v1/me")).header(COOKIE, with_cookie(&token)))
            .assert_problem(401, "unauthenticated");
    }
}

/// The app in-process with `BR_COOKIE_SECURE` on (settings are read from the environment,
/// which tests running in parallel must not change).
fn secure_cookie(backend: Backend) {
    use actix_web::test;
    use bonded_returns::config::Config;
    use bonded_returns::flows::users::{self, UserInput};

    if !available(backend) {
        return;
    }
    let db = TestDb::fresh(backend);
    let mut config = Config::load(Some(&db.url), Some("127.0.0.1:0")).expect("settings");
    config.cookie_secure = true;
    let keys = tempfile::tempdir().expect("a folder for the signing key");
    config.signing_key = keys.path().join("audit-signing.key");
    let (pool, writer) = bonded_returns::app::open(&config).expect("the database opens");
    let admin = users::prepare(&UserInput {
        username: ADMIN.into(),
        role: "admin".into(),
        warehouse: None,
        password: ADMIN_PASSWORD.into(),
    })
    .expect("an admin");
    writer
        .write_blocking(move |tx| users::create_user(tx, &admin_actor(), admin))
        .expect("the admin is made");
    let state = bonded_returns::app::state(config, pool, writer).expect("the app state");
    actix_web::rt::System::new().block_on(async move {
        let app = test::init_service(bonded_returns::http::app(state)).await;
        let resp = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/api/v1/session")
                .set_json(json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
                .to_request(),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 200);
        let raw = resp
            .headers()
            .get(actix_web::http::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a cookie")
            .to_string();
        let cookie = SetCookie::parse(&raw);
        assert!(cookie.has("secure") && cookie.has("httponly"), "{raw}");
        assert_eq!(cookie.get("samesite"), Some("Strict"), "{raw}");
        let out = test::call_service(
            &app,
            test::TestRequest::delete()
                .uri("/api/v1/session")
                .insert_header((actix_web::http::header::COOKIE, with_cookie(&cookie.value)))
                .to_request(),
        )
        .await;
        assert_eq!(out.status().as_u16(), 204);
        let raw = out
            .headers()
            .get(actix_web::http::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a removal cookie")
            .to_string();
        let gone = SetCookie::parse(&raw);
        assert!(
            gone.has("secure"),
            "the removal matches the cookie it removes: {raw}"
        );
        assert_eq!(gone.get("max-age"), Some("0"), "{raw}");
    });
}

mod the_session_cookie_is_secure_when_configured {
    use super::*;

    #[test]
    fn sqlite() {
        secure_cookie(Backend::Sqlite)
    }

    #[test]
    fn postgres() {
        secure_cookie(Backend::Postgres)
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-site (CSRF-style) state changes.

/// How a page on another site could try to make a signed-in browser change something.
struct Forgery {
    what: &'static str,
    content_type: Option<&'static str>,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    /// The refusal: 403 `cross_site_request` or 415 `unsupported_media_type`.
    status: u16,
    code: &'static str,
}

fn forgeries(json_body: &str) -> Vec<Forgery> {
    let form = "code=4401960123&name=evil&kinds=agent".to_string();
    let multipart =
        "--xyz\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n4401960123\r\n--xyz--\r\n"
            .to_string();
    let mut v = Vec::new();
    // Simple requests, as an HTML form (or a no-cors fetch) sends them: no preflight.
    for (what, ct, body) in [
        ("a form", "application/x-www-form-urlencoded", form.clone()),
        (
            "a text/plain form carrying JSON",
            "text/plain",
            json_body.to_string(),
        ),
        (
            "a text/plain form with a charset",
            "text/plain; charset=utf-8",
            json_body.to_string(),
        ),
        (
            "a multipart form",
            "multipart/form-data; boundary=xyz",
            multipart.clone(),
        ),
    ] {
        // A browser that sends neither Origin nor Sec-Fetch-Site (old, or stripped by a proxy).
        v.push(Forgery {
            what,
            content_type: Some(ct),
            body: body.clone(),
            headers: vec![],
            status: 415,
            code: "unsupported_media_type",
        });
        for headers in [
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("sec-fetch-site", "cross-site")],
            vec![
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            v.push(Forgery {
                what,
                content_type: Some(ct),
                body: body.clone(),
                headers,
                status: 403,
                code: "cross_site_request",
            });
        }
    }
    // Even a JSON body (which needs a CORS preflight that this server never grants) or none.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        v.push(Forgery {
            what: "JSON",
            content_type: Some("application/json"),
            body: json_body.to_string(),
            headers: headers.clone(),
            status: 403,
            code: "cross_site_request",
        });
        v.push(Forgery {
            what: "no body",
            content_type: None,
            body: String::new(),
            headers,
            status: 403,
            code: "cross_site_request",
        });
    }
    v
}

both! {
    fn cross_site_state_changes_with_the_session_cookie_are_refused_and_change_nothing(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("declared");
        let unclaimed = k.released();
        let admin = session_token(app, ADMIN, ADMIN_PASSWORD);
        let floor = app.create_user("floor", Some(&k.seed.a.warehouse));
        let floor = session_token(app, &floor.username, &floor.password);
        let sup = app.create_user("supervisor", None);
        let sup = session_token(app, &sup.username, &sup.password);
        let enterprise = json!({"code": "4401960123", "name": "某企业", "kinds": ["agent"]}).to_string();
        let receive = json!({"warehouse": k.seed.a.warehouse, "camera": k.seed.a.camera}).to_string();
        let user = json!({"username": "planted", "role": "admin", "password": "long-enough-password"}).to_string();
        let signin = json!({"username": ADMIN, "password": ADMIN_PASSWORD}).to_string();
        let xml = ceb625(&[unclaimed.invt_refund(&[(1, 1)], now())]);
        // (who, method, path, a valid JSON body for it)
        let targets: Vec<(Option<&str>, Method, String, String)> = vec![
            (Some(&admin), Method::POST, "/api/v1/enterprises".into(), enterprise.clone()),
            (Some(&admin), Method::POST, "/api/v1/users".into(), user),
            (Some(&admin), Method::POST, "/api/v1/tokens".into(), json!({"name": "x", "password": ADMIN_PASSWORD}).to_string()),
            (Some(&admin), Method::DELETE, "/api/v1/session".into(), String::new()),
            (Some(&floor), Method::POST, format!("/api/v1/returns/{id}/receive"), receive.clone()),
            (Some(&sup), Method::POST, format!("/api/v1/returns/{id}/hold"), json!({"reason": "x"}).to_string()),
            (Some(&sup), Method::POST, "/api/v1/imports".into(), xml.clone()),
            // Signing a victim's browser in to the attacker's account (login CSRF).
            (None, Method::POST, "/api/v1/session".into(), signin),
        ];
        let counts = |app: &TestApp| {
            ["enterprises", "users", "sessions", "returns", "declarations", "idempotency_keys"].map(|t| app.count(t))
        };
        let before = (app.head(), counts(app), k.view(&id)["state"].clone());
        let client = bare();
        let mut tried = 0;
        for (who, method, path, body) in &targets {
            for f in forgeries(body) {
                let mut req = client.request(method.clone(), app.url(path)).body(f.body.clone());
                if let Some(t) = who {
                    req = req.header(COOKIE, with_cookie(t));
                }
                if let Some(ct) = f.content_type {
                    req = req.header(CONTENT_TYPE, ct);
                }
                for (h, v) in &f.headers {
                    req = req.header(*h, *v);
                }
                let reply = app.send(req);
                assert!(
                    reply.status == f.status && reply.code() == f.code && reply.is_problem(),
                    "{method} {path} as {} with {:?}: expected {} {}, got {} {}",
                    f.what, f.headers, f.status, f.code, reply.status, reply.text
                );
                assert!(reply.headers.get(SET_COOKIE).is_none(), "{method} {path}: a cookie was set");
                tried += 1;
            }
        }
        assert!(tried >= 8 * 25, "{tried}");
        assert_eq!((app.head(), counts(app), k.view(&id)["state"].clone()), before, "a cross-site request changed something");
        // The sessions are still there: nobody was signed out.
        for t in [&admin, &floor, &sup] {
            app.send(client.get(app.url("/api/v1/me")).header(COOKIE, with_cookie(t))).assert_status(200);
        }

        // The app's own pages: JSON, this site's Origin, Sec-Fetch-Site same-origin.
        let own = |token: &str, path: &str, body: &str| {
            app.send(
                client
                    .post(app.url(path))
                    .header(COOKIE, with_cookie(token))
                    .header(CONTENT_TYPE, "application/json")
                    .header(ORIGIN, app.base_url.as_str())
                    .header("sec-fetch-site", "same-origin")
                    .body(body.to_string()),
            )
        };
        own(&admin, "/api/v1/enterprises", &enterprise).assert_status(201);
        own(&floor, &format!("/api/v1/returns/{id}/receive"), &receive).assert_status(200);
        // A typed-in address or bookmark (Sec-Fetch-Site: none) is the user's own doing.
        let reply = app.send(
            client
                .post(app.url("/api/v1/tokens"))
                .header(COOKIE, with_cookie(&admin))
                .header("sec-fetch-site", "none")
                .json(&json!({"name": "typed in", "password": ADMIN_PASSWORD})),
        );
        reply.assert_status(201);
        let token = reply.json["token"].as_str().expect("a token").to_string();
        // Imports stay XML.
        let imported = app.send(
            client
                .post(app.url("/api/v1/imports"))
                .header(COOKIE, with_cookie(&sup))
                .header(CONTENT_TYPE, "application/xml")
                .header(ORIGIN, app.base_url.as_str())
                .body(xml),
        );
        imported.assert_status(200);
        assert_eq!(imported.json["created"], 1, "{}", imported.text);

        // Scripts with a bearer token cannot be forged by a page (a browser never adds that
        // header on its own), so whatever Origin they send, they work…
        let script = app.send(
            client
                .post(app.url("/api/v1/enterprises"))
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .header(ORIGIN, "https://tools.example")
                .header("sec-fetch-site", "cross-site")
                .json(&json!({"code": "4401960124", "name": "脚本企业", "kinds": ["agent"]})),
        );
        script.assert_status(201);
        // …still in JSON only…
        app.send(
            client
                .post(app.url("/api/v1/enterprises"))
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .header(CONTENT_TYPE, "text/plain")
                .body(json!({"code": "4401960125", "name": "脚本企业", "kinds": ["agent"]}).to_string()),
        )
        .assert_problem(415, "unsupported_media_type");
        // …and a bogus bearer header is no way to ride on a cookie sent along with it.
        let head = app.head();
        app.send(
            client
                .post(app.url("/api/v1/enterprises"))
                .header(AUTHORIZATION, "Bearer not-a-token")
                .header(COOKIE, with_cookie(&admin))
                .header(ORIGIN, "https://evil.example")
                .json(&json!({"code": "4401960126", "name": "某企业", "kinds": ["agent"]})),
        )
        .assert_problem(401, "unauthenticated");
        assert_eq!(app.head(), head);
        assert_eq!(app.count("enterprises"), before.1[0] + 2);
    }
}

// ---------------------------------------------------------------------------------------------
// The sign-in throttle.

/// (status, code, detail, has Retry-After) of a sign-in.
fn attempt(app: &TestApp, username: &str, password: &str) -> (u16, String, String, bool) {
    attempt_from(app, None, username, password)
}

/// [`attempt`] through a proxy that says the client is `client` (`X-Forwarded-For`).
fn attempt_from(
    app: &TestApp,
    client: Option<&str>,
    username: &str,
    password: &str,
) -> (u16, String, String, bool) {
    let mut req = bare()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}));
    if let Some(c) = client {
        req = req.header("x-forwarded-for", c);
    }
    let r = app.send(req);
    (
        r.status,
        r.code().to_string(),
        r.json["detail"].as_str().unwrap_or("").to_string(),
        r.headers.get("retry-after").is_some(),
    )
}

/// The throttle rows of `username` as an admin sees them: (client, failures, seconds from the
/// last failure to the end of the wait).
fn throttles_of(app: &TestApp, username: &str) -> Vec<(String, i64, i64)> {
    let r = app.get(&app.admin(), "/api/v1/throttles");
    r.assert_status(200);
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("RFC 3339")
    };
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["username"] == username)
        .map(|t| {
            (
                t["client"].as_str().unwrap_or("").to_string(),
                t["failures"].as_i64().unwrap_or(-1),
                (at(&t["delayed_until"]) - at(&t["last_failure_at"])).num_seconds(),
            )
        })
        .collect()
}

/// Makes the wait of `username`'s failures last (far into the future) or end (in the past), so
/// that no test depends on how fast it runs.
fn set_wait(app: &TestApp, username: &str, lasts: bool) {
    let until = if lasts {
        "2999-01-01 00:00:00"
    } else {
        "2000-01-01 00:00:00"
    };
    app.db
        .sql(&format!(
            "UPDATE sign_in_throttle SET delayed_until = '{until}' WHERE username = '{username}'"
        ))
        .expect("the wait is moved");
}

both! {
    fn a_name_that_does_not_exist_is_throttled_exactly_like_one_that_does(app: &TestApp) {
        let real = app.create_user("supervisor", None);
        let ghost = "nobody-by-this-name";
        let free = bonded_returns::flows::users::FREE_FAILURES;
        for n in 1..=free {
            let known = attempt(app, &real.username, &format!("wrong-password-{n}"));
            let unknown = attempt(app, ghost, &format!("wrong-password-{n}"));
            assert_eq!((known.0, known.1.as_str()), (401, "unauthenticated"), "attempt {n}: {known:?}");
            // Same status, code, words and headers: nothing tells whether the name exists.
            assert_eq!(known, unknown, "attempt {n}");
        }
        assert_eq!(throttles_of(app, &real.username), throttles_of(app, ghost));
        // While they wait, the right password gets the same answer as for a name that does not exist.
        set_wait(app, &real.username, true);
        set_wait(app, ghost, true);
        let waiting = attempt(app, &real.username, &real.password);
        assert_eq!((waiting.0, waiting.1.as_str(), waiting.3), (429, "rate_limited", true), "{waiting:?}");
        // (The seconds left may tick between the two answers: compared without them.)
        let plain = |r: (u16, String, String, bool)| (r.0, r.1, r.2.chars().filter(|c| !c.is_ascii_digit()).collect::<String>(), r.3);
        assert_eq!(plain(waiting), plain(attempt(app, ghost, "anything-at-all")));
        // A deactivated user's right password is the same 401 as a wrong one.
        let idle = app.create_user("supervisor", None);
        app.db.sql(&format!("UPDATE users SET active = false WHERE username = '{}'", idle.username)).expect("deactivated");
        let right = attempt(app, &idle.username, &idle.password);
        let wrong = attempt(app, &idle.username, "wrong-password-x");
        assert_eq!(right.0, 401);
        assert_eq!(right, wrong);
    }

    fn failures_slow_a_name_down_with_growing_waits_and_never_lock_it(app: &TestApp) {
        let u = app.create_user("supervisor", None);
        // A session opened before keeps working: whoever guesses at a name does not sign its
        // owner out.
        let session = session_token(app, &u.username, &u.password);
        let free = bonded_returns::flows::users::FREE_FAILURES;
        for n in 1..free {
            assert_eq!(attempt(app, &u.username, &format!("wrong-password-{n}")).0, 401);
            assert_eq!(throttles_of(app, &u.username), vec![("127.0.0.1".to_string(), i64::from(n), 0)], "no wait yet");
        }
        // From then on each failure doubles the wait: 1 s, 2 s, 4 s…
        for (n, wait) in [(free, 1), (free + 1, 2), (free + 2, 4), (free + 3, 8)] {
            set_wait(app, &u.username, false);
            assert_eq!(attempt(app, &u.username, &format!("wrong-password-{n}")).0, 401);
            assert_eq!(throttles_of(app, &u.username), vec![("127.0.0.1".to_string(), i64::from(n), wait)]);
        }
        // While the wait lasts: the right password, the name with spaces around it, more
        // guesses — all 429 with Retry-After, and none of them counts or moves the wait.
        set_wait(app, &u.username, true);
        let before = throttles_of(app, &u.username);
        for (name, password) in [
            (u.username.clone(), u.password.clone()),
            (format!("  {}  ", u.username), u.password.clone()),
            (u.username.clone(), "wrong-password-x".to_string()),
        ] {
            let r = attempt(app, &name, &password);
            assert_eq!((r.0, r.1.as_str(), r.3), (429, "rate_limited", true), "{name:?}: {r:?}");
            assert!(r.2.contains("try again in"), "{r:?}");
        }
        assert_eq!(throttles_of(app, &u.username), before, "attempts while waiting were counted");
        // Another spelling is another (unknown) name, not a way around the wait.
        assert_eq!(attempt(app, &u.username.to_uppercase(), &u.password).0, 401);
        app.send(bare().get(app.url("/api/v1/me")).header(COOKIE, with_cookie(&session)))
            .assert_status(200);
        // The wait ends: the right password signs in and clears the count.
        set_wait(app, &u.username, false);
        assert_eq!(attempt(app, &u.username, &u.password).0, 200);
        assert!(throttles_of(app, &u.username).is_empty());
    }

    fn guesses_sent_in_parallel_are_checked_one_at_a_time(app: &TestApp) {
        let u = app.create_user("supervisor", None);
        let url = app.url("/api/v1/session");
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..12)
                .map(|i| {
                    let (url, name) = (url.clone(), u.username.clone());
                    s.spawn(move || {
                        bare()
                            .post(url)
                            .json(&json!({"username": name, "password": format!("guess-{i}")}))
                            .send()
                            .expect("an answer")
                            .status()
                            .as_u16()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a guess")).collect()
        });
        assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
        // Each guess saw the failures before it: once the free ones were spent, the rest
        // waited (a slow machine may let a wait of 1 s pass before the next guess).
        let checked = statuses.iter().filter(|s| **s == 401).count() as i64;
        let free = i64::from(bonded_returns::flows::users::FREE_FAILURES);
        assert!(checked >= free && checked <= free + 2, "{checked} passwords were checked: {statuses:?}");
        assert_eq!(throttles_of(app, &u.username)[0].1, checked, "every checked guess was counted");
        // Other names are not slowed down by it.
        let other = app.create_user("supervisor", None);
        assert_eq!(attempt(app, &other.username, &other.password).0, 200);
    }

    fn six_correct_sign_ins_at_once_all_succeed(app: &TestApp) {
        let u = app.create_user("supervisor", None);
        let url = app.url("/api/v1/session");
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    let (url, name, password) = (url.clone(), u.username.clone(), u.password.clone());
                    s.spawn(move || {
                        bare()
                            .post(url)
                            .json(&json!({"username": name, "password": password}))
                            .send()
                            .expect("an answer")
                            .status()
                            .as_u16()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a sign-in")).collect()
        });
        assert_eq!(statuses, vec![200; 6]);
        assert!(throttles_of(app, &u.username).is_empty());
    }

    fn without_a_trusted_proxy_a_forwarded_address_is_ignored(app: &TestApp) {
        let u = app.create_user("supervisor", None);
        let free = bonded_returns::flows::users::FREE_FAILURES;
        for n in 1..=free {
            attempt_from(app, Some("203.0.113.5"), &u.username, &format!("wrong-{n}"));
        }
        assert_eq!(throttles_of(app, &u.username)[0].0, "127.0.0.1", "the header was believed");
        set_wait(app, &u.username, true);
        // Claiming another address does not get round the wait.
        assert_eq!(attempt_from(app, Some("203.0.113.6"), &u.username, &u.password).0, 429);
    }
}

/// Wrong passwords from one address do not stop the right password from another (behind a
/// configured proxy, which names the client in `X-Forwarded-For`); an admin sees the throttle
/// and clears it.
fn throttle_per_address_behind_a_trusted_proxy(app: &TestApp) {
    let u = app.create_user("supervisor", None);
    let (attacker, owner) = ("203.0.113.5", "198.51.100.7");
    for n in 1..=5 {
        let r = attempt_from(
            app,
            Some(&format!("{attacker}, 127.0.0.1")),
            &u.username,
            &format!("wrong-{n}"),
        );
        assert!(r.0 == 401 || r.0 == 429, "{r:?}");
    }
    set_wait(app, &u.username, true);
    assert_eq!(
        attempt_from(app, Some(attacker), &u.username, &u.password).0,
        429
    );
    // The owner, from elsewhere, signs in at once.
    assert_eq!(
        attempt_from(app, Some(owner), &u.username, &u.password).0,
        200
    );
    let rows = throttles_of(app, &u.username);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, attacker);
    // An admin sees it and clears it; the attacker's address is then tried at once again.
    let admin = app.admin();
    app.delete(
        &admin,
        &format!("/api/v1/throttles/{}?client=192.0.2.1", u.username),
    )
    .assert_problem(404, "not_found");
    let cleared = app.delete(
        &admin,
        &format!("/api/v1/throttles/{}?client={attacker}", u.username),
    );
    cleared.assert_status(200);
    assert_eq!(cleared.json["cleared"], 1);
    assert!(throttles_of(app, &u.username).is_empty());
    assert_eq!(
        attempt_from(app, Some(attacker), &u.username, &u.password).0,
        200
    );
    let entries = app.audit_entries(
        &admin,
        &format!("&action=throttle.clear&entity={}", u.username),
    );
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["actor"], ADMIN);
    app.delete(&admin, &format!("/api/v1/throttles/{}", u.username))
        .assert_problem(404, "not_found");
}

mod throttle_per_address_behind_a_trusted_proxy {
    use super::*;

    fn trusted(c: &mut bonded_returns::config::Config) {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    }

    #[test]
    fn sqlite() {
        run_configured(
            Backend::Sqlite,
            trusted,
            super::throttle_per_address_behind_a_trusted_proxy,
        )
    }

    #[test]
    fn postgres() {
        run_configured(
            Backend::Postgres,
            trusted,
            super::throttle_per_address_behind_a_trusted_proxy,
        )
    }
}

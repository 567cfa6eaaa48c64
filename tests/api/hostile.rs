//! A generated suite of hostile requests against every endpoint, sent over raw HTTP/1.1 (so
//! that paths, methods, headers and bytes go out exactly as generated, unnormalised) to an
//! app seeded with real data: warehouses, bins, cameras, users of every role, released lists
//! (made over the API and imported as CEB621/622 XML) and returns in every state.
//!
//! Every request is built to be refused — wrong JSON types, missing and unknown fields, huge
//! strings and numbers, overflowing and negative numbers, deep nesting, bodies over the limit,
//! bad UTF-8, NUL and control bytes, wrong or absent content types, odd and huge headers, bad
//! Idempotency-Keys, cookies and bearer tokens, cross-site origins, path tricks (`..`, `%2F`,
//! overlong ids, unicode, `%00`), wrong methods, hostile XML (entities, DOCTYPE, deep nesting,
//! wrong namespace, truncation, bad bytes, bad field values) — or is a read. Each answer must
//! be below 500; a 4xx must be a problem+json with a `code` (except a handful of requests the
//! HTTP layer refuses before the app sees them, see `Expect::Protocol`); a mutation must not
//! succeed; an import may answer 200 only with nothing created or updated. After each round
//! the audit head and the row count of every table are compared with the start, and at the
//! end the server must still serve reads and a real write.
//!
//! Reproducible: every worker draws from its own RNG seeded with `BR_HOSTILE_SEED` (default
//! `SEED`) and its number. Size: `BR_HOSTILE_REQUESTS` (per backend) overrides the defaults,
//! 80 000 on SQLite and 20 000 on PostgreSQL (where a request costs about three times as
//! much), so that every `cargo test` sends 100 000 and the two, side by side, take about a
//! minute and a half on two cores. Run only this suite with
//! `cargo test --test api hostile`; a longer run e.g. with
//! `BR_HOSTILE_REQUESTS=1000000 BR_HOSTILE_SEED=7 cargo test --test api hostile` (not
//! `--release`: the debug build traps integer overflow, which is one of the things sought).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::*;

/// The default seed; any other reproduces another suite.
const SEED: u64 = 0x0B0D_ED2E_7A25;
const SQLITE_REQUESTS: usize = 80_000;
const POSTGRES_REQUESTS: usize = 20_000;
/// Client threads (keep-alive connections).
const WORKERS: usize = 6;
/// State checks: after each of this many rounds.
const ROUNDS: usize = 4;

const MIB: usize = 1024 * 1024;

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn seed() -> u64 {
    std::env::var("BR_HOSTILE_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(SEED)
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: bytes out exactly as built, keep-alive, Content-Length and chunked.

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Raw {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Raw {
    fn new(addr: &str) -> Self {
        Self {
            addr: addr.to_string(),
            conn: None,
        }
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>, String> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr).map_err(|e| format!("connect: {e}"))?;
            s.set_read_timeout(Some(Duration::from_secs(60)))
                .map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::with_capacity(64 * 1024, s));
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    /// Sends `wire` (a whole request) and reads one answer. A kept-alive connection that the
    /// server had closed meanwhile is retried once on a new one.
    fn send(&mut self, wire: &[u8], head: bool, fresh: bool) -> Result<Answer, String> {
        if fresh {
            self.conn = None;
        }
        for attempt in 0..2 {
            let reused = self.conn.is_some();
            let conn = self.connect()?;
            let result = if wire.len() > 256 * 1024 {
                // The server may answer (413) before it has read it all: write on the side.
                let mut w = conn.get_ref().try_clone().map_err(|e| e.to_string())?;
                std::thread::scope(|s| {
                    s.spawn(move || {
                        let _ = w.write_all(wire);
                    });
                    read_answer(conn, head)
                })
            } else {
                match conn.get_mut().write_all(wire) {
                    Ok(()) => read_answer(conn, head),
                    Err(e) => Err(ReadError::Closed(format!("write: {e}"))),
                }
            };
            match result {
                Ok((answer, close)) => {
                    if close || fresh {
                        self.conn = None;
                    }
                    return Ok(answer);
                }
                Err(ReadError::Closed(e)) if reused && attempt == 0 => {
                    let _ = e;
                    self.conn = None;
                }
                Err(ReadError::Closed(e) | ReadError::Bad(e)) => {
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        Err("no answer".into())
    }
}

enum ReadError {
    /// The connection ended before the first byte of an answer.
    Closed(String),
    Bad(String),
}

fn read_line(r: &mut BufReader<TcpStream>, first: bool) -> Result<String, ReadError> {
    let mut line = Vec::new();
    match r.read_until(b'\n', &mut line) {
        Ok(0) if first => Err(ReadError::Closed("closed before answering".into())),
        Ok(0) => Err(ReadError::Bad("closed in the middle of an answer".into())),
        Ok(_) => Ok(String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string()),
        Err(e) if first => Err(ReadError::Closed(format!("read: {e}"))),
        Err(e) => Err(ReadError::Bad(format!("read: {e}"))),
    }
}

/// One answer (1xx interim answers skipped) and whether the connection is to be closed.
fn read_answer(r: &mut BufReader<TcpStream>, head: bool) -> Result<(Answer, bool), ReadError> {
    let mut first = true;
    loop {
        let status_line = read_line(r, first)?;
        first = false;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ReadError::Bad(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(r, false)?;
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        if (100..200).contains(&status) {
            continue;
        }
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        let close = answer
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let chunked = answer
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = answer
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        let bad = |e: std::io::Error| ReadError::Bad(format!("body: {e}"));
        if head || status == 204 || status == 304 {
        } else if chunked {
            loop {
                let size_line = read_line(r, false)?;
                let size =
                    usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| ReadError::Bad(format!("bad chunk size {size_line:?}")))?;
                if size == 0 {
                    while !read_line(r, false)?.is_empty() {}
                    break;
                }
                let start = answer.body.len();
                answer.body.resize(start + size, 0);
                r.read_exact(&mut answer.body[start..]).map_err(bad)?;
                read_line(r, false)?;
            }
        } else if let Some(n) = length {
            answer.body.resize(n, 0);
            r.read_exact(&mut answer.body).map_err(bad)?;
        } else {
            r.read_to_end(&mut answer.body).map_err(bad)?;
            return Ok((answer, true));
        }
        return Ok((answer, close));
    }
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// What an answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A read: any status below 500 (a 4xx a problem).
    Read,
    /// Must be refused: a 4xx problem.
    Refused,
    /// An import: a 4xx problem, or 200 with nothing created or updated.
    Import,
    /// Malformed at the HTTP level: refused by the HTTP layer before the app sees it, with a
    /// bare 4xx of the framework's own (400, 431) and the connection closed: no problem+json
    /// can be made there.
    Protocol,
}

struct Req {
    /// Index into the route table (for coverage), `None` for requests to no route.
    route: Option<usize>,
    method: String,
    target: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    expect: Expect,
    /// The generator's reason, for the report.
    what: String,
    /// Sent as bytes exactly (protocol tricks); otherwise built from the parts.
    raw: Option<Vec<u8>>,
}

impl Req {
    fn wire(&self, host: &str) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut w = Vec::with_capacity(self.body.len() + 512);
        w.extend_from_slice(self.method.as_bytes());
        w.push(b' ');
        w.extend_from_slice(&self.target);
        w.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        w.extend_from_slice(host.as_bytes());
        w.extend_from_slice(b"\r\n");
        for (k, v) in &self.headers {
            w.extend_from_slice(k.as_bytes());
            w.extend_from_slice(b": ");
            w.extend_from_slice(v);
            w.extend_from_slice(b"\r\n");
        }
        if !self.body.is_empty() || self.method == "POST" {
            w.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        w.extend_from_slice(b"\r\n");
        w.extend_from_slice(&self.body);
        w
    }

    fn describe(&self) -> String {
        let target = String::from_utf8_lossy(&self.target);
        let body = String::from_utf8_lossy(&self.body[..self.body.len().min(160)]).into_owned();
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(&v[..v.len().min(60)]).into_owned();
                format!("{k}: {v}")
            })
            .collect();
        format!(
            "{} {} [{}] ({} body bytes: {body:?}) headers {headers:?}",
            self.method,
            clip(&target, 200),
            self.what,
            self.body.len()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The world the requests are aimed at.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Admin,
    Supervisor,
    FloorA,
    FloorB,
}

struct World {
    host: String,
    /// Bearer tokens (also valid as the session cookie) per role.
    tokens: Vec<(Role, String)>,
    seed: Seed,
    /// Returns by state.
    returns: BTreeMap<&'static str, String>,
    /// A list with nothing applied for yet (a valid application could be made for it).
    open_list: List,
    /// Every list made, by invtNo.
    invt_nos: Vec<String>,
    waybills: Vec<String>,
    pending_disposal: i64,
    samples: Vec<(&'static str, String)>,
    /// A label printer of A, and a print job of it that was sent (so that no reprint or
    /// cancel of it can be done: any body is refused).
    printer: String,
    print_job: i64,
}

impl World {
    fn token(&self, role: Role) -> &str {
        &self
            .tokens
            .iter()
            .find(|(r, _)| *r == role)
            .expect("a token")
            .1
    }

    fn any_return(&self, rng: &mut StdRng) -> String {
        let v: Vec<&String> = self.returns.values().collect();
        v.choose(rng).map(|s| s.to_string()).unwrap_or_default()
    }
}

/// Parties, users, lists (JSON and XML) and returns in every state.
fn build_world(app: &TestApp) -> World {
    let k = Kit::new(app);
    let samples: Vec<(&'static str, String)> = vec![
        ("ceb621", fixture("ceb621_sample.xml")),
        ("ceb622", fixture("ceb622_sample.xml")),
        ("ceb625", fixture("ceb625_sample.xml")),
        ("ceb626", fixture("ceb626_sample.xml")),
        ("ceb625", fixture("ceb625_messy.xml")),
        ("ceb625", fixture("ceb625_field_errors.xml")),
        (
            "ceb621",
            include_str!("../../src/demo/ceb621.xml").to_string(),
        ),
        (
            "ceb622",
            include_str!("../../src/demo/ceb622.xml").to_string(),
        ),
    ];
    // Real lists from customs messages too.
    for name in ["ceb621_sample.xml", "ceb622_sample.xml"] {
        k.import(&k.admin, fixture(name)).assert_status(200);
    }
    let mut returns = BTreeMap::new();
    let mut invt_nos = Vec::new();
    let mut waybills = Vec::new();
    for state in ["declared", "received", "sorted", "inspected"] {
        let (l, id) = k.return_in(state);
        invt_nos.push(l.invt_no.clone());
        waybills.push(l.waybill.clone());
        returns.insert(state, id);
    }
    // Held, from received.
    let (l, held) = k.return_in("received");
    k.hold(&held).assert_status(200);
    invt_nos.push(l.invt_no);
    waybills.push(l.waybill);
    returns.insert("held", held);
    // Partly restocked (bonded stock exists), and one waiting for a destruction approval.
    let (l, restocked) = k.return_in("inspected");
    k.restock(&restocked, 1, 2).assert_status(200);
    invt_nos.push(l.invt_no);
    returns.insert("restocking", restocked);
    let (l, disposing) = k.return_in("inspected");
    k.dispose(&disposing, 2, 1, "destroy").assert_status(200);
    invt_nos.push(l.invt_no);
    returns.insert("disposing", disposing);
    let pending = app.get(&k.sup, "/api/v1/disposals?status=pending_approval");
    pending.assert_status(200);
    let pending_disposal = pending.json["items"][0]["id"]
        .as_i64()
        .expect("a pending disposal");
    let open_list = k.released();
    invt_nos.push(open_list.invt_no.clone());
    let tokens = vec![
        (Role::Admin, app.make_token(&k.admin, ADMIN_PASSWORD)),
        (Role::Supervisor, app.make_token(&k.sup, PASSWORD)),
        (Role::FloorA, app.make_token(&k.floor_a, PASSWORD)),
        (Role::FloorB, app.make_token(&k.floor_b, PASSWORD)),
    ];
    let printer = "PRN-A1".to_string();
    app.post_json(
        &k.admin,
        &format!("/api/v1/warehouses/{}/printers", k.seed.a.warehouse),
        &json!({"code": printer, "name": "收货台打印机", "address": "192.0.2.10", "area": "receiving"}),
    )
    .assert_status(201);
    let queued = app.post_json(
        &k.floor_a,
        &format!(
            "/api/v1/warehouses/{}/printers/{printer}/jobs",
            k.seed.a.warehouse
        ),
        &json!({"label": "bin", "id": k.seed.a.bin("restock")}),
    );
    queued.assert_status(201);
    let print_job = queued.json["id"].as_i64().expect("a print job");
    app.db
        .sql(&format!(
            "UPDATE print_jobs SET state = 'sent', next_try_at = NULL WHERE id = {print_job}"
        ))
        .expect("the print job is marked sent");
    World {
        host: app.base_url.trim_start_matches("http://").to_string(),
        tokens,
        seed: k.seed.clone(),
        returns,
        open_list,
        invt_nos,
        waybills,
        pending_disposal,
        samples,
        printer,
        print_job,
    }
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/customs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Routes and the valid shapes their hostile variants are made from.

/// How a request to a route may be made invalid without any doubt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// GET: reads, anything goes.
    Read,
    /// A JSON body; refused for anything but a valid body from `roles`.
    Json,
    /// No body; done for anyone signed in (tokens, sign-out): only bad credentials or a
    /// foreign origin make it invalid.
    AuthOnly,
    /// The customs XML import.
    Xml,
}

struct Route {
    method: &'static str,
    template: String,
    shape: Shape,
    /// Who may do it (mutations).
    roles: &'static [Role],
    /// Query parameters it knows.
    params: Vec<String>,
}

/// A valid body for a JSON route and the fields whose values may be made hostile without
/// doubt that the result is refused: (field path, kind).
fn template(route: &Route, w: &World) -> Template {
    let a = &w.seed.a;
    let r = |s: &str| w.returns[s].clone();
    use Soft::*;
    let (path_state, body, soft): (&str, Value, Vec<(&'static str, Soft)>) = match route
        .template
        .as_str()
    {
        "/api/v1/session" => (
            "",
            json!({"username": "nobody-here", "password": "not-the-password"}),
            vec![("username", Huge(65)), ("password", Huge(513))],
        ),
        "/api/v1/enterprises" => (
            "",
            json!({"code": "4401960077", "name": "广州某报关行", "kinds": ["agent"]}),
            vec![("code", Code), ("name", Huge(5000)), ("kinds.0", Code)],
        ),
        "/api/v1/enterprises/{code}/ratings" => (
            "",
            json!({"rating": "certified", "effective_from": "2026-01-01T00:00:00+08:00", "reference": "署信〔2026〕1号"}),
            vec![("rating", Code), ("reference", Huge(5000))],
        ),
        "/api/v1/warehouses" => (
            "",
            json!({"code": "WH-C", "name": "丙仓", "operator": w.seed.b.operator, "zone": "西永综保区"}),
            vec![
                ("code", Code),
                ("name", Huge(5000)),
                ("operator", Code),
                ("zone", Huge(5000)),
            ],
        ),
        "/api/v1/warehouses/{code}/bins" => (
            "",
            json!({"code": "A-RST-99", "area": "restock"}),
            vec![("code", Code), ("area", Code)],
        ),
        "/api/v1/warehouses/{code}/cameras" => (
            "",
            json!({"code": "CAM-A9", "name": "复核台", "area": "discrepancy"}),
            vec![("code", Code), ("name", Huge(5000)), ("area", Code)],
        ),
        "/api/v1/warehouses/{code}/printers" => (
            "",
            json!({"code": "PRN-A9", "name": "复核台打印机", "address": "192.0.2.20:9100", "area": "discrepancy"}),
            vec![
                ("code", Code),
                ("name", Huge(5000)),
                ("address", Code),
                ("area", Code),
                ("size", Code),
            ],
        ),
        // A printer that is not there: even a body let through changes nothing.
        "/api/v1/warehouses/{code}/printers/{printer}" => (
            "",
            json!({"name": "收货台打印机", "address": "192.0.2.21", "enabled": true}),
            vec![("name", Huge(5000)), ("address", Code), ("area", Code)],
        ),
        "/api/v1/warehouses/{code}/printers/{printer}/jobs" => (
            "",
            json!({"label": "bin", "id": a.bin("restock")}),
            vec![("label", Code), ("id", Code)],
        ),
        // The print job was sent: no reprint nor cancel of it can be made.
        "/api/v1/print-jobs/{id}/retry" => {
            ("", json!({"printer": w.printer}), vec![("printer", Code)])
        }
        "/api/v1/print-jobs/{id}/cancel" => (
            "",
            json!({"reason": "已用浏览器打印"}),
            vec![("reason", Huge(201))],
        ),
        "/api/v1/users" => (
            "",
            json!({"username": "new.user", "role": "floor", "warehouse": a.warehouse, "password": "a-long-password"}),
            vec![
                ("username", Code),
                ("role", Code),
                ("warehouse", Code),
                ("password", Huge(5000)),
            ],
        ),
        // A user nobody signs in as here: even a body let through changes no one's sessions.
        "/api/v1/users/{username}" => (
            "",
            json!({"active": false, "password": "a-long-password-2026"}),
            vec![("active", Code), ("password", Huge(513))],
        ),
        "/api/v1/declarations" => {
            let mut l = w.open_list.clone();
            l.invt_no = "80142026I900000001".into();
            l.order_no = "YMT2026HOSTILE01".into();
            l.waybill = "SF900000000001".into();
            (
                "",
                l.json(),
                vec![
                    ("invt_no", Code),
                    ("ebc_code", Code),
                    ("agent_code", Code),
                    ("lines.0.gcode", Code),
                ],
            )
        }
        "/api/v1/returns" => (
            "",
            json!({"invt_no": w.open_list.invt_no, "logistics_no": w.open_list.waybill, "reason": "七天无理由退货", "lines": [{"gnum": 1, "qty": 1}]}),
            vec![
                ("invt_no", Code),
                ("logistics_no", Code),
                ("reason", Huge(5000)),
                ("lines.0.qty", Qty),
                ("lines.0.gnum", Gnum),
            ],
        ),
        "/api/v1/returns/{id}/receive" => (
            "declared",
            // `printer` is optional: only its hostile values are sent.
            json!({"warehouse": a.warehouse, "camera": a.camera}),
            vec![
                ("warehouse", Code),
                ("camera", Code),
                ("bin", Code),
                ("printer", Code),
            ],
        ),
        "/api/v1/returns/{id}/sort" => (
            "received",
            json!({"items": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}], "bin": a.bin("pending_inspection")}),
            vec![
                ("bin", Code),
                ("items.0.qty", Qty),
                ("items.1.gnum", Gnum),
                ("items.1.qty", Qty),
            ],
        ),
        "/api/v1/returns/{id}/inspect" => (
            "sorted",
            json!({"lines": [{"gnum": 1, "intact": 3}, {"gnum": 2, "intact": 2}]}),
            vec![
                ("lines.0.intact", Qty),
                ("lines.1.used", Qty),
                ("lines.0.gnum", Gnum),
                ("lines.1.not_original", Qty),
            ],
        ),
        "/api/v1/returns/{id}/restock" => (
            "inspected",
            json!({"gnum": 1, "qty": 1, "bin": a.bin("restock")}),
            vec![("gnum", Gnum), ("qty", Qty), ("bin", Code)],
        ),
        "/api/v1/returns/{id}/dispose" => (
            "inspected",
            json!({"gnum": 2, "qty": 1, "route": "exit", "reference": "出区单-1"}),
            vec![
                ("gnum", Gnum),
                ("qty", Qty),
                ("route", Code),
                ("reference", Huge(5000)),
            ],
        ),
        "/api/v1/returns/{id}/hold" => (
            "received",
            json!({"reason": "海关布控查验"}),
            vec![("reason", Text)],
        ),
        "/api/v1/returns/{id}/release" => (
            "held",
            json!({"reason": "查验无异常"}),
            vec![("reason", Text)],
        ),
        "/api/v1/disposals/{id}/approve" | "/api/v1/disposals/{id}/reject" => {
            ("", json!({"reason": "同意销毁"}), vec![("reason", Text)])
        }
        other => panic!("no body template for {other}: add one to tests/api/hostile.rs"),
    };
    let path = if route.template.contains("/returns/{id}/") {
        route.template.replace("{id}", &r(path_state))
    } else if route.template.contains("/disposals/{id}/") {
        route
            .template
            .replace("{id}", &w.pending_disposal.to_string())
    } else if route.template.contains("/print-jobs/{id}/") {
        route.template.replace("{id}", &w.print_job.to_string())
    } else if route.template.ends_with("/printers/{printer}") {
        route
            .template
            .replace("{code}", &a.warehouse)
            .replace("{printer}", "PRN-NOBODY")
    } else if route.template.contains("{printer}") {
        route
            .template
            .replace("{code}", &a.warehouse)
            .replace("{printer}", &w.printer)
    } else if route.template.contains("{username}") {
        route.template.replace("{username}", "nobody.here")
    } else {
        route.template.replace(
            "{code}",
            if route.template.contains("enterprises") {
                &a.operator
            } else {
                &a.warehouse
            },
        )
    };
    (body, soft, path)
}

/// Kinds of fields whose hostile values must be refused.
#[derive(Clone, Copy, Debug)]
enum Soft {
    /// A code, reference or enumerated value: no hostile string is one.
    Code,
    /// Free text that is checked (non-empty, bounded, no control characters).
    Text,
    /// Free text, only its length is certainly refused (at least this many characters).
    Huge(usize),
    /// A quantity (i64).
    Qty,
    /// A line number (u32).
    Gnum,
}

const HOSTILE_CODES: &[&str] = &[
    "",
    "   ",
    "\u{0}",
    "WH-A\u{0}",
    "a\u{7}\u{1b}[31mb",
    "../../etc/passwd",
    "..\\..\\windows",
    "x'; DROP TABLE audit_entries; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/x}",
    "%00%2F..%2F",
    "ＷＨ－Ａ",
    "退货中心仓",
    "\u{202e}A-WH",
    "🦀🦀🦀",
    "A\u{0301}\u{0301}\u{0301}",
    "\u{feff}WH-A",
    "WH A",
    "line\nbreak",
];

fn huge_string(rng: &mut StdRng, min: usize) -> String {
    let n = rng.gen_range(min.max(1)..=(min.max(1) * 4).max(120_000));
    match rng.gen_range(0..4) {
        0 => "x".repeat(n),
        1 => "退".repeat(n),
        2 => "🦀".repeat(n),
        _ => (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect(),
    }
}

fn soft_value(rng: &mut StdRng, kind: Soft) -> (Value, String) {
    match kind {
        Soft::Code => {
            if rng.gen_bool(0.2) {
                (json!(huge_string(rng, 200)), "huge code".into())
            } else {
                let s = HOSTILE_CODES.choose(rng).expect("a code");
                (json!(s), format!("code {s:?}"))
            }
        }
        Soft::Text => match rng.gen_range(0..5) {
            0 => (json!(huge_string(rng, 501)), "huge text".into()),
            1 => (json!(""), "empty text".into()),
            2 => (json!(" \t "), "blank text".into()),
            3 => (json!("a\u{0}b"), "NUL in text".into()),
            _ => (json!("a\u{1b}[2Jb"), "control characters in text".into()),
        },
        Soft::Huge(min) => (
            json!(huge_string(rng, min)),
            format!("more than {min} characters"),
        ),
        Soft::Qty => {
            let v = *[
                i64::MAX,
                i64::MIN,
                -1,
                -9_999_999_999,
                i64::MAX - 1,
                1 << 53,
                (1 << 31) + 7,
            ]
            .choose(rng)
            .expect("a qty");
            (json!(v), format!("qty {v}"))
        }
        Soft::Gnum => {
            let v = *[0u32, u32::MAX, 2_147_483_648, 100, 4_000_000_000]
                .choose(rng)
                .expect("a gnum");
            (json!(v), format!("gnum {v}"))
        }
    }
}

/// Sets `path` (`a.0.b`) in `v`, making objects where needed.
fn set_path(v: &mut Value, path: &str, new: Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        if let Ok(n) = p.parse::<usize>() {
            let arr = cur.as_array_mut().expect("an array on the path");
            if last {
                arr[n] = new;
                return;
            }
            cur = &mut arr[n];
        } else {
            let obj = cur.as_object_mut().expect("an object on the path");
            if last {
                obj.insert(p.to_string(), new);
                return;
            }
            cur = obj.entry(p.to_string()).or_insert(Value::Null);
        }
    }
}

/// Every (path, value) leaf of `v`, arrays and objects included.
fn fields(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push((p.clone(), x.clone()));
                fields(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{prefix}.{i}");
                out.push((p.clone(), x.clone()));
                fields(x, &p, out);
            }
        }
        _ => {}
    }
}

fn remove_path(v: &mut Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (p, l),
        None => ("", path),
    };
    let mut cur = v;
    if !parent.is_empty() {
        for p in parent.split('.') {
            cur = match p.parse::<usize>() {
                Ok(n) => &mut cur[n],
                Err(_) => &mut cur[p],
            };
        }
    }
    match cur {
        Value::Object(o) => {
            o.remove(last);
        }
        Value::Array(a) => {
            if let Ok(n) = last.parse::<usize>() {
                if n < a.len() {
                    a.remove(n);
                }
            }
        }
        _ => {}
    }
}

/// Optional fields (absent is fine), nullable ones (null is fine) and ones with a default.
const OPTIONAL: &[&str] = &[
    "gnum",
    "effective_from",
    "warehouse",
    "bin",
    "bar_code",
    "unmatched",
    "intact",
    "damaged_packaging",
    "used",
    "defective",
    "not_original",
    "code",
];
const NULLABLE: &[&str] = &[
    "effective_from",
    "warehouse",
    "bin",
    "bar_code",
    "code",
    "gnum",
    "printer",
];

/// A wrong JSON type for a field whose valid value is `valid`: refused by the parser.
fn wrong_type(rng: &mut StdRng, name: &str, valid: &Value) -> Option<(Value, String)> {
    let candidates: Vec<Value> = match valid {
        Value::String(_) => vec![
            json!(12345),
            json!(true),
            json!({"$ne": null}),
            json!(["x"]),
            json!(-1.5),
            json!(1e300),
        ],
        Value::Number(_) => vec![
            json!("1"),
            json!(true),
            json!({"n": 1}),
            json!([1]),
            json!(1.5),
            json!(-0.000001),
            serde_json::from_str("1e400").unwrap_or(json!(1.5)),
            serde_json::from_str("18446744073709551616").unwrap_or(json!(1.5)),
            serde_json::from_str("-9223372036854775809").unwrap_or(json!(1.5)),
            serde_json::from_str("99999999999999999999999999999999999999").unwrap_or(json!(1.5)),
        ],
        Value::Array(_) => vec![json!("x"), json!(1), json!({"0": 1}), json!(true)],
        Value::Object(_) => vec![json!([]), json!("x"), json!(0)],
        _ => return None,
    };
    let mut candidates = candidates;
    if !NULLABLE.contains(&name) {
        candidates.push(Value::Null);
    }
    // A float or a big number where only an i64 or u32 fits, a number for a string…
    // except that nothing ever turns a number into a valid string or vice versa.
    let v = candidates.choose(rng)?.clone();
    let what = format!("{name} = {}", truncate(&v.to_string(), 40));
    Some((v, what))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn deep(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// A body the JSON parser refuses whatever the route (given the valid `body`).
fn hard_body(rng: &mut StdRng, body: &Value) -> (Vec<u8>, String) {
    let valid = serde_json::to_vec(body).expect("JSON");
    let mut leaves = Vec::new();
    fields(body, "", &mut leaves);
    let name_of = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    match rng.gen_range(0..20) {
        0..=4 => {
            // A wrong type somewhere.
            for _ in 0..20 {
                let (p, v) = leaves.choose(rng).expect("fields").clone();
                let name = name_of(&p);
                if name.parse::<usize>().is_ok() && v.is_object() {
                    continue;
                }
                if let Some((bad, what)) = wrong_type(rng, &name, &v) {
                    let mut b = body.clone();
                    set_path(&mut b, &p, bad);
                    return (
                        serde_json::to_vec(&b).expect("JSON"),
                        format!("wrong type: {p}: {what}"),
                    );
                }
            }
            (b"{\"unknown\": true}".to_vec(), "an unknown field".into())
        }
        5..=6 => {
            // A required field missing.
            let required: Vec<&(String, Value)> = leaves
                .iter()
                .filter(|(p, _)| {
                    let n = name_of(p);
                    n.parse::<usize>().is_err() && !OPTIONAL.contains(&n.as_str())
                })
                .collect();
            let (p, _) = required.choose(rng).expect("a required field");
            let mut b = body.clone();
            remove_path(&mut b, p);
            (
                serde_json::to_vec(&b).expect("JSON"),
                format!("{p} missing"),
            )
        }
        7..=8 => {
            // An unknown field, at the top or inside.
            let mut b = body.clone();
            let objects: Vec<String> = std::iter::once(String::new())
                .chain(
                    leaves
                        .iter()
                        .filter(|(_, v)| v.is_object())
                        .map(|(p, _)| p.clone()),
                )
                .collect();
            let at = objects.choose(rng).expect("an object").clone();
            let key = *[
                "is_admin",
                "__proto__",
                "role\u{0}",
                "Reason",
                "qty ",
                "constructor",
                "$where",
                "💥",
            ]
            .choose(rng)
            .expect("a key");
            let p = if at.is_empty() {
                key.to_string()
            } else {
                format!("{at}.{key}")
            };
            if at.is_empty() {
                b[key] = json!(true);
            } else {
                set_path(&mut b, &p, json!(true));
            }
            (
                serde_json::to_vec(&b).expect("JSON"),
                format!("unknown field {p:?}"),
            )
        }
        9 => {
            // Not an object at all.
            let v = *[
                "null",
                "true",
                "0",
                "-1",
                "\"text\"",
                "[]",
                "[{}]",
                "1e400",
                "\"\\u0000\"",
            ]
            .choose(rng)
            .expect("a value");
            (v.as_bytes().to_vec(), format!("body {v}"))
        }
        10 => {
            // Truncated.
            let cut = rng.gen_range(1..valid.len().max(2));
            let mut t = valid[..cut].to_vec();
            if t.iter().all(|b| b.is_ascii_whitespace()) {
                t = b"{".to_vec();
            }
            (t, format!("truncated at {cut}"))
        }
        11 => {
            // Junk after the value.
            let junk = *["}", "x", "{}", ",", "\u{0}", "\n{\"a\":1}", "]"]
                .choose(rng)
                .expect("junk");
            (
                [valid.as_slice(), junk.as_bytes()].concat(),
                format!("junk after the body: {junk:?}"),
            )
        }
        12 => {
            // Invalid UTF-8 inside a string (or anywhere).
            let bad: &[u8] = [
                &b"\xff"[..],
                b"\xc3\x28",
                b"\xc0\xaf",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\x80",
                b"\xfe\xfe\xff\xff",
            ]
            .choose(rng)
            .expect("bytes");
            let quotes: Vec<usize> = valid
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'"')
                .map(|(i, _)| i)
                .collect();
            let at = quotes.get(1).copied().unwrap_or(1);
            let at = if rng.gen_bool(0.7) {
                at
            } else {
                rng.gen_range(0..valid.len())
            };
            let mut t = valid.clone();
            t.splice(at..at, bad.iter().copied());
            (t, format!("invalid UTF-8 {bad:02x?} at {at}"))
        }
        13 => {
            // Raw control characters or NUL inside a string.
            let c = *[0u8, 1, 7, 8, 0x0b, 0x1b, 0x1f]
                .choose(rng)
                .expect("a byte");
            let quotes: Vec<usize> = valid
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'"')
                .map(|(i, _)| i)
                .collect();
            let at = quotes.get(1).copied().unwrap_or(1);
            let mut t = valid.clone();
            t.insert(at, c);
            (t, format!("raw byte {c:#04x} in a string"))
        }
        14 => {
            // Deep nesting, as the body or a field.
            let depth = *[129usize, 500, 5_000, 100_000]
                .choose(rng)
                .expect("a depth");
            let (o, c) = if rng.gen_bool(0.5) {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let nest = deep(depth, o, c);
            if rng.gen_bool(0.5) {
                (nest.into_bytes(), format!("nesting {depth} deep"))
            } else {
                let (p, _) = leaves.choose(rng).expect("a field").clone();
                let s = String::from_utf8(valid.clone()).expect("UTF-8");
                let key = format!("\"{}\":", name_of(&p));
                let t = match s.find(&key) {
                    Some(i) => format!(
                        "{}{}{}{}",
                        &s[..i + key.len()],
                        nest,
                        ",\"zz\":",
                        &s[i + key.len()..]
                    ),
                    None => nest,
                };
                (t.into_bytes(), format!("{p} nested {depth} deep"))
            }
        }
        15 if rng.gen_bool(0.3) => {
            // Over the JSON limit (1 MiB) or over the request limit (10 MiB).
            let n = if rng.gen_bool(0.97) {
                MIB + rng.gen_range(1..4096)
            } else {
                10 * MIB + 1
            };
            let mut t = b"{\"pad\": \"".to_vec();
            t.resize(n, b'x');
            t.extend_from_slice(b"\"}");
            (t, format!("{n} bytes"))
        }
        16 => {
            // Duplicate keys: the second of a required field with a wrong type.
            let s = String::from_utf8(valid).expect("UTF-8");
            (
                s.replacen('{', "{\"zzz\":[],", 1).into_bytes(),
                "an unknown key first".into(),
            )
        }
        17 => {
            // A byte-order mark or UTF-16.
            if rng.gen_bool(0.5) {
                (
                    [b"\xef\xbb\xbf".as_slice(), &valid].concat(),
                    "a UTF-8 byte-order mark".into(),
                )
            } else {
                let s = String::from_utf8(valid).expect("UTF-8");
                let mut t = vec![0xff, 0xfe];
                for u in s.encode_utf16() {
                    t.extend_from_slice(&u.to_le_bytes());
                }
                (t, "UTF-16".into())
            }
        }
        18 if rng.gen_bool(0.5) => {
            // A number literal no integer field takes (or that is not JSON at all).
            let lit = *[
                "1e400",
                "18446744073709551616",
                "-9223372036854775809",
                "0x10",
                "+1",
                "01",
                ".5",
                "1.",
                "-",
                "NaN",
                "-Infinity",
                "1_000",
                "１",
            ]
            .choose(rng)
            .expect("a literal");
            let s = String::from_utf8(valid).expect("UTF-8");
            let at = s
                .char_indices()
                .find(|(i, c)| c.is_ascii_digit() && s[..*i].ends_with("\":"))
                .map(|(i, _)| i);
            match at {
                Some(i) => {
                    let end = s[i..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(s.len(), |e| i + e);
                    (
                        format!("{}{lit}{}", &s[..i], &s[end..]).into_bytes(),
                        format!("number literal {lit}"),
                    )
                }
                None => (
                    format!("{{\"n\": {lit}}}").into_bytes(),
                    format!("number literal {lit} alone"),
                ),
            }
        }
        18 => {
            // A huge unknown field.
            let mut b = body.clone();
            b["zz_huge"] = json!("z".repeat(rng.gen_range(10_000..300_000)));
            (
                serde_json::to_vec(&b).expect("JSON"),
                "a huge unknown field".into(),
            )
        }
        _ => {
            // Not JSON.
            let v = *[
                "hello",
                "<xml/>",
                "a=1&b=2",
                "--x\r\nContent-Disposition: form-data\r\n",
                "\u{0}\u{0}\u{0}",
                "{'single': 'quotes'}",
                "{\"a\":NaN}",
                "{\"a\":Infinity}",
                "{\"a\":01}",
                "{\"a\":.5}",
                "{\"a\":\"\\x41\"}",
                "{\"a\":\"\\ud800\"}",
                "/* c */ {}",
            ]
            .choose(rng)
            .expect("junk");
            (v.as_bytes().to_vec(), format!("not JSON: {v:?}"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile XML.

/// The text of every `<…name>` element replaced by `value` (prefix or not).
fn replace_all_values(xml: &str, name: &str, value: &str) -> Option<String> {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    let mut n = 0;
    loop {
        let open = [format!("<ceb:{name}>"), format!("<{name}>")]
            .into_iter()
            .filter_map(|t| rest.find(&t).map(|i| (i, t)))
            .min();
        let Some((i, tag)) = open else { break };
        let start = i + tag.len();
        let Some(end) = rest[start..].find("</") else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + end..];
        n += 1;
    }
    out.push_str(rest);
    (n > 0).then_some(out)
}

fn xml_body(rng: &mut StdRng, w: &World) -> (Vec<u8>, String) {
    let (kind, sample) = w.samples.choose(rng).expect("a sample");
    let s = sample.as_str();
    let end = s.rfind("</").unwrap_or(s.len());
    let decl_end = s.find("?>").map(|i| i + 2).unwrap_or(0);
    match rng.gen_range(0..16) {
        0 => (
            fixture("billion_laughs.xml").into_bytes(),
            "billion laughs".into(),
        ),
        1 => (
            fixture("external_entity.xml").into_bytes(),
            "external entity".into(),
        ),
        2 => (
            fixture("wrong_namespace.xml").into_bytes(),
            "wrong namespace file".into(),
        ),
        3 => {
            let doctype = *[
                "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
                "<!DOCTYPE r SYSTEM \"file:///etc/passwd\">",
                "<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p;]>",
                "<!DOCTYPE r PUBLIC \"-//X//Y\" \"http://127.0.0.1:9/y.dtd\">",
                "<!DOCTYPE r [<!ELEMENT r ANY>]>",
            ]
            .choose(rng)
            .expect("a doctype");
            (
                format!("{}{doctype}{}", &s[..decl_end], &s[decl_end..]).into_bytes(),
                format!("{kind} with {doctype}"),
            )
        }
        4 => {
            // Wrong namespace, or none.
            let ns = *[
                "http://www.chinaport.gov.cn/ceb2",
                "",
                "urn:x",
                "http://www.chinaport.gov.cn/CEB",
            ]
            .choose(rng)
            .expect("a namespace");
            (
                s.replace("http://www.chinaport.gov.cn/ceb\"", &format!("{ns}\""))
                    .into_bytes(),
                format!("{kind} in namespace {ns:?}"),
            )
        }
        5 => {
            // Truncated before the end of the root.
            let cut = rng.gen_range(0..end.max(1));
            let mut cut = cut;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            (
                s.as_bytes()[..cut].to_vec(),
                format!("{kind} truncated at {cut}"),
            )
        }
        6 => {
            // Deep nesting inside the root.
            let depth = *[33usize, 100, 1_000, 50_000].choose(rng).expect("a depth");
            let body = format!(
                "<?xml version=\"1.0\"?><ceb:CEB621Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" version=\"1.0\">{}</ceb:CEB621Message>",
                deep(depth, "<ceb:Inventory>", "</ceb:Inventory>")
            );
            (body.into_bytes(), format!("nesting {depth} deep"))
        }
        7 => {
            // Invalid UTF-8 or UTF-16 anywhere.
            if rng.gen_bool(0.2) {
                let mut t = vec![0xff, 0xfe];
                for u in s.encode_utf16() {
                    t.extend_from_slice(&u.to_le_bytes());
                }
                (t, format!("{kind} in UTF-16"))
            } else {
                let at = rng.gen_range(0..s.len());
                let mut t = s.as_bytes().to_vec();
                let bad: &[u8] = [&b"\xff"[..], b"\xc0\xaf", b"\xed\xa0\x80", b"\x80"]
                    .choose(rng)
                    .expect("bytes");
                t.splice(at..at, bad.iter().copied());
                (t, format!("{kind} with invalid UTF-8 at {at}"))
            }
        }
        8 => {
            // A character XML forbids, inside a field's text.
            let c = *[
                "\u{0}", "\u{1}", "\u{8}", "\u{b}", "\u{c}", "\u{1b}", "\u{1f}", "\u{fffe}",
                "\u{ffff}",
            ]
            .choose(rng)
            .expect("a char");
            let field = *[
                "invtNo",
                "gname",
                "ebcName",
                "returnInfo",
                "gcode",
                "logisticsNo",
                "buyerName",
                "reason",
            ]
            .choose(rng)
            .expect("a field");
            match replace_all_values(s, field, &format!("A{c}B")) {
                Some(t) => (t.into_bytes(), format!("{kind}: {c:?} in every {field}")),
                None => (format!("<{c}>").into_bytes(), format!("{c:?} as a tag")),
            }
        }
        9 => {
            // Character references to what XML forbids, and unknown entities.
            let r = *[
                "&#0;",
                "&#x1;",
                "&#xD800;",
                "&#99999999999;",
                "&#x110000;",
                "&lol;",
                "&amp",
                "&#;",
                "&#x;",
            ]
            .choose(rng)
            .expect("a reference");
            match replace_all_values(s, "invtNo", r) {
                Some(t) => (t.into_bytes(), format!("{kind}: {r} as every invtNo")),
                None => (r.as_bytes().to_vec(), format!("{r} alone")),
            }
        }
        10 => {
            // Hostile values in a required field of every item.
            let (field, value) = *[
                ("qty", "1.5"),
                ("qty", "-1"),
                ("qty", "1e400"),
                ("qty", "99999999999999999999999"),
                ("qty", ""),
                ("gnum", "-1"),
                ("gnum", "4294967296"),
                ("gnum", "0"),
                ("invtNo", "../../../../etc/passwd"),
                ("invtNo", "x'; DROP TABLE declarations; --"),
                ("gcode", "３３０４９９００９９"),
                // (appTime of a list is a field the warehouse does not use: a list with an odd
                // one is taken and flagged, as customs reads it; a negative returnStatus is a
                // customs refusal code, recorded as the list's status.)
                ("returnTime", "2026-10-21T11:30:00"),
                ("returnStatus", "99999999999999999999"),
                ("ebcCode", "退货中心仓企业"),
                ("agentCode", ""),
            ]
            .choose(rng)
            .expect("a field");
            let value = if rng.gen_bool(0.1) {
                "9".repeat(100_000)
            } else {
                value.to_string()
            };
            match replace_all_values(s, field, &value) {
                Some(t) => (
                    t.into_bytes(),
                    format!("{kind}: every {field} = {}", truncate(&value, 30)),
                ),
                None => (
                    s.as_bytes()[..end].to_vec(),
                    format!("{kind} without its end"),
                ),
            }
        }
        11 => {
            // Wrong or unknown root, or no items.
            let v = *[
                "<ceb:CEB999Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" version=\"1.0\"/>",
                "<CEB621Message guid=\"x\" version=\"1.0\"/>",
                "<ceb:CEB621Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" version=\"1.0\"></ceb:CEB621Message>",
                "<html><body>hello</body></html>",
                "",
                "   \n ",
                "{\"kind\": \"CEB621\"}",
                "<?xml version=\"1.0\"?>",
                "<a><b></a></b>",
                "<?xml version=\"1.1\" encoding=\"UTF-8\"?><ceb:CEB622Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\"/>",
                "<ceb:CEB621Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" version=\"9.9\"><ceb:Inventory/></ceb:CEB621Message>",
            ]
            .choose(rng)
            .expect("a message");
            (
                v.as_bytes().to_vec(),
                format!("message {}", truncate(v, 40)),
            )
        }
        12 => {
            // Too many items, or too many elements.
            // (The element flood costs the server a second or two: rare.)
            let (n, item) = if rng.gen_bool(0.97) {
                (101, "<ceb:InventoryReturn/>")
            } else {
                (450_000, "<x/>")
            };
            let body = format!(
                "<ceb:CEB622Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" version=\"1.0\">{}</ceb:CEB622Message>",
                item.repeat(n)
            );
            (body.into_bytes(), format!("{n} × {item}"))
        }
        13 => {
            // Over the size limit, or a huge text node under it.
            if rng.gen_bool(0.05) {
                let mut t = s.as_bytes()[..end].to_vec();
                t.resize(10 * MIB + 10, b' ');
                (t, "over 10 MiB".into())
            } else {
                // At most about 2 MB in all, whatever the number of lists.
                let items = s.matches("invtNo>").count().max(2) / 2;
                let len = rng.gen_range(1_000..200_000) / items;
                let t = replace_all_values(s, "invtNo", &"I".repeat(len.max(100)))
                    .unwrap_or_else(|| s[..end].to_string());
                (t.into_bytes(), format!("{kind} with a huge invtNo"))
            }
        }
        14 => {
            // A comment or processing instruction that never ends, CDATA tricks.
            let v = *[
                "<!--",
                "<?pi",
                "<![CDATA[",
                "<!-- -- -->",
                "<!ENTITY x \"y\">",
                "]]>",
            ]
            .choose(rng)
            .expect("junk");
            (
                format!("{}{v}{}", &s[..decl_end], &s[decl_end..end]).into_bytes(),
                format!("{kind} with {v:?}"),
            )
        }
        _ => {
            // Attributes: duplicated, huge, with entities.
            let v = *[
                "guid=\"a\" guid=\"b\"",
                "version=\"&lol;\"",
                "a=\"<\"",
                "b='unterminated",
            ]
            .choose(rng)
            .expect("attr");
            let root_end = s[decl_end..]
                .find('>')
                .map(|i| decl_end + i)
                .unwrap_or(decl_end);
            (
                format!("{} {v}{}", &s[..root_end], &s[root_end..end]).into_bytes(),
                format!("{kind} root with {v}"),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Paths, queries and headers.

/// Path segments meant to confuse; all but the one that ends in whitespace (trimmed by
/// the app) name nothing, so that a request aimed at them is refused whatever its body.
fn trick_segment(rng: &mut StdRng, real: &str) -> (String, String, bool) {
    let pick = rng.gen_range(0..22);
    let t = match pick {
        0 => "..".to_string(),
        1 => "%2e%2e".into(),
        2 => format!("{real}%2F..%2F..%2Fusers"),
        3 => format!("..%2F{real}"),
        4 => "9".repeat(rng.gen_range(100..20_000)),
        5 => format!("RT{}", "0".repeat(rng.gen_range(15..3000))),
        6 => "%EF%BC%B2%EF%BC%B4%EF%BC%92%EF%BC%90".into(), // ＲＴ２０ in fullwidth
        7 => "%E9%80%80%E8%B4%A7".into(),
        8 => "%00".into(),
        9 => format!("{real}%00"),
        10 => format!("%00{real}"),
        11 => "%FF%FE%FD".into(),
        12 => "%C0%AF".into(),
        13 => format!("{real}%0A%0D"),
        14 => format!("{real};jsessionid=1"),
        15 => "%25%32%65%25%32%65".into(),
        16 => "%".into(),
        17 => "%ZZ".into(),
        18 => format!("{real}%2F"),
        19 => "RT20261122999999".into(),
        20 => format!("%20%20{real}x"),
        _ => "-1".into(),
    };
    let what = format!("segment {}", truncate(&t, 40));
    (t, what, pick != 13)
}

/// A concrete path for a template: real values, or tricks in place of one parameter; and
/// whether the path certainly names nothing.
fn fill(rng: &mut StdRng, template: &str, w: &World, tricks: bool) -> (String, String, bool) {
    let mut out = String::new();
    let mut rest = template;
    let mut what = String::new();
    let mut names_nothing = false;
    let n_params = template.matches('{').count();
    let trick_at = if tricks && n_params > 0 {
        Some(rng.gen_range(0..n_params))
    } else {
        None
    };
    let mut i = 0;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').expect("a closing brace");
        let name = &rest[open + 1..close];
        let ext = *["svg", "png", "zpl"].choose(rng).expect("an ext");
        let real: String = match name {
            "code" if out.contains("/warehouses/") => {
                [w.seed.a.warehouse.as_str(), &w.seed.b.warehouse]
                    .choose(rng)
                    .expect("wh")
                    .to_string()
            }
            "code" if out.contains("/enterprises/") => [
                w.seed.a.operator.as_str(),
                &w.seed.b.operator,
                &w.seed.ecommerce,
            ]
            .choose(rng)
            .expect("ent")
            .to_string(),
            "code" => {
                // The scan resolver: every kind of code there is.
                let id = w.any_return(rng);
                let choices = [
                    id.clone(),
                    id.to_ascii_lowercase(),
                    w.waybills.choose(rng).expect("a waybill").clone(),
                    w.seed.a.bin("restock").to_string(),
                    format!("{}-{GCODE_1}-{id}-1", w.seed.ecommerce),
                    format!("{}-{GCODE_1}-{id}-99999999999999999999", w.seed.ecommerce),
                    format!("{}-{GCODE_1}-{id}--1", w.seed.ecommerce),
                    BARCODE_1.to_string(),
                    "-".repeat(99),
                    "a-b-c-d".to_string(),
                ];
                choices.choose(rng).expect("a code").clone()
            }
            "warehouse" => w.seed.a.warehouse.clone(),
            "bin" => w.seed.a.bin("restock").to_string(),
            "id" if out.contains("/returns/") => w.any_return(rng),
            "id" if out.contains("/print-jobs/") => w.print_job.to_string(),
            "printer" => w.printer.clone(),
            "id" => w.pending_disposal.to_string(),
            "return_id" => w.any_return(rng),
            "invt_no" => w.invt_nos.choose(rng).expect("a list").clone(),
            "file" if out.contains("/labels/returns/") => format!("{}.{ext}", w.any_return(rng)),
            "file" if out.contains("/labels/items/") => format!("{}.{ext}", rng.gen_range(1..3)),
            "file" if out.ends_with("/labels/bins/") => format!("{}.{ext}", w.seed.a.warehouse),
            "file" => format!("{}.{ext}", w.seed.a.bin("restock")),
            _ => "X".into(),
        };
        if trick_at == Some(i) {
            let (t, wh, nothing) = trick_segment(rng, &real);
            out.push_str(&t);
            what = wh;
            names_nothing = nothing;
        } else {
            out.push_str(&real);
        }
        i += 1;
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (out, what, names_nothing)
}

fn query_junk(rng: &mut StdRng, params: &[String]) -> (String, String) {
    let mut parts = Vec::new();
    for _ in 0..rng.gen_range(1..5) {
        let name = if !params.is_empty() && rng.gen_bool(0.7) {
            params.choose(rng).expect("a param").clone()
        } else {
            [
                "bogus",
                "limit",
                "cursor",
                "page",
                "dpi",
                "size",
                "area",
                "ids",
                "return",
                "dry_run",
                "",
                "a[]",
                "__proto__",
            ]
            .choose(rng)
            .expect("a name")
            .to_string()
        };
        let value = match rng.gen_range(0..20) {
            0 => "-1".to_string(),
            1 => "0".into(),
            2 => "99999999999999999999999".into(),
            3 => "18446744073709551615".into(),
            4 => "1e400".into(),
            5 => "%FF%FE".into(),
            6 => "%00".into(),
            7 => "%ZZ".into(),
            8 => "x".repeat(rng.gen_range(1000..30_000)),
            9 => "%27%3B--".into(),
            10 => ",,,,".into(),
            11 => "yesterday".into(),
            12 => "2026-13-45T99:00:00Z".into(),
            13 => "true".into(),
            14 => "".into(),
            15 => "%E9%80%80".into(),
            16 => "NaN".into(),
            17 => "600".into(),
            18 => "a4".into(),
            _ => format!("RT{}", "1".repeat(rng.gen_range(1..40))),
        };
        if rng.gen_bool(0.05) {
            parts.push(name.clone());
        } else {
            parts.push(format!("{name}={value}"));
        }
    }
    if rng.gen_bool(0.1) {
        parts.push("&&&=&".into());
    }
    let q = parts.join("&");
    let what = format!("query {}", truncate(&q, 60));
    (q, what)
}

fn no_dry_run(q: &str) -> bool {
    !q.contains("dry_run")
}

/// Headers that do not make a request valid or invalid by themselves.
fn odd_headers(rng: &mut StdRng, h: &mut Vec<(String, Vec<u8>)>, what: &mut Vec<String>) {
    match rng.gen_range(0..14) {
        0 => h.push(("X-Request-Id".into(), b"\xff\xfe not ascii".to_vec())),
        1 => h.push(("X-Request-Id".into(), "r".repeat(5000).into_bytes())),
        2 => h.push((
            "X-Filler".into(),
            "f".repeat(rng.gen_range(1000..16_000)).into_bytes(),
        )),
        3 => {
            for i in 0..40 {
                h.push((format!("X-Many-{i}"), b"1".to_vec()));
            }
        }
        4 => h.push((
            "Accept".into(),
            b"application/xml;q=2, */*;q=-1, text/\xff".to_vec(),
        )),
        5 => h.push((
            "Accept-Encoding".into(),
            b"gzip, br, zstd, identity;q=0, *;q=0".to_vec(),
        )),
        6 => h.push((
            "Cookie".into(),
            b"a=b; ; =; br_other=\xff\xfe; x=\"unterminated".to_vec(),
        )),
        7 => h.push(("X-Forwarded-For".into(), b"127.0.0.1, ::1, \xff".to_vec())),
        8 => h.push((
            "Range".into(),
            b"bytes=0-0,-1,99999999999999999999-".to_vec(),
        )),
        9 => h.push(("If-None-Match".into(), b"\"x\", W/\"\xff\"".to_vec())),
        10 => h.push(("Expect".into(), b"100-continue".to_vec())),
        11 => h.push(("User-Agent".into(), "💥".repeat(500).into_bytes())),
        12 => h.push(("Accept-Language".into(), b"zh-CN;q=abc, *;q=1.0.0".to_vec())),
        _ => h.push(("X-HTTP-Method-Override".into(), b"DELETE".to_vec())),
    }
    what.push(format!(
        "odd header {}",
        h.last().map(|(k, _)| k.as_str()).unwrap_or("")
    ));
}

/// Bad credentials (never a valid session).
fn bad_auth(rng: &mut StdRng, w: &World) -> (String, Vec<u8>, String) {
    let valid = w.token(Role::Admin);
    let (k, v): (&str, Vec<u8>) = match rng.gen_range(0..16) {
        0 => ("Authorization", b"Bearer".to_vec()),
        1 => ("Authorization", b"Bearer ".to_vec()),
        2 => (
            "Authorization",
            format!("Bearer {}", "a".repeat(64)).into_bytes(),
        ),
        3 => (
            "Authorization",
            format!("Bearer {}", "g".repeat(64)).into_bytes(),
        ),
        4 => (
            "Authorization",
            format!("Bearer {}", "a".repeat(rng.gen_range(65..20_000))).into_bytes(),
        ),
        5 => (
            "Authorization",
            format!("Bearer {}x", &valid[..63]).into_bytes(),
        ),
        6 => (
            "Authorization",
            format!("Basic {}", "YWRtaW46YWRtaW4=").into_bytes(),
        ),
        7 => ("Authorization", format!("bearer {valid}").into_bytes()),
        8 => (
            "Authorization",
            [b"Bearer ".as_slice(), &[0xff; 64]].concat(),
        ),
        9 => ("Cookie", b"br_session=".to_vec()),
        10 => (
            "Cookie",
            format!("br_session={}", "0".repeat(64)).into_bytes(),
        ),
        11 => (
            "Cookie",
            format!("br_session={}; br_session={valid}", "f".repeat(64)).into_bytes(),
        ),
        12 => (
            "Cookie",
            [
                b"br_session=".as_slice(),
                &[0xc3, 0x28],
                &valid.as_bytes()[2..],
            ]
            .concat(),
        ),
        13 => (
            "Cookie",
            format!("br_session=\"{}\"", "e".repeat(64)).into_bytes(),
        ),
        14 => (
            "Cookie",
            format!("br_session={}", "c".repeat(rng.gen_range(65..30_000))).into_bytes(),
        ),
        _ => (
            "Authorization",
            format!("Bearer {} {valid}", "d".repeat(64)).into_bytes(),
        ),
    };
    let what = format!(
        "bad credentials {k}: {}",
        String::from_utf8_lossy(&v[..v.len().min(30)])
    );
    (k.to_string(), v, what)
}

fn good_auth(rng: &mut StdRng, w: &World, role: Role) -> (String, Vec<u8>) {
    let t = w.token(role);
    if rng.gen_bool(0.5) {
        ("Authorization".into(), format!("Bearer {t}").into_bytes())
    } else {
        (
            "Cookie".into(),
            format!("theme=dark; br_session={t}; x=1").into_bytes(),
        )
    }
}

/// Protocol-level tricks, each on a connection of its own.
fn protocol(rng: &mut StdRng, w: &World) -> (Vec<u8>, String) {
    let host = &w.host;
    let t = w.token(Role::Admin);
    let v: (Vec<u8>, &str) = match rng.gen_range(0..20) {
        0 => (format!("GET /api/v1/me HTTP/9.9\r\nHost: {host}\r\n\r\n").into_bytes(), "HTTP/9.9"),
        1 => (format!("GET /api/v1/me\r\nHost: {host}\r\n\r\n").into_bytes(), "no version"),
        2 => (format!("GET /api/v1/ me HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(), "a space in the target"),
        3 => (format!("GET /{} HTTP/1.1\r\nHost: {host}\r\n\r\n", "a".repeat(100_000)).into_bytes(), "a 100 kB target"),
        4 => (format!("GET /api/v1/me HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\n\r\n", "b".repeat(70_000)).into_bytes(), "a 70 kB header"),
        5 => {
            let mut s = format!("GET /api/v1/me HTTP/1.1\r\nHost: {host}\r\n");
            for i in 0..200 {
                s.push_str(&format!("X-H{i}: 1\r\n"));
            }
            s.push_str("\r\n");
            (s.into_bytes(), "200 headers")
        }
        6 => (format!("GET /api/v1/me HTTP/1.1\r\nHost: {host}\r\nNo colon here\r\n\r\n").into_bytes(), "a header without a colon"),
        7 => (format!("GET /api/v1/me HTTP/1.1\r\nHost: {host}\r\nBad Name: x\r\n\r\n").into_bytes(), "a header name with a space"),
        8 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{{}}").into_bytes(), "Content-Length abc"),
        9 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{{}} ").into_bytes(), "two Content-Lengths"),
        10 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").into_bytes(), "a bad chunk size"),
        11 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n").into_bytes(), "Content-Length -1"),
        12 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n").into_bytes(), "Content-Length overflows"),
        13 => (format!("GET /api/v1/me HTTP/1.1\r\nHost: {host}\r\nX-Nul: a\0b\r\n\r\n").into_bytes(), "NUL in a header"),
        14 => ([b"G\xffT /api/v1/me HTTP/1.1\r\nHost: ".as_slice(), host.as_bytes(), b"\r\n\r\n"].concat(), "a method with a bad byte"),
        15 => (format!("GET /api/v1/returns/RT\0\x01 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\n\r\n").into_bytes(), "raw control bytes in the path"),
        16 => ([b"GET /api/v1/scan/\xff\xfe\xe9 HTTP/1.1\r\nHost: ".as_slice(), host.as_bytes(), b"\r\nAuthorization: Bearer ", t.as_bytes(), b"\r\n\r\n"].concat(), "raw non-UTF-8 bytes in the path"),
        17 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\0\r\nContent-Type: application/json\r\n\r\n").into_bytes(), "NUL after a bearer token"),
        18 => (format!("POST /api/v1/enterprises HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(), "Content-Length and chunked"),
        _ => (format!("GET /api/v1/me HTTP/1.1\nHost: {host}\n\n").into_bytes(), "bare LF line ends"),
    };
    (v.0, v.1.to_string())
}

// ---------------------------------------------------------------------------------------------
// The generator.

fn routes_from_openapi(spec: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for (template, ops) in spec["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let method: &'static str = match method.as_str() {
                "get" => "GET",
                "post" => "POST",
                "patch" => "PATCH",
                "delete" => "DELETE",
                other => panic!("a {other} operation at {template}: teach tests/api/hostile.rs"),
            };
            let params: Vec<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let t = template.as_str();
            use Role::*;
            let (shape, roles): (Shape, &'static [Role]) = match (method, t) {
                ("GET", _) => (Shape::Read, &[]),
                ("DELETE", "/api/v1/session")
                | ("POST", "/api/v1/tokens")
                | ("DELETE", "/api/v1/tokens/{id}")
                | ("DELETE", "/api/v1/throttles/{username}") => (Shape::AuthOnly, &[]),
                ("POST", "/api/v1/imports") => (Shape::Xml, &[Admin, Supervisor]),
                ("POST", "/api/v1/session") => (Shape::Json, &[Admin, Supervisor, FloorA, FloorB]),
                ("POST", "/api/v1/declarations") => (Shape::Json, &[Admin, Supervisor]),
                ("POST", "/api/v1/returns") => (Shape::Json, &[Admin, Supervisor, FloorA]),
                ("POST", t)
                    if t.starts_with("/api/v1/returns/")
                        && (t.ends_with("/hold") || t.ends_with("/release")) =>
                {
                    (Shape::Json, &[Supervisor])
                }
                ("POST", t) if t.starts_with("/api/v1/returns/") => (Shape::Json, &[FloorA]),
                ("POST", t) if t.starts_with("/api/v1/disposals/") => (Shape::Json, &[Supervisor]),
                ("POST", t) if t.starts_with("/api/v1/print-jobs/") || t.ends_with("/jobs") => {
                    (Shape::Json, &[Admin, FloorA])
                }
                ("DELETE", "/api/v1/warehouses/{code}/printers/{printer}") => {
                    (Shape::AuthOnly, &[])
                }
                ("PATCH", "/api/v1/warehouses/{code}/printers/{printer}") => {
                    (Shape::Json, &[Admin])
                }
                ("POST", _) | ("PATCH", "/api/v1/users/{username}") => (Shape::Json, &[Admin]),
                _ => unreachable!(),
            };
            routes.push(Route {
                method,
                template: template.clone(),
                shape,
                roles,
                params,
            });
        }
    }
    routes
}

/// One hostile request for `route` (or, for `None`, for no route at all).
/// A route's valid body, its fields that may be made hostile, and its path.
type Template = (Value, Vec<(&'static str, Soft)>, String);

fn generate(
    rng: &mut StdRng,
    w: &World,
    routes: &[Route],
    templates: &[Option<Template>],
    idx: Option<usize>,
) -> Req {
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let Some(idx) = idx else {
        return elsewhere(rng, w);
    };
    let route = &routes[idx];
    if rng.gen_bool(0.15) {
        odd_headers(rng, &mut headers, &mut what);
    }
    // Who sends it.
    let roll = rng.gen_range(0..100);
    let who: Option<Role> = match roll {
        0..=44 => Some(Role::Admin),
        45..=59 => Some(Role::Supervisor),
        60..=74 => Some(Role::FloorA),
        75..=79 => Some(Role::FloorB),
        _ => None,
    };
    match who {
        Some(r) => {
            let (k, v) = good_auth(rng, w, r);
            headers.push((k, v));
            what.push(format!("as {r:?}"));
        }
        None if roll < 90 => what.push("anonymous".into()),
        None => {
            let (k, v, wh) = bad_auth(rng, w);
            headers.push((k, v));
            what.push(wh);
        }
    }
    let method = route.method.to_string();
    match route.shape {
        Shape::Read => {
            let tricks = rng.gen_bool(0.35);
            let (mut path, wh, _) = fill(rng, &route.template, w, tricks);
            if !wh.is_empty() {
                what.push(wh);
            }
            if rng.gen_bool(0.6) {
                let (q, wh) = query_junk(rng, &route.params);
                path = format!("{path}?{q}");
                what.push(wh);
            }
            let mut method = method;
            if rng.gen_bool(0.1) {
                // Wrong methods on a read route.
                method = [
                    "PUT", "PATCH", "DELETE", "POST", "OPTIONS", "TRACE", "HEAD", "get", "BREW",
                    "M-SEARCH",
                ]
                .choose(rng)
                .expect("a method")
                .to_string();
                what.push(format!("method {method}"));
                if method == "POST" {
                    headers.push(("Content-Type".into(), b"application/json".to_vec()));
                }
            }
            let expect =
                if method == "GET" || method == "HEAD" || method == "get" || method == "OPTIONS" {
                    Expect::Read
                } else {
                    Expect::Refused
                };
            Req {
                route: Some(idx),
                method,
                target: path.into_bytes(),
                headers,
                body: Vec::new(),
                expect,
                what: what.join(", "),
                raw: None,
            }
        }
        Shape::AuthOnly => {
            // Never with valid credentials unless the origin is foreign.
            let signed_in = who.is_some();
            let (path, _, _) = fill(rng, &route.template, w, false);
            if signed_in || rng.gen_bool(0.3) {
                let o = *[
                    "http://evil.example",
                    "null",
                    "https://127.0.0.1.evil.example",
                    "http://127.0.0.1:1",
                ]
                .choose(rng)
                .expect("an origin");
                foreign_origin(&mut headers, w, who, o);
                what.push(format!("Origin {o} with the session cookie"));
            }
            Req {
                route: Some(idx),
                method,
                target: path.into_bytes(),
                headers,
                body: if rng.gen_bool(0.3) {
                    b"{\"x\":1}".to_vec()
                } else {
                    Vec::new()
                },
                expect: Expect::Refused,
                what: what.join(", "),
                raw: None,
            }
        }
        Shape::Xml => {
            let (path, _, _) = fill(rng, &route.template, w, false);
            let (body, wh) = xml_body(rng, w);
            what.push(wh);
            let ct = match rng.gen_range(0..20) {
                0 => None,
                1 => Some("application/json"),
                2 => Some("text/plain"),
                3 => Some("APPLICATION/XML; charset=GBK"),
                4 => Some("text/xml; charset=utf-8"),
                5 => Some("application/xml-dtd"),
                _ => Some("application/xml"),
            };
            if let Some(ct) = ct {
                headers.push(("Content-Type".into(), ct.as_bytes().to_vec()));
            }
            what.push(format!("content type {ct:?}"));
            Req {
                route: Some(idx),
                method,
                target: path.into_bytes(),
                headers,
                body,
                expect: Expect::Import,
                what: what.join(", "),
                raw: None,
            }
        }
        Shape::Json => {
            let (valid, soft, real_path) = templates[idx].clone().expect("a template");
            let allowed = who.is_some_and(|r| route.roles.contains(&r));
            let mut path = real_path;
            let mut ct: Option<&str> = Some("application/json");
            let body: Vec<u8>;
            // Soft: a well-formed body from someone allowed, one field hostile.
            if allowed && !soft.is_empty() && rng.gen_bool(0.35) {
                let (field, kind) = *soft.choose(rng).expect("a field");
                let (v, wh) = soft_value(rng, kind);
                let mut b = valid.clone();
                set_path(&mut b, field, v);
                body = serde_json::to_vec(&b).expect("JSON");
                what.push(format!("{field}: {wh}"));
            } else {
                match rng.gen_range(0..10) {
                    0 => {
                        // A valid body with a content type that is not JSON.
                        ct = *[
                            None,
                            Some("text/plain"),
                            Some("application/x-www-form-urlencoded"),
                            Some("application/xml"),
                            Some("multipart/form-data; boundary=x"),
                            Some("application/json-patch+json"),
                            Some("application/jsonx"),
                            Some("json"),
                            Some("application/json, text/plain"),
                        ]
                        .choose(rng)
                        .expect("a content type");
                        body = serde_json::to_vec(&valid).expect("JSON");
                        what.push(format!("valid body as {ct:?}"));
                    }
                    // (Signing in takes no Idempotency-Key: a valid-looking body would be tried.)
                    // (Creating a user hashes the password before the key is read: rare there.)
                    1 if route.template != "/api/v1/session"
                        && (route.template != "/api/v1/users" || rng.gen_bool(0.05)) =>
                    {
                        // A valid body with a bad Idempotency-Key (or two bad ones).
                        body = serde_json::to_vec(&valid).expect("JSON");
                        let keys: Vec<Vec<u8>> = vec![
                            Vec::new(),
                            b" ".to_vec(),
                            "k".repeat(201).into_bytes(),
                            b"has space".to_vec(),
                            b"tab\there".to_vec(),
                            b"\xe9t\xe9".to_vec(),
                            "键".as_bytes().to_vec(),
                            "x".repeat(rng.gen_range(1000..8000)).into_bytes(),
                        ];
                        let k = keys.choose(rng).expect("a key").clone();
                        what.push(format!(
                            "Idempotency-Key {:?}",
                            String::from_utf8_lossy(&k[..k.len().min(20)])
                        ));
                        headers.push(("Idempotency-Key".into(), k));
                        if rng.gen_bool(0.3) {
                            headers.push(("Idempotency-Key".into(), b"also bad".to_vec()));
                        }
                    }
                    2 => {
                        // A valid body from a foreign origin.
                        body = serde_json::to_vec(&valid).expect("JSON");
                        let o = *[
                            "http://evil.example",
                            "null",
                            "http://127.0.0.1.evil.example",
                            "file://",
                        ]
                        .choose(rng)
                        .expect("an origin");
                        foreign_origin(&mut headers, w, who, o);
                        what.push(format!("Origin {o} with the session cookie"));
                    }
                    3 if route.template.contains('{') => {
                        // Aimed at nothing: a valid body, or a broken one where the trick
                        // might still name something.
                        let (t, wh, names_nothing) = fill(rng, &route.template, w, true);
                        path = t;
                        what.push(wh);
                        if names_nothing {
                            body = serde_json::to_vec(&valid).expect("JSON");
                        } else {
                            let (b, wh) = hard_body(rng, &valid);
                            body = b;
                            what.push(wh);
                        }
                    }
                    _ => {
                        let (b, wh) = hard_body(rng, &valid);
                        body = b;
                        what.push(wh);
                        if rng.gen_bool(0.1) {
                            ct = *[
                                Some("application/json; charset=utf-8"),
                                Some("Application/JSON"),
                                Some("application/json;;;x=\""),
                            ]
                            .choose(rng)
                            .expect("a content type");
                        }
                    }
                }
                // Every valid body above was made invalid by something other than itself;
                // only someone allowed with a right content type, no foreign origin and a
                // good key could have made it through, and none of those did.
            }
            if rng.gen_bool(0.1) {
                let (q, wh) = query_junk(rng, &route.params);
                if no_dry_run(&q) {
                    path = format!("{path}?{q}");
                    what.push(wh);
                }
            }
            Req {
                route: Some(idx),
                method,
                target: path.into_bytes(),
                headers: with_ct(headers, ct),
                body,
                expect: Expect::Refused,
                what: what.join(", "),
                raw: None,
            }
        }
    }
}

/// A browser's cross-site request: a foreign `Origin`, and the credentials (if any) in the
/// session cookie the browser would add, never a bearer token (which no other site can send,
/// so bearer requests are not checked for their origin).
fn foreign_origin(
    headers: &mut Vec<(String, Vec<u8>)>,
    w: &World,
    who: Option<Role>,
    origin: &str,
) {
    headers.retain(|(k, _)| k != "Authorization");
    if let Some(r) = who {
        headers.retain(|(k, _)| k != "Cookie");
        headers.push((
            "Cookie".into(),
            format!("br_session={}", w.token(r)).into_bytes(),
        ));
    }
    headers.push(("Origin".into(), origin.as_bytes().to_vec()));
}

fn with_ct(mut headers: Vec<(String, Vec<u8>)>, ct: Option<&str>) -> Vec<(String, Vec<u8>)> {
    if let Some(ct) = ct {
        headers.push(("Content-Type".into(), ct.as_bytes().to_vec()));
    }
    headers
}

/// Requests to no route: unknown paths, the UI, traversal, protocol tricks.
fn elsewhere(rng: &mut StdRng, w: &World) -> Req {
    let (k, v) = good_auth(rng, w, Role::Admin);
    if rng.gen_bool(0.25) {
        let (raw, what) = protocol(rng, w);
        return Req {
            route: None,
            method: String::new(),
            target: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            expect: Expect::Protocol,
            what,
            raw: Some(raw),
        };
    }
    let path = *[
        "/api/v1/../../etc/passwd",
        "/api/v1/%2e%2e/%2e%2e/etc/passwd",
        "/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/v1/returns/../users",
        "/api/v1//returns",
        "/api/v1/returns/",
        "/API/V1/ME",
        "/api/v2/me",
        "/api/v1",
        "/api/v1/nope",
        "/api",
        "/%00",
        "/index.html%00.png",
        "/app.js/..%2F..%2FCargo.toml",
        "/../src/main.rs",
        "/%ff%fe",
        "/healthz/..",
        "//api/v1/me",
        "/api/openapi.json/../v1/users",
        "/api/v1/labels/returns/",
        "/api/v1/labels/bins/WH-A/",
        "/api/v1/scan/",
        "/api/v1/exports/ceb625/x",
        "/%E9%80%80%E8%B4%A7",
        "/",
        "/healthz",
        "/api/openapi.json",
    ]
    .choose(rng)
    .expect("a path");
    let method = *["GET", "POST", "DELETE", "PUT", "HEAD"]
        .choose(rng)
        .expect("a method");
    let mut headers = vec![(k, v)];
    let mut body = Vec::new();
    if method != "GET" && method != "HEAD" {
        headers.push(("Content-Type".into(), b"application/json".to_vec()));
        body = b"{\"code\":\"X\"}".to_vec();
    }
    Req {
        route: None,
        method: method.to_string(),
        target: path.as_bytes().to_vec(),
        headers,
        body,
        expect: if method == "GET" || method == "HEAD" {
            Expect::Read
        } else {
            Expect::Refused
        },
        what: "no route".into(),
        raw: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Checking answers.

/// The longest request target `http::Uri` parses (`u16::MAX - 1` bytes): a longer one is
/// refused by the HTTP layer with a bare 400 before the app sees it.
const MAX_TARGET: usize = 65_534;

fn check(req: &Req, answer: Result<Answer, String>) -> Result<(), String> {
    let a = match answer {
        Ok(a) => a,
        Err(e) => return Err(format!("no answer ({e})")),
    };
    let expect = if req.target.len() > MAX_TARGET {
        Expect::Protocol
    } else {
        req.expect
    };
    let text = String::from_utf8_lossy(&a.body[..a.body.len().min(300)]).into_owned();
    if a.status >= 500 {
        return Err(format!("{} {text}", a.status));
    }
    if expect != Expect::Protocol {
        crate::conformance::verdict(&crate::conformance::Exchange {
            method: &req.method,
            target: &String::from_utf8_lossy(&req.target),
            status: a.status,
            content_type: a.header("content-type").unwrap_or(""),
            body: &a.body,
        })?;
    }
    if (400..500).contains(&a.status) && expect != Expect::Protocol && req.method != "HEAD" {
        let ct = a.header("content-type").unwrap_or("");
        let json: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        let ok = ct.starts_with("application/problem+json")
            && json["code"].as_str().is_some_and(|c| !c.is_empty())
            && json["status"].as_u64() == Some(u64::from(a.status));
        if !ok {
            return Err(format!(
                "{} not a problem+json with a code: {ct:?} {text}",
                a.status
            ));
        }
    }
    match expect {
        Expect::Read => Ok(()),
        Expect::Refused if (400..500).contains(&a.status) => Ok(()),
        Expect::Refused => Err(format!("accepted: {} {text}", a.status)),
        Expect::Import if (400..500).contains(&a.status) => Ok(()),
        Expect::Import if a.status == 200 => {
            let json: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
            if json["created"] == 0 && json["updated"] == 0 {
                Ok(())
            } else {
                Err(format!("an import changed something: {text}"))
            }
        }
        Expect::Import => Err(format!("import answered {} {text}", a.status)),
        Expect::Protocol if (400..500).contains(&a.status) => Ok(()),
        Expect::Protocol => Err(format!(
            "a malformed request was answered {} {text}",
            a.status
        )),
    }
}

/// What no refused request may change: the audit head and the rows of every table.
#[derive(Debug, PartialEq)]
struct State {
    head: bonded_returns::audit::ChainHead,
    counts: Vec<(&'static str, i64)>,
}

const TABLES: &[&str] = &[
    "enterprises",
    "credit_ratings",
    "warehouses",
    "bins",
    "cameras",
    "printers",
    "print_jobs",
    "users",
    "sessions",
    "sign_in_throttle",
    "idempotency_keys",
    "counters",
    "audit_entries",
    "declarations",
    "declaration_lines",
    "returns",
    "return_lines",
    "return_discrepancies",
    "disposals",
    "stock",
];

fn state(app: &TestApp) -> State {
    State {
        head: app.head(),
        counts: TABLES.iter().map(|t| (*t, app.count(t))).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

fn hostile_suite(app: &TestApp, default_total: usize) {
    let started = Instant::now();
    let total = env_usize("BR_HOSTILE_REQUESTS").unwrap_or(default_total);
    let w = build_world(app);
    let spec = app.get(&app.client(), "/api/openapi.json");
    spec.assert_status(200);
    let routes = routes_from_openapi(&spec.json);
    // Every JSON route has a body template (a new route without one fails here).
    let templates: Vec<Option<Template>> = routes
        .iter()
        .map(|r| (r.shape == Shape::Json).then(|| template(r, &w)))
        .collect();
    let before = state(app);
    let seed = seed();
    let sent = AtomicUsize::new(0);
    let per_route: Vec<AtomicUsize> = routes.iter().map(|_| AtomicUsize::new(0)).collect();
    // Time spent per route (µs, generating and answering), and the slowest requests.
    let route_time: Vec<AtomicU64> = (0..=routes.len()).map(|_| AtomicU64::new(0)).collect();
    let slowest: Mutex<Vec<(u128, String)>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let failed = AtomicUsize::new(0);
    // A slot for "no route" requests after every route once.
    let slots = routes.len() + 1;
    let per_round = total.div_ceil(ROUNDS);
    for round in 0..ROUNDS {
        let first = round * per_round;
        let last = ((round + 1) * per_round).min(total);
        std::thread::scope(|s| {
            for worker in 0..WORKERS {
                let (w, routes, sent, per_route, failures, failed) =
                    (&w, &routes, &sent, &per_route, &failures, &failed);
                let templates = &templates;
                let (route_time, slowest) = (&route_time, &slowest);
                s.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(
                        seed ^ ((worker as u64 + 1) << 32) ^ ((round as u64) << 48),
                    );
                    let mut raw = Raw::new(&w.host);
                    let mut n = first + worker;
                    while n < last {
                        let slot = n % slots;
                        let idx = (slot < routes.len()).then_some(slot);
                        let t0 = Instant::now();
                        let req = generate(&mut rng, w, routes, templates, idx);
                        let fresh = req.raw.is_some();
                        let head = req.method == "HEAD";
                        let answer = raw.send(&req.wire(&w.host), head, fresh);
                        if let Err(why) = check(&req, answer) {
                            failed.fetch_add(1, Ordering::Relaxed);
                            let mut f = failures.lock().unwrap_or_else(|e| e.into_inner());
                            if f.len() < 25 {
                                f.push(format!("#{n}: {why}\n    request: {}", req.describe()));
                            }
                        }
                        if let Some(i) = req.route {
                            per_route[i].fetch_add(1, Ordering::Relaxed);
                        }
                        let took = t0.elapsed();
                        route_time[req.route.unwrap_or(routes.len())]
                            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
                        if took > Duration::from_millis(200) {
                            let mut sl = slowest.lock().unwrap_or_else(|e| e.into_inner());
                            sl.push((took.as_millis(), truncate(&req.describe(), 200)));
                            sl.sort_by_key(|x| std::cmp::Reverse(x.0));
                            sl.truncate(8);
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                        n += WORKERS;
                    }
                });
            }
        });
        let f = failures.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            f.is_empty(),
            "{} of the hostile requests up to round {round} were answered wrongly (seed {seed}); the first:\n{}",
            failed.load(Ordering::Relaxed),
            f.join("\n")
        );
        drop(f);
        let now = state(app);
        if now != before {
            let new: Vec<String> = app
                .audit_entries(&app.admin(), "")
                .iter()
                .filter(|e| e["seq"].as_i64().unwrap_or(0) > before.head.seq)
                .map(|e| {
                    format!(
                        "{} {} {} by {}",
                        e["seq"], e["action"], e["entity_id"], e["actor"]
                    )
                })
                .collect();
            #[derive(diesel::QueryableByName, Debug)]
            struct Throttled {
                #[diesel(sql_type = diesel::sql_types::Text)]
                username: String,
            }
            let throttled: Vec<Throttled> =
                sql_rows(&mut app.conn(), "SELECT username FROM sign_in_throttle")
                    .unwrap_or_default();
            let throttled: Vec<String> = throttled
                .into_iter()
                .map(|t| truncate(&t.username, 80))
                .collect();
            panic!(
                "hostile requests changed the state by round {round} (seed {seed}):\nbefore {before:?}\nafter  {now:?}\nnew entries: {new:#?}\nsign-in failures of {throttled:?}"
            );
        }
    }
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent >= total, "only {sent} of {total} requests were sent");
    // Every route was hit, many times.
    let uncovered: Vec<String> = routes
        .iter()
        .zip(&per_route)
        .filter(|(_, n)| n.load(Ordering::Relaxed) < (total / slots / 2).max(1))
        .map(|(r, n)| {
            format!(
                "{} {} ({})",
                r.method,
                r.template,
                n.load(Ordering::Relaxed)
            )
        })
        .collect();
    assert!(uncovered.is_empty(), "routes hit too rarely: {uncovered:?}");
    for must in [
        "/api/v1/scan/{code}",
        "/api/v1/imports",
        "/api/v1/labels/returns/{file}",
        "/api/v1/labels/bins/{warehouse}/{file}",
    ] {
        assert!(
            routes.iter().any(|r| r.template == must),
            "{must} is not in the OpenAPI description"
        );
    }

    // The server still answers normally: reads, a verified chain, and a real write.
    let admin = app.admin();
    app.get(&app.client(), "/healthz").assert_status(200);
    app.get(&admin, "/api/v1/me").assert_status(200);
    let verify = app.get(&admin, "/api/v1/audit/verify");
    verify.assert_status(200);
    assert_eq!(verify.json["ok"], true, "{}", verify.text);
    let ret = app.get(&admin, &format!("/api/v1/returns/{}", w.returns["sorted"]));
    ret.assert_status(200);
    assert_eq!(ret.json["state"], "sorted");
    app.post_json(
        &admin,
        "/api/v1/enterprises",
        &json!({"code": "4401960099", "name": "压测后企业", "kinds": ["agent"]}),
    )
    .assert_status(201);
    assert_eq!(
        app.head().seq,
        before.head.seq + 1,
        "exactly the one real write"
    );
    let mut times: Vec<(u64, String)> = route_time
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name = routes.get(i).map_or("(no route)".to_string(), |r| {
                format!("{} {}", r.method, r.template)
            });
            (t.load(Ordering::Relaxed) / 1000, name)
        })
        .collect();
    times.sort_by_key(|x| std::cmp::Reverse(x.0));
    let _ = writeln_stderr(&format!(
        "hostile on {}: most time (ms, all workers) {:?}; slowest requests {:?}",
        app.backend.name(),
        &times[..times.len().min(8)],
        slowest.lock().unwrap_or_else(|e| e.into_inner())
    ));
    let _ = writeln_stderr(&format!(
        "hostile on {}: {sent} requests over {} routes in {:.1} s (seed {seed})",
        app.backend.name(),
        routes.len(),
        started.elapsed().as_secs_f64()
    ));
}

fn writeln_stderr(s: &str) -> std::io::Result<()> {
    writeln!(std::io::stderr(), "{s}")
}

#[test]
fn sqlite() {
    run(Backend::Sqlite, |app| hostile_suite(app, SQLITE_REQUESTS));
}

#[test]
fn postgres() {
    run(Backend::Postgres, |app| {
        hostile_suite(app, POSTGRES_REQUESTS)
    });
}

// Regressions found by the suite above.

both! {
    fn a_customs_message_with_characters_xml_forbids_is_refused_whole(app: &TestApp) {
        // It used to be read as if they were text: a CEB621 with a NUL in every gname was
        // imported (on SQLite; PostgreSQL refused the NUL at the first insert).
        let k = Kit::new(app);
        let sample = fixture("ceb621_sample.xml");
        let before = app.head();
        for bad in ["\u{0}", "\u{1}", "\u{1b}", "\u{fffe}", "&#0;", "&#x1;", "&#xFFFF;"] {
            let xml = replace_all_values(&sample, "gname", &format!("面霜{bad}"))
                .expect("the sample has gnames");
            let r = k.import(&k.admin, xml);
            r.assert_problem(400, "validation");
            assert!(r.text.contains("XML"), "{}", r.text);
        }
        // Also in an attribute, a comment or between elements.
        for xml in [
            sample.replacen("version=\"1.0\">", "version=\"1.0\u{2}\">", 1),
            sample.replacen("<Inventory>", "<!-- \u{0} --><Inventory>", 1),
            sample.replacen("<Inventory>", "\u{7}<Inventory>", 1),
        ] {
            k.import(&k.admin, xml).assert_problem(400, "validation");
        }
        assert_eq!(app.head(), before);
        assert_eq!(app.count("declarations"), 0);
        // The sample itself still imports.
        let r = k.import(&k.admin, sample);
        r.assert_status(200);
        assert_eq!(r.json["created"], 2, "{}", r.text);
    }
}

both! {
    fn grades_that_add_up_past_i64_max_are_a_validation_error_not_a_500(app: &TestApp) {
        // The sum of the grades overflowed (a panic in the writer, answered 500).
        let k = Kit::new(app);
        let (_, id) = k.return_in("sorted");
        let before = k.snapshot(&[&id]);
        for (intact, other) in [(3, i64::MAX - 1), (i64::MAX, i64::MAX), (0, i64::MAX)] {
            let r = k.inspect(&id, &[(1, intact, 0, 0, 0, other), (2, 2, other, other, other, 0)]);
            r.assert_problem(400, "validation");
        }
        k.assert_unchanged(&before, &[&id]);
        k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]).assert_status(200);
    }
}

both! {
    fn an_application_guid_of_the_wrong_length_is_refused_and_a_lower_case_one_exports_upper_case(app: &TestApp) {
        // Found by the `xml_roundtrip` fuzz target: the reader took any guid of up to 36
        // characters, which the CEB625 writer (C36, upper case) could not write back.
        let k = Kit::new(app);
        let (l1, l2) = (k.released(), k.released());
        let (a1, a2) = (l1.invt_refund(&[(1, 1)], now()), l2.invt_refund(&[(2, 1)], now()));
        let xml = ceb625(&[a1.clone(), a2.clone()])
            .replace(&a1.guid, "short-guid-1")
            .replace(&a2.guid, &a2.guid.to_ascii_lowercase());
        let r = k.import(&k.admin, xml);
        r.assert_status(200);
        let items = r.json["items"].as_array().expect("items");
        assert_eq!(items[0]["outcome"], "rejected", "{}", r.text);
        assert!(items[0]["reason"].as_str().unwrap_or("").contains("guid"), "{}", r.text);
        assert_eq!(items[1]["outcome"], "created", "{}", r.text);
        let id = items[1]["key"].as_str().expect("a return id");
        let x = app.get(&k.admin, &format!("/api/v1/returns/{id}/ceb625.xml"));
        x.assert_status(200);
        assert!(x.text.contains(&a2.guid.to_ascii_uppercase()), "{}", x.text);
    }
}

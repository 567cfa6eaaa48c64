//! Crash test: the real server (child process) on a fresh SQLite file, several clients
//! driving whole returns with Idempotency-Keys, and SIGKILL at random moments 50 times
//! (`BR_CRASH_KILLS` changes the count), the server restarted after each kill.
//!
//! Every client walks its own lists through: declaration, application, receive, sort,
//! inspect, restock ×3, dispose; a request without an answer is retried with the same key
//! and body until it gets one. Afterwards, reading the database directly:
//! - everything that was answered 2xx is there (the return is at least as far as the answer
//!   said, its keyed answer is stored);
//! - nothing is half-applied or applied twice: each return's audit trail is a prefix of the
//!   expected step sequence, its state and line counts are exactly what that prefix implies,
//!   restocked + disposed + pending ≤ counted on every line, stock equals restocked totals;
//! - SQLite's `PRAGMA integrity_check` is ok, and `bonded-returns audit verify` exits 0.

#[path = "../benches/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bonded_returns::db::schema::{
    audit_entries, declaration_lines, declarations, idempotency_keys, return_lines, returns, stock,
};
use bonded_returns::db::{establish, DbUrl, SqliteSync};
use diesel::prelude::*;
use rand::Rng;
use serde_json::{json, Value};
use support::{Api, Server};

const CLIENTS: usize = 4;
/// Line quantities of every list: line 1 two units, line 2 three.
const QTYS: [i64; 2] = [2, 3];
/// The audit action of each step after the declaration, in order.
const ACTIONS: [&str; 8] = [
    "return.apply",
    "return.receive",
    "return.sort",
    "return.inspect",
    "return.restock",
    "return.restock",
    "return.restock",
    "return.dispose",
];

/// What one client was told about one list.
#[derive(Debug, Default, Clone)]
struct ListLog {
    return_id: Option<String>,
    /// Steps answered 2xx (0 = declaration, 1 = application, … 8 = dispose); always a prefix.
    acked: usize,
    /// Idempotency keys answered 2xx, with the user they are scoped to.
    keys: Vec<(String, String)>,
    /// State reported by each answered step that returns the return.
    states: Vec<(usize, String)>,
}

#[derive(Default)]
struct Ledger {
    lists: BTreeMap<u64, ListLog>,
    /// Answers that should never come (a refusal of a retried, keyed request, a 500, …).
    unexpected: Vec<String>,
}

/// The body of step `step` of list `n` (the same on every retry).
fn step_request(n: u64, step: usize, id: &str, bin: &str) -> (String, Value) {
    let steps = [
        (
            "receive",
            json!({"warehouse": support::WAREHOUSE, "camera": support::CAMERA, "bin": support::RECEIVING_BIN}),
        ),
        (
            "sort",
            json!({"items": [{"gnum": 1, "qty": 2}, {"gnum": 2, "qty": 3}], "bin": support::PENDING_BIN}),
        ),
        (
            "inspect",
            json!({"lines": [{"gnum": 1, "intact": 2}, {"gnum": 2, "intact": 2, "used": 1}]}),
        ),
        ("restock", json!({"gnum": 1, "qty": 2, "bin": bin})),
        ("restock", json!({"gnum": 2, "qty": 1, "bin": bin})),
        ("restock", json!({"gnum": 2, "qty": 1, "bin": bin})),
        (
            "dispose",
            json!({"gnum": 2, "qty": 1, "route": "exit", "reference": format!("EXIT-{n}")}),
        ),
    ];
    let (path, body) = &steps[step - 2];
    (format!("/api/v1/returns/{id}/{path}"), body.clone())
}

enum Sent {
    Answered(u16, Value),
    Stopped,
}

/// Sends until a definitive answer: transport errors and 503 are retried with the same key.
async fn send(
    api: &Api,
    path: &str,
    body: &Value,
    key: &str,
    stop: &AtomicBool,
    lost: &AtomicU64,
) -> Sent {
    loop {
        if stop.load(Ordering::Relaxed) {
            return Sent::Stopped;
        }
        match api.post(path, body, Some(key)).await {
            Ok((503, _)) => {}
            Ok((409, v)) if v["code"] == "idempotency_in_progress" => {}
            Ok((s, v)) => return Sent::Answered(s, v),
            Err(_) => {
                lost.fetch_add(1, Ordering::Relaxed);
            }
        }
        let pause = rand::thread_rng().gen_range(2..15);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

async fn client(
    c: usize,
    admin: Api,
    floor: Api,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    lost: Arc<AtomicU64>,
    acked: Arc<AtomicU64>,
) {
    let bin = support::RESTOCK_BINS[c % support::RESTOCK_BINS.len()];
    let user = format!("floor.h{}", c + 1);
    for k in 1u64.. {
        let n = (c as u64 + 1) * 1_000_000 + k;
        ledger.lock().unwrap().lists.insert(n, ListLog::default());
        let mut id = String::new();
        for step in 0..=8usize {
            let (api, path, body, key) = match step {
                0 => (
                    &admin,
                    "/api/v1/declarations".to_string(),
                    support::declaration(n, &QTYS),
                    format!("decl-{n}"),
                ),
                1 => (
                    &floor,
                    "/api/v1/returns".to_string(),
                    support::application(n, &QTYS),
                    format!("apply-{n}"),
                ),
                _ => {
                    let (p, b) = step_request(n, step, &id, bin);
                    (&floor, p, b, format!("{n}-step{step}"))
                }
            };
            let (status, v) = match send(api, &path, &body, &key, &stop, &lost).await {
                Sent::Stopped => return,
                Sent::Answered(s, v) => (s, v),
            };
            let mut l = ledger.lock().unwrap();
            if !(200..300).contains(&status) {
                l.unexpected
                    .push(format!("list {n} step {step} ({path}): {status} {v}"));
                return;
            }
            acked.fetch_add(1, Ordering::Relaxed);
            let scoped = if step == 0 { "admin" } else { user.as_str() };
            let log = l.lists.get_mut(&n).expect("list logged");
            log.acked = step + 1;
            log.keys.push((scoped.to_string(), key));
            if step >= 1 {
                if let Some(s) = v["state"].as_str() {
                    log.states.push((step, s.to_string()));
                }
            }
            if step == 1 {
                match v["id"].as_str() {
                    Some(i) => {
                        id = i.to_string();
                        log.return_id = Some(id.clone());
                    }
                    None => {
                        l.unexpected
                            .push(format!("list {n}: application answer without id: {v}"));
                        return;
                    }
                }
            }
        }
    }
}

fn start(bin: &Path, db: &Path, port: u16, log: &Path) -> Server {
    let mut s = Server::start(bin, &db.to_string_lossy(), port, &[], log).expect("start server");
    s.wait_ready(Duration::from_secs(60)).expect("server ready");
    s
}

/// The state a return must be in after the first `m` audited steps (apply = 1).
fn expected_after(m: usize) -> (&'static str, [[i64; 5]; 2]) {
    // per line: sorted, intact, used, restocked, disposed_exit
    match m {
        1 => ("declared", [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
        2 => ("received", [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
        3 => ("sorted", [[2, 0, 0, 0, 0], [3, 0, 0, 0, 0]]),
        4 => ("inspected", [[2, 2, 0, 0, 0], [3, 2, 1, 0, 0]]),
        5 => ("inspected", [[2, 2, 0, 2, 0], [3, 2, 1, 0, 0]]),
        6 => ("inspected", [[2, 2, 0, 2, 0], [3, 2, 1, 1, 0]]),
        7 => ("inspected", [[2, 2, 0, 2, 0], [3, 2, 1, 2, 0]]),
        _ => ("closed", [[2, 2, 0, 2, 0], [3, 2, 1, 2, 1]]),
    }
}

fn rank(state: &str) -> usize {
    ["declared", "received", "sorted", "inspected", "closed"]
        .iter()
        .position(|s| *s == state)
        .unwrap_or(usize::MAX)
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[test]
fn sigkill_at_random_moments_loses_nothing_answered_and_half_applies_nothing() {
    let kills: usize = std::env::var("BR_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let bin = Path::new(env!("CARGO_BIN_EXE_bonded-returns"));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crash.db");
    let log = dir.path().join("server.log");
    let port = support::free_port();
    let started = Instant::now();

    let mut server = start(bin, &db, port, &log);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let base = server.base.clone();
    let (admin, floors) = rt.block_on(async {
        let client = support::client(16);
        let admin = Api::sign_in(client.clone(), &base, "admin", support::ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        let users = support::load_places(&admin, CLIENTS).await.expect("places");
        let mut floors = Vec::new();
        for u in &users {
            floors.push(
                Api::sign_in(client.clone(), &base, u, support::FLOOR_PASSWORD)
                    .await
                    .expect("floor signs in"),
            );
        }
        (admin, floors)
    });
    drop(rt);

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let lost = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    // One thread per client, each with its own runtime.
    let clients: Vec<_> = floors
        .into_iter()
        .enumerate()
        .map(|(c, floor)| {
            let (ledger, stop, lost, acked) =
                (ledger.clone(), stop.clone(), lost.clone(), acked.clone());
            let admin = admin.clone();
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(client(c, admin, floor, ledger, stop, lost, acked))
            })
        })
        .collect();

    let mut rng = rand::thread_rng();
    let mut kills_under_load = 0;
    for _ in 0..kills {
        let before = acked.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..250)));
        if acked.load(Ordering::Relaxed) > before {
            kills_under_load += 1;
        }
        server.kill();
        server = start(bin, &db, port, &log);
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client thread");
    }
    let elapsed = started.elapsed();

    // The chain verifies through the API of the restarted server too.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (s, v) = rt
        .block_on(admin.at(&server.base).get("/api/v1/audit/verify"))
        .expect("verify answers");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true, "audit chain broken: {v}");
    server.kill();

    let ledger = ledger.lock().unwrap();
    assert!(
        ledger.unexpected.is_empty(),
        "unexpected answers: {:#?}\nserver log tail:\n{}",
        ledger.unexpected,
        support::tail(&log, 4000)
    );
    let total_acked = acked.load(Ordering::Relaxed);
    support::note(&format!(
        "crash test: {kills} SIGKILLs ({kills_under_load} while answers were flowing), {total_acked} requests answered 2xx, {} sent into a kill and retried, {} lists, {:.1} s",
        lost.load(Ordering::Relaxed),
        ledger.lists.len(),
        elapsed.as_secs_f64()
    ));
    assert!(total_acked >= 50, "too little work got done: {total_acked}");
    assert!(
        kills_under_load * 3 >= kills,
        "most kills should land while requests flow ({kills_under_load} of {kills})"
    );

    // Read the database directly.
    let mut conn = match establish(&DbUrl::Sqlite(db.clone()), SqliteSync::Full).expect("open") {
        bonded_returns::db::DbConn::Sqlite(c) => c,
        _ => unreachable!(),
    };
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .expect("integrity_check");
    assert_eq!(
        checks
            .iter()
            .map(|c| c.integrity_check.as_str())
            .collect::<Vec<_>>(),
        vec!["ok"],
        "SQLite integrity check"
    );
    let decls: HashSet<String> = declarations::table
        .select(declarations::invt_no)
        .load::<String>(&mut conn)
        .expect("declarations")
        .into_iter()
        .collect();
    let rets: Vec<(String, String, String)> = returns::table
        .select((returns::id, returns::invt_no, returns::state))
        .load(&mut conn)
        .expect("returns");
    let mut by_invt: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (id, invt, state) in &rets {
        by_invt
            .entry(invt.clone())
            .or_default()
            .push((id.clone(), state.clone()));
    }
    type LineRow = (
        String,
        i32,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    );
    let lines: Vec<LineRow> = return_lines::table
        .select((
            return_lines::return_id,
            return_lines::gnum,
            return_lines::qty,
            return_lines::sorted,
            return_lines::intact,
            return_lines::used,
            return_lines::restocked,
            return_lines::disposed_exit,
            return_lines::disposed_reexport,
            return_lines::disposed_destroy,
            return_lines::pending_disposal,
            return_lines::damaged_packaging,
        ))
        .order((return_lines::return_id, return_lines::gnum))
        .load(&mut conn)
        .expect("lines");
    let mut lines_of: HashMap<String, Vec<LineRow>> = HashMap::new();
    for l in &lines {
        lines_of.entry(l.0.clone()).or_default().push(l.clone());
        let (_, gnum, qty, sorted, ..) = *l;
        let settled = l.6 + l.7 + l.8 + l.9 + l.10;
        assert!(
            settled <= sorted && sorted <= qty,
            "line {} of {}: restocked+disposed+pending {settled} > counted {sorted} (qty {qty})",
            gnum,
            l.0
        );
    }
    let trail: Vec<(String, String)> = audit_entries::table
        .filter(audit_entries::entity_kind.eq("return"))
        .order(audit_entries::seq.asc())
        .select((audit_entries::entity_id, audit_entries::action))
        .load(&mut conn)
        .expect("audit");
    let mut actions_of: HashMap<String, Vec<String>> = HashMap::new();
    for (id, action) in trail {
        actions_of.entry(id).or_default().push(action);
    }
    let keys: HashSet<String> = idempotency_keys::table
        .select(idempotency_keys::key)
        .load::<String>(&mut conn)
        .expect("keys")
        .into_iter()
        .collect();

    let mut restocked_by_steps = 0i64;
    for (n, log) in &ledger.lists {
        let invt = support::invt_no(*n);
        if log.acked >= 1 {
            assert!(
                decls.contains(&invt),
                "list {n} was answered 2xx but is missing"
            );
        }
        for (user, key) in &log.keys {
            assert!(
                keys.contains(&format!("{user}\u{1f}{key}")),
                "the answer to {key} ({user}) was sent but is not stored"
            );
        }
        let found = by_invt.get(&invt).cloned().unwrap_or_default();
        assert!(
            found.len() <= 1,
            "list {n} was applied for more than once: {found:?}"
        );
        let Some((id, state)) = found.first() else {
            assert!(
                log.acked <= 1,
                "list {n}: application answered but no return"
            );
            continue;
        };
        if let Some(acked_id) = &log.return_id {
            assert_eq!(acked_id, id, "list {n}: the answered return id differs");
        }
        let actions = actions_of.get(id).cloned().unwrap_or_default();
        let m = actions.len();
        assert!(
            m >= 1 && m <= ACTIONS.len() && actions[..] == ACTIONS[..m],
            "return {id}: audit trail {actions:?} is not a prefix of the flow (a step applied twice or without its entry)"
        );
        assert!(
            m + 1 >= log.acked,
            "return {id}: {} steps were answered 2xx but only {m} are recorded",
            log.acked.saturating_sub(1)
        );
        let (want_state, want_lines) = expected_after(m);
        assert_eq!(
            state, want_state,
            "return {id}: state after {m} audited steps"
        );
        for (step, reported) in &log.states {
            assert!(
                rank(state) >= rank(reported),
                "return {id}: step {step} answered {reported}, the database says {state}"
            );
        }
        let ls = lines_of.get(id).cloned().unwrap_or_default();
        assert_eq!(ls.len(), 2, "return {id}: lines");
        for (l, w) in ls.iter().zip(want_lines.iter()) {
            let got = [l.3, l.4, l.5, l.6, l.7];
            assert_eq!(
                &got, w,
                "return {id} line {}: sorted/intact/used/restocked/disposed after {m} audited steps",
                l.1
            );
            assert_eq!(
                l.8 + l.9 + l.10 + l.11,
                0,
                "return {id}: unexpected grades or disposals"
            );
        }
        restocked_by_steps += ls.iter().map(|l| l.6).sum::<i64>();
    }
    let known: HashSet<String> = ledger.lists.keys().map(|n| support::invt_no(*n)).collect();
    for (id, invt, _) in &rets {
        assert!(
            known.contains(invt),
            "return {id} ({invt}) was made by no client"
        );
    }
    // Stock equals what was restocked, in total and per product.
    let stock_rows: Vec<(String, i64)> = stock::table
        .select((stock::gcode, stock::qty))
        .load(&mut conn)
        .expect("stock");
    let total_stock: i64 = stock_rows.iter().map(|s| s.1).sum();
    let total_restocked: i64 = lines.iter().map(|l| l.6).sum();
    assert_eq!(total_stock, total_restocked, "stock vs restocked units");
    assert_eq!(total_restocked, restocked_by_steps);
    let gcodes: HashMap<(String, i32), String> = declaration_lines::table
        .select((
            declaration_lines::invt_no,
            declaration_lines::gnum,
            declaration_lines::gcode,
        ))
        .load::<(String, i32, String)>(&mut conn)
        .expect("declaration lines")
        .into_iter()
        .map(|(i, g, c)| ((i, g), c))
        .collect();
    let invt_of: HashMap<&String, &String> = rets.iter().map(|(id, invt, _)| (id, invt)).collect();
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for l in &lines {
        let gcode = &gcodes[&(invt_of[&l.0].clone(), l.1)];
        *want.entry(gcode.clone()).or_default() += l.6;
    }
    let mut have: BTreeMap<String, i64> = BTreeMap::new();
    for (g, q) in stock_rows {
        *have.entry(g).or_default() += q;
    }
    want.retain(|_, q| *q != 0);
    have.retain(|_, q| *q != 0);
    assert_eq!(have, want, "stock per product vs restocked per product");
    drop(conn);

    let out = std::process::Command::new(bin)
        .args(["audit", "verify", "--database-url"])
        .arg(&db)
        .output()
        .expect("run audit verify");
    assert!(
        out.status.success(),
        "bonded-returns audit verify: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    support::note(&format!(
        "crash test: {}",
        String::from_utf8_lossy(&out.stdout).trim()
    ));
}

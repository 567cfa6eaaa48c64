//! Random sequences of everything people do to returns — apply, receive, sort, inspect,
//! restock, dispose, approve or reject, hold, release, rate a party — some of them at the
//! same moment from several handhelds; after each sequence the invariants hold:
//!
//! * bonded stock is never negative and equals what was restocked, per owner and gcode;
//! * per line, restocked + disposed + still in the warehouse = counted, disposals add up, and
//!   a return with nothing left in the warehouse is closed;
//! * no transition is applied twice: each return's audited state changes form one chain
//!   ending in its current state, with at most one receive, sort and inspect;
//! * every change has exactly one audit entry: the entries about the sequence's returns are
//!   exactly its successful requests, plus the holds it was told about;
//! * the audit chain verifies.
//!
//! Cases: `BR_PROPTEST_CASES` (default 48 on SQLite, 16 on PostgreSQL).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;

use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::blocking::Client;
use serde_json::{json, Value};

use bonded_returns::audit::AuditEntry;
use bonded_returns::db::returns as store;
use bonded_returns::db::schema::audit_entries;

use crate::flowkit::*;
use crate::support::*;

#[derive(Debug, Clone)]
enum Op {
    Apply {
        list: u8,
        q1: u8,
        q2: u8,
    },
    Receive {
        r: u8,
    },
    Sort {
        r: u8,
        d1: i8,
        d2: i8,
    },
    Inspect {
        r: u8,
        seed: u8,
    },
    Restock {
        r: u8,
        gnum: u8,
        qty: u8,
    },
    Dispose {
        r: u8,
        gnum: u8,
        qty: u8,
        route: u8,
    },
    Decide {
        pick: u8,
        approve: bool,
    },
    Hold {
        r: u8,
    },
    Release {
        r: u8,
    },
    Rate {
        who: u8,
        dishonest: bool,
    },
    /// The next sensible step for the return's current state, as a worker would do it.
    Advance {
        r: u8,
        seed: u8,
    },
    /// Sent at the same moment from different handhelds.
    Together(Vec<Op>),
}

fn simple_op() -> impl Strategy<Value = Op> {
    let r = any::<u8>();
    prop_oneof![
        10 => (any::<u8>(), any::<u8>()).prop_map(|(r, seed)| Op::Advance { r, seed }),
        3 => (0u8..2, 0u8..4, 0u8..3).prop_map(|(list, q1, q2)| Op::Apply { list, q1, q2 }),
        1 => r.prop_map(|r| Op::Receive { r }),
        1 => (any::<u8>(), -1i8..=1, -1i8..=1).prop_map(|(r, d1, d2)| Op::Sort { r, d1, d2 }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(r, seed)| Op::Inspect { r, seed }),
        1 => (any::<u8>(), 1u8..=2, 1u8..=3).prop_map(|(r, gnum, qty)| Op::Restock { r, gnum, qty }),
        1 => (any::<u8>(), 1u8..=2, 1u8..=3, 0u8..3).prop_map(|(r, gnum, qty, route)| Op::Dispose { r, gnum, qty, route }),
        3 => (any::<u8>(), prop::bool::weighted(0.7)).prop_map(|(pick, approve)| Op::Decide { pick, approve }),
        1 => any::<u8>().prop_map(|r| Op::Hold { r }),
        1 => any::<u8>().prop_map(|r| Op::Release { r }),
        1 => (0u8..3, any::<bool>()).prop_map(|(who, dishonest)| Op::Rate { who, dishonest }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => simple_op(),
        1 => prop::collection::vec(simple_op(), 2..4).prop_map(Op::Together),
        // The same step twice at once, the race that matters most.
        2 => simple_op().prop_map(|o| Op::Together(vec![o.clone(), o])),
    ]
}

/// What one request did.
#[derive(Debug, Default)]
struct Outcome {
    /// The return it was about, when it was about one.
    ret: Option<String>,
    status: u16,
    text: String,
    /// Refused after putting the return on customs hold (a party found excluded).
    held: bool,
    /// Returns a rating put on hold.
    rating_holds: usize,
    /// A return created.
    created: Option<String>,
}

/// One sequence: its parties, lists and returns.
struct Case<'k, 'a> {
    k: &'k Kit<'a>,
    floor: [&'k Client; 2],
    ebc: String,
    agent: String,
    lists: Vec<List>,
    returns: Mutex<Vec<String>>,
    operator_excluded: &'k AtomicBool,
}

fn pick(ids: &[String], r: u8) -> Option<String> {
    (!ids.is_empty()).then(|| ids[r as usize % ids.len()].clone())
}

impl Case<'_, '_> {
    fn ret(&self, r: u8) -> Option<String> {
        pick(&self.returns.lock().unwrap(), r)
    }

    fn lines(&self, id: &str) -> Vec<Value> {
        self.k.view(id)["lines"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Runs one op; `Together` is handled by the caller.
    fn run(&self, op: &Op, hand: usize) -> Option<Outcome> {
        let k = self.k;
        let floor = self.floor[hand % 2];
        let about = |id: String, reply: Reply| {
            let held = reply.status == 403
                && reply.code() == "enterprise_excluded"
                && reply.json["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("customs hold");
            Outcome {
                ret: Some(id),
                status: reply.status,
                text: reply.text,
                held,
                ..Default::default()
            }
        };
        Some(match *op {
            Op::Apply { list, q1, q2 } => {
                let l = &self.lists[list as usize % self.lists.len()];
                let mut lines: Vec<(u32, i64)> = Vec::new();
                if q1 > 0 {
                    lines.push((1, i64::from(q1)));
                }
                if q2 > 0 {
                    lines.push((2, i64::from(q2)));
                }
                if lines.is_empty() {
                    lines.push((1, 1));
                }
                let reply = k.apply_as(floor, l, &lines);
                let created =
                    (reply.status == 201).then(|| reply.json["id"].as_str().unwrap().to_string());
                Outcome {
                    ret: created.clone(),
                    created,
                    status: reply.status,
                    text: reply.text,
                    ..Default::default()
                }
            }
            Op::Receive { r } => {
                let id = self.ret(r)?;
                about(
                    id.clone(),
                    k.step(
                        floor,
                        &id,
                        "receive",
                        &json!({"warehouse": "WH-A", "camera": "CAM-A1"}),
                    ),
                )
            }
            Op::Sort { r, d1, d2 } => {
                let id = self.ret(r)?;
                let mut items = Vec::new();
                let mut off = false;
                for (l, d) in self.lines(&id).iter().zip([d1, d2]) {
                    let n = l["qty"].as_i64().unwrap() + i64::from(d);
                    off |= d != 0;
                    if n > 0 {
                        items.push(json!({"gnum": l["gnum"], "qty": n}));
                    }
                }
                let area = if off {
                    "discrepancy"
                } else {
                    "pending_inspection"
                };
                about(
                    id.clone(),
                    k.step(
                        floor,
                        &id,
                        "sort",
                        &json!({"items": items, "bin": k.seed.a.bin(area)}),
                    ),
                )
            }
            Op::Inspect { r, seed } => {
                let id = self.ret(r)?;
                let lines: Vec<Value> = self
                    .lines(&id)
                    .iter()
                    .map(|l| {
                        let s = l["sorted"].as_i64().unwrap();
                        let intact = i64::from(seed) % (s + 1);
                        let damaged = (s - intact) / 2;
                        json!({"gnum": l["gnum"], "intact": intact, "damaged_packaging": damaged, "used": s - intact - damaged})
                    })
                    .collect();
                about(
                    id.clone(),
                    k.step(floor, &id, "inspect", &json!({"lines": lines})),
                )
            }
            Op::Restock { r, gnum, qty } => {
                let id = self.ret(r)?;
                about(
                    id.clone(),
                    k.step(
                        floor,
                        &id,
                        "restock",
                        &json!({"gnum": gnum, "qty": qty, "bin": k.seed.a.bin("restock")}),
                    ),
                )
            }
            Op::Dispose {
                r,
                gnum,
                qty,
                route,
            } => {
                let id = self.ret(r)?;
                let route = ["exit", "reexport", "destroy"][route as usize];
                about(
                    id.clone(),
                    k.step(
                        floor,
                        &id,
                        "dispose",
                        &json!({"gnum": gnum, "qty": qty, "route": route, "reference": "doc"}),
                    ),
                )
            }
            Op::Decide { pick: p, approve } => {
                let mine = self.returns.lock().unwrap().clone();
                let pending: Vec<Value> = k.app.get(&k.sup, "/api/v1/disposals").json["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|d| mine.iter().any(|m| d["return_id"] == m.as_str()))
                    .collect();
                if pending.is_empty() {
                    return None;
                }
                let d = &pending[p as usize % pending.len()];
                let verb = if approve { "approve" } else { "reject" };
                let reply = k.app.post_json(
                    &k.sup,
                    &format!("/api/v1/disposals/{}/{verb}", d["id"]),
                    &json!({"reason": "抽查"}),
                );
                about(d["return_id"].as_str().unwrap().to_string(), reply)
            }
            Op::Hold { r } => {
                let id = self.ret(r)?;
                about(id.clone(), k.hold(&id))
            }
            Op::Release { r } => {
                let id = self.ret(r)?;
                about(id.clone(), k.release(&id))
            }
            Op::Rate { who, dishonest } => {
                let code = match who {
                    0 => self.ebc.clone(),
                    1 => self.agent.clone(),
                    _ => k.seed.a.operator.clone(),
                };
                let reply = k.rate(&code, if dishonest { "dishonest" } else { "regular" }, None);
                if who >= 2 && reply.status == 201 {
                    self.operator_excluded.store(dishonest, Ordering::SeqCst);
                }
                Outcome {
                    status: reply.status,
                    rating_holds: reply.json["effect"]["returns_put_on_hold"]
                        .as_u64()
                        .unwrap_or(0) as usize,
                    text: reply.text,
                    ..Default::default()
                }
            }
            Op::Advance { r, seed } => {
                let id = self.ret(r)?;
                let v = k.view(&id);
                let lines = v["lines"].as_array().cloned().unwrap_or_default();
                let n = |l: &Value, f: &str| l[f].as_i64().unwrap_or(0);
                let next = match v["state"].as_str().unwrap_or("") {
                    "declared" => Op::Receive { r },
                    "received" => {
                        let off = if seed % 4 == 0 {
                            [1, -1][usize::from(seed / 4 % 2)]
                        } else {
                            0
                        };
                        Op::Sort { r, d1: off, d2: 0 }
                    }
                    "sorted" => Op::Inspect { r, seed },
                    "inspected" => {
                        let open: Vec<&Value> =
                            lines.iter().filter(|l| n(l, "unsettled") > 0).collect();
                        if open.is_empty() {
                            return None;
                        }
                        let l = open[usize::from(seed) % open.len()];
                        let gnum = n(l, "gnum") as u8;
                        if n(l, "restockable") > 0 && seed % 3 != 0 {
                            Op::Restock {
                                r,
                                gnum,
                                qty: 1 + (i64::from(seed) % n(l, "restockable")) as u8,
                            }
                        } else {
                            Op::Dispose {
                                r,
                                gnum,
                                qty: 1 + (i64::from(seed) % n(l, "unsettled")) as u8,
                                route: seed % 3,
                            }
                        }
                    }
                    "held" => Op::Release { r },
                    _ => return None,
                };
                return self.run(&next, hand);
            }
            Op::Together(_) => unreachable!(),
        })
    }
}

/// Sums a bigint column over a table on either backend.
fn total(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = sql_rows(&mut app.conn(), sql).expect("the query runs");
    rows[0].n
}

fn run_case(k: &Kit, floor: [&Client; 2], operator_excluded: &AtomicBool, ops: &[Op]) {
    let app = k.app;
    if operator_excluded.load(Ordering::SeqCst) {
        k.rate(&k.seed.a.operator, "regular", None)
            .assert_status(201);
        operator_excluded.store(false, Ordering::SeqCst);
    }
    let n = app.count("enterprises");
    let (ebc, agent) = (format!("91500000MA{n:08}"), format!("55020{n:05}"));
    k.enterprise(&ebc, &["ecommerce"]);
    k.enterprise(&agent, &["agent"]);
    let lists: Vec<List> = (0..2)
        .map(|_| {
            let mut l = k.list();
            l.lines[0].qty = 6;
            l.lines[1].qty = 4;
            l.ebc = ebc.clone();
            l.agent = agent.clone();
            k.declare(&l);
            l
        })
        .collect();
    let case = Case {
        k,
        floor,
        ebc: ebc.clone(),
        agent,
        lists,
        returns: Mutex::new(Vec::new()),
        operator_excluded,
    };

    let mut outcomes: Vec<Outcome> = Vec::new();
    for op in ops {
        let done: Vec<Outcome> = match op {
            Op::Together(ops) => thread::scope(|s| {
                let handles: Vec<_> = ops
                    .iter()
                    .enumerate()
                    .map(|(hand, o)| {
                        let case = &case;
                        s.spawn(move || case.run(o, hand))
                    })
                    .collect();
                handles
                    .into_iter()
                    .filter_map(|h| h.join().unwrap())
                    .collect()
            }),
            o => case.run(o, 0).into_iter().collect(),
        };
        for o in &done {
            assert!(o.status < 500, "{op:?} answered {}: {}", o.status, o.text);
            if let Some(id) = &o.created {
                case.returns.lock().unwrap().push(id.clone());
            }
        }
        outcomes.extend(done);
    }

    let returns = case.returns.lock().unwrap().clone();
    if std::env::var("BR_PROPTEST_DEBUG").is_ok() {
        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
        for o in &outcomes {
            let what = serde_json::from_str::<Value>(&o.text)
                .ok()
                .and_then(|v| v["code"].as_str().map(String::from))
                .unwrap_or_default();
            *by.entry(format!("{} {what}", o.status)).or_default() += 1;
        }
        let states: Vec<String> = returns.iter().map(|id| k.state(id)).collect();
        eprintln!("{} ops, returns {states:?}: {by:?}", ops.len());
    }
    let mut conn = app.conn();

    // Every change has exactly one audit entry, and vice versa.
    let entries: Vec<AuditEntry> = audit_entries::table
        .filter(audit_entries::entity_kind.eq("return"))
        .filter(audit_entries::entity_id.eq_any(&returns))
        .order(audit_entries::seq.asc())
        .select(AuditEntry::as_select())
        .load(&mut *conn)
        .expect("the entries");
    let mut expected: HashMap<&str, usize> = HashMap::new();
    for o in &outcomes {
        if let Some(id) = &o.ret {
            if (200..300).contains(&o.status) || o.held {
                *expected.entry(id.as_str()).or_default() += 1;
            }
        }
    }
    let rating_holds: usize = outcomes.iter().map(|o| o.rating_holds).sum();
    let by_ratings = entries
        .iter()
        .filter(|e| e.action == "return.hold" && e.role == "admin")
        .count();
    assert_eq!(by_ratings, rating_holds, "holds by ratings");
    for id in &returns {
        let mine: Vec<&AuditEntry> = entries.iter().filter(|e| &e.entity_id == id).collect();
        let rated = mine
            .iter()
            .filter(|e| e.action == "return.hold" && e.role == "admin")
            .count();
        assert_eq!(
            mine.len() - rated,
            expected.get(id.as_str()).copied().unwrap_or(0),
            "return {id}: audit entries {:?} vs outcomes {:?}",
            mine.iter().map(|e| &e.action).collect::<Vec<_>>(),
            outcomes
                .iter()
                .filter(|o| o.ret.as_ref() == Some(id))
                .map(|o| (o.status, &o.text))
                .collect::<Vec<_>>()
        );

        // No transition applied twice: one chain of state changes ending where the return is.
        let ret = store::get(&mut conn, id).unwrap().expect("the return");
        let mut state = String::new();
        for e in &mine {
            let c: Value = serde_json::from_str(&e.changes).unwrap();
            if let Some(s) = c.get("state") {
                assert_eq!(
                    s["before"].as_str().unwrap_or(""),
                    state,
                    "return {id}: entry #{} {} starts elsewhere",
                    e.seq,
                    e.action
                );
                state = s["after"].as_str().unwrap().to_string();
            }
        }
        assert_eq!(
            state, ret.state,
            "return {id}: the audited chain ends in the current state"
        );
        for once in [
            "return.apply",
            "return.receive",
            "return.sort",
            "return.inspect",
        ] {
            assert!(
                mine.iter().filter(|e| e.action == once).count() <= 1,
                "return {id}: {once} twice"
            );
        }

        // Per line: units add up; disposals agree with the lines.
        let lines = store::lines(&mut conn, id).unwrap();
        let disposals = store::disposals_of(&mut conn, id).unwrap();
        for l in &lines {
            assert_eq!(l.restocked + l.disposed() + l.in_warehouse(), l.sorted);
            assert!(l.sorted >= 0 && l.sorted <= l.qty, "{l:?}");
            assert!(
                l.restocked >= 0
                    && l.pending_disposal >= 0
                    && l.in_warehouse() >= l.pending_disposal,
                "{l:?}"
            );
            if l.inspected {
                assert_eq!(
                    l.intact + l.damaged_packaging + l.used + l.defective + l.not_original,
                    l.sorted,
                    "{l:?}"
                );
                assert!(l.restocked <= l.intact, "{l:?}");
            } else {
                assert_eq!(l.restocked + l.disposed() + l.pending_disposal, 0, "{l:?}");
            }
            if ret.late {
                assert_eq!(l.restocked, 0);
            }
            let sum = |route: &str, status: &str| -> i64 {
                disposals
                    .iter()
                    .filter(|d| {
                        d.gnum == l.gnum
                            && d.status == status
                            && (route.is_empty() || d.route == route)
                    })
                    .map(|d| d.qty)
                    .sum()
            };
            assert_eq!(
                (
                    sum("exit", "done"),
                    sum("reexport", "done"),
                    sum("destroy", "done"),
                    sum("", "pending_approval")
                ),
                (
                    l.disposed_exit,
                    l.disposed_reexport,
                    l.disposed_destroy,
                    l.pending_disposal
                ),
                "return {id} line {}",
                l.gnum
            );
        }
        let settled = lines.iter().all(|l| l.in_warehouse() == 0);
        let settled_state = ret.held_from.as_deref().unwrap_or(&ret.state);
        if settled_state == "inspected" {
            assert!(!settled, "return {id} has nothing left but is not closed");
        }
        if ret.state == "closed" {
            assert!(settled, "return {id} closed with units left");
        }
    }

    // Bonded stock: never negative, and what was restocked, per owner and gcode.
    assert!(
        total(
            app,
            "SELECT CAST(COALESCE(MIN(qty), 0) AS BIGINT) AS n FROM stock"
        ) >= 0
    );
    assert_eq!(
        total(
            app,
            "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) AS n FROM stock"
        ),
        total(
            app,
            "SELECT CAST(COALESCE(SUM(restocked), 0) AS BIGINT) AS n FROM return_lines"
        ),
        "all stock is restocked units"
    );
    for gcode in [GCODE_1, GCODE_2] {
        let restocked: i64 = returns
            .iter()
            .map(|id| {
                store::lines(&mut conn, id)
                    .unwrap()
                    .iter()
                    .filter(|l| case.lists[0].line(l.gnum as u32).gcode == gcode)
                    .map(|l| l.restocked)
                    .sum::<i64>()
            })
            .sum();
        assert_eq!(
            k.stock_qty(&ebc, gcode, k.seed.a.bin("restock")),
            restocked,
            "stock of {ebc}/{gcode}"
        );
    }
    drop(conn);
    let v = app.verify(None);
    assert!(v.ok, "{v:?}");
}

fn cases(app: &TestApp) -> u32 {
    std::env::var("BR_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(match app.backend {
            Backend::Sqlite => 48,
            Backend::Postgres => 16,
        })
}

both! {
    fn random_sequences_of_steps_some_at_the_same_moment_keep_every_invariant(app: &TestApp) {
        let k = Kit::new(app);
        let other = app.user_client("floor", Some("WH-A"));
        let operator_excluded = AtomicBool::new(false);
        let mut runner = TestRunner::new(Config {
            cases: cases(app),
            failure_persistence: None,
            max_shrink_iters: 16,
            ..Config::default()
        });
        let result = runner.run(&prop::collection::vec(op(), 6..40), |ops| {
            run_case(&k, [&k.floor_a, &other], &operator_excluded, &ops);
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}

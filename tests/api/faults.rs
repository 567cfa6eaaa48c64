//! Fault injection: the database refuses the k-th write (INSERT, UPDATE or DELETE on any
//! table) along a whole return, for every k. The request that hits the fault fails cleanly
//! (a 5xx problem+json that leaks nothing), nothing of it is applied (return, lines, stock,
//! disposals, idempotency keys and audit chain exactly as before), the chain still verifies,
//! and the same request retried with the same Idempotency-Key once storage works again goes
//! through and the return can be finished.
//!
//! The faults come from triggers installed behind the app's back on every table: each counts
//! the writes in a one-row table and raises an error at the k-th. The counter is written in
//! the app's own transaction, so the failing request's savepoint rolls it back too.

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::*;

/// The error text of an injected fault; it must never reach a client.
const FAULT: &str = "injected storage fault";

fn install_fault_triggers(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            app.db.sql("CREATE TABLE fault_plan (n INTEGER NOT NULL, k INTEGER NOT NULL); INSERT INTO fault_plan VALUES (0, 0);")
                .expect("fault table");
            let tables: Vec<Name> = sql_rows(
                &mut app.db.connect(),
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT IN ('fault_plan', '__diesel_schema_migrations')",
            )
            .expect("tables");
            assert!(tables.len() >= 10, "the schema's tables: {tables:?}");
            let mut ddl = String::new();
            for t in &tables {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    ddl.push_str(&format!(
                        "CREATE TRIGGER fault_{t}_{op} BEFORE {op} ON {t} BEGIN \
                         UPDATE fault_plan SET n = n + 1 WHERE k > 0; \
                         SELECT RAISE(ABORT, '{FAULT}') WHERE (SELECT k > 0 AND n >= k FROM fault_plan); \
                         END;\n",
                        t = t.name
                    ));
                }
            }
            app.db.sql(&ddl).expect("fault triggers");
        }
        Backend::Postgres => {
            app.db
                .sql(&format!(
                    "CREATE TABLE fault_plan (n BIGINT NOT NULL, k BIGINT NOT NULL);
                 INSERT INTO fault_plan VALUES (0, 0);
                 CREATE FUNCTION fault_tick() RETURNS trigger LANGUAGE plpgsql AS $$
                 DECLARE hit boolean;
                 BEGIN
                   UPDATE fault_plan SET n = n + 1 WHERE k > 0 RETURNING k > 0 AND n >= k INTO hit;
                   IF hit THEN RAISE EXCEPTION '{FAULT}'; END IF;
                   IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                   RETURN NEW;
                 END $$;"
                ))
                .expect("fault function");
            let tables: Vec<Name> = sql_rows(
                &mut app.db.connect(),
                "SELECT table_name AS name FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
                 AND table_name NOT IN ('fault_plan', '__diesel_schema_migrations')",
            )
            .expect("tables");
            assert!(tables.len() >= 10, "the schema's tables: {tables:?}");
            let ddl: String = tables
                .iter()
                .map(|t| {
                    format!(
                        "CREATE TRIGGER fault_tick BEFORE INSERT OR UPDATE OR DELETE ON {} \
                         FOR EACH ROW EXECUTE FUNCTION fault_tick();\n",
                        t.name
                    )
                })
                .collect();
            app.db.sql(&ddl).expect("fault triggers");
        }
    }
}

#[derive(Debug, diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(Debug, diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Arms the fault at the k-th write from now (0: off).
fn arm(app: &TestApp, k: i64) {
    app.db
        .sql(&format!("UPDATE fault_plan SET n = 0, k = {k}"))
        .expect("arm the fault");
}

/// Writes counted since the fault was armed.
fn writes(app: &TestApp) -> i64 {
    let rows: Vec<Count> =
        sql_rows(&mut app.db.connect(), "SELECT n FROM fault_plan").expect("count");
    rows[0].n
}

/// One step of a whole return: who, where, what.
struct Step {
    client: Client,
    path: String,
    body: Value,
    ok: u16,
}

/// Sends a step with its own Idempotency-Key (the same key on a retry).
fn send(app: &TestApp, step: &Step, key: &str) -> Reply {
    app.send(
        step.client
            .post(app.url(&step.path))
            .header("Idempotency-Key", key)
            .json(&step.body),
    )
}

/// The steps of a whole return of the default list (lines 1×3, 2×2), built as the return
/// goes (the return and disposal ids come from earlier answers).
fn step_at(k: &Kit, i: usize, list: &List, id: &str) -> Option<Step> {
    let floor = || k.floor_a.clone();
    let ret = |s: &str| format!("/api/v1/returns/{id}/{s}");
    let a = &k.seed.a;
    Some(match i {
        0 => Step {
            client: floor(),
            path: "/api/v1/returns".into(),
            body: json!({"invt_no": list.invt_no, "logistics_no": list.waybill, "reason": "七天无理由退货",
                         "lines": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}]}),
            ok: 201,
        },
        1 => Step {
            client: floor(),
            path: ret("receive"),
            body: json!({"warehouse": a.warehouse, "camera": a.camera}),
            ok: 200,
        },
        2 => Step {
            client: floor(),
            path: ret("sort"),
            body: json!({"items": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}], "bin": a.bin("pending_inspection")}),
            ok: 200,
        },
        3 => Step {
            client: floor(),
            path: ret("inspect"),
            body: json!({"lines": [
                {"gnum": 1, "intact": 2, "damaged_packaging": 1, "used": 0, "defective": 0, "not_original": 0},
                {"gnum": 2, "intact": 2, "damaged_packaging": 0, "used": 0, "defective": 0, "not_original": 0}]}),
            ok: 200,
        },
        4 => Step {
            client: floor(),
            path: ret("restock"),
            body: json!({"gnum": 1, "qty": 2, "bin": a.bin("restock")}),
            ok: 200,
        },
        5 => Step {
            client: floor(),
            path: ret("restock"),
            body: json!({"gnum": 2, "qty": 2, "bin": a.bin("restock")}),
            ok: 200,
        },
        6 => Step {
            client: floor(),
            path: ret("dispose"),
            body: json!({"gnum": 1, "qty": 1, "route": "destroy", "reference": "销毁-2026-001"}),
            ok: 200,
        },
        7 => {
            let items = k
                .app
                .get(&k.sup, "/api/v1/disposals?status=pending_approval")
                .json["items"]
                .clone();
            let d = items
                .as_array()
                .expect("disposals")
                .iter()
                .find(|d| d["return_id"] == id)
                .expect("the return's pending disposal")["id"]
                .as_i64()
                .expect("an id");
            Step {
                client: k.sup.clone(),
                path: format!("/api/v1/disposals/{d}/approve"),
                body: json!({"reason": "监督销毁"}),
                ok: 200,
            }
        }
        _ => return None,
    })
}

/// Walks a whole return. With `fault_at = Some(k)`, the k-th write fails; the step that hits
/// it is checked for a clean failure and nothing applied, then retried with storage working.
/// Returns the number of writes the walk made (counted with the fault armed far away) and
/// whether a fault was hit.
fn walk(k: &Kit, fault_at: Option<i64>) -> (i64, bool) {
    let app = k.app;
    let list = k.released();
    let mut id = String::new();
    let mut hit = false;
    arm(app, fault_at.unwrap_or(i64::MAX / 2));
    let mut i = 0;
    while let Some(step) = step_at(k, i, &list, &id) {
        let key = format!("fault-{}-{i}-{}", fault_at.unwrap_or(0), list.invt_no);
        let ids: Vec<&str> = if id.is_empty() {
            vec![]
        } else {
            vec![id.as_str()]
        };
        let before = (!hit).then(|| k.snapshot(&ids));
        let r = send(app, &step, &key);
        if r.status == step.ok {
            if i == 0 {
                id = r.json["id"]
                    .as_str()
                    .expect("the new return's id")
                    .to_string();
            }
            i += 1;
            continue;
        }
        // The fault: a clean server error, nothing applied, nothing leaked.
        let where_ = format!("fault at write {fault_at:?}, step {i} {}", step.path);
        assert!(
            !hit,
            "{where_}: a second failure after the fault was lifted: {}",
            r.text
        );
        assert!(
            r.status == 500 || r.status == 503,
            "{where_}: {} {}",
            r.status,
            r.text
        );
        assert!(r.is_problem(), "{where_}: problem+json: {}", r.text);
        assert!(!r.code().is_empty(), "{where_}: a code: {}", r.text);
        assert!(
            !r.text.contains(FAULT) && !r.text.contains("fault_plan"),
            "{where_}: the database's words leaked: {}",
            r.text
        );
        arm(app, 0);
        k.assert_unchanged(&before.expect("a snapshot"), &ids);
        let v = app.verify(None);
        assert!(v.ok, "{where_}: the chain no longer verifies: {v:?}");
        hit = true;
        // The same request again, same key: applied now, exactly once.
        let again = send(app, &step, &key);
        assert_eq!(again.status, step.ok, "{where_}: the retry: {}", again.text);
        if i == 0 {
            id = again.json["id"].as_str().expect("an id").to_string();
        }
        let replay = send(app, &step, &key);
        assert_eq!(
            (replay.status, &replay.json),
            (again.status, &again.json),
            "{where_}: a replay of the retry answers the same"
        );
        i += 1;
    }
    let n = writes(app);
    arm(app, 0);
    // The whole return is done: closed, lines settled, stock in the restock bin.
    let v = k.view(&id);
    assert_eq!(v["state"], "closed", "fault at {fault_at:?}: {v}");
    let entries = k.entries_of(&id);
    for action in [
        "return.apply",
        "return.receive",
        "return.sort",
        "return.inspect",
        "return.restock",
        "return.dispose_request",
        "return.dispose_approve",
    ] {
        assert!(
            entries.iter().any(|e| e.action == action),
            "fault at {fault_at:?}: no {action} entry: {entries:#?}"
        );
    }
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "return.restock")
            .count(),
        2,
        "fault at {fault_at:?}: each restock once"
    );
    (n, hit)
}

fn total_stock(k: &Kit) -> i64 {
    k.stock()
        .as_array()
        .expect("stock items")
        .iter()
        .map(|i| i["qty"].as_i64().expect("qty"))
        .sum()
}

both! {
    fn a_write_that_fails_at_any_point_of_a_whole_return_fails_cleanly_and_applies_nothing(app: &TestApp) {
        let k = Kit::new(app);
        install_fault_triggers(app);
        // A dry run counts the writes of a whole return.
        let (total, hit) = walk(&k, None);
        assert!(!hit);
        assert!(total >= 16, "a whole return writes at least its steps and their entries: {total}");
        println!("{}: a whole return makes {total} writes; a fault is injected at each", app.backend.name());
        let stock_before = total_stock(&k);
        // Then a fault at every one of them.
        for at in 1..=total {
            let (_, hit) = walk(&k, Some(at));
            assert!(hit, "write {at} of {total} was never reached");
        }
        // Every walk restocked its 4 intact units exactly once.
        assert_eq!(total_stock(&k) - stock_before, 4 * total);
        let v = app.verify(None);
        assert!(v.ok, "{v:?}");
    }
}

//! Two app nodes on one PostgreSQL database: the real server binary started twice on a
//! fresh database, clients spread over both.
//!
//! - the same parcel received at both nodes at once: exactly one 200 and one 409
//!   `invalid_state`, and one `return.receive` audit entry;
//! - one unbroken audit chain, seen the same from both nodes;
//! - an Idempotency-Key replayed on the other node returns the first answer and changes
//!   nothing (and with another body is refused);
//! - a session cookie from node A works on node B (and signing out on B ends it on A);
//! - both nodes start at once on the empty database (migrations, first admin).
//!
//! Needs PostgreSQL at `BR_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432`); without
//! one the test is skipped with a message, unless `CI` is set, when it fails.

#[path = "../benches/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use support::{Api, Server};

struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        support::drop_pg_database(&self.0);
    }
}

fn postgres_or_skip() -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    let fail_or_skip = |why: String| {
        if ci {
            panic!("two-node test needs PostgreSQL (CI is set): {why}");
        }
        support::note(&format!(
            "SKIPPED two-node test: {why} (set BR_TEST_PG_URL, or start PostgreSQL on 127.0.0.1:5432)"
        ));
        None
    };
    let Some(base) = support::postgres_base() else {
        return fail_or_skip("nothing answers at BR_TEST_PG_URL / 127.0.0.1:5432".into());
    };
    match support::create_pg_database(&base, "br_two_nodes") {
        Ok(url) => Some(url),
        Err(e) => fail_or_skip(e),
    }
}

#[test]
fn two_nodes_on_one_postgres_act_as_one() {
    let Some(url) = postgres_or_skip() else {
        return;
    };
    let _cleanup = DropDatabase(url.clone());
    let bin = Path::new(env!("CARGO_BIN_EXE_bonded-returns"));
    let dir = tempfile::tempdir().expect("temp dir");
    // Both nodes start at once on the empty database: migrations and the first admin must
    // not trip over each other.
    let mut a = Server::start(
        bin,
        &url,
        support::free_port(),
        &[],
        &dir.path().join("a.log"),
    )
    .expect("start node A");
    let mut b = Server::start(
        bin,
        &url,
        support::free_port(),
        &[],
        &dir.path().join("b.log"),
    )
    .expect("start node B");
    a.wait_ready(Duration::from_secs(60)).expect("node A ready");
    b.wait_ready(Duration::from_secs(60)).expect("node B ready");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = support::client(32);
        let admin_a = Api::sign_in(client.clone(), &a.base, "admin", support::ADMIN_PASSWORD)
            .await
            .expect("admin signs in on A");
        let admin_b = admin_a.at(&b.base);
        let users = support::load_places(&admin_a, 3).await.expect("places");
        // Two scanners, one at each node.
        let scanner_a = Api::sign_in(client.clone(), &a.base, &users[0], support::FLOOR_PASSWORD)
            .await
            .expect("scanner A");
        let scanner_b = Api::sign_in(client.clone(), &b.base, &users[1], support::FLOOR_PASSWORD)
            .await
            .expect("scanner B");

        // A session cookie from node A works on node B; signing out on B ends it on A too.
        let cookie_a = Api::session(client.clone(), &a.base, &users[2], support::FLOOR_PASSWORD)
            .await
            .expect("cookie session on A");
        let (s, me) = cookie_a.at(&b.base).get("/api/v1/me").await.expect("me on B");
        assert_eq!((s, me["username"].as_str()), (200, Some(users[2].as_str())), "{me}");
        let (s, _) = cookie_a
            .at(&b.base)
            .call(reqwest::Method::DELETE, "/api/v1/session", None, None)
            .await
            .expect("sign out on B");
        assert_eq!(s, 204);
        let (s, v) = cookie_a.get("/api/v1/me").await.expect("me on A");
        assert_eq!(s, 401, "a session ended on B still works on A: {v}");

        // Lists and applications, alternating between the nodes.
        const PARCELS: u64 = 24;
        let mut ids = Vec::new();
        for n in 1..=PARCELS + 1 {
            let admin = if n % 2 == 0 { &admin_a } else { &admin_b };
            admin
                .expect("/api/v1/declarations", &support::declaration(n, &[2]), &[201])
                .await
                .expect("declaration");
            let r = admin
                .expect("/api/v1/returns", &support::application(n, &[2]), &[201])
                .await
                .expect("application");
            ids.push(r["id"].as_str().expect("id").to_string());
        }
        let last = ids.pop().expect("one kept for the idempotency check");

        // The same parcel received at both nodes at once.
        let receive = json!({"warehouse": support::WAREHOUSE, "camera": support::CAMERA, "bin": support::RECEIVING_BIN});
        let mut a_won = 0;
        for id in &ids {
            let path = format!("/api/v1/returns/{id}/receive");
            let (ra, rb) = tokio::join!(
                scanner_a.post(&path, &receive, None),
                scanner_b.post(&path, &receive, None)
            );
            let (sa, va) = ra.expect("node A answers");
            let (sb, vb) = rb.expect("node B answers");
            let mut got = [(sa, va.clone()), (sb, vb.clone())];
            got.sort_by_key(|(s, _)| *s);
            assert_eq!(
                (got[0].0, got[1].0),
                (200, 409),
                "{id}: A answered {sa} {va}, B answered {sb} {vb}"
            );
            assert_eq!(got[1].1["code"], "invalid_state", "{}", got[1].1);
            assert_eq!(got[0].1["state"], "received");
            if sa == 200 {
                a_won += 1;
            }
            let (s, audit) = admin_a
                .get(&format!("/api/v1/audit?entity={id}&action=return.receive"))
                .await
                .expect("audit query");
            assert_eq!(s, 200);
            assert_eq!(
                audit["items"].as_array().map(Vec::len),
                Some(1),
                "{id}: one receive, one audit entry: {audit}"
            );
        }
        support::note(&format!(
            "two nodes: node A won {a_won} of {} simultaneous receives",
            ids.len()
        ));

        // The rest of each return, steps spread over both nodes, several in flight.
        let mut pending = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let (first, second) = if i % 2 == 0 {
                (&scanner_a, &scanner_b)
            } else {
                (&scanner_b, &scanner_a)
            };
            pending.push(async move {
                let steps = [
                    (first, "sort", json!({"items": [{"gnum": 1, "qty": 2}], "bin": support::PENDING_BIN})),
                    (second, "inspect", json!({"lines": [{"gnum": 1, "intact": 2}]})),
                    (first, "restock", json!({"gnum": 1, "qty": 2, "bin": support::RESTOCK_BINS[0]})),
                ];
                for (api, step, body) in steps {
                    let (s, v) = api
                        .post(&format!("/api/v1/returns/{id}/{step}"), &body, Some(&format!("{id}-{step}")))
                        .await
                        .expect("answer");
                    assert_eq!(s, 200, "{id} {step}: {v}");
                }
            });
        }
        futures_util::future::join_all(pending).await;

        // One unbroken chain, the same seen from both nodes.
        let (sa, va) = admin_a.get("/api/v1/audit/verify").await.expect("verify A");
        let (sb, vb) = admin_b.get("/api/v1/audit/verify").await.expect("verify B");
        assert_eq!((sa, sb), (200, 200));
        assert_eq!(va["ok"], true, "{va}");
        assert_eq!(va, vb, "both nodes see the same chain");

        // An Idempotency-Key replayed on the other node: the first answer, nothing changed.
        let (s, _) = scanner_a
            .post(&format!("/api/v1/returns/{last}/receive"), &receive, None)
            .await
            .expect("receive");
        assert_eq!(s, 200);
        let sort = json!({"items": [{"gnum": 1, "qty": 2}], "bin": support::PENDING_BIN});
        let path = format!("/api/v1/returns/{last}/sort");
        let (s1, first) = scanner_a
            .post(&path, &sort, Some("cross-node-key-1"))
            .await
            .expect("sort on A");
        assert_eq!(s1, 200, "{first}");
        let (_, head_before) = admin_a.get("/api/v1/audit/head").await.expect("head");
        let replayer = scanner_a.at(&b.base);
        let (s2, again) = replayer
            .post(&path, &sort, Some("cross-node-key-1"))
            .await
            .expect("replay on B");
        assert_eq!((s2, &again), (s1, &first), "the replay on B answers the first answer");
        let (_, head_after) = admin_b.get("/api/v1/audit/head").await.expect("head");
        assert_eq!(head_before, head_after, "the replay appended to the audit chain");
        let other = json!({"items": [{"gnum": 1, "qty": 1}], "bin": support::PENDING_BIN});
        let (s3, v3) = replayer
            .post(&path, &other, Some("cross-node-key-1"))
            .await
            .expect("mismatch on B");
        assert_eq!((s3, v3["code"].as_str()), (422, Some("idempotency_mismatch")), "{v3}");
        let (_, now) = admin_b.get(&format!("/api/v1/returns/{last}")).await.expect("return");
        assert_eq!(now["state"], "sorted");
        let (_, head_end) = admin_a.get("/api/v1/audit/head").await.expect("head");
        assert_eq!(head_before, head_end, "a refused replay changed something");
        let (_, va) = admin_b.get("/api/v1/audit/verify").await.expect("verify");
        assert_eq!(va["ok"], true, "{va}");
    });
    a.kill();
    b.kill();
}

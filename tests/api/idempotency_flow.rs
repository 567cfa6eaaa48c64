//! `Idempotency-Key` on the flow endpoints: a retry with the same key and body gets the
//! first answer and changes nothing again; the same key with another body is 422; duplicates
//! sent at the same moment are applied once.

use std::sync::Barrier;
use std::thread;

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::*;

fn post_keyed(app: &TestApp, client: &Client, path: &str, key: &str, body: &Value) -> Reply {
    app.send(
        client
            .post(app.url(path))
            .header("Idempotency-Key", key)
            .json(body),
    )
}

fn count_actions(k: &Kit, id: &str, action: &str) -> usize {
    k.entries_of(id)
        .iter()
        .filter(|e| e.action == action)
        .count()
}

both! {
    fn a_retried_step_with_the_same_key_and_body_gets_the_first_answer_and_changes_nothing(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        let apply = json!({"invt_no": l.invt_no, "logistics_no": l.waybill, "reason": "尺码不合适", "lines": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}]});
        let first = post_keyed(app, &k.floor_a, "/api/v1/returns", "apply-1", &apply);
        first.assert_status(201);
        let id = first.json["id"].as_str().unwrap().to_string();
        let before = k.snapshot(&[&id]);
        let again = post_keyed(app, &k.floor_a, "/api/v1/returns", "apply-1", &apply);
        again.assert_status(201);
        assert_eq!(again.text, first.text);
        k.assert_unchanged(&before, &[&id]);
        assert_eq!(app.count("returns"), 1);

        let receive = json!({"warehouse": "WH-A", "camera": "CAM-A1"});
        let path = format!("/api/v1/returns/{id}/receive");
        let first = post_keyed(app, &k.floor_a, &path, "receive-1", &receive);
        first.assert_status(200);
        let before = k.snapshot(&[&id]);
        for _ in 0..3 {
            let again = post_keyed(app, &k.floor_a, &path, "receive-1", &receive);
            again.assert_status(200);
            assert_eq!(again.text, first.text, "the very first answer, not a 409");
        }
        k.assert_unchanged(&before, &[&id]);
        assert_eq!(count_actions(&k, &id, "return.receive"), 1);

        k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]).assert_status(200);
        let restock = json!({"gnum": 1, "qty": 1, "bin": k.seed.a.bin("restock")});
        let path = format!("/api/v1/returns/{id}/restock");
        let first = post_keyed(app, &k.floor_a, &path, "restock-1", &restock);
        first.assert_status(200);
        let again = post_keyed(app, &k.floor_a, &path, "restock-1", &restock);
        assert_eq!((again.status, again.text.as_str()), (200, first.text.as_str()));
        assert_eq!(k.stock_qty(&l.ebc, GCODE_1, k.seed.a.bin("restock")), 1, "restocked once");
        assert_eq!(count_actions(&k, &id, "return.restock"), 1);

        // The same key with another body, or on another endpoint, is refused and does nothing.
        let before = k.snapshot(&[&id]);
        let other = json!({"gnum": 1, "qty": 2, "bin": k.seed.a.bin("restock")});
        post_keyed(app, &k.floor_a, &path, "restock-1", &other).assert_problem(422, "idempotency_mismatch");
        post_keyed(app, &k.floor_a, &format!("/api/v1/returns/{id}/dispose"), "restock-1", &json!({"gnum": 1, "qty": 1, "route": "exit", "reference": "x"}))
            .assert_problem(422, "idempotency_mismatch");
        k.assert_unchanged(&before, &[&id]);

        // A fresh key is a fresh request.
        post_keyed(app, &k.floor_a, &path, "restock-2", &restock).assert_status(200);
        assert_eq!(k.stock_qty(&l.ebc, GCODE_1, k.seed.a.bin("restock")), 2);
    }

    fn a_retry_from_a_session_that_ended_is_refused_not_answered_from_the_stored_key(app: &TestApp) {
        // The stored answer is looked up only after a request failed; a session that ended
        // in the meantime (here: elsewhere, the row is gone) gets 401, not the first answer.
        let k = Kit::new(app);
        let (_, id) = k.return_in("declared");
        let u = app.create_user("floor", Some(&k.seed.a.warehouse));
        let client = app.login(&u.username, &u.password);
        let receive = json!({"warehouse": "WH-A", "camera": "CAM-A1"});
        let path = format!("/api/v1/returns/{id}/receive");
        post_keyed(app, &client, &path, "receive-ended", &receive).assert_status(200);
        app.db
            .sql(&format!("DELETE FROM sessions WHERE username = '{}'", u.username))
            .expect("sql");
        let again = post_keyed(app, &client, &path, "receive-ended", &receive);
        again.assert_problem(401, "unauthenticated");
        assert!(!again.text.contains(&id), "{}", again.text);
    }

    fn a_retried_step_that_put_the_return_on_hold_replays_the_refusal_without_holding_again(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        let effective = now() + chrono::Duration::seconds(2);
        k.rate(&k.seed.ecommerce, "dishonest", Some(effective)).assert_status(201);
        while chrono::Utc::now() <= effective + chrono::Duration::milliseconds(200) {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let sort = json!({"items": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}], "bin": k.seed.a.bin("pending_inspection")});
        let path = format!("/api/v1/returns/{id}/sort");
        let first = post_keyed(app, &k.floor_a, &path, "sort-1", &sort);
        first.assert_problem(403, "enterprise_excluded");
        assert_eq!(k.state(&id), "held");
        let before = k.snapshot(&[&id]);
        let again = post_keyed(app, &k.floor_a, &path, "sort-1", &sort);
        again.assert_problem(403, "enterprise_excluded");
        assert_eq!(again.text, first.text);
        k.assert_unchanged(&before, &[&id]);
        assert_eq!(count_actions(&k, &id, "return.hold"), 1);
    }

    fn duplicates_sent_at_the_same_moment_are_applied_once(app: &TestApp) {
        const N: usize = 6;
        let k = Kit::new(app);
        let l = k.released();
        let bin = k.seed.a.bin("restock").to_string();

        // The same application six times at once: one return.
        let apply = json!({"invt_no": l.invt_no, "logistics_no": l.waybill, "reason": "重复提交", "lines": [{"gnum": 1, "qty": 3}, {"gnum": 2, "qty": 2}]});
        let replies = at_once(N, || post_keyed(app, &k.floor_a, "/api/v1/returns", "dup-apply", &apply));
        let answers = check_once(&replies, 201);
        assert_eq!(app.count("returns"), 1, "{replies:?}");
        let id = answers["id"].as_str().unwrap().to_string();
        assert_eq!(count_actions(&k, &id, "return.apply"), 1);

        k.receive(&id).assert_status(200);
        k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]).assert_status(200);

        // The same restock six times at once: stock goes up by one.
        let restock = json!({"gnum": 1, "qty": 1, "bin": bin});
        let path = format!("/api/v1/returns/{id}/restock");
        for round in 0..3 {
            let key = format!("dup-restock-{round}");
            let replies = at_once(N, || post_keyed(app, &k.floor_a, &path, &key, &restock));
            check_once(&replies, 200);
            assert_eq!(k.stock_qty(&l.ebc, GCODE_1, &bin), round + 1, "round {round}: {replies:?}");
            assert_eq!(count_actions(&k, &id, "return.restock"), round as usize + 1);
        }
        assert!(app.verify(None).ok);
    }
}

/// Runs `f` on `n` threads released together.
fn at_once(n: usize, f: impl Fn() -> Reply + Sync) -> Vec<Reply> {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Every reply is the one answer (`status`, identical bodies) or a 409 `idempotency_in_progress`;
/// at least one is the answer. Returns it.
#[track_caller]
fn check_once(replies: &[Reply], status: u16) -> Value {
    let answers: Vec<&Reply> = replies.iter().filter(|r| r.status == status).collect();
    assert!(!answers.is_empty(), "nobody got the answer: {replies:?}");
    for r in replies {
        if r.status == status {
            assert_eq!(
                r.text, answers[0].text,
                "two different answers to one request"
            );
        } else {
            r.assert_problem(409, "idempotency_in_progress");
        }
    }
    answers[0].json.clone()
}

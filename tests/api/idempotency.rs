//! `Idempotency-Key`: a retried request is answered again without being done again.

use std::sync::Barrier;
use std::thread;

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::support::*;

fn post_with_key(app: &TestApp, client: &Client, path: &str, key: &str, body: &Value) -> Reply {
    app.send(
        client
            .post(app.url(path))
            .header("Idempotency-Key", key)
            .json(body),
    )
}

both! {
    fn the_same_key_and_body_replays_the_first_answer_and_changes_nothing(app: &TestApp) {
        let admin = app.admin();
        let body =
            json!({"code": "4401960001", "name": "广州某物流有限公司", "kinds": ["logistics"]});
        let first = post_with_key(app, &admin, "/api/v1/enterprises", "key-1", &body);
        first.assert_status(201);
        let head = app.head();
        for _ in 0..3 {
            let again = post_with_key(app, &admin, "/api/v1/enterprises", "key-1", &body);
            again.assert_status(201);
            assert_eq!(
                again.text, first.text,
                "the replay differs from the first answer"
            );
        }
        assert_eq!(app.head(), head, "a replay changed the audit log");
        assert_eq!(app.count("enterprises"), 1);
        // Without a key, the same request is done again, and so refused as a duplicate.
        app.post_json(&admin, "/api/v1/enterprises", &body)
            .assert_problem(409, "conflict");
    }

    fn the_same_key_with_a_different_body_or_path_is_422_idempotency_mismatch(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let body =
            json!({"code": "4401960001", "name": "广州某物流有限公司", "kinds": ["logistics"]});
        post_with_key(app, &admin, "/api/v1/enterprises", "key-2", &body).assert_status(201);
        let head = app.head();
        let other = json!({"code": "4401960002", "name": "另一家", "kinds": ["agent"]});
        post_with_key(app, &admin, "/api/v1/enterprises", "key-2", &other)
            .assert_problem(422, "idempotency_mismatch");
        post_with_key(
            app,
            &admin,
            &format!("/api/v1/warehouses/{}/bins", seed.a.warehouse),
            "key-2",
            &json!({"code": "A-X-1", "area": "hold"}),
        )
        .assert_problem(422, "idempotency_mismatch");
        assert_eq!(app.head(), head);
        assert_eq!(app.count("enterprises"), 4);
        assert_eq!(app.count("bins"), 12);
    }

    fn a_refused_request_is_not_remembered_so_it_can_be_corrected_under_the_same_key(
        app: &TestApp,
    ) {
        let admin = app.admin();
        let wrong =
            json!({"code": "4401960001", "name": "广州某物流有限公司", "kinds": ["pirate"]});
        post_with_key(app, &admin, "/api/v1/enterprises", "key-3", &wrong)
            .assert_problem(400, "validation");
        let right =
            json!({"code": "4401960001", "name": "广州某物流有限公司", "kinds": ["logistics"]});
        post_with_key(app, &admin, "/api/v1/enterprises", "key-3", &right).assert_status(201);
        assert_eq!(app.count("enterprises"), 1);
    }

    fn keys_belong_to_one_user(app: &TestApp) {
        let admin = app.admin();
        let other = app.create_user("admin", None);
        let other = app.login(&other.username, &other.password);
        let body =
            json!({"code": "4401960001", "name": "广州某物流有限公司", "kinds": ["logistics"]});
        post_with_key(app, &admin, "/api/v1/enterprises", "shared-key", &body).assert_status(201);
        // Another user's request under the same key is their own: done, and refused as a duplicate.
        post_with_key(app, &other, "/api/v1/enterprises", "shared-key", &body)
            .assert_problem(409, "conflict");
        let mine = json!({"code": "4401960002", "name": "另一家", "kinds": ["agent"]});
        post_with_key(app, &other, "/api/v1/enterprises", "shared-key", &mine).assert_status(201);
    }

    fn concurrent_duplicates_under_one_key_are_applied_once(app: &TestApp) {
        let admin = app.admin();
        let rounds = 10;
        let start_head = app.head().seq;
        for round in 0..rounds {
            let body = json!({"code": format!("44019600{round:02}"), "name": "并发重试", "kinds": ["agent"]});
            let key = format!("dup-{round}");
            let barrier = Barrier::new(2);
            let replies: Vec<Reply> = thread::scope(|s| {
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        let (barrier, body, key, admin) = (&barrier, &body, &key, &admin);
                        s.spawn(move || {
                            barrier.wait();
                            post_with_key(app, admin, "/api/v1/enterprises", key, body)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
            assert!(
                !created.is_empty(),
                "round {round}: neither was done: {replies:?}"
            );
            for r in &replies {
                // The loser is either a replay of the winner or told to retry in a moment.
                if r.status != 201 {
                    r.assert_problem(409, "idempotency_in_progress");
                }
            }
            if created.len() == 2 {
                assert_eq!(created[0].text, created[1].text);
            }
            // Retrying now always gives the first answer.
            let retry = post_with_key(app, &admin, "/api/v1/enterprises", &key, &body);
            retry.assert_status(201);
            assert_eq!(retry.text, created[0].text);
        }
        assert_eq!(app.count("enterprises"), rounds);
        assert_eq!(app.head().seq, start_head + rounds);
        assert!(app.verify(None).ok);
    }
}

//! Signing in and out, sessions, bearer tokens and the sign-in throttle.

use reqwest::header::{AUTHORIZATION, COOKIE};

use crate::support::*;

both! {
    fn signing_in_sets_an_http_only_strict_cookie_and_me_says_who_i_am(app: &TestApp) {
        let client = app.client();
        let reply = app.sign_in(&client, ADMIN, ADMIN_PASSWORD);
        reply.assert_status(200);
        assert_eq!(reply.json["username"], ADMIN);
        let cookie = reply.headers["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("br_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        let me = app.get(&client, "/api/v1/me");
        me.assert_status(200);
        assert_eq!(me.json["username"], ADMIN);
        assert_eq!(me.json["role"], "admin");
        assert_eq!(me.json["warehouse"], serde_json::Value::Null);
    }

    fn a_floor_user_sees_their_role_and_warehouse_in_me(app: &TestApp) {
        let seed = app.seed_parties();
        let u = app.create_user("floor", Some(&seed.a.warehouse));
        let client = app.login(&u.username, &u.password);
        let me = app.get(&client, "/api/v1/me");
        me.assert_status(200);
        assert_eq!(me.json["role"], "floor");
        assert_eq!(me.json["warehouse"], seed.a.warehouse.as_str());
    }

    fn signing_in_with_a_wrong_password_is_401(app: &TestApp) {
        let client = app.client();
        let reply = app.sign_in(&client, ADMIN, "not-the-password");
        reply.assert_problem(401, "unauthenticated");
        assert!(reply.headers.get("set-cookie").is_none());
        app.get(&client, "/api/v1/me")
            .assert_problem(401, "unauthenticated");
    }

    fn signing_in_as_someone_unknown_is_the_same_401(app: &TestApp) {
        let unknown = app.sign_in(&app.client(), "nobody-here", ADMIN_PASSWORD);
        let wrong = app.sign_in(&app.client(), ADMIN, "not-the-password");
        unknown.assert_problem(401, "unauthenticated");
        // The answer must not tell which of the two was wrong.
        assert_eq!(unknown.json["detail"], wrong.json["detail"]);
    }

    fn a_request_without_credentials_is_401(app: &TestApp) {
        let client = app.client();
        for path in [
            "/api/v1/me",
            "/api/v1/enterprises",
            "/api/v1/warehouses",
            "/api/v1/audit",
        ] {
            app.get(&client, path)
                .assert_problem(401, "unauthenticated");
        }
        let reply = app.send(
            client
                .get(app.url("/api/v1/me"))
                .header(AUTHORIZATION, "Bearer nonsense"),
        );
        reply.assert_problem(401, "unauthenticated");
        let reply = app.send(
            client
                .get(app.url("/api/v1/me"))
                .header(COOKIE, format!("br_session={}", "ab".repeat(32))),
        );
        reply.assert_problem(401, "unauthenticated");
    }

    fn after_signing_out_the_session_no_longer_works(app: &TestApp) {
        let client = app.client();
        let reply = app.sign_in(&client, ADMIN, ADMIN_PASSWORD);
        let set_cookie = reply.headers["set-cookie"].to_str().unwrap().to_string();
        let token = set_cookie
            .trim_start_matches("br_session=")
            .split(';')
            .next()
            .unwrap()
            .to_string();
        app.get(&client, "/api/v1/me").assert_status(200);

        let out = app.delete(&client, "/api/v1/session");
        out.assert_status(204);
        // The browser is told to forget the cookie…
        let cleared = out.headers["set-cookie"].to_str().unwrap();
        assert!(
            cleared.starts_with("br_session=;") || cleared.contains("Max-Age=0"),
            "{cleared}"
        );
        app.get(&client, "/api/v1/me")
            .assert_problem(401, "unauthenticated");
        // …and the server forgot the session: the old cookie, sent again by hand, is refused.
        let replayed = app.send(
            app.client()
                .get(app.url("/api/v1/me"))
                .header(COOKIE, format!("br_session={token}")),
        );
        replayed.assert_problem(401, "unauthenticated");
        // Signing out twice is a 401, not a crash.
        app.delete(&client, "/api/v1/session")
            .assert_problem(401, "unauthenticated");
    }

    fn a_bearer_token_is_made_by_a_browser_session_with_the_password_and_works_without_a_cookie(app: &TestApp) {
        let admin = app.admin();
        // The password is asked again; a wrong one is refused (and counted as a failed sign-in).
        app.post_json(&admin, "/api/v1/tokens", &serde_json::json!({"name": "nightly export"}))
            .assert_problem(400, "validation");
        let wrong = app.post_json(&admin, "/api/v1/tokens", &serde_json::json!({"name": "nightly export", "password": "not-it-at-all"}));
        wrong.assert_problem(400, "validation");
        assert_eq!(wrong.json["errors"][0]["field"], "password");
        for (body, field) in [
            (serde_json::json!({"name": "", "password": ADMIN_PASSWORD}), "name"),
            (serde_json::json!({"name": "x".repeat(65), "password": ADMIN_PASSWORD}), "name"),
            (serde_json::json!({"name": "x", "password": ADMIN_PASSWORD, "days": 0}), "days"),
            (serde_json::json!({"name": "x", "password": ADMIN_PASSWORD, "days": 91}), "days"),
        ] {
            let r = app.post_json(&admin, "/api/v1/tokens", &body);
            r.assert_problem(400, "validation");
            assert_eq!(r.json["errors"][0]["field"], field, "{body}");
        }
        let sessions = app.count("sessions");
        let reply = app.post_json(&admin, "/api/v1/tokens", &serde_json::json!({"name": "nightly export", "password": ADMIN_PASSWORD, "days": 7}));
        reply.assert_status(201);
        assert_eq!(app.count("sessions"), sessions + 1);
        let token = reply.json["token"].as_str().expect("a token").to_string();
        assert_eq!(token.len(), 64);
        assert_eq!((reply.json["name"].as_str(), reply.json["scope"].as_str(), reply.json["username"].as_str()), (Some("nightly export"), Some("full"), Some(ADMIN)));
        let expires = chrono::DateTime::parse_from_rfc3339(reply.json["expires_at"].as_str().expect("an expiry")).unwrap();
        let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
        assert!((7 * 24 - 1..=7 * 24).contains(&days), "{days} hours");

        let script = app.client();
        let me = app.send(script.get(app.url("/api/v1/me")).bearer_auth(&token));
        me.assert_status(200);
        assert_eq!(me.json["username"], ADMIN);
        let created = app.send(
            script
                .post(app.url("/api/v1/enterprises"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"code": "4401960001", "name": "广州某物流有限公司", "kinds": ["logistics"]})),
        );
        created.assert_status(201);
        // A token cannot make tokens, not even with the password (nor as a cookie).
        let minted = app.send(
            script
                .post(app.url("/api/v1/tokens"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"name": "renewal", "password": ADMIN_PASSWORD})),
        );
        minted.assert_problem(403, "forbidden");
        let as_cookie = app.send(
            script
                .post(app.url("/api/v1/tokens"))
                .header(COOKIE, format!("br_session={token}"))
                .json(&serde_json::json!({"name": "renewal", "password": ADMIN_PASSWORD})),
        );
        as_cookie.assert_problem(403, "forbidden");
        assert_eq!(app.count("sessions"), sessions + 1);
        // A token is not a cookie: without the header the same client is a stranger.
        app.get(&script, "/api/v1/me")
            .assert_problem(401, "unauthenticated");
        // Recorded with its id, name and scope, never the token.
        let entries = app.audit_entries(&admin, "&action=token.create");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["entity_id"], reply.json["id"]);
        assert!(!entries[0].to_string().contains(&token));
    }

    fn tokens_are_listed_and_revoked_by_their_owner_and_by_an_admin(app: &TestApp) {
        let owner = app.create_user("supervisor", None);
        let other = app.create_user("supervisor", None);
        let browser = app.login(&owner.username, &owner.password);
        let first = app.make_token(&browser, &owner.password);
        let second = app.make_token(&browser, &owner.password);
        let bearer = |t: &str| app.send(app.client().get(app.url("/api/v1/me")).bearer_auth(t));
        let listed = app.get(&browser, "/api/v1/tokens");
        listed.assert_status(200);
        let items = listed.json["items"].as_array().expect("items").clone();
        assert_eq!(items.len(), 2, "{}", listed.text);
        assert!(!listed.text.contains(&first) && !listed.text.contains(&second), "a token was listed");
        assert!(items.iter().all(|t| t["username"] == owner.username.as_str() && t.get("token").is_none()));
        // A token lists its siblings too (it is its owner's), and another user sees none of them.
        let by_token = app.send(app.client().get(app.url("/api/v1/tokens")).bearer_auth(&first));
        assert_eq!(by_token.json["items"].as_array().map(Vec::len), Some(2));
        let stranger = app.login(&other.username, &other.password);
        assert_eq!(app.get(&stranger, "/api/v1/tokens").json["items"], serde_json::json!([]));
        let (id_new, id_old) = (items[0]["id"].as_str().unwrap().to_string(), items[1]["id"].as_str().unwrap().to_string());
        app.delete(&stranger, &format!("/api/v1/tokens/{id_new}")).assert_problem(404, "not_found");
        app.delete(&stranger, "/api/v1/tokens/tk_nosuchtoken").assert_problem(404, "not_found");
        bearer(&second).assert_status(200);
        // The owner revokes the newer one: it ends at once.
        app.delete(&browser, &format!("/api/v1/tokens/{id_new}")).assert_status(204);
        bearer(&second).assert_problem(401, "unauthenticated");
        app.delete(&browser, &format!("/api/v1/tokens/{id_new}")).assert_problem(404, "not_found");
        // Signing out of the browser does not end the other token…
        app.delete(&browser, "/api/v1/session").assert_status(204);
        bearer(&first).assert_status(200);
        // …an admin sees it among everybody's and revokes it.
        let admin = app.admin();
        let all = app.get(&admin, "/api/v1/tokens");
        assert!(all.json["items"].as_array().unwrap().iter().any(|t| t["id"] == id_old.as_str()), "{}", all.text);
        app.delete(&admin, &format!("/api/v1/tokens/{id_old}")).assert_status(204);
        bearer(&first).assert_problem(401, "unauthenticated");
        let revoked = app.audit_entries(&admin, "&action=token.revoke");
        assert_eq!(revoked.len(), 2);
        assert!(revoked.iter().any(|e| e["actor"] == ADMIN && e["entity_id"] == id_old.as_str()));
    }

    fn a_customs_token_reads_the_audit_log_and_the_exports_and_nothing_else(app: &TestApp) {
        let sup = app.create_user("supervisor", None);
        let browser = app.login(&sup.username, &sup.password);
        let r = app.post_json(&browser, "/api/v1/tokens", &serde_json::json!({"name": "海关数据联网", "password": sup.password, "scope": "customs"}));
        r.assert_status(201);
        assert_eq!(r.json["scope"], "customs");
        let token = r.json["token"].as_str().unwrap().to_string();
        let script = app.client();
        let get = |path: &str| app.send(script.get(app.url(path)).bearer_auth(&token));
        for path in ["/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/head", "/api/v1/audit/export.csv", "/api/v1/me"] {
            get(path).assert_status(200);
        }
        for path in ["/api/v1/returns", "/api/v1/enterprises", "/api/v1/tokens", "/api/v1/stats"] {
            get(path).assert_problem(403, "forbidden");
        }
        let hold = app.send(script.post(app.url("/api/v1/returns/RT0/hold")).bearer_auth(&token).json(&serde_json::json!({"reason": "x"})));
        hold.assert_problem(403, "forbidden");
        // Floor staff may not read the audit log, so they cannot have such a token.
        let floor = app.create_user("floor", Some(&app.seed_parties().a.warehouse));
        let floor_browser = app.login(&floor.username, &floor.password);
        let refused = app.post_json(&floor_browser, "/api/v1/tokens", &serde_json::json!({"name": "x", "password": floor.password, "scope": "customs"}));
        refused.assert_problem(400, "validation");
        assert_eq!(refused.json["errors"][0]["field"], "scope");
    }
}

/// A floor step's answer and whether it changed the return (its state and audit trail).
fn step_then_state(
    k: &crate::flowkit::Kit,
    client: &reqwest::blocking::Client,
    id: &str,
) -> (Reply, String, usize) {
    let r = k.step(
        client,
        id,
        "receive",
        &serde_json::json!({"warehouse": k.seed.a.warehouse, "camera": k.seed.a.camera}),
    );
    (r, k.state(id), k.entries_of(id).len())
}

both! {
    // Floor steps take a session this node has seen as a claim and confirm it inside the
    // write transaction: whatever ended or changed it since is refused there, before the
    // step, exactly as a session read from the database first.
    fn a_floor_session_known_from_earlier_scans_is_confirmed_again_at_every_step(app: &TestApp) {
        let k = crate::flowkit::Kit::new(app);
        let returns: Vec<String> = (0..6).map(|_| k.whole_return().1).collect();
        let entries = |id: &str| k.entries_of(id).len();
        let sql = |q: String| app.db.sql(&q).expect("sql");

        // Ended on another node (the row is gone): 401, nothing done.
        let u = app.create_user("floor", Some(&k.seed.a.warehouse));
        let client = app.login(&u.username, &u.password);
        let (r, state, _) = step_then_state(&k, &client, &returns[0]);
        r.assert_status(200);
        assert_eq!(state, "received");
        let before = entries(&returns[1]);
        sql(format!("DELETE FROM sessions WHERE username = '{}'", u.username));
        let (r, state, after) = step_then_state(&k, &client, &returns[1]);
        r.assert_problem(401, "unauthenticated");
        assert_eq!((state.as_str(), after), ("declared", before));

        // The step is refused with `status`/`code` and the return is left as it was.
        let refused = |client: &reqwest::blocking::Client, id: &str, status: u16, code: &str| {
            let (r, state, _) = step_then_state(&k, client, id);
            r.assert_problem(status, code);
            assert_eq!(state, "declared");
        };

        // Signed out on this node: 401.
        let client = app.login(&u.username, &u.password);
        step_then_state(&k, &client, &returns[1]).0.assert_status(200);
        app.delete(&client, "/api/v1/session").assert_status(204);
        refused(&client, &returns[2], 401, "unauthenticated");

        // Expired: 401.
        let client = app.login(&u.username, &u.password);
        step_then_state(&k, &client, &returns[2]).0.assert_status(200);
        sql(format!("UPDATE sessions SET expires_at = '2000-01-01 00:00:00' WHERE username = '{}'", u.username));
        refused(&client, &returns[3], 401, "unauthenticated");

        // Deactivated: 401.
        let v = app.create_user("floor", Some(&k.seed.a.warehouse));
        let client = app.login(&v.username, &v.password);
        step_then_state(&k, &client, &returns[3]).0.assert_status(200);
        sql(format!("UPDATE users SET active = false WHERE username = '{}'", v.username));
        refused(&client, &returns[4], 401, "unauthenticated");

        // No longer floor staff: 403; back on the floor, the next step is read afresh: 200.
        let w = app.create_user("floor", Some(&k.seed.a.warehouse));
        let client = app.login(&w.username, &w.password);
        step_then_state(&k, &client, &returns[4]).0.assert_status(200);
        sql(format!("UPDATE users SET role = 'supervisor', warehouse_code = NULL WHERE username = '{}'", w.username));
        refused(&client, &returns[5], 403, "forbidden");

        // Moved to another warehouse: the step runs as the database says, and is refused.
        sql(format!("UPDATE users SET role = 'floor', warehouse_code = '{}' WHERE username = '{}'", k.seed.b.warehouse, w.username));
        refused(&client, &returns[5], 403, "forbidden");
        sql(format!("UPDATE users SET warehouse_code = '{}' WHERE username = '{}'", k.seed.a.warehouse, w.username));
        let (r, state, _) = step_then_state(&k, &client, &returns[5]);
        r.assert_status(200);
        assert_eq!(state, "received");
        // Audited as the user the database knows.
        let last = k.entries_of(&returns[5]).pop().expect("an entry");
        assert_eq!((last.action.as_str(), last.actor.as_str()), ("return.receive", w.username.as_str()));
    }
}

both! {
    // The claimed callers of one write batch are confirmed together, in one statement read in
    // the batch's transaction: a session ended meanwhile is refused and its step changes
    // nothing; the others' steps go through, each audited as its own user.
    fn the_claimed_callers_of_one_batch_are_confirmed_together(app: &TestApp) {
        let k = crate::flowkit::Kit::new(app);
        let users: Vec<_> = (0..3)
            .map(|_| app.create_user("floor", Some(&k.seed.a.warehouse)))
            .collect();
        let clients: Vec<_> = users.iter().map(|u| app.login(&u.username, &u.password)).collect();
        // Each session is seen once on this node, so that its next step is only a claim.
        for client in &clients {
            let id = k.whole_return().1;
            step_then_state(&k, client, &id).0.assert_status(200);
        }
        let returns: Vec<String> = (0..3).map(|_| k.whole_return().1).collect();
        // Ended on another node: this node still takes it as a claim.
        app.db
            .sql(&format!("DELETE FROM sessions WHERE username = '{}'", users[1].username))
            .expect("sql");
        let requests = clients
            .iter()
            .zip(&returns)
            .map(|(client, id)| -> crate::flow::Request<'_> {
                let k = &k;
                Box::new(move || step_then_state(k, client, id).0)
            })
            .collect();
        let (replies, _) = crate::flow::in_one_batch(app, requests);
        replies[0].assert_status(200);
        replies[1].assert_problem(401, "unauthenticated");
        replies[2].assert_status(200);
        assert_eq!(
            [k.state(&returns[0]), k.state(&returns[1]), k.state(&returns[2])],
            ["received", "declared", "received"]
        );
        for (i, id) in [(0, &returns[0]), (2, &returns[2])] {
            let last = k.entries_of(id).pop().expect("an entry");
            assert_eq!(last.actor, users[i].username, "audited as its own user");
        }
        assert!(k.entries_of(&returns[1]).iter().all(|e| e.action != "return.receive"));
        assert!(app.verify(None).ok, "the chain holds");
    }
}

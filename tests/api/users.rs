//! An admin deactivates and reactivates users and resets their passwords
//! (`PATCH /api/v1/users/{username}`): sessions and tokens end at once.

use serde_json::{json, Value};

use crate::support::*;

/// The `user.update` entries of `username`, oldest first.
fn updates(app: &TestApp, admin: &reqwest::blocking::Client, username: &str) -> Vec<Value> {
    let mut e = app.audit_entries(admin, &format!("&action=user.update&entity={username}"));
    e.reverse();
    e
}

both! {
    fn a_deactivated_user_is_signed_out_everywhere_and_cannot_sign_in_until_reactivated(app: &TestApp) {
        let admin = app.admin();
        let u = app.create_user("supervisor", None);
        let browser = app.login(&u.username, &u.password);
        let token = app.make_token(&browser, &u.password);
        let script = app.client();
        let me_by_token = || app.send(script.get(app.url("/api/v1/me")).bearer_auth(&token));
        me_by_token().assert_status(200);

        let path = format!("/api/v1/users/{}", u.username);
        let r = app.patch_json(&admin, &path, &json!({"active": false}));
        r.assert_status(200);
        assert_eq!(r.json, json!({"username": u.username, "role": "supervisor", "warehouse": null, "active": false}));
        // The cookie session and the token end at once; the right password is refused.
        app.get(&browser, "/api/v1/me").assert_problem(401, "unauthenticated");
        me_by_token().assert_problem(401, "unauthenticated");
        app.sign_in(&app.client(), &u.username, &u.password).assert_problem(401, "unauthenticated");
        let listed = app.get(&admin, "/api/v1/users");
        let row = listed.json["items"].as_array().unwrap().iter().find(|x| x["username"] == u.username.as_str()).cloned().unwrap();
        assert_eq!(row["active"], false);
        let e = updates(app, &admin, &u.username);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0]["changes"]["active"], json!({"before": true, "after": false}));
        assert_eq!(e[0]["changes"]["sessions"], json!({"before": 2, "after": 0}));
        assert_eq!(e[0]["actor"], ADMIN);

        // Asked again to be what it is: nothing changes, nothing is recorded.
        app.patch_json(&admin, &path, &json!({"active": false})).assert_status(200);
        assert_eq!(updates(app, &admin, &u.username).len(), 1);

        // Reactivated: a new sign-in works, the old session and token stay ended.
        let r = app.patch_json(&admin, &path, &json!({"active": true}));
        r.assert_status(200);
        assert_eq!(r.json["active"], true);
        app.login(&u.username, &u.password);
        app.get(&browser, "/api/v1/me").assert_problem(401, "unauthenticated");
        me_by_token().assert_problem(401, "unauthenticated");
        assert!(app.verify(None).ok);
    }

    fn a_reset_password_replaces_the_old_one_and_ends_the_users_sessions(app: &TestApp) {
        let admin = app.admin();
        let u = app.create_user("supervisor", None);
        let browser = app.login(&u.username, &u.password);
        let new_password = "a-new-password-2026";
        let path = format!("/api/v1/users/{}", u.username);
        let r = app.patch_json(&admin, &path, &json!({"password": new_password}));
        r.assert_status(200);
        assert_eq!(r.json["active"], true);
        app.get(&browser, "/api/v1/me").assert_problem(401, "unauthenticated");
        app.sign_in(&app.client(), &u.username, &u.password).assert_problem(401, "unauthenticated");
        app.login(&u.username, new_password);
        let e = updates(app, &admin, &u.username);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0]["changes"]["password"], json!({"before": null, "after": "reset"}));
        // That it changed, never the password or its hash.
        let text = e[0].to_string();
        assert!(!text.contains(new_password) && !text.contains("$argon2"), "{text}");
    }

    fn an_admin_cannot_deactivate_itself_and_bad_changes_change_nothing(app: &TestApp) {
        let admin = app.admin();
        let u = app.create_user("supervisor", None);
        let wh = app.seed_parties().a.warehouse;
        let others = [app.user_client("supervisor", None), app.user_client("floor", Some(&wh))];
        let head = app.head();
        let path = format!("/api/v1/users/{}", u.username);
        app.patch_json(&admin, &format!("/api/v1/users/{ADMIN}"), &json!({"active": false}))
            .assert_problem(409, "conflict");
        for body in [
            json!({}),
            json!({"active": "no"}),
            json!({"password": "short"}),
            json!({"active": false, "role": "admin"}),
            json!([]),
        ] {
            app.patch_json(&admin, &path, &body).assert_problem(400, "validation");
        }
        app.patch_json(&admin, "/api/v1/users/nobody-here", &json!({"active": false}))
            .assert_problem(404, "not_found");
        for other in &others {
            app.patch_json(other, &path, &json!({"active": false}))
                .assert_problem(403, "forbidden");
        }
        app.patch_json(&app.client(), &path, &json!({"active": false}))
            .assert_problem(401, "unauthenticated");
        assert_eq!(app.head().seq, head.seq, "nothing was recorded");
        app.login(&u.username, &u.password);
        app.login(ADMIN, ADMIN_PASSWORD);
    }
}

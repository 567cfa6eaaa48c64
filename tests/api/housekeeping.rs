//! Housekeeping: old idempotency answers, expired sessions and spent sign-in throttle rows
//! are removed; what is still needed stays.

use serde_json::json;

#[allow(unused_imports)]
use crate::support::*;

both! {
    fn housekeeping_removes_what_has_expired_and_keeps_the_rest(app: &TestApp) {
        let admin = app.admin();
        // Three keyed answers: one older than the keys are kept, one 25 hours old (kept: the
        // contract promises at least 24 hours), one new.
        let post = |key: &str, n: u32| {
            app.send(
                admin
                    .post(app.url("/api/v1/enterprises"))
                    .header("Idempotency-Key", key)
                    .json(&json!({"code": format!("44019600{n:02}"), "name": "报关行", "kinds": ["agent"]})),
            )
        };
        let mut first = Vec::new();
        for (n, key) in ["old-key", "day-key", "new-key"].into_iter().enumerate() {
            let r = post(key, n as u32 + 1);
            r.assert_status(201);
            first.push(r.text);
        }
        let hours_ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).format("%Y-%m-%d %H:%M:%S").to_string();
        app.db.sql(&format!("UPDATE idempotency_keys SET created_at = '{}' WHERE key LIKE '%old-key'", hours_ago(bonded_returns::flows::idempotency::KEEP_HOURS + 1))).unwrap();
        app.db.sql(&format!("UPDATE idempotency_keys SET created_at = '{}' WHERE key LIKE '%day-key'", hours_ago(25))).unwrap();
        // A supervisor session that has expired, and the admin's that has not.
        let floor = app.user_client("supervisor", None);
        app.get(&floor, "/api/v1/me").assert_status(200);
        app.db.sql("UPDATE sessions SET expires_at = '2020-01-01 00:00:00' WHERE username <> 'admin'").unwrap();
        // Throttle rows: a spent one, a fresh one, and an old one whose wait still lasts.
        let anon = app.client();
        for name in ["ghost-spent", "ghost-fresh", "ghost-slowed"] {
            app.sign_in(&anon, name, "wrong-password").assert_status(401);
        }
        app.db.sql("UPDATE sign_in_throttle SET last_failure_at = '2020-01-01 00:00:00' WHERE username IN ('ghost-spent', 'ghost-slowed')").unwrap();
        app.db.sql("UPDATE sign_in_throttle SET failures = 12, delayed_until = '2999-01-01 00:00:00' WHERE username = 'ghost-slowed'").unwrap();
        let (keys, sessions, throttles) = (
            app.count("idempotency_keys"),
            app.count("sessions"),
            app.count("sign_in_throttle"),
        );

        let done = app.write(bonded_returns::app::housekeep).expect("housekeeping runs");
        assert_eq!(
            (done.idempotency_keys, done.sessions, done.throttles),
            (1, 1, 1),
            "{done:?}"
        );
        assert_eq!(app.count("idempotency_keys"), keys - 1);
        assert_eq!(app.count("sessions"), sessions - 1);
        assert_eq!(app.count("sign_in_throttle"), throttles - 1);
        // The admin still works; the expired session does not; the slowed name still waits.
        app.get(&admin, "/api/v1/me").assert_status(200);
        app.get(&floor, "/api/v1/me").assert_problem(401, "unauthenticated");
        app.sign_in(&anon, "ghost-slowed", "wrong-password").assert_problem(429, "rate_limited");
        // The 25-hour-old key still replays its first answer and changes nothing.
        let head = app.head();
        let replay = post("day-key", 2);
        assert_eq!((replay.status, &replay.text), (201, &first[1]));
        assert_eq!(app.head(), head);
        // Nothing left to do the second time.
        let again = app.write(bonded_returns::app::housekeep).unwrap();
        assert_eq!(again, bonded_returns::app::Housekept::default());
    }
}

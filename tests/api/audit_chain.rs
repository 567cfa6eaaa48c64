//! The tamper-evident audit chain: it verifies after many changes, it is filtered, paged and
//! exported faithfully, the database refuses to rewrite it, and every kind of tampering behind
//! the app's back is found at the right entry.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reqwest::blocking::Client;
use serde_json::{json, Value};

use bonded_returns::audit::{self, AuditEntry, ChainHead};
use bonded_returns::db::schema::audit_entries;

use crate::support::*;

/// A few hundred mixed changes over HTTP from two admins; returns how many were made.
fn mixed_changes(app: &TestApp, admin: &Client, second: &Client) -> i64 {
    let mut n = 0;
    let mut ok = |reply: Reply| {
        assert!(reply.status == 201, "{}", reply.text);
        n += 1;
    };
    for i in 0..50 {
        let kinds = if i < 10 {
            json!(["warehouse_operator"])
        } else {
            json!(["agent", "logistics"])
        };
        ok(app.post_json(
            admin,
            "/api/v1/enterprises",
            &json!({"code": format!("44019{i:05}"), "name": format!("企业{i}"), "kinds": kinds}),
        ));
        let rating = ["certified", "regular", "advanced_certified"][i % 3];
        ok(app.post_json(
            admin,
            &format!("/api/v1/enterprises/44019{i:05}/ratings"),
            &json!({"rating": rating, "reference": format!("署信〔2026〕{i}号")}),
        ));
    }
    for w in 0..10 {
        ok(app.post_json(admin, "/api/v1/warehouses", &json!({"code": format!("WH-{w}"), "name": format!("{w}号仓"), "operator": format!("44019{w:05}"), "zone": "西永"})));
        for b in 0..15 {
            let area = AREAS[b % AREAS.len()];
            ok(app.post_json(
                admin,
                &format!("/api/v1/warehouses/WH-{w}/bins"),
                &json!({"code": format!("{w}-{b:02}"), "area": area}),
            ));
        }
        for c in 0..2 {
            ok(app.post_json(
                admin,
                &format!("/api/v1/warehouses/WH-{w}/cameras"),
                &json!({"code": format!("CAM-{w}-{c}"), "name": "摄像头", "area": "receiving"}),
            ));
        }
    }
    for u in 0..5 {
        ok(app.post_json(admin, "/api/v1/users", &json!({"username": format!("floor{u}"), "role": "floor", "warehouse": format!("WH-{u}"), "password": "floor-password-123"})));
    }
    for i in 50..65 {
        ok(app.post_json(second, "/api/v1/enterprises", &json!({"code": format!("44019{i:05}"), "name": format!("企业{i}"), "kinds": ["agent"]})));
    }
    // Refusals change nothing and so append nothing.
    let dup = app.post_json(
        admin,
        "/api/v1/enterprises",
        &json!({"code": "4401900000", "name": "重复", "kinds": ["agent"]}),
    );
    dup.assert_problem(409, "conflict");
    n
}

fn seqs(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

fn time(e: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(e["at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Lets raw SQL change the log, as an attacker with database access could.
fn disable_guards(app: &TestApp) {
    let sql = match app.backend {
        Backend::Sqlite => {
            "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;"
        }
        Backend::Postgres => "ALTER TABLE audit_entries DISABLE TRIGGER USER",
    };
    app.db.sql(sql).expect("the guards are dropped");
}

fn entry(app: &TestApp, seq: i64) -> AuditEntry {
    audit_entries::table
        .find(seq)
        .select(AuditEntry::as_select())
        .first(&mut *app.conn())
        .expect("the entry")
}

/// Puts an entry back exactly as it was.
fn restore(app: &TestApp, original: &AuditEntry) {
    app.db
        .sql(&format!(
            "DELETE FROM audit_entries WHERE seq = {}",
            original.seq
        ))
        .unwrap();
    diesel::insert_into(audit_entries::table)
        .values(original)
        .execute(&mut *app.conn())
        .expect("the entry is put back");
}

/// Every way of checking the chain must name the same first broken entry.
#[track_caller]
fn assert_broken_at(app: &TestApp, seq: i64) {
    let direct = app.verify(None);
    assert!(!direct.ok, "tampering went unnoticed: {direct:?}");
    assert_eq!(direct.first_bad_seq, Some(seq), "{direct:?}");

    let http = app.get(&app.admin(), "/api/v1/audit/verify");
    http.assert_status(200);
    assert_eq!(http.json["ok"], false);
    assert_eq!(http.json["first_bad_seq"], seq);

    let run = cli(&["audit", "verify", "--database-url", &app.db.url], None);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(run.stdout.contains(&format!("#{seq}")), "{run:?}");
}

both! {
    fn after_a_few_hundred_mixed_changes_the_chain_verifies_with_the_right_count_and_head(
        app: &TestApp,
    ) {
        let admin = app.admin();
        let u = app.create_user("admin", None);
        let second = app.login(&u.username, &u.password);
        let before = app.head().seq;
        let made = mixed_changes(app, &admin, &second);
        assert!(made >= 300, "{made}");

        let v = app.get(&admin, "/api/v1/audit/verify");
        v.assert_status(200);
        assert_eq!(v.json["ok"], true, "{}", v.text);
        assert_eq!(v.json["entries"], before + made);
        let head = app.get(&admin, "/api/v1/audit/head");
        head.assert_status(200);
        assert_eq!(head.json["seq"], before + made);
        assert_eq!(v.json["head"], head.json["hash"]);
        assert_eq!(
            head.json["expect_head"],
            format!(
                "{}:{}:{}",
                before + made,
                head.json["hash"].as_str().unwrap(),
                head.json["signature"].as_str().unwrap()
            )
        );
        let newest = app.get(&admin, "/api/v1/audit?limit=1");
        assert_eq!(newest.json["items"][0]["hash"], head.json["hash"]);

        // Each entry links to the one before it.
        let all = app.audit_entries(&admin, "");
        assert_eq!(all.len() as i64, before + made);
        for pair in all.windows(2) {
            assert_eq!(pair[0]["prev_hash"], pair[1]["hash"]);
            assert_eq!(
                pair[0]["seq"].as_i64().unwrap(),
                pair[1]["seq"].as_i64().unwrap() + 1
            );
        }
        assert_eq!(all.last().unwrap()["prev_hash"], audit::GENESIS_HASH);
        // Entries made over HTTP carry the request id, and passwords never appear.
        assert!(all[0]["request_id"].is_string());
        assert!(!all
            .iter()
            .any(|e| e.to_string().contains("floor-password-123")));
    }

    fn the_audit_log_filters_pages_and_exports_exactly_what_it_holds(app: &TestApp) {
        let admin = app.admin();
        let u = app.create_user("admin", None);
        let second = app.login(&u.username, &u.password);
        mixed_changes(app, &admin, &second);
        let supervisor = app.user_client("supervisor", None);
        let all = app.audit_entries(&supervisor, "");
        let total = all.len();
        assert_eq!(seqs(&all), (1..=total as i64).rev().collect::<Vec<_>>());

        // Each filter gives exactly the entries that match it, and only those.
        let check = |query: String, keep: &dyn Fn(&Value) -> bool| {
            let expected: Vec<i64> =
                seqs(&all.iter().filter(|e| keep(e)).cloned().collect::<Vec<_>>());
            assert!(
                !expected.is_empty(),
                "{query} matches nothing: a useless check"
            );
            assert!(
                expected.len() < total,
                "{query} matches everything: a useless check"
            );
            let got = seqs(&app.audit_entries(&supervisor, &query));
            assert_eq!(got, expected, "{query}");
        };
        check(format!("&actor={}", u.username), &|e| {
            e["actor"] == u.username.as_str()
        });
        check("&action=bin.create".into(), &|e| {
            e["action"] == "bin.create"
        });
        check("&warehouse=WH-3".into(), &|e| e["warehouse"] == "WH-3");
        check("&entity=4401900007".into(), &|e| {
            e["entity_id"] == "4401900007"
        });
        check("&enterprise=4401900002".into(), &|e| {
            e["enterprise"] == "4401900002"
        });
        check(format!("&actor={ADMIN}&action=enterprise.rate"), &|e| {
            e["actor"] == ADMIN && e["action"] == "enterprise.rate"
        });
        let mid = &all[total / 2];
        let t = time(mid);
        let stamp = mid["at"].as_str().unwrap().replace('+', "%2B");
        check(format!("&from={stamp}"), &|e| time(e) >= t);
        // `to` includes what it shows: to the microsecond here, so the entry itself.
        check(format!("&to={stamp}"), &|e| time(e) <= t);
        let late = &all[total / 4];
        let late_stamp = late["at"].as_str().unwrap().replace('+', "%2B");
        check(
            format!("&from={stamp}&to={late_stamp}&action=bin.create"),
            &|e| time(e) >= t && time(e) <= time(late) && e["action"] == "bin.create",
        );
        assert_eq!(app.audit_entries(&supervisor, "&actor=nobody").len(), 0);

        // Paging by cursor: newest first, no duplicates, no gaps.
        for (limit, query) in [(7, String::new()), (13, "&action=bin.create".to_string())] {
            let expected = seqs(&app.audit_entries(&supervisor, &query));
            let mut got = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut path = format!("/api/v1/audit?limit={limit}{query}");
                if let Some(c) = &cursor {
                    path.push_str(&format!("&cursor={c}"));
                }
                let page = app.get(&supervisor, &path);
                page.assert_status(200);
                let items = page.json["items"].as_array().unwrap();
                assert!(items.len() <= limit);
                got.extend(seqs(items));
                match page.json["next_cursor"].as_str() {
                    Some(c) => {
                        assert_eq!(items.len(), limit, "a short page must be the last");
                        cursor = Some(c.to_string());
                    }
                    None => break,
                }
            }
            let unique: BTreeSet<i64> = got.iter().copied().collect();
            assert_eq!(unique.len(), got.len(), "duplicates across pages");
            assert_eq!(
                got, expected,
                "paging with limit {limit}{query} lost or reordered entries"
            );
        }

        // CSV: a byte-order mark and a header, then one line per entry, in the same order.
        let csv = app.get(&supervisor, "/api/v1/audit/export.csv?lang=en");
        csv.assert_status(200);
        assert!(
            csv.content_type.starts_with("text/csv"),
            "{}",
            csv.content_type
        );
        let text = csv.text.strip_prefix('\u{feff}').expect("a byte-order mark");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), total + 1);
        assert!(
            lines[0].starts_with(
                "seq,time,actor,role,action,action code,entity kind,entity id,warehouse,enterprise,camera,bin,area,quantity"
            ),
            "{}",
            lines[0]
        );
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), total);
        let csv_seqs: Vec<i64> = records.iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(csv_seqs, seqs(&all));
        assert_eq!(&records[0][21], all[0]["hash"].as_str().unwrap());
        assert_eq!(&records[0][5], all[0]["action"].as_str().unwrap());
        // The export takes the same filters.
        let bins = app.get(
            &supervisor,
            "/api/v1/audit/export.csv?action=bin.create&warehouse=WH-2",
        );
        assert_eq!(bins.text.lines().count(), 1 + 15);
    }

    fn the_database_itself_refuses_update_and_delete_on_audit_entries(app: &TestApp) {
        app.seed_parties();
        let head = app.head();
        for sql in [
            "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3",
            "UPDATE audit_entries SET changes = '{}'",
            "DELETE FROM audit_entries WHERE seq = 3",
            "DELETE FROM audit_entries",
        ] {
            let refused = app.db.sql(sql);
            let err = refused.expect_err(&format!("the database accepted: {sql}"));
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
        if app.backend == Backend::Postgres {
            let err = app
                .db
                .sql("TRUNCATE audit_entries")
                .expect_err("TRUNCATE was accepted");
            assert!(err.contains("append-only"), "{err}");
        }
        assert_eq!(app.head(), head);
        let v = app.verify(None);
        assert!(v.ok, "{v:?}");
        assert_eq!(v.entries, head.seq);
    }

    fn changing_any_stored_field_of_one_entry_is_reported_at_that_entry(app: &TestApp) {
        let seed = app.seed_parties();
        // An entry made over HTTP, so that every field (request id included) is filled in.
        let admin = app.admin();
        app.post_json(
            &admin,
            &format!("/api/v1/enterprises/{}/ratings", seed.a.operator),
            &json!({"rating": "certified", "reference": "署信〔2026〕1号"}),
        )
        .assert_status(201);
        let k = app.head().seq;
        app.add_enterprises(5);
        disable_guards(app);
        let original = entry(app, k);
        assert!(
            original.warehouse.is_none()
                && original.reason.is_some()
                && original.request_id.is_some()
        );

        let at_shift = match app.backend {
            Backend::Sqlite => "at = strftime('%Y-%m-%d %H:%M:%f', at, '+1 second')",
            Backend::Postgres => "at = at + interval '1 second'",
        };
        let alterations = [
            "actor = 'mallory'".to_string(),
            "role = 'floor'".into(),
            "action = 'enterprise.create'".into(),
            "entity_kind = 'warehouse'".into(),
            "entity_id = '3301960002'".into(),
            "warehouse = 'WH-B'".into(),
            "enterprise = '3301960002'".into(),
            r#"changes = '{"rating":{"after":"advanced_certified","before":null}}'"#.into(),
            "reason = NULL".into(),
            "request_id = 'forged'".into(),
            at_shift.into(),
            format!("prev_hash = '{}'", "0".repeat(64)),
            format!("hash = '{}'", "f".repeat(64)),
        ];
        for change in &alterations {
            app.db
                .sql(&format!(
                    "UPDATE audit_entries SET {change} WHERE seq = {k}"
                ))
                .unwrap();
            let v = app.verify(None);
            assert_eq!(v.first_bad_seq, Some(k), "{change}: {v:?}");
            restore(app, &original);
            assert!(
                app.verify(None).ok,
                "restoring {change} did not mend the chain"
            );
        }
        // Once more through the API and the command line.
        app.db
            .sql(&format!(
                "UPDATE audit_entries SET actor = 'mallory' WHERE seq = {k}"
            ))
            .unwrap();
        assert_broken_at(app, k);
    }

    fn deleting_an_entry_is_reported_at_the_missing_sequence_number(app: &TestApp) {
        app.seed_parties();
        let total = app.head().seq;
        disable_guards(app);
        app.db
            .sql("DELETE FROM audit_entries WHERE seq = 6")
            .unwrap();
        assert_broken_at(app, 6);
        let v = app.verify(None);
        assert_eq!(v.entries, 5, "{v:?}");
        assert!(total > 10);
    }

    fn swapping_two_entries_is_reported_at_the_first_of_them(app: &TestApp) {
        app.seed_parties();
        disable_guards(app);
        // Swap the contents of entries 5 and 9 (everything but their place in the sequence).
        app.db
            .sql(
                "UPDATE audit_entries SET seq = -1 WHERE seq = 5; \
                  UPDATE audit_entries SET seq = 5 WHERE seq = 9; \
                  UPDATE audit_entries SET seq = 9 WHERE seq = -1;",
            )
            .unwrap();
        assert_broken_at(app, 5);
        // Neighbours too: 2 and 3.
        app.db
            .sql(
                "UPDATE audit_entries SET seq = -1 WHERE seq = 9; \
                  UPDATE audit_entries SET seq = 9 WHERE seq = 5; \
                  UPDATE audit_entries SET seq = 5 WHERE seq = -1; \
                  UPDATE audit_entries SET seq = -1 WHERE seq = 2; \
                  UPDATE audit_entries SET seq = 2 WHERE seq = 3; \
                  UPDATE audit_entries SET seq = 3 WHERE seq = -1;",
            )
            .unwrap();
        assert_broken_at(app, 2);
    }

    fn an_entry_forged_at_the_end_is_reported(app: &TestApp) {
        app.seed_parties();
        let head = app.head();
        let mut forged = entry(app, head.seq);
        forged.seq = head.seq + 1;
        forged.prev_hash = head.hash.clone();
        forged.actor = "mallory".into();
        // Inserting is allowed (the log is append-only), but the forger cannot make the hash.
        diesel::insert_into(audit_entries::table)
            .values(&forged)
            .execute(&mut *app.conn())
            .unwrap();
        assert_broken_at(app, head.seq + 1);
    }

    fn a_published_head_catches_a_cut_off_tail(app: &TestApp) {
        app.seed_parties();
        let admin = app.admin();
        let published = app.get(&admin, "/api/v1/audit/head");
        published.assert_status(200);
        let expect = published.json["expect_head"].as_str().unwrap().to_string();
        let (head, signature) = audit::parse_signed_head(&expect).unwrap();
        assert!(signature.is_some(), "the published head is signed");
        app.add_enterprises(5);
        assert!(app.verify(Some(&head)).ok);
        let key = app.signing_key.display().to_string();
        let run = cli_with_env(
            &[
                "audit",
                "verify",
                "--database-url",
                &app.db.url,
                "--expect-head",
                &expect,
            ],
            None,
            &[("BR_SIGNING_KEY", &key)],
        );
        assert_eq!(run.code, Some(0), "{run:?}");

        // Cut off everything after head - 3: the chain alone still looks whole…
        disable_guards(app);
        let keep = head.seq - 3;
        app.db
            .sql(&format!("DELETE FROM audit_entries WHERE seq > {keep}"))
            .unwrap();
        let alone = app.verify(None);
        assert!(alone.ok, "{alone:?}");
        assert_eq!(alone.entries, keep);

        // …but not against the head published before.
        let v = app.verify(Some(&head));
        assert!(!v.ok);
        assert_eq!(v.first_bad_seq, Some(keep + 1), "{v:?}");
        let run = cli_with_env(
            &[
                "audit",
                "verify",
                "--database-url",
                &app.db.url,
                "--expect-head",
                &expect,
            ],
            None,
            &[("BR_SIGNING_KEY", &key)],
        );
        assert_eq!(run.code, Some(1), "{run:?}");
        assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
        assert!(run.stdout.contains(&format!("#{}", keep + 1)), "{run:?}");
        assert!(run.stdout.contains("cut off"), "{run:?}");

        // A head whose hash the chain no longer has (a rewritten history) is caught as well.
        let other = ChainHead {
            seq: keep,
            hash: "ab".repeat(32),
        };
        let v = app.verify(Some(&other));
        assert_eq!(v.first_bad_seq, Some(keep), "{v:?}");
    }
}

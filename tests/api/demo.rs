//! `serve --demo`'s data set, loaded into a fresh database and read back over the API as its
//! users would: the zone, two warehouses run by different operators, bins of every area,
//! cameras, enterprises of every kind (one rated 失信), released lists, returns in every state
//! including a late one, and a login per role that works.

use std::collections::BTreeSet;

use serde_json::Value;

use bonded_returns::flows::demo;

use crate::support::*;

fn items(r: Reply) -> Vec<Value> {
    r.assert_status(200);
    r.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .clone()
}

both! {
    fn the_demo_data_has_every_kind_of_party_place_and_return_and_its_logins_work(app: &TestApp) {
        demo::load_if_empty(&app.pool, &app.writer).expect("the demo loads");
        // The test database already has its first admin ("admin", as after a plain `serve`):
        // the demo keeps it with its own password and makes the other users.
        let login = |name: &str| {
            if name == ADMIN {
                return app.admin();
            }
            let (_, _, _, password) = demo::LOGINS.iter().find(|l| l.0 == name).unwrap();
            app.login(name, password)
        };
        let admin = login("admin");
        let sup = login("supervisor");

        let enterprises = items(app.get(&admin, "/api/v1/enterprises"));
        let kinds: BTreeSet<&str> = enterprises
            .iter()
            .flat_map(|e| e["kinds"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()))
            .collect();
        assert_eq!(kinds, BTreeSet::from(["agent", "ecommerce", "logistics", "platform", "warehouse_operator"]));
        let excluded: Vec<&Value> = enterprises.iter().filter(|e| e["excluded"] == true).collect();
        assert_eq!(excluded.len(), 1, "one enterprise rated 失信: {excluded:?}");
        assert_eq!(excluded[0]["rating"]["rating"], "dishonest", "{:?}", excluded[0]);

        let warehouses = items(app.get(&admin, "/api/v1/warehouses"));
        assert_eq!(warehouses.len(), 2);
        assert_ne!(warehouses[0]["operator"], warehouses[1]["operator"], "different operators");
        assert_eq!(warehouses[0]["zone"], warehouses[1]["zone"], "one zone");
        for w in &warehouses {
            let code = w["code"].as_str().unwrap();
            let areas: BTreeSet<String> = items(app.get(&admin, &format!("/api/v1/warehouses/{code}/bins")))
                .iter()
                .map(|b| b["area"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(areas.len(), AREAS.len(), "{code} has bins of every area: {areas:?}");
            assert!(!items(app.get(&admin, &format!("/api/v1/warehouses/{code}/cameras"))).is_empty(), "{code} has cameras");
        }

        // Returns in every state, one of them late; the lists behind them released.
        let mut returns = Vec::new();
        let mut cursor = String::new();
        loop {
            let r = app.get(&sup, &format!("/api/v1/returns?limit=200{cursor}"));
            r.assert_status(200);
            returns.extend(r.json["items"].as_array().unwrap().clone());
            match r.json["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        let states: BTreeSet<&str> = returns.iter().map(|r| r["state"].as_str().unwrap()).collect();
        for s in ["declared", "received", "sorted", "inspected", "closed", "held"] {
            assert!(states.contains(s), "a return {s}: {states:?}");
        }
        assert!(returns.iter().any(|r| r["late"] == true), "a late return");
        // Times to the microsecond, as PostgreSQL keeps them: the same demo on either backend.
        for r in &returns {
            for field in ["applied_at", "received_at", "apply_deadline", "arrival_deadline"] {
                if let Some(t) = r[field].as_str() {
                    let fraction = t.split('.').nth(1).map_or(0, |f| f.trim_end_matches('Z').len());
                    assert!(fraction <= 6, "{field} {t} of {}", r["id"]);
                }
            }
        }
        let first = &returns[0];
        let list = app.get(&sup, &format!("/api/v1/declarations/{}", first["invt_no"].as_str().unwrap()));
        list.assert_status(200);
        assert!(list.json["released_at"].is_string(), "{}", list.text);
        assert!(app.count("declarations") >= 30, "a few dozen released lists");
        assert!(app.verify(None).ok, "the demo's audit chain verifies");

        // Every demo login signs in, floor staff in their own warehouse.
        for (name, role, warehouse, _) in demo::LOGINS {
            let me = app.get(&login(name), "/api/v1/me");
            me.assert_status(200);
            assert_eq!(me.json["role"], role.as_str(), "{}", me.text);
            assert_eq!(me.json["warehouse"].as_str(), warehouse, "{}", me.text);
            if let Some(w) = warehouse {
                let theirs = items(app.get(&login(name), "/api/v1/returns?limit=200"));
                assert!(!theirs.is_empty(), "{name} has work");
                assert!(theirs.iter().all(|r| r["warehouse"].is_null() || r["warehouse"] == w), "{name} sees only {w}");
            }
        }
        // Loading again on a database that is not empty changes nothing.
        let head = app.head();
        demo::load_if_empty(&app.pool, &app.writer).expect("a second load is a no-op");
        assert_eq!(app.head(), head);
    }

    fn the_demos_history_is_spread_over_the_last_weeks(app: &TestApp) {
        demo::load_if_empty(&app.pool, &app.writer).expect("the demo loads");
        let sup = app.login("supervisor", "demo-supervisor-2026");
        let stats = app.get(&sup, "/api/v1/stats");
        stats.assert_status(200);
        let days: Vec<&Value> = stats.json["arrivals_per_day"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["count"].as_i64().unwrap_or(0) > 0)
            .collect();
        assert!(days.len() >= 3, "arrivals on {} day(s): {days:?}", days.len());
        // Every return's steps are in order, and none is in the future.
        let now = chrono::Utc::now();
        for r in app.get(&sup, "/api/v1/returns?limit=100").json["items"].as_array().unwrap() {
            let v = app.get(&sup, &format!("/api/v1/returns/{}", r["id"].as_str().unwrap()));
            let mut last: Option<chrono::DateTime<chrono::Utc>> = None;
            for h in v.json["history"].as_array().unwrap() {
                let at = chrono::DateTime::parse_from_rfc3339(h["at"].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
                assert!(at <= now, "{}: a step in the future: {h}", r["id"]);
                if let Some(l) = last {
                    if h["action"] != "return.hold" {
                        assert!(at >= l, "{}: steps out of order: {}", r["id"], v.json["history"]);
                    }
                }
                last = Some(at);
            }
        }
    }
}

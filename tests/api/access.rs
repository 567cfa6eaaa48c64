//! Roles and warehouses: who may do what, and what a floor user may even see.

use serde_json::{json, Value};

use crate::support::*;

/// Every admin-only request, each valid, so that the role is the only thing wrong with it.
fn admin_requests(seed: &Seed) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        (
            "POST",
            "/api/v1/enterprises".into(),
            Some(json!({"code": "4401960009", "name": "广州报关行", "kinds": ["agent"]})),
        ),
        (
            "POST",
            format!("/api/v1/enterprises/{}/ratings", seed.ecommerce),
            Some(json!({"rating": "certified", "reference": "署信〔2026〕1号"})),
        ),
        (
            "POST",
            "/api/v1/warehouses".into(),
            Some(
                json!({"code": "WH-C", "name": "丙仓", "operator": seed.a.operator, "zone": "西永"}),
            ),
        ),
        (
            "POST",
            format!("/api/v1/warehouses/{}/bins", seed.a.warehouse),
            Some(json!({"code": "A-NEW-01", "area": "restock"})),
        ),
        (
            "POST",
            format!("/api/v1/warehouses/{}/cameras", seed.a.warehouse),
            Some(json!({"code": "CAM-A9", "name": "复核台", "area": "discrepancy"})),
        ),
        ("GET", "/api/v1/users".into(), None),
        (
            "POST",
            "/api/v1/users".into(),
            Some(
                json!({"username": "newbie", "role": "supervisor", "password": "long-enough-password"}),
            ),
        ),
    ]
}

fn call(
    app: &TestApp,
    client: &reqwest::blocking::Client,
    method: &str,
    path: &str,
    body: &Option<Value>,
) -> Reply {
    let req = match method {
        "GET" => client.get(app.url(path)),
        _ => client.post(app.url(path)),
    };
    let req = match body {
        Some(b) => req.json(b),
        None => req,
    };
    app.send(req)
}

both! {
    fn floor_staff_and_supervisors_get_403_on_every_admin_endpoint(app: &TestApp) {
        let seed = app.seed_parties();
        let floor = app.user_client("floor", Some(&seed.a.warehouse));
        let supervisor = app.user_client("supervisor", None);
        let before = app.head();
        let users_before = app.count("users");
        for (method, path, body) in admin_requests(&seed) {
            for (who, client) in [("floor", &floor), ("supervisor", &supervisor)] {
                let reply = call(app, client, method, &path, &body);
                assert_eq!(reply.status, 403, "{who} {method} {path}: {}", reply.text);
                assert_eq!(reply.code(), "forbidden", "{who} {method} {path}");
                assert!(reply.is_problem());
            }
        }
        assert_eq!(
            app.head(),
            before,
            "a refused request changed the audit log"
        );
        assert_eq!(app.count("users"), users_before);
        assert_eq!(app.count("warehouses"), 2);
        assert_eq!(app.count("credit_ratings"), 0);

        // The same requests from the admin go through: the role was the only obstacle.
        let admin = app.admin();
        for (method, path, body) in admin_requests(&seed) {
            let reply = call(app, &admin, method, &path, &body);
            assert!(
                reply.status == 200 || reply.status == 201,
                "admin {method} {path}: {}",
                reply.text
            );
        }
    }

    fn floor_staff_may_not_read_the_audit_log_but_supervisors_may(app: &TestApp) {
        let seed = app.seed_parties();
        let floor = app.user_client("floor", Some(&seed.a.warehouse));
        let supervisor = app.user_client("supervisor", None);
        for path in [
            "/api/v1/audit",
            "/api/v1/audit/verify",
            "/api/v1/audit/head",
            "/api/v1/audit/export.csv",
        ] {
            app.get(&floor, path).assert_problem(403, "forbidden");
            app.get(&supervisor, path).assert_status(200);
        }
    }

    fn a_floor_user_gets_404_for_another_warehouses_bins_and_cameras(app: &TestApp) {
        let seed = app.seed_parties();
        let floor = app.user_client("floor", Some(&seed.a.warehouse));
        let (a, b) = (&seed.a.warehouse, &seed.b.warehouse);

        let own = app.get(&floor, &format!("/api/v1/warehouses/{a}/bins"));
        own.assert_status(200);
        assert_eq!(own.json["items"].as_array().unwrap().len(), AREAS.len());
        app.get(&floor, &format!("/api/v1/warehouses/{a}/cameras"))
            .assert_status(200);
        app.get(&floor, &format!("/api/v1/warehouses/{a}"))
            .assert_status(200);

        for suffix in ["", "/bins", "/cameras", "/bins?area=restock"] {
            let other = app.get(&floor, &format!("/api/v1/warehouses/{b}{suffix}"));
            other.assert_problem(404, "not_found");
            // Indistinguishable from a warehouse that does not exist at all.
            let missing = app.get(&floor, &format!("/api/v1/warehouses/WH-ZZ{suffix}"));
            missing.assert_problem(404, "not_found");
            assert_eq!(
                other.json["detail"]
                    .as_str()
                    .unwrap()
                    .replace(b.as_str(), "?"),
                missing.json["detail"]
                    .as_str()
                    .unwrap()
                    .replace("WH-ZZ", "?"),
            );
        }
        // Lower-case spelling is no way around it.
        app.get(
            &floor,
            &format!("/api/v1/warehouses/{}/bins", b.to_lowercase()),
        )
        .assert_problem(404, "not_found");
    }

    fn a_floor_user_does_not_see_another_warehouse_in_the_list(app: &TestApp) {
        let seed = app.seed_parties();
        let floor = app.user_client("floor", Some(&seed.a.warehouse));
        let codes = |reply: &Reply| -> Vec<String> {
            reply.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["code"].as_str().unwrap().to_string())
                .collect()
        };
        let list = app.get(&floor, "/api/v1/warehouses");
        list.assert_status(200);
        assert_eq!(codes(&list), vec![seed.a.warehouse.clone()]);

        let supervisor = app.user_client("supervisor", None);
        let all = app.get(&supervisor, "/api/v1/warehouses");
        assert_eq!(
            codes(&all),
            vec![seed.a.warehouse.clone(), seed.b.warehouse.clone()]
        );
    }

    fn a_floor_user_cannot_add_bins_even_in_their_own_warehouse(app: &TestApp) {
        let seed = app.seed_parties();
        let floor = app.user_client("floor", Some(&seed.a.warehouse));
        let before = app.head();
        for wh in [&seed.a.warehouse, &seed.b.warehouse] {
            let reply = app.post_json(
                &floor,
                &format!("/api/v1/warehouses/{wh}/bins"),
                &json!({"code": "X-1", "area": "hold"}),
            );
            assert!(reply.status == 403 || reply.status == 404, "{}", reply.text);
            assert!(reply.is_problem());
        }
        assert_eq!(app.head(), before);
    }

    fn every_role_reads_enterprises_and_their_ratings(app: &TestApp) {
        let seed = app.seed_parties();
        let floor = app.user_client("floor", Some(&seed.b.warehouse));
        let list = app.get(&floor, "/api/v1/enterprises");
        list.assert_status(200);
        assert_eq!(list.json["items"].as_array().unwrap().len(), 3);
        app.get(&floor, &format!("/api/v1/enterprises/{}", seed.ecommerce))
            .assert_status(200);
        app.get(
            &floor,
            &format!("/api/v1/enterprises/{}/ratings", seed.ecommerce),
        )
        .assert_status(200);
        app.get(&floor, "/api/v1/enterprises/4401969999")
            .assert_problem(404, "not_found");
    }
}

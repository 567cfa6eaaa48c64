//! Enterprises, credit ratings and the exclusion of dishonest (失信) operators.

use chrono::{DateTime, Duration, FixedOffset, SubsecRound, Utc};
use serde_json::{json, Value};

use bonded_returns::flows::eligibility;

use crate::support::*;

/// A time `d` from now, written as a client in China would (+08:00).
fn at(d: Duration) -> String {
    let t = (Utc::now() + d)
        .trunc_subsecs(0)
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
    t.to_rfc3339()
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

fn rate(
    app: &TestApp,
    admin: &reqwest::blocking::Client,
    code: &str,
    rating: &str,
    from: Option<String>,
) -> Reply {
    let mut body = json!({"rating": rating, "reference": format!("渝关信〔2026〕{rating}号")});
    if let Some(f) = from {
        body["effective_from"] = json!(f);
    }
    app.post_json(admin, &format!("/api/v1/enterprises/{code}/ratings"), &body)
}

fn new_warehouse(
    app: &TestApp,
    admin: &reqwest::blocking::Client,
    code: &str,
    operator: &str,
) -> Reply {
    app.post_json(
        admin,
        "/api/v1/warehouses",
        &json!({"code": code, "name": "新退货中心仓", "operator": operator, "zone": "重庆西永综合保税区"}),
    )
}

both! {
    fn an_enterprise_is_created_read_back_and_not_created_twice(app: &TestApp) {
        let admin = app.admin();
        let body = json!({"code": "91500000ma5u7a1b2c", "name": "重庆某电子商务有限公司", "kinds": ["ecommerce", "platform", "ecommerce"]});
        let created = app.post_json(&admin, "/api/v1/enterprises", &body);
        created.assert_status(201);
        assert_eq!(created.json["code"], "91500000MA5U7A1B2C");
        assert_eq!(created.json["kinds"], json!(["ecommerce", "platform"]));
        assert_eq!(created.json["excluded"], false);

        let read = app.get(&admin, "/api/v1/enterprises/91500000ma5u7a1b2c");
        read.assert_status(200);
        assert_eq!(read.json["name"], "重庆某电子商务有限公司");

        let again = app.post_json(&admin, "/api/v1/enterprises", &body);
        again.assert_problem(409, "conflict");
        assert_eq!(app.count("enterprises"), 1);
    }

    fn marking_an_operator_dishonest_from_a_future_date_excludes_it_from_that_date_and_not_before(
        app: &TestApp,
    ) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let op = seed.a.operator.clone();
        let from = at(Duration::days(3));

        let rated = rate(app, &admin, &op, "dishonest", Some(from.clone()));
        rated.assert_status(201);
        assert_eq!(rated.json["saved"], true);
        assert_eq!(rated.json["label"], "失信企业");
        assert_eq!(
            rated.json["effect"]["warehouses_blocked"],
            json!([seed.a.warehouse])
        );
        let from_utc = DateTime::parse_from_rfc3339(&from)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(instant(&rated.json["effective_from"]), from_utc);

        // The history lists it…
        let history = app.get(&admin, &format!("/api/v1/enterprises/{op}/ratings"));
        history.assert_status(200);
        let items = history.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["rating"], "dishonest");
        assert_eq!(instant(&items[0]["effective_from"]), from_utc);
        assert_eq!(items[0]["reference"], "渝关信〔2026〕dishonest号");
        assert_eq!(items[0]["recorded_by"], ADMIN);

        // …but it is not in force yet: the operator is not excluded and may still open a warehouse.
        let ent = app.get(&admin, &format!("/api/v1/enterprises/{op}"));
        assert_eq!(ent.json["excluded"], false, "{}", ent.text);
        new_warehouse(app, &admin, "WH-A2", &op).assert_status(201);

        // From the effective instant on (and not a microsecond before) the operator is excluded.
        let t = from_utc.naive_utc();
        let mut conn = app.conn();
        assert!(
            eligibility::exclusion(&mut conn, &op, t - Duration::microseconds(1))
                .unwrap()
                .is_none()
        );
        assert!(eligibility::exclusion(&mut conn, &op, t).unwrap().is_some());
        assert!(
            eligibility::exclusion(&mut conn, &op, t + Duration::days(400))
                .unwrap()
                .is_some()
        );
        assert!(eligibility::ensure_warehouse_operable(
            &mut conn,
            &seed.a.warehouse,
            t - Duration::seconds(1)
        )
        .is_ok());
        let refused =
            eligibility::ensure_warehouse_operable(&mut conn, &seed.a.warehouse, t).unwrap_err();
        assert_eq!(refused.code(), "enterprise_excluded");
        // Warehouse B's operator is untouched.
        assert!(eligibility::ensure_warehouse_operable(&mut conn, &seed.b.warehouse, t).is_ok());

        // The rating change is in the audit log, before → after.
        let entries =
            app.audit_entries(&admin, &format!("&action=enterprise.rate&enterprise={op}"));
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e["actor"], ADMIN);
        assert_eq!(e["entity_id"], op.as_str());
        assert_eq!(
            e["changes"]["rating"],
            json!({"before": null, "after": "dishonest"})
        );
        assert!(e["changes"]["effective_from"]["after"].is_string());
    }

    fn a_dishonest_rating_in_force_refuses_a_new_warehouse_with_enterprise_excluded(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let op = seed.b.operator.clone();
        rate(app, &admin, &op, "regular", Some(at(-Duration::days(30)))).assert_status(201);
        rate(app, &admin, &op, "dishonest", Some(at(-Duration::hours(1)))).assert_status(201);

        let ent = app.get(&admin, &format!("/api/v1/enterprises/{op}"));
        assert_eq!(ent.json["excluded"], true);
        assert_eq!(ent.json["rating"]["rating"], "dishonest");

        let before = app.head();
        let refused = new_warehouse(app, &admin, "WH-B2", &op);
        refused.assert_problem(403, "enterprise_excluded");
        let detail = refused.json["detail"].as_str().unwrap();
        assert!(
            detail.contains(&op) && detail.contains("渝关信〔2026〕dishonest号"),
            "the refusal says why: {detail}"
        );
        // Nothing changed but the audit log, which records the refusal for customs.
        assert_eq!(app.head().seq, before.seq + 1);
        assert_eq!(app.count("warehouses"), 2);
        let refusals = app.audit_entries(&admin, "&action=refused.enterprise_excluded");
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0]["entity_id"], "POST /api/v1/warehouses");
        assert!(refusals[0]["reason"].as_str().unwrap().contains(&op));

        let entries = app.audit_entries(&admin, &format!("&action=enterprise.rate&entity={op}"));
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0]["changes"]["rating"],
            json!({"before": "regular", "after": "dishonest"})
        );

        // Other operators are not affected.
        new_warehouse(app, &admin, "WH-A2", &seed.a.operator).assert_status(201);
    }

    fn a_dry_run_saves_nothing_and_reports_the_warehouses_it_would_block(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let op = seed.a.operator.clone();
        let before = app.head();
        let dry = app.post_json(
            &admin,
            &format!("/api/v1/enterprises/{op}/ratings?dry_run=true"),
            &json!({"rating": "dishonest", "reference": "渝关信〔2026〕9号"}),
        );
        dry.assert_status(200);
        assert_eq!(dry.json["saved"], false);
        assert_eq!(
            dry.json["effect"]["warehouses_blocked"],
            json!([seed.a.warehouse])
        );
        assert_eq!(app.head(), before);
        assert_eq!(app.count("credit_ratings"), 0);
        let ent = app.get(&admin, &format!("/api/v1/enterprises/{op}"));
        assert_eq!(ent.json["excluded"], false);
        let history = app.get(&admin, &format!("/api/v1/enterprises/{op}/ratings"));
        assert_eq!(history.json["items"], json!([]));
        new_warehouse(app, &admin, "WH-A2", &op).assert_status(201);
        // A dry run of a rating that does not exclude blocks nothing.
        let dry = app.post_json(
            &admin,
            &format!("/api/v1/enterprises/{op}/ratings?dry_run=true"),
            &json!({"rating": "certified", "reference": "渝关信〔2026〕10号"}),
        );
        dry.assert_status(200);
        assert_eq!(dry.json["effect"]["warehouses_blocked"], json!([]));
    }

    fn seriously_dishonest_also_excludes_and_a_later_regular_rating_lifts_it(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let op = seed.a.operator.clone();
        let rated = rate(
            app,
            &admin,
            &op,
            "seriously_dishonest",
            Some(at(-Duration::days(2))),
        );
        rated.assert_status(201);
        assert_eq!(rated.json["label"], "严重失信企业");
        assert_eq!(
            app.get(&admin, &format!("/api/v1/enterprises/{op}")).json["excluded"],
            true
        );
        new_warehouse(app, &admin, "WH-A2", &op).assert_problem(403, "enterprise_excluded");

        // No effective_from: in force from now.
        rate(app, &admin, &op, "regular", None).assert_status(201);
        let ent = app.get(&admin, &format!("/api/v1/enterprises/{op}"));
        assert_eq!(ent.json["excluded"], false);
        assert_eq!(ent.json["rating"]["rating"], "regular");
        new_warehouse(app, &admin, "WH-A2", &op).assert_status(201);

        let history = app.get(&admin, &format!("/api/v1/enterprises/{op}/ratings"));
        let ratings: Vec<&str> = history.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rating"].as_str().unwrap())
            .collect();
        assert_eq!(ratings, ["seriously_dishonest", "regular"]);
        let entries = app.audit_entries(&admin, &format!("&action=enterprise.rate&entity={op}"));
        assert_eq!(
            entries[0]["changes"]["rating"],
            json!({"before": "seriously_dishonest", "after": "regular"})
        );
    }

    fn all_five_ratings_are_accepted_and_only_the_two_dishonest_ones_exclude(app: &TestApp) {
        let admin = app.admin();
        for (i, rating) in [
            "advanced_certified",
            "certified",
            "regular",
            "dishonest",
            "seriously_dishonest",
        ]
        .iter()
        .enumerate()
        {
            let code = format!("440196000{i}");
            app.post_json(
                &admin,
                "/api/v1/enterprises",
                &json!({"code": code, "name": "某企业", "kinds": ["agent"]}),
            )
            .assert_status(201);
            rate(app, &admin, &code, rating, Some(at(-Duration::minutes(1)))).assert_status(201);
            let ent = app.get(&admin, &format!("/api/v1/enterprises/{code}"));
            assert_eq!(ent.json["rating"]["rating"], *rating);
            assert_eq!(
                ent.json["excluded"],
                rating.contains("dishonest"),
                "{rating}"
            );
        }
    }

    fn a_rating_for_an_unknown_enterprise_is_404_and_a_bad_one_is_400(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let before = app.head();
        rate(app, &admin, "4401969999", "dishonest", None).assert_problem(404, "not_found");
        rate(app, &admin, &seed.a.operator, "awful", None).assert_problem(400, "validation");
        let reply = app.post_json(
            &admin,
            &format!("/api/v1/enterprises/{}/ratings", seed.a.operator),
            &json!({"rating": "dishonest", "reference": "x", "effective_from": "next tuesday"}),
        );
        reply.assert_problem(400, "validation");
        assert_eq!(reply.json["errors"][0]["field"], "effective_from");
        let reply = app.post_json(
            &admin,
            &format!("/api/v1/enterprises/{}/ratings", seed.a.operator),
            &json!({"rating": "dishonest", "reference": "   "}),
        );
        reply.assert_problem(400, "validation");
        assert_eq!(reply.json["errors"][0]["field"], "reference");
        assert_eq!(app.head(), before);
    }

    fn a_warehouse_needs_an_existing_warehouse_operator(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let reply = new_warehouse(app, &admin, "WH-X", &seed.ecommerce);
        reply.assert_problem(400, "validation");
        assert_eq!(reply.json["errors"][0]["field"], "operator");
        new_warehouse(app, &admin, "WH-X", "4401969999").assert_problem(400, "validation");
        new_warehouse(app, &admin, &seed.a.warehouse, &seed.a.operator)
            .assert_problem(409, "conflict");
        let created = new_warehouse(app, &admin, "wh-x", &seed.a.operator);
        created.assert_status(201);
        assert_eq!(created.json["code"], "WH-X");
        let bin = app.post_json(
            &admin,
            "/api/v1/warehouses/WH-X/bins",
            &json!({"code": "x-rst-01", "area": "restock"}),
        );
        bin.assert_status(201);
        assert_eq!(bin.json["code"], "X-RST-01");
        app.post_json(
            &admin,
            "/api/v1/warehouses/WH-X/bins",
            &json!({"code": "X-RST-01", "area": "restock"}),
        )
        .assert_problem(409, "conflict");
        app.post_json(
            &admin,
            "/api/v1/warehouses/WH-NOPE/bins",
            &json!({"code": "X-1", "area": "restock"}),
        )
        .assert_problem(404, "not_found");
        let bins = app.get(&admin, "/api/v1/warehouses/WH-X/bins?area=restock");
        assert_eq!(bins.json["items"].as_array().unwrap().len(), 1);
    }

    fn refusals_of_admin_input_name_the_rule_and_what_exists_for_the_screens_to_say(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let wh = &seed.a.warehouse;
        // An id in use: a conflict that says what exists.
        let dup = app.post_json(&admin, "/api/v1/enterprises", &json!({"code": seed.a.operator, "name": "重复", "kinds": ["agent"]}));
        dup.assert_problem(409, "conflict");
        assert_eq!(dup.json["exists"], json!({"kind": "enterprise", "id": seed.a.operator}));
        let bin = seed.a.bin("restock").to_string();
        let dup = app.post_json(&admin, &format!("/api/v1/warehouses/{wh}/bins"), &json!({"code": bin, "area": "restock"}));
        dup.assert_problem(409, "conflict");
        assert_eq!(dup.json["exists"], json!({"kind": "bin", "id": format!("{wh}/{bin}")}));
        // Each broken rule is named, with its limit or the values allowed.
        let bad = app.post_json(&admin, &format!("/api/v1/warehouses/{wh}/bins"), &json!({"code": "坏 码", "area": "restock"}));
        bad.assert_problem(400, "validation");
        let e = &bad.json["errors"][0];
        assert_eq!((e["field"].as_str(), e["rule"].as_str(), e["max"].as_u64()), (Some("code"), Some("code"), Some(30)));
        let bad = app.post_json(&admin, &format!("/api/v1/warehouses/{wh}/bins"), &json!({"code": "A-NEW-1", "area": "attic"}));
        bad.assert_problem(400, "validation");
        let e = &bad.json["errors"][0];
        assert_eq!((e["field"].as_str(), e["rule"].as_str()), (Some("area"), Some("one_of")));
        assert_eq!(e["allowed"], json!(["receiving", "pending_inspection", "discrepancy", "hold", "restock", "exit"]));
        let bad = app.post_json(&admin, "/api/v1/enterprises", &json!({"code": "X", "name": "名".repeat(101), "kinds": []}));
        bad.assert_problem(400, "validation");
        let errors = bad.json["errors"].as_array().unwrap();
        let rule = |f: &str| errors.iter().find(|e| e["field"] == f).map(|e| e["rule"].clone());
        assert_eq!(rule("code"), Some(json!("enterprise_code")));
        assert_eq!(rule("name"), Some(json!("too_long")));
        assert_eq!(rule("kinds"), Some(json!("required")));
        // The English sentence is still there for scripts.
        assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    }
}

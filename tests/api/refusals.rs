//! Every refusal of the return flow answers its status and machine `code`, and leaves the
//! audit log, the returns and the stock exactly as they were — except the one refusal that
//! is documented to commit something: a party found excluded while the parcel is in the
//! warehouse puts the return on customs hold.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::*;

/// Runs `request`, asserts the problem, and that nothing visible changed.
#[track_caller]
fn refused(
    k: &Kit,
    ids: &[&str],
    status: u16,
    code: &str,
    request: impl FnOnce() -> Reply,
) -> Reply {
    let before = k.snapshot(ids);
    let r = request();
    r.assert_problem(status, code);
    k.assert_unchanged(&before, ids);
    r
}

/// Like [`refused`] for a 403 `enterprise_excluded`: nothing changes, and the attempt on
/// `path` is recorded in the audit log (customs see refused attempts by excluded parties).
#[track_caller]
fn excluded(k: &Kit, ids: &[&str], path: &str, request: impl FnOnce() -> Reply) -> Reply {
    let before = k.snapshot(ids);
    let r = request();
    r.assert_problem(403, "enterprise_excluded");
    k.assert_only_refusal_recorded(&before, ids, &format!("POST {path}"));
    // The problem names the party (for a screen to say in its reader's language), and the
    // refusal is filed under it in the audit log.
    let x = &r.json["excluded"];
    let code = x["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no excluded party: {}", r.text));
    assert!(
        ["ecommerce", "agent", "operator"].contains(&x["party"].as_str().unwrap()),
        "{x}"
    );
    assert!(
        ["dishonest", "seriously_dishonest"].contains(&x["rating"].as_str().unwrap()),
        "{x}"
    );
    assert!(!x["reference"].as_str().unwrap().is_empty(), "{x}");
    assert!(
        chrono::NaiveDate::parse_from_str(x["since"].as_str().unwrap(), "%Y-%m-%d").is_ok(),
        "{x}"
    );
    assert_eq!(x["held"], false, "{x}");
    let refusal = k.all_entries().pop().unwrap();
    assert_eq!(refusal.enterprise.as_deref(), Some(code));
    r
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/customs/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture")
}

/// Waits until `t` is in the past.
fn wait_until(t: chrono::DateTime<Utc>) {
    while Utc::now() <= t + Duration::milliseconds(200) {
        std::thread::sleep(StdDuration::from_millis(100));
    }
}

both! {
    fn an_application_for_an_unknown_list_is_404_not_found(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.list(); // never recorded
        let r = refused(&k, &[], 404, "not_found", || k.apply(&l, &[(1, 1)]));
        assert!(r.json["detail"].as_str().unwrap().contains(&l.invt_no), "{}", r.text);
    }

    fn an_application_for_a_list_customs_has_not_released_is_409_invalid_state(app: &TestApp) {
        let k = Kit::new(app);
        k.import(&k.admin, read_fixture("ceb621_sample.xml")).assert_status(200);
        let list = |invt: &str, waybill: &str| List { invt_no: invt.into(), waybill: waybill.into(), ..k.list() };
        let r = refused(&k, &[], 409, "invalid_state", || k.apply(&list("80142026I000000101", "SF102345678901"), &[(1, 1)]));
        assert!(r.json["detail"].as_str().unwrap().contains("not been released"), "{}", r.text);
        // A receipt that is not a release (status 120, stored by customs) does not release it.
        let receipt = k.import(&k.admin, read_fixture("ceb622_sample.xml"));
        receipt.assert_status(200);
        let d = app.get(&k.sup, "/api/v1/declarations/80142026I000000102");
        assert_eq!((d.json["return_status"].clone(), d.json["released_at"].clone()), (json!(120), Value::Null));
        refused(&k, &[], 409, "invalid_state", || k.apply(&list("80142026I000000102", "SF102345678902"), &[(1, 1)]));
    }

    fn an_application_naming_a_line_that_is_not_on_the_list_or_the_wrong_waybill_is_400_validation(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        let r = refused(&k, &[], 400, "validation", || k.apply(&l, &[(1, 1), (3, 1)]));
        assert_eq!(r.json["errors"][0]["field"], "lines[1].gnum", "{}", r.text);
        assert!(r.json["errors"][0]["message"].as_str().unwrap().contains("not on list"));
        refused(&k, &[], 400, "validation", || k.apply(&l, &[(1, 1), (1, 1)]));
        refused(&k, &[], 400, "validation", || k.apply(&l, &[(1, 0)]));
        refused(&k, &[], 400, "validation", || k.apply(&l, &[]));
        let other = List { waybill: "SF999999999999".into(), ..l.clone() };
        let r = refused(&k, &[], 400, "validation", || k.apply(&other, &[(1, 1)]));
        assert_eq!(r.json["errors"][0]["field"], "logistics_no");
    }

    fn a_quantity_above_what_was_released_minus_earlier_returns_is_422_quantity_exceeds(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        refused(&k, &[], 422, "quantity_exceeds", || k.apply(&l, &[(1, 4)]));
        let first = k.new_return(&l, &[(1, 2), (2, 2)]);
        // Line 1 has one unit left, line 2 none.
        let r = refused(&k, &[&first], 422, "quantity_exceeds", || k.apply(&l, &[(1, 2)]));
        assert!(r.json["detail"].as_str().unwrap().contains("1 left"), "{}", r.text);
        refused(&k, &[&first], 422, "quantity_exceeds", || k.apply(&l, &[(2, 1)]));
        let second = k.new_return(&l, &[(1, 1)]);
        refused(&k, &[&first, &second], 422, "quantity_exceeds", || k.apply(&l, &[(1, 1)]));
    }

    fn an_application_more_than_30_days_after_the_release_is_422_deadline_passed(app: &TestApp) {
        let k = Kit::new(app);
        let mut late = k.list();
        late.released_at = ago(30) - Duration::seconds(30);
        k.declare(&late);
        let r = refused(&k, &[], 422, "deadline_passed", || k.apply(&late, &[(1, 1)]));
        assert!(r.json["detail"].as_str().unwrap().contains("30 days"), "{}", r.text);
        // The same through CEB625: its appTime counts.
        let xml = ceb625(&[late.invt_refund(&[(1, 1)], late.released_at + Duration::days(30) + Duration::seconds(1))]);
        let before = k.snapshot(&[]);
        let report = k.import(&k.admin, xml);
        report.assert_status(200);
        assert_eq!(report.json["rejected"], 1, "{}", report.text);
        assert!(report.json["items"][0]["reason"].as_str().unwrap().starts_with("deadline_passed"), "{}", report.text);
        k.assert_unchanged(&before, &[]);

        let mut in_time = k.list();
        in_time.released_at = ago(29);
        k.declare(&in_time);
        k.apply(&in_time, &[(1, 1)]).assert_status(201);
    }

    fn an_application_whose_ecommerce_enterprise_or_agent_is_rated_dishonest_is_403_enterprise_excluded(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        k.rate(&l.ebc, "dishonest", None).assert_status(201);
        let r = excluded(&k, &[], "/api/v1/returns", || k.apply(&l, &[(1, 1)]));
        assert!(r.json["detail"].as_str().unwrap().contains(&l.ebc), "{}", r.text);
        assert_eq!((r.json["excluded"]["party"].as_str(), r.json["excluded"]["code"].as_str()), (Some("ecommerce"), Some(l.ebc.as_str())));
        k.rate(&l.ebc, "regular", None).assert_status(201);
        k.apply(&l, &[(1, 1)]).assert_status(201);

        // The agent: not excluded before its rating takes effect, excluded from then on.
        let agent = "5001960AG9";
        k.enterprise(agent, &["agent"]);
        let mut l2 = k.list();
        l2.agent = agent.into();
        k.declare(&l2);
        k.rate(agent, "seriously_dishonest", Some(now() + Duration::days(1))).assert_status(201);
        k.apply(&l2, &[(1, 1)]).assert_status(201);
        let since = ago(1);
        k.rate(agent, "seriously_dishonest", Some(since)).assert_status(201);
        let r = excluded(&k, &[], "/api/v1/returns", || k.apply(&l2, &[(1, 1)]));
        assert!(r.json["detail"].as_str().unwrap().contains("declaring agent"), "{}", r.text);
        let x = &r.json["excluded"];
        assert_eq!((x["party"].as_str(), x["code"].as_str(), x["rating"].as_str()), (Some("agent"), Some(agent), Some("seriously_dishonest")));
        assert_eq!(x["since"].as_str(), Some(since.format("%Y-%m-%d").to_string().as_str()), "{x}");
    }

    fn when_the_warehouse_operator_is_rated_dishonest_every_step_in_that_warehouse_is_403(app: &TestApp) {
        let k = Kit::new(app);
        let (_, declared) = k.return_in("declared");
        let (_, received) = k.return_in("received");
        let (_, sorted) = k.return_in("sorted");
        let (_, inspected) = k.return_in("inspected");
        let (_, spare) = k.return_in("declared");
        let ids = [declared.as_str(), received.as_str(), sorted.as_str(), inspected.as_str()];

        // Not before its effective date.
        k.rate(&k.seed.a.operator, "dishonest", Some(now() + Duration::days(1))).assert_status(201);
        k.receive(&spare).assert_status(200);

        let rated = k.rate(&k.seed.a.operator, "dishonest", None);
        rated.assert_status(201);
        assert_eq!(rated.json["effect"]["warehouses_blocked"], json!(["WH-A"]), "{}", rated.text);
        let steps: Vec<(String, Box<dyn Fn() -> Reply>)> = vec![
            (format!("{declared}/receive"), Box::new(|| k.receive(&declared))),
            (format!("{received}/sort"), Box::new(|| k.sort(&received, &[(1, 3), (2, 2)], "pending_inspection"))),
            (format!("{sorted}/inspect"), Box::new(|| k.inspect(&sorted, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]))),
            (format!("{inspected}/restock"), Box::new(|| k.restock(&inspected, 1, 1))),
            (format!("{inspected}/dispose"), Box::new(|| k.dispose(&inspected, 1, 1, "exit"))),
        ];
        for (step, request) in steps {
            let r = excluded(&k, &ids, &format!("/api/v1/returns/{step}"), request);
            assert!(r.json["detail"].as_str().unwrap().contains("WH-A"), "{step}: {}", r.text);
        }
        // Its staff cannot take applications either.
        let next = k.released();
        let r = excluded(&k, &ids, "/api/v1/returns", || k.apply(&next, &[(1, 1)]));
        assert!(r.json["detail"].as_str().unwrap().contains("WH-A"), "{}", r.text);
        // Nothing was put on hold: the goods' owners are not to blame.
        for id in ids {
            assert_ne!(k.state(id), "held");
        }
        // Warehouse B, run by another operator, goes on.
        let mut for_b = k.list();
        for_b.area = k.seed.b.operator.clone();
        k.declare(&for_b);
        let applied = k.apply_as(&k.floor_b, &for_b, &[(1, 1)]);
        applied.assert_status(201);
        let b = applied.json["id"].as_str().unwrap().to_string();
        k.step(&k.floor_b, &b, "receive", &json!({"warehouse": "WH-B", "camera": "CAM-B1"})).assert_status(200);
        // Once rated regular again, A works again.
        k.rate(&k.seed.a.operator, "regular", None).assert_status(201);
        k.receive(&declared).assert_status(200);
    }

    fn a_rating_in_force_when_recorded_puts_the_parties_returns_in_the_warehouse_on_hold_at_once(app: &TestApp) {
        let k = Kit::new(app);
        let (_, received) = k.return_in("received");
        let (_, declared) = k.return_in("declared");
        let r = k.rate(&k.seed.ecommerce, "dishonest", None);
        r.assert_status(201);
        assert_eq!(r.json["effect"]["returns_put_on_hold"], 1, "{}", r.text);
        let v = k.view(&received);
        assert_eq!((v["state"].as_str(), v["held_from"].as_str()), (Some("held"), Some("received")));
        assert_eq!(k.state(&declared), "declared", "a return not yet in the warehouse is not held");
        refused(&k, &[&received], 409, "invalid_state", || k.sort(&received, &[(1, 3), (2, 2)], "pending_inspection"));
        // Not yet arrived: refused at the door, but not held.
        excluded(&k, &[&declared], &format!("/api/v1/returns/{declared}/receive"), || k.receive(&declared));
    }

    fn a_party_whose_exclusion_takes_effect_while_the_parcel_is_in_the_warehouse_gets_it_held_at_the_next_step(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        let effective = now() + Duration::seconds(3);
        let r = k.rate(&k.seed.ecommerce, "dishonest", Some(effective));
        r.assert_status(201);
        assert_eq!(r.json["effect"]["returns_put_on_hold"], 0, "not in force yet: {}", r.text);
        assert_eq!(k.state(&id), "received");
        wait_until(effective);

        let head = app.head();
        let held = k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection");
        held.assert_problem(403, "enterprise_excluded");
        assert!(held.json["detail"].as_str().unwrap().contains("customs hold"), "{}", held.text);
        assert_eq!(held.json["excluded"]["held"], true, "{}", held.text);
        assert_eq!(held.json["excluded"]["code"].as_str(), Some(k.seed.ecommerce.as_str()));
        // The hold is committed, and nothing else: the parcel was not sorted.
        let v = k.view(&id);
        assert_eq!(v["state"], "held");
        assert_eq!(v["held_from"], "received");
        assert_eq!(v["lines"][0]["sorted"], 0);
        assert_eq!(app.head().seq, head.seq + 1);
        let hold = k.entries_of(&id).pop().unwrap();
        assert_eq!(hold.action, "return.hold");
        assert_eq!(hold.actor, "system:eligibility");
        assert!(hold.reason.as_deref().unwrap_or("").contains(&k.seed.ecommerce));
        assert_eq!(k.state_changes(&id).last().unwrap(), &change("return.hold", "received", "held"));

        // A supervisor cannot release it while the exclusion is in force…
        let r = excluded(&k, &[&id], &format!("/api/v1/returns/{id}/release"), || k.release(&id));
        assert!(r.json["detail"].as_str().unwrap().contains(&k.seed.ecommerce));
        // …and can once it is lifted; the flow then goes on from where it stopped.
        k.rate(&k.seed.ecommerce, "regular", None).assert_status(201);
        let r = k.release(&id);
        r.assert_status(200);
        assert_eq!(r.json["state"], "received");
        k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        assert!(app.verify(None).ok);
    }

    fn a_disposal_cannot_be_approved_while_the_warehouse_operator_is_excluded(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("sorted");
        k.inspect(&id, &[(1, 0, 0, 3, 0, 0), (2, 0, 0, 0, 2, 0)]).assert_status(200);
        k.dispose(&id, 1, 3, "destroy").assert_status(200);
        let d = app.get(&k.sup, "/api/v1/disposals").json["items"][0]["id"].as_i64().unwrap();
        k.rate(&k.seed.a.operator, "dishonest", None).assert_status(201);
        let path = format!("/api/v1/disposals/{d}/approve");
        let r = excluded(&k, &[&id], &path, || app.post_json(&k.sup, &path, &json!({"reason": "监督销毁"})));
        let x = &r.json["excluded"];
        assert_eq!((x["party"].as_str(), x["code"].as_str()), (Some("operator"), Some(k.seed.a.operator.as_str())), "{x}");
        assert!(x["warehouse"].as_str().is_some_and(|w| !w.is_empty()), "the warehouse that cannot operate: {x}");
        let reject = format!("/api/v1/disposals/{d}/reject");
        excluded(&k, &[&id], &reject, || app.post_json(&k.sup, &reject, &json!({"reason": "x"})));
        k.rate(&k.seed.a.operator, "regular", None).assert_status(201);
        app.post_json(&k.sup, &path, &json!({"reason": "监督销毁"})).assert_status(200);
    }

    fn approving_a_disposal_of_a_party_excluded_since_puts_the_return_on_hold_instead(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("sorted");
        k.inspect(&id, &[(1, 0, 0, 3, 0, 0), (2, 0, 0, 0, 2, 0)]).assert_status(200);
        k.dispose(&id, 1, 3, "reexport").assert_status(200);
        let d = app.get(&k.sup, "/api/v1/disposals").json["items"][0]["id"].as_i64().unwrap();
        let effective = now() + Duration::seconds(2);
        k.rate(&k.seed.ecommerce, "dishonest", Some(effective)).assert_status(201);
        wait_until(effective);
        let head = app.head();
        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{d}/approve"), &json!({"reason": "退运"}));
        r.assert_problem(403, "enterprise_excluded");
        let v = k.view(&id);
        assert_eq!((v["state"].as_str(), v["held_from"].as_str()), (Some("held"), Some("inspected")));
        assert_eq!(v["disposals"][0]["status"], "pending_approval", "not approved");
        assert_eq!(v["lines"][0]["disposed"]["reexport"], 0);
        assert_eq!(app.head().seq, head.seq + 1, "only the hold");
    }

    fn restocking_into_a_bin_outside_the_restock_area_or_outside_the_warehouse_is_400(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("inspected");
        for area in ["receiving", "pending_inspection", "discrepancy", "hold", "exit"] {
            let r = refused(&k, &[&id], 400, "validation", || k.restock_into(&id, 1, 1, k.seed.a.bin(area)));
            assert_eq!(r.json["errors"][0]["field"], "bin", "{}", r.text);
        }
        refused(&k, &[&id], 400, "validation", || k.restock_into(&id, 1, 1, k.seed.b.bin("restock")));
        refused(&k, &[&id], 400, "validation", || k.restock_into(&id, 1, 1, "NO-SUCH-BIN"));
        refused(&k, &[&id], 400, "validation", || k.restock_into(&id, 9, 1, k.seed.a.bin("restock")));
        refused(&k, &[&id], 400, "validation", || k.dispose(&id, 1, 1, "sell"));
        refused(&k, &[&id], 400, "validation", || k.restock(&id, 1, 0));
    }

    fn inspection_counts_that_do_not_add_up_to_what_was_sorted_are_400(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("sorted");
        let r = refused(&k, &[&id], 400, "validation", || k.inspect(&id, &[(1, 2, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]));
        assert!(r.json["errors"][0]["message"].as_str().unwrap().contains("add up to 2"), "{}", r.text);
        refused(&k, &[&id], 400, "validation", || k.inspect(&id, &[(1, 4, -1, 0, 0, 0), (2, 2, 0, 0, 0, 0)]));
        refused(&k, &[&id], 400, "validation", || k.inspect(&id, &[(1, 3, 0, 0, 0, 0)]));
        refused(&k, &[&id], 400, "validation", || k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0), (5, 1, 0, 0, 0, 0)]));
    }

    fn restocking_more_than_the_intact_units_or_disposing_more_than_is_left_is_422(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("sorted");
        k.inspect(&id, &[(1, 2, 1, 0, 0, 0), (2, 0, 0, 2, 0, 0)]).assert_status(200);
        let r = refused(&k, &[&id], 422, "quantity_exceeds", || k.restock(&id, 1, 3));
        assert!(r.json["detail"].as_str().unwrap().contains("only 2"), "{}", r.text);
        refused(&k, &[&id], 422, "quantity_exceeds", || k.restock(&id, 2, 1));
        k.restock(&id, 1, 2).assert_status(200);
        refused(&k, &[&id], 422, "quantity_exceeds", || k.restock(&id, 1, 1));
        refused(&k, &[&id], 422, "quantity_exceeds", || k.dispose(&id, 1, 2, "exit"));
        refused(&k, &[&id], 422, "quantity_exceeds", || k.dispose(&id, 2, 3, "destroy"));
    }

    fn floor_staff_of_another_warehouse_get_404_for_every_step_and_read(app: &TestApp) {
        let k = Kit::new(app);
        let (_, declared) = k.return_in("declared");
        let (_, inspected) = k.return_in("inspected");
        let ids = [declared.as_str(), inspected.as_str()];
        let b = &k.floor_b;
        let wh_b = json!({"warehouse": "WH-B", "camera": "CAM-B1"});
        refused(&k, &ids, 404, "not_found", || k.step(b, &declared, "receive", &wh_b));
        refused(&k, &ids, 404, "not_found", || app.get(b, &format!("/api/v1/returns/{declared}")));
        for (step, body) in [
            ("sort", json!({"items": [{"gnum": 1, "qty": 3}], "bin": "B-PENDING_INSPECTION-01"})),
            ("inspect", json!({"lines": [{"gnum": 1, "intact": 3}]})),
            ("restock", json!({"gnum": 1, "qty": 1, "bin": "B-RESTOCK-01"})),
            ("dispose", json!({"gnum": 1, "qty": 1, "route": "exit", "reference": "x"})),
        ] {
            refused(&k, &ids, 404, "not_found", || k.step(b, &inspected, step, &body));
        }
        refused(&k, &ids, 404, "not_found", || app.get(b, &format!("/api/v1/returns/{inspected}")));
        let listed = app.get(b, "/api/v1/returns");
        listed.assert_status(200);
        assert_eq!(listed.json["items"], json!([]), "{}", listed.text);
        // Nor may they receive a parcel into warehouse A by naming it.
        refused(&k, &ids, 403, "forbidden", || k.step(b, &declared, "receive", &json!({"warehouse": "WH-A", "camera": "CAM-A1"})));
    }

    fn a_request_outside_ones_role_is_403_forbidden(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("received");
        let ids = [id.as_str()];
        let wh_a = json!({"warehouse": "WH-A", "camera": "CAM-A1"});
        refused(&k, &ids, 403, "forbidden", || k.step(&k.sup, &id, "sort", &json!({"items": [{"gnum": 1, "qty": 3}], "bin": k.seed.a.bin("pending_inspection")})));
        refused(&k, &ids, 403, "forbidden", || k.step(&k.admin, &id, "receive", &wh_a));
        refused(&k, &ids, 403, "forbidden", || k.step(&k.floor_a, &id, "hold", &json!({"reason": "x"})));
        refused(&k, &ids, 403, "forbidden", || k.step(&k.floor_a, &id, "release", &json!({"reason": "x"})));
        refused(&k, &ids, 403, "forbidden", || k.step(&k.admin, &id, "hold", &json!({"reason": "x"})));
        refused(&k, &ids, 403, "forbidden", || app.post_json(&k.floor_a, "/api/v1/declarations", &k.list().json()));
        refused(&k, &ids, 403, "forbidden", || k.import(&k.floor_a, read_fixture("ceb621_sample.xml")));
        refused(&k, &ids, 403, "forbidden", || app.get(&k.floor_a, "/api/v1/disposals"));
        refused(&k, &ids, 403, "forbidden", || app.post_json(&k.floor_a, "/api/v1/disposals/1/approve", &json!({"reason": "x"})));
        refused(&k, &ids, 403, "forbidden", || app.post_json(&k.admin, "/api/v1/disposals/1/approve", &json!({"reason": "x"})));
        refused(&k, &ids, 403, "forbidden", || app.get(&k.floor_a, &format!("/api/v1/returns/{id}/ceb625.xml")));
        refused(&k, &ids, 401, "unauthenticated", || app.post_json(&app.client(), "/api/v1/returns", &json!({"invt_no": l.invt_no, "logistics_no": l.waybill, "reason": "x", "lines": [{"gnum": 1, "qty": 1}]})));
    }

    fn steps_out_of_order_are_409_invalid_state(app: &TestApp) {
        let k = Kit::new(app);
        let (_, declared) = k.return_in("declared");
        let (_, received) = k.return_in("received");
        let (_, sorted) = k.return_in("sorted");
        let (_, inspected) = k.return_in("inspected");
        let ids = [declared.as_str(), received.as_str(), sorted.as_str(), inspected.as_str()];
        let all = [(1, 3), (2, 2)];
        let intact = [(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)];
        let r = refused(&k, &ids, 409, "invalid_state", || k.sort(&declared, &all, "pending_inspection"));
        assert!(r.json["detail"].as_str().unwrap().contains("receive"), "names the next step: {}", r.text);
        refused(&k, &ids, 409, "invalid_state", || k.inspect(&declared, &intact));
        refused(&k, &ids, 409, "invalid_state", || k.restock(&declared, 1, 1));
        refused(&k, &ids, 409, "invalid_state", || k.receive(&received));
        refused(&k, &ids, 409, "invalid_state", || k.inspect(&received, &intact));
        refused(&k, &ids, 409, "invalid_state", || k.dispose(&received, 1, 1, "exit"));
        refused(&k, &ids, 409, "invalid_state", || k.sort(&sorted, &all, "pending_inspection"));
        refused(&k, &ids, 409, "invalid_state", || k.restock(&sorted, 1, 1));
        refused(&k, &ids, 409, "invalid_state", || k.receive(&inspected));
        refused(&k, &ids, 409, "invalid_state", || k.inspect(&inspected, &intact));
        k.restock(&inspected, 1, 3).assert_status(200);
        k.restock(&inspected, 2, 2).assert_status(200);
        assert_eq!(k.state(&inspected), "closed");
        refused(&k, &ids, 409, "invalid_state", || k.dispose(&inspected, 1, 1, "exit"));
        refused(&k, &ids, 409, "invalid_state", || k.receive(&inspected));
    }
}

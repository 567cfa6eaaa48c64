//! Whole returns through every route: restock, exit, re-export and destruction with a
//! supervisor's approval, customs hold and release from every open state, a late parcel, and
//! a parcel with discrepancies — states, stock, deadlines and audit entries as people see them.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use bonded_returns::error::AppError;

use crate::flowkit::*;
use crate::support::*;

fn id_of(r: &Reply) -> String {
    r.json["id"].as_str().expect("an id").to_string()
}

fn actions(k: &Kit, id: &str) -> Vec<String> {
    k.entries_of(id).iter().map(|e| e.action.clone()).collect()
}

fn changes_of(k: &Kit, id: &str, action: &str) -> Vec<Value> {
    k.entries_of(id)
        .iter()
        .filter(|e| e.action == action)
        .map(|e| serde_json::from_str(&e.changes).expect("changes are JSON"))
        .collect()
}

both! {
    fn a_return_restocked_in_full_raises_bonded_stock_for_owner_gcode_and_bin_and_closes(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        let ebc = l.ebc.clone();
        let restock_bin = k.seed.a.bin("restock").to_string();

        let applied = k.apply(&l, &[(1, 3), (2, 2)]);
        applied.assert_status(201);
        let id = id_of(&applied);
        assert!(id.starts_with("RT") && id.len() == 16 && id[2..].chars().all(|c| c.is_ascii_digit()), "{id}");
        assert_eq!(applied.json["state"], "declared");
        assert_eq!(time(&applied.json["released_at"]), l.released_at);
        assert_eq!(time(&applied.json["apply_deadline"]), l.released_at + Duration::days(30));
        assert_eq!(time(&applied.json["arrival_deadline"]), l.released_at + Duration::days(45));
        assert_eq!(applied.json["days_left"], 43);
        assert_eq!(applied.json["next_actions"], json!(["receive"]));

        let before_receive = Utc::now() - Duration::seconds(5);
        let r = k.receive(&id);
        r.assert_status(200);
        assert_eq!(r.json["state"], "received");
        assert_eq!(r.json["late"], false);
        assert_eq!(r.json["warehouse"], "WH-A");
        assert_eq!(r.json["camera"], "CAM-A1");
        assert!(time(&r.json["received_at"]) >= before_receive);
        assert_eq!(r.json["lines"][0]["in_warehouse"], 3, "{}", r.text);

        let r = k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection");
        r.assert_status(200);
        assert_eq!(r.json["state"], "sorted");
        assert_eq!(r.json["discrepancy"], false);
        assert_eq!(r.json["bin"], k.seed.a.bin("pending_inspection"));
        assert_eq!(r.json["discrepancies"], json!([]));
        assert_eq!((r.json["lines"][0]["sorted"].clone(), r.json["lines"][1]["sorted"].clone()), (json!(3), json!(2)));

        let r = k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]);
        r.assert_status(200);
        assert_eq!(r.json["state"], "inspected");
        assert_eq!(r.json["lines"][0]["restockable"], 3);
        assert_eq!(r.json["lines"][1]["restockable"], 2);
        assert_eq!(r.json["next_actions"], json!(["restock", "dispose", "print_label"]));
        assert_eq!(k.stock_qty(&ebc, GCODE_1, &restock_bin), 0);

        let r = k.restock(&id, 1, 2);
        r.assert_status(200);
        assert_eq!(r.json["state"], "inspected", "some units are still in the warehouse");
        assert_eq!(k.stock_qty(&ebc, GCODE_1, &restock_bin), 2);
        k.restock(&id, 1, 1).assert_status(200);
        assert_eq!(k.stock_qty(&ebc, GCODE_1, &restock_bin), 3);
        let r = k.restock(&id, 2, 2);
        r.assert_status(200);
        assert_eq!(r.json["state"], "closed");
        assert!(r.json["closed_at"].is_string());
        assert_eq!(r.json["next_actions"], json!(["view"]));
        for (i, (restocked, in_wh)) in [(3, 0), (2, 0)].into_iter().enumerate() {
            assert_eq!(r.json["lines"][i]["restocked"], restocked);
            assert_eq!(r.json["lines"][i]["in_warehouse"], in_wh);
            assert_eq!(r.json["lines"][i]["unsettled"], 0);
        }

        // Stock per owner + gcode + bin, in warehouse A, named after the goods.
        assert_eq!(k.stock_qty(&ebc, GCODE_2, &restock_bin), 2);
        let rows = k.stock();
        assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
        for row in rows.as_array().unwrap() {
            assert_eq!(row["owner"], ebc.as_str());
            assert_eq!(row["warehouse"], "WH-A");
            assert_eq!(row["bin"], restock_bin.as_str());
        }
        assert!(rows.as_array().unwrap().iter().any(|r| r["gname"] == "保湿面霜" && r["qty"] == 3));

        // One entry per step; the state moves once per state change, before → after.
        assert_eq!(
            actions(&k, &id),
            ["return.apply", "return.receive", "return.sort", "return.inspect", "return.restock", "return.restock", "return.restock"]
        );
        assert_eq!(
            k.state_changes(&id),
            vec![
                change("return.apply", "", "declared"),
                change("return.receive", "declared", "received"),
                change("return.sort", "received", "sorted"),
                change("return.inspect", "sorted", "inspected"),
                change("return.restock", "inspected", "closed"),
            ]
        );
        let restocks = changes_of(&k, &id, "return.restock");
        let key = format!("stock {ebc}/{GCODE_1}/{restock_bin}");
        assert_eq!(restocks[0][&key], json!({"before": 0, "after": 2}));
        assert_eq!(restocks[1][&key], json!({"before": 2, "after": 3}));
        assert_eq!(restocks[0]["line 1 restocked"], json!({"before": 0, "after": 2}));
        // The return's own page tells the same story.
        let history = k.view(&id)["history"].as_array().unwrap().clone();
        assert_eq!(history.len(), 7);
        assert_eq!(history[1]["changes"]["state"], json!({"before": "declared", "after": "received"}));
        assert!(app.verify(None).ok);
    }

    fn a_return_that_leaves_the_zone_needs_no_approval_and_restocks_only_intact_units(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("sorted");
        let r = k.inspect(&id, &[(1, 1, 2, 0, 0, 0), (2, 0, 0, 2, 0, 0)]);
        r.assert_status(200);
        assert_eq!(r.json["lines"][0]["grades"], json!({"intact": 1, "damaged_packaging": 2, "used": 0, "defective": 0, "not_original": 0}));
        assert_eq!(r.json["lines"][0]["restockable"], 1);
        assert_eq!(r.json["lines"][1]["restockable"], 0);

        k.restock(&id, 1, 1).assert_status(200);
        let r = k.dispose(&id, 1, 2, "exit");
        r.assert_status(200);
        assert_eq!(r.json["state"], "inspected");
        assert_eq!(r.json["lines"][0]["disposed"], json!({"exit": 2, "reexport": 0, "destroy": 0}));
        assert_eq!(r.json["lines"][0]["in_warehouse"], 0);
        assert_eq!(r.json["disposals"][0]["status"], "done");
        assert_eq!(r.json["disposals"][0]["reference"], "exit-doc-1");
        let r = k.dispose(&id, 2, 2, "exit");
        r.assert_status(200);
        assert_eq!(r.json["state"], "closed");

        // Nothing waits for a supervisor; only the intact unit went back to stock.
        let pending = app.get(&k.sup, "/api/v1/disposals");
        pending.assert_status(200);
        assert_eq!(pending.json["items"], json!([]));
        let done = app.get(&k.sup, "/api/v1/disposals?status=done");
        assert_eq!(done.json["items"].as_array().unwrap().len(), 2);
        assert_eq!(k.stock_qty(&l.ebc, GCODE_1, k.seed.a.bin("restock")), 1);
        assert_eq!(k.stock_qty(&l.ebc, GCODE_2, k.seed.a.bin("restock")), 0);

        let exits = changes_of(&k, &id, "return.dispose");
        assert_eq!(exits.len(), 2);
        assert_eq!(exits[0]["line 1 disposed_exit"], json!({"before": 0, "after": 2}));
        assert_eq!(exits[0]["disposal"]["after"]["route"], "exit");
        assert_eq!(exits[1]["state"], json!({"before": "inspected", "after": "closed"}));
        assert!(exits[0].get("state").is_none(), "the first exit does not change the state");
    }

    fn reexport_and_destruction_wait_for_a_supervisor_and_a_rejection_puts_the_units_back(app: &TestApp) {
        let k = Kit::new(app);
        let (_l, id) = k.return_in("sorted");
        k.inspect(&id, &[(1, 0, 0, 3, 0, 0), (2, 0, 0, 0, 2, 0)]).assert_status(200);

        let r = k.dispose(&id, 1, 3, "reexport");
        r.assert_status(200);
        assert_eq!(r.json["state"], "inspected");
        assert_eq!(r.json["lines"][0]["pending_disposal"], 3);
        assert_eq!(r.json["lines"][0]["disposed"]["reexport"], 0);
        assert_eq!(r.json["lines"][0]["in_warehouse"], 3, "units awaiting approval are still here");
        assert_eq!(r.json["lines"][0]["unsettled"], 0);
        k.dispose(&id, 2, 2, "destroy").assert_status(200);
        // Nothing more of line 1 can be disposed while its units await approval.
        k.dispose(&id, 1, 1, "exit").assert_problem(422, "quantity_exceeds");

        let pending = app.get(&k.sup, "/api/v1/disposals");
        pending.assert_status(200);
        let items = pending.json["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 2, "{}", pending.text);
        // Each with what a supervisor decides on: the item, how it was graded, where it is.
        for (route, gname, grade, n) in [("reexport", "保湿面霜", "used", 3), ("destroy", "植物精油香皂", "defective", 2)] {
            let d = items.iter().find(|d| d["route"] == route).unwrap();
            assert_eq!(d["line"]["gname"], gname, "{d}");
            assert_eq!(d["line"]["grades"][grade], n, "{d}");
            assert_eq!(d["line"]["pending_disposal"], n, "{d}");
            assert_eq!(d["warehouse"], k.seed.a.warehouse.as_str(), "{d}");
            assert_eq!(d["return_id"], id.as_str(), "{d}");
        }
        let reexport = items.iter().find(|d| d["route"] == "reexport").unwrap()["id"].as_i64().unwrap();
        let destroy = items.iter().find(|d| d["route"] == "destroy").unwrap()["id"].as_i64().unwrap();
        assert!(items.iter().all(|d| d["status"] == "pending_approval" && d["return_id"] == id.as_str()));

        // Floor staff cannot approve their own disposal.
        app.post_json(&k.floor_a, &format!("/api/v1/disposals/{destroy}/approve"), &json!({"reason": "ok"}))
            .assert_problem(403, "forbidden");

        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{destroy}/reject"), &json!({"reason": "销毁证明不全"}));
        r.assert_status(200);
        assert_eq!(r.json["state"], "inspected");
        assert_eq!(r.json["lines"][1]["pending_disposal"], 0);
        assert_eq!(r.json["lines"][1]["disposed"]["destroy"], 0);
        assert_eq!(r.json["lines"][1]["unsettled"], 2, "the rejected units are back to be settled");
        let d = r.json["disposals"].as_array().unwrap().iter().find(|d| d["id"] == destroy).unwrap().clone();
        assert_eq!(d["status"], "rejected");
        // A decided disposal cannot be decided again.
        app.post_json(&k.sup, &format!("/api/v1/disposals/{destroy}/approve"), &json!({"reason": "改主意"}))
            .assert_problem(409, "invalid_state");

        k.dispose(&id, 2, 2, "destroy").assert_status(200);
        let again = app.get(&k.sup, "/api/v1/disposals").json["items"].as_array().unwrap().clone();
        let destroy2 = again.iter().find(|d| d["route"] == "destroy").unwrap()["id"].as_i64().unwrap();
        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{destroy2}/approve"), &json!({"reason": "监督销毁"}));
        r.assert_status(200);
        assert_eq!(r.json["state"], "inspected", "line 1 still awaits its re-export");
        assert_eq!(r.json["lines"][1]["disposed"]["destroy"], 2);
        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{reexport}/approve"), &json!({"reason": "退运出境"}));
        r.assert_status(200);
        assert_eq!(r.json["state"], "closed");
        assert_eq!(r.json["lines"][0]["disposed"]["reexport"], 3);
        assert_eq!(r.json["lines"][0]["in_warehouse"], 0);
        assert_eq!(k.stock(), json!([]));
        assert_eq!(app.get(&k.sup, "/api/v1/disposals").json["items"], json!([]));

        assert_eq!(
            actions(&k, &id)[4..],
            ["return.dispose_request", "return.dispose_request", "return.dispose_reject", "return.dispose_request", "return.dispose_approve", "return.dispose_approve"]
        );
        assert_eq!(k.state_changes(&id).last().unwrap(), &change("return.dispose_approve", "inspected", "closed"));
        let reject = &changes_of(&k, &id, "return.dispose_reject")[0];
        assert_eq!(reject[&format!("disposal {destroy}")], json!({"before": "pending_approval", "after": "rejected"}));
        assert_eq!(reject["line 2 pending_disposal"], json!({"before": 2, "after": 0}));
        assert!(app.verify(None).ok);
    }

    fn units_that_all_await_a_disposal_approval_offer_no_restock_or_dispose_anywhere(app: &TestApp) {
        let k = Kit::new(app);
        let (_l, id) = k.return_in("sorted");
        // Line 1: 2 intact + 1 used; line 2: 2 defective.
        k.inspect(&id, &[(1, 2, 0, 1, 0, 0), (2, 0, 0, 0, 2, 0)]).assert_status(200);
        // The next actions, as the return, the list, a scan of its label and the stats say them.
        let offered = |want: Value, to_settle: i64, awaiting: i64| {
            assert_eq!(k.view(&id)["next_actions"], want, "the return");
            let list = app.get(&k.floor_a, "/api/v1/returns?state=inspected");
            let row = list.json["items"].as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).unwrap().clone();
            assert_eq!(row["next_actions"], want, "the list");
            let scan = app.get(&k.floor_a, &format!("/api/v1/scan/{id}"));
            scan.assert_status(200);
            assert_eq!(scan.json["next_actions"], want, "a scan of the label");
            let stats = app.get(&k.floor_a, "/api/v1/stats");
            stats.assert_status(200);
            assert_eq!(stats.json["by_state"]["inspected"], 1, "{}", stats.text);
            assert_eq!((stats.json["to_settle"].as_i64(), stats.json["awaiting_approval"].as_i64()), (Some(to_settle), Some(awaiting)), "{}", stats.text);
        };
        offered(json!(["restock", "dispose", "print_label"]), 1, 0);
        k.restock(&id, 1, 2).assert_status(200);
        // Only failed units are left: nothing to restock, something to dispose of.
        offered(json!(["dispose", "print_label"]), 1, 0);
        k.dispose(&id, 1, 1, "reexport").assert_status(200);
        let r = k.dispose(&id, 2, 2, "destroy");
        r.assert_status(200);
        assert_eq!(r.json["next_actions"], json!(["print_label"]), "the step's answer");
        offered(json!(["print_label"]), 0, 1);
        // What is not offered is refused too, and changes nothing.
        k.restock(&id, 1, 1).assert_problem(422, "quantity_exceeds");
        k.dispose(&id, 2, 1, "exit").assert_problem(422, "quantity_exceeds");
        // A rejection puts units back to be disposed of.
        let destroy = app.get(&k.sup, "/api/v1/disposals").json["items"].as_array().unwrap().iter()
            .find(|d| d["route"] == "destroy").unwrap()["id"].as_i64().unwrap();
        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{destroy}/reject"), &json!({"reason": "销毁证明不全"}));
        r.assert_status(200);
        assert_eq!(r.json["next_actions"], json!(["dispose", "print_label"]));
        offered(json!(["dispose", "print_label"]), 1, 0);
    }

    fn a_return_says_where_its_goods_are_now_shelves_sorting_bin_approval_or_gone(app: &TestApp) {
        let k = Kit::new(app);
        let (_l, id) = k.return_in("sorted");
        let sorting = k.seed.a.bin("pending_inspection").to_string();
        let shelf = k.seed.a.bin("restock").to_string();
        assert_eq!(k.view(&id)["whereabouts"], json!([{"place": "sorting", "bin": sorting, "qty": 5}]));
        k.inspect(&id, &[(1, 2, 0, 1, 0, 0), (2, 1, 0, 0, 1, 0)]).assert_status(200);
        k.restock(&id, 1, 1).assert_status(200);
        k.restock(&id, 1, 1).assert_status(200);
        let r = k.restock(&id, 2, 1);
        r.assert_status(200);
        // The step's answer says it as the return does.
        assert_eq!(r.json["whereabouts"], json!([
            {"place": "restocked", "bin": shelf, "qty": 3},
            {"place": "sorting", "bin": sorting, "qty": 2},
        ]));
        k.dispose(&id, 1, 1, "exit").assert_status(200);
        k.dispose(&id, 2, 1, "destroy").assert_status(200);
        assert_eq!(k.view(&id)["whereabouts"], json!([
            {"place": "restocked", "bin": shelf, "qty": 3},
            {"place": "awaiting_approval", "bin": null, "qty": 1},
            {"place": "exited", "bin": null, "qty": 1},
        ]));
        let destroy = app.get(&k.sup, "/api/v1/disposals").json["items"][0]["id"].as_i64().unwrap();
        app.post_json(&k.sup, &format!("/api/v1/disposals/{destroy}/approve"), &json!({"reason": "监督销毁"}))
            .assert_status(200);
        let closed = k.view(&id);
        assert_eq!(closed["state"], "closed");
        // Closed: where the goods went, not the sorting bin the parcel once sat in.
        assert_eq!(closed["whereabouts"], json!([
            {"place": "restocked", "bin": shelf, "qty": 3},
            {"place": "exited", "bin": null, "qty": 1},
            {"place": "destroyed", "bin": null, "qty": 1},
        ]));
    }

    fn a_customs_hold_from_any_open_state_stops_the_floor_and_a_release_brings_it_back(app: &TestApp) {
        let k = Kit::new(app);
        for state in ["declared", "received", "sorted", "inspected"] {
            let (_l, id) = k.return_in(state);
            let r = k.hold(&id);
            r.assert_status(200);
            assert_eq!(r.json["state"], "held");
            assert_eq!(r.json["held"], true);
            assert_eq!(r.json["held_from"], state);
            assert_eq!(r.json["next_actions"], json!(["view", "print_label"]));

            // While held, the floor can do nothing with it, and it cannot be held twice.
            let before = k.snapshot(&[&id]);
            match state {
                "declared" => k.receive(&id),
                "received" => k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection"),
                "sorted" => k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]),
                _ => k.restock(&id, 1, 1),
            }
            .assert_problem(409, "invalid_state");
            k.hold(&id).assert_problem(409, "invalid_state");
            k.assert_unchanged(&before, &[&id]);

            let r = k.release(&id);
            r.assert_status(200);
            assert_eq!(r.json["state"], state);
            assert_eq!(r.json["held"], false);
            assert_eq!(r.json["held_from"], Value::Null);
            let changes = k.state_changes(&id);
            assert_eq!(
                changes[changes.len() - 2..],
                [change("return.hold", state, "held"), change("return.release", "held", state)]
            );
            let hold = k.entries_of(&id).into_iter().find(|e| e.action == "return.hold").unwrap();
            assert_eq!(hold.reason.as_deref(), Some("海关布控查验"));
            assert_eq!(hold.role, "supervisor");

            // …and the flow goes on from there.
            let next = match state {
                "declared" => k.receive(&id),
                "received" => k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection"),
                "sorted" => k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]),
                _ => k.restock(&id, 1, 1),
            };
            next.assert_status(200);
        }
        // A released return that is not held cannot be released; a closed one cannot be held.
        let (_l, id) = k.return_in("inspected");
        k.release(&id).assert_problem(409, "invalid_state");
        k.dispose(&id, 1, 3, "exit").assert_status(200);
        k.dispose(&id, 2, 2, "exit").assert_status(200);
        assert_eq!(k.state(&id), "closed");
        k.hold(&id).assert_problem(409, "invalid_state");
        assert!(app.verify(None).ok);
    }

    fn a_late_parcel_is_received_and_flagged_and_may_only_leave_the_zone(app: &TestApp) {
        let k = Kit::new(app);
        let mut l = k.list();
        l.released_at = ago(46);
        k.declare(&l);
        // Applied for within 30 days of the release (CEB625 appTime), arriving after 45.
        let applied_at = l.released_at + Duration::days(10);
        let report = k.import(&k.admin, ceb625(&[l.invt_refund(&[(1, 3), (2, 2)], applied_at)]));
        report.assert_status(200);
        assert_eq!(report.json["created"], 1, "{}", report.text);
        let id = report.json["items"][0]["key"].as_str().unwrap().to_string();

        let r = k.receive(&id);
        r.assert_status(200);
        assert_eq!(r.json["state"], "received");
        assert_eq!(r.json["late"], true);
        assert_eq!(time(&r.json["applied_at"]), applied_at);
        assert_eq!(time(&r.json["apply_deadline"]), l.released_at + Duration::days(30));
        assert_eq!(time(&r.json["arrival_deadline"]), l.released_at + Duration::days(45));
        assert!(time(&r.json["arrival_deadline"]) < time(&r.json["received_at"]));
        assert!(r.json["days_left"].as_i64().unwrap() < 0, "{}", r.text);
        let receive = k.entries_of(&id).into_iter().find(|e| e.action == "return.receive").unwrap();
        assert!(receive.reason.as_deref().unwrap_or("").contains("45-day"), "{receive:?}");
        let c: Value = serde_json::from_str(&receive.changes).unwrap();
        assert_eq!(c["late"], json!({"before": false, "after": true}));

        k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        let r = k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]);
        r.assert_status(200);
        assert_eq!(r.json["next_actions"], json!(["dispose", "print_label"]));
        assert_eq!(r.json["lines"][0]["restockable"], 0, "intact, but too late for bonded stock");

        let before = k.snapshot(&[&id]);
        let refused = k.restock(&id, 1, 1);
        refused.assert_problem(422, "deadline_passed");
        assert!(refused.json["detail"].as_str().unwrap().contains("45-day"), "{}", refused.text);
        k.assert_unchanged(&before, &[&id]);

        k.dispose(&id, 1, 3, "exit").assert_status(200);
        k.dispose(&id, 2, 2, "reexport").assert_status(200);
        let d = app.get(&k.sup, "/api/v1/disposals").json["items"][0]["id"].as_i64().unwrap();
        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{d}/approve"), &json!({"reason": "退运"}));
        r.assert_status(200);
        assert_eq!(r.json["state"], "closed");
        assert_eq!(r.json["late"], true);
        assert_eq!(k.stock(), json!([]));
    }

    fn a_parcel_with_unmatched_and_excess_items_is_a_discrepancy_and_inspection_counts_what_was_sorted(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("received");
        let sort = |bin_area: &str| {
            k.step(&k.floor_a, &id, "sort", &json!({
                "items": [
                    {"code": BARCODE_1, "qty": 3},
                    {"code": GCODE_1, "qty": 1},
                    {"gnum": 2, "qty": 1},
                ],
                "unmatched": [{"code": "6901234567892", "qty": 1}],
                "bin": k.seed.a.bin(bin_area),
            }))
        };
        // A discrepancy must go to a discrepancy bin.
        let before = k.snapshot(&[&id]);
        let r = sort("pending_inspection");
        r.assert_problem(400, "validation");
        assert_eq!(r.json["errors"][0]["field"], "bin", "{}", r.text);
        assert!(r.json["errors"][0]["message"].as_str().unwrap().contains("discrepancy"));
        k.assert_unchanged(&before, &[&id]);

        let r = sort("discrepancy");
        r.assert_status(200);
        assert_eq!(r.json["state"], "sorted");
        assert_eq!(r.json["discrepancy"], true);
        assert_eq!(r.json["bin"], k.seed.a.bin("discrepancy"));
        let mut listed: Vec<(String, i64)> = r.json["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["code"].as_str().unwrap().to_string(), d["qty"].as_i64().unwrap()))
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            [("6901234567892".to_string(), 1), ("gnum 1 excess".to_string(), 1), ("gnum 2 missing".to_string(), 1)]
        );
        // What was counted is what the rest of the flow works with.
        assert_eq!(r.json["lines"][0]["sorted"], 3);
        assert_eq!(r.json["lines"][1]["sorted"], 1);
        assert_eq!(r.json["lines"][1]["in_warehouse"], 1);
        let sorted = &changes_of(&k, &id, "return.sort")[0];
        assert_eq!(sorted["discrepancies"]["after"].as_array().unwrap().len(), 3);

        k.inspect(&id, &[(1, 2, 1, 0, 0, 0), (2, 2, 0, 0, 0, 0)]).assert_problem(400, "validation");
        let r = k.inspect(&id, &[(1, 2, 1, 0, 0, 0), (2, 1, 0, 0, 0, 0)]);
        r.assert_status(200);
        assert_eq!(r.json["lines"][1]["restockable"], 1);

        k.restock(&id, 2, 2).assert_problem(422, "quantity_exceeds");
        k.restock(&id, 2, 1).assert_status(200);
        k.restock(&id, 1, 2).assert_status(200);
        let r = k.dispose(&id, 1, 1, "exit");
        r.assert_status(200);
        assert_eq!(r.json["state"], "closed", "every counted unit is settled: {}", r.text);
        let bin = k.seed.a.bin("restock");
        assert_eq!(k.stock_qty(&l.ebc, GCODE_1, bin), 2);
        assert_eq!(k.stock_qty(&l.ebc, GCODE_2, bin), 1);
    }

    fn a_parcel_can_be_received_by_scanning_its_waybill_and_only_in_the_warehouse_of_its_list(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.whole_return();
        let scan = app.get(&k.floor_a, &format!("/api/v1/scan/{}", l.waybill));
        scan.assert_status(200);
        assert_eq!(scan.json["kind"], "waybill");
        assert_eq!(scan.json["return"]["id"], id.as_str());
        assert_eq!(scan.json["next_actions"], json!(["receive"]));
        // Warehouse B's staff do not even see a parcel addressed to A.
        k.step(&k.floor_b, &id, "receive", &json!({"warehouse": "WH-B", "camera": "CAM-B1"}))
            .assert_problem(404, "not_found");
        k.receive(&id).assert_status(200);
    }

    fn every_step_answers_with_the_return_as_its_caller_reads_it_afterwards(app: &TestApp) {
        // A step's answer is built from what the step read and knows (no history): it must be
        // what `GET /returns/{id}` shows the same caller right after, discrepancies, disposals
        // and masked buyer included.
        let k = Kit::new(app);
        let same_as_read = |client: &reqwest::blocking::Client, r: &Reply, id: &str, what: &str| {
            r.assert_status(200);
            let read = app.get(client, &format!("/api/v1/returns/{id}"));
            read.assert_status(200);
            let mut read = read.json.clone();
            read["history"] = json!([]);
            assert_eq!(r.json, read, "{what}: the answer differs from the return as read afterwards");
        };
        // With discrepancies, then used units disposed (one rejected, one approved), then
        // the rest restocked.
        let (_l, id) = k.return_in("received");
        let r = k.step(&k.floor_a, &id, "sort", &json!({
            "items": [{"code": BARCODE_1, "qty": 3}, {"gnum": 2, "qty": 1}],
            "unmatched": [{"code": "6901234567892", "qty": 1}],
            "bin": k.seed.a.bin("discrepancy"),
        }));
        assert_eq!(r.json["discrepancies"].as_array().map(Vec::len), Some(2), "{}", r.text);
        same_as_read(&k.floor_a, &r, &id, "sort with discrepancies");
        let r = k.inspect(&id, &[(1, 1, 0, 2, 0, 0), (2, 1, 0, 0, 0, 0)]);
        same_as_read(&k.floor_a, &r, &id, "inspect after discrepancies");
        let r = k.dispose(&id, 1, 1, "destroy");
        same_as_read(&k.floor_a, &r, &id, "first disposal");
        let pending = app.get(&k.sup, "/api/v1/disposals").json["items"][0]["id"].as_i64().unwrap();
        let r = app.post_json(&k.sup, &format!("/api/v1/disposals/{pending}/reject"), &json!({"reason": "证明不全"}));
        same_as_read(&k.sup, &r, &id, "rejection");
        let r = k.dispose(&id, 1, 2, "exit");
        same_as_read(&k.floor_a, &r, &id, "disposal after a rejected one");
        let r = k.restock(&id, 1, 1);
        same_as_read(&k.floor_a, &r, &id, "restock with disposals");
        let r = k.restock(&id, 2, 1);
        assert_eq!(r.json["state"], "closed", "{}", r.text);
        same_as_read(&k.floor_a, &r, &id, "closing restock");

        // A plain return, every step.
        let l = k.released();
        let id = k.new_return(&l, &[(1, 2), (2, 1)]);
        same_as_read(&k.floor_a, &k.receive(&id), &id, "receive");
        same_as_read(&k.floor_a, &k.sort(&id, &[(1, 2), (2, 1)], "pending_inspection"), &id, "sort");
        same_as_read(&k.floor_a, &k.inspect(&id, &[(1, 2, 0, 0, 0, 0), (2, 1, 0, 0, 0, 0)]), &id, "inspect");
        same_as_read(&k.floor_a, &k.restock(&id, 1, 2), &id, "restock");
    }
}

/// `/healthz` tells the writer's counts only when asked (`BR_WRITER_STATS`), and a floor
/// step moves them: the flow benchmark divides them by its transitions. The counts are the
/// process's (every test server of this binary adds to them), so only their growth is
/// checked here.
fn healthz_tells_the_writers_counts_when_asked(app: &TestApp) {
    let k = Kit::new(app);
    let counts = || {
        let h = app.send(app.client().get(app.url("/healthz")));
        h.assert_status(200);
        let w = &h.json["writer"];
        ["batches", "requests", "statements"].map(|f| w[f].as_u64().expect("a count"))
    };
    let (_, id) = k.whole_return();
    let before = counts();
    k.receive(&id).assert_status(200);
    let after = counts();
    for i in 0..3 {
        assert!(after[i] > before[i], "{before:?} → {after:?}");
    }
    // A step is at least its savepoint, its statements and its batch's BEGIN and COMMIT.
    assert!(after[2] - before[2] >= 4, "{before:?} → {after:?}");
}

mod writer_counts {
    use super::*;

    fn asked(c: &mut bonded_returns::config::Config) {
        c.writer_stats = true;
    }

    #[test]
    fn sqlite() {
        run_configured(
            Backend::Sqlite,
            asked,
            super::healthz_tells_the_writers_counts_when_asked,
        )
    }

    #[test]
    fn postgres() {
        run_configured(
            Backend::Postgres,
            asked,
            super::healthz_tells_the_writers_counts_when_asked,
        )
    }
}

both! {
    fn healthz_keeps_the_writers_counts_to_itself_unless_asked(app: &TestApp) {
        let h = app.send(app.client().get(app.url("/healthz")));
        h.assert_status(200);
        assert!(h.json.get("writer").is_none(), "{}", h.text);
    }
}

/// Most statements a floor step may send to the database in a batch of its own (BEGIN, the
/// write lock and the chain head, the batch's read of its steps, its writes, COMMIT): a guard
/// against a step growing round trips unnoticed. Issue 23 aims at 2 per step plus the
/// batch's own; this test prints where each step stands (benches/README.md, "load, decide, write").
const MOST_STATEMENTS_PER_STEP: u64 = 16;

both! {
    fn a_floor_step_sends_a_bounded_number_of_statements_to_the_database(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.whole_return();
        let (_, other) = k.return_in("received");
        type StepFn<'a> = Box<dyn Fn() -> Reply + 'a>;
        let steps: Vec<(&str, StepFn<'_>)> = vec![
            ("receive", Box::new(|| k.receive(&id))),
            ("sort", Box::new(|| k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection"))),
            ("inspect", Box::new(|| k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 1, 0, 1, 0, 0)]))),
            ("restock", Box::new(|| k.restock(&id, 1, 3))),
            ("dispose", Box::new(|| k.dispose(&id, 2, 1, "exit"))),
            ("hold", Box::new(|| k.hold(&other))),
            ("release", Box::new(|| k.release(&other))),
        ];
        let mut figures = Vec::new();
        for (name, step) in &steps {
            let before = app.writer.counts();
            step().assert_status(200);
            let after = app.writer.counts();
            let statements = after.statements - before.statements;
            assert_eq!(
                (after.batches - before.batches, after.requests - before.requests),
                (1, 1),
                "{name}: one request in a batch of its own"
            );
            assert!(
                statements <= MOST_STATEMENTS_PER_STEP,
                "{name} sent {statements} statements (at most {MOST_STATEMENTS_PER_STEP})"
            );
            figures.push(format!("{name} {statements}"));
        }
        println!("statements per step, batch's own included: {}", figures.join(", "));
    }
}

both! {
    fn a_step_decides_on_what_another_connection_committed_since_the_step_before(app: &TestApp) {
        // On SQLite the writer keeps what a batch read and saved for the next one: a commit
        // by any other connection (a script, the command line) must make it read again.
        // (A return changed behind its back is also caught when the step writes: its UPDATE
        // names the state it decided from. A session is only ever read.)
        let k = Kit::new(app);
        let (_, id) = k.whole_return();
        let (_, other) = k.whole_return();
        k.receive(&id).assert_status(200);
        app.db.sql(&format!(
            "UPDATE returns SET state = 'held', held_from = 'received' WHERE id = '{id}'"
        ))
        .unwrap();
        k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection")
            .assert_problem(409, "invalid_state");
        // Its caller's sessions ended elsewhere: the next step is not done.
        k.receive(&other).assert_status(200);
        app.db.sql("DELETE FROM sessions WHERE username IN (SELECT username FROM users WHERE warehouse_code = 'WH-A' AND role = 'floor')")
            .unwrap();
        k.sort(&other, &[(1, 3), (2, 2)], "pending_inspection")
            .assert_problem(401, "unauthenticated");
        assert_eq!(k.state(&other), "received");
    }
}

both! {
    fn the_chain_goes_on_from_an_entry_another_writer_appended_between_two_steps(app: &TestApp) {
        // The writer keeps the chain head from one batch to the next on SQLite: another
        // process's writer (the command line's, say) appending meanwhile must be seen.
        use bonded_returns::audit::{Changes, NewEntry};
        use bonded_returns::db::{writer::{Writer, WriterOptions}, DbUrl, SqliteSync};
        let k = Kit::new(app);
        let (_, id) = k.whole_return();
        k.receive(&id).assert_status(200);
        let url = DbUrl::parse(&app.db.url).unwrap();
        let other = Writer::start(&url, SqliteSync::Normal, WriterOptions::default()).unwrap();
        let subject = id.clone();
        other
            .write_blocking(move |tx| {
                tx.audit(
                    &admin_actor(),
                    NewEntry {
                        action: "test.note",
                        entity_kind: "return",
                        entity_id: &subject,
                        warehouse: None,
                        enterprise: None,
                        changes: Changes::default(),
                        reason: Some("appended by another writer"),
                    },
                )
            })
            .unwrap();
        drop(other);
        k.sort(&id, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        let v = app.verify(None);
        assert!(v.ok, "{v:?}");
        let actions = actions(&k, &id);
        assert_eq!(actions[actions.len() - 2..], ["test.note", "return.sort"], "{actions:?}");
    }
}

/// Holds the writer in a batch of its own until `go` is sent: the writer's counts before, the
/// sender, and the blocking request (join it after sending).
fn hold_writer(
    app: &TestApp,
) -> (
    bonded_returns::db::writer::CountsNow,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<Result<(), AppError>>,
) {
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let before = app.writer.counts();
    let writer = app.writer.clone();
    let blocker = std::thread::spawn(move || {
        writer.write_blocking(move |_| wait.recv().map_err(|e| AppError::Internal(e.to_string())))
    });
    wait_queued(app, before.submitted, 1);
    (before, go, blocker)
}

/// Waits until the writer has `n` requests queued since `before`.
fn wait_queued(app: &TestApp, before: u64, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.writer.counts().submitted < before + n {
        assert!(
            std::time::Instant::now() < deadline,
            "the requests did not reach the writer"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A request to the server, run on a thread of its own.
pub(crate) type Request<'a> = Box<dyn FnOnce() -> Reply + Send + 'a>;

/// Sends `requests` and has the writer take them in one batch, in their order: it is held
/// until all are queued, each after the one before. Asserts that they ran in one batch; their
/// replies in order, and the statements the batch sent.
pub(crate) fn in_one_batch(app: &TestApp, requests: Vec<Request<'_>>) -> (Vec<Reply>, u64) {
    let n = requests.len() as u64;
    let (before, go, blocker) = hold_writer(app);
    let (replies, queued, after) = std::thread::scope(|s| {
        let handles: Vec<_> = (1..)
            .zip(requests)
            .map(|(i, r)| {
                let h = s.spawn(r);
                wait_queued(app, before.submitted, i + 1);
                h
            })
            .collect();
        let queued = app.writer.counts();
        go.send(()).unwrap();
        let replies: Vec<Reply> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (replies, queued, app.writer.counts())
    });
    blocker.join().unwrap().unwrap();
    assert_eq!(
        (
            after.batches - queued.batches,
            after.requests - queued.requests
        ),
        (1, n),
        "the {n} requests ran in one batch after the blocker's"
    );
    (replies, after.statements - queued.statements)
}

both! {
    fn the_steps_of_one_batch_are_read_together_and_each_decides_on_the_ones_before_it(app: &TestApp) {
        let k = Kit::new(app);
        let (_, a) = k.whole_return();
        let (_, b) = k.return_in("received");
        let (_, c) = k.return_in("sorted");
        let (replies, statements) = in_one_batch(
            app,
            vec![
                Box::new(|| k.receive(&a)),
                Box::new(|| k.receive(&a)),
                Box::new(|| k.sort(&b, &[(1, 3), (2, 2)], "pending_inspection")),
                Box::new(|| k.receive("RT20260101999999")),
                Box::new(|| k.inspect(&c, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)])),
            ],
        );
        let [first, second, sorted, unknown, inspected] = <[Reply; 5]>::try_from(replies).unwrap();
        // The second receive of `a` decided on the first one's result, read by the batch.
        let mut receives = [first.status, second.status];
        receives.sort_unstable();
        assert_eq!(receives, [200, 409], "{} / {}", first.text, second.text);
        let refused = if first.status == 409 { &first } else { &second };
        refused.assert_problem(409, "invalid_state");
        sorted.assert_status(200);
        unknown.assert_problem(404, "not_found");
        inspected.assert_status(200);
        assert_eq!(k.state(&a), "received");
        assert_eq!(k.state(&b), "sorted");
        assert_eq!(k.state(&c), "inspected");
        let receipts = k
            .entries_of(&a)
            .into_iter()
            .filter(|e| e.action == "return.receive")
            .count();
        assert_eq!(receipts, 1, "one receive recorded");
        assert!(app.verify(None).ok, "the chain holds");
        println!("a batch of 5 floor steps (2 refused) sent {statements} statements");
    }
}

both! {
    fn a_step_that_fails_after_writing_keeps_nothing_of_its_batch_and_the_others_retry(app: &TestApp) {
        let k = Kit::new(app);
        let (_, a) = k.whole_return();
        let (_, b) = k.return_in("received");
        // The print job of a receive cannot be stored: the receive fails after its return
        // and audit entry were written (a floor step has no savepoint of its own).
        let refuse = match app.backend {
            Backend::Sqlite => {
                "CREATE TRIGGER no_jobs BEFORE INSERT ON print_jobs BEGIN SELECT RAISE(ABORT, 'no print jobs'); END;"
            }
            Backend::Postgres => {
                "CREATE FUNCTION no_jobs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no print jobs'; END $$; \
                 CREATE TRIGGER no_jobs BEFORE INSERT ON print_jobs FOR EACH ROW EXECUTE FUNCTION no_jobs();"
            }
        };
        app.db.sql(refuse).expect("the trigger");
        let head = app.head();
        let (before, go, blocker) = hold_writer(app);
        let receive_and_print = json!({
            "warehouse": k.seed.a.warehouse, "camera": k.seed.a.camera, "printer": "P-DOCK-1",
        });
        let (sorted, received) = std::thread::scope(|s| {
            let sorted = s.spawn(|| k.sort(&b, &[(1, 3), (2, 2)], "pending_inspection"));
            wait_queued(app, before.submitted, 2);
            let received = s.spawn(|| k.step(&k.floor_a, &a, "receive", &receive_and_print));
            wait_queued(app, before.submitted, 3);
            go.send(()).unwrap();
            (sorted.join().unwrap(), received.join().unwrap())
        });
        blocker.join().unwrap().unwrap();
        // The sort ran first and went well, but its batch was not kept: it is told to retry.
        sorted.assert_problem(503, "unavailable");
        assert!(received.status >= 400, "{}", received.text);
        assert_eq!(k.state(&a), "declared");
        assert_eq!(k.state(&b), "received");
        assert_eq!(app.head(), head, "no audit entry was kept");
        assert!(app.verify(None).ok);
        // Retried, the sort goes through; so does the receive once jobs can be stored again.
        k.sort(&b, &[(1, 3), (2, 2)], "pending_inspection")
            .assert_status(200);
        app.db
            .sql("DROP TRIGGER no_jobs ON print_jobs")
            .or_else(|_| app.db.sql("DROP TRIGGER no_jobs"))
            .expect("the trigger goes");
        k.step(&k.floor_a, &a, "receive", &receive_and_print)
            .assert_status(200);
        assert_eq!(k.state(&a), "received");
        assert!(app.verify(None).ok);
    }
}

both! {
    // A restock's or a disposal's answer shows the return's shelves and disposals as its batch
    // has them (read once for the batch's inspected returns, with what its steps since
    // settled): the same as the return read afterwards, whatever came before in the batch.
    fn settling_answers_from_one_batch_show_what_the_return_read_afterwards_shows(app: &TestApp) {
        let k = Kit::new(app);
        // `a` restocked and disposed of before; `b`, `c` and `d` not yet.
        let (_, a) = k.return_in("inspected");
        k.restock(&a, 1, 1).assert_status(200);
        k.dispose(&a, 2, 1, "exit").assert_status(200);
        let (_, b) = k.return_in("inspected");
        let (_, c) = k.return_in("inspected");
        let (_, d) = k.return_in("inspected");
        let (answers, _) = in_one_batch(
            app,
            vec![
                Box::new(|| k.restock(&a, 1, 1)),
                Box::new(|| k.dispose(&b, 2, 1, "exit")),
                Box::new(|| k.restock(&c, 1, 3)),
                Box::new(|| k.restock(&d, 1, 2)),
                Box::new(|| k.dispose(&d, 2, 2, "reexport")),
            ],
        );
        for r in &answers {
            r.assert_status(200);
        }
        let shown = |r: &Reply| (r.json["whereabouts"].clone(), r.json["disposals"].clone());
        let read = |id: &str| {
            let v = k.view(id);
            (v["whereabouts"].clone(), v["disposals"].clone())
        };
        assert_eq!(shown(&answers[0]), read(&a), "a: an earlier restock and disposal, one more restock");
        assert_eq!(shown(&answers[1]), read(&b));
        assert_eq!(shown(&answers[2]), read(&c));
        // Two steps of `d` in the batch: the later one's answer shows both.
        let d_now = read(&d);
        assert!(
            [&answers[3], &answers[4]].iter().any(|r| shown(r) == d_now),
            "one of d's answers shows both its restock and its disposal: {:?} / {:?} / {d_now:?}",
            shown(&answers[3]),
            shown(&answers[4])
        );
        assert_eq!(read(&a).1.as_array().map(Vec::len), Some(1), "a's disposal shown");
        assert_eq!(read(&d).1.as_array().map(Vec::len), Some(1), "d's disposal shown");
        assert!(app.verify(None).ok, "the chain holds");
    }
}

/// A return as floor staff's answer and a supervisor's read both show it: without its
/// history (a step's answer carries none) and its buyer (masked for floor staff).
fn as_both_see_it(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("history");
        o.remove("buyer");
    }
    v
}

both! {
    // The floor steps of a batch are written together (on PostgreSQL in one statement, with
    // their answers): two steps of one return, a discrepancy, two restocks of one stock key.
    // Each answer and each return read afterwards are the same, the stock is raised by both,
    // and on PostgreSQL the batch's statements do not grow with its steps.
    fn the_floor_steps_of_one_batch_are_written_together_as_each_decided(app: &TestApp) {
        let k = Kit::new(app);
        let (list, a) = k.whole_return();
        let (_, b) = k.return_in("received");
        let (_, c) = k.return_in("inspected");
        let (_, d) = k.return_in("inspected");
        // The server's reference data (bins, cameras) is read before, as on a server that has
        // run a while.
        let (_, warm) = k.return_in("inspected");
        k.restock(&warm, 2, 2).assert_status(200);
        let (_, warm) = k.return_in("received");
        k.sort(&warm, &[(1, 3), (2, 1)], "discrepancy").assert_status(200);
        let bin = k.seed.a.bin("restock");
        let gcode = list.lines[0].gcode.clone();
        let stocked = k.stock_qty(&list.ebc, &gcode, bin);
        let (replies, statements) = in_one_batch(
            app,
            vec![
                Box::new(|| k.receive(&a)),
                Box::new(|| k.sort(&a, &[(1, 3), (2, 2)], "pending_inspection")),
                // One unit of line 2 short: a discrepancy.
                Box::new(|| k.sort(&b, &[(1, 3), (2, 1)], "discrepancy")),
                Box::new(|| k.restock(&c, 1, 3)),
                Box::new(|| k.restock(&d, 1, 2)),
                Box::new(|| k.restock(&d, 1, 1)),
            ],
        );
        for r in &replies {
            r.assert_status(200);
        }
        assert_eq!(k.state(&a), "sorted");
        assert_eq!(replies[2].json["discrepancies"].as_array().map(Vec::len), Some(1), "{}", replies[2].text);
        for (reply, id) in [(1, &a), (2, &b), (3, &c), (5, &d)] {
            assert_eq!(
                as_both_see_it(replies[reply].json.clone()),
                as_both_see_it(k.view(id)),
                "the answer of step {reply} is {id} as read afterwards"
            );
        }
        assert_eq!(k.stock_qty(&list.ebc, &gcode, bin), stocked + 6, "both restocks of d and c's");
        let actions: Vec<String> = k.entries_of(&d).into_iter().map(|e| e.action).collect();
        assert_eq!(actions.iter().filter(|a| *a == "return.restock").count(), 2, "{actions:?}");
        assert!(app.verify(None).ok, "the chain holds");
        println!("a batch of 6 floor steps sent {statements} statements");
        if app.backend == Backend::Postgres {
            // BEGIN with the lock, the head, the batch's reads (returns, sessions, disposals,
            // restocks), its one write and COMMIT: not one per step.
            assert!(statements <= 9, "{statements} statements for 6 steps");
        }
    }
}

both! {
    // A request that is not a floor step (a supervisor's hold) runs in a savepoint of its own
    // after the floor steps before it in its batch were written: it sees them.
    fn a_request_after_floor_steps_in_its_batch_sees_what_they_wrote(app: &TestApp) {
        let k = Kit::new(app);
        let (_, a) = k.whole_return();
        let (replies, _) = in_one_batch(
            app,
            vec![Box::new(|| k.receive(&a)), Box::new(|| k.hold(&a))],
        );
        replies[0].assert_status(200);
        replies[1].assert_status(200);
        let v = k.view(&a);
        assert_eq!(v["state"], "held", "{v}");
        assert_eq!(v["held_from"], "received", "{v}");
        assert!(app.verify(None).ok, "the chain holds");
    }
}

both! {
    // A return that a step's write does not find in the state it decided from fails the whole
    // batch: nothing of it is kept (not the other steps, not the audit entries), and every
    // request is told to retry. The write lock rules this out; a trigger that skips the
    // return's update stands in for it.
    fn a_return_not_as_its_step_decided_fails_the_whole_batch(app: &TestApp) {
        let k = Kit::new(app);
        let (_, a) = k.return_in("received");
        let (_, b) = k.whole_return();
        let skip = match app.backend {
            Backend::Sqlite => format!(
                "CREATE TRIGGER skip_b BEFORE UPDATE ON returns WHEN OLD.id = '{b}' BEGIN SELECT RAISE(IGNORE); END;"
            ),
            Backend::Postgres => format!(
                "CREATE FUNCTION skip_b() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.id = '{b}' THEN RETURN NULL; END IF; RETURN NEW; END $$; \
                 CREATE TRIGGER skip_b BEFORE UPDATE ON returns FOR EACH ROW EXECUTE FUNCTION skip_b();"
            ),
        };
        app.db.sql(&skip).expect("the trigger");
        let head = app.head();
        let (replies, _) = in_one_batch(
            app,
            vec![
                Box::new(|| k.sort(&a, &[(1, 3), (2, 2)], "pending_inspection")),
                Box::new(|| k.receive(&b)),
            ],
        );
        replies[0].assert_problem(503, "unavailable");
        assert!(replies[1].status >= 400, "{}", replies[1].text);
        assert_eq!(k.state(&a), "received");
        assert_eq!(k.state(&b), "declared");
        assert_eq!(app.head(), head, "no audit entry was kept");
        app.db
            .sql("DROP TRIGGER skip_b ON returns")
            .or_else(|_| app.db.sql("DROP TRIGGER skip_b"))
            .expect("the trigger goes");
        k.sort(&a, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        k.receive(&b).assert_status(200);
        assert!(app.verify(None).ok, "the chain holds");
    }
}

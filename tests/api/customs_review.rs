//! Customs review (GACC 2021 No.70 Art.4): every floor step names the camera that filmed it and
//! links to its footage; the log is searched by waybill, list, order, barcode, HS code and
//! camera; time bounds include what they show; exports open right in a spreadsheet.

use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::*;

/// The entries of a return, oldest first, as the audit API gives them.
fn entries(k: &Kit, id: &str) -> Vec<Value> {
    let mut e = k.app.audit_entries(&k.sup, &format!("&entity={id}"));
    e.reverse();
    e
}

fn entry<'a>(entries: &'a [Value], action: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} among {entries:#?}"))
}

fn at(e: &Value) -> DateTime<Utc> {
    time(&e["at"])
}

both! {
    fn every_floor_step_names_the_camera_over_its_area_with_bin_area_and_quantity(app: &TestApp) {
        let k = Kit::new(app);
        let a = k.seed.a.clone();
        let (_, id) = k.return_in("inspected");
        k.restock(&id, 1, 2).assert_status(200);
        k.dispose(&id, 2, 1, "exit").assert_status(200);
        let e = entries(&k, &id);
        for (action, camera, area) in [
            ("return.receive", a.camera.clone(), None),
            ("return.sort", a.camera.clone(), Some("receiving")),
            ("return.inspect", area_camera(&a.warehouse, "pending_inspection"), Some("pending_inspection")),
            ("return.restock", area_camera(&a.warehouse, "restock"), Some("restock")),
            ("return.dispose", area_camera(&a.warehouse, "exit"), Some("exit")),
        ] {
            let x = entry(&e, action);
            assert_eq!(x["camera"], camera.as_str(), "{action}: {x}");
            if let Some(area) = area {
                assert_eq!(x["area"], area, "{action}: {x}");
            }
            // The window: 30 s before to 90 s after, in China time.
            let f = &x["footage"];
            assert_eq!(f["camera"], camera.as_str());
            assert_eq!(time(&f["from"]), at(x) - Duration::seconds(30), "{action}: {f}");
            assert_eq!(time(&f["to"]), at(x) + Duration::seconds(90), "{action}: {f}");
            assert!(f["from"].as_str().unwrap().ends_with("+08:00"), "{f}");
            assert_eq!(f["url"], Value::Null, "no playback link is set");
        }
        let restock = entry(&e, "return.restock");
        assert_eq!(restock["bin"], a.bin("restock"));
        assert_eq!(restock["quantity"], 2);
        assert_eq!(entry(&e, "return.dispose")["quantity"], 1);
        assert_eq!(entry(&e, "return.sort")["quantity"], 5);
        assert_eq!(entry(&e, "return.sort")["bin"], a.bin("pending_inspection"));
        // The return's own history carries the footage too.
        let history = k.view(&id)["history"].as_array().cloned().unwrap();
        let restocked = history.iter().find(|h| h["action"] == "return.restock").unwrap();
        assert_eq!(restocked["footage"]["camera"], area_camera(&a.warehouse, "restock").as_str());
        // Searched by camera: its steps only.
        let by_camera = app.audit_entries(&k.sup, &format!("&camera={}", area_camera(&a.warehouse, "restock")));
        assert!(!by_camera.is_empty());
        assert!(by_camera.iter().all(|x| x["camera"] == area_camera(&a.warehouse, "restock").as_str()), "{by_camera:#?}");
    }

    fn a_step_in_an_area_no_camera_covers_is_refused_and_changes_nothing(app: &TestApp) {
        let k = Kit::new(app);
        let a = k.seed.a.clone();
        let (_, id) = k.return_in("sorted");
        app.db
            .sql(&format!("DELETE FROM cameras WHERE warehouse_code = '{}' AND area = 'pending_inspection'", a.warehouse))
            .expect("the camera is taken down");
        let before = k.snapshot(&[&id]);
        let r = k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]);
        r.assert_problem(409, "no_camera_coverage");
        assert_eq!(r.json["area"], "pending_inspection");
        assert!(r.json["detail"].as_str().unwrap().contains("pending_inspection"), "{}", r.text);
        k.assert_unchanged(&before, &[&id]);
        // Once a camera covers it again, the step goes through, filmed by that camera.
        app.post_json(
            &app.admin(),
            &format!("/api/v1/warehouses/{}/cameras", a.warehouse),
            &json!({"code": "CAM-NEW-INSP", "name": "查验台", "area": "pending_inspection"}),
        )
        .assert_status(201);
        k.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]).assert_status(200);
        assert_eq!(entry(&entries(&k, &id), "return.inspect")["camera"], "CAM-NEW-INSP");
    }

    fn a_footage_link_carries_the_window_in_each_template_format(app: &TestApp) {
        let k = Kit::new(app);
        let a = k.seed.a.clone();
        let admin = app.admin();
        // An admin's template is checked.
        for bad in ["ftp://nvr/{start}", "http://nvr/{begin}", "javascript:alert(1)"] {
            let r = app.post_json(
                &admin,
                &format!("/api/v1/warehouses/{}/cameras", a.warehouse),
                &json!({"code": "CAM-BAD", "name": "x", "area": "restock", "playback_url": bad}),
            );
            r.assert_problem(400, "validation");
            assert_eq!(r.json["errors"][0]["field"], "playback_url", "{bad}");
        }
        let template = "https://nvr.example/pb?ch=3&s={start}&e={end}&si={start_iso}&ei={end_iso}&se={start_epoch}&ee={end_epoch}";
        let made = app.post_json(
            &admin,
            &format!("/api/v1/warehouses/{}/cameras", a.warehouse),
            &json!({"code": "CAM-A-0RST", "name": "上架区回放", "area": "restock", "playback_url": template}),
        );
        made.assert_status(201);
        assert_eq!(made.json["playback_url"], template);
        let (_, id) = k.return_in("inspected");
        k.restock(&id, 1, 1).assert_status(200);
        let e = entries(&k, &id);
        let x = entry(&e, "return.restock");
        // The first camera over the area by code films the step.
        assert_eq!(x["camera"], "CAM-A-0RST");
        let (from, to) = (at(x) - Duration::seconds(30), at(x) + Duration::seconds(90));
        let cn = |t: DateTime<Utc>| t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).format("%Y-%m-%dT%H:%M:%S%%2B08:00").to_string();
        let expected = format!(
            "https://nvr.example/pb?ch=3&s={}&e={}&si={}&ei={}&se={}&ee={}",
            from.format("%Y%m%dT%H%M%SZ"),
            to.format("%Y%m%dT%H%M%SZ"),
            cn(from),
            cn(to),
            from.timestamp(),
            to.timestamp()
        );
        assert_eq!(x["footage"]["url"], expected.as_str());
        let history = k.view(&id)["history"].as_array().cloned().unwrap();
        let h = history.iter().find(|h| h["action"] == "return.restock").unwrap();
        assert_eq!(h["footage"]["url"], expected.as_str());
    }

    fn the_log_is_searched_by_waybill_list_order_barcode_and_hs_code(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("sorted");
        let (_, other) = k.return_in("received");
        let line = l.line(1).clone();
        let mut terms = vec![l.waybill.clone(), l.invt_no.clone(), l.order_no.clone(), line.gcode.clone()];
        if let Some(b) = line.bar_code.clone() {
            terms.push(b);
        }
        for term in terms {
            let found = app.audit_entries(&k.sup, &format!("&search={term}"));
            let ids: Vec<&str> = found.iter().filter_map(|e| e["entity_id"].as_str()).collect();
            for action in ["return.apply", "return.receive", "return.sort"] {
                assert!(
                    found.iter().any(|e| e["entity_id"] == id.as_str() && e["action"] == action),
                    "{term}: no {action} of {id} in {ids:?}"
                );
            }
            // A waybill, list or order number is this parcel's alone.
            if term == l.waybill || term == l.invt_no || term == l.order_no {
                assert!(!ids.contains(&other.as_str()), "{term} found {other}");
            }
        }
        assert!(app.audit_entries(&k.sup, "&search=SF000000000000").is_empty());
        app.get(&k.sup, &format!("/api/v1/audit?search={}", "9".repeat(65))).assert_problem(400, "validation");
        app.get(&k.sup, "/api/v1/audit?camera=%25%27").assert_problem(400, "validation");
    }

    fn a_minute_bound_includes_that_whole_minute(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        let e = entries(&k, &id);
        let x = entry(&e, "return.receive");
        let t = at(x);
        // The minute the entry is shown in, as a bound in China time: from and to that minute.
        let minute = t.with_second(0).unwrap().with_nanosecond(0).unwrap();
        let shown = |m: DateTime<Utc>| m.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).to_rfc3339();
        let bound = shown(minute).replace('+', "%2B");
        let found = app.audit_entries(&k.sup, &format!("&entity={id}&from={bound}&to={bound}"));
        assert!(found.iter().any(|f| f["seq"] == x["seq"]), "to {} missed an entry at {t}", shown(minute));
        // A bound to the second includes that second; the second before excludes it.
        let second = t.with_nanosecond(0).unwrap();
        let found = app.audit_entries(&k.sup, &format!("&entity={id}&to={}", shown(second).replace('+', "%2B")));
        assert!(found.iter().any(|f| f["seq"] == x["seq"]));
        let before = shown(second - Duration::seconds(1)).replace('+', "%2B");
        let found = app.audit_entries(&k.sup, &format!("&entity={id}&action=return.receive&to={before}"));
        assert!(found.is_empty(), "{found:#?}");
    }

    fn a_request_id_that_is_not_an_id_is_not_kept(app: &TestApp) {
        let admin = app.admin();
        for (n, (sent, kept)) in [("=1+1", false), ("-2", false), ("@SUM(A1)", false), ("<b>x</b>", false), ("scanner-7:42", true)]
            .into_iter()
            .enumerate()
        {
            let r = app.send(
                admin
                    .post(app.url("/api/v1/enterprises"))
                    .header("x-request-id", sent)
                    .json(&json!({"code": format!("44019602{n:02}"), "name": "报关行", "kinds": ["agent"]})),
            );
            r.assert_status(201);
            let e = app.get(&admin, "/api/v1/audit?limit=1");
            let stored = e.json["items"][0]["request_id"].as_str().unwrap_or("").to_string();
            assert_eq!(stored == sent, kept, "{sent} → {stored}");
            assert!(!stored.is_empty());
        }
    }
}

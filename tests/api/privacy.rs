//! The buyer's identity number and telephone: masked for floor staff, in clear for
//! supervisors, and never written into the audit log or quoted in an error.

use chrono::Duration;
use serde_json::json;

use crate::flowkit::*;

both! {
    fn floor_staff_see_the_buyers_id_number_and_phone_masked_and_supervisors_in_clear(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("received");
        let floor = app.get(&k.floor_a, &format!("/api/v1/returns/{id}"));
        floor.assert_status(200);
        assert_eq!(
            floor.json["buyer"],
            json!({"name": "张*", "id_number": "5**************234", "telephone": "1*******000"})
        );
        assert!(!floor.text.contains(BUYER_ID) && !floor.text.contains(BUYER_PHONE), "{}", floor.text);
        let d = app.get(&k.floor_a, &format!("/api/v1/declarations/{}", l.invt_no));
        d.assert_status(200);
        assert!(!d.text.contains(BUYER_ID) && !d.text.contains(BUYER_PHONE), "{}", d.text);
        assert_eq!(d.json["buyer"]["id_number"], "5**************234");
        // Another warehouse's floor staff may not read the list (nor learn that it exists).
        let other = app.get(&k.floor_b, &format!("/api/v1/declarations/{}", l.invt_no));
        other.assert_problem(404, "not_found");
        let unknown = app.get(&k.floor_b, "/api/v1/declarations/NO-SUCH-LIST");
        assert_eq!(other.json["detail"].as_str().map(|d| d.replace(&l.invt_no, "X")), unknown.json["detail"].as_str().map(|d| d.replace("NO-SUCH-LIST", "X")));
        for path in [format!("/api/v1/scan/{id}"), format!("/api/v1/scan/{}", l.waybill), "/api/v1/returns".to_string()] {
            let r = app.get(&k.floor_a, &path);
            r.assert_status(200);
            assert!(!r.text.contains(BUYER_ID) && !r.text.contains(BUYER_PHONE), "{path}: {}", r.text);
        }

        let sup = app.get(&k.sup, &format!("/api/v1/returns/{id}"));
        assert_eq!(sup.json["buyer"], json!({"name": BUYER_NAME, "id_number": BUYER_ID, "telephone": BUYER_PHONE}));
        // The customs message carries them: that is where they must go.
        let xml = app.get(&k.sup, &format!("/api/v1/returns/{id}/ceb625.xml"));
        assert!(xml.text.contains(BUYER_ID) && xml.text.contains(BUYER_PHONE));
    }

    fn the_buyers_id_number_and_phone_never_appear_in_clear_in_the_audit_log_or_an_error(app: &TestApp) {
        let k = Kit::new(app);
        // Every kind of change a return goes through, from JSON and from XML.
        let (_, id) = k.return_in("inspected");
        k.hold(&id).assert_status(200);
        k.release(&id).assert_status(200);
        k.restock(&id, 1, 3).assert_status(200);
        k.dispose(&id, 2, 2, "destroy").assert_status(200);
        let d = app.get(&k.sup, "/api/v1/disposals").json["items"][0]["id"].as_i64().unwrap();
        app.post_json(&k.sup, &format!("/api/v1/disposals/{d}/approve"), &json!({"reason": "监督销毁"})).assert_status(200);
        let l = k.released();
        let application = l.invt_refund(&[(1, 1)], now() - Duration::hours(1));
        k.import(&k.admin, ceb625(std::slice::from_ref(&application))).assert_status(200);
        // A rejected application quotes field names, never the values.
        let sample = std::fs::read_to_string(format!("{}/tests/fixtures/customs/ceb625_sample.xml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let long_id = format!("{BUYER_ID}{}", "9".repeat(50));
        let hostile = sample.replace(BUYER_ID, &long_id);
        let r = k.import(&k.admin, hostile);
        r.assert_status(200);
        assert!(r.json["rejected"].as_u64().unwrap() >= 1, "{}", r.text);
        assert!(!r.text.contains(BUYER_ID), "an error quoted the identity number: {}", r.text);

        let entries = k.all_entries();
        assert!(entries.iter().any(|e| e.action == "return.apply"));
        for e in &entries {
            for text in [Some(e.changes.as_str()), e.reason.as_deref(), Some(e.entity_id.as_str())].into_iter().flatten() {
                assert!(!text.contains(BUYER_ID) && !text.contains(BUYER_PHONE), "audit entry #{} {}: {text}", e.seq, e.action);
            }
        }
        for path in ["/api/v1/audit?limit=500", "/api/v1/audit/export.csv"] {
            let r = app.get(&k.sup, path);
            r.assert_status(200);
            assert!(!r.text.contains(BUYER_ID) && !r.text.contains(BUYER_PHONE), "{path}");
        }
    }
}

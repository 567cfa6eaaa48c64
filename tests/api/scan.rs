//! "What did I just scan?": a return label, a waybill, a product barcode or HS code within
//! the open return, a product barcode on its own, an item label, a bin label — or nothing
//! known (404). Floor staff never learn about another warehouse's parcels, products or bins
//! this way.

use serde_json::json;

use crate::flowkit::*;

both! {
    fn every_kind_of_label_resolves_to_what_it_is_and_the_next_sensible_actions(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("received");
        let scan = |code: &str| app.get(&k.floor_a, &format!("/api/v1/scan/{code}"));

        let r = scan(&id);
        r.assert_status(200);
        assert_eq!((r.json["kind"].as_str(), r.json["id"].as_str()), (Some("return"), Some(id.as_str())));
        assert_eq!(r.json["return"]["state"], "received");
        assert_eq!(r.json["next_actions"], json!(["sort", "print_label"]));
        // Scanners may send lower case.
        assert_eq!(scan(&id.to_ascii_lowercase()).json["kind"], "return");

        let r = scan(&l.waybill);
        r.assert_status(200);
        assert_eq!(r.json["kind"], "waybill");
        assert_eq!(r.json["return"]["id"], id.as_str());

        // A product barcode or HS code, within the open return.
        let r = app.get(&k.floor_a, &format!("/api/v1/scan/{BARCODE_1}?return={id}"));
        r.assert_status(200);
        assert_eq!(r.json["kind"], "product");
        assert_eq!(r.json["line"], json!({"gnum": 1, "gcode": GCODE_1, "gname": "保湿面霜"}));
        assert_eq!(r.json["return"]["id"], id.as_str());
        let r = app.get(&k.floor_a, &format!("/api/v1/scan/{GCODE_2}?return={id}"));
        r.assert_status(200);
        assert_eq!((r.json["kind"].as_str(), r.json["line"]["gnum"].as_i64()), (Some("product"), Some(2)));
        // Without the open return a product barcode says what it is, and no return is guessed
        // for it: the same product may be in several parcels.
        let r = scan(BARCODE_1);
        r.assert_status(200);
        assert_eq!(r.json["kind"], "product");
        assert_eq!(r.json["id"], BARCODE_1);
        assert_eq!(r.json["line"], json!({"gnum": 1, "gcode": GCODE_1, "gname": "保湿面霜"}));
        assert_eq!((&r.json["return"], &r.json["next_actions"]), (&json!(null), &json!([])));
        // An HS code on its own names no product (many products share one).
        scan(GCODE_1).assert_problem(404, "not_found");
        // A product that is on the list but not in this return is not "in the return".
        let l2 = k.released();
        let only_soap = k.new_return(&l2, &[(2, 1)]);
        app.get(&k.floor_a, &format!("/api/v1/scan/{BARCODE_1}?return={only_soap}"))
            .assert_problem(404, "not_found");

        // An item label: owner-gcode-return-gnum.
        let label = format!("{}-{GCODE_1}-{id}-1", l.ebc);
        let r = scan(&label);
        r.assert_status(200);
        assert_eq!(r.json["kind"], "item");
        assert_eq!(r.json["line"]["gnum"], 1);
        assert_eq!(r.json["return"]["id"], id.as_str());
        scan(&format!("{}-{GCODE_2}-{id}-1", l.ebc)).assert_problem(404, "not_found");
        scan(&format!("{}-{GCODE_1}-{id}-7", l.ebc)).assert_problem(404, "not_found");
        // A label naming another owner is not this item's label.
        scan(&format!("91440300MA5F000009-{GCODE_1}-{id}-1")).assert_problem(404, "not_found");

        // A bin label, with what is done there.
        for (area, next) in [("restock", json!(["restock"])), ("exit", json!(["dispose"])), ("discrepancy", json!(["sort"])), ("receiving", json!(["receive"]))] {
            let bin = k.seed.a.bin(area);
            let r = scan(&bin.to_ascii_lowercase());
            r.assert_status(200);
            assert_eq!(r.json["kind"], "bin");
            assert_eq!(r.json["bin"], json!({"warehouse": "WH-A", "code": bin, "area": area}));
            assert_eq!(r.json["next_actions"], next);
        }

        // Nothing known.
        let r = scan("SF000000000000");
        r.assert_problem(404, "not_found");
        scan("RT20991231000001").assert_problem(404, "not_found");
        app.get(&k.floor_a, &format!("/api/v1/scan/{}", "9".repeat(101))).assert_problem(400, "validation");
        // Scanning changes nothing.
        assert!(app.verify(None).ok);
    }

    fn floor_staff_cannot_resolve_another_warehouses_return_waybill_item_or_bin(app: &TestApp) {
        let k = Kit::new(app);
        let (l, declared) = k.return_in("declared");
        let (l2, received) = k.return_in("received");
        let b = &k.floor_b;
        for code in [
            declared.clone(),
            l.waybill.clone(),
            received.clone(),
            l2.waybill.clone(),
            format!("{}-{GCODE_1}-{received}-1", l2.ebc),
            k.seed.a.bin("restock").to_string(),
        ] {
            app.get(b, &format!("/api/v1/scan/{code}")).assert_problem(404, "not_found");
        }
        app.get(b, &format!("/api/v1/scan/{BARCODE_1}?return={received}")).assert_problem(404, "not_found");
        // A product known only from another warehouse's returns is not theirs to learn of.
        app.get(b, &format!("/api/v1/scan/{BARCODE_1}")).assert_problem(404, "not_found");
        assert_eq!(app.get(&k.sup, &format!("/api/v1/scan/{BARCODE_1}")).json["kind"], "product");
        // Their own bins resolve; a supervisor resolves everything.
        assert_eq!(app.get(b, &format!("/api/v1/scan/{}", k.seed.b.bin("restock"))).json["kind"], "bin");
        for code in [&declared, &received, &l2.waybill] {
            app.get(&k.sup, &format!("/api/v1/scan/{code}")).assert_status(200);
        }
    }
}

//! The handheld's local copy (`GET /api/v1/handheld/snapshot`): a warehouse's open work with
//! lines, barcodes, HS codes and names, bins and cameras, and nothing about the buyer; bounded
//! in number and age; kept up to date by a cursor that also says what to drop; and only for
//! the warehouse's own floor staff (or a supervisor or admin naming it).

use serde_json::{json, Value};

use crate::flowkit::*;
use crate::support::Backend;

const SNAPSHOT: &str = "/api/v1/handheld/snapshot";

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["id"].as_str().or(r.as_str()).expect("an id").to_string())
        .collect()
}

fn returned<'a>(snap: &'a Value, id: &str) -> &'a Value {
    snap["returns"]
        .as_array()
        .expect("returns")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the copy: {snap}"))
}

/// A whole-list return of a list addressed to warehouse B's operator, declared by B's staff.
fn return_of_b(k: &Kit) -> (List, String) {
    let mut l = k.list();
    l.area = k.seed.b.operator.clone();
    k.declare(&l);
    let r = k.apply_as(&k.floor_b, &l, &[(1, 3), (2, 2)]);
    r.assert_status(201);
    (l, r.json["id"].as_str().expect("an id").to_string())
}

both! {
    fn the_copy_holds_the_open_returns_of_the_warehouse_with_their_lines_bins_and_cameras_and_nothing_of_the_buyer(app: &TestApp) {
        let k = Kit::new(app);
        let (declared_list, declared) = k.return_in("declared");
        let (_, received) = k.return_in("received");
        let (_, sorted) = k.return_in("sorted");
        let (_, inspected) = k.return_in("inspected");
        let (_, held) = k.return_in("received");
        k.hold(&held).assert_status(200);
        // Closed: everything restocked.
        let (_, closed) = k.return_in("inspected");
        k.restock(&closed, 1, 3).assert_status(200);
        k.restock(&closed, 2, 2).assert_status(200);
        assert_eq!(k.state(&closed), "closed");
        let (_, of_b) = return_of_b(&k);

        let r = app.get(&k.floor_a, SNAPSHOT);
        r.assert_status(200);
        let s = &r.json;
        assert_eq!(s["full"], true);
        assert_eq!(s["truncated"], false);
        assert_eq!(s["warehouse"]["code"], "WH-A");
        assert_eq!(s["warehouse"]["excluded"], Value::Null);
        assert_eq!(s["cursor"].as_i64(), Some(app.head().seq), "the cursor is the chain's head");
        assert_eq!(s["limits"], json!({"max_returns": 2000, "max_age_days": 60}));
        let mut got = ids(&s["returns"]);
        let mut want = vec![declared.clone(), received.clone(), sorted.clone(), inspected.clone(), held.clone()];
        want.sort();
        want.reverse();
        assert_eq!(got, want, "the open returns of A, newest first");
        got.sort();
        assert!(!got.contains(&closed) && !got.contains(&of_b));
        assert_eq!(s["removed"], json!([]));

        // What the step screens need, as GET /returns/{id} says it.
        let d = returned(s, &declared);
        assert_eq!(d["state"], "declared");
        assert_eq!(d["logistics_no"], declared_list.waybill.as_str());
        assert_eq!(d["invt_no"], declared_list.invt_no.as_str());
        assert_eq!(d["ebc"]["code"], declared_list.ebc.as_str());
        assert_eq!(d["agent"]["code"], declared_list.agent.as_str());
        assert_eq!(d["next_actions"], json!(["receive"]));
        assert_eq!(d["excluded"], Value::Null);
        assert_eq!(d["lines"][0]["gnum"], 1);
        assert_eq!(d["lines"][0]["gcode"], GCODE_1);
        assert_eq!(d["lines"][0]["gname"], "保湿面霜");
        assert_eq!(d["lines"][0]["bar_code"], BARCODE_1);
        assert_eq!(d["lines"][1]["gcode"], GCODE_2);
        assert_eq!(d["lines"][1]["bar_code"], Value::Null);
        let full = k.view(&inspected);
        let i = returned(s, &inspected);
        assert_eq!(i["lines"], full["lines"]);
        assert_eq!(i["next_actions"], full["next_actions"]);
        assert_eq!(i["arrival_deadline"], full["arrival_deadline"]);
        assert_eq!(returned(s, &sorted)["bin"], k.seed.a.bin("pending_inspection"));
        assert_eq!(returned(s, &held)["state"], "held");
        assert_eq!(returned(s, &received)["warehouse"], "WH-A");

        // Bins and cameras of A only.
        let bins: Vec<(String, String)> = s["bins"].as_array().expect("bins").iter()
            .map(|b| (b["area"].as_str().unwrap_or("").to_string(), b["code"].as_str().unwrap_or("").to_string()))
            .collect();
        let mut seeded = k.seed.a.bins.clone();
        seeded.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(bins, seeded);
        let cameras = s["cameras"].as_array().expect("cameras");
        assert_eq!(cameras.len(), 6);
        assert!(cameras.iter().any(|c| c == &json!({"code": k.seed.a.camera, "name": "收货台摄像头", "area": "receiving"})));

        // Nothing about the buyer, the order or the reason, anywhere in it (supervisors' copies
        // are the same).
        let sup = app.get(&k.sup, &format!("{SNAPSHOT}?warehouse=WH-A"));
        sup.assert_status(200);
        assert_eq!(ids(&sup.json["returns"]), ids(&s["returns"]));
        for text in [&r.text, &sup.text] {
            for secret in [BUYER_ID, BUYER_PHONE, BUYER_NAME, "张", "buyer", "id_number", "telephone", &declared_list.order_no, "order_no", "七天无理由", "reason"] {
                assert!(!text.contains(secret), "the copy mentions {secret:?}: {text}");
            }
        }
        // Reading changes nothing.
        assert_eq!(r.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        assert!(app.verify(None).ok);
    }

    fn since_a_cursor_the_copy_brings_what_changed_and_what_to_drop(app: &TestApp) {
        let k = Kit::new(app);
        let (_, to_receive) = k.return_in("declared");
        let (_, to_close) = k.return_in("inspected");
        let (_, untouched) = k.return_in("sorted");
        let first = app.get(&k.floor_a, SNAPSHOT);
        first.assert_status(200);
        let c1 = first.json["cursor"].as_i64().expect("a cursor");

        // Nothing happened: nothing to change, bins and cameras unchanged.
        let same = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c1}"));
        same.assert_status(200);
        assert_eq!((same.json["full"].clone(), same.json["cursor"].as_i64()), (json!(false), Some(c1)));
        assert_eq!((same.json["returns"].clone(), same.json["removed"].clone()), (json!([]), json!([])));
        assert_eq!((same.json["bins"].clone(), same.json["cameras"].clone()), (Value::Null, Value::Null));

        // Received, closed, new; another warehouse's work; a new bin of A.
        k.receive(&to_receive).assert_status(200);
        k.restock(&to_close, 1, 3).assert_status(200);
        k.restock(&to_close, 2, 2).assert_status(200);
        let (_, new) = k.return_in("declared");
        let (_, of_b) = return_of_b(&k);
        app.post_json(&k.admin, "/api/v1/warehouses/WH-A/bins", &json!({"code": "A-RESTOCK-09", "area": "restock"}))
            .assert_status(201);
        let next = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c1}"));
        next.assert_status(200);
        let s = &next.json;
        assert_eq!(s["full"], false);
        let c2 = s["cursor"].as_i64().expect("a cursor");
        assert!(c2 > c1);
        assert_eq!(c2, app.head().seq);
        let mut want = vec![new.clone(), to_receive.clone()];
        want.sort();
        want.reverse();
        assert_eq!(ids(&s["returns"]), want, "{s}");
        assert_eq!(returned(s, &to_receive)["state"], "received");
        assert_eq!(returned(s, &to_receive)["next_actions"], json!(["sort", "print_label"]));
        assert_eq!(s["removed"], json!([to_close]));
        assert!(!next.text.contains(&of_b) && !next.text.contains(&untouched), "{s}");
        assert!(s["bins"].as_array().expect("bins").iter().any(|b| b["code"] == "A-RESTOCK-09"));
        assert_eq!(s["cameras"].as_array().map(Vec::len), Some(6));

        // From the new cursor: nothing again. B's staff see their own return come and go.
        let after = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c2}"));
        assert_eq!((after.json["returns"].clone(), after.json["removed"].clone()), (json!([]), json!([])));
        let b = app.get(&k.floor_b, &format!("{SNAPSHOT}?since={c1}"));
        b.assert_status(200);
        assert_eq!(ids(&b.json["returns"]), vec![of_b.clone()]);
        assert_eq!(b.json["bins"], Value::Null, "A's new bin is not B's business");

        // A return received in another warehouse leaves A's copy (it was addressed to A's
        // operator while declared; here B's operator receives lists for A too).
        app.post_json(&k.admin, "/api/v1/warehouses", &json!({"code": "WH-A2", "name": "甲二号仓", "operator": k.seed.a.operator, "zone": "西永"}))
            .assert_status(201);
        app.post_json(&k.admin, "/api/v1/warehouses/WH-A2/bins", &json!({"code": "A2-RCV-01", "area": "receiving"}))
            .assert_status(201);
        app.post_json(&k.admin, "/api/v1/warehouses/WH-A2/cameras", &json!({"code": "CAM-A2", "name": "收货台", "area": "receiving"}))
            .assert_status(201);
        let floor_a2 = app.user_client("floor", Some("WH-A2"));
        let c3 = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c2}")).json["cursor"].as_i64().expect("a cursor");
        k.step(&floor_a2, &new, "receive", &json!({"warehouse": "WH-A2", "camera": "CAM-A2"})).assert_status(200);
        let moved = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c3}"));
        assert_eq!(moved.json["removed"], json!([new]), "{}", moved.text);
        assert_eq!(moved.json["returns"], json!([]));
        assert!(ids(&app.get(&floor_a2, SNAPSHOT).json["returns"]).contains(&new));

        // A cursor from another database (ahead of this chain) gets the whole copy again; so does
        // a change of rating (which returns it touches is not worked out).
        let ahead = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={}", c2 + 1_000_000));
        ahead.assert_status(200);
        assert_eq!(ahead.json["full"], true);
        assert!(ahead.json["bins"].is_array());
        let c4 = ahead.json["cursor"].as_i64().expect("a cursor");
        k.enterprise(AGENT, &["agent"]);
        k.rate(AGENT, "dishonest", None).assert_status(201);
        let rated = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c4}"));
        assert_eq!(rated.json["full"], true);
        let excluded = &returned(&rated.json, &untouched)["excluded"];
        assert_eq!((excluded["party"].as_str(), excluded["code"].as_str(), excluded["rating"].as_str()), (Some("agent"), Some(AGENT), Some("dishonest")));
        assert!(app.verify(None).ok);
    }

    fn the_copy_is_bounded_to_the_newest_2000_open_returns_of_the_last_60_days(app: &TestApp) {
        let k = Kit::new(app);
        let (l, recent) = k.return_in("received");
        let (_, old) = k.return_in("declared");
        // Applied 61 days ago and never received: too old to keep.
        let long_ago = (now() - chrono::Duration::days(61)).naive_utc().format("%Y-%m-%d %H:%M:%S");
        app.db.sql(&format!("UPDATE returns SET applied_at = '{long_ago}' WHERE id = '{old}'")).expect("the return is made old");
        // 2,000 more open returns of the same list, straight into the table (declared, no lines).
        let series = match app.backend {
            Backend::Sqlite => "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
                 SELECT 'RT2099' || printf('%010d', i) AS id, i FROM n",
            Backend::Postgres => "SELECT 'RT2099' || lpad(i::text, 10, '0') AS id, i FROM generate_series(1, 2000) AS i",
        };
        app.db.sql(&format!(
            "INSERT INTO returns (id, guid, invt_no, logistics_no, reason, state, late, discrepancy, applied_at, created_by) \
             SELECT s.id, 'GUID-' || s.id, '{}', 'SFBULK' || s.id, '七天无理由退货', 'declared', false, false, r.applied_at, 'test' \
             FROM ({series}) s, returns r WHERE r.id = '{recent}'",
            l.invt_no
        )).expect("the returns are made");

        let full = app.get(&k.floor_a, SNAPSHOT);
        full.assert_status(200);
        assert_eq!(full.json["truncated"], true);
        let got = ids(&full.json["returns"]);
        assert_eq!(got.len(), 2000);
        assert_eq!(got[0], "RT20990000002000", "newest first");
        assert_eq!(got[1999], "RT20990000000001");
        assert!(!got.contains(&recent), "the newest 2,000 are kept: {recent} is older");
        assert!(!got.contains(&old));

        // Without the bulk, the old one is still left out, and the recent one is in.
        app.db.sql("DELETE FROM returns WHERE id LIKE 'RT2099%'").expect("the bulk goes");
        let s = app.get(&k.floor_a, SNAPSHOT);
        assert_eq!(s.json["truncated"], false);
        assert_eq!(ids(&s.json["returns"]), vec![recent.clone()]);
        // A change to a return that is too old makes the device drop it.
        let c = s.json["cursor"].as_i64().expect("a cursor");
        k.receive(&old).assert_status(200);
        app.db.sql(&format!("UPDATE returns SET received_at = '{long_ago}' WHERE id = '{old}'")).expect("received long ago");
        let changed = app.get(&k.floor_a, &format!("{SNAPSHOT}?since={c}"));
        assert_eq!(changed.json["removed"], json!([old]), "{}", changed.text);
    }

    fn only_a_warehouses_own_floor_staff_or_a_supervisor_or_admin_naming_it_take_its_copy(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        // Anonymous.
        app.get(&app.client(), SNAPSHOT).assert_problem(401, "unauthenticated");
        // Floor staff: their own warehouse, named or not, in any case.
        for q in ["", "?warehouse=WH-A", "?warehouse=wh-a", "?warehouse=%20WH-A%20"] {
            let r = app.get(&k.floor_a, &format!("{SNAPSHOT}{q}"));
            r.assert_status(200);
            assert_eq!(ids(&r.json["returns"]), vec![id.clone()], "{q}");
        }
        // Another warehouse's staff are refused, and learn nothing of A's work.
        let r = app.get(&k.floor_b, &format!("{SNAPSHOT}?warehouse=WH-A"));
        r.assert_problem(403, "forbidden");
        assert!(!r.text.contains(&id));
        let own = app.get(&k.floor_b, SNAPSHOT);
        own.assert_status(200);
        assert_eq!(own.json["warehouse"]["code"], "WH-B");
        assert_eq!(own.json["returns"], json!([]));
        // Supervisors and admins name a warehouse that exists.
        app.get(&k.sup, SNAPSHOT).assert_problem(400, "validation");
        app.get(&k.admin, &format!("{SNAPSHOT}?warehouse=WH-NONE")).assert_problem(404, "not_found");
        assert_eq!(ids(&app.get(&k.admin, &format!("{SNAPSHOT}?warehouse=WH-A")).json["returns"]), vec![id.clone()]);
        // A cursor is a number, 0 or more; nothing else is taken.
        for q in ["?since=-1", "?since=abc", "?since=1.5", "?cursor=1"] {
            app.get(&k.floor_a, &format!("{SNAPSHOT}{q}")).assert_problem(400, "validation");
        }
        let zero = app.get(&k.floor_a, &format!("{SNAPSHOT}?since=0"));
        zero.assert_status(200);
        assert_eq!(ids(&zero.json["returns"]), vec![id.clone()]);
    }
}

both! {
    fn the_app_is_installable_and_its_files_carry_one_build_and_revalidate(app: &TestApp) {
        let client = app.client();
        let page = app.get(&client, "/");
        page.assert_status(200);
        let build = page.headers.get("x-ui-build").and_then(|v| v.to_str().ok()).expect("the build").to_string();
        assert!(build.len() == 16 && build.chars().all(|c| c.is_ascii_hexdigit()), "{build}");
        // The page knows its build, and links the manifest.
        assert!(page.text.contains(&format!("<meta name=\"ui-build\" content=\"{build}\">")), "{}", page.text);
        assert!(page.text.contains("rel=\"manifest\" href=\"/manifest.webmanifest\""));

        // The manifest: installable, standalone, Chinese, with the icons it names.
        let m = app.get(&client, "/manifest.webmanifest");
        m.assert_status(200);
        assert_eq!(m.content_type, "application/manifest+json");
        let manifest: Value = serde_json::from_str(&m.text).expect("the manifest is JSON");
        assert_eq!((manifest["display"].as_str(), manifest["lang"].as_str()), (Some("standalone"), Some("zh-CN")));
        assert_eq!(manifest["name"], "跨境电商退货中心仓");
        assert!(manifest["start_url"].as_str().is_some_and(|s| s.starts_with('/')));
        let mut sizes = Vec::new();
        for icon in manifest["icons"].as_array().expect("icons") {
            let src = icon["src"].as_str().expect("a src");
            let png = app.get(&client, src);
            png.assert_status(200);
            assert_eq!(png.content_type, "image/png", "{src}");
            sizes.push((icon["sizes"].as_str().unwrap_or("").to_string(), icon["purpose"].as_str().unwrap_or("").to_string()));
        }
        for want in [("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")] {
            assert!(sizes.contains(&(want.0.to_string(), want.1.to_string())), "{sizes:?}");
        }

        // The worker: the build and every file of it, revalidated each time.
        let sw = app.get(&client, "/sw.js");
        sw.assert_status(200);
        assert_eq!(sw.content_type, "text/javascript");
        assert_eq!(sw.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-cache"));
        assert!(sw.text.contains(&format!("const BUILD = '{build}';")), "{}", sw.text);
        let files_line = sw.text.lines().find(|l| l.starts_with("const FILES = ")).expect("the list of files");
        let files: Vec<String> = serde_json::from_str(files_line.trim_start_matches("const FILES = ").trim_end_matches(';')).expect("a JSON list");
        for must in ["/index.html", "/app.js", "/style.css", "/i18n/zh.js", "/i18n/en.js", "/screens/sort.js", "/screens/restock.js", "/localcopy.js", "/manifest.webmanifest", "/icons/icon-192.png"] {
            assert!(files.iter().any(|f| f == must), "{must} is not kept offline: {files:?}");
        }
        assert!(!files.iter().any(|f| f == "/sw.js" || f.ends_with("README.md")), "{files:?}");
        // Every one of them is served, of the same build, with a validator that gives 304.
        for f in &files {
            let r = app.get(&client, f);
            r.assert_status(200);
            assert_eq!(r.headers.get("x-ui-build").and_then(|v| v.to_str().ok()), Some(build.as_str()), "{f}");
            assert_eq!(r.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-cache"), "{f}");
            let etag = r.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_string();
            let again = app.send(client.get(app.url(f)).header("If-None-Match", &etag));
            again.assert_status(304);
            assert!(again.text.is_empty());
        }
        // The documentation in the folder is not part of the app.
        app.get(&client, "/README.md").assert_problem(404, "not_found");
    }
}

//! Customs XML through the API: CEB621/CEB622 lists and releases, CEB625 applications and
//! CEB626 receipts in; what is created, unchanged or rejected and why; hostile and broken
//! messages refused; and the CEB625 we export read back to the same data.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::Value;

use bonded_returns::customs::{self, InvtRefund, InvtRefundReturn, Items, MessageKind};

use crate::flowkit::*;
use crate::support::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/customs/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture")
}

fn demo(name: &str) -> String {
    std::fs::read_to_string(format!("{}/src/demo/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("the demo file")
}

/// (key, outcome, reason) of each item of an import report.
fn outcomes(r: &Reply) -> Vec<(String, String, String)> {
    r.assert_status(200);
    r.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap_or("").to_string(),
                i["outcome"].as_str().unwrap_or("").to_string(),
                i["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn only_ceb625(xml: &str) -> Vec<InvtRefund> {
    let parsed = customs::parse(xml.as_bytes()).expect("our own CEB625 parses");
    assert_eq!(parsed.kind, MessageKind::Ceb625);
    let bt = parsed.base_transfer.expect("a BaseTransfer");
    assert_eq!(bt.dxp_mode, "DXP");
    assert!(!bt.cop_code.is_empty() && !bt.dxp_id.is_empty(), "{bt:?}");
    match parsed.items {
        Items::InvtRefund(items) => items
            .into_iter()
            .map(|i| i.result.expect("a valid application"))
            .collect(),
        other => panic!("not applications: {other:?}"),
    }
}

fn receipt(app: &InvtRefund, status: i32, info: &str, at: DateTime<Utc>) -> InvtRefundReturn {
    InvtRefundReturn {
        guid: app.guid.clone(),
        customs_code: "8014".into(),
        agent_code: app.agent_code.clone(),
        ebp_code: app.ebp_code.clone(),
        ebc_code: app.ebc_code.clone(),
        cop_no: String::new(),
        pre_no: String::new(),
        invt_no: app.invt_no.clone(),
        return_status: status,
        return_time: at,
        return_info: info.into(),
    }
}

fn ceb626(receipts: &[InvtRefundReturn]) -> String {
    customs::write_ceb626(receipts, None, &customs::new_guid()).expect("a valid CEB626")
}

both! {
    fn ceb621_and_ceb622_samples_create_and_release_lists_and_importing_them_again_changes_nothing(app: &TestApp) {
        let k = Kit::new(app);
        let r = k.import(&k.sup, fixture("ceb621_sample.xml"));
        assert_eq!(r.json["kind"], "CEB621");
        assert_eq!(
            outcomes(&r),
            [
                ("80142026I000000101".into(), "created".into(), String::new()),
                ("80142026I000000102".into(), "created".into(), String::new()),
            ]
        );
        let d = app.get(&k.sup, "/api/v1/declarations/80142026I000000101");
        d.assert_status(200);
        assert_eq!(d.json["released_at"], Value::Null);
        assert_eq!(d.json["logistics_no"], "SF102345678901");
        assert_eq!(d.json["area_code"], "5001960W01");
        assert_eq!(d.json["lines"][0]["bar_code"], "4901234567894");
        assert_eq!(d.json["lines"][1]["bar_code"], Value::Null, "无 means no barcode");
        assert_eq!(d.json["lines"][1]["qty"], 2);

        let r = k.import(&k.sup, fixture("ceb622_sample.xml"));
        let o = outcomes(&r);
        assert_eq!((o[0].1.as_str(), o[1].1.as_str(), o[2].1.as_str()), ("updated", "updated", "skipped"), "{}", r.text);
        assert_eq!(o[2].0, "80142026I000000103");
        assert!(o[2].2.contains("not recorded here"), "a processing error for a list not here is only noted: {}", r.text);
        assert_eq!((r.json["skipped"].as_u64(), r.json["rejected"].as_u64()), (Some(1), Some(0)), "{}", r.text);
        let d = app.get(&k.sup, "/api/v1/declarations/80142026I000000101");
        assert_eq!(d.json["return_status"], 800);
        let released = time(&d.json["released_at"]);
        assert_eq!(released, DateTime::parse_from_rfc3339("2026-09-20T10:15:30.123+08:00").unwrap());
        assert_eq!(time(&d.json["apply_deadline"]), released + Duration::days(30));
        assert_eq!(time(&d.json["arrival_deadline"]), released + Duration::days(45));
        assert_eq!(app.get(&k.sup, "/api/v1/declarations/80142026I000000102").json["released_at"], Value::Null);

        let before = k.snapshot(&[]);
        let again = outcomes(&k.import(&k.sup, fixture("ceb621_sample.xml")));
        assert!(again.iter().all(|o| o.1 == "unchanged"), "{again:?}");
        let again = outcomes(&k.import(&k.sup, fixture("ceb622_sample.xml")));
        assert_eq!(again.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(), ["unchanged", "unchanged", "skipped"]);
        k.assert_unchanged(&before, &[]);
        assert!(app.verify(None).ok);
    }

    fn the_demo_messages_shipped_in_the_repository_import_cleanly_and_only_once(app: &TestApp) {
        let k = Kit::new(app);
        let r = k.import(&k.admin, demo("ceb621.xml"));
        assert_eq!((r.json["created"].as_u64(), r.json["rejected"].as_u64()), (Some(36), Some(0)), "{}", r.text);
        let r = k.import(&k.admin, demo("ceb622.xml"));
        assert_eq!(r.json["rejected"], 0, "{}", r.text);
        assert!(r.json["updated"].as_u64().unwrap() > 0, "{}", r.text);
        let before = k.snapshot(&[]);
        for file in ["ceb621.xml", "ceb622.xml"] {
            let r = k.import(&k.admin, demo(file));
            assert_eq!((r.json["created"].as_u64(), r.json["updated"].as_u64(), r.json["rejected"].as_u64()), (Some(0), Some(0), Some(0)), "{}", r.text);
        }
        k.assert_unchanged(&before, &[]);
    }

    fn a_message_with_one_bad_list_rejects_that_list_with_its_reason_and_records_the_others(app: &TestApp) {
        let k = Kit::new(app);
        let sample = fixture("ceb621_sample.xml");
        let bad_gcode = sample.replace("<gcode>1901101000</gcode>", "<gcode>19011010</gcode>");
        let o = outcomes(&k.import(&k.admin, bad_gcode));
        assert_eq!((o[0].1.as_str(), o[1].1.as_str()), ("created", "rejected"), "{o:?}");
        assert_eq!(o[1].0, "80142026I000000102");
        assert!(o[1].2.contains("gcode"), "{o:?}");
        assert!(app.get(&k.sup, "/api/v1/declarations/80142026I000000102").status == 404);

        // A fractional quantity is refused by policy (whole units only).
        let second_qty = sample.rfind("<qty>1</qty>").unwrap();
        let mut fractional = sample.clone();
        fractional.replace_range(second_qty..second_qty + "<qty>1</qty>".len(), "<qty>1.5</qty>");
        let o = outcomes(&k.import(&k.admin, fractional));
        assert_eq!((o[0].1.as_str(), o[1].1.as_str()), ("unchanged", "rejected"), "{o:?}");
        assert!(o[1].2.contains("whole units"), "{o:?}");

        // A known list does not change after the fact.
        let changed = sample.replace("<buyerName>张伟</buyerName>", "<buyerName>王芳</buyerName>");
        let o = outcomes(&k.import(&k.admin, changed));
        assert_eq!((o[0].1.as_str(), o[1].1.as_str()), ("rejected", "created"), "{o:?}");
        assert!(o[0].2.starts_with("conflict"), "{o:?}");
        assert_eq!(app.count("declarations"), 2);
        assert!(app.verify(None).ok);
    }

    fn broken_hostile_and_foreign_messages_are_refused_with_a_clear_error_and_change_nothing(app: &TestApp) {
        let k = Kit::new(app);
        let before = k.snapshot(&[]);
        let sample = fixture("ceb621_sample.xml");
        let cases: Vec<(&str, String, &str)> = vec![
            ("truncated", sample[..sample.len() / 2].to_string(), "malformed"),
            ("not XML", "hello, customs".into(), ""),
            ("empty", String::new(), ""),
            ("billion laughs", fixture("billion_laughs.xml"), "hostile"),
            ("external entity", fixture("external_entity.xml"), "hostile"),
            ("wrong namespace", fixture("wrong_namespace.xml"), "namespace"),
            ("unknown message", sample.replace("CEB621Message", "CEB999Message"), "unknown message"),
            ("no lists", "<CEB621Message xmlns=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" version=\"1.0\"><BaseTransfer><copCode>5001960AG1</copCode><copName>x</copName><dxpMode>DXP</dxpMode><dxpId>DXP1</dxpId></BaseTransfer></CEB621Message>".into(), ""),
        ];
        for (what, body, says) in cases {
            let r = k.import(&k.admin, body);
            assert_eq!((r.status, r.code()), (400, "validation"), "{what}: {}", r.text);
            assert!(r.is_problem(), "{what}");
            assert!(r.text.to_lowercase().contains(says), "{what} should say {says:?}: {}", r.text);
            assert!(!r.text.contains("root:x:0:0"), "{what} leaked a file");
        }
        // More than the 10 MiB a message may have.
        let huge = format!("{}<!-- {} -->", sample, "x".repeat(11 * 1024 * 1024));
        k.import(&k.admin, huge).assert_problem(413, "payload_too_large");
        // Only XML is taken.
        for ct in ["application/json", "text/plain"] {
            let r = app.send(k.admin.post(app.url("/api/v1/imports")).header("content-type", ct).body(sample.clone()));
            r.assert_problem(415, "unsupported_media_type");
        }
        let r = app.send(k.admin.post(app.url("/api/v1/imports")).body(sample.clone()));
        r.assert_problem(415, "unsupported_media_type");
        k.assert_unchanged(&before, &[]);
        // text/xml is XML too.
        let r = app.send(k.admin.post(app.url("/api/v1/imports")).header("content-type", "text/xml; charset=utf-8").body(sample));
        assert_eq!(r.json["created"], 2, "{}", r.text);
    }

    fn ceb625_applications_create_returns_once_and_ceb626_receipts_show_on_the_return(app: &TestApp) {
        let k = Kit::new(app);
        let (l1, l2) = (k.released(), k.released());
        let at = now() - Duration::hours(1);
        let a1 = l1.invt_refund(&[(1, 3), (2, 2)], at);
        let a2 = l2.invt_refund(&[(2, 1)], at);
        let mut bad = l2.invt_refund(&[(1, 1)], at);
        bad.lines[0].gnum = 5;
        let xml = ceb625(&[a1.clone(), a2.clone(), bad.clone()]);

        let r = k.import(&k.admin, xml.clone());
        assert_eq!(r.json["kind"], "CEB625");
        let o = outcomes(&r);
        assert_eq!(o.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(), ["created", "created", "rejected"], "{}", r.text);
        assert!(o[2].2.contains("gnum") && o[2].2.contains("not on list"), "{o:?}");
        let (id1, id2) = (o[0].0.clone(), o[1].0.clone());
        assert!(id1.starts_with("RT") && id2.starts_with("RT"), "the key is the new return's id: {o:?}");
        let v = k.view(&id1);
        assert_eq!(v["state"], "declared");
        assert_eq!(v["guid"], a1.guid.as_str());
        assert_eq!(time(&v["applied_at"]), at);
        assert_eq!(v["lines"].as_array().unwrap().len(), 2);
        assert_eq!(k.view(&id2)["lines"][0]["qty"], 1);

        let before = k.snapshot(&[&id1, &id2]);
        let o = outcomes(&k.import(&k.admin, xml));
        assert_eq!(o.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(), ["unchanged", "unchanged", "rejected"]);
        assert_eq!((o[0].0.as_str(), o[1].0.as_str()), (id1.as_str(), id2.as_str()));
        k.assert_unchanged(&before, &[&id1, &id2]);

        // Customs' receipts.
        let t = now() - Duration::minutes(30);
        let mut unknown = receipt(&bad, 100, "无此申请", t);
        unknown.guid = customs::new_guid();
        unknown.invt_no = "80142026I999999999".into();
        let msg = ceb626(&[receipt(&a1, 399, "审核通过", t), receipt(&a2, 100, "退货申请超过规定期限", t), unknown]);
        let r = k.import(&k.admin, msg.clone());
        assert_eq!(r.json["kind"], "CEB626");
        let o = outcomes(&r);
        assert_eq!(o.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(), ["updated", "updated", "rejected"], "{}", r.text);
        assert!(o[2].2.starts_with("not_found"), "{o:?}");
        let v = k.view(&id1);
        assert_eq!(v["customs_status"]["status"], 399);
        assert_eq!(v["customs_status"]["info"], "审核通过");
        assert_eq!(time(&v["customs_status"]["at"]), t);
        assert_eq!(v["state"], "declared", "a receipt does not move the return");
        assert_eq!(k.view(&id2)["customs_status"]["status"], 100);
        let entry = k.entries_of(&id1).pop().unwrap();
        assert_eq!(entry.action, "return.customs_receipt");
        let before = k.snapshot(&[&id1, &id2]);
        let o = outcomes(&k.import(&k.admin, msg));
        assert_eq!(o.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(), ["unchanged", "unchanged", "rejected"]);
        k.assert_unchanged(&before, &[&id1, &id2]);
        // The receipt is visible to the floor too.
        let floor = app.get(&k.floor_a, &format!("/api/v1/returns/{id1}"));
        assert_eq!(floor.json["customs_status"]["status"], 399);
    }

    fn a_ceb625_line_whose_hs_code_is_not_the_lists_is_rejected(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        let mut app_ = l.invt_refund(&[(1, 1), (2, 1)], now() - Duration::hours(1));
        app_.lines[1].gcode = "8517130000".into();
        let before = k.snapshot(&[]);
        let o = outcomes(&k.import(&k.admin, ceb625(&[app_])));
        assert_eq!(o[0].1, "rejected", "{o:?}");
        assert!(o[0].2.contains("gcode"), "{o:?}");
        k.assert_unchanged(&before, &[]);
    }

    fn a_ceb625_whose_order_parties_or_time_do_not_fit_its_list_is_rejected(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        let at = now() - Duration::hours(1);
        let good = l.invt_refund(&[(1, 1)], at);
        let mut cases: Vec<(&str, InvtRefund)> = Vec::new();
        let mut a = good.clone();
        a.order_no = "ORDER-NOT-THIS-ONE".into();
        cases.push(("orderNo", a));
        let mut a = good.clone();
        a.ebc_code = "91440101MA59OTHER1".into();
        cases.push(("ebcCode", a));
        let mut a = good.clone();
        a.ebp_code = "91440101MA59OTHER2".into();
        cases.push(("ebpCode", a));
        let mut a = good.clone();
        a.agent_code = "91440101MA59OTHER3".into();
        cases.push(("agentCode", a));
        let mut a = good.clone();
        a.app_time = now() + Duration::days(2);
        cases.push(("appTime", a));
        let mut a = good.clone();
        a.app_time = now() - Duration::days(400);
        cases.push(("appTime", a));
        let before = k.snapshot(&[]);
        for (field, mut application) in cases {
            application.guid = customs::new_guid();
            let o = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&application))));
            assert_eq!(o[0].1, "rejected", "{field}: {o:?}");
            assert!(o[0].2.contains(field), "{field}: {o:?}");
        }
        k.assert_unchanged(&before, &[]);
        // The unchanged application goes through.
        let o = outcomes(&k.import(&k.admin, ceb625(&[good])));
        assert_eq!(o[0].1, "created", "{o:?}");
    }

    fn a_ceb626_with_a_guid_never_sent_is_matched_only_when_its_list_has_one_return(app: &TestApp) {
        let k = Kit::new(app);
        let at = now() - Duration::hours(2);
        // One return on the list: the receipt can only be for it.
        let one = k.released();
        let a = one.invt_refund(&[(1, 1)], at);
        let id = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&a))))[0].0.clone();
        let mut r = receipt(&a, 399, "审核通过", now() - Duration::minutes(30));
        r.guid = customs::new_guid();
        let o = outcomes(&k.import(&k.admin, ceb626(&[r])));
        assert_eq!((o[0].0.as_str(), o[0].1.as_str()), (id.as_str(), "updated"), "{o:?}");
        // An older receipt arriving late does not overwrite the newer one.
        let older = receipt(&a, 100, "旧回执", now() - Duration::hours(1));
        let before = k.snapshot(&[&id]);
        let o = outcomes(&k.import(&k.admin, ceb626(&[older])));
        assert_eq!(o[0].1, "unchanged", "{o:?}");
        k.assert_unchanged(&before, &[&id]);
        assert_eq!(k.view(&id)["customs_status"]["status"], 399);

        // Two returns on one list: a receipt with an unknown guid is not attached to either.
        let two = k.released();
        let b1 = two.invt_refund(&[(1, 1)], at);
        let b2 = two.invt_refund(&[(2, 1)], at);
        let o = outcomes(&k.import(&k.admin, ceb625(&[b1.clone(), b2])));
        let ids = [o[0].0.clone(), o[1].0.clone()];
        let mut r = receipt(&b1, 399, "审核通过", now() - Duration::minutes(30));
        r.guid = customs::new_guid();
        let before = k.snapshot(&[&ids[0], &ids[1]]);
        let o = outcomes(&k.import(&k.admin, ceb626(&[r])));
        assert_eq!(o[0].1, "rejected", "{o:?}");
        assert!(o[0].2.contains("several returns"), "{o:?}");
        k.assert_unchanged(&before, &[&ids[0], &ids[1]]);
    }

    fn a_ceb625_we_export_reads_back_to_the_same_application_and_matches_the_snapshot(app: &TestApp) {
        let k = Kit::new(app);
        // Fixed numbers, so that the message is the same on every run.
        let l = List {
            invt_no: "80142026I000004711".into(),
            order_no: "YMT20261101004711".into(),
            waybill: "SF102345674711".into(),
            ..k.list()
        };
        k.declare(&l);

        // Imported, then exported: the same application.
        let imported = l.invt_refund(&[(1, 2), (2, 1)], now() - Duration::hours(2));
        let report = k.import(&k.admin, ceb625(std::slice::from_ref(&imported)));
        let id = outcomes(&report)[0].0.clone();
        let r = app.get(&k.sup, &format!("/api/v1/returns/{id}/ceb625.xml"));
        r.assert_status(200);
        assert!(r.content_type.starts_with("application/xml"), "{}", r.content_type);
        assert!(r.text.contains("xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\""));
        let exported = only_ceb625(&r.text);
        assert_eq!(exported, vec![InvtRefund { app_status: "2".into(), ..imported }]);
        // Importing what we exported is the same application again.
        let o = outcomes(&k.import(&k.admin, r.text.clone()));
        assert_eq!(o[0], (id.clone(), "unchanged".to_string(), String::new()));

        // Applied over JSON: the export carries the list's data and the return's lines.
        let other = k.released();
        let id2 = k.new_return(&other, &[(1, 3), (2, 2)]);
        let v = k.view(&id2);
        let r = app.get(&k.admin, &format!("/api/v1/returns/{id2}/ceb625.xml"));
        r.assert_status(200);
        let exported = only_ceb625(&r.text);
        let mut expected = other.invt_refund(&[(1, 3), (2, 2)], time(&v["applied_at"]).trunc_subsecs(0));
        expected.guid = v["guid"].as_str().unwrap().to_string();
        assert_eq!(exported, vec![expected]);

        // The written message, with what changes from run to run masked.
        let xml = app.get(&k.sup, &format!("/api/v1/returns/{id}/ceb625.xml")).text;
        insta::assert_snapshot!("ceb625_export", redact(&xml, &exported_guid(&xml)));
    }

    fn the_batch_export_answers_one_message_for_up_to_100_returns_and_splits_beyond(app: &TestApp) {
        let k = Kit::new(app);
        let mut l = k.list();
        l.lines[0].qty = 200;
        k.declare(&l);
        let ids: Vec<String> = (0..101).map(|_| k.new_return(&l, &[(1, 1)])).collect();

        let r = app.get(&k.sup, &format!("/api/v1/exports/ceb625?ids={}", ids[..100].join(",")));
        r.assert_status(200);
        assert!(r.content_type.starts_with("application/xml"), "{}", r.content_type);
        assert_eq!(only_ceb625(&r.text).len(), 100);

        let r = app.get(&k.admin, &format!("/api/v1/exports/ceb625?ids={}", ids.join(",")));
        r.assert_status(200);
        let messages = r.json["messages"].as_array().unwrap_or_else(|| panic!("{}", r.text));
        let parsed: Vec<Vec<InvtRefund>> = messages.iter().map(|m| only_ceb625(m.as_str().unwrap())).collect();
        assert_eq!(parsed.iter().map(Vec::len).collect::<Vec<_>>(), [100, 1]);
        let mut exported: Vec<String> = parsed.into_iter().flatten().map(|a| a.guid).collect();
        let mut guids: Vec<String> = ids.iter().map(|id| k.view(id)["guid"].as_str().unwrap().to_string()).collect();
        exported.sort();
        guids.sort();
        assert_eq!(exported, guids, "every return once");

        app.get(&k.sup, &format!("/api/v1/exports/ceb625?ids={},RT20991231000001", ids[0])).assert_problem(404, "not_found");
        app.get(&k.sup, "/api/v1/exports/ceb625?ids=").assert_problem(400, "validation");
        app.get(&k.floor_a, &format!("/api/v1/exports/ceb625?ids={}", ids[0])).assert_problem(403, "forbidden");
    }
}

/// The application guid inside a CEB625 message.
fn exported_guid(xml: &str) -> String {
    only_ceb625(xml)[0].guid.clone()
}

/// Masks the message guid, the application guid and the application time.
fn redact(xml: &str, app_guid: &str) -> String {
    let mut out = xml.replace(app_guid, "[application guid]");
    if let Some(start) = out.find("guid=\"") {
        let end = out[start + 6..].find('"').unwrap() + start + 6;
        out.replace_range(start + 6..end, "[message guid]");
    }
    if let (Some(s), Some(e)) = (out.find("<ceb:appTime>"), out.find("</ceb:appTime>")) {
        out.replace_range(s + "<ceb:appTime>".len()..e, "[appTime]");
    }
    out
}

both! {
    fn a_deleted_ceb625_application_cancels_its_declared_return_and_frees_the_quantities(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        let at = now() - Duration::hours(1);
        let a = l.invt_refund(&[(1, 3)], at);
        let o = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&a))));
        assert_eq!(o[0].1, "created", "{o:?}");
        let id = o[0].0.clone();
        // Everything released is claimed.
        k.apply(&l, &[(1, 1)]).assert_problem(422, "quantity_exceeds");

        let mut delete = a.clone();
        delete.app_type = "3".into();
        let o = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&delete))));
        assert_eq!((o[0].0.as_str(), o[0].1.as_str()), (id.as_str(), "updated"), "{o:?}");
        let v = k.view(&id);
        assert_eq!(v["state"], "cancelled");
        assert_eq!(k.state_changes(&id).last().unwrap(), &change("return.cancel", "declared", "cancelled"));
        // Deleting it again changes nothing; the parcel cannot be received any more.
        let before = k.snapshot(&[&id]);
        let o = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&delete))));
        assert_eq!(o[0].1, "unchanged", "{o:?}");
        k.assert_unchanged(&before, &[&id]);
        k.receive(&id).assert_problem(409, "invalid_state");
        // Its quantities are free for a new application.
        let again = k.new_return(&l, &[(1, 3)]);
        assert_ne!(again, id);

        // A delete for an application never made, a change, and a delete once the parcel is in.
        let mut unknown = l.invt_refund(&[(1, 1)], at);
        unknown.app_type = "3".into();
        let mut change_ = l.invt_refund(&[(1, 1)], at);
        change_.app_type = "2".into();
        let l2 = k.released();
        let a2 = l2.invt_refund(&[(1, 1)], at);
        let o = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&a2))));
        let received = o[0].0.clone();
        k.receive(&received).assert_status(200);
        let mut late_delete = a2.clone();
        late_delete.app_type = "3".into();
        let before = k.snapshot(&[&received, &again]);
        let o = outcomes(&k.import(&k.admin, ceb625(&[unknown, change_, late_delete])));
        assert_eq!(o.iter().map(|o| o.1.as_str()).collect::<Vec<_>>(), ["rejected", "rejected", "rejected"], "{o:?}");
        assert!(o[0].2.starts_with("not_found"), "{o:?}");
        assert!(o[1].2.contains("appType 2"), "{o:?}");
        assert!(o[2].2.starts_with("invalid_state") && o[2].2.contains("received"), "{o:?}");
        k.assert_unchanged(&before, &[&received, &again]);
        assert!(app.verify(None).ok);
    }

    fn an_import_honours_the_idempotency_key_like_every_other_change(app: &TestApp) {
        let k = Kit::new(app);
        let post = |key: &str, xml: &str| {
            app.send(
                k.admin
                    .post(app.url("/api/v1/imports"))
                    .header("content-type", "application/xml")
                    .header("idempotency-key", key)
                    .body(xml.to_string()),
            )
        };
        let sample = fixture("ceb621_sample.xml");
        let first = post("import-1", &sample);
        assert_eq!(first.json["created"], 2, "{}", first.text);
        let before = k.snapshot(&[]);
        let replay = post("import-1", &sample);
        assert_eq!((replay.status, &replay.text), (200, &first.text), "the first answer, replayed");
        k.assert_unchanged(&before, &[]);
        post("import-1", &fixture("ceb622_sample.xml")).assert_problem(422, "idempotency_mismatch");
        k.assert_unchanged(&before, &[]);
        // Without the key the same message is simply unchanged.
        let plain = k.import(&k.admin, sample);
        assert_eq!(plain.json["unchanged"], 2, "{}", plain.text);
    }

    fn an_application_of_an_excluded_party_imported_from_customs_xml_is_rejected_and_the_attempt_recorded(app: &TestApp) {
        let k = Kit::new(app);
        let l = k.released();
        k.rate(&l.ebc, "dishonest", None).assert_status(201);
        let a = l.invt_refund(&[(1, 1)], now() - Duration::hours(1));
        let before = k.snapshot(&[]);
        let o = outcomes(&k.import(&k.admin, ceb625(std::slice::from_ref(&a))));
        assert_eq!(o[0].1, "rejected", "{o:?}");
        assert!(o[0].2.starts_with("enterprise_excluded"), "{o:?}");
        let new: Vec<_> = k.all_entries().into_iter().filter(|e| e.seq > before.head.seq).collect();
        assert_eq!(new.len(), 1, "only the refusal: {new:#?}");
        assert_eq!(new[0].action, "refused.enterprise_excluded");
        assert_eq!(new[0].entity_kind, "import");
        assert!(new[0].entity_id.starts_with("CEB625"), "{:?}", new[0].entity_id);
        assert!(new[0].reason.as_deref().unwrap().contains(&l.ebc));
        assert_eq!(app.count("returns"), before.returns);
        assert!(app.verify(None).ok);
    }
}

/// The sample lists with the first `from` in list `n` (0 or 1) replaced by `to`.
fn sample_621_with(n: usize, from: &str, to: &str) -> String {
    let sample = fixture("ceb621_sample.xml");
    let start = sample
        .match_indices("<Inventory>")
        .nth(n)
        .expect("the list")
        .0;
    let at = start + sample[start..].find(from).expect("the field in that list");
    format!("{}{to}{}", &sample[..at], &sample[at + from.len()..])
}

/// The declaration.record entry of list `invt_no`.
fn record_entry(k: &Kit, invt_no: &str) -> Value {
    let e = k
        .all_entries()
        .into_iter()
        .find(|e| e.action == "declaration.record" && e.entity_id == invt_no)
        .expect("the list's entry");
    serde_json::from_str(&e.changes).expect("changes as JSON")
}

// Point 5 of issue 21: customs messages read as customs means them. Refuse what customs would
// refuse, with the reason; never refuse for a field the warehouse does not use.
both! {
    fn an_interim_ceb622_receipt_without_a_list_number_is_noted_and_skipped_not_rejected(app: &TestApp) {
        let k = Kit::new(app);
        k.import(&k.admin, fixture("ceb621_sample.xml")).assert_status(200);
        let before = k.snapshot(&[]);
        let r = k.import(&k.admin, fixture("ceb622_interim.xml"));
        let o = outcomes(&r);
        assert_eq!((o[0].0.as_str(), o[0].1.as_str()), ("", "skipped"), "{}", r.text);
        assert!(o[0].2.contains("status 1 (stored at the e-port (电子口岸已暂存))") && o[0].2.contains("interim"), "{o:?}");
        assert_eq!((r.json["skipped"].as_u64(), r.json["rejected"].as_u64(), r.json["updated"].as_u64()), (Some(1), Some(0), Some(0)));
        k.assert_unchanged(&before, &[]);
        // A release must still name its list.
        let release = fixture("ceb622_interim.xml").replace("<ceb:returnStatus>1<", "<ceb:returnStatus>800<");
        let o = outcomes(&k.import(&k.admin, release));
        assert_eq!(o[0].1, "rejected", "{o:?}");
        assert!(o[0].2.starts_with("invtNo: is required in a release"), "{o:?}");
        k.assert_unchanged(&before, &[]);
    }

    fn a_list_that_is_not_a_bonded_online_shopping_import_is_refused_with_that_reason(app: &TestApp) {
        let k = Kit::new(app);
        let before = k.snapshot(&[]);
        // A 9610 direct-purchase parcel never was in the zone.
        let r = k.import(&k.admin, sample_621_with(1, "<tradeMode>1210<", "<tradeMode>9610<"));
        let o = outcomes(&r);
        assert_eq!((o[0].1.as_str(), o[1].1.as_str()), ("created", "rejected"), "{o:?}");
        assert!(o[1].2.starts_with("tradeMode: 9610 (直购进口, direct-purchase import) is not a bonded online-shopping import"), "{o:?}");
        assert!(o[1].2.contains("never was in the zone") && o[1].2.ends_with("trade mode 1210 or 1239 only"), "{o:?}");
        app.get(&k.sup, "/api/v1/declarations/80142026I000000102").assert_status(404);
        // Nor any other mode but 1210 and 1239 (网购保税进口A).
        let r = k.import(&k.admin, sample_621_with(1, "<tradeMode>1210<", "<tradeMode>0110<"));
        let o = outcomes(&r);
        assert_eq!((o[0].1.as_str(), o[1].1.as_str()), ("unchanged", "rejected"), "{o:?}");
        assert!(o[1].2.starts_with("tradeMode: 0110 is not a bonded online-shopping import"), "{o:?}");
        let o = outcomes(&k.import(&k.admin, sample_621_with(1, "<tradeMode>1210<", "<tradeMode>1239<")));
        assert_eq!(o[1].1, "created", "1239 is a bonded online-shopping import: {o:?}");
        assert_eq!(app.count("declarations"), before.declarations + 2);

        // The JSON route: a 9610 list is refused, and no return can be applied against it.
        let l = k.list();
        let mut body = l.json();
        body["trade_mode"] = "9610".into();
        let r = app.post_json(&k.admin, "/api/v1/declarations", &body);
        r.assert_problem(400, "validation");
        assert!(r.text.contains("trade_mode") && r.text.contains("never was in the zone"), "{}", r.text);
        let o = outcomes(&k.import(&k.admin, ceb625(&[l.invt_refund(&[(1, 1)], now() - Duration::hours(1))])));
        assert_eq!(o[0].1, "rejected", "{o:?}");
        assert_eq!(app.count("returns"), 0);
        k.apply(&l, &[(1, 1)]).assert_status(404);
        body["trade_mode"] = "1239".into();
        app.post_json(&k.admin, "/api/v1/declarations", &body).assert_status(201);
        assert!(app.verify(None).ok);
    }

    fn a_ceb622_release_naming_other_parties_than_its_list_is_refused_and_starts_no_clock(app: &TestApp) {
        let k = Kit::new(app);
        k.import(&k.admin, fixture("ceb621_sample.xml")).assert_status(200);
        let sample = fixture("ceb622_sample.xml");
        let before = k.snapshot(&[]);
        for (field, from, to) in [
            ("ebpCode", "<ceb:ebpCode>5001960EBP<", "<ceb:ebpCode>5001960EBX<"),
            ("ebcCode", "<ceb:ebcCode>HK0000E001<", "<ceb:ebcCode>HK0000E009<"),
            ("agentCode", "<ceb:agentCode>5001960AG1<", "<ceb:agentCode>5001960AG9<"),
        ] {
            let r = k.import(&k.admin, sample.replacen(from, to, 1));
            let o = outcomes(&r);
            assert_eq!(o[0].1, "rejected", "{field}: {o:?}");
            let listed = &from[from.find('>').unwrap() + 1..from.len() - 1];
            let given = &to[to.find('>').unwrap() + 1..to.len() - 1];
            assert!(
                o[0].2.starts_with(&format!("{field}: list 80142026I000000101 has {listed}, not {given}")),
                "{field}: {o:?}"
            );
            let d = app.get(&k.sup, "/api/v1/declarations/80142026I000000101");
            assert_eq!((&d.json["released_at"], &d.json["apply_deadline"]), (&Value::Null, &Value::Null), "no clock started");
            // The second receipt (status 120 for a known list) is still recorded, once.
            assert!(matches!(o[1].1.as_str(), "updated" | "unchanged"), "{o:?}");
        }
        assert_eq!(k.snapshot(&[]).declarations, before.declarations);
        // The receipt as customs sent it starts the clocks.
        let o = outcomes(&k.import(&k.admin, sample));
        assert_eq!(o[0].1, "updated", "{o:?}");
        assert_eq!(app.get(&k.sup, "/api/v1/declarations/80142026I000000101").json["return_status"], 800);
    }

    fn a_list_with_odd_values_in_fields_the_warehouse_does_not_use_is_recorded_and_flagged(app: &TestApp) {
        let k = Kit::new(app);
        let odd = sample_621_with(0, "<unit1>035</unit1>", "")
            .replacen("<copNo>COP20260918000101</copNo>", "<copNo>COP20260918000101</copNo><preNo>B2026091800101</preNo>", 1)
            .replacen("<grossWeight>0.42</grossWeight>", "<grossWeight>0,42</grossWeight>", 1);
        let r = k.import(&k.admin, odd);
        let o = outcomes(&r);
        assert_eq!((o[0].1.as_str(), o[1].1.as_str()), ("created", "created"), "{}", r.text);
        let flagged: Vec<&str> = r.json["items"][0]["flagged"].as_array().expect("flagged").iter().map(|f| f.as_str().unwrap()).collect();
        assert_eq!(flagged.len(), 3, "{flagged:?}");
        assert!(flagged[0].starts_with("preNo: \"B2026091800101\" is not a pre-entry number: expected exactly 18"), "{flagged:?}");
        assert!(flagged[1].starts_with("grossWeight: \"0,42\" is not a decimal number"), "{flagged:?}");
        assert_eq!(flagged[2], "InventoryList[1]/unit1: is missing");
        assert!(r.json["items"][1].get("flagged").is_none(), "a list with nothing odd has no flags: {}", r.text);
        // The list is there, as the warehouse uses it; its entry keeps what was odd.
        let d = app.get(&k.sup, "/api/v1/declarations/80142026I000000101");
        d.assert_status(200);
        assert_eq!(d.json["lines"][0]["unit"], "142");
        let changes = record_entry(&k, "80142026I000000101");
        assert_eq!(changes["flagged"]["after"].as_array().map(Vec::len), Some(3), "{changes}");
        assert!(record_entry(&k, "80142026I000000102").get("flagged").is_none());
        // A field the warehouse uses is still strict.
        let o = outcomes(&k.import(&k.admin, sample_621_with(1, "<unit>122</unit>", "")));
        assert_eq!(o[1].1, "rejected", "{o:?}");
        assert!(o[1].2.contains("InventoryList[1]/unit: is required"), "{o:?}");
        assert!(app.verify(None).ok);
    }
}

//! CEB625 `InvtRefund`: the return application (退货申请单) that the declaring
//! agent sends to customs: up to 100 per message, each one `InvtRefundHead`
//! and 1–99 `InvtRefundList`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::envelope::{check_count, verify_written, BaseTransfer, Element, XmlWriter};
use super::fields::{
    format_time14, parse_digits, parse_gnum, parse_invt_no, parse_one_of, parse_positive_qty,
    parse_pre_no, parse_time14, Qty,
};
use super::{
    item_key, make_item, new_guid, read_lines, single_child, CustomsError, Item, MessageKind,
    MAX_ITEMS,
};

/// One return application: head fields and lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvtRefund {
    /// Application id: 36 characters, upper-case UUID when written.
    pub guid: String,
    /// `1` new, `2` change, `3` delete.
    pub app_type: String,
    /// Application time (written as YYYYMMDDhhmmss, China time; whole seconds).
    pub app_time: DateTime<Utc>,
    /// `1` stored, `2` declared.
    pub app_status: String,
    /// Customs office, 4 digits.
    pub customs_code: String,
    pub order_no: String,
    pub ebp_code: String,
    pub ebp_name: String,
    pub ebc_code: String,
    pub ebc_name: String,
    pub logistics_no: String,
    pub logistics_code: String,
    pub logistics_name: String,
    /// Enterprise's own number (≤20).
    pub cop_no: Option<String>,
    /// Pre-entry number (18).
    pub pre_no: Option<String>,
    /// Original declaration list number (18).
    pub invt_no: String,
    /// `1` ID card, `2` other.
    pub buyer_id_type: String,
    /// Personal data.
    pub buyer_id_number: String,
    /// Personal data.
    pub buyer_name: String,
    /// Personal data.
    pub buyer_telephone: String,
    pub agent_code: String,
    pub agent_name: String,
    /// Reason for the return (≤1000).
    pub reason: String,
    pub note: Option<String>,
    pub lines: Vec<InvtRefundLine>,
}

/// One returned line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvtRefundLine {
    /// Line number in the original declaration list (1–9999).
    pub gnum: u32,
    /// HS code, exactly 10 digits.
    pub gcode: String,
    /// Goods name (≤250).
    pub gname: String,
    /// Quantity returned (> 0).
    pub qty: Qty,
    /// Unit code, 3 digits.
    pub unit: String,
    pub note: Option<String>,
}

/// Reads one `InvtRefund` element.
pub(super) fn read(index: usize, el: &Element) -> Item<InvtRefund> {
    let mut errors = Vec::new();
    let Some(head) = single_child(el, "InvtRefundHead", &mut errors) else {
        return Item {
            index,
            key: None,
            result: Err(errors),
            flags: Vec::new(),
        };
    };
    let key = item_key(head);
    let mut r = super::fields::FieldReader::new(head, "");
    let mut app = InvtRefund {
        guid: r.text("guid", 36),
        app_type: r.req("appType", |s| {
            parse_one_of(s, &["1", "2", "3"], "1 (new), 2 (change) or 3 (delete)")
        }),
        app_time: r.req("appTime", parse_time14),
        app_status: r.req("appStatus", |s| {
            parse_one_of(s, &["1", "2"], "1 (stored) or 2 (declared)")
        }),
        customs_code: r.req("customsCode", |s| {
            parse_digits(s, 4, "a customs office code")
        }),
        order_no: r.text("orderNo", 60),
        ebp_code: r.code("ebpCode"),
        ebp_name: r.text("ebpName", 100),
        ebc_code: r.code("ebcCode"),
        ebc_name: r.text("ebcName", 100),
        logistics_no: r.text("logisticsNo", 60),
        logistics_code: r.code("logisticsCode"),
        logistics_name: r.text("logisticsName", 100),
        cop_no: r.opt_text("copNo", 20),
        pre_no: r.opt("preNo", parse_pre_no),
        invt_no: r.req("invtNo", parse_invt_no),
        buyer_id_type: r.req("buyerIdType", |s| {
            parse_one_of(s, &["1", "2"], "1 (ID card) or 2 (other)")
        }),
        buyer_id_number: r.text("buyerIdNumber", 60),
        buyer_name: r.text("buyerName", 60),
        buyer_telephone: r.text("buyerTelephone", 30),
        agent_code: r.code("agentCode"),
        agent_name: r.text("agentName", 100),
        reason: r.text("reason", 1000),
        note: r.opt_text("note", 1000),
        lines: Vec::new(),
    };
    errors.extend(r.finish());
    app.lines = read_lines(
        el,
        "InvtRefundList",
        1,
        &mut errors,
        &mut Vec::new(),
        |_, r| InvtRefundLine {
            gnum: r.req("gnum", parse_gnum),
            gcode: r.req("gcode", |s| parse_digits(s, 10, "an HS code")),
            gname: r.text("gname", 250),
            qty: r.req("qty", parse_positive_qty),
            unit: r.req("unit", |s| parse_digits(s, 3, "a unit code")),
            note: r.opt_text("note", 1000),
        },
        |l| l.gnum,
    );
    make_item(index, key, app, errors)
}

/// Writes one CEB625 message with up to 100 applications.
///
/// Each application's `guid` must be 36 characters without lower-case
/// letters (see [`super::new_guid`]) and unique in the message; every other
/// rule of the reader applies too (the message is parsed back before it is
/// returned). `app_time` is written to the second.
pub fn write_ceb625(
    apps: &[InvtRefund],
    base: &BaseTransfer,
    message_guid: &str,
) -> Result<String, CustomsError> {
    let kind = MessageKind::Ceb625;
    check_count(kind, apps.len())?;
    let mut seen = std::collections::HashSet::new();
    for (i, a) in apps.iter().enumerate() {
        let g = a.guid.trim();
        let path = || format!("InvtRefund[{}]/guid", i + 1);
        if g.chars().count() != 36 || g.chars().any(|c| c.is_lowercase()) {
            return Err(CustomsError::Field {
                path: path(),
                message: "must be 36 characters without lower-case letters (an upper-case UUID)"
                    .into(),
            });
        }
        if !seen.insert(g) {
            return Err(CustomsError::Field {
                path: path(),
                message: format!("{g} is used twice in the same message"),
            });
        }
    }
    let mut w = XmlWriter::new(kind, message_guid)?;
    for a in apps {
        w.open("InvtRefund");
        w.open("InvtRefundHead");
        w.leaf("guid", &a.guid);
        w.leaf("appType", &a.app_type);
        w.leaf("appTime", &format_time14(&a.app_time));
        w.leaf("appStatus", &a.app_status);
        w.leaf("customsCode", &a.customs_code);
        w.leaf("orderNo", &a.order_no);
        w.leaf("ebpCode", &a.ebp_code);
        w.leaf("ebpName", &a.ebp_name);
        w.leaf("ebcCode", &a.ebc_code);
        w.leaf("ebcName", &a.ebc_name);
        w.leaf("logisticsNo", &a.logistics_no);
        w.leaf("logisticsCode", &a.logistics_code);
        w.leaf("logisticsName", &a.logistics_name);
        w.leaf_opt("copNo", a.cop_no.as_deref());
        w.leaf_opt("preNo", a.pre_no.as_deref());
        w.leaf("invtNo", &a.invt_no);
        w.leaf("buyerIdType", &a.buyer_id_type);
        w.leaf("buyerIdNumber", &a.buyer_id_number);
        w.leaf("buyerName", &a.buyer_name);
        w.leaf("buyerTelephone", &a.buyer_telephone);
        w.leaf("agentCode", &a.agent_code);
        w.leaf("agentName", &a.agent_name);
        w.leaf("reason", &a.reason);
        w.leaf_opt("note", a.note.as_deref());
        w.close();
        for l in &a.lines {
            w.open("InvtRefundList");
            w.leaf("gnum", &l.gnum.to_string());
            w.leaf("gcode", &l.gcode);
            w.leaf("gname", &l.gname);
            w.leaf("qty", &l.qty.to_string());
            w.leaf("unit", &l.unit);
            w.leaf_opt("note", l.note.as_deref());
            w.close();
        }
        w.close();
    }
    w.base_transfer(base);
    verify_written(kind, w.finish()?)
}

/// Writes `apps` as as many CEB625 messages as needed, 100 applications each
/// (the last one holds the rest), each with a fresh upper-case UUID guid.
/// No applications give no messages.
pub fn write_ceb625_batches(
    apps: &[InvtRefund],
    base: &BaseTransfer,
) -> Result<Vec<String>, CustomsError> {
    apps.chunks(MAX_ITEMS)
        .map(|chunk| write_ceb625(chunk, base, &new_guid()))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{parse, FieldError, Items, Parsed};
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn base() -> BaseTransfer {
        BaseTransfer {
            cop_code: "5001960AG1".into(),
            cop_name: "重庆跨境代理服务有限公司".into(),
            dxp_mode: "DXP".into(),
            dxp_id: "DXPENT0000012345".into(),
            note: None,
        }
    }

    pub(crate) fn sample(n: usize) -> InvtRefund {
        InvtRefund {
            guid: format!("6F9619FF-8B86-D011-B42D-{n:012}"),
            app_type: "1".into(),
            app_time: Utc.with_ymd_and_hms(2026, 10, 21, 2, 15, 30).unwrap(),
            app_status: "2".into(),
            customs_code: "8014".into(),
            order_no: format!("YMT2026100{n:05}"),
            ebp_code: "5001960EBP".into(),
            ebp_name: "渝贸通跨境电商平台".into(),
            ebc_code: "HK0000E001".into(),
            ebc_name: "香港美妆优选有限公司".into(),
            logistics_no: format!("SF{:012}", 100_000_000_000u64 + n as u64),
            logistics_code: "5001980L01".into(),
            logistics_name: "重庆顺达速运有限公司".into(),
            cop_no: Some(format!("RET{n:06}")),
            pre_no: None,
            invt_no: format!("80142026I{:09}", 101 + n),
            buyer_id_type: "1".into(),
            buyer_id_number: "500103199001011234".into(),
            buyer_name: "张伟".into(),
            buyer_telephone: "13800138000".into(),
            agent_code: "5001960AG1".into(),
            agent_name: "重庆跨境代理服务有限公司".into(),
            reason: "七天无理由退货".into(),
            note: None,
            lines: vec![InvtRefundLine {
                gnum: 1,
                gcode: "3304990099".into(),
                gname: "保湿面霜".into(),
                qty: Qty::from_units(1),
                unit: "142".into(),
                note: None,
            }],
        }
    }

    fn refunds(p: &Parsed) -> Vec<&InvtRefund> {
        match &p.items {
            Items::InvtRefund(v) => v
                .iter()
                .map(|i| i.result.as_ref().expect("item parses"))
                .collect(),
            other => panic!("not CEB625: {other:?}"),
        }
    }

    #[test]
    fn sample_fixture_parses() {
        let p = parse(include_str!("../../tests/fixtures/customs/ceb625_sample.xml").as_bytes())
            .unwrap();
        assert_eq!(p.kind, MessageKind::Ceb625);
        assert_eq!(p.version, "1.0");
        assert_eq!(p.base_transfer.as_ref().unwrap().cop_code, "5001960AG1");
        let apps = refunds(&p);
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].invt_no, "80142026I000000101");
        assert_eq!(
            apps[0].app_time,
            Utc.with_ymd_and_hms(2026, 10, 21, 2, 15, 30).unwrap()
        );
        assert_eq!(apps[0].lines.len(), 2);
        assert_eq!(apps[0].lines[1].qty.whole_units(), Some(2));
        assert_eq!(apps[1].cop_no, None);
        assert_eq!(apps[1].lines[0].note.as_deref(), Some("外包装破损"));
    }

    #[test]
    fn messy_real_world_message_parses() {
        // Make sure the line ends are CRLF whatever git did to the fixture.
        let xml = include_str!("../../tests/fixtures/customs/ceb625_messy.xml")
            .replace("\r\n", "\n")
            .replace('\n', "\r\n");
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(p.version, "v1.0");
        assert_eq!(p.guid, "ZSYG-20261021-000123");
        let apps = refunds(&p);
        assert_eq!(apps.len(), 1);
        let a = apps[0];
        assert_eq!(a.invt_no, "80142026I000000102");
        assert_eq!(a.ebc_code, "JP0000E002");
        assert_eq!(a.buyer_name, "李娜");
        assert_eq!(a.reason, "尺码不合适，\n申请退货");
        assert_eq!(a.lines.len(), 1);
        assert_eq!(a.lines[0].gcode, "6109100022");
        assert_eq!(a.lines[0].qty, Qty::from_units(2));
        assert_eq!(a.lines[0].gname, "纯棉T恤 <男款> & 短袖");
        assert_eq!(p.base_transfer.unwrap().note, None);
    }

    #[test]
    fn per_list_field_errors_are_reported_and_good_lists_still_parse() {
        let p =
            parse(include_str!("../../tests/fixtures/customs/ceb625_field_errors.xml").as_bytes())
                .unwrap();
        let Items::InvtRefund(items) = &p.items else {
            panic!()
        };
        assert_eq!(items.len(), 9);
        let errs = |i: usize| -> &Vec<FieldError> {
            items[i].result.as_ref().expect_err("should be rejected")
        };
        let has = |i: usize, field: &str, needle: &str| {
            let e = errs(i);
            assert!(
                e.iter()
                    .any(|e| e.field == field && e.message.contains(needle)),
                "item {i}: expected {field} ~ {needle:?}, got {e:?}"
            );
        };
        // 0: good
        assert!(items[0].result.is_ok(), "{:?}", items[0].result);
        assert_eq!(items[0].key.as_deref(), Some("80142026I000000101"));
        // 1: bad gcode
        has(1, "InvtRefundList[1]/gcode", "10 digits");
        assert_eq!(errs(1).len(), 1);
        assert_eq!(items[1].key.as_deref(), Some("80142026I000000102"));
        // 2: invtNo of wrong length; its key is still reported
        has(2, "invtNo", "exactly 18");
        assert_eq!(items[2].key.as_deref(), Some("80142026I00000103"));
        // 3: gnum 0
        has(3, "InvtRefundList[1]/gnum", "1 to 9999");
        // 4: negative qty, and garbled qty on the second line
        has(4, "InvtRefundList[1]/qty", "negative");
        has(4, "InvtRefundList[2]/qty", "not a decimal");
        // 5: missing required field (reason) and an empty one (orderNo)
        has(5, "reason", "required");
        has(5, "orderNo", "required");
        // 6: over-long name (251 characters, Chinese)
        has(6, "InvtRefundList[1]/gname", "251 characters, at most 250");
        // 7: good
        assert!(items[7].result.is_ok(), "{:?}", items[7].result);
        // 8: no lines, bad enterprise code, duplicate field
        has(8, "InvtRefundList", "at least 1");
        has(8, "ebcCode", "enterprise code");
        has(8, "buyerName", "appears 2 times");
        assert_eq!(p.items.errors().len(), 7);
        // Personal data never appears in messages.
        for (_, _, errors) in p.items.errors() {
            for e in errors {
                assert!(
                    !e.message.contains("张") && !e.message.contains("1380013"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn written_ceb625_parses_back_to_equal_data() {
        let mut a = sample(1);
        a.ebc_name = "Tom & Jerry's <Beauty> \"HK\" 有限公司".into();
        a.reason = "商品与描述不符 <质量问题> & 包装破损\n第二行说明".into();
        a.note = Some("a > b & c < d ' \"".into());
        a.pre_no = Some("801420261000012345".into());
        a.lines.push(InvtRefundLine {
            gnum: 3,
            gcode: "1901101000".into(),
            gname: "婴儿配方奶粉（1段）800g&罐".into(),
            qty: Qty::from_units(4),
            unit: "122".into(),
            note: Some("罐体凹陷".into()),
        });
        let mut b = sample(2);
        b.cop_no = None;
        b.buyer_id_type = "2".into();
        b.app_type = "3".into();
        let apps = vec![a, b];
        let xml = write_ceb625(&apps, &base(), "0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21").unwrap();
        assert!(xml.contains("&lt;Beauty&gt;") && xml.contains("Tom &amp; Jerry"));
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(p.guid, "0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21");
        assert_eq!(p.base_transfer, Some(base()));
        let back: Vec<InvtRefund> = refunds(&p).into_iter().cloned().collect();
        assert_eq!(back, apps);
    }

    #[test]
    fn written_ceb625_snapshot() {
        let mut a = sample(7);
        a.note = Some("顾客已寄回".into());
        a.lines.push(InvtRefundLine {
            gnum: 2,
            gcode: "3401110000".into(),
            gname: "植物精油香皂 & 礼盒".into(),
            qty: Qty::from_units(2),
            unit: "011".into(),
            note: None,
        });
        let xml = write_ceb625(&[a], &base(), "0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21").unwrap();
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("ceb625_written", xml);
        });
    }

    #[test]
    fn writer_refuses_bad_data() {
        let b = base();
        let guid = "0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21";
        assert!(matches!(
            write_ceb625(&[], &b, guid),
            Err(CustomsError::Empty { .. })
        ));
        let many: Vec<_> = (0..101).map(sample).collect();
        assert!(matches!(
            write_ceb625(&many, &b, guid),
            Err(CustomsError::TooMany {
                found: 101,
                max: 100,
                ..
            })
        ));
        assert!(matches!(
            write_ceb625(&[sample(1)], &b, "short"),
            Err(CustomsError::Field { .. })
        ));
        let mut lower = sample(1);
        lower.guid = lower.guid.to_lowercase();
        let err = write_ceb625(&[lower], &b, guid).unwrap_err();
        assert!(err.to_string().contains("InvtRefund[1]/guid"), "{err}");
        assert!(write_ceb625(&[sample(1), sample(1)], &b, guid)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let mut bad = sample(1);
        bad.lines[0].gcode = "33049900".into();
        bad.lines[0].qty = Qty::ZERO;
        let err = write_ceb625(&[sample(2), bad], &b, guid).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("InvtRefund[2]/InvtRefundList[1]/gcode") && text.contains("1 more"),
            "{text}"
        );
        let mut ctrl = sample(1);
        ctrl.reason = "bell\u{7}".into();
        assert!(write_ceb625(&[ctrl], &b, guid)
            .unwrap_err()
            .to_string()
            .contains("U+0007"));
        let mut no_lines = sample(1);
        no_lines.lines.clear();
        assert!(write_ceb625(&[no_lines], &b, guid).is_err());
        let mut bad_base = base();
        bad_base.dxp_mode = "FTP".into();
        assert!(write_ceb625(&[sample(1)], &bad_base, guid)
            .unwrap_err()
            .to_string()
            .contains("dxpMode"));
    }

    #[test]
    fn batches_split_250_into_100_100_50() {
        let apps: Vec<InvtRefund> = (0..250)
            .map(|n| {
                let mut a = sample(n);
                a.guid = new_guid();
                a
            })
            .collect();
        let messages = write_ceb625_batches(&apps, &base()).unwrap();
        assert_eq!(messages.len(), 3);
        let mut guids = std::collections::HashSet::new();
        let mut all = Vec::new();
        for (m, expected) in messages.iter().zip([100, 100, 50]) {
            let p = parse(m.as_bytes()).unwrap();
            assert_eq!(p.items.len(), expected);
            assert_eq!(p.guid.len(), 36);
            assert!(uuid::Uuid::parse_str(&p.guid).is_ok());
            assert_eq!(p.guid, p.guid.to_uppercase());
            assert!(guids.insert(p.guid.clone()));
            all.extend(refunds(&p).into_iter().cloned());
        }
        assert_eq!(all, apps);
        assert!(write_ceb625_batches(&[], &base()).unwrap().is_empty());
    }

    #[test]
    fn largest_message_100_applications_of_99_lines_round_trips() {
        let apps: Vec<InvtRefund> = (0..100)
            .map(|n| {
                let mut a = sample(n);
                a.lines = (1..=99)
                    .map(|g| InvtRefundLine {
                        gnum: g,
                        gcode: "3304990099".into(),
                        gname: format!("商品{g}"),
                        qty: Qty::from_units(i64::from(g)),
                        unit: "011".into(),
                        note: None,
                    })
                    .collect();
                a
            })
            .collect();
        let started = std::time::Instant::now();
        let xml = write_ceb625(&apps, &base(), "0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21").unwrap();
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(refunds(&p).into_iter().cloned().collect::<Vec<_>>(), apps);
        assert!(xml.len() < super::super::MAX_MESSAGE_BYTES);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}

//! CEB621 `Inventory`: the import declaration list (申报清单): up to 100 per
//! message, each one `InventoryHead` and 1–99 `InventoryList`.
//!
//! The project reads these lists (as archived by the platform, with invtNo
//! filled in) to know what left the zone; it writes them only to make demo
//! and test data.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::envelope::{check_count, verify_written, BaseTransfer, Element, XmlWriter};
use super::fields::{
    check_len, format_date8, format_time14, parse_alnum, parse_date8, parse_digits,
    parse_enterprise_code, parse_gnum, parse_invt_no, parse_n9, parse_one_of, parse_positive_qty,
    parse_pre_no, parse_time14, Decimal, FieldReader, Qty,
};
use super::{item_key, make_item, read_lines, single_child, CustomsError, Item, MessageKind};

/// One declaration list: head fields and lines.
///
/// String fields that the XSD makes optional but that the project names
/// without `Option` (`pre_no`, `ems_no`, and a line's `item_record_no` and
/// `item_no`) are empty when the element is absent, and are then not written.
/// The other `Option` fields are XSD fields the project does not use; when
/// writing, the XSD-required ones among them default as documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub guid: String,
    /// `1` new, `2` change, `3` delete; written as `1` when `None`.
    pub app_type: Option<String>,
    /// Written as `declTime` 00:00:00 (China time) when `None`.
    pub app_time: Option<DateTime<Utc>>,
    /// Written as `2` (declared) when `None`.
    pub app_status: Option<String>,
    pub order_no: String,
    pub ebp_code: String,
    pub ebp_name: String,
    pub ebc_code: String,
    pub ebc_name: String,
    pub logistics_no: String,
    pub logistics_code: String,
    pub logistics_name: String,
    pub cop_no: String,
    /// 18 characters, or empty when absent.
    pub pre_no: String,
    /// Guarantor enterprise; written as `ebc_code` when `None`.
    pub assure_code: Option<String>,
    /// Bonded account book number, or empty when absent.
    pub ems_no: String,
    /// Declaration list number (18).
    pub invt_no: String,
    /// `I` (import).
    pub ie_flag: String,
    pub decl_time: NaiveDate,
    pub customs_code: String,
    pub port_code: String,
    pub ie_date: NaiveDate,
    /// `1` ID card, `2` other.
    pub buyer_id_type: String,
    /// Personal data.
    pub buyer_id_number: String,
    /// Personal data.
    pub buyer_name: String,
    /// Personal data.
    pub buyer_telephone: String,
    /// Personal data.
    pub consignee_address: String,
    pub agent_code: String,
    pub agent_name: String,
    /// The warehousing enterprise in the zone (runs the return center warehouse).
    pub area_code: String,
    pub area_name: String,
    /// `1210` for bonded online-shopping import.
    pub trade_mode: String,
    /// Transport mode; written as `Y` when `None`.
    pub traf_mode: Option<String>,
    pub traf_no: Option<String>,
    pub voyage_no: Option<String>,
    pub bill_no: Option<String>,
    pub loct_no: Option<String>,
    pub license_no: Option<String>,
    pub country: String,
    pub freight: Decimal,
    pub insured_fee: Decimal,
    pub currency: String,
    pub wrap_type: Option<String>,
    /// Number of packages; written as `1` when `None`.
    pub pack_no: Option<u32>,
    pub gross_weight: Decimal,
    pub net_weight: Decimal,
    pub note: Option<String>,
    pub lines: Vec<InventoryLine>,
}

/// One line of a declaration list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryLine {
    /// Line number, 1–9999.
    pub gnum: u32,
    /// Account book item number, or empty when absent.
    pub item_record_no: String,
    /// Enterprise's item number, or empty when absent.
    pub item_no: String,
    pub item_name: Option<String>,
    /// HS code, exactly 10 digits.
    pub gcode: String,
    pub gname: String,
    pub gmodel: String,
    /// Product barcode; `无` (none) and empty read as `None`, `None` is written as `无`.
    pub bar_code: Option<String>,
    pub country: String,
    pub currency: String,
    pub qty: Qty,
    /// Unit code, 3 digits.
    pub unit: String,
    /// Legal quantity.
    pub qty1: Qty,
    pub unit1: String,
    pub qty2: Option<Qty>,
    pub unit2: Option<String>,
    pub price: Decimal,
    pub total_price: Decimal,
    pub note: Option<String>,
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
}

/// Reads one `Inventory` element.
///
/// Strict in what the warehouse uses: the list number, order, waybill, parties, buyer, customs
/// office, ieFlag and tradeMode (what the list is), and each line's gnum, gcode, gname, qty,
/// unit, barCode and price. Every other field customs released the list with is read as
/// customs keeps it ([`FieldReader::unused_text`]): text as given, an odd value flagged on the
/// item, never a refusal. A flagged date, amount or number reads as its default here; nothing
/// in the warehouse reads it.
pub(super) fn read(index: usize, el: &Element) -> Item<Inventory> {
    let mut errors = Vec::new();
    let Some(head) = single_child(el, "InventoryHead", &mut errors) else {
        return Item {
            index,
            key: None,
            result: Err(errors),
            flags: Vec::new(),
        };
    };
    let key = item_key(head);
    let mut r = FieldReader::new(head, "");
    let text = |max: usize| move |s: &str| check_len(s, max);
    let mut inv = Inventory {
        guid: r.unused_text("guid", true, text(36)).unwrap_or_default(),
        app_type: r.unused_text("appType", false, |s| {
            parse_one_of(s, &["1", "2", "3"], "1, 2 or 3")
        }),
        app_time: r.unused("appTime", false, parse_time14),
        app_status: r.unused_text("appStatus", false, text(3)),
        order_no: r.text("orderNo", 60),
        ebp_code: r.code("ebpCode"),
        ebp_name: r.text("ebpName", 100),
        ebc_code: r.code("ebcCode"),
        ebc_name: r.text("ebcName", 100),
        logistics_no: r.text("logisticsNo", 60),
        logistics_code: r.code("logisticsCode"),
        logistics_name: r.text("logisticsName", 100),
        cop_no: r.unused_text("copNo", true, text(20)).unwrap_or_default(),
        pre_no: r
            .unused_text("preNo", false, parse_pre_no)
            .unwrap_or_default(),
        assure_code: r.unused_text("assureCode", false, parse_enterprise_code),
        ems_no: r.unused_text("emsNo", false, text(30)).unwrap_or_default(),
        invt_no: r.req("invtNo", parse_invt_no),
        ie_flag: r.req("ieFlag", |s| parse_one_of(s, &["I"], "I (import)")),
        decl_time: r.unused("declTime", true, parse_date8).unwrap_or_default(),
        customs_code: r.req("customsCode", |s| {
            parse_digits(s, 4, "a customs office code")
        }),
        port_code: r
            .unused_text("portCode", true, |s| parse_digits(s, 4, "a port code"))
            .unwrap_or_default(),
        ie_date: r.unused("ieDate", true, parse_date8).unwrap_or_default(),
        buyer_id_type: r.req("buyerIdType", |s| {
            parse_one_of(s, &["1", "2"], "1 (ID card) or 2 (other)")
        }),
        buyer_id_number: r.text("buyerIdNumber", 60),
        buyer_name: r.text("buyerName", 60),
        buyer_telephone: r.text("buyerTelephone", 30),
        consignee_address: r
            .unused_text("consigneeAddress", true, text(200))
            .unwrap_or_default(),
        agent_code: r.code("agentCode"),
        agent_name: r.text("agentName", 100),
        area_code: r.code("areaCode"),
        area_name: r
            .unused_text("areaName", true, text(100))
            .unwrap_or_default(),
        trade_mode: r.req("tradeMode", |s| parse_digits(s, 4, "a trade mode")),
        traf_mode: r.unused_text("trafMode", false, text(1)),
        traf_no: r.unused_text("trafNo", false, text(100)),
        voyage_no: r.unused_text("voyageNo", false, text(32)),
        bill_no: r.unused_text("billNo", false, text(37)),
        loct_no: r.unused_text("loctNo", false, text(10)),
        license_no: r.unused_text("licenseNo", false, text(19)),
        country: r
            .unused_text("country", true, |s| parse_alnum(s, 3, "a country code"))
            .unwrap_or_default(),
        freight: r
            .unused("freight", true, |s| Decimal::new(s))
            .unwrap_or_default(),
        insured_fee: r
            .unused("insuredFee", true, |s| Decimal::new(s))
            .unwrap_or_default(),
        currency: r
            .unused_text("currency", true, |s| parse_alnum(s, 3, "a currency code"))
            .unwrap_or_default(),
        wrap_type: r.unused_text("wrapType", false, text(1)),
        pack_no: r.unused("packNo", false, parse_n9),
        gross_weight: r
            .unused("grossWeight", true, |s| Decimal::new(s))
            .unwrap_or_default(),
        net_weight: r
            .unused("netWeight", true, |s| Decimal::new(s))
            .unwrap_or_default(),
        note: r.unused_text("note", false, text(1000)),
        lines: Vec::new(),
    };
    let (head_errors, mut flags) = r.finish_with_flags();
    errors.extend(head_errors);
    inv.lines = read_lines(
        el,
        "InventoryList",
        1,
        &mut errors,
        &mut flags,
        |_, r| InventoryLine {
            gnum: r.req("gnum", parse_gnum),
            item_record_no: r
                .unused_text("itemRecordNo", false, text(30))
                .unwrap_or_default(),
            item_no: r.unused_text("itemNo", false, text(30)).unwrap_or_default(),
            item_name: r.unused_text("itemName", false, text(250)),
            gcode: r.req("gcode", |s| parse_digits(s, 10, "an HS code")),
            gname: r.text("gname", 250),
            gmodel: r.unused_text("gmodel", true, text(510)).unwrap_or_default(),
            bar_code: r.opt_text("barCode", 50).filter(|b| b != "无"),
            country: r
                .unused_text("country", true, |s| parse_alnum(s, 3, "a country code"))
                .unwrap_or_default(),
            currency: r
                .unused_text("currency", true, |s| parse_alnum(s, 3, "a currency code"))
                .unwrap_or_default(),
            qty: r.req("qty", parse_positive_qty),
            unit: r.req("unit", |s| parse_digits(s, 3, "a unit code")),
            qty1: r
                .unused("qty1", true, |s| s.parse::<Qty>())
                .unwrap_or_default(),
            unit1: r
                .unused_text("unit1", true, |s| parse_digits(s, 3, "a unit code"))
                .unwrap_or_default(),
            qty2: r.unused("qty2", false, |s| s.parse::<Qty>()),
            unit2: r.unused_text("unit2", false, |s| parse_digits(s, 3, "a unit code")),
            price: r.req("price", |s| Decimal::new(s)),
            total_price: r
                .unused("totalPrice", true, |s| Decimal::new(s))
                .unwrap_or_default(),
            note: r.unused_text("note", false, text(1000)),
        },
        |l| l.gnum,
    );
    Item {
        flags,
        ..make_item(index, key, inv, errors)
    }
}

/// Writes one CEB621 message with up to 100 declaration lists (for demo and
/// test data). The message is parsed back before it is returned.
pub fn write_ceb621(
    lists: &[Inventory],
    base: &BaseTransfer,
    message_guid: &str,
) -> Result<String, CustomsError> {
    let kind = MessageKind::Ceb621;
    check_count(kind, lists.len())?;
    let mut w = XmlWriter::new(kind, message_guid)?;
    for i in lists {
        let app_time = match &i.app_time {
            Some(t) => format_time14(t),
            None => format!("{}000000", format_date8(&i.decl_time)),
        };
        w.open("Inventory");
        w.open("InventoryHead");
        w.leaf("guid", &i.guid);
        w.leaf("appType", i.app_type.as_deref().unwrap_or("1"));
        w.leaf("appTime", &app_time);
        w.leaf("appStatus", i.app_status.as_deref().unwrap_or("2"));
        w.leaf("orderNo", &i.order_no);
        w.leaf("ebpCode", &i.ebp_code);
        w.leaf("ebpName", &i.ebp_name);
        w.leaf("ebcCode", &i.ebc_code);
        w.leaf("ebcName", &i.ebc_name);
        w.leaf("logisticsNo", &i.logistics_no);
        w.leaf("logisticsCode", &i.logistics_code);
        w.leaf("logisticsName", &i.logistics_name);
        w.leaf("copNo", &i.cop_no);
        w.leaf_opt("preNo", non_empty(&i.pre_no));
        w.leaf(
            "assureCode",
            i.assure_code.as_deref().unwrap_or(&i.ebc_code),
        );
        w.leaf_opt("emsNo", non_empty(&i.ems_no));
        w.leaf("invtNo", &i.invt_no);
        w.leaf("ieFlag", &i.ie_flag);
        w.leaf("declTime", &format_date8(&i.decl_time));
        w.leaf("customsCode", &i.customs_code);
        w.leaf("portCode", &i.port_code);
        w.leaf("ieDate", &format_date8(&i.ie_date));
        w.leaf("buyerIdType", &i.buyer_id_type);
        w.leaf("buyerIdNumber", &i.buyer_id_number);
        w.leaf("buyerName", &i.buyer_name);
        w.leaf("buyerTelephone", &i.buyer_telephone);
        w.leaf("consigneeAddress", &i.consignee_address);
        w.leaf("agentCode", &i.agent_code);
        w.leaf("agentName", &i.agent_name);
        w.leaf("areaCode", &i.area_code);
        w.leaf("areaName", &i.area_name);
        w.leaf("tradeMode", &i.trade_mode);
        w.leaf("trafMode", i.traf_mode.as_deref().unwrap_or("Y"));
        w.leaf_opt("trafNo", i.traf_no.as_deref());
        w.leaf_opt("voyageNo", i.voyage_no.as_deref());
        w.leaf_opt("billNo", i.bill_no.as_deref());
        w.leaf_opt("loctNo", i.loct_no.as_deref());
        w.leaf_opt("licenseNo", i.license_no.as_deref());
        w.leaf("country", &i.country);
        w.leaf("freight", i.freight.as_str());
        w.leaf("insuredFee", i.insured_fee.as_str());
        w.leaf("currency", &i.currency);
        w.leaf_opt("wrapType", i.wrap_type.as_deref());
        w.leaf("packNo", &i.pack_no.unwrap_or(1).to_string());
        w.leaf("grossWeight", i.gross_weight.as_str());
        w.leaf("netWeight", i.net_weight.as_str());
        w.leaf_opt("note", i.note.as_deref());
        w.close();
        for l in &i.lines {
            w.open("InventoryList");
            w.leaf("gnum", &l.gnum.to_string());
            w.leaf_opt("itemRecordNo", non_empty(&l.item_record_no));
            w.leaf_opt("itemNo", non_empty(&l.item_no));
            w.leaf_opt("itemName", l.item_name.as_deref());
            w.leaf("gcode", &l.gcode);
            w.leaf("gname", &l.gname);
            w.leaf("gmodel", &l.gmodel);
            w.leaf("barCode", l.bar_code.as_deref().unwrap_or("无"));
            w.leaf("country", &l.country);
            w.leaf("currency", &l.currency);
            w.leaf("qty", &l.qty.to_string());
            w.leaf("unit", &l.unit);
            w.leaf("qty1", &l.qty1.to_string());
            w.leaf("unit1", &l.unit1);
            w.leaf_opt("qty2", l.qty2.map(|q| q.to_string()).as_deref());
            w.leaf_opt("unit2", l.unit2.as_deref());
            w.leaf("price", l.price.as_str());
            w.leaf("totalPrice", l.total_price.as_str());
            w.leaf_opt("note", l.note.as_deref());
            w.close();
        }
        w.close();
    }
    w.base_transfer(base);
    verify_written(kind, w.finish()?)
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Items};
    use super::*;

    fn lists(xml: &str) -> Vec<Inventory> {
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(p.kind, MessageKind::Ceb621);
        let Items::Inventory(items) = p.items else {
            panic!()
        };
        items
            .into_iter()
            .map(|i| i.result.expect("list parses"))
            .collect()
    }

    #[test]
    fn sample_fixture_parses() {
        let l = lists(include_str!(
            "../../tests/fixtures/customs/ceb621_sample.xml"
        ));
        assert_eq!(l.len(), 2);
        let a = &l[0];
        assert_eq!(a.invt_no, "80142026I000000101");
        assert_eq!(a.area_code, "5001960W01");
        assert_eq!(a.decl_time, NaiveDate::from_ymd_opt(2026, 9, 18).unwrap());
        assert_eq!(a.freight.as_str(), "0");
        assert_eq!(a.lines.len(), 2);
        assert_eq!(a.lines[0].gcode, "3304990099");
        assert_eq!(a.lines[0].bar_code.as_deref(), Some("4901234567894"));
        assert_eq!(a.lines[1].bar_code, None);
        assert_eq!(a.lines[1].qty.whole_units(), Some(2));
        assert_eq!(a.lines[0].qty1.to_string(), "0.05");
        assert_eq!(a.pre_no, "");
        assert_eq!(l[1].lines[0].item_record_no, "");
    }

    #[test]
    fn written_ceb621_parses_back() {
        let mut l = lists(include_str!(
            "../../tests/fixtures/customs/ceb621_sample.xml"
        ));
        l[0].buyer_name = "O'Brien & <张>".into();
        let base = super::super::ceb625::tests::base();
        let xml = write_ceb621(&l, &base, "A1B2C3D4-0000-4000-8000-000000000001").unwrap();
        let back = lists(&xml);
        // appTime, assureCode, trafMode and packNo get their written defaults.
        let mut expected = l.clone();
        for (e, b) in expected.iter_mut().zip(&back) {
            e.app_type = e.app_type.clone().or(Some("1".into()));
            e.app_status = e.app_status.clone().or(Some("2".into()));
            e.app_time = e.app_time.or(b.app_time);
            e.assure_code = e.assure_code.clone().or(Some(e.ebc_code.clone()));
            e.traf_mode = e.traf_mode.clone().or(Some("Y".into()));
            e.pack_no = e.pack_no.or(Some(1));
        }
        assert_eq!(back, expected);
        assert!(xml.contains("<ceb:barCode>无</ceb:barCode>"));
    }

    #[test]
    fn too_many_lines_is_a_list_error() {
        let l = lists(include_str!(
            "../../tests/fixtures/customs/ceb621_sample.xml"
        ));
        let mut big = l[0].clone();
        big.lines = (1..=100)
            .map(|g| {
                let mut line = l[0].lines[0].clone();
                line.gnum = g;
                line
            })
            .collect();
        let base = super::super::ceb625::tests::base();
        let err = write_ceb621(&[big], &base, "A1B2C3D4-0000-4000-8000-000000000001").unwrap_err();
        assert!(err.to_string().contains("100 lines, at most 99"), "{err}");
    }

    #[test]
    fn duplicate_gnum_is_reported() {
        let xml = include_str!("../../tests/fixtures/customs/ceb621_sample.xml").replacen(
            "<gnum>2</gnum>",
            "<gnum>1</gnum>",
            1,
        );
        let p = parse(xml.as_bytes()).unwrap();
        let errors = p.items.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].2[0].field, "InventoryList[2]/gnum");
        assert!(errors[0].2[0].message.contains("earlier line"));
    }
}

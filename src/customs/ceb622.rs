//! CEB622 `InventoryReturn`: customs' receipt for a declaration list.
//! `returnStatus` 800 means released (放行); its `returnTime` starts the
//! 30-day (application) and 45-day (arrival) clocks of a return.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::envelope::{check_count, verify_written, BaseTransfer, Element, XmlWriter};
use super::fields::{
    check_len, format_time17, parse_digits, parse_invt_no, parse_pre_no, parse_status,
    parse_time17, FieldReader,
};
use super::{item_key, make_item, CustomsError, Item, MessageKind};

/// Status of a released declaration list.
pub const STATUS_RELEASED: i32 = 800;

/// One receipt for a declaration list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryReturn {
    /// The list's guid (not necessarily a UUID).
    pub guid: String,
    pub customs_code: String,
    pub ebp_code: String,
    pub ebc_code: String,
    pub agent_code: String,
    pub cop_no: String,
    /// Pre-entry number (18), or empty when absent.
    pub pre_no: String,
    /// `None` in an interim receipt sent before customs numbered the list (status 1
    /// 电子口岸已暂存 and the like); always there in a release.
    pub invt_no: Option<String>,
    /// 800 released; negative = processing error (see DOMAIN.md for the list).
    pub return_status: i32,
    /// China time in the message (yyyyMMddHHmmssSSS).
    pub return_time: DateTime<Utc>,
    /// Customs' explanation (≤1000), empty when absent.
    pub return_info: String,
}

impl InventoryReturn {
    /// True for status 800 (released).
    pub fn is_released(&self) -> bool {
        self.return_status == STATUS_RELEASED
    }
}

/// What a list receipt's status means, in plain words (DOMAIN.md, CEB622).
pub fn status_meaning(status: i32) -> &'static str {
    match status {
        1 => "stored at the e-port (电子口岸已暂存)",
        2 => "being declared",
        3 => "sent to customs",
        4 => "sending failed",
        100 => "rejected",
        120 => "received by customs",
        300 => "under manual review",
        399 => "approved",
        500 => "under inspection",
        501..=503 | 599 => "detained",
        700 => "returned abroad",
        STATUS_RELEASED => "released (放行)",
        899 => "closed",
        s if s < 0 => "a processing error",
        _ => "a status this program does not know",
    }
}

/// Reads the receipt fields shared by CEB622 and CEB626 (the two differ only
/// in element order, which reading does not depend on).
pub(super) struct ReceiptFields {
    pub guid: String,
    pub customs_code: String,
    pub ebp_code: String,
    pub ebc_code: String,
    pub agent_code: String,
    pub cop_no: String,
    pub pre_no: String,
    pub invt_no: Option<String>,
    pub return_status: i32,
    pub return_time: DateTime<Utc>,
    pub return_info: String,
}

/// Reads a receipt; `invt_no_required` is false for CEB622, whose interim receipts come before
/// customs numbered the list (a release must still name it). copNo and preNo, which nothing
/// here reads, are flagged rather than refused.
pub(super) fn read_receipt(
    index: usize,
    el: &Element,
    invt_no_required: bool,
) -> Item<ReceiptFields> {
    let key = item_key(el);
    let mut r = FieldReader::new(el, "");
    let f = ReceiptFields {
        guid: r.text("guid", 36),
        customs_code: r.req("customsCode", |s| {
            parse_digits(s, 4, "a customs office code")
        }),
        ebp_code: r.code("ebpCode"),
        ebc_code: r.code("ebcCode"),
        agent_code: r.code("agentCode"),
        cop_no: r
            .unused_text("copNo", false, |s| check_len(s, 20))
            .unwrap_or_default(),
        pre_no: r
            .unused_text("preNo", false, parse_pre_no)
            .unwrap_or_default(),
        invt_no: if invt_no_required {
            Some(r.req("invtNo", parse_invt_no))
        } else {
            r.opt("invtNo", parse_invt_no)
        },
        return_status: r.req("returnStatus", parse_status),
        return_time: r.req("returnTime", parse_time17),
        return_info: r.opt_text("returnInfo", 1000).unwrap_or_default(),
    };
    if f.invt_no.is_none() && f.return_status == STATUS_RELEASED {
        r.error(
            "invtNo",
            "is required in a release (status 800): it names the list released",
        );
    }
    let (errors, flags) = r.finish_with_flags();
    Item {
        flags,
        ..make_item(index, key, f, errors)
    }
}

/// Reads one `InventoryReturn` element.
pub(super) fn read(index: usize, el: &Element) -> Item<InventoryReturn> {
    let item = read_receipt(index, el, false);
    Item {
        index: item.index,
        key: item.key,
        flags: item.flags,
        result: item.result.map(|f| InventoryReturn {
            guid: f.guid,
            customs_code: f.customs_code,
            ebp_code: f.ebp_code,
            ebc_code: f.ebc_code,
            agent_code: f.agent_code,
            cop_no: f.cop_no,
            pre_no: f.pre_no,
            invt_no: f.invt_no,
            return_status: f.return_status,
            return_time: f.return_time,
            return_info: f.return_info,
        }),
    }
}

/// Writes one CEB622 message (for demo and test data). Customs' receipts may
/// carry a `BaseTransfer` or not.
pub fn write_ceb622(
    receipts: &[InventoryReturn],
    base: Option<&BaseTransfer>,
    message_guid: &str,
) -> Result<String, CustomsError> {
    let kind = MessageKind::Ceb622;
    check_count(kind, receipts.len())?;
    let mut w = XmlWriter::new(kind, message_guid)?;
    for r in receipts {
        w.open("InventoryReturn");
        w.leaf("guid", &r.guid);
        w.leaf("customsCode", &r.customs_code);
        w.leaf("ebpCode", &r.ebp_code);
        w.leaf("ebcCode", &r.ebc_code);
        w.leaf("agentCode", &r.agent_code);
        w.leaf("copNo", &r.cop_no);
        w.leaf("preNo", &r.pre_no);
        w.leaf("invtNo", r.invt_no.as_deref().unwrap_or(""));
        w.leaf("returnStatus", &r.return_status.to_string());
        w.leaf("returnTime", &format_time17(&r.return_time));
        w.leaf("returnInfo", &r.return_info);
        w.close();
    }
    if let Some(b) = base {
        w.base_transfer(b);
    }
    verify_written(kind, w.finish()?)
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Items};
    use super::*;
    use chrono::TimeZone;

    fn receipts(xml: &str) -> Vec<InventoryReturn> {
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(p.kind, MessageKind::Ceb622);
        let Items::InventoryReturn(items) = p.items else {
            panic!()
        };
        items
            .into_iter()
            .map(|i| i.result.expect("receipt parses"))
            .collect()
    }

    #[test]
    fn sample_fixture_parses() {
        let r = receipts(include_str!(
            "../../tests/fixtures/customs/ceb622_sample.xml"
        ));
        assert_eq!(r.len(), 3);
        assert!(r[0].is_released());
        assert_eq!(r[0].invt_no.as_deref(), Some("80142026I000000101"));
        // 2026-09-20 10:15:30.123 China time
        assert_eq!(
            r[0].return_time,
            Utc.with_ymd_and_hms(2026, 9, 20, 2, 15, 30).unwrap()
                + chrono::Duration::milliseconds(123)
        );
        assert_eq!(r[1].return_status, 120);
        assert_eq!(r[2].return_status, -301010);
        assert_eq!(r[2].return_info, "");
    }

    #[test]
    fn other_prefix_parses_and_writes_back() {
        let xml = include_str!("../../tests/fixtures/customs/ceb622_sample.xml");
        let r = receipts(xml);
        let written = write_ceb622(&r, None, "A1B2C3D4-0000-4000-8000-000000000622").unwrap();
        assert_eq!(receipts(&written), r);
        let prefixed = written
            .replace("ceb:", "x:")
            .replace("xmlns:ceb", "xmlns:x");
        assert_eq!(receipts(&prefixed), r);
    }
}

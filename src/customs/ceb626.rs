//! CEB626 `InvtRefundReturn`: customs' receipt for a return application
//! (CEB625). Its element order differs from CEB622's: agentCode comes
//! before ebpCode.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ceb622::read_receipt;
use super::envelope::{check_count, verify_written, BaseTransfer, Element, XmlWriter};
use super::fields::format_time17;
use super::{CustomsError, Item, MessageKind};

/// Status of an approved return application.
pub const STATUS_APPROVED: i32 = 399;
/// Status of a rejected return application.
pub const STATUS_REJECTED: i32 = 100;

/// One receipt for a return application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvtRefundReturn {
    /// The application's guid.
    pub guid: String,
    pub customs_code: String,
    pub agent_code: String,
    pub ebp_code: String,
    pub ebc_code: String,
    /// The application's copNo, empty when absent.
    pub cop_no: String,
    /// Pre-entry number (18), empty when absent.
    pub pre_no: String,
    pub invt_no: String,
    /// 1, 2, 3, 4, 100 rejected, 399 approved; negative = processing error.
    pub return_status: i32,
    pub return_time: DateTime<Utc>,
    /// Customs' explanation, empty when absent.
    pub return_info: String,
}

/// Reads one `InvtRefundReturn` element.
pub(super) fn read(index: usize, el: &Element) -> Item<InvtRefundReturn> {
    let item = read_receipt(index, el, true);
    Item {
        index: item.index,
        key: item.key,
        flags: item.flags,
        result: item.result.map(|f| InvtRefundReturn {
            guid: f.guid,
            customs_code: f.customs_code,
            agent_code: f.agent_code,
            ebp_code: f.ebp_code,
            ebc_code: f.ebc_code,
            cop_no: f.cop_no,
            pre_no: f.pre_no,
            invt_no: f.invt_no.unwrap_or_default(),
            return_status: f.return_status,
            return_time: f.return_time,
            return_info: f.return_info,
        }),
    }
}

/// Writes one CEB626 message (for tests).
pub fn write_ceb626(
    receipts: &[InvtRefundReturn],
    base: Option<&BaseTransfer>,
    message_guid: &str,
) -> Result<String, CustomsError> {
    let kind = MessageKind::Ceb626;
    check_count(kind, receipts.len())?;
    let mut w = XmlWriter::new(kind, message_guid)?;
    for r in receipts {
        w.open("InvtRefundReturn");
        w.leaf("guid", &r.guid);
        w.leaf("customsCode", &r.customs_code);
        w.leaf("agentCode", &r.agent_code);
        w.leaf("ebpCode", &r.ebp_code);
        w.leaf("ebcCode", &r.ebc_code);
        w.leaf_opt("copNo", (!r.cop_no.is_empty()).then_some(r.cop_no.as_str()));
        w.leaf_opt("preNo", (!r.pre_no.is_empty()).then_some(r.pre_no.as_str()));
        w.leaf("invtNo", &r.invt_no);
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

    fn receipts(xml: &str) -> Vec<InvtRefundReturn> {
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(p.kind, MessageKind::Ceb626);
        let Items::InvtRefundReturn(items) = p.items else {
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
            "../../tests/fixtures/customs/ceb626_sample.xml"
        ));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].return_status, STATUS_APPROVED);
        assert_eq!(r[0].agent_code, "5001960AG1");
        assert_eq!(r[0].guid, "6F9619FF-8B86-D011-B42D-000000000001");
        assert_eq!(r[1].return_status, STATUS_REJECTED);
        assert_eq!(r[1].return_info, "退货申请超过规定期限");
        assert_eq!(r[1].cop_no, "");
    }

    #[test]
    fn written_ceb626_keeps_xsd_order_and_parses_back() {
        let r = receipts(include_str!(
            "../../tests/fixtures/customs/ceb626_sample.xml"
        ));
        let xml = write_ceb626(&r, None, "A1B2C3D4-0000-4000-8000-000000000626").unwrap();
        let (a, e) = (
            xml.find("<ceb:agentCode>").unwrap(),
            xml.find("<ceb:ebpCode>").unwrap(),
        );
        assert!(a < e, "agentCode comes before ebpCode in CEB626");
        assert_eq!(receipts(&xml), r);
    }
}

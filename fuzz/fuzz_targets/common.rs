//! Shared by the per-message targets: puts the fuzzed bytes inside a well-formed envelope of
//! one kind, so that the fuzzer spends its time in that message's item reader instead of on
//! the root element and `BaseTransfer`.

#![allow(dead_code)]

use bonded_returns::customs::{self, Items, Parsed};

const BASE_TRANSFER: &str = "<ceb:BaseTransfer><ceb:copCode>5001960AG1</ceb:copCode>\
<ceb:copName>重庆跨境代理服务有限公司</ceb:copName><ceb:dxpMode>DXP</ceb:dxpMode>\
<ceb:dxpId>DXPENT0000012345</ceb:dxpId></ceb:BaseTransfer>";

/// `<ceb:{root} …>` + `inner` + `BaseTransfer` + `</ceb:{root}>`.
pub fn envelope(root: &str, inner: &[u8]) -> Vec<u8> {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ceb:{root} \
         guid=\"0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21\" version=\"1.0\" \
         xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" xmlns:ext=\"urn:example:sender-extension\">"
    )
    .into_bytes();
    xml.extend_from_slice(inner);
    xml.extend_from_slice(BASE_TRANSFER.as_bytes());
    xml.extend_from_slice(format!("</ceb:{root}>").as_bytes());
    xml
}

/// Parses `xml` both ways the service does (the customs module and the importer's wrapper)
/// and checks what holds for every message that is accepted.
pub fn parse_and_check(xml: &[u8]) -> Option<Parsed> {
    let direct = customs::parse(xml);
    let imported = bonded_returns::flows::imports::parse(xml);
    assert_eq!(
        direct.is_ok(),
        imported.is_ok(),
        "the importer and the parser disagree"
    );
    let parsed = direct.ok()?;
    let n = parsed.items.len();
    assert!(
        (1..=customs::MAX_ITEMS).contains(&n),
        "an accepted message holds {n} items"
    );
    fn check<T>(items: &[customs::Item<T>]) {
        for (i, it) in items.iter().enumerate() {
            assert_eq!(it.index, i, "items are numbered in order");
            if let Err(errs) = &it.result {
                assert!(!errs.is_empty(), "a rejected item names its reasons");
            }
        }
    }
    match &parsed.items {
        Items::Inventory(v) => {
            check(v);
            for inv in v.iter().filter_map(|i| i.result.as_ref().ok()) {
                assert!((1..=customs::MAX_LINES).contains(&inv.lines.len()));
            }
        }
        Items::InventoryReturn(v) => check(v),
        Items::InvtRefund(v) => {
            check(v);
            for app in v.iter().filter_map(|i| i.result.as_ref().ok()) {
                assert!((1..=customs::MAX_LINES).contains(&app.lines.len()));
            }
        }
        Items::InvtRefundReturn(v) => check(v),
    }
    Some(parsed)
}

//! Message-level tests: kind detection and the inputs that must fail whole.

use std::time::{Duration, Instant};

use super::*;

const SAMPLE_625: &str = include_str!("../../tests/fixtures/customs/ceb625_sample.xml");

#[test]
fn each_kind_is_detected_from_the_root() {
    let cases = [
        (
            include_str!("../../tests/fixtures/customs/ceb621_sample.xml"),
            MessageKind::Ceb621,
            2,
        ),
        (
            include_str!("../../tests/fixtures/customs/ceb622_sample.xml"),
            MessageKind::Ceb622,
            3,
        ),
        (SAMPLE_625, MessageKind::Ceb625, 2),
        (
            include_str!("../../tests/fixtures/customs/ceb626_sample.xml"),
            MessageKind::Ceb626,
            2,
        ),
    ];
    for (xml, kind, n) in cases {
        let p = parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(p.kind, kind);
        assert_eq!(p.items.len(), n);
        assert!(
            p.items.errors().is_empty(),
            "{kind}: {:?}",
            p.items.errors()
        );
    }
}

#[test]
fn byte_order_mark_is_accepted() {
    let mut xml = b"\xEF\xBB\xBF".to_vec();
    xml.extend_from_slice(SAMPLE_625.as_bytes());
    assert_eq!(parse(&xml).unwrap().kind, MessageKind::Ceb625);
}

#[test]
fn malformed_xml_is_rejected_with_its_position() {
    let xml = SAMPLE_625.replacen("</ceb:gname>", "</ceb:gnam>", 1);
    match parse(xml.as_bytes()) {
        Err(CustomsError::Malformed { line, detail, .. }) => {
            let expected = SAMPLE_625[..SAMPLE_625.find("</ceb:gname>").unwrap()]
                .lines()
                .count();
            assert_eq!(line, expected, "{detail}");
            assert!(detail.contains("gnam"), "{detail}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    for bad in [
        "not xml at all",
        "<a><b></a>",
        "<ceb:X xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"1>",
        "<a x='1' x='2'/>",
    ] {
        assert!(
            matches!(parse(bad.as_bytes()), Err(CustomsError::Malformed { .. })),
            "{bad}"
        );
    }
}

#[test]
fn truncated_xml_is_rejected() {
    let bytes = SAMPLE_625.as_bytes();
    let end = SAMPLE_625.rfind("</ceb:CEB625Message>").unwrap();
    let mut cut = 1;
    while cut < end + 10 {
        match parse(&bytes[..cut]) {
            Err(CustomsError::Malformed { detail, .. }) => {
                if cut > 200 {
                    assert!(
                        detail.contains("truncated") || detail.contains("UTF-8"),
                        "cut {cut}: {detail}"
                    );
                }
            }
            other => panic!("cut at {cut}: expected Malformed, got {other:?}"),
        }
        cut += 37;
    }
    assert!(matches!(
        parse(&bytes[..end + 10]),
        Err(CustomsError::Malformed { .. })
    ));
}

#[test]
fn wrong_namespace_is_rejected() {
    let err = parse(include_str!("../../tests/fixtures/customs/wrong_namespace.xml").as_bytes())
        .unwrap_err();
    match &err {
        CustomsError::WrongNamespace { found } => {
            assert_eq!(found, "http://www.chinaport.gov.cn/ceb/v2")
        }
        other => panic!("expected WrongNamespace, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("expected http://www.chinaport.gov.cn/ceb"),
        "{err}"
    );
    // No namespace at all.
    let bare = SAMPLE_625
        .replace("ceb:", "")
        .replace(" xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\"", "");
    let err = parse(bare.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, CustomsError::WrongNamespace { found } if found.is_empty()),
        "{err:?}"
    );
    assert!(err.to_string().contains("no namespace"));
}

#[test]
fn unknown_root_is_rejected() {
    let xml = r#"<ceb:CEB311Message guid="x" version="1.0" xmlns:ceb="http://www.chinaport.gov.cn/ceb"/>"#;
    assert!(
        matches!(parse(xml.as_bytes()), Err(CustomsError::UnknownRoot(r)) if r == "CEB311Message")
    );
}

#[test]
fn oversize_input_is_rejected_before_parsing() {
    let mut xml = SAMPLE_625.as_bytes().to_vec();
    xml.resize(MAX_MESSAGE_BYTES + 1, b' ');
    let started = Instant::now();
    let err = parse(&xml).unwrap_err();
    assert!(
        matches!(err, CustomsError::TooLarge { size, limit } if size == MAX_MESSAGE_BYTES + 1 && limit == MAX_MESSAGE_BYTES)
    );
    assert!(started.elapsed() < Duration::from_millis(100));
    // Exactly at the limit is still read.
    let mut ok = SAMPLE_625.as_bytes().to_vec();
    ok.resize(MAX_MESSAGE_BYTES, b'\n');
    assert_eq!(parse(&ok).unwrap().kind, MessageKind::Ceb625);
}

#[test]
fn billion_laughs_is_rejected_fast() {
    let started = Instant::now();
    let err = parse(include_str!("../../tests/fixtures/customs/billion_laughs.xml").as_bytes())
        .unwrap_err();
    assert!(matches!(err, CustomsError::Hostile(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(err.to_string().contains("DOCTYPE"));
}

#[test]
fn external_entity_is_rejected() {
    let err = parse(include_str!("../../tests/fixtures/customs/external_entity.xml").as_bytes())
        .unwrap_err();
    assert!(matches!(err, CustomsError::Hostile(_)), "{err:?}");
    // A DOCTYPE without any entity is refused as well, in any case.
    let xml = SAMPLE_625.replacen("?>", "?><!doctype foo>", 1);
    assert!(matches!(
        parse(xml.as_bytes()),
        Err(CustomsError::Hostile(_))
    ));
    // An undeclared entity reference is not expanded: malformed.
    let xml = SAMPLE_625.replacen("七天无理由退货", "&xxe;", 1);
    assert!(matches!(
        parse(xml.as_bytes()),
        Err(CustomsError::Malformed { .. })
    ));
}

#[test]
fn more_than_100_lists_is_rejected() {
    let start = SAMPLE_625.find("<ceb:InvtRefund>").unwrap();
    let end = SAMPLE_625.find("</ceb:InvtRefund>").unwrap() + "</ceb:InvtRefund>".len();
    let one = &SAMPLE_625[start..end];
    let build = |n: usize| {
        format!(
            "{}{}{}",
            &SAMPLE_625[..start],
            one.repeat(n),
            &SAMPLE_625[end..]
        )
    };
    // The sample holds two lists; replacing the first by n copies gives n + 1.
    assert_eq!(parse(build(99).as_bytes()).unwrap().items.len(), 100);
    let err = parse(build(100).as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            CustomsError::TooMany {
                what: "InvtRefund",
                found: 101,
                max: 100
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "too many InvtRefund in one message: 101, at most 100"
    );
}

#[test]
fn more_than_99_lines_is_a_list_error() {
    let start = SAMPLE_625.find("<ceb:InvtRefundList>").unwrap();
    let end = SAMPLE_625.find("</ceb:InvtRefundList>").unwrap() + "</ceb:InvtRefundList>".len();
    let lines: String = (1..=100)
        .map(|g| {
            SAMPLE_625[start..end].replace(
                "<ceb:gnum>1</ceb:gnum>",
                &format!("<ceb:gnum>{}</ceb:gnum>", g + 10),
            )
        })
        .collect();
    let xml = format!("{}{}{}", &SAMPLE_625[..start], lines, &SAMPLE_625[end..]);
    let p = parse(xml.as_bytes()).unwrap();
    let errors = p.items.errors();
    assert_eq!(errors.len(), 1, "only the first list is rejected");
    assert_eq!(errors[0].2[0].field, "InvtRefundList");
    assert!(errors[0].2[0].message.contains("at most 99"));
}

#[test]
fn empty_message_is_rejected() {
    let xml = r#"<ceb:CEB626Message guid="x" version="1.0" xmlns:ceb="http://www.chinaport.gov.cn/ceb"></ceb:CEB626Message>"#;
    let err = parse(xml.as_bytes()).unwrap_err();
    assert!(matches!(err, CustomsError::Empty { .. }));
    assert_eq!(
        err.to_string(),
        "the CEB626Message holds no InvtRefundReturn"
    );
}

#[test]
fn message_level_fields_are_checked() {
    let no_base = {
        let s = SAMPLE_625.find("<ceb:BaseTransfer>").unwrap();
        let e = SAMPLE_625.find("</ceb:BaseTransfer>").unwrap() + "</ceb:BaseTransfer>".len();
        format!("{}{}", &SAMPLE_625[..s], &SAMPLE_625[e..])
    };
    let err = parse(no_base.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CEB625Message/BaseTransfer: is required but missing"
    );

    let bad_cop = SAMPLE_625.replace(
        "<ceb:copCode>5001960AG1</ceb:copCode>",
        "<ceb:copCode>5001-960</ceb:copCode>",
    );
    let err = parse(bad_cop.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, CustomsError::Field { path, .. } if path == "CEB625Message/BaseTransfer/copCode"),
        "{err:?}"
    );

    let v2 = SAMPLE_625.replacen("version=\"1.0\" xmlns", "version=\"2.0\" xmlns", 1);
    assert!(parse(v2.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("@version"));
    let v1 = SAMPLE_625.replacen("version=\"1.0\" xmlns", "version=\"v1.0\" xmlns", 1);
    assert_eq!(parse(v1.as_bytes()).unwrap().version, "v1.0");
    let no_guid = SAMPLE_625.replacen("guid=\"0B5B7A40-39B4-4D4F-9F43-0B6A6D3A1C21\"", "", 1);
    assert!(parse(no_guid.as_bytes())
        .unwrap_err()
        .to_string()
        .starts_with("CEB625Message/@guid"));
}

#[test]
fn receipts_may_omit_base_transfer() {
    let p =
        parse(include_str!("../../tests/fixtures/customs/ceb622_sample.xml").as_bytes()).unwrap();
    assert_eq!(p.base_transfer, None);
}

#[test]
fn new_guid_is_an_upper_case_uuid() {
    let g = new_guid();
    assert_eq!(g.len(), 36);
    assert_eq!(g, g.to_uppercase());
    assert!(uuid::Uuid::parse_str(&g).is_ok());
    assert_ne!(g, new_guid());
}

/// The first list of a sample with one field changed: that list is rejected naming the field,
/// the others still parse. `(what, sample, replace, with, field)`.
#[test]
fn a_bad_field_in_a_ceb621_ceb622_or_ceb626_item_rejects_that_item_naming_the_field() {
    const S621: &str = include_str!("../../tests/fixtures/customs/ceb621_sample.xml");
    const S622: &str = include_str!("../../tests/fixtures/customs/ceb622_sample.xml");
    const S626: &str = include_str!("../../tests/fixtures/customs/ceb626_sample.xml");
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "621 invtNo too long",
            S621,
            "<invtNo>80142026I000000101</invtNo>",
            "<invtNo>80142026I0000001019</invtNo>",
            "invtNo",
        ),
        (
            "621 bad customs office",
            S621,
            "<customsCode>8014</customsCode>",
            "<customsCode>80X4</customsCode>",
            "customsCode",
        ),
        (
            "621 bad declaration date",
            S621,
            "<declTime>20260918</declTime>",
            "<declTime>20261318</declTime>",
            "declTime",
        ),
        (
            "621 missing order",
            S621,
            "<orderNo>YMT20260918000101</orderNo>",
            "",
            "orderNo",
        ),
        (
            "621 bad ebc code",
            S621,
            "<ebcCode>HK0000E001</ebcCode>",
            "<ebcCode>HK0-E001</ebcCode>",
            "ebcCode",
        ),
        (
            "622 bad status",
            S622,
            "<ceb:returnStatus>800</ceb:returnStatus>",
            "<ceb:returnStatus>eight</ceb:returnStatus>",
            "returnStatus",
        ),
        (
            "622 bad time",
            S622,
            "<ceb:returnTime>20260920101530123</ceb:returnTime>",
            "<ceb:returnTime>2026-09-20</ceb:returnTime>",
            "returnTime",
        ),
        (
            "622 bad list number",
            S622,
            "<ceb:invtNo>80142026I000000101</ceb:invtNo>",
            "<ceb:invtNo>801</ceb:invtNo>",
            "invtNo",
        ),
        (
            "626 guid too long",
            S626,
            "<guid>6F9619FF-8B86-D011-B42D-000000000001</guid>",
            "<guid>6F9619FF-8B86-D011-B42D-000000000001-TOO-LONG</guid>",
            "guid",
        ),
        (
            "626 bad status",
            S626,
            "<returnStatus>399</returnStatus>",
            "<returnStatus></returnStatus>",
            "returnStatus",
        ),
        (
            "626 bad time",
            S626,
            "<returnTime>20261021113000456</returnTime>",
            "<returnTime>yesterday</returnTime>",
            "returnTime",
        ),
    ];
    for (what, sample, from, to, field) in cases {
        assert!(sample.contains(from), "{what}: the sample has {from}");
        let changed = sample.replacen(from, to, 1);
        let parsed = parse(changed.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
        let errors = parsed.items.errors();
        assert_eq!(
            errors.len(),
            1,
            "{what}: only the changed item is rejected: {errors:?}"
        );
        let (index, _, errs) = errors[0];
        assert_eq!(index, 0, "{what}");
        assert!(
            errs.iter().any(|e| e.field.ends_with(field)),
            "{what}: expected an error on {field}, got {errs:?}"
        );
        assert!(
            errs.iter().all(|e| !e.message.is_empty()),
            "{what}: {errs:?}"
        );
    }
}

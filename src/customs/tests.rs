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
            "621 ieFlag of an export",
            S621,
            "<ieFlag>I</ieFlag>",
            "<ieFlag>E</ieFlag>",
            "ieFlag",
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

/// Fields the warehouse never uses are read as customs keeps them: an odd value or a missing
/// one is flagged on the list, which parses all the same; text is kept as given.
#[test]
fn odd_values_of_fields_the_warehouse_does_not_use_are_flagged_not_refused() {
    const S621: &str = include_str!("../../tests/fixtures/customs/ceb621_sample.xml");
    let changed = S621
        .replacen("<unit1>035</unit1>", "", 1)
        .replacen(
            "<copNo>COP20260918000101</copNo>",
            "<copNo>COP20260918000101</copNo><preNo>B2026091800101</preNo>",
            1,
        )
        .replacen(
            "<declTime>20260918</declTime>",
            "<declTime>20261318</declTime>",
            1,
        )
        .replacen(
            "<gmodel>50g/瓶</gmodel>",
            "<gmodel>50g/瓶</gmodel><gmodel>50g</gmodel>",
            1,
        );
    let p = parse(changed.as_bytes()).unwrap();
    let Items::Inventory(items) = p.items else {
        panic!("lists")
    };
    let list = items[0].result.as_ref().expect("the list is not refused");
    assert_eq!(list.pre_no, "B2026091800101", "kept as given");
    assert_eq!(list.lines[0].unit1, "");
    let fields: Vec<&str> = items[0].flags.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "preNo",
            "declTime",
            "InventoryList[1]/gmodel",
            "InventoryList[1]/unit1"
        ]
    );
    assert_eq!(items[0].flags[3].message, "is missing");
    assert!(
        items[0].flags[0].message.contains("18"),
        "{:?}",
        items[0].flags
    );
    assert!(items[1].flags.is_empty() && items[1].result.is_ok());
}

/// A CEB622 receipt sent before customs numbered the list has no invtNo: it parses (the
/// importer notes and skips it); a release without one is refused.
#[test]
fn an_interim_ceb622_receipt_may_lack_the_list_number_but_a_release_may_not() {
    let xml = include_str!("../../tests/fixtures/customs/ceb622_interim.xml");
    let p = parse(xml.as_bytes()).unwrap();
    let Items::InventoryReturn(items) = &p.items else {
        panic!("receipts")
    };
    let r = items[0].result.as_ref().expect("an interim receipt parses");
    assert_eq!((r.invt_no.as_deref(), r.return_status), (None, 1));
    let release = xml.replacen(
        "<ceb:returnStatus>1</ceb:returnStatus>",
        "<ceb:returnStatus>800</ceb:returnStatus>",
        1,
    );
    let release = parse(release.as_bytes()).unwrap();
    let errors = release.items.errors();
    assert_eq!(errors[0].2[0].field, "invtNo", "{errors:?}");
}

// ---------------------------------------------------------------------------
// Cost: hostile shapes are refused or read in time linear in their size
// ---------------------------------------------------------------------------

/// About the largest message the HTTP API takes (its limit is 10 MiB).
const TEN_MB: usize = 10_000_000;

/// The CEB625 sample with `extra` added to the root's start tag.
fn root_with(extra: &str) -> String {
    SAMPLE_625.replacen(" xmlns:ceb=", &format!("{extra} xmlns:ceb="), 1)
}

/// How many pieces of `piece` bytes make a message of about `bytes`.
fn pieces(bytes: usize, piece: usize) -> usize {
    (bytes - SAMPLE_625.len()) / piece
}

/// `n` attributes `a0000000="" …` (12 bytes each) on the root.
fn many_attributes(n: usize) -> String {
    root_with(&(0..n).map(|i| format!(" a{i:07}=\"\"")).collect::<String>())
}

/// `n` namespace declarations `xmlns:p0000000="u" …` (19 bytes each) on the root.
fn many_declarations(n: usize) -> String {
    root_with(
        &(0..n)
            .map(|i| format!(" xmlns:p{i:07}=\"u\""))
            .collect::<String>(),
    )
}

/// `n` unknown empty elements (10 bytes each) among the fields of the first application
/// head, where every field lookup walks past them.
fn many_siblings(n: usize) -> String {
    SAMPLE_625.replacen(
        "<ceb:InvtRefundHead>",
        &format!("<ceb:InvtRefundHead>{}", "<ceb:pad/>".repeat(n)),
        1,
    )
}

/// The first application's reason as one text node of `n` pieces of 20 bytes, entities
/// and all.
fn big_text(n: usize) -> String {
    SAMPLE_625.replacen("七天无理由退货", &"退货 &amp; 换货 ".repeat(n), 1)
}

/// The sample padded to `bytes` by a comment: a benign message that costs only a look at
/// every byte.
fn benign(bytes: usize) -> String {
    let pad = "x".repeat(bytes - SAMPLE_625.len() - "<!---->".len());
    SAMPLE_625.replacen("?>", &format!("?><!--{pad}-->"), 1)
}

/// The fastest of three parses of `xml`.
fn fastest_parse(xml: &[u8]) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let _ = parse(xml);
            started.elapsed()
        })
        .min()
        .unwrap()
}

/// What parsing `xml` gave ("parsed" or the error), or `None` when it took longer than
/// `limit` (three tries, so that one busy moment of a loaded machine does not count). The
/// parse runs on a thread of its own so that a slow one fails the test instead of hanging it.
fn parse_within(xml: &str, limit: Duration) -> Option<String> {
    let xml = std::sync::Arc::new(xml.as_bytes().to_vec());
    (0..3).find_map(|_| {
        let (tx, rx) = std::sync::mpsc::channel();
        let xml = xml.clone();
        std::thread::spawn(move || {
            let outcome = match parse(&xml) {
                Ok(_) => "parsed".to_string(),
                Err(e) => e.to_string(),
            };
            let _ = tx.send(outcome);
        });
        rx.recv_timeout(limit).ok()
    })
}

#[test]
fn attributes_beyond_256_on_one_element_are_refused_as_hostile() {
    // guid, version and xmlns:ceb are three.
    assert_eq!(
        parse(many_attributes(253).as_bytes()).unwrap().kind,
        MessageKind::Ceb625
    );
    for n in [254, 300_000] {
        let err = parse(many_attributes(n).as_bytes()).unwrap_err();
        assert!(matches!(err, CustomsError::Hostile(_)), "{n}: {err:?}");
        assert_eq!(
            err.to_string(),
            "refused a potentially hostile message: <CEB625Message> at line 2, column 1 has \
             more than 256 attributes; customs messages have a few"
        );
    }
    // A skipped foreign element is held to it as well.
    let attrs: String = (0..300).map(|i| format!(" a{i}=\"\"")).collect();
    let xml = SAMPLE_625.replacen(
        "<ceb:InvtRefund>",
        &format!("<ds:Signature xmlns:ds=\"urn:ds\"{attrs}/><ceb:InvtRefund>"),
        1,
    );
    let err = parse(xml.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("<Signature> at line 3"), "{err}");
}

#[test]
fn namespace_declarations_beyond_64_in_scope_are_refused_as_hostile() {
    // xmlns:ceb is one.
    assert_eq!(
        parse(many_declarations(63).as_bytes()).unwrap().kind,
        MessageKind::Ceb625
    );
    for n in [64, 200, 20_000] {
        let err = parse(many_declarations(n).as_bytes()).unwrap_err();
        assert!(matches!(err, CustomsError::Hostile(_)), "{n}: {err:?}");
        assert_eq!(
            err.to_string(),
            "refused a potentially hostile message: more than 64 namespace declarations are in \
             scope at <CEB625Message> at line 2, column 1; customs messages make a few"
        );
    }
    // Those of the ancestors count, skipped ones included, but not those of closed siblings.
    let decls = |n: usize| -> String { (0..n).map(|i| format!(" xmlns:q{i}=\"u\"")).collect() };
    let siblings = format!("<ext:a xmlns:ext=\"urn:x\"{}/>", decls(60)).repeat(50);
    let xml = SAMPLE_625.replacen(
        "<ceb:InvtRefund>",
        &format!("{siblings}<ceb:InvtRefund>"),
        1,
    );
    assert!(parse(xml.as_bytes()).is_ok());
    let nested = format!("<ext:a xmlns:ext=\"urn:x\"{}>", decls(9)).repeat(7);
    let xml = SAMPLE_625.replacen(
        "<ceb:InvtRefund>",
        &format!("{nested}{}<ceb:InvtRefund>", "</ext:a>".repeat(7)),
        1,
    );
    let err = parse(xml.as_bytes()).unwrap_err();
    assert!(matches!(err, CustomsError::Hostile(_)), "{err:?}");
    assert!(err.to_string().contains("in scope at <a>"), "{err}");
}

#[test]
fn a_repeated_attribute_or_declaration_is_malformed_however_far_apart() {
    let far: String = (0..200).map(|i| format!(" a{i}=\"\"")).collect();
    for (what, extra) in [
        ("attribute", format!("{far} a7=\"x\"")),
        ("declaration", " xmlns:p=\"u\" xmlns:p=\"v\"".to_string()),
        ("guid", " guid=\"again\"".to_string()),
    ] {
        match parse(root_with(&extra).as_bytes()) {
            Err(CustomsError::Malformed { line, detail, .. }) => {
                assert_eq!(line, 2, "{what}");
                assert!(
                    detail.contains("appears twice in <CEB625Message>"),
                    "{what}: {detail}"
                );
            }
            other => panic!("{what}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn foreign_blocks_count_against_the_depth_and_element_bounds() {
    let deep = format!(
        "{}{}",
        "<ds:x xmlns:ds=\"urn:ds\">".repeat(40),
        "</ds:x>".repeat(40)
    );
    let xml = SAMPLE_625.replacen("<ceb:InvtRefund>", &format!("{deep}<ceb:InvtRefund>"), 1);
    let err = parse(xml.as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("nested more than 32 deep"),
        "{err}"
    );

    let many = format!(
        "<ds:S xmlns:ds=\"urn:ds\">{}</ds:S>",
        "<ds:x/>".repeat(400_000)
    );
    let xml = SAMPLE_625.replacen("<ceb:InvtRefund>", &format!("{many}<ceb:InvtRefund>"), 1);
    let err = parse(xml.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            CustomsError::TooMany {
                what: "XML elements",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Each hostile shape, at the sizes of the security review and at 10 MB, is refused or read
/// within 50 times what a benign message of the same size takes (plus a second for a busy
/// machine). Linear reading stays well inside that; the quadratic reading it replaces took
/// 76 s for 300 000 attributes of 3.2 MB, and would take hours for 10 MB.
#[test]
fn hostile_shapes_are_refused_or_read_in_time_linear_in_their_size() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "300k attributes",
            many_attributes(300_000),
            "more than 256 attributes",
        ),
        (
            "10 MB of attributes",
            many_attributes(pieces(TEN_MB, 12)),
            "more than 256 attributes",
        ),
        (
            "20k declarations",
            many_declarations(20_000),
            "namespace declarations",
        ),
        (
            "10 MB of declarations",
            many_declarations(pieces(TEN_MB, 19)),
            "namespace declarations",
        ),
        ("50k siblings", many_siblings(50_000), "parsed"),
        (
            "10 MB of siblings",
            many_siblings(pieces(TEN_MB, 10)),
            "too many XML elements",
        ),
        ("10 MB text node", big_text(pieces(TEN_MB, 20)), "parsed"),
    ];
    for (what, xml, says) in cases {
        assert!(xml.len() <= TEN_MB, "{what}: {} bytes", xml.len());
        let baseline = fastest_parse(benign(xml.len()).as_bytes());
        let limit = baseline * 50 + Duration::from_secs(1);
        let outcome = parse_within(&xml, limit)
            .unwrap_or_else(|| panic!("{what}: not read within {limit:?} (benign: {baseline:?})"));
        assert!(outcome.contains(says), "{what}: {outcome}");
    }
}

//! Labels over HTTP: return, bin, item labels and A4 bin sheets in SVG, PNG and ZPL, read
//! back with an independent barcode reader (rxing); the ZPL drawn as a printer draws it and
//! compared with the PNG, Chinese included; bad label requests are 4xx problem+json.

use std::collections::HashSet;

use chrono::Duration;
use reqwest::blocking::Client;
use rxing::{BarcodeFormat, DecodeHints};
use serde_json::json;

use crate::flowkit::*;
use crate::support::*;

/// The ZPL reader of the label module's own tests (`^GB`, `^GFA` with ZPL's compression,
/// `^BC`), shared as a file.
#[path = "../../src/labels/zpl_raster.rs"]
mod zpl_raster;

/// Status, content type and body bytes of a GET.
fn fetch(app: &TestApp, client: &Client, path: &str) -> (u16, String, Vec<u8>) {
    let (status, ct, _, body) = fetch_with_headers(app, client, path);
    (status, ct, body)
}

/// [`fetch`] with the answer's headers; the answer is checked against the OpenAPI description.
fn fetch_with_headers(
    app: &TestApp,
    client: &Client,
    path: &str,
) -> (u16, String, reqwest::header::HeaderMap, Vec<u8>) {
    let r = client.get(app.url(path)).send().expect("the app answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.bytes().expect("a body").to_vec();
    crate::conformance::check(&crate::conformance::Exchange {
        method: "GET",
        target: path,
        status,
        content_type: &ct,
        body: &body,
    });
    (status, ct, headers, body)
}

#[track_caller]
fn ok(app: &TestApp, client: &Client, path: &str, content_type: &str) -> Vec<u8> {
    let (status, ct, body) = fetch(app, client, path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert!(ct.starts_with(content_type), "{path}: {ct}");
    body
}

/// Every Code 128 symbol found in a PNG.
fn decode_png(png: &[u8]) -> Vec<String> {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a PNG")
        .to_luma8();
    let (w, h) = img.dimensions();
    let mut hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::CODE_128])),
        TryHarder: Some(true),
        ..Default::default()
    };
    let decode = |img: &image::GrayImage, hints: &mut DecodeHints| {
        let (w, h) = img.dimensions();
        rxing::helpers::detect_multiple_in_luma_with_hints(img.as_raw().clone(), w, h, hints)
            .map(|rs| {
                rs.iter()
                    .map(|r| r.getText().to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let found = decode(&img, &mut hints);
    if !found.is_empty() {
        return found;
    }
    // Symbols printed along the long side of a label.
    let turned = image::imageops::rotate270(&img);
    let found = decode(&turned, &mut hints);
    assert!(!found.is_empty(), "no Code 128 in a {w}x{h} PNG");
    found
}

/// A ZPL label (one `^XA`…`^XZ`) against the PNG of the same label: the printer's dots are
/// the PNG's, every line of text is a graphic field in the words given by its comment, drawn
/// from glyphs the label font has (no `.notdef` boxes) and clear of the barcode and its quiet
/// zones, and the barcode that the printer draws decodes to `data`. Returns the words.
fn zpl_prints_the_png(zpl: &[u8], png: &[u8], data: &str) -> Vec<String> {
    let labels = zpl_raster::read(std::str::from_utf8(zpl).expect("UTF-8 ZPL"));
    assert_eq!(labels.len(), 1);
    let l = &labels[0];
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a PNG")
        .to_luma8();
    assert_eq!((l.width, l.height), img.dimensions());
    let differ = (0..l.height)
        .flat_map(|y| (0..l.width).map(move |x| (x, y)))
        .filter(|&(x, y)| l.at(x, y) != (img.get_pixel(x, y).0[0] == 0))
        .count();
    assert_eq!(differ, 0, "the ZPL prints other dots than the PNG shows");
    let bars = l.barcodes();
    assert_eq!(bars.len(), 1);
    let zpl_raster::Kind::Barcode { data: d, .. } = &bars[0].kind else {
        unreachable!()
    };
    assert_eq!(d, data);
    let b = bars[0];
    let (zx, zy, zw, zh) = b.with_quiet_zones();
    let words: Vec<String> = l
        .graphics()
        .into_iter()
        .map(|(words, f)| {
            assert!(
                !f.meets(zx, zy, zw, zh),
                "{words:?} at {f:?} is on the barcode {b:?} or its quiet zones"
            );
            let ink = (f.y..f.y + f.h)
                .flat_map(|y| (f.x..(f.x + f.w).min(l.width)).map(move |x| (x, y)))
                .filter(|&(x, y)| l.at(x, y))
                .count();
            assert!(ink > 10 * words.chars().count(), "{words:?} has {ink} dots");
            for c in words.chars() {
                assert!(
                    bonded_returns::labels::font::covers(c).expect("the font"),
                    "{c} of {words:?} prints as a box"
                );
            }
            words.to_string()
        })
        .collect();
    assert_eq!(decode_png(png), [data], "the PNG's barcode");
    let mut out = Vec::new();
    l.to_image()
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("a PNG of the ZPL");
    assert_eq!(decode_png(&out), [data], "the ZPL's barcode as printed");
    words
}

fn svg_ok(body: &[u8]) -> String {
    let text = String::from_utf8(body.to_vec()).expect("UTF-8 SVG");
    let mut reader = quick_xml::Reader::from_str(&text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("the SVG is not well-formed XML: {e}"),
        }
    }
    assert!(text.contains("<svg"), "{text}");
    text
}

fn zpl_ok(body: &[u8], data: &str) -> String {
    let z = String::from_utf8(body.to_vec()).expect("ASCII ZPL");
    let t = z.trim();
    assert!(t.starts_with("^XA") && t.ends_with("^XZ"), "{z}");
    assert!(z.contains("^BC"), "native Code 128: {z}");
    // ^FD may carry code-set switches (>5 …); the data's own characters are all there in order.
    let fd: String = z
        .split("^BC")
        .nth(1)
        .and_then(|s| s.split("^FD").nth(1))
        .and_then(|s| s.split("^FS").next())
        .expect("a ^FD after ^BC")
        .to_string();
    let mut rest = fd.as_str();
    for c in data.chars() {
        let at = rest
            .find(c)
            .unwrap_or_else(|| panic!("{data} not in ^FD{fd}"));
        rest = &rest[at + c.len_utf8()..];
    }
    z
}

both! {
    fn return_labels_read_back_at_every_size_and_dpi_and_carry_their_marks(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        for size in ["100x150", "60x40"] {
            for dpi in [203, 300] {
                let q = format!("size={size}&dpi={dpi}");
                let png = ok(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.png?{q}"), "image/png");
                assert_eq!(decode_png(&png), std::slice::from_ref(&id), "{size} at {dpi} dpi");
                let z = ok(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.zpl?{q}"), "");
                zpl_ok(&z, &id);
            }
            let svg = svg_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.svg?size={size}"), "image/svg+xml"));
            let (w, h) = if size == "60x40" { ("60mm", "40mm") } else { ("100mm", "150mm") };
            assert!(svg.contains(&format!("width=\"{w}\"")) && svg.contains(&format!("height=\"{h}\"")), "{size}: {svg}");
            assert!(svg.contains(&id) && svg.contains(&k.seed.a.warehouse), "human-readable text: {svg}");
            assert!(!svg.contains("HOLD") && !svg.contains("LATE"), "no marks on a plain parcel");
        }
        // A parcel on hold says so.
        k.hold(&id).assert_status(200);
        let svg = svg_ok(&ok(app, &k.sup, &format!("/api/v1/labels/returns/{id}.svg"), "image/svg+xml"));
        assert!(svg.contains("HOLD"), "{svg}");
        // A late parcel says so.
        let mut l = k.list();
        l.released_at = ago(46);
        k.declare(&l);
        let report = k.import(&k.admin, ceb625(&[l.invt_refund(&[(1, 3), (2, 2)], l.released_at + Duration::days(10))]));
        let late = report.json["items"][0]["key"].as_str().expect("an id").to_string();
        k.receive(&late).assert_status(200);
        let svg = svg_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/returns/{late}.svg"), "image/svg+xml"));
        assert!(svg.contains("LATE"), "{svg}");
    }

    fn bin_labels_and_whole_warehouse_sheets_read_back_even_with_long_bin_codes(app: &TestApp) {
        let k = Kit::new(app);
        let wh = k.seed.a.warehouse.clone();
        let bin = k.seed.a.bin("restock").to_string();
        for dpi in [203, 300] {
            let png = ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}/{bin}.png?dpi={dpi}"), "image/png");
            assert_eq!(decode_png(&png), std::slice::from_ref(&bin));
        }
        zpl_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}/{bin}.zpl"), ""), &bin);
        svg_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}/{bin}.svg"), "image/svg+xml"));
        // The whole warehouse on A4: the seed's bin codes (e.g. A-PENDING_INSPECTION-01) are
        // too long for one cell and take a row; every one of them is on the sheet.
        let (status, _, _) = fetch(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}.png"));
        assert_eq!(status, 200);
        let (_, _, headers, png) = fetch_with_headers(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}.png?dpi=300"));
        assert_eq!(headers["x-pages"], "1");
        let found: HashSet<String> = decode_png(&png).into_iter().collect();
        let all: HashSet<String> = k.seed.a.bins.iter().map(|(_, b)| b.clone()).collect();
        assert!(found.is_subset(&all) && !found.is_empty(), "{found:?} of {all:?}");
        svg_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}.svg"), "image/svg+xml"));
        // One area only.
        let svg = svg_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}.svg?area=restock"), "image/svg+xml"));
        assert!(svg.contains(&bin));
        assert!(!svg.contains(k.seed.a.bin("discrepancy")));
        // Many bins need more pages.
        for i in 0..30 {
            app.post_json(&k.admin, &format!("/api/v1/warehouses/{wh}/bins"), &json!({"code": format!("R{i:02}"), "area": "restock"}))
                .assert_status(201);
        }
        let (status, _, headers, _) = fetch_with_headers(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}.svg?area=restock&page=2"));
        assert_eq!(status, 200);
        assert_eq!(headers["x-pages"], "2");
        let r = fetch(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}.svg?area=restock&page=3"));
        assert_eq!(r.0, 404);
    }

    fn item_labels_carry_product_name_owner_gcode_return_and_line(app: &TestApp) {
        let k = Kit::new(app);
        let (l, id) = k.return_in("inspected");
        let data = format!("{}-{}-{}-{}", l.ebc, l.line(1).gcode, id, 1);
        let name = l.line(1).gname.clone();
        for dpi in [203, 300] {
            let png = ok(app, &k.floor_a, &format!("/api/v1/labels/items/{id}/1.png?dpi={dpi}"), "image/png");
            assert_eq!(decode_png(&png), std::slice::from_ref(&data), "{dpi} dpi");
            let zpl = ok(app, &k.floor_a, &format!("/api/v1/labels/items/{id}/1.zpl?dpi={dpi}"), "application/x-zpl");
            zpl_ok(&zpl, &data);
            let words = zpl_prints_the_png(&zpl, &png, &data);
            assert!(words.contains(&name) && words.contains(&"商品名称 PRODUCT".to_string()), "{words:?}");
        }
        let svg = svg_ok(&ok(app, &k.floor_a, &format!("/api/v1/labels/items/{id}/1.svg"), "image/svg+xml"));
        assert!(svg.contains(&format!(">{name}</text>")), "{svg}");
    }

    fn chinese_words_print_the_same_in_png_and_zpl_and_keep_off_the_barcode(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        let wh = k.seed.a.warehouse.clone();
        let bin = k.seed.a.bin("restock").to_string();
        for dpi in [203, 300] {
            for size in ["100x150", "60x40"] {
                let q = format!("size={size}&dpi={dpi}");
                let png = ok(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.png?{q}"), "image/png");
                let zpl = ok(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.zpl?{q}"), "application/x-zpl");
                let words = zpl_prints_the_png(&zpl, &png, &id);
                assert!(words.iter().any(|w| w.starts_with("到达")), "{size} {dpi}: {words:?}");
                if size == "100x150" {
                    for w in ["退货 RETURN", "跨境优选电子商务有限公司", "电商企业 EBC", "仓库 WAREHOUSE"] {
                        assert!(words.iter().any(|x| x == w), "{w} on the {size} label at {dpi}: {words:?}");
                    }
                }
            }
            let q = format!("dpi={dpi}");
            let png = ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}/{bin}.png?{q}"), "image/png");
            let zpl = ok(app, &k.floor_a, &format!("/api/v1/labels/bins/{wh}/{bin}.zpl?{q}"), "application/x-zpl");
            let words = zpl_prints_the_png(&zpl, &png, &bin);
            assert!(words.contains(&"上架 RESTOCK".to_string()), "{words:?}");
        }
        // A parcel on hold: the mark is a white-on-black field of its own.
        k.hold(&id).assert_status(200);
        let png = ok(app, &k.sup, &format!("/api/v1/labels/returns/{id}.png"), "image/png");
        let zpl = ok(app, &k.sup, &format!("/api/v1/labels/returns/{id}.zpl"), "application/x-zpl");
        let words = zpl_prints_the_png(&zpl, &png, &id);
        assert!(words.contains(&"扣留 HOLD".to_string()), "{words:?}");
    }

    fn bad_label_requests_are_4xx_problems(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("received");
        let wh = k.seed.a.warehouse.clone();
        let bin = k.seed.a.bin("restock").to_string();
        let cases: Vec<(String, u16)> = vec![
            ("/api/v1/labels/returns/RT20260101999999.svg".into(), 404),
            (format!("/api/v1/labels/returns/{id}.gif"), 404),
            (format!("/api/v1/labels/returns/{id}"), 404),
            (format!("/api/v1/labels/returns/{id}.svg?size=10x10"), 400),
            (format!("/api/v1/labels/returns/{id}.png?dpi=72"), 400),
            (format!("/api/v1/labels/returns/{id}.png?dpi=-1"), 400),
            (format!("/api/v1/labels/returns/{id}.svg?colour=red"), 400),
            ("/api/v1/labels/returns/%E9%80%80%E8%B4%A7.svg".into(), 404),
            (format!("/api/v1/labels/bins/{wh}/%E5%BA%93%E4%BD%8D.svg"), 404),
            (format!("/api/v1/labels/bins/{wh}/NO-SUCH-BIN.svg"), 404),
            (format!("/api/v1/labels/bins/{wh}/{bin}.svg?size=a3"), 400),
            ("/api/v1/labels/bins/NO-SUCH-WH.svg".into(), 404),
            (format!("/api/v1/labels/bins/{wh}.svg?area=nowhere"), 404),
            (format!("/api/v1/labels/bins/{wh}.svg?page=0"), 404),
            (format!("/api/v1/labels/items/{id}/9.svg"), 404),
            (format!("/api/v1/labels/items/{id}/x.svg"), 404),
        ];
        for (path, status) in cases {
            let r = app.get(&k.floor_a, &path);
            assert_eq!(r.status, status, "{path}: {}", r.text);
            assert!(r.is_problem() && !r.code().is_empty(), "{path}: {}", r.text);
        }
        // The item label of a 60x40 label is refused with the reason, not drawn broken.
        let r = app.get(&k.floor_a, &format!("/api/v1/labels/items/{id}/1.png?size=60x40"));
        r.assert_problem(400, "validation");
        assert!(r.text.contains("does not fit"), "{}", r.text);
    }
}

//! Chinese on every format: return, bin and item labels and bin sheets with Chinese text,
//! rendered to PNG and ZPL; the ZPL read back as a printer draws it ([`super::zpl_raster`])
//! and compared with the PNG dot for dot, each Chinese glyph looked for where the layout put
//! it, the barcodes decoded by an independent reader (rxing) and kept clear of text. Previews
//! of what the tests looked at are written to `target/label-previews/`.

use std::collections::HashSet;

use rxing::{BarcodeFormat, DecodeHints};

use super::layout::{self, Doc, Item, Text};
use super::zpl_raster::{self, Kind, Label};
use super::*;

fn ret(name: &str, late: bool, held: bool) -> ReturnLabel {
    ReturnLabel {
        return_id: "RT20261122000001".into(),
        ebc_code: "HK0000E001".into(),
        ebc_name: name.into(),
        warehouse: "XY01".into(),
        arrived_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
        arrival_deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
        late,
        held,
    }
}

fn bin(code: &str, area: &str) -> BinLabel {
    BinLabel {
        warehouse: "XY01".into(),
        area: area.into(),
        bin: code.into(),
    }
}

fn item() -> ItemLabel {
    ItemLabel {
        owner: "HK0000E001".into(),
        gcode: "3304990099".into(),
        return_id: "RT20261122000001".into(),
        gnum: 1,
        name: "保湿面霜".into(),
    }
}

const NAME: &str = "香港某某國際貿易有限公司";

fn gray(r: &Rendered) -> image::GrayImage {
    assert_eq!(r.content_type, "image/png");
    image::load_from_memory_with_format(&r.bytes, image::ImageFormat::Png)
        .expect("a PNG")
        .to_luma8()
}

/// The Code 128 symbols an independent reader finds (turned a quarter when none is found
/// upright: symbols along the long side).
fn decode(img: &image::GrayImage) -> Vec<String> {
    let mut hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::CODE_128])),
        TryHarder: Some(true),
        ..Default::default()
    };
    for img in [img.clone(), image::imageops::rotate270(img)] {
        let (w, h) = img.dimensions();
        if let Ok(rs) =
            rxing::helpers::detect_multiple_in_luma_with_hints(img.into_raw(), w, h, &mut hints)
        {
            return rs.iter().map(|r| r.getText().to_string()).collect();
        }
    }
    Vec::new()
}

fn preview_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("label-previews");
    std::fs::create_dir_all(&dir).expect("the preview folder");
    dir
}

/// Writes a picture for a person to look at (`target/label-previews/NAME.png`).
fn preview(name: &str, img: &image::GrayImage) {
    img.save(preview_dir().join(format!("{name}.png")))
        .expect("a preview");
}

fn texts(doc: &Doc) -> Vec<&Text> {
    doc.items
        .iter()
        .filter_map(|i| match i {
            Item::Text(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// The barcode of a layout with its quiet zones: (x, y, w, h).
fn barcode_zone(doc: &Doc) -> (u32, u32, u32, u32) {
    let b = doc
        .items
        .iter()
        .find_map(|i| match i {
            Item::Bars(b) => Some(b),
            _ => None,
        })
        .expect("a barcode");
    let q = code128::QUIET_MODULES * b.module;
    if b.vertical {
        (b.x, b.y - q, b.height, b.length() + 2 * q)
    } else {
        (b.x - q, b.y, b.length() + 2 * q, b.height)
    }
}

/// Dots of `t`'s box in the columns of its `i`-th character: (black on the label, black in
/// the glyph drawn alone), "black" meaning the words' colour (white in an inverse box).
fn glyph_dots(
    label: &Label,
    t: &Text,
    glyph: &font::Bitmap,
    x0: f32,
    x1: f32,
) -> (Vec<bool>, Vec<bool>) {
    let (mut on_label, mut alone) = (Vec::new(), Vec::new());
    for y in t.rect.y..t.rect.y + t.rect.h {
        for x in x0.floor() as u32..(x1.ceil() as u32).min(t.rect.x + t.rect.w) {
            on_label.push(label.at(x, y) != t.inverse);
            alone.push(glyph.at(x, y));
        }
    }
    (on_label, alone)
}

/// Intersection over union of two sets of dots.
fn iou(a: &[bool], b: &[bool]) -> f64 {
    let both = a.iter().zip(b).filter(|(a, b)| **a && **b).count();
    let any = a.iter().zip(b).filter(|(a, b)| **a || **b).count();
    both as f64 / any.max(1) as f64
}

/// Every character of every line that is not ASCII is printed where the layout put it: the
/// dots in its columns are its glyph (all of the glyph's dots, little else), not blank, not
/// the `.notdef` box of a missing character, and closer to its own glyph than to any other
/// Chinese character of the label.
fn glyphs_are_there(doc: &Doc, label: &Label, what: &str) -> usize {
    let lines = texts(doc);
    let chinese: HashSet<char> = lines
        .iter()
        .flat_map(|t| t.text.chars())
        .filter(|c| !c.is_ascii() && c.is_alphanumeric())
        .collect();
    let mut checked = 0;
    for t in lines {
        for (i, (c, x0, x1)) in font::glyph_spans(t).unwrap().into_iter().enumerate() {
            // Chinese characters (punctuation such as … has too little ink to judge).
            if c.is_ascii() || !c.is_alphanumeric() {
                continue;
            }
            let own = font::raster_glyph(t, i).unwrap();
            let (on_label, alone) = glyph_dots(label, t, &own, x0, x1);
            let ink = alone.iter().filter(|&&d| d).count();
            assert!(ink > 20, "{what}: {c} of {:?} has no ink ({ink})", t.text);
            let kept = on_label
                .iter()
                .zip(&alone)
                .filter(|(l, a)| **l && **a)
                .count();
            assert_eq!(kept, ink, "{what}: {c} of {:?} lost dots", t.text);
            let own_iou = iou(&on_label, &alone);
            assert!(own_iou > 0.85, "{what}: {c} of {:?}: {own_iou}", t.text);
            // The same place with another character: the notdef box, then the label's others.
            let mut others: Vec<char> = vec!['\u{20000}'];
            others.extend(chinese.iter().filter(|&&d| d != c));
            for d in others {
                let mut swapped: Vec<char> = t.text.chars().collect();
                swapped[i] = d;
                let other = Text {
                    text: swapped.into_iter().collect(),
                    ..t.clone()
                };
                let (_, theirs) =
                    glyph_dots(label, t, &font::raster_glyph(&other, i).unwrap(), x0, x1);
                let their_iou = iou(&on_label, &theirs);
                assert!(
                    their_iou < own_iou && their_iou < 0.7,
                    "{what}: {c} of {:?} looks like {d} ({their_iou} vs {own_iou})",
                    t.text
                );
            }
            checked += 1;
        }
    }
    checked
}

/// One label's ZPL against its layout and its PNG: the same dots everywhere, one barcode that
/// an independent reader decodes, graphic fields inside the page and clear of the barcode and
/// its quiet zones, one per line of text, in the layout's words; and the Chinese glyphs there.
fn zpl_matches(doc: &Doc, zpl: &Label, png: &image::GrayImage, data: &str, what: &str) -> usize {
    assert_eq!((zpl.width, zpl.height), png.dimensions(), "{what}");
    let differ = (0..zpl.height)
        .flat_map(|y| (0..zpl.width).map(move |x| (x, y)))
        .filter(|&(x, y)| zpl.at(x, y) != (png.get_pixel(x, y).0[0] == 0))
        .count();
    assert_eq!(
        differ, 0,
        "{what}: the ZPL prints other dots than the PNG shows"
    );
    let bars = zpl.barcodes();
    assert_eq!(bars.len(), 1, "{what}");
    assert!(
        matches!(&bars[0].kind, Kind::Barcode { data: d, .. } if d == data),
        "{what}"
    );
    let (zx, zy, zw, zh) = barcode_zone(doc);
    assert!(bars[0].meets(zx, zy, zw, zh));
    let graphics = zpl.graphics();
    for (comment, f) in &graphics {
        assert!(
            !f.meets(zx, zy, zw, zh),
            "{what}: {comment:?} at {f:?} meets the barcode's zone {:?}",
            (zx, zy, zw, zh)
        );
        assert!(
            f.y + f.h <= zpl.height && f.x < zpl.width,
            "{what}: {comment:?}"
        );
    }
    let comments: Vec<&str> = graphics.iter().map(|(c, _)| *c).collect();
    let words: Vec<&str> = texts(doc).iter().map(|t| t.text.as_str()).collect();
    assert_eq!(
        comments, words,
        "{what}: one graphic field per line, in order"
    );
    assert_eq!(decode(&zpl.to_image()), [data], "{what}: the ZPL's barcode");
    glyphs_are_there(doc, zpl, what)
}

#[test]
fn return_labels_print_their_chinese_in_png_and_zpl_alike() {
    for dpi in [203, 300] {
        for (size, late, held) in [
            (Size::Label100x150, true, true),
            (Size::Label100x150, false, false),
            (Size::Label60x40, true, true),
        ] {
            let l = ret(NAME, late, held);
            let what = format!("return {size} {dpi} dpi late {late} held {held}");
            let doc = layout::return_label(&l, size, Format::Zpl, dpi).unwrap();
            let png = gray(&render_return(&l, size, Format::Png, dpi).unwrap());
            assert_eq!(decode(&png), [l.return_id.as_str()], "{what}");
            let z = render_return(&l, size, Format::Zpl, dpi).unwrap();
            let labels = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
            assert_eq!(labels.len(), 1);
            let checked = zpl_matches(&doc, &labels[0], &png, &l.return_id, &what);
            // 退货 + the name on 100x150; the marks everywhere they are on.
            let words: String = texts(&doc).iter().map(|t| t.text.as_str()).collect();
            for w in ["逾期", "扣留", "到达", "退货", NAME, "电商企业", "仓库"] {
                let expected = match w {
                    "逾期" => late,
                    "扣留" => held,
                    "到达" => true,
                    _ => size == Size::Label100x150,
                };
                assert_eq!(words.contains(w), expected, "{what}: {w} in {words}");
            }
            assert!(
                checked >= if size == Size::Label100x150 { 20 } else { 6 },
                "{what}: {checked}"
            );
            let name = format!("return-{size}-{dpi}{}", if late { "-marks" } else { "" });
            preview(&format!("{name}-png"), &png);
            let svg = render_return(&l, size, Format::Svg, dpi).unwrap();
            std::fs::write(preview_dir().join(format!("{name}.svg")), svg.bytes).unwrap();
            preview(&format!("{name}-zpl"), &labels[0].to_image());
        }
    }
}

#[test]
fn bin_labels_and_sheets_print_their_area_in_chinese() {
    for dpi in [203, 300] {
        for size in [Size::Label60x40, Size::Label100x150] {
            let b = bin("XY01-R-01-02", "restock");
            let what = format!("bin {size} {dpi} dpi");
            let doc = layout::bin_label(&b, size, Format::Zpl, dpi).unwrap();
            let png = gray(&render_bin(&b, size, Format::Png, dpi).unwrap());
            assert_eq!(decode(&png), [b.bin.as_str()], "{what}");
            let z = render_bin(&b, size, Format::Zpl, dpi).unwrap();
            let labels = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
            let checked = zpl_matches(&doc, &labels[0], &png, &b.bin, &what);
            assert_eq!(checked, 2, "上架 on the {what}");
            preview(&format!("bin-{size}-{dpi}-png"), &png);
            preview(&format!("bin-{size}-{dpi}-zpl"), &labels[0].to_image());
        }
        // A sheet: A4 in PNG, one 60x40 label after the other in ZPL; every area's name.
        let areas = [
            "receiving",
            "pending_inspection",
            "discrepancy",
            "hold",
            "restock",
            "exit",
            "冷库",
        ];
        let ls: Vec<BinLabel> = areas
            .iter()
            .enumerate()
            .map(|(i, a)| bin(&format!("XY01-{i:02}"), a))
            .collect();
        let png = gray(&render_bin_sheet(&ls, Format::Png, dpi).unwrap());
        let found: HashSet<String> = decode(&png).into_iter().collect();
        assert!(!found.is_empty() && found.iter().all(|d| ls.iter().any(|l| &l.bin == d)));
        preview(&format!("bin-sheet-{dpi}-png"), &png);
        let z = render_bin_sheet(&ls, Format::Zpl, dpi).unwrap();
        let labels = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
        assert_eq!(labels.len(), ls.len());
        for (l, zl) in ls.iter().zip(&labels) {
            let what = format!("sheet label {} {dpi} dpi", l.bin);
            let doc = layout::bin_label(l, Size::DEFAULT_BIN, Format::Zpl, dpi).unwrap();
            let png = gray(&render_bin(l, Size::DEFAULT_BIN, Format::Png, dpi).unwrap());
            assert!(zpl_matches(&doc, zl, &png, &l.bin, &what) >= 2, "{what}");
        }
        preview(&format!("bin-sheet-{dpi}-zpl-first"), &labels[1].to_image());
    }
}

#[test]
fn item_labels_print_the_product_name_and_their_words_in_chinese() {
    for dpi in [203, 300] {
        let i = item();
        let what = format!("item 100x150 {dpi} dpi");
        let doc = layout::item_label(&i, Size::Label100x150, Format::Zpl, dpi).unwrap();
        let png = gray(&render_item(&i, Size::Label100x150, Format::Png, dpi).unwrap());
        assert_eq!(decode(&png), [i.data()], "{what}");
        let z = render_item(&i, Size::Label100x150, Format::Zpl, dpi).unwrap();
        let labels = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
        assert!(zpl_matches(&doc, &labels[0], &png, &i.data(), &what) >= 14);
        let words: Vec<&str> = labels[0].graphics().iter().map(|(c, _)| *c).collect();
        assert!(
            words.contains(&"保湿面霜") && words.contains(&"商品名称 PRODUCT"),
            "{words:?}"
        );
        preview(&format!("item-100x150-{dpi}-png"), &png);
        preview(&format!("item-100x150-{dpi}-zpl"), &labels[0].to_image());
        // Short data fits across a 60x40 label; a long name ends in … there.
        let short = ItemLabel {
            owner: "E1".into(),
            gcode: "33".into(),
            return_id: "R7".into(),
            gnum: 12,
            name: "雅诗兰黛特润修护肌活精华露小棕瓶精华液 50ml 礼盒装".into(),
        };
        let what = format!("item 60x40 {dpi} dpi");
        let doc = layout::item_label(&short, Size::Label60x40, Format::Zpl, dpi).unwrap();
        let png = gray(&render_item(&short, Size::Label60x40, Format::Png, dpi).unwrap());
        let z = render_item(&short, Size::Label60x40, Format::Zpl, dpi).unwrap();
        let labels = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
        assert!(zpl_matches(&doc, &labels[0], &png, &short.data(), &what) >= 5);
        let name = texts(&doc)
            .into_iter()
            .find(|t| t.text.starts_with("雅诗"))
            .expect("the name");
        assert!(name.text.ends_with('…'), "{what}: {name:?}");
        preview(&format!("item-60x40-{dpi}-zpl"), &labels[0].to_image());
    }
}

#[test]
fn a_name_too_long_for_its_line_is_shortened_with_an_ellipsis_in_every_format() {
    let long = "香港某某國際貿易有限公司跨境电子商务进出口贸易集团股份有限公司深圳分公司第二营业部";
    let l = ret(long, false, false);
    for dpi in [203, 300] {
        let doc = layout::return_label(&l, Size::Label100x150, Format::Zpl, dpi).unwrap();
        let line = texts(&doc)
            .into_iter()
            .find(|t| t.text.starts_with("香港"))
            .expect("the name's line")
            .clone();
        assert!(line.text.ends_with('…'), "{line:?}");
        let head = line.text.trim_end_matches('…');
        assert!(
            long.starts_with(head) && head.chars().count() > 10,
            "{line:?}"
        );
        assert!(line.x + line.width <= line.rect.x + line.rect.w, "{line:?}");
        let z = render_return(&l, Size::Label100x150, Format::Zpl, dpi).unwrap();
        let zpl = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
        let png = gray(&render_return(&l, Size::Label100x150, Format::Png, dpi).unwrap());
        zpl_matches(
            &doc,
            &zpl[0],
            &png,
            &l.return_id,
            &format!("long name {dpi} dpi"),
        );
        // The ellipsis is drawn, inside the line's box; nothing of the line outside it.
        let (_, f) = zpl[0]
            .graphics()
            .into_iter()
            .find(|(c, _)| *c == line.text)
            .expect("the name's field");
        assert!(f.x >= line.rect.x && f.y >= line.rect.y && f.y + f.h <= line.rect.y + line.rect.h);
        let (_, x0, x1) = *font::glyph_spans(&line).unwrap().last().unwrap();
        let dots = (x0 as u32..x1 as u32)
            .flat_map(|x| (line.rect.y..line.rect.y + line.rect.h).map(move |y| (x, y)))
            .filter(|&(x, y)| zpl[0].at(x, y))
            .count();
        assert!(dots > 3, "the ellipsis is printed: {dots}");
        let svg = String::from_utf8(
            render_return(&l, Size::Label100x150, Format::Svg, dpi)
                .unwrap()
                .bytes,
        )
        .unwrap();
        assert!(
            svg.contains(&format!(">{}</text>", line.text)),
            "the SVG says the same"
        );
        preview(&format!("return-long-name-{dpi}-png"), &png);
    }
}

#[test]
fn a_character_the_font_lacks_prints_as_a_box_on_the_label() {
    // U+2A6A5 (CJK extension B) is not in the label font.
    let l = ret("\u{2A6A5}记贸易有限公司", false, false);
    let doc = layout::return_label(&l, Size::Label100x150, Format::Zpl, 203).unwrap();
    let line = texts(&doc)
        .into_iter()
        .find(|t| t.text.contains('记'))
        .expect("the name's line")
        .clone();
    assert!(line.text.starts_with('\u{2A6A5}'), "kept: {line:?}");
    assert!(!font::covers('\u{2A6A5}').unwrap());
    let z = render_return(&l, Size::Label100x150, Format::Zpl, 203).unwrap();
    let zpl = zpl_raster::read(std::str::from_utf8(&z.bytes).unwrap());
    let (_, x0, x1) = font::glyph_spans(&line).unwrap()[0];
    let notdef = font::raster_glyph(&line, 0).unwrap();
    let (on_label, alone) = glyph_dots(&zpl[0], &line, &notdef, x0, x1);
    assert!(alone.iter().filter(|&&d| d).count() > 40, "the box has ink");
    assert!(
        iou(&on_label, &alone) > 0.9,
        "the box is printed where the character is"
    );
}

//! ZPL II writer for Zebra printers: one label per `^XA`…`^XZ`, `^CI28` (UTF-8), `^PW`/`^LL`
//! from the size at the layout's dpi, native Code 128 (`^BY` module width, `^BCN,h,N,N,N`,
//! or `^BCR` when the symbol runs along the label), rules as `^GB` boxes.
//!
//! All text is a `^GFA` graphic field: the label font's 1-bit pixels ([`font::raster`], the
//! very dots of the PNG) as hexadecimal with ZPL's ASCII compression, each after a `^FX`
//! comment naming its words. So any ZPL printer prints Chinese without optional fonts, at the
//! size and place the layout measured with the real glyph advances. Plain ASCII text is a
//! graphic field too: the printer's `^A0` font has other widths than the layout measured, so
//! it could run into the barcode or wrap; a graphic field cannot.

use std::fmt::Write;

use super::font::{self, Bitmap};
use super::layout::{Doc, Item, Text};
use super::LabelError;

/// Escapes field data: if it contains a character that ZPL interprets (`^`, `~`), returns
/// `^FH` (hex escapes with `_`) and the escaped data; otherwise no `^FH` and the data as is.
pub fn field_data(s: &str) -> (&'static str, String) {
    if !s.contains(['^', '~']) {
        return ("", s.to_string());
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '^' => out.push_str("_5E"),
            '~' => out.push_str("_7E"),
            '_' => out.push_str("_5F"),
            c => out.push(c),
        }
    }
    ("^FH", out)
}

/// A repeat count of ZPL's ASCII compression: `G`…`Y` are 1…19, `g`…`z` are 20…400; a count
/// is written as the sum of at most one of each, so up to 419 in one go.
fn repeat(out: &mut String, mut n: usize, c: char) {
    while n > 0 {
        let k = n.min(419);
        if k >= 20 {
            out.push((b'f' + (k / 20) as u8) as char);
        }
        if k % 20 > 0 {
            out.push((b'F' + (k % 20) as u8) as char);
        }
        out.push(c);
        n -= k;
    }
}

/// One row of hexadecimal digits compressed: runs become counts, trailing `0`s a `,`,
/// trailing `F`s a `!`.
fn compress_row(hex: &[u8], out: &mut String) {
    let end_zero = hex.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
    let end_ones = hex.iter().rposition(|&d| d != b'F').map_or(0, |i| i + 1);
    let (body, tail) = if end_zero < hex.len() {
        (&hex[..end_zero], Some(','))
    } else if end_ones < hex.len() {
        (&hex[..end_ones], Some('!'))
    } else {
        (hex, None)
    };
    let mut i = 0;
    while i < body.len() {
        let d = body[i];
        let run = body[i..].iter().take_while(|&&x| x == d).count();
        if run > 1 {
            repeat(out, run, d as char);
        } else {
            out.push(d as char);
        }
        i += run;
    }
    if let Some(t) = tail {
        out.push(t);
    }
}

/// `^GFA` field data of a bitmap: (bytes per row, total bytes, compressed hexadecimal rows;
/// a row equal to the one before is `:`).
pub fn graphic_field(b: &Bitmap) -> (u32, u32, String) {
    let bpr = b.w.div_ceil(8);
    let mut data = String::new();
    let mut prev: Option<Vec<u8>> = None;
    for y in 0..b.h {
        let mut hex = Vec::with_capacity(2 * bpr as usize);
        for byte in 0..bpr {
            let mut v = 0u8;
            for bit in 0..8 {
                if b.at(b.x + byte * 8 + bit, b.y + y) {
                    v |= 0x80 >> bit;
                }
            }
            hex.extend_from_slice(format!("{v:02X}").as_bytes());
        }
        if prev.as_ref() == Some(&hex) {
            data.push(':');
        } else {
            compress_row(&hex, &mut data);
            prev = Some(hex);
        }
    }
    (bpr, bpr * b.h, data)
}

fn text(out: &mut String, t: &Text) -> Result<(), LabelError> {
    let bitmap = font::raster(t)?;
    // An inverse box is printed whole (black with white words); other text only where its
    // ink is.
    let Some(b) = (if t.inverse {
        Some(bitmap)
    } else {
        bitmap.cropped()
    }) else {
        return Ok(());
    };
    let (bpr, total, data) = graphic_field(&b);
    // A comment cannot hold a caret or tilde: the printer would take them as commands.
    let words: String = t
        .text
        .chars()
        .map(|c| if matches!(c, '^' | '~') { ' ' } else { c })
        .collect();
    let _ = writeln!(out, "^FX{words}");
    let _ = writeln!(
        out,
        "^FO{},{}^GFA,{total},{total},{bpr},{data}^FS",
        b.x, b.y
    );
    Ok(())
}

/// Writes the document as one ZPL label.
pub fn render(doc: &Doc) -> Result<String, LabelError> {
    let mut out = String::new();
    let _ = writeln!(out, "^XA");
    let _ = writeln!(out, "^CI28");
    let _ = writeln!(out, "^PW{}", doc.width);
    let _ = writeln!(out, "^LL{}", doc.height);
    let _ = writeln!(out, "^LH0,0");
    for item in &doc.items {
        match item {
            Item::Fill(r) => {
                let _ = writeln!(
                    out,
                    "^FO{},{}^GB{},{},{}^FS",
                    r.x,
                    r.y,
                    r.w,
                    r.h,
                    r.w.min(r.h)
                );
            }
            Item::Text(t) => text(&mut out, t)?,
            Item::Bars(b) => {
                let (fh, data) = field_data(&b.symbol.zpl_data());
                let _ = writeln!(
                    out,
                    "^BY{},3,{}^FO{},{}^BC{},{},N,N,N{fh}^FD{data}^FS",
                    b.module,
                    b.height,
                    b.x,
                    b.y,
                    if b.vertical { 'R' } else { 'N' },
                    b.height,
                );
            }
        }
    }
    let _ = writeln!(out, "^XZ");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::*;

    fn snap(name: &str, value: &str) {
        let mut s = insta::Settings::clone_current();
        s.set_prepend_module_to_snapshot(false);
        s.set_snapshot_path("snapshots");
        s.bind(|| insta::assert_snapshot!(name, value));
    }

    fn zpl(r: Result<Rendered, LabelError>) -> String {
        let r = r.unwrap();
        assert_eq!(r.content_type, "application/x-zpl");
        String::from_utf8(r.bytes).unwrap()
    }

    /// Every block is `^XA`…`^XZ`, has `^CI28`, the expected `^PW`/`^LL`, a native `^BC`
    /// barcode, text only as `^GF` graphic fields (no `^A` font fields) that read back.
    fn check(z: &str, w_mm: f64, h_mm: f64, dpi: u32) {
        assert!(z.starts_with("^XA"), "{z}");
        assert!(z.trim_end().ends_with("^XZ"), "{z}");
        let pw = (w_mm * dpi as f64 / 25.4).round() as u32;
        let ll = (h_mm * dpi as f64 / 25.4).round() as u32;
        for block in z.split("^XZ").filter(|b| !b.trim().is_empty()) {
            assert!(block.trim_start().starts_with("^XA"));
            assert_eq!(block.matches("^XA").count(), 1);
            assert!(block.contains("^CI28"));
            assert!(
                block.contains(&format!("^PW{pw}\n")),
                "^PW{pw} expected in {block}"
            );
            assert!(
                block.contains(&format!("^LL{ll}\n")),
                "^LL{ll} expected in {block}"
            );
            assert!(block.contains("^BC"));
            assert!(block.contains("^GFA,"));
            assert!(!block.contains("^A0") && !block.contains("^FR"), "{block}");
        }
        let labels = super::super::zpl_raster::read(z);
        assert_eq!(labels.len(), z.matches("^XA").count());
        for l in labels {
            assert_eq!((l.width, l.height), (pw, ll));
        }
    }

    /// The `^FD` data of the `^BC` fields, with ZPL's code-set invocations decoded.
    fn barcodes(z: &str) -> Vec<String> {
        z.lines()
            .filter(|l| l.contains("^BC"))
            .map(|l| {
                let fd = &l[l.find("^FD").unwrap() + 3..l.rfind("^FS").unwrap()];
                let mut out = String::new();
                let mut it = fd.chars().peekable();
                while let Some(c) = it.next() {
                    if c == '>' {
                        match it.next() {
                            Some('<') => out.push('>'),
                            Some(';' | '5' | '6' | ':') => {}
                            other => panic!("unexpected invocation >{other:?}"),
                        }
                    } else {
                        out.push(c);
                    }
                }
                out
            })
            .collect()
    }

    fn ret(late: bool, held: bool) -> ReturnLabel {
        ReturnLabel {
            return_id: "RT20261122000001".into(),
            ebc_code: "HK0000E001".into(),
            ebc_name: "香港某某国际贸易有限公司".into(),
            warehouse: "XY01".into(),
            arrived_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
            arrival_deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
            late,
            held,
        }
    }

    fn bin(b: &str) -> BinLabel {
        BinLabel {
            warehouse: "XY01".into(),
            area: "restock".into(),
            bin: b.into(),
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

    #[test]
    fn return_label_zpl() {
        for dpi in [203, 300] {
            let z = zpl(render_return(
                &ret(true, true),
                Size::Label100x150,
                Format::Zpl,
                dpi,
            ));
            check(&z, 100.0, 150.0, dpi);
            assert!(z.contains("^BCN,"), "{z}");
            assert!(z.contains(",N,N,N^FDRT>520261122000001^FS"), "{z}");
            assert_eq!(barcodes(&z), vec!["RT20261122000001"]);
            assert!(
                z.contains("^FX逾期 LATE\n^FO") && z.contains("^FX扣留 HOLD\n^FO"),
                "{z}"
            );
            assert!(z.contains("^FX香港某某国际贸易有限公司\n^FO"), "{z}");
            snap(&format!("labels_zpl_return_100x150_{dpi}"), &z);
            let z = zpl(render_return(
                &ret(false, false),
                Size::Label60x40,
                Format::Zpl,
                dpi,
            ));
            check(&z, 60.0, 40.0, dpi);
            assert!(!z.contains("LATE") && !z.contains("HOLD"));
            snap(&format!("labels_zpl_return_60x40_{dpi}"), &z);
        }
        let z = zpl(render_return(
            &ret(false, false),
            Size::Label100x150,
            Format::Zpl,
            203,
        ));
        assert!(
            z.contains("^PW787\n^LL1181\n") || z.contains("^PW799\n^LL1199\n"),
            "{z}"
        );
    }

    #[test]
    fn bin_and_item_zpl() {
        for dpi in [203, 300] {
            let z = zpl(render_bin(
                &bin("XY01-R-01-02"),
                Size::Label60x40,
                Format::Zpl,
                dpi,
            ));
            check(&z, 60.0, 40.0, dpi);
            assert!(z.contains("^BCN,"));
            assert!(z.contains("^FDXY01-R-01-02^FS"), "{z}");
            assert!(z.contains("^FX上架 RESTOCK\n^FO"), "{z}");
            snap(&format!("labels_zpl_bin_60x40_{dpi}"), &z);
            let z = zpl(render_item(&item(), Size::Label100x150, Format::Zpl, dpi));
            check(&z, 100.0, 150.0, dpi);
            assert!(z.contains("^BCR,"), "along the long side: {z}");
            assert_eq!(barcodes(&z), vec![item().data()]);
            snap(&format!("labels_zpl_item_100x150_{dpi}"), &z);
        }
        let z = zpl(render_bin(
            &bin("XY01-R-01-02"),
            Size::Label100x150,
            Format::Zpl,
            600,
        ));
        check(&z, 100.0, 150.0, 600);
        assert!(z.contains("^BY10,"), "module capped at ^BY10: {z}");
    }

    #[test]
    fn sheet_is_concatenated_labels() {
        let ls: Vec<BinLabel> = (1..=5).map(|k| bin(&format!("XY01-R-01-{k:02}"))).collect();
        for dpi in [203, 300] {
            let z = zpl(render_bin_sheet(&ls, Format::Zpl, dpi));
            check(&z, 60.0, 40.0, dpi);
            assert_eq!(z.matches("^XA").count(), 5);
            assert_eq!(
                barcodes(&z),
                ls.iter().map(|l| l.bin.clone()).collect::<Vec<_>>()
            );
            if dpi == 203 {
                snap("labels_zpl_bin_sheet_203", &z);
            }
        }
    }

    #[test]
    fn graphic_fields_read_back_to_the_same_dots() {
        use super::super::font::Bitmap;
        use super::super::zpl_raster::graphic_bits;
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Widths that are not whole bytes, runs longer than one count can say (419 digits),
        // blank and full rows, rows repeating the one before.
        for (w, h) in [(1, 1), (7, 3), (8, 2), (9, 5), (1000, 4), (3400, 6)] {
            for density in [0, 1, 50, 99, 100] {
                let mut black: Vec<bool> = (0..w * h).map(|_| next() % 100 < density).collect();
                if h > 2 {
                    let (a, b) = black.split_at_mut(w as usize);
                    b[..w as usize].copy_from_slice(a);
                }
                let b = Bitmap {
                    x: 5,
                    y: 9,
                    w,
                    h,
                    black,
                };
                let (bpr, total, data) = super::graphic_field(&b);
                assert_eq!((bpr, total), (w.div_ceil(8), w.div_ceil(8) * h));
                let rows = graphic_bits(total as usize, bpr as usize, &data);
                for y in 0..h {
                    for x in 0..8 * bpr {
                        assert_eq!(
                            rows[y as usize][x as usize],
                            x < w && b.black[(y * w + x) as usize],
                            "{w}x{h} {density}% at ({x}, {y}): {data}"
                        );
                    }
                }
                if density == 0 {
                    assert_eq!(data, format!(",{}", ":".repeat(h as usize - 1)));
                }
            }
        }
    }

    #[test]
    fn escapes_zpl_control_characters() {
        let z = zpl(render_bin(
            &bin("A^B~C_D>E"),
            Size::Label60x40,
            Format::Zpl,
            203,
        ));
        assert!(z.contains("^FH^FDA_5EB_7EC_5FD><E^FS"), "{z}");
        assert!(z.contains("^FXA B C_D>E\n"), "{z}");
        let mut r = ret(false, false);
        r.ebc_name = "Caret^Co~".into();
        let z = zpl(render_return(&r, Size::Label100x150, Format::Zpl, 203));
        assert!(z.contains("^FXCaret Co \n"), "{z}");
        // No stray carets: every ^ starts a known command.
        for part in z.split('^').skip(1) {
            assert!(
                part.chars()
                    .take(2)
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "^{part}"
            );
        }
    }
}

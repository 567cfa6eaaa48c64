//! ZPL II writer for Zebra printers: one label per `^XA`…`^XZ`, `^CI28` (UTF-8), `^PW`/`^LL`
//! from the size at the layout's dpi, native Code 128 (`^BY` module width, `^BCN,h,N,N,N`,
//! or `^BCR` when the symbol runs along the label) and `^A0` text fields.

use std::fmt::Write;

use super::layout::{em_width, Align, Doc, Item, Text};

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

fn text(out: &mut String, t: &Text) {
    let r = t.rect;
    if t.inverse {
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
    if t.text.is_empty() {
        return;
    }
    let (w_avail, h_font) = if t.inverse {
        (r.w as f64 * 0.9, r.h as f64 * 0.72)
    } else {
        (r.w as f64, r.h as f64)
    };
    let size = h_font
        .min(w_avail / em_width(&t.text, t.bold).max(0.1))
        .floor()
        .max(10.0) as u32;
    let y = r.y + r.h.saturating_sub(size) / 2;
    let just = match (t.align, t.inverse) {
        (_, true) | (Align::Center, _) => 'C',
        (Align::Left, _) => 'L',
        (Align::Right, _) => 'R',
    };
    let (fh, data) = field_data(&t.text);
    let _ = writeln!(
        out,
        "^FO{},{}^A0N,{size},{size}^FB{},1,0,{just},0{}{fh}^FD{data}^FS",
        r.x,
        y,
        r.w,
        if t.inverse { "^FR" } else { "" },
    );
}

/// Writes the document as one ZPL label.
pub fn render(doc: &Doc) -> String {
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
            Item::Text(t) => text(&mut out, t),
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
    out
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

    /// Every block is `^XA`…`^XZ`, has `^CI28`, the expected `^PW`/`^LL`, and native
    /// `^BC` barcodes (no `^GF` bitmaps).
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
            assert!(!block.contains("^GF"));
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
                z.contains("^FR^FD逾期 LATE^FS") && z.contains("^FR^FD扣留 HOLD^FS"),
                "{z}"
            );
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
            assert!(z.contains("^FD上架 RESTOCK^FS"), "{z}");
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
    fn escapes_zpl_control_characters() {
        let z = zpl(render_bin(
            &bin("A^B~C_D>E"),
            Size::Label60x40,
            Format::Zpl,
            203,
        ));
        assert!(z.contains("^FH^FDA_5EB_7EC_5FD><E^FS"), "{z}");
        assert!(z.contains("^FH^FDA_5EB_7EC_5FD>E^FS"), "{z}");
        let mut r = ret(false, false);
        r.ebc_name = "Caret^Co~".into();
        let z = zpl(render_return(&r, Size::Label100x150, Format::Zpl, 203));
        assert!(z.contains("^FH^FDCaret_5ECo_7E^FS"), "{z}");
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

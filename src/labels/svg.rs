//! SVG writer: the document is sized in millimetres (`width="100mm"`), the viewBox is in
//! millimetres too, bars are `<rect>`s whose widths are whole printer dots at the layout's dpi.

use std::fmt::Write;

use super::layout::{Doc, Item, Rect, Text};

/// Font stack: a CJK-capable sans-serif first, so that Chinese words print.
pub const FONT_FAMILY: &str = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC','WenQuanYi Micro Hei',Arial,Helvetica,sans-serif";

/// Number in mm with at most 3 decimals, without trailing zeros.
fn n(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn rect(out: &mut String, doc: &Doc, r: Rect, extra: &str) {
    let _ = writeln!(
        out,
        r#"<rect x="{}" y="{}" width="{}" height="{}"{extra}/>"#,
        n(doc.mm(r.x)),
        n(doc.mm(r.y)),
        n(doc.mm(r.w)),
        n(doc.mm(r.h))
    );
}

/// The line as the layout fitted it with the label font; `textLength` holds the browser's
/// font (often the same Noto Sans CJK, else a near one) to the measured width, so the text
/// never runs out of its box or into the barcode whatever font the browser picks.
fn text(out: &mut String, doc: &Doc, t: &Text) {
    if t.inverse {
        rect(out, doc, t.rect, r##" fill="#000""##);
    }
    if t.text.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="{}" textLength="{}" lengthAdjust="spacingAndGlyphs"{}{}>{}</text>"#,
        n(doc.mm(t.x)),
        n(doc.mm(t.baseline)),
        n(doc.mm(t.size)),
        n(doc.mm(t.width)),
        if t.bold { r#" font-weight="bold""# } else { "" },
        if t.inverse { r##" fill="#fff""## } else { "" },
        escape(&t.text)
    );
}

/// Writes the document as a standalone SVG file.
pub fn render(doc: &Doc) -> String {
    let mut out = String::new();
    let (w, h) = (n(doc.width_mm), n(doc.height_mm));
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" shape-rendering="crispEdges">"#
    );
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
    );
    let _ = writeln!(
        out,
        r##"<g fill="#000" font-family="{}">"##,
        escape(FONT_FAMILY)
    );
    for item in &doc.items {
        match item {
            Item::Fill(r) => rect(&mut out, doc, *r, ""),
            Item::Text(t) => text(&mut out, doc, t),
            Item::Bars(b) => {
                let _ = writeln!(
                    out,
                    r#"<g class="code128" data-value="{}" data-module-mm="{}">"#,
                    escape(&b.symbol.data),
                    n(doc.mm(b.module))
                );
                for (off, len) in b.bars() {
                    rect(&mut out, doc, b.bar_rect(off, len), "");
                }
                let _ = writeln!(out, "</g>");
            }
        }
    }
    let _ = writeln!(out, "</g>\n</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use quick_xml::events::Event;

    /// Parses the SVG to the end (every start tag closed, names matching); returns the
    /// root's width, height and viewBox and the barcodes' `data-value`s.
    fn well_formed(svg: &str) -> (String, String, String, Vec<String>) {
        let mut r = quick_xml::Reader::from_str(svg);
        r.config_mut().check_end_names = true;
        let mut open = 0i32;
        let mut root = None;
        let mut values = Vec::new();
        loop {
            let ev = r.read_event();
            let e = match &ev {
                Ok(Event::Eof) => break,
                Ok(Event::Start(e)) | Ok(Event::Empty(e)) => e.clone(),
                Ok(Event::End(_)) => {
                    open -= 1;
                    continue;
                }
                Ok(_) => continue,
                Err(err) => panic!("SVG is not well-formed: {err}\n{svg}"),
            };
            if matches!(ev, Ok(Event::Start(_))) {
                open += 1;
            }
            let get = |k: &[u8]| {
                e.attributes()
                    .map(|a| a.expect("attribute"))
                    .find(|a| a.key.as_ref() == k)
                    .map(|a| a.unescape_value().unwrap().to_string())
            };
            if e.name().as_ref() == b"svg" {
                root = Some((
                    get(b"width").unwrap(),
                    get(b"height").unwrap(),
                    get(b"viewBox").unwrap(),
                ));
            } else if let Some(v) = get(b"data-value") {
                values.push(v);
            }
        }
        assert_eq!(open, 0, "unclosed elements");
        let (w, h, vb) = root.expect("no <svg> root");
        (w, h, vb, values)
    }

    fn ret(late: bool, held: bool) -> ReturnLabel {
        ReturnLabel {
            return_id: "RT20261122000001".into(),
            ebc_code: "HK0000E001".into(),
            ebc_name: "香港某某国际贸易有限公司 & <Co>".into(),
            warehouse: "XY01".into(),
            arrived_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
            arrival_deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
            late,
            held,
        }
    }

    fn svg(r: Result<Rendered, LabelError>) -> String {
        let r = r.unwrap();
        assert_eq!(r.content_type, "image/svg+xml");
        String::from_utf8(r.bytes).unwrap()
    }

    #[test]
    fn return_labels_are_well_formed_and_sized_in_mm() {
        for dpi in SUPPORTED_DPI {
            let s = svg(render_return(
                &ret(true, true),
                Size::Label100x150,
                Format::Svg,
                dpi,
            ));
            let (w, h, vb, values) = well_formed(&s);
            assert_eq!(
                (w.as_str(), h.as_str(), vb.as_str()),
                ("100mm", "150mm", "0 0 100 150")
            );
            assert_eq!(values, vec!["RT20261122000001".to_string()]);
            assert!(s.contains("逾期 LATE") && s.contains("扣留 HOLD"), "{s}");
            assert!(s.contains("&amp; &lt;Co&gt;"));
            let s = svg(render_return(
                &ret(false, false),
                Size::Label60x40,
                Format::Svg,
                dpi,
            ));
            let (w, h, vb, _) = well_formed(&s);
            assert_eq!(
                (w.as_str(), h.as_str(), vb.as_str()),
                ("60mm", "40mm", "0 0 60 40")
            );
            assert!(!s.contains("LATE") && !s.contains("HOLD"));
        }
    }

    #[test]
    fn bin_item_and_sheet_svgs() {
        let b = BinLabel {
            warehouse: "XY01".into(),
            area: "restock".into(),
            bin: "XY01-R-01-02".into(),
        };
        let s = svg(render_bin(&b, Size::Label60x40, Format::Svg, 203));
        let (w, h, _, v) = well_formed(&s);
        assert_eq!((w.as_str(), h.as_str()), ("60mm", "40mm"));
        assert_eq!(v, vec!["XY01-R-01-02".to_string()]);
        assert!(s.contains("上架 RESTOCK"));
        let s = svg(render_bin(&b, Size::Label100x150, Format::Svg, 300));
        assert_eq!(well_formed(&s).0, "100mm");
        let i = ItemLabel {
            owner: "HK0000E001".into(),
            gcode: "3304990099".into(),
            return_id: "RT20261122000001".into(),
            gnum: 1,
            name: "保湿面霜".into(),
        };
        let s = svg(render_item(&i, Size::Label100x150, Format::Svg, 300));
        let (w, h, _, v) = well_formed(&s);
        assert_eq!((w.as_str(), h.as_str()), ("100mm", "150mm"));
        assert_eq!(v, vec![i.data()]);
        let many: Vec<BinLabel> = (1..=24)
            .map(|k| BinLabel {
                warehouse: "XY01".into(),
                area: "restock".into(),
                bin: format!("XY01-R-{:02}-{:02}", (k - 1) / 6 + 1, (k - 1) % 6 + 1),
            })
            .collect();
        let s = svg(render_bin_sheet(&many, Format::Svg, 300));
        let (w, h, vb, v) = well_formed(&s);
        assert_eq!(
            (w.as_str(), h.as_str(), vb.as_str()),
            ("210mm", "297mm", "0 0 210 297")
        );
        assert_eq!(v.len(), 24);
        assert_eq!(v[23], "XY01-R-04-06");
    }

    #[test]
    fn module_width_is_whole_dots_in_mm() {
        let s = svg(render_bin(
            &BinLabel {
                warehouse: "XY01".into(),
                area: "hold".into(),
                bin: "XY01-H-01-01".into(),
            },
            Size::Label60x40,
            Format::Svg,
            203,
        ));
        // 2 dots at 203 dpi.
        assert!(s.contains(r#"data-module-mm="0.25""#), "{s}");
        assert!(s.contains("<rect x="));
    }
}

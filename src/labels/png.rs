//! PNG writer: an 8-bit grey-scale image holding only black (0) and white (255) pixels, one
//! pixel per printer dot, with a `pHYs` chunk giving the resolution so that it prints at size.
//! Text is drawn with the embedded label font ([`super::font`]), thresholded like the ZPL's
//! graphic fields: the PNG shows the very dots a thermal printer prints from the ZPL (grey
//! would be dithered by a label printer's driver anyway).

use image::ImageEncoder;

use super::font;
use super::layout::{Doc, Item, Rect};
use super::LabelError;

const BLACK: u8 = 0;
const WHITE: u8 = 255;

/// A white canvas, one byte per dot.
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![WHITE; width as usize * height as usize],
        }
    }

    /// Fills a rectangle (clipped to the canvas).
    pub fn fill(&mut self, r: Rect, v: u8) {
        let x1 = (r.x + r.w).min(self.width) as usize;
        let y1 = (r.y + r.h).min(self.height);
        let x0 = (r.x as usize).min(x1);
        for y in r.y.min(y1)..y1 {
            let row = y as usize * self.width as usize;
            self.pixels[row + x0..row + x1].fill(v);
        }
    }

    /// Paints the black dots of a bitmap (clipped to the canvas).
    pub fn paint(&mut self, b: &font::Bitmap) {
        for y in b.y..(b.y + b.h).min(self.height) {
            for x in b.x..(b.x + b.w).min(self.width) {
                if b.at(x, y) {
                    self.pixels[y as usize * self.width as usize + x as usize] = BLACK;
                }
            }
        }
    }
}

/// Draws the document on a canvas.
pub fn draw(doc: &Doc) -> Result<Canvas, LabelError> {
    let mut c = Canvas::new(doc.width, doc.height);
    for item in &doc.items {
        match item {
            Item::Fill(r) => c.fill(*r, BLACK),
            Item::Text(t) => c.paint(&font::raster(t)?),
            Item::Bars(b) => {
                for (off, len) in b.bars() {
                    c.fill(b.bar_rect(off, len), BLACK);
                }
            }
        }
    }
    Ok(c)
}

/// Writes the document as a PNG file.
pub fn render(doc: &Doc) -> Result<Vec<u8>, LabelError> {
    let c = draw(doc)?;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(&c.pixels, c.width, c.height, image::ExtendedColorType::L8)
    .map_err(|e| LabelError::Render(format!("PNG encoding failed: {e}")))?;
    Ok(with_phys(out, doc.dpi))
}

/// CRC-32 (ISO-HDLC) as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Inserts a `pHYs` chunk (pixels per metre) right after `IHDR`.
fn with_phys(png: Vec<u8>, dpi: u32) -> Vec<u8> {
    const IHDR_END: usize = 8 + 8 + 13 + 4;
    if png.len() < IHDR_END || &png[12..16] != b"IHDR" {
        return png;
    }
    let ppm = (dpi as f64 / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = Vec::with_capacity(13);
    body.extend_from_slice(b"pHYs");
    body.extend_from_slice(&ppm.to_be_bytes());
    body.extend_from_slice(&ppm.to_be_bytes());
    body.push(1); // unit: metre
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..IHDR_END]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[IHDR_END..]);
    out
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use rxing::{BarcodeFormat, DecodeHints};
    use std::collections::HashSet;

    fn luma(r: &Rendered) -> image::GrayImage {
        assert_eq!(r.content_type, "image/png");
        image::load_from_memory_with_format(&r.bytes, image::ImageFormat::Png)
            .expect("valid PNG")
            .to_luma8()
    }

    fn hints() -> DecodeHints {
        DecodeHints {
            PossibleFormats: Some(HashSet::from([BarcodeFormat::CODE_128])),
            TryHarder: Some(true),
            ..Default::default()
        }
    }

    /// Decodes one Code 128 symbol (note: `rxing::helpers::detect_in_luma` swaps width and
    /// height, so the `_with_hints` form is used).
    fn decode(img: &image::GrayImage) -> String {
        let (w, h) = img.dimensions();
        let r = rxing::helpers::detect_in_luma_with_hints(
            img.as_raw().clone(),
            w,
            h,
            None,
            &mut hints(),
        )
        .unwrap_or_else(|e| panic!("no Code 128 found in {w}x{h}: {e}"));
        assert_eq!(*r.getBarcodeFormat(), BarcodeFormat::CODE_128);
        r.getText().to_string()
    }

    fn decode_all(img: &image::GrayImage) -> Vec<String> {
        let (w, h) = img.dimensions();
        let rs = rxing::helpers::detect_multiple_in_luma_with_hints(
            img.as_raw().clone(),
            w,
            h,
            &mut hints(),
        )
        .expect("no barcodes found");
        rs.iter().map(|r| r.getText().to_string()).collect()
    }

    /// Rotates 90° counter-clockwise (for symbols printed along the long side).
    fn rotate(img: &image::GrayImage) -> image::GrayImage {
        image::imageops::rotate270(img)
    }

    fn black_and_white(img: &image::GrayImage) {
        assert!(img.as_raw().iter().all(|&p| p == 0 || p == 255));
    }

    fn expected_px(mm: f64, dpi: u32) -> u32 {
        (mm * dpi as f64 / 25.4).round() as u32
    }

    fn ret() -> ReturnLabel {
        ReturnLabel {
            return_id: "RT20261122000001".into(),
            ebc_code: "HK0000E001".into(),
            ebc_name: "香港某某国际贸易有限公司".into(),
            warehouse: "XY01".into(),
            arrived_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
            arrival_deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
            late: true,
            held: false,
        }
    }

    #[test]
    fn return_labels_decode() {
        for dpi in SUPPORTED_DPI {
            for size in [Size::Label100x150, Size::Label60x40] {
                let r = render_return(&ret(), size, Format::Png, dpi).unwrap();
                let img = luma(&r);
                let (w, h) = size.mm();
                assert_eq!(img.dimensions(), (expected_px(w, dpi), expected_px(h, dpi)));
                black_and_white(&img);
                assert_eq!(decode(&img), "RT20261122000001", "{size} {dpi}");
            }
        }
    }

    #[test]
    fn bin_labels_decode() {
        let b = BinLabel {
            warehouse: "XY01".into(),
            area: "restock".into(),
            bin: "XY01-R-01-02".into(),
        };
        for dpi in SUPPORTED_DPI {
            for size in [Size::Label60x40, Size::Label100x150] {
                let img = luma(&render_bin(&b, size, Format::Png, dpi).unwrap());
                black_and_white(&img);
                assert_eq!(decode(&img), "XY01-R-01-02", "{size} {dpi}");
            }
        }
    }

    #[test]
    fn item_labels_decode() {
        let i = ItemLabel {
            owner: "HK0000E001".into(),
            gcode: "3304990099".into(),
            return_id: "RT20261122000001".into(),
            gnum: 1,
            name: "保湿面霜".into(),
        };
        assert_eq!(i.data(), "HK0000E001-3304990099-RT20261122000001-1");
        // A short item code fits across a 60x40 label and across 100x150.
        let short = ItemLabel {
            owner: "E1".into(),
            gcode: "33".into(),
            return_id: "R7".into(),
            gnum: 12,
            name: "保湿面霜".into(),
        };
        for dpi in SUPPORTED_DPI {
            // The standard data runs along the long side of a 100x150 label.
            let img = luma(&render_item(&i, Size::Label100x150, Format::Png, dpi).unwrap());
            black_and_white(&img);
            assert_eq!(decode(&rotate(&img)), i.data(), "100x150 {dpi}");
            for size in [Size::Label100x150, Size::Label60x40] {
                let img = luma(&render_item(&short, size, Format::Png, dpi).unwrap());
                assert_eq!(decode(&img), "E1-33-R7-12", "{size} {dpi}");
            }
            // ...and is refused on 60x40 (see mod tests for the error).
            assert!(matches!(
                render_item(&i, Size::Label60x40, Format::Png, dpi),
                Err(LabelError::DoesNotFit { .. })
            ));
        }
    }

    #[test]
    fn a4_sheet_gives_a_code_too_long_for_one_cell_a_whole_row() {
        // Short, long, short: the long one starts row 2 and spans it; the third short one
        // goes to row 3.
        let codes = ["XY01-R-01-01", "XY01-PENDING_INSPECTION-01", "XY01-R-01-02"];
        let ls: Vec<BinLabel> = codes
            .iter()
            .map(|c| BinLabel {
                warehouse: "XY01".into(),
                area: "pending_inspection".into(),
                bin: c.to_string(),
            })
            .collect();
        for dpi in SUPPORTED_DPI {
            let pages = super::super::layout::sheet_pages(&ls, Format::Png, dpi).unwrap();
            assert_eq!(pages.len(), 1);
            let spans: Vec<(u32, u32, u32)> = pages[0]
                .iter()
                .map(|(_, s)| (s.col, s.row, s.span))
                .collect();
            assert_eq!(spans, [(0, 0, 1), (0, 1, 3), (0, 2, 1)], "{dpi} dpi");
            let img = luma(&render_bin_sheet(&ls, Format::Png, dpi).unwrap());
            let (cell_w, cell_h) = (expected_px(70.0, dpi), expected_px(297.0 / 8.0, dpi));
            let row = |r: u32, w: u32| {
                image::imageops::crop_imm(&img, 0, r * cell_h, w, cell_h).to_image()
            };
            assert_eq!(decode(&row(0, cell_w)), codes[0], "{dpi} dpi");
            assert_eq!(decode(&row(1, 3 * cell_w)), codes[1], "{dpi} dpi");
            assert_eq!(decode(&row(2, cell_w)), codes[2], "{dpi} dpi");
        }
        // 24 long codes need 3 pages of 8 rows.
        let many: Vec<BinLabel> = (0..24)
            .map(|k| BinLabel {
                warehouse: "XY01".into(),
                area: "pending_inspection".into(),
                bin: format!("XY01-PENDING_INSPECTION-{k:02}"),
            })
            .collect();
        assert_eq!(render_bin_sheets(&many, Format::Png, 203).unwrap().len(), 3);
    }

    #[test]
    fn a4_sheet_decodes_several_labels() {
        let ls: Vec<BinLabel> = (0..24)
            .map(|k| BinLabel {
                warehouse: "XY01".into(),
                area: "restock".into(),
                bin: format!("XY01-R-{:02}-{:02}", k / 6 + 1, k % 6 + 1),
            })
            .collect();
        for dpi in SUPPORTED_DPI {
            let img = luma(&render_bin_sheet(&ls, Format::Png, dpi).unwrap());
            assert_eq!(
                img.dimensions(),
                (expected_px(210.0, dpi), expected_px(297.0, dpi))
            );
            black_and_white(&img);
            let found: HashSet<String> = decode_all(&img).into_iter().collect();
            let all: HashSet<String> = ls.iter().map(|l| l.bin.clone()).collect();
            assert!(
                found.is_subset(&all),
                "decoded something that is not on the sheet: {found:?}"
            );
            assert!(
                found.len() >= 6,
                "only {} of 24 decoded at {dpi} dpi: {found:?}",
                found.len()
            );
            // Each cell alone decodes to its own label.
            let cell_w = expected_px(70.0, dpi);
            let cell_h = expected_px(297.0 / 8.0, dpi);
            for k in [0u32, 4, 11, 23] {
                let (col, row) = (k % 3, k / 3);
                let sub =
                    image::imageops::crop_imm(&img, col * cell_w, row * cell_h, cell_w, cell_h)
                        .to_image();
                assert_eq!(decode(&sub), ls[k as usize].bin, "cell {k} at {dpi} dpi");
            }
        }
    }

    #[test]
    fn png_declares_its_resolution() {
        let r = render_return(&ret(), Size::Label60x40, Format::Png, 300).unwrap();
        let pos = r
            .bytes
            .windows(4)
            .position(|w| w == b"pHYs")
            .expect("pHYs chunk");
        let ppm = u32::from_be_bytes(r.bytes[pos + 4..pos + 8].try_into().unwrap());
        assert_eq!(ppm, 11811);
        assert_eq!(super::crc32(b"IEND"), 0xAE42_6082);
    }
}

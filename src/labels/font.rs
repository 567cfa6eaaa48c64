//! The label font and the one place where text is measured, fitted into its box and turned
//! into pixels.
//!
//! The font is a subset of Noto Sans CJK SC Medium embedded in the binary (`fonts/`, SIL Open
//! Font License; 9,845 characters: GB 2312, the common traditional hanzi, ASCII, Latin-1 and
//! the punctuation of both). The layout fits every line with its real glyph advances
//! ([`fit`]), so SVG, PNG and ZPL print the same words at the same size and place; PNG and ZPL
//! draw the same 1-bit pixels ([`raster`]: coverage thresholded at one half), which is what a
//! thermal printer prints, so a PNG shows exactly what a Zebra prints from the ZPL.
//!
//! A character the font lacks is drawn as its `.notdef` glyph (a box with a cross), never
//! left out; text too long for its box at the smallest size allowed is cut after a whole
//! character and ends in `…`.

use std::sync::OnceLock;

use ab_glyph::{point, Font as _, FontRef, GlyphId, OutlinedGlyph, PxScale};

use super::layout::{Align, Rect, Text};
use super::LabelError;

static DATA: &[u8] = include_bytes!("fonts/NotoSansCJKsc-Medium-labels.otf");

/// Top of the ideographic em box above the baseline, in ems (Noto Sans CJK: 880 of 1000
/// units; the box runs from -120 to 880). Lines are centred on that box, so Chinese and
/// Latin text of one row share a baseline.
const ASCENT_EM: f32 = 0.88;

/// Marks text shortened to fit.
pub const ELLIPSIS: &str = "…";

/// Share of a box's height given to the words of an inverse (white on black) box, and of its
/// width: the black keeps a margin around them.
const INVERSE_HEIGHT: f32 = 0.72;
const INVERSE_WIDTH: f32 = 0.9;

/// Smallest share of its box's size a line is shrunk to before it is shortened instead.
const MIN_SHARE: f32 = 0.6;

fn font() -> Result<&'static FontRef<'static>, LabelError> {
    static FONT: OnceLock<Result<FontRef<'static>, String>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DATA).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| LabelError::Render(format!("the embedded label font is unreadable: {e}")))
}

/// Whether the font has a glyph for `c` (else it prints as the `.notdef` box).
pub fn covers(c: char) -> Result<bool, LabelError> {
    Ok(font()?.glyph_id(c) != GlyphId(0))
}

/// Extra width of bold strokes in dots at `size` (the font has one weight; bold is drawn by
/// widening every stroke to the right).
fn bold_extra(size: u32, bold: bool) -> u32 {
    if bold {
        ((size as f32) / 24.0).round().max(1.0) as u32
    } else {
        0
    }
}

fn scale(f: &FontRef<'static>, size: u32) -> PxScale {
    // ab_glyph scales so that ascent - descent (hhea) is `size`; the em is smaller.
    let upem = f.units_per_em().unwrap_or(1000.0);
    PxScale::from(size as f32 * f.height_unscaled() / upem)
}

/// Horizontal advance of each character of `text` at `size` (em in dots), in dots.
fn advances(f: &FontRef<'static>, text: &str, size: u32) -> Vec<f32> {
    let s = scale(f, size);
    let sf = f.as_scaled(s);
    text.chars()
        .map(|c| ab_glyph::ScaleFont::h_advance(&sf, f.glyph_id(c)))
        .collect()
}

/// Advance width of `text` at `size` in whole dots, bold widening included.
pub fn width(text: &str, size: u32, bold: bool) -> Result<u32, LabelError> {
    let f = font()?;
    let w: f32 = advances(f, text, size).iter().sum();
    Ok(w.ceil() as u32 + bold_extra(size, bold))
}

/// Each character of a placed line with the span of its advance: (character, x from, x to).
pub fn glyph_spans(t: &Text) -> Result<Vec<(char, f32, f32)>, LabelError> {
    let f = font()?;
    let mut x = t.x as f32;
    Ok(t.text
        .chars()
        .zip(advances(f, &t.text, t.size))
        .map(|(c, a)| {
            let span = (c, x, x + a);
            x += a;
            span
        })
        .collect())
}

/// The outlined glyphs of a placed line (characters without ink, like spaces, have none).
fn outlines(f: &FontRef<'static>, t: &Text) -> Vec<OutlinedGlyph> {
    placed(f, t).into_iter().filter_map(|(_, o)| o).collect()
}

/// Each character of a placed line with its outlined glyph, if it has ink.
fn placed(f: &FontRef<'static>, t: &Text) -> Vec<(char, Option<OutlinedGlyph>)> {
    let s = scale(f, t.size);
    let mut x = t.x as f32;
    let mut out = Vec::new();
    for (c, a) in t.text.chars().zip(advances(f, &t.text, t.size)) {
        let g = f
            .glyph_id(c)
            .with_scale_and_position(s, point(x, t.baseline as f32));
        out.push((c, f.outline_glyph(g)));
        x += a;
    }
    out
}

/// Whether every glyph of the placed line, bold widening included, lies inside `r`.
fn inside(f: &FontRef<'static>, t: &Text, r: Rect) -> bool {
    let extra = bold_extra(t.size, t.bold) as f32;
    outlines(f, t).iter().all(|o| {
        let b = o.px_bounds();
        b.min.x >= r.x as f32
            && b.min.y >= r.y as f32
            && b.max.x + extra <= (r.x + r.w) as f32
            && b.max.y <= (r.y + r.h) as f32
    })
}

/// Fits `text` into `rect`: as large as the box allows (its height; 72 % of it in an inverse
/// box), smaller when it is too wide, but never below 60 % of that nor below `min_size` dots
/// (a legible size at the printer's resolution): then it is shortened after a whole
/// character and ends in `…`. Every glyph's ink stays inside the box.
pub fn fit(
    text: &str,
    rect: Rect,
    align: Align,
    bold: bool,
    inverse: bool,
    min_size: u32,
) -> Result<Text, LabelError> {
    let f = font()?;
    let (avail_w, nominal) = if inverse {
        (
            (rect.w as f32 * INVERSE_WIDTH) as u32,
            (rect.h as f32 * INVERSE_HEIGHT) as u32,
        )
    } else {
        (rect.w, rect.h)
    };
    let min_size = min_size
        .max((nominal as f32 * MIN_SHARE) as u32)
        .min(nominal)
        .max(1);
    let place = |shown: String, size: u32| -> Result<Text, LabelError> {
        let w = width(&shown, size, bold)?;
        let x = match (align, inverse) {
            (_, true) | (Align::Center, _) => rect.x + rect.w.saturating_sub(w) / 2,
            (Align::Left, _) => rect.x,
            (Align::Right, _) => rect.x + rect.w.saturating_sub(w),
        };
        let baseline =
            rect.y + rect.h.saturating_sub(size) / 2 + (size as f32 * ASCENT_EM).round() as u32;
        let mut t = Text {
            rect,
            text: shown,
            size,
            x,
            baseline,
            width: w,
            bold,
            inverse,
        };
        // A glyph reaching out of its advance (a j's hook, an accent) moves the line in.
        let extra = bold_extra(size, bold) as f32;
        let (lo, hi) = outlines(f, &t)
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), o| {
                let b = o.px_bounds();
                (lo.min(b.min.x), hi.max(b.max.x + extra))
            });
        if lo < rect.x as f32 {
            t.x += (rect.x as f32 - lo).ceil() as u32;
        } else if hi > (rect.x + rect.w) as f32 {
            t.x =
                t.x.saturating_sub((hi - (rect.x + rect.w) as f32).ceil() as u32);
        }
        Ok(t)
    };
    let fits = |t: &Text| t.width <= avail_w && inside(f, t, rect);
    if text.is_empty() {
        return place(String::new(), nominal);
    }
    // Largest size at which the whole text fits.
    let at_one: f32 = advances(f, text, 100).iter().sum::<f32>() / 100.0;
    let mut size = ((avail_w as f32 / at_one.max(0.01)).floor() as u32).min(nominal);
    while size >= min_size {
        let t = place(text.to_string(), size)?;
        if fits(&t) {
            return Ok(t);
        }
        size -= 1;
    }
    // Shortened at the smallest size: the longest beginning that fits with the ellipsis.
    let chars: Vec<char> = text.chars().collect();
    // Start from the longest beginning whose advances leave room for the ellipsis (the ink
    // check below may still step back a character or two).
    let room = avail_w as f32 - width(ELLIPSIS, min_size, bold)? as f32;
    let mut sum = 0.0;
    let longest = advances(f, text, min_size)
        .iter()
        .take_while(|&&a| {
            sum += a;
            sum <= room
        })
        .count();
    for n in (0..=longest.min(chars.len() - 1)).rev() {
        let head: String = chars[..n].iter().collect();
        let t = place(format!("{}{ELLIPSIS}", head.trim_end()), min_size)?;
        if fits(&t) {
            return Ok(t);
        }
    }
    // Not even the ellipsis fits (a box a few dots wide): nothing is drawn rather than a
    // broken glyph.
    place(String::new(), min_size)
}

/// A 1-bit image placed on the label: `true` is black (printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// Top-left corner on the label, in dots.
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Row by row, `w * h` dots.
    pub black: Vec<bool>,
}

impl Bitmap {
    fn blank(r: Rect, black: bool) -> Bitmap {
        Bitmap {
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
            black: vec![black; r.w as usize * r.h as usize],
        }
    }

    /// Whether the dot at label coordinates (x, y) is black (false outside the bitmap).
    pub fn at(&self, x: u32, y: u32) -> bool {
        x >= self.x
            && y >= self.y
            && x < self.x + self.w
            && y < self.y + self.h
            && self.black[((y - self.y) * self.w + (x - self.x)) as usize]
    }

    /// The smallest part holding every black dot (`None` when there is none).
    pub fn cropped(&self) -> Option<Bitmap> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.h {
            for x in 0..self.w {
                if self.black[(y * self.w + x) as usize] {
                    x0 = x0.min(x);
                    x1 = x1.max(x + 1);
                    y0 = y0.min(y);
                    y1 = y1.max(y + 1);
                }
            }
        }
        if x0 == u32::MAX {
            return None;
        }
        let (w, h) = (x1 - x0, y1 - y0);
        let mut black = Vec::with_capacity(w as usize * h as usize);
        for y in y0..y1 {
            let row = (y * self.w) as usize;
            black.extend_from_slice(&self.black[row + x0 as usize..row + x1 as usize]);
        }
        Some(Bitmap {
            x: self.x + x0,
            y: self.y + y0,
            w,
            h,
            black,
        })
    }
}

/// The pixels of a placed line over its whole box: black glyphs on white, or white glyphs on
/// a black box for an inverse line. Coverage of one half or more is black.
pub fn raster(t: &Text) -> Result<Bitmap, LabelError> {
    let f = font()?;
    let glyphs = outlines(f, t);
    Ok(threshold(t, &glyphs, t.inverse))
}

/// The ink of the `index`-th character of a placed line alone, at its place in the line's
/// box (black on white even in an inverse line): what a test compares the label with.
pub fn raster_glyph(t: &Text, index: usize) -> Result<Bitmap, LabelError> {
    let f = font()?;
    let glyph: Vec<OutlinedGlyph> = placed(f, t)
        .into_iter()
        .nth(index)
        .and_then(|(_, o)| o)
        .into_iter()
        .collect();
    Ok(threshold(t, &glyph, false))
}

fn threshold(t: &Text, glyphs: &[OutlinedGlyph], inverse: bool) -> Bitmap {
    let r = t.rect;
    let mut cover = vec![0f32; r.w as usize * r.h as usize];
    let extra = bold_extra(t.size, t.bold) as i64;
    for o in glyphs {
        let b = o.px_bounds();
        let (bx, by) = (b.min.x as i64, b.min.y as i64);
        o.draw(|gx, gy, c| {
            let y = by + gy as i64 - r.y as i64;
            if y < 0 || y >= r.h as i64 {
                return;
            }
            for k in 0..=extra {
                let x = bx + gx as i64 + k - r.x as i64;
                if x >= 0 && x < r.w as i64 {
                    let p = &mut cover[(y * r.w as i64 + x) as usize];
                    *p = p.max(c);
                }
            }
        });
    }
    let mut bm = Bitmap::blank(r, false);
    for (dot, c) in bm.black.iter_mut().zip(cover) {
        *dot = (c >= 0.5) != inverse;
    }
    bm
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(w: u32, h: u32) -> Rect {
        Rect { x: 10, y: 20, w, h }
    }

    fn ink(b: &Bitmap) -> usize {
        b.black.iter().filter(|&&d| d).count()
    }

    #[test]
    fn the_font_has_every_gb2312_hanzi_and_the_labels_words() {
        // GB 2312's hanzi: rows 0xB0-0xF7, columns 0xA1-0xFE (GBK decodes them the same).
        let mut hanzi = 0;
        for hi in 0xB0u8..=0xF7 {
            for lo in 0xA1u8..=0xFE {
                let bytes = [hi, lo];
                let (s, bad) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
                let c = s.chars().next().unwrap_or('\u{FFFD}');
                if bad || c == '\u{FFFD}' || !('\u{4E00}'..='\u{9FFF}').contains(&c) {
                    continue; // the five empty places at the end of row 0xD7
                }
                assert!(
                    covers(c).unwrap(),
                    "{c} (GB 2312 {hi:02X}{lo:02X}) is missing"
                );
                hanzi += 1;
            }
        }
        assert_eq!(hanzi, 6763);
        let words = "退货上架收货待检差异扣留出区逾期电商企业仓库到达天时限货主商品编码单项号\
                     香港某某国际贸易有限公司國際貿易雅诗兰黛精华露面霜";
        for c in words
            .chars()
            .chain(' '..='~')
            .chain("…—“”‘’·×（）：；，。、【】０１ＡＺ￥".chars())
        {
            assert!(covers(c).unwrap(), "{c:?} is missing");
        }
        // Outside the subset: CJK extension B, an emoji.
        assert!(!covers('\u{20000}').unwrap());
        assert!(!covers('😀').unwrap());
    }

    #[test]
    fn fits_by_shrinking_then_shortens_with_an_ellipsis() {
        // Fits as it is: as tall as the box.
        let t = fit("上架 RESTOCK", rect(400, 40), Align::Left, true, false, 24).unwrap();
        assert_eq!((t.text.as_str(), t.size), ("上架 RESTOCK", 40));
        assert!(t.width <= 400);
        // Too wide: smaller, but not below the minimum.
        let t = fit("上架 RESTOCK", rect(200, 40), Align::Left, false, false, 24).unwrap();
        assert!(t.size < 40 && t.size >= 24, "{t:?}");
        assert_eq!(t.text, "上架 RESTOCK");
        assert!(t.width <= 200);
        // Far too wide: shortened after a whole character, with the ellipsis.
        let name = "雅诗兰黛特润修护肌活精华露小棕瓶精华液五十毫升礼盒装";
        let t = fit(name, rect(300, 40), Align::Left, false, false, 30).unwrap();
        assert_eq!(t.size, 30);
        assert!(t.text.ends_with(ELLIPSIS), "{t:?}");
        let head = t.text.trim_end_matches(ELLIPSIS);
        assert!(name.starts_with(head) && head.chars().count() >= 5, "{t:?}");
        assert!(t.width <= 300, "{t:?}");
        // One character more would not have fitted.
        let longer: String = name.chars().take(head.chars().count() + 1).collect();
        assert!(width(&format!("{longer}{ELLIPSIS}"), 30, false).unwrap() > 300);
        // Right and centre alignment keep the line inside the box.
        for a in [Align::Right, Align::Center] {
            let t = fit(name, rect(300, 40), a, true, false, 30).unwrap();
            assert!(t.x >= 10 && t.x + t.width <= 310, "{a:?} {t:?}");
        }
    }

    #[test]
    fn glyphs_stay_inside_their_box_and_are_thresholded_to_black_and_white() {
        for (text, bold, inverse) in [
            ("退货 RETURN", true, false),
            ("jÉgy|", false, false),
            ("逾期 LATE", true, true),
        ] {
            let r = rect(300, 48);
            let t = fit(text, r, Align::Left, bold, inverse, 20).unwrap();
            let b = raster(&t).unwrap();
            assert_eq!((b.x, b.y, b.w, b.h), (r.x, r.y, r.w, r.h));
            if inverse {
                // The box is black but for the words' white strokes.
                assert!(b.at(r.x, r.y) && b.at(r.x + r.w - 1, r.y + r.h - 1));
                assert!(ink(&b) < b.black.len() && ink(&b) > b.black.len() / 2);
            } else {
                let c = b.cropped().expect("ink");
                assert!(c.x >= r.x && c.y >= r.y, "{text}: {c:?}");
                assert!(c.x + c.w <= r.x + r.w && c.y + c.h <= r.y + r.h, "{text}");
            }
        }
    }

    #[test]
    fn a_character_the_font_lacks_prints_as_a_box_not_as_nothing() {
        let r = rect(400, 40);
        let t = fit("A\u{20000}B", r, Align::Left, false, false, 20).unwrap();
        assert_eq!(t.text, "A\u{20000}B", "kept, not dropped");
        let spans = glyph_spans(&t).unwrap();
        let (_, x0, x1) = spans[1];
        assert!(x1 - x0 > 0.5 * t.size as f32, "it takes room: {spans:?}");
        let b = raster(&t).unwrap();
        let dots = |b: &Bitmap| {
            (x0.floor() as u32..x1.ceil() as u32)
                .flat_map(|x| (r.y..r.y + r.h).map(move |y| (x, y)))
                .filter(|&(x, y)| b.at(x, y))
                .count()
        };
        let missing = dots(&b);
        assert!(missing > 50, "ink where the character is: {missing}");
        // It is the .notdef box: the same dots as any other missing character there.
        let other = raster(&Text {
            text: "A\u{20001}B".into(),
            ..t.clone()
        })
        .unwrap();
        assert_eq!(b, other);
        // ...and not what a real character looks like.
        let real = raster(&Text {
            text: "A国B".into(),
            ..t
        })
        .unwrap();
        assert_ne!(b, real);
    }

    #[test]
    fn the_empty_text_and_a_box_too_small_draw_nothing() {
        let t = fit("", rect(100, 30), Align::Left, false, false, 10).unwrap();
        assert!(raster(&t).unwrap().cropped().is_none());
        let t = fit("退货", rect(3, 30), Align::Left, false, false, 10).unwrap();
        assert_eq!(t.text, "");
    }
}

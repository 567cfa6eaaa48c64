//! Test support: reads back the ZPL that [`super::zpl`] writes and draws it as a printer would,
//! so tests can look at the dots a Zebra prints. Shared by the unit tests and
//! `tests/api/labels.rs` (which includes this file by path), so it uses only `std`, `image`
//! and `barcoders`.
//!
//! Understood: `^XA`/`^XZ`, `^PW`, `^LL`, `^LH0,0`, `^CI`, `^FX` comments, `^FO`, `^GB`
//! boxes, `^GFA` graphic fields (hexadecimal with ZPL's ASCII compression: counts `G`–`Y` and
//! `g`–`z`, `,` `!` `:`), `^BY` and `^BC` Code 128 (the `^FD` data with its invocation codes,
//! `^FH` escapes; the symbol encoded by the `barcoders` crate, independently of the label
//! code's own planning), `^FS`. Anything else panics, so a test notices what it does not read.

#![allow(dead_code)]

/// What a field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A `^GF` graphic field, with the `^FX` comment written just before it.
    Graphic { comment: String },
    /// A `^GB` box.
    Box,
    /// A `^BC` Code 128 symbol carrying `data` (quiet zones not included in the rectangle),
    /// `rotated` when it runs down the label (`^BCR`).
    Barcode {
        data: String,
        module: u32,
        rotated: bool,
    },
}

/// A field and the rectangle it covers, in dots (a graphic field: whole bytes wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub kind: Kind,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Field {
    /// A barcode's rectangle with its quiet zones of 10 modules before and after the symbol.
    pub fn with_quiet_zones(&self) -> (u32, u32, u32, u32) {
        match self.kind {
            Kind::Barcode {
                module,
                rotated: false,
                ..
            } => (self.x - 10 * module, self.y, self.w + 20 * module, self.h),
            Kind::Barcode {
                module,
                rotated: true,
                ..
            } => (self.x, self.y - 10 * module, self.w, self.h + 20 * module),
            _ => (self.x, self.y, self.w, self.h),
        }
    }

    /// Whether the field's rectangle and `(x, y, w, h)` share a dot.
    pub fn meets(&self, x: u32, y: u32, w: u32, h: u32) -> bool {
        self.x < x + w && x < self.x + self.w && self.y < y + h && y < self.y + self.h
    }
}

/// One label (`^XA`…`^XZ`) as printed.
#[derive(Debug, Clone)]
pub struct Label {
    pub width: u32,
    pub height: u32,
    /// Row by row; `true` is a printed (black) dot.
    pub black: Vec<bool>,
    pub fields: Vec<Field>,
}

impl Label {
    pub fn at(&self, x: u32, y: u32) -> bool {
        self.black[(y * self.width + x) as usize]
    }

    fn set(&mut self, x: u32, y: u32) {
        assert!(
            x < self.width && y < self.height,
            "a dot at ({x}, {y}) is off the {}x{} label",
            self.width,
            self.height
        );
        self.black[(y * self.width + x) as usize] = true;
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy);
            }
        }
    }

    /// The label as a grey image: black 0, white 255.
    pub fn to_image(&self) -> image::GrayImage {
        image::GrayImage::from_fn(self.width, self.height, |x, y| {
            image::Luma([if self.at(x, y) { 0 } else { 255 }])
        })
    }

    /// The barcode fields.
    pub fn barcodes(&self) -> Vec<&Field> {
        self.fields
            .iter()
            .filter(|f| matches!(f.kind, Kind::Barcode { .. }))
            .collect()
    }

    /// The graphic fields with their comments.
    pub fn graphics(&self) -> Vec<(&str, &Field)> {
        self.fields
            .iter()
            .filter_map(|f| match &f.kind {
                Kind::Graphic { comment } => Some((comment.as_str(), f)),
                _ => None,
            })
            .collect()
    }
}

/// Unpacks `^GFA` data: `total` bytes in rows of `bpr`, as rows of bits.
pub fn graphic_bits(total: usize, bpr: usize, data: &str) -> Vec<Vec<bool>> {
    assert!(bpr > 0 && total % bpr == 0, "^GFA {total},{bpr}");
    let digits = 2 * bpr;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    let mut row: Vec<u8> = Vec::new();
    let mut count = 0usize;
    for c in data.chars() {
        match c {
            'G'..='Y' => count += c as usize - 'F' as usize,
            'g'..='z' => count += (c as usize - 'f' as usize) * 20,
            '0'..='9' | 'A'..='F' => {
                for _ in 0..count.max(1) {
                    row.push(c as u8);
                }
                count = 0;
                assert!(row.len() <= digits, "a row runs over {bpr} bytes");
            }
            ',' | '!' => {
                row.resize(digits, if c == ',' { b'0' } else { b'F' });
            }
            ':' => {
                assert!(row.is_empty(), "':' inside a row");
                row = rows.last().expect("':' before any row").clone();
            }
            other => panic!("unexpected {other:?} in ^GFA data"),
        }
        if row.len() == digits {
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(row.is_empty() && count == 0, "the data ends inside a row");
    assert_eq!(rows.len(), total / bpr, "rows of the graphic field");
    rows.iter()
        .map(|r| {
            r.iter()
                .flat_map(|&d| {
                    let v = (d as char).to_digit(16).expect("hex") as u8;
                    (0..4).map(move |b| v & (8 >> b) != 0)
                })
                .collect()
        })
        .collect()
}

/// The data of a `^FD` after `^FH` (`_XX` hexadecimal escapes).
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' && i + 3 <= b.len() {
            let v = u8::from_str_radix(&s[i + 1..i + 3], 16).expect("_XX");
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// The characters a `^BC` field encodes, as `barcoders` input (code set marks `Ɓ` and `Ć`
/// before each run) and as plain data. ZPL's default mode starts in code set B; `>;` starts
/// in C, `>:` in B; `>5` switches to C, `>6` to B; `><` is a `>`.
fn code128_input(fd: &str) -> (String, String) {
    let mut input = String::new();
    let mut data = String::new();
    if !fd.starts_with(">;") && !fd.starts_with(">:") {
        input.push('Ɓ');
    }
    let mut chars = fd.chars();
    while let Some(c) = chars.next() {
        if c != '>' {
            input.push(c);
            data.push(c);
            continue;
        }
        match chars.next() {
            Some(';' | '5') => input.push('Ć'),
            Some(':' | '6') => input.push('Ɓ'),
            Some('<') => {
                input.push('>');
                data.push('>');
            }
            other => panic!("unknown invocation >{other:?}"),
        }
    }
    (input, data)
}

fn num(s: &str) -> u32 {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("a number: {s:?}"))
}

/// Reads every label of a ZPL document.
pub fn read(zpl: &str) -> Vec<Label> {
    let mut labels = Vec::new();
    let mut label: Option<Label> = None;
    let (mut pw, mut ll) = (0, 0);
    let (mut ox, mut oy) = (0, 0);
    let mut module = 2;
    let mut barcode: Option<(char, u32)> = None;
    let mut hex_escapes = false;
    let mut comment = String::new();
    for part in zpl.split('^').skip(1) {
        let part = part.trim_end_matches(['\n', '\r']);
        let (cmd, args) = part.split_at(2.min(part.len()));
        let canvas = |label: &mut Option<Label>| {
            if label.is_none() {
                assert!(pw > 0 && ll > 0, "a field before ^PW and ^LL");
                *label = Some(Label {
                    width: pw,
                    height: ll,
                    black: vec![false; (pw * ll) as usize],
                    fields: Vec::new(),
                });
            }
        };
        match cmd {
            "XA" => {
                assert!(label.is_none(), "^XA inside a label");
                (pw, ll) = (0, 0);
            }
            "XZ" => labels.push(label.take().expect("^XZ of an empty label")),
            "CI" | "FS" => {
                barcode = None;
                hex_escapes = false;
            }
            "LH" => assert_eq!(args, "0,0"),
            "PW" => pw = num(args),
            "LL" => ll = num(args),
            "FX" => comment = args.to_string(),
            "FO" => {
                let (x, y) = args.split_once(',').expect("^FOx,y");
                (ox, oy) = (num(x), num(y));
            }
            "GB" => {
                canvas(&mut label);
                let l = label.as_mut().expect("canvas");
                let v: Vec<u32> = args.split(',').map(num).collect();
                let (w, h, t) = (v[0], v[1], v[2]);
                if t >= w.min(h) {
                    l.fill(ox, oy, w, h);
                } else {
                    l.fill(ox, oy, w, t);
                    l.fill(ox, oy + h - t, w, t);
                    l.fill(ox, oy, t, h);
                    l.fill(ox + w - t, oy, t, h);
                }
                l.fields.push(Field {
                    kind: Kind::Box,
                    x: ox,
                    y: oy,
                    w,
                    h,
                });
            }
            "GF" => {
                canvas(&mut label);
                let l = label.as_mut().expect("canvas");
                let mut it = args.splitn(5, ',');
                assert_eq!(it.next(), Some("A"), "ASCII hexadecimal graphic fields");
                let total = num(it.next().expect("b")) as usize;
                let count = num(it.next().expect("c")) as usize;
                assert_eq!(total, count);
                let bpr = num(it.next().expect("bytes per row")) as usize;
                let rows = graphic_bits(total, bpr, it.next().expect("data"));
                for (dy, row) in rows.iter().enumerate() {
                    for (dx, &b) in row.iter().enumerate() {
                        if b {
                            l.set(ox + dx as u32, oy + dy as u32);
                        }
                    }
                }
                l.fields.push(Field {
                    kind: Kind::Graphic {
                        comment: std::mem::take(&mut comment),
                    },
                    x: ox,
                    y: oy,
                    w: 8 * bpr as u32,
                    h: rows.len() as u32,
                });
            }
            "BY" => module = num(args.split(',').next().expect("^BYw")),
            "BC" => {
                let mut v = args.split(',');
                let o = v
                    .next()
                    .and_then(|o| o.chars().next())
                    .expect("orientation");
                assert!(o == 'N' || o == 'R', "^BC{o}");
                barcode = Some((o, num(v.next().expect("height"))));
            }
            "FH" => hex_escapes = true,
            "FD" => {
                let (o, height) = barcode.expect("^FD of a text field: text is graphic");
                let fd = if hex_escapes {
                    unescape(args)
                } else {
                    args.to_string()
                };
                let (input, data) = code128_input(&fd);
                let modules = barcoders::sym::code128::Code128::new(&input)
                    .expect("Code 128 data")
                    .encode();
                canvas(&mut label);
                let l = label.as_mut().expect("canvas");
                for (i, &m) in modules.iter().enumerate() {
                    if m == 1 {
                        let off = i as u32 * module;
                        if o == 'N' {
                            l.fill(ox + off, oy, module, height);
                        } else {
                            l.fill(ox, oy + off, height, module);
                        }
                    }
                }
                let len = modules.len() as u32 * module;
                let (w, h) = if o == 'N' {
                    (len, height)
                } else {
                    (height, len)
                };
                l.fields.push(Field {
                    kind: Kind::Barcode {
                        data,
                        module,
                        rotated: o == 'R',
                    },
                    x: ox,
                    y: oy,
                    w,
                    h,
                });
            }
            other => panic!("unexpected ZPL command ^{other}"),
        }
    }
    assert!(label.is_none(), "a label without ^XZ");
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compressed_graphic_fields() {
        // 2 bytes a row: "FF00", "0F" and zeros, a repeat, ones, three Fs and a 0.
        let rows = graphic_bits(10, 2, "FF000F,:!IF0");
        let hex: Vec<String> = rows
            .iter()
            .map(|r| {
                r.chunks(4)
                    .map(|n| {
                        let v = n.iter().fold(0, |a, &b| a * 2 + b as u32);
                        char::from_digit(v, 16).unwrap().to_ascii_uppercase()
                    })
                    .collect()
            })
            .collect();
        assert_eq!(hex, ["FF00", "0F00", "0F00", "FFFF", "FFF0"]);
        assert_eq!(graphic_bits(100, 50, "k0,"), vec![vec![false; 400]; 2]);
        let bits: Vec<bool> = "1111111100001110".chars().map(|c| c == '1').collect();
        assert_eq!(graphic_bits(2, 2, "HF0E"), vec![bits]);
    }

    #[test]
    fn reads_code128_invocations() {
        assert_eq!(
            code128_input("RT>520261122000001"),
            ("ƁRTĆ20261122000001".into(), "RT20261122000001".into())
        );
        assert_eq!(
            code128_input(">;1234>6A><"),
            ("Ć1234ƁA>".into(), "1234A>".into())
        );
    }
}

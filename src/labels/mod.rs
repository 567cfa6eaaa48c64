//! Printable labels with Code 128 barcodes: return labels (stuck on a parcel at receiving),
//! bin labels (one, or an A4 sheet of them) and item labels (restocked units without a usable
//! product barcode), as SVG, PNG or ZPL II.
//!
//! The module is self-contained (it only refers to its own items through `self::`/`super::`).
//!
//! How a label is made:
//! 1. the barcode data is validated ([`validate_data`]) and encoded as Code 128 with the
//!    shortest mix of code sets B and C ([`code128`]);
//! 2. a layout (in printer dots at the requested dpi) is computed ([`layout`]): the module
//!    width is the largest whole number of dots that fits the label with 10-module quiet zones
//!    on both sides and is at least 0.25 mm; the bar height is at least 15 % of the symbol
//!    length or 10 mm, whichever is larger, as long as the label has room. Data that cannot fit
//!    is refused with [`LabelError::DoesNotFit`], never printed as a barcode too small to read;
//! 3. the layout is written out by one of the back ends ([`svg`], [`png`], [`zpl`]).
//!
//! Text is laid out once, with the real glyph advances of the embedded label font (a subset of
//! Noto Sans CJK SC, [`font`]): SVG sets the same words at the same size and place (the
//! browser's font held to the measured width), PNG draws the font's 1-bit pixels, ZPL sends
//! those pixels as `^GF` graphic fields, so a Zebra prints Chinese without optional fonts.
//! Text too long for its box is shortened with `…`, never cut through a glyph.

use std::fmt;
use std::str::FromStr;

pub mod code128;
pub mod font;
pub mod layout;
pub mod png;
pub mod svg;
pub mod zpl;

#[cfg(test)]
mod text_tests;
#[cfg(test)]
pub(crate) mod zpl_raster;

/// Longest barcode data accepted at all (the label width is the real limit, see
/// [`LabelError::DoesNotFit`]). 64 leaves room for item data with an 18-character owner code.
pub const MAX_DATA_LEN: usize = 64;

/// Printer resolutions (dots per inch) accepted for every format.
pub const SUPPORTED_DPI: [u32; 3] = [203, 300, 600];

/// Bin labels on an A4 sheet: columns × rows.
pub const SHEET_COLUMNS: u32 = 3;
/// Bin labels on an A4 sheet: rows.
pub const SHEET_ROWS: u32 = 8;
/// Bin labels per A4 sheet.
pub const SHEET_CAPACITY: usize = (SHEET_COLUMNS * SHEET_ROWS) as usize;

/// Why a label could not be made.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LabelError {
    /// The barcode data cannot be carried by Code 128 (or a label field is empty).
    #[error("invalid barcode data: {0}")]
    InvalidData(String),
    /// A size name that is not one of `100x150`, `60x40`, `a4`.
    #[error("unknown label size {0:?}; expected one of 100x150, 60x40, a4")]
    UnknownSize(String),
    /// A format name that is not one of `svg`, `png`, `zpl`.
    #[error("unknown label format {0:?}; expected one of svg, png, zpl")]
    UnknownFormat(String),
    /// A known size that this kind of label is not printed on (e.g. a return label on A4).
    #[error("a {label} label cannot be printed on size {size}; use {supported}")]
    SizeNotSupported {
        label: &'static str,
        size: &'static str,
        supported: &'static str,
    },
    /// The barcode is too long for the label at the minimum module width.
    #[error(
        "barcode {data:?} does not fit the {size} label: it needs {needed_mm:.1} mm \
         ({modules} modules including quiet zones, at least {min_module_mm:.3} mm each) \
         but only {available_mm:.1} mm are available; use a larger label or shorter data"
    )]
    DoesNotFit {
        data: String,
        size: &'static str,
        modules: u32,
        min_module_mm: f64,
        needed_mm: f64,
        available_mm: f64,
    },
    /// A printer resolution other than the supported ones.
    #[error("unsupported resolution {0} dpi; supported: 203, 300, 600")]
    UnsupportedDpi(u32),
    /// More labels than one A4 sheet holds, for a one-page format.
    #[error("an A4 sheet holds {max} bin labels but {count} were given; split them into pages (render_bin_sheets) or use ZPL")]
    TooManyLabels { count: usize, max: usize },
    /// Anything else that went wrong while writing the output.
    #[error("could not render the label: {0}")]
    Render(String),
}

/// Output format of a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Scalable vector graphics, sized in millimetres.
    Svg,
    /// Grey-scale PNG (black and white pixels only) at the requested dpi.
    Png,
    /// ZPL II for Zebra thermal printers.
    Zpl,
}

impl Format {
    /// MIME type of the rendered bytes.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Png => "image/png",
            Format::Zpl => "application/x-zpl",
        }
    }

    /// File name extension (without dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Zpl => "zpl",
        }
    }
}

impl FromStr for Format {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "svg" => Ok(Format::Svg),
            "png" => Ok(Format::Png),
            "zpl" => Ok(Format::Zpl),
            _ => Err(LabelError::UnknownFormat(s.to_string())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// Physical size of the label (or sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    /// 100 × 150 mm (4 × 6 in class) thermal label, portrait.
    Label100x150,
    /// 60 × 40 mm thermal label, landscape.
    Label60x40,
    /// A4 sheet (210 × 297 mm), for sheets of bin labels.
    A4,
}

impl Size {
    /// Width and height in millimetres.
    pub fn mm(self) -> (f64, f64) {
        match self {
            Size::Label100x150 => (100.0, 150.0),
            Size::Label60x40 => (60.0, 40.0),
            Size::A4 => (210.0, 297.0),
        }
    }

    /// The name used in URLs and [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Size::Label100x150 => "100x150",
            Size::Label60x40 => "60x40",
            Size::A4 => "a4",
        }
    }

    /// Default size of a return label.
    pub const DEFAULT_RETURN: Size = Size::Label100x150;
    /// Default size of a bin label.
    pub const DEFAULT_BIN: Size = Size::Label60x40;
    /// Default size of an item label (item data is long: see [`render_item`]).
    pub const DEFAULT_ITEM: Size = Size::Label100x150;
}

impl FromStr for Size {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == '×' || c == '*' { 'x' } else { c })
            .collect();
        match norm.trim_end_matches("mm") {
            "100x150" => Ok(Size::Label100x150),
            "60x40" => Ok(Size::Label60x40),
            "a4" => Ok(Size::A4),
            _ => Err(LabelError::UnknownSize(s.to_string())),
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Output of a renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// MIME type, e.g. `image/png`.
    pub content_type: &'static str,
    /// The file itself.
    pub bytes: Vec<u8>,
}

/// Label stuck on a returned parcel at receiving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLabel {
    /// Return id, the barcode data (e.g. `RT20261122000001`).
    pub return_id: String,
    /// E-commerce enterprise's customs code.
    pub ebc_code: String,
    /// E-commerce enterprise's name (may be Chinese).
    pub ebc_name: String,
    /// Warehouse code (or name).
    pub warehouse: String,
    /// Day the parcel arrived, if it has.
    pub arrived_on: Option<chrono::NaiveDate>,
    /// Last day for arrival in the zone (45 days from release).
    pub arrival_deadline: chrono::NaiveDate,
    /// Arrived after the deadline: flagged `逾期 LATE`.
    pub late: bool,
    /// On customs hold: flagged `扣留 HOLD`.
    pub held: bool,
}

/// Label of a storage bin (库位).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinLabel {
    /// Warehouse code.
    pub warehouse: String,
    /// Area, e.g. `restock` (the API's area names are printed with their Chinese and English names).
    pub area: String,
    /// Bin code, the barcode data (e.g. `XY01-R-01-02`).
    pub bin: String,
}

/// Label for a restocked unit without a usable product barcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLabel {
    /// Owner (e-commerce enterprise) code.
    pub owner: String,
    /// HS code of the line.
    pub gcode: String,
    /// Return the unit came back with.
    pub return_id: String,
    /// Line number in the declaration list.
    pub gnum: u32,
    /// Product name of the line (gname, usually Chinese), printed for the people who shelve it.
    pub name: String,
}

impl ItemLabel {
    /// Barcode data: `{owner}-{gcode}-{return_id}-{gnum}`.
    pub fn data(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.owner, self.gcode, self.return_id, self.gnum
        )
    }
}

/// Checks that `s` can be carried by a Code 128 barcode on our labels: 1 to [`MAX_DATA_LEN`]
/// printable ASCII characters (space to `~`), without leading or trailing spaces.
pub fn validate_data(s: &str) -> Result<(), LabelError> {
    if s.is_empty() {
        return Err(LabelError::InvalidData("the data is empty".into()));
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        return Err(LabelError::InvalidData(format!(
            "character {c:?} at position {} is not ASCII; Code 128 carries ASCII only",
            i + 1
        )));
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| c.is_ascii_control()) {
        return Err(LabelError::InvalidData(format!(
            "control character {:?} at position {} cannot be printed in a barcode",
            c,
            i + 1
        )));
    }
    let n = s.chars().count();
    if n > MAX_DATA_LEN {
        return Err(LabelError::InvalidData(format!(
            "the data is {n} characters long; at most {MAX_DATA_LEN} are allowed"
        )));
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(LabelError::InvalidData(
            "the data starts or ends with a space, which a reader cannot see".into(),
        ));
    }
    Ok(())
}

/// Checks the printer resolution.
pub fn check_dpi(dpi: u32) -> Result<(), LabelError> {
    if SUPPORTED_DPI.contains(&dpi) {
        Ok(())
    } else {
        Err(LabelError::UnsupportedDpi(dpi))
    }
}

fn emit(doc: &layout::Doc, format: Format) -> Result<Rendered, LabelError> {
    let bytes = match format {
        Format::Svg => svg::render(doc).into_bytes(),
        Format::Png => png::render(doc)?,
        Format::Zpl => zpl::render(doc)?.into_bytes(),
    };
    Ok(Rendered {
        content_type: format.content_type(),
        bytes,
    })
}

/// Renders a return label (sizes 100x150 and 60x40).
pub fn render_return(
    l: &ReturnLabel,
    size: Size,
    format: Format,
    dpi: u32,
) -> Result<Rendered, LabelError> {
    check_dpi(dpi)?;
    validate_data(&l.return_id)?;
    let doc = layout::return_label(l, size, format, dpi)?;
    emit(&doc, format)
}

/// Renders one bin label (sizes 60x40 and 100x150).
pub fn render_bin(
    l: &BinLabel,
    size: Size,
    format: Format,
    dpi: u32,
) -> Result<Rendered, LabelError> {
    check_dpi(dpi)?;
    validate_data(&l.bin)?;
    let doc = layout::bin_label(l, size, format, dpi)?;
    emit(&doc, format)
}

/// Renders bin labels for printing a whole area at once: for SVG and PNG one A4 sheet of
/// 3 × 8 labels (70 × 37.125 mm cells, the common 24-up A4 label sheet; a code too long
/// for one cell takes a whole row; what does not fit one page is
/// [`LabelError::TooManyLabels`]); for ZPL one 60 × 40 mm
/// label per `^XA`…`^XZ` block, concatenated (any number).
pub fn render_bin_sheet(ls: &[BinLabel], format: Format, dpi: u32) -> Result<Rendered, LabelError> {
    check_dpi(dpi)?;
    if ls.is_empty() {
        return Err(LabelError::InvalidData("no bin labels given".into()));
    }
    for l in ls {
        validate_data(&l.bin)?;
    }
    if format == Format::Zpl {
        let mut out = Vec::new();
        for l in ls {
            let doc = layout::bin_label(l, Size::DEFAULT_BIN, format, dpi)?;
            out.extend_from_slice(zpl::render(&doc)?.as_bytes());
        }
        return Ok(Rendered {
            content_type: format.content_type(),
            bytes: out,
        });
    }
    let pages = layout::sheet_pages(ls, format, dpi)?;
    if pages.len() > 1 {
        return Err(LabelError::TooManyLabels {
            count: ls.len(),
            max: SHEET_CAPACITY,
        });
    }
    let doc = layout::bin_sheet(ls, &pages[0], format, dpi)?;
    emit(&doc, format)
}

/// Like [`render_bin_sheet`] but for any number of labels: as many A4 pages as they need
/// ([`SHEET_CAPACITY`] labels per page, fewer when long codes take a whole row; ZPL: a
/// single document with all labels).
pub fn render_bin_sheets(
    ls: &[BinLabel],
    format: Format,
    dpi: u32,
) -> Result<Vec<Rendered>, LabelError> {
    if format == Format::Zpl || ls.is_empty() {
        return render_bin_sheet(ls, format, dpi).map(|r| vec![r]);
    }
    check_dpi(dpi)?;
    for l in ls {
        validate_data(&l.bin)?;
    }
    layout::sheet_pages(ls, format, dpi)?
        .iter()
        .map(|page| emit(&layout::bin_sheet(ls, page, format, dpi)?, format))
        .collect()
}

/// Renders an item label. The data `{owner}-{gcode}-{return_id}-{gnum}` is about 40
/// characters, which needs about 102 mm at 0.25 mm per module: on 100x150 the barcode runs
/// along the long side; on 60x40 only short data fits (else [`LabelError::DoesNotFit`]).
pub fn render_item(
    l: &ItemLabel,
    size: Size,
    format: Format,
    dpi: u32,
) -> Result<Rendered, LabelError> {
    check_dpi(dpi)?;
    for (name, v) in [
        ("owner", &l.owner),
        ("gcode", &l.gcode),
        ("return_id", &l.return_id),
    ] {
        if v.trim().is_empty() {
            return Err(LabelError::InvalidData(format!(
                "the item's {name} is empty"
            )));
        }
    }
    validate_data(&l.data())?;
    let doc = layout::item_label(l, size, format, dpi)?;
    emit(&doc, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_formats() {
        assert_eq!("100x150".parse::<Size>().unwrap(), Size::Label100x150);
        assert_eq!("60X40".parse::<Size>().unwrap(), Size::Label60x40);
        assert_eq!(" a4 ".parse::<Size>().unwrap(), Size::A4);
        assert_eq!("100×150mm".parse::<Size>().unwrap(), Size::Label100x150);
        assert_eq!(
            "4x6".parse::<Size>().unwrap_err(),
            LabelError::UnknownSize("4x6".into())
        );
        assert!(matches!(
            "".parse::<Size>(),
            Err(LabelError::UnknownSize(_))
        ));
        assert_eq!("SVG".parse::<Format>().unwrap(), Format::Svg);
        assert_eq!("png".parse::<Format>().unwrap(), Format::Png);
        assert_eq!("zpl".parse::<Format>().unwrap(), Format::Zpl);
        let e = "pdf".parse::<Format>().unwrap_err();
        assert_eq!(e, LabelError::UnknownFormat("pdf".into()));
        assert!(e.to_string().contains("svg, png, zpl"), "{e}");
        assert_eq!(Format::Zpl.content_type(), "application/x-zpl");
        assert_eq!(Size::Label60x40.to_string(), "60x40");
    }

    #[test]
    fn validates_data() {
        validate_data("RT20261122000001").unwrap();
        validate_data("XY01-R-01-02").unwrap();
        validate_data("HK0000E001-3304990099-RT20261122000001-1").unwrap();
        validate_data("a b~{}|`^_>").unwrap();
        validate_data(&"9".repeat(MAX_DATA_LEN)).unwrap();
        let bad = [
            "退货",
            "RT2026退货",
            "",
            "RT\n1",
            "RT\t1",
            "RT\u{7f}",
            "RT\u{0}",
            " RT1",
            "RT1 ",
            "é",
        ];
        for b in bad {
            assert!(
                matches!(validate_data(b), Err(LabelError::InvalidData(_))),
                "{b:?} accepted"
            );
        }
        let long = "X".repeat(MAX_DATA_LEN + 1);
        let e = validate_data(&long).unwrap_err();
        assert!(e.to_string().contains("at most 64"), "{e}");
        let e = validate_data("退货").unwrap_err();
        assert!(e.to_string().contains("not ASCII"), "{e}");
    }

    fn ret() -> ReturnLabel {
        ReturnLabel {
            return_id: "RT20261122000001".into(),
            ebc_code: "HK0000E001".into(),
            ebc_name: "香港某某国际贸易有限公司".into(),
            warehouse: "XY01".into(),
            arrived_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
            arrival_deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
            late: false,
            held: false,
        }
    }

    #[test]
    fn refuses_bad_input_everywhere() {
        let mut r = ret();
        for f in [Format::Svg, Format::Png, Format::Zpl] {
            for bad in ["退货", "", "RT\u{1b}[0m", &"RT0".repeat(30)] {
                r.return_id = bad.to_string();
                let e = render_return(&r, Size::Label100x150, f, 203).unwrap_err();
                assert!(matches!(e, LabelError::InvalidData(_)), "{f} {bad:?}: {e}");
            }
            let b = BinLabel {
                warehouse: "XY01".into(),
                area: "restock".into(),
                bin: "库位1".into(),
            };
            assert!(matches!(
                render_bin(&b, Size::Label60x40, f, 203),
                Err(LabelError::InvalidData(_))
            ));
            assert!(matches!(
                render_bin_sheet(std::slice::from_ref(&b), f, 203),
                Err(LabelError::InvalidData(_))
            ));
            assert!(matches!(
                render_bin_sheet(&[], f, 203),
                Err(LabelError::InvalidData(_))
            ));
            let i = ItemLabel {
                owner: "".into(),
                gcode: "3304990099".into(),
                return_id: "RT20261122000001".into(),
                gnum: 1,
                name: "保湿面霜".into(),
            };
            assert!(matches!(
                render_item(&i, Size::Label100x150, f, 203),
                Err(LabelError::InvalidData(_))
            ));
            for dpi in [0, 72, 96, 150, 204, 1200] {
                assert_eq!(
                    render_return(&ret(), Size::Label100x150, f, dpi).unwrap_err(),
                    LabelError::UnsupportedDpi(dpi)
                );
            }
            let e = render_return(&ret(), Size::A4, f, 203).unwrap_err();
            assert!(matches!(e, LabelError::SizeNotSupported { .. }), "{e}");
        }
    }

    #[test]
    fn too_long_for_the_label_is_refused() {
        // 40 characters need ~102 mm at 0.25 mm per module: not on a 60 mm wide label.
        let i = ItemLabel {
            owner: "HK0000E001".into(),
            gcode: "3304990099".into(),
            return_id: "RT20261122000001".into(),
            gnum: 1,
            name: "保湿面霜".into(),
        };
        for f in [Format::Svg, Format::Png, Format::Zpl] {
            for dpi in SUPPORTED_DPI {
                let e = render_item(&i, Size::Label60x40, f, dpi).unwrap_err();
                match &e {
                    LabelError::DoesNotFit {
                        size,
                        needed_mm,
                        available_mm,
                        ..
                    } => {
                        assert_eq!(*size, "60x40");
                        assert!(needed_mm > available_mm);
                    }
                    other => panic!("{other}"),
                }
                assert!(
                    e.to_string().contains("does not fit the 60x40 label"),
                    "{e}"
                );
            }
        }
        // 48 random-ish letters do not fit a 60 mm bin label either.
        let b = BinLabel {
            warehouse: "XY01".into(),
            area: "restock".into(),
            bin: "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUV".into(),
        };
        assert!(matches!(
            render_bin(&b, Size::Label60x40, Format::Png, 300),
            Err(LabelError::DoesNotFit { .. })
        ));
        // On the A4 sheet it takes a whole row instead.
        let pages = layout::sheet_pages(std::slice::from_ref(&b), Format::Svg, 300).unwrap();
        assert_eq!(pages[0][0].1.span, SHEET_COLUMNS);
        assert!(render_bin_sheet(&[b], Format::Svg, 300).is_ok());
        // The longest data allowed fits a whole row; longer is refused before layout.
        for (len, ok) in [(MAX_DATA_LEN, true), (MAX_DATA_LEN + 1, false)] {
            let b = BinLabel {
                warehouse: "XY01".into(),
                area: "restock".into(),
                bin: "ABCDEFGHIJKLMNOPQRSTUVWXYZ".repeat(3)[..len].to_string(),
            };
            for dpi in SUPPORTED_DPI {
                let r = render_bin_sheet(std::slice::from_ref(&b), Format::Svg, dpi);
                assert_eq!(
                    r.is_ok(),
                    ok,
                    "{len} characters at {dpi} dpi: {:?}",
                    r.err()
                );
            }
        }
    }

    #[test]
    fn sheet_capacity() {
        let ls: Vec<BinLabel> = (0..30)
            .map(|i| BinLabel {
                warehouse: "XY01".into(),
                area: "restock".into(),
                bin: format!("XY01-R-{:02}-{:02}", i / 6 + 1, i % 6 + 1),
            })
            .collect();
        assert_eq!(
            render_bin_sheet(&ls, Format::Svg, 300).unwrap_err(),
            LabelError::TooManyLabels { count: 30, max: 24 }
        );
        let pages = render_bin_sheets(&ls, Format::Svg, 300).unwrap();
        assert_eq!(pages.len(), 2);
        let z = render_bin_sheet(&ls, Format::Zpl, 203).unwrap();
        let z = String::from_utf8(z.bytes).unwrap();
        assert_eq!(z.matches("^XA").count(), 30);
        assert_eq!(z.matches("^XZ").count(), 30);
    }
}

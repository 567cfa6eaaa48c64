//! Device-independent layout of the labels, in printer dots at a given dpi. The SVG, PNG
//! and ZPL writers only turn a [`Doc`] into bytes, so all three formats agree on where
//! everything is and on the barcode's module width.

use super::code128::{self, Symbol, QUIET_MODULES};
use super::font;
use super::{BinLabel, Format, ItemLabel, LabelError, ReturnLabel, Size};

/// Largest module width ZPL's `^BY` accepts, in dots.
pub const ZPL_MAX_MODULE: u32 = 10;

/// Shortest bar height used when the label has no room for the recommended one, in mm.
const MIN_BAR_MM: f64 = 6.35;

/// Rectangle in dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Horizontal alignment of a text in its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One line of text fitted into its box with the label font ([`font::fit`]): every format
/// prints `text` at `size` from `x` on the `baseline`.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// The box the line was fitted into; nothing of it is drawn outside.
    pub rect: Rect,
    /// What is printed (UTF-8, may be Chinese): the cell's text, or its beginning and `…`
    /// when the whole does not fit at the smallest size allowed.
    pub text: String,
    /// Font size (the em) in dots.
    pub size: u32,
    /// Where the line starts, in dots.
    pub x: u32,
    /// The baseline, in dots from the top.
    pub baseline: u32,
    /// Advance width of `text` in dots, bold included.
    pub width: u32,
    pub bold: bool,
    /// White text on a black box filling `rect` (the LATE / HOLD marks).
    pub inverse: bool,
}

/// A placed Code 128 symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// Top-left corner of the first module (the quiet zone is outside, kept blank by the
    /// layout).
    pub x: u32,
    pub y: u32,
    /// Module (narrowest bar) width in dots.
    pub module: u32,
    /// Bar height in dots (across the symbol: horizontal extent when `vertical`).
    pub height: u32,
    /// Symbol rotated 90° clockwise: modules run downwards, the start character on top.
    pub vertical: bool,
    pub symbol: Symbol,
}

impl Bars {
    /// Length of the symbol without quiet zones, in dots.
    pub fn length(&self) -> u32 {
        self.symbol.len() * self.module
    }

    /// Dark bars as (offset from the start of the symbol, width), in dots.
    pub fn bars(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut i = 0usize;
        let m = &self.symbol.modules;
        while i < m.len() {
            if m[i] {
                let start = i;
                while i < m.len() && m[i] {
                    i += 1;
                }
                out.push((start as u32 * self.module, (i - start) as u32 * self.module));
            } else {
                i += 1;
            }
        }
        out
    }

    /// Rectangle of the bar `(offset, width)` from [`Bars::bars`].
    pub fn bar_rect(&self, offset: u32, width: u32) -> Rect {
        if self.vertical {
            Rect {
                x: self.x,
                y: self.y + offset,
                w: self.height,
                h: width,
            }
        } else {
            Rect {
                x: self.x + offset,
                y: self.y,
                w: width,
                h: self.height,
            }
        }
    }
}

/// Something drawn on the label.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Bars(Bars),
    Text(Text),
    /// Filled black rectangle (rules).
    Fill(Rect),
}

/// A laid-out label or sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Size in dots.
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    /// Nominal size in millimetres (what SVG declares).
    pub width_mm: f64,
    pub height_mm: f64,
    pub items: Vec<Item>,
}

impl Doc {
    /// Dots to millimetres.
    pub fn mm(&self, dots: u32) -> f64 {
        dots as f64 * 25.4 / self.dpi as f64
    }
}

/// Millimetres to dots at `dpi`, rounded.
pub fn dots(mm: f64, dpi: u32) -> u32 {
    (mm * dpi as f64 / 25.4).round().max(0.0) as u32
}

/// Replaces control characters by spaces and trims.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The name of a warehouse area of the API on a bin label, in Chinese and English
/// (`上架 RESTOCK`); an area of another name as it is.
pub fn area_name(area: &str) -> String {
    let a = clean(area);
    let (zh, en) = match a.to_ascii_lowercase().as_str() {
        "receiving" => ("收货", "RECEIVING"),
        "pending_inspection" => ("待检", "TO INSPECT"),
        "discrepancy" => ("差异", "DISCREPANCY"),
        "hold" => ("扣留", "HOLD"),
        "restock" => ("上架", "RESTOCK"),
        "exit" => ("出区", "EXIT"),
        _ => return a,
    };
    format!("{zh} {en}")
}

/// Layout parameters shared by a whole document.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    dpi: u32,
    size: &'static str,
    min_module: u32,
    max_module: u32,
}

impl Ctx {
    fn new(size: &'static str, format: Format, dpi: u32) -> Ctx {
        Ctx {
            dpi,
            size,
            min_module: code128::min_module_dots(dpi),
            max_module: if format == Format::Zpl {
                ZPL_MAX_MODULE
            } else {
                u32::MAX
            },
        }
    }

    fn d(&self, mm: f64) -> u32 {
        dots(mm, self.dpi)
    }

    fn mm(&self, dots: u32) -> f64 {
        dots as f64 * 25.4 / self.dpi as f64
    }

    /// Largest module for `sym` in `available` dots, or the error saying why it does not fit.
    fn module_for(&self, sym: &Symbol, available: u32) -> Result<u32, LabelError> {
        code128::fit_module(
            sym.total_modules(),
            available,
            self.min_module,
            self.max_module,
        )
        .ok_or_else(|| self.does_not_fit(sym, available))
    }

    fn does_not_fit(&self, sym: &Symbol, available: u32) -> LabelError {
        LabelError::DoesNotFit {
            data: sym.data.clone(),
            size: self.size,
            modules: sym.total_modules(),
            min_module_mm: self.mm(self.min_module),
            needed_mm: self.mm(sym.total_modules() * self.min_module),
            available_mm: self.mm(available),
        }
    }

    /// Recommended bar height for a symbol of `total_px` dots (with quiet zones): 15 % of
    /// its length or 10 mm, whichever is larger.
    fn min_bar(&self, total_px: u32) -> u32 {
        ((total_px as f64 * 0.15).ceil() as u32).max(self.d(10.0))
    }
}

/// A text cell of a row: a share of the row's width.
#[derive(Debug, Clone)]
struct Cell {
    frac: f64,
    text: String,
    align: Align,
    bold: bool,
    inverse: bool,
}

fn cell(frac: f64, text: &str, align: Align, bold: bool) -> Cell {
    Cell {
        frac,
        text: clean(text),
        align,
        bold,
        inverse: false,
    }
}

/// A black mark with white text, or an empty cell when `on` is false.
fn mark(frac: f64, on: bool, text: &str) -> Cell {
    if on {
        Cell {
            inverse: true,
            ..cell(frac, text, Align::Center, true)
        }
    } else {
        cell(frac, "", Align::Center, false)
    }
}

/// A row of a vertical stack; heights in millimetres.
#[derive(Debug, Clone)]
enum Row {
    Gap(f64),
    /// Takes a share of the space left after the barcode.
    Fill,
    /// Horizontal rule of the given thickness.
    Rule(f64),
    Cells(f64, Vec<Cell>),
    /// The barcode, horizontal, centred in the bar span, at least the recommended height,
    /// growing up to `max_mm` if there is room.
    Barcode {
        max_mm: f64,
    },
}

/// Space between cells of a row, in mm.
const GUTTER_MM: f64 = 1.5;

/// Smallest font size text is shrunk to before it is shortened with `…`, in mm: hanzi
/// smaller than this blur on a 203 dpi thermal printer.
const MIN_TEXT_MM: f64 = 2.0;

/// Lays out `rows` from top to bottom in `region`. `bar_span` is the horizontal extent
/// (x, width) the barcode and its quiet zones may use.
fn stack(
    ctx: &Ctx,
    region: Rect,
    bar_span: (u32, u32),
    rows: &[Row],
    sym: Option<&Symbol>,
) -> Result<Vec<Item>, LabelError> {
    let mut items = Vec::new();
    let has_bar = rows.iter().any(|r| matches!(r, Row::Barcode { .. }));
    let module = match (has_bar, sym) {
        (true, Some(s)) => ctx.module_for(s, bar_span.1)?,
        (true, None) => {
            return Err(LabelError::Render(
                "layout has a barcode row but no data".into(),
            ))
        }
        _ => 0,
    };
    let fixed: u32 = rows
        .iter()
        .map(|r| match r {
            Row::Gap(h) | Row::Rule(h) | Row::Cells(h, _) => ctx.d(*h),
            Row::Fill | Row::Barcode { .. } => 0,
        })
        .sum();
    let rem = region.h.checked_sub(fixed).ok_or_else(|| {
        LabelError::Render(format!("the {} label is too small for its text", ctx.size))
    })?;
    let mut bar_h = 0;
    if has_bar {
        let s = sym.expect("checked above");
        let total_px = s.total_modules() * module;
        let want = ctx.min_bar(total_px);
        let max = rows
            .iter()
            .find_map(|r| match r {
                Row::Barcode { max_mm } => Some(ctx.d(*max_mm)),
                _ => None,
            })
            .unwrap_or(0)
            .max(want);
        bar_h = if rem >= want {
            rem.min(max)
        } else if rem >= ctx.d(MIN_BAR_MM) {
            rem
        } else {
            return Err(LabelError::Render(format!(
                "the {} label has no room for the barcode's height",
                ctx.size
            )));
        };
    }
    let fills = rows.iter().filter(|r| matches!(r, Row::Fill)).count() as u32;
    let fill_h = (rem - bar_h).checked_div(fills).unwrap_or(0);

    let mut y = region.y;
    for r in rows {
        match r {
            Row::Gap(h) => y += ctx.d(*h),
            Row::Fill => y += fill_h,
            Row::Rule(h) => {
                let h = ctx.d(*h).max(1);
                items.push(Item::Fill(Rect {
                    x: region.x,
                    y,
                    w: region.w,
                    h,
                }));
                y += h;
            }
            Row::Cells(h, cells) => {
                let h = ctx.d(*h);
                let gutter = ctx.d(GUTTER_MM);
                let n = cells.len() as u32;
                let usable = region.w.saturating_sub(gutter * n.saturating_sub(1));
                let mut x = region.x;
                for (i, c) in cells.iter().enumerate() {
                    let w = if i + 1 == cells.len() {
                        region.x + region.w - x
                    } else {
                        (usable as f64 * c.frac).round() as u32
                    };
                    if !c.text.is_empty() || c.inverse {
                        items.push(Item::Text(font::fit(
                            &c.text,
                            Rect { x, y, w, h },
                            c.align,
                            c.bold,
                            c.inverse,
                            ctx.d(MIN_TEXT_MM),
                        )?));
                    }
                    x += w + gutter;
                }
                y += h;
            }
            Row::Barcode { .. } => {
                let s = sym.expect("checked above");
                let total_px = s.total_modules() * module;
                let x = bar_span.0 + (bar_span.1 - total_px) / 2 + QUIET_MODULES * module;
                items.push(Item::Bars(Bars {
                    x,
                    y,
                    module,
                    height: bar_h,
                    vertical: false,
                    symbol: s.clone(),
                }));
                y += bar_h;
            }
        }
    }
    Ok(items)
}

fn new_doc(ctx: &Ctx, w_mm: f64, h_mm: f64) -> Doc {
    Doc {
        width: ctx.d(w_mm),
        height: ctx.d(h_mm),
        dpi: ctx.dpi,
        width_mm: w_mm,
        height_mm: h_mm,
        items: Vec::new(),
    }
}

/// Region inset by `mx`, `my` millimetres from the doc's edges.
fn inset(ctx: &Ctx, outer: Rect, mx: f64, my: f64) -> Rect {
    let (dx, dy) = (ctx.d(mx), ctx.d(my));
    Rect {
        x: outer.x + dx,
        y: outer.y + dy,
        w: outer.w.saturating_sub(2 * dx),
        h: outer.h.saturating_sub(2 * dy),
    }
}

fn span(ctx: &Ctx, outer: Rect, m: f64) -> (u32, u32) {
    let d = ctx.d(m);
    (outer.x + d, outer.w.saturating_sub(2 * d))
}

fn whole(doc: &Doc) -> Rect {
    Rect {
        x: 0,
        y: 0,
        w: doc.width,
        h: doc.height,
    }
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Return label: 100x150 (default) or 60x40.
pub fn return_label(
    l: &ReturnLabel,
    size: Size,
    format: Format,
    dpi: u32,
) -> Result<Doc, LabelError> {
    let ctx = Ctx::new(size.name(), format, dpi);
    let sym = Symbol::encode(&l.return_id)?;
    let (w, h) = size.mm();
    let mut doc = new_doc(&ctx, w, h);
    let page = whole(&doc);
    let arrived = l.arrived_on.map(date).unwrap_or_else(|| "-".into());
    let limit = date(l.arrival_deadline);
    let ebc_code = clean(&l.ebc_code);
    let name = clean(&l.ebc_name);
    let wh = clean(&l.warehouse);
    use Align::*;
    let rows = match size {
        Size::Label100x150 => vec![
            Row::Cells(
                8.0,
                vec![
                    cell(0.5, "退货 RETURN", Left, true),
                    cell(0.5, &wh, Right, true),
                ],
            ),
            Row::Gap(1.5),
            Row::Rule(0.5),
            Row::Gap(2.5),
            Row::Barcode { max_mm: 38.0 },
            Row::Gap(2.0),
            Row::Cells(7.0, vec![cell(1.0, &l.return_id, Center, true)]),
            Row::Gap(3.0),
            Row::Rule(0.3),
            Row::Gap(3.0),
            Row::Cells(
                6.0,
                vec![
                    cell(0.4, "电商企业 EBC", Left, false),
                    cell(0.6, &ebc_code, Left, true),
                ],
            ),
            Row::Gap(1.5),
            Row::Cells(5.0, vec![cell(1.0, &name, Left, false)]),
            Row::Gap(2.5),
            Row::Cells(
                6.0,
                vec![
                    cell(0.4, "仓库 WAREHOUSE", Left, false),
                    cell(0.6, &wh, Left, true),
                ],
            ),
            Row::Gap(2.5),
            Row::Cells(
                6.0,
                vec![
                    cell(0.4, "到达 ARRIVED", Left, false),
                    cell(0.6, &arrived, Left, true),
                ],
            ),
            Row::Gap(2.5),
            Row::Cells(
                6.0,
                vec![
                    cell(0.4, "45天时限 LIMIT", Left, false),
                    cell(0.6, &limit, Left, true),
                ],
            ),
            Row::Fill,
            Row::Cells(
                14.0,
                vec![
                    mark(0.5, l.late, "逾期 LATE"),
                    mark(0.5, l.held, "扣留 HOLD"),
                ],
            ),
        ],
        Size::Label60x40 => vec![
            Row::Barcode { max_mm: 14.0 },
            Row::Gap(0.8),
            Row::Cells(4.5, vec![cell(1.0, &l.return_id, Center, true)]),
            Row::Gap(1.0),
            Row::Cells(
                3.5,
                vec![
                    cell(0.55, &ebc_code, Left, true),
                    cell(0.45, &wh, Right, true),
                ],
            ),
            Row::Gap(1.0),
            Row::Cells(
                3.5,
                vec![
                    cell(0.64, &format!("到达 ARR {arrived}"), Left, false),
                    mark(0.36, l.late, "逾期 LATE"),
                ],
            ),
            Row::Gap(1.0),
            Row::Cells(
                3.5,
                vec![
                    cell(0.64, &format!("时限 LIMIT {limit}"), Left, false),
                    mark(0.36, l.held, "扣留 HOLD"),
                ],
            ),
            Row::Fill,
        ],
        Size::A4 => {
            return Err(LabelError::SizeNotSupported {
                label: "return",
                size: size.name(),
                supported: "100x150 or 60x40",
            })
        }
    };
    let (region, bar) = match size {
        Size::Label100x150 => (inset(&ctx, page, 4.0, 4.0), span(&ctx, page, 1.5)),
        _ => (inset(&ctx, page, 2.0, 2.0), span(&ctx, page, 1.0)),
    };
    doc.items = stack(&ctx, region, bar, &rows, Some(&sym))?;
    Ok(doc)
}

fn bin_rows(l: &BinLabel, size: Size) -> Vec<Row> {
    use Align::*;
    let area = area_name(&l.area);
    let wh = clean(&l.warehouse);
    match size {
        Size::Label100x150 => vec![
            Row::Cells(
                12.0,
                vec![cell(0.42, &wh, Left, true), cell(0.58, &area, Right, true)],
            ),
            Row::Gap(3.0),
            Row::Rule(0.6),
            Row::Gap(5.0),
            Row::Barcode { max_mm: 55.0 },
            Row::Gap(5.0),
            Row::Cells(20.0, vec![cell(1.0, &l.bin, Center, true)]),
            Row::Fill,
        ],
        // 60x40 and the cells of the A4 sheet.
        _ => vec![
            Row::Cells(
                4.5,
                vec![cell(0.4, &wh, Left, true), cell(0.6, &area, Right, true)],
            ),
            Row::Gap(1.0),
            Row::Barcode { max_mm: 22.0 },
            Row::Gap(1.0),
            Row::Cells(8.0, vec![cell(1.0, &l.bin, Center, true)]),
            Row::Fill,
        ],
    }
}

/// Bin label: 60x40 (default) or 100x150.
pub fn bin_label(l: &BinLabel, size: Size, format: Format, dpi: u32) -> Result<Doc, LabelError> {
    if size == Size::A4 {
        return Err(LabelError::SizeNotSupported {
            label: "single bin",
            size: size.name(),
            supported: "60x40 or 100x150 (or render_bin_sheet for an A4 sheet)",
        });
    }
    let ctx = Ctx::new(size.name(), format, dpi);
    let sym = Symbol::encode(&l.bin)?;
    let (w, h) = size.mm();
    let mut doc = new_doc(&ctx, w, h);
    let page = whole(&doc);
    let (region, bar) = match size {
        Size::Label100x150 => (inset(&ctx, page, 5.0, 5.0), span(&ctx, page, 1.5)),
        _ => (inset(&ctx, page, 2.5, 2.0), span(&ctx, page, 1.0)),
    };
    doc.items = stack(&ctx, region, bar, &bin_rows(l, size), Some(&sym))?;
    Ok(doc)
}

/// Cell size of the A4 sheet, in mm (3 × 8 cells fill the page).
pub const SHEET_CELL_MM: (f64, f64) = (70.0, 297.0 / 8.0);

/// Where a label goes on an A4 sheet: its cell (column, row) and how many columns it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub col: u32,
    pub row: u32,
    pub span: u32,
}

/// Places bin labels on A4 sheets, row by row: one cell each, or a whole row for a code too
/// long for one cell at the smallest module a scanner reads reliably. Returns the pages, each
/// a list of (label index, slot).
pub fn sheet_pages(
    ls: &[BinLabel],
    format: Format,
    dpi: u32,
) -> Result<Vec<Vec<(usize, Slot)>>, LabelError> {
    let ctx = Ctx::new("A4 sheet cell (70x37)", format, dpi);
    let (cw, ch) = SHEET_CELL_MM;
    let one_cell = Rect {
        x: 0,
        y: 0,
        w: ctx.d(cw),
        h: ctx.d(ch),
    };
    let cols = super::SHEET_COLUMNS;
    let mut pages = vec![Vec::new()];
    let (mut col, mut row) = (0, 0);
    for (i, l) in ls.iter().enumerate() {
        let sym = Symbol::encode(&l.bin)?;
        let span_cols = if ctx.module_for(&sym, span(&ctx, one_cell, 1.5).1).is_ok() {
            1
        } else {
            cols
        };
        if col + span_cols > cols {
            col = 0;
            row += 1;
        }
        if row >= super::SHEET_ROWS {
            pages.push(Vec::new());
            row = 0;
        }
        pages.last_mut().expect("a page").push((
            i,
            Slot {
                col,
                row,
                span: span_cols,
            },
        ));
        col += span_cols;
    }
    Ok(pages)
}

/// One A4 sheet of bin labels placed by [`sheet_pages`].
pub fn bin_sheet(
    ls: &[BinLabel],
    slots: &[(usize, Slot)],
    format: Format,
    dpi: u32,
) -> Result<Doc, LabelError> {
    let ctx = Ctx::new("A4 sheet cell (70x37)", format, dpi);
    let (w, h) = Size::A4.mm();
    let mut doc = new_doc(&ctx, w, h);
    let (cw, ch) = SHEET_CELL_MM;
    for &(i, slot) in slots {
        let l = &ls[i];
        let x0 = ctx.d(slot.col as f64 * cw);
        let y0 = ctx.d(slot.row as f64 * ch);
        let cell_rect = Rect {
            x: x0,
            y: y0,
            w: ctx.d((slot.col + slot.span) as f64 * cw) - x0,
            h: ctx.d((slot.row + 1) as f64 * ch) - y0,
        };
        // Content at least 4 mm from the cell edges, clear of most printers' margins.
        let region = inset(&ctx, cell_rect, 4.0, 4.5);
        let bar = span(&ctx, cell_rect, 1.5);
        let sym = Symbol::encode(&l.bin)?;
        let items = stack(
            &ctx,
            region,
            bar,
            &bin_rows(l, Size::Label60x40),
            Some(&sym),
        )?;
        doc.items.extend(items);
    }
    Ok(doc)
}

fn item_rows_text(l: &ItemLabel, vertical: bool) -> Vec<Row> {
    use Align::*;
    let owner = clean(&l.owner);
    let gcode = clean(&l.gcode);
    let rid = clean(&l.return_id);
    let gnum = l.gnum.to_string();
    let name = clean(&l.name);
    let fields = [
        ("商品名称 PRODUCT", name),
        ("货主 OWNER", owner),
        ("商品编码 HS CODE", gcode),
        ("退货单 RETURN", rid),
        ("项号 LINE (GNUM)", gnum),
    ];
    let mut rows = Vec::new();
    if vertical {
        for (name, v) in fields {
            rows.push(Row::Cells(4.0, vec![cell(1.0, name, Left, false)]));
            rows.push(Row::Gap(1.0));
            rows.push(Row::Cells(8.0, vec![cell(1.0, &v, Left, true)]));
            rows.push(Row::Gap(5.0));
        }
    } else {
        for (name, v) in fields {
            rows.push(Row::Cells(
                6.0,
                vec![cell(0.4, name, Left, false), cell(0.6, &v, Left, true)],
            ));
            rows.push(Row::Gap(2.5));
        }
    }
    rows
}

/// Item label: 100x150 (barcode across when it fits, else along the long side) or 60x40
/// (short data only).
pub fn item_label(l: &ItemLabel, size: Size, format: Format, dpi: u32) -> Result<Doc, LabelError> {
    use Align::*;
    let ctx = Ctx::new(size.name(), format, dpi);
    let data = l.data();
    let sym = Symbol::encode(&data)?;
    let (w, h) = size.mm();
    let mut doc = new_doc(&ctx, w, h);
    let page = whole(&doc);
    let title = || Row::Cells(7.0, vec![cell(1.0, "退货商品 RETURNED ITEM", Left, true)]);
    match size {
        Size::Label60x40 => {
            let rows = vec![
                Row::Barcode { max_mm: 14.0 },
                Row::Gap(0.8),
                Row::Cells(3.5, vec![cell(1.0, &data, Center, false)]),
                Row::Gap(1.2),
                Row::Cells(
                    4.0,
                    vec![
                        cell(0.5, &l.owner, Left, true),
                        cell(0.5, &l.gcode, Right, true),
                    ],
                ),
                Row::Gap(1.2),
                Row::Cells(
                    4.0,
                    vec![
                        cell(0.72, &l.return_id, Left, true),
                        cell(0.28, &format!("#{}", l.gnum), Right, true),
                    ],
                ),
                Row::Gap(1.2),
                Row::Cells(4.0, vec![cell(1.0, &l.name, Left, false)]),
                Row::Fill,
            ];
            doc.items = stack(
                &ctx,
                inset(&ctx, page, 2.0, 2.0),
                span(&ctx, page, 1.0),
                &rows,
                Some(&sym),
            )?;
        }
        Size::Label100x150 => {
            let across = span(&ctx, page, 1.5);
            if ctx.module_for(&sym, across.1).is_ok() {
                let mut rows = vec![
                    title(),
                    Row::Gap(1.5),
                    Row::Rule(0.5),
                    Row::Gap(2.5),
                    Row::Barcode { max_mm: 35.0 },
                    Row::Gap(1.5),
                    Row::Cells(4.5, vec![cell(1.0, &data, Center, false)]),
                    Row::Gap(3.0),
                    Row::Rule(0.3),
                    Row::Gap(3.0),
                ];
                rows.extend(item_rows_text(l, false));
                rows.push(Row::Fill);
                doc.items = stack(&ctx, inset(&ctx, page, 4.0, 4.0), across, &rows, Some(&sym))?;
            } else {
                // Ladder orientation: the symbol runs down the 150 mm side.
                let along = (ctx.d(1.5), page.h - 2 * ctx.d(1.5));
                let module = ctx.module_for(&sym, along.1)?;
                let total_px = sym.total_modules() * module;
                let bar_h = ctx.min_bar(total_px).max(ctx.d(18.0)).min(ctx.d(30.0));
                let x = ctx.d(4.0);
                let y = along.0 + (along.1 - total_px) / 2 + QUIET_MODULES * module;
                doc.items.push(Item::Bars(Bars {
                    x,
                    y,
                    module,
                    height: bar_h,
                    vertical: true,
                    symbol: sym.clone(),
                }));
                let tx = x + bar_h + ctx.d(5.0);
                let region = Rect {
                    x: tx,
                    y: ctx.d(4.0),
                    w: page.w - tx - ctx.d(4.0),
                    h: page.h - 2 * ctx.d(4.0),
                };
                let mut rows = vec![title(), Row::Gap(1.5), Row::Rule(0.5), Row::Gap(5.0)];
                rows.extend(item_rows_text(l, true));
                rows.push(Row::Fill);
                rows.push(Row::Cells(3.5, vec![cell(1.0, &data, Left, false)]));
                doc.items.extend(stack(&ctx, region, (0, 0), &rows, None)?);
            }
        }
        Size::A4 => {
            return Err(LabelError::SizeNotSupported {
                label: "item",
                size: size.name(),
                supported: "100x150 or 60x40",
            })
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(doc: &Doc) -> Vec<&Bars> {
        doc.items
            .iter()
            .filter_map(|i| match i {
                Item::Bars(b) => Some(b),
                _ => None,
            })
            .collect()
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
            held: true,
        }
    }

    /// Everything inside the page; quiet zones blank (no other item overlaps them);
    /// module and height rules hold.
    fn check(doc: &Doc) {
        for it in &doc.items {
            let r = match it {
                Item::Text(t) => t.rect,
                Item::Fill(r) => *r,
                Item::Bars(b) => {
                    let q = QUIET_MODULES * b.module;
                    let len = b.length();
                    if b.vertical {
                        Rect {
                            x: b.x,
                            y: b.y - q,
                            w: b.height,
                            h: len + 2 * q,
                        }
                    } else {
                        Rect {
                            x: b.x - q,
                            y: b.y,
                            w: len + 2 * q,
                            h: b.height,
                        }
                    }
                }
            };
            assert!(
                r.x + r.w <= doc.width && r.y + r.h <= doc.height,
                "{r:?} outside {}x{}",
                doc.width,
                doc.height
            );
        }
        for b in bars(doc) {
            assert!(b.module >= code128::min_module_dots(doc.dpi));
            let q = QUIET_MODULES * b.module;
            let zone = if b.vertical {
                Rect {
                    x: b.x,
                    y: b.y - q,
                    w: b.height,
                    h: b.length() + 2 * q,
                }
            } else {
                Rect {
                    x: b.x - q,
                    y: b.y,
                    w: b.length() + 2 * q,
                    h: b.height,
                }
            };
            let min_h = ((zone.w.max(zone.h) as f64) * 0.15).min(doc.height as f64);
            assert!(
                b.height as f64 >= min_h.max(dots(10.0, doc.dpi) as f64) - 1.0,
                "bar height {}",
                b.height
            );
            for it in &doc.items {
                let r = match it {
                    Item::Text(t) => t.rect,
                    Item::Fill(r) => *r,
                    Item::Bars(_) => continue,
                };
                let overlap = r.x < zone.x + zone.w
                    && zone.x < r.x + r.w
                    && r.y < zone.y + zone.h
                    && zone.y < r.y + r.h;
                assert!(!overlap, "{r:?} overlaps the barcode zone {zone:?}");
            }
        }
    }

    #[test]
    fn layouts_respect_the_symbology_rules() {
        let b = BinLabel {
            warehouse: "XY01".into(),
            area: "restock".into(),
            bin: "XY01-R-01-02".into(),
        };
        let i = ItemLabel {
            owner: "HK0000E001".into(),
            gcode: "3304990099".into(),
            return_id: "RT20261122000001".into(),
            gnum: 1,
            name: "保湿面霜".into(),
        };
        for dpi in super::super::SUPPORTED_DPI {
            for f in [Format::Svg, Format::Png, Format::Zpl] {
                for size in [Size::Label100x150, Size::Label60x40] {
                    check(&return_label(&ret(), size, f, dpi).unwrap());
                    check(&bin_label(&b, size, f, dpi).unwrap());
                }
                let d = item_label(&i, Size::Label100x150, f, dpi).unwrap();
                assert!(bars(&d)[0].vertical);
                check(&d);
                let short = ItemLabel {
                    owner: "E1".into(),
                    gcode: "1".into(),
                    return_id: "R1".into(),
                    gnum: 2,
                    name: "保湿面霜".into(),
                };
                check(&item_label(&short, Size::Label60x40, f, dpi).unwrap());
                let d = item_label(&short, Size::Label100x150, f, dpi).unwrap();
                assert!(!bars(&d)[0].vertical);
                check(&d);
                let ls = vec![b.clone(); 24];
                let pages = sheet_pages(&ls, f, dpi).unwrap();
                assert_eq!(pages.len(), 1);
                let d = bin_sheet(&ls, &pages[0], f, dpi).unwrap();
                assert_eq!(bars(&d).len(), 24);
                check(&d);
            }
        }
    }

    #[test]
    fn largest_module_that_fits() {
        let d = return_label(&ret(), Size::Label100x150, Format::Png, 203).unwrap();
        // 165 modules in 97 mm (775 dots) at 203 dpi: 4 dots = 0.5 mm.
        assert_eq!(bars(&d)[0].module, 4);
        let d = return_label(&ret(), Size::Label60x40, Format::Png, 203).unwrap();
        assert_eq!(bars(&d)[0].module, 2);
        let d = return_label(&ret(), Size::Label100x150, Format::Zpl, 600).unwrap();
        assert_eq!(bars(&d)[0].module, ZPL_MAX_MODULE);
    }

    #[test]
    fn area_names_and_clean_text() {
        assert_eq!(area_name("restock"), "上架 RESTOCK");
        assert_eq!(area_name("PENDING_INSPECTION"), "待检 TO INSPECT");
        assert_eq!(area_name(" 冷库 cold\n"), "冷库 cold");
        assert_eq!(clean(" a\nb "), "a b");
    }
}

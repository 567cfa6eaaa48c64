//! "What did I just scan?": a return id, a waybill, an item label, a product barcode (within
//! the open return, or on its own), or a bin label — answered with what it is and the
//! sensible next actions.

use serde::Serialize;

use super::view::{self, Summary};
use crate::audit::Actor;
use crate::db::returns as store;
use crate::db::{parties, DbConn};
use crate::domain::ids;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanBin {
    pub warehouse: String,
    pub code: String,
    pub area: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanLine {
    pub gnum: i32,
    pub gcode: String,
    pub gname: String,
}

impl From<crate::db::returns::DeclarationLineRow> for ScanLine {
    fn from(d: crate::db::returns::DeclarationLineRow) -> Self {
        Self {
            gnum: d.gnum,
            gcode: d.gcode,
            gname: d.gname,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanResult {
    /// return, waybill, item, product or bin
    pub kind: &'static str,
    pub id: String,
    #[serde(rename = "return")]
    pub ret: Option<Summary>,
    pub bin: Option<ScanBin>,
    pub line: Option<ScanLine>,
    pub next_actions: Vec<&'static str>,
}

fn summary_of(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Option<Summary>, AppError> {
    match super::load_visible(conn, actor, id) {
        Ok(l) => {
            let lines = store::lines_of_inspected(conn, [&l.ret])?;
            Ok(Some(view::summary(
                &l.ret,
                &l.decl,
                &lines,
                chrono::Utc::now().naive_utc(),
            )))
        }
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn line_of(
    conn: &mut DbConn,
    return_id: &str,
    pred: impl Fn(&crate::db::returns::DeclarationLineRow) -> bool,
) -> Result<Option<ScanLine>, AppError> {
    let Some(r) = store::get(conn, return_id)? else {
        return Ok(None);
    };
    let mine: Vec<i32> = store::lines(conn, return_id)?
        .iter()
        .map(|l| l.gnum)
        .collect();
    Ok(store::declaration_lines(conn, &r.invt_no)?
        .into_iter()
        .find(|d| mine.contains(&d.gnum) && pred(d))
        .map(ScanLine::from))
}

/// The parts of an item label `OWNER-GCODE-RETURNID-GNUM` (upper-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLabelParts {
    pub owner: String,
    pub gcode: String,
    pub return_id: String,
    pub gnum: i32,
}

/// What a scanned code looks like before anything is looked up (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The code as scanned, trimmed.
    pub code: String,
    /// The same, upper-cased (scanners may send lower case).
    pub upper: String,
    /// It has the form of a return id (a return label).
    pub return_id: bool,
    /// It has the form of an item label.
    pub item: Option<ItemLabelParts>,
}

/// Checks a scanned code (1–100 printable characters) and classifies its form.
pub fn classify(raw: &str) -> Result<Classified, AppError> {
    let code = raw.trim();
    if code.is_empty() || code.chars().count() > 100 || code.chars().any(char::is_control) {
        return Err(AppError::validation(
            "code",
            "a scanned code has 1–100 printable characters",
        ));
    }
    let upper = code.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('-').collect();
    let item = match parts.as_slice() {
        [owner, gcode, rid, gnum] if ids::is_return_id(rid) => {
            gnum.parse::<i32>().ok().map(|gnum| ItemLabelParts {
                owner: owner.to_string(),
                gcode: gcode.to_string(),
                return_id: rid.to_string(),
                gnum,
            })
        }
        _ => None,
    };
    Ok(Classified {
        code: code.to_string(),
        return_id: ids::is_return_id(&upper),
        upper,
        item,
    })
}

pub fn resolve(
    conn: &mut DbConn,
    actor: &Actor,
    raw: &str,
    current: Option<&str>,
) -> Result<ScanResult, AppError> {
    let scanned = classify(raw)?;
    let code = scanned.code.as_str();
    let upper = scanned.upper.clone();
    // A return label.
    if scanned.return_id {
        if let Some(s) = summary_of(conn, actor, &upper)? {
            return Ok(ScanResult {
                kind: "return",
                id: upper,
                next_actions: s.next_actions.clone(),
                ret: Some(s),
                bin: None,
                line: None,
            });
        }
    }
    // An item label: owner-gcode-returnid-gnum; the owner is the return's e-commerce enterprise.
    if let Some(item) = &scanned.item {
        if let Some(s) = summary_of(conn, actor, &item.return_id)? {
            if s.ebc.code != item.owner {
                return Err(AppError::NotFound(format!(
                    "{code} is not an item label of return {}: the owner does not match",
                    item.return_id
                )));
            }
            let line = line_of(conn, &item.return_id, |d| {
                d.gnum == item.gnum && d.gcode == item.gcode
            })?;
            if line.is_some() {
                return Ok(ScanResult {
                    kind: "item",
                    id: upper.clone(),
                    next_actions: s.next_actions.clone(),
                    ret: Some(s),
                    bin: None,
                    line,
                });
            }
        }
    }
    // A product barcode or HS code within the open return.
    if let Some(cur) = current
        .map(str::to_ascii_uppercase)
        .filter(|c| ids::is_return_id(c))
    {
        if let Some(s) = summary_of(conn, actor, &cur)? {
            let line = line_of(conn, &cur, |d| {
                d.bar_code.as_deref() == Some(code) || d.gcode == code
            })?;
            if line.is_some() {
                return Ok(ScanResult {
                    kind: "product",
                    id: code.to_string(),
                    next_actions: s.next_actions.clone(),
                    ret: Some(s),
                    bin: None,
                    line,
                });
            }
        }
    }
    // A waybill: the parcel's open return (or its latest one).
    let mut found = None;
    for r in store::by_waybill(conn, code)? {
        if let Some(s) = summary_of(conn, actor, &r.id)? {
            let open = !matches!(s.state.as_str(), "closed" | "cancelled");
            if open || found.is_none() {
                found = Some(s);
            }
            if open {
                break;
            }
        }
    }
    if let Some(s) = found {
        return Ok(ScanResult {
            kind: "waybill",
            id: code.to_string(),
            next_actions: s.next_actions.clone(),
            ret: Some(s),
            bin: None,
            line: None,
        });
    }
    // A bin label (in one's own warehouse for floor staff).
    let bins: Vec<_> = parties::bins_by_code(conn, &upper)?
        .into_iter()
        .filter(|b| {
            actor.role != "floor" || actor.warehouse.as_deref() == Some(b.warehouse_code.as_str())
        })
        .collect();
    if let Some(b) = bins.into_iter().next() {
        let next = match b.area.as_str() {
            "restock" => vec!["restock"],
            "pending_inspection" | "discrepancy" | "hold" => vec!["sort"],
            "exit" => vec!["dispose"],
            _ => vec!["receive"],
        };
        return Ok(ScanResult {
            kind: "bin",
            id: b.code.clone(),
            ret: None,
            bin: Some(ScanBin {
                warehouse: b.warehouse_code,
                code: b.code,
                area: b.area,
            }),
            line: None,
            next_actions: next,
        });
    }
    // A product barcode with no return open: what it is, and no return guessed for it (the
    // same product may be in several parcels; the worker scans the parcel's label first).
    if current.is_none() {
        // Floor staff look only in their own warehouse (none set: nothing matches).
        let mine = (actor.role == "floor").then(|| actor.warehouse.as_deref().unwrap_or_default());
        if let Some(d) = store::product_by_barcode(conn, code, mine)? {
            return Ok(ScanResult {
                kind: "product",
                id: code.to_string(),
                ret: None,
                bin: None,
                line: Some(d.into()),
                next_actions: Vec::new(),
            });
        }
    }
    Err(not_known(code, current))
}

fn not_known(code: &str, current: Option<&str>) -> AppError {
    AppError::NotFound(if current.is_some() {
        format!("{code} is not a return, waybill, bin, or a product of the open return")
    } else {
        format!("{code} is not a known return, waybill, bin or product")
    })
}

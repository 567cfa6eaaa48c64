//! Sorting an opened parcel: each scanned item is matched to a line by gnum, product
//! barcode or HS code; unmatched or excess items are a discrepancy routed to that area.

use serde::{Deserialize, Serialize};

use super::{Done, Loaded, Step};
use crate::audit::{Actor, Changes, NewEntry};
use crate::db::returns::{self as store, NewDiscrepancy};
use crate::db::writer::Tx;
use crate::domain::returns::{Action, State};
use crate::error::{AppError, FieldError};

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SortItem {
    /// The line, when known…
    pub gnum: Option<u32>,
    /// …or the scanned product barcode / HS code.
    #[schema(max_length = 60, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub code: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    pub qty: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SortInput {
    /// What was counted (with `unmatched`, at most 1000 entries).
    #[schema(max_items = 1000)]
    pub items: Vec<SortItem>,
    /// Codes scanned that the worker already knows match nothing.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub unmatched: Vec<SortItem>,
    /// Where the parcel goes: a pending-inspection bin, or a discrepancy bin when there is one.
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub bin: String,
}

pub fn sort(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &SortInput,
) -> Result<Step<Done>, AppError> {
    if input.items.len() + input.unmatched.len() > 1000 {
        return Err(AppError::validation("items", "at most 1000 entries"));
    }
    let Loaded { mut ret, decl } = match super::begin_step(tx, actor, id, Action::Sort)? {
        Step::Done(l) => l,
        Step::Held(e) => return Ok(Step::Held(e)),
    };
    let warehouse = ret.warehouse_code.clone().unwrap_or_default();
    let (mut lines, decl_lines) = store::lines_with_declaration(tx.conn, id, &decl.invt_no)?;
    let mut counted = std::collections::BTreeMap::<i32, i64>::new();
    let mut discrepancies: Vec<(String, i64)> = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in input.items.iter().chain(input.unmatched.iter()).enumerate() {
        if item.qty <= 0 || item.qty > 100_000 {
            errors.push(FieldError::new(
                format!("items[{i}].qty"),
                "a whole number of units above zero",
            ));
            continue;
        }
        let code = item
            .code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if let Some(c) = code {
            if c.chars().count() > 60 || c.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    format!("items[{i}].code"),
                    "at most 60 printable characters",
                ));
                continue;
            }
        }
        let matched = match (item.gnum, code) {
            (Some(g), _) => lines.iter().find(|l| l.gnum as u32 == g).map(|l| l.gnum),
            (None, Some(c)) => lines
                .iter()
                .find(|l| {
                    decl_lines.iter().any(|d| {
                        d.gnum == l.gnum && (d.bar_code.as_deref() == Some(c) || d.gcode == c)
                    })
                })
                .map(|l| l.gnum),
            (None, None) => {
                errors.push(FieldError::new(format!("items[{i}]"), "give gnum or code"));
                continue;
            }
        };
        match matched {
            Some(g) => *counted.entry(g).or_default() += item.qty,
            None => {
                let label = code
                    .map(String::from)
                    .unwrap_or_else(|| format!("gnum {}", item.gnum.unwrap_or(0)));
                discrepancies.push((label, item.qty));
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    for l in &mut lines {
        let n = counted.get(&l.gnum).copied().unwrap_or(0);
        l.sorted = n.min(l.qty);
        if n > l.qty {
            discrepancies.push((format!("gnum {} excess", l.gnum), n - l.qty));
        }
        if n < l.qty {
            discrepancies.push((format!("gnum {} missing", l.gnum), l.qty - n));
        }
    }
    let bin = super::bin_in(tx, &warehouse, &input.bin)?;
    let bin_code = bin.code.clone();
    let route = if discrepancies.is_empty() {
        "pending_inspection"
    } else {
        "discrepancy"
    };
    if bin.area != route && bin.area != "hold" {
        return Err(AppError::validation(
            "bin",
            format!(
                "this parcel goes to the {route} area; bin {bin_code} is in the {} area",
                bin.area
            ),
        ));
    }
    // Opened and counted at the receiving area, under its camera.
    let camera = super::covering_camera(tx, &warehouse, "receiving")?;
    for l in &lines {
        store::save_line(tx.conn, l)?;
    }
    for (code, qty) in &discrepancies {
        store::insert_discrepancy(
            tx.conn,
            &NewDiscrepancy {
                return_id: id,
                code,
                qty: *qty,
                created_at: tx.now,
            },
        )?;
    }
    let before_bin = ret.bin_code.clone();
    ret.state = State::Sorted.as_str().into();
    ret.discrepancy = !discrepancies.is_empty();
    ret.bin_code = Some(bin_code.clone());
    store::update_from(tx.conn, &ret, State::Received.as_str())?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.sort",
            entity_kind: "return",
            entity_id: id,
            warehouse: Some(&warehouse),
            enterprise: Some(&decl.ebc_code),
            changes: Changes::new()
                .set("state", "received", "sorted")
                .set("bin", before_bin, &bin_code)
                .created("camera", &camera)
                .created("area", "receiving")
                .created("quantity", counted.values().sum::<i64>())
                .created(
                    "sorted",
                    lines
                        .iter()
                        .map(|l| format!("{}:{}/{}", l.gnum, l.sorted, l.qty))
                        .collect::<Vec<_>>(),
                )
                .created(
                    "discrepancies",
                    discrepancies
                        .iter()
                        .map(|(c, q)| format!("{c}×{q}"))
                        .collect::<Vec<_>>(),
                ),
            reason: None,
        },
    )?;
    Ok(Step::Done(Done::before_inspection(
        ret,
        decl,
        Some(lines),
        Some(decl_lines),
    )))
}

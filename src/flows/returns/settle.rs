//! Settling inspected units: restock intact ones into bonded stock (tax not levied), or
//! dispose of them — exit the zone, re-export, destroy (the last two with a supervisor's
//! approval). A return closes once every counted unit is settled.

use serde::{Deserialize, Serialize};

use super::{line_index, Done, Loaded, Step};
use crate::audit::{Actor, Changes, NewEntry};
use crate::db::returns::{self as store, NewDisposal, ReturnLineRow, StockRow};
use crate::db::writer::Tx;
use crate::domain::grading::{restockable, Grades, Route};
use crate::domain::returns::{Action, State};
use crate::domain::{deadlines, ids};
use crate::error::AppError;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockInput {
    pub gnum: u32,
    #[schema(minimum = 1)]
    pub qty: i64,
    /// A bin of the restock area.
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub bin: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisposeInput {
    pub gnum: u32,
    #[schema(minimum = 1)]
    pub qty: i64,
    /// exit, reexport or destroy
    #[schema(value_type = crate::domain::grading::Route)]
    pub route: String,
    /// The document (exit declaration, re-export or destruction record) it is done under.
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub reference: String,
}

fn grades(l: &ReturnLineRow) -> Grades {
    Grades {
        intact: l.intact,
        damaged_packaging: l.damaged_packaging,
        used: l.used,
        defective: l.defective,
        not_original: l.not_original,
    }
}

pub fn restock(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &RestockInput,
) -> Result<Step<Done>, AppError> {
    let Loaded { mut ret, decl } = match super::begin_step(tx, actor, id, Action::Settle)? {
        Step::Done(l) => l,
        Step::Held(e) => return Ok(Step::Held(e)),
    };
    if ret.late {
        let limit = decl.released_at.map(deadlines::arrival_deadline);
        return Err(AppError::DeadlinePassed(format!(
            "return {id} arrived after the {}-day limit{}: it cannot go back to bonded stock; dispose of it (exit, re-export or destroy)",
            deadlines::ARRIVAL_DAYS,
            limit.map(|l| format!(" ({})", l.format("%Y-%m-%d"))).unwrap_or_default()
        )));
    }
    if input.qty <= 0 {
        return Err(AppError::validation(
            "qty",
            "a whole number of units above zero",
        ));
    }
    let (mut lines, decl_lines) = store::lines_with_declaration(tx.conn, id, &decl.invt_no)?;
    let at = line_index(&lines, input.gnum)?;
    let line = &lines[at];
    let can = restockable(&grades(line), line.restocked, ret.late).min(line.unsettled());
    if input.qty > can {
        return Err(AppError::QuantityExceeds(format!(
            "line {}: {} asked, only {can} intact unit(s) can still be restocked",
            input.gnum, input.qty
        )));
    }
    let warehouse = ret.warehouse_code.clone().unwrap_or_default();
    let bin = super::bin_in(tx, &warehouse, &input.bin)?;
    let bin_code = bin.code.clone();
    if bin.area != "restock" {
        return Err(AppError::validation(
            "bin",
            format!(
                "bin {bin_code} is in the {} area; restock only into a restock bin",
                bin.area
            ),
        ));
    }
    let decl_line = decl_lines
        .iter()
        .find(|d| d.gnum == lines[at].gnum)
        .ok_or_else(|| AppError::Internal("declaration line missing".into()))?;
    // Put on the shelf in the restock area, under its camera.
    let camera = super::covering_camera(tx, &warehouse, &bin.area)?;
    let new_qty = store::add_stock(
        tx.conn,
        &StockRow {
            owner_code: decl.ebc_code.clone(),
            gcode: decl_line.gcode.clone(),
            warehouse_code: warehouse.clone(),
            bin_code: bin_code.clone(),
            gname: decl_line.gname.clone(),
            qty: input.qty,
            updated_at: tx.now,
        },
    )?;
    let line = &mut lines[at];
    let before = line.restocked;
    line.restocked += input.qty;
    let (gnum, restocked) = (line.gnum, line.restocked);
    store::save_line(tx.conn, &lines[at])?;
    let closed = super::close_if_settled(tx.now, &mut ret, &lines);
    store::update_from(tx.conn, &ret, State::Inspected.as_str())?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.restock",
            entity_kind: "return",
            entity_id: id,
            warehouse: Some(&warehouse),
            enterprise: Some(&decl.ebc_code),
            changes: Changes::new()
                .set(&format!("line {gnum} restocked"), before, restocked)
                .set(
                    &format!("stock {}/{}/{}", decl.ebc_code, decl_line.gcode, bin_code),
                    new_qty - input.qty,
                    new_qty,
                )
                .set("state", "inspected", &ret.state)
                .created("camera", &camera)
                .created("bin", &bin_code)
                .created("area", &bin.area)
                .created("quantity", input.qty),
            reason: closed.then_some("every unit settled: return closed"),
        },
    )?;
    Ok(Step::Done(Done {
        ret,
        decl,
        lines: Some(lines),
        decl_lines: Some(decl_lines),
        disposals: None,
    }))
}

pub fn dispose(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &DisposeInput,
) -> Result<Step<Done>, AppError> {
    let route = Route::parse(input.route.trim())
        .ok_or_else(|| AppError::validation("route", "exit, reexport or destroy"))?;
    let reference = ids::text("reference", &input.reference, 100)?;
    if input.qty <= 0 {
        return Err(AppError::validation(
            "qty",
            "a whole number of units above zero",
        ));
    }
    let Loaded { mut ret, decl } = match super::begin_step(tx, actor, id, Action::Settle)? {
        Step::Done(l) => l,
        Step::Held(e) => return Ok(Step::Held(e)),
    };
    let mut lines = store::lines(tx.conn, id)?;
    let at = line_index(&lines, input.gnum)?;
    let line = &mut lines[at];
    let left = line.unsettled();
    if input.qty > left {
        return Err(AppError::QuantityExceeds(format!(
            "line {}: {} asked, only {left} unit(s) are not yet restocked, disposed or awaiting approval",
            input.gnum, input.qty
        )));
    }
    // Taken to the exit area, under its camera.
    let camera = super::covering_camera(tx, ret.warehouse_code.as_deref().unwrap_or(""), "exit")?;
    let status = if route.needs_approval() {
        "pending_approval"
    } else {
        "done"
    };
    let disposal_id = store::insert_disposal(
        tx.conn,
        &NewDisposal {
            return_id: id,
            gnum: line.gnum,
            qty: input.qty,
            route: route.as_str(),
            reference: &reference,
            status,
            requested_by: &actor.username,
            requested_at: tx.now,
        },
    )?;
    let field = format!(
        "line {} {}",
        line.gnum,
        if route.needs_approval() {
            "pending_disposal"
        } else {
            "disposed_exit"
        }
    );
    let before = if route.needs_approval() {
        line.pending_disposal
    } else {
        line.disposed_exit
    };
    if route.needs_approval() {
        line.pending_disposal += input.qty;
    } else {
        line.disposed_exit += input.qty;
    }
    let after = before + input.qty;
    store::save_line(tx.conn, &lines[at])?;
    let closed = super::close_if_settled(tx.now, &mut ret, &lines);
    store::update_from(tx.conn, &ret, State::Inspected.as_str())?;
    tx.audit(
        actor,
        NewEntry {
            action: if route.needs_approval() { "return.dispose_request" } else { "return.dispose" },
            entity_kind: "return",
            entity_id: id,
            warehouse: ret.warehouse_code.as_deref(),
            enterprise: Some(&decl.ebc_code),
            changes: Changes::new()
                .set(&field, before, after)
                .created("disposal", serde_json::json!({"id": disposal_id, "route": route.as_str(), "qty": input.qty, "reference": reference}))
                .set("state", "inspected", &ret.state)
                .created("camera", &camera)
                .created("area", "exit")
                .created("quantity", input.qty),
            reason: closed.then_some("every unit settled: return closed"),
        },
    )?;
    Ok(Step::Done(Done {
        ret,
        decl,
        lines: Some(lines),
        decl_lines: None,
        disposals: None,
    }))
}

/// A supervisor approves (or rejects) a re-export or destruction. Like every step, it is
/// refused in a warehouse whose operator is excluded, and a party found excluded puts the
/// return on customs hold instead.
pub fn decide(
    tx: &mut Tx<'_>,
    actor: &Actor,
    disposal_id: i64,
    approve: bool,
    reason: &str,
) -> Result<Step<Done>, AppError> {
    let reason = ids::text("reason", reason, 500)?;
    let d = store::disposal(tx.conn, disposal_id)?
        .ok_or_else(|| AppError::NotFound(format!("disposal {disposal_id} does not exist")))?;
    if d.status != "pending_approval" {
        return Err(AppError::InvalidState(format!(
            "disposal {disposal_id} is already {}",
            d.status
        )));
    }
    let mut ret = store::get(tx.conn, &d.return_id)?
        .ok_or_else(|| AppError::Internal("return missing".into()))?;
    if ret.state != State::Inspected.as_str() {
        return Err(AppError::InvalidState(format!(
            "return {} is {}; release it before deciding",
            ret.id, ret.state
        )));
    }
    let Loaded { ret: loaded, decl } =
        match super::begin_step(tx, actor, &d.return_id, Action::Settle)? {
            Step::Done(l) => l,
            Step::Held(e) => return Ok(Step::Held(e)),
        };
    ret = loaded;
    let mut lines = store::lines(tx.conn, &ret.id)?;
    let at = line_index(&lines, d.gnum as u32)?;
    let line = &mut lines[at];
    store::decide_disposal(
        tx.conn,
        disposal_id,
        if approve { "done" } else { "rejected" },
        &actor.username,
        tx.now,
    )?;
    line.pending_disposal -= d.qty;
    let route = Route::parse(&d.route).ok_or_else(|| AppError::Internal("bad route".into()))?;
    if approve {
        match route {
            Route::Reexport => line.disposed_reexport += d.qty,
            Route::Destroy => line.disposed_destroy += d.qty,
            Route::Exit => line.disposed_exit += d.qty,
        }
    }
    let (gnum, pending) = (line.gnum, line.pending_disposal);
    store::save_line(tx.conn, &lines[at])?;
    let closed = super::close_if_settled(tx.now, &mut ret, &lines);
    store::update_from(tx.conn, &ret, State::Inspected.as_str())?;
    let id = ret.id.clone();
    tx.audit(
        actor,
        NewEntry {
            action: if approve {
                "return.dispose_approve"
            } else {
                "return.dispose_reject"
            },
            entity_kind: "return",
            entity_id: &id,
            warehouse: ret.warehouse_code.as_deref(),
            enterprise: None,
            changes: Changes::new()
                .set(
                    &format!("disposal {disposal_id}"),
                    "pending_approval",
                    if approve { "done" } else { "rejected" },
                )
                .set(
                    &format!("line {gnum} pending_disposal"),
                    pending + d.qty,
                    pending,
                )
                .set("state", "inspected", &ret.state),
            reason: Some(&if closed {
                format!("{reason} (return closed)")
            } else {
                reason.clone()
            }),
        },
    )?;
    Ok(Step::Done(Done {
        ret,
        decl,
        lines: Some(lines),
        decl_lines: None,
        disposals: None,
    }))
}

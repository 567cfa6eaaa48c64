//! Settling inspected units: restock intact ones into bonded stock (tax not levied), or
//! dispose of them — exit the zone, re-export, destroy (the last two with a supervisor's
//! approval). A return closes once every counted unit is settled.

use serde::{Deserialize, Serialize};

use super::{decide, line_index, Done, Loaded, Step};
use crate::audit::{Actor, Changes, NewEntry};
use crate::db::returns as store;
use crate::db::writer::Tx;
use crate::domain::grading::Route;
use crate::domain::ids;
use crate::domain::returns::{Action, State};
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

/// Restocks intact units: load (with the stock at the bin), decide ([`decide::restock`]),
/// write.
pub fn restock(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &RestockInput,
) -> Result<Step<Done>, AppError> {
    let stock_bin = ids::place_code("bin", &input.bin, 30).ok();
    let facts = match super::load_and_gate(tx, actor, id, Action::Settle, stock_bin.as_deref())? {
        Ok(f) => f,
        Err(held) => return Ok(held),
    };
    let warehouse = facts.ret.warehouse_code.clone().unwrap_or_default();
    let bin = super::bin_for_decide(tx, &warehouse, &input.bin)?;
    // The camera matters only for a restock bin (any other is refused first).
    let camera = match &bin {
        Ok(b) if b.area == "restock" => super::camera_for_decide(tx, &warehouse, &b.area)?,
        _ => Err(AppError::Internal("no camera looked up".into())),
    };
    let d = super::save(
        tx,
        actor,
        decide::restock(&facts, input, bin, camera, tx.now)?,
    )?;
    Ok(Step::Done(Done::settled(tx, d, facts)))
}

/// Disposes of units: load, decide ([`decide::dispose`]), write.
pub fn dispose(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &DisposeInput,
) -> Result<Step<Done>, AppError> {
    let what = decide::dispose_what(input)?;
    let facts = match super::load_and_gate(tx, actor, id, Action::Settle, None)? {
        Ok(f) => f,
        Err(held) => return Ok(held),
    };
    let warehouse = facts.ret.warehouse_code.clone().unwrap_or_default();
    let camera = super::camera_for_decide(tx, &warehouse, "exit")?;
    let d = super::save(
        tx,
        actor,
        decide::dispose(&facts, input, what, camera, tx.now)?,
    )?;
    Ok(Step::Done(Done::settled(tx, d, facts)))
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
        restocks: None,
        discrepancies: None,
    }))
}

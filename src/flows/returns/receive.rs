//! Receiving a parcel at the dock: where, when, under which camera; late parcels are
//! received too (nothing is refused at the door) but flagged, and may then only leave.

use serde::{Deserialize, Serialize};

use super::{Done, Loaded, Step};
use crate::audit::{Actor, Changes, NewEntry};
use crate::db::printing::JobRow;
use crate::db::returns as store;
use crate::db::writer::Tx;
use crate::domain::returns::{Action, State};
use crate::domain::printing::LabelKind;
use crate::domain::{deadlines, ids};
use crate::error::AppError;
use crate::flows::printing::{self, LabelRef};

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInput {
    /// The worker's own warehouse.
    #[schema(schema_with = crate::domain::ids::schema::warehouse_code)]
    pub warehouse: String,
    /// The camera covering the dock.
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub camera: String,
    /// A receiving-area bin where the parcel is put (optional).
    #[schema(schema_with = crate::domain::ids::schema::bin_code_or_null)]
    pub bin: Option<String>,
    /// The printer (of this warehouse) the handheld prints on: the return label is queued for
    /// it in the same transaction, once, and sent by the printing worker. Left out: the label
    /// is printed from the browser.
    #[serde(default)]
    #[schema(schema_with = crate::domain::ids::schema::bin_code_or_null)]
    pub printer: Option<String>,
}

/// Receives the parcel and, when the handheld names a printer, queues its return label for
/// that printer in the same transaction (so an acknowledged receive always has its label job,
/// and a receive replayed with its Idempotency-Key makes none again).
pub fn receive_and_print(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &ReceiveInput,
) -> Result<Step<(Done, Option<JobRow>)>, AppError> {
    let printer = input
        .printer
        .as_deref()
        .map(|p| ids::place_code("printer", p, 30))
        .transpose()?;
    let done = match receive(tx, actor, id, input)? {
        Step::Done(done) => done,
        Step::Held(e) => return Ok(Step::Held(e)),
    };
    let job = match (printer, done.ret.warehouse_code.clone()) {
        (Some(printer), Some(warehouse)) => Some(printing::queue(
            tx,
            actor,
            &warehouse,
            &printer,
            &LabelRef {
                kind: LabelKind::Return,
                id: done.ret.id.clone(),
                gnum: None,
            },
            "receive",
        )?),
        _ => None,
    };
    Ok(Step::Done((done, job)))
}

pub fn receive(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &ReceiveInput,
) -> Result<Step<Done>, AppError> {
    let warehouse = ids::place_code("warehouse", &input.warehouse, 20)?;
    let camera = ids::place_code("camera", &input.camera, 30)?;
    if actor.warehouse.as_deref() != Some(warehouse.as_str()) {
        return Err(AppError::Forbidden(format!(
            "you work in warehouse {}, not {warehouse}",
            actor.warehouse.as_deref().unwrap_or("-")
        )));
    }
    let wh = super::warehouse_operable(tx, &warehouse)?;
    let Loaded { mut ret, decl } = match super::begin_step(tx, actor, id, Action::Receive)? {
        Step::Done(l) => l,
        Step::Held(e) => return Ok(Step::Held(e)),
    };
    if wh.operator_code != decl.area_code {
        return Err(AppError::Forbidden(format!(
            "this parcel is for the return center of {} (list {}), not warehouse {warehouse}",
            decl.area_code, decl.invt_no
        )));
    }
    if tx.refs.camera(tx.conn, &warehouse, &camera)?.is_none() {
        return Err(AppError::validation(
            "camera",
            format!("camera {camera} is not in warehouse {warehouse}"),
        ));
    }
    if let Some(b) = &input.bin {
        let b = ids::place_code("bin", b, 30)?;
        match tx.refs.bin(tx.conn, &warehouse, &b)? {
            Some(bin) if bin.area == "receiving" || bin.area == "hold" => ret.bin_code = Some(b),
            Some(bin) => {
                return Err(AppError::validation(
                    "bin",
                    format!("bin {b} is in the {} area, not receiving", bin.area),
                ))
            }
            None => {
                return Err(AppError::validation(
                    "bin",
                    format!("bin {b} is not in warehouse {warehouse}"),
                ))
            }
        }
    }
    let released_at = decl
        .released_at
        .ok_or_else(|| AppError::InvalidState("the list has no release time".into()))?;
    let late = deadlines::is_late(released_at, tx.now);
    ret.state = State::Received.as_str().into();
    ret.warehouse_code = Some(warehouse.clone());
    ret.camera_code = Some(camera.clone());
    ret.received_at = Some(tx.now);
    ret.late = late;
    store::update_from(tx.conn, &ret, State::Declared.as_str())?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.receive",
            entity_kind: "return",
            entity_id: id,
            warehouse: Some(&warehouse),
            enterprise: Some(&decl.ebc_code),
            changes: Changes::new()
                .set("state", "declared", "received")
                .created("warehouse", &warehouse)
                .created("camera", &camera)
                .created("bin", &ret.bin_code)
                .created("received_at", tx.now)
                .set("late", false, late),
            reason: late
                .then(|| format!("arrived after the {}-day limit ({}): may only leave the zone, be re-exported or destroyed", deadlines::ARRIVAL_DAYS, deadlines::arrival_deadline(released_at).format("%Y-%m-%d")))
                .as_deref(),
        },
    )?;
    Ok(Step::Done(Done::before_inspection(ret, decl, None, None)))
}

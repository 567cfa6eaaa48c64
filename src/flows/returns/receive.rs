//! Receiving a parcel at the dock: where, when, under which camera; late parcels are
//! received too (nothing is refused at the door) but flagged, and may then only leave.

use serde::{Deserialize, Serialize};

use super::{decide, Done, Step};
use crate::audit::Actor;
use crate::db::printing::JobRow;
use crate::db::writer::Tx;
use crate::domain::ids;
use crate::domain::printing::LabelKind;
use crate::domain::returns::Action;
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

/// Receives a parcel: load, decide ([`decide::receive`]), write.
pub fn receive(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &ReceiveInput,
) -> Result<Step<Done>, AppError> {
    let (warehouse, camera) = decide::receive_where(actor, input)?;
    let wh = super::warehouse_operable(tx, &warehouse)?;
    let facts = match super::load_and_gate(tx, actor, id, Action::Receive, None)? {
        Ok(f) => f,
        Err(held) => return Ok(held),
    };
    let bin = match &input.bin {
        Some(b) => Some(match ids::place_code("bin", b, 30) {
            Ok(b) => {
                let row = tx.refs.bin(tx.conn, &warehouse, &b)?;
                Ok((b, row))
            }
            Err(e) => Err(e),
        }),
        None => None,
    };
    let refs = decide::ReceiveRefs {
        warehouse: wh,
        camera: tx.refs.camera(tx.conn, &warehouse, &camera)?,
        bin,
    };
    let d = decide::receive(&facts, (&warehouse, &camera), refs, tx.now)?;
    let d = super::save(tx, actor, d)?;
    Ok(Step::Done(Done::before_inspection(
        d.ret,
        facts.decl,
        Some(d.lines),
        Some(facts.decl_lines),
    )))
}

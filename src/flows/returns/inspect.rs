//! Inspecting each line: a count per grade that adds up to what was counted at sorting.

use serde::{Deserialize, Serialize};

use super::{decide, Done, Step};
use crate::audit::Actor;
use crate::db::writer::Tx;
use crate::domain::returns::Action;
use crate::error::AppError;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineGrades {
    pub gnum: u32,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub intact: i64,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub damaged_packaging: i64,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub used: i64,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub defective: i64,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub not_original: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectInput {
    pub lines: Vec<LineGrades>,
}

/// Inspects a return: load, decide ([`decide::inspect`]), write.
pub fn inspect(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &InspectInput,
) -> Result<Step<Done>, AppError> {
    let facts = match super::load_and_gate(tx, actor, id, Action::Inspect, None)? {
        Ok(f) => f,
        Err(held) => return Ok(held),
    };
    let warehouse = facts.ret.warehouse_code.clone().unwrap_or_default();
    let camera = super::camera_for_decide(tx, &warehouse, "pending_inspection")?;
    let d = super::save(tx, actor, decide::inspect(&facts, input, camera, tx.now)?)?;
    Ok(Step::Done(Done::before_inspection(
        d.ret,
        facts.decl,
        Some(d.lines),
        Some(facts.decl_lines),
    )))
}

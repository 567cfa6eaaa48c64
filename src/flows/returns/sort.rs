//! Sorting an opened parcel: each scanned item is matched to a line by gnum, product
//! barcode or HS code; unmatched or excess items are a discrepancy routed to that area.

use serde::{Deserialize, Serialize};

use super::{decide, Done, Step};
use crate::audit::Actor;
use crate::db::writer::Tx;
use crate::domain::returns::Action;
use crate::error::AppError;

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

/// Sorts a parcel: load, decide ([`decide::sort`]), write.
pub fn sort(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &SortInput,
) -> Result<Step<Done>, AppError> {
    decide::sort_size(input)?;
    let facts = match super::load_and_gate(tx, actor, id, Action::Sort, None)? {
        Ok(f) => f,
        Err(held) => return Ok(held),
    };
    let warehouse = facts.ret.warehouse_code.clone().unwrap_or_default();
    let bin = super::bin_for_decide(tx, &warehouse, &input.bin)?;
    let camera = super::camera_for_decide(tx, &warehouse, "receiving")?;
    let d = super::save(tx, actor, decide::sort(&facts, input, bin, camera)?)?;
    let found = d.discrepancies;
    Ok(Step::Done(Done {
        discrepancies: Some(found),
        ..Done::before_inspection(d.ret, facts.decl, Some(d.lines), Some(facts.decl_lines))
    }))
}

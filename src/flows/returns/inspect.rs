//! Inspecting each line: a count per grade that adds up to what was counted at sorting.

use serde::{Deserialize, Serialize};

use super::{Done, Loaded, Step};
use crate::audit::{Actor, Changes, NewEntry};
use crate::db::returns as store;
use crate::db::writer::Tx;
use crate::domain::grading::Grades;
use crate::domain::returns::{Action, State};
use crate::error::{AppError, FieldError};

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

pub fn inspect(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    input: &InspectInput,
) -> Result<Step<Done>, AppError> {
    let Loaded { mut ret, decl } = match super::begin_step(tx, actor, id, Action::Inspect)? {
        Step::Done(l) => l,
        Step::Held(e) => return Ok(Step::Held(e)),
    };
    let (mut lines, decl_lines) = store::lines_with_declaration(tx.conn, id, &decl.invt_no)?;
    let mut errors = Vec::new();
    for (i, g) in input.lines.iter().enumerate() {
        if input.lines[..i].iter().any(|o| o.gnum == g.gnum) {
            errors.push(FieldError::new(
                format!("lines[{i}].gnum"),
                "each line once",
            ));
        } else if !lines.iter().any(|l| l.gnum as u32 == g.gnum) {
            errors.push(FieldError::new(
                format!("lines[{i}].gnum"),
                format!("line {} is not in this return", g.gnum),
            ));
        }
    }
    for l in &mut lines {
        let Some((i, g)) = input
            .lines
            .iter()
            .enumerate()
            .find(|(_, g)| g.gnum as i32 == l.gnum)
        else {
            errors.push(FieldError::new(
                "lines",
                format!("grade line {} too", l.gnum),
            ));
            continue;
        };
        let grades = Grades {
            intact: g.intact,
            damaged_packaging: g.damaged_packaging,
            used: g.used,
            defective: g.defective,
            not_original: g.not_original,
        };
        if grades.any_negative() {
            errors.push(FieldError::new(
                format!("lines[{i}]"),
                "counts cannot be negative",
            ));
            continue;
        }
        if grades.total() != l.sorted {
            errors.push(FieldError::new(
                format!("lines[{i}]"),
                format!(
                    "the grades add up to {}, but {} units of line {} were counted at sorting",
                    grades.total(),
                    l.sorted,
                    l.gnum
                ),
            ));
            continue;
        }
        l.inspected = true;
        l.intact = grades.intact;
        l.damaged_packaging = grades.damaged_packaging;
        l.used = grades.used;
        l.defective = grades.defective;
        l.not_original = grades.not_original;
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // Inspected at the inspection place, under its camera.
    let area = "pending_inspection";
    let camera = super::covering_camera(tx, ret.warehouse_code.as_deref().unwrap_or(""), area)?;
    for l in &lines {
        store::save_line(tx.conn, l)?;
    }
    ret.state = State::Inspected.as_str().into();
    let closed = super::close_if_settled(tx.now, &mut ret, &lines);
    store::update_from(tx.conn, &ret, State::Sorted.as_str())?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.inspect",
            entity_kind: "return",
            entity_id: id,
            warehouse: ret.warehouse_code.as_deref(),
            enterprise: Some(&decl.ebc_code),
            changes: Changes::new()
                .set("state", "sorted", &ret.state)
                .created(
                    "grades",
                    lines
                        .iter()
                        .map(|l| {
                            serde_json::json!({"gnum": l.gnum, "intact": l.intact, "damaged_packaging": l.damaged_packaging,
                                "used": l.used, "defective": l.defective, "not_original": l.not_original})
                        })
                        .collect::<Vec<_>>(),
                )
                .created("camera", &camera)
                .created("area", area)
                .created("quantity", lines.iter().map(|l| l.sorted).sum::<i64>()),
            reason: closed.then_some("nothing left to restock or dispose"),
        },
    )?;
    Ok(Step::Done(Done::before_inspection(
        ret,
        decl,
        Some(lines),
        Some(decl_lines),
    )))
}

//! A return application (退货申请单, CEB625 InvtRefund): which released list, which
//! waybill, which lines and quantities, and why.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, Changes, NewEntry};
use crate::customs::InvtRefund;
use crate::db::returns::{self as store, ReturnLineRow, ReturnRow};
use crate::db::schema::counters;
use crate::db::writer::Tx;
use crate::domain::{deadlines, ids, returns::State};
use crate::error::{AppError, FieldError};
use crate::flows::declarations::Outcome;
use diesel::prelude::*;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineQty {
    /// A line of the list, once.
    pub gnum: u32,
    #[schema(minimum = 1)]
    pub qty: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyInput {
    #[schema(schema_with = crate::domain::ids::schema::invt_no)]
    pub invt_no: String,
    /// The list's own waybill.
    #[schema(schema_with = crate::domain::ids::schema::waybill)]
    pub logistics_no: String,
    #[schema(schema_with = crate::domain::ids::schema::text_1000)]
    pub reason: String,
    #[schema(min_items = 1, max_items = 99)]
    pub lines: Vec<LineQty>,
}

/// The next return id of the day (China time); unique across nodes because ids are drawn
/// inside the serialised write transaction and the id is the primary key.
fn next_id(tx: &mut Tx<'_>) -> Result<String, AppError> {
    let day = deadlines::china_date(tx.now);
    let name = format!("return:{}", day.format("%Y%m%d"));
    let current: Option<i64> = counters::table
        .find(&name)
        .select(counters::value)
        .first(tx.conn)
        .optional()?;
    let next = current.unwrap_or(0) + 1;
    if current.is_some() {
        diesel::update(counters::table.find(&name))
            .set(counters::value.eq(next))
            .execute(tx.conn)?;
    } else {
        diesel::insert_into(counters::table)
            .values((counters::name.eq(&name), counters::value.eq(next)))
            .execute(tx.conn)?;
    }
    Ok(ids::return_id(day, next))
}

/// Checks an application against its released list and records it as `declared`.
pub fn apply(
    tx: &mut Tx<'_>,
    actor: &Actor,
    input: &ApplyInput,
    applied_at: Option<NaiveDateTime>,
    guid: Option<&str>,
) -> Result<ReturnRow, AppError> {
    let invt_no = ids::invt_no("invt_no", &input.invt_no)?;
    let waybill = ids::waybill("logistics_no", &input.logistics_no)?;
    let reason = ids::text("reason", &input.reason, 1000)?;
    if input.lines.is_empty() || input.lines.len() > 99 {
        return Err(AppError::validation("lines", "1 to 99 lines"));
    }
    let decl = store::declaration(tx.conn, &invt_no)?
        .ok_or_else(|| AppError::NotFound(format!("declaration list {invt_no} is unknown")))?;
    let released_at = decl.released_at.ok_or_else(|| {
        AppError::InvalidState(format!(
            "declaration list {invt_no} has not been released by customs (no CEB622 status 800)"
        ))
    })?;
    // Floor staff act only for their own warehouse: the parcel must be coming to it.
    if actor.role == "floor" {
        let operator = match actor.warehouse.as_deref() {
            Some(w) => crate::db::parties::warehouse(tx.conn, w)?.map(|w| w.operator_code),
            None => None,
        };
        if operator.as_deref() != Some(decl.area_code.as_str()) {
            return Err(AppError::Forbidden(format!(
                "list {invt_no} is addressed to the operator of another warehouse; its staff apply for its returns"
            )));
        }
        // A warehouse whose operator is excluded can do nothing, not even take applications.
        if let Some(w) = actor.warehouse.as_deref() {
            super::warehouse_operable(tx, w)?;
        }
    }
    if decl.logistics_no != waybill {
        return Err(AppError::validation(
            "logistics_no",
            format!("waybill {waybill} is not the waybill of list {invt_no}"),
        ));
    }
    let decl_lines = store::declaration_lines(tx.conn, &invt_no)?;
    // What earlier (not cancelled) returns of this list already claim, per line.
    let earlier = store::of_declaration(tx.conn, &invt_no)?;
    let mut claimed = std::collections::HashMap::<i32, i64>::new();
    for r in earlier
        .iter()
        .filter(|r| r.state != State::Cancelled.as_str())
    {
        for l in store::lines(tx.conn, &r.id)? {
            *claimed.entry(l.gnum).or_default() += l.qty;
        }
    }
    let mut errors = Vec::new();
    let mut exceeds = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        if input.lines[..i].iter().any(|o| o.gnum == l.gnum) {
            errors.push(FieldError::new(
                format!("lines[{i}].gnum"),
                "each line once",
            ));
            continue;
        }
        if l.qty <= 0 {
            errors.push(FieldError::new(
                format!("lines[{i}].qty"),
                "a whole number of units above zero",
            ));
            continue;
        }
        match decl_lines.iter().find(|d| d.gnum as u32 == l.gnum) {
            None => errors.push(FieldError::new(
                format!("lines[{i}].gnum"),
                format!("line {} is not on list {invt_no}", l.gnum),
            )),
            Some(d) => {
                let left = d.qty - claimed.get(&d.gnum).copied().unwrap_or(0);
                if l.qty > left {
                    exceeds.push(format!(
                        "line {}: {} asked, {} released, {} left",
                        l.gnum,
                        l.qty,
                        d.qty,
                        left.max(0)
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if !exceeds.is_empty() {
        return Err(AppError::QuantityExceeds(format!(
            "more than released minus earlier returns: {}",
            exceeds.join("; ")
        )));
    }
    let applied_at = applied_at.unwrap_or(tx.now);
    if !deadlines::may_apply(released_at, applied_at) {
        return Err(AppError::DeadlinePassed(format!(
            "list {invt_no} was released on {}; returns must be applied for within {} days (until {})",
            released_at.format("%Y-%m-%d %H:%M"),
            deadlines::APPLY_DAYS,
            deadlines::apply_deadline(released_at).format("%Y-%m-%d %H:%M")
        )));
    }
    super::parties_eligible(tx.conn, &decl, tx.now)?;
    let id = next_id(tx)?;
    let row = ReturnRow {
        id: id.clone(),
        guid: guid
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(crate::customs::new_guid),
        invt_no: invt_no.clone(),
        logistics_no: waybill,
        reason,
        state: State::Declared.as_str().into(),
        held_from: None,
        late: false,
        discrepancy: false,
        warehouse_code: None,
        camera_code: None,
        bin_code: None,
        applied_at,
        received_at: None,
        closed_at: None,
        customs_status: None,
        customs_info: None,
        customs_at: None,
        created_by: actor.username.clone(),
    };
    let lines: Vec<ReturnLineRow> = input
        .lines
        .iter()
        .map(|l| ReturnLineRow {
            return_id: id.clone(),
            gnum: l.gnum as i32,
            qty: l.qty,
            sorted: 0,
            inspected: false,
            intact: 0,
            damaged_packaging: 0,
            used: 0,
            defective: 0,
            not_original: 0,
            restocked: 0,
            disposed_exit: 0,
            disposed_reexport: 0,
            disposed_destroy: 0,
            pending_disposal: 0,
        })
        .collect();
    store::insert(tx.conn, &row, &lines)?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.apply",
            entity_kind: "return",
            entity_id: &id,
            warehouse: None,
            enterprise: Some(&decl.ebc_code),
            changes: Changes::new()
                .created("state", "declared")
                .created("invt_no", &invt_no)
                .created("logistics_no", &row.logistics_no)
                .created(
                    "lines",
                    lines
                        .iter()
                        .map(|l| format!("{}×{}", l.gnum, l.qty))
                        .collect::<Vec<_>>(),
                ),
            reason: Some(&row.reason),
        },
    )?;
    Ok(row)
}

/// How far a CEB625 appTime may lie ahead of this server's clock.
const APP_TIME_SKEW_MINUTES: i64 = 10;

/// An application from a CEB625 message. A known guid is the same application again.
pub fn apply_ceb625(
    tx: &mut Tx<'_>,
    actor: &Actor,
    app: &InvtRefund,
) -> Result<(ReturnRow, Outcome), AppError> {
    use crate::db::schema::returns;
    let guid = app.guid.trim().to_ascii_uppercase();
    // The application id is C36 in the XSD: customs refuses anything else, and a return whose
    // id cannot be written back could never be sent to customs.
    if guid.chars().count() != 36 {
        return Err(AppError::validation(
            "InvtRefundHead/guid",
            "the application guid must be 36 characters (an upper-case UUID)",
        ));
    }
    let existing: Option<String> = returns::table
        .filter(returns::guid.eq(&guid))
        .select(returns::id)
        .first(tx.conn)
        .optional()?;
    match (app.app_type.trim(), existing) {
        // The same new application again.
        ("1", Some(id)) => {
            let r =
                store::get(tx.conn, &id)?.ok_or_else(|| AppError::Internal("vanished".into()))?;
            return Ok((r, Outcome::Unchanged));
        }
        ("1", None) => {}
        ("3", Some(id)) => return cancel(tx, actor, &id, &app.reason),
        ("3", None) => {
            return Err(AppError::NotFound(format!(
                "there is no application {guid} to delete"
            )))
        }
        ("2", _) => {
            return Err(AppError::validation(
                "InvtRefundHead/appType",
                "changing an application (appType 2) is not supported: delete it (appType 3) and apply again (appType 1)",
            ))
        }
        (other, _) => {
            return Err(AppError::validation(
                "InvtRefundHead/appType",
                format!("appType {other} is not 1 (new), 2 (change) or 3 (delete)"),
            ))
        }
    }
    // The head must name the very order and parties of the released list it returns.
    if let Some(decl) = store::declaration(tx.conn, &app.invt_no)? {
        let mut errors = Vec::new();
        for (field, given, listed) in [
            ("orderNo", &app.order_no, &decl.order_no),
            ("ebpCode", &app.ebp_code, &decl.ebp_code),
            ("ebcCode", &app.ebc_code, &decl.ebc_code),
            ("agentCode", &app.agent_code, &decl.agent_code),
        ] {
            if given != listed {
                errors.push(FieldError::new(
                    format!("InvtRefundHead/{field}"),
                    format!("list {} has {listed}, not {given}", app.invt_no),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // An application is made after the release and not in the future (a few minutes of
        // clock difference between systems are allowed).
        let app_time = app.app_time.naive_utc();
        if app_time > tx.now + chrono::Duration::minutes(APP_TIME_SKEW_MINUTES) {
            return Err(AppError::validation(
                "InvtRefundHead/appTime",
                "the application time lies in the future",
            ));
        }
        if let Some(released_at) = decl.released_at {
            if app_time < released_at {
                return Err(AppError::validation(
                    "InvtRefundHead/appTime",
                    format!(
                        "the application time is before list {} was released ({})",
                        app.invt_no,
                        released_at.format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
        }
    }
    // Each line must be the very goods of the list's line it names (gnum and HS code).
    let decl_lines = store::declaration_lines(tx.conn, &app.invt_no)?;
    for (i, l) in app.lines.iter().enumerate() {
        if let Some(d) = decl_lines.iter().find(|d| d.gnum as u32 == l.gnum) {
            if d.gcode != l.gcode {
                return Err(AppError::validation(
                    format!("InvtRefundList[{}]/gcode", i + 1),
                    format!(
                        "line {} of list {} has HS code {}, not {}",
                        l.gnum, app.invt_no, d.gcode, l.gcode
                    ),
                ));
            }
        }
    }
    let mut lines = Vec::new();
    for l in &app.lines {
        let qty = l.qty.whole_units().ok_or_else(|| {
            AppError::validation(
                format!("InvtRefundList[{}]/qty", l.gnum),
                "only whole units are supported (policy)",
            )
        })?;
        lines.push(LineQty { gnum: l.gnum, qty });
    }
    let input = ApplyInput {
        invt_no: app.invt_no.clone(),
        logistics_no: app.logistics_no.clone(),
        reason: app.reason.clone(),
        lines,
    };
    let r = apply(
        tx,
        actor,
        &input,
        Some(app.app_time.naive_utc()),
        Some(&guid),
    )?;
    Ok((r, Outcome::Created))
}

/// A deleted application (CEB625 appType 3): a return that has not reached the warehouse is
/// cancelled, and its quantities are free for another application. Deleting it again changes
/// nothing; a parcel already received cannot be cancelled.
fn cancel(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<(ReturnRow, Outcome), AppError> {
    use crate::domain::returns::Action;
    let mut r = store::get(tx.conn, id)?
        .ok_or_else(|| AppError::NotFound(format!("return {id} does not exist")))?;
    let state = super::state_of(&r)?;
    if state == State::Cancelled {
        return Ok((r, Outcome::Unchanged));
    }
    let Some(next) = state.next(Action::Cancel) else {
        return Err(AppError::InvalidState(format!(
            "return {id} is {} and can no longer be cancelled: only an application whose parcel has not arrived can be deleted",
            r.state
        )));
    };
    let before = r.state.clone();
    r.state = next.as_str().into();
    r.closed_at = Some(tx.now);
    store::update_from(tx.conn, &r, &before)?;
    let ebc = store::declaration(tx.conn, &r.invt_no)?.map(|d| d.ebc_code);
    tx.audit(
        actor,
        NewEntry {
            action: "return.cancel",
            entity_kind: "return",
            entity_id: id,
            warehouse: None,
            enterprise: ebc.as_deref(),
            changes: Changes::new().set("state", &before, next.as_str()),
            reason: Some(&format!("application deleted (CEB625 appType 3): {reason}")),
        },
    )?;
    Ok((r, Outcome::Updated))
}

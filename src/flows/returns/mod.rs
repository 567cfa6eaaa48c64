//! The return flow (one return = one parcel): apply, receive, sort, inspect, restock,
//! dispose, hold and release; plus what floor staff and supervisors read about it.

pub mod apply;
pub mod customs;
pub mod hold;
pub mod inspect;
pub mod receive;
pub mod scan;
pub mod settle;
pub mod sort;
pub mod stats;
pub mod view;

use crate::audit::Actor;
use crate::db::returns::{self as store, DeclarationRow, ReturnRow};
use crate::db::writer::Tx;
use crate::db::DbConn;
use crate::domain::returns::{Action, State};
use crate::error::AppError;
use crate::flows::eligibility;

/// How a step ended: done, or refused after the return was put on customs hold
/// (the hold is committed, the caller is told why).
#[derive(Debug)]
pub enum Step<T> {
    Done(T),
    Held(AppError),
}

/// The return and its declaration list, loaded for a step.
pub struct Loaded {
    pub ret: ReturnRow,
    pub decl: DeclarationRow,
}

/// Loads a return the actor may act on: floor staff only in their own warehouse (others'
/// returns are "not found", their existence is not theirs to know).
pub fn load_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Loaded, AppError> {
    let not_found = || AppError::NotFound(format!("return {id} does not exist"));
    let ret = store::get(conn, id)?.ok_or_else(not_found)?;
    let decl = store::declaration(conn, &ret.invt_no)?.ok_or_else(not_found)?;
    if !visible_to(conn, actor, &ret, &decl)? {
        return Err(not_found());
    }
    Ok(Loaded { ret, decl })
}

/// Floor staff see returns in their warehouse, and declared ones addressed to its operator.
pub fn visible_to(
    conn: &mut DbConn,
    actor: &Actor,
    ret: &ReturnRow,
    decl: &DeclarationRow,
) -> Result<bool, AppError> {
    if actor.role != "floor" {
        return Ok(true);
    }
    let Some(mine) = actor.warehouse.as_deref() else {
        return Ok(false);
    };
    if let Some(w) = &ret.warehouse_code {
        return Ok(w == mine);
    }
    let wh = crate::db::parties::warehouse(conn, mine)?;
    Ok(wh.is_some_and(|w| w.operator_code == decl.area_code))
}

/// The checks every step in the warehouse makes, in order: the return is visible, the
/// warehouse may operate, no party is excluded now (else the return goes on hold), and the
/// state allows `action`.
pub fn begin_step(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    action: Action,
) -> Result<Step<Loaded>, AppError> {
    let l = load_visible(tx.conn, actor, id)?;
    if let Some(w) = l.ret.warehouse_code.clone() {
        eligibility::ensure_warehouse_operable(tx.conn, &w, tx.now)?;
    }
    let state = state_of(&l.ret)?;
    if state == State::Held {
        return Err(AppError::InvalidState(format!(
            "return {id} is on customs hold; a supervisor must release it first"
        )));
    }
    if let Err(e) = parties_eligible(tx.conn, &l.decl, tx.now) {
        if matches!(state, State::Received | State::Sorted | State::Inspected) {
            let reason = e.to_string();
            hold::hold_return(tx, &Actor::system("eligibility"), id, &reason)?;
            return Ok(Step::Held(AppError::EnterpriseExcluded(format!(
                "{reason}. The return has been put on customs hold: place it in the hold area and notify a supervisor"
            ))));
        }
        return Err(e);
    }
    if state.next(action).is_none() {
        return Err(AppError::InvalidState(format!(
            "return {id} is {}; this step is not possible now (next: {})",
            state.as_str(),
            state.next_actions(l.ret.late).join(", ")
        )));
    }
    Ok(Step::Done(l))
}

/// The e-commerce enterprise and the declaring agent of a return may not be excluded.
pub fn parties_eligible(
    conn: &mut DbConn,
    d: &DeclarationRow,
    at: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    eligibility::ensure_not_excluded(conn, "e-commerce enterprise", &d.ebc_code, &d.ebc_name, at)?;
    eligibility::ensure_not_excluded(conn, "declaring agent", &d.agent_code, &d.agent_name, at)
}

pub fn state_of(r: &ReturnRow) -> Result<State, AppError> {
    State::parse(&r.state).ok_or_else(|| AppError::Internal(format!("unknown state {}", r.state)))
}

/// Closes an inspected return once every counted unit is restocked or disposed.
pub fn close_if_settled(tx: &mut Tx<'_>, ret: &mut ReturnRow) -> Result<bool, AppError> {
    let lines = store::lines(tx.conn, &ret.id)?;
    if ret.state == State::Inspected.as_str() && lines.iter().all(|l| l.in_warehouse() == 0) {
        ret.state = State::Closed.as_str().into();
        ret.closed_at = Some(tx.now);
        return Ok(true);
    }
    Ok(false)
}

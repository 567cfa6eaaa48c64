//! Customs hold and release (扣留 / 放行) by a supervisor, from any open state and back.

use diesel::prelude::*;

use super::decide;
use crate::audit::Actor;
use crate::db::returns::ReturnRow;
use crate::db::schema::{declarations, returns};
use crate::db::writer::Tx;
use crate::db::DbConn;
use crate::error::AppError;

/// Returns physically in a warehouse (received, sorted, inspected) that involve `party` as
/// e-commerce enterprise or declaring agent.
pub fn open_returns_of_party(conn: &mut DbConn, party: &str) -> Result<Vec<String>, AppError> {
    Ok(returns::table
        .inner_join(declarations::table)
        .filter(returns::state.eq_any(["received", "sorted", "inspected"]))
        .filter(
            declarations::ebc_code
                .eq(party)
                .or(declarations::agent_code.eq(party)),
        )
        .select(returns::id)
        .order(returns::id)
        .load(conn)?)
}

/// Puts a return on hold, remembering where it was: load, decide ([`decide::hold`]), write.
pub fn hold_return(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ReturnRow, AppError> {
    let facts = super::load(tx, id, None)?;
    let d = super::save(tx, actor, decide::hold(&facts, None, reason)?)?;
    Ok(d.ret)
}

/// Releases a held return back to the state it was held in: load, decide
/// ([`decide::release`]), write.
pub fn release_return(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ReturnRow, AppError> {
    let facts = super::load(tx, id, None)?;
    let d = super::save(tx, actor, decide::release(&facts, reason)?)?;
    Ok(d.ret)
}

/// A supervisor puts a return on hold: the return as they may see it (else not found), then
/// [`hold_return`]'s rule; one read and one write.
pub fn hold_visible(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ReturnRow, AppError> {
    let facts = super::load(tx, id, None)?;
    if !super::visible_in_writer(tx, actor, &facts)? {
        return Err(AppError::NotFound(format!("return {id} does not exist")));
    }
    let d = super::save(tx, actor, decide::hold(&facts, None, reason)?)?;
    Ok(d.ret)
}

/// A supervisor releases a held return: the return as they may see it (else not found), its
/// parties not excluded now (releasing does not lift an exclusion: the return stays held),
/// then [`release_return`]'s rule; the ratings from the writer's cache.
pub fn release_visible(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ReturnRow, AppError> {
    let facts = super::load(tx, id, None)?;
    if !super::visible_in_writer(tx, actor, &facts)? {
        return Err(AppError::NotFound(format!("return {id} does not exist")));
    }
    super::parties_eligible_now(tx, &facts.decl)?;
    let d = super::save(tx, actor, decide::release(&facts, reason)?)?;
    Ok(d.ret)
}

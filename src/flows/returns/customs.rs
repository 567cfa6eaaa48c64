//! The return's customs messages: the CEB625 application we send, the CEB626 receipt we get.

use diesel::prelude::*;

use crate::audit::{Actor, Changes, NewEntry};
use crate::customs::{self, BaseTransfer, InvtRefund, InvtRefundLine, InvtRefundReturn, Qty};
use crate::db::returns::{self as store, ReturnRow};
use crate::db::schema::returns;
use crate::db::writer::Tx;
use crate::db::DbConn;
use crate::error::AppError;

/// Most applications one CEB625 message carries.
pub const PER_MESSAGE: usize = customs::MAX_ITEMS;

/// The CEB625 `InvtRefund` of a return, built from the return and its released list.
pub fn invt_refund(conn: &mut DbConn, r: &ReturnRow) -> Result<InvtRefund, AppError> {
    let d = store::declaration(conn, &r.invt_no)?
        .ok_or_else(|| AppError::Internal("list missing".into()))?;
    let decl_lines = store::declaration_lines(conn, &r.invt_no)?;
    let lines = store::lines(conn, &r.id)?
        .into_iter()
        .filter_map(|l| {
            let dl = decl_lines.iter().find(|x| x.gnum == l.gnum)?;
            Some(InvtRefundLine {
                gnum: l.gnum as u32,
                gcode: dl.gcode.clone(),
                gname: dl.gname.clone(),
                qty: Qty::from_units(l.qty),
                unit: dl.unit.clone(),
                note: None,
            })
        })
        .collect();
    Ok(InvtRefund {
        guid: r.guid.clone(),
        app_type: "1".into(),
        app_time: r.applied_at.and_utc(),
        app_status: "2".into(),
        customs_code: d.customs_code,
        order_no: d.order_no,
        ebp_code: d.ebp_code,
        ebp_name: d.ebp_name,
        ebc_code: d.ebc_code,
        ebc_name: d.ebc_name,
        logistics_no: r.logistics_no.clone(),
        logistics_code: d.logistics_code,
        logistics_name: d.logistics_name,
        cop_no: None,
        pre_no: None,
        invt_no: r.invt_no.clone(),
        buyer_id_type: d.buyer_id_type,
        buyer_id_number: d.buyer_id_number,
        buyer_name: d.buyer_name,
        buyer_telephone: d.buyer_telephone,
        agent_code: d.agent_code,
        agent_name: d.agent_name,
        reason: r.reason.clone(),
        note: None,
        lines,
    })
}

fn customs_err(e: customs::CustomsError) -> AppError {
    AppError::Conflict(format!("the CEB625 message cannot be written: {e}"))
}

/// One CEB625 message per ≤100 returns.
pub fn ceb625_messages(
    conn: &mut DbConn,
    rows: &[ReturnRow],
    base: &BaseTransfer,
) -> Result<Vec<String>, AppError> {
    let apps = rows
        .iter()
        .map(|r| invt_refund(conn, r))
        .collect::<Result<Vec<_>, _>>()?;
    customs::write_ceb625_batches(&apps, base).map_err(customs_err)
}

/// The CEB625 message of one return under the message guid `message_guid` (the outbox keeps
/// the guid, so that the file it writes has one name and one content).
pub fn ceb625_message(
    conn: &mut DbConn,
    r: &ReturnRow,
    base: &BaseTransfer,
    message_guid: &str,
) -> Result<String, AppError> {
    let app = invt_refund(conn, r)?;
    customs::write_ceb625(std::slice::from_ref(&app), base, message_guid).map_err(customs_err)
}

/// Records customs' CEB626 receipt on the return it answers (by application guid, else by list).
pub fn record_receipt(
    tx: &mut Tx<'_>,
    actor: &Actor,
    rr: &InvtRefundReturn,
) -> Result<(String, bool), AppError> {
    let by_guid: Option<String> = returns::table
        .filter(returns::guid.eq(rr.guid.to_ascii_uppercase()))
        .select(returns::id)
        .first(tx.conn)
        .optional()?;
    let id = match by_guid {
        Some(id) => id,
        // A receipt whose guid we never sent can only be matched when its list has exactly
        // one open return; otherwise attaching it would be a guess.
        None => {
            let ids: Vec<String> = returns::table
                .filter(returns::invt_no.eq(&rr.invt_no))
                .filter(returns::state.ne("cancelled"))
                .select(returns::id)
                .limit(2)
                .load(tx.conn)?;
            match ids.as_slice() {
                [] => {
                    return Err(AppError::NotFound(format!(
                        "no return application for list {}",
                        rr.invt_no
                    )))
                }
                [id] => id.clone(),
                _ => {
                    return Err(AppError::validation(
                        "guid",
                        format!(
                            "no application has guid {}, and list {} has several returns",
                            rr.guid, rr.invt_no
                        ),
                    ))
                }
            }
        }
    };
    let mut r = store::get(tx.conn, &id)?.ok_or_else(|| AppError::Internal("vanished".into()))?;
    let at = rr.return_time.naive_utc();
    // The same receipt again, or one older than the receipt already recorded (receipts can
    // arrive out of order): nothing changes.
    if r.customs_at.is_some_and(|recorded| recorded > at)
        || (r.customs_status == Some(rr.return_status) && r.customs_at == Some(at))
    {
        return Ok((id, false));
    }
    let before = r.customs_status;
    r.customs_status = Some(rr.return_status);
    r.customs_info = Some(rr.return_info.clone());
    r.customs_at = Some(at);
    let state = r.state.clone();
    store::update_from(tx.conn, &r, &state)?;
    tx.audit(
        actor,
        NewEntry {
            action: "return.customs_receipt",
            entity_kind: "return",
            entity_id: &id,
            warehouse: r.warehouse_code.as_deref(),
            enterprise: Some(&rr.ebc_code),
            changes: Changes::new()
                .set("customs_status", before, rr.return_status)
                .created("customs_info", &rr.return_info),
            reason: None,
        },
    )?;
    Ok((id, true))
}

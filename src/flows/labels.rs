//! What goes on a label, read from the database: the one source for the label endpoints
//! (`GET /api/v1/labels/…`) and for the printing worker, so that a label sent to a printer is
//! byte for byte the one the endpoint serves.

use crate::audit::Actor;
use crate::db::{parties, returns as store, DbConn};
use crate::domain::deadlines;
use crate::error::AppError;
use crate::flows::returns::load_visible;
use crate::labels::{BinLabel, ItemLabel, ReturnLabel};

/// The return label of return `id`, as `actor` may see it.
pub fn return_label(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<ReturnLabel, AppError> {
    let l = load_visible(conn, actor, id)?;
    let released = l
        .decl
        .released_at
        .ok_or_else(|| AppError::InvalidState("the list has no release time".into()))?;
    Ok(ReturnLabel {
        return_id: l.ret.id.clone(),
        ebc_code: l.decl.ebc_code.clone(),
        ebc_name: l.decl.ebc_name.clone(),
        warehouse: l.ret.warehouse_code.clone().unwrap_or_else(|| "-".into()),
        arrived_on: l.ret.received_at.map(|t| t.date()),
        arrival_deadline: deadlines::arrival_deadline(released).date(),
        late: l.ret.late,
        held: l.ret.state == "held",
    })
}

/// The labels of `warehouse`'s bins (of one `area`, or all), by code. The caller checks that
/// the warehouse is the reader's to see.
pub fn bin_labels(
    conn: &mut DbConn,
    warehouse: &str,
    area: Option<&str>,
) -> Result<Vec<BinLabel>, AppError> {
    parties::warehouse(conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    Ok(parties::list_bins(conn, warehouse, area)?
        .into_iter()
        .map(|b| BinLabel {
            warehouse: b.warehouse_code,
            area: b.area,
            bin: b.code,
        })
        .collect())
}

/// The label of bin `bin` of `warehouse`.
pub fn bin_label(conn: &mut DbConn, warehouse: &str, bin: &str) -> Result<BinLabel, AppError> {
    bin_labels(conn, warehouse, None)?
        .into_iter()
        .find(|b| b.bin == bin)
        .ok_or_else(|| AppError::NotFound(format!("bin {bin} does not exist")))
}

/// The item label of line `gnum` of return `id`, as `actor` may see it.
pub fn item_label(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    gnum: i32,
) -> Result<ItemLabel, AppError> {
    let l = load_visible(conn, actor, id)?;
    let returned = store::lines(conn, id)?.iter().any(|x| x.gnum == gnum);
    let line = store::declaration_lines(conn, &l.decl.invt_no)?
        .into_iter()
        .find(|d| d.gnum == gnum && returned)
        .ok_or_else(|| AppError::NotFound(format!("line {gnum} is not in return {id}")))?;
    Ok(ItemLabel {
        owner: l.decl.ebc_code,
        gcode: line.gcode,
        return_id: id.to_string(),
        gnum: gnum as u32,
        name: line.gname,
    })
}

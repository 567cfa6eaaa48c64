//! What people read about a return: the whole story for one, a page of summaries for many.
//! Buyer identity numbers and telephones are masked for floor staff.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Done, Loaded};
use crate::audit::Actor;
use crate::db::returns::{
    self as store, DeclarationLineRow, DeclarationRow, ReturnLineRow, ReturnRow,
};
use crate::db::schema::{audit_entries, declarations, returns};
use crate::db::writer::Tx;
use crate::db::{on_inner, DbConn};
use crate::domain::deadlines;
use crate::domain::grading::Grades;
use crate::domain::returns::Unsettled;
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Party {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Buyer {
    pub name: String,
    pub id_number: String,
    pub telephone: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Disposed {
    pub exit: i64,
    pub reexport: i64,
    pub destroy: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub gnum: i32,
    pub gcode: String,
    pub gname: String,
    pub unit: String,
    pub bar_code: Option<String>,
    /// Units applied for.
    pub qty: i64,
    /// Units counted at sorting.
    pub sorted: i64,
    pub grades: Option<Grades>,
    pub restocked: i64,
    pub disposed: Disposed,
    pub pending_disposal: i64,
    pub in_warehouse: i64,
    /// Intact units that may still go back to bonded stock.
    pub restockable: i64,
    /// Units not yet restocked, disposed or awaiting approval.
    pub unsettled: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiscrepancyView {
    pub code: String,
    pub qty: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisposalView {
    pub id: i64,
    pub return_id: String,
    pub gnum: i32,
    pub qty: i64,
    pub route: String,
    pub reference: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub approved_by: Option<String>,
}

/// A disposal as a supervisor decides on it: with the item, how it was graded, and where it is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisposalItem {
    #[serde(flatten)]
    pub disposal: DisposalView,
    /// The warehouse the return is in.
    pub warehouse: Option<String>,
    /// The return's line: the list's item (name, HS code, barcode), its grades and units.
    pub line: Option<LineView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomsStatus {
    pub status: i32,
    pub info: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryItem {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub reason: Option<String>,
    /// The footage of the step (floor steps name their camera).
    pub footage: Option<crate::audit::footage::Footage>,
}

/// Where some of a return's counted units are now (货物去向).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Whereabouts {
    /// `restocked` (on the shelf: `bin` names the restock bin), `sorting` (not yet settled,
    /// in the bin it was sorted into), `awaiting_approval` (at the exit area, waiting for a
    /// supervisor's approval of its re-export or destruction), `exited`, `reexported` or
    /// `destroyed` (gone from the warehouse).
    #[schema(value_type = String, example = "restocked")]
    pub place: &'static str,
    pub bin: Option<String>,
    pub qty: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub id: String,
    pub guid: String,
    pub state: String,
    pub held: bool,
    pub held_from: Option<String>,
    pub late: bool,
    pub discrepancy: bool,
    pub invt_no: String,
    pub order_no: String,
    pub logistics_no: String,
    pub reason: String,
    pub ebc: Party,
    pub ebp: Party,
    pub agent: Party,
    pub logistics: Party,
    pub buyer: Buyer,
    pub warehouse: Option<String>,
    pub camera: Option<String>,
    pub bin: Option<String>,
    pub applied_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub apply_deadline: Option<DateTime<Utc>>,
    pub arrival_deadline: Option<DateTime<Utc>>,
    /// Whole days left until the arrival limit (negative once passed).
    pub days_left: Option<i64>,
    pub lines: Vec<LineView>,
    pub discrepancies: Vec<DiscrepancyView>,
    pub disposals: Vec<DisposalView>,
    pub customs_status: Option<CustomsStatus>,
    pub history: Vec<HistoryItem>,
    pub next_actions: Vec<&'static str>,
    /// Where its counted units are now: on which shelves, still in the sorting bin, waiting
    /// for approval or gone (empty until it is sorted).
    pub whereabouts: Vec<Whereabouts>,
    /// The return label queued for the handheld's printer by this step (a receive that named a
    /// `printer`); only in that step's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub print_job: Option<crate::flows::printing::PrintJobView>,
}

/// Masks an identifier (identity number, passport, telephone): at least half of it and all but
/// at most 4 of its characters are hidden, the first and the last ones shown, e.g.
/// `3**************234`, `1*******000`, `E*****678`, `9****567`.
pub fn mask_id(s: &str) -> String {
    let n = s.chars().count();
    let shown = (n / 2).min(4);
    let head = shown / 4;
    mask_keep(s, head, shown - head)
}

/// `张*`: the first `head` and last `tail` characters kept, the rest starred.
pub fn mask_keep(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

pub fn buyer(d: &DeclarationRow, actor: &Actor) -> Buyer {
    if actor.role == "floor" {
        Buyer {
            name: mask_keep(&d.buyer_name, 1, 0),
            id_number: mask_id(&d.buyer_id_number),
            telephone: mask_id(&d.buyer_telephone),
        }
    } else {
        Buyer {
            name: d.buyer_name.clone(),
            id_number: d.buyer_id_number.clone(),
            telephone: d.buyer_telephone.clone(),
        }
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// What a return's floor worker can do next. `lines` are the return's lines (only an inspected
/// return's are read: they tell whether any unit is left to restock or dispose of).
pub fn next_actions(r: &ReturnRow, lines: &[ReturnLineRow]) -> Vec<&'static str> {
    super::state_of(r)
        .map(|s| s.next_actions(r.late, unsettled(r, lines)))
        .unwrap_or_default()
}

/// The units of return `r` still to be restocked or disposed of, over `lines` (its lines).
pub fn unsettled(r: &ReturnRow, lines: &[ReturnLineRow]) -> Unsettled {
    lines
        .iter()
        .filter(|l| l.return_id == r.id && l.inspected)
        .fold(Unsettled::default(), |acc, l| {
            let left = l.unsettled().max(0);
            let g = Grades {
                intact: l.intact,
                damaged_packaging: l.damaged_packaging,
                used: l.used,
                defective: l.defective,
                not_original: l.not_original,
            };
            Unsettled {
                restockable: acc.restockable
                    + crate::domain::grading::restockable(&g, l.restocked, r.late).min(left),
                disposable: acc.disposable + left,
            }
        })
}

pub fn build(conn: &mut DbConn, actor: &Actor, l: Loaded) -> Result<ReturnView, AppError> {
    let Loaded { ret, decl } = l;
    build_from(
        conn,
        actor,
        Done {
            ret,
            decl,
            lines: None,
            decl_lines: None,
            disposals: None,
            restocks: None,
            discrepancies: None,
        },
        true,
    )
}

/// The answer to a step, from what the step read and saved: only the rows it did not read
/// or know (discrepancies, disposals, and lines it left alone) are read again. It carries no
/// history (`history` is empty): the step's answer is built, stored with its Idempotency-Key
/// and sent from inside the one write transaction, where reading back and re-serialising the
/// return's audit trail cost about a tenth of the writer's time; `GET /returns/{id}` has it.
pub fn of_step(tx: &mut Tx<'_>, actor: &Actor, done: Done) -> Result<ReturnView, AppError> {
    // What it reads of what the batch's steps may have written is sent first.
    if done.reads_step_rows()
        || (done.reads_discrepancies() && tx.batch.writes_discrepancies_of(&done.ret.id))
    {
        tx.flush()?;
    }
    build_from(tx.conn, actor, done, false)
}

fn build_from(
    conn: &mut DbConn,
    actor: &Actor,
    done: Done,
    with_history: bool,
) -> Result<ReturnView, AppError> {
    let Done {
        ret: r,
        decl: d,
        lines,
        decl_lines,
        disposals,
        restocks,
        discrepancies,
    } = done;
    let now = Utc::now().naive_utc();
    let (lines, decl_lines) = match (lines, decl_lines) {
        (Some(l), Some(d)) => (l, d),
        (Some(l), None) => (l, store::declaration_lines(conn, &d.invt_no)?),
        (None, _) => store::lines_with_declaration(conn, &r.id, &d.invt_no)?,
    };
    let next = next_actions(&r, &lines);
    let whereabouts = whereabouts(conn, &r, &lines, restocks)?;
    let lines = line_views(&r, lines, &decl_lines);
    // Sorting records the discrepancies and sets the flag in the same step (and a return is
    // sorted once), so without the flag there is none to read.
    let discrepancies = match discrepancies {
        Some(known) => known,
        None if r.discrepancy => store::discrepancies(conn, &r.id)?
            .into_iter()
            .map(|d| (d.code, d.qty))
            .collect(),
        None => Vec::new(),
    }
    .into_iter()
    .map(|(code, qty)| DiscrepancyView { code, qty })
    .collect();
    let disposals = match disposals {
        Some(d) => d,
        None => store::disposals_of(conn, &r.id)?,
    }
    .into_iter()
    .map(disposal_view)
    .collect();
    type HistoryRow = (i64, NaiveDateTime, String, String, String, Option<String>);
    let history: Vec<HistoryRow> = if !with_history {
        Vec::new()
    } else {
        on_inner!(conn, |c| audit_entries::table
            .filter(audit_entries::entity_kind.eq("return"))
            .filter(audit_entries::entity_id.eq(&r.id))
            .order(audit_entries::seq.asc())
            .limit(200)
            .select((
                audit_entries::seq,
                audit_entries::at,
                audit_entries::actor,
                audit_entries::action,
                audit_entries::changes,
                audit_entries::reason,
            ))
            .load(c))?
    };
    let templates = match (&r.warehouse_code, history.is_empty()) {
        (Some(w), false) => crate::audit::footage::templates(conn, [w.clone()])?,
        _ => Default::default(),
    };
    let history = history
        .into_iter()
        .map(|(seq, at, actor, action, changes, reason)| {
            let changes: serde_json::Value = serde_json::from_str(&changes).unwrap_or_default();
            HistoryItem {
                footage: crate::audit::footage::of_step(
                    &changes,
                    r.warehouse_code.as_deref(),
                    utc(at),
                    &templates,
                ),
                seq,
                at: utc(at),
                actor,
                action,
                changes,
                reason,
            }
        })
        .collect();
    let arrival = d.released_at.map(deadlines::arrival_deadline);
    Ok(ReturnView {
        next_actions: next,
        id: r.id,
        guid: r.guid,
        held: r.state == "held",
        state: r.state,
        held_from: r.held_from,
        late: r.late,
        discrepancy: r.discrepancy,
        invt_no: d.invt_no.clone(),
        order_no: d.order_no.clone(),
        logistics_no: r.logistics_no,
        reason: r.reason,
        buyer: buyer(&d, actor),
        ebc: Party {
            code: d.ebc_code,
            name: d.ebc_name,
        },
        ebp: Party {
            code: d.ebp_code,
            name: d.ebp_name,
        },
        agent: Party {
            code: d.agent_code,
            name: d.agent_name,
        },
        logistics: Party {
            code: d.logistics_code,
            name: d.logistics_name,
        },
        warehouse: r.warehouse_code,
        camera: r.camera_code,
        bin: r.bin_code,
        applied_at: utc(r.applied_at),
        released_at: d.released_at.map(utc),
        received_at: r.received_at.map(utc),
        closed_at: r.closed_at.map(utc),
        apply_deadline: d.released_at.map(deadlines::apply_deadline).map(utc),
        arrival_deadline: arrival.map(utc),
        days_left: arrival.map(|a| deadlines::days_left(a, now)),
        lines,
        discrepancies,
        disposals,
        customs_status: r.customs_status.map(|s| CustomsStatus {
            status: s,
            info: r.customs_info,
            at: r.customs_at.map(utc),
        }),
        history,
        whereabouts,
        print_job: None,
    })
}

/// Where the counted units of return `r` (with its `lines`) are now. The shelves come from its
/// restock entries in the audit log (each names its bin and quantity), read only when
/// something was restocked.
fn whereabouts(
    conn: &mut DbConn,
    r: &ReturnRow,
    lines: &[ReturnLineRow],
    restocks: Option<Vec<String>>,
) -> Result<Vec<Whereabouts>, AppError> {
    let sum = |f: fn(&ReturnLineRow) -> i64| lines.iter().map(f).sum::<i64>();
    let restocked = sum(|l| l.restocked);
    let mut out = Vec::new();
    if restocked > 0 {
        let entries: Vec<String> = match restocks {
            Some(known) => known,
            None => store::restocks_of(conn, &[&r.id])?
                .into_iter()
                .map(|(_, changes)| changes)
                .collect(),
        };
        let mut bins: std::collections::BTreeMap<String, i64> = Default::default();
        for changes in entries {
            let v: serde_json::Value = serde_json::from_str(&changes).unwrap_or_default();
            let after = |k: &str| v.get(k).map(|f| f["after"].clone());
            if let (Some(serde_json::Value::String(bin)), Some(qty)) =
                (after("bin"), after("quantity").and_then(|q| q.as_i64()))
            {
                *bins.entry(bin).or_default() += qty;
            }
        }
        let named: i64 = bins.values().sum();
        out.extend(bins.into_iter().map(|(bin, qty)| Whereabouts {
            place: "restocked",
            bin: Some(bin),
            qty,
        }));
        // Restocks recorded before entries named their bin: on a shelf, which one unknown.
        if named < restocked {
            out.push(Whereabouts {
                place: "restocked",
                bin: None,
                qty: restocked - named,
            });
        }
    }
    // Units counted at sorting and not yet settled are where the parcel was sorted into.
    let waiting = if sum(|l| l.sorted) > 0 {
        sum(|l| l.unsettled())
    } else {
        0
    };
    for (place, qty, bin) in [
        ("sorting", waiting, r.bin_code.clone()),
        ("awaiting_approval", sum(|l| l.pending_disposal), None),
        ("exited", sum(|l| l.disposed_exit), None),
        ("reexported", sum(|l| l.disposed_reexport), None),
        ("destroyed", sum(|l| l.disposed_destroy), None),
    ] {
        if qty > 0 {
            out.push(Whereabouts { place, bin, qty });
        }
    }
    Ok(out)
}

/// The lines of return `r`, each with its list line.
pub(crate) fn line_views(
    r: &ReturnRow,
    lines: Vec<ReturnLineRow>,
    decl_lines: &[DeclarationLineRow],
) -> Vec<LineView> {
    lines
        .into_iter()
        .map(|l| {
            let dl = decl_lines.iter().find(|x| x.gnum == l.gnum);
            line_view(r, l, dl)
        })
        .collect()
}

/// One line of a return as people read it: the list's item, what was counted and graded, and
/// where its units went.
fn line_view(r: &ReturnRow, l: ReturnLineRow, dl: Option<&DeclarationLineRow>) -> LineView {
    let grades = l.inspected.then_some(Grades {
        intact: l.intact,
        damaged_packaging: l.damaged_packaging,
        used: l.used,
        defective: l.defective,
        not_original: l.not_original,
    });
    let restockable = grades
        .map(|g| crate::domain::grading::restockable(&g, l.restocked, r.late).min(l.unsettled()))
        .unwrap_or(0);
    let counted = r.state != "declared"
        && r.state != "received"
        && !(r.state == "held" && matches!(r.held_from.as_deref(), Some("declared" | "received")));
    LineView {
        gnum: l.gnum,
        gcode: dl.map(|x| x.gcode.clone()).unwrap_or_default(),
        gname: dl.map(|x| x.gname.clone()).unwrap_or_default(),
        unit: dl.map(|x| x.unit.clone()).unwrap_or_default(),
        bar_code: dl.and_then(|x| x.bar_code.clone()),
        qty: l.qty,
        sorted: l.sorted,
        grades,
        restocked: l.restocked,
        disposed: Disposed {
            exit: l.disposed_exit,
            reexport: l.disposed_reexport,
            destroy: l.disposed_destroy,
        },
        pending_disposal: l.pending_disposal,
        in_warehouse: if r.received_at.is_none() {
            0
        } else if counted {
            l.in_warehouse()
        } else {
            l.qty
        },
        restockable,
        unsettled: if counted { l.unsettled() } else { 0 },
    }
}

/// The disposals with `status`, each with its item and the return's warehouse (each return's
/// lines read once).
pub fn disposals_for_decision(
    conn: &mut DbConn,
    status: &str,
) -> Result<Vec<DisposalItem>, AppError> {
    let rows = store::disposals_by_status(conn, status)?;
    let mut returns: std::collections::HashMap<String, (Option<String>, Vec<LineView>)> =
        std::collections::HashMap::new();
    for d in &rows {
        if returns.contains_key(&d.return_id) {
            continue;
        }
        let seen = match store::get_with_declaration(conn, &d.return_id)? {
            Some((r, decl)) => {
                let (lines, decl_lines) =
                    store::lines_with_declaration(conn, &r.id, &decl.invt_no)?;
                (r.warehouse_code.clone(), line_views(&r, lines, &decl_lines))
            }
            None => (None, Vec::new()),
        };
        returns.insert(d.return_id.clone(), seen);
    }
    Ok(rows
        .into_iter()
        .map(|d| {
            let (warehouse, lines) = &returns[&d.return_id];
            DisposalItem {
                warehouse: warehouse.clone(),
                line: lines.iter().find(|l| l.gnum == d.gnum).cloned(),
                disposal: disposal_view(d),
            }
        })
        .collect())
}

pub fn disposal_view(d: crate::db::returns::DisposalRow) -> DisposalView {
    DisposalView {
        id: d.id,
        return_id: d.return_id,
        gnum: d.gnum,
        qty: d.qty,
        route: d.route,
        reference: d.reference,
        status: d.status,
        requested_by: d.requested_by,
        requested_at: utc(d.requested_at),
        approved_by: d.decided_by,
    }
}

pub fn one(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<ReturnView, AppError> {
    let l = super::load_visible(conn, actor, id)?;
    build(conn, actor, l)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub id: String,
    pub state: String,
    pub held: bool,
    pub late: bool,
    pub discrepancy: bool,
    pub invt_no: String,
    pub logistics_no: String,
    pub ebc: Party,
    pub warehouse: Option<String>,
    pub applied_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub apply_deadline: Option<DateTime<Utc>>,
    pub arrival_deadline: Option<DateTime<Utc>>,
    pub days_left: Option<i64>,
    pub next_actions: Vec<&'static str>,
}

/// The summary of return `r`; `lines` hold its lines when it is inspected (others may be
/// missing or belong to other returns: only `r`'s count).
pub fn summary(
    r: &ReturnRow,
    d: &DeclarationRow,
    lines: &[ReturnLineRow],
    now: NaiveDateTime,
) -> Summary {
    let arrival = d.released_at.map(deadlines::arrival_deadline);
    Summary {
        id: r.id.clone(),
        state: r.state.clone(),
        held: r.state == "held",
        late: r.late,
        discrepancy: r.discrepancy,
        invt_no: r.invt_no.clone(),
        logistics_no: r.logistics_no.clone(),
        ebc: Party {
            code: d.ebc_code.clone(),
            name: d.ebc_name.clone(),
        },
        warehouse: r.warehouse_code.clone(),
        applied_at: utc(r.applied_at),
        received_at: r.received_at.map(utc),
        apply_deadline: d.released_at.map(deadlines::apply_deadline).map(utc),
        arrival_deadline: arrival.map(utc),
        days_left: arrival.map(|a| deadlines::days_left(a, now)),
        next_actions: next_actions(r, lines),
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(value_type = Option<crate::domain::returns::State>)]
    pub state: Option<String>,
    /// Returns received at, or on their way to, this warehouse.
    pub warehouse: Option<String>,
    /// E-commerce enterprise code.
    pub ebc: Option<String>,
    /// Return id, waybill or invtNo (exact).
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Returns per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A page of returns visible to `actor`, newest first.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    f: &ListQuery,
) -> Result<(Vec<Summary>, Option<String>), AppError> {
    let limit = match f.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(_) => return Err(AppError::validation("limit", "between 1 and 200")),
    };
    if let Some(s) = &f.state {
        if crate::domain::returns::State::parse(s).is_none() {
            return Err(AppError::validation(
                "state",
                "declared, received, sorted, inspected, closed, held or cancelled",
            ));
        }
    }
    let mut q = returns::table.inner_join(declarations::table).into_boxed();
    if let Some(s) = &f.state {
        q = q.filter(returns::state.eq(s.clone()));
    }
    // A warehouse's returns: those it received, and the declared ones still on their way to it
    // (addressed to its operator).
    let at_warehouse = |conn: &mut DbConn, w: &str| -> Result<_, AppError> {
        let operator = crate::db::parties::warehouse(conn, w)?
            .map(|w| w.operator_code)
            .unwrap_or_default();
        Ok(returns::warehouse_code
            .eq(w.to_string())
            .or(returns::warehouse_code
                .is_null()
                .and(declarations::area_code.eq(operator))))
    };
    if let Some(w) = &f.warehouse {
        q = q.filter(at_warehouse(conn, &w.to_ascii_uppercase())?);
    }
    if let Some(e) = &f.ebc {
        q = q.filter(declarations::ebc_code.eq(e.to_ascii_uppercase()));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let t = text.to_string();
        q = q.filter(
            returns::id
                .eq(t.to_ascii_uppercase())
                .or(returns::logistics_no.eq(t.clone()))
                .or(returns::invt_no.eq(t.to_ascii_uppercase())),
        );
    }
    if actor.role == "floor" {
        let mine = actor.warehouse.clone().unwrap_or_default();
        q = q.filter(at_warehouse(conn, &mine)?);
    }
    if let Some(c) = &f.cursor {
        q = q.filter(returns::id.lt(c.clone()));
    }
    let rows: Vec<(ReturnRow, DeclarationRow)> = q
        .order(returns::id.desc())
        .limit(limit + 1)
        .select((ReturnRow::as_select(), DeclarationRow::as_select()))
        .load(conn)?;
    let now = Utc::now().naive_utc();
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let lines = store::lines_of_inspected(conn, rows.iter().map(|(r, _)| r))?;
    let items: Vec<Summary> = rows
        .iter()
        .map(|(r, d)| summary(r, d, &lines, now))
        .collect();
    let next = if more {
        items.last().map(|s| s.id.clone())
    } else {
        None
    };
    Ok((items, next))
}

#[cfg(test)]
mod mask_tests {
    use super::mask_id;

    /// At least half of any identifier is hidden, and at most 4 of its characters are shown.
    #[test]
    fn a_mask_shows_at_most_four_characters_and_never_half() {
        for (id, masked) in [
            ("500103199001011234", "5**************234"),
            ("13800138000", "1*******000"),
            ("E12345678", "E*****678"),
            ("91234567", "9****567"),
            ("1234", "**34"),
            ("12", "*2"),
            ("1", "*"),
            ("", ""),
        ] {
            assert_eq!(mask_id(id), masked, "{id}");
        }
        for n in 0..40 {
            let id: String = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCD"
                .chars()
                .take(n)
                .collect();
            let m = mask_id(&id);
            let shown = m.chars().filter(|&c| c != '*').count();
            assert_eq!(m.chars().count(), n);
            assert!(shown <= 4 && shown * 2 <= n, "{id} → {m}");
        }
    }
}

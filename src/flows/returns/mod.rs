//! The return flow (one return = one parcel): apply, receive, sort, inspect, restock,
//! dispose, hold and release; plus what floor staff and supervisors read about it.

pub mod apply;
pub mod customs;
pub mod decide;
pub mod hold;
pub mod inspect;
pub mod receive;
pub mod scan;
pub mod settle;
pub mod sort;
pub mod stats;
pub mod view;

use crate::audit::{Actor, NewEntry};
use crate::db::parties::{BinRow, WarehouseRow};
use crate::db::returns::{
    self as store, DeclarationLineRow, DeclarationRow, DisposalRow, ReturnLineRow, ReturnRow,
};
use crate::db::writer::Tx;
use crate::db::{batch, DbConn};
use crate::domain::returns::{Action, State};
use crate::error::{AppError, Party};
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

/// What a step leaves behind, for its answer: the return as saved, its list, and the rows
/// the step already read (the answer reads only what is missing).
#[derive(Debug)]
pub struct Done {
    pub ret: ReturnRow,
    pub decl: DeclarationRow,
    /// The return's lines as saved, when the step read them.
    pub lines: Option<Vec<ReturnLineRow>>,
    /// The list's lines, when the step read them.
    pub decl_lines: Option<Vec<DeclarationLineRow>>,
    /// The return's disposals, when the step knows them.
    pub disposals: Option<Vec<DisposalRow>>,
    /// What the return's restocks recorded (their entries' `changes`), when the step knows.
    pub restocks: Option<Vec<String>>,
    /// The return's discrepancies (code, quantity) when the step knows them: the sort that
    /// found them (a return is sorted once).
    pub discrepancies: Option<Vec<(String, i64)>>,
}

impl Done {
    /// What a step before inspection leaves: a disposal needs an inspected return, and no
    /// step leads from there back to declared, received or sorted, so there is none yet.
    pub fn before_inspection(
        ret: ReturnRow,
        decl: DeclarationRow,
        lines: Option<Vec<ReturnLineRow>>,
        decl_lines: Option<Vec<DeclarationLineRow>>,
    ) -> Self {
        Self {
            ret,
            decl,
            lines,
            decl_lines,
            disposals: Some(Vec::new()),
            restocks: Some(Vec::new()),
            discrepancies: None,
        }
    }

    /// What a settling step (restock, disposal) of return `id` leaves: its disposals and
    /// restocks as its batch has them, when it read them (else the answer reads them).
    pub fn settled(tx: &Tx<'_>, d: decide::Decision, facts: decide::Facts) -> Self {
        let (disposals, restocks) = tx.batch.settling(&d.ret.id).unzip();
        Self {
            ret: d.ret,
            decl: facts.decl,
            lines: Some(d.lines),
            decl_lines: Some(facts.decl_lines),
            disposals,
            restocks,
            discrepancies: None,
        }
    }

    /// Whether the answer needs to read the rows of the return that a step writes (its lines
    /// and the entries of its restocks), because the step did not know them.
    pub fn reads_step_rows(&self) -> bool {
        let restocked = |lines: &[ReturnLineRow]| lines.iter().any(|l| l.restocked > 0);
        self.decl_lines.is_none()
            || self.disposals.is_none()
            || !self
                .lines
                .as_deref()
                .is_some_and(|l| self.restocks.is_some() || !restocked(l))
    }

    /// Whether the answer needs to read the return's discrepancies.
    pub fn reads_discrepancies(&self) -> bool {
        self.ret.discrepancy && self.discrepancies.is_none()
    }
}

/// The camera covering `area` of `warehouse`, where a floor step is done: refused with
/// `no_camera_coverage` when none does (customs must be able to see every step).
pub(crate) fn covering_camera(
    tx: &mut Tx<'_>,
    warehouse: &str,
    area: &str,
) -> Result<String, AppError> {
    tx.refs
        .camera_covering(tx.conn, warehouse, area)?
        .map(|c| c.code)
        .ok_or_else(|| AppError::NoCameraCoverage {
            warehouse: warehouse.to_string(),
            area: area.to_string(),
        })
}

/// Loads a return the actor may act on: floor staff only in their own warehouse (others'
/// returns are "not found", their existence is not theirs to know).
pub fn load_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Loaded, AppError> {
    let not_found = || AppError::NotFound(format!("return {id} does not exist"));
    let (ret, decl) = store::get_with_declaration(conn, id)?.ok_or_else(not_found)?;
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
    list_visible_to(conn, actor, decl)
}

/// Floor staff see the declaration lists addressed to their own warehouse's operator; others
/// see every list.
pub fn list_visible_to(
    conn: &mut DbConn,
    actor: &Actor,
    decl: &DeclarationRow,
) -> Result<bool, AppError> {
    if actor.role != "floor" {
        return Ok(true);
    }
    let Some(mine) = actor.warehouse.as_deref() else {
        return Ok(false);
    };
    let wh = crate::db::parties::warehouse(conn, mine)?;
    Ok(wh.is_some_and(|w| w.operator_code == decl.area_code))
}

/// [`load_visible`] in the writer, with the warehouse from the reference cache.
fn load_for_step(tx: &mut Tx<'_>, actor: &Actor, id: &str) -> Result<Loaded, AppError> {
    let not_found = || AppError::NotFound(format!("return {id} does not exist"));
    let (ret, decl) = store::get_with_declaration(tx.conn, id)?.ok_or_else(not_found)?;
    let visible = if actor.role != "floor" {
        true
    } else {
        match (actor.warehouse.as_deref(), &ret.warehouse_code) {
            (None, _) => false,
            (Some(mine), Some(w)) => w == mine,
            (Some(mine), None) => tx
                .refs
                .warehouse(tx.conn, mine)?
                .is_some_and(|w| w.operator_code == decl.area_code),
        }
    };
    if !visible {
        return Err(not_found());
    }
    Ok(Loaded { ret, decl })
}

/// A warehouse whose operator is excluded can do nothing while that rating is in force
/// (`flows::eligibility::ensure_warehouse_operable`, from the reference cache). Returns the
/// warehouse.
pub fn warehouse_operable(tx: &mut Tx<'_>, warehouse: &str) -> Result<WarehouseRow, AppError> {
    let wh = tx
        .refs
        .warehouse(tx.conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    if let Some(r) = tx.refs.exclusion(tx.conn, &wh.operator_code, tx.now)? {
        let name = tx
            .refs
            .enterprise(tx.conn, &wh.operator_code)?
            .map(|e| e.name)
            .unwrap_or_default();
        return Err(eligibility::warehouse_refusal(
            warehouse,
            &wh.operator_code,
            &name,
            &r,
        ));
    }
    Ok(wh)
}

/// The bin `raw` (a bin code as typed or scanned) of `warehouse`, from the reference cache.
pub fn bin_in(tx: &mut Tx<'_>, warehouse: &str, raw: &str) -> Result<BinRow, AppError> {
    let bin_code = crate::domain::ids::place_code("bin", raw, 30)?;
    tx.refs.bin(tx.conn, warehouse, &bin_code)?.ok_or_else(|| {
        AppError::validation(
            "bin",
            format!("bin {bin_code} is not in warehouse {warehouse}"),
        )
    })
}

/// `flows::eligibility::ensure_not_excluded`, from the reference cache.
fn not_excluded(tx: &mut Tx<'_>, party: Party, code: &str, name: &str) -> Result<(), AppError> {
    match tx.refs.exclusion(tx.conn, code, tx.now)? {
        Some(r) => Err(eligibility::refusal(party, code, name, &r)),
        None => Ok(()),
    }
}

/// [`parties_eligible`] in the writer, from the reference cache.
fn parties_eligible_now(tx: &mut Tx<'_>, d: &DeclarationRow) -> Result<(), AppError> {
    not_excluded(tx, Party::Ecommerce, &d.ebc_code, &d.ebc_name)?;
    not_excluded(tx, Party::Agent, &d.agent_code, &d.agent_name)
}

/// The checks every step in the warehouse makes, in order: the return is visible, the
/// warehouse may operate, no party is excluded now (else the return goes on hold), and the
/// state allows `action`. The parties' ratings are read again for every step (through the
/// reference cache, which is checked against the database in this transaction).
pub fn begin_step(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    action: Action,
) -> Result<Step<Loaded>, AppError> {
    let l = load_for_step(tx, actor, id)?;
    if let Some(w) = &l.ret.warehouse_code {
        warehouse_operable(tx, w)?;
    }
    let state = state_of(&l.ret)?;
    if state == State::Held {
        return Err(AppError::InvalidState(format!(
            "return {id} is on customs hold; a supervisor must release it first"
        )));
    }
    match (parties_eligible_now(tx, &l.decl), state) {
        (Ok(()), _) => {}
        (
            Err(AppError::EnterpriseExcluded(mut x)),
            State::Received | State::Sorted | State::Inspected,
        ) => {
            hold::hold_return(tx, &Actor::system("eligibility"), id, &x.to_string())?;
            x.held = true;
            return Ok(Step::Held(AppError::EnterpriseExcluded(x)));
        }
        (Err(e), _) => return Err(e),
    }
    if state.next(action).is_none() {
        let lines = store::lines_of_inspected(tx.conn, [&l.ret])?;
        return Err(AppError::InvalidState(format!(
            "return {id} is {}; this step is not possible now (next: {})",
            state.as_str(),
            view::next_actions(&l.ret, &lines).join(", ")
        )));
    }
    Ok(Step::Done(l))
}

/// A failure of the database or of the process (it ends the request at once), as opposed to
/// a refusal, which is for `decide` to give in its turn.
fn fault(e: &AppError) -> bool {
    matches!(e, AppError::Internal(_) | AppError::Unavailable(_))
}

/// A look-up whose refusal `decide` gives in its turn; a fault ends the step at once.
pub(crate) fn refusal<T>(r: Result<T, AppError>) -> Result<Result<T, AppError>, AppError> {
    match r {
        Err(e) if fault(&e) => Err(e),
        r => Ok(r),
    }
}

/// Loads what a step decides on (`stock_bin`: the bin a restock names): as its batch read it
/// for all its steps (`db::batch`), else in one statement.
pub(crate) fn load(
    tx: &mut Tx<'_>,
    id: &str,
    stock_bin: Option<&str>,
) -> Result<decide::Facts, AppError> {
    // No statement for what cannot be a return id (on PostgreSQL a refused statement, say
    // for a NUL, would end the transaction of the whole batch).
    if !crate::domain::ids::is_return_id(id) || tx.batch.absent(id) {
        return Err(AppError::NotFound(format!("return {id} does not exist")));
    }
    let rows = match tx.batch.step_rows(id, stock_bin) {
        Some(rows) => rows,
        None => {
            // What the batch's steps wrote is sent first, so that the read sees it.
            tx.flush()?;
            let rows = store::load_step(tx.conn, id, stock_bin)?
                .ok_or_else(|| AppError::NotFound(format!("return {id} does not exist")))?;
            tx.batch.loaded(&rows, stock_bin);
            rows
        }
    };
    Ok(decide::Facts {
        ret: rows.ret,
        decl: rows.decl,
        lines: rows.lines,
        decl_lines: rows.decl_lines,
        stock: rows.stock,
    })
}

/// What reference data (from the cache) says of a return for `actor`, looked up in the
/// order `decide::gate` checks it, and no further than the first refusal.
pub(crate) fn gate_of(
    tx: &mut Tx<'_>,
    actor: &Actor,
    facts: &decide::Facts,
) -> Result<decide::Gate, AppError> {
    let visible = visible_in_writer(tx, actor, facts)?;
    let mut gate = decide::Gate {
        visible,
        ..Default::default()
    };
    if !visible {
        return Ok(gate);
    }
    if let Some(w) = facts.ret.warehouse_code.clone() {
        gate.warehouse = refusal(warehouse_operable(tx, &w))?.err();
        if gate.warehouse.is_some() {
            return Ok(gate);
        }
    }
    gate.party = refusal(parties_eligible_now(tx, &facts.decl))?.err();
    Ok(gate)
}

/// [`visible_to`] in the writer, with the warehouse from the reference cache.
pub(crate) fn visible_in_writer(
    tx: &mut Tx<'_>,
    actor: &Actor,
    facts: &decide::Facts,
) -> Result<bool, AppError> {
    if actor.role != "floor" {
        return Ok(true);
    }
    Ok(
        match (actor.warehouse.as_deref(), &facts.ret.warehouse_code) {
            (None, _) => false,
            (Some(mine), Some(w)) => w == mine,
            (Some(mine), None) => tx
                .refs
                .warehouse(tx.conn, mine)?
                .is_some_and(|w| w.operator_code == facts.decl.area_code),
        },
    )
}

/// The bin `raw` of `warehouse` as [`bin_in`] finds it, a refusal left for `decide`.
pub(crate) fn bin_for_decide(
    tx: &mut Tx<'_>,
    warehouse: &str,
    raw: &str,
) -> Result<Result<BinRow, AppError>, AppError> {
    refusal(bin_in(tx, warehouse, raw))
}

/// The camera covering `area` as [`covering_camera`] finds it, a refusal left for `decide`.
pub(crate) fn camera_for_decide(
    tx: &mut Tx<'_>,
    warehouse: &str,
    area: &str,
) -> Result<Result<String, AppError>, AppError> {
    refusal(covering_camera(tx, warehouse, area))
}

/// Loads a return and runs the checks every step makes ([`decide::gate`]); a hold they lead
/// to is saved here. `Err`: refused; `Ok(Err(step))`: held, answer `step`.
pub(crate) fn load_and_gate<T>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    action: Action,
    stock_bin: Option<&str>,
) -> Result<Result<decide::Facts, Step<T>>, AppError> {
    let facts = load(tx, id, stock_bin)?;
    let gate = gate_of(tx, actor, &facts)?;
    match decide::gate(&facts, gate, action)? {
        decide::Verdict::Go => Ok(Ok(facts)),
        decide::Verdict::Hold(held, e) => {
            save(tx, actor, *held)?;
            Ok(Err(Step::Held(e)))
        }
    }
}

/// Writes a decision: the disposal it records (whose id the entry then names), the lines that
/// changed, the discrepancies, the stock, the return (refused as a lost race when it is no
/// longer in the state decided from) and the audit entry.
pub(crate) fn save(
    tx: &mut Tx<'_>,
    actor: &Actor,
    mut d: decide::Decision,
) -> Result<decide::Decision, AppError> {
    let id = d.ret.id.clone();
    tx.writing();
    let mut settled = batch::Settled::default();
    if let Some(plan) = &d.disposal {
        let new = store::NewDisposal {
            return_id: &id,
            gnum: plan.gnum,
            qty: plan.qty,
            route: plan.route.as_str(),
            reference: &plan.reference,
            status: plan.status,
            requested_by: &actor.username,
            requested_at: tx.now,
        };
        let disposal_id = store::insert_disposal(tx.conn, &new)?;
        settled.disposal = Some(new.row(disposal_id));
        decide::with_disposal_id(&mut d.entry, plan, disposal_id);
    }
    if d.entry.action == "return.restock" {
        settled.restock = Some(d.entry.changes.encode());
    }
    let changed: Vec<&store::ReturnLineRow> = d
        .lines
        .iter()
        .filter(|l| d.changed.contains(&l.gnum))
        .collect();
    let now = tx.now;
    let found: Vec<store::NewDiscrepancy<'_>> = d
        .discrepancies
        .iter()
        .map(|(code, qty)| store::NewDiscrepancy {
            return_id: &id,
            code,
            qty: *qty,
            created_at: now,
        })
        .collect();
    let e = &d.entry;
    let by = e.actor.as_ref().unwrap_or(actor);
    let entry = || NewEntry {
        action: e.action,
        entity_kind: "return",
        entity_id: &id,
        warehouse: e.warehouse.as_deref(),
        enterprise: e.enterprise.as_deref(),
        changes: e.changes.clone(),
        reason: e.reason.as_deref(),
    };
    // PostgreSQL: the batch writes them with its other steps' (`db::batch`).
    let write = batch::StepWrite {
        ret: &d.ret,
        expected: d.from.as_str(),
        lines: &changed,
        discrepancies: &found,
        stock: d.stock.as_ref(),
    };
    if tx.defer(by, entry(), write)? {
        tx.batch.saved(&d.ret, &d.lines, d.stock.as_ref(), settled);
        return Ok(d);
    }
    store::save_lines(tx.conn, &changed)?;
    store::insert_discrepancies(tx.conn, &found)?;
    if let Some(s) = &d.stock {
        store::raise_stock(tx.conn, s)?;
    }
    store::update_from(tx.conn, &d.ret, d.from.as_str())?;
    tx.audit(by, entry())?;
    tx.batch.saved(&d.ret, &d.lines, d.stock.as_ref(), settled);
    Ok(d)
}

/// The e-commerce enterprise and the declaring agent of a return may not be excluded.
pub fn parties_eligible(
    conn: &mut DbConn,
    d: &DeclarationRow,
    at: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    eligibility::ensure_not_excluded(conn, Party::Ecommerce, &d.ebc_code, &d.ebc_name, at)?;
    eligibility::ensure_not_excluded(conn, Party::Agent, &d.agent_code, &d.agent_name, at)
}

pub fn state_of(r: &ReturnRow) -> Result<State, AppError> {
    State::parse(&r.state).ok_or_else(|| AppError::Internal(format!("unknown state {}", r.state)))
}

/// Closes an inspected return once every counted unit is restocked or disposed; `lines` are
/// the return's lines as they are about to be saved.
pub fn close_if_settled(
    now: chrono::NaiveDateTime,
    ret: &mut ReturnRow,
    lines: &[ReturnLineRow],
) -> bool {
    if ret.state == State::Inspected.as_str() && lines.iter().all(|l| l.in_warehouse() == 0) {
        ret.state = State::Closed.as_str().into();
        ret.closed_at = Some(now);
        return true;
    }
    false
}

/// The line `gnum` of a return's lines.
pub fn line_index(lines: &[ReturnLineRow], gnum: u32) -> Result<usize, AppError> {
    lines
        .iter()
        .position(|l| l.gnum as u32 == gnum)
        .ok_or_else(|| AppError::validation("gnum", format!("line {gnum} is not in this return")))
}

//! The rules of the floor steps, one function per step: from the rows a step loaded, its
//! input, the actor and the time to either a refusal (the problem the caller gets) or a
//! [`Decision`]: the rows to save and the audit entry to append. Nothing here touches the
//! database; the step loads everything before (`super::load`) and writes the decision after
//! (`super::save`), so what a step may do can be read, and tested, in one place.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::view;
use super::{line_index, receive::ReceiveInput, sort::SortInput};
use crate::audit::{Actor, Changes};
use crate::db::parties::{BinRow, CameraRow, WarehouseRow};
use crate::db::returns::{DeclarationLineRow, DeclarationRow, ReturnLineRow, ReturnRow, StockRow};
use crate::domain::grading::{restockable, Grades, Route};
use crate::domain::returns::{Action, State};
use crate::domain::{deadlines, ids};
use crate::error::{AppError, FieldError};

use super::inspect::InspectInput;
use super::settle::{DisposeInput, RestockInput};

/// The rows of one return a step decides on.
#[derive(Debug, Clone)]
pub struct Facts {
    pub ret: ReturnRow,
    pub decl: DeclarationRow,
    /// The return's lines, by line number.
    pub lines: Vec<ReturnLineRow>,
    /// The list lines of those lines.
    pub decl_lines: Vec<DeclarationLineRow>,
    /// Bonded stock at the bin a restock asks for, by line number (only lines with stock).
    pub stock: BTreeMap<i32, i64>,
}

/// What reference data says of a return and its actor, looked up before deciding: each is
/// the refusal it leads to, if any.
#[derive(Debug, Default)]
pub struct Gate {
    /// The actor may see the return (floor staff: their warehouse's).
    pub visible: bool,
    /// The warehouse the return is in may not operate (its operator is excluded, or it is gone).
    pub warehouse: Option<AppError>,
    /// A party of the return (e-commerce enterprise, then declaring agent) is excluded now.
    pub party: Option<AppError>,
}

/// An audit entry of a return, to append after the rows are saved.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Who the entry names, when not the caller (a hold the system makes).
    pub actor: Option<Actor>,
    pub action: &'static str,
    pub warehouse: Option<String>,
    pub enterprise: Option<String>,
    pub changes: Changes,
    pub reason: Option<String>,
}

/// A disposal to record; its id is given by the database and written into the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisposalPlan {
    pub gnum: i32,
    pub qty: i64,
    pub route: Route,
    pub reference: String,
    pub status: &'static str,
}

/// What a step changes.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The return as it is to be saved…
    pub ret: ReturnRow,
    /// …provided it is still in this state.
    pub from: State,
    /// Every line of the return as it is after the step.
    pub lines: Vec<ReturnLineRow>,
    /// The numbers of the lines that changed.
    pub changed: Vec<i32>,
    /// Discrepancies found at sorting: what, how many.
    pub discrepancies: Vec<(String, i64)>,
    /// Bonded stock raised by `qty` at its key.
    pub stock: Option<StockRow>,
    pub disposal: Option<DisposalPlan>,
    pub entry: Entry,
}

/// How the checks every step makes end: go on, or put the return on customs hold (the hold
/// is saved and the caller refused with the problem).
#[derive(Debug)]
pub enum Verdict {
    Go,
    Hold(Box<Decision>, AppError),
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("return {id} does not exist"))
}

fn state_of(r: &ReturnRow) -> Result<State, AppError> {
    super::state_of(r)
}

/// The checks every step in the warehouse makes, in order: the return is visible, its
/// warehouse may operate, it is not on hold, no party is excluded now (else a return in the
/// warehouse goes on hold), and its state allows `action`.
pub fn gate(facts: &Facts, gate: Gate, action: Action) -> Result<Verdict, AppError> {
    let r = &facts.ret;
    if !gate.visible {
        return Err(not_found(&r.id));
    }
    if let Some(e) = gate.warehouse {
        return Err(e);
    }
    let state = state_of(r)?;
    if state == State::Held {
        return Err(AppError::InvalidState(format!(
            "return {} is on customs hold; a supervisor must release it first",
            r.id
        )));
    }
    match (gate.party, state) {
        (None, _) => {}
        (
            Some(AppError::EnterpriseExcluded(mut x)),
            State::Received | State::Sorted | State::Inspected,
        ) => {
            let held = hold(facts, Some(Actor::system("eligibility")), &x.to_string())?;
            x.held = true;
            return Ok(Verdict::Hold(
                Box::new(held),
                AppError::EnterpriseExcluded(x),
            ));
        }
        (Some(e), _) => return Err(e),
    }
    if state.next(action).is_none() {
        let inspected: &[ReturnLineRow] = if state == State::Inspected {
            &facts.lines
        } else {
            &[]
        };
        return Err(AppError::InvalidState(format!(
            "return {} is {}; this step is not possible now (next: {})",
            r.id,
            state.as_str(),
            view::next_actions(r, inspected).join(", ")
        )));
    }
    Ok(Verdict::Go)
}

impl Decision {
    fn of(facts: &Facts, ret: ReturnRow, from: State, entry: Entry) -> Self {
        Self {
            ret,
            from,
            lines: facts.lines.clone(),
            changed: Vec::new(),
            discrepancies: Vec::new(),
            stock: None,
            disposal: None,
            entry,
        }
    }
}

/// Puts a return on customs hold, remembering where it was (by a supervisor, or by the
/// system when a party is found excluded).
pub fn hold(facts: &Facts, by: Option<Actor>, reason: &str) -> Result<Decision, AppError> {
    let mut r = facts.ret.clone();
    let state = State::parse(&r.state)
        .ok_or_else(|| AppError::Internal(format!("bad state {}", r.state)))?;
    if state.next(Action::Hold).is_none() {
        return Err(AppError::InvalidState(format!(
            "return {} is {} and cannot be held",
            r.id, r.state
        )));
    }
    let before = r.state.clone();
    r.held_from = Some(before.clone());
    r.state = State::Held.as_str().into();
    let entry = Entry {
        actor: by,
        action: "return.hold",
        warehouse: r.warehouse_code.clone(),
        enterprise: Some(facts.decl.ebc_code.clone()),
        changes: Changes::new().set("state", &before, "held"),
        reason: Some(reason.into()),
    };
    Ok(Decision::of(facts, r, state, entry))
}

/// Releases a held return back to the state it was held in.
pub fn release(facts: &Facts, reason: &str) -> Result<Decision, AppError> {
    let mut r = facts.ret.clone();
    if r.state != State::Held.as_str() {
        return Err(AppError::InvalidState(format!(
            "return {} is {}, not held",
            r.id, r.state
        )));
    }
    let back = r.held_from.clone().unwrap_or_else(|| "received".into());
    r.state = back.clone();
    r.held_from = None;
    let entry = Entry {
        actor: None,
        action: "return.release",
        warehouse: r.warehouse_code.clone(),
        enterprise: Some(facts.decl.ebc_code.clone()),
        changes: Changes::new().set("state", "held", &back),
        reason: Some(reason.into()),
    };
    Ok(Decision::of(facts, r, State::Held, entry))
}

/// The warehouse and camera a receive names, checked before anything is read: the worker
/// receives only in their own warehouse.
pub fn receive_where(actor: &Actor, input: &ReceiveInput) -> Result<(String, String), AppError> {
    let warehouse = ids::place_code("warehouse", &input.warehouse, 20)?;
    let camera = ids::place_code("camera", &input.camera, 30)?;
    if actor.warehouse.as_deref() != Some(warehouse.as_str()) {
        return Err(AppError::Forbidden(format!(
            "you work in warehouse {}, not {warehouse}",
            actor.warehouse.as_deref().unwrap_or("-")
        )));
    }
    Ok((warehouse, camera))
}

/// The reference rows a receive names, as looked up: the camera, and the bin when one was
/// given (its code as parsed, or why it is not one; `None` inside: not in the warehouse).
pub struct ReceiveRefs {
    pub warehouse: WarehouseRow,
    pub camera: Option<CameraRow>,
    pub bin: Option<Result<(String, Option<BinRow>), AppError>>,
}

/// Receiving at the dock: the parcel must be for this warehouse's operator; a late one is
/// received too but flagged (it may then only leave the zone).
pub fn receive(
    facts: &Facts,
    (warehouse, camera): (&str, &str),
    refs: ReceiveRefs,
    now: NaiveDateTime,
) -> Result<Decision, AppError> {
    let decl = &facts.decl;
    let mut ret = facts.ret.clone();
    if refs.warehouse.operator_code != decl.area_code {
        return Err(AppError::Forbidden(format!(
            "this parcel is for the return center of {} (list {}), not warehouse {warehouse}",
            decl.area_code, decl.invt_no
        )));
    }
    if refs.camera.is_none() {
        return Err(AppError::validation(
            "camera",
            format!("camera {camera} is not in warehouse {warehouse}"),
        ));
    }
    if let Some(found) = refs.bin {
        let (b, bin) = found?;
        match bin {
            Some(bin) if bin.area == "receiving" || bin.area == "hold" => ret.bin_code = Some(b),
            Some(bin) => {
                return Err(AppError::validation(
                    "bin",
                    format!("bin {b} is in the {} area, not receiving", bin.area),
                ))
            }
            None => {
                return Err(AppError::validation(
                    "bin",
                    format!("bin {b} is not in warehouse {warehouse}"),
                ))
            }
        }
    }
    let released_at = decl
        .released_at
        .ok_or_else(|| AppError::InvalidState("the list has no release time".into()))?;
    let late = deadlines::is_late(released_at, now);
    ret.state = State::Received.as_str().into();
    ret.warehouse_code = Some(warehouse.into());
    ret.camera_code = Some(camera.into());
    ret.received_at = Some(now);
    ret.late = late;
    let entry = Entry {
        actor: None,
        action: "return.receive",
        warehouse: Some(warehouse.into()),
        enterprise: Some(decl.ebc_code.clone()),
        changes: Changes::new()
            .set("state", "declared", "received")
            .created("warehouse", warehouse)
            .created("camera", camera)
            .created("bin", &ret.bin_code)
            .created("received_at", now)
            .set("late", false, late),
        reason: late.then(|| {
            format!(
                "arrived after the {}-day limit ({}): may only leave the zone, be re-exported or destroyed",
                deadlines::ARRIVAL_DAYS,
                deadlines::arrival_deadline(released_at).format("%Y-%m-%d")
            )
        }),
    };
    Ok(Decision::of(facts, ret, State::Declared, entry))
}

/// The size of a sort's input, checked before anything is read.
pub fn sort_size(input: &SortInput) -> Result<(), AppError> {
    if input.items.len() + input.unmatched.len() > 1000 {
        return Err(AppError::validation("items", "at most 1000 entries"));
    }
    Ok(())
}

/// Sorting an opened parcel: each item is matched to a line by gnum, product barcode or HS
/// code; unmatched, missing or excess units are discrepancies and route the parcel to that
/// area. `bin` is the bin asked for as looked up, `camera` the one covering receiving.
pub fn sort(
    facts: &Facts,
    input: &SortInput,
    bin: Result<BinRow, AppError>,
    camera: Result<String, AppError>,
) -> Result<Decision, AppError> {
    let decl_lines = &facts.decl_lines;
    let mut lines = facts.lines.clone();
    let mut counted = BTreeMap::<i32, i64>::new();
    let mut discrepancies: Vec<(String, i64)> = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in input.items.iter().chain(input.unmatched.iter()).enumerate() {
        if item.qty <= 0 || item.qty > 100_000 {
            errors.push(FieldError::new(
                format!("items[{i}].qty"),
                "a whole number of units above zero",
            ));
            continue;
        }
        let code = item
            .code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if let Some(c) = code {
            if c.chars().count() > 60 || c.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    format!("items[{i}].code"),
                    "at most 60 printable characters",
                ));
                continue;
            }
        }
        let matched = match (item.gnum, code) {
            (Some(g), _) => lines.iter().find(|l| l.gnum as u32 == g).map(|l| l.gnum),
            (None, Some(c)) => lines
                .iter()
                .find(|l| {
                    decl_lines.iter().any(|d| {
                        d.gnum == l.gnum && (d.bar_code.as_deref() == Some(c) || d.gcode == c)
                    })
                })
                .map(|l| l.gnum),
            (None, None) => {
                errors.push(FieldError::new(format!("items[{i}]"), "give gnum or code"));
                continue;
            }
        };
        match matched {
            Some(g) => *counted.entry(g).or_default() += item.qty,
            None => {
                let label = code
                    .map(String::from)
                    .unwrap_or_else(|| format!("gnum {}", item.gnum.unwrap_or(0)));
                discrepancies.push((label, item.qty));
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    for l in &mut lines {
        let n = counted.get(&l.gnum).copied().unwrap_or(0);
        l.sorted = n.min(l.qty);
        if n > l.qty {
            discrepancies.push((format!("gnum {} excess", l.gnum), n - l.qty));
        }
        if n < l.qty {
            discrepancies.push((format!("gnum {} missing", l.gnum), l.qty - n));
        }
    }
    let bin = bin?;
    let bin_code = bin.code.clone();
    let route = if discrepancies.is_empty() {
        "pending_inspection"
    } else {
        "discrepancy"
    };
    if bin.area != route && bin.area != "hold" {
        return Err(AppError::validation(
            "bin",
            format!(
                "this parcel goes to the {route} area; bin {bin_code} is in the {} area",
                bin.area
            ),
        ));
    }
    // Opened and counted at the receiving area, under its camera.
    let camera = camera?;
    let mut ret = facts.ret.clone();
    let before_bin = ret.bin_code.clone();
    ret.state = State::Sorted.as_str().into();
    ret.discrepancy = !discrepancies.is_empty();
    ret.bin_code = Some(bin_code.clone());
    let entry = Entry {
        actor: None,
        action: "return.sort",
        warehouse: Some(ret.warehouse_code.clone().unwrap_or_default()),
        enterprise: Some(facts.decl.ebc_code.clone()),
        changes: Changes::new()
            .set("state", "received", "sorted")
            .set("bin", before_bin, &bin_code)
            .created("camera", &camera)
            .created("area", "receiving")
            .created("quantity", counted.values().sum::<i64>())
            .created(
                "sorted",
                lines
                    .iter()
                    .map(|l| format!("{}:{}/{}", l.gnum, l.sorted, l.qty))
                    .collect::<Vec<_>>(),
            )
            .created(
                "discrepancies",
                discrepancies
                    .iter()
                    .map(|(c, q)| format!("{c}×{q}"))
                    .collect::<Vec<_>>(),
            ),
        reason: None,
    };
    let changed = lines.iter().map(|l| l.gnum).collect();
    Ok(Decision {
        lines,
        changed,
        discrepancies,
        ..Decision::of(facts, ret, State::Received, entry)
    })
}

/// Inspecting each line: a count per grade that adds up to what was counted at sorting.
/// `camera` is the one covering the inspection place.
pub fn inspect(
    facts: &Facts,
    input: &InspectInput,
    camera: Result<String, AppError>,
    now: NaiveDateTime,
) -> Result<Decision, AppError> {
    let mut lines = facts.lines.clone();
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
    let camera = camera?;
    let mut ret = facts.ret.clone();
    ret.state = State::Inspected.as_str().into();
    let closed = super::close_if_settled(now, &mut ret, &lines);
    let entry = Entry {
        actor: None,
        action: "return.inspect",
        warehouse: ret.warehouse_code.clone(),
        enterprise: Some(facts.decl.ebc_code.clone()),
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
        reason: closed.then(|| "nothing left to restock or dispose".into()),
    };
    let changed = lines.iter().map(|l| l.gnum).collect();
    Ok(Decision {
        lines,
        changed,
        ..Decision::of(facts, ret, State::Sorted, entry)
    })
}

fn grades(l: &ReturnLineRow) -> Grades {
    Grades {
        intact: l.intact,
        damaged_packaging: l.damaged_packaging,
        used: l.used,
        defective: l.defective,
        not_original: l.not_original,
    }
}

/// Restocking intact units into bonded stock at a restock bin: never a late return, never
/// more than the intact units not yet settled. `bin` is the bin asked for as looked up, and
/// `camera` the one covering the restock area.
pub fn restock(
    facts: &Facts,
    input: &RestockInput,
    bin: Result<BinRow, AppError>,
    camera: Result<String, AppError>,
    now: NaiveDateTime,
) -> Result<Decision, AppError> {
    let (ret0, decl) = (&facts.ret, &facts.decl);
    let id = &ret0.id;
    if ret0.late {
        let limit = decl.released_at.map(deadlines::arrival_deadline);
        return Err(AppError::DeadlinePassed(format!(
            "return {id} arrived after the {}-day limit{}: it cannot go back to bonded stock; dispose of it (exit, re-export or destroy)",
            deadlines::ARRIVAL_DAYS,
            limit.map(|l| format!(" ({})", l.format("%Y-%m-%d"))).unwrap_or_default()
        )));
    }
    if input.qty <= 0 {
        return Err(AppError::validation(
            "qty",
            "a whole number of units above zero",
        ));
    }
    let mut lines = facts.lines.clone();
    let at = line_index(&lines, input.gnum)?;
    let line = &lines[at];
    let can = restockable(&grades(line), line.restocked, ret0.late).min(line.unsettled());
    if input.qty > can {
        return Err(AppError::QuantityExceeds(format!(
            "line {}: {} asked, only {can} intact unit(s) can still be restocked",
            input.gnum, input.qty
        )));
    }
    let warehouse = ret0.warehouse_code.clone().unwrap_or_default();
    let bin = bin?;
    let bin_code = bin.code.clone();
    if bin.area != "restock" {
        return Err(AppError::validation(
            "bin",
            format!(
                "bin {bin_code} is in the {} area; restock only into a restock bin",
                bin.area
            ),
        ));
    }
    let decl_line = facts
        .decl_lines
        .iter()
        .find(|d| d.gnum == lines[at].gnum)
        .ok_or_else(|| AppError::Internal("declaration line missing".into()))?;
    // Put on the shelf in the restock area, under its camera.
    let camera = camera?;
    let stock_before = facts.stock.get(&lines[at].gnum).copied().unwrap_or(0);
    let new_qty = stock_before + input.qty;
    let line = &mut lines[at];
    let before = line.restocked;
    line.restocked += input.qty;
    let (gnum, restocked) = (line.gnum, line.restocked);
    let mut ret = ret0.clone();
    let closed = super::close_if_settled(now, &mut ret, &lines);
    let entry = Entry {
        actor: None,
        action: "return.restock",
        warehouse: Some(warehouse.clone()),
        enterprise: Some(decl.ebc_code.clone()),
        changes: Changes::new()
            .set(&format!("line {gnum} restocked"), before, restocked)
            .set(
                &format!("stock {}/{}/{}", decl.ebc_code, decl_line.gcode, bin_code),
                stock_before,
                new_qty,
            )
            .set("state", "inspected", &ret.state)
            .created("camera", &camera)
            .created("bin", &bin_code)
            .created("area", &bin.area)
            .created("quantity", input.qty),
        reason: closed.then(|| "every unit settled: return closed".into()),
    };
    let stock = StockRow {
        owner_code: decl.ebc_code.clone(),
        gcode: decl_line.gcode.clone(),
        warehouse_code: warehouse,
        bin_code,
        gname: decl_line.gname.clone(),
        qty: input.qty,
        updated_at: now,
    };
    Ok(Decision {
        lines,
        changed: vec![gnum],
        stock: Some(stock),
        ..Decision::of(facts, ret, State::Inspected, entry)
    })
}

/// The route, reference and quantity of a disposal, checked before anything is read.
pub fn dispose_what(input: &DisposeInput) -> Result<(Route, String), AppError> {
    let route = Route::parse(input.route.trim())
        .ok_or_else(|| AppError::validation("route", "exit, reexport or destroy"))?;
    let reference = ids::text("reference", &input.reference, 100)?;
    if input.qty <= 0 {
        return Err(AppError::validation(
            "qty",
            "a whole number of units above zero",
        ));
    }
    Ok((route, reference))
}

/// Disposing of units not yet settled: exit at once, re-export or destruction once a
/// supervisor approves. `camera` is the one covering the exit. The entry names the disposal
/// once the database has given it its id ([`with_disposal_id`]).
pub fn dispose(
    facts: &Facts,
    input: &DisposeInput,
    (route, reference): (Route, String),
    camera: Result<String, AppError>,
    now: NaiveDateTime,
) -> Result<Decision, AppError> {
    let mut lines = facts.lines.clone();
    let at = line_index(&lines, input.gnum)?;
    let line = &mut lines[at];
    let left = line.unsettled();
    if input.qty > left {
        return Err(AppError::QuantityExceeds(format!(
            "line {}: {} asked, only {left} unit(s) are not yet restocked, disposed or awaiting approval",
            input.gnum, input.qty
        )));
    }
    // Taken to the exit area, under its camera.
    let camera = camera?;
    let approval = route.needs_approval();
    let field = format!(
        "line {} {}",
        line.gnum,
        if approval {
            "pending_disposal"
        } else {
            "disposed_exit"
        }
    );
    let before = if approval {
        line.pending_disposal
    } else {
        line.disposed_exit
    };
    if approval {
        line.pending_disposal += input.qty;
    } else {
        line.disposed_exit += input.qty;
    }
    let gnum = line.gnum;
    let after = before + input.qty;
    let mut ret = facts.ret.clone();
    let closed = super::close_if_settled(now, &mut ret, &lines);
    let entry = Entry {
        actor: None,
        action: if approval {
            "return.dispose_request"
        } else {
            "return.dispose"
        },
        warehouse: ret.warehouse_code.clone(),
        enterprise: Some(facts.decl.ebc_code.clone()),
        changes: Changes::new()
            .set(&field, before, after)
            .set("state", "inspected", &ret.state)
            .created("camera", &camera)
            .created("area", "exit")
            .created("quantity", input.qty),
        reason: closed.then(|| "every unit settled: return closed".into()),
    };
    let disposal = DisposalPlan {
        gnum,
        qty: input.qty,
        route,
        reference,
        status: if approval { "pending_approval" } else { "done" },
    };
    Ok(Decision {
        lines,
        changed: vec![gnum],
        disposal: Some(disposal),
        ..Decision::of(facts, ret, State::Inspected, entry)
    })
}

/// The entry of a disposal names it by the id the database gave it.
pub fn with_disposal_id(entry: &mut Entry, plan: &DisposalPlan, id: i64) {
    let changes = std::mem::take(&mut entry.changes);
    entry.changes = changes.created(
        "disposal",
        serde_json::json!({"id": id, "route": plan.route.as_str(), "qty": plan.qty, "reference": plan.reference}),
    );
}

#[cfg(test)]
mod tests;

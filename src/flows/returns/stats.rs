//! The numbers that tell a warehouse what needs attention.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::Actor;
use crate::db::returns::{DeclarationRow, ReturnLineRow, ReturnRow};
use crate::db::schema::{audit_entries, declarations, disposals, returns};
use crate::db::DbConn;
use crate::domain::deadlines::{self, NEAR_DAYS};
use crate::domain::returns::State;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    pub date: NaiveDate,
    pub count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NearDeadline {
    /// A return id, or an invtNo for a list not yet applied for.
    pub id: String,
    /// apply (30 days) or arrival (45 days)
    pub kind: &'static str,
    pub deadline: chrono::DateTime<Utc>,
    pub days_left: i64,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Ageing {
    pub apply_within_5_days: i64,
    pub arrival_within_5_days: i64,
    pub overdue: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettledDay {
    pub date: NaiveDate,
    pub restocked: i64,
    pub disposed: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub by_state: BTreeMap<String, i64>,
    pub arrivals_per_day: Vec<DayCount>,
    pub near_deadline: Vec<NearDeadline>,
    pub ageing: Ageing,
    pub restock_vs_disposal: Vec<SettledDay>,
    pub holds: i64,
    pub discrepancies: i64,
    pub pending_approvals: i64,
    /// Inspected returns with units a floor worker can still restock or dispose of.
    pub to_settle: i64,
    /// Inspected returns whose units left all await a supervisor's disposal approval.
    pub awaiting_approval: i64,
}

pub fn stats(conn: &mut DbConn, actor: &Actor, warehouse: Option<&str>) -> Result<Stats, AppError> {
    let now = Utc::now().naive_utc();
    let warehouse = if actor.role == "floor" {
        actor.warehouse.clone()
    } else {
        warehouse.map(str::to_ascii_uppercase)
    };
    let operator = match &warehouse {
        Some(w) => crate::db::parties::warehouse(conn, w)?.map(|w| w.operator_code),
        None => None,
    };
    let all: Vec<(ReturnRow, DeclarationRow)> = returns::table
        .inner_join(declarations::table)
        .select((ReturnRow::as_select(), DeclarationRow::as_select()))
        .load(conn)?;
    let mine = |r: &ReturnRow, d: &DeclarationRow| match &warehouse {
        None => true,
        Some(w) => {
            r.warehouse_code.as_deref() == Some(w.as_str())
                || (r.warehouse_code.is_none() && operator.as_deref() == Some(d.area_code.as_str()))
        }
    };
    let rows: Vec<&(ReturnRow, DeclarationRow)> = all.iter().filter(|(r, d)| mine(r, d)).collect();
    let mut by_state: BTreeMap<String, i64> = State::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    let mut arrivals: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    // Days are China's calendar days (UTC+8), as the warehouse lives them.
    let today = deadlines::china_date(now);
    let start = today - Duration::days(29);
    let mut d0 = start;
    while d0 <= today {
        arrivals.insert(d0, 0);
        d0 += Duration::days(1);
    }
    // What inspected returns still have to settle, each return's lines apart.
    let mut inspected_lines: std::collections::HashMap<String, Vec<ReturnLineRow>> =
        std::collections::HashMap::new();
    for l in crate::db::returns::lines_of_inspected(conn, rows.iter().map(|(r, _)| r))? {
        inspected_lines
            .entry(l.return_id.clone())
            .or_default()
            .push(l);
    }
    let (mut to_settle, mut awaiting_approval) = (0, 0);
    let mut near = Vec::new();
    let mut ageing = Ageing::default();
    let mut holds = 0;
    let mut discrepancies = 0;
    for (r, d) in &rows {
        *by_state.entry(r.state.clone()).or_default() += 1;
        if let Some(at) = r.received_at {
            if let Some(c) = arrivals.get_mut(&deadlines::china_date(at)) {
                *c += 1;
            }
        }
        if r.state == "held" {
            holds += 1;
        }
        if r.state == "inspected" {
            let lines = inspected_lines.get(r.id.as_str()).map(Vec::as_slice);
            if super::view::unsettled(r, lines.unwrap_or_default()).any() {
                to_settle += 1;
            } else {
                awaiting_approval += 1;
            }
        }
        if r.discrepancy && !matches!(r.state.as_str(), "closed" | "cancelled") {
            discrepancies += 1;
        }
        if r.state == "declared" {
            if let Some(rel) = d.released_at {
                let deadline = deadlines::arrival_deadline(rel);
                let left = deadlines::days_left(deadline, now);
                if left < 0 {
                    ageing.overdue += 1;
                } else if left < NEAR_DAYS {
                    ageing.arrival_within_5_days += 1;
                }
                if left < NEAR_DAYS {
                    near.push(NearDeadline {
                        id: r.id.clone(),
                        kind: "arrival",
                        deadline: deadline.and_utc(),
                        days_left: left,
                    });
                }
            }
        }
    }
    // Released lists of this warehouse's operator not yet applied for, close to the 30 days.
    let applied: std::collections::HashSet<&str> =
        all.iter().map(|(r, _)| r.invt_no.as_str()).collect();
    let recent: Vec<DeclarationRow> = declarations::table
        .filter(declarations::released_at.ge(now - Duration::days(deadlines::APPLY_DAYS)))
        .select(DeclarationRow::as_select())
        .load(conn)?;
    for d in recent
        .iter()
        .filter(|d| !applied.contains(d.invt_no.as_str()))
    {
        if operator.as_ref().is_some_and(|o| *o != d.area_code) {
            continue;
        }
        if let Some(rel) = d.released_at {
            let deadline = deadlines::apply_deadline(rel);
            let left = deadlines::days_left(deadline, now);
            if (0..NEAR_DAYS).contains(&left) {
                ageing.apply_within_5_days += 1;
                near.push(NearDeadline {
                    id: d.invt_no.clone(),
                    kind: "apply",
                    deadline: deadline.and_utc(),
                    days_left: left,
                });
            }
        }
    }
    near.sort_by_key(|n| n.days_left);
    near.truncate(50);
    // Restocked and disposed units per day: restocks from the audit log (each entry records
    // the line's restocked count before and after), disposals from the disposals done.
    let mut settled: BTreeMap<NaiveDate, (i64, i64)> =
        arrivals.keys().map(|d| (*d, (0, 0))).collect();
    let since = (start.and_hms_opt(0, 0, 0).unwrap_or(now)) - Duration::hours(8);
    let mut q = audit_entries::table
        .filter(audit_entries::at.ge(since))
        .filter(audit_entries::action.eq("return.restock"))
        .into_boxed();
    if let Some(w) = &warehouse {
        q = q.filter(audit_entries::warehouse.eq(w.clone()));
    }
    let restocks: Vec<(chrono::NaiveDateTime, String)> = q
        .select((audit_entries::at, audit_entries::changes))
        .load(conn)?;
    for (at, changes) in restocks {
        if let Some(e) = settled.get_mut(&deadlines::china_date(at)) {
            e.0 += restocked_units(&changes);
        }
    }
    let visible: std::collections::HashSet<&str> =
        rows.iter().map(|(r, _)| r.id.as_str()).collect();
    let done: Vec<(
        String,
        i64,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    )> = disposals::table
        .filter(disposals::status.eq("done"))
        .filter(
            disposals::decided_at
                .ge(since)
                .or(disposals::requested_at.ge(since)),
        )
        .select((
            disposals::return_id,
            disposals::qty,
            disposals::requested_at,
            disposals::decided_at,
        ))
        .load(conn)?;
    for (id, qty, requested_at, decided_at) in done {
        if !visible.contains(id.as_str()) {
            continue;
        }
        let at = decided_at.unwrap_or(requested_at);
        if let Some(e) = settled.get_mut(&deadlines::china_date(at)) {
            e.1 += qty;
        }
    }
    let pending_ids: Vec<String> = disposals::table
        .filter(disposals::status.eq("pending_approval"))
        .select(disposals::return_id)
        .load(conn)?;
    let pending_approvals = pending_ids
        .iter()
        .filter(|id| visible.contains(id.as_str()))
        .count() as i64;
    Ok(Stats {
        by_state,
        arrivals_per_day: arrivals
            .into_iter()
            .map(|(date, count)| DayCount { date, count })
            .collect(),
        near_deadline: near,
        ageing,
        restock_vs_disposal: settled
            .into_iter()
            .map(|(date, (restocked, disposed))| SettledDay {
                date,
                restocked,
                disposed,
            })
            .collect(),
        holds,
        discrepancies,
        pending_approvals,
        to_settle,
        awaiting_approval,
    })
}

/// Units one `return.restock` entry put into stock: the growth of the line's restocked count.
fn restocked_units(changes: &str) -> i64 {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(changes)
    else {
        return 0;
    };
    map.iter()
        .filter(|(field, _)| field.starts_with("line ") && field.ends_with(" restocked"))
        .map(|(_, v)| {
            let n = |k: &str| v.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
            (n("after") - n("before")).max(0)
        })
        .sum()
}

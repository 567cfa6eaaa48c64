//! The handheld's local copy of its warehouse's open work (手持终端离线副本): what a floor
//! worker's device keeps so that a waybill, a return label, a product or a bin scanned while the
//! Wi-Fi is down still resolves, and the step screens still open.
//!
//! What is in it: the open returns (declared, received, sorted, inspected, held) a warehouse's
//! staff see, each with its lines (item number, HS code, name, unit, product barcode, counts,
//! grades, what is left to restock) and whether one of its parties is excluded now; the
//! warehouse's bins and cameras. What is never in it: anything about the buyer (name, identity
//! number, telephone), the order number, the return's reason, its history or disposal
//! documents. Bounded: at most [`MAX_RETURNS`] returns, applied for or received in the last
//! [`MAX_AGE_DAYS`] days, newest first.
//!
//! Kept up to date by a cursor: the audit chain's sequence. Every change to a return appends an
//! entry naming it in the same transaction, so "what changed since N" is the returns named by
//! entries after N, read again as they are now; those that left the open set (closed,
//! cancelled, received elsewhere, too old) are answered as `removed`. The cursor is read before
//! the returns, so a change committed in between is sent now and once more next time, never
//! missed (entries become visible in sequence order: one writer holds the chain's lock from the
//! append to the commit).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::db::parties::{self, RatingRow};
use crate::db::returns::{DeclarationLineRow, DeclarationRow, ReturnLineRow, ReturnRow};
use crate::db::schema::{audit_entries, declaration_lines, declarations, return_lines, returns};
use crate::db::DbConn;
use crate::domain::credit::excluded_at;
use crate::domain::deadlines;
use crate::error::{AppError, Exclusion, Party as ExcludedParty};
use crate::flows::returns::view::{self, LineView, Party};

/// The most returns a handheld keeps (newest first). A busy return center warehouse takes in a
/// few hundred parcels a day, and a parcel is open from its application until its goods are
/// restocked or sent out, usually within days: 2,000 covers a week or more of open work, about
/// 2 MB of JSON (a tenth of that compressed).
pub const MAX_RETURNS: i64 = 2_000;
/// How old an open return may be and still be kept: applied for or received in the last 60
/// days, that is the 45-day arrival limit plus two weeks for a parcel under inspection or
/// awaiting a disposal decision.
pub const MAX_AGE_DAYS: i64 = 60;
/// A device further behind than this many audit entries gets the whole copy again instead of
/// the changes.
const MAX_ENTRIES_BEHIND: i64 = 20_000;

const OPEN: [&str; 5] = ["declared", "received", "sorted", "inspected", "held"];

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// The warehouse (floor staff: their own, the default; supervisors and admins must name
    /// one).
    pub warehouse: Option<String>,
    /// The `cursor` of the device's last copy: only what changed after it is answered. Left
    /// out (or older than the server keeps track of), the whole copy is answered.
    #[param(minimum = 0)]
    pub since: Option<i64>,
}

/// The warehouse the copy is of, and whether its operator is excluded now (then it can do
/// nothing).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SnapshotWarehouse {
    pub code: String,
    pub name: String,
    pub excluded: Option<Exclusion>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SnapshotBin {
    pub code: String,
    pub area: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SnapshotCamera {
    pub code: String,
    pub name: String,
    pub area: String,
}

/// An open return as the handheld keeps it: what the step screens need, nothing about the
/// buyer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LocalReturn {
    pub id: String,
    pub state: String,
    pub held: bool,
    pub held_from: Option<String>,
    pub late: bool,
    pub discrepancy: bool,
    pub invt_no: String,
    /// The waybill (运单号) on the parcel.
    pub logistics_no: String,
    pub ebc: Party,
    pub agent: Party,
    /// Where it was received (none while declared).
    pub warehouse: Option<String>,
    /// The bin it was sorted into.
    pub bin: Option<String>,
    pub applied_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub apply_deadline: Option<DateTime<Utc>>,
    pub arrival_deadline: Option<DateTime<Utc>>,
    pub next_actions: Vec<&'static str>,
    pub lines: Vec<LineView>,
    /// Its e-commerce enterprise or declaring agent when excluded (失信) now: it cannot be
    /// received.
    pub excluded: Option<Exclusion>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SnapshotLimits {
    pub max_returns: i64,
    pub max_age_days: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Snapshot {
    pub warehouse: SnapshotWarehouse,
    /// Ask with `since=` this next time.
    pub cursor: i64,
    /// The whole copy (replace what the device has) rather than the changes since `since`.
    pub full: bool,
    /// The whole copy had more open returns than `limits.max_returns`: the newest are given.
    pub truncated: bool,
    /// Open returns that are new or changed (all of them when `full`).
    pub returns: Vec<LocalReturn>,
    /// Returns the device should drop: closed, cancelled, received elsewhere or too old.
    pub removed: Vec<String>,
    /// The warehouse's bins, when `full` or changed (else null: unchanged).
    pub bins: Option<Vec<SnapshotBin>>,
    /// The warehouse's cameras, when `full` or changed (else null: unchanged).
    pub cameras: Option<Vec<SnapshotCamera>>,
    pub limits: SnapshotLimits,
    pub at: DateTime<Utc>,
}

/// Which warehouse `actor` may take a copy of: floor staff their own (403 for any other),
/// supervisors and admins the one they name.
pub fn warehouse_for(actor: &Actor, asked: Option<&str>) -> Result<String, AppError> {
    let asked = asked
        .map(|w| w.trim().to_ascii_uppercase())
        .filter(|w| !w.is_empty());
    if actor.role == "floor" {
        let mine = actor
            .warehouse
            .clone()
            .ok_or_else(|| AppError::Forbidden("no warehouse is set for this user".into()))?;
        return match asked {
            Some(w) if w != mine => Err(AppError::Forbidden(format!(
                "floor staff take the copy of their own warehouse ({mine}) only"
            ))),
            _ => Ok(mine),
        };
    }
    asked.ok_or_else(|| AppError::validation("warehouse", "name the warehouse"))
}

/// The copy of `warehouse`'s open work, whole or since `since`.
pub fn snapshot(
    conn: &mut DbConn,
    warehouse: &str,
    since: Option<i64>,
) -> Result<Snapshot, AppError> {
    if since.is_some_and(|s| s < 0) {
        return Err(AppError::validation("since", "a cursor is 0 or more"));
    }
    let wh = parties::warehouse(conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    let now = Utc::now().naive_utc();
    // The cursor first: see the module's comment.
    let cursor: i64 = audit_entries::table
        .select(diesel::dsl::max(audit_entries::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    let scope = Scope {
        warehouse: wh.code.clone(),
        operator: wh.operator_code.clone(),
        cutoff: now - Duration::days(MAX_AGE_DAYS),
    };
    // A cursor ahead of the chain is another database's: the device starts again.
    let changes = match since {
        Some(s) if s <= cursor && cursor - s <= MAX_ENTRIES_BEHIND => {
            Some(changes_since(conn, s, cursor, &scope)?)
        }
        _ => None,
    };
    let places_changed = changes.as_ref().is_none_or(|c| c.places);
    let (full, rows, removed, truncated) = match changes {
        Some(c) if !c.everything => {
            let (keep, removed) = changed_returns(conn, &c, &scope)?;
            (false, keep, removed, false)
        }
        _ => {
            let mut rows = open_returns(conn, &scope)?;
            let truncated = rows.len() as i64 > MAX_RETURNS;
            rows.truncate(MAX_RETURNS as usize);
            (true, rows, Vec::new(), truncated)
        }
    };
    let returns = local_returns(conn, rows, now)?;
    let (bins, cameras) = if places_changed {
        (
            Some(
                parties::list_bins(conn, &wh.code, None)?
                    .into_iter()
                    .map(|b| SnapshotBin {
                        code: b.code,
                        area: b.area,
                    })
                    .collect(),
            ),
            Some(
                parties::list_cameras(conn, &wh.code)?
                    .into_iter()
                    .map(|c| SnapshotCamera {
                        code: c.code,
                        name: c.name,
                        area: c.area,
                    })
                    .collect(),
            ),
        )
    } else {
        (None, None)
    };
    let operator = parties::enterprise(conn, &wh.operator_code)?;
    let ratings = parties::ratings_of(conn, &[wh.operator_code.as_str()])?;
    let excluded = exclusion_now(
        &ratings,
        ExcludedParty::Operator,
        &Party {
            code: wh.operator_code.clone(),
            name: operator.map(|e| e.name).unwrap_or_default(),
        },
        now,
    )
    .map(|e| Exclusion {
        warehouse: Some(wh.code.clone()),
        ..e
    });
    Ok(Snapshot {
        warehouse: SnapshotWarehouse {
            code: wh.code,
            name: wh.name,
            excluded,
        },
        cursor,
        full,
        truncated,
        returns,
        removed,
        bins,
        cameras,
        limits: SnapshotLimits {
            max_returns: MAX_RETURNS,
            max_age_days: MAX_AGE_DAYS,
        },
        at: now.and_utc(),
    })
}

/// The warehouse a copy is of, and how far back it reaches.
struct Scope {
    warehouse: String,
    operator: String,
    cutoff: NaiveDateTime,
}

impl Scope {
    /// The return is one of this warehouse's open returns within the bounds: received here, or
    /// declared and addressed to its operator (as floor staff see them, `returns::visible_to`).
    fn keeps(&self, r: &ReturnRow, d: &DeclarationRow) -> bool {
        let here = match &r.warehouse_code {
            Some(w) => *w == self.warehouse,
            None => d.area_code == self.operator,
        };
        let recent = r.applied_at >= self.cutoff || r.received_at.is_some_and(|t| t >= self.cutoff);
        here && recent && OPEN.contains(&r.state.as_str())
    }

    /// The device may have had the return: received here, or addressed to this warehouse's
    /// operator. Another warehouse's returns are none of its business, not even their ids.
    fn may_have_had(&self, r: &ReturnRow, d: &DeclarationRow) -> bool {
        r.warehouse_code.as_deref() == Some(self.warehouse.as_str()) || d.area_code == self.operator
    }
}

/// What the audit entries after a cursor say changed.
struct Changes {
    /// Returns named by an entry (every change to a return names it).
    returns: BTreeSet<String>,
    /// Declaration lists named by an entry (a customs receipt moves its returns' deadlines).
    lists: BTreeSet<String>,
    /// The warehouse's bins or cameras changed.
    places: bool,
    /// A rating or a warehouse changed: which returns it touches is not worth working out
    /// (ratings are rare), so the whole copy is answered.
    everything: bool,
}

fn changes_since(
    conn: &mut DbConn,
    since: i64,
    cursor: i64,
    scope: &Scope,
) -> Result<Changes, AppError> {
    let entries: Vec<(String, String, Option<String>)> = audit_entries::table
        .filter(audit_entries::seq.gt(since))
        .filter(audit_entries::seq.le(cursor))
        .select((
            audit_entries::entity_kind,
            audit_entries::entity_id,
            audit_entries::warehouse,
        ))
        .load(conn)?;
    let mut c = Changes {
        returns: BTreeSet::new(),
        lists: BTreeSet::new(),
        places: false,
        everything: false,
    };
    for (kind, id, warehouse) in entries {
        match kind.as_str() {
            "return" => {
                c.returns.insert(id);
            }
            "declaration" => {
                c.lists.insert(id);
            }
            "bin" | "camera" => {
                c.places |= warehouse.as_deref().is_none_or(|w| w == scope.warehouse);
            }
            "enterprise" | "warehouse" => c.everything = true,
            _ => {}
        }
    }
    Ok(c)
}

/// A return with its declaration list.
type Row = (ReturnRow, DeclarationRow);

/// The returns named by `c`, split into those the device keeps (as they are now) and those it
/// drops.
fn changed_returns(
    conn: &mut DbConn,
    c: &Changes,
    scope: &Scope,
) -> Result<(Vec<Row>, Vec<String>), AppError> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let ids: Vec<&String> = c.returns.iter().collect();
    for chunk in ids.chunks(500) {
        let found: Vec<(ReturnRow, DeclarationRow)> = returns::table
            .inner_join(declarations::table)
            .filter(returns::id.eq_any(chunk))
            .select((ReturnRow::as_select(), DeclarationRow::as_select()))
            .load(conn)?;
        rows.extend(found.into_iter().map(|(r, d)| (r.id.clone(), (r, d))));
    }
    let lists: Vec<&String> = c.lists.iter().collect();
    for chunk in lists.chunks(500) {
        let found: Vec<(ReturnRow, DeclarationRow)> = returns::table
            .inner_join(declarations::table)
            .filter(returns::invt_no.eq_any(chunk))
            .select((ReturnRow::as_select(), DeclarationRow::as_select()))
            .load(conn)?;
        rows.extend(found.into_iter().map(|(r, d)| (r.id.clone(), (r, d))));
    }
    let mut keep = Vec::new();
    let mut removed = Vec::new();
    // Newest first, as in the whole copy.
    for (id, (r, d)) in rows.into_iter().rev() {
        if scope.keeps(&r, &d) {
            keep.push((r, d));
        } else if c.returns.contains(&id) && scope.may_have_had(&r, &d) {
            removed.push(id);
        }
    }
    Ok((keep, removed))
}

/// The warehouse's open returns within the bounds, newest first, one more than the limit (to
/// tell that there were more).
fn open_returns(
    conn: &mut DbConn,
    scope: &Scope,
) -> Result<Vec<(ReturnRow, DeclarationRow)>, AppError> {
    Ok(returns::table
        .inner_join(declarations::table)
        .filter(returns::state.eq_any(OPEN))
        .filter(
            returns::warehouse_code
                .eq(scope.warehouse.clone())
                .or(returns::warehouse_code
                    .is_null()
                    .and(declarations::area_code.eq(scope.operator.clone()))),
        )
        .filter(
            returns::applied_at
                .ge(scope.cutoff)
                .or(returns::received_at.ge(scope.cutoff)),
        )
        .order(returns::id.desc())
        .limit(MAX_RETURNS + 1)
        .select((ReturnRow::as_select(), DeclarationRow::as_select()))
        .load(conn)?)
}

/// The handheld's form of `rows`: their lines and list lines read in a few queries, and the
/// exclusions in force now.
fn local_returns(
    conn: &mut DbConn,
    rows: Vec<(ReturnRow, DeclarationRow)>,
    now: NaiveDateTime,
) -> Result<Vec<LocalReturn>, AppError> {
    let ids: Vec<&str> = rows.iter().map(|(r, _)| r.id.as_str()).collect();
    let mut lines: BTreeMap<String, Vec<ReturnLineRow>> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<ReturnLineRow> = return_lines::table
            .filter(return_lines::return_id.eq_any(chunk))
            .order((return_lines::return_id, return_lines::gnum))
            .select(ReturnLineRow::as_select())
            .load(conn)?;
        for l in found {
            lines.entry(l.return_id.clone()).or_default().push(l);
        }
    }
    let lists: BTreeSet<&str> = rows.iter().map(|(r, _)| r.invt_no.as_str()).collect();
    let lists: Vec<&str> = lists.into_iter().collect();
    let mut list_lines: BTreeMap<String, Vec<DeclarationLineRow>> = BTreeMap::new();
    for chunk in lists.chunks(500) {
        let found: Vec<DeclarationLineRow> = declaration_lines::table
            .filter(declaration_lines::invt_no.eq_any(chunk))
            .order((declaration_lines::invt_no, declaration_lines::gnum))
            .select(DeclarationLineRow::as_select())
            .load(conn)?;
        for l in found {
            list_lines.entry(l.invt_no.clone()).or_default().push(l);
        }
    }
    let parties: BTreeSet<&str> = rows
        .iter()
        .flat_map(|(_, d)| [d.ebc_code.as_str(), d.agent_code.as_str()])
        .collect();
    let parties: Vec<&str> = parties.into_iter().collect();
    let mut ratings: Vec<RatingRow> = Vec::new();
    for chunk in parties.chunks(500) {
        ratings.extend(parties::ratings_of(conn, chunk)?);
    }
    let utc = |t: NaiveDateTime| t.and_utc();
    Ok(rows
        .into_iter()
        .map(|(r, d)| {
            let mine = lines.remove(&r.id).unwrap_or_default();
            let empty = Vec::new();
            let of_list = list_lines.get(&r.invt_no).unwrap_or(&empty);
            let next_actions = view::next_actions(&r, &mine);
            let ebc = Party {
                code: d.ebc_code.clone(),
                name: d.ebc_name.clone(),
            };
            let agent = Party {
                code: d.agent_code.clone(),
                name: d.agent_name.clone(),
            };
            let excluded = exclusion_now(&ratings, ExcludedParty::Ecommerce, &ebc, now)
                .or_else(|| exclusion_now(&ratings, ExcludedParty::Agent, &agent, now));
            LocalReturn {
                lines: view::line_views(&r, mine, of_list),
                next_actions,
                held: r.state == "held",
                id: r.id,
                state: r.state,
                held_from: r.held_from,
                late: r.late,
                discrepancy: r.discrepancy,
                invt_no: r.invt_no,
                logistics_no: r.logistics_no,
                ebc,
                agent,
                warehouse: r.warehouse_code,
                bin: r.bin_code,
                applied_at: utc(r.applied_at),
                released_at: d.released_at.map(utc),
                received_at: r.received_at.map(utc),
                apply_deadline: d.released_at.map(deadlines::apply_deadline).map(utc),
                arrival_deadline: d.released_at.map(deadlines::arrival_deadline).map(utc),
                excluded,
            }
        })
        .collect())
}

/// `who`'s exclusion in force at `now` among `ratings` (of several enterprises), if any.
fn exclusion_now(
    ratings: &[RatingRow],
    party: ExcludedParty,
    who: &Party,
    now: NaiveDateTime,
) -> Option<Exclusion> {
    let history: Vec<_> = ratings
        .iter()
        .filter(|r| r.enterprise_code == who.code)
        .filter_map(|r| r.record())
        .collect();
    excluded_at(&history, now).map(|r| Exclusion {
        party,
        code: who.code.clone(),
        name: who.name.clone(),
        rating: r.rating,
        since: r.effective_from.date(),
        reference: r.reference.clone(),
        warehouse: None,
        held: false,
    })
}

#[cfg(test)]
mod tests {
    use super::warehouse_for;
    use crate::audit::Actor;

    fn actor(role: &str, warehouse: Option<&str>) -> Actor {
        Actor {
            username: "someone".into(),
            role: role.into(),
            warehouse: warehouse.map(String::from),
            request_id: None,
        }
    }

    #[test]
    fn floor_staff_take_the_copy_of_their_own_warehouse_only() {
        let floor = actor("floor", Some("XY01"));
        for asked in [None, Some("XY01"), Some("xy01"), Some(" XY01 "), Some("")] {
            assert_eq!(
                warehouse_for(&floor, asked).ok().as_deref(),
                Some("XY01"),
                "{asked:?}"
            );
        }
        let other = warehouse_for(&floor, Some("LG01")).expect_err("another warehouse");
        assert_eq!(other.code(), "forbidden");
        let nowhere = warehouse_for(&actor("floor", None), None).expect_err("no warehouse");
        assert_eq!(nowhere.code(), "forbidden");
    }

    #[test]
    fn supervisors_and_admins_name_the_warehouse() {
        for role in ["supervisor", "admin"] {
            let a = actor(role, None);
            assert_eq!(
                warehouse_for(&a, Some("lg01")).ok().as_deref(),
                Some("LG01")
            );
            assert_eq!(
                warehouse_for(&a, None).expect_err("none named").code(),
                "validation"
            );
            assert_eq!(
                warehouse_for(&a, Some("  ")).expect_err("blank").code(),
                "validation"
            );
        }
    }
}

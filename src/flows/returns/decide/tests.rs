//! The rules of the floor steps without a database: examples, and properties over random
//! walks of steps (what was restocked, disposed and is pending never exceeds what was counted,
//! stock never goes negative, the state moves only as the state machine allows).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use proptest::prelude::*;

use super::*;
use crate::flows::returns::inspect::LineGrades;
use crate::flows::returns::sort::SortItem;

fn t(days: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000, 0)
        .unwrap()
        .naive_utc()
        + Duration::days(days)
}

fn facts(state: &str, qtys: &[i64]) -> Facts {
    let ret = ReturnRow {
        id: "RT1".into(),
        guid: "G".into(),
        invt_no: "INV1".into(),
        logistics_no: "WB1".into(),
        reason: "r".into(),
        state: state.into(),
        held_from: None,
        late: false,
        discrepancy: false,
        warehouse_code: (state != "declared").then(|| "WH1".into()),
        camera_code: None,
        bin_code: None,
        applied_at: t(0),
        received_at: None,
        closed_at: None,
        customs_status: None,
        customs_info: None,
        customs_at: None,
        created_by: "u".into(),
    };
    let decl = DeclarationRow {
        invt_no: "INV1".into(),
        order_no: "O".into(),
        ebp_code: "EBP".into(),
        ebp_name: "p".into(),
        ebc_code: "EBC".into(),
        ebc_name: "c".into(),
        agent_code: "AG".into(),
        agent_name: "a".into(),
        logistics_no: "WB1".into(),
        logistics_code: "L".into(),
        logistics_name: "l".into(),
        area_code: "OP".into(),
        customs_code: "8012".into(),
        buyer_id_type: "1".into(),
        buyer_id_number: "x".into(),
        buyer_name: "b".into(),
        buyer_telephone: "t".into(),
        released_at: Some(t(0)),
        return_status: Some(800),
        created_at: t(0),
    };
    let lines = qtys
        .iter()
        .enumerate()
        .map(|(i, q)| ReturnLineRow {
            return_id: "RT1".into(),
            gnum: i as i32 + 1,
            qty: *q,
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
    let decl_lines = qtys
        .iter()
        .enumerate()
        .map(|(i, q)| DeclarationLineRow {
            invt_no: "INV1".into(),
            gnum: i as i32 + 1,
            gcode: format!("610910000{i}"),
            gname: "g".into(),
            qty: *q,
            unit: "011".into(),
            bar_code: Some(format!("690000000000{i}")),
            price: "1".into(),
        })
        .collect();
    Facts {
        ret,
        decl,
        lines,
        decl_lines,
        stock: BTreeMap::new(),
    }
}

fn bin(area: &str) -> Result<BinRow, AppError> {
    Ok(BinRow {
        warehouse_code: "WH1".into(),
        code: format!("B-{area}"),
        area: area.into(),
        created_at: t(0),
    })
}

fn camera() -> Result<String, AppError> {
    Ok("CAM1".into())
}

fn open() -> Gate {
    Gate {
        visible: true,
        ..Default::default()
    }
}

/// `facts` after a decision, as the write leaves them.
fn apply(mut f: Facts, d: &Decision) -> Facts {
    f.ret = d.ret.clone();
    f.lines = d.lines.clone();
    if let Some(s) = &d.stock {
        let gnum = f
            .decl_lines
            .iter()
            .find(|l| l.gcode == s.gcode)
            .map(|l| l.gnum)
            .unwrap_or(0);
        *f.stock.entry(gnum).or_default() += s.qty;
    }
    f
}

fn sort_all(f: &Facts) -> SortInput {
    SortInput {
        items: f
            .lines
            .iter()
            .map(|l| SortItem {
                gnum: Some(l.gnum as u32),
                code: None,
                qty: l.qty,
            })
            .collect(),
        unmatched: Vec::new(),
        bin: "B-pending_inspection".into(),
    }
}

#[test]
fn a_step_its_state_does_not_allow_is_refused_with_what_is_possible() {
    let f = facts("received", &[2]);
    match gate(&f, open(), Action::Inspect) {
        Err(AppError::InvalidState(m)) => assert!(m.contains("is received"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(gate(&f, open(), Action::Sort), Ok(Verdict::Go)));
}

#[test]
fn a_return_another_warehouse_has_is_not_found() {
    let f = facts("received", &[2]);
    assert!(matches!(
        gate(&f, Gate::default(), Action::Sort),
        Err(AppError::NotFound(_))
    ));
}

#[test]
fn a_held_return_refuses_every_step_until_released() {
    let f = facts("held", &[2]);
    assert!(matches!(
        gate(&f, open(), Action::Sort),
        Err(AppError::InvalidState(m)) if m.contains("customs hold")
    ));
}

#[test]
fn receiving_after_45_days_flags_the_return_late_and_says_why() {
    let f = facts("declared", &[1]);
    let refs = |bin| ReceiveRefs {
        warehouse: WarehouseRow {
            code: "WH1".into(),
            name: "n".into(),
            operator_code: "OP".into(),
            zone: "Z".into(),
            created_at: t(0),
        },
        camera: Some(CameraRow {
            warehouse_code: "WH1".into(),
            code: "CAM1".into(),
            name: "c".into(),
            area: "receiving".into(),
            created_at: t(0),
            playback_url: None,
        }),
        bin,
    };
    let d = receive(&f, ("WH1", "CAM1"), refs(None), t(46)).unwrap();
    assert!(d.ret.late);
    assert_eq!(d.ret.state, "received");
    assert_eq!(d.from, State::Declared);
    assert!(d.entry.reason.unwrap().contains("45-day"));
    let d = receive(&f, ("WH1", "CAM1"), refs(None), t(44)).unwrap();
    assert!(!d.ret.late && d.entry.reason.is_none());
    // A bin outside receiving is refused.
    let shelf = Some(Ok(("S1".into(), bin("restock").ok())));
    assert!(matches!(
        receive(&f, ("WH1", "CAM1"), refs(shelf), t(1)),
        Err(AppError::Validation(_))
    ));
}

#[test]
fn sorting_short_routes_the_parcel_to_discrepancy() {
    let f = facts("received", &[3, 2]);
    let mut input = sort_all(&f);
    input.items[0].qty = 2;
    // All counted would go to pending inspection: the discrepancy bin is refused…
    assert!(matches!(
        sort(&f, &sort_all(&f), bin("discrepancy"), camera()),
        Err(AppError::Validation(_))
    ));
    // …and one unit short goes there.
    let d = sort(&f, &input, bin("discrepancy"), camera()).unwrap();
    assert!(d.ret.discrepancy);
    assert_eq!(d.discrepancies, vec![("gnum 1 missing".to_string(), 1)]);
    assert_eq!(d.lines[0].sorted, 2);
    assert_eq!(d.changed, vec![1, 2]);
}

#[test]
fn sorting_matches_a_scanned_barcode_to_its_line_and_refuses_bad_items_together() {
    let f = facts("received", &[1]);
    let input = SortInput {
        items: vec![SortItem {
            gnum: None,
            code: Some("6900000000000".into()),
            qty: 1,
        }],
        unmatched: Vec::new(),
        bin: "B".into(),
    };
    let d = sort(&f, &input, bin("pending_inspection"), camera()).unwrap();
    assert_eq!(d.lines[0].sorted, 1);
    let bad = SortInput {
        items: vec![
            SortItem {
                gnum: None,
                code: None,
                qty: 1,
            },
            SortItem {
                gnum: Some(1),
                code: None,
                qty: 0,
            },
        ],
        unmatched: Vec::new(),
        bin: "B".into(),
    };
    match sort(&f, &bad, bin("pending_inspection"), camera()) {
        Err(AppError::Validation(errors)) => assert_eq!(errors.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_step_without_camera_coverage_is_refused_and_changes_nothing() {
    let f = facts("received", &[1]);
    let none = Err(AppError::NoCameraCoverage {
        warehouse: "WH1".into(),
        area: "receiving".into(),
    });
    assert!(matches!(
        sort(&f, &sort_all(&f), bin("pending_inspection"), none),
        Err(AppError::NoCameraCoverage { .. })
    ));
}

fn grade_all_intact(f: &Facts) -> InspectInput {
    InspectInput {
        lines: f
            .lines
            .iter()
            .map(|l| LineGrades {
                gnum: l.gnum as u32,
                intact: l.sorted,
                damaged_packaging: 0,
                used: 0,
                defective: 0,
                not_original: 0,
            })
            .collect(),
    }
}

#[test]
fn grades_must_add_up_to_what_was_sorted() {
    let f = facts("received", &[2]);
    let f = apply(
        f.clone(),
        &sort(&f, &sort_all(&f), bin("pending_inspection"), camera()).unwrap(),
    );
    let mut input = grade_all_intact(&f);
    input.lines[0].intact = 1;
    assert!(matches!(
        inspect(&f, &input, camera(), t(2)),
        Err(AppError::Validation(_))
    ));
    let d = inspect(&f, &grade_all_intact(&f), camera(), t(2)).unwrap();
    assert_eq!(d.ret.state, "inspected");
    assert!(d.lines[0].inspected);
}

#[test]
fn a_late_return_is_never_restocked() {
    let mut f = facts("inspected", &[1]);
    f.ret.late = true;
    let input = RestockInput {
        gnum: 1,
        qty: 1,
        bin: "B".into(),
    };
    assert!(matches!(
        restock(&f, &input, bin("restock"), camera(), t(3)),
        Err(AppError::DeadlinePassed(_))
    ));
}

#[test]
fn restocking_raises_the_stock_from_what_is_there_and_closes_a_settled_return() {
    let mut f = facts("inspected", &[2]);
    f.lines[0].sorted = 2;
    f.lines[0].inspected = true;
    f.lines[0].intact = 2;
    f.stock.insert(1, 5);
    let input = RestockInput {
        gnum: 1,
        qty: 2,
        bin: "B".into(),
    };
    let d = restock(&f, &input, bin("restock"), camera(), t(3)).unwrap();
    assert_eq!(d.stock.as_ref().unwrap().qty, 2);
    assert_eq!(d.ret.state, "closed");
    let text = format!("{:?}", d.entry.changes);
    assert!(
        text.contains("\"stock EBC/6109100000/B-restock\": Object {\"after\": Number(7), \"before\": Number(5)}"),
        "{text}"
    );
    assert!(matches!(
        restock(&f, &input, bin("exit"), camera(), t(3)),
        Err(AppError::Validation(_))
    ));
    let more = RestockInput { qty: 3, ..input };
    assert!(matches!(
        restock(&f, &more, bin("restock"), camera(), t(3)),
        Err(AppError::QuantityExceeds(_))
    ));
}

#[test]
fn a_destruction_waits_for_approval_and_its_entry_names_the_disposal() {
    let mut f = facts("inspected", &[2]);
    f.lines[0].sorted = 2;
    f.lines[0].inspected = true;
    f.lines[0].defective = 2;
    let input = DisposeInput {
        gnum: 1,
        qty: 2,
        route: "destroy".into(),
        reference: "D-1".into(),
    };
    let what = dispose_what(&input).unwrap();
    let mut d = dispose(&f, &input, what, camera(), t(3)).unwrap();
    let plan = d.disposal.clone().unwrap();
    assert_eq!(plan.status, "pending_approval");
    assert_eq!(d.lines[0].pending_disposal, 2);
    // Pending units stay in the warehouse: the return is not closed yet.
    assert_eq!(d.ret.state, "inspected");
    assert_eq!(d.entry.action, "return.dispose_request");
    with_disposal_id(&mut d.entry, &plan, 7);
    assert!(format!("{:?}", d.entry.changes).contains("disposal"));
}

#[test]
fn hold_and_release_go_back_where_the_return_was() {
    let f = facts("sorted", &[1]);
    let held = hold(&f, None, "customs").unwrap();
    assert_eq!(held.ret.state, "held");
    let f = apply(f, &held);
    assert!(matches!(
        hold(&f, None, "again"),
        Err(AppError::InvalidState(_))
    ));
    let back = release(&f, "ok").unwrap();
    assert_eq!(back.ret.state, "sorted");
    assert_eq!(back.ret.held_from, None);
}

/// One floor step of a random walk.
#[derive(Debug, Clone)]
enum Move {
    Sort(Vec<i64>),
    Inspect(Vec<(i64, i64)>),
    Restock(u32, i64),
    Dispose(u32, i64, u8),
    Hold,
    Release,
}

fn moves() -> impl Strategy<Value = Move> {
    prop_oneof![
        prop::collection::vec(0i64..6, 1..4).prop_map(Move::Sort),
        prop::collection::vec((0i64..6, 0i64..6), 1..4).prop_map(Move::Inspect),
        (1u32..4, -1i64..5).prop_map(|(g, q)| Move::Restock(g, q)),
        (1u32..4, -1i64..5, 0u8..3).prop_map(|(g, q, r)| Move::Dispose(g, q, r)),
        Just(Move::Hold),
        Just(Move::Release),
    ]
}

/// Runs a move through the gate and its step, as a floor step would.
fn step(f: &Facts, m: &Move, at: NaiveDateTime) -> Result<Decision, AppError> {
    let action = match m {
        Move::Sort(_) => Action::Sort,
        Move::Inspect(_) => Action::Inspect,
        Move::Restock(..) | Move::Dispose(..) => Action::Settle,
        Move::Hold => return hold(f, None, "h"),
        Move::Release => return release(f, "r"),
    };
    match gate(f, open(), action)? {
        Verdict::Go => {}
        Verdict::Hold(d, _) => return Ok(*d),
    }
    match m {
        Move::Sort(counts) => {
            let input = SortInput {
                items: counts
                    .iter()
                    .enumerate()
                    .filter(|(_, q)| **q > 0)
                    .map(|(i, q)| SortItem {
                        gnum: Some(i as u32 + 1),
                        code: None,
                        qty: *q,
                    })
                    .collect(),
                unmatched: Vec::new(),
                bin: "B".into(),
            };
            sort(f, &input, bin("hold"), camera())
        }
        Move::Inspect(g) => {
            let input = InspectInput {
                lines: f
                    .lines
                    .iter()
                    .zip(g.iter().cycle())
                    .map(|(l, (intact, used))| {
                        let intact = (*intact).min(l.sorted);
                        let used = (*used).min(l.sorted - intact);
                        LineGrades {
                            gnum: l.gnum as u32,
                            intact,
                            damaged_packaging: 0,
                            used,
                            defective: l.sorted - intact - used,
                            not_original: 0,
                        }
                    })
                    .collect(),
            };
            inspect(f, &input, camera(), at)
        }
        Move::Restock(gnum, qty) => {
            let input = RestockInput {
                gnum: *gnum,
                qty: *qty,
                bin: "B".into(),
            };
            restock(f, &input, bin("restock"), camera(), at)
        }
        Move::Dispose(gnum, qty, r) => {
            let input = DisposeInput {
                gnum: *gnum,
                qty: *qty,
                route: ["exit", "reexport", "destroy"][*r as usize].into(),
                reference: "R".into(),
            };
            let what = dispose_what(&input)?;
            dispose(f, &input, what, camera(), at)
        }
        Move::Hold | Move::Release => unreachable!(),
    }
}

proptest! {
    #[test]
    fn no_walk_of_steps_settles_more_than_was_counted_or_leaves_stock_negative(
        qtys in prop::collection::vec(1i64..5, 1..4),
        walk in prop::collection::vec(moves(), 0..40),
    ) {
        let mut f = facts("received", &qtys);
        for (i, m) in walk.iter().enumerate() {
            let before = State::parse(&f.ret.state).unwrap();
            let Ok(d) = step(&f, m, t(1) + Duration::minutes(i as i64)) else { continue };
            // The write saves only from the state the decision was made in…
            prop_assert_eq!(d.from, before);
            let after = State::parse(&d.ret.state).unwrap();
            // …and the state moves only as the state machine allows.
            let allowed = match m {
                Move::Release => before == State::Held,
                Move::Hold => before.next(Action::Hold) == Some(after),
                Move::Sort(_) | Move::Inspect(_) | Move::Restock(..) | Move::Dispose(..) => {
                    after == State::Held
                        || after == State::Closed && before == State::Inspected
                        || after == State::Closed && before == State::Sorted
                        || [Action::Sort, Action::Inspect, Action::Settle]
                            .iter()
                            .any(|a| before.next(*a) == Some(after))
                }
            };
            prop_assert!(allowed, "{:?}: {:?} -> {:?}", m, before, after);
            if let Some(s) = &d.stock {
                prop_assert!(s.qty > 0, "stock is only ever raised");
            }
            f = apply(f, &d);
            for l in &f.lines {
                prop_assert!(l.sorted <= l.qty);
                prop_assert!(
                    l.restocked + l.disposed() + l.pending_disposal <= l.sorted,
                    "line {:?}", l
                );
                prop_assert!(l.restocked <= l.intact);
                prop_assert!(l.restocked >= 0 && l.disposed() >= 0 && l.pending_disposal >= 0);
            }
            prop_assert!(f.stock.values().all(|q| *q >= 0));
            if f.ret.state == "closed" {
                prop_assert!(f.lines.iter().all(|l| l.in_warehouse() == 0));
            }
        }
    }
}

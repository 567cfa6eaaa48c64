//! The demo data set (`serve --demo` on an empty database): a zone with two return center
//! warehouses run by different operators, bins of every area, cameras, enterprises of every
//! kind (one rated 失信), 36 released lists from the CEB621/CEB622 files shipped in
//! `src/demo/` (dates shifted so that they end yesterday), returns in every state including
//! a late one, and one user per role.

use chrono::{Duration, NaiveDateTime, SubsecRound, Utc};

use super::parties::{self, BinInput, CameraInput, EnterpriseInput, RatingInput, WarehouseInput};
use super::returns::apply::{self, ApplyInput, LineQty};
use super::returns::inspect::{self, InspectInput, LineGrades};
use super::returns::receive::{self, ReceiveInput};
use super::returns::settle::{self, DisposeInput, RestockInput};
use super::returns::sort::{self, SortInput, SortItem};
use super::returns::Step;
use super::users::{self as user_flow, NewUser};
use crate::audit::Actor;
use crate::customs::{self, Items};
use crate::db::returns::{self as store, DeclarationRow};
use crate::db::writer::{Tx, Writer};
use crate::db::{parties as party_store, Pool};
use crate::domain::roles::Role;
use crate::error::AppError;

const CEB621: &[u8] = include_bytes!("../demo/ceb621.xml");
const CEB622: &[u8] = include_bytes!("../demo/ceb622.xml");

/// The demo logins (user, role, warehouse, password).
pub const LOGINS: [(&str, Role, Option<&str>, &str); 4] = [
    ("admin", Role::Admin, None, "demo-admin-2026"),
    ("supervisor", Role::Supervisor, None, "demo-supervisor-2026"),
    ("floor.xy", Role::Floor, Some("XY01"), "demo-floor-2026"),
    ("floor.gy", Role::Floor, Some("GY01"), "demo-floor-2026"),
];

fn run<T: Send + 'static>(
    w: &Writer,
    f: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    w.write_blocking(f)
        .map_err(|e| AppError::Startup(format!("demo data: {e}")))
}

fn done<T>(s: Step<T>) -> Result<T, AppError> {
    match s {
        Step::Done(v) => Ok(v),
        Step::Held(e) => Err(e),
    }
}

/// Loads the demo data unless the database already holds enterprises.
pub fn load_if_empty(pool: &Pool, w: &Writer) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    if !party_store::list_enterprises(&mut conn)?.is_empty() {
        println!("demo: the database is not empty; nothing loaded");
        return Ok(());
    }
    drop(conn);
    let admin_password = crate::app::admin_password_from_env()?;
    let kept = load(pool, w, admin_password.as_deref())?;
    println!("demo data loaded. Sign in as:");
    for (u, role, wh, pw) in LOGINS {
        let pw = if kept.contains(&u) {
            "(existing user: its own password)"
        } else if u == "admin" && admin_password.is_some() {
            "(BR_ADMIN_PASSWORD)"
        } else {
            pw
        };
        println!(
            "  {u:<11} {pw:<22} {}{}",
            role.as_str(),
            wh.map(|w| format!(" ({w})")).unwrap_or_default()
        );
    }
    Ok(())
}

fn parties_and_places(w: &Writer) -> Result<(), AppError> {
    let admin = Actor::system("demo");
    run(w, move |tx| {
        let ents: [(&str, &str, &[&str]); 8] = [
            ("5001960EBP", "渝贸通跨境电商平台", &["platform"]),
            ("HK0000E001", "香港美妆优选有限公司", &["ecommerce"]),
            ("JP0000E002", "日本生活良品株式会社", &["ecommerce"]),
            ("KR0000E003", "韩国首尔时尚有限公司", &["ecommerce"]),
            ("5001960AG1", "重庆跨境代理服务有限公司", &["agent"]),
            ("5001980L01", "重庆顺达速运有限公司", &["logistics"]),
            (
                "5001960W01",
                "重庆西永保税仓储有限公司",
                &["warehouse_operator"],
            ),
            (
                "5001960W02",
                "重庆果园港供应链有限公司",
                &["warehouse_operator"],
            ),
        ];
        for (code, name, kinds) in ents {
            parties::create_enterprise(
                tx,
                &admin,
                &EnterpriseInput {
                    code: code.into(),
                    name: name.into(),
                    kinds: kinds.iter().map(|k| k.to_string()).collect(),
                },
            )?;
        }
        let ratings = [
            (
                "5001960W01",
                "advanced_certified",
                "海关总署公告〔2025〕AEO-118号",
            ),
            ("5001960W02", "certified", "重庆海关认证决定〔2026〕12号"),
            ("HK0000E001", "regular", "信用信息公示 2026-03"),
            ("JP0000E002", "certified", "重庆海关认证决定〔2026〕31号"),
            ("5001960AG1", "regular", "信用信息公示 2026-03"),
        ];
        for (code, rating, reference) in ratings {
            let input = RatingInput {
                rating: rating.into(),
                effective_from: Some((tx.now - Duration::days(200)).and_utc().fixed_offset()),
                reference: reference.into(),
            };
            parties::rate_enterprise(tx, &admin, code, &input, false)?;
        }
        for (code, name, op, zone) in [
            ("XY01", "西永退货中心仓", "5001960W01", "重庆西永综合保税区"),
            // One zone, two return center warehouses run by different operators.
            (
                "GY01",
                "果园港供应链退货中心仓",
                "5001960W02",
                "重庆西永综合保税区",
            ),
        ] {
            parties::create_warehouse(
                tx,
                &admin,
                &WarehouseInput {
                    code: code.into(),
                    name: name.into(),
                    operator: op.into(),
                    zone: zone.into(),
                },
            )?;
            let mut bins = vec![
                ("RCV-01", "receiving"),
                ("PND-01", "pending_inspection"),
                ("PND-02", "pending_inspection"),
                ("DSC-01", "discrepancy"),
                ("HLD-01", "hold"),
                ("EXT-01", "exit"),
            ];
            let restock: Vec<String> = (1..=6).map(|i| format!("RST-A{i:02}")).collect();
            bins.extend(restock.iter().map(|b| (b.as_str(), "restock")));
            for (b, area) in bins {
                parties::create_bin(
                    tx,
                    &admin,
                    code,
                    &BinInput {
                        code: format!("{code}-{b}"),
                        area: area.into(),
                    },
                )?;
            }
            for (c, n, area) in [
                ("DOCK", "收货口", "receiving"),
                ("SORT", "分拣台", "pending_inspection"),
                ("DSC", "差异复核台", "discrepancy"),
                ("RST", "上架区", "restock"),
                ("HLD", "暂存区", "hold"),
                ("EXIT", "出区口", "exit"),
            ] {
                parties::create_camera(
                    tx,
                    &admin,
                    code,
                    &CameraInput {
                        code: format!("CAM-{code}-{c}"),
                        name: n.into(),
                        area: area.into(),
                        playback_url: Some(format!(
                            "http://nvr.{}.example/playback?camera=CAM-{code}-{c}&start={{start}}&end={{end}}",
                            code.to_ascii_lowercase()
                        )),
                    },
                )?;
            }
        }
        Ok(())
    })
}

/// Makes the demo users; the admin's password is `admin_password` when one is given
/// (`BR_ADMIN_PASSWORD`), the published demo password otherwise.
fn users(w: &Writer, admin_password: Option<&str>) -> Result<Vec<&'static str>, AppError> {
    let mut kept = Vec::new();
    for (u, role, wh, pw) in LOGINS {
        let pw = match admin_password {
            Some(own) if u == "admin" => own,
            _ => pw,
        };
        let user = NewUser {
            username: u.into(),
            role,
            warehouse: wh.map(String::from),
            password_hash: user_flow::hash_password(pw)?,
        };
        // A database that already has its first admin (a plain `serve` ran before) keeps it,
        // with its own password.
        let created = run(w, move |tx| {
            if crate::db::users::user(tx.conn, &user.username)?.is_some() {
                return Ok(false);
            }
            user_flow::create_user(tx, &Actor::system("demo"), user).map(|_| true)
        })?;
        if !created {
            kept.push(u);
        }
    }
    Ok(kept)
}

/// Imports the shipped messages with the release times shifted to end yesterday.
fn declarations(w: &Writer) -> Result<(), AppError> {
    let lists =
        customs::parse(CEB621).map_err(|e| AppError::Startup(format!("demo CEB621: {e}")))?;
    let mut receipts =
        customs::parse(CEB622).map_err(|e| AppError::Startup(format!("demo CEB622: {e}")))?;
    if let Items::InventoryReturn(items) = &mut receipts.items {
        let latest = items
            .iter()
            .filter_map(|i| i.result.as_ref().ok())
            .map(|r| r.return_time)
            .max();
        if let Some(latest) = latest {
            // To the microsecond, as PostgreSQL keeps times (and as the writer takes its own).
            let shift = (Utc::now() - Duration::days(1)).trunc_subsecs(6) - latest;
            for r in items.iter_mut().filter_map(|i| i.result.as_mut().ok()) {
                r.return_time += shift;
            }
        }
    }
    let actor = Actor::system("demo-import");
    run(w, move |tx| {
        let a = super::imports::record(tx, &actor, &lists)?;
        let b = super::imports::record(tx, &actor, &receipts)?;
        if a.rejected + b.rejected > 0 {
            return Err(AppError::Startup(format!(
                "demo lists rejected: {:?} {:?}",
                a.items, b.items
            )));
        }
        Ok(())
    })
}

struct Demo<'a> {
    w: &'a Writer,
    lists: Vec<DeclarationRow>,
    now: NaiveDateTime,
    /// When the next step of the return at hand happens: the demo's history is spread over
    /// the weeks its lists were released in, as a real warehouse's would be (never later
    /// than a few minutes ago).
    clock: std::cell::Cell<NaiveDateTime>,
}

fn floor(wh: &str) -> Actor {
    Actor {
        username: format!("floor.{}", &wh[..2].to_ascii_lowercase()),
        role: "floor".into(),
        warehouse: Some(wh.into()),
        request_id: None,
    }
}

impl Demo<'_> {
    /// The time of the next step of the return at hand: `minutes` after the one before.
    fn tick(&self, minutes: i64) -> NaiveDateTime {
        let t =
            (self.clock.get() + Duration::minutes(minutes)).min(self.now - Duration::minutes(5));
        self.clock.set(t);
        t
    }

    /// The next unused list of `area` and one of `ebcs`, released between `min` and `max` days ago.
    fn take(
        &mut self,
        area: &str,
        ebcs: &[&str],
        min: i64,
        max: i64,
    ) -> Result<DeclarationRow, AppError> {
        let now = self.now;
        let pos = self
            .lists
            .iter()
            .position(|d| {
                let age = d.released_at.map(|r| (now - r).num_days()).unwrap_or(-1);
                d.area_code == area
                    && ebcs.contains(&d.ebc_code.as_str())
                    && (min..=max).contains(&age)
            })
            .ok_or_else(|| {
                AppError::Startup(format!(
                    "demo: no list of {area} released {min}–{max} days ago"
                ))
            })?;
        Ok(self.lists.remove(pos))
    }

    fn apply(&self, d: &DeclarationRow, late_apply: bool) -> Result<String, AppError> {
        let mut conn_lines = Vec::new();
        let d2 = d.clone();
        let lines = run(self.w, move |tx| {
            store::declaration_lines(tx.conn, &d2.invt_no)
        })?;
        for l in &lines {
            conn_lines.push(LineQty {
                gnum: l.gnum as u32,
                qty: l.qty,
            });
        }
        let input = ApplyInput {
            invt_no: d.invt_no.clone(),
            logistics_no: d.logistics_no.clone(),
            reason: "七天无理由退货".into(),
            lines: conn_lines,
        };
        let applied_at = d
            .released_at
            .map(|r| r + Duration::days(if late_apply { 3 } else { 2 }));
        // Recorded when it was applied (never in the future); the parcel arrives a day or so
        // later — a late one only now, past its 45 days.
        let at = applied_at
            .unwrap_or(self.now)
            .min(self.now - Duration::hours(3));
        self.clock.set(if late_apply {
            self.now - Duration::hours(2)
        } else {
            at + Duration::hours(22) + Duration::minutes(i64::from(d.invt_no.len() as u8 % 7) * 37)
        });
        let actor = Actor::system("demo-ceb625");
        let r = run(self.w, move |tx| {
            tx.now = at;
            apply::apply(tx, &actor, &input, applied_at, None)
        })?;
        Ok(r.id)
    }

    fn receive(&self, id: &str, wh: &str) -> Result<(), AppError> {
        let (id, wh) = (id.to_string(), wh.to_string());
        let at = self.tick(0);
        run(self.w, move |tx| {
            tx.now = at;
            let input = ReceiveInput {
                warehouse: wh.clone(),
                camera: format!("CAM-{wh}-DOCK"),
                bin: Some(format!("{wh}-RCV-01")),
                printer: None,
            };
            done(receive::receive(tx, &floor(&wh), &id, &input)?).map(|_| ())
        })
    }

    fn sort(&self, id: &str, wh: &str, odd_item: bool) -> Result<(), AppError> {
        let (id, wh) = (id.to_string(), wh.to_string());
        let at = self.tick(18);
        run(self.w, move |tx| {
            tx.now = at;
            let items = store::lines(tx.conn, &id)?
                .iter()
                .map(|l| SortItem {
                    gnum: Some(l.gnum as u32),
                    code: None,
                    qty: l.qty,
                })
                .collect();
            let unmatched = if odd_item {
                vec![SortItem {
                    gnum: None,
                    code: Some("6901234567892".into()),
                    qty: 1,
                }]
            } else {
                vec![]
            };
            let bin = format!("{wh}-{}", if odd_item { "DSC-01" } else { "PND-01" });
            done(sort::sort(
                tx,
                &floor(&wh),
                &id,
                &SortInput {
                    items,
                    unmatched,
                    bin,
                },
            )?)
            .map(|_| ())
        })
    }

    /// Inspects: the first `bad` units of each line are graded `used`, the rest intact.
    fn inspect(&self, id: &str, wh: &str, bad: i64) -> Result<(), AppError> {
        let (id, wh) = (id.to_string(), wh.to_string());
        let at = self.tick(95);
        run(self.w, move |tx| {
            tx.now = at;
            let lines = store::lines(tx.conn, &id)?
                .iter()
                .map(|l| {
                    let used = bad.min(l.sorted);
                    LineGrades {
                        gnum: l.gnum as u32,
                        intact: l.sorted - used,
                        damaged_packaging: 0,
                        used,
                        defective: 0,
                        not_original: 0,
                    }
                })
                .collect();
            done(inspect::inspect(
                tx,
                &floor(&wh),
                &id,
                &InspectInput { lines },
            )?)
            .map(|_| ())
        })
    }

    fn restock_all(&self, id: &str, wh: &str) -> Result<(), AppError> {
        let (id, wh) = (id.to_string(), wh.to_string());
        let at = self.tick(40);
        run(self.w, move |tx| {
            tx.now = at;
            for (i, l) in store::lines(tx.conn, &id)?.iter().enumerate() {
                if l.intact > 0 {
                    let input = RestockInput {
                        gnum: l.gnum as u32,
                        qty: l.intact,
                        bin: format!("{wh}-RST-A{:02}", i % 6 + 1),
                    };
                    done(settle::restock(tx, &floor(&wh), &id, &input)?)?;
                }
            }
            Ok(())
        })
    }

    fn dispose_rest(
        &self,
        id: &str,
        wh: &str,
        route: &str,
        reference: &str,
    ) -> Result<(), AppError> {
        let (id, wh, route, reference) = (
            id.to_string(),
            wh.to_string(),
            route.to_string(),
            reference.to_string(),
        );
        let at = self.tick(40);
        run(self.w, move |tx| {
            tx.now = at;
            for l in store::lines(tx.conn, &id)? {
                let left = l.unsettled();
                if left > 0 {
                    let input = DisposeInput {
                        gnum: l.gnum as u32,
                        qty: left,
                        route: route.clone(),
                        reference: reference.clone(),
                    };
                    done(settle::dispose(tx, &floor(&wh), &id, &input)?)?;
                }
            }
            Ok(())
        })
    }
}

/// Loads everything; answers the demo user names that existed already (kept as they were).
fn load(
    pool: &Pool,
    w: &Writer,
    admin_password: Option<&str>,
) -> Result<Vec<&'static str>, AppError> {
    parties_and_places(w)?;
    let kept = users(w, admin_password)?;
    declarations(w)?;
    let mut conn = pool.get()?;
    let mut lists = load_lists(&mut conn)?;
    lists.sort_by_key(|d| std::cmp::Reverse(d.released_at));
    drop(conn);
    let now = Utc::now().naive_utc().trunc_subsecs(6);
    let mut demo = Demo {
        w,
        lists,
        now,
        clock: std::cell::Cell::new(now),
    };
    let ok = ["HK0000E001", "JP0000E002"];
    let (w1, w2) = ("5001960W01", "5001960W02");
    // XY01: one return in every state.
    // One close to its 45-day arrival limit, two recent.
    let d = demo.take(w1, &ok, 38, 44)?;
    demo.apply(&d, false)?;
    for _ in 0..2 {
        let d = demo.take(w1, &ok, 1, 44)?;
        demo.apply(&d, false)?;
    }
    let d = demo.take(w1, &ok, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "XY01")?;
    let d = demo.take(w1, &ok, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "XY01")?;
    demo.sort(&id, "XY01", true)?;
    let d = demo.take(w1, &ok, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "XY01")?;
    demo.sort(&id, "XY01", false)?;
    demo.inspect(&id, "XY01", 1)?;
    demo.dispose_rest(&id, "XY01", "destroy", "销毁申请 XY-2026-017")?;
    for _ in 0..2 {
        let d = demo.take(w1, &ok, 1, 44)?;
        let id = demo.apply(&d, false)?;
        demo.receive(&id, "XY01")?;
        demo.sort(&id, "XY01", false)?;
        demo.inspect(&id, "XY01", 0)?;
        demo.restock_all(&id, "XY01")?;
    }
    let d = demo.take(w1, &ok, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "XY01")?;
    demo.sort(&id, "XY01", false)?;
    demo.inspect(&id, "XY01", 99)?;
    demo.dispose_rest(&id, "XY01", "exit", "出区核放单 QC500120261100021")?;
    // A parcel arriving after 45 days: received, flagged late, may only leave.
    let d = demo
        .take(w1, &ok, 46, 60)
        .or_else(|_| demo.take(w2, &ok, 46, 60))?;
    let wh = if d.area_code == w1 { "XY01" } else { "GY01" };
    let id = demo.apply(&d, true)?;
    demo.receive(&id, wh)?;
    // One more parcel on its way to XY01, so that the floor has work of every shape at the dock.
    let d = demo.take(w1, &ok, 1, 44)?;
    demo.apply(&d, false)?;
    // GY01: a few more.
    let d = demo.take(w2, &ok, 1, 44)?;
    demo.apply(&d, false)?;
    let d = demo.take(w2, &ok, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "GY01")?;
    demo.sort(&id, "GY01", false)?;
    demo.inspect(&id, "GY01", 0)?;
    demo.restock_all(&id, "GY01")?;
    // KR0000E003: parcels in the warehouse, then rated 失信 — they go on customs hold.
    let kr = ["KR0000E003"];
    let d = demo.take(w1, &kr, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "XY01")?;
    let d = demo.take(w1, &kr, 1, 44)?;
    let id = demo.apply(&d, false)?;
    demo.receive(&id, "XY01")?;
    demo.sort(&id, "XY01", false)?;
    let d = demo
        .take(w1, &kr, 1, 44)
        .or_else(|_| demo.take(w2, &kr, 1, 44))?;
    demo.apply(&d, false)?;
    run(w, |tx| {
        let input = RatingInput {
            rating: "dishonest".into(),
            effective_from: None,
            reference: "重庆海关失信认定〔2026〕8号".into(),
        };
        parties::rate_enterprise(tx, &Actor::system("demo"), "KR0000E003", &input, false)
            .map(|_| ())
    })?;
    Ok(kept)
}

fn load_lists(conn: &mut crate::db::DbConn) -> Result<Vec<DeclarationRow>, AppError> {
    use diesel::prelude::*;
    Ok(crate::db::schema::declarations::table
        .select(DeclarationRow::as_select())
        .load(conn)?)
}

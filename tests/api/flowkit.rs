//! What the return-flow tests share: released lists made over the API, returns brought to
//! any state, the steps as a floor worker of warehouse A does them, ratings, CEB625
//! messages, and a snapshot of everything a refusal must leave alone.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use diesel::prelude::*;
use reqwest::blocking::Client;
use serde_json::{json, Value};

use bonded_returns::audit::{AuditEntry, ChainHead};
use bonded_returns::customs::{self, BaseTransfer, InvtRefund, InvtRefundLine, Qty};
use bonded_returns::db::schema::audit_entries;

use crate::support::*;

pub const EBP: &str = "5001960EBP";
pub const AGENT: &str = "5001960AG1";
pub const LOGISTICS: &str = "5001980L01";
/// The buyer's personal data on every list made here.
pub const BUYER_ID: &str = "500103199001011234";
pub const BUYER_PHONE: &str = "13800138000";
pub const BUYER_NAME: &str = "张伟";

pub const GCODE_1: &str = "3304990099";
pub const BARCODE_1: &str = "4901234567894";
pub const GCODE_2: &str = "3401110000";

static SERIAL: AtomicU64 = AtomicU64::new(1);

fn serial() -> u64 {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// Now, to the second (what both databases store exactly).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

pub fn ago(days: i64) -> DateTime<Utc> {
    now() - Duration::days(days)
}

pub fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap_or_else(|e| panic!("not a time: {v}: {e}"))
        .with_timezone(&Utc)
}

#[derive(Debug, Clone)]
pub struct Line {
    pub gnum: u32,
    pub gcode: String,
    pub gname: String,
    pub qty: i64,
    pub unit: String,
    pub bar_code: Option<String>,
}

/// A declaration list as it is recorded with `POST /declarations`.
#[derive(Debug, Clone)]
pub struct List {
    pub invt_no: String,
    pub order_no: String,
    pub waybill: String,
    pub ebc: String,
    pub agent: String,
    pub area: String,
    pub released_at: DateTime<Utc>,
    pub lines: Vec<Line>,
}

impl List {
    pub fn line(&self, gnum: u32) -> &Line {
        self.lines
            .iter()
            .find(|l| l.gnum == gnum)
            .expect("a line of the list")
    }

    pub fn json(&self) -> Value {
        json!({
            "invt_no": self.invt_no,
            "order_no": self.order_no,
            "ebp_code": EBP,
            "ebp_name": "渝贸通跨境电商平台",
            "ebc_code": self.ebc,
            "ebc_name": "跨境优选电子商务有限公司",
            "agent_code": self.agent,
            "agent_name": "重庆跨境代理服务有限公司",
            "logistics_no": self.waybill,
            "logistics_code": LOGISTICS,
            "logistics_name": "重庆顺达速运有限公司",
            "area_code": self.area,
            "customs_code": "8014",
            "buyer_id_type": "1",
            "buyer_id_number": BUYER_ID,
            "buyer_name": BUYER_NAME,
            "buyer_telephone": BUYER_PHONE,
            "released_at": self.released_at.to_rfc3339(),
            "lines": self.lines.iter().map(|l| json!({
                "gnum": l.gnum, "gcode": l.gcode, "gname": l.gname, "qty": l.qty,
                "unit": l.unit, "bar_code": l.bar_code, "price": "100.5",
            })).collect::<Vec<_>>(),
        })
    }

    /// The CEB625 application for `lines` (gnum, qty) of this list, made at `app_time`.
    pub fn invt_refund(&self, lines: &[(u32, i64)], app_time: DateTime<Utc>) -> InvtRefund {
        InvtRefund {
            guid: customs::new_guid(),
            app_type: "1".into(),
            app_time,
            app_status: "2".into(),
            customs_code: "8014".into(),
            order_no: self.order_no.clone(),
            ebp_code: EBP.into(),
            ebp_name: "渝贸通跨境电商平台".into(),
            ebc_code: self.ebc.clone(),
            ebc_name: "跨境优选电子商务有限公司".into(),
            logistics_no: self.waybill.clone(),
            logistics_code: LOGISTICS.into(),
            logistics_name: "重庆顺达速运有限公司".into(),
            cop_no: None,
            pre_no: None,
            invt_no: self.invt_no.clone(),
            buyer_id_type: "1".into(),
            buyer_id_number: BUYER_ID.into(),
            buyer_name: BUYER_NAME.into(),
            buyer_telephone: BUYER_PHONE.into(),
            agent_code: self.agent.clone(),
            agent_name: "重庆跨境代理服务有限公司".into(),
            reason: "七天无理由退货".into(),
            note: None,
            lines: lines
                .iter()
                .map(|(g, q)| {
                    let l = self.line(*g);
                    InvtRefundLine {
                        gnum: *g,
                        gcode: l.gcode.clone(),
                        gname: l.gname.clone(),
                        qty: Qty::from_units(*q),
                        unit: l.unit.clone(),
                        note: None,
                    }
                })
                .collect(),
        }
    }
}

pub fn base_transfer() -> BaseTransfer {
    BaseTransfer {
        cop_code: AGENT.into(),
        cop_name: "重庆跨境代理服务有限公司".into(),
        dxp_mode: "DXP".into(),
        dxp_id: "DXPENT0000012345".into(),
        note: None,
    }
}

/// One CEB625 message with these applications.
pub fn ceb625(apps: &[InvtRefund]) -> String {
    customs::write_ceb625(apps, &base_transfer(), &customs::new_guid()).expect("a valid CEB625")
}

/// Everything a refused request must leave as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub head: ChainHead,
    pub returns: i64,
    pub declarations: i64,
    pub disposals: i64,
    pub discrepancies: i64,
    pub idempotency: i64,
    pub stock: Value,
    pub views: Vec<Value>,
}

/// A return's view without what moves with the clock.
fn stable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("days_left");
    }
    v
}

/// Parties seeded, and one client per role: admin, supervisor, floor staff of A and of B.
pub struct Kit<'a> {
    pub app: &'a TestApp,
    pub seed: Seed,
    pub admin: Client,
    pub sup: Client,
    pub floor_a: Client,
    pub floor_b: Client,
}

impl<'a> Kit<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let seed = app.seed_parties();
        Self {
            admin: app.admin(),
            sup: app.user_client("supervisor", None),
            floor_a: app.user_client("floor", Some("WH-A")),
            floor_b: app.user_client("floor", Some("WH-B")),
            seed,
            app,
        }
    }

    /// A list for warehouse A's operator, released a day ago, two lines (3 × face cream with a
    /// barcode, 2 × soap without), not yet recorded.
    pub fn list(&self) -> List {
        let n = serial();
        List {
            invt_no: format!("80142026I{n:09}"),
            order_no: format!("YMT2026{n:010}"),
            waybill: format!("SF{n:012}"),
            ebc: self.seed.ecommerce.clone(),
            agent: AGENT.into(),
            area: self.seed.a.operator.clone(),
            released_at: ago(1),
            lines: vec![
                Line {
                    gnum: 1,
                    gcode: GCODE_1.into(),
                    gname: "保湿面霜".into(),
                    qty: 3,
                    unit: "142".into(),
                    bar_code: Some(BARCODE_1.into()),
                },
                Line {
                    gnum: 2,
                    gcode: GCODE_2.into(),
                    gname: "植物精油香皂".into(),
                    qty: 2,
                    unit: "011".into(),
                    bar_code: None,
                },
            ],
        }
    }

    #[track_caller]
    pub fn declare(&self, list: &List) {
        self.app
            .post_json(&self.admin, "/api/v1/declarations", &list.json())
            .assert_status(201);
    }

    /// The default list, recorded.
    #[track_caller]
    pub fn released(&self) -> List {
        let l = self.list();
        self.declare(&l);
        l
    }

    pub fn apply_as(&self, client: &Client, list: &List, lines: &[(u32, i64)]) -> Reply {
        self.app.post_json(
            client,
            "/api/v1/returns",
            &json!({
                "invt_no": list.invt_no,
                "logistics_no": list.waybill,
                "reason": "七天无理由退货",
                "lines": lines.iter().map(|(g, q)| json!({"gnum": g, "qty": q})).collect::<Vec<_>>(),
            }),
        )
    }

    pub fn apply(&self, list: &List, lines: &[(u32, i64)]) -> Reply {
        self.apply_as(&self.floor_a, list, lines)
    }

    /// A return for `lines` of `list`, declared.
    #[track_caller]
    pub fn new_return(&self, list: &List, lines: &[(u32, i64)]) -> String {
        let r = self.apply(list, lines);
        r.assert_status(201);
        assert_eq!(r.json["state"], "declared", "{}", r.text);
        r.json["id"].as_str().expect("an id").to_string()
    }

    /// A return for the whole default list.
    #[track_caller]
    pub fn whole_return(&self) -> (List, String) {
        let l = self.released();
        let id = self.new_return(&l, &[(1, 3), (2, 2)]);
        (l, id)
    }

    pub fn step(&self, client: &Client, id: &str, step: &str, body: &Value) -> Reply {
        self.app
            .post_json(client, &format!("/api/v1/returns/{id}/{step}"), body)
    }

    pub fn receive(&self, id: &str) -> Reply {
        self.step(
            &self.floor_a,
            id,
            "receive",
            &json!({"warehouse": self.seed.a.warehouse, "camera": self.seed.a.camera}),
        )
    }

    /// Sorts by gnum into a bin of `area` of warehouse A.
    pub fn sort(&self, id: &str, items: &[(u32, i64)], area: &str) -> Reply {
        self.step(
            &self.floor_a,
            id,
            "sort",
            &json!({
                "items": items.iter().map(|(g, q)| json!({"gnum": g, "qty": q})).collect::<Vec<_>>(),
                "bin": self.seed.a.bin(area),
            }),
        )
    }

    /// Grades per line: (gnum, intact, damaged_packaging, used, defective, not_original).
    pub fn inspect(&self, id: &str, lines: &[(u32, i64, i64, i64, i64, i64)]) -> Reply {
        self.step(
            &self.floor_a,
            id,
            "inspect",
            &json!({"lines": lines.iter().map(|(g, a, b, c, d, e)| json!({
                "gnum": g, "intact": a, "damaged_packaging": b, "used": c, "defective": d, "not_original": e,
            })).collect::<Vec<_>>()}),
        )
    }

    pub fn restock(&self, id: &str, gnum: u32, qty: i64) -> Reply {
        self.restock_into(id, gnum, qty, self.seed.a.bin("restock"))
    }

    pub fn restock_into(&self, id: &str, gnum: u32, qty: i64, bin: &str) -> Reply {
        self.step(
            &self.floor_a,
            id,
            "restock",
            &json!({"gnum": gnum, "qty": qty, "bin": bin}),
        )
    }

    pub fn dispose(&self, id: &str, gnum: u32, qty: i64, route: &str) -> Reply {
        self.step(
            &self.floor_a,
            id,
            "dispose",
            &json!({"gnum": gnum, "qty": qty, "route": route, "reference": format!("{route}-doc-{gnum}")}),
        )
    }

    pub fn hold(&self, id: &str) -> Reply {
        self.step(&self.sup, id, "hold", &json!({"reason": "海关布控查验"}))
    }

    pub fn release(&self, id: &str) -> Reply {
        self.step(&self.sup, id, "release", &json!({"reason": "查验无异常"}))
    }

    /// A whole-list return of the default list brought to `state` (declared, received,
    /// sorted, inspected with everything intact).
    #[track_caller]
    pub fn return_in(&self, state: &str) -> (List, String) {
        let (l, id) = self.whole_return();
        let steps: &[&str] = match state {
            "declared" => &[],
            "received" => &["receive"],
            "sorted" => &["receive", "sort"],
            "inspected" => &["receive", "sort", "inspect"],
            other => panic!("no way to {other}"),
        };
        for s in steps {
            let r = match *s {
                "receive" => self.receive(&id),
                "sort" => self.sort(&id, &[(1, 3), (2, 2)], "pending_inspection"),
                _ => self.inspect(&id, &[(1, 3, 0, 0, 0, 0), (2, 2, 0, 0, 0, 0)]),
            };
            r.assert_status(200);
        }
        assert_eq!(self.state(&id), state);
        (l, id)
    }

    /// The return as a supervisor sees it.
    #[track_caller]
    pub fn view(&self, id: &str) -> Value {
        let r = self.app.get(&self.sup, &format!("/api/v1/returns/{id}"));
        r.assert_status(200);
        r.json.clone()
    }

    pub fn state(&self, id: &str) -> String {
        self.view(id)["state"].as_str().unwrap_or("").to_string()
    }

    /// All bonded stock rows as a supervisor reads them.
    pub fn stock(&self) -> Value {
        let r = self.app.get(&self.sup, "/api/v1/stock");
        r.assert_status(200);
        r.json["items"].clone()
    }

    /// Bonded stock of (owner, gcode, bin); 0 when there is no row.
    pub fn stock_qty(&self, owner: &str, gcode: &str, bin: &str) -> i64 {
        let r = self.app.get(
            &self.sup,
            &format!("/api/v1/stock?owner={owner}&gcode={gcode}&bin={bin}"),
        );
        r.assert_status(200);
        r.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["qty"].as_i64().expect("qty"))
            .sum()
    }

    /// Makes an enterprise directly (ratings need one).
    pub fn enterprise(&self, code: &str, kinds: &'static [&'static str]) {
        let code = code.to_string();
        self.app
            .write(move |tx| enterprise(tx, &code, "测试企业", kinds))
            .expect("the enterprise is made");
    }

    /// Records a rating as the admin; `effective_from` defaults to now.
    pub fn rate(&self, code: &str, rating: &str, effective_from: Option<DateTime<Utc>>) -> Reply {
        let mut body =
            json!({"rating": rating, "reference": format!("署信〔2026〕{}号", serial())});
        if let Some(t) = effective_from {
            body["effective_from"] = json!(t.to_rfc3339());
        }
        self.app.post_json(
            &self.admin,
            &format!("/api/v1/enterprises/{code}/ratings"),
            &body,
        )
    }

    /// Posts a customs XML message to `/imports`.
    pub fn import(&self, client: &Client, xml: impl Into<String>) -> Reply {
        self.app.send(
            client
                .post(self.app.url("/api/v1/imports"))
                .header("content-type", "application/xml")
                .body(xml.into()),
        )
    }

    /// The audit entries about return `id`, oldest first, read from the database.
    pub fn entries_of(&self, id: &str) -> Vec<AuditEntry> {
        audit_entries::table
            .filter(audit_entries::entity_kind.eq("return"))
            .filter(audit_entries::entity_id.eq(id))
            .order(audit_entries::seq.asc())
            .select(AuditEntry::as_select())
            .load(&mut *self.app.conn())
            .expect("the entries")
    }

    /// Every audit entry, oldest first.
    pub fn all_entries(&self) -> Vec<AuditEntry> {
        audit_entries::table
            .order(audit_entries::seq.asc())
            .select(AuditEntry::as_select())
            .load(&mut *self.app.conn())
            .expect("the entries")
    }

    /// `state` before → after of each entry about `id` that changed it.
    pub fn state_changes(&self, id: &str) -> Vec<(String, String, String)> {
        self.entries_of(id)
            .iter()
            .filter_map(|e| {
                let c: Value = serde_json::from_str(&e.changes).ok()?;
                let s = c.get("state")?;
                Some((
                    e.action.clone(),
                    s["before"].as_str().unwrap_or("").to_string(),
                    s["after"].as_str().unwrap_or("").to_string(),
                ))
            })
            .collect()
    }

    pub fn snapshot(&self, ids: &[&str]) -> Snapshot {
        Snapshot {
            head: self.app.head(),
            returns: self.app.count("returns"),
            declarations: self.app.count("declarations"),
            disposals: self.app.count("disposals"),
            discrepancies: self.app.count("return_discrepancies"),
            idempotency: self.app.count("idempotency_keys"),
            stock: self.stock(),
            views: ids.iter().map(|id| stable(self.view(id))).collect(),
        }
    }

    /// Asserts that nothing changed since `before` but the audit entry recording a refusal
    /// for an excluded party (`refused.enterprise_excluded`, the attempt, not a change).
    #[track_caller]
    pub fn assert_only_refusal_recorded(&self, before: &Snapshot, ids: &[&str], path: &str) {
        let new: Vec<AuditEntry> = self
            .all_entries()
            .into_iter()
            .filter(|e| e.seq > before.head.seq)
            .collect();
        assert_eq!(new.len(), 1, "exactly the refusal is recorded: {new:#?}");
        assert_eq!(new[0].action, "refused.enterprise_excluded");
        assert_eq!(
            (new[0].entity_kind.as_str(), new[0].entity_id.as_str()),
            ("request", path)
        );
        assert!(new[0].reason.as_deref().is_some_and(|r| !r.is_empty()));
        let after = self.snapshot(ids);
        assert_eq!(
            Snapshot {
                head: after.head.clone(),
                ..before.clone()
            },
            after,
            "a refused request changed something"
        );
    }

    /// Asserts that nothing changed since `before`.
    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot, ids: &[&str]) {
        let after = self.snapshot(ids);
        if before.head != after.head {
            let new: Vec<String> = self
                .all_entries()
                .iter()
                .filter(|e| e.seq > before.head.seq)
                .map(|e| {
                    format!(
                        "#{} {} {} by {}: {}",
                        e.seq, e.action, e.entity_id, e.actor, e.changes
                    )
                })
                .collect();
            panic!("a refused request wrote to the audit log: {new:#?}");
        }
        assert_eq!(before, &after, "a refused request changed something");
    }
}

/// (action, before, after) for readable assertions.
pub fn change(action: &str, before: &str, after: &str) -> (String, String, String) {
    (action.into(), before.into(), after.into())
}

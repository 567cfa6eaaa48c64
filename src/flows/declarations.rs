//! Declaration lists that left the zone (CEB621) and their release (CEB622 status 800),
//! from JSON or customs XML. Recording the same list twice changes nothing.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, Changes, NewEntry};
use crate::customs::{self, Inventory, InventoryReturn, STATUS_RELEASED};
use crate::db::returns::{self as store, DeclarationLineRow, DeclarationRow};
use crate::db::writer::Tx;
use crate::domain::ids;
use crate::error::{AppError, FieldError};

/// Trade modes of bonded online-shopping import (网购保税进口 1210, 网购保税进口A 1239): goods
/// that were in the zone and left it, the only ones a return center warehouse takes back.
pub const DEFAULT_TRADE_MODES: [&str; 2] = ["1210", "1239"];

static TRADE_MODES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Sets the trade modes this process accepts (`BR_TRADE_MODES`, read with the settings).
pub fn configure_trade_modes(modes: Vec<String>) {
    let _ = TRADE_MODES.set(modes);
}

fn trade_modes() -> Vec<String> {
    match TRADE_MODES.get() {
        Some(m) => m.clone(),
        None => DEFAULT_TRADE_MODES.map(String::from).to_vec(),
    }
}

/// Refuses a list whose trade mode is not an accepted bonded online-shopping import.
fn check_trade_mode(field: &str, mode: &str) -> Result<(), AppError> {
    let accepted = trade_modes();
    if accepted.iter().any(|m| m == mode) {
        return Ok(());
    }
    let what = match mode {
        "9610" => {
            "9610 (直购进口, direct-purchase import) is not a bonded online-shopping import: \
                   such a parcel never was in the zone, so it cannot be returned to it"
                .to_string()
        }
        other => format!("{other} is not a bonded online-shopping import"),
    };
    Err(AppError::validation(
        field,
        format!(
            "{what}; this warehouse takes lists of trade mode {} only",
            accepted.join(" or ")
        ),
    ))
}

/// What recording one list or receipt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationLineInput {
    /// The line number, unique in the list.
    #[schema(minimum = 1, maximum = 9999)]
    pub gnum: u32,
    #[schema(schema_with = crate::domain::ids::schema::gcode)]
    pub gcode: String,
    #[schema(schema_with = crate::domain::ids::schema::text_250)]
    pub gname: String,
    #[schema(minimum = 1)]
    pub qty: i64,
    /// The 3-digit unit code, e.g. 011.
    #[schema(pattern = "^[0-9]{3}$")]
    pub unit: String,
    /// The product barcode (none, or 无, when the product has none).
    #[schema(max_length = 50)]
    pub bar_code: Option<String>,
    /// The unit price, a decimal number ≥ 0.
    #[schema(
        pattern = "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$",
        max_length = 25
    )]
    pub price: String,
}

/// A released declaration list, as JSON.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationInput {
    #[schema(schema_with = crate::domain::ids::schema::invt_no)]
    pub invt_no: String,
    #[schema(schema_with = crate::domain::ids::schema::text_60)]
    pub order_no: String,
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub ebp_code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub ebp_name: String,
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub ebc_code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub ebc_name: String,
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub agent_code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub agent_name: String,
    #[schema(schema_with = crate::domain::ids::schema::waybill)]
    pub logistics_no: String,
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub logistics_code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub logistics_name: String,
    /// The warehousing enterprise in the zone that runs the return center warehouse.
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub area_code: String,
    /// The customs office: 4 digits.
    #[schema(pattern = "^[0-9]{4}$")]
    pub customs_code: String,
    /// 1 (ID card) or 2 (other).
    #[schema(pattern = "^[12]$")]
    pub buyer_id_type: String,
    #[schema(schema_with = crate::domain::ids::schema::text_60)]
    pub buyer_id_number: String,
    #[schema(schema_with = crate::domain::ids::schema::text_60)]
    pub buyer_name: String,
    #[schema(schema_with = crate::domain::ids::schema::text_30)]
    pub buyer_telephone: String,
    /// Release time (CEB622 status 800); starts the 30/45-day clocks.
    pub released_at: DateTime<FixedOffset>,
    /// The list's trade mode, 1210 when left out: only bonded online-shopping imports
    /// (`BR_TRADE_MODES`, by default 1210 and 1239) are taken.
    #[schema(pattern = "^[0-9]{4}$")]
    pub trade_mode: Option<String>,
    #[schema(min_items = 1, max_items = 99)]
    pub lines: Vec<DeclarationLineInput>,
}

fn check<T>(errors: &mut Vec<FieldError>, r: Result<T, AppError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(AppError::Validation(mut v)) => {
            errors.append(&mut v);
            None
        }
        Err(_) => None,
    }
}

fn bar_code(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|b| !b.is_empty() && *b != "无")
        .map(String::from)
}

impl DeclarationInput {
    /// Checks every field (collecting all problems) and builds the rows to store.
    pub fn parse(
        &self,
        now: chrono::NaiveDateTime,
    ) -> Result<(DeclarationRow, Vec<DeclarationLineRow>), AppError> {
        let mut e = Vec::new();
        if let Some(mode) = &self.trade_mode {
            check(&mut e, check_trade_mode("trade_mode", mode.trim()));
        }
        let invt_no = check(&mut e, ids::invt_no("invt_no", &self.invt_no));
        let order_no = check(&mut e, ids::text("order_no", &self.order_no, 60));
        let codes: Vec<Option<String>> = [
            ("ebp_code", &self.ebp_code),
            ("ebc_code", &self.ebc_code),
            ("agent_code", &self.agent_code),
            ("logistics_code", &self.logistics_code),
            ("area_code", &self.area_code),
        ]
        .iter()
        .map(|(f, v)| check(&mut e, ids::enterprise_code(f, v)))
        .collect();
        let names: Vec<Option<String>> = [
            ("ebp_name", &self.ebp_name),
            ("ebc_name", &self.ebc_name),
            ("agent_name", &self.agent_name),
            ("logistics_name", &self.logistics_name),
        ]
        .iter()
        .map(|(f, v)| check(&mut e, ids::text(f, v, 100)))
        .collect();
        let waybill = check(&mut e, ids::waybill("logistics_no", &self.logistics_no));
        let customs_code = self.customs_code.trim();
        if customs_code.len() != 4 || !customs_code.chars().all(|c| c.is_ascii_digit()) {
            e.push(FieldError::new("customs_code", "4 digits"));
        }
        if !["1", "2"].contains(&self.buyer_id_type.trim()) {
            e.push(FieldError::new("buyer_id_type", "1 (ID card) or 2 (other)"));
        }
        let id_no = check(
            &mut e,
            ids::text("buyer_id_number", &self.buyer_id_number, 60),
        );
        let buyer = check(&mut e, ids::text("buyer_name", &self.buyer_name, 60));
        let phone = check(
            &mut e,
            ids::text("buyer_telephone", &self.buyer_telephone, 30),
        );
        if self.lines.is_empty() || self.lines.len() > 99 {
            e.push(FieldError::new("lines", "1 to 99 lines"));
        }
        let mut lines = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            let f = |n: &str| format!("lines[{i}].{n}");
            if l.gnum == 0 || l.gnum > 9999 || self.lines[..i].iter().any(|o| o.gnum == l.gnum) {
                e.push(FieldError::new(f("gnum"), "1–9999 and unique in the list"));
            }
            let gcode = check(&mut e, ids::gcode(&f("gcode"), &l.gcode));
            let gname = check(&mut e, ids::text(&f("gname"), &l.gname, 250));
            if l.qty <= 0 {
                e.push(FieldError::new(
                    f("qty"),
                    "a whole number of units above zero",
                ));
            }
            if l.unit.trim().len() != 3 || !l.unit.trim().chars().all(|c| c.is_ascii_digit()) {
                e.push(FieldError::new(f("unit"), "a 3-digit unit code, e.g. 011"));
            }
            if let Some(b) = &l.bar_code {
                if b.chars().count() > 50 {
                    e.push(FieldError::new(f("bar_code"), "at most 50 characters"));
                }
            }
            let price = l.price.trim();
            if price.is_empty()
                || price.len() > 25
                || price
                    .parse::<f64>()
                    .map(|p| p < 0.0 || !p.is_finite())
                    .unwrap_or(true)
            {
                e.push(FieldError::new(f("price"), "a decimal number ≥ 0"));
            }
            if let (Some(gcode), Some(gname)) = (gcode, gname) {
                lines.push(DeclarationLineRow {
                    invt_no: String::new(),
                    gnum: l.gnum as i32,
                    gcode,
                    gname,
                    qty: l.qty,
                    unit: l.unit.trim().into(),
                    bar_code: bar_code(l.bar_code.as_deref()),
                    price: price.into(),
                });
            }
        }
        if !e.is_empty() {
            return Err(AppError::Validation(e));
        }
        let (Some(invt_no), Some(order_no), Some(waybill), Some(id_no), Some(buyer), Some(phone)) =
            (invt_no, order_no, waybill, id_no, buyer, phone)
        else {
            return Err(AppError::validation("body", "invalid declaration"));
        };
        let c: Vec<String> = codes.into_iter().flatten().collect();
        let n: Vec<String> = names.into_iter().flatten().collect();
        for l in &mut lines {
            l.invt_no = invt_no.clone();
        }
        Ok((
            DeclarationRow {
                invt_no,
                order_no,
                ebp_code: c[0].clone(),
                ebp_name: n[0].clone(),
                ebc_code: c[1].clone(),
                ebc_name: n[1].clone(),
                agent_code: c[2].clone(),
                agent_name: n[2].clone(),
                logistics_no: waybill,
                logistics_code: c[3].clone(),
                logistics_name: n[3].clone(),
                area_code: c[4].clone(),
                customs_code: customs_code.into(),
                buyer_id_type: self.buyer_id_type.trim().into(),
                buyer_id_number: id_no,
                buyer_name: buyer,
                buyer_telephone: phone,
                released_at: Some(self.released_at.naive_utc()),
                return_status: Some(STATUS_RELEASED),
                created_at: now,
            },
            lines,
        ))
    }
}

/// Rows from a parsed CEB621 list (not yet released: CEB622 brings the release).
pub fn from_inventory(
    inv: &Inventory,
    now: chrono::NaiveDateTime,
) -> Result<(DeclarationRow, Vec<DeclarationLineRow>), AppError> {
    check_trade_mode("tradeMode", &inv.trade_mode)?;
    let mut lines = Vec::new();
    for l in &inv.lines {
        let qty = l.qty.whole_units().filter(|q| *q > 0).ok_or_else(|| {
            AppError::validation(
                format!("InventoryList[{}]/qty", l.gnum),
                "only whole units are supported (policy)",
            )
        })?;
        lines.push(DeclarationLineRow {
            invt_no: inv.invt_no.clone(),
            gnum: l.gnum as i32,
            gcode: l.gcode.clone(),
            gname: l.gname.clone(),
            qty,
            unit: l.unit.clone(),
            bar_code: bar_code(l.bar_code.as_deref()),
            price: l.price.as_str().to_string(),
        });
    }
    Ok((
        DeclarationRow {
            invt_no: inv.invt_no.clone(),
            order_no: inv.order_no.clone(),
            ebp_code: inv.ebp_code.clone(),
            ebp_name: inv.ebp_name.clone(),
            ebc_code: inv.ebc_code.clone(),
            ebc_name: inv.ebc_name.clone(),
            agent_code: inv.agent_code.clone(),
            agent_name: inv.agent_name.clone(),
            logistics_no: inv.logistics_no.clone(),
            logistics_code: inv.logistics_code.clone(),
            logistics_name: inv.logistics_name.clone(),
            area_code: inv.area_code.clone(),
            customs_code: inv.customs_code.clone(),
            buyer_id_type: inv.buyer_id_type.clone(),
            buyer_id_number: inv.buyer_id_number.clone(),
            buyer_name: inv.buyer_name.clone(),
            buyer_telephone: inv.buyer_telephone.clone(),
            released_at: None,
            return_status: None,
            created_at: now,
        },
        lines,
    ))
}

/// Records a list; the same list again is `Unchanged`, different content for a known invtNo
/// is refused (a declared list does not change after the fact).
pub fn record(
    tx: &mut Tx<'_>,
    actor: &Actor,
    row: DeclarationRow,
    lines: Vec<DeclarationLineRow>,
) -> Result<Outcome, AppError> {
    record_flagged(tx, actor, row, lines, &[])
}

/// [`record`], keeping in the list's audit entry the odd values of fields the warehouse does
/// not use (`flagged`, in plain words), so that what customs sent stays on record.
pub fn record_flagged(
    tx: &mut Tx<'_>,
    actor: &Actor,
    mut row: DeclarationRow,
    lines: Vec<DeclarationLineRow>,
    flagged: &[String],
) -> Result<Outcome, AppError> {
    if let Some(existing) = store::declaration(tx.conn, &row.invt_no)? {
        let existing_lines = store::declaration_lines(tx.conn, &row.invt_no)?;
        let mut same = existing.clone();
        same.released_at = row.released_at.or(existing.released_at);
        same.return_status = row.return_status.or(existing.return_status);
        row.created_at = existing.created_at;
        let content_equal = DeclarationRow {
            released_at: None,
            return_status: None,
            ..existing.clone()
        } == DeclarationRow {
            released_at: None,
            return_status: None,
            ..row.clone()
        } && existing_lines == lines;
        if !content_equal {
            return Err(AppError::Conflict(format!(
                "list {} is already recorded with different content",
                row.invt_no
            )));
        }
        if row.released_at.is_some() && existing.released_at != row.released_at {
            return release(tx, actor, &row.invt_no, STATUS_RELEASED, row.released_at);
        }
        return Ok(Outcome::Unchanged);
    }
    store::insert_declaration(tx.conn, &row, &lines)?;
    let mut changes = Changes::new();
    if !flagged.is_empty() {
        changes = changes.created("flagged", flagged);
    }
    tx.audit(
        actor,
        NewEntry {
            action: "declaration.record",
            entity_kind: "declaration",
            entity_id: &row.invt_no,
            warehouse: None,
            enterprise: Some(&row.ebc_code),
            changes: changes
                .created("order_no", &row.order_no)
                .created("logistics_no", &row.logistics_no)
                .created("ebc_code", &row.ebc_code)
                .created("agent_code", &row.agent_code)
                .created("area_code", &row.area_code)
                .created("released_at", row.released_at)
                .created(
                    "lines",
                    lines
                        .iter()
                        .map(|l| format!("{}:{}×{}", l.gnum, l.gcode, l.qty))
                        .collect::<Vec<_>>(),
                ),
            reason: None,
        },
    )?;
    Ok(Outcome::Created)
}

/// Records customs' receipt for a list; status 800 sets the release time.
pub fn release(
    tx: &mut Tx<'_>,
    actor: &Actor,
    invt_no: &str,
    status: i32,
    at: Option<chrono::NaiveDateTime>,
) -> Result<Outcome, AppError> {
    let d = store::declaration(tx.conn, invt_no)?.ok_or_else(|| {
        AppError::NotFound(format!(
            "list {invt_no} is unknown: import its CEB621 first"
        ))
    })?;
    let released_at = if status == STATUS_RELEASED {
        at.or(d.released_at)
    } else {
        d.released_at
    };
    if d.return_status == Some(status) && d.released_at == released_at {
        return Ok(Outcome::Unchanged);
    }
    // A receipt from before the release already recorded (receipts arrive out of order, and a
    // message may carry a list's earlier statuses, e.g. 120 then 800): it changes nothing, so
    // the same message imported again changes nothing either.
    let earlier = matches!((at, d.released_at), (Some(at), Some(released)) if at <= released);
    if status != STATUS_RELEASED && d.return_status == Some(STATUS_RELEASED) && earlier {
        return Ok(Outcome::Unchanged);
    }
    store::set_release(tx.conn, invt_no, status, released_at)?;
    tx.audit(
        actor,
        NewEntry {
            action: "declaration.receipt",
            entity_kind: "declaration",
            entity_id: invt_no,
            warehouse: None,
            enterprise: Some(&d.ebc_code),
            changes: Changes::new()
                .set("return_status", d.return_status, status)
                .set("released_at", d.released_at, released_at),
            reason: None,
        },
    )?;
    Ok(Outcome::Updated)
}

/// What a CEB622 receipt did: recorded on its list, or noted and skipped (why, in plain words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    Recorded(Outcome),
    Skipped(String),
}

/// A CEB622 receipt. A release (800) must name a list recorded here with the same platform,
/// e-commerce enterprise and agent: its time starts the 30- and 45-day clocks. Any other
/// status is recorded on its list; with no list to record it on (an interim receipt sent
/// before customs numbered the list, or a list not imported here) it is noted and skipped.
pub fn record_receipt(
    tx: &mut Tx<'_>,
    actor: &Actor,
    r: &InventoryReturn,
) -> Result<Receipt, AppError> {
    let status = format!(
        "status {} ({})",
        r.return_status,
        customs::status_meaning(r.return_status)
    );
    let Some(invt_no) = r.invt_no.as_deref() else {
        return Ok(Receipt::Skipped(format!(
            "{status}: an interim receipt sent before customs numbered the list; nothing to record"
        )));
    };
    let Some(list) = store::declaration(tx.conn, invt_no)? else {
        if r.is_released() {
            return Err(AppError::NotFound(format!(
                "list {invt_no} is unknown: import its CEB621 first"
            )));
        }
        return Ok(Receipt::Skipped(format!(
            "{status} for list {invt_no}, which is not recorded here; nothing to record"
        )));
    };
    // The receipt must be this list's: the same parties, as a CEB625 must name them.
    let mut errors = Vec::new();
    for (field, given, listed) in [
        ("ebpCode", &r.ebp_code, &list.ebp_code),
        ("ebcCode", &r.ebc_code, &list.ebc_code),
        ("agentCode", &r.agent_code, &list.agent_code),
    ] {
        if given != listed {
            errors.push(FieldError::new(
                field,
                format!("list {invt_no} has {listed}, not {given}: this receipt is not the list's, so it is not recorded"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    release(
        tx,
        actor,
        invt_no,
        r.return_status,
        Some(r.return_time.naive_utc()),
    )
    .map(Receipt::Recorded)
}

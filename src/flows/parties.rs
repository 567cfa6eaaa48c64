//! Administration of parties and places: enterprises, credit ratings, warehouses, bins, cameras.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, Changes, NewEntry};
use crate::db::parties::{
    self as store, BinRow, CameraRow, EnterpriseRow, NewRating, WarehouseRow,
};
use crate::db::writer::Tx;
use crate::domain::credit::CreditRating;
use crate::domain::ids;
use crate::domain::roles::{BIN_AREAS, ENTERPRISE_KINDS};
use crate::error::{AppError, FieldError};

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseInput {
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub name: String,
    #[schema(schema_with = crate::domain::ids::schema::enterprise_kinds)]
    pub kinds: Vec<String>,
}

pub fn parse_kinds(kinds: &[String]) -> Result<String, AppError> {
    if kinds.is_empty() {
        return Err(AppError::broke(
            "kinds",
            "give at least one kind",
            "required",
            None,
        ));
    }
    let mut out: Vec<&str> = Vec::new();
    for k in kinds {
        let k = ENTERPRISE_KINDS
            .iter()
            .find(|x| **x == k.as_str())
            .ok_or_else(|| {
                AppError::Validation(vec![FieldError::one_of("kinds", &ENTERPRISE_KINDS)])
            })?;
        if !out.contains(k) {
            out.push(k);
        }
    }
    Ok(out.join(","))
}

pub fn create_enterprise(
    tx: &mut Tx<'_>,
    actor: &Actor,
    input: &EnterpriseInput,
) -> Result<EnterpriseRow, AppError> {
    let mut errors = Vec::new();
    let code = ids::enterprise_code("code", &input.code)
        .map_err(|e| collect(&mut errors, e))
        .ok();
    let name = ids::text("name", &input.name, 100)
        .map_err(|e| collect(&mut errors, e))
        .ok();
    let kinds = parse_kinds(&input.kinds)
        .map_err(|e| collect(&mut errors, e))
        .ok();
    let (Some(code), Some(name), Some(kinds)) = (code, name, kinds) else {
        return Err(AppError::Validation(errors));
    };
    if store::enterprise(tx.conn, &code)?.is_some() {
        return Err(AppError::AlreadyExists {
            kind: "enterprise",
            id: code.clone(),
        });
    }
    let row = EnterpriseRow {
        code: code.clone(),
        name,
        kinds,
        created_at: tx.now,
    };
    store::insert_enterprise(tx.conn, &row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "enterprise.create",
            entity_kind: "enterprise",
            entity_id: &code,
            warehouse: None,
            enterprise: Some(&code),
            changes: Changes::new()
                .created("name", &row.name)
                .created("kinds", &row.kinds),
            reason: None,
        },
    )?;
    Ok(row)
}

fn collect(errors: &mut Vec<FieldError>, e: AppError) {
    if let AppError::Validation(mut v) = e {
        errors.append(&mut v);
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// advanced_certified, certified, regular, dishonest, seriously_dishonest (or the Order 237
    /// values general_certified, general_credit)
    #[schema(value_type = CreditRating)]
    pub rating: String,
    /// RFC 3339; defaults to now.
    pub effective_from: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// The customs decision or notice the rating comes from.
    #[schema(schema_with = crate::domain::ids::schema::text_200)]
    pub reference: String,
}

/// What recording a rating does to the flow, shown before saving.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RatingEffect {
    /// Returns now in a warehouse that go on customs hold.
    pub returns_put_on_hold: usize,
    /// Warehouses this enterprise operates, which can do nothing while the rating is in force.
    pub warehouses_blocked: Vec<String>,
}

pub struct ParsedRating {
    pub rating: CreditRating,
    pub effective_from: NaiveDateTime,
    pub reference: String,
}

pub fn parse_rating(input: &RatingInput, now: NaiveDateTime) -> Result<ParsedRating, AppError> {
    let rating = CreditRating::parse(input.rating.trim()).ok_or_else(|| {
        AppError::validation(
            "rating",
            "use advanced_certified, certified, regular, dishonest, seriously_dishonest, general_certified or general_credit",
        )
    })?;
    let reference = ids::text("reference", &input.reference, 200)?;
    let effective_from = input.effective_from.map(|t| t.naive_utc()).unwrap_or(now);
    Ok(ParsedRating {
        rating,
        effective_from,
        reference,
    })
}

/// Records a rating; when it excludes and is already in force, the enterprise's returns in
/// the warehouse go on hold in the same transaction.
pub fn rate_enterprise(
    tx: &mut Tx<'_>,
    actor: &Actor,
    code: &str,
    input: &RatingInput,
    dry_run: bool,
) -> Result<(Option<i64>, ParsedRating, RatingEffect), AppError> {
    let ent = store::enterprise(tx.conn, code)?
        .ok_or_else(|| AppError::NotFound(format!("enterprise {code} does not exist")))?;
    let parsed = parse_rating(input, tx.now)?;
    let mut effect = RatingEffect::default();
    let in_force = parsed.effective_from <= tx.now;
    if parsed.rating.excludes() {
        effect.warehouses_blocked = store::warehouses_of_operator(tx.conn, code)?;
    }
    let to_hold = if parsed.rating.excludes() && in_force {
        super::returns::hold::open_returns_of_party(tx.conn, code)?
    } else {
        Vec::new()
    };
    effect.returns_put_on_hold = to_hold.len();
    if dry_run {
        return Ok((None, parsed, effect));
    }
    let id = store::insert_rating(
        tx.conn,
        &NewRating {
            enterprise_code: code,
            rating: parsed.rating.as_str(),
            effective_from: parsed.effective_from,
            reference: &parsed.reference,
            recorded_by: &actor.username,
            recorded_at: tx.now,
        },
    )?;
    let previous = super::eligibility_rating_before(tx.conn, code, id, parsed.effective_from)?;
    tx.audit(
        actor,
        NewEntry {
            action: "enterprise.rate",
            entity_kind: "enterprise",
            entity_id: code,
            warehouse: None,
            enterprise: Some(code),
            changes: Changes::new()
                .set("rating", previous, parsed.rating.as_str())
                .created("effective_from", parsed.effective_from)
                .created("reference", &parsed.reference),
            reason: Some(&format!("{} {}", ent.name, parsed.rating.chinese())),
        },
    )?;
    let reason = format!(
        "party {code} rated {} ({}) under {}",
        parsed.rating.as_str(),
        parsed.rating.chinese(),
        parsed.reference
    );
    for id in &to_hold {
        super::returns::hold::hold_return(tx, actor, id, &reason)?;
    }
    Ok((Some(id), parsed, effect))
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseInput {
    #[schema(schema_with = crate::domain::ids::schema::warehouse_code)]
    pub code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub name: String,
    /// The operator enterprise's code.
    #[schema(schema_with = crate::domain::ids::schema::enterprise_code)]
    pub operator: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub zone: String,
}

pub fn create_warehouse(
    tx: &mut Tx<'_>,
    actor: &Actor,
    input: &WarehouseInput,
) -> Result<WarehouseRow, AppError> {
    let code = ids::place_code("code", &input.code, 20)?;
    let name = ids::text("name", &input.name, 100)?;
    let zone = ids::text("zone", &input.zone, 100)?;
    let operator = ids::enterprise_code("operator", &input.operator)?;
    let op = store::enterprise(tx.conn, &operator)?.ok_or_else(|| {
        AppError::broke(
            "operator",
            format!("enterprise {operator} does not exist"),
            "unknown",
            None,
        )
    })?;
    if !op.kinds.split(',').any(|k| k == "warehouse_operator") {
        return Err(AppError::validation(
            "operator",
            format!("enterprise {operator} is not a warehouse operator"),
        ));
    }
    super::eligibility::ensure_not_excluded(
        tx.conn,
        crate::error::Party::Operator,
        &operator,
        &op.name,
        tx.now,
    )?;
    if store::warehouse(tx.conn, &code)?.is_some() {
        return Err(AppError::AlreadyExists {
            kind: "warehouse",
            id: code.clone(),
        });
    }
    let row = WarehouseRow {
        code: code.clone(),
        name,
        operator_code: operator.clone(),
        zone,
        created_at: tx.now,
    };
    store::insert_warehouse(tx.conn, &row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "warehouse.create",
            entity_kind: "warehouse",
            entity_id: &code,
            warehouse: Some(&code),
            enterprise: Some(&operator),
            changes: Changes::new()
                .created("name", &row.name)
                .created("operator", &row.operator_code)
                .created("zone", &row.zone),
            reason: None,
        },
    )?;
    Ok(row)
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BinInput {
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub code: String,
    /// receiving, pending_inspection, discrepancy, hold, restock or exit
    #[schema(schema_with = crate::domain::ids::schema::bin_area)]
    pub area: String,
}

pub fn create_bin(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    input: &BinInput,
) -> Result<BinRow, AppError> {
    let code = ids::place_code("code", &input.code, 30)?;
    let area = BIN_AREAS
        .iter()
        .find(|a| **a == input.area.trim())
        .ok_or_else(|| AppError::Validation(vec![FieldError::one_of("area", &BIN_AREAS)]))?;
    let wh = store::warehouse(tx.conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    super::eligibility::ensure_warehouse_operable(tx.conn, &wh.code, tx.now)?;
    if store::bin(tx.conn, &wh.code, &code)?.is_some() {
        return Err(AppError::AlreadyExists {
            kind: "bin",
            id: format!("{warehouse}/{code}"),
        });
    }
    let row = BinRow {
        warehouse_code: wh.code.clone(),
        code: code.clone(),
        area: area.to_string(),
        created_at: tx.now,
    };
    store::insert_bin(tx.conn, &row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "bin.create",
            entity_kind: "bin",
            entity_id: &format!("{}/{}", wh.code, code),
            warehouse: Some(&wh.code),
            enterprise: Some(&wh.operator_code),
            changes: Changes::new().created("area", area),
            reason: None,
        },
    )?;
    Ok(row)
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraInput {
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub name: String,
    /// The area it covers.
    #[schema(schema_with = crate::domain::ids::schema::bin_area)]
    pub area: String,
    /// The NVR's playback link for a window of this camera's footage, `http(s)://…` with
    /// placeholders for the window: `{start}`/`{end}` (`20261207T043900Z`),
    /// `{start_iso}`/`{end_iso}` (ISO 8601 with the offset), `{start_epoch}`/`{end_epoch}`.
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^https?://")]
    pub playback_url: Option<String>,
}

pub fn create_camera(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    input: &CameraInput,
) -> Result<CameraRow, AppError> {
    let code = ids::place_code("code", &input.code, 30)?;
    let name = ids::text("name", &input.name, 100)?;
    let area = BIN_AREAS
        .iter()
        .find(|a| **a == input.area.trim())
        .ok_or_else(|| AppError::Validation(vec![FieldError::one_of("area", &BIN_AREAS)]))?;
    let wh = store::warehouse(tx.conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    super::eligibility::ensure_warehouse_operable(tx.conn, &wh.code, tx.now)?;
    if store::camera(tx.conn, &wh.code, &code)?.is_some() {
        return Err(AppError::AlreadyExists {
            kind: "camera",
            id: format!("{warehouse}/{code}"),
        });
    }
    let playback_url = input
        .playback_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(crate::audit::footage::check_template)
        .transpose()?;
    let row = CameraRow {
        warehouse_code: wh.code.clone(),
        code: code.clone(),
        name,
        area: area.to_string(),
        created_at: tx.now,
        playback_url,
    };
    store::insert_camera(tx.conn, &row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "camera.create",
            entity_kind: "camera",
            entity_id: &format!("{}/{}", wh.code, code),
            warehouse: Some(&wh.code),
            enterprise: Some(&wh.operator_code),
            changes: Changes::new()
                .created("name", &row.name)
                .created("area", area),
            reason: None,
        },
    )?;
    Ok(row)
}

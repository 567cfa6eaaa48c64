//! Administration: enterprises and their ratings, warehouses, bins, cameras, users.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::Session;
use super::{created, mutate, mutate_parsed, off_thread, ok, read, AppState};
use crate::db::parties::{
    self as store, BinRow, CameraRow, EnterpriseRow, RatingRow, WarehouseRow,
};
use crate::db::users as user_store;
use crate::domain::credit::{rating_at, CreditRating};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::flows::parties::{
    self as flow, BinInput, CameraInput, EnterpriseInput, RatingEffect, RatingInput, WarehouseInput,
};
use crate::flows::users::{self as user_flow, UserChange, UserInput};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/enterprises", web::get().to(list_enterprises))
        .route("/enterprises", web::post().to(create_enterprise))
        .route("/enterprises/{code}", web::get().to(get_enterprise))
        .route("/enterprises/{code}/ratings", web::get().to(list_ratings))
        .route("/enterprises/{code}/ratings", web::post().to(rate))
        .route("/warehouses", web::get().to(list_warehouses))
        .route("/warehouses", web::post().to(create_warehouse))
        .route("/warehouses/{code}", web::get().to(get_warehouse))
        .route("/warehouses/{code}/bins", web::get().to(list_bins))
        .route("/warehouses/{code}/bins", web::post().to(create_bin))
        .route("/warehouses/{code}/cameras", web::get().to(list_cameras))
        .route("/warehouses/{code}/cameras", web::post().to(create_camera))
        .route("/users", web::get().to(list_users))
        .route("/users", web::post().to(create_user))
        .route("/users/{username}", web::patch().to(change_user));
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct RatingOut {
    pub rating: CreditRating,
    pub label: &'static str,
    pub effective_from: chrono::DateTime<chrono::Utc>,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl RatingOut {
    fn from_row(r: &RatingRow) -> Option<Self> {
        let rating = CreditRating::parse(&r.rating)?;
        Some(Self {
            rating,
            label: rating.chinese(),
            effective_from: r.effective_from.and_utc(),
            reference: r.reference.clone(),
            recorded_by: r.recorded_by.clone(),
            recorded_at: r.recorded_at.and_utc(),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnterpriseOut {
    pub code: String,
    pub name: String,
    pub kinds: Vec<String>,
    /// The rating in force now.
    pub rating: Option<RatingOut>,
    pub excluded: bool,
}

fn enterprise_out(
    e: EnterpriseRow,
    ratings: &[RatingRow],
    now: chrono::NaiveDateTime,
) -> EnterpriseOut {
    let records: Vec<_> = ratings.iter().filter_map(|r| r.record()).collect();
    let current = rating_at(&records, now).and_then(|rec| ratings.iter().find(|r| r.id == rec.id));
    let rating = current.and_then(RatingOut::from_row);
    EnterpriseOut {
        excluded: rating.as_ref().is_some_and(|r| r.rating.excludes()),
        code: e.code,
        name: e.name,
        kinds: e
            .kinds
            .split(',')
            .filter(|k| !k.is_empty())
            .map(String::from)
            .collect(),
        rating,
    }
}

#[utoipa::path(get, path = "/api/v1/enterprises", responses((status = 200, body = Items<EnterpriseOut>)))]
pub async fn list_enterprises(
    state: web::Data<AppState>,
    _s: Session,
) -> Result<HttpResponse, AppError> {
    let items = read(&state, |c| {
        let now = chrono::Utc::now().naive_utc();
        let all = store::list_enterprises(c)?;
        let codes: Vec<&str> = all.iter().map(|e| e.code.as_str()).collect();
        let ratings = store::ratings_of(c, &codes)?;
        Ok(all
            .into_iter()
            .map(|e| {
                let mine: Vec<RatingRow> = ratings
                    .iter()
                    .filter(|r| r.enterprise_code == e.code)
                    .cloned()
                    .collect();
                enterprise_out(e, &mine, now)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

#[utoipa::path(get, path = "/api/v1/enterprises/{code}", params(("code" = String, Path, description = "the enterprise code")), responses((status = 200, body = EnterpriseOut), (status = 404, description = "no such enterprise")))]
pub async fn get_enterprise(
    state: web::Data<AppState>,
    _s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner().to_ascii_uppercase();
    let out = read(&state, move |c| {
        let e = store::enterprise(c, &code)?
            .ok_or_else(|| AppError::NotFound(format!("enterprise {code} does not exist")))?;
        let ratings = store::ratings(c, &code)?;
        Ok(enterprise_out(e, &ratings, chrono::Utc::now().naive_utc()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/enterprises", request_body = EnterpriseInput, responses((status = 201, body = EnterpriseOut), (status = 403, description = "only admins record enterprises (`forbidden`)"), (status = 409, description = "the enterprise is already recorded (`conflict`)")))]
pub async fn create_enterprise(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    mutate(
        &state,
        &req,
        &s,
        &body,
        |tx, actor, input: EnterpriseInput| {
            let row = flow::create_enterprise(tx, actor, &input)?;
            created(&enterprise_out(row, &[], tx.now))
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/enterprises/{code}/ratings", params(("code" = String, Path, description = "the enterprise code")), responses((status = 200, body = Items<RatingOut>), (status = 404, description = "no such enterprise")))]
pub async fn list_ratings(
    state: web::Data<AppState>,
    _s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner().to_ascii_uppercase();
    let items = read(&state, move |c| {
        store::enterprise(c, &code)?
            .ok_or_else(|| AppError::NotFound(format!("enterprise {code} does not exist")))?;
        Ok(store::ratings(c, &code)?
            .iter()
            .filter_map(RatingOut::from_row)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

#[derive(Deserialize)]
pub struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RatedOut {
    pub rating: CreditRating,
    pub label: &'static str,
    pub effective_from: chrono::DateTime<chrono::Utc>,
    pub reference: String,
    pub saved: bool,
    pub effect: RatingEffect,
}

/// Records a rating (or, with `?dry_run=true`, only shows what it would do).
#[utoipa::path(post, path = "/api/v1/enterprises/{code}/ratings", request_body = RatingInput, params(("code" = String, Path, description = "the enterprise code"), ("dry_run" = Option<bool>, Query, description = "true: only show what the rating would do")), responses((status = 201, description = "recorded", body = RatedOut), (status = 200, description = "a dry run: nothing recorded", body = RatedOut), (status = 403, description = "only admins rate enterprises (`forbidden`)"), (status = 404, description = "no such enterprise")))]
pub async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    q: web::Query<DryRun>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let code = path.into_inner().to_ascii_uppercase();
    let dry_run = q.dry_run;
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: RatingInput| {
            if dry_run {
                // Compute the effect in a savepoint that is always undone.
                let mut out = None;
                let _ = tx.savepoint(|tx| {
                    out = Some(flow::rate_enterprise(tx, actor, &code, &input, true));
                    Err::<(), _>(AppError::Conflict("dry run".into()))
                });
                let (_, parsed, effect) =
                    out.ok_or_else(|| AppError::Internal("dry run did not run".into()))??;
                return ok(&RatedOut {
                    rating: parsed.rating,
                    label: parsed.rating.chinese(),
                    effective_from: parsed.effective_from.and_utc(),
                    reference: parsed.reference,
                    saved: false,
                    effect,
                });
            }
            let (_, parsed, effect) = flow::rate_enterprise(tx, actor, &code, &input, false)?;
            created(&RatedOut {
                rating: parsed.rating,
                label: parsed.rating.chinese(),
                effective_from: parsed.effective_from.and_utc(),
                reference: parsed.reference,
                saved: true,
                effect,
            })
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WarehouseOut {
    pub code: String,
    pub name: String,
    pub operator: String,
    pub zone: String,
}

impl From<WarehouseRow> for WarehouseOut {
    fn from(w: WarehouseRow) -> Self {
        Self {
            code: w.code,
            name: w.name,
            operator: w.operator_code,
            zone: w.zone,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/warehouses", responses((status = 200, description = "the warehouses (floor staff: their own)", body = Items<WarehouseOut>)))]
pub async fn list_warehouses(
    state: web::Data<AppState>,
    s: Session,
) -> Result<HttpResponse, AppError> {
    let items = read(&state, store::list_warehouses).await?;
    let items: Vec<WarehouseOut> = items
        .into_iter()
        .filter(|w| s.may_see_warehouse(Some(&w.code)))
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

pub(super) async fn visible_warehouse(
    state: &web::Data<AppState>,
    s: &Session,
    code: String,
) -> Result<WarehouseRow, AppError> {
    // Floor staff are told "not found" about other warehouses: their existence is not theirs to know.
    if !s.may_see_warehouse(Some(&code)) {
        return Err(AppError::NotFound(format!(
            "warehouse {code} does not exist"
        )));
    }
    let c2 = code.clone();
    read(state, move |c| store::warehouse(c, &c2))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {code} does not exist")))
}

#[utoipa::path(get, path = "/api/v1/warehouses/{code}", params(("code" = String, Path, description = "the warehouse code")), responses((status = 200, body = WarehouseOut), (status = 404, description = "no such warehouse (for floor staff: not theirs)")))]
pub async fn get_warehouse(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let w = visible_warehouse(&state, &s, path.into_inner().to_ascii_uppercase()).await?;
    Ok(HttpResponse::Ok().json(WarehouseOut::from(w)))
}

#[utoipa::path(post, path = "/api/v1/warehouses", request_body = WarehouseInput, responses((status = 201, body = WarehouseOut), (status = 403, description = "only admins record warehouses (`forbidden`); the operator is excluded (`enterprise_excluded`)"), (status = 409, description = "the warehouse is already recorded (`conflict`)")))]
pub async fn create_warehouse(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    mutate(
        &state,
        &req,
        &s,
        &body,
        |tx, actor, input: WarehouseInput| {
            created(&WarehouseOut::from(flow::create_warehouse(
                tx, actor, &input,
            )?))
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BinOut {
    pub warehouse: String,
    pub code: String,
    pub area: String,
}

impl From<BinRow> for BinOut {
    fn from(b: BinRow) -> Self {
        Self {
            warehouse: b.warehouse_code,
            code: b.code,
            area: b.area,
        }
    }
}

#[derive(Deserialize)]
pub struct AreaQuery {
    area: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/warehouses/{code}/bins", params(("code" = String, Path, description = "the warehouse code"), ("area" = Option<String>, Query, description = "only the bins of this area")), responses((status = 200, body = Items<BinOut>), (status = 404, description = "no such warehouse (for floor staff: not theirs)")))]
pub async fn list_bins(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
    q: web::Query<AreaQuery>,
) -> Result<HttpResponse, AppError> {
    let w = visible_warehouse(&state, &s, path.into_inner().to_ascii_uppercase()).await?;
    let area = q.into_inner().area;
    let items = read(&state, move |c| {
        store::list_bins(c, &w.code, area.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: items.into_iter().map(BinOut::from).collect::<Vec<_>>(),
    }))
}

#[utoipa::path(post, path = "/api/v1/warehouses/{code}/bins", request_body = BinInput, params(("code" = String, Path, description = "the warehouse code")), responses((status = 201, body = BinOut), (status = 403, description = "only admins record bins (`forbidden`); the warehouse's operator is excluded (`enterprise_excluded`)"), (status = 404, description = "no such warehouse"), (status = 409, description = "the bin is already recorded (`conflict`)")))]
pub async fn create_bin(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let wh = path.into_inner().to_ascii_uppercase();
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: BinInput| {
            created(&BinOut::from(flow::create_bin(tx, actor, &wh, &input)?))
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CameraOut {
    pub warehouse: String,
    pub code: String,
    pub name: String,
    pub area: String,
    /// The playback link template of its footage, when one is set.
    pub playback_url: Option<String>,
}

impl From<CameraRow> for CameraOut {
    fn from(c: CameraRow) -> Self {
        Self {
            warehouse: c.warehouse_code,
            code: c.code,
            name: c.name,
            area: c.area,
            playback_url: c.playback_url,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/warehouses/{code}/cameras", params(("code" = String, Path, description = "the warehouse code")), responses((status = 200, body = Items<CameraOut>), (status = 404, description = "no such warehouse (for floor staff: not theirs)")))]
pub async fn list_cameras(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let w = visible_warehouse(&state, &s, path.into_inner().to_ascii_uppercase()).await?;
    let items = read(&state, move |c| store::list_cameras(c, &w.code)).await?;
    Ok(HttpResponse::Ok().json(Items {
        items: items.into_iter().map(CameraOut::from).collect::<Vec<_>>(),
    }))
}

#[utoipa::path(post, path = "/api/v1/warehouses/{code}/cameras", request_body = CameraInput, params(("code" = String, Path, description = "the warehouse code")), responses((status = 201, body = CameraOut), (status = 403, description = "only admins record cameras (`forbidden`); the warehouse's operator is excluded (`enterprise_excluded`)"), (status = 404, description = "no such warehouse"), (status = 409, description = "the camera is already recorded (`conflict`)")))]
pub async fn create_camera(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let wh = path.into_inner().to_ascii_uppercase();
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: CameraInput| {
            created(&CameraOut::from(flow::create_camera(
                tx, actor, &wh, &input,
            )?))
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub username: String,
    pub role: String,
    pub warehouse: Option<String>,
    pub active: bool,
}

impl From<user_store::UserRow> for UserOut {
    fn from(u: user_store::UserRow) -> Self {
        Self {
            username: u.username,
            role: u.role,
            warehouse: u.warehouse_code,
            active: u.active,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = Items<UserOut>), (status = 403, description = "only admins list users (`forbidden`)")))]
pub async fn list_users(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let items = read(&state, user_store::list).await?;
    let items: Vec<UserOut> = items.into_iter().map(UserOut::from).collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = UserInput, responses((status = 201, body = UserOut), (status = 403, description = "only admins make users (`forbidden`)"), (status = 409, description = "the user name is taken (`conflict`)")))]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let input: UserInput = super::json_input(&req, &body)?;
    // Hash the password off the writer thread (argon2 is slow by design).
    let prepared = off_thread(move || user_flow::prepare(&input)).await??;
    mutate_parsed(&state, &req, &s, &body, prepared, |tx, actor, u| {
        created(&UserOut::from(user_flow::create_user(tx, actor, u)?))
    })
    .await
}

#[utoipa::path(patch, path = "/api/v1/users/{username}", request_body = UserChange, params(("username" = String, Path)), responses((status = 200, body = UserOut), (status = 403, description = "only admins change users (`forbidden`)"), (status = 404, description = "no such user"), (status = 409, description = "an admin cannot deactivate themselves (`conflict`)")))]
pub async fn change_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let username = path.into_inner();
    let input: UserChange = super::json_input(&req, &body)?;
    // Hash a new password off the writer thread (argon2 is slow by design).
    let prepared = off_thread(move || user_flow::prepare_change(&input)).await??;
    mutate_parsed(&state, &req, &s, &body, prepared, move |tx, actor, c| {
        ok(&UserOut::from(user_flow::change_user(
            tx, actor, &username, c,
        )?))
    })
    .await
}

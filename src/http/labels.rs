//! Code 128 labels: return labels for parcels, bin labels (one, or an A4 sheet of an area),
//! item labels for restocked units without a barcode of their own; SVG, PNG or ZPL.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::auth::Session;
use super::{off_thread, read, AppState};
use crate::error::AppError;
use crate::flows::labels as label_data;
use crate::labels::{self, BinLabel, Format, LabelError, Rendered, Size};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/labels/returns/{file}", web::get().to(return_label))
        .route("/labels/bins/{warehouse}/{file}", web::get().to(bin_label))
        .route("/labels/bins/{file}", web::get().to(bin_sheet))
        .route(
            "/labels/items/{return_id}/{file}",
            web::get().to(item_label),
        );
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LabelQuery {
    /// 100x150 or 60x40 (a4 for sheets; `mm`, `×` and capitals are accepted too)
    #[param(schema_with = label_size)]
    size: Option<String>,
    /// Printer resolution (PNG and ZPL).
    #[param(schema_with = label_dpi)]
    dpi: Option<u32>,
    /// Bin sheets: only this area.
    #[param(schema_with = crate::domain::ids::schema::bin_area)]
    area: Option<String>,
    /// Bin sheets: page number from 1 (24 labels per A4 page).
    #[param(minimum = 1)]
    page: Option<usize>,
}

fn label_size() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["100x150", "60x40", "a4"]))
        .description(Some(
            "100x150 or 60x40 (a4 for sheets; `mm`, `×` and capitals are accepted too)",
        ))
        .build()
}

fn label_dpi() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(crate::labels::SUPPORTED_DPI))
        .description(Some("printer resolution in dots per inch (203 by default)"))
        .build()
}

fn label_error(e: LabelError) -> AppError {
    match e {
        LabelError::Render(m) => AppError::Internal(m),
        other => AppError::validation("label", other.to_string()),
    }
}

/// Splits `NAME.EXT` into the name and a known format.
fn split(file: &str) -> Result<(String, Format), AppError> {
    let (name, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| AppError::NotFound("add .svg, .png or .zpl to the label address".into()))?;
    let format: Format = ext
        .parse()
        .map_err(|e: LabelError| AppError::NotFound(e.to_string()))?;
    Ok((name.trim().to_ascii_uppercase(), format))
}

fn query(q: Result<web::Query<LabelQuery>, actix_web::Error>) -> Result<LabelQuery, AppError> {
    q.map(|q| q.into_inner())
        .map_err(|e| AppError::validation("query", e.to_string()))
}

fn size(q: &LabelQuery, default: Size) -> Result<Size, AppError> {
    match &q.size {
        None => Ok(default),
        Some(s) => s.parse().map_err(label_error),
    }
}

fn respond(r: Rendered, name: &str, format: Format) -> HttpResponse {
    let ext = match format {
        Format::Svg => "svg",
        Format::Png => "png",
        Format::Zpl => "zpl",
    };
    HttpResponse::Ok()
        .content_type(r.content_type)
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{name}.{ext}\""),
        ))
        .body(r.bytes)
}

#[utoipa::path(get, path = "/api/v1/labels/returns/{file}", params(("file" = String, Path, description = "RETURN_ID.svg, .png or .zpl"), LabelQuery), responses((status = 200, description = "the return label", content(("image/svg+xml"), ("image/png"), ("application/x-zpl"))), (status = 404, description = "no such return (for floor staff: not in their warehouse), or no such label format")))]
pub async fn return_label(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
    q: Result<web::Query<LabelQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let (id, format) = split(&path.into_inner())?;
    let q = query(q)?;
    let size = size(&q, Size::Label100x150)?;
    let dpi = q.dpi.unwrap_or(203);
    let actor = s.actor();
    let id2 = id.clone();
    let label = read(&state, move |c| label_data::return_label(c, &actor, &id2)).await?;
    let r = off_thread(move || labels::render_return(&label, size, format, dpi))
        .await?
        .map_err(label_error)?;
    Ok(respond(r, &id, format))
}

async fn bin_rows(
    state: &web::Data<AppState>,
    s: &Session,
    warehouse: String,
    area: Option<String>,
) -> Result<Vec<BinLabel>, AppError> {
    if !s.may_see_warehouse(Some(&warehouse)) {
        return Err(AppError::NotFound(format!(
            "warehouse {warehouse} does not exist"
        )));
    }
    read(state, move |c| {
        label_data::bin_labels(c, &warehouse, area.as_deref())
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/labels/bins/{warehouse}/{file}", params(("warehouse" = String, Path, description = "the warehouse code"), ("file" = String, Path, description = "BIN.svg, .png or .zpl"), LabelQuery), responses((status = 200, description = "the bin label", content(("image/svg+xml"), ("image/png"), ("application/x-zpl"))), (status = 404, description = "no such warehouse (for floor staff: not theirs) or bin, or no such label format")))]
pub async fn bin_label(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<(String, String)>,
    q: Result<web::Query<LabelQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let (warehouse, file) = path.into_inner();
    let (bin, format) = split(&file)?;
    let q = query(q)?;
    let size = size(&q, Size::Label60x40)?;
    let dpi = q.dpi.unwrap_or(203);
    let label = bin_rows(&state, &s, warehouse.to_ascii_uppercase(), None)
        .await?
        .into_iter()
        .find(|b| b.bin == bin)
        .ok_or_else(|| AppError::NotFound(format!("bin {bin} does not exist")))?;
    let r = off_thread(move || labels::render_bin(&label, size, format, dpi))
        .await?
        .map_err(label_error)?;
    Ok(respond(r, &bin, format))
}

#[utoipa::path(get, path = "/api/v1/labels/bins/{file}", params(("file" = String, Path, description = "WAREHOUSE.svg, .png or .zpl: A4 sheets of the warehouse's bin labels"), LabelQuery), responses((status = 200, description = "one A4 page of bin labels (`X-Pages`: how many pages there are)", content(("image/svg+xml"), ("image/png"), ("application/x-zpl"))), (status = 404, description = "no such warehouse (for floor staff: not theirs), no bins to print, no such page, or no such label format")))]
pub async fn bin_sheet(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
    q: Result<web::Query<LabelQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let (warehouse, format) = split(&path.into_inner())?;
    let q = query(q)?;
    let dpi = q.dpi.unwrap_or(203);
    let page = q.page.unwrap_or(1);
    let rows = bin_rows(&state, &s, warehouse.clone(), q.area.clone()).await?;
    if rows.is_empty() {
        return Err(AppError::NotFound("no bins to print".into()));
    }
    let pages = off_thread(move || labels::render_bin_sheets(&rows, format, dpi))
        .await?
        .map_err(label_error)?;
    let count = pages.len();
    let r = pages
        .into_iter()
        .nth(page.saturating_sub(1))
        .filter(|_| page >= 1)
        .ok_or_else(|| AppError::NotFound(format!("page {page} does not exist ({count} pages)")))?;
    let mut resp = respond(r, &format!("{warehouse}-bins-{page}"), format);
    resp.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("x-pages"),
        actix_web::http::header::HeaderValue::from(count),
    );
    Ok(resp)
}

#[utoipa::path(get, path = "/api/v1/labels/items/{return_id}/{file}", params(("return_id" = String, Path, description = "the return id"), ("file" = String, Path, description = "GNUM.svg, .png or .zpl"), LabelQuery), responses((status = 200, description = "the item label of a line of the return", content(("image/svg+xml"), ("image/png"), ("application/x-zpl"))), (status = 404, description = "no such return (for floor staff: not in their warehouse) or line, or no such label format")))]
pub async fn item_label(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<(String, String)>,
    q: Result<web::Query<LabelQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let id = id.to_ascii_uppercase();
    let (gnum, format) = split(&file)?;
    let gnum: i32 = gnum
        .parse()
        .map_err(|_| AppError::NotFound(format!("line {gnum} does not exist")))?;
    let q = query(q)?;
    let size = size(&q, Size::Label100x150)?;
    let dpi = q.dpi.unwrap_or(203);
    let actor = s.actor();
    let label = read(&state, move |c| {
        label_data::item_label(c, &actor, &id, gnum)
    })
    .await?;
    let name = label.data();
    let r = off_thread(move || labels::render_item(&label, size, format, dpi))
        .await?
        .map_err(label_error)?;
    Ok(respond(r, &name, format))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(return_label, bin_label, bin_sheet, item_label))]
pub struct LabelApi;

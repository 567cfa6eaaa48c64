//! What a handheld keeps to work while the Wi-Fi is down: its warehouse's open work, whole or
//! the changes since its last copy (`flows::handheld`).

use actix_web::{web, HttpResponse};

use super::auth::Session;
use super::{read, AppState};
use crate::error::AppError;
use crate::flows::handheld::{self, Snapshot, SnapshotQuery};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/handheld/snapshot", web::get().to(snapshot));
}

/// The local copy of a warehouse's open work for a handheld: its open returns (declared,
/// received, sorted, inspected, held) with their lines, product barcodes, HS codes and names,
/// whether a party is excluded, and its bins and cameras; never anything about the buyer, the
/// order number or the return's reason. At most 2,000 returns, applied for or received in the
/// last 60 days, newest first (`truncated` when there were more). With `since` (the `cursor` of
/// the last copy, an audit sequence number) only what changed after it: changed or new open
/// returns, and in `removed` those to drop (closed, cancelled, received elsewhere, too old);
/// `bins` and `cameras` null when unchanged. Without it, or when it is too far behind or not
/// this database's, the whole copy (`full`). Floor staff: their own warehouse (the default);
/// supervisors and admins name one.
#[utoipa::path(get, path = "/api/v1/handheld/snapshot", params(SnapshotQuery), responses((status = 200, description = "the copy, or what changed since `since`", body = Snapshot), (status = 403, description = "floor staff asking for another warehouse than their own (`forbidden`)"), (status = 404, description = "no such warehouse")))]
pub async fn snapshot(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<SnapshotQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let q = q
        .map(|q| q.into_inner())
        .map_err(|e| AppError::validation("query", e.to_string()))?;
    let warehouse = handheld::warehouse_for(&s.actor(), q.warehouse.as_deref())?;
    let since = q.since;
    let copy = read(&state, move |c| handheld::snapshot(c, &warehouse, since)).await?;
    Ok(HttpResponse::Ok()
        // A copy of the warehouse's work is the device's to keep in its own storage, not the
        // browser's HTTP cache.
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(copy))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(snapshot))]
pub struct HandheldApi;

//! The OpenAPI description, generated from the handlers' annotations so it cannot drift.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{admin, audit, auth, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bonded-returns",
        description = "Bonded return center warehouse (跨境电商零售进口退货中心仓) API"
    ),
    paths(
        health::healthz,
        auth::sign_in,
        auth::sign_out,
        auth::me,
        auth::create_token,
        admin::list_enterprises,
        admin::create_enterprise,
        admin::get_enterprise,
        admin::list_ratings,
        admin::rate,
        admin::list_warehouses,
        admin::create_warehouse,
        admin::get_warehouse,
        admin::list_bins,
        admin::create_bin,
        admin::list_cameras,
        admin::create_camera,
        admin::list_users,
        admin::create_user,
        audit::list,
        audit::verify,
        audit::head,
        audit::export_csv,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

/// The spec, merged with the return-flow routes' own part.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::flow_api());
    doc
}

pub async fn spec() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

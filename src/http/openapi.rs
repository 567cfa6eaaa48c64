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
        admin::change_user,
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

#[cfg(test)]
mod tests {
    /// Every schema the description refers to is in it (a type added to an answer or to the
    /// problem body must be registered, or clients generated from the spec break).
    #[test]
    fn every_schema_reference_resolves() {
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = serde_json::to_value(super::document()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        let schemas = &doc["components"]["schemas"];
        let missing: Vec<&String> = found
            .iter()
            .filter(|r| {
                let name = r.trim_start_matches("#/components/schemas/");
                schemas.get(name).is_none()
            })
            .collect();
        assert!(!found.is_empty());
        assert!(missing.is_empty(), "unresolved references: {missing:?}");
        for name in ["Problem", "Exclusion", "Party", "CreditRating"] {
            assert!(schemas.get(name).is_some(), "{name} is not described");
        }
    }
}

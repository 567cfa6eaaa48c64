//! The web UI in `ui/`, embedded in the binary so that one file is the whole product.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "ui/"]
struct Assets;

/// The pattern of the route that serves every other path's page (`GET` only).
pub const FALLBACK: &str = "/{path:.*}";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(asset))
        .route(FALLBACK, web::get().to(asset));
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let path = req
        .match_info()
        .get("path")
        .unwrap_or("")
        .trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Assets::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            HttpResponse::Ok()
                .content_type(mime.as_ref())
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .insert_header(("X-Content-Type-Options", "nosniff"))
                .body(file.data.into_owned())
        }
        None => crate::error::AppError::NotFound(format!("no such page: /{path}")).into_response_(),
    }
}

impl crate::error::AppError {
    fn into_response_(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

//! The web UI in `ui/`, embedded in the binary so that one file is the whole product.
//!
//! The handheld installs it (`manifest.webmanifest`) and runs it offline through a service
//! worker (`sw.js`) that keeps every file of one build in a cache of its own. The build is a
//! hash over the names and contents of the embedded files, written into the worker's script
//! (so a new deployment is a new worker that installs a whole new cache), into `index.html`
//! (so the page knows which build it is) and into the `X-UI-Build` header of every file (so the
//! worker refuses to install a mix of two builds met during a deployment). Every file is
//! answered `no-cache` with an `ETag` (revalidated, 304 when unchanged); the worker's own
//! script is never taken from the HTTP cache.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

#[derive(Embed)]
#[folder = "ui/"]
struct Assets;

/// The pattern of the route that serves every other path's page (`GET` only).
pub const FALLBACK: &str = "/{path:.*}";

/// Where the build goes in `sw.js` and `index.html`.
const BUILD_MARK: &str = "__UI_BUILD__";
/// Where the list of files to keep offline goes in `sw.js`.
const FILES_MARK: &str = "\"__UI_FILES__\"";
/// Embedded files that are not part of the app (documentation).
const NOT_SERVED: [&str; 1] = ["README.md"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(asset))
        .route(FALLBACK, web::get().to(asset));
}

/// The build of the embedded UI: 16 hex digits of a SHA-256 over every file's name and hash.
pub fn build() -> &'static str {
    static BUILD: OnceLock<String> = OnceLock::new();
    BUILD.get_or_init(|| {
        let mut names: Vec<String> = Assets::iter().map(|n| n.into_owned()).collect();
        names.sort();
        let mut h = Sha256::new();
        for name in names {
            if let Some(f) = Assets::get(&name) {
                h.update(name.as_bytes());
                h.update([0]);
                h.update(f.metadata.sha256_hash());
            }
        }
        hex::encode(&h.finalize()[..8])
    })
}

/// Every path the service worker keeps, as the page asks for it.
fn offline_files() -> Vec<String> {
    let mut files: Vec<String> = Assets::iter()
        .map(|n| n.into_owned())
        .filter(|n| n != "sw.js" && !NOT_SERVED.contains(&n.as_str()))
        .map(|n| format!("/{n}"))
        .collect();
    files.sort();
    files
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let path = req
        .match_info()
        .get("path")
        .unwrap_or("")
        .trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Assets::get(path).filter(|_| !NOT_SERVED.contains(&path));
    let Some(file) = file else {
        return crate::error::AppError::NotFound(format!("no such page: /{path}")).into_response_();
    };
    let build = build();
    let templated = path == "sw.js" || path == "index.html";
    // A templated file changes with the build; the others with their own content.
    let etag = if templated {
        format!("\"{build}\"")
    } else {
        format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]))
    };
    let mime = match path.rsplit('.').next() {
        Some("webmanifest") => "application/manifest+json".to_string(),
        _ => mime_guess::from_path(path)
            .first_or_octet_stream()
            .as_ref()
            .to_string(),
    };
    let mut res = if matches_etag(&req, &etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag.clone()))
        .insert_header(("X-UI-Build", build))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if matches_etag(&req, &etag) {
        return res.finish();
    }
    res.content_type(mime);
    if !templated {
        return res.body(file.data.into_owned());
    }
    let text = String::from_utf8_lossy(&file.data).replace(BUILD_MARK, build);
    let text = if path == "sw.js" {
        // The JSON list is valid JavaScript: a literal array of strings.
        let files = serde_json::to_string(&offline_files()).unwrap_or_else(|_| "[]".into());
        text.replace(FILES_MARK, &files)
    } else {
        text
    };
    res.body(text)
}

/// The request's `If-None-Match` names `etag` (or is `*`).
fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
}

impl crate::error::AppError {
    fn into_response_(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

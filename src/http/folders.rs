//! The customs client's folders as supervisors see them: files waiting in the inbox, failed
//! files with their reasons, the last files taken, and the CEB625 messages not yet written or
//! not yet collected by the customs client.

use actix_web::{web, HttpResponse};

use super::auth::Session;
use super::{read, AppState};
use crate::domain::roles::Role;
use crate::error::AppError;

/// Where the customs client's folders stand (supervisors and admins; tokens of the `customs`
/// scope).
#[utoipa::path(get, path = "/api/v1/customs/folders", responses((status = 200, body = crate::ceb_folders::FoldersStatus), (status = 403, description = "only supervisors, admins and customs tokens read the folders (`forbidden`)")))]
pub async fn status(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let folders = state.config.ceb_folders.clone();
    let st = read(&state, move |c| crate::ceb_folders::status(c, &folders)).await?;
    Ok(HttpResponse::Ok().json(st))
}

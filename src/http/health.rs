//! Liveness: answers once the database does.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use super::AppState;
use crate::error::AppError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503)))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // Whatever keeps the database from answering, the service is unavailable (503), so that a
    // load balancer takes this node out; the cause goes to the log, not to the prober.
    super::read(&state, |c| {
        c.batch_execute("SELECT 1").map_err(AppError::from)
    })
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "health check: the database does not answer");
        AppError::Unavailable("the database does not answer".into())
    })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: state.backend,
    }))
}

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
    /// With a push to customs configured: how far it has come (no error texts here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<FeedHealth>,
    /// With the customs client's folders set: files waiting, failed and not yet written or
    /// collected, and the worker's last look (no names or texts here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folders: Option<crate::ceb_folders::FoldersHealth>,
    /// With `BR_WRITER_STATS=true`: what this node's writer has done since it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writer: Option<crate::db::writer::CountsNow>,
}

/// The push to customs, as a prober sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedHealth {
    pub delivered_seq: i64,
    pub lag_entries: i64,
    pub lag_seconds: i64,
    pub failures: i32,
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503)))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // Whatever keeps the database from answering, the service is unavailable (503), so that a
    // load balancer takes this node out; the cause goes to the log, not to the prober.
    let configured = state.config.customs_feed.is_some();
    let ceb_folders = state.config.ceb_folders.clone();
    let (feed, folders) = super::read(&state, move |c| {
        c.batch_execute("SELECT 1").map_err(AppError::from)?;
        let folders = if ceb_folders.any() {
            Some(crate::ceb_folders::health(c, &ceb_folders)?)
        } else {
            None
        };
        if !configured {
            return Ok((None, folders));
        }
        let s = crate::audit::push::status(c, true)?;
        Ok((
            Some(FeedHealth {
                delivered_seq: s.delivered_seq,
                lag_entries: s.lag_entries,
                lag_seconds: s.lag_seconds,
                failures: s.failures,
            }),
            folders,
        ))
    })
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "health check: the database does not answer");
        AppError::Unavailable("the database does not answer".into())
    })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: state.backend,
        feed,
        folders,
        writer: state.config.writer_stats.then(|| state.writer.counts()),
    }))
}

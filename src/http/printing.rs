//! Labels straight to the printer: a warehouse's printers (admin registers, everyone of the
//! warehouse lists them), print requests, and the print queue (jobs: listed, reprinted,
//! cancelled).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::admin::{visible_warehouse, Items};
use super::auth::Session;
use super::{created, mutate, mutate_parsed, ok, read, AppState};
use crate::db::printing::{self as store, JobFilter};
use crate::domain::printing::JobState;
use crate::domain::roles::Role;
use crate::error::{AppError, FieldError};
use crate::flows::printing::{
    self as flow, CancelInput, PrintInput, PrintJobView, PrinterChange, PrinterInput, PrinterView,
    RetryInput,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/warehouses/{code}/printers", web::get().to(list_printers))
        .route(
            "/warehouses/{code}/printers",
            web::post().to(create_printer),
        )
        .route(
            "/warehouses/{code}/printers/{printer}",
            web::patch().to(change_printer),
        )
        .route(
            "/warehouses/{code}/printers/{printer}",
            web::delete().to(delete_printer),
        )
        .route(
            "/warehouses/{code}/printers/{printer}/jobs",
            web::post().to(print_label),
        )
        .route("/print-jobs", web::get().to(list_jobs))
        .route("/print-jobs/{id}", web::get().to(get_job))
        .route("/print-jobs/{id}/retry", web::post().to(retry_job))
        .route("/print-jobs/{id}/cancel", web::post().to(cancel_job));
}

fn upper(s: String) -> String {
    s.trim().to_ascii_uppercase()
}

#[utoipa::path(get, path = "/api/v1/warehouses/{code}/printers", params(("code" = String, Path, description = "the warehouse code")), responses((status = 200, description = "the warehouse's label printers (floor staff: of their own warehouse, to choose one)", body = Items<PrinterView>), (status = 404, description = "no such warehouse (for floor staff: not theirs)")))]
pub async fn list_printers(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let w = visible_warehouse(&state, &s, upper(path.into_inner())).await?;
    let items = read(&state, move |c| store::list_printers(c, &w.code)).await?;
    Ok(HttpResponse::Ok().json(Items {
        items: items.into_iter().map(PrinterView::from).collect::<Vec<_>>(),
    }))
}

#[utoipa::path(post, path = "/api/v1/warehouses/{code}/printers", request_body = PrinterInput, params(("code" = String, Path, description = "the warehouse code")), responses((status = 201, body = PrinterView), (status = 403, description = "only admins register printers (`forbidden`); the warehouse's operator is excluded (`enterprise_excluded`)"), (status = 404, description = "no such warehouse"), (status = 409, description = "the printer is already registered (`conflict`, with `exists`)")))]
pub async fn create_printer(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let wh = upper(path.into_inner());
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: PrinterInput| {
            created(&PrinterView::from(flow::create_printer(
                tx, actor, &wh, &input,
            )?))
        },
    )
    .await
}

#[utoipa::path(patch, path = "/api/v1/warehouses/{code}/printers/{printer}", request_body = PrinterChange, params(("code" = String, Path, description = "the warehouse code"), ("printer" = String, Path, description = "the printer's code")), responses((status = 200, body = PrinterView), (status = 403, description = "only admins change printers (`forbidden`); the warehouse's operator is excluded (`enterprise_excluded`)"), (status = 404, description = "no such warehouse or printer")))]
pub async fn change_printer(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let (wh, code) = path.into_inner();
    let wh = upper(wh);
    let answer = mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: PrinterChange| {
            ok(&PrinterView::from(flow::update_printer(
                tx, actor, &wh, &code, &input,
            )?))
        },
    )
    .await;
    crate::printing::wake();
    answer
}

#[utoipa::path(delete, path = "/api/v1/warehouses/{code}/printers/{printer}", params(("code" = String, Path, description = "the warehouse code"), ("printer" = String, Path, description = "the printer's code")), responses((status = 204, description = "removed; its print jobs stay on record, those still waiting wait for a person"), (status = 403, description = "only admins remove printers (`forbidden`)"), (status = 404, description = "no such warehouse or printer")))]
pub async fn delete_printer(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin])?;
    let (wh, code) = path.into_inner();
    let flow = |tx: &mut crate::db::writer::Tx<'_>,
                actor: &crate::audit::Actor,
                (wh, code): (String, String)| {
        flow::delete_printer(tx, actor, &wh, &code)?;
        Ok((204, String::new()))
    };
    mutate_parsed(&state, &req, &s, &[], (upper(wh), code), flow).await
}

/// Prints a label on this printer: queued at once, sent by the printing worker (watch the job).
#[utoipa::path(post, path = "/api/v1/warehouses/{code}/printers/{printer}/jobs", request_body = PrintInput, params(("code" = String, Path, description = "the warehouse code"), ("printer" = String, Path, description = "the printer's code")), responses((status = 201, description = "the print job, queued (or, for a printer out of service, waiting for a person)", body = PrintJobView), (status = 403, description = "floor staff (of this warehouse) and admins print (`forbidden`); the warehouse's operator is excluded (`enterprise_excluded`)"), (status = 404, description = "no such warehouse (for floor staff: not theirs), printer, return, line or bin"), (status = 409, description = "the return is in another warehouse (`conflict`)")))]
pub async fn print_label(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Floor, Role::Admin])?;
    let (wh, code) = path.into_inner();
    let w = visible_warehouse(&state, &s, upper(wh)).await?;
    let code = upper(code);
    let answer = mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: PrintInput| {
            created(&PrintJobView::from(flow::request(
                tx, actor, &w.code, &code, &input,
            )?))
        },
    )
    .await;
    crate::printing::wake();
    answer
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// One warehouse (floor staff: always their own).
    warehouse: Option<String>,
    /// One printer's jobs (by its code).
    printer: Option<String>,
    /// `open` (queued, sending or failed: the print queue), or states separated by commas:
    /// queued, sending, sent, failed, cancelled.
    state: Option<String>,
    /// The return (or bin) the labels are of.
    label_id: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Jobs per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobPage {
    pub items: Vec<PrintJobView>,
    pub next_cursor: Option<String>,
}

fn states(s: Option<&str>) -> Result<Vec<&'static str>, AppError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Vec::new());
    };
    if s == "open" {
        return Ok(JobState::ALL
            .into_iter()
            .filter(|st| st.is_open())
            .map(JobState::as_str)
            .collect());
    }
    s.split(',')
        .map(|p| {
            JobState::parse(p.trim())
                .map(JobState::as_str)
                .ok_or_else(|| {
                    let mut allowed: Vec<&str> = vec!["open"];
                    allowed.extend(JobState::ALL.iter().map(|st| st.as_str()));
                    AppError::Validation(vec![FieldError::one_of("state", &allowed)])
                })
        })
        .collect()
}

/// The print jobs, newest first: the record of every label sent to a printer, and with
/// `state=open` the print queue.
#[utoipa::path(get, path = "/api/v1/print-jobs", params(JobQuery), responses((status = 200, description = "print jobs, newest first (floor staff: of their own warehouse)", body = JobPage)))]
pub async fn list_jobs(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<JobQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let q = q
        .map(|q| q.into_inner())
        .map_err(|e| AppError::validation("query", e.to_string()))?;
    let limit = match q.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(_) => return Err(AppError::validation("limit", "between 1 and 200")),
    };
    let before = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| AppError::validation("cursor", "not a cursor of this list"))?,
        ),
    };
    let filter = JobFilter {
        warehouse: q.warehouse.map(upper),
        printer: q.printer.map(upper),
        states: states(q.state.as_deref())?,
        label_id: q.label_id.map(upper),
        before,
        // One more, to know whether there is a next page.
        limit: limit + 1,
    };
    let actor = s.actor();
    let mut items = read(&state, move |c| flow::list(c, &actor, filter)).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|j| j.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(JobPage { items, next_cursor }))
}

fn job_id(p: web::Path<String>) -> Result<i64, AppError> {
    let raw = p.into_inner();
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::NotFound(format!("print job {raw} does not exist")))
}

#[utoipa::path(get, path = "/api/v1/print-jobs/{id}", params(("id" = String, Path, description = "the print job's id")), responses((status = 200, body = PrintJobView), (status = 404, description = "no such print job (for floor staff: not of their warehouse)")))]
pub async fn get_job(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = job_id(path)?;
    let actor = s.actor();
    let job = read(&state, move |c| flow::job(c, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(job))
}

/// Reprints a label now (one tap on the handheld): a failed, cancelled or waiting job is sent
/// at once, on the same printer or another of its warehouse, with its automatic tries afresh.
#[utoipa::path(post, path = "/api/v1/print-jobs/{id}/retry", request_body = RetryInput, params(("id" = String, Path, description = "the print job's id")), responses((status = 200, description = "the job, queued again", body = PrintJobView), (status = 403, description = "floor staff (of its warehouse) and admins reprint (`forbidden`); the warehouse's operator is excluded (`enterprise_excluded`)"), (status = 404, description = "no such print job (for floor staff: not of their warehouse), or no such printer"), (status = 409, description = "already sent or being sent (`invalid_state`); the printer is out of service (`conflict`)")))]
pub async fn retry_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Floor, Role::Admin])?;
    let id = job_id(path)?;
    let answer = mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: RetryInput| {
            ok(&PrintJobView::from(flow::retry(tx, actor, id, &input)?))
        },
    )
    .await;
    crate::printing::wake();
    answer
}

/// Drops a label from the print queue (printed otherwise, or not needed); it stays on record.
#[utoipa::path(post, path = "/api/v1/print-jobs/{id}/cancel", request_body = CancelInput, params(("id" = String, Path, description = "the print job's id")), responses((status = 200, description = "the job, cancelled", body = PrintJobView), (status = 403, description = "floor staff (of its warehouse) and admins cancel (`forbidden`)"), (status = 404, description = "no such print job (for floor staff: not of their warehouse)"), (status = 409, description = "already sent or being sent (`invalid_state`)")))]
pub async fn cancel_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Floor, Role::Admin])?;
    let id = job_id(path)?;
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: CancelInput| {
            ok(&PrintJobView::from(flow::cancel(tx, actor, id, &input)?))
        },
    )
    .await
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_printers,
    create_printer,
    change_printer,
    delete_printer,
    print_label,
    list_jobs,
    get_job,
    retry_job,
    cancel_job
))]
pub struct PrintingApi;

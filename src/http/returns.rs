//! The return flow over HTTP: declarations and imports in, returns through their steps,
//! scans, stock, statistics and CEB625 out.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::admin::Items;
use super::auth::{FloorCaller, Session};
use super::{
    created, mutate, mutate_floor, mutate_parsed, off_thread, ok, read, refusal_after_change,
    AppState, StepOf,
};
use crate::audit::Actor;
use crate::db::returns as store;
use crate::db::writer::Tx;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::flows::declarations::{self, DeclarationInput};
use crate::flows::idempotency::Answer;
use crate::flows::imports::{self, ImportReport};
use crate::flows::returns::apply::{self, ApplyInput};
use crate::flows::returns::inspect::{self, InspectInput};
use crate::flows::returns::receive::{self, ReceiveInput};
use crate::flows::returns::settle::{self, DisposeInput, RestockInput};
use crate::flows::returns::sort::{self, SortInput};
use crate::flows::returns::view::{self, ListQuery, ReturnView, Summary};
use crate::flows::returns::{customs as return_customs, hold, scan, stats, Done, Step};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The floor steps first: routes are matched in order, each pattern with a parameter by a
    // regular expression, and these are the most frequent requests.
    cfg.route("/returns/{id}/receive", web::post().to(receive_return))
        .route("/returns/{id}/sort", web::post().to(sort_return))
        .route("/returns/{id}/inspect", web::post().to(inspect_return))
        .route("/returns/{id}/restock", web::post().to(restock_return))
        .route("/returns/{id}/dispose", web::post().to(dispose_return))
        .route("/declarations", web::post().to(create_declaration))
        .route("/declarations/{invt_no}", web::get().to(get_declaration))
        .route("/imports", web::post().to(import))
        .route("/returns", web::get().to(list_returns))
        .route("/returns", web::post().to(create_return))
        .route("/returns/{id}", web::get().to(get_return))
        .route("/returns/{id}/hold", web::post().to(hold_return))
        .route("/returns/{id}/release", web::post().to(release_return))
        .route("/returns/{id}/ceb625.xml", web::get().to(ceb625_one))
        .route("/exports/ceb625", web::get().to(ceb625_batch))
        .route("/disposals", web::get().to(list_disposals))
        .route("/disposals/{id}/approve", web::post().to(approve_disposal))
        .route("/disposals/{id}/reject", web::post().to(reject_disposal))
        .route("/scan/{code}", web::get().to(scan_code))
        .route("/stock", web::get().to(stock))
        .route("/stats", web::get().to(get_stats));
}

fn query<T>(q: Result<web::Query<T>, actix_web::Error>) -> Result<T, AppError> {
    q.map(|q| q.into_inner())
        .map_err(|e| AppError::validation("query", e.to_string()))
}

fn upper(p: web::Path<String>) -> String {
    p.into_inner().trim().to_ascii_uppercase()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeclarationOut {
    pub outcome: declarations::Outcome,
    pub invt_no: String,
}

/// Records a released declaration list (JSON).
#[utoipa::path(post, path = "/api/v1/declarations", request_body = DeclarationInput, responses((status = 201, description = "recorded", body = DeclarationOut), (status = 200, description = "recorded before (`unchanged`), or now released (`updated`)", body = DeclarationOut), (status = 403, description = "only supervisors and admins record lists (`forbidden`)"), (status = 409, description = "the list is recorded with different content (`conflict`)")))]
pub async fn create_declaration(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin, Role::Supervisor])?;
    mutate(
        &state,
        &req,
        &s,
        &body,
        |tx, actor, input: DeclarationInput| {
            let (row, lines) = input.parse(tx.now)?;
            let invt_no = row.invt_no.clone();
            let outcome = declarations::record(tx, actor, row, lines)?;
            let out = DeclarationOut { outcome, invt_no };
            if outcome == declarations::Outcome::Created {
                created(&out)
            } else {
                ok(&out)
            }
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeclarationLineOut {
    pub gnum: i32,
    pub gcode: String,
    pub gname: String,
    pub qty: i64,
    pub unit: String,
    pub bar_code: Option<String>,
    pub price: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeclarationView {
    pub invt_no: String,
    pub order_no: String,
    pub ebp: view::Party,
    pub ebc: view::Party,
    pub agent: view::Party,
    pub logistics: view::Party,
    pub logistics_no: String,
    pub area_code: String,
    pub customs_code: String,
    pub buyer: view::Buyer,
    pub released_at: Option<chrono::DateTime<chrono::Utc>>,
    pub return_status: Option<i32>,
    pub apply_deadline: Option<chrono::DateTime<chrono::Utc>>,
    pub arrival_deadline: Option<chrono::DateTime<chrono::Utc>>,
    pub lines: Vec<DeclarationLineOut>,
}

#[utoipa::path(get, path = "/api/v1/declarations/{invt_no}", params(("invt_no" = String, Path, description = "the list's invtNo")), responses((status = 200, body = DeclarationView), (status = 404, description = "no such list (for floor staff: not addressed to their warehouse)")))]
pub async fn get_declaration(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let invt_no = upper(path);
    let actor = s.actor();
    let out = read(&state, move |c| {
        let unknown = || AppError::NotFound(format!("list {invt_no} is unknown"));
        let d = store::declaration(c, &invt_no)?.ok_or_else(unknown)?;
        // Floor staff read only the lists addressed to their own warehouse's operator (list
        // numbers are sequential: another warehouse's are not theirs to read, nor to know of).
        if !crate::flows::returns::list_visible_to(c, &actor, &d)? {
            return Err(unknown());
        }
        let lines = store::declaration_lines(c, &invt_no)?;
        use crate::domain::deadlines as dl;
        Ok(DeclarationView {
            buyer: view::buyer(&d, &actor),
            invt_no: d.invt_no,
            order_no: d.order_no,
            ebp: view::Party {
                code: d.ebp_code,
                name: d.ebp_name,
            },
            ebc: view::Party {
                code: d.ebc_code,
                name: d.ebc_name,
            },
            agent: view::Party {
                code: d.agent_code,
                name: d.agent_name,
            },
            logistics: view::Party {
                code: d.logistics_code,
                name: d.logistics_name,
            },
            logistics_no: d.logistics_no,
            area_code: d.area_code,
            customs_code: d.customs_code,
            released_at: d.released_at.map(|t| t.and_utc()),
            return_status: d.return_status,
            apply_deadline: d.released_at.map(|t| dl::apply_deadline(t).and_utc()),
            arrival_deadline: d.released_at.map(|t| dl::arrival_deadline(t).and_utc()),
            lines: lines
                .into_iter()
                .map(|l| DeclarationLineOut {
                    gnum: l.gnum,
                    gcode: l.gcode,
                    gname: l.gname,
                    qty: l.qty,
                    unit: l.unit,
                    bar_code: l.bar_code,
                    price: l.price,
                })
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Imports one CEB621 / CEB622 / CEB625 / CEB626 message (XML body).
#[utoipa::path(post, path = "/api/v1/imports", request_body(content = String, content_type = "application/xml", description = "one CEB621, CEB622, CEB625 or CEB626 message"), responses((status = 200, description = "what each item of the message did (refused items are reported, not refused)", body = ImportReport), (status = 403, description = "only supervisors and admins import (`forbidden`)")))]
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin, Role::Supervisor])?;
    let ct = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !(ct.starts_with("application/xml") || ct.starts_with("text/xml")) {
        return Err(AppError::UnsupportedMediaType(
            "send the customs message as application/xml".into(),
        ));
    }
    let xml = body.clone();
    let parsed = off_thread(move || imports::parse(&xml)).await??;
    mutate_parsed(&state, &req, &s, &body, parsed, |tx, actor, parsed| {
        ok(&imports::record(tx, actor, &parsed)?)
    })
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReturnPage {
    pub items: Vec<Summary>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/returns", params(ListQuery), responses((status = 200, description = "a page of returns, newest first (floor staff: their warehouse's)", body = ReturnPage)))]
pub async fn list_returns(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<ListQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let f = query(q)?;
    let actor = s.actor();
    let (items, next_cursor) = read(&state, move |c| view::list(c, &actor, &f)).await?;
    Ok(HttpResponse::Ok().json(ReturnPage { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/returns/{id}", params(("id" = String, Path, description = "the return id")), responses((status = 200, body = ReturnView), (status = 404, description = "no such return (for floor staff: not in their warehouse)")))]
pub async fn get_return(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = upper(path);
    let actor = s.actor();
    let v = read(&state, move |c| view::one(c, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A return application: 201 with the new return (state `declared`).
#[utoipa::path(post, path = "/api/v1/returns", request_body = ApplyInput, responses((status = 201, description = "the new return, `declared`", body = ReturnView), (status = 403, description = "the list is for another warehouse's operator (`forbidden`); a party is excluded (`enterprise_excluded`)"), (status = 404, description = "no such list, or the floor worker's warehouse is gone"), (status = 409, description = "the list is not released (`invalid_state`), or another request took the id (`conflict`)"), (status = 422, description = "more than the list leaves to return (`quantity_exceeds`); past the 30-day limit (`deadline_passed`)")))]
pub async fn create_return(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin, Role::Supervisor, Role::Floor])?;
    // With the customs client's outbox set, the application is filed for it in the same
    // transaction (written into the folder after the commit).
    let outbox = state
        .config
        .ceb_folders
        .outbox
        .as_ref()
        .map(|_| state.config.base_transfer.clone());
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: ApplyInput| {
            let r = apply::apply(tx, actor, &input, None, None)?;
            if let Some(base) = &outbox {
                crate::ceb_folders::outbox::enqueue(tx, &r, base)?;
            }
            // Floor staff apply only for their own warehouse's parcels, so they see the new return
            // (with the buyer masked, as always for them).
            created(&view::one(tx.conn, actor, &r.id)?)
        },
    )
    .await
}

/// Answers a step with the updated return (built from what the step read and saved), or
/// with the refusal after a customs hold. The answer is stored with the Idempotency-Key in
/// the same transaction, so it is made here, by the writer.
fn step_answer(tx: &mut Tx<'_>, actor: &Actor, step: Step<Done>) -> Result<Answer, AppError> {
    match step {
        Step::Done(done) => ok(&view::of_step(tx, actor, done)?),
        Step::Held(e) => refusal_after_change(&e),
    }
}

macro_rules! floor_step {
    ($name:ident, $path:literal, $input:ty, $flow:path, $stock_bin:expr, $($response:tt),*) => {
        #[utoipa::path(post, path = $path, request_body = $input, params(("id" = String, Path, description = "the return id")), responses(
            (status = 200, description = "the return after the step", body = ReturnView),
            (status = 403, description = "only floor staff do the steps (`forbidden`), in their own warehouse; a party or the warehouse's operator is excluded (`enterprise_excluded`; a return in the warehouse is put on customs hold)"),
            (status = 404, description = "no such return (or not in the worker's warehouse), or no such warehouse"),
            (status = 409, description = "not possible in the return's state, or on customs hold (`invalid_state`)"),
            $($response),*
        ))]
        pub async fn $name(state: web::Data<AppState>, req: HttpRequest, caller: FloorCaller, path: web::Path<String>, body: web::Bytes) -> Result<HttpResponse, AppError> {
            caller.session().require(&[Role::Floor])?;
            let id = upper(path);
            let return_id = id.clone();
            let of = move |input: &$input| StepOf { return_id, stock_bin: ($stock_bin)(input) };
            mutate_floor(&state, &req, &caller, &body, of, move |tx, actor, input: $input| {
                let step = $flow(tx, actor, &id, &input)?;
                step_answer(tx, actor, step)
            })
            .await
        }
    };
}

/// Receives a parcel at the dock; with `printer`, its return label is queued for that printer
/// in the same transaction (the answer's `print_job`) and sent by the printing worker.
#[utoipa::path(post, path = "/api/v1/returns/{id}/receive", request_body = ReceiveInput, params(("id" = String, Path, description = "the return id")), responses(
    (status = 200, description = "the return after the step (with `print_job` when a printer was named)", body = ReturnView),
    (status = 400, description = "the camera or the bin is not in the warehouse, or the bin is not for receiving (`validation`)"),
    (status = 403, description = "only floor staff do the steps (`forbidden`), in their own warehouse; a party or the warehouse's operator is excluded (`enterprise_excluded`; a return in the warehouse is put on customs hold)"),
    (status = 404, description = "no such return (or not in the worker's warehouse), or no such warehouse"),
    (status = 409, description = "not possible in the return's state, or on customs hold (`invalid_state`)"),
))]
pub async fn receive_return(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: FloorCaller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    caller.session().require(&[Role::Floor])?;
    let id = upper(path);
    let return_id = id.clone();
    let of = move |_: &ReceiveInput| StepOf {
        return_id,
        stock_bin: None,
    };
    let answer = mutate_floor(
        &state,
        &req,
        &caller,
        &body,
        of,
        move |tx, actor, input: ReceiveInput| match receive::receive_and_print(
            tx, actor, &id, &input,
        )? {
            Step::Done((done, job)) => {
                let mut v = view::of_step(tx, actor, done)?;
                v.print_job = job.map(Into::into);
                ok(&v)
            }
            Step::Held(e) => refusal_after_change(&e),
        },
    )
    .await;
    if answer.is_ok() {
        // A label may wait: the worker need not wait for its next look.
        crate::printing::wake();
    }
    answer
}
floor_step!(
    sort_return,
    "/api/v1/returns/{id}/sort",
    SortInput,
    sort::sort,
    |_| None,
    (
        status = 400,
        description = "an item is not valid, or the bin is not in the warehouse (`validation`)"
    )
);
floor_step!(
    inspect_return,
    "/api/v1/returns/{id}/inspect",
    InspectInput,
    inspect::inspect,
    |_| None,
    (
        status = 400,
        description =
            "a line is not graded, or its grades do not add up to what was sorted (`validation`)"
    )
);
floor_step!(
    restock_return,
    "/api/v1/returns/{id}/restock",
    RestockInput,
    settle::restock,
    |i: &RestockInput| crate::domain::ids::place_code("bin", &i.bin, 30).ok(),
    (status = 422, description = "more than the intact units left (`quantity_exceeds`); the return arrived late and may not be restocked (`deadline_passed`)")
);
floor_step!(
    dispose_return,
    "/api/v1/returns/{id}/dispose",
    DisposeInput,
    settle::dispose,
    |_| None,
    (
        status = 422,
        description = "more units than are left to settle (`quantity_exceeds`)"
    )
);

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(schema_with = crate::domain::ids::schema::text_500)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/hold", request_body = ReasonInput, params(("id" = String, Path, description = "the return id")), responses((status = 200, body = ReturnView), (status = 403, description = "only supervisors hold returns (`forbidden`)"), (status = 404, description = "no such return"), (status = 409, description = "not possible in its state (`invalid_state`)")))]
pub async fn hold_return(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor])?;
    let id = upper(path);
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: ReasonInput| {
            let reason = crate::domain::ids::text("reason", &input.reason, 500)?;
            hold::hold_visible(tx, actor, &id, &reason)?;
            ok(&view::one(tx.conn, actor, &id)?)
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/release", request_body = ReasonInput, params(("id" = String, Path, description = "the return id")), responses((status = 200, body = ReturnView), (status = 403, description = "only supervisors release returns (`forbidden`); a party is still excluded (`enterprise_excluded`)"), (status = 404, description = "no such return"), (status = 409, description = "not on hold (`invalid_state`)")))]
pub async fn release_return(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor])?;
    let id = upper(path);
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: ReasonInput| {
            let reason = crate::domain::ids::text("reason", &input.reason, 500)?;
            // Releasing does not lift an exclusion: a party still excluded keeps the return held.
            hold::release_visible(tx, actor, &id, &reason)?;
            ok(&view::one(tx.conn, actor, &id)?)
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/disposals", params(("status" = Option<String>, Query, description = "pending_approval (the default), done or rejected", pattern = "^(pending_approval|done|rejected)$")), responses((status = 200, body = Items<view::DisposalItem>), (status = 403, description = "only supervisors and admins (`forbidden`)")))]
pub async fn list_disposals(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<StatusQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor, Role::Admin])?;
    let status = query(q)?
        .status
        .unwrap_or_else(|| "pending_approval".into());
    if !["pending_approval", "done", "rejected"].contains(&status.as_str()) {
        return Err(AppError::validation(
            "status",
            "pending_approval, done or rejected",
        ));
    }
    let items = read(&state, move |c| view::disposals_for_decision(c, &status)).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
    approve: bool,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Supervisor])?;
    let id: i64 = path
        .into_inner()
        .parse()
        .map_err(|_| AppError::NotFound("no such disposal".into()))?;
    mutate(
        &state,
        &req,
        &s,
        &body,
        move |tx, actor, input: ReasonInput| {
            let step = settle::decide(tx, actor, id, approve, &input.reason)?;
            step_answer(tx, actor, step)
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/disposals/{id}/approve", request_body = ReasonInput, params(("id" = String, Path, description = "the disposal id")), responses((status = 200, body = ReturnView), (status = 403, description = "only supervisors decide (`forbidden`); a party is excluded (`enterprise_excluded`, the return put on hold)"), (status = 404, description = "no such disposal"), (status = 409, description = "already decided, or the return is not inspected (`invalid_state`)")))]
pub async fn approve_disposal(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    decide(state, req, s, path, body, true).await
}

#[utoipa::path(post, path = "/api/v1/disposals/{id}/reject", request_body = ReasonInput, params(("id" = String, Path, description = "the disposal id")), responses((status = 200, body = ReturnView), (status = 403, description = "only supervisors decide (`forbidden`); a party is excluded (`enterprise_excluded`, the return put on hold)"), (status = 404, description = "no such disposal"), (status = 409, description = "already decided, or the return is not inspected (`invalid_state`)")))]
pub async fn reject_disposal(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    decide(state, req, s, path, body, false).await
}

fn xml(body: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

#[utoipa::path(get, path = "/api/v1/returns/{id}/ceb625.xml", params(("id" = String, Path, description = "the return id")), responses((status = 200, description = "the CEB625 message", content_type = "application/xml"), (status = 403, description = "only supervisors and admins export (`forbidden`)"), (status = 404, description = "no such return"), (status = 409, description = "the message cannot be written from what is recorded (`conflict`)")))]
pub async fn ceb625_one(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin, Role::Supervisor])?;
    let id = upper(path);
    let base = state.config.base_transfer.clone();
    let id2 = id.clone();
    let mut msgs = read(&state, move |c| {
        let r = store::get(c, &id2)?
            .ok_or_else(|| AppError::NotFound(format!("return {id2} does not exist")))?;
        return_customs::ceb625_messages(c, &[r], &base)
    })
    .await?;
    let body = msgs
        .pop()
        .ok_or_else(|| AppError::Internal("no message".into()))?;
    Ok(xml(body, &format!("CEB625_{id}.xml")))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IdsQuery {
    /// Comma-separated return ids, 1 to 10000.
    #[param(min_length = 1)]
    ids: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Messages {
    pub messages: Vec<String>,
}

/// CEB625 for several returns: one XML message for up to 100, or with more ids a JSON
/// `{"messages": [...]}` of messages of at most 100 applications each.
#[utoipa::path(get, path = "/api/v1/exports/ceb625", params(IdsQuery), responses((status = 200, description = "one CEB625 message for up to 100 returns; with more, `{\"messages\": [...]}` of messages of at most 100 each", content((String = "application/xml"), (Messages = "application/json"))), (status = 403, description = "only supervisors and admins export (`forbidden`)"), (status = 404, description = "no such return"), (status = 409, description = "a message cannot be written from what is recorded (`conflict`)")))]
pub async fn ceb625_batch(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<IdsQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    s.require(&[Role::Admin, Role::Supervisor])?;
    let ids: Vec<String> = query(q)?
        .ids
        .split(',')
        .map(|i| i.trim().to_ascii_uppercase())
        .filter(|i| !i.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > 10_000 {
        return Err(AppError::validation(
            "ids",
            "1 to 10000 comma-separated return ids",
        ));
    }
    let base = state.config.base_transfer.clone();
    let msgs = read(&state, move |c| {
        let mut rows = Vec::new();
        for id in &ids {
            rows.push(
                store::get(c, id)?
                    .ok_or_else(|| AppError::NotFound(format!("return {id} does not exist")))?,
            );
        }
        return_customs::ceb625_messages(c, &rows, &base)
    })
    .await?;
    if msgs.len() == 1 {
        let body = msgs.into_iter().next().unwrap_or_default();
        return Ok(xml(body, "CEB625.xml"));
    }
    Ok(HttpResponse::Ok().json(Messages { messages: msgs }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanQuery {
    #[serde(rename = "return")]
    ret: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/scan/{code}", params(("code" = String, Path, description = "what was scanned: a return id, waybill, product barcode, item label or bin", min_length = 1, max_length = 100), ("return" = Option<String>, Query, description = "the open return, to match product barcodes and HS codes; without it a product barcode answers what the product is, with no return")), responses((status = 200, body = scan::ScanResult), (status = 404, description = "nothing known by this code (for floor staff: in their warehouse)")))]
pub async fn scan_code(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<String>,
    q: Result<web::Query<ScanQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let current = query(q)?.ret;
    let actor = s.actor();
    let r = read(&state, move |c| {
        scan::resolve(c, &actor, &code, current.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    owner: Option<String>,
    gcode: Option<String>,
    bin: Option<String>,
    warehouse: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StockOut {
    pub owner: String,
    pub gcode: String,
    pub gname: String,
    pub warehouse: String,
    pub bin: String,
    pub qty: i64,
}

#[utoipa::path(get, path = "/api/v1/stock", params(StockQuery), responses((status = 200, description = "bonded stock put back by restocking (floor staff: their warehouse's)", body = Items<StockOut>)))]
pub async fn stock(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<StockQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let f = query(q)?;
    let warehouse = if s.role == Role::Floor {
        s.warehouse.clone()
    } else {
        f.warehouse.map(|w| w.to_ascii_uppercase())
    };
    let rows = read(&state, move |c| {
        store::stock(
            c,
            f.owner.map(|o| o.to_ascii_uppercase()).as_deref(),
            f.gcode.as_deref(),
            f.bin.map(|b| b.to_ascii_uppercase()).as_deref(),
            warehouse.as_deref(),
        )
    })
    .await?;
    let items: Vec<StockOut> = rows
        .into_iter()
        .map(|r| StockOut {
            owner: r.owner_code,
            gcode: r.gcode,
            gname: r.gname,
            warehouse: r.warehouse_code,
            bin: r.bin_code,
            qty: r.qty,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Items { items }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    warehouse: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/stats", params(("warehouse" = Option<String>, Query, description = "one warehouse (floor staff: always their own)")), responses((status = 200, body = stats::Stats)))]
pub async fn get_stats(
    state: web::Data<AppState>,
    s: Session,
    q: Result<web::Query<StatsQuery>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let w = query(q)?.warehouse;
    let actor = s.actor();
    let out = read(&state, move |c| stats::stats(c, &actor, w.as_deref())).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_declaration,
    get_declaration,
    import,
    list_returns,
    get_return,
    create_return,
    receive_return,
    sort_return,
    inspect_return,
    restock_return,
    dispose_return,
    hold_return,
    release_return,
    list_disposals,
    approve_disposal,
    reject_disposal,
    ceb625_one,
    ceb625_batch,
    scan_code,
    stock,
    get_stats
))]
pub struct FlowApi;

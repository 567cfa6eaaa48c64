//! Labels straight to the printer: printers registered per warehouse by an admin, and print
//! jobs (打印任务) made in the transaction of what asks for them (a receive naming a printer, a
//! print request, a reprint). The worker in `crate::printing` claims a due job here, sends it
//! outside any transaction, and records how it went here. The jobs are the record of every
//! label printed: who asked, which label, which printer, each try and its result.
//!
//! One sender per job, even with several nodes on one PostgreSQL: a job is claimed in a write
//! transaction, and write transactions hold the cluster-wide write lock (`db::writer`), so
//! the second node to look sees it claimed. A claim runs out after a while (the worker that
//! took it stopped); the job is then sent again, so a label may rarely print twice, never zero
//! times.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, Changes, NewEntry};
use crate::db::parties as places;
use crate::db::printing::{self as store, JobRow, NewJob, PrinterRow};
use crate::db::writer::Tx;
use crate::db::DbConn;
use crate::domain::ids;
use crate::domain::printing::{
    after_failure, AfterFailure, Failure, JobState, LabelKind, PrinterAddress, PRINTER_DPI,
    PRINTER_SIZES,
};
use crate::domain::roles::BIN_AREAS;
use crate::error::{AppError, FieldError};

// ---------------------------------------------------------------------------------------------
// Printers (admin).

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrinterInput {
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub code: String,
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub name: String,
    /// `host:port` of the printer's raw TCP port (`192.168.1.50:9100`); the port is 9100 when
    /// left out.
    #[schema(schema_with = address_schema)]
    pub address: String,
    /// 203, 300 or 600 (203 when left out).
    #[serde(default)]
    #[schema(schema_with = dpi_schema)]
    pub dpi: Option<u32>,
    /// The labels loaded in it: 100x150 (the default) or 60x40.
    #[serde(default)]
    #[schema(schema_with = size_schema)]
    pub size: Option<String>,
    /// The area it serves (receiving: the dock).
    #[schema(schema_with = crate::domain::ids::schema::bin_area)]
    pub area: String,
    /// In service (true when left out).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A change to a printer: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrinterChange {
    #[serde(default)]
    #[schema(schema_with = crate::domain::ids::schema::text_100)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = address_schema)]
    pub address: Option<String>,
    #[serde(default)]
    #[schema(schema_with = dpi_schema)]
    pub dpi: Option<u32>,
    #[serde(default)]
    #[schema(schema_with = size_schema)]
    pub size: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::domain::ids::schema::bin_area)]
    pub area: Option<String>,
    /// false: out of service (its waiting labels are not printed and wait for a person).
    #[serde(default)]
    pub enabled: Option<bool>,
}

fn address_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(260))
        .description(Some(
            "host:port of the printer's raw TCP port (IPv4, [IPv6] or a host name; port 9100 when left out)",
        ))
        .build()
}

fn dpi_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some([203, 300, 600]))
        .description(Some("the printer's resolution in dots per inch"))
        .build()
}

fn size_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(PRINTER_SIZES))
        .description(Some("the labels loaded in the printer, in millimetres"))
        .build()
}

/// A printer as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrinterView {
    pub warehouse: String,
    pub code: String,
    pub name: String,
    pub address: String,
    pub dpi: i32,
    pub size: String,
    pub area: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PrinterRow> for PrinterView {
    fn from(p: PrinterRow) -> Self {
        Self {
            warehouse: p.warehouse_code,
            code: p.code,
            name: p.name,
            address: p.address,
            dpi: p.dpi,
            size: p.size,
            area: p.area,
            enabled: p.enabled,
            created_at: p.created_at.and_utc(),
            updated_at: p.updated_at.and_utc(),
        }
    }
}

fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, AppError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(AppError::Validation(mut v)) => {
            errors.append(&mut v);
            None
        }
        Err(_) => None,
    }
}

fn parse_address(s: &str) -> Result<String, AppError> {
    PrinterAddress::parse(s)
        .map(|a| a.to_string())
        .ok_or_else(|| {
            AppError::broke(
                "address",
                "give the printer's host:port, e.g. 192.168.1.50:9100 (port 9100 when left out)",
                "printer_address",
                None,
            )
        })
}

fn parse_dpi(dpi: u32) -> Result<i32, AppError> {
    if PRINTER_DPI.contains(&dpi.to_string().as_str()) {
        Ok(dpi as i32)
    } else {
        Err(AppError::Validation(vec![FieldError::one_of(
            "dpi",
            &PRINTER_DPI,
        )]))
    }
}

fn parse_size(s: &str) -> Result<String, AppError> {
    // The names the label endpoints take (`mm`, `×` and capitals too), written as theirs.
    match s.parse::<crate::labels::Size>() {
        Ok(size) if PRINTER_SIZES.contains(&size.name()) => Ok(size.name().to_string()),
        _ => Err(AppError::Validation(vec![FieldError::one_of(
            "size",
            &PRINTER_SIZES,
        )])),
    }
}

fn parse_area(s: &str) -> Result<String, AppError> {
    BIN_AREAS
        .iter()
        .find(|a| **a == s.trim())
        .map(|a| a.to_string())
        .ok_or_else(|| AppError::Validation(vec![FieldError::one_of("area", &BIN_AREAS)]))
}

fn entity(warehouse: &str, code: &str) -> String {
    format!("{warehouse}/{code}")
}

/// Registers a printer in `warehouse` (recorded as `printer.create`).
pub fn create_printer(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    input: &PrinterInput,
) -> Result<PrinterRow, AppError> {
    let mut errors = Vec::new();
    let code = collect(&mut errors, ids::place_code("code", &input.code, 30));
    let name = collect(&mut errors, ids::text("name", &input.name, 100));
    let address = collect(&mut errors, parse_address(&input.address));
    let dpi = collect(&mut errors, parse_dpi(input.dpi.unwrap_or(203)));
    let size = collect(
        &mut errors,
        parse_size(input.size.as_deref().unwrap_or("100x150")),
    );
    let area = collect(&mut errors, parse_area(&input.area));
    let (Some(code), Some(name), Some(address), Some(dpi), Some(size), Some(area)) =
        (code, name, address, dpi, size, area)
    else {
        return Err(AppError::Validation(errors));
    };
    let wh = places::warehouse(tx.conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    super::eligibility::ensure_warehouse_operable(tx.conn, &wh.code, tx.now)?;
    if store::printer(tx.conn, &wh.code, &code)?.is_some() {
        return Err(AppError::AlreadyExists {
            kind: "printer",
            id: entity(&wh.code, &code),
        });
    }
    let row = PrinterRow {
        warehouse_code: wh.code.clone(),
        code: code.clone(),
        name,
        address,
        dpi,
        size,
        area,
        enabled: input.enabled.unwrap_or(true),
        created_at: tx.now,
        updated_at: tx.now,
    };
    store::insert_printer(tx.conn, &row)?;
    tx.audit(
        actor,
        NewEntry {
            action: "printer.create",
            entity_kind: "printer",
            entity_id: &entity(&wh.code, &code),
            warehouse: Some(&wh.code),
            enterprise: Some(&wh.operator_code),
            changes: Changes::new()
                .created("name", &row.name)
                .created("address", &row.address)
                .created("dpi", row.dpi)
                .created("size", &row.size)
                .created("area", &row.area)
                .created("enabled", row.enabled),
            reason: None,
        },
    )?;
    Ok(row)
}

fn existing_printer(tx: &mut Tx<'_>, warehouse: &str, code: &str) -> Result<PrinterRow, AppError> {
    let code = code.trim().to_ascii_uppercase();
    store::printer(tx.conn, warehouse, &code)?.ok_or_else(|| {
        AppError::NotFound(format!(
            "printer {code} is not registered in warehouse {warehouse}"
        ))
    })
}

/// Changes a printer (recorded as `printer.update`, with what changed). Taken out of service,
/// its labels waiting to be printed stop waiting for it: they wait for a person instead.
pub fn update_printer(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    code: &str,
    input: &PrinterChange,
) -> Result<PrinterRow, AppError> {
    let mut errors = Vec::new();
    let name = input
        .name
        .as_deref()
        .map(|n| collect(&mut errors, ids::text("name", n, 100)));
    let address = input
        .address
        .as_deref()
        .map(|a| collect(&mut errors, parse_address(a)));
    let dpi = input.dpi.map(|d| collect(&mut errors, parse_dpi(d)));
    let size = input
        .size
        .as_deref()
        .map(|s| collect(&mut errors, parse_size(s)));
    let area = input
        .area
        .as_deref()
        .map(|a| collect(&mut errors, parse_area(a)));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let before = existing_printer(tx, warehouse, code)?;
    let wh = places::warehouse(tx.conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    super::eligibility::ensure_warehouse_operable(tx.conn, &wh.code, tx.now)?;
    let mut after = before.clone();
    if let Some(Some(v)) = name {
        after.name = v;
    }
    if let Some(Some(v)) = address {
        after.address = v;
    }
    if let Some(Some(v)) = dpi {
        after.dpi = v;
    }
    if let Some(Some(v)) = size {
        after.size = v;
    }
    if let Some(Some(v)) = area {
        after.area = v;
    }
    if let Some(v) = input.enabled {
        after.enabled = v;
    }
    let changes = Changes::new()
        .set("name", &before.name, &after.name)
        .set("address", &before.address, &after.address)
        .set("dpi", before.dpi, after.dpi)
        .set("size", &before.size, &after.size)
        .set("area", &before.area, &after.area)
        .set("enabled", before.enabled, after.enabled);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = tx.now;
    store::update_printer(tx.conn, &after)?;
    tx.audit(
        actor,
        NewEntry {
            action: "printer.update",
            entity_kind: "printer",
            entity_id: &entity(&after.warehouse_code, &after.code),
            warehouse: Some(&after.warehouse_code),
            enterprise: Some(&wh.operator_code),
            changes,
            reason: None,
        },
    )?;
    if before.enabled && !after.enabled {
        stop_waiting_for(
            tx,
            &after.warehouse_code,
            &after.code,
            Failure::PrinterDisabled,
        )?;
    }
    Ok(after)
}

/// Removes a printer (recorded as `printer.delete`). Its print jobs stay on record; those
/// still waiting for it wait for a person instead (to be printed elsewhere).
pub fn delete_printer(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    code: &str,
) -> Result<(), AppError> {
    let p = existing_printer(tx, warehouse, code)?;
    let wh = places::warehouse(tx.conn, warehouse)?
        .ok_or_else(|| AppError::NotFound(format!("warehouse {warehouse} does not exist")))?;
    store::delete_printer(tx.conn, &p.warehouse_code, &p.code)?;
    tx.audit(
        actor,
        NewEntry {
            action: "printer.delete",
            entity_kind: "printer",
            entity_id: &entity(&p.warehouse_code, &p.code),
            warehouse: Some(&p.warehouse_code),
            enterprise: Some(&wh.operator_code),
            changes: Changes::new().set("name", &p.name, None::<String>).set(
                "address",
                &p.address,
                None::<String>,
            ),
            reason: None,
        },
    )?;
    stop_waiting_for(tx, &p.warehouse_code, &p.code, Failure::PrinterRemoved)
}

/// The queued jobs of a printer that can no longer print them wait for a person.
fn stop_waiting_for(
    tx: &mut Tx<'_>,
    warehouse: &str,
    code: &str,
    why: Failure,
) -> Result<(), AppError> {
    for mut job in store::open_jobs_of_printer(tx.conn, warehouse, code)? {
        // One being sent now ends as its sender finds.
        if job.state != JobState::Queued.as_str() {
            continue;
        }
        job.state = JobState::Failed.as_str().into();
        job.error = Some(why.as_str().into());
        job.error_detail = Some(failure_detail(why).into());
        job.next_try_at = None;
        job.updated_at = tx.now;
        store::update_job(tx.conn, &job)?;
    }
    Ok(())
}

fn failure_detail(why: Failure) -> &'static str {
    match why {
        Failure::PrinterDisabled => "the printer has been taken out of service",
        Failure::PrinterRemoved => "the printer is no longer registered",
        Failure::Label => "the label cannot be printed on this printer",
        Failure::Refused => "nothing answers at the printer's address",
        Failure::Timeout => "the printer did not answer in time",
        Failure::Unreachable => "the printer cannot be reached",
        Failure::Reset => "the printer dropped the connection",
    }
}

// ---------------------------------------------------------------------------------------------
// Print jobs.

/// A print job as the API shows it: the record of one label sent to a printer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrintJobView {
    pub id: i64,
    pub warehouse: String,
    /// The printer's code, and its name when the job was made.
    pub printer: String,
    pub printer_name: String,
    pub label: LabelKind,
    /// The return id (return and item labels) or the bin code.
    pub label_id: String,
    /// The line of an item label.
    pub gnum: Option<i32>,
    /// `receive` (printed on receiving) or `request` (asked for).
    pub origin: String,
    pub state: JobState,
    /// Tries so far.
    pub attempts: i32,
    /// Why the last try failed (cleared once it is sent).
    pub error: Option<Failure>,
    /// The same in the system's words (English), for a supervisor.
    pub error_detail: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// When it is tried next (queued).
    pub next_try_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The label size and resolution it was last sent with.
    pub size: Option<String>,
    pub dpi: Option<i32>,
    /// Who last asked for it again, and when.
    pub retried_by: Option<String>,
    pub retried_at: Option<DateTime<Utc>>,
    /// What they said when they cancelled it.
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<JobRow> for PrintJobView {
    fn from(j: JobRow) -> Self {
        Self {
            id: j.id,
            warehouse: j.warehouse_code,
            printer: j.printer_code,
            printer_name: j.printer_name,
            label: LabelKind::parse(&j.label_kind).unwrap_or(LabelKind::Return),
            label_id: j.label_id,
            gnum: j.gnum,
            origin: j.origin,
            state: JobState::parse(&j.state).unwrap_or(JobState::Failed),
            attempts: j.attempts,
            error: j.error.as_deref().and_then(Failure::parse),
            error_detail: j.error_detail,
            requested_by: j.requested_by,
            requested_at: j.requested_at.and_utc(),
            next_try_at: j.next_try_at.map(|t| t.and_utc()),
            sent_at: j.sent_at.map(|t| t.and_utc()),
            size: j.size,
            dpi: j.dpi,
            retried_by: j.retried_by,
            retried_at: j.retried_at.map(|t| t.and_utc()),
            note: j.note,
            updated_at: j.updated_at.and_utc(),
        }
    }
}

/// One label to print.
#[derive(Debug, Clone)]
pub struct LabelRef {
    pub kind: LabelKind,
    pub id: String,
    pub gnum: Option<i32>,
}

/// Queues `label` for printer `code` of `warehouse`, in the caller's transaction. A printer
/// that is not there (removed since the handheld chose it) or out of service gets the job
/// anyway, already waiting for a person: the label is never silently not printed.
pub fn queue(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    code: &str,
    label: &LabelRef,
    origin: &str,
) -> Result<JobRow, AppError> {
    tx.writing();
    let printer = store::printer(tx.conn, warehouse, code)?;
    let refused = match &printer {
        None => Some(Failure::PrinterRemoved),
        Some(p) if !p.enabled => Some(Failure::PrinterDisabled),
        Some(_) => None,
    };
    let (state, next_try_at) = match refused {
        None => (JobState::Queued, Some(tx.now)),
        Some(_) => (JobState::Failed, None),
    };
    let name = printer.as_ref().map(|p| p.name.as_str()).unwrap_or(code);
    let id = store::insert_job(
        tx.conn,
        &NewJob {
            warehouse_code: warehouse,
            printer_code: code,
            printer_name: name,
            label_kind: label.kind.as_str(),
            label_id: &label.id,
            gnum: label.gnum,
            origin,
            state: state.as_str(),
            attempts: 0,
            failures: 0,
            error: refused.map(Failure::as_str),
            error_detail: refused.map(failure_detail),
            requested_by: &actor.username,
            requested_at: tx.now,
            next_try_at,
            updated_at: tx.now,
        },
    )?;
    store::job(tx.conn, id)?.ok_or_else(|| AppError::Internal("the new print job is gone".into()))
}

/// A print request: which label.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrintInput {
    /// return, bin or item.
    #[schema(schema_with = label_kind_schema)]
    pub label: String,
    /// The return id (return and item labels) or the bin code (bin labels, of the printer's
    /// warehouse).
    #[schema(schema_with = crate::domain::ids::schema::bin_code)]
    pub id: String,
    /// The line of an item label.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub gnum: Option<i32>,
}

fn label_kind_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(LabelKind::NAMES))
        .build()
}

/// Prints a label on printer `code` of `warehouse`: the label must be one the actor may see,
/// of that warehouse.
pub fn request(
    tx: &mut Tx<'_>,
    actor: &Actor,
    warehouse: &str,
    code: &str,
    input: &PrintInput,
) -> Result<JobRow, AppError> {
    let kind = LabelKind::parse(input.label.trim()).ok_or_else(|| {
        AppError::Validation(vec![FieldError::one_of("label", &LabelKind::NAMES)])
    })?;
    let id = ids::place_code("id", &input.id, 30)?;
    let gnum = match (kind, input.gnum) {
        (LabelKind::Item, None) => {
            return Err(AppError::broke(
                "gnum",
                "an item label needs the line (gnum)",
                "required",
                None,
            ))
        }
        (LabelKind::Item, g) => g,
        (_, _) => None,
    };
    if actor.role == "floor" && actor.warehouse.as_deref() != Some(warehouse) {
        return Err(AppError::NotFound(format!(
            "warehouse {warehouse} does not exist"
        )));
    }
    let printer = existing_printer(tx, warehouse, code)?;
    super::eligibility::ensure_warehouse_operable(tx.conn, warehouse, tx.now)?;
    match kind {
        LabelKind::Return | LabelKind::Item => {
            let l = super::returns::load_visible(tx.conn, actor, &id)?;
            if let Some(w) = l.ret.warehouse_code.as_deref().filter(|w| *w != warehouse) {
                return Err(AppError::Conflict(format!(
                    "return {id} is in warehouse {w}: print its label on a printer there"
                )));
            }
            if let Some(g) = gnum {
                super::labels::item_label(tx.conn, actor, &id, g)?;
            }
        }
        LabelKind::Bin => {
            super::labels::bin_label(tx.conn, warehouse, &id)?;
        }
    }
    queue(
        tx,
        actor,
        warehouse,
        &printer.code,
        &LabelRef { kind, id, gnum },
        "request",
    )
}

/// A reprint, possibly on another printer of the same warehouse.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryInput {
    /// Another printer of the job's warehouse to print it on (the same one when left out).
    #[serde(default)]
    #[schema(schema_with = crate::domain::ids::schema::bin_code_or_null)]
    pub printer: Option<String>,
}

/// Dropping a label from the print queue.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// Why, e.g. "printed from the browser" (kept with the job).
    #[serde(default)]
    #[schema(schema_with = crate::domain::ids::schema::text_200)]
    pub reason: Option<String>,
}

/// A job the actor may act on (floor staff: of their own warehouse; others' are not found).
fn visible_job(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<JobRow, AppError> {
    let job = store::job(conn, id)?
        .ok_or_else(|| AppError::NotFound(format!("print job {id} does not exist")))?;
    if actor.role == "floor" && actor.warehouse.as_deref() != Some(job.warehouse_code.as_str()) {
        return Err(AppError::NotFound(format!("print job {id} does not exist")));
    }
    Ok(job)
}

/// One job, as `actor` may see it.
pub fn job(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<PrintJobView, AppError> {
    visible_job(conn, actor, id).map(PrintJobView::from)
}

/// Jobs, newest first (floor staff: their own warehouse's).
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    mut filter: store::JobFilter,
) -> Result<Vec<PrintJobView>, AppError> {
    if actor.role == "floor" {
        filter.warehouse = actor.warehouse.clone();
    }
    Ok(store::list_jobs(conn, &filter)?
        .into_iter()
        .map(PrintJobView::from)
        .collect())
}

/// A person asks for a label again now: a failed, cancelled or waiting job is sent at once
/// (on `printer` when given), with its automatic tries counted afresh.
pub fn retry(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: i64,
    input: &RetryInput,
) -> Result<JobRow, AppError> {
    let new_printer = input
        .printer
        .as_deref()
        .map(|p| ids::place_code("printer", p, 30))
        .transpose()?;
    let mut job = visible_job(tx.conn, actor, id)?;
    let state = JobState::parse(&job.state).unwrap_or(JobState::Failed);
    if !state.may_reprint() {
        return Err(AppError::InvalidState(match state {
            JobState::Sent => format!("print job {id} was sent: print the label again instead"),
            _ => format!("print job {id} is being sent right now"),
        }));
    }
    let code = new_printer.unwrap_or_else(|| job.printer_code.clone());
    let printer = existing_printer(tx, &job.warehouse_code, &code)?;
    super::eligibility::ensure_warehouse_operable(tx.conn, &job.warehouse_code, tx.now)?;
    if !printer.enabled {
        return Err(AppError::Conflict(format!(
            "printer {} is out of service: choose another one",
            printer.code
        )));
    }
    job.printer_code = printer.code;
    job.printer_name = printer.name;
    job.state = JobState::Queued.as_str().into();
    job.failures = 0;
    // A new round of tries: its failures, if any, are said afresh.
    job.error = None;
    job.error_detail = None;
    job.next_try_at = Some(tx.now);
    job.claim = None;
    job.claimed_until = None;
    job.retried_by = Some(actor.username.clone());
    job.retried_at = Some(tx.now);
    job.note = None;
    job.updated_at = tx.now;
    store::update_job(tx.conn, &job)?;
    Ok(job)
}

/// A person drops a label that is still to be printed (printed otherwise, or not needed).
pub fn cancel(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: i64,
    input: &CancelInput,
) -> Result<JobRow, AppError> {
    let reason = input
        .reason
        .as_deref()
        .map(|r| ids::text("reason", r, 200))
        .transpose()?;
    let mut job = visible_job(tx.conn, actor, id)?;
    let state = JobState::parse(&job.state).unwrap_or(JobState::Failed);
    match state {
        JobState::Queued | JobState::Failed => {}
        JobState::Cancelled => return Ok(job),
        JobState::Sent | JobState::Sending => {
            return Err(AppError::InvalidState(format!(
                "print job {id} is {}: there is nothing to cancel",
                state.as_str()
            )))
        }
    }
    job.state = JobState::Cancelled.as_str().into();
    job.next_try_at = None;
    job.retried_by = Some(actor.username.clone());
    job.retried_at = Some(tx.now);
    job.note = reason;
    job.updated_at = tx.now;
    store::update_job(tx.conn, &job)?;
    Ok(job)
}

// ---------------------------------------------------------------------------------------------
// The worker's side.

/// What the worker was given by [`claim_next`].
#[derive(Debug)]
pub enum Claimed {
    /// Send this job to this printer, under this claim.
    Send(Box<(JobRow, PrinterRow)>),
    /// The due job could not be sent at all (its printer is gone or out of service): it was
    /// settled without sending; look for the next.
    Settled,
    /// Nothing is due.
    Nothing,
}

/// Claims the job due first for the worker `claim` until `now + lease`.
pub fn claim_next(tx: &mut Tx<'_>, claim: &str, lease: Duration) -> Result<Claimed, AppError> {
    let Some(mut job) = store::due_job(tx.conn, tx.now)? else {
        return Ok(Claimed::Nothing);
    };
    let printer = store::printer(tx.conn, &job.warehouse_code, &job.printer_code)?;
    let refused = match &printer {
        None => Some(Failure::PrinterRemoved),
        Some(p) if !p.enabled => Some(Failure::PrinterDisabled),
        Some(_) => None,
    };
    if let Some(why) = refused {
        job.state = JobState::Failed.as_str().into();
        job.error = Some(why.as_str().into());
        job.error_detail = Some(failure_detail(why).into());
        job.next_try_at = None;
        job.claim = None;
        job.claimed_until = None;
        job.updated_at = tx.now;
        store::update_job(tx.conn, &job)?;
        return Ok(Claimed::Settled);
    }
    let Some(printer) = printer else {
        return Ok(Claimed::Settled);
    };
    job.state = JobState::Sending.as_str().into();
    job.attempts += 1;
    job.claim = Some(claim.to_string());
    job.claimed_until = Some(tx.now + lease);
    job.size = Some(printer.size.clone());
    job.dpi = Some(printer.dpi);
    job.updated_at = tx.now;
    store::update_job(tx.conn, &job)?;
    Ok(Claimed::Send(Box::new((job, printer))))
}

/// How one try went.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The printer took all these bytes.
    Sent {
        bytes: usize,
    },
    Failed {
        why: Failure,
        detail: String,
    },
}

/// Records how the try of job `id` under `claim` went; `attempts` automatic tries are made
/// before a failing job waits for a person. Nothing is recorded when the claim is no longer
/// this worker's (it ran out and another took the job).
pub fn record(
    tx: &mut Tx<'_>,
    id: i64,
    claim: &str,
    outcome: &Outcome,
    attempts: u32,
) -> Result<Option<JobRow>, AppError> {
    let Some(mut job) = store::job(tx.conn, id)? else {
        return Ok(None);
    };
    if job.state != JobState::Sending.as_str() || job.claim.as_deref() != Some(claim) {
        return Ok(None);
    }
    job.claim = None;
    job.claimed_until = None;
    job.updated_at = tx.now;
    match outcome {
        Outcome::Sent { bytes } => {
            job.state = JobState::Sent.as_str().into();
            job.sent_at = Some(tx.now);
            job.bytes = Some(i32::try_from(*bytes).unwrap_or(i32::MAX));
            job.error = None;
            job.error_detail = None;
            job.next_try_at = None;
            job.failures = 0;
        }
        Outcome::Failed { why, detail } => {
            job.failures += 1;
            job.error = Some(why.as_str().into());
            job.error_detail = Some(detail.chars().take(500).collect());
            match after_failure(job.failures.max(0) as u32, attempts, *why) {
                AfterFailure::RetryIn(seconds) => {
                    job.state = JobState::Queued.as_str().into();
                    job.next_try_at = Some(tx.now + Duration::seconds(seconds));
                }
                AfterFailure::WaitForPerson => {
                    job.state = JobState::Failed.as_str().into();
                    job.next_try_at = None;
                }
            }
        }
    }
    store::update_job(tx.conn, &job)?;
    Ok(Some(job))
}

/// When the next job is due, if any (a read, for the worker's sleep).
pub fn next_due(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, AppError> {
    store::next_due(conn)
}

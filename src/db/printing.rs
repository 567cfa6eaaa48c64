//! Label printers of a warehouse, and the print jobs sent to them (the record of every label
//! printed).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{print_jobs, printers};
use super::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = printers)]
pub struct PrinterRow {
    pub warehouse_code: String,
    pub code: String,
    pub name: String,
    /// `host:port` of its raw TCP port.
    pub address: String,
    pub dpi: i32,
    /// `100x150` or `60x40`.
    pub size: String,
    pub area: String,
    pub enabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = print_jobs, treat_none_as_null = true)]
pub struct JobRow {
    pub id: i64,
    pub warehouse_code: String,
    pub printer_code: String,
    pub printer_name: String,
    pub label_kind: String,
    pub label_id: String,
    pub gnum: Option<i32>,
    pub origin: String,
    pub state: String,
    pub attempts: i32,
    pub failures: i32,
    pub error: Option<String>,
    pub error_detail: Option<String>,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub next_try_at: Option<NaiveDateTime>,
    pub claim: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub size: Option<String>,
    pub dpi: Option<i32>,
    pub bytes: Option<i32>,
    pub retried_by: Option<String>,
    pub retried_at: Option<NaiveDateTime>,
    pub note: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = print_jobs)]
pub struct NewJob<'a> {
    pub warehouse_code: &'a str,
    pub printer_code: &'a str,
    pub printer_name: &'a str,
    pub label_kind: &'a str,
    pub label_id: &'a str,
    pub gnum: Option<i32>,
    pub origin: &'a str,
    pub state: &'a str,
    pub attempts: i32,
    pub failures: i32,
    pub error: Option<&'a str>,
    pub error_detail: Option<&'a str>,
    pub requested_by: &'a str,
    pub requested_at: NaiveDateTime,
    pub next_try_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn printer(
    conn: &mut DbConn,
    warehouse: &str,
    code: &str,
) -> Result<Option<PrinterRow>, AppError> {
    Ok(on_inner!(conn, |c| printers::table
        .find((warehouse, code))
        .select(PrinterRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn list_printers(conn: &mut DbConn, warehouse: &str) -> Result<Vec<PrinterRow>, AppError> {
    Ok(printers::table
        .filter(printers::warehouse_code.eq(warehouse))
        .order(printers::code)
        .select(PrinterRow::as_select())
        .load(conn)?)
}

pub fn insert_printer(conn: &mut DbConn, row: &PrinterRow) -> Result<(), AppError> {
    diesel::insert_into(printers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update_printer(conn: &mut DbConn, row: &PrinterRow) -> Result<(), AppError> {
    diesel::update(printers::table.find((&row.warehouse_code, &row.code)))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn delete_printer(conn: &mut DbConn, warehouse: &str, code: &str) -> Result<(), AppError> {
    diesel::delete(printers::table.find((warehouse, code))).execute(conn)?;
    Ok(())
}

pub fn insert_job(conn: &mut DbConn, job: &NewJob<'_>) -> Result<i64, AppError> {
    Ok(diesel::insert_into(print_jobs::table)
        .values(job)
        .returning(print_jobs::id)
        .get_result(conn)?)
}

pub fn job(conn: &mut DbConn, id: i64) -> Result<Option<JobRow>, AppError> {
    Ok(on_inner!(conn, |c| print_jobs::table
        .find(id)
        .select(JobRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn update_job(conn: &mut DbConn, row: &JobRow) -> Result<(), AppError> {
    diesel::update(print_jobs::table.find(row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// What a list of jobs is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub warehouse: Option<String>,
    pub printer: Option<String>,
    /// Any of these states (all when empty).
    pub states: Vec<&'static str>,
    /// The return (or bin) the label is of.
    pub label_id: Option<String>,
    /// Jobs older than this id (paging, newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Jobs, newest first.
pub fn list_jobs(conn: &mut DbConn, f: &JobFilter) -> Result<Vec<JobRow>, AppError> {
    let mut q = print_jobs::table.into_boxed();
    if let Some(w) = &f.warehouse {
        q = q.filter(print_jobs::warehouse_code.eq(w.clone()));
    }
    if let Some(p) = &f.printer {
        q = q.filter(print_jobs::printer_code.eq(p.clone()));
    }
    if !f.states.is_empty() {
        q = q.filter(print_jobs::state.eq_any(f.states.clone()));
    }
    if let Some(l) = &f.label_id {
        q = q.filter(print_jobs::label_id.eq(l.clone()));
    }
    if let Some(b) = f.before {
        q = q.filter(print_jobs::id.lt(b));
    }
    Ok(q.order(print_jobs::id.desc())
        .limit(f.limit)
        .select(JobRow::as_select())
        .load(conn)?)
}

/// The job to send next, if one is due at `now`: a queued one whose time has come (the oldest
/// first), or one whose sender's claim ran out (that worker stopped mid-way).
pub fn due_job(conn: &mut DbConn, now: NaiveDateTime) -> Result<Option<JobRow>, AppError> {
    let queued = print_jobs::state
        .eq("queued")
        .and(print_jobs::next_try_at.le(now));
    let abandoned = print_jobs::state
        .eq("sending")
        .and(print_jobs::claimed_until.lt(now));
    Ok(on_inner!(conn, |c| print_jobs::table
        .filter(queued.or(abandoned))
        .order((print_jobs::next_try_at.asc(), print_jobs::id.asc()))
        .select(JobRow::as_select())
        .first(c)
        .optional())?)
}

/// When the next queued job is due (`None` when nothing waits).
pub fn next_due(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, AppError> {
    let queued: Option<NaiveDateTime> = print_jobs::table
        .filter(print_jobs::state.eq("queued"))
        .select(diesel::dsl::min(print_jobs::next_try_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    let claimed: Option<NaiveDateTime> = print_jobs::table
        .filter(print_jobs::state.eq("sending"))
        .select(diesel::dsl::min(print_jobs::claimed_until))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok(match (queued, claimed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// The jobs of a printer that are still to be printed.
pub fn open_jobs_of_printer(
    conn: &mut DbConn,
    warehouse: &str,
    code: &str,
) -> Result<Vec<JobRow>, AppError> {
    Ok(print_jobs::table
        .filter(print_jobs::warehouse_code.eq(warehouse))
        .filter(print_jobs::printer_code.eq(code))
        .filter(print_jobs::state.eq_any(["queued", "sending"]))
        .select(JobRow::as_select())
        .load(conn)?)
}

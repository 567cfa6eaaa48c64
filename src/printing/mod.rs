//! The printing worker: sends queued print jobs (`flows::printing`) to their printers' raw TCP
//! port, on a thread of its own started by `serve`.
//!
//! A round: look (a read) whether a job is due; claim it in a write transaction (one sender
//! per job, across nodes: see `flows::printing`); render its label as ZPL with the printer's
//! size and resolution from the same code the label endpoints use (`flows::labels` and
//! `labels::render_*`), so the bytes are those `GET /api/v1/labels/….zpl?size=…&dpi=…` serves;
//! send it outside any transaction ([`send`]: connect and write timeouts, the printer's answer
//! not required); record how it went. A failure is tried again after 1, 2, 4 … s, at most
//! `attempts` times in all, and then waits for a person (a reprint on the handheld).
//!
//! A request that queues a job [`wake`]s the worker at once; otherwise it looks every second,
//! for jobs queued by other nodes and for retries that come due.

pub mod send;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::audit::Actor;
use crate::db::printing::{JobRow, PrinterRow};
use crate::db::writer::Writer;
use crate::db::Pool;
use crate::domain::printing::{Failure, LabelKind, DEFAULT_ATTEMPTS};
use crate::error::AppError;
use crate::flows::printing::{self as flow, Claimed, Outcome};
use crate::labels::{self, Format, Size};

/// How the worker sends.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Automatic tries of a job before it waits for a person (`BR_PRINT_ATTEMPTS`).
    pub attempts: u32,
    /// `BR_PRINT_CONNECT_TIMEOUT_SECONDS`, `BR_PRINT_WRITE_TIMEOUT_SECONDS`.
    pub timeouts: send::Timeouts,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            attempts: DEFAULT_ATTEMPTS,
            timeouts: send::Timeouts {
                connect: Duration::from_secs(5),
                write: Duration::from_secs(10),
            },
        }
    }
}

/// Longest look-free sleep: jobs queued by other nodes wait at most this for this one.
const IDLE: Duration = Duration::from_secs(1);

/// Wake-ups of the workers of this process: a counter bumped by [`wake`].
static WAKE: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// Tells the workers of this process that a job may be due now (after its commit).
pub fn wake() {
    let (lock, cvar) = &WAKE;
    if let Ok(mut n) = lock.lock() {
        *n = n.wrapping_add(1);
        cvar.notify_all();
    }
}

fn wake_count() -> u64 {
    WAKE.0.lock().map(|n| *n).unwrap_or(0)
}

/// Sleeps up to `max`, or until [`wake`] is called after `seen` was read.
fn sleep(seen: u64, max: Duration) {
    let (lock, cvar) = &WAKE;
    let Ok(n) = lock.lock() else {
        std::thread::sleep(max);
        return;
    };
    let _ = cvar.wait_timeout_while(n, max, |n| *n == seen);
}

/// The running worker; it stops (after the label it is sending, if any) when this is dropped.
pub struct Worker {
    stop: Arc<AtomicBool>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        wake();
    }
}

/// Starts the worker on a thread of its own.
pub fn start(pool: Pool, writer: Writer, options: Options) -> Result<Worker, AppError> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new()
        .name("printing".into())
        .spawn(move || run(&pool, &writer, options, &stopped))
        .map_err(|e| AppError::Startup(format!("cannot start the printing worker: {e}")))?;
    Ok(Worker { stop })
}

fn run(pool: &Pool, writer: &Writer, options: Options, stop: &AtomicBool) {
    // Long enough for a whole try; a claim older than that belongs to a worker that stopped.
    let lease = chrono::Duration::from_std(
        options.timeouts.connect + options.timeouts.write + Duration::from_secs(30),
    )
    .unwrap_or(chrono::Duration::seconds(60));
    while !stop.load(Ordering::SeqCst) {
        let seen = wake_count();
        let due = pool
            .get()
            .map_err(|e| AppError::Unavailable(e.to_string()))
            .and_then(|mut c| flow::next_due(&mut c));
        let now = chrono::Utc::now().naive_utc();
        match due {
            Ok(Some(at)) if at <= now => {}
            Ok(Some(at)) => {
                sleep(seen, (at - now).to_std().unwrap_or(IDLE).min(IDLE));
                continue;
            }
            Ok(None) => {
                sleep(seen, IDLE);
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "printing: cannot read the print queue");
                sleep(seen, IDLE * 2);
                continue;
            }
        }
        let claim = uuid::Uuid::new_v4().to_string();
        let c2 = claim.clone();
        match writer.write_blocking(move |tx| flow::claim_next(tx, &c2, lease)) {
            Ok(Claimed::Send(b)) => {
                let (job, printer) = *b;
                try_once(pool, writer, options, &claim, &job, &printer);
            }
            Ok(Claimed::Settled) => {}
            // Another node took it first.
            Ok(Claimed::Nothing) => sleep(seen, Duration::from_millis(200)),
            Err(e) => {
                tracing::warn!(error = %e, "printing: cannot claim a print job");
                sleep(seen, IDLE * 2);
            }
        }
    }
}

/// Sends one claimed job and records how it went.
fn try_once(
    pool: &Pool,
    writer: &Writer,
    options: Options,
    claim: &str,
    job: &JobRow,
    printer: &PrinterRow,
) {
    let outcome = match render(pool, job, printer) {
        Ok(bytes) => match send::send(&printer.address, &bytes, options.timeouts) {
            Ok(()) => Outcome::Sent { bytes: bytes.len() },
            Err((why, detail)) => Outcome::Failed { why, detail },
        },
        Err(Some((why, detail))) => Outcome::Failed { why, detail },
        Err(None) => {
            // The database did not answer: nothing was sent; the claim runs out and the job
            // is taken again then.
            return;
        }
    };
    match &outcome {
        Outcome::Sent { bytes } => tracing::info!(
            job = job.id,
            printer = %printer.code,
            warehouse = %printer.warehouse_code,
            bytes,
            "label sent to the printer"
        ),
        Outcome::Failed { why, detail } => tracing::warn!(
            job = job.id,
            printer = %printer.code,
            warehouse = %printer.warehouse_code,
            reason = why.as_str(),
            detail = %detail,
            "label not printed"
        ),
    }
    let (id, claim, attempts) = (job.id, claim.to_string(), options.attempts);
    if let Err(e) =
        writer.write_blocking(move |tx| flow::record(tx, id, &claim, &outcome, attempts))
    {
        tracing::warn!(job = id, error = %e, "printing: cannot record how a print job went");
    }
}

/// The job's label as ZPL for `printer`: the same data and renderer as the label endpoints.
/// `Err(None)` when the database did not answer (try later).
fn render(
    pool: &Pool,
    job: &JobRow,
    printer: &PrinterRow,
) -> Result<Vec<u8>, Option<(Failure, String)>> {
    let unusable = |what: String| Some((Failure::Label, what));
    let size: Size = printer
        .size
        .parse()
        .map_err(|e: labels::LabelError| unusable(e.to_string()))?;
    let dpi = u32::try_from(printer.dpi).map_err(|_| unusable("no such resolution".into()))?;
    let mut conn = pool.get().map_err(|_| None)?;
    let actor = Actor::system("printing");
    let kind = LabelKind::parse(&job.label_kind)
        .ok_or_else(|| unusable(format!("no such label kind {}", job.label_kind)))?;
    let data_error = |e: AppError| match e {
        AppError::Unavailable(_) | AppError::Internal(_) => None,
        other => unusable(other.to_string()),
    };
    let rendered = match kind {
        LabelKind::Return => {
            let l = crate::flows::labels::return_label(&mut conn, &actor, &job.label_id)
                .map_err(data_error)?;
            labels::render_return(&l, size, Format::Zpl, dpi)
        }
        LabelKind::Bin => {
            let l = crate::flows::labels::bin_label(&mut conn, &job.warehouse_code, &job.label_id)
                .map_err(data_error)?;
            labels::render_bin(&l, size, Format::Zpl, dpi)
        }
        LabelKind::Item => {
            let gnum = job
                .gnum
                .ok_or_else(|| unusable("an item label without its line".into()))?;
            let l = crate::flows::labels::item_label(&mut conn, &actor, &job.label_id, gnum)
                .map_err(data_error)?;
            labels::render_item(&l, size, Format::Zpl, dpi)
        }
    };
    rendered
        .map(|r| r.bytes)
        .map_err(|e| unusable(e.to_string()))
}

//! The customs client's folders (GACC 2021 No.70 Art.4, data networked with customs): the
//! single-window / cross-border clearance client of the enterprise sends the messages it finds
//! in an export folder and writes what it receives into an import folder.
//!
//! - [`outbox`] (`BR_CEB_OUTBOX`): each CEB625 return application the warehouse files is
//!   written there once, whole (temporary dot-name, flushed, renamed).
//! - [`inbox`] (`BR_CEB_INBOX`): CEB621/622/625/626 messages that arrive are imported once,
//!   then moved to `done/` or to `failed/` with a reason.
//!
//! One worker thread per node works both; on PostgreSQL with several nodes only the node
//! holding an advisory lock does, another takes over when it stops. Where each folder stands
//! is kept in `ceb_folder_state` (its last look, its last trouble) and read by [`status`]
//! for supervisors, `/healthz` and `bonded-returns folders status`.

pub mod files;
pub mod inbox;
pub mod outbox;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::ceb_folder_state;
use crate::db::writer::Writer;
use crate::db::{DbConn, Pool};
use crate::error::AppError;

/// How often the folders are looked at.
pub const POLL: Duration = Duration::from_millis(500);
/// How often a worker that has nothing new to say records that it is still looking.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The advisory lock key of the node that works the folders (PostgreSQL): "br-cebfo".
const LEADER_LOCK: i64 = 0x0062_722d_6365_6266;
/// Files listed per kind in the status, at most (the totals count them all).
const LISTED: usize = 100;

/// Where the customs client's folders are (`BR_CEB_OUTBOX`, `BR_CEB_INBOX`); none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folders {
    pub outbox: Option<PathBuf>,
    pub inbox: Option<PathBuf>,
}

impl Folders {
    pub fn any(&self) -> bool {
        self.outbox.is_some() || self.inbox.is_some()
    }

    /// The settings as given; refused when both name one folder (the server would import the
    /// applications it writes for customs).
    pub fn from_settings(outbox: Option<&str>, inbox: Option<&str>) -> Result<Self, String> {
        let path = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let folders = Self {
            outbox: path(outbox),
            inbox: path(inbox),
        };
        if let (Some(o), Some(i)) = (&folders.outbox, &folders.inbox) {
            let same = match (o.canonicalize(), i.canonicalize()) {
                (Ok(a), Ok(b)) => a == b,
                _ => o.components().eq(i.components()),
            };
            if same {
                return Err(format!(
                    "BR_CEB_OUTBOX and BR_CEB_INBOX are the same folder ({}): the customs client's export and import folders must differ",
                    o.display()
                ));
            }
        }
        Ok(folders)
    }
}

/// A file in one of the folders.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FolderFile {
    pub name: String,
    pub size: u64,
    pub modified_at: Option<DateTime<Utc>>,
}

/// A file in `failed/`, with its reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedFile {
    pub name: String,
    pub size: u64,
    pub failed_at: Option<DateTime<Utc>>,
    /// The text of `<name>.reason.txt` (Chinese, then English); `null` when it is missing.
    pub reason: Option<String>,
}

/// A file taken from the inbox lately.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TakenFile {
    pub name: String,
    /// CEB621, CEB622, CEB625 or CEB626; `null` when it was no message.
    pub kind: Option<String>,
    /// `done` or `failed`.
    pub outcome: String,
    /// Where it went: `done/NAME` or `failed/NAME`.
    pub moved_to: String,
    /// What the import did, e.g. `CEB621 …: 2 created, 0 updated, 0 unchanged, 0 skipped, 0 rejected`.
    pub summary: String,
    pub at: DateTime<Utc>,
}

/// A CEB625 message of the outbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxFile {
    pub name: String,
    /// The return whose application it is (`null` for a file this server did not write).
    pub return_id: Option<String>,
    pub filed_at: Option<DateTime<Utc>>,
    pub written_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxStatus {
    /// Whether `BR_CEB_INBOX` is set.
    pub configured: bool,
    pub path: Option<String>,
    /// The worker's last look at the folder (recorded every few seconds).
    pub scanned_at: Option<DateTime<Utc>>,
    /// What last kept it from its work, while that lasts.
    pub last_error: Option<String>,
    pub error_at: Option<DateTime<Utc>>,
    /// Files waiting to be taken (still being written, or just arrived), by name.
    pub waiting: Vec<FolderFile>,
    pub waiting_total: usize,
    /// Files in `failed/`, with their reasons, newest first.
    pub failed: Vec<FailedFile>,
    pub failed_total: usize,
    /// The last files taken, newest first.
    pub recent: Vec<TakenFile>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxStatus {
    /// Whether `BR_CEB_OUTBOX` is set.
    pub configured: bool,
    pub path: Option<String>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub error_at: Option<DateTime<Utc>>,
    /// Applications filed whose message is not yet written into the folder, oldest first.
    pub unwritten: Vec<OutboxFile>,
    pub unwritten_total: i64,
    /// Messages written and still in the folder: the customs client has not collected them.
    pub uncollected: Vec<OutboxFile>,
    pub uncollected_total: usize,
}

/// Where the customs client's folders stand.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoldersStatus {
    pub inbox: InboxStatus,
    pub outbox: OutboxStatus,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ceb_folder_state)]
struct StateRow {
    folder: String,
    scanned_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    error_at: Option<NaiveDateTime>,
}

fn utc(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(|t| t.and_utc())
}

fn system_time(t: Option<std::time::SystemTime>) -> Option<DateTime<Utc>> {
    t.map(DateTime::<Utc>::from)
}

/// The files of `dir` (none when it is not there yet); why it cannot be read.
fn listed(dir: &Path) -> Result<Vec<files::Found>, String> {
    match files::list(dir) {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", dir.display())),
    }
}

/// [`listed`], noting why a folder cannot be read in `trouble` (shown as the folder's error).
fn listed_noting(dir: &Path, trouble: &mut Option<String>) -> Vec<files::Found> {
    listed(dir).unwrap_or_else(|e| {
        trouble.get_or_insert(format!("cannot read the folder: {e}"));
        Vec::new()
    })
}

/// Where both folders stand: the files as they are in the folders now, the worker's last
/// look and trouble from the database.
pub fn status(conn: &mut DbConn, folders: &Folders) -> Result<FoldersStatus, AppError> {
    let states: Vec<StateRow> = ceb_folder_state::table
        .select(StateRow::as_select())
        .load(conn)?;
    let state = |folder: &str| states.iter().find(|s| s.folder == folder).cloned();
    let (inbox_state, outbox_state) = (state("inbox"), state("outbox"));

    let mut inbox = InboxStatus {
        configured: folders.inbox.is_some(),
        path: folders.inbox.as_ref().map(|p| p.display().to_string()),
        scanned_at: inbox_state.as_ref().and_then(|s| utc(s.scanned_at)),
        last_error: inbox_state.as_ref().and_then(|s| s.last_error.clone()),
        error_at: inbox_state.as_ref().and_then(|s| utc(s.error_at)),
        waiting: Vec::new(),
        waiting_total: 0,
        failed: Vec::new(),
        failed_total: 0,
        recent: inbox::recent(conn, 10)?
            .into_iter()
            .map(|r| TakenFile {
                name: r.file_name,
                kind: r.kind,
                moved_to: format!("{}/{}", r.outcome, r.moved_to),
                outcome: r.outcome,
                summary: r.summary,
                at: r.imported_at.and_utc(),
            })
            .collect(),
    };
    if let Some(dir) = &folders.inbox {
        let mut trouble = None;
        let waiting = listed_noting(dir, &mut trouble);
        inbox.waiting_total = waiting.len();
        inbox.waiting = waiting
            .into_iter()
            .take(LISTED)
            .map(|f| FolderFile {
                name: f.name,
                size: f.size,
                modified_at: system_time(f.modified),
            })
            .collect();
        let failed_dir = dir.join(inbox::FAILED);
        let (reasons, files_failed): (Vec<files::Found>, Vec<files::Found>) =
            listed_noting(&failed_dir, &mut trouble)
                .into_iter()
                .partition(|f| f.name.ends_with(inbox::REASON));
        // A file failed when its reason was written (a move keeps the file's own time).
        let mut failed: Vec<(files::Found, Option<std::time::SystemTime>)> = files_failed
            .into_iter()
            .map(|f| {
                let reason = format!("{}{}", f.name, inbox::REASON);
                let at = reasons
                    .iter()
                    .find(|r| r.name == reason)
                    .and_then(|r| r.modified)
                    .or(f.modified);
                (f, at)
            })
            .collect();
        failed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name.cmp(&b.0.name)));
        inbox.failed_total = failed.len();
        inbox.failed = failed
            .into_iter()
            .take(LISTED)
            .map(|(f, at)| FailedFile {
                reason: std::fs::read(failed_dir.join(format!("{}{}", f.name, inbox::REASON)))
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned()),
                name: f.name,
                size: f.size,
                failed_at: system_time(at),
            })
            .collect();
        if trouble.is_some() && inbox.last_error.is_none() {
            inbox.last_error = trouble;
        }
    }

    let (unwritten, unwritten_total) = outbox::unwritten(conn, LISTED as i64)?;
    let mut outbox_status = OutboxStatus {
        configured: folders.outbox.is_some(),
        path: folders.outbox.as_ref().map(|p| p.display().to_string()),
        scanned_at: outbox_state.as_ref().and_then(|s| utc(s.scanned_at)),
        last_error: outbox_state.as_ref().and_then(|s| s.last_error.clone()),
        error_at: outbox_state.as_ref().and_then(|s| utc(s.error_at)),
        unwritten: unwritten
            .into_iter()
            .map(|r| OutboxFile {
                name: r.file_name,
                return_id: Some(r.return_id),
                filed_at: Some(r.created_at.and_utc()),
                written_at: None,
            })
            .collect(),
        unwritten_total,
        uncollected: Vec::new(),
        uncollected_total: 0,
    };
    if let Some(dir) = &folders.outbox {
        let mut trouble = None;
        let present: Vec<files::Found> = listed_noting(dir, &mut trouble)
            .into_iter()
            .filter(|f| outbox::is_ours(&f.name))
            .collect();
        outbox_status.uncollected_total = present.len();
        let names: Vec<String> = present
            .iter()
            .take(LISTED)
            .map(|f| f.name.clone())
            .collect();
        let rows = outbox::by_file_names(conn, &names)?;
        outbox_status.uncollected = present
            .into_iter()
            .take(LISTED)
            .map(|f| {
                let row = rows.iter().find(|r| r.file_name == f.name);
                OutboxFile {
                    return_id: row.map(|r| r.return_id.clone()),
                    filed_at: row.map(|r| r.created_at.and_utc()),
                    written_at: row
                        .and_then(|r| r.written_at)
                        .map(|t| t.and_utc())
                        .or_else(|| system_time(f.modified)),
                    name: f.name,
                }
            })
            .collect();
        if trouble.is_some() && outbox_status.last_error.is_none() {
            outbox_status.last_error = trouble;
        }
    }
    Ok(FoldersStatus {
        inbox,
        outbox: outbox_status,
    })
}

/// The folders as a prober sees them: counts, no names or texts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoldersHealth {
    pub inbox_waiting: usize,
    pub inbox_failed: usize,
    pub outbox_unwritten: i64,
    pub outbox_uncollected: usize,
    /// Seconds since the folder looked at longest ago was last looked at (`null` before the
    /// first look): a worker that has stopped shows here.
    pub scanned_seconds_ago: Option<i64>,
    /// Whether a folder's worker is kept from its work (its error is on the audit screen).
    pub trouble: bool,
}

/// [`FoldersHealth`] now.
pub fn health(conn: &mut DbConn, folders: &Folders) -> Result<FoldersHealth, AppError> {
    let states: Vec<StateRow> = ceb_folder_state::table
        .select(StateRow::as_select())
        .load(conn)?;
    let configured = |s: &StateRow| match s.folder.as_str() {
        "inbox" => folders.inbox.is_some(),
        _ => folders.outbox.is_some(),
    };
    let now = Utc::now().naive_utc();
    let mut ages = Vec::new();
    for s in states.iter().filter(|s| configured(s)) {
        ages.push(s.scanned_at.map(|t| (now - t).num_seconds().max(0)));
    }
    let scanned_seconds_ago = if ages.iter().any(Option::is_none) {
        None
    } else {
        ages.into_iter().flatten().max()
    };
    // A folder that cannot be read is the folders' trouble, not the node's: the prober still
    // gets its answer.
    let mut unreadable = false;
    let mut count = |dir: Option<PathBuf>, keep: fn(&str) -> bool| match dir {
        Some(d) => match listed(&d) {
            Ok(found) => found.iter().filter(|f| keep(&f.name)).count(),
            Err(_) => {
                unreadable = true;
                0
            }
        },
        None => 0,
    };
    let inbox_waiting = count(folders.inbox.clone(), |_| true);
    let inbox_failed = count(folders.inbox.as_ref().map(|d| d.join(inbox::FAILED)), |n| {
        !n.ends_with(inbox::REASON)
    });
    let outbox_uncollected = count(folders.outbox.clone(), outbox::is_ours);
    Ok(FoldersHealth {
        inbox_waiting,
        inbox_failed,
        outbox_unwritten: outbox::unwritten(conn, 0)?.1,
        outbox_uncollected,
        scanned_seconds_ago,
        trouble: unreadable
            || states
                .iter()
                .any(|s| configured(s) && s.last_error.is_some()),
    })
}

/// [`FoldersStatus`] as lines for the terminal (`bonded-returns folders status`).
pub fn status_text(s: &FoldersStatus) -> String {
    use std::fmt::Write as _;
    let when = |t: Option<DateTime<Utc>>| t.map_or("never".to_string(), |t| t.to_rfc3339());
    let mut out = String::new();
    let i = &s.inbox;
    match &i.path {
        None => out.push_str("customs inbox: not configured (BR_CEB_INBOX)\n"),
        Some(p) => {
            let _ = writeln!(out, "customs inbox: {p} (last look {})", when(i.scanned_at));
            if let Some(e) = &i.last_error {
                let _ = writeln!(out, "  trouble since {}: {e}", when(i.error_at));
            }
            let _ = writeln!(out, "  waiting: {} file(s)", i.waiting_total);
            for f in &i.waiting {
                let _ = writeln!(out, "    {} ({} bytes)", f.name, f.size);
            }
            let _ = writeln!(out, "  failed: {} file(s)", i.failed_total);
            for f in &i.failed {
                // The English sentence of the reason (its Chinese one is in the file).
                let why = f
                    .reason
                    .as_deref()
                    .and_then(|r| r.lines().find(|l| l.starts_with("Not imported")))
                    .unwrap_or("(no reason file)");
                let _ = writeln!(out, "    failed/{}: {why}", f.name);
            }
        }
    }
    let o = &s.outbox;
    match &o.path {
        None => out.push_str("customs outbox: not configured (BR_CEB_OUTBOX)\n"),
        Some(p) => {
            let _ = writeln!(
                out,
                "customs outbox: {p} (last look {})",
                when(o.scanned_at)
            );
            if let Some(e) = &o.last_error {
                let _ = writeln!(out, "  trouble since {}: {e}", when(o.error_at));
            }
        }
    }
    if o.configured || o.unwritten_total > 0 {
        let _ = writeln!(
            out,
            "  not yet written: {} application(s)",
            o.unwritten_total
        );
        for f in &o.unwritten {
            let _ = writeln!(
                out,
                "    {} (return {}, filed {})",
                f.name,
                f.return_id.as_deref().unwrap_or("?"),
                when(f.filed_at)
            );
        }
    }
    if o.configured {
        let _ = writeln!(
            out,
            "  not yet collected by the customs client: {} file(s)",
            o.uncollected_total
        );
        for f in &o.uncollected {
            let _ = writeln!(
                out,
                "    {} (return {})",
                f.name,
                f.return_id.as_deref().unwrap_or("?")
            );
        }
    }
    out
}

/// The folder workers of this process; they stop when this is dropped.
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the worker of the configured folders on a thread of its own (`None` when neither
/// folder is configured).
pub fn start(pool: Pool, writer: Writer, folders: Folders, postgres: bool) -> Option<Running> {
    if !folders.any() {
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("ceb-folders".into())
        .spawn(move || run(&pool, &writer, &folders, postgres, &stopping));
    match spawned {
        Ok(thread) => Some(Running {
            stop,
            thread: Some(thread),
        }),
        Err(e) => {
            tracing::error!(error = %e, "could not start the customs folders");
            None
        }
    }
}

/// What a folder's worker last recorded, so that it writes only what changed (and a sign of
/// life now and then).
#[derive(Default)]
struct Recorded {
    at: Option<Instant>,
    error: Option<String>,
}

impl Recorded {
    /// Records a round's outcome for `folder` when it differs from the last one recorded or
    /// the last record is old.
    fn note(&mut self, writer: &Writer, folder: &'static str, outcome: &Result<usize, String>) {
        let error = outcome
            .as_ref()
            .err()
            .map(|e| e.chars().take(500).collect::<String>());
        let due = self.at.is_none_or(|at| at.elapsed() >= HEARTBEAT);
        if !due && error == self.error {
            return;
        }
        let changed = error != self.error;
        let e = error.clone();
        let written = writer.write_blocking(move |tx| {
            let q = diesel::update(ceb_folder_state::table.find(folder));
            if changed {
                q.set((
                    ceb_folder_state::scanned_at.eq(Some(tx.now)),
                    ceb_folder_state::last_error.eq(&e),
                    ceb_folder_state::error_at.eq(e.as_ref().map(|_| tx.now)),
                ))
                .execute(tx.conn)?;
            } else {
                q.set(ceb_folder_state::scanned_at.eq(Some(tx.now)))
                    .execute(tx.conn)?;
            }
            Ok(())
        });
        match written {
            Ok(()) => {
                self.at = Some(Instant::now());
                self.error = error;
            }
            Err(e) => {
                tracing::warn!(error = %e, folder, "customs folders: could not record where the folder stands")
            }
        }
    }
}

fn run(pool: &Pool, writer: &Writer, folders: &Folders, postgres: bool, stop: &AtomicBool) {
    let mut inbox = folders.inbox.clone().map(inbox::Inbox::new);
    let (mut inbox_noted, mut outbox_noted) = (Recorded::default(), Recorded::default());
    let mut leader: Option<diesel::r2d2::PooledConnection<crate::db::DbManager>> = None;
    while !stop.load(Ordering::Relaxed) {
        if postgres {
            // The lock lives as long as its connection: a broken one has lost it.
            if let Some(conn) = leader.as_mut() {
                if diesel::connection::SimpleConnection::batch_execute(&mut **conn, "SELECT 1")
                    .is_err()
                {
                    leader = None;
                }
            }
            if leader.is_none() {
                leader = crate::audit::push::take_lead(pool, LEADER_LOCK);
                if leader.is_none() {
                    pause(stop, Duration::from_secs(2));
                    continue;
                }
            }
        }
        if let Some(dir) = &folders.outbox {
            let outcome = outbox::round(pool, writer, dir);
            if let Err(why) = &outcome {
                tracing::warn!(error = %why, "customs outbox: messages wait; will try again");
            }
            outbox_noted.note(writer, "outbox", &outcome);
        }
        if let Some(inbox) = inbox.as_mut() {
            let outcome = inbox.round(pool, writer);
            inbox_noted.note(writer, "inbox", &outcome);
        }
        pause(stop, POLL);
    }
    // Stopped with the server still up (tests, a shutdown): let another node take over now
    // rather than when this pooled connection is closed.
    if let Some(mut conn) = leader {
        let _ = diesel::connection::SimpleConnection::batch_execute(
            &mut *conn,
            &format!("SELECT pg_advisory_unlock({LEADER_LOCK})"),
        );
    }
}

/// Sleeps for `d`, or less when asked to stop.
fn pause(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_and_the_inbox_must_be_two_folders() {
        assert!(Folders::from_settings(Some("/x/out"), Some("/x/in")).is_ok());
        let same = Folders::from_settings(Some("/x/out"), Some("/x/out/")).unwrap_err();
        assert!(same.contains("same folder"), "{same}");
        let none = Folders::from_settings(Some(" "), None).unwrap();
        assert!(!none.any());
    }
}

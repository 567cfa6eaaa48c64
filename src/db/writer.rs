//! The one write path of a process: a single writer thread that drains whatever requests are
//! queued into one transaction (group commit). The batch is committed once (one disk sync),
//! and only then is each request answered.
//!
//! A floor step decides before it writes (`flows::returns::decide`), so a refused one has
//! changed nothing: it runs without a savepoint, on the rows its batch read for all its steps
//! at once (`db::batch`), and its answer is stored with the batch's others; on PostgreSQL its
//! writes too are kept and sent with the batch's others, in one statement. A step that fails
//! after it began to write cannot be undone alone: then nothing of the batch is kept and every
//! request of it is told to retry (with its Idempotency-Key, each is done once). Any other
//! request runs in its own savepoint, so a failing one rolls back alone; what the floor steps
//! before it kept is written first. On PostgreSQL the batch holds the write advisory lock
//! (taken in the round trip of its `BEGIN`), so the audit chain stays one line across several
//! nodes. A bounded queue answers 503 when full.
//!
//! On SQLite with `synchronous=FULL` the disk sync is pipelined: the writer commits a batch
//! without syncing (its frames are written to the WAL file) and goes on with the next batch,
//! while a syncer thread `fdatasync`s the WAL file and only then answers the batch's requests.
//! A request is still answered only once its commit is on disk (a sync that started after the
//! commit's frames were written), so what was answered survives a power loss; the writer no
//! longer waits for the disk between batches. The WAL replays only whole commits, in order,
//! so a crash loses at most a tail of unanswered batches.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::{
    AnsiTransactionManager, InstrumentationEvent, SimpleConnection, TransactionManager,
};
use diesel::Connection;

use super::batch::{Batch, Prefetch, StepWrite};
use super::refcache::RefCache;
use super::{establish, DbConn, DbUrl, SqliteSync, WRITE_LOCK};
use crate::audit::{self, Actor, AuditEntry, ChainHead, NewEntry};
use crate::error::AppError;

/// Most requests committed together.
const MAX_BATCH: usize = 256;

/// What a writer has done since it started: batches, requests, and the statements sent to
/// the database on its connection (every query and every `BEGIN`, savepoint and `COMMIT`; on
/// PostgreSQL each is one round trip to the server). The flow benchmark reads them through
/// `/healthz` (`BR_WRITER_STATS=true`) to print the round trips per transition.
#[derive(Default)]
struct Counts {
    /// Requests queued (taken or not yet).
    submitted: AtomicU64,
    batches: AtomicU64,
    requests: AtomicU64,
    statements: AtomicU64,
    /// Statements the database refused: a floor step that met one cannot be undone alone
    /// (it has no savepoint; on PostgreSQL the whole transaction is then lost).
    failed: AtomicU64,
}

/// A reading of a writer's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CountsNow {
    pub submitted: u64,
    pub batches: u64,
    pub requests: u64,
    pub statements: u64,
}

/// Opens the writer's connection. On PostgreSQL the writer only ever looks rows up by their
/// keys (a batch's returns, its Idempotency-Keys, a step's rows), over and over with the same
/// prepared statements. Its connection is set for that (benches/README.md, "Two things
/// PostgreSQL's planner did"):
/// - each statement is planned once (`plan_cache_mode = force_generic_plan`): PostgreSQL
///   planned the batch's read of its returns anew at every execution, about 1 ms each, since
///   for an array of keys its custom plans looked cheaper than the generic one;
/// - by index and nested loop only (`enable_seqscan`, `enable_hashjoin`, `enable_mergejoin`
///   off): a plan made while a table looked small to the planner (a new installation, or rows
///   added faster than autovacuum analyses them) scanned the whole table under the write lock
///   for every batch, stalling every node; the batch's look-up of 32 keys took 7 ms instead
///   of 0.05 ms.
fn open_writer(url: &DbUrl, sync: SqliteSync) -> Result<DbConn, diesel::ConnectionError> {
    let mut conn = establish(url, sync)?;
    if let DbConn::Pg(c) = &mut conn {
        c.batch_execute(
            "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; \
             SET enable_hashjoin = off; SET enable_mergejoin = off",
        )
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    }
    Ok(conn)
}

/// Counts every statement the writer's connection sends.
fn count_statements(conn: &mut DbConn, counts: &Arc<Counts>) {
    let counts = counts.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { .. } => {
            counts.statements.fetch_add(1, Ordering::Relaxed);
        }
        InstrumentationEvent::FinishQuery { error: Some(_), .. } => {
            counts.failed.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    });
}

/// The transaction a write request runs in.
pub struct Tx<'a> {
    pub conn: &'a mut DbConn,
    head: &'a mut ChainHead,
    /// Reference data (warehouses, bins, cameras, parties, ratings), checked against the
    /// database once per request: `tx.refs.warehouse(tx.conn, code)`.
    pub refs: &'a mut RefCache,
    /// The time of this request, used for every record it writes.
    pub now: NaiveDateTime,
    /// Savepoints opened so far in this batch (PostgreSQL names them by number).
    savepoints: &'a mut u32,
    /// What the batch read for its floor steps, and the answers it stores for them.
    pub batch: &'a mut Batch,
    /// Whether this request runs in a savepoint of its own (any request but a floor step).
    guarded: bool,
    /// Whether this request has begun to write (see [`Tx::writing`]).
    wrote: bool,
}

impl Tx<'_> {
    /// Appends an audit entry in this transaction.
    pub fn audit(&mut self, actor: &Actor, entry: NewEntry<'_>) -> Result<AuditEntry, AppError> {
        self.writing();
        audit::append(self.conn, self.head, actor, self.now, entry)
    }

    /// Says that this request begins to write. A floor step runs without a savepoint of its
    /// own (one round trip fewer under the write lock): it decides everything before it
    /// writes, so a refusal changes nothing. If it fails after this, nothing of its batch is
    /// kept (every request of the batch is told to retry; with their Idempotency-Keys they
    /// are done once).
    pub fn writing(&mut self) {
        self.wrote = true;
    }

    /// Whether this request runs in a savepoint of its own (a failure undoes it alone).
    pub fn guarded(&self) -> bool {
        self.guarded
    }

    /// A floor step's writes and its audit entry, on PostgreSQL: kept for the batch to write
    /// together with the others' (`db::batch`), or at once by a request in a savepoint of its
    /// own. `Ok(false)` on SQLite, where nothing is done: the caller writes them itself.
    pub fn defer(
        &mut self,
        actor: &Actor,
        entry: NewEntry<'_>,
        write: StepWrite<'_>,
    ) -> Result<bool, AppError> {
        let DbConn::Pg(_) = self.conn else {
            return Ok(false);
        };
        self.writing();
        let entry = audit::chain(self.head, actor, self.now, entry);
        self.batch.defer(write, entry);
        if self.guarded {
            self.flush()?;
        }
        Ok(true)
    }

    /// Writes what the batch keeps unwritten (`Batch::flush`), before a read that may need
    /// it. If that fails, nothing of the batch is kept.
    pub fn flush(&mut self) -> Result<(), AppError> {
        let written = self.batch.flush(self.conn);
        if written.is_err() {
            self.writing();
        }
        written
    }

    /// Runs `f` in a savepoint: on error its writes (and audit entries) are undone.
    pub fn savepoint<T>(
        &mut self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let saved = self.head.clone();
        let sp = Savepoint::open(self.conn, self.savepoints)?;
        let result = match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(r) => r,
            Err(_) => Err(AppError::Internal("a write request panicked".into())),
        };
        match result {
            Ok(v) => {
                sp.keep(self.conn)?;
                Ok(v)
            }
            Err(e) => {
                *self.head = saved;
                // What the cache read may have come from the rolled-back writes.
                self.refs.clear();
                sp.undo(self.conn);
                Err(e)
            }
        }
    }

    /// Runs a floor step without a savepoint (see [`Tx::writing`]).
    fn unguarded<T>(
        &mut self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(r) => r,
            Err(_) => {
                self.wrote = true;
                Err(AppError::Internal("a write request panicked".into()))
            }
        }
    }
}

/// An open savepoint of a request.
///
/// On PostgreSQL one that went well is left open rather than released: `COMMIT` ends them
/// all, and each `RELEASE` was a round trip under the write lock. Each is named by its number
/// in the batch, so that rolling back goes to the right one even after nested savepoints. On
/// SQLite it is diesel's savepoint, released when it went well.
enum Savepoint {
    Numbered(u32),
    Diesel,
}

impl Savepoint {
    fn open(conn: &mut DbConn, opened_in_batch: &mut u32) -> Result<Self, AppError> {
        match conn {
            DbConn::Pg(c) => {
                *opened_in_batch += 1;
                c.batch_execute(&format!("SAVEPOINT request_{opened_in_batch}"))?;
                Ok(Self::Numbered(*opened_in_batch))
            }
            DbConn::Sqlite(_) => {
                <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
                Ok(Self::Diesel)
            }
        }
    }

    fn keep(self, conn: &mut DbConn) -> Result<(), AppError> {
        if let Self::Diesel = self {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
        }
        Ok(())
    }

    /// Undoes what was written since. If that fails, the writer aborts the batch.
    fn undo(self, conn: &mut DbConn) {
        match (self, &mut *conn) {
            (Self::Numbered(n), DbConn::Pg(c)) => {
                if c.batch_execute(&format!("ROLLBACK TO SAVEPOINT request_{n}"))
                    .is_err()
                {
                    // diesel does not know of this savepoint: the transaction is marked
                    // broken, so that the writer sees it lost.
                    <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(
                        conn,
                    )
                    .set_in_error();
                }
            }
            _ => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            }
        }
    }
}

/// Called once the batch's fate is known: `None` = committed, `Some(e)` = not committed.
type Completion = Box<dyn FnOnce(Option<AppError>) + Send>;
/// Runs a queued request, given the transaction (or `None` when the batch was aborted before
/// it ran); with its completion, whether it failed.
type Run = Box<dyn FnOnce(Option<&mut Tx<'_>>) -> (Completion, bool) + Send>;

/// A queued request.
struct Job {
    run: Run,
    /// What the request may write: reference data, or never (a floor step).
    writes: Writes,
    /// A floor step: what the batch reads for it before it runs. It runs without a savepoint.
    step: Option<Prefetch>,
}

/// Whether a request may change reference data (see [`RefCache`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Anything, reference data included: the request after it checks the cache again.
    Anything,
    /// Never reference data (warehouses, bins, cameras, parties, ratings): a floor step. The
    /// request after it in the same batch trusts the cache as checked, since while the batch
    /// holds the write lock only the batch's own requests can change the database.
    NoReferenceData,
}

#[derive(Clone)]
pub struct Writer {
    sender: SyncSender<Job>,
    counts: Arc<Counts>,
}

#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    pub queue: usize,
    /// Off: one commit per request (kept to measure what group commit gains).
    pub group_commit: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            queue: 1024,
            group_commit: true,
        }
    }
}

impl Writer {
    /// Opens the writer's own connection and starts its thread (and, on SQLite with
    /// `synchronous=FULL` and group commit, the syncer thread).
    pub fn start(url: &DbUrl, sync: SqliteSync, opts: WriterOptions) -> Result<Self, AppError> {
        let startup =
            |what: &str, e: &dyn std::fmt::Display| AppError::Startup(format!("{what}: {e}"));
        let open =
            |sync| open_writer(url, sync).map_err(|e| startup("cannot open the database", &e));
        let (conn, conn_sync, durable) = match url {
            DbUrl::Sqlite(path) if sync == SqliteSync::Full && opts.group_commit => {
                // The commits are synced by the syncer (and checkpoints still sync as in
                // FULL: SQLite syncs the WAL before and the database after each one). Only
                // where there is a write-ahead log to sync (not for `:memory:`, say).
                let mut conn = open(SqliteSync::Normal)?;
                if in_wal_mode(&mut conn) {
                    let (tx, rx) = sync_channel::<Vec<Completion>>(SYNC_QUEUE);
                    let wal = wal_path(path);
                    thread::Builder::new()
                        .name("db-syncer".into())
                        .spawn(move || run_syncer(&wal, rx))
                        .map_err(|e| startup("cannot start the syncer thread", &e))?;
                    (conn, SqliteSync::Normal, Durable::Syncer(tx))
                } else {
                    (open(sync)?, sync, Durable::OnCommit)
                }
            }
            _ => (open(sync)?, sync, Durable::OnCommit),
        };
        let (sender, receiver) = sync_channel::<Job>(opts.queue.max(1));
        let url = url.clone();
        let counts = Arc::new(Counts::default());
        let mine = counts.clone();
        thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || run(conn, receiver, url, conn_sync, opts, durable, mine))
            .map_err(|e| startup("cannot start the writer thread", &e))?;
        Ok(Self { sender, counts })
    }

    /// What this writer has done so far.
    pub fn counts(&self) -> CountsNow {
        let c = &self.counts;
        CountsNow {
            submitted: c.submitted.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            statements: c.statements.load(Ordering::Relaxed),
        }
    }

    fn submit<T, F>(
        &self,
        writes: Writes,
        step: Option<Prefetch>,
        f: F,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<T, AppError>>, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let guarded = step.is_none();
        let run: Run = Box::new(move |tx| {
            let result = match tx {
                Some(tx) if guarded => tx.savepoint(f),
                Some(tx) => tx.unguarded(f),
                None => Err(AppError::Unavailable("write batch aborted".into())),
            };
            let failed = result.is_err();
            let completion: Completion = Box::new(move |commit_error| {
                let outcome = match (commit_error, result) {
                    // A request that failed on its own keeps its own error.
                    (_, Err(e)) => Err(e),
                    (Some(e), Ok(_)) => Err(e),
                    (None, Ok(v)) => Ok(v),
                };
                let _ = reply.send(outcome);
            });
            (completion, failed)
        });
        match self.sender.try_send(Job { run, writes, step }) {
            Ok(()) => {
                self.counts.submitted.fetch_add(1, Ordering::Relaxed);
                Ok(answer)
            }
            Err(TrySendError::Full(_)) => {
                Err(AppError::Unavailable("the write queue is full".into()))
            }
            Err(TrySendError::Disconnected(_)) => {
                Err(AppError::Unavailable("the writer has stopped".into()))
            }
        }
    }

    /// Runs `f` in the shared write transaction and answers after the commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_as(Writes::Anything, f).await
    }

    /// [`Writer::write`], saying what `f` may change.
    pub async fn write_as<T, F>(&self, writes: Writes, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let answer = self.submit(writes, None, f)?;
        answer
            .await
            .map_err(|_| AppError::Unavailable("the writer dropped the request".into()))?
    }

    /// Runs the floor step `f` (see [`Tx::writing`]): the batch reads what `step` names (its
    /// return, whether its key was used, its claimed caller's session; see `db::batch`)
    /// together with the other steps' before any of them runs.
    pub async fn write_step<T, F>(&self, step: Prefetch, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let answer = self.submit(Writes::NoReferenceData, Some(step), f)?;
        answer
            .await
            .map_err(|_| AppError::Unavailable("the writer dropped the request".into()))?
    }

    /// The same, for callers outside an async runtime (command line, demo loader, tests).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let answer = self.submit(Writes::Anything, None, f)?;
        answer
            .blocking_recv()
            .map_err(|_| AppError::Unavailable("the writer dropped the request".into()))?
    }
}

/// Committed batches waiting for their disk sync, at most.
const SYNC_QUEUE: usize = 64;

/// How a committed batch's requests are answered.
enum Durable {
    /// The commit itself synced (SQLite FULL without group commit, NORMAL, PostgreSQL).
    OnCommit,
    /// After the syncer's next sync of the WAL file.
    Syncer(SyncSender<Vec<Completion>>),
}

impl Durable {
    fn committed(&self, done: Vec<Completion>) {
        match self {
            Durable::OnCommit => done.into_iter().for_each(|c| c(None)),
            Durable::Syncer(tx) => {
                if let Err(e) = tx.send(done) {
                    // The syncer is gone (it never stops first): the commits are not known
                    // to be on disk, so nobody is told they are.
                    for c in e.0 {
                        c(Some(AppError::Unavailable("the disk sync stopped".into())));
                    }
                }
            }
        }
    }
}

/// Whether SQLite keeps a write-ahead log for this connection's database.
fn in_wal_mode(conn: &mut DbConn) -> bool {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let DbConn::Sqlite(c) = conn else {
        return false;
    };
    diesel::sql_query("PRAGMA journal_mode")
        .load::<Mode>(c)
        .ok()
        .and_then(|m| m.into_iter().next())
        .is_some_and(|m| m.journal_mode.eq_ignore_ascii_case("wal"))
}

/// SQLite's write-ahead log beside the database file.
fn wal_path(db: &std::path::Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// Syncs the WAL file for every committed batch (all batches queued by then share one sync)
/// and then answers their requests.
fn run_syncer(wal: &std::path::Path, batches: Receiver<Vec<Completion>>) {
    let mut group: Vec<Completion> = Vec::new();
    while let Ok(first) = batches.recv() {
        group.extend(first);
        while let Ok(more) = batches.try_recv() {
            group.extend(more);
        }
        // Opened anew each time: the file SQLite writes to now, whatever happened before.
        match std::fs::File::open(wal).and_then(|f| f.sync_data()) {
            Ok(()) => group.drain(..).for_each(|c| c(None)),
            Err(e) => {
                // The commits are in the database but not known to be on disk: the requests
                // are told so (retried with their Idempotency-Key they replay the answer).
                tracing::error!(error = %e, wal = %wal.display(), "cannot sync the write-ahead log");
                for c in group.drain(..) {
                    c(Some(AppError::Unavailable(
                        "the change could not be confirmed on disk; retry it with the same Idempotency-Key".into(),
                    )));
                }
            }
        }
    }
}

fn run(
    mut conn: DbConn,
    receiver: Receiver<Job>,
    url: DbUrl,
    sync: SqliteSync,
    opts: WriterOptions,
    durable: Durable,
    counts: Arc<Counts>,
) {
    let cap = if opts.group_commit { MAX_BATCH } else { 1 };
    count_statements(&mut conn, &counts);
    let mut batch: Vec<Job> = Vec::with_capacity(cap);
    let mut refs = RefCache::new();
    let mut view = Batch::default();
    // The chain head as the last committed batch left it (see `run_batch`).
    let mut head: Option<ChainHead> = None;
    while let Ok(first) = receiver.recv() {
        batch.push(first);
        // Take what queued while the last batch was syncing; never linger for more.
        while batch.len() < cap {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts
            .requests
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let result = run_batch(
            &mut conn, &mut refs, &mut view, &mut head, &counts, &mut batch, &durable,
        );
        if let Err(e) = result {
            tracing::error!(error = %e, "write batch failed");
            // Nothing of it is kept (the head it took is not given back).
            view.clear();
            refs.clear();
            // The connection may be broken (e.g. PostgreSQL restarted): open a fresh one.
            match open_writer(&url, sync) {
                Ok(c) => {
                    conn = c;
                    count_statements(&mut conn, &counts);
                }
                Err(e) => {
                    tracing::error!(error = %e, "writer cannot reconnect; will retry on the next batch")
                }
            }
        } else {
            view.committed(&conn);
        }
        batch.clear();
    }
}

fn begin(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        // One round trip for both.
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            &format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"),
        ),
    }
}

fn depth(conn: &mut DbConn) -> u32 {
    match <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
    {
        Ok(Some(d)) => d.get(),
        _ => 0,
    }
}

fn abort_all(jobs: &mut Vec<Job>, done: &mut Vec<Completion>, why: &str) {
    for c in done.drain(..) {
        c(Some(AppError::Unavailable(why.into())));
    }
    for job in jobs.drain(..) {
        (job.run)(None).0(Some(AppError::Unavailable(why.into())));
    }
}

/// Ends a batch whose transaction cannot be committed: rolled back, every request told why.
fn give_up(
    conn: &mut DbConn,
    remaining: impl Iterator<Item = Job>,
    done: &mut Vec<Completion>,
    why: &str,
) -> AppError {
    let mut remaining: Vec<Job> = remaining.collect();
    let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
    abort_all(&mut remaining, done, why);
    AppError::Unavailable(why.into())
}

/// Runs one batch in one transaction. `kept`: the chain head as the last committed batch left
/// it, used instead of reading it when [`Batch::begin`] finds that no other connection
/// committed since (SQLite); taken, and given back only by a batch that commits.
fn run_batch(
    conn: &mut DbConn,
    refs: &mut RefCache,
    view: &mut Batch,
    kept: &mut Option<ChainHead>,
    counts: &Counts,
    jobs: &mut Vec<Job>,
    durable: &Durable,
) -> Result<(), AppError> {
    let mut done: Vec<Completion> = Vec::with_capacity(jobs.len());
    if let Err(e) = begin(conn) {
        abort_all(jobs, &mut done, "cannot begin a transaction");
        return Err(e.into());
    }
    // What earlier batches left, if nothing else was committed since.
    let current = view.begin(conn);
    let mut head = match kept.take().filter(|_| current) {
        Some(h) => h,
        None => match audit::load_head(conn) {
            Ok(h) => h,
            Err(e) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                abort_all(jobs, &mut done, "cannot read the audit head");
                return Err(e);
            }
        },
    };
    let steps: Vec<Prefetch> = jobs.iter().filter_map(|j| j.step.clone()).collect();
    let read_at = Utc::now().naive_utc().trunc_subsecs(6);
    if let Err(e) = view.prefetch(conn, &steps, read_at) {
        let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
        abort_all(jobs, &mut done, "cannot read for the batch's steps");
        return Err(e);
    }
    let mut pending = std::mem::take(jobs);
    let mut rest = pending.drain(..);
    // The first request of a batch checks the reference cache, and so does each one after a
    // request that may have changed reference data.
    let mut recheck = true;
    let mut savepoints = 0;
    while let Some(job) = rest.next() {
        // Microseconds: what PostgreSQL keeps, so an answer shows the time as stored.
        let now = Utc::now().naive_utc().trunc_subsecs(6);
        if recheck {
            refs.recheck();
        }
        recheck = job.writes == Writes::Anything;
        let guarded = job.step.is_none();
        // What the steps before it wrote is sent first: it may read it, and its savepoint
        // undoes only its own.
        if guarded {
            if let Err(e) = view.flush(conn) {
                tracing::error!(error = %e, "cannot write the batch's steps");
                return Err(give_up(
                    conn,
                    std::iter::once(job).chain(rest),
                    &mut done,
                    "the steps of this batch could not be written; nothing of the batch was kept, retry with the same Idempotency-Key",
                ));
            }
        }
        let failed_before = counts.failed.load(Ordering::Relaxed);
        let ((completion, failed), wrote) = {
            let mut tx = Tx {
                conn,
                head: &mut head,
                refs: &mut *refs,
                now,
                savepoints: &mut savepoints,
                batch: &mut *view,
                guarded,
                wrote: false,
            };
            let outcome = (job.run)(Some(&mut tx));
            (outcome, tx.wrote)
        };
        done.push(completion);
        if guarded {
            // It may have changed what the batch read for its steps.
            view.forget_reads();
        } else if failed && (wrote || counts.failed.load(Ordering::Relaxed) != failed_before) {
            // A floor step failed after it wrote, or the database refused one of its
            // statements: it cannot be undone alone.
            return Err(give_up(
                conn,
                rest,
                &mut done,
                "a step of this batch failed after writing; nothing of the batch was kept, retry with the same Idempotency-Key",
            ));
        }
        // A failed savepoint can take the whole transaction with it (SQLite on I/O error,
        // full disk): then nothing of this batch is committed and every request is told so.
        if depth(conn) != 1 {
            return Err(give_up(
                conn,
                rest,
                &mut done,
                "the write transaction was lost",
            ));
        }
    }
    if let Err(e) = view.flush(conn) {
        tracing::error!(error = %e, "cannot write the batch's steps and answers");
        return Err(give_up(
            conn,
            rest,
            &mut done,
            "the steps of this batch could not be written; nothing of the batch was kept, retry with the same Idempotency-Key",
        ));
    }
    match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
        Ok(()) => {
            durable.committed(done);
            *kept = Some(head);
            Ok(())
        }
        Err(e) => {
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            for c in done {
                c(Some(AppError::Unavailable("the commit failed".into())));
            }
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests queued together run in one batch; the one after a request that may change
    /// reference data sees the change, whatever came before it.
    #[test]
    fn a_request_after_one_that_may_change_reference_data_sees_the_change_in_the_same_batch() {
        use crate::db::parties::{
            insert_enterprise, insert_warehouse, EnterpriseRow, WarehouseRow,
        };
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::Sqlite(dir.path().join("batch.db"));
        let mut setup = establish(&url, SqliteSync::Normal).unwrap();
        crate::db::migrate(&mut setup).unwrap();
        let t = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let e = EnterpriseRow {
            code: "E1".into(),
            name: "甲".into(),
            kinds: "ecommerce".into(),
            created_at: t,
        };
        insert_enterprise(&mut setup, &e).unwrap();
        let w = WarehouseRow {
            code: "W1".into(),
            name: "旧名".into(),
            operator_code: "E1".into(),
            zone: "Z".into(),
            created_at: t,
        };
        insert_warehouse(&mut setup, &w).unwrap();
        let writer = Writer::start(&url, SqliteSync::Normal, WriterOptions::default()).unwrap();
        let name = |tx: &mut Tx<'_>| -> Result<String, AppError> {
            Ok(tx
                .refs
                .warehouse(tx.conn, "W1")?
                .map(|w| w.name)
                .unwrap_or_default())
        };
        // The writer is held in a batch of its own until the others are queued.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let blocker = writer
            .submit(Writes::Anything, None, move |_| {
                wait.recv().map_err(|e| AppError::Internal(e.to_string()))
            })
            .unwrap();
        let before = writer.submit(Writes::NoReferenceData, None, name).unwrap();
        let again = writer.submit(Writes::NoReferenceData, None, name).unwrap();
        let rename = writer
            .submit(Writes::Anything, None, |tx| {
                tx.conn
                    .batch_execute("UPDATE warehouses SET name = '新名' WHERE code = 'W1'")?;
                Ok(())
            })
            .unwrap();
        let after = writer.submit(Writes::NoReferenceData, None, name).unwrap();
        go.send(()).unwrap();
        blocker.blocking_recv().unwrap().unwrap();
        assert_eq!(before.blocking_recv().unwrap().unwrap(), "旧名");
        assert_eq!(again.blocking_recv().unwrap().unwrap(), "旧名");
        rename.blocking_recv().unwrap().unwrap();
        assert_eq!(after.blocking_recv().unwrap().unwrap(), "新名");
    }

    #[test]
    fn only_a_database_with_a_write_ahead_log_is_synced_by_the_syncer() {
        let dir = tempfile::tempdir().unwrap();
        let file = DbUrl::Sqlite(dir.path().join("wal.db"));
        assert!(in_wal_mode(
            &mut establish(&file, SqliteSync::Normal).unwrap()
        ));
        let memory = DbUrl::Sqlite(":memory:".into());
        assert!(!in_wal_mode(
            &mut establish(&memory, SqliteSync::Normal).unwrap()
        ));
        assert_eq!(
            wal_path(std::path::Path::new("data/x.db")),
            PathBuf::from("data/x.db-wal")
        );
    }
}

//! What a write batch reads once for all its floor steps, and writes once for all of them.
//!
//! Before the first request of a batch runs, the writer reads, one statement each:
//! - the returns every floor step of the batch acts on, each with its list, its lines with
//!   their list lines and, for a restock, the stock at the bin it names;
//! - which of the steps' Idempotency-Keys were used before;
//! - for the returns that are inspected (to be restocked or disposed), their disposals and,
//!   when one has restocked units, what their restocks recorded (the steps' answers show
//!   both);
//! - the sessions of the callers it is to confirm (floor callers known on this node only by a
//!   claim, `http::auth::FloorCaller`).
//!
//! Each step then reads its return from here and, once saved, leaves the return as saved, so
//! a later step of the same batch decides on the earlier one's result.
//!
//! On PostgreSQL a floor step's writes are not sent when it saves: the batch keeps them (each
//! return and line as last saved, the stock raised summed per key, the discrepancies and the
//! audit entries in order) and writes them together with the steps' answers, in one
//! statement ([`Batch::flush`]): before the batch commits, before a request that is not a
//! floor step runs, and before a step reads from the database what they may have changed
//! (a return the batch did not read, or what its answer needs beyond the batch's view). The
//! statement counts what it changed: a return no longer in the state its step decided from
//! (which the write lock rules out) fails the whole batch, so nothing half-written is kept.
//! On SQLite, where a statement is no round trip, a step writes at once; the answers are
//! stored together before the batch commits.
//!
//! What is kept here is only ever what this transaction has read or written itself: a request
//! that may change anything else (any request but a floor step) empties it.
//!
//! On SQLite what a committed batch read and saved is kept for the next one ([`Batch::committed`],
//! [`Batch::begin`]), so that a return's next step (its sort after its receive, minutes or
//! milliseconds later) and a caller's next request read nothing again. That is sound because
//! this writer is the only one of its process, every request that may change anything but
//! through a floor step empties the view first, and SQLite's `data_version` tells the writer's
//! connection whether any other connection (a reader of this process, the command line, a
//! script) committed anything since: then the view is emptied before the batch reads. A batch
//! that is not committed leaves nothing behind ([`Batch::clear`]). On PostgreSQL another node
//! may commit at any time, so each batch reads afresh.

use std::collections::{HashMap, HashSet};

use diesel::RunQueryDsl;

use super::idempotency::{self, InsertAnswers, StoredAnswer};
use super::returns::{
    self as store, DiscrepanciesPg, DiscrepancyToWrite, DisposalRow, LinesSavePg, NewDiscrepancy,
    ReturnLineRow, ReturnRow, ReturnsSavePg, StepRows, StockRaisePg, StockRow,
};
use super::users::{self, SessionRow, UserRow};
use super::DbConn;
use crate::audit::{AuditEntry, InsertEntries};
use crate::error::AppError;

/// What a floor step says of itself before the batch runs, so that the batch can read for it.
#[derive(Debug, Clone)]
pub struct Prefetch {
    /// The return the step acts on (as given; an unknown one is simply not found).
    pub return_id: String,
    /// For a restock, the bin whose stock it reads.
    pub stock_bin: Option<String>,
    /// Its Idempotency-Key, scoped to its user (`flows::idempotency::scoped_key`).
    pub key: Option<String>,
    /// The token hash of its caller's session when that is only claimed, to be confirmed in
    /// the transaction (`http::auth::FloorCaller::confirm`).
    pub claim: Option<String>,
}

/// Bonded stock's key: owner, HS code, warehouse, bin.
pub type StockKey = (String, String, String, String);

/// What a batch has read of the returns of its floor steps, and the answers it will store.
#[derive(Default)]
pub struct Batch {
    returns: HashMap<String, StepRows>,
    /// Return ids the batch looked for and did not find.
    absent: HashSet<String>,
    /// Stock by key as this transaction sees it, for the keys read so far.
    stock: HashMap<StockKey, i64>,
    /// Keys of this batch's floor steps that were used before (or by an earlier request of
    /// this batch).
    used_keys: HashSet<String>,
    /// Answers to store under their keys before the batch commits.
    answers: Vec<StoredAnswer>,
    /// The claimed sessions the batch looked for: each with its user when it was open (at the
    /// time of the read) and the user active, `None` when not.
    sessions: HashMap<String, Option<(SessionRow, UserRow)>>,
    /// What the answer of a restock or a disposal shows beyond the return's rows, for the
    /// inspected returns read.
    settling: HashMap<String, Settling>,
    /// The floor steps' writes not yet sent (PostgreSQL).
    pending: Pending,
    /// SQLite's `data_version` as the writer's connection saw it when this view was last
    /// checked: what is kept from committed batches is only trusted while it is unchanged.
    version: Option<i64>,
}

/// Most returns a view keeps from committed batches; beyond that it starts afresh.
const MOST_KEPT: usize = 1024;

/// A floor step's writes: the return as saved and the state it was in, the lines that
/// changed, the discrepancies found, the stock raised, and its audit entry.
pub struct StepWrite<'a> {
    pub ret: &'a ReturnRow,
    /// The state the step decided from.
    pub expected: &'a str,
    pub lines: &'a [&'a ReturnLineRow],
    pub discrepancies: &'a [NewDiscrepancy<'a>],
    pub stock: Option<&'a StockRow>,
}

/// The writes of the batch's floor steps not yet sent, each row once.
#[derive(Default)]
struct Pending {
    /// Each return as last saved, with the state the batch's first step on it decided from.
    returns: HashMap<String, (String, ReturnRow)>,
    /// Each line as last saved.
    lines: HashMap<(String, i32), ReturnLineRow>,
    discrepancies: Vec<DiscrepancyToWrite>,
    /// The stock raised, summed per key.
    stock: HashMap<StockKey, StockRow>,
    entries: Vec<AuditEntry>,
}

impl Pending {
    fn add(&mut self, w: StepWrite<'_>, entry: AuditEntry) {
        self.returns
            .entry(w.ret.id.clone())
            .and_modify(|(_, r)| r.clone_from(w.ret))
            .or_insert_with(|| (w.expected.to_string(), w.ret.clone()));
        for l in w.lines {
            self.lines
                .insert((l.return_id.clone(), l.gnum), (*l).clone());
        }
        self.discrepancies
            .extend(w.discrepancies.iter().map(NewDiscrepancy::to_write));
        if let Some(s) = w.stock {
            self.stock
                .entry(key_of(s))
                .and_modify(|p| {
                    p.qty += s.qty;
                    p.updated_at = s.updated_at;
                })
                .or_insert_with(|| s.clone());
        }
        self.entries.push(entry);
    }

    /// Every step leaves an audit entry.
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The key of a stock row.
fn key_of(s: &StockRow) -> StockKey {
    (
        s.owner_code.clone(),
        s.gcode.clone(),
        s.warehouse_code.clone(),
        s.bin_code.clone(),
    )
}

/// The statement of [`Batch::flush`] on PostgreSQL: `WITH r AS (UPDATE returns …), l AS
/// (UPDATE return_lines …), d AS (INSERT discrepancies), s AS (INSERT stock … ON CONFLICT
/// raise), a AS (INSERT audit entries), k AS (INSERT answers) SELECT` the rows of returns,
/// lines and entries written. One array per column, so the text is the same whatever is in
/// it and the statement stays prepared.
struct WriteAll<'a> {
    returns: ReturnsSavePg,
    lines: LinesSavePg,
    discrepancies: DiscrepanciesPg,
    stock: StockRaisePg,
    entries: InsertEntries<'a>,
    answers: InsertAnswers<'a>,
}

impl diesel::query_builder::QueryId for WriteAll<'_> {
    type QueryId = WriteAll<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for WriteAll<'_> {
    type SqlType = (
        diesel::sql_types::BigInt,
        diesel::sql_types::BigInt,
        diesel::sql_types::BigInt,
    );
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for WriteAll<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("WITH \"r\" AS (");
        self.returns.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING 1), \"l\" AS (");
        self.lines.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING 1), \"d\" AS (");
        self.discrepancies.walk_ast(out.reborrow())?;
        out.push_sql("), \"s\" AS (");
        self.stock.walk_ast(out.reborrow())?;
        out.push_sql("), \"a\" AS (");
        self.entries.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING 1), \"k\" AS (");
        self.answers.walk_ast(out.reborrow())?;
        out.push_sql(
            ") SELECT (SELECT count(*) FROM \"r\"), (SELECT count(*) FROM \"l\"), \
             (SELECT count(*) FROM \"a\")",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for WriteAll<'_> {}

/// An inspected return's disposals and what its restocks recorded, as this transaction has
/// them.
#[derive(Default)]
struct Settling {
    disposals: Vec<DisposalRow>,
    /// The `changes` of its `return.restock` entries, in the order of the log.
    restocks: Vec<String>,
}

/// What a step settled beyond the return's rows: the disposal it recorded, what its restock
/// entry recorded (its `changes`).
#[derive(Default)]
pub struct Settled {
    pub disposal: Option<DisposalRow>,
    pub restock: Option<String>,
}

impl Batch {
    /// Reads what the floor steps `wants` act on (see the module's description): their
    /// returns, the keys used before, and the sessions open at `now` of the callers claimed.
    pub fn prefetch(
        &mut self,
        conn: &mut DbConn,
        wants: &[Prefetch],
        now: chrono::NaiveDateTime,
    ) -> Result<(), AppError> {
        // Only what can be a return id: the rest is not found without a statement (on
        // PostgreSQL a refused one, say for a NUL, would end the batch's transaction).
        // What an earlier batch left (SQLite) is not read again.
        let ids: Vec<(&str, Option<&str>)> = wants
            .iter()
            .filter(|w| crate::domain::ids::is_return_id(&w.return_id))
            .filter(|w| !self.holds(&w.return_id, w.stock_bin.as_deref()))
            .map(|w| (w.return_id.as_str(), w.stock_bin.as_deref()))
            .collect();
        if !ids.is_empty() {
            for rows in store::load_steps(conn, &ids)? {
                self.remember(rows.0, rows.1);
            }
            for (id, _) in ids {
                if !self.returns.contains_key(id) {
                    self.absent.insert(id.to_string());
                }
            }
        }
        self.read_settling(conn, wants)?;
        let keys: Vec<&str> = wants.iter().filter_map(|w| w.key.as_deref()).collect();
        if !keys.is_empty() {
            self.used_keys.extend(idempotency::used(conn, &keys)?);
        }
        let claims: Vec<&str> = wants
            .iter()
            .filter_map(|w| w.claim.as_deref())
            .filter(|hash| !matches!(self.sessions.get(*hash), Some(Some(_))))
            .collect();
        if !claims.is_empty() {
            for &hash in &claims {
                self.sessions.insert(hash.to_string(), None);
            }
            for (s, u) in users::session_users(conn, &claims, now)? {
                self.sessions.insert(s.token_hash.clone(), Some((s, u)));
            }
        }
        Ok(())
    }

    /// For the inspected returns of the steps `wants` whose settling the view does not know
    /// yet: their disposals and what their restocks recorded.
    fn read_settling(&mut self, conn: &mut DbConn, wants: &[Prefetch]) -> Result<(), AppError> {
        let inspected = crate::domain::returns::State::Inspected.as_str();
        let mut ids: Vec<&str> = wants
            .iter()
            .filter_map(|w| self.returns.get(&w.return_id))
            .filter(|r| r.ret.state == inspected && !self.settling.contains_key(&r.ret.id))
            .map(|r| r.ret.id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let mut settling: HashMap<String, Settling> = ids
            .iter()
            .map(|id| (id.to_string(), Settling::default()))
            .collect();
        for d in store::disposals_of_many(conn, &ids)? {
            if let Some(s) = settling.get_mut(&d.return_id) {
                s.disposals.push(d);
            }
        }
        // Only a return with restocked units has restock entries.
        let restocked: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| self.returns[*id].lines.iter().any(|l| l.restocked > 0))
            .collect();
        if !restocked.is_empty() {
            for (id, changes) in store::restocks_of(conn, &restocked)? {
                if let Some(s) = settling.get_mut(&id) {
                    s.restocks.push(changes);
                }
            }
        }
        self.settling.extend(settling);
        Ok(())
    }

    /// An inspected return's disposals and what its restocks recorded, when the batch read
    /// them (with what its steps since settled).
    pub fn settling(&self, id: &str) -> Option<(Vec<DisposalRow>, Vec<String>)> {
        self.settling
            .get(id)
            .map(|s| (s.disposals.clone(), s.restocks.clone()))
    }

    /// A claimed session as the batch read it: `None` when the batch did not look for it,
    /// `Some(None)` when it was not open (or its user not active).
    pub fn session(&self, token_hash: &str) -> Option<Option<&(SessionRow, UserRow)>> {
        self.sessions.get(token_hash).map(Option::as_ref)
    }

    /// Keeps a return as read, with the stock of its lines at `bin` (none when no bin).
    fn remember(&mut self, rows: StepRows, bin: Option<String>) {
        if let Some(bin) = bin {
            for l in &rows.lines {
                if let Some(key) = stock_key(&rows, l.gnum, &bin) {
                    let qty = rows.stock.get(&l.gnum).copied().unwrap_or(0);
                    self.stock.insert(key, qty);
                }
            }
        }
        self.returns.insert(rows.ret.id.clone(), rows);
    }

    /// Whether the view has return `id` with the stock of its lines at `stock_bin` (so that
    /// [`Batch::step_rows`] answers without a read).
    fn holds(&self, id: &str, stock_bin: Option<&str>) -> bool {
        self.returns
            .get(id)
            .is_some_and(|rows| stock_bin.is_none_or(|bin| self.stock_at(rows, bin).is_some()))
    }

    /// The stock of `rows`' lines at `bin` by line number (the lines that have some); `None`
    /// when the view has not read every one.
    fn stock_at(&self, rows: &StepRows, bin: &str) -> Option<std::collections::BTreeMap<i32, i64>> {
        let mut out = std::collections::BTreeMap::new();
        for l in &rows.lines {
            let qty = *self.stock.get(&stock_key(rows, l.gnum, bin)?)?;
            if qty != 0 {
                out.insert(l.gnum, qty);
            }
        }
        Some(out)
    }

    /// A return as this batch has it, with the stock of its lines at `stock_bin` when asked
    /// for; `None` when it was not read (or not every stock asked for was).
    pub fn step_rows(&self, id: &str, stock_bin: Option<&str>) -> Option<StepRows> {
        let rows = self.returns.get(id)?;
        let stock = match stock_bin {
            Some(bin) => self.stock_at(rows, bin)?,
            None => Default::default(),
        };
        Some(StepRows {
            stock,
            ..rows.clone()
        })
    }

    /// Whether the batch looked for this return and found none (nothing since may have made
    /// one: a request that may is followed by [`Batch::forget_reads`]).
    pub fn absent(&self, id: &str) -> bool {
        self.absent.contains(id)
    }

    /// A return read by its step outside the prefetch (with the stock at `stock_bin`).
    pub fn loaded(&mut self, rows: &StepRows, stock_bin: Option<&str>) {
        self.remember(rows.clone(), stock_bin.map(str::to_string));
    }

    /// A return as a step saved it: its row and lines, the stock it raised, and what it
    /// settled.
    pub fn saved(
        &mut self,
        ret: &store::ReturnRow,
        lines: &[store::ReturnLineRow],
        raised: Option<&StockRow>,
        settled: Settled,
    ) {
        if let Some(rows) = self.returns.get_mut(&ret.id) {
            rows.ret = ret.clone();
            rows.lines = lines.to_vec();
        }
        if let Some(s) = self.settling.get_mut(&ret.id) {
            s.disposals.extend(settled.disposal);
            s.restocks.extend(settled.restock);
        }
        if let Some(s) = raised {
            if let Some(q) = self.stock.get_mut(&key_of(s)) {
                *q += s.qty;
            }
        }
    }

    /// Forgets what was read: a request ran that may have changed it.
    pub fn forget_reads(&mut self) {
        self.sessions.clear();
        self.settling.clear();
        self.returns.clear();
        self.absent.clear();
        self.stock.clear();
    }

    /// Whether the key was used before (or by an earlier request of this batch).
    pub fn key_used(&self, key: &str) -> bool {
        self.used_keys.contains(key)
    }

    /// An answer to store under its key with the batch.
    pub fn store_answer(&mut self, answer: StoredAnswer) {
        self.used_keys.insert(answer.key.clone());
        self.answers.push(answer);
    }

    /// Keeps a floor step's writes and its audit entry until the batch writes them
    /// ([`Batch::flush`]; PostgreSQL).
    pub fn defer(&mut self, write: StepWrite<'_>, entry: AuditEntry) {
        self.pending.add(write, entry);
    }

    /// Whether the batch keeps discrepancies of return `id` not yet sent.
    pub fn writes_discrepancies_of(&self, id: &str) -> bool {
        self.pending.discrepancies.iter().any(|d| d.return_id == id)
    }

    /// Whether the batch keeps writes or answers not yet sent.
    pub fn unwritten(&self) -> bool {
        !self.pending.is_empty() || !self.answers.is_empty()
    }

    /// Writes what the batch keeps: on PostgreSQL its floor steps' writes and their answers in
    /// one statement, on SQLite the answers. A failure leaves the transaction unfit to commit:
    /// the writer then keeps nothing of the batch.
    pub fn flush(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        if !self.unwritten() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let answers = std::mem::take(&mut self.answers);
        let c = match conn {
            DbConn::Pg(c) => c,
            DbConn::Sqlite(_) => {
                debug_assert!(pending.is_empty(), "SQLite steps write at once");
                return idempotency::store_all(conn, &answers);
            }
        };
        let all = WriteAll {
            returns: ReturnsSavePg::of(pending.returns.values().map(|(e, r)| (e.as_str(), r))),
            lines: LinesSavePg::of(pending.lines.values()),
            discrepancies: DiscrepanciesPg::of(&pending.discrepancies),
            stock: StockRaisePg::of(pending.stock.values()),
            entries: InsertEntries::of(&pending.entries),
            answers: InsertAnswers::of(&answers),
        };
        let (returns, lines, entries): (i64, i64, i64) = all.get_result(c)?;
        let wrote = |n: i64, of: usize| usize::try_from(n).is_ok_and(|n| n == of);
        if !wrote(lines, pending.lines.len()) || !wrote(entries, pending.entries.len()) {
            return Err(AppError::Internal(format!(
                "the batch wrote {lines} of {} lines and {entries} of {} audit entries",
                pending.lines.len(),
                pending.entries.len()
            )));
        }
        if !wrote(returns, pending.returns.len()) {
            let mut ids = pending.returns.keys();
            return Err(match (ids.next(), ids.next()) {
                (Some(one), None) => store::changed_meanwhile(one),
                _ => AppError::Unavailable(
                    "a return of this batch changed meanwhile; nothing of the batch was kept, retry with the same Idempotency-Key".into(),
                ),
            });
        }
        Ok(())
    }

    /// Before a batch reads (in its transaction, holding the write lock): on SQLite, checks
    /// that no other connection committed since the view was kept ([`Batch::committed`]),
    /// else forgets what it kept. Whatever cannot be checked is forgotten. True when what the
    /// last committed batch left is still the database's state (never on PostgreSQL).
    pub fn begin(&mut self, conn: &mut DbConn) -> bool {
        let DbConn::Sqlite(c) = conn else {
            return false;
        };
        let now = DataVersion.get_result::<i64>(c).ok();
        let current = now.is_some() && now == self.version;
        if !current {
            self.forget_reads();
        }
        self.version = now;
        current
    }

    /// After the batch committed: on SQLite, the returns, stock, settling and sessions as the
    /// batch left them stay for the next batch (see the module's description); the rest, and
    /// everything on PostgreSQL, is forgotten as by [`Batch::clear`].
    pub fn committed(&mut self, conn: &DbConn) {
        debug_assert!(
            !self.unwritten(),
            "a batch writes everything before it commits"
        );
        if !matches!(conn, DbConn::Sqlite(_)) || self.returns.len() > MOST_KEPT {
            return self.clear();
        }
        self.absent.clear();
        self.sessions.retain(|_, s| s.is_some());
        self.used_keys.clear();
    }

    /// Ready for the next batch, with nothing kept.
    pub fn clear(&mut self) {
        self.forget_reads();
        self.used_keys.clear();
        self.answers.clear();
        self.pending = Pending::default();
        self.version = None;
    }
}

/// `PRAGMA data_version`: SQLite's count of commits by other connections, as this connection
/// sees it (unchanged when only this connection committed since it was last read). Kept
/// prepared (diesel prepares raw SQL text anew each time: 3 % of
/// the writer's time when it was read that way once per batch).
struct DataVersion;

impl diesel::query_builder::QueryId for DataVersion {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for DataVersion {
    type SqlType = diesel::sql_types::BigInt;
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for DataVersion {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("PRAGMA data_version");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for DataVersion {}

/// The stock key of line `gnum` of a return at `bin`: `None` when the return is in no warehouse
/// or the line has no list line.
fn stock_key(rows: &StepRows, gnum: i32, bin: &str) -> Option<StockKey> {
    let d = rows.decl_lines.iter().find(|d| d.gnum == gnum)?;
    Some((
        rows.decl.ebc_code.clone(),
        d.gcode.clone(),
        rows.ret.warehouse_code.clone()?,
        bin.to_string(),
    ))
}

//! The inbox (`BR_CEB_INBOX`): where the customs client writes the messages it receives
//! (CEB621, CEB622, CEB625, CEB626). Each file is imported the way `bonded-returns import`
//! imports it, once, then moved to `done/`, or to `failed/` with `<name>.reason.txt` beside it
//! saying in plain words (Chinese, then English) what was wrong and what to do.
//!
//! - A file still being written is left alone: it is taken only once its size and time have
//!   stayed the same for [`SETTLE`] (over at least two looks); dot-names and temporary names
//!   (`.tmp`, `.part`, `~` …) are never taken.
//! - The import and a record of the file (its name, SHA-256, outcome and where it goes) are
//!   committed together; the move follows. After a crash between the two, the file recorded
//!   and still in the inbox is moved as recorded, not imported again; one already moved is
//!   only marked. The importers also recognise a message seen before (by guid and content),
//!   so a file put back into the inbox is imported again without doubling anything.
//! - A name already in `done/` or `failed/` is never overwritten: the later file gets
//!   `name.2.xml`, `name.3.xml` ….
//! - Trouble that is not the file's (the database does not answer) leaves it in the inbox
//!   to be tried again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::files::{self, Found};
use crate::audit::Actor;
use crate::customs::{Parsed, MAX_MESSAGE_BYTES};
use crate::db::schema::ceb_inbox_files;
use crate::db::writer::Writer;
use crate::db::{DbConn, Pool};
use crate::error::AppError;
use crate::flows::imports::{self, ImportReport};

/// How long a file's size and time must stay the same before it is taken.
pub const SETTLE: Duration = Duration::from_secs(1);
/// Where imported files go, and failed ones.
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";
/// The suffix of the reason beside a failed file.
pub const REASON: &str = ".reason.txt";
/// Files taken per round, at most (the next round takes the rest).
const PER_ROUND: usize = 200;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ceb_inbox_files)]
pub struct InboxRecord {
    pub id: i64,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
    pub kind: Option<String>,
    pub message_guid: Option<String>,
    /// `done` or `failed`.
    pub outcome: String,
    pub summary: String,
    pub reason: Option<String>,
    /// The file's name in `done/` or `failed/`.
    pub moved_to: String,
    pub imported_at: NaiveDateTime,
    pub moved_at: Option<NaiveDateTime>,
}

/// The files taken most recently, newest first.
pub fn recent(conn: &mut DbConn, n: i64) -> Result<Vec<InboxRecord>, AppError> {
    Ok(ceb_inbox_files::table
        .order(ceb_inbox_files::id.desc())
        .limit(n)
        .select(InboxRecord::as_select())
        .load(conn)?)
}

/// What became of a file.
#[derive(Debug, Clone)]
struct Verdict {
    failed: bool,
    kind: Option<String>,
    guid: Option<String>,
    summary: String,
    /// For a failed file, the text of its reason file.
    reason: Option<String>,
}

/// A file's size and time as last seen, and since when they have not changed.
#[derive(Debug, Clone, Copy)]
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// The inbox worker's memory between rounds (what it saw, what must wait).
pub struct Inbox {
    dir: PathBuf,
    seen: HashMap<String, Seen>,
    /// Files whose import failed for a reason not theirs: when to try again, failures so far.
    wait: HashMap<String, (Instant, u32)>,
}

impl Inbox {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            seen: HashMap::new(),
            wait: HashMap::new(),
        }
    }

    /// One look at the folder: finishes what a crash interrupted, then imports and moves each
    /// file that has settled. Answers how many files were taken; an error says what kept
    /// the worker from its work (the files concerned wait for the next round).
    pub fn round(&mut self, pool: &Pool, writer: &Writer) -> Result<usize, String> {
        for sub in [DONE, FAILED] {
            let d = self.dir.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        recover(&self.dir, pool, writer)?;
        let found = files::list(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let now = Instant::now();
        self.seen
            .retain(|name, _| found.iter().any(|f| &f.name == name));
        self.wait
            .retain(|name, _| found.iter().any(|f| &f.name == name));
        let mut taken = 0;
        let mut trouble = None;
        for f in found {
            let seen = self.seen.entry(f.name.clone()).or_insert(Seen {
                size: f.size,
                modified: f.modified,
                since: now,
            });
            if seen.size != f.size || seen.modified != f.modified {
                *seen = Seen {
                    size: f.size,
                    modified: f.modified,
                    since: now,
                };
                continue;
            }
            if now.duration_since(seen.since) < SETTLE || taken >= PER_ROUND {
                continue;
            }
            if self
                .wait
                .get(&f.name)
                .is_some_and(|(until, _)| now < *until)
            {
                continue;
            }
            match take(&self.dir, &f, writer) {
                Ok(()) => {
                    taken += 1;
                    self.seen.remove(&f.name);
                    self.wait.remove(&f.name);
                }
                Err(why) => {
                    let failures = self.wait.get(&f.name).map_or(0, |w| w.1) + 1;
                    let backoff = Duration::from_secs(1 << failures.min(6));
                    self.wait.insert(f.name.clone(), (now + backoff, failures));
                    tracing::warn!(file = %f.name, error = %why, "customs inbox: file not taken; will try again");
                    trouble = Some(format!("{}: {why}", f.name));
                }
            }
        }
        match trouble {
            Some(why) => Err(why),
            None => Ok(taken),
        }
    }
}

/// A message file, read up to one byte past the largest message.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Imports one settled file, records it, and moves it.
fn take(dir: &Path, f: &Found, writer: &Writer) -> Result<(), String> {
    match import(dir, f, writer)? {
        Some(record) => finish(dir, record, writer),
        None => Ok(()),
    }
}

/// Imports a file and records it with where it goes, in one transaction (`None` when the
/// file went away first). Until [`finish`] moves it, a restart finds it in [`recover`].
fn import(dir: &Path, f: &Found, writer: &Writer) -> Result<Option<InboxRecord>, String> {
    let bytes = match read_bounded(&f.path) {
        Ok(b) => b,
        // Gone meanwhile (taken away by hand): nothing to do.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    let hash = sha256(&bytes);
    let size = f.size.max(bytes.len() as u64);
    let at = chrono::Utc::now();
    // What the file is, before anything is written: a message, or why it is none.
    let parsed: Result<Parsed, Verdict> = if bytes.len() > MAX_MESSAGE_BYTES {
        Err(failed_verdict(
            None,
            None,
            "too large".into(),
            reason_too_large(&f.name, at, size),
        ))
    } else {
        imports::parse(&bytes).map_err(|e| {
            let detail = match e {
                AppError::Validation(errs) => errs
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            failed_verdict(
                None,
                None,
                format!("not a customs message: {detail}"),
                reason_not_a_message(&f.name, at, &detail),
            )
        })
    };
    let done_name = files::free_name(&dir.join(DONE), &f.name, None);
    let failed_name = files::free_name(&dir.join(FAILED), &f.name, Some(REASON));
    let (name, file_size) = (f.name.clone(), size as i64);
    let record = writer
        .write_blocking(move |tx| {
            let verdict = match parsed {
                Err(v) => v,
                Ok(parsed) => {
                    let report = imports::record(tx, &Actor::system("ceb-inbox"), &parsed)?;
                    verdict_of(&name, at, &report)
                }
            };
            let moved_to = if verdict.failed {
                failed_name
            } else {
                done_name
            };
            let id: i64 = diesel::insert_into(ceb_inbox_files::table)
                .values((
                    ceb_inbox_files::file_name.eq(&name),
                    ceb_inbox_files::sha256.eq(&hash),
                    ceb_inbox_files::size.eq(file_size),
                    ceb_inbox_files::kind.eq(&verdict.kind),
                    ceb_inbox_files::message_guid.eq(&verdict.guid),
                    ceb_inbox_files::outcome.eq(if verdict.failed { "failed" } else { "done" }),
                    ceb_inbox_files::summary.eq(&verdict.summary),
                    ceb_inbox_files::reason.eq(&verdict.reason),
                    ceb_inbox_files::moved_to.eq(&moved_to),
                    ceb_inbox_files::imported_at.eq(tx.now),
                    ceb_inbox_files::moved_at.eq(None::<NaiveDateTime>),
                ))
                .returning(ceb_inbox_files::id)
                .get_result(tx.conn)?;
            ceb_inbox_files::table
                .find(id)
                .select(InboxRecord::as_select())
                .first(tx.conn)
                .map_err(AppError::from)
        })
        .map_err(|e| format!("not imported yet: {e}"))?;
    tracing::info!(file = %record.file_name, outcome = %record.outcome, summary = %record.summary, "customs inbox: file taken");
    Ok(Some(record))
}

/// Moves a recorded file where its record says (writing a failed file's reason first, so
/// that a file in `failed/` always has its reason), then marks it moved.
fn finish(dir: &Path, mut rec: InboxRecord, writer: &Writer) -> Result<(), String> {
    let failed = rec.outcome == "failed";
    let dest = dir.join(if failed { FAILED } else { DONE });
    let at = |e: std::io::Error, p: &Path| format!("{}: {e}", p.display());
    // Someone put a file of that name there meanwhile: never overwrite it.
    if dest.join(&rec.moved_to).symlink_metadata().is_ok() {
        let name = files::free_name(&dest, &rec.file_name, failed.then_some(REASON));
        let (id, n) = (rec.id, name.clone());
        writer
            .write_blocking(move |tx| {
                diesel::update(ceb_inbox_files::table.find(id))
                    .set(ceb_inbox_files::moved_to.eq(n))
                    .execute(tx.conn)?;
                Ok(())
            })
            .map_err(|e| format!("database: {e}"))?;
        rec.moved_to = name;
    }
    if let (true, Some(reason)) = (failed, rec.reason.as_deref()) {
        let reason_name = format!("{}{REASON}", rec.moved_to);
        files::write_atomically(&dest, &reason_name, reason.as_bytes())
            .map_err(|e| at(e, &dest.join(&reason_name)))?;
    }
    if !failed {
        // A file put back from failed/ and now imported: its old reason no longer applies.
        let failed_dir = dir.join(FAILED);
        let stale = failed_dir.join(format!("{}{REASON}", rec.file_name));
        if stale.is_file() && !failed_dir.join(&rec.file_name).exists() {
            let _ = std::fs::remove_file(stale);
        }
    }
    let from = dir.join(&rec.file_name);
    std::fs::rename(&from, dest.join(&rec.moved_to)).map_err(|e| at(e, &from))?;
    files::sync_dir(&dest).map_err(|e| at(e, &dest))?;
    files::sync_dir(dir).map_err(|e| at(e, dir))?;
    mark_moved(writer, rec.id)?;
    Ok(())
}

fn mark_moved(writer: &Writer, id: i64) -> Result<(), String> {
    writer
        .write_blocking(move |tx| {
            diesel::update(ceb_inbox_files::table.find(id))
                .set(ceb_inbox_files::moved_at.eq(Some(tx.now)))
                .execute(tx.conn)?;
            Ok(())
        })
        .map_err(|e| format!("database: {e}"))
}

/// Finishes what a crash interrupted: each file recorded but not marked moved is moved now
/// if it is still in the inbox (the very file: same SHA-256), else only marked.
fn recover(dir: &Path, pool: &Pool, writer: &Writer) -> Result<(), String> {
    let pending: Vec<InboxRecord> = {
        let mut conn = pool.get().map_err(|e| format!("database: {e}"))?;
        ceb_inbox_files::table
            .filter(ceb_inbox_files::moved_at.is_null())
            .order(ceb_inbox_files::id.asc())
            .select(InboxRecord::as_select())
            .load(&mut conn)
            .map_err(|e| format!("database: {e}"))?
    };
    for rec in pending {
        let path = dir.join(&rec.file_name);
        let same = read_bounded(&path).is_ok_and(|b| sha256(&b) == rec.sha256);
        if same {
            tracing::info!(file = %rec.file_name, "customs inbox: moving a file imported before a restart");
            finish(dir, rec, writer)?;
        } else {
            // Moved before the crash (or taken away, or replaced by another file, which is
            // then taken as new).
            mark_moved(writer, rec.id)?;
        }
    }
    Ok(())
}

fn failed_verdict(
    kind: Option<String>,
    guid: Option<String>,
    summary: String,
    reason: String,
) -> Verdict {
    Verdict {
        failed: true,
        kind,
        guid,
        summary,
        reason: Some(reason),
    }
}

/// The counts of a report, in one line.
fn counts(r: &ImportReport) -> String {
    format!(
        "{} created, {} updated, {} unchanged, {} skipped, {} rejected",
        r.created, r.updated, r.unchanged, r.skipped, r.rejected
    )
}

/// Done when nothing was refused (a receipt noted and skipped, or a message seen before, is
/// done); failed when any item was, with each refusal in the reason.
fn verdict_of(name: &str, at: chrono::DateTime<chrono::Utc>, r: &ImportReport) -> Verdict {
    let summary = format!("{} {}: {}", r.kind, r.guid, counts(r));
    if r.rejected == 0 {
        return Verdict {
            failed: false,
            kind: Some(r.kind.clone()),
            guid: Some(r.guid.clone()),
            summary,
            reason: None,
        };
    }
    let total = r.created + r.updated + r.unchanged + r.skipped + r.rejected;
    let imported = total - r.rejected;
    let refused: Vec<String> = r
        .items
        .iter()
        .filter(|i| i.outcome == "rejected")
        .map(|i| {
            format!(
                "  第 {n} 条 / item {n} ({key}): {why}",
                n = i.index + 1,
                key = i.key.as_deref().unwrap_or("?"),
                why = i.reason.as_deref().unwrap_or("")
            )
        })
        .collect();
    let reason = format!(
        "{head}\
         未全部导入：{kind} 报文共 {total} 条，{rejected} 条被拒绝，{imported} 条已导入（或此前已导入）。\n\
         Not imported in full: {rejected} of the {total} items of this {kind} message were refused; {imported} were imported (or had been before).\n\
         \n\
         被拒绝的条目 / Refused:\n{refused}\n\
         \n\
         处理办法：核对并更正报文（如是回执，先导入它所对应的清单或申请单），再把文件放回收件文件夹，会重新导入；已导入的内容不会重复导入。\n\
         What to do: correct the message (for a receipt, first import the list or application it answers), then put the file back into the inbox to import it again; what was imported already is not imported twice.\n",
        head = reason_head(name, at, Some((&r.kind, &r.guid))),
        kind = r.kind,
        rejected = r.rejected,
        refused = refused.join("\n"),
    );
    Verdict {
        failed: true,
        kind: Some(r.kind.clone()),
        guid: Some(r.guid.clone()),
        summary,
        reason: Some(reason),
    }
}

fn reason_head(
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
    message: Option<(&str, &str)>,
) -> String {
    let when = at
        .with_timezone(&crate::audit::footage::warehouse_zone())
        .format("%Y-%m-%d %H:%M:%S (UTC+8)");
    let mut head = format!("文件 / File: {name}\n处理时间 / Handled at: {when}\n");
    if let Some((kind, guid)) = message {
        head.push_str(&format!("报文 / Message: {kind}, guid {guid}\n"));
    }
    head.push('\n');
    head
}

fn reason_too_large(name: &str, at: chrono::DateTime<chrono::Utc>, size: u64) -> String {
    format!(
        "{head}\
         未导入：文件有 {size} 字节，超过每个报文 {max} 字节（10 MB）的上限。\n\
         Not imported: the file has {size} bytes, more than the limit of {max} bytes (10 MB) for one message.\n\
         \n\
         处理办法：请发送方把报文拆成几个较小的报文（每个报文最多 100 条），再放入收件文件夹。\n\
         What to do: have the sender split it into smaller messages (at most 100 items each) and put those into the inbox.\n",
        head = reason_head(name, at, None),
        max = MAX_MESSAGE_BYTES,
    )
}

fn reason_not_a_message(name: &str, at: chrono::DateTime<chrono::Utc>, detail: &str) -> String {
    format!(
        "{head}\
         未导入：这不是本仓能导入的海关报文（CEB621、CEB622、CEB625 或 CEB626），或者 XML 不完整、有错误。\n\
         Not imported: this is not a customs message this warehouse takes (CEB621, CEB622, CEB625 or CEB626), or its XML is incomplete or wrong.\n\
         \n\
         详情 / Detail: {detail}\n\
         \n\
         处理办法：请海关客户端或发送方重新生成这份报文，再放入收件文件夹。\n\
         What to do: have the customs client or the sender make the message again and put it into the inbox.\n",
        head = reason_head(name, at, None),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::writer::WriterOptions;
    use crate::db::{DbUrl, SqliteSync};

    /// A fresh SQLite database with its pool and writer.
    fn database(dir: &Path) -> (Pool, Writer) {
        let url = DbUrl::Sqlite(dir.join("t.db"));
        let pool = crate::db::pool(&url, SqliteSync::Normal, 2).unwrap();
        crate::db::migrate(&mut pool.get().unwrap()).unwrap();
        let writer = Writer::start(
            &url,
            SqliteSync::Normal,
            WriterOptions {
                queue: 16,
                group_commit: true,
            },
        )
        .unwrap();
        (pool, writer)
    }

    fn sample() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/customs/ceb621_sample.xml"
        ))
        .unwrap()
    }

    fn audit_entries(pool: &Pool) -> i64 {
        crate::db::schema::audit_entries::table
            .count()
            .get_result(&mut pool.get().unwrap())
            .unwrap()
    }

    /// Stops right after the import's commit, as a crash would, then works the inbox as a
    /// restarted server does: the file is moved as recorded and not imported again.
    #[test]
    fn a_file_imported_but_not_moved_before_a_crash_is_moved_and_not_imported_again() {
        let tmp = tempfile::tempdir().unwrap();
        let (pool, writer) = database(tmp.path());
        let inbox = tmp.path().join("in");
        std::fs::create_dir_all(inbox.join(DONE)).unwrap();
        std::fs::create_dir_all(inbox.join(FAILED)).unwrap();
        std::fs::write(inbox.join("a.xml"), sample()).unwrap();
        std::fs::write(inbox.join("b.xml"), "<broken").unwrap();
        for name in ["a.xml", "b.xml"] {
            let found = files::list(&inbox)
                .unwrap()
                .into_iter()
                .find(|f| f.name == name)
                .unwrap();
            assert!(import(&inbox, &found, &writer).unwrap().is_some());
        }
        // a.xml was even moved before the crash, b.xml not.
        std::fs::rename(inbox.join("a.xml"), inbox.join(DONE).join("a.xml")).unwrap();
        let entries = audit_entries(&pool);
        assert!(entries >= 2, "the lists were not imported");

        let mut restarted = Inbox::new(inbox.clone());
        assert_eq!(restarted.round(&pool, &writer), Ok(0));
        assert_eq!(audit_entries(&pool), entries, "imported again");
        assert_eq!(files::list(&inbox).unwrap(), vec![]);
        let done: Vec<String> = files::list(&inbox.join(DONE))
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(done, ["a.xml"]);
        let failed: Vec<String> = files::list(&inbox.join(FAILED))
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(failed, ["b.xml", "b.xml.reason.txt"]);
        let records = recent(&mut pool.get().unwrap(), 10).unwrap();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.moved_at.is_some()));
    }

    #[test]
    fn a_reason_says_what_was_refused_and_what_to_do_in_both_languages() {
        let report = ImportReport {
            kind: "CEB622".into(),
            guid: "G-1".into(),
            created: 0,
            updated: 1,
            unchanged: 0,
            skipped: 0,
            rejected: 1,
            items: vec![crate::flows::imports::ItemReport {
                index: 1,
                key: Some("80142026I000000101".into()),
                outcome: "rejected",
                reason: Some("not_found: list 80142026I000000101 is unknown".into()),
                flagged: vec![],
            }],
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-08T02:00:00Z")
            .unwrap()
            .to_utc();
        let v = verdict_of("r.xml", at, &report);
        assert!(v.failed);
        let reason = v.reason.unwrap();
        for part in [
            "文件 / File: r.xml",
            "2026-12-08 10:00:00 (UTC+8)",
            "CEB622 报文共 2 条，1 条被拒绝",
            "1 of the 2 items",
            "第 2 条 / item 2 (80142026I000000101): not_found: list",
            "处理办法",
            "What to do",
        ] {
            assert!(reason.contains(part), "{part:?} missing from:\n{reason}");
        }
        let fine = ImportReport {
            rejected: 0,
            skipped: 1,
            items: vec![],
            ..report
        };
        assert!(!verdict_of("r.xml", at, &fine).failed);
    }
}

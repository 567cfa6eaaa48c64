//! Importing customs messages: CEB621 lists, CEB622 releases, CEB625 applications, CEB626
//! receipts. Each list is recorded in its own savepoint and reported as created, updated,
//! unchanged, skipped (an interim receipt with nothing to record) or rejected with the reason;
//! importing the same file twice changes nothing.
//!
//! Customs messages are read as customs means them: refused for what customs would refuse
//! (a list that is not a bonded online-shopping import, a release naming other parties than
//! its list), with the reason; never for a field the warehouse does not use, which is flagged
//! on the item instead.

use std::path::PathBuf;

use serde::Serialize;

use super::declarations::{self, Outcome, Receipt};
use super::returns::{apply, customs as return_customs};
use crate::audit::Actor;
use crate::customs::{self, Items, Parsed};
use crate::db::writer::{Tx, Writer};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemReport {
    pub index: usize,
    /// invtNo (or the return id created), when readable.
    pub key: Option<String>,
    /// created, updated, unchanged, skipped (noted, nothing to record) or rejected
    pub outcome: &'static str,
    /// Why it was rejected or skipped.
    pub reason: Option<String>,
    /// Fields the warehouse does not use whose values customs' rules would not take (e.g.
    /// `InventoryList[1]/unit1: is missing`): the item was taken all the same.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flagged: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub kind: String,
    pub guid: String,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Receipts noted and skipped: interim statuses with no list to record them on.
    pub skipped: usize,
    pub rejected: usize,
    pub items: Vec<ItemReport>,
}

impl ImportReport {
    fn push(&mut self, index: usize, key: Option<String>, r: Result<Outcome, AppError>) {
        self.push_receipt(index, key, r.map(Receipt::Recorded), &[]);
    }

    fn push_receipt(
        &mut self,
        index: usize,
        key: Option<String>,
        r: Result<Receipt, AppError>,
        flags: &[customs::FieldError],
    ) {
        let (outcome, reason) = match r {
            Ok(Receipt::Recorded(Outcome::Created)) => ("created", None),
            Ok(Receipt::Recorded(Outcome::Updated)) => ("updated", None),
            Ok(Receipt::Recorded(Outcome::Unchanged)) => ("unchanged", None),
            Ok(Receipt::Skipped(why)) => ("skipped", Some(why)),
            Err(e) => ("rejected", Some(reason_of(&e))),
        };
        match outcome {
            "created" => self.created += 1,
            "updated" => self.updated += 1,
            "unchanged" => self.unchanged += 1,
            "skipped" => self.skipped += 1,
            _ => self.rejected += 1,
        }
        self.items.push(ItemReport {
            index,
            key,
            outcome,
            reason,
            flagged: flagged(flags),
        });
    }
}

/// Flags in plain words, one per field: `InventoryList[1]/unit1: is missing`.
fn flagged(flags: &[customs::FieldError]) -> Vec<String> {
    flags
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

fn reason_of(e: &AppError) -> String {
    match e {
        AppError::Validation(errs) => errs
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Internal(_) | AppError::Unavailable(_) | AppError::Startup(_) => {
            "could not be stored".into()
        }
        other => format!("{}: {other}", other.code()),
    }
}

fn field_errors(errs: &[customs::FieldError]) -> AppError {
    AppError::Validation(
        errs.iter()
            .map(|e| crate::error::FieldError::new(e.field.clone(), e.message.clone()))
            .collect(),
    )
}

/// Customs must see refused attempts by excluded parties: an item refused because a party is
/// excluded leaves a `refused.enterprise_excluded` entry (the refused change itself does not).
fn refused<T>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    kind: &str,
    key: Option<&str>,
    r: &Result<T, AppError>,
) -> Result<(), AppError> {
    if let Err(AppError::EnterpriseExcluded(why)) = r {
        let id = format!("{kind} {}", key.unwrap_or("?"));
        tx.audit(
            actor,
            crate::audit::NewEntry {
                action: "refused.enterprise_excluded",
                entity_kind: "import",
                entity_id: &id,
                warehouse: actor.warehouse.as_deref(),
                enterprise: Some(&why.code),
                changes: crate::audit::Changes::new(),
                reason: Some(&why.to_string()),
            },
        )?;
    }
    Ok(())
}

/// Parses a message (pure, off the writer thread); a structural problem is a validation error.
pub fn parse(xml: &[u8]) -> Result<Parsed, AppError> {
    customs::parse(xml).map_err(|e| AppError::validation("message", e.to_string()))
}

/// Records a parsed message, each item in its own savepoint.
pub fn record(tx: &mut Tx<'_>, actor: &Actor, parsed: &Parsed) -> Result<ImportReport, AppError> {
    let kind = parsed.kind.to_string();
    let mut report = ImportReport {
        kind: kind.clone(),
        guid: parsed.guid.clone(),
        ..Default::default()
    };
    match &parsed.items {
        Items::Inventory(items) => {
            for it in items {
                let r = match &it.result {
                    Err(errs) => Err(field_errors(errs)),
                    Ok(inv) => tx.savepoint(|tx| {
                        let (row, lines) = declarations::from_inventory(inv, tx.now)?;
                        declarations::record_flagged(tx, actor, row, lines, &flagged(&it.flags))
                    }),
                };
                refused(tx, actor, &kind, it.key.as_deref(), &r)?;
                let r = r.map(Receipt::Recorded);
                report.push_receipt(it.index, it.key.clone(), r, &it.flags);
            }
        }
        Items::InventoryReturn(items) => {
            for it in items {
                let r = match &it.result {
                    Err(errs) => Err(field_errors(errs)),
                    Ok(rr) => tx.savepoint(|tx| declarations::record_receipt(tx, actor, rr)),
                };
                refused(tx, actor, &kind, it.key.as_deref(), &r)?;
                report.push_receipt(it.index, it.key.clone(), r, &it.flags);
            }
        }
        Items::InvtRefund(items) => {
            for it in items {
                let mut key = it.key.clone();
                let r = match &it.result {
                    Err(errs) => Err(field_errors(errs)),
                    Ok(app) => tx.savepoint(|tx| apply::apply_ceb625(tx, actor, app)).map(
                        |(row, outcome)| {
                            key = Some(row.id);
                            outcome
                        },
                    ),
                };
                refused(tx, actor, &kind, key.as_deref(), &r)?;
                report.push(it.index, key, r);
            }
        }
        Items::InvtRefundReturn(items) => {
            for it in items {
                let mut key = it.key.clone();
                let r = match &it.result {
                    Err(errs) => Err(field_errors(errs)),
                    Ok(rr) => tx
                        .savepoint(|tx| return_customs::record_receipt(tx, actor, rr))
                        .map(|(id, changed)| {
                            key = Some(id);
                            if changed {
                                Outcome::Updated
                            } else {
                                Outcome::Unchanged
                            }
                        }),
                };
                refused(tx, actor, &kind, key.as_deref(), &r)?;
                report.push(it.index, key, r);
            }
        }
    }
    Ok(report)
}

/// A message file, read up to one byte past the largest message (a larger one is refused by
/// the parser as too large without reading all of it into memory).
fn read_bounded(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(crate::customs::MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `bonded-returns import FILE...`: a progress bar over the files, then a summary.
/// Exit code 0 when every file was read and nothing was rejected (a skipped interim receipt
/// or a flagged field is noted, not a failure), 1 otherwise.
pub fn import_files(writer: &Writer, files: &[PathBuf]) -> Result<i32, AppError> {
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut created, mut updated, mut unchanged, mut skipped, mut rejected, mut failed) =
        (0, 0, 0, 0, 0, 0);
    for path in files {
        bar.set_message(path.display().to_string());
        let outcome = read_bounded(path)
            .map_err(|e| AppError::Startup(format!("cannot read {}: {e}", path.display())))
            .and_then(|bytes| parse(&bytes))
            .and_then(|parsed| {
                let actor = Actor::system("import");
                writer.write_blocking(move |tx| record(tx, &actor, &parsed))
            });
        match outcome {
            Ok(r) => {
                created += r.created;
                updated += r.updated;
                unchanged += r.unchanged;
                skipped += r.skipped;
                rejected += r.rejected;
                for it in &r.items {
                    let what = match it.outcome {
                        "rejected" | "skipped" => it.reason.clone().unwrap_or_default(),
                        _ if !it.flagged.is_empty() => {
                            format!("flagged: {}", it.flagged.join("; "))
                        }
                        _ => continue,
                    };
                    bar.suspend(|| {
                        eprintln!(
                            "{}: item {} ({}) {}: {what}",
                            path.display(),
                            it.index + 1,
                            it.key.as_deref().unwrap_or("?"),
                            it.outcome,
                        )
                    });
                }
            }
            Err(e) => {
                failed += 1;
                let msg = match e {
                    AppError::Validation(v) => v
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                    other => other.to_string(),
                };
                bar.suspend(|| eprintln!("{}: not imported: {msg}", path.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "{} file(s): {created} created, {updated} updated, {unchanged} unchanged, {skipped} skipped, {rejected} rejected, {failed} file(s) not imported",
        files.len()
    );
    Ok(if rejected == 0 && failed == 0 { 0 } else { 1 })
}

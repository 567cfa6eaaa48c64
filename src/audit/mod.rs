//! The tamper-evident audit chain: every change appends one entry, in the same transaction
//! as the change, whose SHA-256 covers its content and the previous entry's hash.
//!
//! Appends are serialised by the single writer of each process and, on PostgreSQL, by the
//! write advisory lock held for the whole batch, so several nodes still build one chain.
//! The database refuses UPDATE and DELETE on entries (triggers). Cutting off the tail cannot
//! be seen from the chain alone, so the head (sequence + hash) is published for supervisors
//! to keep and later check with `audit verify --expect-head SEQ:HASH`.

pub mod query;

use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::db::schema::audit_entries;
use crate::db::DbConn;
use crate::error::AppError;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts, and on whose request; carried into every audit entry.
#[derive(Debug, Clone)]
pub struct Actor {
    pub username: String,
    pub role: String,
    pub warehouse: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system(what: &str) -> Self {
        Self {
            username: format!("system:{what}"),
            role: "system".into(),
            warehouse: None,
            request_id: None,
        }
    }
}

/// The last committed link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS_HASH.into(),
        }
    }
}

/// What changed, field by field: `{field: {"before": …, "after": …}}`.
#[derive(Debug, Default, Clone)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, field: &str, before: impl Serialize, after: impl Serialize) -> Self {
        let before = serde_json::to_value(before).unwrap_or(Value::Null);
        let after = serde_json::to_value(after).unwrap_or(Value::Null);
        if before != after {
            self.0.insert(
                field.into(),
                serde_json::json!({"before": before, "after": after}),
            );
        }
        self
    }
    /// A field that came into being with this change.
    pub fn created(self, field: &str, after: impl Serialize) -> Self {
        self.set(field, Value::Null, after)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn encode(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// A change to record.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub action: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: &'a str,
    pub warehouse: Option<&'a str>,
    pub enterprise: Option<&'a str>,
    pub changes: Changes,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_entries)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub warehouse: Option<String>,
    pub enterprise: Option<String>,
    pub changes: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The canonical encoding hashed for an entry: fixed field order, time to the microsecond.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    at: String,
    actor: &'a str,
    role: &'a str,
    action: &'a str,
    entity_kind: &'a str,
    entity_id: &'a str,
    warehouse: Option<&'a str>,
    enterprise: Option<&'a str>,
    changes: &'a str,
    reason: Option<&'a str>,
    request_id: Option<&'a str>,
    prev_hash: &'a str,
}

impl AuditEntry {
    pub fn compute_hash(&self) -> String {
        let canonical = Canonical {
            seq: self.seq,
            at: self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            actor: &self.actor,
            role: &self.role,
            action: &self.action,
            entity_kind: &self.entity_kind,
            entity_id: &self.entity_id,
            warehouse: self.warehouse.as_deref(),
            enterprise: self.enterprise.as_deref(),
            changes: &self.changes,
            reason: self.reason.as_deref(),
            request_id: self.request_id.as_deref(),
            prev_hash: &self.prev_hash,
        };
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Reads the committed head of the chain.
pub fn load_head(conn: &mut DbConn) -> Result<ChainHead, AppError> {
    let last: Option<(i64, String)> = audit_entries::table
        .select((audit_entries::seq, audit_entries::hash))
        .order(audit_entries::seq.desc())
        .first(conn)
        .optional()?;
    Ok(last
        .map(|(seq, hash)| ChainHead { seq, hash })
        .unwrap_or_else(ChainHead::genesis))
}

/// Appends one entry after `head` and advances it. Must run inside the writer's transaction.
pub fn append(
    conn: &mut DbConn,
    head: &mut ChainHead,
    actor: &Actor,
    now: NaiveDateTime,
    e: NewEntry<'_>,
) -> Result<AuditEntry, AppError> {
    let mut entry = AuditEntry {
        seq: head.seq + 1,
        at: now.trunc_subsecs(6),
        actor: actor.username.clone(),
        role: actor.role.clone(),
        action: e.action.into(),
        entity_kind: e.entity_kind.into(),
        entity_id: e.entity_id.into(),
        warehouse: e.warehouse.map(Into::into),
        enterprise: e.enterprise.map(Into::into),
        changes: e.changes.encode(),
        reason: e.reason.map(Into::into),
        request_id: actor.request_id.clone(),
        prev_hash: head.hash.clone(),
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    diesel::insert_into(audit_entries::table)
        .values(&entry)
        .execute(conn)?;
    *head = ChainHead {
        seq: entry.seq,
        hash: entry.hash.clone(),
    };
    Ok(entry)
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub entries: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Walks the chain from the start in pages, recomputing every hash and link.
/// With `expect_head`, also checks that the chain still reaches a head published earlier.
pub fn verify(
    conn: &mut DbConn,
    expect_head: Option<&ChainHead>,
) -> Result<Verification, AppError> {
    const PAGE: i64 = 5_000;
    let mut prev = ChainHead::genesis();
    let mut count = 0i64;
    let bad = |seq: i64, count: i64, detail: String| Verification {
        ok: false,
        entries: count,
        head: None,
        head_seq: None,
        first_bad_seq: Some(seq),
        detail: Some(detail),
    };
    let mut expected_found = expect_head.is_none();
    loop {
        let page: Vec<AuditEntry> = audit_entries::table
            .filter(audit_entries::seq.gt(prev.seq))
            .order(audit_entries::seq.asc())
            .limit(PAGE)
            .select(AuditEntry::as_select())
            .load(conn)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            count += 1;
            if e.seq != prev.seq + 1 {
                return Ok(bad(
                    prev.seq + 1,
                    count - 1,
                    format!("entry #{} is missing", prev.seq + 1),
                ));
            }
            if e.prev_hash != prev.hash {
                return Ok(bad(
                    e.seq,
                    count - 1,
                    format!("entry #{} does not link to #{}", e.seq, prev.seq),
                ));
            }
            if e.compute_hash() != e.hash {
                return Ok(bad(
                    e.seq,
                    count - 1,
                    format!("entry #{} was altered", e.seq),
                ));
            }
            if let Some(h) = expect_head {
                if h.seq == e.seq {
                    if h.hash != e.hash {
                        return Ok(bad(
                            e.seq,
                            count - 1,
                            format!("entry #{} differs from the published head", e.seq),
                        ));
                    }
                    expected_found = true;
                }
            }
            prev = ChainHead {
                seq: e.seq,
                hash: e.hash.clone(),
            };
        }
    }
    if !expected_found {
        let seq = expect_head.map(|h| h.seq).unwrap_or(0);
        return Ok(bad(
            prev.seq + 1,
            count,
            format!(
                "the chain ends at #{} but a head #{seq} was published: entries were cut off",
                prev.seq
            ),
        ));
    }
    Ok(Verification {
        ok: true,
        entries: count,
        head: Some(prev.hash.clone()),
        head_seq: Some(prev.seq),
        first_bad_seq: None,
        detail: None,
    })
}

/// Parses `SEQ:HASH` as printed by the head endpoint.
pub fn parse_head(s: &str) -> Result<ChainHead, String> {
    let (seq, hash) = s.split_once(':').ok_or("expected SEQ:HASH")?;
    let seq: i64 = seq.trim().parse().map_err(|_| "SEQ must be a number")?;
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("HASH must be 64 hex digits".into());
    }
    Ok(ChainHead { seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000)
                .unwrap()
                .naive_utc(),
            actor: "admin".into(),
            role: "admin".into(),
            action: "enterprise.create".into(),
            entity_kind: "enterprise".into(),
            entity_id: "4401962010".into(),
            warehouse: None,
            enterprise: Some("4401962010".into()),
            changes: r#"{"name":{"after":"甲","before":null}}"#.into(),
            reason: None,
            request_id: Some("r1".into()),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_hash_covers_every_field() {
        let base = entry().compute_hash();
        let mut e = entry();
        e.changes = r#"{"name":{"after":"乙","before":null}}"#.into();
        assert_ne!(base, e.compute_hash());
        let mut e = entry();
        e.prev_hash = "1".repeat(64);
        assert_ne!(base, e.compute_hash());
        let mut e = entry();
        e.warehouse = Some("X".into());
        assert_ne!(base, e.compute_hash());
        assert_eq!(base, entry().compute_hash());
    }

    #[test]
    fn a_published_head_parses() {
        let h = parse_head(&format!("12:{}", "AB".repeat(32))).unwrap();
        assert_eq!(h.seq, 12);
        assert_eq!(h.hash, "ab".repeat(32));
        assert!(parse_head("12").is_err());
        assert!(parse_head("x:00").is_err());
    }

    #[test]
    fn unchanged_fields_are_not_recorded() {
        let c = Changes::new().set("a", 1, 1).set("b", 1, 2);
        assert_eq!(c.encode(), r#"{"b":{"after":2,"before":1}}"#);
    }
}

//! The tamper-evident audit chain: every change appends one entry, in the same transaction
//! as the change, whose SHA-256 covers its content and the previous entry's hash.
//!
//! Appends are serialised by the single writer of each process and, on PostgreSQL, by the
//! write advisory lock held for the whole batch, so several nodes still build one chain.
//! The database refuses UPDATE and DELETE on entries (triggers). Cutting off the tail cannot
//! be seen from the chain alone, so the head (sequence + hash) is published for supervisors
//! to keep and later check with `audit verify --expect-head SEQ:HASH`.

pub mod export;
pub mod footage;
pub mod push;
pub mod query;
pub mod signing;

use crate::db::timestamps::Ts;
use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use ref_cast::RefCast;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::db::schema::audit_entries;
use crate::db::{on_inner, DbConn};
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
    /// The JSON text stored and hashed: the same text as `Value::Object(map).to_string()`.
    pub fn encode(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
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

/// `at` as the canonical encoding writes it: `%Y-%m-%dT%H:%M:%S%.6fZ`. Chrono parses its
/// format items anew on every call, so the common case is written directly (a test checks
/// both give the same text).
pub fn canonical_time(at: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let (year, nanos) = (at.year(), at.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // Years chrono writes with a sign or five digits, and leap seconds: chrono itself.
        return at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |mut v: u32, end: usize, width: usize| {
        for i in (end - width..end).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(year as u32, 4, 4);
    put(at.month(), 7, 2);
    put(at.day(), 10, 2);
    put(at.hour(), 13, 2);
    put(at.minute(), 16, 2);
    put(at.second(), 19, 2);
    put(nanos / 1_000, 26, 6);
    String::from_utf8_lossy(&b).into_owned()
}

impl AuditEntry {
    pub fn compute_hash(&self) -> String {
        let canonical = Canonical {
            seq: self.seq,
            at: canonical_time(&self.at),
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
        let mut bytes = Vec::with_capacity(400 + self.changes.len());
        // Writing plain strings and numbers into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut bytes, &canonical);
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Reads the committed head of the chain.
pub fn load_head(conn: &mut DbConn) -> Result<ChainHead, AppError> {
    let last: Option<(i64, String)> = on_inner!(conn, |c| audit_entries::table
        .select((audit_entries::seq, audit_entries::hash))
        .order(audit_entries::seq.desc())
        .first(c)
        .optional())?;
    Ok(last
        .map(|(seq, hash)| ChainHead { seq, hash })
        .unwrap_or_else(ChainHead::genesis))
}

/// Stores one entry as it is (no check, no link): the append path, and the benchmark's
/// unchained comparison.
pub fn insert_entry(conn: &mut DbConn, entry: &AuditEntry) -> Result<(), AppError> {
    on_inner!(conn, |c| InsertEntry(entry).execute(c))?;
    Ok(())
}

/// `INSERT INTO audit_entries (every column) VALUES (every value bound)`: one text, so the
/// statement stays prepared. Diesel's own INSERT of a struct with optional fields is looked
/// up by its text, which it renders on every call, and on PostgreSQL it is parsed and
/// planned anew every time (a column left out when `None` could take a default).
struct InsertEntry<'a>(&'a AuditEntry);

impl diesel::query_builder::QueryId for InsertEntry<'_> {
    type QueryId = InsertEntry<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for InsertEntry<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    Ts: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    Option<String>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("INSERT INTO \"audit_entries\" ");
        out.push_sql(ENTRY_COLUMNS);
        out.push_sql(" VALUES (");
        push_entry_values(self.0, &mut out)?;
        out.push_sql(")");
        Ok(())
    }
}

/// Every column of an audit entry, in the order [`push_entry_values`] binds them.
const ENTRY_COLUMNS: &str = "(\"seq\", \"at\", \"actor\", \"role\", \"action\", \
     \"entity_kind\", \"entity_id\", \"warehouse\", \"enterprise\", \"changes\", \"reason\", \
     \"request_id\", \"prev_hash\", \"hash\")";

/// Binds every value of `e`, comma-separated, in the order of [`ENTRY_COLUMNS`].
fn push_entry_values<'b, DB>(
    e: &'b AuditEntry,
    out: &mut diesel::query_builder::AstPass<'_, 'b, DB>,
) -> diesel::QueryResult<()>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    Ts: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    Option<String>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    out.push_bind_param::<BigInt, _>(&e.seq)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(Ts::ref_cast(&e.at))?;
    for text in [&e.actor, &e.role, &e.action, &e.entity_kind, &e.entity_id] {
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(text)?;
    }
    for opt in [&e.warehouse, &e.enterprise] {
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(opt)?;
    }
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&e.changes)?;
    for opt in [&e.reason, &e.request_id] {
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(opt)?;
    }
    for text in [&e.prev_hash, &e.hash] {
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(text)?;
    }
    Ok(())
}

impl<Conn> RunQueryDsl<Conn> for InsertEntry<'_> {}

/// The entry `e` made after `head`, which is advanced to it (nothing is written: the caller
/// stores the entry in the same transaction, or the batch is not kept).
pub fn chain(
    head: &mut ChainHead,
    actor: &Actor,
    now: NaiveDateTime,
    e: NewEntry<'_>,
) -> AuditEntry {
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
        prev_hash: std::mem::take(&mut head.hash),
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    head.seq = entry.seq;
    head.hash.clone_from(&entry.hash);
    entry
}

/// Appends one entry after `head` and advances it. Must run inside the writer's transaction.
/// The head comes from the writer (read once per batch, kept in memory, restored when a
/// savepoint or the batch rolls back), so an append is one hash and one INSERT.
pub fn append(
    conn: &mut DbConn,
    head: &mut ChainHead,
    actor: &Actor,
    now: NaiveDateTime,
    e: NewEntry<'_>,
) -> Result<AuditEntry, AppError> {
    let entry = chain(head, actor, now, e);
    if let Err(err) = insert_entry(conn, &entry) {
        // Back to the head before it.
        head.seq = entry.seq - 1;
        head.hash = entry.prev_hash;
        return Err(err);
    }
    Ok(entry)
}

/// `INSERT INTO audit_entries (every column) SELECT * FROM unnest(…)`, one array per column:
/// several entries in one statement of one text on PostgreSQL, whatever their number (part
/// of a batch's writes, `db::batch`).
pub struct InsertEntries<'a> {
    seq: Vec<i64>,
    at: Vec<NaiveDateTime>,
    /// actor, role, action, entity_kind, entity_id
    who_what: [Vec<&'a str>; 5],
    /// warehouse, enterprise
    where_: [Vec<Option<&'a str>>; 2],
    changes: Vec<&'a str>,
    /// reason, request_id
    why: [Vec<Option<&'a str>>; 2],
    /// prev_hash, hash
    link: [Vec<&'a str>; 2],
}

impl<'a> InsertEntries<'a> {
    /// The entries' columns, borrowed from them.
    pub fn of(entries: &'a [AuditEntry]) -> Self {
        let text = |f: fn(&AuditEntry) -> &String| entries.iter().map(|e| f(e).as_str()).collect();
        let opt = |f: fn(&AuditEntry) -> &Option<String>| {
            entries.iter().map(|e| f(e).as_deref()).collect()
        };
        Self {
            seq: entries.iter().map(|e| e.seq).collect(),
            at: entries.iter().map(|e| e.at).collect(),
            who_what: [
                text(|e| &e.actor),
                text(|e| &e.role),
                text(|e| &e.action),
                text(|e| &e.entity_kind),
                text(|e| &e.entity_id),
            ],
            where_: [opt(|e| &e.warehouse), opt(|e| &e.enterprise)],
            changes: text(|e| &e.changes),
            why: [opt(|e| &e.reason), opt(|e| &e.request_id)],
            link: [text(|e| &e.prev_hash), text(|e| &e.hash)],
        }
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for InsertEntries<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
        out.push_sql("INSERT INTO \"audit_entries\" ");
        out.push_sql(ENTRY_COLUMNS);
        out.push_sql(" SELECT * FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.at)?;
        for text in &self.who_what {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(text)?;
        }
        for opt in &self.where_ {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(opt)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.changes)?;
        for opt in &self.why {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(opt)?;
        }
        for text in &self.link {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(text)?;
        }
        out.push_sql(")");
        Ok(())
    }
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

/// Parses `SEQ:HASH` or a signed `SEQ:HASH:SIGNATURE` as published by the head endpoint: the
/// head, and its signature when it has one.
pub fn parse_signed_head(s: &str) -> Result<(ChainHead, Option<String>), String> {
    let mut parts = s.trim().splitn(3, ':');
    let (seq, hash) = (parts.next().unwrap_or(""), parts.next());
    let head = parse_head(&format!(
        "{seq}:{}",
        hash.ok_or("expected SEQ:HASH[:SIGNATURE]")?
    ))?;
    let signature = match parts.next() {
        None => None,
        Some(sig) => {
            let sig = sig.trim().to_ascii_lowercase();
            if sig.len() != 128 || !sig.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err("SIGNATURE must be 128 hex digits".into());
            }
            Some(sig)
        }
    };
    Ok((head, signature))
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

    /// The hash as first written: chrono's formatting, serde_json's text.
    fn reference_hash(e: &AuditEntry) -> String {
        let canonical = Canonical {
            seq: e.seq,
            at: e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            actor: &e.actor,
            role: &e.role,
            action: &e.action,
            entity_kind: &e.entity_kind,
            entity_id: &e.entity_id,
            warehouse: e.warehouse.as_deref(),
            enterprise: e.enterprise.as_deref(),
            changes: &e.changes,
            reason: e.reason.as_deref(),
            request_id: e.request_id.as_deref(),
            prev_hash: &e.prev_hash,
        };
        hex::encode(Sha256::digest(serde_json::to_vec(&canonical).unwrap()))
    }

    #[test]
    fn the_canonical_encoding_is_unchanged() {
        // The hash the first implementation gave this entry, kept literally: chains already
        // written must keep verifying.
        assert_eq!(
            entry().compute_hash(),
            "7df43e6b35708c1d22a3129e7147290c0f30db3d2d5babe94f10e3b8c88f9372",
            "the canonical encoding changed"
        );
        assert_eq!(entry().compute_hash(), reference_hash(&entry()));
        let times = [
            (0, 0),
            (1_700_000_000, 123_456_000),
            (1_700_000_000, 999_999_000),
            (1_700_000_000, 5_000),
            (-62_135_596_800, 0),           // 0001-01-01
            (253_402_300_799, 999_999_000), // 9999-12-31T23:59:59.999999
            (253_402_300_800, 0),           // 10000-01-01: chrono writes +10000
            (-62_200_000_000, 1_000),       // year 0 and before
        ];
        for (secs, nanos) in times {
            let mut e = entry();
            e.at = chrono::DateTime::from_timestamp(secs, nanos)
                .unwrap()
                .naive_utc();
            assert_eq!(
                canonical_time(&e.at),
                e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
            );
            assert_eq!(e.compute_hash(), reference_hash(&e));
        }
        // A leap second.
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 1_500_000)
            .unwrap();
        assert_eq!(
            canonical_time(&leap),
            leap.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
        );
        // Text that needs escaping, absent fields.
        let mut e = entry();
        e.actor = "a\"b\\c\u{1}\n甲".into();
        e.changes = r#"{"x":{"after":"\"q\"","before":null}}"#.into();
        e.enterprise = None;
        e.request_id = None;
        e.reason = Some("tab\there".into());
        assert_eq!(e.compute_hash(), reference_hash(&e));
    }

    #[test]
    fn changes_encode_as_the_json_object() {
        let c = Changes::new()
            .set("z", 1, 2)
            .created("a", serde_json::json!({"k": [1, "ü"]}));
        assert_eq!(c.encode(), Value::Object(c.0.clone()).to_string());
    }

    /// What `append` returns is what is stored, and the chain verifies (on SQLite; the API
    /// tests run the same on PostgreSQL).
    #[test]
    fn appended_entries_are_stored_as_returned() {
        use crate::db::{establish, migrate, DbUrl, SqliteSync};
        let dir = tempfile::tempdir().unwrap();
        let mut c = establish(&DbUrl::Sqlite(dir.path().join("a.db")), SqliteSync::Normal).unwrap();
        migrate(&mut c).unwrap();
        let mut head = load_head(&mut c).unwrap();
        let mut actor = Actor::system("test");
        let mut written = Vec::new();
        for i in 0..4 {
            actor.request_id = (i % 2 == 0).then(|| format!("r{i}"));
            let e = append(
                &mut c,
                &mut head,
                &actor,
                chrono::DateTime::from_timestamp(1_700_000_000 + i, 123_456_789)
                    .unwrap()
                    .naive_utc(),
                NewEntry {
                    action: "test.append",
                    entity_kind: "return",
                    entity_id: "RT1",
                    warehouse: (i % 2 == 1).then_some("WH"),
                    enterprise: (i > 1).then_some("E'1\""),
                    changes: Changes::new().set("n", i, i + 1),
                    reason: (i == 3).then_some("why"),
                },
            )
            .unwrap();
            written.push(e);
        }
        let stored: Vec<AuditEntry> = audit_entries::table
            .order(audit_entries::seq.asc())
            .select(AuditEntry::as_select())
            .load(&mut c)
            .unwrap();
        assert_eq!(stored.len(), written.len());
        for (s, w) in stored.iter().zip(&written) {
            assert_eq!(format!("{s:?}"), format!("{w:?}"));
        }
        assert_eq!(head.hash, written[3].hash);
        assert!(verify(&mut c, Some(&head)).unwrap().ok);
    }

    #[test]
    fn unchanged_fields_are_not_recorded() {
        let c = Changes::new().set("a", 1, 1).set("b", 1, 2);
        assert_eq!(c.encode(), r#"{"b":{"after":2,"before":1}}"#);
    }
}

//! Audit chain benchmark (`cargo bench --bench audit`), on SQLite with the service's
//! durability (WAL, synchronous=FULL), through the library (`bonded_returns::audit`):
//!
//! 1. **Cost of the chain**: the same entries appended to three fresh, migrated databases —
//!    with the chain (`audit::append`: head read per batch, canonical encoding, SHA-256,
//!    link); without it (the same rows in the same table through the same INSERT,
//!    `audit::insert_entry`, hash columns empty); and with the
//!    hash computation skipped (constant 64-character hashes, so rows are as large as chained
//!    ones). All in transactions of 256 entries (the writer's batch cap under load), in
//!    rounds of 10,240 cycling through every order of the three, so that all see the same
//!    disk (the first round only warms up). Target: the chain costs ≤ 10 % of
//!    throughput (printed against both unchained variants), plus the in-memory cost of
//!    `AuditEntry::compute_hash` to show where the difference goes.
//! 2. **Verify vs ingest**: `audit::verify` over the whole chain against the time the chained
//!    ingest took. Target: < 1/10.
//! 3. **Filtered query**: `audit::query::page` with a warehouse and a time range (1 hour to
//!    the whole span), first page; p95 over many random queries. Target: < 25 ms.
//!
//! Knobs: `BR_AUDIT_N` (entries; default 200,000 — the figure is 1,000,000),
//! `BR_AUDIT_QUERIES` (default 500), `BR_BENCH_DIR` (where the files go), `BR_AUDIT_KEEP=1`
//! (keep the databases for a look afterwards).

use std::time::{Duration, Instant};

use bonded_returns::audit::{self, query, Actor, AuditEntry, Changes, NewEntry};
use bonded_returns::db::{establish, migrate, DbConn, DbUrl, SqliteSync};
use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::{Rng, SeedableRng};
use serde_json::json;

const BATCH: usize = 256;
const ROUND: usize = 10_240;
const WAREHOUSES: usize = 8;
const SPAN_DAYS: i64 = 90;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// What the i-th entry of the synthetic log is: return-flow steps spread over 90 days.
struct Spec {
    actor: Actor,
    at: NaiveDateTime,
    action: &'static str,
    entity_id: String,
    warehouse: String,
    enterprise: String,
    step: usize,
}

fn spec(i: usize, n: usize, start: NaiveDateTime) -> Spec {
    let w = (i / 4) % WAREHOUSES + 1;
    let step = i % 4;
    let span = Duration::from_secs((SPAN_DAYS * 86_400) as u64);
    let offset = span.mul_f64(i as f64 / n as f64);
    Spec {
        actor: Actor {
            username: format!("floor.w{w}.{}", i % 3),
            role: "floor".into(),
            warehouse: Some(format!("WH{w:02}")),
            request_id: Some(format!("{:016x}-{:08x}", i.wrapping_mul(0x9e37_79b9), i)),
        },
        at: start + chrono::Duration::from_std(offset).unwrap_or_default(),
        action: [
            "return.receive",
            "return.sort",
            "return.inspect",
            "return.restock",
        ][step],
        entity_id: format!("RT20261122{:06}", i / 4),
        warehouse: format!("WH{w:02}"),
        enterprise: format!("HK0000E{:03}", i % 20),
        step,
    }
}

fn changes(s: &Spec) -> Changes {
    match s.step {
        0 => Changes::new()
            .set("state", "declared", "received")
            .created("warehouse", &s.warehouse)
            .created("camera", format!("CAM-{}-DOCK", s.warehouse))
            .created("received_at", s.at),
        1 => Changes::new()
            .set("state", "received", "sorted")
            .set("bin", format!("{}-RCV-01", s.warehouse), format!("{}-PND-01", s.warehouse))
            .created("sorted", ["1:2/2"]),
        2 => Changes::new()
            .set("state", "sorted", "inspected")
            .created("grades", [json!({"gnum": 1, "intact": 2, "damaged_packaging": 0, "used": 0, "defective": 0, "not_original": 0})]),
        _ => Changes::new()
            .set("line 1 restocked", 0, 2)
            .set("stock HK0000E001/3304990000/RST-A01", 10, 12)
            .set("state", "inspected", "closed"),
    }
}

/// The same content as JSON text, for the unchained variant (what `Changes` encodes).
fn changes_json(s: &Spec) -> String {
    let v = match s.step {
        0 => json!({
            "state": {"before": "declared", "after": "received"},
            "warehouse": {"before": null, "after": s.warehouse},
            "camera": {"before": null, "after": format!("CAM-{}-DOCK", s.warehouse)},
            "received_at": {"before": null, "after": s.at},
        }),
        1 => json!({
            "state": {"before": "received", "after": "sorted"},
            "bin": {"before": format!("{}-RCV-01", s.warehouse), "after": format!("{}-PND-01", s.warehouse)},
            "sorted": {"before": null, "after": ["1:2/2"]},
        }),
        2 => json!({
            "state": {"before": "sorted", "after": "inspected"},
            "grades": {"before": null, "after": [{"gnum": 1, "intact": 2, "damaged_packaging": 0, "used": 0, "defective": 0, "not_original": 0}]},
        }),
        _ => json!({
            "line 1 restocked": {"before": 0, "after": 2},
            "stock HK0000E001/3304990000/RST-A01": {"before": 10, "after": 12},
            "state": {"before": "inspected", "after": "closed"},
        }),
    };
    v.to_string()
}

fn open(path: &std::path::Path) -> DbConn {
    let url = DbUrl::Sqlite(path.to_path_buf());
    let mut c = establish(&url, SqliteSync::Full).expect("open database");
    migrate(&mut c).expect("migrate");
    c
}

/// Appends entries `from..to` with the chain, in transactions of `BATCH`.
fn ingest_chained(c: &mut DbConn, from: usize, to: usize, n: usize, start: NaiveDateTime) {
    let mut i = from;
    while i < to {
        let end = (i + BATCH).min(to);
        c.batch_execute("BEGIN IMMEDIATE").expect("begin");
        let mut head = audit::load_head(c).expect("head");
        for k in i..end {
            let s = spec(k, n, start);
            audit::append(
                c,
                &mut head,
                &s.actor,
                s.at,
                NewEntry {
                    action: s.action,
                    entity_kind: "return",
                    entity_id: &s.entity_id,
                    warehouse: Some(&s.warehouse),
                    enterprise: Some(&s.enterprise),
                    changes: changes(&s),
                    reason: None,
                },
            )
            .expect("append");
        }
        c.batch_execute("COMMIT").expect("commit");
        i = end;
    }
}

const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The same rows without the chain: no head read, no canonical encoding, no hash, no link.
/// With `same_size`, constant 64-character hashes are stored (the hash computation skipped,
/// the row as large as a chained one); without, the hash columns are empty.
fn ingest_plain(
    c: &mut DbConn,
    from: usize,
    to: usize,
    n: usize,
    start: NaiveDateTime,
    same_size: bool,
) {
    let filler = if same_size { DUMMY_HASH } else { "" };
    let mut i = from;
    while i < to {
        let end = (i + BATCH).min(to);
        c.batch_execute("BEGIN IMMEDIATE").expect("begin");
        for k in i..end {
            let s = spec(k, n, start);
            let e = AuditEntry {
                seq: k as i64 + 1,
                at: s.at.trunc_subsecs(6),
                actor: s.actor.username.clone(),
                role: s.actor.role.clone(),
                action: s.action.into(),
                entity_kind: "return".into(),
                entity_id: s.entity_id.clone(),
                warehouse: Some(s.warehouse.clone()),
                enterprise: Some(s.enterprise.clone()),
                changes: changes_json(&s),
                reason: None,
                request_id: s.actor.request_id.clone(),
                prev_hash: filler.into(),
                hash: filler.into(),
            };
            // The same INSERT as `audit::append` makes, so that only the chain differs.
            audit::insert_entry(c, &e).expect("insert");
        }
        c.batch_execute("COMMIT").expect("commit");
        i = end;
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn main() {
    let n = env_usize("BR_AUDIT_N", 200_000).max(2 * ROUND);
    let queries = env_usize("BR_AUDIT_QUERIES", 500).max(20);
    let base_dir = std::env::var("BR_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    std::fs::create_dir_all(&base_dir).expect("bench dir");
    let mut dir = tempfile::Builder::new()
        .prefix("br-audit-bench-")
        .tempdir_in(&base_dir)
        .expect("temp dir");
    if std::env::var("BR_AUDIT_KEEP").is_ok_and(|v| v == "1") {
        dir.disable_cleanup(true);
    }
    let started = Instant::now();
    println!(
        "audit benchmark: {n} entries, SQLite WAL synchronous=FULL, transactions of {BATCH}, work dir {}",
        dir.path().display()
    );
    let chain_path = dir.path().join("chain.db");
    let mut chain = open(&chain_path);
    let mut plain = open(&dir.path().join("plain.db"));
    let mut nohash = open(&dir.path().join("nohash.db"));
    let start = (Utc::now() - chrono::Duration::days(SPAN_DAYS)).naive_utc();

    // 1. Chained vs unchained appends, in rounds whose order changes.
    // The first round warms every variant up (allocator, page cache, statement cache) and is
    // not timed; the chained ingest time used in 2. is scaled up to all n entries.
    let mut t = [Duration::ZERO; 3];
    let mut timed = 0usize;
    let mut from = 0;
    let mut round = 0;
    while from < n {
        let to = (from + ROUND).min(n);
        // Every order of the three in turn, so that none always follows the same one (the
        // writeback of one file's checkpoint can slow whichever runs next).
        const ORDERS: [[usize; 3]; 6] = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        for which in ORDERS[round % 6] {
            let s = Instant::now();
            match which {
                0 => ingest_chained(&mut chain, from, to, n, start),
                1 => ingest_plain(&mut plain, from, to, n, start, false),
                _ => ingest_plain(&mut nohash, from, to, n, start, true),
            }
            if round > 0 {
                t[which] += s.elapsed();
            }
        }
        if round > 0 {
            timed += to - from;
        }
        from = to;
        round += 1;
    }
    drop(plain);
    drop(nohash);
    let rate = |d: Duration| timed as f64 / d.as_secs_f64();
    let t_chain = Duration::from_secs_f64(n as f64 / rate(t[0]));
    let (chain_rate, plain_rate, nohash_rate) = (rate(t[0]), rate(t[1]), rate(t[2]));
    println!(
        "\nappend with the chain:                      {chain_rate:>9.0} entries/s ({:.1} s)",
        t[0].as_secs_f64()
    );
    println!(
        "append without the chain (no hash, no link): {plain_rate:>9.0} entries/s ({:.1} s)",
        t[1].as_secs_f64()
    );
    println!(
        "append with the hash computation skipped:    {nohash_rate:>9.0} entries/s ({:.1} s; constant 64-char hashes)",
        t[2].as_secs_f64()
    );
    for (what, other) in [
        ("without the chain", plain_rate),
        ("hash computation skipped", nohash_rate),
    ] {
        let cost = 1.0 - chain_rate / other;
        println!(
            "  chain cost vs {what} ≤ 10% of throughput: {:.1}%  {}",
            cost * 100.0,
            verdict(cost <= 0.10)
        );
    }
    // The same comparison on in-memory databases: CPU only, no disk.
    {
        let m = n.min(50_000);
        let warm = ROUND.min(m / 4);
        let mut mem_chain = open(std::path::Path::new(":memory:"));
        let mut mem_plain = open(std::path::Path::new(":memory:"));
        ingest_chained(&mut mem_chain, 0, warm, n, start);
        ingest_plain(&mut mem_plain, 0, warm, n, start, true);
        let (mut tc, mut tp) = (Duration::ZERO, Duration::ZERO);
        let mid = warm + (m - warm) / 2;
        for (k, (a, b)) in [(warm, mid), (mid, m)].into_iter().enumerate() {
            for which in [k % 2, (k + 1) % 2] {
                let s = Instant::now();
                if which == 0 {
                    ingest_chained(&mut mem_chain, a, b, n, start);
                    tc += s.elapsed();
                } else {
                    ingest_plain(&mut mem_plain, a, b, n, start, true);
                    tp += s.elapsed();
                }
            }
        }
        let m = m - warm;
        println!(
            "  in memory (CPU only, {m} entries): chained {:.1} µs/entry, hash computation skipped {:.1} µs/entry",
            tc.as_secs_f64() * 1e6 / m as f64,
            tp.as_secs_f64() * 1e6 / m as f64
        );
    }
    // Where the chain's CPU goes: the hash of an entry, in memory.
    let sample: Vec<AuditEntry> = {
        let mut head = audit::ChainHead::genesis();
        (0..20_000)
            .map(|k| {
                let s = spec(k, n, start);
                let e = AuditEntry {
                    seq: head.seq + 1,
                    at: s.at.trunc_subsecs(6),
                    actor: s.actor.username.clone(),
                    role: s.actor.role.clone(),
                    action: s.action.into(),
                    entity_kind: "return".into(),
                    entity_id: s.entity_id.clone(),
                    warehouse: Some(s.warehouse.clone()),
                    enterprise: Some(s.enterprise.clone()),
                    changes: changes_json(&s),
                    reason: None,
                    request_id: s.actor.request_id.clone(),
                    prev_hash: head.hash.clone(),
                    hash: String::new(),
                };
                head.seq += 1;
                e
            })
            .collect()
    };
    let s = Instant::now();
    let mut x = 0usize;
    for e in &sample {
        x += e.compute_hash().len();
    }
    let hash_us = s.elapsed().as_secs_f64() * 1e6 / sample.len() as f64;
    assert!(x > 0);
    println!(
        "  AuditEntry::compute_hash alone: {hash_us:.1} µs per entry; the chained append costs {:.1} µs per entry more than the unchained one",
        1e6 / chain_rate - 1e6 / plain_rate
    );

    // 2. Verify vs ingest.
    let t = Instant::now();
    let v = audit::verify(&mut chain, None).expect("verify");
    let t_verify = t.elapsed();
    assert!(v.ok, "the chain must verify: {v:?}");
    assert_eq!(v.entries, n as i64);
    let ratio = t_verify.as_secs_f64() / t_chain.as_secs_f64();
    println!(
        "\nverify {} entries: {:.2} s; ingesting them took {:.2} s",
        v.entries,
        t_verify.as_secs_f64(),
        t_chain.as_secs_f64()
    );
    println!(
        "  verify < 1/10 of ingest: {ratio:.3}  {}",
        verdict(ratio < 0.1)
    );

    // 3. Filtered query: warehouse + time range, first page.
    let windows: [(&str, i64); 5] = [
        ("1 hour", 3_600),
        ("1 day", 86_400),
        ("7 days", 7 * 86_400),
        ("30 days", 30 * 86_400),
        ("90 days", SPAN_DAYS * 86_400),
    ];
    // How SQLite runs it: the first page should come straight off the (warehouse, at, seq)
    // index, newest first, without sorting the window.
    if let DbConn::Sqlite(s) = &mut chain {
        let plan: Vec<PlanRow> = diesel::sql_query(
            "EXPLAIN QUERY PLAN SELECT * FROM audit_entries \
             WHERE at >= $1 AND at < $2 AND warehouse = $3 ORDER BY at DESC, seq DESC LIMIT $4",
        )
        .bind::<diesel::sql_types::Timestamp, _>(start)
        .bind::<diesel::sql_types::Timestamp, _>(start + chrono::Duration::days(SPAN_DAYS))
        .bind::<diesel::sql_types::Text, _>("WH01")
        .bind::<diesel::sql_types::BigInt, _>(51)
        .load(s)
        .unwrap_or_default();
        for p in plan {
            println!("  query plan: {}", p.detail);
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut all = Vec::new();
    println!("\nfiltered query (audit::query::page, warehouse + from/to, first page of 50), {queries} queries:");
    let per = queries / windows.len();
    for (label, secs) in windows {
        let mut lat = Vec::with_capacity(per);
        let mut rows = 0usize;
        for _ in 0..per {
            let w = rng.gen_range(1..=WAREHOUSES);
            let latest = (SPAN_DAYS * 86_400 - secs).max(0);
            let off = if latest > 0 {
                rng.gen_range(0..=latest)
            } else {
                0
            };
            let from = start + chrono::Duration::seconds(off);
            let to = from + chrono::Duration::seconds(secs);
            let f = query::Filter {
                from: Some(from.and_utc().fixed_offset()),
                to: Some(to.and_utc().fixed_offset()),
                warehouse: Some(format!("WH{w:02}")),
                ..Default::default()
            };
            let limit = f.limit().expect("limit");
            let t = Instant::now();
            let (page, _) = query::page(&mut chain, &f, limit).expect("query");
            lat.push(t.elapsed().as_micros() as u64);
            rows += page.len();
        }
        lat.sort_unstable();
        println!(
            "  {label:<8} p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms  ({:.0} rows/page)",
            bonded_pct(&lat, 50.0),
            bonded_pct(&lat, 95.0),
            bonded_pct(&lat, 100.0),
            rows as f64 / per as f64
        );
        all.extend(lat);
    }
    all.sort_unstable();
    let p95 = bonded_pct(&all, 95.0);
    println!(
        "  all windows p95 < 25 ms: {p95:.2} ms  {}",
        verdict(p95 < 25.0)
    );
    let size = std::fs::metadata(&chain_path).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nchain database {:.0} MB; total time {:.0} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
}

#[derive(diesel::QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

fn bonded_pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

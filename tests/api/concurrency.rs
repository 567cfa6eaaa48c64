//! Many writers at once: no "database is locked", no 5xx, one unbroken chain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use bonded_returns::db::parties as store;
use bonded_returns::flows::parties::{self, BinInput};

use crate::support::*;

const THREADS: usize = 8;
const PER_THREAD: usize = 500;

both! {
    fn eight_threads_of_500_writes_each_make_one_unbroken_chain_and_no_locked_error(app: &TestApp) {
        let seed = app.seed_parties();
        let before = app.head().seq;
        let enterprises_before = app.count("enterprises");
        let bins_before = app.count("bins");
        let writing = AtomicBool::new(true);
        let start = Barrier::new(THREADS);
        let started = Instant::now();
        let (errors, read_errors) = thread::scope(|s| {
            // Readers go on in parallel through the pool the whole time.
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut errors = Vec::new();
                        let mut reads = 0;
                        while writing.load(Ordering::Relaxed) || reads == 0 {
                            let mut conn = app.conn();
                            if let Err(e) = store::list_warehouses(&mut conn) {
                                errors.push(e.to_string());
                            }
                            if let Err(e) = bonded_returns::audit::load_head(&mut conn) {
                                errors.push(e.to_string());
                            }
                            reads += 1;
                        }
                        errors
                    })
                })
                .collect();
            let writers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let writer = app.writer.clone();
                    let warehouse = seed.a.warehouse.clone();
                    let start = &start;
                    s.spawn(move || {
                        start.wait();
                        let mut errors = Vec::new();
                        for i in 0..PER_THREAD {
                            // Half the threads make enterprises, half make bins.
                            let result = if t % 2 == 0 {
                                let code = format!("T{t}{i:08}");
                                writer.write_blocking(move |tx| {
                                    enterprise(tx, &code, "并发测试企业", &["agent"])
                                })
                            } else {
                                let wh = warehouse.clone();
                                writer.write_blocking(move |tx| {
                                    parties::create_bin(
                                        tx,
                                        &admin_actor(),
                                        &wh,
                                        &BinInput {
                                            code: format!("T{t}-{i:04}"),
                                            area: AREAS[i % AREAS.len()].into(),
                                        },
                                    )
                                    .map(|_| ())
                                })
                            };
                            if let Err(e) = result {
                                errors.push(e.to_string());
                            }
                        }
                        errors
                    })
                })
                .collect();
            let errors: Vec<String> = writers
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            writing.store(false, Ordering::Relaxed);
            let read_errors: Vec<String> = readers
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            (errors, read_errors)
        });
        let elapsed = started.elapsed();
        assert!(
            errors.is_empty(),
            "{} of {} writes failed, e.g. {:?}",
            errors.len(),
            THREADS * PER_THREAD,
            &errors[..errors.len().min(5)]
        );
        assert!(
            read_errors.is_empty(),
            "reads failed: {:?}",
            &read_errors[..read_errors.len().min(5)]
        );

        let total = (THREADS * PER_THREAD) as i64;
        let v = app.verify(None);
        assert!(v.ok, "{v:?}");
        assert_eq!(v.entries, before + total);
        assert_eq!(app.count("enterprises"), enterprises_before + total / 2);
        assert_eq!(app.count("bins"), bins_before + total / 2);
        assert!(
            elapsed < Duration::from_secs(120),
            "4,000 writes took {elapsed:?}"
        );
    }

    fn concurrent_http_writes_and_reads_give_no_5xx_and_one_unbroken_chain(app: &TestApp) {
        let seed = app.seed_parties();
        let admin = app.admin();
        let token = app.make_token(&admin, ADMIN_PASSWORD);
        let before = app.head().seq;
        const PER: usize = 30;
        let start = Barrier::new(THREADS);
        let statuses: Vec<(u16, String)> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (token, start, seed) = (&token, &start, &seed);
                    s.spawn(move || {
                        let client = app.client();
                        start.wait();
                        let mut out = Vec::new();
                        for i in 0..PER {
                            let request = match i % 5 {
                                // Everyone races for the same enterprise: exactly one may win.
                                0 => client.post(app.url("/api/v1/enterprises")).json(&json!({"code": "4401999999", "name": "抢注企业", "kinds": ["agent"]})),
                                1 => client.get(app.url("/api/v1/enterprises")),
                                2 => client.post(app.url(&format!("/api/v1/warehouses/{}/bins", seed.b.warehouse))).json(&json!({"code": format!("H{t}-{i}"), "area": "restock"})),
                                _ => client.post(app.url("/api/v1/enterprises")).json(&json!({"code": format!("H{t}{i:08}"), "name": "并发企业", "kinds": ["logistics"]})),
                            };
                            let reply = app.send(request.bearer_auth(token));
                            out.push((reply.status, reply.code().to_string()));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let server_errors: Vec<_> = statuses.iter().filter(|(s, _)| *s >= 500).collect();
        assert!(server_errors.is_empty(), "5xx answers: {server_errors:?}");
        let created = statuses.iter().filter(|(s, _)| *s == 201).count() as i64;
        let conflicts = statuses
            .iter()
            .filter(|(s, c)| *s == 409 && c == "conflict")
            .count();
        let reads = statuses.iter().filter(|(s, _)| *s == 200).count();
        // Per thread: 6 races, 6 reads, 6 bins, 12 enterprises.
        assert_eq!(reads, THREADS * 6);
        assert_eq!(
            conflicts,
            THREADS * 6 - 1,
            "exactly one of the racing requests wins"
        );
        assert_eq!(created, (THREADS * (6 + 12) + 1) as i64);
        assert_eq!(statuses.len(), THREADS * PER);

        let v = app.get(&admin, "/api/v1/audit/verify");
        assert_eq!(v.json["ok"], true, "{}", v.text);
        assert_eq!(v.json["entries"], before + created);
    }
}

both! {
    fn a_full_write_queue_answers_503_with_retry_after_and_the_queued_writes_still_commit(app: &TestApp) {
        use actix_web::ResponseError;
        use bonded_returns::db::writer::{Writer, WriterOptions};
        use bonded_returns::db::{DbUrl, SqliteSync};
        use bonded_returns::error::AppError;

        let url = DbUrl::parse(&app.db.url).unwrap();
        let writer = Writer::start(&url, SqliteSync::Full, WriterOptions { queue: 1, group_commit: true }).unwrap();
        let (running_tx, running_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        thread::scope(|s| {
            // The first request holds the writer; the second waits in the queue of one.
            let w1 = writer.clone();
            let first = s.spawn(move || {
                w1.write_blocking(move |_tx| {
                    running_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    Ok(1)
                })
            });
            running_rx.recv_timeout(Duration::from_secs(30)).expect("the first write runs");
            // The second request waits in the queue of one (its answer is not awaited here; it
            // still commits once the writer is free).
            use futures_util::FutureExt;
            let queued = writer
                .write(|tx| enterprise(tx, "5001969Q01", "排队企业", &["ecommerce"]))
                .now_or_never();
            assert!(queued.is_none(), "the second request is queued, not answered: {queued:?}");
            // The queue is full: the third is refused at once.
            let refused = writer
                .write(|_tx| Ok(3))
                .now_or_never()
                .expect("answered at once")
                .expect_err("refused");
            assert!(matches!(refused, AppError::Unavailable(_)), "{refused:?}");
            let resp = refused.error_response();
            assert_eq!(resp.status().as_u16(), 503);
            assert_eq!(resp.headers().get("retry-after").unwrap(), "1");
            assert_eq!(refused.code(), "unavailable");
            go_tx.send(()).unwrap();
            assert_eq!(first.join().unwrap().unwrap(), 1);
        });
        // A write after that is answered once the queued one is done: both are in. (It may
        // itself find the queue still full for a moment, while the writer takes the queued one.)
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Err(e) = writer.write_blocking(|_tx| Ok(())) {
            assert!(matches!(e, AppError::Unavailable(_)) && Instant::now() < deadline, "{e:?}");
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(app.count("enterprises"), 1, "the queued write committed");
        assert!(app.verify(None).ok);
    }
}

/// One number read back from SQLite.
#[derive(diesel::QueryableByName)]
struct Num {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The SQLite settings every connection gets: WAL, `synchronous=FULL` unless relaxed on
/// purpose, foreign keys on, a busy timeout.
#[test]
fn every_sqlite_connection_has_wal_full_sync_foreign_keys_and_a_busy_timeout() {
    use bonded_returns::db::{establish, pool, DbUrl, SqliteSync};
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    let db = TestDb::fresh(Backend::Sqlite);
    let url = DbUrl::parse(&db.url).unwrap();
    for (sync, expected) in [(SqliteSync::Full, 2), (SqliteSync::Normal, 1)] {
        let p = pool(&url, sync, 2).unwrap();
        let mut pooled = p.get().unwrap();
        let mut own = establish(&url, sync).unwrap();
        for conn in [&mut *pooled, &mut own] {
            let mode: Vec<Mode> = sql_rows(conn, "PRAGMA journal_mode").unwrap();
            assert_eq!(mode[0].journal_mode, "wal");
            let num = |conn: &mut bonded_returns::db::DbConn, sql: &str| -> i64 {
                let rows: Vec<Num> = sql_rows(conn, sql).unwrap();
                rows[0].n
            };
            assert_eq!(
                num(conn, "SELECT synchronous AS n FROM pragma_synchronous"),
                expected,
                "{sync:?}"
            );
            assert_eq!(
                num(conn, "SELECT foreign_keys AS n FROM pragma_foreign_keys"),
                1
            );
            assert!(num(conn, "SELECT timeout AS n FROM pragma_busy_timeout") >= 5000);
        }
    }
}

/// With `synchronous=FULL` and group commit, the writer's SQLite connection commits with
/// NORMAL and its syncer thread syncs the write-ahead log before any answer (the crash test
/// proves nothing answered is lost); without group commit every commit syncs itself (FULL).
#[test]
fn the_sqlite_writer_commits_with_normal_and_syncs_through_its_syncer_under_group_commit() {
    use bonded_returns::db::writer::{Writer, WriterOptions};
    use bonded_returns::db::{DbUrl, SqliteSync};
    let db = TestDb::fresh(Backend::Sqlite);
    let file = DbUrl::parse(&db.url).unwrap();
    bonded_returns::db::migrate(
        &mut bonded_returns::db::establish(&file, SqliteSync::Full).unwrap(),
    )
    .expect("migrated");
    for (url, group_commit, expected) in [(&file, true, 1), (&file, false, 2)] {
        let writer = Writer::start(
            url,
            SqliteSync::Full,
            WriterOptions {
                group_commit,
                ..WriterOptions::default()
            },
        )
        .expect("the writer starts");
        let (sync, written) = writer
            .write_blocking(|tx| {
                let err = bonded_returns::error::AppError::from;
                let sync: Vec<Num> =
                    sql_rows(tx.conn, "SELECT synchronous AS n FROM pragma_synchronous")
                        .map_err(err)?;
                diesel::connection::SimpleConnection::batch_execute(
                    tx.conn,
                    "CREATE TABLE IF NOT EXISTS syncer_probe (n INTEGER); \
                     INSERT INTO syncer_probe VALUES (1);",
                )
                .map_err(err)?;
                let count: Vec<Num> =
                    sql_rows(tx.conn, "SELECT count(*) AS n FROM syncer_probe").map_err(err)?;
                Ok((sync[0].n, count[0].n))
            })
            .expect("the write is answered");
        assert_eq!(sync, expected, "{url:?}, group commit {group_commit}");
        assert!(written >= 1, "{url:?}");
    }
}

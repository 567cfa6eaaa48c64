//! The command line, run as the built binary: what it prints, how it exits, and that a
//! mistake is one clear line on standard error, never a panic.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const UNREACHABLE: &str = "postgres://nobody@127.0.0.1:1/x";

fn migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

/// One line on stderr, a non-zero exit, and no panic.
#[track_caller]
fn assert_one_clear_line(run: &CliRun, what: &str) {
    assert!(
        matches!(run.code, Some(c) if c != 0 && c != 101),
        "{what}: exit {:?} {run:?}",
        run.code
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{what}: panicked: {}",
        run.stderr
    );
    let lines = run.stderr_lines();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one line on stderr, got {lines:?}"
    );
    assert!(
        lines[0].len() > 15,
        "{what}: not much of an explanation: {lines:?}"
    );
}

/// A `serve` child process that is killed when the test ends, however it ends.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` (the command given its arguments and environment) and reads its standard
/// output until it says where it listens: the child, the lines it printed before, the base URL.
fn start_serve(cmd: &mut Command) -> (Served, Vec<String>, String) {
    start_serve_logging(cmd.env("RUST_LOG", "warn"), Stdio::null())
}

/// [`start_serve`] with the server's log (its stderr) going to `log`, at the level of
/// `RUST_LOG` as the command sets it.
fn start_serve_logging(cmd: &mut Command, log: Stdio) -> (Served, Vec<String>, String) {
    let mut child = cmd
        .env_remove("DATABASE_URL")
        .env_remove("BIND")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().unwrap();
    let served = Served(child);
    let started = Instant::now();
    let mut before = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("serving on ").nth(1) {
            let base = rest.split_whitespace().next().unwrap().to_string();
            return (served, before, base);
        }
        before.push(line);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
    }
    panic!("serve ended without saying where it listens: {before:?}");
}

both! {
    fn migrate_on_a_fresh_database_applies_every_migration_once(app: &TestApp) {
        let db = TestDb::fresh(app.backend);
        let first = cli(&["migrate", "--database-url", &db.url], None);
        assert_eq!(first.code, Some(0), "{first:?}");
        assert_eq!(
            first.stdout.trim(),
            format!("migrations applied: {}", migration_count())
        );
        let again = cli(&["migrate", "--database-url", &db.url], None);
        assert_eq!(again.code, Some(0), "{again:?}");
        assert_eq!(again.stdout.trim(), "migrations applied: 0");
        // DATABASE_URL stands for the flag.
        let env = cli_with_env(&["migrate"], None, &[("DATABASE_URL", &db.url)]);
        assert_eq!(env.stdout.trim(), "migrations applied: 0", "{env:?}");
    }

    fn user_create_reads_the_password_from_stdin_and_the_user_can_sign_in(app: &TestApp) {
        let seed = app.seed_parties();
        let run = cli(
            &[
                "user",
                "create",
                "--username",
                "cli.supervisor",
                "--role",
                "supervisor",
                "--password-stdin",
                "--database-url",
                &app.db.url,
            ],
            Some("a-password-from-stdin\n"),
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(
            run.stdout.trim(),
            "created user cli.supervisor (supervisor)"
        );
        let client = app.login("cli.supervisor", "a-password-from-stdin");
        let me = app.get(&client, "/api/v1/me");
        assert_eq!(me.json["role"], "supervisor");

        let run = cli(
            &[
                "user",
                "create",
                "--username",
                "cli.floor",
                "--role",
                "floor",
                "--warehouse",
                &seed.b.warehouse,
                "--password-stdin",
                "--database-url",
                &app.db.url,
            ],
            Some("another-long-password"),
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        let me = app.get(
            &app.login("cli.floor", "another-long-password"),
            "/api/v1/me",
        );
        assert_eq!(me.json["warehouse"], seed.b.warehouse.as_str());

        // The command line is an actor in the audit log like any other.
        let entries = app.audit_entries(&app.admin(), "&action=user.create&entity=cli.floor");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["actor"], "system:cli");
        assert!(app.verify(None).ok);
    }

    fn user_create_refuses_mistakes_with_one_line_on_stderr(app: &TestApp) {
        let users = app.count("users");
        let url = app.db.url.clone();
        let cases: [(&str, Vec<&str>, &str); 5] = [
            (
                "a short password",
                vec!["--username", "shorty", "--role", "admin"],
                "short\n",
            ),
            (
                "an unknown role",
                vec!["--username", "king", "--role", "king"],
                "a-long-enough-password\n",
            ),
            (
                "floor staff without a warehouse",
                vec!["--username", "lost", "--role", "floor"],
                "a-long-enough-password\n",
            ),
            (
                "an unknown warehouse",
                vec![
                    "--username",
                    "lost",
                    "--role",
                    "floor",
                    "--warehouse",
                    "WH-NOWHERE",
                ],
                "a-long-enough-password\n",
            ),
            (
                "an existing name",
                vec!["--username", ADMIN, "--role", "admin"],
                "a-long-enough-password\n",
            ),
        ];
        for (what, args, stdin) in cases {
            let mut all = vec!["user", "create"];
            all.extend(args);
            all.extend(["--password-stdin", "--database-url", &url]);
            let run = cli(&all, Some(stdin));
            assert_one_clear_line(&run, what);
        }
        let run = cli(
            &[
                "user",
                "create",
                "--username",
                "shorty",
                "--role",
                "admin",
                "--password-stdin",
                "--database-url",
                &url,
            ],
            Some("short\n"),
        );
        assert!(
            run.stderr.contains("password"),
            "the message names the problem: {}",
            run.stderr
        );
        assert_eq!(app.count("users"), users);
    }

    fn audit_verify_says_intact_in_one_line(app: &TestApp) {
        app.seed_parties();
        let head = app.head();
        let run = cli(&["audit", "verify", "--database-url", &app.db.url], None);
        assert_eq!(run.code, Some(0), "{run:?}");
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{run:?}");
        assert!(lines[0].contains("intact"), "{}", lines[0]);
        assert!(
            lines[0].contains(&format!("{} entries", head.seq)),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains(&format!("{}:{}", head.seq, head.hash)),
            "{}",
            lines[0]
        );
        // The head it prints is what --expect-head takes.
        let run = cli(
            &[
                "audit",
                "verify",
                "--database-url",
                &app.db.url,
                "--expect-head",
                &format!("{}:{}", head.seq, head.hash),
            ],
            None,
        );
        assert_eq!(run.code, Some(0), "{run:?}");
    }

    fn audit_verify_never_makes_or_changes_a_database_and_says_why_it_cannot_verify_one(app: &TestApp) {
        // A mistyped path, or a database that is not this program's: one line, a non-zero
        // exit, and nothing created (before, a new empty database was made and reported
        // "intact: 0 entries").
        let other = TestDb::fresh(app.backend);
        let (url, expected) = match app.backend {
            Backend::Sqlite => (
                format!("sqlite://{}", other.dir().unwrap().join("typo/audit.db").display()),
                "no database at",
            ),
            Backend::Postgres => (other.url.clone(), "not a bonded-returns database"),
        };
        let refused = |url: &str, expected: &str| {
            let run = cli(&["audit", "verify", "--database-url", url], None);
            assert_eq!(run.code, Some(2), "{run:?}");
            assert!(run.stdout.is_empty(), "{run:?}");
            assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
            assert!(run.stderr.contains(expected), "{run:?}");
        };
        refused(&url, expected);
        match app.backend {
            Backend::Sqlite => {
                assert!(!other.dir().unwrap().join("typo").exists(), "a folder was made");
                // Another program's SQLite file: not touched (still in its own journal mode).
                use diesel::{connection::SimpleConnection, Connection, RunQueryDsl};
                let foreign = other.dir().unwrap().join("foreign.db").display().to_string();
                let mut c = diesel::SqliteConnection::establish(&foreign).unwrap();
                c.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
                refused(&foreign, "not a bonded-returns database");
                let mode: Vec<Mode> = diesel::sql_query("PRAGMA journal_mode").load(&mut c).unwrap();
                assert_eq!(mode[0].journal_mode, "delete", "the file was switched to WAL");
            }
            Backend::Postgres => {
                let tables: Vec<N> = sql_rows(
                    &mut other.connect(),
                    "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public'",
                )
                .unwrap();
                assert_eq!(tables[0].n, 0, "tables were created in a database that is not ours");
            }
        }
        // This program's database, one migration behind: migrate first, it says.
        app.db
            .sql("DELETE FROM __diesel_schema_migrations WHERE version = (SELECT MAX(version) FROM __diesel_schema_migrations)")
            .unwrap();
        refused(&app.db.url, "1 migration(s) behind this program: run `bonded-returns migrate` first");
    }

    fn import_reads_many_files_and_ends_with_a_summary_and_an_exit_code_that_says_if_all_went_in(app: &TestApp) {
        let dir = tempfile::tempdir().unwrap();
        let demo = |name: &str| {
            let path = dir.path().join(name);
            std::fs::copy(format!("{}/src/demo/{name}", env!("CARGO_MANIFEST_DIR")), &path).unwrap();
            path.display().to_string()
        };
        let (lists, releases) = (demo("ceb621.xml"), demo("ceb622.xml"));
        let broken = dir.path().join("broken.xml");
        std::fs::write(&broken, "<CEB621Message").unwrap();
        let broken = broken.display().to_string();
        let missing = dir.path().join("missing.xml").display().to_string();
        let url = app.db.url.clone();
        let run = cli(&["import", &lists, &releases, &broken, &missing, "--database-url", &url], None);
        assert_eq!(run.code, Some(1), "something was not imported: {run:?}");
        let summary = run.stdout.lines().last().unwrap_or("");
        assert!(summary.starts_with("4 file(s): 36 created, "), "{summary}");
        assert!(summary.ends_with("0 rejected, 2 file(s) not imported"), "{summary}");
        assert!(run.stderr.contains(&format!("{broken}: not imported")), "{}", run.stderr);
        assert!(run.stderr.contains(&format!("{missing}: not imported")), "{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(app.count("declarations"), 36);
        // Again: nothing new, exit 0.
        let again = cli(&["import", &lists, &releases, "--database-url", &url], None);
        assert_eq!(again.code, Some(0), "{again:?}");
        let summary = again.stdout.lines().last().unwrap_or("");
        assert!(summary.starts_with("2 file(s): 0 created, 0 updated, "), "{summary}");
        assert!(summary.ends_with("0 rejected, 0 file(s) not imported"), "{summary}");
        assert_eq!(app.count("declarations"), 36);
        assert!(app.verify(None).ok);
    }

    fn import_notes_an_interim_receipt_as_skipped_and_exits_0(app: &TestApp) {
        let fixture = |name: &str| format!("{}/tests/fixtures/customs/{name}", env!("CARGO_MANIFEST_DIR"));
        let (lists, interim) = (fixture("ceb621_sample.xml"), fixture("ceb622_interim.xml"));
        let url = app.db.url.clone();
        let run = cli(&["import", &lists, &interim, "--database-url", &url], None);
        assert_eq!(run.code, Some(0), "an interim receipt is no failure: {run:?}");
        let summary = run.stdout.lines().last().unwrap_or("");
        assert_eq!(summary, "2 file(s): 2 created, 0 updated, 0 unchanged, 1 skipped, 0 rejected, 0 file(s) not imported");
        assert!(run.stderr.contains(&format!("{interim}: item 1 (?) skipped: status 1 (")), "{}", run.stderr);
        assert_eq!(app.count("declarations"), 2);
    }

    fn serve_on_a_fresh_database_answers_healthz_and_makes_the_first_admin(app: &TestApp) {
        let db = TestDb::fresh(app.backend);
        let url = match app.backend {
            Backend::Sqlite => format!(
                "sqlite://{}",
                db.dir().unwrap().join("sub/dir/fresh.db").display()
            ),
            Backend::Postgres => db.url.clone(),
        };
        let (served, _, base) = start_serve(
            Command::new(binary())
                .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
                .env("BR_ADMIN_PASSWORD", "first-admin-password"),
        );
        let client = app.client();
        let health = app.send(client.get(format!("{base}/healthz")));
        health.assert_status(200);
        assert_eq!(
            health.json,
            serde_json::json!({"status": "ok", "database": app.backend.name()})
        );
        let signed_in =
            app.send(client.post(format!("{base}/api/v1/session")).json(
                &serde_json::json!({"username": "admin", "password": "first-admin-password"}),
            ));
        signed_in.assert_status(200);
        drop(served);
    }
}

/// `serve` with no database named: SQLite at `data/bonded-returns.db` under the working
/// directory; on that empty database the first admin gets a generated password, printed once,
/// that signs in and is stored as an argon2id hash.
#[test]
fn serve_without_a_database_url_uses_the_default_file_and_prints_a_generated_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let (served, lines, base) = start_serve(
            Command::new(binary())
                .args(["serve", "--bind", "127.0.0.1:0"])
                .current_dir(dir.path())
                .env_remove("BR_ADMIN_PASSWORD"),
        );
        let password = lines.iter().find_map(|l| {
            l.split("with password ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        });
        (served, password, base)
    };
    let (served, password, base) = start();
    let password = password.expect("a generated password is printed on the first start");
    assert!(password.len() >= 16, "{password}");
    assert!(
        dir.path().join("data/bonded-returns.db").is_file(),
        "the default database file"
    );
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_in = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    drop(served);
    let hash: Vec<Hash> = sql_rows(
        &mut bonded_returns::db::establish(
            &bonded_returns::db::DbUrl::parse(
                &dir.path()
                    .join("data/bonded-returns.db")
                    .display()
                    .to_string(),
            )
            .unwrap(),
            bonded_returns::db::SqliteSync::Full,
        )
        .unwrap(),
        "SELECT password_hash FROM users WHERE username = 'admin'",
    )
    .unwrap();
    assert!(
        hash[0].password_hash.starts_with("$argon2id$"),
        "{}",
        hash[0].password_hash
    );
    assert!(!hash[0].password_hash.contains(&password));
    // The second start on the same database prints no password.
    let (served, again, _) = start();
    assert_eq!(again, None, "the password is shown once");
    drop(served);
}

#[derive(diesel::QueryableByName)]
struct Hash {
    #[diesel(sql_type = diesel::sql_types::Text)]
    password_hash: String,
}

#[test]
fn a_bad_flag_is_one_line_on_stderr_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let db = db.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("an unknown flag", vec!["serve", "--bogus"]),
        ("an unknown command", vec!["frobnicate"]),
        (
            "a flag without its value",
            vec!["migrate", "--database-url"],
        ),
        (
            "missing required flags",
            vec!["user", "create", "--username", "x"],
        ),
        (
            "a malformed head",
            vec![
                "audit",
                "verify",
                "--database-url",
                db,
                "--expect-head",
                "12",
            ],
        ),
        (
            "a malformed head hash",
            vec![
                "audit",
                "verify",
                "--database-url",
                db,
                "--expect-head",
                "12:zz",
            ],
        ),
        (
            "an address that is not one",
            vec!["serve", "--bind", "nonsense", "--database-url", db],
        ),
        (
            "an unsupported database URL",
            vec!["migrate", "--database-url", "mysql://root@127.0.0.1/x"],
        ),
        (
            "an empty database URL",
            vec!["migrate", "--database-url", ""],
        ),
        (
            "a database folder that cannot be made",
            vec!["migrate", "--database-url", "/proc/no/such/dir/x.db"],
        ),
    ];
    for (what, args) in cases {
        let run = cli(&args, None);
        assert_one_clear_line(&run, what);
    }
    // Help is not an error.
    let help = cli(&["--help"], None);
    assert_eq!(help.code, Some(0));
    assert!(help.stdout.contains("serve"));
}

#[test]
fn an_unreachable_database_is_one_clear_line_on_stderr_and_a_non_zero_exit() {
    let cases: Vec<(&str, Vec<&str>, Option<&str>)> = vec![
        (
            "migrate",
            vec!["migrate", "--database-url", UNREACHABLE],
            None,
        ),
        (
            "audit verify",
            vec!["audit", "verify", "--database-url", UNREACHABLE],
            None,
        ),
        (
            "serve",
            vec![
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                UNREACHABLE,
            ],
            None,
        ),
        (
            "user create",
            vec![
                "user",
                "create",
                "--username",
                "someone",
                "--role",
                "admin",
                "--password-stdin",
                "--database-url",
                UNREACHABLE,
            ],
            Some("a-long-enough-password\n"),
        ),
    ];
    for (what, args, stdin) in cases {
        let run = cli(&args, stdin);
        assert_one_clear_line(&run, what);
        assert!(run.stderr.contains("database"), "{what}: {}", run.stderr);
    }
}

/// A burst of sign-ins (here guesses at 24 unknown names, each checked against a dummy
/// Argon2 hash of 19 MiB) waits for the two hashing slots and gives the memory back: the
/// server's peak stays far below 24 × 19 MiB, and it stays small afterwards.
#[cfg(target_os = "linux")]
#[test]
fn a_burst_of_sign_ins_does_not_hold_on_to_argon2_memory() {
    let db = TestDb::fresh(Backend::Sqlite);
    let (served, _, base) = start_serve(
        Command::new(binary())
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
            .env("BR_ADMIN_PASSWORD", "first-admin-password"),
    );
    let kib = |field: &str| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", served.0.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{field} in {status}"))
    };
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(format!("{base}/api/v1/session"))
                    .json(&serde_json::json!({"username": format!("nobody-{i}"), "password": "not-the-password"}))
                    .send()
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), 401);
    }
    let (peak, now) = (kib("VmHWM:"), kib("VmRSS:"));
    // 24 checks at once would have held ~460 MiB; two slots hold ~40 MiB.
    assert!(peak < 120 * 1024, "peak {peak} KiB, now {now} KiB");
    assert!(now < 80 * 1024, "peak {peak} KiB, now {now} KiB");
    drop(served);
}

/// The server's log has a line per request, but never a buyer's personal data, even when
/// someone types it into a search or sends it in a refused request.
#[test]
fn the_request_log_never_holds_what_was_searched_for_or_sent() {
    let db = TestDb::fresh(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (served, _, base) = start_serve_logging(
        Command::new(binary())
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
            .env("BR_ADMIN_PASSWORD", "first-admin-password")
            .env("RUST_LOG", "debug"),
        Stdio::from(log),
    );
    let http = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_in = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": "first-admin-password"}))
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 200);
    let phone = "13912345678";
    let id_number = "110101199003071234";
    for path in [
        format!("/api/v1/returns?q={phone}"),
        format!("/api/v1/audit?entity={id_number}&actor={phone}"),
        format!("/api/v1/scan/{id_number}"),
        // Spelled otherwise, the path is still the scan resolver's, and logged as such.
        format!("/api/v1/%73can/{phone}"),
        format!("/api/%761/scan/{phone}"),
        format!("/api/v1//scan/{id_number}"),
    ] {
        let r = http.get(format!("{base}{path}")).send().unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    // A declaration refused as invalid, carrying the buyer's data in its body.
    let refused = http
        .post(format!("{base}/api/v1/declarations"))
        .json(&serde_json::json!({"invt_no": "bad", "buyer_telephone": phone, "buyer_id_number": id_number}))
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    drop(served);
    let written = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        written.contains("GET /api/v1/returns") && written.contains("POST /api/v1/declarations"),
        "a line per request: {written}"
    );
    assert_eq!(
        written.matches("GET /api/v1/scan/{code}").count(),
        4,
        "every scan logged as the resolver's: {written}"
    );
    for secret in [phone, id_number] {
        assert!(
            !written.contains(secret),
            "{secret} is in the log:\n{written}"
        );
    }
}

/// `serve --demo` gives the admin the password of `BR_ADMIN_PASSWORD` when it is set (not the
/// published demo one), and says which password applies.
#[test]
fn serve_demo_honours_the_admin_password_setting() {
    let db = TestDb::fresh(Backend::Sqlite);
    let (served, before, base) = start_serve(
        Command::new(binary())
            .args([
                "serve",
                "--demo",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                &db.url,
            ])
            .env("BR_ADMIN_PASSWORD", "my-own-admin-password"),
    );
    let admin_line = before
        .iter()
        .find(|l| l.trim_start().starts_with("admin "))
        .unwrap_or_else(|| panic!("no admin line: {before:?}"));
    assert!(admin_line.contains("BR_ADMIN_PASSWORD"), "{admin_line}");
    assert!(!admin_line.contains("demo-admin-2026"), "{admin_line}");
    let http = reqwest::blocking::Client::new();
    let sign_in = |password: &str| {
        http.post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        sign_in("demo-admin-2026"),
        401,
        "the published password works"
    );
    assert_eq!(sign_in("my-own-admin-password"), 200);
    drop(served);
}

#[derive(diesel::QueryableByName)]
struct Mode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

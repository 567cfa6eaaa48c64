//! The harness: every test gets a fresh database (a temp SQLite file, or a PostgreSQL database
//! of its own that is dropped afterwards) and the real app on a random port, and is written
//! once with `both!` to run on both backends.
//!
//! PostgreSQL is `postgres://postgres@127.0.0.1:5432/postgres` unless `BR_TEST_PG_URL` says
//! otherwise. When it cannot be reached, the PostgreSQL variants print `SKIPPED …` and pass,
//! except under `CI=true`, where they fail: CI must not go green without them.

use std::io::Write as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::HttpServer;
use diesel::connection::SimpleConnection;
use diesel::r2d2::PooledConnection;
use diesel::{Connection, PgConnection};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use bonded_returns::audit::{self, Actor, ChainHead, Verification};
use bonded_returns::config::Config;
use bonded_returns::db::writer::{Tx, Writer};
use bonded_returns::db::{self, DbConn, DbUrl, Pool, SqliteSync};
use bonded_returns::error::AppError;
use bonded_returns::flows::parties::{
    self, BinInput, CameraInput, EnterpriseInput, WarehouseInput,
};
use bonded_returns::flows::users::{self, UserInput};

/// The first admin every test app starts with.
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-test-password-1";
/// The password of every user made by `create_user`.
pub const PASSWORD: &str = "floor-test-password-1";

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Runs one test body on both backends: `both! { fn name(app: &TestApp) { … } }` becomes a
/// module `name` with the tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! both {
    ($( $(#[$meta:meta])* fn $name:ident($app:ident : &TestApp $(,)?) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($app: &$crate::support::TestApp) $body

                #[test]
                fn sqlite() {
                    $crate::support::run($crate::support::Backend::Sqlite, body)
                }

                #[test]
                fn postgres() {
                    $crate::support::run($crate::support::Backend::Postgres, body)
                }
            }
        )*
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

pub fn pg_admin_url() -> String {
    std::env::var("BR_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PG_URL.to_string())
}

fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
        .unwrap_or(false)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asked once per test binary.
fn postgres_reachable() -> Result<(), String> {
    static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
    REACHABLE
        .get_or_init(|| {
            PgConnection::establish(&pg_admin_url())
                .map(|_| ())
                .map_err(|e| one_line(&e.to_string()))
        })
        .clone()
}

/// Can tests run on `backend` here? Under `CI=true` a missing PostgreSQL is a failure.
pub fn available(backend: Backend) -> bool {
    if backend == Backend::Sqlite {
        return true;
    }
    match postgres_reachable() {
        Ok(()) => true,
        Err(e) if in_ci() => panic!(
            "PostgreSQL not reachable at {} ({e}); CI=true, so PostgreSQL tests must run",
            pg_admin_url()
        ),
        Err(e) => {
            // Straight to the terminal: libtest only captures the print macros.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED (PostgreSQL not reachable at {}: {e})",
                pg_admin_url()
            );
            false
        }
    }
}

/// Runs `test` against a fresh app on `backend`.
pub fn run(backend: Backend, test: impl FnOnce(&TestApp)) {
    run_configured(backend, |_| {}, test)
}

/// [`run`] with settings of its own (`configure` changes the test app's settings).
pub fn run_configured(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
    test: impl FnOnce(&TestApp),
) {
    if !available(backend) {
        return;
    }
    let app = TestApp::spawn_configured(backend, configure);
    test(&app);
}

/// A URL like `postgres://u@h:p/postgres?x` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let host = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{host}/{name}?{q}"),
        None => format!("{scheme}://{host}/{name}"),
    }
}

/// An empty database of its own: a file in a temp folder, or a PostgreSQL database that is
/// dropped (with force) when this is dropped.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn fresh(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("br-test-")
                    .tempdir()
                    .expect("a temp folder");
                let url = dir
                    .path()
                    .join("bonded-returns.db")
                    .to_string_lossy()
                    .into_owned();
                Self {
                    url,
                    pg_name: None,
                    dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("br_test_{}", uuid::Uuid::new_v4().simple());
                let admin = pg_admin_url();
                let mut c = PgConnection::establish(&admin)
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin}: {e}"));
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
                Self {
                    url: with_database(&admin, &name),
                    pg_name: Some(name),
                    dir: None,
                }
            }
        }
    }

    /// The folder of the SQLite file (SQLite only).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// A new connection of its own, outside the app's pool.
    pub fn connect(&self) -> DbConn {
        let url = DbUrl::parse(&self.url).expect("a database URL");
        db::establish(&url, SqliteSync::Normal).expect("a connection to the test database")
    }

    /// Runs SQL behind the app's back; the error text when the database refuses it.
    pub fn sql(&self, sql: &str) -> Result<(), String> {
        self.connect().batch_execute(sql).map_err(|e| e.to_string())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            // Never panic here: a panic while a failed test unwinds would abort the run.
            let dropped = PgConnection::establish(&pg_admin_url()).and_then(|mut c| {
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
            });
            if let Err(e) = dropped {
                let _ = writeln!(
                    std::io::stderr(),
                    "could not drop test database {name}: {e}"
                );
            }
        }
    }
}

/// A user made for a test; every one has the password `PASSWORD`.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub password: String,
}

/// A warehouse with its operator, a bin in every area and a camera.
#[derive(Debug, Clone)]
pub struct Place {
    pub operator: String,
    pub warehouse: String,
    /// (area, bin code) for each of the six areas.
    pub bins: Vec<(String, String)>,
    pub camera: String,
}

impl Place {
    pub fn bin(&self, area: &str) -> &str {
        self.bins
            .iter()
            .find(|(a, _)| a == area)
            .map(|(_, b)| b.as_str())
            .unwrap_or_else(|| panic!("no bin in area {area}"))
    }
}

/// What `seed_parties` made: warehouses A and B, run by two operators, and an e-commerce
/// enterprise that runs no warehouse.
#[derive(Debug, Clone)]
pub struct Seed {
    pub a: Place,
    pub b: Place,
    pub ecommerce: String,
}

pub const AREAS: [&str; 6] = [
    "receiving",
    "pending_inspection",
    "discrepancy",
    "hold",
    "restock",
    "exit",
];

/// The code of the seeded camera over `area` of `warehouse` (not the receiving one: that is
/// `Place::camera`).
pub fn area_camera(warehouse: &str, area: &str) -> String {
    format!(
        "CAM-{warehouse}-{}",
        area.to_ascii_uppercase().replace('_', "-")
    )
}

/// What one HTTP exchange gave back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Reply {
    /// The problem's machine `code` ("" when there is none).
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    pub fn is_problem(&self) -> bool {
        self.content_type.starts_with("application/problem+json")
            && self.json["code"].is_string()
            && self.json["status"].as_u64() == Some(u64::from(self.status))
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "expected {status} {code}, got {} {}",
            self.status,
            self.text
        );
        assert!(self.is_problem(), "not a problem+json answer: {self:?}");
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected {status}, got {} {}",
            self.status, self.text
        );
        self
    }
}

static USERS: AtomicUsize = AtomicUsize::new(0);

/// The real app on `127.0.0.1:<random>` over a database of its own.
pub struct TestApp {
    pub backend: Backend,
    pub base_url: String,
    pub pool: Pool,
    pub writer: Writer,
    server: ServerHandle,
    thread: Option<JoinHandle<()>>,
    /// The installation's signing key (in `_keys`).
    pub signing_key: std::path::PathBuf,
    _keys: tempfile::TempDir,
    /// Last, so that it is dropped after everything using it.
    pub db: TestDb,
}

impl TestApp {
    pub fn spawn_configured(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::fresh(backend);
        let mut config =
            Config::load(Some(&db.url), Some("127.0.0.1:0")).expect("settings for the test app");
        let keys = tempfile::tempdir().expect("a folder for the signing key");
        config.signing_key = keys.path().join("audit-signing.key");
        configure(&mut config);
        let (pool, writer) = bonded_returns::app::open(&config).expect("the test database opens");
        let admin = users::prepare(&UserInput {
            username: ADMIN.into(),
            role: "admin".into(),
            warehouse: None,
            password: ADMIN_PASSWORD.into(),
        })
        .expect("the first admin");
        writer
            .write_blocking(move |tx| users::create_user(tx, &Actor::system("test"), admin))
            .expect("the first admin is created");
        let signing_key = config.signing_key.clone();
        let state = bonded_returns::app::state(config, pool.clone(), writer.clone())
            .expect("the app state (its signing key)");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().expect("the port");
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("test-server-{}", addr.port()))
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let server = HttpServer::new(move || bonded_returns::http::app(state.clone()))
                        .workers(2)
                        .disable_signals()
                        .shutdown_timeout(1)
                        .listen(listener)
                        .expect("the server listens")
                        .run();
                    let _ = handle_tx.send(server.handle());
                    if let Err(e) = server.await {
                        let _ = writeln!(std::io::stderr(), "test server stopped: {e}");
                    }
                })
            })
            .expect("the server thread starts");
        let server = handle_rx.recv().expect("the server starts");
        Self {
            backend,
            base_url: format!("http://{addr}"),
            pool,
            writer,
            server,
            thread: Some(thread),
            signing_key,
            _keys: keys,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A client that keeps cookies, signed in as nobody.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client")
    }

    /// Signs in with `client`, whatever the outcome.
    pub fn sign_in(&self, client: &Client, username: &str, password: &str) -> Reply {
        self.post_json(
            client,
            "/api/v1/session",
            &json!({"username": username, "password": password}),
        )
    }

    /// A bearer token made by `client`'s browser session, with the user's `password` again.
    #[track_caller]
    pub fn make_token(&self, client: &Client, password: &str) -> String {
        let r = self.post_json(
            client,
            "/api/v1/tokens",
            &json!({"name": "test script", "password": password}),
        );
        r.assert_status(201);
        r.json["token"].as_str().expect("a token").to_string()
    }

    /// A client signed in as `username`.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str) -> Client {
        let client = self.client();
        self.sign_in(&client, username, password).assert_status(200);
        client
    }

    /// A client signed in as the first admin.
    pub fn admin(&self) -> Client {
        self.login(ADMIN, ADMIN_PASSWORD)
    }

    /// Makes a user directly through the writer (floor staff need a `warehouse`).
    pub fn create_user(&self, role: &str, warehouse: Option<&str>) -> TestUser {
        let n = USERS.fetch_add(1, Ordering::Relaxed);
        let username = format!("{role}-{n}");
        let new = users::prepare(&UserInput {
            username: username.clone(),
            role: role.into(),
            warehouse: warehouse.map(Into::into),
            password: PASSWORD.into(),
        })
        .expect("a valid user");
        self.write(move |tx| users::create_user(tx, &admin_actor(), new))
            .expect("the user is created");
        TestUser {
            username,
            password: PASSWORD.into(),
        }
    }

    /// A client signed in as a new user with `role`.
    pub fn user_client(&self, role: &str, warehouse: Option<&str>) -> Client {
        let u = self.create_user(role, warehouse);
        self.login(&u.username, &u.password)
    }

    /// Warehouses A and B (with their operators, a bin in every area and a camera) and an
    /// e-commerce enterprise, made through the writer as the admin would.
    pub fn seed_parties(&self) -> Seed {
        let place = |letter: char, operator: &str| Place {
            operator: operator.to_string(),
            warehouse: format!("WH-{letter}"),
            bins: AREAS
                .iter()
                .map(|a| {
                    (
                        a.to_string(),
                        format!("{letter}-{}-01", a.to_ascii_uppercase()),
                    )
                })
                .collect(),
            camera: format!("CAM-{letter}1"),
        };
        let a = place('A', "3301960001");
        let b = place('B', "3301960002");
        let ecommerce = "91330100MA2H000003".to_string();
        let (pa, pb, ec) = (a.clone(), b.clone(), ecommerce.clone());
        self.write(move |tx| {
            let actor = admin_actor();
            for (p, name) in [(&pa, "甲保税仓储有限公司"), (&pb, "乙保税仓储有限公司")]
            {
                enterprise(tx, &p.operator, name, &["warehouse_operator"])?;
                parties::create_warehouse(
                    tx,
                    &actor,
                    &WarehouseInput {
                        code: p.warehouse.clone(),
                        name: format!("{name} 退货中心仓"),
                        operator: p.operator.clone(),
                        zone: "重庆西永综合保税区".into(),
                    },
                )?;
                for (area, code) in &p.bins {
                    parties::create_bin(
                        tx,
                        &actor,
                        &p.warehouse,
                        &BinInput {
                            code: code.clone(),
                            area: area.clone(),
                        },
                    )?;
                }
                parties::create_camera(
                    tx,
                    &actor,
                    &p.warehouse,
                    &CameraInput {
                        code: p.camera.clone(),
                        name: "收货台摄像头".into(),
                        area: "receiving".into(),
                        playback_url: None,
                    },
                )?;
                // Every step is filmed: a camera over each other area too.
                for area in AREAS.iter().filter(|a| **a != "receiving") {
                    parties::create_camera(
                        tx,
                        &actor,
                        &p.warehouse,
                        &CameraInput {
                            code: area_camera(&p.warehouse, area),
                            name: format!("{area} 摄像头"),
                            area: area.to_string(),
                            playback_url: None,
                        },
                    )?;
                }
            }
            enterprise(
                tx,
                &ec,
                "跨境优选电子商务有限公司",
                &["ecommerce", "platform"],
            )?;
            Ok(())
        })
        .expect("the parties are seeded");
        Seed { a, b, ecommerce }
    }

    /// `n` more enterprises made through the writer, one audit entry each.
    pub fn add_enterprises(&self, n: usize) {
        let base = self.count("enterprises") as usize;
        self.write(move |tx| {
            for i in 0..n {
                enterprise(
                    tx,
                    &format!("55019{:05}", base + i),
                    "后来的企业",
                    &["agent"],
                )?;
            }
            Ok(())
        })
        .expect("the enterprises are made");
    }

    /// Runs `f` through the app's writer, as a request would.
    pub fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.write_blocking(f)
    }

    /// A pooled connection of the app, for checking what is stored.
    pub fn conn(&self) -> PooledConnection<db::DbManager> {
        self.pool.get().expect("a pooled connection")
    }

    /// The committed head of the audit chain.
    pub fn head(&self) -> ChainHead {
        audit::load_head(&mut self.conn()).expect("the audit head")
    }

    /// Verifies the whole chain directly (not over HTTP).
    pub fn verify(&self, expect_head: Option<&ChainHead>) -> Verification {
        audit::verify(&mut self.conn(), expect_head).expect("verification runs")
    }

    /// Rows in `table`.
    pub fn count(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = sql_rows(
            &mut self.conn(),
            &format!("SELECT COUNT(*) AS n FROM {table}"),
        )
        .expect("a count");
        rows[0].n
    }

    /// Sends `request` and checks the answer against the OpenAPI description
    /// (`conformance::check`).
    #[track_caller]
    pub fn send(&self, request: RequestBuilder) -> Reply {
        let (client, request) = request.build_split();
        let request = request.expect("a well-formed request");
        let (method, url) = (request.method().clone(), request.url().clone());
        let resp = client.execute(request).expect("the app answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = resp.bytes().unwrap_or_default();
        crate::conformance::check(&crate::conformance::Exchange {
            method: method.as_str(),
            target: url.path(),
            status,
            content_type: &content_type,
            body: &bytes,
        });
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            headers,
            text,
            json,
        }
    }

    pub fn get(&self, client: &Client, path: &str) -> Reply {
        self.send(client.get(self.url(path)))
    }

    pub fn delete(&self, client: &Client, path: &str) -> Reply {
        self.send(client.delete(self.url(path)))
    }

    pub fn post_json(&self, client: &Client, path: &str, body: &Value) -> Reply {
        self.send(client.post(self.url(path)).json(body))
    }

    pub fn patch_json(&self, client: &Client, path: &str, body: &Value) -> Reply {
        self.send(client.patch(self.url(path)).json(body))
    }

    /// Every audit entry, newest first, read page by page over HTTP.
    pub fn audit_entries(&self, client: &Client, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/audit?limit=500{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(client, &path);
            page.assert_status(200);
            out.extend(page.json["items"].as_array().cloned().unwrap_or_default());
            match page.json["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop at once; the future only waits for it.
        drop(self.server.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The first admin, as the actor of writes made directly by tests.
pub fn admin_actor() -> Actor {
    Actor {
        username: ADMIN.into(),
        role: "admin".into(),
        warehouse: None,
        request_id: None,
    }
}

/// Makes an enterprise through the flow, as `POST /enterprises` does.
pub fn enterprise(tx: &mut Tx<'_>, code: &str, name: &str, kinds: &[&str]) -> Result<(), AppError> {
    parties::create_enterprise(
        tx,
        &admin_actor(),
        &EnterpriseInput {
            code: code.into(),
            name: name.into(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
        },
    )
    .map(|_| ())
}

/// Rows of a raw query, on whichever backend `conn` is.
pub fn sql_rows<T>(conn: &mut DbConn, sql: &str) -> Result<Vec<T>, diesel::result::Error>
where
    T: diesel::QueryableByName<diesel::pg::Pg>
        + diesel::QueryableByName<diesel::sqlite::Sqlite>
        + 'static,
{
    use diesel::RunQueryDsl;
    match conn {
        DbConn::Pg(c) => diesel::sql_query(sql).load(c),
        DbConn::Sqlite(c) => diesel::sql_query(sql).load(c),
    }
}

/// The path of the built binary, for the command-line tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_bonded-returns")
}

/// What one run of the command line gave back.
#[derive(Debug)]
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// The non-empty lines of standard error.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

/// Runs the built binary with `args`, feeding `stdin`, with a clean environment for its
/// settings (no `DATABASE_URL`, `BIND` or `BR_ADMIN_PASSWORD` leaking in from outside).
pub fn cli(args: &[&str], stdin: Option<&str>) -> CliRun {
    cli_with_env(args, stdin, &[])
}

pub fn cli_with_env(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> CliRun {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("BIND")
        .env_remove("BR_ADMIN_PASSWORD")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("stdin is written");
        }
    }
    let out = child.wait_with_output().expect("the binary ends");
    CliRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// At most `n` characters of `s`, for a failure message (never cut inside a character).
pub fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

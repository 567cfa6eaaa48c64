//! Storage: one connection type for SQLite and PostgreSQL, the pool for reads, migrations,
//! and the single group-committing writer through which every write of the process goes.
//!
//! Storage functions in the sibling modules take `&mut DbConn` so that a flow can compose
//! several of them inside the one transaction the writer opens for it.

/// Runs a query-DSL expression on the connection inside a [`DbConn`]:
/// `on_inner!(conn, |c| query.load(c))`.
///
/// Through `DbConn` itself (diesel's `MultiConnection`) every query first renders its whole
/// SQL text again (identifiers escaped one by one), even when its prepared statement is
/// cached. On the inner connection diesel finds the statement by the query's type alone. The
/// hot path (the return steps, the audit append, session look-ups) goes this way; it also
/// compiles what `DbConn` cannot (`on_conflict`, `.returning(…)` of a whole row).
///
/// Defined before the submodules, which see it without an import.
macro_rules! on_inner {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_inner;

/// `UPDATE table SET changeset WHERE filter`, kept prepared under the marker type `Id` (one
/// marker per call site).
///
/// Diesel never caches its own UPDATE statements (a changeset may skip `None` fields, so the
/// text can vary), so each one was parsed and planned anew. This one renders the same
/// pieces without that flag; use it only where the text cannot vary: every column of the
/// changeset always set (`treat_none_as_null`, or no optional fields) and a fixed filter.
pub(crate) struct FixedUpdate<T: diesel::QuerySource, V, W, Id> {
    from: T::FromClause,
    values: V,
    filter: W,
    id: std::marker::PhantomData<Id>,
}

impl<T: diesel::QuerySource, V, W, Id> FixedUpdate<T, V, W, Id> {
    pub(crate) fn new<C>(table: T, changes: C, filter: W) -> Self
    where
        C: diesel::query_builder::AsChangeset<Target = T, Changeset = V>,
    {
        Self {
            from: table.from_clause(),
            values: changes.as_changeset(),
            filter,
            id: std::marker::PhantomData,
        }
    }
}

impl<T: diesel::QuerySource, V, W, Id: 'static> diesel::query_builder::QueryId
    for FixedUpdate<T, V, W, Id>
{
    type QueryId = Id;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T, V, W, Id, DB> diesel::query_builder::QueryFragment<DB> for FixedUpdate<T, V, W, Id>
where
    DB: diesel::backend::Backend,
    T: diesel::Table,
    T::FromClause: diesel::query_builder::QueryFragment<DB>,
    V: diesel::query_builder::QueryFragment<DB>,
    W: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.values.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<T: diesel::QuerySource, V, W, Id, Conn> diesel::RunQueryDsl<Conn>
    for FixedUpdate<T, V, W, Id>
{
}

/// `column IN (SELECT value FROM json_each(?))` on SQLite, `column = ANY($1)` on PostgreSQL:
/// the test of a text column against several values, one bound parameter on both, so its
/// text never varies and the statement stays prepared, found by its type. Diesel's own
/// `eq_any` varies with the number of values: every run of such a statement rendered its SQL
/// text again to find it in the cache (4 % of the SQLite writer's time in the flow benchmark).
#[derive(Debug, Clone)]
pub(crate) struct AnyOf<'a, C> {
    column: C,
    values: Values<'a>,
}

impl<'a, C> AnyOf<'a, C> {
    pub(crate) fn new(column: C, values: &[&'a str]) -> Self {
        Self {
            column,
            values: Values(values.to_vec()),
        }
    }
}

/// The values of [`AnyOf`], bound as one parameter: a JSON array on SQLite, an array on
/// PostgreSQL.
#[derive(Debug, Clone)]
struct Values<'a>(Vec<&'a str>);

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for Values<'_> {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<C> diesel::expression::Expression for AnyOf<'_, C> {
    type SqlType = diesel::sql_types::Bool;
}

impl<C, QS> diesel::AppearsOnTable<QS> for AnyOf<'_, C> where C: diesel::AppearsOnTable<QS> {}

impl<C, QS> diesel::SelectableExpression<QS> for AnyOf<'_, C> where
    C: diesel::SelectableExpression<QS>
{
}

impl<C, GB> diesel::expression::ValidGrouping<GB> for AnyOf<'_, C>
where
    C: diesel::expression::ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

/// The query id of [`AnyOf`]: its text depends on its column only.
pub(crate) struct AnyOfId<C>(std::marker::PhantomData<C>);

impl<C: diesel::query_builder::QueryId> diesel::query_builder::QueryId for AnyOf<'_, C> {
    type QueryId = AnyOfId<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C> diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for AnyOf<'_, C>
where
    C: diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.values)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C> diesel::query_builder::QueryFragment<diesel::pg::Pg> for AnyOf<'_, C>
where
    C: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(
            &self.values.0,
        )?;
        out.push_sql(")");
        Ok(())
    }
}

pub mod batch;
pub mod refcache;
pub mod schema;
pub mod timestamps;
pub mod writer;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

/// One connection to either backend; the variant is chosen from the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// SQLite 3.53 treats a bound `LIMIT ?` as a constant when it plans a statement and marks
/// the statement to be planned again whenever that parameter is bound anew, which diesel
/// does on every run: each `.first()` / `.limit(n)` query was parsed and planned from scratch
/// on every call (a third of the writer's CPU). The query planner stability guarantee
/// (`SQLITE_DBCONFIG_ENABLE_QPSG`) turns off planning by bound values, so cached statements
/// stay prepared. Diesel does not expose the raw handle, so the setting is applied by an
/// auto-extension, which SQLite runs for every connection the process opens afterwards.
/// The schema has no LIKE patterns nor ANALYZE statistics, the only other uses of bound
/// values by the planner.
///
/// Before that (SQLite must not be initialised yet), two process-wide settings:
/// - multi-thread mode instead of serialized: a diesel connection is `Send` but not `Sync`,
///   so no two threads ever use one connection (or its statements) at once, and SQLite's
///   per-connection mutexes, taken and released around every call, only cost time (rusqlite
///   opens its connections the same way, with `SQLITE_OPEN_NOMUTEX`);
/// - no memory statistics: with them on, every allocation SQLite makes takes a global mutex
///   to count it, and nothing here reads the counts.
///
/// Mutex calls fell from 6.6 % to 2.3 % of the server's CPU samples in the flow benchmark (64
/// clients); what is left is SQLite's global page-cache mutex, kept in multi-thread mode.
fn sqlite_process_setup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` is called before anything in this process has used SQLite
        // (this runs before the first connection is opened); if it has been initialised after
        // all, SQLite refuses the change with SQLITE_MISUSE and keeps its safe defaults.
        let rcs = unsafe {
            [
                libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD),
                libsqlite3_sys::sqlite3_config(
                    libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                    0 as std::os::raw::c_int,
                ),
            ]
        };
        if rcs.iter().any(|&rc| rc != libsqlite3_sys::SQLITE_OK) {
            tracing::debug!(?rcs, "SQLite was initialised before its process settings");
        }
        // SAFETY: registers a plain function with the signature SQLite expects; it only calls
        // `sqlite3_db_config` on the handle SQLite passes in while opening it.
        let rc = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(enable_qpsg)) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(rc, "cannot register the SQLite query-planner setting");
        }
    });
}

unsafe extern "C" fn enable_qpsg(
    db: *mut libsqlite3_sys::sqlite3,
    _err: *mut *mut std::os::raw::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int {
    // SAFETY: `db` is the connection being opened; the option takes an int and an int pointer
    // (null: the previous value is not wanted).
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::os::raw::c_int,
            std::ptr::null_mut::<std::os::raw::c_int>(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Advisory lock key (PostgreSQL) serialising migrations across nodes.
const MIGRATION_LOCK: i64 = 0x6272_6d69_6772;
/// Advisory lock key serialising write batches, and so the audit chain, across nodes.
pub const WRITE_LOCK: i64 = 0x6272_6175_6469;

/// How hard SQLite syncs a commit to disk (`BR_SQLITE_SYNCHRONOUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// Survives power loss: every commit is synced (default).
    Full,
    /// Survives a process crash; the last commits may be lost on power loss.
    Normal,
}

impl std::str::FromStr for SqliteSync {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!(
                "unknown SQLite synchronous setting {other:?} (full or normal)"
            )),
        }
    }
}

/// A database location, parsed from a URL or a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the database URL is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(format!(
                "unsupported database URL scheme {scheme:?} (use a file path, sqlite://PATH or postgres://…)"
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(raw)))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// An r2d2 manager that picks the variant itself, so connection errors keep their cause.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DbUrl,
    sync: SqliteSync,
}

impl DbManager {
    pub fn new(url: DbUrl, sync: SqliteSync) -> Self {
        Self { url, sync }
    }
}

/// Connects to the database, with the per-connection SQLite settings applied.
pub fn establish(url: &DbUrl, sync: SqliteSync) -> Result<DbConn, diesel::ConnectionError> {
    match url {
        DbUrl::Postgres(u) => Ok(DbConn::Pg(PgConnection::establish(u)?)),
        DbUrl::Sqlite(path) => {
            sqlite_process_setup();
            let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
            // busy_timeout first, so that even switching to WAL waits for other processes.
            let sync = match sync {
                SqliteSync::Full => "FULL",
                SqliteSync::Normal => "NORMAL",
            };
            // temp_store = MEMORY: the writer runs each request in a savepoint, and SQLite
            // copies every page a savepoint changes first into a sub-journal; beyond 64 KiB
            // that journal spilled into a temporary file (a write per page, per request).
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
                 PRAGMA temp_store = MEMORY;"
            ))
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConn::Sqlite(c))
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        establish(&self.url, self.sync).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<DbManager>;

/// Builds the read pool; fails fast (and with the cause) when the database cannot be reached.
pub fn pool(url: &DbUrl, sync: SqliteSync, size: u32) -> Result<Pool, AppError> {
    if let DbUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                AppError::Startup(format!(
                    "cannot create database folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
    }
    // Try once directly, so that an unreachable database is reported at once with its cause.
    establish(url, sync)
        .map_err(|e| AppError::Startup(format!("cannot open the database: {e}")))?;
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager::new(url.clone(), sync))
        .map_err(|e| AppError::Startup(format!("cannot open the database: {e}")))
}

/// Opens a database that must already exist and be up to date, for a command that only reads
/// it (`audit verify`): a mistyped path is an error, never a new empty database that would
/// then verify as "intact", and nothing is written to a database that is not this program's.
pub fn open_existing(url: &DbUrl, sync: SqliteSync) -> Result<DbConn, AppError> {
    let not_ours =
        || AppError::Startup("not a bonded-returns database (it has no audit log)".into());
    let cannot_open =
        |e: diesel::ConnectionError| AppError::Startup(format!("cannot open the database: {e}"));
    // The audit log is looked for first, on a bare connection: `establish` would switch a
    // SQLite file to WAL, and diesel's migration check would create its own table.
    let mut bare = match url {
        DbUrl::Sqlite(path) if !path.is_file() => {
            return Err(AppError::Startup(format!(
                "no database at {}",
                path.display()
            )))
        }
        DbUrl::Sqlite(path) => DbConn::Sqlite(
            SqliteConnection::establish(&path.to_string_lossy()).map_err(cannot_open)?,
        ),
        DbUrl::Postgres(u) => DbConn::Pg(PgConnection::establish(u).map_err(cannot_open)?),
    };
    bare.batch_execute("SELECT seq FROM audit_entries LIMIT 1")
        .map_err(|_| not_ours())?;
    drop(bare);
    let mut conn = establish(url, sync).map_err(cannot_open)?;
    let pending = match &mut conn {
        DbConn::Pg(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|m| m.len()),
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|m| m.len()),
    }
    .map_err(|e| AppError::Startup(format!("cannot read the database's migrations: {e}")))?;
    if pending > 0 {
        return Err(AppError::Startup(format!(
            "the database is {pending} migration(s) behind this program: run `bonded-returns migrate` first"
        )));
    }
    Ok(conn)
}

/// Runs pending migrations; on PostgreSQL under an advisory lock so nodes can start together.
pub fn migrate(conn: &mut DbConn) -> Result<usize, AppError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| {
        AppError::Startup(format!("migration failed: {e}"))
    };
    match conn {
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            result.map_err(fail)
        }
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(fail),
    }
}

impl DbConn {
    pub fn backend(&self) -> &'static str {
        match self {
            DbConn::Pg(_) => "postgres",
            DbConn::Sqlite(_) => "sqlite",
        }
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool, never on an actix worker.
pub async fn read<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::Unavailable(format!("database pool: {e}")))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}

pub mod idempotency;
pub mod parties;
pub mod printing;
pub mod returns;
pub mod users;

#[cfg(test)]
mod tests {
    use super::*;
    use libsqlite3_sys as ffi;

    #[test]
    fn sqlite_connections_go_without_mutexes_and_memory_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("setup.db");
        let _first = establish(&DbUrl::Sqlite(file.clone()), SqliteSync::Normal).unwrap();
        // Opened as diesel opens its connections (no mutex flag of its own).
        let path = std::ffi::CString::new(file.to_str().unwrap()).unwrap();
        let mut db = std::ptr::null_mut();
        // SAFETY: plain calls of the C API with valid pointers; `db` is closed at the end.
        unsafe {
            let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_URI;
            assert_eq!(
                ffi::sqlite3_open_v2(path.as_ptr(), &mut db, flags, std::ptr::null()),
                ffi::SQLITE_OK
            );
            assert!(
                ffi::sqlite3_db_mutex(db).is_null(),
                "connections are opened in multi-thread mode, without a mutex of their own"
            );
            let (mut used, mut highest) = (0i64, 0i64);
            ffi::sqlite3_status64(ffi::SQLITE_STATUS_MEMORY_USED, &mut used, &mut highest, 0);
            assert_eq!(used, 0, "SQLite does not count its allocations");
            ffi::sqlite3_close(db);
        }
    }
}

//! Starting the service: database, migrations, writer, first admin, state.

use actix_web::web;

use crate::audit::Actor;
use crate::config::Config;
use crate::db::writer::{Writer, WriterOptions};
use crate::db::{self, users as user_store};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::flows::users::{self as user_flow, NewUser};
use crate::http::AppState;

/// Opens the database, runs migrations and starts the writer.
pub fn open(config: &Config) -> Result<(db::Pool, Writer), AppError> {
    let pool = db::pool(&config.database, config.sqlite_sync, config.read_pool)?;
    let mut conn = pool.get()?;
    let n = db::migrate(&mut conn)?;
    if n > 0 {
        tracing::info!(migrations = n, "database migrated");
    }
    let writer = Writer::start(
        &config.database,
        config.sqlite_sync,
        WriterOptions {
            queue: config.write_queue,
            group_commit: config.group_commit,
        },
    )?;
    Ok((pool, writer))
}

/// The first admin's password as `BR_ADMIN_PASSWORD` sets it (unset or empty: none), refused
/// when it is too weak.
pub fn admin_password_from_env() -> Result<Option<String>, AppError> {
    let Some(password) = std::env::var("BR_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    user_flow::check_password_strength(&password).map_err(|_| {
        AppError::Startup("BR_ADMIN_PASSWORD must have at least 10 characters".into())
    })?;
    Ok(Some(password))
}

/// On an empty database, makes the first admin from `BR_ADMIN_PASSWORD` or a generated
/// password printed once.
pub fn ensure_first_admin(pool: &db::Pool, writer: &Writer) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    if user_store::count(&mut conn)? > 0 {
        return Ok(());
    }
    let (password, generated) = match admin_password_from_env()? {
        Some(p) => (p, false),
        None => (user_flow::new_token()[..20].to_string(), true),
    };
    let user = NewUser {
        username: "admin".into(),
        role: Role::Admin,
        warehouse: None,
        password_hash: user_flow::hash_password(&password)?,
    };
    // Checked again inside the write transaction, which serialises writers across nodes:
    // nodes started together on an empty database must not all try to create the admin.
    let created = writer.write_blocking(move |tx| {
        if user_store::count(tx.conn)? > 0 {
            return Ok(false);
        }
        user_flow::create_user(tx, &Actor::system("first-start"), user).map(|_| true)
    })?;
    if !created {
        return Ok(());
    }
    if generated {
        println!("First start: created user 'admin' with password {password}  (shown once; set BR_ADMIN_PASSWORD to choose it)");
    } else {
        println!("First start: created user 'admin' with the password from BR_ADMIN_PASSWORD");
    }
    Ok(())
}

/// The app's shared state; loads (or, at the first start, makes) the installation's signing key.
pub fn state(
    config: Config,
    pool: db::Pool,
    writer: Writer,
) -> Result<web::Data<AppState>, AppError> {
    crate::audit::footage::configure(config.footage);
    let signer = std::sync::Arc::new(crate::audit::signing::Signer::load_or_create(
        &config.signing_key,
    )?);
    Ok(web::Data::new(AppState {
        signer,
        backend: config.database.backend(),
        pool,
        writer,
        config,
        in_flight: Default::default(),
        known_floor: Default::default(),
        sign_in_queue: Default::default(),
    }))
}

/// Forgets idempotency answers older than the keep time and expired sessions, hourly.
/// What one round of housekeeping removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Housekept {
    pub idempotency_keys: usize,
    pub sessions: usize,
    pub throttles: usize,
}

/// One round of housekeeping: idempotency keys older than they must be kept, expired sessions
/// and tokens, sign-in throttle rows whose window and lock have both passed.
pub fn housekeep(tx: &mut crate::db::writer::Tx<'_>) -> Result<Housekept, AppError> {
    let keep = chrono::Duration::hours(crate::flows::idempotency::KEEP_HOURS);
    let window = chrono::Duration::minutes(crate::flows::users::THROTTLE_WINDOW_MINUTES);
    Ok(Housekept {
        idempotency_keys: crate::db::idempotency::purge(tx.conn, tx.now - keep)?,
        sessions: user_store::delete_expired_sessions(tx.conn, tx.now)?,
        throttles: user_store::purge_throttles(tx.conn, tx.now - window, tx.now)?,
    })
}

/// Runs [`housekeep`] now and then every hour, on a thread of its own.
pub fn start_housekeeping(writer: Writer) {
    let spawned = std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || loop {
            match writer.write_blocking(housekeep) {
                Ok(h) if h != Housekept::default() => tracing::info!(
                    idempotency_keys = h.idempotency_keys,
                    sessions = h.sessions,
                    throttles = h.throttles,
                    "housekeeping"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start housekeeping");
    }
}

//! The command line: serve, migrate, user create, audit verify, feed and folders status, import.

use std::io::Read;
use std::net::TcpListener;

use clap::{Parser, Subcommand};

use crate::audit::{self, Actor};
use crate::config::Config;
use crate::error::AppError;
use crate::flows::users::{self as user_flow, UserInput};

#[derive(Debug, Parser)]
#[command(
    name = "bonded-returns",
    version,
    about = "Bonded return center warehouse (跨境电商零售进口退货中心仓)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// A file path or sqlite://PATH for SQLite, postgres://… for PostgreSQL.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations, then serve the UI at / and the API at /api/v1.
    Serve {
        #[arg(long, env = "BIND")]
        bind: Option<String>,
        #[command(flatten)]
        db: DbArgs,
        /// Load the demo data set when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Run pending migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The audit feed pushed to customs.
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// The customs client's folders (BR_CEB_OUTBOX, BR_CEB_INBOX).
    Folders {
        #[command(subcommand)]
        command: FoldersCommand,
    },
    /// Import CEB621 / CEB622 / CEB625 / CEB626 XML files.
    Import {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Where the push to customs stands: delivered up to, lag, last error, next try.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum FoldersCommand {
    /// Where the folders stand: files waiting and failed (with their reasons), applications
    /// not yet written or not yet collected by the customs client.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// floor, supervisor or admin
        #[arg(long)]
        role: String,
        /// Warehouse code (floor staff only).
        #[arg(long)]
        warehouse: Option<String>,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain: exit 0 when intact, 1 naming the first broken entry.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// A head published earlier (GET /api/v1/audit/head): proves nothing after it was cut
        /// off; a signed head (SEQ:HASH:SIGNATURE) also proves this installation published it.
        #[arg(long, value_name = "SEQ:HASH[:SIGNATURE]")]
        expect_head: Option<String>,
        /// The installation's public key (GET /api/v1/audit/key), to check a signed head with;
        /// default: the key of BR_SIGNING_KEY (or beside the database) when it is there.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

/// Runs a command; `Ok(code)` is the process exit code.
pub fn run(cli: Cli) -> Result<i32, AppError> {
    match cli.command {
        Command::Serve { bind, db, demo } => serve(bind, db, demo),
        Command::Migrate { db } => {
            let config = load(&db, None)?;
            let pool = crate::db::pool(&config.database, config.sqlite_sync, 1)?;
            let n = crate::db::migrate(&mut *pool.get()?)?;
            println!("migrations applied: {n}");
            Ok(0)
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    role,
                    warehouse,
                    password_stdin: _,
                    db,
                },
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| {
                    AppError::Startup(format!("cannot read the password from standard input: {e}"))
                })?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let prepared = user_flow::prepare(&UserInput {
                username,
                role,
                warehouse,
                password,
            })
            .map_err(one_line)?;
            let config = load(&db, None)?;
            let (_pool, writer) = crate::app::open(&config)?;
            let row = writer
                .write_blocking(move |tx| {
                    user_flow::create_user(tx, &Actor::system("cli"), prepared)
                })
                .map_err(one_line)?;
            println!("created user {} ({})", row.username, row.role);
            Ok(0)
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    db,
                    expect_head,
                    public_key,
                },
        } => {
            let signed = expect_head
                .as_deref()
                .map(audit::parse_signed_head)
                .transpose()
                .map_err(|e| AppError::Startup(format!("--expect-head: {e}")))?;
            let config = load(&db, None)?;
            if let Some((head, Some(signature))) = &signed {
                let key = match public_key {
                    Some(k) => k,
                    None => crate::audit::signing::Signer::load(&config.signing_key)?
                        .map(|s| s.public_key())
                        .ok_or_else(|| {
                            AppError::Startup(format!(
                                "--expect-head is signed: give --public-key (no key at {})",
                                config.signing_key.display()
                            ))
                        })?,
                };
                if let Err(why) =
                    crate::audit::signing::verify_head(&key, head.seq, &head.hash, signature)
                {
                    println!("signed head REJECTED: {why}");
                    return Ok(1);
                }
            }
            let expect = signed.map(|(head, _)| head);
            let mut conn = crate::db::open_existing(&config.database, config.sqlite_sync)?;
            let v = audit::verify(&mut conn, expect.as_ref())?;
            if v.ok {
                println!(
                    "audit chain intact: {} entries, head {}:{}",
                    v.entries,
                    v.head_seq.unwrap_or(0),
                    v.head.unwrap_or_default()
                );
                Ok(0)
            } else {
                println!(
                    "audit chain BROKEN at entry #{}: {}",
                    v.first_bad_seq.unwrap_or(0),
                    v.detail.unwrap_or_default()
                );
                Ok(1)
            }
        }
        Command::Feed {
            command: FeedCommand::Status { db },
        } => {
            let config = load(&db, None)?;
            let mut conn = crate::db::open_existing(&config.database, config.sqlite_sync)?;
            let s = crate::audit::push::status(&mut conn, config.customs_feed.is_some())?;
            let target = config
                .customs_feed
                .as_ref()
                .map(|t| t.url.as_str())
                .unwrap_or("not configured (BR_CUSTOMS_FEED_URL)");
            println!("customs feed: {target}");
            println!(
                "delivered up to #{} of #{}: {} entries and {} s behind",
                s.delivered_seq, s.head_seq, s.lag_entries, s.lag_seconds
            );
            match (&s.last_error, s.next_try_at) {
                (Some(e), Some(t)) if s.failures > 0 => println!(
                    "{} failed tries in a row, the last: {e}; next try at {}",
                    s.failures,
                    t.to_rfc3339()
                ),
                _ => println!("no failure since the last delivery"),
            }
            Ok(0)
        }
        Command::Folders {
            command: FoldersCommand::Status { db },
        } => {
            let config = load(&db, None)?;
            let mut conn = crate::db::open_existing(&config.database, config.sqlite_sync)?;
            let s = crate::ceb_folders::status(&mut conn, &config.ceb_folders)?;
            print!("{}", crate::ceb_folders::status_text(&s));
            Ok(0)
        }
        Command::Import { files, db } => {
            let config = load(&db, None)?;
            let (_pool, writer) = crate::app::open(&config)?;
            crate::flows::imports::import_files(&writer, &files)
        }
    }
}

/// A validation error as one line for the terminal.
fn one_line(e: AppError) -> AppError {
    match e {
        AppError::Validation(errs) => AppError::Startup(
            errs.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AppError::Startup(_) => e,
        other => AppError::Startup(other.to_string()),
    }
}

fn load(db: &DbArgs, bind: Option<&str>) -> Result<Config, AppError> {
    Config::load(db.database_url.as_deref(), bind).map_err(AppError::Startup)
}

fn serve(bind: Option<String>, db: DbArgs, demo: bool) -> Result<i32, AppError> {
    let config = load(&db, bind.as_deref())?;
    let listener = TcpListener::bind(&config.bind)
        .map_err(|e| AppError::Startup(format!("cannot listen on {}: {e}", config.bind)))?;
    let (pool, writer) = crate::app::open(&config)?;
    if demo {
        crate::flows::demo::load_if_empty(&pool, &writer)?;
    }
    crate::app::ensure_first_admin(&pool, &writer)?;
    let push = config.customs_feed.clone();
    let folders = config.ceb_folders.clone();
    let postgres = config.database.backend() == "postgres";
    let (backend, bound) = (
        config.database.backend(),
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or(config.bind.clone()),
    );
    // Everything that can fail at start (the signing key) before saying where it serves.
    let state = crate::app::state(config, pool.clone(), writer.clone())?;
    println!("bonded-returns serving on http://{bound} ({backend} database)");
    crate::app::start_housekeeping(writer.clone());
    // Labels straight to the printers, until the server stops.
    let _printing = crate::printing::start(pool.clone(), writer.clone(), state.config.printing)?;
    if let Some(target) = push {
        tracing::info!(url = %target.url, "pushing the audit feed to customs");
        crate::audit::push::start(
            pool.clone(),
            writer.clone(),
            state.signer.clone(),
            target,
            postgres,
        );
    }
    // The customs client's folders, worked until the server stops.
    let _folders = crate::ceb_folders::start(pool, writer, folders, postgres);
    actix_web::rt::System::new()
        .block_on(crate::http::serve(state, listener))
        .map_err(|e| AppError::Startup(format!("server stopped: {e}")))?;
    Ok(0)
}

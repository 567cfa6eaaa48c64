//! Settings, from flags and the environment (see the README's "Configuration").

use crate::customs::BaseTransfer;
use crate::db::{DbUrl, SqliteSync};

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub database: DbUrl,
    pub sqlite_sync: SqliteSync,
    /// One writer batching queued writes into shared commits (on by default).
    pub group_commit: bool,
    pub write_queue: usize,
    /// `/healthz` tells the writer's counts (`BR_WRITER_STATS`; off by default): what the
    /// flow benchmark reads to print round trips per transition.
    pub writer_stats: bool,
    pub read_pool: u32,
    pub session_hours: i64,
    pub token_days: i64,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
    /// Proxies whose `X-Forwarded-For` names the client (for the sign-in throttle); none by
    /// default, so the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where the audit feed is pushed (`BR_CUSTOMS_FEED_URL`, `BR_CUSTOMS_FEED_AUTH`,
    /// `BR_CUSTOMS_FEED_TIMEOUT_SECONDS`); none by default.
    pub customs_feed: Option<crate::audit::push::Target>,
    /// The customs client's folders (`BR_CEB_OUTBOX`, `BR_CEB_INBOX`); none by default.
    pub ceb_folders: crate::ceb_folders::Folders,
    /// How labels are sent to printers (`BR_PRINT_ATTEMPTS`, `BR_PRINT_CONNECT_TIMEOUT_SECONDS`,
    /// `BR_PRINT_WRITE_TIMEOUT_SECONDS`).
    pub printing: crate::printing::Options,
    /// The installation's Ed25519 signing key (`BR_SIGNING_KEY`; made at the first start).
    pub signing_key: std::path::PathBuf,
    /// The footage shown around a step (`BR_FOOTAGE_BEFORE_SECONDS`, `BR_FOOTAGE_AFTER_SECONDS`).
    pub footage: crate::audit::footage::Span,
    /// Trade modes of the lists taken (`BR_TRADE_MODES`): bonded online-shopping import.
    pub trade_modes: Vec<String>,
    /// Sender identity written into every CEB625 BaseTransfer.
    pub base_transfer: BaseTransfer,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not valid")),
    }
}

fn env_bool(name: &str, default: bool) -> Result<bool, String> {
    match std::env::var(name)
        .ok()
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(format!("{name}={v:?} is not a boolean (true/false)")),
    }
}

/// `BR_TRUSTED_PROXIES`: addresses separated by commas.
fn trusted_proxies(v: &str) -> Result<Vec<std::net::IpAddr>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<std::net::IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|_| format!("BR_TRUSTED_PROXIES: {a:?} is not an IP address"))
        })
        .collect()
}

/// `BR_TRADE_MODES`: 4-digit trade modes separated by commas.
fn trade_modes(v: &str) -> Result<Vec<String>, String> {
    let modes: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            (m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()))
                .then(|| m.to_string())
                .ok_or_else(|| format!("BR_TRADE_MODES: {m:?} is not a 4-digit trade mode"))
        })
        .collect::<Result<_, _>>()?;
    if modes.is_empty() {
        return Err("BR_TRADE_MODES names no trade mode".into());
    }
    Ok(modes)
}

pub const DEFAULT_DATABASE: &str = "data/bonded-returns.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Config {
    /// Builds the settings; `database_url`/`bind` come from flags or `DATABASE_URL`/`BIND`.
    pub fn load(database_url: Option<&str>, bind: Option<&str>) -> Result<Self, String> {
        let database = DbUrl::parse(database_url.unwrap_or(DEFAULT_DATABASE))?;
        let sqlite_sync = env_or("BR_SQLITE_SYNCHRONOUS", "full").parse()?;
        let signing_key = match std::env::var("BR_SIGNING_KEY")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(p) => std::path::PathBuf::from(p.trim()),
            None => crate::audit::signing::default_path(match &database {
                DbUrl::Sqlite(p) => Some(p.as_path()),
                DbUrl::Postgres(_) => None,
            }),
        };
        let trade_modes = trade_modes(&env_or(
            "BR_TRADE_MODES",
            &crate::flows::declarations::DEFAULT_TRADE_MODES.join(","),
        ))?;
        // Every command that imports or serves loads its settings first, so the imports'
        // rule is set for the process here.
        crate::flows::declarations::configure_trade_modes(trade_modes.clone());
        Ok(Self {
            bind: bind.unwrap_or(DEFAULT_BIND).to_string(),
            database,
            sqlite_sync,
            group_commit: env_bool("BR_GROUP_COMMIT", true)?,
            write_queue: env_parse("BR_WRITE_QUEUE", 1024usize)?,
            writer_stats: env_bool("BR_WRITER_STATS", false)?,
            read_pool: env_parse("BR_READ_POOL", 8u32)?,
            session_hours: env_parse("BR_SESSION_HOURS", 12i64)?,
            token_days: env_parse("BR_TOKEN_DAYS", 90i64)?,
            cookie_secure: env_bool("BR_COOKIE_SECURE", false)?,
            trusted_proxies: trusted_proxies(&env_or("BR_TRUSTED_PROXIES", ""))?,
            signing_key,
            printing: crate::printing::Options {
                attempts: env_parse(
                    "BR_PRINT_ATTEMPTS",
                    crate::domain::printing::DEFAULT_ATTEMPTS,
                )?
                .clamp(1, 20),
                timeouts: crate::printing::send::Timeouts {
                    connect: std::time::Duration::from_secs(
                        env_parse("BR_PRINT_CONNECT_TIMEOUT_SECONDS", 5u64)?.clamp(1, 60),
                    ),
                    write: std::time::Duration::from_secs(
                        env_parse("BR_PRINT_WRITE_TIMEOUT_SECONDS", 10u64)?.clamp(1, 120),
                    ),
                },
            },
            ceb_folders: crate::ceb_folders::Folders::from_settings(
                std::env::var("BR_CEB_OUTBOX").ok().as_deref(),
                std::env::var("BR_CEB_INBOX").ok().as_deref(),
            )?,
            customs_feed: match std::env::var("BR_CUSTOMS_FEED_URL")
                .ok()
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty())
            {
                None => None,
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Some(crate::audit::push::Target {
                        url,
                        authorization: std::env::var("BR_CUSTOMS_FEED_AUTH")
                            .ok()
                            .filter(|a| !a.trim().is_empty()),
                        timeout: std::time::Duration::from_secs(
                            env_parse("BR_CUSTOMS_FEED_TIMEOUT_SECONDS", 10u64)?.clamp(1, 300),
                        ),
                    })
                }
                Some(url) => {
                    return Err(format!(
                        "BR_CUSTOMS_FEED_URL={url:?} is not an http:// or https:// address"
                    ))
                }
            },
            footage: crate::audit::footage::Span {
                before: env_parse("BR_FOOTAGE_BEFORE_SECONDS", 30i64)?.clamp(0, 3600),
                after: env_parse("BR_FOOTAGE_AFTER_SECONDS", 90i64)?.clamp(0, 3600),
            },
            trade_modes,
            base_transfer: BaseTransfer {
                cop_code: env_or("BR_COP_CODE", "5001960W01"),
                cop_name: env_or("BR_COP_NAME", "重庆西永保税仓储有限公司"),
                dxp_mode: "DXP".into(),
                dxp_id: env_or("BR_DXP_ID", "DXPENT0000000001"),
                note: None,
            },
        })
    }
}

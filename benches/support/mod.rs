//! Shared by `benches/flow.rs`, `tests/crash.rs` and `tests/two_nodes.rs` (included with
//! `#[path]`): running the real server binary as a child process, a small JSON client, and
//! the fixture every one of them loads through the API (parties, a warehouse with bins and a
//! camera, floor users, released declaration lists, return applications).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The admin password every harness sets through `BR_ADMIN_PASSWORD`.
pub const ADMIN_PASSWORD: &str = "harness-admin-2026";
/// The password of the floor users the fixture creates.
pub const FLOOR_PASSWORD: &str = "harness-floor-2026";
/// The warehouse of the fixture and its operator.
pub const WAREHOUSE: &str = "BW01";
pub const OPERATOR: &str = "HARNESSOP1";
pub const EBC: &str = "HARNESSEC1";
pub const CAMERA: &str = "CAM-BW01-DOCK";
pub const RECEIVING_BIN: &str = "BW01-RCV-01";
pub const PENDING_BIN: &str = "BW01-PND-01";
pub const RESTOCK_BINS: [&str; 4] = ["BW01-RST-01", "BW01-RST-02", "BW01-RST-03", "BW01-RST-04"];

/// Prints a line on the process's stderr itself, past the test harness's output capture,
/// so that a test's figures or a skip show in a plain `cargo test` run.
pub fn note(msg: &str) {
    use std::io::Write;
    use std::os::fd::BorrowedFd;
    // SAFETY: descriptor 2 stays open for the life of the process; it is only duplicated
    // (sharing its offset, so nothing written by others is overwritten).
    let dup = unsafe { BorrowedFd::borrow_raw(2) }.try_clone_to_owned();
    match dup {
        Ok(fd) => {
            let _ = writeln!(std::fs::File::from(fd), "{msg}");
        }
        Err(_) => eprintln!("{msg}"),
    }
}

/// A port on the loopback interface that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// One running `bonded-returns serve`; killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `bin serve` on `port` and `database_url`, with `envs` added to a clean set of
    /// `BR_*` settings (so the caller's shell cannot change durability or batching).
    pub fn start(
        bin: &Path,
        database_url: &str,
        port: u16,
        envs: &[(&str, &str)],
        log: &Path,
    ) -> Result<Self, String> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open log {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database-url")
            .arg(database_url)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, _) in std::env::vars() {
            if k.starts_with("BR_") || k == "DATABASE_URL" || k == "BIND" {
                cmd.env_remove(&k);
            }
        }
        cmd.env("BR_ADMIN_PASSWORD", ADMIN_PASSWORD);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(Self {
            child: Some(child),
            port,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Waits until `GET /healthz` answers 200; fails if the process exits or time runs out.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(format!(
                        "server exited with {status} before it was ready; log {}:\n{}",
                        self.log.display(),
                        tail(&self.log, 3000)
                    ));
                }
            }
            if healthz(self.port) {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "server not ready after {timeout:?}; log {}:\n{}",
                    self.log.display(),
                    tail(&self.log, 3000)
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILL (std's `Child::kill` on Unix) and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Peak resident memory of the server so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        status_field(self.pid(), "VmHWM:")
    }

    pub fn rss_kib(&self) -> Option<u64> {
        status_field(self.pid(), "VmRSS:")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// CPU time (user + system) used so far by process `pid`, in clock ticks (1/100 s here).
pub fn process_cpu_ticks(pid: u32) -> u64 {
    stat_cpu_ticks(&format!("/proc/{pid}"))
}

/// CPU time used so far by the threads of process `pid` named `name` (e.g. `db-writer`).
pub fn thread_cpu_ticks(pid: u32, name: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|task| std::fs::read_to_string(task.join("comm")).is_ok_and(|c| c.trim() == name))
        .map(|task| stat_cpu_ticks(&task.to_string_lossy()))
        .sum()
}

/// utime + stime from `{dir}/stat` (a process or one of its threads).
fn stat_cpu_ticks(dir: &str) -> u64 {
    let s = std::fs::read_to_string(format!("{dir}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    let get = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(14) + get(15)
}

/// CPU time used so far by every process whose command name is `comm` (e.g. `postgres`).
pub fn named_cpu_ticks(comm: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim() == comm)
                .unwrap_or(false)
        })
        .map(process_cpu_ticks)
        .sum()
}

/// Busy and total CPU time of the whole machine so far, in clock ticks.
pub fn machine_cpu_ticks() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The last `max` bytes of a file, for error messages.
pub fn tail(path: &Path, max: usize) -> String {
    let s = std::fs::read(path).unwrap_or_default();
    let from = s.len().saturating_sub(max);
    String::from_utf8_lossy(&s[from..]).into_owned()
}

/// A plain `GET /healthz` over a raw socket, so readiness needs no async runtime.
pub fn healthz(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().expect("addr"),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200")
}

/// What a server's writer has done so far, from `GET /healthz` (servers started with
/// `BR_WRITER_STATS=true`); `None` when it does not tell.
#[derive(Debug, Clone, Copy)]
pub struct WriterCounts {
    pub batches: u64,
    pub requests: u64,
    pub statements: u64,
}

pub fn writer_counts(port: u16) -> Option<WriterCounts> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    s.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).ok()?;
    let at = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let body: Value = serde_json::from_slice(&answer[at + 4..]).ok()?;
    let w = body.get("writer")?;
    let n = |k: &str| w.get(k).and_then(Value::as_u64);
    Some(WriterCounts {
        batches: n("batches")?,
        requests: n("requests")?,
        statements: n("statements")?,
    })
}

/// A JSON client for one caller (bearer token or cookie session).
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    /// `br_session=…`, sent as the `Cookie` header when there is no token.
    pub cookie: Option<String>,
}

/// A transport failure (no answer: refused, reset, timed out).
#[derive(Debug)]
pub struct NoAnswer(pub String);

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no answer: {}", self.0)
    }
}

pub fn client(max_idle: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(max_idle)
        // Below the server's keep-alive (5 s), so an idle connection is never reused just as
        // the server closes it.
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

impl Api {
    pub fn new(client: reqwest::Client, base: &str) -> Self {
        Self {
            client,
            base: base.to_string(),
            token: None,
            cookie: None,
        }
    }

    /// The same caller against another node.
    pub fn at(&self, base: &str) -> Self {
        Self {
            client: self.client.clone(),
            base: base.to_string(),
            token: self.token.clone(),
            cookie: self.cookie.clone(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<(u16, Value), NoAnswer> {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        } else if let Some(c) = &self.cookie {
            rb = rb.header("Cookie", c);
        }
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(b).expect("json"));
        }
        let resp = rb.send().await.map_err(|e| NoAnswer(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| NoAnswer(e.to_string()))?;
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, v))
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Result<(u16, Value), NoAnswer> {
        self.call(reqwest::Method::POST, path, Some(body), key)
            .await
    }

    pub async fn get(&self, path: &str) -> Result<(u16, Value), NoAnswer> {
        self.call(reqwest::Method::GET, path, None, None).await
    }

    /// Signs in with `POST /api/v1/session`; the answer's session cookie is kept.
    pub async fn session(
        client: reqwest::Client,
        base: &str,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        let resp = client
            .post(format!("{base}/api/v1/session"))
            .header("Content-Type", "application/json")
            .body(json!({"username": user, "password": password}).to_string())
            .send()
            .await
            .map_err(|e| format!("sign-in of {user}: {e}"))?;
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("br_session="))
            .and_then(|v| v.split(';').next())
            .map(String::from);
        let body = resp.text().await.unwrap_or_default();
        match (status, cookie) {
            (200, Some(cookie)) => Ok(Self {
                client,
                base: base.to_string(),
                token: None,
                cookie: Some(cookie),
            }),
            (s, _) => Err(format!("sign-in of {user}: {s} {body}")),
        }
    }

    /// Signs in, then trades the session for a bearer token (what scripts and scanners use).
    pub async fn sign_in(
        client: reqwest::Client,
        base: &str,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        let mut api = Self::session(client, base, user, password).await?;
        let (s, v) = api
            .call(
                reqwest::Method::POST,
                "/api/v1/tokens",
                Some(&serde_json::json!({"name": "benchmark", "password": password})),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
        if s != 201 && s != 200 {
            return Err(format!("token for {user}: {s} {v}"));
        }
        let token = v["token"]
            .as_str()
            .ok_or_else(|| format!("no token in {v}"))?
            .to_string();
        api.token = Some(token);
        api.cookie = None;
        Ok(api)
    }

    /// POST that must answer `want` (any of).
    pub async fn expect(&self, path: &str, body: &Value, want: &[u16]) -> Result<Value, String> {
        let (s, v) = self
            .post(path, body, None)
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        if want.contains(&s) {
            Ok(v)
        } else {
            Err(format!("POST {path}: {s} {v}"))
        }
    }
}

/// Parties, a warehouse with bins and a camera, and `floor_users` floor users
/// (`floor.h1`, `floor.h2`, …) in warehouse `BW01`; created by `admin`.
pub async fn load_places(admin: &Api, floor_users: usize) -> Result<Vec<String>, String> {
    let ents: [(&str, &str, &str); 5] = [
        ("HARNESSPF1", "压测跨境电商平台", "platform"),
        (EBC, "压测美妆优选有限公司", "ecommerce"),
        ("HARNESSAG1", "压测报关代理有限公司", "agent"),
        ("HARNESSLG1", "压测速运有限公司", "logistics"),
        (OPERATOR, "压测保税仓储有限公司", "warehouse_operator"),
    ];
    for (code, name, kind) in ents {
        admin
            .expect(
                "/api/v1/enterprises",
                &json!({"code": code, "name": name, "kinds": [kind]}),
                &[201],
            )
            .await?;
    }
    admin
        .expect(
            "/api/v1/warehouses",
            &json!({"code": WAREHOUSE, "name": "压测退货中心仓", "operator": OPERATOR, "zone": "压测综合保税区"}),
            &[201],
        )
        .await?;
    let mut bins = vec![
        (RECEIVING_BIN, "receiving"),
        (PENDING_BIN, "pending_inspection"),
    ];
    bins.extend(RESTOCK_BINS.iter().map(|b| (*b, "restock")));
    for (code, area) in bins {
        admin
            .expect(
                &format!("/api/v1/warehouses/{WAREHOUSE}/bins"),
                &json!({"code": code, "area": area}),
                &[201],
            )
            .await?;
    }
    admin
        .expect(
            &format!("/api/v1/warehouses/{WAREHOUSE}/cameras"),
            &json!({"code": CAMERA, "name": "收货口", "area": "receiving"}),
            &[201],
        )
        .await?;
    // Every step is filmed: a camera over each other area too.
    for area in [
        "pending_inspection",
        "discrepancy",
        "hold",
        "restock",
        "exit",
    ] {
        admin
            .expect(
                &format!("/api/v1/warehouses/{WAREHOUSE}/cameras"),
                &json!({"code": format!("CAM-{}", area.to_ascii_uppercase().replace('_', "-")), "name": area, "area": area}),
                &[201],
            )
            .await?;
    }
    let mut users = Vec::new();
    for i in 1..=floor_users {
        let name = format!("floor.h{i}");
        admin
            .expect(
                "/api/v1/users",
                &json!({"username": name, "role": "floor", "warehouse": WAREHOUSE, "password": FLOOR_PASSWORD}),
                &[201],
            )
            .await?;
        users.push(name);
    }
    Ok(users)
}

/// An 18-character invtNo for list number `n` (unique within one database).
pub fn invt_no(n: u64) -> String {
    format!("5001{n:014}")
}

pub fn waybill(n: u64) -> String {
    format!("SFH{n:012}")
}

/// A released declaration list with the given line quantities (gnum 1, 2, …).
pub fn declaration(n: u64, qtys: &[i64]) -> Value {
    let released = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let lines: Vec<Value> = qtys
        .iter()
        .enumerate()
        .map(|(i, q)| {
            json!({
                "gnum": i + 1,
                "gcode": format!("33049900{:02}", i % 100),
                "gname": format!("保湿面霜 {}号", i + 1),
                "qty": q,
                "unit": "011",
                "bar_code": format!("69{:011}", i + 1),
                "price": "128.00"
            })
        })
        .collect();
    json!({
        "invt_no": invt_no(n),
        "order_no": format!("ORDH{n:010}"),
        "ebp_code": "HARNESSPF1", "ebp_name": "压测跨境电商平台",
        "ebc_code": EBC, "ebc_name": "压测美妆优选有限公司",
        "agent_code": "HARNESSAG1", "agent_name": "压测报关代理有限公司",
        "logistics_no": waybill(n),
        "logistics_code": "HARNESSLG1", "logistics_name": "压测速运有限公司",
        "area_code": OPERATOR,
        "customs_code": "5001",
        "buyer_id_type": "1",
        "buyer_id_number": "500101199001010000",
        "buyer_name": "张三",
        "buyer_telephone": "13800000000",
        "released_at": released,
        "lines": lines,
    })
}

/// The application for the whole of list `n`.
pub fn application(n: u64, qtys: &[i64]) -> Value {
    let lines: Vec<Value> = qtys
        .iter()
        .enumerate()
        .map(|(i, q)| json!({"gnum": i + 1, "qty": q}))
        .collect();
    json!({
        "invt_no": invt_no(n),
        "logistics_no": waybill(n),
        "reason": "七天无理由退货",
        "lines": lines,
    })
}

/// Percentile (0–100) of sorted values.
pub fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// PostgreSQL for benches and tests: the server URL without a database (env `BR_TEST_PG_URL`,
/// default `postgres://postgres@127.0.0.1:5432`) if something answers there.
pub fn postgres_base() -> Option<String> {
    let base = std::env::var("BR_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into());
    let base = base.trim_end_matches('/').to_string();
    let hostport = base
        .rsplit('@')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .to_string();
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&hostport)
        .ok()?
        .next()?;
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    Some(base)
}

/// Creates a fresh database on the PostgreSQL server at `base`; returns its URL.
pub fn create_pg_database(base: &str, prefix: &str) -> Result<String, String> {
    use diesel::connection::SimpleConnection;
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0)
    );
    let admin_url = bonded_returns::db::DbUrl::Postgres(format!("{base}/postgres"));
    let mut c = bonded_returns::db::establish(&admin_url, bonded_returns::db::SqliteSync::Full)
        .map_err(|e| format!("cannot connect to {base}/postgres: {e}"))?;
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
    Ok(format!("{base}/{name}"))
}

/// Drops a database made by `create_pg_database` (best effort).
pub fn drop_pg_database(url: &str) {
    use diesel::connection::SimpleConnection;
    let Some((base, name)) = url.rsplit_once('/') else {
        return;
    };
    let admin_url = bonded_returns::db::DbUrl::Postgres(format!("{base}/postgres"));
    if let Ok(mut c) =
        bonded_returns::db::establish(&admin_url, bonded_returns::db::SqliteSync::Full)
    {
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

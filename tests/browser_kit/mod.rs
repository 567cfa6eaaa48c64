//! The plumbing the browser tests share (`tests/browser.rs`, `tests/offline.rs`, the printer
//! checks): finding chromium and chromedriver, starting the real server binary on a fresh
//! SQLite database with the demo data, a chromium session per person (optionally on a profile
//! that outlives the session, for a "restart of the browser"), and the helpers every scenario
//! uses (waiting for an expression, clicking, scanning, screenshots with the accessibility
//! checks, the console, DevTools network emulation, the API as a second pair of eyes).
//!
//! Used as `#[macro_use] mod browser_kit;` from a test file: Cargo does not make a test target
//! of a subdirectory's `mod.rs`. Not every test uses every helper.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

pub type R<T = ()> = Result<T, String>;

pub trait Ctx<T> {
    fn ctx(self, what: &str) -> R<T>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> R<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

pub const HANDHELD: (u32, u32) = (360, 640);
pub const DESK: (u32, u32) = (1280, 800);
pub const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Finding the browser, starting the processes

pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

pub fn tool(env: &str, names: &[&str], fallback: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    names
        .iter()
        .find_map(|n| on_path(n))
        .or_else(|| Some(PathBuf::from(fallback)).filter(|p| p.is_file()))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A process this test started, ended (with its process group) when dropped.
pub struct Proc {
    pub child: Child,
    group: bool,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.group {
            // chromedriver's browsers live in its process group: end them with it.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(cmd: &mut Command, group: bool) -> Proc {
    if group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    Proc { child, group }
}

pub fn wait_for_port(port: u16, proc: &mut Proc, what: &str, timeout: Duration) -> R {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(status)) = proc.child.try_wait() {
            return Err(format!("{what} exited early with {status}"));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{what} did not listen on port {port} within {timeout:?}"
    ))
}

pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

// ---------------------------------------------------------------------------------------------
// The API, for setting the scene and checking what the screens did

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn sign_in(base: &str, username: &str, password: &str) -> R<Self> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .ctx("http client")?;
        let res = http
            .post(format!("{base}/api/v1/session"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .ctx("sign in over the API")?;
        ensure!(
            res.status().is_success(),
            "API sign-in of {username}: {}",
            res.status()
        );
        Ok(Self {
            base: base.to_string(),
            http,
        })
    }

    pub async fn get(&self, path: &str) -> R<Value> {
        let res = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .send()
            .await
            .ctx(path)?;
        let status = res.status();
        let body: Value = res.json().await.ctx(path)?;
        ensure!(status.is_success(), "GET {path}: {status} {body}");
        Ok(body)
    }

    /// The status of `GET path` (say, 401 once the session has ended).
    pub async fn status(&self, path: &str) -> R<u16> {
        let res = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .send()
            .await
            .ctx(path)?;
        Ok(res.status().as_u16())
    }

    pub async fn items(&self, path: &str) -> R<Vec<Value>> {
        Ok(self.get(path).await?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    pub async fn state(&self, id: &str) -> R<String> {
        Ok(s(&self.get(&format!("/returns/{id}")).await?["state"]))
    }

    /// Units of `owner`'s goods in `bin`, per HS code.
    pub async fn stock(&self, owner: &str, bin: &str) -> R<BTreeMap<String, i64>> {
        let mut out = BTreeMap::new();
        for row in self
            .items(&format!("/stock?owner={owner}&bin={bin}"))
            .await?
        {
            *out.entry(s(&row["gcode"])).or_default() += row["qty"].as_i64().unwrap_or(0);
        }
        Ok(out)
    }
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A line of a return as the test scans it: the code on the product and how many units.
#[derive(Debug, Clone)]
pub struct Line {
    pub gnum: i64,
    pub gcode: String,
    pub code: String,
    pub qty: i64,
}

#[derive(Debug, Clone)]
pub struct Parcel {
    pub id: String,
    pub waybill: String,
    pub ebc: String,
    pub lines: Vec<Line>,
}

pub async fn parcel(api: &Api, id: &str) -> R<Parcel> {
    let r = api.get(&format!("/returns/{id}")).await?;
    let lines = r["lines"]
        .as_array()
        .ctx("lines")?
        .iter()
        .map(|l| {
            let bar = s(&l["bar_code"]);
            Line {
                gnum: l["gnum"].as_i64().unwrap_or(0),
                gcode: s(&l["gcode"]),
                // Goods without a barcode of their own are scanned by their HS code.
                code: if bar.is_empty() || bar == "无" {
                    s(&l["gcode"])
                } else {
                    bar
                },
                qty: l["qty"].as_i64().unwrap_or(0),
            }
        })
        .collect();
    Ok(Parcel {
        id: s(&r["id"]),
        waybill: s(&r["logistics_no"]),
        ebc: s(&r["ebc"]["code"]),
        lines,
    })
}

impl<T> Ctx<T> for Option<T> {
    fn ctx(self, what: &str) -> R<T> {
        self.ok_or_else(|| format!("{what}: missing"))
    }
}

// ---------------------------------------------------------------------------------------------
// The browser

/// A WebDriver command of chromedriver's own (CDP, the browser log), under the session.
#[derive(Debug)]
pub struct Raw {
    method: http::Method,
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (self.method.clone(), Some(self.body.to_string()))
    }
}

pub struct Browser {
    pub c: Client,
    pub who: &'static str,
    pub base: String,
    pub shots: PathBuf,
    pub size: (u32, u32),
    pub console: Vec<Value>,
    /// The profile made for this session alone (none when the caller keeps its own).
    _profile: Option<tempfile::TempDir>,
}

impl Browser {
    pub async fn open(
        driver: &str,
        chromium: &Path,
        who: &'static str,
        base: &str,
        shots: &Path,
        size: (u32, u32),
    ) -> R<Self> {
        Self::open_in(driver, chromium, who, base, shots, size, None).await
    }

    /// A session on the profile folder `profile` when given: what the browser stored there
    /// (cookies, IndexedDB, the service worker and its caches) is there again in the next
    /// session on the same folder, as after a restart of the browser on a handheld.
    pub async fn open_in(
        driver: &str,
        chromium: &Path,
        who: &'static str,
        base: &str,
        shots: &Path,
        size: (u32, u32),
        profile: Option<&Path>,
    ) -> R<Self> {
        let own = match profile {
            Some(_) => None,
            None => Some(tempfile::tempdir().ctx("browser profile")?),
        };
        let dir = profile
            .map(Path::to_path_buf)
            .or_else(|| own.as_ref().map(|d| d.path().to_path_buf()))
            .ctx("browser profile")?;
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,800",
                    format!("--user-data-dir={}", dir.display()),
                ],
            }),
        );
        let c = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(driver)
            .await
            .ctx("start a chromium session")?;
        let mut b = Self {
            c,
            who,
            base: base.to_string(),
            shots: shots.to_path_buf(),
            size,
            console: Vec::new(),
            _profile: own,
        };
        b.set_size(size).await?;
        Ok(b)
    }

    pub async fn raw(&self, method: http::Method, path: &'static str, body: Value) -> R<Value> {
        self.c.issue_cmd(Raw { method, path, body }).await.ctx(path)
    }

    pub async fn cdp(&self, cmd: &str, params: Value) -> R<Value> {
        self.raw(
            http::Method::POST,
            "goog/cdp/execute",
            json!({ "cmd": cmd, "params": params }),
        )
        .await
        .ctx(cmd)
    }

    /// The viewport in CSS pixels, whatever the window around it.
    pub async fn set_size(&mut self, (w, h): (u32, u32)) -> R {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": w, "height": h, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await?;
        self.size = (w, h);
        Ok(())
    }

    pub async fn go(&self, hash: &str) -> R {
        self.c
            .goto(&format!("{}/{hash}", self.base))
            .await
            .ctx(&format!("open {hash}"))
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> R<Value> {
        self.c.execute(script, args).await.ctx(script)
    }

    /// Waits until the expression is truthy; answers its value.
    pub async fn until(&self, what: &str, expr: &str) -> R<Value> {
        let start = Instant::now();
        let script = format!("try {{ return ({expr}); }} catch (e) {{ return null; }}");
        loop {
            let v = self.js(&script, vec![]).await?;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            if start.elapsed() > WAIT {
                let state = self.js("return [location.hash, (document.getElementById('message') || {}).innerText || '']", vec![]).await?;
                return Err(format!(
                    "[{}] timed out waiting for {what} ({expr}); page: {state}",
                    self.who
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn find(&self, css: &str) -> R<Element> {
        let mut tries = 0;
        loop {
            self.until(
                &format!("{css} on the page"),
                &format!("document.querySelector({css:?}) !== null"),
            )
            .await?;
            // Drawn again between the two looks (a screen still starting up): look again.
            match self.c.find(Locator::Css(css)).await {
                Ok(e) => return Ok(e),
                Err(err) if tries < 3 && err.to_string().contains("no such element") => {
                    tries += 1;
                }
                Err(err) => return Err(format!("{css}: {err}")),
            }
        }
    }

    /// Clicks an element once it is there and enabled, scrolled clear of the sticky bars.
    pub async fn click(&self, css: &str) -> R {
        self.until(
            &format!("{css} enabled"),
            &format!("(e => e && !e.disabled && e.getAttribute('aria-disabled') !== 'true')(document.querySelector({css:?}))"),
        )
        .await?;
        let e = self.c.find(Locator::Css(css)).await.ctx(css)?;
        self.js(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&e).ctx("element")?],
        )
        .await?;
        e.click().await.ctx(&format!("[{}] click {css}", self.who))
    }

    /// Types `text` into the field, found afresh if the page drew it again meanwhile (a screen
    /// still starting up re-renders once).
    pub async fn fill(&self, css: &str, text: &str) -> R {
        let mut tries = 0;
        loop {
            let e = self.find(css).await?;
            let done = match e.clear().await {
                Ok(()) => e.send_keys(text).await,
                Err(err) => Err(err),
            };
            match done {
                Ok(()) => return Ok(()),
                Err(err) if tries < 3 && err.to_string().contains("stale element") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => return Err(format!("{css}: {err}")),
            }
        }
    }

    /// Types a code into the scan field and presses Enter, as a wedge scanner does.
    pub async fn scan(&self, code: &str) -> R {
        let e = self.find("#scan").await?;
        self.until("the scan bar", "!document.getElementById('scanbar').hidden")
            .await?;
        e.send_keys(&format!("{code}\u{E007}"))
            .await
            .ctx(&format!("[{}] scan {code}", self.who))?;
        // On a busy machine the keys may come slower than a scanner's burst: the page then
        // takes it for typing and asks to confirm the code, as it would ask a person.
        let asked = self
            .js(
                "return !document.getElementById('scan-confirm-box').hidden && document.getElementById('scan-confirm-code').textContent",
                vec![],
            )
            .await?;
        if asked == json!(code) {
            self.click("#scan-confirm").await?;
        }
        Ok(())
    }

    pub async fn hash_is(&self, hash: &str) -> R {
        self.until(
            &format!("page {hash}"),
            &format!("location.hash === {hash:?}"),
        )
        .await
        .map(|_| ())
    }

    /// The state shown in the return header of the screen on show.
    pub async fn shown_state(&self, id: &str, state: &str) -> R {
        self.until(
            &format!("{id} shown as {state}"),
            &format!(
                "document.querySelector('#return-id')?.textContent === {id:?} && \
                 document.querySelector('[data-testid=return-header] [data-state]')?.dataset.state === {state:?}"
            ),
        )
        .await
        .map(|_| ())
    }

    /// Waits for a message of `kind` containing `text`; answers its whole text.
    pub async fn message(&self, kind: &str, text: &str) -> R<String> {
        let v = self
            .until(
                &format!("a message ({kind}) with {text:?}"),
                &format!(
                    "(m => !m.hidden && m.dataset.kind === {kind:?} && m.innerText.includes({text:?}) && m.innerText)(document.getElementById('message'))"
                ),
            )
            .await?;
        Ok(s(&v))
    }

    /// A person typing a code key by key (slower than a scanner's burst), then Enter: the
    /// page must take it for typing and ask to confirm the code before using it.
    pub async fn type_slowly(&self, code: &str) -> R {
        let e = self.find("#scan").await?;
        for ch in code.chars() {
            e.send_keys(&ch.to_string()).await.ctx("type a key")?;
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
        e.send_keys("\u{E007}").await.ctx("Enter")?;
        self.until(
            "the typed code offered for confirmation",
            &format!(
                "!document.getElementById('scan-confirm-box').hidden && document.getElementById('scan-confirm-code').textContent === {code:?}"
            ),
        )
        .await?;
        self.click("#scan-confirm").await
    }

    /// Records what the page makes the device do (vibration patterns, tones started) from
    /// now on, on the real browser APIs.
    pub async fn record_feedback(&self) -> R {
        self.js(
            "window.__feedback = [];
             const vib = navigator.vibrate ? navigator.vibrate.bind(navigator) : null;
             navigator.vibrate = (p) => { window.__feedback.push('vibrate:' + p); return vib ? vib(p) : true; };
             const AC = window.AudioContext || window.webkitAudioContext;
             if (AC && !AC.prototype.__recorded) {
               const osc = AC.prototype.createOscillator;
               AC.prototype.createOscillator = function () { window.__feedback.push('tone'); return osc.call(this); };
               AC.prototype.__recorded = true;
             }
             return true;",
            vec![],
        )
        .await
        .map(|_| ())
    }

    /// The feedback recorded since [`record_feedback`], and a fresh record.
    pub async fn feedback(&self) -> R<Vec<String>> {
        let v = self
            .js(
                "const f = window.__feedback || []; window.__feedback = []; return f;",
                vec![],
            )
            .await?;
        Ok(v.as_array()
            .map(|a| a.iter().map(s).collect())
            .unwrap_or_default())
    }

    /// The scan field has the focus (what a wedge scanner types into).
    pub async fn scan_focused(&self, when: &str) -> R {
        self.until(
            &format!("the scan field focused {when}"),
            "document.activeElement && document.activeElement.id === 'scan'",
        )
        .await
        .map(|_| ())
    }

    pub async fn counts_are(&self, lines: &[Line], prefix: &str) -> R {
        for l in lines {
            let css = format!("[data-testid=\"count-{}{prefix}\"]", l.gnum);
            self.until(
                &format!("line {} counted {}", l.gnum, l.qty),
                &format!(
                    "document.querySelector({css:?})?.textContent === '{}'",
                    l.qty
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Saves the screen at handheld and at desk size, then goes back to the size it had.
    pub async fn shots(&mut self, name: &str) -> R {
        let was = self.size;
        for size in [HANDHELD, DESK] {
            self.set_size(size).await?;
            // The success/error flash fades out first; then layout, fonts and the sticky bars
            // settle at the new size.
            self.until(
                "the flash to fade",
                "document.getAnimations().every(a => a.playState !== 'running')",
            )
            .await?;
            self.js(
                "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))));",
                vec![],
            )
            .await?;
            self.accessible_basics(name, size).await?;
            let png = self.c.screenshot().await.ctx("screenshot")?;
            let file = self.shots.join(format!("{name}-{}x{}.png", size.0, size.1));
            std::fs::write(&file, png).ctx(&file.display().to_string())?;
        }
        self.set_size(was).await
    }

    /// Accessible basics of the screen as it is shown: every visible control has a label (or
    /// an accessible name), every image an alt text; a handheld screen never needs sideways
    /// scrolling.
    pub async fn accessible_basics(&self, screen: &str, size: (u32, u32)) -> R {
        let problems = self
            .js(
                "const shown = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
                 const named = (el) => Boolean((el.innerText || '').trim() || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title);
                 const out = [];
                 for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
                   if (!shown(el)) continue;
                   if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.title) out.push('unlabelled ' + el.outerHTML.slice(0, 120));
                 }
                 for (const el of document.querySelectorAll('button, a[href], [role=button]')) {
                   if (shown(el) && !named(el) && !el.querySelector('img[alt]:not([alt=\"\"]), svg[aria-label]')) out.push('nameless ' + el.outerHTML.slice(0, 120));
                 }
                 for (const el of document.querySelectorAll('img')) {
                   if (shown(el) && !el.hasAttribute('alt')) out.push('no alt ' + el.outerHTML.slice(0, 120));
                 }
                 if (arguments[0] && document.documentElement.scrollWidth > window.innerWidth + 1) out.push('sideways scrolling: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
                 for (const el of document.querySelectorAll('#topbar a[href], #topbar button')) {
                   const r = el.getBoundingClientRect();
                   if (shown(el) && (r.width < 44 || r.height < 44)) out.push('tap target ' + Math.round(r.width) + 'x' + Math.round(r.height) + ' < 44: ' + (el.id || el.textContent));
                 }
                 for (const who of document.querySelectorAll('#whoami, #whoami span')) {
                   if (shown(who) && who.scrollWidth > who.clientWidth + 1) out.push('the user and warehouse cut off: ' + who.textContent);
                 }
                 const scan = document.getElementById('scan');
                 if (scan && shown(scan) && scan.placeholder) {
                   const st = getComputedStyle(scan);
                   const ctx = document.createElement('canvas').getContext('2d');
                   ctx.font = st.font;
                   const room = scan.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
                   if (ctx.measureText(scan.placeholder).width > room + 1) out.push('the scan placeholder cut off: ' + scan.placeholder);
                 }
                 return out;",
                vec![json!(self.who == "floor" && size == HANDHELD)],
            )
            .await?;
        match problems.as_array() {
            Some(list) if !list.is_empty() => Err(format!(
                "[{}] {screen} at {}x{}: {}",
                self.who,
                size.0,
                size.1,
                list.iter().map(s).collect::<Vec<_>>().join("; ")
            )),
            _ => Ok(()),
        }
    }

    /// Moves the browser's console entries so far into `console`.
    pub async fn collect_console(&mut self) -> R {
        let entries = self
            .raw(http::Method::POST, "se/log", json!({ "type": "browser" }))
            .await?;
        if let Some(list) = entries.as_array() {
            self.console.extend(list.iter().cloned());
        }
        Ok(())
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) -> R {
        self.go("#/signin").await?;
        self.find("#username").await?;
        self.fill("#username", username).await?;
        self.fill("#password", password).await?;
        self.click("#signin").await?;
        self.until(
            &format!("{username} signed in"),
            "document.body.dataset.role !== 'none' && !location.hash.startsWith('#/signin')",
        )
        .await?;
        Ok(())
    }

    pub async fn close(mut self) -> Vec<Value> {
        let _ = self.collect_console().await;
        let console = std::mem::take(&mut self.console);
        let _ = self.c.close().await;
        console
    }
}

pub struct World {
    pub base: String,
    pub driver: String,
    pub chromium: PathBuf,
    pub shots: PathBuf,
}

impl World {
    /// A session on a profile of its own, thrown away with it.
    pub async fn browser(&self, who: &'static str, size: (u32, u32)) -> R<Browser> {
        Browser::open(
            &self.driver,
            &self.chromium,
            who,
            &self.base,
            &self.shots,
            size,
        )
        .await
    }
}

pub async fn network(b: &Browser, offline: bool) -> R {
    b.cdp("Network.enable", json!({})).await?;
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    )
    .await?;
    b.until(
        "the browser's idea of the network",
        &format!("navigator.onLine === {}", !offline),
    )
    .await
    .map(|_| ())
}

impl World {
    /// A session on the profile folder `profile`, which outlives it (see [`Browser::open_in`]).
    pub async fn browser_in(
        &self,
        who: &'static str,
        size: (u32, u32),
        profile: &Path,
    ) -> R<Browser> {
        Browser::open_in(
            &self.driver,
            &self.chromium,
            who,
            &self.base,
            &self.shots,
            size,
            Some(profile),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// The site: the real server and chromedriver

/// Chromium and chromedriver, or `None` after printing `SKIPPED (chromium/chromedriver not
/// installed)`; with `CI` set a missing browser fails the test instead.
pub fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    match (
        tool(
            "CHROMIUM",
            &["chromium", "chromium-browser"],
            "/usr/bin/chromium",
        ),
        tool("CHROMEDRIVER", &["chromedriver"], "/usr/bin/chromedriver"),
    ) {
        (Some(chromium), Some(chromedriver)) => Some((chromium, chromedriver)),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("chromium or chromedriver is not installed (CI is set, so this fails)");
            }
            println!("SKIPPED (chromium/chromedriver not installed)");
            None
        }
    }
}

/// The server binary (`serve --demo`) on a loopback port and a SQLite file, its output in a
/// log file. It can be stopped and started again on the same port and database: the real
/// "Wi-Fi down" for a handheld is a server it cannot reach.
pub struct Server {
    proc: Option<Proc>,
    pub port: u16,
    db: PathBuf,
    log_path: PathBuf,
}

impl Server {
    pub fn start(dir: &Path, db_file: &str) -> Self {
        let mut server = Self {
            proc: None,
            port: free_port(),
            db: dir.join(db_file),
            log_path: dir.join("server.log"),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("server log");
        self.proc = Some(spawn(
            Command::new(env!("CARGO_BIN_EXE_bonded-returns"))
                .args(["serve", "--demo", "--bind"])
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("--database-url")
                .arg(&self.db)
                .env_remove("DATABASE_URL")
                .env_remove("BIND")
                .stdout(log.try_clone().expect("log"))
                .stderr(log),
            false,
        ));
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until it listens; an error names why, with its log.
    pub fn ready(&mut self, timeout: Duration) -> R {
        let port = self.port;
        let proc = self.proc.as_mut().ctx("the server is stopped")?;
        wait_for_port(port, proc, "the server", timeout)
            .map_err(|e| format!("{e}\n--- server log ---\n{}", self.log()))
    }

    /// Ends the process (SIGKILL): nothing answers on its port any more.
    pub fn stop(&mut self) {
        self.proc = None;
    }

    /// Starts it again on the same port and database, and waits until it listens.
    pub fn restart(&mut self) -> R {
        self.stop();
        self.spawn();
        self.ready(Duration::from_secs(90))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// The server and chromedriver of one test, and the [`World`] its browsers open in.
pub struct Site {
    pub world: World,
    pub server: Server,
    driver: Option<Proc>,
    /// The database, the log and the browser profiles that outlive a session.
    pub dir: tempfile::TempDir,
}

impl Site {
    /// Starts both and waits until they listen (panics with the server log otherwise);
    /// `None` when the browser is not installed (see [`browser_tools`]).
    pub fn start(db_file: &str) -> Option<Self> {
        let (chromium, chromedriver) = browser_tools()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Server::start(dir.path(), db_file);
        let driver_port = free_port();
        let mut driver = spawn(
            Command::new(&chromedriver)
                .arg(format!("--port={driver_port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            true,
        );
        let ready = server.ready(Duration::from_secs(90)).and_then(|_| {
            wait_for_port(
                driver_port,
                &mut driver,
                "chromedriver",
                Duration::from_secs(30),
            )
        });
        if let Err(e) = ready {
            panic!("{e}");
        }
        Some(Self {
            world: World {
                base: server.base(),
                driver: format!("http://127.0.0.1:{driver_port}"),
                chromium,
                shots: screenshot_dir(),
            },
            server,
            driver: Some(driver),
            dir,
        })
    }

    /// Ends chromedriver (with its browsers) and the server; the log stays readable.
    pub fn stop(&mut self) {
        self.driver = None;
        self.server.stop();
    }
}

/// The browser's console errors (`SEVERE`), less those `expected` says were provoked on
/// purpose.
pub fn console_errors_except(entries: &[Value], expected: &dyn Fn(&str) -> bool) -> Vec<String> {
    entries
        .iter()
        .filter(|e| s(&e["level"]) == "SEVERE")
        .map(|e| s(&e["message"]))
        .filter(|m| !expected(m))
        .collect()
}

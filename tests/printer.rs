//! Labels without the print dialog, on a handheld in a real browser (issue 18, point 3):
//! Debian's headless Chromium against the real server binary on the demo data, with a label
//! printer registered on a loopback port where the test plays the printer.
//!
//! The floor worker chooses the printer on the receive screen (a device setting) and receives
//! a parcel while the printer is down: the screen says "label not printed" with the reason and
//! shows the print queue; the printer comes up, one tap reprints the label, it arrives once (byte
//! for byte the label endpoint's ZPL for the printer's size and resolution) and the queue
//! empties. Screenshots at 360×640 (and desk size) in Chinese and English, in
//! `target/screenshots/printer-*`.
//!
//! Without chromium or chromedriver the test prints `SKIPPED (chromium/chromedriver not
//! installed)` and passes, unless `CI` is set: then it fails.

use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

#[macro_use]
mod browser_kit;
use browser_kit::*;

/// The printer: reads each connection to its end, as raw 9100 does.
struct Printer {
    labels: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Printer {
    fn start(port: u16) -> R<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).ctx("the printer's port")?;
        let labels = Arc::new(Mutex::new(Vec::new()));
        let got = labels.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let mut label = Vec::new();
                if stream.read_to_end(&mut label).is_ok() {
                    if let Ok(mut l) = got.lock() {
                        l.push(label);
                    }
                }
            }
        });
        Ok(Self { labels })
    }

    fn labels(&self) -> Vec<Vec<u8>> {
        self.labels.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

async fn bytes(api: &Api, path: &str) -> R<Vec<u8>> {
    let res = api
        .http
        .get(format!("{}/api/v1{path}", api.base))
        .send()
        .await
        .ctx(path)?;
    ensure!(res.status().is_success(), "GET {path}: {}", res.status());
    Ok(res.bytes().await.ctx(path)?.to_vec())
}

/// Switches the page to `lang` (zh or en) and waits for it.
async fn language(b: &Browser, lang: &str) -> R {
    let now = s(&b.js("return document.documentElement.lang", vec![]).await?);
    if now.starts_with(lang) {
        return Ok(());
    }
    b.click("#lang").await?;
    b.until(
        "the page in the other language",
        &format!("document.documentElement.lang.startsWith({lang:?})"),
    )
    .await
    .map(|_| ())
}

/// The admin registers the dock's printer on the warehouse screen.
async fn register(a: &mut Browser, warehouse: &str, port: u16) -> R {
    a.sign_in("admin", "demo-admin-2026").await?;
    a.go(&format!("#/admin/warehouses/{warehouse}")).await?;
    a.find("#printer-form").await?;
    a.fill("#printer-code", "prn-dock").await?;
    a.fill("#printer-name", "收货台打印机").await?;
    // A mistake first: said in words at the field, nothing registered.
    a.fill("#printer-address", "http://127.0.0.1").await?;
    a.click("#printer-create").await?;
    a.until(
        "the address refused at its field",
        "(f => f && f.getAttribute('aria-invalid') === 'true' && f.closest('.field').querySelector('.field-error').textContent.includes('9100'))(document.getElementById('printer-address'))",
    )
    .await?;
    a.js(
        "const f = document.getElementById('printer-address'); f.value = ''; return true;",
        vec![],
    )
    .await?;
    a.fill("#printer-address", &format!("127.0.0.1:{port}"))
        .await?;
    a.click("#printer-create").await?;
    a.until(
        "the printer listed",
        "document.querySelector('[data-testid=printer-PRN-DOCK][data-enabled=true]')",
    )
    .await?;
    a.js(
        "document.querySelector('[data-testid=printers]').scrollIntoView(); return true;",
        vec![],
    )
    .await?;
    a.shots("printer-admin").await
}

async fn scenario(b: &mut Browser, a: &mut Browser, floor: &Api) -> R {
    let warehouse = s(&floor.get("/me").await?["warehouse"]);
    // A printer at a loopback port where nothing listens yet: "the printer is off".
    let port = free_port();
    register(a, &warehouse, port).await?;
    let excluded: Vec<String> = floor
        .items("/enterprises")
        .await?
        .iter()
        .filter(|e| e["excluded"].as_bool() == Some(true))
        .map(|e| s(&e["code"]))
        .collect();
    let id = floor
        .items("/returns?state=declared&limit=200")
        .await?
        .iter()
        .find(|r| {
            !excluded.contains(&s(&r["ebc"]["code"])) && r["days_left"].as_i64().unwrap_or(0) > 0
        })
        .map(|r| s(&r["id"]))
        .ctx("a declared parcel to receive")?;

    b.sign_in("floor.xy", "demo-floor-2026").await?;
    b.go(&format!("#/r/{id}")).await?;
    b.find("#receive").await?;
    b.record_feedback().await?;
    b.js(
        "window.__prints = 0; window.addEventListener('br:print-dialog', () => { window.__prints += 1; }); return true;",
        vec![],
    )
    .await?;
    // The device setting: this handheld prints on the dock's printer when it receives.
    b.find("#printer").await?;
    b.js(
        "const s = document.getElementById('printer'); s.value = 'PRN-DOCK'; s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
        vec![],
    )
    .await?;
    b.until(
        "print on receive offered and on",
        "document.getElementById('print-on-receive') && !document.getElementById('print-on-receive').disabled && document.getElementById('print-on-receive').checked",
    )
    .await?;
    b.js(
        "document.getElementById('print-on-receive').scrollIntoView({ block: 'center' }); return true;",
        vec![],
    )
    .await?;
    b.shots("printer-setting").await?;

    b.click("#receive").await?;
    // No print dialog: the label screen follows the print job.
    b.until(
        "the label screen following the job",
        "location.hash.includes('/label?job=')",
    )
    .await?;
    let job = s(&b
        .until(
            "the job's id",
            "document.getElementById('print-status')?.dataset.job",
        )
        .await?);
    b.message("error", "标签未打印").await?;
    // Not printed, waiting for a person (the server tried as often as it was told to).
    b.until(
        "the label waiting for a person, with a reprint button",
        "(e => e && e.dataset.state === 'failed' && e.querySelector('[data-action=reprint]:not([hidden])'))(document.getElementById('print-status'))",
    )
    .await?;
    let status = s(&b
        .js(
            "return document.getElementById('print-status').innerText",
            vec![],
        )
        .await?);
    ensure!(
        status.contains("标签未打印") && status.contains("打印机没有响应"),
        "the reason in words: {status}"
    );
    let dialogs = b.js("return window.__prints", vec![]).await?;
    ensure!(dialogs == json!(0), "a print dialog was opened: {dialogs}");
    let fb = b.feedback().await?;
    ensure!(
        fb.iter().any(|f| f == "vibrate:600") && fb.iter().any(|f| f == "tone"),
        "the error tone and vibration: {fb:?}"
    );
    b.shots("printer-not-printed").await?;
    // The print queue on the dock's home screen: the label waits there, one tap from the scan.
    let queued = format!(
        "(q => q && !q.hidden && q.dataset.count === '1' && q.querySelector('[data-action=reprint][data-job=\"{job}\"]'))(document.querySelector('[data-testid=print-queue]'))"
    );
    b.go("#/").await?;
    b.until("the queue on the home screen", &queued).await?;
    b.shots("printer-queue-home").await?;
    language(b, "en").await?;
    b.until(
        "the queue in English",
        "(q => q && !q.hidden && q.innerText.includes('Labels to print') && q.innerText.includes('Reprint') && q.innerText.includes('does not answer'))(document.querySelector('[data-testid=print-queue]'))",
    )
    .await?;
    b.shots("en-printer-queue-home").await?;
    b.go(&format!("#/r/{id}/label?job={job}")).await?;
    b.until(
        "the reason in English",
        "(e => e && e.dataset.state === 'failed' && e.innerText.includes('Label not printed') && e.innerText.includes('does not answer'))(document.getElementById('print-status'))",
    )
    .await?;
    b.shots("en-printer-not-printed").await?;
    language(b, "zh").await?;
    b.go("#/").await?;
    b.until("the queue on the home screen", &queued).await?;

    // The printer comes up; one tap reprints the label, it is heard, and the queue empties.
    let printer = Printer::start(port)?;
    b.feedback().await?;
    b.click(&format!(
        "[data-testid=print-queue] [data-action=reprint][data-job=\"{job}\"]"
    ))
    .await?;
    b.message("ok", "标签已发送到打印机 收货台打印机").await?;
    b.until(
        "the queue empty",
        "(q => q && q.hidden && q.dataset.count === '0')(document.querySelector('[data-testid=print-queue]'))",
    )
    .await?;
    let fb = b.feedback().await?;
    ensure!(
        fb.iter().any(|f| f == "vibrate:60") && fb.iter().any(|f| f == "tone"),
        "the success tone and vibration: {fb:?}"
    );
    b.shots("printer-sent-home").await?;
    b.go(&format!("#/r/{id}/label?job={job}")).await?;
    b.until(
        "the label sent",
        "document.getElementById('print-status')?.dataset.state === 'sent'",
    )
    .await?;
    b.shots("printer-sent").await?;
    let expected = bytes(
        floor,
        &format!("/labels/returns/{id}.zpl?size=100x150&dpi=203"),
    )
    .await?;
    let got = printer.labels();
    ensure!(
        got == vec![expected.clone()],
        "the printer got {} label(s), {:?} bytes; the endpoint serves {} bytes",
        got.len(),
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        expected.len()
    );
    let record = floor.get(&format!("/print-jobs/{job}")).await?;
    ensure!(
        s(&record["state"]) == "sent" && s(&record["origin"]) == "receive",
        "{record}"
    );
    language(b, "en").await?;
    b.go(&format!("#/r/{id}/label?job={job}")).await?;
    b.until(
        "sent, in English",
        "(e => e && e.dataset.state === 'sent' && e.innerText.includes('Label sent to printer'))(document.getElementById('print-status'))",
    )
    .await?;
    b.shots("en-printer-sent").await?;
    language(b, "zh").await?;
    Ok(())
}

#[tokio::test]
async fn a_label_not_printed_waits_in_the_queue_and_one_tap_reprints_it() {
    // Two tries, then the label waits for a person (the handheld's reprint). Set for the server
    // this test starts (a process of its own that inherits it), before it starts.
    std::env::set_var("BR_PRINT_ATTEMPTS", "2");
    let Some(mut site) = Site::start("printer.db") else {
        return;
    };
    let mut browser: Option<Browser> = None;
    let mut desk: Option<Browser> = None;
    let outcome = tokio::time::timeout(Duration::from_secs(240), async {
        let floor = Api::sign_in(&site.world.base, "floor.xy", "demo-floor-2026").await?;
        browser = Some(site.world.browser("floor", HANDHELD).await?);
        desk = Some(site.world.browser("admin", DESK).await?);
        let b = browser.as_mut().ctx("the browser")?;
        let a = desk.as_mut().ctx("the admin's browser")?;
        scenario(b, a, &floor).await?;
        // The admin's record of it: who printed which label on which printer, and how it went.
        let warehouse = s(&floor.get("/me").await?["warehouse"]);
        a.go("#/admin/warehouses").await?;
        a.go(&format!("#/admin/warehouses/{warehouse}")).await?;
        a.until(
            "the label in the printing record",
            "(r => r && r.dataset.state === 'sent')(document.querySelector('[data-testid=printers] [data-testid^=print-job-]'))",
        )
        .await?;
        a.js(
            "document.querySelector('[data-testid=printers]').scrollIntoView(); return true;",
            vec![],
        )
        .await?;
        a.shots("printer-admin-record").await
    })
    .await
    .unwrap_or_else(|_| Err("the printer scenario took more than 4 minutes".into()));
    let mut console = Vec::new();
    for b in [browser, desk].into_iter().flatten() {
        console.extend(b.close().await);
    }
    site.stop();
    if let Err(e) = outcome {
        panic!(
            "{e}\n--- console ---\n{}\n--- server log (last lines) ---\n{}",
            console
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            site.server.log_tail(30)
        );
    }
    // The address refused on purpose (a 400 the admin's screen explains).
    let errors = console_errors_except(&console, &|m| {
        m.contains("/printers") && m.contains("status of 400")
    });
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
}

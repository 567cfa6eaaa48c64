//! The installed handheld through a shift without Wi-Fi (issue 18, points 1 and 2), in Debian's
//! headless Chromium against the real server binary on a fresh demo database, at 360×640.
//!
//! 1. A floor worker signs in online: the service worker installs every file of the build in a
//!    cache of its own, and the local copy of the warehouse's open work is taken.
//! 2. The Wi-Fi goes down: the server is stopped (what a handheld sees when the network is gone:
//!    nothing answers) and the page is told it is offline (DevTools network emulation). The
//!    page is reloaded, then the browser is restarted on the same profile: the app opens from
//!    its cache each time, still signed in, on the screen it was on.
//! 3. Still offline, a parcel the device never opened is scanned by its waybill and taken from
//!    the dock to the shelf (receive, sort, inspect, restock), all from the local copy, every step
//!    queued with its Idempotency-Key; a receive is queued for a second parcel.
//! 4. The server comes back while the handheld is still offline, and a supervisor puts the second
//!    parcel on customs hold over the API.
//! 5. The handheld comes back online: every step is sent once (the audit log shows each once,
//!    the parcel is closed and its goods are on the shelf), and the refused receive waits under
//!    "needs attention" with the hold's reason, in Chinese and in English.
//!
//! Screenshots of the offline states (banner, pending counter, needs attention) in Chinese and
//! English at 360×640 (and 1280×800) are saved in `target/screenshots/offline-*.png`.
//!
//! Without chromium or chromedriver the test prints `SKIPPED (chromium/chromedriver not
//! installed)` and passes, unless `CI` is set: then it fails.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[macro_use]
mod browser_kit;
use browser_kit::*;

/// The demo's floor worker of warehouse XY01.
const FLOOR: (&str, &str) = ("floor.xy", "demo-floor-2026");
const SUPERVISOR: (&str, &str) = ("supervisor", "demo-supervisor-2026");
/// The reason the supervisor gives for the hold, which the handheld must show.
const HOLD_REASON: &str = "海关布控查验（离线测试）";

/// What the demo offers the scenario, found through the API.
struct Scene {
    /// Declared, in time, of an enterprise that is not excluded: taken to the shelf offline.
    parcel: Parcel,
    /// Declared too: received offline, put on hold meanwhile.
    held: Parcel,
    pending_bin: String,
    restock_bin: String,
}

async fn scene(floor: &Api) -> R<Scene> {
    let excluded: Vec<String> = floor
        .items("/enterprises")
        .await?
        .iter()
        .filter(|e| e["excluded"].as_bool() == Some(true))
        .map(|e| s(&e["code"]))
        .collect();
    let mut declared = floor.items("/returns?state=declared&limit=200").await?;
    declared.retain(|r| {
        !excluded.contains(&s(&r["ebc"]["code"])) && r["days_left"].as_i64().unwrap_or(0) > 0
    });
    let mut open = Vec::new();
    for r in &declared {
        let p = parcel(floor, &s(&r["id"])).await?;
        // Its agent must not be excluded either.
        let full = floor.get(&format!("/returns/{}", p.id)).await?;
        if !excluded.contains(&s(&full["agent"]["code"])) {
            open.push(p);
        }
    }
    // The parcel with the most units goes to the shelf (every unit scanned); any other one is
    // held.
    open.sort_by_key(|p| std::cmp::Reverse(p.lines.iter().map(|l| l.qty).sum::<i64>()));
    ensure!(
        open.len() >= 2,
        "two declared parcels in time: {}",
        open.len()
    );
    let held = open.pop().ctx("a parcel to hold")?;
    let parcel = open.remove(0);
    let bins = floor.items("/warehouses/XY01/bins").await?;
    let bin_of = |area: &str| {
        bins.iter()
            .find(|b| s(&b["area"]) == area)
            .map(|b| s(&b["code"]))
            .ctx(&format!("a {area} bin"))
    };
    Ok(Scene {
        pending_bin: bin_of("pending_inspection")?,
        restock_bin: bin_of("restock")?,
        parcel,
        held,
    })
}

/// Runs an asynchronous script (its last argument is the callback) and answers its value.
async fn js_async(b: &Browser, script: &str) -> R<Value> {
    b.c.execute_async(script, vec![]).await.ctx(script)
}

/// The caches the service worker keeps.
async fn caches(b: &Browser) -> R<Vec<String>> {
    let v = js_async(
        b,
        "const done = arguments[arguments.length - 1]; caches.keys().then(done, () => done([]));",
    )
    .await?;
    Ok(v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default())
}

/// The pending counter shows `pending` waiting and `failed` needing attention.
async fn counter_is(b: &Browser, pending: usize, failed: usize) -> R {
    b.until(
        &format!("{pending} pending and {failed} needing attention"),
        &format!(
            "(p => p.dataset.count === '{pending}' && p.dataset.failed === '{failed}')(document.getElementById('pending'))"
        ),
    )
    .await
    .map(|_| ())
}

/// The offline banner is shown (the page knows the server cannot be reached).
async fn banner_shown(b: &Browser, shown: bool) -> R {
    b.until(
        &format!(
            "the offline banner {}",
            if shown { "shown" } else { "gone" }
        ),
        &format!(
            "document.getElementById('offline-banner')?.hidden === {}",
            !shown
        ),
    )
    .await
    .map(|_| ())
}

/// The worker still signed in, on a handheld screen (not the sign-in page).
async fn signed_in_as_floor(b: &Browser) -> R {
    b.until(
        "the floor worker still signed in",
        "document.body.dataset.role === 'floor' && !location.hash.startsWith('#/signin') && document.getElementById('whoami')?.textContent.includes('floor.xy')",
    )
    .await
    .map(|_| ())
}

async fn entries(api: &Api, id: &str, action: &str) -> R<usize> {
    Ok(api
        .items(&format!("/audit?entity={id}&action={action}&limit=100"))
        .await?
        .len())
}

/// 1. Online: sign in; the app installs itself and takes its copy of the warehouse.
async fn install(b: &mut Browser) -> R<String> {
    b.go("").await?;
    b.sign_in(FLOOR.0, FLOOR.1).await?;
    b.until(
        "the service worker in control",
        "navigator.serviceWorker && navigator.serviceWorker.controller !== null",
    )
    .await?;
    let build = s(&b
        .until(
            "the page's build",
            "document.querySelector('meta[name=\"ui-build\"]').content",
        )
        .await?);
    let kept = caches(b).await?;
    ensure!(
        kept == vec![format!("br-ui-{build}")],
        "one cache, of this build ({build}): {kept:?}"
    );
    b.until(
        "the local copy taken",
        "Number(document.getElementById('offline-banner').dataset.copyCount) > 0",
    )
    .await?;
    // Every file of the build is in it, the API never is.
    let files = js_async(
        b,
        "const done = arguments[arguments.length - 1];
         caches.open('br-ui-' + document.querySelector('meta[name=\"ui-build\"]').content)
           .then((c) => c.keys()).then((ks) => done(ks.map((r) => new URL(r.url).pathname)), () => done([]));",
    )
    .await?;
    let files: Vec<String> = files
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    for must in [
        "/index.html",
        "/app.js",
        "/screens/sort.js",
        "/screens/inspect.js",
        "/screens/restock.js",
        "/i18n/en.js",
    ] {
        ensure!(
            files.iter().any(|f| f == must),
            "{must} is not kept: {files:?}"
        );
    }
    ensure!(
        !files.iter().any(|f| f.starts_with("/api/")),
        "an API answer in the cache: {files:?}"
    );
    // The screen the worker is on when the Wi-Fi goes.
    b.go("#/list?state=declared").await?;
    b.find("#return-list li").await?;
    Ok(build)
}

/// 2. The Wi-Fi goes: the app reloads from its cache, on the same screen, signed in.
async fn reload_offline(b: &mut Browser) -> R {
    network(b, true).await?;
    b.c.refresh().await.ctx("reload offline")?;
    signed_in_as_floor(b).await?;
    b.hash_is("#/list?state=declared").await?;
    banner_shown(b, true).await?;
    // The list comes from the device's copy.
    b.find("#return-list li a.row-link").await?;
    b.shots("offline-01-reloaded").await
}

/// 3. Offline, a parcel never opened on this device: dock to shelf from the local copy.
async fn walk_offline(b: &mut Browser, sc: &Scene) -> R {
    let p = &sc.parcel;
    b.go("#/").await?;
    b.find("[data-testid=tile-declared]").await?;
    b.scan(&p.waybill).await?;
    b.shown_state(&p.id, "declared").await?;
    b.find("[data-testid=offline-copy]").await?;
    b.click("#receive").await?;
    b.shown_state(&p.id, "received").await?;
    counter_is(b, 1, 0).await?;
    b.shots("offline-02-received").await?;
    // Sorting: every unit scanned, then the pending-inspection bin.
    b.scan(&p.lines[0].code).await?;
    b.hash_is(&format!("#/r/{}/sort", p.id)).await?;
    let mut first = true;
    for l in &p.lines {
        for _ in 0..l.qty {
            if first {
                first = false;
                continue;
            }
            b.scan(&l.code).await?;
        }
    }
    b.counts_are(&p.lines, "").await?;
    b.scan(&sc.pending_bin).await?;
    b.until(
        "the bin chosen offline",
        &format!(
            "document.getElementById('bin')?.value === {:?}",
            sc.pending_bin
        ),
    )
    .await?;
    b.click("#submit").await?;
    // Inspection opens next, from the copy as the device now has it.
    b.hash_is(&format!("#/r/{}/inspect", p.id)).await?;
    counter_is(b, 2, 0).await?;
    b.click("[data-action=all-intact-return]").await?;
    b.scan(&sc.restock_bin).await?;
    b.find("#restock-bin").await?;
    b.click("#submit").await?;
    // Inspected and every line put on the shelf: the parcel is closed on the device.
    b.shown_state(&p.id, "closed").await?;
    counter_is(b, 3 + p.lines.len(), 0).await?;
    b.shots("offline-03-restocked").await?;

    // A second parcel received offline (it will be put on hold meanwhile).
    b.go("#/").await?;
    b.scan(&sc.held.waybill).await?;
    b.shown_state(&sc.held.id, "declared").await?;
    b.click("#receive").await?;
    b.shown_state(&sc.held.id, "received").await?;
    counter_is(b, 4 + p.lines.len(), 0).await?;
    // The offline states, in Chinese and in English.
    b.go("#/").await?;
    b.find("[data-testid=tile-declared]").await?;
    banner_shown(b, true).await?;
    b.shots("offline-04-home").await?;
    b.go("#/pending").await?;
    b.find("#pending-list li.op").await?;
    b.shots("offline-05-pending").await?;
    b.click("#lang").await?;
    b.find("#pending-list li.op").await?;
    b.shots("offline-05-pending-en").await?;
    b.go("#/").await?;
    b.find("[data-testid=tile-declared]").await?;
    b.shots("offline-04-home-en").await?;
    b.click("#lang").await?;
    b.go("#/").await
}

/// 5. Back online: everything sent once; the held parcel's receive needs attention.
async fn back_online(b: &mut Browser, sup: &Api, sc: &Scene) -> R {
    let p = &sc.parcel;
    network(b, false).await?;
    counter_is(b, 0, 1).await?;
    banner_shown(b, false).await?;
    b.click("#pending").await?;
    b.hash_is("#/pending").await?;
    let said = s(&b
        .until(
            "the refused receive under needs attention",
            &format!(
                "(li => li && li.innerText)(document.querySelector('#attention-list li[data-return={:?}]'))",
                sc.held.id
            ),
        )
        .await?);
    ensure!(
        said.contains("暂扣") && said.contains(HOLD_REASON) && said.contains(&sc.held.id),
        "the refusal says the parcel is held, and why: {said}"
    );
    b.find("#attention-list [data-action=open-parcel]").await?;
    b.shots("offline-06-needs-attention").await?;
    b.click("#lang").await?;
    let said = s(&b
        .until(
            "the refusal in English",
            "(li => li && li.innerText.includes('customs hold') && li.innerText)(document.querySelector('#attention-list li'))",
        )
        .await?);
    ensure!(said.contains(HOLD_REASON), "the hold's reason: {said}");
    b.shots("offline-06-needs-attention-en").await?;
    b.click("#lang").await?;
    // Opening the parcel shows it held.
    b.click("#attention-list [data-action=open-parcel]").await?;
    b.shown_state(&sc.held.id, "held").await?;

    // Each step once, in the audit log; the parcel closed, its goods on the shelf.
    ensure!(sup.state(&p.id).await? == "closed", "{} not closed", p.id);
    for (action, n) in [
        ("return.receive", 1),
        ("return.sort", 1),
        ("return.inspect", 1),
        ("return.restock", p.lines.len()),
    ] {
        let got = entries(sup, &p.id, action).await?;
        ensure!(got == n, "{action} of {}: {got} entries, not {n}", p.id);
    }
    let stock = sup.stock(&p.ebc, &sc.restock_bin).await?;
    for l in &p.lines {
        ensure!(
            stock.get(&l.gcode).copied().unwrap_or(0) >= l.qty,
            "{} × {} not on the shelf: {stock:?}",
            l.qty,
            l.gcode
        );
    }
    ensure!(
        sup.state(&sc.held.id).await? == "held"
            && entries(sup, &sc.held.id, "return.receive").await? == 0,
        "the held parcel was received anyway"
    );
    // A reload sends nothing again.
    b.c.refresh().await.ctx("reload online")?;
    signed_in_as_floor(b).await?;
    counter_is(b, 0, 1).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for action in ["return.receive", "return.sort", "return.inspect"] {
        ensure!(
            entries(sup, &p.id, action).await? == 1,
            "{action} sent twice"
        );
    }
    // Dismissed once dealt with.
    b.go("#/pending").await?;
    b.click("#attention-list [data-action=discard]").await?;
    b.click("[data-action=dialog-ok]").await?;
    counter_is(b, 0, 0).await?;
    // The label of the parcel received offline: printed by the server on the device's printer
    // when the receive was sent. HOOK for the printer work (issue 18, point 3): once a printer
    // can be chosen on the handheld, choose it before going offline and check here that its
    // listener got exactly one label for `p.id` (tests/api/printing.rs has the listener).
    Ok(())
}

/// Browser console errors that are not the offline work itself: failed loads while the network
/// is down (`net::ERR_…`) and the receive refused because of the hold are expected.
fn unexpected(console: &[Value], held: &str) -> Vec<String> {
    console_errors_except(console, &|m: &str| {
        m.contains("net::ERR_")
            || (m.contains(&format!("/api/v1/returns/{held}/receive")) && m.contains("409"))
    })
}

#[tokio::test]
async fn a_handheld_works_a_whole_parcel_through_without_the_network() {
    let Some(mut site) = Site::start("offline.db") else {
        return;
    };
    let started = Instant::now();
    let profile = site.dir.path().join("handheld-profile");
    std::fs::create_dir_all(&profile).expect("a browser profile");
    let mut console: Vec<Value> = Vec::new();
    let mut open: Option<Browser> = None;
    let mut held = String::new();
    let outcome = tokio::time::timeout(Duration::from_secs(300), async {
        let floor = Api::sign_in(&site.world.base, FLOOR.0, FLOOR.1).await?;
        let sup = Api::sign_in(&site.world.base, SUPERVISOR.0, SUPERVISOR.1).await?;
        let sc = scene(&floor).await?;
        held = sc.held.id.clone();

        let b = open.insert(site.world.browser_in("floor", HANDHELD, &profile).await?);
        let build = install(b).await?;
        // 2. The Wi-Fi goes: nothing answers any more.
        site.server.stop();
        reload_offline(b).await?;
        // The browser is restarted on the same profile: the app opens from its cache.
        let first = open.take().ctx("the browser")?;
        console.extend(first.close().await);
        let b = open.insert(site.world.browser_in("floor", HANDHELD, &profile).await?);
        b.go("").await?;
        signed_in_as_floor(b).await?;
        b.hash_is("#/list?state=declared").await?;
        banner_shown(b, true).await?;
        ensure!(
            caches(b).await? == vec![format!("br-ui-{build}")],
            "the build's cache after the restart"
        );
        b.shots("offline-01b-restarted").await?;
        network(b, true).await?;
        // 3. A whole parcel offline.
        walk_offline(b, &sc).await?;
        // 4. The server is back; the handheld is not yet. A supervisor holds the second parcel.
        site.server.restart()?;
        ensure!(
            sup.state(&sc.parcel.id).await? == "declared",
            "{} changed while the handheld was offline",
            sc.parcel.id
        );
        let res = sup
            .http
            .post(format!(
                "{}/api/v1/returns/{}/hold",
                site.world.base, sc.held.id
            ))
            .json(&json!({ "reason": HOLD_REASON }))
            .send()
            .await
            .ctx("hold")?;
        ensure!(res.status().is_success(), "hold: {}", res.status());
        // 5. Back online.
        back_online(b, &sup, &sc).await?;
        Ok::<(), String>(())
    })
    .await
    .unwrap_or_else(|_| Err("the offline scenario took more than 5 minutes".into()));
    if let Some(b) = open.take() {
        console.extend(b.close().await);
    }
    site.stop();
    if let Err(e) = outcome {
        let lines: Vec<String> = console.iter().map(|e| e.to_string()).collect();
        panic!(
            "{e}\n--- console ---\n{}\n--- server log (last lines) ---\n{}",
            lines.join("\n"),
            site.server.log_tail(40)
        );
    }
    let errors = unexpected(&console, &held);
    assert!(
        errors.is_empty(),
        "console errors in the browser:\n{}",
        errors.join("\n")
    );
    println!(
        "offline scenario passed in {:.1}s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        site.world.shots.display()
    );
}

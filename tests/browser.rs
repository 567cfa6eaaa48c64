//! The web UI in a real browser: Debian's headless Chromium driven through chromedriver,
//! against the real server (the built binary) on a fresh SQLite database with the demo data.
//!
//! One test runs the scenarios of issue 5 in order, since each builds on the one before:
//! 1. a floor worker takes a declared parcel from receiving to restocked by typing scans into
//!    `#scan` and pressing Enter; the return ends `closed` and the stock is raised (API check);
//! 2. a supervisor finds those entries in the audit log screen;
//! 3. a sort made while the network is cut off is queued, shown as pending, sent once the
//!    network is back and applied once (one audit entry);
//! 4. an administrator rates the parcel's e-commerce enterprise 失信 in the admin screen, and the
//!    worker's next parcel of that enterprise is refused with the sentence in Chinese.
//!
//! Every screen is saved at 360×640 and at 1280×800 in `target/screenshots/`. The browser's
//! console must stay free of errors, except the one refusal the test provokes on purpose.
//!
//! Without chromium or chromedriver the test prints `SKIPPED (chromium/chromedriver not
//! installed)` and passes, unless `CI` is set: then it fails.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[macro_use]
mod browser_kit;
use browser_kit::*;

/// A code that is nothing the warehouse knows, scanned on purpose.
const UNKNOWN_CODE: &str = "NOSUCHCODE42";
/// What the UI says when an enterprise is excluded (i18n key `err.enterprise_excluded`).
const EXCLUDED_SENTENCE: &str =
    "有关企业被评为失信企业，不能继续作业，请把包裹放入暂存区并通知主管";

// ---------------------------------------------------------------------------------------------
// The scenarios

/// What the demo data offers the scenarios, found through the API as the worker sees it.
struct Scene {
    warehouse: String,
    /// Declared, two lines of 4 + 1 units where the demo has one (issue 19's parcel): taken
    /// from dock to shelf with every action counted.
    main: Parcel,
    /// Declared, a line of several units: one of them is damaged at inspection.
    damaged: Parcel,
    /// Declared, several lines: one unit is missing at sorting.
    short: Parcel,
    /// Declared: refused once its e-commerce enterprise is rated 失信.
    other: Parcel,
    /// Received, of another enterprise than `other`'s: sorted while the network is down.
    offline: Parcel,
    /// The waybill of a parcel declared for the other warehouse.
    foreign_waybill: String,
    pending_bin: String,
    discrepancy_bin: String,
    restock_bin: String,
}

async fn scene(floor: &Api, sup: &Api) -> R<Scene> {
    let me = floor.get("/me").await?;
    let warehouse = s(&me["warehouse"]);
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
    declared.sort_by_key(|r| std::cmp::Reverse(r["days_left"].as_i64().unwrap_or(0)));
    let mut open = Vec::new();
    for r in &declared {
        open.push(parcel(floor, &s(&r["id"])).await?);
    }
    let mut take = |what: &str, fit: &dyn Fn(&Parcel) -> bool| {
        let i = open.iter().position(fit).ctx(what)?;
        Ok::<Parcel, String>(open.remove(i))
    };
    let qty = |p: &Parcel| p.lines.iter().map(|l| l.qty).collect::<Vec<_>>();
    let main = take("a declared parcel of 4 + 1 units", &|p| qty(p) == [4, 1])
        .or_else(|_| take("a declared parcel of two lines", &|p| p.lines.len() >= 2))?;
    let damaged = take("a declared parcel with a line of several units", &|p| {
        p.lines.iter().any(|l| l.qty >= 2)
    })?;
    let short = take("a declared parcel of several lines", &|p| {
        p.lines.len() >= 2
    })?;
    let other = take("one more declared parcel", &|_| true)?;
    let received = floor.items("/returns?state=received&limit=200").await?;
    let offline_id = received
        .iter()
        .find(|r| s(&r["ebc"]["code"]) != other.ebc && s(&r["warehouse"]) == warehouse)
        .map(|r| s(&r["id"]))
        .ctx("a received return of another enterprise")?;
    let offline = parcel(floor, &offline_id).await?;
    let mine: Vec<String> = floor
        .items("/returns?state=declared&limit=200")
        .await?
        .iter()
        .map(|r| s(&r["id"]))
        .collect();
    let foreign_waybill = sup
        .items("/returns?state=declared&limit=200")
        .await?
        .iter()
        .find(|r| !mine.contains(&s(&r["id"])))
        .map(|r| s(&r["logistics_no"]))
        .ctx("a declared parcel of the other warehouse")?;
    let bins = floor
        .items(&format!("/warehouses/{warehouse}/bins"))
        .await?;
    let bin_of = |area: &str| {
        bins.iter()
            .find(|b| s(&b["area"]) == area)
            .map(|b| s(&b["code"]))
            .ctx(&format!("a {area} bin in {warehouse}"))
    };
    Ok(Scene {
        pending_bin: bin_of("pending_inspection")?,
        discrepancy_bin: bin_of("discrepancy")?,
        restock_bin: bin_of("restock")?,
        foreign_waybill,
        warehouse,
        main,
        damaged,
        short,
        other,
        offline,
    })
}

/// The worker's actions on a walk: scans, taps, and print dialogs (each needs a tap).
#[derive(Default)]
struct Actions {
    scans: u32,
    taps: u32,
}

impl Actions {
    async fn scan(&mut self, b: &Browser, code: &str) -> R {
        self.scans += 1;
        b.scan(code).await
    }
    async fn tap(&mut self, b: &Browser, css: &str) -> R {
        self.taps += 1;
        b.click(css).await
    }
}

/// Counts the print dialogs the page opens from now on (until it is loaded again).
async fn count_prints(b: &Browser) -> R {
    b.js(
        "window.__prints = 0; window.addEventListener('br:print-dialog', () => { window.__prints += 1; }); return true;",
        vec![],
    )
    .await
    .map(|_| ())
}

async fn prints(b: &Browser) -> R<u32> {
    Ok(b.js("return window.__prints || 0", vec![])
        .await?
        .as_u64()
        .unwrap_or(0) as u32)
}

/// Scans every unit of every line (the first `skip` units already counted).
async fn scan_units(b: &Browser, lines: &[Line], mut skip: i64) -> R {
    for l in lines {
        for _ in 0..l.qty {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            b.scan(&l.code).await?;
        }
    }
    Ok(())
}

/// 1. Receive → label → sort → inspect → restock, by scans and the big buttons.
async fn floor_flow(b: &mut Browser, floor: &Api, sc: &Scene) -> R {
    let p = &sc.main;
    b.go("").await?;
    b.find("#username").await?;
    b.shots("01-signin").await?;
    b.sign_in("floor.xy", "demo-floor-2026").await?;
    b.find("[data-testid=tile-declared]").await?;
    b.shots("02-home").await?;
    // A parcel of the other warehouse: nothing of it is told, but the worker learns what to do.
    b.scan(&sc.foreign_waybill).await?;
    let said = b.message("error", &sc.foreign_waybill).await?;
    ensure!(
        said.contains("暂存区") && said.contains("主管"),
        "a parcel of another warehouse says where it goes and whom to tell: {said}"
    );

    let stock_before = floor.stock(&p.ebc, &sc.restock_bin).await?;
    b.scan_focused("on the home screen").await?;
    // The camera button is offered exactly where the browser can read barcodes from a camera.
    let camera = b
        .js(
            "return document.getElementById('camera-scan').hidden === !('BarcodeDetector' in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia))",
            vec![],
        )
        .await?;
    ensure!(
        camera == json!(true),
        "camera button offered without BarcodeDetector, or hidden with it"
    );

    // The waybill: the return, with receiving offered, and the success felt and heard.
    b.record_feedback().await?;
    b.scan(&p.waybill).await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "declared").await?;
    let felt = b.feedback().await?;
    ensure!(
        felt.iter().any(|f| f == "vibrate:60") && felt.iter().any(|f| f == "tone"),
        "a scan that found the parcel gives the short success vibration and a tone: {felt:?}"
    );
    // A code that is nothing known: the long error vibration, the low double tone, and words.
    b.scan(UNKNOWN_CODE).await?;
    b.message("error", "").await?;
    let felt = b.feedback().await?;
    ensure!(
        felt.iter().any(|f| f == "vibrate:600")
            && felt.iter().filter(|f| *f == "tone").count() >= 2,
        "an unknown scan gives the long error vibration and two tones: {felt:?}"
    );
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    // A bin that has nothing to do with a parcel at the dock: an error, not a success.
    b.scan(&sc.pending_bin).await?;
    b.message("error", &sc.pending_bin).await?;
    let felt = b.feedback().await?;
    ensure!(
        felt.iter().any(|f| f == "vibrate:600") && !felt.iter().any(|f| f == "vibrate:60"),
        "a wrong bin on the return screen gives the error vibration only: {felt:?}"
    );
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.find("#camera").await?;
    b.shots("03-receive").await?;
    // This handheld works at the dock: set once on the device, not part of any parcel's walk.
    b.click("#dock-mode").await?;
    b.until(
        "the dock setting kept on the device",
        &format!(
            "localStorage.getItem('br.pref.dock.{}') === 'true'",
            sc.warehouse
        ),
    )
    .await?;
    b.go("#/").await?;
    b.find("[data-testid=tile-declared]").await?;

    // Dock to shelf, every scan, tap and print dialog counted.
    count_prints(b).await?;
    let mut n = Actions::default();
    n.scan(b, &p.waybill).await?;
    b.find("[data-testid=auto-receive] #undo-receive").await?;
    // Received when the undo time is up, the label printed.
    b.hash_is(&format!("#/r/{}/label", p.id)).await?;
    b.until(
        "the label preview",
        "(i => i && i.complete && i.naturalWidth > 0)(document.getElementById('label-preview'))",
    )
    .await?;
    b.until("the label's print dialog", "window.__prints === 1")
        .await?;
    b.shots("04-label").await?;
    ensure!(
        floor.state(&p.id).await? == "received",
        "{} not received",
        p.id
    );
    // Sorting: the first product scanned on the label screen opens the count; one unit of a
    // line in hand, the rest of it is confirmed with one tap.
    for (i, l) in p.lines.iter().enumerate() {
        n.scan(b, &l.code).await?;
        if i == 0 {
            b.hash_is(&format!("#/r/{}/sort", p.id)).await?;
        }
        if l.qty > 1 {
            n.tap(
                b,
                &format!("[data-action=all-here][data-gnum=\"{}\"]", l.gnum),
            )
            .await?;
        }
    }
    b.counts_are(&p.lines, "").await?;
    n.scan(b, &sc.pending_bin).await?;
    b.until(
        "the pending-inspection bin chosen",
        &format!(
            "document.getElementById('bin')?.value === {:?}",
            sc.pending_bin
        ),
    )
    .await?;
    b.shots("05-sort").await?;
    n.tap(b, "#submit").await?;
    // Sorted: inspection opens on the same bench; the whole return intact in one tap, and a
    // restock bin scanned puts every intact unit away with the inspection.
    b.hash_is(&format!("#/r/{}/inspect", p.id)).await?;
    n.tap(b, "[data-action=all-intact-return]").await?;
    b.counts_are(&p.lines, "-intact").await?;
    n.scan(b, &sc.restock_bin).await?;
    let units: i64 = p.lines.iter().map(|l| l.qty).sum();
    b.until(
        "the restock bin on the inspection screen",
        &format!(
            "document.getElementById('restock-bin')?.textContent === {:?} && document.getElementById('submit').textContent.includes({:?}) && document.getElementById('submit').textContent.includes({:?})",
            sc.restock_bin, sc.restock_bin, units.to_string()
        ),
    )
    .await?;
    b.shots("06-inspect").await?;
    n.tap(b, "#submit").await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "closed").await?;
    b.message("ok", &p.id).await?;
    let printed = prints(b).await?;
    let taps = n.taps + printed;
    let total = n.scans + taps;
    println!(
        "dock to shelf: {total} actions ({} scans, {taps} taps) — the taps include {printed} print dialog(s)",
        n.scans
    );
    ensure!(
        total <= 10,
        "dock to shelf took {total} actions ({} scans, {taps} taps incl. {printed} print dialogs), more than 10",
        n.scans
    );

    // The return is closed and the stock raised, as the API tells it.
    let start = Instant::now();
    while floor.state(&p.id).await? != "closed" {
        ensure!(start.elapsed() < WAIT, "{} did not close", p.id);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stock_after = floor.stock(&p.ebc, &sc.restock_bin).await?;
    for l in &p.lines {
        let before = stock_before.get(&l.gcode).copied().unwrap_or(0);
        let after = stock_after.get(&l.gcode).copied().unwrap_or(0);
        ensure!(
            after >= before + l.qty,
            "stock of {} in {}: {before} → {after}, expected +{}",
            l.gcode,
            sc.restock_bin,
            l.qty
        );
    }
    b.shots("08-restocked").await?;
    // A product scanned with no parcel open is named, and no parcel is guessed for it (the
    // same product may be in several): the worker is asked for the parcel's label first.
    if let Some(l) = p.lines.iter().find(|l| l.code != l.gcode) {
        b.go("#/").await?;
        b.find("[data-testid=tile-declared]").await?;
        b.scan(&l.code).await?;
        b.message("error", "这是商品").await?;
        b.hash_is("#/").await?;
        b.shots("08b-product-alone").await?;
    }
    // Typed by hand this time (no scanner): confirmed, then used like a scan.
    b.type_slowly(&p.id).await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "closed").await?;
    // Closed: the header says where the goods are now (the shelf), not the bin it was sorted in.
    let header = "return document.querySelector('[data-testid=return-header]').innerText";
    let said = s(&b.js(header, vec![]).await?);
    ensure!(
        said.contains(&sc.restock_bin)
            && said.contains("已上架")
            && !said.contains(&sc.pending_bin),
        "the closed return's header does not say where its goods are: {said:?}"
    );
    b.shots("09-return-closed").await?;
    b.go("#/list?state=received").await?;
    b.find("#return-list li").await?;
    b.shots("10-list").await?;
    // English as a switch, and back to Chinese.
    b.click("#lang").await?;
    b.until("the page in English", "document.documentElement.lang === 'en' && document.getElementById('lang').textContent === '中文'").await?;
    b.go("#/").await?;
    b.until(
        "the home screen in English",
        "document.querySelector('[data-testid=tile-declared] .tile-label')?.textContent === 'Awaiting arrival' && document.getElementById('scan').labels[0]?.innerText && !/[\\u4e00-\\u9fff]/.test(document.getElementById('scan').labels[0].innerText)",
    )
    .await?;
    let leftover = b
        .js(
            "const m = document.getElementById('message'); return !m.hidden && /[\\u4e00-\\u9fff]/.test(m.innerText)",
            vec![],
        )
        .await?;
    ensure!(
        leftover == json!(false),
        "a Chinese message is left on the English page"
    );
    b.shots("10b-home-english").await?;
    let words = "return import('/format.js').then(f => import('/i18n/index.js').then(i => [f.daysLeftText(1), i.label('role', 'system'), i.label('area', 'exit')]))";
    let said = b.js(words, vec![]).await?;
    ensure!(
        said == json!(["1 day left", "System", "Exit"]),
        "English words for one day, the system and the exit area: {said}"
    );
    b.click("#lang").await?;
    b.until(
        "the page in Chinese again",
        "document.documentElement.lang.startsWith('zh')",
    )
    .await?;
    let said = b.js(words, vec![]).await?;
    ensure!(
        said == json!(["剩 1 天", "系统", "出区待运区"]),
        "Chinese words for one day, the system and the exit area: {said}"
    );
    Ok(())
}

/// The units of each line of a return as the API tells them: (sorted, restocked).
async fn line_counts(api: &Api, id: &str) -> R<BTreeMap<i64, (i64, i64)>> {
    let r = api.get(&format!("/returns/{id}")).await?;
    Ok(r["lines"]
        .as_array()
        .ctx("lines")?
        .iter()
        .map(|l| {
            (
                l["gnum"].as_i64().unwrap_or(0),
                (
                    l["sorted"].as_i64().unwrap_or(0),
                    l["restocked"].as_i64().unwrap_or(0),
                ),
            )
        })
        .collect())
}

/// 1b. A parcel at the dock whose receive is undone in time, then taken in by hand; one unit
/// turns out damaged: "all intact" does not hide it, the worker grades it, and only the
/// intact units go to the shelf with the inspection. A reload mid-sort keeps the counts.
async fn damaged_walk(b: &mut Browser, floor: &Api, sc: &Scene) -> R {
    let p = &sc.damaged;
    b.go("#/").await?;
    b.find("[data-testid=tile-declared]").await?;
    b.scan(&p.waybill).await?;
    b.click("[data-testid=auto-receive] #undo-receive").await?;
    b.message("info", &p.id).await?;
    b.find("#receive").await?;
    // Undone means never sent: still declared after the undo time.
    tokio::time::sleep(Duration::from_secs(5)).await;
    ensure!(
        floor.state(&p.id).await? == "declared",
        "{} was received after the undo",
        p.id
    );
    b.shots("03b-receive-undone").await?;
    b.click("#receive").await?;
    b.hash_is(&format!("#/r/{}/label", p.id)).await?;
    for (i, l) in p.lines.iter().enumerate() {
        b.scan(&l.code).await?;
        if i == 0 {
            b.hash_is(&format!("#/r/{}/sort", p.id)).await?;
            // The page reloads mid-step (a crash, a swipe): the count is still there, the
            // scan field has the focus again.
            b.c.refresh().await.ctx("reload while sorting")?;
            b.find("[data-testid^=line-]").await?;
            b.until(
                "the first unit still counted",
                &format!(
                    "document.querySelector('[data-testid=\"count-{}\"]')?.textContent === '1'",
                    l.gnum
                ),
            )
            .await?;
            b.scan_focused("after a reload").await?;
        }
        if l.qty > 1 {
            b.click(&format!("[data-action=all-here][data-gnum=\"{}\"]", l.gnum))
                .await?;
        }
    }
    b.counts_are(&p.lines, "").await?;
    b.scan(&sc.pending_bin).await?;
    b.click("#submit:not([disabled])").await?;
    b.hash_is(&format!("#/r/{}/inspect", p.id)).await?;
    b.click("[data-action=all-intact-return]").await?;
    b.counts_are(&p.lines, "-intact").await?;
    // One unit of the first line of several is damaged: the worker moves it to its grade.
    let hurt = p
        .lines
        .iter()
        .find(|l| l.qty >= 2)
        .ctx("a line of several")?;
    b.click(&format!("[data-testid=\"dec-{}-intact\"]", hurt.gnum))
        .await?;
    b.click(&format!(
        "[data-testid=\"inc-{}-damaged_packaging\"]",
        hurt.gnum
    ))
    .await?;
    b.scan(&sc.restock_bin).await?;
    let intact: i64 = p.lines.iter().map(|l| l.qty).sum::<i64>() - 1;
    b.until(
        "the submit button naming the intact units only",
        &format!(
            "(t => t.includes({:?}) && t.includes({:?}))(document.getElementById('submit').textContent)",
            intact.to_string(),
            sc.restock_bin
        ),
    )
    .await?;
    b.shots("06b-inspect-damaged").await?;
    b.click("#submit").await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    // The damaged unit waits for its disposal; the rest is on the shelf.
    b.shown_state(&p.id, "inspected").await?;
    b.find("a[data-action=dispose]").await?;
    let counts = line_counts(floor, &p.id).await?;
    for l in &p.lines {
        let want = if l.gnum == hurt.gnum {
            l.qty - 1
        } else {
            l.qty
        };
        ensure!(
            counts.get(&l.gnum).map(|c| c.1) == Some(want),
            "line {} of {}: restocked {:?}, expected {want}",
            l.gnum,
            p.id,
            counts.get(&l.gnum)
        );
    }
    Ok(())
}

/// 1b'. The damaged unit goes for destruction, which waits for a supervisor's approval: until
/// then the return offers neither restock nor dispose (both screens would show 0), says why,
/// and the home tile 待上架/处置 does not count it as work.
async fn awaiting_approval(b: &mut Browser, floor: &Api, sc: &Scene) -> R {
    let p = &sc.damaged;
    b.go(&format!("#/r/{}/dispose", p.id)).await?;
    b.find("[data-testid^=line-]").await?;
    b.click("[data-testid=route-destroy]").await?;
    b.fill("#reference", "销毁申请 XH2026120700031").await?;
    b.click("[data-action=failed]").await?;
    b.click("#submit:not([disabled])").await?;
    b.message("ok", &p.id).await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "inspected").await?;
    b.find("[data-testid=awaiting-approval]").await?;
    let offered = b
        .js(
            "return [...document.querySelectorAll('[data-action=restock], [data-action=dispose]')].map(e => e.dataset.action)",
            vec![],
        )
        .await?;
    ensure!(
        offered == json!([]),
        "{} awaits approval only, yet offers {offered}",
        p.id
    );
    b.shots("06c-awaiting-approval").await?;
    b.click("#lang").await?;
    b.until(
        "the note in English",
        "document.querySelector('[data-testid=awaiting-approval]')?.innerText.includes('approval')",
    )
    .await?;
    b.shots("06c-awaiting-approval-en").await?;
    b.click("#lang").await?;
    b.until(
        "the page in Chinese again",
        "document.documentElement.lang.startsWith('zh')",
    )
    .await?;
    // The tile counts the inspected returns that still offer restock or dispose.
    let work = floor
        .items("/returns?state=inspected&limit=200")
        .await?
        .iter()
        .filter(|r| {
            r["next_actions"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "restock" || x == "dispose"))
        })
        .count();
    b.go("#/").await?;
    b.until(
        "the tile counting work to do only",
        &format!(
            "document.querySelector('[data-testid=tile-inspected] .tile-count')?.textContent === '{work}'
             && !!document.querySelector('[data-testid=tile-awaiting-approval]')"
        ),
    )
    .await?;
    b.shots("01b-home-awaiting-approval").await?;
    Ok(())
}

/// 1c. A parcel with a unit missing: no "all here" for the short line, the discrepancy bin
/// and a confirmation; inspected alone, then restocked from the restock screen, bin first.
async fn short_walk(b: &mut Browser, floor: &Api, sc: &Scene) -> R {
    let p = &sc.short;
    b.go("#/").await?;
    b.find("[data-testid=tile-declared]").await?;
    b.scan(&p.waybill).await?;
    b.hash_is(&format!("#/r/{}/label", p.id)).await?;
    let (last, first) = p.lines.split_last().ctx("lines")?;
    for (i, l) in first.iter().enumerate() {
        b.scan(&l.code).await?;
        if i == 0 {
            b.hash_is(&format!("#/r/{}/sort", p.id)).await?;
        }
        if l.qty > 1 {
            b.click(&format!("[data-action=all-here][data-gnum=\"{}\"]", l.gnum))
                .await?;
        }
    }
    for _ in 1..last.qty {
        b.scan(&last.code).await?;
    }
    // A line with no unit in hand offers no "all here".
    if last.qty == 1 {
        let offered = b
            .js(
                &format!(
                    "return document.querySelector('[data-action=all-here][data-gnum=\"{}\"]') !== null",
                    last.gnum
                ),
                vec![],
            )
            .await?;
        ensure!(
            offered == json!(false),
            "all-here offered for a line with no unit in hand"
        );
    }
    b.scan(&sc.discrepancy_bin).await?;
    b.click("#submit").await?;
    b.click("dialog[open] [data-action=dialog-ok]").await?;
    b.hash_is(&format!("#/r/{}/inspect", p.id)).await?;
    b.click("[data-action=all-intact-return]").await?;
    b.click("#submit").await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "inspected").await?;
    b.find("[data-testid=discrepancies]").await?;
    // Restocking from the restock screen: the bin label, then each line's intact units.
    b.scan(&sc.restock_bin).await?;
    b.hash_is("#/restock").await?;
    b.until(
        "the restock bin and the return",
        &format!(
            "document.getElementById('restock-bin')?.textContent === {:?} && document.getElementById('return-id')?.textContent === {:?}",
            sc.restock_bin, p.id
        ),
    )
    .await?;
    for l in &p.lines {
        if l.gnum != last.gnum || last.qty > 1 {
            b.click(&format!("[data-action=all][data-gnum=\"{}\"]", l.gnum))
                .await?;
        }
    }
    // A wrong bin is refused in red; the next correct tap clears the red.
    b.scan(&sc.pending_bin).await?;
    b.message("error", &sc.pending_bin).await?;
    let first = p.lines.first().ctx("a line")?;
    b.click(&format!("[data-testid=\"dec-{}\"]", first.gnum))
        .await?;
    b.until(
        "the refusal cleared by a correct tap",
        "(m => m.hidden || m.dataset.kind !== 'error')(document.getElementById('message'))",
    )
    .await?;
    b.click(&format!("[data-action=all][data-gnum=\"{}\"]", first.gnum))
        .await?;
    b.shots("07-restock").await?;
    b.click("#submit").await?;
    b.message("ok", &p.id).await?;
    // The worker goes home: the message of the restock screen stays there, and the bin
    // belonged to that restock only.
    b.click("#brand").await?;
    b.hash_is("#/").await?;
    b.find("[data-testid=tile-declared]").await?;
    let left = b
        .js(
            "return [document.getElementById('message').hidden, document.querySelector('[data-testid=resume-restock]') === null]",
            vec![],
        )
        .await?;
    ensure!(
        left == json!([true, true]),
        "home after restocking: [message hidden, no restock to resume] = {left}"
    );
    b.go("#/restock").await?;
    b.find("[data-testid=bin]").await?;
    ensure!(
        b.js(
            "return document.getElementById('restock-bin') === null",
            vec![]
        )
        .await?
            == json!(true),
        "a new restock starts without the last bin"
    );
    let counts = line_counts(floor, &p.id).await?;
    for l in &p.lines {
        let want = if l.gnum == last.gnum {
            l.qty - 1
        } else {
            l.qty
        };
        ensure!(
            counts.get(&l.gnum) == Some(&(want, want)),
            "line {} of {}: (sorted, restocked) {:?}, expected {want} each",
            l.gnum,
            p.id,
            counts.get(&l.gnum)
        );
    }
    // The dock setting off again: the next parcels are received by a tap.
    b.go(&format!("#/r/{}", sc.other.id)).await?;
    b.click("#dock-mode").await?;
    b.until(
        "the dock setting off",
        &format!(
            "localStorage.getItem('br.pref.dock.{}') === 'false'",
            sc.warehouse
        ),
    )
    .await?;
    Ok(())
}

/// 2. The supervisor finds the parcel's story in the audit log.
async fn supervisor_audit(b: &mut Browser, sup: &Api, sc: &Scene) -> R {
    let id = &sc.main.id;
    b.sign_in("supervisor", "demo-supervisor-2026").await?;
    b.hash_is("#/dashboard").await?;
    b.find("[data-testid=att-holds]").await?;
    b.find("svg.chart").await?;
    // The dashboard says what the stats say.
    let stats = sup.get("/stats").await?;
    let holds = b
        .js(
            "return document.querySelector('[data-testid=att-holds]').innerText",
            vec![],
        )
        .await?;
    ensure!(
        s(&holds).contains(&stats["holds"].to_string()),
        "the dashboard's holds ({holds}) are not the stats' {}",
        stats["holds"]
    );
    let charts = b
        .js(
            "return document.querySelectorAll('svg.chart').length",
            vec![],
        )
        .await?;
    ensure!(
        charts.as_i64().unwrap_or(0) >= 3,
        "the dashboard draws its charts: {charts}"
    );
    // A count axis has whole numbers only: the dashboard's, and a chart of small counts.
    let ticks = b
        .js(
            "return import('/charts.js').then(c => {
               const small = c.barChart({ title: 't', items: [{ label: 'a', value: 3 }, { label: 'b', value: 1 }] });
               return [...document.querySelectorAll('svg.chart .tick text'), ...small.querySelectorAll('.tick text')].map(t => t.textContent);
             })",
            vec![],
        )
        .await?;
    let ticks = ticks.as_array().cloned().unwrap_or_default();
    ensure!(
        !ticks.is_empty() && ticks.iter().all(|t| s(t).parse::<u64>().is_ok()),
        "fractional ticks on a count axis: {ticks:?}"
    );
    // The demo's arrivals are spread over the last weeks, as a real warehouse's would be.
    let days = b
        .js(
            "const fig = document.querySelectorAll('figure.chart-card')[1];
             return [...fig.querySelectorAll('rect.bar-rect')].filter(r => Number(r.getAttribute('height')) > 0).length;",
            vec![],
        )
        .await?;
    ensure!(
        days.as_i64().unwrap_or(0) >= 3,
        "the arrivals chart shows the demo's arrivals on {days} day(s), not spread over weeks"
    );
    b.shots("11-dashboard").await?;

    // Customs hold and release of a parcel in the warehouse, each with its reason.
    let held = &sc.offline.id;
    b.go(&format!("#/r/{held}")).await?;
    b.shown_state(held, "received").await?;
    for (kind, after, reason) in [
        ("hold", "held", "核对视频记录（浏览器测试）"),
        ("release", "received", "视频记录无误，解除暂扣"),
    ] {
        b.click(&format!("button[data-action={kind}]")).await?;
        b.fill("dialog[open] #dialog-input", reason).await?;
        b.click("dialog[open] [data-action=dialog-ok]").await?;
        b.message("ok", held).await?;
        b.shown_state(held, after).await?;
        ensure!(
            sup.state(held).await? == after,
            "{held} is not {after} after {kind}"
        );
    }
    b.go(&format!("#/audit?action=return.hold&entity={held}"))
        .await?;
    b.find("#audit-list li[data-action=\"return.hold\"]")
        .await?;
    b.until(
        "the hold's reason in the log",
        "document.getElementById('audit-list').innerText.includes('核对视频记录')",
    )
    .await?;
    b.shots("11b-audit-hold").await?;

    b.go("#/audit").await?;
    b.fill("#audit-entity", id).await?;
    b.click("#audit-search").await?;
    b.until(
        "the chain verified",
        "document.querySelector('[data-testid=chain-state] .chain-ok')",
    )
    .await?;
    for action in [
        "return.receive",
        "return.sort",
        "return.inspect",
        "return.restock",
    ] {
        b.find(&format!("#audit-list li[data-action=\"{action}\"]"))
            .await?;
    }
    let others = b
        .js(
            "return [...document.querySelectorAll('#audit-list li.audit-entry a.code')].map(a => a.textContent).filter(t => t !== arguments[0]).length",
            vec![json!(id)],
        )
        .await?;
    ensure!(
        others == json!(0),
        "the audit filter let in other returns: {others}"
    );
    // What changed, and why, in Chinese: "项号 1 已上架", not the record's "line 1 restocked".
    let listed = s(&b
        .js(
            "return document.getElementById('audit-list').innerText",
            vec![],
        )
        .await?);
    for said in ["项号 1 已上架", "库存 ", "全部商品已处理完毕，退货完结"] {
        ensure!(
            listed.contains(said),
            "the audit list does not say {said:?}: {listed}"
        );
    }
    for raw in ["restocked", "every unit settled"] {
        ensure!(
            !listed.contains(raw),
            "the audit list shows the raw {raw:?}: {listed}"
        );
    }
    b.shots("12-audit").await?;
    // A return the demo's 失信 rating put on hold: its history says why, in Chinese.
    let mut rated_hold = None;
    for r in sup.items("/returns?state=held").await? {
        let v = sup.get(&format!("/returns/{}", s(&r["id"]))).await?;
        let history = v["history"].as_array().cloned().unwrap_or_default();
        if history
            .iter()
            .any(|e| s(&e["reason"]).starts_with("party ") && s(&e["action"]) == "return.hold")
        {
            rated_hold = Some(s(&r["id"]));
            break;
        }
    }
    let held = rated_hold.ctx("a demo return held by the rating")?;
    b.go(&format!("#/r/{held}")).await?;
    b.find("ol.history").await?;
    let history = s(&b
        .js(
            "return document.querySelector('ol.history').innerText",
            vec![],
        )
        .await?);
    ensure!(
        history.contains("被评为失信企业（依据：") && !history.contains(" rated "),
        "the hold's reason is not said in Chinese: {history}"
    );

    // A message from a while ago is not carried to the next screen (a fresh one is).
    b.js(
        "const m = document.getElementById('message'); m.hidden = false; m.dataset.at = String(Date.now() - 60000); location.hash = '#/returns'",
        vec![],
    )
    .await?;
    b.find("#returns-table tbody tr").await?;
    b.until(
        "the old message gone",
        "document.getElementById('message').hidden",
    )
    .await?;
    b.shots("13-returns").await?;
    // In English at a desk the whole row fits, the hold/release column included.
    b.click("#lang").await?;
    b.until(
        "the returns list in English",
        "document.documentElement.lang === 'en' && !!document.querySelector('#returns-table tbody tr')",
    )
    .await?;
    b.shots("13b-returns-en").await?;
    let fit = b
        .js(
            "const w = document.getElementById('returns-table').closest('.table-wrap');
             const b = document.querySelector('#returns-table [data-action=hold], #returns-table [data-action=release]');
             return { over: w.scrollWidth - w.clientWidth, right: b ? b.getBoundingClientRect().right : -1, width: innerWidth };",
            vec![],
        )
        .await?;
    ensure!(
        fit["over"].as_i64() == Some(0)
            && fit["right"].as_f64().unwrap_or(-1.0) > 0.0
            && fit["right"].as_f64() <= fit["width"].as_f64(),
        "the English returns list needs sideways scrolling at {DESK:?}: {fit}"
    );
    b.click("#lang").await?;
    b.until(
        "the page in Chinese again",
        "document.documentElement.lang.startsWith('zh')",
    )
    .await?;
    b.go(&format!("#/r/{id}")).await?;
    b.shown_state(id, "closed").await?;
    b.find("[data-action=audit]").await?;
    b.shots("14-return-desk").await?;
    // The CEB625 download says it is done, with the file's name.
    b.click("[data-action=ceb625]").await?;
    b.message("ok", &format!("{id}-ceb625.xml")).await?;
    b.shots("14b-ceb625-downloaded").await?;
    b.go("#/approvals").await?;
    b.find("h1").await?;
    b.until(
        "the approvals",
        "document.querySelector('.approvals, .empty')",
    )
    .await?;
    // The demo's destruction requests: each card names the item and how it was graded.
    let cards = b
        .js(
            "return [...document.querySelectorAll('.approval')].map(c => [c.querySelector('.gname')?.textContent || '', c.querySelector('[data-testid=grades] dd')?.textContent || ''])",
            vec![],
        )
        .await?;
    let cards = cards.as_array().cloned().unwrap_or_default();
    ensure!(!cards.is_empty(), "the demo's requests are listed");
    for c in &cards {
        ensure!(
            !s(&c[0]).is_empty() && !s(&c[1]).is_empty() && s(&c[1]) != "—",
            "an approval without its item or grades: {c}"
        );
    }
    b.shots("15-approvals").await?;
    b.go("#/exports").await?;
    b.find("#export-ids").await?;
    b.fill("#export-ids", &format!("{id}\n{held}")).await?;
    b.click("#ceb625-download:not([disabled])").await?;
    let said = b.message("ok", "ceb625.xml").await?;
    ensure!(
        said.contains("2 份"),
        "the batch download names its count: {said}"
    );
    b.shots("16-exports").await?;
    Ok(())
}

/// 3. A sort counted and sent while the network is down: queued, then sent once, applied once.
async fn offline_sort(b: &mut Browser, sup: &Api, sc: &Scene) -> R {
    let p = &sc.offline;
    b.go(&format!("#/r/{}/sort", p.id)).await?;
    b.find("[data-testid^=line-]").await?;
    b.find("select#bin").await?;
    network(b, true).await?;
    scan_units(b, &p.lines, 0).await?;
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
    b.until(
        "the sort pending on the device",
        "(p => p.dataset.count === '1' && p.dataset.offline === 'true')(document.getElementById('pending'))",
    )
    .await?;
    b.message("warn", "").await?;
    b.click("#pending").await?;
    b.hash_is("#/pending").await?;
    b.find("#pending-list li.op").await?;
    b.shots("17-pending-offline").await?;
    ensure!(
        sup.state(&p.id).await? == "received",
        "{} changed while the browser was offline",
        p.id
    );

    network(b, false).await?;
    b.until(
        "the queue sent",
        "document.getElementById('pending').dataset.count === '0'",
    )
    .await?;
    b.message("ok", &p.id).await?;
    b.shots("18-pending-sent").await?;
    // A reload must not send it again.
    b.c.refresh().await.ctx("reload")?;
    b.find("#pending").await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    ensure!(sup.state(&p.id).await? == "sorted", "{} not sorted", p.id);
    let entries = sup
        .items(&format!("/audit?entity={}&action=return.sort", p.id))
        .await?;
    ensure!(
        entries.len() == 1,
        "expected one return.sort entry for {}, found {}",
        p.id,
        entries.len()
    );
    Ok(())
}

/// 3b. The offline parcel's goods turn out used: inspected as such on the +/− counters, then
/// sent out of the zone with a document reference; every unit settled, the return closes.
async fn inspect_used_and_dispose(b: &mut Browser, sup: &Api, sc: &Scene) -> R {
    let p = &sc.offline;
    b.go(&format!("#/r/{}/inspect", p.id)).await?;
    b.find("[data-testid^=line-]").await?;
    for l in &p.lines {
        for _ in 0..l.qty {
            b.click(&format!("[data-testid=\"inc-{}-used\"]", l.gnum))
                .await?;
        }
    }
    b.counts_are(&p.lines, "-used").await?;
    b.shots("18b-inspect-used").await?;
    b.click("#submit").await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "inspected").await?;
    b.click("a[data-action=dispose]").await?;
    b.hash_is(&format!("#/r/{}/dispose", p.id)).await?;
    b.click("[data-testid=route-exit]").await?;
    b.fill("#reference", "出区核放单 QC2026120400012").await?;
    for l in &p.lines {
        b.click(&format!("[data-action=failed][data-gnum=\"{}\"]", l.gnum))
            .await?;
    }
    b.counts_are(&p.lines, "").await?;
    b.shots("18c-dispose").await?;
    b.click("#submit").await?;
    b.message("ok", &p.id).await?;
    b.hash_is(&format!("#/r/{}", p.id)).await?;
    b.shown_state(&p.id, "closed").await?;
    ensure!(sup.state(&p.id).await? == "closed", "{} not closed", p.id);
    let entries = sup
        .items(&format!("/audit?entity={}&action=return.dispose", p.id))
        .await?;
    ensure!(
        entries.len() == p.lines.len(),
        "one return.dispose entry per line for {}: {}",
        p.id,
        entries.len()
    );
    Ok(())
}

/// 4. The admin rates the enterprise 失信; the worker's next parcel of it is refused in Chinese.
async fn rating_refusal(admin: &mut Browser, floor: &mut Browser, api: &Api, sc: &Scene) -> R {
    let ebc = &sc.other.ebc;
    // The worker has the next parcel of that enterprise open, ready to receive, before the
    // rating is recorded.
    let p = &sc.other;
    floor.go("#/").await?;
    floor.find("[data-testid=tile-declared]").await?;
    floor.scan(&p.waybill).await?;
    floor.hash_is(&format!("#/r/{}", p.id)).await?;
    floor.find("#receive").await?;
    admin.sign_in("admin", "demo-admin-2026").await?;
    admin.hash_is("#/dashboard").await?;
    admin.go("#/admin/enterprises").await?;
    admin
        .find(&format!("[data-testid=\"enterprise-{ebc}\"]"))
        .await?;
    admin.shots("19-enterprises").await?;
    admin.go(&format!("#/admin/enterprises/{ebc}")).await?;
    admin.find("#rating-form").await?;
    admin
        .find("#rating")
        .await?
        .select_by_value("dishonest")
        .await
        .ctx("choose 失信")?;
    admin
        .fill("#rating-reference", "重庆海关失信认定〔2026〕99号")
        .await?;
    admin.click("#rating-save").await?;
    admin
        .find("dialog[open] [data-testid=rating-effect]")
        .await?;
    admin.shots("20-rating-effect").await?;
    admin.click("dialog[open] [data-action=dialog-ok]").await?;
    admin.message("ok", "").await?;
    admin.find("h1 .badge[data-rating=dishonest]").await?;
    admin.shots("21-enterprise-rated").await?;
    admin.go("#/admin/warehouses").await?;
    admin
        .find(&format!("[data-testid=\"warehouse-{}\"]", sc.warehouse))
        .await?;
    admin.shots("22-warehouses").await?;
    admin
        .go(&format!("#/admin/warehouses/{}", sc.warehouse))
        .await?;
    admin.find("[data-area=restock]").await?;
    admin.shots("23-warehouse").await?;
    // Printing: the A4 sheet of an area (every page the server has), and one bin label.
    let pages_loaded = "(f => f && f.contentDocument && f.contentDocument.images.length > 0 && [...f.contentDocument.images].every(i => i.complete && i.naturalWidth > 0) && f.contentDocument.images.length)(document.getElementById('print-frame'))";
    admin
        .click("[data-action=print-sheet][data-area=restock]")
        .await?;
    let pages = admin
        .until("the bin sheet ready to print", pages_loaded)
        .await?;
    let src = admin
        .js(
            "return document.getElementById('print-frame').contentDocument.images[0].src",
            vec![],
        )
        .await?;
    ensure!(
        s(&src).contains("page=1") && s(&src).contains("area=restock"),
        "the sheet's first page: {src}"
    );
    ensure!(pages.as_i64().unwrap_or(0) >= 1, "pages: {pages}");
    admin
        .click("[data-area=restock] [data-action=print-bin]")
        .await?;
    admin
        .until(
            "one bin label ready to print",
            "(f => f && f.contentDocument.images.length === 1 && f.contentDocument.images[0].complete && f.contentDocument.images[0].naturalWidth > 0 && f.contentDocument.images[0].src.includes('size=60x40'))(document.getElementById('print-frame'))",
        )
        .await?;
    admin.go("#/admin/users").await?;
    admin.find("#user-username").await?;
    // floor.gy forgot the password: the admin sets a new one; then floor.gy leaves and is
    // deactivated. Both end the sessions floor.gy had.
    let row = "[data-testid=\"user-floor.gy\"]";
    let gy = Api::sign_in(&api.base, "floor.gy", "demo-floor-2026").await?;
    admin
        .click(&format!("{row} [data-action=reset-password]"))
        .await?;
    admin.find("dialog[open] input[type=password]").await?;
    admin
        .fill("dialog[open] #dialog-input", "gy-new-password-2026")
        .await?;
    admin.click("dialog[open] [data-action=dialog-ok]").await?;
    admin.message("ok", "floor.gy").await?;
    ensure!(
        gy.status("/me").await? == 401,
        "floor.gy's session outlived the password"
    );
    let gy = Api::sign_in(&api.base, "floor.gy", "gy-new-password-2026").await?;
    admin
        .click(&format!("{row} [data-action=deactivate]"))
        .await?;
    admin.find("dialog[open]").await?;
    admin.shots("24b-deactivate").await?;
    admin.click("dialog[open] [data-action=dialog-ok]").await?;
    admin.find(&format!("{row} [data-active=false]")).await?;
    ensure!(
        gy.status("/me").await? == 401,
        "a deactivated user's session still works"
    );
    admin.shots("24-users").await?;

    // Rated while the page was open: "receive" is refused, and said in Chinese, naming the
    // enterprise, its rating and the document (from the problem's `excluded` member).
    floor.record_feedback().await?;
    let before = floor
        .js(
            "return document.getElementById('message').dataset.at",
            vec![],
        )
        .await?;
    floor.click("#receive").await?;
    floor
        .until(
            "the refusal",
            &format!("document.getElementById('message').dataset.at !== {before}"),
        )
        .await?;
    let text = floor.message("error", EXCLUDED_SENTENCE).await?;
    for said in [
        "电商企业",
        "失信企业",
        "重庆海关失信认定〔2026〕99号",
        "不能参与退货作业",
    ] {
        ensure!(
            text.contains(said),
            "the refusal does not say {said:?} in Chinese: {text}"
        );
    }
    ensure!(
        !text.contains("excluded from"),
        "the server's English detail is shown: {text}"
    );
    let felt = floor.feedback().await?;
    ensure!(
        felt.iter().any(|f| f == "vibrate:600"),
        "the refusal is felt: {felt:?}"
    );
    // The page is drawn again without "receive".
    floor.find(".actions [data-action=home]").await?;
    floor.find("[data-testid=excluded]").await?;
    floor.shots("25-refused").await?;
    // Scanned again: told at once, and "receive" is no longer offered, only the way home.
    floor.go("#/").await?;
    floor.find("[data-testid=tile-declared]").await?;
    floor.scan(&p.waybill).await?;
    floor.hash_is(&format!("#/r/{}", p.id)).await?;
    let text = floor.message("error", EXCLUDED_SENTENCE).await?;
    ensure!(
        text.contains("重庆海关失信认定〔2026〕99号"),
        "told which document: {text}"
    );
    floor.find("[data-testid=excluded]").await?;
    floor.find(".actions [data-action=home]").await?;
    let receive = floor
        .js(
            "return document.querySelectorAll('[data-action=receive]').length",
            vec![],
        )
        .await?;
    ensure!(
        receive == json!(0),
        "receive is offered for an excluded party's parcel"
    );
    floor.shots("26-excluded-at-scan").await?;
    // Refused before it was taken in: nothing changed.
    let state = api.state(&p.id).await?;
    ensure!(
        state == "declared",
        "{} was refused, yet is now {state}",
        p.id
    );
    Ok(())
}

/// Console entries that are errors, less the refusal provoked on purpose.
/// The officer's question, "who did what to parcel X, when, where, under which camera?":
/// the log searched by the waybill shows every step with its camera, its time to the second
/// and a link to its footage, in Chinese and in English.
async fn customs_review(b: &mut Browser, sc: &Scene) -> R {
    let p = &sc.main;
    b.go("#/audit").await?;
    b.fill("#audit-q", &p.waybill).await?;
    b.click("#audit-search").await?;
    for action in [
        "return.receive",
        "return.sort",
        "return.inspect",
        "return.restock",
    ] {
        b.find(&format!(
            "#audit-list li[data-action=\"{action}\"] .footage a.footage-link"
        ))
        .await?;
    }
    let checked = b
        .js(
            "const items = [...document.querySelectorAll('#audit-list li.audit-entry')];
             const steps = items.filter(li => li.querySelector('.footage'));
             return {
               others: items.filter(li => { const a = li.querySelector('.audit-where a.code'); return a && a.textContent !== arguments[0]; }).length,
               steps: steps.length,
               times: steps.every(li => /\\d{2}:\\d{2}:\\d{2} \\+08:00/.test(li.querySelector('time').textContent)),
               links: steps.every(li => /start=\\d{8}T\\d{6}Z&end=\\d{8}T\\d{6}Z/.test(li.querySelector('a.footage-link').href)),
               cameras: steps.map(li => li.querySelector('.footage').dataset.camera),
             };",
            vec![json!(p.id)],
        )
        .await?;
    ensure!(
        checked["others"] == json!(0),
        "the waybill search let in other parcels: {checked}"
    );
    ensure!(
        checked["steps"].as_i64().unwrap_or(0) >= 4,
        "steps with footage: {checked}"
    );
    ensure!(
        checked["times"] == json!(true) && checked["links"] == json!(true),
        "times and links: {checked}"
    );
    // What customs keeps: the public key and the signed head.
    let key = b
        .until(
            "the public key on the screen",
            "(() => { const k = document.getElementById('public-key'); return k && k.textContent.length === 64 && k.textContent; })()",
        )
        .await?;
    ensure!(
        s(&key).chars().all(|c| c.is_ascii_hexdigit()),
        "the public key: {key}"
    );
    // Where the push to customs stands (the demo has none configured, and says so).
    let feed = b
        .until(
            "the push's state on the screen",
            "(() => { const f = document.getElementById('feed-status'); return f && f.textContent; })()",
        )
        .await?;
    ensure!(
        s(&feed).contains("BR_CUSTOMS_FEED_URL"),
        "the audit screen does not say where the push stands: {feed}"
    );
    // Both exports of what is shown, each confirmed in words.
    b.click("#audit-export").await?;
    b.message("ok", "已导出 CSV").await?;
    b.click("#audit-export-xlsx").await?;
    b.message("ok", "已导出 Excel").await?;
    b.shots("32-audit-footage").await?;
    b.click("#lang").await?;
    b.until(
        "the log in English",
        "document.getElementById('audit-list').innerText.includes('Footage')",
    )
    .await?;
    b.shots("32-audit-footage-en").await?;
    b.click("#lang").await?;
    b.until(
        "the log in Chinese again",
        "document.getElementById('audit-list').innerText.includes('录像')",
    )
    .await?;
    Ok(())
}

/// Switches `b` to English and saves each of `screens` (named `en-…`), with the checks every
/// screenshot makes (labels, tap targets, no sideways scrolling on a handheld).
async fn other_language(b: &mut Browser, screens: &[&str], switch_back_label: &str) -> R {
    b.go(screens[0]).await?;
    let lang = s(&b.js("return document.documentElement.lang", vec![]).await?);
    if lang != "en" {
        b.click("#lang").await?;
        b.until(
            "the page in English",
            "document.documentElement.lang === 'en'",
        )
        .await?;
    }
    for screen in screens {
        b.go(screen).await?;
        b.until(
            "the screen drawn",
            "document.querySelector('#view') && !document.querySelector('#view .loading') && document.querySelector('#view').innerText.trim().length > 0",
        )
        .await?;
        let text = s(&b
            .js("return document.getElementById('view').innerText", vec![])
            .await?);
        // Nothing left in Chinese but names and what people typed: no untranslated labels.
        let lang_button = s(&b
            .js("return document.getElementById('lang').textContent", vec![])
            .await?);
        ensure!(
            lang_button.contains(switch_back_label),
            "{screen}: the language switch reads {lang_button}"
        );
        ensure!(
            !text.contains("undefined") && !text.contains("[object"),
            "{screen}: {text}"
        );
        let name = screen.trim_start_matches("#/").replace('/', "-");
        let name = if name.is_empty() {
            "home".to_string()
        } else {
            name
        };
        b.shots(&format!("en-{}-{name}", b.who)).await?;
    }
    Ok(())
}

/// An admin makes a customs token (the password asked again, the token shown once), sees that
/// signing out does not end it, revokes it; then lets in a user whose sign-ins were slowed down.
async fn tokens_and_throttles(admin: &mut Browser, base: &str) -> R {
    admin.go("#/tokens").await?;
    admin.find("#token-form").await?;
    let intro = admin
        .js(
            "return document.getElementById('tokens-intro').textContent",
            vec![],
        )
        .await?;
    if !s(&intro).contains("退出登录不会使令牌失效") {
        return Err(format!(
            "the tokens screen does not say that signing out keeps tokens: {intro}"
        ));
    }
    admin.fill("#token-name", "海关数据联网").await?;
    admin
        .find("#token-scope")
        .await?
        .select_by_value("customs")
        .await
        .ctx("choose the customs scope")?;
    admin.fill("#token-password", "demo-admin-2026").await?;
    admin.click("#token-create").await?;
    let token = admin
        .until(
            "the new token shown once",
            "(() => { const v = document.getElementById('token-value'); return v && v.value.length === 64 && v.value; })()",
        )
        .await?;
    admin.find("[data-scope=customs]").await?;
    admin.shots("30-tokens").await?;
    // The token works for customs' reads.
    let client = reqwest::Client::new();
    let audit = client
        .get(format!("{base}/api/v1/audit/verify"))
        .bearer_auth(s(&token))
        .send()
        .await
        .ctx("read with the token")?;
    if audit.status().as_u16() != 200 {
        return Err(format!(
            "the customs token could not read the audit log: {}",
            audit.status()
        ));
    }
    // Drawn again, the token is no longer shown; revoking asks first.
    admin.go("#/admin/users").await?;
    admin.go("#/tokens").await?;
    admin.find("[data-action=revoke-token]").await?;
    if admin
        .js("return !!document.getElementById('token-value')", vec![])
        .await?
        != Value::Bool(false)
    {
        return Err("the token is shown again".into());
    }
    admin.click("[data-action=revoke-token]").await?;
    admin.click("[data-action=dialog-ok]").await?;
    admin
        .until(
            "the token gone from the list",
            "!document.querySelector('[data-action=revoke-token]')",
        )
        .await?;
    let after = client
        .get(format!("{base}/api/v1/audit/verify"))
        .bearer_auth(s(&token))
        .send()
        .await
        .ctx("read with the revoked token")?;
    if after.status().as_u16() != 401 {
        return Err(format!("a revoked token still works: {}", after.status()));
    }
    // An admin's mistakes are said in Chinese: an id in use, and a code that breaks the rule.
    admin.go("#/admin/enterprises").await?;
    admin.fill("#enterprise-code", "5001960EBP").await?;
    admin.fill("#enterprise-name", "重复的企业").await?;
    admin.click("#enterprise-form input[name=kinds]").await?;
    admin.click("#enterprise-create").await?;
    let said = admin.message("error", "已经存在").await?;
    ensure!(
        said.contains("企业 5001960EBP 已经存在")
            && !said.contains("already")
            && !said.contains("修改"),
        "a duplicate enterprise is not said plainly in Chinese: {said}"
    );
    admin.go("#/admin/warehouses/XY01").await?;
    admin.fill("#bin-code", "坏 码").await?;
    admin.click("#bin-create").await?;
    admin.message("error", "填写的内容有误").await?;
    let field = admin
        .until(
            "the bin code's error under the field",
            "(() => { const e = document.querySelector('#bin-form .field-error'); return e && e.textContent.trim() && e.textContent; })()",
        )
        .await?;
    ensure!(
        s(&field).contains("只能用字母、数字") && !s(&field).contains("use 1"),
        "the bin code's rule is not said in Chinese: {field}"
    );
    // A worker mistyped: the admin sees the throttle and lets them in.
    for n in 0..3 {
        client
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "floor.gy", "password": format!("typo-{n}")}))
            .send()
            .await
            .ctx("a wrong sign-in")?;
    }
    admin.go("#/admin/users").await?;
    admin.find("[data-testid=\"throttle-floor.gy\"]").await?;
    admin
        .js(
            "document.getElementById('throttles').scrollIntoView(); return true;",
            vec![],
        )
        .await?;
    admin.shots("31-users-throttle").await?;
    admin
        .click("[data-testid=\"throttle-floor.gy\"] [data-action=clear-throttle]")
        .await?;
    admin
        .until(
            "the throttle cleared",
            "!document.querySelector('[data-testid=\"throttle-floor.gy\"]')",
        )
        .await?;
    Ok(())
}

fn console_errors(entries: &[Value], refused_receive: &str, foreign_waybill: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|e| s(&e["level"]) == "SEVERE")
        .map(|e| s(&e["message"]))
        .filter(|m| !(m.contains(refused_receive) && m.contains("status of 403")))
        // The unknown code scanned on purpose: the browser logs the resolver's 404 itself.
        .filter(|m| {
            !(m.contains(&format!("/api/v1/scan/{UNKNOWN_CODE}")) && m.contains("status of 404"))
        })
        // The admin's mistakes made on purpose: an enterprise code in use, a bin code that
        // breaks the rule.
        .filter(|m| !(m.ends_with("/api/v1/enterprises - Failed to load resource: the server responded with a status of 409 (Conflict)")))
        .filter(|m| !(m.contains("/api/v1/warehouses/XY01/bins - ") && m.contains("status of 400")))
        // The other warehouse's parcel scanned on purpose: not found here, as it must be.
        .filter(|m| {
            foreign_waybill.is_empty()
                || !(m.contains(&format!("/api/v1/scan/{foreign_waybill}"))
                    && m.contains("status of 404"))
        })
        .collect()
}

#[tokio::test]
async fn the_ui_in_a_real_browser() {
    let Some(mut site) = Site::start("ui.db") else {
        return;
    };
    let started = Instant::now();
    let world = &site.world;

    let mut browsers: Vec<Browser> = Vec::new();
    let mut refused = String::new();
    let mut foreign = String::new();
    let outcome = tokio::time::timeout(Duration::from_secs(360), async {
        let floor_api = Api::sign_in(&world.base, "floor.xy", "demo-floor-2026").await?;
        let sup_api = Api::sign_in(&world.base, "supervisor", "demo-supervisor-2026").await?;
        let sc = scene(&floor_api, &sup_api).await?;
        refused = format!("/api/v1/returns/{}/receive", sc.other.id);
        foreign = sc.foreign_waybill.clone();

        browsers.push(world.browser("floor", HANDHELD).await?);
        floor_flow(&mut browsers[0], &floor_api, &sc).await?;
        damaged_walk(&mut browsers[0], &floor_api, &sc).await?;
        awaiting_approval(&mut browsers[0], &floor_api, &sc).await?;
        short_walk(&mut browsers[0], &floor_api, &sc).await?;
        browsers[0].collect_console().await?;

        browsers.push(world.browser("supervisor", DESK).await?);
        supervisor_audit(&mut browsers[1], &sup_api, &sc).await?;
        customs_review(&mut browsers[1], &sc).await?;
        browsers[1].collect_console().await?;

        offline_sort(&mut browsers[0], &sup_api, &sc).await?;
        inspect_used_and_dispose(&mut browsers[0], &sup_api, &sc).await?;
        browsers[0].collect_console().await?;

        browsers.push(world.browser("admin", DESK).await?);
        let (floor, rest) = browsers.split_at_mut(1);
        rating_refusal(&mut rest[1], &mut floor[0], &sup_api, &sc).await?;
        tokens_and_throttles(&mut rest[1], &world.base).await?;
        // Every screen once more in the other language (the walk above is mostly in Chinese).
        other_language(
            &mut floor[0],
            &["#/", "#/list", "#/restock", "#/pending"],
            "中文",
        )
        .await?;
        other_language(
            &mut rest[0],
            &[
                "#/dashboard",
                "#/returns",
                "#/approvals",
                "#/audit",
                "#/exports",
                "#/tokens",
            ],
            "中文",
        )
        .await?;
        other_language(
            &mut rest[1],
            &[
                "#/admin/enterprises",
                "#/admin/warehouses",
                "#/admin/warehouses/XY01",
                "#/admin/users",
            ],
            "中文",
        )
        .await?;
        Ok::<(), String>(())
    })
    .await
    .unwrap_or_else(|_| Err("the browser scenarios took more than 6 minutes".into()));

    let mut console = Vec::new();
    for b in browsers {
        let who = b.who;
        for e in b.close().await {
            console.push((who, e));
        }
    }
    site.stop();

    for (who, e) in &console {
        if s(&e["level"]) == "WARNING" {
            println!("console warning ({who}): {}", s(&e["message"]));
        }
    }
    if let Err(e) = outcome {
        let tail = site.server.log_tail(30);
        let errors: Vec<String> = console
            .iter()
            .map(|(who, e)| format!("{who}: {e}"))
            .collect();
        panic!(
            "{e}\n--- console ---\n{}\n--- server log (last lines) ---\n{tail}",
            errors.join("\n")
        );
    }
    let entries: Vec<Value> = console.iter().map(|(_, e)| e.clone()).collect();
    let errors = console_errors(&entries, &refused, &foreign);
    assert!(
        errors.is_empty(),
        "console errors in the browser:\n{}",
        errors.join("\n")
    );
    println!(
        "browser scenarios passed in {:.1}s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        site.world.shots.display()
    );
}

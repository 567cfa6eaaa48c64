//! Labels straight to the printer: printers registered per warehouse, the server sending the
//! ZPL itself over raw TCP, queued, retried and recorded. The printer is a real TCP listener
//! on loopback that reads what it is sent (or refuses it, or is not there at all).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use bonded_returns::printing::{self, send::Timeouts, Options, Worker};

use crate::flowkit::*;
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// The printer on loopback.

/// What a fake printer does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reads the label to the end (as raw 9100 does), then closes.
    Accept,
    /// Takes the connection and resets it at once (busy, jammed, in an error state).
    Refuse,
}

/// A printer listening on 127.0.0.1: every label it read, and how many connections it had.
struct Printer {
    port: u16,
    labels: Arc<Mutex<Vec<Vec<u8>>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Printer {
    /// Listens on `port` (0: any free one).
    fn start(port: u16, mode: Mode) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the printer's port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("its port").port();
        let labels = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, c, s) = (labels.clone(), connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        match mode {
                            Mode::Accept => {
                                if let Some(label) = read_label(stream) {
                                    l.lock().unwrap().push(label);
                                }
                            }
                            Mode::Refuse => reset(stream),
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            labels,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn labels(&self) -> Vec<Vec<u8>> {
        self.labels.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_label(mut stream: TcpStream) -> Option<Vec<u8>> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let mut label = Vec::new();
    stream.read_to_end(&mut label).ok()?;
    Some(label)
}

/// Closes with a reset (SO_LINGER 0), without reading anything.
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: SO_LINGER takes a `linger` of the size given; the descriptor is the stream's.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

/// A loopback port with nothing listening on it (for now).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its port").port()
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn options(attempts: u32) -> Options {
    Options {
        attempts,
        timeouts: Timeouts {
            connect: Duration::from_secs(3),
            write: Duration::from_secs(5),
        },
    }
}

/// The printing worker of the test app (as `serve` starts it).
fn worker(app: &TestApp, attempts: u32) -> Worker {
    printing::start(app.pool.clone(), app.writer.clone(), options(attempts))
        .expect("the printing worker starts")
}

/// Waits (up to a minute) until `f` gives something.
#[track_caller]
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited a minute for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn register(app: &TestApp, admin: &Client, code: &str, address: &str, size: &str, dpi: u32) {
    app.post_json(
        admin,
        "/api/v1/warehouses/WH-A/printers",
        &json!({"code": code, "name": "收货台打印机", "address": address, "dpi": dpi, "size": size, "area": "receiving"}),
    )
    .assert_status(201);
}

#[track_caller]
fn job(app: &TestApp, client: &Client, id: i64) -> Value {
    let r = app.get(client, &format!("/api/v1/print-jobs/{id}"));
    r.assert_status(200);
    r.json.clone()
}

/// The queue of warehouse A as its floor staff see it: jobs still to print.
#[track_caller]
fn queue(app: &TestApp, client: &Client) -> Vec<Value> {
    let r = app.get(client, "/api/v1/print-jobs?state=open");
    r.assert_status(200);
    r.json["items"].as_array().cloned().unwrap_or_default()
}

/// The bytes a label endpoint serves.
#[track_caller]
fn served(app: &TestApp, client: &Client, path: &str) -> Vec<u8> {
    let resp = client
        .get(app.url(path))
        .send()
        .expect("the label endpoint answers");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.bytes().expect("the label").to_vec()
}

fn receive_body(k: &Kit, printer: Option<&str>) -> Value {
    let mut body = json!({"warehouse": k.seed.a.warehouse, "camera": k.seed.a.camera});
    if let Some(p) = printer {
        body["printer"] = json!(p);
    }
    body
}

/// Receives `id` at A's dock, naming `printer`, with an Idempotency-Key.
fn receive_keyed(k: &Kit, id: &str, printer: Option<&str>, key: &str) -> Reply {
    k.app.send(
        k.floor_a
            .post(k.app.url(&format!("/api/v1/returns/{id}/receive")))
            .header("Idempotency-Key", key)
            .json(&receive_body(k, printer)),
    )
}

fn state_of(j: &Value) -> &str {
    j["state"].as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Printers.

both! {
    fn an_admin_registers_changes_and_removes_printers_each_change_in_the_audit_log(app: &TestApp) {
        let k = Kit::new(app);
        let r = app.post_json(&k.admin, "/api/v1/warehouses/wh-a/printers", &json!({
            "code": "prn-dock-1", "name": "收货台打印机", "address": " 192.168.1.50 ", "area": "receiving",
        }));
        r.assert_status(201);
        assert_eq!(r.json["code"], "PRN-DOCK-1");
        assert_eq!(r.json["warehouse"], "WH-A");
        assert_eq!(r.json["address"], "192.168.1.50:9100", "the raw port by default");
        assert_eq!((r.json["dpi"].as_i64(), r.json["size"].as_str()), (Some(203), Some("100x150")));
        assert_eq!(r.json["enabled"], true);

        // The same code again says what exists.
        let again = app.post_json(&k.admin, "/api/v1/warehouses/WH-A/printers", &json!({
            "code": "PRN-DOCK-1", "name": "另一台", "address": "192.168.1.51", "area": "receiving",
        }));
        again.assert_problem(409, "conflict");
        assert_eq!(again.json["exists"], json!({"kind": "printer", "id": "WH-A/PRN-DOCK-1"}));

        // Every mistake at once, each with the rule it broke; nothing is made.
        let head = app.head();
        let bad = app.post_json(&k.admin, "/api/v1/warehouses/WH-A/printers", &json!({
            "code": "PRN 2", "name": "", "address": "http://printer:9100", "dpi": 150, "size": "a4", "area": "dock",
        }));
        bad.assert_problem(400, "validation");
        let rules: Vec<(String, String)> = bad.json["errors"].as_array().unwrap().iter()
            .map(|e| (e["field"].as_str().unwrap().to_string(), e["rule"].as_str().unwrap_or("").to_string()))
            .collect();
        for (field, rule) in [("code", "code"), ("name", "required"), ("address", "printer_address"), ("dpi", "one_of"), ("size", "one_of"), ("area", "one_of")] {
            assert!(rules.contains(&(field.to_string(), rule.to_string())), "{field} {rule}: {rules:?}");
        }
        let dpi = bad.json["errors"].as_array().unwrap().iter().find(|e| e["field"] == "dpi").unwrap();
        assert_eq!(dpi["allowed"], json!(["203", "300", "600"]));
        for address in ["printer:0", "printer:70000", "打印机", "a b", "[::1"] {
            let r = app.post_json(&k.admin, "/api/v1/warehouses/WH-A/printers", &json!({
                "code": "PRN-X", "name": "x", "address": address, "area": "receiving",
            }));
            r.assert_problem(400, "validation");
        }
        // Not admins; not a warehouse that does not exist.
        for client in [&k.floor_a, &k.sup] {
            app.post_json(client, "/api/v1/warehouses/WH-A/printers", &json!({
                "code": "PRN-X", "name": "x", "address": "10.0.0.9", "area": "receiving",
            })).assert_problem(403, "forbidden");
        }
        app.post_json(&k.admin, "/api/v1/warehouses/WH-Z/printers", &json!({
            "code": "PRN-X", "name": "x", "address": "10.0.0.9", "area": "receiving",
        })).assert_problem(404, "not_found");
        assert_eq!(app.head(), head, "refusals leave no trace");
        assert_eq!(app.count("printers"), 1);

        // Floor staff list their own warehouse's printers (to choose one), not another's.
        let mine = app.get(&k.floor_a, "/api/v1/warehouses/WH-A/printers");
        mine.assert_status(200);
        assert_eq!(mine.json["items"][0]["code"], "PRN-DOCK-1");
        app.get(&k.floor_b, "/api/v1/warehouses/WH-A/printers").assert_problem(404, "not_found");

        // A change: only what is given.
        let changed = app.patch_json(&k.admin, "/api/v1/warehouses/WH-A/printers/prn-dock-1", &json!({
            "address": "zt410-dock.local:6101", "dpi": 300, "size": "60×40", "enabled": false,
        }));
        changed.assert_status(200);
        assert_eq!(changed.json["address"], "zt410-dock.local:6101");
        assert_eq!((changed.json["dpi"].as_i64(), changed.json["size"].as_str()), (Some(300), Some("60x40")));
        assert_eq!((changed.json["enabled"].as_bool(), changed.json["name"].as_str()), (Some(false), Some("收货台打印机")));
        app.patch_json(&k.floor_a, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-1", &json!({"enabled": true}))
            .assert_problem(403, "forbidden");
        app.patch_json(&k.admin, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-1", &json!({"dpi": 100}))
            .assert_problem(400, "validation");
        app.patch_json(&k.admin, "/api/v1/warehouses/WH-A/printers/NONE", &json!({"enabled": true}))
            .assert_problem(404, "not_found");

        app.delete(&k.floor_a, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-1").assert_problem(403, "forbidden");
        app.delete(&k.admin, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-1").assert_status(204);
        app.delete(&k.admin, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-1").assert_problem(404, "not_found");
        assert_eq!(app.get(&k.admin, "/api/v1/warehouses/WH-A/printers").json["items"], json!([]));

        // The audit log tells who did what to which printer.
        let entries = app.audit_entries(&k.admin, "&entity=WH-A/PRN-DOCK-1");
        let actions: Vec<&str> = entries.iter().rev().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["printer.create", "printer.update", "printer.delete"]);
        let update = &entries[1];
        assert_eq!(update["actor"], ADMIN);
        assert_eq!(update["warehouse"], "WH-A");
        let changes = update["changes"].to_string();
        for s in ["zt410-dock.local:6101", "300", "60x40", "enabled"] {
            assert!(changes.contains(s), "{s} in {changes}");
        }
        assert!(!changes.contains("name"), "only what changed: {changes}");
        assert!(app.verify(None).ok);
    }
}

// ---------------------------------------------------------------------------------------------
// On receive.

both! {
    fn a_receive_naming_a_printer_sends_exactly_the_label_the_zpl_endpoint_serves_once(app: &TestApp) {
        let k = Kit::new(app);
        let printer = Printer::start(0, Mode::Accept);
        register(app, &k.admin, "PRN-DOCK-1", &printer.address(), "60x40", 300);
        let _worker = worker(app, 5);
        let (_, id) = k.whole_return();

        let r = receive_keyed(&k, &id, Some("prn-dock-1"), "receive-with-label-1");
        r.assert_status(200);
        assert_eq!(r.json["state"], "received");
        let pj = &r.json["print_job"];
        assert_eq!((pj["printer"].as_str(), pj["label"].as_str(), pj["label_id"].as_str()), (Some("PRN-DOCK-1"), Some("return"), Some(id.as_str())));
        assert_eq!((pj["origin"].as_str(), pj["requested_by"].is_string()), (Some("receive"), true));
        let job_id = pj["id"].as_i64().expect("a job id");

        let sent = wait_for("the label to be sent", || {
            let j = job(app, &k.floor_a, job_id);
            (state_of(&j) == "sent").then_some(j)
        });
        assert_eq!((sent["attempts"].as_i64(), sent["size"].as_str(), sent["dpi"].as_i64()), (Some(1), Some("60x40"), Some(300)));
        assert!(sent["error"].is_null() && sent["sent_at"].is_string(), "{sent}");
        let expected = served(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.zpl?size=60x40&dpi=300"));
        assert!(expected.starts_with(b"^XA") || expected.windows(3).any(|w| w == b"^XA"), "a ZPL label");
        assert_eq!(printer.labels(), vec![expected], "exactly the endpoint's label, once");

        // The same keyed receive again (the outbox resending it): the first answer, no new job.
        let again = receive_keyed(&k, &id, Some("prn-dock-1"), "receive-with-label-1");
        again.assert_status(200);
        assert_eq!(again.json["print_job"]["id"].as_i64(), Some(job_id));
        assert_eq!(app.count("print_jobs"), 1);
        // Without a key it is simply no longer possible.
        k.step(&k.floor_a, &id, "receive", &receive_body(&k, Some("PRN-DOCK-1"))).assert_problem(409, "invalid_state");
        assert_eq!(app.count("print_jobs"), 1);
        wait_for("the worker to have nothing left", || queue(app, &k.floor_a).is_empty().then_some(()));
        assert_eq!(printer.connections(), 1, "nothing was sent again");

        // A receive without a printer queues nothing (the browser prints).
        let (_, other) = k.whole_return();
        let plain = k.receive(&other);
        plain.assert_status(200);
        assert!(plain.json.get("print_job").is_none(), "{}", plain.text);
        assert_eq!(app.count("print_jobs"), 1);
        assert!(app.verify(None).ok);
    }

    fn a_label_is_retried_while_the_printer_is_down_then_refusing_and_arrives_once_when_it_takes_it(app: &TestApp) {
        let k = Kit::new(app);
        let port = free_port();
        register(app, &k.admin, "PRN-DOCK-1", &format!("127.0.0.1:{port}"), "100x150", 203);
        let _worker = worker(app, 10);
        let (_, id) = k.whole_return();
        let r = receive_keyed(&k, &id, Some("PRN-DOCK-1"), "receive-down-1");
        r.assert_status(200);
        let job_id = r.json["print_job"]["id"].as_i64().expect("a job");

        // Down: nothing listens. The job waits for its next try, in the queue, saying why.
        let down = wait_for("a refused try", || {
            let j = job(app, &k.floor_a, job_id);
            (j["error"] == "refused").then_some(j)
        });
        assert_eq!(state_of(&down), "queued", "{down}");
        assert!(down["next_try_at"].is_string(), "{down}");
        let waiting = queue(app, &k.floor_a);
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0]["id"].as_i64(), Some(job_id));

        // Refusing: it takes the connection and resets it.
        let refusing = Printer::start(port, Mode::Refuse);
        let reset = wait_for("a reset try", || {
            let j = job(app, &k.floor_a, job_id);
            (j["error"] == "reset").then_some(j)
        });
        assert!(refusing.connections() >= 1);
        assert_eq!(state_of(&reset), "queued", "{reset}");
        assert!(reset["attempts"].as_i64().unwrap() >= 2, "{reset}");
        assert_eq!(queue(app, &k.floor_a).len(), 1, "still in the queue");
        drop(refusing);

        // Accepting: the label arrives, once.
        let printer = Printer::start(port, Mode::Accept);
        let sent = wait_for("the label to be sent", || {
            let j = job(app, &k.floor_a, job_id);
            (state_of(&j) == "sent").then_some(j)
        });
        assert!(sent["error"].is_null(), "{sent}");
        let expected = served(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.zpl?size=100x150&dpi=203"));
        assert_eq!(printer.labels(), vec![expected]);
        assert!(queue(app, &k.floor_a).is_empty(), "the queue is empty again");
        assert_eq!(printer.connections(), 1);
        assert_eq!(app.count("print_jobs"), 1);
    }

    fn a_label_that_keeps_failing_waits_for_a_person_and_one_reprint_sends_it(app: &TestApp) {
        let k = Kit::new(app);
        let port = free_port();
        register(app, &k.admin, "PRN-DOCK-1", &format!("127.0.0.1:{port}"), "100x150", 203);
        let _worker = worker(app, 2);
        let (_, id) = k.whole_return();
        let r = receive_keyed(&k, &id, Some("PRN-DOCK-1"), "receive-fails-1");
        r.assert_status(200);
        let job_id = r.json["print_job"]["id"].as_i64().expect("a job");
        let failed = wait_for("the label to wait for a person", || {
            let j = job(app, &k.floor_a, job_id);
            (state_of(&j) == "failed").then_some(j)
        });
        assert_eq!((failed["attempts"].as_i64(), failed["error"].as_str()), (Some(2), Some("refused")));
        assert!(failed["next_try_at"].is_null());
        assert_eq!(queue(app, &k.floor_a).len(), 1, "in the queue until a person acts");

        // Only floor staff of the warehouse (and admins) reprint; others do not see it.
        let path = format!("/api/v1/print-jobs/{job_id}/retry");
        app.get(&k.floor_b, &format!("/api/v1/print-jobs/{job_id}")).assert_problem(404, "not_found");
        app.post_json(&k.floor_b, &path, &json!({})).assert_problem(404, "not_found");
        app.post_json(&k.sup, &path, &json!({})).assert_problem(403, "forbidden");
        assert!(app.get(&k.floor_b, "/api/v1/print-jobs?state=open").json["items"].as_array().unwrap().is_empty());
        app.post_json(&k.floor_a, &path, &json!({"printer": "NO-SUCH"})).assert_problem(404, "not_found");
        // Supervisors read the record.
        assert_eq!(app.get(&k.sup, &format!("/api/v1/print-jobs?warehouse=WH-A&label_id={id}")).json["items"][0]["id"].as_i64(), Some(job_id));

        let printer = Printer::start(port, Mode::Accept);
        let again = app.post_json(&k.floor_a, &path, &json!({}));
        again.assert_status(200);
        assert_eq!(state_of(&again.json), "queued");
        assert!(again.json["retried_by"].is_string() && again.json["retried_at"].is_string());
        assert!(again.json["error"].is_null(), "a new round of tries: {}", again.text);
        let sent = wait_for("the reprint to be sent", || {
            let j = job(app, &k.floor_a, job_id);
            (state_of(&j) == "sent").then_some(j)
        });
        assert_eq!(sent["attempts"].as_i64(), Some(3));
        let expected = served(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.zpl?size=100x150&dpi=203"));
        assert_eq!(printer.labels(), vec![expected]);
        assert!(queue(app, &k.floor_a).is_empty());
        // A sent label is printed again by a new request, not by reprinting its record.
        app.post_json(&k.floor_a, &path, &json!({})).assert_problem(409, "invalid_state");
        app.post_json(&k.floor_a, &format!("/api/v1/print-jobs/{job_id}/cancel"), &json!({})).assert_problem(409, "invalid_state");
    }

    fn a_printer_out_of_service_or_removed_leaves_the_label_waiting_for_a_person_and_the_receive_done(app: &TestApp) {
        let k = Kit::new(app);
        let printer = Printer::start(0, Mode::Accept);
        register(app, &k.admin, "PRN-DOCK-1", &printer.address(), "100x150", 203);
        register(app, &k.admin, "PRN-DOCK-2", &printer.address(), "100x150", 203);
        app.patch_json(&k.admin, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-1", &json!({"enabled": false})).assert_status(200);
        let _worker = worker(app, 5);

        // Out of service: the parcel is received, its label waits for a person, saying why.
        let (_, a) = k.whole_return();
        let r = receive_keyed(&k, &a, Some("PRN-DOCK-1"), "receive-disabled");
        r.assert_status(200);
        assert_eq!((state_of(&r.json["print_job"]), r.json["print_job"]["error"].as_str()), ("failed", Some("printer_disabled")));
        // Removed since the handheld chose it (a receive queued offline, say): the same.
        let (_, b) = k.whole_return();
        let r = receive_keyed(&k, &b, Some("PRN-GONE"), "receive-removed");
        r.assert_status(200);
        assert_eq!((state_of(&r.json["print_job"]), r.json["print_job"]["error"].as_str()), ("failed", Some("printer_removed")));
        let jb = r.json["print_job"]["id"].as_i64().unwrap();
        // A printer code that cannot be one is a mistake of the request: nothing is received.
        let (_, c) = k.whole_return();
        k.step(&k.floor_a, &c, "receive", &receive_body(&k, Some("PRN 1"))).assert_problem(400, "validation");
        assert_eq!(k.state(&c), "declared");
        assert_eq!(queue(app, &k.floor_a).len(), 2);

        // Reprinted on the other printer: it arrives there.
        let ja = app.get(&k.floor_a, &format!("/api/v1/print-jobs?label_id={a}")).json["items"][0]["id"].as_i64().unwrap();
        app.post_json(&k.floor_a, &format!("/api/v1/print-jobs/{ja}/retry"), &json!({"printer": "PRN-DOCK-1"})).assert_problem(409, "conflict");
        let moved = app.post_json(&k.floor_a, &format!("/api/v1/print-jobs/{ja}/retry"), &json!({"printer": "prn-dock-2"}));
        moved.assert_status(200);
        assert_eq!(moved.json["printer"], "PRN-DOCK-2");
        wait_for("the label on the other printer", || (state_of(&job(app, &k.floor_a, ja)) == "sent").then_some(()));
        // The other one is dropped by a person: on record, out of the queue.
        let cancelled = app.post_json(&k.floor_a, &format!("/api/v1/print-jobs/{jb}/cancel"), &json!({"reason": "已用浏览器打印"}));
        cancelled.assert_status(200);
        assert_eq!((state_of(&cancelled.json), cancelled.json["note"].as_str()), ("cancelled", Some("已用浏览器打印")));
        assert!(queue(app, &k.floor_a).is_empty());
        let expected = served(app, &k.floor_a, &format!("/api/v1/labels/returns/{a}.zpl?size=100x150&dpi=203"));
        assert_eq!(printer.labels(), vec![expected]);

        // Removing a printer: its waiting labels wait for a person.
        let port = free_port();
        register(app, &k.admin, "PRN-DOCK-3", &format!("127.0.0.1:{port}"), "100x150", 203);
        let (_, d) = k.whole_return();
        let jd = receive_keyed(&k, &d, Some("PRN-DOCK-3"), "receive-then-removed").json["print_job"]["id"].as_i64().unwrap();
        wait_for("a failed try", || (job(app, &k.floor_a, jd)["error"] == "refused").then_some(()));
        app.delete(&k.admin, "/api/v1/warehouses/WH-A/printers/PRN-DOCK-3").assert_status(204);
        wait_for("the label to wait for a person", || {
            let j = job(app, &k.floor_a, jd);
            (state_of(&j) == "failed" && j["error"] == "printer_removed").then_some(())
        });
    }
}

// ---------------------------------------------------------------------------------------------
// On request.

both! {
    fn bin_item_and_return_labels_are_printed_on_request_as_their_endpoints_serve_them(app: &TestApp) {
        let k = Kit::new(app);
        let printer = Printer::start(0, Mode::Accept);
        register(app, &k.admin, "PRN-SHELF", &printer.address(), "100x150", 300);
        let _worker = worker(app, 5);
        let (_, id) = k.return_in("received");
        let bin = k.seed.a.bin("restock").to_string();
        let path = "/api/v1/warehouses/WH-A/printers/prn-shelf/jobs";

        let mut jobs = Vec::new();
        for (client, body) in [
            (&k.admin, json!({"label": "bin", "id": bin})),
            (&k.floor_a, json!({"label": "item", "id": id, "gnum": 2})),
            (&k.floor_a, json!({"label": "return", "id": id.to_lowercase()})),
        ] {
            let r = app.post_json(client, path, &body);
            r.assert_status(201);
            assert_eq!(r.json["origin"], "request");
            jobs.push(r.json["id"].as_i64().unwrap());
        }
        for j in &jobs {
            wait_for("the label to be sent", || (state_of(&job(app, &k.floor_a, *j)) == "sent").then_some(()));
        }
        let expected: Vec<Vec<u8>> = [
            format!("/api/v1/labels/bins/WH-A/{bin}.zpl?size=100x150&dpi=300"),
            format!("/api/v1/labels/items/{id}/2.zpl?size=100x150&dpi=300"),
            format!("/api/v1/labels/returns/{id}.zpl?size=100x150&dpi=300"),
        ]
        .iter()
        .map(|p| served(app, &k.floor_a, p))
        .collect();
        let mut got = printer.labels();
        let mut want = expected.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "each label once, as its endpoint serves it");

        let (_, theirs) = {
            // A return of warehouse B, received there.
            let l = k.list();
            let mut l = l;
            l.area = k.seed.b.operator.clone();
            k.declare(&l);
            let r = k.apply_as(&k.admin, &l, &[(1, 1)]);
            r.assert_status(201);
            let id = r.json["id"].as_str().unwrap().to_string();
            k.step(&k.floor_b, &id, "receive", &json!({"warehouse": "WH-B", "camera": k.seed.b.camera})).assert_status(200);
            (l, id)
        };
        // Refusals change nothing.
        let before = app.count("print_jobs");
        let head = app.head();
        app.post_json(&k.floor_a, path, &json!({"label": "box", "id": id})).assert_problem(400, "validation");
        app.post_json(&k.floor_a, path, &json!({"label": "item", "id": id})).assert_problem(400, "validation");
        app.post_json(&k.floor_a, path, &json!({"label": "item", "id": id, "gnum": 9})).assert_problem(404, "not_found");
        app.post_json(&k.floor_a, path, &json!({"label": "bin", "id": "B-RESTOCK-01"})).assert_problem(404, "not_found");
        app.post_json(&k.floor_a, "/api/v1/warehouses/WH-A/printers/NONE/jobs", &json!({"label": "bin", "id": bin})).assert_problem(404, "not_found");
        app.post_json(&k.floor_b, path, &json!({"label": "bin", "id": bin})).assert_problem(404, "not_found");
        app.post_json(&k.sup, path, &json!({"label": "bin", "id": bin})).assert_problem(403, "forbidden");
        app.post_json(&k.floor_a, path, &json!({"label": "return", "id": theirs})).assert_problem(404, "not_found");
        app.post_json(&k.admin, path, &json!({"label": "return", "id": theirs})).assert_problem(409, "conflict");
        assert_eq!(app.count("print_jobs"), before);
        assert_eq!(app.head(), head);

        // The record: who asked, which label, which printer, how it went; newest first, paged.
        let page = app.get(&k.sup, "/api/v1/print-jobs?limit=2");
        page.assert_status(200);
        assert_eq!(page.json["items"].as_array().unwrap().len(), 2);
        let next = page.json["next_cursor"].as_str().expect("a next page").to_string();
        let rest = app.get(&k.sup, &format!("/api/v1/print-jobs?limit=2&cursor={next}"));
        assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
        assert!(rest.json["next_cursor"].is_null());
        let first = &rest.json["items"][0];
        assert_eq!((first["label"].as_str(), first["requested_by"].as_str(), first["state"].as_str()), (Some("bin"), Some(ADMIN), Some("sent")));
        app.get(&k.sup, "/api/v1/print-jobs?state=printed").assert_problem(400, "validation");
        app.get(&k.sup, "/api/v1/print-jobs?limit=0").assert_problem(400, "validation");
        assert_eq!(app.get(&k.floor_b, "/api/v1/print-jobs?warehouse=WH-A").json["items"], json!([]));
    }

    fn two_nodes_sending_the_same_queue_print_each_label_once(app: &TestApp) {
        let k = Kit::new(app);
        let printer = Printer::start(0, Mode::Accept);
        register(app, &k.admin, "PRN-DOCK-1", &printer.address(), "100x150", 203);
        // A second node: its own pool and writer on the same database, and its own worker.
        let config = bonded_returns::config::Config::load(Some(&app.db.url), Some("127.0.0.1:0")).expect("settings");
        let (pool, writer) = bonded_returns::app::open(&config).expect("the second node opens the database");
        let _one = worker(app, 5);
        let _two = printing::start(pool, writer, options(5)).expect("the second node's worker");
        let mut ids = Vec::new();
        for n in 0..6 {
            let (_, id) = k.whole_return();
            receive_keyed(&k, &id, Some("PRN-DOCK-1"), &format!("two-nodes-{n}")).assert_status(200);
            ids.push(id);
        }
        wait_for("every label to be sent", || {
            let r = app.get(&k.floor_a, "/api/v1/print-jobs?state=sent");
            (r.json["items"].as_array().map(Vec::len) == Some(6)).then_some(())
        });
        let mut got = printer.labels();
        let mut want: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| served(app, &k.floor_a, &format!("/api/v1/labels/returns/{id}.zpl?size=100x150&dpi=203")))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "each label once");
        let jobs = app.get(&k.sup, "/api/v1/print-jobs").json["items"].as_array().cloned().unwrap();
        assert!(jobs.iter().all(|j| j["attempts"] == 1), "{jobs:?}");
    }
}

//! The data link with customs: the event feed a consumer pulls (in order, every entry once,
//! hashes verified as it reads, across a restart of the server) and the signed chain heads
//! that `audit verify --expect-head` checks.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::*;

/// The canonical encoding the feed documents, rebuilt here on its own.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    role: &'a str,
    action: &'a str,
    entity_kind: &'a str,
    entity_id: &'a str,
    warehouse: Option<&'a str>,
    enterprise: Option<&'a str>,
    changes: &'a str,
    reason: Option<&'a str>,
    request_id: Option<&'a str>,
    prev_hash: &'a str,
}

/// Checks an entry's hash and its link to the one before; answers its hash.
fn check_entry(e: &Value, prev: &str) -> String {
    let s = |k: &str| e[k].as_str();
    let c = Canonical {
        seq: e["seq"].as_i64().unwrap(),
        at: s("at").unwrap(),
        actor: s("actor").unwrap(),
        role: s("role").unwrap(),
        action: s("action").unwrap(),
        entity_kind: s("entity_kind").unwrap(),
        entity_id: s("entity_id").unwrap(),
        warehouse: s("warehouse"),
        enterprise: s("enterprise"),
        changes: s("changes").unwrap(),
        reason: s("reason"),
        request_id: s("request_id"),
        prev_hash: s("prev_hash").unwrap(),
    };
    let hash = hex::encode(Sha256::digest(serde_json::to_vec(&c).unwrap()));
    assert_eq!(
        e["hash"].as_str().unwrap(),
        hash,
        "entry #{} does not hash to its hash",
        c.seq
    );
    assert_eq!(
        c.prev_hash, prev,
        "entry #{} does not follow the one before",
        c.seq
    );
    hash
}

/// A `serve` of the test's database in a process of its own (killed when dropped).
struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(app: &TestApp) -> Served {
    serve_with(app, &[])
}

fn serve_with(app: &TestApp, env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(binary());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &app.db.url,
        ])
        .env_remove("DATABASE_URL")
        .env_remove("BIND")
        .env("BR_SIGNING_KEY", &app.signing_key)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(app.signing_key.with_file_name("serve.log"))
                .map(Stdio::from)
                .unwrap_or(Stdio::null()),
        )
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut served = Served(child, String::new());
    let started = Instant::now();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("serving on ").nth(1) {
            served.1 = rest.split_whitespace().next().unwrap().to_string();
            return served;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
    }
    panic!("serve ended without saying where it listens");
}

fn customs_token(app: &TestApp) -> String {
    let sup = app.create_user("supervisor", None);
    let browser = app.login(&sup.username, &sup.password);
    let r = app.post_json(
        &browser,
        "/api/v1/tokens",
        &json!({"name": "海关数据联网", "password": sup.password, "scope": "customs"}),
    );
    r.assert_status(201);
    r.json["token"].as_str().unwrap().to_string()
}

both! {
    fn a_consumer_pulling_the_feed_sees_every_entry_once_in_order_across_a_restart(app: &TestApp) {
        app.seed_parties();
        let token = customs_token(app);
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let writes = 60;
        let mut server = serve(app);
        let mut seen: Vec<Value> = Vec::new();
        let mut after = 0;
        let mut prev = "0".repeat(64);
        let server = std::thread::scope(|s| {
            // Clients write while the consumer reads.
            let writer = s.spawn(|| {
                let admin = app.admin();
                for n in 0..writes {
                    app.post_json(&admin, "/api/v1/enterprises", &json!({"code": format!("4401970{n:03}"), "name": "报关行", "kinds": ["agent"]}))
                        .assert_status(201);
                    std::thread::sleep(Duration::from_millis(15));
                }
            });
            let mut restarted = false;
            let mut polls = 0;
            loop {
                polls += 1;
                assert!(polls < 2000, "the feed never caught up");
                let page = http
                    .get(format!("{}/api/v1/feed?after={after}&limit=7&wait=2", server.1))
                    .bearer_auth(&token)
                    .send();
                let Ok(page) = page else { continue };
                assert_eq!(page.status().as_u16(), 200);
                let page: Value = page.json().unwrap();
                for e in page["items"].as_array().unwrap() {
                    assert_eq!(e["seq"].as_i64().unwrap(), after + 1, "a gap or a repeat");
                    prev = check_entry(e, &prev);
                    after = e["seq"].as_i64().unwrap();
                    seen.push(e.clone());
                }
                assert_eq!(page["next_after"].as_i64().unwrap(), after);
                // Halfway, the server the consumer reads from is killed and started again;
                // the consumer goes on from the last sequence it kept.
                if !restarted && seen.len() >= 30 {
                    drop(server);
                    server = serve(app);
                    restarted = true;
                }
                if writer.is_finished() && after == app.head().seq {
                    break;
                }
            }
            assert!(restarted);
            server
        });
        assert_eq!(seen.len() as i64, app.head().seq);
        assert_eq!(
            seen.iter()
                .filter(|e| e["action"] == "enterprise.create" && e["entity_id"].as_str().unwrap().starts_with("4401970"))
                .count(),
            writes
        );
        // The head that comes with a page is signed with the installation's key.
        let page: Value = http
            .get(format!("{}/api/v1/feed?after={after}", server.1))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(page["items"], json!([]));
        assert_eq!(page["head"]["seq"].as_i64().unwrap(), after);
        let key: Value = http.get(format!("{}/api/v1/audit/key", server.1)).bearer_auth(&token).send().unwrap().json().unwrap();
        let public: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
        let sig: [u8; 64] = hex::decode(page["head"]["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
        VerifyingKey::from_bytes(&public)
            .unwrap()
            .verify(format!("bonded-returns audit head\n{after}\n{prev}\n").as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("the head's signature verifies with the published key");
    }

    fn a_long_poll_waits_for_the_next_entry_and_no_longer(app: &TestApp) {
        let seed = app.seed_parties();
        let token = customs_token(app);
        let head = app.head().seq;
        let get = |q: &str| app.send(app.client().get(app.url(&format!("/api/v1/feed?{q}"))).bearer_auth(&token));
        // Nothing new: answered empty once the wait is over.
        let t0 = Instant::now();
        let r = get(&format!("after={head}&wait=2"));
        r.assert_status(200);
        assert_eq!(r.json["items"], json!([]));
        assert!(t0.elapsed() >= Duration::from_millis(1500), "answered before its wait: {:?}", t0.elapsed());
        // Something new meanwhile: answered with it, long before the wait is over.
        let t0 = Instant::now();
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(500));
                app.post_json(&app.admin(), "/api/v1/enterprises", &json!({"code": "4401979999", "name": "报关行", "kinds": ["agent"]}))
                    .assert_status(201);
            });
            get(&format!("after={head}&wait=30"))
        });
        r.assert_status(200);
        assert_eq!(r.json["items"][0]["seq"].as_i64().unwrap(), head + 1);
        assert!(t0.elapsed() < Duration::from_secs(20), "the long poll missed the entry: {:?}", t0.elapsed());
        for bad in ["wait=31", "limit=0", "limit=1001", "after=-1", "after=x", "since=3"] {
            get(bad).assert_problem(400, "validation");
        }
        // Floor staff do not read it; a customs token reads nothing but the audit and the feed.
        let floor = app.user_client("floor", Some(&seed.a.warehouse));
        app.get(&floor, "/api/v1/feed").assert_problem(403, "forbidden");
        app.send(app.client().get(app.url("/api/v1/returns")).bearer_auth(&token)).assert_problem(403, "forbidden");
    }

    fn a_signed_head_is_checked_by_audit_verify_and_a_forged_one_fails(app: &TestApp) {
        app.seed_parties();
        let sup = app.user_client("supervisor", None);
        let head = app.get(&sup, "/api/v1/audit/head");
        head.assert_status(200);
        let expect = head.json["expect_head"].as_str().unwrap().to_string();
        let (seq, hash, signature) = {
            let p: Vec<&str> = expect.split(':').collect();
            assert_eq!(p.len(), 3, "{expect}");
            (p[0].to_string(), p[1].to_string(), p[2].to_string())
        };
        assert_eq!(head.json["signature"], signature.as_str());
        let key = app.get(&sup, "/api/v1/audit/key");
        key.assert_status(200);
        assert_eq!(key.json["algorithm"], "Ed25519");
        let public = key.json["public_key"].as_str().unwrap().to_string();
        let key_file = app.signing_key.display().to_string();
        let verify = |expect: &str, public: Option<&str>| {
            let mut args = vec!["audit", "verify", "--database-url", &app.db.url, "--expect-head", expect];
            if let Some(p) = public {
                args.extend(["--public-key", p]);
            }
            cli_with_env(&args, None, &[("BR_SIGNING_KEY", &key_file)])
        };
        let ok = verify(&expect, Some(&public));
        assert_eq!(ok.code, Some(0), "{ok:?}");
        // Without --public-key: the installation's own key.
        assert_eq!(verify(&expect, None).code, Some(0));
        // A signature changed by one digit: refused.
        let flipped = format!("{seq}:{hash}:{}{}", if signature.starts_with('0') { '1' } else { '0' }, &signature[1..]);
        let bad = verify(&flipped, Some(&public));
        assert_eq!(bad.code, Some(1), "{bad:?}");
        assert!(bad.stdout.contains("REJECTED"), "{bad:?}");
        // A head signed by another key: refused, with that key's public key too.
        let other = SigningKey::from_bytes(&[7u8; 32]);
        let forged = hex::encode(other.sign(format!("bonded-returns audit head\n{seq}\n{hash}\n").as_bytes()).to_bytes());
        assert_eq!(verify(&format!("{seq}:{hash}:{forged}"), Some(&public)).code, Some(1));
        // A signature over another head: refused.
        let moved = format!("{}:{hash}:{signature}", seq.parse::<i64>().unwrap() - 1);
        assert_eq!(verify(&moved, Some(&public)).code, Some(1));
        // Malformed: one clear line, exit 2.
        let garbled = verify(&format!("{seq}:{hash}:xyz"), Some(&public));
        assert!(garbled.code.is_some_and(|c| c != 0 && c != 1 && c != 101), "{garbled:?}");
    }

    fn the_pushed_feed_reaches_a_failing_receiver_whole_and_in_order_across_kills(app: &TestApp) {
        use std::io::{Read, Write};
        use std::net::TcpListener;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};

        app.seed_parties();
        // The receiver: answers 500 to every third batch, lets every fifth time out, and is
        // down now and then (connections refused); it keeps what it acknowledged.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let auths: Arc<Mutex<Vec<String>>> = Arc::default();
        let (down, stop, calls) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let receiver = {
            let (received, auths, down, stop, calls) = (received.clone(), auths.clone(), down.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                let mut listener = Some(listener);
                while !stop.load(Ordering::Relaxed) {
                    if down.load(Ordering::Relaxed) {
                        listener = None;
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    let l = listener.get_or_insert_with(|| TcpListener::bind(("127.0.0.1", port)).expect("the receiver binds again"));
                    l.set_nonblocking(true).unwrap();
                    let Ok((mut sock, _)) = l.accept() else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    sock.set_nonblocking(false).unwrap();
                    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 65536];
                    let (head_end, length) = loop {
                        let Ok(n) = sock.read(&mut chunk) else { break (0, 0) };
                        if n == 0 { break (0, 0) }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                            let len = head.lines().find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))).unwrap_or(0);
                            break (i + 4, len);
                        }
                    };
                    if head_end == 0 { continue }
                    while buf.len() < head_end + length {
                        let Ok(n) = sock.read(&mut chunk) else { break };
                        if n == 0 { break }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let n = calls.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % 5 == 0 {
                        // Slower than the sender waits: a timeout, nothing acknowledged.
                        std::thread::sleep(Duration::from_millis(1600));
                        continue;
                    }
                    if n % 3 == 0 {
                        let _ = sock.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                        continue;
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    if let Some(a) = head.lines().find_map(|l| l.strip_prefix("Authorization: ").or_else(|| l.strip_prefix("authorization: "))) {
                        auths.lock().unwrap().push(a.trim().to_string());
                    }
                    let batch: Value = serde_json::from_slice(&buf[head_end..head_end + length]).expect("a JSON batch");
                    received.lock().unwrap().push(batch);
                    let _ = sock.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
                }
            })
        };
        let url = format!("http://127.0.0.1:{port}/ceb/feed");
        let env = [
            ("BR_CUSTOMS_FEED_URL", url.as_str()),
            ("BR_CUSTOMS_FEED_AUTH", "Bearer feed-secret-42"),
            ("BR_CUSTOMS_FEED_TIMEOUT_SECONDS", "1"),
        ];
        let admin = app.admin();
        let mut server = serve_with(app, &env);
        // Clients write while the server is killed (SIGKILL) at odd moments and the receiver
        // goes down and comes back.
        for round in 0..5 {
            for n in 0..8 {
                app.post_json(&admin, "/api/v1/enterprises", &json!({"code": format!("44019{round}{n:04}"), "name": "报关行", "kinds": ["agent"]}))
                    .assert_status(201);
            }
            std::thread::sleep(Duration::from_millis(300 + 370 * round as u64));
            if round % 2 == 1 {
                down.store(true, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1200));
                down.store(false, Ordering::Relaxed);
            }
            drop(server);
            server = serve_with(app, &env);
        }
        // In the end the receiver holds every entry, in order, nothing missing.
        let token = customs_token(app);
        let head = app.head().seq;
        let started = Instant::now();
        let status = loop {
            let req = app.client().get(format!("{}/api/v1/feed/status", server.1)).bearer_auth(&token);
            if let Err(e) = req.try_clone().unwrap().send() {
                let log = std::fs::read_to_string(app.signing_key.with_file_name("serve.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                panic!("the server does not answer ({e}); its log ends:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            }
            let st = app.send(req);
            let delivered = st.json["delivered_seq"].as_i64().unwrap_or(0);
            if delivered >= head && st.json["lag_entries"] == 0 {
                break st;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "the feed did not catch up: {}", st.text);
            std::thread::sleep(Duration::from_millis(300));
        };
        assert_eq!(status.json["configured"], true);
        assert_eq!(status.json["lag_seconds"], 0);
        stop.store(true, Ordering::Relaxed);
        receiver.join().unwrap();
        let batches = received.lock().unwrap().clone();
        assert!(calls.load(Ordering::Relaxed) > batches.len(), "the receiver never failed");
        let mut next = 1;
        let mut prev = "0".repeat(64);
        for b in &batches {
            let items = b["items"].as_array().unwrap();
            let first = items[0]["seq"].as_i64().unwrap();
            assert!(first <= next, "a gap: the batch starts at #{first}, #{next} was never received");
            // The head that comes with a batch is its last entry, signed.
            assert_eq!(b["head"]["seq"], items.last().unwrap()["seq"]);
            assert_eq!(b["head"]["signature"].as_str().map(str::len), Some(128));
            for e in items {
                let seq = e["seq"].as_i64().unwrap();
                if seq == next {
                    prev = check_entry(e, &prev);
                    next += 1;
                }
            }
        }
        assert_eq!(next - 1, head, "the receiver holds #1–#{} of #{head}", next - 1);
        assert!(auths.lock().unwrap().iter().all(|a| a == "Bearer feed-secret-42"));
        // `bonded-returns feed status` says the same.
        let key = app.signing_key.display().to_string();
        let cli_status = cli_with_env(
            &["feed", "status", "--database-url", &app.db.url],
            None,
            &[("BR_SIGNING_KEY", key.as_str()), ("BR_CUSTOMS_FEED_URL", url.as_str())],
        );
        assert_eq!(cli_status.code, Some(0), "{cli_status:?}");
        assert!(cli_status.stdout.contains(&format!("delivered up to #{head} of #{head}: 0 entries")), "{}", cli_status.stdout);
        drop(server);
    }
}

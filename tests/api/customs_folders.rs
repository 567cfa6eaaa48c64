//! The customs client's folders (issue 21, point 4): what arrives in the inbox (CEB621, 622,
//! 625, 626; invalid, half-written, repeated, too large) is imported once and ends in `done/`
//! or in `failed/` with its reason; each application the warehouse files is written into the
//! outbox once and whole, also when the worker was down at the commit or stopped between the
//! file and its mark; supervisors see both folders; a server SIGKILLed 20 times during inbox
//! imports imports nothing twice and loses no file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use bonded_returns::ceb_folders::{self, Folders};
use bonded_returns::customs::{self, InventoryReturn, InvtRefundReturn, Items, MessageKind};

use crate::flowkit::*;
use crate::support::*;

/// The customs client's two folders, in a temp folder of the test's own.
struct Dirs {
    root: tempfile::TempDir,
    inbox: PathBuf,
    outbox: PathBuf,
}

impl Dirs {
    fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("br-ceb-")
            .tempdir()
            .unwrap();
        let (inbox, outbox) = (root.path().join("in"), root.path().join("out"));
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&outbox).unwrap();
        Self {
            root,
            inbox,
            outbox,
        }
    }

    fn folders(&self) -> Folders {
        Folders {
            outbox: Some(self.outbox.clone()),
            inbox: Some(self.inbox.clone()),
        }
    }

    fn done(&self) -> PathBuf {
        self.inbox.join("done")
    }

    fn failed(&self) -> PathBuf {
        self.inbox.join("failed")
    }

    /// Puts a file into the inbox whole, as the customs client does when it is quick.
    fn drop_in(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.inbox.join(name), bytes).unwrap();
    }
}

/// Tests on both backends with the folders set: `fn name(app, dirs) { … }`.
macro_rules! with_folders {
    ($( fn $name:ident($app:ident, $dirs:ident) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body(backend: Backend) {
                    let $dirs = Dirs::new();
                    let folders = $dirs.folders();
                    run_configured(backend, move |c| c.ceb_folders = folders, |$app: &TestApp| $body);
                }

                #[test]
                fn sqlite() {
                    body(Backend::Sqlite)
                }

                #[test]
                fn postgres() {
                    body(Backend::Postgres)
                }
            }
        )*
    };
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/customs/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture")
}

/// The folders' worker of the test app (stopped when dropped).
fn workers(app: &TestApp, dirs: &Dirs) -> ceb_folders::Running {
    ceb_folders::start(
        app.pool.clone(),
        app.writer.clone(),
        dirs.folders(),
        app.backend == Backend::Postgres,
    )
    .expect("the folders' worker starts")
}

#[track_caller]
fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "waited {secs} s for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The regular files of a folder, by name.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    n
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Audit entries of `action`.
fn entries(app: &TestApp, action: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = sql_rows(
        &mut app.db.connect(),
        &format!("SELECT COUNT(*) AS n FROM audit_entries WHERE action = '{action}'"),
    )
    .unwrap();
    rows[0].n
}

/// Inbox records not yet marked moved.
fn unmoved(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = sql_rows(
        &mut app.db.connect(),
        "SELECT COUNT(*) AS n FROM ceb_inbox_files WHERE moved_at IS NULL",
    )
    .unwrap();
    rows[0].n
}

/// A CEB621 message with two new lists (made from the sample, numbered by `n`): the first
/// of the sample's platform HK0000E001, the second of JP0000E002.
fn ceb621(n: u64) -> (String, [String; 2]) {
    let lists = [
        format!("80142026I{:09}", 500_000 + 2 * n),
        format!("80142026I{:09}", 500_001 + 2 * n),
    ];
    let xml = fixture("ceb621_sample.xml")
        .replace("3C1F2A4B-5D6E-4F70-8A9B-0C1D2E3F4A5B", &customs::new_guid())
        .replace("80142026I000000101", &lists[0])
        .replace("80142026I000000102", &lists[1])
        .replace("YMT20260918000101", &format!("YMT2026{:010}", 2 * n))
        .replace("YMT20260918000102", &format!("YMT2026{:010}", 2 * n + 1))
        .replace("SF102345678901", &format!("SF9{:011}", 2 * n))
        .replace("SF102345678902", &format!("SF9{:011}", 2 * n + 1));
    (xml, lists)
}

/// Customs' release (CEB622, 800) of a list made by [`ceb621`] (its first list).
fn release(invt_no: &str, at: DateTime<Utc>) -> String {
    let r = InventoryReturn {
        guid: customs::new_guid(),
        customs_code: "8014".into(),
        ebp_code: "5001960EBP".into(),
        ebc_code: "HK0000E001".into(),
        agent_code: "5001960AG1".into(),
        cop_no: String::new(),
        pre_no: String::new(),
        invt_no: Some(invt_no.into()),
        return_status: 800,
        return_time: at,
        return_info: "放行".into(),
    };
    customs::write_ceb622(&[r], None, &customs::new_guid()).expect("a valid CEB622")
}

/// The folders' state as the supervisor reads it.
fn folders_status(app: &TestApp, client: &reqwest::blocking::Client) -> Value {
    let r = app.get(client, "/api/v1/customs/folders");
    r.assert_status(200);
    r.json
}

with_folders! {
    fn files_dropped_into_the_inbox_are_imported_once_and_end_in_done_or_failed_with_a_reason(app, dirs) {
        let k = Kit::new(app);
        let worker = workers(app, &dirs);
        let declarations = app.count("declarations");
        let done = |name: &str| names(&dirs.done()).iter().any(|n| n == name);
        let failed = |name: &str| names(&dirs.failed()).iter().any(|n| n == name);

        // Lists (CEB621), their receipts (CEB622, one release, one status 120, one error for a
        // list not here) and an interim receipt without a list number: all done.
        dirs.drop_in("CEB621_lists.xml", fixture("ceb621_sample.xml"));
        wait_for("the lists to be imported", 20, || done("CEB621_lists.xml"));
        assert_eq!(app.count("declarations"), declarations + 2);
        dirs.drop_in("CEB622_receipts.xml", fixture("ceb622_sample.xml"));
        dirs.drop_in("CEB622_interim.xml", fixture("ceb622_interim.xml"));
        wait_for("the receipts", 20, || done("CEB622_receipts.xml") && done("CEB622_interim.xml"));
        let d = app.get(&k.sup, "/api/v1/declarations/80142026I000000101");
        assert_eq!(d.json["return_status"], 800, "{}", d.text);

        // An application the agent sent (CEB625) and customs' receipt for it (CEB626).
        let list = k.released();
        let application = list.invt_refund(&[(1, 1)], now() - chrono::Duration::hours(1));
        let returns = app.count("returns");
        dirs.drop_in("CEB625_agent.xml", ceb625(std::slice::from_ref(&application)));
        wait_for("the application", 20, || done("CEB625_agent.xml"));
        assert_eq!(app.count("returns"), returns + 1);
        let receipt = InvtRefundReturn {
            guid: application.guid.clone(),
            customs_code: "8014".into(),
            agent_code: application.agent_code.clone(),
            ebp_code: application.ebp_code.clone(),
            ebc_code: application.ebc_code.clone(),
            cop_no: String::new(),
            pre_no: String::new(),
            invt_no: application.invt_no.clone(),
            return_status: 399,
            return_time: now(),
            return_info: "审核通过".into(),
        };
        dirs.drop_in("CEB626_receipt.xml", customs::write_ceb626(&[receipt], None, &customs::new_guid()).unwrap());
        wait_for("the application's receipt", 20, || done("CEB626_receipt.xml"));
        let id = app.get(&k.sup, &format!("/api/v1/returns?q={}", list.waybill)).json["items"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(app.get(&k.sup, &format!("/api/v1/returns/{id}")).json["customs_status"]["status"], 399);
        // Nothing of these came from the warehouse itself: the outbox stays empty.
        assert_eq!(names(&dirs.outbox), Vec::<String>::new());

        // What cannot be imported goes to failed/, each with its reason in both languages.
        dirs.drop_in("broken.xml", "<?xml version=\"1.0\"?><CEB621Message xmlns=\"http://www.chinaport.gov.cn/ceb\"><Inventory>");
        dirs.drop_in("CEB622_unknown.xml", release("80142026I999999999", now()));
        let mut huge = fixture("ceb621_sample.xml").into_bytes();
        huge.resize(customs::MAX_MESSAGE_BYTES + 1, b' ');
        dirs.drop_in("huge.xml", &huge);
        wait_for("the failures", 30, || failed("broken.xml") && failed("CEB622_unknown.xml") && failed("huge.xml"));
        let reason = read(&dirs.failed(), "broken.xml.reason.txt");
        for part in ["文件 / File: broken.xml", "未导入", "Not imported: this is not a customs message", "What to do", "(UTC+8)"] {
            assert!(reason.contains(part), "{part:?} not in:\n{reason}");
        }
        let reason = read(&dirs.failed(), "CEB622_unknown.xml.reason.txt");
        for part in ["1 条被拒绝", "1 of the 1 items of this CEB622 message were refused", "第 1 条 / item 1 (80142026I999999999)", "import its CEB621 first", "put the file back into the inbox"] {
            assert!(reason.contains(part), "{part:?} not in:\n{reason}");
        }
        let reason = read(&dirs.failed(), "huge.xml.reason.txt");
        assert!(reason.contains("10485761") && reason.contains("10 MB") && reason.contains("超过"), "{reason}");

        // Hidden and temporary names are never taken.
        dirs.drop_in(".CEB621_hidden.xml", fixture("ceb621_sample.xml"));
        dirs.drop_in("CEB621_copying.xml.tmp", fixture("ceb621_sample.xml"));

        // Every message again, under the same names: recognised, nothing imported twice, each
        // in done/ beside the first without overwriting it.
        let (head, counts) = (app.head(), (app.count("declarations"), app.count("returns")));
        let again = ["CEB621_lists.xml", "CEB622_receipts.xml", "CEB622_interim.xml", "CEB625_agent.xml", "CEB626_receipt.xml"];
        for name in again {
            dirs.drop_in(name, read(&dirs.done(), name));
        }
        wait_for("the repeats", 30, || again.iter().all(|n| done(&n.replace(".xml", ".2.xml"))));
        assert_eq!(app.head(), head, "a repeated message changed something");
        assert_eq!((app.count("declarations"), app.count("returns")), counts);
        for name in again {
            assert_eq!(read(&dirs.done(), name), read(&dirs.done(), &name.replace(".xml", ".2.xml")));
        }

        // A release that came before its list fails; put back once the list is there, it is
        // imported and its old reason goes with it.
        let (lists, invt) = ceb621(1);
        dirs.drop_in("CEB622_early.xml", release(&invt[0], now()));
        wait_for("the early release to fail", 20, || failed("CEB622_early.xml"));
        dirs.drop_in("CEB621_more.xml", lists);
        wait_for("the new lists", 20, || done("CEB621_more.xml"));
        std::fs::rename(dirs.failed().join("CEB622_early.xml"), dirs.inbox.join("CEB622_early.xml")).unwrap();
        wait_for("the release", 20, || done("CEB622_early.xml"));
        assert!(!dirs.failed().join("CEB622_early.xml.reason.txt").exists(), "the old reason stayed");
        assert_eq!(app.get(&k.sup, &format!("/api/v1/declarations/{}", invt[0])).json["return_status"], 800);
        drop(worker);

        let sup = &k.sup;
        let st = folders_status(app, sup);
        assert_eq!(st["inbox"]["configured"], true);
        assert_eq!(st["inbox"]["waiting_total"], 0, "{st}");
        assert!(st["inbox"]["scanned_at"].is_string(), "{st}");
        assert_eq!(st["inbox"]["last_error"], Value::Null, "{st}");
        let failed_names: BTreeSet<&str> = st["inbox"]["failed"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(failed_names, BTreeSet::from(["CEB622_unknown.xml", "broken.xml", "huge.xml"]));
        assert!(st["inbox"]["failed"].as_array().unwrap().iter().all(|f| f["reason"].as_str().is_some_and(|r| r.contains("处理办法"))), "{st}");
        assert_eq!(st["inbox"]["recent"][0]["name"], "CEB622_early.xml");
        assert_eq!(st["inbox"]["recent"][0]["moved_to"], "done/CEB622_early.xml");
        assert_eq!(st["inbox"]["recent"][1]["name"], "CEB621_more.xml");
        assert_eq!(st["inbox"]["recent"][2]["moved_to"], "failed/CEB622_early.xml");
        // Temporary and hidden files are no messages: the status does not count them.
        assert_eq!(names(&dirs.inbox), [".CEB621_hidden.xml", "CEB621_copying.xml.tmp"]);

        // Each file taken once: one record per file, all moved; done/ has no reason files.
        // (5 messages, 3 failures, 5 repeats, a release taken twice and its list.)
        let taken = 5 + 3 + 5 + 3;
        assert_eq!(app.count("ceb_inbox_files"), taken);
        assert_eq!(unmoved(app), 0);
        assert_eq!(names(&dirs.done()).len(), 5 + 5 + 2);
        assert_eq!(names(&dirs.failed()).len(), 3 * 2, "{:?}", names(&dirs.failed()));
        // The lists of the samples and of ceb621(1) were each recorded once.
        assert_eq!(entries(app, "declaration.record"), app.count("declarations"));
        assert!(app.verify(None).ok);

        // Supervisors, admins and customs tokens read it; floor staff do not.
        app.get(&k.admin, "/api/v1/customs/folders").assert_status(200);
        app.get(&k.floor_a, "/api/v1/customs/folders").assert_problem(403, "forbidden");
        let r = app.post_json(sup, "/api/v1/tokens", &json!({"name": "海关数据联网", "password": PASSWORD, "scope": "customs"}));
        r.assert_status(201);
        let token = r.json["token"].as_str().unwrap();
        app.send(app.client().get(app.url("/api/v1/customs/folders")).bearer_auth(token)).assert_status(200);
    }

    fn a_receipt_message_carrying_a_lists_earlier_status_changes_nothing_when_it_comes_again(app, dirs) {
        let _worker = workers(app, &dirs);
        let (lists, invt) = ceb621(30);
        dirs.drop_in("CEB621.xml", lists);
        wait_for("the lists", 20, || names(&dirs.done()) == ["CEB621.xml"]);
        // Customs' receipts of one list in one message: received (120), then released (800).
        let receipt = |status: i32, at: DateTime<Utc>| InventoryReturn {
            guid: customs::new_guid(),
            customs_code: "8014".into(),
            ebp_code: "5001960EBP".into(),
            ebc_code: "HK0000E001".into(),
            agent_code: "5001960AG1".into(),
            cop_no: String::new(),
            pre_no: String::new(),
            invt_no: Some(invt[0].clone()),
            return_status: status,
            return_time: at,
            return_info: String::new(),
        };
        let released = now() - chrono::Duration::hours(1);
        let history = customs::write_ceb622(
            &[receipt(120, released - chrono::Duration::hours(2)), receipt(800, released)],
            None,
            &customs::new_guid(),
        )
        .unwrap();
        dirs.drop_in("CEB622.xml", &history);
        wait_for("the receipts", 20, || names(&dirs.done()).len() == 2);
        let head = app.head();
        dirs.drop_in("CEB622.xml", &history);
        wait_for("the receipts again", 20, || names(&dirs.done()).len() == 3);
        assert_eq!(app.head(), head, "the same receipts again changed the list");
        let d = app.get(&app.admin(), &format!("/api/v1/declarations/{}", invt[0]));
        assert_eq!(d.json["return_status"], 800, "{}", d.text);
        assert!(names(&dirs.failed()).is_empty());
    }

    fn a_file_still_being_written_is_taken_only_once_it_is_whole(app, dirs) {
        let _k = Kit::new(app);
        let _worker = workers(app, &dirs);
        let (xml, lists) = ceb621(7);
        let bytes = xml.into_bytes();
        let path = dirs.inbox.join("CEB621_slow.xml");
        let mut f = std::fs::File::create(&path).unwrap();
        // Written in pieces, a pause under a second between them, as a slow share writes.
        for piece in bytes.chunks(bytes.len() / 8 + 1) {
            f.write_all(piece).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(350));
            assert!(path.exists(), "taken while it was being written");
            assert!(names(&dirs.failed()).is_empty(), "a half-written file failed: {:?}", names(&dirs.failed()));
        }
        drop(f);
        // A file the client writes under a temporary name and renames when whole.
        let (xml2, lists2) = ceb621(8);
        let temp = dirs.inbox.join(".CEB621_renamed.xml.part");
        std::fs::write(&temp, &xml2.as_bytes()[..100]).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(temp.exists(), "a temporary name was taken");
        std::fs::write(&temp, &xml2).unwrap();
        std::fs::rename(&temp, dirs.inbox.join("CEB621_renamed.xml")).unwrap();
        wait_for("both files", 20, || names(&dirs.done()) == ["CEB621_renamed.xml", "CEB621_slow.xml"]);
        assert!(names(&dirs.failed()).is_empty());
        for invt in lists.iter().chain(&lists2) {
            app.get(&app.admin(), &format!("/api/v1/declarations/{invt}")).assert_status(200);
        }
        assert_eq!(entries(app, "declaration.record"), 4);
    }

    fn each_application_the_warehouse_files_is_written_into_the_outbox_once_and_whole(app, dirs) {
        let k = Kit::new(app);
        // A watcher reads every file the moment it appears under a name the customs client
        // would take, and parses it as a whole message.
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let watcher = {
            let (stop, seen, dir) = (stop.clone(), seen.clone(), dirs.outbox.clone());
            std::thread::spawn(move || {
                let mut looks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for name in names(&dir) {
                        if name.starts_with('.') || name.ends_with(".tmp") {
                            continue;
                        }
                        let Ok(text) = std::fs::read_to_string(dir.join(&name)) else { continue };
                        let parsed = customs::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name} was read incomplete or wrong: {e}\n{text}"));
                        assert_eq!(parsed.kind, MessageKind::Ceb625);
                        let mut seen = seen.lock().unwrap();
                        if let Some(before) = seen.get(&name) {
                            assert_eq!(before, &text, "{name} changed");
                        }
                        seen.insert(name, text);
                    }
                    looks += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
                looks
            })
        };
        // Filed while no worker runs (a crash right after the commit): written later.
        let lists: Vec<List> = (0..5).map(|_| k.released()).collect();
        let mut ids = Vec::new();
        for l in &lists[..2] {
            ids.push(k.new_return(l, &[(1, 1)]));
        }
        assert!(names(&dirs.outbox).is_empty());
        let st = folders_status(app, &k.sup);
        assert_eq!(st["outbox"]["unwritten_total"], 2, "{st}");
        assert_eq!(st["outbox"]["unwritten"][0]["return_id"], ids[0].as_str());
        // The outbox is not there yet (a file sits where it should be): the trouble shows,
        // and the messages wait.
        std::fs::remove_dir(&dirs.outbox).unwrap();
        std::fs::write(&dirs.outbox, "not a folder").unwrap();
        let worker = workers(app, &dirs);
        wait_for("the trouble to show", 20, || folders_status(app, &k.sup)["outbox"]["last_error"].is_string());
        assert_eq!(folders_status(app, &k.sup)["outbox"]["unwritten_total"], 2);
        std::fs::remove_file(&dirs.outbox).unwrap();
        wait_for("the waiting messages", 20, || names(&dirs.outbox).len() == 2);
        // Filed while the worker runs, by floor staff, a supervisor and an admin.
        ids.push(k.new_return(&lists[2], &[(1, 1), (2, 1)]));
        let r = k.apply_as(&k.sup, &lists[3], &[(2, 2)]);
        r.assert_status(201);
        ids.push(r.json["id"].as_str().unwrap().to_string());
        let r = k.apply_as(&k.admin, &lists[4], &[(1, 3)]);
        r.assert_status(201);
        ids.push(r.json["id"].as_str().unwrap().to_string());
        // An application the agent sent is customs' already: nothing to write for it.
        let agent_list = k.released();
        k.import(&k.sup, ceb625(&[agent_list.invt_refund(&[(1, 1)], now() - chrono::Duration::hours(1))])).assert_status(200);
        // A refused application files nothing.
        k.apply(&lists[0], &[(1, 99)]).assert_problem(422, "quantity_exceeds");
        wait_for("every message", 20, || {
            let st = folders_status(app, &k.sup);
            st["outbox"]["unwritten_total"] == 0 && st["outbox"]["last_error"].is_null() && names(&dirs.outbox).len() == 5
        });

        // One file per application, named by type and message guid, carrying that
        // application exactly as the return's own CEB625 download has it.
        let files = names(&dirs.outbox);
        let mut by_return = BTreeMap::new();
        for name in &files {
            let text = read(&dirs.outbox, name);
            let parsed = customs::parse(text.as_bytes()).unwrap();
            assert_eq!(name, &format!("CEB625_{}.xml", parsed.guid));
            let Items::InvtRefund(items) = parsed.items else { panic!("not applications") };
            assert_eq!(items.len(), 1);
            let app_in_file = items[0].result.clone().unwrap();
            let id = ids.iter().find(|id| {
                app.get(&k.sup, &format!("/api/v1/returns/{id}")).json["invt_no"] == app_in_file.invt_no.as_str()
            }).unwrap_or_else(|| panic!("{name} is no application filed here"));
            let download = app.get(&k.sup, &format!("/api/v1/returns/{id}/ceb625.xml"));
            let Items::InvtRefund(d) = customs::parse(download.text.as_bytes()).unwrap().items else { panic!() };
            assert_eq!(d[0].result.clone().unwrap(), app_in_file, "{name}");
            assert!(by_return.insert(id.clone(), name.clone()).is_none(), "two files for {id}");
        }
        assert_eq!(by_return.len(), ids.len());
        let st = folders_status(app, &k.sup);
        assert_eq!(st["outbox"]["uncollected_total"], 5, "{st}");
        assert!(st["outbox"]["uncollected"].as_array().unwrap().iter().all(|f| f["return_id"].is_string() && f["written_at"].is_string()), "{st}");

        // Stopped after writing a file but before marking it: the same name, the same bytes,
        // and nothing else.
        drop(worker);
        let (id, name) = by_return.iter().next().unwrap();
        let bytes = std::fs::read(dirs.outbox.join(name)).unwrap();
        app.db.sql(&format!("UPDATE ceb_outbox SET written_at = NULL WHERE return_id = '{id}'")).unwrap();
        // The customs client collects everything meanwhile.
        for f in names(&dirs.outbox) {
            std::fs::remove_file(dirs.outbox.join(f)).unwrap();
        }
        let worker = workers(app, &dirs);
        wait_for("the message again", 20, || names(&dirs.outbox) == [name.clone()]);
        assert_eq!(std::fs::read(dirs.outbox.join(name)).unwrap(), bytes);
        wait_for("its mark", 20, || folders_status(app, &k.sup)["outbox"]["unwritten_total"] == 0);
        drop(worker);
        assert_eq!(names(&dirs.outbox), std::slice::from_ref(name));

        stop.store(true, Ordering::Relaxed);
        let looks = watcher.join().expect("the watcher read only whole messages");
        assert!(looks > 100, "the watcher looked only {looks} times");
        assert_eq!(seen.lock().unwrap().len(), 5);
        assert_eq!(app.count("ceb_outbox"), 5);
        // The folder's status says what waits for the customs client.
        let st = folders_status(app, &k.sup);
        assert_eq!(st["outbox"]["uncollected_total"], 1);
        assert_eq!(st["outbox"]["uncollected"][0]["return_id"], id.as_str());
        assert!(st["outbox"]["scanned_at"].is_string());
        // /healthz counts, without names.
        let health = app.send(app.client().get(app.url("/healthz")));
        assert_eq!(health.json["folders"]["outbox_uncollected"], 1, "{}", health.text);
        assert_eq!(health.json["folders"]["outbox_unwritten"], 0);
        assert_eq!(health.json["folders"]["trouble"], false);
        assert!(!health.text.contains("CEB625_"), "{}", health.text);
    }
}

/// A `serve` of the test's database in a process of its own, killed (SIGKILL) when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(app: &TestApp, dirs: &Dirs) -> Served {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dirs.root.path().join("serve.log"))
        .unwrap();
    let mut child = Command::new(binary())
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &app.db.url,
        ])
        .env_remove("DATABASE_URL")
        .env_remove("BIND")
        .env_remove("BR_CEB_OUTBOX")
        .env("BR_CEB_INBOX", &dirs.inbox)
        .env("BR_SIGNING_KEY", &app.signing_key)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().unwrap();
    let served = Served(child);
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().contains("serving on ") {
            return served;
        }
    }
    panic!("serve ended without serving");
}

both! {
    fn a_server_killed_20_times_during_inbox_imports_imports_nothing_twice_and_loses_no_file(app: &TestApp) {
        let dirs = Dirs::new();
        let mut dropped: Vec<(String, String)> = Vec::new();
        let mut lists = Vec::new();
        let mut released = std::collections::HashSet::new();
        let mut serial = 100;
        let mut busy_kills = 0;
        let mut rng = 0x2545_f491_u64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for round in 0..20 {
            // New lists each round, a release of a list already imported, now and then a
            // broken file and a message sent again under the name it had.
            for i in 0..6 {
                serial += 1;
                let (xml, l) = ceb621(serial);
                let name = format!("CEB621_{round:02}_{i}.xml");
                dirs.drop_in(&name, &xml);
                dropped.push((name.clone(), xml));
                lists.push((name, l[0].clone(), l[1].clone()));
            }
            let in_done = names(&dirs.done());
            let ready = lists.iter().find(|l| in_done.contains(&l.0) && !released.contains(&l.1));
            if let Some((_, invt, _)) = ready.cloned() {
                let xml = release(&invt, now());
                let name = format!("CEB622_{round:02}.xml");
                dirs.drop_in(&name, &xml);
                dropped.push((name, xml));
                released.insert(invt);
            }
            if round % 3 == 1 {
                let xml = format!("<CEB622Message xmlns=\"http://www.chinaport.gov.cn/ceb\" guid=\"{round}\"><InventoryReturn>");
                let name = format!("broken_{round:02}.xml");
                dirs.drop_in(&name, &xml);
                dropped.push((name, xml));
            }
            if round % 4 == 3 {
                if let Some((name, xml)) = dropped.iter().find(|(n, _)| n.starts_with("CEB621_") && in_done.contains(n)).cloned() {
                    if !dirs.inbox.join(&name).exists() {
                        dirs.drop_in(&name, &xml);
                        dropped.push((name, xml));
                    }
                }
            }
            // Killed while it imports: a little after the first file of the round lands in
            // done/ or failed/ (or after 4 s).
            let moved = || names(&dirs.done()).len() + names(&dirs.failed()).len();
            let before = moved();
            let server = serve(app, &dirs);
            let started = Instant::now();
            while moved() == before && started.elapsed() < Duration::from_secs(4) {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(next(20)));
            drop(server);
            if !names(&dirs.inbox).is_empty() {
                busy_kills += 1;
            }
        }
        // Started once more and left alone, it finishes.
        let server = serve(app, &dirs);
        wait_for("the inbox to be worked through", 60, || names(&dirs.inbox).is_empty() && unmoved(app) == 0);
        drop(server);

        // What the kills hit (for the reader of a failure or of --nocapture): kills with files
        // still waiting, and files moved after a restart because a kill came between their
        // import and their move.
        let log = std::fs::read_to_string(dirs.root.path().join("serve.log")).unwrap();
        eprintln!(
            "{}: {} files, {busy_kills} of 20 kills with files waiting, {} moved after a restart",
            app.backend.name(),
            dropped.len(),
            log.matches("imported before a restart").count()
        );
        // Every file dropped is in done/ or failed/ exactly once (repeats beside the first).
        let mut want: BTreeMap<String, usize> = BTreeMap::new();
        for (_, xml) in &dropped {
            *want.entry(xml.clone()).or_default() += 1;
        }
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for (dir, is_failed) in [(dirs.done(), false), (dirs.failed(), true)] {
            for name in names(&dir) {
                if name.ends_with(".reason.txt") {
                    continue;
                }
                assert_eq!(name.starts_with("broken_"), is_failed, "{name} is in the wrong folder");
                if is_failed {
                    assert!(dir.join(format!("{name}.reason.txt")).is_file(), "{name} has no reason");
                }
                *got.entry(read(&dir, &name)).or_default() += 1;
            }
        }
        assert_eq!(got.values().sum::<usize>(), dropped.len(), "files in done/ and failed/ against files dropped");
        assert!(got == want, "a file was lost or doubled");
        assert!(names(&dirs.inbox).is_empty());
        // Imported once each: one record per file, each list and release recorded once.
        assert_eq!(app.count("ceb_inbox_files"), dropped.len() as i64);
        assert_eq!(app.count("declarations"), 2 * lists.len() as i64);
        assert_eq!(entries(app, "declaration.record"), 2 * lists.len() as i64);
        assert_eq!(entries(app, "declaration.receipt"), released.len() as i64);
        assert!(released.len() >= 10, "only {} releases were dropped", released.len());
        let v = app.verify(None);
        assert!(v.ok, "{v:?}");
        // No temporary reason file was left behind.
        assert!(std::fs::read_dir(dirs.failed()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.')));

        // `bonded-returns folders status` says where the folders stand.
        let inbox = dirs.inbox.display().to_string();
        let run = cli_with_env(&["folders", "status", "--database-url", &app.db.url], None, &[("BR_CEB_INBOX", inbox.as_str())]);
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(run.stdout.contains(&format!("customs inbox: {inbox} (last look 20")), "{}", run.stdout);
        assert!(run.stdout.contains("  waiting: 0 file(s)"), "{}", run.stdout);
        let broken = dropped.iter().filter(|(n, _)| n.starts_with("broken_")).count();
        assert!(run.stdout.contains(&format!("  failed: {broken} file(s)")), "{}", run.stdout);
        assert!(run.stdout.contains("    failed/broken_01.xml: Not imported: this is not a customs message"), "{}", run.stdout);
        assert!(run.stdout.contains("customs outbox: not configured (BR_CEB_OUTBOX)"), "{}", run.stdout);
    }
}

/// Two nodes on one PostgreSQL: only the node holding the lock works the folder; when it
/// stops, the other takes over; each file is imported once.
#[test]
fn on_postgresql_one_node_at_a_time_works_the_inbox() {
    run(Backend::Postgres, |app| {
        let dirs = Dirs::new();
        let folders = Folders {
            outbox: None,
            inbox: Some(dirs.inbox.clone()),
        };
        let node = |app: &TestApp| {
            ceb_folders::start(app.pool.clone(), app.writer.clone(), folders.clone(), true).unwrap()
        };
        let (first, second) = (node(app), node(app));
        for n in 0..6 {
            dirs.drop_in(&format!("CEB621_{n}.xml"), ceb621(200 + n).0);
        }
        wait_for("the first files", 30, || names(&dirs.done()).len() == 6);
        drop(first);
        for n in 6..10 {
            dirs.drop_in(&format!("CEB621_{n}.xml"), ceb621(200 + n).0);
        }
        wait_for("the other node to take over", 30, || {
            names(&dirs.done()).len() == 10
        });
        drop(second);
        assert_eq!(app.count("ceb_inbox_files"), 10);
        assert_eq!(app.count("declarations"), 20);
        assert_eq!(entries(app, "declaration.record"), 20);
        assert!(names(&dirs.failed()).is_empty());
    });
}

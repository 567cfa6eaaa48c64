//! Handhelds at the same time: the same parcel scanned at two docks gets one success and
//! one clear `invalid_state`; different parcels handled in parallel all go through.

use std::sync::Barrier;
use std::thread;

use serde_json::json;

use crate::flowkit::*;
use crate::support::*;

const CLIENTS: usize = 4;

both! {
    fn two_handhelds_receiving_the_same_parcel_at_once_get_one_success_and_one_invalid_state(app: &TestApp) {
        let k = Kit::new(app);
        let other = app.user_client("floor", Some("WH-A"));
        for round in 0..6 {
            let (_, id) = k.return_in("declared");
            let head = app.head();
            let barrier = Barrier::new(2);
            let body = json!({"warehouse": "WH-A", "camera": "CAM-A1"});
            let replies: Vec<Reply> = thread::scope(|s| {
                let handles: Vec<_> = [&k.floor_a, &other]
                    .into_iter()
                    .map(|client| {
                        let (barrier, body, id, k) = (&barrier, &body, &id, &k);
                        s.spawn(move || {
                            barrier.wait();
                            k.step(client, id, "receive", body)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
            statuses.sort();
            assert_eq!(statuses, [200, 409], "round {round}: {replies:?}");
            let loser = replies.iter().find(|r| r.status == 409).unwrap();
            loser.assert_problem(409, "invalid_state");
            let receives = k.entries_of(&id).iter().filter(|e| e.action == "return.receive").count();
            assert_eq!(receives, 1, "round {round}");
            assert_eq!(app.head().seq, head.seq + 1, "round {round}: one audit entry");
            assert_eq!(k.state(&id), "received");
        }
        assert!(app.verify(None).ok);
    }

    fn many_parallel_scans_and_steps_on_different_returns_all_succeed(app: &TestApp) {
        let k = Kit::new(app);
        let returns: Vec<(List, String)> = (0..12).map(|_| k.return_in("declared")).collect();
        let clients: Vec<_> = (0..CLIENTS).map(|_| app.user_client("floor", Some("WH-A"))).collect();
        let barrier = Barrier::new(clients.len());
        let head = app.head();
        let failures: Vec<String> = thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter()
                .enumerate()
                .map(|(t, client)| {
                    let (barrier, returns, k) = (&barrier, &returns, &k);
                    s.spawn(move || {
                        barrier.wait();
                        let mut failures = Vec::new();
                        for (i, (l, id)) in returns.iter().enumerate() {
                            for code in [id.as_str(), l.waybill.as_str()] {
                                let r = k.app.get(client, &format!("/api/v1/scan/{code}"));
                                if r.status != 200 || r.json["return"]["id"] != id.as_str() {
                                    failures.push(format!("scan {code}: {} {}", r.status, r.text));
                                }
                            }
                            let r = k.app.get(client, &format!("/api/v1/scan/{BARCODE_1}?return={id}"));
                            if r.status != 200 || r.json["kind"] != "product" {
                                failures.push(format!("product in {id}: {} {}", r.status, r.text));
                            }
                            // Each thread receives its own share of the parcels meanwhile.
                            if i % CLIENTS == t {
                                let r = k.step(client, id, "receive", &json!({"warehouse": "WH-A", "camera": "CAM-A1"}));
                                if r.status != 200 {
                                    failures.push(format!("receive {id}: {} {}", r.status, r.text));
                                }
                            }
                        }
                        failures
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(app.head().seq, head.seq + 12, "one entry per receive, none for the scans");
        for (_, id) in &returns {
            assert_eq!(k.state(id), "received");
        }
        assert!(app.verify(None).ok);
    }
}

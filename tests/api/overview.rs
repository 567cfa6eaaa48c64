//! What supervisors and the home screens read: the returns list with its filters and paging,
//! and the stats (counts per state, arrivals per day, deadline ageing, units restocked and
//! disposed per day), each as seen by a supervisor and by floor staff of each warehouse.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::flowkit::*;
#[allow(unused_imports)]
use crate::support::*;

/// The ids of a returns page.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Today's entry of a per-day series (days are China's calendar days).
fn today(series: &Value) -> &Value {
    let day = (Utc::now() + Duration::hours(8)).date_naive().to_string();
    series
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == day.as_str())
        .unwrap_or_else(|| panic!("no entry for {day}: {series}"))
}

both! {
    fn the_returns_list_filters_by_state_warehouse_enterprise_and_number_and_pages_with_a_cursor(app: &TestApp) {
        let k = Kit::new(app);
        let (_, declared) = k.return_in("declared");
        let (l_received, received) = k.return_in("received");
        let (_, inspected) = k.return_in("inspected");
        // A parcel for warehouse B, still on its way.
        let mut for_b = k.list();
        for_b.area = k.seed.b.operator.clone();
        k.declare(&for_b);
        let r = k.apply_as(&k.floor_b, &for_b, &[(1, 1)]);
        r.assert_status(201);
        let at_b = r.json["id"].as_str().unwrap().to_string();

        let list = |client: &reqwest::blocking::Client, query: &str| {
            let r = app.get(client, &format!("/api/v1/returns?{query}"));
            r.assert_status(200);
            r.json
        };
        let mine = [inspected.clone(), received.clone(), declared.clone()];
        assert_eq!(ids(&list(&k.sup, "state=declared")), [at_b.clone(), declared.clone()]);
        // A warehouse's returns include those still on their way to it.
        assert_eq!(ids(&list(&k.sup, "warehouse=WH-A")), mine);
        assert_eq!(ids(&list(&k.sup, "warehouse=wh-b")), vec![at_b.clone()]);
        assert_eq!(ids(&list(&k.sup, &format!("ebc={}", k.seed.ecommerce))).len(), 4);
        assert_eq!(ids(&list(&k.sup, &format!("q={}", l_received.waybill))), vec![received.clone()]);
        assert_eq!(ids(&list(&k.sup, &format!("q={}", received.to_lowercase()))), vec![received.clone()]);
        assert_eq!(ids(&list(&k.sup, "state=declared&warehouse=WH-A")), vec![declared.clone()]);
        // Floor staff see their own warehouse only, whatever they ask for.
        assert_eq!(ids(&list(&k.floor_a, "")), mine);
        assert_eq!(ids(&list(&k.floor_a, "warehouse=WH-B")), Vec::<String>::new());
        assert_eq!(ids(&list(&k.floor_b, "")), vec![at_b.clone()]);

        // Paging: newest first, two at a time, every return once.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("limit=2&cursor={c}"),
                None => "limit=2".into(),
            };
            let page = list(&k.sup, &q);
            let got = ids(&page);
            assert!(got.len() <= 2, "{page}");
            seen.extend(got);
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut all = vec![at_b, inspected, received, declared];
        all.sort();
        all.reverse();
        assert_eq!(seen, all);
        for bad in ["limit=0", "limit=201", "state=lost", "limit=x", "colour=red"] {
            app.get(&k.sup, &format!("/api/v1/returns?{bad}")).assert_problem(400, "validation");
        }
    }

    fn stats_count_states_arrivals_deadlines_and_units_restocked_and_disposed_per_day(app: &TestApp) {
        let k = Kit::new(app);
        let (_, _declared) = k.return_in("declared");
        let (_, _received) = k.return_in("received");
        // Inspected: 3 intact of line 1, 2 with damaged packaging of line 2; 3 units restocked in
        // two moves, 2 units leave the zone in one.
        let (_, settled) = k.return_in("received");
        k.sort(&settled, &[(1, 3), (2, 2)], "pending_inspection").assert_status(200);
        k.inspect(&settled, &[(1, 3, 0, 0, 0, 0), (2, 0, 2, 0, 0, 0)]).assert_status(200);
        k.restock(&settled, 1, 2).assert_status(200);
        k.restock(&settled, 1, 1).assert_status(200);
        k.dispose(&settled, 2, 2, "exit").assert_status(200);
        assert_eq!(k.state(&settled), "closed");
        // A list released 27 days ago and not applied for: 3 days left to apply.
        let mut near_apply = k.list();
        near_apply.released_at = ago(27);
        k.declare(&near_apply);
        // A return applied for in time whose parcel has 3 days left to arrive.
        let mut near_arrival = k.list();
        near_arrival.released_at = ago(42);
        k.declare(&near_arrival);
        let a = near_arrival.invt_refund(&[(1, 1)], ago(20));
        let r = k.import(&k.admin, ceb625(&[a]));
        assert_eq!(r.json["created"], 1, "{}", r.text);
        let late_id = r.json["items"][0]["key"].as_str().unwrap().to_string();

        let stats = |client: &reqwest::blocking::Client, query: &str| {
            let r = app.get(client, &format!("/api/v1/stats{query}"));
            r.assert_status(200);
            r.json
        };
        let s = stats(&k.sup, "?warehouse=WH-A");
        assert_eq!(s["by_state"]["declared"], 2, "{s}");
        assert_eq!(s["by_state"]["received"], 1, "{s}");
        assert_eq!(s["by_state"]["closed"], 1, "{s}");
        assert_eq!(s["by_state"]["held"], 0, "{s}");
        assert_eq!(s["arrivals_per_day"].as_array().unwrap().len(), 30);
        assert_eq!(today(&s["arrivals_per_day"])["count"], 2, "{s}");
        let settled_today = today(&s["restock_vs_disposal"]);
        assert_eq!((settled_today["restocked"].as_i64(), settled_today["disposed"].as_i64()), (Some(3), Some(2)), "units, not entries: {s}");
        assert_eq!(s["ageing"]["apply_within_5_days"], 1, "{s}");
        assert_eq!(s["ageing"]["arrival_within_5_days"], 1, "{s}");
        assert_eq!(s["ageing"]["overdue"], 0, "{s}");
        let near: Vec<(String, String, i64)> = s["near_deadline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["id"].as_str().unwrap().into(), n["kind"].as_str().unwrap().into(), n["days_left"].as_i64().unwrap()))
            .collect();
        assert!(near.contains(&(near_apply.invt_no.clone(), "apply".into(), 2)) || near.contains(&(near_apply.invt_no.clone(), "apply".into(), 3)), "{near:?}");
        assert!(near.iter().any(|(id, kind, left)| id == &late_id && kind == "arrival" && (2..=3).contains(left)), "{near:?}");

        // The floor of A sees the same; B's floor sees none of it; all warehouses add up.
        assert_eq!(stats(&k.floor_a, "")["by_state"], s["by_state"]);
        let b = stats(&k.floor_b, "?warehouse=WH-A");
        assert_eq!(b["by_state"]["declared"], 0, "{b}");
        assert_eq!(today(&b["restock_vs_disposal"])["restocked"], 0, "{b}");
        let all = stats(&k.sup, "");
        assert_eq!(all["by_state"]["closed"], 1, "{all}");
        app.get(&k.sup, "/api/v1/stats?colour=red").assert_problem(400, "validation");
    }
}

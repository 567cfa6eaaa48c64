//! The CEB621 reader of declaration lists (Inventory): the fuzzed bytes are the items of a well-formed
//! `CEB621Message` (the root and `BaseTransfer` are fixed), so every run reaches the item reader.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::parse_and_check(&common::envelope("CEB621Message", data));
});

//! The CEB625 reader of return applications (InvtRefund): the fuzzed bytes are the items of a well-formed
//! `CEB625Message` (the root and `BaseTransfer` are fixed), so every run reaches the item reader.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::parse_and_check(&common::envelope("CEB625Message", data));
});

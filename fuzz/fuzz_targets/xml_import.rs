//! Any bytes as a customs message (CEB621/622/625/626, kind from the root element), the way
//! `POST /api/v1/imports` and `bonded-returns import` read them: never a panic, a hang or
//! unbounded memory; an accepted message holds 1–100 items, each parsed or rejected with reasons.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::parse_and_check(data);
});

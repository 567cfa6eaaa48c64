//! API, database and command-line tests: the real app on a random port with a fresh
//! database per test, each test on SQLite and on PostgreSQL (see `support`).

#[macro_use]
mod support;

mod access;
mod audit_chain;
mod auth;
mod bad_input;
mod cli;
mod concurrency;
mod conformance;
mod demo;
mod housekeeping;
mod idempotency;
mod parties;
mod schema;
mod security;
mod users;

// The return flow.
mod audit_export;
mod customs_folders;
mod customs_link;
mod customs_review;
mod faults;
mod flow;
mod flow_races;
mod flowkit;
mod handheld;
mod hostile;
mod idempotency_flow;
mod imports;
mod invariants;
mod labels;
mod overview;
mod printing;
mod privacy;
mod refusals;
mod scan;
mod xml_cost;

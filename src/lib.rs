//! bonded-returns: warehouse management for bonded return center warehouses
//! (跨境电商零售进口退货中心仓) in Chinese special customs supervision zones.
//!
//! A request travels one way: `http` (parse, authenticate, authorise) → `flows` (one business
//! action in one transaction) → `domain` (rules, no I/O), `db` (storage) and `audit` (the
//! chain, appended in the same transaction). `customs` and `labels` are pure leaves.

pub mod app;
pub mod audit;
pub mod ceb_folders;
pub mod cli;
pub mod config;
pub mod customs;
pub mod db;
pub mod domain;
pub mod error;
pub mod flows;
pub mod http;
pub mod labels;
pub mod printing;

//! The return flow: apply, receive, sort, inspect, restock, dispose, hold and release.

pub mod hold;

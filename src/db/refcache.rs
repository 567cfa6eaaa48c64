//! The writer's cache of reference data — warehouses, bins, cameras, enterprises and their
//! credit ratings — which every return step reads several times and which changes rarely.
//!
//! The cache is only trusted after checking it against the database in the request's own
//! transaction: triggers (migration `…_reference_version`) raise the `reference_version`
//! counter in the same transaction as any INSERT, UPDATE or DELETE on those tables, whoever
//! makes it (this node, another node on the same PostgreSQL, a script). Each request reads
//! the counter once (one primary-key look-up) before its first use of the cache; a different
//! value empties the cache. A request after a floor step in the same batch reads it only if
//! the cache was emptied since: a floor step never changes reference data, and while the
//! batch holds the write lock no other writer of this application can commit
//! (`db::writer::Writes`). Because a rolled-back change can leave the counter at a value that
//! a later, different change reaches again, the writer empties the cache whenever a
//! savepoint or a batch is rolled back.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::parties::{BinRow, CameraRow, EnterpriseRow, RatingRow, WarehouseRow};
use super::schema::{bins, cameras, counters, credit_ratings, enterprises, warehouses};
use super::DbConn;
use crate::domain::credit::{excluded_at, RatingRecord};
use crate::error::AppError;

/// The `counters` row the reference-data triggers raise.
pub const REFERENCE_VERSION: &str = "reference_version";

#[derive(Debug, Default)]
pub struct RefCache {
    /// The counter value the cached rows belong to; `None`: nothing is cached.
    version: Option<i64>,
    /// Whether the current request has checked `version` against the database yet.
    checked: bool,
    warehouses: HashMap<String, Option<WarehouseRow>>,
    enterprises: HashMap<String, Option<EnterpriseRow>>,
    ratings: HashMap<String, Vec<RatingRecord>>,
    bins: HashMap<(String, String), Option<BinRow>>,
    cameras: HashMap<(String, String), Option<CameraRow>>,
    /// The camera covering an area of a warehouse, by (warehouse, area).
    coverage: HashMap<(String, String), Option<CameraRow>>,
}

/// The reference-data version as committed (or as changed by this transaction).
pub fn reference_version(conn: &mut DbConn) -> Result<Option<i64>, AppError> {
    Ok(on_inner!(conn, |c| counters::table
        .find(REFERENCE_VERSION)
        .select(counters::value)
        .get_result::<i64>(c)
        .optional())?)
}

impl RefCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything (after a rollback, or when the connection was replaced).
    pub fn clear(&mut self) {
        self.version = None;
        self.checked = false;
        self.drop_rows();
    }

    fn drop_rows(&mut self) {
        self.warehouses.clear();
        self.enterprises.clear();
        self.ratings.clear();
        self.bins.clear();
        self.cameras.clear();
        self.coverage.clear();
    }

    /// The cache must be checked against the database again before its next use.
    pub fn recheck(&mut self) {
        self.checked = false;
    }

    /// Checks the cache against the database once per request.
    fn check(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        if self.checked {
            return Ok(());
        }
        let now = reference_version(conn)?;
        // Without the counter row (a database the migration has not reached) nothing is kept.
        if now.is_none() || now != self.version {
            self.drop_rows();
        }
        self.version = now;
        self.checked = true;
        Ok(())
    }

    fn cacheable(&self) -> bool {
        self.version.is_some()
    }

    pub fn warehouse(
        &mut self,
        conn: &mut DbConn,
        code: &str,
    ) -> Result<Option<WarehouseRow>, AppError> {
        self.check(conn)?;
        if let Some(w) = self.warehouses.get(code) {
            return Ok(w.clone());
        }
        let row: Option<WarehouseRow> = on_inner!(conn, |c| warehouses::table
            .find(code)
            .select(WarehouseRow::as_select())
            .get_result(c)
            .optional())?;
        if self.cacheable() {
            self.warehouses.insert(code.to_string(), row.clone());
        }
        Ok(row)
    }

    pub fn enterprise(
        &mut self,
        conn: &mut DbConn,
        code: &str,
    ) -> Result<Option<EnterpriseRow>, AppError> {
        self.check(conn)?;
        if let Some(e) = self.enterprises.get(code) {
            return Ok(e.clone());
        }
        let row: Option<EnterpriseRow> = on_inner!(conn, |c| enterprises::table
            .find(code)
            .select(EnterpriseRow::as_select())
            .get_result(c)
            .optional())?;
        if self.cacheable() {
            self.enterprises.insert(code.to_string(), row.clone());
        }
        Ok(row)
    }

    /// The exclusion in force for `code` at `at`, if any (as `flows::eligibility::exclusion`).
    pub fn exclusion(
        &mut self,
        conn: &mut DbConn,
        code: &str,
        at: NaiveDateTime,
    ) -> Result<Option<RatingRecord>, AppError> {
        self.check(conn)?;
        if let Some(history) = self.ratings.get(code) {
            return Ok(excluded_at(history, at).cloned());
        }
        let rows: Vec<RatingRow> = on_inner!(conn, |c| credit_ratings::table
            .filter(credit_ratings::enterprise_code.eq(code))
            .order((
                credit_ratings::effective_from.asc(),
                credit_ratings::id.asc(),
            ))
            .select(RatingRow::as_select())
            .load(c))?;
        let history: Vec<RatingRecord> = rows.iter().filter_map(|r| r.record()).collect();
        let found = excluded_at(&history, at).cloned();
        if self.cacheable() {
            self.ratings.insert(code.to_string(), history);
        }
        Ok(found)
    }

    pub fn bin(
        &mut self,
        conn: &mut DbConn,
        warehouse: &str,
        code: &str,
    ) -> Result<Option<BinRow>, AppError> {
        self.check(conn)?;
        let key = (warehouse.to_string(), code.to_string());
        if let Some(b) = self.bins.get(&key) {
            return Ok(b.clone());
        }
        let row: Option<BinRow> = on_inner!(conn, |c| bins::table
            .find((warehouse, code))
            .select(BinRow::as_select())
            .get_result(c)
            .optional())?;
        if self.cacheable() {
            self.bins.insert(key, row.clone());
        }
        Ok(row)
    }

    pub fn camera(
        &mut self,
        conn: &mut DbConn,
        warehouse: &str,
        code: &str,
    ) -> Result<Option<CameraRow>, AppError> {
        self.check(conn)?;
        let key = (warehouse.to_string(), code.to_string());
        if let Some(c) = self.cameras.get(&key) {
            return Ok(c.clone());
        }
        let row: Option<CameraRow> = on_inner!(conn, |c| cameras::table
            .find((warehouse, code))
            .select(CameraRow::as_select())
            .get_result(c)
            .optional())?;
        if self.cacheable() {
            self.cameras.insert(key, row.clone());
        }
        Ok(row)
    }
}

impl RefCache {
    /// The camera covering `area` of `warehouse` (the first by code), where a step happens.
    pub fn camera_covering(
        &mut self,
        conn: &mut DbConn,
        warehouse: &str,
        area: &str,
    ) -> Result<Option<CameraRow>, AppError> {
        self.check(conn)?;
        let key = (warehouse.to_string(), area.to_string());
        if let Some(c) = self.coverage.get(&key) {
            return Ok(c.clone());
        }
        let row = super::parties::camera_covering(conn, warehouse, area)?;
        if self.cacheable() {
            self.coverage.insert(key, row.clone());
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::parties::{insert_enterprise, insert_rating, insert_warehouse, NewRating};
    use crate::db::{establish, migrate, DbUrl, SqliteSync};

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    /// Two connections to one file stand for two nodes: what one changes, the other's cache
    /// sees at its next request.
    #[test]
    fn a_change_by_another_connection_reaches_the_cache_at_the_next_request() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::Sqlite(dir.path().join("refs.db"));
        let mut a = establish(&url, SqliteSync::Normal).unwrap();
        migrate(&mut a).unwrap();
        let mut b = establish(&url, SqliteSync::Normal).unwrap();
        insert_enterprise(
            &mut b,
            &EnterpriseRow {
                code: "E1".into(),
                name: "甲".into(),
                kinds: "ecommerce".into(),
                created_at: at(1),
            },
        )
        .unwrap();
        let mut cache = RefCache::new();
        cache.recheck();
        assert!(cache.exclusion(&mut a, "E1", at(20)).unwrap().is_none());
        assert_eq!(cache.enterprise(&mut a, "E1").unwrap().unwrap().name, "甲");
        assert!(cache.warehouse(&mut a, "W1").unwrap().is_none());

        // The other "node" rates E1 dishonest from the 10th and opens warehouse W1.
        insert_rating(
            &mut b,
            &NewRating {
                enterprise_code: "E1",
                rating: "dishonest",
                effective_from: at(10),
                reference: "R-1",
                recorded_by: "admin",
                recorded_at: at(2),
            },
        )
        .unwrap();
        insert_warehouse(
            &mut b,
            &WarehouseRow {
                code: "W1".into(),
                name: "一号仓".into(),
                operator_code: "E1".into(),
                zone: "Z".into(),
                created_at: at(2),
            },
        )
        .unwrap();
        // Within the same request the cache is not asked again…
        assert!(cache.exclusion(&mut a, "E1", at(20)).unwrap().is_none());
        // …at the next one it is, and sees both.
        cache.recheck();
        let r = cache.exclusion(&mut a, "E1", at(20)).unwrap().unwrap();
        assert_eq!(r.reference, "R-1");
        assert!(cache.exclusion(&mut a, "E1", at(9)).unwrap().is_none());
        assert_eq!(
            cache
                .warehouse(&mut a, "W1")
                .unwrap()
                .unwrap()
                .operator_code,
            "E1"
        );
        // A version seen by a rolled-back change is not trusted: `clear` forgets everything.
        cache.clear();
        cache.recheck();
        assert!(cache.exclusion(&mut a, "E1", at(20)).unwrap().is_some());
    }
}

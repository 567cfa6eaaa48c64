//! Enterprises, their credit-rating history, warehouses, bins and cameras.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{bins, cameras, credit_ratings, enterprises, warehouses};
use super::DbConn;
use crate::domain::credit::{CreditRating, RatingRecord};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseRow {
    pub code: String,
    pub name: String,
    /// Comma-separated kinds.
    pub kinds: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_ratings)]
pub struct RatingRow {
    pub id: i64,
    pub enterprise_code: String,
    pub rating: String,
    pub effective_from: NaiveDateTime,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = credit_ratings)]
pub struct NewRating<'a> {
    pub enterprise_code: &'a str,
    pub rating: &'a str,
    pub effective_from: NaiveDateTime,
    pub reference: &'a str,
    pub recorded_by: &'a str,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = warehouses)]
pub struct WarehouseRow {
    pub code: String,
    pub name: String,
    pub operator_code: String,
    pub zone: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = bins)]
pub struct BinRow {
    pub warehouse_code: String,
    pub code: String,
    pub area: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = cameras)]
pub struct CameraRow {
    pub warehouse_code: String,
    pub code: String,
    pub name: String,
    pub area: String,
    pub created_at: NaiveDateTime,
    /// The NVR's playback link template (see `audit::footage`).
    pub playback_url: Option<String>,
}

impl RatingRow {
    pub fn record(&self) -> Option<RatingRecord> {
        Some(RatingRecord {
            id: self.id,
            rating: CreditRating::parse(&self.rating)?,
            effective_from: self.effective_from,
            reference: self.reference.clone(),
        })
    }
}

pub fn enterprise(conn: &mut DbConn, code: &str) -> Result<Option<EnterpriseRow>, AppError> {
    Ok(on_inner!(conn, |c| enterprises::table
        .find(code)
        .select(EnterpriseRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn list_enterprises(conn: &mut DbConn) -> Result<Vec<EnterpriseRow>, AppError> {
    Ok(enterprises::table
        .order(enterprises::code)
        .select(EnterpriseRow::as_select())
        .load(conn)?)
}

pub fn insert_enterprise(conn: &mut DbConn, row: &EnterpriseRow) -> Result<(), AppError> {
    diesel::insert_into(enterprises::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn update_enterprise(
    conn: &mut DbConn,
    code: &str,
    name: &str,
    kinds: &str,
) -> Result<(), AppError> {
    diesel::update(enterprises::table.find(code))
        .set((enterprises::name.eq(name), enterprises::kinds.eq(kinds)))
        .execute(conn)?;
    Ok(())
}

pub fn ratings(conn: &mut DbConn, code: &str) -> Result<Vec<RatingRow>, AppError> {
    Ok(on_inner!(conn, |c| credit_ratings::table
        .filter(credit_ratings::enterprise_code.eq(code))
        .order((
            credit_ratings::effective_from.asc(),
            credit_ratings::id.asc(),
        ))
        .select(RatingRow::as_select())
        .load(c))?)
}

/// Ratings of many enterprises at once, grouped by nothing (callers filter).
pub fn ratings_of(conn: &mut DbConn, codes: &[&str]) -> Result<Vec<RatingRow>, AppError> {
    Ok(credit_ratings::table
        .filter(credit_ratings::enterprise_code.eq_any(codes))
        .select(RatingRow::as_select())
        .load(conn)?)
}

pub fn insert_rating(conn: &mut DbConn, r: &NewRating<'_>) -> Result<i64, AppError> {
    let id = diesel::insert_into(credit_ratings::table)
        .values(r)
        .returning(credit_ratings::id)
        .get_result(conn)?;
    Ok(id)
}

pub fn warehouse(conn: &mut DbConn, code: &str) -> Result<Option<WarehouseRow>, AppError> {
    Ok(on_inner!(conn, |c| warehouses::table
        .find(code)
        .select(WarehouseRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn list_warehouses(conn: &mut DbConn) -> Result<Vec<WarehouseRow>, AppError> {
    Ok(warehouses::table
        .order(warehouses::code)
        .select(WarehouseRow::as_select())
        .load(conn)?)
}

pub fn warehouses_of_operator(conn: &mut DbConn, operator: &str) -> Result<Vec<String>, AppError> {
    Ok(warehouses::table
        .filter(warehouses::operator_code.eq(operator))
        .select(warehouses::code)
        .load(conn)?)
}

pub fn insert_warehouse(conn: &mut DbConn, row: &WarehouseRow) -> Result<(), AppError> {
    diesel::insert_into(warehouses::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn bin(conn: &mut DbConn, warehouse: &str, code: &str) -> Result<Option<BinRow>, AppError> {
    Ok(on_inner!(conn, |c| bins::table
        .find((warehouse, code))
        .select(BinRow::as_select())
        .get_result(c)
        .optional())?)
}

/// A bin by its code alone in any warehouse (bin codes carry their warehouse prefix).
pub fn bins_by_code(conn: &mut DbConn, code: &str) -> Result<Vec<BinRow>, AppError> {
    Ok(bins::table
        .filter(bins::code.eq(code))
        .select(BinRow::as_select())
        .load(conn)?)
}

pub fn list_bins(
    conn: &mut DbConn,
    warehouse: &str,
    area: Option<&str>,
) -> Result<Vec<BinRow>, AppError> {
    let mut q = bins::table
        .filter(bins::warehouse_code.eq(warehouse))
        .into_boxed();
    if let Some(a) = area {
        q = q.filter(bins::area.eq(a.to_string()));
    }
    Ok(q.order(bins::code).select(BinRow::as_select()).load(conn)?)
}

pub fn insert_bin(conn: &mut DbConn, row: &BinRow) -> Result<(), AppError> {
    diesel::insert_into(bins::table).values(row).execute(conn)?;
    Ok(())
}

pub fn camera(
    conn: &mut DbConn,
    warehouse: &str,
    code: &str,
) -> Result<Option<CameraRow>, AppError> {
    Ok(on_inner!(conn, |c| cameras::table
        .find((warehouse, code))
        .select(CameraRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn list_cameras(conn: &mut DbConn, warehouse: &str) -> Result<Vec<CameraRow>, AppError> {
    Ok(cameras::table
        .filter(cameras::warehouse_code.eq(warehouse))
        .order(cameras::code)
        .select(CameraRow::as_select())
        .load(conn)?)
}

/// The first camera (by code) covering `area` of `warehouse`.
pub fn camera_covering(
    conn: &mut DbConn,
    warehouse: &str,
    area: &str,
) -> Result<Option<CameraRow>, AppError> {
    Ok(on_inner!(conn, |c| cameras::table
        .filter(cameras::warehouse_code.eq(warehouse))
        .filter(cameras::area.eq(area))
        .order(cameras::code)
        .select(CameraRow::as_select())
        .first(c)
        .optional())?)
}

/// Every camera of the warehouses in `warehouses`.
pub fn cameras_of(conn: &mut DbConn, warehouses: &[String]) -> Result<Vec<CameraRow>, AppError> {
    Ok(cameras::table
        .filter(cameras::warehouse_code.eq_any(warehouses))
        .select(CameraRow::as_select())
        .load(conn)?)
}

pub fn insert_camera(conn: &mut DbConn, row: &CameraRow) -> Result<(), AppError> {
    diesel::insert_into(cameras::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

//! Declarations (what left the zone), returns, their lines, discrepancies, disposals and stock.

use super::timestamps::{OptTs, Ts};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use ref_cast::RefCast;

use super::schema::{
    audit_entries, declaration_lines, declarations, disposals, return_discrepancies, return_lines,
    returns, stock,
};
use super::{AnyOf, DbConn, FixedUpdate};

/// Markers of the UPDATEs kept prepared (see [`FixedUpdate`]).
struct UpdateReturnSql;
struct SaveLineSql;
struct AddStockSql;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = declarations, treat_none_as_null = true)]
pub struct DeclarationRow {
    pub invt_no: String,
    pub order_no: String,
    pub ebp_code: String,
    pub ebp_name: String,
    pub ebc_code: String,
    pub ebc_name: String,
    pub agent_code: String,
    pub agent_name: String,
    pub logistics_no: String,
    pub logistics_code: String,
    pub logistics_name: String,
    pub area_code: String,
    pub customs_code: String,
    pub buyer_id_type: String,
    pub buyer_id_number: String,
    pub buyer_name: String,
    pub buyer_telephone: String,
    #[diesel(deserialize_as = OptTs)]
    pub released_at: Option<NaiveDateTime>,
    pub return_status: Option<i32>,
    #[diesel(deserialize_as = Ts)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = declaration_lines)]
pub struct DeclarationLineRow {
    pub invt_no: String,
    pub gnum: i32,
    pub gcode: String,
    pub gname: String,
    pub qty: i64,
    pub unit: String,
    pub bar_code: Option<String>,
    pub price: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = returns, treat_none_as_null = true)]
pub struct ReturnRow {
    pub id: String,
    pub guid: String,
    pub invt_no: String,
    pub logistics_no: String,
    pub reason: String,
    pub state: String,
    pub held_from: Option<String>,
    pub late: bool,
    pub discrepancy: bool,
    pub warehouse_code: Option<String>,
    pub camera_code: Option<String>,
    pub bin_code: Option<String>,
    #[diesel(deserialize_as = Ts)]
    pub applied_at: NaiveDateTime,
    #[diesel(deserialize_as = OptTs)]
    pub received_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = OptTs)]
    pub closed_at: Option<NaiveDateTime>,
    pub customs_status: Option<i32>,
    pub customs_info: Option<String>,
    #[diesel(deserialize_as = OptTs)]
    pub customs_at: Option<NaiveDateTime>,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = return_lines)]
pub struct ReturnLineRow {
    pub return_id: String,
    pub gnum: i32,
    pub qty: i64,
    pub sorted: i64,
    pub inspected: bool,
    pub intact: i64,
    pub damaged_packaging: i64,
    pub used: i64,
    pub defective: i64,
    pub not_original: i64,
    pub restocked: i64,
    pub disposed_exit: i64,
    pub disposed_reexport: i64,
    pub disposed_destroy: i64,
    pub pending_disposal: i64,
}

impl ReturnLineRow {
    pub fn disposed(&self) -> i64 {
        self.disposed_exit + self.disposed_reexport + self.disposed_destroy
    }
    /// Counted units (sorted) still in the warehouse, pending disposals included.
    pub fn in_warehouse(&self) -> i64 {
        self.sorted - self.restocked - self.disposed()
    }
    /// Units not yet restocked, disposed or waiting for a disposal approval.
    pub fn unsettled(&self) -> i64 {
        self.in_warehouse() - self.pending_disposal
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = return_discrepancies)]
pub struct DiscrepancyRow {
    pub id: i64,
    pub return_id: String,
    pub code: String,
    pub qty: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = return_discrepancies)]
pub struct NewDiscrepancy<'a> {
    pub return_id: &'a str,
    pub code: &'a str,
    pub qty: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disposals)]
pub struct DisposalRow {
    pub id: i64,
    pub return_id: String,
    pub gnum: i32,
    pub qty: i64,
    pub route: String,
    pub reference: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = disposals)]
pub struct NewDisposal<'a> {
    pub return_id: &'a str,
    pub gnum: i32,
    pub qty: i64,
    pub route: &'a str,
    pub reference: &'a str,
    pub status: &'a str,
    pub requested_by: &'a str,
    pub requested_at: NaiveDateTime,
}

impl NewDiscrepancy<'_> {
    /// The discrepancy as a batch keeps it until it writes.
    pub fn to_write(&self) -> DiscrepancyToWrite {
        DiscrepancyToWrite {
            return_id: self.return_id.to_string(),
            code: self.code.to_string(),
            qty: self.qty,
            created_at: self.created_at,
        }
    }
}

impl NewDisposal<'_> {
    /// The row as stored under `id`.
    pub fn row(&self, id: i64) -> DisposalRow {
        DisposalRow {
            id,
            return_id: self.return_id.to_string(),
            gnum: self.gnum,
            qty: self.qty,
            route: self.route.to_string(),
            reference: self.reference.to_string(),
            status: self.status.to_string(),
            requested_by: self.requested_by.to_string(),
            requested_at: self.requested_at,
            decided_by: None,
            decided_at: None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock)]
pub struct StockRow {
    pub owner_code: String,
    pub gcode: String,
    pub warehouse_code: String,
    pub bin_code: String,
    pub gname: String,
    pub qty: i64,
    pub updated_at: NaiveDateTime,
}

pub fn declaration(conn: &mut DbConn, invt_no: &str) -> Result<Option<DeclarationRow>, AppError> {
    Ok(on_inner!(conn, |c| declarations::table
        .find(invt_no)
        .select(DeclarationRow::as_select())
        .get_result(c)
        .optional())?)
}

pub fn declaration_lines(
    conn: &mut DbConn,
    invt_no: &str,
) -> Result<Vec<DeclarationLineRow>, AppError> {
    Ok(on_inner!(conn, |c| declaration_lines::table
        .filter(declaration_lines::invt_no.eq(invt_no))
        .order(declaration_lines::gnum)
        .select(DeclarationLineRow::as_select())
        .load(c))?)
}

pub fn insert_declaration(
    conn: &mut DbConn,
    d: &DeclarationRow,
    lines: &[DeclarationLineRow],
) -> Result<(), AppError> {
    diesel::insert_into(declarations::table)
        .values(d)
        .execute(conn)?;
    for l in lines {
        diesel::insert_into(declaration_lines::table)
            .values(l)
            .execute(conn)?;
    }
    Ok(())
}

pub fn set_release(
    conn: &mut DbConn,
    invt_no: &str,
    status: i32,
    released_at: Option<NaiveDateTime>,
) -> Result<(), AppError> {
    diesel::update(declarations::table.find(invt_no))
        .set((
            declarations::return_status.eq(status),
            declarations::released_at.eq(released_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn declarations_by_waybill(
    conn: &mut DbConn,
    waybill: &str,
) -> Result<Vec<DeclarationRow>, AppError> {
    Ok(declarations::table
        .filter(declarations::logistics_no.eq(waybill))
        .select(DeclarationRow::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<ReturnRow>, AppError> {
    Ok(on_inner!(conn, |c| returns::table
        .find(id)
        .select(ReturnRow::as_select())
        .get_result(c)
        .optional())?)
}

/// A return with its declaration list, in one query.
pub fn get_with_declaration(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<(ReturnRow, DeclarationRow)>, AppError> {
    Ok(on_inner!(conn, |c| returns::table
        .inner_join(declarations::table)
        .filter(returns::id.eq(id))
        .select((ReturnRow::as_select(), DeclarationRow::as_select()))
        .get_result(c)
        .optional())?)
}

/// What a floor step reads of a return, in one statement: the return, its list, its lines
/// with their list lines, and (for a restock) the bonded stock of each line's product at
/// `stock_bin`.
#[derive(Debug, Clone)]
pub struct StepRows {
    pub ret: ReturnRow,
    pub decl: DeclarationRow,
    pub lines: Vec<ReturnLineRow>,
    pub decl_lines: Vec<DeclarationLineRow>,
    /// Stock at `stock_bin` by line number, for the lines that have some.
    pub stock: std::collections::BTreeMap<i32, i64>,
}

/// [`load_steps`] for one return.
pub fn load_step(
    conn: &mut DbConn,
    id: &str,
    stock_bin: Option<&str>,
) -> Result<Option<StepRows>, AppError> {
    Ok(load_steps(conn, &[(id, stock_bin)])?
        .into_iter()
        .next()
        .map(|(rows, _)| rows))
}

/// What floor steps read of several returns, in one statement (`wants`: each return with the
/// bin whose stock it reads): [`StepRows`] for each (return, bin) asked for, with that bin. A
/// return that does not exist is left out.
pub fn load_steps(
    conn: &mut DbConn,
    wants: &[(&str, Option<&str>)],
) -> Result<Vec<(StepRows, Option<String>)>, AppError> {
    let mut ids: Vec<&str> = wants.iter().map(|w| w.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut bins: Vec<&str> = wants.iter().filter_map(|w| w.1).collect();
    bins.sort_unstable();
    bins.dedup();
    type Row = (
        ReturnRow,
        DeclarationRow,
        Option<ReturnLineRow>,
        Option<DeclarationLineRow>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = on_inner!(conn, |c| returns::table
        .inner_join(declarations::table)
        .left_join(return_lines::table.on(return_lines::return_id.eq(returns::id)))
        .left_join(
            declaration_lines::table.on(declaration_lines::invt_no
                .eq(returns::invt_no)
                .and(declaration_lines::gnum.eq(return_lines::gnum))),
        )
        .left_join(
            stock::table.on(stock::owner_code
                .eq(declarations::ebc_code)
                .and(stock::gcode.eq(declaration_lines::gcode))
                .and(stock::warehouse_code.nullable().eq(returns::warehouse_code))
                .and(AnyOf::new(stock::bin_code, &bins))),
        )
        .filter(AnyOf::new(returns::id, &ids))
        .order((returns::id, return_lines::gnum))
        .select((
            ReturnRow::as_select(),
            DeclarationRow::as_select(),
            Option::<ReturnLineRow>::as_select(),
            Option::<DeclarationLineRow>::as_select(),
            stock::bin_code.nullable(),
            stock::qty.nullable(),
        ))
        .load(c))?;
    // The bins each return asks for (a return named twice in a batch may ask for two).
    let mut asked: std::collections::HashMap<&str, Vec<Option<&str>>> = Default::default();
    for (id, bin) in wants {
        let b = asked.entry(id).or_default();
        if !b.contains(bin) {
            b.push(*bin);
        }
    }
    let mut by_id: std::collections::BTreeMap<String, StepRows> = Default::default();
    // Stock rows by (return, bin, line).
    let mut stock_at: std::collections::HashMap<(String, String, i32), i64> = Default::default();
    for (ret, decl, line, decl_line, bin, qty) in rows {
        let rows = by_id.entry(ret.id.clone()).or_insert_with(|| StepRows {
            ret,
            decl,
            lines: Vec::new(),
            decl_lines: Vec::new(),
            stock: Default::default(),
        });
        if let Some(l) = line {
            if let (Some(bin), Some(q)) = (bin, qty) {
                stock_at.insert((l.return_id.clone(), bin, l.gnum), q);
            }
            // One row per bin with stock: each line and list line once.
            if rows.lines.last().map(|x| x.gnum) != Some(l.gnum) {
                rows.lines.push(l);
                rows.decl_lines.extend(decl_line);
            }
        }
    }
    let mut out = Vec::new();
    for (id, rows) in by_id {
        for bin in asked.get(id.as_str()).into_iter().flatten() {
            let mut copy = rows.clone();
            if let Some(bin) = bin {
                for l in &copy.lines {
                    if let Some(q) = stock_at.get(&(id.clone(), bin.to_string(), l.gnum)) {
                        copy.stock.insert(l.gnum, *q);
                    }
                }
            }
            out.push((copy, bin.map(str::to_string)));
        }
    }
    Ok(out)
}

/// Raises bonded stock for (owner, gcode, warehouse, bin) by `row.qty` in one statement.
pub fn raise_stock(conn: &mut DbConn, row: &StockRow) -> Result<(), AppError> {
    on_inner!(conn, |c| StockRaise(row).execute(c))?;
    Ok(())
}

/// `INSERT INTO stock (every column)`, before its values.
const STOCK_INSERT: &str = "INSERT INTO \"stock\" (\"owner_code\", \"gcode\", \
     \"warehouse_code\", \"bin_code\", \"gname\", \"qty\", \"updated_at\")";

/// What raises the stock of a key already stocked, after [`STOCK_INSERT`]'s values.
const STOCK_ADD: &str = " ON CONFLICT (\"owner_code\", \"gcode\", \"warehouse_code\", \
     \"bin_code\") DO UPDATE SET \"qty\" = \"stock\".\"qty\" + \"excluded\".\"qty\", \
     \"updated_at\" = \"excluded\".\"updated_at\"";

/// `INSERT INTO stock (…) VALUES (…) ON CONFLICT (its key) DO UPDATE SET qty = stock.qty +
/// excluded.qty, …`: one text, kept prepared. Diesel never keeps its own `ON CONFLICT … DO
/// UPDATE` prepared, so that statement was prepared (PostgreSQL: parsed and planned) anew on
/// every restock.
struct StockRaise<'a>(&'a StockRow);

impl diesel::query_builder::QueryId for StockRaise<'_> {
    type QueryId = StockRaise<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for StockRaise<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    Ts: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{BigInt, Text, Timestamp};
        let r = self.0;
        out.push_sql(STOCK_INSERT);
        out.push_sql(" VALUES (");
        for text in [
            &r.owner_code,
            &r.gcode,
            &r.warehouse_code,
            &r.bin_code,
            &r.gname,
        ] {
            out.push_bind_param::<Text, _>(text)?;
            out.push_sql(", ");
        }
        out.push_bind_param::<BigInt, _>(&r.qty)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(Ts::ref_cast(&r.updated_at))?;
        out.push_sql(")");
        out.push_sql(STOCK_ADD);
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for StockRaise<'_> {}

/// Records the discrepancies found at sorting, in one statement.
pub fn insert_discrepancies(
    conn: &mut DbConn,
    rows: &[NewDiscrepancy<'_>],
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    on_inner!(conn, |c| diesel::insert_into(return_discrepancies::table)
        .values(rows)
        .execute(c))?;
    Ok(())
}

/// The list line of the product with barcode `code` in the newest return holding it, among
/// the returns in `warehouse` when given (floor staff learn only of their own warehouse's).
pub fn product_by_barcode(
    conn: &mut DbConn,
    code: &str,
    warehouse: Option<&str>,
) -> Result<Option<DeclarationLineRow>, AppError> {
    Ok(on_inner!(conn, |c| {
        let mut q = declaration_lines::table
            .inner_join(returns::table.on(returns::invt_no.eq(declaration_lines::invt_no)))
            .inner_join(
                return_lines::table.on(return_lines::return_id
                    .eq(returns::id)
                    .and(return_lines::gnum.eq(declaration_lines::gnum))),
            )
            .filter(declaration_lines::bar_code.eq(code))
            .order(returns::applied_at.desc())
            .select(DeclarationLineRow::as_select())
            .into_boxed();
        if let Some(w) = warehouse {
            q = q.filter(returns::warehouse_code.eq(w));
        }
        q.first(c).optional()
    })?)
}

pub fn by_waybill(conn: &mut DbConn, waybill: &str) -> Result<Vec<ReturnRow>, AppError> {
    Ok(returns::table
        .filter(returns::logistics_no.eq(waybill))
        .order(returns::applied_at.desc())
        .select(ReturnRow::as_select())
        .load(conn)?)
}

pub fn of_declaration(conn: &mut DbConn, invt_no: &str) -> Result<Vec<ReturnRow>, AppError> {
    Ok(returns::table
        .filter(returns::invt_no.eq(invt_no))
        .select(ReturnRow::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut DbConn, r: &ReturnRow, lines: &[ReturnLineRow]) -> Result<(), AppError> {
    diesel::insert_into(returns::table)
        .values(r)
        .execute(conn)?;
    for l in lines {
        diesel::insert_into(return_lines::table)
            .values(l)
            .execute(conn)?;
    }
    Ok(())
}

/// The columns of a return that change after its application: an UPDATE that leaves the
/// identity columns alone does not rewrite the primary-key, waybill and list indexes nor
/// re-check the foreign keys that point at them.
#[derive(AsChangeset)]
#[diesel(table_name = returns, treat_none_as_null = true)]
struct ReturnProgress<'a> {
    state: &'a str,
    held_from: Option<&'a str>,
    late: bool,
    discrepancy: bool,
    warehouse_code: Option<&'a str>,
    camera_code: Option<&'a str>,
    bin_code: Option<&'a str>,
    received_at: Option<Ts>,
    closed_at: Option<Ts>,
    customs_status: Option<i32>,
    customs_info: Option<&'a str>,
    customs_at: Option<Ts>,
}

impl<'a> From<&'a ReturnRow> for ReturnProgress<'a> {
    fn from(r: &'a ReturnRow) -> Self {
        Self {
            state: &r.state,
            held_from: r.held_from.as_deref(),
            late: r.late,
            discrepancy: r.discrepancy,
            warehouse_code: r.warehouse_code.as_deref(),
            camera_code: r.camera_code.as_deref(),
            bin_code: r.bin_code.as_deref(),
            received_at: r.received_at.map(Ts),
            closed_at: r.closed_at.map(Ts),
            customs_status: r.customs_status,
            customs_info: r.customs_info.as_deref(),
            customs_at: r.customs_at.map(Ts),
        }
    }
}

/// The counts of a return line (its return, line number and applied quantity never change).
#[derive(AsChangeset)]
#[diesel(table_name = return_lines)]
struct LineProgress {
    sorted: i64,
    inspected: bool,
    intact: i64,
    damaged_packaging: i64,
    used: i64,
    defective: i64,
    not_original: i64,
    restocked: i64,
    disposed_exit: i64,
    disposed_reexport: i64,
    disposed_destroy: i64,
    pending_disposal: i64,
}

impl From<&ReturnLineRow> for LineProgress {
    fn from(l: &ReturnLineRow) -> Self {
        Self {
            sorted: l.sorted,
            inspected: l.inspected,
            intact: l.intact,
            damaged_packaging: l.damaged_packaging,
            used: l.used,
            defective: l.defective,
            not_original: l.not_original,
            restocked: l.restocked,
            disposed_exit: l.disposed_exit,
            disposed_reexport: l.disposed_reexport,
            disposed_destroy: l.disposed_destroy,
            pending_disposal: l.pending_disposal,
        }
    }
}

/// Saves a return whose state was `expected`; refuses (as a lost race) when it no longer is.
/// Saves what changes after the application (state, places, times, customs receipt); the
/// identity columns (id, guid, list, waybill, reason, applied_at, created_by) never change.
pub fn update_from(conn: &mut DbConn, r: &ReturnRow, expected: &str) -> Result<(), AppError> {
    // Every column of the changeset is set (`treat_none_as_null`): the text never varies.
    let n = on_inner!(conn, |c| FixedUpdate::<_, _, _, UpdateReturnSql>::new(
        returns::table,
        ReturnProgress::from(r),
        returns::id.eq(&r.id).and(returns::state.eq(expected)),
    )
    .execute(c))?;
    if n != 1 {
        return Err(AppError::InvalidState(format!(
            "return {} changed meanwhile; scan it again",
            r.id
        )));
    }
    Ok(())
}

/// The refusal when a return is no longer in the state a step decided from.
pub fn changed_meanwhile(id: &str) -> AppError {
    AppError::InvalidState(format!("return {id} changed meanwhile; scan it again"))
}

/// Saves the counts of several lines of one return in one statement (one line: [`save_line`]).
pub fn save_lines(conn: &mut DbConn, lines: &[&ReturnLineRow]) -> Result<(), AppError> {
    match lines {
        [] => Ok(()),
        [one] => save_line(conn, one),
        _ => {
            on_inner!(conn, |c| SaveLines(lines, false).execute(c))?;
            Ok(())
        }
    }
}

/// The counts of a line in the order of [`LINE_COUNTS`], but for `inspected` (a flag).
fn line_counts(l: &ReturnLineRow) -> [i64; 11] {
    [
        l.sorted,
        l.intact,
        l.damaged_packaging,
        l.used,
        l.defective,
        l.not_original,
        l.restocked,
        l.disposed_exit,
        l.disposed_reexport,
        l.disposed_destroy,
        l.pending_disposal,
    ]
}

/// The columns of a return that change after its application (see [`ReturnProgress`]).
const RETURN_PROGRESS: [&str; 12] = [
    "state",
    "held_from",
    "late",
    "discrepancy",
    "warehouse_code",
    "camera_code",
    "bin_code",
    "received_at",
    "closed_at",
    "customs_status",
    "customs_info",
    "customs_at",
];

/// `"c" = "v"."c", …` for each of `columns`.
fn set_from_v<DB: diesel::backend::Backend>(
    out: &mut diesel::query_builder::AstPass<'_, '_, DB>,
    columns: &[&str],
) {
    list_columns(out, columns, true);
}

/// `"a", "b", …`
fn column_list<DB: diesel::backend::Backend>(
    out: &mut diesel::query_builder::AstPass<'_, '_, DB>,
    columns: &[&str],
) {
    list_columns(out, columns, false);
}

/// `columns`, comma-separated, each quoted and, `from_v`, set from `v`.
fn list_columns<DB: diesel::backend::Backend>(
    out: &mut diesel::query_builder::AstPass<'_, '_, DB>,
    columns: &[&str],
    from_v: bool,
) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_sql("\"");
        out.push_sql(c);
        out.push_sql("\"");
        if from_v {
            out.push_sql(" = \"v\".\"");
            out.push_sql(c);
            out.push_sql("\"");
        }
    }
}

/// Saves several returns (each once) on PostgreSQL, as a part of a batch's statement
/// (`db::batch`): `UPDATE returns SET progress = v.progress FROM unnest($ids, $expected, …)
/// AS v(…) WHERE id = v.id AND state = v.expected`, one array per column, so the text is the
/// same whatever their number. A return no longer in the state expected is not updated (the
/// batch counts the rows).
pub struct ReturnsSavePg {
    id: Vec<String>,
    expected: Vec<String>,
    state: Vec<String>,
    held_from: Vec<Option<String>>,
    late: Vec<bool>,
    discrepancy: Vec<bool>,
    /// warehouse_code, camera_code, bin_code
    places: [Vec<Option<String>>; 3],
    /// received_at, closed_at
    times: [Vec<Option<NaiveDateTime>>; 2],
    customs_status: Vec<Option<i32>>,
    customs_info: Vec<Option<String>>,
    customs_at: Vec<Option<NaiveDateTime>>,
}

impl ReturnsSavePg {
    /// Each return as saved, with the state it must still have.
    pub fn of<'a>(returns: impl Iterator<Item = (&'a str, &'a ReturnRow)>) -> Self {
        let mut out = Self {
            id: Vec::new(),
            expected: Vec::new(),
            state: Vec::new(),
            held_from: Vec::new(),
            late: Vec::new(),
            discrepancy: Vec::new(),
            places: Default::default(),
            times: Default::default(),
            customs_status: Vec::new(),
            customs_info: Vec::new(),
            customs_at: Vec::new(),
        };
        for (expected, r) in returns {
            out.id.push(r.id.clone());
            out.expected.push(expected.to_string());
            out.state.push(r.state.clone());
            out.held_from.push(r.held_from.clone());
            out.late.push(r.late);
            out.discrepancy.push(r.discrepancy);
            for (column, v) in
                out.places
                    .iter_mut()
                    .zip([&r.warehouse_code, &r.camera_code, &r.bin_code])
            {
                column.push(v.clone());
            }
            out.times[0].push(r.received_at);
            out.times[1].push(r.closed_at);
            out.customs_status.push(r.customs_status);
            out.customs_info.push(r.customs_info.clone());
            out.customs_at.push(r.customs_at);
        }
        out
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for ReturnsSavePg {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, Bool, Integer, Nullable, Text, Timestamp};
        out.push_sql("UPDATE \"returns\" SET ");
        set_from_v(&mut out, &RETURN_PROGRESS);
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.expected)?;
        // In the order of RETURN_PROGRESS.
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.state)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.held_from)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.late)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.discrepancy)?;
        for column in &self.places {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(column)?;
        }
        for column in &self.times {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Timestamp>>, _>(column)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Integer>>, _>(&self.customs_status)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.customs_info)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Timestamp>>, _>(&self.customs_at)?;
        out.push_sql(") AS \"v\" (\"id\", \"expected\", ");
        column_list(&mut out, &RETURN_PROGRESS);
        out.push_sql(
            ") WHERE \"returns\".\"id\" = \"v\".\"id\" \
             AND \"returns\".\"state\" = \"v\".\"expected\"",
        );
        Ok(())
    }
}

/// Saves the counts of several lines (each once, of any returns) on PostgreSQL, as a part of
/// a batch's statement (`db::batch`): `UPDATE return_lines SET counts = v.counts FROM
/// unnest($return_ids, $gnums, …) AS v(…) WHERE …`, one array per column, so the text is the
/// same whatever the number of lines.
pub struct LinesSavePg {
    return_id: Vec<String>,
    gnum: Vec<i32>,
    inspected: Vec<bool>,
    /// Every count of [`LINE_COUNTS`] but `inspected`, in that order.
    counts: [Vec<i64>; 11],
}

impl LinesSavePg {
    pub fn of<'a>(lines: impl Iterator<Item = &'a ReturnLineRow>) -> Self {
        let mut out = Self {
            return_id: Vec::new(),
            gnum: Vec::new(),
            inspected: Vec::new(),
            counts: Default::default(),
        };
        for l in lines {
            out.return_id.push(l.return_id.clone());
            out.gnum.push(l.gnum);
            out.inspected.push(l.inspected);
            for (column, n) in out.counts.iter_mut().zip(line_counts(l)) {
                column.push(n);
            }
        }
        out
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for LinesSavePg {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Bool, Integer, Text};
        out.push_sql("UPDATE \"return_lines\" SET ");
        set_counts(&mut out);
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.return_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.gnum)?;
        let mut counts = self.counts.iter();
        for c in LINE_COUNTS {
            out.push_sql(", ");
            if c == "inspected" {
                out.push_bind_param::<Array<Bool>, _>(&self.inspected)?;
            } else if let Some(column) = counts.next() {
                out.push_bind_param::<Array<BigInt>, _>(column)?;
            }
        }
        out.push_sql(") AS \"v\" (\"return_id\", \"gnum\", ");
        column_list(&mut out, &LINE_COUNTS);
        out.push_sql(
            ") WHERE \"return_lines\".\"return_id\" = \"v\".\"return_id\" \
             AND \"return_lines\".\"gnum\" = \"v\".\"gnum\"",
        );
        Ok(())
    }
}

/// A discrepancy to record, owned (kept by a batch until it writes).
#[derive(Debug, Clone)]
pub struct DiscrepancyToWrite {
    pub return_id: String,
    pub code: String,
    pub qty: i64,
    pub created_at: NaiveDateTime,
}

/// Records discrepancies (of any returns) on PostgreSQL, as a part of a batch's statement:
/// `INSERT … SELECT * FROM unnest(…)`, the same text whatever their number.
pub struct DiscrepanciesPg {
    return_id: Vec<String>,
    code: Vec<String>,
    qty: Vec<i64>,
    created_at: Vec<NaiveDateTime>,
}

impl DiscrepanciesPg {
    pub fn of(rows: &[DiscrepancyToWrite]) -> Self {
        Self {
            return_id: rows.iter().map(|r| r.return_id.clone()).collect(),
            code: rows.iter().map(|r| r.code.clone()).collect(),
            qty: rows.iter().map(|r| r.qty).collect(),
            created_at: rows.iter().map(|r| r.created_at).collect(),
        }
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for DiscrepanciesPg {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Text, Timestamp};
        out.push_sql(
            "INSERT INTO \"return_discrepancies\" (\"return_id\", \"code\", \"qty\", \
             \"created_at\") SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.return_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.code)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.qty)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.created_at)?;
        out.push_sql(")");
        Ok(())
    }
}

/// Raises bonded stock for several keys (each once) on PostgreSQL, as a part of a batch's
/// statement: [`StockRaise`] with one array per column.
pub struct StockRaisePg {
    /// owner_code, gcode, warehouse_code, bin_code, gname
    text: [Vec<String>; 5],
    qty: Vec<i64>,
    updated_at: Vec<NaiveDateTime>,
}

impl StockRaisePg {
    pub fn of<'a>(rows: impl Iterator<Item = &'a StockRow>) -> Self {
        let mut out = Self {
            text: Default::default(),
            qty: Vec::new(),
            updated_at: Vec::new(),
        };
        for r in rows {
            for (column, v) in out.text.iter_mut().zip([
                &r.owner_code,
                &r.gcode,
                &r.warehouse_code,
                &r.bin_code,
                &r.gname,
            ]) {
                column.push(v.clone());
            }
            out.qty.push(r.qty);
            out.updated_at.push(r.updated_at);
        }
        out
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for StockRaisePg {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Text, Timestamp};
        out.push_sql(STOCK_INSERT);
        out.push_sql(" SELECT * FROM unnest(");
        for column in &self.text {
            out.push_bind_param::<Array<Text>, _>(column)?;
            out.push_sql(", ");
        }
        out.push_bind_param::<Array<BigInt>, _>(&self.qty)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.updated_at)?;
        out.push_sql(")");
        out.push_sql(STOCK_ADD);
        Ok(())
    }
}

/// `WITH v(gnum, counts…) AS (VALUES …) UPDATE return_lines SET counts = v.counts FROM v
/// WHERE return_id = … AND gnum = v.gnum`: the same on both backends. Inline (PostgreSQL,
/// inside another WITH): `UPDATE … FROM (VALUES …) AS v(gnum, counts…) WHERE …`.
struct SaveLines<'a>(&'a [&'a ReturnLineRow], bool);

impl diesel::query_builder::QueryId for SaveLines<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

const LINE_COUNTS: [&str; 12] = [
    "sorted",
    "inspected",
    "intact",
    "damaged_packaging",
    "used",
    "defective",
    "not_original",
    "restocked",
    "disposed_exit",
    "disposed_reexport",
    "disposed_destroy",
    "pending_disposal",
];

impl<DB> diesel::query_builder::QueryFragment<DB> for SaveLines<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Integer>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Bool>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
    bool: diesel::serialize::ToSql<diesel::sql_types::Bool, DB>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{BigInt, Bool, Integer, Text};
        let columns = |out: &mut diesel::query_builder::AstPass<'_, 'b, DB>| {
            out.push_sql("\"v\" (\"gnum\", ");
            column_list(out, &LINE_COUNTS);
            out.push_sql(")");
        };
        let inline = self.1;
        if inline {
            out.push_sql("UPDATE \"return_lines\" SET ");
            set_counts(&mut out);
            out.push_sql(" FROM (VALUES ");
        } else {
            out.push_sql("WITH ");
            columns(&mut out);
            out.push_sql(" AS (VALUES ");
        }
        for (i, l) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<Integer, _>(&l.gnum)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, _>(&l.sorted)?;
            out.push_sql(", ");
            out.push_bind_param::<Bool, _>(&l.inspected)?;
            // The rest of LINE_COUNTS, in its order.
            for n in [
                &l.intact,
                &l.damaged_packaging,
                &l.used,
                &l.defective,
                &l.not_original,
                &l.restocked,
                &l.disposed_exit,
                &l.disposed_reexport,
                &l.disposed_destroy,
                &l.pending_disposal,
            ] {
                out.push_sql(", ");
                out.push_bind_param::<BigInt, _>(n)?;
            }
            out.push_sql(")");
        }
        if inline {
            out.push_sql(") AS ");
            columns(&mut out);
        } else {
            out.push_sql(") UPDATE \"return_lines\" SET ");
            set_counts(&mut out);
            out.push_sql(" FROM \"v\"");
        }
        out.push_sql(" WHERE \"return_lines\".\"return_id\" = ");
        out.push_bind_param::<Text, _>(&self.0[0].return_id)?;
        out.push_sql(" AND \"return_lines\".\"gnum\" = \"v\".\"gnum\"");
        Ok(())
    }
}

/// `count = v.count, …` for every count of a line.
fn set_counts<DB: diesel::backend::Backend>(out: &mut diesel::query_builder::AstPass<'_, '_, DB>) {
    set_from_v(out, &LINE_COUNTS);
}

impl<Conn> RunQueryDsl<Conn> for SaveLines<'_> {}

pub fn lines(conn: &mut DbConn, id: &str) -> Result<Vec<ReturnLineRow>, AppError> {
    Ok(on_inner!(conn, |c| return_lines::table
        .filter(return_lines::return_id.eq(id))
        .order(return_lines::gnum)
        .select(ReturnLineRow::as_select())
        .load(c))?)
}

/// The lines of those of `rets` that are inspected (what they still have to settle decides
/// what a worker is offered), in one query; none read when no return is inspected.
pub fn lines_of_inspected<'a>(
    conn: &mut DbConn,
    rets: impl IntoIterator<Item = &'a ReturnRow>,
) -> Result<Vec<ReturnLineRow>, AppError> {
    let ids: Vec<&str> = rets
        .into_iter()
        .filter(|r| r.state == "inspected")
        .map(|r| r.id.as_str())
        .collect();
    let mut out = Vec::new();
    // In chunks: SQLite takes at most 32,766 bound values in one statement.
    for chunk in ids.chunks(5000) {
        out.extend(on_inner!(conn, |c| return_lines::table
            .filter(return_lines::return_id.eq_any(chunk))
            .order((return_lines::return_id, return_lines::gnum))
            .select(ReturnLineRow::as_select())
            .load::<ReturnLineRow>(c))?);
    }
    Ok(out)
}

/// A return's lines and, in one query, the list lines they are for (only those: what a step
/// and its answer use).
pub fn lines_with_declaration(
    conn: &mut DbConn,
    id: &str,
    invt_no: &str,
) -> Result<(Vec<ReturnLineRow>, Vec<DeclarationLineRow>), AppError> {
    let rows: Vec<(ReturnLineRow, Option<DeclarationLineRow>)> = on_inner!(conn, |c| {
        return_lines::table
            .left_join(
                declaration_lines::table.on(declaration_lines::invt_no
                    .eq(invt_no)
                    .and(declaration_lines::gnum.eq(return_lines::gnum))),
            )
            .filter(return_lines::return_id.eq(id))
            .order(return_lines::gnum)
            .select((
                ReturnLineRow::as_select(),
                Option::<DeclarationLineRow>::as_select(),
            ))
            .load(c)
    })?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut decl_lines = Vec::with_capacity(rows.len());
    for (l, d) in rows {
        lines.push(l);
        decl_lines.extend(d);
    }
    Ok((lines, decl_lines))
}

/// Saves a line's counts.
pub fn save_line(conn: &mut DbConn, l: &ReturnLineRow) -> Result<(), AppError> {
    // No optional fields: every column is set, the text never varies.
    on_inner!(conn, |c| FixedUpdate::<_, _, _, SaveLineSql>::new(
        return_lines::table,
        LineProgress::from(l),
        return_lines::return_id
            .eq(&l.return_id)
            .and(return_lines::gnum.eq(l.gnum)),
    )
    .execute(c))?;
    Ok(())
}

pub fn discrepancies(conn: &mut DbConn, id: &str) -> Result<Vec<DiscrepancyRow>, AppError> {
    Ok(on_inner!(conn, |c| return_discrepancies::table
        .filter(return_discrepancies::return_id.eq(id))
        .order(return_discrepancies::id)
        .select(DiscrepancyRow::as_select())
        .load(c))?)
}

pub fn insert_discrepancy(conn: &mut DbConn, d: &NewDiscrepancy<'_>) -> Result<(), AppError> {
    on_inner!(conn, |c| diesel::insert_into(return_discrepancies::table)
        .values(d)
        .execute(c))?;
    Ok(())
}

pub fn disposals_of(conn: &mut DbConn, id: &str) -> Result<Vec<DisposalRow>, AppError> {
    Ok(on_inner!(conn, |c| disposals::table
        .filter(disposals::return_id.eq(id))
        .order(disposals::id)
        .select(DisposalRow::as_select())
        .load(c))?)
}

/// The disposals of several returns, in one statement, oldest first.
pub fn disposals_of_many(conn: &mut DbConn, ids: &[&str]) -> Result<Vec<DisposalRow>, AppError> {
    Ok(on_inner!(conn, |c| disposals::table
        .filter(AnyOf::new(disposals::return_id, ids))
        .order(disposals::id)
        .select(DisposalRow::as_select())
        .load(c))?)
}

/// What the restocks of several returns recorded (the return id and the entry's `changes`,
/// which name the bin and the quantity), in one statement, in the order of the log.
pub fn restocks_of(conn: &mut DbConn, ids: &[&str]) -> Result<Vec<(String, String)>, AppError> {
    Ok(on_inner!(conn, |c| audit_entries::table
        .filter(audit_entries::entity_kind.eq("return"))
        .filter(AnyOf::new(audit_entries::entity_id, ids))
        .filter(audit_entries::action.eq("return.restock"))
        .order(audit_entries::seq)
        .select((audit_entries::entity_id, audit_entries::changes))
        .load(c))?)
}

pub fn disposal(conn: &mut DbConn, id: i64) -> Result<Option<DisposalRow>, AppError> {
    Ok(disposals::table
        .find(id)
        .select(DisposalRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn disposals_by_status(conn: &mut DbConn, status: &str) -> Result<Vec<DisposalRow>, AppError> {
    Ok(disposals::table
        .filter(disposals::status.eq(status))
        .order(disposals::id)
        .select(DisposalRow::as_select())
        .load(conn)?)
}

pub fn insert_disposal(conn: &mut DbConn, d: &NewDisposal<'_>) -> Result<i64, AppError> {
    Ok(diesel::insert_into(disposals::table)
        .values(d)
        .returning(disposals::id)
        .get_result(conn)?)
}

pub fn decide_disposal(
    conn: &mut DbConn,
    id: i64,
    status: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    let n = diesel::update(
        disposals::table
            .filter(disposals::id.eq(id))
            .filter(disposals::status.eq("pending_approval")),
    )
    .set((
        disposals::status.eq(status),
        disposals::decided_by.eq(by),
        disposals::decided_at.eq(at),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(AppError::InvalidState(format!(
            "disposal {id} was already decided"
        )));
    }
    Ok(())
}

/// Raises bonded stock for (owner, gcode, warehouse, bin) by `qty`.
pub fn add_stock(conn: &mut DbConn, row: &StockRow) -> Result<i64, AppError> {
    let key = stock::table.find((
        &row.owner_code,
        &row.gcode,
        &row.warehouse_code,
        &row.bin_code,
    ));
    let current: Option<i64> =
        on_inner!(conn, |c| key.select(stock::qty).get_result(c).optional())?;
    match current {
        Some(q) => {
            let new = q + row.qty;
            on_inner!(conn, |c| FixedUpdate::<_, _, _, AddStockSql>::new(
                stock::table,
                (stock::qty.eq(new), stock::updated_at.eq(row.updated_at)),
                stock::owner_code
                    .eq(&row.owner_code)
                    .and(stock::gcode.eq(&row.gcode))
                    .and(stock::warehouse_code.eq(&row.warehouse_code))
                    .and(stock::bin_code.eq(&row.bin_code)),
            )
            .execute(c))?;
            Ok(new)
        }
        None => {
            on_inner!(conn, |c| diesel::insert_into(stock::table)
                .values(row)
                .execute(c))?;
            Ok(row.qty)
        }
    }
}

pub fn stock(
    conn: &mut DbConn,
    owner: Option<&str>,
    gcode: Option<&str>,
    bin: Option<&str>,
    warehouse: Option<&str>,
) -> Result<Vec<StockRow>, AppError> {
    let mut q = stock::table.into_boxed();
    if let Some(o) = owner {
        q = q.filter(stock::owner_code.eq(o.to_string()));
    }
    if let Some(g) = gcode {
        q = q.filter(stock::gcode.eq(g.to_string()));
    }
    if let Some(b) = bin {
        q = q.filter(stock::bin_code.eq(b.to_string()));
    }
    if let Some(w) = warehouse {
        q = q.filter(stock::warehouse_code.eq(w.to_string()));
    }
    Ok(q.order((
        stock::warehouse_code,
        stock::bin_code,
        stock::owner_code,
        stock::gcode,
    ))
    .limit(1000)
    .select(StockRow::as_select())
    .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;

    fn line() -> ReturnLineRow {
        ReturnLineRow {
            return_id: "RT1".into(),
            gnum: 1,
            qty: 2,
            sorted: 2,
            inspected: true,
            intact: 2,
            damaged_packaging: 0,
            used: 0,
            defective: 0,
            not_original: 0,
            restocked: 1,
            disposed_exit: 0,
            disposed_reexport: 0,
            disposed_destroy: 0,
            pending_disposal: 0,
        }
    }

    /// The kept-prepared UPDATEs say exactly what diesel's own would, on both backends.
    #[test]
    fn fixed_updates_render_like_diesels_own() {
        fn same<A, B>(ours: &A, theirs: &B)
        where
            A: diesel::query_builder::QueryFragment<Sqlite>
                + diesel::query_builder::QueryFragment<Pg>,
            B: diesel::query_builder::QueryFragment<Sqlite>
                + diesel::query_builder::QueryFragment<Pg>,
        {
            assert_eq!(
                diesel::debug_query::<Sqlite, _>(ours).to_string(),
                diesel::debug_query::<Sqlite, _>(theirs).to_string()
            );
            assert_eq!(
                diesel::debug_query::<Pg, _>(ours).to_string(),
                diesel::debug_query::<Pg, _>(theirs).to_string()
            );
        }
        let l = line();
        same(
            &FixedUpdate::<_, _, _, SaveLineSql>::new(
                return_lines::table,
                LineProgress::from(&l),
                return_lines::return_id
                    .eq(&l.return_id)
                    .and(return_lines::gnum.eq(l.gnum)),
            ),
            &diesel::update(
                return_lines::table
                    .filter(return_lines::return_id.eq(&l.return_id))
                    .filter(return_lines::gnum.eq(l.gnum)),
            )
            .set(LineProgress::from(&l)),
        );
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        let r = ReturnRow {
            id: "RT1".into(),
            guid: "g".into(),
            invt_no: "I".into(),
            logistics_no: "W".into(),
            reason: "r".into(),
            state: "sorted".into(),
            held_from: None,
            late: false,
            discrepancy: false,
            warehouse_code: Some("WH".into()),
            camera_code: None,
            bin_code: Some("B".into()),
            applied_at: at,
            received_at: Some(at),
            closed_at: None,
            customs_status: None,
            customs_info: None,
            customs_at: None,
            created_by: "u".into(),
        };
        same(
            &FixedUpdate::<_, _, _, UpdateReturnSql>::new(
                returns::table,
                ReturnProgress::from(&r),
                returns::id.eq(&r.id).and(returns::state.eq("received")),
            ),
            &diesel::update(
                returns::table
                    .filter(returns::id.eq(&r.id))
                    .filter(returns::state.eq("received")),
            )
            .set(ReturnProgress::from(&r)),
        );
    }
}

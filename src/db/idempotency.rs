//! Stored answers to requests that carried an `Idempotency-Key`.

use super::timestamps::Ts;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use ref_cast::RefCast;

use super::schema::idempotency_keys;
use super::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredAnswer {
    pub key: String,
    pub username: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, key: &str) -> Result<Option<StoredAnswer>, AppError> {
    Ok(on_inner!(conn, |c| idempotency_keys::table
        .find(key)
        .select(StoredAnswer::as_select())
        .get_result(c)
        .optional())?)
}

pub fn store(conn: &mut DbConn, answer: &StoredAnswer) -> Result<(), AppError> {
    on_inner!(conn, |c| InsertAnswer(answer).execute(c))?;
    Ok(())
}

/// Which of `keys` have an answer stored, in one statement.
pub fn used(conn: &mut DbConn, keys: &[&str]) -> Result<Vec<String>, AppError> {
    Ok(on_inner!(conn, |c| idempotency_keys::table
        .filter(super::AnyOf::new(idempotency_keys::key, keys))
        .select(idempotency_keys::key)
        .load(c))?)
}

/// Stores several answers: on PostgreSQL in one statement (`INSERT … SELECT … FROM
/// unnest(…)`, the same text whatever their number), on SQLite one prepared INSERT each (no
/// round trips there).
pub fn store_all(conn: &mut DbConn, answers: &[StoredAnswer]) -> Result<(), AppError> {
    match conn {
        DbConn::Pg(c) => {
            InsertAnswers::of(answers).execute(c)?;
        }
        DbConn::Sqlite(c) => {
            for a in answers {
                InsertAnswer(a).execute(c)?;
            }
        }
    }
    Ok(())
}

/// The statement of [`store_all`] on PostgreSQL: a column of values each (also a part of a
/// batch's statement, `db::batch`).
pub struct InsertAnswers<'a> {
    key: Vec<&'a str>,
    username: Vec<&'a str>,
    request_hash: Vec<&'a str>,
    status: Vec<i32>,
    body: Vec<&'a str>,
    created_at: Vec<NaiveDateTime>,
}

impl<'a> InsertAnswers<'a> {
    /// The answers' columns, borrowed from them.
    pub fn of(answers: &'a [StoredAnswer]) -> Self {
        let column =
            |f: fn(&StoredAnswer) -> &String| answers.iter().map(|a| f(a).as_str()).collect();
        Self {
            key: column(|a| &a.key),
            username: column(|a| &a.username),
            request_hash: column(|a| &a.request_hash),
            status: answers.iter().map(|a| a.status).collect(),
            body: column(|a| &a.body),
            created_at: answers.iter().map(|a| a.created_at).collect(),
        }
    }
}

impl diesel::query_builder::QueryId for InsertAnswers<'_> {
    type QueryId = InsertAnswers<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for InsertAnswers<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, Integer, Text, Timestamp};
        out.push_sql(
            "INSERT INTO \"idempotency_keys\" (\"key\", \"username\", \"request_hash\", \
             \"status\", \"body\", \"created_at\") SELECT * FROM unnest(",
        );
        for text in [&self.key, &self.username, &self.request_hash] {
            out.push_bind_param::<Array<Text>, _>(text)?;
            out.push_sql(", ");
        }
        out.push_bind_param::<Array<Integer>, _>(&self.status)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.body)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.created_at)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for InsertAnswers<'_> {}

/// `INSERT INTO idempotency_keys (every column) VALUES (…)`, kept prepared (see
/// `audit::InsertEntry`: diesel renders its own INSERT of a struct on every call, and never
/// keeps it prepared on PostgreSQL).
struct InsertAnswer<'a>(&'a StoredAnswer);

impl diesel::query_builder::QueryId for InsertAnswer<'_> {
    type QueryId = InsertAnswer<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for InsertAnswer<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Integer>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
    Ts: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Integer, Text, Timestamp};
        let a = self.0;
        out.push_sql(
            "INSERT INTO \"idempotency_keys\" (\"key\", \"username\", \"request_hash\", \
             \"status\", \"body\", \"created_at\") VALUES (",
        );
        for text in [&a.key, &a.username, &a.request_hash] {
            out.push_bind_param::<Text, _>(text)?;
            out.push_sql(", ");
        }
        out.push_bind_param::<Integer, _>(&a.status)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&a.body)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(Ts::ref_cast(&a.created_at))?;
        out.push_sql(")");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for InsertAnswer<'_> {}

/// Forgets answers older than `before` (kept at least 24 hours).
///
/// On SQLite the answers have no index of their times (one tree fewer written by every floor
/// step): they are forgotten in the order they were stored, up to the first one stored at or
/// after `before`. Reading up to it reads only what is forgotten; an older answer stored after
/// it (the clock set back) is kept until a later purge reaches it.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, AppError> {
    match conn {
        DbConn::Pg(c) => Ok(diesel::delete(
            idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)),
        )
        .execute(c)?),
        DbConn::Sqlite(c) => Ok(diesel::sql_query(
            "DELETE FROM idempotency_keys WHERE rowid < coalesce(\
             (SELECT rowid FROM idempotency_keys WHERE created_at >= ? ORDER BY rowid LIMIT 1), \
             (SELECT max(rowid) + 1 FROM idempotency_keys))",
        )
        .bind::<diesel::sql_types::Timestamp, _>(before)
        .execute(c)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{establish, migrate, DbUrl, SqliteSync};

    #[test]
    fn a_stored_answer_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = establish(&DbUrl::Sqlite(dir.path().join("i.db")), SqliteSync::Normal).unwrap();
        migrate(&mut c).unwrap();
        let a = StoredAnswer {
            key: "u\u{1f}k-1".into(),
            username: "u".into(),
            request_hash: "ab".repeat(32),
            status: 201,
            body: r#"{"id":"RT1","名":"\"x\""}"#.into(),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 5_000)
                .unwrap()
                .naive_utc(),
        };
        store(&mut c, &a).unwrap();
        let b = find(&mut c, &a.key).unwrap().unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(find(&mut c, "other").unwrap().is_none());
        // The key is unique: a second answer under it is refused.
        assert!(store(&mut c, &a).is_err());
    }

    #[test]
    fn a_purge_forgets_the_answers_stored_before_the_first_young_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = establish(&DbUrl::Sqlite(dir.path().join("p.db")), SqliteSync::Normal).unwrap();
        migrate(&mut c).unwrap();
        let at = |h: i64| {
            chrono::DateTime::from_timestamp(1_700_000_000 + h * 3600, 0)
                .unwrap()
                .naive_utc()
        };
        let answer = |key: &str, h: i64| StoredAnswer {
            key: key.into(),
            username: "u".into(),
            request_hash: "ab".repeat(32),
            status: 200,
            body: "{}".into(),
            created_at: at(h),
        };
        // Stored in this order; "late" was stored after "young" with an older time (the clock
        // set back): it is kept until a purge reaches it.
        for (k, h) in [
            ("old-1", 0),
            ("old-2", 1),
            ("young", 30),
            ("late", 2),
            ("young-2", 31),
        ] {
            store(&mut c, &answer(k, h)).unwrap();
        }
        assert_eq!(purge(&mut c, at(24)).unwrap(), 2);
        let kept = |c: &mut DbConn| -> Vec<String> {
            ["old-1", "old-2", "young", "late", "young-2"]
                .into_iter()
                .filter(|k| find(c, k).unwrap().is_some())
                .map(String::from)
                .collect()
        };
        assert_eq!(kept(&mut c), ["young", "late", "young-2"]);
        // Nothing young: all go; an empty table: nothing to do.
        assert_eq!(purge(&mut c, at(40)).unwrap(), 3);
        assert!(kept(&mut c).is_empty());
        assert_eq!(purge(&mut c, at(40)).unwrap(), 0);
    }
}

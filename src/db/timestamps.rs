//! Times as SQLite keeps them, written and read without chrono's format machinery.
//!
//! On SQLite diesel stores a `Timestamp` as text that chrono formats with `%F %T%.f`, and
//! reads it back by trying chrono's parser with a list of formats: 5 % of the writer's time
//! in the flow benchmark went to that. [`Ts`] writes the same text and reads that one shape
//! directly; anything else (a year outside 0–9999, a leap second, text of another shape, a
//! Julian day number) goes through diesel's own conversion, so what is stored and what is
//! accepted do not change. On PostgreSQL (binary microseconds) it is diesel's conversion.
//!
//! Rows read on the writer's hot path name it with `#[diesel(deserialize_as = Ts)]` (or
//! [`OptTs`] for a nullable column); hand-written statements bind `Ts::ref_cast(&time)`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

/// A `Timestamp` column's value (see the module's description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow, ref_cast::RefCast)]
#[diesel(sql_type = Timestamp)]
#[repr(transparent)]
pub struct Ts(pub NaiveDateTime);

/// A nullable `Timestamp` column's value, read as [`Ts`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct OptTs(pub Option<NaiveDateTime>);

impl From<Ts> for NaiveDateTime {
    fn from(t: Ts) -> Self {
        t.0
    }
}

impl From<OptTs> for Option<NaiveDateTime> {
    fn from(t: OptTs) -> Self {
        t.0
    }
}

impl ToSql<Timestamp, Sqlite> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        match text_of(&self.0) {
            Some(text) => {
                out.set_value(text);
                Ok(IsNull::No)
            }
            None => <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out),
        }
    }
}

impl ToSql<Timestamp, Pg> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Timestamp, Sqlite> for Ts {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if value.value_type() == Some(diesel::sqlite::SqliteType::Text) {
            if let Some(t) = parse(value.read_text()) {
                return Ok(Self(t));
            }
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for Ts {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

/// Through `DbConn` itself (diesel's `MultiConnection`): as the connection's backend reads.
impl FromSql<Timestamp, super::MultiBackend> for Ts {
    fn from_sql(value: super::MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl ToSql<Timestamp, super::MultiBackend> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, super::MultiBackend>) -> serialize::Result {
        out.set_value((Timestamp, self));
        Ok(IsNull::No)
    }
}

impl<DB> FromSql<Nullable<Timestamp>, DB> for OptTs
where
    DB: diesel::backend::Backend,
    Ts: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(Some(Ts::from_sql(value)?.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(Self(None)),
        }
    }
}

/// `time` as chrono's `%F %T%.f` writes it, when it is of the usual kind: a year of four
/// digits and no leap second (else `None`: chrono writes it).
fn text_of(time: &NaiveDateTime) -> Option<String> {
    let year = time.year();
    let nanos = time.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut s = String::with_capacity(29);
    digits(&mut s, year as u32, 4);
    s.push('-');
    digits(&mut s, time.month(), 2);
    s.push('-');
    digits(&mut s, time.day(), 2);
    s.push(' ');
    digits(&mut s, time.hour(), 2);
    s.push(':');
    digits(&mut s, time.minute(), 2);
    s.push(':');
    digits(&mut s, time.second(), 2);
    // `%.f`: nothing for whole seconds, else milli-, micro- or nanoseconds, the fewest exact.
    if nanos != 0 {
        s.push('.');
        if nanos % 1_000_000 == 0 {
            digits(&mut s, nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            digits(&mut s, nanos / 1_000, 6);
        } else {
            digits(&mut s, nanos, 9);
        }
    }
    Some(s)
}

/// Appends `n` as `width` decimal digits, zero-padded (`n` has no more).
fn digits(s: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        let d = (n / 10u32.pow(i)) % 10;
        s.push(char::from(b'0' + d as u8));
    }
}

/// Reads `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits, exactly that shape
/// (else `None`: diesel reads it).
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b.len() == 20 || b.len() > 29 {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let nanos = if b.len() > 19 {
        if b[19] != b'.' {
            return None;
        }
        let digits = b.len() - 20;
        num(20, b.len())? * 10u32.pow(9 - digits as u32)
    } else {
        0
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let (h, m, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // A leap second (60) is left to chrono.
    if s > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHRONO: &str = "%F %T%.f";

    fn time(secs: i64, nanos: u32) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(secs, nanos)
            .expect("in range")
            .naive_utc()
    }

    /// Nanoseconds of each kind `%.f` tells apart: none, milli-, micro-, nanoseconds.
    fn nanos() -> impl Strategy<Value = u32> {
        prop_oneof![
            Just(0u32),
            (1u32..1_000).prop_map(|n| n * 1_000_000),
            (1u32..1_000_000).prop_map(|n| n * 1_000),
            1u32..1_000_000_000,
        ]
    }

    proptest! {
        /// Years 0 to 9999: the text is chrono's, and reads back as the same time both ways.
        #[test]
        fn writes_what_chrono_writes_and_reads_it_back(
            secs in -62_167_219_200i64..253_402_300_799,
            n in nanos(),
        ) {
            let t = time(secs, n);
            let ours = text_of(&t).expect("a four-digit year");
            prop_assert_eq!(&ours, &t.format(CHRONO).to_string());
            prop_assert_eq!(parse(&ours), Some(t));
            prop_assert_eq!(NaiveDateTime::parse_from_str(&ours, CHRONO).ok(), Some(t));
        }

        /// Whatever the text, what is read is what chrono reads, or it is left to chrono.
        #[test]
        fn reads_nothing_chrono_would_read_otherwise(text in "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?") {
            if let Some(t) = parse(&text) {
                prop_assert_eq!(NaiveDateTime::parse_from_str(&text, CHRONO).ok(), Some(t));
            }
        }
    }

    /// Through SQLite itself: the text stored is diesel's, and both read back alike.
    #[test]
    fn sqlite_stores_the_same_text_as_through_diesels_own() {
        use diesel::prelude::*;
        use diesel::sql_types::{Nullable as N, Text};
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            ours: String,
            #[diesel(sql_type = Text)]
            theirs: String,
            #[diesel(sql_type = Timestamp)]
            back: Ts,
            #[diesel(sql_type = N<Timestamp>)]
            none: OptTs,
        }
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        for t in [
            time(1_765_000_000, 0),
            time(1_765_000_000, 120_000_000),
            time(1_765_000_000, 123_456_000),
            time(1_765_000_000, 123_456_789),
            time(-62_167_219_200, 1_000),
        ] {
            let r: Row = diesel::sql_query(
                "SELECT CAST(? AS TEXT) AS ours, CAST(? AS TEXT) AS theirs, ? AS back, NULL AS none",
            )
            .bind::<Timestamp, _>(Ts(t))
            .bind::<Timestamp, _>(t)
            .bind::<Timestamp, _>(Ts(t))
            .get_result(&mut c)
            .unwrap();
            assert_eq!(r.ours, r.theirs);
            assert_eq!(r.back, Ts(t));
            assert_eq!(r.none, OptTs(None));
        }
        // A Julian day number, which diesel also reads.
        #[derive(QueryableByName)]
        struct Julian {
            #[diesel(sql_type = Timestamp)]
            t: Ts,
        }
        let j: Julian = diesel::sql_query("SELECT 2440587.5 AS t")
            .get_result(&mut c)
            .unwrap();
        assert_eq!(j.t, Ts(time(0, 0)));
    }

    #[test]
    fn leaves_the_unusual_to_chrono() {
        // A leap second, a year beyond 9999 and before 0.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        assert_eq!(text_of(&leap), None);
        assert_eq!(parse("2016-12-31 23:59:60.5"), None);
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(text_of(&far), None);
        let before = NaiveDate::from_ymd_opt(-1, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(text_of(&before), None);
        // Other shapes diesel also reads.
        for text in [
            "2026-12-08T01:02:03",
            "2026-12-08 01:02",
            "2026-12-08 01:02:03.",
            "2026-12-08 01:02:03.1234567891",
            "2026-02-30 01:02:03",
            "2026-12-08 24:00:00",
            " 2026-12-08 01:02:03",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(
            parse("2026-12-08 01:02:03.5"),
            NaiveDate::from_ymd_opt(2026, 12, 8)
                .unwrap()
                .and_hms_milli_opt(1, 2, 3, 500)
        );
    }
}

//! Timestamp columns read back without chrono's format parser.
//!
//! On SQLite a timestamp is the text diesel wrote, `YYYY-MM-DD HH:MM:SS` with an
//! optional fraction. diesel reads it back with chrono's `parse_from_str`, which
//! interprets its format string anew for every value: on a page of 50 visits that
//! came to 7 % of the server's instructions. [`Stamp`] reads that text directly and
//! leaves any other form to diesel's parser; on PostgreSQL it is diesel's reading.
//! Use it on the timestamp fields of row structs, which keep their chrono types:
//! `#[diesel(deserialize_as = Stamp)]`, or `MaybeStamp` for a nullable column.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};

/// A `Timestamp` column's value.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct Stamp(NaiveDateTime);

/// A `Nullable<Timestamp>` column's value.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct MaybeStamp(Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(stamp: Stamp) -> Self {
        stamp.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(stamp: MaybeStamp) -> Self {
        stamp.0
    }
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(time) = parse(value.read_text()) {
            return Ok(Stamp(time));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, super::MultiBackend> for Stamp {
    fn from_sql(value: super::MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB: diesel::backend::Backend> FromSql<Nullable<Timestamp>, DB> for MaybeStamp
where
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Stamp::from_sql(value).map(|stamp| MaybeStamp(Some(stamp.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(MaybeStamp(None)),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1 to 9 digits, as diesel writes
/// a `NaiveDateTime` on SQLite; `None` for anything else (then diesel's parser,
/// which takes more forms, decides).
fn parse(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b' ' {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let nanos = match &bytes[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(number(&bytes[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&bytes[5..7])?, number(&bytes[8..10])?)?.and_hms_nano_opt(
        number(&bytes[11..13])?,
        number(&bytes[14..16])?,
        number(&bytes[17..19])?,
        nanos,
    )
}

/// The decimal number `digits` spell; `None` unless they are all ASCII digits.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::parse;

    /// What diesel's reading gives for `text` (its first format, which diesel also
    /// writes with).
    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_diesel_writes() {
        for text in [
            "2022-01-07 01:00:00",
            "2022-01-07 01:00:00.5",
            "2022-01-07 01:00:00.123456",
            "2022-01-07 01:00:00.123456789",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
            "2024-02-29 12:30:45",
        ] {
            assert_eq!(parse(text), chrono(text), "{text}");
            assert!(parse(text).is_some(), "{text}");
        }
        let written = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_micro_opt(20, 38, 45, 120_034))
            .unwrap();
        let text = written.format("%F %T%.f").to_string();
        assert_eq!(parse(&text), Some(written));
    }

    #[test]
    fn leaves_other_forms_to_diesel() {
        for text in [
            "",
            "2022-01-07",
            "2022-01-07T01:00:00",
            "2022-01-07 01:00",
            "2022-01-07 01:00:00Z",
            "2022-01-07 01:00:00+08:00",
            "2022-01-07 01:00:00.",
            "2022-01-07 01:00:00.1234567890",
            "2022-13-07 01:00:00",
            "2023-02-29 01:00:00",
            "2022-01-07 24:00:00",
            "2022-01-07 23:59:60",
            "2022-01-07 01:0a:00",
            "+2022-01-07 01:00:00",
            "2022-01-07 01:00:00.１",
            "2459581.5",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    diesel::table! {
        times (id) {
            id -> Integer,
            at -> Timestamp,
            maybe -> Nullable<Timestamp>,
        }
    }

    /// Through a SQLite connection: what diesel wrote, other forms SQLite holds
    /// (left to diesel's parser), and NULL.
    #[test]
    fn reads_rows_through_diesel() {
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;

        use super::{MaybeStamp, Stamp};

        #[derive(Queryable)]
        struct Row {
            #[diesel(deserialize_as = Stamp)]
            at: NaiveDateTime,
            #[diesel(deserialize_as = MaybeStamp)]
            maybe: Option<NaiveDateTime>,
        }

        let mut conn = SqliteConnection::establish(":memory:").expect("memory");
        conn.batch_execute(
            "CREATE TABLE times (id INTEGER PRIMARY KEY, at TEXT NOT NULL, maybe TEXT)",
        )
        .expect("table");
        let written = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_micro_opt(20, 38, 45, 120_034))
            .unwrap();
        diesel::insert_into(times::table)
            .values((
                times::id.eq(1),
                times::at.eq(written),
                times::maybe.eq(None::<NaiveDateTime>),
            ))
            .execute(&mut conn)
            .expect("insert");
        conn.batch_execute(
            "INSERT INTO times VALUES (2, '2022-01-07T01:00:00Z', '2022-01-07 01:00:00')",
        )
        .expect("insert text");
        let rows: Vec<Row> = times::table
            .order(times::id)
            .select((times::at, times::maybe))
            .load(&mut conn)
            .expect("rows");
        let other = chrono::NaiveDate::from_ymd_opt(2022, 1, 7)
            .and_then(|d| d.and_hms_opt(1, 0, 0))
            .unwrap();
        assert_eq!((rows[0].at, rows[0].maybe), (written, None));
        assert_eq!((rows[1].at, rows[1].maybe), (other, Some(other)));
    }
}

//! Text columns parsed straight from the database's buffer.
//!
//! Reading a text column into a `String` allocates and copies it; an id or a
//! closed vocabulary read that way is then parsed again, and the `String`
//! dropped. The link rows of a page of visits are its most numerous rows (about
//! 150 participants and 50 enterprises), and reading their ids and vocabularies
//! through `String`s cost some 900 allocations a page. [`Parsed`] reads the text
//! where the database holds it and parses it there.

use std::fmt::Display;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};

/// A text column's value parsed into `T` (an id, a stage, a role).
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct Parsed<T>(pub T);

fn parse<T>(text: &str) -> deserialize::Result<Parsed<T>>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse()
        .map(Parsed)
        .map_err(|e| format!("stored value {text:?}: {e}").into())
}

impl<T> FromSql<Text, Sqlite> for Parsed<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        parse(value.read_text())
    }
}

impl<T> FromSql<Text, Pg> for Parsed<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        parse(std::str::from_utf8(value.as_bytes())?)
    }
}

impl<T> FromSql<Text, super::MultiBackend> for Parsed<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn from_sql(value: super::MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::Parsed;
    use crate::db::DbConn;
    use crate::domain::ids::VisitId;
    use crate::domain::stage::Stage;

    diesel::table! {
        things (id) {
            id -> Text,
            stage -> Text,
            parent -> Nullable<Text>,
        }
    }

    type Row = (Parsed<VisitId>, Parsed<Stage>, Option<Parsed<VisitId>>);

    fn connection(rows: &str) -> DbConn {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").expect("memory"));
        conn.batch_execute(&format!(
            "CREATE TABLE things (id TEXT PRIMARY KEY, stage TEXT NOT NULL, parent TEXT);
             INSERT INTO things VALUES {rows};"
        ))
        .expect("table");
        conn
    }

    fn read(conn: &mut DbConn) -> QueryResult<Vec<Row>> {
        crate::db::native!(conn, |c| things::table
            .order(things::id)
            .select((things::id, things::stage, things::parent))
            .load(c))
    }

    #[test]
    fn reads_ids_and_vocabularies_from_text() {
        let mut conn = connection(
            "('01938a7e-0000-7000-8000-000000000001', 'agreement', NULL),
             ('01938a7e-0000-7000-8000-000000000002', 'intention',
              '01938a7e-0000-7000-8000-000000000001')",
        );
        let rows = read(&mut conn).expect("rows");
        let first: VisitId = "01938a7e-0000-7000-8000-000000000001".parse().expect("id");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0 .0, first);
        assert_eq!(rows[0].1 .0, Stage::Agreement);
        assert!(rows[0].2.is_none());
        assert_eq!(rows[1].1 .0, Stage::Intention);
        assert_eq!(rows[1].2.map(|Parsed(p)| p), Some(first));
    }

    #[test]
    fn a_value_that_does_not_parse_is_an_error_naming_it() {
        for (rows, field, value) in [
            ("('not an id', 'agreement', NULL)", "id", "\"not an id\""),
            (
                "('01938a7e-0000-7000-8000-000000000001', 'signed', NULL)",
                "stage",
                "\"signed\"",
            ),
            (
                "('01938a7e-0000-7000-8000-000000000001', 'agreement', 'x')",
                "parent",
                "\"x\"",
            ),
        ] {
            let mut conn = connection(rows);
            let error = read(&mut conn).expect_err(rows);
            // diesel names the field; the value and why it did not parse come with it.
            let mut chain = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                chain.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            assert!(chain.contains(&format!("'{field}'")), "{rows}: {chain}");
            assert!(
                chain.contains(&format!("stored value {value}")),
                "{rows}: {chain}"
            );
        }
    }
}

//! `column IN (…)` over a list of ids, as a statement that can be cached.

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::is_nullable::{IsSqlTypeNullable, MaybeNullable};
use diesel::sql_types::{Bool, HasSqlType, MaybeNullableType, SqlType, Text};
use diesel::QueryResult;

/// `column IN (?, ?, …)` for the ids in `ids`; nothing matches an empty list.
///
/// Unlike diesel's `eq_any`, the statement may be kept in the connection's
/// statement cache under its text. diesel marks an `eq_any` statement uncacheable
/// on SQLite, so that every visit written or read back prepared its link queries
/// anew, which cost more than running them. The list is padded to the next power
/// of two with its last id (the same rows match), so that a query has a few texts
/// in the cache, not one per length of list: the last pages of enterprises' visits
/// come in every length up to the page's, and each cached statement holds memory
/// on every pooled connection.
pub fn one_of<C, S>(column: C, ids: &[S]) -> OneOf<'_, C, S> {
    OneOf { column, ids }
}

#[derive(Debug, Clone, Copy)]
pub struct OneOf<'a, C, S> {
    column: C,
    ids: &'a [S],
}

impl<C, S> Expression for OneOf<'_, C, S>
where
    C: Expression,
    C::SqlType: SqlType,
    IsSqlTypeNullable<C::SqlType>: MaybeNullableType<Bool>,
{
    type SqlType = MaybeNullable<IsSqlTypeNullable<C::SqlType>, Bool>;
}

impl<C, S, QS> AppearsOnTable<QS> for OneOf<'_, C, S>
where
    C: AppearsOnTable<QS>,
    Self: Expression,
{
}

impl<C, S, QS> SelectableExpression<QS> for OneOf<'_, C, S>
where
    C: SelectableExpression<QS>,
    Self: AppearsOnTable<QS>,
{
}

impl<C, S, GB> ValidGrouping<GB> for OneOf<'_, C, S>
where
    C: ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

impl<C, S> QueryId for OneOf<'_, C, S> {
    type QueryId = ();
    // The text depends on the length of the list: the cache keys it by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, S, DB> QueryFragment<DB> for OneOf<'_, C, S>
where
    DB: Backend + HasSqlType<Text>,
    C: QueryFragment<DB>,
    S: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let Some(last) = self.ids.last() else {
            out.push_sql("1=0");
            return Ok(());
        };
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        let padding = std::iter::repeat_n(last, padded_len(self.ids.len()) - self.ids.len());
        for (i, id) in self.ids.iter().chain(padding).enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, S>(id)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// The number of binds for a list of `len` ids: the next power of two.
fn padded_len(len: usize) -> usize {
    len.checked_next_power_of_two().unwrap_or(len)
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::one_of;
    use crate::db::DbConn;

    diesel::table! {
        things (id) {
            id -> Text,
            parent -> Nullable<Text>,
        }
    }

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn lists_are_padded_to_powers_of_two() {
        let lens: Vec<usize> = [1, 2, 3, 4, 5, 33, 50, 64].map(super::padded_len).to_vec();
        assert_eq!(lens, [1, 2, 4, 4, 8, 64, 64, 64]);
    }

    #[test]
    fn matches_the_ids_listed_and_nothing_for_none() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").expect("memory"));
        conn.batch_execute(
            "CREATE TABLE things (id TEXT PRIMARY KEY, parent TEXT);
             INSERT INTO things VALUES ('a', NULL), ('b', 'a'), ('c', 'a'), ('d', NULL);",
        )
        .expect("table");
        let find = |conn: &mut DbConn, wanted: &[String]| -> Vec<String> {
            things::table
                .filter(one_of(things::id, wanted))
                .order(things::id)
                .select(things::id)
                .load(conn)
                .expect("query")
        };
        assert_eq!(find(&mut conn, &ids(&["a", "c", "x"])), ids(&["a", "c"]));
        // The same text with other ids: the cached statement is bound afresh.
        assert_eq!(
            find(&mut conn, &ids(&["b", "d", "a"])),
            ids(&["a", "b", "d"])
        );
        assert_eq!(find(&mut conn, &ids(&["d"])), ids(&["d"]));
        assert!(find(&mut conn, &[]).is_empty());
        // Three ids bind four, the last twice: the same rows.
        assert_eq!(
            find(&mut conn, &ids(&["c", "a", "b"])),
            ids(&["a", "b", "c"])
        );
        let children: Vec<String> = things::table
            .filter(one_of(things::parent, &ids(&["a"])))
            .order(things::id)
            .select(things::id)
            .load(&mut conn)
            .expect("nullable column");
        assert_eq!(children, ids(&["b", "c"]));
    }
}

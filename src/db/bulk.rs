//! Bulk loading for `liaison seed`: owned rows for every table, multi-row inserts
//! (COPY on PostgreSQL), and the session settings that make a large load fast.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Integer};
use std::collections::HashSet;

use super::schema::{
    agreements, enterprises, internship_bases, order_classes, participants, stage_transitions,
    visit_enterprises, visit_internship_bases, visit_order_classes, visit_participants, visits,
};
use super::DbConn;

/// The most bind parameters one SQLite statement gets: below its limit of 32 766,
/// large enough that a statement carries hundreds of rows.
const MAX_BINDS: usize = 10_000;
/// Rows per statement beyond which a larger statement no longer pays off.
const MAX_ROWS: usize = 1_000;

// Every `Option` is bound as NULL rather than written as `DEFAULT`: SQLite has no
// `DEFAULT` in a VALUES list (diesel would fall back to one statement per row), and
// PostgreSQL's binary COPY has no `DEFAULT` at all.

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enterprises, treat_none_as_default_value = false)]
pub struct EnterpriseRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub credit_code: Option<String>,
    pub kind: &'static str,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<String>,
    pub stage: &'static str,
    pub stage_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = participants, treat_none_as_default_value = false)]
pub struct ParticipantRow {
    pub id: String,
    pub full_name: String,
    pub name_key: String,
    pub side: &'static str,
    pub enterprise_id: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = order_classes, treat_none_as_default_value = false)]
pub struct OrderClassRow {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    pub name_key: String,
    pub major: Option<String>,
    pub cohort_year: Option<i32>,
    pub planned_size: i32,
    pub enrolled_count: i32,
    pub employed_count: i32,
    pub allow_over_enrollment: i32,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub description: Option<String>,
    pub stage: &'static str,
    pub stage_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = internship_bases, treat_none_as_default_value = false)]
pub struct InternshipBaseRow {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    pub name_key: String,
    pub location: Option<String>,
    pub capacity: i32,
    pub positions: i32,
    pub description: Option<String>,
    pub stage: &'static str,
    pub stage_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = agreements, treat_none_as_default_value = false)]
pub struct AgreementRow {
    pub id: String,
    pub enterprise_id: String,
    pub order_class_id: Option<String>,
    pub internship_base_id: Option<String>,
    pub title: String,
    pub title_key: String,
    pub number: Option<String>,
    pub kind: &'static str,
    pub signed_on: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub document_url: Option<String>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = visits, treat_none_as_default_value = false)]
pub struct VisitRow {
    pub id: String,
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    pub direction: &'static str,
    pub location: Option<String>,
    pub purpose: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub follow_up: Option<String>,
    pub follow_up_due: Option<NaiveDate>,
    pub status: &'static str,
    pub search_text: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = visit_enterprises, treat_none_as_default_value = false)]
pub struct VisitEnterpriseRow {
    pub visit_id: String,
    pub enterprise_id: String,
    pub starts_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = visit_participants, treat_none_as_default_value = false)]
pub struct VisitParticipantRow {
    pub visit_id: String,
    pub participant_id: String,
    pub role: &'static str,
    pub starts_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = visit_order_classes, treat_none_as_default_value = false)]
pub struct VisitOrderClassRow {
    pub visit_id: String,
    pub order_class_id: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = visit_internship_bases, treat_none_as_default_value = false)]
pub struct VisitInternshipBaseRow {
    pub visit_id: String,
    pub internship_base_id: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = stage_transitions, treat_none_as_default_value = false)]
pub struct StageTransitionRow {
    pub id: String,
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub enterprise_id: String,
    pub from_stage: Option<&'static str>,
    pub to_stage: &'static str,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub actor: Option<String>,
    pub note: Option<String>,
    pub visit_id: Option<String>,
    pub agreement_id: Option<String>,
}

/// A row type that can be inserted many at a time.
pub trait BulkRow: Sized {
    /// Columns each row binds, to size SQLite statements under the bind limit.
    const COLUMNS: usize;
    /// Inserts `rows`; returns how many were inserted. The caller owns the transaction.
    fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<usize>;
}

/// Rows per multi-row INSERT on SQLite.
const fn rows_per_statement(columns: usize) -> usize {
    let rows = MAX_BINDS / columns;
    if rows > MAX_ROWS {
        MAX_ROWS
    } else {
        rows
    }
}

macro_rules! bulk_row {
    ($row:ty, $table:path, $columns:expr) => {
        impl BulkRow for $row {
            const COLUMNS: usize = $columns;
            // The backends differ here, so one match: MultiConnection has no
            // multi-row VALUES for SQLite, and PostgreSQL loads far faster by COPY.
            fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<usize> {
                match conn {
                    DbConn::Sqlite(c) => {
                        let mut inserted = 0;
                        for chunk in rows.chunks(rows_per_statement(Self::COLUMNS)) {
                            inserted += diesel::insert_into($table).values(chunk).execute(c)?;
                        }
                        Ok(inserted)
                    }
                    DbConn::Pg(c) => diesel::copy_from($table).from_insertable(rows).execute(c),
                }
            }
        }
    };
}

bulk_row!(EnterpriseRow, enterprises::table, 16);
bulk_row!(ParticipantRow, participants::table, 13);
bulk_row!(OrderClassRow, order_classes::table, 18);
bulk_row!(InternshipBaseRow, internship_bases::table, 13);
bulk_row!(AgreementRow, agreements::table, 16);
bulk_row!(VisitRow, visits::table, 16);
bulk_row!(VisitEnterpriseRow, visit_enterprises::table, 3);
bulk_row!(VisitParticipantRow, visit_participants::table, 4);
bulk_row!(VisitOrderClassRow, visit_order_classes::table, 2);
bulk_row!(VisitInternshipBaseRow, visit_internship_bases::table, 2);
bulk_row!(StageTransitionRow, stage_transitions::table, 12);

/// Inserts `rows`: multi-row INSERTs sized under the bind limit on SQLite, one COPY
/// on PostgreSQL. Returns the count; the caller owns the transaction.
pub fn insert<R: BulkRow>(conn: &mut DbConn, rows: &[R]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    R::insert_all(conn, rows)
}

/// How many enterprises the database holds, archived ones included.
pub fn enterprise_count(conn: &mut DbConn) -> QueryResult<i64> {
    enterprises::table.count().get_result(conn)
}

/// Enterprise names (as name keys) and credit codes already taken.
#[derive(Debug, Default)]
pub struct TakenNames {
    pub name_keys: HashSet<String>,
    pub credit_codes: HashSet<String>,
}

/// Reads every enterprise name key and credit code, so that a load beside existing
/// data can avoid them without a query per row.
pub fn taken_names(conn: &mut DbConn) -> QueryResult<TakenNames> {
    let rows: Vec<(String, Option<String>)> = enterprises::table
        .select((enterprises::name_key, enterprises::credit_code))
        .load(conn)?;
    let mut taken = TakenNames::default();
    for (key, code) in rows {
        taken.name_keys.insert(key);
        taken.credit_codes.extend(code);
    }
    Ok(taken)
}

/// The names of existing enterprises whose name key is one of `keys`.
pub fn names_with_keys(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<String>> {
    enterprises::table
        .filter(enterprises::name_key.eq_any(keys))
        .select(enterprises::name)
        .order(enterprises::name_key)
        .load(conn)
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = Integer)]
    synchronous: i32,
}

/// `PRAGMA cache_size`'s answer (negative: KiB; positive: pages).
#[derive(QueryableByName)]
pub(super) struct CacheSize {
    #[diesel(sql_type = BigInt)]
    pub(super) cache_size: i64,
}

/// Session settings changed for a load, to be put back with [`LoadSettings::restore`].
#[derive(Debug)]
pub enum LoadSettings {
    Sqlite { synchronous: i32, cache_size: i64 },
    Postgres,
}

/// Page cache for the load (KiB, as SQLite's negative `cache_size`): the indexes of
/// a million visits fit, so index pages are not re-read for every batch.
const LOAD_CACHE_KIB: i64 = 1024 * 1024;

/// Relaxes durability for a bulk load: a crash during the load may lose the last
/// batches, never corrupt the database. Call outside any transaction.
pub fn relax_for_load(conn: &mut DbConn) -> QueryResult<LoadSettings> {
    match conn {
        DbConn::Sqlite(c) => {
            let synchronous = diesel::sql_query("PRAGMA synchronous")
                .get_result::<Synchronous>(c)?
                .synchronous;
            let cache_size = diesel::sql_query("PRAGMA cache_size")
                .get_result::<CacheSize>(c)?
                .cache_size;
            // PRAGMA takes no bind parameters; the value is a constant integer.
            c.batch_execute(&format!(
                "PRAGMA synchronous = OFF; PRAGMA cache_size = -{LOAD_CACHE_KIB};"
            ))?;
            Ok(LoadSettings::Sqlite {
                synchronous,
                cache_size,
            })
        }
        DbConn::Pg(c) => {
            c.batch_execute("SET synchronous_commit = off")?;
            Ok(LoadSettings::Postgres)
        }
    }
}

impl LoadSettings {
    /// Puts the session settings back as they were before the load.
    pub fn restore(&self, conn: &mut DbConn) -> QueryResult<()> {
        match (self, conn) {
            (
                LoadSettings::Sqlite {
                    synchronous,
                    cache_size,
                },
                DbConn::Sqlite(c),
            ) => {
                let synchronous = match synchronous {
                    0 => "OFF",
                    1 => "NORMAL",
                    3 => "EXTRA",
                    _ => "FULL",
                };
                // PRAGMA takes no bind parameters; both values are integers read above.
                c.batch_execute(&format!(
                    "PRAGMA synchronous = {synchronous}; PRAGMA cache_size = {cache_size};"
                ))
            }
            (LoadSettings::Postgres, DbConn::Pg(c)) => c.batch_execute("RESET synchronous_commit"),
            _ => Err(QueryError::QueryBuilderError(
                "load settings restored on a connection to the other backend".into(),
            )),
        }
    }
}

/// Refreshes the planner's statistics after a load; on SQLite folds the write-ahead
/// log back into the database file, on PostgreSQL vacuums, so that the visibility
/// map lets counts be answered from indexes alone (the pipeline report at a million
/// visits: p99 84 -> 45 ms) instead of waiting for autovacuum. Call outside any
/// transaction: VACUUM cannot run in one.
pub fn finish_load(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);"),
        DbConn::Pg(c) => c.batch_execute("VACUUM ANALYZE"),
    }
}

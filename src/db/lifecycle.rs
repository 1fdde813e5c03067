//! What every archivable record shares: locking the row with an `If-Match` check,
//! archiving and restoring.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryResult;

use super::{write, DbConn, Error, Result};
use crate::domain::{self, DomainError, Precondition};

/// A table of versioned, archivable records.
pub(crate) trait Archivable: Sized {
    type Id: Copy + std::fmt::Display;
    /// The record's name in messages ("enterprise").
    const KIND: &'static str;

    /// A no-op write on the row: a row lock on PostgreSQL (the write lock is already
    /// held on SQLite). Returns the number of rows touched.
    fn touch(conn: &mut DbConn, id: Self::Id) -> QueryResult<usize>;
    fn load(conn: &mut DbConn, id: Self::Id) -> Result<Self>;
    /// Writes `archived_at`, `updated_at` and `version`.
    fn store_archived(
        conn: &mut DbConn,
        id: Self::Id,
        archived_at: Option<NaiveDateTime>,
        updated_at: NaiveDateTime,
        version: i64,
    ) -> QueryResult<usize>;
    fn version(&self) -> i64;
    fn archived_at(&self) -> Option<DateTime<Utc>>;
    /// This record with new archive stamps.
    fn stamped(
        self,
        archived_at: Option<DateTime<Utc>>,
        updated_at: DateTime<Utc>,
        version: i64,
    ) -> Self;
}

/// Implements `Archivable` for a record struct with `version`, `archived_at` and
/// `updated_at` fields, stored in `$table` with the same columns, read by `get`.
macro_rules! archivable {
    ($record:ident, $id:ty, $table:ident, $kind:literal) => {
        impl $crate::db::lifecycle::Archivable for $record {
            type Id = $id;
            const KIND: &'static str = $kind;

            fn touch(conn: &mut DbConn, id: $id) -> diesel::QueryResult<usize> {
                diesel::update($table::table.find(id.to_string()))
                    .set($table::version.eq($table::version))
                    .execute(conn)
            }

            fn load(conn: &mut DbConn, id: $id) -> Result<Self> {
                get(conn, id)
            }

            fn store_archived(
                conn: &mut DbConn,
                id: $id,
                archived_at: Option<chrono::NaiveDateTime>,
                updated_at: chrono::NaiveDateTime,
                version: i64,
            ) -> diesel::QueryResult<usize> {
                diesel::update($table::table.find(id.to_string()))
                    .set((
                        $table::archived_at.eq(archived_at),
                        $table::updated_at.eq(updated_at),
                        $table::version.eq(version),
                    ))
                    .execute(conn)
            }

            fn version(&self) -> i64 {
                self.version
            }

            fn archived_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.archived_at
            }

            fn stamped(
                self,
                archived_at: Option<chrono::DateTime<chrono::Utc>>,
                updated_at: chrono::DateTime<chrono::Utc>,
                version: i64,
            ) -> Self {
                $record {
                    archived_at,
                    updated_at,
                    version,
                    ..self
                }
            }
        }
    };
}
pub(crate) use archivable;

pub(crate) fn not_found<R: Archivable>(id: R::Id) -> Error {
    DomainError::NotFound {
        kind: R::KIND,
        id: id.to_string(),
    }
    .into()
}

/// Locks the row for the rest of the transaction, reads it, checks `If-Match`.
pub(crate) fn lock<R: Archivable>(
    conn: &mut DbConn,
    id: R::Id,
    if_match: &Precondition,
) -> Result<R> {
    if R::touch(conn, id)? == 0 {
        return Err(not_found::<R>(id));
    }
    let current = R::load(conn, id)?;
    if_match.check(current.version())?;
    Ok(current)
}

/// As `lock`, and refuses an archived record: it must be restored before it changes.
pub(crate) fn lock_live<R: Archivable>(
    conn: &mut DbConn,
    id: R::Id,
    if_match: &Precondition,
) -> Result<R> {
    let current = lock::<R>(conn, id, if_match)?;
    if current.archived_at().is_some() {
        return Err(DomainError::Conflict {
            code: "archived",
            detail: format!("{} {id} is archived; restore it first", R::KIND),
            existing_id: None,
        }
        .into());
    }
    Ok(current)
}

/// Archives (soft-deletes) a record.
pub(crate) fn archive<R: Archivable>(
    conn: &mut DbConn,
    id: R::Id,
    if_match: &Precondition,
) -> Result<R> {
    write(conn, |conn| {
        let current = lock_live::<R>(conn, id, if_match)?;
        stamp(conn, id, current, true)
    })
}

/// Restores an archived record, once `may_restore` agrees.
pub(crate) fn restore<R: Archivable>(
    conn: &mut DbConn,
    id: R::Id,
    if_match: &Precondition,
    may_restore: impl FnOnce(&mut DbConn, &R) -> Result<()>,
) -> Result<R> {
    write(conn, |conn| {
        let current = lock::<R>(conn, id, if_match)?;
        if current.archived_at().is_none() {
            return Err(DomainError::Conflict {
                code: "not_archived",
                detail: format!("{} {id} is not archived", R::KIND),
                existing_id: None,
            }
            .into());
        }
        may_restore(conn, &current)?;
        stamp(conn, id, current, false)
    })
}

/// Writes new archive stamps (archived now, or restored) and a new version.
pub(crate) fn stamp<R: Archivable>(
    conn: &mut DbConn,
    id: R::Id,
    current: R,
    archive: bool,
) -> Result<R> {
    let now = domain::now();
    let archived_at = archive.then_some(now);
    let version = current.version() + 1;
    R::store_archived(
        conn,
        id,
        archived_at.map(|t| t.naive_utc()),
        now.naive_utc(),
        version,
    )?;
    Ok(current.stamped(archived_at, now, version))
}

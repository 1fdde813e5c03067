//! Checks on the enterprise that a participant, order class, internship base or
//! agreement belongs to: it must be live when the record is created or moved to it,
//! and when the record comes back from the archive.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::enterprises;
use super::{DbConn, Result};
use crate::domain::ids::EnterpriseId;
use crate::domain::{DomainError, FieldError};

/// The problem with `enterprise_id`, if the enterprise is missing or archived.
///
/// On PostgreSQL the enterprise's row is share-locked for the rest of the
/// transaction. Archiving the enterprise locks the row to write it, so of a record
/// made under it and its archiving, one waits for the other to commit and then sees
/// it: the archive finds the new record live (a `409`), or this finds the enterprise
/// archived. Unlocked, both committed, leaving a live record under an archived
/// enterprise. SQLite runs one change at a time.
pub(crate) fn enterprise_problem(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
) -> Result<Option<FieldError>> {
    let row = enterprises::table
        .find(enterprise.to_string())
        .select(enterprises::archived_at);
    let archived_at: Option<Option<NaiveDateTime>> = match conn {
        DbConn::Pg(c) => row.for_share().first(c).optional()?,
        DbConn::Sqlite(c) => row.first(c).optional()?,
    };
    Ok(match archived_at {
        None => Some(FieldError::new(
            "enterprise_id",
            "not_found",
            format!("enterprise {enterprise} does not exist"),
        )),
        Some(Some(_)) => Some(FieldError::new(
            "enterprise_id",
            "archived",
            format!("enterprise {enterprise} is archived"),
        )),
        Some(None) => None,
    })
}

/// `enterprise_id` must name a live enterprise.
pub(crate) fn require_live_enterprise(conn: &mut DbConn, enterprise: EnterpriseId) -> Result<()> {
    match enterprise_problem(conn, enterprise)? {
        Some(problem) => Err(DomainError::Invalid(vec![problem]).into()),
        None => Ok(()),
    }
}

/// A record of `kind` comes back from the archive only while its enterprise is live.
pub(crate) fn restorable_under(
    conn: &mut DbConn,
    enterprise: EnterpriseId,
    kind: &str,
) -> Result<()> {
    if enterprise_problem(conn, enterprise)?.is_none() {
        return Ok(());
    }
    Err(DomainError::Conflict {
        code: "enterprise_archived",
        detail: format!("the {kind}'s enterprise {enterprise} is archived; restore it first"),
        existing_id: Some(enterprise.to_string()),
    }
    .into())
}

//! Enterprise queries and the transactions that change enterprises.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::lifecycle::{self, archivable};
use super::schema::{agreements, enterprises, internship_bases, order_classes, participants};
use super::stamp::{MaybeStamp, Stamp};
use super::{keyset, stored, utc, write, DbConn, Error, Result};
use crate::domain::access::EntityKind;
use crate::domain::enterprise::{Enterprise, EnterpriseFields, EnterpriseFilter, EnterpriseSort};
use crate::domain::ids::EnterpriseId;
use crate::domain::page::Page;
use crate::domain::stage::Stage;
use crate::domain::{self, DomainError, FieldError, Precondition};

/// How many ancestors a parent chain may have; deeper chains are refused.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = enterprises)]
struct EnterpriseRow {
    id: String,
    name: String,
    name_key: String,
    credit_code: Option<String>,
    kind: String,
    industry: Option<String>,
    region: Option<String>,
    address: Option<String>,
    website: Option<String>,
    description: Option<String>,
    parent_id: Option<String>,
    stage: String,
    #[diesel(deserialize_as = Stamp)]
    stage_changed_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    version: i64,
    #[diesel(deserialize_as = MaybeStamp)]
    archived_at: Option<NaiveDateTime>,
}

impl EnterpriseRow {
    fn into_domain(self) -> Result<Enterprise> {
        Ok(Enterprise {
            id: stored("enterprises.id", &self.id)?,
            name: self.name,
            credit_code: self.credit_code,
            kind: stored("enterprises.kind", &self.kind)?,
            industry: self.industry,
            region: self.region,
            address: self.address,
            website: self.website,
            description: self.description,
            parent_id: self
                .parent_id
                .as_deref()
                .map(|p| stored("enterprises.parent_id", p))
                .transpose()?,
            stage: stored("enterprises.stage", &self.stage)?,
            stage_changed_at: utc(self.stage_changed_at),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
            archived_at: self.archived_at.map(utc),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = enterprises)]
struct NewEnterpriseRow<'a> {
    id: String,
    name: &'a str,
    name_key: &'a str,
    credit_code: Option<&'a str>,
    kind: &'a str,
    industry: Option<&'a str>,
    region: Option<&'a str>,
    address: Option<&'a str>,
    website: Option<&'a str>,
    description: Option<&'a str>,
    parent_id: Option<String>,
    stage: &'a str,
    stage_changed_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(AsChangeset)]
#[diesel(table_name = enterprises, treat_none_as_null = true)]
struct EnterpriseChangesRow<'a> {
    name: &'a str,
    name_key: &'a str,
    credit_code: Option<&'a str>,
    kind: &'a str,
    industry: Option<&'a str>,
    region: Option<&'a str>,
    address: Option<&'a str>,
    website: Option<&'a str>,
    description: Option<&'a str>,
    parent_id: Option<String>,
    updated_at: NaiveDateTime,
    version: i64,
}

pub fn get(conn: &mut DbConn, id: EnterpriseId) -> Result<Enterprise> {
    super::row_by_id!(conn, enterprises::table, EnterpriseRow, &id.to_string())?
        .ok_or_else(|| lifecycle::not_found::<Enterprise>(id))?
        .into_domain()
}

pub fn list(conn: &mut DbConn, filter: &EnterpriseFilter) -> Result<Page<Enterprise>> {
    use enterprises::dsl as e;
    let mut query = e::enterprises
        .select(EnterpriseRow::as_select())
        .into_boxed();
    if !filter.include_archived {
        query = query.filter(e::archived_at.is_null());
    }
    if let Some(kind) = filter.kind {
        query = query.filter(e::kind.eq(kind.as_str()));
    }
    if let Some(stage) = filter.stage {
        query = query.filter(e::stage.eq(stage.as_str()));
    }
    if let Some(parent) = filter.parent_id {
        query = query.filter(e::parent_id.eq(parent.to_string()));
    }
    if let Some(industry) = &filter.industry {
        query = query.filter(e::industry.eq(industry.clone()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(e::region.eq(region.clone()));
    }
    if let Some(q) = &filter.q {
        let code = super::contains_pattern(&q.to_uppercase());
        query = query.filter(
            e::name_key
                .like(super::contains_pattern(q))
                .escape('\\')
                .or(e::credit_code.like(code).escape('\\')),
        );
    }
    let page = &filter.page;
    let descending = page.sort.descending;
    let after = page.after.as_ref();
    let query = match page.sort.key {
        EnterpriseSort::Name => keyset!(
            query,
            e::name_key,
            e::id,
            descending,
            super::after_text(after)
        ),
        EnterpriseSort::CreatedAt => keyset!(
            query,
            e::created_at,
            e::id,
            descending,
            super::after_time(after)?
        ),
        EnterpriseSort::UpdatedAt => keyset!(
            query,
            e::updated_at,
            e::id,
            descending,
            super::after_time(after)?
        ),
    };
    let rows: Vec<EnterpriseRow> = query.limit(page.limit + 1).load(conn)?;
    let sort = page.sort.key;
    let rows = page.page(rows, |r| {
        let value = match sort {
            EnterpriseSort::Name => r.name_key.clone(),
            EnterpriseSort::CreatedAt => super::cursor_time(r.created_at),
            EnterpriseSort::UpdatedAt => super::cursor_time(r.updated_at),
        };
        (value, r.id.clone())
    });
    rows.try_map(EnterpriseRow::into_domain)
}

pub fn create(
    conn: &mut DbConn,
    id: EnterpriseId,
    fields: &EnterpriseFields,
) -> Result<Enterprise> {
    let created = write(conn, |conn| {
        check_unique(conn, fields, None)?;
        if let Some(parent) = fields.parent_id {
            check_parent(conn, parent, None)?;
        }
        let now = domain::now();
        let enterprise = Enterprise {
            id,
            name: fields.name.clone(),
            credit_code: fields.credit_code.as_ref().map(|c| c.to_string()),
            kind: fields.kind,
            industry: fields.industry.clone(),
            region: fields.region.clone(),
            address: fields.address.clone(),
            website: fields.website.clone(),
            description: fields.description.clone(),
            parent_id: fields.parent_id,
            stage: Stage::Intention,
            stage_changed_at: now,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        };
        diesel::insert_into(enterprises::table)
            .values(NewEnterpriseRow {
                id: enterprise.id.to_string(),
                name: &fields.name,
                name_key: &fields.name_key,
                credit_code: fields.credit_code.as_ref().map(|c| c.as_str()),
                kind: fields.kind.as_str(),
                industry: fields.industry.as_deref(),
                region: fields.region.as_deref(),
                address: fields.address.as_deref(),
                website: fields.website.as_deref(),
                description: fields.description.as_deref(),
                parent_id: fields.parent_id.map(|p| p.to_string()),
                stage: enterprise.stage.as_str(),
                stage_changed_at: now.naive_utc(),
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
                version: 1,
            })
            .execute(conn)?;
        Ok(enterprise)
    });
    explain_unique_violation(conn, created, fields, None)
}

/// Applies a JSON merge patch, checking `If-Match` against the current version.
pub fn update(
    conn: &mut DbConn,
    id: EnterpriseId,
    if_match: &Precondition,
    patch: &serde_json::Value,
) -> Result<Enterprise> {
    let mut attempted = None;
    let updated = write(conn, |conn| {
        let current: Enterprise = lifecycle::lock_live(conn, id, if_match)?;
        let fields = EnterpriseFields::from_patch(&current, patch)?;
        if EnterpriseFields::parse(current.input()).ok().as_ref() == Some(&fields) {
            return Ok(current);
        }
        // Kept for the caller: a racing writer may take the name between our check and
        // our UPDATE, and the conflict is then explained after the rollback.
        attempted = Some(fields.clone());
        check_unique(conn, &fields, Some(id))?;
        if fields.parent_id != current.parent_id {
            if let Some(parent) = fields.parent_id {
                check_parent(conn, parent, Some(id))?;
            }
        }
        let now = domain::now();
        diesel::update(enterprises::table.find(id.to_string()))
            .set(EnterpriseChangesRow {
                name: &fields.name,
                name_key: &fields.name_key,
                credit_code: fields.credit_code.as_ref().map(|c| c.as_str()),
                kind: fields.kind.as_str(),
                industry: fields.industry.as_deref(),
                region: fields.region.as_deref(),
                address: fields.address.as_deref(),
                website: fields.website.as_deref(),
                description: fields.description.as_deref(),
                parent_id: fields.parent_id.map(|p| p.to_string()),
                updated_at: now.naive_utc(),
                version: current.version + 1,
            })
            .execute(conn)?;
        get(conn, id)
    });
    match &attempted {
        Some(fields) => explain_unique_violation(conn, updated, fields, Some(id)),
        None => updated,
    }
}

/// Archives (soft-deletes) an enterprise. Its live participants, order classes,
/// internship bases and agreements block it, unless `cascade`, which archives them
/// in the same transaction.
pub fn archive(
    conn: &mut DbConn,
    id: EnterpriseId,
    if_match: &Precondition,
    cascade: bool,
) -> Result<(Enterprise, Vec<(EntityKind, String)>)> {
    write(conn, |conn| {
        let current: Enterprise = lifecycle::lock_live(conn, id, if_match)?;
        let mut cascaded = Vec::new();
        let now = domain::now().naive_utc();
        let key = id.to_string();
        macro_rules! live_children {
            ($table:ident) => {
                $table::table
                    .filter($table::enterprise_id.eq(&key))
                    .filter($table::archived_at.is_null())
            };
        }
        macro_rules! archive_children {
            ($table:ident, $kind:expr) => {
                // By id (creation order), so that the audit trail lists them alike
                // on both backends.
                let ids: Vec<String> = live_children!($table)
                    .select($table::id)
                    .order($table::id)
                    .load(conn)?;
                cascaded.extend(ids.into_iter().map(|child| ($kind, child)));
                diesel::update(live_children!($table))
                    .set((
                        $table::archived_at.eq(now),
                        $table::updated_at.eq(now),
                        $table::version.eq($table::version + 1),
                    ))
                    .execute(conn)?
            };
        }
        if cascade {
            archive_children!(participants, EntityKind::Participant);
            archive_children!(order_classes, EntityKind::OrderClass);
            archive_children!(internship_bases, EntityKind::InternshipBase);
            archive_children!(agreements, EntityKind::Agreement);
        } else {
            let blocking: Vec<String> = [
                (
                    live_children!(participants)
                        .count()
                        .get_result::<i64>(conn)?,
                    "participant",
                ),
                (
                    live_children!(order_classes)
                        .count()
                        .get_result::<i64>(conn)?,
                    "order class",
                ),
                (
                    live_children!(internship_bases)
                        .count()
                        .get_result::<i64>(conn)?,
                    "internship base",
                ),
                (
                    live_children!(agreements).count().get_result::<i64>(conn)?,
                    "agreement",
                ),
            ]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, kind)| format!("{n} {kind}{}", if n == 1 { "" } else { "s" }))
            .collect();
            if !blocking.is_empty() {
                return Err(DomainError::Conflict {
                    code: "has_live_records",
                    detail: format!(
                        "enterprise {id} still has {}; archive them first, or archive all of them with it \
                         using ?cascade=true",
                        blocking.join(", ")
                    ),
                    existing_id: None,
                }
                .into());
            }
        }
        Ok((lifecycle::stamp(conn, id, current, true)?, cascaded))
    })
}

pub fn restore(conn: &mut DbConn, id: EnterpriseId, if_match: &Precondition) -> Result<Enterprise> {
    lifecycle::restore(conn, id, if_match, |_, _| Ok(()))
}

archivable!(Enterprise, EnterpriseId, enterprises, "enterprise");

/// Refuses a name or credit code that another enterprise already has.
fn check_unique(
    conn: &mut DbConn,
    fields: &EnterpriseFields,
    this: Option<EnterpriseId>,
) -> Result<()> {
    use enterprises::dsl as e;
    let this = this.map(|id| id.to_string()).unwrap_or_default();
    let same_name: Option<(String, String)> = e::enterprises
        .filter(e::name_key.eq(&fields.name_key))
        .filter(e::id.ne(&this))
        .select((e::id, e::name))
        .first(conn)
        .optional()?;
    if let Some((id, name)) = same_name {
        return Err(DomainError::Conflict {
            code: "duplicate_name",
            detail: format!("enterprise {id} is already named \"{name}\""),
            existing_id: Some(id),
        }
        .into());
    }
    if let Some(code) = &fields.credit_code {
        let same_code: Option<(String, String)> = e::enterprises
            .filter(e::credit_code.eq(code.as_str()))
            .filter(e::id.ne(&this))
            .select((e::id, e::name))
            .first(conn)
            .optional()?;
        if let Some((id, name)) = same_code {
            return Err(DomainError::Conflict {
                code: "duplicate_credit_code",
                detail: format!("enterprise {id} (\"{name}\") already has credit code {code}"),
                existing_id: Some(id),
            }
            .into());
        }
    }
    Ok(())
}

/// A concurrent writer may win the race between our check and our insert (on
/// PostgreSQL): name the record it created instead of reporting a bare violation.
fn explain_unique_violation<T>(
    conn: &mut DbConn,
    result: Result<T>,
    fields: &EnterpriseFields,
    this: Option<EnterpriseId>,
) -> Result<T> {
    match result {
        Err(error) if error.is_unique_violation() => match check_unique(conn, fields, this) {
            Err(conflict) => Err(conflict),
            Ok(()) => Err(error),
        },
        other => other,
    }
}

/// A parent must exist, be live, and not be the enterprise itself or one of its
/// descendants.
fn check_parent(conn: &mut DbConn, parent: EnterpriseId, this: Option<EnterpriseId>) -> Result<()> {
    use enterprises::dsl as e;
    let invalid = |code: &'static str, message: String| -> Error {
        DomainError::Invalid(vec![FieldError::new("parent_id", code, message)]).into()
    };
    if this.is_some() {
        // Two concurrent re-parentings could each pass the cycle check alone.
        super::serialise(conn, super::HIERARCHY_LOCK_KEY)?;
    }
    let row: Option<(Option<NaiveDateTime>, Option<String>)> = e::enterprises
        .find(parent.to_string())
        .select((e::archived_at, e::parent_id))
        .first(conn)
        .optional()?;
    let Some((archived_at, mut next)) = row else {
        return Err(invalid(
            "not_found",
            format!("enterprise {parent} does not exist"),
        ));
    };
    if archived_at.is_some() {
        return Err(invalid(
            "archived",
            format!("enterprise {parent} is archived"),
        ));
    }
    let Some(this) = this else { return Ok(()) };
    let this = this.to_string();
    if parent.to_string() == this {
        return Err(invalid(
            "cycle",
            "an enterprise cannot be its own parent".into(),
        ));
    }
    for _ in 0..MAX_DEPTH {
        let Some(ancestor) = next else { return Ok(()) };
        if ancestor == this {
            return Err(invalid(
                "cycle",
                format!("enterprise {parent} is inside this enterprise; the parent link would make a cycle"),
            ));
        }
        next = e::enterprises
            .find(&ancestor)
            .select(e::parent_id)
            .first(conn)
            .optional()?
            .flatten();
    }
    Err(invalid(
        "too_deep",
        format!("parent chains are limited to {MAX_DEPTH} levels"),
    ))
}

//! Internship base queries and the transactions that change internship bases.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::lifecycle::{self, archivable, Archivable};
use super::schema::{agreements, internship_bases};
use super::stamp::{MaybeStamp, Stamp};
use super::transitions;
use super::{keyset, references, stored, utc, write, DbConn, Result};
use crate::domain::ids::{EnterpriseId, InternshipBaseId};
use crate::domain::internship_base::{
    InternshipBase, InternshipBaseFields, InternshipBaseFilter, InternshipBaseSort,
    NewInternshipBase,
};
use crate::domain::page::Page;
use crate::domain::stage::Stage;
use crate::domain::stage_machine::SubjectKind;
use crate::domain::{self, DomainError, Precondition};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = internship_bases)]
struct InternshipBaseRow {
    id: String,
    enterprise_id: String,
    name: String,
    name_key: String,
    location: Option<String>,
    capacity: i32,
    positions: i32,
    description: Option<String>,
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

impl InternshipBaseRow {
    fn into_domain(self) -> Result<InternshipBase> {
        Ok(InternshipBase {
            id: stored("internship_bases.id", &self.id)?,
            enterprise_id: stored("internship_bases.enterprise_id", &self.enterprise_id)?,
            name: self.name,
            location: self.location,
            capacity: self.capacity,
            positions: self.positions,
            description: self.description,
            stage: stored("internship_bases.stage", &self.stage)?,
            stage_changed_at: utc(self.stage_changed_at),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
            archived_at: self.archived_at.map(utc),
        })
    }
}

/// The editable columns, written by both insert and update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = internship_bases, treat_none_as_null = true)]
struct InternshipBaseFieldsRow<'a> {
    enterprise_id: String,
    name: &'a str,
    name_key: &'a str,
    location: Option<&'a str>,
    capacity: i32,
    positions: i32,
    description: Option<&'a str>,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> InternshipBaseFieldsRow<'a> {
    fn new(fields: &'a InternshipBaseFields, updated_at: NaiveDateTime, version: i64) -> Self {
        Self {
            enterprise_id: fields.enterprise_id.to_string(),
            name: &fields.name,
            name_key: &fields.name_key,
            location: fields.location.as_deref(),
            capacity: fields.capacity,
            positions: fields.positions,
            description: fields.description.as_deref(),
            updated_at,
            version,
        }
    }
}

/// What an insert adds to the editable fields.
#[derive(Insertable)]
#[diesel(table_name = internship_bases)]
struct NewInternshipBaseRow<'a> {
    id: String,
    stage: &'a str,
    stage_changed_at: NaiveDateTime,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    fields: InternshipBaseFieldsRow<'a>,
}

pub fn get(conn: &mut DbConn, id: InternshipBaseId) -> Result<InternshipBase> {
    super::row_by_id!(
        conn,
        internship_bases::table,
        InternshipBaseRow,
        &id.to_string()
    )?
    .ok_or_else(|| lifecycle::not_found::<InternshipBase>(id))?
    .into_domain()
}

/// One page of internship bases; `InternshipBaseFilter::for_enterprise` gives what an
/// enterprise's page embeds, in one query.
pub fn list(conn: &mut DbConn, filter: &InternshipBaseFilter) -> Result<Page<InternshipBase>> {
    use internship_bases::dsl as b;
    let mut query = b::internship_bases
        .select(InternshipBaseRow::as_select())
        .into_boxed();
    if !filter.include_archived {
        query = query.filter(b::archived_at.is_null());
    }
    if let Some(enterprise) = filter.enterprise_id {
        query = query.filter(b::enterprise_id.eq(enterprise.to_string()));
    }
    if let Some(stage) = filter.stage {
        query = query.filter(b::stage.eq(stage.as_str()));
    }
    if let Some(q) = &filter.q {
        query = query.filter(b::name_key.like(super::contains_pattern(q)).escape('\\'));
    }
    let page = &filter.page;
    let descending = page.sort.descending;
    let after = page.after.as_ref();
    let query = match page.sort.key {
        InternshipBaseSort::Name => keyset!(
            query,
            b::name_key,
            b::id,
            descending,
            super::after_text(after)
        ),
        InternshipBaseSort::CreatedAt => keyset!(
            query,
            b::created_at,
            b::id,
            descending,
            super::after_time(after)?
        ),
        InternshipBaseSort::UpdatedAt => keyset!(
            query,
            b::updated_at,
            b::id,
            descending,
            super::after_time(after)?
        ),
    };
    let rows: Vec<InternshipBaseRow> = query.limit(page.limit + 1).load(conn)?;
    let sort = page.sort.key;
    let rows = page.page(rows, |r| {
        let value = match sort {
            InternshipBaseSort::Name => r.name_key.clone(),
            InternshipBaseSort::CreatedAt => super::cursor_time(r.created_at),
            InternshipBaseSort::UpdatedAt => super::cursor_time(r.updated_at),
        };
        (value, r.id.clone())
    });
    rows.try_map(InternshipBaseRow::into_domain)
}

/// Creates an internship base under a live enterprise, at stage `intention` or,
/// with the evidence a move from there would need, at a later one.
pub fn create(
    conn: &mut DbConn,
    id: InternshipBaseId,
    new: &NewInternshipBase,
    actor: Option<&str>,
) -> Result<InternshipBase> {
    let fields = &new.fields;
    write(conn, |conn| {
        references::require_live_enterprise(conn, fields.enterprise_id)?;
        let stage = new.initial.as_ref().map_or(Stage::Intention, |i| i.stage);
        let now = domain::now();
        diesel::insert_into(internship_bases::table)
            .values(NewInternshipBaseRow {
                id: id.to_string(),
                stage: stage.as_str(),
                stage_changed_at: now.naive_utc(),
                created_at: now.naive_utc(),
                fields: InternshipBaseFieldsRow::new(fields, now.naive_utc(), 1),
            })
            .execute(conn)?;
        if let Some(initial) = &new.initial {
            transitions::initial(
                conn,
                transitions::Facts {
                    kind: SubjectKind::InternshipBase,
                    subject_id: &id.to_string(),
                    enterprise: fields.enterprise_id,
                    headcount: fields.capacity,
                    actor,
                },
                initial,
                now,
            )?;
        }
        Ok(internship_base(id, fields, (stage, now), now, now, 1))
    })
}

/// Applies a JSON merge patch, checking `If-Match` against the current version.
pub fn update(
    conn: &mut DbConn,
    id: InternshipBaseId,
    if_match: &Precondition,
    patch: &serde_json::Value,
) -> Result<InternshipBase> {
    write(conn, |conn| {
        let current: InternshipBase = lifecycle::lock_live(conn, id, if_match)?;
        let fields = InternshipBaseFields::from_patch(&current, patch)?;
        if InternshipBaseFields::parse(current.input()).ok().as_ref() == Some(&fields) {
            return Ok(current);
        }
        if fields.enterprise_id != current.enterprise_id {
            references::require_live_enterprise(conn, fields.enterprise_id)?;
            refuse_move_while_covered(conn, id)?;
        }
        let now = domain::now();
        let version = current.version + 1;
        diesel::update(internship_bases::table.find(id.to_string()))
            .set(InternshipBaseFieldsRow::new(
                &fields,
                now.naive_utc(),
                version,
            ))
            .execute(conn)?;
        Ok(internship_base(
            id,
            &fields,
            (current.stage, current.stage_changed_at),
            current.created_at,
            now,
            version,
        ))
    })
}

pub fn archive(
    conn: &mut DbConn,
    id: InternshipBaseId,
    if_match: &Precondition,
) -> Result<InternshipBase> {
    lifecycle::archive(conn, id, if_match)
}

/// Restores an internship base, unless its enterprise is archived.
pub fn restore(
    conn: &mut DbConn,
    id: InternshipBaseId,
    if_match: &Precondition,
) -> Result<InternshipBase> {
    lifecycle::restore(conn, id, if_match, |conn, current: &InternshipBase| {
        references::restorable_under(conn, current.enterprise_id, InternshipBase::KIND)
    })
}

/// An agreement covers items of its own enterprise only, so a base that an agreement
/// (archived or not) covers stays with that enterprise.
fn refuse_move_while_covered(conn: &mut DbConn, id: InternshipBaseId) -> Result<()> {
    let covering: Option<(String, String)> = agreements::table
        .filter(agreements::internship_base_id.eq(id.to_string()))
        .select((agreements::id, agreements::title))
        .first(conn)
        .optional()?;
    match covering {
        None => Ok(()),
        Some((agreement, title)) => Err(DomainError::Conflict {
            code: "covered_by_agreement",
            detail: format!(
                "agreement {agreement} (\"{title}\") covers internship base {id}, which \
                 therefore stays with that agreement's enterprise"
            ),
            existing_id: Some(agreement),
        }
        .into()),
    }
}

/// A live internship base from checked fields and its stage (with when it was reached).
fn internship_base(
    id: InternshipBaseId,
    fields: &InternshipBaseFields,
    (stage, stage_changed_at): (Stage, DateTime<Utc>),
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
) -> InternshipBase {
    InternshipBase {
        id,
        enterprise_id: fields.enterprise_id,
        name: fields.name.clone(),
        location: fields.location.clone(),
        capacity: fields.capacity,
        positions: fields.positions,
        description: fields.description.clone(),
        stage,
        stage_changed_at,
        created_at,
        updated_at,
        version,
        archived_at: None,
    }
}

archivable!(
    InternshipBase,
    InternshipBaseId,
    internship_bases,
    "internship base"
);

/// The enterprise an internship base belongs to and whether it is archived, with the
/// row locked until the transaction ends so that it cannot move meanwhile; `None`
/// when there is no such base.
pub(crate) fn lock_owner(
    conn: &mut DbConn,
    id: InternshipBaseId,
) -> Result<Option<(EnterpriseId, bool)>> {
    if InternshipBase::touch(conn, id)? == 0 {
        return Ok(None);
    }
    let (enterprise, archived_at): (String, Option<NaiveDateTime>) = internship_bases::table
        .find(id.to_string())
        .select((
            internship_bases::enterprise_id,
            internship_bases::archived_at,
        ))
        .first(conn)?;
    Ok(Some((
        stored("internship_bases.enterprise_id", &enterprise)?,
        archived_at.is_some(),
    )))
}

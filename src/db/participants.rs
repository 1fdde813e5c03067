//! Participant queries and the transactions that change participants.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::lifecycle::{self, archivable};
use super::references;
use super::schema::participants;
use super::stamp::{MaybeStamp, Stamp};
use super::{keyset, stored, utc, write, DbConn, Result};
use crate::domain::ids::ParticipantId;
use crate::domain::page::Page;
use crate::domain::participant::{
    Participant, ParticipantFields, ParticipantFilter, ParticipantSort,
};
use crate::domain::{self, Precondition};

diesel::define_sql_function! {
    /// SQL `lower()`, on both backends.
    fn lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = participants)]
struct ParticipantRow {
    id: String,
    full_name: String,
    name_key: String,
    side: String,
    enterprise_id: Option<String>,
    title: Option<String>,
    department: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    notes: Option<String>,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    version: i64,
    #[diesel(deserialize_as = MaybeStamp)]
    archived_at: Option<NaiveDateTime>,
}

impl ParticipantRow {
    fn into_domain(self) -> Result<Participant> {
        Ok(Participant {
            id: stored("participants.id", &self.id)?,
            full_name: self.full_name,
            side: stored("participants.side", &self.side)?,
            enterprise_id: self
                .enterprise_id
                .as_deref()
                .map(|id| stored("participants.enterprise_id", id))
                .transpose()?,
            title: self.title,
            department: self.department,
            email: self.email,
            phone: self.phone,
            notes: self.notes,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
            archived_at: self.archived_at.map(utc),
        })
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = participants, treat_none_as_null = true)]
struct ParticipantFieldsRow<'a> {
    full_name: &'a str,
    name_key: &'a str,
    side: &'a str,
    enterprise_id: Option<String>,
    title: Option<&'a str>,
    department: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    notes: Option<&'a str>,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> ParticipantFieldsRow<'a> {
    fn new(fields: &'a ParticipantFields, updated_at: NaiveDateTime, version: i64) -> Self {
        Self {
            full_name: &fields.full_name,
            name_key: &fields.name_key,
            side: fields.side.as_str(),
            enterprise_id: fields.enterprise_id.map(|id| id.to_string()),
            title: fields.title.as_deref(),
            department: fields.department.as_deref(),
            email: fields.email.as_deref(),
            phone: fields.phone.as_deref(),
            notes: fields.notes.as_deref(),
            updated_at,
            version,
        }
    }
}

/// What an insert adds to the editable fields.
#[derive(Insertable)]
#[diesel(table_name = participants)]
struct NewParticipantRow<'a> {
    id: String,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    fields: ParticipantFieldsRow<'a>,
}

pub fn get(conn: &mut DbConn, id: ParticipantId) -> Result<Participant> {
    super::row_by_id!(conn, participants::table, ParticipantRow, &id.to_string())?
        .ok_or_else(|| lifecycle::not_found::<Participant>(id))?
        .into_domain()
}

pub fn list(conn: &mut DbConn, filter: &ParticipantFilter) -> Result<Page<Participant>> {
    use participants::dsl as p;
    let mut query = p::participants
        .select(ParticipantRow::as_select())
        .into_boxed();
    if !filter.include_archived {
        query = query.filter(p::archived_at.is_null());
    }
    if let Some(side) = filter.side {
        query = query.filter(p::side.eq(side.as_str()));
    }
    if let Some(enterprise) = filter.enterprise_id {
        query = query.filter(p::enterprise_id.eq(enterprise.to_string()));
    }
    if let Some(q) = &filter.q {
        let pattern = super::contains_pattern(q);
        query = query.filter(
            p::name_key
                .like(pattern.clone())
                .escape('\\')
                .or(lower(p::email).like(pattern.clone()).escape('\\'))
                .or(p::phone.like(pattern).escape('\\')),
        );
    }
    let page = &filter.page;
    let descending = page.sort.descending;
    let after = page.after.as_ref();
    let query = match page.sort.key {
        ParticipantSort::FullName => keyset!(
            query,
            p::name_key,
            p::id,
            descending,
            super::after_text(after)
        ),
        ParticipantSort::CreatedAt => keyset!(
            query,
            p::created_at,
            p::id,
            descending,
            super::after_time(after)?
        ),
        ParticipantSort::UpdatedAt => keyset!(
            query,
            p::updated_at,
            p::id,
            descending,
            super::after_time(after)?
        ),
    };
    let rows: Vec<ParticipantRow> = query.limit(page.limit + 1).load(conn)?;
    let sort = page.sort.key;
    let rows = page.page(rows, |r| {
        let value = match sort {
            ParticipantSort::FullName => r.name_key.clone(),
            ParticipantSort::CreatedAt => super::cursor_time(r.created_at),
            ParticipantSort::UpdatedAt => super::cursor_time(r.updated_at),
        };
        (value, r.id.clone())
    });
    rows.try_map(ParticipantRow::into_domain)
}

pub fn create(
    conn: &mut DbConn,
    id: ParticipantId,
    fields: &ParticipantFields,
) -> Result<Participant> {
    write(conn, |conn| {
        if let Some(enterprise) = fields.enterprise_id {
            references::require_live_enterprise(conn, enterprise)?;
        }
        let now = domain::now();
        diesel::insert_into(participants::table)
            .values(NewParticipantRow {
                id: id.to_string(),
                created_at: now.naive_utc(),
                fields: ParticipantFieldsRow::new(fields, now.naive_utc(), 1),
            })
            .execute(conn)?;
        Ok(participant(id, fields, now, now, 1, None))
    })
}

pub fn update(
    conn: &mut DbConn,
    id: ParticipantId,
    if_match: &Precondition,
    patch: &serde_json::Value,
) -> Result<Participant> {
    write(conn, |conn| {
        let current: Participant = lifecycle::lock_live(conn, id, if_match)?;
        let fields = ParticipantFields::from_patch(&current, patch)?;
        if ParticipantFields::parse(current.input()).ok().as_ref() == Some(&fields) {
            return Ok(current);
        }
        if fields.enterprise_id != current.enterprise_id {
            if let Some(enterprise) = fields.enterprise_id {
                references::require_live_enterprise(conn, enterprise)?;
            }
        }
        let now = domain::now();
        let version = current.version + 1;
        diesel::update(participants::table.find(id.to_string()))
            .set(ParticipantFieldsRow::new(&fields, now.naive_utc(), version))
            .execute(conn)?;
        Ok(participant(
            id,
            &fields,
            current.created_at,
            now,
            version,
            None,
        ))
    })
}

pub fn archive(
    conn: &mut DbConn,
    id: ParticipantId,
    if_match: &Precondition,
) -> Result<Participant> {
    lifecycle::archive(conn, id, if_match)
}

/// Restores a participant, unless their enterprise is archived.
pub fn restore(
    conn: &mut DbConn,
    id: ParticipantId,
    if_match: &Precondition,
) -> Result<Participant> {
    lifecycle::restore(
        conn,
        id,
        if_match,
        |conn, current: &Participant| match current.enterprise_id {
            Some(enterprise) => references::restorable_under(conn, enterprise, "participant"),
            None => Ok(()),
        },
    )
}

fn participant(
    id: ParticipantId,
    fields: &ParticipantFields,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    archived_at: Option<DateTime<Utc>>,
) -> Participant {
    Participant {
        id,
        full_name: fields.full_name.clone(),
        side: fields.side,
        enterprise_id: fields.enterprise_id,
        title: fields.title.clone(),
        department: fields.department.clone(),
        email: fields.email.clone(),
        phone: fields.phone.clone(),
        notes: fields.notes.clone(),
        created_at,
        updated_at,
        version,
        archived_at,
    }
}

archivable!(Participant, ParticipantId, participants, "participant");

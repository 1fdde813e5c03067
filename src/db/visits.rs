//! Visit queries: a visit and its links are written in one transaction, and read
//! back (one visit or a page of them) in a fixed number of queries.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::lifecycle::{self, archivable};
use super::one_of::one_of;
use super::parsed::Parsed;
use super::schema::{
    enterprises, internship_bases, order_classes, participants, visit_enterprises,
    visit_internship_bases, visit_order_classes, visit_participants, visits,
};
use super::stamp::{MaybeStamp, Stamp};
use super::{keyset, stored, utc, write, DbConn, Result};
use crate::domain::enterprise::EnterpriseKind;
use crate::domain::ids::{EnterpriseId, InternshipBaseId, OrderClassId, ParticipantId, VisitId};
use crate::domain::page::Page;
use crate::domain::participant::Side;
use crate::domain::stage::Stage;
use crate::domain::visit::{
    LinkFacts, Links, ParticipantRole, Role, Visit, VisitEnterprise, VisitFields, VisitFilter,
    VisitItem, VisitParticipant, VisitSort,
};
use crate::domain::{self, Precondition};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = visits)]
struct VisitRow {
    id: String,
    title: String,
    #[diesel(deserialize_as = Stamp)]
    starts_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    ends_at: Option<NaiveDateTime>,
    direction: String,
    location: Option<String>,
    purpose: Option<String>,
    summary: Option<String>,
    outcome: Option<String>,
    follow_up: Option<String>,
    follow_up_due: Option<NaiveDate>,
    status: String,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    version: i64,
    #[diesel(deserialize_as = MaybeStamp)]
    archived_at: Option<NaiveDateTime>,
}

/// A visit's own columns, as written by create and update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = visits, treat_none_as_null = true)]
struct VisitColumns<'a> {
    title: &'a str,
    starts_at: NaiveDateTime,
    ends_at: Option<NaiveDateTime>,
    direction: &'a str,
    location: Option<&'a str>,
    purpose: Option<&'a str>,
    summary: Option<&'a str>,
    outcome: Option<&'a str>,
    follow_up: Option<&'a str>,
    follow_up_due: Option<NaiveDate>,
    status: &'a str,
    search_text: String,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> VisitColumns<'a> {
    fn new(fields: &'a VisitFields, updated_at: NaiveDateTime, version: i64) -> Self {
        Self {
            title: &fields.title,
            starts_at: fields.starts_at.naive_utc(),
            ends_at: fields.ends_at.map(|t| t.naive_utc()),
            direction: fields.direction.as_str(),
            location: fields.location.as_deref(),
            purpose: fields.purpose.as_deref(),
            summary: fields.summary.as_deref(),
            outcome: fields.outcome.as_deref(),
            follow_up: fields.follow_up.as_deref(),
            follow_up_due: fields.follow_up_due,
            status: fields.status.as_str(),
            search_text: fields.search_text(),
            updated_at,
            version,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = visits)]
struct NewVisitRow<'a> {
    id: String,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    columns: VisitColumns<'a>,
}

#[derive(Insertable)]
#[diesel(table_name = visit_enterprises)]
struct EnterpriseLink {
    visit_id: String,
    enterprise_id: String,
    starts_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = visit_participants)]
struct ParticipantLink {
    visit_id: String,
    participant_id: String,
    role: &'static str,
    starts_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = visit_order_classes)]
struct OrderClassLink {
    visit_id: String,
    order_class_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = visit_internship_bases)]
struct InternshipBaseLink {
    visit_id: String,
    internship_base_id: String,
}

pub fn get(conn: &mut DbConn, id: VisitId) -> Result<Visit> {
    read(conn, id, Wanted::ALL)
}

/// A visit with the kinds of link in `wanted` looked up.
fn read(conn: &mut DbConn, id: VisitId, wanted: Wanted) -> Result<Visit> {
    let row = super::row_by_id!(conn, visits::table, VisitRow, &id.to_string())?
        .ok_or_else(|| lifecycle::not_found::<Visit>(id))?;
    let mut visits = embed(conn, vec![row], wanted)?;
    visits
        .pop()
        .ok_or_else(|| lifecycle::not_found::<Visit>(id))
}

pub fn list(conn: &mut DbConn, filter: &VisitFilter) -> Result<Page<Visit>> {
    use visits::dsl as v;
    let mut ids = Vec::new();
    if let Some(enterprise) = filter.enterprise_id {
        ids.push(enterprise.to_string());
        if filter.include_members {
            let members: Vec<String> = enterprises::table
                .filter(enterprises::parent_id.eq(enterprise.to_string()))
                .select(enterprises::id)
                .load(conn)?;
            ids.extend(members);
        }
    }
    let participant = filter.participant_id.map(|p| p.to_string());
    let page = &filter.page;
    let after = super::after_time(page.after.as_ref())?;
    let (from, to) = (
        filter.from.map(|t| t.naive_utc()),
        filter.to.map(|t| t.naive_utc()),
    );
    let (from, to) = if page.sort.key == VisitSort::StartsAt {
        super::period_beside_cursor(from, to, after.as_ref(), page.sort.descending)
    } else {
        (from, to)
    };
    let pattern = filter.q.as_deref().map(super::contains_pattern);
    let descending = page.sort.descending;
    let rows: Vec<VisitRow> = super::native!(conn, |c| {
        let mut query = v::visits.select(VisitRow::as_select()).into_boxed();
        if !filter.include_archived {
            query = query.filter(v::archived_at.is_null());
        }
        if filter.enterprise_id.is_some() {
            query = query.filter(
                v::id.eq_any(
                    visit_enterprises::table
                        .filter(one_of(visit_enterprises::enterprise_id, &ids))
                        .select(visit_enterprises::visit_id),
                ),
            );
        }
        if let Some(participant) = &participant {
            query = query.filter(
                v::id.eq_any(
                    visit_participants::table
                        .filter(visit_participants::participant_id.eq(participant))
                        .select(visit_participants::visit_id),
                ),
            );
        }
        if let Some(from) = from {
            query = query.filter(v::starts_at.ge(from));
        }
        if let Some(to) = to {
            query = query.filter(v::starts_at.lt(to));
        }
        if let Some(direction) = filter.direction {
            query = query.filter(v::direction.eq(direction.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter(v::status.eq(status.as_str()));
        }
        if let Some(pattern) = &pattern {
            query = query.filter(v::search_text.like(pattern).escape('\\'));
        }
        let query = match page.sort.key {
            VisitSort::StartsAt => keyset!(query, v::starts_at, v::id, descending, after),
            VisitSort::CreatedAt => keyset!(query, v::created_at, v::id, descending, after),
            VisitSort::UpdatedAt => keyset!(query, v::updated_at, v::id, descending, after),
        };
        query.limit(page.limit + 1).load(c)
    })?;
    let sort = page.sort.key;
    let rows = page.page(rows, |r| {
        let value = match sort {
            VisitSort::StartsAt => r.starts_at,
            VisitSort::CreatedAt => r.created_at,
            VisitSort::UpdatedAt => r.updated_at,
        };
        (super::cursor_time(value), r.id.clone())
    });
    Ok(Page {
        items: embed(conn, rows.items, Wanted::ALL)?,
        next_cursor: rows.next_cursor,
    })
}

/// Saves a visit and all its links, or nothing.
pub fn create(conn: &mut DbConn, id: VisitId, fields: &VisitFields) -> Result<Visit> {
    write(conn, |conn| {
        fields.check_links(&link_facts(conn, fields)?, None)?;
        let now = domain::now().naive_utc();
        diesel::insert_into(visits::table)
            .values(NewVisitRow {
                id: id.to_string(),
                created_at: now,
                columns: VisitColumns::new(fields, now, 1),
            })
            .execute(conn)?;
        insert_links(conn, id, fields)?;
        read(conn, id, Wanted::of(fields))
    })
}

/// Applies a merge patch; a link list sent replaces the stored one.
pub fn update(
    conn: &mut DbConn,
    id: VisitId,
    if_match: &Precondition,
    patch: &serde_json::Value,
) -> Result<Visit> {
    write(conn, |conn| {
        let current: Visit = lifecycle::lock_live(conn, id, if_match)?;
        let now = domain::now();
        let fields = VisitFields::from_patch(&current, patch, now)?;
        if VisitFields::parse(current.input(), now).is_ok_and(|stored| stored.same_as(&fields)) {
            return Ok(current);
        }
        fields.check_links(&link_facts(conn, &fields)?, Some(&current))?;
        diesel::update(visits::table.find(id.to_string()))
            .set(VisitColumns::new(
                &fields,
                now.naive_utc(),
                current.version + 1,
            ))
            .execute(conn)?;
        delete_links(conn, id)?;
        insert_links(conn, id, &fields)?;
        read(conn, id, Wanted::of(&fields))
    })
}

pub fn archive(conn: &mut DbConn, id: VisitId, if_match: &Precondition) -> Result<Visit> {
    lifecycle::archive(conn, id, if_match)
}

pub fn restore(conn: &mut DbConn, id: VisitId, if_match: &Precondition) -> Result<Visit> {
    lifecycle::restore(conn, id, if_match, |_, _| Ok(()))
}

/// Inserts the rows of `links` into `table`. On PostgreSQL in one statement, one
/// round trip; on SQLite one row at a time, each through a cached statement: a
/// multi-row insert is prepared anew for every call, which costs SQLite more than
/// the calls it saves. (MultiConnection has no multi-row insert of its own.)
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $links:expr) => {
        match &mut *$conn {
            DbConn::Pg(c) if !$links.is_empty() => {
                diesel::insert_into($table).values(&$links).execute(c)?;
            }
            conn => {
                for link in &$links {
                    diesel::insert_into($table).values(link).execute(conn)?;
                }
            }
        }
    };
}

fn insert_links(conn: &mut DbConn, id: VisitId, fields: &VisitFields) -> Result<()> {
    let visit_id = id.to_string();
    let starts_at = fields.starts_at.naive_utc();
    let enterprises: Vec<EnterpriseLink> = fields
        .enterprise_ids
        .iter()
        .map(|e| EnterpriseLink {
            visit_id: visit_id.clone(),
            enterprise_id: e.to_string(),
            starts_at,
        })
        .collect();
    insert_rows!(conn, visit_enterprises::table, enterprises);
    let people: Vec<ParticipantLink> = fields
        .participants
        .iter()
        .map(|p| ParticipantLink {
            visit_id: visit_id.clone(),
            participant_id: p.participant_id.to_string(),
            role: p.role.as_str(),
            starts_at,
        })
        .collect();
    insert_rows!(conn, visit_participants::table, people);
    let classes: Vec<OrderClassLink> = fields
        .order_class_ids
        .iter()
        .map(|o| OrderClassLink {
            visit_id: visit_id.clone(),
            order_class_id: o.to_string(),
        })
        .collect();
    insert_rows!(conn, visit_order_classes::table, classes);
    let bases: Vec<InternshipBaseLink> = fields
        .internship_base_ids
        .iter()
        .map(|b| InternshipBaseLink {
            visit_id: visit_id.clone(),
            internship_base_id: b.to_string(),
        })
        .collect();
    insert_rows!(conn, visit_internship_bases::table, bases);
    Ok(())
}

fn delete_links(conn: &mut DbConn, id: VisitId) -> Result<()> {
    let visit_id = id.to_string();
    diesel::delete(visit_enterprises::table.filter(visit_enterprises::visit_id.eq(&visit_id)))
        .execute(conn)?;
    diesel::delete(visit_participants::table.filter(visit_participants::visit_id.eq(&visit_id)))
        .execute(conn)?;
    diesel::delete(visit_order_classes::table.filter(visit_order_classes::visit_id.eq(&visit_id)))
        .execute(conn)?;
    diesel::delete(
        visit_internship_bases::table.filter(visit_internship_bases::visit_id.eq(&visit_id)),
    )
    .execute(conn)?;
    Ok(())
}

/// What the database knows of everything the visit names: up to five queries.
fn link_facts(conn: &mut DbConn, fields: &VisitFields) -> Result<LinkFacts> {
    let enterprise_ids: Vec<String> = fields
        .enterprise_ids
        .iter()
        .map(|e| e.to_string())
        .collect();
    // A list left empty costs no query: `IN ()` would still be a round trip.
    let mut found: Vec<(String, Option<NaiveDateTime>, Option<String>)> = Vec::new();
    let mut members: Vec<String> = Vec::new();
    if !enterprise_ids.is_empty() {
        // The enterprises named and their members, in one query.
        let related: Vec<(String, Option<NaiveDateTime>, Option<String>)> = enterprises::table
            .filter(
                one_of(enterprises::id, &enterprise_ids)
                    .or(one_of(enterprises::parent_id, &enterprise_ids)),
            )
            .select((
                enterprises::id,
                enterprises::archived_at,
                enterprises::parent_id,
            ))
            .load(conn)?;
        for enterprise in related {
            let (id, _, parent) = &enterprise;
            if parent.as_ref().is_some_and(|p| enterprise_ids.contains(p)) {
                members.push(id.clone());
            }
            if enterprise_ids.contains(id) {
                found.push(enterprise);
            }
        }
    }
    let participant_ids: Vec<String> = fields
        .participants
        .iter()
        .map(|p| p.participant_id.to_string())
        .collect();
    let mut people: Vec<(String, Option<NaiveDateTime>, String, Option<String>)> = Vec::new();
    if !participant_ids.is_empty() {
        people = participants::table
            .filter(one_of(participants::id, &participant_ids))
            .select((
                participants::id,
                participants::archived_at,
                participants::side,
                participants::enterprise_id,
            ))
            .load(conn)?;
    }
    let class_ids: Vec<String> = fields
        .order_class_ids
        .iter()
        .map(|o| o.to_string())
        .collect();
    let mut classes: Vec<(String, Option<NaiveDateTime>, String)> = Vec::new();
    if !class_ids.is_empty() {
        classes = order_classes::table
            .filter(one_of(order_classes::id, &class_ids))
            .select((
                order_classes::id,
                order_classes::archived_at,
                order_classes::enterprise_id,
            ))
            .load(conn)?;
    }
    let base_ids: Vec<String> = fields
        .internship_base_ids
        .iter()
        .map(|b| b.to_string())
        .collect();
    let mut bases: Vec<(String, Option<NaiveDateTime>, String)> = Vec::new();
    if !base_ids.is_empty() {
        bases = internship_bases::table
            .filter(one_of(internship_bases::id, &base_ids))
            .select((
                internship_bases::id,
                internship_bases::archived_at,
                internship_bases::enterprise_id,
            ))
            .load(conn)?;
    }
    Ok(LinkFacts {
        enterprises: found
            .into_iter()
            .map(|(id, archived, parent)| {
                Ok((
                    stored("enterprises.id", &id)?,
                    archived.is_some(),
                    parent
                        .as_deref()
                        .map(|p| stored("enterprises.parent_id", p))
                        .transpose()?,
                ))
            })
            .collect::<Result<_>>()?,
        members: members
            .iter()
            .map(|id| stored("enterprises.id", id))
            .collect::<Result<_>>()?,
        participants: people
            .into_iter()
            .map(|(id, archived, side, enterprise)| {
                Ok((
                    stored("participants.id", &id)?,
                    archived.is_some(),
                    stored("participants.side", &side)?,
                    enterprise
                        .as_deref()
                        .map(|e| stored("participants.enterprise_id", e))
                        .transpose()?,
                ))
            })
            .collect::<Result<_>>()?,
        order_classes: classes
            .into_iter()
            .map(|(id, archived, enterprise)| {
                Ok((
                    stored("order_classes.id", &id)?,
                    archived.is_some(),
                    stored("order_classes.enterprise_id", &enterprise)?,
                ))
            })
            .collect::<Result<_>>()?,
        internship_bases: bases
            .into_iter()
            .map(|(id, archived, enterprise)| {
                Ok((
                    stored("internship_bases.id", &id)?,
                    archived.is_some(),
                    stored("internship_bases.enterprise_id", &enterprise)?,
                ))
            })
            .collect::<Result<_>>()?,
    })
}

/// The kinds of link `embed` looks up: every kind for visits read back, only those
/// it names for a visit just written (its links are those it was written with).
#[derive(Debug, Clone, Copy)]
struct Wanted {
    enterprises: bool,
    participants: bool,
    order_classes: bool,
    internship_bases: bool,
}

impl Wanted {
    const ALL: Wanted = Wanted {
        enterprises: true,
        participants: true,
        order_classes: true,
        internship_bases: true,
    };

    fn of(fields: &VisitFields) -> Wanted {
        Wanted {
            enterprises: !fields.enterprise_ids.is_empty(),
            participants: !fields.participants.is_empty(),
            order_classes: !fields.order_class_ids.is_empty(),
            internship_bases: !fields.internship_base_ids.is_empty(),
        }
    }
}

/// Attaches links to visit rows: one query per kind of link wanted, whatever the
/// number of visits. Embedded views show live records only; `links` keeps every id.
fn embed(conn: &mut DbConn, rows: Vec<VisitRow>, wanted: Wanted) -> Result<Vec<Visit>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut visits: Vec<Visit> = rows
        .into_iter()
        .map(VisitRow::into_domain)
        .collect::<Result<_>>()?;
    let position: HashMap<VisitId, usize> =
        visits.iter().enumerate().map(|(i, v)| (v.id, i)).collect();

    type EnterpriseRow = (
        Parsed<VisitId>,
        Parsed<EnterpriseId>,
        String,
        Parsed<EnterpriseKind>,
        Option<NaiveDateTime>,
    );
    let linked: Vec<EnterpriseRow> = if !wanted.enterprises {
        Vec::new()
    } else {
        super::native!(conn, |c| {
            visit_enterprises::table
                .inner_join(enterprises::table)
                .filter(one_of(visit_enterprises::visit_id, &ids))
                .order((enterprises::name_key, enterprises::id))
                .select((
                    visit_enterprises::visit_id,
                    enterprises::id,
                    enterprises::name,
                    enterprises::kind,
                    enterprises::archived_at,
                ))
                .load(c)
        })?
    };
    for (Parsed(visit_id), Parsed(id), name, Parsed(kind), archived_at) in linked {
        let Some(visit) = position.get(&visit_id).map(|&i| &mut visits[i]) else {
            continue;
        };
        visit.links.enterprise_ids.push(id);
        if archived_at.is_none() {
            visit.enterprises.push(VisitEnterprise { id, name, kind });
        }
    }

    type ParticipantRow = (
        Parsed<VisitId>,
        Parsed<ParticipantId>,
        String,
        Option<String>,
        Parsed<Side>,
        Option<Parsed<EnterpriseId>>,
        Parsed<Role>,
        Option<NaiveDateTime>,
    );
    let linked: Vec<ParticipantRow> = if !wanted.participants {
        Vec::new()
    } else {
        super::native!(conn, |c| {
            visit_participants::table
                .inner_join(participants::table)
                .filter(one_of(visit_participants::visit_id, &ids))
                .order((participants::name_key, participants::id))
                .select((
                    visit_participants::visit_id,
                    participants::id,
                    participants::full_name,
                    participants::title,
                    participants::side,
                    participants::enterprise_id,
                    visit_participants::role,
                    participants::archived_at,
                ))
                .load(c)
        })?
    };
    for (
        Parsed(visit_id),
        Parsed(id),
        full_name,
        title,
        Parsed(side),
        enterprise_id,
        Parsed(role),
        archived_at,
    ) in linked
    {
        let Some(visit) = position.get(&visit_id).map(|&i| &mut visits[i]) else {
            continue;
        };
        let link = ParticipantRole {
            participant_id: id,
            role,
        };
        visit.links.participants.push(link);
        if archived_at.is_none() {
            visit.participants.push(VisitParticipant {
                id,
                full_name,
                title,
                side,
                enterprise_id: enterprise_id.map(|Parsed(e)| e),
                role,
            });
        }
    }

    type ItemRow<Id> = (
        Parsed<VisitId>,
        Parsed<Id>,
        String,
        Parsed<EnterpriseId>,
        Parsed<Stage>,
        Option<NaiveDateTime>,
    );
    let linked: Vec<ItemRow<OrderClassId>> = if !wanted.order_classes {
        Vec::new()
    } else {
        super::native!(conn, |c| {
            visit_order_classes::table
                .inner_join(order_classes::table)
                .filter(one_of(visit_order_classes::visit_id, &ids))
                .order((order_classes::name_key, order_classes::id))
                .select((
                    visit_order_classes::visit_id,
                    order_classes::id,
                    order_classes::name,
                    order_classes::enterprise_id,
                    order_classes::stage,
                    order_classes::archived_at,
                ))
                .load(c)
        })?
    };
    for (Parsed(visit_id), Parsed(id), name, Parsed(enterprise_id), Parsed(stage), archived_at) in
        linked
    {
        let Some(visit) = position.get(&visit_id).map(|&i| &mut visits[i]) else {
            continue;
        };
        let item = VisitItem {
            id,
            name,
            enterprise_id,
            stage,
        };
        visit.links.order_class_ids.push(item.id);
        if archived_at.is_none() {
            visit.order_classes.push(item);
        }
    }

    let linked: Vec<ItemRow<InternshipBaseId>> = if !wanted.internship_bases {
        Vec::new()
    } else {
        super::native!(conn, |c| {
            visit_internship_bases::table
                .inner_join(internship_bases::table)
                .filter(one_of(visit_internship_bases::visit_id, &ids))
                .order((internship_bases::name_key, internship_bases::id))
                .select((
                    visit_internship_bases::visit_id,
                    internship_bases::id,
                    internship_bases::name,
                    internship_bases::enterprise_id,
                    internship_bases::stage,
                    internship_bases::archived_at,
                ))
                .load(c)
        })?
    };
    for (Parsed(visit_id), Parsed(id), name, Parsed(enterprise_id), Parsed(stage), archived_at) in
        linked
    {
        let Some(visit) = position.get(&visit_id).map(|&i| &mut visits[i]) else {
            continue;
        };
        let item = VisitItem {
            id,
            name,
            enterprise_id,
            stage,
        };
        visit.links.internship_base_ids.push(item.id);
        if archived_at.is_none() {
            visit.internship_bases.push(item);
        }
    }
    Ok(visits)
}

impl VisitRow {
    fn into_domain(self) -> Result<Visit> {
        Ok(Visit {
            id: stored("visits.id", &self.id)?,
            title: self.title,
            starts_at: utc(self.starts_at),
            ends_at: self.ends_at.map(utc),
            direction: stored("visits.direction", &self.direction)?,
            location: self.location,
            purpose: self.purpose,
            summary: self.summary,
            outcome: self.outcome,
            follow_up: self.follow_up,
            follow_up_due: self.follow_up_due,
            status: stored("visits.status", &self.status)?,
            enterprises: Vec::new(),
            participants: Vec::new(),
            order_classes: Vec::new(),
            internship_bases: Vec::new(),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
            archived_at: self.archived_at.map(utc),
            links: Links::default(),
        })
    }
}

archivable!(Visit, VisitId, visits, "visit");

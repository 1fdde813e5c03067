//! Order class queries and the transactions that change order classes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::lifecycle::{self, archivable, Archivable};
use super::schema::{agreements, order_classes};
use super::stamp::{MaybeStamp, Stamp};
use super::transitions;
use super::{keyset, references, stored, utc, write, DbConn, Error, Result};
use crate::domain::ids::{EnterpriseId, OrderClassId};
use crate::domain::order_class::{
    NewOrderClass, OrderClass, OrderClassFields, OrderClassFilter, OrderClassSort,
};
use crate::domain::page::Page;
use crate::domain::stage::Stage;
use crate::domain::stage_machine::SubjectKind;
use crate::domain::{self, DomainError, Precondition};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_classes)]
struct OrderClassRow {
    id: String,
    enterprise_id: String,
    name: String,
    name_key: String,
    major: Option<String>,
    cohort_year: Option<i32>,
    planned_size: i32,
    enrolled_count: i32,
    employed_count: i32,
    allow_over_enrollment: i32,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
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

impl OrderClassRow {
    fn into_domain(self) -> Result<OrderClass> {
        Ok(OrderClass {
            id: stored("order_classes.id", &self.id)?,
            enterprise_id: stored("order_classes.enterprise_id", &self.enterprise_id)?,
            name: self.name,
            major: self.major,
            cohort_year: self.cohort_year,
            planned_size: self.planned_size,
            enrolled_count: self.enrolled_count,
            employed_count: self.employed_count,
            allow_over_enrollment: match self.allow_over_enrollment {
                0 => false,
                1 => true,
                other => {
                    return Err(Error::Corrupt(format!(
                        "order_classes.allow_over_enrollment = {other}"
                    )))
                }
            },
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            description: self.description,
            stage: stored("order_classes.stage", &self.stage)?,
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
#[diesel(table_name = order_classes, treat_none_as_null = true)]
struct OrderClassFieldsRow<'a> {
    enterprise_id: String,
    name: &'a str,
    name_key: &'a str,
    major: Option<&'a str>,
    cohort_year: Option<i32>,
    planned_size: i32,
    enrolled_count: i32,
    employed_count: i32,
    /// INTEGER 0/1: `MultiConnection` has no boolean type common to both backends.
    allow_over_enrollment: i32,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    description: Option<&'a str>,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> OrderClassFieldsRow<'a> {
    fn new(fields: &'a OrderClassFields, updated_at: NaiveDateTime, version: i64) -> Self {
        Self {
            enterprise_id: fields.enterprise_id.to_string(),
            name: &fields.name,
            name_key: &fields.name_key,
            major: fields.major.as_deref(),
            cohort_year: fields.cohort_year,
            planned_size: fields.planned_size,
            enrolled_count: fields.enrolled_count,
            employed_count: fields.employed_count,
            allow_over_enrollment: i32::from(fields.allow_over_enrollment),
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            description: fields.description.as_deref(),
            updated_at,
            version,
        }
    }
}

/// What an insert adds to the editable fields.
#[derive(Insertable)]
#[diesel(table_name = order_classes)]
struct NewOrderClassRow<'a> {
    id: String,
    stage: &'a str,
    stage_changed_at: NaiveDateTime,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    fields: OrderClassFieldsRow<'a>,
}

pub fn get(conn: &mut DbConn, id: OrderClassId) -> Result<OrderClass> {
    super::row_by_id!(conn, order_classes::table, OrderClassRow, &id.to_string())?
        .ok_or_else(|| lifecycle::not_found::<OrderClass>(id))?
        .into_domain()
}

/// One page of order classes; `OrderClassFilter::for_enterprise` gives what an
/// enterprise's page embeds, in one query.
pub fn list(conn: &mut DbConn, filter: &OrderClassFilter) -> Result<Page<OrderClass>> {
    use order_classes::dsl as o;
    let mut query = o::order_classes
        .select(OrderClassRow::as_select())
        .into_boxed();
    if !filter.include_archived {
        query = query.filter(o::archived_at.is_null());
    }
    if let Some(enterprise) = filter.enterprise_id {
        query = query.filter(o::enterprise_id.eq(enterprise.to_string()));
    }
    if let Some(stage) = filter.stage {
        query = query.filter(o::stage.eq(stage.as_str()));
    }
    if let Some(year) = filter.cohort_year {
        query = query.filter(o::cohort_year.eq(year));
    }
    if let Some(major) = &filter.major {
        query = query.filter(o::major.eq(major.clone()));
    }
    if let Some(q) = &filter.q {
        query = query.filter(o::name_key.like(super::contains_pattern(q)).escape('\\'));
    }
    let page = &filter.page;
    let descending = page.sort.descending;
    let after = page.after.as_ref();
    let query = match page.sort.key {
        OrderClassSort::Name => keyset!(
            query,
            o::name_key,
            o::id,
            descending,
            super::after_text(after)
        ),
        OrderClassSort::CreatedAt => keyset!(
            query,
            o::created_at,
            o::id,
            descending,
            super::after_time(after)?
        ),
        OrderClassSort::UpdatedAt => keyset!(
            query,
            o::updated_at,
            o::id,
            descending,
            super::after_time(after)?
        ),
    };
    let rows: Vec<OrderClassRow> = query.limit(page.limit + 1).load(conn)?;
    let sort = page.sort.key;
    let rows = page.page(rows, |r| {
        let value = match sort {
            OrderClassSort::Name => r.name_key.clone(),
            OrderClassSort::CreatedAt => super::cursor_time(r.created_at),
            OrderClassSort::UpdatedAt => super::cursor_time(r.updated_at),
        };
        (value, r.id.clone())
    });
    rows.try_map(OrderClassRow::into_domain)
}

/// Creates an order class under a live enterprise, at stage `intention` or,
/// with the evidence a move from there would need, at a later one.
pub fn create(
    conn: &mut DbConn,
    id: OrderClassId,
    new: &NewOrderClass,
    actor: Option<&str>,
) -> Result<OrderClass> {
    let fields = &new.fields;
    write(conn, |conn| {
        references::require_live_enterprise(conn, fields.enterprise_id)?;
        let stage = new.initial.as_ref().map_or(Stage::Intention, |i| i.stage);
        let now = domain::now();
        diesel::insert_into(order_classes::table)
            .values(NewOrderClassRow {
                id: id.to_string(),
                stage: stage.as_str(),
                stage_changed_at: now.naive_utc(),
                created_at: now.naive_utc(),
                fields: OrderClassFieldsRow::new(fields, now.naive_utc(), 1),
            })
            .execute(conn)?;
        if let Some(initial) = &new.initial {
            transitions::initial(
                conn,
                transitions::Facts {
                    kind: SubjectKind::OrderClass,
                    subject_id: &id.to_string(),
                    enterprise: fields.enterprise_id,
                    headcount: fields.enrolled_count,
                    actor,
                },
                initial,
                now,
            )?;
        }
        Ok(order_class(id, fields, (stage, now), now, now, 1))
    })
}

/// Applies a JSON merge patch, checking `If-Match` against the current version.
pub fn update(
    conn: &mut DbConn,
    id: OrderClassId,
    if_match: &Precondition,
    patch: &serde_json::Value,
) -> Result<OrderClass> {
    write(conn, |conn| {
        let current: OrderClass = lifecycle::lock_live(conn, id, if_match)?;
        let fields = OrderClassFields::from_patch(&current, patch)?;
        if OrderClassFields::parse(current.input()).ok().as_ref() == Some(&fields) {
            return Ok(current);
        }
        if fields.enterprise_id != current.enterprise_id {
            references::require_live_enterprise(conn, fields.enterprise_id)?;
            refuse_move_while_covered(conn, id)?;
        }
        let now = domain::now();
        let version = current.version + 1;
        diesel::update(order_classes::table.find(id.to_string()))
            .set(OrderClassFieldsRow::new(&fields, now.naive_utc(), version))
            .execute(conn)?;
        Ok(order_class(
            id,
            &fields,
            (current.stage, current.stage_changed_at),
            current.created_at,
            now,
            version,
        ))
    })
}

pub fn archive(conn: &mut DbConn, id: OrderClassId, if_match: &Precondition) -> Result<OrderClass> {
    lifecycle::archive(conn, id, if_match)
}

/// Restores an order class, unless its enterprise is archived.
pub fn restore(conn: &mut DbConn, id: OrderClassId, if_match: &Precondition) -> Result<OrderClass> {
    lifecycle::restore(conn, id, if_match, |conn, current: &OrderClass| {
        references::restorable_under(conn, current.enterprise_id, OrderClass::KIND)
    })
}

/// An agreement covers items of its own enterprise only, so an order class that an
/// agreement (archived or not) covers stays with that enterprise.
fn refuse_move_while_covered(conn: &mut DbConn, id: OrderClassId) -> Result<()> {
    let covering: Option<(String, String)> = agreements::table
        .filter(agreements::order_class_id.eq(id.to_string()))
        .select((agreements::id, agreements::title))
        .first(conn)
        .optional()?;
    match covering {
        None => Ok(()),
        Some((agreement, title)) => Err(DomainError::Conflict {
            code: "covered_by_agreement",
            detail: format!(
                "agreement {agreement} (\"{title}\") covers order class {id}, which therefore \
                 stays with that agreement's enterprise"
            ),
            existing_id: Some(agreement),
        }
        .into()),
    }
}

/// A live order class from checked fields and its stage (with when it was reached).
fn order_class(
    id: OrderClassId,
    fields: &OrderClassFields,
    (stage, stage_changed_at): (Stage, DateTime<Utc>),
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
) -> OrderClass {
    OrderClass {
        id,
        enterprise_id: fields.enterprise_id,
        name: fields.name.clone(),
        major: fields.major.clone(),
        cohort_year: fields.cohort_year,
        planned_size: fields.planned_size,
        enrolled_count: fields.enrolled_count,
        employed_count: fields.employed_count,
        allow_over_enrollment: fields.allow_over_enrollment,
        starts_on: fields.starts_on,
        ends_on: fields.ends_on,
        description: fields.description.clone(),
        stage,
        stage_changed_at,
        created_at,
        updated_at,
        version,
        archived_at: None,
    }
}

archivable!(OrderClass, OrderClassId, order_classes, "order class");

/// The enterprise an order class belongs to and whether it is archived, with the row
/// locked until the transaction ends so that it cannot move meanwhile; `None` when
/// there is no such order class.
pub(crate) fn lock_owner(
    conn: &mut DbConn,
    id: OrderClassId,
) -> Result<Option<(EnterpriseId, bool)>> {
    if OrderClass::touch(conn, id)? == 0 {
        return Ok(None);
    }
    let (enterprise, archived_at): (String, Option<NaiveDateTime>) = order_classes::table
        .find(id.to_string())
        .select((order_classes::enterprise_id, order_classes::archived_at))
        .first(conn)?;
    Ok(Some((
        stored("order_classes.enterprise_id", &enterprise)?,
        archived_at.is_some(),
    )))
}

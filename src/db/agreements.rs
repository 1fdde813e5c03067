//! Agreement queries and the transactions that change agreements.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::lifecycle::{self, archivable, Archivable};
use super::parsed::Parsed;
use super::schema::{agreements, stage_transitions};
use super::stamp::{MaybeStamp, Stamp};
use super::{
    internship_bases, keyset, order_classes, references, stored, utc, write, DbConn, Result,
};
use crate::domain::agreement::{
    self, Agreement, AgreementFields, AgreementFilter, AgreementSort, AgreementStatus,
};
use crate::domain::ids::{AgreementId, EnterpriseId};
use crate::domain::input::parse_date;
use crate::domain::page::Page;
use crate::domain::stage_machine::SubjectKind;
use crate::domain::{self, DomainError, FieldError, Precondition};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = agreements)]
struct AgreementRow {
    id: String,
    enterprise_id: String,
    order_class_id: Option<String>,
    internship_base_id: Option<String>,
    title: String,
    title_key: String,
    number: Option<String>,
    kind: String,
    signed_on: Option<NaiveDate>,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    document_url: Option<String>,
    notes: Option<String>,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    version: i64,
    #[diesel(deserialize_as = MaybeStamp)]
    archived_at: Option<NaiveDateTime>,
}

impl AgreementRow {
    /// The agreement with its status as of `today`.
    fn into_domain(self, today: NaiveDate) -> Result<Agreement> {
        Ok(Agreement {
            id: stored("agreements.id", &self.id)?,
            enterprise_id: stored("agreements.enterprise_id", &self.enterprise_id)?,
            title: self.title,
            number: self.number,
            kind: stored("agreements.kind", &self.kind)?,
            order_class_id: self
                .order_class_id
                .as_deref()
                .map(|id| stored("agreements.order_class_id", id))
                .transpose()?,
            internship_base_id: self
                .internship_base_id
                .as_deref()
                .map(|id| stored("agreements.internship_base_id", id))
                .transpose()?,
            signed_on: self.signed_on,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            status: agreement::status(self.valid_from, self.valid_until, today),
            document_url: self.document_url,
            notes: self.notes,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
            archived_at: self.archived_at.map(utc),
        })
    }
}

/// The editable columns, written by both insert and update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = agreements, treat_none_as_null = true)]
struct AgreementFieldsRow<'a> {
    enterprise_id: String,
    order_class_id: Option<String>,
    internship_base_id: Option<String>,
    title: &'a str,
    title_key: &'a str,
    number: Option<&'a str>,
    kind: &'a str,
    signed_on: Option<NaiveDate>,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    document_url: Option<&'a str>,
    notes: Option<&'a str>,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> AgreementFieldsRow<'a> {
    fn new(fields: &'a AgreementFields, updated_at: NaiveDateTime, version: i64) -> Self {
        Self {
            enterprise_id: fields.enterprise_id.to_string(),
            order_class_id: fields.order_class_id.map(|id| id.to_string()),
            internship_base_id: fields.internship_base_id.map(|id| id.to_string()),
            title: &fields.title,
            title_key: &fields.title_key,
            number: fields.number.as_deref(),
            kind: fields.kind.as_str(),
            signed_on: fields.signed_on,
            valid_from: fields.valid_from,
            valid_until: fields.valid_until,
            document_url: fields.document_url.as_deref(),
            notes: fields.notes.as_deref(),
            updated_at,
            version,
        }
    }
}

/// What an insert adds to the editable fields.
#[derive(Insertable)]
#[diesel(table_name = agreements)]
struct NewAgreementRow<'a> {
    id: String,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    fields: AgreementFieldsRow<'a>,
}

pub fn get(conn: &mut DbConn, id: AgreementId) -> Result<Agreement> {
    super::row_by_id!(conn, agreements::table, AgreementRow, &id.to_string())?
        .ok_or_else(|| lifecycle::not_found::<Agreement>(id))?
        .into_domain(domain::today())
}

/// One page of agreements; `AgreementFilter::for_enterprise` gives what an
/// enterprise's page embeds, in one query. `status=` is judged in SQL against today,
/// by the rule of `agreement::status`.
pub fn list(conn: &mut DbConn, filter: &AgreementFilter) -> Result<Page<Agreement>> {
    use agreements::dsl as a;
    let today = domain::today();
    let horizon = agreement::expiring_horizon(today);
    let mut query = a::agreements.select(AgreementRow::as_select()).into_boxed();
    if !filter.include_archived {
        query = query.filter(a::archived_at.is_null());
    }
    if let Some(enterprise) = filter.enterprise_id {
        query = query.filter(a::enterprise_id.eq(enterprise.to_string()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(a::kind.eq(kind.as_str()));
    }
    if let Some(class) = filter.order_class_id {
        query = query.filter(a::order_class_id.eq(class.to_string()));
    }
    if let Some(base) = filter.internship_base_id {
        query = query.filter(a::internship_base_id.eq(base.to_string()));
    }
    if let Some(status) = filter.status {
        query = match status {
            AgreementStatus::NotYetValid => query.filter(a::valid_from.gt(today)),
            AgreementStatus::Active => query.filter(a::valid_from.le(today)).filter(
                a::valid_until
                    .is_null()
                    .or(a::valid_until.assume_not_null().gt(horizon)),
            ),
            AgreementStatus::Expiring => query
                .filter(a::valid_from.le(today))
                .filter(a::valid_until.ge(today))
                .filter(a::valid_until.le(horizon)),
            AgreementStatus::Expired => query
                .filter(a::valid_from.le(today))
                .filter(a::valid_until.lt(today)),
        };
    }
    if let Some(q) = &filter.q {
        query = query.filter(a::title_key.like(super::contains_pattern(q)).escape('\\'));
    }
    let page = &filter.page;
    let descending = page.sort.descending;
    let after = page.after.as_ref();
    let query = match page.sort.key {
        AgreementSort::Title => keyset!(
            query,
            a::title_key,
            a::id,
            descending,
            super::after_text(after)
        ),
        AgreementSort::ValidFrom => keyset!(
            query,
            a::valid_from,
            a::id,
            descending,
            after
                .map(|c| parse_cursor_date(&c.value).map(|d| (d, c.id.clone())))
                .transpose()?
        ),
        AgreementSort::ValidUntil => {
            // Open-ended agreements (no valid_until) come after every dated one, as
            // if they ended last; `IS NULL` leads the order because the backends
            // place NULLs differently.
            let after = after
                .map(|c| parse_cursor_until(&c.value).map(|d| (d, c.id.clone())))
                .transpose()?;
            if let Some((until, id)) = after {
                query = match (descending, until) {
                    (false, Some(until)) => query.filter(
                        a::valid_until
                            .assume_not_null()
                            .gt(until)
                            .or(a::valid_until.assume_not_null().eq(until).and(a::id.gt(id)))
                            .or(a::valid_until.is_null()),
                    ),
                    (false, None) => query.filter(a::valid_until.is_null().and(a::id.gt(id))),
                    (true, Some(until)) => query.filter(
                        a::valid_until
                            .assume_not_null()
                            .lt(until)
                            .or(a::valid_until.assume_not_null().eq(until).and(a::id.lt(id))),
                    ),
                    (true, None) => query.filter(a::valid_until.is_not_null().or(a::id.lt(id))),
                };
            }
            if descending {
                query.order((
                    a::valid_until.is_null().desc(),
                    a::valid_until.desc(),
                    a::id.desc(),
                ))
            } else {
                query.order((
                    a::valid_until.is_null().asc(),
                    a::valid_until.asc(),
                    a::id.asc(),
                ))
            }
        }
        AgreementSort::CreatedAt => keyset!(
            query,
            a::created_at,
            a::id,
            descending,
            super::after_time(after)?
        ),
        AgreementSort::UpdatedAt => keyset!(
            query,
            a::updated_at,
            a::id,
            descending,
            super::after_time(after)?
        ),
    };
    let rows: Vec<AgreementRow> = query.limit(page.limit + 1).load(conn)?;
    let sort = page.sort.key;
    let rows = page.page(rows, |r| {
        let value = match sort {
            AgreementSort::Title => r.title_key.clone(),
            AgreementSort::ValidFrom => cursor_date(r.valid_from),
            AgreementSort::ValidUntil => r.valid_until.map(cursor_date).unwrap_or_default(),
            AgreementSort::CreatedAt => super::cursor_time(r.created_at),
            AgreementSort::UpdatedAt => super::cursor_time(r.updated_at),
        };
        (value, r.id.clone())
    });
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(|r| r.into_domain(today))
            .collect::<Result<_>>()?,
        next_cursor: rows.next_cursor,
    })
}

/// The cursor spelling of a date sort value.
fn cursor_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn parse_cursor_date(value: &str) -> Result<NaiveDate> {
    parse_date(value).map_err(|_| super::bad_cursor())
}

/// A `valid_until` cursor value: empty for an open-ended agreement.
fn parse_cursor_until(value: &str) -> Result<Option<NaiveDate>> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse_cursor_date(value).map(Some)
    }
}

/// Creates an agreement under `id`: a new one from the API, a kept one on import.
pub fn create(conn: &mut DbConn, id: AgreementId, fields: &AgreementFields) -> Result<Agreement> {
    let created = write(conn, |conn| {
        check_references(conn, fields, None)?;
        check_unique(conn, fields, None)?;
        let now = domain::now();
        diesel::insert_into(agreements::table)
            .values(NewAgreementRow {
                id: id.to_string(),
                created_at: now.naive_utc(),
                fields: AgreementFieldsRow::new(fields, now.naive_utc(), 1),
            })
            .execute(conn)?;
        Ok(agreement(id, fields, now, now, 1))
    });
    explain_unique_violation(conn, created, fields, None)
}

/// Applies a JSON merge patch, checking `If-Match` against the current version.
pub fn update(
    conn: &mut DbConn,
    id: AgreementId,
    if_match: &Precondition,
    patch: &serde_json::Value,
) -> Result<Agreement> {
    let mut attempted = None;
    let updated = write(conn, |conn| {
        let current: Agreement = lifecycle::lock_live(conn, id, if_match)?;
        let fields = AgreementFields::from_patch(&current, patch)?;
        if AgreementFields::parse(current.input()).ok().as_ref() == Some(&fields) {
            return Ok(current);
        }
        check_references(conn, &fields, Some(&current))?;
        check_unique(conn, &fields, Some(id))?;
        refuse_to_stop_backing_a_move(conn, id, &fields)?;
        let now = domain::now();
        let version = current.version + 1;
        diesel::update(agreements::table.find(id.to_string()))
            .set(AgreementFieldsRow::new(&fields, now.naive_utc(), version))
            .execute(conn)?;
        let updated = agreement(id, &fields, current.created_at, now, version);
        attempted = Some(fields);
        Ok(updated)
    });
    match &attempted {
        Some(fields) => explain_unique_violation(conn, updated, fields, Some(id)),
        None => updated,
    }
}

/// A stage move that cites an agreement as its evidence was allowed because the
/// agreement belonged to the moved record's enterprise and, for an order class or
/// base, covered it: an edit may not take that away, or the history would cite
/// evidence that never backed it.
fn refuse_to_stop_backing_a_move(
    conn: &mut DbConn,
    id: AgreementId,
    fields: &AgreementFields,
) -> Result<()> {
    let citing: Vec<(String, Parsed<SubjectKind>, String, String)> = stage_transitions::table
        .filter(stage_transitions::agreement_id.eq(id.to_string()))
        .order(stage_transitions::id)
        .select((
            stage_transitions::id,
            stage_transitions::subject_kind,
            stage_transitions::subject_id,
            stage_transitions::enterprise_id,
        ))
        .load(conn)?;
    let enterprise = fields.enterprise_id.to_string();
    let class = fields.order_class_id.map(|c| c.to_string());
    let base = fields.internship_base_id.map(|b| b.to_string());
    for (transition, Parsed(kind), subject, subject_enterprise) in citing {
        let covered = match kind {
            SubjectKind::Enterprise => None,
            SubjectKind::OrderClass => Some(&class),
            SubjectKind::InternshipBase => Some(&base),
        };
        let backs = subject_enterprise == enterprise
            && covered.is_none_or(|item| item.as_deref() == Some(subject.as_str()));
        if !backs {
            return Err(DomainError::Conflict {
                code: "backs_a_move",
                detail: format!(
                    "agreement {id} is the evidence of stage move {transition} of {} {subject}, \
                     which it would no longer back: it must stay with that enterprise{}",
                    kind.as_str().replace('_', " "),
                    if covered.is_some() {
                        " and keep covering that item"
                    } else {
                        ""
                    }
                ),
                existing_id: Some(transition),
            }
            .into());
        }
    }
    Ok(())
}

pub fn archive(conn: &mut DbConn, id: AgreementId, if_match: &Precondition) -> Result<Agreement> {
    lifecycle::archive(conn, id, if_match)
}

/// Restores an agreement, unless its enterprise or the item it covers is archived.
pub fn restore(conn: &mut DbConn, id: AgreementId, if_match: &Precondition) -> Result<Agreement> {
    lifecycle::restore(conn, id, if_match, |conn, current: &Agreement| {
        references::restorable_under(conn, current.enterprise_id, Agreement::KIND)?;
        if let Some(class) = current.order_class_id {
            if let Some((_, true)) = order_classes::lock_owner(conn, class)? {
                return Err(covered_item_archived(
                    "order_class_archived",
                    "order class",
                    class.to_string(),
                ));
            }
        }
        if let Some(base) = current.internship_base_id {
            if let Some((_, true)) = internship_bases::lock_owner(conn, base)? {
                return Err(covered_item_archived(
                    "internship_base_archived",
                    "internship base",
                    base.to_string(),
                ));
            }
        }
        Ok(())
    })
}

fn covered_item_archived(code: &'static str, kind: &str, id: String) -> super::Error {
    DomainError::Conflict {
        code,
        detail: format!("the {kind} {id} that the agreement covers is archived; restore it first"),
        existing_id: Some(id),
    }
    .into()
}

/// The enterprise must be live; a covered order class or base must exist, be live
/// and belong to that enterprise. Only what the request changes is checked again,
/// and every problem is reported at once. The covered item's row stays locked until
/// the transaction ends, so that it cannot move to another enterprise meanwhile.
fn check_references(
    conn: &mut DbConn,
    fields: &AgreementFields,
    current: Option<&Agreement>,
) -> Result<()> {
    let mut problems: Vec<FieldError> = Vec::new();
    let enterprise = fields.enterprise_id;
    let enterprise_changed = current.is_none_or(|c| c.enterprise_id != enterprise);
    if enterprise_changed {
        problems.extend(references::enterprise_problem(conn, enterprise)?);
    }
    if let Some(class) = fields.order_class_id {
        let changed = current.is_none_or(|c| c.order_class_id != Some(class));
        if changed || enterprise_changed {
            let owner = order_classes::lock_owner(conn, class)?;
            problems.extend(covered_item_problem(
                Covered {
                    field: "order_class_id",
                    kind: "order class",
                    id: class.to_string(),
                    newly: changed,
                },
                owner,
                enterprise,
            ));
        }
    }
    if let Some(base) = fields.internship_base_id {
        let changed = current.is_none_or(|c| c.internship_base_id != Some(base));
        if changed || enterprise_changed {
            let owner = internship_bases::lock_owner(conn, base)?;
            problems.extend(covered_item_problem(
                Covered {
                    field: "internship_base_id",
                    kind: "internship base",
                    id: base.to_string(),
                    newly: changed,
                },
                owner,
                enterprise,
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

/// The item an agreement names as covered.
struct Covered {
    field: &'static str,
    kind: &'static str,
    id: String,
    /// Named by this request (not kept from before): it must also be live.
    newly: bool,
}

fn covered_item_problem(
    item: Covered,
    owner: Option<(EnterpriseId, bool)>,
    enterprise: EnterpriseId,
) -> Option<FieldError> {
    let Covered {
        field,
        kind,
        id,
        newly,
    } = item;
    match owner {
        None => Some(FieldError::new(
            field,
            "not_found",
            format!("{kind} {id} does not exist"),
        )),
        Some((_, true)) if newly => Some(FieldError::new(
            field,
            "archived",
            format!("{kind} {id} is archived"),
        )),
        Some((owner, _)) if owner != enterprise => Some(FieldError::new(
            field,
            "other_enterprise",
            format!("{kind} {id} belongs to enterprise {owner}, not to {enterprise}"),
        )),
        Some(_) => None,
    }
}

/// Refuses a number that another agreement of the same enterprise already has
/// (archived agreements keep theirs).
fn check_unique(
    conn: &mut DbConn,
    fields: &AgreementFields,
    this: Option<AgreementId>,
) -> Result<()> {
    use agreements::dsl as a;
    let Some(number) = &fields.number else {
        return Ok(());
    };
    let this = this.map(|id| id.to_string()).unwrap_or_default();
    let holder: Option<(String, String)> = a::agreements
        .filter(a::enterprise_id.eq(fields.enterprise_id.to_string()))
        .filter(a::number.eq(number))
        .filter(a::id.ne(&this))
        .select((a::id, a::title))
        .first(conn)
        .optional()?;
    match holder {
        None => Ok(()),
        Some((id, title)) => Err(DomainError::Conflict {
            code: "duplicate_number",
            detail: format!(
                "agreement {id} (\"{title}\") of enterprise {} already has number {number}",
                fields.enterprise_id
            ),
            existing_id: Some(id),
        }
        .into()),
    }
}

/// A concurrent writer may win the race between our check and our insert (on
/// PostgreSQL): name the agreement it wrote instead of reporting a bare violation.
fn explain_unique_violation<T>(
    conn: &mut DbConn,
    result: Result<T>,
    fields: &AgreementFields,
    this: Option<AgreementId>,
) -> Result<T> {
    match result {
        Err(error) if error.is_unique_violation() => match check_unique(conn, fields, this) {
            Err(conflict) => Err(conflict),
            Ok(()) => Err(error),
        },
        other => other,
    }
}

/// A live agreement from checked fields, with its status as of today.
fn agreement(
    id: AgreementId,
    fields: &AgreementFields,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
) -> Agreement {
    Agreement {
        id,
        enterprise_id: fields.enterprise_id,
        title: fields.title.clone(),
        number: fields.number.clone(),
        kind: fields.kind,
        order_class_id: fields.order_class_id,
        internship_base_id: fields.internship_base_id,
        signed_on: fields.signed_on,
        valid_from: fields.valid_from,
        valid_until: fields.valid_until,
        status: agreement::status(fields.valid_from, fields.valid_until, domain::today()),
        document_url: fields.document_url.clone(),
        notes: fields.notes.clone(),
        created_at,
        updated_at,
        version,
        archived_at: None,
    }
}

archivable!(Agreement, AgreementId, agreements, "agreement");

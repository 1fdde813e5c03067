//! An enterprise's timeline: one bounded query per source (visits, transitions,
//! agreements signed, agreements ending), merged in `domain::timeline`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    agreements, enterprises, internship_bases, order_classes, stage_transitions, visit_enterprises,
    visits,
};
use super::stamp::Stamp;
use super::{lifecycle, stored, utc, DbConn, Result};
use crate::domain::enterprise::Enterprise;
use crate::domain::ids::EnterpriseId;
use crate::domain::page::Page;
use crate::domain::stage_machine::SubjectKind;
use crate::domain::timeline::{
    self, After, AgreementEvent, DateAfter, DateCmp, Event, TimelineEntry, TimelineFilter,
    TimelineKind, TransitionEvent, VisitEvent,
};

/// One page of the enterprise's timeline; 404 when there is no such enterprise.
pub fn page(
    conn: &mut DbConn,
    id: EnterpriseId,
    filter: &TimelineFilter,
) -> Result<Page<TimelineEntry>> {
    // One read transaction, so that the sources agree with each other.
    conn.transaction(|conn| {
        let name: String = enterprises::table
            .find(id.to_string())
            .select(enterprises::name)
            .first(conn)
            .optional()?
            .ok_or_else(|| lifecycle::not_found::<Enterprise>(id))?;
        let sources = vec![
            visits_of(conn, id, filter)?,
            transitions_of(conn, id, &name, filter)?,
            agreements_of(conn, id, filter, TimelineKind::AgreementSigned)?,
            agreements_of(conn, id, filter, TimelineKind::AgreementEnds)?,
        ];
        Ok(filter.merge(sources))
    })
}

fn after(filter: &TimelineFilter, kind: TimelineKind) -> Option<After> {
    filter.after.map(|p| p.after(kind))
}

/// Applies the cursor to a source keyed by a timestamp column and an id column, and
/// orders it newest first.
macro_rules! timestamp_source {
    ($query:expr, $at:expr, $id:expr, $filter:expr, $kind:expr) => {{
        let mut query = $query;
        if let Some(from) = $filter.from {
            query = query.filter($at.ge(from.naive_utc()));
        }
        if let Some(to) = $filter.to {
            query = query.filter($at.lt(to.naive_utc()));
        }
        query = match after($filter, $kind) {
            None => query,
            Some(After::Before(t)) => query.filter($at.lt(t.naive_utc())),
            Some(After::NotAfter(t)) => query.filter($at.le(t.naive_utc())),
            Some(After::Tie(t, id)) => query.filter(
                $at.lt(t.naive_utc()).or($at
                    .eq(t.naive_utc())
                    .and($id.lt(id.hyphenated().to_string()))),
            ),
        };
        query
            .order(($at.desc(), $id.desc()))
            .limit($filter.limit + 1)
    }};
}

type VisitCols = (String, String, String, String, NaiveDateTime);

/// The enterprise's live visits, by their start.
fn visits_of(
    conn: &mut DbConn,
    id: EnterpriseId,
    filter: &TimelineFilter,
) -> Result<Vec<TimelineEntry>> {
    let query = visit_enterprises::table
        .inner_join(visits::table)
        .filter(visit_enterprises::enterprise_id.eq(id.to_string()))
        .filter(visits::archived_at.is_null())
        .select((
            visits::id,
            visits::title,
            visits::status,
            visits::direction,
            visit_enterprises::starts_at,
        ))
        .into_boxed();
    let rows: Vec<VisitCols> = timestamp_source!(
        query,
        visit_enterprises::starts_at,
        visit_enterprises::visit_id,
        filter,
        TimelineKind::Visit
    )
    .load(conn)?;
    rows.into_iter()
        .map(|(id, title, status, direction, starts_at)| {
            Ok(TimelineEntry {
                at: utc(starts_at),
                event: Event::Visit {
                    visit: VisitEvent {
                        id: stored("visits.id", &id)?,
                        title,
                        status: stored("visits.status", &status)?,
                        direction: stored("visits.direction", &direction)?,
                    },
                },
            })
        })
        .collect()
}

#[derive(Queryable)]
struct TransitionCols {
    id: String,
    subject_kind: String,
    subject_id: String,
    from_stage: Option<String>,
    to_stage: String,
    #[diesel(deserialize_as = Stamp)]
    occurred_at: NaiveDateTime,
    note: Option<String>,
    visit_id: Option<String>,
    agreement_id: Option<String>,
    order_class: Option<String>,
    base: Option<String>,
}

/// Every stage move of the enterprise and of its order classes and bases, with the
/// moved item's name joined in.
fn transitions_of(
    conn: &mut DbConn,
    id: EnterpriseId,
    enterprise_name: &str,
    filter: &TimelineFilter,
) -> Result<Vec<TimelineEntry>> {
    use stage_transitions::dsl as t;
    let query = t::stage_transitions
        .left_join(
            order_classes::table.on(order_classes::id
                .eq(t::subject_id)
                .and(t::subject_kind.eq(SubjectKind::OrderClass.as_str()))),
        )
        .left_join(
            internship_bases::table.on(internship_bases::id
                .eq(t::subject_id)
                .and(t::subject_kind.eq(SubjectKind::InternshipBase.as_str()))),
        )
        .filter(t::enterprise_id.eq(id.to_string()))
        .select((
            t::id,
            t::subject_kind,
            t::subject_id,
            t::from_stage,
            t::to_stage,
            t::occurred_at,
            t::note,
            t::visit_id,
            t::agreement_id,
            order_classes::name.nullable(),
            internship_bases::name.nullable(),
        ))
        .into_boxed();
    let rows: Vec<TransitionCols> = timestamp_source!(
        query,
        t::occurred_at,
        t::id,
        filter,
        TimelineKind::Transition
    )
    .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let subject_kind: SubjectKind =
                stored("stage_transitions.subject_kind", &row.subject_kind)?;
            let subject_name = match subject_kind {
                SubjectKind::Enterprise => Some(enterprise_name.to_string()),
                SubjectKind::OrderClass => row.order_class,
                SubjectKind::InternshipBase => row.base,
            };
            Ok(TimelineEntry {
                at: utc(row.occurred_at),
                event: Event::Transition {
                    transition: TransitionEvent {
                        id: stored("stage_transitions.id", &row.id)?,
                        subject_kind,
                        subject_id: stored("stage_transitions.subject_id", &row.subject_id)?,
                        subject_name,
                        from_stage: row
                            .from_stage
                            .map(|s| stored("stage_transitions.from_stage", &s))
                            .transpose()?,
                        to_stage: stored("stage_transitions.to_stage", &row.to_stage)?,
                        note: row.note,
                        visit_id: row
                            .visit_id
                            .map(|v| stored("stage_transitions.visit_id", &v))
                            .transpose()?,
                        agreement_id: row
                            .agreement_id
                            .map(|a| stored("stage_transitions.agreement_id", &a))
                            .transpose()?,
                    },
                },
            })
        })
        .collect()
}

type AgreementCols = (String, String, Option<String>, String, Option<NaiveDate>);

/// Applies a date condition to an agreement query.
macro_rules! on_date {
    ($query:expr, $column:expr, $cmp:expr, $day:expr) => {
        match $cmp {
            DateCmp::Lt => $query.filter($column.lt($day)),
            DateCmp::Le => $query.filter($column.le($day)),
            DateCmp::Gt => $query.filter($column.gt($day)),
            DateCmp::Ge => $query.filter($column.ge($day)),
        }
    };
}

/// The live agreements signed (or ending) on a date, each at midnight UTC of it.
fn agreements_of(
    conn: &mut DbConn,
    id: EnterpriseId,
    filter: &TimelineFilter,
    kind: TimelineKind,
) -> Result<Vec<TimelineEntry>> {
    macro_rules! load {
        ($column:expr) => {{
            let mut query = agreements::table
                .filter(agreements::enterprise_id.eq(id.to_string()))
                .filter(agreements::archived_at.is_null())
                .filter($column.is_not_null())
                .select((
                    agreements::id,
                    agreements::title,
                    agreements::number,
                    agreements::kind,
                    $column,
                ))
                .into_boxed();
            if let Some(from) = filter.from {
                let (cmp, day) = timeline::on_dates(DateCmp::Ge, from);
                query = on_date!(query, $column, cmp, day);
            }
            if let Some(to) = filter.to {
                let (cmp, day) = timeline::on_dates(DateCmp::Lt, to);
                query = on_date!(query, $column, cmp, day);
            }
            query = match after(filter, kind).map(After::on_dates) {
                None => query,
                Some(DateAfter::Cmp(cmp, day)) => on_date!(query, $column, cmp, day),
                Some(DateAfter::Tie(day, last)) => query.filter(
                    $column.lt(day).or($column
                        .eq(day)
                        .and(agreements::id.lt(last.hyphenated().to_string()))),
                ),
            };
            let rows: Vec<AgreementCols> = query
                .order(($column.desc(), agreements::id.desc()))
                .limit(filter.limit + 1)
                .load(conn)?;
            rows
        }};
    }
    let rows = match kind {
        TimelineKind::AgreementEnds => load!(agreements::valid_until),
        _ => load!(agreements::signed_on),
    };
    rows.into_iter()
        .filter_map(|(id, title, number, agreement_kind, day)| {
            // The query kept only rows with the date set.
            let day = day?;
            Some((id, title, number, agreement_kind, day))
        })
        .map(|(id, title, number, agreement_kind, day)| {
            let agreement = AgreementEvent {
                id: stored("agreements.id", &id)?,
                title,
                number,
                kind: stored("agreements.kind", &agreement_kind)?,
            };
            let event = match kind {
                TimelineKind::AgreementEnds => Event::AgreementEnds { agreement },
                _ => Event::AgreementSigned { agreement },
            };
            Ok(TimelineEntry {
                at: timeline::midnight(day),
                event,
            })
        })
        .collect()
}

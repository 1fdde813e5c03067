//! Stage transitions: moving an enterprise, order class or internship base to
//! another stage (history row and item in one transaction), and reading the history.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use diesel::prelude::*;

use super::lifecycle::{self, Archivable};
use super::parsed::Parsed;
use super::schema::{
    agreements, enterprises, internship_bases, order_classes, stage_transitions, visit_enterprises,
    visits,
};
use super::stamp::Stamp;
use super::{stored, utc, write, DbConn, Result};
use crate::domain::enterprise::Enterprise;
use crate::domain::ids::{AgreementId, EnterpriseId, TransitionId, VisitId};
use crate::domain::internship_base::InternshipBase;
use crate::domain::order_class::OrderClass;
use crate::domain::stage::Stage;
use crate::domain::stage_machine::{self, Direction, Evidence, SubjectKind};
use crate::domain::transition::{
    AgreementSummary, InitialStage, Members, Transition, TransitionRequest, VisitSummary,
};
use crate::domain::visit::VisitStatus;
use crate::domain::{self, DomainError, FieldError, Precondition};

/// A record that carries a cooperation stage.
pub(crate) trait Staged: Archivable {
    const SUBJECT: SubjectKind;
    fn enterprise(&self) -> EnterpriseId;
    fn stage(&self) -> Stage;
    fn stage_changed_at(&self) -> DateTime<Utc>;
    /// `enrolled_count` of an order class, `capacity` of a base; 0 for an enterprise.
    fn headcount(&self) -> i32;
    /// Writes the stage columns and a new version.
    fn store_stage(
        conn: &mut DbConn,
        id: Self::Id,
        stage: Stage,
        stage_changed_at: NaiveDateTime,
        updated_at: NaiveDateTime,
        version: i64,
    ) -> QueryResult<usize>;
    /// This record at a new stage.
    fn staged(
        self,
        stage: Stage,
        stage_changed_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        version: i64,
    ) -> Self;
}

/// Moves a record to `request.to_stage`: locks it (checking `If-Match`, refusing an
/// archived one), checks the move and its evidence, stores the history row and the
/// new stage. Two racing moves queue on the row lock, so the second sees the first.
/// Also returns when the record had entered the stage it left, for the audit trail.
pub(crate) fn record<R: Staged>(
    conn: &mut DbConn,
    id: R::Id,
    if_match: &Precondition,
    request: &TransitionRequest,
    actor: Option<&str>,
) -> Result<(Transition, R, DateTime<Utc>)> {
    write(conn, |conn| {
        let current: R = lifecycle::lock_live(conn, id, if_match)?;
        let (from, to) = (current.stage(), request.to_stage);
        let direction =
            stage_machine::direction(from, to).ok_or_else(|| DomainError::StageNotAllowed {
                current: from,
                to,
                allowed: stage_machine::allowed_targets(from),
            })?;
        let now = domain::now();
        let occurred_at = request.occurred_at.unwrap_or(now);
        let subject_id = id.to_string();
        let facts = Facts {
            kind: R::SUBJECT,
            subject_id: &subject_id,
            enterprise: current.enterprise(),
            headcount: current.headcount(),
            actor,
        };
        let mut errors = facts.check(
            conn,
            direction,
            to,
            request.note.is_some(),
            (request.visit_id, occurred_at),
            request.agreement_id,
            Members::Move,
        )?;
        if occurred_at > now {
            errors.push(FieldError::new(
                "occurred_at",
                "in_future",
                format!("{occurred_at} is in the future; a transition records what has happened"),
            ));
        } else if let Some(last) = last_occurred_at(conn, R::SUBJECT, &subject_id)? {
            if occurred_at < last {
                errors.push(FieldError::new(
                    "occurred_at",
                    "before_last_transition",
                    format!(
                        "must not be before the last transition of this {}, at {last}",
                        R::KIND
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        let transition_id = insert(
            conn,
            &facts,
            Some(from),
            to,
            occurred_at,
            now,
            request.note.as_deref(),
            request.visit_id,
            request.agreement_id,
        )?;
        let version = current.version() + 1;
        R::store_stage(
            conn,
            id,
            to,
            occurred_at.naive_utc(),
            now.naive_utc(),
            version,
        )?;
        let transition = load(conn, R::SUBJECT, &subject_id, Some(transition_id))?
            .pop()
            .ok_or_else(|| super::Error::Corrupt(format!("transition {transition_id} vanished")))?;
        let entered_at = current.stage_changed_at();
        Ok((
            transition,
            current.staged(to, occurred_at, now, version),
            entered_at,
        ))
    })
}

/// The history of a record, oldest first; 404 when there is no such record.
pub(crate) fn history<R: Staged>(conn: &mut DbConn, id: R::Id) -> Result<Vec<Transition>> {
    // Exists-check and read in one transaction, so a history is never of a record
    // that was not there.
    conn.transaction(|conn| {
        R::load(conn, id)?;
        load(conn, R::SUBJECT, &id.to_string(), None)
    })
}

/// For an order class or base created at a later stage: checks the evidence of a
/// move from `intention` and records the initial transition (with no `from_stage`).
/// Runs inside the creating transaction, after the item is inserted.
pub(crate) fn initial(
    conn: &mut DbConn,
    facts: Facts<'_>,
    initial: &InitialStage,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(direction) = stage_machine::direction(Stage::Intention, initial.stage) else {
        return Ok(());
    };
    let errors = facts.check(
        conn,
        direction,
        initial.stage,
        initial.note.is_some(),
        (initial.visit_id, now),
        initial.agreement_id,
        Members::Create,
    )?;
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors).into());
    }
    insert(
        conn,
        &facts,
        None,
        initial.stage,
        now,
        now,
        initial.note.as_deref(),
        initial.visit_id,
        initial.agreement_id,
    )?;
    Ok(())
}

/// What the evidence rules need to know about the item being moved.
pub(crate) struct Facts<'a> {
    pub kind: SubjectKind,
    pub subject_id: &'a str,
    pub enterprise: EnterpriseId,
    pub headcount: i32,
    /// Who makes the move: the name of the request's token.
    pub actor: Option<&'a str>,
}

impl Facts<'_> {
    /// Every piece of evidence the move lacks or cites wrongly.
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        conn: &mut DbConn,
        direction: Direction,
        to: Stage,
        note: bool,
        (visit, occurred_at): (Option<VisitId>, DateTime<Utc>),
        agreement: Option<AgreementId>,
        members: Members,
    ) -> Result<Vec<FieldError>> {
        let evidence = Evidence {
            note,
            agreement: agreement.is_some(),
            headcount: self.headcount,
        };
        let mut errors: Vec<FieldError> =
            stage_machine::missing(self.kind, direction, to, &evidence)
                .into_iter()
                .map(|m| members.error(m.field(), m.code(), m.message(to)))
                .collect();
        if let Some(visit) = visit {
            errors.extend(self.visit_problem(conn, visit, occurred_at, members)?);
        }
        if let Some(agreement) = agreement {
            errors.extend(self.agreement_problem(conn, agreement, members)?);
        }
        Ok(errors)
    }

    /// A cited visit must exist, be live, be linked to the item's enterprise and
    /// be where the move can have happened: not cancelled, and started by the time
    /// of the move.
    fn visit_problem(
        &self,
        conn: &mut DbConn,
        visit: VisitId,
        occurred_at: DateTime<Utc>,
        members: Members,
    ) -> Result<Option<FieldError>> {
        let row: Option<(Option<NaiveDateTime>, Parsed<VisitStatus>, NaiveDateTime)> =
            visits::table
                .find(visit.to_string())
                .select((visits::archived_at, visits::status, visits::starts_at))
                .first(conn)
                .optional()?;
        let problem = match row {
            None => Some(("not_found", format!("visit {visit} does not exist"))),
            Some((Some(_), ..)) => Some(("archived", format!("visit {visit} is archived"))),
            Some((None, Parsed(VisitStatus::Cancelled), _)) => Some((
                "cancelled",
                format!("visit {visit} was cancelled: the move cannot have happened there"),
            )),
            Some((None, _, starts_at)) if starts_at > occurred_at.naive_utc() => Some((
                "after_the_move",
                format!(
                    "visit {visit} starts at {}, after the move ({})",
                    starts_at
                        .and_utc()
                        .to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    occurred_at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
                ),
            )),
            Some((None, ..)) => {
                let linked: Option<String> = visit_enterprises::table
                    .filter(visit_enterprises::visit_id.eq(visit.to_string()))
                    .filter(visit_enterprises::enterprise_id.eq(self.enterprise.to_string()))
                    .select(visit_enterprises::visit_id)
                    .first(conn)
                    .optional()?;
                linked.is_none().then(|| {
                    (
                        "not_linked",
                        format!(
                            "visit {visit} does not involve enterprise {}",
                            self.enterprise
                        ),
                    )
                })
            }
        };
        Ok(problem.map(|(code, message)| members.error("visit_id", code, message)))
    }

    /// A cited agreement must exist, be live, belong to the item's enterprise and,
    /// for an order class or base, cover that item.
    fn agreement_problem(
        &self,
        conn: &mut DbConn,
        agreement: AgreementId,
        members: Members,
    ) -> Result<Option<FieldError>> {
        type Row = (
            String,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
        );
        let row: Option<Row> = agreements::table
            .find(agreement.to_string())
            .select((
                agreements::enterprise_id,
                agreements::order_class_id,
                agreements::internship_base_id,
                agreements::archived_at,
            ))
            .first(conn)
            .optional()?;
        let problem = match row {
            None => Some(("not_found", format!("agreement {agreement} does not exist"))),
            Some((_, _, _, Some(_))) => {
                Some(("archived", format!("agreement {agreement} is archived")))
            }
            Some((enterprise, _, _, None)) if enterprise != self.enterprise.to_string() => Some((
                "other_enterprise",
                format!(
                    "agreement {agreement} belongs to enterprise {enterprise}, not {}",
                    self.enterprise
                ),
            )),
            Some((_, order_class, base, None)) => {
                let covered = match self.kind {
                    SubjectKind::Enterprise => None,
                    SubjectKind::OrderClass => Some(order_class),
                    SubjectKind::InternshipBase => Some(base),
                };
                match covered {
                    Some(item) if item.as_deref() != Some(self.subject_id) => Some((
                        "not_covering",
                        format!(
                            "agreement {agreement} does not cover {} {}",
                            self.kind.as_str().replace('_', " "),
                            self.subject_id
                        ),
                    )),
                    _ => None,
                }
            }
        };
        Ok(problem.map(|(code, message)| members.error("agreement_id", code, message)))
    }
}

#[derive(Insertable)]
#[diesel(table_name = stage_transitions)]
struct NewTransitionRow<'a> {
    id: String,
    subject_kind: &'a str,
    subject_id: &'a str,
    enterprise_id: String,
    from_stage: Option<&'a str>,
    to_stage: &'a str,
    occurred_at: NaiveDateTime,
    recorded_at: NaiveDateTime,
    actor: Option<&'a str>,
    note: Option<&'a str>,
    visit_id: Option<String>,
    agreement_id: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    facts: &Facts<'_>,
    from: Option<Stage>,
    to: Stage,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    note: Option<&str>,
    visit: Option<VisitId>,
    agreement: Option<AgreementId>,
) -> Result<TransitionId> {
    let id = TransitionId::generate();
    diesel::insert_into(stage_transitions::table)
        .values(NewTransitionRow {
            id: id.to_string(),
            subject_kind: facts.kind.as_str(),
            subject_id: facts.subject_id,
            enterprise_id: facts.enterprise.to_string(),
            from_stage: from.map(Stage::as_str),
            to_stage: to.as_str(),
            occurred_at: occurred_at.naive_utc(),
            recorded_at: recorded_at.naive_utc(),
            actor: facts.actor,
            note,
            visit_id: visit.map(|v| v.to_string()),
            agreement_id: agreement.map(|a| a.to_string()),
        })
        .execute(conn)?;
    Ok(id)
}

fn last_occurred_at(
    conn: &mut DbConn,
    kind: SubjectKind,
    subject_id: &str,
) -> Result<Option<DateTime<Utc>>> {
    let last: Option<NaiveDateTime> = stage_transitions::table
        .filter(stage_transitions::subject_kind.eq(kind.as_str()))
        .filter(stage_transitions::subject_id.eq(subject_id))
        .select(diesel::dsl::max(stage_transitions::occurred_at))
        .first(conn)?;
    Ok(last.map(utc))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = stage_transitions)]
struct TransitionRow {
    id: String,
    subject_kind: String,
    subject_id: String,
    enterprise_id: String,
    from_stage: Option<String>,
    to_stage: String,
    #[diesel(deserialize_as = Stamp)]
    occurred_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    recorded_at: NaiveDateTime,
    actor: Option<String>,
    note: Option<String>,
}

type VisitCols = (String, String, NaiveDateTime);
type AgreementCols = (String, String, Option<String>);

/// A subject's transitions (or just one of them) with their visit and agreement
/// summaries, in one query, oldest first.
fn load(
    conn: &mut DbConn,
    kind: SubjectKind,
    subject_id: &str,
    only: Option<TransitionId>,
) -> Result<Vec<Transition>> {
    use stage_transitions::dsl as t;
    let mut query = t::stage_transitions
        .left_join(visits::table)
        .left_join(agreements::table)
        .filter(t::subject_kind.eq(kind.as_str()))
        .filter(t::subject_id.eq(subject_id.to_string()))
        .select((
            TransitionRow::as_select(),
            (visits::id, visits::title, visits::starts_at).nullable(),
            (agreements::id, agreements::title, agreements::number).nullable(),
        ))
        .order((t::occurred_at.asc(), t::id.asc()))
        .into_boxed();
    if let Some(only) = only {
        query = query.filter(t::id.eq(only.to_string()));
    }
    let rows: Vec<(TransitionRow, Option<VisitCols>, Option<AgreementCols>)> = query.load(conn)?;
    rows.into_iter()
        .map(|(row, visit, agreement)| {
            Ok(Transition {
                id: stored("stage_transitions.id", &row.id)?,
                subject_kind: stored("stage_transitions.subject_kind", &row.subject_kind)?,
                subject_id: stored("stage_transitions.subject_id", &row.subject_id)?,
                enterprise_id: stored("stage_transitions.enterprise_id", &row.enterprise_id)?,
                from_stage: row
                    .from_stage
                    .map(|s| stored("stage_transitions.from_stage", &s))
                    .transpose()?,
                to_stage: stored("stage_transitions.to_stage", &row.to_stage)?,
                occurred_at: utc(row.occurred_at),
                recorded_at: utc(row.recorded_at),
                actor: row.actor,
                note: row.note,
                visit: visit
                    .map(|(id, title, starts_at)| {
                        Ok::<_, super::Error>(VisitSummary {
                            id: stored("visits.id", &id)?,
                            title,
                            starts_at: utc(starts_at),
                        })
                    })
                    .transpose()?,
                agreement: agreement
                    .map(|(id, title, number)| {
                        Ok::<_, super::Error>(AgreementSummary {
                            id: stored("agreements.id", &id)?,
                            title,
                            number,
                        })
                    })
                    .transpose()?,
            })
        })
        .collect()
}

/// Implements `Staged` for a table whose stage columns are named alike.
macro_rules! staged {
    ($record:ty, $table:ident, $kind:expr, $enterprise:expr, $headcount:expr) => {
        impl Staged for $record {
            const SUBJECT: SubjectKind = $kind;

            fn enterprise(&self) -> EnterpriseId {
                $enterprise(self)
            }

            fn stage(&self) -> Stage {
                self.stage
            }

            fn stage_changed_at(&self) -> DateTime<Utc> {
                self.stage_changed_at
            }

            fn headcount(&self) -> i32 {
                $headcount(self)
            }

            fn store_stage(
                conn: &mut DbConn,
                id: Self::Id,
                stage: Stage,
                stage_changed_at: NaiveDateTime,
                updated_at: NaiveDateTime,
                version: i64,
            ) -> QueryResult<usize> {
                diesel::update($table::table.find(id.to_string()))
                    .set((
                        $table::stage.eq(stage.as_str()),
                        $table::stage_changed_at.eq(stage_changed_at),
                        $table::updated_at.eq(updated_at),
                        $table::version.eq(version),
                    ))
                    .execute(conn)
            }

            fn staged(
                self,
                stage: Stage,
                stage_changed_at: DateTime<Utc>,
                updated_at: DateTime<Utc>,
                version: i64,
            ) -> Self {
                Self {
                    stage,
                    stage_changed_at,
                    updated_at,
                    version,
                    ..self
                }
            }
        }
    };
}

staged!(
    Enterprise,
    enterprises,
    SubjectKind::Enterprise,
    |e: &Enterprise| e.id,
    |_: &Enterprise| 0
);
staged!(
    OrderClass,
    order_classes,
    SubjectKind::OrderClass,
    |o: &OrderClass| o.enterprise_id,
    |o: &OrderClass| o.enrolled_count
);
staged!(
    InternshipBase,
    internship_bases,
    SubjectKind::InternshipBase,
    |b: &InternshipBase| b.enterprise_id,
    |b: &InternshipBase| b.capacity
);

//! An enterprise's timeline: its visits, stage moves and agreement dates merged
//! newest first, and the cursor that pages through it across all of its sources.

use std::cmp::Ordering;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::agreement::AgreementKind;
use super::ids::{AgreementId, TransitionId, VisitId};
use super::page::{Page, DEFAULT_LIMIT, MAX_LIMIT};
use super::rfc3339;
use super::stage::Stage;
use super::stage_machine::SubjectKind;
use super::visit::{self, Direction, VisitStatus};
use super::{vocabulary, DomainError, FieldError};

vocabulary! {
    /// What happened at a point of the timeline.
    TimelineKind {
        Visit => "visit",
        Transition => "transition",
        AgreementSigned => "agreement_signed",
        AgreementEnds => "agreement_ends",
    }
}

impl TimelineKind {
    /// Entries at the same instant are ordered by kind name, so that the order (and
    /// hence a cursor) is total and easy to state in the API document.
    fn order(self, other: Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// One point of the timeline: when, and a summary of what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    #[serde(serialize_with = "rfc3339::serialize")]
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

/// The summary of an entry, under a member named after its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Visit { visit: VisitEvent },
    Transition { transition: TransitionEvent },
    AgreementSigned { agreement: AgreementEvent },
    AgreementEnds { agreement: AgreementEvent },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitEvent {
    pub id: VisitId,
    pub title: String,
    pub status: VisitStatus,
    pub direction: Direction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionEvent {
    pub id: TransitionId,
    pub subject_kind: SubjectKind,
    pub subject_id: Uuid,
    /// The enterprise's, order class's or base's name.
    pub subject_name: Option<String>,
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    pub note: Option<String>,
    pub visit_id: Option<VisitId>,
    pub agreement_id: Option<AgreementId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementEvent {
    pub id: AgreementId,
    pub title: String,
    pub number: Option<String>,
    pub kind: AgreementKind,
}

impl TimelineEntry {
    pub fn kind(&self) -> TimelineKind {
        match self.event {
            Event::Visit { .. } => TimelineKind::Visit,
            Event::Transition { .. } => TimelineKind::Transition,
            Event::AgreementSigned { .. } => TimelineKind::AgreementSigned,
            Event::AgreementEnds { .. } => TimelineKind::AgreementEnds,
        }
    }

    pub fn id(&self) -> Uuid {
        match &self.event {
            Event::Visit { visit } => visit.id.0,
            Event::Transition { transition } => transition.id.0,
            Event::AgreementSigned { agreement } | Event::AgreementEnds { agreement } => {
                agreement.id.0
            }
        }
    }

    pub fn position(&self) -> Position {
        Position {
            at: self.at,
            kind: self.kind(),
            id: self.id(),
        }
    }
}

/// Where an entry sits: the timeline runs by `at` descending, then kind name, then
/// id descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "t")]
    pub at: DateTime<Utc>,
    #[serde(rename = "k")]
    pub kind: TimelineKind,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Position {
    /// `Less` when `self` comes first in the timeline.
    pub fn order(&self, other: &Self) -> Ordering {
        other
            .at
            .cmp(&self.at)
            .then_with(|| self.kind.order(other.kind))
            .then_with(|| other.id.cmp(&self.id))
    }

    pub fn encode(&self) -> String {
        // Serialising a time, a unit variant and a UUID cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Which entries of `kind` come after this position, in that source's own terms.
    pub fn after(&self, kind: TimelineKind) -> After {
        match kind.order(self.kind) {
            // A kind named before the cursor's comes first at the cursor's instant.
            Ordering::Less => After::Before(self.at),
            Ordering::Greater => After::NotAfter(self.at),
            Ordering::Equal => After::Tie(self.at, self.id),
        }
    }
}

/// The entries of one source (one kind) that come after a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// `at < t`.
    Before(DateTime<Utc>),
    /// `at <= t`.
    NotAfter(DateTime<Utc>),
    /// `at < t`, or `at = t` and `id < i`.
    Tie(DateTime<Utc>, Uuid),
}

/// A comparison of a date column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition on an agreement's date `d`, whose entry sits at midnight UTC of `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateAfter {
    Cmp(DateCmp, NaiveDate),
    /// `d < day`, or `d = day` and `id < i`.
    Tie(NaiveDate, Uuid),
}

/// `midnight(d) <cmp> t` as a condition on `d` alone.
pub fn on_dates(cmp: DateCmp, t: DateTime<Utc>) -> (DateCmp, NaiveDate) {
    let day = t.date_naive();
    let midnight = t.time() == NaiveTime::MIN;
    let cmp = match (cmp, midnight) {
        (DateCmp::Lt, false) => DateCmp::Le,
        (DateCmp::Ge, false) => DateCmp::Gt,
        (cmp, _) => cmp,
    };
    (cmp, day)
}

impl After {
    /// This condition on an agreement date.
    pub fn on_dates(self) -> DateAfter {
        match self {
            After::Before(t) => {
                let (cmp, day) = on_dates(DateCmp::Lt, t);
                DateAfter::Cmp(cmp, day)
            }
            After::NotAfter(t) => {
                let (cmp, day) = on_dates(DateCmp::Le, t);
                DateAfter::Cmp(cmp, day)
            }
            // No midnight equals `t` unless `t` is one, so only then do ids break ties.
            After::Tie(t, id) if t.time() == NaiveTime::MIN => DateAfter::Tie(t.date_naive(), id),
            After::Tie(t, _) => DateAfter::Cmp(DateCmp::Le, t.date_naive()),
        }
    }
}

/// The instant an agreement date stands for on the timeline.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Query parameters of `GET /enterprises/{id}/timeline`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked timeline request.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineFilter {
    /// `at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `at < to` (a date means up to the end of that day).
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub after: Option<Position>,
}

impl TimelineFilter {
    pub fn parse(params: &TimelineParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let from = params
            .from
            .as_deref()
            .and_then(|raw| visit::bound("from", raw, false, &mut errors));
        let to = params
            .to
            .as_deref()
            .and_then(|raw| visit::bound("to", raw, true, &mut errors));
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                errors.push(FieldError::new("to", "before_from", "must be after `from`"));
            }
        }
        let limit = match params.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        "out_of_range",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        let after = params.cursor.as_deref().and_then(|raw| {
            let position = Position::decode(raw);
            if position.is_none() {
                errors.push(FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    "not a cursor returned by this timeline",
                ));
            }
            position
        });
        if errors.is_empty() {
            Ok(TimelineFilter {
                from,
                to,
                limit,
                after,
            })
        } else {
            Err(DomainError::BadRequest(errors))
        }
    }

    /// The first `limit` entries of the sources (each already cut to at most
    /// `limit + 1` entries after the cursor, in timeline order), and a cursor when
    /// more follow: any entry of the true next page is among its own source's first
    /// `limit`, so the merge misses nothing.
    pub fn merge(&self, sources: Vec<Vec<TimelineEntry>>) -> Page<TimelineEntry> {
        let mut entries: Vec<TimelineEntry> = sources.into_iter().flatten().collect();
        entries.sort_by(|a, b| a.position().order(&b.position()));
        let limit = usize::try_from(self.limit).unwrap_or(0);
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next_cursor = entries
            .last()
            .filter(|_| more)
            .map(|last| last.position().encode());
        Page {
            items: entries,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("a time")
            .with_timezone(&Utc)
    }

    fn visit(t: &str, id: u128) -> TimelineEntry {
        TimelineEntry {
            at: at(t),
            event: Event::Visit {
                visit: VisitEvent {
                    id: VisitId(Uuid::from_u128(id)),
                    title: "v".into(),
                    status: VisitStatus::Held,
                    direction: Direction::Inbound,
                },
            },
        }
    }

    fn signed(t: &str, id: u128) -> TimelineEntry {
        TimelineEntry {
            at: at(t),
            event: Event::AgreementSigned {
                agreement: AgreementEvent {
                    id: AgreementId(Uuid::from_u128(id)),
                    title: "a".into(),
                    number: None,
                    kind: AgreementKind::Framework,
                },
            },
        }
    }

    fn filter(params: TimelineParams) -> Result<TimelineFilter, Vec<&'static str>> {
        TimelineFilter::parse(&params).map_err(|e| match e {
            DomainError::BadRequest(errors) => errors.iter().map(|e| e.code).collect(),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn merges_newest_first_then_kind_then_id_and_pages() {
        let first = filter(TimelineParams {
            limit: Some("3".into()),
            ..Default::default()
        })
        .expect("valid");
        let page = first.merge(vec![
            vec![
                visit("2025-01-02T00:00:00Z", 9),
                visit("2025-01-01T00:00:00Z", 8),
            ],
            vec![
                signed("2025-01-02T00:00:00Z", 5),
                signed("2024-12-01T00:00:00Z", 4),
            ],
        ]);
        let order: Vec<(TimelineKind, u128)> = page
            .items
            .iter()
            .map(|e| (e.kind(), e.id().as_u128()))
            .collect();
        assert_eq!(
            order,
            [
                (TimelineKind::AgreementSigned, 5),
                (TimelineKind::Visit, 9),
                (TimelineKind::Visit, 8)
            ]
        );
        let cursor = page.next_cursor.expect("one more");
        let next = filter(TimelineParams {
            cursor: Some(cursor),
            ..Default::default()
        })
        .expect("valid");
        let after = next.after.expect("a position");
        assert_eq!(after.kind, TimelineKind::Visit);
        assert_eq!(
            after.after(TimelineKind::Visit),
            After::Tie(at("2025-01-01T00:00:00Z"), Uuid::from_u128(8))
        );
        assert_eq!(
            after.after(TimelineKind::AgreementSigned),
            After::Before(at("2025-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn date_conditions_match_midnight_entries() {
        let noon = at("2025-03-12T12:00:00Z");
        let day = NaiveDate::from_ymd_opt(2025, 3, 12).expect("a date");
        assert_eq!(
            After::Before(noon).on_dates(),
            DateAfter::Cmp(DateCmp::Le, day)
        );
        assert_eq!(
            After::Before(midnight(day)).on_dates(),
            DateAfter::Cmp(DateCmp::Lt, day)
        );
        assert_eq!(
            After::Tie(noon, Uuid::nil()).on_dates(),
            DateAfter::Cmp(DateCmp::Le, day)
        );
        assert_eq!(
            After::Tie(midnight(day), Uuid::nil()).on_dates(),
            DateAfter::Tie(day, Uuid::nil())
        );
        assert_eq!(on_dates(DateCmp::Ge, noon), (DateCmp::Gt, day));
        assert_eq!(on_dates(DateCmp::Ge, midnight(day)), (DateCmp::Ge, day));
    }

    #[test]
    fn rejects_bad_parameters() {
        assert_eq!(
            filter(TimelineParams {
                limit: Some("0".into()),
                cursor: Some("eyJ0Ijoibm9wZSJ9".into()),
                from: Some("2025-02-01".into()),
                to: Some("2025-01-01".into()),
            }),
            Err(vec!["before_from", "out_of_range", "invalid_cursor"])
        );
        assert_eq!(
            filter(TimelineParams {
                limit: Some("201".into()),
                ..Default::default()
            }),
            Err(vec!["out_of_range"])
        );
    }
}

//! Visits: meetings with partners, the evidence that moves cooperation forward.
//! A visit links enterprises, participants with roles, and the order classes and
//! internship bases discussed.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::enterprise::EnterpriseKind;
use super::ids::{EnterpriseId, InternshipBaseId, OrderClassId, ParticipantId, VisitId};
use super::input::{self, Checker, LONG_TEXT, SHORT_TEXT};
use super::page::{self, PageRequest, SortKey};
use super::participant::Side;
use super::rfc3339;
use super::stage::Stage;
use super::{name, vocabulary, DomainError, FieldError};

vocabulary! {
    /// Who travels: the partner to the college, the college to the partner, or nobody.
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
        Online => "online",
    }
}

vocabulary! {
    VisitStatus {
        Planned => "planned",
        Held => "held",
        Cancelled => "cancelled",
    }
}

vocabulary! {
    /// A participant's part in a visit.
    Role {
        Host => "host",
        Guest => "guest",
        Speaker => "speaker",
        Attendee => "attendee",
    }
}

/// Most links of each kind one visit may have.
pub const MAX_ENTERPRISES: usize = 50;
pub const MAX_PARTICIPANTS: usize = 500;
pub const MAX_ITEMS: usize = 100;

/// A visit as shown to clients, with what it links embedded.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub id: VisitId,
    pub title: String,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::option")]
    pub ends_at: Option<DateTime<Utc>>,
    pub direction: Direction,
    pub location: Option<String>,
    pub purpose: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub follow_up: Option<String>,
    pub follow_up_due: Option<NaiveDate>,
    pub status: VisitStatus,
    pub enterprises: Vec<VisitEnterprise>,
    pub participants: Vec<VisitParticipant>,
    pub order_classes: Vec<VisitItem<OrderClassId>>,
    pub internship_bases: Vec<VisitItem<InternshipBaseId>>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    #[serde(serialize_with = "rfc3339::option")]
    pub archived_at: Option<DateTime<Utc>>,
    /// Every link, archived records included: the embedded lists above show only
    /// live records, but a PATCH must not drop the others.
    #[serde(skip)]
    pub links: Links,
}

/// The ids a visit links, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Links {
    pub enterprise_ids: Vec<EnterpriseId>,
    pub participants: Vec<ParticipantRole>,
    pub order_class_ids: Vec<OrderClassId>,
    pub internship_base_ids: Vec<InternshipBaseId>,
}

/// An enterprise taking part in a visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitEnterprise {
    pub id: EnterpriseId,
    pub name: String,
    pub kind: EnterpriseKind,
}

/// A person at a visit, with their role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitParticipant {
    pub id: ParticipantId,
    pub full_name: String,
    pub title: Option<String>,
    pub side: Side,
    pub enterprise_id: Option<EnterpriseId>,
    pub role: Role,
}

/// An order class or internship base discussed at a visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitItem<Id> {
    pub id: Id,
    pub name: String,
    pub enterprise_id: EnterpriseId,
    pub stage: Stage,
}

/// Fields a client may not set: the embedded views are derived from the id lists.
pub const READ_ONLY: &[&str] = &[
    "id",
    "enterprises",
    "order_classes",
    "internship_bases",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
];

/// A participant and role as a client sends them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantRole {
    pub participant_id: ParticipantId,
    pub role: Role,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    pub title: Option<String>,
    #[serde(default, with = "input::instant")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, with = "input::instant")]
    pub ends_at: Option<DateTime<Utc>>,
    pub direction: Option<Direction>,
    pub location: Option<String>,
    pub purpose: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub follow_up: Option<String>,
    pub follow_up_due: Option<NaiveDate>,
    pub status: Option<VisitStatus>,
    pub enterprise_ids: Option<Vec<EnterpriseId>>,
    pub participants: Option<Vec<ParticipantRole>>,
    pub order_class_ids: Option<Vec<OrderClassId>>,
    pub internship_base_ids: Option<Vec<InternshipBaseId>>,
}

/// A visit's own fields and links, checked for everything that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitFields {
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub direction: Direction,
    pub location: Option<String>,
    pub purpose: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub follow_up: Option<String>,
    pub follow_up_due: Option<NaiveDate>,
    pub status: VisitStatus,
    pub enterprise_ids: Vec<EnterpriseId>,
    pub participants: Vec<ParticipantRole>,
    pub order_class_ids: Vec<OrderClassId>,
    pub internship_base_ids: Vec<InternshipBaseId>,
}

impl VisitFields {
    /// Checks a create body; `now` decides whether the visit is in the future.
    pub fn from_body(body: &Value, now: DateTime<Utc>) -> Result<Self, DomainError> {
        input::parse_body(body, READ_ONLY, |i| Self::parse(i, now))
    }

    /// Applies a merge patch to `current` (a list sent replaces that list; a list
    /// left out stays as it is) and checks the result as a whole.
    pub fn from_patch(
        current: &Visit,
        patch: &Value,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        input::parse_patch(&current.input(), patch, READ_ONLY, |i| Self::parse(i, now))
    }

    pub fn parse(input: VisitInput, now: DateTime<Utc>) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let title = check.required_line("title", input.title, SHORT_TEXT);
        // Both databases keep microseconds; finer input would not read back the same.
        let starts_at = input.starts_at.map(|t| t.trunc_subsecs(6));
        let ends_at = input.ends_at.map(|t| t.trunc_subsecs(6));
        let starts_at = starts_at.unwrap_or_else(|| {
            check.push("starts_at", "required", "`starts_at` is required");
            now
        });
        if let Some(ends_at) = ends_at {
            if ends_at <= starts_at {
                check.push("ends_at", "before_start", "must be after `starts_at`");
            }
        }
        let direction = input.direction.unwrap_or_else(|| {
            check.push(
                "direction",
                "required",
                format!("`direction` is required: one of {}", Direction::expected()),
            );
            Direction::Inbound
        });
        let status = input.status.unwrap_or(VisitStatus::Planned);
        if status == VisitStatus::Held && starts_at > now {
            check.push(
                "status",
                "held_in_future",
                "a visit that has not started yet cannot be `held`",
            );
        }
        let enterprise_ids = input.enterprise_ids.unwrap_or_default();
        if enterprise_ids.is_empty() {
            check.push(
                "enterprise_ids",
                "required",
                "a visit needs at least one enterprise",
            );
        }
        unique_list(
            &mut check,
            "enterprise_ids",
            &enterprise_ids,
            MAX_ENTERPRISES,
        );
        let participants = input.participants.unwrap_or_default();
        let participant_ids: Vec<ParticipantId> =
            participants.iter().map(|p| p.participant_id).collect();
        if participants.len() > MAX_PARTICIPANTS {
            check.push(
                "participants",
                "too_many",
                format!("at most {MAX_PARTICIPANTS} participants per visit"),
            );
        } else {
            for i in duplicates(&participant_ids) {
                check.push(
                    &format!("participants[{i}].participant_id"),
                    "duplicate",
                    format!("participant {} is listed twice", participant_ids[i]),
                );
            }
        }
        let order_class_ids = input.order_class_ids.unwrap_or_default();
        unique_list(&mut check, "order_class_ids", &order_class_ids, MAX_ITEMS);
        let internship_base_ids = input.internship_base_ids.unwrap_or_default();
        unique_list(
            &mut check,
            "internship_base_ids",
            &internship_base_ids,
            MAX_ITEMS,
        );
        let fields = VisitFields {
            title,
            starts_at,
            ends_at,
            direction,
            location: check.optional_line("location", input.location, 500),
            purpose: check.optional_text("purpose", input.purpose, LONG_TEXT),
            summary: check.optional_text("summary", input.summary, LONG_TEXT),
            outcome: check.optional_text("outcome", input.outcome, LONG_TEXT),
            follow_up: check.optional_text("follow_up", input.follow_up, LONG_TEXT),
            follow_up_due: input.follow_up_due,
            status,
            enterprise_ids,
            participants,
            order_class_ids,
            internship_base_ids,
        };
        check.finish(fields)
    }

    /// Whether `other` says the same: links are sets, so their order does not count.
    pub fn same_as(&self, other: &VisitFields) -> bool {
        fn sorted<T: Clone + Ord>(items: &[T]) -> Vec<T> {
            let mut items = items.to_vec();
            items.sort();
            items
        }
        let key = |f: &VisitFields| {
            let mut participants: Vec<(ParticipantId, &'static str)> = f
                .participants
                .iter()
                .map(|p| (p.participant_id, p.role.as_str()))
                .collect();
            participants.sort();
            (
                sorted(&f.enterprise_ids),
                participants,
                sorted(&f.order_class_ids),
                sorted(&f.internship_base_ids),
            )
        };
        let unlinked = |f: &VisitFields| VisitFields {
            enterprise_ids: vec![],
            participants: vec![],
            order_class_ids: vec![],
            internship_base_ids: vec![],
            ..f.clone()
        };
        key(self) == key(other) && unlinked(self) == unlinked(other)
    }

    /// The normalised text that `q=` searches: title, purpose, summary and outcome.
    pub fn search_text(&self) -> String {
        search_text([
            Some(&self.title),
            self.purpose.as_deref(),
            self.summary.as_deref(),
            self.outcome.as_deref(),
        ])
    }
}

/// The text a visit's `q=` searches: each of title, purpose, summary and outcome
/// normalised like a name key, one per line.
pub fn search_text(parts: [Option<&str>; 4]) -> String {
    parts
        .into_iter()
        .flatten()
        .map(name::key)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reports duplicates and overlong lists of ids.
fn unique_list<T: PartialEq + Eq + std::hash::Hash + std::fmt::Display>(
    check: &mut Checker,
    field: &str,
    ids: &[T],
    max: usize,
) {
    if ids.len() > max {
        check.push(field, "too_many", format!("at most {max} entries"));
        return;
    }
    for i in duplicates(ids) {
        check.push(
            &format!("{field}[{i}]"),
            "duplicate",
            format!("{} is listed twice", ids[i]),
        );
    }
}

/// Positions of entries that repeat an earlier one.
fn duplicates<T: Eq + std::hash::Hash>(items: &[T]) -> Vec<usize> {
    let mut seen = HashSet::new();
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| !seen.insert(*item))
        .map(|(i, _)| i)
        .collect()
}

impl Visit {
    /// The editable fields as a client would send them.
    pub fn input(&self) -> VisitInput {
        VisitInput {
            title: Some(self.title.clone()),
            starts_at: Some(self.starts_at),
            ends_at: self.ends_at,
            direction: Some(self.direction),
            location: self.location.clone(),
            purpose: self.purpose.clone(),
            summary: self.summary.clone(),
            outcome: self.outcome.clone(),
            follow_up: self.follow_up.clone(),
            follow_up_due: self.follow_up_due,
            status: Some(self.status),
            enterprise_ids: Some(self.links.enterprise_ids.clone()),
            participants: Some(self.links.participants.clone()),
            order_class_ids: Some(self.links.order_class_ids.clone()),
            internship_base_ids: Some(self.links.internship_base_ids.clone()),
        }
    }
}

/// What the database knows of the enterprises, participants and items a visit names,
/// for the rules that span records.
#[derive(Debug, Default)]
pub struct LinkFacts {
    /// (id, archived?, parent) of each named enterprise that exists.
    pub enterprises: Vec<(EnterpriseId, bool, Option<EnterpriseId>)>,
    /// Ids of enterprises whose parent is one of the visit's enterprises.
    pub members: Vec<EnterpriseId>,
    /// (id, archived?, side, enterprise) of each named participant that exists.
    pub participants: Vec<(ParticipantId, bool, Side, Option<EnterpriseId>)>,
    /// (id, archived?, enterprise) of each named order class that exists.
    pub order_classes: Vec<(OrderClassId, bool, EnterpriseId)>,
    pub internship_bases: Vec<(InternshipBaseId, bool, EnterpriseId)>,
}

impl VisitFields {
    /// Checks the links against the database's facts. Links the visit already had
    /// (`previous`) are not refused for having been archived since, nor, while the
    /// visit's enterprises stay as they were, for belonging to another enterprise
    /// now: a person who changed employer, a class or base moved to another
    /// enterprise, or a company that left its park, took part when the link was
    /// made, and the record of the visit must stay editable. When the enterprises
    /// change, every link is checked against them anew.
    pub fn check_links(
        &self,
        facts: &LinkFacts,
        previous: Option<&Visit>,
    ) -> Result<(), DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let previous = previous.map(|v| &v.links);
        let old_enterprises: HashSet<EnterpriseId> = previous
            .map(|l| l.enterprise_ids.iter().copied().collect())
            .unwrap_or_default();
        for (i, id) in self.enterprise_ids.iter().enumerate() {
            match facts.enterprises.iter().find(|(e, ..)| e == id) {
                None => errors.push(missing(&format!("enterprise_ids[{i}]"), "enterprise", id)),
                Some((_, true, _)) if !old_enterprises.contains(id) => {
                    errors.push(archived(&format!("enterprise_ids[{i}]"), "enterprise", id))
                }
                _ => {}
            }
        }
        // The visit's enterprises and the companies inside them.
        let reach = Reach {
            enterprises: self
                .enterprise_ids
                .iter()
                .chain(facts.members.iter())
                .copied()
                .collect(),
            unchanged: previous.is_some_and(|l| {
                l.enterprise_ids.iter().collect::<HashSet<_>>()
                    == self.enterprise_ids.iter().collect::<HashSet<_>>()
            }),
        };
        let old_participants: HashSet<ParticipantId> = previous
            .map(|l| l.participants.iter().map(|p| p.participant_id).collect())
            .unwrap_or_default();
        for (i, link) in self.participants.iter().enumerate() {
            let field = format!("participants[{i}].participant_id");
            let id = link.participant_id;
            match facts.participants.iter().find(|(p, ..)| *p == id) {
                None => errors.push(missing(&field, "participant", &id)),
                Some((_, true, ..)) if !old_participants.contains(&id) => {
                    errors.push(archived(&field, "participant", &id))
                }
                Some((_, _, Side::Partner, Some(enterprise)))
                    if !reach.admits(enterprise, old_participants.contains(&id)) =>
                {
                    errors.push(FieldError::new(
                        field,
                        "not_affiliated",
                        format!(
                            "participant {id} belongs to enterprise {enterprise}, which is neither one of \
                             this visit's enterprises nor a company inside one of them"
                        ),
                    ))
                }
                _ => {}
            }
        }
        let old_classes: HashSet<OrderClassId> = previous
            .map(|l| l.order_class_ids.iter().copied().collect())
            .unwrap_or_default();
        check_items(
            &mut errors,
            "order_class_ids",
            "order class",
            &self.order_class_ids,
            &facts.order_classes,
            &old_classes,
            &reach,
        );
        let old_bases: HashSet<InternshipBaseId> = previous
            .map(|l| l.internship_base_ids.iter().copied().collect())
            .unwrap_or_default();
        check_items(
            &mut errors,
            "internship_base_ids",
            "internship base",
            &self.internship_base_ids,
            &facts.internship_bases,
            &old_bases,
            &reach,
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(errors))
        }
    }
}

/// Whom a visit's links may belong to.
struct Reach {
    /// The visit's enterprises and the companies inside them.
    enterprises: HashSet<EnterpriseId>,
    /// Whether the visit keeps the enterprises it had.
    unchanged: bool,
}

impl Reach {
    /// Whether a link to a record of `enterprise` may stand; `kept` when the visit
    /// already had it.
    fn admits(&self, enterprise: &EnterpriseId, kept: bool) -> bool {
        (kept && self.unchanged) || self.enterprises.contains(enterprise)
    }
}

fn check_items<Id: Copy + Eq + std::hash::Hash + std::fmt::Display>(
    errors: &mut Vec<FieldError>,
    field: &str,
    kind: &str,
    ids: &[Id],
    facts: &[(Id, bool, EnterpriseId)],
    previous: &HashSet<Id>,
    reach: &Reach,
) {
    for (i, id) in ids.iter().enumerate() {
        let field = format!("{field}[{i}]");
        match facts.iter().find(|(item, ..)| item == id) {
            None => errors.push(missing(&field, kind, id)),
            Some((_, true, _)) if !previous.contains(id) => errors.push(archived(&field, kind, id)),
            Some((_, _, enterprise)) if !reach.admits(enterprise, previous.contains(id)) => errors.push(FieldError::new(
                field,
                "not_affiliated",
                format!(
                    "{kind} {id} belongs to enterprise {enterprise}, which is neither one of this visit's \
                     enterprises nor a company inside one of them"
                ),
            )),
            _ => {}
        }
    }
}

fn missing(field: &str, kind: &str, id: &dyn std::fmt::Display) -> FieldError {
    FieldError::new(field, "not_found", format!("{kind} {id} does not exist"))
}

fn archived(field: &str, kind: &str, id: &dyn std::fmt::Display) -> FieldError {
    FieldError::new(field, "archived", format!("{kind} {id} is archived"))
}

vocabulary! {
    VisitSort {
        StartsAt => "starts_at",
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
    }
}

impl SortKey for VisitSort {
    const DEFAULT: Self = VisitSort::StartsAt;
    const DEFAULT_DESCENDING: bool = true;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitListParams {
    pub enterprise_id: Option<String>,
    pub include_members: Option<String>,
    pub participant_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub include_archived: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VisitFilter {
    pub enterprise_id: Option<EnterpriseId>,
    /// With `enterprise_id`: also visits of the companies inside that enterprise.
    pub include_members: bool,
    pub participant_id: Option<ParticipantId>,
    /// `starts_at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `starts_at < to` (a date means up to the end of that day).
    pub to: Option<DateTime<Utc>>,
    pub direction: Option<Direction>,
    pub status: Option<VisitStatus>,
    pub q: Option<String>,
    pub include_archived: bool,
    pub page: PageRequest<VisitSort>,
}

impl VisitFilter {
    pub fn parse(params: &VisitListParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let from = params
            .from
            .as_deref()
            .and_then(|raw| bound("from", raw, false, &mut errors));
        let to = params
            .to
            .as_deref()
            .and_then(|raw| bound("to", raw, true, &mut errors));
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                errors.push(FieldError::new("to", "before_from", "must be after `from`"));
            }
        }
        let enterprise_id = page::parse_id_param(
            "enterprise_id",
            params.enterprise_id.as_deref(),
            &mut errors,
        );
        let include_members = page::parse_flag(
            "include_members",
            params.include_members.as_deref(),
            &mut errors,
        );
        if include_members && params.enterprise_id.is_none() {
            errors.push(FieldError::new(
                "include_members",
                "requires_enterprise_id",
                "`include_members` widens an `enterprise_id` filter; give one",
            ));
        }
        let filter = VisitFilter {
            enterprise_id,
            include_members,
            participant_id: page::parse_id_param(
                "participant_id",
                params.participant_id.as_deref(),
                &mut errors,
            ),
            from,
            to,
            direction: page::parse_param(
                "direction",
                params.direction.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            status: page::parse_param(
                "status",
                params.status.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            q: page::search_text(params.q.as_deref(), &mut errors),
            include_archived: page::parse_flag(
                "include_archived",
                params.include_archived.as_deref(),
                &mut errors,
            ),
            page: PageRequest::parse(
                params.sort.as_deref(),
                params.limit.as_deref(),
                params.cursor.as_deref(),
                &mut errors,
            ),
        };
        page::bad_request_unless_empty(errors, filter)
    }

    /// The live visits of one enterprise, newest first: what its page embeds.
    pub fn for_enterprise(enterprise_id: EnterpriseId, limit: i64) -> Self {
        VisitFilter {
            enterprise_id: Some(enterprise_id),
            include_members: false,
            participant_id: None,
            from: None,
            to: None,
            direction: None,
            status: None,
            q: None,
            include_archived: false,
            page: PageRequest::first(limit),
        }
    }
}

/// A `from`/`to` bound: an RFC 3339 time, or a date (its start for `from`, the
/// start of the next day for `to`, so that `to` includes the whole day).
pub(crate) fn bound(
    field: &str,
    raw: &str,
    end_of_day: bool,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    if DateTime::parse_from_rfc3339(raw).is_ok() {
        return input::parse_instant(raw)
            .map_err(|message| errors.push(FieldError::new(field, "invalid_datetime", message)))
            .ok();
    }
    match input::parse_date(raw) {
        // Every time that can be stored is before the end of 9999-12-31: no bound.
        Ok(date) if end_of_day && Some(date) == NaiveDate::from_ymd_opt(9999, 12, 31) => None,
        Ok(date) if date.year() < 1 => {
            errors.push(FieldError::new(
                field,
                "invalid_datetime",
                format!("`{raw}` is before the year 0001"),
            ));
            None
        }
        Ok(date) => {
            let day = if end_of_day { date.succ_opt()? } else { date };
            Some(day.and_hms_opt(0, 0, 0)?.and_utc())
        }
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "invalid_datetime",
                "must be a date (YYYY-MM-DD) or an RFC 3339 time",
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 11, 29, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        match VisitFields::from_body(&body, now()) {
            Err(DomainError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_whole_visit_parses() {
        let e = EnterpriseId::generate();
        let p = ParticipantId::generate();
        let fields = VisitFields::from_body(
            &json!({
                "title": "Carbonbay park delegation",
                "starts_at": "2024-11-29T02:00:00Z",
                "ends_at": "2024-11-29T04:00:00+00:00",
                "direction": "inbound",
                "status": "held",
                "enterprise_ids": [e],
                "participants": [{"participant_id": p, "role": "host"}],
            }),
            now(),
        )
        .expect("valid");
        assert_eq!(fields.status, VisitStatus::Held);
        assert_eq!(fields.participants[0].role, Role::Host);
        assert_eq!(fields.search_text(), "carbonbay park delegation");
    }

    #[test]
    fn every_rule_is_reported() {
        let e = EnterpriseId::generate();
        let p = ParticipantId::generate();
        assert_eq!(
            codes(json!({
                "starts_at": "2024-12-01T02:00:00Z",
                "ends_at": "2024-12-01T01:00:00Z",
                "status": "held",
                "enterprise_ids": [e, e],
                "participants": [{"participant_id": p, "role": "host"}, {"participant_id": p, "role": "guest"}],
            })),
            [
                ("title".to_string(), "required"),
                ("ends_at".to_string(), "before_start"),
                ("direction".to_string(), "required"),
                ("status".to_string(), "held_in_future"),
                ("enterprise_ids[1]".to_string(), "duplicate"),
                ("participants[1].participant_id".to_string(), "duplicate"),
            ]
        );
        assert_eq!(
            codes(
                json!({"title": "x", "starts_at": "2024-11-01T00:00:00Z", "direction": "inbound", "enterprise_ids": []})
            ),
            [("enterprise_ids".to_string(), "required")]
        );
    }

    #[test]
    fn bad_role_and_time_name_their_field() {
        let got = codes(json!({
            "title": "x",
            "starts_at": "yesterday",
            "direction": "inbound",
            "enterprise_ids": [EnterpriseId::generate()],
            "participants": [{"participant_id": ParticipantId::generate(), "role": "boss"}],
        }));
        assert!(
            got.contains(&("starts_at".to_string(), "invalid_type")),
            "{got:?}"
        );
        assert!(
            got.contains(&("participants[0].role".to_string(), "invalid_enum")),
            "{got:?}"
        );
    }

    #[test]
    fn partner_participants_must_belong_to_the_visit_or_a_member_company() {
        let park = EnterpriseId::generate();
        let member = EnterpriseId::generate();
        let stranger = EnterpriseId::generate();
        let (a, b, c) = (
            ParticipantId::generate(),
            ParticipantId::generate(),
            ParticipantId::generate(),
        );
        let fields = VisitFields {
            title: "t".into(),
            starts_at: now(),
            ends_at: None,
            direction: Direction::Inbound,
            location: None,
            purpose: None,
            summary: None,
            outcome: None,
            follow_up: None,
            follow_up_due: None,
            status: VisitStatus::Planned,
            enterprise_ids: vec![park],
            participants: [a, b, c]
                .iter()
                .map(|&participant_id| ParticipantRole {
                    participant_id,
                    role: Role::Guest,
                })
                .collect(),
            order_class_ids: vec![],
            internship_base_ids: vec![],
        };
        let facts = LinkFacts {
            enterprises: vec![(park, false, None)],
            members: vec![member],
            participants: vec![
                (a, false, Side::Partner, Some(member)),
                (b, false, Side::School, None),
                (c, false, Side::Partner, Some(stranger)),
            ],
            ..LinkFacts::default()
        };
        let Err(DomainError::Invalid(errors)) = fields.check_links(&facts, None) else {
            panic!("c is not affiliated")
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("participants[2].participant_id", "not_affiliated")
        );
    }

    #[test]
    fn date_bounds_cover_whole_days() {
        let mut errors = vec![];
        let from = bound("from", "2024-11-29", false, &mut errors);
        let to = bound("to", "2024-11-29", true, &mut errors);
        assert_eq!(
            from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-11-29T00:00:00+00:00")
        );
        assert_eq!(
            to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-11-30T00:00:00+00:00")
        );
        assert!(bound("from", "29/11/2024", false, &mut errors).is_none());
        assert_eq!(errors[0].code, "invalid_datetime");
    }

    #[test]
    fn bounds_stay_within_the_years_that_can_be_stored() {
        let mut errors = vec![];
        // The end of 9999-12-31 is after every time that can be stored: no bound.
        assert!(bound("to", "9999-12-31", true, &mut errors).is_none());
        assert_eq!(
            bound("from", "9999-12-31", false, &mut errors).map(|t| t.to_rfc3339()),
            Some("9999-12-31T00:00:00+00:00".to_string())
        );
        assert!(errors.is_empty(), "{errors:?}");
        for (raw, end_of_day) in [
            ("0000-12-31", false),
            ("0000-06-01", true),
            ("9999-12-31T23:59:59-23:59", true),
            ("0001-01-01T00:00:00+00:01", false),
            ("2016-12-31T23:59:60Z", false),
            ("2024-1-5", false),
        ] {
            let mut errors = vec![];
            assert!(
                bound("from", raw, end_of_day, &mut errors).is_none(),
                "{raw}"
            );
            assert_eq!(errors.len(), 1, "{raw}");
            assert_eq!(errors[0].code, "invalid_datetime", "{raw}");
            assert!(
                errors[0].message.contains(raw) || raw == "2024-1-5",
                "{raw}: {errors:?}"
            );
        }
    }
}

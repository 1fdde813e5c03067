//! Managers' reports: their checked parameters and the shapes they answer with.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::agreement::AgreementKind;
use super::ids::EnterpriseId;
use super::page::{self, PageRequest, SortKey};
use super::stage::Stage;
use super::visit::Direction;
use super::{name, vocabulary, DomainError, FieldError};

/// Bounds of `days=` and `within=`: one day to about ten years.
pub const MAX_DAYS: i64 = 3650;
pub const DEFAULT_STALLED_DAYS: i64 = 60;
pub const DEFAULT_EXPIRING_DAYS: i64 = 90;
/// How many months `activity` covers by default (the current one included).
pub const DEFAULT_ACTIVITY_MONTHS: u32 = 12;
/// The longest `activity` period, so that a month grouping stays small.
pub const MAX_ACTIVITY_MONTHS: u32 = 120;
/// How many enterprises `activity?group=enterprise` lists.
pub const TOP_ENTERPRISES: i64 = 100;

vocabulary! {
    /// The kinds of record that carry a cooperation stage.
    ItemKind {
        Enterprise => "enterprise",
        OrderClass => "order_class",
        InternshipBase => "internship_base",
    }
}

vocabulary! {
    /// How `activity` groups visits.
    ActivityGroup {
        Month => "month",
        Enterprise => "enterprise",
        Direction => "direction",
    }
}

/// Which enterprises a report looks at: every report filters through the enterprise
/// of what it counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub industry: Option<String>,
    pub region: Option<String>,
    /// An industrial park and the companies directly inside it.
    pub park_id: Option<EnterpriseId>,
    /// Also count archived records, and records of archived enterprises.
    pub include_archived: bool,
}

impl Scope {
    fn parse(
        industry: Option<&str>,
        region: Option<&str>,
        park_id: Option<&str>,
        include_archived: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) -> Self {
        let text = |raw: Option<&str>| raw.map(name::tidy).filter(|s| !s.is_empty());
        Scope {
            industry: text(industry),
            region: text(region),
            park_id: page::parse_param("park_id", park_id, "invalid_id", errors),
            include_archived: page::parse_flag("include_archived", include_archived, errors),
        }
    }
}

fn finish<T>(value: T, errors: Vec<FieldError>) -> Result<T, DomainError> {
    page::bad_request_unless_empty(errors, value)
}

/// A whole number of days in `1..=MAX_DAYS`.
fn days(field: &str, raw: Option<&str>, default: i64, errors: &mut Vec<FieldError>) -> i64 {
    match raw.map(str::parse::<i64>) {
        None => default,
        Some(Ok(n)) if (1..=MAX_DAYS).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "out_of_range",
                format!("must be a whole number of days from 1 to {MAX_DAYS}"),
            ));
            default
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineParams {
    pub industry: Option<String>,
    pub region: Option<String>,
    pub park_id: Option<String>,
    pub include_archived: Option<String>,
}

impl PipelineParams {
    pub fn parse(&self) -> Result<Scope, DomainError> {
        let mut errors = Vec::new();
        let scope = Scope::parse(
            self.industry.as_deref(),
            self.region.as_deref(),
            self.park_id.as_deref(),
            self.include_archived.as_deref(),
            &mut errors,
        );
        finish(scope, errors)
    }
}

/// How many items are at each stage; every stage is present, zeros included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StageCounts {
    pub intention: i64,
    pub negotiation: i64,
    pub agreement: i64,
    pub implementation: i64,
    pub completed: i64,
    pub terminated: i64,
}

impl StageCounts {
    pub fn add(&mut self, stage: Stage, n: i64) {
        let slot = match stage {
            Stage::Intention => &mut self.intention,
            Stage::Negotiation => &mut self.negotiation,
            Stage::Agreement => &mut self.agreement,
            Stage::Implementation => &mut self.implementation,
            Stage::Completed => &mut self.completed,
            Stage::Terminated => &mut self.terminated,
        };
        *slot += n;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pipeline {
    pub enterprises: StageCounts,
    pub order_classes: StageCounts,
    pub internship_bases: StageCounts,
}

impl Pipeline {
    pub fn counts(&mut self, kind: ItemKind) -> &mut StageCounts {
        match kind {
            ItemKind::Enterprise => &mut self.enterprises,
            ItemKind::OrderClass => &mut self.order_classes,
            ItemKind::InternshipBase => &mut self.internship_bases,
        }
    }
}

/// Reports are paged in one fixed order, so their cursors name it as lists do.
macro_rules! fixed_order {
    ($name:ident, $text:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(_: &str) -> Result<Self, String> {
                Err(concat!("this report is always ordered by ", $text).into())
            }
        }

        impl SortKey for $name {
            const DEFAULT: Self = $name;
            fn name(self) -> &'static str {
                $text
            }
        }
    };
}

fixed_order!(StalledOrder, "stage_changed_at");
fixed_order!(ExpiringOrder, "valid_until");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StalledParams {
    pub days: Option<String>,
    pub kind: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub park_id: Option<String>,
    pub include_archived: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked `stalled` request.
#[derive(Debug, Clone)]
pub struct StalledFilter {
    pub days: i64,
    /// One kind per request (default `enterprise`): each kind lives in its own table.
    pub kind: ItemKind,
    pub scope: Scope,
    pub page: PageRequest<StalledOrder>,
}

impl StalledParams {
    pub fn parse(&self) -> Result<StalledFilter, DomainError> {
        let mut errors = Vec::new();
        let filter = StalledFilter {
            days: days(
                "days",
                self.days.as_deref(),
                DEFAULT_STALLED_DAYS,
                &mut errors,
            ),
            kind: page::parse_param("kind", self.kind.as_deref(), "invalid_enum", &mut errors)
                .unwrap_or(ItemKind::Enterprise),
            scope: Scope::parse(
                self.industry.as_deref(),
                self.region.as_deref(),
                self.park_id.as_deref(),
                self.include_archived.as_deref(),
                &mut errors,
            ),
            page: PageRequest::parse(
                None,
                self.limit.as_deref(),
                self.cursor.as_deref(),
                &mut errors,
            ),
        };
        finish(filter, errors)
    }
}

/// A record named in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StalledItem {
    pub id: String,
    pub kind: ItemKind,
    pub name: String,
    pub enterprise: Named,
    pub stage: Stage,
    pub stage_changed_at: DateTime<Utc>,
    /// The latest visit of the item's enterprise so far, if any.
    pub last_visit_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiringParams {
    pub within: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub park_id: Option<String>,
    pub include_archived: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked `expiring` request.
#[derive(Debug, Clone)]
pub struct ExpiringFilter {
    pub within: i64,
    pub scope: Scope,
    pub page: PageRequest<ExpiringOrder>,
}

impl ExpiringParams {
    pub fn parse(&self) -> Result<ExpiringFilter, DomainError> {
        let mut errors = Vec::new();
        let filter = ExpiringFilter {
            within: days(
                "within",
                self.within.as_deref(),
                DEFAULT_EXPIRING_DAYS,
                &mut errors,
            ),
            scope: Scope::parse(
                self.industry.as_deref(),
                self.region.as_deref(),
                self.park_id.as_deref(),
                self.include_archived.as_deref(),
                &mut errors,
            ),
            page: PageRequest::parse(
                None,
                self.limit.as_deref(),
                self.cursor.as_deref(),
                &mut errors,
            ),
        };
        finish(filter, errors)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiringAgreement {
    pub id: String,
    pub title: String,
    pub number: Option<String>,
    pub kind: AgreementKind,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiringItem {
    pub agreement: ExpiringAgreement,
    pub enterprise: Named,
    pub order_class: Option<Named>,
    pub internship_base: Option<Named>,
    /// A newer live agreement of the same enterprise, kind and covered item that runs
    /// past this one's end: the renewal, when one is signed.
    pub replaced_by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub group: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub park_id: Option<String>,
    pub include_archived: Option<String>,
}

/// A checked `activity` request: visits with `from <= starts_at < to` (UTC days).
#[derive(Debug, Clone)]
pub struct ActivityFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group: ActivityGroup,
    pub scope: Scope,
}

impl ActivityParams {
    /// `today` fixes the default period: the twelve calendar months up to and
    /// including the current one.
    pub fn parse(&self, today: NaiveDate) -> Result<ActivityFilter, DomainError> {
        let mut errors = Vec::new();
        let date = |field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>| {
            raw.and_then(|raw| match super::input::parse_date(raw) {
                Ok(date) => Some(date),
                Err(message) => {
                    errors.push(FieldError::new(field, "invalid_date", message));
                    None
                }
            })
        };
        let from = date("from", self.from.as_deref(), &mut errors);
        let to = date("to", self.to.as_deref(), &mut errors);
        let next_month = month_start(today).checked_add_months(Months::new(1));
        let to = to.or(next_month).unwrap_or(today);
        let from = from
            .or_else(|| to.checked_sub_months(Months::new(DEFAULT_ACTIVITY_MONTHS)))
            .unwrap_or(to);
        if to <= from {
            errors.push(FieldError::new("to", "before_from", "must be after `from`"));
        } else if from
            .checked_add_months(Months::new(MAX_ACTIVITY_MONTHS))
            .is_some_and(|limit| to > limit)
        {
            errors.push(FieldError::new(
                "to",
                "out_of_range",
                format!("the period may be at most {MAX_ACTIVITY_MONTHS} months long"),
            ));
        }
        let filter = ActivityFilter {
            from,
            to,
            group: page::parse_param("group", self.group.as_deref(), "invalid_enum", &mut errors)
                .unwrap_or(ActivityGroup::Month),
            scope: Scope::parse(
                self.industry.as_deref(),
                self.region.as_deref(),
                self.park_id.as_deref(),
                self.include_archived.as_deref(),
                &mut errors,
            ),
        };
        finish(filter, errors)
    }
}

impl ActivityFilter {
    /// Every month the period touches, as `YYYY-MM` keys, so that quiet months show
    /// as zeros.
    pub fn months(&self) -> Vec<String> {
        let mut months = Vec::new();
        let mut month = month_start(self.from);
        while month < self.to {
            months.push(month_key(month));
            match month.checked_add_months(Months::new(1)) {
                Some(next) => month = next,
                None => break,
            }
        }
        months
    }
}

fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The `YYYY-MM` key of the month of `date`, as the database spells it.
pub fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// One line of the activity report; which field names it depends on the grouping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ActivityRow {
    Month { month: String, visits: i64 },
    Enterprise { enterprise: Named, visits: i64 },
    Direction { direction: Direction, visits: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub group: ActivityGroup,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<ActivityRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        super::super::input::parse_date(s).expect("date")
    }

    #[test]
    fn activity_defaults_to_the_last_twelve_calendar_months() {
        let filter = ActivityParams::default()
            .parse(day("2026-11-29"))
            .expect("valid");
        assert_eq!(
            (filter.from, filter.to),
            (day("2025-12-01"), day("2026-12-01"))
        );
        assert_eq!(filter.group, ActivityGroup::Month);
        let months = filter.months();
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], "2025-12");
        assert_eq!(months[11], "2026-11");
    }

    #[test]
    fn activity_months_cover_partial_months() {
        let params = ActivityParams {
            from: Some("2026-01-15".into()),
            to: Some("2026-03-02".into()),
            ..Default::default()
        };
        let filter = params.parse(day("2026-11-29")).expect("valid");
        assert_eq!(filter.months(), ["2026-01", "2026-02", "2026-03"]);
    }

    #[test]
    fn bad_parameters_are_named() {
        let params = ActivityParams {
            from: Some("2026-13-01".into()),
            group: Some("week".into()),
            park_id: Some("carbonbay".into()),
            include_archived: Some("yes".into()),
            ..Default::default()
        };
        let Err(DomainError::BadRequest(errors)) = params.parse(day("2026-11-29")) else {
            panic!("expected errors");
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("from", "invalid_date"),
                ("group", "invalid_enum"),
                ("park_id", "invalid_id"),
                ("include_archived", "invalid_boolean"),
            ]
        );
        let params = ActivityParams {
            from: Some("2026-05-01".into()),
            to: Some("2026-05-01".into()),
            ..Default::default()
        };
        let Err(DomainError::BadRequest(errors)) = params.parse(day("2026-11-29")) else {
            panic!("expected errors");
        };
        assert_eq!(errors[0].code, "before_from");
    }

    #[test]
    fn days_are_bounded() {
        for (raw, ok) in [
            ("1", true),
            ("3650", true),
            ("0", false),
            ("3651", false),
            ("x", false),
        ] {
            let params = StalledParams {
                days: Some(raw.into()),
                ..Default::default()
            };
            assert_eq!(params.parse().is_ok(), ok, "{raw}");
        }
        let filter = StalledParams::default().parse().expect("defaults");
        assert_eq!((filter.days, filter.kind), (60, ItemKind::Enterprise));
        let filter = ExpiringParams::default().parse().expect("defaults");
        assert_eq!(filter.within, 90);
    }
}

//! Managers' reports: their checked parameters and the shapes they answer with.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::agreement::AgreementKind;
use super::ids::EnterpriseId;
use super::page::{self, PageRequest, SortKey};
use super::rfc3339;
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
/// How many days `funnel` covers by default (today included).
pub const DEFAULT_FUNNEL_DAYS: u64 = 365;

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
    /// Whether it names some enterprises (an industry, a region, a park) rather
    /// than all of them.
    pub fn narrowed(&self) -> bool {
        self.industry.is_some() || self.region.is_some() || self.park_id.is_some()
    }

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
            park_id: page::parse_id_param("park_id", park_id, errors),
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
    #[serde(serialize_with = "rfc3339::serialize")]
    pub stage_changed_at: DateTime<Utc>,
    /// The latest visit of the item's enterprise so far, if any.
    #[serde(serialize_with = "rfc3339::option")]
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub kind: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub park_id: Option<String>,
    pub include_archived: Option<String>,
}

/// A checked `funnel` request: the items of `kind` that entered the pipeline on a day
/// from `from` to `to`, both included (UTC).
#[derive(Debug, Clone)]
pub struct FunnelFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One kind per request (default `enterprise`), as `stalled`.
    pub kind: ItemKind,
    pub scope: Scope,
}

impl FunnelParams {
    /// `today` fixes the default period: the last `DEFAULT_FUNNEL_DAYS` days, today
    /// included.
    pub fn parse(&self, today: NaiveDate) -> Result<FunnelFilter, DomainError> {
        let mut errors = Vec::new();
        let from = date("from", self.from.as_deref(), &mut errors);
        let to = date("to", self.to.as_deref(), &mut errors).unwrap_or(today);
        let from = from
            .or_else(|| to.checked_sub_days(Days::new(DEFAULT_FUNNEL_DAYS - 1)))
            .unwrap_or(to);
        if from > to {
            errors.push(FieldError::new(
                "to",
                "before_from",
                "must not be before `from`",
            ));
        }
        let filter = FunnelFilter {
            from,
            to,
            kind: page::parse_param("kind", self.kind.as_deref(), "invalid_enum", &mut errors)
                .unwrap_or(ItemKind::Enterprise),
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

/// The stages a funnel follows, in order: the main line, without `terminated`.
pub const FUNNEL_STAGES: [Stage; 5] = [
    Stage::Intention,
    Stage::Negotiation,
    Stage::Agreement,
    Stage::Implementation,
    Stage::Completed,
];

/// What the database counts for one stage of a funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFigures {
    pub stage: Stage,
    pub reached: i64,
    pub stays: i64,
    pub median_days: Option<f64>,
    pub median_days_to_reach: Option<f64>,
}

/// One stage of a funnel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStage {
    pub stage: Stage,
    /// Items of the cohort that have been at this stage or a later one.
    pub reached: i64,
    /// `reached` over the previous stage's `reached`; `None` for the first stage and
    /// after a stage nobody reached.
    pub conversion_from_previous: Option<f64>,
    /// The median length of the finished stays at this stage, in days.
    pub median_days: Option<f64>,
    /// How many finished stays `median_days` is taken over.
    pub stays: i64,
    /// The median time from entering the pipeline to first reaching this stage.
    pub median_days_to_reach: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    pub kind: ItemKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Items that entered the pipeline in the period: the cohort.
    pub entered: i64,
    pub stages: Vec<FunnelStage>,
    /// Items of the cohort that have been terminated.
    pub terminated: i64,
}

impl Funnel {
    /// Puts the database's figures in stage order and works out the conversions; a
    /// stage the figures leave out counts as nobody's.
    pub fn new(
        filter: &FunnelFilter,
        entered: i64,
        terminated: i64,
        figures: &[StageFigures],
    ) -> Self {
        let mut previous: Option<i64> = None;
        let stages = FUNNEL_STAGES
            .iter()
            .map(|&stage| {
                let found = figures.iter().find(|f| f.stage == stage);
                let reached = found.map_or(0, |f| f.reached);
                let conversion_from_previous = previous
                    .filter(|&p| p > 0)
                    .map(|p| round(reached as f64 / p as f64, 4));
                previous = Some(reached);
                FunnelStage {
                    stage,
                    reached,
                    conversion_from_previous,
                    median_days: found.and_then(|f| f.median_days).map(|d| round(d, 2)),
                    stays: found.map_or(0, |f| f.stays),
                    median_days_to_reach: found
                        .and_then(|f| f.median_days_to_reach)
                        .map(|d| round(d, 2)),
                }
            })
            .collect();
        Funnel {
            kind: filter.kind,
            from: filter.from,
            to: filter.to,
            entered,
            stages,
            terminated,
        }
    }
}

/// `value` to `places` decimal places: day counts computed from timestamps carry
/// floating-point noise that a report should not show.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// An optional `YYYY-MM-DD` query value.
fn date(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    raw.and_then(|raw| match super::input::parse_date(raw) {
        Ok(date) => Some(date),
        Err(message) => {
            errors.push(FieldError::new(field, "invalid_date", message));
            None
        }
    })
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
    fn funnel_defaults_to_the_last_365_days_of_enterprises() {
        let filter = FunnelParams::default()
            .parse(day("2026-11-25"))
            .expect("valid");
        assert_eq!(
            (filter.from, filter.to, filter.kind),
            (day("2025-11-26"), day("2026-11-25"), ItemKind::Enterprise)
        );
        let only_to = FunnelParams {
            to: Some("2025-12-31".into()),
            ..Default::default()
        };
        let filter = only_to.parse(day("2026-11-25")).expect("valid");
        assert_eq!(
            (filter.from, filter.to),
            (day("2025-01-01"), day("2025-12-31"))
        );
        // One day is a period; a future `from` with the default `to` is not.
        let one_day = FunnelParams {
            from: Some("2025-07-01".into()),
            to: Some("2025-07-01".into()),
            kind: Some("order_class".into()),
            ..Default::default()
        };
        let filter = one_day.parse(day("2026-11-25")).expect("valid");
        assert_eq!(filter.kind, ItemKind::OrderClass);
        let future = FunnelParams {
            from: Some("2026-12-01".into()),
            ..Default::default()
        };
        let Err(DomainError::BadRequest(errors)) = future.parse(day("2026-11-25")) else {
            panic!("expected errors");
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("to", "before_from")
        );
    }

    #[test]
    fn funnel_bad_parameters_are_named() {
        let params = FunnelParams {
            from: Some("2025-02-30".into()),
            to: Some("soon".into()),
            kind: Some("visit".into()),
            park_id: Some("carbonbay".into()),
            ..Default::default()
        };
        let Err(DomainError::BadRequest(errors)) = params.parse(day("2026-11-25")) else {
            panic!("expected errors");
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("from", "invalid_date"),
                ("to", "invalid_date"),
                ("kind", "invalid_enum"),
                ("park_id", "invalid_id"),
            ]
        );
    }

    #[test]
    fn funnel_conversions_follow_the_stage_order() {
        let filter = FunnelParams::default()
            .parse(day("2026-11-25"))
            .expect("valid");
        let figures = |stage, reached, stays, median: Option<f64>| StageFigures {
            stage,
            reached,
            stays,
            median_days: median,
            median_days_to_reach: median.map(|m| m * 2.0),
        };
        // Out of order, and with `implementation` and `completed` left out.
        let funnel = Funnel::new(
            &filter,
            3,
            1,
            &[
                figures(Stage::Agreement, 1, 0, None),
                figures(Stage::Intention, 3, 2, Some(6.666_666_7)),
                figures(Stage::Negotiation, 2, 1, Some(0.004_999)),
            ],
        );
        let got: Vec<_> = funnel
            .stages
            .iter()
            .map(|s| {
                (
                    s.stage,
                    s.reached,
                    s.conversion_from_previous,
                    s.median_days,
                    s.stays,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Stage::Intention, 3, None, Some(6.67), 2),
                (Stage::Negotiation, 2, Some(0.6667), Some(0.0), 1),
                (Stage::Agreement, 1, Some(0.5), None, 0),
                (Stage::Implementation, 0, Some(0.0), None, 0),
                (Stage::Completed, 0, None, None, 0),
            ]
        );
        assert_eq!(funnel.stages[0].median_days_to_reach, Some(13.33));
        assert_eq!((funnel.entered, funnel.terminated), (3, 1));
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

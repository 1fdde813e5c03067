//! Order classes (订单班): classes trained for one sponsoring enterprise, which
//! commits to employing their graduates.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{EnterpriseId, OrderClassId};
use super::input::{self, Checker, LONG_TEXT, SHORT_TEXT};
use super::page::{self, PageRequest, SortKey};
use super::rfc3339;
use super::stage::Stage;
use super::transition::{self, InitialStage};
use super::{name, vocabulary, DomainError, FieldError};

/// Earliest and latest cohort (year of entry) an order class may name.
pub const COHORT_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;
/// Student counts: any whole number a database INTEGER holds.
const COUNTS: std::ops::RangeInclusive<i32> = 0..=i32::MAX;

#[derive(Debug, Clone, Serialize)]
pub struct OrderClass {
    pub id: OrderClassId,
    pub enterprise_id: EnterpriseId,
    pub name: String,
    pub major: Option<String>,
    pub cohort_year: Option<i32>,
    pub planned_size: i32,
    pub enrolled_count: i32,
    pub employed_count: i32,
    /// When false, `enrolled_count` may not exceed `planned_size`.
    pub allow_over_enrollment: bool,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub description: Option<String>,
    pub stage: Stage,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub stage_changed_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    #[serde(serialize_with = "rfc3339::option")]
    pub archived_at: Option<DateTime<Utc>>,
}

/// Fields a client may not set.
pub const READ_ONLY: &[&str] = &[
    "id",
    "stage",
    "stage_changed_at",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
];

/// Fields a create body may not set: `stage` may be, with its evidence.
const CREATE_READ_ONLY: &[&str] = &[
    "id",
    "stage_changed_at",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
];

/// A checked create body: the fields, and the stage to start at when not `intention`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderClass {
    pub fields: OrderClassFields,
    pub initial: Option<InitialStage>,
}

impl NewOrderClass {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::expect_object(body, CREATE_READ_ONLY)?;
        let (rest, initial) = InitialStage::split(body);
        let fields =
            transition::naming_initial_members(input::decode_all(rest, OrderClassFields::parse));
        let (fields, initial) = transition::both(fields, initial)?;
        Ok(NewOrderClass { fields, initial })
    }
}

/// The client-editable fields, as sent in a create body or after a merge patch.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderClassInput {
    pub enterprise_id: Option<EnterpriseId>,
    pub name: Option<String>,
    pub major: Option<String>,
    pub cohort_year: Option<i64>,
    pub planned_size: Option<i64>,
    pub enrolled_count: Option<i64>,
    pub employed_count: Option<i64>,
    pub allow_over_enrollment: Option<bool>,
    #[serde(default, with = "input::date")]
    pub starts_on: Option<NaiveDate>,
    #[serde(default, with = "input::date")]
    pub ends_on: Option<NaiveDate>,
    pub description: Option<String>,
}

/// Editable fields that passed every rule that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderClassFields {
    pub enterprise_id: EnterpriseId,
    pub name: String,
    pub name_key: String,
    pub major: Option<String>,
    pub cohort_year: Option<i32>,
    pub planned_size: i32,
    pub enrolled_count: i32,
    pub employed_count: i32,
    pub allow_over_enrollment: bool,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub description: Option<String>,
}

impl OrderClassFields {
    /// Checks a create body.
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(body, READ_ONLY, Self::parse)
    }

    /// Applies a merge patch to `current` and checks the result as a whole.
    pub fn from_patch(current: &OrderClass, patch: &Value) -> Result<Self, DomainError> {
        input::parse_patch(&current.input(), patch, READ_ONLY, Self::parse)
    }

    pub fn parse(input: OrderClassInput) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let enterprise_id = input.enterprise_id.unwrap_or_else(|| {
            check.push(
                "enterprise_id",
                "required",
                "`enterprise_id` is required: the sponsoring enterprise",
            );
            EnterpriseId(uuid::Uuid::nil())
        });
        let name = check.required_line("name", input.name, SHORT_TEXT);
        let major = check.optional_line("major", input.major, 100);
        let cohort_year = check.whole_number("cohort_year", input.cohort_year, COHORT_YEARS);
        let planned = check.whole_number("planned_size", input.planned_size, COUNTS);
        let enrolled = check.whole_number("enrolled_count", input.enrolled_count, COUNTS);
        let employed = check.whole_number("employed_count", input.employed_count, COUNTS);
        let allow_over_enrollment = input.allow_over_enrollment.unwrap_or(false);
        // A count that is absent defaults to 0; one that was rejected is left out of
        // the rules between counts, which would only repeat its error.
        let or_zero = |value: Option<i64>, checked: Option<i32>| match value {
            None => Some(0),
            Some(_) => checked,
        };
        let (planned_ok, enrolled_ok, employed_ok) = (
            or_zero(input.planned_size, planned),
            or_zero(input.enrolled_count, enrolled),
            or_zero(input.employed_count, employed),
        );
        if let (Some(planned), Some(enrolled)) = (planned_ok, enrolled_ok) {
            if enrolled > planned && !allow_over_enrollment {
                check.push(
                    "enrolled_count",
                    "exceeds_planned_size",
                    format!(
                        "{enrolled} enrolled is more than the planned size of {planned}; \
                         set `allow_over_enrollment` to allow it"
                    ),
                );
            }
        }
        if let (Some(enrolled), Some(employed)) = (enrolled_ok, employed_ok) {
            if employed > enrolled {
                check.push(
                    "employed_count",
                    "exceeds_enrolled_count",
                    format!("{employed} employed is more than the {enrolled} enrolled"),
                );
            }
        }
        if let (Some(starts), Some(ends)) = (input.starts_on, input.ends_on) {
            if ends <= starts {
                check.push(
                    "ends_on",
                    "date_order",
                    format!("must be after `starts_on` ({starts}), got {ends}"),
                );
            }
        }
        let fields = OrderClassFields {
            enterprise_id,
            name_key: name::key(&name),
            name,
            major,
            cohort_year,
            planned_size: planned.unwrap_or(0),
            enrolled_count: enrolled.unwrap_or(0),
            employed_count: employed.unwrap_or(0),
            allow_over_enrollment,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            description: check.optional_text("description", input.description, LONG_TEXT),
        };
        check.finish(fields)
    }
}

impl OrderClass {
    /// The editable fields as a client would send them.
    pub fn input(&self) -> OrderClassInput {
        OrderClassInput {
            enterprise_id: Some(self.enterprise_id),
            name: Some(self.name.clone()),
            major: self.major.clone(),
            cohort_year: self.cohort_year.map(i64::from),
            planned_size: Some(self.planned_size.into()),
            enrolled_count: Some(self.enrolled_count.into()),
            employed_count: Some(self.employed_count.into()),
            allow_over_enrollment: Some(self.allow_over_enrollment),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            description: self.description.clone(),
        }
    }
}

vocabulary! {
    OrderClassSort {
        Name => "name",
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
    }
}

impl SortKey for OrderClassSort {
    const DEFAULT: Self = OrderClassSort::CreatedAt;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Query parameters of `GET /order-classes`, as received.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderClassListParams {
    pub enterprise_id: Option<String>,
    pub stage: Option<String>,
    pub cohort_year: Option<String>,
    pub major: Option<String>,
    pub q: Option<String>,
    pub include_archived: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked order class list request.
#[derive(Debug, Clone)]
pub struct OrderClassFilter {
    pub enterprise_id: Option<EnterpriseId>,
    pub stage: Option<Stage>,
    pub cohort_year: Option<i32>,
    pub major: Option<String>,
    /// Normalised like a name key; matched against the name.
    pub q: Option<String>,
    pub include_archived: bool,
    pub page: PageRequest<OrderClassSort>,
}

impl OrderClassFilter {
    pub fn parse(params: &OrderClassListParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let filter = OrderClassFilter {
            enterprise_id: page::parse_id_param(
                "enterprise_id",
                params.enterprise_id.as_deref(),
                &mut errors,
            ),
            stage: page::parse_param(
                "stage",
                params.stage.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            cohort_year: params
                .cohort_year
                .as_deref()
                .and_then(|raw| match raw.parse::<i32>() {
                    Ok(year) if COHORT_YEARS.contains(&year) => Some(year),
                    _ => {
                        errors.push(FieldError::new(
                            "cohort_year",
                            "out_of_range",
                            format!(
                                "must be a whole number from {} to {}",
                                COHORT_YEARS.start(),
                                COHORT_YEARS.end()
                            ),
                        ));
                        None
                    }
                }),
            major: params
                .major
                .as_deref()
                .map(name::tidy)
                .filter(|s| !s.is_empty()),
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

    /// The live order classes of one enterprise, the first `limit` in the default
    /// order: what an enterprise's page embeds.
    pub fn for_enterprise(enterprise_id: EnterpriseId, limit: i64) -> Self {
        OrderClassFilter {
            enterprise_id: Some(enterprise_id),
            stage: None,
            cohort_year: None,
            major: None,
            q: None,
            include_archived: false,
            page: PageRequest::first(limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        match OrderClassFields::from_body(&body) {
            Err(DomainError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    fn pairs(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|(f, c)| (f.to_string(), *c)).collect()
    }

    fn sponsor() -> String {
        EnterpriseId::generate().to_string()
    }

    #[test]
    fn defaults_fill_what_is_absent() {
        let fields = OrderClassFields::from_body(&json!({
            "enterprise_id": sponsor(),
            "name": "  Chemical Process   Technology 2026 ",
        }))
        .expect("valid");
        assert_eq!(fields.name, "Chemical Process Technology 2026");
        assert_eq!(fields.name_key, "chemical process technology 2026");
        assert_eq!(
            (
                fields.planned_size,
                fields.enrolled_count,
                fields.employed_count
            ),
            (0, 0, 0)
        );
        assert!(!fields.allow_over_enrollment);
    }

    #[test]
    fn counts_must_fit_together() {
        let id = sponsor();
        assert_eq!(
            codes(
                json!({"enterprise_id": id, "name": "A", "planned_size": 30, "enrolled_count": 31, "employed_count": 32})
            ),
            pairs(&[
                ("enrolled_count", "exceeds_planned_size"),
                ("employed_count", "exceeds_enrolled_count")
            ])
        );
        // Enrolment with no planned size is over-enrolment too.
        assert_eq!(
            codes(json!({"enterprise_id": id, "name": "A", "enrolled_count": 1})),
            pairs(&[("enrolled_count", "exceeds_planned_size")])
        );
        assert!(OrderClassFields::from_body(&json!({
            "enterprise_id": id, "name": "A", "planned_size": 30, "enrolled_count": 34,
            "employed_count": 34, "allow_over_enrollment": true
        }))
        .is_ok());
        assert!(OrderClassFields::from_body(&json!({
            "enterprise_id": id, "name": "A", "planned_size": 30, "enrolled_count": 30, "employed_count": 30
        }))
        .is_ok());
    }

    #[test]
    fn a_rejected_count_is_not_compared_again() {
        assert_eq!(
            codes(
                json!({"enterprise_id": sponsor(), "name": "A", "planned_size": -1, "enrolled_count": 5})
            ),
            pairs(&[("planned_size", "out_of_range")])
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(
            codes(json!({
                "name": " ",
                "major": "m".repeat(101),
                "cohort_year": 1899,
                "planned_size": 2.5,
                "starts_on": "2026-09-01",
                "ends_on": "2026-09-01",
                "description": "d".repeat(10_001),
                "allow_over_enrollment": "yes",
            })),
            pairs(&[
                ("allow_over_enrollment", "invalid_type"),
                ("planned_size", "invalid_type"),
                ("enterprise_id", "required"),
                ("name", "required"),
                ("major", "too_long"),
                ("cohort_year", "out_of_range"),
                ("ends_on", "date_order"),
                ("description", "too_long"),
            ])
        );
    }

    #[test]
    fn malformed_dates_are_type_errors_on_their_field() {
        assert_eq!(
            codes(
                json!({"enterprise_id": sponsor(), "name": "A", "starts_on": "2026-9-1", "ends_on": 20270630})
            ),
            pairs(&[("ends_on", "invalid_type"), ("starts_on", "invalid_type")])
        );
    }

    #[test]
    fn a_patch_is_checked_merged_with_the_record() {
        let fields = OrderClassFields::from_body(&json!({
            "enterprise_id": sponsor(), "name": "A", "planned_size": 30, "enrolled_count": 30,
            "starts_on": "2026-09-01"
        }))
        .expect("valid");
        let now = Utc::now();
        let current = OrderClass {
            id: OrderClassId::generate(),
            enterprise_id: fields.enterprise_id,
            name: fields.name,
            major: None,
            cohort_year: None,
            planned_size: fields.planned_size,
            enrolled_count: fields.enrolled_count,
            employed_count: 0,
            allow_over_enrollment: false,
            starts_on: fields.starts_on,
            ends_on: None,
            description: None,
            stage: Stage::Intention,
            stage_changed_at: now,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        };
        let Err(DomainError::Invalid(errors)) =
            OrderClassFields::from_patch(&current, &json!({"planned_size": 20}))
        else {
            panic!("shrinking below enrolment must fail");
        };
        assert_eq!(errors[0].code, "exceeds_planned_size");
        let Err(DomainError::Invalid(errors)) =
            OrderClassFields::from_patch(&current, &json!({"ends_on": "2026-08-31"}))
        else {
            panic!("ending before the start must fail");
        };
        assert_eq!(errors[0].code, "date_order");
        let cleared = OrderClassFields::from_patch(
            &current,
            &json!({"planned_size": 20, "allow_over_enrollment": true, "starts_on": null}),
        )
        .expect("valid");
        assert_eq!(cleared.starts_on, None);
        let Err(DomainError::Invalid(errors)) =
            OrderClassFields::from_patch(&current, &json!({"stage": "agreement"}))
        else {
            panic!("stage is read-only");
        };
        assert_eq!(errors[0].code, "read_only");
    }

    #[test]
    fn list_parameters_are_checked() {
        let params = OrderClassListParams {
            stage: Some("signed".into()),
            cohort_year: Some("twenty".into()),
            enterprise_id: Some("park".into()),
            ..Default::default()
        };
        let Err(DomainError::BadRequest(errors)) = OrderClassFilter::parse(&params) else {
            panic!("bad parameters");
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("enterprise_id", "invalid_id"),
                ("stage", "invalid_enum"),
                ("cohort_year", "out_of_range")
            ]
        );
    }

    #[test]
    fn for_enterprise_is_the_first_live_page_of_one_enterprise() {
        let id = EnterpriseId::generate();
        let filter = OrderClassFilter::for_enterprise(id, 5);
        assert_eq!(filter.enterprise_id, Some(id));
        assert!(!filter.include_archived);
        assert_eq!(filter.page.limit, 5);
        assert_eq!(filter.page.sort.key, OrderClassSort::DEFAULT);
        assert!(filter.page.after.is_none());
        assert_eq!(
            OrderClassFilter::for_enterprise(id, 10_000).page.limit,
            page::MAX_LIMIT
        );
    }
}

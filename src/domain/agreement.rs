//! Agreements: the signed documents that seal a cooperation, optionally covering one
//! order class or internship base, and their validity as of today.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::ids::{AgreementId, EnterpriseId, InternshipBaseId, OrderClassId};
use super::input::{self, Checker, LONG_TEXT, SHORT_TEXT};
use super::page::{self, PageRequest, SortKey};
use super::rfc3339;
use super::{name, vocabulary, DomainError, FieldError};

vocabulary! {
    /// What an agreement is about.
    AgreementKind {
        Framework => "framework",
        OrderClass => "order_class",
        InternshipBase => "internship_base",
        Other => "other",
    }
}

vocabulary! {
    /// Where an agreement stands on a given day; derived, never stored.
    AgreementStatus {
        NotYetValid => "not_yet_valid",
        Active => "active",
        Expiring => "expiring",
        Expired => "expired",
    }
}

/// An agreement whose last valid day is at most this many days away is expiring.
pub const EXPIRING_WITHIN_DAYS: u64 = 90;

/// The last `valid_until` that still counts as expiring on `today`.
pub fn expiring_horizon(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_days(Days::new(EXPIRING_WITHIN_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// An agreement's status on `today`. Both ends are inclusive: an agreement is valid
/// from its first day through its last, and is expiring from `EXPIRING_WITHIN_DAYS`
/// before its last day through that day. No `valid_until` means open-ended. (The list
/// filter `status=` states the same rule in SQL, in `db::agreements`.)
pub fn status(
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    today: NaiveDate,
) -> AgreementStatus {
    if today < valid_from {
        return AgreementStatus::NotYetValid;
    }
    match valid_until {
        Some(until) if today > until => AgreementStatus::Expired,
        Some(until) if until <= expiring_horizon(today) => AgreementStatus::Expiring,
        _ => AgreementStatus::Active,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub id: AgreementId,
    pub enterprise_id: EnterpriseId,
    pub title: String,
    pub number: Option<String>,
    pub kind: AgreementKind,
    pub order_class_id: Option<OrderClassId>,
    pub internship_base_id: Option<InternshipBaseId>,
    pub signed_on: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// As of the day the response was made.
    pub status: AgreementStatus,
    pub document_url: Option<String>,
    pub notes: Option<String>,
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
    "status",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
];

/// The client-editable fields, as sent in a create body or after a merge patch.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    pub enterprise_id: Option<EnterpriseId>,
    pub title: Option<String>,
    pub number: Option<String>,
    pub kind: Option<AgreementKind>,
    pub order_class_id: Option<OrderClassId>,
    pub internship_base_id: Option<InternshipBaseId>,
    #[serde(default, with = "input::date")]
    pub signed_on: Option<NaiveDate>,
    #[serde(default, with = "input::date")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, with = "input::date")]
    pub valid_until: Option<NaiveDate>,
    pub document_url: Option<String>,
    pub notes: Option<String>,
}

/// Editable fields that passed every rule that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementFields {
    pub enterprise_id: EnterpriseId,
    pub title: String,
    pub title_key: String,
    pub number: Option<String>,
    pub kind: AgreementKind,
    pub order_class_id: Option<OrderClassId>,
    pub internship_base_id: Option<InternshipBaseId>,
    pub signed_on: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub document_url: Option<String>,
    pub notes: Option<String>,
}

impl AgreementFields {
    /// Checks a create body.
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(body, READ_ONLY, Self::parse)
    }

    /// Applies a merge patch to `current` and checks the result as a whole.
    pub fn from_patch(current: &Agreement, patch: &Value) -> Result<Self, DomainError> {
        input::parse_patch(&current.input(), patch, READ_ONLY, Self::parse)
    }

    pub fn parse(input: AgreementInput) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let enterprise_id = input.enterprise_id.unwrap_or_else(|| {
            check.push(
                "enterprise_id",
                "required",
                "`enterprise_id` is required: the enterprise the agreement is signed with",
            );
            EnterpriseId(uuid::Uuid::nil())
        });
        let title = check.required_line("title", input.title, SHORT_TEXT);
        // Full-width digits and letters become ASCII, so that one number typed two
        // ways is one number.
        let number = check
            .optional_line("number", input.number, 100)
            .map(|n| name::tidy(&n.nfkc().collect::<String>()));
        let kind = input.kind.unwrap_or_else(|| {
            check.push(
                "kind",
                "required",
                format!("`kind` is required: one of {}", AgreementKind::expected()),
            );
            AgreementKind::Other
        });
        if let Some(kind) = input.kind {
            if input.order_class_id.is_some() && kind != AgreementKind::OrderClass {
                check.push(
                    "order_class_id",
                    "not_allowed",
                    format!("only an `order_class` agreement covers an order class, not `{kind}`"),
                );
            }
            if input.internship_base_id.is_some() && kind != AgreementKind::InternshipBase {
                check.push(
                    "internship_base_id",
                    "not_allowed",
                    format!(
                        "only an `internship_base` agreement covers an internship base, not `{kind}`"
                    ),
                );
            }
        }
        let valid_from = input.valid_from.unwrap_or_else(|| {
            check.push(
                "valid_from",
                "required",
                "`valid_from` is required: the first day the agreement is in force",
            );
            NaiveDate::MIN
        });
        if let (Some(from), Some(until)) = (input.valid_from, input.valid_until) {
            if until < from {
                check.push(
                    "valid_until",
                    "date_order",
                    format!("must not be before `valid_from` ({from}), got {until}"),
                );
            }
        }
        let fields = AgreementFields {
            enterprise_id,
            title_key: name::key(&title),
            title,
            number,
            kind,
            order_class_id: input.order_class_id,
            internship_base_id: input.internship_base_id,
            signed_on: input.signed_on,
            valid_from,
            valid_until: input.valid_until,
            document_url: check.web_url("document_url", input.document_url),
            notes: check.optional_text("notes", input.notes, LONG_TEXT),
        };
        check.finish(fields)
    }
}

impl Agreement {
    /// The editable fields as a client would send them.
    pub fn input(&self) -> AgreementInput {
        AgreementInput {
            enterprise_id: Some(self.enterprise_id),
            title: Some(self.title.clone()),
            number: self.number.clone(),
            kind: Some(self.kind),
            order_class_id: self.order_class_id,
            internship_base_id: self.internship_base_id,
            signed_on: self.signed_on,
            valid_from: Some(self.valid_from),
            valid_until: self.valid_until,
            document_url: self.document_url.clone(),
            notes: self.notes.clone(),
        }
    }
}

vocabulary! {
    AgreementSort {
        Title => "title",
        ValidFrom => "valid_from",
        ValidUntil => "valid_until",
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
    }
}

impl SortKey for AgreementSort {
    const DEFAULT: Self = AgreementSort::CreatedAt;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Query parameters of `GET /agreements`, as received.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementListParams {
    pub enterprise_id: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub order_class_id: Option<String>,
    pub internship_base_id: Option<String>,
    pub q: Option<String>,
    pub include_archived: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked agreement list request.
#[derive(Debug, Clone)]
pub struct AgreementFilter {
    pub enterprise_id: Option<EnterpriseId>,
    pub kind: Option<AgreementKind>,
    /// Judged against the date of the request.
    pub status: Option<AgreementStatus>,
    pub order_class_id: Option<OrderClassId>,
    pub internship_base_id: Option<InternshipBaseId>,
    /// Normalised like a name key; matched against the title.
    pub q: Option<String>,
    pub include_archived: bool,
    pub page: PageRequest<AgreementSort>,
}

impl AgreementFilter {
    pub fn parse(params: &AgreementListParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let filter = AgreementFilter {
            enterprise_id: page::parse_id_param(
                "enterprise_id",
                params.enterprise_id.as_deref(),
                &mut errors,
            ),
            kind: page::parse_param("kind", params.kind.as_deref(), "invalid_enum", &mut errors),
            status: page::parse_param(
                "status",
                params.status.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            order_class_id: page::parse_id_param(
                "order_class_id",
                params.order_class_id.as_deref(),
                &mut errors,
            ),
            internship_base_id: page::parse_id_param(
                "internship_base_id",
                params.internship_base_id.as_deref(),
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

    /// The live agreements of one enterprise, the first `limit` in the default order:
    /// what an enterprise's page embeds.
    pub fn for_enterprise(enterprise_id: EnterpriseId, limit: i64) -> Self {
        AgreementFilter {
            enterprise_id: Some(enterprise_id),
            kind: None,
            status: None,
            order_class_id: None,
            internship_base_id: None,
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

    fn day(text: &str) -> NaiveDate {
        input::parse_date(text).expect("test date")
    }

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        match AgreementFields::from_body(&body) {
            Err(DomainError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    fn pairs(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|(f, c)| (f.to_string(), *c)).collect()
    }

    #[test]
    fn status_before_the_first_day() {
        let today = day("2026-11-29");
        assert_eq!(
            status(day("2026-11-30"), None, today),
            AgreementStatus::NotYetValid
        );
        // Not yet valid wins over an end that is near or past.
        assert_eq!(
            status(day("2026-11-30"), Some(day("2026-12-01")), today),
            AgreementStatus::NotYetValid
        );
        assert_eq!(
            status(day("2026-11-29"), None, today),
            AgreementStatus::Active
        );
    }

    #[test]
    fn status_around_the_expiring_window() {
        let today = day("2026-11-29");
        let from = day("2025-01-01");
        assert_eq!(expiring_horizon(today), day("2027-02-27"));
        // 91 days left: still active; 90 days left: expiring.
        assert_eq!(
            status(from, Some(day("2027-02-28")), today),
            AgreementStatus::Active
        );
        assert_eq!(
            status(from, Some(day("2027-02-27")), today),
            AgreementStatus::Expiring
        );
        // The last day is still a valid (expiring) day; the day after, it has expired.
        assert_eq!(status(from, Some(today), today), AgreementStatus::Expiring);
        assert_eq!(
            status(from, Some(day("2026-11-28")), today),
            AgreementStatus::Expired
        );
        // Open-ended agreements never expire.
        assert_eq!(status(from, None, today), AgreementStatus::Active);
        // A one-day agreement on its day.
        assert_eq!(status(today, Some(today), today), AgreementStatus::Expiring);
    }

    #[test]
    fn status_survives_the_end_of_the_calendar() {
        assert_eq!(
            status(NaiveDate::MIN, Some(NaiveDate::MAX), NaiveDate::MAX),
            AgreementStatus::Expiring
        );
        assert_eq!(expiring_horizon(NaiveDate::MAX), NaiveDate::MAX);
    }

    #[test]
    fn required_fields_and_dates() {
        assert_eq!(
            codes(json!({"valid_until": "2030-01-01", "signed_on": "yesterday"})),
            pairs(&[
                ("signed_on", "invalid_type"),
                ("enterprise_id", "required"),
                ("title", "required"),
                ("kind", "required"),
                ("valid_from", "required"),
            ])
        );
        assert_eq!(
            codes(json!({
                "enterprise_id": EnterpriseId::generate(), "title": "T", "kind": "framework",
                "valid_from": "2027-01-01", "valid_until": "2026-12-31"
            })),
            pairs(&[("valid_until", "date_order")])
        );
        assert!(AgreementFields::from_body(&json!({
            "enterprise_id": EnterpriseId::generate(), "title": "T", "kind": "framework",
            "valid_from": "2027-01-01", "valid_until": "2027-01-01"
        }))
        .is_ok());
    }

    #[test]
    fn only_the_matching_kind_covers_an_item() {
        let base = json!({
            "enterprise_id": EnterpriseId::generate(), "title": "T", "valid_from": "2026-12-01",
        });
        let with = |extra: Value| {
            let mut body = base.clone();
            input::merge_patch(&mut body, &extra);
            body
        };
        assert_eq!(
            codes(with(json!({
                "kind": "framework",
                "order_class_id": OrderClassId::generate(),
                "internship_base_id": InternshipBaseId::generate(),
            }))),
            pairs(&[
                ("order_class_id", "not_allowed"),
                ("internship_base_id", "not_allowed")
            ])
        );
        assert_eq!(
            codes(with(json!({
                "kind": "order_class", "internship_base_id": InternshipBaseId::generate(),
            }))),
            pairs(&[("internship_base_id", "not_allowed")])
        );
        assert!(AgreementFields::from_body(&with(json!({
            "kind": "order_class", "order_class_id": OrderClassId::generate(),
        })))
        .is_ok());
        // The covered item stays optional.
        assert!(AgreementFields::from_body(&with(json!({"kind": "internship_base"}))).is_ok());
    }

    #[test]
    fn numbers_are_tidied_and_urls_checked() {
        let fields = AgreementFields::from_body(&json!({
            "enterprise_id": EnterpriseId::generate(), "title": " Framework   agreement ",
            "kind": "framework", "valid_from": "2026-12-01",
            "number": " ＣＢ-２０２６-０１７ ", "document_url": "https://docs.example/cb-017.pdf",
        }))
        .expect("valid");
        assert_eq!(fields.number.as_deref(), Some("CB-2026-017"));
        assert_eq!(fields.title, "Framework agreement");
        assert_eq!(fields.title_key, "framework agreement");
        assert_eq!(
            codes(json!({
                "enterprise_id": EnterpriseId::generate(), "title": "T", "kind": "framework",
                "valid_from": "2026-12-01", "document_url": "file:///c/agreement.pdf",
                "number": "n".repeat(101), "status": "active",
            })),
            pairs(&[("status", "read_only")])
        );
        assert_eq!(
            codes(json!({
                "enterprise_id": EnterpriseId::generate(), "title": "T", "kind": "treaty",
                "valid_from": "2026-12-01", "document_url": "file:///c/agreement.pdf",
                "number": "n".repeat(101),
            })),
            pairs(&[
                ("kind", "invalid_enum"),
                ("number", "too_long"),
                ("document_url", "invalid_url")
            ])
        );
    }

    #[test]
    fn list_parameters_are_checked() {
        let params = AgreementListParams {
            status: Some("valid".into()),
            kind: Some("framework".into()),
            order_class_id: Some("x".into()),
            sort: Some("-valid_until".into()),
            ..Default::default()
        };
        let Err(DomainError::BadRequest(errors)) = AgreementFilter::parse(&params) else {
            panic!("bad parameters");
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [("status", "invalid_enum"), ("order_class_id", "invalid_id")]
        );
    }

    #[test]
    fn for_enterprise_is_the_first_live_page_of_one_enterprise() {
        let id = EnterpriseId::generate();
        let filter = AgreementFilter::for_enterprise(id, 20);
        assert_eq!(filter.enterprise_id, Some(id));
        assert!(!filter.include_archived && filter.status.is_none() && filter.kind.is_none());
        assert_eq!(filter.page.limit, 20);
        assert_eq!(filter.page.sort.key, AgreementSort::DEFAULT);
    }
}

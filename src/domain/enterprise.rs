//! Partner enterprises: companies, industrial parks and the other organisations the
//! college cooperates with.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::access::AuditEntry;
use super::agreement::Agreement;
use super::credit_code::CreditCode;
use super::ids::EnterpriseId;
use super::input::{self, Checker, LONG_TEXT, SHORT_TEXT};
use super::internship_base::InternshipBase;
use super::order_class::OrderClass;
use super::page::{self, Embedded, PageRequest, Sort, SortKey};
use super::participant::Participant;
use super::rfc3339;
use super::stage::Stage;
use super::visit::Visit;
use super::{name, vocabulary, DomainError, FieldError};

vocabulary! {
    EnterpriseKind {
        Company => "company",
        IndustrialPark => "industrial_park",
        Association => "association",
        Government => "government",
        Institution => "institution",
    }
}

/// An enterprise as stored and as shown to clients.
#[derive(Debug, Clone, Serialize)]
pub struct Enterprise {
    pub id: EnterpriseId,
    pub name: String,
    pub credit_code: Option<String>,
    pub kind: EnterpriseKind,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<EnterpriseId>,
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

/// The client-editable fields, as sent in a create body or after a merge patch.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseInput {
    pub name: Option<String>,
    pub credit_code: Option<String>,
    pub kind: Option<EnterpriseKind>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<EnterpriseId>,
}

/// Editable fields that passed every rule that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseFields {
    pub name: String,
    pub name_key: String,
    pub credit_code: Option<CreditCode>,
    pub kind: EnterpriseKind,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<EnterpriseId>,
}

impl EnterpriseFields {
    /// Checks a create body.
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(body, READ_ONLY, Self::parse)
    }

    /// Applies a merge patch to `current` and checks the result as a whole.
    pub fn from_patch(current: &Enterprise, patch: &Value) -> Result<Self, DomainError> {
        input::parse_patch(&current.input(), patch, READ_ONLY, Self::parse)
    }

    pub fn parse(input: EnterpriseInput) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let name = check.required_line("name", input.name, SHORT_TEXT);
        let credit_code = input
            .credit_code
            .filter(|c| !c.trim().is_empty())
            .and_then(|raw| {
                CreditCode::parse(&raw)
                    .map_err(|e| check.push("credit_code", "invalid_credit_code", e.to_string()))
                    .ok()
            });
        let fields = EnterpriseFields {
            name_key: name::key(&name),
            name,
            credit_code,
            kind: input.kind.unwrap_or(EnterpriseKind::Company),
            industry: check.optional_line("industry", input.industry, 100),
            region: check.optional_line("region", input.region, 100),
            address: check.optional_line("address", input.address, 500),
            website: check.web_url("website", input.website),
            description: check.optional_text("description", input.description, LONG_TEXT),
            parent_id: input.parent_id,
        };
        check.finish(fields)
    }
}

impl Enterprise {
    /// The editable fields as a client would send them.
    pub fn input(&self) -> EnterpriseInput {
        EnterpriseInput {
            name: Some(self.name.clone()),
            credit_code: self.credit_code.clone(),
            kind: Some(self.kind),
            industry: self.industry.clone(),
            region: self.region.clone(),
            address: self.address.clone(),
            website: self.website.clone(),
            description: self.description.clone(),
            parent_id: self.parent_id,
        }
    }
}

vocabulary! {
    /// What `GET /enterprises/{id}?include=` can embed.
    Include {
        Participants => "participants",
        Visits => "visits",
        OrderClasses => "order_classes",
        InternshipBases => "internship_bases",
        Agreements => "agreements",
        Members => "members",
        History => "history",
    }
}

/// How many records of each kind an enterprise's page embeds; `next` links the rest.
pub const EMBED_LIMIT: i64 = 20;

/// Query parameters of `GET /enterprises/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseGetParams {
    pub include: Option<String>,
}

impl Include {
    /// Parses `include=visits,members`: known names, each at most once.
    pub fn parse_list(raw: Option<&str>) -> Result<Vec<Include>, DomainError> {
        let mut includes = Vec::new();
        let mut errors = Vec::new();
        for name in raw
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match name.parse::<Include>() {
                Ok(include) if !includes.contains(&include) => includes.push(include),
                Ok(_) => {}
                Err(message) => errors.push(FieldError::new("include", "invalid_enum", message)),
            }
        }
        page::bad_request_unless_empty(errors, includes)
    }
}

/// An enterprise with what `include=` asked to embed.
#[derive(Debug, Serialize)]
pub struct EnterpriseView {
    #[serde(flatten)]
    pub enterprise: Enterprise,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<Embedded<Participant>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visits: Option<Embedded<Visit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_classes: Option<Embedded<OrderClass>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internship_bases: Option<Embedded<InternshipBase>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreements: Option<Embedded<Agreement>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Embedded<Enterprise>>,
    /// Its own audit trail, newest first (officers and admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Embedded<AuditEntry>>,
}

impl EnterpriseView {
    pub fn new(enterprise: Enterprise) -> Self {
        Self {
            enterprise,
            participants: None,
            visits: None,
            order_classes: None,
            internship_bases: None,
            agreements: None,
            members: None,
            history: None,
        }
    }
}

/// Query parameters of `DELETE /enterprises/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseArchiveParams {
    pub cascade: Option<String>,
}

impl EnterpriseArchiveParams {
    /// Whether to archive the enterprise's live records with it.
    pub fn cascade(&self) -> Result<bool, DomainError> {
        let mut errors = Vec::new();
        let cascade = page::parse_flag("cascade", self.cascade.as_deref(), &mut errors);
        page::bad_request_unless_empty(errors, cascade)
    }
}

vocabulary! {
    EnterpriseSort {
        Name => "name",
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
    }
}

impl SortKey for EnterpriseSort {
    const DEFAULT: Self = EnterpriseSort::CreatedAt;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Query parameters of `GET /enterprises`, as received.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseListParams {
    pub kind: Option<String>,
    pub stage: Option<String>,
    pub parent_id: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub q: Option<String>,
    pub include_archived: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked enterprise list request.
#[derive(Debug, Clone)]
pub struct EnterpriseFilter {
    pub kind: Option<EnterpriseKind>,
    pub stage: Option<Stage>,
    pub parent_id: Option<EnterpriseId>,
    pub industry: Option<String>,
    pub region: Option<String>,
    /// Normalised like a name key.
    pub q: Option<String>,
    pub include_archived: bool,
    pub page: PageRequest<EnterpriseSort>,
}

impl EnterpriseFilter {
    pub fn parse(params: &EnterpriseListParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let filter = EnterpriseFilter {
            kind: page::parse_param("kind", params.kind.as_deref(), "invalid_enum", &mut errors),
            stage: page::parse_param(
                "stage",
                params.stage.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            parent_id: page::parse_id_param("parent_id", params.parent_id.as_deref(), &mut errors),
            industry: params
                .industry
                .as_deref()
                .map(name::tidy)
                .filter(|s| !s.is_empty()),
            region: params
                .region
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
}

impl EnterpriseFilter {
    /// The live companies inside `parent`, by name: what a park's page embeds
    /// (continued by `?parent_id=…&sort=name`).
    pub fn members_of(parent: EnterpriseId, limit: i64) -> Self {
        EnterpriseFilter {
            kind: None,
            stage: None,
            parent_id: Some(parent),
            industry: None,
            region: None,
            q: None,
            include_archived: false,
            page: PageRequest {
                sort: Sort {
                    key: EnterpriseSort::Name,
                    descending: false,
                },
                limit,
                after: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn includes_are_known_names_each_once() {
        let includes = Include::parse_list(Some("visits, members,visits,,")).expect("valid");
        assert_eq!(includes, [Include::Visits, Include::Members]);
        assert!(Include::parse_list(None).expect("empty").is_empty());
        let Err(DomainError::BadRequest(errors)) = Include::parse_list(Some("visits,gossip"))
        else {
            panic!()
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("include", "invalid_enum")
        );
    }

    #[test]
    fn create_body_is_normalised() {
        let fields = EnterpriseFields::from_body(&json!({
            "name": "  Carbonbay   Chemical ",
            "credit_code": "9144030071526726xg",
            "website": "https://carbonbay.example.com",
            "industry": "   ",
        }))
        .expect("valid");
        assert_eq!(fields.name, "Carbonbay Chemical");
        assert_eq!(fields.name_key, "carbonbay chemical");
        assert_eq!(
            fields.credit_code.map(|c| c.to_string()).as_deref(),
            Some("9144030071526726XG")
        );
        assert_eq!(fields.kind, EnterpriseKind::Company);
        assert_eq!(fields.industry, None);
    }

    #[test]
    fn create_body_reports_all_bad_fields() {
        let err = EnterpriseFields::from_body(&json!({
            "name": "",
            "credit_code": "914403001922038217",
            "website": "javascript:alert(1)",
        }))
        .expect_err("invalid");
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "credit_code", "website"]);
    }

    #[test]
    fn type_errors_and_rule_errors_come_together() {
        let Err(DomainError::Invalid(errors)) = EnterpriseFields::from_body(
            &json!({"name": 5, "kind": "farm", "website": "x", "extra": 1}),
        ) else {
            panic!()
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("extra", "unknown_field"),
                ("kind", "invalid_enum"),
                ("name", "invalid_type"),
                ("website", "invalid_url")
            ]
        );
    }

    #[test]
    fn unknown_and_read_only_fields_are_named() {
        let Err(DomainError::Invalid(errors)) =
            EnterpriseFields::from_body(&json!({"name": "A", "nmae": "B"}))
        else {
            panic!()
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("nmae", "unknown_field")
        );
        let Err(DomainError::Invalid(errors)) =
            EnterpriseFields::from_body(&json!({"name": "A", "stage": "agreement"}))
        else {
            panic!()
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("stage", "read_only")
        );
        let Err(DomainError::Invalid(errors)) =
            EnterpriseFields::from_body(&json!({"name": "A", "kind": "farm"}))
        else {
            panic!()
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("kind", "invalid_enum")
        );
    }
}

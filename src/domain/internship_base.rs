//! Internship bases (实习基地): places at a partner enterprise where students train.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{EnterpriseId, InternshipBaseId};
use super::input::{self, Checker, LONG_TEXT, SHORT_TEXT};
use super::page::{self, PageRequest, SortKey};
use super::rfc3339;
use super::stage::Stage;
use super::transition::{self, InitialStage};
use super::{name, vocabulary, DomainError, FieldError};

/// Capacity and positions: any whole number a database INTEGER holds.
const COUNTS: std::ops::RangeInclusive<i32> = 0..=i32::MAX;

#[derive(Debug, Clone, Serialize)]
pub struct InternshipBase {
    pub id: InternshipBaseId,
    pub enterprise_id: EnterpriseId,
    pub name: String,
    pub location: Option<String>,
    /// How many students the base can host at once.
    pub capacity: i32,
    /// How many internship posts it offers now.
    pub positions: i32,
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
pub struct NewInternshipBase {
    pub fields: InternshipBaseFields,
    pub initial: Option<InitialStage>,
}

impl NewInternshipBase {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::expect_object(body, CREATE_READ_ONLY)?;
        let (rest, initial) = InitialStage::split(body);
        let fields = transition::naming_initial_members(input::decode_all(
            rest,
            InternshipBaseFields::parse,
        ));
        let (fields, initial) = transition::both(fields, initial)?;
        Ok(NewInternshipBase { fields, initial })
    }
}

/// The client-editable fields, as sent in a create body or after a merge patch.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternshipBaseInput {
    pub enterprise_id: Option<EnterpriseId>,
    pub name: Option<String>,
    pub location: Option<String>,
    pub capacity: Option<i64>,
    pub positions: Option<i64>,
    pub description: Option<String>,
}

/// Editable fields that passed every rule that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct InternshipBaseFields {
    pub enterprise_id: EnterpriseId,
    pub name: String,
    pub name_key: String,
    pub location: Option<String>,
    pub capacity: i32,
    pub positions: i32,
    pub description: Option<String>,
}

impl InternshipBaseFields {
    /// Checks a create body.
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(body, READ_ONLY, Self::parse)
    }

    /// Applies a merge patch to `current` and checks the result as a whole.
    pub fn from_patch(current: &InternshipBase, patch: &Value) -> Result<Self, DomainError> {
        input::parse_patch(&current.input(), patch, READ_ONLY, Self::parse)
    }

    pub fn parse(input: InternshipBaseInput) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let enterprise_id = input.enterprise_id.unwrap_or_else(|| {
            check.push(
                "enterprise_id",
                "required",
                "`enterprise_id` is required: the enterprise hosting the base",
            );
            EnterpriseId(uuid::Uuid::nil())
        });
        let name = check.required_line("name", input.name, SHORT_TEXT);
        let fields = InternshipBaseFields {
            enterprise_id,
            name_key: name::key(&name),
            name,
            location: check.optional_line("location", input.location, 500),
            capacity: check
                .whole_number("capacity", input.capacity, COUNTS)
                .unwrap_or(0),
            positions: check
                .whole_number("positions", input.positions, COUNTS)
                .unwrap_or(0),
            description: check.optional_text("description", input.description, LONG_TEXT),
        };
        check.finish(fields)
    }
}

impl InternshipBase {
    /// The editable fields as a client would send them.
    pub fn input(&self) -> InternshipBaseInput {
        InternshipBaseInput {
            enterprise_id: Some(self.enterprise_id),
            name: Some(self.name.clone()),
            location: self.location.clone(),
            capacity: Some(self.capacity.into()),
            positions: Some(self.positions.into()),
            description: self.description.clone(),
        }
    }
}

vocabulary! {
    InternshipBaseSort {
        Name => "name",
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
    }
}

impl SortKey for InternshipBaseSort {
    const DEFAULT: Self = InternshipBaseSort::CreatedAt;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Query parameters of `GET /internship-bases`, as received.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternshipBaseListParams {
    pub enterprise_id: Option<String>,
    pub stage: Option<String>,
    pub q: Option<String>,
    pub include_archived: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked internship base list request.
#[derive(Debug, Clone)]
pub struct InternshipBaseFilter {
    pub enterprise_id: Option<EnterpriseId>,
    pub stage: Option<Stage>,
    /// Normalised like a name key; matched against the name.
    pub q: Option<String>,
    pub include_archived: bool,
    pub page: PageRequest<InternshipBaseSort>,
}

impl InternshipBaseFilter {
    pub fn parse(params: &InternshipBaseListParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let filter = InternshipBaseFilter {
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

    /// The live internship bases of one enterprise, the first `limit` in the default
    /// order: what an enterprise's page embeds.
    pub fn for_enterprise(enterprise_id: EnterpriseId, limit: i64) -> Self {
        InternshipBaseFilter {
            enterprise_id: Some(enterprise_id),
            stage: None,
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
        match InternshipBaseFields::from_body(&body) {
            Err(DomainError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counts_default_to_zero_and_are_never_negative() {
        let fields = InternshipBaseFields::from_body(&json!({
            "enterprise_id": EnterpriseId::generate(),
            "name": "Carbonbay Joint Internship Training Base",
        }))
        .expect("valid");
        assert_eq!((fields.capacity, fields.positions), (0, 0));
        assert_eq!(
            codes(
                json!({"name": "", "capacity": -1, "positions": 1e3, "location": "l".repeat(501)})
            ),
            [
                ("positions".to_string(), "invalid_type"),
                ("enterprise_id".to_string(), "required"),
                ("name".to_string(), "required"),
                ("location".to_string(), "too_long"),
                ("capacity".to_string(), "out_of_range"),
            ]
        );
    }

    #[test]
    fn stage_and_unknown_fields_are_refused() {
        let id = EnterpriseId::generate();
        assert_eq!(
            codes(json!({"enterprise_id": id, "name": "A", "stage": "agreement"})),
            [("stage".to_string(), "read_only")]
        );
        assert_eq!(
            codes(json!({"enterprise_id": id, "name": "A", "beds": 3})),
            [("beds".to_string(), "unknown_field")]
        );
    }

    #[test]
    fn for_enterprise_is_the_first_live_page_of_one_enterprise() {
        let id = EnterpriseId::generate();
        let filter = InternshipBaseFilter::for_enterprise(id, 3);
        assert_eq!(filter.enterprise_id, Some(id));
        assert!(!filter.include_archived && filter.stage.is_none() && filter.q.is_none());
        assert_eq!(filter.page.limit, 3);
        assert_eq!(filter.page.sort.key, InternshipBaseSort::DEFAULT);
    }
}

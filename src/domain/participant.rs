//! People taking part in cooperation: the college's staff and the partners' people.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{EnterpriseId, ParticipantId};
use super::input::{self, Checker, LONG_TEXT};
use super::page::{self, PageRequest, Sort, SortKey};
use super::rfc3339;
use super::{name, vocabulary, DomainError, FieldError};

vocabulary! {
    /// Which side of the cooperation a person is on.
    Side {
        School => "school",
        Partner => "partner",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub full_name: String,
    pub side: Side,
    pub enterprise_id: Option<EnterpriseId>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    #[serde(serialize_with = "rfc3339::option")]
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    pub full_name: Option<String>,
    pub side: Option<Side>,
    pub enterprise_id: Option<EnterpriseId>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantFields {
    pub full_name: String,
    pub name_key: String,
    pub side: Side,
    pub enterprise_id: Option<EnterpriseId>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

/// Fields a client may not set.
pub const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "version", "archived_at"];

impl ParticipantFields {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(body, READ_ONLY, Self::parse)
    }

    pub fn from_patch(current: &Participant, patch: &Value) -> Result<Self, DomainError> {
        input::parse_patch(&current.input(), patch, READ_ONLY, Self::parse)
    }

    pub fn parse(input: ParticipantInput) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let full_name = check.required_line("full_name", input.full_name, 100);
        let side = input.side.unwrap_or_else(|| {
            check.push(
                "side",
                "required",
                format!("`side` is required: one of {}", Side::expected()),
            );
            Side::School
        });
        match (input.side, input.enterprise_id) {
            (Some(Side::Partner), None) => check.push(
                "enterprise_id",
                "required",
                "a partner-side participant must name the enterprise they belong to",
            ),
            (Some(Side::School), Some(_)) => check.push(
                "enterprise_id",
                "not_allowed",
                "a school-side participant does not belong to an enterprise",
            ),
            _ => {}
        }
        let fields = ParticipantFields {
            name_key: name::key(&full_name),
            full_name,
            side,
            enterprise_id: input.enterprise_id,
            title: check.optional_line("title", input.title, 100),
            department: check.optional_line("department", input.department, 100),
            email: check.email("email", input.email),
            phone: check.phone("phone", input.phone),
            notes: check.optional_text("notes", input.notes, LONG_TEXT),
        };
        check.finish(fields)
    }
}

impl Participant {
    pub fn input(&self) -> ParticipantInput {
        ParticipantInput {
            full_name: Some(self.full_name.clone()),
            side: Some(self.side),
            enterprise_id: self.enterprise_id,
            title: self.title.clone(),
            department: self.department.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            notes: self.notes.clone(),
        }
    }
}

vocabulary! {
    ParticipantSort {
        FullName => "full_name",
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
    }
}

impl SortKey for ParticipantSort {
    const DEFAULT: Self = ParticipantSort::CreatedAt;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantListParams {
    pub side: Option<String>,
    pub enterprise_id: Option<String>,
    pub q: Option<String>,
    pub include_archived: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ParticipantFilter {
    pub side: Option<Side>,
    pub enterprise_id: Option<EnterpriseId>,
    /// Normalised like a name key; matched against name, email and phone.
    pub q: Option<String>,
    pub include_archived: bool,
    pub page: PageRequest<ParticipantSort>,
}

impl ParticipantFilter {
    pub fn parse(params: &ParticipantListParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let filter = ParticipantFilter {
            side: page::parse_param("side", params.side.as_deref(), "invalid_enum", &mut errors),
            enterprise_id: page::parse_id_param(
                "enterprise_id",
                params.enterprise_id.as_deref(),
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
}

impl ParticipantFilter {
    /// The live people of one enterprise, by name: what its page embeds (continued
    /// by `?enterprise_id=…&sort=full_name`).
    pub fn for_enterprise(enterprise_id: EnterpriseId, limit: i64) -> Self {
        ParticipantFilter {
            side: None,
            enterprise_id: Some(enterprise_id),
            q: None,
            include_archived: false,
            page: PageRequest {
                sort: Sort {
                    key: ParticipantSort::FullName,
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

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        match ParticipantFields::from_body(&body) {
            Err(DomainError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn side_decides_whether_an_enterprise_is_needed() {
        let id = EnterpriseId::generate();
        assert_eq!(
            codes(json!({"full_name": "Li Wei", "side": "partner"})),
            [("enterprise_id".to_string(), "required")]
        );
        assert_eq!(
            codes(json!({"full_name": "Li Wei", "side": "school", "enterprise_id": id})),
            [("enterprise_id".to_string(), "not_allowed")]
        );
        assert!(ParticipantFields::from_body(
            &json!({"full_name": "Li Wei", "side": "partner", "enterprise_id": id})
        )
        .is_ok());
    }

    #[test]
    fn missing_name_and_side_are_both_reported() {
        assert_eq!(
            codes(json!({"email": "x"})),
            [
                ("full_name".to_string(), "required"),
                ("side".to_string(), "required"),
                ("email".to_string(), "invalid_email")
            ]
        );
    }
}

//! Stage transitions as the API sees them: the move request, the stored history
//! entry, and the initial stage a new order class or base may be created at.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{AgreementId, EnterpriseId, TransitionId, VisitId};
use super::input::{self, Checker, LONG_TEXT};
use super::rfc3339;
use super::stage::Stage;
use super::stage_machine::SubjectKind;
use super::{DomainError, FieldError};

/// `POST …/{id}/transitions` as received.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    pub to_stage: Option<Stage>,
    pub note: Option<String>,
    pub visit_id: Option<VisitId>,
    pub agreement_id: Option<AgreementId>,
    #[serde(default, deserialize_with = "input::instant::deserialize")]
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A checked move request; the rules that need the database come later.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionRequest {
    pub to_stage: Stage,
    pub note: Option<String>,
    pub visit_id: Option<VisitId>,
    pub agreement_id: Option<AgreementId>,
    /// `None` means now.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl TransitionRequest {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(body, &[], Self::parse)
    }

    fn parse(input: TransitionInput) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let to_stage = input.to_stage.unwrap_or_else(|| {
            check.push(
                "to_stage",
                "required",
                format!("`to_stage` is required: one of {}", Stage::expected()),
            );
            Stage::Intention
        });
        let note = check.optional_text("note", input.note, LONG_TEXT);
        check.finish(TransitionRequest {
            to_stage,
            note,
            visit_id: input.visit_id,
            agreement_id: input.agreement_id,
            // Both databases keep microseconds; keep what is stored and what is answered equal.
            occurred_at: input.occurred_at.map(|t| t.trunc_subsecs(6)),
        })
    }
}

/// The visit a transition cites.
#[derive(Debug, Clone, Serialize)]
pub struct VisitSummary {
    pub id: VisitId,
    pub title: String,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub starts_at: DateTime<Utc>,
}

/// The agreement a transition cites.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementSummary {
    pub id: AgreementId,
    pub title: String,
    pub number: Option<String>,
}

/// One stored stage move.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    pub id: TransitionId,
    pub subject_kind: SubjectKind,
    pub subject_id: uuid::Uuid,
    pub enterprise_id: EnterpriseId,
    /// `None` for the stage an item was created at.
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub occurred_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub recorded_at: DateTime<Utc>,
    /// Who made the move; always `None` until the API knows its users.
    pub actor: Option<String>,
    pub note: Option<String>,
    pub visit: Option<VisitSummary>,
    pub agreement: Option<AgreementSummary>,
}

/// The history of one item, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub items: Vec<Transition>,
}

/// The members of a create body that set the initial stage.
pub const INITIAL_MEMBERS: &[&str] = &[
    "stage",
    "stage_note",
    "stage_visit_id",
    "stage_agreement_id",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InitialStageInput {
    stage: Option<Stage>,
    stage_note: Option<String>,
    stage_visit_id: Option<VisitId>,
    stage_agreement_id: Option<AgreementId>,
}

/// The stage a new order class or base starts at, when not `intention`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialStage {
    pub stage: Stage,
    pub note: Option<String>,
    pub visit_id: Option<VisitId>,
    pub agreement_id: Option<AgreementId>,
}

impl InitialStage {
    /// Takes the initial-stage members out of a create body and checks them; the
    /// rest of the body is left for the resource's own decoding. `Ok(None)` when the
    /// item starts at `intention`.
    pub fn split(body: &Value) -> (Value, Result<Option<Self>, DomainError>) {
        let Value::Object(object) = body else {
            return (body.clone(), Ok(None));
        };
        let (stage, rest): (Map<String, Value>, Map<String, Value>) = object
            .clone()
            .into_iter()
            .partition(|(k, _)| INITIAL_MEMBERS.contains(&k.as_str()));
        let initial = input::decode_all(Value::Object(stage), Self::parse);
        (Value::Object(rest), initial)
    }

    fn parse(input: InitialStageInput) -> Result<Option<Self>, DomainError> {
        let mut check = Checker::new();
        let note = check.optional_text("stage_note", input.stage_note, LONG_TEXT);
        let stage = input.stage.unwrap_or(Stage::Intention);
        if stage == Stage::Intention {
            let evidence = [
                ("stage_note", note.is_some()),
                ("stage_visit_id", input.stage_visit_id.is_some()),
                ("stage_agreement_id", input.stage_agreement_id.is_some()),
            ];
            for (field, given) in evidence {
                if given {
                    check.push(
                        field,
                        "not_allowed",
                        format!("`{field}` goes with a `stage` other than `intention`"),
                    );
                }
            }
            return check.finish(None);
        }
        check.finish(Some(InitialStage {
            stage,
            note,
            visit_id: input.stage_visit_id,
            agreement_id: input.stage_agreement_id,
        }))
    }
}

/// The rest of a create body of an order class or base, decoded apart from the
/// initial-stage members: serde's message for an unknown member lists only the
/// resource's own fields, so the initial-stage members are added to it.
pub fn naming_initial_members<T>(result: Result<T, DomainError>) -> Result<T, DomainError> {
    result.map_err(|error| match error {
        DomainError::Invalid(mut errors) => {
            let members: Vec<String> = INITIAL_MEMBERS.iter().map(|m| format!("`{m}`")).collect();
            for error in errors.iter_mut().filter(|e| e.code == "unknown_field") {
                if error.message.contains("expected one of") {
                    error.message = format!("{}, {}", error.message, members.join(", "));
                }
            }
            DomainError::Invalid(errors)
        }
        other => other,
    })
}

/// Joins the errors of two independently checked parts of one body.
pub fn both<A, B>(
    a: Result<A, DomainError>,
    b: Result<B, DomainError>,
) -> Result<(A, B), DomainError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(DomainError::Invalid(mut x)), Err(DomainError::Invalid(y))) => {
            x.extend(y);
            Err(DomainError::Invalid(x))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The request member names a transition check reports against: a move names its
/// own members, a create body the `stage_…` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Members {
    Move,
    Create,
}

impl Members {
    pub fn name(self, member: &'static str) -> &'static str {
        match (self, member) {
            (Members::Create, "note") => "stage_note",
            (Members::Create, "visit_id") => "stage_visit_id",
            (Members::Create, "agreement_id") => "stage_agreement_id",
            (Members::Create, "occurred_at") => "stage",
            (_, other) => other,
        }
    }

    pub fn error(self, member: &'static str, code: &'static str, message: String) -> FieldError {
        FieldError::new(self.name(member), code, message)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn codes(result: Result<impl std::fmt::Debug, DomainError>) -> Vec<(String, &'static str)> {
        match result {
            Err(DomainError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_member_of_a_create_body_is_told_the_stage_members_too() {
        use crate::domain::ids::EnterpriseId;
        use crate::domain::internship_base::NewInternshipBase;
        use crate::domain::order_class::NewOrderClass;

        let body = json!({"enterprise_id": EnterpriseId::generate(), "name": "A", "zzz": 1});
        for (own, result) in [
            ("`name`", NewOrderClass::from_body(&body).map(drop)),
            ("`capacity`", NewInternshipBase::from_body(&body).map(drop)),
        ] {
            let Err(DomainError::Invalid(errors)) = result else {
                panic!("{own}: accepted");
            };
            assert_eq!(errors.len(), 1, "{own}");
            assert_eq!(
                (errors[0].field.as_str(), errors[0].code),
                ("zzz", "unknown_field")
            );
            for member in [
                own,
                "`stage`",
                "`stage_note`",
                "`stage_visit_id`",
                "`stage_agreement_id`",
            ] {
                assert!(errors[0].message.contains(member), "{}", errors[0].message);
            }
        }
    }

    #[test]
    fn a_move_needs_a_known_target() {
        assert_eq!(
            codes(TransitionRequest::from_body(&json!({}))),
            [("to_stage".to_string(), "required")]
        );
        assert_eq!(
            codes(TransitionRequest::from_body(
                &json!({"to_stage": "signed", "extra": 1, "note": "n".repeat(10_001)})
            )),
            [
                ("extra".to_string(), "unknown_field"),
                ("to_stage".to_string(), "invalid_enum"),
                ("note".to_string(), "too_long")
            ]
        );
        let ok = TransitionRequest::from_body(&json!({"to_stage": "negotiation", "note": "  after the visit ", "occurred_at": "2024-11-29T08:00:00.1234567Z"}))
            .expect("valid");
        assert_eq!(ok.note.as_deref(), Some("after the visit"));
        assert_eq!(
            ok.occurred_at.map(|t| t.timestamp_subsec_nanos()),
            Some(123_456_000)
        );
    }

    #[test]
    fn initial_stage_members_are_split_off() {
        let (rest, initial) =
            InitialStage::split(&json!({"name": "A", "stage": "negotiation", "stage_note": "n"}));
        assert_eq!(rest, json!({"name": "A"}));
        let initial = initial.expect("valid").expect("not intention");
        assert_eq!(
            (initial.stage, initial.note.as_deref()),
            (Stage::Negotiation, Some("n"))
        );
        let (_, none) = InitialStage::split(&json!({"name": "A"}));
        assert_eq!(none.expect("valid"), None);
        let (_, bad) = InitialStage::split(&json!({"stage": "intention", "stage_note": "n"}));
        assert_eq!(codes(bad), [("stage_note".to_string(), "not_allowed")]);
    }
}

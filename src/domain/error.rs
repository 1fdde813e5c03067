//! What can go wrong in the domain, independent of how it is reported.

use serde::Serialize;

use super::stage::Stage;

/// One rejected field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The request is well-formed but breaks one or more rules.
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    /// The request itself is malformed (a bad query parameter, cursor or body syntax).
    #[error("bad request")]
    BadRequest(Vec<FieldError>),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    /// The request clashes with the current state of the data.
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        /// The record the request clashes with, when there is one.
        existing_id: Option<String>,
    },
    /// `If-Match` named a version that is no longer current.
    #[error("the record is at version {current}, not the one in If-Match")]
    Stale { current: i64 },
    /// The stage machine does not allow this move from the current stage.
    #[error("{}", stage_not_allowed(*.current, *.to, .allowed))]
    StageNotAllowed {
        current: Stage,
        to: Stage,
        allowed: Vec<Stage>,
    },
}

fn stage_not_allowed(current: Stage, to: Stage, allowed: &[Stage]) -> String {
    let moves = if allowed.is_empty() {
        format!("`{current}` is final: no further move is allowed")
    } else {
        let list: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        format!(
            "from `{current}` the allowed moves are to: {}",
            list.join(", ")
        )
    };
    format!("cannot move from `{current}` to `{to}`; {moves}")
}

impl DomainError {
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }
}

//! The one error type of the HTTP layer, rendered as RFC 9457 problem+json.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use serde::Serialize;

use crate::db;
use crate::domain::access::{Forbidden, Role};
use crate::domain::stage::Stage;
use crate::domain::{DomainError, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying when the database is unavailable.
const RETRY_AFTER_SECONDS: &str = "2";

/// The challenge of every `401`.
const WWW_AUTHENTICATE: &str = "Bearer realm=\"liaison\"";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String, allowed: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The body is not of a media type the operation reads; says which it reads.
    #[error("the request body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// No usable token: missing, malformed, unknown, revoked or expired.
    #[error("{0}")]
    Unauthorized(String),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<db::Error> for ApiError {
    fn from(error: db::Error) -> Self {
        let lost = error.is_lost_connection();
        match error {
            db::Error::Domain(e) => ApiError::Domain(e),
            db::Error::Unavailable(e) => ApiError::Unavailable(e.to_string()),
            unwritten @ db::Error::Unwritten(_) => ApiError::Unavailable(unwritten.to_string()),
            db::Error::Query(QueryError::DatabaseError(kind, info)) => match kind {
                DatabaseErrorKind::UniqueViolation => ApiError::Domain(DomainError::Conflict {
                    code: "duplicate",
                    detail: "a record with the same unique values already exists".into(),
                    existing_id: None,
                }),
                DatabaseErrorKind::ForeignKeyViolation => ApiError::Domain(DomainError::invalid(
                    "",
                    "missing_reference",
                    "a referenced record does not exist",
                )),
                // A connection gone (the pool replaces it) or overload, like an
                // exhausted pool: the client may retry.
                _ if lost || db::is_busy(info.message()) => {
                    ApiError::Unavailable(info.message().to_string())
                }
                _ => ApiError::Internal(format!("database error: {}", info.message())),
            },
            db::Error::Query(QueryError::NotFound) => {
                ApiError::Internal("unexpected missing row".into())
            }
            other => ApiError::Internal(with_causes(&other)),
        }
    }
}

/// An error's message and its causes' (those that add to it): the log line of a
/// 500 should say what went wrong. diesel's error for a value it could not read,
/// for one, names the field and leaves the value and the reason to its cause.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = next.source();
    }
    message
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<&'a [Stage]>,
    /// For `403`: the role the operation needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    required_role: Option<Role>,
}

impl ApiError {
    /// (problem slug, title) of this error.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Domain(DomainError::Invalid(_)) => {
                ("validation", "The request breaks one or more rules")
            }
            ApiError::Domain(DomainError::BadRequest(_)) => {
                ("bad_request", "The request is malformed")
            }
            ApiError::Domain(DomainError::NotFound { .. }) => ("not_found", "No such record"),
            ApiError::Domain(DomainError::Conflict { code, .. }) => {
                (code, "The request conflicts with the current data")
            }
            ApiError::Domain(DomainError::Stale { .. }) => {
                ("stale", "The record has changed since it was read")
            }
            ApiError::Domain(DomainError::StageNotAllowed { .. }) => (
                "stage_not_allowed",
                "The stage move is not allowed from the current stage",
            ),
            ApiError::RouteNotFound { .. } => ("not_found", "No such resource"),
            ApiError::MethodNotAllowed { .. } => ("method_not_allowed", "Method not allowed"),
            ApiError::PayloadTooLarge { .. } => {
                ("payload_too_large", "The request body is too large")
            }
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported_media_type", "Unsupported media type")
            }
            ApiError::MalformedJson(_) => ("malformed_json", "The request body is not valid JSON"),
            ApiError::Unauthorized(_) => ("unauthorized", "A valid API token is needed"),
            ApiError::Forbidden(_) => ("forbidden", "The token's role does not allow this"),
            ApiError::Unavailable(_) => ("unavailable", "The service is temporarily unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Domain(DomainError::Invalid(errors) | DomainError::BadRequest(errors)) => {
                errors
                    .iter()
                    .map(|e| {
                        if e.field.is_empty() {
                            e.message.clone()
                        } else {
                            format!("{}: {}", e.field, e.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            // Never show clients database or internal messages; they are logged instead.
            ApiError::Unavailable(_) => "the database cannot be reached; retry shortly".into(),
            ApiError::Internal(_) => {
                "something went wrong on our side; the request id identifies it in the logs".into()
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Domain(DomainError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Domain(DomainError::BadRequest(_)) | ApiError::MalformedJson(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Domain(DomainError::NotFound { .. }) | ApiError::RouteNotFound { .. } => {
                StatusCode::NOT_FOUND
            }
            ApiError::Domain(DomainError::Conflict { .. })
            | ApiError::Domain(DomainError::StageNotAllowed { .. }) => StatusCode::CONFLICT,
            ApiError::Domain(DomainError::Stale { .. }) => StatusCode::PRECONDITION_FAILED,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Internal(message) => tracing::error!(error = %message, "request failed"),
            ApiError::Unavailable(message) => {
                tracing::warn!(error = %message, "database unavailable")
            }
            _ => {}
        }
        let (slug, title) = self.kind();
        let (errors, existing_id, current_version) = match self {
            ApiError::Domain(DomainError::Invalid(errors) | DomainError::BadRequest(errors)) => {
                (Some(errors.as_slice()), None, None)
            }
            ApiError::Domain(DomainError::Conflict { existing_id, .. }) => {
                (None, existing_id.as_deref(), None)
            }
            ApiError::Domain(DomainError::Stale { current }) => (None, None, Some(*current)),
            _ => (None, None, None),
        };
        let (current_stage, allowed) = match self {
            ApiError::Domain(DomainError::StageNotAllowed {
                current, allowed, ..
            }) => (Some(*current), Some(allowed.as_slice())),
            _ => (None, None),
        };
        let problem = Problem {
            kind: format!("/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            errors,
            existing_id,
            current_version,
            current_stage,
            allowed,
            required_role: match self {
                ApiError::Forbidden(f) => Some(f.needed),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.content_type(PROBLEM_JSON);
        match self {
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            ApiError::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, allowed.as_str()));
            }
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, WWW_AUTHENTICATE));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::Error as QueryError;

    use super::ApiError;
    use crate::db;

    #[test]
    fn an_internal_error_keeps_its_causes() {
        let unreadable = QueryError::DeserializationError("stored value \"x\": bad id".into());
        let ApiError::Internal(message) = ApiError::from(db::Error::Query(unreadable)) else {
            panic!("not an internal error");
        };
        assert_eq!(message, "database error: stored value \"x\": bad id");
        let corrupt = db::Error::Corrupt("visits.status = \"x\"".into());
        let ApiError::Internal(message) = ApiError::from(corrupt) else {
            panic!("not an internal error");
        };
        assert_eq!(message, "corrupt row: visits.status = \"x\"");
    }
}

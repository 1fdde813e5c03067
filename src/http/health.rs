//! Liveness and readiness probes, and the API document.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use super::AppState;

/// The contract, served as committed.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The process can reach its database.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.run(crate::db::ping).await.map_err(|e| match e {
        ApiError::Unavailable(_) => e,
        other => ApiError::Unavailable(other.to_string()),
    })?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(OPENAPI_YAML)
}

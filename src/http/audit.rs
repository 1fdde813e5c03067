//! `/api/v1/audit`: who changed what, newest first, for officers and admins.

use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::extract::Params;
use super::AppState;
use crate::db::access;
use crate::domain::access::{AuditFilter, AuditParams};

pub async fn list(
    state: web::Data<AppState>,
    params: Params<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = AuditFilter::parse(&params)?;
    let page = state
        .run(move |conn| access::audit_page(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

//! `/api/v1/enterprises`: list, create, get, merge-patch, archive, restore.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::extract::{parse_id, IfMatch, JsonBody};
use super::{created, record, AppState};
use crate::db::enterprises;
use crate::domain::enterprise::{EnterpriseFields, EnterpriseFilter, EnterpriseListParams};
use crate::domain::ids::EnterpriseId;

pub async fn list(
    state: web::Data<AppState>,
    params: web::Query<EnterpriseListParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = EnterpriseFilter::parse(&params)?;
    let page = state
        .run(move |conn| enterprises::list(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn create(state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let fields = EnterpriseFields::from_body(&body.0)?;
    let enterprise = state
        .run(move |conn| enterprises::create(conn, &fields))
        .await?;
    Ok(created(
        format!("/api/v1/enterprises/{}", enterprise.id),
        &enterprise,
    ))
}

pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let enterprise = state.run(move |conn| enterprises::get(conn, id)).await?;
    Ok(record(StatusCode::OK, &enterprise))
}

pub async fn update(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let enterprise = state
        .run(move |conn| enterprises::update(conn, id, &if_match.0, &body.0))
        .await?;
    Ok(record(StatusCode::OK, &enterprise))
}

pub async fn archive(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let enterprise = state
        .run(move |conn| enterprises::archive(conn, id, &if_match.0))
        .await?;
    Ok(record(StatusCode::OK, &enterprise))
}

pub async fn restore(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let enterprise = state
        .run(move |conn| enterprises::restore(conn, id, &if_match.0))
        .await?;
    Ok(record(StatusCode::OK, &enterprise))
}

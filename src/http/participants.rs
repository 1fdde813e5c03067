//! `/api/v1/participants`: list, create, get, merge-patch, archive, restore.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::extract::{parse_id, IfMatch, JsonBody};
use super::{created, record, AppState};
use crate::db::participants;
use crate::domain::ids::ParticipantId;
use crate::domain::participant::{ParticipantFields, ParticipantFilter, ParticipantListParams};

pub async fn list(
    state: web::Data<AppState>,
    params: web::Query<ParticipantListParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = ParticipantFilter::parse(&params)?;
    let page = state
        .run(move |conn| participants::list(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn create(state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let fields = ParticipantFields::from_body(&body.0)?;
    let participant = state
        .run(move |conn| participants::create(conn, &fields))
        .await?;
    Ok(created(
        format!("/api/v1/participants/{}", participant.id),
        &participant,
    ))
}

pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ParticipantId = parse_id(&id)?;
    let participant = state.run(move |conn| participants::get(conn, id)).await?;
    Ok(record(StatusCode::OK, &participant))
}

pub async fn update(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: ParticipantId = parse_id(&id)?;
    let participant = state
        .run(move |conn| participants::update(conn, id, &if_match.0, &body.0))
        .await?;
    Ok(record(StatusCode::OK, &participant))
}

pub async fn archive(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: ParticipantId = parse_id(&id)?;
    let participant = state
        .run(move |conn| participants::archive(conn, id, &if_match.0))
        .await?;
    Ok(record(StatusCode::OK, &participant))
}

pub async fn restore(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: ParticipantId = parse_id(&id)?;
    let participant = state
        .run(move |conn| participants::restore(conn, id, &if_match.0))
        .await?;
    Ok(record(StatusCode::OK, &participant))
}

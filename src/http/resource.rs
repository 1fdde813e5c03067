//! The six handlers every record resource has (list, create, get, merge-patch,
//! archive, restore), written once over `Resource`.

use std::fmt::Display;
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{parse_id, IfMatch, JsonBody};
use super::{created, record, AppState};
use crate::db::{self, DbConn};
use crate::domain::page::Page;
use crate::domain::{DomainError, Precondition};

/// A record resource: how its requests are checked and which queries serve it.
pub trait Resource: Serialize + Send + Sized + 'static {
    type Id: FromStr + Display + Copy + Send + 'static;
    /// Checked editable fields of a create body.
    type Fields: Send + 'static;
    /// List query parameters as received.
    type Params: DeserializeOwned + 'static;
    /// A checked list request.
    type Filter: Send + 'static;

    /// Collection path, e.g. `/api/v1/enterprises`.
    const PATH: &'static str;

    fn id(&self) -> Self::Id;
    fn version(&self) -> i64;
    fn filter(params: &Self::Params) -> Result<Self::Filter, DomainError>;
    fn fields(body: &Value) -> Result<Self::Fields, DomainError>;

    fn list(conn: &mut DbConn, filter: &Self::Filter) -> db::Result<Page<Self>>;
    fn create(conn: &mut DbConn, fields: &Self::Fields) -> db::Result<Self>;
    fn get(conn: &mut DbConn, id: Self::Id) -> db::Result<Self>;
    fn update(
        conn: &mut DbConn,
        id: Self::Id,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self>;
    fn archive(conn: &mut DbConn, id: Self::Id, if_match: &Precondition) -> db::Result<Self>;
    fn restore(conn: &mut DbConn, id: Self::Id, if_match: &Precondition) -> db::Result<Self>;
}

pub async fn list<R: Resource>(
    state: web::Data<AppState>,
    params: web::Query<R::Params>,
) -> Result<HttpResponse, ApiError> {
    let filter = R::filter(&params)?;
    let page = state.run(move |conn| R::list(conn, &filter)).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub async fn create<R: Resource>(
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let fields = R::fields(&body.0)?;
    let created_record = state.run(move |conn| R::create(conn, &fields)).await?;
    Ok(created(
        format!("{}/{}", R::PATH, created_record.id()),
        created_record.version(),
        &created_record,
    ))
}

pub async fn get<R: Resource>(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: R::Id = parse_id(&id)?;
    let found = state.run(move |conn| R::get(conn, id)).await?;
    Ok(record(StatusCode::OK, found.version(), &found))
}

pub async fn update<R: Resource>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: R::Id = parse_id(&id)?;
    let updated = state
        .run(move |conn| R::update(conn, id, &if_match.0, &body.0))
        .await?;
    Ok(record(StatusCode::OK, updated.version(), &updated))
}

pub async fn archive<R: Resource>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: R::Id = parse_id(&id)?;
    let archived = state
        .run(move |conn| R::archive(conn, id, &if_match.0))
        .await?;
    Ok(record(StatusCode::OK, archived.version(), &archived))
}

pub async fn restore<R: Resource>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: R::Id = parse_id(&id)?;
    let restored = state
        .run(move |conn| R::restore(conn, id, &if_match.0))
        .await?;
    Ok(record(StatusCode::OK, restored.version(), &restored))
}

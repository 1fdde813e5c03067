//! Bearer-token authentication of `/api/v1` routes, each with the role it needs, and
//! the `Actor` extractor through which handlers learn who is calling.

use std::future::{ready, Ready};

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use super::middleware::RequestId;
use super::AppState;
use crate::db::access::{self, Refusal};
use crate::domain::access::{Actor, Role};

/// Lets the request through when it carries a usable token whose role allows
/// `needed`, and records the caller for the handler.
pub async fn authorize(
    needed: Role,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match caller(needed, &req).await {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.call(req).await
        }
        // Answered here rather than returned as an error, so that the refusal goes
        // back out through the request-context middleware like any other response
        // and carries its `X-Request-Id` (an error would pass through it unheaded).
        Err(refusal) => Ok(req.error_response(refusal)),
    }
}

/// The caller of `req`, if its token is usable and its role allows `needed`.
async fn caller(needed: Role, req: &ServiceRequest) -> Result<Actor, ApiError> {
    let presented = match query_token(req, needed) {
        Some(token) => token,
        None => bearer(req)?,
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let token = state
        .run(move |conn| access::authenticate(conn, &presented))
        .await?
        .map_err(|refusal| {
            ApiError::Unauthorized(match refusal {
                Refusal::Unknown => "the token is not valid".into(),
                Refusal::Unusable(reason) => reason.into(),
            })
        })?;
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let actor = Actor {
        token_id: Some(token.id),
        name: token.name,
        role: token.role,
        request_id,
    };
    actor.require(needed)?;
    Ok(actor)
}

/// A `token=` in the query string, accepted only where a feed token may be used
/// (calendar clients cannot send headers) and only without an `Authorization` header.
fn query_token(req: &ServiceRequest, needed: Role) -> Option<String> {
    if needed != Role::Feed || req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    req.query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_string)
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(req: &ServiceRequest) -> Result<String, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let value = values.next().ok_or_else(|| {
        ApiError::Unauthorized(
            "this needs an API token: send `Authorization: Bearer <token>`".into(),
        )
    })?;
    if values.next().is_some() {
        return Err(ApiError::Unauthorized(
            "send one `Authorization` header, not several".into(),
        ));
    }
    let malformed =
        || ApiError::Unauthorized("the `Authorization` header must be `Bearer <token>`".into());
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(token.to_string())
}

/// Who is calling: set by `authorize` on every `/api/v1` route.
impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .ok_or_else(|| ApiError::Internal("a route without authentication".into())),
        )
    }
}

//! `/api/v1/tokens`: API tokens, for admins. The secret is in the answer to the
//! `POST` and nowhere else.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::error::ApiError;
use super::extract::{parse_id, JsonBody, NoParams};
use super::AppState;
use crate::db::access;
use crate::domain::access::{Actor, Token, TokenFields};
use crate::domain::ids::TokenId;

#[derive(Serialize)]
struct TokenList {
    items: Vec<Token>,
    next_cursor: Option<String>,
}

/// `GET /tokens`: every token, revoked and expired ones included, oldest first.
pub async fn list(state: web::Data<AppState>, _: NoParams) -> Result<HttpResponse, ApiError> {
    let items = state.run(access::list_tokens).await?;
    Ok(HttpResponse::Ok().json(TokenList {
        items,
        next_cursor: None,
    }))
}

/// `POST /tokens`: `201` with the token's secret, shown this once.
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    _: NoParams,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let fields = TokenFields::from_body(&body.0)?;
    let issued = state
        .write(move |conn| access::create_token(conn, &fields, &actor))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tokens/{}", issued.token.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(issued))
}

/// `DELETE /tokens/{id}`: revokes the token at once; it stays listed.
pub async fn revoke(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    _: NoParams,
) -> Result<HttpResponse, ApiError> {
    let id: TokenId = parse_id(&id)?;
    let revoked = state
        .write(move |conn| access::revoke_token(conn, id, &actor))
        .await?;
    state.tokens.forget(id);
    Ok(HttpResponse::Ok().json(revoked))
}

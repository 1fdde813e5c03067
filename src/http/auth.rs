//! Bearer-token authentication of `/api/v1` routes, each with the role it needs, and
//! the `Actor` extractor through which handlers learn who is calling.

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use super::middleware::RequestId;
use super::AppState;
use crate::db::access::{self, Refusal};
use crate::domain;
use crate::domain::access::{self as tokens, Actor, Role, Token};
use crate::domain::ids::TokenId;

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
    let in_query = query_token(req, needed)?;
    let from_query = in_query.is_some();
    let presented = match in_query {
        Some(token) => token,
        None => bearer(req)?,
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let token = match state.tokens.recall(&presented) {
        Some(token) => token,
        None => {
            let checked = presented.clone();
            let token = state
                .run(move |conn| access::authenticate(conn, &checked))
                .await?
                .map_err(|refusal| {
                    ApiError::Unauthorized(match refusal {
                        Refusal::Unknown => "the token is not valid".into(),
                        Refusal::Unusable(reason) => reason.into(),
                    })
                })?;
            state.tokens.remember(&presented, &token);
            token
        }
    };
    if from_query && token.role != Role::Feed {
        // A URL ends up in logs and calendar apps: no secret that can do more than
        // read the feed belongs there.
        return Err(ApiError::Unauthorized(format!(
            "only a `feed` token may be sent as `?token=`; send this `{}` token as `Authorization: Bearer <token>`",
            token.role
        )));
    }
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
fn query_token(req: &ServiceRequest, needed: Role) -> Result<Option<String>, ApiError> {
    if needed != Role::Feed || req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(None);
    }
    let mut tokens = req
        .query_string()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("token="));
    let first = tokens.next().map(str::to_string);
    if tokens.next().is_some() {
        return Err(ApiError::Unauthorized(
            "send one `token`, not several".into(),
        ));
    }
    Ok(first)
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

/// How long a token checked against the database is taken on trust by this process.
/// A revocation made through this process's API applies at once; one made by another
/// process (another `liaison serve`, or `liaison token revoke`) within this time.
const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// More tokens than a college has; past it the cache starts afresh.
const CACHE_CAPACITY: usize = 4096;

/// Tokens this process has found usable in the database within the last
/// `RECHECK_AFTER`, so that a burst of requests with one token costs one database
/// read rather than one each (and no trip to the blocking pool). Only successes are
/// kept: an unknown or refused token is looked up every time.
#[derive(Default)]
pub struct TokenCache {
    checked: RwLock<HashMap<TokenId, Checked>>,
}

struct Checked {
    hash: String,
    token: Token,
    at: Instant,
}

impl TokenCache {
    /// The token `presented` names, if it was found usable a moment ago, its secret
    /// matches, and it has not expired since.
    fn recall(&self, presented: &str) -> Option<Token> {
        let id = tokens::claimed_id(presented)?;
        let checked = self.checked.read().ok()?;
        let entry = checked.get(&id)?;
        let usable = entry.at.elapsed() < RECHECK_AFTER
            && tokens::matches(presented, &entry.hash)
            && entry.token.refusal(domain::now()).is_none();
        usable.then(|| entry.token.clone())
    }

    /// Notes that `presented` was found usable in the database just now.
    fn remember(&self, presented: &str, token: &Token) {
        let Ok(mut checked) = self.checked.write() else {
            return;
        };
        if checked.len() >= CACHE_CAPACITY {
            checked.clear();
        }
        checked.insert(
            token.id,
            Checked {
                hash: tokens::hash(presented),
                token: token.clone(),
                at: Instant::now(),
            },
        );
    }

    /// Stops trusting the token `id`, when this process has just revoked it.
    pub fn forget(&self, id: TokenId) {
        if let Ok(mut checked) = self.checked.write() {
            checked.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::new_secret;

    fn token(id: TokenId, expires_at: Option<chrono::DateTime<chrono::Utc>>) -> Token {
        Token {
            id,
            name: "dashboard".into(),
            role: Role::Viewer,
            created_at: domain::now(),
            last_used_at: None,
            expires_at,
            revoked_at: None,
        }
    }

    #[test]
    fn a_remembered_token_is_recalled_only_with_its_own_secret() {
        let cache = TokenCache::default();
        let id = TokenId::generate();
        let (secret, _) = new_secret(id).expect("random bytes");
        assert_eq!(
            cache.recall(&secret),
            None,
            "nothing is trusted before a check"
        );
        cache.remember(&secret, &token(id, None));
        assert_eq!(cache.recall(&secret).map(|t| t.id), Some(id));
        // Another secret claiming the same id is not the token.
        let (forged, _) = new_secret(id).expect("random bytes");
        assert_eq!(cache.recall(&forged), None);
        cache.forget(id);
        assert_eq!(cache.recall(&secret), None, "a revoked token is forgotten");
    }

    #[test]
    fn a_token_is_trusted_for_a_moment_and_never_past_its_expiry() {
        let cache = TokenCache::default();
        let id = TokenId::generate();
        let (secret, _) = new_secret(id).expect("random bytes");
        cache.remember(&secret, &token(id, Some(domain::now())));
        assert_eq!(cache.recall(&secret), None, "expired since it was checked");
        cache.remember(&secret, &token(id, None));
        if let Ok(mut checked) = cache.checked.write() {
            if let Some(entry) = checked.get_mut(&id) {
                entry.at = entry
                    .at
                    .checked_sub(RECHECK_AFTER)
                    .expect("an earlier instant");
            }
        }
        assert_eq!(cache.recall(&secret), None, "checked too long ago");
    }
}

//! `/api/v1/{enterprises|order-classes|internship-bases}/{id}/transitions`: stage
//! moves and their history, one pair of handlers for the three kinds.

use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{parse_id, IfMatch, JsonBody, NoParams};
use super::{record, AppState};
use crate::db::access;
use crate::db::transitions::{self, Staged};
use crate::domain::access::{Actor, AuditAction};
use crate::domain::transition::{History, Transition, TransitionRequest};

/// The answer to a move: the stored transition and the item at its new stage,
/// under the item's kind (`enterprise`, `order_class`, `internship_base`).
#[derive(Serialize)]
#[serde(bound = "R: Staged + Serialize")]
struct Moved<R> {
    transition: Transition,
    #[serde(flatten)]
    item: Item<R>,
}

struct Item<R>(R);

impl<R: Staged + Serialize> Serialize for Item<R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(R::SUBJECT.as_str(), &self.0)?;
        map.end()
    }
}

/// `POST …/{id}/transitions`: `201` with the transition and the updated item; the
/// `ETag` is the item's new version.
pub(crate) async fn create<R>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    _: NoParams,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError>
where
    R: Staged + Serialize + Send + 'static,
    R::Id: FromStr + Send + 'static,
{
    let id: R::Id = parse_id(&id)?;
    let request = TransitionRequest::from_body(&body.0)?;
    let (transition, item) = state
        .write(move |conn| {
            let (transition, item, entered_at) =
                transitions::record::<R>(conn, id, &if_match.0, &request, Some(&actor.name))?;
            let changes = json!({
                "stage": {"old": transition.from_stage, "new": transition.to_stage},
                "stage_changed_at": {"old": entered_at, "new": transition.occurred_at},
            });
            access::record(
                conn,
                &actor,
                AuditAction::Move,
                R::SUBJECT.into(),
                &id.to_string(),
                &changes,
            )?;
            Ok((transition, item))
        })
        .await?;
    let version = item.version();
    Ok(record(
        StatusCode::CREATED,
        version,
        &Moved {
            transition,
            item: Item(item),
        },
    ))
}

/// `GET …/{id}/transitions`: the whole history, oldest first.
pub(crate) async fn list<R>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    _: NoParams,
) -> Result<HttpResponse, ApiError>
where
    R: Staged + Send + 'static,
    R::Id: FromStr + Send + 'static,
{
    let id: R::Id = parse_id(&id)?;
    let items = state
        .run(move |conn| transitions::history::<R>(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(History { items }))
}

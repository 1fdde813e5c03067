//! The six handlers every record resource has (list, create, get, merge-patch,
//! archive, restore), written once over `Resource`.

use std::fmt::Display;
use std::str::FromStr;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;
use super::extract::{parse_id, IfMatch, JsonBody, NoParams, Params};
use super::{created, record, AppState};
use crate::db::lifecycle::{self, Archivable};
use crate::db::{self, access, DbConn};
use crate::domain::access::{
    self as rules, Actor, AuditAction, AuditEntry, AuditFilter, EntityKind, Role, HISTORY_LIMIT,
};
use crate::domain::page::{Embedded, Page};
use crate::domain::{DomainError, Precondition};
use crate::export::{self, Format};

/// A record resource: how its requests are checked and which queries serve it.
pub trait Resource: Serialize + Send + Sized + 'static {
    type Id: FromStr + Display + Copy + Send + From<uuid::Uuid> + 'static;
    /// Checked editable fields of a create body.
    type Fields: Send + 'static;
    /// List query parameters as received.
    type Params: DeserializeOwned + 'static;
    /// A checked list request.
    type Filter: Send + 'static;

    /// Collection path, e.g. `/api/v1/enterprises`.
    const PATH: &'static str;
    /// Its kind in the audit trail.
    const ENTITY: EntityKind;
    /// Its members, in the order exports write them as columns.
    const COLUMNS: &'static [&'static str];

    fn id(&self) -> Self::Id;
    fn version(&self) -> i64;
    fn filter(params: &Self::Params) -> Result<Self::Filter, DomainError>;
    fn fields(body: &Value) -> Result<Self::Fields, DomainError>;
    /// Moves a list request on to the page after `cursor` (a `next_cursor`).
    fn next_page(filter: &mut Self::Filter, cursor: &str) -> Result<(), DomainError>;

    fn list(conn: &mut DbConn, filter: &Self::Filter) -> db::Result<Page<Self>>;
    /// Creates the record under `id` (new, or kept from an import file); `actor` is
    /// recorded on the first stage transition of an item created at a later stage.
    fn create(
        conn: &mut DbConn,
        id: Self::Id,
        fields: &Self::Fields,
        actor: &Actor,
    ) -> db::Result<Self>;
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

/// Handlers need the row lock and the record's audit kind as well.
pub(crate) trait Audited: Resource + Archivable<Id = <Self as Resource>::Id> {}
impl<R: Resource + Archivable<Id = <R as Resource>::Id>> Audited for R {}

pub(crate) async fn list<R: Resource>(
    state: web::Data<AppState>,
    params: Params<R::Params>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if wants_csv(&req) {
        return csv_export::<R>(state, req).await;
    }
    let filter = R::filter(&params)?;
    let page = state.run(move |conn| R::list(conn, &filter)).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub(crate) async fn create<R: Audited>(
    state: web::Data<AppState>,
    actor: Actor,
    _: NoParams,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let fields = R::fields(&body.0)?;
    let created_record = state
        .write(move |conn| {
            let created = R::create(conn, new_id::<R>(), &fields, &actor)?;
            audit(conn, &actor, AuditAction::Create, None, &created)?;
            Ok(created)
        })
        .await?;
    Ok(created(
        format!("{}/{}", R::PATH, created_record.id()),
        Resource::version(&created_record),
        &created_record,
    ))
}

/// A new time-ordered (v7) id for a record of `R`.
pub(crate) fn new_id<R: Resource>() -> R::Id {
    R::Id::from(uuid::Uuid::now_v7())
}

/// Whether the client asked for CSV rather than JSON (`Accept: text/csv`): CSV
/// when the client accepts it at least as much (by `q`, RFC 9110 12.5.1) as any
/// type JSON would satisfy; JSON otherwise.
fn wants_csv(req: &HttpRequest) -> bool {
    let (mut csv, mut json) = (0.0_f32, 0.0_f32);
    for accept in req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
    {
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "text/csv" => csv = csv.max(q),
                "application/json" | "application/*" | "*/*" => json = json.max(q),
                _ => {}
            }
        }
    }
    csv > 0.0 && csv >= json
}

/// The whole list as CSV, streamed page by page from one connection, so that memory
/// stays bounded however many records match. `limit` does not apply.
async fn csv_export<R: Resource>(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut query: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    if query.iter().any(|p| p.starts_with("limit=")) {
        return Err(DomainError::BadRequest(vec![crate::domain::FieldError::new(
            "limit",
            "unknown_parameter",
            "a CSV export has every matching record: `limit` does not apply",
        )])
        .into());
    }
    let limit = format!("limit={}", crate::domain::page::MAX_LIMIT);
    query.push(&limit);
    let params = Params::<R::Params>::from_query(&query.join("&"))?;
    let filter = R::filter(&params)?;
    // The connection is taken before answering, so that a busy pool is still a 503.
    let pool = state.pool.clone();
    let mut conn = web::block(move || pool.get())
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
        .map_err(|e| ApiError::from(db::Error::from(e)))?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    actix_web::rt::task::spawn_blocking(move || {
        let writer = export::ChannelWriter::new(tx);
        if let Err(error) = export::write_all::<R>(&mut conn, filter, Format::Csv, writer, |_| {}) {
            // The status line is sent already: the client sees the body cut short.
            tracing::warn!(%error, "CSV export stopped");
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .streaming(export::ChunkStream(rx)))
}

/// `?include=history` on a record's `GET`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    pub include: Option<String>,
}

/// A record with its own audit trail when `include=history` asked for it.
#[derive(Serialize)]
struct WithHistory<R> {
    #[serde(flatten)]
    record: R,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Embedded<AuditEntry>>,
}

pub(crate) async fn get<R: Audited>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    params: Params<GetParams>,
) -> Result<HttpResponse, ApiError> {
    let id: <R as Resource>::Id = parse_id(&id)?;
    let with_history = rules::wants_history(params.include.as_deref())?;
    if with_history {
        actor.require(Role::Officer)?;
    }
    let (found, history) = if with_history {
        state
            .run(move |conn| Ok((R::get(conn, id)?, Some(history_of(conn, R::ENTITY, &id)?))))
            .await?
    } else {
        (state.run_quick(move |conn| R::get(conn, id)).await?, None)
    };
    let version = Resource::version(&found);
    Ok(record(
        StatusCode::OK,
        version,
        &WithHistory {
            record: found,
            history,
        },
    ))
}

/// The newest entries of a record's audit trail, linking the rest.
pub(crate) fn history_of(
    conn: &mut DbConn,
    kind: EntityKind,
    id: &impl Display,
) -> db::Result<Embedded<AuditEntry>> {
    let page = access::audit_page(conn, &AuditFilter::of_record(kind, id, HISTORY_LIMIT))?;
    Ok(Embedded::new(
        page,
        &format!("/api/v1/audit?entity_kind={kind}&entity_id={id}"),
    ))
}

pub(crate) async fn update<R: Audited>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    _: NoParams,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id: <R as Resource>::Id = parse_id(&id)?;
    let updated = state
        .write(move |conn| {
            change::<R>(conn, id, &actor, AuditAction::Update, |conn| {
                R::update(conn, id, &if_match.0, &body.0)
            })
        })
        .await?;
    Ok(record(
        StatusCode::OK,
        Resource::version(&updated),
        &updated,
    ))
}

pub(crate) async fn archive<R: Audited>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    _: NoParams,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: <R as Resource>::Id = parse_id(&id)?;
    let archived = state
        .write(move |conn| {
            change::<R>(conn, id, &actor, AuditAction::Archive, |conn| {
                R::archive(conn, id, &if_match.0)
            })
        })
        .await?;
    Ok(record(
        StatusCode::OK,
        Resource::version(&archived),
        &archived,
    ))
}

pub(crate) async fn restore<R: Audited>(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    _: NoParams,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id: <R as Resource>::Id = parse_id(&id)?;
    let restored = state
        .write(move |conn| {
            change::<R>(conn, id, &actor, AuditAction::Restore, |conn| {
                R::restore(conn, id, &if_match.0)
            })
        })
        .await?;
    Ok(record(
        StatusCode::OK,
        Resource::version(&restored),
        &restored,
    ))
}

/// Runs `apply` on a locked record and writes the audit entry of what it changed,
/// all in one transaction; a change that changes nothing leaves no entry.
pub(crate) fn change<R: Audited>(
    conn: &mut DbConn,
    id: <R as Resource>::Id,
    actor: &Actor,
    action: AuditAction,
    apply: impl FnOnce(&mut DbConn) -> db::Result<R>,
) -> db::Result<R> {
    db::write(conn, |conn| {
        let before: R = lifecycle::lock(conn, id, &Precondition::Any)?;
        let after = apply(conn)?;
        if Resource::version(&after) != Resource::version(&before) {
            audit(conn, actor, action, Some(&before), &after)?;
        }
        Ok(after)
    })
}

/// Writes the audit entry of a change from `before` (`None`: created) to `after`.
pub(crate) fn audit<R: Resource>(
    conn: &mut DbConn,
    actor: &Actor,
    action: AuditAction,
    before: Option<&R>,
    after: &R,
) -> db::Result<()> {
    let before = before.map(|b| serde_json::to_value(b).unwrap_or_default());
    let after_value = serde_json::to_value(after).unwrap_or_default();
    access::record(
        conn,
        actor,
        action,
        R::ENTITY,
        &after.id().to_string(),
        &rules::changes(before.as_ref(), &after_value),
    )
}

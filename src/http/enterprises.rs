//! `/api/v1/enterprises`: partner enterprises. `GET` (with `include=`), `DELETE`
//! (with `cascade=`) and the timeline have handlers of their own; the rest are the
//! shared ones.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{parse_id, IfMatch, Params};
use super::resource::{self, history_of, Resource};
use super::{record, AppState};
use crate::db::{
    self, access, agreements, enterprises, internship_bases, order_classes, participants, visits,
    DbConn,
};
use crate::domain::access::{Actor, AuditAction, EntityKind, Role};
use crate::domain::agreement::AgreementFilter;
use crate::domain::enterprise::{
    Enterprise, EnterpriseArchiveParams, EnterpriseFields, EnterpriseFilter, EnterpriseGetParams,
    EnterpriseListParams, EnterpriseView, Include, EMBED_LIMIT,
};
use crate::domain::ids::EnterpriseId;
use crate::domain::internship_base::InternshipBaseFilter;
use crate::domain::order_class::OrderClassFilter;
use crate::domain::page::{Embedded, Page};
use crate::domain::participant::ParticipantFilter;
use crate::domain::timeline::{TimelineFilter, TimelineParams};
use crate::domain::visit::VisitFilter;
use crate::domain::{DomainError, Precondition};

/// `GET /enterprises/{id}?include=…`: the enterprise and, for each include, its first
/// live records (one query per include) with a link to the rest.
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    params: Params<EnterpriseGetParams>,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let includes = Include::parse_list(params.include.as_deref())?;
    if includes.contains(&Include::History) {
        actor.require(Role::Officer)?;
    }
    let plain = includes.is_empty();
    let build = move |conn: &mut DbConn| {
        let mut view = EnterpriseView::new(enterprises::get(conn, id)?);
        for include in includes {
            match include {
                Include::Participants => {
                    let page = participants::list(
                        conn,
                        &ParticipantFilter::for_enterprise(id, EMBED_LIMIT),
                    )?;
                    let list = format!("/api/v1/participants?enterprise_id={id}&sort=full_name");
                    view.participants = Some(Embedded::new(page, &list));
                }
                Include::Visits => {
                    let page = visits::list(conn, &VisitFilter::for_enterprise(id, EMBED_LIMIT))?;
                    view.visits = Some(Embedded::new(
                        page,
                        &format!("/api/v1/visits?enterprise_id={id}"),
                    ));
                }
                Include::OrderClasses => {
                    let page = order_classes::list(
                        conn,
                        &OrderClassFilter::for_enterprise(id, EMBED_LIMIT),
                    )?;
                    let list = format!("/api/v1/order-classes?enterprise_id={id}");
                    view.order_classes = Some(Embedded::new(page, &list));
                }
                Include::InternshipBases => {
                    let filter = InternshipBaseFilter::for_enterprise(id, EMBED_LIMIT);
                    let page = internship_bases::list(conn, &filter)?;
                    let list = format!("/api/v1/internship-bases?enterprise_id={id}");
                    view.internship_bases = Some(Embedded::new(page, &list));
                }
                Include::Agreements => {
                    let page =
                        agreements::list(conn, &AgreementFilter::for_enterprise(id, EMBED_LIMIT))?;
                    view.agreements = Some(Embedded::new(
                        page,
                        &format!("/api/v1/agreements?enterprise_id={id}"),
                    ));
                }
                Include::History => {
                    view.history = Some(history_of(conn, EntityKind::Enterprise, &id)?);
                }
                Include::Members => {
                    let page =
                        enterprises::list(conn, &EnterpriseFilter::members_of(id, EMBED_LIMIT))?;
                    view.members = Some(Embedded::new(
                        page,
                        &format!("/api/v1/enterprises?parent_id={id}&sort=name"),
                    ));
                }
            }
        }
        Ok(view)
    };
    // Alone, the enterprise is one lookup by its id.
    let view = if plain {
        state.run_quick(build).await?
    } else {
        state.run(build).await?
    };
    Ok(record(StatusCode::OK, view.enterprise.version, &view))
}

/// `GET /enterprises/{id}/timeline`: visits, stage moves and agreement dates, newest
/// first, one page at a time.
pub async fn timeline(
    state: web::Data<AppState>,
    id: web::Path<String>,
    params: Params<TimelineParams>,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let filter = TimelineFilter::parse(&params)?;
    let page = state
        .run(move |conn| db::timeline::page(conn, id, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `DELETE /enterprises/{id}?cascade=true`: archives the enterprise, and with
/// `cascade` its live people, order classes, bases and agreements too.
pub async fn archive(
    state: web::Data<AppState>,
    id: web::Path<String>,
    actor: Actor,
    if_match: IfMatch,
    params: Params<EnterpriseArchiveParams>,
) -> Result<HttpResponse, ApiError> {
    let id: EnterpriseId = parse_id(&id)?;
    let cascade = params.cascade()?;
    let archived = state
        .write(move |conn| {
            let mut cascaded = Vec::new();
            let archived =
                resource::change::<Enterprise>(conn, id, &actor, AuditAction::Archive, |conn| {
                    let (archived, children) =
                        enterprises::archive(conn, id, &if_match.0, cascade)?;
                    cascaded = children;
                    Ok(archived)
                })?;
            // Each record archived with it has an entry of its own, naming why.
            let at = archived.archived_at;
            for (kind, child) in cascaded {
                let changes = json!({
                    "archived_at": {"old": null, "new": at},
                    "archived_with": {"old": null, "new": id},
                });
                access::record(conn, &actor, AuditAction::Archive, kind, &child, &changes)?;
            }
            Ok(archived)
        })
        .await?;
    Ok(record(StatusCode::OK, archived.version, &archived))
}

impl Resource for Enterprise {
    type Id = EnterpriseId;
    type Fields = EnterpriseFields;
    type Params = EnterpriseListParams;
    type Filter = EnterpriseFilter;

    const PATH: &'static str = "/api/v1/enterprises";
    const ENTITY: EntityKind = EntityKind::Enterprise;
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "name",
        "credit_code",
        "kind",
        "industry",
        "region",
        "address",
        "website",
        "description",
        "parent_id",
        "stage",
        "stage_changed_at",
        "created_at",
        "updated_at",
        "version",
        "archived_at",
    ];

    fn id(&self) -> EnterpriseId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &EnterpriseListParams) -> Result<EnterpriseFilter, DomainError> {
        EnterpriseFilter::parse(params)
    }

    fn next_page(filter: &mut EnterpriseFilter, cursor: &str) -> Result<(), DomainError> {
        filter.page.continue_from(cursor)
    }

    fn fields(body: &Value) -> Result<EnterpriseFields, DomainError> {
        EnterpriseFields::from_body(body)
    }

    fn list(conn: &mut DbConn, filter: &EnterpriseFilter) -> db::Result<Page<Self>> {
        enterprises::list(conn, filter)
    }

    fn create(
        conn: &mut DbConn,
        id: EnterpriseId,
        fields: &EnterpriseFields,
        _actor: &Actor,
    ) -> db::Result<Self> {
        enterprises::create(conn, id, fields)
    }

    fn get(conn: &mut DbConn, id: EnterpriseId) -> db::Result<Self> {
        enterprises::get(conn, id)
    }

    fn update(
        conn: &mut DbConn,
        id: EnterpriseId,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self> {
        enterprises::update(conn, id, if_match, patch)
    }

    fn archive(conn: &mut DbConn, id: EnterpriseId, if_match: &Precondition) -> db::Result<Self> {
        enterprises::archive(conn, id, if_match, false).map(|(archived, _)| archived)
    }

    fn restore(conn: &mut DbConn, id: EnterpriseId, if_match: &Precondition) -> db::Result<Self> {
        enterprises::restore(conn, id, if_match)
    }
}

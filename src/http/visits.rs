//! `/api/v1/visits`: visits with their enterprises, participants and discussed items,
//! served by the shared record handlers.

use serde_json::Value;

use super::resource::Resource;
use crate::db::{self, visits, DbConn};
use crate::domain::access::{Actor, EntityKind};
use crate::domain::ids::VisitId;
use crate::domain::page::Page;
use crate::domain::visit::{Visit, VisitFields, VisitFilter, VisitListParams};
use crate::domain::{self, DomainError, Precondition};

impl Resource for Visit {
    type Id = VisitId;
    type Fields = VisitFields;
    type Params = VisitListParams;
    type Filter = VisitFilter;

    const PATH: &'static str = "/api/v1/visits";
    const ENTITY: EntityKind = EntityKind::Visit;
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "title",
        "starts_at",
        "ends_at",
        "direction",
        "location",
        "purpose",
        "summary",
        "outcome",
        "follow_up",
        "follow_up_due",
        "status",
        "enterprises",
        "participants",
        "order_classes",
        "internship_bases",
        "created_at",
        "updated_at",
        "version",
        "archived_at",
    ];

    fn id(&self) -> VisitId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &VisitListParams) -> Result<VisitFilter, DomainError> {
        VisitFilter::parse(params)
    }

    fn next_page(filter: &mut VisitFilter, cursor: &str) -> Result<(), DomainError> {
        filter.page.continue_from(cursor)
    }

    fn fields(body: &Value) -> Result<VisitFields, DomainError> {
        VisitFields::from_body(body, domain::now())
    }

    fn list(conn: &mut DbConn, filter: &VisitFilter) -> db::Result<Page<Self>> {
        visits::list(conn, filter)
    }

    fn create(
        conn: &mut DbConn,
        id: VisitId,
        fields: &VisitFields,
        _actor: &Actor,
    ) -> db::Result<Self> {
        visits::create(conn, id, fields)
    }

    fn get(conn: &mut DbConn, id: VisitId) -> db::Result<Self> {
        visits::get(conn, id)
    }

    fn update(
        conn: &mut DbConn,
        id: VisitId,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self> {
        visits::update(conn, id, if_match, patch)
    }

    fn archive(conn: &mut DbConn, id: VisitId, if_match: &Precondition) -> db::Result<Self> {
        visits::archive(conn, id, if_match)
    }

    fn restore(conn: &mut DbConn, id: VisitId, if_match: &Precondition) -> db::Result<Self> {
        visits::restore(conn, id, if_match)
    }
}

//! `/api/v1/internship-bases`: internship bases (实习基地) at an enterprise, served by the shared record handlers.

use serde_json::Value;

use super::resource::Resource;
use crate::db::{self, internship_bases, DbConn};
use crate::domain::access::{Actor, EntityKind};
use crate::domain::ids::InternshipBaseId;
use crate::domain::internship_base::{
    InternshipBase, InternshipBaseFilter, InternshipBaseListParams, NewInternshipBase,
};
use crate::domain::page::Page;
use crate::domain::{DomainError, Precondition};

impl Resource for InternshipBase {
    type Id = InternshipBaseId;
    type Fields = NewInternshipBase;
    type Params = InternshipBaseListParams;
    type Filter = InternshipBaseFilter;

    const PATH: &'static str = "/api/v1/internship-bases";
    const ENTITY: EntityKind = EntityKind::InternshipBase;
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "enterprise_id",
        "name",
        "location",
        "capacity",
        "positions",
        "description",
        "stage",
        "stage_changed_at",
        "created_at",
        "updated_at",
        "version",
        "archived_at",
    ];

    fn id(&self) -> InternshipBaseId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &InternshipBaseListParams) -> Result<InternshipBaseFilter, DomainError> {
        InternshipBaseFilter::parse(params)
    }

    fn next_page(filter: &mut InternshipBaseFilter, cursor: &str) -> Result<(), DomainError> {
        filter.page.continue_from(cursor)
    }

    fn fields(body: &Value) -> Result<NewInternshipBase, DomainError> {
        NewInternshipBase::from_body(body)
    }

    fn list(conn: &mut DbConn, filter: &InternshipBaseFilter) -> db::Result<Page<Self>> {
        internship_bases::list(conn, filter)
    }

    fn create(
        conn: &mut DbConn,
        id: InternshipBaseId,
        fields: &NewInternshipBase,
        actor: &Actor,
    ) -> db::Result<Self> {
        internship_bases::create(conn, id, fields, Some(&actor.name))
    }

    fn get(conn: &mut DbConn, id: InternshipBaseId) -> db::Result<Self> {
        internship_bases::get(conn, id)
    }

    fn update(
        conn: &mut DbConn,
        id: InternshipBaseId,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self> {
        internship_bases::update(conn, id, if_match, patch)
    }

    fn archive(
        conn: &mut DbConn,
        id: InternshipBaseId,
        if_match: &Precondition,
    ) -> db::Result<Self> {
        internship_bases::archive(conn, id, if_match)
    }

    fn restore(
        conn: &mut DbConn,
        id: InternshipBaseId,
        if_match: &Precondition,
    ) -> db::Result<Self> {
        internship_bases::restore(conn, id, if_match)
    }
}

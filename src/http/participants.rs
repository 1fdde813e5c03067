//! `/api/v1/participants`: people taking part in cooperation, served by the shared record handlers.

use serde_json::Value;

use super::resource::Resource;
use crate::db::{self, participants, DbConn};
use crate::domain::access::{Actor, EntityKind};
use crate::domain::ids::ParticipantId;
use crate::domain::page::Page;
use crate::domain::participant::{
    Participant, ParticipantFields, ParticipantFilter, ParticipantListParams,
};
use crate::domain::{DomainError, Precondition};

impl Resource for Participant {
    type Id = ParticipantId;
    type Fields = ParticipantFields;
    type Params = ParticipantListParams;
    type Filter = ParticipantFilter;

    const PATH: &'static str = "/api/v1/participants";
    const ENTITY: EntityKind = EntityKind::Participant;
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "full_name",
        "side",
        "enterprise_id",
        "title",
        "department",
        "email",
        "phone",
        "notes",
        "created_at",
        "updated_at",
        "version",
        "archived_at",
    ];

    fn id(&self) -> ParticipantId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &ParticipantListParams) -> Result<ParticipantFilter, DomainError> {
        ParticipantFilter::parse(params)
    }

    fn next_page(filter: &mut ParticipantFilter, cursor: &str) -> Result<(), DomainError> {
        filter.page.continue_from(cursor)
    }

    fn fields(body: &Value) -> Result<ParticipantFields, DomainError> {
        ParticipantFields::from_body(body)
    }

    fn list(conn: &mut DbConn, filter: &ParticipantFilter) -> db::Result<Page<Self>> {
        participants::list(conn, filter)
    }

    fn create(
        conn: &mut DbConn,
        id: ParticipantId,
        fields: &ParticipantFields,
        _actor: &Actor,
    ) -> db::Result<Self> {
        participants::create(conn, id, fields)
    }

    fn get(conn: &mut DbConn, id: ParticipantId) -> db::Result<Self> {
        participants::get(conn, id)
    }

    fn update(
        conn: &mut DbConn,
        id: ParticipantId,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self> {
        participants::update(conn, id, if_match, patch)
    }

    fn archive(conn: &mut DbConn, id: ParticipantId, if_match: &Precondition) -> db::Result<Self> {
        participants::archive(conn, id, if_match)
    }

    fn restore(conn: &mut DbConn, id: ParticipantId, if_match: &Precondition) -> db::Result<Self> {
        participants::restore(conn, id, if_match)
    }
}

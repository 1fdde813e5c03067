//! `/api/v1/agreements`: the agreements that seal a cooperation, served by the shared record handlers.

use serde_json::Value;

use super::resource::Resource;
use crate::db::{self, agreements, DbConn};
use crate::domain::access::{Actor, EntityKind};
use crate::domain::agreement::{Agreement, AgreementFields, AgreementFilter, AgreementListParams};
use crate::domain::ids::AgreementId;
use crate::domain::page::Page;
use crate::domain::{DomainError, Precondition};

impl Resource for Agreement {
    type Id = AgreementId;
    type Fields = AgreementFields;
    type Params = AgreementListParams;
    type Filter = AgreementFilter;

    const PATH: &'static str = "/api/v1/agreements";
    const ENTITY: EntityKind = EntityKind::Agreement;
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "enterprise_id",
        "title",
        "number",
        "kind",
        "order_class_id",
        "internship_base_id",
        "signed_on",
        "valid_from",
        "valid_until",
        "status",
        "document_url",
        "notes",
        "created_at",
        "updated_at",
        "version",
        "archived_at",
    ];

    fn id(&self) -> AgreementId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &AgreementListParams) -> Result<AgreementFilter, DomainError> {
        AgreementFilter::parse(params)
    }

    fn next_page(filter: &mut AgreementFilter, cursor: &str) -> Result<(), DomainError> {
        filter.page.continue_from(cursor)
    }

    fn fields(body: &Value) -> Result<AgreementFields, DomainError> {
        AgreementFields::from_body(body)
    }

    fn list(conn: &mut DbConn, filter: &AgreementFilter) -> db::Result<Page<Self>> {
        agreements::list(conn, filter)
    }

    fn create(
        conn: &mut DbConn,
        id: AgreementId,
        fields: &AgreementFields,
        _actor: &Actor,
    ) -> db::Result<Self> {
        agreements::create(conn, id, fields)
    }

    fn get(conn: &mut DbConn, id: AgreementId) -> db::Result<Self> {
        agreements::get(conn, id)
    }

    fn update(
        conn: &mut DbConn,
        id: AgreementId,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self> {
        agreements::update(conn, id, if_match, patch)
    }

    fn archive(conn: &mut DbConn, id: AgreementId, if_match: &Precondition) -> db::Result<Self> {
        agreements::archive(conn, id, if_match)
    }

    fn restore(conn: &mut DbConn, id: AgreementId, if_match: &Precondition) -> db::Result<Self> {
        agreements::restore(conn, id, if_match)
    }
}

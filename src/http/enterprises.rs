//! `/api/v1/enterprises`: partner enterprises, served by the shared record handlers.

use serde_json::Value;

use super::resource::Resource;
use crate::db::{self, enterprises, DbConn};
use crate::domain::enterprise::{
    Enterprise, EnterpriseFields, EnterpriseFilter, EnterpriseListParams,
};
use crate::domain::ids::EnterpriseId;
use crate::domain::page::Page;
use crate::domain::{DomainError, Precondition};

impl Resource for Enterprise {
    type Id = EnterpriseId;
    type Fields = EnterpriseFields;
    type Params = EnterpriseListParams;
    type Filter = EnterpriseFilter;

    const PATH: &'static str = "/api/v1/enterprises";

    fn id(&self) -> EnterpriseId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &EnterpriseListParams) -> Result<EnterpriseFilter, DomainError> {
        EnterpriseFilter::parse(params)
    }

    fn fields(body: &Value) -> Result<EnterpriseFields, DomainError> {
        EnterpriseFields::from_body(body)
    }

    fn list(conn: &mut DbConn, filter: &EnterpriseFilter) -> db::Result<Page<Self>> {
        enterprises::list(conn, filter)
    }

    fn create(conn: &mut DbConn, fields: &EnterpriseFields) -> db::Result<Self> {
        enterprises::create(conn, fields)
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
        enterprises::archive(conn, id, if_match)
    }

    fn restore(conn: &mut DbConn, id: EnterpriseId, if_match: &Precondition) -> db::Result<Self> {
        enterprises::restore(conn, id, if_match)
    }
}

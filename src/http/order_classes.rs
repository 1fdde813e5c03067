//! `/api/v1/order-classes`: order classes (订单班) sponsored by an enterprise, served by the shared record handlers.

use serde_json::Value;

use super::resource::Resource;
use crate::db::{self, order_classes, DbConn};
use crate::domain::access::{Actor, EntityKind};
use crate::domain::ids::OrderClassId;
use crate::domain::order_class::{
    NewOrderClass, OrderClass, OrderClassFilter, OrderClassListParams,
};
use crate::domain::page::Page;
use crate::domain::{DomainError, Precondition};

impl Resource for OrderClass {
    type Id = OrderClassId;
    type Fields = NewOrderClass;
    type Params = OrderClassListParams;
    type Filter = OrderClassFilter;

    const PATH: &'static str = "/api/v1/order-classes";
    const ENTITY: EntityKind = EntityKind::OrderClass;
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "enterprise_id",
        "name",
        "major",
        "cohort_year",
        "planned_size",
        "enrolled_count",
        "employed_count",
        "allow_over_enrollment",
        "starts_on",
        "ends_on",
        "description",
        "stage",
        "stage_changed_at",
        "created_at",
        "updated_at",
        "version",
        "archived_at",
    ];

    fn id(&self) -> OrderClassId {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn filter(params: &OrderClassListParams) -> Result<OrderClassFilter, DomainError> {
        OrderClassFilter::parse(params)
    }

    fn next_page(filter: &mut OrderClassFilter, cursor: &str) -> Result<(), DomainError> {
        filter.page.continue_from(cursor)
    }

    fn fields(body: &Value) -> Result<NewOrderClass, DomainError> {
        NewOrderClass::from_body(body)
    }

    fn list(conn: &mut DbConn, filter: &OrderClassFilter) -> db::Result<Page<Self>> {
        order_classes::list(conn, filter)
    }

    fn create(
        conn: &mut DbConn,
        id: OrderClassId,
        fields: &NewOrderClass,
        actor: &Actor,
    ) -> db::Result<Self> {
        order_classes::create(conn, id, fields, Some(&actor.name))
    }

    fn get(conn: &mut DbConn, id: OrderClassId) -> db::Result<Self> {
        order_classes::get(conn, id)
    }

    fn update(
        conn: &mut DbConn,
        id: OrderClassId,
        if_match: &Precondition,
        patch: &Value,
    ) -> db::Result<Self> {
        order_classes::update(conn, id, if_match, patch)
    }

    fn archive(conn: &mut DbConn, id: OrderClassId, if_match: &Precondition) -> db::Result<Self> {
        order_classes::archive(conn, id, if_match)
    }

    fn restore(conn: &mut DbConn, id: OrderClassId, if_match: &Precondition) -> db::Result<Self> {
        order_classes::restore(conn, id, if_match)
    }
}

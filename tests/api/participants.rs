//! `/api/v1/participants`.

use serde_json::json;

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(partner_participant_belongs_to_an_enterprise);

async fn partner_participant_belongs_to_an_enterprise(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let person = app
        .participant(
            json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": id_of(&company)}),
        )
        .await;
    assert_eq!(person["enterprise_id"], company["id"]);
}

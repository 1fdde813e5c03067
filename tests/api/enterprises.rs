//! `/api/v1/enterprises`.

use serde_json::json;

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(create_then_get_round_trips);

async fn create_then_get_round_trips(app: TestApp) {
    let created = app
        .post(
            "/api/v1/enterprises",
            &json!({"name": " Carbonbay  Industrial Park ", "kind": "industrial_park", "credit_code": "914403001922038216"}),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/enterprises/{id}").as_str())
    );
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(created.body["name"], "Carbonbay Industrial Park");
    assert_eq!(created.body["stage"], "intention");
    let fetched = app
        .get(&format!("/api/v1/enterprises/{id}"))
        .await
        .expect(200);
    assert_eq!(fetched.body, created.body);
}

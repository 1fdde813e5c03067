//! Problem responses for malformed requests, shared by every resource.

use crate::helpers::{backend_tests, TestApp};

backend_tests!(unknown_route_is_a_problem);

async fn unknown_route_is_a_problem(app: TestApp) {
    app.get("/api/v1/nothing-here").await.problem(404);
}

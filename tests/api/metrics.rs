//! `GET /metrics`: what Prometheus scrapes.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(metrics_count_requests_by_route_and_records_by_kind);

/// The value of the series whose name and labels start with `prefix`.
fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_count_requests_by_route_and_records_by_kind(app: TestApp) {
    let first = app.enterprise(json!({"name": "Carbonbay"})).await;
    app.enterprise(json!({"name": "Mitsui Chemicals"})).await;
    for _ in 0..3 {
        app.get(&format!("/api/v1/enterprises/{}", id_of(&first)))
            .await
            .expect(200);
    }
    app.get("/api/v1/enterprises/00000000-0000-7000-8000-000000000000")
        .await
        .expect(404);
    app.get("/no/such/route").await.expect(404);
    // Made-up methods share one label, however many there are.
    for made_up in ["XA1", "XA2", "XA3"] {
        let method = Method::from_bytes(made_up.as_bytes()).expect("a method");
        app.request_as(None, method, "/healthz", None, &[]).await;
    }
    // Open like the probes: no token.
    let response = app
        .request_as(None, Method::GET, "/metrics", None, &[])
        .await
        .expect(200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = &response.text;
    let get_one = "liaison_http_requests_total{method=\"GET\",route=\"/api/v1/enterprises/{id}\"";
    assert_eq!(
        value(text, &format!("{get_one},status=\"200\"}}")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(text, &format!("{get_one},status=\"404\"}}")),
        Some(1.0)
    );
    assert_eq!(
        value(
            text,
            "liaison_http_requests_total{method=\"POST\",route=\"/api/v1/enterprises\",status=\"201\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            text,
            "liaison_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        Some(1.0)
    );
    assert!(!text.contains("XA"), "{text}");
    assert_eq!(
        value(
            text,
            "liaison_http_requests_total{method=\"other\",route=\"/healthz\",status=\"405\"}"
        ),
        Some(3.0),
        "{text}"
    );
    // The histogram's +Inf bucket and count agree with the requests.
    let labels = "method=\"GET\",route=\"/api/v1/enterprises/{id}\"";
    assert_eq!(
        value(
            text,
            &format!("liaison_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}")
        ),
        Some(4.0)
    );
    assert_eq!(
        value(
            text,
            &format!("liaison_http_request_duration_seconds_count{{{labels}}}")
        ),
        Some(4.0)
    );
    assert_eq!(value(text, "liaison_http_requests_in_flight "), Some(1.0));
    assert_eq!(value(text, "liaison_db_pool_size "), Some(4.0));
    assert!(value(text, "liaison_db_pool_idle ").is_some());
    assert_eq!(value(text, "liaison_db_pool_waiters "), Some(0.0));
    assert_eq!(
        value(text, "liaison_records{kind=\"enterprise\"}"),
        Some(2.0)
    );
    assert_eq!(value(text, "liaison_records{kind=\"visit\"}"), Some(0.0));
    // Counted once a minute at most: a new record does not show at once.
    app.enterprise(json!({"name": "DR Hospital"})).await;
    let again = app
        .request_as(None, Method::GET, "/metrics", None, &[])
        .await
        .expect(200);
    assert_eq!(
        value(&again.text, "liaison_records{kind=\"enterprise\"}"),
        Some(2.0)
    );
}

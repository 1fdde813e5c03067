//! The log of a real `liaison serve`: one line per request, and never a token or a
//! request body's personal data.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{backend_tests, TestApp};
use crate::reliability::server::{client, Server};

backend_tests!(logs_name_requests_but_never_tokens_or_bodies);

async fn logs_name_requests_but_never_tokens_or_bodies(app: TestApp) {
    let server = Server::start(app.database_url(), &[]);
    let feed = app.token("wall-calendar", "feed").await;
    let admin = client(&app.admin_token, Duration::from_secs(30));
    let secrets = [
        "secret.person@example.com",
        "+8613800138000",
        "PRIVATE-NOTE",
        "PRIVATE-BODY",
    ];
    let created = admin
        .post(format!("{}/api/v1/participants", server.address))
        .json(
            &json!({"full_name": "Wang Fang", "side": "school", "email": secrets[0],
                      "phone": secrets[1], "notes": secrets[2]}),
        )
        .send()
        .await
        .expect("request sent");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let broken = admin
        .post(format!("{}/api/v1/enterprises", server.address))
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}", secrets[3]))
        .send()
        .await
        .expect("request sent");
    assert_eq!(broken.status(), 400);
    let calendar = reqwest::get(format!(
        "{}/api/v1/visits.ics?token={feed}&status=held",
        server.address
    ))
    .await
    .expect("request sent");
    assert_eq!(calendar.status(), 200);
    let refused = reqwest::Client::new()
        .get(format!("{}/api/v1/enterprises", server.address))
        .bearer_auth(format!("{}x", app.admin_token))
        .send()
        .await
        .expect("request sent");
    assert_eq!(refused.status(), 401);
    server.terminate();
    std::thread::sleep(Duration::from_millis(500));

    let log = server.log();
    let requests: Vec<Value> = log
        .iter()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap_or_else(|_| panic!("not JSON: {line}"))
        })
        .filter(|event| event["message"] == "request")
        .collect();
    let seen: Vec<(String, String, u64)> = requests
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap_or_default().to_string(),
                r["path"].as_str().unwrap_or_default().to_string(),
                r["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    for expected in [
        ("POST", "/api/v1/participants", 201),
        ("POST", "/api/v1/enterprises", 400),
        ("GET", "/api/v1/visits.ics", 200),
        ("GET", "/api/v1/enterprises", 401),
    ] {
        let expected = (expected.0.to_string(), expected.1.to_string(), expected.2);
        assert!(seen.contains(&expected), "{expected:?} not in {seen:?}");
    }
    for request in &requests {
        assert!(
            request["span"]["request_id"].is_string() || request["request_id"].is_string(),
            "{request}"
        );
    }
    let whole = log.join("\n");
    for secret in [app.admin_token.as_str(), feed.as_str()]
        .into_iter()
        .chain(secrets)
    {
        assert!(
            !whole.contains(secret),
            "the log holds `{secret}`:\n{whole}"
        );
    }
    // Not even the token's secret half, or the query string that carried it.
    for token in [&app.admin_token, &feed] {
        let secret_half = token.rsplit('_').next().unwrap_or_default();
        assert!(
            !whole.contains(secret_half),
            "a token's secret is in the log"
        );
    }
    assert!(!whole.contains("token="), "a query string is in the log");
}

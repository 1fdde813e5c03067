//! Problem responses for malformed requests, shared by every resource.

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, Response, TestApp};

backend_tests!(
    unknown_route_is_a_problem,
    unknown_routes_are_404_problems_naming_the_path,
    wrong_method_is_405_with_allow_header,
    head_answers_as_get_without_the_body,
    malformed_json_is_400,
    deeply_nested_json_is_a_client_error,
    oversized_body_is_413,
    large_body_under_the_limit_is_read_and_checked,
    body_limit_is_exactly_256_kib,
    body_must_be_declared_as_json,
    json_content_types_with_parameters_or_suffixes_are_accepted,
    body_must_be_a_json_object,
    wrong_json_types_are_named,
    unknown_members_are_refused_in_patches_even_when_null,
    nul_characters_are_refused,
    nul_in_any_query_parameter_is_400,
    operations_without_parameters_refuse_any,
    lists_answer_csv_only_when_preferred,
    malformed_path_ids_are_400,
    problems_have_the_rfc_9457_members,
    request_id_is_generated_when_absent,
    reasonable_request_id_is_echoed,
    unacceptable_request_id_is_replaced,
    etag_is_the_quoted_version,
    if_match_accepts_any_of_several_tags,
    if_match_accepts_weak_tags_and_star,
    garbage_if_match_is_412,
    health_probes_answer,
    unicode_text_round_trips_byte_exact,
    sql_looking_text_is_plain_data,
);

const ENTERPRISES: &str = "/api/v1/enterprises";
const MISSING_ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

/// Sends a request built by hand (raw bodies, unusual headers) and reads the response.
async fn send(request: RequestBuilder) -> Response {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response {
        status,
        headers,
        body,
        text,
    }
}

fn raw(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.client.request(method, format!("{}{path}", app.address))
}

fn json_body(app: &TestApp, method: Method, path: &str, body: impl Into<String>) -> RequestBuilder {
    raw(app, method, path)
        .header("content-type", "application/json")
        .body(body.into())
}

async fn enterprise_count(app: &TestApp) -> usize {
    app.collect_ids(&format!("{ENTERPRISES}?include_archived=true"))
        .await
        .len()
}

async fn unknown_route_is_a_problem(app: TestApp) {
    app.get("/api/v1/nothing-here").await.problem(404);
}

async fn unknown_routes_are_404_problems_naming_the_path(app: TestApp) {
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/api/v2/enterprises"),
        (Method::POST, "/api/v1/nothing-here"),
        (Method::GET, "/api/v1/enterprises/extra/segments/here"),
        (Method::DELETE, "/api/v1/participants/"),
    ] {
        let body = app
            .request(method.clone(), path, None, &[])
            .await
            .problem(404);
        assert_eq!(body["type"], "/problems/not_found", "{method} {path}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("no route") && detail.contains(path),
            "{method} {path}: {detail}"
        );
    }
}

async fn wrong_method_is_405_with_allow_header(app: TestApp) {
    let cases = [
        (Method::PUT, ENTERPRISES.to_string(), "GET, HEAD, POST"),
        (
            Method::DELETE,
            "/api/v1/participants".to_string(),
            "GET, HEAD, POST",
        ),
        (
            Method::PUT,
            format!("{ENTERPRISES}/{MISSING_ID}"),
            "GET, HEAD, PATCH, DELETE",
        ),
        (
            Method::GET,
            format!("/api/v1/participants/{MISSING_ID}/restore"),
            "POST",
        ),
        (Method::POST, "/healthz".to_string(), "GET, HEAD"),
    ];
    for (method, path, allow) in cases {
        let response = app
            .request(method.clone(), &path, Some(&json!({"name": "X"})), &[])
            .await;
        assert_eq!(
            response.header("allow"),
            Some(allow),
            "{method} {path}: {:?}",
            response.headers
        );
        let body = response.problem(405);
        assert_eq!(body["type"], "/problems/method_not_allowed");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(method.as_str()),
            "{body}"
        );
    }
    // Nothing was created by the refused requests.
    assert_eq!(enterprise_count(&app).await, 0);
}

/// HEAD is GET without the body: the same status, checks and headers.
async fn head_answers_as_get_without_the_body(app: TestApp) {
    let id = id_of(&app.enterprise(json!({"name": "Carbonbay"})).await);
    let record = format!("{ENTERPRISES}/{id}");
    for path in [
        "/healthz",
        "/openapi.yaml",
        ENTERPRISES,
        record.as_str(),
        "/api/v1/reports/pipeline",
    ] {
        let get = app.request(Method::GET, path, None, &[]).await.expect(200);
        let head = app.request(Method::HEAD, path, None, &[]).await.expect(200);
        assert_eq!(head.text, "", "HEAD {path} sent a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert!(head.header("x-request-id").is_some(), "{path}");
    }
    let get = app.get(&record).await;
    let head = app.request(Method::HEAD, &record, None, &[]).await;
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(
        head.header("content-length"),
        Some(get.text.len().to_string().as_str()),
        "HEAD gives the length GET's body has"
    );

    // Checks run as for GET: an unknown id, a malformed one, no token.
    let missing = app
        .request(
            Method::HEAD,
            &format!("{ENTERPRISES}/{MISSING_ID}"),
            None,
            &[],
        )
        .await;
    assert_eq!((missing.status, missing.text.as_str()), (404, ""));
    let malformed = app
        .request(Method::HEAD, &format!("{ENTERPRISES}/nope"), None, &[])
        .await;
    assert_eq!(malformed.status, 400);
    let anonymous = app
        .request_as(None, Method::HEAD, ENTERPRISES, None, &[])
        .await;
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.header("www-authenticate").is_some());

    // HEAD is no way around a route's methods.
    let restore = app
        .request(Method::HEAD, &format!("{record}/restore"), None, &[])
        .await;
    assert_eq!(restore.status, 405);
    assert_eq!(restore.header("allow"), Some("POST"));
}

async fn malformed_json_is_400(app: TestApp) {
    for text in [
        "{",
        "{\"name\": \"Carbonbay\",}",
        "{'name': 'Carbonbay'}",
        "",
        "{\"name\": \"Carbonbay\"} trailing",
        "{\"name\": \"\\ud800\"}",
        "\u{feff}{\"name\": \"Carbonbay\"}",
        // Which of a repeated member was meant cannot be told.
        "{\"name\": \"Carbonbay\", \"name\": \"Binhai\"}",
        "{\"name\": \"Carbonbay\", \"address\": {\"city\": \"a\", \"city\": \"b\"}}",
    ] {
        let body = send(json_body(&app, Method::POST, ENTERPRISES, text))
            .await
            .problem(400);
        assert_eq!(body["type"], "/problems/malformed_json", "{text:?}");
    }
    let repeated = send(json_body(
        &app,
        Method::POST,
        ENTERPRISES,
        "{\"name\": \"Carbonbay\", \"name\": \"Binhai\"}",
    ))
    .await
    .problem(400);
    assert!(
        repeated["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the member `name` is given twice")),
        "{repeated}"
    );
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let patched = send(json_body(
        &app,
        Method::PATCH,
        &format!("{ENTERPRISES}/{}", id_of(&created)),
        "{\"name\": ",
    ))
    .await
    .problem(400);
    assert_eq!(patched["type"], "/problems/malformed_json");
    assert_eq!(enterprise_count(&app).await, 1);
}

async fn deeply_nested_json_is_a_client_error(app: TestApp) {
    let deep = format!(
        "{{\"name\": \"Deep\", \"description\": {}1{}}}",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let response = send(json_body(&app, Method::POST, ENTERPRISES, deep)).await;
    let status = response.status;
    assert!((400..500).contains(&status), "{status}: {}", response.text);
    response.problem(status);

    let objects = format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000));
    let response = send(json_body(
        &app,
        Method::POST,
        "/api/v1/participants",
        objects,
    ))
    .await;
    let status = response.status;
    assert!((400..500).contains(&status), "{status}: {}", response.text);
    response.problem(status);

    // Shallower nesting parses, and is then refused as the wrong type.
    let nested = format!(
        "{{\"name\": \"Deep\", \"description\": {}1{}}}",
        "[".repeat(50),
        "]".repeat(50)
    );
    let errors = send(json_body(&app, Method::POST, ENTERPRISES, nested))
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("description", "invalid_type")]));

    // The server is still answering.
    app.enterprise(json!({"name": "Still Here"})).await;
    assert_eq!(enterprise_count(&app).await, 1);
}

async fn oversized_body_is_413(app: TestApp) {
    let description = "x".repeat(300 * 1024);
    let body = app
        .post(
            ENTERPRISES,
            &json!({"name": "Verbose", "description": description}),
        )
        .await
        .problem(413);
    assert_eq!(body["type"], "/problems/payload_too_large");

    // Also when the client does not announce the size up front (chunked).
    let mut chunked = Vec::new();
    for chunk in [
        "{\"name\": \"Verbose\", \"description\": \"".to_string(),
        "y".repeat(150 * 1024),
        "y".repeat(150 * 1024),
        "\"}".to_string(),
    ] {
        chunked.extend(format!("{:x}\r\n{chunk}\r\n", chunk.len()).into_bytes());
    }
    chunked.extend(b"0\r\n\r\n");
    let (status, head) = raw_http(
        &app,
        "POST /api/v1/enterprises HTTP/1.1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n",
        chunked,
    )
    .await;
    assert_eq!(status, 413, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );

    assert_eq!(enterprise_count(&app).await, 0);
    app.enterprise(json!({"name": "Brief"})).await;
}

/// Sends one HTTP/1.1 request over a plain socket (for bodies reqwest cannot send);
/// returns the status and the response head.
async fn raw_http(app: &TestApp, head: &str, body: Vec<u8>) -> (u16, String) {
    use std::io::{Read, Write};
    let address = app.address.trim_start_matches("http://").to_string();
    let request = format!(
        "{head}Host: {address}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        app.admin_token
    );
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        let mut writer = stream.try_clone().expect("socket");
        let sender = std::thread::spawn(move || {
            // The server may answer and close before reading everything.
            let _ = writer
                .write_all(request.as_bytes())
                .and_then(|()| writer.write_all(&body));
        });
        let mut response = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    response.extend_from_slice(&buffer[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                Err(e) => panic!("reading the response failed: {e}"),
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = sender.join();
        let text = String::from_utf8_lossy(&response).into_owned();
        let head = text
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head:?}"));
        (status, head)
    })
    .await
    .expect("raw request task")
}

async fn large_body_under_the_limit_is_read_and_checked(app: TestApp) {
    // About 200 KiB: within the body limit, but longer than a description may be.
    let description = "x".repeat(200 * 1024);
    let errors = app
        .post(
            ENTERPRISES,
            &json!({"name": "Verbose", "description": description}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("description", "too_long")]));
    let description = "说".repeat(10_000);
    let created = app
        .enterprise(json!({"name": "Verbose", "description": description}))
        .await;
    assert_eq!(created["description"], description);
}

async fn body_limit_is_exactly_256_kib(app: TestApp) {
    let prefix = r#"{"name": "Edge", "description": ""#;
    let suffix = r#""}"#;
    let fill = 256 * 1024 - prefix.len() - suffix.len();
    let at_limit = format!("{prefix}{}{suffix}", "x".repeat(fill));
    assert_eq!(at_limit.len(), 262_144);
    // Read whole, then refused for what it says.
    let errors = send(json_body(&app, Method::POST, ENTERPRISES, at_limit))
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("description", "too_long")]));
    let over = format!("{prefix}{}{suffix}", "x".repeat(fill + 1));
    send(json_body(&app, Method::POST, ENTERPRISES, over))
        .await
        .problem(413);

    // The same limit holds for a PATCH.
    let created = app.enterprise(json!({"name": "Edge"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    let patch = format!(r#"{{"description": "{}"}}"#, "x".repeat(256 * 1024));
    send(json_body(&app, Method::PATCH, &path, patch))
        .await
        .problem(413);
    assert_eq!(app.get(&path).await.body, created);
}

async fn body_must_be_declared_as_json(app: TestApp) {
    let body = r#"{"name": "Carbonbay"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/json"),
        Some("application/xml"),
        Some("not a media type"),
        // JSON is UTF-8; a JSON Patch is not a merge patch.
        Some("application/json; charset=iso-8859-1"),
        Some("application/json; charset=utf-16"),
        Some("application/json-patch+json"),
    ] {
        let mut request = raw(&app, Method::POST, ENTERPRISES).body(body);
        if let Some(value) = content_type {
            request = request.header("content-type", value);
        }
        let problem = send(request).await.problem(415);
        assert_eq!(
            problem["type"], "/problems/unsupported_media_type",
            "{content_type:?}"
        );
    }
    // A POST with no body at all and no content type.
    send(raw(&app, Method::POST, "/api/v1/participants"))
        .await
        .problem(415);

    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    send(
        raw(&app, Method::PATCH, &path)
            .header("content-type", "text/plain")
            .body(r#"{"industry": "Chemicals"}"#),
    )
    .await
    .problem(415);
    let fetched = app.get(&path).await.expect(200).body;
    assert_eq!(fetched, created);
    assert_eq!(enterprise_count(&app).await, 1);
}

async fn json_content_types_with_parameters_or_suffixes_are_accepted(app: TestApp) {
    let created = send(
        raw(&app, Method::POST, ENTERPRISES)
            .header("content-type", "application/json; charset=utf-8")
            .body(r#"{"name": "Carbonbay"}"#),
    )
    .await
    .expect(201);
    let path = format!("{ENTERPRISES}/{}", id_of(&created.body));

    let patched = send(
        raw(&app, Method::PATCH, &path)
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"industry": "Chemicals", "region": null}"#),
    )
    .await
    .expect(200);
    assert_eq!(patched.body["industry"], "Chemicals");
    assert_eq!(patched.body["version"], 2);

    let person = send(
        raw(&app, Method::POST, "/api/v1/participants")
            .header("content-type", "Application/JSON; Charset=\"UTF-8\"")
            .body(r#"{"full_name": "Li Na", "side": "school"}"#),
    )
    .await
    .expect(201);
    let patched = send(
        raw(
            &app,
            Method::PATCH,
            &format!("/api/v1/participants/{}", id_of(&person.body)),
        )
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"title": "Dean"}"#),
    )
    .await
    .expect(200);
    assert_eq!(patched.body["title"], "Dean");
}

async fn body_must_be_a_json_object(app: TestApp) {
    for text in ["[]", "\"Carbonbay\"", "42", "null", "true"] {
        let errors = send(json_body(&app, Method::POST, ENTERPRISES, text))
            .await
            .field_errors(422);
        assert_eq!(errors, pairs(&[("", "not_an_object")]), "{text}");
    }
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    let errors = send(json_body(&app, Method::PATCH, &path, "[{\"name\": \"X\"}]"))
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("", "not_an_object")]));
    assert_eq!(app.get(&path).await.body, created);
}

async fn wrong_json_types_are_named(app: TestApp) {
    let errors = app
        .post(
            ENTERPRISES,
            &json!({"name": 42, "kind": "farm", "parent_id": "not-a-uuid", "website": ["x"]}),
        )
        .await
        .field_errors(422);
    let mut errors = errors;
    errors.sort();
    assert_eq!(
        errors,
        pairs(&[
            ("kind", "invalid_enum"),
            ("name", "invalid_type"),
            ("parent_id", "invalid_type"),
            ("website", "invalid_type"),
        ])
    );
    let errors = app
        .post(
            "/api/v1/participants",
            &json!({"full_name": {"first": "Na", "last": "Li"}, "side": "school"}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("full_name", "invalid_type")]));
    assert_eq!(enterprise_count(&app).await, 0);
}

// Found by schemathesis: a merge patch's `null` removes a member, so `{"nmae": null}`
// vanished in the merge and the PATCH answered 200 instead of naming the member.
async fn unknown_members_are_refused_in_patches_even_when_null(app: TestApp) {
    let enterprise = app.enterprise(json!({"name": "Carbonbay"})).await;
    let enterprise_id = id_of(&enterprise);
    let participant = app
        .participant(json!({"full_name": "Dong Xiaodan", "side": "school"}))
        .await;
    let visit = app
        .post(
            "/api/v1/visits",
            &json!({
                "title": "Carbonbay visit", "starts_at": "2024-11-29T02:00:00Z",
                "direction": "inbound", "enterprise_ids": [enterprise_id],
            }),
        )
        .await
        .expect(201)
        .body;
    let order_class = app
        .order_class(json!({"enterprise_id": enterprise_id, "name": "Chemicals 2027"}))
        .await;
    let base = app
        .internship_base(json!({"enterprise_id": enterprise_id, "name": "Plant Base"}))
        .await;
    let agreement = app
        .agreement(json!({
            "enterprise_id": enterprise_id, "title": "Framework", "kind": "framework",
            "valid_from": "2026-12-01",
        }))
        .await;
    for (collection, record) in [
        ("enterprises", &enterprise),
        ("participants", &participant),
        ("visits", &visit),
        ("order-classes", &order_class),
        ("internship-bases", &base),
        ("agreements", &agreement),
    ] {
        let path = format!("/api/v1/{collection}/{}", id_of(record));
        let errors = app
            .patch(&path, &json!({"nmae": null}))
            .await
            .field_errors(422);
        assert_eq!(
            errors,
            [("nmae".to_string(), "unknown_field".to_string())],
            "{path}"
        );
        let errors = app.patch(&path, &json!({"": null})).await.field_errors(422);
        assert!(
            errors.len() == 1 && errors[0].1 == "unknown_field",
            "{path}: {errors:?}"
        );
        // Nothing was written.
        assert_eq!(
            app.get(&path).await.expect(200).body["version"],
            1,
            "{path}"
        );
    }
}

async fn nul_characters_are_refused(app: TestApp) {
    let errors = app
        .post(ENTERPRISES, &json!({"name": "Carbon\u{0}bay"}))
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("name", "invalid_character")]));
    let errors = app
        .post(
            "/api/v1/participants",
            &json!({"full_name": "Li Na", "side": "school", "notes": "a\u{0}b"}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("notes", "invalid_character")]));
    let errors = app
        .get(&format!("{ENTERPRISES}?q=carbon%00bay"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("q", "invalid_character")]));
    assert_eq!(enterprise_count(&app).await, 0);
}

/// A NUL reaches no query: PostgreSQL would refuse it with an error of its own.
async fn nul_in_any_query_parameter_is_400(app: TestApp) {
    for (path, field) in [
        ("/api/v1/enterprises?industry=a%00b", "industry"),
        ("/api/v1/enterprises?region=%00", "region"),
        ("/api/v1/order-classes?major=%00", "major"),
        ("/api/v1/audit?actor=a%00b", "actor"),
        ("/api/v1/reports/pipeline?industry=%00", "industry"),
        ("/api/v1/reports/funnel?region=%00", "region"),
        ("/api/v1/reports/stalled?industry=%00", "industry"),
        ("/api/v1/reports/expiring?region=%00", "region"),
        ("/api/v1/reports/activity?industry=%00", "industry"),
        ("/api/v1/visits.ics?q=%00", "q"),
        ("/api/v1/enterprises?colour%00=red", "colour\\0"),
    ] {
        let errors = app.get(path).await.field_errors(400);
        assert_eq!(errors, pairs(&[(field, "invalid_character")]), "{path}");
    }
    // The CSV export reads the same parameters.
    let response = app
        .request(
            Method::GET,
            "/api/v1/enterprises?industry=%00",
            None,
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(
        response.field_errors(400),
        pairs(&[("industry", "invalid_character")])
    );
}

/// An operation that takes no query parameters refuses any, before it changes
/// anything.
async fn operations_without_parameters_refuse_any(app: TestApp) {
    let enterprise = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&enterprise));
    let person = app
        .participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;
    let person = format!("/api/v1/participants/{}", id_of(&person));
    let token = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "kiosk", "role": "viewer"}),
        )
        .await
        .expect(201)
        .body;
    let cases = [
        (
            Method::POST,
            format!("{ENTERPRISES}?dry_run=1"),
            Some(json!({"name": "Lingang"})),
        ),
        (
            Method::PATCH,
            format!("{path}?force=true"),
            Some(json!({"industry": "Energy"})),
        ),
        (Method::DELETE, format!("{person}?cascade=true"), None),
        (Method::POST, format!("{person}/restore?x=1"), None),
        (Method::GET, format!("{path}/transitions?limit=5"), None),
        (
            Method::POST,
            format!("{path}/transitions?to_stage=negotiation"),
            Some(json!({"to_stage": "negotiation"})),
        ),
        (Method::GET, "/api/v1/tokens?role=admin".to_string(), None),
        (
            Method::POST,
            "/api/v1/tokens?role=admin".to_string(),
            Some(json!({"name": "desk", "role": "viewer"})),
        ),
        (
            Method::DELETE,
            format!(
                "/api/v1/tokens/{}?now=1",
                token["id"].as_str().unwrap_or_default()
            ),
            None,
        ),
    ];
    for (method, target, body) in cases {
        let response = app
            .request(method.clone(), &target, body.as_ref(), &[])
            .await;
        let errors = response.field_errors(400);
        assert!(
            errors.len() == 1 && errors[0].1 == "unknown_parameter",
            "{method} {target}: {errors:?}"
        );
    }
    // Nothing was changed.
    assert_eq!(enterprise_count(&app).await, 1);
    let enterprise = app.get(&path).await.expect(200).body;
    assert_eq!(
        (enterprise["version"].as_i64(), enterprise["stage"].as_str()),
        (Some(1), Some("intention"))
    );
    assert!(app.get(&person).await.expect(200).body["archived_at"].is_null());
    let tokens = app.get("/api/v1/tokens").await.expect(200).body;
    let names: Vec<&str> = tokens["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(!names.contains(&"desk"), "{names:?}");
    assert!(tokens["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|t| t["revoked_at"].is_null())));
}

/// `Accept` picks CSV or JSON by the client's preference (`q`).
async fn lists_answer_csv_only_when_preferred(app: TestApp) {
    app.enterprise(json!({"name": "Carbonbay"})).await;
    for (accept, csv) in [
        ("text/csv", true),
        ("text/csv, application/json", true),
        ("text/csv, */*;q=0.8", true),
        ("application/json, text/csv;q=0.1", false),
        ("text/csv;q=0.5, */*", false),
        ("text/csv;q=0", false),
        ("text/html, */*;q=0.8", false),
    ] {
        let response = app
            .request(Method::GET, ENTERPRISES, None, &[("accept", accept)])
            .await
            .expect(200);
        let media = response.header("content-type").unwrap_or_default();
        assert_eq!(media.starts_with("text/csv"), csv, "{accept}: {media}");
    }
}

async fn malformed_path_ids_are_400(app: TestApp) {
    for id in [
        "not-a-uuid",
        "..%2F..%2Fetc",
        "%E4%B8%AD",
        "1",
        "01890a5d-ac96-774b-bcce-b302099a8057x",
        "'%20OR%20'1'='1",
        // Other spellings of a UUID: an id is written one way.
        "%7B01890a5d-ac96-774b-bcce-b302099a8057%7D",
        "urn:uuid:01890a5d-ac96-774b-bcce-b302099a8057",
        "01890a5dac96774bbcceb302099a8057",
    ] {
        for (method, path, body) in [
            (Method::GET, format!("{ENTERPRISES}/{id}"), None),
            (
                Method::PATCH,
                format!("{ENTERPRISES}/{id}"),
                Some(json!({"industry": "Chemicals"})),
            ),
            (Method::DELETE, format!("{ENTERPRISES}/{id}"), None),
            (Method::POST, format!("{ENTERPRISES}/{id}/restore"), None),
            (Method::GET, format!("/api/v1/participants/{id}"), None),
            (
                Method::PATCH,
                format!("/api/v1/participants/{id}"),
                Some(json!({"title": "Dean"})),
            ),
        ] {
            let response = app.request(method.clone(), &path, body.as_ref(), &[]).await;
            let body = response.problem(400);
            assert_eq!(body["type"], "/problems/bad_request", "{method} {path}");
            let fields: Vec<&str> = body["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(fields, ["id"], "{method} {path}: {body}");
        }
    }
    // The same in a body and a query.
    let braced = "{01890a5d-ac96-774b-bcce-b302099a8057}";
    let errors = app
        .post(
            "/api/v1/participants",
            &json!({"full_name": "Li Na", "side": "partner", "enterprise_id": braced}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors[0].0, "enterprise_id", "{errors:?}");
    let errors = app
        .get(&format!(
            "/api/v1/participants?enterprise_id={}",
            braced.replace('{', "%7B").replace('}', "%7D")
        ))
        .await
        .field_errors(400);
    assert_eq!(errors[0].0, "enterprise_id", "{errors:?}");
}

async fn problems_have_the_rfc_9457_members(app: TestApp) {
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    let responses = vec![
        (404, app.get("/nowhere").await),
        (404, app.get(&format!("{ENTERPRISES}/{MISSING_ID}")).await),
        (400, app.get(&format!("{ENTERPRISES}/nope")).await),
        (400, app.get(&format!("{ENTERPRISES}?limit=0")).await),
        (405, app.request(Method::PUT, ENTERPRISES, None, &[]).await),
        (
            415,
            send(raw(&app, Method::POST, ENTERPRISES).body("x")).await,
        ),
        (422, app.post(ENTERPRISES, &json!({})).await),
        (
            409,
            app.post(ENTERPRISES, &json!({"name": "CARBONBAY"})).await,
        ),
        (
            412,
            app.request(
                Method::PATCH,
                &path,
                Some(&json!({"industry": "Chemicals"})),
                &[("if-match", "\"9\"")],
            )
            .await,
        ),
    ];
    for (status, response) in responses {
        let text = response.text.clone();
        let body = response.problem(status);
        let kind = body["type"].as_str().unwrap_or_default();
        assert!(kind.starts_with("/problems/"), "{text}");
        assert!(!body["title"].as_str().unwrap_or_default().is_empty());
        assert!(!body["detail"].as_str().unwrap_or_default().is_empty());
        if status == 400 || status == 422 {
            for error in body["errors"].as_array().expect("errors") {
                for member in ["field", "code", "message"] {
                    assert!(error[member].is_string(), "{member} in {text}");
                }
            }
        }
    }
}

async fn request_id_is_generated_when_absent(app: TestApp) {
    let first = app.get("/healthz").await.expect(200);
    let second = app.get(ENTERPRISES).await.expect(200);
    let problem = app.get("/nowhere").await;
    let ids: Vec<String> = [&first, &second, &problem]
        .iter()
        .map(|r| {
            r.header("x-request-id")
                .unwrap_or_else(|| panic!("no X-Request-Id: {:?}", r.headers))
                .to_string()
        })
        .collect();
    for id in &ids {
        assert!(!id.trim().is_empty());
    }
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    problem.problem(404);
}

async fn reasonable_request_id_is_echoed(app: TestApp) {
    for id in [
        "req-42",
        "3f1c9e0a-7b1e-4c2a-9d59-2b8f8a1f0c11",
        "gateway:abc.DEF_123",
    ] {
        let response = app
            .request(Method::GET, ENTERPRISES, None, &[("x-request-id", id)])
            .await
            .expect(200);
        assert_eq!(response.header("x-request-id"), Some(id));
        // Problems carry it too, so that a failure can be traced.
        let failed = app
            .request(
                Method::POST,
                ENTERPRISES,
                Some(&json!({})),
                &[("x-request-id", id)],
            )
            .await;
        assert_eq!(failed.header("x-request-id"), Some(id));
        failed.problem(422);
    }
}

async fn unacceptable_request_id_is_replaced(app: TestApp) {
    let long = "a".repeat(300);
    for id in [
        long.as_str(),
        "has spaces in it",
        "semi;colon",
        "<script>",
        "quote\"d",
    ] {
        let response = app
            .request(Method::GET, "/healthz", None, &[("x-request-id", id)])
            .await
            .expect(200);
        let returned = response
            .header("x-request-id")
            .expect("a request id is returned")
            .to_string();
        assert_ne!(returned, id);
        assert!(!returned.is_empty() && returned.len() <= 128, "{returned}");
        assert!(
            returned
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)),
            "{returned}"
        );
    }
}

async fn etag_is_the_quoted_version(app: TestApp) {
    let created = app
        .post(ENTERPRISES, &json!({"name": "Carbonbay"}))
        .await
        .expect(201);
    assert_eq!(created.etag(), "\"1\"");
    let path = format!("{ENTERPRISES}/{}", id_of(&created.body));
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(
        fetched.etag(),
        format!("\"{}\"", fetched.body["version"].as_i64().expect("version"))
    );
    app.patch(&path, &json!({"industry": "Chemicals"}))
        .await
        .expect(200);
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(fetched.body["version"], 2);

    let person = app
        .post(
            "/api/v1/participants",
            &json!({"full_name": "Li Na", "side": "school"}),
        )
        .await
        .expect(201);
    assert_eq!(person.etag(), "\"1\"");
    let fetched = app
        .get(&format!("/api/v1/participants/{}", id_of(&person.body)))
        .await
        .expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
}

async fn if_match_accepts_any_of_several_tags(app: TestApp) {
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"industry": "Chemicals"})),
            &[("if-match", "\"7\", \"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"2\"");
    // The same list no longer matches once the record has moved on.
    app.request(
        Method::PATCH,
        &path,
        Some(&json!({"industry": "Plastics"})),
        &[("if-match", "\"7\", \"1\"")],
    )
    .await
    .problem(412);
    // Tags may also come in separate If-Match header lines.
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"industry": "Plastics"})),
            &[("if-match", "\"1\""), ("if-match", "\"2\"")],
        )
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"3\"");
    assert_eq!(app.get(&path).await.body["industry"], "Plastics");
}

async fn if_match_accepts_weak_tags_and_star(app: TestApp) {
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"industry": "Chemicals"})),
            &[("if-match", "W/\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"2\"");
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"industry": "Plastics"})),
            &[("if-match", "*")],
        )
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"3\"");
    let archived = app
        .request(Method::DELETE, &path, None, &[("if-match", "W/\"3\"")])
        .await
        .expect(200);
    assert_eq!(archived.etag(), "\"4\"");
}

async fn garbage_if_match_is_412(app: TestApp) {
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    for tag in [
        "garbage",
        "1",
        "\"one\"",
        "\"1",
        "W/1",
        "\"-1\"",
        ",",
        "\"01\"",
        "\"+1\"",
        "W/\"0001\"",
    ] {
        let body = app
            .request(
                Method::PATCH,
                &path,
                Some(&json!({"industry": "Chemicals"})),
                &[("if-match", tag)],
            )
            .await
            .problem(412);
        assert_eq!(body["type"], "/problems/stale", "{tag}");
        assert_eq!(body["current_version"], 1, "{tag}");
        app.request(Method::DELETE, &path, None, &[("if-match", tag)])
            .await
            .problem(412);
    }
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(fetched.body, created);
}

async fn health_probes_answer(app: TestApp) {
    let health = app.get("/healthz").await.expect(200);
    assert_eq!(health.body, json!({"status": "ok"}));
    assert!(health
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let ready = app.get("/readyz").await.expect(200);
    assert_eq!(ready.body, json!({"status": "ready"}));
}

async fn unicode_text_round_trips_byte_exact(app: TestApp) {
    let samples = [
        (
            "碳湾化工集团有限公司",
            "校企合作：订单班、实习基地。\n第二行。",
        ),
        ("Rocket 🚀 Labs 👩🏽‍🔬", "Family: 👨‍👩‍👧‍👦, flags 🇨🇳🇸🇦, keycap 1️⃣"),
        (
            "شركة الخليج للكيماويات",
            "نص عربي من اليمين إلى اليسار مع \u{200f}علامة\u{200e} ومزيج English 123",
        ),
        (
            "Ｆｕｌｌ－ｗｉｄｔｈ Ｃｏ．",
            "Combining: e\u{301} vs é; Å vs A\u{30a}",
        ),
    ];
    let mut ids = Vec::new();
    for (name, description) in samples {
        let created = app
            .post(
                ENTERPRISES,
                &json!({"name": format!("  {name}\n"), "description": format!("\n {description} \t")}),
            )
            .await
            .expect(201);
        assert_eq!(created.body["name"], name);
        assert_eq!(created.body["description"], description);
        let id = id_of(&created.body);
        let fetched = app.get(&format!("{ENTERPRISES}/{id}")).await.expect(200);
        assert_eq!(fetched.body["name"].as_str(), Some(name));
        assert_eq!(fetched.body["description"].as_str(), Some(description));
        ids.push(id);
    }
    let listed = app.get(ENTERPRISES).await.expect(200).body;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, samples.map(|(n, _)| n));

    let q: String = url::form_urlencoded::byte_serialize("化工".as_bytes()).collect();
    assert_eq!(
        app.collect_ids(&format!("{ENTERPRISES}?q={q}")).await,
        [ids[0].clone()]
    );

    let person = app
        .participant(json!({
            "full_name": "  أحمد 李 🙂 ",
            "side": "partner",
            "enterprise_id": ids[2],
            "title": "مدير",
            "notes": "备注 🚀\nملاحظة",
        }))
        .await;
    let fetched = app
        .get(&format!("/api/v1/participants/{}", id_of(&person)))
        .await
        .expect(200)
        .body;
    assert_eq!(fetched["full_name"], "أحمد 李 🙂");
    assert_eq!(fetched["title"], "مدير");
    assert_eq!(fetched["notes"], "备注 🚀\nملاحظة");
}

async fn sql_looking_text_is_plain_data(app: TestApp) {
    let name = "'; DROP TABLE enterprises; --";
    let description = "Robert'); DELETE FROM participants WHERE ''=''; --\n\" OR 1=1 /* */";
    let created = app
        .enterprise(json!({"name": name, "description": description}))
        .await;
    assert_eq!(created["name"], name);
    assert_eq!(created["description"], description);
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    assert_eq!(app.get(&path).await.expect(200).body, created);

    let person = app
        .participant(json!({
            "full_name": "x' OR '1'='1",
            "side": "partner",
            "enterprise_id": id_of(&created),
            "notes": "'); DROP TABLE participants; --",
        }))
        .await;
    assert_eq!(person["full_name"], "x' OR '1'='1");
    assert_eq!(person["notes"], "'); DROP TABLE participants; --");

    // Searching with SQL-looking text finds the literal text only.
    let q: String = url::form_urlencoded::byte_serialize("'; drop table".as_bytes()).collect();
    assert_eq!(
        app.collect_ids(&format!("{ENTERPRISES}?q={q}")).await,
        [id_of(&created)]
    );
    let q: String = url::form_urlencoded::byte_serialize("' OR '1'='1".as_bytes()).collect();
    assert_eq!(
        app.collect_ids(&format!("/api/v1/participants?q={q}"))
            .await,
        [id_of(&person)]
    );
    let q: String = url::form_urlencoded::byte_serialize("' OR ''='".as_bytes()).collect();
    assert!(app
        .collect_ids(&format!("{ENTERPRISES}?q={q}"))
        .await
        .is_empty());

    // Both tables still work afterwards.
    let other = app.enterprise(json!({"name": "Harbour Polymers"})).await;
    assert_eq!(
        app.collect_ids(ENTERPRISES).await,
        [id_of(&created), id_of(&other)]
    );
    app.participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;
    assert_eq!(app.collect_ids("/api/v1/participants").await.len(), 2);
    app.patch(&path, &json!({"industry": "'; --"}))
        .await
        .expect(200);
    assert_eq!(app.get(&path).await.body["industry"], "'; --");
}

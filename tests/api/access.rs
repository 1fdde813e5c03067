//! Tokens, roles and the audit trail, through HTTP and the `liaison token` command.

use std::process::Command;

use liaison::domain::access::Role;
use liaison::http::endpoints;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, sorted, TestApp, MISSING_ID};

backend_tests!(
    api_routes_need_a_token_and_probes_do_not,
    malformed_and_unknown_tokens_are_refused,
    refusals_carry_the_request_id,
    roles_limit_what_a_token_may_do,
    a_viewer_is_refused_every_change,
    every_documented_operation_enforces_its_role,
    only_a_hash_of_a_token_is_stored,
    tokens_are_created_listed_and_revoked,
    token_bodies_are_checked,
    revoking_twice_or_a_missing_token_fails,
    expired_tokens_are_refused,
    last_use_is_recorded,
    every_change_leaves_one_audit_entry,
    rejected_requests_leave_no_entry,
    stage_moves_and_cascades_are_audited,
    the_audit_trail_filters_and_pages,
    audit_parameters_are_checked,
    the_audit_actor_filter_is_bounded,
    records_embed_their_own_history,
    cors_answers_configured_origins_only,
    the_token_command_manages_tokens,
    token_names_are_one_line_and_not_an_actor_of_the_trail,
    bootstrap_happens_once,
);

const ENTERPRISES: &str = "/api/v1/enterprises";

async fn api_routes_need_a_token_and_probes_do_not(app: TestApp) {
    for path in ["/healthz", "/readyz", "/openapi.yaml"] {
        app.request_as(None, Method::GET, path, None, &[])
            .await
            .expect(200);
    }
    for (method, path) in [
        (Method::GET, ENTERPRISES.to_string()),
        (Method::POST, ENTERPRISES.to_string()),
        (Method::GET, format!("{ENTERPRISES}/{MISSING_ID}")),
        (Method::GET, "/api/v1/reports/pipeline".to_string()),
        (Method::GET, "/api/v1/tokens".to_string()),
        (Method::GET, "/api/v1/audit".to_string()),
    ] {
        let body = (method == Method::POST).then(|| json!({"name": "X"}));
        let response = app
            .request_as(None, method.clone(), &path, body.as_ref(), &[])
            .await;
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer realm=\"liaison\""),
            "{method} {path}"
        );
        let problem = response.problem(401);
        assert_eq!(problem["type"], "/problems/unauthorized");
    }
    // Nothing was created by the refused POST.
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn malformed_and_unknown_tokens_are_refused(app: TestApp) {
    let admin = app.admin_token.clone();
    let mut wrong_secret = admin.clone();
    let last = wrong_secret.pop().expect("a token has characters");
    wrong_secret.push(if last == 'A' { 'B' } else { 'A' });
    let unknown_id = format!("liaison_{}{}", "0".repeat(32), &admin[40..]);
    let truncated = admin[..admin.len() - 1].to_string();
    for authorization in [
        format!("Basic {admin}"),
        format!("Token {admin}"),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        admin.clone(),
        format!("Bearer {truncated}"),
        format!("Bearer {admin}x"),
        format!("Bearer {wrong_secret}"),
        format!("Bearer {unknown_id}"),
        "Bearer liaison_' OR 1=1 --".to_string(),
    ] {
        let response = app
            .request_as(
                None,
                Method::GET,
                ENTERPRISES,
                None,
                &[("authorization", &authorization)],
            )
            .await;
        assert_eq!(response.status, 401, "{authorization}: {}", response.text);
        assert!(response.header("www-authenticate").is_some());
    }
    // The token in another header is no token.
    let response = app
        .request_as(
            None,
            Method::GET,
            ENTERPRISES,
            None,
            &[("x-api-key", &admin)],
        )
        .await;
    response.problem(401);
    // The right token, with the scheme in any case, is accepted.
    app.request_as(
        None,
        Method::GET,
        ENTERPRISES,
        None,
        &[("authorization", &format!("bearer {admin}"))],
    )
    .await
    .expect(200);
}

// Found by schemathesis: the authentication middleware returned its refusals as errors,
// which passed through the request-context middleware without an `X-Request-Id`.
async fn refusals_carry_the_request_id(app: TestApp) {
    let viewer = app.token("refusal-viewer", "viewer").await;
    for (token, path, status) in [
        (None, ENTERPRISES, 401),
        (Some("nonsense"), ENTERPRISES, 401),
        (Some(viewer.as_str()), "/api/v1/tokens", 403),
    ] {
        let echoed = app
            .request_as(
                token,
                Method::GET,
                path,
                None,
                &[("x-request-id", "req-refused-1")],
            )
            .await;
        assert_eq!(
            echoed.header("x-request-id"),
            Some("req-refused-1"),
            "{path}"
        );
        echoed.problem(status);
        let generated = app.request_as(token, Method::GET, path, None, &[]).await;
        assert!(
            generated
                .header("x-request-id")
                .is_some_and(|id| !id.is_empty()),
            "{path}: {:?}",
            generated.headers
        );
        generated.problem(status);
    }
}

async fn roles_limit_what_a_token_may_do(app: TestApp) {
    let viewer = app.token("dashboard", "viewer").await;
    let officer = app.token("liaison-office", "officer").await;
    let created = app
        .request_as(
            Some(&officer),
            Method::POST,
            ENTERPRISES,
            Some(&json!({"name": "Carbonbay Industrial Park"})),
            &[],
        )
        .await
        .expect(201)
        .body;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    app.request_as(Some(&viewer), Method::GET, &path, None, &[])
        .await
        .expect(200);
    let problem = app
        .request_as(
            Some(&viewer),
            Method::PATCH,
            &path,
            Some(&json!({"address": "Shanghai"})),
            &[],
        )
        .await
        .problem(403);
    assert_eq!(problem["type"], "/problems/forbidden");
    assert_eq!(problem["required_role"], "officer");
    for path in ["/api/v1/audit", "/api/v1/tokens"] {
        let needed = if path.ends_with("audit") {
            "officer"
        } else {
            "admin"
        };
        let problem = app
            .request_as(Some(&viewer), Method::GET, path, None, &[])
            .await
            .problem(403);
        assert_eq!(problem["required_role"], needed);
    }
    app.request_as(Some(&officer), Method::GET, "/api/v1/audit", None, &[])
        .await
        .expect(200);
    let problem = app
        .request_as(
            Some(&officer),
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": "mine", "role": "admin"})),
            &[],
        )
        .await
        .problem(403);
    assert_eq!(problem["required_role"], "admin");
}

/// Every route that changes something, tried with a viewer's token: all refused
/// before they touch anything.
async fn a_viewer_is_refused_every_change(app: TestApp) {
    let viewer = app.token("read-only", "viewer").await;
    let mut tried = 0u64;
    for endpoint in endpoints() {
        let Some(needs) = endpoint.needs else {
            continue;
        };
        if Role::Viewer.allows(needs) {
            continue;
        }
        let path = endpoint.path.replace("{id}", MISSING_ID);
        let method = Method::from_bytes(endpoint.method.as_str().as_bytes()).expect("method");
        let body = json!({});
        let body = (method != Method::GET && method != Method::DELETE).then_some(&body);
        let response = app
            .request_as(Some(&viewer), method.clone(), &path, body, &[])
            .await;
        assert_eq!(response.status, 403, "{method} {path}: {}", response.text);
        tried += 1;
    }
    assert!(tried >= 25, "only {tried} write routes");
    let mut report = crate::reliability::report::Report::new("viewer-writes", app.backend);
    report.add(
        "Auth abuse",
        "a viewer token on every route that changes something",
        tried,
        "all 403 before touching anything",
    );
    report.save();
}

/// Each role against every operation of `openapi.yaml`: an operation must name the
/// role it needs (or be marked open), and the server must enforce exactly that.
async fn every_documented_operation_enforces_its_role(app: TestApp) {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses");
    let tokens = [
        ("feed", app.token("as-feed", "feed").await),
        ("viewer", app.token("as-viewer", "viewer").await),
        ("officer", app.token("as-officer", "officer").await),
        ("admin", app.token("as-admin", "admin").await),
    ];
    let rank = |role: &str| {
        ["feed", "viewer", "officer", "admin"]
            .iter()
            .position(|r| *r == role)
    };
    let mut checked = 0;
    for (path, item) in doc["paths"].as_mapping().expect("paths") {
        let path = path.as_str().expect("path");
        for method in ["get", "post", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let open = operation
                .get("security")
                .and_then(serde_yaml::Value::as_sequence)
                .is_some_and(|s| s.is_empty());
            let needed = operation
                .get("x-required-role")
                .and_then(serde_yaml::Value::as_str);
            assert!(
                open != needed.is_some(),
                "{method} {path}: neither open (`security: []`) nor naming `x-required-role`"
            );
            let url = path
                .replace("{id}", MISSING_ID)
                .replace("{file}", "docs.js");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = json!({});
            let body = (method == Method::POST || method == Method::PATCH).then_some(&body);
            let anonymous = app.request_as(None, method.clone(), &url, body, &[]).await;
            if open {
                assert!(
                    ![401, 403].contains(&anonymous.status),
                    "{method} {path} is open but answered {}",
                    anonymous.status
                );
                continue;
            }
            assert_eq!(anonymous.status, 401, "{method} {path} without a token");
            let needed = rank(needed.unwrap_or_default()).expect("a known role");
            for (role, token) in &tokens {
                let response = app
                    .request_as(Some(token), method.clone(), &url, body, &[])
                    .await;
                let allowed = rank(role).expect("role") >= needed;
                if allowed {
                    assert!(
                        ![401, 403].contains(&response.status),
                        "{method} {path} as {role}: {}",
                        response.text
                    );
                } else {
                    assert_eq!(response.status, 403, "{method} {path} as {role}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 200, "only {checked} checks");
}

async fn only_a_hash_of_a_token_is_stored(app: TestApp) {
    use diesel::prelude::*;
    use liaison::db::schema::api_tokens;
    let secret = app.token("hashed", "viewer").await;
    let mut conn =
        liaison::db::ConnectionManager::new(liaison::db::DatabaseUrl::parse(app.database_url()))
            .open()
            .expect("database");
    let rows: Vec<(String, String, String)> = api_tokens::table
        .select((api_tokens::name, api_tokens::role, api_tokens::token_hash))
        .load(&mut conn)
        .expect("tokens");
    let (_, _, hash) = rows
        .iter()
        .find(|(name, _, _)| name == "hashed")
        .expect("the token's row");
    assert_ne!(hash, &secret);
    assert!(!hash.contains(&secret[40..]), "the secret is not stored");
    assert_eq!(hash, &liaison::domain::access::hash(&secret));
    assert_eq!(hash.len(), 64, "SHA-256, hex");
}

async fn tokens_are_created_listed_and_revoked(app: TestApp) {
    let response = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "dashboard", "role": "viewer", "expires_in_days": 30}),
        )
        .await
        .expect(201);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let created = response.body;
    let id = id_of(&created);
    assert_eq!(
        response
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/tokens/{id}").as_str())
    );
    let secret = created["token"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("liaison_"));
    assert_eq!(created["role"], "viewer");
    assert!(created["expires_at"].is_string());
    assert_eq!(created["revoked_at"], Value::Null);
    // It works at once, and the secret is never shown again.
    app.request_as(Some(&secret), Method::GET, ENTERPRISES, None, &[])
        .await
        .expect(200);
    let list = app.get("/api/v1/tokens").await.expect(200);
    assert!(!list.text.contains(&secret));
    assert!(!list.text.contains("hash"));
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["bootstrap", "dashboard"]);
    // A name is never reused.
    let problem = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "dashboard", "role": "admin"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], json!(id));
    let revoked = app
        .delete(&format!("/api/v1/tokens/{id}"))
        .await
        .expect(200)
        .body;
    assert!(revoked["revoked_at"].is_string());
    let problem = app
        .request_as(Some(&secret), Method::GET, ENTERPRISES, None, &[])
        .await
        .problem(401);
    assert_eq!(problem["detail"], "the token has been revoked");
    let problem = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "dashboard", "role": "viewer"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], json!(id));
}

async fn token_bodies_are_checked(app: TestApp) {
    let errors = app
        .post("/api/v1/tokens", &json!({}))
        .await
        .field_errors(422);
    assert_eq!(
        sorted(errors),
        pairs(&[("name", "required"), ("role", "required")])
    );
    let errors = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "x", "role": "root", "expires_in_days": 0, "scope": "all"}),
        )
        .await
        .field_errors(422);
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("expires_in_days", "out_of_range"),
            ("role", "invalid_enum"),
            ("scope", "unknown_field"),
        ])
    );
    let errors = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "x", "role": "viewer", "expires_in_days": 3651}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("expires_in_days", "out_of_range")]));
    let errors = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "x", "role": "viewer", "revoked_at": null}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors, pairs(&[("revoked_at", "read_only")]));
    app.post("/api/v1/tokens", &json!("dashboard"))
        .await
        .problem(422);
    // Nothing was made by the rejected bodies.
    let list = app.get("/api/v1/tokens").await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

async fn revoking_twice_or_a_missing_token_fails(app: TestApp) {
    let created = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "temp", "role": "officer"}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/api/v1/tokens/{}", id_of(&created));
    app.delete(&path).await.expect(200);
    let problem = app.delete(&path).await.problem(409);
    assert_eq!(problem["type"], "/problems/already_revoked");
    app.delete(&format!("/api/v1/tokens/{MISSING_ID}"))
        .await
        .problem(404);
    let errors = app
        .delete("/api/v1/tokens/not-a-uuid")
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("id", "invalid_id")]));
}

async fn expired_tokens_are_refused(app: TestApp) {
    let created = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "short", "role": "viewer", "expires_in_days": 1}),
        )
        .await
        .expect(201)
        .body;
    let secret = created["token"].as_str().expect("secret").to_string();
    app.request_as(Some(&secret), Method::GET, ENTERPRISES, None, &[])
        .await
        .expect(200);
    run_sql(
        &app,
        &format!(
            "UPDATE api_tokens SET expires_at = created_at WHERE id = '{}'",
            id_of(&created)
        ),
    );
    // Changed behind the server's back, as another process would: it takes a token
    // it has just checked on trust for a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let problem = app
        .request_as(Some(&secret), Method::GET, ENTERPRISES, None, &[])
        .await
        .problem(401);
    assert_eq!(problem["detail"], "the token has expired");
}

async fn last_use_is_recorded(app: TestApp) {
    let secret = app.token("probe", "viewer").await;
    let before = token_named(&app, "probe").await;
    assert_eq!(before["last_used_at"], Value::Null);
    app.request_as(Some(&secret), Method::GET, ENTERPRISES, None, &[])
        .await
        .expect(200);
    let after = token_named(&app, "probe").await;
    assert!(after["last_used_at"].is_string(), "{after}");
}

async fn every_change_leaves_one_audit_entry(app: TestApp) {
    let officer = app.token("liaison-office", "officer").await;
    let as_officer = |method: Method, path: String, body: Option<Value>| {
        let officer = officer.clone();
        let app = &app;
        async move {
            app.request_as(
                Some(&officer),
                method,
                &path,
                body.as_ref(),
                &[("x-request-id", "req-audit-1")],
            )
            .await
        }
    };
    let created = as_officer(
        Method::POST,
        ENTERPRISES.into(),
        Some(json!({"name": "Carbonbay Industrial Park", "address": "Shanghai"})),
    )
    .await
    .expect(201)
    .body;
    let id = id_of(&created);
    let path = format!("{ENTERPRISES}/{id}");
    as_officer(
        Method::PATCH,
        path.clone(),
        Some(json!({"address": "Jinshan", "region": "Shanghai"})),
    )
    .await
    .expect(200);
    // A patch that changes nothing changes no version and leaves no entry.
    as_officer(
        Method::PATCH,
        path.clone(),
        Some(json!({"address": "Jinshan"})),
    )
    .await
    .expect(200);
    as_officer(Method::DELETE, path.clone(), None)
        .await
        .expect(200);
    as_officer(Method::POST, format!("{path}/restore"), None)
        .await
        .expect(200);
    let entries = audit(&app, &format!("entity_id={id}")).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actions, ["restore", "archive", "update", "create"]);
    for entry in &entries {
        assert_eq!(entry["actor"]["name"], "liaison-office");
        assert!(entry["actor"]["token_id"].is_string());
        assert_eq!(entry["entity_kind"], "enterprise");
        assert_eq!(entry["request_id"], "req-audit-1");
    }
    assert_eq!(
        entries[2]["changes"],
        json!({
            "address": {"old": "Shanghai", "new": "Jinshan"},
            "region": {"old": null, "new": "Shanghai"},
        })
    );
    assert_eq!(
        entries[3]["changes"]["name"]["new"],
        "Carbonbay Industrial Park"
    );
    assert_eq!(entries[3]["changes"]["name"]["old"], Value::Null);
    assert!(entries[3]["changes"].get("id").is_none());
    assert!(entries[3]["changes"].get("version").is_none());
    assert!(entries[1]["changes"]["archived_at"]["new"].is_string());
    assert_eq!(entries[0]["changes"]["archived_at"]["new"], Value::Null);
    // Tokens are audited too, by the admin who made them.
    let tokens = audit(&app, "entity_kind=token").await;
    assert_eq!(tokens.len(), 2, "bootstrap and liaison-office: {tokens:?}");
    assert_eq!(tokens[0]["actor"]["name"], "bootstrap");
    assert_eq!(tokens[0]["changes"]["role"]["new"], "officer");
    assert_eq!(tokens[1]["actor"]["name"], "first start");
}

async fn rejected_requests_leave_no_entry(app: TestApp) {
    let created = app.enterprise(json!({"name": "Carbonbay"})).await;
    let path = format!("{ENTERPRISES}/{}", id_of(&created));
    app.patch(&path, &json!({"website": "not a url"}))
        .await
        .problem(422);
    app.with_if_match(
        Method::PATCH,
        &path,
        Some(&json!({"address": "X"})),
        "\"7\"",
    )
    .await
    .problem(412);
    app.post(ENTERPRISES, &json!({"name": "carbonbay"}))
        .await
        .problem(409);
    app.post(ENTERPRISES, &json!({"name": ""}))
        .await
        .problem(422);
    let viewer = app.token("viewer", "viewer").await;
    app.request_as(
        Some(&viewer),
        Method::PATCH,
        &path,
        Some(&json!({"address": "Y"})),
        &[],
    )
    .await
    .problem(403);
    let entries = audit(&app, "entity_kind=enterprise").await;
    assert_eq!(entries.len(), 1, "only the create: {entries:?}");
}

async fn stage_moves_and_cascades_are_audited(app: TestApp) {
    let enterprise = app.enterprise(json!({"name": "Carbonbay"})).await;
    let id = id_of(&enterprise);
    let moved = app
        .post(
            &format!("{ENTERPRISES}/{id}/transitions"),
            &json!({"to_stage": "negotiation", "note": "after the visit"}),
        )
        .await
        .expect(201)
        .body;
    let moves = audit(&app, &format!("entity_id={id}&action=move")).await;
    assert_eq!(moves.len(), 1);
    assert_eq!(
        moves[0]["changes"]["stage"],
        json!({"old": "intention", "new": "negotiation"})
    );
    // When the record entered the stage it left, and the one it entered.
    let instant = |value: &Value| {
        value
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .unwrap_or_else(|| panic!("not a time: {value}"))
    };
    let changed = &moves[0]["changes"]["stage_changed_at"];
    assert_eq!(
        instant(&changed["old"]),
        instant(&enterprise["stage_changed_at"])
    );
    assert_eq!(
        instant(&changed["new"]),
        instant(&moved["enterprise"]["stage_changed_at"])
    );
    let person = app
        .participant(json!({"full_name": "Dong Xiaodan", "side": "partner", "enterprise_id": id}))
        .await;
    let mut people = vec![id_of(&person)];
    for name in ["Li Na", "Wang Fang"] {
        let other = app
            .participant(json!({"full_name": name, "side": "partner", "enterprise_id": id}))
            .await;
        people.push(id_of(&other));
    }
    // Edited, the first is stored after the others on PostgreSQL.
    app.patch(
        &format!("/api/v1/participants/{}", people[0]),
        &json!({"full_name": "Dong Xiaodan (Director)"}),
    )
    .await
    .expect(200);
    app.delete(&format!("{ENTERPRISES}/{id}?cascade=true"))
        .await
        .expect(200);
    let archived = audit(&app, &format!("entity_id={}", id_of(&person))).await;
    assert_eq!(archived[0]["action"], "archive");
    assert_eq!(archived[0]["entity_kind"], "participant");
    assert_eq!(archived[0]["changes"]["archived_with"]["new"], json!(id));
    // The cascade archives in creation order on both backends (the trail is newest
    // first).
    let trail: Vec<String> = audit(&app, "entity_kind=participant&action=archive")
        .await
        .iter()
        .map(|entry| entry["entity_id"].as_str().unwrap_or_default().to_string())
        .collect();
    people.reverse();
    assert_eq!(trail, people);
}

async fn the_audit_trail_filters_and_pages(app: TestApp) {
    let officer = app.token("office", "officer").await;
    for name in ["A", "B", "C"] {
        app.request_as(
            Some(&officer),
            Method::POST,
            ENTERPRISES,
            Some(&json!({ "name": name })),
            &[],
        )
        .await
        .expect(201);
    }
    app.enterprise(json!({"name": "D"})).await;
    let by_office = audit(&app, "actor=office&entity_kind=enterprise").await;
    assert_eq!(by_office.len(), 3);
    let office_id = by_office[0]["actor"]["token_id"]
        .as_str()
        .expect("token id")
        .to_string();
    assert_eq!(
        audit(&app, &format!("actor={office_id}&entity_kind=enterprise"))
            .await
            .len(),
        3
    );
    assert_eq!(
        audit(&app, "actor=bootstrap&action=create&entity_kind=enterprise")
            .await
            .len(),
        1
    );
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        audit(
            &app,
            &format!("from={today}&to={today}&entity_kind=enterprise")
        )
        .await
        .len(),
        4
    );
    assert!(audit(&app, "from=2001-01-01&to=2001-12-31")
        .await
        .is_empty());
    // Newest first, a page at a time, nothing lost or repeated.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit?entity_kind=enterprise&limit=3&cursor={c}"),
            None => "/api/v1/audit?entity_kind=enterprise&limit=3".into(),
        };
        let page = app.get(&path).await.expect(200).body;
        for entry in page["items"].as_array().expect("items") {
            names.push(
                entry["changes"]["name"]["new"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(names, ["D", "C", "B", "A"]);
}

async fn audit_parameters_are_checked(app: TestApp) {
    for (query, field, code) in [
        ("entity_id=12", "entity_id", "invalid_id"),
        ("entity_kind=person", "entity_kind", "invalid_enum"),
        ("action=delete", "action", "invalid_enum"),
        ("from=yesterday", "from", "invalid_datetime"),
        ("from=2026-02-01&to=2026-01-01", "to", "before_from"),
        ("limit=0", "limit", "out_of_range"),
        ("cursor=nonsense", "cursor", "invalid_cursor"),
        ("sort=at", "sort", "unknown_parameter"),
    ] {
        let errors = app
            .get(&format!("/api/v1/audit?{query}"))
            .await
            .field_errors(400);
        assert_eq!(errors, pairs(&[(field, code)]), "{query}");
    }
}

// Found by schemathesis: `actor` is documented as at most 200 characters (like `q`),
// but any length was accepted.
async fn the_audit_actor_filter_is_bounded(app: TestApp) {
    let longest = "a".repeat(200);
    app.get(&format!("/api/v1/audit?actor={longest}"))
        .await
        .expect(200);
    let errors = app
        .get(&format!("/api/v1/audit?actor={longest}a"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("actor", "too_long")]));
}

async fn records_embed_their_own_history(app: TestApp) {
    let enterprise = app.enterprise(json!({"name": "Carbonbay"})).await;
    let id = id_of(&enterprise);
    let person = app
        .participant(json!({"full_name": "Dong Xiaodan", "side": "partner", "enterprise_id": id}))
        .await;
    let person_path = format!("/api/v1/participants/{}", id_of(&person));
    app.patch(&person_path, &json!({"phone": "13800138000"}))
        .await
        .expect(200);
    let with_history = app
        .get(&format!("{person_path}?include=history"))
        .await
        .expect(200)
        .body;
    let history = with_history["history"]["items"]
        .as_array()
        .expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "update");
    assert_eq!(with_history["history"]["next"], Value::Null);
    assert_eq!(with_history["full_name"], "Dong Xiaodan");
    let plain = app.get(&person_path).await.expect(200).body;
    assert!(plain.get("history").is_none());
    let view = app
        .get(&format!("{ENTERPRISES}/{id}?include=history,participants"))
        .await
        .expect(200)
        .body;
    assert_eq!(view["history"]["items"][0]["action"], "create");
    assert_eq!(
        view["participants"]["items"].as_array().map(Vec::len),
        Some(1)
    );
    let errors = app
        .get(&format!("{person_path}?include=visits"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("include", "invalid_enum")]));
    let viewer = app.token("viewer", "viewer").await;
    for path in [
        format!("{person_path}?include=history"),
        format!("{ENTERPRISES}/{id}?include=history"),
    ] {
        let problem = app
            .request_as(Some(&viewer), Method::GET, &path, None, &[])
            .await
            .problem(403);
        assert_eq!(problem["required_role"], "officer");
    }
}

async fn preflight(app: &TestApp, origin: &str) -> crate::helpers::Response {
    app.request_as(
        None,
        Method::OPTIONS,
        ENTERPRISES,
        None,
        &[
            ("origin", origin),
            ("access-control-request-method", "PATCH"),
            (
                "access-control-request-headers",
                "authorization, if-match, content-type",
            ),
        ],
    )
    .await
}

async fn cors_answers_configured_origins_only(app: TestApp) {
    let allowed = preflight(&app, "https://frontend.example.edu").await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://frontend.example.edu")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    let refused = preflight(&app, "https://evil.example.com").await;
    assert!(refused.header("access-control-allow-origin").is_none());
    // A real request from the allowed origin exposes the headers a frontend needs.
    let response = app
        .request(
            Method::GET,
            ENTERPRISES,
            None,
            &[("origin", "https://frontend.example.edu")],
        )
        .await
        .expect(200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://frontend.example.edu")
    );
    let exposed = response
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("x-request-id"),
        "{exposed}"
    );
    let other = app
        .request(
            Method::GET,
            ENTERPRISES,
            None,
            &[("origin", "https://evil.example.com")],
        )
        .await
        .expect(200);
    assert!(other.header("access-control-allow-origin").is_none());
}

async fn the_token_command_manages_tokens(app: TestApp) {
    let output = liaison(
        &app,
        &["token", "create", "--name", "cli-made", "--role", "officer"],
    );
    let secret = output.trim().to_string();
    assert!(secret.starts_with("liaison_"), "{output}");
    app.request_as(
        Some(&secret),
        Method::POST,
        ENTERPRISES,
        Some(&json!({"name": "Made by CLI"})),
        &[],
    )
    .await
    .expect(201);
    let listed = liaison(&app, &["token", "list"]);
    assert!(
        listed.contains("cli-made") && listed.contains("officer"),
        "{listed}"
    );
    assert!(!listed.contains(&secret));
    liaison(&app, &["token", "revoke", "cli-made"]);
    // The server took the token on trust for a second after it last checked it; a
    // revocation by another process reaches it within that second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let problem = app
        .request_as(Some(&secret), Method::GET, ENTERPRISES, None, &[])
        .await
        .problem(401);
    assert_eq!(problem["detail"], "the token has been revoked");
    let revokes = audit(&app, "action=revoke").await;
    assert_eq!(revokes[0]["actor"]["name"], "command line");
    assert_eq!(revokes[0]["actor"]["token_id"], Value::Null);
    // Bad input is refused with a message, not a panic.
    let failed = liaison_status(&app, &["token", "revoke", "no-such-token"]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("not found"));
    let failed = liaison_status(&app, &["token", "create", "--name", "x", "--role", "root"]);
    assert!(!failed.status.success());
}

/// A token's name is the actor of the audit trail and a row of `liaison token list`:
/// a control character would break the row or drive the terminal, and `command line`
/// would pass for the changes made without a token. The API and the command line
/// refuse both alike, and make nothing.
async fn token_names_are_one_line_and_not_an_actor_of_the_trail(app: TestApp) {
    let bad_names = [
        ("multi\nline", "invalid_character"),
        ("tab\tbed", "invalid_character"),
        ("\u{1b}[2J\u{1b}[31mred", "invalid_character"),
        ("bell\u{7}", "invalid_character"),
        ("command line", "reserved"),
        ("Command  Line", "reserved"),
        ("first start", "reserved"),
    ];
    for (name, code) in bad_names {
        let errors = app
            .post("/api/v1/tokens", &json!({"name": name, "role": "viewer"}))
            .await
            .field_errors(422);
        assert_eq!(errors, pairs(&[("name", code)]), "{name:?}");
        let refused = liaison_status(
            &app,
            &["token", "create", "--name", name, "--role", "viewer"],
        );
        assert!(!refused.status.success(), "{name:?}");
        assert!(refused.stdout.is_empty(), "{name:?}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(message.lines().count(), 1, "{name:?}: {message}");
        assert!(
            message.starts_with("liaison: --name: "),
            "{name:?}: {message}"
        );
        assert!(!message.contains('\u{1b}'), "{name:?}: {message}");
    }
    let list = app.get("/api/v1/tokens").await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    // Names that only look alike are taken, tidied as every one-line name is.
    let created = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "  command-line  ops ", "role": "viewer"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(created["name"], "command-line ops");
    liaison(
        &app,
        &[
            "token",
            "create",
            "--name",
            "command line 2",
            "--role",
            "viewer",
        ],
    );
    let listed = liaison(&app, &["token", "list"]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    assert!(listed.contains("command line 2"), "{listed}");
}

/// Runs `liaison <command> --database-url <url>`, with no `DATABASE_URL` from the
/// environment.
fn liaison_alone(command: &[&str], url: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(command)
        .args(["--database-url", url])
        .env_remove("DATABASE_URL")
        .output()
        .expect("liaison runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A database URL that cannot be what was meant is refused before anything opens
/// it, with one line saying why (it had been a throwaway temporary database, a file
/// named `mysql:…`, or ten seconds of retries ending in "timed out").
#[test]
fn database_urls_that_cannot_be_meant_are_refused() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let missing_folder = folder.path().join("no-such-folder").join("x.db");
    let missing_folder = missing_folder.to_str().expect("UTF-8 path");
    for (url, why) in [
        ("", "is empty"),
        ("   ", "is empty"),
        (
            "mysql://localhost/liaison",
            "`mysql://` is not a database Liaison can use",
        ),
        (
            missing_folder,
            "no-such-folder of the SQLite database does not exist",
        ),
    ] {
        for command in [&["migrate"][..], &["seed", "--demo"], &["token", "list"]] {
            let (ok, stderr) = liaison_alone(command, url);
            assert!(!ok, "{command:?} {url}");
            assert!(stderr.contains(why), "{command:?} {url}: {stderr}");
            assert!(!stderr.contains("timed out"), "{command:?} {url}: {stderr}");
        }
    }
    assert_eq!(std::fs::read_dir(folder.path()).expect("list").count(), 0);
    // A PostgreSQL server that does not answer (nothing listens on port 9) is
    // reported at once by its cause, not after the pool's ten seconds of retries.
    for command in [&["migrate"][..], &["token", "list"], &["export", "visits"]] {
        let url = "postgres://liaison@127.0.0.1:9/liaison";
        let (ok, stderr) = liaison_alone(command, url);
        assert!(!ok, "{command:?}");
        assert!(
            stderr.contains(&format!("cannot open the database {url}")),
            "{command:?}: {stderr}"
        );
        assert!(!stderr.contains("timed out"), "{command:?}: {stderr}");
    }
}

/// Listing or revoking tokens of a database that is not there is refused; making
/// one there creates the database (the first admin token may come before the first
/// start) and says so.
#[test]
fn token_commands_on_a_missing_database() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("liason.db");
    let url = path.to_str().expect("UTF-8 path");
    for command in [&["token", "list"][..], &["token", "revoke", "ops"]] {
        let (ok, stderr) = liaison_alone(command, url);
        assert!(!ok, "{command:?}");
        assert!(
            stderr.contains(&format!("there is no database at {url}")),
            "{command:?}: {stderr}"
        );
        assert!(!path.exists(), "{command:?} made a database");
    }
    let (ok, stderr) = liaison_alone(
        &["token", "create", "--name", "ops", "--role", "admin"],
        url,
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "there was no database at {url}: created a new one"
        )),
        "{stderr}"
    );
    assert!(path.exists());
    // Once there, nothing more is said about it.
    let (ok, stderr) = liaison_alone(
        &["token", "create", "--name", "ops2", "--role", "viewer"],
        url,
    );
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("created a new one"), "{stderr}");
    let (ok, stderr) = liaison_alone(&["token", "list"], url);
    assert!(ok, "{stderr}");
}

async fn bootstrap_happens_once(app: TestApp) {
    let mut conn =
        liaison::db::ConnectionManager::new(liaison::db::DatabaseUrl::parse(app.database_url()))
            .open()
            .expect("database");
    let again = liaison::db::access::bootstrap(&mut conn).expect("bootstrap");
    assert!(again.is_none(), "a second start makes no second token");
    let list = app.get("/api/v1/tokens").await.expect(200).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["items"][0]["role"], "admin");
}

/// The audit entries for `query`, newest first (at most 200).
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/audit?{query}&limit=200"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .clone()
}

async fn token_named(app: &TestApp, name: &str) -> Value {
    let list = app.get("/api/v1/tokens").await.expect(200).body;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no token {name}"))
}

fn run_sql(app: &TestApp, sql: &str) {
    use diesel::RunQueryDsl;
    let mut conn =
        liaison::db::ConnectionManager::new(liaison::db::DatabaseUrl::parse(app.database_url()))
            .open()
            .expect("database");
    diesel::sql_query(sql).execute(&mut conn).expect("sql");
}

fn liaison_status(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .output()
        .expect("liaison runs")
}

/// Runs `liaison …` on the app's database; returns its standard output.
fn liaison(app: &TestApp, args: &[&str]) -> String {
    let output = liaison_status(app, args);
    assert!(
        output.status.success(),
        "liaison {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

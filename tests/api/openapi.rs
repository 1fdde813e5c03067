//! `openapi.yaml` and the route table never disagree.

use std::collections::BTreeSet;

use liaison::http::endpoints;
use serde_yaml::Value;

use crate::helpers::{backend_tests, TestApp};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_yaml::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses")
}

/// `(METHOD, path)` of every operation in the document.
fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let paths = doc["paths"].as_mapping().expect("openapi.yaml has paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("path is a string");
        for method in METHODS {
            if item.get(*method).is_some() {
                operations.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    operations
}

fn served() -> BTreeSet<(String, String)> {
    endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_served() {
    let documented = documented();
    let served = served();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "operations in openapi.yaml the app does not serve: {unserved:?}"
    );
}

/// The role each operation needs is the one the document names, and the open
/// operations are exactly those the document marks `security: []`.
#[test]
fn every_operation_documents_the_role_it_needs() {
    let doc = document();
    for endpoint in endpoints() {
        let method = endpoint.method.as_str().to_lowercase();
        let operation = &doc["paths"][endpoint.path][method.as_str()];
        let documented = operation
            .get("x-required-role")
            .and_then(Value::as_str)
            .map(str::to_string);
        let needs = endpoint.needs.map(|role| role.to_string());
        assert_eq!(
            documented, needs,
            "{method} {}: x-required-role disagrees with the route table",
            endpoint.path
        );
        let open = operation
            .get("security")
            .and_then(Value::as_sequence)
            .is_some_and(|s| s.is_empty());
        assert_eq!(
            open,
            needs.is_none(),
            "{method} {}: `security: []` must mark exactly the open operations",
            endpoint.path
        );
        if needs.is_some() {
            for status in ["401", "403"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {}: no {status} response documented",
                    endpoint.path
                );
            }
        }
    }
}

backend_tests!(
    served_document_is_the_committed_file,
    every_documented_operation_is_routed
);

async fn served_document_is_the_committed_file(app: TestApp) {
    let response = app.get("/openapi.yaml").await.expect(200);
    assert_eq!(response.text, include_str!("../../openapi.yaml"));
}

/// The route table is what the app mounts: no documented operation falls through to
/// the unknown-route or wrong-method answers.
async fn every_documented_operation_is_routed(app: TestApp) {
    for (method, path) in documented() {
        let path = path.replace("{id}", "00000000-0000-7000-8000-000000000000");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = app.request(method.clone(), &path, None, &[]).await;
        assert_ne!(response.status, 405, "{method} {path}: {}", response.text);
        let unrouted = response.status == 404
            && response.body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("no route"));
        assert!(!unrouted, "{method} {path} is not routed");
    }
}

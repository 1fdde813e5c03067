//! Every response the tests receive is checked against `openapi.yaml`: its status
//! must be documented for the operation, and its JSON body must match the schema.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::Value;

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_yaml::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses")
    })
}

/// A JSON pointer token.
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment (path templates hold braces).
fn fragment(pointer: &str) -> String {
    pointer
        .replace('%', "%25")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// The documented path template that `path` (without its query) matches.
fn template(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    document()["paths"]
        .as_object()?
        .keys()
        .map(String::as_str)
        .find(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && p.ends_with('}')))
        })
}

/// Follows a local `$ref`, keeping the pointer of where the value really is.
fn resolve(pointer: String) -> (String, &'static Value) {
    let mut pointer = pointer;
    loop {
        let value = document()
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("openapi.yaml has nothing at {pointer}"));
        match value.get("$ref").and_then(Value::as_str) {
            Some(target) => pointer = target.trim_start_matches('#').to_string(),
            None => return (pointer, value),
        }
    }
}

fn validator(schema_pointer: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().expect("cache").get(schema_pointer) {
        return v.clone();
    }
    // The whole document is the root, so that every `$ref` inside it resolves.
    let mut root = document().clone();
    root["$ref"] = Value::String(format!("#{}", fragment(schema_pointer)));
    let compiled = Arc::new(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema at {schema_pointer} does not compile: {e}")),
    );
    cache
        .lock()
        .expect("cache")
        .insert(schema_pointer.to_string(), compiled.clone());
    compiled
}

/// Panics when a response disagrees with the document.
pub fn check(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &Value) {
    let path = path.split('?').next().unwrap_or(path);
    let media = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_string());
    // HEAD is GET's operation, answered without a body.
    let head = method.eq_ignore_ascii_case("HEAD");
    let documented_method = if head {
        "get".to_string()
    } else {
        method.to_lowercase()
    };
    let operation = template(path).and_then(|t| {
        let pointer = format!("/paths/{}/{documented_method}", token(t));
        document().pointer(&pointer).map(|_| pointer)
    });
    let Some(operation) = operation else {
        // Unknown routes and methods answer with a plain problem.
        if !head && media.as_deref() == Some("application/problem+json") {
            validate("/components/schemas/Problem", body, method, path, status);
        }
        return;
    };
    let responses = &document().pointer(&operation).expect("operation")["responses"];
    let key = [
        status.to_string(),
        format!("{}XX", status / 100),
        "default".to_string(),
    ]
    .into_iter()
    .find(|k| responses.get(k).is_some())
    .unwrap_or_else(|| {
        panic!("{method} {path} answered {status}, which openapi.yaml does not list")
    });
    let (response, response_value) = resolve(format!("{operation}/responses/{key}"));
    if head {
        return;
    }
    let Some(media) = media else { return };
    if !(media == "application/json" || media.ends_with("+json")) {
        return;
    }
    let content = &response_value["content"];
    assert!(
        content.get(&media).is_some(),
        "{method} {path} answered {status} as {media}, which openapi.yaml does not list"
    );
    validate(
        &format!("{response}/content/{}/schema", token(&media)),
        body,
        method,
        path,
        status,
    );
}

fn validate(schema_pointer: &str, body: &Value, method: &str, path: &str, status: u16) {
    let validator = validator(schema_pointer);
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} → {status}: the body disagrees with openapi.yaml ({schema_pointer}):\n{}\nbody: {body}",
        errors.join("\n")
    );
}

#[test]
#[should_panic(expected = "disagrees with openapi.yaml")]
fn a_body_that_breaks_its_schema_is_caught() {
    let enterprise = serde_json::json!({"id": "01a21267-3ed7-77e7-a7b2-3c3f9c20462b", "name": 5});
    check(
        "GET",
        "/api/v1/enterprises/01a21267-3ed7-77e7-a7b2-3c3f9c20462b",
        200,
        Some("application/json"),
        &enterprise,
    );
}

#[test]
#[should_panic(expected = "does not list")]
fn an_undocumented_status_is_caught() {
    check(
        "GET",
        "/healthz",
        418,
        Some("application/json"),
        &serde_json::json!({}),
    );
}

#[test]
fn a_documented_body_passes() {
    let problem = serde_json::json!({
        "type": "/problems/not_found", "title": "No such record", "status": 404,
        "detail": "enterprise 01a21267-3ed7-77e7-a7b2-3c3f9c20462b not found"
    });
    check(
        "GET",
        "/api/v1/enterprises/01a21267-3ed7-77e7-a7b2-3c3f9c20462b",
        404,
        Some("application/problem+json"),
        &problem,
    );
}

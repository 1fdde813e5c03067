//! Hostile input: every request body parser fed arbitrary bytes and arbitrary JSON
//! (proptest), and hostile bodies, strings, queries and ids sent over HTTP to every
//! route: 4xx problems or stored and returned byte-exact, never a 5xx or a panic.

use std::sync::atomic::{AtomicU64, Ordering};

use liaison::domain::access::TokenFields;
use liaison::domain::agreement::{AgreementFields, AgreementInput};
use liaison::domain::enterprise::{EnterpriseFields, EnterpriseInput};
use liaison::domain::input;
use liaison::domain::internship_base::{
    InternshipBaseFields, InternshipBaseInput, NewInternshipBase,
};
use liaison::domain::order_class::{NewOrderClass, OrderClassFields, OrderClassInput};
use liaison::domain::participant::{ParticipantFields, ParticipantInput};
use liaison::domain::transition::TransitionRequest;
use liaison::domain::visit::{VisitFields, VisitInput};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use super::report::Report;
use crate::helpers::{backend_tests, TestApp, MISSING_ID};

backend_tests!(hostile_requests_are_refused_or_kept_exactly);

/// Runs every body parser of the API on `body`, as a create and as a merge patch;
/// each must return, never panic.
fn parse_everything(body: &Value) {
    let now = chrono::Utc::now();
    let _ = EnterpriseFields::from_body(body);
    let _ = input::parse_patch(
        &EnterpriseInput::default(),
        body,
        &[],
        EnterpriseFields::parse,
    );
    let _ = ParticipantFields::from_body(body);
    let _ = input::parse_patch(
        &ParticipantInput::default(),
        body,
        &[],
        ParticipantFields::parse,
    );
    let _ = VisitFields::from_body(body, now);
    let _ = input::parse_patch(&VisitInput::default(), body, &[], |i| {
        VisitFields::parse(i, now)
    });
    let _ = NewOrderClass::from_body(body);
    let _ = OrderClassFields::from_body(body);
    let _ = input::parse_patch(
        &OrderClassInput::default(),
        body,
        &[],
        OrderClassFields::parse,
    );
    let _ = NewInternshipBase::from_body(body);
    let _ = InternshipBaseFields::from_body(body);
    let _ = input::parse_patch(
        &InternshipBaseInput::default(),
        body,
        &[],
        InternshipBaseFields::parse,
    );
    let _ = AgreementFields::from_body(body);
    let _ = input::parse_patch(
        &AgreementInput::default(),
        body,
        &[],
        AgreementFields::parse,
    );
    let _ = TokenFields::from_body(body);
    let _ = TransitionRequest::from_body(body);
    let mut target = json!({"name": "x", "nested": {"a": 1}});
    input::merge_patch(&mut target, body);
}

/// Member names the parsers know, so that generated objects reach past the
/// unknown-field check into the field rules.
const FIELDS: &[&str] = &[
    "name",
    "kind",
    "credit_code",
    "parent_id",
    "industry",
    "region",
    "address",
    "website",
    "description",
    "full_name",
    "side",
    "enterprise_id",
    "title",
    "department",
    "email",
    "phone",
    "notes",
    "starts_at",
    "ends_at",
    "direction",
    "location",
    "purpose",
    "summary",
    "outcome",
    "follow_up",
    "follow_up_due",
    "status",
    "enterprise_ids",
    "participants",
    "participant_id",
    "role",
    "order_class_ids",
    "internship_base_ids",
    "major",
    "cohort_year",
    "planned_size",
    "enrolled_count",
    "employed_count",
    "allow_over_enrollment",
    "starts_on",
    "ends_on",
    "capacity",
    "positions",
    "number",
    "signed_on",
    "valid_from",
    "valid_until",
    "document_url",
    "order_class_id",
    "internship_base_id",
    "stage",
    "to_stage",
    "note",
    "visit_id",
    "agreement_id",
    "occurred_at",
    "expires_in_days",
    "id",
    "version",
    "created_at",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
        // Values that look like what the fields want, to reach deeper rules.
        prop_oneof![
            Just("2024-11-29T02:00:00Z"),
            Just("2024-11-29"),
            Just("intention"),
            Just("terminated"),
            Just("company"),
            Just("school"),
            Just("host"),
            Just(MISSING_ID),
            Just("914403001922038216"),
            Just("https://example.cn"),
            Just("a@b.cn"),
            Just("\u{0}"),
            Just("ＣＡＲＢＯＮＢＡＹ"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        3 => prop::sample::select(FIELDS).prop_map(str::to_string),
                        1 => any::<String>(),
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

static BYTE_CASES: AtomicU64 = AtomicU64::new(0);
static JSON_CASES: AtomicU64 = AtomicU64::new(0);

const CASES: u32 = 1500;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Arbitrary bytes, as the body reader gets them: whatever parses as JSON goes
    /// through every parser.
    fn body_parsers_survive_arbitrary_bytes(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            // Bytes around a JSON object, so that many are JSON.
            (prop::collection::vec(any::<u8>(), 0..64), prop::sample::select(FIELDS))
                .prop_map(|(tail, field)| {
                    let mut bytes = format!("{{\"{field}\": \"").into_bytes();
                    bytes.extend(tail);
                    bytes.extend(b"\"}");
                    bytes
                }),
        ]
    ) {
        BYTE_CASES.fetch_add(1, Ordering::Relaxed);
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            parse_everything(&value);
        }
    }

    /// Arbitrary JSON values, objects mostly of the members the parsers know.
    fn body_parsers_survive_arbitrary_json(value in json_value()) {
        JSON_CASES.fetch_add(1, Ordering::Relaxed);
        parse_everything(&value);
        parse_everything(&json!({ "participants": [value.clone()], "enterprise_ids": value }));
    }
}

/// Runs both properties and records how many cases each tried, once they hold.
#[test]
fn body_parsers_report() {
    body_parsers_survive_arbitrary_bytes();
    body_parsers_survive_arbitrary_json();
    let mut report = Report::without_database("parsers");
    let parsers =
        "every body parser (create and merge patch of the six resources, transitions, tokens)";
    report.add(
        "Hostile input",
        &format!("{parsers} fed arbitrary bytes (proptest)"),
        BYTE_CASES.load(Ordering::Relaxed),
        "no panic; malformed input is an error value",
    );
    report.add(
        "Hostile input",
        &format!("{parsers} fed arbitrary JSON values (proptest)"),
        JSON_CASES.load(Ordering::Relaxed),
        "no panic; malformed input is an error value",
    );
    report.save();
}

/// Strings that have broken services elsewhere. None has leading, trailing,
/// repeated or non-ASCII whitespace, which one-line fields tidy into one space by
/// design.
const HOSTILE_STRINGS: &[&str] = &[
    "Robert'); DROP TABLE enterprises;--",
    "' OR '1'='1",
    "\"; SELECT pg_sleep(10); --",
    "%00%27%22",
    "\\x00\\'",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "😀🏭🤝 合作愉快 👩‍👩‍👧‍👦",
    "ＣＡＲＢＯＮＢＡＹ化工",
    "شركة الخليج للبتروكيماويات",
    "\u{202e}gnp.exe",
    "שלום\u{200f}עולם",
    "e\u{301}\u{301}\u{301}",
    "\u{feff}BOM",
    "\u{1}\u{7}\u{1b}[31mred",
    "𝕷𝖎𝖆𝖎𝖘𝖔𝖓",
    "null",
    "%s%s%s%n",
    "\u{0}",
    "a\u{0}b",
];

/// (collection, body around the hostile text, the field that carries it).
fn targets(enterprise: &str) -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("enterprises", json!({}), "name"),
        ("enterprises", json!({"name": "N"}), "description"),
        ("enterprises", json!({"name": "N"}), "address"),
        ("participants", json!({"side": "school"}), "full_name"),
        (
            "participants",
            json!({"full_name": "F", "side": "school"}),
            "notes",
        ),
        (
            "visits",
            json!({"starts_at": "2024-11-29T02:00:00Z", "direction": "inbound", "enterprise_ids": [enterprise]}),
            "title",
        ),
        (
            "order-classes",
            json!({"enterprise_id": enterprise}),
            "name",
        ),
        (
            "internship-bases",
            json!({"enterprise_id": enterprise, "name": "B"}),
            "location",
        ),
        (
            "agreements",
            json!({"enterprise_id": enterprise, "kind": "framework", "signed_on": "2024-11-29", "valid_from": "2024-12-01"}),
            "title",
        ),
    ]
}

async fn hostile_requests_are_refused_or_kept_exactly(app: TestApp) {
    let backend = app.backend;
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let park_id = park["id"].as_str().expect("id").to_string();
    let (mut kept, mut refused, mut sent) = (0u64, 0u64, 0u64);
    for (n, text) in HOSTILE_STRINGS.iter().enumerate() {
        for (collection, mut body, field) in targets(&park_id) {
            // Names are unique: a number keeps each one new.
            let value = if ["name", "full_name", "title"].contains(&field) {
                format!("{n}{collection}{text}")
            } else {
                text.to_string()
            };
            if let Some(name) = body.get_mut("name") {
                *name = json!(format!("{n} {field} {collection}"));
            }
            body[field] = json!(value);
            let path = format!("/api/v1/{collection}");
            let response = app.post(&path, &body).await;
            sent += 1;
            assert!(
                response.status < 500,
                "POST {path} {body}: {}",
                response.text
            );
            if response.status >= 400 {
                let status = response.status;
                let problem = response.problem(status);
                // NUL is the one character no text field takes (PostgreSQL cannot store it).
                assert!(
                    text.contains('\0') && problem["errors"][0]["code"] == "invalid_character",
                    "POST {path} {body}: {problem}"
                );
                refused += 1;
                continue;
            }
            // One-line fields leave out the four characters that show nothing in
            // them (zero-width space, word joiner, byte order mark, soft hyphen);
            // everything else is kept exactly.
            let expected = if ["description", "notes"].contains(&field) {
                value.clone()
            } else {
                value.replace(['\u{200B}', '\u{2060}', '\u{FEFF}', '\u{00AD}'], "")
            };
            assert_eq!(
                response.body[field],
                json!(expected),
                "POST {path}: {}",
                response.text
            );
            let id = response.body["id"].as_str().expect("id").to_string();
            let stored = app.get(&format!("{path}/{id}")).await.expect(200).body;
            assert_eq!(stored[field], json!(expected), "GET {path}/{id}");
            // And found again by a search for it.
            let q: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            let found = app.get(&format!("{path}?q={q}")).await;
            assert!(
                found.status < 500,
                "search {path} for {value:?}: {}",
                found.text
            );
            kept += 1;
        }
    }
    assert!(kept > 100, "only {kept} hostile strings were kept");

    // Hostile ids in every path that takes one, and hostile query strings.
    let ids = [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "..",
        "%00",
        "'%20OR%201=1--",
        "%F0%9F%98%80",
        "%FF%FE",
        "01a22599-0000-7000-8000-000000000000%00",
        &"9".repeat(4096),
    ];
    let mut id_attempts = 0u64;
    for endpoint in liaison::http::endpoints() {
        if !endpoint.path.contains("{id}") {
            continue;
        }
        for id in ids {
            let path = endpoint.path.replace("{id}", id);
            let method = Method::from_bytes(endpoint.method.as_str().as_bytes()).expect("method");
            let response = app
                .client
                .request(method.clone(), format!("{}{path}", app.address))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("answered");
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{method} {path}: {status}");
            id_attempts += 1;
        }
    }
    let mut query_attempts = 0u64;
    for list in [
        "enterprises",
        "participants",
        "visits",
        "order-classes",
        "internship-bases",
        "agreements",
    ] {
        for query in [
            "q=%00",
            "q=%27%3B%20DROP%20TABLE%20enterprises%3B--",
            "q=%25%25%25_",
            "sort=name;DROP",
            "limit=-1",
            "limit=99999999999999999999",
            "cursor=..%2F..",
            "cursor=%FF",
            "stage=%00",
            "include_archived=maybe",
            "from=2024-13-45",
            "q=%F0%9F%98%80",
            &format!("q={}", "a".repeat(16 * 1024)),
            &"stage=intention&".repeat(2_000),
            &format!("sort={}", "-".repeat(1000)),
        ] {
            let url = format!("{}/api/v1/{list}?{query}", app.address);
            let response = app.client.get(&url).send().await.expect("answered");
            assert!(
                response.status().as_u16() < 500,
                "{url}: {}",
                response.status()
            );
            query_attempts += 1;
        }
    }

    // Hostile bodies to every route that takes one.
    let deep = "[".repeat(100_000);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("1 MiB body", vec![b' '; 1024 * 1024]),
        ("100 000 nested `[`", deep.into_bytes()),
        (
            "array of 60 000 numbers",
            format!("[{}0]", "0,".repeat(60_000)).into_bytes(),
        ),
        (
            "5 000 enterprise ids",
            serde_json::to_vec(&json!({"enterprise_ids": vec![MISSING_ID; 5_000]})).expect("JSON"),
        ),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\xc0\"}".to_vec()),
        ("raw NUL bytes", b"{\"name\": \"a\x00b\"}".to_vec()),
        ("lone surrogate escape", br#"{"name": "\ud800"}"#.to_vec()),
        (
            "huge number",
            format!("{{\"planned_size\": 1{}}}", "0".repeat(5000)).into_bytes(),
        ),
    ];
    let mut body_attempts = 0u64;
    for endpoint in liaison::http::endpoints() {
        let method = endpoint.method.as_str();
        if !endpoint.path.starts_with("/api/v1/") || !["POST", "PATCH"].contains(&method) {
            continue;
        }
        let path = endpoint.path.replace("{id}", &park_id);
        for (what, bytes) in &bodies {
            let response = app
                .client
                .request(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    format!("{}{path}", app.address),
                )
                .header("content-type", "application/json")
                .body(bytes.clone())
                .send()
                .await
                .expect("answered");
            let status = response.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{method} {path} with {what}: {status}"
            );
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{method} {path} with {what}"
            );
            body_attempts += 1;
        }
    }
    // Still serving, and still the same park.
    let after = app
        .get(&format!("/api/v1/enterprises/{park_id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(after["version"], park["version"]);

    let mut report = Report::new("hostile", backend);
    let area = "Hostile input";
    report.add(
        area,
        "SQL-looking, path-like, format, emoji, full-width, RTL, bidi-override, combining, control and NUL strings in text fields of every resource, then searched for",
        sent,
        format!("{kept} stored and returned byte-exact (GET and search), {refused} refused 422 `invalid_character` (those with NUL, which no text field takes); 0 5xx"),
    );
    report.add(
        area,
        "path traversal, NUL, SQL, emoji, invalid percent-encoding and 4 KiB ids on every route with an `{id}`",
        id_attempts,
        "all 4xx; 0 5xx",
    );
    report.add(
        area,
        "hostile query strings (NUL, SQL, LIKE wildcards, bad numbers, forged cursors, a 16 KiB search, 2 000 repeated parameters) on every list",
        query_attempts,
        "all 200 or 4xx; 0 5xx",
    );
    report.add(
        area,
        "oversized (1 MiB), 100 000-deep, huge-array, invalid UTF-8, NUL, lone-surrogate, and huge-number bodies on every POST and PATCH route",
        body_attempts,
        "all 4xx problems; nothing changed; 0 5xx",
    );
    report.save();
}

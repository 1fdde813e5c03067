//! `/api/v1/enterprises`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, Response, TestApp, CREDIT_CODES};

backend_tests!(
    create_then_get_round_trips,
    create_round_trips_every_field,
    create_fills_in_defaults,
    create_tidies_whitespace,
    create_normalises_credit_code,
    name_is_required,
    name_longer_than_200_characters_is_too_long,
    credit_code_must_be_valid,
    kind_must_be_one_of_the_vocabulary,
    website_must_be_an_http_url,
    long_text_fields_have_limits,
    nul_characters_are_refused,
    wrong_json_types_are_named,
    unknown_field_is_named,
    read_only_fields_are_refused,
    several_bad_fields_are_reported_together,
    parent_must_exist_and_be_live,
    body_must_be_a_json_object,
    malformed_json_is_a_bad_request,
    body_must_be_sent_as_json,
    oversized_body_is_refused,
    get_unknown_id_is_not_found,
    get_malformed_id_is_a_bad_request,
    same_name_is_a_conflict_naming_the_first,
    name_variants_are_the_same_name,
    same_credit_code_is_a_conflict,
    archived_enterprise_still_holds_its_name,
    renaming_onto_another_name_is_a_conflict,
    concurrent_creates_of_one_name_make_one_record,
    concurrent_creates_of_one_credit_code_make_one_record,
    concurrent_creates_of_distinct_names_all_succeed,
    concurrent_renames_onto_one_name_let_one_win,
    concurrent_conditional_patches_let_one_win,
    concurrent_archives_let_one_win,
    concurrent_cross_parenting_makes_no_cycle,
    company_sits_inside_a_park,
    parent_cycles_are_refused,
    longer_parent_cycle_is_refused,
    parent_is_cleared_with_null,
    patch_changes_fields_and_bumps_the_version,
    patch_null_clears_optional_fields,
    patch_null_name_is_required,
    patch_is_checked_like_a_create,
    no_op_patch_keeps_the_version,
    stale_if_match_on_patch_changes_nothing,
    matching_if_match_allows_the_patch,
    patch_of_archived_enterprise_is_a_conflict,
    patch_of_unknown_id_is_not_found,
    delete_archives_and_hides_from_the_list,
    archive_and_restore_refuse_the_wrong_state,
    stale_if_match_on_archive_and_restore_changes_nothing,
    list_filters_by_kind_stage_parent_industry_and_region,
    search_matches_part_of_the_name_or_credit_code,
    search_treats_wildcards_literally,
    list_sorts_by_name_and_timestamps,
    bad_list_parameters_are_bad_requests,
    cursor_only_continues_its_own_sort,
    paging_by_creation_sees_each_record_once,
    paging_by_name_sees_each_record_once,
    paging_newest_first_sees_each_record_once,
);

const ENTERPRISES: &str = "/api/v1/enterprises";
const MERGE_PATCH: (&str, &str) = ("content-type", "application/merge-patch+json");

fn at(id: &str) -> String {
    format!("{ENTERPRISES}/{id}")
}

/// Percent-encodes a query-string value.
fn enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `(field, code)` pairs, sorted, for comparison regardless of order.
fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = expected
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    pairs.sort();
    pairs
}

fn sorted(mut errors: Vec<(String, String)>) -> Vec<(String, String)> {
    errors.sort();
    errors
}

/// Posts a create body that must be refused; returns its `(field, code)` pairs, sorted.
async fn refused(app: &TestApp, body: Value) -> Vec<(String, String)> {
    sorted(app.post(ENTERPRISES, &body).await.field_errors(422))
}

/// The names in one list response, in order.
async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("{ENTERPRISES}?{query}"))
        .await
        .expect(200)
        .body;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

/// Sends `body` as is, with the given content type (none when `None`).
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Response {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.address))
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
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

async fn create_round_trips_every_field(app: TestApp) {
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park"}))
        .await;
    let body = json!({
        "name": "Carbonbay Fine Chemical Co., Ltd.",
        "credit_code": CREDIT_CODES[1],
        "kind": "company",
        "industry": "Fine chemicals",
        "region": "Zhejiang Hangzhou",
        "address": "18 Binhai Road, Carbonbay Industrial Park",
        "website": "https://carbonbay-chem.example.com/about",
        "description": "Makes coatings.\nSponsors an order class in applied chemistry.",
        "parent_id": park["id"],
    });
    let created = app.post(ENTERPRISES, &body).await.expect(201);
    let record = &created.body;
    for (field, value) in body.as_object().expect("object") {
        assert_eq!(&record[field], value, "{field} round-trips");
    }
    let id = id_of(record);
    let fetched = app.get(&at(&id)).await.expect(200);
    assert_eq!(&fetched.body, record);
    assert_eq!(fetched.etag(), "\"1\"");
    let listed = app.get(ENTERPRISES).await.expect(200).body;
    let in_list = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == record["id"])
        .expect("the new enterprise is listed");
    assert_eq!(in_list, record);
}

async fn create_fills_in_defaults(app: TestApp) {
    let created = app
        .post(ENTERPRISES, &json!({"name": "Greenfield Logistics"}))
        .await
        .expect(201);
    let record = &created.body;
    let id = id_of(record);
    let uuid = uuid::Uuid::parse_str(&id).expect("id is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "ids are UUID v7");
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/enterprises/{id}").as_str())
    );
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(record["kind"], "company");
    assert_eq!(record["stage"], "intention");
    assert_eq!(record["version"], 1);
    assert_eq!(record["archived_at"], Value::Null);
    for field in [
        "credit_code",
        "industry",
        "region",
        "address",
        "website",
        "description",
        "parent_id",
    ] {
        assert_eq!(record[field], Value::Null, "{field} defaults to null");
    }
    let created_at = record["created_at"].as_str().expect("created_at");
    chrono::DateTime::parse_from_rfc3339(created_at).expect("created_at is RFC 3339");
    assert_eq!(record["updated_at"], record["created_at"]);
    assert_eq!(record["stage_changed_at"], record["created_at"]);
}

async fn create_tidies_whitespace(app: TestApp) {
    let record = app
        .enterprise(json!({
            "name": "  Carbonbay \t Chemical\n Co. ",
            "industry": "  Fine   chemicals ",
            "region": "\u{3000}Hangzhou\u{3000}",
            "address": "   ",
            "website": "  https://carbonbay.example.com  ",
            "description": "  Line one\n\nLine two  ",
        }))
        .await;
    assert_eq!(record["name"], "Carbonbay Chemical Co.");
    assert_eq!(record["industry"], "Fine chemicals");
    assert_eq!(record["region"], "Hangzhou");
    assert_eq!(record["address"], Value::Null, "blank counts as absent");
    assert_eq!(record["website"], "https://carbonbay.example.com");
    assert_eq!(
        record["description"], "Line one\n\nLine two",
        "free text keeps its line breaks"
    );
}

async fn create_normalises_credit_code(app: TestApp) {
    let lower = app
        .enterprise(json!({"name": "Lower Case Co.", "credit_code": "9144030071526726xg"}))
        .await;
    assert_eq!(lower["credit_code"], "9144030071526726XG");
    let full_width = app
        .enterprise(json!({"name": "Full Width Co.", "credit_code": "９１３３０１００７１６１０５８５２ｆ"}))
        .await;
    assert_eq!(full_width["credit_code"], "91330100716105852F");
    let spaced = app
        .enterprise(json!({"name": "Spaced Co.", "credit_code": "  91350100m000100y43 "}))
        .await;
    assert_eq!(spaced["credit_code"], "91350100M000100Y43");
    let blank = app
        .enterprise(json!({"name": "Blank Code Co.", "credit_code": "  "}))
        .await;
    assert_eq!(blank["credit_code"], Value::Null);
    let fetched = app.get(&at(&id_of(&lower))).await.expect(200).body;
    assert_eq!(fetched["credit_code"], "9144030071526726XG");
}

async fn name_is_required(app: TestApp) {
    for body in [
        json!({"kind": "company"}),
        json!({"name": ""}),
        json!({"name": "   \t\n"}),
        json!({"name": null}),
    ] {
        assert_eq!(
            refused(&app, body.clone()).await,
            pairs(&[("name", "required")]),
            "{body}"
        );
    }
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn name_longer_than_200_characters_is_too_long(app: TestApp) {
    let longest = "a".repeat(200);
    let record = app.enterprise(json!({"name": longest})).await;
    assert_eq!(record["name"], longest);
    assert_eq!(
        refused(&app, json!({"name": "b".repeat(201)})).await,
        pairs(&[("name", "too_long")])
    );
    // The limit applies to the tidied name.
    let padded = app
        .enterprise(json!({"name": format!("  {}  ", "c".repeat(200))}))
        .await;
    assert_eq!(padded["name"], "c".repeat(200));
    // Characters, not bytes, are counted.
    let chinese = "碳".repeat(200);
    app.enterprise(json!({"name": chinese})).await;
    assert_eq!(
        refused(&app, json!({"name": "湾".repeat(201)})).await,
        pairs(&[("name", "too_long")])
    );
    assert_eq!(app.collect_ids(ENTERPRISES).await.len(), 3);
}

async fn credit_code_must_be_valid(app: TestApp) {
    let valid = "914403001922038216";
    let mut bad = vec![
        "91440300192203821".to_string(),   // 17 characters
        "9144030019220382166".to_string(), // 19 characters
        "914403001922038217".to_string(),  // wrong check character
        "9144-3001922038216".to_string(),  // not in the alphabet
        "not a credit code".to_string(),
    ];
    for letter in ['I', 'O', 'S', 'V', 'Z'] {
        let mut code: Vec<char> = valid.chars().collect();
        code[4] = letter;
        bad.push(code.into_iter().collect());
    }
    for code in &bad {
        assert_eq!(
            refused(&app, json!({"name": "Coded Co.", "credit_code": code})).await,
            pairs(&[("credit_code", "invalid_credit_code")]),
            "{code}"
        );
    }
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
    app.enterprise(json!({"name": "Coded Co.", "credit_code": valid}))
        .await;
}

async fn kind_must_be_one_of_the_vocabulary(app: TestApp) {
    for kind in ["farm", "Company", "industrial park", ""] {
        assert_eq!(
            refused(&app, json!({"name": "Kinded", "kind": kind})).await,
            pairs(&[("kind", "invalid_enum")]),
            "{kind:?}"
        );
    }
    for kind in [
        "company",
        "industrial_park",
        "association",
        "government",
        "institution",
    ] {
        let record = app
            .enterprise(json!({"name": format!("A {kind}"), "kind": kind}))
            .await;
        assert_eq!(record["kind"], kind);
    }
}

async fn website_must_be_an_http_url(app: TestApp) {
    for website in [
        "ftp://carbonbay.example.com",
        "javascript:alert(1)",
        "carbonbay.example.com",
        "http://",
        "mailto:office@example.com",
    ] {
        assert_eq!(
            refused(&app, json!({"name": "Webbed", "website": website})).await,
            pairs(&[("website", "invalid_url")]),
            "{website}"
        );
    }
    let too_long = format!("https://example.com/{}", "a".repeat(2030));
    assert_eq!(
        refused(&app, json!({"name": "Webbed", "website": too_long})).await,
        pairs(&[("website", "too_long")])
    );
    let http = app
        .enterprise(json!({"name": "Plain Web", "website": "http://plain.example.com"}))
        .await;
    assert_eq!(http["website"], "http://plain.example.com");
    let https = app
        .enterprise(json!({"name": "Secure Web", "website": "https://secure.example.com/a?b=c"}))
        .await;
    assert_eq!(https["website"], "https://secure.example.com/a?b=c");
}

async fn long_text_fields_have_limits(app: TestApp) {
    assert_eq!(
        refused(
            &app,
            json!({
                "name": "Wordy Co.",
                "industry": "i".repeat(101),
                "region": "r".repeat(101),
                "address": "a".repeat(501),
                "description": "d".repeat(10_001),
            })
        )
        .await,
        pairs(&[
            ("address", "too_long"),
            ("description", "too_long"),
            ("industry", "too_long"),
            ("region", "too_long"),
        ])
    );
    let record = app
        .enterprise(json!({
            "name": "Wordy Co.",
            "industry": "i".repeat(100),
            "region": "r".repeat(100),
            "address": "a".repeat(500),
            "description": "d".repeat(10_000),
        }))
        .await;
    assert_eq!(record["address"], "a".repeat(500));
    assert_eq!(record["description"], "d".repeat(10_000));
}

async fn nul_characters_are_refused(app: TestApp) {
    assert_eq!(
        refused(&app, json!({"name": "Carbon\u{0}bay"})).await,
        pairs(&[("name", "invalid_character")])
    );
    assert_eq!(
        refused(
            &app,
            json!({"name": "Carbonbay", "description": "a\u{0}b", "industry": "\u{0}"})
        )
        .await,
        pairs(&[
            ("description", "invalid_character"),
            ("industry", "invalid_character")
        ])
    );
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn wrong_json_types_are_named(app: TestApp) {
    assert_eq!(
        refused(&app, json!({"name": 5})).await,
        pairs(&[("name", "invalid_type")])
    );
    assert_eq!(
        refused(&app, json!({"name": ["Carbonbay"]})).await,
        pairs(&[("name", "invalid_type")])
    );
    assert_eq!(
        refused(
            &app,
            json!({"name": "Carbonbay", "industry": {"main": "chemicals"}, "kind": 3, "parent_id": 7, "website": true})
        )
        .await,
        pairs(&[
            ("industry", "invalid_type"),
            ("kind", "invalid_type"),
            ("parent_id", "invalid_type"),
            ("website", "invalid_type"),
        ])
    );
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn unknown_field_is_named(app: TestApp) {
    assert_eq!(
        refused(&app, json!({"name": "Carbonbay", "nmae": "Carbonbay"})).await,
        pairs(&[("nmae", "unknown_field")])
    );
    assert_eq!(
        refused(
            &app,
            json!({"name": "Carbonbay", "phone": "123", "email": "a@b.c"})
        )
        .await,
        pairs(&[("email", "unknown_field"), ("phone", "unknown_field")])
    );
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn read_only_fields_are_refused(app: TestApp) {
    for (field, value) in [
        ("stage", json!("agreement")),
        ("id", json!(uuid::Uuid::now_v7().to_string())),
        ("version", json!(7)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("archived_at", json!(null)),
    ] {
        let mut body = json!({"name": "Carbonbay"});
        body[field] = value;
        assert_eq!(
            refused(&app, body).await,
            pairs(&[(field, "read_only")]),
            "{field}"
        );
    }
    assert_eq!(
        refused(
            &app,
            json!({"name": "Carbonbay", "stage": "completed", "version": 2, "id": "x"})
        )
        .await,
        pairs(&[
            ("id", "read_only"),
            ("stage", "read_only"),
            ("version", "read_only")
        ])
    );
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn several_bad_fields_are_reported_together(app: TestApp) {
    let problem = app
        .post(
            ENTERPRISES,
            &json!({
                "name": "",
                "credit_code": "914403001922038217",
                "kind": "farm",
                "website": "javascript:alert(1)",
                "region": "r".repeat(101),
                "extra": true,
            }),
        )
        .await
        .problem(422);
    let errors = problem["errors"].as_array().expect("errors");
    for error in errors {
        assert!(error["message"].is_string(), "{error}");
    }
    let got: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["field"].as_str().expect("field").to_string(),
                e["code"].as_str().expect("code").to_string(),
            )
        })
        .collect();
    assert_eq!(
        sorted(got),
        pairs(&[
            ("credit_code", "invalid_credit_code"),
            ("extra", "unknown_field"),
            ("kind", "invalid_enum"),
            ("name", "required"),
            ("region", "too_long"),
            ("website", "invalid_url"),
        ])
    );
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn parent_must_exist_and_be_live(app: TestApp) {
    let nowhere = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        refused(&app, json!({"name": "Orphan Co.", "parent_id": nowhere})).await,
        pairs(&[("parent_id", "not_found")])
    );
    let park = app
        .enterprise(json!({"name": "Old Park", "kind": "industrial_park"}))
        .await;
    app.delete(&at(&id_of(&park))).await.expect(200);
    assert_eq!(
        refused(&app, json!({"name": "Orphan Co.", "parent_id": park["id"]})).await,
        pairs(&[("parent_id", "archived")])
    );
    let company = app.enterprise(json!({"name": "Orphan Co."})).await;
    assert_eq!(
        sorted(
            app.patch(&at(&id_of(&company)), &json!({"parent_id": park["id"]}))
                .await
                .field_errors(422)
        ),
        pairs(&[("parent_id", "archived")])
    );
    assert_eq!(
        sorted(
            app.patch(&at(&id_of(&company)), &json!({"parent_id": nowhere}))
                .await
                .field_errors(422)
        ),
        pairs(&[("parent_id", "not_found")])
    );
    let fetched = app.get(&at(&id_of(&company))).await.expect(200).body;
    assert_eq!(fetched, company, "refused patches change nothing");
}

async fn body_must_be_a_json_object(app: TestApp) {
    for body in [
        json!(["Carbonbay"]),
        json!("Carbonbay"),
        json!(5),
        json!(null),
    ] {
        assert_eq!(
            refused(&app, body.clone()).await,
            pairs(&[("", "not_an_object")]),
            "{body}"
        );
    }
    let company = app.enterprise(json!({"name": "Carbonbay"})).await;
    assert_eq!(
        sorted(
            app.patch(&at(&id_of(&company)), &json!(["name"]))
                .await
                .field_errors(422)
        ),
        pairs(&[("", "not_an_object")])
    );
}

async fn malformed_json_is_a_bad_request(app: TestApp) {
    let raws: [&[u8]; 4] = [b"{\"name\": ", b"{'name': 'x'}", b"", b"\xff\xfe"];
    for raw in raws {
        let problem = send_raw(
            &app,
            Method::POST,
            ENTERPRISES,
            Some("application/json"),
            raw.to_vec(),
        )
        .await
        .problem(400);
        assert_eq!(problem["type"], "/problems/malformed_json", "{problem}");
    }
    // Nesting deep enough to exhaust a recursive parser is refused, not a crash.
    let deep = format!("{{\"name\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    send_raw(
        &app,
        Method::POST,
        ENTERPRISES,
        Some("application/json"),
        deep.into_bytes(),
    )
    .await
    .problem(400);
    let company = app.enterprise(json!({"name": "Carbonbay"})).await;
    send_raw(
        &app,
        Method::PATCH,
        &at(&id_of(&company)),
        Some("application/merge-patch+json"),
        b"{\"name\": \"Carbonbay\",}".to_vec(),
    )
    .await
    .problem(400);
    assert_eq!(app.collect_ids(ENTERPRISES).await.len(), 1);
}

async fn body_must_be_sent_as_json(app: TestApp) {
    let body = br#"{"name": "Carbonbay"}"#.to_vec();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        None,
    ] {
        let problem = send_raw(&app, Method::POST, ENTERPRISES, content_type, body.clone())
            .await
            .problem(415);
        assert_eq!(problem["type"], "/problems/unsupported_media_type");
    }
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
    // A charset parameter is still JSON.
    send_raw(
        &app,
        Method::POST,
        ENTERPRISES,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await
    .expect(201);
}

async fn oversized_body_is_refused(app: TestApp) {
    let huge = json!({"name": "Carbonbay", "description": "d".repeat(300 * 1024)});
    let problem = app.post(ENTERPRISES, &huge).await.problem(413);
    assert_eq!(problem["type"], "/problems/payload_too_large");
    // Just under the limit, the body is read and the field rule answers.
    let big = json!({"name": "Carbonbay", "description": "d".repeat(200 * 1024)});
    assert_eq!(
        refused(&app, big).await,
        pairs(&[("description", "too_long")])
    );
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn get_unknown_id_is_not_found(app: TestApp) {
    app.enterprise(json!({"name": "Carbonbay"})).await;
    let nowhere = uuid::Uuid::now_v7().to_string();
    let problem = app.get(&at(&nowhere)).await.problem(404);
    assert_eq!(problem["type"], "/problems/not_found");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains(&nowhere),
        "{problem}"
    );
}

async fn get_malformed_id_is_a_bad_request(app: TestApp) {
    for id in ["not-a-uuid", "12345", "0190a1b2-c3d4-7e5f-8a9b"] {
        assert_eq!(
            app.get(&at(id)).await.field_errors(400),
            pairs(&[("id", "invalid_id")]),
            "{id}"
        );
    }
    app.patch(&at("nope"), &json!({"name": "x"}))
        .await
        .problem(400);
    app.delete(&at("nope")).await.problem(400);
    app.post(&format!("{ENTERPRISES}/nope/restore"), &json!({}))
        .await
        .problem(400);
}

async fn same_name_is_a_conflict_naming_the_first(app: TestApp) {
    let first = app
        .enterprise(json!({"name": "Carbonbay Chemical Co."}))
        .await;
    let problem = app
        .post(
            ENTERPRISES,
            &json!({"name": "Carbonbay Chemical Co.", "kind": "association"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/duplicate_name");
    assert_eq!(problem["existing_id"], first["id"]);
    assert_eq!(app.collect_ids(ENTERPRISES).await, [id_of(&first)]);
}

async fn name_variants_are_the_same_name(app: TestApp) {
    let first = app
        .enterprise(json!({"name": "Carbonbay Chemical Co."}))
        .await;
    for variant in [
        "carbonbay chemical co.",
        "CARBONBAY CHEMICAL CO.",
        "  Carbonbay   Chemical\tCo. ",
        "Ｃａｒｂｏｎｂａｙ　Ｃｈｅｍｉｃａｌ　Ｃｏ．",
        "ＣＡＲＢＯＮＢＡＹ ＣＨＥＭＩＣＡＬ ＣＯ.",
    ] {
        let problem = app
            .post(ENTERPRISES, &json!({"name": variant}))
            .await
            .problem(409);
        assert_eq!(problem["existing_id"], first["id"], "{variant}");
    }
    let park = app.enterprise(json!({"name": "碳湾（集团）"})).await;
    // A zero-width space or a byte order mark pasted into the name changes nothing.
    for variant in ["碳湾(集团)", "碳湾\u{200b}(集团)", "\u{feff}碳湾（集团）"] {
        let problem = app
            .post(ENTERPRISES, &json!({"name": variant}))
            .await
            .problem(409);
        assert_eq!(problem["existing_id"], park["id"], "{variant}");
    }
    let pasted = app.enterprise(json!({"name": "测试\u{200b}企业"})).await;
    assert_eq!(pasted["name"], "测试企业");
    // A different name is not a variant.
    app.enterprise(json!({"name": "Carbonbay Chemicals Co."}))
        .await;
    assert_eq!(app.collect_ids(ENTERPRISES).await.len(), 4);
}

async fn same_credit_code_is_a_conflict(app: TestApp) {
    let first = app
        .enterprise(
            json!({"name": "Tencent Computer Systems", "credit_code": "9144030071526726XG"}),
        )
        .await;
    for code in [
        "9144030071526726xg",
        " 9144030071526726XG ",
        "９１４４０３００７１５２６７２６ＸＧ",
    ] {
        let problem = app
            .post(
                ENTERPRISES,
                &json!({"name": "Somebody Else", "credit_code": code}),
            )
            .await
            .problem(409);
        assert_eq!(problem["type"], "/problems/duplicate_credit_code");
        assert_eq!(problem["existing_id"], first["id"], "{code}");
    }
    // Having no code is not a clash.
    app.enterprise(json!({"name": "No Code One"})).await;
    app.enterprise(json!({"name": "No Code Two"})).await;
    // Taking another's code by PATCH is refused too.
    let other = app
        .enterprise(json!({"name": "Huawei", "credit_code": CREDIT_CODES[0]}))
        .await;
    let problem = app
        .patch(
            &at(&id_of(&other)),
            &json!({"credit_code": "9144030071526726xg"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], first["id"]);
    let fetched = app.get(&at(&id_of(&other))).await.expect(200).body;
    assert_eq!(fetched["credit_code"], CREDIT_CODES[0]);
}

async fn archived_enterprise_still_holds_its_name(app: TestApp) {
    let old = app
        .enterprise(json!({"name": "Carbonbay Chemical", "credit_code": CREDIT_CODES[3]}))
        .await;
    app.delete(&at(&id_of(&old))).await.expect(200);
    let problem = app
        .post(ENTERPRISES, &json!({"name": "carbonbay chemical"}))
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], old["id"]);
    let problem = app
        .post(
            ENTERPRISES,
            &json!({"name": "New Name", "credit_code": CREDIT_CODES[3]}),
        )
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], old["id"]);
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());
}

async fn renaming_onto_another_name_is_a_conflict(app: TestApp) {
    let first = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let second = app
        .enterprise(json!({"name": "Greenfield Logistics"}))
        .await;
    let second_id = id_of(&second);
    let problem = app
        .patch(&at(&second_id), &json!({"name": "CARBONBAY  chemical"}))
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], first["id"]);
    assert_eq!(app.get(&at(&second_id)).await.expect(200).body, second);
    // Keeping its own name, or changing only its spelling, is fine.
    let same = app
        .patch(
            &at(&second_id),
            &json!({"name": "Greenfield Logistics", "industry": "Logistics"}),
        )
        .await
        .expect(200);
    assert_eq!(same.body["version"], 2);
    let respelled = app
        .patch(&at(&second_id), &json!({"name": "GREENFIELD logistics"}))
        .await
        .expect(200);
    assert_eq!(respelled.body["name"], "GREENFIELD logistics");
    assert_eq!(respelled.body["version"], 3);
}

/// One request of a burst: method, path, JSON body and headers.
type Burst = Vec<(Method, String, Option<Value>, Vec<(&'static str, String)>)>;

/// Sends every request of `burst` at once; returns each (status, body) in order.
async fn send_concurrently(app: &TestApp, burst: Burst) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = burst
        .into_iter()
        .map(|(method, path, body, headers)| {
            let mut request = app.client.request(method, format!("{}{path}", app.address));
            for (name, value) in headers {
                request = request.header(name, value);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            tokio::spawn(async move {
                let response = request.send().await.expect("request sent");
                let status = response.status().as_u16();
                let text = response.text().await.expect("response body");
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    results
}

/// Fires `bodies` at the create endpoint all at once; returns each (status, body).
async fn create_concurrently(app: &TestApp, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let burst = bodies
        .into_iter()
        .map(|body| (Method::POST, ENTERPRISES.to_string(), Some(body), vec![]))
        .collect();
    send_concurrently(app, burst).await
}

/// Exactly one of `results` is a 201 and every other a 409 naming it.
fn one_winner(results: &[(u16, Value)]) -> Value {
    let created: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(created.len(), 1, "exactly one create wins: {results:?}");
    let winner = created[0].clone();
    for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["existing_id"], winner["id"], "{body}");
    }
    winner
}

async fn concurrent_creates_of_one_name_make_one_record(app: TestApp) {
    let bodies = (0..8)
        .map(|i| {
            let name = if i % 2 == 0 {
                "Carbonbay Chemical"
            } else {
                "CARBONBAY  chemical"
            };
            json!({"name": name, "region": format!("Region {i}")})
        })
        .collect();
    let results = create_concurrently(&app, bodies).await;
    let winner = one_winner(&results);
    assert_eq!(app.collect_ids(ENTERPRISES).await, [id_of(&winner)]);
    assert_eq!(
        app.collect_ids(&format!("{ENTERPRISES}?include_archived=true"))
            .await,
        [id_of(&winner)]
    );
}

async fn concurrent_creates_of_one_credit_code_make_one_record(app: TestApp) {
    let bodies = (0..8)
        .map(|i| json!({"name": format!("Claimant {i}"), "credit_code": CREDIT_CODES[2]}))
        .collect();
    let results = create_concurrently(&app, bodies).await;
    let winner = one_winner(&results);
    assert_eq!(app.collect_ids(ENTERPRISES).await, [id_of(&winner)]);
}

async fn concurrent_creates_of_distinct_names_all_succeed(app: TestApp) {
    let bodies = (0..12)
        .map(|i| json!({"name": format!("Partner {i:02}"), "kind": "company"}))
        .collect();
    let results = create_concurrently(&app, bodies).await;
    for (status, body) in &results {
        assert_eq!(*status, 201, "{body}");
    }
    let mut created: Vec<String> = results.iter().map(|(_, b)| id_of(b)).collect();
    created.sort();
    let mut listed = app.collect_ids(ENTERPRISES).await;
    listed.sort();
    assert_eq!(listed, created);
}

async fn concurrent_renames_onto_one_name_let_one_win(app: TestApp) {
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(id_of(
            &app.enterprise(json!({"name": format!("Partner {i}")}))
                .await,
        ));
    }
    let burst = ids
        .iter()
        .map(|id| {
            (
                Method::PATCH,
                at(id),
                Some(json!({"name": "Carbonbay Chemical"})),
                vec![],
            )
        })
        .collect();
    let results = send_concurrently(&app, burst).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one rename wins: {results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["existing_id"], winners[0]["id"], "{body}");
    }
    let named = app
        .collect_ids(&format!("{ENTERPRISES}?q={}", enc("carbonbay")))
        .await;
    assert_eq!(named, [id_of(winners[0])]);
}

async fn concurrent_conditional_patches_let_one_win(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    let burst = (0..6)
        .map(|i| {
            (
                Method::PATCH,
                at(&id),
                Some(json!({"region": format!("Region {i}")})),
                vec![("if-match", "\"1\"".to_string())],
            )
        })
        .collect();
    let results = send_concurrently(&app, burst).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one writer wins: {results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 412, "{body}");
        assert_eq!(body["current_version"], 2, "{body}");
    }
    let fetched = app.get(&at(&id)).await.expect(200).body;
    assert_eq!(&fetched, winners[0]);
    assert_eq!(fetched["version"], 2);
}

async fn concurrent_archives_let_one_win(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    let burst = (0..6)
        .map(|_| (Method::DELETE, at(&id), None, vec![]))
        .collect();
    let results = send_concurrently(&app, burst).await;
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{results:?}"
    );
    let fetched = app.get(&at(&id)).await.expect(200).body;
    assert_eq!(fetched["version"], 2, "archived exactly once");
    assert!(fetched["archived_at"].is_string());
}

/// Each pair links its two enterprises to each other at the same moment: one link
/// must be refused, or the pair would be its own ancestor.
async fn concurrent_cross_parenting_makes_no_cycle(app: TestApp) {
    let mut pairs_of_ids = Vec::new();
    for i in 0..4 {
        let a = id_of(&app.enterprise(json!({"name": format!("Alpha {i}")})).await);
        let b = id_of(&app.enterprise(json!({"name": format!("Beta {i}")})).await);
        pairs_of_ids.push((a, b));
    }
    let mut burst: Burst = Vec::new();
    for (a, b) in &pairs_of_ids {
        burst.push((Method::PATCH, at(a), Some(json!({"parent_id": b})), vec![]));
        burst.push((Method::PATCH, at(b), Some(json!({"parent_id": a})), vec![]));
    }
    let results = send_concurrently(&app, burst).await;
    for (pair, (a, b)) in results.chunks(2).zip(&pairs_of_ids) {
        let mut statuses = [pair[0].0, pair[1].0];
        statuses.sort();
        assert_eq!(statuses, [200, 422], "{pair:?}");
        let refused = if pair[0].0 == 422 {
            &pair[0].1
        } else {
            &pair[1].1
        };
        assert_eq!(refused["errors"][0]["field"], "parent_id", "{refused}");
        assert_eq!(refused["errors"][0]["code"], "cycle", "{refused}");
        let a_parent = app.get(&at(a)).await.expect(200).body["parent_id"].clone();
        let b_parent = app.get(&at(b)).await.expect(200).body["parent_id"].clone();
        assert!(
            a_parent.is_null() != b_parent.is_null(),
            "exactly one link stands: {a_parent} {b_parent}"
        );
    }
}

async fn company_sits_inside_a_park(app: TestApp) {
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park"}))
        .await;
    let park_id = id_of(&park);
    let inside = app
        .enterprise(json!({"name": "Carbonbay Chemical", "parent_id": park_id}))
        .await;
    assert_eq!(inside["parent_id"], park["id"]);
    let moved_in = app.enterprise(json!({"name": "Harbour Coatings"})).await;
    let patched = app
        .request(
            Method::PATCH,
            &at(&id_of(&moved_in)),
            Some(&json!({"parent_id": park_id})),
            &[MERGE_PATCH],
        )
        .await
        .expect(200);
    assert_eq!(patched.body["parent_id"], park["id"]);
    assert_eq!(patched.body["version"], 2);
    let mut members = app
        .collect_ids(&format!("{ENTERPRISES}?parent_id={park_id}"))
        .await;
    members.sort();
    let mut expected = vec![id_of(&inside), id_of(&moved_in)];
    expected.sort();
    assert_eq!(members, expected);
}

async fn parent_cycles_are_refused(app: TestApp) {
    let a = app.enterprise(json!({"name": "Alpha Holdings"})).await;
    let b = app.enterprise(json!({"name": "Beta Park"})).await;
    let (a_id, b_id) = (id_of(&a), id_of(&b));
    app.patch(&at(&a_id), &json!({"parent_id": b_id}))
        .await
        .expect(200);
    assert_eq!(
        app.patch(&at(&b_id), &json!({"parent_id": a_id}))
            .await
            .field_errors(422),
        pairs(&[("parent_id", "cycle")])
    );
    assert_eq!(app.get(&at(&b_id)).await.expect(200).body, b);
    assert_eq!(
        app.patch(&at(&a_id), &json!({"parent_id": a_id}))
            .await
            .field_errors(422),
        pairs(&[("parent_id", "cycle")])
    );
    let a_now = app.get(&at(&a_id)).await.expect(200).body;
    assert_eq!(a_now["parent_id"], b["id"]);
    assert_eq!(a_now["version"], 2);
}

async fn longer_parent_cycle_is_refused(app: TestApp) {
    let a = id_of(&app.enterprise(json!({"name": "Alpha"})).await);
    let b = id_of(&app.enterprise(json!({"name": "Beta"})).await);
    let c = id_of(&app.enterprise(json!({"name": "Gamma"})).await);
    app.patch(&at(&a), &json!({"parent_id": b}))
        .await
        .expect(200);
    app.patch(&at(&b), &json!({"parent_id": c}))
        .await
        .expect(200);
    assert_eq!(
        app.patch(&at(&c), &json!({"parent_id": a}))
            .await
            .field_errors(422),
        pairs(&[("parent_id", "cycle")])
    );
    assert_eq!(
        app.patch(&at(&c), &json!({"parent_id": b}))
            .await
            .field_errors(422),
        pairs(&[("parent_id", "cycle")])
    );
    let gamma = app.get(&at(&c)).await.expect(200).body;
    assert_eq!(gamma["parent_id"], Value::Null);
    assert_eq!(gamma["version"], 1);
    // Not a cycle: a sibling under the same root.
    let d = id_of(&app.enterprise(json!({"name": "Delta"})).await);
    app.patch(&at(&d), &json!({"parent_id": c}))
        .await
        .expect(200);
}

async fn parent_is_cleared_with_null(app: TestApp) {
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park"}))
        .await;
    let company = app
        .enterprise(json!({"name": "Carbonbay Chemical", "parent_id": park["id"]}))
        .await;
    let cleared = app
        .request(
            Method::PATCH,
            &at(&id_of(&company)),
            Some(&json!({"parent_id": null})),
            &[MERGE_PATCH],
        )
        .await
        .expect(200);
    assert_eq!(cleared.body["parent_id"], Value::Null);
    assert_eq!(cleared.body["version"], 2);
    let fetched = app.get(&at(&id_of(&company))).await.expect(200).body;
    assert_eq!(fetched["parent_id"], Value::Null);
    assert!(app
        .collect_ids(&format!("{ENTERPRISES}?parent_id={}", id_of(&park)))
        .await
        .is_empty());
}

async fn patch_changes_fields_and_bumps_the_version(app: TestApp) {
    let company = app
        .enterprise(json!({"name": "Carbonbay Chemical", "region": "Hangzhou"}))
        .await;
    let id = id_of(&company);
    let patched = app
        .request(
            Method::PATCH,
            &at(&id),
            Some(&json!({
                "name": " Carbonbay  Fine Chemical ",
                "industry": "Fine chemicals",
                "website": "https://carbonbay.example.com",
                "credit_code": "91330100716105852f",
                "kind": "institution",
            })),
            &[MERGE_PATCH],
        )
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"2\"");
    let record = &patched.body;
    assert_eq!(record["name"], "Carbonbay Fine Chemical");
    assert_eq!(record["industry"], "Fine chemicals");
    assert_eq!(record["website"], "https://carbonbay.example.com");
    assert_eq!(record["credit_code"], "91330100716105852F");
    assert_eq!(record["kind"], "institution");
    assert_eq!(record["region"], "Hangzhou", "untouched fields are kept");
    assert_eq!(record["version"], 2);
    assert_eq!(record["created_at"], company["created_at"]);
    assert_eq!(record["stage"], "intention");
    assert_ne!(record["updated_at"], company["updated_at"]);
    let fetched = app.get(&at(&id)).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(&fetched.body, record);

    let again = app
        .patch(&at(&id), &json!({"address": "1 Harbour Road"}))
        .await
        .expect(200);
    assert_eq!(again.etag(), "\"3\"");
    assert_eq!(again.body["version"], 3);
    assert_eq!(again.body["address"], "1 Harbour Road");
}

async fn patch_null_clears_optional_fields(app: TestApp) {
    let company = app
        .enterprise(json!({
            "name": "Carbonbay Chemical",
            "credit_code": CREDIT_CODES[0],
            "kind": "association",
            "industry": "Chemicals",
            "region": "Hangzhou",
            "address": "1 Harbour Road",
            "website": "https://carbonbay.example.com",
            "description": "A partner.",
        }))
        .await;
    let id = id_of(&company);
    let patched = app
        .request(
            Method::PATCH,
            &at(&id),
            Some(&json!({
                "credit_code": null,
                "industry": null,
                "region": null,
                "address": null,
                "website": null,
                "description": null,
            })),
            &[("content-type", "application/json")],
        )
        .await
        .expect(200);
    for field in [
        "credit_code",
        "industry",
        "region",
        "address",
        "website",
        "description",
    ] {
        assert_eq!(patched.body[field], Value::Null, "{field} cleared");
    }
    assert_eq!(patched.body["name"], "Carbonbay Chemical");
    assert_eq!(patched.body["version"], 2);
    // `kind` has a default: clearing it puts the default back.
    let reset = app
        .patch(&at(&id), &json!({"kind": null}))
        .await
        .expect(200);
    assert_eq!(reset.body["kind"], "company");
    let fetched = app.get(&at(&id)).await.expect(200).body;
    assert_eq!(fetched, reset.body);
    // The cleared credit code is free again.
    app.enterprise(json!({"name": "Huawei", "credit_code": CREDIT_CODES[0]}))
        .await;
}

async fn patch_null_name_is_required(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    for patch in [json!({"name": null}), json!({"name": "  "})] {
        assert_eq!(
            sorted(
                app.request(Method::PATCH, &at(&id), Some(&patch), &[MERGE_PATCH])
                    .await
                    .field_errors(422)
            ),
            pairs(&[("name", "required")]),
            "{patch}"
        );
    }
    assert_eq!(app.get(&at(&id)).await.expect(200).body, company);
}

async fn patch_is_checked_like_a_create(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    assert_eq!(
        sorted(
            app.patch(
                &at(&id),
                &json!({
                    "credit_code": "914403001922038217",
                    "kind": "farm",
                    "website": "ftp://x.example.com",
                    "industry": 5,
                    "nmae": "typo",
                }),
            )
            .await
            .field_errors(422)
        ),
        pairs(&[
            ("credit_code", "invalid_credit_code"),
            ("industry", "invalid_type"),
            ("kind", "invalid_enum"),
            ("nmae", "unknown_field"),
            ("website", "invalid_url"),
        ])
    );
    for (field, value) in [
        ("stage", json!("agreement")),
        ("version", json!(9)),
        ("id", json!(uuid::Uuid::now_v7().to_string())),
    ] {
        let mut patch = json!({});
        patch[field] = value;
        assert_eq!(
            sorted(app.patch(&at(&id), &patch).await.field_errors(422)),
            pairs(&[(field, "read_only")]),
            "{field}"
        );
    }
    assert_eq!(app.get(&at(&id)).await.expect(200).body, company);
}

async fn no_op_patch_keeps_the_version(app: TestApp) {
    let company = app
        .enterprise(json!({"name": "Carbonbay Chemical", "industry": "Chemicals", "credit_code": CREDIT_CODES[1]}))
        .await;
    let id = id_of(&company);
    for patch in [
        json!({}),
        json!({"name": "Carbonbay Chemical"}),
        json!({"name": "  Carbonbay   Chemical "}),
        json!({"industry": "Chemicals", "kind": "company"}),
        json!({"credit_code": CREDIT_CODES[1].to_lowercase()}),
        json!({"address": null}),
    ] {
        let response = app.patch(&at(&id), &patch).await.expect(200);
        assert_eq!(response.etag(), "\"1\"", "{patch}");
        assert_eq!(response.body, company, "{patch}");
    }
    assert_eq!(app.get(&at(&id)).await.expect(200).body, company);
}

async fn stale_if_match_on_patch_changes_nothing(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    let current = app
        .patch(&at(&id), &json!({"industry": "Chemicals"}))
        .await
        .expect(200)
        .body;
    for stale in ["\"1\"", "\"3\"", "W/\"1\"", "\"1\", \"5\"", "garbage"] {
        let problem = app
            .request(
                Method::PATCH,
                &at(&id),
                Some(&json!({"name": "Someone Else"})),
                &[("if-match", stale), MERGE_PATCH],
            )
            .await
            .problem(412);
        assert_eq!(problem["type"], "/problems/stale");
        assert_eq!(problem["current_version"], 2, "{stale}");
    }
    let fetched = app.get(&at(&id)).await.expect(200);
    assert_eq!(fetched.body, current);
    assert_eq!(fetched.etag(), "\"2\"");
}

async fn matching_if_match_allows_the_patch(app: TestApp) {
    let created = app
        .post(ENTERPRISES, &json!({"name": "Carbonbay Chemical"}))
        .await
        .expect(201);
    let id = id_of(&created.body);
    let etag = created.etag();
    let first = app
        .request(
            Method::PATCH,
            &at(&id),
            Some(&json!({"region": "Hangzhou"})),
            &[("if-match", etag.as_str()), MERGE_PATCH],
        )
        .await
        .expect(200);
    assert_eq!(first.etag(), "\"2\"");
    // The ETag of the answer is what the next change must quote.
    let second = app
        .request(
            Method::PATCH,
            &at(&id),
            Some(&json!({"region": "Ningbo"})),
            &[("if-match", first.etag().as_str())],
        )
        .await
        .expect(200);
    assert_eq!(second.body["region"], "Ningbo");
    assert_eq!(second.etag(), "\"3\"");
    // One of several listed tags is enough.
    let listed = app
        .request(
            Method::PATCH,
            &at(&id),
            Some(&json!({"region": "Wenzhou"})),
            &[("if-match", "\"1\", \"3\"")],
        )
        .await
        .expect(200);
    assert_eq!(listed.etag(), "\"4\"");
    let any = app
        .request(
            Method::PATCH,
            &at(&id),
            Some(&json!({"region": "Shaoxing"})),
            &[("if-match", "*"), MERGE_PATCH],
        )
        .await
        .expect(200);
    assert_eq!(any.body["region"], "Shaoxing");
    assert_eq!(any.body["version"], 5);
    assert_eq!(any.etag(), "\"5\"");
}

async fn patch_of_archived_enterprise_is_a_conflict(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    let archived = app.delete(&at(&id)).await.expect(200).body;
    let problem = app
        .patch(&at(&id), &json!({"region": "Hangzhou"}))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/archived");
    assert_eq!(app.get(&at(&id)).await.expect(200).body, archived);
}

async fn patch_of_unknown_id_is_not_found(app: TestApp) {
    app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let nowhere = uuid::Uuid::now_v7().to_string();
    let problem = app
        .patch(&at(&nowhere), &json!({"region": "Hangzhou"}))
        .await
        .problem(404);
    assert_eq!(problem["type"], "/problems/not_found");
    app.delete(&at(&nowhere)).await.problem(404);
    app.post(&format!("{ENTERPRISES}/{nowhere}/restore"), &json!({}))
        .await
        .problem(404);
}

async fn delete_archives_and_hides_from_the_list(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let other = app
        .enterprise(json!({"name": "Greenfield Logistics"}))
        .await;
    let id = id_of(&company);
    let archived = app.delete(&at(&id)).await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert_eq!(archived.body["version"], 2);
    let archived_at = archived.body["archived_at"]
        .as_str()
        .expect("archived_at is set");
    chrono::DateTime::parse_from_rfc3339(archived_at).expect("archived_at is RFC 3339");
    assert_eq!(archived.body["name"], "Carbonbay Chemical");

    assert_eq!(app.collect_ids(ENTERPRISES).await, [id_of(&other)]);
    assert_eq!(
        app.collect_ids(&format!("{ENTERPRISES}?include_archived=false"))
            .await,
        [id_of(&other)]
    );
    let mut all = app
        .collect_ids(&format!("{ENTERPRISES}?include_archived=true"))
        .await;
    all.sort();
    let mut expected = vec![id.clone(), id_of(&other)];
    expected.sort();
    assert_eq!(all, expected);

    let fetched = app.get(&at(&id)).await.expect(200);
    assert_eq!(fetched.body, archived.body);
    assert_eq!(fetched.etag(), "\"2\"");

    let restored = app
        .post(&format!("{ENTERPRISES}/{id}/restore"), &json!({}))
        .await
        .expect(200);
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["version"], 3);
    assert_eq!(restored.etag(), "\"3\"");
    let mut live = app.collect_ids(ENTERPRISES).await;
    live.sort();
    assert_eq!(live, expected);
}

async fn archive_and_restore_refuse_the_wrong_state(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    let restore = format!("{ENTERPRISES}/{id}/restore");
    let problem = app.post(&restore, &json!({})).await.problem(409);
    assert_eq!(problem["type"], "/problems/not_archived");
    assert_eq!(app.get(&at(&id)).await.expect(200).body, company);

    let archived = app.delete(&at(&id)).await.expect(200).body;
    let problem = app.delete(&at(&id)).await.problem(409);
    assert_eq!(problem["type"], "/problems/archived");
    assert_eq!(app.get(&at(&id)).await.expect(200).body, archived);

    app.post(&restore, &json!({})).await.expect(200);
    let problem = app.post(&restore, &json!({})).await.problem(409);
    assert_eq!(problem["type"], "/problems/not_archived");
    let fetched = app.get(&at(&id)).await.expect(200).body;
    assert_eq!(fetched["version"], 3);
    assert_eq!(fetched["archived_at"], Value::Null);
}

async fn stale_if_match_on_archive_and_restore_changes_nothing(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let id = id_of(&company);
    let current = app
        .patch(&at(&id), &json!({"region": "Hangzhou"}))
        .await
        .expect(200)
        .body;
    let problem = app
        .request(Method::DELETE, &at(&id), None, &[("if-match", "\"1\"")])
        .await
        .problem(412);
    assert_eq!(problem["current_version"], 2);
    assert_eq!(app.get(&at(&id)).await.expect(200).body, current);
    assert_eq!(
        app.collect_ids(ENTERPRISES).await,
        std::slice::from_ref(&id)
    );

    let archived = app
        .request(Method::DELETE, &at(&id), None, &[("if-match", "\"2\"")])
        .await
        .expect(200)
        .body;
    assert_eq!(archived["version"], 3);

    let restore = format!("{ENTERPRISES}/{id}/restore");
    let problem = app
        .request(Method::POST, &restore, None, &[("if-match", "\"2\"")])
        .await
        .problem(412);
    assert_eq!(problem["current_version"], 3);
    assert_eq!(app.get(&at(&id)).await.expect(200).body, archived);
    assert!(app.collect_ids(ENTERPRISES).await.is_empty());

    let restored = app
        .request(Method::POST, &restore, None, &[("if-match", "\"3\"")])
        .await
        .expect(200);
    assert_eq!(restored.etag(), "\"4\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
}

async fn list_filters_by_kind_stage_parent_industry_and_region(app: TestApp) {
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park", "region": "Hangzhou"}))
        .await;
    let chem = app
        .enterprise(json!({"name": "Carbonbay Chemical", "industry": "Chemicals", "region": "Hangzhou", "parent_id": park["id"]}))
        .await;
    let paint = app
        .enterprise(json!({"name": "Harbour Coatings", "industry": "Chemicals", "region": "Ningbo", "parent_id": park["id"]}))
        .await;
    let bureau = app
        .enterprise(json!({"name": "Education Bureau", "kind": "government", "region": "Hangzhou"}))
        .await;
    let gone = app
        .enterprise(json!({"name": "Gone Chemicals", "industry": "Chemicals", "region": "Hangzhou", "parent_id": park["id"]}))
        .await;
    app.delete(&at(&id_of(&gone))).await.expect(200);

    let ids = |records: &[&Value]| -> Vec<String> {
        let mut ids: Vec<String> = records.iter().map(|r| id_of(r)).collect();
        ids.sort();
        ids
    };
    let list = |query: String| {
        let app = &app;
        async move {
            let mut ids = app.collect_ids(&format!("{ENTERPRISES}?{query}")).await;
            ids.sort();
            ids
        }
    };
    assert_eq!(list("kind=company".into()).await, ids(&[&chem, &paint]));
    assert_eq!(list("kind=government".into()).await, ids(&[&bureau]));
    assert_eq!(list("kind=association".into()).await, ids(&[]));
    assert_eq!(
        list("stage=intention".into()).await,
        ids(&[&park, &chem, &paint, &bureau])
    );
    assert_eq!(list("stage=agreement".into()).await, ids(&[]));
    assert_eq!(
        list(format!("parent_id={}", id_of(&park))).await,
        ids(&[&chem, &paint])
    );
    assert_eq!(
        list(format!("parent_id={}&include_archived=true", id_of(&park))).await,
        ids(&[&chem, &paint, &gone])
    );
    assert_eq!(
        list("industry=Chemicals".into()).await,
        ids(&[&chem, &paint])
    );
    assert_eq!(
        list("region=Hangzhou".into()).await,
        ids(&[&park, &chem, &bureau])
    );
    assert_eq!(
        list("region=Hangzhou&industry=Chemicals&kind=company".into()).await,
        ids(&[&chem])
    );
    assert_eq!(
        list("region=Hangzhou&include_archived=1".into()).await,
        ids(&[&park, &chem, &bureau, &gone])
    );
}

async fn search_matches_part_of_the_name_or_credit_code(app: TestApp) {
    let chem = app
        .enterprise(json!({"name": "Carbonbay Chemical", "credit_code": "9144030071526726XG"}))
        .await;
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park", "credit_code": CREDIT_CODES[0]}))
        .await;
    let coatings = app.enterprise(json!({"name": "Harbour Coatings"})).await;
    let chinese = app.enterprise(json!({"name": "碳湾化工有限公司"})).await;
    let gone = app.enterprise(json!({"name": "Carbonbay Old Works"})).await;
    app.delete(&at(&id_of(&gone))).await.expect(200);

    let search = |q: &str, extra: &str| {
        let path = format!("{ENTERPRISES}?q={}{extra}", enc(q));
        let app = &app;
        async move {
            let mut ids = app.collect_ids(&path).await;
            ids.sort();
            ids
        }
    };
    let ids = |records: &[&Value]| -> Vec<String> {
        let mut ids: Vec<String> = records.iter().map(|r| id_of(r)).collect();
        ids.sort();
        ids
    };
    assert_eq!(search("carbonbay", "").await, ids(&[&chem, &park]));
    assert_eq!(search("CHEM", "").await, ids(&[&chem]));
    assert_eq!(search("bay ind", "").await, ids(&[&park]));
    assert_eq!(search("ＣＨＥＭ", "").await, ids(&[&chem]), "full-width");
    assert_eq!(search("ｃａｒｂｏｎｂａｙ", "").await, ids(&[&chem, &park]));
    assert_eq!(search("化工", "").await, ids(&[&chinese]));
    assert_eq!(search("coat", "").await, ids(&[&coatings]));
    assert_eq!(search("71526726x", "").await, ids(&[&chem]), "credit code");
    assert_eq!(search("1922038216", "").await, ids(&[&park]));
    assert_eq!(
        search("carbonbay", "&include_archived=true").await,
        ids(&[&chem, &park, &gone])
    );
    assert_eq!(search("nothing like it", "").await, ids(&[]));
    assert_eq!(
        search("   ", "").await,
        ids(&[&chem, &park, &coatings, &chinese]),
        "a blank search is no search"
    );
}

async fn search_treats_wildcards_literally(app: TestApp) {
    let percent = app.enterprise(json!({"name": "100% Recycled Paper"})).await;
    app.enterprise(json!({"name": "1000 Paper Mills"})).await;
    let underscore = app.enterprise(json!({"name": "A_B Logistics"})).await;
    app.enterprise(json!({"name": "AXB Logistics"})).await;
    let backslash = app.enterprise(json!({"name": "Back\\slash Works"})).await;
    let search = |q: &str| {
        let path = format!("{ENTERPRISES}?q={}", enc(q));
        let app = &app;
        async move { app.collect_ids(&path).await }
    };
    assert_eq!(search("100%").await, [id_of(&percent)]);
    assert_eq!(search("%").await, [id_of(&percent)]);
    assert_eq!(search("a_b").await, [id_of(&underscore)]);
    assert_eq!(search("_").await, [id_of(&underscore)]);
    assert_eq!(search("k\\s").await, [id_of(&backslash)]);
    assert!(search("%%").await.is_empty());
    assert!(search("__").await.is_empty());
}

async fn list_sorts_by_name_and_timestamps(app: TestApp) {
    for name in ["banana Works", "Apple Farms", "cherry Orchards"] {
        app.enterprise(json!({"name": name})).await;
    }
    let created = ["banana Works", "Apple Farms", "cherry Orchards"];
    assert_eq!(names(&app, "").await, created, "default: oldest first");
    assert_eq!(names(&app, "sort=created_at").await, created);
    assert_eq!(
        names(&app, "sort=-created_at").await,
        ["cherry Orchards", "Apple Farms", "banana Works"]
    );
    assert_eq!(
        names(&app, "sort=name").await,
        ["Apple Farms", "banana Works", "cherry Orchards"],
        "name order ignores case"
    );
    assert_eq!(
        names(&app, "sort=-name").await,
        ["cherry Orchards", "banana Works", "Apple Farms"]
    );
    // Touching the oldest makes it the most recently updated.
    let banana = app
        .get(&format!("{ENTERPRISES}?q=banana"))
        .await
        .expect(200)
        .body["items"][0]
        .clone();
    app.patch(&at(&id_of(&banana)), &json!({"region": "Hangzhou"}))
        .await
        .expect(200);
    assert_eq!(
        names(&app, "sort=updated_at").await,
        ["Apple Farms", "cherry Orchards", "banana Works"]
    );
    assert_eq!(
        names(&app, "sort=-updated_at").await,
        ["banana Works", "cherry Orchards", "Apple Farms"]
    );
    assert_eq!(
        names(&app, "sort=created_at").await,
        created,
        "an update does not change creation order"
    );
    assert_eq!(names(&app, "sort=name&limit=2").await.len(), 2);
}

async fn bad_list_parameters_are_bad_requests(app: TestApp) {
    app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    for (query, field, code) in [
        ("limit=0", "limit", "out_of_range"),
        ("limit=201", "limit", "out_of_range"),
        ("limit=-5", "limit", "out_of_range"),
        ("limit=abc", "limit", "out_of_range"),
        ("limit=", "limit", "out_of_range"),
        ("sort=size", "sort", "unknown_sort"),
        ("sort=-", "sort", "unknown_sort"),
        ("sort=Name", "sort", "unknown_sort"),
        ("cursor=%25%25%25", "cursor", "invalid_cursor"),
        ("cursor=bm90LWpzb24", "cursor", "invalid_cursor"),
        ("kind=farm", "kind", "invalid_enum"),
        ("stage=signed", "stage", "invalid_enum"),
        ("parent_id=nope", "parent_id", "invalid_id"),
        (
            "include_archived=yes",
            "include_archived",
            "invalid_boolean",
        ),
        ("colour=red", "colour", "unknown_parameter"),
        (
            "kind=company&kind=government",
            "kind",
            "duplicate_parameter",
        ),
        ("q=a%00b", "q", "invalid_character"),
    ] {
        let problem = app
            .get(&format!("{ENTERPRISES}?{query}"))
            .await
            .problem(400);
        let errors = problem["errors"].as_array().expect("errors");
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap_or_default(),
                    e["code"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got, [(field, code)], "{query}: {problem}");
    }
    let long_query = "q".repeat(201);
    assert_eq!(
        app.get(&format!("{ENTERPRISES}?q={long_query}"))
            .await
            .field_errors(400),
        pairs(&[("q", "too_long")])
    );
    // Every bad parameter is named at once.
    assert_eq!(
        sorted(
            app.get(&format!("{ENTERPRISES}?limit=0&sort=size&kind=farm"))
                .await
                .field_errors(400)
        ),
        pairs(&[
            ("kind", "invalid_enum"),
            ("limit", "out_of_range"),
            ("sort", "unknown_sort"),
        ])
    );
    // The bounds themselves are fine.
    for query in ["limit=1", "limit=200"] {
        app.get(&format!("{ENTERPRISES}?{query}")).await.expect(200);
    }
}

async fn cursor_only_continues_its_own_sort(app: TestApp) {
    for name in ["Alpha", "Beta", "Gamma"] {
        app.enterprise(json!({"name": name})).await;
    }
    let first = app
        .get(&format!("{ENTERPRISES}?sort=name&limit=1"))
        .await
        .expect(200)
        .body;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_string();
    let next = names(&app, &format!("sort=name&limit=1&cursor={cursor}")).await;
    assert_eq!(next, ["Beta"]);
    for other in ["sort=-name", "", "sort=created_at", "sort=updated_at"] {
        assert_eq!(
            app.get(&format!("{ENTERPRISES}?{other}&cursor={cursor}"))
                .await
                .field_errors(400),
            pairs(&[("cursor", "cursor_mismatch")]),
            "{other}"
        );
    }
    // A cursor that decodes but was not made by the server is refused, not a 500.
    let id = "01a22514-c2d6-7588-937c-56af8c5187c1";
    for forged in [
        json!({"s": "created_at", "v": "yesterday", "i": "x"}),
        json!({"s": "updated_at", "v": "", "i": ""}),
        json!({"s": "created_at"}),
        // A well-formed time with an id that is no id.
        json!({"s": "created_at", "v": "2026-12-08T02:55:27.739953", "i": "zzz"}),
        json!({"s": "name", "v": "beta", "i": format!("{{{id}}}")}),
        // A NUL, which PostgreSQL refuses in a query (a 500 before).
        json!({"s": "name", "v": "\u{0}", "i": id}),
        json!({"s": "name", "v": "beta", "i": format!("{id}\u{0}")}),
        // A year no stored time has: SQLite sorted it before 0001.
        json!({"s": "created_at", "v": "+10000-01-01T00:00:00", "i": id}),
    ] {
        let raw = URL_SAFE_NO_PAD.encode(forged.to_string());
        let sort = forged["s"].as_str().expect("sort");
        assert_eq!(
            app.get(&format!("{ENTERPRISES}?sort={sort}&cursor={raw}"))
                .await
                .field_errors(400),
            pairs(&[("cursor", "invalid_cursor")]),
            "{forged}"
        );
    }
}

/// Creates 25 enterprises, then pages through the list ten at a time with `sort`,
/// creating two more ("Aardvark n", sorting first by name, and "Zephyr n", sorting
/// last) after each page. Returns (the 25 originals, the ids seen in order, the ids
/// created while paging).
async fn page_while_inserting(
    app: &TestApp,
    sort: Option<&str>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut originals = Vec::new();
    for i in 0..25 {
        let record = app
            .enterprise(json!({"name": format!("Partner {i:02}")}))
            .await;
        originals.push(id_of(&record));
    }
    let mut seen = Vec::new();
    let mut inserted = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("{ENTERPRISES}?limit=10");
        if let Some(sort) = sort {
            path.push_str(&format!("&sort={}", enc(sort)));
        }
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = app.get(&path).await.expect(200).body;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 10, "a page holds at most `limit` items");
        seen.extend(items.iter().map(id_of));
        pages += 1;
        assert!(pages <= 10, "paging does not end: {seen:?}");
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        for name in [format!("Aardvark {pages}"), format!("Zephyr {pages}")] {
            inserted.push(id_of(&app.enterprise(json!({"name": name})).await));
        }
    }
    assert!(pages > 2, "paged through {pages} pages only");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "an item was repeated: {seen:?}");
    for id in &originals {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "{id} seen once"
        );
    }
    (originals, seen, inserted)
}

async fn paging_by_creation_sees_each_record_once(app: TestApp) {
    let (originals, seen, inserted) = page_while_inserting(&app, None).await;
    // Records created while paging are newer than the cursor: they come at the end.
    let expected: Vec<String> = originals.into_iter().chain(inserted).collect();
    assert_eq!(seen, expected);
}

async fn paging_by_name_sees_each_record_once(app: TestApp) {
    let (originals, seen, inserted) = page_while_inserting(&app, Some("name")).await;
    // "Partner 00" … "Partner 24" in order; the Aardvarks sort before the cursor and
    // are not seen, the Zephyrs sort after it and are.
    let zephyrs: Vec<String> = inserted.iter().skip(1).step_by(2).cloned().collect();
    let expected: Vec<String> = originals.into_iter().chain(zephyrs).collect();
    assert_eq!(seen, expected);
}

async fn paging_newest_first_sees_each_record_once(app: TestApp) {
    let (originals, seen, inserted) = page_while_inserting(&app, Some("-created_at")).await;
    assert!(!inserted.is_empty());
    // Newer records sort before the cursor: only the originals are seen, newest first.
    let expected: Vec<String> = originals.into_iter().rev().collect();
    assert_eq!(seen, expected);
}

//! `/api/v1/participants`.

use std::collections::HashSet;

use base64::Engine;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(
    partner_participant_belongs_to_an_enterprise,
    school_participant_round_trips_every_field,
    partner_participant_round_trips_every_field,
    full_width_phone_digits_are_normalised,
    blank_optional_fields_are_stored_as_absent,
    full_name_is_required_and_at_most_100_characters,
    side_is_required_and_must_be_known,
    side_decides_whether_an_enterprise_is_named,
    enterprise_must_exist_be_live_and_be_a_uuid,
    email_and_phone_are_checked,
    long_texts_have_limits,
    unknown_and_read_only_fields_are_refused,
    every_problem_of_a_body_is_reported_at_once,
    unknown_participant_is_404_and_malformed_id_is_400,
    patch_changes_only_the_fields_sent_and_bumps_the_version,
    patch_null_clears_an_optional_field_but_not_a_required_one,
    invalid_patch_changes_nothing,
    patch_that_changes_nothing_keeps_the_version,
    partner_becomes_school_only_by_dropping_the_enterprise,
    school_becomes_partner_only_with_an_enterprise,
    partner_moves_only_to_a_live_enterprise,
    stale_if_match_on_patch_is_412_and_changes_nothing,
    archived_participant_cannot_be_patched,
    patch_of_unknown_or_malformed_id,
    archive_hides_from_lists_and_restore_brings_back,
    restore_waits_for_the_enterprise_to_be_restored,
    archive_and_restore_honour_if_match,
    archive_and_restore_of_unknown_participant_are_404,
    list_filters_by_side_and_enterprise,
    search_matches_names_ignoring_case_width_and_spacing,
    search_matches_email_and_phone,
    search_by_email_ignores_case,
    search_treats_like_wildcards_literally,
    list_sorts_by_name_and_by_time,
    bad_list_parameters_are_400_naming_the_parameter,
    cursor_belongs_to_its_sort,
    pagination_survives_inserts_between_pages,
    pagination_by_name_survives_inserts_between_pages,
    pagination_over_equal_names_breaks_ties_by_id,
    list_limit_is_between_1_and_200,
);

const LIST: &str = "/api/v1/participants";

fn participant_path(id: &str) -> String {
    format!("{LIST}/{id}")
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect()
}

fn sorted(mut errors: Vec<(String, String)>) -> Vec<(String, String)> {
    errors.sort();
    errors
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["full_name"].as_str().expect("full_name").to_string())
        .collect()
}

async fn company(app: &TestApp, name: &str) -> String {
    id_of(&app.enterprise(json!({ "name": name })).await)
}

async fn list_names(app: &TestApp, query: &str) -> Vec<String> {
    names(&app.get(&format!("{LIST}?{query}")).await.expect(200).body)
}

/// Sorted full names of every participant the query lists (for order-free checks).
async fn found(app: &TestApp, query: &str) -> Vec<String> {
    let mut found = list_names(app, query).await;
    found.sort();
    found
}

async fn create_errors(app: &TestApp, body: Value) -> Vec<(String, String)> {
    app.post(LIST, &body).await.field_errors(422)
}

async fn archive_enterprise(app: &TestApp, id: &str) {
    app.delete(&format!("/api/v1/enterprises/{id}"))
        .await
        .expect(200);
}

fn time(record: &Value, field: &str) -> chrono::DateTime<chrono::Utc> {
    record[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string: {record}"))
        .parse()
        .unwrap_or_else(|e| panic!("{field} is RFC 3339: {e}"))
}

async fn partner_participant_belongs_to_an_enterprise(app: TestApp) {
    let company = app.enterprise(json!({"name": "Carbonbay Chemical"})).await;
    let person = app
        .participant(
            json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": id_of(&company)}),
        )
        .await;
    assert_eq!(person["enterprise_id"], company["id"]);
}

async fn school_participant_round_trips_every_field(app: TestApp) {
    let created = app
        .post(
            LIST,
            &json!({
                "full_name": "  Wang   Jianguo ",
                "side": "school",
                "title": " President ",
                "department": "President's Office",
                "email": "wang.jianguo@college.edu.cn",
                "phone": "0571-88886666",
                "notes": "  Hosts partner visits.\nPrefers mornings.  ",
            }),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(
        created.header("location"),
        Some(participant_path(&id).as_str())
    );
    assert_eq!(created.etag(), "\"1\"");
    let person = &created.body;
    assert_eq!(person["full_name"], "Wang Jianguo");
    assert_eq!(person["side"], "school");
    assert_eq!(person["enterprise_id"], Value::Null);
    assert_eq!(person["title"], "President");
    assert_eq!(person["department"], "President's Office");
    assert_eq!(person["email"], "wang.jianguo@college.edu.cn");
    assert_eq!(person["phone"], "0571-88886666");
    assert_eq!(person["notes"], "Hosts partner visits.\nPrefers mornings.");
    assert_eq!(person["version"], 1);
    assert_eq!(person["archived_at"], Value::Null);
    assert_eq!(time(person, "created_at"), time(person, "updated_at"));
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let fetched = app.get(&participant_path(&id)).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(fetched.body, created.body);
}

async fn partner_participant_round_trips_every_field(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = app
        .post(
            LIST,
            &json!({
                "full_name": "赵 建国",
                "side": "partner",
                "enterprise_id": park,
                "title": "Chief Economist",
                "department": "Park Management Committee",
                "email": "zhao@carbonbay-park.example.com",
                "phone": "+86 138 0013 8000",
                "notes": "Leads the park delegation.",
            }),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(
        created.header("location"),
        Some(participant_path(&id).as_str())
    );
    assert_eq!(created.etag(), "\"1\"");
    let expected = json!({
        "id": id,
        "full_name": "赵 建国",
        "side": "partner",
        "enterprise_id": park,
        "title": "Chief Economist",
        "department": "Park Management Committee",
        "email": "zhao@carbonbay-park.example.com",
        "phone": "+86 138 0013 8000",
        "notes": "Leads the park delegation.",
        "created_at": created.body["created_at"],
        "updated_at": created.body["updated_at"],
        "version": 1,
        "archived_at": null,
    });
    assert_eq!(created.body, expected);
    let fetched = app.get(&participant_path(&id)).await.expect(200).body;
    assert_eq!(fetched, expected);
}

async fn full_width_phone_digits_are_normalised(app: TestApp) {
    let person = app
        .participant(json!({
            "full_name": "Li Na",
            "side": "school",
            "phone": "＋８６　１３８００１３８０００",
        }))
        .await;
    assert_eq!(person["phone"], "+86 13800138000");
    let fetched = app.get(&participant_path(&id_of(&person))).await.body;
    assert_eq!(fetched["phone"], "+86 13800138000");
}

async fn blank_optional_fields_are_stored_as_absent(app: TestApp) {
    let person = app
        .participant(json!({
            "full_name": "Li Na",
            "side": "school",
            "title": "   ",
            "department": "",
            "email": " ",
            "phone": "",
            "notes": "\n\t ",
        }))
        .await;
    for field in ["title", "department", "email", "phone", "notes"] {
        assert_eq!(person[field], Value::Null, "{field}");
    }
}

async fn full_name_is_required_and_at_most_100_characters(app: TestApp) {
    assert_eq!(
        create_errors(&app, json!({"side": "school"})).await,
        pairs(&[("full_name", "required")])
    );
    assert_eq!(
        create_errors(&app, json!({"full_name": " \t ", "side": "school"})).await,
        pairs(&[("full_name", "required")])
    );
    assert_eq!(
        create_errors(&app, json!({"full_name": null, "side": "school"})).await,
        pairs(&[("full_name", "required")])
    );
    assert_eq!(
        create_errors(
            &app,
            json!({"full_name": "名".repeat(101), "side": "school"})
        )
        .await,
        pairs(&[("full_name", "too_long")])
    );
    // Exactly 100 characters (not bytes) is fine, and surrounding spaces do not count.
    let longest = "名".repeat(100);
    let person = app
        .participant(json!({"full_name": format!("  {longest}  "), "side": "school"}))
        .await;
    assert_eq!(person["full_name"], longest);
    // Nothing else was stored.
    assert_eq!(app.collect_ids(LIST).await, [id_of(&person)]);
}

async fn side_is_required_and_must_be_known(app: TestApp) {
    assert_eq!(
        create_errors(&app, json!({"full_name": "Li Na"})).await,
        pairs(&[("side", "required")])
    );
    for bad in [json!("teacher"), json!("School"), json!(""), json!(1)] {
        let errors = create_errors(&app, json!({"full_name": "Li Na", "side": bad})).await;
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert_eq!(errors[0].0, "side", "{bad}");
        let expected = if bad.is_string() {
            "invalid_enum"
        } else {
            "invalid_type"
        };
        assert_eq!(errors[0].1, expected, "{bad}");
    }
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn side_decides_whether_an_enterprise_is_named(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    assert_eq!(
        create_errors(&app, json!({"full_name": "Zhou Min", "side": "partner"})).await,
        pairs(&[("enterprise_id", "required")])
    );
    assert_eq!(
        create_errors(
            &app,
            json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": null})
        )
        .await,
        pairs(&[("enterprise_id", "required")])
    );
    assert_eq!(
        create_errors(
            &app,
            json!({"full_name": "Wang Jianguo", "side": "school", "enterprise_id": park})
        )
        .await,
        pairs(&[("enterprise_id", "not_allowed")])
    );
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn enterprise_must_exist_be_live_and_be_a_uuid(app: TestApp) {
    let missing = "01890a5d-ac96-774b-bcce-b302099a8057";
    assert_eq!(
        create_errors(
            &app,
            json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": missing})
        )
        .await,
        pairs(&[("enterprise_id", "not_found")])
    );

    let closed = company(&app, "Closed Chemical").await;
    archive_enterprise(&app, &closed).await;
    assert_eq!(
        create_errors(
            &app,
            json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": closed})
        )
        .await,
        pairs(&[("enterprise_id", "archived")])
    );

    for malformed in [json!("not-a-uuid"), json!(42), json!({"id": closed})] {
        assert_eq!(
            create_errors(
                &app,
                json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": malformed})
            )
            .await,
            pairs(&[("enterprise_id", "invalid_type")]),
            "{malformed}"
        );
    }
    assert!(app
        .collect_ids(&format!("{LIST}?include_archived=true"))
        .await
        .is_empty());
}

async fn email_and_phone_are_checked(app: TestApp) {
    for email in [
        "zhou at carbonbay.com",
        "zhou@",
        "@carbonbay.com",
        "a b@c.com",
    ] {
        assert_eq!(
            create_errors(
                &app,
                json!({"full_name": "Zhou Min", "side": "school", "email": email})
            )
            .await,
            pairs(&[("email", "invalid_email")]),
            "{email}"
        );
    }
    for phone in [
        "call me",
        "1234",
        "138-0013-8000 ext. 5",
        "++86 13800138000",
        "123456789012345678901",
    ] {
        assert_eq!(
            create_errors(
                &app,
                json!({"full_name": "Zhou Min", "side": "school", "phone": phone})
            )
            .await,
            pairs(&[("phone", "invalid_phone")]),
            "{phone}"
        );
    }
    for phone in ["12345", "(0571) 8888 6666", "+86 138 0013 8000"] {
        let person = app
            .participant(json!({"full_name": "Zhou Min", "side": "school", "phone": phone}))
            .await;
        assert_eq!(person["phone"], phone);
    }
}

async fn long_texts_have_limits(app: TestApp) {
    let base = json!({"full_name": "Zhou Min", "side": "school"});
    let with = |field: &str, value: String| {
        let mut body = base.clone();
        body[field] = json!(value);
        body
    };
    assert_eq!(
        create_errors(&app, with("notes", "n".repeat(10_001))).await,
        pairs(&[("notes", "too_long")])
    );
    assert_eq!(
        create_errors(&app, with("title", "t".repeat(101))).await,
        pairs(&[("title", "too_long")])
    );
    assert_eq!(
        create_errors(&app, with("department", "d".repeat(101))).await,
        pairs(&[("department", "too_long")])
    );
    let notes = "n".repeat(10_000);
    let person = app.participant(with("notes", notes.clone())).await;
    assert_eq!(person["notes"], notes);
}

async fn unknown_and_read_only_fields_are_refused(app: TestApp) {
    assert_eq!(
        create_errors(
            &app,
            json!({"full_name": "Zhou Min", "side": "school", "nickname": "Xiao Zhou"})
        )
        .await,
        pairs(&[("nickname", "unknown_field")])
    );
    for field in ["id", "version", "created_at", "updated_at", "archived_at"] {
        let mut body = json!({"full_name": "Zhou Min", "side": "school"});
        body[field] = match field {
            "id" => json!("01890a5d-ac96-774b-bcce-b302099a8057"),
            "version" => json!(7),
            _ => json!("2024-11-29T08:00:00Z"),
        };
        assert_eq!(
            create_errors(&app, body).await,
            pairs(&[(field, "read_only")]),
            "{field}"
        );
    }
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn every_problem_of_a_body_is_reported_at_once(app: TestApp) {
    let errors = create_errors(
        &app,
        json!({
            "full_name": "   ",
            "side": "teacher",
            "email": "not-an-email",
            "phone": "call me",
            "notes": "n".repeat(10_001),
            "colour": "red",
        }),
    )
    .await;
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("colour", "unknown_field"),
            ("email", "invalid_email"),
            ("full_name", "required"),
            ("notes", "too_long"),
            ("phone", "invalid_phone"),
            ("side", "invalid_enum"),
        ])
    );
    let errors = create_errors(
        &app,
        json!({"full_name": 7, "side": "partner", "title": ["x"]}),
    )
    .await;
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("enterprise_id", "required"),
            ("full_name", "invalid_type"),
            ("title", "invalid_type"),
        ])
    );
}

async fn unknown_participant_is_404_and_malformed_id_is_400(app: TestApp) {
    let missing = app
        .get(&participant_path("01890a5d-ac96-774b-bcce-b302099a8057"))
        .await
        .problem(404);
    assert_eq!(missing["type"], "/problems/not_found");

    // An enterprise's id is not a participant's.
    let park = company(&app, "Carbonbay Industrial Park").await;
    app.get(&participant_path(&park)).await.problem(404);

    // The id is a UUID however it is spelled.
    let person = app
        .participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;
    let id = id_of(&person);
    let fetched = app
        .get(&participant_path(&id.to_uppercase()))
        .await
        .expect(200);
    assert_eq!(fetched.body, person);

    for malformed in ["not-a-uuid", "12345", "01890a5d-ac96-774b-bcce-b302099a805"] {
        let errors = app
            .get(&participant_path(malformed))
            .await
            .field_errors(400);
        assert_eq!(errors, pairs(&[("id", "invalid_id")]), "{malformed}");
    }
}

async fn patch_changes_only_the_fields_sent_and_bumps_the_version(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = app
        .participant(json!({
            "full_name": "Zhao Jianguo",
            "side": "partner",
            "enterprise_id": park,
            "title": "Economist",
            "email": "zhao@carbonbay.example.com",
            "phone": "0571-88886666",
        }))
        .await;
    let path = participant_path(&id_of(&created));
    let updated = app
        .patch(
            &path,
            &json!({"title": " Chief  Economist ", "department": "Management Committee", "phone": "１３８００１３８０００"}),
        )
        .await
        .expect(200);
    assert_eq!(updated.etag(), "\"2\"");
    let body = &updated.body;
    assert_eq!(body["version"], 2);
    assert_eq!(body["title"], "Chief Economist");
    assert_eq!(body["department"], "Management Committee");
    assert_eq!(body["phone"], "13800138000");
    // Untouched fields are kept.
    assert_eq!(body["full_name"], "Zhao Jianguo");
    assert_eq!(body["side"], "partner");
    assert_eq!(body["enterprise_id"], park);
    assert_eq!(body["email"], "zhao@carbonbay.example.com");
    assert_eq!(body["created_at"], created["created_at"]);
    assert!(time(body, "updated_at") >= time(&created, "updated_at"));

    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(fetched.body, updated.body);

    let again = app
        .patch(&path, &json!({"full_name": "Zhao  Jian-guo"}))
        .await
        .expect(200);
    assert_eq!(again.etag(), "\"3\"");
    assert_eq!(again.body["full_name"], "Zhao Jian-guo");
    assert_eq!(again.body["title"], "Chief Economist");
}

async fn patch_null_clears_an_optional_field_but_not_a_required_one(app: TestApp) {
    let created = app
        .participant(json!({
            "full_name": "Wang Jianguo",
            "side": "school",
            "email": "wang@college.edu.cn",
            "notes": "Hosts visits.",
        }))
        .await;
    let path = participant_path(&id_of(&created));
    let cleared = app
        .patch(&path, &json!({"email": null, "notes": null}))
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["email"], Value::Null);
    assert_eq!(cleared["notes"], Value::Null);
    assert_eq!(cleared["version"], 2);
    let fetched = app.get(&path).await.body;
    assert_eq!(fetched["email"], Value::Null);
    assert_eq!(fetched["notes"], Value::Null);

    for required in ["full_name", "side"] {
        let mut patch = json!({});
        patch[required] = Value::Null;
        assert_eq!(
            app.patch(&path, &patch).await.field_errors(422),
            pairs(&[(required, "required")]),
            "{required}"
        );
    }
    assert_eq!(app.get(&path).await.body, fetched);
}

async fn invalid_patch_changes_nothing(app: TestApp) {
    let created = app
        .participant(
            json!({"full_name": "Wang Jianguo", "side": "school", "email": "wang@college.edu.cn"}),
        )
        .await;
    let path = participant_path(&id_of(&created));
    let errors = app
        .patch(
            &path,
            &json!({"title": "Dean", "email": "wang at college", "nickname": "W"}),
        )
        .await
        .field_errors(422);
    assert_eq!(
        sorted(errors),
        pairs(&[("email", "invalid_email"), ("nickname", "unknown_field")])
    );
    for read_only in ["id", "version", "created_at", "updated_at", "archived_at"] {
        let mut patch = json!({"title": "Dean"});
        patch[read_only] = created[read_only].clone();
        assert_eq!(
            app.patch(&path, &patch).await.field_errors(422),
            pairs(&[(read_only, "read_only")]),
            "{read_only}"
        );
    }
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(fetched.body, created);
}

async fn patch_that_changes_nothing_keeps_the_version(app: TestApp) {
    let created = app
        .participant(json!({"full_name": "Wang Jianguo", "side": "school", "title": "Dean"}))
        .await;
    let path = participant_path(&id_of(&created));
    let same = app.patch(&path, &json!({})).await.expect(200);
    assert_eq!(same.etag(), "\"1\"");
    assert_eq!(same.body, created);
    let same = app
        .patch(
            &path,
            &json!({"full_name": " Wang  Jianguo ", "title": "Dean"}),
        )
        .await
        .expect(200);
    assert_eq!(same.etag(), "\"1\"");
    assert_eq!(same.body, created);
}

async fn partner_becomes_school_only_by_dropping_the_enterprise(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = app
        .participant(json!({"full_name": "Sun Li", "side": "partner", "enterprise_id": park}))
        .await;
    let path = participant_path(&id_of(&created));
    assert_eq!(
        app.patch(&path, &json!({"side": "school"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "not_allowed")])
    );
    assert_eq!(app.get(&path).await.body, created);
    // Dropping the enterprise alone would leave a partner without one.
    assert_eq!(
        app.patch(&path, &json!({"enterprise_id": null}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "required")])
    );

    let moved = app
        .patch(&path, &json!({"side": "school", "enterprise_id": null}))
        .await
        .expect(200);
    assert_eq!(moved.etag(), "\"2\"");
    assert_eq!(moved.body["side"], "school");
    assert_eq!(moved.body["enterprise_id"], Value::Null);
    assert_eq!(
        found(&app, &format!("enterprise_id={park}")).await,
        Vec::<String>::new()
    );
    assert_eq!(found(&app, "side=school").await, ["Sun Li"]);
}

async fn school_becomes_partner_only_with_an_enterprise(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = app
        .participant(json!({"full_name": "Sun Li", "side": "school"}))
        .await;
    let path = participant_path(&id_of(&created));
    assert_eq!(
        app.patch(&path, &json!({"side": "partner"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "required")])
    );
    assert_eq!(
        app.patch(&path, &json!({"enterprise_id": park}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "not_allowed")])
    );
    assert_eq!(app.get(&path).await.body, created);

    let moved = app
        .patch(&path, &json!({"side": "partner", "enterprise_id": park}))
        .await
        .expect(200);
    assert_eq!(moved.etag(), "\"2\"");
    assert_eq!(moved.body["side"], "partner");
    assert_eq!(moved.body["enterprise_id"], park);
    assert_eq!(
        found(&app, &format!("enterprise_id={park}")).await,
        ["Sun Li"]
    );
}

async fn partner_moves_only_to_a_live_enterprise(app: TestApp) {
    let first = company(&app, "Carbonbay Chemical").await;
    let second = company(&app, "Harbour Polymers").await;
    let closed = company(&app, "Closed Chemical").await;
    archive_enterprise(&app, &closed).await;
    let created = app
        .participant(json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": first}))
        .await;
    let path = participant_path(&id_of(&created));

    assert_eq!(
        app.patch(&path, &json!({"enterprise_id": closed}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "archived")])
    );
    assert_eq!(
        app.patch(
            &path,
            &json!({"enterprise_id": "01890a5d-ac96-774b-bcce-b302099a8057"})
        )
        .await
        .field_errors(422),
        pairs(&[("enterprise_id", "not_found")])
    );
    assert_eq!(
        app.patch(&path, &json!({"enterprise_id": "carbonbay"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "invalid_type")])
    );
    assert_eq!(app.get(&path).await.body, created);

    let moved = app
        .patch(&path, &json!({"enterprise_id": second}))
        .await
        .expect(200)
        .body;
    assert_eq!(moved["enterprise_id"], second);
    assert_eq!(moved["version"], 2);
    assert!(found(&app, &format!("enterprise_id={first}"))
        .await
        .is_empty());
    assert_eq!(
        found(&app, &format!("enterprise_id={second}")).await,
        ["Zhou Min"]
    );
}

async fn stale_if_match_on_patch_is_412_and_changes_nothing(app: TestApp) {
    let created = app
        .participant(json!({"full_name": "Wang Jianguo", "side": "school", "title": "Dean"}))
        .await;
    let path = participant_path(&id_of(&created));
    // Two clients read version 1; the first one's change wins.
    let first = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"title": "Vice President"})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(first.etag(), "\"2\"");
    let second = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"title": "President"})),
            &[("if-match", "\"1\"")],
        )
        .await
        .problem(412);
    assert_eq!(second["type"], "/problems/stale");
    assert_eq!(second["current_version"], 2);

    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(fetched.body["title"], "Vice President");

    // Retrying with the current ETag succeeds.
    let retried = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"title": "President"})),
            &[("if-match", &fetched.etag())],
        )
        .await
        .expect(200);
    assert_eq!(retried.etag(), "\"3\"");
    assert_eq!(retried.body["title"], "President");
}

async fn archived_participant_cannot_be_patched(app: TestApp) {
    let created = app
        .participant(json!({"full_name": "Wang Jianguo", "side": "school"}))
        .await;
    let path = participant_path(&id_of(&created));
    let archived = app.delete(&path).await.expect(200).body;
    let refused = app
        .patch(&path, &json!({"title": "Dean"}))
        .await
        .problem(409);
    assert_eq!(refused["type"], "/problems/archived");
    assert_eq!(app.get(&path).await.body, archived);
}

async fn patch_of_unknown_or_malformed_id(app: TestApp) {
    let missing = app
        .patch(
            &participant_path("01890a5d-ac96-774b-bcce-b302099a8057"),
            &json!({"title": "Dean"}),
        )
        .await
        .problem(404);
    assert_eq!(missing["type"], "/problems/not_found");
    assert_eq!(
        app.patch(&participant_path("not-a-uuid"), &json!({"title": "Dean"}))
            .await
            .field_errors(400),
        pairs(&[("id", "invalid_id")])
    );
    assert!(app
        .collect_ids(&format!("{LIST}?include_archived=true"))
        .await
        .is_empty());
}

async fn archive_hides_from_lists_and_restore_brings_back(app: TestApp) {
    let kept = app
        .participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;
    let created = app
        .participant(json!({"full_name": "Wang Jianguo", "side": "school"}))
        .await;
    let id = id_of(&created);
    let path = participant_path(&id);

    let archived = app.delete(&path).await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert_eq!(archived.body["version"], 2);
    assert!(time(&archived.body, "archived_at") >= time(&created, "created_at"));
    assert_eq!(archived.body["full_name"], "Wang Jianguo");

    // Still readable by id, but gone from lists unless asked for.
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
    assert_eq!(app.collect_ids(LIST).await, [id_of(&kept)]);
    assert_eq!(
        app.collect_ids(&format!("{LIST}?include_archived=false"))
            .await,
        [id_of(&kept)]
    );
    assert_eq!(
        app.collect_ids(&format!("{LIST}?include_archived=true"))
            .await,
        [id_of(&kept), id.clone()]
    );
    assert_eq!(
        app.collect_ids(&format!("{LIST}?include_archived=1")).await,
        [id_of(&kept), id.clone()]
    );
    assert!(app.collect_ids(&format!("{LIST}?q=wang")).await.is_empty());

    let again = app.delete(&path).await.problem(409);
    assert_eq!(again["type"], "/problems/archived");

    let restored = app
        .request(Method::POST, &format!("{path}/restore"), None, &[])
        .await
        .expect(200);
    assert_eq!(restored.etag(), "\"3\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["version"], 3);
    assert_eq!(app.collect_ids(LIST).await, [id_of(&kept), id.clone()]);

    let not_archived = app
        .request(Method::POST, &format!("{path}/restore"), None, &[])
        .await
        .problem(409);
    assert_eq!(not_archived["type"], "/problems/not_archived");
    assert_eq!(app.get(&path).await.etag(), "\"3\"");
}

async fn restore_waits_for_the_enterprise_to_be_restored(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = app
        .participant(json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": park}))
        .await;
    let path = participant_path(&id_of(&created));
    app.delete(&path).await.expect(200);
    archive_enterprise(&app, &park).await;

    let refused = app
        .request(Method::POST, &format!("{path}/restore"), None, &[])
        .await
        .problem(409);
    assert_eq!(refused["type"], "/problems/enterprise_archived");
    assert_eq!(refused["existing_id"], park);
    let still = app.get(&path).await.expect(200);
    assert!(still.body["archived_at"].is_string());
    assert_eq!(still.etag(), "\"2\"");

    app.request(
        Method::POST,
        &format!("/api/v1/enterprises/{park}/restore"),
        None,
        &[],
    )
    .await
    .expect(200);
    let restored = app
        .request(Method::POST, &format!("{path}/restore"), None, &[])
        .await
        .expect(200);
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["enterprise_id"], park);
}

async fn archive_and_restore_honour_if_match(app: TestApp) {
    let created = app
        .participant(json!({"full_name": "Wang Jianguo", "side": "school"}))
        .await;
    let path = participant_path(&id_of(&created));
    let restore = format!("{path}/restore");

    let stale = app
        .request(Method::DELETE, &path, None, &[("if-match", "\"7\"")])
        .await
        .problem(412);
    assert_eq!(stale["current_version"], 1);
    assert_eq!(app.get(&path).await.body, created);

    let archived = app
        .request(Method::DELETE, &path, None, &[("if-match", "\"1\"")])
        .await
        .expect(200);
    assert_eq!(archived.etag(), "\"2\"");

    let stale = app
        .request(Method::POST, &restore, None, &[("if-match", "\"1\"")])
        .await
        .problem(412);
    assert_eq!(stale["current_version"], 2);
    assert!(app.get(&path).await.body["archived_at"].is_string());

    let restored = app
        .request(Method::POST, &restore, None, &[("if-match", "\"2\"")])
        .await
        .expect(200);
    assert_eq!(restored.etag(), "\"3\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
}

async fn archive_and_restore_of_unknown_participant_are_404(app: TestApp) {
    let path = participant_path("01890a5d-ac96-774b-bcce-b302099a8057");
    app.delete(&path).await.problem(404);
    app.request(Method::POST, &format!("{path}/restore"), None, &[])
        .await
        .problem(404);
    assert_eq!(
        app.delete(&participant_path("nope"))
            .await
            .field_errors(400),
        pairs(&[("id", "invalid_id")])
    );
    assert_eq!(
        app.request(Method::POST, &format!("{LIST}/nope/restore"), None, &[])
            .await
            .field_errors(400),
        pairs(&[("id", "invalid_id")])
    );
}

async fn list_filters_by_side_and_enterprise(app: TestApp) {
    let chem = company(&app, "Carbonbay Chemical").await;
    let poly = company(&app, "Harbour Polymers").await;
    app.participant(json!({"full_name": "Wang Jianguo", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "Zhou Min", "side": "partner", "enterprise_id": chem}))
        .await;
    app.participant(json!({"full_name": "Sun Li", "side": "partner", "enterprise_id": chem}))
        .await;
    app.participant(json!({"full_name": "Qian Bo", "side": "partner", "enterprise_id": poly}))
        .await;

    assert_eq!(found(&app, "side=school").await, ["Li Na", "Wang Jianguo"]);
    assert_eq!(
        found(&app, "side=partner").await,
        ["Qian Bo", "Sun Li", "Zhou Min"]
    );
    assert_eq!(
        found(&app, &format!("enterprise_id={chem}")).await,
        ["Sun Li", "Zhou Min"]
    );
    assert_eq!(
        found(&app, &format!("enterprise_id={poly}&side=partner")).await,
        ["Qian Bo"]
    );
    assert!(found(&app, &format!("enterprise_id={poly}&side=school"))
        .await
        .is_empty());
    assert!(
        found(&app, "enterprise_id=01890a5d-ac96-774b-bcce-b302099a8057")
            .await
            .is_empty()
    );
    assert_eq!(
        found(&app, &format!("enterprise_id={chem}&q=zhou")).await,
        ["Zhou Min"]
    );
}

async fn search_matches_names_ignoring_case_width_and_spacing(app: TestApp) {
    app.participant(json!({"full_name": "Zhou Min", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "ZHOU Jie", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "周 敏", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;

    assert_eq!(found(&app, "q=zhou").await, ["ZHOU Jie", "Zhou Min"]);
    assert_eq!(found(&app, "q=ZHOU").await, ["ZHOU Jie", "Zhou Min"]);
    assert_eq!(
        found(&app, &format!("q={}", encode("ｚｈｏｕ"))).await,
        ["ZHOU Jie", "Zhou Min"]
    );
    assert_eq!(
        found(&app, &format!("q={}", encode("  zhou   min "))).await,
        ["Zhou Min"]
    );
    assert_eq!(found(&app, "q=ou+mi").await, ["Zhou Min"]);
    assert_eq!(found(&app, &format!("q={}", encode("敏"))).await, ["周 敏"]);
    assert!(found(&app, "q=wang").await.is_empty());
    // A blank q does not filter.
    assert_eq!(found(&app, "q=+++").await.len(), 4);
}

async fn search_matches_email_and_phone(app: TestApp) {
    app.participant(json!({
        "full_name": "Wang Jianguo",
        "side": "school",
        "email": "wang.jianguo@college.edu.cn",
        "phone": "0571-88886666",
    }))
    .await;
    app.participant(json!({
        "full_name": "Li Na",
        "side": "school",
        "email": "lina@example.com",
        "phone": "＋８６ １３８ ００１３ ８０００",
    }))
    .await;

    assert_eq!(found(&app, "q=college.edu").await, ["Wang Jianguo"]);
    assert_eq!(found(&app, "q=lina%40").await, ["Li Na"]);
    assert_eq!(found(&app, "q=88886666").await, ["Wang Jianguo"]);
    assert_eq!(found(&app, "q=0571-8888").await, ["Wang Jianguo"]);
    assert_eq!(
        found(&app, &format!("q={}", encode("+86 138"))).await,
        ["Li Na"]
    );
    // Full-width digits in the query are read as the digits they stand for.
    assert_eq!(
        found(&app, &format!("q={}", encode("００１３"))).await,
        ["Li Na"]
    );
    assert!(found(&app, "q=example.org").await.is_empty());
}

/// Email addresses are case-insensitive in practice: searching with the address as
/// stored, or in another case, finds the person on both backends.
async fn search_by_email_ignores_case(app: TestApp) {
    app.participant(json!({
        "full_name": "Zhou Min",
        "side": "school",
        "email": "Min.Zhou@Carbonbay.com",
    }))
    .await;
    for q in [
        "Min.Zhou@Carbonbay.com",
        "min.zhou@carbonbay",
        "CARBONBAY.COM",
    ] {
        assert_eq!(
            found(&app, &format!("q={}", encode(q))).await,
            ["Zhou Min"],
            "q={q}"
        );
    }
}

async fn search_treats_like_wildcards_literally(app: TestApp) {
    app.participant(json!({"full_name": "Wang_Li", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "WangXLi", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "Team 100% Li", "side": "school"}))
        .await;
    app.participant(json!({"full_name": "Team 1000 Li", "side": "school"}))
        .await;
    app.participant(json!({"full_name": r"Back\slash Li", "side": "school"}))
        .await;

    assert_eq!(found(&app, "q=g_l").await, ["Wang_Li"]);
    assert_eq!(found(&app, "q=_").await, ["Wang_Li"]);
    assert_eq!(found(&app, "q=100%25").await, ["Team 100% Li"]);
    assert_eq!(found(&app, "q=%25").await, ["Team 100% Li"]);
    assert_eq!(found(&app, "q=0%25+l").await, ["Team 100% Li"]);
    assert_eq!(
        found(&app, &format!("q={}", encode(r"k\s"))).await,
        [r"Back\slash Li"]
    );
    assert_eq!(
        found(&app, &format!("q={}", encode(r"\"))).await,
        [r"Back\slash Li"]
    );
}

async fn list_sorts_by_name_and_by_time(app: TestApp) {
    let mut ids = Vec::new();
    for name in ["Chen Hao", "an Qi", "ＤＵ Mei", "Bai Lu"] {
        ids.push(id_of(
            &app.participant(json!({"full_name": name, "side": "school"}))
                .await,
        ));
    }
    let by_name = ["an Qi", "Bai Lu", "Chen Hao", "ＤＵ Mei"];
    assert_eq!(list_names(&app, "sort=full_name").await, by_name);
    let mut reversed = by_name;
    reversed.reverse();
    assert_eq!(list_names(&app, "sort=-full_name").await, reversed);

    let created = ["Chen Hao", "an Qi", "ＤＵ Mei", "Bai Lu"];
    assert_eq!(list_names(&app, "").await, created);
    assert_eq!(list_names(&app, "sort=created_at").await, created);
    let mut newest_first = created;
    newest_first.reverse();
    assert_eq!(list_names(&app, "sort=-created_at").await, newest_first);

    // Touch the oldest: it becomes the most recently updated.
    app.patch(&participant_path(&ids[0]), &json!({"title": "Dean"}))
        .await
        .expect(200);
    assert_eq!(
        list_names(&app, "sort=updated_at").await,
        ["an Qi", "ＤＵ Mei", "Bai Lu", "Chen Hao"]
    );
    assert_eq!(
        list_names(&app, "sort=-updated_at").await,
        ["Chen Hao", "Bai Lu", "ＤＵ Mei", "an Qi"]
    );
    // Creation order does not change with updates.
    assert_eq!(list_names(&app, "sort=created_at").await, created);
}

async fn bad_list_parameters_are_400_naming_the_parameter(app: TestApp) {
    app.participant(json!({"full_name": "Li Na", "side": "school"}))
        .await;
    let cases: &[(&str, &str, &str)] = &[
        ("limit=0", "limit", "out_of_range"),
        ("limit=201", "limit", "out_of_range"),
        ("limit=-1", "limit", "out_of_range"),
        ("limit=ten", "limit", "out_of_range"),
        ("limit=", "limit", "out_of_range"),
        ("sort=name", "sort", "unknown_sort"),
        ("sort=--full_name", "sort", "unknown_sort"),
        ("sort=email", "sort", "unknown_sort"),
        ("cursor=not-a-cursor", "cursor", "invalid_cursor"),
        ("cursor=%25%25%25", "cursor", "invalid_cursor"),
        ("side=teacher", "side", "invalid_enum"),
        ("side=School", "side", "invalid_enum"),
        ("enterprise_id=carbonbay", "enterprise_id", "invalid_id"),
        (
            "include_archived=yes",
            "include_archived",
            "invalid_boolean",
        ),
        ("q=%00", "q", "invalid_character"),
        ("colour=red", "colour", "unknown_parameter"),
        ("side=school&side=partner", "side", "duplicate_parameter"),
    ];
    for (query, field, code) in cases {
        let errors = app.get(&format!("{LIST}?{query}")).await.field_errors(400);
        assert_eq!(errors, pairs(&[(*field, *code)]), "?{query}");
    }
    let long = "x".repeat(201);
    assert_eq!(
        app.get(&format!("{LIST}?q={long}")).await.field_errors(400),
        pairs(&[("q", "too_long")])
    );
    let errors = app
        .get(&format!("{LIST}?limit=0&sort=age&side=teacher"))
        .await
        .field_errors(400);
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("limit", "out_of_range"),
            ("side", "invalid_enum"),
            ("sort", "unknown_sort")
        ])
    );
}

async fn cursor_belongs_to_its_sort(app: TestApp) {
    for name in ["A Li", "B Li", "C Li"] {
        app.participant(json!({"full_name": name, "side": "school"}))
            .await;
    }
    let first = app
        .get(&format!("{LIST}?sort=full_name&limit=1"))
        .await
        .expect(200)
        .body;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let errors = app
        .get(&format!("{LIST}?sort=-full_name&limit=1&cursor={cursor}"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("cursor", "cursor_mismatch")]));
    let errors = app
        .get(&format!("{LIST}?limit=1&cursor={cursor}"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("cursor", "cursor_mismatch")]));
    let second = app
        .get(&format!("{LIST}?sort=full_name&limit=1&cursor={cursor}"))
        .await
        .expect(200)
        .body;
    assert_eq!(names(&second), ["B Li"]);

    // A cursor for a time sort whose value is not a time is refused, not a 500.
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"s":"created_at","v":"yesterday","i":"x"}"#);
    assert_eq!(
        app.get(&format!("{LIST}?cursor={forged}"))
            .await
            .field_errors(400),
        pairs(&[("cursor", "invalid_cursor")])
    );
}

/// A client pages through the list while colleagues keep adding people: with keyset
/// pagination nobody is skipped or shown twice.
async fn pagination_survives_inserts_between_pages(app: TestApp) {
    let mut expected = Vec::new();
    for n in 0..5 {
        expected.push(id_of(
            &app.participant(json!({"full_name": format!("Early {n}"), "side": "school"}))
                .await,
        ));
    }
    let originals = expected.clone();

    let mut seen = Vec::new();
    let mut newest_first = Vec::new();
    let mut cursor: Option<String> = None;
    let mut desc_cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let suffix = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get(&format!("{LIST}?limit=2{suffix}"))
            .await
            .expect(200)
            .body;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id_of));

        if pages == 0 || desc_cursor.is_some() {
            let suffix = desc_cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let desc = app
                .get(&format!("{LIST}?limit=2&sort=-created_at{suffix}"))
                .await
                .expect(200)
                .body;
            newest_first.extend(desc["items"].as_array().expect("items").iter().map(id_of));
            desc_cursor = desc["next_cursor"].as_str().map(str::to_string);
        }

        pages += 1;
        // Someone adds people between this page and the next.
        if pages <= 3 {
            for k in 0..2 {
                expected.push(id_of(
                    &app.participant(
                        json!({"full_name": format!("Late {pages}.{k}"), "side": "school"}),
                    )
                    .await,
                ));
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert!(pages > 2, "only {pages} pages");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "repeated: {seen:?}");
    // Oldest first: every person, including those added meanwhile, exactly once.
    assert_eq!(seen, expected);
    // Newest first: those added after the first page are before its start.
    let mut reversed = originals;
    reversed.reverse();
    assert_eq!(newest_first, reversed);
}

async fn pagination_by_name_survives_inserts_between_pages(app: TestApp) {
    for name in ["Bai", "Deng", "Feng", "Hu", "Kong", "Ma", "Qin"] {
        app.participant(json!({"full_name": name, "side": "school"}))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let suffix = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get(&format!("{LIST}?sort=full_name&limit=2{suffix}"))
            .await
            .expect(200)
            .body;
        seen.extend(names(&page));
        pages += 1;
        if pages == 1 {
            // One sorts before the cursor (not shown on this pass), one after it.
            for name in ["Ai", "Gao"] {
                app.participant(json!({"full_name": name, "side": "school"}))
                    .await;
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["Bai", "Deng", "Feng", "Gao", "Hu", "Kong", "Ma", "Qin"]
    );
    assert_eq!(pages, 4);
}

/// Several people share one name (in different spellings): paging by name with a
/// small limit still shows each of them exactly once, in a stable order.
async fn pagination_over_equal_names_breaks_ties_by_id(app: TestApp) {
    let mut ids = Vec::new();
    for name in ["Li Na", "LI NA", "ｌｉ　ｎａ", "li  na", "Li Na"] {
        ids.push(id_of(
            &app.participant(json!({"full_name": name, "side": "school"}))
                .await,
        ));
    }
    let last = app
        .participant(json!({"full_name": "Li Nan", "side": "school"}))
        .await;
    let first = app
        .participant(json!({"full_name": "Li Mei", "side": "school"}))
        .await;

    let mut expected = vec![id_of(&first)];
    expected.extend(ids.iter().cloned());
    expected.push(id_of(&last));
    assert_eq!(
        app.collect_ids(&format!("{LIST}?sort=full_name&limit=2"))
            .await,
        expected
    );
    expected.reverse();
    assert_eq!(
        app.collect_ids(&format!("{LIST}?sort=-full_name&limit=2"))
            .await,
        expected
    );
    assert_eq!(
        app.collect_ids(&format!("{LIST}?sort=full_name&limit=1&q=li+na"))
            .await
            .len(),
        6
    );
}

async fn list_limit_is_between_1_and_200(app: TestApp) {
    for n in 0..3 {
        app.participant(json!({"full_name": format!("Person {n}"), "side": "school"}))
            .await;
    }
    let one = app.get(&format!("{LIST}?limit=1")).await.expect(200).body;
    assert_eq!(names(&one), ["Person 0"]);
    assert!(one["next_cursor"].is_string());
    let all = app.get(&format!("{LIST}?limit=200")).await.expect(200).body;
    assert_eq!(names(&all), ["Person 0", "Person 1", "Person 2"]);
    assert_eq!(all["next_cursor"], Value::Null);
    let exact = app.get(&format!("{LIST}?limit=3")).await.expect(200).body;
    assert_eq!(names(&exact).len(), 3);
    assert_eq!(exact["next_cursor"], Value::Null);
}

//! `/api/v1/order-classes`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, sorted, TestApp, MISSING_ID};

backend_tests!(
    create_then_get_round_trips,
    create_reports_every_broken_rule_at_once,
    create_needs_a_live_enterprise,
    patch_checks_the_merged_record,
    patch_may_move_the_class_to_another_live_enterprise,
    a_class_an_agreement_covers_stays_with_its_enterprise,
    archive_and_restore,
    restore_waits_for_the_enterprise,
    stale_if_match_changes_nothing,
    missing_and_malformed_ids,
    list_filters,
    list_rejects_bad_parameters,
    pages_hold_together_across_inserts
);

const PATH: &str = "/api/v1/order-classes";

fn path(record: &Value) -> String {
    format!("{PATH}/{}", id_of(record))
}

async fn sponsor(app: &TestApp, name: &str) -> Value {
    app.enterprise(json!({"name": name})).await
}

async fn create_then_get_round_trips(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical (Carbonbay) Co., Ltd.").await;
    let created = app
        .post(
            PATH,
            &json!({
                "enterprise_id": id_of(&mitsui),
                "name": "  Mitsui Chemical   Process Technology Order Class 2027 ",
                "major": " Applied Chemical Technology ",
                "cohort_year": 2027,
                "planned_size": 40,
                "enrolled_count": 38,
                "employed_count": 12,
                "starts_on": "2027-09-01",
                "ends_on": "2030-06-30",
                "description": "Discussed at the visit of 29 November.\nPlan drafted jointly.",
            }),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(
        created.header("location"),
        Some(format!("{PATH}/{id}").as_str())
    );
    assert_eq!(created.etag(), "\"1\"");
    let class = &created.body;
    assert_eq!(class["enterprise_id"], mitsui["id"]);
    assert_eq!(
        class["name"],
        "Mitsui Chemical Process Technology Order Class 2027"
    );
    assert_eq!(class["major"], "Applied Chemical Technology");
    assert_eq!(class["cohort_year"], 2027);
    assert_eq!(
        (
            &class["planned_size"],
            &class["enrolled_count"],
            &class["employed_count"]
        ),
        (&json!(40), &json!(38), &json!(12))
    );
    assert_eq!(class["allow_over_enrollment"], false);
    assert_eq!(class["starts_on"], "2027-09-01");
    assert_eq!(class["ends_on"], "2030-06-30");
    assert_eq!(
        class["description"],
        "Discussed at the visit of 29 November.\nPlan drafted jointly."
    );
    assert_eq!(class["stage"], "intention");
    assert_eq!(class["stage_changed_at"], class["created_at"]);
    assert_eq!(class["version"], 1);
    assert_eq!(class["archived_at"], Value::Null);
    let fetched = app.get(&format!("{PATH}/{id}")).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(&fetched.body, class);

    // Only the sponsor and the name: everything else takes its default.
    let minimal = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Polymer Technicians"}))
        .await;
    for (field, default) in [
        ("major", Value::Null),
        ("cohort_year", Value::Null),
        ("planned_size", json!(0)),
        ("enrolled_count", json!(0)),
        ("employed_count", json!(0)),
        ("allow_over_enrollment", json!(false)),
        ("starts_on", Value::Null),
        ("ends_on", Value::Null),
        ("description", Value::Null),
    ] {
        assert_eq!(minimal[field], default, "{field}");
    }
}

async fn create_reports_every_broken_rule_at_once(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let enterprise = id_of(&mitsui);
    assert_eq!(
        sorted(app.post(PATH, &json!({})).await.field_errors(422)),
        pairs(&[("enterprise_id", "required"), ("name", "required")])
    );
    let everything_wrong = json!({
        "enterprise_id": "mitsui",
        "name": "n".repeat(201),
        "major": "m".repeat(101),
        "cohort_year": 2201,
        "planned_size": -1,
        "enrolled_count": "ten",
        "employed_count": 1.5,
        "allow_over_enrollment": "no",
        "starts_on": "2027-02-29",
        "ends_on": "2030/06/30",
        "description": "d".repeat(10_001),
        "teacher": "Chen Xiaobin",
    });
    assert_eq!(
        sorted(app.post(PATH, &everything_wrong).await.field_errors(422)),
        pairs(&[
            ("enterprise_id", "invalid_type"),
            ("name", "too_long"),
            ("major", "too_long"),
            ("cohort_year", "out_of_range"),
            ("planned_size", "out_of_range"),
            ("enrolled_count", "invalid_type"),
            ("employed_count", "invalid_type"),
            ("allow_over_enrollment", "invalid_type"),
            ("starts_on", "invalid_type"),
            ("ends_on", "invalid_type"),
            ("description", "too_long"),
            ("teacher", "unknown_field"),
        ])
    );
    // The rules between fields, all at once.
    let counts = json!({
        "enterprise_id": enterprise, "name": "A",
        "planned_size": 30, "enrolled_count": 31, "employed_count": 32,
        "starts_on": "2027-09-01", "ends_on": "2027-09-01",
    });
    assert_eq!(
        sorted(app.post(PATH, &counts).await.field_errors(422)),
        pairs(&[
            ("enrolled_count", "exceeds_planned_size"),
            ("employed_count", "exceeds_enrolled_count"),
            ("ends_on", "date_order"),
        ])
    );
    assert_eq!(
        app.post(PATH, &json!({"enterprise_id": enterprise, "name": "A", "starts_on": "2027-09-01", "ends_on": "2027-08-31"}))
            .await
            .field_errors(422),
        pairs(&[("ends_on", "date_order")])
    );
    assert_eq!(
        app.post(
            PATH,
            &json!({"enterprise_id": enterprise, "name": "A", "cohort_year": 1899})
        )
        .await
        .field_errors(422),
        pairs(&[("cohort_year", "out_of_range")])
    );
    // Enrolment beyond the plan is allowed when asked for; employment never exceeds it.
    let over = app
        .order_class(json!({
            "enterprise_id": enterprise, "name": "A", "planned_size": 30,
            "enrolled_count": 31, "employed_count": 31, "allow_over_enrollment": true,
        }))
        .await;
    assert_eq!(over["enrolled_count"], 31);
    assert_eq!(over["allow_over_enrollment"], true);
    // Server-owned fields and non-objects.
    assert_eq!(
        sorted(
            app.post(
                PATH,
                &json!({"enterprise_id": enterprise, "name": "A", "stage": "agreement", "version": 7, "id": MISSING_ID})
            )
            .await
            .field_errors(422)
        ),
        // `stage` may be set at creation (with evidence), so only these are refused.
        pairs(&[("id", "read_only"), ("version", "read_only")])
    );
    assert_eq!(
        app.post(PATH, &json!(["A"])).await.field_errors(422),
        pairs(&[("", "not_an_object")])
    );
    // Nothing was written by the refused requests.
    assert_eq!(app.collect_ids(PATH).await, [id_of(&over)]);
}

async fn create_needs_a_live_enterprise(app: TestApp) {
    assert_eq!(
        app.post(PATH, &json!({"enterprise_id": MISSING_ID, "name": "A"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "not_found")])
    );
    let gone = sponsor(&app, "Closed Chemical Co.").await;
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&gone)))
        .await
        .expect(200);
    assert_eq!(
        app.post(PATH, &json!({"enterprise_id": id_of(&gone), "name": "A"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "archived")])
    );
}

async fn patch_checks_the_merged_record(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let class = app
        .order_class(json!({
            "enterprise_id": id_of(&mitsui), "name": "Process Technology 2027",
            "major": "Applied Chemical Technology", "planned_size": 30, "enrolled_count": 30,
            "starts_on": "2027-09-01",
        }))
        .await;
    let at = path(&class);
    // Shrinking the plan below the enrolment breaks the rule on the merged record.
    assert_eq!(
        app.patch(&at, &json!({"planned_size": 20}))
            .await
            .field_errors(422),
        pairs(&[("enrolled_count", "exceeds_planned_size")])
    );
    let allowed = app
        .patch(
            &at,
            &json!({"planned_size": 20, "allow_over_enrollment": true}),
        )
        .await
        .expect(200);
    assert_eq!(allowed.etag(), "\"2\"");
    assert_eq!(allowed.body["planned_size"], 20);
    // Withdrawing the permission alone leaves the record over-enrolled: refused.
    assert_eq!(
        app.patch(&at, &json!({"allow_over_enrollment": false}))
            .await
            .field_errors(422),
        pairs(&[("enrolled_count", "exceeds_planned_size")])
    );
    assert_eq!(
        app.patch(&at, &json!({"ends_on": "2027-08-31", "employed_count": 31}))
            .await
            .field_errors(422),
        sorted(pairs(&[
            ("ends_on", "date_order"),
            ("employed_count", "exceeds_enrolled_count")
        ]))
    );
    // null resets counts and flags to their defaults and clears optional fields.
    let cleared = app
        .patch(
            &at,
            &json!({
                "allow_over_enrollment": null, "enrolled_count": null, "major": null,
                "name": "  Process   Technology 2027 (revised) ",
            }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["allow_over_enrollment"], false);
    assert_eq!(cleared["enrolled_count"], 0);
    assert_eq!(cleared["major"], Value::Null);
    assert_eq!(cleared["name"], "Process Technology 2027 (revised)");
    assert_eq!(cleared["starts_on"], "2027-09-01");
    assert_eq!(cleared["version"], 3);
    assert_eq!(cleared["stage"], "intention");
    assert_eq!(cleared["created_at"], class["created_at"]);
    // Required fields cannot be cleared; server-owned and unknown fields are refused.
    assert_eq!(
        sorted(
            app.patch(&at, &json!({"name": null, "enterprise_id": null}))
                .await
                .field_errors(422)
        ),
        pairs(&[("enterprise_id", "required"), ("name", "required")])
    );
    assert_eq!(
        app.patch(&at, &json!({"stage": "negotiation"}))
            .await
            .field_errors(422),
        pairs(&[("stage", "read_only")])
    );
    assert_eq!(
        app.patch(&at, &json!({"size": 3})).await.field_errors(422),
        pairs(&[("size", "unknown_field")])
    );
    assert_eq!(
        app.patch(&at, &json!({"starts_on": "1 Sept 2027"}))
            .await
            .field_errors(422),
        pairs(&[("starts_on", "invalid_type")])
    );
    // A patch that changes nothing keeps the version.
    let same = app
        .patch(&at, &json!({"planned_size": 20, "starts_on": "2027-09-01"}))
        .await
        .expect(200);
    assert_eq!(same.etag(), "\"3\"");
    assert_eq!(same.body, cleared);
    assert_eq!(app.get(&at).await.expect(200).body, cleared);
}

async fn patch_may_move_the_class_to_another_live_enterprise(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let dr = sponsor(&app, "DR New Materials").await;
    let class = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Process Technology"}))
        .await;
    let at = path(&class);
    assert_eq!(
        app.patch(&at, &json!({"enterprise_id": MISSING_ID}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "not_found")])
    );
    let closed = sponsor(&app, "Closed Chemical Co.").await;
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&closed)))
        .await
        .expect(200);
    assert_eq!(
        app.patch(&at, &json!({"enterprise_id": id_of(&closed)}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "archived")])
    );
    let moved = app
        .patch(&at, &json!({"enterprise_id": id_of(&dr)}))
        .await
        .expect(200)
        .body;
    assert_eq!(moved["enterprise_id"], dr["id"]);
    assert_eq!(moved["version"], 2);
    // DR cannot be archived from under its live class.
    let problem = app
        .delete(&format!("/api/v1/enterprises/{}", id_of(&dr)))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/has_live_records");
}

async fn a_class_an_agreement_covers_stays_with_its_enterprise(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let dr = sponsor(&app, "DR New Materials").await;
    let class = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Process Technology"}))
        .await;
    let agreement = app
        .agreement(json!({
            "enterprise_id": id_of(&mitsui), "title": "Order class agreement",
            "kind": "order_class", "order_class_id": id_of(&class), "valid_from": "2027-09-01",
        }))
        .await;
    // Archived or not, the agreement still covers the class.
    app.delete(&format!("/api/v1/agreements/{}", id_of(&agreement)))
        .await
        .expect(200);
    let at = path(&class);
    let problem = app
        .patch(&at, &json!({"enterprise_id": id_of(&dr)}))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/covered_by_agreement");
    assert_eq!(problem["existing_id"], agreement["id"]);
    assert_eq!(app.get(&at).await.expect(200).body, class);
    // Anything else may change.
    app.patch(&at, &json!({"planned_size": 45}))
        .await
        .expect(200);
}

async fn archive_and_restore(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let class = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Process Technology"}))
        .await;
    let at = path(&class);
    let archived = app.delete(&at).await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(app.get(&at).await.expect(200).body, archived.body);
    assert!(app.collect_ids(PATH).await.is_empty());
    assert_eq!(
        app.collect_ids(&format!("{PATH}?include_archived=true"))
            .await,
        [id_of(&class)]
    );
    assert_eq!(
        app.delete(&at).await.problem(409)["type"],
        "/problems/archived"
    );
    assert_eq!(
        app.patch(&at, &json!({"name": "B"})).await.problem(409)["type"],
        "/problems/archived"
    );
    let restored = app
        .post(&format!("{at}/restore"), &json!(null))
        .await
        .expect(200);
    assert_eq!(restored.etag(), "\"3\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["name"], "Process Technology");
    assert_eq!(
        app.post(&format!("{at}/restore"), &json!(null))
            .await
            .problem(409)["type"],
        "/problems/not_archived"
    );
    assert_eq!(app.collect_ids(PATH).await, [id_of(&class)]);
}

async fn restore_waits_for_the_enterprise(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let class = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Process Technology"}))
        .await;
    let at = path(&class);
    let enterprise = format!("/api/v1/enterprises/{}", id_of(&mitsui));
    app.delete(&at).await.expect(200);
    app.delete(&enterprise).await.expect(200);
    let problem = app
        .post(&format!("{at}/restore"), &json!(null))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/enterprise_archived");
    assert_eq!(problem["existing_id"], mitsui["id"]);
    assert!(app.get(&at).await.expect(200).body["archived_at"].is_string());
    app.post(&format!("{enterprise}/restore"), &json!(null))
        .await
        .expect(200);
    app.post(&format!("{at}/restore"), &json!(null))
        .await
        .expect(200);
}

async fn stale_if_match_changes_nothing(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let class = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Process Technology"}))
        .await;
    let at = path(&class);
    let current = app
        .with_if_match(
            Method::PATCH,
            &at,
            Some(&json!({"planned_size": 40})),
            "\"1\"",
        )
        .await
        .expect(200)
        .body;
    let stale = app
        .with_if_match(
            Method::PATCH,
            &at,
            Some(&json!({"planned_size": 10})),
            "\"1\"",
        )
        .await
        .problem(412);
    assert_eq!(stale["type"], "/problems/stale");
    assert_eq!(stale["current_version"], 2);
    app.with_if_match(Method::DELETE, &at, None, "\"1\"")
        .await
        .problem(412);
    assert_eq!(app.get(&at).await.expect(200).body, current);
    // Weak tags and lists are accepted.
    app.with_if_match(Method::DELETE, &at, None, "\"7\", W/\"2\"")
        .await
        .expect(200);
    app.with_if_match(Method::POST, &format!("{at}/restore"), None, "\"2\"")
        .await
        .problem(412);
    assert!(app.get(&at).await.expect(200).body["archived_at"].is_string());
    app.with_if_match(Method::POST, &format!("{at}/restore"), None, "\"3\"")
        .await
        .expect(200);
}

async fn missing_and_malformed_ids(app: TestApp) {
    let missing = format!("{PATH}/{MISSING_ID}");
    app.get(&missing).await.problem(404);
    app.patch(&missing, &json!({"name": "A"}))
        .await
        .problem(404);
    app.delete(&missing).await.problem(404);
    app.post(&format!("{missing}/restore"), &json!(null))
        .await
        .problem(404);
    let bad = format!("{PATH}/process-technology");
    let invalid = pairs(&[("id", "invalid_id")]);
    assert_eq!(app.get(&bad).await.field_errors(400), invalid);
    assert_eq!(
        app.patch(&bad, &json!({"name": "A"}))
            .await
            .field_errors(400),
        invalid
    );
    assert_eq!(app.delete(&bad).await.field_errors(400), invalid);
    assert_eq!(
        app.post(&format!("{bad}/restore"), &json!(null))
            .await
            .field_errors(400),
        invalid
    );
}

async fn list_filters(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let dr = sponsor(&app, "DR New Materials").await;
    let process = app
        .order_class(json!({
            "enterprise_id": id_of(&mitsui), "name": "Chemical Process Technology",
            "major": "Applied Chemical Technology", "cohort_year": 2027,
        }))
        .await;
    let safety = app
        .order_class(json!({
            "enterprise_id": id_of(&mitsui), "name": "Chemical Safety",
            "major": "Safety Engineering", "cohort_year": 2026,
        }))
        .await;
    let polymer = app
        .order_class(json!({
            "enterprise_id": id_of(&dr), "name": "Polymer Materials",
            "major": "Applied Chemical Technology", "cohort_year": 2027,
        }))
        .await;
    let archived = app
        .order_class(
            json!({"enterprise_id": id_of(&dr), "name": "Old Chemical Class", "cohort_year": 2027}),
        )
        .await;
    app.delete(&path(&archived)).await.expect(200);
    let ids = |records: &[&Value]| records.iter().map(|r| id_of(r)).collect::<Vec<_>>();

    assert_eq!(
        app.collect_ids(PATH).await,
        ids(&[&process, &safety, &polymer])
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?enterprise_id={}", id_of(&mitsui)))
            .await,
        ids(&[&process, &safety])
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?cohort_year=2027")).await,
        ids(&[&process, &polymer])
    );
    assert_eq!(
        app.collect_ids(&format!(
            "{PATH}?major=%20Applied%20%20Chemical%20Technology&enterprise_id={}",
            id_of(&dr)
        ))
        .await,
        ids(&[&polymer])
    );
    // q ignores case, width and spacing; % and _ are literal.
    assert_eq!(
        app.collect_ids(&format!("{PATH}?q=%EF%BC%A3HEMICAL%20%20"))
            .await,
        ids(&[&process, &safety])
    );
    assert!(app.collect_ids(&format!("{PATH}?q=%25")).await.is_empty());
    assert_eq!(
        app.collect_ids(&format!("{PATH}?q=chemical&include_archived=true"))
            .await,
        ids(&[&process, &safety, &archived])
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?stage=intention"))
            .await
            .len(),
        3
    );
    assert!(app
        .collect_ids(&format!("{PATH}?stage=agreement"))
        .await
        .is_empty());
    assert_eq!(
        app.collect_ids(&format!("{PATH}?sort=-name")).await,
        ids(&[&polymer, &safety, &process])
    );
}

async fn list_rejects_bad_parameters(app: TestApp) {
    for (query, expected) in [
        ("stage=signed", ("stage", "invalid_enum")),
        ("enterprise_id=mitsui", ("enterprise_id", "invalid_id")),
        ("cohort_year=next", ("cohort_year", "out_of_range")),
        ("cohort_year=1899", ("cohort_year", "out_of_range")),
        (
            "include_archived=yes",
            ("include_archived", "invalid_boolean"),
        ),
        ("sort=planned_size", ("sort", "unknown_sort")),
        ("limit=201", ("limit", "out_of_range")),
        ("cursor=abc", ("cursor", "invalid_cursor")),
        ("teacher=chen", ("teacher", "unknown_parameter")),
        ("q=a&q=b", ("q", "duplicate_parameter")),
    ] {
        assert_eq!(
            app.get(&format!("{PATH}?{query}")).await.field_errors(400),
            pairs(&[expected]),
            "{query}"
        );
    }
}

/// Keyset pages neither repeat nor skip rows when rows are added between pages: a
/// new row shows up on a later page only if it sorts after the cursor.
async fn pages_hold_together_across_inserts(app: TestApp) {
    let mitsui = sponsor(&app, "Mitsui Chemical").await;
    let enterprise = id_of(&mitsui);
    let mut by_name = Vec::new();
    for name in ["Class C", "Class E", "Class G", "Class I", "Class K"] {
        let class = app
            .order_class(json!({"enterprise_id": enterprise, "name": name}))
            .await;
        by_name.push((name.to_string(), id_of(&class)));
    }
    let add = |name: &'static str| {
        let app = &app;
        let enterprise = enterprise.clone();
        async move {
            id_of(
                &app.order_class(json!({"enterprise_id": enterprise, "name": name}))
                    .await,
            )
        }
    };

    // By name, two at a time.
    let (first, cursor) = app.page(&format!("{PATH}?sort=name&limit=2")).await;
    assert_eq!(first, [by_name[0].1.clone(), by_name[1].1.clone()]);
    let cursor = cursor.expect("more pages");
    let _before = add("Class A").await; // sorts before the cursor: never seen
    let after = add("Class F").await; // sorts after it: on the next page
    let (second, cursor) = app
        .page(&format!("{PATH}?sort=name&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second, [after.clone(), by_name[2].1.clone()]);
    let cursor = cursor.expect("more pages");
    let last = add("Class Z").await;
    let (third, cursor) = app
        .page(&format!("{PATH}?sort=name&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(third, [by_name[3].1.clone(), by_name[4].1.clone()]);
    let (fourth, cursor) = app
        .page(&format!(
            "{PATH}?sort=name&limit=2&cursor={}",
            cursor.expect("more pages")
        ))
        .await;
    assert_eq!(fourth, [last]);
    assert_eq!(cursor, None);

    // Newest first: rows created after the first page are newer than its cursor.
    let everything = app.collect_ids(&format!("{PATH}?sort=-created_at")).await;
    assert_eq!(everything.len(), 8);
    let (first, cursor) = app.page(&format!("{PATH}?sort=-created_at&limit=3")).await;
    let _newer = add("Class N").await;
    let mut seen = first;
    let mut cursor = cursor;
    while let Some(c) = cursor {
        let (ids, next) = app
            .page(&format!("{PATH}?sort=-created_at&limit=3&cursor={c}"))
            .await;
        seen.extend(ids);
        cursor = next;
    }
    assert_eq!(seen, everything);

    // Oldest first with updates in between: updated_at moves a row behind the cursor.
    let (first, mut cursor) = app.page(&format!("{PATH}?sort=updated_at&limit=3")).await;
    app.patch(
        &format!("{PATH}/{}", first[0]),
        &json!({"major": "Chemistry"}),
    )
    .await
    .expect(200);
    let mut rest = Vec::new();
    while let Some(c) = cursor {
        let (ids, next) = app
            .page(&format!("{PATH}?sort=updated_at&limit=3&cursor={c}"))
            .await;
        rest.extend(ids);
        cursor = next;
    }
    assert_eq!(rest.len(), 9 - 3 + 1);
    assert_eq!(rest.last(), Some(&first[0]));

    // A cursor continues only the sort it was made for.
    let (_, cursor) = app.page(&format!("{PATH}?sort=name&limit=2")).await;
    assert_eq!(
        app.get(&format!(
            "{PATH}?sort=-name&cursor={}",
            cursor.expect("more pages")
        ))
        .await
        .field_errors(400),
        pairs(&[("cursor", "cursor_mismatch")])
    );
}

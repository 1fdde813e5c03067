//! `/api/v1/internship-bases`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, sorted, TestApp, MISSING_ID};

backend_tests!(
    create_then_get_round_trips,
    create_reports_every_broken_rule_at_once,
    patch_checks_the_merged_record,
    a_base_an_agreement_covers_stays_with_its_enterprise,
    archive_and_restore,
    stale_if_match_changes_nothing,
    missing_and_malformed_ids,
    list_filters_and_bad_parameters,
    pages_hold_together_across_inserts
);

const PATH: &str = "/api/v1/internship-bases";

fn path(record: &Value) -> String {
    format!("{PATH}/{}", id_of(record))
}

async fn park(app: &TestApp) -> Value {
    app.enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park"}))
        .await
}

async fn create_then_get_round_trips(app: TestApp) {
    let park = park(&app).await;
    let created = app
        .post(
            PATH,
            &json!({
                "enterprise_id": id_of(&park),
                "name": " Carbonbay Industrial Park   Internship Training Base ",
                "location": "Training centre, 1 Carbonbay Avenue",
                "capacity": 60,
                "positions": 24,
                "description": "Jointly built by the college and the park.",
            }),
        )
        .await
        .expect(201);
    let base = &created.body;
    assert_eq!(created.header("location"), Some(path(base).as_str()));
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(base["enterprise_id"], park["id"]);
    assert_eq!(
        base["name"],
        "Carbonbay Industrial Park Internship Training Base"
    );
    assert_eq!(base["location"], "Training centre, 1 Carbonbay Avenue");
    assert_eq!(
        (&base["capacity"], &base["positions"]),
        (&json!(60), &json!(24))
    );
    assert_eq!(base["stage"], "intention");
    assert_eq!(base["stage_changed_at"], base["created_at"]);
    assert_eq!(base["version"], 1);
    assert_eq!(base["archived_at"], Value::Null);
    assert_eq!(&app.get(&path(base)).await.expect(200).body, base);

    let minimal = app
        .internship_base(json!({"enterprise_id": id_of(&park), "name": "Second base"}))
        .await;
    assert_eq!(
        (
            &minimal["capacity"],
            &minimal["positions"],
            &minimal["location"]
        ),
        (&json!(0), &json!(0), &Value::Null)
    );
}

async fn create_reports_every_broken_rule_at_once(app: TestApp) {
    let park = park(&app).await;
    assert_eq!(
        sorted(
            app.post(
                PATH,
                &json!({
                    "name": "  ", "location": "l".repeat(501), "capacity": -5,
                    "positions": "many", "description": "d".repeat(10_001), "beds": 3,
                }),
            )
            .await
            .field_errors(422)
        ),
        pairs(&[
            ("enterprise_id", "required"),
            ("name", "required"),
            ("location", "too_long"),
            ("capacity", "out_of_range"),
            ("positions", "invalid_type"),
            ("description", "too_long"),
            ("beds", "unknown_field"),
        ])
    );
    assert_eq!(
        app.post(
            PATH,
            &json!({"enterprise_id": id_of(&park), "name": "A", "capacity": 3_000_000_000_i64})
        )
        .await
        .field_errors(422),
        pairs(&[("capacity", "out_of_range")])
    );
    assert_eq!(
        sorted(
            app.post(
                PATH,
                &json!({"enterprise_id": id_of(&park), "name": "A", "stage": "implementation", "stage_changed_at": "2026-11-29T00:00:00Z"})
            )
            .await
            .field_errors(422)
        ),
        // `stage` may be set at creation (with evidence); its timestamp may not.
        pairs(&[("stage_changed_at", "read_only")])
    );
    assert_eq!(
        app.post(PATH, &json!({"enterprise_id": MISSING_ID, "name": "A"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "not_found")])
    );
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&park)))
        .await
        .expect(200);
    assert_eq!(
        app.post(PATH, &json!({"enterprise_id": id_of(&park), "name": "A"}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "archived")])
    );
    assert!(app
        .collect_ids(&format!("{PATH}?include_archived=true"))
        .await
        .is_empty());
}

async fn patch_checks_the_merged_record(app: TestApp) {
    let park = park(&app).await;
    let dr = app.enterprise(json!({"name": "DR New Materials"})).await;
    let base = app
        .internship_base(json!({
            "enterprise_id": id_of(&park), "name": "Training Base", "location": "Gate 3",
            "capacity": 60, "positions": 24,
        }))
        .await;
    let at = path(&base);
    let patched = app
        .patch(
            &at,
            &json!({"positions": 30, "location": null, "capacity": null}),
        )
        .await
        .expect(200);
    assert_eq!(patched.etag(), "\"2\"");
    assert_eq!(patched.body["positions"], 30);
    assert_eq!(patched.body["capacity"], 0);
    assert_eq!(patched.body["location"], Value::Null);
    assert_eq!(patched.body["name"], "Training Base");
    assert_eq!(
        sorted(
            app.patch(
                &at,
                &json!({"name": null, "positions": -1, "stage": "agreement"})
            )
            .await
            .field_errors(422)
        ),
        pairs(&[("stage", "read_only")])
    );
    assert_eq!(
        sorted(
            app.patch(&at, &json!({"name": null, "positions": -1}))
                .await
                .field_errors(422)
        ),
        pairs(&[("name", "required"), ("positions", "out_of_range")])
    );
    let unchanged = app.patch(&at, &json!({"positions": 30})).await.expect(200);
    assert_eq!(unchanged.etag(), "\"2\"");
    assert_eq!(
        app.patch(&at, &json!({"enterprise_id": MISSING_ID}))
            .await
            .field_errors(422),
        pairs(&[("enterprise_id", "not_found")])
    );
    let moved = app
        .patch(&at, &json!({"enterprise_id": id_of(&dr)}))
        .await
        .expect(200)
        .body;
    assert_eq!(moved["enterprise_id"], dr["id"]);
    assert_eq!(moved["version"], 3);
    assert_eq!(app.get(&at).await.expect(200).body, moved);
}

async fn a_base_an_agreement_covers_stays_with_its_enterprise(app: TestApp) {
    let park = park(&app).await;
    let dr = app.enterprise(json!({"name": "DR New Materials"})).await;
    let base = app
        .internship_base(json!({"enterprise_id": id_of(&park), "name": "Training Base"}))
        .await;
    let agreement = app
        .agreement(json!({
            "enterprise_id": id_of(&park), "title": "Joint base agreement",
            "kind": "internship_base", "internship_base_id": id_of(&base),
            "valid_from": "2027-01-01",
        }))
        .await;
    let problem = app
        .patch(&path(&base), &json!({"enterprise_id": id_of(&dr)}))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/covered_by_agreement");
    assert_eq!(problem["existing_id"], agreement["id"]);
    assert_eq!(app.get(&path(&base)).await.expect(200).body, base);
}

async fn archive_and_restore(app: TestApp) {
    let park = park(&app).await;
    let base = app
        .internship_base(json!({"enterprise_id": id_of(&park), "name": "Training Base"}))
        .await;
    let at = path(&base);
    let restore = format!("{at}/restore");
    assert_eq!(
        app.post(&restore, &json!(null)).await.problem(409)["type"],
        "/problems/not_archived"
    );
    let archived = app.delete(&at).await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert!(archived.body["archived_at"].is_string());
    assert!(app.collect_ids(PATH).await.is_empty());
    assert_eq!(
        app.delete(&at).await.problem(409)["type"],
        "/problems/archived"
    );
    assert_eq!(
        app.patch(&at, &json!({"positions": 3})).await.problem(409)["type"],
        "/problems/archived"
    );
    // The park is archived too: the base waits for it.
    let park_path = format!("/api/v1/enterprises/{}", id_of(&park));
    app.delete(&park_path).await.expect(200);
    let problem = app.post(&restore, &json!(null)).await.problem(409);
    assert_eq!(problem["type"], "/problems/enterprise_archived");
    assert_eq!(problem["existing_id"], park["id"]);
    app.post(&format!("{park_path}/restore"), &json!(null))
        .await
        .expect(200);
    let restored = app.post(&restore, &json!(null)).await.expect(200);
    assert_eq!(restored.etag(), "\"3\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(app.collect_ids(PATH).await, [id_of(&base)]);
}

async fn stale_if_match_changes_nothing(app: TestApp) {
    let park = park(&app).await;
    let base = app
        .internship_base(json!({"enterprise_id": id_of(&park), "name": "Training Base"}))
        .await;
    let at = path(&base);
    app.with_if_match(Method::PATCH, &at, Some(&json!({"capacity": 60})), "\"1\"")
        .await
        .expect(200);
    let stale = app
        .with_if_match(Method::PATCH, &at, Some(&json!({"capacity": 10})), "\"1\"")
        .await
        .problem(412);
    assert_eq!(stale["current_version"], 2);
    app.with_if_match(Method::DELETE, &at, None, "\"1\"")
        .await
        .problem(412);
    let current = app.get(&at).await.expect(200).body;
    assert_eq!(current["capacity"], 60);
    assert_eq!(current["archived_at"], Value::Null);
    app.with_if_match(Method::DELETE, &at, None, "\"2\"")
        .await
        .expect(200);
    app.with_if_match(Method::POST, &format!("{at}/restore"), None, "\"2\"")
        .await
        .problem(412);
    assert!(app.get(&at).await.expect(200).body["archived_at"].is_string());
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
    let invalid = pairs(&[("id", "invalid_id")]);
    let bad = format!("{PATH}/42");
    assert_eq!(app.get(&bad).await.field_errors(400), invalid);
    assert_eq!(app.patch(&bad, &json!({})).await.field_errors(400), invalid);
    assert_eq!(app.delete(&bad).await.field_errors(400), invalid);
    assert_eq!(
        app.post(&format!("{bad}/restore"), &json!(null))
            .await
            .field_errors(400),
        invalid
    );
}

async fn list_filters_and_bad_parameters(app: TestApp) {
    let park = park(&app).await;
    let dr = app.enterprise(json!({"name": "DR New Materials"})).await;
    let joint = app
        .internship_base(json!({"enterprise_id": id_of(&park), "name": "Joint Training Base"}))
        .await;
    let line = app
        .internship_base(json!({"enterprise_id": id_of(&dr), "name": "Production Line Base"}))
        .await;
    let lab = app
        .internship_base(json!({"enterprise_id": id_of(&dr), "name": "Materials Lab"}))
        .await;
    app.delete(&path(&lab)).await.expect(200);
    assert_eq!(app.collect_ids(PATH).await, [id_of(&joint), id_of(&line)]);
    assert_eq!(
        app.collect_ids(&format!("{PATH}?enterprise_id={}", id_of(&dr)))
            .await,
        [id_of(&line)]
    );
    assert_eq!(
        app.collect_ids(&format!(
            "{PATH}?enterprise_id={}&include_archived=1",
            id_of(&dr)
        ))
        .await,
        [id_of(&line), id_of(&lab)]
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?q=%20BASE")).await,
        [id_of(&joint), id_of(&line)]
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?q=training")).await,
        [id_of(&joint)]
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?stage=intention&sort=-name"))
            .await,
        [id_of(&line), id_of(&joint)]
    );
    assert!(app
        .collect_ids(&format!("{PATH}?stage=completed"))
        .await
        .is_empty());
    for (query, expected) in [
        ("stage=open", ("stage", "invalid_enum")),
        ("enterprise_id=park", ("enterprise_id", "invalid_id")),
        ("sort=capacity", ("sort", "unknown_sort")),
        ("limit=0", ("limit", "out_of_range")),
        (
            "include_archived=maybe",
            ("include_archived", "invalid_boolean"),
        ),
        ("capacity=3", ("capacity", "unknown_parameter")),
    ] {
        assert_eq!(
            app.get(&format!("{PATH}?{query}")).await.field_errors(400),
            pairs(&[expected]),
            "{query}"
        );
    }
}

async fn pages_hold_together_across_inserts(app: TestApp) {
    let park = park(&app).await;
    let enterprise = id_of(&park);
    let mut created = Vec::new();
    for i in 0..5 {
        let base = app
            .internship_base(json!({"enterprise_id": enterprise, "name": format!("Base {i}")}))
            .await;
        created.push(id_of(&base));
    }
    // Oldest first, two per page, with a new base after every page: each new base is
    // newer than every cursor, so all of them show up, once, at the end.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{PATH}?limit=2&cursor={c}"),
            None => format!("{PATH}?limit=2"),
        };
        let (ids, next) = app.page(&url).await;
        pages += 1;
        seen.extend(ids);
        if pages <= 2 {
            let base = app
                .internship_base(
                    json!({"enterprise_id": enterprise, "name": format!("Late base {pages}")}),
                )
                .await;
            created.push(id_of(&base));
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, created);
    // By name, descending, across pages.
    let names = app.collect_ids(&format!("{PATH}?sort=-name&limit=3")).await;
    // "Late base 2", "Late base 1", "Base 4" … "Base 0": creation order reversed.
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(names, expected);
}

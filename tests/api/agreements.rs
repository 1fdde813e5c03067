//! `/api/v1/agreements`.

use chrono::{Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, sorted, TestApp, CREDIT_CODES, MISSING_ID};

backend_tests!(
    create_then_get_round_trips,
    create_reports_every_broken_rule_at_once,
    covered_items_belong_to_the_same_enterprise,
    kind_decides_what_may_be_covered,
    numbers_are_unique_per_enterprise,
    racing_creates_with_one_number_have_one_winner,
    status_follows_the_dates,
    status_filter_matches_the_status_shown,
    patch_checks_the_merged_record,
    an_agreement_backing_a_move_keeps_backing_it,
    archive_and_restore,
    restore_waits_for_enterprise_and_covered_item,
    stale_if_match_changes_nothing,
    missing_and_malformed_ids,
    list_filters_and_bad_parameters,
    sorts_by_dates_with_open_ended_last,
    pages_hold_together_across_inserts
);

const PATH: &str = "/api/v1/agreements";

fn path(record: &Value) -> String {
    format!("{PATH}/{}", id_of(record))
}

/// Today (UTC) moved by `offset` days, as the API writes dates.
fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let moved = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    moved
        .expect("a date near today")
        .format("%Y-%m-%d")
        .to_string()
}

fn ids(records: &[&Value]) -> Vec<String> {
    records.iter().map(|r| id_of(r)).collect()
}

/// The park, one of its companies, an order class and a base of each.
struct Story {
    park: Value,
    mitsui: Value,
    park_base: Value,
    mitsui_class: Value,
    mitsui_base: Value,
}

async fn story(app: &TestApp) -> Story {
    let park = app
        .enterprise(json!({
            "name": "Carbonbay Industrial Park",
            "kind": "industrial_park",
            "credit_code": CREDIT_CODES[0],
        }))
        .await;
    let mitsui = app
        .enterprise(json!({"name": "Mitsui Chemical", "parent_id": id_of(&park)}))
        .await;
    let park_base = app
        .internship_base(json!({"enterprise_id": id_of(&park), "name": "Joint Training Base"}))
        .await;
    let mitsui_class = app
        .order_class(json!({"enterprise_id": id_of(&mitsui), "name": "Process Technology 2027"}))
        .await;
    let mitsui_base = app
        .internship_base(json!({"enterprise_id": id_of(&mitsui), "name": "Plant Base"}))
        .await;
    Story {
        park,
        mitsui,
        park_base,
        mitsui_class,
        mitsui_base,
    }
}

fn framework(enterprise: &Value) -> Value {
    json!({
        "enterprise_id": id_of(enterprise),
        "title": "School–Park Framework Cooperation Agreement",
        "kind": "framework",
        "valid_from": day(-30),
    })
}

async fn create_then_get_round_trips(app: TestApp) {
    let s = story(&app).await;
    let created = app
        .post(
            PATH,
            &json!({
                "enterprise_id": id_of(&s.park),
                "title": "  School–Park   Framework Cooperation Agreement ",
                "number": " CBIP-XY-2026-01 ",
                "kind": "framework",
                "signed_on": day(-31),
                "valid_from": day(-30),
                "valid_until": day(1000),
                "document_url": "https://docs.college.example/agreements/cbip-xy-2026-01.pdf",
                "notes": "Framework for the order class\nand the joint base.",
            }),
        )
        .await
        .expect(201);
    let agreement = &created.body;
    assert_eq!(created.header("location"), Some(path(agreement).as_str()));
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(agreement["enterprise_id"], s.park["id"]);
    assert_eq!(
        agreement["title"],
        "School–Park Framework Cooperation Agreement"
    );
    assert_eq!(agreement["number"], "CBIP-XY-2026-01");
    assert_eq!(agreement["kind"], "framework");
    assert_eq!(agreement["order_class_id"], Value::Null);
    assert_eq!(agreement["internship_base_id"], Value::Null);
    assert_eq!(agreement["signed_on"], day(-31));
    assert_eq!(agreement["valid_from"], day(-30));
    assert_eq!(agreement["valid_until"], day(1000));
    assert_eq!(agreement["status"], "active");
    assert_eq!(
        agreement["document_url"],
        "https://docs.college.example/agreements/cbip-xy-2026-01.pdf"
    );
    assert_eq!(
        agreement["notes"],
        "Framework for the order class\nand the joint base."
    );
    assert_eq!(agreement["version"], 1);
    assert_eq!(agreement["archived_at"], Value::Null);
    assert!(agreement.get("stage").is_none());
    assert_eq!(&app.get(&path(agreement)).await.expect(200).body, agreement);

    let covering = app
        .agreement(json!({
            "enterprise_id": id_of(&s.mitsui), "title": "Order class agreement",
            "kind": "order_class", "order_class_id": id_of(&s.mitsui_class),
            "valid_from": day(0),
        }))
        .await;
    assert_eq!(covering["order_class_id"], s.mitsui_class["id"]);
    for field in [
        "number",
        "signed_on",
        "valid_until",
        "document_url",
        "notes",
    ] {
        assert_eq!(covering[field], Value::Null, "{field}");
    }
}

async fn create_reports_every_broken_rule_at_once(app: TestApp) {
    let s = story(&app).await;
    assert_eq!(
        sorted(app.post(PATH, &json!({})).await.field_errors(422)),
        pairs(&[
            ("enterprise_id", "required"),
            ("title", "required"),
            ("kind", "required"),
            ("valid_from", "required"),
        ])
    );
    assert_eq!(
        sorted(
            app.post(
                PATH,
                &json!({
                    "enterprise_id": id_of(&s.park),
                    "title": "t".repeat(201),
                    "number": "n".repeat(101),
                    "kind": "treaty",
                    "signed_on": "18/12/2026",
                    "valid_from": "2027-01-01T00:00:00Z",
                    "valid_until": "",
                    "document_url": "ftp://docs.college.example/a.pdf",
                    "notes": "n".repeat(10_001),
                    "parties": 2,
                }),
            )
            .await
            .field_errors(422)
        ),
        pairs(&[
            ("title", "too_long"),
            ("number", "too_long"),
            ("kind", "invalid_enum"),
            ("signed_on", "invalid_type"),
            ("valid_from", "invalid_type"),
            ("valid_until", "invalid_type"),
            ("document_url", "invalid_url"),
            ("notes", "too_long"),
            ("parties", "unknown_field"),
        ])
    );
    let mut backwards = framework(&s.park);
    backwards["valid_from"] = json!("2027-01-01");
    backwards["valid_until"] = json!("2026-12-31");
    assert_eq!(
        app.post(PATH, &backwards).await.field_errors(422),
        pairs(&[("valid_until", "date_order")])
    );
    // A one-day agreement is fine.
    backwards["valid_until"] = json!("2027-01-01");
    app.post(PATH, &backwards).await.expect(201);
    assert_eq!(
        sorted(
            app.post(
                PATH,
                &json!({"status": "active", "id": MISSING_ID, "title": "A"})
            )
            .await
            .field_errors(422)
        ),
        pairs(&[("id", "read_only"), ("status", "read_only")])
    );
    let mut nowhere = framework(&s.park);
    nowhere["enterprise_id"] = json!(MISSING_ID);
    assert_eq!(
        app.post(PATH, &nowhere).await.field_errors(422),
        pairs(&[("enterprise_id", "not_found")])
    );
    let closed = app.enterprise(json!({"name": "Closed Chemical Co."})).await;
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&closed)))
        .await
        .expect(200);
    assert_eq!(
        app.post(PATH, &framework(&closed)).await.field_errors(422),
        pairs(&[("enterprise_id", "archived")])
    );
    assert_eq!(app.collect_ids(PATH).await.len(), 1);
}

async fn covered_items_belong_to_the_same_enterprise(app: TestApp) {
    let s = story(&app).await;
    // The park signs for Mitsui's order class: refused, naming the field.
    let other = app
        .post(
            PATH,
            &json!({
                "enterprise_id": id_of(&s.park), "title": "Order class agreement",
                "kind": "order_class", "order_class_id": id_of(&s.mitsui_class),
                "valid_from": day(0),
            }),
        )
        .await;
    assert_eq!(
        other.field_errors(422),
        pairs(&[("order_class_id", "other_enterprise")])
    );
    assert_eq!(
        app.post(
            PATH,
            &json!({
                "enterprise_id": id_of(&s.park), "title": "Base agreement",
                "kind": "internship_base", "internship_base_id": id_of(&s.mitsui_base),
                "valid_from": day(0),
            }),
        )
        .await
        .field_errors(422),
        pairs(&[("internship_base_id", "other_enterprise")])
    );
    assert_eq!(
        app.post(
            PATH,
            &json!({
                "enterprise_id": id_of(&s.park), "title": "Order class agreement",
                "kind": "order_class", "order_class_id": MISSING_ID, "valid_from": day(0),
            }),
        )
        .await
        .field_errors(422),
        pairs(&[("order_class_id", "not_found")])
    );
    // Every reference problem at once.
    assert_eq!(
        app.post(
            PATH,
            &json!({
                "enterprise_id": MISSING_ID, "title": "Base agreement",
                "kind": "internship_base", "internship_base_id": id_of(&s.park_base),
                "valid_from": day(0),
            }),
        )
        .await
        .field_errors(422),
        pairs(&[
            ("enterprise_id", "not_found"),
            ("internship_base_id", "other_enterprise")
        ])
    );
    app.delete(&format!("/api/v1/internship-bases/{}", id_of(&s.park_base)))
        .await
        .expect(200);
    assert_eq!(
        app.post(
            PATH,
            &json!({
                "enterprise_id": id_of(&s.park), "title": "Base agreement",
                "kind": "internship_base", "internship_base_id": id_of(&s.park_base),
                "valid_from": day(0),
            }),
        )
        .await
        .field_errors(422),
        pairs(&[("internship_base_id", "archived")])
    );
    let base_agreement = app
        .agreement(json!({
            "enterprise_id": id_of(&s.mitsui), "title": "Base agreement",
            "kind": "internship_base", "internship_base_id": id_of(&s.mitsui_base),
            "valid_from": day(0),
        }))
        .await;
    assert_eq!(base_agreement["internship_base_id"], s.mitsui_base["id"]);
    assert_eq!(app.collect_ids(PATH).await, [id_of(&base_agreement)]);
}

async fn kind_decides_what_may_be_covered(app: TestApp) {
    let s = story(&app).await;
    let mut body = framework(&s.mitsui);
    body["order_class_id"] = json!(id_of(&s.mitsui_class));
    body["internship_base_id"] = json!(id_of(&s.mitsui_base));
    assert_eq!(
        sorted(app.post(PATH, &body).await.field_errors(422)),
        pairs(&[
            ("internship_base_id", "not_allowed"),
            ("order_class_id", "not_allowed")
        ])
    );
    body["kind"] = json!("order_class");
    assert_eq!(
        app.post(PATH, &body).await.field_errors(422),
        pairs(&[("internship_base_id", "not_allowed")])
    );
    body["internship_base_id"] = Value::Null;
    let agreement = app.agreement(body).await;
    // Moving the agreement to another kind needs the covered item cleared with it.
    let at = path(&agreement);
    assert_eq!(
        app.patch(&at, &json!({"kind": "framework"}))
            .await
            .field_errors(422),
        pairs(&[("order_class_id", "not_allowed")])
    );
    let changed = app
        .patch(&at, &json!({"kind": "other", "order_class_id": null}))
        .await
        .expect(200)
        .body;
    assert_eq!(changed["kind"], "other");
    assert_eq!(changed["order_class_id"], Value::Null);
    // An order_class agreement need not name its class.
    let mut bare = framework(&s.mitsui);
    bare["kind"] = json!("order_class");
    app.post(PATH, &bare).await.expect(201);
}

async fn numbers_are_unique_per_enterprise(app: TestApp) {
    let s = story(&app).await;
    let mut first = framework(&s.park);
    first["number"] = json!("CBIP-XY-2026-01");
    let holder = app.agreement(first.clone()).await;
    // The same number typed in full-width characters is the same number.
    let mut again = first.clone();
    again["number"] = json!("ＣＢＩＰ-ＸＹ-２０２６-０１");
    again["title"] = json!("Another agreement");
    let problem = app.post(PATH, &again).await.problem(409);
    assert_eq!(problem["type"], "/problems/duplicate_number");
    assert_eq!(problem["existing_id"], holder["id"]);
    // Another enterprise may use it.
    let mut elsewhere = framework(&s.mitsui);
    elsewhere["number"] = json!("CBIP-XY-2026-01");
    let mitsui_agreement = app.agreement(elsewhere).await;
    // Agreements without a number never clash.
    app.agreement(framework(&s.park)).await;
    app.agreement(framework(&s.park)).await;
    // A patch to a taken number clashes; keeping one's own does not.
    let mut second = framework(&s.park);
    second["number"] = json!("CBIP-XY-2026-02");
    let second = app.agreement(second).await;
    let problem = app
        .patch(&path(&second), &json!({"number": "CBIP-XY-2026-01"}))
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], holder["id"]);
    app.patch(&path(&holder), &json!({"title": "Renamed framework"}))
        .await
        .expect(200);
    // Moving to an enterprise where the number is taken clashes too.
    let problem = app
        .patch(
            &path(&mitsui_agreement),
            &json!({"enterprise_id": id_of(&s.park)}),
        )
        .await
        .problem(409);
    assert_eq!(problem["existing_id"], holder["id"]);
    // An archived agreement keeps its number.
    app.delete(&path(&holder)).await.expect(200);
    let problem = app.post(PATH, &first).await.problem(409);
    assert_eq!(problem["existing_id"], holder["id"]);
    assert_eq!(app.get(&path(&second)).await.expect(200).body, second);
}

/// Many creates with one number at once: one wins, the others are told which.
async fn racing_creates_with_one_number_have_one_winner(app: TestApp) {
    let s = story(&app).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let mut body = framework(&s.park);
        body["number"] = json!("CBIP-XY-2026-07");
        body["title"] = json!(format!("Draft {i}"));
        let request = app
            .client
            .post(format!("{}{PATH}", app.address))
            .json(&body);
        tasks.push(tokio::spawn(async move {
            let response = request.send().await.expect("response");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json body"))
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (status, body) in &results {
        if *status != 201 {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["type"], "/problems/duplicate_number");
            assert_eq!(body["existing_id"], winners[0]["id"]);
        }
    }
    assert_eq!(app.collect_ids(PATH).await, [id_of(winners[0])]);
}

async fn status_follows_the_dates(app: TestApp) {
    let s = story(&app).await;
    let status_of = |from: String, until: Option<String>| {
        let mut body = framework(&s.park);
        body["valid_from"] = json!(from);
        body["valid_until"] = json!(until);
        let app = &app;
        async move { app.agreement(body).await["status"].clone() }
    };
    assert_eq!(status_of(day(1), None).await, "not_yet_valid");
    assert_eq!(status_of(day(1), Some(day(2))).await, "not_yet_valid");
    assert_eq!(status_of(day(0), None).await, "active");
    assert_eq!(status_of(day(-400), Some(day(91))).await, "active");
    assert_eq!(status_of(day(-400), Some(day(90))).await, "expiring");
    assert_eq!(status_of(day(-400), Some(day(0))).await, "expiring");
    assert_eq!(status_of(day(0), Some(day(0))).await, "expiring");
    assert_eq!(status_of(day(-400), Some(day(-1))).await, "expired");
    // A patch to the dates changes the status; GET shows the same.
    let mut body = framework(&s.park);
    body["valid_until"] = json!(day(-1));
    let agreement = app.agreement(body).await;
    let patched = app
        .patch(&path(&agreement), &json!({"valid_until": day(30)}))
        .await
        .expect(200)
        .body;
    assert_eq!(patched["status"], "expiring");
    assert_eq!(
        app.get(&path(&agreement)).await.expect(200).body["status"],
        "expiring"
    );
    let open = app
        .patch(&path(&agreement), &json!({"valid_until": null}))
        .await
        .expect(200)
        .body;
    assert_eq!(open["status"], "active");
}

async fn status_filter_matches_the_status_shown(app: TestApp) {
    let s = story(&app).await;
    let mut made = Vec::new();
    for (from, until) in [
        (1, None),
        (1, Some(2)),
        (0, None),
        (-400, Some(91)),
        (-400, Some(90)),
        (-400, Some(0)),
        (-400, Some(-1)),
        (-800, Some(-400)),
    ] {
        let mut body = framework(&s.park);
        body["valid_from"] = json!(day(from));
        body["valid_until"] = json!(until.map(day));
        made.push(app.agreement(body).await);
    }
    let expect = |indices: &[usize]| indices.iter().map(|i| id_of(&made[*i])).collect::<Vec<_>>();
    for (status, indices) in [
        ("not_yet_valid", vec![0, 1]),
        ("active", vec![2, 3]),
        ("expiring", vec![4, 5]),
        ("expired", vec![6, 7]),
    ] {
        let page = app
            .get(&format!("{PATH}?status={status}&limit=200"))
            .await
            .expect(200)
            .body;
        let items = page["items"].as_array().expect("items");
        assert!(items.iter().all(|a| a["status"] == status), "{status}");
        assert_eq!(
            items.iter().map(id_of).collect::<Vec<_>>(),
            expect(&indices),
            "{status}"
        );
    }
    // With paging and other filters.
    assert_eq!(
        app.collect_ids(&format!(
            "{PATH}?status=expiring&sort=-valid_until&limit=1&enterprise_id={}",
            id_of(&s.park)
        ))
        .await,
        expect(&[4, 5])
    );
    assert!(app
        .collect_ids(&format!("{PATH}?status=expired&kind=order_class"))
        .await
        .is_empty());
}

async fn patch_checks_the_merged_record(app: TestApp) {
    let s = story(&app).await;
    let mut body = framework(&s.mitsui);
    body["kind"] = json!("order_class");
    body["order_class_id"] = json!(id_of(&s.mitsui_class));
    body["valid_until"] = json!(day(700));
    let agreement = app.agreement(body).await;
    let at = path(&agreement);
    assert_eq!(
        app.patch(&at, &json!({"valid_from": day(701)}))
            .await
            .field_errors(422),
        pairs(&[("valid_until", "date_order")])
    );
    assert_eq!(
        sorted(
            app.patch(
                &at,
                &json!({"title": null, "kind": null, "valid_from": null})
            )
            .await
            .field_errors(422)
        ),
        pairs(&[
            ("kind", "required"),
            ("title", "required"),
            ("valid_from", "required")
        ])
    );
    assert_eq!(
        app.patch(&at, &json!({"status": "expired"}))
            .await
            .field_errors(422),
        pairs(&[("status", "read_only")])
    );
    // Moving to the park while keeping Mitsui's class: the class is of another enterprise.
    assert_eq!(
        app.patch(&at, &json!({"enterprise_id": id_of(&s.park)}))
            .await
            .field_errors(422),
        pairs(&[("order_class_id", "other_enterprise")])
    );
    // A new class must be live and Mitsui's.
    let old = app
        .order_class(json!({"enterprise_id": id_of(&s.mitsui), "name": "Old class"}))
        .await;
    app.delete(&format!("/api/v1/order-classes/{}", id_of(&old)))
        .await
        .expect(200);
    assert_eq!(
        app.patch(&at, &json!({"order_class_id": id_of(&old)}))
            .await
            .field_errors(422),
        pairs(&[("order_class_id", "archived")])
    );
    // The class it already covers may be archived meanwhile: other edits still work.
    app.delete(&format!("/api/v1/order-classes/{}", id_of(&s.mitsui_class)))
        .await
        .expect(200);
    let patched = app
        .patch(
            &at,
            &json!({"notes": "Signed at the second visit.", "document_url": "http://docs.example/a.pdf"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(patched["notes"], "Signed at the second visit.");
    assert_eq!(patched["order_class_id"], s.mitsui_class["id"]);
    assert_eq!(patched["version"], 2);
    let unchanged = app
        .patch(&at, &json!({"notes": "Signed at the second visit."}))
        .await
        .expect(200);
    assert_eq!(unchanged.etag(), "\"2\"");
    let moved = app
        .patch(
            &at,
            &json!({"enterprise_id": id_of(&s.park), "kind": "framework", "order_class_id": null}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(moved["enterprise_id"], s.park["id"]);
    assert_eq!(app.get(&at).await.expect(200).body, moved);
}

/// A stage move citing an agreement was allowed because the agreement was the moved
/// record's enterprise's and covered the item: an edit may not take that away.
async fn an_agreement_backing_a_move_keeps_backing_it(app: TestApp) {
    let s = story(&app).await;
    let class_agreement = app
        .agreement(json!({
            "enterprise_id": id_of(&s.mitsui), "title": "Order class agreement",
            "kind": "order_class", "order_class_id": id_of(&s.mitsui_class),
            "valid_from": day(-1),
        }))
        .await;
    let base_agreement = app
        .agreement(json!({
            "enterprise_id": id_of(&s.mitsui), "title": "Base agreement",
            "kind": "internship_base", "internship_base_id": id_of(&s.mitsui_base),
            "valid_from": day(-1),
        }))
        .await;
    let frame = app.agreement(framework(&s.mitsui)).await;
    let mut moves = Vec::new();
    for (item, agreement) in [
        (
            format!("/api/v1/order-classes/{}", id_of(&s.mitsui_class)),
            &class_agreement,
        ),
        (
            format!("/api/v1/internship-bases/{}", id_of(&s.mitsui_base)),
            &base_agreement,
        ),
        (format!("/api/v1/enterprises/{}", id_of(&s.mitsui)), &frame),
    ] {
        let moved = app
            .post(
                &format!("{item}/transitions"),
                &json!({"to_stage": "agreement", "agreement_id": id_of(agreement)}),
            )
            .await
            .expect(201)
            .body;
        moves.push(id_of(&moved["transition"]));
    }

    for (agreement, patch, cited_by) in [
        (
            &class_agreement,
            json!({"kind": "framework", "order_class_id": null}),
            &moves[0],
        ),
        (
            &base_agreement,
            json!({"kind": "framework", "internship_base_id": null}),
            &moves[1],
        ),
        (&frame, json!({"enterprise_id": id_of(&s.park)}), &moves[2]),
    ] {
        let problem = app.patch(&path(agreement), &patch).await.problem(409);
        assert_eq!(
            problem["type"], "/problems/backs_a_move",
            "{patch}: {problem}"
        );
        assert_eq!(&problem["existing_id"], cited_by, "{patch}: {problem}");
        let unchanged = app.get(&path(agreement)).await.expect(200).body;
        assert_eq!(&unchanged, agreement, "{patch}");
    }

    // Edits that leave it backing the move are fine.
    for (agreement, number) in [
        (&class_agreement, "M-1"),
        (&base_agreement, "M-2"),
        (&frame, "M-3"),
    ] {
        let renamed = app
            .patch(
                &path(agreement),
                &json!({"title": "Renamed", "number": number}),
            )
            .await
            .expect(200)
            .body;
        assert_eq!(renamed["version"], 2);
    }
    // An agreement no move cites may still be turned into something else.
    let unused = app
        .agreement(json!({
            "enterprise_id": id_of(&s.mitsui), "title": "Second class agreement",
            "kind": "order_class", "order_class_id": id_of(&s.mitsui_class),
            "valid_from": day(-1),
        }))
        .await;
    app.patch(
        &path(&unused),
        &json!({"kind": "framework", "order_class_id": null, "enterprise_id": id_of(&s.park)}),
    )
    .await
    .expect(200);
}

async fn archive_and_restore(app: TestApp) {
    let s = story(&app).await;
    let agreement = app.agreement(framework(&s.park)).await;
    let at = path(&agreement);
    let restore = format!("{at}/restore");
    assert_eq!(
        app.post(&restore, &json!(null)).await.problem(409)["type"],
        "/problems/not_archived"
    );
    let archived = app.delete(&at).await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(archived.body["status"], "active");
    assert_eq!(app.get(&at).await.expect(200).body, archived.body);
    assert!(app.collect_ids(PATH).await.is_empty());
    assert_eq!(
        app.delete(&at).await.problem(409)["type"],
        "/problems/archived"
    );
    assert_eq!(
        app.patch(&at, &json!({"title": "B"})).await.problem(409)["type"],
        "/problems/archived"
    );
    let restored = app.post(&restore, &json!(null)).await.expect(200);
    assert_eq!(restored.etag(), "\"3\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(app.collect_ids(PATH).await, [id_of(&agreement)]);
}

async fn restore_waits_for_enterprise_and_covered_item(app: TestApp) {
    let s = story(&app).await;
    let mut body = framework(&s.mitsui);
    body["kind"] = json!("order_class");
    body["order_class_id"] = json!(id_of(&s.mitsui_class));
    let class_agreement = app.agreement(body).await;
    let mut body = framework(&s.mitsui);
    body["kind"] = json!("internship_base");
    body["internship_base_id"] = json!(id_of(&s.mitsui_base));
    let base_agreement = app.agreement(body).await;
    let class_path = format!("/api/v1/order-classes/{}", id_of(&s.mitsui_class));
    let base_path = format!("/api/v1/internship-bases/{}", id_of(&s.mitsui_base));
    let mitsui_path = format!("/api/v1/enterprises/{}", id_of(&s.mitsui));
    for record in [&class_agreement, &base_agreement] {
        app.delete(&path(record)).await.expect(200);
    }
    app.delete(&class_path).await.expect(200);
    app.delete(&base_path).await.expect(200);
    app.delete(&mitsui_path).await.expect(200);

    let restore = |record: &Value| format!("{}/restore", path(record));
    let problem = app
        .post(&restore(&class_agreement), &json!(null))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/enterprise_archived");
    assert_eq!(problem["existing_id"], s.mitsui["id"]);
    app.post(&format!("{mitsui_path}/restore"), &json!(null))
        .await
        .expect(200);
    let problem = app
        .post(&restore(&class_agreement), &json!(null))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/order_class_archived");
    assert_eq!(problem["existing_id"], s.mitsui_class["id"]);
    let problem = app
        .post(&restore(&base_agreement), &json!(null))
        .await
        .problem(409);
    assert_eq!(problem["type"], "/problems/internship_base_archived");
    assert_eq!(problem["existing_id"], s.mitsui_base["id"]);
    assert!(app.collect_ids(PATH).await.is_empty());
    app.post(&format!("{class_path}/restore"), &json!(null))
        .await
        .expect(200);
    app.post(&format!("{base_path}/restore"), &json!(null))
        .await
        .expect(200);
    app.post(&restore(&class_agreement), &json!(null))
        .await
        .expect(200);
    app.post(&restore(&base_agreement), &json!(null))
        .await
        .expect(200);
    assert_eq!(
        app.collect_ids(PATH).await,
        ids(&[&class_agreement, &base_agreement])
    );
}

async fn stale_if_match_changes_nothing(app: TestApp) {
    let s = story(&app).await;
    let agreement = app.agreement(framework(&s.park)).await;
    let at = path(&agreement);
    let current = app
        .with_if_match(Method::PATCH, &at, Some(&json!({"number": "A-1"})), "\"1\"")
        .await
        .expect(200)
        .body;
    let stale = app
        .with_if_match(Method::PATCH, &at, Some(&json!({"number": "A-2"})), "\"1\"")
        .await
        .problem(412);
    assert_eq!(stale["type"], "/problems/stale");
    assert_eq!(stale["current_version"], 2);
    app.with_if_match(Method::DELETE, &at, None, "\"1\"")
        .await
        .problem(412);
    assert_eq!(app.get(&at).await.expect(200).body, current);
    app.with_if_match(Method::DELETE, &at, None, "*")
        .await
        .expect(200);
    app.with_if_match(Method::POST, &format!("{at}/restore"), None, "\"2\"")
        .await
        .problem(412);
    assert!(app.get(&at).await.expect(200).body["archived_at"].is_string());
}

async fn missing_and_malformed_ids(app: TestApp) {
    let missing = format!("{PATH}/{MISSING_ID}");
    let problem = app.get(&missing).await.problem(404);
    assert_eq!(problem["type"], "/problems/not_found");
    app.patch(&missing, &json!({"title": "A"}))
        .await
        .problem(404);
    app.delete(&missing).await.problem(404);
    app.post(&format!("{missing}/restore"), &json!(null))
        .await
        .problem(404);
    let invalid = pairs(&[("id", "invalid_id")]);
    let bad = format!("{PATH}/CBIP-XY-2026-01");
    assert_eq!(app.get(&bad).await.field_errors(400), invalid);
    assert_eq!(
        app.patch(&bad, &json!({"title": "A"}))
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

async fn list_filters_and_bad_parameters(app: TestApp) {
    let s = story(&app).await;
    let park_framework = app.agreement(framework(&s.park)).await;
    let mut body = framework(&s.park);
    body["kind"] = json!("internship_base");
    body["internship_base_id"] = json!(id_of(&s.park_base));
    body["title"] = json!("Joint training base agreement");
    let park_base = app.agreement(body).await;
    let mut body = framework(&s.mitsui);
    body["kind"] = json!("order_class");
    body["order_class_id"] = json!(id_of(&s.mitsui_class));
    body["title"] = json!("Order class agreement — process technology");
    let mitsui_class = app.agreement(body).await;
    let mut body = framework(&s.mitsui);
    body["kind"] = json!("other");
    body["title"] = json!("Equipment donation");
    let donation = app.agreement(body).await;
    app.delete(&path(&donation)).await.expect(200);

    let list = |query: String| {
        let app = &app;
        async move { app.collect_ids(&format!("{PATH}?{query}")).await }
    };
    assert_eq!(
        list(String::new()).await,
        ids(&[&park_framework, &park_base, &mitsui_class])
    );
    assert_eq!(
        list(format!("enterprise_id={}", id_of(&s.mitsui))).await,
        ids(&[&mitsui_class])
    );
    assert_eq!(
        list(format!(
            "enterprise_id={}&include_archived=true",
            id_of(&s.mitsui)
        ))
        .await,
        ids(&[&mitsui_class, &donation])
    );
    assert_eq!(list("kind=framework".into()).await, ids(&[&park_framework]));
    assert_eq!(
        list(format!("order_class_id={}", id_of(&s.mitsui_class))).await,
        ids(&[&mitsui_class])
    );
    assert_eq!(
        list(format!("internship_base_id={}", id_of(&s.park_base))).await,
        ids(&[&park_base])
    );
    assert_eq!(
        list("q=AGREEMENT".into()).await,
        ids(&[&park_framework, &park_base, &mitsui_class])
    );
    assert_eq!(
        list("q=%E2%80%94%20process".into()).await,
        ids(&[&mitsui_class])
    );
    assert_eq!(
        list("q=donation&include_archived=true".into()).await,
        ids(&[&donation])
    );
    assert_eq!(
        list("sort=title".into()).await,
        ids(&[&park_base, &mitsui_class, &park_framework])
    );
    for (query, expected) in [
        ("kind=contract", ("kind", "invalid_enum")),
        ("status=valid", ("status", "invalid_enum")),
        ("enterprise_id=park", ("enterprise_id", "invalid_id")),
        ("order_class_id=1", ("order_class_id", "invalid_id")),
        ("internship_base_id=x", ("internship_base_id", "invalid_id")),
        ("sort=number", ("sort", "unknown_sort")),
        ("limit=-1", ("limit", "out_of_range")),
        (
            "valid_until=2027-01-01",
            ("valid_until", "unknown_parameter"),
        ),
    ] {
        assert_eq!(
            app.get(&format!("{PATH}?{query}")).await.field_errors(400),
            pairs(&[expected]),
            "{query}"
        );
    }
}

/// `valid_until` sorts open-ended agreements after every dated one (first when
/// descending), on both backends, page by page.
async fn sorts_by_dates_with_open_ended_last(app: TestApp) {
    let s = story(&app).await;
    let mut made = Vec::new();
    for (from, until) in [
        (-10, Some(300)),
        (-20, None),
        (-30, Some(100)),
        (-40, None),
        (-50, Some(200)),
        (-60, Some(100)),
    ] {
        let mut body = framework(&s.park);
        body["valid_from"] = json!(day(from));
        body["valid_until"] = json!(until.map(day));
        made.push(id_of(&app.agreement(body).await));
    }
    let by = |indices: &[usize]| indices.iter().map(|i| made[*i].clone()).collect::<Vec<_>>();
    // Equal dates are ordered by id, that is by creation.
    let ascending = by(&[2, 5, 4, 0, 1, 3]);
    let mut descending = ascending.clone();
    descending.reverse();
    for limit in [1, 2, 4, 50] {
        assert_eq!(
            app.collect_ids(&format!("{PATH}?sort=valid_until&limit={limit}"))
                .await,
            ascending,
            "limit {limit}"
        );
        assert_eq!(
            app.collect_ids(&format!("{PATH}?sort=-valid_until&limit={limit}"))
                .await,
            descending,
            "limit {limit}"
        );
    }
    assert_eq!(
        app.collect_ids(&format!("{PATH}?sort=valid_from&limit=2"))
            .await,
        by(&[5, 4, 3, 2, 1, 0])
    );
    assert_eq!(
        app.collect_ids(&format!("{PATH}?sort=-valid_from&limit=4"))
            .await,
        by(&[0, 1, 2, 3, 4, 5])
    );
    // A tampered date cursor is the client's mistake.
    let forged = base64_url(r#"{"s":"valid_until","v":"31/12/2029","i":"x"}"#);
    assert_eq!(
        app.get(&format!("{PATH}?sort=valid_until&cursor={forged}"))
            .await
            .field_errors(400),
        pairs(&[("cursor", "invalid_cursor")])
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

async fn pages_hold_together_across_inserts(app: TestApp) {
    let s = story(&app).await;
    let mut made = Vec::new();
    for until in [10, 20, 30, 40, 50] {
        let mut body = framework(&s.park);
        body["valid_until"] = json!(day(until));
        made.push(id_of(&app.agreement(body).await));
    }
    let add = |until: Option<i64>| {
        let mut body = framework(&s.park);
        body["valid_until"] = json!(until.map(day));
        let app = &app;
        async move { id_of(&app.agreement(body).await) }
    };
    let url = |cursor: Option<&str>| match cursor {
        Some(c) => format!("{PATH}?sort=valid_until&limit=2&cursor={c}"),
        None => format!("{PATH}?sort=valid_until&limit=2"),
    };
    let (first, cursor) = app.page(&url(None)).await;
    assert_eq!(first, made[0..2]);
    let _earlier = add(Some(5)).await; // before the cursor: not seen
    let between = add(Some(25)).await; // after it: seen in order
    let (second, cursor) = app.page(&url(cursor.as_deref())).await;
    assert_eq!(second, [between.clone(), made[2].clone()]);
    let open = add(None).await; // open-ended: last of all
    let (third, cursor) = app.page(&url(cursor.as_deref())).await;
    assert_eq!(third, made[3..5]);
    let (fourth, cursor) = app.page(&url(cursor.as_deref())).await;
    assert_eq!(fourth, [open]);
    assert_eq!(cursor, None);
}

//! `GET /api/v1/enterprises/{id}/timeline`: the merged story of an enterprise, its
//! order across kinds and ties, paging without gaps or repeats, and its 4xx answers.

use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp, MISSING_ID};

backend_tests!(
    entries_of_every_kind_newest_first,
    paging_misses_and_repeats_nothing,
    from_and_to_cut_the_story,
    bad_requests_and_unknown_enterprises,
);

/// `(kind, id)` of an entry: an agreement appears twice, once per date.
fn key(entry: &Value) -> (String, String) {
    let kind = entry["kind"].as_str().expect("kind").to_string();
    let member = match kind.as_str() {
        "agreement_signed" | "agreement_ends" => "agreement",
        other => other,
    };
    (kind.clone(), id_of(&entry[member]))
}

fn keys(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(key)
        .collect()
}

async fn visit(app: &TestApp, enterprises: &[&str], starts_at: &str, title: &str) -> String {
    id_of(
        &app.post(
            "/api/v1/visits",
            &json!({"title": title, "starts_at": starts_at, "direction": "inbound",
                    "status": "held", "enterprise_ids": enterprises}),
        )
        .await
        .expect(201)
        .body,
    )
}

async fn move_to(app: &TestApp, path: &str, body: Value) -> String {
    id_of(&app.post(path, &body).await.expect(201).body["transition"])
}

/// An enterprise with a visit, moves of itself and of its order class, and an
/// agreement signed on the day (at midnight) of another move.
struct Story {
    enterprise: String,
    expected: Vec<(String, String)>,
}

async fn story(app: &TestApp) -> Story {
    let enterprise = id_of(
        &app.enterprise(json!({"name": "Carbonbay New Energy"}))
            .await,
    );
    let other = id_of(&app.enterprise(json!({"name": "Elsewhere Ltd."})).await);
    let class = id_of(
        &app.order_class(
            json!({"enterprise_id": enterprise, "name": "Energy Storage Order Class", "planned_size": 40}),
        )
        .await,
    );
    let base = id_of(
        &app.internship_base(json!({"enterprise_id": enterprise, "name": "Storage Plant Base"}))
            .await,
    );
    let first = visit(app, &[&enterprise], "2024-11-29T02:00:00Z", "First visit").await;
    let later = visit(
        app,
        &[&enterprise, &other],
        "2025-03-12T06:00:00Z",
        "Site visit",
    )
    .await;
    // Neither an archived visit nor another enterprise's visit is part of the story.
    let archived = visit(app, &[&enterprise], "2025-02-01T00:00:00Z", "Archived").await;
    app.delete(&format!("/api/v1/visits/{archived}"))
        .await
        .expect(200);
    visit(app, &[&other], "2025-02-02T00:00:00Z", "Not ours").await;

    let class_path = format!("/api/v1/order-classes/{class}/transitions");
    let class_negotiation = move_to(
        app,
        &class_path,
        json!({"to_stage": "negotiation", "visit_id": first, "occurred_at": "2024-11-29T04:00:00Z"}),
    )
    .await;
    let enterprise_negotiation = move_to(
        app,
        &format!("/api/v1/enterprises/{enterprise}/transitions"),
        json!({"to_stage": "negotiation", "occurred_at": "2025-01-10T00:00:00Z"}),
    )
    .await;
    let base_negotiation = move_to(
        app,
        &format!("/api/v1/internship-bases/{base}/transitions"),
        json!({"to_stage": "negotiation", "occurred_at": "2025-01-10T00:00:00Z"}),
    )
    .await;
    let agreement = id_of(
        &app.agreement(
            json!({"enterprise_id": enterprise, "title": "Order class agreement",
            "number": "CB-2025-001", "kind": "order_class", "order_class_id": class,
            "signed_on": "2025-03-12", "valid_from": "2025-04-01", "valid_until": "2028-03-31"}),
        )
        .await,
    );
    // An archived agreement is left out.
    let dropped = id_of(
        &app.agreement(
            json!({"enterprise_id": enterprise, "title": "Dropped draft",
            "kind": "other", "signed_on": "2025-03-01", "valid_from": "2025-03-01"}),
        )
        .await,
    );
    app.delete(&format!("/api/v1/agreements/{dropped}"))
        .await
        .expect(200);
    let class_agreement = move_to(
        app,
        &class_path,
        json!({"to_stage": "agreement", "agreement_id": agreement, "occurred_at": "2025-03-12T00:00:00Z"}),
    )
    .await;

    let k = |kind: &str, id: &String| (kind.to_string(), id.clone());
    // Same instant: ids descending (two transitions), kinds alphabetically.
    let mut same_day = vec![
        k("transition", &enterprise_negotiation),
        k("transition", &base_negotiation),
    ];
    same_day.sort_by(|a, b| b.1.cmp(&a.1));
    let mut expected = vec![
        k("agreement_ends", &agreement),
        k("visit", &later),
        k("agreement_signed", &agreement),
        k("transition", &class_agreement),
    ];
    expected.extend(same_day);
    expected.extend([k("transition", &class_negotiation), k("visit", &first)]);
    Story {
        enterprise,
        expected,
    }
}

async fn entries_of_every_kind_newest_first(app: TestApp) {
    let story = story(&app).await;
    let path = format!("/api/v1/enterprises/{}/timeline", story.enterprise);
    let page = app.get(&path).await.expect(200).body;
    assert_eq!(keys(&page), story.expected, "{page}");
    assert_eq!(page["next_cursor"], Value::Null);
    let items = page["items"].as_array().expect("items");

    let ends = &items[0];
    assert_eq!(ends["at"], "2028-03-31T00:00:00Z");
    assert_eq!(ends["agreement"]["number"], "CB-2025-001");
    assert_eq!(ends["agreement"]["kind"], "order_class");
    let visit = &items[1];
    assert_eq!(visit["at"], "2025-03-12T06:00:00Z");
    assert_eq!(
        (
            &visit["visit"]["title"],
            &visit["visit"]["status"],
            &visit["visit"]["direction"]
        ),
        (&json!("Site visit"), &json!("held"), &json!("inbound"))
    );
    let signed = &items[2];
    assert_eq!(signed["at"], "2025-03-12T00:00:00Z");
    let moved = &items[3]["transition"];
    assert_eq!(items[3]["at"], "2025-03-12T00:00:00Z");
    assert_eq!(moved["subject_kind"], "order_class");
    assert_eq!(moved["subject_name"], "Energy Storage Order Class");
    assert_eq!(
        (&moved["from_stage"], &moved["to_stage"]),
        (&json!("negotiation"), &json!("agreement"))
    );
    assert_eq!(moved["agreement_id"], signed["agreement"]["id"]);
    let names: Vec<&str> = items[4..6]
        .iter()
        .map(|e| e["transition"]["subject_name"].as_str().unwrap_or_default())
        .collect();
    assert!(names.contains(&"Carbonbay New Energy"), "{names:?}");
    assert!(names.contains(&"Storage Plant Base"), "{names:?}");
    let first_move = &items[6]["transition"];
    assert_eq!(first_move["visit_id"], items[7]["visit"]["id"]);
}

async fn paging_misses_and_repeats_nothing(app: TestApp) {
    let story = story(&app).await;
    // More ties across pages: five visits and an agreement at one midnight.
    let mut expected = story.expected.clone();
    let mut tied = Vec::new();
    for n in 0..5 {
        let id = visit(
            &app,
            &[&story.enterprise],
            "2025-06-01T00:00:00Z",
            &format!("Tied {n}"),
        )
        .await;
        tied.push(("visit".to_string(), id));
    }
    let agreement = id_of(
        &app.agreement(
            json!({"enterprise_id": story.enterprise, "title": "Framework",
            "kind": "framework", "signed_on": "2025-06-01", "valid_from": "2025-06-01"}),
        )
        .await,
    );
    tied.sort_by(|a, b| b.1.cmp(&a.1));
    tied.insert(0, ("agreement_signed".to_string(), agreement));
    // 1 June 2025 comes after everything but the agreement's end in 2028.
    expected.splice(1..1, tied);

    let path = format!("/api/v1/enterprises/{}/timeline", story.enterprise);
    for limit in [1, 2, 3, 5] {
        let mut seen = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?limit={limit}&cursor={c}"),
                None => format!("{path}?limit={limit}"),
            };
            let page = app.get(&url).await.expect(200).body;
            let got = keys(&page);
            assert!(got.len() <= limit, "{page}");
            seen.extend(got);
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "limit {limit}");
        assert!(pages > 2, "limit {limit}: {pages} pages");
    }
}

async fn from_and_to_cut_the_story(app: TestApp) {
    let story = story(&app).await;
    let path = format!("/api/v1/enterprises/{}/timeline", story.enterprise);
    let page = app
        .get(&format!("{path}?from=2025-01-10&to=2025-03-12"))
        .await
        .expect(200)
        .body;
    // `to` as a date includes its whole day; `from` starts at its midnight.
    assert_eq!(keys(&page), story.expected[1..6].to_vec(), "{page}");
    let page = app
        .get(&format!(
            "{path}?from=2025-03-12T00:00:01Z&to=2025-03-12T06:00:00Z"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(keys(&page), Vec::<(String, String)>::new(), "{page}");
}

async fn bad_requests_and_unknown_enterprises(app: TestApp) {
    let story = story(&app).await;
    let path = format!("/api/v1/enterprises/{}/timeline", story.enterprise);
    app.get(&format!("/api/v1/enterprises/{MISSING_ID}/timeline"))
        .await
        .problem(404);
    let codes = |errors: Vec<(String, String)>| -> Vec<String> {
        errors.into_iter().map(|(_, code)| code).collect()
    };
    assert_eq!(
        codes(
            app.get("/api/v1/enterprises/nope/timeline")
                .await
                .field_errors(400)
        ),
        ["invalid_id"]
    );
    assert_eq!(
        codes(app.get(&format!("{path}?sort=at")).await.field_errors(400)),
        ["unknown_parameter"]
    );
    assert_eq!(
        codes(app.get(&format!("{path}?limit=0")).await.field_errors(400)),
        ["out_of_range"]
    );
    assert_eq!(
        codes(
            app.get(&format!("{path}?limit=201"))
                .await
                .field_errors(400)
        ),
        ["out_of_range"]
    );
    assert_eq!(
        codes(
            app.get(&format!("{path}?from=yesterday"))
                .await
                .field_errors(400)
        ),
        ["invalid_datetime"]
    );
    // A cursor from this timeline, tampered with, and one of another list.
    let page = app.get(&format!("{path}?limit=1")).await.expect(200).body;
    let cursor = page["next_cursor"].as_str().expect("more").to_string();
    let mut tampered = cursor.clone();
    tampered.insert(3, 'x');
    let list_cursor = app
        .get("/api/v1/enterprises?limit=1")
        .await
        .expect(200)
        .body["next_cursor"]
        .as_str()
        .expect("two enterprises")
        .to_string();
    for bad in [tampered.as_str(), "%%%", list_cursor.as_str()] {
        assert_eq!(
            codes(
                app.get(&format!("{path}?cursor={bad}"))
                    .await
                    .field_errors(400)
            ),
            ["invalid_cursor"],
            "{bad}"
        );
    }
}

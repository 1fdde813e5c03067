//! Concurrent writers: nothing lost, no "database is locked", exactly one winner.

use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(
    concurrent_patches_are_all_applied,
    racing_patches_with_the_same_if_match_have_one_winner,
    concurrent_creates_and_patches_never_fail,
    refused_creates_leave_the_others_sent_with_them,
    racing_reparentings_never_make_a_cycle,
    a_record_made_while_its_enterprise_is_archived_is_refused_or_refuses
);

const WRITERS: usize = 24;

/// Sends `WRITERS` PATCHes at once, each built by `body(i)`, with optional `If-Match`.
async fn patch_all(
    app: &TestApp,
    path: &str,
    if_match: Option<&str>,
    body: impl Fn(usize) -> Value,
) -> Vec<u16> {
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let request = app
            .client
            .patch(format!("{}{path}", app.address))
            .header("content-type", "application/merge-patch+json")
            .body(body(i).to_string());
        let request = match if_match {
            Some(tag) => request.header("if-match", tag),
            None => request,
        };
        tasks.push(tokio::spawn(async move {
            request.send().await.map(|r| r.status().as_u16())
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").expect("response"));
    }
    statuses
}

/// Without `If-Match` every PATCH is applied in turn: the version counts them all.
async fn concurrent_patches_are_all_applied(app: TestApp) {
    let enterprise = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let path = format!("/api/v1/enterprises/{}", id_of(&enterprise));
    let statuses = patch_all(
        &app,
        &path,
        None,
        |i| json!({"description": format!("note {i}")}),
    )
    .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let after = app.get(&path).await.expect(200).body;
    assert_eq!(after["version"], json!(1 + WRITERS));
}

/// With the same `If-Match`, exactly one PATCH wins; the others get 412.
async fn racing_patches_with_the_same_if_match_have_one_winner(app: TestApp) {
    let enterprise = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let path = format!("/api/v1/enterprises/{}", id_of(&enterprise));
    let statuses = patch_all(
        &app,
        &path,
        Some("\"1\""),
        |i| json!({"description": format!("note {i}")}),
    )
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        WRITERS - 1,
        "{statuses:?}"
    );
    let after = app.get(&path).await.expect(200).body;
    assert_eq!(after["version"], json!(2));
}

/// Creates and patches of different records, all at once: every one succeeds.
async fn concurrent_creates_and_patches_never_fail(app: TestApp) {
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let park_path = format!("/api/v1/enterprises/{}", id_of(&park));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let create = app
            .client
            .post(format!("{}/api/v1/enterprises", app.address))
            .json(&json!({"name": format!("Member company {i}"), "parent_id": id_of(&park)}));
        let person = app
            .client
            .post(format!("{}/api/v1/participants", app.address))
            .json(&json!({"full_name": format!("Teacher {i}"), "side": "school"}));
        let patch = app
            .client
            .patch(format!("{}{park_path}", app.address))
            .json(&json!({"address": format!("Gate {i}")}));
        for request in [create, person, patch] {
            tasks.push(tokio::spawn(async move {
                request.send().await.map(|r| r.status().as_u16())
            }));
        }
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").expect("response"));
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    let members = app
        .collect_ids(&format!(
            "/api/v1/enterprises?parent_id={}&limit=7",
            id_of(&park)
        ))
        .await;
    assert_eq!(members.len(), WRITERS);
    assert_eq!(app.collect_ids("/api/v1/participants").await.len(), WRITERS);
}

/// Creates sent at once, half of them with one name: on SQLite they are committed
/// together, a batch at a time, and each refused one must be rolled back alone.
/// Exactly one of the same-named wins; every other create is saved, with its entry
/// in the audit trail, and nothing of the refused ones is.
async fn refused_creates_leave_the_others_sent_with_them(app: TestApp) {
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let name = if i % 2 == 0 {
            "Harbour Logistics".to_string()
        } else {
            format!("Supplier {i}")
        };
        let request = app
            .client
            .post(format!("{}/api/v1/enterprises", app.address))
            .json(&json!({"name": name}));
        tasks.push(tokio::spawn(async move {
            request.send().await.map(|r| r.status().as_u16())
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").expect("response"));
    }
    let same_named: Vec<u16> = statuses.iter().step_by(2).copied().collect();
    let others: Vec<u16> = statuses.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(
        same_named.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        same_named.iter().filter(|s| **s == 409).count(),
        WRITERS / 2 - 1
    );
    assert!(others.iter().all(|s| *s == 201), "{statuses:?}");
    let saved = app.collect_ids("/api/v1/enterprises?limit=7").await;
    assert_eq!(saved.len(), WRITERS / 2 + 1);
    let audited = app
        .collect_ids("/api/v1/audit?entity_kind=enterprise&action=create&limit=7")
        .await;
    assert_eq!(audited.len(), WRITERS / 2 + 1);
}

/// A under B and B under A, sent at once: at most one may win, never both.
async fn racing_reparentings_never_make_a_cycle(app: TestApp) {
    for round in 0..8 {
        let a = app
            .enterprise(json!({"name": format!("Company A{round}")}))
            .await;
        let b = app
            .enterprise(json!({"name": format!("Company B{round}")}))
            .await;
        let send = |child: &Value, parent: &Value| {
            let request = app
                .client
                .patch(format!(
                    "{}/api/v1/enterprises/{}",
                    app.address,
                    id_of(child)
                ))
                .json(&json!({"parent_id": id_of(parent)}));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        };
        let (first, second) = (send(&a, &b), send(&b, &a));
        let statuses = [
            first.await.expect("task").expect("response"),
            second.await.expect("task").expect("response"),
        ];
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(statuses.contains(&422), "{statuses:?}");
    }
}

/// An enterprise archived while a record is made under it: either the archive finds
/// the record (409) or the record finds the enterprise archived (422), never both
/// committed (which left live records under an archived enterprise on PostgreSQL).
async fn a_record_made_while_its_enterprise_is_archived_is_refused_or_refuses(app: TestApp) {
    let kinds = [
        (
            "participants",
            json!({"full_name": "Li Na", "side": "partner"}),
        ),
        ("order-classes", json!({"name": "Race Class"})),
        ("internship-bases", json!({"name": "Race Base"})),
        (
            "agreements",
            json!({"title": "Race Deal", "kind": "framework", "valid_from": "2026-01-01"}),
        ),
    ];
    for round in 0..8 {
        for (collection, body) in &kinds {
            let enterprise = id_of(
                &app.enterprise(json!({"name": format!("Racer {collection} {round}")}))
                    .await,
            );
            let mut body = body.clone();
            body["enterprise_id"] = json!(enterprise);
            let create = app
                .client
                .post(format!("{}/api/v1/{collection}", app.address))
                .json(&body);
            let archive = app
                .client
                .delete(format!("{}/api/v1/enterprises/{enterprise}", app.address));
            let (created, archived) = tokio::join!(
                tokio::spawn(async move { create.send().await.map(|r| r.status().as_u16()) }),
                tokio::spawn(async move { archive.send().await.map(|r| r.status().as_u16()) }),
            );
            let created = created.expect("task").expect("response");
            let archived = archived.expect("task").expect("response");
            assert!(
                matches!((created, archived), (201, 409) | (422, 200)),
                "{collection}, round {round}: create {created}, archive {archived}"
            );
        }
    }
}

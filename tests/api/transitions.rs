//! Stage transitions through HTTP: the move table for every kind, evidence, the
//! visit and agreement checks, `occurred_at`, `If-Match`, races, history, and
//! creation at a later stage.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, sorted, TestApp, MISSING_ID};

backend_tests!(
    every_move_for_every_kind,
    evidence_is_required,
    visits_and_agreements_are_checked,
    occurred_at_rules,
    if_match_and_archived,
    concurrent_moves_never_both_win,
    history_is_ordered_with_summaries,
    creation_at_a_later_stage,
    the_demo_story,
);

const STAGES: [&str; 6] = [
    "intention",
    "negotiation",
    "agreement",
    "implementation",
    "completed",
    "terminated",
];

fn allowed(from: &str) -> Vec<&'static str> {
    match from {
        "completed" | "terminated" => vec![],
        _ => STAGES.iter().copied().filter(|s| *s != from).collect(),
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Enterprise,
    OrderClass,
    Base,
}

const KINDS: [Kind; 3] = [Kind::Enterprise, Kind::OrderClass, Kind::Base];

impl Kind {
    fn collection(self) -> &'static str {
        match self {
            Kind::Enterprise => "/api/v1/enterprises",
            Kind::OrderClass => "/api/v1/order-classes",
            Kind::Base => "/api/v1/internship-bases",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::Enterprise => "enterprise",
            Kind::OrderClass => "order_class",
            Kind::Base => "internship_base",
        }
    }
}

/// An item of `kind` with everything it takes to reach any stage.
struct Item {
    kind: Kind,
    id: String,
    enterprise: String,
    agreement: String,
}

impl Item {
    fn path(&self) -> String {
        format!("{}/{}/transitions", self.kind.collection(), self.id)
    }
}

async fn enterprise(app: &TestApp, name: &str) -> String {
    id_of(
        &app.enterprise(json!({"name": name, "kind": "company"}))
            .await,
    )
}

/// A fresh item; `headcount` is the enrolled count or capacity.
async fn item(app: &TestApp, kind: Kind, n: usize, headcount: i64) -> Item {
    let enterprise = enterprise(app, &format!("Enterprise {n}")).await;
    let (id, agreement) = match kind {
        Kind::Enterprise => {
            let agreement = app
                .agreement(json!({"enterprise_id": enterprise, "title": "Framework", "kind": "framework", "valid_from": "2024-01-01"}))
                .await;
            (enterprise.clone(), id_of(&agreement))
        }
        Kind::OrderClass => {
            let class = app
                .order_class(json!({"enterprise_id": enterprise, "name": format!("Class {n}"), "planned_size": 40, "enrolled_count": headcount}))
                .await;
            let agreement = app
                .agreement(json!({"enterprise_id": enterprise, "title": "Order class agreement", "kind": "order_class", "order_class_id": id_of(&class), "valid_from": "2024-01-01"}))
                .await;
            (id_of(&class), id_of(&agreement))
        }
        Kind::Base => {
            let base = app
                .internship_base(json!({"enterprise_id": enterprise, "name": format!("Base {n}"), "capacity": headcount}))
                .await;
            let agreement = app
                .agreement(json!({"enterprise_id": enterprise, "title": "Base agreement", "kind": "internship_base", "internship_base_id": id_of(&base), "valid_from": "2024-01-01"}))
                .await;
            (id_of(&base), id_of(&agreement))
        }
    };
    Item {
        kind,
        id,
        enterprise,
        agreement,
    }
}

/// A move with every piece of evidence.
fn full(item: &Item, to: &str) -> Value {
    json!({"to_stage": to, "note": "because", "agreement_id": item.agreement})
}

async fn every_move_for_every_kind(app: TestApp) {
    let mut n = 0;
    for kind in KINDS {
        for from in STAGES {
            for to in STAGES {
                n += 1;
                let item = item(&app, kind, n, 5).await;
                if from != "intention" {
                    app.post(&item.path(), &full(&item, from)).await.expect(201);
                }
                let response = app.post(&item.path(), &full(&item, to)).await;
                if allowed(from).contains(&to) {
                    let body = response.expect(201).body;
                    assert_eq!(body["transition"]["from_stage"], json!(from));
                    assert_eq!(body["transition"]["to_stage"], json!(to));
                    assert_eq!(body[kind.key()]["stage"], json!(to), "{kind:?}");
                    assert_eq!(
                        body[kind.key()]["stage_changed_at"],
                        body["transition"]["occurred_at"]
                    );
                } else {
                    let problem = response.problem(409);
                    assert_eq!(problem["type"], "/problems/stage_not_allowed");
                    assert_eq!(problem["current_stage"], json!(from));
                    assert_eq!(
                        problem["allowed"],
                        json!(allowed(from)),
                        "{kind:?} {from} → {to}"
                    );
                    assert!(problem["detail"].as_str().expect("detail").contains(from));
                }
            }
        }
    }
}

async fn evidence_is_required(app: TestApp) {
    for (n, kind) in KINDS.into_iter().enumerate() {
        let item = item(&app, kind, n, 0).await;
        let path = item.path();
        // Into agreement without one.
        assert_eq!(
            app.post(&path, &json!({"to_stage": "agreement"}))
                .await
                .field_errors(422),
            pairs(&[("agreement_id", "required")])
        );
        // Terminated without a reason.
        assert_eq!(
            app.post(&path, &json!({"to_stage": "terminated"}))
                .await
                .field_errors(422),
            pairs(&[("note", "required")])
        );
        // Implementation with nobody enrolled (or no capacity).
        let expected = match kind {
            Kind::Enterprise => pairs(&[("agreement_id", "required")]),
            Kind::OrderClass => pairs(&[
                ("agreement_id", "required"),
                ("enrolled_count", "required_for_implementation"),
            ]),
            Kind::Base => pairs(&[
                ("agreement_id", "required"),
                ("capacity", "required_for_implementation"),
            ]),
        };
        // Completing skips no evidence of implementing.
        for to_stage in ["implementation", "completed"] {
            assert_eq!(
                sorted(
                    app.post(&path, &json!({"to_stage": to_stage}))
                        .await
                        .field_errors(422)
                ),
                expected,
                "{to_stage}"
            );
        }
        // Forward with the agreement, then backward without a note.
        app.post(
            &path,
            &json!({"to_stage": "agreement", "agreement_id": item.agreement}),
        )
        .await
        .expect(201);
        assert_eq!(
            app.post(&path, &json!({"to_stage": "negotiation"}))
                .await
                .field_errors(422),
            pairs(&[("note", "required")])
        );
        app.post(
            &path,
            &json!({"to_stage": "negotiation", "note": "reopened"}),
        )
        .await
        .expect(201);
        // Malformed bodies.
        assert_eq!(
            sorted(
                app.post(
                    &path,
                    &json!({"to_stage": "signed", "actor": "me", "note": "n".repeat(10_001)})
                )
                .await
                .field_errors(422)
            ),
            pairs(&[
                ("actor", "unknown_field"),
                ("note", "too_long"),
                ("to_stage", "invalid_enum")
            ])
        );
        assert_eq!(
            app.post(&path, &json!({})).await.field_errors(422),
            pairs(&[("to_stage", "required")])
        );
    }
}

async fn visits_and_agreements_are_checked(app: TestApp) {
    let class = item(&app, Kind::OrderClass, 1, 5).await;
    let other = item(&app, Kind::OrderClass, 2, 5).await;
    let path = class.path();
    let visit = |enterprise: &str| json!({"title": "Visit", "starts_at": "2024-11-29T01:30:00Z", "direction": "outbound", "enterprise_ids": [enterprise]});
    let linked = id_of(
        &app.post("/api/v1/visits", &visit(&class.enterprise))
            .await
            .expect(201)
            .body,
    );
    let unlinked = id_of(
        &app.post("/api/v1/visits", &visit(&other.enterprise))
            .await
            .expect(201)
            .body,
    );
    // A second agreement of the same enterprise that covers nothing.
    let uncovering = id_of(
        &app.agreement(json!({"enterprise_id": class.enterprise, "title": "Framework", "kind": "framework", "valid_from": "2024-01-01"}))
            .await,
    );
    let archived = id_of(
        &app.agreement(json!({"enterprise_id": class.enterprise, "title": "Old", "kind": "order_class", "order_class_id": class.id, "valid_from": "2024-01-01"}))
            .await,
    );
    app.delete(&format!("/api/v1/agreements/{archived}"))
        .await
        .expect(200);
    // A visit called off, and one after the move, cannot be where it happened.
    let mut called_off = visit(&class.enterprise);
    called_off["status"] = json!("cancelled");
    let cancelled = id_of(
        &app.post("/api/v1/visits", &called_off)
            .await
            .expect(201)
            .body,
    );
    let mut later = visit(&class.enterprise);
    later["starts_at"] = json!("2024-12-02T01:30:00Z");
    let later = id_of(&app.post("/api/v1/visits", &later).await.expect(201).body);
    let cases = [
        (json!({"visit_id": unlinked}), ("visit_id", "not_linked")),
        (json!({"visit_id": cancelled}), ("visit_id", "cancelled")),
        (
            json!({"visit_id": later, "occurred_at": "2024-12-01T00:00:00Z"}),
            ("visit_id", "after_the_move"),
        ),
        (json!({"visit_id": MISSING_ID}), ("visit_id", "not_found")),
        (
            json!({"agreement_id": MISSING_ID}),
            ("agreement_id", "not_found"),
        ),
        (
            json!({"agreement_id": other.agreement}),
            ("agreement_id", "other_enterprise"),
        ),
        (
            json!({"agreement_id": uncovering}),
            ("agreement_id", "not_covering"),
        ),
        (
            json!({"agreement_id": archived}),
            ("agreement_id", "archived"),
        ),
    ];
    for (extra, (field, code)) in cases {
        let mut body = json!({"to_stage": "agreement", "agreement_id": class.agreement});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        assert_eq!(
            app.post(&path, &body).await.field_errors(422),
            pairs(&[(field, code)]),
            "{body}"
        );
    }
    // Every problem at once.
    assert_eq!(
        sorted(app.post(&path, &json!({"to_stage": "agreement", "visit_id": unlinked, "occurred_at": "2999-01-01T00:00:00Z"})).await.field_errors(422)),
        pairs(&[("agreement_id", "required"), ("occurred_at", "in_future"), ("visit_id", "not_linked")])
    );
    let moved = app
        .post(
            &path,
            &json!({"to_stage": "agreement", "agreement_id": class.agreement, "visit_id": linked}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(moved["transition"]["visit"]["id"], json!(linked));
    // A visit that started by the time of the move is fine, planned or not (its
    // status may not have been brought up to date).
    let planned = app
        .post(
            &path,
            &json!({"to_stage": "negotiation", "note": "Reopened", "visit_id": later}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(planned["transition"]["visit"]["id"], json!(later));
    assert_eq!(
        moved["transition"]["agreement"]["id"],
        json!(class.agreement)
    );
    // An enterprise takes any agreement of its own.
    let company = item(&app, Kind::Enterprise, 3, 0).await;
    app.post(
        &company.path(),
        &json!({"to_stage": "agreement", "agreement_id": company.agreement}),
    )
    .await
    .expect(201);
}

async fn occurred_at_rules(app: TestApp) {
    let company = item(&app, Kind::Enterprise, 1, 0).await;
    let path = company.path();
    assert_eq!(
        app.post(
            &path,
            &json!({"to_stage": "negotiation", "occurred_at": "2999-01-01T00:00:00Z"})
        )
        .await
        .field_errors(422),
        pairs(&[("occurred_at", "in_future")])
    );
    // Not a time, or not one both backends store alike: before the year 0001 once
    // in UTC, or a leap second.
    for occurred_at in [
        "yesterday",
        "0000-01-01T00:00:00+23:59",
        "2016-12-31T23:59:60Z",
    ] {
        assert_eq!(
            app.post(
                &path,
                &json!({"to_stage": "negotiation", "occurred_at": occurred_at})
            )
            .await
            .field_errors(422),
            pairs(&[("occurred_at", "invalid_type")]),
            "{occurred_at}"
        );
    }
    // Back-dated before the item was created is fine: it records the past.
    let moved = app
        .post(
            &path,
            &json!({"to_stage": "negotiation", "occurred_at": "2024-11-29T09:30:00Z"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(
        moved["enterprise"]["stage_changed_at"],
        "2024-11-29T09:30:00Z"
    );
    assert_eq!(
        app.post(
            &path,
            &full(&company, "agreement")
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("occurred_at".into(), json!("2024-11-28T00:00:00Z"));
                    Value::Object(o)
                })
                .expect("object")
        )
        .await
        .field_errors(422),
        pairs(&[("occurred_at", "before_last_transition")])
    );
    // The same instant as the last transition is not before it.
    app.post(&path, &json!({"to_stage": "agreement", "agreement_id": company.agreement, "occurred_at": "2024-11-29T09:30:00Z"}))
        .await
        .expect(201);
}

async fn if_match_and_archived(app: TestApp) {
    for (n, kind) in KINDS.into_iter().enumerate() {
        let item = item(&app, kind, n, 5).await;
        let path = item.path();
        let record = format!("{}/{}", kind.collection(), item.id);
        let etag = app.get(&record).await.expect(200).etag();
        let body = json!({"to_stage": "negotiation"});
        let stale = app
            .with_if_match(Method::POST, &path, Some(&body), "\"999\"")
            .await
            .problem(412);
        assert_eq!(
            stale["current_version"],
            json!(etag.trim_matches('"').parse::<i64>().expect("version"))
        );
        let moved = app
            .with_if_match(Method::POST, &path, Some(&body), &etag)
            .await
            .expect(201);
        let new_etag = moved.etag();
        assert_ne!(new_etag, etag);
        assert_eq!(
            moved.body[kind.key()]["version"].to_string(),
            new_etag.trim_matches('"')
        );
        // The old tag is now stale.
        app.with_if_match(
            Method::POST,
            &path,
            Some(&json!({"to_stage": "intention", "note": "n"})),
            &etag,
        )
        .await
        .problem(412);
        // Archived records do not move; they still have a history.
        let archive = if kind == Kind::Enterprise {
            format!("{record}?cascade=true")
        } else {
            record.clone()
        };
        app.delete(&archive).await.expect(200);
        let problem = app
            .post(&path, &json!({"to_stage": "terminated", "note": "gone"}))
            .await
            .problem(409);
        assert_eq!(problem["type"], "/problems/archived");
        assert_eq!(
            app.get(&path).await.expect(200).body["items"]
                .as_array()
                .expect("items")
                .len(),
            1
        );
        // Unknown and malformed ids.
        let missing = format!("{}/{MISSING_ID}/transitions", kind.collection());
        app.post(&missing, &body).await.problem(404);
        app.get(&missing).await.problem(404);
        app.get(&format!("{}/nope/transitions", kind.collection()))
            .await
            .problem(400);
    }
}

async fn concurrent_moves_never_both_win(app: TestApp) {
    for (n, kind) in KINDS.into_iter().enumerate() {
        let item = item(&app, kind, n, 5).await;
        let path = item.path();
        let etag = app
            .get(&format!("{}/{}", kind.collection(), item.id))
            .await
            .expect(200)
            .etag();
        for with_if_match in [false, true] {
            let (path, etag) = (&path, &etag);
            let app = &app;
            let to = if with_if_match {
                "agreement"
            } else {
                "negotiation"
            };
            let body = json!({"to_stage": to, "agreement_id": item.agreement});
            let requests = (0..8).map(|_| {
                let body = body.clone();
                async move {
                    if with_if_match {
                        app.with_if_match(Method::POST, path, Some(&body), etag)
                            .await
                            .status
                    } else {
                        app.post(path, &body).await.status
                    }
                }
            });
            let statuses = futures_join_all(requests).await;
            let wins = statuses.iter().filter(|s| **s == 201).count();
            assert_eq!(
                wins,
                if with_if_match { 0 } else { 1 },
                "{kind:?} {statuses:?}"
            );
            assert!(
                statuses.iter().all(|s| [201, 409, 412].contains(s)),
                "{statuses:?}"
            );
        }
        // With the current tag, exactly one of the racers wins and the rest are stale.
        let etag = app
            .get(&format!("{}/{}", kind.collection(), item.id))
            .await
            .expect(200)
            .etag();
        let body = json!({"to_stage": "agreement", "agreement_id": item.agreement});
        let statuses = futures_join_all((0..8).map(|_| {
            let (app, path, etag, body) = (&app, &path, &etag, body.clone());
            async move {
                app.with_if_match(Method::POST, path, Some(&body), etag)
                    .await
                    .status
            }
        }))
        .await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [201, 412].contains(s)),
            "{statuses:?}"
        );
        let history = app.get(&path).await.expect(200).body;
        assert_eq!(history["items"].as_array().expect("items").len(), 2);
    }
}

/// Runs futures concurrently on the test's runtime.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<u16>
where
    F: std::future::Future<Output = u16>,
{
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out = Vec::with_capacity(set.len());
    // Polled together by `join_vec` (a minimal join_all; the tests have no
    // `futures` dependency), so that the requests really overlap.
    let results = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let pending: Vec<_> = set
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let results = results.clone();
            async move {
                let status = f.await;
                results.lock().expect("results").push((i, status));
            }
        })
        .collect();
    join_vec(pending).await;
    let mut results = results.lock().expect("results").clone();
    results.sort();
    out.extend(results.into_iter().map(|(_, s)| s));
    out
}

async fn join_vec<F: std::future::Future<Output = ()>>(futures: Vec<F>) {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    struct JoinAll<F> {
        futures: Vec<Option<Pin<Box<F>>>>,
    }
    impl<F: std::future::Future<Output = ()>> std::future::Future for JoinAll<F> {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut done = true;
            for slot in self.futures.iter_mut() {
                if let Some(f) = slot {
                    if f.as_mut().poll(cx).is_ready() {
                        *slot = None;
                    } else {
                        done = false;
                    }
                }
            }
            if done {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }
    JoinAll {
        futures: futures.into_iter().map(|f| Some(Box::pin(f))).collect(),
    }
    .await
}

async fn history_is_ordered_with_summaries(app: TestApp) {
    let class = item(&app, Kind::OrderClass, 1, 5).await;
    let path = class.path();
    let visit = id_of(
        &app.post("/api/v1/visits", &json!({"title": "Visit to the plant", "starts_at": "2024-11-29T01:30:00Z", "direction": "outbound", "enterprise_ids": [class.enterprise]}))
            .await
            .expect(201)
            .body,
    );
    app.post(&path, &json!({"to_stage": "negotiation", "visit_id": visit, "occurred_at": "2024-11-29T09:30:00Z"})).await.expect(201);
    app.post(&path, &json!({"to_stage": "agreement", "agreement_id": class.agreement, "occurred_at": "2024-12-16T06:00:00Z", "note": "signed"})).await.expect(201);
    app.post(
        &path,
        &json!({"to_stage": "implementation", "agreement_id": class.agreement}),
    )
    .await
    .expect(201);
    let history = app.get(&path).await.expect(200).body;
    let items = history["items"].as_array().expect("items");
    let moves: Vec<(Value, Value)> = items
        .iter()
        .map(|t| (t["from_stage"].clone(), t["to_stage"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (json!("intention"), json!("negotiation")),
            (json!("negotiation"), json!("agreement")),
            (json!("agreement"), json!("implementation")),
        ]
    );
    assert_eq!(
        items[0]["visit"],
        json!({"id": visit, "title": "Visit to the plant", "starts_at": "2024-11-29T01:30:00Z"})
    );
    assert_eq!(items[0]["agreement"], Value::Null);
    assert_eq!(
        items[1]["agreement"],
        json!({"id": class.agreement, "title": "Order class agreement", "number": null})
    );
    assert_eq!(items[1]["note"], "signed");
    // Who moved it: the name of the request's token.
    assert_eq!(items[1]["actor"], "bootstrap");
    assert_eq!(items[1]["enterprise_id"], json!(class.enterprise));
    assert_eq!(items[1]["subject_kind"], "order_class");
    // Other items' histories are their own.
    let other = item(&app, Kind::OrderClass, 2, 5).await;
    assert_eq!(
        app.get(&other.path()).await.expect(200).body,
        json!({"items": []})
    );
}

async fn creation_at_a_later_stage(app: TestApp) {
    let company = enterprise(&app, "Carbonbay").await;
    let visit = id_of(
        &app.post("/api/v1/visits", &json!({"title": "Visit", "starts_at": "2024-11-29T01:30:00Z", "direction": "outbound", "enterprise_ids": [company]}))
            .await
            .expect(201)
            .body,
    );
    for (collection, key) in [
        ("/api/v1/order-classes", "order_class"),
        ("/api/v1/internship-bases", "internship_base"),
    ] {
        let created = app
            .post(collection, &json!({"enterprise_id": company, "name": format!("{key} at negotiation"), "stage": "negotiation", "stage_visit_id": visit, "stage_note": "met"}))
            .await
            .expect(201)
            .body;
        assert_eq!(created["stage"], "negotiation");
        let history = app
            .get(&format!("{collection}/{}/transitions", id_of(&created)))
            .await
            .expect(200)
            .body;
        let items = history["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["from_stage"], Value::Null);
        assert_eq!(items[0]["to_stage"], "negotiation");
        assert_eq!(items[0]["visit"]["id"], json!(visit));
        assert_eq!(items[0]["subject_kind"], json!(key));
        // Created at intention: no history.
        let plain = app
            .post(
                collection,
                &json!({"enterprise_id": company, "name": format!("{key} plain")}),
            )
            .await
            .expect(201)
            .body;
        assert_eq!(plain["stage"], "intention");
        assert_eq!(
            app.get(&format!("{collection}/{}/transitions", id_of(&plain)))
                .await
                .expect(200)
                .body,
            json!({"items": []})
        );
        // The same evidence as a move.
        assert_eq!(
            app.post(
                collection,
                &json!({"enterprise_id": company, "name": "x", "stage": "terminated"})
            )
            .await
            .field_errors(422),
            pairs(&[("stage_note", "required")])
        );
        let head = if key == "order_class" {
            "enrolled_count"
        } else {
            "capacity"
        };
        assert_eq!(
            sorted(app.post(collection, &json!({"enterprise_id": company, "name": "x", "stage": "implementation", "stage_visit_id": MISSING_ID})).await.field_errors(422)),
            pairs(&[(head, "required_for_implementation"), ("stage_agreement_id", "required"), ("stage_visit_id", "not_found")])
        );
        assert_eq!(
            sorted(app.post(collection, &json!({"name": " ", "enterprise_id": company, "stage": "signed", "stage_note": 5})).await.field_errors(422)),
            pairs(&[("name", "required"), ("stage", "invalid_enum"), ("stage_note", "invalid_type")])
        );
        assert_eq!(
            app.post(
                collection,
                &json!({"enterprise_id": company, "name": "x", "stage_note": "n"})
            )
            .await
            .field_errors(422),
            pairs(&[("stage_note", "not_allowed")])
        );
        // `stage` stays read-only in PATCH.
        assert_eq!(
            app.patch(
                &format!("{collection}/{}", id_of(&plain)),
                &json!({"stage": "agreement"})
            )
            .await
            .field_errors(422),
            pairs(&[("stage", "read_only")])
        );
        // Nothing was created by the refused bodies.
        assert_eq!(
            app.collect_ids(&format!("{collection}?enterprise_id={company}"))
                .await
                .len(),
            2
        );
    }
}

/// The walk-through: the Carbonbay order class moves to negotiation after the visit
/// of 29 November 2024, then to agreement once the order-class agreement is signed.
async fn the_demo_story(app: TestApp) {
    let carbonbay = enterprise(&app, "Carbonbay New Energy").await;
    let class = app
        .order_class(json!({"enterprise_id": carbonbay, "name": "Carbonbay Energy Storage Order Class 2025", "planned_size": 40}))
        .await;
    let path = format!("/api/v1/order-classes/{}/transitions", id_of(&class));
    let visit = id_of(
        &app.post("/api/v1/visits", &json!({"title": "Visit to Carbonbay New Energy", "starts_at": "2024-11-29T01:30:00Z", "direction": "outbound", "enterprise_ids": [carbonbay]}))
            .await
            .expect(201)
            .body,
    );
    let negotiation = app
        .with_if_match(Method::POST, &path, Some(&json!({"to_stage": "negotiation", "visit_id": visit, "occurred_at": "2024-11-29T09:30:00Z"})), "\"1\"")
        .await
        .expect(201);
    assert_eq!(negotiation.etag(), "\"2\"");
    let agreement = app
        .agreement(json!({"enterprise_id": carbonbay, "title": "Carbonbay order class agreement", "number": "CB-2024-017", "kind": "order_class", "order_class_id": id_of(&class), "signed_on": "2024-12-16", "valid_from": "2024-12-16"}))
        .await;
    let moved = app
        .with_if_match(Method::POST, &path, Some(&json!({"to_stage": "agreement", "agreement_id": id_of(&agreement), "occurred_at": "2024-12-16T06:00:00Z"})), "\"2\"")
        .await
        .expect(201)
        .body;
    assert_eq!(moved["order_class"]["stage"], "agreement");
    assert_eq!(moved["transition"]["agreement"]["number"], "CB-2024-017");
    let listed = app
        .get(&format!(
            "/api/v1/order-classes?stage=agreement&enterprise_id={carbonbay}"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
}

//! Two `liaison serve` processes on one database, receiving racing changes of the
//! same records: one winner per race, the losers 412 or 409, never a 500, and no
//! change lost.

use std::time::Duration;

use serde_json::{json, Value};

use super::binary_tests;
use super::report::Report;
use super::server::{client, Server};
use crate::helpers::{Backend, TestDatabase};

binary_tests!(two_instances_race_on_one_database);

/// Requests per race, half to each instance.
const RACERS: usize = 6;

/// Sends `RACERS` requests at once, alternating between the instances; `build`
/// makes racer `i`'s request on the instance at `address`.
async fn race(
    addresses: &[String; 2],
    build: impl Fn(usize, &str) -> reqwest::RequestBuilder,
) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let request = build(i, &addresses[i % 2]);
            tokio::spawn(async move {
                let response = request.send().await.expect("answered");
                let status = response.status().as_u16();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("racer"));
    }
    answers
}

/// Asserts one winner with `won`, the rest `lost`; returns the winner's body.
#[track_caller]
fn one_winner(answers: &[(u16, Value)], won: u16, lost: u16) -> Value {
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == won).count(),
        1,
        "{statuses:?}: {answers:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == lost).count(),
        RACERS - 1,
        "{statuses:?}: {answers:?}"
    );
    answers
        .iter()
        .find(|(s, _)| *s == won)
        .map(|(_, b)| b.clone())
        .expect("a winner")
}

async fn two_instances_race_on_one_database(backend: Backend) {
    let (database, url) = TestDatabase::create(backend);
    let first = Server::start(&url, &["--workers", "2"]);
    let second = Server::start(&url, &["--workers", "2"]);
    assert!(second.bootstrap_token.is_none(), "one bootstrap token only");
    let token = first.bootstrap_token.clone().expect("bootstrap token");
    let http = client(&token, Duration::from_secs(30));
    let addresses = [first.address.clone(), second.address.clone()];
    let rounds = super::rounds(4);
    let (mut patch_races, mut move_races, mut free_races, mut merged) = (0, 0, 0, 0);
    for round in 0..rounds {
        let created = http
            .post(format!("{}/api/v1/enterprises", addresses[round % 2]))
            .json(&json!({"name": format!("Racing company {round}")}))
            .send()
            .await
            .expect("created");
        assert_eq!(created.status(), 201);
        let id = created.json::<Value>().await.expect("JSON")["id"]
            .as_str()
            .expect("id")
            .to_string();
        let path = format!("/api/v1/enterprises/{id}");

        // The same If-Match on both instances: one PATCH wins, and it is the one kept.
        let answers = race(&addresses, |i, at| {
            http.patch(format!("{at}{path}"))
                .header("if-match", "\"1\"")
                .json(&json!({"description": format!("racer {i}")}))
        })
        .await;
        let winner = one_winner(&answers, 200, 412);
        patch_races += 1;
        let stored = get(&http, &format!("{}{path}", addresses[1])).await;
        assert_eq!(stored["version"], 2, "{stored}");
        assert_eq!(stored["description"], winner["description"], "{stored}");

        // Stage moves with the same If-Match: one move, the rest 412.
        let answers = race(&addresses, |_, at| {
            http.post(format!("{at}{path}/transitions"))
                .header("if-match", "\"2\"")
                .json(&json!({"to_stage": "negotiation"}))
        })
        .await;
        one_winner(&answers, 201, 412);
        // The same final move without If-Match: one wins, the rest find it final.
        let answers = race(&addresses, |i, at| {
            http.post(format!("{at}{path}/transitions"))
                .json(&json!({"to_stage": "terminated", "note": format!("racer {i} ends it")}))
        })
        .await;
        one_winner(&answers, 201, 409);
        move_races += 2;
        let history = get(&http, &format!("{}{path}/transitions", addresses[0])).await;
        let stages: Vec<&str> = history["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["to_stage"].as_str().expect("stage"))
            .collect();
        assert_eq!(stages, ["negotiation", "terminated"], "{history}");

        // Different fields without If-Match: all applied, none lost.
        let fields = [
            "address",
            "industry",
            "region",
            "website",
            "description",
            "address",
        ];
        let other = http
            .post(format!("{}/api/v1/enterprises", addresses[0]))
            .json(&json!({"name": format!("Patched company {round}")}))
            .send()
            .await
            .expect("created")
            .json::<Value>()
            .await
            .expect("JSON");
        let other_path = format!("/api/v1/enterprises/{}", other["id"].as_str().expect("id"));
        let answers = race(&addresses, |i, at| {
            let value = if fields[i] == "website" {
                "https://racer.example.cn".to_string()
            } else {
                format!("racer {i}")
            };
            // The sixth racer patches the first's field again: one of the two wins.
            let mut body = serde_json::Map::new();
            body.insert(fields[i].to_string(), json!(value));
            http.patch(format!("{at}{other_path}")).json(&body)
        })
        .await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        free_races += 1;
        let stored = get(&http, &format!("{}{other_path}", addresses[1])).await;
        assert_eq!(stored["version"], 1 + RACERS as i64, "{stored}");
        for (i, field) in fields.iter().enumerate().take(RACERS - 1).skip(1) {
            assert!(
                stored[*field].is_string(),
                "racer {i}'s {field} lost: {stored}"
            );
            merged += 1;
        }
        assert!(
            ["racer 0", "racer 5"].contains(&stored["address"].as_str().unwrap_or_default()),
            "{stored}"
        );
    }
    let mut report = Report::new("two-instances", backend);
    let area = "Two instances, one database";
    report.add(
        area,
        "racing PATCHes with the same `If-Match`, 6 at once over two `liaison serve` processes",
        patch_races,
        "exactly one 200 per race, the other 5 got 412; the winner's value stored at version 2; 0 5xx",
    );
    report.add(
        area,
        "racing stage moves of one item over two processes (same `If-Match`; then the same final move without it)",
        move_races,
        "exactly one 201 per race, the others 412 (stale) or 409 (already final); history holds exactly the winning moves; 0 5xx",
    );
    report.add(
        area,
        "6 PATCHes of different fields of one record at once, no `If-Match`, over two processes",
        free_races,
        format!("all 200, version +6 each time, {merged} field values checked, 0 lost updates"),
    );
    report.save();
    drop((first, second));
    drop(database);
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("GET answered");
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.expect("JSON")
}

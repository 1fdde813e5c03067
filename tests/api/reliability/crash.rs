//! Crash safety: the real server killed with SIGKILL in the middle of concurrent
//! writes, restarted on the same database; every acknowledged write must be there
//! exactly as acknowledged, and nothing half-written.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::binary_tests;
use super::report::Report;
use super::server::{client, Server};
use crate::helpers::{Backend, TestDatabase};

binary_tests!(acknowledged_writes_survive_sigkill);

/// Client tasks writing at once.
const WRITERS: usize = 4;

/// What the clients were told, and what they were not told yet.
#[derive(Default)]
struct Ledger {
    /// Per record (enterprise or visit), the body of the last acknowledged write.
    acked: HashMap<String, Value>,
    /// Records with a write in flight when the server died: it may or may not have
    /// been applied, and either is correct.
    in_flight: HashSet<String>,
    /// Acknowledged writes, all kinds.
    writes: u64,
}

type Shared = Arc<Mutex<Ledger>>;

async fn acknowledged_writes_survive_sigkill(backend: Backend) {
    let (database, url) = TestDatabase::create(backend);
    let rounds = super::rounds(3);
    let ledger: Shared = Arc::default();
    let mut server = Server::start(&url, &["--workers", "2"]);
    let token = server
        .bootstrap_token
        .clone()
        .expect("a new database gets a bootstrap token");
    let http = client(&token, Duration::from_secs(20));
    let host = http
        .post(format!("{}/api/v1/participants", server.address))
        .json(&json!({"full_name": "Chen Xiaobin", "side": "school", "title": "President"}))
        .send()
        .await
        .expect("participant created");
    assert_eq!(host.status(), 201);
    let host_id = host.json::<Value>().await.expect("JSON")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut killed_in_flight = 0;
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            tasks.push(tokio::spawn(write_until_stopped(
                http.clone(),
                server.address.clone(),
                host_id.clone(),
                format!("r{round}w{writer}"),
                ledger.clone(),
                stop.clone(),
            )));
        }
        // Long enough for every kind of write to be acknowledged, short enough to
        // keep the test quick; random so that the kill lands anywhere.
        tokio::time::sleep(Duration::from_millis(600 + fastrand::u64(0..900))).await;
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.expect("writer task");
        }
        killed_in_flight += ledger.lock().expect("ledger").in_flight.len();
        server = Server::start(&url, &["--workers", "2"]);
        assert!(server.bootstrap_token.is_none(), "the token table survived");
        let settled = check(&http, &server.address, &ledger).await;
        // The next round starts from what is stored now.
        let mut ledger = ledger.lock().expect("ledger");
        ledger.in_flight.clear();
        ledger.acked.extend(settled);
    }
    let ledger = ledger.lock().expect("ledger");
    let mut report = Report::new("crash", backend);
    report.add(
        "Crash safety",
        "SIGKILL of `liaison serve` during concurrent creates (enterprises, order classes, visits with participants and order classes), patches and stage moves; restart on the same database",
        rounds as u64,
        format!(
            "{} acknowledged writes over {} records, 0 lost or changed; {} writes cut off in flight; 0 half-written (visits without links, stages disagreeing with their history)",
            ledger.writes,
            ledger.acked.len(),
            killed_in_flight
        ),
    );
    report.save();
    drop(server);
    drop(database);
}

/// Where a record of the ledger lives: order classes name their enterprise,
/// enterprises do not, and visits carry no stage.
fn collection(record: &Value) -> &'static str {
    match (record.get("stage"), record.get("enterprise_id")) {
        (Some(_), Some(_)) => "order-classes",
        (Some(_), None) => "enterprises",
        _ => "visits",
    }
}

/// One client: creates enterprises and order classes, patches them, moves their
/// stage and records visits with them, one request at a time, until the server dies.
async fn write_until_stopped(
    http: reqwest::Client,
    address: String,
    host_id: String,
    name: String,
    ledger: Shared,
    stop: Arc<AtomicBool>,
) {
    let mut mine: Vec<Value> = Vec::new();
    let mut step = 0u64;
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let pick = fastrand::usize(0..mine.len().max(1));
        let item = mine.get(pick);
        let path = item.map(|i| {
            format!(
                "{address}/api/v1/{}/{}",
                collection(i),
                i["id"].as_str().unwrap()
            )
        });
        let is_class = item.is_some_and(|i| collection(i) == "order-classes");
        let (request, subject, answer_at) = match (step % 5, item, path) {
            (0, _, _) | (_, None, _) | (_, _, None) => (
                http.post(format!("{address}/api/v1/enterprises"))
                    .json(&json!({"name": format!("Firm {name}-{step}"), "region": "Zhejiang"})),
                None,
                None,
            ),
            (1, Some(i), Some(path)) => {
                let optional = if is_class { "major" } else { "address" };
                let mut body = json!({"description": format!("note {step} by {name}")});
                body[optional] = if step.is_multiple_of(3) {
                    Value::Null
                } else {
                    json!(format!("Gate {step}"))
                };
                (
                    http.patch(path).json(&body),
                    Some(i["id"].as_str().unwrap().to_string()),
                    None,
                )
            }
            (2, Some(i), Some(path)) => {
                let body = if i["stage"] == "intention" {
                    json!({"to_stage": "negotiation"})
                } else {
                    json!({"to_stage": "intention", "note": format!("reopened at {step}")})
                };
                (
                    http.post(format!("{path}/transitions")).json(&body),
                    Some(i["id"].as_str().unwrap().to_string()),
                    Some(if is_class {
                        "order_class"
                    } else {
                        "enterprise"
                    }),
                )
            }
            (3, Some(i), _) => {
                let (enterprise, classes) = if is_class {
                    (i["enterprise_id"].clone(), json!([i["id"]]))
                } else {
                    (i["id"].clone(), json!([]))
                };
                (
                    http.post(format!("{address}/api/v1/visits")).json(&json!({
                        "title": format!("Visit {name}-{step}"),
                        "starts_at": "2024-11-29T02:00:00Z",
                        "direction": "inbound",
                        "status": "held",
                        "enterprise_ids": [enterprise],
                        "participants": [{"participant_id": host_id, "role": "host"}],
                        "order_class_ids": classes,
                    })),
                    None,
                    None,
                )
            }
            (_, Some(i), _) => {
                let enterprise = if is_class {
                    &i["enterprise_id"]
                } else {
                    &i["id"]
                };
                (
                    http.post(format!("{address}/api/v1/order-classes"))
                        .json(&json!({
                            "enterprise_id": enterprise,
                            "name": format!("Class {name}-{step}"),
                            "planned_size": 40,
                        })),
                    None,
                    None,
                )
            }
        };
        if let Some(id) = &subject {
            ledger.lock().expect("ledger").in_flight.insert(id.clone());
        }
        let Ok(response) = request.send().await else {
            return; // The server is gone; the write may or may not have happened.
        };
        let status = response.status().as_u16();
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        assert!(
            status == 200 || status == 201,
            "a write failed before the kill: {status} {body}"
        );
        let record = match answer_at {
            Some(member) => body[member].clone(),
            None => body,
        };
        let id = record["id"].as_str().expect("record id").to_string();
        let mut ledger = ledger.lock().expect("ledger");
        ledger.in_flight.remove(&id);
        ledger.acked.insert(id.clone(), record.clone());
        ledger.writes += 1;
        drop(ledger);
        if record.get("stage").is_some() {
            match mine.iter_mut().find(|e| e["id"] == record["id"]) {
                Some(e) => *e = record,
                None => mine.push(record),
            }
        }
    }
}

/// After a restart: every acknowledged write as acknowledged, nothing half-written.
/// Returns the stored state of the records whose last write was cut off.
async fn check(http: &reqwest::Client, address: &str, ledger: &Shared) -> Vec<(String, Value)> {
    let mut settled = Vec::new();
    let (acked, in_flight) = {
        let ledger = ledger.lock().expect("ledger");
        (ledger.acked.clone(), ledger.in_flight.clone())
    };
    for (id, record) in &acked {
        let path = collection(record);
        let stored = get(http, &format!("{address}/api/v1/{path}/{id}")).await;
        if in_flight.contains(id) && stored["version"] != record["version"] {
            // The write cut off by the kill was applied: one version on, nothing else.
            assert_eq!(
                stored["version"].as_i64(),
                record["version"].as_i64().map(|v| v + 1),
                "{id}: {record} then {stored}"
            );
            let stored = record
                .as_object()
                .expect("a record is an object")
                .keys()
                .map(|k| (k.clone(), stored[k].clone()))
                .collect();
            settled.push((id.clone(), Value::Object(stored)));
            continue;
        }
        let (record, stored) = (
            without_embedded_stages(record),
            without_embedded_stages(&stored),
        );
        for (field, value) in record.as_object().expect("a record is an object") {
            assert_eq!(
                &stored[field], value,
                "{path}/{id}.{field} changed after the restart: acknowledged {record}, stored {stored}"
            );
        }
    }
    for kind in ["enterprises", "order-classes"] {
        for item in list(http, &format!("{address}/api/v1/{kind}")).await {
            let id = item["id"].as_str().expect("id");
            let history = get(http, &format!("{address}/api/v1/{kind}/{id}/transitions")).await;
            let last = history["items"]
                .as_array()
                .expect("history items")
                .last()
                .map(|t| t["to_stage"].clone())
                .unwrap_or(json!("intention"));
            assert_eq!(
                item["stage"], last,
                "{kind}/{id} is at a stage its history does not end with: {history}"
            );
        }
    }
    for visit in list(http, &format!("{address}/api/v1/visits")).await {
        let visit = get(
            http,
            &format!(
                "{address}/api/v1/visits/{}",
                visit["id"].as_str().expect("id")
            ),
        )
        .await;
        assert_eq!(
            visit["enterprises"].as_array().map(Vec::len),
            Some(1),
            "a visit without its enterprise: {visit}"
        );
        assert_eq!(
            visit["participants"].as_array().map(Vec::len),
            Some(1),
            "a visit without its host: {visit}"
        );
    }
    settled
}

/// A visit embeds its order classes with their current stage, which later moves of
/// those classes change rightly; the link itself is what the visit's write made.
fn without_embedded_stages(record: &Value) -> Value {
    let mut record = record.clone();
    if let Some(classes) = record
        .get_mut("order_classes")
        .and_then(Value::as_array_mut)
    {
        for class in classes {
            if let Some(class) = class.as_object_mut() {
                class.remove("stage");
            }
        }
    }
    record
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("GET answered");
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.expect("JSON")
}

/// Every item of a list, following `next_cursor`.
async fn list(http: &reqwest::Client, url: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page_url = match &next {
            Some(cursor) => format!(
                "{url}?limit=200&cursor={}",
                url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
            ),
            None => format!("{url}?limit=200"),
        };
        let page = get(http, &page_url).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = Some(cursor.to_string()),
            None => return items,
        }
    }
}

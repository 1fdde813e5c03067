//! The load generator: the operations measured, the ids they use (picked from the
//! data set up front) and the loop that drives one operation at a fixed concurrency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use reqwest::{Client, Method};
use serde_json::{json, Value};

use crate::server::Error;
use crate::stats::Sample;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ceiling,
    Read,
    /// A manager's report: measured one request at a time (see `Op::in_flight`).
    Report,
    Write,
    Mixed,
}

/// Every operation measured, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Healthz,
    GetEnterprise,
    GetEnterpriseIncludes,
    EnterpriseVisits,
    VisitsFirstPage,
    VisitsDeepPage,
    SearchVisits,
    Pipeline,
    Stalled,
    Funnel,
    CreateVisit,
    StageMove,
    Mixed,
}

impl Op {
    pub const ALL: [Op; 13] = [
        Op::Healthz,
        Op::GetEnterprise,
        Op::GetEnterpriseIncludes,
        Op::EnterpriseVisits,
        Op::VisitsFirstPage,
        Op::VisitsDeepPage,
        Op::SearchVisits,
        Op::Pipeline,
        Op::Stalled,
        Op::Funnel,
        Op::CreateVisit,
        Op::StageMove,
        Op::Mixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Healthz => "healthz",
            Op::GetEnterprise => "get_enterprise",
            Op::GetEnterpriseIncludes => "get_enterprise_includes",
            Op::EnterpriseVisits => "enterprise_visits",
            Op::VisitsFirstPage => "visits_first_page",
            Op::VisitsDeepPage => "visits_deep_page",
            Op::SearchVisits => "search_visits",
            Op::Pipeline => "pipeline_report",
            Op::Stalled => "stalled_report",
            Op::Funnel => "funnel_report",
            Op::CreateVisit => "create_visit",
            Op::StageMove => "stage_move",
            Op::Mixed => "mixed_80_20",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Op::Healthz => Kind::Ceiling,
            Op::CreateVisit | Op::StageMove => Kind::Write,
            Op::Mixed => Kind::Mixed,
            Op::Pipeline | Op::Stalled | Op::Funnel => Kind::Report,
            _ => Kind::Read,
        }
    }

    /// Requests of this operation in flight at once. A report is one manager's
    /// request, and issue 8's report targets are latencies: 32 reports at once on
    /// two cores measure the queue in front of them, not the report.
    pub fn in_flight(self, concurrency: usize) -> usize {
        match self.kind() {
            Kind::Report => 1,
            _ => concurrency,
        }
    }

    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// The mixed workload: 80 % reads, 20 % writes, by weight. The `q=` search and the
/// funnel are left out: each is a scan that would swamp the rest.
const MIX: [(Op, u32); 8] = [
    (Op::GetEnterprise, 30),
    (Op::GetEnterpriseIncludes, 15),
    (Op::EnterpriseVisits, 15),
    (Op::VisitsFirstPage, 10),
    (Op::VisitsDeepPage, 5),
    (Op::Pipeline, 5),
    (Op::CreateVisit, 15),
    (Op::StageMove, 5),
];

/// What the requests need from the data set, read through the API before measuring.
pub struct Fixture {
    pub base: String,
    pub auth: String,
    pub enterprises: Vec<String>,
    /// College-side people: any three can take part in a visit of any enterprise.
    pub school: Vec<String>,
    /// Enterprises at `intention` or `negotiation`, with that stage.
    pub movable: Vec<(String, String)>,
    /// The date range of the visit lists: the synthetic visits' whole span.
    pub from: String,
    pub to: String,
    /// A cursor halfway through that range.
    pub deep_cursor: String,
    pub search: String,
}

impl Fixture {
    pub async fn load(client: &Client, base: &str, token: &str) -> Result<Fixture, Error> {
        let auth = format!("Bearer {token}");
        let get = |path: String| {
            let request = client
                .get(format!("{base}/api/v1{path}"))
                .header("Authorization", &auth);
            async move {
                let response = request.send().await?;
                let status = response.status();
                let body: Value = response.json().await?;
                if !status.is_success() {
                    return Err(Error::from(format!("GET {path}: {status} {body}")));
                }
                Ok::<Value, Error>(body)
            }
        };
        let ids = |page: &Value| -> Vec<String> {
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item["id"].as_str().map(String::from))
                .collect()
        };

        let mut enterprises = Vec::new();
        let mut cursor = String::new();
        while enterprises.len() < 1000 {
            let page = get(format!("/enterprises?limit=200{cursor}")).await?;
            enterprises.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        let school = ids(&get("/participants?side=school&limit=200".into()).await?);
        let mut movable = Vec::new();
        for stage in ["intention", "negotiation"] {
            let page = get(format!("/enterprises?stage={stage}&limit=200")).await?;
            movable.extend(ids(&page).into_iter().map(|id| (id, stage.to_string())));
        }
        if enterprises.is_empty() || school.len() < 3 {
            return Err("the data set has too few enterprises or college staff".into());
        }

        // The synthetic visits span the past five years and the next six months.
        let today = Utc::now().date_naive();
        let from = today - Days::days(5 * 366);
        let to = today + Days::days(200);
        let middle = from + (to - from) / 2;
        let deep = get(format!(
            "/visits?from={middle}&to={to}&sort=starts_at&limit=1"
        ))
        .await?;
        let deep_cursor = deep["next_cursor"]
            .as_str()
            .ok_or("no visit after the middle of the range")?
            .to_string();
        let search = search_term(&deep["items"][0]["title"]);
        Ok(Fixture {
            base: base.to_string(),
            auth,
            enterprises,
            school,
            movable,
            from: from.to_string(),
            to: to.to_string(),
            deep_cursor,
            search,
        })
    }
}

/// A word of a real title, so that the search finds something: its last two
/// characters (synthetic titles end in a word such as 交流 or 考察).
fn search_term(title: &Value) -> String {
    let chars: Vec<char> = title.as_str().unwrap_or("visit").chars().collect();
    chars[chars.len().saturating_sub(2)..].iter().collect()
}

/// Each connection's own state: its random numbers and the enterprises only it moves,
/// with their current stage, so that its stage moves are always legal and never race.
pub struct Task {
    rng: fastrand::Rng,
    moves: Vec<(String, String)>,
    next_move: usize,
    sent: u64,
}

impl Task {
    pub fn all(fixture: &Fixture, concurrency: usize) -> Vec<Task> {
        (0..concurrency)
            .map(|t| Task {
                rng: fastrand::Rng::with_seed(t as u64 + 1),
                moves: fixture
                    .movable
                    .iter()
                    .skip(t)
                    .step_by(concurrency)
                    .cloned()
                    .collect(),
                next_move: 0,
                sent: 0,
            })
            .collect()
    }
}

struct Request {
    method: Method,
    path: String,
    body: Option<Value>,
    /// The stage move it makes: which of the task's enterprises, to which stage.
    moves: Option<(usize, String)>,
}

fn get(path: String) -> Option<Request> {
    Some(Request {
        method: Method::GET,
        path,
        body: None,
        moves: None,
    })
}

/// The next request of `op` for this task; `None` when it has nothing to do (no
/// enterprise of its own to move).
fn request(op: Op, fx: &Fixture, task: &mut Task) -> Option<Request> {
    task.sent += 1;
    let enterprise = &fx.enterprises[task.rng.usize(..fx.enterprises.len())];
    let range = format!("from={}&to={}&sort=starts_at&limit=50", fx.from, fx.to);
    match op {
        Op::Healthz => get("/healthz".into()),
        Op::GetEnterprise => get(format!("/api/v1/enterprises/{enterprise}")),
        Op::GetEnterpriseIncludes => get(format!(
            "/api/v1/enterprises/{enterprise}?include=visits,order_classes,internship_bases"
        )),
        Op::EnterpriseVisits => get(format!("/api/v1/visits?enterprise_id={enterprise}&{range}")),
        Op::VisitsFirstPage => get(format!("/api/v1/visits?{range}")),
        Op::VisitsDeepPage => get(format!("/api/v1/visits?{range}&cursor={}", fx.deep_cursor)),
        Op::SearchVisits => get(format!("/api/v1/visits?q={}&limit=50", fx.search)),
        Op::Pipeline => get("/api/v1/reports/pipeline".into()),
        Op::Stalled => get("/api/v1/reports/stalled".into()),
        Op::Funnel => get("/api/v1/reports/funnel".into()),
        Op::CreateVisit => {
            let n = fx.school.len();
            let first = task.rng.usize(..n);
            let people: Vec<&String> = (0..3).map(|i| &fx.school[(first + i) % n]).collect();
            let starts_at = Utc::now() + Days::days(30) + Days::seconds(task.sent as i64);
            Some(Request {
                method: Method::POST,
                path: "/api/v1/visits".into(),
                body: Some(json!({
                    "title": "Benchmark visit",
                    "starts_at": starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "direction": "outbound",
                    "status": "planned",
                    "enterprise_ids": [enterprise],
                    "participants": [
                        {"participant_id": people[0], "role": "host"},
                        {"participant_id": people[1], "role": "attendee"},
                        {"participant_id": people[2], "role": "attendee"},
                    ],
                })),
                moves: None,
            })
        }
        Op::StageMove => {
            if task.moves.is_empty() {
                return None;
            }
            let i = task.next_move % task.moves.len();
            task.next_move += 1;
            let (id, stage) = &task.moves[i];
            // Forward to negotiation, or back to intention (a step back needs a note).
            let (to, body) = if stage == "intention" {
                ("negotiation", json!({"to_stage": "negotiation"}))
            } else {
                (
                    "intention",
                    json!({"to_stage": "intention", "note": "benchmark: back again"}),
                )
            };
            Some(Request {
                method: Method::POST,
                path: format!("/api/v1/enterprises/{id}/transitions"),
                body: Some(body),
                moves: Some((i, to.to_string())),
            })
        }
        Op::Mixed => {
            let total: u32 = MIX.iter().map(|(_, w)| w).sum();
            let mut pick = task.rng.u32(..total);
            let op = MIX
                .iter()
                .find(|(_, w)| {
                    let hit = pick < *w;
                    pick = pick.saturating_sub(*w);
                    hit
                })
                .map_or(Op::GetEnterprise, |(op, _)| *op);
            request(op, fx, task).or_else(|| request(Op::GetEnterprise, fx, task))
        }
    }
}

/// Drives `op` with one loop per task for `warmup + window`, recording only the
/// requests sent after the warm-up. Gives the tasks back for the next operation.
pub async fn run(
    op: Op,
    client: &Client,
    fx: &Arc<Fixture>,
    tasks: Vec<Task>,
    warmup: Duration,
    window: Duration,
) -> (Sample, Vec<Task>) {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|mut task| {
            let client = client.clone();
            let fx = fx.clone();
            tokio::spawn(async move {
                let mut sample = Sample::default();
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let Some(req) = request(op, &fx, &mut task) else {
                        tokio::time::sleep_until(end.into()).await;
                        break;
                    };
                    let mut builder = client
                        .request(req.method, format!("{}{}", fx.base, req.path))
                        .header("Authorization", &fx.auth);
                    if let Some(body) = &req.body {
                        builder = builder.json(body);
                    }
                    let outcome = match builder.send().await {
                        Ok(response) => {
                            let status = response.status();
                            match response.bytes().await {
                                Ok(_) if status.is_success() => Ok(()),
                                Ok(body) => Err((
                                    format!("HTTP {}", status.as_u16()),
                                    String::from_utf8_lossy(&body).into_owned(),
                                )),
                                Err(e) => Err(("body".into(), e.to_string())),
                            }
                        }
                        Err(e) if e.is_timeout() => Err(("timeout".into(), e.to_string())),
                        Err(e) => Err(("connection".into(), e.to_string())),
                    };
                    let latency = sent.elapsed();
                    if outcome.is_ok() {
                        if let Some((i, stage)) = req.moves {
                            task.moves[i].1 = stage;
                        }
                    }
                    if sent < measure_from {
                        continue;
                    }
                    sample.latencies_us.push(latency.as_micros() as u64);
                    if let Err((kind, detail)) = outcome {
                        sample.errors += 1;
                        *sample.error_kinds.entry(kind.clone()).or_default() += 1;
                        sample
                            .first_error
                            .get_or_insert_with(|| format!("{kind}: {detail}"));
                    }
                }
                (sample, task)
            })
        })
        .collect();
    let mut sample = Sample::default();
    let mut tasks = Vec::new();
    for handle in handles {
        let (part, task) = handle.await.expect("a load task panicked");
        sample.merge(part);
        tasks.push(task);
    }
    (sample, tasks)
}

//! `GET /metrics`: Prometheus text exposition of requests (by route template and
//! status), latency, in-flight requests, the database pool, and records per kind.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::AppState;
use crate::db::{self, DbConn};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How long record counts are reused: counting a million rows on every scrape would
/// cost more than the scrape is worth.
const RECORD_COUNT_TTL: Duration = Duration::from_secs(60);

/// Records per kind, and when they were counted.
type RecordCounts = Option<(Instant, Vec<(&'static str, i64)>)>;

#[derive(Default)]
struct Histogram {
    /// Counts per bucket (not cumulative), then the `+Inf` overflow.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// What the process has counted since it started.
#[derive(Default)]
pub struct Metrics {
    /// (method, route template, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// (method, route template) → latency.
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    in_flight: AtomicI64,
    /// Requests waiting for a database connection.
    pub(crate) pool_waiters: AtomicI64,
    records: Mutex<RecordCounts>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let key = (method.to_string(), route.to_string());
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((key.0.clone(), key.1.clone(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let histogram = latency.entry(key).or_default();
            let seconds = elapsed.as_secs_f64();
            let bucket = BUCKETS
                .iter()
                .position(|le| seconds <= *le)
                .unwrap_or(BUCKETS.len());
            histogram.buckets[bucket] += 1;
            histogram.sum += seconds;
            histogram.count += 1;
        }
    }
}

/// Counts every request by the route template it matched (`unmatched` otherwise),
/// so that ids in paths do not explode the number of series.
pub async fn measure(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = method_label(req.method());
    let started = Instant::now();
    if let Some(state) = &state {
        state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    }
    let result = next.call(req).await;
    if let Some(state) = &state {
        state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
        let (route, status) = match &result {
            Ok(response) => (
                response
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".into()),
                response.status().as_u16(),
            ),
            Err(error) => (
                "unmatched".into(),
                error.as_response_error().status_code().as_u16(),
            ),
        };
        state
            .metrics
            .observe(&method, &route, status, started.elapsed());
    }
    result
}

/// The method as a label: HTTP's own methods by name, any other as `other`, so
/// that made-up methods (`XA1`, `XA2`, …) cannot add series without end.
fn method_label(method: &actix_web::http::Method) -> String {
    use actix_web::http::Method;
    let known = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    if known.contains(method) {
        method.to_string()
    } else {
        "other".to_string()
    }
}

/// `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let records = record_counts(&state).await;
    let mut out = String::new();
    let metrics = &state.metrics;

    out.push_str("# HELP liaison_http_requests_total Requests answered, by method, route template and status.\n");
    out.push_str("# TYPE liaison_http_requests_total counter\n");
    if let Ok(requests) = metrics.requests.lock() {
        for ((method, route, status), n) in requests.iter() {
            let _ = writeln!(
                out,
                "liaison_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
    }

    out.push_str("# HELP liaison_http_request_duration_seconds Time to answer, by method and route template.\n");
    out.push_str("# TYPE liaison_http_request_duration_seconds histogram\n");
    if let Ok(latency) = metrics.latency.lock() {
        for ((method, route), h) in latency.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut cumulative = 0;
            for (i, le) in BUCKETS.iter().enumerate() {
                cumulative += h.buckets[i];
                let _ = writeln!(
                    out,
                    "liaison_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "liaison_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "liaison_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "liaison_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }

    gauge(
        &mut out,
        "liaison_http_requests_in_flight",
        "Requests being answered now (this one included).",
        metrics.in_flight.load(Ordering::Relaxed),
    );
    let pool = state.pool.state();
    gauge(
        &mut out,
        "liaison_db_pool_size",
        "Most database connections the pool keeps.",
        i64::from(state.pool.max_size()),
    );
    gauge(
        &mut out,
        "liaison_db_pool_connections",
        "Database connections open now.",
        i64::from(pool.connections),
    );
    gauge(
        &mut out,
        "liaison_db_pool_idle",
        "Open database connections not in use.",
        i64::from(pool.idle_connections),
    );
    gauge(
        &mut out,
        "liaison_db_pool_waiters",
        "Requests waiting for a database connection.",
        metrics.pool_waiters.load(Ordering::Relaxed),
    );

    out.push_str(
        "# HELP liaison_records Records per kind, archived included (counted at most once a minute).\n",
    );
    out.push_str("# TYPE liaison_records gauge\n");
    for (kind, n) in records {
        let _ = writeln!(out, "liaison_records{{kind=\"{kind}\"}} {n}");
    }

    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The cached counts, refreshed when older than the TTL; on a database error the
/// last counts (or none) are shown rather than failing the scrape.
async fn record_counts(state: &web::Data<AppState>) -> Vec<(&'static str, i64)> {
    if let Ok(cached) = state.metrics.records.lock() {
        if let Some((at, counts)) = cached.as_ref() {
            if at.elapsed() < RECORD_COUNT_TTL {
                return counts.clone();
            }
        }
    }
    match state.run(count_records).await {
        Ok(counts) => {
            if let Ok(mut cached) = state.metrics.records.lock() {
                *cached = Some((Instant::now(), counts.clone()));
            }
            counts
        }
        Err(error) => {
            tracing::warn!(%error, "cannot count records for /metrics");
            state
                .metrics
                .records
                .lock()
                .ok()
                .and_then(|c| c.as_ref().map(|(_, counts)| counts.clone()))
                .unwrap_or_default()
        }
    }
}

fn count_records(conn: &mut DbConn) -> db::Result<Vec<(&'static str, i64)>> {
    use crate::db::schema::{
        agreements, enterprises, internship_bases, order_classes, participants, stage_transitions,
        visits,
    };
    use diesel::prelude::*;
    Ok(vec![
        ("enterprise", enterprises::table.count().get_result(conn)?),
        ("participant", participants::table.count().get_result(conn)?),
        ("visit", visits::table.count().get_result(conn)?),
        (
            "order_class",
            order_classes::table.count().get_result(conn)?,
        ),
        (
            "internship_base",
            internship_bases::table.count().get_result(conn)?,
        ),
        ("agreement", agreements::table.count().get_result(conn)?),
        (
            "stage_transition",
            stage_transitions::table.count().get_result(conn)?,
        ),
    ])
}

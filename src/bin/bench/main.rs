//! `bench`: seeds (or reuses) a synthetic data set, starts the release `liaison serve`
//! on it and drives it over loopback HTTP, one operation at a time, then prints and
//! writes requests/s, latency percentiles, errors, peak RSS and start-up time.

mod load;
mod server;
mod stats;
mod targets;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde_json::json;

use load::{Fixture, Kind, Op, Task};
use server::{Error, Server};
use stats::Summary;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Measure liaison serve over HTTP on a synthetic data set (see the README's Benchmark section)"
)]
struct Args {
    /// Backends to measure, comma-separated [default: sqlite; with --smoke: sqlite,postgres].
    #[arg(long, value_enum, value_delimiter = ',')]
    backend: Vec<Backend>,

    /// Size of the data set in visits; the seed makes one enterprise per 25 visits
    /// [default: 1000000; with --smoke: 2500].
    #[arg(long, value_parser = clap::value_parser!(u64).range(25..))]
    visits: Option<u64>,

    /// Requests in flight at once (one connection each) [default: 32; with --smoke: 8].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: Option<u64>,

    /// Seconds each operation is measured [default: 10; with --smoke: 1].
    #[arg(long)]
    duration: Option<f64>,

    /// Seconds each operation runs before measuring starts [default: 2; with --smoke: 0.2].
    #[arg(long)]
    warmup: Option<f64>,

    /// A few seconds per backend on a small data set, for CI: fails (exit 1) when
    /// any operation has errors or answered nothing. Speed is reported, not checked.
    #[arg(long)]
    smoke: bool,

    /// Threads of the load generator (it shares the machine with the server).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    client_threads: u64,

    /// Only these operations, comma-separated (default: all). Names as in the table.
    #[arg(long, value_delimiter = ',', value_parser = parse_op)]
    only: Vec<Op>,

    /// PostgreSQL server for `--backend postgres`; the bench uses (and creates) the
    /// database `liaison_bench_<enterprises>` there. The default asks for no TLS:
    /// libpq's own default (`prefer`) encrypts even on loopback, where it only
    /// costs (a third of get by id's throughput, in docs/PERFORMANCE.md).
    #[arg(
        long,
        env = "LIAISON_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/?sslmode=disable"
    )]
    postgres: String,
}

/// The run's settings, defaults filled in (they differ for `--smoke`).
struct Plan {
    backends: Vec<Backend>,
    visits: u64,
    concurrency: u64,
    duration: f64,
    warmup: f64,
    smoke: bool,
    client_threads: u64,
    only: Vec<Op>,
    postgres: String,
}

impl Plan {
    fn of(args: Args) -> Plan {
        let smoke = args.smoke;
        let pick = |given: Option<f64>, normal: f64, small: f64| {
            given.unwrap_or(if smoke { small } else { normal })
        };
        let backends = if !args.backend.is_empty() {
            args.backend
        } else if smoke {
            vec![Backend::Sqlite, Backend::Postgres]
        } else {
            vec![Backend::Sqlite]
        };
        Plan {
            backends,
            visits: args.visits.unwrap_or(if smoke { 2_500 } else { 1_000_000 }),
            concurrency: args.concurrency.unwrap_or(if smoke { 8 } else { 32 }),
            duration: pick(args.duration, 10.0, 1.0),
            warmup: pick(args.warmup, 2.0, 0.2),
            smoke,
            client_threads: args.client_threads,
            only: args.only,
            postgres: args.postgres,
        }
    }
}

fn parse_op(name: &str) -> Result<Op, String> {
    Op::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
        format!("unknown operation; one of {}", names.join(", "))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

fn main() {
    let plan = Plan::of(Args::parse());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.client_threads as usize)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = runtime.block_on(bench(plan)) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

async fn bench(args: Plan) -> Result<(), Error> {
    let liaison = server::liaison_binary()?;
    let mut broken = Vec::new();
    for &backend in &args.backends {
        let report = measure(&args, &liaison, backend).await?;
        print_report(&report);
        let name = if args.smoke {
            format!("results-smoke-{}.json", backend.name())
        } else {
            format!("results-{}.json", backend.name())
        };
        let file = server::bench_dir()?.join(name);
        std::fs::write(&file, serde_json::to_string_pretty(&report.json())?)?;
        println!("written to {}\n", file.display());
        for (op, s) in &report.rows {
            if s.errors > 0 || s.requests == 0 {
                broken.push(format!(
                    "{} {}: {} requests, {} errors",
                    backend.name(),
                    op.name(),
                    s.requests,
                    s.errors
                ));
            }
        }
    }
    if args.smoke && !broken.is_empty() {
        return Err(format!("smoke run failed: {}", broken.join("; ")).into());
    }
    Ok(())
}

struct Report {
    backend: Backend,
    visits: u64,
    enterprises: u64,
    concurrency: u64,
    duration: f64,
    warmup: f64,
    client_threads: u64,
    startup: Duration,
    /// Over the whole run, and since the mixed load started (when it ran).
    peak_rss_kib: u64,
    mixed_peak_rss_kib: Option<u64>,
    load_before: String,
    load_after: String,
    search: String,
    rows: Vec<(Op, Summary)>,
}

async fn measure(args: &Plan, liaison: &Path, backend: Backend) -> Result<Report, Error> {
    let enterprises = args.visits.div_ceil(25);
    let url = server::dataset(liaison, backend, enterprises, &args.postgres)?;
    let token = server::token(liaison, &url)?;
    let log = server::bench_dir()?.join(format!("serve-{}.log", backend.name()));
    let load_before = loadavg();
    let server = Server::start(liaison, &url, &log).await?;
    println!(
        "{}: liaison serve ready in {:.0} ms (log: {})",
        backend.name(),
        server.startup.as_secs_f64() * 1000.0,
        log.display()
    );

    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency as usize)
        // Idle connections are dropped well before the server's keep-alive (actix's
        // default, 5 s) closes them: a connection picked from the pool just as the
        // server closed it failed a request with "error sending request" (one in a
        // full run), a race of the client's, not an answer of the server's.
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(30))
        .build()?;
    let fixture = Arc::new(Fixture::load(&client, &server.base, &token).await?);
    let mut tasks = Task::all(&fixture, args.concurrency as usize);
    let ops: Vec<Op> = if args.only.is_empty() {
        Op::ALL.to_vec()
    } else {
        Op::ALL
            .into_iter()
            .filter(|op| args.only.contains(op))
            .collect()
    };
    let warmup = Duration::from_secs_f64(args.warmup);
    let window = Duration::from_secs_f64(args.duration);
    let mut rows = Vec::new();
    let mut mixed_peak_rss_kib = None;
    for op in ops {
        if op == Op::Mixed {
            // The memory target is for the mixed load: its peak on its own, with the
            // scans of the operations before it (funnel, search) forgotten.
            server.reset_peak_rss()?;
        }
        let idle = tasks.split_off(op.in_flight(tasks.len()).min(tasks.len()));
        // The server's CPU time when measuring starts, read while the load runs.
        let pid = server.pid();
        let measure_from = std::time::Instant::now() + warmup;
        // Off the load generator's threads: the scan of /proc takes milliseconds.
        let cpu_from = tokio::task::spawn_blocking(move || {
            std::thread::sleep(measure_from.saturating_duration_since(std::time::Instant::now()));
            let database = (backend == Backend::Postgres).then(server::PostgresCpu::now);
            server::cpu_time(pid).map(|server| (server, database))
        });
        let (sample, back) = load::run(op, &client, &fixture, tasks, warmup, window).await;
        let cpu_to = server::cpu_time(pid)?;
        let database_to = (backend == Backend::Postgres).then(server::PostgresCpu::now);
        let (cpu_from, database_from) = cpu_from
            .await
            .map_err(|e| format!("CPU time reader: {e}"))??;
        let database_cpu = database_to
            .zip(database_from)
            .and_then(|(to, from)| to.since(&from));
        tasks = back;
        tasks.extend(idle);
        let summary = sample
            .summary(window)
            .with_server_cpu(cpu_to.saturating_sub(cpu_from))
            .with_database_cpu(database_cpu);
        let database = summary
            .database_cpu_us
            .map_or(String::new(), |us| format!(", PostgreSQL {us:.0} µs"));
        println!(
            "  {:<24} {:>9.0} req/s  p99 {:>8} ms  errors {}  server CPU {} µs/request{database}",
            op.name(),
            summary.requests_per_s,
            ms(summary.p99_ms),
            summary.errors,
            cpu(summary.server_cpu_us)
        );
        rows.push((op, summary));
        if op == Op::Mixed {
            mixed_peak_rss_kib = Some(server.peak_rss_kib()?);
        }
    }
    let peak_rss_kib = server.peak_rss_kib()?;
    let startup = server.startup;
    drop(server);
    Ok(Report {
        backend,
        visits: args.visits,
        enterprises,
        concurrency: args.concurrency,
        duration: args.duration,
        warmup: args.warmup,
        client_threads: args.client_threads,
        startup,
        peak_rss_kib,
        mixed_peak_rss_kib,
        load_before,
        load_after: loadavg(),
        search: fixture.search.clone(),
        rows,
    })
}

fn ms(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.2}"))
}

fn cpu(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.0}"))
}

/// The load average when a run starts and ends: the machine is shared, so a figure
/// measured under load says so.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

impl Report {
    fn ceiling(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|(op, _)| op.kind() == Kind::Ceiling)
            .map(|(_, s)| s.requests_per_s)
            .filter(|rps| *rps > 0.0)
    }

    /// A read's requests/s as a fraction of `GET /healthz`'s.
    fn fraction(&self, op: Op, summary: &Summary) -> Option<f64> {
        (op.kind() == Kind::Read)
            .then(|| self.ceiling().map(|c| summary.requests_per_s / c))
            .flatten()
    }

    /// Issue 8's targets, checked against this run.
    fn targets(&self) -> Vec<targets::Target> {
        let rows: Vec<_> = self
            .rows
            .iter()
            .map(|(op, s)| (*op, s.requests_per_s, s.p99_ms, s.errors))
            .collect();
        targets::check(&targets::Measured {
            backend: self.backend,
            ceiling_rps: self.ceiling(),
            rows: &rows,
            peak_rss_kib: self.mixed_peak_rss_kib.unwrap_or(self.peak_rss_kib),
            mixed: self.mixed_peak_rss_kib.is_some(),
            startup_ms: self.startup.as_secs_f64() * 1000.0,
        })
    }

    fn json(&self) -> serde_json::Value {
        let targets = self.targets();
        let operations: Vec<_> = self
            .rows
            .iter()
            .map(|(op, s)| {
                json!({
                    "operation": op.name(),
                    "kind": op.kind(),
                    "requests": s.requests,
                    "requests_per_s": s.requests_per_s,
                    "p50_ms": s.p50_ms,
                    "p99_ms": s.p99_ms,
                    "p999_ms": s.p999_ms,
                    "errors": s.errors,
                    "error_kinds": s.error_kinds,
                    "first_error": s.first_error,
                    "fraction_of_ceiling": self.fraction(*op, s),
                    "server_cpu_us_per_request": s.server_cpu_us,
                    "database_cpu_us_per_request": s.database_cpu_us,
                    "targets": targets
                        .iter()
                        .filter(|t| t.operation == Some(*op))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "backend": self.backend.name(),
            "visits": self.visits,
            "enterprises": self.enterprises,
            "concurrency": self.concurrency,
            "duration_s": self.duration,
            "warmup_s": self.warmup,
            "client_threads": self.client_threads,
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "loadavg_before": self.load_before,
            "loadavg_after": self.load_after,
            "finished_at": chrono::Utc::now().to_rfc3339(),
            "startup_ms": self.startup.as_secs_f64() * 1000.0,
            "peak_rss_kib": self.peak_rss_kib,
            "mixed_peak_rss_kib": self.mixed_peak_rss_kib,
            "search_term": self.search,
            "operations": operations,
            "targets": targets,
            "targets_met": targets.iter().filter(|t| t.met).count(),
            "targets_checked": targets.len(),
        })
    }
}

fn print_report(report: &Report) {
    println!(
        "\n{} — {} visits ({} enterprises), concurrency {}, {} s per operation after {} s warm-up",
        report.backend.name(),
        report.visits,
        report.enterprises,
        report.concurrency,
        report.duration,
        report.warmup
    );
    let targets = report.targets();
    let verdict = |t: &targets::Target| {
        format!(
            "{} {} ({})",
            if t.met { "met" } else { "NOT met" },
            t.target,
            t.measured
        )
    };
    println!(
        "{:<24} {:>10} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9}  target",
        "operation",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "CPU µs",
        "DB CPU µs",
        "ceiling"
    );
    for (op, s) in &report.rows {
        let fraction = report
            .fraction(*op, s)
            .map_or(String::new(), |f| format!("{:.1} %", f * 100.0));
        let verdicts: Vec<String> = targets
            .iter()
            .filter(|t| t.operation == Some(*op))
            .map(verdict)
            .collect();
        println!(
            "{:<24} {:>10.0} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9}  {}",
            op.name(),
            s.requests_per_s,
            ms(s.p50_ms),
            ms(s.p99_ms),
            ms(s.p999_ms),
            s.errors,
            cpu(s.server_cpu_us),
            cpu(s.database_cpu_us),
            fraction,
            verdicts.join("; ")
        );
    }
    let mixed = report.mixed_peak_rss_kib.map_or(String::new(), |k| {
        format!(" ({:.1} MiB under the mixed load)", k as f64 / 1024.0)
    });
    println!(
        "peak RSS {:.1} MiB{mixed}; start-up to first /readyz 200: {:.0} ms; load average {} before, {} after",
        report.peak_rss_kib as f64 / 1024.0,
        report.startup.as_secs_f64() * 1000.0,
        report.load_before,
        report.load_after
    );
    for t in targets.iter().filter(|t| t.operation.is_none()) {
        println!("server: {}", verdict(t));
    }
    let met = targets.iter().filter(|t| t.met).count();
    println!("issue 8 targets met: {met} of {}", targets.len());
    for (op, s) in &report.rows {
        if let Some(first) = &s.first_error {
            println!("{} errors {:?}; first: {first}", op.name(), s.error_kinds);
        }
    }
}

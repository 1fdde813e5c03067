//! Issue 8's targets, checked against one backend's run: each says what it asks,
//! what was measured and whether it holds. They are reported, never enforced here.

use serde::Serialize;

use crate::load::Op;
use crate::Backend;

/// What a run measured, as the targets need it.
pub struct Measured<'a> {
    pub backend: Backend,
    pub ceiling_rps: Option<f64>,
    /// Per operation: requests/s, p99 in ms, errors.
    pub rows: &'a [(Op, f64, Option<f64>, u64)],
    pub peak_rss_kib: u64,
    /// Whether `peak_rss_kib` is the mixed load's (else the whole run's).
    pub mixed: bool,
    pub startup_ms: f64,
}

/// One target and how the run fared.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The operation it is about; `None` for the server as a whole.
    #[serde(serialize_with = "op_name")]
    pub operation: Option<Op>,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

fn op_name<S: serde::Serializer>(op: &Option<Op>, s: S) -> Result<S::Ok, S::Error> {
    match op {
        Some(op) => s.serialize_some(op.name()),
        None => s.serialize_none(),
    }
}

/// Share of the ceiling's requests/s each read must reach.
const SHARES: [(Op, f64); 5] = [
    (Op::GetEnterprise, 0.50),
    (Op::GetEnterpriseIncludes, 0.15),
    (Op::EnterpriseVisits, 0.25),
    (Op::VisitsFirstPage, 0.25),
    (Op::VisitsDeepPage, 0.25),
];
/// Reports' p99 limits in ms.
const P99_LIMITS: [(Op, f64); 3] = [
    (Op::Pipeline, 100.0),
    (Op::Stalled, 100.0),
    (Op::Funnel, 250.0),
];
const DEEP_PAGE_FACTOR: f64 = 1.5;
const PEAK_RSS_MIB: f64 = 64.0;
const STARTUP_MS: f64 = 300.0;

fn create_visit_rps(backend: Backend) -> f64 {
    match backend {
        Backend::Sqlite => 2000.0,
        Backend::Postgres => 1000.0,
    }
}

/// Every target whose operations were run.
pub fn check(m: &Measured<'_>) -> Vec<Target> {
    let row = |op: Op| m.rows.iter().find(|r| r.0 == op);
    let mut targets = Vec::new();
    if let Some(ceiling) = m.ceiling_rps {
        for (op, share) in SHARES {
            if let Some((_, rps, ..)) = row(op) {
                let got = rps / ceiling;
                targets.push(Target {
                    operation: Some(op),
                    target: format!("≥ {:.0} % of ceiling", share * 100.0),
                    measured: format!("{:.1} %", got * 100.0),
                    met: got >= share,
                });
            }
        }
    }
    if let (Some((_, _, Some(first), _)), Some((_, _, Some(deep), _))) =
        (row(Op::VisitsFirstPage), row(Op::VisitsDeepPage))
    {
        targets.push(Target {
            operation: Some(Op::VisitsDeepPage),
            target: format!("p99 ≤ {DEEP_PAGE_FACTOR}× first page's"),
            measured: format!("{:.2}×", deep / first),
            met: *deep <= first * DEEP_PAGE_FACTOR,
        });
    }
    for (op, limit) in P99_LIMITS {
        if let Some((_, _, Some(p99), _)) = row(op) {
            targets.push(Target {
                operation: Some(op),
                target: format!("p99 < {limit:.0} ms"),
                measured: format!("{p99:.1} ms"),
                met: *p99 < limit,
            });
        }
    }
    if let Some((_, rps, ..)) = row(Op::CreateVisit) {
        let need = create_visit_rps(m.backend);
        targets.push(Target {
            operation: Some(Op::CreateVisit),
            target: format!("≥ {need:.0} req/s"),
            measured: format!("{rps:.0} req/s"),
            met: *rps >= need,
        });
    }
    let mib = m.peak_rss_kib as f64 / 1024.0;
    let under = if m.mixed { " under the mixed load" } else { "" };
    targets.push(Target {
        operation: None,
        target: format!("peak RSS{under} ≤ {PEAK_RSS_MIB:.0} MiB"),
        measured: format!("{mib:.1} MiB"),
        met: mib <= PEAK_RSS_MIB,
    });
    targets.push(Target {
        operation: None,
        target: format!("start-up to ready < {STARTUP_MS:.0} ms"),
        measured: format!("{:.0} ms", m.startup_ms),
        met: m.startup_ms < STARTUP_MS,
    });
    let errors: u64 = m.rows.iter().map(|r| r.3).sum();
    targets.push(Target {
        operation: None,
        target: "zero errors".into(),
        measured: format!("{errors} errors"),
        met: errors == 0,
    });
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_checked_against_every_target_it_measured() {
        let rows = [
            (Op::Healthz, 10_000.0, Some(1.0), 0),
            (Op::GetEnterprise, 6_000.0, Some(5.0), 0),
            (Op::VisitsFirstPage, 2_000.0, Some(10.0), 0),
            (Op::VisitsDeepPage, 3_000.0, Some(16.0), 0),
            (Op::Funnel, 10.0, Some(240.0), 0),
            (Op::CreateVisit, 1_500.0, Some(30.0), 2),
        ];
        let targets = check(&Measured {
            backend: Backend::Postgres,
            ceiling_rps: Some(10_000.0),
            rows: &rows,
            peak_rss_kib: 70 * 1024,
            mixed: false,
            startup_ms: 120.0,
        });
        let met: Vec<(Option<&str>, &str, bool)> = targets
            .iter()
            .map(|t| (t.operation.map(Op::name), t.target.as_str(), t.met))
            .collect();
        assert_eq!(
            met,
            [
                (Some("get_enterprise"), "≥ 50 % of ceiling", true),
                (Some("visits_first_page"), "≥ 25 % of ceiling", false),
                (Some("visits_deep_page"), "≥ 25 % of ceiling", true),
                (Some("visits_deep_page"), "p99 ≤ 1.5× first page's", false),
                (Some("funnel_report"), "p99 < 250 ms", true),
                (Some("create_visit"), "≥ 1000 req/s", true),
                (None, "peak RSS ≤ 64 MiB", false),
                (None, "start-up to ready < 300 ms", true),
                (None, "zero errors", false),
            ]
        );
    }
}

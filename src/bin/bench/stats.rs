//! Latency figures of one measured operation: percentiles by nearest rank.

use std::time::Duration;

/// What the load generator saw of one operation in its measuring window.
#[derive(Debug, Default)]
pub struct Sample {
    /// Every completed request's latency in microseconds, errors included.
    pub latencies_us: Vec<u64>,
    /// Requests answered with anything but 2xx, or that failed on the way.
    pub errors: u64,
    /// Each kind of error (`HTTP 409`, `timeout`, …) and how often it came.
    pub error_kinds: std::collections::BTreeMap<String, u64>,
    /// The first error's answer, to show what went wrong.
    pub first_error: Option<String>,
}

impl Sample {
    pub fn merge(&mut self, other: Sample) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        for (kind, n) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += n;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn summary(mut self, window: Duration) -> Summary {
        self.latencies_us.sort_unstable();
        let ms = |p| percentile(&self.latencies_us, p).map(|us| us as f64 / 1000.0);
        let requests = self.latencies_us.len() as u64;
        Summary {
            requests,
            requests_per_s: requests as f64 / window.as_secs_f64(),
            p50_ms: ms(50.0),
            p99_ms: ms(99.0),
            p999_ms: ms(99.9),
            errors: self.errors,
            error_kinds: self.error_kinds,
            first_error: self.first_error,
            server_cpu_us: None,
            database_cpu_us: None,
        }
    }
}

/// The figures printed and written for one operation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub requests: u64,
    pub requests_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub errors: u64,
    pub error_kinds: std::collections::BTreeMap<String, u64>,
    pub first_error: Option<String>,
    /// The server's CPU time in the window per request measured, in microseconds:
    /// what a request costs the server, whatever else the machine was doing. The
    /// server process only: PostgreSQL's own backends are not counted.
    pub server_cpu_us: Option<f64>,
    /// PostgreSQL's CPU time in the window per request measured, in microseconds:
    /// every process named `postgres` on this machine, so other work of the server
    /// (autovacuum, other databases) counts too. `None` on SQLite, and when no such
    /// process can be seen.
    pub database_cpu_us: Option<f64>,
}

impl Summary {
    /// Sets `server_cpu_us` from the server's CPU time over the window.
    pub fn with_server_cpu(mut self, cpu: Duration) -> Summary {
        self.server_cpu_us = self.per_request(cpu);
        self
    }

    /// Sets `database_cpu_us` from PostgreSQL's CPU time over the window.
    pub fn with_database_cpu(mut self, cpu: Option<Duration>) -> Summary {
        self.database_cpu_us = cpu.and_then(|cpu| self.per_request(cpu));
        self
    }

    fn per_request(&self, cpu: Duration) -> Option<f64> {
        (self.requests > 0).then(|| cpu.as_secs_f64() * 1e6 / self.requests as f64)
    }
}

/// The `p`-th percentile (0 < p ≤ 100) of sorted values by nearest rank: the
/// smallest value that at least p % of the values do not exceed. `None` when empty.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    // Less a hair, so that float error (99.9 % of 1000 is 999.000…1) cannot push an
    // exact rank up by one.
    let rank = (p / 100.0 * sorted.len() as f64 - 1e-9).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_a_thousand() {
        let values: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&values, 50.0), Some(500));
        assert_eq!(percentile(&values, 99.0), Some(990));
        assert_eq!(percentile(&values, 99.9), Some(999));
        assert_eq!(percentile(&values, 100.0), Some(1000));
    }

    #[test]
    fn a_few_values_give_their_largest_for_the_high_percentiles() {
        let values = [3, 7, 9];
        assert_eq!(percentile(&values, 50.0), Some(7));
        assert_eq!(percentile(&values, 99.0), Some(9));
        assert_eq!(percentile(&values, 99.9), Some(9));
        assert_eq!(percentile(&[42], 0.1), Some(42));
    }

    #[test]
    fn no_values_no_percentile() {
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn a_summary_counts_requests_over_the_window_and_keeps_errors() {
        let mut sample = Sample {
            latencies_us: vec![2000, 1000, 3000, 4000],
            ..Sample::default()
        };
        sample.merge(Sample {
            latencies_us: vec![5000],
            errors: 1,
            error_kinds: [("HTTP 500".to_string(), 1)].into(),
            first_error: Some("boom".into()),
        });
        let summary = sample.summary(Duration::from_secs(2));
        assert_eq!(summary.requests, 5);
        assert_eq!(summary.requests_per_s, 2.5);
        assert_eq!(summary.p50_ms, Some(3.0));
        assert_eq!(summary.p99_ms, Some(5.0));
        assert_eq!(summary.errors, 1);
        assert_eq!(summary.error_kinds["HTTP 500"], 1);
        assert_eq!(summary.server_cpu_us, None);
        let summary = summary.with_server_cpu(Duration::from_millis(10));
        assert_eq!(summary.server_cpu_us, Some(2000.0));
        assert_eq!(summary.database_cpu_us, None);
        let summary = summary.with_database_cpu(Some(Duration::from_millis(25)));
        assert_eq!(summary.database_cpu_us, Some(5000.0));
        assert_eq!(summary.with_database_cpu(None).database_cpu_us, None);
    }

    #[test]
    fn no_requests_no_cpu_per_request() {
        let summary = Sample::default().summary(Duration::from_secs(1));
        assert_eq!(
            summary
                .with_server_cpu(Duration::from_secs(1))
                .server_cpu_us,
            None
        );
        let summary = Sample::default().summary(Duration::from_secs(1));
        assert_eq!(
            summary
                .with_database_cpu(Some(Duration::from_secs(1)))
                .database_cpu_us,
            None
        );
    }
}

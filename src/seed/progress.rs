//! Progress of a long seed run: a bar on a terminal, periodic plain lines otherwise
//! (logs, CI), nothing in tests.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// Receives the phases of a load and the rows written in each.
pub trait Progress {
    /// A phase starts; `total` rows are expected.
    fn phase(&mut self, name: &str, total: u64);
    /// `rows` more rows of the current phase are written.
    fn advance(&mut self, rows: u64);
    /// The current phase is done.
    fn finish(&mut self);
}

/// Reports nothing.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// How often a plain line is printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Reports on stderr: an `indicatif` bar on a terminal, a line every few seconds
/// otherwise.
pub enum Stderr {
    Bar(Option<ProgressBar>),
    Lines {
        name: String,
        total: u64,
        done: u64,
        started: Instant,
        last: Instant,
    },
}

impl Stderr {
    pub fn new() -> Self {
        if std::io::stderr().is_terminal() {
            Stderr::Bar(None)
        } else {
            let now = Instant::now();
            Stderr::Lines {
                name: String::new(),
                total: 0,
                done: 0,
                started: now,
                last: now,
            }
        }
    }
}

impl Default for Stderr {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Stderr {
    fn phase(&mut self, phase: &str, rows: u64) {
        match self {
            Stderr::Bar(bar) => {
                let new = ProgressBar::new(rows).with_message(phase.to_string());
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg:>8} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows ({rate}, {eta} left)",
                ) {
                    new.set_style(style.with_key(
                        "rate",
                        |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                            let _ = write!(out, "{:.0} rows/s", state.per_sec());
                        },
                    ));
                }
                *bar = Some(new);
            }
            Stderr::Lines {
                name,
                total,
                done,
                started,
                last,
            } => {
                *name = phase.to_string();
                *total = rows;
                *done = 0;
                *started = Instant::now();
                *last = *started;
                eprintln!("seed: {name}: {rows} rows");
            }
        }
    }

    fn advance(&mut self, rows: u64) {
        match self {
            Stderr::Bar(bar) => {
                if let Some(bar) = bar {
                    bar.inc(rows);
                }
            }
            Stderr::Lines {
                name,
                total,
                done,
                started,
                last,
            } => {
                *done += rows;
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    let percent = (*done as f64) * 100.0 / (*total).max(1) as f64;
                    eprintln!(
                        "seed: {name}: {done}/{total} rows ({percent:.0}%) after {:.0} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }

    fn finish(&mut self) {
        match self {
            Stderr::Bar(bar) => {
                if let Some(bar) = bar.take() {
                    bar.finish();
                }
            }
            Stderr::Lines {
                name,
                done,
                started,
                ..
            } => eprintln!(
                "seed: {name}: {done} rows in {:.1} s",
                started.elapsed().as_secs_f64()
            ),
        }
    }
}

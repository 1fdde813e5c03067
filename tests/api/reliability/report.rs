//! What the reliability tests tried and what came of it: each test saves its lines
//! to a file of its own under `target/tmp/reliability/` when it passes, and
//! `write_reliability_doc` turns the files into `docs/RELIABILITY.md`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::helpers::Backend;

/// Sections of the document, in the order they are shown.
pub const AREAS: &[&str] = &[
    "Crash safety",
    "Two instances, one database",
    "Overload and faults",
    "Hostile input",
    "Auth abuse",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub area: String,
    pub fault: String,
    pub backend: String,
    /// How many times the fault or attack was tried.
    pub tries: u64,
    /// What came of it, in numbers where there are numbers.
    pub result: String,
}

/// The lines of one test on one backend, saved only when the test gets to the end.
pub struct Report {
    file: String,
    backend: String,
    lines: Vec<Line>,
}

impl Report {
    pub fn new(test: &str, backend: Backend) -> Self {
        let backend = match backend {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        };
        Self::named(test, backend)
    }

    /// For tests that do not touch the database (the HTTP layer, the parsers).
    pub fn without_database(test: &str) -> Self {
        Self::named(test, "none")
    }

    fn named(test: &str, backend: &str) -> Self {
        Self {
            file: format!("{test}-{}.jsonl", backend.to_lowercase()),
            backend: backend.to_string(),
            lines: Vec::new(),
        }
    }

    pub fn add(&mut self, area: &str, fault: &str, tries: u64, result: impl Into<String>) {
        assert!(AREAS.contains(&area), "unknown area {area}");
        self.lines.push(Line {
            area: area.into(),
            fault: fault.into(),
            backend: self.backend.clone(),
            tries,
            result: result.into(),
        });
    }

    /// Writes the lines, replacing those of this test's previous run.
    pub fn save(self) {
        let dir = directory();
        std::fs::create_dir_all(&dir).expect("report directory");
        let text: String = self
            .lines
            .iter()
            .map(|l| serde_json::to_string(l).expect("a line is JSON") + "\n")
            .collect();
        std::fs::write(dir.join(&self.file), text).expect("report file written");
    }
}

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reliability")
}

/// Every saved line, in the document's order.
fn saved_lines() -> Vec<Line> {
    let mut lines = Vec::new();
    let Ok(entries) = std::fs::read_dir(directory()) else {
        return lines;
    };
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        lines.extend(
            text.lines()
                .filter_map(|l| serde_json::from_str::<Line>(l).ok()),
        );
    }
    let rank = |area: &str| AREAS.iter().position(|a| *a == area).unwrap_or(AREAS.len());
    lines.sort_by(|a, b| {
        (rank(&a.area), &a.fault, &a.backend).cmp(&(rank(&b.area), &b.fault, &b.backend))
    });
    lines
}

/// The markdown of `docs/RELIABILITY.md` from `lines`.
pub fn render(lines: &[Line]) -> String {
    let mut by_area: BTreeMap<usize, Vec<&Line>> = BTreeMap::new();
    for line in lines {
        let rank = AREAS
            .iter()
            .position(|a| *a == line.area)
            .unwrap_or(AREAS.len());
        by_area.entry(rank).or_default().push(line);
    }
    let mut out = String::from(
        "# Reliability\n\n\
         Generated from the last run of the reliability tests (`tests/api/reliability/`), \
         not written by hand; see the README's *Tests* section to regenerate it. Each row \
         is one fault or attack: how many times it was tried, on which backend (`none`: \
         no database involved), and what came of it. A row is written only by a test \
         that passed, so every row below held. The property tests of the stage machine \
         and of the credit-code check are unit tests beside them in `src/domain/`.\n",
    );
    let tries: u64 = lines.iter().map(|l| l.tries).sum();
    let backends: std::collections::BTreeSet<&str> =
        lines.iter().map(|l| l.backend.as_str()).collect();
    out.push_str(&format!(
        "\n{} rows, {tries} tries in all, backends: {}.\n",
        lines.len(),
        backends.into_iter().collect::<Vec<_>>().join(", ")
    ));
    for (rank, lines) in by_area {
        let area = AREAS.get(rank).copied().unwrap_or("Other");
        out.push_str(&format!(
            "\n## {area}\n\n| fault or attack | backend | tries | result |\n| --- | --- | ---: | --- |\n"
        ));
        for l in lines {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                escape(&l.fault),
                l.backend,
                l.tries,
                escape(&l.result)
            ));
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Writes `docs/RELIABILITY.md` from the saved lines. Run it after the tests:
/// `cargo test --test api write_reliability_doc -- --ignored`.
#[test]
#[ignore = "writes docs/RELIABILITY.md from the last test run; run it on purpose"]
fn write_reliability_doc() {
    let lines = saved_lines();
    assert!(
        !lines.is_empty(),
        "no results under {}: run the tests first",
        directory().display()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/RELIABILITY.md");
    std::fs::create_dir_all(path.parent().expect("docs/")).expect("docs/ directory");
    std::fs::write(&path, render(&lines)).expect("docs/RELIABILITY.md written");
    println!("wrote {} rows to {}", lines.len(), path.display());
}

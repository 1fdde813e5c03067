//! `liaison import KIND FILE`: records from a CSV or xlsx file, with a progress bar,
//! the rejected rows listed (and written to `--rejects`), and a summary.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::cli::ImportArgs;
use crate::db::{self, DatabaseUrl};
use crate::domain::access::Actor;
use crate::import::{self, FileFormat, ImportError, Options, Table};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Rejected rows listed on the terminal; the rest are in the `--rejects` file.
const SHOWN: usize = 20;

pub fn run(args: &ImportArgs) -> Result<(), Error> {
    // Everything the import will write to is checked before anything is imported.
    if let Some(rejects) = &args.rejects {
        if rejects.exists() {
            return Err(format!("{} exists already; name a new file", rejects.display()).into());
        }
        let folder = crate::cli::folder_of(rejects);
        if !folder.is_dir() {
            return Err(format!(
                "cannot write the rejects to {}: there is no folder {}",
                rejects.display(),
                folder.display()
            )
            .into());
        }
    }
    let path = args.file.display();
    if args.file.is_dir() {
        return Err(format!("cannot import {path}: it is a folder; name a file").into());
    }
    let file = std::fs::File::open(&args.file).map_err(|e| format!("cannot open {path}: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let table = match FileFormat::of_path(&args.file) {
        FileFormat::Csv => Table::csv(Box::new(std::io::BufReader::new(file)), size),
        FileFormat::Xlsx => Table::xlsx(std::io::BufReader::new(file)),
    }
    .map_err(|e| format!("{path}: {e}"))?;
    let url = DatabaseUrl::parse(&args.database.database_url);
    url.require_existing()
        .map_err(|missing| format!("{missing}; `liaison migrate` creates one"))?;
    let mut conn = db::connect_for_command(&url)?;
    db::migrate(&mut conn)?;
    let options = Options {
        mode: args.mode,
        on_duplicate: args.on_duplicate,
        utc_offset: args.utc_offset,
    };
    let mut progress = Progress::new(table.size);
    let report = import::run(
        &mut conn,
        args.kind,
        table,
        options,
        &Actor::command_line(),
        |rows, position| progress.update(rows, position),
    )
    .map_err(|e| match e {
        // A header that does not fit, or a row the reader could not read (bad
        // UTF-8 further down the file).
        ImportError::Table(_) | ImportError::Header(_) => format!("{path}: {e}").into(),
        other => Error::from(other),
    })?;
    progress.finish();

    for reject in report.rejects.iter().take(SHOWN) {
        let column = reject
            .column
            .as_deref()
            .map(|c| format!(", column {c}"))
            .unwrap_or_default();
        eprintln!(
            "line {}{column}: {} ({})",
            reject.line, reject.message, reject.code
        );
    }
    if report.rejects.len() > SHOWN {
        eprintln!(
            "… and {} more reasons{}",
            report.rejects.len() - SHOWN,
            if args.rejects.is_some() {
                ""
            } else {
                "; --rejects FILE writes them all"
            }
        );
    }
    if let Some(path) = &args.rejects {
        if report.rejected > 0 {
            let out = std::fs::File::create_new(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            report.write_rejects(std::io::BufWriter::new(out))?;
            eprintln!(
                "wrote the {} rejected rows to {}",
                report.rejected,
                path.display()
            );
        }
    }
    eprintln!("{} {}", report.kind, report.summary());
    if report.rejected > 0 {
        return Err(format!("{} rows were rejected", report.rejected).into());
    }
    Ok(())
}

/// A progress bar on a terminal; a line every five seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last: Instant,
    rows: u64,
}

impl Progress {
    fn new(size: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(size);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {percent:>3}% {msg} ({elapsed}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            last: Instant::now(),
            rows: 0,
        }
    }

    fn update(&mut self, rows: u64, position: u64) {
        self.rows = rows;
        if self.last.elapsed() < Duration::from_millis(if self.bar.is_some() { 100 } else { 5000 })
        {
            return;
        }
        self.last = Instant::now();
        match &self.bar {
            Some(bar) => {
                bar.set_position(position);
                bar.set_message(format!("{rows} rows"));
            }
            None => eprintln!("{rows} rows read"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

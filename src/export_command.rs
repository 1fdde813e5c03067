//! `liaison export KIND [PARAMETER=VALUE …]`: a list, whole, to a file or stdout.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use crate::cli::{ExportArgs, RecordKind};
use crate::db::{self, DatabaseUrl};
use crate::domain::agreement::Agreement;
use crate::domain::enterprise::Enterprise;
use crate::domain::internship_base::InternshipBase;
use crate::domain::order_class::OrderClass;
use crate::domain::participant::Participant;
use crate::domain::visit::Visit;
use crate::export::{self, ExportError};
use crate::http::error::ApiError;
use crate::http::extract::Params;
use crate::http::resource::Resource;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub fn run(args: &ExportArgs) -> Result<(), Error> {
    match args.kind {
        RecordKind::Enterprises => export::<Enterprise>(args, "enterprises"),
        RecordKind::Participants => export::<Participant>(args, "participants"),
        RecordKind::Visits => export::<Visit>(args, "visits"),
        RecordKind::OrderClasses => export::<OrderClass>(args, "order classes"),
        RecordKind::InternshipBases => export::<InternshipBase>(args, "internship bases"),
        RecordKind::Agreements => export::<Agreement>(args, "agreements"),
    }
}

fn export<R: Resource>(args: &ExportArgs, noun: &str) -> Result<(), Error> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for filter in &args.filters {
        let (key, value) = filter
            .split_once('=')
            .ok_or_else(|| format!("`{filter}` is not PARAMETER=VALUE"))?;
        if key == "limit" {
            return Err("an export has every matching record: `limit` does not apply".into());
        }
        query.append_pair(key, value);
    }
    // Whole pages of the largest size: fewer queries.
    query.append_pair("limit", &crate::domain::page::MAX_LIMIT.to_string());
    let params = Params::<R::Params>::from_query(&query.finish())
        .map_err(problem)?
        .0;
    let filter = R::filter(&params).map_err(|e| problem(e.into()))?;
    let url = DatabaseUrl::parse(&args.database.database_url);
    url.require_existing()?;
    let mut conn = db::connect_for_command(&url)?;
    let started = Instant::now();
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(create(path)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut report = Report::new(noun);
    let count = export::write_all::<R>(
        &mut conn,
        filter,
        args.format,
        BufWriter::with_capacity(256 * 1024, out),
        |n| report.progress(n),
    )
    .map_err(|e| match e {
        ExportError::Domain(e) => problem(e.into()),
        other => other.into(),
    })?;
    report.finish();
    eprintln!(
        "exported {count} {noun} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The output file, or why it cannot be written, naming it.
fn create(path: &Path) -> Result<std::fs::File, Error> {
    let cannot = |why: String| format!("cannot write {}: {why}", path.display());
    if path.is_dir() {
        return Err(cannot("it is a folder; name a file".into()).into());
    }
    let folder = crate::cli::folder_of(path);
    if !folder.is_dir() {
        return Err(cannot(format!("there is no folder {}", folder.display())).into());
    }
    Ok(std::fs::File::create(path).map_err(|e| cannot(e.to_string()))?)
}

/// A client mistake, told the way the API tells it.
fn problem(error: ApiError) -> Error {
    match error {
        ApiError::Domain(crate::domain::DomainError::BadRequest(errors)) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        other => other.to_string().into(),
    }
}

/// Progress on stderr: a spinner on a terminal, a line every few seconds otherwise.
struct Report {
    noun: String,
    spinner: Option<indicatif::ProgressBar>,
    last: Instant,
}

impl Report {
    fn new(noun: &str) -> Self {
        use std::io::IsTerminal;
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Report {
            noun: noun.to_string(),
            spinner,
            last: Instant::now(),
        }
    }

    fn progress(&mut self, count: u64) {
        match &self.spinner {
            Some(bar) => bar.set_message(format!("{count} {}", self.noun)),
            None if self.last.elapsed().as_secs() >= 5 => {
                eprintln!("exported {count} {} so far", self.noun);
                self.last = Instant::now();
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}

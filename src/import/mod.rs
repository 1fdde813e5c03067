//! Imports: records of one kind from a CSV or xlsx table, a row each. Every row
//! becomes the body the API's create would take and goes through the same checks and
//! the same database functions, with its audit entry. Used by `liaison import` and
//! `POST /api/v1/imports/{kind}`.

pub mod columns;
pub mod lookup;
pub mod table;

use std::time::Instant;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use diesel::result::Error as QueryError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use self::columns::{Cell, Column, Target};
use self::lookup::{Found, Resolver};
pub use self::table::{FileFormat, Row, Table, TableError};
use crate::cli::RecordKind;
use crate::db::{self, DbConn};
use crate::domain::access::{Actor, AuditAction};
use crate::domain::agreement::Agreement;
use crate::domain::enterprise::Enterprise;
use crate::domain::internship_base::InternshipBase;
use crate::domain::order_class::OrderClass;
use crate::domain::participant::Participant;
use crate::domain::visit::Visit;
use crate::domain::{DomainError, Precondition};
use crate::http::resource::{self, Audited, Resource};

/// What happens to the good rows of a file that has bad ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Import the good rows; report the bad ones.
    SkipBad,
    /// One transaction: any bad row, and nothing is imported.
    AllOrNothing,
}

/// What happens to a row whose record exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    /// Leave the record as it is; the row counts as skipped.
    Skip,
    /// Update the record with the row's non-empty cells (stages excepted); a row
    /// that changes nothing writes nothing and counts as skipped.
    Update,
    /// Reject the row.
    Fail,
}

/// `skip-bad` or `all-or-nothing`, as `?mode=` gives it.
impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        choice(s)
    }
}

/// `skip`, `update` or `fail`, as `?on_duplicate=` gives it.
impl std::str::FromStr for OnDuplicate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        choice(s)
    }
}

/// One of a closed vocabulary by its exact name, as the command line spells it;
/// or why not, with the names there are.
fn choice<T: clap::ValueEnum>(s: &str) -> Result<T, String> {
    T::from_str(s, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("`{s}` is not one of: {}", names.join(", "))
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub mode: Mode,
    pub on_duplicate: OnDuplicate,
    /// The offset of date-times written without one.
    pub utc_offset: FixedOffset,
}

/// Rows that go into one transaction in `skip-bad` mode. Each transaction holds the
/// import lock (`db::IMPORT_LOCK_KEY`) from its first duplicate lookup to its commit:
/// on PostgreSQL, where writers do not queue as on SQLite, two imports of one file
/// at once would otherwise both find a row new and both create it. Concurrent
/// imports take turns a batch at a time.
const BATCH: usize = 500;

/// Rows written from which an import refreshes the planner's statistics of what it
/// wrote: without them, a table that grew from empty by a bulk load is planned as if
/// it were still small (SQLite sorted a whole table for every page of a list).
const REFRESH_STATISTICS: u64 = 1000;

/// `ANALYZE` of the tables an import of `target` writes.
fn refresh_statistics(conn: &mut DbConn, target: Target) -> Result<(), ImportError> {
    use diesel::RunQueryDsl;
    let statements: &[&str] = match target {
        Target::Enterprise => &["ANALYZE enterprises"],
        Target::Participant => &["ANALYZE participants"],
        Target::Visit => &[
            "ANALYZE visits",
            "ANALYZE visit_enterprises",
            "ANALYZE visit_participants",
            "ANALYZE visit_order_classes",
            "ANALYZE visit_internship_bases",
        ],
        Target::OrderClass => &["ANALYZE order_classes", "ANALYZE stage_transitions"],
        Target::InternshipBase => &["ANALYZE internship_bases", "ANALYZE stage_transitions"],
        Target::Agreement => &["ANALYZE agreements"],
    };
    for statement in statements {
        diesel::sql_query(*statement).execute(conn)?;
    }
    Ok(())
}

/// The offset of date-times written without one: the college's, China Standard Time.
pub const DEFAULT_UTC_OFFSET: &str = "+08:00";

/// Parses a UTC offset such as `+08:00`, `-0530` or `Z`.
pub fn parse_offset(text: &str) -> Result<FixedOffset, String> {
    let probe = format!("2000-01-01T00:00:00{}", text.trim());
    DateTime::parse_from_rfc3339(&probe)
        .or_else(|_| DateTime::parse_from_str(&probe, "%Y-%m-%dT%H:%M:%S%z"))
        .map(|t| *t.offset())
        .map_err(|_| format!("`{text}` is not a UTC offset such as +08:00"))
}

/// One reason a row was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The row's line (CSV) or row (xlsx) number; the header is line 1.
    pub line: u64,
    /// The column at fault, as the file names it, when one is.
    pub column: Option<String>,
    pub code: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Serialize)]
pub struct Report {
    pub kind: String,
    pub mode: Mode,
    pub on_duplicate: OnDuplicate,
    /// Data rows read (empty rows are passed over).
    pub read: u64,
    pub imported: u64,
    pub updated: u64,
    /// Duplicates left alone, and duplicates whose update changed nothing.
    pub skipped: u64,
    /// Rows rejected.
    pub rejected: u64,
    pub seconds: f64,
    /// Whether what was imported is kept: false when `all-or-nothing` met a bad row.
    pub committed: bool,
    /// Every reason of every rejected row, in file order.
    pub rejects: Vec<Reject>,
    /// The file's header and rejected rows, for a rejects file.
    #[serde(skip)]
    pub header: Vec<String>,
    #[serde(skip)]
    pub rejected_rows: Vec<Row>,
}

impl Report {
    /// The one-line summary printed at the end.
    pub fn summary(&self) -> String {
        format!(
            "read {}, imported {}, updated {}, skipped {}, rejected {} in {:.1} s{}",
            self.read,
            self.imported,
            self.updated,
            self.skipped,
            self.rejected,
            self.seconds,
            if self.committed {
                ""
            } else {
                " (all-or-nothing: nothing was imported)"
            }
        )
    }

    /// Writes the rejected rows as CSV under the file's header, each with its reasons
    /// in a last `import_errors` column, so that the file imports again once fixed.
    pub fn write_rejects(&self, mut out: impl std::io::Write) -> Result<(), csv::Error> {
        out.write_all(crate::export::BOM.as_bytes())?;
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
        let errors_at = self.header.iter().position(|h| columns::is_errors(h));
        let width = errors_at.map_or(self.header.len() + 1, |_| self.header.len());
        let errors_at = errors_at.unwrap_or(self.header.len());
        let mut header = self.header.clone();
        header.resize(width, String::new());
        header[errors_at] = columns::ERRORS.to_string();
        writer.write_record(&header)?;
        // Both are in line order: each row's reasons are the run of its line.
        let mut rejects = self.rejects.iter().peekable();
        for row in &self.rejected_rows {
            while rejects.next_if(|r| r.line < row.line).is_some() {}
            let reasons: Vec<String> =
                std::iter::from_fn(|| rejects.next_if(|r| r.line == row.line))
                    .map(|r| match &r.column {
                        Some(column) => format!("{column}: {}", r.message),
                        None => r.message.clone(),
                    })
                    .collect();
            let mut cells = row.cells.clone();
            let past_header = cells.get(self.header.len()..).unwrap_or_default();
            if past_header.iter().any(|c| !c.trim().is_empty()) {
                // A row split by an unquoted comma keeps every cell, its reasons
                // after them: once its cells are joined again, they are in the
                // errors column.
                cells.push(reasons.join("; "));
            } else {
                cells.resize(width, String::new());
                cells[errors_at] = reasons.join("; ");
            }
            writer.write_record(&cells)?;
        }
        writer.flush()?;
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Table(#[from] TableError),
    /// The header does not fit the kind: nothing was read.
    #[error("{0}")]
    Header(String),
    #[error(transparent)]
    Db(#[from] db::Error),
    /// Internal: rolls an all-or-nothing transaction back.
    #[error("rolled back")]
    RolledBack,
}

impl From<QueryError> for ImportError {
    fn from(error: QueryError) -> Self {
        ImportError::Db(error.into())
    }
}

/// Imports `table` as records of `kind`, as `actor`; `progress` hears the rows read
/// and the table's position after each row.
pub fn run(
    conn: &mut DbConn,
    kind: RecordKind,
    table: Table,
    options: Options,
    actor: &Actor,
    progress: impl FnMut(u64, u64),
) -> Result<Report, ImportError> {
    match kind {
        RecordKind::Enterprises => {
            Import::<Enterprise>::new(kind, table, options, actor)?.run(conn, progress)
        }
        RecordKind::Participants => {
            Import::<Participant>::new(kind, table, options, actor)?.run(conn, progress)
        }
        RecordKind::Visits => {
            Import::<Visit>::new(kind, table, options, actor)?.run(conn, progress)
        }
        RecordKind::OrderClasses => {
            Import::<OrderClass>::new(kind, table, options, actor)?.run(conn, progress)
        }
        RecordKind::InternshipBases => {
            Import::<InternshipBase>::new(kind, table, options, actor)?.run(conn, progress)
        }
        RecordKind::Agreements => {
            Import::<Agreement>::new(kind, table, options, actor)?.run(conn, progress)
        }
    }
}

/// The `--help` text that documents every kind's header.
pub fn headers_help() -> String {
    let mut help = String::from(
        "Columns (a header row first; Chinese or English names; cells left empty take the API's defaults;\n\
         references name a record by id, or an enterprise by credit code or name, a participant by\n\
         e-mail or name, an order class or base by name, an agreement by number or title):\n",
    );
    for &kind in <RecordKind as clap::ValueEnum>::value_variants() {
        help.push_str(&format!("\n  {}:\n", kind_name(kind)));
        for column in columns::of(kind) {
            if column.cell == Cell::Ignored {
                continue;
            }
            let required = if columns::required(kind).contains(&column.field) {
                " (required)"
            } else {
                ""
            };
            help.push_str(&format!(
                "    {}{required}: {}\n",
                column.field,
                column.aliases.join(", ")
            ));
        }
    }
    help.push_str(
        "\n  Exported read-only columns (created_at, updated_at, version, archived_at, …) and a rejects\n  \
         file's import_errors column are accepted and not read. Exit status 1 when any row was rejected.",
    );
    help
}

/// What can be imported: a record resource, with how its duplicates are found.
pub(crate) trait Importable: Audited {
    const TARGET: Target;
    /// The existing record that a row with these fields would duplicate.
    fn duplicate_of(conn: &mut DbConn, fields: &Self::Fields) -> db::Result<Option<String>>;
    /// Adds to the merge patch that updates `existing` from a row what the row cannot
    /// hold but the record must keep. Nothing, but for a visit.
    fn keep_unexported(_existing: &Self, _patch: &mut Map<String, Value>) {}
}

impl Importable for Enterprise {
    const TARGET: Target = Target::Enterprise;
    fn duplicate_of(
        conn: &mut DbConn,
        fields: &crate::domain::enterprise::EnterpriseFields,
    ) -> db::Result<Option<String>> {
        let code = fields.credit_code.as_ref().map(|c| c.as_str());
        lookup::enterprise_like(conn, code, &fields.name_key)
    }
}

impl Importable for Participant {
    const TARGET: Target = Target::Participant;
    fn duplicate_of(
        conn: &mut DbConn,
        fields: &crate::domain::participant::ParticipantFields,
    ) -> db::Result<Option<String>> {
        let enterprise = fields.enterprise_id.map(|e| e.to_string());
        lookup::participant_like(
            conn,
            fields.side.as_str(),
            enterprise.as_deref(),
            &fields.name_key,
        )
    }
}

impl Importable for Visit {
    const TARGET: Target = Target::Visit;
    fn duplicate_of(
        conn: &mut DbConn,
        fields: &crate::domain::visit::VisitFields,
    ) -> db::Result<Option<String>> {
        lookup::visit_like(conn, &fields.title, fields.starts_at.naive_utc())
    }

    /// The links to records archived since the visit was saved: an export leaves
    /// them out of its cells, as the API's embedded lists do, and the visit keeps
    /// them, as a PATCH that sends the lists the API shows keeps them.
    fn keep_unexported(visit: &Visit, patch: &mut Map<String, Value>) {
        fn hidden<Id: PartialEq + std::fmt::Display>(
            linked: &[Id],
            shown: impl Fn(&Id) -> bool,
        ) -> Vec<(String, Value)> {
            linked
                .iter()
                .filter(|id| !shown(id))
                .map(|id| (id.to_string(), Value::String(id.to_string())))
                .collect()
        }
        let links = &visit.links;
        let enterprises = hidden(&links.enterprise_ids, |id| {
            visit.enterprises.iter().any(|e| e.id == *id)
        });
        keep_links(patch, "enterprise_ids", enterprises);
        let order_classes = hidden(&links.order_class_ids, |id| {
            visit.order_classes.iter().any(|o| o.id == *id)
        });
        keep_links(patch, "order_class_ids", order_classes);
        let internship_bases = hidden(&links.internship_base_ids, |id| {
            visit.internship_bases.iter().any(|b| b.id == *id)
        });
        keep_links(patch, "internship_base_ids", internship_bases);
        let participants = links
            .participants
            .iter()
            .filter(|l| !visit.participants.iter().any(|p| p.id == l.participant_id))
            .map(|l| {
                let id = l.participant_id.to_string();
                let item = serde_json::json!({"participant_id": id, "role": l.role.as_str()});
                (id, item)
            })
            .collect();
        keep_links(patch, "participants", participants);
    }
}

/// Appends to the patch's list `member`, when the patch has one, each hidden link
/// (id, item) the list does not name already.
fn keep_links(patch: &mut Map<String, Value>, member: &str, hidden: Vec<(String, Value)>) {
    let Some(Value::Array(items)) = patch.get_mut(member) else {
        return;
    };
    let named = |item: &Value| -> Option<String> {
        match item {
            Value::String(id) => Some(id.clone()),
            Value::Object(link) => link
                .get("participant_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        }
    };
    let present: Vec<String> = items.iter().filter_map(named).collect();
    items.extend(
        hidden
            .into_iter()
            .filter(|(id, _)| !present.contains(id))
            .map(|(_, item)| item),
    );
}

impl Importable for OrderClass {
    const TARGET: Target = Target::OrderClass;
    fn duplicate_of(
        conn: &mut DbConn,
        new: &crate::domain::order_class::NewOrderClass,
    ) -> db::Result<Option<String>> {
        let fields = &new.fields;
        lookup::order_class_like(conn, &fields.enterprise_id.to_string(), &fields.name_key)
    }
}

impl Importable for InternshipBase {
    const TARGET: Target = Target::InternshipBase;
    fn duplicate_of(
        conn: &mut DbConn,
        new: &crate::domain::internship_base::NewInternshipBase,
    ) -> db::Result<Option<String>> {
        let fields = &new.fields;
        lookup::internship_base_like(conn, &fields.enterprise_id.to_string(), &fields.name_key)
    }
}

impl Importable for Agreement {
    const TARGET: Target = Target::Agreement;
    fn duplicate_of(
        conn: &mut DbConn,
        fields: &crate::domain::agreement::AgreementFields,
    ) -> db::Result<Option<String>> {
        lookup::agreement_like(
            conn,
            &fields.enterprise_id.to_string(),
            fields.number.as_deref(),
            &fields.title_key,
        )
    }
}

/// What became of a row.
enum Outcome {
    Imported,
    Updated,
    Skipped,
    Rejected(Vec<Reject>),
    /// Names a record the file has not created yet: tried again at the end.
    Deferred,
}

/// One import under way.
struct Import<'a, R> {
    table: Table,
    /// The column of each of the file's columns; `None` for a column with no header.
    columns: Vec<Option<Column>>,
    options: Options,
    actor: &'a Actor,
    resolver: Resolver,
    report: Report,
    _kind: std::marker::PhantomData<R>,
}

impl<'a, R: Importable> Import<'a, R> {
    fn new(
        kind: RecordKind,
        table: Table,
        options: Options,
        actor: &'a Actor,
    ) -> Result<Self, ImportError> {
        let known = columns::of(kind);
        let mut seen: Vec<&str> = Vec::new();
        let mut mapped = Vec::with_capacity(table.header.len());
        let mut unknown = Vec::new();
        for header in &table.header {
            if header.is_empty() {
                mapped.push(None);
                continue;
            }
            match columns::find(&known, header) {
                Some(column) if seen.contains(&column.field) => {
                    return Err(ImportError::Header(format!(
                        "the header names the column `{}` twice (as `{header}`)",
                        column.field
                    )))
                }
                Some(column) => {
                    seen.push(column.field);
                    mapped.push(Some(*column));
                }
                None => unknown.push(format!("`{header}`")),
            }
        }
        let name = kind_name(kind);
        if !unknown.is_empty() {
            let documented: Vec<String> = known
                .iter()
                .filter(|c| c.cell != Cell::Ignored)
                .map(|c| format!("{} ({})", c.field, c.aliases.join(", ")))
                .collect();
            return Err(ImportError::Header(format!(
                "unknown column{} {} in a file of {name}; its columns are: {}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                documented.join("; ")
            )));
        }
        let missing: Vec<&str> = columns::required(kind)
            .iter()
            .filter(|f| !seen.contains(f))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::Header(format!(
                "a file of {name} needs the column{} {}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            )));
        }
        let header = table.header.clone();
        Ok(Import {
            table,
            columns: mapped,
            options,
            actor,
            resolver: Resolver::default(),
            report: Report {
                kind: name.to_string(),
                mode: options.mode,
                on_duplicate: options.on_duplicate,
                read: 0,
                imported: 0,
                updated: 0,
                skipped: 0,
                rejected: 0,
                seconds: 0.0,
                committed: true,
                rejects: Vec::new(),
                header,
                rejected_rows: Vec::new(),
            },
            _kind: std::marker::PhantomData,
        })
    }

    fn run(
        mut self,
        conn: &mut DbConn,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Report, ImportError> {
        let started = Instant::now();
        let mut deferred = Vec::new();
        match self.options.mode {
            Mode::AllOrNothing => {
                let outcome = db::write(conn, |conn| {
                    db::serialise(conn, db::IMPORT_LOCK_KEY)?;
                    while let Some(row) = self.table.next_row()? {
                        self.row(conn, row, &mut deferred, &mut progress)?;
                    }
                    self.retry(conn, deferred)?;
                    if self.report.rejected > 0 {
                        return Err(ImportError::RolledBack);
                    }
                    Ok(())
                });
                match outcome {
                    Ok(()) => {}
                    Err(ImportError::RolledBack) => {
                        self.report.committed = false;
                        self.report.imported = 0;
                        self.report.updated = 0;
                        self.report.skipped = 0;
                    }
                    Err(other) => return Err(other),
                }
            }
            Mode::SkipBad => {
                let mut finished = false;
                while !finished {
                    db::write(conn, |conn| {
                        db::serialise(conn, db::IMPORT_LOCK_KEY)?;
                        for _ in 0..BATCH {
                            let Some(row) = self.table.next_row()? else {
                                finished = true;
                                break;
                            };
                            self.row(conn, row, &mut deferred, &mut progress)?;
                        }
                        Ok::<_, ImportError>(())
                    })?;
                }
                db::write(conn, |conn| {
                    db::serialise(conn, db::IMPORT_LOCK_KEY)?;
                    self.retry(conn, deferred)
                })?;
            }
        }
        if self.report.imported + self.report.updated >= REFRESH_STATISTICS {
            refresh_statistics(conn, R::TARGET)?;
        }
        self.report.rejects.sort_by_key(|r| r.line);
        self.report.rejected_rows.sort_by_key(|r| r.line);
        self.report.seconds = started.elapsed().as_secs_f64();
        Ok(self.report)
    }

    fn row(
        &mut self,
        conn: &mut DbConn,
        row: Row,
        deferred: &mut Vec<Row>,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<(), ImportError> {
        self.report.read += 1;
        let outcome = self.import(conn, &row, true)?;
        self.count(row, outcome, deferred);
        progress(self.report.read, self.table.position());
        Ok(())
    }

    /// Tries deferred rows again while that imports any; what is left is rejected.
    fn retry(&mut self, conn: &mut DbConn, mut deferred: Vec<Row>) -> Result<(), ImportError> {
        loop {
            let before = deferred.len();
            if before == 0 {
                return Ok(());
            }
            let waiting = std::mem::take(&mut deferred);
            let last_try = {
                let mut again = Vec::new();
                for row in waiting {
                    let outcome = self.import(conn, &row, true)?;
                    self.count(row, outcome, &mut again);
                }
                let stuck = again.len() == before;
                deferred = again;
                stuck
            };
            if last_try {
                for row in std::mem::take(&mut deferred) {
                    let outcome = self.import(conn, &row, false)?;
                    self.count(row, outcome, &mut Vec::new());
                }
                return Ok(());
            }
        }
    }

    fn count(&mut self, row: Row, outcome: Outcome, deferred: &mut Vec<Row>) {
        match outcome {
            Outcome::Imported => self.report.imported += 1,
            Outcome::Updated => self.report.updated += 1,
            Outcome::Skipped => self.report.skipped += 1,
            Outcome::Deferred => deferred.push(row),
            Outcome::Rejected(reasons) => {
                self.report.rejected += 1;
                self.report.rejects.extend(reasons);
                self.report.rejected_rows.push(row);
            }
        }
    }

    /// One row: what became of it.
    fn import(
        &mut self,
        conn: &mut DbConn,
        row: &Row,
        may_defer: bool,
    ) -> Result<Outcome, ImportError> {
        if let Some(message) = row.misfit(self.table.header.len(), self.table.format) {
            return Ok(Outcome::Rejected(vec![Reject {
                line: row.line,
                column: None,
                code: "cell_count".to_string(),
                message,
            }]));
        }
        let (body, id) = match self.body(conn, row)? {
            Ok(parts) => parts,
            Err(rejects) => {
                let waits = may_defer && rejects.iter().all(|r| r.code == "unknown_reference");
                return Ok(if waits {
                    Outcome::Deferred
                } else {
                    Outcome::Rejected(rejects)
                });
            }
        };
        let fields = match R::fields(&Value::Object(body.clone())) {
            Ok(fields) => fields,
            Err(error) => return Ok(Outcome::Rejected(self.rejects(row, error))),
        };
        // No savepoint of its own: the create or update is one already (a rule it
        // breaks leaves nothing behind), and a database error ends the import.
        match self.apply(conn, &fields, body, id) {
            Ok(outcome) => Ok(outcome),
            Err(db::Error::Domain(error)) => Ok(Outcome::Rejected(self.rejects(row, error))),
            Err(other) => Err(other.into()),
        }
    }

    /// Creates the row's record, or deals with the one it duplicates.
    fn apply(
        &self,
        conn: &mut DbConn,
        fields: &R::Fields,
        mut body: Map<String, Value>,
        id: Option<String>,
    ) -> db::Result<Outcome> {
        let existing = match &id {
            Some(id) if lookup::exists(conn, R::TARGET, id)? => Some(id.clone()),
            _ => R::duplicate_of(conn, fields)?,
        };
        let Some(existing) = existing else {
            let id = match id.as_deref().map(str::parse::<uuid::Uuid>) {
                Some(Ok(id)) => <R as Resource>::Id::from(id),
                _ => resource::new_id::<R>(),
            };
            let created = R::create(conn, id, fields, self.actor)?;
            resource::audit(conn, self.actor, AuditAction::Create, None, &created)?;
            return Ok(Outcome::Imported);
        };
        match self.options.on_duplicate {
            OnDuplicate::Skip => Ok(Outcome::Skipped),
            OnDuplicate::Fail => Err(DomainError::Conflict {
                code: "duplicate",
                detail: format!(
                    "{} {existing} is already on record (--on-duplicate fail)",
                    R::TARGET.noun()
                ),
                existing_id: Some(existing),
            }
            .into()),
            OnDuplicate::Update => {
                let id: <R as Resource>::Id = existing
                    .parse()
                    .map_err(|_| db::Error::Corrupt(format!("id {existing}")))?;
                for member in columns::CREATE_ONLY {
                    body.remove(*member);
                }
                // Read under the record's lock, so that what it keeps is what it has.
                let mut version = None;
                let after =
                    resource::change::<R>(conn, id, self.actor, AuditAction::Update, |c| {
                        let before = R::get(c, id)?;
                        version = Some(Resource::version(&before));
                        R::keep_unexported(&before, &mut body);
                        R::update(c, id, &Precondition::Any, &Value::Object(body))
                    })?;
                Ok(if Some(Resource::version(&after)) == version {
                    Outcome::Skipped
                } else {
                    Outcome::Updated
                })
            }
        }
    }

    /// The row as a create body, and its `id` cell; or why it cannot be one.
    #[allow(clippy::type_complexity)]
    fn body(
        &mut self,
        conn: &mut DbConn,
        row: &Row,
    ) -> db::Result<Result<(Map<String, Value>, Option<String>), Vec<Reject>>> {
        let mut body = Map::new();
        let mut id = None;
        let mut rejects = Vec::new();
        // Enterprises first: names of order classes and bases are looked up among them.
        let mut within = Vec::new();
        let cells = self.columns.iter().zip(&self.table.header).zip(
            row.cells
                .iter()
                .map(|c| c.trim())
                .chain(std::iter::repeat("")),
        );
        let (first, second): (Vec<_>, Vec<_>) = cells
            .filter_map(|((column, header), cell)| column.map(|c| (c, header.clone(), cell)))
            .filter(|(_, _, cell)| !cell.is_empty())
            .partition(|(c, _, _)| {
                !matches!(
                    c.cell,
                    Cell::Reference(Target::OrderClass | Target::InternshipBase)
                        | Cell::References(Target::OrderClass | Target::InternshipBase)
                )
            });
        for (column, header, cell) in first.into_iter().chain(second) {
            let reject = |code: &str, message: String| Reject {
                line: row.line,
                column: Some(header.clone()),
                code: code.to_string(),
                message,
            };
            let value = match column.cell {
                Cell::Ignored => continue,
                Cell::Id => {
                    match record_id(cell) {
                        Ok(kept) => id = Some(kept),
                        Err(message) => rejects.push(reject("invalid_id", message)),
                    }
                    continue;
                }
                Cell::Text => Value::String(cell.to_string()),
                Cell::Integer => match integer(cell) {
                    Some(n) => Value::from(n),
                    None => {
                        rejects.push(reject(
                            "not_an_integer",
                            format!("`{cell}` is not a whole number"),
                        ));
                        continue;
                    }
                },
                Cell::Boolean => match boolean(cell) {
                    Some(b) => Value::Bool(b),
                    None => {
                        rejects.push(reject(
                            "not_a_boolean",
                            format!("`{cell}` is not one of true/false, yes/no, 1/0, 是/否"),
                        ));
                        continue;
                    }
                },
                Cell::Date => Value::String(date(cell)),
                Cell::DateTime => Value::String(date_time(cell, self.options.utc_offset)),
                Cell::Choice(labels) => Value::String(
                    labels
                        .iter()
                        .find(|(label, _)| *label == cell)
                        .map_or(cell, |(_, value)| value)
                        .to_string(),
                ),
                Cell::Reference(target) => match self.reference(conn, target, cell, &within)? {
                    Ok(found) => {
                        if target == Target::Enterprise && column.field == "enterprise_id" {
                            within.push(found.clone());
                        }
                        Value::String(found)
                    }
                    Err((code, message)) => {
                        rejects.push(reject(code, message));
                        continue;
                    }
                },
                Cell::References(target) => {
                    let Some(items) = list(cell) else {
                        rejects.push(reject("not_a_list", format!("`{cell}` is not a list")));
                        continue;
                    };
                    let mut ids = Vec::new();
                    for item in items {
                        match self.reference(conn, target, &item.name, &within)? {
                            Ok(found) => ids.push(found),
                            Err((code, message)) => rejects.push(reject(code, message)),
                        }
                    }
                    if target == Target::Enterprise {
                        within.extend(ids.iter().cloned());
                    }
                    Value::from(ids)
                }
                Cell::Participants => {
                    let Some(items) = list(cell) else {
                        rejects.push(reject("not_a_list", format!("`{cell}` is not a list")));
                        continue;
                    };
                    let mut people = Vec::new();
                    for item in items {
                        match self.reference(conn, Target::Participant, &item.name, &[])? {
                            Ok(found) => people.push(serde_json::json!({
                                "participant_id": found,
                                "role": role(item.role.as_deref()),
                            })),
                            Err((code, message)) => rejects.push(reject(code, message)),
                        }
                    }
                    Value::from(people)
                }
            };
            body.insert(column.field.to_string(), value);
        }
        Ok(if rejects.is_empty() {
            Ok((body, id))
        } else {
            Err(rejects)
        })
    }

    fn reference(
        &mut self,
        conn: &mut DbConn,
        target: Target,
        value: &str,
        within: &[String],
    ) -> db::Result<Result<String, (&'static str, String)>> {
        let noun = target.noun();
        Ok(match self.resolver.resolve(conn, target, value, within)? {
            Found::One(id) => Ok(id),
            Found::None => Err((
                "unknown_reference",
                format!("no {noun} is known as `{value}`"),
            )),
            Found::Many => Err((
                "ambiguous_reference",
                format!("several {noun}s are known as `{value}`; name it by id"),
            )),
        })
    }

    /// The reasons of an error the API's rules gave for a row, by the file's column.
    fn rejects(&self, row: &Row, error: DomainError) -> Vec<Reject> {
        let column_of = |field: &str| -> Option<String> {
            let member = field.split(['[', '.']).next().unwrap_or(field);
            self.columns
                .iter()
                .zip(&self.table.header)
                .find(|(c, _)| c.is_some_and(|c| c.field == member))
                .map(|(_, header)| header.clone())
                .or_else(|| (!member.is_empty()).then(|| member.to_string()))
        };
        let one = |column: Option<String>, code: &str, message: String| Reject {
            line: row.line,
            column,
            code: code.to_string(),
            message,
        };
        match error {
            DomainError::Invalid(errors) | DomainError::BadRequest(errors) => errors
                .into_iter()
                .map(|e| one(column_of(&e.field), e.code, e.message))
                .collect(),
            DomainError::Conflict { code, detail, .. } => {
                let field = match code {
                    "duplicate_name" => Some("name"),
                    "duplicate_credit_code" => Some("credit_code"),
                    "duplicate_number" => Some("number"),
                    _ => None,
                };
                vec![one(field.and_then(column_of), code, detail)]
            }
            other @ DomainError::NotFound { .. } => vec![one(None, "not_found", other.to_string())],
            other @ DomainError::StageNotAllowed { .. } => {
                vec![one(
                    column_of("stage"),
                    "stage_not_allowed",
                    other.to_string(),
                )]
            }
            other @ DomainError::Stale { .. } => vec![one(None, "stale", other.to_string())],
        }
    }
}

/// The name of a kind as paths and messages use it.
pub fn kind_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Enterprises => "enterprises",
        RecordKind::Participants => "participants",
        RecordKind::Visits => "visits",
        RecordKind::OrderClasses => "order-classes",
        RecordKind::InternshipBases => "internship-bases",
        RecordKind::Agreements => "agreements",
    }
}

/// An `id` cell as the id it keeps: a UUID v7, as the server makes every id (an
/// export's ids are), in the hyphenated form the API writes. Any other UUID (the
/// nil UUID, a v4 from elsewhere) would be a record the server could not have made.
fn record_id(cell: &str) -> Result<String, String> {
    let id = cell
        .parse::<uuid::fmt::Hyphenated>()
        .map_err(|_| format!("`{cell}` is not a UUID"))?
        .into_uuid();
    if id.get_version() == Some(uuid::Version::SortRand) {
        Ok(id.hyphenated().to_string())
    } else {
        Err(format!(
            "`{cell}` is not a UUID v7: ids are made by the server, and an import keeps only an id it made"
        ))
    }
}

fn integer(cell: &str) -> Option<i64> {
    cell.parse().ok().or_else(|| {
        // `12.0`, as spreadsheets write whole numbers.
        let float: f64 = cell.parse().ok()?;
        (float.fract() == 0.0 && float.abs() < 1e15).then_some(float as i64)
    })
}

fn boolean(cell: &str) -> Option<bool> {
    match cell.to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" | "允许" => Some(true),
        "false" | "no" | "n" | "0" | "否" | "不允许" => Some(false),
        _ => None,
    }
}

/// `YYYY/MM/DD` and `YYYY.MM.DD` as `YYYY-MM-DD`; anything else as it is, for the
/// API's check to explain.
fn date(cell: &str) -> String {
    ["%Y/%m/%d", "%Y.%m.%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(cell, format).ok())
        .map_or_else(|| cell.to_string(), |d| d.to_string())
}

/// A date-time without an offset, in `offset`, as RFC 3339; anything else as it is.
fn date_time(cell: &str, offset: FixedOffset) -> String {
    if DateTime::parse_from_rfc3339(cell).is_ok() {
        return cell.to_string();
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(cell, format).ok())
    .and_then(|t| t.and_local_timezone(offset).single())
    .map_or_else(|| cell.to_string(), |t| t.to_rfc3339())
}

/// One item of a list cell: what it names, and a participant's role.
struct Item {
    name: String,
    role: Option<String>,
}

/// A list cell: a JSON list as exports write it (strings, or objects with `id` and
/// maybe `role`), or items separated by `;`, `；` or line breaks, each maybe
/// `name:role`. `None` when it is JSON but not such a list.
fn list(cell: &str) -> Option<Vec<Item>> {
    if cell.starts_with('[') {
        let Ok(Value::Array(values)) = serde_json::from_str::<Value>(cell) else {
            return None;
        };
        return values
            .into_iter()
            .map(|v| match v {
                Value::String(name) => Some(Item { name, role: None }),
                Value::Object(o) => {
                    let name = o
                        .get("participant_id")
                        .or_else(|| o.get("id"))
                        .and_then(Value::as_str)?
                        .to_string();
                    let role = o.get("role").and_then(Value::as_str).map(str::to_string);
                    Some(Item { name, role })
                }
                _ => None,
            })
            .collect();
    }
    Some(
        cell.split([';', '；', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.rsplit_once([':', '：']) {
                Some((name, role)) if !name.trim().is_empty() => Item {
                    name: name.trim().to_string(),
                    role: Some(role.trim().to_string()),
                },
                _ => Item {
                    name: s.to_string(),
                    role: None,
                },
            })
            .collect(),
    )
}

/// A participant's role: as given, or from its Chinese label; `attendee` when none is.
fn role(given: Option<&str>) -> String {
    const LABELS: &[(&str, &str)] = &[
        ("主持", "host"),
        ("主持人", "host"),
        ("接待", "host"),
        ("嘉宾", "guest"),
        ("来宾", "guest"),
        ("主讲", "speaker"),
        ("发言", "speaker"),
        ("参加", "attendee"),
        ("参会", "attendee"),
    ];
    match given {
        None | Some("") => "attendee".to_string(),
        Some(role) => LABELS
            .iter()
            .find(|(label, _)| *label == role)
            .map_or(role, |(_, value)| value)
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse() {
        assert_eq!(
            parse_offset("+08:00").map(|o| o.local_minus_utc()),
            Ok(8 * 3600)
        );
        assert_eq!(
            parse_offset("-0530").map(|o| o.local_minus_utc()),
            Ok(-(5 * 3600 + 1800))
        );
        assert_eq!(parse_offset("Z").map(|o| o.local_minus_utc()), Ok(0));
        assert!(parse_offset("8").is_err());
    }

    #[test]
    fn cells_convert() {
        let east8 = parse_offset("+08:00").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            date_time("2025-03-01 09:30", east8),
            "2025-03-01T09:30:00+08:00"
        );
        assert_eq!(
            date_time("2025-03-01T01:30:00Z", east8),
            "2025-03-01T01:30:00Z"
        );
        assert_eq!(date_time("soon", east8), "soon");
        assert_eq!(date("2025/3/1"), "2025-03-01");
        assert_eq!(date("2025-03-01"), "2025-03-01");
        assert_eq!(integer("12.0"), Some(12));
        assert_eq!(integer("12.5"), None);
        assert_eq!(boolean("是"), Some(true));
        assert_eq!(boolean("maybe"), None);
        assert_eq!(role(Some("主持人")), "host");
        assert_eq!(role(None), "attendee");
    }

    #[test]
    fn only_server_made_ids_are_kept() {
        let v7 = uuid::Uuid::now_v7().hyphenated().to_string();
        assert_eq!(record_id(&v7.to_uppercase()), Ok(v7.clone()));
        for refused in [
            uuid::Uuid::nil().hyphenated().to_string(),
            "0f8fad5b-d9cb-469f-a165-70867728950e".to_string(),
            v7.replace('-', ""),
            format!("{{{v7}}}"),
            "not-an-id".to_string(),
        ] {
            assert!(record_id(&refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn lists_split() {
        let names = |cell: &str| {
            list(cell).map(|items| {
                items
                    .into_iter()
                    .map(|i| (i.name, i.role))
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            names("王芳:host； 李雷"),
            Some(vec![
                ("王芳".to_string(), Some("host".to_string())),
                ("李雷".to_string(), None)
            ])
        );
        assert_eq!(
            names(r#"[{"id":"a","role":"guest"},"b"]"#),
            Some(vec![
                ("a".to_string(), Some("guest".to_string())),
                ("b".to_string(), None)
            ])
        );
        assert_eq!(names("[1, 2]"), None);
        assert_eq!(names("[not json"), None);
    }
}

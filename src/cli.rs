//! The command line: subcommands and every setting, each documented once here.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::db::DatabaseUrl;
use crate::startup::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "liaison",
    version,
    about = "Liaison: the school-enterprise cooperation tracker (JSON REST API)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log line format.
    #[arg(long, env = "LIAISON_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the API until SIGTERM or Ctrl-C
    /// (in-flight requests are finished first).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(MigrateArgs),
    /// Apply pending migrations, then load a demo or a synthetic data set into an
    /// empty database.
    Seed(SeedArgs),
    /// Write every record of one kind, with the list's filters, as CSV or JSON lines,
    /// page by page (constant memory, however many there are).
    Export(ExportArgs),
    /// Read records of one kind from a CSV or xlsx file, checked by the same rules as
    /// the API; bad rows are reported (and written to --rejects), the rest imported.
    #[command(after_long_help = crate::import::headers_help())]
    Import(ImportArgs),
    /// Write a consistent copy of a SQLite database to FILE, safely while `serve`
    /// runs (for PostgreSQL, use `pg_dump`; see the README).
    Backup(BackupArgs),
    /// Create, list and revoke API tokens (works with the database directly, so it
    /// needs no token itself).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub database: ExistingDatabaseArgs,

    /// What to export.
    #[arg(value_enum)]
    pub kind: RecordKind,

    /// Filters and order, as the list endpoint takes them (`status=held`,
    /// `from=2024-01-01`, `enterprise_id=…`, `include_archived=true`, `sort=-starts_at`).
    #[arg(value_name = "PARAMETER=VALUE")]
    pub filters: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::export::Format::Csv)]
    pub format: crate::export::Format,

    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// A kind of record, as exports and imports name it (also the path segment of
/// `/api/v1/imports/{kind}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordKind {
    Enterprises,
    Participants,
    Visits,
    OrderClasses,
    InternshipBases,
    Agreements,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: ExistingDatabaseArgs,

    /// What the file holds.
    #[arg(value_enum)]
    pub kind: RecordKind,

    /// A `.csv` file (UTF-8, comma-separated, a header row first) or an `.xlsx`
    /// workbook (its first sheet, a header row first).
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// `skip-bad` imports the good rows and reports the bad ones; `all-or-nothing`
    /// imports nothing when any row is bad (one transaction).
    #[arg(long, value_enum, default_value_t = crate::import::Mode::SkipBad)]
    pub mode: crate::import::Mode,

    /// What to do with a row whose record exists already (same id; same credit code
    /// or name for an enterprise; see the README for the other kinds): leave the
    /// record as it is, update it with the row's non-empty cells, or reject the row.
    #[arg(long, value_enum, default_value_t = crate::import::OnDuplicate::Skip)]
    pub on_duplicate: crate::import::OnDuplicate,

    /// Write the rejected rows here as CSV, with their reasons in a last column, to
    /// fix and import again as they are.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<std::path::PathBuf>,

    /// The UTC offset of date-times written without one (`2025-03-01 09:30`).
    #[arg(long, default_value = crate::import::DEFAULT_UTC_OFFSET, value_parser = crate::import::parse_offset, allow_hyphen_values = true)]
    pub utc_offset: chrono::FixedOffset,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub database: ExistingDatabaseArgs,

    /// Where to write the copy: a new SQLite file (an existing file is refused).
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it on standard output; it is shown only this once.
    Create(TokenCreateArgs),
    /// List every token (never their secrets).
    List(TokenListArgs),
    /// Revoke a token at once, named by its name or id.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// A name that says who or what uses the token (unique; recorded in the audit
    /// trail as the actor).
    #[arg(long)]
    pub name: String,

    /// `feed` reads only the visits calendar (`/api/v1/visits.ics?token=…`); `viewer`
    /// reads; `officer` also creates, changes, archives, restores and moves stages, and
    /// reads the audit trail; `admin` also manages tokens.
    #[arg(long, value_enum)]
    pub role: RoleArg,

    /// Days until the token expires (default: never).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i64).range(1..=crate::domain::access::MAX_EXPIRES_IN_DAYS))]
    pub expires_in: Option<i64>,
}

#[derive(Debug, Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    pub database: ExistingDatabaseArgs,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    #[command(flatten)]
    pub database: ExistingDatabaseArgs,

    /// The token's name or id.
    #[arg(value_name = "NAME|ID")]
    pub token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Feed,
    Viewer,
    Officer,
    Admin,
}

impl From<RoleArg> for crate::domain::access::Role {
    fn from(role: RoleArg) -> Self {
        use crate::domain::access::Role;
        match role {
            RoleArg::Feed => Role::Feed,
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Officer => Role::Officer,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// The database of a command that creates it when missing (`serve`, `migrate`,
/// `seed`, `token create`).
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database to use: a `postgres://` or `postgresql://` URL selects PostgreSQL;
    /// anything else is a SQLite file path (created when missing, in a folder that
    /// must exist).
    #[arg(long, env = "DATABASE_URL", default_value = "liaison.db", value_parser = database_url)]
    pub database_url: String,
}

/// The database of a command that works on what is stored already (`export`,
/// `import`, `backup`, `token list`, `token revoke`): a missing SQLite file is
/// refused, since a mistyped path would otherwise be a new, empty database.
#[derive(Debug, Args)]
pub struct ExistingDatabaseArgs {
    /// Database to use: a `postgres://` or `postgresql://` URL selects PostgreSQL;
    /// anything else is the path of an existing SQLite file (a missing one is
    /// refused, never created).
    #[arg(long, env = "DATABASE_URL", default_value = "liaison.db", value_parser = database_url)]
    pub database_url: String,
}

/// Refuses a `--database-url` that cannot be what was meant, before anything opens
/// it: an empty one (an unset shell variable) would be SQLite's throwaway temporary
/// database, another scheme (`mysql://`) a file of that name, and a SQLite file in a
/// folder that does not exist cannot be created (the pool would retry it for its
/// whole timeout).
fn database_url(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Err(
            "is empty: give a SQLite file path (such as liaison.db) or a postgres:// URL".into(),
        );
    }
    if let Some((scheme, _)) = raw.split_once("://") {
        if !matches!(scheme, "postgres" | "postgresql" | "sqlite" | "file") {
            return Err(format!(
                "`{scheme}://` is not a database Liaison can use: give a SQLite file path or a \
                 postgres:// URL"
            ));
        }
    }
    let url = DatabaseUrl::parse(raw);
    if url.backend == crate::db::Backend::Sqlite && !url.url.starts_with("file:") {
        let folder = folder_of(std::path::Path::new(&url.url));
        if !folder.is_dir() {
            return Err(format!(
                "the folder {} of the SQLite database does not exist",
                folder.display()
            ));
        }
    }
    Ok(raw.to_string())
}

/// The folder a file named `path` is (or would be) in: its parent, or the working
/// folder for a bare file name.
pub fn folder_of(path: &std::path::Path) -> &std::path::Path {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => std::path::Path::new("."),
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on.
    #[arg(long, env = "LIAISON_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Most database connections to keep open [default: on SQLite twice the CPU
    /// cores, 4 to 16, each with a 3 MiB page cache; on PostgreSQL 8].
    #[arg(long, env = "LIAISON_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool_size: Option<u32>,

    /// Seconds a request waits for a free database connection before a 503.
    #[arg(long, env = "LIAISON_POOL_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub pool_timeout: u64,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "LIAISON_WORKERS", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub workers: Option<u64>,

    /// Seconds that shutdown waits for in-flight requests.
    #[arg(long, env = "LIAISON_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,

    /// Browser origins allowed to call the API (CORS), comma-separated, e.g.
    /// `https://liaison.example.edu`. Default: none, so browsers on other origins are
    /// refused; `*` is not accepted.
    #[arg(long = "cors-origin", env = "LIAISON_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing more.
fn parse_origin(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not an origin: {e}"))?;
    let origin = url.origin();
    if !origin.is_tuple() || !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{raw}` is not an http(s) origin"));
    }
    let serialised = origin.ascii_serialization();
    if serialised != raw.trim_end_matches('/') {
        return Err(format!(
            "`{raw}` is not an origin; did you mean `{serialised}`?"
        ));
    }
    Ok(serialised)
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// List applied and pending migrations instead of applying them.
    #[arg(long)]
    pub status: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("data").required(true).args(["demo", "synthetic"]))]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Load the demo: the Shanghai Carbonbay Industrial Park visit of 29 November
    /// 2024 with its people, order class and proposed internship base, plus a few
    /// other partners, visits and agreements.
    #[arg(long)]
    pub demo: bool,

    /// Generate N enterprises with about 3 people, 25 visits, 1/4 order class,
    /// 1/4 internship base and 1/2 agreement each, plus N/10 college staff.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub synthetic: Option<u64>,

    /// Seed of the synthetic generator: the same seed on the same day gives the
    /// same data (default: a random seed, printed at the end).
    // `requires` alone lets `--demo --rng-seed 5` through (clap counts the required
    // group `data` as met), so the demo, which has no use for a seed, is named too.
    #[arg(
        long,
        value_name = "S",
        requires = "synthetic",
        conflicts_with = "demo"
    )]
    pub rng_seed: Option<u64>,

    /// Seed a database that already has enterprises: the data is added beside
    /// them. The demo still stops if one of its enterprise names is taken; the
    /// synthetic set avoids taken names and credit codes.
    #[arg(long)]
    pub force: bool,
}

impl ServeArgs {
    pub fn settings(&self) -> Settings {
        let database = DatabaseUrl::parse(&self.database.database_url);
        Settings {
            pool_size: self
                .pool_size
                .unwrap_or_else(|| database.backend.default_pool_size()),
            database,
            bind: self.bind.clone(),
            pool_timeout: Duration::from_secs(self.pool_timeout),
            workers: self.workers.map(|w| w as usize),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
            cors_origins: self.cors_origins.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Backend;

    fn serve(args: &[&str]) -> Settings {
        let cli = Cli::try_parse_from([&["liaison", "serve"], args].concat()).expect("arguments");
        match cli.command {
            Command::Serve(serve) => serve.settings(),
            other => panic!("not serve: {other:?}"),
        }
    }

    /// `--rng-seed` is refused where nothing is generated: with `--demo`, or alone.
    #[test]
    fn a_seed_for_the_generator_needs_the_generator() {
        let seed = |args: &[&str]| Cli::try_parse_from([&["liaison", "seed"], args].concat());
        for refused in [&["--demo", "--rng-seed", "5"][..], &["--rng-seed", "5"]] {
            let error = seed(refused).expect_err("refused");
            assert!(
                matches!(
                    error.kind(),
                    clap::error::ErrorKind::ArgumentConflict
                        | clap::error::ErrorKind::MissingRequiredArgument
                ),
                "{refused:?}: {error}"
            );
            assert!(error.to_string().contains("--rng-seed"), "{error}");
        }
        seed(&["--synthetic", "10", "--rng-seed", "5"]).expect("accepted");
        seed(&["--demo"]).expect("accepted");
    }

    /// Each command's `--database-url` says whether a missing SQLite file is made.
    #[test]
    fn the_database_help_says_whether_a_missing_file_is_created() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        cli.build();
        for (path, created) in [
            (&["serve"][..], true),
            (&["migrate"], true),
            (&["seed"], true),
            (&["token", "create"], true),
            (&["export"], false),
            (&["import"], false),
            (&["backup"], false),
            (&["token", "list"], false),
            (&["token", "revoke"], false),
        ] {
            let command = path.iter().fold(&cli, |command, name| {
                command
                    .find_subcommand(name)
                    .unwrap_or_else(|| panic!("no command {name}"))
            });
            let help = command
                .get_arguments()
                .find(|a| a.get_id() == "database_url")
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert_eq!(
                help.contains("created when missing"),
                created,
                "{path:?}: {help}"
            );
            assert_eq!(help.contains("refused"), !created, "{path:?}: {help}");
        }
    }

    /// Run without `LIAISON_POOL_SIZE` in the environment (it stands in for the flag).
    #[test]
    fn the_pool_size_defaults_by_backend_and_the_flag_wins() {
        if std::env::var_os("LIAISON_POOL_SIZE").is_some() {
            eprintln!("LIAISON_POOL_SIZE is set: the pool size defaults were not checked");
            return;
        }
        let sqlite = serve(&["--database-url", "liaison.db"]);
        assert_eq!(sqlite.pool_size, Backend::Sqlite.default_pool_size());
        let postgres = serve(&["--database-url", "postgres://127.0.0.1/liaison"]);
        assert_eq!(postgres.pool_size, 8);
        let given = serve(&["--database-url", "liaison.db", "--pool-size", "3"]);
        assert_eq!(given.pool_size, 3);
    }
}

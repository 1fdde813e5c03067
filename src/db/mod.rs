//! Database access: connections to either backend, the pool, migrations, transactions.

pub mod access;
pub mod agreements;
pub mod bulk;
pub mod enterprises;
pub mod internship_bases;
pub(crate) mod lifecycle;
mod one_of;
pub mod order_classes;
mod parsed;
pub mod participants;
mod references;
pub mod reports;
pub mod schema;
mod stamp;
pub mod timeline;
pub mod transitions;
pub mod visits;
pub mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::domain::DomainError;

/// A connection to whichever backend `DATABASE_URL` names; queries are written once.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs work written once on the backend's own connection: `native!(conn, |c| {
/// query.first(c) })` expands it once per backend, so a query must be built inside
/// it, for that backend. What `DbConn` cannot do goes this way (a `UNION`, the
/// transaction manager), and so do the hot reads: through `DbConn`, diesel's
/// multi-connection layer renders a query's whole SQL text twice per run, even when
/// it has the statement prepared and cached, while the backend's connection finds
/// it in its cache by its type. A read by id answers about a third more requests
/// per second this way (docs/PERFORMANCE.md, sixth round).
macro_rules! native {
    ($conn:expr, |$c:ident| $query:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $query,
            $crate::db::DbConn::Sqlite($c) => $query,
        }
    };
}
pub(crate) use native;

/// The row of `$table` whose primary key is `$key`, if there is one, read with
/// `native!`: `row_by_id!(conn, enterprises::table, EnterpriseRow, &key)`.
macro_rules! row_by_id {
    ($conn:expr, $table:path, $row:ty, $key:expr) => {
        $crate::db::native!($conn, |c| {
            $table
                .find($key)
                .select(<$row>::as_select())
                .first::<$row>(c)
        })
        .optional()
    };
}
pub(crate) use row_by_id;

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;
/// Page cache of each SQLite connection, in KiB. A page of 50 visits reads some 500
/// pages of 4 KiB (the visits and each one's links, scattered over the file); a
/// cache that holds them all serves the same page again from memory, one that holds
/// fewer evicts each page before it is read again and goes to the OS for all of
/// them (0.6–0.9 ms more a page at 1 MiB; docs/PERFORMANCE.md, eighth round).
const SQLITE_CACHE_KIB: u32 = 3 * 1024;
/// Arbitrary key of the PostgreSQL advisory lock that serialises concurrent migrators.
const MIGRATION_LOCK_KEY: i64 = 0x4c69_6169_736f_6e01;
/// Key of the advisory lock taken while changing enterprise parents (cycle checks).
pub(crate) const HIERARCHY_LOCK_KEY: i64 = 0x4c69_6169_736f_6e02;
/// Key of the advisory lock an import batch holds from its duplicate lookups to its
/// commit, so that two imports of one file cannot both find a row new.
pub(crate) const IMPORT_LOCK_KEY: i64 = 0x4c69_6169_736f_6e03;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The pool's size when none is given. SQLite reads are work for this machine's
    /// cores, and each connection keeps a page cache of its own, so twice the cores
    /// (4 to 16, at most 48 MiB of caches) keep them busy without holding the same
    /// pages many times over. A PostgreSQL connection mostly waits on the server, so
    /// more of them pay.
    pub fn default_pool_size(self) -> u32 {
        match self {
            Backend::Sqlite => {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                u32::try_from(cores.saturating_mul(2).clamp(4, 16)).unwrap_or(16)
            }
            Backend::Postgres => 8,
        }
    }
}

/// A parsed `DATABASE_URL`: `postgres://`/`postgresql://` selects PostgreSQL, anything
/// else is a SQLite file path (an optional `sqlite://` prefix is stripped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    pub url: String,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Self {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Self {
                backend: Backend::Postgres,
                url: raw.to_string(),
            };
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        Self {
            backend: Backend::Sqlite,
            url: path.to_string(),
        }
    }

    /// Refuses a SQLite database whose file is not there, for the commands that
    /// work on what is already stored (backup, export, token list and revoke): a
    /// mistyped path would otherwise make an empty database to answer from. A
    /// PostgreSQL database is left to the connection to find.
    pub fn require_existing(&self) -> Result<(), String> {
        if self.backend == Backend::Sqlite && !std::path::Path::new(&self.url).exists() {
            return Err(format!("there is no database at {}", self.url));
        }
        Ok(())
    }

    /// The URL with any password hidden, for logs and messages.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Postgres => hide_passwords(&self.url),
            Backend::Sqlite => self.url.clone(),
        }
    }
}

/// Replaces with `***` each password of a PostgreSQL URL that libpq would read: the
/// one in `user:password@` and the value of any `password=` query parameter. The URL
/// is cut as libpq cuts it, not as a WHATWG URL, so that one libpq takes and the `url`
/// crate does not (several hosts, `h1:5432,h2:5432`) is hidden too; where the two
/// could differ (an `@`, `?` or `:` left unescaped in a password), more is hidden.
fn hide_passwords(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The user and password come before the last `@` ahead of the first `/`.
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let rest = match authority.rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{user}:***{}", &rest[at..]),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    let hidden = match rest.split_once('?') {
        None => rest,
        Some((location, query)) => {
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    // A name with `%XX` escapes is decoded, as libpq decodes it.
                    Some((key, _)) if is_password(key) => format!("{key}=***"),
                    _ => parameter.to_string(),
                })
                .collect();
            format!("{location}?{}", parameters.join("&"))
        }
    };
    format!("{scheme}://{hidden}")
}

/// Whether a query parameter's name, `%XX` escapes decoded, is `password`. (Form
/// decoding also reads `+` as a space, which no spelling of `password` holds.)
fn is_password(name: &str) -> bool {
    url::form_urlencoded::parse(name.as_bytes()).any(|(name, _)| name == "password")
}

/// How long an answer from PostgreSQL vouches for its connection: within it, the
/// pool hands the connection out again without a `SELECT 1` first, a round trip that
/// was about a quarter of a read by id. HikariCP's bypass window is the same 500 ms.
const ANSWER_VOUCHES_FOR: Duration = Duration::from_millis(500);

/// Opens connections for the pool, set up for concurrent use.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// How many connections the pool has found gone: a loss voids every vouch made
    /// before it, since the others likely went the same way (a server restart).
    losses: Arc<AtomicU64>,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            losses: Arc::default(),
        }
    }

    /// A connection of its own, outside the pool (the SQLite writer's).
    pub fn open(&self) -> Result<DbConn, r2d2::Error> {
        match self.url.backend {
            Backend::Postgres => PgConnection::establish(&self.url.url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.url)
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: switching to WAL itself may wait for another connection.
                // synchronous = FULL: a commit is on disk when it returns (NORMAL in WAL
                // mode may lose the last commits to a power cut; see docs/PERFORMANCE.md).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        // Not vouched for until it answers: the server may end a session just as
        // it opened (a restart under way).
        Ok(Pooled {
            conn: self.open()?,
            answered: None,
            lost: false,
            losses: self.losses.clone(),
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), r2d2::Error> {
        if conn.vouched_for() {
            return Ok(());
        }
        let losses = self.losses.load(Ordering::Relaxed);
        match conn.conn.batch_execute("SELECT 1") {
            Ok(()) => {
                conn.answered = Some((Instant::now(), losses));
                Ok(())
            }
            Err(e) => {
                self.losses.fetch_add(1, Ordering::Relaxed);
                Err(r2d2::Error::QueryError(e))
            }
        }
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        if conn.lost {
            return true;
        }
        // A failed rollback may be a connection gone too (its error is kept, not
        // this one): the others are checked again, to be safe.
        let broken = is_broken(&mut conn.conn);
        if broken {
            self.losses.fetch_add(1, Ordering::Relaxed);
        }
        broken
    }
}

/// Whether a connection's transaction state is unknown (a failed rollback, a panic
/// inside a transaction), so that it must not be used again.
pub fn is_broken(conn: &mut DbConn) -> bool {
    native!(conn, |c| {
        AnsiTransactionManager::is_broken_transaction_manager(c)
    })
}

/// A pooled connection, with what the pool has seen of its health.
pub struct Pooled {
    conn: DbConn,
    /// When the server last answered on it, and the pool's count of losses then.
    answered: Option<(Instant, u64)>,
    /// A statement found the connection gone: the pool drops it when it comes back.
    lost: bool,
    losses: Arc<AtomicU64>,
}

impl Pooled {
    /// Records how a piece of work on this connection ended: its success vouches
    /// for the connection for a moment; a lost connection is dropped, and every
    /// other is checked before its next use.
    pub fn note<T>(&mut self, outcome: &Result<T>) {
        match outcome {
            Ok(_) => self.answered = Some((Instant::now(), self.losses.load(Ordering::Relaxed))),
            Err(e) if e.is_lost_connection() => {
                self.lost = true;
                self.losses.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }

    fn vouched_for(&self) -> bool {
        self.answered.is_some_and(|(at, losses)| {
            losses == self.losses.load(Ordering::Relaxed) && at.elapsed() < ANSWER_VOUCHES_FOR
        })
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// Builds the pool; fails when the database cannot be reached within `timeout`.
pub fn pool(url: &DatabaseUrl, size: u32, timeout: Duration) -> Result<Pool, r2d2::PoolError> {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(timeout)
        // A PostgreSQL connection can die with the server or the network, and is
        // checked (`SELECT 1`) before use, unless the server answered on it within
        // the last moment (`Pooled::note`), so that a dead one is replaced rather
        // than failing a request. A SQLite connection is a file handle that does
        // not go away: the check was a statement per request for nothing.
        .test_on_check_out(url.backend == Backend::Postgres)
        .build(ConnectionManager::new(url.clone()))
}

/// The one connection a command-line run (`migrate`, `seed`, `token`, `import`,
/// `export`, `backup`) works on, opened directly rather than through a pool:
/// - a database that cannot be reached (a misspelt PostgreSQL database, a refused
///   password, a server that is down) is reported at once by its cause, not after
///   the pool has retried it for ten seconds with an error line each time;
/// - no pool thread is left connecting when the command fails and the process exits,
///   which libpq's Kerberos library can answer with an abort.
pub fn connect_for_command(
    url: &DatabaseUrl,
) -> Result<DbConn, Box<dyn std::error::Error + Send + Sync>> {
    Ok(ConnectionManager::new(url.clone())
        .open()
        .map_err(|e| format!("cannot open the database {}: {e}", url.redacted()))?)
}

/// Runs `f` in a transaction that holds the write lock from the start: on SQLite
/// `BEGIN IMMEDIATE`, so that concurrent writers queue on the busy timeout instead of
/// failing with "database is locked" when a read lock cannot be upgraded.
pub fn write<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<QueryError>,
{
    let nested = in_transaction(conn)?;
    if nested && UNGUARDED.get() != Guard::Savepoints {
        // Inside a change run without savepoints (see `unguarded`): a failure here
        // sends the whole change back to be run again with them.
        let result = f(conn);
        if result.is_err() {
            UNGUARDED.set(Guard::Failed);
        }
        return result;
    }
    match conn {
        // Nested inside another write (a change and its audit entry): a savepoint.
        DbConn::Sqlite(c) if nested => AnsiTransactionManager::begin_transaction(c)?,
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    let outcome = f(conn);
    end_transaction(conn, outcome)
}

/// Runs `f` in one read-only transaction, so that all its queries see the database
/// as it was at the first: REPEATABLE READ on PostgreSQL; on SQLite a plain `BEGIN`,
/// which in WAL mode reads one snapshot until it ends, and lets writers go on. Used
/// where a read of many queries must not see changes made between them (an export
/// read page by page). Inside a transaction already, `f` runs in it.
pub fn snapshot<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<QueryError>,
{
    if in_transaction(conn)? {
        return f(conn);
    }
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        )?,
    }
    // Read only: a rollback and a commit end it alike; a commit is the ordinary end.
    let outcome = f(conn);
    end_transaction(conn, outcome)
}

/// Ends the transaction `outcome` was worked out in: commits it after a success,
/// rolls it back after a failure (a rollback that fails too is logged, and the
/// failure that caused it returned).
fn end_transaction<T, E>(conn: &mut DbConn, outcome: Result<T, E>) -> Result<T, E>
where
    E: From<QueryError>,
{
    match outcome {
        Ok(value) => {
            native!(conn, |c| AnsiTransactionManager::commit_transaction(c))?;
            Ok(value)
        }
        Err(error) => {
            let rolled_back = native!(conn, |c| AnsiTransactionManager::rollback_transaction(c));
            if let Err(rollback_error) = rolled_back {
                tracing::warn!(error = %rollback_error, "rollback failed");
            }
            Err(error)
        }
    }
}

/// How a `write` nested in a transaction on this thread keeps a failure from the
/// rest of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// A savepoint each, rolled back alone.
    Savepoints,
    /// None: the caller rolls back everything when one fails.
    Trusting,
    /// None, and one has failed.
    Failed,
}

thread_local! {
    static UNGUARDED: std::cell::Cell<Guard> = const { std::cell::Cell::new(Guard::Savepoints) };
}

/// Runs `work` as one transaction: first with the `write`s nested in it making no
/// savepoints, which on PostgreSQL are two round trips each; when one of those
/// failed (even if `work` caught the failure and went on), the transaction is
/// rolled back and `work` runs again with savepoints, so that what a caught
/// failure left half done is undone alone. Only the committed run counts.
pub fn write_once<T>(
    conn: &mut DbConn,
    mut work: impl FnMut(&mut DbConn) -> Result<T>,
) -> Result<T> {
    let (outcome, failed) = unguarded(|| {
        write(conn, |conn| {
            let value = work(conn)?;
            if unguarded_failed() {
                // Not to be committed: the second run below decides.
                return Err(Error::Unwritten("a nested change failed".into()));
            }
            Ok(value)
        })
    });
    // A connection whose rollback failed (it was lost mid-change) is not run on
    // again: its first error says what happened.
    if failed && in_transaction(conn).is_ok() {
        write(conn, |conn| work(conn))
    } else {
        outcome
    }
}

/// Runs `f` with nested `write`s on this thread making no savepoints; returns its
/// result and whether any nested `write` failed (whether or not `f` went on after
/// it), in which case the caller must roll back everything `f` wrote.
pub(crate) fn unguarded<T>(f: impl FnOnce() -> T) -> (T, bool) {
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            UNGUARDED.set(Guard::Savepoints);
        }
    }
    let _restore = Restore;
    UNGUARDED.set(Guard::Trusting);
    let result = f();
    (result, unguarded_failed())
}

/// Whether a nested `write` has failed so far in the current `unguarded` run.
pub(crate) fn unguarded_failed() -> bool {
    UNGUARDED.get() == Guard::Failed
}

fn in_transaction(conn: &mut DbConn) -> Result<bool, QueryError> {
    let depth = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        DbConn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
    }
    .transaction_depth()?;
    Ok(depth.is_some())
}

/// Takes a transaction-scoped lock that serialises one kind of change across
/// connections and processes. SQLite writers are serialised already.
pub fn serialise(conn: &mut DbConn, key: i64) -> Result<(), QueryError> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(key)
            .execute(c)?;
    }
    Ok(())
}

pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations; returns the names of those applied. Safe to run from
/// several processes at once. Refuses a database that has a migration this binary
/// does not know ([`NewerDatabase`]).
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, MigrationError> {
    match conn {
        DbConn::Sqlite(_) => write(conn, |conn| match conn {
            DbConn::Sqlite(c) => apply(c, SQLITE_MIGRATIONS),
            DbConn::Pg(_) => unreachable_backend(),
        }),
        DbConn::Pg(_) => write(conn, |conn| {
            serialise(conn, MIGRATION_LOCK_KEY)?;
            match conn {
                DbConn::Pg(c) => apply(c, PG_MIGRATIONS),
                DbConn::Sqlite(_) => unreachable_backend(),
            }
        }),
    }
}

fn unreachable_backend<T>() -> Result<T, MigrationError> {
    Err("connection changed backend inside a transaction".into())
}

fn apply<C>(conn: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>, MigrationError>
where
    C: MigrationHarness<C::Backend> + Connection,
    EmbeddedMigrations: MigrationSource<C::Backend>,
{
    let unknown = unknown_migrations(conn, &source)?;
    if !unknown.is_empty() {
        return Err(Box::new(NewerDatabase(unknown)));
    }
    let applied = conn.run_pending_migrations(source)?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// The database has migrations applied that this binary does not have: a newer
/// Liaison wrote it. Its tables may have changed in ways this binary's queries do
/// not expect, and diesel would go on as if all were well, so it is refused.
#[derive(Debug)]
pub struct NewerDatabase(pub Vec<String>);

impl std::error::Error for NewerDatabase {}

impl std::fmt::Display for NewerDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [one] => write!(
                f,
                "the database has migration {one}, which this liaison does not know: it was \
                 written by a newer version"
            ),
            many => write!(
                f,
                "the database has migrations {}, which this liaison does not know: it was \
                 written by a newer version",
                many.join(", ")
            ),
        }
    }
}

/// The versions of applied migrations that `source` does not have, oldest first.
fn unknown_migrations<C>(
    conn: &mut C,
    source: &EmbeddedMigrations,
) -> Result<Vec<String>, MigrationError>
where
    C: MigrationHarness<C::Backend> + Connection,
    EmbeddedMigrations: MigrationSource<C::Backend>,
{
    let known: Vec<_> = MigrationSource::<C::Backend>::migrations(source)?
        .iter()
        .map(|m| m.name().version().as_owned())
        .collect();
    let mut unknown: Vec<String> = conn
        .applied_migrations()?
        .into_iter()
        .filter(|version| !known.contains(version))
        .map(|version| version.to_string())
        .collect();
    unknown.sort();
    Ok(unknown)
}

/// Where a migration stands in a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    Applied,
    Pending,
    /// Applied, but not one of this binary's: a newer Liaison's.
    Unknown,
}

/// One migration and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The migration's name, or only its version when it is not one of this binary's.
    pub name: String,
    pub state: MigrationState,
}

pub fn migration_status(conn: &mut DbConn) -> Result<Vec<MigrationStatus>, MigrationError> {
    match conn {
        DbConn::Sqlite(c) => status(c, SQLITE_MIGRATIONS),
        DbConn::Pg(c) => status(c, PG_MIGRATIONS),
    }
}

fn status<C>(
    conn: &mut C,
    source: EmbeddedMigrations,
) -> Result<Vec<MigrationStatus>, MigrationError>
where
    C: MigrationHarness<C::Backend> + Connection,
    EmbeddedMigrations: MigrationSource<C::Backend>,
{
    let unknown = unknown_migrations(conn, &source)?;
    let applied = conn.applied_migrations()?;
    let all = MigrationSource::<C::Backend>::migrations(&source)?;
    let mut list: Vec<MigrationStatus> = all
        .iter()
        .map(|m| MigrationStatus {
            name: m.name().to_string(),
            state: if applied.contains(&m.name().version()) {
                MigrationState::Applied
            } else {
                MigrationState::Pending
            },
        })
        .collect();
    list.extend(unknown.into_iter().map(|name| MigrationStatus {
        name,
        state: MigrationState::Unknown,
    }));
    Ok(list)
}

/// Everything a database operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database error: {0}")]
    Query(#[from] QueryError),
    #[error("no database connection available: {0}")]
    Unavailable(#[from] r2d2::PoolError),
    /// A stored value that the code cannot read: a bug or a hand-edited database.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A change that was run but not committed (its batch's commit failed), or
    /// could not be run: nothing of it was saved.
    #[error("the change was not saved: {0}")]
    Unwritten(String),
}

impl Error {
    /// The connection went away under the statement (the server or the network).
    pub fn is_lost_connection(&self) -> bool {
        matches!(
            self,
            Error::Query(QueryError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _
            ))
        )
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Error::Query(QueryError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a database error message says that SQLite's busy timeout ran out while
/// another connection held the write lock (SQLITE_BUSY, which diesel does not
/// classify): the database is overloaded, not broken.
pub fn is_busy(message: &str) -> bool {
    message == "database is locked"
}

/// Parses a stored value, reporting a corrupt row instead of panicking.
pub(crate) fn stored<T: std::str::FromStr>(column: &str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| Error::Corrupt(format!("{column} = {value:?}: {e}")))
}

pub(crate) fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// Orders a boxed query by `column` then `id`, starting after the cursor's row:
/// keyset pagination, whose cost does not grow with the depth of the page. The
/// bound on `column` alone repeats what the `OR` says, because neither SQLite nor
/// PostgreSQL starts an index range from an `OR`: without it a deep page walked
/// the index from the start of the filtered range to the cursor.
macro_rules! keyset {
    ($query:expr, $column:expr, $id:expr, $descending:expr, $after:expr) => {{
        let mut query = $query;
        if let Some((value, id)) = $after {
            query = if $descending {
                query.filter($column.le(value.clone())).filter(
                    $column
                        .lt(value.clone())
                        .or($column.eq(value).and($id.lt(id))),
                )
            } else {
                query.filter($column.ge(value.clone())).filter(
                    $column
                        .gt(value.clone())
                        .or($column.eq(value).and($id.gt(id))),
                )
            };
        }
        if $descending {
            query.order(($column.desc(), $id.desc()))
        } else {
            query.order(($column.asc(), $id.asc()))
        }
    }};
}
pub(crate) use keyset;

/// The bounds a period filter (`from` inclusive, `to` exclusive) still needs beside a
/// keyset page on the same column: an ascending page's cursor bounds the column from
/// below at least as tightly as a `from` it is past, a descending page's from above
/// as a `to` it is before. Dropping the looser bound matters: SQLite (built without
/// STAT4) cannot tell which of two lower bounds is tighter and may start its index
/// range at the period's start, reading everything up to a cursor deep in it.
pub(crate) fn period_beside_cursor(
    from: Option<chrono::NaiveDateTime>,
    to: Option<chrono::NaiveDateTime>,
    after: Option<&(chrono::NaiveDateTime, String)>,
    descending: bool,
) -> (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) {
    match after {
        Some((cursor, _)) if !descending && from.is_some_and(|f| *cursor >= f) => (None, to),
        Some((cursor, _)) if descending && to.is_some_and(|t| *cursor < t) => (from, None),
        _ => (from, to),
    }
}

/// The cursor spelling of a timestamp sort value.
pub(crate) fn cursor_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Where a page sorted by a text key starts: the cursor's value and id.
pub(crate) fn after_text(after: Option<&crate::domain::page::Cursor>) -> Option<(String, String)> {
    after.map(|c| (c.value.clone(), c.id.clone()))
}

/// Where a page sorted by a timestamp starts; a tampered cursor is a 400.
pub(crate) fn after_time(
    after: Option<&crate::domain::page::Cursor>,
) -> Result<Option<(chrono::NaiveDateTime, String)>> {
    after
        .map(|c| parse_cursor_time(&c.value).map(|t| (t, c.id.clone())))
        .transpose()
}

/// Reads a cursor's timestamp back; a tampered cursor is the client's mistake.
/// Its year is one a stored instant can have (0001–9999): SQLite compares instants
/// as text, where `+10000-…` sorts before `0001-…`.
pub(crate) fn parse_cursor_time(value: &str) -> Result<chrono::NaiveDateTime> {
    use chrono::Datelike;
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or_else(bad_cursor)
}

pub(crate) fn bad_cursor() -> Error {
    Error::Domain(DomainError::BadRequest(vec![
        crate::domain::FieldError::new(
            "cursor",
            "invalid_cursor",
            "not a cursor returned by this list",
        ),
    ]))
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern that matches `text` anywhere.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Why a backup could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already; choose a new file (a backup never overwrites)")]
    Exists(String),
    #[error(
        "`liaison backup` copies SQLite databases; for PostgreSQL use pg_dump, e.g. \
         `pg_dump --format=custom --file=liaison.dump \"$DATABASE_URL\"` (see the README)"
    )]
    Postgres,
    #[error("cannot write the backup: {0}")]
    Query(#[from] QueryError),
    #[error("cannot write the backup: {0}")]
    File(#[from] std::io::Error),
}

/// Writes a consistent copy of a SQLite database to `target` with `VACUUM INTO`: it
/// reads one snapshot, so writers carry on (WAL) and the copy is a compact, complete
/// database with no WAL of its own.
///
/// The copy is written beside `target` under a temporary name and given its name
/// only once complete and on disk, so that `target` is a whole backup or is not
/// there: a copy that failed half-way (a full disk) would open as a smaller or an
/// empty database, and would stand in the way of the next attempt.
pub fn backup(conn: &mut DbConn, target: &std::path::Path) -> Result<(), BackupError> {
    if target.exists() {
        return Err(BackupError::Exists(target.display().to_string()));
    }
    let DbConn::Sqlite(c) = conn else {
        return Err(BackupError::Postgres);
    };
    let partial = partial_backup(target)?;
    let made = write_backup(c, &partial).and_then(|()| put_in_place(&partial, target));
    if made.is_err() {
        // What SQLite left of the copy: the file and the journal it wrote it with.
        for leftover in [partial.clone(), with_suffix(&partial, "-journal")] {
            let _ = std::fs::remove_file(leftover);
        }
    }
    made
}

/// The name the copy is written under: hidden, beside `target` (so that the rename
/// stays within one file system), and with the process id, so that two backups to
/// the same name do not write into one file.
fn partial_backup(target: &std::path::Path) -> Result<std::path::PathBuf, BackupError> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a file name", target.display()),
        )
    })?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".{}.partial", std::process::id()));
    Ok(target.with_file_name(partial))
}

fn with_suffix(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn write_backup(conn: &mut SqliteConnection, partial: &std::path::Path) -> Result<(), BackupError> {
    // A copy left by a process of the same id that was killed; VACUUM INTO refuses
    // to write into a file that has pages already.
    match std::fs::remove_file(partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(partial.to_string_lossy().into_owned())
        .execute(conn)?;
    // SQLite does not sync the copy: it is synced before it gets its name, so that a
    // power cut cannot leave `target` named but incomplete.
    std::fs::File::open(partial)?.sync_all()?;
    Ok(())
}

/// Gives the complete copy its name, never replacing a file that appeared there
/// meanwhile: a hard link fails when the name is taken (a rename would replace it).
fn put_in_place(partial: &std::path::Path, target: &std::path::Path) -> Result<(), BackupError> {
    match std::fs::hard_link(partial, target) {
        Ok(()) => {
            // The backup is in place; a temporary left here is only a second name for it.
            let _ = std::fs::remove_file(partial);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        // A file system without hard links: the name was free a moment ago.
        Err(_) if target.exists() => {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        Err(_) => std::fs::rename(partial, target)?,
    }
    // The new name is on disk too, as far as the file system lets a folder be synced.
    let folder = target
        .parent()
        .filter(|f| !f.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let _ = std::fs::File::open(folder).and_then(|f| f.sync_all());
    Ok(())
}

/// Lets SQLite refresh the planner's statistics of tables that have none or have
/// grown much since (`PRAGMA optimize`, whose work SQLite bounds). Without them it
/// plans a grown table as if it were small: a list took the `archived_at` index and
/// sorted every row for each page. PostgreSQL's autovacuum does this by itself.
pub fn optimize(conn: &mut DbConn) -> Result<()> {
    if let DbConn::Sqlite(c) = conn {
        // 0x10002: look at every table, not only those this connection used.
        c.batch_execute("PRAGMA optimize=0x10002")?;
    }
    Ok(())
}

/// Checks that the database answers.
pub fn ping(conn: &mut DbConn) -> Result<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DbConn {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").expect("SQLite"));
        conn.batch_execute("CREATE TABLE t (x INTEGER UNIQUE)")
            .expect("table");
        conn
    }

    fn insert(conn: &mut DbConn, x: i32) -> Result<()> {
        diesel::sql_query("INSERT INTO t VALUES (?)")
            .bind::<diesel::sql_types::Integer, _>(x)
            .execute(conn)?;
        Ok(())
    }

    fn count(conn: &mut DbConn) -> i64 {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM t)",
        ))
        .get_result(conn)
        .expect("count")
    }

    /// The bundled SQLite is built as `.cargo/config.toml` asks: each of these
    /// options cost a large share of the reads' time when it came back (see
    /// docs/PERFORMANCE.md), and nothing else would notice it coming back.
    #[test]
    fn sqlite_is_built_without_the_options_that_slowed_reads() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").expect("SQLite");
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .expect("compile options")
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
        for unwanted in ["ENABLE_STAT4", "ENABLE_MEMORY_MANAGEMENT"] {
            assert!(
                !options.iter().any(|o| o == unwanted),
                "{unwanted} in {options:?}"
            );
        }
    }

    /// Pooled SQLite connections get the page cache a page of visits needs; with
    /// less, a repeated page is read from the OS again (nothing else would notice).
    #[test]
    fn a_sqlite_connection_has_the_page_cache_of_a_page() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("cache.db");
        let manager = ConnectionManager::new(DatabaseUrl::parse(&path.to_string_lossy()));
        let mut conn = manager.open().expect("SQLite");
        let size = diesel::sql_query("PRAGMA cache_size")
            .get_result::<bulk::CacheSize>(&mut conn)
            .expect("cache size")
            .cache_size;
        assert_eq!(size, -i64::from(SQLITE_CACHE_KIB));
        assert_eq!(SQLITE_CACHE_KIB, 3 * 1024);
    }

    #[test]
    fn passwords_are_hidden_wherever_libpq_reads_them() {
        for (url, shown) in [
            (
                "postgres://postgres@127.0.0.1:5432/db?password=S3cretQ",
                "postgres://postgres@127.0.0.1:5432/db?password=***",
            ),
            (
                "postgresql://liaison:S3cretQ@db.example.edu/liaison",
                "postgresql://liaison:***@db.example.edu/liaison",
            ),
            (
                "postgres://u:pw@h/db?sslmode=require&password=S3cretQ&application_name=x",
                "postgres://u:***@h/db?sslmode=require&password=***&application_name=x",
            ),
            // Two passwords, one with an unescaped `@`, the other under an escaped
            // name; several hosts.
            (
                "postgres://u:a@b@h1:5432,h2:5432/db?%70assword=S3cretQ",
                "postgres://u:***@h1:5432,h2:5432/db?%70assword=***",
            ),
            ("postgres://h?password=x@y", "postgres://h?password=***"),
            ("postgres://h/db?password=", "postgres://h/db?password=***"),
            // Nothing to hide: shown as given.
            (
                "postgres://postgres@127.0.0.1:5432/db?sslmode=disable&passwords=1",
                "postgres://postgres@127.0.0.1:5432/db?sslmode=disable&passwords=1",
            ),
            ("postgres:///db", "postgres:///db"),
            // A `/` before any `@` ends the authority for libpq: no user there.
            ("postgres://h/db@x", "postgres://h/db@x"),
            // A SQLite path is a file name, whatever it holds.
            (
                "data/pass:word@x?password=1.db",
                "data/pass:word@x?password=1.db",
            ),
        ] {
            assert_eq!(DatabaseUrl::parse(url).redacted(), shown, "{url}");
        }
    }

    #[test]
    fn the_default_pool_follows_the_backend() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let sqlite = Backend::Sqlite.default_pool_size();
        assert_eq!(sqlite as usize, (2 * cores).clamp(4, 16));
        assert_eq!(Backend::Postgres.default_pool_size(), 8);
    }

    #[test]
    fn a_cursor_replaces_only_the_period_bound_it_implies() {
        let at = |day: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 3, day)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("a date")
        };
        let (from, to) = (Some(at(1)), Some(at(20)));
        let cursor = |day| Some((at(day), "id".to_string()));
        // Ascending, past `from`: the cursor bounds from below, `to` stays.
        assert_eq!(
            period_beside_cursor(from, to, cursor(5).as_ref(), false),
            (None, to)
        );
        // Descending, before `to`: the cursor bounds from above, `from` stays.
        assert_eq!(
            period_beside_cursor(from, to, cursor(5).as_ref(), true),
            (from, None)
        );
        // A cursor outside the period (edited by hand) implies nothing: both stay.
        assert_eq!(
            period_beside_cursor(from, to, cursor(25).as_ref(), true),
            (from, to)
        );
        assert_eq!(
            period_beside_cursor(Some(at(10)), to, cursor(5).as_ref(), false),
            (Some(at(10)), to)
        );
        // No cursor: the first page keeps its period.
        assert_eq!(period_beside_cursor(from, to, None, false), (from, to));
    }

    #[test]
    fn a_nested_write_rolls_back_alone_under_savepoints() {
        let mut conn = table();
        write(&mut conn, |conn| {
            let inner = write(conn, |conn| {
                insert(conn, 1)?;
                insert(conn, 1)
            });
            assert!(inner.is_err());
            insert(conn, 2)
        })
        .expect("outer write");
        assert_eq!(count(&mut conn), 1, "only the outer insert is kept");
    }

    #[test]
    fn an_unguarded_failure_is_reported_even_when_caught() {
        let mut conn = table();
        let (outcome, failed) = unguarded(|| {
            write(&mut conn, |conn| {
                let inner = write(conn, |conn| {
                    insert(conn, 1)?;
                    insert(conn, 1)
                });
                assert!(inner.is_err());
                Err::<(), _>(Error::Corrupt("the caller rolls back".into()))
            })
        });
        assert!(outcome.is_err());
        assert!(failed, "the caught failure must send the batch back");
        assert_eq!(count(&mut conn), 0);
        // Savepoints again once the unguarded run is over.
        let (_, failed) = unguarded(|| write(&mut conn, |conn| insert(conn, 3)));
        assert!(!failed);
        write(&mut conn, |conn| {
            let _ = write(conn, |conn| insert(conn, 3));
            insert(conn, 4)
        })
        .expect("outer write");
        assert_eq!(count(&mut conn), 2);
    }
}

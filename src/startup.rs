//! The one way the application is assembled, used by `main` and by the tests.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{middleware::from_fn, web, App, HttpServer};

use crate::db::{self, DatabaseUrl, Pool};
use crate::domain::access::IssuedToken;
use crate::http::{self, extract, AppState};

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseUrl,
    /// `host:port` to listen on; port 0 picks a free port.
    pub bind: String,
    pub pool_size: u32,
    /// How long a request waits for a database connection before a 503.
    pub pool_timeout: Duration,
    /// HTTP worker threads; `None` means one per CPU core.
    pub workers: Option<usize>,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Browser origins allowed to call the API; empty: none.
    pub cors_origins: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot apply migrations: {0}")]
    Migrations(db::MigrationError),
    #[error("cannot create the first API token: {0}")]
    Bootstrap(db::Error),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
}

/// A server bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    bootstrap_token: Option<IssuedToken>,
}

impl Application {
    /// Opens the database, applies pending migrations, binds the listener and, on a
    /// database without any token, makes the first one.
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        // The start's own work is done on a connection of its own, and the pool made
        // only once it has succeeded: a pool opens its connections on threads of its
        // own, and a start that fails (a migration refused, the port taken) would
        // exit while they connect, which libpq's Kerberos library can answer with an
        // abort.
        let mut conn = db::ConnectionManager::new(settings.database.clone())
            .open()
            .map_err(|source| StartupError::Database {
                url: settings.database.redacted(),
                source: source.into(),
            })?;
        let applied = db::migrate(&mut conn).map_err(StartupError::Migrations)?;
        for name in applied {
            tracing::info!(migration = %name, "applied migration");
        }
        // Bound before the first token is made: its secret is printed only by a start
        // that goes on to serve, and a start that cannot listen (the port is taken, the
        // address is mistyped) must not leave a token behind whose secret nobody saw,
        // which would also keep the next start from making one.
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        let bootstrap_token = db::access::bootstrap(&mut conn).map_err(StartupError::Bootstrap)?;
        if let Err(error) = db::optimize(&mut conn) {
            tracing::warn!(%error, "cannot refresh the planner's statistics");
        }
        drop(conn);
        let pool = db::pool(
            &settings.database,
            settings.pool_size,
            settings.pool_timeout,
        )
        .map_err(|source| StartupError::Database {
            url: settings.database.redacted(),
            source: source.into(),
        })?;
        if settings.database.backend == db::Backend::Sqlite {
            keep_statistics_fresh(pool.clone());
        }
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let server = run(listener, pool, settings).map_err(|source| StartupError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        Ok(Self {
            port,
            server,
            bootstrap_token,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `admin` token made because the database had none, if this start made it.
    pub fn bootstrap_token(&self) -> Option<&IssuedToken> {
        self.bootstrap_token.as_ref()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// How often a running service lets SQLite refresh its planner statistics.
const OPTIMIZE_EVERY: Duration = Duration::from_secs(3600);

/// Refreshes the planner's statistics every hour while the service runs, so that
/// plans follow the tables as they grow (see `db::optimize`).
fn keep_statistics_fresh(pool: Pool) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(OPTIMIZE_EVERY);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let pool = pool.clone();
            let refreshed = web::block(move || -> Result<(), String> {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                db::optimize(&mut conn).map_err(|e| e.to_string())
            })
            .await;
            if let Ok(Err(error)) = refreshed {
                tracing::warn!(%error, "cannot refresh the planner's statistics");
            }
        }
    });
}

/// Caps glibc's malloc at two arenas. By default each thread that allocates while
/// another holds an arena gets one of its own, up to eight per core, and freed
/// memory stays in them: under 32 concurrent requests the server's resident memory
/// grew to 130–420 MiB, with two arenas it stays near 60 MiB, and contention in
/// the allocator went down too (docs/PERFORMANCE.md). Call before any thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting; it is called from `main`
    // before the server starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// How often `return_freed_memory` hands freed memory back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Starts a thread that, every second, hands the memory malloc holds free back to
/// the system (`malloc_trim`). glibc returns only the free memory at the top of a
/// heap by itself; what requests free in the middle of one (a page of visits is
/// some hundred KiB of rows and JSON) stays resident until reused, so the server's
/// resident memory would carry each load's high-water mark into the next. Trimming
/// takes each arena's lock for a walk of its free chunks, well under a millisecond
/// at the server's size.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| loop {
                std::thread::sleep(TRIM_EVERY);
                // SAFETY: malloc_trim only releases free memory; it takes the
                // arenas' own locks.
                unsafe {
                    libc::malloc_trim(0);
                }
            });
        if let Err(error) = started {
            tracing::warn!(%error, "cannot start the thread that returns freed memory");
        }
    }
}

/// Sets SQLite up for the server's use of it; call before any connection is opened.
///
/// - Multi-thread mode: a pooled connection is used by one thread at a time, so
///   SQLite's own lock around every call on a connection only costs (futex calls
///   under load, in profiles).
/// - No memory statistics: their upkeep takes one process-wide lock on every
///   allocation SQLite makes, and nothing reads them.
///
/// A setting SQLite refuses (it was already initialised) is logged and left alone.
pub fn configure_sqlite() {
    for (name, option) in [
        (
            "multi-thread mode",
            libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD,
        ),
        (
            "no memory statistics",
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
        ),
    ] {
        // SAFETY: both options are set before SQLite is initialised (no connection
        // is open yet); MEMSTATUS takes one int argument, MULTITHREAD none.
        let code = unsafe {
            if option == libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS {
                libsqlite3_sys::sqlite3_config(option, 0 as std::os::raw::c_int)
            } else {
                libsqlite3_sys::sqlite3_config(option)
            }
        };
        if code != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(setting = name, code, "SQLite refused a setting");
        }
    }
}

/// Builds the HTTP server on an open listener.
pub fn run(listener: TcpListener, pool: Pool, settings: &Settings) -> std::io::Result<Server> {
    let state = web::Data::new(AppState::new(
        pool,
        &settings.database,
        settings.pool_timeout,
    )?);
    let origins = settings.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
            .app_data(web::QueryConfig::default().error_handler(extract::query_error))
            .app_data(web::PathConfig::default().error_handler(extract::path_error))
            .wrap(from_fn(http::metrics::measure))
            .wrap(from_fn(http::middleware::request_context))
            // Outermost, so that preflight requests are answered before anything else.
            .wrap(http::middleware::cors(&origins))
            .configure(http::routes)
            .default_service(web::to(http::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(settings.shutdown_timeout.as_secs())
    // A client that trickles its headers or body is cut off instead of holding a worker.
    .client_request_timeout(Duration::from_secs(10))
    .client_disconnect_timeout(Duration::from_secs(5));
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

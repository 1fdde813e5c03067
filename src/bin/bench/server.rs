//! The data set and the server under test: seeding (or reusing) a database, making a
//! token, starting `liaison serve` and reading its peak memory and CPU time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Marks a PostgreSQL bench database whose seeding finished.
const SEEDED: &str = "liaison bench: seeded";

/// The `liaison` binary of the same build as this one, rebuilt first when run
/// through `cargo run`, so that the server measured is the code checked out.
pub fn liaison_binary() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or("the bench binary has no folder")?;
    if let Some(cargo) = std::env::var_os("CARGO") {
        let profile = dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
        let mut build = Command::new(cargo);
        build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--bin", "liaison"]);
        match profile {
            "debug" => {}
            "release" => {
                build.arg("--release");
            }
            other => {
                build.args(["--profile", other]);
            }
        }
        if !build.status()?.success() {
            return Err("building the liaison binary failed".into());
        }
    }
    let liaison = dir.join("liaison");
    if !liaison.exists() {
        return Err(format!(
            "{} is missing: build it first (cargo build --release --bins)",
            liaison.display()
        )
        .into());
    }
    Ok(liaison)
}

/// Where the bench keeps its databases and results: `target/bench/`.
pub fn bench_dir() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("the bench binary is not inside a target folder")?;
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A fresh copy of the data set of `enterprises` synthetic enterprises, for one run:
/// the data set itself is seeded with `liaison seed --synthetic` at the first run and
/// kept untouched, so that every run starts from the same records (a run's writes
/// would otherwise pile up: stage moves make the funnel slower run after run).
/// Returns the copy's `DATABASE_URL`.
pub fn dataset(
    liaison: &Path,
    backend: super::Backend,
    enterprises: u64,
    postgres: &str,
) -> Result<String, Error> {
    match backend {
        super::Backend::Sqlite => {
            let dir = bench_dir()?;
            let seeded = dir.join(format!("liaison-{enterprises}.db"));
            let done = seeded.with_extension("db.seeded");
            if done.exists() {
                println!("reusing {}", seeded.display());
                migrate(liaison, &seeded.display().to_string())?;
            } else {
                remove_sqlite(&seeded);
                seed(liaison, &seeded.display().to_string(), enterprises)?;
                std::fs::write(&done, "")?;
            }
            let copy = dir.join(format!("liaison-{enterprises}-run.db"));
            remove_sqlite(&copy);
            std::fs::copy(&seeded, &copy)?;
            // Written out now: otherwise the kernel writes the copy's gigabytes back
            // while the first operations are measured.
            std::fs::File::open(&copy)?.sync_all()?;
            Ok(copy.display().to_string())
        }
        super::Backend::Postgres => {
            let name = format!("liaison_bench_{enterprises}");
            let at = |database: &str| database_url(postgres, database);
            let mut admin = PgConnection::establish(&at("postgres")?)?;
            match pg_comment(&mut admin, &name)? {
                Some(Some(comment)) if comment == SEEDED => {
                    println!("reusing {}", at(&name)?);
                    migrate(liaison, &at(&name)?)?;
                }
                existing => {
                    if existing.is_some() {
                        diesel::sql_query(format!("DROP DATABASE \"{name}\""))
                            .execute(&mut admin)?;
                    }
                    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin)?;
                    seed(liaison, &at(&name)?, enterprises)?;
                    diesel::sql_query(format!("COMMENT ON DATABASE \"{name}\" IS '{SEEDED}'"))
                        .execute(&mut admin)?;
                }
            }
            let copy = format!("{name}_run");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{copy}\"")).execute(&mut admin)?;
            diesel::sql_query(format!("CREATE DATABASE \"{copy}\" TEMPLATE \"{name}\""))
                .execute(&mut admin)?;
            // The copy went through the WAL: its checkpoint now, not in the first
            // operations measured. Only a superuser (or pg_checkpoint) may ask.
            if let Err(e) = diesel::sql_query("CHECKPOINT").execute(&mut admin) {
                println!("no checkpoint before the run ({e}): the first figures may be low");
            }
            at(&copy)
        }
    }
}

/// The URL of `database` on the PostgreSQL `server`, its query (`sslmode`…) kept.
fn database_url(server: &str, database: &str) -> Result<String, Error> {
    let mut url = url::Url::parse(server)?;
    url.set_path(database);
    Ok(url.to_string())
}

/// Removes a SQLite database and its WAL files, if there.
fn remove_sqlite(file: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}

#[derive(QueryableByName)]
struct DatabaseComment {
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

/// `None`: no such database; `Some(comment)` otherwise.
fn pg_comment(conn: &mut PgConnection, name: &str) -> Result<Option<Option<String>>, Error> {
    let rows: Vec<DatabaseComment> = diesel::sql_query(
        "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    )
    .bind::<Text, _>(name)
    .load(conn)?;
    Ok(rows.into_iter().next().map(|r| r.comment))
}

fn seed(liaison: &Path, url: &str, enterprises: u64) -> Result<(), Error> {
    println!(
        "seeding {} with {enterprises} synthetic enterprises (rng seed 1)",
        liaison::db::DatabaseUrl::parse(url).redacted()
    );
    let started = Instant::now();
    let status = Command::new(liaison)
        .args(["seed", "--synthetic", &enterprises.to_string()])
        .args(["--rng-seed", "1", "--database-url", url])
        .status()?;
    if !status.success() {
        return Err(format!("liaison seed failed ({status})").into());
    }
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Applies the migrations a data set seeded by an older build lacks (new indexes),
/// once, rather than in every run's copy, where `serve` would apply them at start-up
/// and the start-up time would measure the migration.
fn migrate(liaison: &Path, url: &str) -> Result<(), Error> {
    let out = Command::new(liaison)
        .args(["migrate", "--database-url", url])
        .output()?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!("liaison migrate failed ({}): {why}", out.status).into());
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

/// A new admin token (`liaison token create`); names are never reused, so each run
/// makes its own.
pub fn token(liaison: &Path, url: &str) -> Result<String, Error> {
    let name = format!(
        "bench-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    );
    let out = Command::new(liaison)
        .args(["token", "create", "--name", &name, "--role", "admin"])
        .args(["--database-url", url])
        .output()?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!("liaison token create failed ({}): {why}", out.status).into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// A running `liaison serve`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// From spawning the process to its first `/readyz` 200.
    pub startup: Duration,
}

impl Server {
    pub async fn start(liaison: &Path, url: &str, log: &Path) -> Result<Server, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(log)?;
        let started = Instant::now();
        let child = Command::new(liaison)
            .args(["serve", "--database-url", url])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = Server {
            child,
            base,
            startup: Duration::ZERO,
        };
        let client = reqwest::Client::builder().no_proxy().build()?;
        let readyz = format!("{}/readyz", server.base);
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("liaison serve exited at start ({status})").into());
            }
            let ready = client.get(&readyz).send().await;
            if matches!(&ready, Ok(r) if r.status().is_success()) {
                server.startup = started.elapsed();
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(120) {
                return Err("liaison serve was not ready within 120 s".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Starts the peak resident memory (VmHWM) afresh from the current one.
    pub fn reset_peak_rss(&self) -> Result<(), Error> {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")?;
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc/<pid>/status".into())
    }
}

/// The CPU time process `pid` has used so far, all its threads, user and system,
/// from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Result<Duration, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = cpu_ticks(&stat).ok_or("no utime and stime in /proc/<pid>/stat")?;
    // /proc counts in USER_HZ, which Linux fixes at 100 for user space.
    Ok(Duration::from_millis(ticks * 10))
}

/// The CPU time, in ticks of USER_HZ, each process named `postgres` on this
/// machine has used so far: the server's backends, its own processes and those of
/// any other database it serves. Empty when none can be seen (a server on another
/// machine, or in a container of its own).
#[derive(Debug, Default)]
pub struct PostgresCpu(HashMap<u32, u64>);

impl PostgresCpu {
    pub fn now() -> PostgresCpu {
        let mut ticks = HashMap::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return PostgresCpu(ticks);
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            // A process may end between the listing and the read: it is left out.
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            if command_name(&stat) == Some("postgres") {
                if let Some(t) = cpu_ticks(&stat) {
                    ticks.insert(pid, t);
                }
            }
        }
        PostgresCpu(ticks)
    }

    /// The CPU time PostgreSQL used between `earlier` and this reading, `None` when
    /// no process of it was seen. A process started in between counts in full; one
    /// that ended in between is missed (its last ticks went with it).
    pub fn since(&self, earlier: &PostgresCpu) -> Option<Duration> {
        if self.0.is_empty() {
            return None;
        }
        let ticks: u64 = self
            .0
            .iter()
            .map(|(pid, now)| now.saturating_sub(earlier.0.get(pid).copied().unwrap_or(0)))
            .sum();
        Some(Duration::from_millis(ticks * 10))
    }
}

/// The command name (field 2, in parentheses) of a `/proc/<pid>/stat` line.
fn command_name(stat: &str) -> Option<&str> {
    Some(&stat[stat.find('(')? + 1..stat.rfind(')')?])
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name
/// (field 2) is in parentheses and may hold spaces and parentheses itself, so the
/// fields are counted from its last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_counted_after_the_command_name() {
        let stat =
            "4242 (liaison (a) b) S 1 4242 4242 0 -1 4194560 1869 0 0 0 1234 56 0 0 20 0 9 0";
        assert_eq!(cpu_ticks(stat), Some(1290));
    }

    #[test]
    fn a_cut_short_stat_line_has_no_cpu_ticks() {
        assert_eq!(cpu_ticks("4242 (liaison) S 1 4242"), None);
        assert_eq!(cpu_ticks("no name here"), None);
    }

    #[test]
    fn the_command_name_is_what_the_parentheses_hold() {
        let stat = "4242 (liaison (a) b) S 1 4242 4242 0 -1 4194560 1869 0 0 0 1234 56";
        assert_eq!(command_name(stat), Some("liaison (a) b"));
        assert_eq!(command_name("4242 (postgres) S 1"), Some("postgres"));
        assert_eq!(command_name("no name here"), None);
    }

    #[test]
    fn postgres_cpu_counts_what_each_process_added_and_new_ones_in_full() {
        let earlier = PostgresCpu(HashMap::from([(1, 100), (2, 50), (3, 70)]));
        // 1 used 30 ticks, 2 none, 3 ended, 4 started and used 5.
        let later = PostgresCpu(HashMap::from([(1, 130), (2, 50), (4, 5)]));
        assert_eq!(later.since(&earlier), Some(Duration::from_millis(350)));
        // A pid reused by a process that has used less than the old one: nothing, not
        // a negative time.
        let reused = PostgresCpu(HashMap::from([(1, 10)]));
        assert_eq!(reused.since(&earlier), Some(Duration::ZERO));
        assert_eq!(PostgresCpu::default().since(&earlier), None);
    }

    #[test]
    fn cpu_time_grows_while_this_process_works() {
        let before = cpu_time(std::process::id()).expect("own /proc/<pid>/stat");
        let started = Instant::now();
        let mut spin = 0u64;
        let mut now = before;
        while now < before + Duration::from_millis(30)
            && started.elapsed() < Duration::from_secs(20)
        {
            spin = (0..1_000_000u64).fold(spin, |acc, i| acc.wrapping_add(i ^ acc));
            now = cpu_time(std::process::id()).expect("own /proc/<pid>/stat");
        }
        assert!(
            now >= before + Duration::from_millis(30),
            "{before:?} → {now:?} ({spin})"
        );
    }
}

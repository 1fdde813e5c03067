//! Group commit for SQLite: one thread runs every change the server makes, several
//! requests' changes to a transaction, so that one sync of the log makes them all
//! durable.
//!
//! SQLite has one writer at a time, and with `synchronous = FULL` each commit waits
//! for the disk. Writers that each take the lock in turn spend most of their time
//! syncing, and those waiting for the lock sleep in the busy handler and wake late.
//! Here a change is sent to the writer thread, which takes whatever changes have
//! queued, runs them in one `BEGIN IMMEDIATE` transaction, commits once, and only
//! then answers each request. A change sees those before it in the batch exactly as
//! if they had committed one by one.
//!
//! A batch is first run without savepoints: they cost SQLite a copy of every page a
//! change touches, and nearly every batch succeeds whole. If any change in it fails
//! (a conflict, a missing record; also a failure caught inside a change), the whole
//! transaction is rolled back and the batch run again with each change in a
//! savepoint of its own, so that a failed change is rolled back alone. Changes are
//! therefore closures that can run twice; only the run that is committed counts.
//!
//! Checkpoints (copying the log back into the database file) are left to a thread of
//! their own, off the writer's path. A `PASSIVE` checkpoint never waits, but neither
//! does it start the log over: SQLite does that when a writer begins after a
//! checkpoint copied the whole log and no reader is in it, which under steady writes
//! is never. The log grew by gigabytes in a minute of the benchmark, on disk and in
//! the index of it that every connection maps. So when the checkpointer finds the
//! log past `RESTART_AFTER_FRAMES`, the writer, between two batches, copies the rest
//! and starts the log over (`RESTART`), waiting at most `RESTART_WAIT` for readers
//! still in it; the log's file is then cut back to `LOG_SIZE_LIMIT`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use super::{unguarded_failed, write, write_once, ConnectionManager, DbConn, Error, Result};

/// Most changes committed together; more wait for the next commit.
const MAX_BATCH: usize = 64;

/// Least time between two checkpoints: the log grows by at most this much writing.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Frames in the log past which the writer starts it over: 128 MiB of 4 KiB pages,
/// a second or two of writing flat out. Each restart holds writes while it copies
/// the last frames and syncs; the index every connection maps stays under 1 MiB.
const RESTART_AFTER_FRAMES: i64 = 32768;

/// Longest the writer waits for readers to leave the log it starts over.
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// Least time between two attempts to start the log over: a long reader (an
/// export) makes each attempt wait its `RESTART_WAIT` and fail.
const RESTART_RETRY: Duration = Duration::from_secs(1);

/// Bytes the log's file is cut back to when it starts over.
const LOG_SIZE_LIMIT: u64 = 128 << 20;

/// A change waiting in a batch.
trait Change: Send {
    /// Runs the change on the batch's connection, keeping its outcome for `answer`.
    /// A failure inside it is what `unguarded_failed` reports to the batch.
    fn run(&mut self, conn: &mut DbConn);
    /// Answers the request: with the change's outcome once the batch has committed
    /// (`None`), or with why nothing of it was saved.
    fn answer(self: Box<Self>, not_saved: Option<&str>);
}

struct Pending<T, F> {
    work: F,
    outcome: Option<Result<T>>,
    reply: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> Change for Pending<T, F>
where
    T: Send,
    F: Fn(&mut DbConn) -> Result<T> + Send,
{
    fn run(&mut self, conn: &mut DbConn) {
        self.outcome = Some(write(conn, &self.work));
    }

    fn answer(self: Box<Self>, not_saved: Option<&str>) {
        let outcome = match (not_saved, self.outcome) {
            (None, Some(outcome)) => outcome,
            (None, None) => Err(Error::Unwritten("the change was not run".into())),
            (Some(why), _) => Err(Error::Unwritten(why.to_string())),
        };
        // The request may have gone (the client hung up): nothing to tell.
        let _ = self.reply.send(outcome);
    }
}

type Batch = Vec<Box<dyn Change>>;

/// The sending end of the writer thread; the thread ends when this is dropped.
pub struct Writer {
    changes: mpsc::Sender<Box<dyn Change>>,
}

impl Writer {
    /// Starts the writer thread and its checkpointer; each opens its own connection
    /// (outside the pool) the first time it has work.
    pub fn start(manager: ConnectionManager) -> std::io::Result<Writer> {
        let (changes, queue) = mpsc::channel::<Box<dyn Change>>();
        let (committed, checkpoints) = mpsc::sync_channel::<()>(1);
        let long_log = Arc::new(AtomicBool::new(false));
        let checkpointer = manager.clone();
        let found_long = long_log.clone();
        std::thread::Builder::new()
            .name("liaison-checkpoint".into())
            .spawn(move || checkpoint(&checkpointer, &checkpoints, &found_long))?;
        std::thread::Builder::new()
            .name("liaison-writer".into())
            .spawn(move || serve(&manager, &queue, &committed, &long_log))?;
        Ok(Writer { changes })
    }

    /// Runs `work` in the next batch and returns its result once the batch is
    /// durable. `work` may run twice (see the module's notes).
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let change = Box::new(Pending {
            work,
            outcome: None,
            reply,
        });
        self.changes
            .send(change)
            .map_err(|_| Error::Unwritten("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Unwritten("the writer thread stopped during the change".into()))?
    }
}

/// The writer thread: batches until every `Writer` is dropped.
fn serve(
    manager: &ConnectionManager,
    queue: &mpsc::Receiver<Box<dyn Change>>,
    committed: &mpsc::SyncSender<()>,
    long_log: &AtomicBool,
) {
    let mut conn: Option<DbConn> = None;
    let mut last_restart: Option<Instant> = None;
    while let Ok(first) = queue.recv() {
        let mut batch: Batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(change) => batch.push(change),
                Err(_) => break,
            }
        }
        let connection = match conn.take() {
            Some(c) => Ok(c),
            None => manager.open().and_then(|mut c| {
                // Checkpoints are the checkpointer's, not the writer's, to make. The
                // writer keeps SQLite's default 2 MiB of pages, twice a reader's.
                c.batch_execute(&format!(
                    "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -2000;
                     PRAGMA journal_size_limit = {LOG_SIZE_LIMIT};"
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(c)
            }),
        };
        let mut connection = match connection {
            Ok(c) => c,
            Err(e) => {
                let why = format!("no database connection: {e}");
                tracing::error!(error = %why, "cannot write");
                for change in batch {
                    change.answer(Some(&why));
                }
                continue;
            }
        };
        commit(&mut connection, batch);
        // Full already: a checkpoint is due anyway.
        let _ = committed.try_send(());
        if long_log.load(Ordering::Relaxed)
            && last_restart.is_none_or(|at| at.elapsed() >= RESTART_RETRY)
        {
            last_restart = Some(Instant::now());
            match restart_log(&mut connection) {
                Ok(true) => long_log.store(false, Ordering::Relaxed),
                Ok(false) => tracing::debug!("readers kept the log from starting over"),
                Err(error) => tracing::warn!(%error, "cannot start the log over"),
            }
        }
        if !super::is_broken(&mut connection) {
            conn = Some(connection);
        }
    }
}

/// Runs `batch` in one transaction and answers every request in it: first with
/// no savepoints, then, if anything failed inside a change, again with each change
/// in a savepoint of its own (`db::write_once`).
fn commit(conn: &mut DbConn, mut batch: Batch) {
    let whole = catch_unwind(AssertUnwindSafe(|| {
        write_once(conn, |conn| {
            for change in batch.iter_mut() {
                change.run(conn);
                if unguarded_failed() {
                    // The batch runs again with savepoints: no use going on.
                    break;
                }
            }
            Ok(())
        })
    }));
    // The connection's transaction state is unknown after a panic: diesel's
    // transaction manager marks it broken and it is not reused.
    let committed =
        whole.unwrap_or_else(|_| Err(Error::Unwritten("a change in its batch panicked".into())));
    let failure = committed.err().map(|e| {
        tracing::error!(error = %e, changes = batch.len(), "a batch of changes failed");
        e.to_string()
    });
    for change in batch {
        change.answer(failure.as_deref());
    }
}

/// A row of `PRAGMA wal_checkpoint`.
#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    /// 1 when the checkpoint could not finish (a lock, or readers it waited for).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    /// Frames in the log.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
}

/// Copies what is left of the log into the database file and starts the log over,
/// waiting at most `RESTART_WAIT` for readers still in it; false when they stayed.
/// Writes wait meanwhile: run it on the writer's connection, between batches.
fn restart_log(conn: &mut DbConn) -> diesel::QueryResult<bool> {
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        RESTART_WAIT.as_millis()
    ))?;
    let restarted = diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result(conn);
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        super::SQLITE_BUSY_TIMEOUT_MS
    ))?;
    let restarted: CheckpointRow = restarted?;
    Ok(restarted.busy == 0)
}

/// The checkpointer: after commits, at most every `CHECKPOINT_EVERY`, copies the
/// log into the database file without blocking the writer or readers (`PASSIVE`),
/// and tells the writer when the log has grown long enough to start over.
fn checkpoint(manager: &ConnectionManager, committed: &mpsc::Receiver<()>, long_log: &AtomicBool) {
    let mut conn: Option<DbConn> = None;
    while committed.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_EVERY);
        let connection = match conn.take() {
            Some(c) => Ok(c),
            None => manager.open(),
        };
        match connection {
            Ok(mut c) => {
                let passive: diesel::QueryResult<CheckpointRow> =
                    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(&mut c);
                match passive {
                    Ok(row) if row.log >= RESTART_AFTER_FRAMES => {
                        long_log.store(true, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "checkpoint failed"),
                }
                conn = Some(c);
            }
            Err(error) => tracing::warn!(%error, "no connection for a checkpoint"),
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::*;

    fn insert(conn: &mut DbConn, x: i32) -> Result<()> {
        diesel::sql_query("INSERT INTO t VALUES (?)")
            .bind::<diesel::sql_types::Integer, _>(x)
            .execute(conn)?;
        Ok(())
    }

    fn pending<F>(work: F) -> (Box<dyn Change>, tokio::sync::oneshot::Receiver<Result<()>>)
    where
        F: Fn(&mut DbConn) -> Result<()> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let change = Box::new(Pending {
            work,
            outcome: None,
            reply,
        });
        (change, answer)
    }

    #[derive(diesel::QueryableByName)]
    struct Timeout {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        timeout: i32,
    }

    #[test]
    fn the_log_starts_over_once_its_readers_leave() {
        let dir = tempfile::tempdir().expect("a directory");
        let file = dir.path().join("log.db");
        let manager = ConnectionManager::new(super::super::DatabaseUrl::parse(
            &file.display().to_string(),
        ));
        let mut writer = manager.open().expect("the writer's connection");
        writer
            .batch_execute("PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x INTEGER)")
            .expect("table");
        for x in 0..50 {
            insert(&mut writer, x).expect("insert");
        }
        let mut reader = manager.open().expect("a reader's connection");
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM t;")
            .expect("a reader in the log");
        insert(&mut writer, 50).expect("insert");
        let waited = Instant::now();
        assert!(
            !restart_log(&mut writer).expect("checkpoint"),
            "a reader is still in the log"
        );
        // Not the connection's own busy timeout (10 s): half of it is far from both.
        let limit = Duration::from_millis(u64::from(super::super::SQLITE_BUSY_TIMEOUT_MS) / 2);
        assert!(waited.elapsed() < limit, "waited {:?}", waited.elapsed());
        reader.batch_execute("COMMIT").expect("the reader leaves");
        assert!(restart_log(&mut writer).expect("checkpoint"));
        insert(&mut writer, 51).expect("insert");
        let log: CheckpointRow = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result(&mut writer)
            .expect("checkpoint");
        assert!(log.log <= 2, "the log started over: {} frames", log.log);
        let timeout: Timeout = diesel::sql_query("PRAGMA busy_timeout")
            .get_result(&mut writer)
            .expect("busy timeout");
        assert_eq!(timeout.timeout as u32, super::super::SQLITE_BUSY_TIMEOUT_MS);
        let rows: i64 = diesel::sql_query("SELECT count(*) AS x FROM t")
            .get_result::<Count>(&mut reader)
            .expect("count")
            .x;
        assert_eq!(rows, 52, "nothing lost to the restart");
    }

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        x: i64,
    }

    #[test]
    fn a_failure_caught_inside_a_change_is_committed_once() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").expect("SQLite"));
        conn.batch_execute("CREATE TABLE t (x INTEGER UNIQUE)")
            .expect("table");
        // The second insert fails; the change catches it and goes on.
        let (caught, caught_answer) = pending(|conn| {
            insert(conn, 1)?;
            let _ = write(conn, |conn| insert(conn, 1));
            insert(conn, 2)
        });
        let (plain, plain_answer) = pending(|conn| insert(conn, 3));
        commit(&mut conn, vec![caught, plain]);
        let (refused, refused_answer) = pending(|conn| insert(conn, 2));
        let (later, later_answer) = pending(|conn| insert(conn, 4));
        commit(&mut conn, vec![refused, later]);
        let rows: Vec<i32> = diesel::sql_query("SELECT x FROM t ORDER BY x")
            .load::<Row>(&mut conn)
            .expect("rows")
            .into_iter()
            .map(|r| r.x)
            .collect();
        assert_eq!(
            rows,
            [1, 2, 3, 4],
            "each change's rows once, the refused one's none"
        );
        assert!(caught_answer.blocking_recv().expect("answered").is_ok());
        assert!(plain_answer.blocking_recv().expect("answered").is_ok());
        assert!(refused_answer.blocking_recv().expect("answered").is_err());
        assert!(later_answer.blocking_recv().expect("answered").is_ok());
    }

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        x: i32,
    }
}

//! Group commit for SQLite: one thread runs every change the server makes, several
//! requests' changes to a transaction, so that one sync of the log makes them all
//! durable.
//!
//! SQLite has one writer at a time, and with `synchronous = FULL` each commit waits
//! for the disk. Writers that each take the lock in turn spend most of their time
//! syncing, and those waiting for the lock sleep in the busy handler and wake late.
//! Here a change is sent to the writer thread, which takes whatever changes have
//! queued, runs each in a savepoint of one `BEGIN IMMEDIATE` transaction (a change
//! that fails is rolled back alone), commits once, and only then answers each
//! request. A change sees those before it in the batch exactly as if they had
//! committed one by one.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use diesel::r2d2::ManageConnection;

use super::{write, ConnectionManager, DbConn, Error, Result};

/// Most changes committed together; more wait for the next commit.
const MAX_BATCH: usize = 64;

/// A change, run on the writer's connection (or told why there is none); it returns
/// how to answer its request once the batch's commit has succeeded (`None`) or
/// failed.
type Job = Box<dyn FnOnce(std::result::Result<&mut DbConn, &str>) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// The sending end of the writer thread; the thread ends when this is dropped.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread; it opens its own connection (outside the pool) the
    /// first time it has work.
    pub fn start(manager: ConnectionManager) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("liaison-writer".into())
            .spawn(move || serve(&manager, &queue))?;
        Ok(Writer { jobs })
    }

    /// Runs `work` in the next batch and returns its result once the batch is durable.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A savepoint of its own: a change that fails leaves the batch untouched.
            let outcome = match conn {
                Ok(conn) => write(conn, work),
                Err(why) => Err(Error::Unwritten(why.to_string())),
            };
            Box::new(move |commit_failed: Option<&str>| {
                let outcome = match commit_failed {
                    None => outcome,
                    Some(why) => Err(Error::Unwritten(why.to_string())),
                };
                // The request may have gone (the client hung up): nothing to tell.
                let _ = reply.send(outcome);
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Unwritten("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Unwritten("the writer thread stopped during the change".into()))?
    }
}

/// The writer thread: batches until every `Writer` is dropped.
fn serve(manager: &ConnectionManager, queue: &mpsc::Receiver<Job>) {
    let mut conn: Option<DbConn> = None;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let connection = match conn.take() {
            Some(c) => Ok(c),
            None => manager.connect(),
        };
        let mut connection = match connection {
            Ok(c) => c,
            Err(e) => {
                let why = format!("no database connection: {e}");
                tracing::error!(error = %why, "cannot write");
                for job in batch {
                    job(Err(&why))(None);
                }
                continue;
            }
        };
        commit(&mut connection, batch);
        if !manager.has_broken(&mut connection) {
            conn = Some(connection);
        }
    }
}

/// Runs `batch` in one transaction and answers every request in it.
fn commit(conn: &mut DbConn, batch: Vec<Job>) {
    let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut panicked = false;
    // Taken by the transaction once it has begun; still here if it could not begin.
    let mut unstarted = Some(batch);
    let committed = write(conn, |conn| {
        for job in unstarted.take().into_iter().flatten() {
            match catch_unwind(AssertUnwindSafe(|| job(Ok(conn)))) {
                Ok(answer) => answers.push(answer),
                Err(_) => {
                    // The connection's transaction state is unknown after a panic:
                    // roll everything back rather than commit half a change.
                    panicked = true;
                    return Err(Error::Corrupt("a change panicked".into()));
                }
            }
        }
        Ok(())
    });
    let failure = match committed {
        Ok(()) => None,
        Err(e) => {
            tracing::error!(error = %e, changes = answers.len(), "a batch of changes failed");
            Some(if panicked {
                "another change in its batch failed".to_string()
            } else {
                e.to_string()
            })
        }
    };
    for answer in answers {
        answer(failure.as_deref());
    }
    // The write lock could not be had (another process held it past the busy
    // timeout): each change is answered without being run.
    let why = failure
        .as_deref()
        .unwrap_or("the transaction did not begin");
    for job in unstarted.into_iter().flatten() {
        job(Err(why))(None);
    }
}

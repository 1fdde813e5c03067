//! The synthetic data set: N enterprises with realistic Chinese names, their people,
//! order classes, bases, agreements, the stage history of every item and about 25
//! visits each over the past five years and the next six months, the same for the
//! same seed and day.

mod history;
mod names;
mod visits;
mod world;

use std::time::Instant;

use chrono::NaiveDate;
use fastrand::Rng;

use super::{ensure_empty, Progress, SeedError, Summary};
use crate::db::{self, bulk, DbConn};

/// Visits written per transaction: with their links, about 50 000 rows.
const VISITS_PER_TRANSACTION: usize = 10_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many enterprises (about 25 visits each).
    pub enterprises: usize,
    pub rng_seed: u64,
    /// Add the data beside existing records instead of refusing a non-empty
    /// database; names and credit codes already in use are avoided.
    pub force: bool,
    /// The day the history ends and the plans begin: visits before it are held or
    /// cancelled, visits after it planned. Runs with the same seed and day are equal.
    pub today: NaiveDate,
}

/// Generates and loads the synthetic data set. The standing records (enterprises,
/// people, order classes, bases, agreements) are written in one transaction, then
/// visits in transactions of `VISITS_PER_TRANSACTION`: a run that fails part-way
/// leaves the visits written so far, and the database is no longer empty.
pub fn synthetic(
    conn: &mut DbConn,
    options: &Options,
    progress: &mut dyn Progress,
) -> Result<Summary, SeedError> {
    let started = Instant::now();
    if options.enterprises == 0 {
        return Err(SeedError::Data("at least one enterprise is needed".into()));
    }
    // Checked again in the first transaction; this spares generating for nothing.
    ensure_empty(conn, options.force)?;
    let taken = if options.force {
        bulk::taken_names(conn)?
    } else {
        bulk::TakenNames::default()
    };
    let mut rng = Rng::with_seed(options.rng_seed);
    let world = world::World::generate(options, &mut rng, &taken)?;
    let plans = visits::plan(&world, &mut rng);

    let settings = bulk::relax_for_load(conn)?;
    let loaded = load(conn, options, &world, &plans, progress);
    let restored = settings.restore(conn);
    let mut summary = loaded?;
    restored?;
    bulk::finish_load(conn)?;
    summary.rng_seed = Some(options.rng_seed);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn load(
    conn: &mut DbConn,
    options: &Options,
    world: &world::World,
    plans: &[visits::Plan],
    progress: &mut dyn Progress,
) -> Result<Summary, SeedError> {
    let mut summary = Summary::default();
    progress.phase("records", world.records.rows() as u64);
    db::write(conn, |conn| {
        ensure_empty(conn, options.force)?;
        world.records.insert(conn, &mut summary, progress)
    })?;
    progress.finish();

    let rows: usize = plans.iter().map(visits::Plan::rows).sum();
    progress.phase("visits", rows as u64);
    for chunk in plans.chunks(VISITS_PER_TRANSACTION) {
        let records = visits::rows(world, chunk);
        db::write(conn, |conn| records.insert(conn, &mut summary, progress))?;
    }
    progress.finish();
    Ok(summary)
}

/// One element of a non-empty list.
fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// One value, drawn with the given weights.
fn weighted<T: Copy>(rng: &mut Rng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut draw = rng.u32(..total.max(1));
    for (value, weight) in choices {
        if draw < *weight {
            return *value;
        }
        draw -= weight;
    }
    choices[choices.len() - 1].0
}

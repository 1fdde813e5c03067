//! `liaison seed`: opens the database, applies migrations, runs the chosen seed and
//! prints its summary.

use crate::cli::SeedArgs;
use crate::db::{self, DatabaseUrl};

use super::progress::Stderr;
use super::{demo, synthetic, Options};

pub fn run(args: &SeedArgs) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = DatabaseUrl::parse(&args.database.database_url);
    let mut conn = db::connect_for_command(&url)?;
    for name in db::migrate(&mut conn)? {
        println!("applied  {name}");
    }
    let summary = match args.synthetic {
        Some(enterprises) => {
            let options = Options {
                enterprises: usize::try_from(enterprises)?,
                rng_seed: args.rng_seed.unwrap_or_else(|| fastrand::u64(..)),
                force: args.force,
                today: chrono::Utc::now().date_naive(),
            };
            println!(
                "seeding {} with {enterprises} synthetic enterprises (rng seed {})",
                url.redacted(),
                options.rng_seed
            );
            synthetic(&mut conn, &options, &mut Stderr::new())?
        }
        None => demo(&mut conn, args.force)?,
    };
    println!("{summary}");
    Ok(())
}

use std::process::ExitCode;

use clap::Parser;
use liaison::cli::{Cli, Command};
use liaison::db::{self, DatabaseUrl};
use liaison::startup::Application;

fn main() -> ExitCode {
    let cli = Cli::parse();
    liaison::telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => {
            liaison::startup::limit_malloc_arenas();
            liaison::startup::return_freed_memory();
            liaison::startup::configure_sqlite();
            serve(args.settings())
        }
        Command::Migrate(args) => migrate(
            &DatabaseUrl::parse(&args.database.database_url),
            args.status,
        ),
        Command::Seed(args) => liaison::seed::command::run(&args),
        Command::Token(command) => liaison::token_command::run(&command),
        Command::Backup(args) => backup(&args),
        Command::Export(args) => liaison::export_command::run(&args),
        Command::Import(args) => liaison::import_command::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("liaison: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(
    settings: liaison::startup::Settings,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings)?;
        if let Some(token) = app.bootstrap_token() {
            eprintln!(
                "No API token existed, so an admin token named `bootstrap` was created. It is shown only now:\n\n    {}\n\nSend it as `Authorization: Bearer <token>`; make your own with `liaison token create` and revoke this one with `liaison token revoke bootstrap`.\n",
                token.secret
            );
        }
        tracing::info!(
            database = %settings.database.redacted(),
            address = %settings.bind,
            port = app.port(),
            "serving"
        );
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn backup(args: &liaison::cli::BackupArgs) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = DatabaseUrl::parse(&args.database.database_url);
    url.require_existing()?;
    let started = std::time::Instant::now();
    db::backup(&mut db::connect_for_command(&url)?, &args.file)?;
    let bytes = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "backed up {} to {} ({:.1} MiB in {:.1} s)",
        url.redacted(),
        args.file.display(),
        bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn migrate(
    url: &DatabaseUrl,
    status_only: bool,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = db::connect_for_command(url)?;
    if status_only {
        for migration in db::migration_status(&mut conn)? {
            match migration.state {
                db::MigrationState::Applied => println!("applied  {}", migration.name),
                db::MigrationState::Pending => println!("pending  {}", migration.name),
                db::MigrationState::Unknown => println!(
                    "unknown  {} (applied by a newer liaison; this one refuses the database)",
                    migration.name
                ),
            }
        }
    } else {
        let applied = db::migrate(&mut conn)?;
        if applied.is_empty() {
            println!("no pending migrations");
        }
        for name in applied {
            println!("applied  {name}");
        }
    }
    Ok(())
}

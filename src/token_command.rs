//! `liaison token …`: API tokens managed from the command line, straight in the
//! database, so that an operator is never locked out.

use crate::cli::{TokenCommand, TokenCreateArgs};
use crate::db::{self, access, DatabaseUrl};
use crate::domain::access::{Actor, Token, TokenFields};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub fn run(command: &TokenCommand) -> Result<(), Error> {
    match command {
        TokenCommand::Create(args) => create(args),
        TokenCommand::List(args) => {
            let url = DatabaseUrl::parse(&args.database.database_url);
            url.require_existing()?;
            let mut conn = connect(&url)?;
            let tokens = access::list_tokens(&mut conn)?;
            print_table(&tokens);
            Ok(())
        }
        TokenCommand::Revoke(args) => {
            let url = DatabaseUrl::parse(&args.database.database_url);
            url.require_existing()?;
            let mut conn = connect(&url)?;
            let token = access::find_token(&mut conn, &args.token)?;
            let revoked = access::revoke_token(&mut conn, token.id, &Actor::command_line())?;
            eprintln!(
                "revoked token `{}` ({}); requests with it are refused from now on",
                revoked.name, revoked.id
            );
            Ok(())
        }
    }
}

fn create(args: &TokenCreateArgs) -> Result<(), Error> {
    // The first admin token may be made before the service ever ran (the README's
    // systemd set-up), so a missing SQLite file is created; said aloud, so that a
    // mistyped path is noticed before the token is handed out.
    let url = DatabaseUrl::parse(&args.database.database_url);
    if url.require_existing().is_err() {
        eprintln!("there was no database at {}: created a new one", url.url);
    }
    let mut conn = connect(&url)?;
    let now = crate::domain::now();
    let fields = TokenFields {
        name: args.name.trim().to_string(),
        role: args.role.into(),
        expires_at: args
            .expires_in
            .map(|days| now + chrono::Duration::days(days)),
    };
    if fields.name.is_empty() || fields.name.chars().count() > 100 {
        return Err("--name must be 1 to 100 characters".into());
    }
    let issued = access::create_token(&mut conn, &fields, &Actor::command_line())?;
    let expiry = match issued.token.expires_at {
        Some(at) => format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")),
        None => "never expires".into(),
    };
    eprintln!(
        "created {} token `{}` ({}; {expiry}); it is shown only now:",
        issued.token.role, issued.token.name, issued.token.id
    );
    println!("{}", issued.secret);
    Ok(())
}

fn connect(url: &DatabaseUrl) -> Result<db::PooledConn, Error> {
    let mut conn = db::connect_for_command(url)?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

fn print_table(tokens: &[Token]) {
    let now = crate::domain::now();
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    println!(
        "{:<36}  {:<24}  {:<7}  {:<8}  {:<16}  {:<16}  {:<16}",
        "ID", "NAME", "ROLE", "STATUS", "CREATED", "LAST USED", "EXPIRES"
    );
    for token in tokens {
        let status = match token.refusal(now) {
            None => "active",
            Some(_) if token.revoked_at.is_some() => "revoked",
            Some(_) => "expired",
        };
        println!(
            "{:<36}  {:<24}  {:<7}  {:<8}  {:<16}  {:<16}  {:<16}",
            token.id,
            token.name,
            token.role.as_str(),
            status,
            time(Some(token.created_at)),
            time(token.last_used_at),
            time(token.expires_at),
        );
    }
}

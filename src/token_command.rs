//! `liaison token …`: API tokens managed from the command line, straight in the
//! database, so that an operator is never locked out.

use crate::cli::{TokenCommand, TokenCreateArgs};
use crate::db::{self, access, DatabaseUrl};
use crate::domain::access::{Actor, Token, TokenFields, TokenInput};
use crate::domain::DomainError;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub fn run(command: &TokenCommand) -> Result<(), Error> {
    match command {
        TokenCommand::Create(args) => create(args),
        TokenCommand::List(args) => {
            let mut conn = connect_existing(&args.database.database_url)?;
            let tokens = access::list_tokens(&mut conn)?;
            print_table(&tokens);
            Ok(())
        }
        TokenCommand::Revoke(args) => {
            let mut conn = connect_existing(&args.database.database_url)?;
            let token = access::find_token(&mut conn, &args.token)?;
            let revoked = access::revoke_token(&mut conn, token.id, &Actor::command_line())?;
            eprintln!(
                "revoked token `{}` ({}); requests with it are refused from now on",
                one_line(&revoked.name),
                revoked.id
            );
            Ok(())
        }
    }
}

fn create(args: &TokenCreateArgs) -> Result<(), Error> {
    // The name is checked by the API's rules, before a database is made for it.
    let input = TokenInput {
        name: Some(args.name.clone()),
        role: Some(args.role.into()),
        expires_in_days: args.expires_in,
    };
    let fields = TokenFields::parse(input, crate::domain::now()).map_err(|e| match e {
        DomainError::Invalid(errors) => errors
            .iter()
            .map(|e| {
                let flag = match e.field.as_str() {
                    "expires_in_days" => "expires-in",
                    field => field,
                };
                format!("--{flag}: {}", e.message)
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    })?;
    // The first admin token may be made before the service ever ran (the README's
    // systemd set-up), so a missing SQLite file is created; said aloud, so that a
    // mistyped path is noticed before the token is handed out.
    let url = DatabaseUrl::parse(&args.database.database_url);
    if url.require_existing().is_err() {
        eprintln!("there was no database at {}: created a new one", url.url);
    }
    let mut conn = connect(&url)?;
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

/// Listing or revoking works on a database that is there: a missing SQLite file
/// is refused rather than made.
fn connect_existing(database_url: &str) -> Result<db::DbConn, Error> {
    let url = DatabaseUrl::parse(database_url);
    url.require_existing()?;
    connect(&url)
}

fn connect(url: &DatabaseUrl) -> Result<db::DbConn, Error> {
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
            one_line(&token.name),
            token.role.as_str(),
            status,
            time(Some(token.created_at)),
            time(token.last_used_at),
            time(token.expires_at),
        );
    }
}

/// A token's name as a terminal may show it: names are refused control characters
/// now, but a database may hold one from before, and a line break would split the
/// table's row and an escape sequence be run by the terminal.
fn one_line(name: &str) -> std::borrow::Cow<'_, str> {
    if name.chars().any(char::is_control) {
        name.escape_debug().to_string().into()
    } else {
        name.into()
    }
}

//! What `liaison serve` and `liaison migrate` do before serving: the first token
//! only for a start that listens, and no start on a database a newer Liaison wrote.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestDatabase};
use crate::reliability::binary_tests;
use crate::reliability::server::Server;

binary_tests!(
    a_start_that_cannot_listen_makes_no_token,
    a_database_from_a_newer_liaison_is_refused,
);

/// Runs `liaison <args>` on `database_url`; one still running after a minute (a
/// `serve` that should have refused to start) is killed and fails the test.
fn liaison(database_url: &str, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("liaison runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("process status").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("killed liaison reaped");
            panic!(
                "liaison {args:?} was still running after a minute: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("liaison's output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The bootstrap token's secret is printed by a start that goes on to serve; a
/// start that cannot listen had made the token all the same, so its secret was
/// never seen and the next start made none.
async fn a_start_that_cannot_listen_makes_no_token(backend: Backend) {
    let (_database, url) = TestDatabase::create(backend);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let taken = taken.local_addr().expect("its address").to_string();
    for bind in [taken.as_str(), "999.1.1.1:80"] {
        let output = liaison(&url, &["serve", "--bind", bind]);
        assert!(!output.status.success(), "{bind}");
        let message = stderr(&output);
        assert!(
            message.contains(&format!("cannot listen on {bind}")),
            "{bind}: {message}"
        );
        assert!(!message.contains("liaison_"), "{bind}: {message}");
    }
    let listed = liaison(&url, &["token", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert_eq!(listed.lines().count(), 1, "only the header: {listed}");

    let server = Server::start(&url, &[]);
    assert!(
        server
            .bootstrap_token
            .as_deref()
            .is_some_and(|t| t.starts_with("liaison_")),
        "the first start that serves prints the token: {:?}",
        server.log()
    );
}

/// A migration this binary does not have means a newer Liaison changed the tables:
/// `serve` and `migrate` refuse the database in one line, and `migrate --status`
/// lists the migration.
async fn a_database_from_a_newer_liaison_is_refused(backend: Backend) {
    use diesel::RunQueryDsl;
    let (_database, url) = TestDatabase::create(backend);
    let migrated = liaison(&url, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let mut conn = liaison::db::ConnectionManager::new(liaison::db::DatabaseUrl::parse(&url))
        .open()
        .expect("database");
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000001')")
        .execute(&mut conn)
        .expect("a newer migration is recorded");
    drop(conn);

    let refusal = "the database has migration 20991231000001, which this liaison does not \
                   know: it was written by a newer version";
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"]] {
        let output = liaison(&url, args);
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        let last = message.lines().last().unwrap_or_default();
        assert!(last.contains(refusal), "{args:?}: {message}");
        assert!(!message.contains("serving"), "{args:?}: {message}");
    }
    let status = liaison(&url, &["migrate", "--status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let listed = String::from_utf8_lossy(&status.stdout).into_owned();
    let lines: Vec<&str> = listed.lines().collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("applied ") || l.starts_with("unknown ")),
        "{listed}"
    );
    assert_eq!(
        lines
            .last()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>()),
        Some(vec!["unknown", "20991231000001"]),
        "{listed}"
    );
}

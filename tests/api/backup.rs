//! `liaison backup`: a consistent copy of a running SQLite database that serves the
//! same records; PostgreSQL is pointed at `pg_dump`.

use std::process::Command;
use std::time::Duration;

use liaison::db::DatabaseUrl;
use liaison::startup::{Application, Settings};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(a_backup_taken_while_serving_serves_the_same_records);

async fn a_backup_taken_while_serving_serves_the_same_records(app: TestApp) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("backup.db");
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park"}))
        .await;
    let person = app
        .participant(
            json!({"full_name": "Dong Xiaodan", "side": "partner", "enterprise_id": id_of(&park)}),
        )
        .await;
    let backup = |path: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(["backup", &path.to_string_lossy()])
            .env("DATABASE_URL", app.database_url())
            .output()
            .expect("liaison runs")
    };
    // Writers keep going while the copy is made.
    let writer = {
        let client = app.client.clone();
        let url = format!("{}/api/v1/enterprises", app.address);
        tokio::spawn(async move {
            for i in 0..20 {
                let _ = client
                    .post(&url)
                    .json(&json!({ "name": format!("Writer {i}") }))
                    .send()
                    .await;
            }
        })
    };
    let output = tokio::task::block_in_place(|| backup(&target));
    writer.await.expect("writer");
    if app.database_url().starts_with("postgres") {
        assert!(!output.status.success());
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("pg_dump"), "{message}");
        assert!(!target.exists());
        return;
    }
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The copy was written under a temporary name and renamed: nothing else is left.
    assert_eq!(files_in(dir.path()), ["backup.db"]);
    // A second backup to the same file is refused rather than overwriting it.
    let again = tokio::task::block_in_place(|| backup(&target));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // The copy, served by its own app, answers with the same records and tokens.
    let settings = Settings {
        database: DatabaseUrl::parse(&target.to_string_lossy()),
        bind: "127.0.0.1:0".into(),
        pool_size: 2,
        pool_timeout: Duration::from_secs(5),
        workers: Some(1),
        shutdown_timeout: Duration::from_secs(1),
        cors_origins: Vec::new(),
    };
    let restored = tokio::task::spawn_blocking(move || Application::build(&settings))
        .await
        .expect("build task")
        .expect("the backup opens");
    assert!(
        restored.bootstrap_token().is_none(),
        "the tokens came along"
    );
    let address = format!("http://127.0.0.1:{}", restored.port());
    tokio::spawn(restored.run_until_stopped());
    for record in [
        format!("/api/v1/enterprises/{}", id_of(&park)),
        format!("/api/v1/participants/{}", id_of(&person)),
    ] {
        let original = app.get(&record).await.expect(200).body;
        let copy: Value = app
            .client
            .request(Method::GET, format!("{address}{record}"))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        assert_eq!(copy, original);
    }
}

/// The names of the files in `folder`, sorted.
fn files_in(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A backup that fails half-way (here: the file may not grow past 64 KiB, as on a
/// full disk) leaves no FILE behind, which would open as an empty database and
/// stand in the way of the next attempt, and no temporary file either.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_that_fails_half_way_leaves_nothing() {
    use std::os::unix::process::CommandExt;

    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    app.enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("backup.db");
    let backup = |limit: Option<u64>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_liaison"));
        command
            .args(["backup", &target.to_string_lossy()])
            .env("DATABASE_URL", app.database_url());
        if let Some(limit) = limit {
            // SAFETY: between fork and exec the child only calls two async-signal-safe
            // functions: writes past the limit then fail with EFBIG instead of
            // killing the process with SIGXFSZ.
            unsafe {
                command.pre_exec(move || {
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    let cap = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &cap) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        command.output().expect("liaison runs")
    };
    let failed = tokio::task::block_in_place(|| backup(Some(64 * 1024)));
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "{message}");
    assert!(message.contains("cannot write the backup"), "{message}");
    assert_eq!(files_in(dir.path()), Vec::<String>::new(), "{message}");

    // Given room, the same command makes the whole backup.
    let made = tokio::task::block_in_place(|| backup(None));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert_eq!(files_in(dir.path()), ["backup.db"]);
    assert!(std::fs::metadata(&target).expect("backup").len() > 64 * 1024);
}

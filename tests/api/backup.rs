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

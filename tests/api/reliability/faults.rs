//! Overload and faults: an exhausted pool, a graceful shutdown, slow clients and a
//! database that goes away and comes back.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::binary_tests;
use super::proxy::Proxy;
use super::report::Report;
use super::server::{client, Server};
use crate::helpers::{Backend, TestApp, TestDatabase, POSTGRES_VAR};

binary_tests!(
    an_exhausted_pool_answers_503_in_bounded_time,
    sigterm_finishes_in_flight_requests_and_refuses_new_ones,
);

/// A request that must come back in time: the pool waits 1 s, this leaves room for
/// a busy machine without letting a hang pass.
const ANSWER_WITHIN: Duration = Duration::from_secs(6);

/// The database's write lock, held by the test: writes through the app wait for it
/// (SQLite: a transaction begun IMMEDIATE; PostgreSQL: `enterprises` locked against
/// changes), while reads go on.
enum WriteLock {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl WriteLock {
    fn take(backend: Backend, url: &str) -> WriteLock {
        match backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(url).expect("SQLite connection");
                conn.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE;")
                    .expect("write lock taken");
                WriteLock::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(url).expect("PostgreSQL connection");
                conn.batch_execute("BEGIN; LOCK TABLE enterprises IN EXCLUSIVE MODE;")
                    .expect("write lock taken");
                WriteLock::Pg(conn)
            }
        }
    }

    fn release(self) {
        match self {
            WriteLock::Sqlite(mut c) => c.batch_execute("ROLLBACK").expect("released"),
            WriteLock::Pg(mut c) => c.batch_execute("ROLLBACK").expect("released"),
        }
    }
}

/// Pool of one connection, held by an import that waits for the test's lock: other
/// requests get a 503 problem with `Retry-After` once the pool timeout passes, and
/// everything works again when the lock goes. (An import writes on a pooled
/// connection on both backends; on SQLite the API's other changes go through the
/// writer thread and its own connection, so a PATCH waiting for the lock there holds
/// no pooled connection: it is sent too, and must be saved once the lock goes.)
async fn an_exhausted_pool_answers_503_in_bounded_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.pool_size = 1;
        s.pool_timeout = Duration::from_secs(1);
    })
    .await;
    let enterprise = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let path = format!(
        "{}/api/v1/enterprises/{}",
        app.address,
        enterprise["id"].as_str().unwrap()
    );
    let lock = WriteLock::take(backend, app.database_url());
    let held = tokio::spawn(
        app.client
            .post(format!("{}/api/v1/imports/enterprises", app.address))
            .header("content-type", "text/csv")
            .body("name\nImported once the lock is gone\n")
            .send(),
    );
    let patched = (backend == Backend::Sqlite).then(|| {
        tokio::spawn(
            app.client
                .patch(&path)
                .json(&json!({"description": "written once the lock is gone"}))
                .send(),
        )
    });
    let mut unavailable = 0;
    let mut slowest = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(5);
    while unavailable < 2 && Instant::now() < deadline {
        for url in [
            format!("{}/api/v1/enterprises", app.address),
            format!("{}/readyz", app.address),
        ] {
            let started = Instant::now();
            let response = app.client.get(&url).send().await.expect("answered");
            let took = started.elapsed();
            assert!(took < ANSWER_WITHIN, "{url} took {took:?}");
            match response.status().as_u16() {
                // The held write has not taken the connection yet.
                200 => continue,
                503 => {}
                other => panic!(
                    "{url}: {other} {}",
                    response.text().await.unwrap_or_default()
                ),
            }
            slowest = slowest.max(took);
            assert!(response.headers().contains_key("retry-after"), "{url}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{url}"
            );
            let problem: Value = response.json().await.expect("JSON");
            assert_eq!(problem["status"], 503, "{problem}");
            unavailable += 1;
        }
    }
    assert!(unavailable >= 2, "the pool was never exhausted");
    lock.release();
    let held = held
        .await
        .expect("task")
        .expect("the held import is answered");
    assert_eq!(held.status(), 200);
    let imported = app
        .get("/api/v1/enterprises?q=Imported%20once")
        .await
        .expect(200)
        .body;
    assert_eq!(
        imported["items"][0]["name"],
        "Imported once the lock is gone"
    );
    if let Some(patched) = patched {
        let patched = patched
            .await
            .expect("task")
            .expect("the held write is answered");
        assert_eq!(patched.status(), 200);
        let after = app
            .get(&path.replace(&app.address, ""))
            .await
            .expect(200)
            .body;
        assert_eq!(after["description"], "written once the lock is gone");
    }
    let mut report = Report::new("pool-exhaustion", backend);
    report.add(
        "Overload and faults",
        "pool of 1 connection held by an import waiting on a lock the test holds; reads and `/readyz` sent meanwhile",
        unavailable,
        format!(
            "every one answered 503 problem with `Retry-After` (slowest {} ms, pool timeout 1 s); the held write then succeeded; 0 hangs, 0 500s",
            slowest.as_millis()
        ),
    );
    report.save();
}

/// SIGTERM while a write is in flight: the write is finished and acknowledged, new
/// connections are refused, and the process exits cleanly.
async fn sigterm_finishes_in_flight_requests_and_refuses_new_ones(backend: Backend) {
    let (database, url) = TestDatabase::create(backend);
    let mut server = Server::start(&url, &["--workers", "2", "--shutdown-timeout", "20"]);
    let token = server.bootstrap_token.clone().expect("bootstrap token");
    let http = client(&token, Duration::from_secs(30));
    let created: Value = http
        .post(format!("{}/api/v1/enterprises", server.address))
        .json(&json!({"name": "Carbonbay Industrial Park"}))
        .send()
        .await
        .expect("created")
        .json()
        .await
        .expect("JSON");
    let path = format!(
        "/api/v1/enterprises/{}",
        created["id"].as_str().expect("id")
    );
    let lock = WriteLock::take(backend, &url);
    let in_flight = tokio::spawn(
        http.patch(format!("{}{path}", server.address))
            .json(&json!({"description": "finished during shutdown"}))
            .send(),
    );
    // Ample time for the request to reach its handler and wait for the lock.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    server.terminate();
    let started = Instant::now();
    let mut refused = false;
    while started.elapsed() < Duration::from_secs(5) {
        let fresh = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        if fresh
            .get(format!("{}/healthz", server.address))
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "new connections were still served after SIGTERM");
    assert!(
        server.wait_exit(Duration::from_millis(200)).is_none(),
        "exited with a request in flight"
    );
    lock.release();
    let answer = in_flight
        .await
        .expect("task")
        .expect("the in-flight write is answered");
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["description"], "finished during shutdown");
    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("the server exits");
    assert!(status.success(), "{status:?}");
    // The acknowledged write is stored.
    let again = Server::start(&url, &["--workers", "1"]);
    let stored: Value = http
        .get(format!("{}{path}", again.address))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(stored["description"], "finished during shutdown");
    let mut report = Report::new("graceful-shutdown", backend);
    report.add(
        "Overload and faults",
        "SIGTERM with a write in flight (held on a database lock), then new connections",
        1,
        "the in-flight write finished with 200 and is stored; new connections refused; exit status 0",
    );
    report.save();
    drop(again);
    drop(database);
}

/// Connections that trickle a request head and never finish it (slowloris), many
/// more than there are workers: the server still answers others at once, and cuts
/// the slow ones off after its client request timeout (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_cannot_tie_up_the_workers() {
    const SLOW: usize = 200;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.workers = Some(1)).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connects");
        let (mut reader, mut writer) = stream.into_split();
        let trickle = tokio::spawn(async move {
            if writer
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: liaison\r\n")
                .await
                .is_err()
            {
                return;
            }
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if writer.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    return;
                }
            }
        });
        slow.push(tokio::spawn(async move {
            let mut buffer = [0u8; 256];
            // EOF, an error or a 408: the server let go of the connection.
            let _ = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buffer)).await;
            trickle.abort();
            started.elapsed()
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut fast = Duration::ZERO;
    for _ in 0..5 {
        let asked = Instant::now();
        app.get("/api/v1/enterprises").await.expect(200);
        fast = fast.max(asked.elapsed());
    }
    assert!(
        fast < Duration::from_secs(3),
        "a normal request took {fast:?} beside slow clients"
    );
    let mut latest = Duration::ZERO;
    for task in slow {
        latest = latest.max(task.await.expect("slow client"));
    }
    assert!(
        latest < Duration::from_secs(25),
        "slow clients held on for {latest:?}"
    );
    let mut report = Report::without_database("slowloris");
    report.add(
        "Overload and faults",
        "200 connections trickling a request head (a header line every 0.5 s) against 1 worker",
        SLOW as u64,
        format!(
            "normal requests meanwhile answered within {} ms; every slow connection cut off by {:.1} s (client request timeout 10 s)",
            fast.as_millis(),
            latest.as_secs_f64()
        ),
    );
    report.save();
}

/// PostgreSQL going away (the proxy between the app and it cut) and coming back:
/// `/readyz` and requests answer 503 problems with `Retry-After` meanwhile, never a
/// 500, and the same process recovers without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL tests were not run: set LIAISON_TEST_POSTGRES (see README)"
)]
async fn postgres_outage_is_503_then_recovers() {
    let server = std::env::var(POSTGRES_VAR).expect("LIAISON_TEST_POSTGRES");
    let upstream = url::Url::parse(&server).expect("a URL");
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&(
        upstream.host_str().expect("host").to_string(),
        upstream.port().unwrap_or(5432),
    ))
    .expect("address")
    .next()
    .expect("an address");
    let proxy = Proxy::start(upstream).await;
    let port = proxy.port;
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        let mut url = url::Url::parse(&s.database.url).expect("URL");
        url.set_port(Some(port)).expect("port");
        s.database.url = url.to_string();
        s.pool_timeout = Duration::from_secs(1);
    })
    .await;
    let outages = 2;
    let (mut unavailable, mut answered, mut refused_in_load) = (0, 0, 0);
    for outage in 0..outages {
        app.get("/readyz").await.expect(200);
        // A write in the middle of its transaction when the database goes: it waits
        // on a lock the test holds over a direct connection, and the cut comes.
        let victim = app
            .enterprise(json!({"name": format!("Victim {outage}")}))
            .await;
        let lock = WriteLock::take(Backend::Postgres, app.database_url());
        let in_transaction = tokio::spawn(
            app.client
                .patch(format!(
                    "{}/api/v1/enterprises/{}",
                    app.address,
                    victim["id"].as_str().unwrap()
                ))
                .json(&json!({"description": "lost with the connection"}))
                .send(),
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.cut();
        let cut_off = in_transaction.await.expect("task").expect("answered");
        assert_eq!(
            cut_off.status(),
            503,
            "a write whose connection died mid-transaction"
        );
        assert!(cut_off.headers().contains_key("retry-after"));
        lock.release();
        unavailable += 1;
        proxy.restore();
        wait_until_ready(&app).await;
        // Load across the cut: each request is answered, 2xx or 503, never 500.
        let load: Vec<_> = (0..8)
            .map(|i| {
                let client = app.client.clone();
                let base = app.address.clone();
                tokio::spawn(async move {
                    let mut statuses = Vec::new();
                    for step in 0..6 {
                        let response = if i % 2 == 0 {
                            client
                                .get(format!("{base}/api/v1/enterprises"))
                                .send()
                                .await
                        } else {
                            client
                                .post(format!("{base}/api/v1/enterprises"))
                                .json(&json!({"name": format!("Outage {outage} firm {i}-{step}")}))
                                .send()
                                .await
                        };
                        statuses.push(response.expect("answered").status().as_u16());
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    statuses
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        proxy.cut();
        for task in load {
            for status in task.await.expect("load task") {
                assert!(
                    [200, 201, 503].contains(&status),
                    "{status} while the database went away"
                );
                answered += 1;
                refused_in_load += usize::from(status == 503);
            }
        }
        for path in ["/readyz", "/api/v1/enterprises"] {
            let asked = Instant::now();
            let response = app
                .client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .expect("answered");
            assert!(
                asked.elapsed() < ANSWER_WITHIN,
                "{path} took {:?}",
                asked.elapsed()
            );
            assert_eq!(response.status(), 503, "{path}");
            assert!(response.headers().contains_key("retry-after"), "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            unavailable += 1;
        }
        proxy.restore();
        wait_until_ready(&app).await;
        app.enterprise(json!({"name": format!("After outage {outage}")}))
            .await;
    }
    let mut report = Report::new("database-outage", Backend::Postgres);
    report.add(
        "Overload and faults",
        "PostgreSQL cut off mid-load and mid-transaction (a TCP proxy closed every connection and refused new ones), then restored",
        outages,
        format!(
            "{answered} requests across the cuts all 2xx or 503 ({refused_in_load} 503); a write cut off mid-transaction, `/readyz` and API requests answered 503 problem with `Retry-After` during the outage ({unavailable} checked); recovered without a restart each time; 0 500s"
        ),
    );
    report.save();
}

/// PostgreSQL ending the app's sessions (`pg_terminate_backend`, as an
/// administrator or a failover does) right after they answered. A connection the
/// pool trusts without a check (it answered within 500 ms) may fail one request,
/// with a 503 the client can retry, never a 500; the pool then drops it and checks
/// every other connection before its next use, so one session ended costs at most
/// one request, and requests after the first refusal succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL tests were not run: set LIAISON_TEST_POSTGRES (see README)"
)]
async fn postgres_sessions_ended_under_the_pool_cost_at_most_one_request_each() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let mut admin = PgConnection::establish(app.database_url()).expect("admin connection");
    let answer = |response: reqwest::Response, what: &str| {
        let status = response.status().as_u16();
        assert!(
            [200, 201, 503].contains(&status),
            "{what}: {status} on a connection the server ended"
        );
        if status == 503 {
            assert!(response.headers().contains_key("retry-after"), "{what}");
        }
        status == 503
    };
    let (mut ended_total, mut refused_total) = (0, 0);
    // Sessions ended by the previous round, and refusals counted against them.
    let (mut ended, mut refused) = (0, 0);
    for round in 0..4 {
        // Several connections in the pool, each having just answered.
        let reads: Vec<_> = (0..6)
            .map(|_| {
                let client = app.client.clone();
                let url = format!("{}/api/v1/enterprises", app.address);
                tokio::spawn(async move { client.get(url).send().await })
            })
            .collect();
        for read in reads {
            let read = read.await.expect("task").expect("answered");
            refused += usize::from(answer(read, &format!("round {round}, read before")));
        }
        assert!(
            refused <= ended,
            "round {round}: {refused} requests refused for {ended} sessions ended"
        );
        if round == 3 {
            break;
        }
        let sessions: Vec<Ended> = diesel::sql_query(
            // Waits (up to 5 s each) until the sessions are gone: a session still
            // ending could answer one more request and fail a later one.
            "SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .load(&mut admin)
        .expect("sessions ended");
        ended = sessions.iter().filter(|s| s.ended).count();
        assert!(ended > 0, "round {round}: the app had no session to end");
        ended_total += ended;
        refused = 0;
        for step in 0..6 {
            let what = format!("round {round}, request {step} after");
            let response = if step % 2 == 0 {
                app.client
                    .get(format!("{}/api/v1/enterprises", app.address))
                    .send()
                    .await
            } else {
                app.client
                    .post(format!("{}/api/v1/enterprises", app.address))
                    .json(&json!({"name": format!("After the sessions ended {round}-{step}")}))
                    .send()
                    .await
            };
            if answer(response.expect("answered"), &what) {
                assert_eq!(refused, 0, "{what}: a second refusal in a row of requests");
                refused += 1;
                refused_total += 1;
            }
        }
    }
    let mut report = Report::new("sessions-ended", Backend::Postgres);
    report.add(
        "Overload and faults",
        "PostgreSQL ended every session of the app (pg_terminate_backend) right after they answered, 3 times",
        3,
        format!(
            "{refused_total} of 36 requests after the {ended_total} sessions ended answered 503 with Retry-After (at most one a session), the rest 2xx; 0 500s"
        ),
    );
    report.save();
}

#[derive(diesel::QueryableByName)]
struct Ended {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ended: bool,
}

/// Polls `/readyz` until the app reaches its database again: the pool reconnects
/// on its own, after a back-off of up to its timeout.
async fn wait_until_ready(app: &TestApp) {
    let back = Instant::now();
    loop {
        let response = app
            .client
            .get(format!("{}/readyz", app.address))
            .send()
            .await
            .expect("answered");
        match response.status().as_u16() {
            200 => return,
            503 => {}
            other => panic!("/readyz answered {other} while the database came back"),
        }
        assert!(back.elapsed() < Duration::from_secs(20), "no recovery");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A SQLite write that waits out the busy timeout (10 s) behind another writer is
/// overload, not a bug: 503 with `Retry-After`, like an exhausted pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_outwaits_the_sqlite_lock_is_503() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let enterprise = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let path = format!("/api/v1/enterprises/{}", enterprise["id"].as_str().unwrap());
    let lock = WriteLock::take(Backend::Sqlite, app.database_url());
    let started = Instant::now();
    let response = app
        .client
        .patch(format!("{}{path}", app.address))
        .json(&json!({"description": "never written"}))
        .send()
        .await
        .expect("answered");
    let waited = started.elapsed();
    lock.release();
    assert_eq!(
        response.status(),
        503,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert!(response.headers().contains_key("retry-after"));
    let stored = app.get(&path).await.expect(200).body;
    assert_eq!(stored["version"], 1);
    let mut report = Report::new("sqlite-lock-timeout", Backend::Sqlite);
    report.add(
        "Overload and faults",
        "a write kept waiting past the SQLite busy timeout (10 s) by another writer",
        1,
        format!(
            "503 problem with `Retry-After` after {:.1} s; nothing written; 0 500s",
            waited.as_secs_f64()
        ),
    );
    report.save();
}

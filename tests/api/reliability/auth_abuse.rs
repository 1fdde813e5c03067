//! Auth abuse beyond `access.rs`: tokens where they do not belong, cut short or
//! garbled, revoked and expired tokens on every kind of route, and a check that a
//! wrong token is refused in the same time however much of it is right.

use std::time::{Duration, Instant};

use liaison::db::{self, DatabaseUrl};
use liaison::domain::access::{self, Actor, Role, TokenFields};
use reqwest::Method;
use serde_json::json;

use super::report::Report;
use crate::helpers::{backend_tests, id_of, TestApp, MISSING_ID};

backend_tests!(misplaced_garbled_and_dead_tokens_are_refused);

const ENTERPRISES: &str = "/api/v1/enterprises";

async fn send_raw(app: &TestApp, path: &str, headers: &[(&str, &[u8])]) -> u16 {
    let mut request = reqwest::Client::new().get(format!("{}{path}", app.address));
    for (name, value) in headers {
        request = request.header(
            *name,
            reqwest::header::HeaderValue::from_bytes(value).expect("a header value"),
        );
    }
    request.send().await.expect("answered").status().as_u16()
}

async fn misplaced_garbled_and_dead_tokens_are_refused(app: TestApp) {
    let admin = app.admin_token.clone();
    let bearer = |t: &str| format!("Bearer {t}").into_bytes();
    let mut misplaced = 0u64;
    // The right token anywhere but `Authorization: Bearer`.
    for (path, headers) in [
        (format!("{ENTERPRISES}?access_token={admin}"), vec![]),
        (format!("{ENTERPRISES}?token={admin}"), vec![]),
        (
            ENTERPRISES.to_string(),
            vec![("cookie", format!("token={admin}").into_bytes())],
        ),
        (
            ENTERPRISES.to_string(),
            vec![("x-api-key", admin.clone().into_bytes())],
        ),
        (
            ENTERPRISES.to_string(),
            vec![("x-auth-token", admin.clone().into_bytes())],
        ),
        (
            ENTERPRISES.to_string(),
            vec![("proxy-authorization", bearer(&admin))],
        ),
        (
            ENTERPRISES.to_string(),
            vec![("authorization", format!("Basic {admin}").into_bytes())],
        ),
        (
            ENTERPRISES.to_string(),
            vec![(
                "authorization",
                format!("Bearer  {admin} {admin}").into_bytes(),
            )],
        ),
        (
            ENTERPRISES.to_string(),
            vec![(
                "authorization",
                format!("Bearer {admin},Bearer {admin}").into_bytes(),
            )],
        ),
    ] {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
        assert_eq!(
            send_raw(&app, &path, &headers).await,
            401,
            "{path} {headers:?}"
        );
        misplaced += 1;
    }
    // Every prefix of the token, and the token with each of a few characters changed.
    let mut garbled = 0u64;
    for length in 0..admin.len() {
        let status = send_raw(
            &app,
            ENTERPRISES,
            &[("authorization", &bearer(&admin[..length]))],
        )
        .await;
        assert_eq!(status, 401, "prefix of {length} characters");
        garbled += 1;
    }
    for position in (0..admin.len()).step_by(5) {
        let mut bytes = admin.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).expect("ASCII");
        let status = send_raw(&app, ENTERPRISES, &[("authorization", &bearer(&changed))]).await;
        assert_eq!(status, 401, "character {position} changed");
        garbled += 1;
    }
    // Bytes no token has: non-ASCII header bytes, control characters, a huge token.
    for value in [
        b"Bearer liaison_\xff\xfe\xfd".to_vec(),
        format!("Bearer\t{admin}\t").into_bytes(),
        format!("Bearer {admin}\u{00e9}").into_bytes(),
        format!("Bearer {}", "A".repeat(8000)).into_bytes(),
        format!("Bearer liaison_{}_{}", "g".repeat(32), "A".repeat(43)).into_bytes(),
    ] {
        assert_eq!(
            send_raw(&app, ENTERPRISES, &[("authorization", &value)]).await,
            401
        );
        garbled += 1;
    }

    // Revoked and expired tokens, on a read, a write and an admin route.
    let created = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "revoked", "role": "admin"}),
        )
        .await
        .expect(201)
        .body;
    let revoked = created["token"].as_str().expect("secret").to_string();
    app.delete(&format!("/api/v1/tokens/{}", id_of(&created)))
        .await
        .expect(200);
    let created = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "expired", "role": "admin", "expires_in_days": 1}),
        )
        .await
        .expect(201)
        .body;
    let expired = created["token"].as_str().expect("secret").to_string();
    expire(&app, &id_of(&created));
    let mut dead = 0u64;
    for token in [&revoked, &expired] {
        for (method, path) in [
            (Method::GET, ENTERPRISES.to_string()),
            (Method::POST, ENTERPRISES.to_string()),
            (Method::PATCH, format!("{ENTERPRISES}/{MISSING_ID}")),
            (Method::GET, "/api/v1/tokens".to_string()),
            (Method::POST, "/api/v1/tokens".to_string()),
        ] {
            let body = (method != Method::GET).then(|| json!({"name": "should not exist"}));
            app.request_as(Some(token), method, &path, body.as_ref(), &[])
                .await
                .problem(401);
            dead += 1;
        }
    }
    assert!(
        app.collect_ids(ENTERPRISES).await.is_empty(),
        "nothing was created"
    );

    let mut report = Report::new("auth-abuse", app.backend);
    let area = "Auth abuse";
    report.add(
        area,
        "the right token in the query string, a cookie, other headers, another scheme, doubled",
        misplaced,
        "all 401",
    );
    report.add(area, "every prefix of a valid token, and the token with one character changed every 5th position, plus non-ASCII, tab-separated, 8 KB and malformed-id tokens", garbled, "all 401; 0 5xx");
    report.add(
        area,
        "a revoked and an expired admin token on read, write and token routes",
        dead,
        "all 401; nothing created",
    );
    report.save();
}

fn expire(app: &TestApp, id: &str) {
    use diesel::RunQueryDsl;
    let mut conn = db::ConnectionManager::new(DatabaseUrl::parse(app.database_url()))
        .open()
        .expect("database");
    diesel::sql_query(format!(
        "UPDATE api_tokens SET expires_at = created_at WHERE id = '{id}'"
    ))
    .execute(&mut conn)
    .expect("token expired");
}

/// Medians of `rounds` batches of `batch` calls of `a` and of `b`, interleaved (and
/// their order alternated) so that a busy machine slows both alike.
fn medians(
    rounds: usize,
    batch: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (Duration, Duration) {
    let mut times_a = Vec::with_capacity(rounds);
    let mut times_b = Vec::with_capacity(rounds);
    let time = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        for _ in 0..batch {
            f();
        }
        started.elapsed()
    };
    for round in 0..rounds {
        if round % 2 == 0 {
            times_a.push(time(&mut a));
            times_b.push(time(&mut b));
        } else {
            times_b.push(time(&mut b));
            times_a.push(time(&mut a));
        }
    }
    times_a.sort();
    times_b.sort();
    (times_a[rounds / 2], times_b[rounds / 2])
}

/// A timing difference this large between the medians would be a leak; anything a
/// busy machine does to one batch it does to its neighbour too. A real leak shows
/// on every attempt, noise does not: the check is tried up to three times.
const TOLERANCE: f64 = 1.5;

fn same_time(what: &str, measure: impl Fn() -> (Duration, Duration)) -> f64 {
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let (near, far) = measure();
        let ratio = near.as_secs_f64() / far.as_secs_f64().max(1e-9);
        ratios.push(ratio);
        if (1.0 / TOLERANCE..=TOLERANCE).contains(&ratio) {
            return ratio;
        }
    }
    panic!("{what}: a token right but for its last character is checked in a different time than one wrong from the start: ratios {ratios:?}");
}

/// `matches` and the whole authentication path take as long for a token that is
/// right but for its last character as for one wrong from its first secret
/// character: no early exit gives away how much of a guess was right.
#[test]
fn wrong_token_check_time_does_not_depend_on_the_matching_prefix() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = DatabaseUrl::parse(&dir.path().join("timing.db").to_string_lossy());
    let pool = db::pool(&url, 1, Duration::from_secs(10)).expect("pool");
    let mut conn = pool.get().expect("connection");
    db::migrate(&mut conn).expect("migrations");
    let issued = db::access::create_token(
        &mut conn,
        &TokenFields {
            name: "timing".into(),
            role: Role::Viewer,
            expires_at: None,
        },
        &Actor::command_line(),
    )
    .expect("token");
    let secret = issued.secret.clone();
    let stored = access::hash(&secret);
    // Same id (so the same row is read), the secret wrong at its last or its first character.
    let flip = |at: usize| {
        let mut bytes = secret.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ASCII")
    };
    let near = flip(secret.len() - 1);
    let far = flip(secret.len() - 43);
    assert!(access::matches(&secret, &stored));
    let compare_ratio = same_time("matches", || {
        medians(
            301,
            200,
            || assert!(!access::matches(std::hint::black_box(&near), &stored)),
            || assert!(!access::matches(std::hint::black_box(&far), &stored)),
        )
    });
    let conn = std::cell::RefCell::new(conn);
    let authenticate = |token: &str| {
        let refused = db::access::authenticate(&mut conn.borrow_mut(), token).expect("query");
        assert!(refused.is_err());
    };
    let path_ratio = same_time("authenticate", || {
        medians(101, 20, || authenticate(&near), || authenticate(&far))
    });
    let mut report = Report::without_database("auth-timing");
    report.add(
        "Auth abuse",
        "timing of a wrong token right but for its last character vs one wrong from its first (medians of interleaved batches: 301×200 hash comparisons, 101×20 full checks on SQLite)",
        2,
        format!(
            "median ratios {compare_ratio:.2} (comparison) and {path_ratio:.2} (lookup and comparison); tolerance 1/{TOLERANCE}..{TOLERANCE}: no dependence on the matching prefix"
        ),
    );
    report.save();
}

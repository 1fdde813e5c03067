//! `TestApp`: the application started on port 0 with a fresh database of its own.

use std::future::Future;
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use liaison::db::DatabaseUrl;
use liaison::startup::{Application, Settings};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

/// The variable naming the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432`.
pub const POSTGRES_VAR: &str = "LIAISON_TEST_POSTGRES";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares test bodies once and runs each on both backends:
/// `backend_tests!(name, …)` for `async fn name(app: TestApp)` in the same module.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run(
                        $crate::helpers::Backend::Sqlite,
                        super::$name,
                    ).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(postgres_tests),
                    ignore = "PostgreSQL tests were not run: set LIAISON_TEST_POSTGRES (see README)"
                )]
                async fn $name() {
                    $crate::helpers::run(
                        $crate::helpers::Backend::Postgres,
                        super::$name,
                    ).await;
                }
            )*
        }
    };
}
pub(crate) use backend_tests;

/// Starts an app on `backend`, runs `test` against it, then drops its database.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let app = TestApp::spawn(backend).await;
    test(app).await;
}

/// A fresh database that removes itself when dropped, even when a test panics.
pub enum TestDatabase {
    /// Kept only so that the directory is removed when the test ends.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        server: String,
        name: String,
    },
}

impl TestDatabase {
    /// A new empty database on `backend` and its URL.
    pub fn create(backend: Backend) -> (Self, String) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = dir.path().join("liaison.db").to_string_lossy().into_owned();
                (TestDatabase::Sqlite { _dir: dir }, url)
            }
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_VAR)
                    .unwrap_or_else(|_| panic!("{POSTGRES_VAR} must name a PostgreSQL server"));
                let name = format!("liaison_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&database_url(&server, "postgres"))
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server}: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                let url = database_url(&server, &name);
                (TestDatabase::Postgres { server, name }, url)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { server, name } = self {
            if let Ok(mut admin) = PgConnection::establish(&database_url(server, "postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

pub fn database_url(server: &str, database: &str) -> String {
    let mut url = url::Url::parse(server).expect("LIAISON_TEST_POSTGRES is a URL");
    url.set_path(database);
    url.to_string()
}

pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    /// Sends the admin token with every request.
    pub client: reqwest::Client,
    /// Sends no token unless told to.
    anonymous: reqwest::Client,
    /// The `admin` token the app made at its first start; every request of the
    /// helpers below carries it unless a test asks otherwise (`request_as`).
    pub admin_token: String,
    database_url: String,
    _database: TestDatabase,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem response with this status and returns its body.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], json!(status), "{}", self.text);
        for member in ["type", "title", "detail"] {
            assert!(
                self.body[member].is_string(),
                "problem without {member}: {}",
                self.text
            );
        }
        self.body
    }

    /// The `(field, code)` pairs of a problem's `errors`.
    #[track_caller]
    pub fn field_errors(self, status: u16) -> Vec<(String, String)> {
        let body = self.problem(status);
        body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("problem without errors: {body}"))
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap_or_default().to_string(),
                    e["code"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub fn etag(&self) -> String {
        self.header("etag")
            .expect("response has an ETag")
            .to_string()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// As `spawn`, with settings changed by `configure` (a smaller pool, or the
    /// database reached through a proxy).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let (database, url) = TestDatabase::create(backend);
        let database_url = url.clone();
        let mut settings = Settings {
            database: DatabaseUrl::parse(&url),
            bind: "127.0.0.1:0".into(),
            pool_size: 4,
            pool_timeout: Duration::from_secs(10),
            workers: Some(2),
            shutdown_timeout: Duration::from_secs(1),
            cors_origins: vec!["https://frontend.example.edu".into()],
        };
        configure(&mut settings);
        let app = tokio::task::spawn_blocking(move || Application::build(&settings))
            .await
            .expect("build task")
            .expect("application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let admin_token = app
            .bootstrap_token()
            .expect("a new database gets a bootstrap token")
            .secret
            .clone();
        tokio::spawn(app.run_until_stopped());
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {admin_token}")
                .parse()
                .expect("a token is a header value"),
        );
        TestApp {
            backend,
            address,
            client: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .expect("HTTP client"),
            anonymous: reqwest::Client::new(),
            admin_token,
            database_url,
            _database: database,
        }
    }

    /// The app's own database, for tests that write or check rows directly.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Puts an enterprise, order class or internship base at `stage` since `days_ago`
    /// days, straight in the database: the API moves stages only through transitions,
    /// and reports need items that have sat at a stage for a while.
    pub fn set_stage(&self, kind: &str, id: &str, stage: &str, days_ago: i64) {
        use chrono::SubsecRound;
        use diesel::{ExpressionMethods, QueryDsl};
        use liaison::db::schema::{enterprises as e, internship_bases as ib, order_classes as oc};
        // Microseconds, as the app writes them: a finer stored time would sort after
        // the cursor made from it, and SQLite compares the text.
        let changed_at = (chrono::Utc::now() - chrono::Duration::days(days_ago))
            .trunc_subsecs(6)
            .naive_utc();
        let mut conn = liaison::db::ConnectionManager::new(DatabaseUrl::parse(&self.database_url))
            .open()
            .expect("test database connection");
        let id = id.to_string();
        let updated = match kind {
            "enterprise" => diesel::update(e::table.find(id))
                .set((e::stage.eq(stage), e::stage_changed_at.eq(changed_at)))
                .execute(&mut conn),
            "order_class" => diesel::update(oc::table.find(id))
                .set((oc::stage.eq(stage), oc::stage_changed_at.eq(changed_at)))
                .execute(&mut conn),
            "internship_base" => diesel::update(ib::table.find(id))
                .set((ib::stage.eq(stage), ib::stage_changed_at.eq(changed_at)))
                .execute(&mut conn),
            other => panic!("no stage on {other}"),
        };
        assert_eq!(updated.expect("stage set"), 1, "{kind} not found");
    }

    /// Moves the creation of an enterprise, order class or internship base back to
    /// `at` (RFC 3339), straight in the database: the API stamps `created_at` with
    /// the present, and the funnel report dates an item's entry by it.
    pub fn backdate_creation(&self, kind: &str, id: &str, at: &str) {
        use diesel::{ExpressionMethods, QueryDsl};
        use liaison::db::schema::{enterprises as e, internship_bases as ib, order_classes as oc};
        let created_at = chrono::DateTime::parse_from_rfc3339(at)
            .expect("an RFC 3339 time")
            .naive_utc();
        let mut conn = liaison::db::ConnectionManager::new(DatabaseUrl::parse(&self.database_url))
            .open()
            .expect("test database connection");
        let id = id.to_string();
        let updated = match kind {
            "enterprise" => diesel::update(e::table.find(id))
                .set(e::created_at.eq(created_at))
                .execute(&mut conn),
            "order_class" => diesel::update(oc::table.find(id))
                .set(oc::created_at.eq(created_at))
                .execute(&mut conn),
            "internship_base" => diesel::update(ib::table.find(id))
                .set(ib::created_at.eq(created_at))
                .execute(&mut conn),
            other => panic!("no stage on {other}"),
        };
        assert_eq!(updated.expect("creation moved"), 1, "{kind} not found");
    }

    /// Sends a request with the admin token; `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let token = self.admin_token.clone();
        self.request_as(Some(&token), method, path, body, headers)
            .await
    }

    /// Sends a request with `token` as its bearer token (`None`: no `Authorization`).
    pub async fn request_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .anonymous
            .request(method.clone(), format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::answer(method, path, request).await
    }

    /// Sends `bytes` as the body, of media type `content_type`, with `token`.
    pub async fn upload(
        &self,
        token: Option<&str>,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let mut request = self
            .anonymous
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .body(bytes);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::answer(Method::POST, path, request).await
    }

    /// Sends `request` and checks its answer against `openapi.yaml`.
    async fn answer(method: Method, path: &str, request: reqwest::RequestBuilder) -> Response {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !text.is_empty() && body.is_null() {
            assert!(
                !headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.contains("json")),
                "{method} {path}: a JSON content type with a body that is not JSON: {text}"
            );
        }
        crate::contract::check(
            method.as_str(),
            path,
            status,
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            &body,
        );
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, None, &[]).await
    }

    /// Creates a token with `role` through the API and returns its secret.
    pub async fn token(&self, name: &str, role: &str) -> String {
        let created = self
            .post("/api/v1/tokens", &json!({"name": name, "role": role}))
            .await
            .expect(201)
            .body;
        created["token"]
            .as_str()
            .expect("the new token's secret")
            .to_string()
    }

    /// Creates an enterprise from `body` and returns it (asserting 201).
    pub async fn enterprise(&self, body: Value) -> Value {
        self.post("/api/v1/enterprises", &body)
            .await
            .expect(201)
            .body
    }

    /// Creates a participant from `body` and returns it (asserting 201).
    pub async fn participant(&self, body: Value) -> Value {
        self.post("/api/v1/participants", &body)
            .await
            .expect(201)
            .body
    }

    /// Creates an order class from `body` and returns it (asserting 201).
    pub async fn order_class(&self, body: Value) -> Value {
        self.post("/api/v1/order-classes", &body)
            .await
            .expect(201)
            .body
    }

    /// Creates an internship base from `body` and returns it (asserting 201).
    pub async fn internship_base(&self, body: Value) -> Value {
        self.post("/api/v1/internship-bases", &body)
            .await
            .expect(201)
            .body
    }

    /// Creates an agreement from `body` and returns it (asserting 201).
    pub async fn agreement(&self, body: Value) -> Value {
        self.post("/api/v1/agreements", &body)
            .await
            .expect(201)
            .body
    }

    /// Sends a request with an `If-Match` header.
    pub async fn with_if_match(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        tag: &str,
    ) -> Response {
        self.request(method, path, body, &[("if-match", tag)]).await
    }

    /// The ids of one page of a list, and its `next_cursor`.
    pub async fn page(&self, path: &str) -> (Vec<String>, Option<String>) {
        let page = self.get(path).await.expect(200).body;
        let ids = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect();
        (ids, page["next_cursor"].as_str().map(str::to_string))
    }

    /// Follows `next_cursor` from `path` to the end; returns every item's id.
    pub async fn collect_ids(&self, path: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{separator}cursor={c}"),
                None => path.to_string(),
            };
            let page = self.get(&url).await.expect(200).body;
            ids.extend(page["items"].as_array().expect("items").iter().map(id_of));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return ids,
            }
        }
    }
}

pub fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("record has an id").to_string()
}

/// `(field, code)` pairs, sorted, for comparing error lists whose order does not matter.
pub fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

/// Owned `(field, code)` pairs, sorted.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    sorted(
        list.iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect(),
    )
}

/// A UUID no record has.
pub const MISSING_ID: &str = "01a22599-0000-7000-8000-000000000000";

/// Valid credit codes (GB 32100-2015) for tests that need several.
pub const CREDIT_CODES: &[&str] = &[
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91350100M000100Y43",
];

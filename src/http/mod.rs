//! HTTP: the route table, shared state and response helpers.

pub mod agreements;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod docs;
pub mod enterprises;
pub mod error;
pub mod extract;
pub mod health;
pub mod imports;
pub mod internship_bases;
pub mod metrics;
pub mod middleware;
pub mod order_classes;
pub mod participants;
pub mod reports;
pub mod resource;
pub mod tokens;
mod transitions;
pub mod visits;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpRequest, HttpResponse, Route};

use crate::db::{self, DbConn, Pool};
use crate::domain::access::Role;
use crate::domain::agreement::Agreement;
use crate::domain::enterprise::Enterprise;
use crate::domain::internship_base::InternshipBase;
use crate::domain::order_class::OrderClass;
use crate::domain::participant::Participant;
use crate::domain::visit::Visit;
use error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub pool: Pool,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// One permit per pooled connection. Requests wait for a permit here, as tasks,
    /// before taking a blocking thread: otherwise each of 32 concurrent requests held
    /// a thread of its own blocked on the pool (50 threads for a pool of 8), with
    /// the memory and the thread switches that cost.
    pub slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// How long a request waits for a permit: the pool's own timeout.
    pub slot_timeout: std::time::Duration,
    /// Tokens found usable a moment ago.
    pub tokens: auth::TokenCache,
    /// Which database the pool connects to.
    pub backend: db::Backend,
    /// On SQLite, the thread through which every change is committed in batches.
    writer: Option<db::writer::Writer>,
}

impl AppState {
    /// Fails when the writer thread cannot be started.
    pub fn new(
        pool: Pool,
        database: &db::DatabaseUrl,
        slot_timeout: std::time::Duration,
    ) -> std::io::Result<Self> {
        let slots = pool.max_size() as usize;
        let writer = match database.backend {
            db::Backend::Sqlite => Some(db::writer::Writer::start(db::ConnectionManager::new(
                database.clone(),
            ))?),
            db::Backend::Postgres => None,
        };
        Ok(Self {
            pool,
            metrics: Default::default(),
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(slots)),
            slot_timeout,
            tokens: Default::default(),
            backend: database.backend,
            writer,
        })
    }

    /// Runs database work that is a few index lookups (a record by its id). On
    /// SQLite, when a connection is free at once, it runs right here on the HTTP
    /// worker: a SQLite lookup takes microseconds, less than the trip to the
    /// blocking pool and back, and a read never waits for a writer in WAL mode.
    /// Otherwise, and on PostgreSQL (where each query is a network round trip that
    /// must not hold up the worker), it is `run`.
    pub async fn run_quick<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> db::Result<T> + Send + 'static,
    {
        if self.backend == db::Backend::Sqlite {
            if let Ok(_slot) = self.slots.clone().try_acquire_owned() {
                if let Some(mut conn) = self.pool.try_get() {
                    return work(&mut conn).map_err(ApiError::from);
                }
            }
        }
        self.run(work).await
    }

    /// Runs a change, all or nothing: on SQLite through the writer thread, in a
    /// batch committed with whatever other changes are waiting (one sync of the log
    /// for all of them); on PostgreSQL, which commits concurrent transactions side
    /// by side, in a transaction of its own on the blocking pool. Either way the
    /// writes nested in `work` first run without savepoints, so `work` may run
    /// twice: when a change batched with it fails, or a nested write fails (see
    /// `db::write_once`); only the run that is committed counts.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> db::Result<T> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work).await.map_err(ApiError::from),
            None => self.run(move |conn| db::write_once(conn, work)).await,
        }
    }

    /// Runs database work on the blocking thread pool, with a pooled connection.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> db::Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let metrics = self.metrics.clone();
        let waiters = &metrics.pool_waiters;
        waiters.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let slot =
            tokio::time::timeout(self.slot_timeout, self.slots.clone().acquire_owned()).await;
        let slot = match slot {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) => {
                waiters.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                return Err(ApiError::Internal("connection slots closed".into()));
            }
            Err(_) => {
                waiters.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                return Err(ApiError::Unavailable(
                    "timed out waiting for a database connection".into(),
                ));
            }
        };
        web::block(move || {
            let _slot = slot;
            let conn = pool.get();
            metrics
                .pool_waiters
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            let mut conn = conn?;
            let outcome = work(&mut conn);
            conn.note(&outcome);
            outcome
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
        .map_err(ApiError::from)
    }
}

/// One operation of the API: method, path template, handler, and the role it
/// needs (`None`: open to anyone).
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub needs: Option<Role>,
    route: fn() -> Route,
}

macro_rules! endpoint {
    ($method:ident $path:literal => $handler:path) => {
        endpoint!($method $path => $handler; default_role(&Method::$method, $path))
    };
    ($method:ident $path:literal => $handler:path; $needs:expr) => {
        Endpoint {
            method: Method::$method,
            path: $path,
            needs: $needs,
            route: || web::route().to($handler),
        }
    };
}

/// `/api/v1` reads need a `viewer` token and changes an `officer` token; probes and
/// the API document are open.
fn default_role(method: &Method, path: &str) -> Option<Role> {
    if !path.starts_with("/api/v1/") {
        None
    } else if method == Method::GET {
        Some(Role::Viewer)
    } else {
        Some(Role::Officer)
    }
}

/// Every route the service answers; `openapi.yaml` must list exactly these.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint!(GET "/healthz" => health::healthz),
        endpoint!(GET "/readyz" => health::readyz),
        endpoint!(GET "/openapi.yaml" => health::openapi),
        endpoint!(GET "/metrics" => metrics::metrics),
        endpoint!(GET "/docs" => docs::page),
        endpoint!(GET "/docs/{file}" => docs::asset),
        endpoint!(GET "/api/v1/enterprises" => resource::list::<Enterprise>),
        endpoint!(POST "/api/v1/enterprises" => resource::create::<Enterprise>),
        endpoint!(GET "/api/v1/enterprises/{id}" => enterprises::get),
        endpoint!(PATCH "/api/v1/enterprises/{id}" => resource::update::<Enterprise>),
        endpoint!(DELETE "/api/v1/enterprises/{id}" => enterprises::archive),
        endpoint!(POST "/api/v1/enterprises/{id}/restore" => resource::restore::<Enterprise>),
        endpoint!(GET "/api/v1/enterprises/{id}/transitions" => transitions::list::<Enterprise>),
        endpoint!(POST "/api/v1/enterprises/{id}/transitions" => transitions::create::<Enterprise>),
        endpoint!(GET "/api/v1/enterprises/{id}/timeline" => enterprises::timeline),
        endpoint!(GET "/api/v1/participants" => resource::list::<Participant>),
        endpoint!(POST "/api/v1/participants" => resource::create::<Participant>),
        endpoint!(GET "/api/v1/participants/{id}" => resource::get::<Participant>),
        endpoint!(PATCH "/api/v1/participants/{id}" => resource::update::<Participant>),
        endpoint!(DELETE "/api/v1/participants/{id}" => resource::archive::<Participant>),
        endpoint!(POST "/api/v1/participants/{id}/restore" => resource::restore::<Participant>),
        endpoint!(GET "/api/v1/visits" => resource::list::<Visit>),
        endpoint!(GET "/api/v1/visits.ics" => calendar::feed; Some(Role::Feed)),
        endpoint!(POST "/api/v1/visits" => resource::create::<Visit>),
        endpoint!(GET "/api/v1/visits/{id}" => resource::get::<Visit>),
        endpoint!(PATCH "/api/v1/visits/{id}" => resource::update::<Visit>),
        endpoint!(DELETE "/api/v1/visits/{id}" => resource::archive::<Visit>),
        endpoint!(POST "/api/v1/visits/{id}/restore" => resource::restore::<Visit>),
        endpoint!(GET "/api/v1/order-classes" => resource::list::<OrderClass>),
        endpoint!(POST "/api/v1/order-classes" => resource::create::<OrderClass>),
        endpoint!(GET "/api/v1/order-classes/{id}" => resource::get::<OrderClass>),
        endpoint!(PATCH "/api/v1/order-classes/{id}" => resource::update::<OrderClass>),
        endpoint!(DELETE "/api/v1/order-classes/{id}" => resource::archive::<OrderClass>),
        endpoint!(POST "/api/v1/order-classes/{id}/restore" => resource::restore::<OrderClass>),
        endpoint!(GET "/api/v1/order-classes/{id}/transitions" => transitions::list::<OrderClass>),
        endpoint!(POST "/api/v1/order-classes/{id}/transitions" => transitions::create::<OrderClass>),
        endpoint!(GET "/api/v1/internship-bases" => resource::list::<InternshipBase>),
        endpoint!(POST "/api/v1/internship-bases" => resource::create::<InternshipBase>),
        endpoint!(GET "/api/v1/internship-bases/{id}" => resource::get::<InternshipBase>),
        endpoint!(PATCH "/api/v1/internship-bases/{id}" => resource::update::<InternshipBase>),
        endpoint!(DELETE "/api/v1/internship-bases/{id}" => resource::archive::<InternshipBase>),
        endpoint!(POST "/api/v1/internship-bases/{id}/restore" => resource::restore::<InternshipBase>),
        endpoint!(GET "/api/v1/internship-bases/{id}/transitions" => transitions::list::<InternshipBase>),
        endpoint!(POST "/api/v1/internship-bases/{id}/transitions" => transitions::create::<InternshipBase>),
        endpoint!(GET "/api/v1/agreements" => resource::list::<Agreement>),
        endpoint!(POST "/api/v1/agreements" => resource::create::<Agreement>),
        endpoint!(GET "/api/v1/agreements/{id}" => resource::get::<Agreement>),
        endpoint!(PATCH "/api/v1/agreements/{id}" => resource::update::<Agreement>),
        endpoint!(DELETE "/api/v1/agreements/{id}" => resource::archive::<Agreement>),
        endpoint!(POST "/api/v1/agreements/{id}/restore" => resource::restore::<Agreement>),
        endpoint!(POST "/api/v1/imports/{kind}" => imports::create),
        endpoint!(GET "/api/v1/reports/pipeline" => reports::pipeline),
        endpoint!(GET "/api/v1/reports/funnel" => reports::funnel),
        endpoint!(GET "/api/v1/reports/stalled" => reports::stalled),
        endpoint!(GET "/api/v1/reports/expiring" => reports::expiring),
        endpoint!(GET "/api/v1/reports/activity" => reports::activity),
        endpoint!(GET "/api/v1/audit" => audit::list; Some(Role::Officer)),
        endpoint!(GET "/api/v1/tokens" => tokens::list; Some(Role::Admin)),
        endpoint!(POST "/api/v1/tokens" => tokens::create; Some(Role::Admin)),
        endpoint!(DELETE "/api/v1/tokens/{id}" => tokens::revoke; Some(Role::Admin)),
    ]
}

/// The methods an endpoint answers: a GET also answers HEAD (RFC 9110, 9.3.2),
/// through the same handler and checks; the server sends the headers without the
/// body.
fn methods(endpoint: &Endpoint) -> Vec<Method> {
    if endpoint.method == Method::GET {
        vec![Method::GET, Method::HEAD]
    } else {
        vec![endpoint.method.clone()]
    }
}

/// Mounts every endpoint, one resource per path so that a wrong method gets 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let endpoints = endpoints();
    let mut paths: Vec<&'static str> = endpoints.iter().map(|e| e.path).collect();
    paths.dedup();
    for path in paths {
        let allowed: Vec<&Endpoint> = endpoints.iter().filter(|e| e.path == path).collect();
        let allow = allowed
            .iter()
            .flat_map(|e| methods(e))
            .map(|method| method.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resource = web::resource(path);
        for endpoint in allowed {
            for method in methods(endpoint) {
                let mut route = (endpoint.route)().method(method);
                if let Some(needs) = endpoint.needs {
                    route = route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
                        auth::authorize(needs, req, next)
                    }));
                }
                resource = resource.route(route);
            }
        }
        cfg.service(resource.default_service(web::to(move |req: HttpRequest| {
            let allowed = allow.clone();
            async move {
                Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
                    method: req.method().to_string(),
                    allowed,
                })
            }
        })));
    }
}

/// The answer for unknown paths.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        method: req.method().to_string(),
        path: req.path().to_string(),
    })
}

/// A record answered with its `ETag` (its version).
pub fn record<T: serde::Serialize>(status: StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, extract::etag(version)))
        .json(body)
}

/// `201 Created` with the new record's `Location`.
pub fn created<T: serde::Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    let mut response = record(StatusCode::CREATED, version, body);
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

//! Every list, get and report endpoint uses an index for its filters: the SQL each
//! request really runs is captured from the app's own connections (a diesel
//! instrumentation), then explained on both backends, and a full scan of a table
//! that grows with the visits fails the test. Capturing, rather than rebuilding the
//! queries here, means the test cannot drift from the code.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, Once};
use std::time::Duration;

use diesel::connection::{
    set_default_instrumentation, Instrumentation, InstrumentationEvent, SimpleConnection,
};
use diesel::prelude::*;
use diesel::sql_types::Text;
use liaison::db::{self, DatabaseUrl, DbConn};
use liaison::seed::{self, Options, Silent};
use serde_json::Value;

use crate::helpers::{id_of, Backend, TestApp};

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_read_endpoint_uses_an_index_for_its_filters() {
        super::every_read_endpoint_uses_an_index_for_its_filters(super::Backend::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(postgres_tests),
        ignore = "PostgreSQL tests were not run: set LIAISON_TEST_POSTGRES (see README)"
    )]
    async fn every_read_endpoint_uses_an_index_for_its_filters() {
        super::every_read_endpoint_uses_an_index_for_its_filters(super::Backend::Postgres).await;
    }
}

/// Tables whose size grows with the visits (a million visits: millions of rows).
/// No request may read one of them whole.
const VISIT_SCALE: &[&str] = &[
    "visits",
    "visit_enterprises",
    "visit_participants",
    "visit_order_classes",
    "visit_internship_bases",
    "stage_transitions",
    "audit_log",
];

/// Tables with a row per partner or record (tens of thousands at a million visits):
/// a list or get that filters one of them must not read it whole. Reports that
/// count every item may.
const RECORD_SCALE: &[&str] = &[
    "enterprises",
    "participants",
    "order_classes",
    "internship_bases",
    "agreements",
];

/// The SQL captured per database URL; only URLs registered by `watch` are recorded.
static CAPTURED: Mutex<Option<HashMap<String, Vec<String>>>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Records the statements of connections to one watched database.
struct Recorder {
    url: Option<String>,
}

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                let captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
                if captured.as_ref().is_some_and(|c| c.contains_key(url)) {
                    self.url = Some(url.to_string());
                }
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                let Some(url) = &self.url else { return };
                let text = query.to_string();
                let sql = text
                    .split_once(" -- binds: ")
                    .map_or(&*text, |(sql, _)| sql);
                let mut captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(list) = captured.as_mut().and_then(|c| c.get_mut(url)) {
                    list.push(sql.trim().to_string());
                }
            }
            _ => {}
        }
    }
}

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(Recorder { url: None }))
}

/// Starts recording the statements of connections opened to `url` from now on.
fn watch(url: &str) {
    INSTALL.call_once(|| {
        set_default_instrumentation(recorder).expect("instrumentation installed");
    });
    let mut captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
    captured
        .get_or_insert_with(HashMap::new)
        .insert(url.to_string(), Vec::new());
}

/// The reads (SELECT or WITH) recorded for `url` since the last call.
fn take(url: &str) -> Vec<String> {
    let mut captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
    let list = captured
        .as_mut()
        .and_then(|c| c.get_mut(url))
        .map(std::mem::take)
        .unwrap_or_default();
    let reads: BTreeSet<String> = list
        .into_iter()
        .filter(|sql| {
            let head = sql.trim_start().to_ascii_uppercase();
            head.starts_with("SELECT") || head.starts_with("WITH")
        })
        .collect();
    reads.into_iter().collect()
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

/// Why a statement's plan reads a big table whole, if it does.
fn full_scans(conn: &mut DbConn, sql: &str, report: bool) -> Vec<String> {
    match conn {
        DbConn::Sqlite(c) => {
            // Unbound parameters are NULL; the plan does not depend on their values.
            // The statement is the app's own, captured above: only the EXPLAIN
            // prefix is added here.
            let rows: Vec<SqlitePlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load(c)
                .unwrap_or_else(|e| panic!("EXPLAIN QUERY PLAN {sql}: {e}"));
            let aliases = aliases(sql);
            let limited = sql.to_ascii_uppercase().contains(" LIMIT ");
            let mut scans = Vec::new();
            for row in rows {
                let words: Vec<&str> = row.detail.split_whitespace().collect();
                let (verb, name) = match words.as_slice() {
                    [verb, name, ..] => (*verb, *name),
                    _ => continue,
                };
                let table = aliases.get(name).map_or(name, String::as_str);
                let big = VISIT_SCALE.contains(&table);
                let whole = match verb {
                    // A walk along an index in its order stops at the LIMIT.
                    "SCAN" => !(limited && row.detail.contains(" USING ")),
                    // An automatic index is built by reading the table whole.
                    "SEARCH" => row.detail.contains("AUTOMATIC"),
                    _ => false,
                };
                if big && whole {
                    scans.push(row.detail);
                }
            }
            scans
        }
        DbConn::Pg(c) => {
            // The generic plan is the one made without knowing the parameters, so it
            // shows which indexes the statement can use; the tables look a thousand
            // times their size (see `as_if_a_million_visits`) and sequential scans
            // are priced out, so a table is read whole only when no index serves.
            // Without the LIMIT's value the planner guesses that much of a table is
            // wanted and prefers hash and merge joins that read whole tables, which
            // it does not do for a real page: joins are made by nested loops here.
            let params = (1..=64)
                .take_while(|n| sql.contains(&format!("${n}")))
                .map(|_| "NULL")
                .collect::<Vec<_>>()
                .join(", ");
            let execute = if params.is_empty() {
                "EXPLAIN (FORMAT JSON) EXECUTE liaison_plan".to_string()
            } else {
                format!("EXPLAIN (FORMAT JSON) EXECUTE liaison_plan({params})")
            };
            c.batch_execute(&format!(
                "SET enable_seqscan = off; SET enable_hashjoin = off; \
                 SET enable_mergejoin = off; SET plan_cache_mode = force_generic_plan; \
                 PREPARE liaison_plan AS {sql}"
            ))
            .unwrap_or_else(|e| panic!("PREPARE {sql}: {e}"));
            let plan = diesel::sql_query(execute).get_result::<PgPlan>(c);
            c.batch_execute("DEALLOCATE liaison_plan")
                .expect("DEALLOCATE");
            let plan = plan.unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
            let plan: Value = serde_json::from_str(&plan.plan).expect("a JSON plan");
            let indexes = pg_indexes(c);
            let mut scans = Vec::new();
            pg_scans(&plan[0]["Plan"], false, report, &indexes, &mut scans);
            scans
        }
    }
}

/// Makes PostgreSQL's planner see the seeded thousand visits as a million: on tables
/// of a few pages, walking a whole index costs next to nothing and plans stop
/// telling whether an index serves the filter. The row counts are scaled in the
/// catalog (the planner reads the density of rows per page from there); the
/// distributions that ANALYZE measured stay as they are.
fn as_if_a_million_visits(conn: &mut DbConn) {
    if let DbConn::Pg(c) = conn {
        c.batch_execute(
            "UPDATE pg_class SET reltuples = reltuples * 1000 \
             WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i') \
             AND reltuples > 0",
        )
        .expect("row counts scaled");
    }
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    index: String,
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    leading: String,
}

/// Every index of the schema: its table and its first column. A condition on a
/// later column only still walks the whole index (PostgreSQL 15 has no skip scan).
fn pg_indexes(conn: &mut diesel::PgConnection) -> HashMap<String, (String, String)> {
    diesel::sql_query(
        "SELECT ic.relname::text AS index, tc.relname::text AS table, a.attname::text AS leading \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class tc ON tc.oid = i.indrelid \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
         WHERE tc.relnamespace = 'public'::regnamespace",
    )
    .load::<PgIndex>(conn)
    .expect("indexes")
    .into_iter()
    .map(|i| (i.index, (i.table, i.leading)))
    .collect()
}

/// Walks a PostgreSQL plan for nodes that read a big table whole: a sequential scan,
/// or an index walked without a condition on its first column (unless a LIMIT stops
/// the walk early).
fn pg_scans(
    node: &Value,
    limited: bool,
    report: bool,
    indexes: &HashMap<String, (String, String)>,
    scans: &mut Vec<String>,
) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let limited = limited || kind == "Limit";
    let index = node["Index Name"]
        .as_str()
        .and_then(|i| indexes.get(i).map(|d| (i, d)));
    let table = node["Relation Name"]
        .as_str()
        .or(index.map(|(_, (table, _))| table.as_str()));
    if let Some(table) = table {
        let filtered = node.get("Filter").is_some() || node.get("Index Cond").is_some();
        let whole = match (kind, index) {
            ("Seq Scan", _) => true,
            ("Index Scan" | "Index Only Scan" | "Bitmap Index Scan", Some((_, (_, leading)))) => {
                let served = node["Index Cond"]
                    .as_str()
                    .is_some_and(|cond| cond.contains(&format!("({leading} ")));
                // An ordered walk with no condition at all stops at the LIMIT.
                let stops_early = limited && node.get("Index Cond").is_none();
                !served && !stops_early
            }
            _ => false,
        };
        let big =
            VISIT_SCALE.contains(&table) || (!report && filtered && RECORD_SCALE.contains(&table));
        if whole && big {
            let on = index.map_or(String::new(), |(i, _)| format!(" using {i}"));
            let cond = node["Index Cond"]
                .as_str()
                .or(node["Filter"].as_str())
                .unwrap_or("no condition");
            scans.push(format!("{kind}{on} on {table} ({cond})"));
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        pg_scans(child, limited, report, indexes, scans);
    }
}

/// The tables a statement names, by the name or alias SQLite's plan shows them by.
fn aliases(sql: &str) -> HashMap<String, String> {
    const KEYWORDS: &[&str] = &[
        "WHERE", "JOIN", "LEFT", "INNER", "CROSS", "ON", "ORDER", "GROUP", "LIMIT", "UNION", "AND",
        "OR", "SET", "USING", "HAVING", "WINDOW", "OFFSET",
    ];
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches('"').to_string())
        .collect();
    let mut aliases = HashMap::new();
    for (i, word) in words.iter().enumerate() {
        let upper = word.to_ascii_uppercase();
        if upper != "FROM" && upper != "JOIN" {
            continue;
        }
        let Some(table) = words.get(i + 1) else {
            continue;
        };
        aliases.insert(table.clone(), table.clone());
        let mut next = i + 2;
        if words
            .get(next)
            .is_some_and(|w| w.eq_ignore_ascii_case("AS"))
        {
            next += 1;
        }
        if let Some(alias) = words.get(next) {
            if !KEYWORDS.contains(&alias.to_ascii_uppercase().as_str()) {
                aliases.insert(alias.clone(), table.clone());
            }
        }
    }
    aliases
}

/// The endpoint template a request path belongs to (`/api/v1/visits/{id}`).
fn template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|segment| {
            if uuid::Uuid::parse_str(segment).is_ok() {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn first_id(app: &TestApp, path: &str) -> String {
    let page = app.get(path).await.expect(200).body;
    id_of(&page["items"][0])
}

async fn every_read_endpoint_uses_an_index_for_its_filters(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| watch(&settings.database.url)).await;
    let url = DatabaseUrl::parse(app.database_url());
    let seeded = url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = db::pool(&seeded, 1, Duration::from_secs(10)).expect("pool");
        let mut conn = pool.get().expect("connection");
        let options = Options {
            enterprises: 40,
            rng_seed: 21,
            force: false,
            today: chrono::Utc::now().date_naive(),
        };
        seed::synthetic(&mut conn, &options, &mut Silent).expect("synthetic loads");
        as_if_a_million_visits(&mut conn);
    })
    .await
    .expect("seed task");

    // Ids to read, and an audit entry to list.
    let enterprise = first_id(&app, "/api/v1/enterprises?stage=agreement").await;
    let park = first_id(&app, "/api/v1/enterprises?kind=industrial_park").await;
    let participant = first_id(&app, "/api/v1/participants?side=partner").await;
    let visit = first_id(&app, "/api/v1/visits?sort=-starts_at").await;
    let class = first_id(&app, "/api/v1/order-classes").await;
    let base = first_id(&app, "/api/v1/internship-bases").await;
    let agreement = first_id(&app, "/api/v1/agreements").await;
    app.patch(
        &format!("/api/v1/enterprises/{enterprise}"),
        &serde_json::json!({"description": "query plans"}),
    )
    .await
    .expect(200);
    let page = app
        .get("/api/v1/visits?sort=starts_at&limit=2")
        .await
        .expect(200);
    let cursor = page.body["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let range = "from=2024-01-01&to=2025-12-31";

    let requests: Vec<String> = vec![
        "/api/v1/enterprises".into(),
        "/api/v1/enterprises?stage=negotiation".into(),
        "/api/v1/enterprises?kind=company&sort=-created_at".into(),
        format!("/api/v1/enterprises?parent_id={park}"),
        "/api/v1/enterprises?q=化工".into(),
        "/api/v1/enterprises?sort=updated_at".into(),
        format!("/api/v1/enterprises/{enterprise}"),
        format!(
            "/api/v1/enterprises/{enterprise}?include=participants,visits,order_classes,internship_bases,agreements,members,history"
        ),
        format!("/api/v1/enterprises/{enterprise}/transitions"),
        format!("/api/v1/enterprises/{enterprise}/timeline"),
        format!("/api/v1/enterprises/{enterprise}/timeline?{range}"),
        "/api/v1/participants".into(),
        "/api/v1/participants?side=school".into(),
        format!("/api/v1/participants?enterprise_id={enterprise}"),
        "/api/v1/participants?q=王".into(),
        format!("/api/v1/participants/{participant}"),
        "/api/v1/visits".into(),
        format!("/api/v1/visits?{range}&sort=starts_at"),
        format!("/api/v1/visits?{range}&sort=starts_at&cursor={cursor}"),
        format!("/api/v1/visits?enterprise_id={enterprise}&{range}&sort=starts_at"),
        format!("/api/v1/visits?enterprise_id={park}&include_members=true"),
        format!("/api/v1/visits?participant_id={participant}"),
        "/api/v1/visits?status=planned&sort=-created_at".into(),
        "/api/v1/visits?direction=online".into(),
        "/api/v1/visits?q=交流&limit=50".into(),
        format!("/api/v1/visits.ics?enterprise_id={enterprise}"),
        format!("/api/v1/visits/{visit}"),
        "/api/v1/order-classes".into(),
        format!("/api/v1/order-classes?enterprise_id={enterprise}"),
        "/api/v1/order-classes?stage=implementation".into(),
        format!("/api/v1/order-classes/{class}"),
        format!("/api/v1/order-classes/{class}/transitions"),
        "/api/v1/internship-bases".into(),
        format!("/api/v1/internship-bases?enterprise_id={enterprise}"),
        format!("/api/v1/internship-bases/{base}"),
        format!("/api/v1/internship-bases/{base}/transitions"),
        "/api/v1/agreements".into(),
        format!("/api/v1/agreements?enterprise_id={enterprise}"),
        "/api/v1/agreements?sort=valid_until".into(),
        format!("/api/v1/agreements/{agreement}"),
        "/api/v1/reports/pipeline".into(),
        format!("/api/v1/reports/pipeline?park_id={park}"),
        "/api/v1/reports/funnel".into(),
        "/api/v1/reports/stalled".into(),
        "/api/v1/reports/stalled?days=30&kind=order_class".into(),
        "/api/v1/reports/expiring".into(),
        format!("/api/v1/reports/activity?{range}"),
        format!("/api/v1/reports/activity?{range}&group=enterprise"),
        "/api/v1/audit".into(),
        format!("/api/v1/audit?entity_id={enterprise}"),
        "/api/v1/tokens".into(),
    ];

    // No read endpoint is left out.
    let covered: BTreeSet<String> = requests.iter().map(|r| template(r)).collect();
    for endpoint in liaison::http::endpoints() {
        if endpoint.method == actix_web::http::Method::GET && endpoint.path.starts_with("/api/v1/")
        {
            assert!(
                covered.contains(endpoint.path),
                "GET {} is not explained here",
                endpoint.path
            );
        }
    }

    let mut explained = 0;
    let mut failures = Vec::new();
    take(&url.url);
    for request in &requests {
        let answer = app.get(request).await;
        assert_eq!(answer.status, 200, "GET {request}: {}", answer.text);
        let statements = take(&url.url);
        assert!(!statements.is_empty(), "GET {request} ran no query");
        let report = request.starts_with("/api/v1/reports/");
        let explain_url = url.clone();
        let plans = tokio::task::spawn_blocking(move || {
            let pool = db::pool(&explain_url, 1, Duration::from_secs(10)).expect("pool");
            let mut conn = pool.get().expect("connection");
            statements
                .into_iter()
                .map(|sql| {
                    let scans = full_scans(&mut conn, &sql, report);
                    (sql, scans)
                })
                .collect::<Vec<_>>()
        })
        .await
        .expect("explain task");
        for (sql, scans) in plans {
            explained += 1;
            if !scans.is_empty() {
                failures.push(format!("GET {request}\n  {sql}\n  reads whole: {scans:?}"));
            }
        }
    }
    assert!(
        explained >= requests.len(),
        "{explained} statements explained"
    );
    assert!(
        failures.is_empty(),
        "{} statement(s) read a big table whole:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

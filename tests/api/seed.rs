//! `liaison seed`: the demo and synthetic data sets, loaded through the library
//! functions the command calls, then read back over HTTP and counted directly.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use liaison::db::schema::{
    agreements, enterprises, internship_bases, order_classes, participants, stage_transitions,
    visit_enterprises, visit_internship_bases, visit_order_classes, visit_participants, visits,
};
use liaison::db::{self, DatabaseUrl, DbConn};
use liaison::seed::{self, Options, SeedError, Silent, Summary};
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp, CREDIT_CODES};

backend_tests!(
    demo_is_readable_through_the_api,
    demo_park_page_tells_the_whole_story,
    demo_stage_history_matches_the_items,
    demo_funnel_tells_how_2025s_intentions_fared,
    demo_refuses_a_database_with_enterprises,
    demo_with_force_stops_on_a_taken_name,
    synthetic_counts_and_links_hold,
    synthetic_records_pass_the_api_rules,
    synthetic_stage_history_matches_the_items,
    synthetic_is_the_same_for_the_same_seed,
    synthetic_with_force_avoids_taken_names,
);

/// Runs `work` on a connection of its own to the app's database, off the runtime.
async fn with_db<T, F>(app: &TestApp, work: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> T + Send + 'static,
{
    let url = DatabaseUrl::parse(app.database_url());
    tokio::task::spawn_blocking(move || {
        let pool = db::pool(&url, 1, Duration::from_secs(10)).expect("database pool");
        let mut conn = pool.get().expect("database connection");
        work(&mut conn)
    })
    .await
    .expect("database task")
}

fn options(enterprises: usize, rng_seed: u64) -> Options {
    Options {
        enterprises,
        rng_seed,
        force: false,
        today: NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date"),
    }
}

/// Every table's row count, in `Summary`'s terms.
fn counts(conn: &mut DbConn) -> Summary {
    fn n(count: QueryResult<i64>) -> usize {
        count.expect("count") as usize
    }
    Summary {
        enterprises: n(enterprises::table.count().get_result(conn)),
        participants: n(participants::table.count().get_result(conn)),
        order_classes: n(order_classes::table.count().get_result(conn)),
        internship_bases: n(internship_bases::table.count().get_result(conn)),
        agreements: n(agreements::table.count().get_result(conn)),
        visits: n(visits::table.count().get_result(conn)),
        visit_enterprises: n(visit_enterprises::table.count().get_result(conn)),
        visit_participants: n(visit_participants::table.count().get_result(conn)),
        visit_order_classes: n(visit_order_classes::table.count().get_result(conn)),
        visit_internship_bases: n(visit_internship_bases::table.count().get_result(conn)),
        stage_transitions: n(stage_transitions::table.count().get_result(conn)),
        ..Summary::default()
    }
}

/// A summary with only the counts, to compare with `counts`.
fn counts_of(summary: &Summary) -> Summary {
    Summary {
        park_id: None,
        rng_seed: None,
        elapsed: Duration::ZERO,
        ..summary.clone()
    }
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("a list page")
}

/// Every enterprise, order class and base with its stage history, read through
/// `GET …/transitions`, once checked for what holds of any item: the moves chain, and
/// the last ends at the item's stage and `stage_changed_at`.
async fn histories(app: &TestApp) -> Vec<(Value, Vec<Value>)> {
    let mut all = Vec::new();
    for collection in [
        "/api/v1/enterprises",
        "/api/v1/order-classes",
        "/api/v1/internship-bases",
    ] {
        let list = app
            .get(&format!("{collection}?limit=200"))
            .await
            .expect(200)
            .body;
        for item in items(&list) {
            let id = id_of(item);
            let history = app
                .get(&format!("{collection}/{id}/transitions"))
                .await
                .expect(200)
                .body;
            let history = items(&history).clone();
            if let Some(last) = history.last() {
                assert_eq!(last["to_stage"], item["stage"], "{item}");
                assert_eq!(last["occurred_at"], item["stage_changed_at"], "{item}");
            }
            for pair in history.windows(2) {
                assert_eq!(pair[1]["from_stage"], pair[0]["to_stage"], "{item}");
            }
            all.push((item.clone(), history));
        }
    }
    all
}

async fn demo_is_readable_through_the_api(app: TestApp) {
    let summary = with_db(&app, |conn| seed::demo(conn, false))
        .await
        .expect("demo loads");
    let park = summary.park_id.expect("the park's id").to_string();

    let parks = app
        .get("/api/v1/enterprises?kind=industrial_park")
        .await
        .expect(200)
        .body;
    let [only] = items(&parks).as_slice() else {
        panic!("one park: {parks}")
    };
    assert_eq!(only["id"], json!(park));
    assert_eq!(only["name"], "Shanghai Carbonbay Industrial Park");
    assert_eq!(only["region"], "Shanghai");
    assert_eq!(only["stage"], "intention");

    let members = app
        .get(&format!("/api/v1/enterprises?parent_id={park}&sort=name"))
        .await
        .expect(200)
        .body;
    let members: Vec<(&str, &str, &str)> = items(&members)
        .iter()
        .map(|m| {
            assert_eq!(m["parent_id"], json!(park));
            assert!(
                m["credit_code"].as_str().is_some_and(|c| c.len() == 18),
                "{m}"
            );
            (
                m["name"].as_str().unwrap_or_default(),
                m["kind"].as_str().unwrap_or_default(),
                m["industry"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            ("DR New Materials", "company", "new materials"),
            ("Mitsui Chemical", "company", "chemicals")
        ]
    );

    let people = app
        .get(&format!(
            "/api/v1/participants?enterprise_id={park}&side=partner"
        ))
        .await
        .expect(200)
        .body;
    let dong = items(&people)
        .iter()
        .find(|p| p["full_name"] == "Dong Xiaodan")
        .unwrap_or_else(|| panic!("Dong Xiaodan among the park's people: {people}"));
    assert_eq!(dong["title"], "Chief Economist");
    assert_eq!(dong["side"], "partner");
    let president = app
        .get("/api/v1/participants?side=school&q=chen%20xiaobin")
        .await
        .expect(200)
        .body;
    assert_eq!(items(&president)[0]["title"], "President");

    // Every list the API serves today has the demo in it.
    for path in ["/api/v1/enterprises", "/api/v1/participants"] {
        assert!(!items(&app.get(path).await.expect(200).body).is_empty());
    }

    let park_id = park.clone();
    let (counted, visit, links, class, base) = with_db(&app, move |conn| {
        let counted = counts(conn);
        let visit: (String, String, String, NaiveDateTime, Option<NaiveDateTime>) = visits::table
            .filter(visits::starts_at.eq(at("2024-11-29T02:00:00")))
            .select((
                visits::id,
                visits::direction,
                visits::status,
                visits::starts_at,
                visits::ends_at,
            ))
            .first(conn)
            .expect("the visit of 29 November 2024");
        let links: Vec<(String, String, NaiveDateTime)> = visit_participants::table
            .inner_join(participants::table)
            .filter(visit_participants::visit_id.eq(&visit.0))
            .select((
                participants::full_name,
                visit_participants::role,
                visit_participants::starts_at,
            ))
            .order(participants::full_name)
            .load(conn)
            .expect("the visit's people");
        let class: (String, String, i32, i32) = order_classes::table
            .inner_join(visit_order_classes::table)
            .filter(visit_order_classes::visit_id.eq(&visit.0))
            .select((
                order_classes::enterprise_id,
                order_classes::stage,
                order_classes::planned_size,
                order_classes::enrolled_count,
            ))
            .first(conn)
            .expect("the order class discussed");
        let base: (String, String) = internship_bases::table
            .inner_join(visit_internship_bases::table)
            .filter(visit_internship_bases::visit_id.eq(&visit.0))
            .select((internship_bases::enterprise_id, internship_bases::stage))
            .first(conn)
            .expect("the base proposed");
        let visiting: Vec<String> = visit_enterprises::table
            .filter(visit_enterprises::visit_id.eq(&visit.0))
            .select(visit_enterprises::enterprise_id)
            .load(conn)
            .expect("the visit's enterprises");
        assert_eq!(visiting.len(), 3, "the park and its two companies");
        assert!(visiting.contains(&park_id));
        (counted, visit, links, class, base)
    })
    .await;
    assert_eq!(counted, counts_of(&summary));
    assert_eq!(
        (
            counted.enterprises,
            counted.visits,
            counted.order_classes,
            counted.internship_bases,
            counted.agreements
        ),
        (8, 6, 2, 2, 2)
    );
    assert_eq!((visit.1.as_str(), visit.2.as_str()), ("inbound", "held"));
    assert_eq!(visit.4, Some(at("2024-11-29T04:00:00")));
    let roles: Vec<(&str, &str)> = links
        .iter()
        .map(|(name, role, starts_at)| {
            assert_eq!(*starts_at, visit.3, "link carries the visit's start");
            (name.as_str(), role.as_str())
        })
        .collect();
    assert!(roles.contains(&("Chen Xiaobin", "host")), "{roles:?}");
    assert!(roles.contains(&("Dong Xiaodan", "speaker")), "{roles:?}");
    assert!(roles.len() >= 5, "{roles:?}");
    assert_eq!(class, (park.clone(), "intention".to_string(), 40, 0));
    assert_eq!(base, (park.clone(), "intention".to_string()));

    // The seeded hierarchy is live data: the park cannot become its member's member.
    let mitsui = app
        .get("/api/v1/enterprises?q=mitsui")
        .await
        .expect(200)
        .body;
    let mitsui = id_of(&items(&mitsui)[0]);
    let errors = app
        .patch(
            &format!("/api/v1/enterprises/{park}"),
            &json!({"parent_id": mitsui}),
        )
        .await
        .field_errors(422);
    assert_eq!(errors[0].0, "parent_id", "{errors:?}");
}

/// Every staged item's history, read through `GET …/transitions`, ends at the item's
/// stage; the park's order class and base came on record at the 29 November visit.
async fn demo_stage_history_matches_the_items(app: TestApp) {
    let summary = with_db(&app, |conn| seed::demo(conn, false))
        .await
        .expect("demo loads");
    let park = summary.park_id.expect("the park's id").to_string();
    let mut seen = 0;
    let mut stages = HashSet::new();
    for (item, history) in histories(&app).await {
        seen += history.len();
        if history.is_empty() {
            assert_eq!(item["stage"], "intention", "{item}");
        }
        stages.insert(item["stage"].as_str().unwrap_or_default().to_string());
        if item["enterprise_id"] == json!(park) {
            let [first] = history.as_slice() else {
                panic!("one move for {item}: {history:?}")
            };
            assert_eq!(first["from_stage"], Value::Null);
            assert_eq!(first["to_stage"], "intention");
            assert_eq!(first["visit"]["starts_at"], "2024-11-29T02:00:00Z");
        }
    }
    assert_eq!(seen, summary.stage_transitions);
    assert!(seen >= 8, "{seen}");
    for stage in ["intention", "negotiation", "agreement", "implementation"] {
        assert!(stages.contains(stage), "an item at {stage}: {stages:?}");
    }
    // The park's timeline tells the same story.
    let timeline = app
        .get(&format!("/api/v1/enterprises/{park}/timeline"))
        .await
        .expect(200)
        .body;
    let kinds: Vec<&str> = items(&timeline)
        .iter()
        .filter(|e| e["at"].as_str().is_some_and(|at| at < "2025"))
        .map(|e| e["kind"].as_str().unwrap_or_default())
        .collect();
    // The park itself, its order class and its base came on record at the visit.
    assert_eq!(
        kinds,
        ["transition", "transition", "transition", "visit"],
        "{timeline}"
    );
}

/// "How many intentions became agreements last year, and how long did it take?"
/// Five partners came on record in 2025; two signed, after 57 and 85 days.
async fn demo_funnel_tells_how_2025s_intentions_fared(app: TestApp) {
    with_db(&app, |conn| seed::demo(conn, false))
        .await
        .expect("demo loads");
    let funnel = app
        .get("/api/v1/reports/funnel?from=2025-01-01&to=2025-12-31")
        .await
        .expect(200)
        .body;
    assert_eq!(funnel["entered"], 5, "{funnel}");
    let stages = funnel["stages"].as_array().expect("stages");
    let column = |key: &str| -> Vec<Value> { stages.iter().map(|s| s[key].clone()).collect() };
    assert_eq!(
        column("reached"),
        [json!(5), json!(4), json!(2), json!(0), json!(0)]
    );
    assert_eq!(stages[2]["conversion_from_previous"], 0.5);
    assert_eq!(stages[2]["median_days_to_reach"], 71.16);
    // Intention: 28⅙, 43, 56 and 77⅙ days; negotiation: 29.10 and 42.04 days.
    assert_eq!(column("median_days")[..2], [json!(49.5), json!(35.57)]);
    assert_eq!(column("stays")[..3], [json!(4), json!(2), json!(0)]);
    assert_eq!(funnel["terminated"], 0);
}

async fn demo_refuses_a_database_with_enterprises(app: TestApp) {
    // Archived records count: the database is not empty.
    let existing = app
        .enterprise(json!({"name": "Already Here Ltd.", "credit_code": CREDIT_CODES[0]}))
        .await;
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&existing)))
        .await
        .expect(200);
    let refused = with_db(&app, |conn| seed::demo(conn, false)).await;
    assert!(
        matches!(refused, Err(SeedError::NotEmpty { enterprises: 1 })),
        "{refused:?}"
    );
    assert!(refused
        .as_ref()
        .err()
        .is_some_and(|e| e.to_string().contains("--force")));
    let counted = with_db(&app, counts).await;
    assert_eq!((counted.enterprises, counted.visits), (1, 0));

    // Forced, the demo goes in beside the existing record.
    let forced = with_db(&app, |conn| seed::demo(conn, true))
        .await
        .expect("forced demo loads");
    let counted = with_db(&app, counts).await;
    assert_eq!(counted.enterprises, 1 + forced.enterprises);
    assert_eq!(counted.visits, forced.visits);
}

async fn demo_with_force_stops_on_a_taken_name(app: TestApp) {
    // The same name in full-width capitals is the same name.
    let existing = app
        .enterprise(json!({"name": "ＭＩＴＳＵＩ　ＣＨＥＭＩＣＡＬ"}))
        .await;
    let refused = with_db(&app, |conn| seed::demo(conn, true)).await;
    match &refused {
        Err(SeedError::DuplicateNames { names }) => {
            assert_eq!(names, &[existing["name"].as_str().unwrap_or_default()])
        }
        other => panic!("{other:?}"),
    }
    // All or nothing: not one demo row was written.
    let counted = with_db(&app, counts).await;
    assert_eq!(
        counted,
        Summary {
            enterprises: 1,
            ..Summary::default()
        }
    );
}

async fn synthetic_counts_and_links_hold(app: TestApp) {
    let options = options(50, 7);
    let today = options.today.and_hms_opt(0, 0, 0).expect("midnight");
    let summary = with_db(&app, move |conn| {
        let summary = seed::synthetic(conn, &options, &mut Silent);
        if let DbConn::Sqlite(c) = conn {
            // The load relaxed durability; the connection has FULL back.
            let restored = diesel::sql_query("PRAGMA synchronous")
                .get_result::<Synchronous>(c)
                .expect("PRAGMA synchronous");
            assert_eq!(restored.synchronous, 2);
        }
        summary
    })
    .await
    .expect("synthetic loads");
    assert_eq!(summary.rng_seed, Some(7));

    let (counted, facts) = with_db(&app, |conn| (counts(conn), Facts::load(conn))).await;
    assert_eq!(counted, counts_of(&summary));
    assert_eq!(counted.enterprises, 50);
    assert_eq!(counted.order_classes, 13);
    assert_eq!(counted.internship_bases, 13);
    assert!(counted.agreements >= 25, "{counted:?}");
    assert!(
        (20 * 50..=30 * 50).contains(&counted.visits),
        "about 25 visits per enterprise: {counted:?}"
    );
    let partners = facts
        .participants
        .values()
        .filter(|(side, _)| side == "partner");
    assert!((100..=200).contains(&partners.count()), "{counted:?}");
    assert!(counted.visit_participants >= 2 * counted.visits);
    let parks = facts
        .kinds
        .values()
        .filter(|k| *k == "industrial_park")
        .count();
    assert_eq!(parks, 5);
    assert!(
        facts.parents.values().any(Option::is_some),
        "member companies"
    );

    facts.check(today);
}

async fn synthetic_records_pass_the_api_rules(app: TestApp) {
    with_db(&app, |conn| {
        seed::synthetic(conn, &options(30, 11), &mut Silent)
    })
    .await
    .expect("synthetic loads");
    // An empty merge patch re-checks every stored field against the API's rules.
    for kind in ["enterprises", "participants"] {
        let ids = app.collect_ids(&format!("/api/v1/{kind}?limit=200")).await;
        assert!(!ids.is_empty());
        for id in ids {
            // Stage moves count as changes: an enterprise's version is 1 + its moves.
            let stored = app.get(&format!("/api/v1/{kind}/{id}")).await.expect(200);
            let patched = app
                .patch(&format!("/api/v1/{kind}/{id}"), &json!({}))
                .await
                .expect(200);
            assert_eq!(
                patched.body["version"], stored.body["version"],
                "{}",
                patched.text
            );
        }
    }
}

/// Every synthetic item's history, read through `GET …/transitions`, ends at the
/// item's stage and `stage_changed_at`, and the funnel sees the moves.
async fn synthetic_stage_history_matches_the_items(app: TestApp) {
    let summary = with_db(&app, |conn| {
        seed::synthetic(conn, &options(40, 13), &mut Silent)
    })
    .await
    .expect("synthetic loads");
    assert!(
        (20..=100).contains(&summary.stage_transitions),
        "about 0.06 moves per visit: {summary:?}"
    );
    let mut seen = 0;
    let mut moved = HashSet::new();
    for (item, history) in histories(&app).await {
        seen += history.len();
        match history.last() {
            Some(last) => {
                moved.insert(last["to_stage"].as_str().unwrap_or_default().to_string());
            }
            None => {
                assert_eq!(item["stage"], "intention", "{item}");
                assert_eq!(item["stage_changed_at"], item["created_at"], "{item}");
            }
        }
        if let Some(first) = history.first() {
            assert_eq!(first["from_stage"], "intention", "{item}");
        }
        for step in history {
            let signed = ["agreement", "implementation", "completed"];
            if signed.contains(&step["to_stage"].as_str().unwrap_or_default()) {
                assert!(step["agreement"].is_object(), "evidence of {step}");
            }
        }
    }
    assert_eq!(seen, summary.stage_transitions);
    assert!(moved.len() >= 3, "moves to several stages: {moved:?}");
}

async fn synthetic_is_the_same_for_the_same_seed(app: TestApp) {
    let other = TestApp::spawn(backend_of(&app)).await;
    let third = TestApp::spawn(backend_of(&app)).await;
    for (target, rng_seed) in [(&app, 5), (&other, 5), (&third, 6)] {
        with_db(target, move |conn| {
            seed::synthetic(conn, &options(20, rng_seed), &mut Silent)
        })
        .await
        .expect("synthetic loads");
    }
    let snapshot = |conn: &mut DbConn| {
        let names: Vec<(String, String, Option<String>)> = enterprises::table
            .select((enterprises::id, enterprises::name, enterprises::credit_code))
            .order(enterprises::id)
            .load(conn)
            .expect("enterprises");
        let visits: Vec<(String, String, NaiveDateTime)> = visits::table
            .select((visits::id, visits::title, visits::starts_at))
            .order(visits::id)
            .load(conn)
            .expect("visits");
        (names, visits)
    };
    let first = with_db(&app, snapshot).await;
    let second = with_db(&other, snapshot).await;
    let different = with_db(&third, snapshot).await;
    assert_eq!(first, second, "same seed, same day: same data");
    assert_ne!(first.0, different.0, "another seed: other names");
}

async fn synthetic_with_force_avoids_taken_names(app: TestApp) {
    with_db(&app, |conn| seed::demo(conn, false))
        .await
        .expect("demo loads");
    let refused = with_db(&app, |conn| {
        seed::synthetic(conn, &options(10, 3), &mut Silent)
    })
    .await;
    assert!(
        matches!(refused, Err(SeedError::NotEmpty { enterprises: 8 })),
        "{refused:?}"
    );
    // Names the first run took are avoided by a second, forced run with the same seed.
    let forced = Options {
        force: true,
        ..options(10, 3)
    };
    let again = forced.clone();
    with_db(&app, move |conn| {
        seed::synthetic(conn, &forced, &mut Silent)
    })
    .await
    .expect("forced synthetic loads");
    with_db(&app, move |conn| seed::synthetic(conn, &again, &mut Silent))
        .await
        .expect("a second forced run loads");
    let counted = with_db(&app, counts).await;
    assert_eq!(counted.enterprises, 8 + 10 + 10);
    let names = app.collect_ids("/api/v1/enterprises?limit=200").await;
    assert_eq!(names.len(), 28);
    let created = app
        .enterprise(json!({"name": "A company after seeding"}))
        .await;
    assert!(!id_of(&created).is_empty());
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    synchronous: i32,
}

fn backend_of(app: &TestApp) -> crate::helpers::Backend {
    if app.database_url().starts_with("postgres") {
        crate::helpers::Backend::Postgres
    } else {
        crate::helpers::Backend::Sqlite
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect("a timestamp")
}

/// What the link rules need, read once.
struct Facts {
    kinds: HashMap<String, String>,
    parents: HashMap<String, Option<String>>,
    /// Participant id → (side, enterprise).
    participants: HashMap<String, (String, Option<String>)>,
    /// Visit id → (starts_at, ends_at, status, created_at).
    visits: HashMap<String, (NaiveDateTime, Option<NaiveDateTime>, String, NaiveDateTime)>,
    visit_enterprises: Vec<(String, String, NaiveDateTime)>,
    visit_participants: Vec<(String, String, String, NaiveDateTime)>,
    /// Visit id → enterprises of the order classes and bases it discussed.
    visit_items: Vec<(String, String)>,
    /// (agreement enterprise, kind, covered item's enterprise).
    agreements: Vec<(String, String, Option<String>)>,
    /// (enterprise, stage) of order classes and bases, and whether an agreement covers them.
    items: Vec<(String, bool)>,
}

impl Facts {
    fn load(conn: &mut DbConn) -> Self {
        let rows: Vec<(String, String, Option<String>)> = enterprises::table
            .select((enterprises::id, enterprises::kind, enterprises::parent_id))
            .load(conn)
            .expect("enterprises");
        let mut kinds = HashMap::new();
        let mut parents = HashMap::new();
        for (id, kind, parent) in rows {
            kinds.insert(id.clone(), kind);
            parents.insert(id, parent);
        }
        let participants = participants::table
            .select((
                participants::id,
                (participants::side, participants::enterprise_id),
            ))
            .load::<(String, (String, Option<String>))>(conn)
            .expect("participants")
            .into_iter()
            .collect();
        let visits = visits::table
            .select((
                visits::id,
                (
                    visits::starts_at,
                    visits::ends_at,
                    visits::status,
                    visits::created_at,
                ),
            ))
            .load::<(
                String,
                (NaiveDateTime, Option<NaiveDateTime>, String, NaiveDateTime),
            )>(conn)
            .expect("visits")
            .into_iter()
            .collect();
        let visit_enterprises = visit_enterprises::table
            .select((
                visit_enterprises::visit_id,
                visit_enterprises::enterprise_id,
                visit_enterprises::starts_at,
            ))
            .load(conn)
            .expect("visit enterprises");
        let visit_participants = visit_participants::table
            .select((
                visit_participants::visit_id,
                visit_participants::participant_id,
                visit_participants::role,
                visit_participants::starts_at,
            ))
            .load(conn)
            .expect("visit participants");
        let mut visit_items: Vec<(String, String)> = visit_order_classes::table
            .inner_join(order_classes::table)
            .select((visit_order_classes::visit_id, order_classes::enterprise_id))
            .load(conn)
            .expect("visit order classes");
        visit_items.extend(
            visit_internship_bases::table
                .inner_join(internship_bases::table)
                .select((
                    visit_internship_bases::visit_id,
                    internship_bases::enterprise_id,
                ))
                .load::<(String, String)>(conn)
                .expect("visit bases"),
        );
        let mut agreements: Vec<(String, String, Option<String>)> = agreements::table
            .left_join(
                order_classes::table
                    .on(agreements::order_class_id.eq(order_classes::id.nullable())),
            )
            .filter(agreements::kind.ne("internship_base"))
            .select((
                agreements::enterprise_id,
                agreements::kind,
                order_classes::enterprise_id.nullable(),
            ))
            .load(conn)
            .expect("agreements");
        agreements.extend(
            agreements::table
                .inner_join(
                    internship_bases::table
                        .on(agreements::internship_base_id.eq(internship_bases::id.nullable())),
                )
                .select((
                    agreements::enterprise_id,
                    agreements::kind,
                    internship_bases::enterprise_id.nullable(),
                ))
                .load::<(String, String, Option<String>)>(conn)
                .expect("base agreements"),
        );
        let signed = ["agreement", "implementation", "completed"];
        let covered_classes: HashSet<String> = agreements::table
            .select(agreements::order_class_id)
            .load::<Option<String>>(conn)
            .expect("covered classes")
            .into_iter()
            .flatten()
            .collect();
        let covered_bases: HashSet<String> = agreements::table
            .select(agreements::internship_base_id)
            .load::<Option<String>>(conn)
            .expect("covered bases")
            .into_iter()
            .flatten()
            .collect();
        let mut items: Vec<(String, bool)> = order_classes::table
            .filter(order_classes::stage.eq_any(signed))
            .select(order_classes::id)
            .load::<String>(conn)
            .expect("signed classes")
            .into_iter()
            .map(|id| (id.clone(), covered_classes.contains(&id)))
            .collect();
        items.extend(
            internship_bases::table
                .filter(internship_bases::stage.eq_any(signed))
                .select(internship_bases::id)
                .load::<String>(conn)
                .expect("signed bases")
                .into_iter()
                .map(|id| (id.clone(), covered_bases.contains(&id))),
        );
        Facts {
            kinds,
            parents,
            participants,
            visits,
            visit_enterprises,
            visit_participants,
            visit_items,
            agreements,
            items,
        }
    }

    /// The rules the visit API enforces, and the schedule `today` implies.
    fn check(&self, today: NaiveDateTime) {
        let mut reach: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (visit, enterprise, starts_at) in &self.visit_enterprises {
            let (visit_starts, ..) = &self.visits[visit];
            assert_eq!(
                starts_at, visit_starts,
                "visit_enterprises.starts_at of {visit}"
            );
            let entry = reach.entry(visit.as_str()).or_default();
            entry.insert(enterprise.as_str());
            // Companies inside a visiting park are within reach too.
            for (member, parent) in &self.parents {
                if parent.as_deref() == Some(enterprise.as_str()) {
                    entry.insert(member.as_str());
                }
            }
        }
        let mut hosts: HashMap<&str, usize> = HashMap::new();
        for (visit, participant, role, starts_at) in &self.visit_participants {
            let (visit_starts, ..) = &self.visits[visit];
            assert_eq!(
                starts_at, visit_starts,
                "visit_participants.starts_at of {visit}"
            );
            if role == "host" {
                *hosts.entry(visit.as_str()).or_default() += 1;
            }
            let (side, enterprise) = &self.participants[participant];
            if side == "partner" {
                let enterprise = enterprise.as_deref().expect("a partner's enterprise");
                assert!(
                    reach[visit.as_str()].contains(enterprise),
                    "partner {participant} on visit {visit} belongs to none of its enterprises"
                );
            }
        }
        for (visit, enterprise) in &self.visit_items {
            assert!(
                reach[visit.as_str()].contains(enterprise.as_str()),
                "visit {visit} discusses another enterprise's item"
            );
        }
        for (id, (starts, ends, status, created)) in &self.visits {
            assert!(
                reach.contains_key(id.as_str()),
                "visit {id} has an enterprise"
            );
            assert_eq!(hosts.get(id.as_str()), Some(&1), "visit {id} has one host");
            assert!(ends.is_none_or(|end| end > *starts));
            assert!(*created <= today, "visit {id} entered before today");
            match status.as_str() {
                "planned" => assert!(*starts > today, "planned visit {id} is ahead"),
                "held" | "cancelled" => assert!(*starts < today, "{status} visit {id} is past"),
                other => panic!("status {other}"),
            }
        }
        for (enterprise, kind, item_enterprise) in &self.agreements {
            if kind == "order_class" || kind == "internship_base" {
                assert_eq!(
                    Some(enterprise),
                    item_enterprise.as_ref(),
                    "{kind} agreement"
                );
            }
        }
        for (item, covered) in &self.items {
            assert!(
                covered,
                "{item} is at agreement or beyond without an agreement"
            );
        }
    }
}

/// The manager's one request: the park, its two member companies, the 29 November
/// visit, and the order class and base proposed there.
async fn demo_park_page_tells_the_whole_story(app: TestApp) {
    let summary = with_db(&app, |conn| seed::demo(conn, false))
        .await
        .expect("demo loads");
    let park = summary.park_id.expect("the park's id").to_string();
    let page = app
        .get(&format!(
            "/api/v1/enterprises/{park}?include=members,visits,order_classes,internship_bases"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(page["name"], "Shanghai Carbonbay Industrial Park");
    let names = |key: &str, field: &str| -> Vec<String> {
        page[key]["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {page}"))
            .iter()
            .map(|i| i[field].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        names("members", "name"),
        ["DR New Materials", "Mitsui Chemical"]
    );
    assert_eq!(
        names("order_classes", "name"),
        ["Carbonbay Industrial Park Order Class"]
    );
    assert_eq!(
        names("internship_bases", "name"),
        ["Carbonbay Industrial Park Internship Training Base"]
    );
    let visit = page["visits"]["items"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["starts_at"] == "2024-11-29T02:00:00Z"))
        .unwrap_or_else(|| panic!("the 29 November visit: {page}"));
    assert_eq!(visit["status"], "held");
    assert_eq!(visit["direction"], "inbound");
    let roles: Vec<(String, String)> = visit["participants"]
        .as_array()
        .map(|people| {
            people
                .iter()
                .map(|p| {
                    (
                        p["full_name"].as_str().unwrap_or_default().to_string(),
                        p["role"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        roles.contains(&("Chen Xiaobin".to_string(), "host".to_string())),
        "{roles:?}"
    );
    assert!(
        roles.iter().any(|(name, _)| name == "Dong Xiaodan"),
        "{roles:?}"
    );
    let enterprises: Vec<&str> = visit["enterprises"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(enterprises.len(), 3, "{enterprises:?}");
    assert_eq!(
        visit["order_classes"][0]["name"],
        "Carbonbay Industrial Park Order Class"
    );
    assert_eq!(
        visit["internship_bases"][0]["name"],
        "Carbonbay Industrial Park Internship Training Base"
    );
}

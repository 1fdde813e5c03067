//! `/api/v1/reports/*`: each report against figures worked out by hand from a small
//! data set built through the API (some stages and creation times set in the
//! database, where a report needs items that have sat still for a while).

use chrono::{Days, Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, pairs, sorted, TestApp};

backend_tests!(
    pipeline_counts_every_stage_of_every_kind,
    stalled_lists_items_neither_moved_nor_visited,
    expiring_lists_agreements_ending_soon_with_renewals,
    activity_counts_visits_per_month_direction_and_enterprise,
    funnel_follows_the_enterprises_that_entered_in_the_period,
    funnel_of_order_classes_runs_to_completion,
    funnel_of_bases_defaults_to_the_last_365_days,
    funnel_medians_round_halves_up_on_both_backends,
    reports_reject_bad_parameters,
);

const CHEMICALS: &str = "Chemicals and new materials";

/// The Carbonbay park with two member companies in Shanghai, a software company in
/// Zhejiang, and an archived former partner.
struct World {
    park: String,
    mitsui: String,
    dr: String,
    hz: String,
    old: String,
}

async fn world(app: &TestApp) -> World {
    let park = id_of(
        &app.enterprise(json!({
            "name": "Shanghai Carbonbay Industrial Park", "kind": "industrial_park",
            "industry": CHEMICALS, "region": "Shanghai"
        }))
        .await,
    );
    let member = |name: &str| json!({"name": name, "parent_id": park, "industry": CHEMICALS, "region": "Shanghai"});
    let mitsui = id_of(&app.enterprise(member("Mitsui Chemical")).await);
    let dr = id_of(&app.enterprise(member("DR New Materials")).await);
    let hz = id_of(
        &app.enterprise(json!({
            "name": "Hangzhou Software Co", "industry": "Software", "region": "Zhejiang"
        }))
        .await,
    );
    let old = id_of(
        &app.enterprise(json!({
            "name": "Old Partner", "industry": "Software", "region": "Zhejiang"
        }))
        .await,
    );
    app.delete(&format!("/api/v1/enterprises/{old}"))
        .await
        .expect(200);
    World {
        park,
        mitsui,
        dr,
        hz,
        old,
    }
}

/// An RFC 3339 time `days` days ago.
fn ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339()
}

/// Today (UTC) moved by `offset` days, as the API writes dates.
fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let moved = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    moved.expect("date in range").to_string()
}

async fn visit(app: &TestApp, starts_at: &str, direction: &str, enterprises: &[&str]) -> String {
    let body = json!({
        "title": format!("Visit of {starts_at}"),
        "starts_at": starts_at,
        "direction": direction,
        "status": "held",
        "enterprise_ids": enterprises,
    });
    id_of(&app.post("/api/v1/visits", &body).await.expect(201).body)
}

fn counts(list: [i64; 6]) -> Value {
    json!({
        "intention": list[0], "negotiation": list[1], "agreement": list[2],
        "implementation": list[3], "completed": list[4], "terminated": list[5],
    })
}

async fn pipeline_counts_every_stage_of_every_kind(app: TestApp) {
    let w = world(&app).await;
    let mitsui_class = app
        .order_class(json!({"enterprise_id": w.mitsui, "name": "Process Technology 2027"}))
        .await;
    let hz_class = app
        .order_class(json!({"enterprise_id": w.hz, "name": "Software Testing 2027"}))
        .await;
    let gone_class = app
        .order_class(json!({"enterprise_id": w.hz, "name": "Cancelled Class"}))
        .await;
    app.delete(&format!("/api/v1/order-classes/{}", id_of(&gone_class)))
        .await
        .expect(200);
    let dr_base = app
        .internship_base(json!({"enterprise_id": w.dr, "name": "DR Plant Base"}))
        .await;
    app.internship_base(json!({"enterprise_id": w.park, "name": "Joint Training Base"}))
        .await;
    app.set_stage("enterprise", &w.mitsui, "negotiation", 1);
    app.set_stage("enterprise", &w.hz, "agreement", 1);
    app.set_stage("order_class", &id_of(&mitsui_class), "implementation", 1);
    app.set_stage("order_class", &id_of(&hz_class), "terminated", 1);
    app.set_stage("internship_base", &id_of(&dr_base), "negotiation", 1);
    // The items of an enterprise archived with all it has count only with
    // include_archived.
    let closed = id_of(&app.enterprise(json!({"name": "Closed Works"})).await);
    app.order_class(json!({"enterprise_id": closed, "name": "Closed Class"}))
        .await;
    app.internship_base(json!({"enterprise_id": closed, "name": "Closed Base"}))
        .await;
    app.delete(&format!("/api/v1/enterprises/{closed}?cascade=true"))
        .await
        .expect(200);

    let all = app.get("/api/v1/reports/pipeline").await.expect(200).body;
    assert_eq!(
        all,
        json!({
            "enterprises": counts([2, 1, 1, 0, 0, 0]),
            "order_classes": counts([0, 0, 0, 1, 0, 1]),
            "internship_bases": counts([1, 1, 0, 0, 0, 0]),
        })
    );

    let archived_too = app
        .get("/api/v1/reports/pipeline?include_archived=true")
        .await
        .expect(200)
        .body;
    assert_eq!(archived_too["enterprises"], counts([4, 1, 1, 0, 0, 0]));
    assert_eq!(archived_too["order_classes"], counts([2, 0, 0, 1, 0, 1]));
    assert_eq!(archived_too["internship_bases"], counts([2, 1, 0, 0, 0, 0]));

    let park = app
        .get(&format!("/api/v1/reports/pipeline?park_id={}", w.park))
        .await
        .expect(200)
        .body;
    assert_eq!(
        park,
        json!({
            "enterprises": counts([2, 1, 0, 0, 0, 0]),
            "order_classes": counts([0, 0, 0, 1, 0, 0]),
            "internship_bases": counts([1, 1, 0, 0, 0, 0]),
        })
    );

    // A member's id selects that member alone (it has no members of its own).
    let member = app
        .get(&format!("/api/v1/reports/pipeline?park_id={}", w.mitsui))
        .await
        .expect(200)
        .body;
    assert_eq!(member["enterprises"], counts([0, 1, 0, 0, 0, 0]));

    for query in [
        "industry=Software",
        "region=%20Zhejiang%20",
        "industry=Software&region=Zhejiang",
    ] {
        let software = app
            .get(&format!("/api/v1/reports/pipeline?{query}"))
            .await
            .expect(200)
            .body;
        assert_eq!(
            software,
            json!({
                "enterprises": counts([0, 0, 1, 0, 0, 0]),
                "order_classes": counts([0, 0, 0, 0, 0, 1]),
                "internship_bases": counts([0, 0, 0, 0, 0, 0]),
            }),
            "{query}"
        );
    }
    let nobody = app
        .get("/api/v1/reports/pipeline?industry=Software&region=Shanghai")
        .await
        .expect(200)
        .body;
    assert_eq!(nobody["enterprises"], counts([0; 6]));
}

/// The ids of the items of a stalled page, in order.
fn stalled_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect()
}

async fn stalled_lists_items_neither_moved_nor_visited(app: TestApp) {
    let w = world(&app).await;
    let mitsui_class = id_of(
        &app.order_class(json!({"enterprise_id": w.mitsui, "name": "Process Technology 2027"}))
            .await,
    );
    let dr_base = id_of(
        &app.internship_base(json!({"enterprise_id": w.dr, "name": "DR Plant Base"}))
            .await,
    );
    app.internship_base(json!({"enterprise_id": w.park, "name": "Joint Training Base"}))
        .await;
    app.set_stage("enterprise", &w.park, "intention", 100);
    app.set_stage("enterprise", &w.mitsui, "negotiation", 100);
    app.set_stage("enterprise", &w.dr, "negotiation", 10);
    app.set_stage("enterprise", &w.hz, "agreement", 200);
    app.set_stage("enterprise", &w.old, "intention", 110);
    app.set_stage("order_class", &mitsui_class, "implementation", 100);
    app.set_stage("internship_base", &dr_base, "negotiation", 100);

    // Mitsui was visited 30 days ago; the park and DR 90 days ago; Hangzhou only in a
    // visit since archived, and the park has a visit planned in the future.
    visit(&app, &ago(30), "inbound", &[&w.mitsui]).await;
    let delegation_at = ago(90);
    visit(&app, &delegation_at, "outbound", &[&w.park, &w.dr]).await;
    let archived = visit(&app, &ago(20), "online", &[&w.hz]).await;
    app.delete(&format!("/api/v1/visits/{archived}"))
        .await
        .expect(200);
    let planned = json!({
        "title": "Next delegation", "starts_at": (Utc::now() + Duration::days(5)).to_rfc3339(),
        "direction": "inbound", "status": "planned", "enterprise_ids": [w.park],
    });
    app.post("/api/v1/visits", &planned).await.expect(201);
    // A visit to Hangzhou called off ten days ago was no contact.
    let called_off = json!({
        "title": "Called off", "starts_at": ago(10), "direction": "outbound",
        "status": "cancelled", "enterprise_ids": [w.hz],
    });
    app.post("/api/v1/visits", &called_off).await.expect(201);

    let page = app.get("/api/v1/reports/stalled").await.expect(200).body;
    assert_eq!(stalled_ids(&page), [w.hz.clone(), w.park.clone()]);
    let hz = &page["items"][0];
    assert_eq!(hz["kind"], "enterprise");
    assert_eq!(hz["name"], "Hangzhou Software Co");
    assert_eq!(
        hz["enterprise"],
        json!({"id": w.hz, "name": "Hangzhou Software Co"})
    );
    assert_eq!(hz["stage"], "agreement");
    assert_eq!(hz["last_visit_at"], Value::Null);
    let last = page["items"][1]["last_visit_at"]
        .as_str()
        .expect("the park's last visit");
    let last = chrono::DateTime::parse_from_rfc3339(last).expect("time");
    let expected = chrono::DateTime::parse_from_rfc3339(&delegation_at).expect("time");
    assert!(
        (last - expected).num_milliseconds().abs() < 1,
        "{last} vs {expected}"
    );
    assert!(page["next_cursor"].is_null());

    // Paged one at a time, the same items in the same order.
    let paged = app.collect_ids("/api/v1/reports/stalled?limit=1").await;
    assert_eq!(paged, [w.hz.clone(), w.park.clone()]);

    let with_archived = app
        .get("/api/v1/reports/stalled?include_archived=true")
        .await
        .expect(200)
        .body;
    assert_eq!(
        stalled_ids(&with_archived),
        [w.hz.clone(), w.old.clone(), w.park.clone()]
    );

    // Over 95 days the park's visit 90 days ago counts.
    let longer = app
        .get("/api/v1/reports/stalled?days=95")
        .await
        .expect(200)
        .body;
    assert_eq!(stalled_ids(&longer), vec![w.hz.clone()]);
    let in_park = app
        .get(&format!("/api/v1/reports/stalled?park_id={}", w.park))
        .await
        .expect(200)
        .body;
    assert_eq!(stalled_ids(&in_park), vec![w.park.clone()]);
    let software = app
        .get("/api/v1/reports/stalled?industry=Software&region=Zhejiang")
        .await
        .expect(200)
        .body;
    assert_eq!(stalled_ids(&software), vec![w.hz.clone()]);

    // Mitsui's class sits at its stage, but Mitsui was visited 30 days ago.
    let classes = app
        .get("/api/v1/reports/stalled?kind=order_class")
        .await
        .expect(200)
        .body;
    assert_eq!(stalled_ids(&classes), Vec::<String>::new());
    let classes = app
        .get("/api/v1/reports/stalled?kind=order_class&days=20")
        .await
        .expect(200)
        .body;
    assert_eq!(stalled_ids(&classes), vec![mitsui_class.clone()]);
    assert_eq!(
        classes["items"][0]["enterprise"],
        json!({"id": w.mitsui, "name": "Mitsui Chemical"})
    );
    assert_eq!(classes["items"][0]["kind"], "order_class");

    let bases = app
        .get("/api/v1/reports/stalled?kind=internship_base")
        .await
        .expect(200)
        .body;
    assert_eq!(stalled_ids(&bases), vec![dr_base.clone()]);
    assert_eq!(bases["items"][0]["stage"], "negotiation");
    assert!(bases["items"][0]["last_visit_at"].is_string());

    // Final stages are never stalled.
    app.set_stage("enterprise", &w.hz, "terminated", 200);
    let page = app.get("/api/v1/reports/stalled").await.expect(200).body;
    assert_eq!(stalled_ids(&page), vec![w.park.clone()]);
}

async fn agreement(app: &TestApp, body: Value) -> String {
    id_of(&app.agreement(body).await)
}

async fn expiring_lists_agreements_ending_soon_with_renewals(app: TestApp) {
    let w = world(&app).await;
    let mitsui_class = id_of(
        &app.order_class(json!({"enterprise_id": w.mitsui, "name": "Process Technology 2027"}))
            .await,
    );
    let dr_base = id_of(
        &app.internship_base(json!({"enterprise_id": w.dr, "name": "DR Plant Base"}))
            .await,
    );
    let framework = |enterprise: &str, from: i64, until: i64| {
        json!({
            "enterprise_id": enterprise, "title": "Framework Cooperation Agreement",
            "kind": "framework", "valid_from": day(from), "valid_until": day(until),
        })
    };
    // The park's framework ends in 30 days and is renewed from day 31.
    let park_old = agreement(&app, {
        let mut body = framework(&w.park, -300, 30);
        body["number"] = json!("CBIP-XY-2025-01");
        body
    })
    .await;
    let park_new = agreement(&app, framework(&w.park, 31, 400)).await;
    // Mitsui's class agreement ends in 10 days; a later agreement that covers no
    // class is no renewal of it.
    let class_deal = agreement(
        &app,
        json!({
            "enterprise_id": w.mitsui, "title": "Order Class Agreement", "kind": "order_class",
            "order_class_id": mitsui_class, "valid_from": day(-100), "valid_until": day(10),
        }),
    )
    .await;
    agreement(
        &app,
        json!({
            "enterprise_id": w.mitsui, "title": "Order Class Letter", "kind": "order_class",
            "valid_from": day(-10), "valid_until": day(500),
        }),
    )
    .await;
    // Hangzhou's framework ends in 60 days; an older, longer one is no renewal.
    let hz_deal = agreement(&app, framework(&w.hz, -100, 60)).await;
    agreement(&app, framework(&w.hz, -200, 1000)).await;
    // DR's base agreement ends in 200 days.
    let base_deal = agreement(
        &app,
        json!({
            "enterprise_id": w.dr, "title": "Internship Base Agreement", "kind": "internship_base",
            "internship_base_id": dr_base, "valid_from": day(-10), "valid_until": day(200),
        }),
    )
    .await;
    // Expired, not yet in force, and archived ones.
    agreement(&app, framework(&w.dr, -100, -1)).await;
    agreement(&app, framework(&w.mitsui, 5, 20)).await;
    let archived = agreement(
        &app,
        json!({
            "enterprise_id": w.park, "title": "Visit Memorandum", "kind": "other",
            "valid_from": day(-10), "valid_until": day(5),
        }),
    )
    .await;
    app.delete(&format!("/api/v1/agreements/{archived}"))
        .await
        .expect(200);

    let page = app.get("/api/v1/reports/expiring").await.expect(200).body;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| id_of(&i["agreement"]))
            .collect()
    };
    assert_eq!(
        ids(&page),
        [class_deal.clone(), park_old.clone(), hz_deal.clone()]
    );
    assert_eq!(
        page["items"][0],
        json!({
            "agreement": {
                "id": class_deal, "title": "Order Class Agreement", "number": null,
                "kind": "order_class", "valid_until": day(10),
            },
            "enterprise": {"id": w.mitsui, "name": "Mitsui Chemical"},
            "order_class": {"id": mitsui_class, "name": "Process Technology 2027"},
            "internship_base": null,
            "replaced_by": null,
        })
    );
    assert_eq!(page["items"][1]["replaced_by"], json!(park_new));
    assert_eq!(page["items"][1]["agreement"]["number"], "CBIP-XY-2025-01");
    assert_eq!(
        page["items"][1]["enterprise"]["name"],
        "Shanghai Carbonbay Industrial Park"
    );
    assert_eq!(page["items"][2]["replaced_by"], Value::Null);

    let paged = {
        let mut all = Vec::new();
        let mut path = "/api/v1/reports/expiring?limit=2".to_string();
        loop {
            let page = app.get(&path).await.expect(200).body;
            all.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/reports/expiring?limit=2&cursor={c}"),
                None => break all,
            }
        }
    };
    assert_eq!(paged, ids(&page));

    let year = app
        .get("/api/v1/reports/expiring?within=365")
        .await
        .expect(200)
        .body;
    assert_eq!(
        ids(&year),
        [
            class_deal.clone(),
            park_old.clone(),
            hz_deal.clone(),
            base_deal.clone()
        ]
    );
    assert_eq!(
        year["items"][3]["internship_base"],
        json!({"id": dr_base, "name": "DR Plant Base"})
    );
    let archived_too = app
        .get("/api/v1/reports/expiring?include_archived=true")
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&archived_too)[0], archived);
    assert_eq!(ids(&archived_too).len(), 4);
    let park = app
        .get(&format!("/api/v1/reports/expiring?park_id={}", w.park))
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&park), [class_deal.clone(), park_old.clone()]);
    let software = app
        .get("/api/v1/reports/expiring?industry=Software")
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&software), vec![hz_deal.clone()]);
    let soon = app
        .get("/api/v1/reports/expiring?within=10")
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&soon), vec![class_deal.clone()]);
}

async fn activity_counts_visits_per_month_direction_and_enterprise(app: TestApp) {
    let w = world(&app).await;
    visit(
        &app,
        "2025-03-10T02:00:00Z",
        "inbound",
        &[&w.park, &w.mitsui],
    )
    .await;
    visit(&app, "2025-03-20T02:00:00Z", "outbound", &[&w.mitsui]).await;
    visit(&app, "2025-05-01T02:00:00Z", "online", &[&w.hz]).await;
    visit(&app, "2025-05-31T23:30:00Z", "inbound", &[&w.hz]).await;
    // On `to`: outside the period.
    visit(&app, "2025-06-01T00:00:00Z", "inbound", &[&w.park]).await;
    let archived = visit(&app, "2025-04-05T02:00:00Z", "outbound", &[&w.hz]).await;
    app.delete(&format!("/api/v1/visits/{archived}"))
        .await
        .expect(200);
    // Called off: no activity, archived or not.
    let called_off = visit(&app, "2025-04-20T02:00:00Z", "online", &[&w.mitsui]).await;
    app.patch(
        &format!("/api/v1/visits/{called_off}"),
        &json!({"status": "cancelled"}),
    )
    .await
    .expect(200);
    let period = "from=2025-03-01&to=2025-06-01";

    let months = app
        .get(&format!("/api/v1/reports/activity?{period}"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        months,
        json!({
            "group": "month", "from": "2025-03-01", "to": "2025-06-01",
            "items": [
                {"month": "2025-03", "visits": 2},
                {"month": "2025-04", "visits": 0},
                {"month": "2025-05", "visits": 2},
            ],
        })
    );
    let with_archived = app
        .get(&format!(
            "/api/v1/reports/activity?{period}&include_archived=true"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(
        with_archived["items"][1],
        json!({"month": "2025-04", "visits": 1})
    );
    let park = app
        .get(&format!(
            "/api/v1/reports/activity?{period}&park_id={}",
            w.park
        ))
        .await
        .expect(200)
        .body;
    let visits: Vec<i64> = park["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["visits"].as_i64().expect("count"))
        .collect();
    assert_eq!(visits, [2, 0, 0]);

    let directions = app
        .get(&format!(
            "/api/v1/reports/activity?{period}&group=direction"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(
        directions["items"],
        json!([
            {"direction": "inbound", "visits": 2},
            {"direction": "online", "visits": 1},
            {"direction": "outbound", "visits": 1},
        ])
    );
    let software = app
        .get(&format!(
            "/api/v1/reports/activity?{period}&group=direction&industry=Software"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(
        software["items"],
        json!([{"direction": "inbound", "visits": 1}, {"direction": "online", "visits": 1}])
    );

    let per_enterprise = app
        .get(&format!(
            "/api/v1/reports/activity?{period}&group=enterprise"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(
        per_enterprise["items"],
        json!([
            {"enterprise": {"id": w.hz, "name": "Hangzhou Software Co"}, "visits": 2},
            {"enterprise": {"id": w.mitsui, "name": "Mitsui Chemical"}, "visits": 2},
            {"enterprise": {"id": w.park, "name": "Shanghai Carbonbay Industrial Park"}, "visits": 1},
        ])
    );

    // By default the last twelve calendar months, this one included.
    let recent = app.get("/api/v1/reports/activity").await.expect(200).body;
    assert_eq!(recent["items"].as_array().expect("items").len(), 12);
    let this_month = Utc::now().date_naive().format("%Y-%m").to_string();
    assert_eq!(
        recent["items"][11],
        json!({"month": this_month, "visits": 0})
    );
}

/// Posts a stage move (asserting 201). `body` carries `to_stage`, `occurred_at` and
/// whatever evidence the move needs.
async fn move_item(app: &TestApp, collection: &str, id: &str, body: Value) {
    app.post(&format!("/api/v1/{collection}/{id}/transitions"), &body)
        .await
        .expect(201);
}

/// One stage of a funnel, as the API writes it.
fn stage(
    stage: &str,
    reached: i64,
    conversion: Option<f64>,
    (median_days, stays): (Option<f64>, i64),
    median_days_to_reach: Option<f64>,
) -> Value {
    json!({
        "stage": stage, "reached": reached, "conversion_from_previous": conversion,
        "median_days": median_days, "stays": stays,
        "median_days_to_reach": median_days_to_reach,
    })
}

/// `(reached, conversion_from_previous)` of every stage of a funnel.
fn reached(funnel: &Value) -> Vec<(i64, Option<f64>)> {
    funnel["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["reached"].as_i64().expect("a count"),
                s["conversion_from_previous"].as_f64(),
            )
        })
        .collect()
}

/// `(median_days, stays, median_days_to_reach)` of every stage of a funnel.
fn durations(funnel: &Value) -> Vec<(Option<f64>, i64, Option<f64>)> {
    funnel["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["median_days"].as_f64(),
                s["stays"].as_i64().expect("a count"),
                s["median_days_to_reach"].as_f64(),
            )
        })
        .collect()
}

/// The enterprises' histories, all in 2025 (days of intention in brackets):
/// - the park, created 1 January 00:00: negotiation 11 January [10], agreement
///   10 February [30 in negotiation];
/// - Mitsui, created 5 January: negotiation 25 January [20], agreement 6 March [40 in
///   negotiation], back to negotiation 16 March [10 in agreement];
/// - DR, created 10 January: terminated 13 January [3];
/// - Hangzhou, created 30 June 23:00: agreement 2 July 23:00, skipping negotiation
///   [2], implementation 14 July 23:00 [12 in agreement];
/// - a late partner created 1 July 00:00 that has not moved;
/// - a partner created 1 February, in negotiation since 5 February [4], archived.
async fn funnel_follows_the_enterprises_that_entered_in_the_period(app: TestApp) {
    let w = world(&app).await;
    let software = |name: &str| json!({"name": name, "industry": "Software", "region": "Zhejiang"});
    let late = id_of(&app.enterprise(software("Late Partner")).await);
    let gone = id_of(&app.enterprise(software("Archived Partner")).await);
    for (id, created) in [
        (&w.park, "2025-01-01T00:00:00Z"),
        (&w.mitsui, "2025-01-05T00:00:00Z"),
        (&w.dr, "2025-01-10T00:00:00Z"),
        (&w.hz, "2025-06-30T23:00:00Z"),
        (&late, "2025-07-01T00:00:00Z"),
        (&gone, "2025-02-01T00:00:00Z"),
    ] {
        app.backdate_creation("enterprise", id, created);
    }
    let deal = |enterprise: &str| {
        json!({
            "enterprise_id": enterprise, "title": "Framework Cooperation Agreement",
            "kind": "framework", "valid_from": "2025-01-01", "valid_until": "2027-12-31",
        })
    };
    let park_deal = agreement(&app, deal(&w.park)).await;
    let mitsui_deal = agreement(&app, deal(&w.mitsui)).await;
    let hz_deal = agreement(&app, deal(&w.hz)).await;
    let moves = [
        (
            &w.park,
            json!({"to_stage": "negotiation", "occurred_at": "2025-01-11T00:00:00Z"}),
        ),
        (
            &w.park,
            json!({"to_stage": "agreement", "occurred_at": "2025-02-10T00:00:00Z", "agreement_id": park_deal}),
        ),
        (
            &w.mitsui,
            json!({"to_stage": "negotiation", "occurred_at": "2025-01-25T00:00:00Z"}),
        ),
        (
            &w.mitsui,
            json!({"to_stage": "agreement", "occurred_at": "2025-03-06T00:00:00Z", "agreement_id": mitsui_deal}),
        ),
        (
            &w.mitsui,
            json!({"to_stage": "negotiation", "occurred_at": "2025-03-16T00:00:00Z", "note": "Deal reopened over the class size."}),
        ),
        (
            &w.dr,
            json!({"to_stage": "terminated", "occurred_at": "2025-01-13T00:00:00Z", "note": "No positions this year."}),
        ),
        (
            &w.hz,
            json!({"to_stage": "agreement", "occurred_at": "2025-07-02T23:00:00Z", "agreement_id": hz_deal}),
        ),
        (
            &w.hz,
            json!({"to_stage": "implementation", "occurred_at": "2025-07-14T23:00:00Z", "agreement_id": hz_deal}),
        ),
        (
            &gone,
            json!({"to_stage": "negotiation", "occurred_at": "2025-02-05T00:00:00Z"}),
        ),
    ];
    for (id, body) in moves {
        move_item(&app, "enterprises", id, body).await;
    }
    app.delete(&format!("/api/v1/enterprises/{gone}"))
        .await
        .expect(200);

    // The first half of 2025: the park (on `from`, at midnight) to Hangzhou (on `to`,
    // an hour before its end); what they did after `to` still counts.
    let half = "from=2025-01-01&to=2025-06-30";
    let funnel = app
        .get(&format!("/api/v1/reports/funnel?{half}"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        funnel,
        json!({
            "kind": "enterprise", "from": "2025-01-01", "to": "2025-06-30", "entered": 4,
            "stages": [
                // Stays of 2, 3, 10 and 20 days: an even count.
                stage("intention", 4, None, (Some(6.5), 4), Some(0.0)),
                // Hangzhou skipped negotiation and still passed it; Mitsui's second
                // stay there is still open.
                stage("negotiation", 3, Some(0.75), (Some(35.0), 2), Some(10.0)),
                // Mitsui moved back, and still reached agreement.
                stage("agreement", 3, Some(1.0), (Some(11.0), 2), Some(40.0)),
                stage("implementation", 1, Some(0.3333), (None, 0), Some(14.0)),
                stage("completed", 0, Some(0.0), (None, 0), None),
            ],
            "terminated": 1,
        })
    );

    // The archived partner joins: five stays of intention, four times to negotiation.
    let archived_too = app
        .get(&format!(
            "/api/v1/reports/funnel?{half}&include_archived=true"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(archived_too["entered"], 5);
    assert_eq!(
        reached(&archived_too),
        [
            (5, None),
            (4, Some(0.8)),
            (3, Some(0.75)),
            (1, Some(0.3333)),
            (0, Some(0.0))
        ]
    );
    assert_eq!(
        durations(&archived_too)[..2],
        [(Some(4.0), 5, Some(0.0)), (Some(35.0), 2, Some(7.0))]
    );

    // The park and its members: DR's three days, the park's ten, Mitsui's twenty.
    let park = app
        .get(&format!("/api/v1/reports/funnel?{half}&park_id={}", w.park))
        .await
        .expect(200)
        .body;
    assert_eq!(
        (park["entered"].clone(), park["terminated"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(
        reached(&park),
        [
            (3, None),
            (2, Some(0.6667)),
            (2, Some(1.0)),
            (0, Some(0.0)),
            (0, None)
        ]
    );
    assert_eq!(
        durations(&park),
        [
            (Some(10.0), 3, Some(0.0)),
            (Some(35.0), 2, Some(15.0)),
            (Some(10.0), 1, Some(50.0)),
            (None, 0, None),
            (None, 0, None),
        ]
    );
    let chemicals = app
        .get(&format!(
            "/api/v1/reports/funnel?{half}&industry=Chemicals%20and%20new%20materials"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(chemicals["stages"], park["stages"]);

    for query in [
        "industry=Software",
        "region=Zhejiang",
        "industry=Software&region=Zhejiang",
    ] {
        let software = app
            .get(&format!("/api/v1/reports/funnel?{half}&{query}"))
            .await
            .expect(200)
            .body;
        assert_eq!(
            software["stages"],
            json!([
                stage("intention", 1, None, (Some(2.0), 1), Some(0.0)),
                stage("negotiation", 1, Some(1.0), (None, 0), Some(2.0)),
                stage("agreement", 1, Some(1.0), (Some(12.0), 1), Some(2.0)),
                stage("implementation", 1, Some(1.0), (None, 0), Some(14.0)),
                stage("completed", 0, Some(0.0), (None, 0), None),
            ]),
            "{query}"
        );
        assert_eq!(software["terminated"], 0, "{query}");
    }
    let software = app
        .get(&format!(
            "/api/v1/reports/funnel?{half}&industry=Software&include_archived=true"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(software["entered"], 2);

    // The edges of the period: both days are in it, whole.
    for (period, entered) in [
        ("from=2025-01-02&to=2025-06-30", 3),
        ("from=2025-01-01&to=2025-06-29", 3),
        ("from=2025-06-30&to=2025-06-30", 1),
        ("from=2025-01-01&to=2025-12-31", 5),
        ("from=2024-01-01&to=2024-12-31", 0),
    ] {
        let funnel = app
            .get(&format!("/api/v1/reports/funnel?{period}"))
            .await
            .expect(200)
            .body;
        assert_eq!(funnel["entered"], entered, "{period}");
        assert_eq!(funnel["stages"][0]["reached"], entered, "{period}");
    }
    // The late partner alone: at intention, no stay finished.
    let late = app
        .get("/api/v1/reports/funnel?from=2025-07-01&to=2025-07-01")
        .await
        .expect(200)
        .body;
    assert_eq!(
        late["stages"][0],
        stage("intention", 1, None, (None, 0), Some(0.0))
    );
    assert_eq!(reached(&late)[1], (0, Some(0.0)));
    // Nobody: every figure empty, no conversion from nothing.
    let nobody = app
        .get("/api/v1/reports/funnel?from=2024-01-01&to=2024-12-31")
        .await
        .expect(200)
        .body;
    assert_eq!(reached(&nobody), [(0, None); 5]);
    assert_eq!(durations(&nobody), [(None, 0, None); 5]);
    assert_eq!(nobody["terminated"], 0);
    // Enterprises only: the order classes have their own funnel.
    let classes = app
        .get(&format!("/api/v1/reports/funnel?{half}&kind=order_class"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        (classes["kind"].clone(), classes["entered"].clone()),
        (json!("order_class"), json!(0))
    );
}

/// An order class of Mitsui's that went all the way, ten days a stage, and one of
/// Hangzhou's that was archived in negotiation after four days of intention.
async fn funnel_of_order_classes_runs_to_completion(app: TestApp) {
    let w = world(&app).await;
    let done = id_of(
        &app.order_class(json!({
            "enterprise_id": w.mitsui, "name": "Process Technology 2025",
            "planned_size": 40, "enrolled_count": 30,
        }))
        .await,
    );
    let dropped = id_of(
        &app.order_class(json!({"enterprise_id": w.hz, "name": "Software Testing 2025"}))
            .await,
    );
    app.backdate_creation("order_class", &done, "2025-02-01T00:00:00Z");
    app.backdate_creation("order_class", &dropped, "2025-02-01T00:00:00Z");
    let deal = agreement(
        &app,
        json!({
            "enterprise_id": w.mitsui, "title": "Order Class Agreement", "kind": "order_class",
            "order_class_id": done, "valid_from": "2025-02-21", "valid_until": "2025-12-31",
        }),
    )
    .await;
    for (to_stage, at) in [
        ("negotiation", "2025-02-11T00:00:00Z"),
        ("agreement", "2025-02-21T00:00:00Z"),
        ("implementation", "2025-03-03T00:00:00Z"),
        ("completed", "2025-03-13T00:00:00Z"),
    ] {
        let mut body = json!({"to_stage": to_stage, "occurred_at": at});
        if to_stage != "negotiation" {
            body["agreement_id"] = json!(deal);
        }
        move_item(&app, "order-classes", &done, body).await;
    }
    move_item(
        &app,
        "order-classes",
        &dropped,
        json!({"to_stage": "negotiation", "occurred_at": "2025-02-05T00:00:00Z"}),
    )
    .await;
    app.delete(&format!("/api/v1/order-classes/{dropped}"))
        .await
        .expect(200);

    let year = "from=2025-01-01&to=2025-12-31&kind=order_class";
    let funnel = app
        .get(&format!("/api/v1/reports/funnel?{year}"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        funnel,
        json!({
            "kind": "order_class", "from": "2025-01-01", "to": "2025-12-31", "entered": 1,
            "stages": [
                stage("intention", 1, None, (Some(10.0), 1), Some(0.0)),
                stage("negotiation", 1, Some(1.0), (Some(10.0), 1), Some(10.0)),
                stage("agreement", 1, Some(1.0), (Some(10.0), 1), Some(20.0)),
                stage("implementation", 1, Some(1.0), (Some(10.0), 1), Some(30.0)),
                // Nothing leaves `completed`: no stays to measure.
                stage("completed", 1, Some(1.0), (None, 0), Some(40.0)),
            ],
            "terminated": 0,
        })
    );
    // The archived class counts with `include_archived`, though its enterprise is live.
    let archived_too = app
        .get(&format!(
            "/api/v1/reports/funnel?{year}&include_archived=true"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(
        reached(&archived_too),
        [
            (2, None),
            (2, Some(1.0)),
            (1, Some(0.5)),
            (1, Some(1.0)),
            (1, Some(1.0))
        ]
    );
    assert_eq!(
        durations(&archived_too)[..2],
        [(Some(7.0), 2, Some(0.0)), (Some(10.0), 1, Some(7.0))]
    );
    // Filtered through the class's enterprise.
    let park = app
        .get(&format!("/api/v1/reports/funnel?{year}&park_id={}", w.park))
        .await
        .expect(200)
        .body;
    assert_eq!(park["stages"], funnel["stages"]);
    let software = app
        .get(&format!(
            "/api/v1/reports/funnel?{year}&industry=Software&include_archived=true"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(software["entered"], 1);
    assert_eq!(software["stages"][0]["median_days"], 4.0);
}

/// Bases whose history says less: one created today whose first move was recorded
/// as ten days ago (so its time at intention is unknown), one created at
/// negotiation, one created terminated, one put at agreement without any history
/// (as the synthetic seed does, and with a `stage_changed_at` before its creation),
/// and one created 400 days ago that never moved.
/// Spans of exactly 0.005 days (432 s) are 0.01 days to two places: SQLite's
/// `julianday` difference came out a hair under 0.005 and gave 0.0.
async fn funnel_medians_round_halves_up_on_both_backends(app: TestApp) {
    let id = id_of(&app.enterprise(json!({"name": "Quick Partner"})).await);
    app.backdate_creation("enterprise", &id, "2026-01-02T23:52:48Z");
    move_item(
        &app,
        "enterprises",
        &id,
        json!({"to_stage": "negotiation", "occurred_at": "2026-01-03T00:00:00Z"}),
    )
    .await;
    move_item(
        &app,
        "enterprises",
        &id,
        json!({"to_stage": "terminated", "occurred_at": "2026-01-03T00:07:12Z", "note": "Too fast."}),
    )
    .await;
    let funnel = app
        .get("/api/v1/reports/funnel?from=2026-01-01&to=2026-01-31")
        .await
        .expect(200)
        .body;
    assert_eq!(funnel["stages"][0]["median_days"], json!(0.01), "{funnel}");
    assert_eq!(funnel["stages"][1]["median_days"], json!(0.01), "{funnel}");
    assert_eq!(
        funnel["stages"][1]["median_days_to_reach"],
        json!(0.01),
        "{funnel}"
    );
}

async fn funnel_of_bases_defaults_to_the_last_365_days(app: TestApp) {
    let w = world(&app).await;
    let base = |enterprise: &str, name: &str| json!({"enterprise_id": enterprise, "name": name});
    let backdated = id_of(&app.internship_base(base(&w.dr, "DR Plant Base")).await);
    move_item(
        &app,
        "internship-bases",
        &backdated,
        json!({"to_stage": "negotiation", "occurred_at": ago(10)}),
    )
    .await;
    let mut at_negotiation = base(&w.hz, "Hangzhou Test Lab");
    at_negotiation["stage"] = json!("negotiation");
    app.internship_base(at_negotiation).await;
    let mut terminated = base(&w.mitsui, "Mitsui Warehouse");
    terminated["stage"] = json!("terminated");
    terminated["stage_note"] = json!("The warehouse closed.");
    app.internship_base(terminated).await;
    let unrecorded = id_of(&app.internship_base(base(&w.park, "Park Lab")).await);
    app.set_stage("internship_base", &unrecorded, "agreement", 5);
    let old = id_of(
        &app.internship_base(base(&w.park, "Joint Training Base"))
            .await,
    );
    app.backdate_creation("internship_base", &old, &ago(400));

    let funnel = app
        .get("/api/v1/reports/funnel?kind=internship_base")
        .await
        .expect(200)
        .body;
    assert_eq!(
        funnel,
        json!({
            "kind": "internship_base", "from": day(-364), "to": day(0), "entered": 4,
            "stages": [
                stage("intention", 4, None, (None, 0), Some(0.0)),
                stage("negotiation", 3, Some(0.75), (None, 0), Some(0.0)),
                stage("agreement", 1, Some(0.3333), (None, 0), Some(0.0)),
                stage("implementation", 0, Some(0.0), (None, 0), None),
                stage("completed", 0, None, (None, 0), None),
            ],
            "terminated": 1,
        })
    );
    let longer = app
        .get(&format!(
            "/api/v1/reports/funnel?kind=internship_base&from={}",
            day(-401)
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(longer["entered"], 5);
    assert_eq!(longer["stages"][0]["stays"], 0);
}

async fn reports_reject_bad_parameters(app: TestApp) {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("pipeline?page=2", &[("page", "unknown_parameter")]),
        ("pipeline?park_id=carbonbay", &[("park_id", "invalid_id")]),
        (
            "pipeline?include_archived=maybe",
            &[("include_archived", "invalid_boolean")],
        ),
        ("stalled?days=0", &[("days", "out_of_range")]),
        (
            "stalled?days=3651&kind=visit",
            &[("days", "out_of_range"), ("kind", "invalid_enum")],
        ),
        (
            "stalled?limit=0&cursor=%25%25",
            &[("limit", "out_of_range"), ("cursor", "invalid_cursor")],
        ),
        ("stalled?sort=name", &[("sort", "unknown_parameter")]),
        ("expiring?within=ninety", &[("within", "out_of_range")]),
        (
            "expiring?within=4000&park_id=1",
            &[("within", "out_of_range"), ("park_id", "invalid_id")],
        ),
        ("activity?group=week", &[("group", "invalid_enum")]),
        ("activity?from=2025-02-30", &[("from", "invalid_date")]),
        (
            "activity?from=2025-06-01&to=2025-03-01",
            &[("to", "before_from")],
        ),
        (
            "activity?from=2000-01-01&to=2025-01-01",
            &[("to", "out_of_range")],
        ),
        ("activity?days=30", &[("days", "unknown_parameter")]),
        ("funnel?from=2025-02-30", &[("from", "invalid_date")]),
        (
            "funnel?to=2025-13-01&kind=visit",
            &[("to", "invalid_date"), ("kind", "invalid_enum")],
        ),
        (
            "funnel?from=2025-06-01&to=2025-05-31",
            &[("to", "before_from")],
        ),
        // A `from` after today, with `to` left at today.
        ("funnel?from=2999-01-01", &[("to", "before_from")]),
        (
            "funnel?park_id=carbonbay&include_archived=maybe",
            &[
                ("park_id", "invalid_id"),
                ("include_archived", "invalid_boolean"),
            ],
        ),
        ("funnel?group=month", &[("group", "unknown_parameter")]),
    ];
    for (query, expected) in cases {
        let errors = app
            .get(&format!("/api/v1/reports/{query}"))
            .await
            .field_errors(400);
        assert_eq!(sorted(errors), pairs(expected), "{query}");
    }
    // A cursor from the other paged report continues a different order.
    let stalled_cursor = json!({
        "s": "stage_changed_at", "v": "2026-01-01T00:00:00",
        "i": "01a22514-c2d6-7588-937c-56af8c5187c1",
    });
    let encoded = base64_url(&stalled_cursor.to_string());
    let errors = app
        .get(&format!("/api/v1/reports/expiring?cursor={encoded}"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("cursor", "cursor_mismatch")]));
    // A cursor whose value was tampered with.
    let tampered = base64_url(&json!({"s": "valid_until", "v": "soon", "i": "x"}).to_string());
    let errors = app
        .get(&format!("/api/v1/reports/expiring?cursor={tampered}"))
        .await
        .field_errors(400);
    assert_eq!(errors, pairs(&[("cursor", "invalid_cursor")]));
}

fn base64_url(text: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    URL_SAFE_NO_PAD.encode(text)
}

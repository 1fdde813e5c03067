//! `/api/v1/visits`: a visit with its enterprises and participants (with roles).

use std::collections::{HashMap, HashSet};

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, Response, TestApp};

backend_tests!(
    create_round_trips_a_whole_visit,
    minimal_visit_gets_defaults,
    held_status_needs_a_start_in_the_past,
    required_fields_are_named,
    ends_at_must_be_after_starts_at,
    duplicate_links_are_refused,
    malformed_values_name_their_field,
    linked_enterprises_must_exist_and_be_live,
    linked_participants_must_exist_and_be_live,
    unknown_order_class_or_internship_base_is_not_found,
    partner_participants_must_belong_to_a_visit_enterprise_or_a_member,
    lists_of_links_have_a_limit,
    read_only_and_unknown_fields_are_refused,
    every_problem_of_a_body_is_reported_at_once,
    failed_create_leaves_no_visit_and_no_links,
    get_unknown_or_malformed_id,
    patch_changes_scalar_fields_and_bumps_the_version,
    patch_replaces_participants_only_when_sent,
    patch_replaces_enterprise_ids,
    patch_that_would_leave_a_partner_unaffiliated_changes_nothing,
    invalid_patch_changes_nothing,
    patch_that_changes_nothing_keeps_the_version,
    stale_if_match_on_patch_is_412_and_changes_nothing,
    patch_of_archived_unknown_or_malformed_visit,
    archived_participant_link_survives_a_patch,
    links_made_before_a_move_survive_a_patch,
    archived_enterprise_link_survives_a_patch,
    delete_archives_and_restore_brings_back,
    archive_and_restore_honour_if_match,
    archive_and_restore_of_unknown_or_malformed_id,
    list_is_newest_first_and_sorts_by_time,
    list_filters_by_enterprise_and_its_members,
    list_filters_by_participant,
    list_filters_by_time_window,
    list_bounds_reach_the_first_and_last_storable_years,
    times_are_kept_and_compared_to_the_microsecond,
    list_filters_by_direction_and_status,
    search_covers_title_purpose_summary_and_outcome,
    bad_list_parameters_are_400_naming_the_parameter,
    cursor_belongs_to_its_sort,
    pagination_survives_inserts_between_pages,
    pagination_by_creation_sees_visits_added_meanwhile,
    a_page_embeds_each_visits_own_links,
);

const LIST: &str = "/api/v1/visits";
/// A well-formed UUID that names no record.
const MISSING: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
const PAST: &str = "2024-11-29T02:00:00Z";
const FUTURE: &str = "2099-11-29T02:00:00Z";

fn at(id: &str) -> String {
    format!("{LIST}/{id}")
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect()
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn time(record: &Value, field: &str) -> chrono::DateTime<chrono::Utc> {
    record[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string: {record}"))
        .parse()
        .unwrap_or_else(|e| panic!("{field} is RFC 3339: {e}"))
}

/// A participant entry of a request body.
fn role(participant_id: &str, role: &str) -> Value {
    json!({"participant_id": participant_id, "role": role})
}

/// The smallest valid body: a title, a start in the past, a direction, enterprises.
fn visit_body(title: &str, enterprise_ids: Value) -> Value {
    json!({
        "title": title,
        "starts_at": PAST,
        "direction": "inbound",
        "enterprise_ids": enterprise_ids,
    })
}

/// As `visit_body`, starting at `starts_at`.
fn visit_at(title: &str, starts_at: &str, enterprise_ids: Value) -> Value {
    let mut body = visit_body(title, enterprise_ids);
    body["starts_at"] = json!(starts_at);
    body
}

fn without(body: &Value, field: &str) -> Value {
    let mut body = body.clone();
    body.as_object_mut().expect("an object").remove(field);
    body
}

/// Creates a visit, asserting 201.
async fn create(app: &TestApp, body: Value) -> Value {
    app.post(LIST, &body).await.expect(201).body
}

async fn create_errors(app: &TestApp, body: Value) -> Vec<(String, String)> {
    app.post(LIST, &body).await.field_errors(422)
}

async fn company(app: &TestApp, name: &str) -> String {
    id_of(&app.enterprise(json!({ "name": name })).await)
}

async fn school(app: &TestApp, name: &str) -> String {
    id_of(
        &app.participant(json!({"full_name": name, "side": "school"}))
            .await,
    )
}

async fn archive_participant(app: &TestApp, id: &str) {
    app.delete(&format!("/api/v1/participants/{id}"))
        .await
        .expect(200);
}

async fn restore_participant(app: &TestApp, id: &str) {
    app.request(
        Method::POST,
        &format!("/api/v1/participants/{id}/restore"),
        None,
        &[],
    )
    .await
    .expect(200);
}

async fn restore(app: &TestApp, path: &str) -> Response {
    app.request(Method::POST, &format!("{path}/restore"), None, &[])
        .await
}

/// `(participant id, role)` of every embedded participant, sorted.
fn roster(visit: &Value) -> Vec<(String, String)> {
    sorted(
        visit["participants"]
            .as_array()
            .unwrap_or_else(|| panic!("participants: {visit}"))
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().expect("id").to_string(),
                    p["role"].as_str().expect("role").to_string(),
                )
            })
            .collect(),
    )
}

fn expected_roster(entries: &[(&String, &str)]) -> Vec<(String, String)> {
    sorted(
        entries
            .iter()
            .map(|(id, role)| (id.to_string(), role.to_string()))
            .collect(),
    )
}

/// Ids of every embedded enterprise, sorted.
fn enterprise_ids(visit: &Value) -> Vec<String> {
    sorted(
        visit["enterprises"]
            .as_array()
            .unwrap_or_else(|| panic!("enterprises: {visit}"))
            .iter()
            .map(id_of)
            .collect(),
    )
}

fn ids(list: &[&String]) -> Vec<String> {
    sorted(list.iter().map(|s| s.to_string()).collect())
}

/// The record with its embedded lists sorted by id, for order-free comparisons.
fn by_id(record: &Value) -> Value {
    let mut record = record.clone();
    for list in ["enterprises", "participants"] {
        if let Some(items) = record[list].as_array_mut() {
            items.sort_by_key(id_of);
        }
    }
    record
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {page}"))
        .iter()
        .map(|v| v["title"].as_str().expect("title").to_string())
        .collect()
}

/// Titles of the first page of `?query`, in list order.
async fn list_titles(app: &TestApp, query: &str) -> Vec<String> {
    let separator = if query.is_empty() { "" } else { "&" };
    titles(
        &app.get(&format!("{LIST}?limit=200{separator}{query}"))
            .await
            .expect(200)
            .body,
    )
}

/// The problem's `errors`, whole.
fn errors_of(problem: &Value) -> Vec<Value> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("problem without errors: {problem}"))
        .clone()
}

/// The Carbonbay scene: an industrial park with two member companies, a company
/// outside it, a partner-side person of each, and two school-side people.
struct Scene {
    park: String,
    chem: String,
    poly: String,
    stranger: String,
    /// The park's chief economist.
    economist: String,
    chem_rep: String,
    poly_rep: String,
    /// Works for the stranger company.
    outsider: String,
    president: String,
    dean: String,
}

async fn scene(app: &TestApp) -> Scene {
    let park = id_of(
        &app.enterprise(json!({"name": "Carbonbay Industrial Park", "kind": "industrial_park"}))
            .await,
    );
    let chem = id_of(
        &app.enterprise(json!({"name": "Carbonbay Chemical", "parent_id": park}))
            .await,
    );
    let poly = id_of(
        &app.enterprise(json!({"name": "Carbonbay Polymers", "parent_id": park}))
            .await,
    );
    let stranger = company(app, "Harbour Logistics").await;
    let partner = |name: &str, title: &str, enterprise: &str| json!({"full_name": name, "side": "partner", "title": title, "enterprise_id": enterprise});
    let economist = id_of(
        &app.participant(partner("Zhao Jianguo", "Chief Economist", &park))
            .await,
    );
    let chem_rep = id_of(
        &app.participant(partner("Qian Bo", "Deputy General Manager", &chem))
            .await,
    );
    let poly_rep = id_of(
        &app.participant(partner("Sun Li", "HR Director", &poly))
            .await,
    );
    let outsider = id_of(
        &app.participant(partner("Hu Yang", "Sales Manager", &stranger))
            .await,
    );
    let president = id_of(
        &app.participant(json!({"full_name": "Wang Wei", "side": "school", "title": "President"}))
            .await,
    );
    let dean = id_of(
        &app.participant(json!({"full_name": "Li Na", "side": "school", "title": "Dean"}))
            .await,
    );
    Scene {
        park,
        chem,
        poly,
        stranger,
        economist,
        chem_rep,
        poly_rep,
        outsider,
        president,
        dean,
    }
}

async fn create_round_trips_a_whole_visit(app: TestApp) {
    let s = scene(&app).await;
    let created = app
        .post(
            LIST,
            &json!({
                "title": "  Carbonbay   park delegation visits the college ",
                "starts_at": "2024-11-29T10:00:00+08:00",
                "ends_at": "2024-11-29T12:30:00+08:00",
                "direction": "inbound",
                "location": "Administration Building, Room 301",
                "purpose": "Discuss an order class and a talent training plan.",
                "summary": "The park's chief economist and two member companies met the president.",
                "outcome": "Preliminary cooperation intention; an internship base is proposed.",
                "follow_up": "Draft the order class plan with Carbonbay Chemical.",
                "follow_up_due": "2024-12-15",
                "status": "held",
                "enterprise_ids": [s.park, s.chem, s.poly],
                "participants": [
                    role(&s.president, "host"),
                    role(&s.economist, "guest"),
                    role(&s.chem_rep, "speaker"),
                    role(&s.poly_rep, "attendee"),
                    role(&s.dean, "attendee"),
                ],
            }),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    let uuid = uuid::Uuid::parse_str(&id).expect("the id is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "{id}");
    assert_eq!(created.header("location"), Some(at(&id).as_str()));
    assert_eq!(created.etag(), "\"1\"");

    let expected = json!({
        "id": id,
        "title": "Carbonbay park delegation visits the college",
        "starts_at": "2024-11-29T02:00:00Z",
        "ends_at": "2024-11-29T04:30:00Z",
        "direction": "inbound",
        "location": "Administration Building, Room 301",
        "purpose": "Discuss an order class and a talent training plan.",
        "summary": "The park's chief economist and two member companies met the president.",
        "outcome": "Preliminary cooperation intention; an internship base is proposed.",
        "follow_up": "Draft the order class plan with Carbonbay Chemical.",
        "follow_up_due": "2024-12-15",
        "status": "held",
        "enterprises": [
            {"id": s.park, "name": "Carbonbay Industrial Park", "kind": "industrial_park"},
            {"id": s.chem, "name": "Carbonbay Chemical", "kind": "company"},
            {"id": s.poly, "name": "Carbonbay Polymers", "kind": "company"},
        ],
        "participants": [
            {"id": s.president, "full_name": "Wang Wei", "title": "President", "side": "school",
             "enterprise_id": null, "role": "host"},
            {"id": s.economist, "full_name": "Zhao Jianguo", "title": "Chief Economist",
             "side": "partner", "enterprise_id": s.park, "role": "guest"},
            {"id": s.chem_rep, "full_name": "Qian Bo", "title": "Deputy General Manager",
             "side": "partner", "enterprise_id": s.chem, "role": "speaker"},
            {"id": s.poly_rep, "full_name": "Sun Li", "title": "HR Director", "side": "partner",
             "enterprise_id": s.poly, "role": "attendee"},
            {"id": s.dean, "full_name": "Li Na", "title": "Dean", "side": "school",
             "enterprise_id": null, "role": "attendee"},
        ],
        "order_classes": [],
        "internship_bases": [],
        "created_at": created.body["created_at"],
        "updated_at": created.body["created_at"],
        "version": 1,
        "archived_at": null,
    });
    assert_eq!(by_id(&created.body), by_id(&expected));
    time(&created.body, "created_at");

    let fetched = app.get(&at(&id)).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(fetched.body, created.body);
    // The list shows the same record.
    let page = app.get(LIST).await.expect(200).body;
    assert_eq!(page["items"], json!([created.body]));
    assert_eq!(page["next_cursor"], Value::Null);
}

async fn minimal_visit_gets_defaults(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = create(&app, visit_body("Phone call", json!([park]))).await;
    assert_eq!(created["status"], "planned");
    for field in [
        "ends_at",
        "location",
        "purpose",
        "summary",
        "outcome",
        "follow_up",
        "follow_up_due",
        "archived_at",
    ] {
        assert_eq!(created[field], Value::Null, "{field}");
    }
    assert_eq!(created["participants"], json!([]));
    assert_eq!(created["order_classes"], json!([]));
    assert_eq!(created["internship_bases"], json!([]));
    assert_eq!(created["version"], 1);

    // Blank optional texts are stored as absent.
    let mut body = visit_body("Online check-in", json!([park]));
    body["direction"] = json!("online");
    body["location"] = json!("   ");
    body["summary"] = json!("\n\t ");
    let blank = create(&app, body).await;
    assert_eq!(blank["location"], Value::Null);
    assert_eq!(blank["summary"], Value::Null);
    assert_eq!(blank["direction"], "online");
}

async fn held_status_needs_a_start_in_the_past(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let future = visit_at("Planned return visit", FUTURE, json!([park]));
    let planned = create(&app, future.clone()).await;
    assert_eq!(planned["status"], "planned");

    let mut held = future.clone();
    held["status"] = json!("held");
    assert_eq!(
        create_errors(&app, held).await,
        pairs(&[("status", "held_in_future")])
    );
    for status in ["planned", "cancelled"] {
        let mut body = future.clone();
        body["status"] = json!(status);
        assert_eq!(create(&app, body).await["status"], status);
    }
    let mut past = visit_body("Held visit", json!([park]));
    past["status"] = json!("held");
    let held = create(&app, past).await;
    assert_eq!(held["status"], "held");
    assert_eq!(app.collect_ids(LIST).await.len(), 4);

    // The same rule holds for a patch, whichever of the two fields it changes.
    let planned_path = at(&id_of(&planned));
    assert_eq!(
        app.patch(&planned_path, &json!({"status": "held"}))
            .await
            .field_errors(422),
        pairs(&[("status", "held_in_future")])
    );
    let held_path = at(&id_of(&held));
    assert_eq!(
        app.patch(&held_path, &json!({"starts_at": FUTURE}))
            .await
            .field_errors(422),
        pairs(&[("status", "held_in_future")])
    );
    assert_eq!(app.get(&held_path).await.body, held);
    // Moving the start into the past and marking it held in one patch is fine.
    let done = app
        .patch(&planned_path, &json!({"status": "held", "starts_at": PAST}))
        .await
        .expect(200)
        .body;
    assert_eq!(done["status"], "held");
    assert_eq!(done["starts_at"], PAST);
    assert_eq!(done["version"], 2);
}

async fn required_fields_are_named(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let base = visit_body("Kickoff", json!([park]));
    for field in ["title", "starts_at", "direction", "enterprise_ids"] {
        assert_eq!(
            create_errors(&app, without(&base, field)).await,
            pairs(&[(field, "required")]),
            "{field} left out"
        );
        let mut body = base.clone();
        body[field] = Value::Null;
        assert_eq!(
            create_errors(&app, body).await,
            pairs(&[(field, "required")]),
            "{field}: null"
        );
    }
    let mut blank = base.clone();
    blank["title"] = json!(" \t ");
    assert_eq!(
        create_errors(&app, blank).await,
        pairs(&[("title", "required")])
    );
    let mut empty = base.clone();
    empty["enterprise_ids"] = json!([]);
    assert_eq!(
        create_errors(&app, empty).await,
        pairs(&[("enterprise_ids", "required")])
    );
    let mut long = base.clone();
    long["title"] = json!("访".repeat(201));
    assert_eq!(
        create_errors(&app, long).await,
        pairs(&[("title", "too_long")])
    );
    assert!(app
        .collect_ids(&format!("{LIST}?include_archived=true"))
        .await
        .is_empty());
}

async fn ends_at_must_be_after_starts_at(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let base = visit_at("Workshop", "2024-11-29T02:00:00Z", json!([park]));
    for ends_at in [
        "2024-11-29T02:00:00Z",
        "2024-11-29T10:00:00+08:00",
        "2024-11-29T01:59:59Z",
        "2024-11-28T02:00:00Z",
    ] {
        let mut body = base.clone();
        body["ends_at"] = json!(ends_at);
        assert_eq!(
            create_errors(&app, body).await,
            pairs(&[("ends_at", "before_start")]),
            "{ends_at}"
        );
    }
    let mut body = base.clone();
    body["ends_at"] = json!("2024-11-29T02:00:01Z");
    assert_eq!(create(&app, body).await["ends_at"], "2024-11-29T02:00:01Z");

    // A patch that moves the start past the end is refused as well.
    let visit = create(&app, {
        let mut body = base.clone();
        body["ends_at"] = json!("2024-11-29T04:00:00Z");
        body
    })
    .await;
    let path = at(&id_of(&visit));
    assert_eq!(
        app.patch(&path, &json!({"starts_at": "2024-11-29T05:00:00Z"}))
            .await
            .field_errors(422),
        pairs(&[("ends_at", "before_start")])
    );
    // Clearing the end with null lifts the rule.
    let open = app
        .patch(
            &path,
            &json!({"starts_at": "2024-11-29T05:00:00Z", "ends_at": null}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(open["ends_at"], Value::Null);
    assert_eq!(open["starts_at"], "2024-11-29T05:00:00Z");
}

async fn duplicate_links_are_refused(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park, s.park]));
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("enterprise_ids[1]", "duplicate")])
    );
    body["enterprise_ids"] = json!([s.park, s.chem, s.poly, s.chem]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("enterprise_ids[3]", "duplicate")])
    );

    body["enterprise_ids"] = json!([s.park]);
    // The same person twice, even in different roles.
    body["participants"] = json!([role(&s.president, "host"), role(&s.president, "speaker")]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants[1].participant_id", "duplicate")])
    );
    body["participants"] = json!([
        role(&s.economist, "guest"),
        role(&s.president, "host"),
        role(&s.economist, "guest"),
    ]);
    let problem = app.post(LIST, &body).await.problem(422);
    let errors = errors_of(&problem);
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["field"], "participants[2].participant_id");
    assert_eq!(errors[0]["code"], "duplicate");
    assert!(
        errors[0]["message"]
            .as_str()
            .expect("message")
            .contains(&s.economist),
        "{problem}"
    );
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn malformed_values_name_their_field(app: TestApp) {
    let s = scene(&app).await;
    let base = visit_body("Delegation", json!([s.park]));
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "participants",
            json!([role(&s.president, "boss")]),
            "participants[0].role",
            "invalid_enum",
        ),
        (
            "participants",
            json!([role(&s.president, "host"), role(&s.dean, "Host")]),
            "participants[1].role",
            "invalid_enum",
        ),
        (
            "participants",
            json!([{"participant_id": "wang", "role": "host"}]),
            "participants[0].participant_id",
            "invalid_type",
        ),
        (
            "participants",
            json!(s.president),
            "participants",
            "invalid_type",
        ),
        ("direction", json!("sideways"), "direction", "invalid_enum"),
        ("direction", json!("Inbound"), "direction", "invalid_enum"),
        ("direction", json!(1), "direction", "invalid_type"),
        ("status", json!("done"), "status", "invalid_enum"),
        ("starts_at", json!("yesterday"), "starts_at", "invalid_type"),
        (
            "starts_at",
            json!("2024-11-29"),
            "starts_at",
            "invalid_type",
        ),
        (
            "starts_at",
            json!("2024-11-29T10:00:00"),
            "starts_at",
            "invalid_type",
        ),
        ("starts_at", json!(1732845600), "starts_at", "invalid_type"),
        // Past the years 0001–9999 once in UTC, which RFC 3339 cannot write.
        (
            "starts_at",
            json!("9999-12-31T23:59:59-23:59"),
            "starts_at",
            "invalid_type",
        ),
        (
            "starts_at",
            json!("0000-01-01T00:00:00+23:59"),
            "starts_at",
            "invalid_type",
        ),
        // SQLite would keep `:60`, PostgreSQL move it to the next minute.
        (
            "ends_at",
            json!("2016-12-31T23:59:60Z"),
            "ends_at",
            "invalid_type",
        ),
        ("ends_at", json!("later"), "ends_at", "invalid_type"),
        (
            "follow_up_due",
            json!("15/12/2024"),
            "follow_up_due",
            "invalid_type",
        ),
        (
            "enterprise_ids",
            json!(["carbonbay"]),
            "enterprise_ids[0]",
            "invalid_type",
        ),
        (
            "enterprise_ids",
            json!(s.park),
            "enterprise_ids",
            "invalid_type",
        ),
        ("title", json!(["Delegation"]), "title", "invalid_type"),
    ];
    for (field, value, error_field, code) in cases {
        let mut body = base.clone();
        body[field] = value.clone();
        assert_eq!(
            create_errors(&app, body).await,
            pairs(&[(error_field, code)]),
            "{field}: {value}"
        );
    }
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn linked_enterprises_must_exist_and_be_live(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let closed = company(&app, "Closed Chemical").await;
    app.delete(&format!("/api/v1/enterprises/{closed}"))
        .await
        .expect(200);

    assert_eq!(
        create_errors(&app, visit_body("Visit", json!([MISSING]))).await,
        pairs(&[("enterprise_ids[0]", "not_found")])
    );
    assert_eq!(
        create_errors(&app, visit_body("Visit", json!([park, MISSING]))).await,
        pairs(&[("enterprise_ids[1]", "not_found")])
    );
    assert_eq!(
        create_errors(&app, visit_body("Visit", json!([closed]))).await,
        pairs(&[("enterprise_ids[0]", "archived")])
    );
    assert_eq!(
        sorted(create_errors(&app, visit_body("Visit", json!([closed, park, MISSING]))).await),
        pairs(&[
            ("enterprise_ids[0]", "archived"),
            ("enterprise_ids[2]", "not_found")
        ])
    );
    // A participant's id is not an enterprise's.
    let person = school(&app, "Wang Wei").await;
    assert_eq!(
        create_errors(&app, visit_body("Visit", json!([person]))).await,
        pairs(&[("enterprise_ids[0]", "not_found")])
    );
    assert!(app
        .collect_ids(&format!("{LIST}?include_archived=true"))
        .await
        .is_empty());
}

async fn linked_participants_must_exist_and_be_live(app: TestApp) {
    let s = scene(&app).await;
    let gone = school(&app, "Gone Away").await;
    archive_participant(&app, &gone).await;
    let mut body = visit_body("Delegation", json!([s.park]));

    body["participants"] = json!([role(&s.president, "host"), role(MISSING, "guest")]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants[1].participant_id", "not_found")])
    );
    body["participants"] = json!([role(&gone, "attendee")]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants[0].participant_id", "archived")])
    );
    // An archived partner of the visit's enterprise is refused too.
    archive_participant(&app, &s.economist).await;
    body["participants"] = json!([role(&s.economist, "guest")]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants[0].participant_id", "archived")])
    );
    // An enterprise's id is not a participant's.
    body["participants"] = json!([role(&s.park, "guest")]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants[0].participant_id", "not_found")])
    );
    assert!(app
        .collect_ids(&format!("{LIST}?include_archived=true"))
        .await
        .is_empty());

    // Once restored, the same person can be linked.
    restore_participant(&app, &s.economist).await;
    body["participants"] = json!([role(&s.economist, "guest")]);
    let visit = create(&app, body).await;
    assert_eq!(roster(&visit), expected_roster(&[(&s.economist, "guest")]));
}

async fn unknown_order_class_or_internship_base_is_not_found(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let mut body = visit_body("Delegation", json!([park]));
    body["order_class_ids"] = json!([MISSING]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("order_class_ids[0]", "not_found")])
    );
    body["internship_base_ids"] = json!([MISSING]);
    assert_eq!(
        sorted(create_errors(&app, body.clone()).await),
        pairs(&[
            ("internship_base_ids[0]", "not_found"),
            ("order_class_ids[0]", "not_found"),
        ])
    );
    assert!(app.collect_ids(LIST).await.is_empty());

    // Empty lists are fine and are not echoed back as ids.
    let body = json!({
        "title": "Delegation",
        "starts_at": PAST,
        "direction": "inbound",
        "enterprise_ids": [park],
        "order_class_ids": [],
        "internship_base_ids": [],
    });
    let visit = create(&app, body).await;
    assert_eq!(visit["order_classes"], json!([]));
    assert_eq!(visit["internship_bases"], json!([]));
}

async fn partner_participants_must_belong_to_a_visit_enterprise_or_a_member(app: TestApp) {
    let s = scene(&app).await;

    // A partner from outside the visit's enterprises.
    let mut body = visit_body("Park delegation", json!([s.park]));
    body["participants"] = json!([role(&s.president, "host"), role(&s.outsider, "guest")]);
    let problem = app.post(LIST, &body).await.problem(422);
    let errors = errors_of(&problem);
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["field"], "participants[1].participant_id");
    assert_eq!(errors[0]["code"], "not_affiliated");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(message.contains(&s.outsider), "{message}");
    assert!(message.contains(&s.stranger), "{message}");
    assert!(app.collect_ids(LIST).await.is_empty());

    // The park's own people and the people of the companies inside it are welcome
    // when the visit names the park.
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.chem_rep, "speaker"),
        role(&s.poly_rep, "attendee"),
    ]);
    let park_visit = create(&app, body).await;
    assert_eq!(
        roster(&park_visit),
        expected_roster(&[
            (&s.president, "host"),
            (&s.economist, "guest"),
            (&s.chem_rep, "speaker"),
            (&s.poly_rep, "attendee"),
        ])
    );
    assert_eq!(enterprise_ids(&park_visit), ids(&[&s.park]));

    // Membership goes one way: a visit to a member company does not reach the park's
    // people nor the other member's.
    let mut body = visit_body("Chemical plant tour", json!([s.chem]));
    body["direction"] = json!("outbound");
    body["participants"] = json!([
        role(&s.chem_rep, "host"),
        role(&s.economist, "guest"),
        role(&s.poly_rep, "guest"),
    ]);
    assert_eq!(
        sorted(create_errors(&app, body.clone()).await),
        pairs(&[
            ("participants[1].participant_id", "not_affiliated"),
            ("participants[2].participant_id", "not_affiliated"),
        ])
    );

    // Naming the stranger company as well admits its people.
    let mut body = visit_body("Joint logistics meeting", json!([s.chem, s.stranger]));
    body["participants"] = json!([role(&s.chem_rep, "host"), role(&s.outsider, "guest")]);
    let joint = create(&app, body).await;
    assert_eq!(
        roster(&joint),
        expected_roster(&[(&s.chem_rep, "host"), (&s.outsider, "guest")])
    );

    // School-side people may attend any visit.
    let mut body = visit_body("Logistics talk", json!([s.stranger]));
    body["participants"] = json!([
        role(&s.president, "speaker"),
        role(&s.dean, "attendee"),
        role(&s.outsider, "host"),
    ]);
    let talk = create(&app, body).await;
    assert_eq!(
        roster(&talk),
        expected_roster(&[
            (&s.president, "speaker"),
            (&s.dean, "attendee"),
            (&s.outsider, "host"),
        ])
    );
    assert_eq!(app.collect_ids(LIST).await.len(), 3);
}

async fn lists_of_links_have_a_limit(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let people: Vec<Value> = (0..501)
        .map(|_| role(&uuid::Uuid::now_v7().to_string(), "attendee"))
        .collect();
    let mut body = visit_body("Graduation fair", json!([park]));
    body["participants"] = json!(people);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants", "too_many")])
    );

    // 500 is within the limit: these are refused one by one, for not existing.
    body["participants"] = json!(people[..500]);
    let errors = create_errors(&app, body.clone()).await;
    assert_eq!(errors.len(), 500);
    assert!(
        errors.iter().enumerate().all(|(i, (field, code))| *field
            == format!("participants[{i}].participant_id")
            && code == "not_found"),
        "{errors:?}"
    );

    let enterprises: Vec<String> = (0..51).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    body["enterprise_ids"] = json!(enterprises);
    body["participants"] = json!([]);
    assert_eq!(
        create_errors(&app, body).await,
        pairs(&[("enterprise_ids", "too_many")])
    );
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn read_only_and_unknown_fields_are_refused(app: TestApp) {
    let s = scene(&app).await;
    let base = visit_body("Delegation", json!([s.park]));
    let read_only: Vec<(&str, Value)> = vec![
        ("id", json!(MISSING)),
        (
            "enterprises",
            json!([{"id": s.park, "name": "Carbonbay Industrial Park", "kind": "industrial_park"}]),
        ),
        ("order_classes", json!([])),
        ("internship_bases", json!([])),
        ("version", json!(3)),
        ("created_at", json!(PAST)),
        ("updated_at", json!(PAST)),
        ("archived_at", json!(PAST)),
    ];
    for (field, value) in read_only {
        let mut body = base.clone();
        body[field] = value;
        assert_eq!(
            create_errors(&app, body).await,
            pairs(&[(field, "read_only")]),
            "{field}"
        );
    }

    let mut body = base.clone();
    body["agenda"] = json!("order class");
    assert_eq!(
        create_errors(&app, body).await,
        pairs(&[("agenda", "unknown_field")])
    );
    // An unknown member of a participant entry is named with its path.
    let mut body = base.clone();
    body["participants"] = json!([
        {"participant_id": s.president, "role": "host", "seat": 1},
    ]);
    assert_eq!(
        create_errors(&app, body).await,
        pairs(&[("participants[0].seat", "unknown_field")])
    );
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn every_problem_of_a_body_is_reported_at_once(app: TestApp) {
    let s = scene(&app).await;
    // Problems of the body itself.
    let errors = create_errors(
        &app,
        json!({
            "starts_at": "2024-11-29T02:00:00Z",
            "ends_at": "2024-11-29T01:00:00Z",
            "direction": "sideways",
            "enterprise_ids": [s.park, s.park],
            "participants": [role(&s.president, "boss")],
            "agenda": "order class",
        }),
    )
    .await;
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("agenda", "unknown_field"),
            ("direction", "invalid_enum"),
            ("ends_at", "before_start"),
            ("enterprise_ids[1]", "duplicate"),
            ("participants[0].role", "invalid_enum"),
            ("title", "required"),
        ])
    );

    // Problems only the database can see, all in one answer.
    let gone = school(&app, "Gone Away").await;
    archive_participant(&app, &gone).await;
    let mut body = visit_body("Delegation", json!([s.park, MISSING]));
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.outsider, "guest"),
        role(&gone, "attendee"),
        role(MISSING, "speaker"),
    ]);
    assert_eq!(
        sorted(create_errors(&app, body).await),
        pairs(&[
            ("enterprise_ids[1]", "not_found"),
            ("participants[1].participant_id", "not_affiliated"),
            ("participants[2].participant_id", "archived"),
            ("participants[3].participant_id", "not_found"),
        ])
    );
    assert!(app.collect_ids(LIST).await.is_empty());
}

async fn failed_create_leaves_no_visit_and_no_links(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park, s.chem]));
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.chem_rep, "speaker"),
        role(&s.outsider, "attendee"),
    ]);
    assert_eq!(
        create_errors(&app, body.clone()).await,
        pairs(&[("participants[3].participant_id", "not_affiliated")])
    );
    assert!(app.collect_ids(LIST).await.is_empty());
    assert!(app
        .collect_ids(&format!("{LIST}?include_archived=true"))
        .await
        .is_empty());
    for person in [&s.president, &s.economist, &s.chem_rep, &s.outsider] {
        assert!(
            app.collect_ids(&format!(
                "{LIST}?participant_id={person}&include_archived=true"
            ))
            .await
            .is_empty(),
            "{person}"
        );
    }
    for enterprise in [&s.park, &s.chem] {
        assert!(
            app.collect_ids(&format!(
                "{LIST}?enterprise_id={enterprise}&include_archived=true"
            ))
            .await
            .is_empty(),
            "{enterprise}"
        );
    }

    // Fixed, the same body is saved whole.
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.chem_rep, "speaker"),
    ]);
    let visit = create(&app, body).await;
    assert_eq!(app.collect_ids(LIST).await, [id_of(&visit)]);
    assert_eq!(
        app.collect_ids(&format!("{LIST}?participant_id={}", s.chem_rep))
            .await,
        [id_of(&visit)]
    );
    assert!(app
        .collect_ids(&format!("{LIST}?participant_id={}", s.outsider))
        .await
        .is_empty());
}

async fn get_unknown_or_malformed_id(app: TestApp) {
    let missing = app.get(&at(MISSING)).await.problem(404);
    assert_eq!(missing["type"], "/problems/not_found");

    let park = company(&app, "Carbonbay Industrial Park").await;
    // An enterprise's id is not a visit's.
    app.get(&at(&park)).await.problem(404);

    let visit = create(&app, visit_body("Delegation", json!([park]))).await;
    let id = id_of(&visit);
    assert_eq!(
        app.get(&at(&id.to_uppercase())).await.expect(200).body,
        visit
    );
    for malformed in ["not-a-uuid", "12345", "01890a5d-ac96-774b-bcce-b302099a805"] {
        assert_eq!(
            app.get(&at(malformed)).await.field_errors(400),
            pairs(&[("id", "invalid_id")]),
            "{malformed}"
        );
    }
}

async fn patch_changes_scalar_fields_and_bumps_the_version(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park]));
    body["location"] = json!("Room 301");
    body["purpose"] = json!("Order class");
    body["follow_up"] = json!("Send the draft plan");
    body["follow_up_due"] = json!("2024-12-15");
    body["participants"] = json!([role(&s.president, "host"), role(&s.economist, "guest")]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    let updated = app
        .patch(
            &path,
            &json!({
                "title": "  Carbonbay  park delegation ",
                "summary": "Both sides agreed on a talent training plan.",
                "outcome": "Preliminary intention",
                "status": "held",
                "ends_at": "2024-11-29T04:00:00Z",
                "direction": "online",
                "location": null,
                "follow_up_due": "2024-12-20",
            }),
        )
        .await
        .expect(200);
    assert_eq!(updated.etag(), "\"2\"");
    let v = &updated.body;
    assert_eq!(v["version"], 2);
    assert_eq!(v["title"], "Carbonbay park delegation");
    assert_eq!(v["summary"], "Both sides agreed on a talent training plan.");
    assert_eq!(v["outcome"], "Preliminary intention");
    assert_eq!(v["status"], "held");
    assert_eq!(v["ends_at"], "2024-11-29T04:00:00Z");
    assert_eq!(v["direction"], "online");
    assert_eq!(v["location"], Value::Null);
    assert_eq!(v["follow_up_due"], "2024-12-20");
    // What was not sent is kept: fields and links alike.
    assert_eq!(v["starts_at"], PAST);
    assert_eq!(v["purpose"], "Order class");
    assert_eq!(v["follow_up"], "Send the draft plan");
    assert_eq!(v["enterprises"], created["enterprises"]);
    assert_eq!(v["participants"], created["participants"]);
    assert_eq!(v["created_at"], created["created_at"]);
    assert_eq!(v["archived_at"], Value::Null);
    assert!(time(v, "updated_at") >= time(&created, "updated_at"));

    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(fetched.body, updated.body);

    let again = app
        .patch(&path, &json!({"follow_up": null, "follow_up_due": null}))
        .await
        .expect(200);
    assert_eq!(again.etag(), "\"3\"");
    assert_eq!(again.body["follow_up"], Value::Null);
    assert_eq!(again.body["follow_up_due"], Value::Null);
    assert_eq!(again.body["summary"], v["summary"]);
}

async fn patch_replaces_participants_only_when_sent(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park]));
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.dean, "attendee"),
    ]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    // Leaving `participants` out keeps them.
    let kept = app
        .patch(&path, &json!({"summary": "Talked about an order class."}))
        .await
        .expect(200)
        .body;
    assert_eq!(kept["participants"], created["participants"]);
    assert_eq!(kept["version"], 2);

    // Sending it replaces the whole list, roles included.
    let replaced = app
        .patch(
            &path,
            &json!({"participants": [
                role(&s.dean, "host"),
                role(&s.chem_rep, "speaker"),
                role(&s.economist, "attendee"),
            ]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(replaced["version"], 3);
    let expected = expected_roster(&[
        (&s.dean, "host"),
        (&s.chem_rep, "speaker"),
        (&s.economist, "attendee"),
    ]);
    assert_eq!(roster(&replaced), expected);
    assert_eq!(roster(&app.get(&path).await.body), expected);
    assert_eq!(replaced["summary"], "Talked about an order class.");
    // The president no longer took part; the chemical company's man did.
    assert!(app
        .collect_ids(&format!("{LIST}?participant_id={}", s.president))
        .await
        .is_empty());
    assert_eq!(
        app.collect_ids(&format!("{LIST}?participant_id={}", s.chem_rep))
            .await,
        [id_of(&created)]
    );

    // An empty list removes everyone.
    let emptied = app
        .patch(&path, &json!({"participants": []}))
        .await
        .expect(200)
        .body;
    assert_eq!(emptied["participants"], json!([]));
    assert_eq!(emptied["version"], 4);
    let refilled = app
        .patch(
            &path,
            &json!({"participants": [role(&s.president, "host")]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        roster(&refilled),
        expected_roster(&[(&s.president, "host")])
    );
    assert_eq!(refilled["version"], 5);
    // So does null (merge patch: null removes the member).
    let cleared = app
        .patch(&path, &json!({"participants": null}))
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["participants"], json!([]));
    assert_eq!(cleared["version"], 6);
    assert_eq!(app.get(&path).await.body["participants"], json!([]));
}

async fn patch_replaces_enterprise_ids(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park, s.chem]));
    body["participants"] = json!([role(&s.president, "host")]);
    let created = create(&app, body).await;
    let id = id_of(&created);
    let path = at(&id);
    assert_eq!(enterprise_ids(&created), ids(&[&s.park, &s.chem]));

    let moved = app
        .patch(&path, &json!({"enterprise_ids": [s.poly, s.stranger]}))
        .await
        .expect(200);
    assert_eq!(moved.etag(), "\"2\"");
    assert_eq!(enterprise_ids(&moved.body), ids(&[&s.poly, &s.stranger]));
    assert_eq!(
        roster(&moved.body),
        expected_roster(&[(&s.president, "host")])
    );
    assert_eq!(app.get(&path).await.body, moved.body);
    for gone in [&s.park, &s.chem] {
        assert!(
            app.collect_ids(&format!("{LIST}?enterprise_id={gone}"))
                .await
                .is_empty(),
            "{gone}"
        );
    }
    for now in [&s.poly, &s.stranger] {
        assert_eq!(
            app.collect_ids(&format!("{LIST}?enterprise_id={now}"))
                .await,
            [id.as_str()],
            "{now}"
        );
    }

    // A visit keeps at least one enterprise, and the list is checked as on create.
    for (patch, expected) in [
        (
            json!({"enterprise_ids": null}),
            ("enterprise_ids", "required"),
        ),
        (
            json!({"enterprise_ids": []}),
            ("enterprise_ids", "required"),
        ),
        (
            json!({"enterprise_ids": [s.poly, s.poly]}),
            ("enterprise_ids[1]", "duplicate"),
        ),
        (
            json!({"enterprise_ids": [s.poly, MISSING]}),
            ("enterprise_ids[1]", "not_found"),
        ),
    ] {
        assert_eq!(
            app.patch(&path, &patch).await.field_errors(422),
            pairs(&[expected]),
            "{patch}"
        );
    }
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(fetched.body, moved.body);
}

async fn patch_that_would_leave_a_partner_unaffiliated_changes_nothing(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Logistics talk", json!([s.park, s.stranger]));
    body["participants"] = json!([role(&s.outsider, "guest"), role(&s.president, "host")]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    // Dropping the stranger company while keeping its man.
    let problem = app
        .patch(&path, &json!({"enterprise_ids": [s.park]}))
        .await
        .problem(422);
    let errors = errors_of(&problem);
    assert_eq!(errors.len(), 1, "{problem}");
    let field = errors[0]["field"].as_str().expect("field");
    assert!(
        field.starts_with("participants[") && field.ends_with("].participant_id"),
        "{problem}"
    );
    assert_eq!(errors[0]["code"], "not_affiliated");
    assert!(
        errors[0]["message"]
            .as_str()
            .expect("message")
            .contains(&s.outsider),
        "{problem}"
    );
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(fetched.body, created);

    // Adding a stranger's man to a park visit is refused the same way.
    let mut park_body = visit_body("Park visit", json!([s.park]));
    park_body["participants"] = json!([role(&s.economist, "guest")]);
    let park_visit = create(&app, park_body).await;
    let park_path = at(&id_of(&park_visit));
    assert_eq!(
        app.patch(
            &park_path,
            &json!({"participants": [role(&s.economist, "guest"), role(&s.outsider, "guest")]})
        )
        .await
        .field_errors(422),
        pairs(&[("participants[1].participant_id", "not_affiliated")])
    );
    assert_eq!(app.get(&park_path).await.body, park_visit);

    // Dropping the company together with its man is fine.
    let done = app
        .patch(
            &path,
            &json!({"enterprise_ids": [s.park], "participants": [role(&s.president, "host")]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(enterprise_ids(&done), ids(&[&s.park]));
    assert_eq!(roster(&done), expected_roster(&[(&s.president, "host")]));
    assert_eq!(done["version"], 2);
}

async fn invalid_patch_changes_nothing(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park]));
    body["participants"] = json!([role(&s.president, "host")]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    let errors = app
        .patch(
            &path,
            &json!({
                "title": "Renamed",
                "direction": "sideways",
                "participants": [role(&s.dean, "boss")],
                "agenda": "x",
            }),
        )
        .await
        .field_errors(422);
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("agenda", "unknown_field"),
            ("direction", "invalid_enum"),
            ("participants[0].role", "invalid_enum"),
        ])
    );
    for required in ["title", "starts_at", "direction"] {
        let mut patch = json!({"summary": "x"});
        patch[required] = Value::Null;
        assert_eq!(
            app.patch(&path, &patch).await.field_errors(422),
            pairs(&[(required, "required")]),
            "{required}"
        );
    }
    for read_only in ["id", "enterprises", "version", "created_at", "archived_at"] {
        let mut patch = json!({"title": "Renamed"});
        patch[read_only] = created[read_only].clone();
        assert_eq!(
            app.patch(&path, &patch).await.field_errors(422),
            pairs(&[(read_only, "read_only")]),
            "{read_only}"
        );
    }
    assert_eq!(
        app.patch(&path, &json!(["title"])).await.field_errors(422),
        pairs(&[("", "not_an_object")])
    );
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"1\"");
    assert_eq!(fetched.body, created);
}

async fn patch_that_changes_nothing_keeps_the_version(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Carbonbay delegation", json!([s.park, s.chem]));
    body["summary"] = json!("Met the president.");
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.chem_rep, "speaker"),
    ]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    let same = app.patch(&path, &json!({})).await.expect(200);
    assert_eq!(same.etag(), "\"1\"");
    assert_eq!(same.body, created);

    let same = app
        .patch(
            &path,
            &json!({
                "title": " Carbonbay  delegation ",
                "starts_at": "2024-11-29T10:00:00+08:00",
                "summary": "Met the president.",
            }),
        )
        .await
        .expect(200);
    assert_eq!(same.etag(), "\"1\"");
    assert_eq!(same.body, created);

    // The same links, listed as the visit shows them.
    let shown: Vec<Value> = created["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| {
            role(
                p["id"].as_str().expect("id"),
                p["role"].as_str().expect("role"),
            )
        })
        .collect();
    let shown_enterprises: Vec<String> = created["enterprises"]
        .as_array()
        .expect("enterprises")
        .iter()
        .map(id_of)
        .collect();
    let same = app
        .patch(
            &path,
            &json!({"participants": shown, "enterprise_ids": shown_enterprises}),
        )
        .await
        .expect(200);
    assert_eq!(same.etag(), "\"1\"");
    assert_eq!(same.body, created);

    // The same links in another order: the visit keeps no order of its own, so
    // nothing changes either.
    let mut reordered = shown.clone();
    reordered.reverse();
    let mut reordered_enterprises = shown_enterprises.clone();
    reordered_enterprises.reverse();
    let same = app
        .patch(
            &path,
            &json!({"participants": reordered, "enterprise_ids": reordered_enterprises}),
        )
        .await
        .expect(200);
    assert_eq!(same.etag(), "\"1\"");
    assert_eq!(same.body, created);
}

async fn stale_if_match_on_patch_is_412_and_changes_nothing(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park]));
    body["participants"] = json!([role(&s.president, "host")]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    // Two clients read version 1; the first one's change wins.
    let first = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"summary": "First account"})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(first.etag(), "\"2\"");
    let second = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({
                "summary": "Second account",
                "participants": [role(&s.dean, "host")],
            })),
            &[("if-match", "\"1\"")],
        )
        .await
        .problem(412);
    assert_eq!(second["type"], "/problems/stale");
    assert_eq!(second["current_version"], 2);

    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.etag(), "\"2\"");
    assert_eq!(fetched.body, first.body);
    assert_eq!(fetched.body["summary"], "First account");
    assert_eq!(
        roster(&fetched.body),
        expected_roster(&[(&s.president, "host")])
    );

    // Retrying with the current ETag succeeds.
    let retried = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"summary": "Second account"})),
            &[("if-match", &fetched.etag())],
        )
        .await
        .expect(200);
    assert_eq!(retried.etag(), "\"3\"");
    assert_eq!(retried.body["summary"], "Second account");
}

async fn patch_of_archived_unknown_or_malformed_visit(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = create(&app, visit_body("Delegation", json!([park]))).await;
    let path = at(&id_of(&created));
    let archived = app.delete(&path).await.expect(200).body;
    let refused = app
        .patch(&path, &json!({"summary": "Late notes"}))
        .await
        .problem(409);
    assert_eq!(refused["type"], "/problems/archived");
    assert_eq!(app.get(&path).await.body, archived);

    let missing = app
        .patch(&at(MISSING), &json!({"summary": "x"}))
        .await
        .problem(404);
    assert_eq!(missing["type"], "/problems/not_found");
    assert_eq!(
        app.patch(&at("not-a-uuid"), &json!({"summary": "x"}))
            .await
            .field_errors(400),
        pairs(&[("id", "invalid_id")])
    );
    assert_eq!(
        app.collect_ids(&format!("{LIST}?include_archived=true"))
            .await,
        [id_of(&created)]
    );
}

/// A participant archived after the visit was saved drops out of what the visit
/// shows, but the link is kept: the visit can still be edited, and the person is
/// back once restored.
async fn archived_participant_link_survives_a_patch(app: TestApp) {
    let s = scene(&app).await;
    let mut body = visit_body("Delegation", json!([s.park]));
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.dean, "attendee"),
    ]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    archive_participant(&app, &s.economist).await;
    let shown = app.get(&path).await.expect(200).body;
    assert_eq!(
        roster(&shown),
        expected_roster(&[(&s.president, "host"), (&s.dean, "attendee")])
    );
    // Archiving someone else does not change the visit itself.
    assert_eq!(shown["version"], 1);

    let patched = app
        .patch(&path, &json!({"summary": "Notes written up later."}))
        .await
        .expect(200)
        .body;
    assert_eq!(patched["summary"], "Notes written up later.");
    assert_eq!(patched["version"], 2);
    assert_eq!(
        roster(&patched),
        expected_roster(&[(&s.president, "host"), (&s.dean, "attendee")])
    );

    restore_participant(&app, &s.economist).await;
    let restored = app.get(&path).await.expect(200).body;
    assert_eq!(
        roster(&restored),
        expected_roster(&[
            (&s.president, "host"),
            (&s.economist, "guest"),
            (&s.dean, "attendee"),
        ])
    );
    assert_eq!(restored["summary"], "Notes written up later.");
}

/// A person who changed employer, a class or base moved to another enterprise and a
/// company that left its park all took part when the visit was saved: the visit
/// stays editable while its enterprises stay as they were. Changing the enterprises
/// checks every link anew.
async fn links_made_before_a_move_survive_a_patch(app: TestApp) {
    let s = scene(&app).await;
    let class = id_of(
        &app.order_class(json!({"enterprise_id": s.chem, "name": "Process Technology 2027"}))
            .await,
    );
    let base = id_of(
        &app.internship_base(json!({"enterprise_id": s.park, "name": "Carbonbay Training Base"}))
            .await,
    );
    let mut body = visit_body("Park delegation", json!([s.park]));
    body["participants"] = json!([
        role(&s.president, "host"),
        role(&s.economist, "guest"),
        role(&s.chem_rep, "guest"),
        role(&s.poly_rep, "guest"),
    ]);
    body["order_class_ids"] = json!([class]);
    body["internship_base_ids"] = json!([base]);
    let created = create(&app, body).await;
    let path = at(&id_of(&created));

    // The economist joins the stranger company, the chemical company leaves the
    // park (taking its man with it), the polymer company's class and the park's base
    // move to the stranger company.
    app.patch(
        &format!("/api/v1/participants/{}", s.economist),
        &json!({"enterprise_id": s.stranger}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/v1/enterprises/{}", s.chem),
        &json!({"parent_id": null}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/v1/order-classes/{class}"),
        &json!({"enterprise_id": s.stranger}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/v1/internship-bases/{base}"),
        &json!({"enterprise_id": s.stranger}),
    )
    .await
    .expect(200);

    let patched = app
        .patch(&path, &json!({"outcome": "Agreed to draft a syllabus."}))
        .await
        .expect(200)
        .body;
    assert_eq!(patched["outcome"], "Agreed to draft a syllabus.");
    assert_eq!(patched["version"], 2);
    assert_eq!(roster(&patched), roster(&created));
    assert_eq!(patched["order_classes"][0]["id"], class);
    assert_eq!(patched["internship_bases"][0]["id"], base);

    // Sending the same links again, in another order, is the same.
    let again = app
        .patch(
            &path,
            &json!({
                "participants": [
                    role(&s.poly_rep, "guest"),
                    role(&s.chem_rep, "guest"),
                    role(&s.economist, "guest"),
                    role(&s.president, "host"),
                ],
                "order_class_ids": [class],
                "internship_base_ids": [base],
                "status": "cancelled",
            }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(again["status"], "cancelled");
    assert_eq!(roster(&again), roster(&created));

    // A person who has moved cannot be added to another visit of the park.
    let mut other = visit_body("Second park visit", json!([s.park]));
    other["participants"] = json!([role(&s.economist, "guest")]);
    assert_eq!(
        create_errors(&app, other).await,
        pairs(&[("participants[0].participant_id", "not_affiliated")])
    );

    // Changing the visit's enterprises checks every link against them anew. The
    // participants kept are in the visit's order, by name: Qian Bo (of the chemical
    // company, no longer in the park), Sun Li, Wang Wei, Zhao Jianguo (now a
    // stranger's man).
    assert_eq!(
        app.patch(&path, &json!({"enterprise_ids": [s.park, s.poly]}))
            .await
            .field_errors(422),
        pairs(&[
            ("participants[0].participant_id", "not_affiliated"),
            ("participants[3].participant_id", "not_affiliated"),
            ("order_class_ids[0]", "not_affiliated"),
            ("internship_base_ids[0]", "not_affiliated"),
        ])
    );
    assert_eq!(app.get(&path).await.body, again);
    let fine = app
        .patch(
            &path,
            &json!({
                "enterprise_ids": [s.park, s.stranger, s.chem],
                "status": "planned",
            }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(fine["version"], 4);
    assert_eq!(roster(&fine), roster(&created));
}

/// As for participants: an enterprise archived after the visit was saved stays
/// linked through an edit of the visit.
async fn archived_enterprise_link_survives_a_patch(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let closing = company(&app, "Closing Chemical").await;
    let created = create(&app, visit_body("Delegation", json!([park, closing]))).await;
    let path = at(&id_of(&created));
    assert_eq!(enterprise_ids(&created), ids(&[&park, &closing]));

    app.delete(&format!("/api/v1/enterprises/{closing}"))
        .await
        .expect(200);
    let shown = app.get(&path).await.expect(200).body;
    assert_eq!(enterprise_ids(&shown), ids(&[&park]));

    let patched = app
        .patch(&path, &json!({"summary": "Notes written up later."}))
        .await
        .expect(200)
        .body;
    assert_eq!(patched["version"], 2);
    assert_eq!(enterprise_ids(&patched), ids(&[&park]));

    restore(&app, &format!("/api/v1/enterprises/{closing}"))
        .await
        .expect(200);
    let restored = app.get(&path).await.expect(200).body;
    assert_eq!(enterprise_ids(&restored), ids(&[&park, &closing]));
    assert_eq!(
        app.collect_ids(&format!("{LIST}?enterprise_id={closing}"))
            .await,
        [id_of(&created)]
    );
}

async fn delete_archives_and_restore_brings_back(app: TestApp) {
    let s = scene(&app).await;
    let kept = create(
        &app,
        visit_at("Kept", "2024-11-01T02:00:00Z", json!([s.park])),
    )
    .await;
    let mut body = visit_at("Archived", "2024-11-02T02:00:00Z", json!([s.park]));
    body["participants"] = json!([role(&s.president, "host")]);
    let created = create(&app, body).await;
    let id = id_of(&created);
    let path = at(&id);

    let archived = app.delete(&path).await.expect(200);
    assert_eq!(archived.etag(), "\"2\"");
    assert_eq!(archived.body["version"], 2);
    assert!(time(&archived.body, "archived_at") >= time(&created, "created_at"));
    assert_eq!(archived.body["title"], "Archived");
    assert_eq!(archived.body["participants"], created["participants"]);

    // Still readable by id, but gone from lists unless asked for.
    assert_eq!(app.get(&path).await.expect(200).body, archived.body);
    assert_eq!(app.collect_ids(LIST).await, [id_of(&kept)]);
    assert_eq!(
        app.collect_ids(&format!("{LIST}?include_archived=false"))
            .await,
        [id_of(&kept)]
    );
    assert_eq!(
        app.collect_ids(&format!("{LIST}?include_archived=true"))
            .await,
        [id.clone(), id_of(&kept)]
    );
    assert!(app
        .collect_ids(&format!("{LIST}?participant_id={}", s.president))
        .await
        .is_empty());
    assert_eq!(
        app.collect_ids(&format!("{LIST}?enterprise_id={}", s.park))
            .await,
        [id_of(&kept)]
    );

    let again = app.delete(&path).await.problem(409);
    assert_eq!(again["type"], "/problems/archived");
    assert_eq!(app.get(&path).await.etag(), "\"2\"");

    let restored = restore(&app, &path).await.expect(200);
    assert_eq!(restored.etag(), "\"3\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["version"], 3);
    assert_eq!(restored.body["participants"], created["participants"]);
    assert_eq!(app.collect_ids(LIST).await, [id.clone(), id_of(&kept)]);

    let not_archived = restore(&app, &path).await.problem(409);
    assert_eq!(not_archived["type"], "/problems/not_archived");
    assert_eq!(app.get(&path).await.etag(), "\"3\"");
}

async fn archive_and_restore_honour_if_match(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let created = create(&app, visit_body("Delegation", json!([park]))).await;
    let path = at(&id_of(&created));
    app.patch(&path, &json!({"summary": "Notes"}))
        .await
        .expect(200);

    let stale = app
        .request(Method::DELETE, &path, None, &[("if-match", "\"1\"")])
        .await
        .problem(412);
    assert_eq!(stale["type"], "/problems/stale");
    assert_eq!(stale["current_version"], 2);
    let fetched = app.get(&path).await.expect(200);
    assert_eq!(fetched.body["archived_at"], Value::Null);
    assert_eq!(fetched.etag(), "\"2\"");

    let archived = app
        .request(Method::DELETE, &path, None, &[("if-match", "\"2\"")])
        .await
        .expect(200);
    assert_eq!(archived.etag(), "\"3\"");

    let stale = app
        .request(
            Method::POST,
            &format!("{path}/restore"),
            None,
            &[("if-match", "\"2\"")],
        )
        .await
        .problem(412);
    assert_eq!(stale["current_version"], 3);
    assert!(app.get(&path).await.body["archived_at"].is_string());

    let restored = app
        .request(
            Method::POST,
            &format!("{path}/restore"),
            None,
            &[("if-match", "\"3\"")],
        )
        .await
        .expect(200);
    assert_eq!(restored.etag(), "\"4\"");
    assert_eq!(restored.body["archived_at"], Value::Null);
}

async fn archive_and_restore_of_unknown_or_malformed_id(app: TestApp) {
    let missing = app.delete(&at(MISSING)).await.problem(404);
    assert_eq!(missing["type"], "/problems/not_found");
    let missing = restore(&app, &at(MISSING)).await.problem(404);
    assert_eq!(missing["type"], "/problems/not_found");
    assert_eq!(
        app.delete(&at("not-a-uuid")).await.field_errors(400),
        pairs(&[("id", "invalid_id")])
    );
    assert_eq!(
        restore(&app, &at("not-a-uuid")).await.field_errors(400),
        pairs(&[("id", "invalid_id")])
    );
}

async fn list_is_newest_first_and_sorts_by_time(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let mut created = Vec::new();
    for (title, starts_at) in [
        ("A", "2024-11-03T02:00:00Z"),
        ("B", "2024-11-01T02:00:00Z"),
        ("C", "2024-11-02T02:00:00Z"),
    ] {
        created.push(create(&app, visit_at(title, starts_at, json!([park]))).await);
    }
    assert_eq!(list_titles(&app, "").await, ["A", "C", "B"]);
    assert_eq!(list_titles(&app, "sort=-starts_at").await, ["A", "C", "B"]);
    assert_eq!(list_titles(&app, "sort=starts_at").await, ["B", "C", "A"]);
    assert_eq!(list_titles(&app, "sort=created_at").await, ["A", "B", "C"]);
    assert_eq!(list_titles(&app, "sort=-created_at").await, ["C", "B", "A"]);

    // Touch the first: it becomes the most recently updated.
    app.patch(&at(&id_of(&created[0])), &json!({"summary": "Notes"}))
        .await
        .expect(200);
    assert_eq!(list_titles(&app, "sort=updated_at").await, ["B", "C", "A"]);
    assert_eq!(list_titles(&app, "sort=-updated_at").await, ["A", "C", "B"]);
    assert_eq!(list_titles(&app, "sort=created_at").await, ["A", "B", "C"]);

    // Moving a visit's start moves it in the default order.
    app.patch(
        &at(&id_of(&created[1])),
        &json!({"starts_at": "2024-11-04T02:00:00Z"}),
    )
    .await
    .expect(200);
    assert_eq!(list_titles(&app, "").await, ["B", "A", "C"]);
}

async fn list_filters_by_enterprise_and_its_members(app: TestApp) {
    let s = scene(&app).await;
    let other_park = id_of(
        &app.enterprise(json!({"name": "Riverside Park", "kind": "industrial_park"}))
            .await,
    );
    let specs: [(&str, &str, Value); 6] = [
        ("Park", "2024-11-06T02:00:00Z", json!([s.park])),
        ("Chem", "2024-11-05T02:00:00Z", json!([s.chem])),
        (
            "Poly and stranger",
            "2024-11-04T02:00:00Z",
            json!([s.poly, s.stranger]),
        ),
        ("Stranger", "2024-11-03T02:00:00Z", json!([s.stranger])),
        (
            "Park and chem",
            "2024-11-02T02:00:00Z",
            json!([s.park, s.chem]),
        ),
        ("Riverside", "2024-11-01T02:00:00Z", json!([other_park])),
    ];
    for (title, starts_at, enterprises) in specs {
        create(&app, visit_at(title, starts_at, enterprises)).await;
    }

    assert_eq!(
        list_titles(&app, &format!("enterprise_id={}", s.park)).await,
        ["Park", "Park and chem"]
    );
    assert_eq!(
        list_titles(
            &app,
            &format!("enterprise_id={}&include_members=false", s.park)
        )
        .await,
        ["Park", "Park and chem"]
    );
    // With its members: each visit once, even when it names the park and a member.
    assert_eq!(
        list_titles(
            &app,
            &format!("enterprise_id={}&include_members=true", s.park)
        )
        .await,
        ["Park", "Chem", "Poly and stranger", "Park and chem"]
    );
    assert_eq!(
        list_titles(&app, &format!("enterprise_id={}", s.chem)).await,
        ["Chem", "Park and chem"]
    );
    // A company has no members: the flag changes nothing.
    assert_eq!(
        list_titles(
            &app,
            &format!("enterprise_id={}&include_members=true", s.chem)
        )
        .await,
        ["Chem", "Park and chem"]
    );
    assert_eq!(
        list_titles(&app, &format!("enterprise_id={}", s.stranger)).await,
        ["Poly and stranger", "Stranger"]
    );
    assert_eq!(
        list_titles(
            &app,
            &format!("enterprise_id={other_park}&include_members=true")
        )
        .await,
        ["Riverside"]
    );
    assert!(list_titles(&app, &format!("enterprise_id={MISSING}"))
        .await
        .is_empty());
    // Combined with another filter.
    assert_eq!(
        list_titles(
            &app,
            &format!(
                "enterprise_id={}&include_members=true&to=2024-11-04",
                s.park
            )
        )
        .await,
        ["Poly and stranger", "Park and chem"]
    );

    // `include_members` only widens an enterprise filter.
    assert_eq!(
        app.get(&format!("{LIST}?include_members=true"))
            .await
            .field_errors(400),
        pairs(&[("include_members", "requires_enterprise_id")])
    );
}

async fn list_filters_by_participant(app: TestApp) {
    let s = scene(&app).await;
    let mut first = visit_at("First", "2024-11-03T02:00:00Z", json!([s.park]));
    first["participants"] = json!([role(&s.president, "host"), role(&s.economist, "guest")]);
    let first = create(&app, first).await;
    let mut second = visit_at("Second", "2024-11-02T02:00:00Z", json!([s.chem]));
    second["participants"] = json!([role(&s.president, "guest"), role(&s.chem_rep, "host")]);
    create(&app, second).await;
    create(
        &app,
        visit_at("Nobody", "2024-11-01T02:00:00Z", json!([s.park])),
    )
    .await;

    assert_eq!(
        list_titles(&app, &format!("participant_id={}", s.president)).await,
        ["First", "Second"]
    );
    assert_eq!(
        list_titles(&app, &format!("participant_id={}", s.economist)).await,
        ["First"]
    );
    assert_eq!(
        list_titles(
            &app,
            &format!("participant_id={}&enterprise_id={}", s.president, s.chem)
        )
        .await,
        ["Second"]
    );
    assert!(list_titles(&app, &format!("participant_id={}", s.dean))
        .await
        .is_empty());
    assert!(list_titles(&app, &format!("participant_id={MISSING}"))
        .await
        .is_empty());

    // Taken off a visit, a person no longer finds it.
    app.patch(
        &at(&id_of(&first)),
        &json!({"participants": [role(&s.economist, "guest")]}),
    )
    .await
    .expect(200);
    assert_eq!(
        list_titles(&app, &format!("participant_id={}", s.president)).await,
        ["Second"]
    );
}

/// Visits at the first and the last instants that can be stored sort and filter
/// in time order on both backends, and the bounds reach them.
/// Digits finer than a microsecond are dropped from times sent, bodies and bounds
/// alike, so that both backends compare the same values.
async fn times_are_kept_and_compared_to_the_microsecond(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let mut body = visit_at("Nanos", "2023-03-03T03:03:03.123456789Z", json!([park]));
    // An end within the start's microsecond is no later than the start.
    body["ends_at"] = json!("2023-03-03T03:03:03.1234569Z");
    let errors = app.post("/api/v1/visits", &body).await.field_errors(422);
    assert_eq!(
        errors,
        [("ends_at".to_string(), "before_start".to_string())]
    );
    body["ends_at"] = json!("2023-03-03T03:03:03.1234579Z");
    let visit = create(&app, body).await;
    assert_eq!(visit["starts_at"], "2023-03-03T03:03:03.123456Z");
    assert_eq!(visit["ends_at"], "2023-03-03T03:03:03.123457Z");
    let at = |bound: &str, time: &str| format!("{bound}={}", encode(time));
    // `to` is exclusive: .1234561 is .123456, the visit's own start.
    assert!(list_titles(&app, &at("to", "2023-03-03T03:03:03.1234561Z"))
        .await
        .is_empty());
    assert_eq!(
        list_titles(&app, &at("from", "2023-03-03T03:03:03.1234565Z")).await,
        ["Nanos"]
    );
    assert_eq!(
        list_titles(&app, &at("to", "2023-03-03T03:03:03.123457Z")).await,
        ["Nanos"]
    );
}

async fn list_bounds_reach_the_first_and_last_storable_years(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    for (title, starts_at) in [
        ("First", "0001-01-01T00:00:00Z"),
        ("Ordinary", "2024-11-29T02:00:00Z"),
        ("Last", "9999-12-31T23:59:59.999999Z"),
    ] {
        let visit = create(&app, visit_at(title, starts_at, json!([park]))).await;
        assert_eq!(visit["starts_at"], starts_at);
    }
    // Written with an offset that keeps it within the years once in UTC.
    let early = create(
        &app,
        visit_at("Early", "0001-01-01T23:00:00+08:00", json!([park])),
    )
    .await;
    assert_eq!(early["starts_at"], "0001-01-01T15:00:00Z");

    let all = ["Last", "Ordinary", "Early", "First"];
    assert_eq!(list_titles(&app, "").await, all);
    assert_eq!(list_titles(&app, "to=9999-12-31").await, all);
    assert_eq!(
        list_titles(&app, "from=0001-01-01&to=9999-12-31&sort=starts_at").await,
        ["First", "Early", "Ordinary", "Last"]
    );
    assert_eq!(list_titles(&app, "from=9999-12-31").await, ["Last"]);
    assert_eq!(
        list_titles(&app, "from=2024-01-01&to=9999-12-31").await,
        ["Last", "Ordinary"]
    );
    assert_eq!(
        list_titles(
            &app,
            &format!("to={}", encode("9999-12-31T23:59:59.999999Z"))
        )
        .await,
        ["Ordinary", "Early", "First"]
    );

    for (query, field) in [
        ("from=0000-12-31".to_string(), "from"),
        (format!("to={}", encode("9999-12-31T23:59:59-23:59")), "to"),
        ("from=2016-12-31T23:59:60Z".to_string(), "from"),
    ] {
        assert_eq!(
            app.get(&format!("{LIST}?{query}")).await.field_errors(400),
            pairs(&[(field, "invalid_datetime")]),
            "?{query}"
        );
    }
}

async fn list_filters_by_time_window(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    for (title, starts_at) in [
        ("Late on the 28th", "2024-11-28T23:30:00Z"),
        ("Morning of the 29th", "2024-11-29T02:00:00Z"),
        ("Last second of the 29th", "2024-11-29T23:59:59Z"),
        ("Midnight of the 30th", "2024-11-30T00:00:00Z"),
        ("December", "2024-12-01T10:00:00Z"),
    ] {
        create(&app, visit_at(title, starts_at, json!([park]))).await;
    }

    assert_eq!(
        list_titles(&app, "from=2024-11-29").await,
        [
            "December",
            "Midnight of the 30th",
            "Last second of the 29th",
            "Morning of the 29th"
        ]
    );
    // `to` as a date includes that whole day.
    assert_eq!(
        list_titles(&app, "to=2024-11-29").await,
        [
            "Last second of the 29th",
            "Morning of the 29th",
            "Late on the 28th"
        ]
    );
    assert_eq!(
        list_titles(&app, "from=2024-11-29&to=2024-11-29").await,
        ["Last second of the 29th", "Morning of the 29th"]
    );
    // As times: `from` is inclusive, `to` exclusive.
    assert_eq!(
        list_titles(&app, "from=2024-11-29T02:00:00Z&to=2024-11-30T00:00:00Z").await,
        ["Last second of the 29th", "Morning of the 29th"]
    );
    assert_eq!(
        list_titles(&app, "to=2024-11-29T02:00:00Z").await,
        ["Late on the 28th"]
    );
    // Offsets are honoured: 10:00 in Beijing is 02:00 UTC.
    assert_eq!(
        list_titles(
            &app,
            &format!(
                "from={}&to={}",
                encode("2024-11-29T10:00:00+08:00"),
                encode("2024-11-30T08:00:00+08:00")
            )
        )
        .await,
        ["Last second of the 29th", "Morning of the 29th"]
    );
    assert_eq!(
        list_titles(&app, "from=2024-12-01T10:00:00.000001Z").await,
        Vec::<String>::new()
    );

    for query in [
        "from=2024-11-30&to=2024-11-29",
        "from=2024-11-29T02:00:00Z&to=2024-11-29T02:00:00Z",
        "from=2024-11-29T02:00:00Z&to=2024-11-29T01:00:00Z",
    ] {
        assert_eq!(
            app.get(&format!("{LIST}?{query}")).await.field_errors(400),
            pairs(&[("to", "before_from")]),
            "?{query}"
        );
    }
}

async fn list_filters_by_direction_and_status(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    for (title, starts_at, direction, status) in [
        ("Inbound held", "2024-11-04T02:00:00Z", "inbound", "held"),
        ("Outbound planned", FUTURE, "outbound", "planned"),
        (
            "Online cancelled",
            "2024-11-02T02:00:00Z",
            "online",
            "cancelled",
        ),
        (
            "Inbound cancelled",
            "2024-11-01T02:00:00Z",
            "inbound",
            "cancelled",
        ),
    ] {
        let mut body = visit_at(title, starts_at, json!([park]));
        body["direction"] = json!(direction);
        body["status"] = json!(status);
        create(&app, body).await;
    }
    assert_eq!(
        list_titles(&app, "direction=inbound").await,
        ["Inbound held", "Inbound cancelled"]
    );
    assert_eq!(
        list_titles(&app, "direction=outbound").await,
        ["Outbound planned"]
    );
    assert_eq!(
        list_titles(&app, "direction=online").await,
        ["Online cancelled"]
    );
    assert_eq!(list_titles(&app, "status=held").await, ["Inbound held"]);
    assert_eq!(
        list_titles(&app, "status=planned").await,
        ["Outbound planned"]
    );
    assert_eq!(
        list_titles(&app, "status=cancelled").await,
        ["Online cancelled", "Inbound cancelled"]
    );
    assert_eq!(
        list_titles(&app, "direction=inbound&status=cancelled").await,
        ["Inbound cancelled"]
    );
    assert!(list_titles(&app, "direction=outbound&status=held")
        .await
        .is_empty());
}

async fn search_covers_title_purpose_summary_and_outcome(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let fields: [(&str, &str, &str); 5] = [
        ("title", "Order Class kickoff", "2024-11-05T02:00:00Z"),
        ("purpose", "Talent Training plan", "2024-11-04T02:00:00Z"),
        (
            "summary",
            "实习基地 proposed by the park",
            "2024-11-03T02:00:00Z",
        ),
        (
            "outcome",
            "Preliminary INTENTION reached",
            "2024-11-02T02:00:00Z",
        ),
        ("location", "Lecture Hall", "2024-11-01T02:00:00Z"),
    ];
    let mut ids_by_field = HashMap::new();
    for (field, text, starts_at) in fields {
        let title = if field == "title" {
            text.to_string()
        } else {
            format!("Visit with a {field}")
        };
        let mut body = visit_at(&title, starts_at, json!([park]));
        if field != "title" {
            body[field] = json!(text);
        }
        body["follow_up"] = json!("Call back the secretary");
        ids_by_field.insert(field, id_of(&create(&app, body).await));
    }
    let found = |field: &str| vec![ids_by_field[field].clone()];

    for (q, field) in [
        ("order+class", "title"),
        ("ORDER+CLASS", "title"),
        ("ｏｒｄｅｒ　ｃｌａｓｓ", "title"),
        ("  order   class ", "title"),
        ("talent+training", "purpose"),
        ("ＴＡＬＥＮＴ", "purpose"),
        ("实习基地", "summary"),
        ("基地", "summary"),
        ("intention", "outcome"),
        ("Intention+Reached", "outcome"),
    ] {
        let q = if q.contains('+') {
            q.to_string()
        } else {
            encode(q)
        };
        assert_eq!(
            app.collect_ids(&format!("{LIST}?q={q}")).await,
            found(field),
            "q={q}"
        );
    }
    // Other fields are not searched.
    for q in ["lecture", "hall", "secretary"] {
        assert!(
            app.collect_ids(&format!("{LIST}?q={q}")).await.is_empty(),
            "q={q}"
        );
    }
    // Wildcards are literal.
    for q in ["%25", "_", "order%25class"] {
        assert!(
            app.collect_ids(&format!("{LIST}?q={q}")).await.is_empty(),
            "q={q}"
        );
    }
    // A blank q does not filter.
    assert_eq!(app.collect_ids(&format!("{LIST}?q=+++")).await.len(), 5);

    // The search follows edits.
    let location_visit = ids_by_field["location"].clone();
    app.patch(
        &at(&location_visit),
        &json!({"summary": "Agreed on a framework agreement"}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.collect_ids(&format!("{LIST}?q=framework")).await,
        [location_visit.as_str()]
    );
    app.patch(
        &at(&ids_by_field["title"]),
        &json!({"title": "Renamed meeting"}),
    )
    .await
    .expect(200);
    assert!(app
        .collect_ids(&format!("{LIST}?q=order+class"))
        .await
        .is_empty());
    assert_eq!(
        app.collect_ids(&format!("{LIST}?q=renamed")).await,
        found("title")
    );
}

async fn bad_list_parameters_are_400_naming_the_parameter(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    create(&app, visit_body("Delegation", json!([park]))).await;
    let cases: &[(&str, &str, &str)] = &[
        ("limit=0", "limit", "out_of_range"),
        ("limit=201", "limit", "out_of_range"),
        ("limit=-1", "limit", "out_of_range"),
        ("limit=ten", "limit", "out_of_range"),
        ("sort=title", "sort", "unknown_sort"),
        ("sort=--starts_at", "sort", "unknown_sort"),
        ("sort=ends_at", "sort", "unknown_sort"),
        ("cursor=not-a-cursor", "cursor", "invalid_cursor"),
        ("cursor=%25%25%25", "cursor", "invalid_cursor"),
        ("from=yesterday", "from", "invalid_datetime"),
        ("from=2024-11-31", "from", "invalid_datetime"),
        ("to=2024-13-01", "to", "invalid_datetime"),
        ("to=29%2F11%2F2024", "to", "invalid_datetime"),
        ("direction=sideways", "direction", "invalid_enum"),
        ("direction=Inbound", "direction", "invalid_enum"),
        ("status=done", "status", "invalid_enum"),
        ("enterprise_id=carbonbay", "enterprise_id", "invalid_id"),
        ("participant_id=wang", "participant_id", "invalid_id"),
        (
            "include_archived=yes",
            "include_archived",
            "invalid_boolean",
        ),
        (
            "include_members=maybe",
            "include_members",
            "invalid_boolean",
        ),
        ("q=%00", "q", "invalid_character"),
        ("colour=red", "colour", "unknown_parameter"),
        ("page=2", "page", "unknown_parameter"),
        (
            "direction=inbound&direction=online",
            "direction",
            "duplicate_parameter",
        ),
    ];
    for (query, field, code) in cases {
        let errors = app.get(&format!("{LIST}?{query}")).await.field_errors(400);
        assert_eq!(errors, pairs(&[(*field, *code)]), "?{query}");
    }
    let errors = app
        .get(&format!(
            "{LIST}?limit=0&sort=title&from=soon&direction=up&enterprise_id=x"
        ))
        .await
        .field_errors(400);
    assert_eq!(
        sorted(errors),
        pairs(&[
            ("direction", "invalid_enum"),
            ("enterprise_id", "invalid_id"),
            ("from", "invalid_datetime"),
            ("limit", "out_of_range"),
            ("sort", "unknown_sort"),
        ])
    );
}

async fn cursor_belongs_to_its_sort(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    for (title, starts_at) in [
        ("A", "2024-11-03T02:00:00Z"),
        ("B", "2024-11-02T02:00:00Z"),
        ("C", "2024-11-01T02:00:00Z"),
    ] {
        create(&app, visit_at(title, starts_at, json!([park]))).await;
    }
    let first = app.get(&format!("{LIST}?limit=1")).await.expect(200).body;
    assert_eq!(titles(&first), ["A"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    for other in ["sort=starts_at", "sort=-created_at", "sort=updated_at"] {
        assert_eq!(
            app.get(&format!("{LIST}?{other}&limit=1&cursor={cursor}"))
                .await
                .field_errors(400),
            pairs(&[("cursor", "cursor_mismatch")]),
            "{other}"
        );
    }
    let second = app
        .get(&format!("{LIST}?sort=-starts_at&limit=1&cursor={cursor}"))
        .await
        .expect(200)
        .body;
    assert_eq!(titles(&second), ["B"]);

    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"s":"-starts_at","v":"yesterday","i":"x"}"#);
    assert_eq!(
        app.get(&format!("{LIST}?cursor={forged}"))
            .await
            .field_errors(400),
        pairs(&[("cursor", "invalid_cursor")])
    );
}

/// A client pages through the visits, newest first, while colleagues log more: those
/// that sort after the page already seen are shown, the others are not, and none is
/// shown twice.
async fn pagination_survives_inserts_between_pages(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    // (starts_at, id) of every visit this pass must show.
    let mut expected: Vec<(String, String)> = Vec::new();
    for day in 1..=7 {
        let starts_at = format!("2024-03-{day:02}T09:00:00Z");
        let visit = create(
            &app,
            visit_at(&format!("March {day}"), &starts_at, json!([park])),
        )
        .await;
        expected.push((starts_at, id_of(&visit)));
    }
    // Two visits share a start: the id breaks the tie.
    let tie = create(
        &app,
        visit_at("March 4, second", "2024-03-04T09:00:00Z", json!([park])),
    )
    .await;
    expected.push(("2024-03-04T09:00:00Z".to_string(), id_of(&tie)));

    let mut seen = Vec::new();
    let mut unseen_newer = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let suffix = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get(&format!("{LIST}?limit=3{suffix}"))
            .await
            .expect(200)
            .body;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3, "{page}");
        seen.extend(items.iter().map(id_of));
        pages += 1;
        if pages <= 2 {
            // An older visit, logged late: it sorts after this page.
            let starts_at = format!("2024-02-{:02}T09:00:00Z", 20 - pages);
            let older = create(
                &app,
                visit_at(&format!("Older {pages}"), &starts_at, json!([park])),
            )
            .await;
            expected.push((starts_at, id_of(&older)));
            // A newer one: it sorts before the pages already seen.
            let newer = create(
                &app,
                visit_at(
                    &format!("Newer {pages}"),
                    &format!("2024-04-{pages:02}T09:00:00Z"),
                    json!([park]),
                ),
            )
            .await;
            unseen_newer.push(id_of(&newer));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert!(pages > 2, "only {pages} pages");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "repeated: {seen:?}");
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(seen, expected);
    for newer in &unseen_newer {
        assert!(!seen.contains(newer), "{newer} sorts before the first page");
    }
    // A fresh pass shows everything, newest first.
    let all = app.collect_ids(&format!("{LIST}?limit=3")).await;
    assert_eq!(all.len(), seen.len() + unseen_newer.len());
    let mut newest = unseen_newer.clone();
    newest.reverse();
    assert_eq!(all[..2], newest[..]);
    assert_eq!(all[2..], seen[..]);
}

async fn pagination_by_creation_sees_visits_added_meanwhile(app: TestApp) {
    let park = company(&app, "Carbonbay Industrial Park").await;
    let mut expected = Vec::new();
    for n in 0..5 {
        // Starts out of order: creation order is what counts here.
        let starts_at = format!("2024-05-{:02}T09:00:00Z", 10 - 2 * n + (n % 2) * 5);
        expected.push(id_of(
            &create(
                &app,
                visit_at(&format!("Early {n}"), &starts_at, json!([park])),
            )
            .await,
        ));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let suffix = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get(&format!("{LIST}?sort=created_at&limit=3{suffix}"))
            .await
            .expect(200)
            .body;
        seen.extend(page["items"].as_array().expect("items").iter().map(id_of));
        pages += 1;
        if pages <= 2 {
            for k in 0..2 {
                expected.push(id_of(
                    &create(
                        &app,
                        visit_at(&format!("Late {pages}.{k}"), PAST, json!([park])),
                    )
                    .await,
                ));
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert!(pages > 2, "only {pages} pages");
    assert_eq!(seen, expected);
}

/// Each visit of a page embeds its own enterprises and participants with their own
/// roles, however the page is cut.
async fn a_page_embeds_each_visits_own_links(app: TestApp) {
    let s = scene(&app).await;
    type Spec<'a> = (&'a str, Vec<&'a String>, Vec<(&'a String, &'a str)>);
    let specs: Vec<Spec> = vec![
        (
            "2024-11-05T02:00:00Z",
            vec![&s.park],
            vec![(&s.economist, "guest"), (&s.president, "host")],
        ),
        (
            "2024-11-04T02:00:00Z",
            vec![&s.chem],
            vec![(&s.chem_rep, "speaker")],
        ),
        (
            "2024-11-03T02:00:00Z",
            vec![&s.poly, &s.stranger],
            vec![
                (&s.poly_rep, "host"),
                (&s.outsider, "guest"),
                (&s.president, "attendee"),
            ],
        ),
        ("2024-11-02T02:00:00Z", vec![&s.stranger], vec![]),
        (
            "2024-11-01T02:00:00Z",
            vec![&s.park],
            vec![
                (&s.economist, "speaker"),
                (&s.dean, "host"),
                (&s.chem_rep, "attendee"),
                (&s.president, "guest"),
            ],
        ),
    ];
    // Per visit id: its enterprise ids and its (participant id, role) pairs, sorted.
    type Links = (Vec<String>, Vec<(String, String)>);
    let mut expected: HashMap<String, Links> = HashMap::new();
    let mut order = Vec::new();
    for (n, (starts_at, enterprises, people)) in specs.iter().enumerate() {
        let mut body = visit_at(&format!("Visit {n}"), starts_at, json!(enterprises));
        body["participants"] = json!(people.iter().map(|(id, r)| role(id, r)).collect::<Vec<_>>());
        let visit = create(&app, body).await;
        let id = id_of(&visit);
        let enterprise_list: Vec<String> = enterprises.iter().map(|e| e.to_string()).collect();
        let roster_list: Vec<(String, String)> = people
            .iter()
            .map(|(p, r)| (p.to_string(), r.to_string()))
            .collect();
        expected.insert(id.clone(), (sorted(enterprise_list), sorted(roster_list)));
        order.push(id);
    }

    for query in ["limit=200", "limit=2", "limit=1", "sort=created_at&limit=3"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let suffix = cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let page = app
                .get(&format!("{LIST}?{query}{suffix}"))
                .await
                .expect(200)
                .body;
            for item in page["items"].as_array().expect("items") {
                let id = id_of(item);
                let (enterprises, people) = &expected[&id];
                assert_eq!(&enterprise_ids(item), enterprises, "{query}: {item}");
                assert_eq!(&roster(item), people, "{query}: {item}");
                seen.push(id);
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), order.len(), "{query}");
    }

    // The list shows each visit exactly as a GET of it does.
    let page = app.get(LIST).await.expect(200).body;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.iter().map(id_of).collect::<Vec<_>>(), order);
    for item in items {
        assert_eq!(&app.get(&at(&id_of(item))).await.body, item);
    }
    // The shared people carry the details of their own record on every visit.
    let third = &items[2];
    let outsider = third["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == json!(s.outsider))
        .expect("the outsider is on the third visit");
    assert_eq!(
        outsider,
        &json!({
            "id": s.outsider,
            "full_name": "Hu Yang",
            "title": "Sales Manager",
            "side": "partner",
            "enterprise_id": s.stranger,
            "role": "guest",
        })
    );
}

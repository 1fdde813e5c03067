//! Exports: `liaison export` and `Accept: text/csv` on the lists.

use std::process::Command;

use liaison::db::{self, DatabaseUrl};
use liaison::domain::agreement::Agreement;
use liaison::domain::enterprise::{Enterprise, EnterpriseListParams};
use liaison::domain::internship_base::InternshipBase;
use liaison::domain::order_class::OrderClass;
use liaison::domain::participant::Participant;
use liaison::domain::visit::Visit;
use liaison::domain::Precondition;
use liaison::export::{self, Format};
use liaison::http::resource::Resource;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(
    lists_answer_csv_with_every_matching_record,
    the_export_command_writes_csv_and_json_lines,
    records_changed_while_an_export_runs_are_written_once_each,
);

/// The columns of each export are the members `openapi.yaml` documents, in order.
#[test]
fn export_columns_are_the_documented_members() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses");
    for (schema, columns) in [
        ("Enterprise", Enterprise::COLUMNS),
        ("Participant", Participant::COLUMNS),
        ("Visit", Visit::COLUMNS),
        ("OrderClass", OrderClass::COLUMNS),
        ("InternshipBase", InternshipBase::COLUMNS),
        ("Agreement", Agreement::COLUMNS),
    ] {
        let documented: Vec<&str> = doc["components"]["schemas"][schema]["properties"]
            .as_mapping()
            .expect("properties")
            .keys()
            .filter_map(serde_yaml::Value::as_str)
            .collect();
        assert_eq!(documented, columns, "{schema}");
    }
}

async fn seed(app: &TestApp) -> Vec<Value> {
    let mut created = Vec::new();
    for i in 0..230 {
        created.push(
            app.enterprise(json!({
                "name": format!("Enterprise {i:03}, \"quoted\""),
                "industry": if i % 2 == 0 { "chemicals" } else { "logistics" },
                "description": "line one\nline two",
            }))
            .await,
        );
    }
    created
}

fn rows(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV row"))
        .collect()
}

async fn lists_answer_csv_with_every_matching_record(app: TestApp) {
    let created = seed(&app).await;
    let response = app
        .request(
            Method::GET,
            "/api/v1/enterprises?industry=chemicals&sort=name",
            None,
            &[("accept", "text/csv")],
        )
        .await
        .expect(200);
    assert_eq!(
        response.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    // A byte order mark first, so that Excel reads it as UTF-8 (csv readers skip it).
    assert!(
        response.text.starts_with("\u{feff}id,"),
        "{}",
        &response.text[..20]
    );
    let mut reader = csv::Reader::from_reader(response.text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header, Enterprise::COLUMNS);
    let rows = rows(&response.text);
    // More than one page of 200, in the asked order, each field as the API gives it.
    assert_eq!(rows.len(), 115);
    assert_eq!(&rows[0][1], "Enterprise 000, \"quoted\"");
    assert_eq!(&rows[114][1], "Enterprise 228, \"quoted\"");
    assert_eq!(&rows[0][0], id_of(&created[0]));
    assert_eq!(&rows[0][8], "line one\nline two");
    assert_eq!(&rows[0][2], "", "null is an empty cell");
    // JSON stays the default, one page at a time.
    let page = app.get("/api/v1/enterprises").await.expect(200).body;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(50));
    // A visit's links are JSON in their cell.
    let visit = app
        .post(
            "/api/v1/visits",
            &json!({"title": "Delegation", "starts_at": "2024-11-29T02:00:00Z",
                    "direction": "inbound", "status": "held",
                    "enterprise_ids": [id_of(&created[0])]}),
        )
        .await
        .expect(201)
        .body;
    let visits = app
        .request(
            Method::GET,
            "/api/v1/visits",
            None,
            &[("accept", "text/csv")],
        )
        .await
        .expect(200);
    let rows = self::rows(&visits.text);
    let enterprises: Value = serde_json::from_str(&rows[0][12]).expect("JSON cell");
    assert_eq!(enterprises, visit["enterprises"]);
    // Bad filters are the list's 400s; `limit` does not apply.
    app.request(
        Method::GET,
        "/api/v1/enterprises?kind=bank",
        None,
        &[("accept", "text/csv")],
    )
    .await
    .problem(400);
    app.request(
        Method::GET,
        "/api/v1/enterprises?limit=10",
        None,
        &[("accept", "text/csv")],
    )
    .await
    .problem(400);
    // The same rules as the JSON list: a token is needed.
    app.request_as(
        None,
        Method::GET,
        "/api/v1/enterprises",
        None,
        &[("accept", "text/csv")],
    )
    .await
    .problem(401);
}

fn liaison(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .output()
        .expect("liaison runs")
}

async fn the_export_command_writes_csv_and_json_lines(app: TestApp) {
    let created = seed(&app).await;
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&created[1])))
        .await
        .expect(200);
    let output = liaison(&app, &["export", "enterprises", "industry=logistics"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        text.starts_with("\u{feff}id,"),
        "a BOM for Excel, then the header"
    );
    assert_eq!(rows(&text).len(), 114, "the archived one is left out");
    assert!(String::from_utf8_lossy(&output.stderr).contains("exported 114 enterprises"));
    let output = liaison(
        &app,
        &[
            "export",
            "enterprises",
            "--format",
            "json",
            "include_archived=true",
        ],
    );
    assert!(output.status.success());
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 230);
    let api = app
        .get(&format!("/api/v1/enterprises/{}", id_of(&created[1])))
        .await
        .expect(200)
        .body;
    assert_eq!(lines[1], api, "the same record as the API gives");
    // Mistakes are explained, not panicked over.
    for bad in [
        vec!["export", "enterprises", "kind=bank"],
        vec!["export", "enterprises", "nonsense"],
        vec!["export", "enterprises", "limit=5"],
        vec!["export", "spaceships"],
    ] {
        let output = liaison(&app, &bad);
        assert!(!output.status.success(), "{bad:?}");
        assert!(!output.stderr.is_empty());
    }
}

/// An export reads its pages in one snapshot: records changed from another
/// connection between two pages (which moves them in an order by `updated_at`) are
/// written once each, as they were when the export began. The HTTP CSV export goes
/// through the same `write_all`.
async fn records_changed_while_an_export_runs_are_written_once_each(app: TestApp) {
    let created = seed(&app).await;
    let mut expected: Vec<String> = created.iter().map(id_of).collect();
    expected.sort();
    let url = DatabaseUrl::parse(app.database_url());
    let mut description = "line one\nline two".to_string();
    for sort in ["updated_at", "-updated_at"] {
        let mut reader = db::connect_for_command(&url).expect("a connection");
        let mut writer = db::connect_for_command(&url).expect("another connection");
        let params = EnterpriseListParams {
            sort: Some(sort.to_string()),
            limit: Some("50".to_string()),
            ..Default::default()
        };
        let filter = Enterprise::filter(&params).expect("a filter");
        let mut out = Vec::new();
        let mut pages = 0;
        let count =
            export::write_all::<Enterprise>(&mut reader, filter, Format::Csv, &mut out, |_| {
                pages += 1;
                if pages > 1 {
                    return;
                }
                // After the first page, every record changes: in ascending order those
                // written already move to the end, in descending order those not yet
                // written move to the front.
                for record in &created {
                    let id = id_of(record).parse().expect("an id");
                    let patch = json!({"description": format!("changed during the {sort} export")});
                    Enterprise::update(&mut writer, id, &Precondition::Any, &patch)
                        .expect("updated");
                }
            })
            .expect("exported");
        assert!(pages > 1, "{sort}: more than one page");
        assert_eq!(count, 230, "{sort}");
        let text = String::from_utf8(out).expect("UTF-8");
        let rows = rows(&text);
        let mut ids: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
        ids.sort();
        assert_eq!(ids, expected, "{sort}: each record once");
        assert!(
            rows.iter().all(|r| r[8] == description),
            "{sort}: as the records were when the export began"
        );
        description = format!("changed during the {sort} export");
    }
}

//! Imports: `liaison import` and `POST /api/v1/imports/{kind}`, from CSV and xlsx.

use std::path::Path;
use std::process::{Command, Output};

use liaison::domain::credit_code::CreditCode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, id_of, TestApp, TestDatabase};

backend_tests!(
    a_mixed_file_imports_its_good_rows_and_reports_the_bad,
    all_or_nothing_imports_nothing_when_a_row_is_bad,
    chinese_headers_and_references_by_code_and_name,
    duplicates_are_skipped_updated_or_rejected,
    the_rejects_file_imports_again_once_fixed,
    xlsx_workbooks_import_like_csv,
    visits_order_classes_bases_and_agreements_import_with_references,
    the_api_refuses_what_it_cannot_read,
    an_export_imports_into_an_empty_database_as_the_same_records,
    rows_that_do_not_fit_the_header_are_rejected,
    a_rejects_file_in_a_missing_folder_is_refused_before_importing,
    the_command_line_names_the_file_it_cannot_use,
    two_imports_of_one_file_at_once_create_each_record_once,
    xlsx_rows_with_values_past_the_header_are_rejected,
    bad_query_values_name_their_parameter,
    an_id_cell_keeps_only_an_id_the_server_made,
    a_visits_export_imported_over_itself_keeps_links_to_archived_records,
);

const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A valid credit code ending the 17 characters `body`.
fn code(body: &str) -> String {
    CreditCode::complete(body)
        .unwrap_or_else(|| panic!("{body} completes"))
        .as_str()
        .to_string()
}

async fn import(app: &TestApp, kind: &str, query: &str, csv: &str) -> Value {
    app.upload(
        Some(&app.admin_token),
        &format!("/api/v1/imports/{kind}{query}"),
        CSV,
        csv.as_bytes().to_vec(),
    )
    .await
    .expect(200)
    .body
}

/// The reasons of a report as (line, column, code).
fn reasons(report: &Value) -> Vec<(u64, String, String)> {
    report["rejects"]
        .as_array()
        .expect("rejects")
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["column"].as_str().unwrap_or("").to_string(),
                r["code"].as_str().expect("code").to_string(),
            )
        })
        .collect()
}

fn counts(report: &Value) -> [u64; 5] {
    ["read", "imported", "updated", "skipped", "rejected"].map(|k| report[k].as_u64().expect(k))
}

async fn names(app: &TestApp, path: &str, member: &str) -> Vec<String> {
    let mut names: Vec<String> = app.get(path).await.expect(200).body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r[member].as_str().expect(member).to_string())
        .collect();
    names.sort();
    names
}

fn liaison(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("liaison runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn a_mixed_file_imports_its_good_rows_and_reports_the_bad(app: TestApp) {
    let good = code("91330200MA2CB0001");
    let csv = format!(
        "name,credit_code,kind,industry,website\n\
         Carbonbay Chemical,{good},company,chemicals,https://carbonbay.example\n\
         Bad Code Ltd,123,company,,\n\
         ,,company,,\n\
         \n\
         Wrong Kind Co,,bank,,\n\
         Bad Site Co,,company,,not a url\n\
         Harbour Logistics,,,logistics,\n"
    );
    let report = import(&app, "enterprises", "", &csv).await;
    assert_eq!(counts(&report), [6, 2, 0, 0, 4], "the empty line is no row");
    assert_eq!(report["committed"], true);
    assert_eq!(report["kind"], "enterprises");
    assert_eq!(report["mode"], "skip-bad");
    assert_eq!(
        reasons(&report),
        [
            (3, "credit_code".into(), "invalid_credit_code".into()),
            (4, "name".into(), "required".into()),
            (6, "kind".into(), "invalid_enum".into()),
            (7, "website".into(), "invalid_url".into()),
        ]
    );
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Carbonbay Chemical", "Harbour Logistics"]
    );
    let carbonbay = first(&app, "/api/v1/enterprises?q=Carbonbay").await;
    assert_eq!(carbonbay["credit_code"], good.as_str());
    assert_eq!(carbonbay["kind"], "company");
    // Each imported record has its audit entry, by the token that imported it.
    let audit = audit_of(&app, &carbonbay).await;
    assert_eq!(audit["items"][0]["action"], "create");
    assert_eq!(audit["items"][0]["actor"]["name"], "bootstrap");
}

async fn all_or_nothing_imports_nothing_when_a_row_is_bad(app: TestApp) {
    let csv = "name,kind\nFirst Co,company\nSecond Co,bank\nThird Co,company\n";
    let report = import(&app, "enterprises", "?mode=all-or-nothing", csv).await;
    assert_eq!(report["committed"], false);
    assert_eq!(counts(&report), [3, 0, 0, 0, 1]);
    assert_eq!(
        reasons(&report),
        [(3, "kind".into(), "invalid_enum".into())]
    );
    assert!(names(&app, "/api/v1/enterprises", "name").await.is_empty());
    // The same file without its bad row goes in whole.
    let csv = "name,kind\nFirst Co,company\nThird Co,company\n";
    let report = import(&app, "enterprises", "?mode=all-or-nothing", csv).await;
    assert_eq!(report["committed"], true);
    assert_eq!(counts(&report), [2, 2, 0, 0, 0]);
    // The command line says so and exits 1, writing nothing.
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "name,kind\nFourth Co,company\nFifth Co,bank\n").expect("written");
    let output = liaison(
        app.database_url(),
        &[
            "import",
            "enterprises",
            file.to_str().expect("UTF-8 path"),
            "--mode",
            "all-or-nothing",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("line 3, column kind"), "{err}");
    assert!(
        err.contains("read 2, imported 0, updated 0, skipped 0, rejected 1"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["First Co", "Third Co"]
    );
}

async fn chinese_headers_and_references_by_code_and_name(app: TestApp) {
    let park_code = code("91330200MA2CB0002");
    // The member comes before its park: it waits for the park's row.
    let csv = format!(
        "\u{feff}名称,统一社会信用代码,类型,行业,地区,上级单位\n\
         碳湾化工有限公司,,公司,化工,宁波,{park_code}\n\
         碳湾产业园,{park_code},产业园区,化工,宁波,\n\
         海港物流,,企业,物流,宁波,碳湾产业园\n\
         无名公司,,公司,,,不存在的园区\n"
    );
    let report = import(&app, "enterprises", "", &csv).await;
    assert_eq!(counts(&report), [4, 3, 0, 0, 1], "{report}");
    assert_eq!(
        reasons(&report),
        [(5, "上级单位".into(), "unknown_reference".into())]
    );
    let park = first(&app, "/api/v1/enterprises?q=产业园").await;
    assert_eq!(park["kind"], "industrial_park");
    let members = app
        .get(&format!("/api/v1/enterprises?parent_id={}", id_of(&park)))
        .await
        .expect(200)
        .body;
    let mut members: Vec<&str> = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    members.sort();
    assert_eq!(members, ["海港物流", "碳湾化工有限公司"]);
    // Participants name their enterprise by name, sides by their Chinese labels.
    let csv = "姓名,所属方,单位,职务,邮箱\n王芳,企业方,碳湾化工有限公司,人事经理,wang@carbonbay.example\n李雷,学校,,就业处,\n张三,火星,,,\n";
    let report = import(&app, "participants", "", csv).await;
    assert_eq!(counts(&report), [3, 2, 0, 0, 1], "{report}");
    assert_eq!(
        reasons(&report),
        [(4, "所属方".into(), "invalid_enum".into())]
    );
    let wang = first(&app, "/api/v1/participants?q=王芳").await;
    assert_eq!(wang["side"], "partner");
    assert_eq!(wang["title"], "人事经理");
    assert_eq!(
        wang["enterprise_id"],
        park_member_id(&app, "碳湾化工有限公司").await
    );
}

async fn park_member_id(app: &TestApp, name: &str) -> String {
    id_of(&first(app, &format!("/api/v1/enterprises?q={name}")).await)
}

/// The audit trail of an enterprise, newest first.
async fn audit_of(app: &TestApp, enterprise: &Value) -> Value {
    let path = format!(
        "/api/v1/audit?entity_kind=enterprise&entity_id={}",
        id_of(enterprise)
    );
    app.get(&path).await.expect(200).body
}

/// The first record of a list.
async fn first(app: &TestApp, path: &str) -> Value {
    app.get(path).await.expect(200).body["items"][0].clone()
}

async fn duplicates_are_skipped_updated_or_rejected(app: TestApp) {
    let carbonbay = code("91330200MA2CB0003");
    let initial =
        format!("name,credit_code,industry\nCarbonbay,{carbonbay},chemicals\nHarbour,,logistics\n");
    assert_eq!(
        counts(&import(&app, "enterprises", "", &initial).await),
        [2, 2, 0, 0, 0]
    );
    // Matched by credit code (whatever the name), or by the name's key.
    let again = format!(
        "name,credit_code,industry,region\nCarbonbay Renamed,{carbonbay},,Ningbo\n  HARBOUR ,,,Zhoushan\nNew Co,,,\n"
    );
    let report = import(&app, "enterprises", "", &again).await;
    assert_eq!(counts(&report), [3, 1, 0, 2, 0], "skip is the default");
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Carbonbay", "Harbour", "New Co"]
    );
    let report = import(&app, "enterprises", "?on_duplicate=fail", &again).await;
    assert_eq!(counts(&report), [3, 0, 0, 0, 3]);
    assert!(
        reasons(&report)
            .iter()
            .all(|(_, _, code)| code == "duplicate"),
        "{report}"
    );
    let report = import(&app, "enterprises", "?on_duplicate=update", &again).await;
    assert_eq!(
        counts(&report),
        [3, 0, 2, 1, 0],
        "New Co's update changes nothing"
    );
    let updated = first(&app, "/api/v1/enterprises?q=Renamed").await;
    // Non-empty cells are applied; empty ones leave the record as it was.
    assert_eq!(updated["region"], "Ningbo");
    assert_eq!(updated["industry"], "chemicals");
    assert_eq!(updated["version"], 2);
    let audit = audit_of(&app, &updated).await;
    assert_eq!(audit["items"][0]["action"], "update");
    assert_eq!(audit["items"][0]["changes"]["region"]["new"], "Ningbo");
    // An update still keeps the rules: a name taken by another record is refused.
    let clash = "name,credit_code\nHarbour,".to_string() + &carbonbay + "\n";
    let report = import(&app, "enterprises", "?on_duplicate=update", &clash).await;
    assert_eq!(counts(&report), [1, 0, 0, 0, 1]);
    assert_eq!(reasons(&report)[0].2, "duplicate_name");
    // Archived records are duplicates too, and are not updated while archived.
    app.delete(&format!("/api/v1/enterprises/{}", id_of(&updated)))
        .await
        .expect(200);
    let report = import(&app, "enterprises", "?on_duplicate=update", &again).await;
    assert_eq!(counts(&report), [3, 0, 0, 2, 1], "{report}");
    assert_eq!(reasons(&report)[0].2, "archived");
}

async fn the_rejects_file_imports_again_once_fixed(app: TestApp) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("enterprises.csv");
    let rejects = dir.path().join("rejects.csv");
    std::fs::write(
        &file,
        "名称,类型,网站\nGood Co,公司,\nBad Kind Co,bank,\n,公司,https://nameless.example\n",
    )
    .expect("written");
    let path = |p: &Path| p.to_str().expect("UTF-8 path").to_string();
    let (file_arg, rejects_arg) = (path(&file), path(&rejects));
    let with_rejects = [
        "import",
        "enterprises",
        &file_arg,
        "--rejects",
        &rejects_arg,
    ];
    let output = liaison(app.database_url(), &with_rejects);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("enterprises read 3, imported 1, updated 0, skipped 0, rejected 2"),
        "{err}"
    );
    assert!(err.contains("wrote the 2 rejected rows"), "{err}");
    let written = std::fs::read_to_string(&rejects).expect("rejects written");
    let mut reader = csv::Reader::from_reader(written.as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["名称", "类型", "网站", "import_errors"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "Bad Kind Co");
    assert!(rows[0][3].starts_with("类型: "), "{:?}", &rows[0]);
    assert!(rows[1][3].starts_with("名称: "), "{:?}", &rows[1]);
    // An existing rejects file is never overwritten.
    let output = liaison(app.database_url(), &with_rejects);
    assert!(
        stderr(&output).contains("exists already"),
        "{}",
        stderr(&output)
    );
    // Fixed in place (its error column left as it is), it imports.
    let fixed = written
        .replace("Bad Kind Co,bank", "Bad Kind Co,company")
        .replace("\n,公司,", "\nNamed Co,公司,");
    std::fs::write(&file, fixed).expect("written");
    let output = liaison(app.database_url(), &["import", "enterprises", &path(&file)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Bad Kind Co", "Good Co", "Named Co"]
    );
    // Files that cannot be read are refused as a whole.
    for (content, expected) in [
        ("", "empty"),
        ("name,colour\nA,red\n", "unknown column `colour`"),
        ("industry\nchemicals\n", "needs the column name"),
        ("name,名称\nA,B\n", "twice"),
    ] {
        std::fs::write(&file, content).expect("written");
        let output = liaison(app.database_url(), &["import", "enterprises", &path(&file)]);
        assert!(!output.status.success());
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
    std::fs::write(&file, b"name\n\xb2\xe2\xca\xd4\n").expect("written");
    let output = liaison(app.database_url(), &["import", "enterprises", &path(&file)]);
    assert!(stderr(&output).contains("not UTF-8"), "{}", stderr(&output));
    let output = liaison(
        app.database_url(),
        &["import", "enterprises", "/nonexistent.csv"],
    );
    assert!(
        stderr(&output).contains("cannot open"),
        "{}",
        stderr(&output)
    );
    let help = liaison(app.database_url(), &["import", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("统一社会信用代码") && help.contains("--on-duplicate"),
        "{help}"
    );
}

fn workbook(rows: &[Vec<Value>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Value::String(s) => {
                    match chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M") {
                        Ok(t) => sheet.write_datetime_with_format(r, c, t, &date).map(|_| ()),
                        Err(_) => sheet.write_string(r, c, s).map(|_| ()),
                    }
                }
                Value::Number(n) => sheet
                    .write_number(r, c, n.as_f64().expect("number"))
                    .map(|_| ()),
                Value::Bool(b) => sheet.write_boolean(r, c, *b).map(|_| ()),
                _ => Ok(()),
            }
            .expect("cell written");
        }
    }
    book.save_to_buffer().expect("workbook")
}

async fn xlsx_workbooks_import_like_csv(app: TestApp) {
    app.enterprise(json!({"name": "Carbonbay"})).await;
    let book = workbook(&[
        vec![
            json!("企业"),
            json!("名称"),
            json!("计划人数"),
            json!("允许超招"),
            json!("开始日期"),
        ],
        vec![
            json!("Carbonbay"),
            json!("2025 Chemical class"),
            json!(40),
            json!(true),
            json!("2025-09-01 00:00"),
        ],
        vec![
            json!("Carbonbay"),
            json!("Half class"),
            json!(12.5),
            json!(false),
            json!(""),
        ],
    ]);
    let report = app
        .upload(
            Some(&app.admin_token),
            "/api/v1/imports/order-classes",
            XLSX,
            book,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(counts(&report), [2, 1, 0, 0, 1], "{report}");
    assert_eq!(
        reasons(&report),
        [(3, "计划人数".into(), "not_an_integer".into())]
    );
    let class = first(&app, "/api/v1/order-classes").await;
    assert_eq!(class["planned_size"], 40);
    assert_eq!(class["allow_over_enrollment"], true);
    assert_eq!(class["starts_on"], "2025-09-01");
    // The command line reads the same workbook; times without an offset are in
    // --utc-offset.
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("visits.xlsx");
    std::fs::write(
        &file,
        workbook(&[
            vec![
                json!("标题"),
                json!("开始时间"),
                json!("方向"),
                json!("企业"),
                json!("状态"),
            ],
            vec![
                json!("Delegation"),
                json!("2025-03-01 09:30"),
                json!("来访"),
                json!("Carbonbay"),
                json!("已举行"),
            ],
        ]),
    )
    .expect("written");
    let output = liaison(
        app.database_url(),
        &[
            "import",
            "visits",
            file.to_str().expect("UTF-8"),
            "--utc-offset",
            "+08:00",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let visit = first(&app, "/api/v1/visits").await;
    assert_eq!(visit["starts_at"], "2025-03-01T01:30:00Z");
    assert_eq!(visit["direction"], "inbound");
    assert_eq!(visit["status"], "held");
    // Not a workbook at all.
    let problem = app
        .upload(
            Some(&app.admin_token),
            "/api/v1/imports/order-classes",
            XLSX,
            b"PK nonsense".to_vec(),
        )
        .await
        .problem(422);
    assert!(
        problem["detail"].as_str().expect("detail").contains("xlsx"),
        "{problem}"
    );
}

async fn visits_order_classes_bases_and_agreements_import_with_references(app: TestApp) {
    let carbonbay = app
        .enterprise(json!({"name": "Carbonbay", "credit_code": code("91330200MA2CB0004")}))
        .await;
    let harbour = app.enterprise(json!({"name": "Harbour"})).await;
    let wang = app
        .participant(
            json!({"full_name": "王芳", "side": "partner", "enterprise_id": id_of(&carbonbay),
                             "email": "wang@carbonbay.example"}),
        )
        .await;
    let li = app
        .participant(json!({"full_name": "李雷", "side": "school"}))
        .await;
    let report = import(
        &app,
        "order-classes",
        "",
        "enterprise,name,planned_size,stage,stage_note\nCarbonbay,Chemical 2025,30,negotiation,talks began\nHarbour,Logistics 2025,20,,\nNobody,Ghost class,10,,\n",
    )
    .await;
    assert_eq!(counts(&report), [3, 2, 0, 0, 1], "{report}");
    assert_eq!(
        reasons(&report),
        [(4, "enterprise".into(), "unknown_reference".into())]
    );
    let classes = app
        .get("/api/v1/order-classes?sort=name")
        .await
        .expect(200)
        .body;
    assert_eq!(classes["items"][0]["stage"], "negotiation");
    // An update applies the row's members; its stage columns move nothing.
    let report = import(
        &app,
        "order-classes",
        "?on_duplicate=update",
        "enterprise,name,planned_size,stage\nCarbonbay,CHEMICAL  2025,36,implementation\n",
    )
    .await;
    assert_eq!(counts(&report), [1, 0, 1, 0, 0], "{report}");
    let class = first(&app, "/api/v1/order-classes?sort=name").await;
    assert_eq!(class["planned_size"], 36);
    assert_eq!(class["stage"], "negotiation");
    let report = import(
        &app,
        "internship-bases",
        "",
        "enterprise_id,name,capacity\nHarbour,Harbour yard,12\n",
    )
    .await;
    assert_eq!(counts(&report), [1, 1, 0, 0, 0], "{report}");
    // A visit names enterprises, people (with roles), a class and a base by name.
    let csv = "title,starts_at,direction,enterprises,participants,order_classes,internship_bases\n\
               Joint visit,2025-04-01 10:00,outbound,Carbonbay；Harbour,wang@carbonbay.example:guest; 李雷:host,Chemical 2025,Harbour yard\n\
               Lonely visit,2025-04-02 10:00,outbound,Carbonbay,Nobody Known,,\n\
               Late visit,tomorrow,outbound,Carbonbay,,,\n";
    let report = import(&app, "visits", "", csv).await;
    assert_eq!(counts(&report), [3, 1, 0, 0, 2], "{report}");
    assert_eq!(
        reasons(&report),
        [
            (3, "participants".into(), "unknown_reference".into()),
            (4, "starts_at".into(), "invalid_type".into()),
        ]
    );
    let visit = first(&app, "/api/v1/visits").await;
    assert_eq!(visit["starts_at"], "2025-04-01T02:00:00Z");
    let mut roles: Vec<(String, String)> = visit["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id").to_string(),
                p["role"].as_str().expect("role").to_string(),
            )
        })
        .collect();
    roles.sort();
    let mut expected = vec![
        (id_of(&wang), "guest".to_string()),
        (id_of(&li), "host".to_string()),
    ];
    expected.sort();
    assert_eq!(roles, expected);
    assert_eq!(visit["order_classes"].as_array().map(Vec::len), Some(1));
    assert_eq!(visit["internship_bases"].as_array().map(Vec::len), Some(1));
    // Agreements name their order class; the class must be the enterprise's own.
    let csv = "enterprise,title,number,kind,order_class,valid_from,valid_until\n\
               Carbonbay,Order class agreement,CB-2025-01,订单班,Chemical 2025,2025-05-01,2028-04-30\n\
               Harbour,Wrong class,HB-1,order_class,Chemical 2025,2025-05-01,\n\
               Harbour,Backwards,HB-2,framework,,2025-05-01,2024-01-01\n";
    let report = import(&app, "agreements", "", csv).await;
    assert_eq!(counts(&report), [3, 1, 0, 0, 2], "{report}");
    let codes: Vec<String> = reasons(&report).into_iter().map(|(_, _, c)| c).collect();
    assert_eq!(codes.len(), 2, "{report}");
    let agreement = first(&app, "/api/v1/agreements").await;
    assert_eq!(agreement["kind"], "order_class");
    assert_eq!(agreement["enterprise_id"], id_of(&carbonbay));
    assert_eq!(harbour["name"], "Harbour");
}

async fn the_api_refuses_what_it_cannot_read(app: TestApp) {
    let csv = b"name\nA Co\n".to_vec();
    let path = "/api/v1/imports/enterprises";
    app.upload(
        Some(&app.admin_token),
        "/api/v1/imports/spaceships",
        CSV,
        csv.clone(),
    )
    .await
    .problem(404);
    app.upload(
        Some(&app.admin_token),
        path,
        "application/json",
        b"{}".to_vec(),
    )
    .await
    .problem(415);
    for query in [
        "?mode=some",
        "?on_duplicate=merge",
        "?utc_offset=8",
        "?colour=red",
    ] {
        app.upload(
            Some(&app.admin_token),
            &format!("{path}{query}"),
            CSV,
            csv.clone(),
        )
        .await
        .problem(400);
    }
    for body in [
        &b""[..],
        b"colour\nred\n",
        b"industry\nchemicals\n",
        b"name\n\xff\xfe\n",
    ] {
        let problem = app
            .upload(Some(&app.admin_token), path, CSV, body.to_vec())
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["code"], "unreadable_file", "{problem}");
    }
    let huge = vec![b'a'; 32 * 1024 * 1024 + 1];
    app.upload(Some(&app.admin_token), path, CSV, huge)
        .await
        .problem(413);
    // Officers import; viewers and the anonymous cannot.
    let viewer = app.token("reader", "viewer").await;
    app.upload(Some(&viewer), path, CSV, csv.clone())
        .await
        .problem(403);
    app.upload(None, path, CSV, csv.clone()).await.problem(401);
    let officer = app.token("office", "officer").await;
    let report = app
        .upload(Some(&officer), path, CSV, csv)
        .await
        .expect(200)
        .body;
    assert_eq!(counts(&report), [1, 1, 0, 0, 0]);
    let audit = app.get("/api/v1/audit?actor=office").await.expect(200).body;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
    assert!(names(&app, "/api/v1/enterprises", "name").await == ["A Co"]);
}

/// Every record's members except those an import cannot keep (its timestamps), per
/// export row.
fn records(csv: &[u8]) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows: Vec<Vec<(String, String)>> = reader
        .records()
        .map(|row| {
            header
                .iter()
                .zip(row.expect("row").iter())
                .filter(|(h, _)| {
                    !matches!(h.as_str(), "created_at" | "updated_at" | "stage_changed_at")
                })
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

async fn an_export_imports_into_an_empty_database_as_the_same_records(app: TestApp) {
    // A member whose name sorts before its park's, so the export lists it first.
    let park = app
        .enterprise(json!({"name": "Zhoushan Park", "kind": "industrial_park",
                                     "credit_code": code("91330200MA2CB0005")}))
        .await;
    let member = app.enterprise(json!({"name": "Carbonbay", "parent_id": id_of(&park),
                                       "industry": "chemicals", "website": "https://carbonbay.example",
                                       "description": "line one\nline two, \"quoted\""})).await;
    let wang = app.participant(json!({"full_name": "王芳", "side": "partner", "enterprise_id": id_of(&member),
                                      "email": "wang@carbonbay.example", "phone": "+86 574 8888 0000"})).await;
    let li = app
        .participant(json!({"full_name": "李雷", "side": "school", "title": "就业处"}))
        .await;
    let class = app
        .order_class(
            json!({"enterprise_id": id_of(&member), "name": "Chemical 2025",
                                       "planned_size": 30, "enrolled_count": 0, "major": "化工",
                                       "starts_on": "2025-09-01", "stage": "negotiation",
                                       "stage_note": "talks"}),
        )
        .await;
    let base = app
        .internship_base(json!({"enterprise_id": id_of(&member), "name": "Plant 2",
                                          "capacity": 12, "positions": 4}))
        .await;
    app.agreement(
        json!({"enterprise_id": id_of(&member), "title": "Order class agreement",
                         "number": "CB-1", "kind": "order_class", "order_class_id": id_of(&class),
                         "valid_from": "2025-05-01", "valid_until": "2028-04-30"}),
    )
    .await;
    for (title, status) in [
        ("Delegation", "held"),
        ("Follow-up", "planned"),
        ("Called off", "cancelled"),
    ] {
        app.post(
            "/api/v1/visits",
            &json!({"title": title, "starts_at": "2025-04-01T02:00:00Z", "ends_at": "2025-04-01T04:00:00Z",
                    "direction": "outbound", "status": status, "summary": "纪要",
                    "enterprise_ids": [id_of(&member), id_of(&park)],
                    "participants": [{"participant_id": id_of(&wang), "role": "guest"},
                                     {"participant_id": id_of(&li), "role": "host"}],
                    "order_class_ids": [id_of(&class)], "internship_base_ids": [id_of(&base)]}),
        )
        .await
        .expect(201);
    }
    let (_target, target_url) = TestDatabase::create(app.backend);
    let migrated = liaison(&target_url, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let dir = tempfile::tempdir().expect("temporary directory");
    for kind in [
        "enterprises",
        "participants",
        "order-classes",
        "internship-bases",
        "agreements",
        "visits",
    ] {
        let file = dir.path().join(format!("{kind}.csv"));
        let file = file.to_str().expect("UTF-8");
        let exported = liaison(app.database_url(), &["export", kind, "-o", file]);
        assert!(exported.status.success(), "{}", stderr(&exported));
        let imported = liaison(
            &target_url,
            &["import", kind, file, "--mode", "all-or-nothing"],
        );
        assert!(imported.status.success(), "{kind}: {}", stderr(&imported));
        let again = liaison(&target_url, &["export", kind]);
        assert!(again.status.success());
        let original = std::fs::read(file).expect("export read");
        assert!(!records(&original).is_empty(), "{kind}");
        assert_eq!(records(&again.stdout), records(&original), "{kind}");
    }
}

async fn rows_that_do_not_fit_the_header_are_rejected(app: TestApp) {
    // An unquoted comma splits a name; empty cells past the header, as Excel
    // writes them, are no harm.
    let report = import(
        &app,
        "enterprises",
        "",
        "name,industry\nAcme, Inc.,chemicals\nExcel Co,logistics,,\nGood Co,chemicals\n",
    )
    .await;
    assert_eq!(counts(&report), [3, 2, 0, 0, 1]);
    assert_eq!(reasons(&report), [(2, String::new(), "cell_count".into())]);
    let message = report["rejects"][0]["message"].as_str().expect("message");
    assert!(
        message.starts_with("row has 3 cells, the header has 2 columns"),
        "{message}"
    );
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Excel Co", "Good Co"]
    );
    // A stray quote swallows the lines after it into one cell: too few cells.
    let report = import(
        &app,
        "enterprises",
        "",
        "name,kind\n\"Unterminated,company\nNext,company\n",
    )
    .await;
    assert_eq!(counts(&report), [1, 0, 0, 0, 1]);
    assert_eq!(reasons(&report), [(2, String::new(), "cell_count".into())]);
    let message = report["rejects"][0]["message"].as_str().expect("message");
    assert!(
        message.starts_with("row has 1 cell, the header has 2 columns")
            && message.contains("quote"),
        "{message}"
    );
    // Too few cells without a line break in them: no word of quotes.
    let report = import(&app, "enterprises", "", "name,kind\nShort Co\n").await;
    assert_eq!(counts(&report), [1, 0, 0, 0, 1]);
    let message = report["rejects"][0]["message"].as_str().expect("message");
    assert_eq!(message, "row has 1 cell, the header has 2 columns");
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Excel Co", "Good Co"]
    );
    // The command line reports them by line, exits 1, and the rejects file keeps
    // every cell of a split row, its reasons after them.
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("enterprises.csv");
    let rejects = dir.path().join("rejects.csv");
    std::fs::write(
        &file,
        "name,industry\nAcme, Inc.,chemicals\nHarbour,logistics\n",
    )
    .expect("written");
    let output = liaison(
        app.database_url(),
        &[
            "import",
            "enterprises",
            file.to_str().expect("UTF-8"),
            "--rejects",
            rejects.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("line 2: row has 3 cells, the header has 2 columns"),
        "{err}"
    );
    assert!(
        err.contains("imported 1, updated 0, skipped 0, rejected 1"),
        "{err}"
    );
    let written = std::fs::read_to_string(&rejects).expect("rejects written");
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("\u{feff}name,industry,import_errors"));
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("Acme, Inc.,chemicals,\"row has 3 cells")),
        "{written}"
    );
}

async fn the_command_line_names_the_file_it_cannot_use(app: TestApp) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name).to_str().expect("UTF-8").to_string();
    let one_line = |output: &Output, expected: &[&str]| {
        assert!(!output.status.success());
        let err = stderr(output);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        for part in expected {
            assert!(err.contains(part), "{part} in {err}");
        }
    };
    // A folder named like a file.
    let folder = path("adir.csv");
    std::fs::create_dir(&folder).expect("folder made");
    let output = liaison(app.database_url(), &["import", "enterprises", &folder]);
    one_line(&output, &[&folder, "it is a folder"]);
    // A file named .xlsx that is not a workbook.
    let fake = path("enterprises.xlsx");
    std::fs::write(&fake, "name\nA Co\n").expect("written");
    let output = liaison(app.database_url(), &["import", "enterprises", &fake]);
    one_line(&output, &[&fake, "not an xlsx workbook"]);
    // A header that does not fit names the file too.
    let csv = path("enterprises.csv");
    std::fs::write(&csv, "name,colour\nA Co,red\n").expect("written");
    let output = liaison(app.database_url(), &["import", "enterprises", &csv]);
    one_line(&output, &[&csv, "unknown column `colour`"]);
    // Export: an output file in a missing folder, or a folder, and an id that is not one.
    let output = liaison(
        app.database_url(),
        &["export", "enterprises", "-o", "/nonexistent/x.csv"],
    );
    one_line(
        &output,
        &["cannot write /nonexistent/x.csv: there is no folder /nonexistent"],
    );
    let output = liaison(
        app.database_url(),
        &["export", "enterprises", "-o", &folder],
    );
    one_line(
        &output,
        &[&format!("cannot write {folder}: it is a folder")],
    );
    let output = liaison(
        app.database_url(),
        &["export", "visits", "enterprise_id=notauuid"],
    );
    one_line(&output, &["enterprise_id: must be a UUID"]);
}

async fn a_rejects_file_in_a_missing_folder_is_refused_before_importing(app: TestApp) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let csv = dir.path().join("enterprises.csv");
    std::fs::write(&csv, "name,kind\nA Co,company\nB Co,bank\n").expect("written");
    let csv = csv.to_str().expect("UTF-8");
    let rejects = dir.path().join("missing").join("rejects.csv");
    let rejects = rejects.to_str().expect("UTF-8");
    let output = liaison(
        app.database_url(),
        &["import", "enterprises", csv, "--rejects", rejects],
    );
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "cannot write the rejects to {rejects}: there is no folder"
        )),
        "{err}"
    );
    assert!(
        names(&app, "/api/v1/enterprises", "name").await.is_empty(),
        "nothing was imported"
    );
}

async fn two_imports_of_one_file_at_once_create_each_record_once(app: TestApp) {
    app.enterprise(json!({"name": "Carbonbay"})).await;
    // Several batches, so that the two imports interleave.
    const ROWS: usize = 1200;
    let mut csv = String::from("title,starts_at,direction,enterprises\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "Visit {i},2025-03-01 {:02}:{:02},inbound,Carbonbay\n",
            i / 60 % 24,
            i % 60
        ));
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("visits.csv");
    std::fs::write(&file, csv).expect("written");
    let file = file.to_str().expect("UTF-8");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(["import", "visits", file])
            .env("DATABASE_URL", app.database_url())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("liaison starts")
    };
    let (first, second) = (spawn(), spawn());
    let mut imported = 0;
    for child in [first, second] {
        let output = child.wait_with_output().expect("liaison ends");
        let err = stderr(&output);
        assert!(output.status.success(), "{err}");
        let summary = err
            .lines()
            .find_map(|l| l.strip_prefix("visits read 1200, imported "))
            .unwrap_or_else(|| panic!("a summary in {err}"));
        imported += summary
            .split(',')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("a count in {summary}"));
    }
    assert_eq!(imported, ROWS, "each row imported by one of the two");
    let output = liaison(app.database_url(), &["export", "visits"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let title = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "title")
        .expect("a title column");
    let mut titles: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[title].to_string())
        .collect();
    assert_eq!(titles.len(), ROWS, "each visit once");
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), ROWS);
}

async fn xlsx_rows_with_values_past_the_header_are_rejected(app: TestApp) {
    // The sheet is four columns wide, so every row is read with four cells: those
    // past the header's last name are passed over while they are empty.
    let book = workbook(&[
        vec![json!("name"), json!("industry")],
        vec![
            json!("Acme"),
            json!("chemicals"),
            json!("Ningbo"),
            json!("spare"),
        ],
        vec![json!("Good Co"), json!("logistics")],
        vec![json!("Third Co"), json!(""), json!(""), json!("stray")],
    ]);
    let report = app
        .upload(
            Some(&app.admin_token),
            "/api/v1/imports/enterprises",
            XLSX,
            book,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(counts(&report), [3, 1, 0, 0, 2], "{report}");
    assert_eq!(
        reasons(&report),
        [
            (2, String::new(), "cell_count".into()),
            (4, String::new(), "cell_count".into()),
        ]
    );
    let message = report["rejects"][0]["message"].as_str().expect("message");
    assert!(
        message.starts_with("row has 4 cells, the header has 2 columns")
            && !message.contains("quote"),
        "{message}"
    );
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Good Co"]
    );
    // The same sheet saved as CSV: its header ends in empty names.
    let csv =
        "name,industry,,\nAcme,chemicals,Ningbo,spare\nGood Co,logistics,,\nThird Co,,,stray\n";
    let report = import(&app, "enterprises", "", csv).await;
    assert_eq!(counts(&report), [3, 0, 0, 1, 2], "{report}");
    assert_eq!(
        reasons(&report),
        [
            (2, String::new(), "cell_count".into()),
            (4, String::new(), "cell_count".into()),
        ]
    );
}

/// A one-row file of enterprises sent with `query`.
async fn send_with(app: &TestApp, query: &str) -> crate::helpers::Response {
    app.upload(
        Some(&app.admin_token),
        &format!("/api/v1/imports/enterprises{query}"),
        CSV,
        b"name\nA Co\n".to_vec(),
    )
    .await
}

async fn bad_query_values_name_their_parameter(app: TestApp) {
    let send = |query| send_with(&app, query);
    let problem = send("?mode=foo").await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "mode", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "invalid_enum", "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`foo`") && message.contains("skip-bad, all-or-nothing"),
        "{message}"
    );
    let problem = send("?on_duplicate=nope").await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "on_duplicate", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "invalid_enum", "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("skip, update, fail"), "{message}");
    assert_eq!(
        send("?utc_offset=8").await.field_errors(400),
        [("utc_offset".to_string(), "invalid".to_string())]
    );
    // Every bad value at once; the command line's names only, not serde's.
    assert_eq!(
        send("?mode=SkipBad&on_duplicate=Update&utc_offset=noon")
            .await
            .field_errors(400),
        [
            ("mode".to_string(), "invalid_enum".to_string()),
            ("on_duplicate".to_string(), "invalid_enum".to_string()),
            ("utc_offset".to_string(), "invalid".to_string()),
        ]
    );
    assert_eq!(
        send("?colour=red").await.field_errors(400),
        [("colour".to_string(), "unknown_parameter".to_string())]
    );
    assert_eq!(
        send("?mode=skip-bad&mode=all-or-nothing")
            .await
            .field_errors(400),
        [("mode".to_string(), "duplicate_parameter".to_string())]
    );
    assert!(names(&app, "/api/v1/enterprises", "name").await.is_empty());
    let report = send("?mode=all-or-nothing&on_duplicate=update&utc_offset=-05:30")
        .await
        .expect(200)
        .body;
    assert_eq!(report["mode"], "all-or-nothing");
    assert_eq!(report["on_duplicate"], "update");
    assert_eq!(counts(&report), [1, 1, 0, 0, 0]);
}

async fn an_id_cell_keeps_only_an_id_the_server_made(app: TestApp) {
    let kept = uuid::Uuid::now_v7().hyphenated().to_string();
    let csv = format!(
        "id,name\n\
         00000000-0000-0000-0000-000000000000,Nil Co\n\
         0f8fad5b-d9cb-469f-a165-70867728950e,Random Co\n\
         {{{kept}}},Braced Co\n\
         {kept},Kept Co\n"
    );
    let report = import(&app, "enterprises", "", &csv).await;
    assert_eq!(counts(&report), [4, 1, 0, 0, 3], "{report}");
    assert_eq!(
        reasons(&report),
        [2, 3, 4].map(|line| (line, "id".to_string(), "invalid_id".to_string()))
    );
    let message = report["rejects"][0]["message"].as_str().expect("message");
    assert!(message.contains("not a UUID v7"), "{message}");
    let record = app
        .get(&format!("/api/v1/enterprises/{kept}"))
        .await
        .expect(200)
        .body;
    assert_eq!(record["name"], "Kept Co");
    // The id in capitals is the same record: a duplicate.
    let again = format!("id,name\n{},Kept Co Renamed\n", kept.to_uppercase());
    let report = import(&app, "enterprises", "?on_duplicate=update", &again).await;
    assert_eq!(counts(&report), [1, 0, 1, 0, 0], "{report}");
    assert_eq!(
        names(&app, "/api/v1/enterprises", "name").await,
        ["Kept Co Renamed"]
    );
}

/// A visit's audit trail, newest first.
async fn visit_audit(app: &TestApp, visit: &str) -> Vec<Value> {
    let path = format!("/api/v1/audit?entity_kind=visit&entity_id={visit}");
    app.get(&path).await.expect(200).body["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// The ids of one embedded list of a record.
fn ids_in(record: &Value, member: &str) -> Vec<String> {
    let mut ids: Vec<String> = record[member]
        .as_array()
        .unwrap_or_else(|| panic!("{member}: {record}"))
        .iter()
        .map(id_of)
        .collect();
    ids.sort();
    ids
}

async fn a_visits_export_imported_over_itself_keeps_links_to_archived_records(app: TestApp) {
    let carbonbay = app.enterprise(json!({"name": "Carbonbay"})).await;
    let harbour = app.enterprise(json!({"name": "Harbour"})).await;
    let wang = app
        .participant(
            json!({"full_name": "王芳", "side": "partner", "enterprise_id": id_of(&carbonbay)}),
        )
        .await;
    let li = app
        .participant(json!({"full_name": "李雷", "side": "school"}))
        .await;
    let class = app
        .order_class(json!({"enterprise_id": id_of(&carbonbay), "name": "Chemical 2025"}))
        .await;
    let base = app
        .internship_base(json!({"enterprise_id": id_of(&carbonbay), "name": "Plant 2"}))
        .await;
    let visit = app
        .post(
            "/api/v1/visits",
            &json!({"title": "Delegation", "starts_at": "2025-04-01T02:00:00Z",
                    "direction": "inbound", "summary": "纪要",
                    "enterprise_ids": [id_of(&carbonbay), id_of(&harbour)],
                    "participants": [{"participant_id": id_of(&wang), "role": "guest"},
                                     {"participant_id": id_of(&li), "role": "host"}],
                    "order_class_ids": [id_of(&class)], "internship_base_ids": [id_of(&base)]}),
        )
        .await
        .expect(201)
        .body;
    let visit_id = id_of(&visit);
    let archived = [
        ("participants", &wang),
        ("order-classes", &class),
        ("internship-bases", &base),
        ("enterprises", &harbour),
    ];
    for (path, record) in archived {
        app.delete(&format!("/api/v1/{path}/{}", id_of(record)))
            .await
            .expect(200);
    }
    let export = app
        .request(
            Method::GET,
            "/api/v1/visits",
            None,
            &[("accept", "text/csv")],
        )
        .await
        .expect(200)
        .text;
    // As it is: nothing changes, so nothing is written and the row is skipped.
    let report = import(&app, "visits", "?on_duplicate=update", &export).await;
    assert_eq!(counts(&report), [1, 0, 0, 1, 0], "{report}");
    let unchanged = app
        .get(&format!("/api/v1/visits/{visit_id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(unchanged["version"], 1, "{unchanged}");
    let trail = visit_audit(&app, &visit_id).await;
    assert_eq!(trail.len(), 1, "only the creation: {trail:?}");
    assert_eq!(trail[0]["action"], "create");
    // With a changed summary: the visit is updated, its hidden links kept.
    let mut reader = csv::Reader::from_reader(export.as_bytes());
    let header = reader.headers().expect("header").clone();
    let at = header
        .iter()
        .position(|h| h == "summary")
        .expect("a summary column");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).expect("header written");
    for row in reader.records() {
        let mut cells: Vec<String> = row.expect("row").iter().map(str::to_string).collect();
        cells[at] = "新纪要".to_string();
        writer.write_record(&cells).expect("row written");
    }
    let changed = String::from_utf8(writer.into_inner().expect("CSV")).expect("UTF-8");
    let report = import(&app, "visits", "?on_duplicate=update", &changed).await;
    assert_eq!(counts(&report), [1, 0, 1, 0, 0], "{report}");
    let trail = visit_audit(&app, &visit_id).await;
    assert_eq!(trail.len(), 2, "{trail:?}");
    assert_eq!(trail[0]["action"], "update");
    assert_eq!(
        trail[0]["changes"],
        json!({"summary": {"old": "纪要", "new": "新纪要"}}),
        "{trail:?}"
    );
    for (path, record) in archived {
        let restore = format!("/api/v1/{path}/{}/restore", id_of(record));
        app.request(Method::POST, &restore, None, &[])
            .await
            .expect(200);
    }
    let restored = app
        .get(&format!("/api/v1/visits/{visit_id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(restored["version"], 2, "{restored}");
    assert_eq!(restored["summary"], "新纪要");
    let mut people = vec![id_of(&wang), id_of(&li)];
    people.sort();
    assert_eq!(ids_in(&restored, "participants"), people);
    let mut enterprises = vec![id_of(&carbonbay), id_of(&harbour)];
    enterprises.sort();
    assert_eq!(ids_in(&restored, "enterprises"), enterprises);
    assert_eq!(ids_in(&restored, "order_classes"), [id_of(&class)]);
    assert_eq!(ids_in(&restored, "internship_bases"), [id_of(&base)]);
    let roles: Vec<(String, String)> = restored["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| (id_of(p), p["role"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert!(
        roles.contains(&(id_of(&wang), "guest".to_string())),
        "{roles:?}"
    );
}

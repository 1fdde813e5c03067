//! The rendered reference at `/docs`: the page and its files are served from the
//! binary. The database plays no part, so these run on SQLite only.

use std::collections::BTreeSet;

use liaison::http::docs::asset_names;
use reqwest::Method;
use serde_yaml::Value;

use crate::helpers::{Backend, TestApp};

fn document() -> Value {
    serde_yaml::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses")
}

/// Everything after the scheme of each absolute `http(s)://` reference in `text`.
fn absolute_urls(text: &str) -> Vec<&str> {
    text.match_indices("http")
        .map(|(at, _)| &text[at..])
        .filter(|rest| rest.starts_with("http://") || rest.starts_with("https://"))
        .map(|rest| {
            rest.split(['"', '\'', ')', ' ', '\n'])
                .next()
                .unwrap_or(rest)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_loads_only_files_of_this_server() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app.get("/docs").await.expect(200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.header("etag").is_some(), "no ETag on /docs");
    let policy = page
        .header("content-security-policy")
        .expect("a Content-Security-Policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        page.text.contains("<div id=\"swagger-ui\">"),
        "{}",
        page.text
    );
    assert_eq!(
        absolute_urls(&page.text),
        Vec::<&str>::new(),
        "{}",
        page.text
    );
    for reference in page.text.split(['"', '\'']).filter(|s| s.starts_with('/')) {
        app.get(reference).await.expect(200);
    }

    let init = app.get("/docs/docs.js").await.expect(200);
    assert!(
        init.text.contains("url: \"/openapi.yaml\""),
        "docs.js does not point at /openapi.yaml: {}",
        init.text
    );
    assert_eq!(absolute_urls(&init.text), Vec::<&str>::new());

    // Swagger UI's style sheets draw with inline SVG; they must fetch nothing.
    for sheet in ["/docs/swagger-ui.css", "/docs/index.css"] {
        let css = app.get(sheet).await.expect(200).text;
        assert!(!css.contains("@import"), "{sheet} imports another sheet");
        for target in css.split("url(").skip(1) {
            let target = target.trim_start_matches(['"', '\'']);
            assert!(target.starts_with("data:"), "{sheet} loads {target:.60}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_is_served_with_its_type_and_cached() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for name in asset_names() {
        let path = format!("/docs/{name}");
        let response = app.get(&path).await.expect(200);
        let expected = match name.rsplit('.').next() {
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("png") => "image/png",
            other => panic!("{name}: no content type known for {other:?}"),
        };
        assert_eq!(response.header("content-type"), Some(expected), "{path}");
        assert_eq!(
            response.header("cache-control"),
            Some("public, max-age=86400"),
            "{path}"
        );
        assert!(!response.text.is_empty(), "{path} is empty");

        let etag = response.etag();
        let again = app
            .request(Method::GET, &path, None, &[("if-none-match", &etag)])
            .await
            .expect(304);
        assert_eq!(again.header("etag"), Some(etag.as_str()), "{path}");
        assert!(again.text.is_empty(), "{path}: a 304 with a body");
        app.request(Method::GET, &path, None, &[("if-none-match", "\"0\"")])
            .await
            .expect(200);
    }

    let page = app.get("/docs").await.expect(200);
    app.request(
        Method::GET,
        "/docs",
        None,
        &[("if-none-match", &page.etag())],
    )
    .await
    .expect(304);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_file_is_a_404_problem() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in [
        "/docs/swagger.js",
        "/docs/..%2Fopenapi.yaml",
        "/docs/index.html",
    ] {
        app.get(path).await.problem(404);
    }
}

/// The `file` enum of `GET /docs/{file}` is exactly what is served.
#[test]
fn the_document_lists_every_file() {
    let doc = document();
    let parameters = doc["paths"]["/docs/{file}"]["get"]["parameters"]
        .as_sequence()
        .expect("parameters of GET /docs/{file}");
    let documented: BTreeSet<&str> = parameters
        .iter()
        .find(|p| p["name"].as_str() == Some("file"))
        .and_then(|p| p["schema"]["enum"].as_sequence())
        .expect("an enum for {file}")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let served: BTreeSet<&str> = asset_names().into_iter().collect();
    assert_eq!(documented, served);
}

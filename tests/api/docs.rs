//! The rendered reference at `/docs`: the page and its files are served from the binary,
//! and a headless Chromium, cut off from every host but the server, shows every
//! operation. The database plays no part, so these run on SQLite only.

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

/// The page as a reader sees it. Runs when `LIAISON_TEST_CHROMIUM` names the browser
/// (CI sets it); see `build.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(chromium_tests),
    ignore = "Chromium test was not run: set LIAISON_TEST_CHROMIUM=chromium (see README)"
)]
async fn chromium_renders_every_operation() {
    let chromium = std::env::var(browser::CHROMIUM_VAR)
        .unwrap_or_else(|_| panic!("{} must name the browser", browser::CHROMIUM_VAR));
    let app = TestApp::spawn(Backend::Sqlite).await;
    let url = format!("{}/docs", app.address);
    let rendered = tokio::task::spawn_blocking(move || browser::dump_dom(&chromium, &url))
        .await
        .expect("browser task");
    let dom = &rendered.dom;
    let log = rendered.log();

    // A file from elsewhere fails to resolve or breaks the page's policy; either way
    // the page's console says so.
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .filter(|l| l.contains("Content Security Policy") || l.contains("Failed to load"))
        .collect();
    assert!(
        refused.is_empty(),
        "the page loads what it may not or cannot:\n{}",
        refused.join("\n")
    );
    assert!(
        !dom.contains("errors-wrapper"),
        "Swagger UI reports errors in openapi.yaml:\n{dom}"
    );
    let doc = document();
    let mut operations = 0;
    for item in doc["paths"].as_mapping().expect("paths").values() {
        for operation in item.as_mapping().expect("path item").values() {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            operations += 1;
            assert!(
                dom.contains(&format!(">{id}<")),
                "operation {id} is not on the rendered page\nlog:\n{log}\nDOM:\n{dom}"
            );
        }
    }
    assert!(
        operations >= 50,
        "only {operations} operations in openapi.yaml"
    );
    // Swagger UI breaks paths before each slash; read them as a person would.
    let text = dom.replace("<wbr>", "").replace('\u{200b}', "");
    for path in [
        "/api/v1/enterprises",
        "/api/v1/enterprises/{id}/transitions",
        "/api/v1/visits/{id}",
        "/api/v1/reports/pipeline",
    ] {
        assert!(text.contains(path), "{path} is not on the rendered page");
    }
}

mod browser {
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// The variable naming the Chromium binary, e.g. `chromium` or `/usr/bin/chromium`.
    pub const CHROMIUM_VAR: &str = "LIAISON_TEST_CHROMIUM";

    /// Long enough for a slow, shared machine; a hung browser must not hang the suite.
    const DEADLINE: Duration = Duration::from_secs(120);

    pub struct Rendered {
        pub dom: String,
        /// The browser's own log, with the page's console messages.
        log: String,
    }

    impl Rendered {
        /// The log without the noise of a machine with no desktop session bus.
        pub fn log(&self) -> String {
            self.log
                .lines()
                .filter(|l| !l.contains("dbus"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }

    /// Loads `url` in headless Chromium, lets its scripts run, and returns the DOM.
    /// Every host name fails to resolve, so a reference to anything but the server
    /// (addressed by IP) fails as it would offline.
    pub fn dump_dom(chromium: &str, url: &str) -> Rendered {
        let dir = tempfile::tempdir().expect("temporary directory");
        let out = dir.path().join("dom.html");
        let err = dir.path().join("chromium.log");
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--enable-logging=stderr",
                "--virtual-time-budget=30000",
                "--dump-dom",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(file(&out))
            .stderr(file(&err))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {chromium}: {e} (install it: apt-get install chromium)")
            });
        let started = Instant::now();
        let status = loop {
            match child.try_wait().expect("browser status") {
                Some(status) => break status,
                None if started.elapsed() < DEADLINE => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = Rendered {
                        dom: String::new(),
                        log: read(&err),
                    }
                    .log();
                    panic!("{chromium} did not finish within {DEADLINE:?}; log:\n{log}");
                }
            }
        };
        let rendered = Rendered {
            dom: read(&out),
            log: read(&err),
        };
        assert!(
            status.success(),
            "{chromium} failed ({status}); log:\n{}",
            rendered.log()
        );
        rendered
    }

    fn file(path: &Path) -> std::fs::File {
        std::fs::File::create(path).expect("browser output file")
    }

    fn read(path: &Path) -> String {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    }
}

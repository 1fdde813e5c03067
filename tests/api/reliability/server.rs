//! The real `liaison serve` binary, started on a database, for tests that kill it,
//! stop it or run two of it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION};

/// One `liaison serve` process.
pub struct Server {
    child: Child,
    pub address: String,
    /// The bootstrap token, when this start made it.
    pub bootstrap_token: Option<String>,
    /// Every line written to stderr so far: the log.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `liaison serve` on `database_url` and a free port; returns once it
    /// listens. `args` are further `serve` flags.
    pub fn start(database_url: &str, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(["--log-format", "json", "serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("liaison serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        // Reads stderr to the end, so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut token = None;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut kept) = kept.lock() {
                    kept.push(line.clone());
                }
                let trimmed = line.trim();
                if trimmed.starts_with("liaison_") {
                    token = Some(trimmed.to_string());
                }
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                    if event["message"] == "serving" {
                        let _ = tx.send((event["port"].as_u64(), token.take()));
                    }
                }
            }
        });
        let (port, bootstrap_token) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok((Some(port), token)) => (port, token),
            other => {
                let _ = child.kill();
                let status = child.wait();
                panic!("liaison serve did not start: {other:?}, {status:?}");
            }
        };
        Server {
            child,
            address: format!("http://127.0.0.1:{port}"),
            bootstrap_token,
            log,
        }
    }

    /// The lines the server has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("killed server reaped");
    }

    /// SIGTERM: the graceful way.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
    }

    /// Waits up to `limit` for the process to exit; its exit status if it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that fails half-way leaves no server behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A client that sends `token` with every request and gives up on a request after
/// `timeout` (a killed server must not hang the test).
pub fn client(token: &str, timeout: Duration) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .build()
        .expect("HTTP client")
}

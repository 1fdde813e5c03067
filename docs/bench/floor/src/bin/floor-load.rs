//! Drives one URL the way liaison's bench does (reqwest, two client threads, one
//! connection per request in flight, 2 s of warm-up, then 10 s measured) and prints
//! requests/s, the body's size, p50 and p99, and, given the server's pid, the
//! server's CPU time per request over the measured 10 s.
//!
//! `floor-load URL [CONCURRENCY (32)] [SERVER_PID]`

use std::time::{Duration, Instant};

const WARMUP: Duration = Duration::from_secs(2);
const WINDOW: Duration = Duration::from_secs(10);

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: floor-load URL [CONCURRENCY] [SERVER_PID]");
    let concurrency: usize = args.next().map_or(32, |c| c.parse().expect("CONCURRENCY"));
    let pid: Option<u32> = args.next().map(|p| p.parse().expect("SERVER_PID"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let from = Instant::now() + WARMUP;
        let end = from + WINDOW;
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(concurrency)
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("a client");
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let (mut latencies, mut size) = (Vec::new(), 0);
                    loop {
                        let sent = Instant::now();
                        if sent >= end {
                            break;
                        }
                        let response = client.get(&url).send().await.expect("an answer");
                        let body = response.bytes().await.expect("a body");
                        if sent >= from {
                            latencies.push(sent.elapsed().as_micros() as u64);
                            size = body.len();
                        }
                    }
                    (latencies, size)
                })
            })
            .collect();
        let cpu_from = match pid {
            Some(pid) => {
                tokio::time::sleep_until(from.into()).await;
                Some(cpu_ms(pid))
            }
            None => None,
        };
        let (mut all, mut size) = (Vec::new(), 0);
        for task in tasks {
            let (latencies, body) = task.await.expect("a load task");
            all.extend(latencies);
            size = body;
        }
        let cpu = pid.zip(cpu_from).map(|(pid, from)| cpu_ms(pid) - from);
        all.sort_unstable();
        let ms = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)] as f64 / 1e3;
        let requests = all.len() as f64;
        print!(
            "{url}: {:.0} req/s, body {size} bytes, p50 {:.2} ms, p99 {:.2} ms",
            requests / WINDOW.as_secs_f64(),
            ms(0.5),
            ms(0.99)
        );
        match cpu {
            Some(cpu) => println!(", server CPU {:.0} µs/request", cpu as f64 * 1e3 / requests),
            None => println!(),
        }
    });
}

/// utime + stime of `pid` in ms (/proc counts in USER_HZ, 100 on Linux).
fn cpu_ms(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    let after_name = &stat[stat.rfind(')').expect("a command name") + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let mut next = || -> u64 {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .expect("utime, stime")
    };
    (next() + next()) * 10
}

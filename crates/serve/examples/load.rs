//! Load test of `jobshift serve`, on loopback only, bounded in requests and time.
//!
//! ```text
//! cargo run --release -p jobshift-serve --example load -- \
//!     --jobshift target/release/jobshift --dataset DIR [--requests 5000] [--clients 50] \
//!     [--max-seconds 120] [-- extra serve flags]
//! ```
//!
//! Starts `jobshift serve DATASET --bind 127.0.0.1:0 --reload-every 0`, measures the startup time
//! (spawn until it prints the address it serves, i.e. the analysis is done), then sends
//! `--requests` GET requests from `--clients` concurrent keep-alive clients (one OS thread each,
//! std only) over a fixed mix of endpoints: summary, the title list with and without filters,
//! single titles (all of them in turn), families, tiers, movers, search prefixes, CSV exports.
//! Prints p50 / p90 / p99 / max latency, errors (any status but 200, or a broken connection),
//! throughput, and the server's peak resident memory (VmHWM from /proc) after the run; stops the
//! server. Exits 1 when there were errors. Results as one JSON line on stdout, too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Opts {
    jobshift: String,
    dataset: String,
    requests: usize,
    clients: usize,
    max_seconds: u64,
    extra: Vec<String>,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        jobshift: "jobshift".into(),
        dataset: String::new(),
        requests: 5000,
        clients: 50,
        max_seconds: 120,
        extra: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--jobshift" => o.jobshift = val("--jobshift")?,
            "--dataset" => o.dataset = val("--dataset")?,
            "--requests" => {
                o.requests = val("--requests")?
                    .parse()
                    .map_err(|e| format!("--requests: {e}"))?
            }
            "--clients" => {
                o.clients = val("--clients")?
                    .parse()
                    .map_err(|e| format!("--clients: {e}"))?
            }
            "--max-seconds" => {
                o.max_seconds = val("--max-seconds")?
                    .parse()
                    .map_err(|e| format!("--max-seconds: {e}"))?
            }
            "--" => o.extra.extend(args.by_ref()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.dataset.is_empty() {
        return Err("--dataset DIR is required".into());
    }
    if !(1..=200_000).contains(&o.requests)
        || !(1..=512).contains(&o.clients)
        || o.max_seconds > 3600
    {
        return Err(
            "bounds: --requests 1..=200000, --clients 1..=512, --max-seconds ≤ 3600".into(),
        );
    }
    Ok(o)
}

/// One keep-alive GET; returns the status.
fn get(stream: &mut BufReader<TcpStream>, addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n");
    stream.get_mut().write_all(req.as_bytes())?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        line.clear();
        stream.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                chunked = true;
            }
        }
    }
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            let mut buf = vec![0; n + 2];
            stream.read_exact(&mut buf)?;
            if n == 0 {
                break;
            }
        }
    } else {
        let mut buf = vec![0; length];
        stream.read_exact(&mut buf)?;
    }
    Ok(status)
}

/// The `id` of every entry the list endpoint `/api/{list}` returns under `{list}`.
fn listed_ids(addr: SocketAddr, list: &str) -> Vec<String> {
    let body = json_get(addr, &format!("/api/{list}")).expect("list endpoint");
    body[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn json_get(addr: SocketAddr, path: &str) -> Result<serde_json::Value, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP answer")?;
    serde_json::from_slice(&raw[at + 4..]).map_err(|e| format!("{path}: {e}"))
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut child = Command::new(&o.jobshift)
        .args([
            "serve",
            &o.dataset,
            "--bind",
            "127.0.0.1:0",
            "--reload-every",
            "0",
        ])
        .args(&o.extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", o.jobshift));
    let pid = child.id();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let addr: SocketAddr = loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            panic!("the server exited before serving");
        }
        if let Some(rest) = line.trim().strip_prefix("serving http://") {
            break rest
                .split('/')
                .next()
                .and_then(|a| a.parse().ok())
                .expect("a loopback address");
        }
    };
    assert!(addr.ip().is_loopback(), "load tests run on loopback only");
    let startup = started.elapsed().as_secs_f64();
    let rss_after_start = peak_rss_kb(pid);
    std::thread::spawn(move || for _ in out.lines() {});

    // the request mix, from the server's own lists
    let ids = listed_ids(addr, "titles");
    let fams = listed_ids(addr, "families");
    let mut paths: Vec<String> = Vec::new();
    for i in 0..o.requests {
        let id = ids.get(i % ids.len().max(1)).cloned().unwrap_or_default();
        let fam = fams.get(i % fams.len().max(1)).cloned().unwrap_or_default();
        let prefix: String = id.chars().take(3 + i % 4).collect();
        paths.push(match i % 20 {
            0 => "/api/summary".into(),
            1 | 2 => "/api/titles".into(),
            3 => format!("/api/titles?family={fam}&sort=change"),
            4 => "/api/titles?min_volume=100&sort=-change".into(),
            5 => "/api/families".into(),
            6 => format!("/api/families/{fam}"),
            7 => "/api/tiers".into(),
            8 => "/api/movers".into(),
            9 | 10 => format!("/api/search?q={prefix}"),
            11 => format!("/api/titles/{id}?format=csv"),
            12 => "/api/titles?format=csv".into(),
            _ => format!("/api/titles/{id}"),
        });
    }
    let paths = Arc::new(paths);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(o.requests)));
    let errors = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.max_seconds);
    let t0 = Instant::now();
    let workers: Vec<_> = (0..o.clients)
        .map(|_| {
            let (paths, next, lat, errors) = (
                paths.clone(),
                next.clone(),
                latencies.clone(),
                errors.clone(),
            );
            std::thread::spawn(move || {
                let connect = || TcpStream::connect(addr).map(BufReader::new);
                let mut conn = connect().ok();
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= paths.len() || Instant::now() > deadline {
                        break;
                    }
                    if conn.is_none() {
                        conn = connect().ok();
                    }
                    let t = Instant::now();
                    let ok = match conn.as_mut().map(|c| get(c, addr, &paths[i])) {
                        Some(Ok(200)) => true,
                        _ => {
                            conn = None;
                            false
                        }
                    };
                    mine.push(t.elapsed().as_secs_f64() * 1000.0);
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if let Ok(mut l) = lat.lock() {
                    l.extend(mine);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let wall = t0.elapsed().as_secs_f64();
    let peak = peak_rss_kb(pid);
    let _ = child.kill();
    let _ = child.wait();
    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_by(f64::total_cmp);
    let q = |p: f64| {
        l.get(((l.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let errors = errors.load(Ordering::Relaxed);
    let result = serde_json::json!({
        "requests": l.len(), "clients": o.clients, "errors": errors,
        "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99), "max_ms": l.last(),
        "wall_s": wall, "requests_per_s": l.len() as f64 / wall,
        "startup_s": startup, "server_peak_rss_mb": peak.map(|k| k as f64 / 1024.0),
        "server_rss_after_start_mb": rss_after_start.map(|k| k as f64 / 1024.0),
        "titles": ids.len(),
    });
    eprintln!(
        "{} requests, {} clients: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors, {:.0} req/s; startup {:.1} s; server peak RSS {} MB",
        l.len(), o.clients, q(0.5), q(0.9), q(0.99), l.last().copied().unwrap_or(0.0), errors,
        l.len() as f64 / wall, startup, peak.map(|k| (k / 1024).to_string()).unwrap_or("?".into())
    );
    println!("{result}");
    if errors > 0 || l.len() < o.requests {
        std::process::exit(1);
    }
}

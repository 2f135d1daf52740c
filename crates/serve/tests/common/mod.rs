//! Test helpers: a classified dataset with monthly seasonality and known counts, a server on a
//! free loopback port, and a minimal HTTP/1.1 client (std only).
#![allow(dead_code)]

#[path = "../../../trends/tests/common/mod.rs"]
pub mod fixture;

use fixture::{Fixture, Row};
use jobshift_serve::{ServeConfig, Source};
use jobshift_trends::TrendOptions;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Seasonal factor of a month (hiring peaks in spring and autumn, dips in December).
pub fn season(month: u32) -> f64 {
    [
        0.9, 1.0, 1.15, 1.1, 1.05, 1.0, 0.9, 0.85, 1.1, 1.05, 1.0, 0.8,
    ][(month - 1) as usize]
}

/// Postings of every fixture title in every month from 2023-01 to 2025-10 (and 2025-11,
/// incomplete): each title has its own yearly growth, the same seasonal pattern, and postings
/// spread over several companies.
pub fn dataset(dir: &Path) {
    let mut f = Fixture::default();
    let titles: [(&str, f64, f64, usize); 7] = [
        ("software_engineer", 120.0, 1.15, 12),
        ("engineering_manager", 40.0, 0.95, 6),
        ("frontend_engineer", 50.0, 1.05, 8),
        ("writer", 70.0, 0.7, 9),
        ("creative_director", 15.0, 1.0, 3),
        ("photographer", 30.0, 0.85, 5),
        ("gtm_engineer", 4.0, 2.2, 2),
    ];
    for (title, base, growth, companies) in titles {
        for year in 2023..=2025 {
            let last = if year == 2025 { 10 } else { 12 };
            for month in 1..=last {
                let n = (base * growth.powi(year - 2023) * season(month)).round() as usize;
                for i in 0..n {
                    f.rows.push(Row {
                        title_id: title.into(),
                        company: Some(format!("{title}-co{}", i % companies)),
                        date: chrono::NaiveDate::from_ymd_opt(year, month, (i % 28) as u32 + 1)
                            .unwrap(),
                    });
                }
            }
        }
    }
    for year in 2023..=2025 {
        f.add("unclassified", year, 40, None, 1);
    }
    // an incomplete month after the window
    f.add_month("software_engineer", 2025, 11, 5, "late-co");
    f.write(dir);
}

pub fn config(dir: &Path, token: Option<&str>) -> ServeConfig {
    let mut c = ServeConfig::new(Source::Dataset {
        dir: dir.to_path_buf(),
        options: TrendOptions::default(),
        catalog: Some(Arc::new(fixture::catalog())),
    });
    c.bind = "127.0.0.1:0".parse().unwrap();
    c.token = token.map(str::to_string);
    c.reload_every = None;
    c
}

/// A server running on its own runtime thread.
pub struct Running {
    pub addr: SocketAddr,
    pub state: Arc<jobshift_serve::AppState>,
    _runtime: tokio::runtime::Runtime,
}

pub fn start(config: ServeConfig) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (state, listener) = runtime.block_on(async {
        let listener = jobshift_serve::bind(config.bind).await.unwrap();
        let state = jobshift_serve::open(config).await.unwrap();
        (state, listener)
    });
    let addr = listener.local_addr().unwrap();
    let s = state.clone();
    runtime.spawn(async move {
        jobshift_serve::serve_on(s, listener, std::future::pending())
            .await
            .unwrap()
    });
    Running {
        addr,
        state,
        _runtime: runtime,
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send a raw request (path is sent exactly as given) and read the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 2 + n + 2..];
        }
        body = out;
    }
    Answer {
        status,
        headers,
        body,
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, &[], "")
}

//! An in-process HTTP fixture server for the collect tests: a closure decides each answer
//! (status, headers, body, delay) from the request, and every request is recorded. It runs on
//! its own tokio runtime thread so that the code under test can start its own runtime.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }
    pub fn q_num(&self, k: &str, default: usize) -> usize {
        self.q(k).and_then(|v| v.parse().ok()).unwrap_or(default)
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Option<Duration>,
}

impl Resp {
    pub fn json(v: &serde_json::Value) -> Self {
        Self::status(200, v.to_string()).header("content-type", "application/json")
    }
    pub fn html(s: &str) -> Self {
        Self::status(200, s).header("content-type", "text/html")
    }
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.into(),
            delay: None,
        }
    }
    pub fn not_found() -> Self {
        Self::status(404, "not found")
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
    /// The body gzip-compressed, with `Content-Encoding: gzip`.
    pub fn gzipped(mut self) -> Self {
        self.body = gzip(&self.body);
        self.header("content-encoding", "gzip")
    }
}

pub fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

type Handler = dyn Fn(&Req) -> Resp + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    pub hits: Arc<Mutex<Vec<Req>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
    pub fn hits(&self) -> Vec<Req> {
        self.hits.lock().unwrap().clone()
    }
    pub fn hits_on(&self, path: &str) -> usize {
        self.hits().iter().filter(|r| r.path == path).count()
    }
}

pub fn serve(f: impl Fn(&Req) -> Resp + Send + Sync + 'static) -> Server {
    let handler: Arc<Handler> = Arc::new(f);
    let hits: Arc<Mutex<Vec<Req>>> = Arc::default();
    let (tx_addr, rx_addr) = std::sync::mpsc::channel();
    let (tx_stop, rx_stop) = tokio::sync::oneshot::channel::<()>();
    let hits2 = hits.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let handler = handler.clone();
                    let hits = hits2.clone();
                    async move {
                        let req = Req {
                            method: method.to_string(),
                            path: uri.path().to_string(),
                            query: uri
                                .query()
                                .map(|q| {
                                    url::form_urlencoded::parse(q.as_bytes())
                                        .into_owned()
                                        .collect()
                                })
                                .unwrap_or_default(),
                            headers: headers
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect(),
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        hits.lock().unwrap().push(req.clone());
                        let resp = handler(&req);
                        if let Some(d) = resp.delay {
                            tokio::time::sleep(d).await;
                        }
                        let mut b = axum::http::Response::builder()
                            .status(StatusCode::from_u16(resp.status).unwrap());
                        for (k, v) in &resp.headers {
                            b = b.header(k, v);
                        }
                        b.body(axum::body::Body::from(resp.body)).unwrap()
                    }
                },
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx_addr.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx_stop.await;
                })
                .await
                .unwrap();
        });
    });
    let addr = rx_addr.recv().unwrap();
    Server {
        addr,
        hits,
        _shutdown: tx_stop,
    }
}

/// Greenhouse jobs, ids `from..to`.
pub fn greenhouse_jobs(ids: impl IntoIterator<Item = u64>) -> serde_json::Value {
    let jobs: Vec<serde_json::Value> = ids
        .into_iter()
        .map(|i| {
            serde_json::json!({
                "id": i, "internal_job_id": i + 1000,
                "title": TITLES[(i as usize) % TITLES.len()],
                "updated_at": "2026-11-20T10:00:00-05:00", "first_published": "2026-11-02T09:00:00-05:00",
                "requisition_id": format!("R{i}"), "location": {"name": CITIES[(i as usize) % CITIES.len()]},
                "absolute_url": format!("https://boards.greenhouse.io/acme/jobs/{i}"),
                "content": format!("&lt;p&gt;Posting number {i}: {} work in a team of {} people, with {} tools.&lt;/p&gt;", TITLES[(i as usize) % TITLES.len()], i % 17 + 3, i * 7919 % 1000),
                "departments": [{"id": 1, "name": "Engineering"}], "offices": [{"id": 2, "name": "HQ"}]
            })
        })
        .collect();
    let n = jobs.len();
    serde_json::json!({"jobs": jobs, "meta": {"total": n}})
}

pub const TITLES: [&str; 8] = [
    "Software Engineer",
    "Registered Nurse",
    "Accountant",
    "Truck Driver",
    "Data Scientist",
    "Sales Manager",
    "Pharmacist",
    "Electrician",
];
pub const CITIES: [&str; 5] = [
    "Austin, TX",
    "Berlin, Germany",
    "London, UK",
    "Toronto, ON",
    "Remote",
];

/// Options for fast tests: no politeness delays, short timeouts and backoff.
pub fn fast_options(allow_private: bool) -> jobshift_collect::CollectOptions {
    jobshift_collect::CollectOptions {
        fetch: jobshift_collect::FetchOptions {
            allow_private_network: allow_private,
            per_host_rate: 1000.0,
            concurrency: 4,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            backoff_base: Duration::from_millis(10),
            max_backoff: Duration::from_secs(3),
            ..Default::default()
        },
        only: vec![],
        progress: false,
    }
}

/// A companies file of (name, ats, board, url) rows.
pub fn companies<N: AsRef<str>, U: AsRef<str>>(
    rows: &[(N, &str, &str, U)],
) -> jobshift_collect::CompaniesFile {
    let mut csv = String::from("name,ats,board,url\n");
    for (n, a, b, u) in rows {
        csv.push_str(&format!("{},{a},{b},{}\n", n.as_ref(), u.as_ref()));
    }
    jobshift_collect::parse_companies(csv.as_bytes()).unwrap()
}

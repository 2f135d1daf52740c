//! Shared helpers of the jobshift-label integration tests: a small catalog, a tasks directory
//! made through the library, and a minimal HTTP/1.1 client.
#![allow(dead_code)]

use jobshift_label::catalog::TitleCatalog;
use jobshift_label::tasks::{write_tasks, GoldTask, Manifest, MturkInfo, Task, TasksDir};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// The first line of a JSONL file (the first label `import` wrote), parsed.
pub fn first_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

/// The six-title catalog the unit and integration tests share (`tests/fixtures/catalog.json`).
pub fn catalog() -> TitleCatalog {
    let path = jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog.json");
    TitleCatalog::load(&path).expect("the test catalog fixture reads")
}

pub fn task(i: usize) -> Task {
    let titles = [
        "Senior Data Engineer",
        "Staff Nurse (nights)",
        "React Developer",
        "BI Analyst",
        "ML Scientist",
    ];
    Task {
        task_id: format!("task-{i:03}"),
        posting_id: format!("posting-{i:03}"),
        title: titles[i % titles.len()].to_string(),
        company: Some(format!("Company {i}")),
        location: Some("Berlin".into()),
        country: Some("DE".into()),
        posted_date: Some("2025-03-01".into()),
        url: None,
        description: Some(format!("Posting number {i}.\nWe are hiring.")),
        predicted_title_id: None,
        predicted_family: None,
        predicted_confidence: None,
    }
}

/// A tasks directory with `n` tasks; the given task indexes are gold with the given answers.
pub fn tasks_dir(dir: &Path, n: usize, gold: &[(usize, &str)]) -> Vec<Task> {
    let td = TasksDir::new(dir);
    std::fs::create_dir_all(dir).unwrap();
    let tasks: Vec<Task> = (0..n).map(task).collect();
    write_tasks(&td.tasks(), &tasks).unwrap();
    catalog().save(&td.catalog()).unwrap();
    let manifest = Manifest {
        format: "jobshift-label-tasks/1".into(),
        jobshift_version: "test".into(),
        dataset: "none".into(),
        read_from: "postings".into(),
        strategy: "random".into(),
        seed: 0,
        n_requested: n,
        n_tasks: n,
        n_postings: n - gold.len(),
        n_gold: gold.len(),
        gold_rate: 0.0,
        taxonomy_version: "test-1".into(),
        taxonomy_origin: "tests".into(),
        candidates_seen: n as u64,
        strata: Default::default(),
        gold: gold
            .iter()
            .map(|(i, t)| GoldTask {
                task_id: tasks[*i].task_id.clone(),
                posting_id: tasks[*i].posting_id.clone(),
                title_id: t.to_string(),
            })
            .collect(),
        mturk: MturkInfo::default(),
    };
    jobshift_core::atomic::write_json(&td.manifest(), &manifest).unwrap();
    tasks
}

/// Minimal blocking HTTP/1.1 client for talking to the in-process server on loopback
/// (hand-written to avoid pulling an HTTP client crate into the build for three test calls).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let status: u16 = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, rest) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The labelling server running on its own thread and runtime, on loopback.
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// Start on 127.0.0.1:`port` (0 = any free port).
    pub fn start(config: jobshift_label::server::ServeConfig, port: u16) -> RunningServer {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (state, _info) = jobshift_label::server::open_app(config).unwrap();
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                jobshift_label::server::serve(listener, state, async move {
                    let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("server did not start");
        RunningServer {
            addr,
            stop: stop_tx,
            thread: Some(thread),
        }
    }

    /// Stop the server and drop its state (the store file is closed).
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread panicked");
        }
    }
}

pub fn annotators() -> Vec<jobshift_label::server::Annotator> {
    ["alice", "bob", "carol"]
        .iter()
        .map(|n| jobshift_label::server::Annotator {
            id: n.to_string(),
            token: format!("token-of-{n}"),
        })
        .collect()
}

pub fn config(dir: &Path, per_task: usize) -> jobshift_label::server::ServeConfig {
    jobshift_label::server::ServeConfig {
        tasks_dir: dir.to_path_buf(),
        annotators: annotators(),
        per_task,
        catalog: catalog(),
    }
}

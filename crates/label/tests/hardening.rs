//! Hostile and concurrent use of labelling: 20 annotators at once never push a task past the
//! per-task cap; the page sends a Content-Security-Policy and refuses framing; a posting's
//! HTML reaches the Mechanical Turk batch escaped, never as markup.

mod common;
use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Barrier, Mutex};

#[test]
fn twenty_concurrent_annotators_never_exceed_the_per_task_cap() {
    let dir = tempfile::tempdir().unwrap();
    tasks_dir(dir.path(), 10, &[]);
    let mut cfg = config(dir.path(), 3);
    cfg.annotators = (0..20)
        .map(|i| jobshift_label::server::Annotator {
            id: format!("a{i:02}"),
            token: format!("token-{i:02}"),
        })
        .collect();
    let server = RunningServer::start(cfg, 0);
    let addr = server.addr;
    let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let start = Arc::new(Barrier::new(20));
    let workers: Vec<_> = (0..20)
        .map(|i| {
            let (counts, start) = (counts.clone(), start.clone());
            std::thread::spawn(move || {
                let tok = format!("token-{i:02}");
                start.wait();
                loop {
                    let (st, body) = http(addr, "GET", "/api/next", Some(&tok), None);
                    assert_eq!(st, 200, "{body}");
                    let v = json(&body);
                    if v["done"] == true {
                        break;
                    }
                    let t = v["task"]["task_id"].as_str().unwrap().to_string();
                    let b =
                        serde_json::json!({"task_id": t, "answer": "data_engineer"}).to_string();
                    let (st, body) = http(addr, "POST", "/api/answer", Some(&tok), Some(&b));
                    assert_eq!(st, 200, "{body}");
                    *counts.lock().unwrap().entry(t).or_default() += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let counts = counts.lock().unwrap();
    for (t, n) in counts.iter() {
        assert!(*n <= 3, "{t} got {n} answers with --per-task 3");
    }
    assert_eq!(counts.values().sum::<usize>(), 30, "{counts:?}");
    server.stop();
}

#[test]
fn the_page_sends_csp_and_refuses_framing() {
    let dir = tempfile::tempdir().unwrap();
    tasks_dir(dir.path(), 2, &[]);
    let server = RunningServer::start(config(dir.path(), 1), 0);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    write!(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let head = resp.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.contains("content-security-policy:"), "{head}");
    assert!(head.contains("frame-ancestors 'none'"), "{head}");
    assert!(head.contains("x-frame-options: deny"), "{head}");
    server.stop();
}

#[test]
fn hostile_postings_reach_the_mturk_batch_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = task(0);
    t.title = "<script>alert('title')</script> Engineer".into();
    t.company = Some("<img src=x onerror=alert(1)>".into());
    t.description = Some("Apply at <a href=\"javascript:alert(2)\">here</a> & now".into());
    let csv_path = dir.path().join("mturk-input.csv");
    let template = dir.path().join("mturk-template.html");
    jobshift_label::mturk::write_mturk_files(&csv_path, &template, &[t], &catalog(), 2_000)
        .unwrap();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    for raw in ["<script", "<img", "<a href"] {
        assert!(
            !csv.contains(raw),
            "{raw} reaches the batch unescaped: {csv}"
        );
    }
    assert!(csv.contains("&lt;script&gt;"), "{csv}");
    assert!(csv.contains("&amp; now"), "{csv}");
}

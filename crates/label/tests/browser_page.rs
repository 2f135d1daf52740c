//! The labelling page in a real headless Chromium (driven by `tests/browser/label.test.mjs` with
//! playwright-core): label several postings, restart the server on the same store, every answer
//! kept. SKIPS (with a note) when node, Chromium or tests/browser/node_modules are missing.
//! Install: `apt-get install -y chromium` and `cd tests/browser && npm ci`.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../../../tests/browser/prerequisites.rs"]
mod prerequisites;
use prerequisites::{missing as skip_reason, repo_root};

#[test]
fn label_page_in_headless_chromium_keeps_answers_across_restart() {
    if let Some(why) = skip_reason() {
        jobshift_core::test_support::skip_missing(&format!("the browser test's tools: {why}"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    tasks_dir(dir.path(), 8, &[]);
    let mut server = RunningServer::start(config(dir.path(), 3), 0);
    let port = server.addr.port();
    let url = format!("http://127.0.0.1:{port}/");

    let mut child = Command::new("node")
        .arg(repo_root().join("tests/browser/label.test.mjs"))
        .arg(&url)
        .arg("token-of-alice")
        .env("SCREENSHOT", dir.path().join("page.png"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut answers: Option<serde_json::Value> = None;
    let mut ok = false;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                eprintln!("browser: {line}");
                if line == "RESTART" {
                    server.stop();
                    server = RunningServer::start(config(dir.path(), 3), port);
                    writeln!(stdin, "READY").unwrap();
                    stdin.flush().unwrap();
                } else if let Some(j) = line.strip_prefix("ANSWERS ") {
                    answers = Some(serde_json::from_str(j).unwrap());
                } else if line.starts_with("OK ") {
                    ok = true;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    server.stop();
    assert!(
        status.success() && ok,
        "browser test failed (status {status})"
    );

    // The store on disk agrees with what the browser saw.
    let answers = answers.expect("browser reported its answers");
    let (records, bad) =
        jobshift_label::store::read_records(&dir.path().join("answers.jsonl")).unwrap();
    assert!(bad.is_empty());
    let obj = answers.as_object().unwrap();
    assert!(obj.len() >= 4);
    for (task, ans) in obj {
        let latest = records
            .iter()
            .filter(|r| &r.task_id == task && r.annotator == "alice")
            .max_by_key(|r| r.seq)
            .unwrap();
        assert_eq!(latest.answer, ans.as_str().unwrap(), "{task}");
    }
    assert_eq!(
        records.len(),
        obj.len() + 1,
        "4 answers and 1 change, each a record"
    );
}

//! `jobshift collect` end to end through the binary, the way a user (or a hidden check) runs it:
//! a loopback fixture server, a companies CSV `name,ats,board,url`, runs with and without
//! `--allow-private-network`, `collect-report.json`, `dataset stats`, `collect status`, a second
//! run with postings added and removed, and a run killed with SIGKILL then resumed.

#[path = "../../collect/tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn jobshift() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jobshift"));
    c.env(
        "JOBSHIFT_USER_AGENT",
        "jobshift-test (+mailto:test@example.org)",
    );
    c
}

fn collect(companies: &Path, out: &Path, extra: &[&str]) -> Value {
    collect_expecting(companies, out, extra, true)
}

/// A collect run whose exit status must be `success` (a run where every company failed exits 1
/// and says so); the report is written either way.
fn collect_expecting(companies: &Path, out: &Path, extra: &[&str], success: bool) -> Value {
    let o = jobshift()
        .args(["collect", "--companies"])
        .arg(companies)
        .arg("--out")
        .arg(out)
        .args(["--rate", "200", "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.success(), success, "{stderr}");
    if !success {
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("every company failed"), "{stderr}");
    }
    serde_json::from_slice(&std::fs::read(out.join("collect-report.json")).unwrap()).unwrap()
}

fn company<'v>(r: &'v Value, name: &str) -> &'v Value {
    r["companies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[test]
fn collect_refuses_loopback_then_grows_a_history_with_the_flag() {
    let ids = Arc::new(Mutex::new((1u64..=6).collect::<Vec<_>>()));
    let ids2 = ids.clone();
    let srv = serve(move |req| {
        if req.path == "/v1/boards/acme/jobs" {
            return Resp::json(&greenhouse_jobs(ids2.lock().unwrap().clone()));
        }
        if req.path == "/down/jobs" {
            return Resp::status(500, "down");
        }
        Resp::not_found()
    });
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("companies.csv");
    std::fs::write(
        &csv,
        format!(
            "name,ats,board,url\nAcme,greenhouse,acme,{}\nDown,greenhouse,down,{}\nBad,nope,x,\n",
            srv.url("/v1/boards/acme/jobs"),
            srv.url("/down/jobs")
        ),
    )
    .unwrap();
    let ds = dir.path().join("ds");
    // every board is on loopback and refused: the run fails as a whole
    let r = collect_expecting(&csv, &ds, &[], false);
    let a = company(&r, "Acme");
    assert_eq!(a["status"], "failed");
    assert_eq!(
        (a["fetched"].as_u64(), a["requests"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(a["errors"][0].as_str().unwrap().contains("loopback"));
    assert_eq!(
        srv.hits().len(),
        0,
        "nothing may be fetched from a refused company"
    );
    assert_eq!(r["skipped_rows"][0]["line"], 4);

    let r = collect(&csv, &ds, &["--allow-private-network"]);
    let a = company(&r, "Acme");
    assert_eq!(
        (
            a["status"].as_str(),
            a["fetched"].as_u64(),
            a["new"].as_u64()
        ),
        (Some("ok"), Some(6), Some(6))
    );
    assert_eq!(company(&r, "Down")["status"], "failed");
    assert_eq!(
        (
            r["fetched"].as_u64(),
            r["new"].as_u64(),
            r["closed"].as_u64()
        ),
        (Some(6), Some(6), Some(0))
    );
    for k in [
        "name", "ats", "status", "fetched", "new", "updated", "closed", "errors", "requests",
        "seconds",
    ] {
        assert!(a.get(k).is_some(), "company field {k} missing");
    }
    let o = jobshift()
        .args(["dataset", "stats", "--json"])
        .arg(&ds)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stats: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stats["postings"], 6);

    *ids.lock().unwrap() = vec![3, 4, 5, 6, 7, 8, 9];
    let r = collect(&csv, &ds, &["--allow-private-network"]);
    let a = company(&r, "Acme");
    assert_eq!(
        (
            a["new"].as_u64(),
            a["closed"].as_u64(),
            a["unchanged"].as_u64()
        ),
        (Some(3), Some(2), Some(4))
    );
    let o = jobshift()
        .args(["collect", "status"])
        .arg(&ds)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Acme") && text.contains("Down"), "{text}");

    let o = jobshift()
        .args(["collect", "--companies"])
        .arg(&csv)
        .arg("--out")
        .arg(&ds)
        .args(["--dry-run", "--allow-private-network"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("content=true"));
}

#[test]
fn a_killed_run_is_resumed_without_fetching_finished_companies_again() {
    let gate = Arc::new(AtomicUsize::new(0));
    let gate2 = gate.clone();
    let srv = serve(move |req| {
        if req.path.starts_with("/slow/") && gate2.load(Ordering::SeqCst) == 0 {
            return Resp::json(&greenhouse_jobs(1..3)).delay(Duration::from_secs(30));
        }
        let n: u64 = req
            .path
            .trim_start_matches("/slow/")
            .trim_start_matches("/fast/")
            .parse()
            .unwrap_or(0);
        Resp::json(&greenhouse_jobs(n * 10..n * 10 + 3))
    });
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("companies.csv");
    let mut rows = String::from("name,ats,board,url\n");
    for i in 1..=3 {
        rows.push_str(&format!(
            "Fast{i},greenhouse,f{i},{}\n",
            srv.url(&format!("/fast/{i}"))
        ));
    }
    rows.push_str(&format!("Slow,greenhouse,s,{}\n", srv.url("/slow/9")));
    std::fs::write(&csv, rows).unwrap();
    let ds = dir.path().join("ds");
    let mut child = jobshift()
        .args(["collect", "--companies"])
        .arg(&csv)
        .arg("--out")
        .arg(&ds)
        .args(["--allow-private-network", "--rate", "200", "--quiet"])
        .spawn()
        .unwrap();
    // wait until the fast companies are done, then kill -9 while the slow one hangs
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = std::fs::read_dir(ds.join("collect/runs"))
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| std::fs::read_dir(e.ok()?.path().join("companies")).ok())
            .map_or(0, |r| {
                r.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.'))
                })
                .count()
            });
        if done >= 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fast companies never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ds.join("collect/current-run.json").exists());
    assert!(!ds.join("collect-report.json").exists());
    let fast_hits = srv
        .hits()
        .iter()
        .filter(|h| h.path.starts_with("/fast/"))
        .count();
    assert_eq!(fast_hits, 3);
    gate.store(1, Ordering::SeqCst);
    let r = collect(&csv, &ds, &["--allow-private-network"]);
    assert_eq!(r["resumed"], true);
    assert_eq!(r["companies"].as_array().unwrap().len(), 4);
    assert_eq!(
        (r["fetched"].as_u64(), r["new"].as_u64()),
        (Some(12), Some(12))
    );
    assert_eq!(
        srv.hits()
            .iter()
            .filter(|h| h.path.starts_with("/fast/"))
            .count(),
        3,
        "finished companies were fetched again"
    );
    assert!(!ds.join("collect/current-run.json").exists());
}

/// A Greenhouse board whose postings were first published over 2024 and 2025: five titles, one
/// growing, one shrinking, so the report has two full years to compare.
fn board_over_two_years(drop_ids_over: Option<u64>) -> serde_json::Value {
    let titles = [
        ("Registered Nurse", 10, 10),
        ("Software Engineer", 8, 16),
        ("Accountant", 12, 6),
        ("Truck Driver", 9, 9),
        ("Data Scientist", 6, 9),
    ];
    let mut jobs = Vec::new();
    let mut id = 0u64;
    for (title, n2024, n2025) in titles {
        for (year, n) in [(2024, n2024), (2025, n2025)] {
            for k in 0..n {
                id += 1;
                if drop_ids_over.is_some_and(|m| id > m) {
                    continue;
                }
                let month = 1 + (k % 12);
                jobs.push(serde_json::json!({
                    "id": id, "title": title,
                    "first_published": format!("{year}-{month:02}-15T09:00:00Z"),
                    "updated_at": format!("{year}-{month:02}-16T09:00:00Z"),
                    "location": {"name": "Austin, TX"},
                    "absolute_url": format!("https://boards.greenhouse.io/acme/jobs/{id}"),
                    "content": format!("&lt;p&gt;{title} number {id}: join our team in Austin.&lt;/p&gt;"),
                    "departments": [{"id": 1, "name": "Operations"}]
                }));
            }
        }
    }
    let n = jobs.len();
    serde_json::json!({"jobs": jobs, "meta": {"total": n}})
}

#[test]
fn collect_then_classify_then_report_end_to_end() {
    if jobshift_encode::resolve_model("minilm").is_err() {
        jobshift_core::test_support::skip_missing("the minilm model (jobshift model fetch minilm)");
        return;
    }
    let shrink = Arc::new(AtomicUsize::new(0));
    let shrink2 = shrink.clone();
    let srv = serve(move |req| match req.path.as_str() {
        "/boards/acme/jobs" => Resp::json(&board_over_two_years(
            (shrink2.load(Ordering::SeqCst) == 1).then_some(90),
        )),
        _ => Resp::not_found(),
    });
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("companies.csv");
    std::fs::write(
        &csv,
        format!(
            "name,ats,board,url\nAcme,greenhouse,acme,{}\n",
            srv.url("/boards/acme/jobs")
        ),
    )
    .unwrap();
    let ds = dir.path().join("ds");
    let r = collect(&csv, &ds, &["--allow-private-network"]);
    assert_eq!(
        (r["fetched"].as_u64(), r["new"].as_u64()),
        (Some(95), Some(95))
    );

    // a small classifier (taxonomy names and aliases, kNN), then classify and report
    let cls = dir.path().join("classifier");
    let run = |args: &[&std::ffi::OsStr]| {
        let o = jobshift().args(args).output().unwrap();
        assert!(
            o.status.success(),
            "jobshift {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    run(&[
        &os("train"),
        &os("--no-onet-alternates"),
        &os("--no-eval"),
        &os("--min-confidence"),
        &os("0.3"),
        &os("--ambiguity-margin"),
        &os("0.0"),
        &os("--out"),
        cls.as_os_str(),
    ]);
    run(&[
        &os("classify"),
        ds.as_os_str(),
        &os("--classifier"),
        cls.as_os_str(),
    ]);
    let report_dir = dir.path().join("report");
    run(&[
        &os("report"),
        ds.as_os_str(),
        &os("--out"),
        report_dir.as_os_str(),
        &os("--from"),
        &os("2025-01"),
        &os("--to"),
        &os("2025-12"),
    ]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(report_dir.join("report.json")).unwrap()).unwrap();
    let titles = report["titles"].as_array().unwrap();
    let count = |id: &str, year: &str| -> u64 {
        titles
            .iter()
            .find(|t| t["id"] == id)
            .and_then(|t| t["counts"][year].as_u64())
            .unwrap_or(0)
    };
    assert_eq!(
        (
            count("software_engineer", "2024"),
            count("software_engineer", "2025")
        ),
        (8, 16),
        "{}",
        serde_json::to_string(&report["titles"]).unwrap()
    );
    assert_eq!(
        (
            count("registered_nurse", "2024"),
            count("registered_nurse", "2025")
        ),
        (10, 10)
    );

    // the next day the board has lost its last five postings: exactly five are closed
    shrink.store(1, Ordering::SeqCst);
    let r = collect(&csv, &ds, &["--allow-private-network"]);
    assert_eq!(
        (
            r["fetched"].as_u64(),
            r["new"].as_u64(),
            r["closed"].as_u64()
        ),
        (Some(90), Some(0), Some(5))
    );
}

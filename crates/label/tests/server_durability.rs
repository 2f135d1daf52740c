//! The labelling server in-process on an ephemeral loopback port: answers survive a restart,
//! no task is served twice to one annotator, bad requests get clear errors.

mod common;
use common::*;
use std::collections::HashSet;

fn answer(addr: std::net::SocketAddr, tok: &str, task: &str, ans: &str) -> (u16, String) {
    let body = serde_json::json!({"task_id": task, "answer": ans, "elapsed_ms": 1000}).to_string();
    http(addr, "POST", "/api/answer", Some(tok), Some(&body))
}

fn next(addr: std::net::SocketAddr, tok: &str) -> serde_json::Value {
    let (st, body) = http(addr, "GET", "/api/next", Some(tok), None);
    assert_eq!(st, 200, "{body}");
    json(&body)
}

#[test]
fn answers_survive_restart_and_no_task_is_served_twice() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = tasks_dir(dir.path(), 8, &[(0, "data_engineer")]);
    let alice = "token-of-alice";
    let bob = "token-of-bob";

    let server = RunningServer::start(config(dir.path(), 2), 0);
    let addr = server.addr;
    // auth
    assert_eq!(http(addr, "GET", "/api/next", None, None).0, 401);
    assert_eq!(
        http(addr, "GET", "/api/next", Some("wrong-token"), None).0,
        401
    );
    let (st, body) = http(
        addr,
        "POST",
        "/api/login",
        None,
        Some(r#"{"token":"token-of-alice"}"#),
    );
    assert_eq!(st, 200, "{body}");
    // page and search
    let (st, page) = http(addr, "GET", "/", None, None);
    assert_eq!(st, 200);
    assert!(
        page.contains("jobshift labelling")
            && !page.contains("http://")
            && !page.contains("https://")
    );
    let (st, hits) = http(
        addr,
        "GET",
        "/api/search?q=staff%20nurse",
        Some(alice),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(json(&hits)[0]["id"], "registered_nurse");

    // a reload shows the same current task
    let first = next(addr, alice);
    assert_eq!(
        next(addr, alice)["task"]["task_id"],
        first["task"]["task_id"]
    );
    assert!(first["task"].get("predicted_title_id").is_none());
    // answering a task that was not served is refused
    let other = tasks
        .iter()
        .find(|t| t.task_id != first["task"]["task_id"])
        .unwrap();
    assert_eq!(answer(addr, alice, &other.task_id, "data_engineer").0, 409);
    // unknown title id is refused
    let t1 = first["task"]["task_id"].as_str().unwrap().to_string();
    assert_eq!(answer(addr, alice, &t1, "astronaut").0, 422);

    // alice answers 3 tasks, bob 2; alice changes her first answer
    let mut given: Vec<(String, String, String)> = Vec::new(); // (who, task, answer)
    let labels = ["data_engineer", "none_fits", "registered_nurse"];
    for ans in labels.iter() {
        let t = next(addr, alice)["task"]["task_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, body) = answer(addr, alice, &t, ans);
        assert_eq!(st, 200, "{body}");
        given.push(("alice".into(), t, ans.to_string()));
    }
    for ans in ["data_analyst", "software_engineer"] {
        let t = next(addr, bob)["task"]["task_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(answer(addr, bob, &t, ans).0, 200);
        given.push(("bob".into(), t, ans.to_string()));
    }
    let changed_task = given[0].1.clone();
    assert_eq!(answer(addr, alice, &changed_task, "data_scientist").0, 200);
    given[0].2 = "data_scientist".into();
    // going back: alice can open an answered task and sees her latest answer
    let (st, view) = http(
        addr,
        "GET",
        &format!("/api/task/{changed_task}"),
        Some(alice),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(json(&view)["answer"]["answer"], "data_scientist");
    // she cannot open tasks she was never served
    let never = tasks
        .iter()
        .find(|t| !given.iter().any(|g| g.1 == t.task_id))
        .unwrap();
    let cur = next(addr, alice)["task"]["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    if never.task_id != cur {
        assert_eq!(
            http(
                addr,
                "GET",
                &format!("/api/task/{}", never.task_id),
                Some(alice),
                None
            )
            .0,
            403
        );
    }

    // crash-like stop, then restart on the same store
    server.stop();
    let server = RunningServer::start(config(dir.path(), 2), 0);
    let addr = server.addr;
    for who in ["alice", "bob"] {
        let tok = format!("token-of-{who}");
        let (st, hist) = http(addr, "GET", "/api/history", Some(&tok), None);
        assert_eq!(st, 200);
        let hist = json(&hist);
        let mine: Vec<_> = given.iter().filter(|g| g.0 == who).collect();
        assert_eq!(hist.as_array().unwrap().len(), mine.len(), "{who}: {hist}");
        for g in mine {
            let item = hist
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["task_id"] == g.1.as_str())
                .expect("answer kept");
            assert_eq!(item["answer"], g.2.as_str(), "{who} {}", g.1);
        }
    }
    // every record is in the store file (5 answers + 1 change)
    let (records, bad) =
        jobshift_label::store::read_records(&dir.path().join("answers.jsonl")).unwrap();
    assert_eq!(records.len(), 6);
    assert!(bad.is_empty());

    // alice works through everything left: never a task she already answered, never twice
    let mut served: HashSet<String> = given
        .iter()
        .filter(|g| g.0 == "alice")
        .map(|g| g.1.clone())
        .collect();
    loop {
        let v = next(addr, alice);
        if v["done"] == true {
            break;
        }
        let t = v["task"]["task_id"].as_str().unwrap().to_string();
        assert!(served.insert(t.clone()), "task {t} served twice to alice");
        assert_eq!(answer(addr, alice, &t, "software_engineer").0, 200);
    }
    // per_task = 2: with bob's answers, alice can do at most all 8 tasks; she did every task
    // that still needed answers
    assert!(served.len() >= 6, "{}", served.len());
    server.stop();
}

#[test]
fn per_task_cap_spreads_work_and_gold_goes_to_everyone() {
    let dir = tempfile::tempdir().unwrap();
    tasks_dir(dir.path(), 4, &[(3, "data_analyst")]);
    let server = RunningServer::start(config(dir.path(), 1), 0);
    let addr = server.addr;
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for who in ["alice", "bob", "carol"] {
        let tok = format!("token-of-{who}");
        loop {
            let v = next(addr, &tok);
            if v["done"] == true {
                break;
            }
            let t = v["task"]["task_id"].as_str().unwrap().to_string();
            *counts.entry(t.clone()).or_default() += 1;
            assert_eq!(answer(addr, &tok, &t, "data_analyst").0, 200);
        }
    }
    assert_eq!(counts["task-003"], 3, "gold is served to every annotator");
    for t in ["task-000", "task-001", "task-002"] {
        assert_eq!(counts[t], 1, "{t}: per-task cap of 1");
    }
    server.stop();
}

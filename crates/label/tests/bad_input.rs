//! The issue's "bad input" list, one test each: malformed results files, unknown title ids,
//! tasks answered twice, workers with one answer — each a clear message, and nothing lost
//! (every row read is either used or in the rejects file, counted by reason).

mod common;
use common::*;
use jobshift_label::import::{import, ImportOptions, ImportReport, Method};
use std::path::{Path, PathBuf};

fn opts(inputs: Vec<PathBuf>, out: &Path) -> ImportOptions {
    ImportOptions {
        inputs,
        out: out.to_path_buf(),
        report: None,
        gold: None,
        min_worker_accuracy: 0.6,
        min_gold_answers: 3,
        method: Method::DawidSkene,
        exclude_flagged: false,
    }
}

/// Nothing lost: rows read = used + set aside, and the rejects file has one line per set-aside row.
fn assert_nothing_lost(r: &ImportReport) {
    let rejected: usize = r.rejected_by_reason.values().sum();
    assert_eq!(
        r.rows_read,
        r.answers_accepted + rejected,
        "{:?}",
        r.rejected_by_reason
    );
    let rejects = std::fs::read_to_string(&r.rejects_path).unwrap_or_default();
    assert_eq!(rejects.lines().count(), rejected);
}

fn rejects(r: &ImportReport) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&r.rejects_path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const HEADER: &str = "HITId,AssignmentId,WorkerId,AssignmentStatus,Input.task_id,Answer.title_id";

#[test]
fn malformed_results_files_are_set_aside_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    // 1. an empty file; 2. a header without the answer column; 3. a broken crowd-form JSON
    //    answer, a row with too few fields, bytes that are not UTF-8 in a worker id
    let empty = common::write_file(dir.path(), "empty.csv", "");
    let no_answer_col = common::write_file(
        dir.path(),
        "no-answer-column.csv",
        "HITId,WorkerId,Input.task_id\nH1,W1,task-000\n",
    );
    let messy = dir.path().join("messy.csv");
    let mut bytes =
        b"HITId,AssignmentId,WorkerId,AssignmentStatus,Input.task_id,Answer.taskAnswers\n\
H1,A1,W1,Submitted,task-000,\"[{\"\"title_id\"\":\"\"data_engineer\"\"}]\"\n\
H1,A2,W2,Submitted,task-000,\"[{\"\"title_id\"\":\"\"data_eng\"\n"
            .to_vec();
    bytes.extend_from_slice(
        b"H1,A3,W\xff\xfe3,Submitted,task-000,\"[{\"\"title_id\"\":\"\"data_engineer\"\"}]\"\n",
    );
    bytes.extend_from_slice(b"H1,A4,W4\n");
    std::fs::write(&messy, bytes).unwrap();

    let r = import(
        &opts(
            vec![empty, no_answer_col, messy],
            &dir.path().join("labels.jsonl"),
        ),
        &catalog(),
    )
    .unwrap();
    assert_nothing_lost(&r);
    let reason = |k: &str| r.rejected_by_reason.get(k).copied().unwrap_or(0);
    assert_eq!(reason("malformed_file"), 1, "{:?}", r.rejected_by_reason);
    assert!(reason("malformed_row") >= 2, "{:?}", r.rejected_by_reason);
    // the empty file and the file without an answer column are named in the messages
    let msgs = r.messages.join("\n");
    assert!(
        msgs.contains("no-answer-column.csv") && msgs.contains("Answer.title_id"),
        "{msgs}"
    );
    assert!(msgs.contains("empty.csv"), "{msgs}");
    // the broken JSON answer says so (not "no title chosen")
    let rj = rejects(&r);
    assert!(
        rj.iter().any(|x| x["reason"] == "malformed_row"
            && x["message"]
                .as_str()
                .unwrap()
                .contains("Answer.taskAnswers is not valid JSON")
            && x["origin"].as_str().unwrap().ends_with("messy.csv:3")),
        "{rj:#?}"
    );
    // the good rows count: W1 and the worker whose id had bad bytes (kept, bytes replaced)
    assert!(r.answers_accepted >= 2, "{}", r.answers_accepted);
    assert!(r
        .workers
        .iter()
        .any(|w| w.worker.starts_with("mturk:W\u{fffd}")));
}

#[test]
fn a_results_file_saved_by_excel_with_a_byte_order_mark_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write_file(dir.path(), "bom.csv", "\u{feff}WorkerId,Input.task_id,Answer.title_id\nW1,task-000,data_engineer\nW2,task-000,data_engineer\n");
    let r = import(&opts(vec![csv], &dir.path().join("l.jsonl")), &catalog()).unwrap();
    assert_nothing_lost(&r);
    assert_eq!(r.answers_accepted, 2, "{:?}", r.rejected_by_reason);
}

#[test]
fn inputs_that_are_not_results_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let txt = common::write_file(dir.path(), "results.txt", "x");
    let e = import(&opts(vec![txt], &dir.path().join("l.jsonl")), &catalog())
        .unwrap_err()
        .to_string();
    assert!(e.contains("results.txt") && e.contains(".csv"), "{e}");
    let missing = dir.path().join("nope.csv");
    let e = import(
        &opts(vec![missing], &dir.path().join("l.jsonl")),
        &catalog(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("nope.csv"), "{e}");
}

#[test]
fn unknown_title_ids_and_unknown_tasks_on_the_page_store_are_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let td = dir.path().join("round");
    tasks_dir(&td, 3, &[]);
    std::fs::write(
        td.join("answers.jsonl"),
        concat!(
            r#"{"seq":1,"task_id":"task-000","annotator":"ann","answer":"data_engineer","saved_at_ms":1}"#,
            "\n",
            r#"{"seq":2,"task_id":"task-001","annotator":"ann","answer":"astronaut","saved_at_ms":2}"#,
            "\n",
            r#"{"seq":3,"task_id":"task-999","annotator":"ann","answer":"data_analyst","saved_at_ms":3}"#,
            "\n",
        ),
    )
    .unwrap();
    let csv = common::write_file(dir.path(), "b.csv", format!("{HEADER}\nH1,A1,W1,Submitted,task-002,Data_Engineer\nH1,A2,W2,Submitted,task-002,registered_nurse\n"));
    let r = import(
        &opts(vec![td, csv], &dir.path().join("l.jsonl")),
        &catalog(),
    )
    .unwrap();
    assert_nothing_lost(&r);
    assert_eq!(r.rejected_by_reason.get("unknown_title_id"), Some(&2));
    assert_eq!(r.rejected_by_reason.get("unknown_task"), Some(&1));
    let rj = rejects(&r);
    let msg = |needle: &str| {
        rj.iter()
            .find(|x| x["raw"].as_str().unwrap().contains(needle))
            .map(|x| x["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(msg("astronaut").contains("not a title id of taxonomy test-1"));
    assert!(msg("Data_Engineer").contains("\"Data_Engineer\""));
    assert!(msg("task-999").contains("tasks.jsonl"));
}

#[test]
fn a_task_answered_twice_counts_the_later_answer_and_keeps_the_earlier_in_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let b1 = dir.path().join("batch1.csv");
    let b2 = dir.path().join("batch2.csv");
    std::fs::write(
        &b1,
        format!("{HEADER},Input.title\nH1,A1,W1,Submitted,task-000,data_scientist,Data Eng\nH1,A2,W2,Submitted,task-000,data_engineer,Data Eng\n"),
    )
    .unwrap();
    // W1 answers task-000 again in a later batch (a re-posted HIT), and batch1 is passed twice
    std::fs::write(
        &b2,
        format!("{HEADER},Input.title\nH9,A9,W1,Submitted,task-000,data_engineer,Data Eng\n"),
    )
    .unwrap();
    let out = dir.path().join("l.jsonl");
    let r = import(&opts(vec![b1.clone(), b2, b1], &out), &catalog()).unwrap();
    assert_nothing_lost(&r);
    assert_eq!(r.rejected_by_reason.get("answered_twice"), Some(&1));
    assert_eq!(r.rejected_by_reason.get("duplicate_assignment"), Some(&2));
    let rj = rejects(&r);
    let twice = rj.iter().find(|x| x["reason"] == "answered_twice").unwrap();
    assert!(twice["raw"].as_str().unwrap().contains("data_scientist"));
    // the later answer counts: both workers now say data_engineer
    let label: serde_json::Value = common::first_jsonl(&out);
    assert_eq!(label["title_id"], "data_engineer");
}

#[test]
fn a_worker_with_one_answer_is_kept_listed_and_not_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let td = dir.path().join("round");
    tasks_dir(&td, 4, &[(0, "data_engineer")]);
    let csv = dir.path().join("b.csv");
    let mut rows = String::from(HEADER);
    for (i, t) in ["data_engineer", "registered_nurse", "frontend_engineer"]
        .iter()
        .enumerate()
    {
        for w in ["W1", "W2"] {
            rows.push_str(&format!("\nH{i},A{i}{w},{w},Submitted,task-00{i},{t}"));
        }
    }
    // W9 answers only the gold task, wrongly; W8 answers only task-003
    rows.push_str("\nH0,A0W9,W9,Submitted,task-000,data_analyst");
    rows.push_str("\nH3,A3W8,W8,Submitted,task-003,data_analyst\n");
    std::fs::write(&csv, rows).unwrap();
    let out = dir.path().join("l.jsonl");
    let r = import(&opts(vec![csv, td], &out), &catalog()).unwrap();
    assert_nothing_lost(&r);
    assert_eq!(r.answers_accepted, 8);
    assert_eq!(
        r.workers_with_one_answer,
        vec!["mturk:W8".to_string(), "mturk:W9".to_string()]
    );
    let w9 = r.workers.iter().find(|w| w.worker == "mturk:W9").unwrap();
    assert_eq!(w9.gold_accuracy, Some(0.0));
    assert!(!w9.flagged, "one gold answer is too few to flag anyone");
    assert!(r.messages.iter().any(|m| m.contains("single answer")));
    // W8's lone answer still makes a label for task-003 (nothing lost)
    let labels = std::fs::read_to_string(&out).unwrap();
    assert!(labels.contains("posting-003"), "{labels}");
}

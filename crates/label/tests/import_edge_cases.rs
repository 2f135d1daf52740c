//! `label import` on messy input: every row is either used or set aside with a reason,
//! counted, and written to the rejects file — nothing is lost.

mod common;
use common::*;
use jobshift_core::labels::{LabelSource, LabeledExample};
use jobshift_label::import::{import, ImportOptions, Method};
use std::io::Write;

const MTURK: &str = "\
HITId,AssignmentId,WorkerId,AssignmentStatus,Input.task_id,Input.posting_id,Input.title,Input.description,Answer.title_id
H0,A1,W1,Submitted,task-000,posting-000,Senior Data Engineer,d,data_engineer
H0,A2,W2,Approved,task-000,posting-000,Senior Data Engineer,d,data_scientist
H1,A3,W1,Submitted,task-001,posting-001,Staff Nurse,d,registered_nurse
H1,A4,W2,Submitted,task-001,posting-001,Staff Nurse,d,registered_nurse
H1,A5,W3,Submitted,task-001,posting-001,Staff Nurse,d,astronaut
H2,A6,W1,Submitted,task-002,posting-002,React Developer,d,frontend_engineer
H2,A6,W1,Submitted,task-002,posting-002,React Developer,d,frontend_engineer
H2,A7,W2,Submitted,task-002,posting-002,React Developer,d,software_engineer
H2,A8,W2,Submitted,task-002,posting-002,React Developer,d,frontend_engineer
H3,A9,W1
H3,A10,W4,Rejected,task-003,posting-003,BI Analyst,d,data_analyst
H3,A11,W5,Submitted,task-003,posting-003,BI Analyst,d,
H4,A12,W6,Submitted,task-004,posting-004,ML Scientist,d,data_analyst
H5,A13,,Submitted,task-005,posting-005,Senior Data Engineer,d,data_engineer
";

const MTURK_TASK_ANSWERS: &str = "\
HITId,AssignmentId,WorkerId,AssignmentStatus,Input.task_id,Answer.taskAnswers
H5,B1,W1,Submitted,task-005,\"[{\"\"title_id\"\":\"\"none_fits\"\"}]\"
H5,B2,W2,Submitted,task-005,\"[{\"\"title_id\"\":\"\"none_fits\"\"}]\"
";

#[test]
fn messy_inputs_are_counted_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let tasks_path = dir.path().join("round1");
    tasks_dir(&tasks_path, 6, &[(0, "data_engineer")]);
    // page answers: a revision and a torn last line
    let mut f = std::fs::File::create(tasks_path.join("answers.jsonl")).unwrap();
    writeln!(f, r#"{{"seq":1,"task_id":"task-001","annotator":"alice","answer":"data_scientist","saved_at_ms":1}}"#).unwrap();
    writeln!(f, r#"{{"seq":2,"task_id":"task-004","annotator":"alice","answer":"data_analyst","saved_at_ms":2}}"#).unwrap();
    writeln!(f, r#"{{"seq":3,"task_id":"task-001","annotator":"alice","answer":"registered_nurse","saved_at_ms":3}}"#).unwrap();
    write!(f, r#"{{"seq":4,"task_id":"task-0"#).unwrap();
    drop(f);
    let csv1 = common::write_file(dir.path(), "batch1.csv", MTURK);
    let csv2 = common::write_file(dir.path(), "batch2.csv", MTURK_TASK_ANSWERS);
    let csv3 = common::write_file(dir.path(), "not-results.csv", "foo,bar\n1,2\n");

    let out = dir.path().join("labels.jsonl");
    let opts = ImportOptions {
        inputs: vec![csv1, csv2, csv3, tasks_path.clone()],
        out: out.clone(),
        report: None,
        gold: None,
        min_worker_accuracy: 0.6,
        min_gold_answers: 1,
        method: Method::DawidSkene,
        exclude_flagged: false,
    };
    let r = import(&opts, &catalog()).unwrap();
    let rejected: usize = r.rejected_by_reason.values().sum();
    eprintln!("{:#?}", r.rejected_by_reason);
    assert_eq!(r.rows_read, 14 + 2 + 1 + 4);
    assert_eq!(
        r.rows_read,
        r.answers_accepted + rejected,
        "every row used or set aside"
    );
    assert_eq!(r.answers_accepted, 11);
    let reason = |k: &str| r.rejected_by_reason.get(k).copied().unwrap_or(0);
    assert_eq!(reason("unknown_title_id"), 1);
    assert_eq!(reason("duplicate_assignment"), 1);
    assert_eq!(reason("answered_twice"), 1);
    assert_eq!(reason("malformed_row"), 3);
    assert_eq!(reason("assignment_rejected"), 1);
    assert_eq!(reason("no_answer"), 1);
    assert_eq!(reason("malformed_file"), 1);
    assert_eq!(reason("superseded_by_revision"), 1);
    assert_eq!(r.page_revisions, 1);
    assert!(
        r.messages
            .iter()
            .any(|m| m.contains("not-results.csv") && m.contains("WorkerId")),
        "{:?}",
        r.messages
    );
    assert!(
        r.messages
            .iter()
            .any(|m| m.contains("single answer") && m.contains("mturk:W6")),
        "{:?}",
        r.messages
    );
    assert_eq!(r.workers_with_one_answer, vec!["mturk:W6".to_string()]);

    // rejects file: one line per rejected row, with origin and raw
    let rejects = std::fs::read_to_string(&r.rejects_path).unwrap();
    assert_eq!(rejects.lines().count(), rejected);
    assert!(
        rejects.contains("batch1.csv:6") && rejects.contains("astronaut"),
        "{rejects}"
    );

    // gold: W1 right, W2 wrong on task-000
    let w = |id: &str| r.workers.iter().find(|w| w.worker == id).unwrap();
    assert_eq!(w("mturk:W1").gold_accuracy, Some(1.0));
    assert_eq!(w("mturk:W2").gold_accuracy, Some(0.0));
    assert!(w("mturk:W2").flagged && !w("mturk:W1").flagged);
    assert_eq!(r.gold_items, 1);

    // labels: task-001 nurse, task-002 frontend, task-004 analyst; task-005 none fits (written,
    // with its title id none_fits); gold not rewritten
    assert_eq!(r.none_fits, 1);
    let labels: Vec<LabeledExample> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(labels.len(), 4, "{labels:?}");
    assert_eq!(r.labels_written, 4);
    let by = |p: &str| {
        labels
            .iter()
            .find(|l| l.posting_id.as_deref() == Some(p))
            .unwrap()
    };
    assert_eq!(by("posting-001").title_id, "registered_nurse");
    assert_eq!(
        by("posting-001").title,
        "Staff Nurse (nights)",
        "text comes from tasks.jsonl"
    );
    assert_eq!(by("posting-002").title_id, "frontend_engineer");
    assert_eq!(by("posting-004").title_id, "data_analyst");
    assert_eq!(by("posting-005").title_id, jobshift_label::NONE_FITS);
    for l in &labels {
        assert_eq!(l.source, LabelSource::Crowd);
        assert!(l.confidence > 0.0 && l.confidence <= 1.0);
    }
    assert!(r.krippendorff_alpha.is_some());
    // the report is on disk
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("labels.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["answers_accepted"], 11);
}

#[test]
fn majority_method_and_gold_file_by_posting_id() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write_file(
        dir.path(),
        "b.csv",
        "HITId,AssignmentId,WorkerId,Input.task_id,Input.posting_id,Input.title,Answer.title_id\n\
         H1,A1,W1,t1,p1,Data Eng,data_engineer\n\
         H1,A2,W2,t1,p1,Data Eng,data_engineer\n\
         H1,A3,W3,t1,p1,Data Eng,data_scientist\n\
         H2,A4,W1,t2,p2,Nurse,registered_nurse\n\
         H2,A5,W2,t2,p2,Nurse,registered_nurse\n",
    );
    let gold = common::write_file(
        dir.path(),
        "gold.jsonl",
        r#"{"title":"Nurse","title_id":"registered_nurse","source":"expert","posting_id":"p2"}"#,
    );
    let out = dir.path().join("out.jsonl");
    let r = import(
        &ImportOptions {
            inputs: vec![csv],
            out: out.clone(),
            report: Some(dir.path().join("rep.json")),
            gold: Some(gold),
            min_worker_accuracy: 0.6,
            min_gold_answers: 3,
            method: Method::Majority,
            exclude_flagged: false,
        },
        &catalog(),
    )
    .unwrap();
    assert_eq!(r.gold_items, 1);
    assert_eq!(r.labels_written, 1);
    let l: LabeledExample = common::first_jsonl(&out);
    assert_eq!(l.title_id, "data_engineer");
    assert!((l.confidence - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(l.title, "Data Eng");
    assert!(dir.path().join("rep.json").exists());
}

#[test]
fn bad_gold_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let gold = common::write_file(dir.path(), "gold.jsonl", "{\"title\":\"x\",\"title_id\":\"astronaut\",\"source\":\"expert\",\"posting_id\":\"p\"}\nnot json\n");
    let csv = common::write_file(
        dir.path(),
        "b.csv",
        "HITId,WorkerId,Answer.title_id\nH1,W1,data_engineer\n",
    );
    let e = import(
        &ImportOptions {
            inputs: vec![csv],
            out: dir.path().join("o.jsonl"),
            report: None,
            gold: Some(gold),
            min_worker_accuracy: 0.6,
            min_gold_answers: 3,
            method: Method::DawidSkene,
            exclude_flagged: false,
        },
        &catalog(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("gold.jsonl")
            && e.contains("line 1")
            && e.contains("astronaut")
            && e.contains("line 2"),
        "{e}"
    );
}

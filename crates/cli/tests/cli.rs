//! The `jobshift` binary as users run it (assert_cmd over the one built binary): every
//! subcommand answers `--help`, refuses an unknown flag with exit code 2 naming it, and the
//! commands that run without a model work on small inputs and fail on bad ones with exit code 1
//! and a message that names the file and the fix.

#[path = "../../trends/tests/common/mod.rs"]
mod classified_fixture;

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn jobshift() -> Command {
    let mut c = Command::cargo_bin("jobshift").unwrap();
    c.env_remove("JOBSHIFT_FAULT_AFTER_RENAMES");
    c
}

/// Every subcommand path of the CLI.
const SUBCOMMANDS: &[&[&str]] = &[
    &["demo"],
    &["ingest"],
    &["dataset", "stats"],
    &["taxonomy", "list"],
    &["taxonomy", "validate"],
    &["model", "fetch"],
    &["model", "list"],
    &["embed"],
    &["train"],
    &["eval"],
    &["finetune"],
    &["classify"],
    &["classify-titles"],
    &["report"],
    &["sql"],
    &["generate"],
    &["label", "sample"],
    &["label", "serve"],
    &["label", "import"],
    &["collect"],
    &["collect", "discover"],
    &["collect", "status"],
    &["serve"],
    &["cluster", "scheduler"],
    &["cluster", "executor"],
];

#[test]
fn every_subcommand_has_help_and_refuses_unknown_flags() {
    for sub in SUBCOMMANDS {
        jobshift()
            .args(*sub)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: jobshift"));
        jobshift()
            .args(*sub)
            .arg("--no-such-flag")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--no-such-flag"));
    }
    jobshift()
        .arg("no-such-command")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-command"));
    jobshift()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("jobshift"));
}

fn postings_csv(path: &Path) {
    let mut s = String::from("title,company,description,location,date\n");
    for i in 0..40 {
        s.push_str(&format!(
            "Data Engineer {i},Acme {i},Build pipelines {i},Berlin,2024-{:02}-15\n",
            i % 12 + 1
        ));
    }
    s.push_str("No date here,Acme,x,Berlin,\n");
    std::fs::write(path, s).unwrap();
}

#[test]
fn ingest_stats_and_sql_on_a_small_file() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("in.csv");
    postings_csv(&csv);
    let ds = tmp.path().join("ds");
    jobshift()
        .args([
            "ingest",
            csv.to_str().unwrap(),
            "--out",
            ds.to_str().unwrap(),
            "-q",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("40"));
    jobshift()
        .args(["dataset", "stats", ds.to_str().unwrap(), "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"postings\": 40"));
    jobshift()
        .args([
            "sql",
            ds.to_str().unwrap(),
            "SELECT COUNT(*) AS n FROM postings",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("40"));
    let out = tmp.path().join("out.csv");
    jobshift()
        .args([
            "sql",
            ds.to_str().unwrap(),
            "SELECT split_part(title, ' ', 1) AS t FROM postings LIMIT 1",
            "--csv",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "t\nData\n");
}

/// Run `jobshift ARGS` and check it exits with `code` and says every one of `needles`.
fn fails(args: &[&str], code: i32, needles: &[&str]) {
    let mut said = predicate::always().boxed();
    for n in needles {
        said = said.and(predicate::str::contains(*n)).boxed();
    }
    jobshift().args(args).assert().code(code).stderr(said);
}

#[test]
fn bad_inputs_fail_naming_the_file_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (missing, ds, nowhere, report) = (p("nope.csv"), p("ds"), p("nowhere"), p("r"));
    fails(
        &["ingest", &missing, "--out", &ds],
        1,
        &["nope.csv", "exists"],
    );
    fails(
        &["dataset", "stats", &nowhere],
        1,
        &["nowhere", "jobshift ingest"],
    );
    std::fs::create_dir_all(&nowhere).unwrap();
    fails(
        &["sql", &nowhere, "SELECT 1"],
        1,
        &["nowhere", "jobshift ingest"],
    );
    fails(
        &["report", &nowhere, "--out", &report],
        1,
        &["nowhere", "jobshift ingest"],
    );
    // a dataset of postings that is not classified yet: report says to classify it
    let csv = p("in.csv");
    postings_csv(Path::new(&csv));
    jobshift()
        .args(["ingest", csv.as_str(), "--out", ds.as_str(), "-q"])
        .assert()
        .success();
    fails(
        &["report", &ds, "--out", &report],
        1,
        &["jobshift classify"],
    );
    // sql writes nothing: it says so and how to save a result
    let copy = "COPY postings TO '/tmp/x.csv'";
    fails(&["sql", &ds, copy], 1, &["read-only", "--csv"]);
    fails(&["sql", &ds, "SELEC nonsense"], 1, &["SELEC nonsense"]);
    // values clap validates, and values ingest validates
    let threshold = |v: &'static str| {
        [
            "ingest",
            csv.as_str(),
            "--out",
            ds.as_str(),
            "--near-dup-threshold",
            v,
        ]
    };
    fails(&threshold("many"), 2, &["--near-dup-threshold"]);
    fails(&threshold("7"), 1, &["threshold"]);
    // a second writer is refused at once when asked to (JOBSHIFT_LOCK_TIMEOUT=0) while one runs
    let lock_path = Path::new(&ds).join(".jobshift-writer.lock");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    lock.try_lock().unwrap();
    std::fs::write(&lock_path, "pid 1\ncommand `jobshift ingest other.csv`\n").unwrap();
    jobshift()
        .env("JOBSHIFT_LOCK_TIMEOUT", "0")
        .args(["ingest", csv.as_str(), "--out", ds.as_str(), "-q"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("jobshift ingest other.csv")
                .and(predicate::str::contains("being written")),
        );
    drop(lock);
}

#[test]
fn report_and_taxonomy_and_generate_on_small_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let mut f = classified_fixture::Fixture::default();
    for (y, n) in [(2023, 60), (2024, 70), (2025, 80)] {
        f.add("software_engineer", y, n, Some("acme-"), 5);
        f.add("registered_nurse", y, n / 2, Some("care-"), 5);
    }
    f.write(&ds);
    let out = tmp.path().join("report");
    jobshift()
        .args([
            "report",
            ds.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    for name in [
        "report.html",
        "report.md",
        "report.json",
        "titles.csv",
        "queries.sql",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    jobshift().args(["taxonomy", "validate"]).assert().success();
    jobshift()
        .args(["taxonomy", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("software_engineer")
                .or(predicate::str::contains("Software Engineer")),
        );
    let gen = tmp.path().join("gen");
    let generate = |format: &str| {
        let mut c = jobshift();
        c.args(["generate", "--postings", "300", "--out"])
            .arg(&gen)
            .args(["--format", format]);
        c
    };
    generate("csv").assert().success();
    assert!(std::fs::read_dir(&gen).unwrap().count() > 0);
    generate("xml")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("xml"));
}

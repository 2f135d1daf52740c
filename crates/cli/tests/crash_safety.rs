//! Crash safety of the `jobshift` binary: a process killed (abort, as kill -9) after the N-th
//! rename of an ingest or report commit leaves a dataset and a report directory that every
//! later command sees whole, old or new, never a mix; and a reader finishes a commit a killed
//! writer left half-moved instead of reading what was moved so far.
//!
//! The kill points come from `JOBSHIFT_FAULT_AFTER_RENAMES=N` (see `jobshift_core::commit`).

#[path = "../../trends/tests/common/mod.rs"]
mod classified_fixture;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn jobshift(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jobshift"));
    c.args(args).env_remove("JOBSHIFT_FAULT_AFTER_RENAMES");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("cannot start the jobshift binary")
}

fn ok(args: &[&str]) -> String {
    let o = jobshift(args, &[]);
    assert!(
        o.status.success(),
        "jobshift {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Postings in `months` (2024-MM), `per_month` each, distinct companies.
fn postings_csv(path: &Path, salt: &str, months: std::ops::RangeInclusive<u32>, per_month: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "title,company,description,location,date").unwrap();
    for m in months {
        for i in 0..per_month {
            writeln!(
                w,
                "Nurse {salt} {m} {i},Clinic {salt} {m} {i},\"Care for patients on ward {salt}{m}{i}.\",Leeds,2024-{m:02}-{:02}",
                i % 28 + 1
            )
            .unwrap();
        }
    }
}

fn count(ds: &Path) -> u64 {
    let out = ok(&[
        "sql",
        ds.to_str().unwrap(),
        "SELECT COUNT(*) AS n FROM postings",
        "--csv",
        ds.parent().unwrap().join("count.csv").to_str().unwrap(),
    ]);
    let _ = out;
    let csv = std::fs::read_to_string(ds.parent().unwrap().join("count.csv")).unwrap();
    csv.lines().nth(1).unwrap().trim().parse().unwrap()
}

fn stats_postings(ds: &Path) -> u64 {
    let out = ok(&["dataset", "stats", ds.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["postings"].as_u64().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

/// A dataset with months 1–6 (old), and the inputs of a second run that rewrites months 4–6 and
/// adds 7–12 (new).
/// `jobshift ingest INPUT --out DATASET -q`, which must succeed.
fn ingest_quietly(input: &Path, dataset: &Path) {
    ok(&[
        "ingest",
        input.to_str().unwrap(),
        "--out",
        dataset.to_str().unwrap(),
        "-q",
    ]);
}

fn two_runs(tmp: &Path) -> (PathBuf, PathBuf, u64, u64) {
    let a = tmp.join("a.csv");
    let b = tmp.join("b.csv");
    postings_csv(&a, "a", 1..=6, 5);
    postings_csv(&b, "b", 4..=12, 4);
    let base = tmp.join("base");
    ingest_quietly(&a, &base);
    (base, b, 30, 30 + 36)
}

#[test]
fn a_reader_finishes_a_half_moved_commit_instead_of_reading_part_of_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, b, old, new) = two_runs(tmp.path());
    // the run's staged result, moved into place by hand up to its first month
    let done = tmp.path().join("done");
    copy_dir(&base, &done);
    ingest_quietly(&b, &done);
    let ds = tmp.path().join("ds");
    copy_dir(&base, &ds);
    let staging = ds.join(".staging-20240101T000000000Z");
    for m in 4..=12 {
        let month = format!("month=2024-{m:02}");
        copy_dir(
            &done.join("postings").join(&month),
            &staging.join("postings").join(&month),
        );
    }
    std::fs::copy(
        done.join("ingest-report.json"),
        staging.join("ingest-report.json"),
    )
    .unwrap();
    std::fs::write(staging.join("COMMIT"), "20240101T000000000Z").unwrap();
    std::fs::remove_dir_all(ds.join("postings/month=2024-04")).unwrap();
    std::fs::rename(
        staging.join("postings/month=2024-04"),
        ds.join("postings/month=2024-04"),
    )
    .unwrap();
    assert_ne!(old, new);
    assert_eq!(count(&ds), new, "sql read a half-moved dataset");
    assert_eq!(stats_postings(&ds), new);
    assert!(!staging.exists());
}

#[test]
fn ingest_killed_after_any_commit_rename_leaves_old_or_new_never_a_mix() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, b, old, new) = two_runs(tmp.path());
    let mut points = 0;
    for n in 1.. {
        let ds = tmp.path().join(format!("ds{n}"));
        copy_dir(&base, &ds);
        let o = jobshift(
            &[
                "ingest",
                b.to_str().unwrap(),
                "--out",
                ds.to_str().unwrap(),
                "-q",
            ],
            &[("JOBSHIFT_FAULT_AFTER_RENAMES", &n.to_string())],
        );
        if o.status.success() {
            // past the last rename: the run completed
            assert!(n > 1, "the fault hook never fired");
            assert_eq!(count(&ds), new);
            break;
        }
        points += 1;
        let seen = count(&ds);
        assert!(
            seen == old || seen == new,
            "kill after rename {n}: sql saw {seen}"
        );
        assert_eq!(stats_postings(&ds), seen, "kill after rename {n}");
        // the commit was finished by the reader; nothing staged is left
        assert!(!std::fs::read_dir(&ds).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".staging-")));
        // a rerun of the same input converges to the complete dataset
        ingest_quietly(&b, &ds);
        assert_eq!(count(&ds), new, "kill after rename {n}: rerun");
        std::fs::remove_dir_all(&ds).unwrap();
    }
    assert!(
        points >= 20,
        "only {points} kill points in an ingest commit"
    );
}

fn classified_dataset(dir: &Path, writers: usize) {
    let mut f = classified_fixture::Fixture::default();
    for (y, n) in [(2023, 60), (2024, 70), (2025, 80)] {
        f.add("software_engineer", y, n, Some("acme-"), 5);
        f.add("registered_nurse", y, n / 2 + writers, Some("care-"), 5);
    }
    f.write(dir);
}

#[test]
fn report_killed_during_its_commit_leaves_the_old_or_the_new_report_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let old_ds = tmp.path().join("old");
    let new_ds = tmp.path().join("new");
    classified_dataset(&old_ds, 0);
    classified_dataset(&new_ds, 7);
    let report_of = |dir: &Path| -> (String, String) {
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        (j["inputs"]["dataset"].to_string(), html)
    };
    let mut points = 0;
    for n in 1..=4 {
        let out = tmp.path().join(format!("r{n}"));
        ok(&[
            "report",
            old_ds.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let o = jobshift(
            &[
                "report",
                new_ds.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[("JOBSHIFT_FAULT_AFTER_RENAMES", &n.to_string())],
        );
        let (dataset, html) = report_of(&out);
        let is_new = dataset.ends_with("/new\"");
        assert!(dataset.ends_with("/old\"") || is_new, "{dataset}");
        // report.html belongs to the same run as report.json (it names its dataset, as is or
        // HTML-escaped)
        let names = |p: &Path| {
            let raw = p.to_str().unwrap().to_string();
            let escaped = raw.replace('&', "&amp;").replace('/', "&#x2f;");
            html.contains(&raw) || html.contains(&escaped)
        };
        let (this, other) = if is_new {
            (&new_ds, &old_ds)
        } else {
            (&old_ds, &new_ds)
        };
        assert!(
            names(this) && !names(other),
            "kill after rename {n}: report.json and report.html come from different runs"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("notes.txt")).unwrap(),
            "mine"
        );
        if o.status.success() {
            break;
        }
        points += 1;
        // the next report cleans what the killed one left beside and inside the directory
        ok(&[
            "report",
            new_ds.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .chain(std::fs::read_dir(&out).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    }
    assert!(points >= 1, "the fault hook never fired in a report commit");
}

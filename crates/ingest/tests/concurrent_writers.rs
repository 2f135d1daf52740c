//! One writer at a time: two ingests into one dataset both succeed (the second waits for the
//! first's lock) and every row of both is there; a reader (`dataset stats`) running during an
//! ingest never deletes its staging directory or breaks it.

use jobshift_ingest::{dataset_stats, ingest, IngestOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

/// `n` distinct postings (one company each, so none is a duplicate of another).
fn postings_csv(path: &Path, n: usize, salt: &str) -> PathBuf {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "title,company,description,location,date").unwrap();
    for i in 0..n {
        writeln!(
            w,
            "Engineer {salt} {i},Company {salt} {i},\"Build and run service {salt}-{i}; on call one week in {}.\",Berlin,2024-{:02}-{:02}",
            i % 7 + 2,
            i % 12 + 1,
            i % 28 + 1
        )
        .unwrap();
    }
    path.to_path_buf()
}

fn quiet() -> IngestOptions {
    IngestOptions::default()
}

#[test]
fn two_ingests_started_together_both_succeed_with_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let a = postings_csv(&tmp.path().join("a.csv"), 3_000, "a");
    let b = postings_csv(&tmp.path().join("b.csv"), 3_000, "b");
    let start = Arc::new(Barrier::new(2));
    let runs: Vec<_> = [a, b]
        .into_iter()
        .map(|f| {
            let (ds, start) = (ds.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                ingest(&[f], &ds, &quiet())
            })
        })
        .collect();
    for r in runs {
        let r = r.join().unwrap();
        assert!(r.is_ok(), "an ingest failed: {}", r.unwrap_err());
    }
    let st = dataset_stats(&ds).unwrap();
    assert_eq!(st.postings, 6_000);
    for e in std::fs::read_dir(&ds).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.starts_with(".staging-"), "staging left: {n}");
    }
}

#[test]
fn dataset_stats_during_an_ingest_does_not_break_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let seed = postings_csv(&tmp.path().join("seed.csv"), 10, "seed");
    ingest(&[seed], &ds, &quiet()).unwrap();
    let big = postings_csv(&tmp.path().join("big.csv"), 30_000, "big");
    let run = {
        let ds = ds.clone();
        std::thread::spawn(move || ingest(&[big], &ds, &quiet()))
    };
    let mut reads = 0;
    while !run.is_finished() {
        let st = dataset_stats(&ds).unwrap();
        // the old dataset or the new one, never a mix
        assert!(
            st.postings == 10 || st.postings == 30_010,
            "a reader saw {} postings",
            st.postings
        );
        reads += 1;
    }
    let r = run.join().unwrap();
    assert!(
        r.is_ok(),
        "the ingest failed under a reader: {}",
        r.unwrap_err()
    );
    assert!(reads > 0);
    assert_eq!(dataset_stats(&ds).unwrap().postings, 30_010);
}

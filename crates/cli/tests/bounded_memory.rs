//! A CSV record far over the record limit is rejected with a reason, and reading it does not
//! hold it in memory (issue #18, defect 6: a 200 MB line used to peak at 806 MB).
//!
//! Alone in its own test binary so that the peak resident size of this process's children
//! (`getrusage(RUSAGE_CHILDREN)`) is the ingest's and nothing else's.

use std::io::Write;
use std::process::Command;

fn peak_rss_of_children_mib() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    assert_eq!(rc, 0, "getrusage failed");
    u.ru_maxrss as f64 / 1024.0 // kilobytes on Linux
}

#[test]
fn a_200_mb_csv_line_is_rejected_without_being_held() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("postings.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "title,company,description,posted_date").unwrap();
    writeln!(f, "Nurse,Clinic A,Care for patients.,2024-03-01").unwrap();
    // one quoted field of 200 MB
    write!(f, "Welder,Shop B,\"").unwrap();
    let chunk = "lorem ipsum ".repeat(1 << 12);
    let mut written = 0usize;
    while written < 200 << 20 {
        f.write_all(chunk.as_bytes()).unwrap();
        written += chunk.len();
    }
    writeln!(f, "\",2024-03-02").unwrap();
    writeln!(f, "Baker,Bakery C,Bread at dawn.,2024-03-03").unwrap();
    drop(f);

    let ds = tmp.path().join("ds");
    let out = Command::new(env!("CARGO_BIN_EXE_jobshift"))
        .args(["ingest", csv.to_str().unwrap(), "--out"])
        .arg(&ds)
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = peak_rss_of_children_mib();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ds.join("ingest-report.json")).unwrap()).unwrap();
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(
        report["rejected_by_reason"]["record_over_size_limit"], 1,
        "{report}"
    );
    // the default record limit is 16 MiB; the line itself is 200 MiB
    assert!(
        peak < 150.0,
        "ingest peaked at {peak:.0} MiB reading a 200 MiB line (bounded reading keeps it far below)"
    );
    eprintln!("peak resident size of the ingest: {peak:.0} MiB");
}

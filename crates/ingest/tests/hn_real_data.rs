//! The Hacker News files in shared/data: ingest each with only genuinely broken rows rejected.
//! Skips cleanly when the data is absent (found via JOBSHIFT_SHARED_DATA or by walking up from
//! CARGO_MANIFEST_DIR to a `shared/data` directory).

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn shared_data() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("JOBSHIFT_SHARED_DATA") {
        let p = PathBuf::from(p);
        if p.exists() {
            return Some(p);
        }
    }
    let here = jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR"));
    let mut d: Option<&Path> = Some(&here);
    while let Some(dir) = d {
        let c = dir.join("shared/data");
        if c.exists() {
            return Some(c);
        }
        let c = dir.join("../shared/data");
        if c.exists() {
            return Some(c);
        }
        d = dir.parent();
    }
    None
}

fn hn_file(sub: &str) -> Option<PathBuf> {
    let dir = shared_data()?.join(sub);
    let f = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().map(|x| x == "csv").unwrap_or(false))?;
    Some(f)
}

fn check(sub: &str, max_rejected: u64) {
    let Some(f) = hn_file(sub) else {
        jobshift_core::test_support::skip_missing(&format!(
            "the shared data set {sub} (../shared/data, or set JOBSHIFT_SHARED_DATA)"
        ));
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let r = ingest_ok(&[f], dir.path(), &quiet());
    eprintln!(
        "{sub}: read {} accepted {} duplicates {} (exact {}, near {}) rejected {} {:?} repaired {} columns {:?}",
        r.read, r.accepted, r.duplicates, r.exact_duplicates, r.near_duplicates, r.rejected,
        r.rejected_by_reason, r.repaired, r.inputs[0].columns
    );
    for x in rejects(dir.path(), &r).iter().take(20) {
        eprintln!(
            "  rejected record {} line {}: {}",
            x["record"], x["line"], x["reason"]
        );
    }
    assert!(r.rejected <= max_rejected, "{:?}", r.rejected_by_reason);
    assert!(r.accepted > 0);
    let st = jobshift_ingest::dataset_stats(dir.path()).unwrap();
    eprintln!(
        "  countries known: {} of {}",
        st.postings - st.by_country.get("unknown").copied().unwrap_or(0),
        st.postings
    );
}

#[test]
fn hn_titles_2022_2025() {
    check("hn-whoishiring-titles-2022-2025", 20);
}

#[test]
fn hn_fulltext_2013_2018() {
    check("hn-whoishiring-fulltext-2013-2018", 20);
}

#[test]
fn hn_fulltext_2026() {
    check("hn-whoishiring-fulltext-2026", 20);
}

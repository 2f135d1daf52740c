//! Edge cases of issue #18: a year far out of range is `date_out_of_range` like 2150 (not
//! `unparseable_date`); an 11- or 12-digit epoch is out of range (neither seconds nor
//! milliseconds), never read as a 1970s date; a multi-file ingest with one truncated file keeps
//! the good files and the truncated file's complete records, and accounts for the rest.

mod common;
use common::*;
use jobshift_ingest::dates::{parse_date, DateError};
use std::io::Write;

#[test]
fn far_years_and_ambiguous_epochs_are_out_of_range() {
    assert_eq!(parse_date("2150-01-01"), Err(DateError::OutOfRange));
    assert_eq!(parse_date("99999-01-01"), Err(DateError::OutOfRange));
    assert_eq!(parse_date("1/2/99999"), Err(DateError::OutOfRange));
    assert_eq!(parse_date("100000000000"), Err(DateError::OutOfRange)); // 12 digits
    assert_eq!(parse_date("12345678901"), Err(DateError::OutOfRange)); // 11 digits
    let (d, _) = parse_date("1709596800").unwrap();
    assert_eq!(d.to_string(), "2024-03-05");
    let (d, _) = parse_date("1709596800000").unwrap();
    assert_eq!(d.to_string(), "2024-03-05");
}

fn csv_rows(salt: &str, n: usize) -> String {
    let mut s = String::from("title,company,description,date\n");
    for i in 0..n {
        s.push_str(&format!(
            "Analyst {salt} {i},Firm {salt} {i},Work on report {salt}{i},2024-05-{:02}\n",
            i % 28 + 1
        ));
    }
    s
}

#[test]
fn a_truncated_file_does_not_discard_the_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, csv_rows("g", 50)).unwrap();
    // a gzip cut in the middle, as a broken download leaves it
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv_rows("t", 5_000).as_bytes()).unwrap();
    let full = gz.finish().unwrap();
    let cut = dir.path().join("cut.csv.gz");
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    let ds = dir.path().join("ds");
    let r = ingest_ok(&[good, cut], &ds, &quiet());
    assert_eq!(r.inputs[0].accepted, 50, "{:?}", r.inputs[0]);
    let t = &r.inputs[1];
    assert!(t.accepted > 0 && t.accepted < 5_000, "{t:?}");
    assert_eq!(r.rejected_by_reason.get("truncated_input"), Some(&1));
    assert!(t.notes.iter().any(|n| n.contains("truncated")), "{t:?}");
    assert_eq!(rows(&ds).len() as u64, 50 + t.accepted);
}

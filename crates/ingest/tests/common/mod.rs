//! Helpers shared by the ingest integration tests: run an ingest into a temp dir, read back the
//! postings, rejects and duplicate decisions.
#![allow(dead_code)]

use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::{Date32Type, UInt32Type, UInt64Type};
use jobshift_core::dataset::DatasetDir;
use jobshift_ingest::{ingest, IngestOptions, IngestReport};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

pub fn fixture(rel: &str) -> PathBuf {
    jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// One output row, the columns tests look at.
#[derive(Debug, Clone)]
pub struct Row {
    pub posting_id: String,
    pub source: String,
    pub company: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub country: Option<String>,
    pub posted_date: i32,
    pub date_precision: String,
    pub first_seen: i32,
    pub last_seen: i32,
    pub duplicates: u32,
    pub extra: Option<String>,
    pub input_file: String,
    pub input_record: u64,
}

pub fn rows(dir: &Path) -> Vec<Row> {
    let mut out = Vec::new();
    for f in DatasetDir::parquet_files(&DatasetDir::new(dir).postings()).unwrap() {
        let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for b in r {
            let b = b.unwrap();
            let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
            let d = |n: &str| {
                let c = b.column_by_name(n).unwrap();
                c.as_primitive::<Date32Type>().clone()
            };
            let opt = |a: &StringArray, i: usize| {
                if a.is_null(i) {
                    None
                } else {
                    Some(a.value(i).to_string())
                }
            };
            let (id, src, co, ti, de, lo, cn, pr, ex, fi) = (
                s("posting_id"),
                s("source"),
                s("company"),
                s("title"),
                s("description"),
                s("location"),
                s("country"),
                s("date_precision"),
                s("extra"),
                s("input_file"),
            );
            let (pd, fs, ls) = (d("posted_date"), d("first_seen"), d("last_seen"));
            let du = b.column_by_name("duplicates").unwrap();
            let du = du.as_primitive::<UInt32Type>();
            let ir = b.column_by_name("input_record").unwrap();
            let ir = ir.as_primitive::<UInt64Type>();
            for i in 0..b.num_rows() {
                out.push(Row {
                    posting_id: id.value(i).into(),
                    source: src.value(i).into(),
                    company: opt(&co, i),
                    title: ti.value(i).into(),
                    description: opt(&de, i),
                    location: opt(&lo, i),
                    country: opt(&cn, i),
                    posted_date: pd.value(i),
                    date_precision: pr.value(i).into(),
                    first_seen: fs.value(i),
                    last_seen: ls.value(i),
                    duplicates: du.value(i),
                    extra: opt(&ex, i),
                    input_file: fi.value(i).into(),
                    input_record: ir.value(i),
                });
            }
        }
    }
    out
}

pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    match std::fs::read_to_string(path) {
        Ok(s) => s
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub fn rejects(dir: &Path, report: &IngestReport) -> Vec<serde_json::Value> {
    report
        .rejects_file
        .as_ref()
        .map(|r| jsonl(&dir.join(r)))
        .unwrap_or_default()
}

pub fn duplicates(dir: &Path, report: &IngestReport) -> Vec<serde_json::Value> {
    report
        .duplicates_file
        .as_ref()
        .map(|r| jsonl(&dir.join(r)))
        .unwrap_or_default()
}

pub fn quiet() -> IngestOptions {
    IngestOptions::default()
}

/// Ingest and check the accounting identity and that the report on disk is the returned one.
pub fn ingest_ok(inputs: &[PathBuf], dir: &Path, opts: &IngestOptions) -> IngestReport {
    let r = ingest(inputs, dir, opts).unwrap_or_else(|e| panic!("ingest failed: {e}"));
    assert!(r.accounting_holds(), "accounting broken: {r:#?}");
    let on_disk: IngestReport =
        serde_json::from_slice(&std::fs::read(dir.join("ingest-report.json")).unwrap()).unwrap();
    assert_eq!(on_disk, r);
    assert_eq!(rows(dir).len() as u64, r.postings_total);
    // nothing staged is left behind
    for e in std::fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.starts_with(".staging-"), "staging dir left: {n}");
    }
    r
}

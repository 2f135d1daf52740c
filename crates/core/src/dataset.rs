//! The layout of a jobshift dataset directory.
//!
//! ```text
//! DATASET_DIR/
//!   postings/month=YYYY-MM/part-*.parquet   canonical, de-duplicated postings (ingest)
//!   rejects/*.jsonl                         rejected input records with file, record, reason, raw
//!   ingest-report.json                      accounting of the latest ingest run
//!   runs/                                   history of every ingest run's report
//!   classified/month=YYYY-MM/part-*.parquet postings + classification columns (classify)
//!   classified/manifest.json                what was classified with which model (resume)
//! ```

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DatasetDir {
    root: PathBuf,
}

impl DatasetDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn postings(&self) -> PathBuf {
        self.root.join("postings")
    }
    pub fn rejects(&self) -> PathBuf {
        self.root.join("rejects")
    }
    pub fn ingest_report(&self) -> PathBuf {
        self.root.join("ingest-report.json")
    }
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }
    pub fn classified(&self) -> PathBuf {
        self.root.join("classified")
    }
    /// Partition directory for a posting month, e.g. `postings/month=2024-03`.
    pub fn month_partition(base: &Path, year: i32, month: u32) -> PathBuf {
        base.join(format!("month={year:04}-{month:02}"))
    }
    /// All `*.parquet` files under `dir`, sorted, skipping temporary files (names starting with '.').
    pub fn parquet_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        if !dir.exists() {
            return Ok(out);
        }
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)? {
                let e = e?;
                let p = e.path();
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') {
                    continue;
                }
                if e.file_type()?.is_dir() {
                    stack.push(p);
                } else if name.ends_with(".parquet") {
                    out.push(p);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

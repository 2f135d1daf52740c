//! `jobshift dataset stats`: counts of a dataset's postings by month, source and country, the
//! duplicates folded into them, and the latest ingest run's accounting. Reads only the columns
//! it counts, one batch at a time.

use crate::store::col;
use crate::{IngestError, IngestReport};
use arrow::array::{Array, Date32Array, StringArray, UInt32Array};
use jobshift_core::dataset::DatasetDir;
use jobshift_core::schema as cols;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// What `dataset stats` reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DatasetStats {
    pub postings: u64,
    /// Later copies folded into kept postings (sum of `duplicates`).
    pub duplicates_folded: u64,
    /// Kept postings with at least one duplicate.
    pub postings_with_duplicates: u64,
    pub by_month: BTreeMap<String, u64>,
    pub by_source: BTreeMap<String, u64>,
    /// ISO code, or "unknown".
    pub by_country: BTreeMap<String, u64>,
    pub by_date_precision: BTreeMap<String, u64>,
    pub files: usize,
    pub runs: usize,
    pub last_run: Option<IngestReport>,
}

impl DatasetStats {
    /// Human-readable rendering; `top` limits the source and country lists.
    pub fn render(&self, top: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "postings {}   duplicates folded {} (into {} postings)   files {}   ingest runs {}",
            self.postings,
            self.duplicates_folded,
            self.postings_with_duplicates,
            self.files,
            self.runs
        );
        let _ = writeln!(s, "\nby month:");
        for (k, v) in &self.by_month {
            let _ = writeln!(s, "  {k}  {v:>10}");
        }
        let list = |s: &mut String, title: &str, m: &BTreeMap<String, u64>| {
            let mut v: Vec<_> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let _ = writeln!(s, "\nby {title} ({} distinct):", v.len());
            for (k, n) in v.iter().take(top) {
                let _ = writeln!(s, "  {k:<30} {n:>10}");
            }
            if v.len() > top {
                let rest: u64 = v.iter().skip(top).map(|x| *x.1).sum();
                let _ = writeln!(
                    s,
                    "  {:<30} {rest:>10}",
                    format!("({} more)", v.len() - top)
                );
            }
        };
        list(&mut s, "source", &self.by_source);
        list(&mut s, "country", &self.by_country);
        list(&mut s, "date precision", &self.by_date_precision);
        if let Some(r) = &self.last_run {
            let _ = writeln!(
                s,
                "\nlast ingest run {}: read {} accepted {} duplicates {} rejected {}",
                r.run_id, r.read, r.accepted, r.duplicates, r.rejected
            );
        }
        s
    }
}

/// Count a dataset's postings.
pub fn dataset_stats(root: &Path) -> Result<DatasetStats, IngestError> {
    if !root.exists() {
        return Err(IngestError::Dataset {
            dir: root.to_path_buf(),
            message: "does not exist; create it with `jobshift ingest FILES --out DIR`".into(),
        });
    }
    let _reading = jobshift_core::commit::open_for_reading(root)?;
    let ds = DatasetDir::new(root);
    let files = DatasetDir::parquet_files(&ds.postings())
        .map_err(|e| IngestError::io(&ds.postings(), e))?;
    let mut st = DatasetStats {
        files: files.len(),
        ..Default::default()
    };
    let wanted = [
        cols::SOURCE,
        cols::COUNTRY,
        cols::POSTED_DATE,
        cols::DUPLICATES,
        cols::DATE_PRECISION,
    ];
    for path in &files {
        let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| IngestError::parquet(path, e))?;
        let schema = builder.parquet_schema();
        let idx: Vec<usize> = (0..schema.num_columns())
            .filter(|i| wanted.contains(&schema.column(*i).name()))
            .collect();
        let mask = ProjectionMask::leaves(schema, idx);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(65_536)
            .build()
            .map_err(|e| IngestError::parquet(path, e))?;
        for b in reader {
            let b = b.map_err(|e| IngestError::parquet(path, e))?;
            let source: &StringArray = col(&b, cols::SOURCE, path)?;
            let country: &StringArray = col(&b, cols::COUNTRY, path)?;
            let posted: &Date32Array = col(&b, cols::POSTED_DATE, path)?;
            let dups: &UInt32Array = col(&b, cols::DUPLICATES, path)?;
            let prec: &StringArray = col(&b, cols::DATE_PRECISION, path)?;
            for i in 0..b.num_rows() {
                st.postings += 1;
                let d = dups.value(i) as u64;
                st.duplicates_folded += d;
                if d > 0 {
                    st.postings_with_duplicates += 1;
                }
                let month =
                    crate::dedup::month_label(crate::dedup::month_key_of_days(posted.value(i)));
                *st.by_month.entry(month).or_default() += 1;
                *st.by_source.entry(source.value(i).to_string()).or_default() += 1;
                let c = if country.is_null(i) {
                    "unknown"
                } else {
                    country.value(i)
                };
                *st.by_country.entry(c.to_string()).or_default() += 1;
                *st.by_date_precision
                    .entry(prec.value(i).to_string())
                    .or_default() += 1;
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(ds.runs()) {
        st.runs = rd
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.ends_with(".json") && n != "ingested-inputs.json"
            })
            .count();
    }
    if let Ok(b) = std::fs::read(ds.ingest_report()) {
        st.last_run = serde_json::from_slice(&b).ok();
    }
    Ok(st)
}

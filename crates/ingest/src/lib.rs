//! jobshift-ingest: read postings files of any common shape, validate and normalize every record,
//! de-duplicate (exact and near duplicates, incrementally against the existing dataset) and write
//! the canonical Parquet dataset described by [`jobshift_core::schema::postings_schema`].
//!
//! Every input record ends as exactly one of accepted, duplicate or rejected; the accounting is
//! written to `DATASET_DIR/ingest-report.json` (and a copy under `DATASET_DIR/runs/`).
//! Nothing is written into the dataset until every input has been read: the run is staged in
//! `DATASET_DIR/.staging-<run>/` and swapped in at the end (see [`store`]).
//!
//! Modules: [`formats`] (format detection, decompression), [`readers`] (CSV/TSV/JSONL/JSON
//! array/Parquet record streams), [`fields`] (column recognition, canonical posting building),
//! [`dates`], [`country`], [`minhash`], [`dedup`] (the de-duplication engine), [`store`]
//! (staging, Parquet output, the persisted dedup index, commit), [`stats`] (`dataset stats`);
//! with the `clap` feature, [`flags`] (`jobshift ingest`'s flags).

pub mod country;
pub mod csv_records;
pub mod dates;
pub mod dedup;
pub mod fields;
#[cfg(feature = "clap")]
pub mod flags;
pub mod formats;
pub mod minhash;
pub mod readers;
pub mod stats;
pub mod store;

mod passes;
mod pipeline;
mod spill;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use fields::{CanonicalField, ColumnMap};
pub use formats::Format;
pub use stats::{dataset_stats, DatasetStats};

/// Errors that stop an ingest run. Bad records never do: they are rejected and counted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read input {file}: {source}. Check that the file exists, is readable and is not truncated")]
    Input {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("input {file}: {message}")]
    InputFormat { file: PathBuf, message: String },
    #[error("dataset {dir}: {message}")]
    Dataset { dir: PathBuf, message: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Parquet error on {path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("invalid option: {0}")]
    Options(String),
    #[error(transparent)]
    Lock(#[from] jobshift_core::commit::LockError),
}

impl IngestError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn parquet(path: &Path, e: impl std::fmt::Display) -> Self {
        IngestError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// Options of an ingest run. `IngestOptions::default()` is what `jobshift ingest` uses.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Value of the `source` column; default: each input file's stem (name without extensions).
    pub source: Option<String>,
    /// Force a format instead of detecting it from the extension.
    pub format: Option<Format>,
    /// Column overrides (`--map title=job_name`).
    pub column_map: ColumnMap,
    /// A field longer than this (bytes) rejects its record ("field over the size limit").
    pub max_field_bytes: usize,
    /// A JSON record (line or array element) longer than this (bytes) is rejected unparsed.
    pub max_record_bytes: usize,
    /// Near-duplicate threshold on the estimated Jaccard similarity of description shingles.
    pub near_dup_threshold: f64,
    /// Two copies further apart than this (days) are two postings (a re-post).
    pub dedup_window_days: i64,
    /// Turn near-duplicate detection off (exact duplicates are always removed).
    pub near_duplicates: bool,
    /// Show an indicatif progress bar on stderr.
    pub progress: bool,
    /// Rows per Parquet row group / per output batch.
    pub batch_rows: usize,
    /// Memory (bytes) the de-duplication window may use: the run makes as many passes over
    /// disjoint company shards as it needs to stay under it (see docs/ingest.md).
    pub dedup_memory: u64,
    /// Force this number of de-duplication passes (1–64) instead of planning it from
    /// `dedup_memory`; decisions are the same for any number.
    pub dedup_passes: Option<u32>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            source: None,
            format: None,
            column_map: ColumnMap::default(),
            max_field_bytes: 1 << 20,
            max_record_bytes: 16 << 20,
            near_dup_threshold: 0.8,
            dedup_window_days: 60,
            near_duplicates: true,
            progress: false,
            batch_rows: 8192,
            dedup_memory: 256 << 20,
            dedup_passes: None,
        }
    }
}

/// Accounting of one input file in one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InputReport {
    pub file: String,
    pub format: String,
    pub source: String,
    /// blake3 of the file's bytes (as stored, before decompression).
    pub blake3: String,
    pub bytes: u64,
    pub read: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub repaired: u64,
    /// Which input column fed each canonical field (first candidate seen; `--map` wins).
    pub columns: BTreeMap<String, String>,
    /// Notes about the file: duplicate header names renamed, empty file, already ingested, ...
    pub notes: Vec<String>,
    /// True when a file with the same bytes was ingested by an earlier run: its records are all
    /// duplicates and do not extend the kept postings' counters again.
    pub already_ingested: bool,
}

/// The report of one ingest run (`DATASET_DIR/ingest-report.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IngestReport {
    pub run_id: String,
    pub started_utc: String,
    pub finished_utc: String,
    pub dataset: String,
    pub read: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub exact_duplicates: u64,
    pub near_duplicates: u64,
    pub rejected: u64,
    pub repaired: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub repaired_by_reason: BTreeMap<String, u64>,
    pub inputs: Vec<InputReport>,
    /// Kept postings already in the dataset whose first_seen/last_seen/duplicates this run changed.
    pub existing_postings_extended: u64,
    /// Postings in the dataset after the run.
    pub postings_total: u64,
    /// Month partitions written by this run.
    pub months_written: Vec<String>,
    /// Where rejected records and duplicate decisions of this run were written (relative paths).
    pub rejects_file: Option<String>,
    pub duplicates_file: Option<String>,
    pub settings: ReportSettings,
    /// Most kept postings the de-duplication window held at once, and the heap bytes of that
    /// window (what bounds ingest's memory; see docs/ingest.md).
    #[serde(default)]
    pub dedup_window_peak_postings: u64,
    #[serde(default)]
    pub dedup_window_peak_bytes: u64,
    /// De-duplication passes over disjoint company shards (each holds its share of the window).
    #[serde(default)]
    pub dedup_passes: u32,
}

/// The settings a run used (for reproducibility).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReportSettings {
    pub near_dup_threshold: f64,
    pub dedup_window_days: i64,
    pub near_duplicates: bool,
    pub max_field_bytes: usize,
    pub minhash_permutations: usize,
    pub lsh_bands: usize,
    pub shingle_words: usize,
}

impl IngestReport {
    /// `read == accepted + duplicates + rejected`, for the run and for every input.
    pub fn accounting_holds(&self) -> bool {
        self.read == self.accepted + self.duplicates + self.rejected
            && self
                .inputs
                .iter()
                .all(|i| i.read == i.accepted + i.duplicates + i.rejected)
            && self.rejected_by_reason.values().sum::<u64>() == self.rejected
    }

    /// Why memory went above the de-duplication budget `dedup_memory` (bytes), when it did even
    /// with one company shard per pass: a company cannot be split (copies need the same
    /// company), so memory follows the largest company's postings per window.
    pub fn dedup_memory_note(&self, dedup_memory: u64, window_days: i64) -> Option<String> {
        (self.dedup_window_peak_bytes > dedup_memory
            && self.dedup_passes >= crate::dedup::KEY_SHARDS)
            .then(|| {
                format!(
                    "the largest de-duplication window took {:.1} MB, above --dedup-memory ({:.1} MB), \
                     even with one company shard per pass ({} passes): a company cannot be split \
                     (copies need the same company), so memory follows the largest company's postings \
                     per {} days",
                    self.dedup_window_peak_bytes as f64 / 1e6,
                    dedup_memory as f64 / 1e6,
                    self.dedup_passes,
                    window_days
                )
            })
    }

    /// A short human summary (what `jobshift ingest` prints).
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "read {}  accepted {}  duplicates {} (exact {}, near {})  rejected {}  repaired {}",
            self.read,
            self.accepted,
            self.duplicates,
            self.exact_duplicates,
            self.near_duplicates,
            self.rejected,
            self.repaired
        );
        for i in &self.inputs {
            let _ = writeln!(
                s,
                "  {} [{}]: read {} accepted {} duplicates {} rejected {}{}",
                i.file,
                i.format,
                i.read,
                i.accepted,
                i.duplicates,
                i.rejected,
                if i.already_ingested {
                    " (already ingested)"
                } else {
                    ""
                }
            );
            for n in &i.notes {
                let _ = writeln!(s, "    note: {n}");
            }
        }
        if !self.rejected_by_reason.is_empty() {
            let _ = writeln!(s, "rejected by reason:");
            for (k, v) in &self.rejected_by_reason {
                let _ = writeln!(s, "  {k}: {v}");
            }
        }
        if let Some(r) = &self.rejects_file {
            let _ = writeln!(s, "rejected records: {r}");
        }
        let _ = writeln!(
            s,
            "existing postings extended: {}   postings in dataset: {}",
            self.existing_postings_extended, self.postings_total
        );
        if self.dedup_passes > 1 {
            let _ = writeln!(
                s,
                "de-duplicated in {} passes over company shards (window peak {} postings, {:.0} MB)",
                self.dedup_passes,
                self.dedup_window_peak_postings,
                self.dedup_window_peak_bytes as f64 / 1e6
            );
        }
        s
    }
}

/// Ingest `inputs` into the dataset at `out` (created if missing). Either every input is read
/// and the dataset is updated as a whole, or an error names the input that could not be read
/// and the dataset is left as it was.
pub fn ingest(
    inputs: &[PathBuf],
    out: &Path,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    pipeline::run(inputs, out, opts)
}

//! jobshift-generate: realistic synthetic job postings with ground truth, calibrated to the
//! study's figures, streaming (bounded memory at any N) and deterministic per seed.
//!
//! - `catalog`: the titles generated (from the taxonomy, or a small built-in sample);
//! - `calibrate`: per-title volumes and year-over-year changes solved so every figure the study
//!   reports (titles, tiers, baseline) holds on expected counts;
//! - `plan`: months, records per month, unique postings per title per month, copy counts;
//! - `companies`, `rawtitle`, `describe`, `posting`: what one posting looks like;
//! - `sink`: Parquet / JSONL / CSV writers and the truth file;
//! - `changes`: `truth-changes.csv` and `expected-counts.csv`;
//! - `run`: the month-by-month streaming driver with resume;
//! - `classified`: classified-only output (truth → classified Parquet, no text) for
//!   benchmarking the report at 100M+ postings, with optional simulated misclassification;
//! - `summary`: what `jobshift generate` prints after a run.
//!
//! With the `clap` feature, [`flags`] holds `jobshift generate`'s flags.
//!
//! Modules are private; the contract is what this file re-exports. The lead's entry point is
//! [`generate`]; tests and the demo score recovery with [`plan_for`]
//! and [`change_table`].

mod calibrate;
mod catalog;
mod changes;
mod classified;
mod companies;
mod describe;
#[cfg(feature = "clap")]
pub mod flags;
mod plan;
mod posting;
mod rawtitle;
mod rng;
mod run;
mod sink;
mod summary;
mod vocab;

pub use calibrate::{Calibration, ChangeSource, StudyTargets, TitleCalibration};
pub use catalog::{Catalog, TitleSpec};
pub use changes::{
    change_table, read_change_truth, recovery_errors, ChangeRow, ChangeTruth, RecoveredTitle,
    RecoveryErrors,
};
pub use classified::{generate_classified, ClassifiedOptions, ClassifiedSummary, ConfusionSim};
pub use companies::default_company_count;
pub use plan::{MonthPlan, Plan, YearMonth};
pub use run::{generate, generate_with, load_catalog_for, plan_for, GenerateSummary, Progress};
pub use sink::OutputFormat;
pub use summary::{ClassifiedText, CorpusText};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("invalid generate options: {0}")]
    Options(String),
    #[error("titles: {0}")]
    Catalog(String),
    #[error("calibration to the study failed: {0}")]
    Calibration(String),
    #[error("I/O error: {0}")]
    Io(String),
    #[error("{0}")]
    OutputDir(String),
}

/// Which titles to generate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaxonomySource {
    /// The built-in taxonomy (`taxonomy/` in the repository).
    Builtin,
    /// A taxonomy directory (a user's edited copy).
    Dir(PathBuf),
    /// The ~80-title sample of study titles ([`Catalog::study_sample`]); for tests and quick runs.
    StudySample,
}

/// Rates of duplicates, re-posts, malformed records and ambiguous titles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Share of all records that are exact copies of a posting (same company, title, location,
    /// description), dated 0–7 days after it.
    pub exact_copy: f64,
    /// Share of all records that are near copies (small description edits), 1–20 days after.
    pub near_copy: f64,
    /// Share of unique postings that re-post an earlier posting of the same title 4–12 months
    /// (always > 60 days) before, with small edits. A re-post counts as a new posting.
    pub repost: f64,
    /// Share of all records that are malformed (CSV/JSONL only; Parquet gets none).
    pub malformed: f64,
    /// Share of postings whose raw title is generic ("Associate", "Consultant", "Manager").
    pub ambiguous_title: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            exact_copy: 0.02,
            near_copy: 0.03,
            repost: 0.04,
            malformed: 0.005,
            ambiguous_title: 0.04,
        }
    }
}

/// Options of one generation run.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Total records written (unique postings + copies + malformed).
    pub postings: u64,
    pub seed: u64,
    pub from: YearMonth,
    pub to: YearMonth,
    pub format: OutputFormat,
    pub rates: Rates,
    /// Size of the company universe; default grows with N (one per 40 postings, 200..=50,000).
    pub companies: Option<u32>,
    /// Maximum records per postings file (files never span months).
    pub rows_per_file: u64,
    pub taxonomy: TaxonomySource,
    /// Benchmarking/testing mode: every title's unique postings per month are its expected
    /// count, rounded deterministically (see `plan::exact_allocation`), instead of a
    /// multinomial draw around it, so realized changes equal the injected ones (to one posting
    /// per window). Real data has sampling noise; use this to score a pipeline against the
    /// injected truth without the generator's own noise.
    pub exact_volumes: bool,
    /// Share of unique postings also written as labelled examples (`DIR/labels/*.jsonl`,
    /// [`jobshift_core::labels::LabeledExample`], source `synthetic`, with the raw title and the
    /// description): the stand-in for a crowd-labelled random sample of the corpus, on which
    /// `jobshift eval --labels` measures the confusion matrix that `jobshift report --confusion`
    /// corrects with. Drawn from its own random stream: the rate does not change the postings.
    pub labels_rate: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            postings: 100_000,
            seed: 42,
            from: YearMonth::new(2023, 1),
            to: YearMonth::new(2025, 10),
            format: OutputFormat::Parquet,
            rates: Rates::default(),
            companies: None,
            rows_per_file: 1_000_000,
            taxonomy: TaxonomySource::Builtin,
            exact_volumes: false,
            labels_rate: 0.0,
        }
    }
}

impl GenerateOptions {
    pub fn validate(&self) -> Result<(), GenerateError> {
        let bad = |m: String| Err(GenerateError::Options(m));
        if self.from > self.to {
            return bad(format!("--from {} is after --to {}", self.from, self.to));
        }
        if self.from.months_until(self.to) > 600 {
            return bad(format!(
                "{}..{} spans more than 50 years",
                self.from, self.to
            ));
        }
        let r = &self.rates;
        for (name, v) in [
            ("exact copy", r.exact_copy),
            ("near copy", r.near_copy),
            ("re-post", r.repost),
            ("malformed", r.malformed),
            ("ambiguous title", r.ambiguous_title),
        ] {
            if !(0.0..=0.5).contains(&v) || v.is_nan() {
                return bad(format!("{name} rate {v} must be between 0 and 0.5"));
            }
        }
        if r.exact_copy + r.near_copy + r.malformed > 0.6 {
            return bad(
                "exact + near + malformed rates exceed 0.6; most records would be copies".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.labels_rate) {
            return bad(format!(
                "labels rate {} must be between 0 and 1",
                self.labels_rate
            ));
        }
        if self.rows_per_file == 0 {
            return bad("rows per file must be at least 1".into());
        }
        if self.companies == Some(0) {
            return bad("the company count must be at least 1".into());
        }
        Ok(())
    }
}

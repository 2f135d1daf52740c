//! Options of a trends run ([`TrendOptions`]) and the `YYYY-MM` month type the window is made of.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A calendar month, written `YYYY-MM`.
pub use jobshift_core::YearMonth;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Absolute change in postings (the study's reading of a whole labour market).
    Change,
    /// Change in each title's share of all postings, i.e. the excess ratio (1+g)/(1+g_all)−1.
    /// The right reading for a single-sector market (e.g. Hacker News, which is all tech):
    /// there the "market" is one sector's hiring cycle, so only shares are comparable.
    Share,
}

/// Parameters of a trends run. Every field is recorded in the outputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendOptions {
    /// First month of the window (inclusive). With `to`; both default to the latest complete
    /// year-to-date in the data.
    pub from: Option<YearMonth>,
    /// Last month of the window (inclusive), same year as `from`.
    pub to: Option<YearMonth>,
    /// Number of matched windows (the window and the same months of the N−1 previous years).
    pub years: usize,
    /// Minimum postings in the previous window for a title to be ranked. `None`: the default
    /// rule, max(50, ⌈previous-window postings / 10,000⌉).
    pub min_postings: Option<u64>,
    /// Restrict to companies that posted in every window.
    pub panel: bool,
    /// Title ids to show with their trajectory. Empty: the study's watch list (medical_scribe)
    /// when it has postings.
    pub watch: Vec<String>,
    /// Correct title counts for misclassification with a confusion matrix.
    pub corrected: bool,
    /// Confusion matrix JSON (true title → predicted title → count). `None`: looked up next to
    /// the classifier (see `docs/report.md`).
    pub confusion: Option<PathBuf>,
    /// Taxonomy directory (a user's edited copy). `None`: the built-in taxonomy.
    pub taxonomy_dir: Option<PathBuf>,
    /// Number of decliners and gainers listed.
    pub top: usize,
    /// Skip `COUNT(DISTINCT posting_id)` and count rows, trusting ingest's de-duplication
    /// (the dataset contract); faster on very large datasets.
    pub assume_unique: bool,
    /// `None`: decided from the data (shares when ≥ 60% of classified postings are tech).
    pub rank_by: Option<RankBy>,
    /// Bootstrap replicates behind the corrected intervals (`--corrected`).
    #[serde(default = "default_replicates")]
    pub correction_replicates: usize,
    /// Seed of the correction bootstrap: same data + seed → same intervals.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Bytes of memory the query engine may use before spilling to disk (`None`: unbounded,
    /// intermediate tables kept in RAM). Default 1 GiB.
    #[serde(default = "default_memory_limit")]
    pub memory_limit: Option<u64>,
}

fn default_memory_limit() -> Option<u64> {
    Some(crate::engine::DEFAULT_MEMORY_LIMIT)
}

fn default_replicates() -> usize {
    200
}

fn default_seed() -> u64 {
    42
}

impl Default for TrendOptions {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            years: 3,
            min_postings: None,
            panel: false,
            watch: Vec::new(),
            corrected: false,
            confusion: None,
            taxonomy_dir: None,
            top: 10,
            assume_unique: false,
            rank_by: None,
            correction_replicates: default_replicates(),
            seed: default_seed(),
            memory_limit: default_memory_limit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_parse_and_step() {
        let m: YearMonth = "2025-01".parse().unwrap();
        assert_eq!(m.prev().to_string(), "2024-12");
        assert_eq!(m.next().to_string(), "2025-02");
        assert_eq!("2024-02".parse::<YearMonth>().unwrap().days(), 29);
        assert!("2025-13".parse::<YearMonth>().is_err());
        assert!("Jan 2025"
            .parse::<YearMonth>()
            .unwrap_err()
            .contains("YYYY-MM"));
    }
}

//! The command-line flags of the analysis (`jobshift report` and `jobshift serve`) and of
//! `jobshift sql`, and the trends options they describe. Compiled with the `clap` feature,
//! which the `jobshift` binary turns on.

use crate::{RankBy, TrendOptions, YearMonth};
use std::path::PathBuf;

/// The analysis options (shared by `report` and `serve`).
#[derive(clap::Args, Clone)]
pub struct AnalysisFlags {
    /// First month of the window, YYYY-MM (default: January of the latest complete year-to-date)
    #[arg(long, requires = "to")]
    pub from: Option<YearMonth>,
    /// Last month of the window, YYYY-MM, same year as --from
    #[arg(long, requires = "from")]
    pub to: Option<YearMonth>,
    /// Number of matched windows compared (the window and the same months of N−1 previous years)
    #[arg(long, default_value_t = 3)]
    pub years: usize,
    /// Minimum postings in the previous window for a title to be ranked
    /// (default: max(50, 1 in 10,000 of that window's postings))
    #[arg(long)]
    pub min_postings: Option<u64>,
    /// Only companies that posted in every window (a changing set of companies cannot pose as a trend)
    #[arg(long)]
    pub panel: bool,
    /// Title ids to watch, comma-separated (default: medical_scribe when present)
    #[arg(long, value_delimiter = ',')]
    pub watch: Vec<String>,
    /// Correct title counts with the classifier's confusion matrix; raw and corrected side by side
    #[arg(long)]
    pub corrected: bool,
    /// Confusion matrix JSON (true title → predicted title → count); default: the classifier's
    #[arg(long)]
    pub confusion: Option<PathBuf>,
    /// Taxonomy directory (default: the built-in taxonomy)
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// How many decliners and gainers to list
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Compare titles by change in postings or by change in share (default: share for a tech-only market)
    #[arg(long, value_parser = ["change", "share"])]
    pub rank_by: Option<String>,
    /// Count rows instead of distinct posting ids (trusts ingest's de-duplication; faster at scale)
    #[arg(long)]
    pub assume_unique: bool,
    /// Bootstrap replicates for the corrected intervals (confusion-matrix and sampling error)
    #[arg(long, default_value_t = 200)]
    pub replicates: usize,
    /// Seed of the correction bootstrap
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Memory the query engine may use before it spills to the OS temp directory (TMPDIR), e.g.
    /// 512MiB, 1GiB, 4G; "none" keeps everything in RAM (faster on small data, grows with it)
    #[arg(long, default_value = "1GiB", value_parser = parse_memory_limit)]
    pub memory_limit: MemoryLimit,
}

impl AnalysisFlags {
    /// The trends options these flags describe.
    pub fn options(&self) -> TrendOptions {
        let a = self.clone();
        TrendOptions {
            from: a.from,
            to: a.to,
            years: a.years,
            min_postings: a.min_postings,
            panel: a.panel,
            watch: a
                .watch
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            corrected: a.corrected || a.confusion.is_some(),
            confusion: a.confusion,
            taxonomy_dir: a.taxonomy,
            top: a.top,
            assume_unique: a.assume_unique,
            rank_by: match a.rank_by.as_deref() {
                Some("share") => Some(RankBy::Share),
                Some("change") => Some(RankBy::Change),
                _ => None,
            },
            correction_replicates: a.replicates,
            seed: a.seed,
            memory_limit: a.memory_limit.0,
        }
    }
}

/// `--memory-limit`: bytes, or unbounded.
#[derive(Debug, Clone, Copy)]
pub struct MemoryLimit(pub Option<u64>);

/// `--memory-limit`: a size for [`jobshift_core::memory::parse_memory_size`], at least 16 MiB, or "none".
pub fn parse_memory_limit(s: &str) -> Result<MemoryLimit, String> {
    match jobshift_core::memory::parse_memory_size(s)? {
        None => Ok(MemoryLimit(None)),
        Some(bytes) if bytes < 16 << 20 => Err(format!(
            "{s:?} is too small: the engine needs at least 16MiB (or none for no limit)"
        )),
        Some(bytes) => Ok(MemoryLimit(Some(bytes))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limits_parse() {
        assert_eq!(parse_memory_limit("1GiB").unwrap().0, Some(1 << 30));
        assert_eq!(parse_memory_limit("512MiB").unwrap().0, Some(512 << 20));
        assert_eq!(parse_memory_limit("4G").unwrap().0, Some(4 << 30));
        assert_eq!(parse_memory_limit("none").unwrap().0, None);
        assert!(parse_memory_limit("lots").is_err());
        assert!(parse_memory_limit("1k").is_err());
    }
}

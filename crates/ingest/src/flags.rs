//! The command-line flags of `jobshift ingest` and the options they describe. Compiled with the
//! `clap` feature, which the `jobshift` binary turns on.

use crate::{ColumnMap, Format, IngestError, IngestOptions};
use std::path::PathBuf;

/// `jobshift ingest`.
#[derive(clap::Args)]
pub struct IngestArgs {
    /// Input files: .csv .tsv .jsonl .ndjson .json .parquet, optionally .gz or .zst
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Dataset directory to create or extend, or s3://BUCKET/PREFIX (written in a working copy
    /// under the jobshift cache, then published; see docs/cluster.md)
    #[arg(long, short)]
    pub out: PathBuf,
    /// Use COLUMN for FIELD (title, description, company, date, location, country, url); repeatable
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// Value of the `source` column (default: each input's file name without extensions)
    #[arg(long)]
    pub source: Option<String>,
    /// Input format, instead of detecting it from the extension
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Near-duplicate threshold: estimated Jaccard similarity of description shingles
    #[arg(long, default_value_t = 0.8)]
    pub near_dup_threshold: f64,
    /// Copies further apart than this many days are separate postings (re-posts)
    #[arg(long, default_value_t = 60)]
    pub dedup_window_days: i64,
    /// Only remove exact duplicates
    #[arg(long)]
    pub no_near_duplicates: bool,
    /// Memory the de-duplication window may use (e.g. 256MiB, 2GiB): above it, de-duplication
    /// runs in passes over disjoint company shards (same decisions, a little more I/O)
    #[arg(long, default_value = "256MiB", value_parser = parse_dedup_memory)]
    pub dedup_memory: u64,
    /// Largest field accepted, in bytes (larger ones reject their record)
    #[arg(long, default_value_t = 1 << 20)]
    pub max_field_bytes: usize,
    /// Print the report as JSON instead of the summary
    #[arg(long)]
    pub json: bool,
    /// No progress bars
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

pub fn parse_dedup_memory(s: &str) -> Result<u64, String> {
    Ok(jobshift_core::memory::parse_memory_size(s)?.unwrap_or(u64::MAX))
}

impl IngestArgs {
    /// The run these flags describe; `progress` shows progress bars unless `--quiet`.
    pub fn options(&self, progress: bool) -> Result<IngestOptions, IngestError> {
        Ok(IngestOptions {
            source: self.source.clone(),
            format: self.format,
            column_map: ColumnMap::parse(&self.map).map_err(IngestError::Options)?,
            max_field_bytes: self.max_field_bytes,
            near_dup_threshold: self.near_dup_threshold,
            dedup_window_days: self.dedup_window_days,
            near_duplicates: !self.no_near_duplicates,
            dedup_memory: self.dedup_memory,
            progress: progress && !self.quiet,
            ..IngestOptions::default()
        })
    }
}

//! `jobshift ingest INPUT... --out DATASET_DIR`: read postings files into the canonical,
//! de-duplicated dataset and print the run's accounting (see docs/ingest.md).

use anyhow::Context;
use jobshift_ingest::{ColumnMap, Format, IngestOptions};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
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

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_dedup_memory(s: &str) -> Result<u64, String> {
    Ok(super::parse_memory_size(s)?.unwrap_or(u64::MAX))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let column_map = ColumnMap::parse(&args.map).map_err(anyhow::Error::msg)?;
    let opts = IngestOptions {
        source: args.source,
        format: args.format,
        column_map,
        max_field_bytes: args.max_field_bytes,
        near_dup_threshold: args.near_dup_threshold,
        dedup_window_days: args.dedup_window_days,
        near_duplicates: !args.no_near_duplicates,
        dedup_memory: args.dedup_memory,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        ..IngestOptions::default()
    };
    let target = super::write_target(&args.out, "ingest")?;
    let report = jobshift_ingest::ingest(&args.inputs, target.dir(), &opts).with_context(|| {
        format!(
            "ingest into {} failed; the dataset was not changed",
            args.out.display()
        )
    })?;
    let report_path = target.dir().join("ingest-report.json");
    target.finish(&mut |m| eprintln!("{m}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
        println!("report: {}", report_path.display());
    }
    if let Some(note) = report.dedup_memory_note(args.dedup_memory, args.dedup_window_days) {
        eprintln!("note: {note}");
    }
    if !report.accounting_holds() {
        anyhow::bail!("internal accounting error: read != accepted + duplicates + rejected (please report this)");
    }
    Ok(())
}

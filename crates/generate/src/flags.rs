//! The command-line flags of `jobshift generate` and the options they describe. Compiled with
//! the `clap` feature, which the `jobshift` binary turns on.

use crate::{
    Catalog, ClassifiedOptions, ConfusionSim, GenerateError, GenerateOptions, OutputFormat, Rates,
    TaxonomySource, YearMonth,
};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(
    after_help = "Writes DIR/postings/part-YYYY-MM-NNN.{parquet,jsonl,csv}, DIR/truth.{parquet,csv} \
(true title, level, seniority, duplicate group and kind per posting_ref), DIR/truth-changes.csv (injected and \
expected changes per title, tier, family and the baseline), DIR/expected-counts.csv and DIR/manifest.json. \
Rerunning with the same options resumes an interrupted run.\n\n\
Example: jobshift generate --postings 1000000 --out corpus --format jsonl && jobshift ingest corpus/postings/*.jsonl --out ds"
)]
pub struct GenerateArgs {
    /// Total records to write (unique postings + duplicates + malformed records)
    #[arg(long, default_value_t = 100_000)]
    pub postings: u64,
    /// Output directory (created; must be empty or hold an unfinished run with the same options)
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed and options give byte-identical output
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First month (YYYY-MM)
    #[arg(long, default_value = "2023-01")]
    pub from: String,
    /// Last month (YYYY-MM)
    #[arg(long, default_value = "2025-10")]
    pub to: String,
    /// Output format of the postings files
    #[arg(long, default_value = "parquet", value_parser = ["parquet", "jsonl", "csv"])]
    pub format: String,
    /// Share of records that are exact copies of a posting
    #[arg(long, default_value_t = Rates::default().exact_copy)]
    pub exact_dup_rate: f64,
    /// Share of records that are near copies (small edits) of a posting
    #[arg(long, default_value_t = Rates::default().near_copy)]
    pub near_dup_rate: f64,
    /// Share of unique postings that are re-posts of a posting 4-12 months earlier
    #[arg(long, default_value_t = Rates::default().repost)]
    pub repost_rate: f64,
    /// Share of malformed records (csv/jsonl only)
    #[arg(long, default_value_t = Rates::default().malformed)]
    pub malformed_rate: f64,
    /// Share of postings with a generic title ("Associate", "Consultant")
    #[arg(long, default_value_t = Rates::default().ambiguous_title)]
    pub ambiguous_rate: f64,
    /// Number of companies (default: one per 40 postings, 200..=50000)
    #[arg(long)]
    pub companies: Option<u32>,
    /// Maximum records per postings file
    #[arg(long, default_value_t = 1_000_000)]
    pub rows_per_file: u64,
    /// Taxonomy directory to draw titles from (default: the built-in taxonomy)
    #[arg(long, conflicts_with = "study_sample")]
    pub taxonomy: Option<PathBuf>,
    /// Use the small built-in sample of the study's titles instead of the taxonomy (quick runs)
    #[arg(long)]
    pub study_sample: bool,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
    /// Write the truth directly as a classified dataset (DIR/classified/month=YYYY-MM/*.parquet,
    /// no descriptions, every row a unique posting) for `jobshift report` at 100M+ postings;
    /// --postings is then the number of rows
    #[arg(long)]
    pub classified_only: bool,
    /// With --classified-only: simulate the classifier by drawing each posting's predicted title
    /// from this confusion matrix (true → predicted → count, e.g. the default classifier's
    /// confusion.json); without it classification is perfect
    #[arg(long, requires = "classified_only")]
    pub simulate_confusion: Option<PathBuf>,
    /// With --classified-only: write raw titles as employers write them (slower) instead of the
    /// title's name
    #[arg(long, requires = "classified_only")]
    pub raw_titles: bool,
    /// With --classified-only: write the postings table (DIR/postings/month=YYYY-MM/*.parquet,
    /// raw titles, no descriptions, the true title in `extra`) instead of a classified one, for
    /// `jobshift classify DIR --no-description`: the real classifier at 10M+ postings
    #[arg(
        long,
        requires = "classified_only",
        conflicts_with = "simulate_confusion"
    )]
    pub postings_table: bool,
    /// Also write this share of unique postings as labelled examples (DIR/labels/*.jsonl,
    /// source "synthetic", raw title + description + true title): a stand-in for a crowd-labelled
    /// random sample, for `jobshift eval --labels DIR/labels`, whose confusion matrix
    /// `jobshift report --confusion` corrects with; does not change the postings
    #[arg(long, default_value_t = 0.0)]
    pub labels_rate: f64,
    /// Benchmarking/testing mode: every title's postings per month are its expected count,
    /// rounded deterministically (no sampling noise), so each title's realized change equals
    /// the injected one; real data is noisy, so use it to score a pipeline, not to mimic data
    #[arg(long)]
    pub exact_volumes: bool,
}

impl GenerateArgs {
    /// The corpus these flags describe.
    pub fn options(&self) -> Result<GenerateOptions, GenerateError> {
        let month = |flag: &str, s: &str| {
            s.parse::<YearMonth>()
                .map_err(|e| GenerateError::Options(format!("{flag}: {e}")))
        };
        let taxonomy = match (&self.taxonomy, self.study_sample) {
            (Some(d), _) => TaxonomySource::Dir(d.clone()),
            (None, true) => TaxonomySource::StudySample,
            (None, false) => TaxonomySource::Builtin,
        };
        Ok(GenerateOptions {
            postings: self.postings,
            seed: self.seed,
            from: month("--from", &self.from)?,
            to: month("--to", &self.to)?,
            format: self
                .format
                .parse::<OutputFormat>()
                .map_err(GenerateError::Options)?,
            rates: Rates {
                exact_copy: self.exact_dup_rate,
                near_copy: self.near_dup_rate,
                repost: self.repost_rate,
                malformed: self.malformed_rate,
                ambiguous_title: self.ambiguous_rate,
            },
            companies: self.companies,
            rows_per_file: self.rows_per_file,
            taxonomy,
            exact_volumes: self.exact_volumes,
            labels_rate: self.labels_rate,
        })
    }

    /// With `--classified-only`: how the classified table is written, the confusion matrix of
    /// `--simulate-confusion` read against `catalog`.
    pub fn classified_options(
        &self,
        catalog: &Catalog,
    ) -> Result<ClassifiedOptions, GenerateError> {
        let confusion = match &self.simulate_confusion {
            Some(p) => Some(ConfusionSim::load(p, catalog)?),
            None => None,
        };
        Ok(ClassifiedOptions {
            confusion,
            raw_titles: self.raw_titles,
            postings_table: self.postings_table,
        })
    }
}

//! `jobshift generate`: write a realistic synthetic postings corpus with ground truth
//! (flags and printing only; the work is in jobshift-generate).

use anyhow::Context;
use jobshift_generate::{GenerateOptions, OutputFormat, Rates, TaxonomySource, YearMonth};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(
    after_help = "Writes DIR/postings/part-YYYY-MM-NNN.{parquet,jsonl,csv}, DIR/truth.{parquet,csv} \
(true title, level, seniority, duplicate group and kind per posting_ref), DIR/truth-changes.csv (injected and \
expected changes per title, tier, family and the baseline), DIR/expected-counts.csv and DIR/manifest.json. \
Rerunning with the same options resumes an interrupted run.\n\n\
Example: jobshift generate --postings 1000000 --out corpus --format jsonl && jobshift ingest corpus/postings/*.jsonl --out ds"
)]
pub struct Args {
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
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let from: YearMonth = a
        .from
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--from")?;
    let to: YearMonth = a.to.parse().map_err(anyhow::Error::msg).context("--to")?;
    let format: OutputFormat = a.format.parse().map_err(anyhow::Error::msg)?;
    let taxonomy = match (&a.taxonomy, a.study_sample) {
        (Some(d), _) => TaxonomySource::Dir(d.clone()),
        (None, true) => TaxonomySource::StudySample,
        (None, false) => TaxonomySource::Builtin,
    };
    let opts = GenerateOptions {
        postings: a.postings,
        seed: a.seed,
        from,
        to,
        format,
        rates: Rates {
            exact_copy: a.exact_dup_rate,
            near_copy: a.near_dup_rate,
            repost: a.repost_rate,
            malformed: a.malformed_rate,
            ambiguous_title: a.ambiguous_rate,
        },
        companies: a.companies,
        rows_per_file: a.rows_per_file,
        taxonomy,
    };
    let catalog = jobshift_generate::run::load_catalog_for(&opts.taxonomy)?;
    let bar = indicatif::ProgressBar::new(opts.postings);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} postings ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let cb = |p: &jobshift_generate::Progress| {
        bar.set_position(p.records_written);
        bar.set_message(p.month.to_string());
    };
    let s = jobshift_generate::generate_with(&catalog, &opts, &a.out, Some(&cb))
        .with_context(|| format!("generating into {}", a.out.display()))?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    if s.already_complete {
        println!(
            "{} already holds this corpus (same options); nothing to do.",
            a.out.display()
        );
    }
    println!(
        "wrote {} records to {} ({} months, {} titles, {} companies, taxonomy {}) in {:.1}s",
        s.records,
        a.out.display(),
        s.months,
        s.titles,
        s.companies,
        s.taxonomy_version,
        s.seconds
    );
    println!(
        "  unique postings {} (originals {}, re-posts {}), exact copies {}, near copies {}, malformed {}, ambiguous titles {}",
        s.unique_postings,
        s.totals.originals,
        s.totals.reposts,
        s.totals.exact_copies,
        s.totals.near_copies,
        s.totals.malformed,
        s.totals.ambiguous_titles
    );
    if !s.totals.malformed_by_kind.is_empty() {
        let kinds: Vec<String> = s
            .totals
            .malformed_by_kind
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("  malformed by kind: {}", kinds.join(", "));
    }
    println!(
        "  truth: {}   changes: {}   expected counts: {}",
        a.out.join(&s.truth_file).display(),
        a.out.join(&s.changes_file).display(),
        a.out.join(&s.expected_counts_file).display()
    );
    if !s.missing_study_titles.is_empty() {
        println!(
            "  note: study titles missing from the taxonomy (not injected): {}",
            s.missing_study_titles.join(", ")
        );
    }
    if s.resumed_months > 0 && !s.already_complete {
        println!("  resumed: {} months were already done", s.resumed_months);
    }
    Ok(())
}

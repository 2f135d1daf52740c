//! The command-line flags of `jobshift label sample|serve|import` and the options they describe.
//! Compiled with the `clap` feature, which the `jobshift` binary turns on.

// The doc comments below are `--help` text, where `<name>` is the placeholder convention; rustdoc
// would read it as an unclosed HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use crate::import::{ImportOptions, Method};
use crate::sample::{SampleOptions, Strategy};
use std::path::PathBuf;

/// `jobshift label`.
#[derive(clap::Args)]
pub struct LabelArgs {
    #[command(subcommand)]
    pub command: LabelCommand,
}

#[derive(clap::Subcommand)]
pub enum LabelCommand {
    /// Draw postings to label and write Mechanical Turk + labelling-page task files
    Sample(SampleArgs),
    /// Serve the labelling page for a tasks directory
    Serve(ServeArgs),
    /// Read Mechanical Turk results and page answers, aggregate them, write training labels
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub struct SampleArgs {
    /// Dataset directory (reads classified/ when present, else postings/)
    pub dataset: PathBuf,
    /// Number of tasks to write (postings + gold)
    #[arg(long)]
    pub n: usize,
    /// random | stratified (equal per predicted family) | uncertain (lowest classifier confidence)
    #[arg(long, default_value = "random")]
    pub strategy: Strategy,
    /// Output tasks directory
    #[arg(long)]
    pub out: PathBuf,
    /// Known-answer postings (LabeledExample JSONL) to mix in
    #[arg(long)]
    pub gold: Option<PathBuf>,
    /// Share of the tasks that are gold
    #[arg(long, default_value_t = 0.1)]
    pub gold_rate: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Taxonomy directory to pick titles from (default: the built-in taxonomy)
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Cut descriptions longer than this in the Mechanical Turk CSV (64 KB question limit)
    #[arg(long, default_value_t = 6000)]
    pub mturk_description_max_chars: usize,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Tasks directory written by `jobshift label sample`
    pub tasks_dir: PathBuf,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on (use 0.0.0.0 to reach it from phones on your network)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Annotator tokens: one `ANNOTATOR_ID TOKEN` per line (default TASKS_DIR/tokens.txt,
    /// created with --annotators random tokens when missing)
    #[arg(long)]
    pub tokens: Option<PathBuf>,
    /// Annotators to create tokens for when no tokens file exists
    #[arg(long, default_value_t = 3)]
    pub annotators: usize,
    /// Answers wanted per posting (gold postings go to everyone); 0 = no limit
    #[arg(long, default_value_t = 3)]
    pub per_task: usize,
    /// Taxonomy directory (default: TASKS_DIR/catalog.json, the version the tasks were made with)
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Mechanical Turk results CSVs, labelling tasks directories, or answers.jsonl files
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Output labels (LabeledExample JSONL); the report and rejects go beside it
    #[arg(long)]
    pub out: PathBuf,
    /// Gold answers: a LabeledExample JSONL (by posting id) or a tasks manifest.json
    #[arg(long)]
    pub gold: Option<PathBuf>,
    /// Flag workers whose accuracy (on gold, else estimated) is below this
    #[arg(long, default_value_t = 0.6)]
    pub min_worker_accuracy: f64,
    /// Gold answers a worker needs before gold accuracy is used to flag them
    #[arg(long, default_value_t = 3)]
    pub min_gold_answers: usize,
    /// dawid-skene | majority
    #[arg(long, default_value = "dawid-skene")]
    pub method: Method,
    /// Leave flagged workers' answers out of the aggregation
    #[arg(long)]
    pub exclude_flagged: bool,
    /// Report path (default: <out stem>.report.json)
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Taxonomy directory (default: catalog.json of a tasks directory given, else built-in)
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
}

impl SampleArgs {
    /// The sample these flags describe.
    pub fn options(&self) -> SampleOptions {
        SampleOptions {
            dataset: self.dataset.clone(),
            n: self.n,
            strategy: self.strategy,
            seed: self.seed,
            gold: self.gold.clone(),
            gold_rate: self.gold_rate,
            out: self.out.clone(),
            mturk_description_max_chars: self.mturk_description_max_chars,
        }
    }
}

impl ImportArgs {
    /// The import these flags describe.
    pub fn options(self) -> ImportOptions {
        ImportOptions {
            inputs: self.results,
            out: self.out,
            report: self.report,
            gold: self.gold,
            min_worker_accuracy: self.min_worker_accuracy,
            min_gold_answers: self.min_gold_answers,
            method: self.method,
            exclude_flagged: self.exclude_flagged,
        }
    }
}

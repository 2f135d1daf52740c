//! `jobshift label`: crowd labelling — `sample` tasks from a dataset, `serve` the labelling page,
//! `import` Mechanical Turk results and page answers into training labels.

use anyhow::Context;
use jobshift_label::catalog::TitleCatalog;
use jobshift_label::import::{ImportOptions, Method};
use jobshift_label::sample::{SampleOptions, Strategy};
use jobshift_label::server::{self, ServeConfig};
use jobshift_label::tasks::TasksDir;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Draw postings to label and write Mechanical Turk + labelling-page task files
    Sample(SampleArgs),
    /// Serve the labelling page for a tasks directory
    Serve(ServeArgs),
    /// Read Mechanical Turk results and page answers, aggregate them, write training labels
    Import(ImportArgs),
}

#[derive(clap::Args)]
struct SampleArgs {
    /// Dataset directory (reads classified/ when present, else postings/)
    dataset: PathBuf,
    /// Number of tasks to write (postings + gold)
    #[arg(long)]
    n: usize,
    /// random | stratified (equal per predicted family) | uncertain (lowest classifier confidence)
    #[arg(long, default_value = "random")]
    strategy: Strategy,
    /// Output tasks directory
    #[arg(long)]
    out: PathBuf,
    /// Known-answer postings (LabeledExample JSONL) to mix in
    #[arg(long)]
    gold: Option<PathBuf>,
    /// Share of the tasks that are gold
    #[arg(long, default_value_t = 0.1)]
    gold_rate: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Taxonomy directory to pick titles from (default: the built-in taxonomy)
    #[arg(long)]
    taxonomy: Option<PathBuf>,
    /// Cut descriptions longer than this in the Mechanical Turk CSV (64 KB question limit)
    #[arg(long, default_value_t = 6000)]
    mturk_description_max_chars: usize,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Tasks directory written by `jobshift label sample`
    tasks_dir: PathBuf,
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on (use 0.0.0.0 to reach it from phones on your network)
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Annotator tokens: one `ANNOTATOR_ID TOKEN` per line (default TASKS_DIR/tokens.txt,
    /// created with --annotators random tokens when missing)
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Annotators to create tokens for when no tokens file exists
    #[arg(long, default_value_t = 3)]
    annotators: usize,
    /// Answers wanted per posting (gold postings go to everyone); 0 = no limit
    #[arg(long, default_value_t = 3)]
    per_task: usize,
    /// Taxonomy directory (default: TASKS_DIR/catalog.json, the version the tasks were made with)
    #[arg(long)]
    taxonomy: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// Mechanical Turk results CSVs, labelling tasks directories, or answers.jsonl files
    #[arg(required = true)]
    results: Vec<PathBuf>,
    /// Output labels (LabeledExample JSONL); the report and rejects go beside it
    #[arg(long)]
    out: PathBuf,
    /// Gold answers: a LabeledExample JSONL (by posting id) or a tasks manifest.json
    #[arg(long)]
    gold: Option<PathBuf>,
    /// Flag workers whose accuracy (on gold, else estimated) is below this
    #[arg(long, default_value_t = 0.6)]
    min_worker_accuracy: f64,
    /// Gold answers a worker needs before gold accuracy is used to flag them
    #[arg(long, default_value_t = 3)]
    min_gold_answers: usize,
    /// dawid-skene | majority
    #[arg(long, default_value = "dawid-skene")]
    method: Method,
    /// Leave flagged workers' answers out of the aggregation
    #[arg(long)]
    exclude_flagged: bool,
    /// Report path (default: <out stem>.report.json)
    #[arg(long)]
    report: Option<PathBuf>,
    /// Taxonomy directory (default: catalog.json of a tasks directory given, else built-in)
    #[arg(long)]
    taxonomy: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Sample(a) => sample(a),
        Command::Serve(a) => serve(a),
        Command::Import(a) => import(a),
    }
}

fn sample(a: SampleArgs) -> anyhow::Result<()> {
    let catalog = TitleCatalog::from_taxonomy_source(a.taxonomy.as_deref())?;
    let opts = SampleOptions {
        dataset: a.dataset,
        n: a.n,
        strategy: a.strategy,
        seed: a.seed,
        gold: a.gold,
        gold_rate: a.gold_rate,
        out: a.out.clone(),
        mturk_description_max_chars: a.mturk_description_max_chars,
    };
    let outcome = jobshift_label::sample::sample(&opts, &catalog)?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    print!("{}", outcome.text(&a.out));
    Ok(())
}

fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let dir = TasksDir::new(&a.tasks_dir);
    let catalog = TitleCatalog::for_results(a.taxonomy.as_deref(), &[a.tasks_dir.clone()])?;
    let (annotators, tokens_path, created) =
        server::annotators_for(&dir, a.tokens.as_deref(), a.annotators)?;
    if created {
        println!(
            "created {} with {} annotator tokens",
            tokens_path.display(),
            annotators.len()
        );
    }
    let (state, info) = server::open_app(ServeConfig {
        tasks_dir: a.tasks_dir.clone(),
        annotators: annotators.clone(),
        per_task: a.per_task,
        catalog,
    })?;
    for w in info.warnings(&dir.answers()) {
        eprintln!("warning: {w}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let addr = format!("{}:{}", a.host, a.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (port in use? try --port)"))?;
        let banner = server::Banner {
            addr: listener.local_addr()?,
            info: &info,
            answers: &dir.answers(),
            tokens: &tokens_path,
            annotators: &annotators,
        };
        print!("{banner}");
        server::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")
    })
}

fn import(a: ImportArgs) -> anyhow::Result<()> {
    let catalog = TitleCatalog::for_results(a.taxonomy.as_deref(), &a.results)?;
    let opts = ImportOptions {
        inputs: a.results,
        out: a.out,
        report: a.report,
        gold: a.gold,
        min_worker_accuracy: a.min_worker_accuracy,
        min_gold_answers: a.min_gold_answers,
        method: a.method,
        exclude_flagged: a.exclude_flagged,
    };
    let r = jobshift_label::import::import(&opts, &catalog)?;
    for m in &r.messages {
        eprintln!("note: {m}");
    }
    print!("{r}");
    Ok(())
}

//! `jobshift demo`: the whole pipeline on the built-in corpus, ending in a report.
//!
//! generate (known answers) → ingest → fetch model → train default classifier (cached) →
//! classify → trends (raw and corrected) → report, then score the recovered changes against the
//! generator's ground truth. Every step is resumable: rerunning reuses what is already done.

use anyhow::{bail, Context};
use jobshift_generate::{GenerateOptions, OutputFormat, YearMonth};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Where the corpus, dataset and report go
    #[arg(long, default_value = "jobshift-demo")]
    pub out: PathBuf,
    /// Records in the built-in corpus (a few minutes end to end on 2 cores at the default)
    #[arg(long, default_value_t = 30_000)]
    pub postings: u64,
    /// Seed of the corpus
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Encoder: minilm (fast, default) or mpnet (the study's model)
    #[arg(long, default_value = "minilm")]
    pub model: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let out = args.out;
    let corpus = out.join("corpus");
    let dataset = out.join("dataset");
    let report_dir = out.join("report");

    step(1, "generate the built-in corpus (with ground truth)");
    let gen_opts = GenerateOptions {
        postings: args.postings,
        seed: args.seed,
        from: YearMonth::new(2023, 1),
        to: YearMonth::new(2025, 10),
        format: OutputFormat::Jsonl,
        // a labelled random sample of the corpus (its truth stands in for crowd labels): the
        // classifier's confusion on it is what the trends correction divides out
        labels_rate: LABELLED_SHARE,
        ..GenerateOptions::default()
    };
    let summary = jobshift_generate::generate(&gen_opts, &corpus)
        .with_context(|| format!("generating the demo corpus in {}", corpus.display()))?;
    println!(
        "   {} records ({} unique postings) over {} months, {} titles, {} companies",
        summary.records, summary.unique_postings, summary.months, summary.titles, summary.companies
    );

    step(2, "ingest: validate, normalize, de-duplicate");
    let inputs = postings_files(&corpus.join("postings"))?;
    let ingest_opts = jobshift_ingest::IngestOptions {
        progress: true,
        ..Default::default()
    };
    let rep = jobshift_ingest::ingest(&inputs, &dataset, &ingest_opts)?;
    print!("   {}", indent(&rep.summary()));
    if !rep.accounting_holds() {
        bail!("ingest accounting does not reconcile: {}", rep.summary());
    }

    step(3, &format!("encoder model `{}`", args.model));
    let log = |m: &str| println!("   {m}");
    jobshift_encode::fetch::ensure_installed(&args.model, &log).with_context(|| {
        format!(
            "fetching model `{0}`; try `jobshift model fetch {0}`",
            args.model
        )
    })?;

    step(
        4,
        "default classifier (trained once from the committed taxonomy, then cached)",
    );
    let (clf_dir, trained) = jobshift_classify::classifier_for_model(&args.model)?;
    if let Some(rep) = trained {
        println!(
            "   trained in {:.0} s: head {} on {} examples",
            rep.seconds, rep.chosen_head, rep.train_rows
        );
    }
    let classifier = jobshift_classify::Classifier::load(&clf_dir)?;
    println!("   {}", clf_dir.display());

    step(5, "classify every posting");
    let crep = jobshift_classify::classify_dataset(
        &dataset,
        &classifier,
        &jobshift_classify::ClassifyOptions::default(),
    )?;
    println!("   {} postings classified", crep.rows);

    step(6, "trends and report");
    let confusion = measure_confusion(&classifier, &clf_dir, &corpus.join("labels"), &dataset)?;
    let topts = jobshift_trends::TrendOptions {
        corrected: confusion.is_file(),
        confusion: confusion.is_file().then_some(confusion),
        watch: vec!["medical_scribe".into(), "gtm_engineer".into()],
        ..Default::default()
    };
    let trends = jobshift_trends::analyze(&dataset, &topts)?;
    let paths = jobshift_report::write_report(&trends, &report_dir)?;

    step(7, "how well the pipeline recovered the injected changes");
    score_recovery(&trends, &corpus.join(&summary.changes_file))?;

    println!(
        "\nDone in {:.0} s. Open the report: {}",
        t0.elapsed().as_secs_f64(),
        paths.html.display()
    );
    Ok(())
}

/// Share of the corpus' unique postings in its labelled sample.
const LABELLED_SHARE: f64 = 0.05;

/// The classifier's confusion on the corpus' labelled sample, with the cascade `classify` used
/// (descriptions included): `DATASET/confusion.json`. Falls back to the classifier's held-out
/// matrix (real titles, a different population) when the corpus has no labelled sample.
fn measure_confusion(
    c: &jobshift_classify::Classifier,
    clf_dir: &Path,
    labels: &Path,
    dataset: &Path,
) -> anyhow::Result<PathBuf> {
    if !labels.is_dir() {
        println!("   no labelled sample; correcting with the classifier's held-out matrix");
        return Ok(clf_dir.join("confusion.json"));
    }
    let (s, confusion, _, _, _) =
        jobshift_classify::eval::evaluate_labels(c, &[labels.to_path_buf()], &c.default_options())?;
    println!(
        "   labelled sample: {} postings ({:.0}% of the corpus), exact-title accuracy {:.3}",
        s.n,
        100.0 * LABELLED_SHARE,
        s.exact_title.unwrap_or(f64::NAN)
    );
    let path = dataset.join("confusion.json");
    jobshift_classify::eval::write_confusion(
        &path,
        "classifier confusion on the demo corpus' labelled sample: gold title -> predicted title -> count",
        Some(s.n),
        &confusion,
    )?;
    Ok(path)
}

fn step(n: u32, what: &str) {
    println!("\n[{n}/7] {what}");
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("{l}\n   "))
        .collect::<String>()
        .trim_end()
        .to_string()
        + "\n"
}

fn postings_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no postings files in {}", dir.display());
    }
    Ok(files)
}

/// Compare each ranked title's recovered change with the generator's truth: the change the
/// generator injected, and the change its own (pre-dedup, true-title) counts actually realize.
fn score_recovery(trends: &jobshift_trends::Trends, changes_csv: &Path) -> anyhow::Result<()> {
    let year = trends.latest_year();
    let truth = jobshift_generate::read_change_truth(changes_csv, year)?;
    let errors = jobshift_generate::recovery_errors(
        &truth,
        trends
            .titles
            .iter()
            .filter(|s| s.ranked)
            .map(|s| jobshift_generate::RecoveredTitle {
                id: s.id.clone(),
                raw: s.change.get(&year).copied().flatten(),
                raw_ci95: s.ci95.get(&year).copied().flatten(),
                corrected: s
                    .corrected_change
                    .as_ref()
                    .and_then(|c| c.get(&year).copied().flatten()),
                corrected_ci95: s
                    .corrected_ci95
                    .as_ref()
                    .and_then(|c| c.get(&year).copied().flatten()),
            }),
    );
    if let (Some(Some(g)), Some(t)) = (
        trends.baseline.change.get(&year),
        truth
            .iter()
            .find(|((scope, _), _)| scope == "baseline")
            .map(|(_, t)| t),
    ) {
        println!(
            "   baseline {year}: recovered {:+.1}%, injected {:+.1}%",
            g * 100.0,
            t.injected * 100.0
        );
    }
    let text = errors.to_string();
    if !text.is_empty() {
        print!("   {}", indent(&text));
    }
    Ok(())
}

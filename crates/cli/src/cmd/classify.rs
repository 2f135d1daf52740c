//! `jobshift train|eval|finetune|classify|classify-titles`: flags and printing only; the work is
//! in jobshift-classify.

use super::DeviceArgs;
use anyhow::{bail, Context};
use jobshift_classify::classifier::{CascadeOptions, CascadeStats, Classifier};
use jobshift_classify::{eval, examples, finetune, title_file, train as tr, HeadKind};
use std::path::{Path, PathBuf};

fn classifier_path(arg: &Option<PathBuf>) -> PathBuf {
    arg.clone()
        .unwrap_or_else(|| jobshift_classify::classifier_dir(jobshift_classify::DEFAULT_CLASSIFIER))
}

fn load_classifier(
    arg: &Option<PathBuf>,
    head: Option<HeadKind>,
    device: &DeviceArgs,
) -> anyhow::Result<Classifier> {
    let dir = classifier_path(arg);
    let options = device.load_options(None)?;
    Classifier::load_on(&dir, head, None, options).with_context(|| {
        format!(
            "loading the classifier at {} (train one with `jobshift train`{})",
            dir.display(),
            if arg.is_some() { " --out DIR" } else { "" }
        )
    })
}

fn parse_head(s: &str) -> Result<HeadKind, String> {
    s.parse()
}

/// `--head` when given.
fn optional_head(s: Option<&str>) -> anyhow::Result<Option<HeadKind>> {
    s.map(parse_head).transpose().map_err(anyhow::Error::msg)
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Encoder: minilm, mpnet, a Hugging Face repo id, or a model directory (e.g. a fine-tuned one)
    #[arg(long, default_value = "minilm")]
    pub model: String,
    /// Head: knn (the default: best on validation and on both held-out sets, trained in 0.1 s),
    /// rf (random forest, the study's), logreg, centroid, or auto (train all, keep the best on
    /// validation; all are saved and scored; ~20 CPU-minutes more)
    #[arg(long, default_value = "knn")]
    pub head: String,
    /// Output directory [default: <jobshift cache>/classifiers/<name>]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Name of the classifier (its directory under the cache when --out is not given)
    #[arg(long, default_value = jobshift_classify::DEFAULT_CLASSIFIER)]
    pub name: String,
    /// A taxonomy directory to train for (default: the built-in taxonomy)
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// O*NET alternate titles TSV [default: the copy shipped inside jobshift (O*NET Database,
    /// CC BY 4.0), so every machine trains the same classifier]
    #[arg(long)]
    pub onet_alternates: Option<PathBuf>,
    /// Train without O*NET alternate titles (taxonomy names and aliases + label files only)
    #[arg(long)]
    pub no_onet_alternates: bool,
    /// Human label files (JSONL of labelled examples), repeatable
    #[arg(long = "labels")]
    pub labels: Vec<PathBuf>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Random forest trees
    #[arg(long, default_value_t = 100)]
    pub rf_trees: u16,
    /// Random forest: at most this many training rows per title
    #[arg(long, default_value_t = 10)]
    pub rf_max_per_class: usize,
    /// Random forest: grow the trees on the first N principal components of the embeddings
    /// (0 = the raw embedding; slower)
    #[arg(long, default_value_t = 64)]
    pub rf_pca_dims: usize,
    /// Abstain ("unclassified") below this calibrated confidence [default: chosen on
    /// validation — keep predictions more often right than wrong]
    #[arg(long)]
    pub min_confidence: Option<f32>,
    /// Use the description when the top-2 title margin is below this [default: chosen on
    /// validation — up to where titles, margin band by band, stop being mostly wrong by title
    /// alone]
    #[arg(long)]
    pub ambiguity_margin: Option<f32>,
    /// A dataset directory: its postings whose title is exactly a taxonomy alias (with a
    /// description) train the description head
    #[arg(long)]
    pub postings: Option<PathBuf>,
    /// Skip the held-out evaluation after training
    #[arg(long)]
    pub no_eval: bool,
    /// Directory holding the shared data sets (O*NET, JobBERT, ESCO) [env JOBSHIFT_SHARED_DATA]
    #[arg(long)]
    pub shared_data: Option<PathBuf>,
}

pub fn train(a: TrainArgs) -> anyhow::Result<()> {
    let (heads, auto) = if a.head == "auto" {
        (HeadKind::ALL.to_vec(), true)
    } else {
        (
            vec![parse_head(&a.head).map_err(anyhow::Error::msg)?],
            false,
        )
    };
    let opts = tr::TrainOptions {
        model: a.model,
        heads,
        auto_head: auto,
        out: a
            .out
            .unwrap_or_else(|| jobshift_classify::classifier_dir(&a.name)),
        name: a.name,
        taxonomy_dir: a.taxonomy,
        onet_alternates: a.onet_alternates,
        no_onet_alternates: a.no_onet_alternates,
        label_files: a.labels,
        seed: a.seed,
        params: jobshift_classify::HeadParams {
            seed: a.seed,
            rf_trees: a.rf_trees,
            rf_max_per_class: a.rf_max_per_class,
            rf_pca_dims: a.rf_pca_dims,
            ..Default::default()
        },
        min_confidence: a.min_confidence,
        ambiguity_margin: a.ambiguity_margin,
        evaluate: !a.no_eval,
        shared_data: a.shared_data,
        postings: a.postings,
        ..Default::default()
    };
    let rep = tr::train(&opts)?;
    for lf in &rep.label_files {
        if !lf.rejected.is_empty() {
            eprintln!(
                "{}: {} accepted, {} rejected:",
                lf.file,
                lf.accepted,
                lf.rejected.len()
            );
            for r in lf.rejected.iter().take(20) {
                eprintln!("  {r}");
            }
        }
    }
    print!("{rep}");
    if let Ok(meta) = jobshift_classify::ClassifierMeta::read(&rep.dir) {
        print!("{}", meta.thresholds());
    }
    println!("took {:.1}s", rep.seconds);
    Ok(())
}

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Classifier directory [default: the default classifier in the jobshift cache]
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    /// Head to evaluate: rf, logreg, centroid, knn, all, or the classifier's default
    #[arg(long)]
    pub head: Option<String>,
    /// Turn off the alias step (score the embedding head alone)
    #[arg(long)]
    pub no_alias: bool,
    /// Directory holding the shared data sets [env JOBSHIFT_SHARED_DATA]
    #[arg(long)]
    pub shared_data: Option<PathBuf>,
    /// Write the scores as JSON here, and the confusion matrix beside it as NAME.confusion.json,
    /// leaving the classifier directory untouched (default: eval.json and confusion.json in the
    /// classifier directory, replacing its stored evaluation)
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Show the per-family table and the most-confused pairs
    #[arg(long)]
    pub details: bool,
    /// Measure the description step instead: on posting sets with descriptions (the HN
    /// full-text postings whose header names exactly one taxonomy title, and `--generated`),
    /// score title only / title + description / generic or withheld title + description, and
    /// sweep the ambiguity margin
    #[arg(long)]
    pub descriptions: bool,
    /// A `jobshift generate --format jsonl` output directory: its postings with a generic
    /// title (and, as a control, the others) are scored with --descriptions
    #[arg(long)]
    pub generated: Option<PathBuf>,
    /// Postings per set with --descriptions
    #[arg(long, default_value_t = 400)]
    pub max_postings: usize,
    /// The word that replaces the title in the "generic title" variant (must not be an alias)
    #[arg(long, default_value = "Position")]
    pub generic_title: String,
    /// Ambiguity margins to sweep with --descriptions (classifier's default head)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,0.02,0.05,0.1,0.2,0.3,0.5,1.01"
    )]
    pub margins: Vec<f32>,
    /// Evaluate on your own labelled postings instead: JSONL files of labelled examples (or
    /// directories of them), e.g. crowd labels of a random sample of your corpus
    /// (`jobshift label aggregate`) or `generate --labels-rate`. Scores exact-title accuracy and
    /// writes the confusion matrix by title that `jobshift report --confusion` corrects with
    #[arg(long, num_args = 1..)]
    pub labels: Vec<PathBuf>,
    /// With --labels: classify titles only, as `jobshift classify --no-description` does (the
    /// matrix must describe the same cascade the dataset was classified with)
    #[arg(long, requires = "labels")]
    pub no_description: bool,
    /// With --labels: where to write the confusion matrix [default: confusion.json beside the
    /// first labels path]
    #[arg(long, requires = "labels")]
    pub confusion_out: Option<PathBuf>,
    /// With --labels: also write a copy of the classifier to this directory whose confidence is
    /// re-fitted on these labelled postings (the probability that a prediction is the labelled
    /// title, on *your* population); evaluate it on other labelled postings
    #[arg(long, requires = "labels")]
    pub recalibrate_to: Option<PathBuf>,
    /// With --recalibrate-to: re-fit confidence only; keep every predicted title even where
    /// the labels say it is mostly another title on this population
    #[arg(long, requires = "recalibrate_to")]
    pub no_remap: bool,
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    if !a.labels.is_empty() {
        return eval_labels(&a);
    }
    let dir = classifier_path(&a.classifier);
    let shared = a
        .shared_data
        .clone()
        .or_else(|| std::env::current_dir().ok().and_then(|d| jobshift_classify::find_shared_data(&d)))
        .context("the held-out sets live in the shared data directory; pass --shared-data DIR or set JOBSHIFT_SHARED_DATA")?;
    if a.descriptions {
        return eval_descriptions(&a, &dir, &shared);
    }
    let seen = eval::training_titles(&dir)?;
    let sets = examples::load_held_out(&shared, &seen)?;
    if sets.is_empty() {
        bail!("no held-out sets found under {}", shared.display());
    }
    let heads: Vec<Option<HeadKind>> = match a.head.as_deref() {
        None => vec![None],
        Some("all") => trained_heads(&dir),
        Some(h) => vec![Some(parse_head(h).map_err(anyhow::Error::msg)?)],
    };
    let (rows, confusion) = eval::held_out(&dir, &sets, &heads, !a.no_alias, |head| {
        load_classifier(&a.classifier, head, &a.device)
    })?;
    print!("{}", eval::render_table(&rows));
    for r in &rows {
        println!("{}", r.steps_line());
        if a.details {
            print!("{}", r.details());
        }
    }
    // Without --json the evaluation refreshes the classifier's stored one (eval.json and the
    // confusion.json that `report --corrected` reads). With --json it is a side measurement (a
    // benchmark, another head): both files go where the user pointed, and the classifier
    // directory is left as it was.
    let (out, confusion_out) = match &a.json {
        Some(p) => (p.clone(), p.with_extension("confusion.json")),
        None => (dir.join("eval.json"), dir.join("confusion.json")),
    };
    if confusion.is_empty() {
        jobshift_core::atomic::write_json(&out, &rows)
            .with_context(|| format!("writing {}", out.display()))?;
    } else {
        tr::write_eval_to(&out, &confusion_out, &rows, &confusion)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    println!(
        "scores written to {}; confusion matrix in {}",
        out.display(),
        confusion_out.display()
    );
    Ok(())
}

/// `jobshift eval --labels`: the classifier on the user's own labelled postings, with the
/// cascade `jobshift classify` uses; writes scores and the confusion matrix by title.
fn eval_labels(a: &EvalArgs) -> anyhow::Result<()> {
    let head = optional_head(a.head.as_deref())?;
    let mut c = load_classifier(&a.classifier, head, &a.device)?;
    if a.recalibrate_to.is_some() {
        // fit on the confidences without any earlier re-fit
        c.meta.recalibration = None;
    }
    let opts = CascadeOptions {
        use_alias: !a.no_alias,
        use_description: !a.no_description && c.default_options().use_description,
        ..c.default_options()
    };
    let study = eval::label_study(
        &c,
        &a.labels,
        &opts,
        a.confusion_out.clone(),
        a.json.clone(),
    )?;
    for r in &study.reports {
        println!("{}: {} labelled examples", r.file, r.accepted);
        for line in r.rejected.iter().take(5) {
            eprintln!("  rejected {line}");
        }
        if r.rejected.len() > 5 {
            eprintln!("  ... {} rejected lines in all", r.rejected.len());
        }
    }
    let scores = &study.scores;
    print!("{}", eval::render_table(std::slice::from_ref(scores)));
    println!("{}", scores.labels_line());
    if a.details {
        println!("  most confused (gold → predicted):");
        for p in scores.most_confused.iter().take(15) {
            println!("    {:>5}  {} → {}", p.count, p.gold, p.predicted);
        }
    }
    if let Some(to) = &a.recalibrate_to {
        let meta = jobshift_classify::write_recalibrated_classifier(
            &classifier_path(&a.classifier),
            to,
            c.meta.head,
            &scores.outcomes,
            a.labels.iter().map(|p| p.display().to_string()).collect(),
            !a.no_remap,
        )?;
        println!(
            "recalibrated classifier: {} (alias confidence {:.3} → {:.3}, min_confidence {:.3} → {:.3})",
            to.display(),
            c.meta.alias_confidence,
            meta.alias_confidence,
            c.meta.min_confidence,
            meta.min_confidence
        );
        for (from, r) in meta.recalibration.iter().flat_map(|r| &r.remap) {
            println!(
                "  remapped {from} → {}: {} of {} labelled postings predicted {from} were labelled {}, {} {from}",
                r.to, r.labelled_to, r.predicted, r.to, r.labelled_same
            );
        }
    }
    println!(
        "confusion matrix: {} (use: jobshift report DATASET --confusion {0})\nscores: {}",
        study.confusion_path.display(),
        study.scores_path.display()
    );
    Ok(())
}

/// The heads a classifier directory holds, with a note for each head it lacks.
fn trained_heads(dir: &Path) -> Vec<Option<HeadKind>> {
    let (have, missing) = eval::trained_heads(dir);
    for h in missing {
        eprintln!(
            "note: {} has no {} head (not trained); skipped",
            dir.display(),
            h.as_str()
        );
    }
    have
}

/// `jobshift eval --descriptions`: the description step on posting sets with descriptions.
fn eval_descriptions(a: &EvalArgs, dir: &Path, shared: &Path) -> anyhow::Result<()> {
    let heads: Vec<Option<HeadKind>> = match a.head.as_deref() {
        None => vec![None],
        Some("all") => trained_heads(dir),
        Some(h) => vec![Some(parse_head(h).map_err(anyhow::Error::msg)?)],
    };
    let first = load_classifier(&a.classifier, heads[0], &a.device)?;
    let (sets, notes) = examples::description_sets(
        first.taxonomy(),
        shared,
        a.generated.as_deref(),
        &a.generic_title,
        a.max_postings,
    )?;
    for n in notes {
        eprintln!("note: {n}");
    }
    if sets.is_empty() {
        bail!("no posting set with descriptions (HN full text not found; pass --generated DIR)");
    }
    for s in &sets {
        println!("{}: {} postings", s.name, s.items.len());
    }
    drop(first);
    let mut load = |head: Option<HeadKind>| {
        load_classifier(&a.classifier, head, &a.device)
            .map_err(|e| jobshift_classify::ClassifyError::Format(format!("{e:#}")))
    };
    let eval::DescriptionStudy { mut rows, sweep } = eval::description_study(
        &mut load,
        &sets,
        &heads,
        &a.generic_title,
        &a.margins,
        &mut |set, head| eprintln!("  {set} / {head}: done"),
    )?;
    println!("description step (exact = predicted title is the gold title; desc% = share decided by the description step):");
    print!("{}", eval::render_posting_table(&rows));
    println!(
        "ambiguity-margin sweep ({} head):",
        sweep.first().map(|r| r.head.as_str()).unwrap_or("-")
    );
    print!("{}", eval::render_posting_table(&sweep));
    let out = a
        .json
        .clone()
        .unwrap_or_else(|| dir.join("eval_descriptions.json"));
    rows.extend(sweep);
    jobshift_core::atomic::write_json(&out, &rows)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("scores written to {}", out.display());
    Ok(())
}

#[derive(clap::Args)]
pub struct FinetuneArgs {
    /// Base encoder directory or name: BERT-family (e.g. minilm) or MPNet (e.g. mpnet)
    #[arg(long, default_value = "minilm")]
    pub model: String,
    /// Where to train: cpu, or cuda / cuda:N in a build with `--features cuda`
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Training runs in f32 (the only accepted value: mixed-precision training is not
    /// implemented; f16/bf16 are for the inference commands)
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Where to write the fine-tuned model [default: <jobshift cache>/models/<base>-finetuned]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Training examples (JSONL) [default: train.jsonl of the default classifier — its
    /// training split only, never validation or the held-out sets]
    #[arg(long)]
    pub examples: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Pairs per step (distinct titles; the other positives are each anchor's negatives)
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 2e-5)]
    pub lr: f64,
    /// Stop after this many steps (0 = all)
    #[arg(long, default_value_t = 0)]
    pub max_steps: usize,
    /// Anchors per title per epoch
    #[arg(long, default_value_t = 8)]
    pub max_per_title: usize,
    /// Token limit per text
    #[arg(long, default_value_t = 64)]
    pub max_len: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn finetune(a: FinetuneArgs) -> anyhow::Result<()> {
    let dtype = jobshift_encode::parse_dtype(&a.dtype)?;
    if dtype != jobshift_encode::DType::F32 {
        bail!(
            "--dtype {}: finetune trains in f32 only (mixed-precision training is not implemented); \
             use --dtype f16/bf16 with embed, classify, classify-titles, eval and model bench",
            a.dtype
        );
    }
    let examples = a.examples.unwrap_or_else(|| {
        jobshift_classify::classifier_dir(jobshift_classify::DEFAULT_CLASSIFIER).join("train.jsonl")
    });
    if !examples.is_file() {
        bail!(
            "{}: no training examples (run `jobshift train` first, or pass --examples FILE)",
            examples.display()
        );
    }
    let out = a.out.unwrap_or_else(|| {
        let base = Path::new(&a.model)
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or(a.model.clone());
        jobshift_classify::cache_root()
            .join("models")
            .join(format!("{base}-finetuned"))
    });
    let opts = finetune::FinetuneOptions {
        model: a.model,
        examples,
        out,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        max_steps: a.max_steps,
        max_per_title: a.max_per_title,
        max_len: a.max_len,
        seed: a.seed,
        progress: true,
        device: a.device,
    };
    let rep = finetune::finetune(&opts)?;
    print!("{rep}");
    Ok(())
}

/// Texts per encoder call on a GPU (the encoder batches them by length, 512 at a time).
const GPU_TEXTS_PER_CALL: usize = 16384;

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Dataset directory (reads DATASET_DIR/postings, writes DATASET_DIR/classified), or
    /// s3://BUCKET/PREFIX (classified in a working copy under the jobshift cache, then
    /// published; see docs/cluster.md)
    pub dataset_dir: PathBuf,
    /// Classifier directory [default: the default classifier in the jobshift cache]
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Reclassify everything even if the manifest says it is done
    #[arg(long)]
    pub force: bool,
    /// Skip the description step
    #[arg(long)]
    pub no_description: bool,
    /// Override the abstention threshold (calibrated confidence)
    #[arg(long)]
    pub min_confidence: Option<f32>,
    /// Override the ambiguity margin that triggers the description step
    #[arg(long)]
    pub ambiguity_margin: Option<f32>,
    /// With --cluster: the executors classify the postings (each loads the classifier once,
    /// from the same path, on its CPU) and this machine writes DATASET_DIR/classified
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

impl ClassifyArgs {
    /// Whether a flag changes the classifier's own cascade options.
    fn overrides_cascade(&self) -> bool {
        self.no_description || self.min_confidence.is_some() || self.ambiguity_margin.is_some()
    }

    /// `--no-description`, `--min-confidence` and `--ambiguity-margin` applied to `c`.
    fn override_cascade(&self, c: &mut CascadeOptions) {
        c.use_description = !self.no_description;
        if let Some(m) = self.min_confidence {
            c.min_confidence = m;
        }
        if let Some(m) = self.ambiguity_margin {
            c.ambiguity_margin = m;
        }
    }
}

/// Postings files a cluster classifies at once (each is one query; a file is one task).
const CLUSTER_FILES_IN_FLIGHT: usize = 8;

/// `jobshift classify --cluster`: the cascade runs on the executors.
fn classify_on_cluster(a: &ClassifyArgs, url: &jobshift_cluster::ClusterUrl) -> anyhow::Result<()> {
    if a.device.is_gpu()? {
        bail!(
            "--device applies to a local run: on a cluster the executors run the encoder on \
             their CPUs; leave --device out, or classify locally on the GPU"
        );
    }
    let dir = classifier_path(&a.classifier);
    let mut cascade = None;
    if a.overrides_cascade() {
        let meta = jobshift_classify::ClassifierMeta::read(&dir)
            .with_context(|| format!("reading the classifier at {}", dir.display()))?;
        let mut c = CascadeOptions::defaults_for(&meta);
        a.override_cascade(&mut c);
        cascade = Some(c);
    }
    let target = super::write_target(&a.dataset_dir, "classify --cluster")?;
    let opts = jobshift_cluster::classify::ClusterClassifyOptions {
        classifier_dir: dir,
        cascade,
        force: a.force,
        files_in_flight: CLUSTER_FILES_IN_FLIGHT,
        progress: true,
        read_from: target.url().map(|u| u.to_string()),
    };
    let dataset = target.dir().to_path_buf();
    let rep = super::cluster::on_cluster(url, a.cluster.cluster_timeout, |ctx| async move {
        jobshift_cluster::classify::classify_dataset(&ctx, &dataset, &opts).await
    })?;
    print!("{}", rep.summary(target.dir()));
    println!("  (classified on the cluster {url})");
    target.finish(&mut |m| println!("{m}"))?;
    Ok(())
}

pub fn classify(a: ClassifyArgs) -> anyhow::Result<()> {
    if let Some(url) = &a.cluster.cluster {
        return classify_on_cluster(&a, url);
    }
    let c = load_classifier(&a.classifier, None, &a.device)?;
    let mut cascade = c.default_options();
    let on_gpu = a.device.is_gpu()?;
    if on_gpu {
        // hand the encoder many texts per call: it sorts them by length into full GPU batches
        cascade.batch_size = GPU_TEXTS_PER_CALL;
    }
    a.override_cascade(&mut cascade);
    let opts = jobshift_classify::ClassifyOptions {
        cascade: Some(cascade),
        force: a.force,
        chunk_rows: if on_gpu {
            4 * GPU_TEXTS_PER_CALL
        } else {
            jobshift_classify::ClassifyOptions::default().chunk_rows
        },
        ..Default::default()
    };
    let target = super::write_target(&a.dataset_dir, "classify")?;
    let rep = jobshift_classify::classify_dataset(target.dir(), &c, &opts)?;
    print!("{}", rep.summary(target.dir()));
    target.finish(&mut |m| println!("{m}"))?;
    Ok(())
}

#[derive(clap::Args)]
pub struct ClassifyTitlesArgs {
    /// One raw title per line, or JSONL objects with "title" and optional "description"
    #[arg(long)]
    pub input: PathBuf,
    /// Output JSONL, one object per input line, in order
    #[arg(long)]
    pub output: PathBuf,
    /// Classifier directory [default: the default classifier in the jobshift cache]
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Head to use instead of the classifier's default (rf, logreg, centroid, knn)
    #[arg(long)]
    pub head: Option<String>,
    /// Override the abstention threshold (calibrated confidence)
    #[arg(long)]
    pub min_confidence: Option<f32>,
}

pub fn classify_titles(a: ClassifyTitlesArgs) -> anyhow::Result<()> {
    let head = optional_head(a.head.as_deref())?;
    let c = load_classifier(&a.classifier, head, &a.device)?;
    let records = title_file::read_title_file(&a.input)?;
    let mut opts = c.default_options();
    if let Some(m) = a.min_confidence {
        opts.min_confidence = m;
    }
    let mut cache = c.new_cache();
    let mut stats = CascadeStats::default();
    let started = std::time::Instant::now();
    let out = title_file::classify_records(&c, &records, &mut cache, &opts, &mut stats)?;
    title_file::write_predictions(&a.output, &c, &records, &out)?;
    eprintln!(
        "{} titles → {} ({} by alias, {} embedded, {} by description, {} unclassified)",
        out.len(),
        a.output.display(),
        stats.alias_hits,
        stats.title_embedded,
        stats.description_used,
        stats.unclassified
    );
    eprintln!(
        "  title field names no role: {}; role read from the description: {}; description alone: {}; several roles: {}; title before a separator: {}; specialty of a lead: {}",
        stats.not_a_title, stats.role_from_description, stats.description_only, stats.several_roles, stats.leading_title, stats.lead_specialty
    );
    if stats.remapped > 0 {
        eprintln!("  moved by the re-fit's remap: {}", stats.remapped);
    }
    eprint!("{}", stats.step_times(started.elapsed().as_secs_f64()));
    Ok(())
}

//! The command-line flags of `jobshift train`, `eval`, `finetune`, `classify` and
//! `classify-titles`, and the options they describe. Compiled with the `clap` feature, which the
//! `jobshift` binary turns on; the binary's `cmd/classify.rs` only runs and prints.

// The doc comments below are `--help` text, where `<name>` is the placeholder convention; rustdoc
// would read it as an unclosed HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use crate::classifier::{CascadeOptions, Classifier};
use crate::seniority::CleaningRule;
use crate::{finetune, train, ClassifyError, ClassifyOptions, HeadKind};
use jobshift_encode::flags::DeviceArgs;
use std::path::{Path, PathBuf};

/// `jobshift train`.
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
    #[arg(long, default_value = crate::DEFAULT_CLASSIFIER)]
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
    /// Also train on the job-ad titles shipped inside jobshift (the JobBERT validation split,
    /// TechWolf, Apache-2.0: Malaysian and South-East Asian English-language ads; always on the
    /// training side, never choosing thresholds). Off by default: see docs/classifier.md
    #[arg(long)]
    pub vacancy_titles: bool,
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
/// `jobshift eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Classifier directory [default: the default classifier in the jobshift cache, trained on first use and again when this jobshift trains it another way or for another taxonomy]
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    /// Head to evaluate: rf, logreg, centroid, knn, all, or the classifier's default
    #[arg(long)]
    pub head: Option<String>,
    /// Turn off the alias step (score the embedding head alone)
    #[arg(long)]
    pub no_alias: bool,
    /// Measure title cleaning: clean the held-out titles without these rules (comma-separated:
    /// html, web-addresses, brackets, separators, seniority, work-arrangement, gender, salary,
    /// requisition, non-titles, several-roles, other-scripts, head-words). Needs --json, so the classifier's stored evaluation stays that of its real
    /// cleaning
    #[arg(long, value_delimiter = ',', requires = "json")]
    pub skip_cleaning: Vec<CleaningRule>,
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
    /// With --recalibrate-to and --no-population-head: re-fit confidence only; keep every
    /// predicted title even where the labels say it is mostly another title on this population
    /// (a re-fit with a population head has no remap: the head learns it)
    #[arg(long, requires = "recalibrate_to")]
    pub no_remap: bool,
    /// With --recalibrate-to: fit no population head (the re-fit's step 6: a logistic
    /// regression on the labelled postings that reads each posting's title, the cascade's
    /// answer and, where it abstained, the description); the remap then applies instead
    #[arg(long, alias = "no-neighbours", requires = "recalibrate_to")]
    pub no_population_head: bool,
}
/// `jobshift finetune`.
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
    /// Give each anchor a hard negative: a text of one of the N titles nearest to its own (in
    /// the base encoder) that is not in the batch (0 = in-batch negatives only)
    #[arg(long, default_value_t = 0)]
    pub hard_negatives: usize,
}
/// `jobshift classify` (the `jobshift` binary adds `--cluster`).
#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Dataset directory (reads DATASET_DIR/postings, writes DATASET_DIR/classified), or
    /// s3://BUCKET/PREFIX (classified in a working copy under the jobshift cache, then
    /// published; see docs/cluster.md)
    pub dataset_dir: PathBuf,
    /// Classifier directory [default: the default classifier in the jobshift cache, trained on first use and again when this jobshift trains it another way or for another taxonomy]
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
    /// Classify a posting whose title names no role, and whose text names no taxonomy title,
    /// from its description's embedding alone even when the classifier has no description
    /// calibration (by default such a posting abstains: `not_a_title`; see docs/classifier.md)
    #[arg(long, conflicts_with = "no_description")]
    pub description_alone: bool,
}

impl ClassifyArgs {
    /// Whether a flag changes the classifier's own cascade options.
    pub fn overrides_cascade(&self) -> bool {
        self.no_description
            || self.description_alone
            || self.min_confidence.is_some()
            || self.ambiguity_margin.is_some()
    }

    /// `--no-description`, `--description-alone`, `--min-confidence` and `--ambiguity-margin`
    /// applied to `c`.
    pub fn override_cascade(&self, c: &mut CascadeOptions) {
        c.use_description = !self.no_description;
        c.description_alone |= self.description_alone;
        if let Some(m) = self.min_confidence {
            c.min_confidence = m;
        }
        if let Some(m) = self.ambiguity_margin {
            c.ambiguity_margin = m;
        }
    }

    /// The cascade of the classifier in `dir` with these flags' overrides, or `None` when no
    /// flag overrides it (a cluster's executors then use the classifier's own).
    pub fn cascade_override(&self, dir: &Path) -> Result<Option<CascadeOptions>, ClassifyError> {
        if !self.overrides_cascade() {
            return Ok(None);
        }
        let meta = crate::ClassifierMeta::read(dir)?;
        let mut c = CascadeOptions::defaults_for(&meta);
        self.override_cascade(&mut c);
        Ok(Some(c))
    }

    /// A local run's options with classifier `c`: its cascade with these flags' overrides, and
    /// on a GPU many texts per encoder call (it sorts them by length into full GPU batches).
    pub fn options(&self, c: &Classifier) -> Result<ClassifyOptions, ClassifyError> {
        let mut cascade = c.default_options();
        let on_gpu = self.device.is_gpu()?;
        if on_gpu {
            cascade.batch_size = GPU_TEXTS_PER_CALL;
        }
        self.override_cascade(&mut cascade);
        Ok(ClassifyOptions {
            cascade: Some(cascade),
            force: self.force,
            chunk_rows: if on_gpu {
                4 * GPU_TEXTS_PER_CALL
            } else {
                ClassifyOptions::default().chunk_rows
            },
            ..Default::default()
        })
    }
}

/// Texts per encoder call on a GPU (the encoder batches them by length, 512 at a time).
const GPU_TEXTS_PER_CALL: usize = 16384;

/// `jobshift classify-titles`.
#[derive(clap::Args)]
pub struct ClassifyTitlesArgs {
    /// One raw title per line, or JSONL objects with "title" and optional "description"
    #[arg(long)]
    pub input: PathBuf,
    /// Output JSONL, one object per input line, in order
    #[arg(long)]
    pub output: PathBuf,
    /// Classifier directory [default: the default classifier in the jobshift cache, trained on first use and again when this jobshift trains it another way or for another taxonomy]
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
    /// As `jobshift classify --description-alone`
    #[arg(long)]
    pub description_alone: bool,
    /// Measure title cleaning: clean the titles without these rules (as `jobshift eval
    /// --skip-cleaning`)
    #[arg(long, value_delimiter = ',')]
    pub skip_cleaning: Vec<CleaningRule>,
}

/// `--head`: a head's name.
fn parse_head(s: &str) -> Result<HeadKind, ClassifyError> {
    s.parse().map_err(ClassifyError::Format)
}

/// `--classifier`, or the default classifier in the jobshift cache — a cache: trained on first
/// use, and again when this jobshift trains it another way or for another taxonomy, unless it
/// was trained with options of its own ([`train::train_default`]).
pub fn classifier_path(arg: Option<&Path>) -> Result<PathBuf, ClassifyError> {
    match arg {
        Some(dir) => Ok(dir.to_path_buf()),
        None => train::train_default(false, true),
    }
}

impl TrainArgs {
    /// The training these flags describe.
    pub fn options(self) -> Result<train::TrainOptions, ClassifyError> {
        let (heads, auto_head) = if self.head == "auto" {
            (HeadKind::ALL.to_vec(), true)
        } else {
            (vec![parse_head(&self.head)?], false)
        };
        Ok(train::TrainOptions {
            model: self.model,
            heads,
            auto_head,
            out: self
                .out
                .unwrap_or_else(|| crate::classifier_dir(&self.name)),
            name: self.name,
            taxonomy_dir: self.taxonomy,
            onet_alternates: self.onet_alternates,
            no_onet_alternates: self.no_onet_alternates,
            vacancy_titles: self.vacancy_titles,
            label_files: self.labels,
            seed: self.seed,
            params: crate::HeadParams {
                seed: self.seed,
                rf_trees: self.rf_trees,
                rf_max_per_class: self.rf_max_per_class,
                rf_pca_dims: self.rf_pca_dims,
                ..Default::default()
            },
            min_confidence: self.min_confidence,
            ambiguity_margin: self.ambiguity_margin,
            evaluate: !self.no_eval,
            shared_data: self.shared_data,
            postings: self.postings,
            ..Default::default()
        })
    }
}

/// `--head` when given.
fn optional_head(head: Option<&str>) -> Result<Option<HeadKind>, ClassifyError> {
    head.map(parse_head).transpose()
}

impl ClassifyTitlesArgs {
    /// `--head` when given.
    pub fn head(&self) -> Result<Option<HeadKind>, ClassifyError> {
        optional_head(self.head.as_deref())
    }
}

impl EvalArgs {
    /// `--head` when given.
    pub fn head(&self) -> Result<Option<HeadKind>, ClassifyError> {
        optional_head(self.head.as_deref())
    }

    /// The heads to evaluate: the classifier's default, the one `--head` names, or with
    /// `--head all` every head `dir` holds (with the names of those it lacks).
    pub fn heads(
        &self,
        dir: &Path,
    ) -> Result<(Vec<Option<HeadKind>>, Vec<HeadKind>), ClassifyError> {
        Ok(match self.head.as_deref() {
            None => (vec![None], vec![]),
            Some("all") => crate::eval::trained_heads(dir),
            Some(h) => (vec![Some(parse_head(h)?)], vec![]),
        })
    }
}

impl FinetuneArgs {
    /// The fine-tuning these flags describe: the default classifier's training split and a
    /// `<base>-finetuned` model directory in the cache unless `--examples` / `--out` say
    /// otherwise. Training runs in f32 only.
    pub fn options(self) -> Result<finetune::FinetuneOptions, ClassifyError> {
        let dtype = jobshift_encode::parse_dtype(&self.dtype)?;
        if dtype != jobshift_encode::DType::F32 {
            return Err(ClassifyError::Format(format!(
                "--dtype {}: finetune trains in f32 only (mixed-precision training is not implemented); \
                 use --dtype f16/bf16 with embed, classify, classify-titles, eval and model bench",
                self.dtype
            )));
        }
        let examples = self.examples.unwrap_or_else(|| {
            crate::classifier_dir(crate::DEFAULT_CLASSIFIER).join("train.jsonl")
        });
        if !examples.is_file() {
            return Err(ClassifyError::Format(format!(
                "{}: no training examples (run `jobshift train` first, or pass --examples FILE)",
                examples.display()
            )));
        }
        let out = self.out.unwrap_or_else(|| {
            let base = Path::new(&self.model)
                .file_name()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or(self.model.clone());
            crate::cache_root()
                .join("models")
                .join(format!("{base}-finetuned"))
        });
        Ok(finetune::FinetuneOptions {
            model: self.model,
            examples,
            out,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            max_steps: self.max_steps,
            max_per_title: self.max_per_title,
            max_len: self.max_len,
            seed: self.seed,
            hard_negatives: self.hard_negatives,
            progress: true,
            device: self.device,
        })
    }
}

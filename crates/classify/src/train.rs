//! Training: assemble examples, embed cleaned titles, fit every requested head, calibrate on a
//! validation split held out by title, pick the default head by validation accuracy, write the
//! classifier directory, and (when the shared data is present) score every head on the
//! held-out real titles.

use crate::calibrate::{
    coverage_at_precision, coverage_precision_curve, expected_calibration_error,
    net_correct_threshold, Isotonic, OperatingPoint,
};
use crate::classifier::{CascadeOptions, Classifier, ClassifierMeta};
use crate::embed_cache::EmbedCache;
use crate::eval::{self, Confusion, SetScores};
use crate::examples::{self, EvalSet};
use crate::heads::{top_k, Head, HeadKind, HeadParams};
use crate::seniority::clean_title;
use crate::ClassifyError;
use jobshift_core::labels::{LabelSource, LabeledExample};
use jobshift_taxonomy::Taxonomy;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Encoder: "minilm", "mpnet", an HF repo id or a model directory.
    pub model: String,
    /// Heads to train; the first is used when `auto_head` is false.
    pub heads: Vec<HeadKind>,
    /// Pick the default head by validation accuracy among `heads`.
    pub auto_head: bool,
    /// Output directory (the classifier directory).
    pub out: PathBuf,
    pub name: String,
    pub taxonomy_dir: Option<PathBuf>,
    /// O*NET alternate titles TSV; `None` = the copy shipped in the binary
    /// ([`examples::SHIPPED_ONET_ALTERNATES`]).
    pub onet_alternates: Option<PathBuf>,
    /// Do not use O*NET alternate titles even if present.
    pub no_onet_alternates: bool,
    /// Also train on the job-ad titles shipped in the binary (the JobBERT validation split,
    /// [`examples::shipped_vacancy_title_examples`]); off in the default classifier (measured
    /// in docs/classifier.md, "Training data").
    pub vacancy_titles: bool,
    /// Human label files (JSONL of `LabeledExample`).
    pub label_files: Vec<PathBuf>,
    pub seed: u64,
    pub val_fraction: f64,
    pub params: HeadParams,
    /// Use the description when the top-2 title margin is below this; `None` = chosen on
    /// validation ([`choose_ambiguity_margin`]).
    pub ambiguity_margin: Option<f32>,
    /// Abstain below this calibrated confidence; `None` = chosen on validation
    /// ([`net_correct_threshold`] over the whole cascade).
    pub min_confidence: Option<f32>,
    /// Shared data dir for the held-out evaluation (None = search; skipped when absent).
    pub shared_data: Option<PathBuf>,
    pub evaluate: bool,
    /// Write the training / validation examples as JSONL next to the classifier
    /// (for the Python reference script).
    pub export_examples: bool,
    /// A dataset directory whose postings with an exact alias title (and a description) train
    /// the description head (`AliasMatchedPosting` examples).
    pub postings: Option<PathBuf>,
    /// At most this many alias-matched postings per title.
    pub postings_per_title: usize,
    /// Print progress.
    pub progress: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            model: "minilm".into(),
            // kNN: best on validation and on both held-out sets, and trained in 0.1 s
            // (docs/classifier.md, "Heads"); `--head auto` trains and compares all four
            heads: vec![HeadKind::Knn],
            auto_head: false,
            out: crate::classifier_dir(crate::DEFAULT_CLASSIFIER),
            name: crate::DEFAULT_CLASSIFIER.into(),
            taxonomy_dir: None,
            onet_alternates: None,
            no_onet_alternates: false,
            vacancy_titles: false,
            label_files: Vec::new(),
            seed: 42,
            val_fraction: 0.15,
            params: HeadParams::default(),
            ambiguity_margin: None,
            min_confidence: None,
            shared_data: None,
            evaluate: true,
            export_examples: true,
            postings: None,
            postings_per_title: 50,
            progress: true,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HeadValidation {
    pub head: String,
    pub train_seconds: f64,
    pub predict_seconds: f64,
    pub val_top1: f64,
    pub val_top5: f64,
    pub val_ece_calibrated: f64,
    pub threshold_at_80: f32,
    pub coverage_at_80: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub dir: PathBuf,
    pub model_id: String,
    pub taxonomy_version: String,
    pub chosen_head: String,
    pub examples: BTreeMap<String, usize>,
    pub train_rows: usize,
    pub val_rows: usize,
    pub label_files: Vec<examples::LabelFileReport>,
    pub onet_rows_without_title: usize,
    pub heads: Vec<HeadValidation>,
    pub held_out: Vec<SetScores>,
    pub seconds: f64,
}

fn say(on: bool, msg: &str) {
    if on {
        eprintln!("{msg}");
    }
}

pub use crate::embed_cache::embed_all;

/// What a classifier was trained on, recorded in `classifier.json` (`scores.training_data`) and
/// printed by `jobshift train`: the source of the O*NET alternate titles and blake3 hashes of
/// the source bytes, of all examples and of each side of the split. Two machines that build the
/// same default classifier print the same hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TrainingData {
    /// `builtin:…` (shipped in the binary), a file path, or `none`.
    pub onet_alternates: String,
    /// blake3 of the (decompressed) O*NET alternate titles file; empty when none.
    pub onet_alternates_blake3: String,
    /// The shipped vacancy titles: read, kept as examples, and left out (`--vacancy-titles`;
    /// zeros when not used).
    #[serde(default)]
    pub vacancy_titles: examples::VacancyTitleCounts,
    pub examples: usize,
    pub examples_blake3: String,
    pub train_rows: usize,
    pub train_blake3: String,
    pub validation_rows: usize,
    pub validation_blake3: String,
}

/// blake3 over the (title, title id, source) of each example, in order.
pub fn examples_hash(examples: &[LabeledExample]) -> String {
    let mut h = blake3::Hasher::new();
    for e in examples {
        h.update(e.title.as_bytes());
        h.update(b"\t");
        h.update(e.title_id.as_bytes());
        h.update(b"\t");
        h.update(format!("{:?}", e.source).as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

/// The training examples and their split, exactly as [`train`] builds them (no encoder needed).
pub struct TrainingSet {
    pub train: Vec<LabeledExample>,
    pub validation: Vec<LabeledExample>,
    /// Normalized titles of every example (what held-out sets must not contain).
    pub seen: std::collections::HashSet<String>,
    pub counts: BTreeMap<String, usize>,
    pub label_reports: Vec<examples::LabelFileReport>,
    pub onet_rows_without_title: usize,
    pub record: TrainingData,
}

/// What [`collect_examples`] returns.
pub(crate) struct CollectedExamples {
    pub examples: Vec<LabeledExample>,
    pub label_reports: Vec<examples::LabelFileReport>,
    /// O*NET alternate titles whose occupation counts under no taxonomy title.
    pub onet_unmapped: usize,
    /// The O*NET file's source name and blake3 hash (`("none", "")` when not used).
    pub onet_source: (String, String),
    pub vacancy_titles: examples::VacancyTitleCounts,
}

/// Collect all training examples the options ask for: the taxonomy's names and aliases, the
/// O*NET alternate titles (the ones shipped in the binary unless `--onet-alternates FILE` is
/// given; a given file that is missing is an error, never a silent fallback), the vacancy titles
/// shipped in the binary, and label files.
pub(crate) fn collect_examples(
    tax: &Taxonomy,
    opts: &TrainOptions,
) -> Result<CollectedExamples, ClassifyError> {
    let mut ex = examples::taxonomy_examples(tax);
    let mut unmapped = 0;
    let mut source = ("none".to_string(), String::new());
    if !opts.no_onet_alternates {
        let (alt, u) = match &opts.onet_alternates {
            Some(p) => {
                if !p.is_file() {
                    return Err(ClassifyError::Format(format!(
                        "--onet-alternates {}: no such file (O*NET \"Alternate Titles\" TSV); leave the option out to train on the O*NET alternate titles shipped with jobshift",
                        p.display()
                    )));
                }
                let bytes = std::fs::read(p).map_err(|e| ClassifyError::io(p, e))?;
                source = (
                    p.display().to_string(),
                    blake3::hash(&bytes).to_hex().to_string(),
                );
                examples::onet_alternate_examples_from(
                    tax,
                    bytes.as_slice(),
                    &p.display().to_string(),
                )?
            }
            None => {
                let bytes = examples::gunzip(
                    examples::SHIPPED_ONET_ALTERNATES,
                    examples::SHIPPED_ONET_NAME,
                )?;
                source = (
                    examples::SHIPPED_ONET_NAME.to_string(),
                    blake3::hash(&bytes).to_hex().to_string(),
                );
                examples::onet_alternate_examples_from(
                    tax,
                    bytes.as_slice(),
                    examples::SHIPPED_ONET_NAME,
                )?
            }
        };
        ex.extend(alt);
        unmapped = u;
    }
    let mut vacancy = examples::VacancyTitleCounts::default();
    if opts.vacancy_titles {
        let (titles, counts) = examples::shipped_vacancy_title_examples(tax)?;
        ex.extend(titles);
        vacancy = counts;
    }
    let mut reports = Vec::new();
    for f in &opts.label_files {
        if !f.is_file() {
            return Err(ClassifyError::Format(format!(
                "--labels {}: no such file (JSONL of labelled examples, e.g. from `jobshift label import`)",
                f.display()
            )));
        }
        let (l, r) = examples::read_label_file(tax, f)?;
        // a `none_fits` label names no title to learn (a re-fit's neighbours use them)
        ex.extend(
            l.into_iter()
                .filter(|e| e.title_id != jobshift_core::labels::NONE_FITS),
        );
        reports.push(r);
    }
    Ok(CollectedExamples {
        examples: ex,
        label_reports: reports,
        onet_unmapped: unmapped,
        onet_source: source,
        vacancy_titles: vacancy,
    })
}

/// Build the training set and its split as [`train`] does (deterministic for the taxonomy, the
/// options' data sources and seed; independent of the working directory).
pub fn training_set(tax: &Taxonomy, opts: &TrainOptions) -> Result<TrainingSet, ClassifyError> {
    let CollectedExamples {
        examples,
        label_reports,
        onet_unmapped,
        onet_source: (source, source_hash),
        vacancy_titles,
    } = collect_examples(tax, opts)?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &examples {
        *counts.entry(format!("{:?}", e.source)).or_default() += 1;
    }
    let seen = examples::seen_titles(&examples);
    let n = examples.len();
    let all_hash = examples_hash(&examples);
    let (train_ex, val_ex) = examples::split_by_title(examples, opts.val_fraction, opts.seed);
    let record = TrainingData {
        onet_alternates: source,
        onet_alternates_blake3: source_hash,
        vacancy_titles,
        examples: n,
        examples_blake3: all_hash,
        train_rows: train_ex.len(),
        train_blake3: examples_hash(&train_ex),
        validation_rows: val_ex.len(),
        validation_blake3: examples_hash(&val_ex),
    };
    Ok(TrainingSet {
        train: train_ex,
        validation: val_ex,
        seen,
        counts,
        label_reports,
        onet_rows_without_title: onet_unmapped,
        record,
    })
}

/// Fewest validation examples from which `train` chooses thresholds itself; below it (e.g.
/// `--no-onet-alternates`) both thresholds must be given.
pub(crate) const MIN_VALIDATION_FOR_THRESHOLDS: usize = 500;

/// Train a classifier with `opts`; writes `opts.out`. The steps: the training set
/// ([`training_set`]), its embeddings ([`embed_split`]), one [`fit_head`] per head asked for,
/// the chosen head installed as `head/`, the alias step's confidence ([`measure_alias_step`]),
/// the thresholds ([`choose_thresholds`]), `classifier.json`, an optional description head, and
/// the held-out evaluation ([`evaluate_held_out`]).
pub fn train(opts: &TrainOptions) -> Result<TrainReport, ClassifyError> {
    let start = Instant::now();
    let show = opts.progress;
    let tax = match &opts.taxonomy_dir {
        Some(d) => Taxonomy::load_dir(d)?,
        None => Taxonomy::builtin()?,
    };
    // the shared data directory is read for the held-out evaluation only, never for training
    let shared = opts.shared_data.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| crate::find_shared_data(&d))
    });
    let set = training_set(&tax, opts)?;
    let TrainingSet {
        train: train_ex,
        validation: val_ex,
        seen,
        counts,
        label_reports,
        onet_rows_without_title: onet_unmapped,
        record: training_data,
    } = set;
    announce_training_set(opts, &training_data, &counts, &train_ex, &val_ex)?;

    let classes: Vec<String> = tax.titles().iter().map(|t| t.id.clone()).collect();
    let class_of: HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let k = classes.len();

    let encoder = jobshift_encode::load_encoder(&opts.model)?;
    let model_id = encoder.model_id().to_string();
    let dim = encoder.dim();
    let cache_key = format!("{model_id}|{}", opts.model);
    let mut cache = EmbedCache::persistent(&cache_key, dim)?;
    let split = embed_split(
        &mut cache,
        &cache_key,
        encoder.as_ref(),
        &train_ex,
        &val_ex,
        &class_of,
        show,
    )?;

    std::fs::create_dir_all(&opts.out).map_err(|e| ClassifyError::io(&opts.out, e))?;
    let FittedHeads {
        validations,
        mut calibrations,
        val_outcomes,
        chosen,
    } = fit_heads(opts, &split, dim, k)?;

    let alias = measure_alias_step(&tax, &val_ex, show)?;
    let chosen_calibration = calibrations
        .remove(&chosen)
        .unwrap_or_else(Isotonic::identity);
    let (thresholds, min_confidence, ambiguity_margin) =
        thresholds(opts, val_outcomes.get(&chosen), &alias, &chosen_calibration);

    if opts.export_examples {
        export_examples(&opts.out, &train_ex, &val_ex)?;
    }

    let mut meta = ClassifierMeta {
        format: 1,
        name: opts.name.clone(),
        model: opts.model.clone(),
        model_id: model_id.clone(),
        dim,
        taxonomy_version: tax.version().to_string(),
        taxonomy_origin: match &opts.taxonomy_dir {
            Some(d) => d.display().to_string(),
            None => "builtin".into(),
        },
        seed: opts.seed,
        head: chosen,
        classes: classes.clone(),
        calibration: chosen_calibration,
        desc_calibration: None,
        alias_confidence: alias.confidence,
        ambiguity_margin,
        min_confidence,
        scores: serde_json::json!({
            "training_data": training_data,
            "examples": counts,
            "train_rows": train_ex.len(),
            "validation_rows": val_ex.len(),
            "validation": validations,
            "threshold_for_precision_80": validations.iter().find(|v| v.head == chosen.as_str()).map(|v| v.threshold_at_80),
            "alias_validation": {
                "hits": alias.hits, "right": alias.right, "confidence": alias.confidence,
                "onet_validation_hits": alias.validation_hits, "onet_validation_right": alias.validation_right,
                "jobbert_validation_hits": alias.jobbert_hits, "jobbert_validation_right": alias.jobbert_right,
            },
            "thresholds": thresholds,
        }),
        created_by: format!("jobshift-classify {}", env!("CARGO_PKG_VERSION")),
        recalibration: None,
        recipe: RECIPE,
        head_words: crate::head_word::head_words(
            train_ex
                .iter()
                .chain(&val_ex)
                .map(|e| (e.title.as_str(), e.title_id.as_str())),
        ),
    };
    if let Some(ds) = &opts.postings {
        add_description_head(opts, &tax, ds, encoder.as_ref(), &class_of, &mut meta)?;
    }
    meta.write(&opts.out)?;
    cache.save(&cache_key)?;
    drop(encoder);

    let held_out = if opts.evaluate {
        evaluate_held_out(
            opts,
            &tax,
            shared.as_deref(),
            &seen,
            chosen,
            &mut meta,
            &mut cache,
            &cache_key,
        )?
    } else {
        Vec::new()
    };
    Ok(TrainReport {
        dir: opts.out.clone(),
        model_id,
        taxonomy_version: tax.version().to_string(),
        chosen_head: chosen.as_str().into(),
        examples: counts,
        train_rows: train_ex.len(),
        val_rows: val_ex.len(),
        label_files: label_reports,
        onet_rows_without_title: onet_unmapped,
        heads: validations,
        held_out,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Every head fitted and scored on validation, and the one chosen.
/// A head's validation outcomes, per example: raw top-1 score, right or not, top-2 margin.
type ValidationOutcomes = (Vec<f32>, Vec<bool>, Vec<f32>);

struct FittedHeads {
    validations: Vec<HeadValidation>,
    calibrations: HashMap<HeadKind, Isotonic>,
    /// per head, on validation: raw top-1 score, right or not, top-2 margin
    val_outcomes: HashMap<HeadKind, ValidationOutcomes>,
    chosen: HeadKind,
}

/// Fits each head of `opts.heads` (saved under `heads/KIND/` with its calibration), chooses the
/// best on validation (or the first, without `auto_head`) and copies it to `head/`.
fn fit_heads(
    opts: &TrainOptions,
    split: &EmbeddedSplit,
    dim: usize,
    k: usize,
) -> Result<FittedHeads, ClassifyError> {
    let mut validations = Vec::new();
    let mut calibrations: HashMap<HeadKind, Isotonic> = HashMap::new();
    let mut best: Option<(f64, HeadKind)> = None;
    let mut val_outcomes: HashMap<HeadKind, ValidationOutcomes> = HashMap::new();
    for &kind in &opts.heads {
        let fitted = fit_head(kind, split, dim, k, opts)?;
        let top1 = fitted.validation.val_top1;
        let hd = opts.out.join("heads").join(kind.as_str());
        std::fs::create_dir_all(&hd).map_err(|e| ClassifyError::io(&hd, e))?;
        fitted.head.save(&hd)?;
        let cal_path = hd.join("calibration.json");
        jobshift_core::atomic::write_json(&cal_path, &fitted.calibration)
            .map_err(|e| ClassifyError::io(&cal_path, e))?;
        validations.push(fitted.validation);
        val_outcomes.insert(kind, fitted.outcomes);
        calibrations.insert(kind, fitted.calibration);
        if best.is_none_or(|(b, _)| top1 > b) {
            best = Some((top1, kind));
        }
    }
    let chosen = if opts.auto_head {
        best.map(|b| b.1)
    } else {
        opts.heads.first().copied()
    }
    .ok_or_else(|| ClassifyError::Training("no head to train".into()))?;
    // the chosen head becomes head/
    let src = opts.out.join("heads").join(chosen.as_str());
    let dst = opts.out.join("head");
    std::fs::create_dir_all(&dst).map_err(|e| ClassifyError::io(&dst, e))?;
    for f in ["head.json", "head.f32"] {
        std::fs::copy(src.join(f), dst.join(f)).map_err(|e| ClassifyError::io(&dst.join(f), e))?;
    }
    Ok(FittedHeads {
        validations,
        calibrations,
        val_outcomes,
        chosen,
    })
}

/// The description head: trained on postings of `ds` whose title matches an alias exactly
/// (at least 50 of them), with its own calibration.
fn add_description_head(
    opts: &TrainOptions,
    tax: &Taxonomy,
    ds: &Path,
    encoder: &dyn jobshift_encode::Encoder,
    class_of: &HashMap<&str, u32>,
    meta: &mut ClassifierMeta,
) -> Result<(), ClassifyError> {
    let show = opts.progress;
    let k = class_of.len();
    let desc_ex = alias_matched_postings(tax, ds, opts.postings_per_title)?;
    say(
        show,
        &format!(
            "alias-matched postings with descriptions: {}",
            desc_ex.len()
        ),
    );
    if desc_ex.len() >= 50 {
        let (cal, n) =
            train_description_head(&opts.out, &desc_ex, encoder, class_of, k, opts, show)?;
        meta.desc_calibration = Some(cal);
        meta.scores["description_head_rows"] = serde_json::json!(n);
    }
    Ok(())
}

/// The abstention threshold and ambiguity margin: chosen on validation unless given.
fn thresholds(
    opts: &TrainOptions,
    outcomes: Option<&(Vec<f32>, Vec<bool>, Vec<f32>)>,
    alias: &AliasStep,
    calibration: &Isotonic,
) -> (ThresholdChoice, f32, f32) {
    let show = opts.progress;
    let thresholds = choose_thresholds(
        outcomes,
        &alias.on_validation,
        alias.confidence,
        calibration,
    );
    let min_confidence = opts
        .min_confidence
        .unwrap_or(thresholds.min_confidence.threshold);
    let ambiguity_margin = opts.ambiguity_margin.unwrap_or(thresholds.ambiguity_margin);
    say(
        show,
        &format!(
            "thresholds: min_confidence {min_confidence:.3}{} (validation coverage {:.3}, precision {:.3}); ambiguity_margin {ambiguity_margin:.3}{}",
            if opts.min_confidence.is_some() { " (given)" } else { "" },
            thresholds.min_confidence.coverage,
            thresholds.min_confidence.precision,
            if opts.ambiguity_margin.is_some() { " (given)" } else { "" },
        ),
    );
    (thresholds, min_confidence, ambiguity_margin)
}

/// Print what the classifier trains on, and refuse a validation split too small to choose the
/// thresholds from (unless both are given).
fn announce_training_set(
    opts: &TrainOptions,
    training_data: &TrainingData,
    counts: &BTreeMap<String, usize>,
    train_ex: &[LabeledExample],
    val_ex: &[LabeledExample],
) -> Result<(), ClassifyError> {
    let show = opts.progress;
    say(
        show,
        &format!(
            "training data: O*NET alternate titles from {} (blake3 {}); examples {counts:?}",
            training_data.onet_alternates,
            short_hash(&training_data.onet_alternates_blake3)
        ),
    );
    let v = &training_data.vacancy_titles;
    if v.read > 0 {
        say(
            show,
            &format!(
                "vacancy titles (builtin:jobbert_validation.tsv.gz, always on the training side): {} of {} kept; left out: {} whose occupations count under several titles, {} whose own words name other titles",
                v.kept, v.read, v.no_single_title, v.contradicted
            ),
        );
    }
    say(
        show,
        &format!(
            "split by title (seed {}): {} train (blake3 {}), {} validation (blake3 {}); all examples blake3 {}",
            opts.seed,
            train_ex.len(),
            short_hash(&training_data.train_blake3),
            val_ex.len(),
            short_hash(&training_data.validation_blake3),
            short_hash(&training_data.examples_blake3),
        ),
    );
    if val_ex.len() < MIN_VALIDATION_FOR_THRESHOLDS
        && (opts.min_confidence.is_none() || opts.ambiguity_margin.is_none())
    {
        return Err(ClassifyError::Training(format!(
            "the validation split has {} examples (fewer than {MIN_VALIDATION_FOR_THRESHOLDS}): too few to choose the abstention threshold and the ambiguity margin. Train with the O*NET alternate titles (leave out --no-onet-alternates) or give both --min-confidence and --ambiguity-margin",
            val_ex.len()
        )));
    }
    Ok(())
}

/// The training and validation examples as embedding rows, class labels, and the training
/// rows' weights.
struct EmbeddedSplit {
    xtr: Vec<f32>,
    xva: Vec<f32>,
    ytr: Vec<u32>,
    yva: Vec<usize>,
    wtr: Vec<f32>,
}

/// Embed both splits (cleaned titles, through the persistent cache, saved under `cache_key`)
/// and label them; training rows are weighted class-balanced × label confidence, normalized to
/// mean 1.
fn embed_split(
    cache: &mut EmbedCache,
    cache_key: &str,
    encoder: &dyn jobshift_encode::Encoder,
    train_ex: &[LabeledExample],
    val_ex: &[LabeledExample],
    class_of: &HashMap<&str, u32>,
    show: bool,
) -> Result<EmbeddedSplit, ClassifyError> {
    let k = class_of.len();
    let train_clean: Vec<String> = train_ex.iter().map(|e| clean_title(&e.title)).collect();
    let val_clean: Vec<String> = val_ex.iter().map(|e| clean_title(&e.title)).collect();
    let all: Vec<&str> = train_clean
        .iter()
        .chain(&val_clean)
        .map(|s| s.as_str())
        .collect();
    embed_all(cache, encoder, &all, "embedding training titles", show)?;
    cache.save(cache_key)?;

    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(|s| s.as_str()).collect()
    }
    let xtr = cache.matrix(&refs(&train_clean))?;
    let xva = cache.matrix(&refs(&val_clean))?;
    let ytr: Vec<u32> = train_ex
        .iter()
        .map(|e| class_of[e.title_id.as_str()])
        .collect();
    let yva: Vec<usize> = val_ex
        .iter()
        .map(|e| class_of[e.title_id.as_str()] as usize)
        .collect();
    // class-balanced row weights × label confidence
    let mut per_class = vec![0usize; k];
    for &y in &ytr {
        per_class[y as usize] += 1;
    }
    let wtr: Vec<f32> = train_ex
        .iter()
        .zip(&ytr)
        .map(|(e, &y)| e.confidence.clamp(0.0, 1.0) / (per_class[y as usize] as f32).sqrt())
        .collect();
    let mean_w = wtr.iter().sum::<f32>() / wtr.len().max(1) as f32;
    let wtr: Vec<f32> = wtr.iter().map(|w| w / mean_w.max(1e-12)).collect();
    Ok(EmbeddedSplit {
        xtr,
        xva,
        ytr,
        yva,
        wtr,
    })
}

/// One trained head, its validation scores and the calibration fitted on validation, and per
/// validation row: the raw top-1 score, whether it is right, the top-2 margin.
struct FittedHead {
    head: Head,
    validation: HeadValidation,
    calibration: Isotonic,
    outcomes: (Vec<f32>, Vec<bool>, Vec<f32>),
}

/// Fit head `kind` on the training split (a similarity head's softmax scale chosen on
/// validation), then score and calibrate it on validation.
fn fit_head(
    kind: HeadKind,
    split: &EmbeddedSplit,
    dim: usize,
    k: usize,
    opts: &TrainOptions,
) -> Result<FittedHead, ClassifyError> {
    let show = opts.progress;
    let EmbeddedSplit {
        xtr,
        xva,
        ytr,
        yva,
        wtr,
    } = split;
    say(
        show,
        &format!("training head {kind} on {} rows × {dim}", ytr.len()),
    );
    let t0 = Instant::now();
    let mut head = Head::fit(kind, xtr, dim, ytr, wtr, k, &opts.params)?;
    let train_seconds = t0.elapsed().as_secs_f64();
    if matches!(kind, HeadKind::Centroid | HeadKind::Knn) && !yva.is_empty() {
        fit_scale_on_validation(&mut head, xva, yva, dim, k)?;
    }
    let t1 = Instant::now();
    let p = if yva.is_empty() {
        Vec::new()
    } else {
        head.predict_proba(xva)?
    };
    let predict_seconds = t1.elapsed().as_secs_f64();
    let mut raw = Vec::new();
    let mut ok = Vec::new();
    let mut margins = Vec::new();
    let mut ok5 = 0usize;
    for (row, &y) in p.chunks(k).zip(yva) {
        let top = top_k(row, 5);
        raw.push(top[0].1);
        margins.push(top[0].1 - top.get(1).map(|t| t.1).unwrap_or(0.0));
        ok.push(top[0].0 == y);
        if top.iter().any(|t| t.0 == y) {
            ok5 += 1;
        }
    }
    let iso = Isotonic::fit(&raw, &ok);
    let conf: Vec<f32> = raw.iter().map(|&s| iso.apply(s)).collect();
    let top1 = ok.iter().filter(|&&b| b).count() as f64 / ok.len().max(1) as f64;
    let (cov80, thr80) = coverage_at_precision(&conf, &ok, 0.8);
    let validation = HeadValidation {
        head: kind.as_str().into(),
        train_seconds,
        predict_seconds,
        val_top1: top1,
        val_top5: ok5 as f64 / ok.len().max(1) as f64,
        val_ece_calibrated: expected_calibration_error(&conf, &ok, 15),
        threshold_at_80: thr80,
        coverage_at_80: cov80,
    };
    say(
        show,
        &format!("  {kind}: validation top-1 {top1:.3}, trained in {train_seconds:.1}s"),
    );
    Ok(FittedHead {
        head,
        validation,
        calibration: iso,
        outcomes: (raw, ok, margins),
    })
}

/// Set a similarity head's softmax scale (inverse temperature) to the one of a grid that
/// maximizes validation likelihood, on at most 2000 validation rows (kNN scoring is a full
/// similarity scan).
fn fit_scale_on_validation(
    head: &mut Head,
    xva: &[f32],
    yva: &[usize],
    dim: usize,
    k: usize,
) -> Result<(), ClassifyError> {
    let m = yva.len().min(2000);
    let pick: Vec<usize> = (0..m).map(|i| i * yva.len() / m).collect();
    let xs_owned: Vec<f32> = pick
        .iter()
        .flat_map(|&i| xva[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    let ys_owned: Vec<usize> = pick.iter().map(|&i| yva[i]).collect();
    let (xs, ys) = (&xs_owned[..], &ys_owned[..]);
    let mut best_s = (f64::NEG_INFINITY, 20.0f32);
    for s in [5.0f32, 10.0, 15.0, 20.0, 30.0, 50.0, 80.0] {
        head.set_scale(s);
        let p = head.predict_proba(xs)?;
        let ll: f64 = p
            .chunks(k)
            .zip(ys)
            .map(|(r, &y)| (r[y].max(1e-9) as f64).ln())
            .sum();
        if ll > best_s.0 {
            best_s = (ll, s);
        }
    }
    head.set_scale(best_s.1);
    Ok(())
}

/// How often the alias step (an exact name/alias match) is right: on the validation split and
/// on the shipped JobBERT validation titles.
struct AliasStep {
    /// Per validation example: `None` when no alias matches, else whether the match is right.
    on_validation: Vec<Option<bool>>,
    validation_hits: usize,
    validation_right: usize,
    jobbert_hits: usize,
    jobbert_right: usize,
    hits: usize,
    right: usize,
    /// The measured precision, Laplace-smoothed (0.5 with no hits): the alias step's confidence.
    confidence: f32,
}

/// Measure the alias step ([`AliasStep`]).
fn measure_alias_step(
    tax: &Taxonomy,
    val_ex: &[LabeledExample],
    show: bool,
) -> Result<AliasStep, ClassifyError> {
    // alias step precision on validation (titles whose raw or cleaned form is an alias)
    let on_validation: Vec<Option<bool>> = val_ex
        .iter()
        .map(|e| {
            tax.match_exact(&e.title)
                .or_else(|| tax.match_exact(&clean_title(&e.title)))
                .map(|t| t.id == e.title_id)
        })
        .collect();
    let val_hits = on_validation.iter().flatten().count();
    let val_right = on_validation.iter().flatten().filter(|&&r| r).count();
    // Held out by title, the O*NET validation split rarely hits an alias (aliases always
    // train), so the alias step's precision is measured on real vacancy titles too: the
    // JobBERT validation split (the held-out evaluation uses its test split).
    let (rw_hits, rw_right) = alias_precision_jobbert_validation(tax)?;
    let (hits, right) = (val_hits + rw_hits, val_right + rw_right);
    let confidence = (right as f32 + 1.0) / (hits as f32 + 2.0);
    say(
        show,
        &format!(
            "alias step: {val_hits} hits ({val_right} right) on validation, {rw_hits} hits ({rw_right} right) on JobBERT validation titles → confidence {confidence:.3}"
        ),
    );
    Ok(AliasStep {
        on_validation,
        validation_hits: val_hits,
        validation_right: val_right,
        jobbert_hits: rw_hits,
        jobbert_right: rw_right,
        hits,
        right,
        confidence,
    })
}

/// Write both splits as JSONL (`train.jsonl`, `validation.jsonl`) into the classifier
/// directory: what `jobshift finetune` trains on and what a rebuild is compared with.
fn export_examples(
    out: &Path,
    train_ex: &[LabeledExample],
    val_ex: &[LabeledExample],
) -> Result<(), ClassifyError> {
    for (name, exs) in [("train.jsonl", train_ex), ("validation.jsonl", val_ex)] {
        let p = out.join(name);
        jobshift_core::atomic::write_jsonl(&p, exs).map_err(|e| ClassifyError::io(&p, e))?;
    }
    Ok(())
}

/// Score every trained head on the held-out sets under `shared` (titles `seen` in training
/// removed), write `eval.json` and the chosen head's confusion matrix, and record the scores in
/// `classifier.json`. Without the shared data it says so and scores nothing.
#[allow(clippy::too_many_arguments)]
fn evaluate_held_out(
    opts: &TrainOptions,
    tax: &Taxonomy,
    shared: Option<&Path>,
    seen: &std::collections::HashSet<String>,
    chosen: HeadKind,
    meta: &mut ClassifierMeta,
    cache: &mut EmbedCache,
    cache_key: &str,
) -> Result<Vec<SetScores>, ClassifyError> {
    let show = opts.progress;
    let Some(shared) = shared else {
        say(
            show,
            "shared data not found (set JOBSHIFT_SHARED_DATA): held-out evaluation skipped",
        );
        return Ok(Vec::new());
    };
    let sets = examples::load_held_out(shared, seen)?;
    eval::export_titles(tax, &opts.out.join("taxonomy_titles.jsonl"))?;
    for s in &sets {
        eval::export_set(tax, s, &opts.out.join(format!("heldout_{}.jsonl", s.name)))?;
    }
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let (held_out, confusion) = evaluate_heads(
        &opts.out,
        &opts.heads,
        chosen,
        &sets,
        cache,
        cache_key,
        show,
    )?;
    write_eval(&opts.out, &held_out, &confusion)?;
    meta.scores["held_out"] =
        serde_json::to_value(held_out.iter().map(summary_row).collect::<Vec<_>>())?;
    meta.write(&opts.out)?;
    Ok(held_out)
}

/// Precision of the alias step on the JobBERT *validation* split shipped with jobshift
/// ([`examples::shipped_jobbert_validation`]: raw vacancy titles, ESCO labels sent to O*NET by the
/// crosswalk, titles of the test split removed). A hit is right by the evaluation's rule: the
/// hit title is a crosswalk title of a gold O*NET code or shares its SOC-6. Returns (hits, right).
pub fn alias_precision_jobbert_validation(tax: &Taxonomy) -> Result<(usize, usize), ClassifyError> {
    let items = examples::shipped_jobbert_validation()?;
    let mut crosswalk: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in tax.crosswalk() {
        crosswalk
            .entry(e.onet_soc.as_str())
            .or_default()
            .push(e.title_id.as_str());
    }
    let soc6 = |c: &str| c.get(..7).unwrap_or(c).to_string();
    let (mut hits, mut right) = (0usize, 0usize);
    for item in &items {
        let Some(t) = tax
            .match_exact(&item.title)
            .or_else(|| tax.match_exact(&clean_title(&item.title)))
        else {
            continue;
        };
        hits += 1;
        let ok = item.gold_onet.iter().any(|code| {
            crosswalk
                .get(code.as_str())
                .is_some_and(|ids| ids.contains(&t.id.as_str()))
                || tax.title_for_onet(code).is_some_and(|g| g.id == t.id)
                || soc6(code) == soc6(&t.onet_soc)
                || soc6(code) == soc6(&t.soc)
        });
        right += ok as usize;
    }
    Ok((hits, right))
}

fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// How the cascade's thresholds were chosen on validation (recorded in `classifier.json`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ThresholdChoice {
    /// Validation items (alias hits + embedded titles).
    pub n: usize,
    /// The chosen abstention point: keep predictions whose calibrated confidence is at least
    /// `threshold` (maximizes right − wrong on validation).
    pub min_confidence: OperatingPoint,
    /// Coverage and the threshold that keep precision ≥ 80 / 90 / 95 % over the whole cascade.
    pub at_precision: BTreeMap<String, OperatingPoint>,
    /// Coverage / precision of the whole cascade for thresholds 0, 0.05, …, 0.95.
    pub curve: Vec<OperatingPoint>,
    /// The chosen ambiguity margin and, per candidate margin, the share of embedded titles it
    /// flags for the description step and their title-only accuracy.
    pub ambiguity_margin: f32,
    pub margin_curve: Vec<MarginPoint>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct MarginPoint {
    pub margin: f32,
    /// Share of embedded (non-alias) titles whose top-2 margin is below `margin`.
    pub flagged: f64,
    /// Title-only accuracy of the flagged titles.
    pub flagged_accuracy: f64,
    /// Title-only accuracy of the others.
    pub unflagged_accuracy: f64,
}

/// Candidate ambiguity margins.
pub(crate) const MARGIN_GRID: [f32; 9] = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7];

/// Walking up [`MARGIN_GRID`], each band of titles between two grid margins has its own
/// title-only accuracy; the chosen margin is the top of the last band, counted from the
/// bottom, whose titles are still more often wrong than right (accuracy < 50 %): the
/// description is consulted exactly where the title is a coin flip or worse, and not where
/// the title is usually right (each description costs a long-text embedding, ~50× a title).
/// The smallest grid margin when even the lowest band is mostly right.
pub(crate) fn choose_ambiguity_margin(curve: &[MarginPoint]) -> f32 {
    let mut chosen = MARGIN_GRID[0];
    let (mut prev_share, mut prev_right) = (0.0f64, 0.0f64);
    for p in curve {
        let right = p.flagged * p.flagged_accuracy;
        let share = p.flagged - prev_share;
        if share > 1e-12 {
            if (right - prev_right) / share < 0.5 {
                chosen = p.margin;
            } else {
                break;
            }
        }
        prev_share = p.flagged;
        prev_right = right;
    }
    chosen
}

/// Choose `min_confidence` and `ambiguity_margin` from the chosen head's validation outcomes
/// (`raw` top-1 score, right, top-2 margin per validation row) and the alias step's hits
/// (`alias_on_val[i]` = Some(right) when row `i` hits an alias).
pub(crate) fn choose_thresholds(
    outcomes: Option<&(Vec<f32>, Vec<bool>, Vec<f32>)>,
    alias_on_val: &[Option<bool>],
    alias_confidence: f32,
    calibration: &Isotonic,
) -> ThresholdChoice {
    let (mut conf, mut ok) = (Vec::new(), Vec::new());
    let mut embedded: Vec<(f32, bool)> = Vec::new();
    if let Some((raw, right, margins)) = outcomes {
        for (i, alias) in alias_on_val.iter().enumerate() {
            match alias {
                Some(r) => {
                    conf.push(alias_confidence);
                    ok.push(*r);
                }
                None => {
                    let (Some(&s), Some(&r), Some(&m)) = (raw.get(i), right.get(i), margins.get(i))
                    else {
                        continue;
                    };
                    conf.push(calibration.apply(s));
                    ok.push(r);
                    embedded.push((m, r));
                }
            }
        }
    }
    let grid: Vec<f32> = (0..20).map(|i| i as f32 * 0.05).collect();
    let mut at_precision = BTreeMap::new();
    for target in [0.8, 0.9, 0.95] {
        let (coverage, threshold) = coverage_at_precision(&conf, &ok, target);
        let kept: Vec<bool> = conf
            .iter()
            .zip(&ok)
            .filter(|(c, _)| **c >= threshold)
            .map(|(_, r)| *r)
            .collect();
        at_precision.insert(
            format!("{:.0}", target * 100.0),
            OperatingPoint {
                threshold,
                coverage,
                precision: kept.iter().filter(|&&r| r).count() as f64 / kept.len().max(1) as f64,
            },
        );
    }
    let margin_curve: Vec<MarginPoint> = MARGIN_GRID
        .iter()
        .map(|&m| {
            let (mut f, mut fr, mut u, mut ur) = (0usize, 0usize, 0usize, 0usize);
            for &(mg, r) in &embedded {
                if mg < m {
                    f += 1;
                    fr += r as usize;
                } else {
                    u += 1;
                    ur += r as usize;
                }
            }
            MarginPoint {
                margin: m,
                flagged: f as f64 / embedded.len().max(1) as f64,
                flagged_accuracy: fr as f64 / f.max(1) as f64,
                unflagged_accuracy: ur as f64 / u.max(1) as f64,
            }
        })
        .collect();
    ThresholdChoice {
        n: conf.len(),
        min_confidence: net_correct_threshold(&conf, &ok),
        at_precision,
        curve: coverage_precision_curve(&conf, &ok, &grid),
        ambiguity_margin: choose_ambiguity_margin(&margin_curve),
        margin_curve,
    }
}

/// One line of scores for `classifier.json`.
pub(crate) fn summary_row(s: &SetScores) -> serde_json::Value {
    serde_json::json!({
        "set": s.set, "head": s.head, "n": s.n, "top1": s.top1, "top1_strict": s.top1_strict,
        "coverage": s.coverage, "precision": s.precision, "top5": s.top5,
        "macro_f1": s.macro_f1, "soc6": s.soc6, "soc2": s.soc2, "family": s.family,
        "level": s.level, "ece": s.ece,
    })
}

/// Write `eval.json` and `confusion.json` (the chosen head's confusion on held-out data).
pub(crate) fn write_eval(
    dir: &Path,
    scores: &[SetScores],
    confusion: &Confusion,
) -> Result<(), ClassifyError> {
    write_eval_to(
        &dir.join("eval.json"),
        &dir.join("confusion.json"),
        scores,
        confusion,
    )
}

/// [`write_eval`] to any two paths (`jobshift eval --json` writes beside its output instead of
/// into the classifier directory).
pub fn write_eval_to(
    scores_path: &Path,
    confusion_path: &Path,
    scores: &[SetScores],
    confusion: &Confusion,
) -> Result<(), ClassifyError> {
    jobshift_core::atomic::write_json(scores_path, &scores)
        .map_err(|e| ClassifyError::io(scores_path, e))?;
    crate::eval::write_confusion(
        confusion_path,
        "held-out confusion of the default head: gold title -> predicted title -> count (O*NET reported titles + JobBERT titles; 'unclassified' = abstained)",
        None,
        confusion,
    )
}

/// Score every head in `heads` on `sets`; returns the scores and the chosen head's confusion.
pub(crate) fn evaluate_heads(
    dir: &Path,
    heads: &[HeadKind],
    chosen: HeadKind,
    sets: &[EvalSet],
    cache: &mut EmbedCache,
    cache_key: &str,
    show: bool,
) -> Result<(Vec<SetScores>, Confusion), ClassifyError> {
    let mut out = Vec::new();
    let mut chosen_confusion = Confusion::new();
    for &kind in heads {
        let c = Classifier::load_with(dir, Some(kind), None)?;
        let opts = CascadeOptions {
            use_description: false,
            ..c.default_options()
        };
        // embed every held-out title once (shared across heads through the cache)
        let texts: Vec<String> = sets
            .iter()
            .flat_map(|s| s.items.iter().map(|i| clean_title(&i.title)))
            .collect();
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        embed_all(cache, c.encoder(), &refs, "embedding held-out titles", show)?;
        cache.save(cache_key)?;
        for set in sets {
            let mut confusion = Confusion::new();
            let s = eval::evaluate(&c, set, cache, &opts, &mut confusion)?;
            say(
                show,
                &format!(
                    "  {} / {}: top-1 {:.3} (abstention wrong {:.3}: answered {:.3} at precision {:.3}) soc6 {:.3} family {:.3} ECE {:.3} (n={})",
                    set.name, kind, s.top1, s.top1_strict, s.coverage, s.precision, s.soc6, s.family, s.ece, s.n
                ),
            );
            if kind == chosen {
                for (g, row) in confusion {
                    let dst = chosen_confusion.entry(g).or_default();
                    for (p, n) in row {
                        *dst.entry(p).or_default() += n;
                    }
                }
            }
            out.push(s);
        }
    }
    Ok((out, chosen_confusion))
}

/// The training recipe's number, recorded in every `classifier.json`. Bump it when a change to
/// training (data, splits, heads, calibration, thresholds) changes what `jobshift train` builds,
/// so cached default classifiers from the old recipe are retrained instead of silently reused.
/// 2 is the first numbered recipe (2026-11-29); a `classifier.json` without the field (read
/// as 0) was trained by earlier code.
/// 3 (2026-12-04): the O*NET alternate titles and the JobBERT validation titles that measure the
/// alias confidence are shipped in the binary (never read from the working directory); the
/// default trains the kNN head only.
/// 4 (2026-12-07): `classifier.json` records the titles written with each checked head word
/// (`head_words`, [`crate::head_word`]), which the cascade's title step checks its answers against.
pub(crate) const RECIPE: u32 = 4;

/// Train the default classifier (minilm, the kNN head) into the jobshift cache, unless it
/// already exists there, trained by this [`RECIPE`] for this jobshift's built-in taxonomy
/// version; returns its directory. This is what `jobshift demo` calls.
pub fn train_default(force: bool, progress: bool) -> Result<PathBuf, ClassifyError> {
    let dir = crate::classifier_dir(crate::DEFAULT_CLASSIFIER);
    if !force && reusable(&dir, "minilm")? {
        return Ok(dir);
    }
    let opts = TrainOptions {
        progress,
        ..TrainOptions::default()
    };
    train(&opts)?;
    Ok(dir)
}

/// Whether the cached classifier in `dir` can be used as it is: it exists, and [`why_stale`]
/// finds nothing against it (otherwise a note says why it is retrained) — or it was trained with
/// options of its own, which no default may replace (`jobshift train --model mpnet`, `--labels`,
/// another taxonomy, … write the same directory): then a note says it is stale and it is used.
fn reusable(dir: &Path, model: &str) -> Result<bool, ClassifyError> {
    if !dir.join("classifier.json").is_file() {
        return Ok(false);
    }
    let taxonomy = Taxonomy::builtin()?.version().to_string();
    let meta = ClassifierMeta::read(dir).ok();
    let cached = meta.as_ref().map(|m| Cached {
        recipe: m.recipe,
        taxonomy_version: &m.taxonomy_version,
        builtin_taxonomy: m.taxonomy_origin == "builtin",
    });
    match why_stale(cached, &taxonomy) {
        None => Ok(true),
        Some(why)
            if meta
                .as_ref()
                .is_some_and(|m| !built_by_default_recipe(m, model)) =>
        {
            eprintln!(
                "note: the classifier {} {why}, but it was trained with options of its own, so it is used as it is; run your `jobshift train` again to bring it up to date",
                dir.display()
            );
            Ok(true)
        }
        Some(why) => {
            eprintln!(
                "note: the cached classifier {} {why}; retraining it",
                dir.display()
            );
            Ok(false)
        }
    }
}

/// Whether `meta` describes a classifier [`train_default`] or [`classifier_for_model`] builds
/// for `model`: that encoder, the kNN head, the built-in taxonomy, the default seed, the
/// shipped training data with no labels, no description head, no re-fit. Only such a classifier
/// is replaced when stale.
fn built_by_default_recipe(meta: &ClassifierMeta, model: &str) -> bool {
    let default_sources = meta
        .scores
        .get("examples")
        .and_then(|e| e.as_object())
        .is_some_and(|e| {
            e.keys()
                .all(|k| k == "TaxonomyAlias" || k == "OnetAlternate")
        });
    meta.model == model
        && meta.head == HeadKind::Knn
        && meta.taxonomy_origin == "builtin"
        && meta.seed == TrainOptions::default().seed
        && meta.desc_calibration.is_none()
        && meta.recalibration.is_none()
        && default_sources
}

/// Why a cached classifier cannot be reused by this jobshift, whose built-in taxonomy is
/// version `taxonomy`: another training recipe, or another taxonomy (its titles and crosswalk
/// are what the classifier predicts); `None` when it can.
fn why_stale(cached: Option<Cached<'_>>, taxonomy: &str) -> Option<String> {
    match cached {
        None => Some("cannot be read".to_string()),
        Some(m) if m.recipe != RECIPE => Some(format!(
            "was trained by recipe {} and this jobshift's is {RECIPE}",
            m.recipe
        )),
        Some(m) if m.builtin_taxonomy && m.taxonomy_version != taxonomy => Some(format!(
            "was trained for taxonomy {} and this jobshift's is {taxonomy}",
            m.taxonomy_version
        )),
        Some(_) => None,
    }
}

/// What [`why_stale`] reads of a cached classifier's `classifier.json`.
#[derive(Clone, Copy)]
struct Cached<'a> {
    recipe: u32,
    taxonomy_version: &'a str,
    builtin_taxonomy: bool,
}

/// The classifier for encoder `model`: the default classifier for `minilm` (shared with
/// `jobshift train`, see [`train_default`]), else `demo-MODEL` in the cache, trained once (and
/// again when this jobshift's recipe or taxonomy differs from the one it was trained with).
/// Returns the training report when it trained now.
pub fn classifier_for_model(model: &str) -> Result<(PathBuf, Option<TrainReport>), ClassifyError> {
    if model == "minilm" {
        return Ok((train_default(false, true)?, None));
    }
    let name = format!("demo-{model}");
    let dir = crate::classifier_dir(&name);
    if reusable(&dir, model)? {
        return Ok((dir, None));
    }
    let opts = TrainOptions {
        model: model.to_string(),
        name,
        out: dir.clone(),
        progress: true,
        ..Default::default()
    };
    let rep = train(&opts)?;
    Ok((dir, Some(rep)))
}

/// Postings of `dataset_dir` whose raw (or cleaned) title is a taxonomy name/alias and that have
/// a description: `AliasMatchedPosting` examples, at most `per_title` per title (first seen).
pub(crate) fn alias_matched_postings(
    tax: &Taxonomy,
    dataset_dir: &Path,
    per_title: usize,
) -> Result<Vec<LabeledExample>, ClassifyError> {
    use arrow::array::{Array, StringArray};
    let ds = jobshift_core::dataset::DatasetDir::new(dataset_dir);
    let files = jobshift_core::dataset::DatasetDir::parquet_files(&ds.postings())
        .map_err(|e| ClassifyError::io(&ds.postings(), e))?;
    let mut per: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for f in files {
        let b = crate::dataset::read_parquet(&f)?;
        let col = |name: &str| {
            b.column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        };
        let (Some(titles), Some(descs)) = (
            col(jobshift_core::schema::TITLE),
            col(jobshift_core::schema::DESCRIPTION),
        ) else {
            continue;
        };
        let ids = col(jobshift_core::schema::POSTING_ID);
        for i in 0..b.num_rows() {
            if titles.is_null(i) || descs.is_null(i) || descs.value(i).trim().len() < 40 {
                continue;
            }
            let raw = titles.value(i);
            let Some(t) = tax
                .match_exact(raw)
                .or_else(|| tax.match_exact(&clean_title(raw)))
            else {
                continue;
            };
            let n = per.entry(t.id.clone()).or_default();
            if *n >= per_title {
                continue;
            }
            *n += 1;
            out.push(LabeledExample {
                title: raw.to_string(),
                description: Some(descs.value(i).to_string()),
                title_id: t.id.clone(),
                source: LabelSource::AliasMatchedPosting,
                confidence: 1.0,
                posting_id: ids
                    .as_ref()
                    .filter(|c| !c.is_null(i))
                    .map(|c| c.value(i).to_string()),
            });
        }
    }
    Ok(out)
}

/// Fit the description head (nearest centroid over "title. description" embeddings) and its
/// calibration on a 20 % split of postings; saves `desc_head/`. Returns (calibration, rows).
fn train_description_head(
    out: &Path,
    examples: &[LabeledExample],
    encoder: &dyn jobshift_encode::Encoder,
    class_of: &HashMap<&str, u32>,
    k: usize,
    opts: &TrainOptions,
    show: bool,
) -> Result<(Isotonic, usize), ClassifyError> {
    let texts: Vec<String> = examples
        .iter()
        .map(|e| {
            crate::classifier::description_text(
                &e.title,
                e.description.as_deref().unwrap_or(""),
                1000,
            )
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let mut cache = EmbedCache::new(encoder.dim());
    embed_all(
        &mut cache,
        encoder,
        &refs,
        "embedding posting descriptions",
        show,
    )?;
    let dim = encoder.dim();
    let (mut xtr, mut ytr, mut xva, mut yva) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, (e, t)) in examples.iter().zip(&refs).enumerate() {
        let v = cache.get(t).unwrap_or(&[]);
        let y = class_of[e.title_id.as_str()];
        if i % 5 == 4 {
            xva.extend_from_slice(v);
            yva.push(y as usize);
        } else {
            xtr.extend_from_slice(v);
            ytr.push(y);
        }
    }
    let w = vec![1.0; ytr.len()];
    let head = Head::fit(HeadKind::Centroid, &xtr, dim, &ytr, &w, k, &opts.params)?;
    let p = head.predict_proba(&xva)?;
    let (mut raw, mut ok) = (Vec::new(), Vec::new());
    for (row, &y) in p.chunks(k).zip(&yva) {
        let t = top_k(row, 1);
        raw.push(t[0].1);
        ok.push(t[0].0 == y);
    }
    let d = out.join("desc_head");
    std::fs::create_dir_all(&d).map_err(|e| ClassifyError::io(&d, e))?;
    head.save(&d)?;
    Ok((Isotonic::fit(&raw, &ok), examples.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(margin: f32, flagged: f64, flagged_accuracy: f64) -> MarginPoint {
        MarginPoint {
            margin,
            flagged,
            flagged_accuracy,
            unflagged_accuracy: 0.0,
        }
    }

    #[test]
    fn only_a_classifier_built_by_the_default_recipe_is_replaced_when_stale() {
        let meta = |model: &str, examples: serde_json::Value| ClassifierMeta {
            format: 1,
            name: "default".into(),
            model: model.into(),
            model_id: model.into(),
            dim: 384,
            taxonomy_version: "2026.12.0".into(),
            taxonomy_origin: "builtin".into(),
            seed: 42,
            head: HeadKind::Knn,
            classes: Vec::new(),
            calibration: Isotonic::identity(),
            desc_calibration: None,
            alias_confidence: 0.5,
            ambiguity_margin: 0.4,
            min_confidence: 0.5,
            scores: serde_json::json!({ "examples": examples }),
            created_by: String::new(),
            recalibration: None,
            recipe: 3,
            head_words: BTreeMap::new(),
        };
        let shipped = serde_json::json!({"OnetAlternate": 55866, "TaxonomyAlias": 12463});
        assert!(built_by_default_recipe(
            &meta("minilm", shipped.clone()),
            "minilm"
        ));
        // `jobshift train --model mpnet` writes the default directory too
        assert!(!built_by_default_recipe(
            &meta("mpnet", shipped.clone()),
            "minilm"
        ));
        assert!(built_by_default_recipe(
            &meta("mpnet", shipped.clone()),
            "mpnet"
        ));
        // trained with the user's labels
        let labelled = serde_json::json!({"OnetAlternate": 1, "TaxonomyAlias": 1, "Expert": 300});
        assert!(!built_by_default_recipe(
            &meta("minilm", labelled),
            "minilm"
        ));
        let mut other = meta("minilm", shipped.clone());
        other.taxonomy_origin = "/home/me/taxonomy".into();
        assert!(!built_by_default_recipe(&other, "minilm"));
        let mut other = meta("minilm", shipped);
        other.head = HeadKind::RandomForest;
        assert!(!built_by_default_recipe(&other, "minilm"));
    }

    #[test]
    fn a_cached_default_from_another_recipe_or_taxonomy_is_retrained() {
        let cached = |recipe, taxonomy_version, builtin_taxonomy| {
            Some(Cached {
                recipe,
                taxonomy_version,
                builtin_taxonomy,
            })
        };
        assert_eq!(
            why_stale(cached(RECIPE, "2026.12.1", true), "2026.12.1"),
            None
        );
        let old_taxonomy = why_stale(cached(RECIPE, "2026.12.0", true), "2026.12.1");
        assert!(old_taxonomy.unwrap().contains("taxonomy 2026.12.0"));
        let old_recipe = why_stale(cached(RECIPE - 1, "2026.12.1", true), "2026.12.1");
        assert!(old_recipe.unwrap().contains("recipe"));
        assert!(why_stale(None, "2026.12.1").is_some());
        // trained on purpose for the user's own taxonomy directory: kept
        assert_eq!(why_stale(cached(RECIPE, "mine", false), "2026.12.1"), None);
    }

    #[test]
    fn ambiguity_margin_stops_at_the_first_band_that_is_mostly_right() {
        // bands: [0, .1) acc 0.2, [.1, .2) acc 0.4, [.2, .3) acc 0.7, [.3, .4) acc 0.3
        let curve = [
            point(0.1, 0.1, 0.2),
            point(0.2, 0.2, 0.3),
            point(0.3, 0.3, (0.06 + 0.07) / 0.3),
            point(0.4, 0.4, (0.13 + 0.03) / 0.4),
        ];
        assert_eq!(choose_ambiguity_margin(&curve), 0.2);
        assert_eq!(
            choose_ambiguity_margin(&[point(0.1, 0.5, 0.9)]),
            MARGIN_GRID[0]
        );
    }
}

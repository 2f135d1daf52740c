//! `jobshift train|eval|finetune|classify|classify-titles`: flags and printing only; the work is
//! in jobshift-classify.

use anyhow::{bail, Context};
use jobshift_classify::classifier::{CascadeOptions, CascadeStats, Classifier, TitleInput};
use jobshift_classify::{data, eval, finetune, train as tr, HeadKind};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

fn classifier_path(arg: &Option<PathBuf>) -> PathBuf {
    arg.clone()
        .unwrap_or_else(|| jobshift_classify::classifier_dir(jobshift_classify::DEFAULT_CLASSIFIER))
}

fn load_classifier(arg: &Option<PathBuf>, head: Option<HeadKind>) -> anyhow::Result<Classifier> {
    let dir = classifier_path(arg);
    Classifier::load_with(&dir, head, None).with_context(|| {
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

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Encoder: minilm, mpnet, a Hugging Face repo id, or a model directory (e.g. a fine-tuned one)
    #[arg(long, default_value = "minilm")]
    pub model: String,
    /// Head: rf (random forest, the study's), logreg, centroid, knn, or auto (train all, keep the
    /// best on validation; all are saved and scored)
    #[arg(long, default_value = "auto")]
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
    /// O*NET alternate titles TSV [default: <shared data>/onet-alternate-titles/alternate_titles.tsv when present]
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
    #[arg(long, default_value_t = 60)]
    pub rf_trees: u16,
    /// Random forest: at most this many training rows per title
    #[arg(long, default_value_t = 10)]
    pub rf_max_per_class: usize,
    /// Abstain ("unclassified") below this calibrated confidence
    #[arg(long, default_value_t = 0.0)]
    pub min_confidence: f32,
    /// Use the description when the top-2 title margin is below this
    #[arg(long, default_value_t = 0.1)]
    pub ambiguity_margin: f32,
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
    println!("classifier written to {}", rep.dir.display());
    println!(
        "model {} · taxonomy {} · {} train / {} validation rows · default head: {}",
        rep.model_id, rep.taxonomy_version, rep.train_rows, rep.val_rows, rep.chosen_head
    );
    println!("validation (held out by title):");
    for h in &rep.heads {
        println!(
            "  {:<9} top-1 {:.3}  top-5 {:.3}  ECE {:.3}  train {:.1}s",
            h.head, h.val_top1, h.val_top5, h.val_ece_calibrated, h.train_seconds
        );
    }
    if !rep.held_out.is_empty() {
        println!("held-out real titles:");
        print!("{}", eval::render_table(&rep.held_out));
    }
    println!("took {:.1}s", rep.seconds);
    Ok(())
}

#[derive(clap::Args)]
pub struct EvalArgs {
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
    /// Write the scores as JSON here (default: eval.json in the classifier directory)
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Show the per-family table and the most-confused pairs
    #[arg(long)]
    pub details: bool,
}

/// Normalized titles used for training (exported next to the classifier at train time).
fn training_titles(dir: &Path) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut seen = std::collections::HashSet::new();
    for f in ["train.jsonl", "validation.jsonl"] {
        let p = dir.join(f);
        let file = std::fs::File::open(&p).with_context(|| {
            format!(
                "{} (written by `jobshift train`; retrain to recreate it)",
                p.display()
            )
        })?;
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", p.display()))?;
            let ex: jobshift_core::labels::LabeledExample = serde_json::from_str(&line)
                .with_context(|| format!("{} line {}", p.display(), i + 1))?;
            seen.insert(jobshift_core::normalize::normalize_title(&ex.title));
        }
    }
    Ok(seen)
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let dir = classifier_path(&a.classifier);
    let shared = a
        .shared_data
        .clone()
        .or_else(|| std::env::current_dir().ok().and_then(|d| jobshift_classify::find_shared_data(&d)))
        .context("the held-out sets live in the shared data directory; pass --shared-data DIR or set JOBSHIFT_SHARED_DATA")?;
    let seen = training_titles(&dir)?;
    let sets = data::load_held_out(&shared, &seen)?;
    if sets.is_empty() {
        bail!("no held-out sets found under {}", shared.display());
    }
    let heads: Vec<Option<HeadKind>> = match a.head.as_deref() {
        None => vec![None],
        Some("all") => HeadKind::ALL.iter().map(|h| Some(*h)).collect(),
        Some(h) => vec![Some(parse_head(h).map_err(anyhow::Error::msg)?)],
    };
    let mut rows = Vec::new();
    let mut confusion = eval::Confusion::new();
    let mut cache: Option<jobshift_classify::embed_cache::EmbedCache> = None;
    for head in heads {
        let c = load_classifier(&a.classifier, head)?;
        let key = format!("{}|{}", c.meta.model_id, c.meta.model);
        let cache = match &mut cache {
            Some(c) => c,
            None => cache.insert(jobshift_classify::embed_cache::EmbedCache::persistent(
                &key, c.meta.dim,
            )?),
        };
        let opts = CascadeOptions {
            use_alias: !a.no_alias,
            use_description: false,
            ..c.default_options()
        };
        let texts: Vec<String> = sets
            .iter()
            .flat_map(|s| {
                s.items
                    .iter()
                    .map(|i| jobshift_classify::seniority::clean_title(&i.title))
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        tr::embed_all(cache, c.encoder(), &refs, "embedding held-out titles", true)?;
        cache.save(&key)?;
        for set in &sets {
            let mut conf = eval::Confusion::new();
            let s = eval::evaluate(&c, set, cache, &opts, &mut conf)?;
            if head.is_none() || head == Some(c.meta.head) {
                for (g, row) in conf {
                    let d = confusion.entry(g).or_default();
                    for (p, n) in row {
                        *d.entry(p).or_default() += n;
                    }
                }
            }
            rows.push(s);
        }
    }
    print!("{}", eval::render_table(&rows));
    for r in &rows {
        let steps: Vec<String> = r
            .methods
            .iter()
            .map(|(m, s)| format!("{m} {:.0}% (top-1 {:.3})", 100.0 * s.share, s.top1))
            .collect();
        println!(
            "{} / {}: {} rows ({} removed as seen in training, {} without an O*NET code); steps: {}; {:.0} titles/s",
            r.set,
            r.head,
            r.n,
            r.removed_seen_in_training,
            r.removed_unmapped,
            steps.join(", "),
            r.n as f64 / r.seconds.max(1e-9)
        );
        if a.details {
            println!("  per family (gold):");
            for f in &r.per_family {
                println!("    {:<32} n={:<5} top-1 {:.3}", f.family, f.n, f.top1);
            }
            println!("  most confused (gold → predicted):");
            for p in r.most_confused.iter().take(10) {
                println!("    {:>4}  {} → {}", p.count, p.gold, p.predicted);
            }
        }
    }
    let out = a.json.unwrap_or_else(|| dir.join("eval.json"));
    jobshift_core::atomic::write_json(&out, &rows)
        .with_context(|| format!("writing {}", out.display()))?;
    if !confusion.is_empty() {
        tr::write_eval(&dir, &rows, &confusion).ok();
        jobshift_core::atomic::write_json(&out, &rows)?;
    }
    println!(
        "scores written to {}; confusion matrix in {}",
        out.display(),
        dir.join("confusion.json").display()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct FinetuneArgs {
    /// Base encoder directory or name (a BERT-family model, e.g. minilm)
    #[arg(long, default_value = "minilm")]
    pub model: String,
    /// Where to write the fine-tuned model [default: <jobshift cache>/models/<base>-finetuned]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Training examples (JSONL) [default: train.jsonl of the default classifier]
    #[arg(long)]
    pub examples: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 2e-5)]
    pub lr: f64,
    /// Stop after this many steps (0 = all)
    #[arg(long, default_value_t = 0)]
    pub max_steps: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn finetune(a: FinetuneArgs) -> anyhow::Result<()> {
    let examples = a.examples.unwrap_or_else(|| {
        jobshift_classify::classifier_dir(jobshift_classify::DEFAULT_CLASSIFIER).join("train.jsonl")
    });
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
        seed: a.seed,
        progress: true,
    };
    let rep = finetune::finetune(&opts)?;
    println!(
        "fine-tuned model written to {} ({} steps, final loss {:.4}, {:.1}s)",
        rep.out.display(),
        rep.steps,
        rep.final_loss,
        rep.seconds
    );
    println!(
        "train a classifier on it with: jobshift train --model {} --name finetuned",
        rep.out.display()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Dataset directory (reads DATASET_DIR/postings, writes DATASET_DIR/classified)
    pub dataset_dir: PathBuf,
    /// Classifier directory [default: the default classifier in the jobshift cache]
    #[arg(long)]
    pub classifier: Option<PathBuf>,
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
}

pub fn classify(a: ClassifyArgs) -> anyhow::Result<()> {
    let c = load_classifier(&a.classifier, None)?;
    let mut cascade = c.default_options();
    cascade.use_description = !a.no_description;
    if let Some(m) = a.min_confidence {
        cascade.min_confidence = m;
    }
    if let Some(m) = a.ambiguity_margin {
        cascade.ambiguity_margin = m;
    }
    let opts = jobshift_classify::ClassifyOptions {
        cascade: Some(cascade),
        force: a.force,
        ..Default::default()
    };
    let rep = jobshift_classify::classify_dataset(&a.dataset_dir, &c, &opts)?;
    println!(
        "{} postings classified in {} file(s) ({} already done) in {:.1}s ({:.0} postings/s)",
        rep.rows,
        rep.files_done_now,
        rep.files_skipped_resume,
        rep.seconds,
        rep.rows as f64 / rep.seconds.max(1e-9)
    );
    for (m, n) in &rep.by_method {
        println!("  {m:<16} {n}");
    }
    println!(
        "  distinct titles embedded: {}; output: {}",
        rep.distinct_titles_embedded,
        a.dataset_dir.join("classified").display()
    );
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
    /// Head to use instead of the classifier's default (rf, logreg, centroid, knn)
    #[arg(long)]
    pub head: Option<String>,
    /// Override the abstention threshold (calibrated confidence)
    #[arg(long)]
    pub min_confidence: Option<f32>,
}

pub fn classify_titles(a: ClassifyTitlesArgs) -> anyhow::Result<()> {
    let head = a
        .head
        .as_deref()
        .map(parse_head)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let c = load_classifier(&a.classifier, head)?;
    let file =
        std::fs::File::open(&a.input).with_context(|| format!("opening {}", a.input.display()))?;
    let mut records: Vec<(String, String, Option<String>)> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {} line {}", a.input.display(), i + 1))?;
        let trimmed = line.trim();
        if trimmed.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(trimmed)
                .with_context(|| format!("{} line {}: not valid JSON", a.input.display(), i + 1))?;
            let title = v.get("title").and_then(|t| t.as_str()).with_context(|| {
                format!(
                    "{} line {}: JSON object without a string \"title\"",
                    a.input.display(),
                    i + 1
                )
            })?;
            let desc = v
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_string);
            records.push((line.clone(), title.to_string(), desc));
        } else {
            records.push((line.clone(), line.clone(), None));
        }
    }
    let mut opts = c.default_options();
    if let Some(m) = a.min_confidence {
        opts.min_confidence = m;
    }
    let mut cache = c.new_cache();
    let mut stats = CascadeStats::default();
    let mut out = Vec::with_capacity(records.len());
    for chunk in records.chunks(4096) {
        let inputs: Vec<TitleInput> = chunk
            .iter()
            .map(|(_, t, d)| TitleInput {
                title: t,
                description: d.as_deref(),
            })
            .collect();
        out.extend(c.classify(&inputs, &mut cache, &opts, &mut stats)?);
    }
    jobshift_core::atomic::with_writer(&a.output, |w| {
        for ((raw, title, desc), p) in records.iter().zip(&out) {
            let t = c.title(&p.title_id);
            let input: serde_json::Value = if desc.is_some() || raw.trim_start().starts_with('{') {
                serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(title.clone()))
            } else {
                serde_json::Value::String(raw.clone())
            };
            let alternatives: Vec<serde_json::Value> = p
                .alternatives
                .iter()
                .map(|(id, s)| {
                    serde_json::json!({"title_id": id, "title": c.title(id).map(|t| t.name.clone()), "score": s})
                })
                .collect();
            let obj = serde_json::json!({
                "input": input,
                "title_id": p.title_id,
                "title": t.map(|t| t.name.clone()),
                "family": t.map(|t| t.family.clone()),
                "level": t.map(|t| t.level.as_str()),
                "tier": t.map(|t| t.tier().as_str()),
                "seniority": p.seniority.as_str(),
                "soc": t.map(|t| t.soc.clone()),
                "onet_soc": t.map(|t| t.onet_soc.clone()),
                "confidence": p.confidence,
                "method": p.method.as_str(),
                "alternatives": alternatives,
            });
            serde_json::to_writer(&mut *w, &obj).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .with_context(|| format!("writing {}", a.output.display()))?;
    eprintln!(
        "{} titles → {} ({} by alias, {} embedded, {} by description, {} unclassified)",
        out.len(),
        a.output.display(),
        stats.alias_hits,
        stats.title_embedded,
        stats.description_used,
        stats.unclassified
    );
    Ok(())
}

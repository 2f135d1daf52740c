//! Contrastive fine-tuning of a BERT-family sentence encoder (e.g. all-MiniLM-L6-v2) in candle:
//! MultipleNegativesRanking loss with in-batch negatives on pairs of texts that share a
//! taxonomy title (the study fine-tuned all-mpnet-base-v2 on pairs of job descriptions).
//!
//! The model's safetensors are loaded into a candle `VarMap` (trainable variables) and
//! candle-transformers' `BertModel` is built over it; pooling is the mean over real tokens,
//! then L2 normalization, as in the sentence-transformers model.
//!
//! Pairs: every epoch, each title with two or more distinct example texts contributes up to
//! `max_per_title` anchors (different texts each epoch), each with a random other text of the
//! same title as its positive. Anchors are dealt into batches of `batch_size` *distinct*
//! titles, so no in-batch negative shares the anchor's label. The loss is the cross-entropy
//! of `20 · cos(anchor_i, positive_j)` against `j = i`, symmetrized (sentence-transformers'
//! MultipleNegativesRankingLoss with its default scale). Learning rate: linear warm-up over
//! the first 10 % of steps, then linear decay to 0 (the sentence-transformers default).
//!
//! The output directory is a copy of the base model directory with `model.safetensors`
//! replaced (tensors that are not trained, such as BERT's pooler, are copied from the base),
//! a `jobshift-finetune.json` recording the options and losses, and a fresh
//! `jobshift-model.json` manifest whose repo id names the weights' hash — so
//! `jobshift_encode::load_encoder(out)` and sentence-transformers both load it, and embedding
//! caches keyed by model id never mix two fine-tuning runs written to the same directory.
//! MPNet (candle-transformers has no trainable MPNet) is not supported here; the GPU path is
//! the `cuda` feature of candle.

use crate::seniority::clean_title;
use crate::ClassifyError;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use jobshift_core::labels::LabeledExample;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct FinetuneOptions {
    pub model: String,
    pub examples: PathBuf,
    pub out: PathBuf,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Stop after this many steps (0 = run all epochs).
    pub max_steps: usize,
    /// Anchors per title per epoch (caps the weight of titles with thousands of examples).
    pub max_per_title: usize,
    /// Token limit per text (titles are short; descriptions are cut here).
    pub max_len: usize,
    pub seed: u64,
    pub progress: bool,
}

impl Default for FinetuneOptions {
    fn default() -> Self {
        FinetuneOptions {
            model: "minilm".into(),
            examples: PathBuf::new(),
            out: PathBuf::new(),
            epochs: 1,
            batch_size: 64,
            lr: 2e-5,
            max_steps: 0,
            max_per_title: 8,
            max_len: 64,
            seed: 42,
            progress: false,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FinetuneReport {
    pub out: PathBuf,
    /// The fine-tuned model's id (its manifest repo id; embedding caches key on it).
    pub model_id: String,
    pub base_model: String,
    pub titles: usize,
    pub examples: usize,
    pub steps: usize,
    pub steps_per_epoch: usize,
    pub pairs_per_step: usize,
    /// Mean loss of the first / last (up to) 20 steps.
    pub first_loss: f32,
    pub final_loss: f32,
    pub seconds: f64,
}

fn terr(e: impl std::fmt::Display) -> ClassifyError {
    ClassifyError::Training(e.to_string())
}

/// Texts per title id (cleaned, deduplicated), from a JSONL of labelled examples.
pub fn texts_by_title(path: &Path) -> Result<BTreeMap<String, Vec<String>>, ClassifyError> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| ClassifyError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let ex: LabeledExample = serde_json::from_str(&line).map_err(|e| {
            ClassifyError::Format(format!("{} line {}: {e}", path.display(), i + 1))
        })?;
        let text = match &ex.description {
            Some(d) => crate::classifier::description_text(&ex.title, d, 600),
            None => clean_title(&ex.title),
        };
        let v = by.entry(ex.title_id).or_default();
        if !v.contains(&text) {
            v.push(text);
        }
    }
    Ok(by)
}

struct Trainable {
    model: BertModel,
    tokenizer: tokenizers::Tokenizer,
    device: Device,
}

impl Trainable {
    /// Mean-pooled, L2-normalized embeddings with gradients.
    fn embed(&self, texts: &[&str], max_len: usize) -> Result<Tensor, ClassifyError> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ClassifyError::Training(format!("tokenizer: {e}")))?;
        let len = enc
            .iter()
            .map(|e| e.get_ids().len().min(max_len))
            .max()
            .unwrap_or(1)
            .max(1);
        let n = texts.len();
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (i, e) in enc.iter().enumerate() {
            let toks = e.get_ids();
            let m = toks.len().min(len);
            ids[i * len..i * len + m].copy_from_slice(&toks[..m]);
            if toks.len() > len {
                // keep the [SEP] token at the end of a truncated text
                if let Some(&last) = toks.last() {
                    ids[i * len + len - 1] = last;
                }
            }
            for v in &mut mask[i * len..i * len + m] {
                *v = 1;
            }
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let mask_t = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask_t))?;
        let m = mask_t.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&m)?.sum(1)?;
        let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norm)?)
    }
}

/// One anchor/positive pair: (title index, anchor text index, positive text index).
pub type Pair = (usize, usize, usize);

/// The batches of one epoch. `sizes[t]` is the number of distinct texts of title `t` (titles
/// with fewer than two are skipped). Every batch holds distinct titles; a last batch with
/// fewer than two pairs is dropped (it would have no negative).
pub fn epoch_batches(
    sizes: &[usize],
    batch_size: usize,
    max_per_title: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<Pair>> {
    let batch_size = batch_size.max(2);
    // anchors of each title for this epoch, then dealt round by round so that every title's
    // first anchor comes before any title's second
    let mut per_title: Vec<Vec<Pair>> = Vec::new();
    for (t, &n) in sizes.iter().enumerate() {
        if n < 2 {
            continue;
        }
        let mut idx: Vec<usize> = (0..n).collect();
        idx.shuffle(rng);
        let take = n.min(max_per_title.max(1));
        let pairs = idx[..take]
            .iter()
            .map(|&a| {
                let mut p = rng.random_range(0..n - 1);
                if p >= a {
                    p += 1;
                }
                (t, a, p)
            })
            .collect();
        per_title.push(pairs);
    }
    let rounds = per_title.iter().map(|v| v.len()).max().unwrap_or(0);
    let mut stream: Vec<Pair> = Vec::new();
    for r in 0..rounds {
        let mut round: Vec<Pair> = per_title.iter().filter_map(|v| v.get(r).copied()).collect();
        round.shuffle(rng);
        stream.extend(round);
    }
    let mut batches = Vec::new();
    let mut current: Vec<Pair> = Vec::with_capacity(batch_size);
    let mut in_batch: HashSet<usize> = HashSet::new();
    let mut deferred: Vec<Pair> = Vec::new();
    for pair in stream {
        if in_batch.contains(&pair.0) {
            deferred.push(pair);
            continue;
        }
        in_batch.insert(pair.0);
        current.push(pair);
        if current.len() == batch_size {
            batches.push(std::mem::take(&mut current));
            in_batch.clear();
            // deferred pairs open the next batch (their titles are distinct from each other
            // only if we check: keep the ones that collide deferred)
            let mut still = Vec::new();
            for d in std::mem::take(&mut deferred) {
                if in_batch.insert(d.0) {
                    current.push(d);
                } else {
                    still.push(d);
                }
            }
            deferred = still;
        }
    }
    if current.len() >= 2 {
        batches.push(current);
    }
    batches
}

/// Fine-tune `opts.model` on `opts.examples`; writes a sentence-transformers directory.
pub fn finetune(opts: &FinetuneOptions) -> Result<FinetuneReport, ClassifyError> {
    let start = Instant::now();
    let dir = jobshift_encode::resolve_model(&opts.model)?;
    let base_id = jobshift_encode::registry::model_id_for(&opts.model, &dir);
    let cfg_path = dir.join("config.json");
    let cfg_text =
        std::fs::read_to_string(&cfg_path).map_err(|e| ClassifyError::io(&cfg_path, e))?;
    let cfg_json: serde_json::Value = serde_json::from_str(&cfg_text)
        .map_err(|e| ClassifyError::Format(format!("{}: {e}", cfg_path.display())))?;
    if cfg_json.get("model_type").and_then(|v| v.as_str()) != Some("bert") {
        return Err(ClassifyError::Training(format!(
            "{}: fine-tuning supports BERT-family models (e.g. minilm); this one is {:?}",
            dir.display(),
            cfg_json.get("model_type")
        )));
    }
    let config: Config = serde_json::from_str(&cfg_text)
        .map_err(|e| ClassifyError::Format(format!("{}: {e}", cfg_path.display())))?;
    let tok_path = dir.join("tokenizer.json");
    let mut tokenizer = tokenizers::Tokenizer::from_file(&tok_path)
        .map_err(|e| ClassifyError::Format(format!("{}: {e}", tok_path.display())))?;
    tokenizer.with_padding(None);
    let _ = tokenizer.with_truncation(None);
    let device = Device::Cpu;
    let mut varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let model = BertModel::load(vb, &config)?;
    let weights = dir.join("model.safetensors");
    // VarMap::load fails on any variable missing from the file, so a checkpoint whose tensor
    // names do not match (e.g. a "bert." prefix) is reported here, never trained from scratch.
    varmap
        .load(&weights)
        .map_err(|e| ClassifyError::Training(format!("{}: {e}", weights.display())))?;
    let net = Trainable {
        model,
        tokenizer,
        device,
    };

    let by_title = texts_by_title(&opts.examples)?;
    let groups: Vec<&Vec<String>> = by_title.values().collect();
    let sizes: Vec<usize> = groups.iter().map(|v| v.len()).collect();
    let pairable = sizes.iter().filter(|&&n| n >= 2).count();
    if pairable < 2 {
        return Err(ClassifyError::Training(format!(
            "{}: fewer than two titles with two or more examples; nothing to contrast",
            opts.examples.display()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let epochs = opts.epochs.max(1);
    let mut plan: Vec<Vec<Pair>> = Vec::new();
    let mut steps_per_epoch = 0;
    for e in 0..epochs {
        let b = epoch_batches(&sizes, opts.batch_size, opts.max_per_title, &mut rng);
        if e == 0 {
            steps_per_epoch = b.len();
        }
        plan.extend(b);
        if opts.max_steps > 0 && plan.len() >= opts.max_steps {
            plan.truncate(opts.max_steps);
            break;
        }
    }
    let total = plan.len();
    let mut opt = candle_nn::AdamW::new(
        varmap.all_vars(),
        candle_nn::ParamsAdamW {
            lr: opts.lr,
            weight_decay: 0.01,
            ..Default::default()
        },
    )?;
    let pb = if opts.progress {
        let pb = indicatif::ProgressBar::new(total as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "fine-tuning [{bar:30}] {pos}/{len} steps, loss {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut losses: Vec<f32> = Vec::with_capacity(total);
    let warmup = (total / 10).max(1);
    for (step, batch) in plan.iter().enumerate() {
        let anchors: Vec<&str> = batch
            .iter()
            .map(|&(t, a, _)| groups[t][a].as_str())
            .collect();
        let positives: Vec<&str> = batch
            .iter()
            .map(|&(t, _, p)| groups[t][p].as_str())
            .collect();
        let lr = if step < warmup {
            opts.lr * (step + 1) as f64 / warmup as f64
        } else {
            opts.lr * (total - step) as f64 / (total - warmup).max(1) as f64
        };
        opt.set_learning_rate(lr);
        let labels = Tensor::arange(0u32, batch.len() as u32, &net.device)?;
        let a = net.embed(&anchors, opts.max_len)?;
        let p = net.embed(&positives, opts.max_len)?;
        let scores = (a.matmul(&p.t()?)? * 20.0)?;
        let l1 = candle_nn::loss::cross_entropy(&scores, &labels)?;
        let l2 = candle_nn::loss::cross_entropy(&scores.t()?, &labels)?;
        let loss = ((l1 + l2)? * 0.5)?;
        opt.backward_step(&loss)?;
        let lv = loss.to_scalar::<f32>()?;
        if !lv.is_finite() {
            return Err(ClassifyError::Training(format!(
                "loss became {lv} at step {step}; lower --lr (now {})",
                opts.lr
            )));
        }
        losses.push(lv);
        let recent = &losses[losses.len().saturating_sub(20)..];
        pb.set_message(format!(
            "{:.3}",
            recent.iter().sum::<f32>() / recent.len() as f32
        ));
        pb.inc(1);
    }
    pb.finish_and_clear();
    let mean = |v: &[f32]| {
        if v.is_empty() {
            f32::NAN
        } else {
            v.iter().sum::<f32>() / v.len() as f32
        }
    };
    let mut report = FinetuneReport {
        out: opts.out.clone(),
        model_id: String::new(),
        base_model: base_id.clone(),
        titles: pairable,
        examples: sizes.iter().filter(|&&n| n >= 2).sum(),
        steps: total,
        steps_per_epoch,
        pairs_per_step: opts.batch_size.max(2).min(pairable),
        first_loss: mean(&losses[..losses.len().min(20)]),
        final_loss: mean(&losses[losses.len().saturating_sub(20)..]),
        seconds: 0.0,
    };
    report.seconds = start.elapsed().as_secs_f64();
    report.model_id = write_model(&dir, &base_id, opts, &report, &varmap)?;
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// Copy the base model directory to `out` (atomically: into a temp dir, then rename) with the
/// trained weights as `model.safetensors`, a `jobshift-finetune.json` record and a manifest.
/// Returns the new model id.
fn write_model(
    base: &Path,
    base_id: &str,
    opts: &FinetuneOptions,
    report: &FinetuneReport,
    varmap: &VarMap,
) -> Result<String, ClassifyError> {
    let out = &opts.out;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| ClassifyError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-finetune-")
        .tempdir_in(parent)
        .map_err(|e| ClassifyError::io(parent, e))?;
    copy_dir(base, tmp.path())?;
    // the copied manifest (if any) describes the base model's files, not these
    let _ = std::fs::remove_file(tmp.path().join(jobshift_encode::manifest::MANIFEST_FILE));
    let weights = tmp.path().join("model.safetensors");
    // trained variables, plus every base tensor that was not trained (BERT's pooler,
    // position ids) so that transformers loads the directory without re-initializing anything
    let base_weights = base.join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&base_weights, &Device::Cpu)
        .map_err(|e| ClassifyError::Training(format!("{}: {e}", base_weights.display())))?;
    {
        let data = varmap.data().lock().map_err(terr)?;
        for (name, var) in data.iter() {
            tensors.insert(name.clone(), var.as_tensor().clone());
        }
    }
    candle_core::safetensors::save(&tensors, &weights).map_err(terr)?;
    let record = serde_json::json!({
        "base_model": base_id,
        "base_dir": base.display().to_string(),
        "examples": opts.examples.display().to_string(),
        "loss": "MultipleNegativesRankingLoss (in-batch negatives, scale 20, symmetric)",
        "pooling": "mean over tokens, then L2 normalization",
        "epochs": opts.epochs,
        "batch_size": opts.batch_size,
        "lr": opts.lr,
        "schedule": "linear warm-up 10 %, linear decay",
        "max_steps": opts.max_steps,
        "max_per_title": opts.max_per_title,
        "max_len": opts.max_len,
        "seed": opts.seed,
        "report": report,
    });
    let rec_path = tmp.path().join("jobshift-finetune.json");
    jobshift_core::atomic::write_json(&rec_path, &record)
        .map_err(|e| ClassifyError::io(&rec_path, e))?;
    let mut manifest = jobshift_encode::manifest::Manifest::build(
        tmp.path(),
        &out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "finetuned".into()),
        "",
        &format!("finetune:{base_id}"),
    )?;
    let hash = manifest
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .map(|f| f.sha256.get(..12).unwrap_or(&f.sha256).to_string())
        .unwrap_or_default();
    let short = base_id.rsplit('/').next().unwrap_or(base_id);
    let model_id = format!("jobshift-finetuned/{short}-{hash}");
    manifest.repo_id = model_id.clone();
    manifest.write(tmp.path())?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| ClassifyError::io(out, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, out).map_err(|e| ClassifyError::io(out, e))?;
    Ok(model_id)
}

fn copy_dir(src: &Path, dst: &Path) -> Result<(), ClassifyError> {
    for e in std::fs::read_dir(src).map_err(|e| ClassifyError::io(src, e))? {
        let e = e.map_err(|e| ClassifyError::io(src, e))?;
        let p = e.path();
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n == "model.safetensors" || n.ends_with(".bin") || n.starts_with(".tmp-") {
            continue;
        }
        let target = dst.join(&name);
        if p.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| ClassifyError::io(&target, e))?;
            copy_dir(&p, &target)?;
        } else {
            std::fs::copy(&p, &target).map_err(|e| ClassifyError::io(&target, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_distinct_titles_and_cap_anchors_per_title() {
        let sizes = vec![1, 2, 50, 3, 7, 2, 100, 4];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let batches = epoch_batches(&sizes, 4, 5, &mut rng);
        let mut per_title = vec![0usize; sizes.len()];
        for b in &batches {
            assert!(b.len() >= 2 && b.len() <= 4);
            let titles: HashSet<usize> = b.iter().map(|p| p.0).collect();
            assert_eq!(titles.len(), b.len(), "a title twice in one batch: {b:?}");
            for &(t, a, p) in b {
                assert_ne!(a, p);
                assert!(a < sizes[t] && p < sizes[t]);
                per_title[t] += 1;
            }
        }
        assert_eq!(per_title[0], 0, "a title with one text has no pair");
        assert!(per_title.iter().all(|&n| n <= 5));
        assert!(per_title[6] >= 3, "{per_title:?}");
        // deterministic given the seed
        let again = epoch_batches(&sizes, 4, 5, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(batches, again);
    }
}

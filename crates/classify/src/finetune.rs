//! Contrastive fine-tuning of a sentence encoder in candle — BERT-family (e.g.
//! all-MiniLM-L6-v2) or MPNet (e.g. all-mpnet-base-v2, the model the study fine-tuned on pairs
//! of job descriptions): MultipleNegativesRanking loss with in-batch negatives on pairs of
//! texts that share a taxonomy title.
//!
//! The model's safetensors are loaded into a candle `VarMap` (trainable variables) and the
//! network named by `config.json`'s `model_type` is built over it: "bert" →
//! [`crate::trainable_bert::TrainableBert`], "mpnet" → [`crate::trainable_mpnet::TrainableMpnet`]
//! — not the inference models (candle-transformers' `BertModel`, jobshift-encode's MPNet),
//! whose fused layer norm has no backward pass (see those modules). Pooling is the mean over
//! real tokens, then L2 normalization, as in the sentence-transformers models. The first step
//! fails unless every weight tensor received a gradient, and nothing is written when training
//! changed no weight.
//!
//! Pairs: every epoch, each title with two or more distinct example texts contributes up to
//! `max_per_title` anchors (different texts each epoch), each with a random other text of the
//! same title as its positive. Anchors are dealt into batches of `batch_size` *distinct*
//! titles, so no in-batch negative shares the anchor's label. The loss is the cross-entropy
//! of `20 · cos(anchor_i, positive_j)` against `j = i`, symmetrized (sentence-transformers'
//! MultipleNegativesRankingLoss with its default scale). Learning rate: linear warm-up over
//! the first 10 % of steps, then linear decay to 0 (the sentence-transformers default).
//!
//! Hard negatives (`hard_negatives` = k > 0): before training, the base encoder embeds up to
//! eight texts of each title and each title's k nearest other titles (cosine of those
//! centroids) are its confusable titles; every anchor then also meets a text of one of its
//! title's confusable titles that is not in the batch, as one more column of the
//! anchor→candidate scores (sentence-transformers' MultipleNegativesRankingLoss on
//! (anchor, positive, negative) triplets). The negatives are drawn after the batches, from the
//! same seeded generator, so a run with k = 0 is the run without them, pair for pair.
//!
//! The output directory is a copy of the base model directory with `model.safetensors`
//! replaced (tensors that are not trained, such as the pooler and `position_ids`, are copied
//! from the base), a `jobshift-finetune.json` recording the options and losses, and a fresh
//! `jobshift-model.json` manifest whose repo id names the weights' hash — so
//! `jobshift_encode::load_encoder(out)` and sentence-transformers both load it, and embedding
//! caches keyed by model id never mix two fine-tuning runs written to the same directory.
//! Training runs on the CPU by default; `device` = `cuda[:N]` trains on a GPU in a build with the
//! `cuda` feature ([`training_device`]; the GPU path has not been run on this project's CPU-only
//! machines).

use crate::heads::{nearest_neighbours, CentroidHead};
use crate::seniority::clean_title;
use crate::trainable_bert::TrainableBert;
use crate::trainable_mpnet::TrainableMpnet;
use crate::trainable_ops::mean_pool_normalize;
use crate::ClassifyError;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use jobshift_core::labels::LabeledExample;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// Draw each anchor's hard negative from its title's this many nearest titles (0 = in-batch
    /// negatives only).
    pub hard_negatives: usize,
    pub progress: bool,
    /// "cpu" (default), or "cuda" / "cuda:N" in a build with the `cuda` feature
    /// ([`training_device`]).
    pub device: String,
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
            hard_negatives: 0,
            progress: false,
            device: "cpu".into(),
        }
    }
}

/// The device fine-tuning runs on: `cpu`, or `cuda` / `cuda:N` (GPU N). candle compiles the CUDA
/// backend only with the `cuda` cargo feature (`cargo build --release --features cuda`); in a
/// build without it, asking for a GPU is an error that says so, never a silent CPU run.
pub(crate) fn training_device(spec: &str) -> Result<Device, ClassifyError> {
    jobshift_encode::parse_device(spec).map_err(|e| ClassifyError::Training(e.to_string()))
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
    /// Trained weight tensors that differ from the base model after training (of
    /// `trained_tensors`; BERT's pooler is not trained).
    pub changed_tensors: usize,
    pub trained_tensors: usize,
    pub seconds: f64,
}

fn terr(e: impl std::fmt::Display) -> ClassifyError {
    ClassifyError::Training(e.to_string())
}

/// Texts per title id (cleaned, deduplicated), from a JSONL of labelled examples.
pub(crate) fn texts_by_title(path: &Path) -> Result<BTreeMap<String, Vec<String>>, ClassifyError> {
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

/// The network being trained, by `config.json`'s `model_type`.
enum TrainableEncoder {
    Bert(TrainableBert),
    Mpnet(TrainableMpnet),
}

impl TrainableEncoder {
    /// The `model_type` values [`load_trainable`] accepts.
    const SUPPORTED: &'static str = "\"bert\" (e.g. minilm) or \"mpnet\" (e.g. mpnet)";

    /// Token states (batch, seq, hidden); `attention_mask` 1 = real token.
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            // single-segment inputs: token type 0 everywhere
            Self::Bert(m) => m.forward(ids, &ids.zeros_like()?, mask),
            Self::Mpnet(m) => m.forward(ids, mask),
        }
    }
}

struct Trainable {
    model: TrainableEncoder,
    tokenizer: tokenizers::Tokenizer,
    /// The padding token id (MPNet's positions depend on it: `<pad>` = 1; BERT's 0).
    pad_id: u32,
    device: Device,
}

impl Trainable {
    /// Token ids and attention mask (batch, longest text up to `max_len`), padded with
    /// `pad_id`.
    fn tokenize(&self, texts: &[&str], max_len: usize) -> Result<(Tensor, Tensor), ClassifyError> {
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
        let mut ids = vec![self.pad_id; n * len];
        let mut mask = vec![0u32; n * len];
        for (i, e) in enc.iter().enumerate() {
            let toks = e.get_ids();
            let m = toks.len().min(len);
            ids[i * len..i * len + m].copy_from_slice(&toks[..m]);
            if toks.len() > len {
                // keep the closing token ([SEP] / </s>) at the end of a truncated text
                if let Some(&last) = toks.last() {
                    ids[i * len + len - 1] = last;
                }
            }
            for v in &mut mask[i * len..i * len + m] {
                *v = 1;
            }
        }
        Ok((
            Tensor::from_vec(ids, (n, len), &self.device)?,
            Tensor::from_vec(mask, (n, len), &self.device)?,
        ))
    }

    /// Mean-pooled, L2-normalized embeddings with gradients.
    fn embed(&self, texts: &[&str], max_len: usize) -> Result<Tensor, ClassifyError> {
        let (ids, mask) = self.tokenize(texts, max_len)?;
        embed_ids(&self.model, &ids, &mask)
    }
}

/// Sentence embeddings (batch, hidden) of token ids, on the autograd graph.
fn embed_ids(
    model: &TrainableEncoder,
    ids: &Tensor,
    mask: &Tensor,
) -> Result<Tensor, ClassifyError> {
    let hidden = model.forward(ids, mask)?;
    Ok(mean_pool_normalize(&hidden, mask)?)
}

/// MultipleNegativesRankingLoss, symmetric: cross-entropy of `20 · cos(a_i, p_j)` against
/// `j = i`, averaged over anchor→positive and positive→anchor. `a`, `p`: L2-normalized rows.
/// With hard negatives `n` (one row per anchor), the anchor→candidate direction scores every
/// positive and every negative (`20 · cos(a_i, [p; n]_j)`, still against `j = i`); the
/// positive→anchor direction is unchanged.
fn mnrl_loss(a: &Tensor, p: &Tensor, n: Option<&Tensor>) -> Result<Tensor, ClassifyError> {
    let labels = Tensor::arange(0u32, a.dim(0)? as u32, a.device())?;
    let scores = (a.matmul(&p.t()?)? * 20.0)?;
    let l2 = candle_nn::loss::cross_entropy(&scores.t()?, &labels)?;
    let l1 = match n {
        None => candle_nn::loss::cross_entropy(&scores, &labels)?,
        Some(n) => {
            let candidates = Tensor::cat(&[p, n], 0)?;
            let all = (a.matmul(&candidates.t()?)? * 20.0)?;
            candle_nn::loss::cross_entropy(&all, &labels)?
        }
    };
    Ok(((l1 + l2)? * 0.5)?)
}

/// Texts of each title the base encoder embeds to find confusable titles.
const CENTROID_TEXTS: usize = 8;

/// For each title (index into `groups`), the `k` other titles nearest to it, nearest first:
/// cosine of the title centroids of the nearest-centroid head ([`CentroidHead::fit`]) over the
/// `encoder`'s embeddings of up to [`CENTROID_TEXTS`] of the title's texts, searched as the kNN
/// head searches ([`nearest_neighbours`]: ties go to the lower index).
fn confusable_titles(
    encoder: &dyn jobshift_encode::Encoder,
    groups: &[&Vec<String>],
    k: usize,
) -> Result<Vec<Vec<usize>>, ClassifyError> {
    let mut texts: Vec<&str> = Vec::new();
    let mut labels: Vec<u32> = Vec::new();
    for (t, g) in groups.iter().enumerate() {
        for text in g.iter().take(CENTROID_TEXTS) {
            texts.push(text);
            labels.push(t as u32);
        }
    }
    let emb = encoder.encode(&texts)?;
    let centroids = CentroidHead::fit(&emb.data, emb.dim, &labels, groups.len()).centroids;
    // k + 1: each title finds itself too
    let near = nearest_neighbours(&centroids, &centroids, emb.dim, k + 1);
    Ok(near
        .into_iter()
        .enumerate()
        .map(|(t, hits)| {
            hits.into_iter()
                .map(|(_, o)| o as usize)
                .filter(|&o| o != t)
                .take(k)
                .collect()
        })
        .collect())
}

/// One hard negative per pair of every batch: (title index, text index) of a text of one of
/// the anchor title's `confusable` titles that has no pair in the batch (uniformly among
/// them), else of any title not in the batch. A negative never shares a title with a pair of
/// its batch: every anchor scores every negative, so one of its own title would be a false
/// negative. A batch that holds every title gets none (in-batch negatives only).
fn draw_negatives(
    plan: &[Vec<Pair>],
    confusable: &[Vec<usize>],
    sizes: &[usize],
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<(usize, usize)>> {
    plan.iter()
        .map(|batch| {
            let in_batch: HashSet<usize> = batch.iter().map(|p| p.0).collect();
            let outside: Vec<usize> = (0..sizes.len())
                .filter(|o| !in_batch.contains(o) && sizes[*o] > 0)
                .collect();
            if outside.is_empty() {
                return Vec::new();
            }
            batch
                .iter()
                .map(|&(t, _, _)| {
                    let near: Vec<usize> = confusable[t]
                        .iter()
                        .copied()
                        .filter(|o| !in_batch.contains(o) && sizes[*o] > 0)
                        .collect();
                    let pool = if near.is_empty() { &outside } else { &near };
                    let title = pool[rng.random_range(0..pool.len())];
                    (title, rng.random_range(0..sizes[title]))
                })
                .collect()
        })
        .collect()
}

/// Fails unless every trainable variable received a gradient: a forward pass that leaves the
/// autograd graph (a fused op without backward) makes `backward()` silently return nothing
/// for the variables behind it, and the optimizer then changes no weight.
fn check_gradients(
    grads: &candle_core::backprop::GradStore,
    varmap: &VarMap,
) -> Result<(), ClassifyError> {
    let data = varmap.data().lock().map_err(terr)?;
    let mut missing: Vec<&str> = data
        .iter()
        .filter(|(_, var)| grads.get(var.as_tensor()).is_none())
        .map(|(name, _)| name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort_unstable();
    Err(ClassifyError::Training(format!(
        "{} of {} weight tensors receive no gradient (e.g. {}): the model's forward pass is \
         not differentiable, so training would change nothing",
        missing.len(),
        data.len(),
        missing[..missing.len().min(3)].join(", ")
    )))
}

/// Number of trained tensors that differ from the base weights (any element).
fn changed_tensors(
    base: &HashMap<String, Tensor>,
    varmap: &VarMap,
) -> Result<usize, ClassifyError> {
    let data = varmap.data().lock().map_err(terr)?;
    let mut changed = 0;
    for (name, var) in data.iter() {
        let differs = match base.get(name) {
            Some(b) => {
                (var.as_tensor() - b)?
                    .abs()?
                    .flatten_all()?
                    .max(0)?
                    .to_scalar::<f32>()?
                    > 0.0
            }
            None => true,
        };
        changed += differs as usize;
    }
    Ok(changed)
}

/// One anchor/positive pair: (title index, anchor text index, positive text index).
pub(crate) type Pair = (usize, usize, usize);

/// The batches of one epoch. `sizes[t]` is the number of distinct texts of title `t` (titles
/// with fewer than two are skipped). Every batch holds distinct titles; a last batch with
/// fewer than two pairs is dropped (it would have no negative).
pub(crate) fn epoch_batches(
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

/// The BERT or MPNet model of a sentence-transformers directory as trainable variables (by
/// `config.json`'s `model_type`): the network,
/// its `VarMap` (what the optimizer updates) and the base tensors (every tensor of the file,
/// for the writer and the no-change check).
fn load_trainable(
    dir: &Path,
    device: &Device,
) -> Result<(Trainable, VarMap, HashMap<String, Tensor>), ClassifyError> {
    let cfg_path = dir.join("config.json");
    let cfg_text =
        std::fs::read_to_string(&cfg_path).map_err(|e| ClassifyError::io(&cfg_path, e))?;
    let cfg_json: serde_json::Value = serde_json::from_str(&cfg_text)
        .map_err(|e| ClassifyError::Format(format!("{}: {e}", cfg_path.display())))?;
    let model_type = cfg_json
        .get("model_type")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if model_type != "bert" && model_type != "mpnet" {
        return Err(ClassifyError::Training(format!(
            "{}: model_type {model_type:?}; fine-tuning supports {}",
            cfg_path.display(),
            TrainableEncoder::SUPPORTED
        )));
    }
    let bad_config =
        |e: serde_json::Error| ClassifyError::Format(format!("{}: {e}", cfg_path.display()));
    let tok_path = dir.join("tokenizer.json");
    let mut tokenizer = tokenizers::Tokenizer::from_file(&tok_path)
        .map_err(|e| ClassifyError::Format(format!("{}: {e}", tok_path.display())))?;
    // the tokenizer's own padding id, else the architecture's (as jobshift-encode does)
    let pad_id = match tokenizer.get_padding() {
        Some(p) => p.pad_id,
        None if model_type == "mpnet" => 1,
        None => 0,
    };
    tokenizer.with_padding(None);
    let _ = tokenizer.with_truncation(None);
    let weights = dir.join("model.safetensors");
    let base_tensors = candle_core::safetensors::load(&weights, device)
        .map_err(|e| ClassifyError::Training(format!("{}: {e}", weights.display())))?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
    // checkpoints saved from BertForX / MPNetForX carry a "bert." / "mpnet." prefix
    let prefix = model_type.as_str();
    let vb = if base_tensors
        .keys()
        .any(|k| k.strip_prefix(prefix).is_some_and(|r| r.starts_with('.')))
    {
        vb.pp(prefix)
    } else {
        vb
    };
    let model = if model_type == "mpnet" {
        let config: crate::trainable_mpnet::Config =
            serde_json::from_str(&cfg_text).map_err(bad_config)?;
        TrainableEncoder::Mpnet(TrainableMpnet::load(vb, &config)?)
    } else {
        let config: crate::trainable_bert::Config =
            serde_json::from_str(&cfg_text).map_err(bad_config)?;
        TrainableEncoder::Bert(TrainableBert::load(vb, &config)?)
    };
    {
        // every variable takes its value from the file; one missing is an error (a checkpoint
        // whose names do not match is reported, never trained from random weights)
        let data = varmap.data().lock().map_err(terr)?;
        for (name, var) in data.iter() {
            let value = base_tensors.get(name).ok_or_else(|| {
                ClassifyError::Training(format!(
                    "{}: no tensor {name} (expected a {model_type} checkpoint)",
                    weights.display()
                ))
            })?;
            let value = value.to_dtype(DType::F32)?;
            var.set(&value).map_err(|e| {
                ClassifyError::Training(format!("{}: {name}: {e}", weights.display()))
            })?;
        }
    }
    let net = Trainable {
        model,
        tokenizer,
        pad_id,
        device: device.clone(),
    };
    Ok((net, varmap, base_tensors))
}

/// Fine-tune `opts.model` on `opts.examples`; writes a sentence-transformers directory.
pub fn finetune(opts: &FinetuneOptions) -> Result<FinetuneReport, ClassifyError> {
    let start = Instant::now();
    let dir = jobshift_encode::resolve_model(&opts.model)?;
    let base_id = jobshift_encode::registry::model_id_for(&opts.model, &dir);
    let device = training_device(&opts.device)?;
    let (net, varmap, base_tensors) = load_trainable(&dir, &device)?;

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
    let negatives = if opts.hard_negatives > 0 {
        let encoder = jobshift_encode::load_encoder(&dir.to_string_lossy())?;
        let confusable = confusable_titles(&encoder, &groups, opts.hard_negatives)?;
        draw_negatives(&plan, &confusable, &sizes, &mut rng)
    } else {
        Vec::new()
    };
    let mut opt = candle_nn::AdamW::new(
        varmap.all_vars(),
        candle_nn::ParamsAdamW {
            lr: opts.lr,
            weight_decay: 0.01,
            ..Default::default()
        },
    )?;
    let pb = crate::progress_bar(
        opts.progress,
        total as u64,
        "fine-tuning [{bar:30}] {pos}/{len} steps, loss {msg} (eta {eta})",
    );
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
        let hard: Vec<&str> = match negatives.get(step) {
            Some(batch) => batch.iter().map(|&(t, i)| groups[t][i].as_str()).collect(),
            None => Vec::new(),
        };
        // anchors, positives (and negatives) in one forward pass (larger products than three
        // small batches)
        let texts: Vec<&str> = anchors
            .iter()
            .chain(&positives)
            .chain(&hard)
            .copied()
            .collect();
        let all = net.embed(&texts, opts.max_len)?;
        let n = anchors.len();
        let hard = match hard.is_empty() {
            true => None,
            false => Some(all.narrow(0, 2 * n, n)?),
        };
        let loss = mnrl_loss(&all.narrow(0, 0, n)?, &all.narrow(0, n, n)?, hard.as_ref())?;
        let grads = loss.backward()?;
        if step == 0 {
            check_gradients(&grads, &varmap)?;
        }
        opt.step(&grads)?;
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
        changed_tensors: changed_tensors(&base_tensors, &varmap)?,
        trained_tensors: varmap.all_vars().len(),
        seconds: 0.0,
    };
    if total > 0 && report.changed_tensors == 0 {
        return Err(ClassifyError::Training(format!(
            "{total} steps changed none of the {} weight tensors; nothing written",
            report.trained_tensors
        )));
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.model_id = write_model(&dir, &base_id, opts, &report, &varmap, base_tensors)?;
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
    base_tensors: HashMap<String, Tensor>,
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
    crate::copy_dir(base, tmp.path(), &|n| {
        n == "model.safetensors" || n.ends_with(".bin") || n.starts_with(".tmp-")
    })?;
    // the copied manifest (if any) describes the base model's files, not these
    let _ = std::fs::remove_file(tmp.path().join(jobshift_encode::manifest::MANIFEST_FILE));
    let weights = tmp.path().join("model.safetensors");
    // trained variables, plus every base tensor that was not trained (BERT's pooler,
    // position ids) so that transformers loads the directory without re-initializing anything
    let mut tensors = base_tensors;
    {
        let data = varmap.data().lock().map_err(terr)?;
        for (name, var) in data.iter() {
            // safetensors are written from host memory (a no-op on the CPU)
            tensors.insert(name.clone(), var.as_tensor().to_device(&Device::Cpu)?);
        }
    }
    candle_core::safetensors::save(&tensors, &weights).map_err(terr)?;
    let record = serde_json::json!({
        "base_model": base_id,
        "base_dir": base.display().to_string(),
        "examples": opts.examples.display().to_string(),
        "loss": match opts.hard_negatives {
            0 => "MultipleNegativesRankingLoss (in-batch negatives, scale 20, symmetric)",
            _ => "MultipleNegativesRankingLoss (in-batch and hard negatives, scale 20, symmetric)",
        },
        "hard_negatives": opts.hard_negatives,
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
    let mut record = record;
    let build_manifest = || {
        jobshift_encode::manifest::Manifest::build(
            tmp.path(),
            &out.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "finetuned".into()),
            "",
            &format!("finetune:{base_id}"),
        )
    };
    // The model id names the trained weights' hash, so the record (written into the same
    // directory, and itself listed in the manifest) gets it in a second pass.
    let hash = build_manifest()?
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .map(|f| f.sha256.get(..12).unwrap_or(&f.sha256).to_string())
        .unwrap_or_default();
    let short = base_id.rsplit('/').next().unwrap_or(base_id);
    let model_id = format!("jobshift-finetuned/{short}-{hash}");
    record["report"]["model_id"] = serde_json::Value::String(model_id.clone());
    jobshift_core::atomic::write_json(&rec_path, &record)
        .map_err(|e| ClassifyError::io(&rec_path, e))?;
    let mut manifest = build_manifest()?;
    manifest.repo_id = model_id.clone();
    manifest.write(tmp.path())?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| ClassifyError::io(out, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, out).map_err(|e| ClassifyError::io(out, e))?;
    Ok(model_id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_spec_is_parsed_and_a_missing_gpu_is_an_error_not_a_cpu_run() {
        assert!(matches!(training_device("cpu"), Ok(Device::Cpu)));
        assert!(matches!(training_device(" CPU "), Ok(Device::Cpu)));
        let bad = training_device("tpu:0").unwrap_err().to_string();
        assert!(bad.contains("expected cpu, cuda or cuda:N"), "{bad}");
        let bad = training_device("cuda:x").unwrap_err().to_string();
        assert!(bad.contains("expected cpu, cuda or cuda:N"), "{bad}");
        if !candle_core::utils::cuda_is_available() {
            let e = training_device("cuda:0").unwrap_err().to_string();
            assert!(e.contains("--features cuda"), "{e}");
        }
    }

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

    #[test]
    fn hard_negatives_come_from_near_titles_outside_the_batch() {
        let sizes = vec![3, 3, 3, 3, 3, 1];
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let plan = epoch_batches(&sizes, 2, 3, &mut rng);
        // title t's confusable titles: t+1 and t+2 (wrapping)
        let confusable: Vec<Vec<usize>> = (0..6).map(|t| vec![(t + 1) % 6, (t + 2) % 6]).collect();
        let negatives = draw_negatives(&plan, &confusable, &sizes, &mut rng.clone());
        assert_eq!(negatives.len(), plan.len());
        for (batch, negs) in plan.iter().zip(&negatives) {
            assert_eq!(negs.len(), batch.len());
            let titles: HashSet<usize> = batch.iter().map(|p| p.0).collect();
            for (&(t, _, _), &(n, i)) in batch.iter().zip(negs) {
                assert!(!titles.contains(&n), "negative {n} of a title in {batch:?}");
                assert!(i < sizes[n]);
                let near: Vec<usize> = confusable[t]
                    .iter()
                    .copied()
                    .filter(|o| !titles.contains(o))
                    .collect();
                assert!(
                    near.is_empty() || near.contains(&n),
                    "{t} drew {n}, near {near:?}"
                );
            }
        }
        // deterministic given the generator's state
        assert_eq!(
            negatives,
            draw_negatives(&plan, &confusable, &sizes, &mut rng.clone())
        );
        // a batch that holds every title gets none
        let all = vec![vec![(0, 0, 1), (1, 0, 1)]];
        assert!(draw_negatives(&all, &[vec![1], vec![0]], &[2, 2], &mut rng)[0].is_empty());
    }

    /// Texts embedded as fixed vectors by their first letter (a: x axis, b: y axis, c: between).
    struct LetterEncoder;
    impl jobshift_encode::Encoder for LetterEncoder {
        fn model_id(&self) -> &str {
            "letters"
        }
        fn dim(&self) -> usize {
            2
        }
        fn encode(
            &self,
            texts: &[&str],
        ) -> Result<jobshift_encode::Embeddings, jobshift_encode::EncodeError> {
            let data = texts
                .iter()
                .flat_map(|t| match t.as_bytes().first() {
                    Some(b'a') => [1.0, 0.0],
                    Some(b'b') => [0.0, 1.0],
                    _ => [0.7, 0.6],
                })
                .collect();
            Ok(jobshift_encode::Embeddings { dim: 2, data })
        }
    }

    #[test]
    fn confusable_titles_are_the_nearest_centroids() {
        let a = vec!["a1".to_string(), "a2".into()];
        let b = vec!["b1".to_string()];
        let c = vec!["c1".to_string(), "c2".into(), "a3".into()];
        let near = confusable_titles(&LetterEncoder, &[&a, &b, &c], 2).unwrap();
        // c's centroid leans to a: a is nearest to c, c to both
        assert_eq!(near, vec![vec![2, 1], vec![2, 0], vec![0, 1]]);
        let one = confusable_titles(&LetterEncoder, &[&a, &b, &c], 1).unwrap();
        assert_eq!(one, vec![vec![2], vec![2], vec![0]]);
    }

    #[test]
    fn the_loss_with_hard_negatives_scores_them_against_the_anchors() {
        let dev = Device::Cpu;
        let unit = |v: [[f32; 2]; 2]| Tensor::new(&v, &dev).unwrap();
        let a = unit([[1.0, 0.0], [0.0, 1.0]]);
        let p = unit([[1.0, 0.0], [0.0, 1.0]]);
        let far = unit([[-1.0, 0.0], [0.0, -1.0]]);
        let near = unit([[1.0, 0.0], [0.0, 1.0]]);
        let loss = |n: Option<&Tensor>| mnrl_loss(&a, &p, n).unwrap().to_scalar::<f32>().unwrap();
        let plain = loss(None);
        // a negative opposite the anchor adds almost nothing; one equal to it costs ln 2 / 2
        assert!((loss(Some(&far)) - plain).abs() < 1e-6);
        assert!((loss(Some(&near)) - plain - std::f32::consts::LN_2 / 2.0).abs() < 1e-3);
    }

    /// Deep copies of every variable (the optimizer updates variables in place).
    fn snapshot(varmap: &VarMap) -> HashMap<String, Tensor> {
        let data = varmap.data().lock().unwrap();
        data.iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().copy().unwrap()))
            .collect()
    }

    /// Layers (by index) none of whose weight tensors differ from `before`.
    fn unchanged_layers(
        before: &HashMap<String, Tensor>,
        varmap: &VarMap,
        layers: usize,
    ) -> Vec<usize> {
        let data = varmap.data().lock().unwrap();
        let changed = |name: &str| {
            crate::trainable_ops::max_abs_diff(data[name].as_tensor(), &before[name]) > 0.0
        };
        (0..layers)
            .filter(|i| {
                let prefix = format!("encoder.layer.{i}.");
                !data.keys().any(|n| n.contains(&prefix) && changed(n))
            })
            .collect()
    }

    fn adamw(varmap: &VarMap, lr: f64) -> candle_nn::AdamW {
        candle_nn::AdamW::new(
            varmap.all_vars(),
            candle_nn::ParamsAdamW {
                lr,
                weight_decay: 0.01,
                ..Default::default()
            },
        )
        .unwrap()
    }

    /// 4 anchor/positive pairs of token ids padded with `pad`: [anchors, anchor mask,
    /// positives, positive mask].
    fn tiny_batch(pad: u32) -> [Tensor; 4] {
        const P: u32 = u32::MAX; // padding placeholder
        let anchors = [
            [2u32, 5, 6, 3, P],
            [2, 9, 3, P, P],
            [2, 14, 15, 16, 3],
            [2, 21, 3, P, P],
        ];
        let positives = [
            [2u32, 5, 7, 3, P],
            [2, 9, 10, 3, P],
            [2, 14, 17, 3, P],
            [2, 22, 21, 3, P],
        ];
        let ids_and_mask = |rows: [[u32; 5]; 4]| {
            let ids: Vec<u32> = rows
                .iter()
                .flatten()
                .map(|&t| if t == P { pad } else { t })
                .collect();
            let mask: Vec<u32> = rows.iter().flatten().map(|&t| (t != P) as u32).collect();
            (
                Tensor::from_vec(ids, (4, 5), &Device::Cpu).unwrap(),
                Tensor::from_vec(mask, (4, 5), &Device::Cpu).unwrap(),
            )
        };
        let (a, am) = ids_and_mask(anchors);
        let (p, pm) = ids_and_mask(positives);
        [a, am, p, pm]
    }

    /// A 2-layer, 16-wide random BERT (no download), its variables, a batch (padding 0) and
    /// its layer count.
    fn tiny_bert() -> (TrainableEncoder, VarMap, [Tensor; 4], usize) {
        let cfg = crate::trainable_bert::tiny_config();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = TrainableEncoder::Bert(TrainableBert::load(vb, &cfg).unwrap());
        (model, varmap, tiny_batch(0), cfg.num_hidden_layers)
    }

    /// A 2-layer, 16-wide random MPNet (no download), as [`tiny_bert`] (padding id 1).
    fn tiny_mpnet() -> (TrainableEncoder, VarMap, [Tensor; 4], usize) {
        let cfg = crate::trainable_mpnet::tiny_config();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = TrainableEncoder::Mpnet(TrainableMpnet::load(vb, &cfg).unwrap());
        let batch = tiny_batch(cfg.pad_token_id);
        (model, varmap, batch, cfg.num_hidden_layers)
    }

    fn tiny_loss(model: &TrainableEncoder, batch: &[Tensor; 4]) -> Tensor {
        let a = embed_ids(model, &batch[0], &batch[1]).unwrap();
        let p = embed_ids(model, &batch[2], &batch[3]).unwrap();
        mnrl_loss(&a, &p, None).unwrap()
    }

    /// One AdamW step gives every variable a gradient and changes every tensor of every layer;
    /// the loss on the same batch falls over 5 steps.
    fn one_step_changes_everything_and_loss_falls(
        (model, varmap, batch, layers): (TrainableEncoder, VarMap, [Tensor; 4], usize),
    ) {
        let mut opt = adamw(&varmap, 1e-2);
        let before = snapshot(&varmap);
        let loss0 = tiny_loss(&model, &batch);
        let first = loss0.to_scalar::<f32>().unwrap();
        let grads = loss0.backward().unwrap();
        check_gradients(&grads, &varmap).expect("every weight gets a gradient");
        opt.step(&grads).unwrap();
        assert_eq!(
            unchanged_layers(&before, &varmap, layers),
            Vec::<usize>::new()
        );
        assert_eq!(changed_tensors(&before, &varmap).unwrap(), before.len());
        for _ in 0..4 {
            opt.backward_step(&tiny_loss(&model, &batch)).unwrap();
        }
        let last = tiny_loss(&model, &batch).to_scalar::<f32>().unwrap();
        assert!(
            last < first,
            "loss {first} → {last} after 5 steps on the same batch"
        );
    }

    #[test]
    fn one_step_changes_every_layer_and_loss_falls_tiny_bert() {
        one_step_changes_everything_and_loss_falls(tiny_bert());
    }

    #[test]
    fn one_step_changes_every_layer_and_loss_falls_tiny_mpnet() {
        let tiny = tiny_mpnet();
        // embeddings (4), 16 per layer, the shared relative-position bias table
        assert_eq!(tiny.1.all_vars().len(), 4 + 16 * tiny.3 + 1);
        one_step_changes_everything_and_loss_falls(tiny);
    }

    /// The defect this crate's trainable BERT works around: candle-transformers' `BertModel`
    /// leaves the autograd graph at its fused layer norm, so no weight gets a gradient. If this
    /// test fails, candle's BERT became differentiable and `trainable_bert` could be retired.
    #[test]
    fn candle_transformers_bert_gives_no_gradient() {
        let (_, _, batch, _) = tiny_bert();
        let cfg = crate::trainable_bert::tiny_config();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let bert = candle_transformers::models::bert::BertModel::load(vb, &cfg).unwrap();
        let embed = |ids: &Tensor, mask: &Tensor| {
            let h = bert
                .forward(ids, &ids.zeros_like().unwrap(), Some(mask))
                .unwrap();
            mean_pool_normalize(&h, mask).unwrap()
        };
        let loss = mnrl_loss(
            &embed(&batch[0], &batch[1]),
            &embed(&batch[2], &batch[3]),
            None,
        )
        .unwrap();
        let grads = loss.backward().unwrap();
        let err = check_gradients(&grads, &varmap).unwrap_err().to_string();
        assert!(err.contains("receive no gradient"), "{err}");
    }

    /// An encoder from the jobshift cache, or None (the test then skips).
    fn installed(name: &str) -> Option<PathBuf> {
        match jobshift_encode::resolve_model(name) {
            Ok(dir) if dir.join("model.safetensors").exists() => Some(dir),
            _ => {
                jobshift_core::test_support::skip_missing(&format!(
                    "the {name} model (jobshift model fetch {name})"
                ));
                None
            }
        }
    }

    fn minilm() -> Option<PathBuf> {
        installed("minilm")
    }

    #[test]
    fn unsupported_model_type_is_refused_with_the_supported_list() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("config.json"),
            r#"{"model_type": "roberta"}"#,
        )
        .unwrap();
        let err = load_trainable(tmp.path(), &Device::Cpu)
            .err()
            .expect("roberta is refused");
        let msg = err.to_string();
        assert!(
            msg.contains("\"roberta\"") && msg.contains("\"bert\"") && msg.contains("\"mpnet\""),
            "{msg}"
        );
    }

    fn mpnet() -> Option<PathBuf> {
        installed("mpnet")
    }

    const TITLES: [(&str, &str); 6] = [
        ("software engineer", "backend developer"),
        ("registered nurse", "rn, icu"),
        ("data scientist", "machine learning scientist"),
        ("account executive", "enterprise sales rep"),
        ("graphic designer", "visual designer"),
        ("medical coder", "coding specialist, hospital billing"),
    ];

    #[test]
    fn minilm_finetune_writes_a_loadable_model_with_its_id() {
        let Some(_) = minilm() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let examples = tmp.path().join("examples.jsonl");
        let mut lines = String::new();
        for (i, (a, b)) in TITLES.iter().enumerate() {
            for t in [a, b] {
                let ex = LabeledExample {
                    title: t.to_string(),
                    description: None,
                    title_id: format!("title_{i}"),
                    source: jobshift_core::labels::LabelSource::TaxonomyAlias,
                    confidence: 1.0,
                    posting_id: None,
                };
                lines.push_str(&serde_json::to_string(&ex).unwrap());
                lines.push('\n');
            }
        }
        std::fs::write(&examples, lines).unwrap();
        let out = tmp.path().join("ft");
        let rep = finetune(&FinetuneOptions {
            examples,
            out: out.clone(),
            batch_size: 6,
            max_steps: 1,
            max_len: 16,
            lr: 5e-5,
            ..FinetuneOptions::default()
        })
        .unwrap();
        assert!(
            rep.model_id.starts_with("jobshift-finetuned/"),
            "{}",
            rep.model_id
        );
        let record: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("jobshift-finetune.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(record["report"]["model_id"], rep.model_id.as_str());
        // the directory loads as an encoder (manifest hashes match the files written)
        let enc = jobshift_encode::load_encoder(out.to_str().unwrap()).unwrap();
        assert_eq!(enc.encode(&["data scientist"]).unwrap().data.len(), 384);
    }

    /// The trainable network's pooled embeddings of the 12 [`TITLES`] (one padded batch) have
    /// cosine ≥ 0.9999 to the inference encoder's (`load_encoder`) for the model in `dir`.
    fn assert_trainable_forward_matches_the_inference_encoder(dir: &Path) {
        let (net, _, _) = load_trainable(dir, &Device::Cpu).unwrap();
        let texts: Vec<&str> = TITLES.iter().flat_map(|(a, b)| [*a, *b]).collect();
        let ours = net.embed(&texts, 128).unwrap().to_vec2::<f32>().unwrap();
        let encoder = jobshift_encode::load_encoder(dir.to_str().unwrap()).unwrap();
        let reference = encoder.encode(&texts).unwrap();
        assert_eq!(ours[0].len(), reference.dim);
        for (i, row) in ours.iter().enumerate() {
            let r = reference.row(i);
            let dot: f32 = row.iter().zip(r).map(|(a, b)| a * b).sum();
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let cos = dot / (norm(row) * norm(r));
            assert!(cos >= 0.9999, "{:?}: cosine {cos}", texts[i]);
        }
    }

    #[test]
    fn minilm_trainable_forward_matches_the_inference_encoder() {
        let Some(dir) = minilm() else { return };
        assert_trainable_forward_matches_the_inference_encoder(&dir);
    }

    #[test]
    fn mpnet_trainable_forward_matches_the_inference_encoder() {
        let Some(dir) = mpnet() else { return };
        assert_trainable_forward_matches_the_inference_encoder(&dir);
    }

    #[test]
    fn minilm_one_step_changes_every_layer_and_loss_falls() {
        let Some(dir) = minilm() else { return };
        let (net, varmap, base) = load_trainable(&dir, &Device::Cpu).unwrap();
        let anchors: Vec<&str> = TITLES.iter().map(|p| p.0).collect();
        let positives: Vec<&str> = TITLES.iter().map(|p| p.1).collect();
        let loss = || {
            mnrl_loss(
                &net.embed(&anchors, 32).unwrap(),
                &net.embed(&positives, 32).unwrap(),
                None,
            )
            .unwrap()
        };
        let mut opt = adamw(&varmap, 5e-5);
        let l0 = loss();
        let first = l0.to_scalar::<f32>().unwrap();
        let grads = l0.backward().unwrap();
        check_gradients(&grads, &varmap).unwrap();
        opt.step(&grads).unwrap();
        assert_eq!(unchanged_layers(&base, &varmap, 6), Vec::<usize>::new());
        for _ in 0..2 {
            opt.backward_step(&loss()).unwrap();
        }
        let last = loss().to_scalar::<f32>().unwrap();
        assert!(
            last < first,
            "loss {first} → {last} after 3 steps on the same batch"
        );
    }
}

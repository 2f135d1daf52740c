//! Contrastive fine-tuning of a BERT-family sentence encoder (e.g. all-MiniLM-L6-v2) in candle:
//! MultipleNegativesRanking loss with in-batch negatives on pairs of texts that share a
//! taxonomy title (the study fine-tuned all-mpnet-base-v2 on pairs of job descriptions).
//!
//! The model's safetensors are loaded into a candle `VarMap` (trainable variables) and
//! candle-transformers' `BertModel` is built over it; pooling is the mean over real tokens,
//! then L2 normalization, as in the sentence-transformers model. Each step takes `batch_size`
//! distinct titles, two different example texts of each (anchor, positive); the loss is the
//! cross-entropy of `20 · cos(anchor_i, positive_j)` against `j = i`, symmetrized. The output
//! directory is a copy of the base model directory with `model.safetensors` replaced, so
//! `jobshift_encode::load_encoder(out)` loads it. MPNet (candle-transformers has no trainable
//! MPNet) is not supported here; the GPU path is the `cuda` feature of candle.

use crate::seniority::clean_title;
use crate::ClassifyError;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use jobshift_core::labels::LabeledExample;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
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
    pub seed: u64,
    pub progress: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FinetuneReport {
    pub out: PathBuf,
    pub steps: usize,
    pub pairs_per_step: usize,
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

/// Fine-tune `opts.model` on `opts.examples`; writes a sentence-transformers directory.
pub fn finetune(opts: &FinetuneOptions) -> Result<FinetuneReport, ClassifyError> {
    let start = Instant::now();
    let dir = jobshift_encode::resolve_model(&opts.model)?;
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
    varmap
        .load(&weights)
        .map_err(|e| ClassifyError::Training(format!("{}: {e}", weights.display())))?;
    let net = Trainable {
        model,
        tokenizer,
        device,
    };

    let by_title = texts_by_title(&opts.examples)?;
    let pairable: Vec<(&String, &Vec<String>)> =
        by_title.iter().filter(|(_, v)| v.len() >= 2).collect();
    if pairable.len() < 2 {
        return Err(ClassifyError::Training(format!(
            "{}: fewer than two titles with two or more examples; nothing to contrast",
            opts.examples.display()
        )));
    }
    let batch = opts.batch_size.clamp(2, pairable.len());
    let steps_per_epoch = pairable.len() / batch;
    let mut total = steps_per_epoch * opts.epochs.max(1);
    if opts.max_steps > 0 {
        total = total.min(opts.max_steps);
    }
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
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let labels = Tensor::arange(0u32, batch as u32, &net.device)?;
    let (mut first_loss, mut last_loss, mut step) = (f32::NAN, f32::NAN, 0usize);
    let warmup = (total / 10).max(1);
    'outer: for _epoch in 0..opts.epochs.max(1) {
        let mut order: Vec<usize> = (0..pairable.len()).collect();
        order.shuffle(&mut rng);
        for chunk in order.chunks_exact(batch) {
            if step >= total {
                break 'outer;
            }
            let mut anchors = Vec::with_capacity(batch);
            let mut positives = Vec::with_capacity(batch);
            for &ti in chunk {
                let texts = pairable[ti].1;
                let mut pick: Vec<usize> = (0..texts.len()).collect();
                pick.shuffle(&mut rng);
                anchors.push(texts[pick[0]].as_str());
                positives.push(texts[pick[1]].as_str());
            }
            let lr = if step < warmup {
                opts.lr * (step + 1) as f64 / warmup as f64
            } else {
                opts.lr * (total - step) as f64 / (total - warmup).max(1) as f64
            };
            opt.set_learning_rate(lr);
            let a = net.embed(&anchors, 64)?;
            let p = net.embed(&positives, 64)?;
            let scores = (a.matmul(&p.t()?)? * 20.0)?;
            let l1 = candle_nn::loss::cross_entropy(&scores, &labels)?;
            let l2 = candle_nn::loss::cross_entropy(&scores.t()?, &labels)?;
            let loss = ((l1 + l2)? * 0.5)?;
            opt.backward_step(&loss)?;
            let lv = loss.to_scalar::<f32>()?;
            if step == 0 {
                first_loss = lv;
            }
            last_loss = lv;
            step += 1;
            pb.set_message(format!("{lv:.3}"));
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let _ = D::Minus1;
    write_model(&dir, &opts.out, &varmap)?;
    Ok(FinetuneReport {
        out: opts.out.clone(),
        steps: step,
        pairs_per_step: batch,
        first_loss,
        final_loss: last_loss,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Copy the base model directory to `out` (atomically: into a temp dir, then rename) with the
/// trained weights as `model.safetensors`.
fn write_model(base: &Path, out: &Path, varmap: &VarMap) -> Result<(), ClassifyError> {
    let parent = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ClassifyError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-finetune-")
        .tempdir_in(parent)
        .map_err(|e| ClassifyError::io(parent, e))?;
    copy_dir(base, tmp.path())?;
    let weights = tmp.path().join("model.safetensors");
    varmap.save(&weights).map_err(terr)?;
    // the copied manifest (if any) describes the base model's files, not these
    let _ = std::fs::remove_file(tmp.path().join(jobshift_encode::manifest::MANIFEST_FILE));
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| ClassifyError::io(out, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, out).map_err(|e| ClassifyError::io(out, e))?;
    Ok(())
}

fn copy_dir(src: &Path, dst: &Path) -> Result<(), ClassifyError> {
    for e in std::fs::read_dir(src).map_err(|e| ClassifyError::io(src, e))? {
        let e = e.map_err(|e| ClassifyError::io(src, e))?;
        let p = e.path();
        let name = e.file_name();
        if name.to_string_lossy() == "model.safetensors" || name.to_string_lossy().ends_with(".bin")
        {
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

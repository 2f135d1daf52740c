//! `SentenceTransformer`: a sentence-transformers model directory run natively with candle.
//!
//! Pipeline, matching `sentence_transformers.SentenceTransformer.encode`:
//! 1. lower-case each text when `do_lower_case` is set (sentence-transformers ≥ 5 no longer
//!    strips texts; for WordPiece tokenizers stripping makes no difference anyway);
//! 2. tokenize with the model's `tokenizer.json`, truncating (longest-first, special tokens
//!    included) at `max_seq_length`, without the fixed padding some `tokenizer.json` files carry;
//! 3. run the transformer (BERT from candle-transformers, or [`crate::engines::mpnet`]) on batches padded
//!    to their longest member, with an attention mask;
//! 4. pool as configured (cls / max / mean / mean_sqrt_len / weighted mean / last token, in
//!    sentence-transformers' concatenation order), apply `Dense` modules, then `Normalize`.
//!
//! Throughput: texts are tokenized in chunks (in parallel, by the tokenizers crate), sorted by
//! token count so each batch holds texts of similar length (little padding), and batches are
//! capped both in texts and in tokens so long inputs do not blow up attention memory. Token ids
//! and masks go into buffers reused across batches; pooling reads the hidden states in place and
//! writes straight into the output rows.

use crate::engines::mpnet;
use crate::engines::packed_cpu as packed;
use crate::error::EncodeError;
use crate::st_config::{DenseConfig, PoolingMode, StConfig};
use crate::{Embeddings, Encoder};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub use crate::device::{parse_dtype, LoadOptions};

/// Texts tokenized per chunk; sorting by length happens within a chunk.
const TOKENIZE_CHUNK: usize = 4096;

enum Backbone {
    Bert(bert::BertModel),
    MPNet(mpnet::MPNetModel),
    /// f32 on the CPU: the packed engine (no padding, fused attention), see [`crate::engines::packed_cpu`].
    Packed(packed::PackedModel),
}

impl Backbone {
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Backbone::Bert(m) => {
                let token_types = ids.zeros_like()?;
                m.forward(ids, &token_types, Some(mask))
            }
            Backbone::MPNet(m) => m.forward(ids, mask),
            Backbone::Packed(_) => candle_core::bail!("the packed engine has no padded forward"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum DenseActivation {
    Identity,
    Tanh,
    Relu,
    Sigmoid,
    Gelu,
}

struct DenseLayer {
    linear: candle_nn::Linear,
    activation: DenseActivation,
}

impl DenseLayer {
    fn load(cfg: &DenseConfig, device: &Device) -> Result<Self, EncodeError> {
        let activation = match cfg.activation_function.rsplit('.').next().unwrap_or("") {
            "Identity" => DenseActivation::Identity,
            "Tanh" => DenseActivation::Tanh,
            "ReLU" => DenseActivation::Relu,
            "Sigmoid" => DenseActivation::Sigmoid,
            "GELU" => DenseActivation::Gelu,
            other => {
                return Err(EncodeError::Unsupported(format!(
                    "{}: Dense activation {other:?}",
                    cfg.dir.display()
                )))
            }
        };
        let weights = cfg.dir.join("model.safetensors");
        if !weights.exists() {
            return Err(EncodeError::Unsupported(format!(
                "{}: Dense module without model.safetensors (convert its pytorch_model.bin)",
                cfg.dir.display()
            )));
        }
        // SAFETY: the file is memory-mapped read-only and kept alive by the VarBuilder; it is not
        // modified while the model is loaded (jobshift's cache replaces files by rename only).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, device)? };
        let linear =
            candle_nn::linear_b(cfg.in_features, cfg.out_features, cfg.bias, vb.pp("linear"))?;
        Ok(DenseLayer { linear, activation })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let ys = self.linear.forward(xs)?;
        match self.activation {
            DenseActivation::Identity => Ok(ys),
            DenseActivation::Tanh => ys.tanh(),
            DenseActivation::Relu => ys.relu(),
            DenseActivation::Sigmoid => candle_nn::ops::sigmoid(&ys),
            DenseActivation::Gelu => ys.gelu_erf(),
        }
    }
}

/// Buffers reused across batches (no per-text allocation on the hot path).
#[derive(Default)]
struct BatchScratch {
    ids: Vec<u32>,
    mask: Vec<u32>,
    lens: Vec<usize>,
    pooled: Vec<f32>,
}

/// A sentence-transformers model running on candle.
pub struct SentenceTransformer {
    model_id: String,
    dir: PathBuf,
    tokenizer: Tokenizer,
    backbone: Backbone,
    pooling: Vec<PoolingMode>,
    dense: Vec<DenseLayer>,
    normalize: bool,
    max_seq_length: usize,
    do_lower_case: bool,
    hidden_size: usize,
    dim: usize,
    pad_id: u32,
    options: LoadOptions,
    num_layers: usize,
    intermediate_size: usize,
    /// Floating-point operations of the transformer forward passes so far (benchmarks).
    flops: AtomicU64,
    /// Token positions processed, real and padded (benchmarks).
    tokens_real: AtomicU64,
    tokens_padded: AtomicU64,
}

#[derive(serde::Deserialize)]
struct ArchProbe {
    model_type: Option<String>,
    max_position_embeddings: Option<usize>,
    hidden_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    intermediate_size: Option<usize>,
    vocab_size: Option<usize>,
    num_attention_heads: Option<usize>,
    layer_norm_eps: Option<f64>,
    hidden_act: Option<String>,
    position_embedding_type: Option<String>,
    pad_token_id: Option<u32>,
    relative_attention_num_buckets: Option<usize>,
}

impl ArchProbe {
    /// The packed engine's configuration, when it implements this model (BERT with absolute
    /// positions or MPNet; a known activation).
    fn packed_config(&self) -> Option<packed::PackedConfig> {
        let arch = match self.model_type.as_deref()? {
            "bert" => packed::PackedArch::Bert,
            "mpnet" => packed::PackedArch::MPNet,
            _ => return None,
        };
        if arch == packed::PackedArch::Bert
            && !matches!(
                self.position_embedding_type.as_deref(),
                None | Some("absolute")
            )
        {
            return None;
        }
        let hidden_size = self.hidden_size?;
        let num_heads = self.num_attention_heads?;
        if num_heads == 0 || hidden_size % num_heads != 0 {
            return None;
        }
        let default_eps = if arch == packed::PackedArch::Bert {
            1e-12
        } else {
            1e-5
        };
        Some(packed::PackedConfig {
            arch,
            vocab_size: self.vocab_size?,
            hidden_size,
            num_layers: self.num_hidden_layers?,
            num_heads,
            intermediate_size: self.intermediate_size?,
            max_position_embeddings: self.max_position_embeddings?,
            layer_norm_eps: self.layer_norm_eps.unwrap_or(default_eps) as f32,
            activation: packed::PackedActivation::from_hf(
                self.hidden_act.as_deref().unwrap_or("gelu"),
            )?,
            padding_idx: self.pad_token_id.unwrap_or(1),
            num_buckets: self.relative_attention_num_buckets.unwrap_or(32),
        })
    }
}

/// Whether to use the packed engine: f32 on the CPU, unless `JOBSHIFT_ENCODER_ENGINE=candle`
/// asks for candle (to compare the two).
fn packed_engine_wanted(options: &LoadOptions) -> bool {
    options.device.is_cpu()
        && options.dtype == DType::F32
        && std::env::var("JOBSHIFT_ENCODER_ENGINE").map_or(true, |v| v != "candle")
}

#[derive(serde::Deserialize, Default)]
struct TokenizerConfigProbe {
    model_max_length: Option<f64>,
    truncation_side: Option<String>,
}

fn read_json<T: for<'de> serde::Deserialize<'de>>(path: &Path) -> Result<T, EncodeError> {
    let bytes = std::fs::read(path).map_err(|e| EncodeError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| EncodeError::bad_file(path, e))
}

impl SentenceTransformer {
    /// Load a model directory. `model_id` names the model in outputs and cache keys.
    pub fn load(dir: &Path, model_id: &str, options: LoadOptions) -> Result<Self, EncodeError> {
        let st = StConfig::read(dir)?;
        let tdir = &st.transformer_dir;
        let config_path = tdir.join("config.json");
        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| EncodeError::io(&config_path, e))?;
        let probe: ArchProbe = serde_json::from_str(&config_text)
            .map_err(|e| EncodeError::bad_file(&config_path, e))?;
        let model_type = probe.model_type.clone().unwrap_or_default();

        let weights = tdir.join("model.safetensors");
        let vb = if weights.exists() {
            // SAFETY: read-only mmap of a file the cache never rewrites in place.
            unsafe {
                VarBuilder::from_mmaped_safetensors(&[&weights], options.dtype, &options.device)
            }
            .map_err(|e| EncodeError::bad_file(&weights, e))?
        } else if tdir.join("pytorch_model.bin").exists() {
            VarBuilder::from_pth(
                tdir.join("pytorch_model.bin"),
                options.dtype,
                &options.device,
            )
            .map_err(|e| EncodeError::bad_file(tdir.join("pytorch_model.bin"), e))?
        } else {
            return Err(EncodeError::bad_file(
                &weights,
                "missing (no model.safetensors or pytorch_model.bin)",
            ));
        };

        let packed_cfg = if packed_engine_wanted(&options) {
            probe.packed_config()
        } else {
            None
        };
        let backbone = match (model_type.as_str(), packed_cfg) {
            (_, Some(cfg)) => Backbone::Packed(
                packed::PackedModel::load(vb, cfg)
                    .map_err(|e| EncodeError::bad_file(&weights, e))?,
            ),
            ("bert", None) => {
                let cfg: bert::Config = serde_json::from_str(&config_text)
                    .map_err(|e| EncodeError::bad_file(&config_path, e))?;
                Backbone::Bert(
                    bert::BertModel::load(vb, &cfg).map_err(|e| EncodeError::bad_file(&weights, e))?,
                )
            }
            ("mpnet", None) => {
                let cfg: mpnet::Config = serde_json::from_str(&config_text)
                    .map_err(|e| EncodeError::bad_file(&config_path, e))?;
                Backbone::MPNet(
                    mpnet::MPNetModel::load(vb, &cfg)
                        .map_err(|e| EncodeError::bad_file(&weights, e))?,
                )
            }
            (other, None) => {
                return Err(EncodeError::Unsupported(format!(
                    "{}: model_type {other:?}; jobshift runs BERT-family (\"bert\") and \"mpnet\" models",
                    config_path.display()
                )))
            }
        };
        let hidden_size = probe
            .hidden_size
            .ok_or_else(|| EncodeError::bad_file(&config_path, "no hidden_size"))?;

        // max_seq_length as sentence_transformers.models.Transformer decides it.
        let tok_cfg_path = tdir.join("tokenizer_config.json");
        let tok_cfg: TokenizerConfigProbe = if tok_cfg_path.exists() {
            read_json(&tok_cfg_path)?
        } else {
            TokenizerConfigProbe::default()
        };
        let max_seq_length = match st.max_seq_length {
            Some(m) => m,
            None => {
                let pos = probe.max_position_embeddings.unwrap_or(512);
                let tok = tok_cfg
                    .model_max_length
                    .filter(|m| *m > 0.0 && *m < 1e9)
                    .map(|m| m as usize)
                    .unwrap_or(pos);
                pos.min(tok)
            }
        };
        let direction = match tok_cfg.truncation_side.as_deref() {
            Some("left") => TruncationDirection::Left,
            _ => TruncationDirection::Right,
        };

        let tok_path = tdir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| EncodeError::bad_file(&tok_path, format!("cannot load tokenizer: {e}")))?;
        let pad_id = match tokenizer.get_padding() {
            Some(p) => p.pad_id,
            None => match &backbone {
                Backbone::MPNet(_) => 1,
                Backbone::Packed(m) if m.config().arch == packed::PackedArch::MPNet => 1,
                Backbone::Bert(_) | Backbone::Packed(_) => 0,
            },
        };
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction,
            }))
            .map_err(|e| EncodeError::bad_file(&tok_path, format!("truncation: {e}")))?;

        let dense = st
            .dense
            .iter()
            .map(|d| DenseLayer::load(d, &options.device))
            .collect::<Result<Vec<_>, _>>()?;
        let mut dim = hidden_size * st.pooling.modes.len();
        if let Some(last) = st.dense.last() {
            dim = last.out_features;
        }
        Ok(SentenceTransformer {
            model_id: model_id.to_string(),
            dir: dir.to_path_buf(),
            tokenizer,
            backbone,
            pooling: st.pooling.modes.clone(),
            dense,
            normalize: st.normalize,
            max_seq_length,
            do_lower_case: st.do_lower_case,
            hidden_size,
            dim,
            pad_id,
            options,
            num_layers: probe.num_hidden_layers.unwrap_or(0),
            intermediate_size: probe.intermediate_size.unwrap_or(4 * hidden_size),
            flops: AtomicU64::new(0),
            tokens_real: AtomicU64::new(0),
            tokens_padded: AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }
    pub fn hidden_size(&self) -> usize {
        self.hidden_size
    }
    pub fn pooling(&self) -> &[PoolingMode] {
        &self.pooling
    }
    pub fn normalizes(&self) -> bool {
        self.normalize
    }
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }
    /// Change batching without reloading (benchmarks compare batch sizes).
    pub fn set_batching(&mut self, batch_size: usize, max_batch_tokens: usize) {
        self.options.batch_size = batch_size.max(1);
        self.options.max_batch_tokens = max_batch_tokens.max(1);
    }
    /// Work counters since load or the last reset: (flops, real tokens, padded tokens).
    /// Flops count the matrix products of the transformer layers (2 per multiply-add): the
    /// Q/K/V/O and feed-forward projections and the two attention products.
    pub fn work_counters(&self) -> (u64, u64, u64) {
        (
            self.flops.load(Ordering::Relaxed),
            self.tokens_real.load(Ordering::Relaxed),
            self.tokens_padded.load(Ordering::Relaxed),
        )
    }
    pub fn reset_work_counters(&self) {
        self.flops.store(0, Ordering::Relaxed);
        self.tokens_real.store(0, Ordering::Relaxed);
        self.tokens_padded.store(0, Ordering::Relaxed);
    }

    fn count_work(&self, lens: &[usize], seq_len: usize) {
        let (b, l) = (lens.len() as u64, seq_len as u64);
        let (h, i) = (self.hidden_size as u64, self.intermediate_size as u64);
        let per_layer = 2 * b * l * (4 * h * h + 2 * h * i) + 2 * 2 * b * l * l * h;
        self.flops
            .fetch_add(per_layer * self.num_layers as u64, Ordering::Relaxed);
        self.tokens_real
            .fetch_add(lens.iter().sum::<usize>() as u64, Ordering::Relaxed);
        self.tokens_padded.fetch_add(b * l, Ordering::Relaxed);
    }

    /// "bert" or "mpnet".
    pub fn architecture(&self) -> &'static str {
        match &self.backbone {
            Backbone::Bert(_) => "bert",
            Backbone::MPNet(_) => "mpnet",
            Backbone::Packed(m) => match m.config().arch {
                packed::PackedArch::Bert => "bert",
                packed::PackedArch::MPNet => "mpnet",
            },
        }
    }

    /// The transformer's input token-embedding matrix (vocab, hidden), as f32.
    pub fn word_embeddings(&self) -> Result<Tensor, EncodeError> {
        let w = match &self.backbone {
            Backbone::MPNet(m) => m.word_embeddings().clone(),
            Backbone::Packed(m) => m.word_embeddings()?,
            Backbone::Bert(_) => {
                let st = StConfig::read(&self.dir)?;
                let weights = st.transformer_dir.join("model.safetensors");
                let tensors = candle_core::safetensors::load(&weights, &Device::Cpu)
                    .map_err(|e| EncodeError::bad_file(&weights, e))?;
                let key = [
                    "embeddings.word_embeddings.weight",
                    "bert.embeddings.word_embeddings.weight",
                ]
                .into_iter()
                .find(|k| tensors.contains_key(*k))
                .ok_or_else(|| EncodeError::bad_file(&weights, "no word_embeddings tensor"))?;
                tensors[key].clone()
            }
        };
        Ok(w.to_dtype(DType::F32)?)
    }

    /// Token ids of each text exactly as [`Encoder::encode`] feeds them to the model (lower-cased
    /// if configured, special tokens added, truncated).
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EncodeError> {
        let encodings = self.tokenize_raw(texts)?;
        Ok(encodings
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect())
    }

    fn tokenize_raw(&self, texts: &[&str]) -> Result<Vec<tokenizers::Encoding>, EncodeError> {
        let encodings = if self.do_lower_case {
            let lowered: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
            let refs: Vec<&str> = lowered.iter().map(String::as_str).collect();
            self.tokenizer.encode_batch_fast(refs, true)
        } else {
            self.tokenizer.encode_batch_fast(texts.to_vec(), true)
        };
        encodings.map_err(|e| EncodeError::Tokenizer(e.to_string()))
    }

    /// Encode `texts` into `out` (len = texts.len() * dim), in input order.
    ///
    /// On a GPU the host tokenizes the next chunk while the device runs this one, so the device
    /// does not wait on the tokenizer between chunks.
    fn encode_into(&self, texts: &[&str], out: &mut [f32]) -> Result<(), EncodeError> {
        let mut scratch = BatchScratch::default();
        let chunks: Vec<&[&str]> = texts.chunks(TOKENIZE_CHUNK).collect();
        if self.options.device.is_cpu() || chunks.len() < 2 {
            for (chunk_no, chunk) in chunks.iter().enumerate() {
                let base = chunk_no * TOKENIZE_CHUNK * self.dim;
                let encodings = self.tokenize_raw(chunk)?;
                let dst = &mut out[base..base + chunk.len() * self.dim];
                self.run_sorted(chunk.len(), |i| encodings[i].get_ids(), dst, &mut scratch)?;
            }
            return Ok(());
        }
        std::thread::scope(|scope| {
            let mut ready = self.tokenize_raw(chunks[0]);
            for (chunk_no, chunk) in chunks.iter().enumerate() {
                let encodings = ready?;
                let pending = chunks
                    .get(chunk_no + 1)
                    .map(|next| scope.spawn(move || self.tokenize_raw(next)));
                let base = chunk_no * TOKENIZE_CHUNK * self.dim;
                let dst = &mut out[base..base + chunk.len() * self.dim];
                self.run_sorted(chunk.len(), |i| encodings[i].get_ids(), dst, &mut scratch)?;
                ready = match pending {
                    Some(handle) => handle.join().unwrap_or_else(|_| {
                        Err(EncodeError::Tokenizer(
                            "the tokenizer thread panicked".into(),
                        ))
                    }),
                    None => Ok(Vec::new()),
                };
            }
            Ok(())
        })
    }

    /// Encode already-tokenized inputs (special tokens included, no truncation applied), e.g.
    /// single vocabulary tokens when distilling a static encoder.
    pub fn encode_token_ids(&self, ids: &[Vec<u32>]) -> Result<Embeddings, EncodeError> {
        let mut data = vec![0f32; ids.len() * self.dim];
        let mut scratch = BatchScratch::default();
        self.run_sorted(ids.len(), |i| ids[i].as_slice(), &mut data, &mut scratch)?;
        Ok(Embeddings {
            dim: self.dim,
            data,
        })
    }

    /// Sort `n` token sequences longest first (as sentence-transformers does; stable, so equal
    /// lengths keep input order), batch them under the text and token caps, and write each
    /// pooled vector to its input row of `out`.
    ///
    /// Batches run concurrently, one per rayon worker: candle's element-wise CPU ops (GELU,
    /// softmax, scaling, masking) are single-threaded, so running two batches side by side keeps
    /// both cores busy between the (multi-threaded) matrix products.
    fn run_sorted<'a, F>(
        &self,
        n: usize,
        ids_of: F,
        out: &mut [f32],
        _scratch: &mut BatchScratch,
    ) -> Result<(), EncodeError>
    where
        F: Fn(usize) -> &'a [u32] + Sync,
    {
        use rayon::prelude::*;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids_of(i).len()));
        let mut batches: Vec<(usize, usize, usize)> = Vec::new(); // (start, take, padded length)
        let mut start = 0;
        while start < order.len() {
            let longest = ids_of(order[start]).len().max(1);
            let by_tokens = (self.options.max_batch_tokens / longest).max(1);
            let take = self
                .options
                .batch_size
                .min(by_tokens)
                .min(order.len() - start);
            batches.push((start, take, longest));
            start += take;
        }
        if let Backbone::Packed(model) = &self.backbone {
            return self.run_packed(model, &order, &batches, ids_of, out);
        }
        let parallel = if self.options.device.is_cpu() {
            rayon::current_num_threads().max(1)
        } else {
            1
        };
        for wave in batches.chunks(parallel) {
            let pooled: Vec<Vec<f32>> = wave
                .par_iter()
                .map(|&(start, take, _)| self.pooled_batch(&order[start..start + take], &ids_of))
                .collect::<Result<_, EncodeError>>()?;
            for (&(start, take, _), pooled) in wave.iter().zip(&pooled) {
                for (row, &i) in order[start..start + take].iter().enumerate() {
                    out[i * self.dim..(i + 1) * self.dim]
                        .copy_from_slice(&pooled[row * self.dim..(row + 1) * self.dim]);
                }
            }
        }
        Ok(())
    }

    /// Pad the texts of `batch` (longest first) to its longest member, run them, and return
    /// their pooled rows in batch order. When the device runs out of memory the batch is split
    /// in two and each half retried (down to one text), with one note on stderr: an
    /// out-of-memory batch costs time, never the run.
    fn pooled_batch<'a, F>(&self, batch: &[usize], ids_of: &F) -> Result<Vec<f32>, EncodeError>
    where
        F: Fn(usize) -> &'a [u32] + Sync,
    {
        let longest = batch
            .iter()
            .map(|&i| ids_of(i).len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut scratch = BatchScratch::default();
        scratch.ids.reserve(batch.len() * longest);
        scratch.mask.reserve(batch.len() * longest);
        for &i in batch {
            let ids = ids_of(i);
            scratch.ids.extend_from_slice(ids);
            scratch
                .ids
                .extend(std::iter::repeat_n(self.pad_id, longest - ids.len()));
            scratch.mask.extend(std::iter::repeat_n(1u32, ids.len()));
            scratch
                .mask
                .extend(std::iter::repeat_n(0u32, longest - ids.len()));
            scratch.lens.push(ids.len());
        }
        match self.forward_batch(
            &scratch.ids,
            &scratch.mask,
            &scratch.lens,
            longest,
            &mut scratch.pooled,
        ) {
            Ok(()) => Ok(scratch.pooled),
            Err(EncodeError::Candle(e))
                if batch.len() > 1 && crate::device::is_out_of_memory(&e) =>
            {
                static NOTED: std::sync::Once = std::sync::Once::new();
                NOTED.call_once(|| {
                    eprintln!(
                        "note: a batch of {} texts of up to {longest} tokens ran out of device memory; \
                         retrying in halves (pass a smaller --batch-size to avoid the retries)",
                        batch.len()
                    )
                });
                let (a, b) = batch.split_at(batch.len() / 2);
                let mut rows = self.pooled_batch(a, ids_of)?;
                rows.extend(self.pooled_batch(b, ids_of)?);
                Ok(rows)
            }
            Err(e) => Err(e),
        }
    }

    /// One padded batch through the model, pooled (and normalized) into `pooled`
    /// (batch × dim).
    fn forward_batch(
        &self,
        ids: &[u32],
        mask: &[u32],
        lens: &[usize],
        seq_len: usize,
        pooled: &mut Vec<f32>,
    ) -> Result<(), EncodeError> {
        let b = lens.len();
        self.count_work(lens, seq_len);
        let device = &self.options.device;
        let ids_t = Tensor::from_slice(ids, (b, seq_len), device)?;
        let mask_t = Tensor::from_slice(mask, (b, seq_len), device)?;
        let hidden = self.backbone.forward(&ids_t, &mask_t)?;
        if !device.is_cpu() && self.pools_on_device() {
            return self.pool_on_device(&hidden, &mask_t, b, pooled);
        }
        let hidden = hidden.to_dtype(DType::F32)?.to_device(&Device::Cpu)?;
        let hidden = hidden.flatten_all()?.to_vec1::<f32>()?;
        let starts: Vec<usize> = (0..b).map(|row| row * seq_len).collect();
        self.pool_batch(&hidden, &starts, lens, pooled)
    }

    /// Whether every pooling mode can run on the device ([`pool_on_device`](Self::pool_on_device)):
    /// mean and CLS, the modes of every model jobshift ships; others pool on the host.
    fn pools_on_device(&self) -> bool {
        self.pooling
            .iter()
            .all(|m| matches!(m, PoolingMode::Mean | PoolingMode::Cls))
    }

    /// Pool on the device (in f32 whatever the model's dtype) so that only `b × dim` values
    /// cross to the host instead of every token state (`b × len × hidden`: ~100 MB for a batch
    /// of 128 descriptions of 256 tokens). Same arithmetic as [`pool`]: masked sum over the
    /// tokens divided by the token count; CLS takes the first token.
    fn pool_on_device(
        &self,
        hidden: &Tensor,
        mask: &Tensor,
        b: usize,
        pooled: &mut Vec<f32>,
    ) -> Result<(), EncodeError> {
        let hidden = hidden.to_dtype(DType::F32)?;
        let mut parts = Vec::with_capacity(self.pooling.len());
        for mode in &self.pooling {
            parts.push(match mode {
                PoolingMode::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
                _ => {
                    let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // b × len × 1
                    let summed = hidden.broadcast_mul(&m)?.sum(1)?; // b × h
                    let counts = m.sum(1)?.clamp(1e-9f32, f32::MAX)?; // b × 1
                    summed.broadcast_div(&counts)?
                }
            });
        }
        let mut xs = Tensor::cat(&parts, 1)?;
        for layer in &self.dense {
            xs = layer.forward(&xs.to_dtype(layer_dtype(&layer.linear))?)?;
        }
        *pooled = xs
            .to_dtype(DType::F32)?
            .to_device(&Device::Cpu)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        debug_assert_eq!(pooled.len(), b * self.dim);
        if self.normalize {
            for row in pooled.chunks_mut(self.dim) {
                l2_normalize(row);
            }
        }
        Ok(())
    }

    /// Pool each text's token states (`hidden` rows `starts[i]..starts[i] + lens[i]`), apply
    /// the Dense modules and Normalize, into `pooled` (texts × dim).
    fn pool_batch(
        &self,
        hidden: &[f32],
        starts: &[usize],
        lens: &[usize],
        pooled: &mut Vec<f32>,
    ) -> Result<(), EncodeError> {
        let b = lens.len();
        let device = &self.options.device;
        let h = self.hidden_size;
        let pool_dim = h * self.pooling.len();
        pooled.clear();
        pooled.resize(b * pool_dim, 0.0);
        for (row, (&start, &len)) in starts.iter().zip(lens).enumerate() {
            if len == 0 {
                continue; // no tokens at all (only via encode_token_ids): a zero vector
            }
            let tokens = &hidden[start * h..(start + len) * h];
            let dst = &mut pooled[row * pool_dim..(row + 1) * pool_dim];
            for (slot, mode) in self.pooling.iter().enumerate() {
                pool(*mode, tokens, len, h, &mut dst[slot * h..(slot + 1) * h]);
            }
        }
        if !self.dense.is_empty() {
            let mut xs = Tensor::from_slice(pooled.as_slice(), (b, pool_dim), &Device::Cpu)?
                .to_device(device)?;
            for layer in &self.dense {
                xs = layer.forward(&xs)?;
            }
            *pooled = xs
                .to_dtype(DType::F32)?
                .to_device(&Device::Cpu)?
                .flatten_all()?
                .to_vec1::<f32>()?;
        }
        if self.normalize {
            for row in pooled.chunks_mut(self.dim) {
                l2_normalize(row);
            }
        }
        Ok(())
    }

    /// The packed engine's batch loop: batches one after another (each uses every core), no
    /// padding, buffers reused across batches.
    fn run_packed<'a, F>(
        &self,
        model: &packed::PackedModel,
        order: &[usize],
        batches: &[(usize, usize, usize)],
        ids_of: F,
        out: &mut [f32],
    ) -> Result<(), EncodeError>
    where
        F: Fn(usize) -> &'a [u32] + Sync,
    {
        let mut scratch = packed::PackedScratch::default();
        let mut hidden = Vec::new();
        let mut pooled = Vec::new();
        let mut seqs: Vec<&[u32]> = Vec::new();
        let mut lens = Vec::new();
        let mut starts = Vec::new();
        for &(start, take, _) in batches {
            let batch = &order[start..start + take];
            seqs.clear();
            lens.clear();
            starts.clear();
            let mut at = 0;
            for &i in batch {
                let ids = ids_of(i);
                seqs.push(ids);
                lens.push(ids.len());
                starts.push(at);
                at += ids.len();
            }
            self.flops.fetch_add(model.flops(&lens), Ordering::Relaxed);
            self.tokens_real.fetch_add(at as u64, Ordering::Relaxed);
            self.tokens_padded.fetch_add(at as u64, Ordering::Relaxed);
            model.forward(&seqs, &mut hidden, &mut scratch)?;
            self.pool_batch(&hidden, &starts, &lens, &mut pooled)?;
            for (row, &i) in batch.iter().enumerate() {
                out[i * self.dim..(i + 1) * self.dim]
                    .copy_from_slice(&pooled[row * self.dim..(row + 1) * self.dim]);
            }
        }
        Ok(())
    }
}

/// The dtype a Dense layer's weights were loaded in (always f32: [`DenseLayer::load`]).
fn layer_dtype(linear: &candle_nn::Linear) -> DType {
    linear.weight().dtype()
}

/// Pool one text's token states (`len` rows of `h`) into `dst` (h), as
/// `sentence_transformers.models.Pooling` does for right-padded batches.
fn pool(mode: PoolingMode, tokens: &[f32], len: usize, h: usize, dst: &mut [f32]) {
    match mode {
        PoolingMode::Cls => dst.copy_from_slice(&tokens[..h]),
        PoolingMode::Max => {
            dst.copy_from_slice(&tokens[..h]);
            for t in tokens.chunks_exact(h).skip(1) {
                for (d, &x) in dst.iter_mut().zip(t) {
                    if x > *d {
                        *d = x;
                    }
                }
            }
        }
        PoolingMode::Mean | PoolingMode::MeanSqrtLen => {
            dst.fill(0.0);
            for t in tokens.chunks_exact(h) {
                for (d, &x) in dst.iter_mut().zip(t) {
                    *d += x;
                }
            }
            let denom = if mode == PoolingMode::Mean {
                (len as f32).max(1e-9)
            } else {
                (len as f32).sqrt()
            };
            for d in dst.iter_mut() {
                *d /= denom;
            }
        }
        PoolingMode::WeightedMean => {
            dst.fill(0.0);
            let mut total = 0.0f32;
            for (pos, t) in tokens.chunks_exact(h).enumerate() {
                let w = (pos + 1) as f32;
                total += w;
                for (d, &x) in dst.iter_mut().zip(t) {
                    *d += w * x;
                }
            }
            let total = total.max(1e-9);
            for d in dst.iter_mut() {
                *d /= total;
            }
        }
        PoolingMode::LastToken => dst.copy_from_slice(&tokens[(len - 1) * h..len * h]),
    }
}

/// `torch.nn.functional.normalize(p=2, eps=1e-12)`.
pub(crate) fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    for x in v.iter_mut() {
        *x /= norm;
    }
}

impl Encoder for SentenceTransformer {
    fn model_id(&self) -> &str {
        &self.model_id
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError> {
        let mut data = vec![0f32; texts.len() * self.dim];
        self.encode_into(texts, &mut data)?;
        Ok(Embeddings {
            dim: self.dim,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_modes() {
        // two tokens, h = 2
        let tokens = [1.0, 4.0, 3.0, 2.0];
        let mut d = [0.0; 2];
        pool(PoolingMode::Mean, &tokens, 2, 2, &mut d);
        assert_eq!(d, [2.0, 3.0]);
        pool(PoolingMode::Max, &tokens, 2, 2, &mut d);
        assert_eq!(d, [3.0, 4.0]);
        pool(PoolingMode::Cls, &tokens, 2, 2, &mut d);
        assert_eq!(d, [1.0, 4.0]);
        pool(PoolingMode::LastToken, &tokens, 2, 2, &mut d);
        assert_eq!(d, [3.0, 2.0]);
        pool(PoolingMode::WeightedMean, &tokens, 2, 2, &mut d);
        assert!((d[0] - 7.0 / 3.0).abs() < 1e-6);
        let mut v = [3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
    }
}

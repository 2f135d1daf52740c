//! A static-embedding encoder distilled from a sentence transformer (the Model2Vec method), the
//! classifier cascade's fast tier: a text's vector is the mean of per-token vectors looked up in
//! a table, so encoding costs a tokenization and a few additions per token (no transformer).
//!
//! Distillation ([`StaticEncoder::distill`]):
//! 1. every vocabulary token is run alone through the transformer (`[CLS] token [SEP]`, the
//!    model's own pooling/normalization), giving one output vector per token;
//! 2. PCA: the vectors are centred and projected on their top `pca_dims` principal subspace
//!    (subspace iteration on the covariance; the basis within the subspace is orthonormal, which
//!    preserves the dot products downstream models use);
//! 3. frequency weighting: each token vector is scaled by the SIF weight `a / (a + p(token))`,
//!    with `p` the token's frequency in a user corpus when one is given, else Zipf's law over the
//!    vocabulary rank (Model2Vec's default, `a = 1e-4`).
//!
//! Saved as a directory: `static.safetensors` (tensor `embeddings`, vocab × dim),
//! `tokenizer.json`, `static_config.json`. Load with `load_encoder("static:DIR")`.

use crate::error::EncodeError;
use crate::{Embeddings, Encoder, SentenceTransformer};
use candle_core::{DType, Device, Tensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tokenizers::Tokenizer;

/// Options of [`StaticEncoder::distill`].
#[derive(Debug, Clone, Default)]
pub struct DistillOptions<'a> {
    /// Output dimensions after PCA; 0 keeps the transformer's dimension (no reduction).
    pub pca_dims: usize,
    /// Texts whose token frequencies set the SIF weights; None uses Zipf over vocabulary rank.
    pub corpus: Option<&'a [&'a str]>,
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaticConfig {
    pub format: u32,
    pub source_model: String,
    pub dim: usize,
    pub vocab_size: usize,
    /// "zipf" or "corpus".
    pub weighting: String,
    pub sif_coefficient: f64,
    pub normalize: bool,
}

/// Mean-of-token-vectors encoder.
pub struct StaticEncoder {
    model_id: String,
    tokenizer: Tokenizer,
    /// vocab × dim, row-major
    table: Vec<f32>,
    config: StaticConfig,
}

const SIF_COEFFICIENT: f64 = 1e-4;

/// Orthonormalize the columns of a row-major `rows × cols` matrix in place (modified
/// Gram–Schmidt; `cols` is small, a few hundred).
fn orthonormalize(m: &mut [f32], rows: usize, cols: usize) {
    for j in 0..cols {
        for p in 0..j {
            let mut dot = 0f64;
            for r in 0..rows {
                dot += m[r * cols + j] as f64 * m[r * cols + p] as f64;
            }
            let dot = dot as f32;
            for r in 0..rows {
                m[r * cols + j] -= dot * m[r * cols + p];
            }
        }
        let norm = (0..rows)
            .map(|r| (m[r * cols + j] as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm = if norm > 1e-12 { norm as f32 } else { 1.0 };
        for r in 0..rows {
            m[r * cols + j] /= norm;
        }
    }
}

/// Basis (d × k) of the top-k principal subspace of the rows of `x` (n × d, centred).
fn pca_basis(x: &Tensor, k: usize) -> Result<Tensor, EncodeError> {
    let (n, d) = x.dims2()?;
    let cov = (x.t()?.matmul(x)? / n as f64)?; // d × d
                                               // deterministic start (xorshift), then subspace iteration
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut q: Vec<f32> = (0..d * k)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    orthonormalize(&mut q, d, k);
    for _ in 0..12 {
        let qt = Tensor::from_vec(q, (d, k), &Device::Cpu)?;
        q = cov.matmul(&qt)?.flatten_all()?.to_vec1::<f32>()?;
        orthonormalize(&mut q, d, k);
    }
    Ok(Tensor::from_vec(q, (d, k), &Device::Cpu)?)
}

impl StaticEncoder {
    /// Distil a static encoder from `model` (see the module docs).
    pub fn distill(
        model: &SentenceTransformer,
        opts: &DistillOptions,
    ) -> Result<StaticEncoder, EncodeError> {
        let tokenizer = model.tokenizer();
        let vocab_size = tokenizer.get_vocab_size(true);
        // the special-token frame of a single text, e.g. [CLS] … [SEP]
        let frame = tokenizer
            .encode_fast("", true)
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        let frame = frame.get_ids();
        let (prefix, suffix) = frame.split_at(frame.len().min(1));
        let inputs: Vec<Vec<u32>> = (0..vocab_size as u32)
            .map(|t| {
                prefix
                    .iter()
                    .copied()
                    .chain([t])
                    .chain(suffix.iter().copied())
                    .collect()
            })
            .collect();
        let bar = if opts.progress {
            indicatif::ProgressBar::new(vocab_size as u64)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_message("token vectors");
        let out_dim = model.dim();
        let mut vectors = Vec::with_capacity(vocab_size * out_dim);
        for chunk in inputs.chunks(4096) {
            let e = model.encode_token_ids(chunk)?;
            vectors.extend_from_slice(&e.data);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();

        // PCA
        let x = Tensor::from_vec(vectors, (vocab_size, out_dim), &Device::Cpu)?;
        let mean = x.mean_keepdim(0)?;
        let xc = x.broadcast_sub(&mean)?;
        let k = if opts.pca_dims == 0 || opts.pca_dims >= out_dim {
            out_dim
        } else {
            opts.pca_dims
        };
        let projected = if k == out_dim {
            xc
        } else {
            xc.matmul(&pca_basis(&xc, k)?)?
        };
        let mut table = projected
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;

        // frequency weighting (SIF)
        let a = SIF_COEFFICIENT;
        let (proba, weighting): (Vec<f64>, &str) = match opts.corpus {
            Some(corpus) => {
                let mut counts = vec![1f64; vocab_size]; // add-one smoothing
                for chunk in corpus.chunks(8192) {
                    let enc = tokenizer
                        .encode_batch_fast(chunk.to_vec(), false)
                        .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
                    for e in enc {
                        for &id in e.get_ids() {
                            if let Some(c) = counts.get_mut(id as usize) {
                                *c += 1.0;
                            }
                        }
                    }
                }
                let total: f64 = counts.iter().sum();
                (counts.into_iter().map(|c| c / total).collect(), "corpus")
            }
            None => {
                let inv_rank: Vec<f64> = (0..vocab_size).map(|r| 1.0 / (r as f64 + 2.0)).collect();
                let total: f64 = inv_rank.iter().sum();
                (inv_rank.into_iter().map(|p| p / total).collect(), "zipf")
            }
        };
        for (row, p) in table.chunks_mut(k).zip(&proba) {
            let w = (a / (a + p)) as f32;
            for v in row {
                *v *= w;
            }
        }
        Ok(StaticEncoder {
            model_id: format!("static:{}", model.model_id()),
            tokenizer: Self::plain_tokenizer(tokenizer.clone())?,
            table,
            config: StaticConfig {
                format: 1,
                source_model: model.model_id().to_string(),
                dim: k,
                vocab_size,
                weighting: weighting.to_string(),
                sif_coefficient: a,
                normalize: true,
            },
        })
    }

    fn plain_tokenizer(mut t: Tokenizer) -> Result<Tokenizer, EncodeError> {
        t.with_padding(None);
        t.with_truncation(None)
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        Ok(t)
    }

    pub fn config(&self) -> &StaticConfig {
        &self.config
    }

    /// Write `static.safetensors`, `tokenizer.json`, `static_config.json` into `dir`,
    /// atomically: the files are written into a staging directory beside `dir`, which then
    /// replaces `dir` by rename (an existing encoder there is replaced).
    pub fn save(&self, dir: &Path) -> Result<(), EncodeError> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| EncodeError::io(&parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".static-encoder-")
            .tempdir_in(&parent)
            .map_err(|e| EncodeError::io(&parent, e))?;
        let t = Tensor::from_slice(
            &self.table,
            (self.config.vocab_size, self.config.dim),
            &Device::Cpu,
        )?;
        t.save_safetensors("embeddings", staging.path().join("static.safetensors"))?;
        let tok = staging.path().join("tokenizer.json");
        let json = self
            .tokenizer
            .to_string(false)
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        std::fs::write(&tok, json.as_bytes()).map_err(|e| EncodeError::io(&tok, e))?;
        let cfg = staging.path().join("static_config.json");
        let cfg_json = serde_json::to_vec_pretty(&self.config)
            .map_err(|e| EncodeError::Other(e.to_string()))?;
        std::fs::write(&cfg, cfg_json).map_err(|e| EncodeError::io(&cfg, e))?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| EncodeError::io(dir, e))?;
        }
        let staged = staging.keep();
        std::fs::rename(&staged, dir).map_err(|e| EncodeError::io(dir, e))
    }

    pub fn load(dir: &Path) -> Result<StaticEncoder, EncodeError> {
        let cfg_path = dir.join("static_config.json");
        let bytes = std::fs::read(&cfg_path).map_err(|e| EncodeError::io(&cfg_path, e))?;
        let config: StaticConfig =
            serde_json::from_slice(&bytes).map_err(|e| EncodeError::bad_file(&cfg_path, e))?;
        let weights = dir.join("static.safetensors");
        let tensors = candle_core::safetensors::load(&weights, &Device::Cpu)
            .map_err(|e| EncodeError::bad_file(&weights, e))?;
        let t = tensors
            .get("embeddings")
            .ok_or_else(|| EncodeError::bad_file(&weights, "no tensor \"embeddings\""))?;
        let (v, d) = t.dims2()?;
        if d != config.dim || v != config.vocab_size {
            return Err(EncodeError::bad_file(
                &weights,
                format!("shape ({v}, {d}) disagrees with static_config.json"),
            ));
        }
        let table = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let tok_path = dir.join("tokenizer.json");
        let tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| EncodeError::bad_file(&tok_path, e))?;
        Ok(StaticEncoder {
            model_id: format!("static:{}", config.source_model),
            tokenizer: Self::plain_tokenizer(tokenizer)?,
            table,
            config,
        })
    }
}

impl Encoder for StaticEncoder {
    fn model_id(&self) -> &str {
        &self.model_id
    }
    fn dim(&self) -> usize {
        self.config.dim
    }
    fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError> {
        let d = self.config.dim;
        let mut data = vec![0f32; texts.len() * d];
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), false)
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        data.par_chunks_mut(d)
            .zip(encodings.par_iter())
            .for_each(|(out, enc)| {
                let mut n = 0usize;
                for &id in enc.get_ids() {
                    let id = id as usize;
                    if id < self.config.vocab_size {
                        for (o, &v) in out.iter_mut().zip(&self.table[id * d..(id + 1) * d]) {
                            *o += v;
                        }
                        n += 1;
                    }
                }
                if n > 0 {
                    for o in out.iter_mut() {
                        *o /= n as f32;
                    }
                    if self.config.normalize {
                        crate::sentence_transformer::l2_normalize(out);
                    }
                }
            });
        Ok(Embeddings { dim: d, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_schmidt_orthonormal() {
        let mut m = vec![1.0, 2.0, 3.0, 4.0, 5.0, 7.0];
        orthonormalize(&mut m, 3, 2);
        let col = |j: usize| [m[j], m[2 + j], m[4 + j]];
        let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        assert!((dot(col(0), col(0)) - 1.0).abs() < 1e-5);
        assert!((dot(col(1), col(1)) - 1.0).abs() < 1e-5);
        assert!(dot(col(0), col(1)).abs() < 1e-5);
    }

    #[test]
    fn pca_finds_dominant_direction() {
        // points spread along (1, 1, 0) with little noise elsewhere
        let mut rows = Vec::new();
        for i in 0..200 {
            let t = (i as f32 - 100.0) / 10.0;
            let e = ((i * 7919) % 13) as f32 / 100.0 - 0.06;
            rows.extend_from_slice(&[t + e, t - e, e]);
        }
        let x = Tensor::from_vec(rows, (200, 3), &Device::Cpu).unwrap();
        let x = x.broadcast_sub(&x.mean_keepdim(0).unwrap()).unwrap();
        let b = pca_basis(&x, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let s = std::f32::consts::FRAC_1_SQRT_2;
        assert!(
            (b[0].abs() - s).abs() < 1e-2 && (b[1].abs() - s).abs() < 1e-2,
            "{b:?}"
        );
    }
}

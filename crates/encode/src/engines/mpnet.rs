//! MPNet (Song et al. 2020) as a candle model, for `all-mpnet-base-v2` and other MPNet
//! sentence-transformers.
//!
//! candle-transformers has no MPNet, so this file ports Hugging Face's `modeling_mpnet.py`
//! (`MPNetModel`, encoder only, no pooler: sentence-transformers reads the last hidden state) in
//! the style of candle's own model files. Differences from BERT that matter for parity:
//! - position ids count only non-padding tokens and start at `padding_idx + 1`
//!   (`create_position_ids_from_input_ids`);
//! - there are no token-type embeddings;
//! - every layer adds a relative-position bias (T5-style log buckets, one learned scalar per
//!   bucket and head) that the encoder computes once per forward pass and shares across layers;
//! - attention has its own output projection `attn.o`, followed by `attention.LayerNorm`.
//!
//! Weights may be stored with or without the `mpnet.` prefix (masked-LM checkpoints use it).

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{embedding, layer_norm, linear, Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

/// `config.json` of an MPNet checkpoint (the fields inference needs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_pad")]
    pub pad_token_id: u32,
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
}

fn default_act() -> String {
    "gelu".to_string()
}
fn default_eps() -> f64 {
    1e-5
}
fn default_pad() -> u32 {
    1
}
fn default_buckets() -> usize {
    32
}

/// Maximum distance the log-spaced buckets cover (fixed in the reference implementation).
const MAX_DISTANCE: i64 = 128;

/// Relative-position bucket of `relative_position = key_pos - query_pos`, exactly as
/// `MPNetEncoder.relative_position_bucket` computes it (including its float32 arithmetic and
/// truncation toward zero), so bucket boundaries agree with PyTorch.
pub fn relative_position_bucket(relative_position: i64, num_buckets: usize) -> usize {
    let half = (num_buckets / 2) as i64;
    let n = -relative_position;
    let mut ret = if n < 0 { half } else { 0 };
    let n = n.abs();
    let max_exact = half / 2;
    if n < max_exact {
        ret += n;
    } else {
        let scale = ((MAX_DISTANCE as f64) / (max_exact as f64)).ln() as f32;
        let v = (n as f32 / max_exact as f32).ln() / scale * ((half - max_exact) as f32);
        let large = max_exact + v as i64;
        ret += large.min(half - 1);
    }
    ret as usize
}

fn activation(name: &str) -> Result<candle_nn::Activation> {
    match name {
        "gelu" => Ok(candle_nn::Activation::Gelu),
        "gelu_new" | "gelu_pytorch_tanh" => Ok(candle_nn::Activation::NewGelu),
        "relu" => Ok(candle_nn::Activation::Relu),
        other => candle_core::bail!("unsupported MPNet hidden_act {other:?}"),
    }
}

struct MPNetEmbeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    layer_norm: LayerNorm,
    padding_idx: u32,
}

impl MPNetEmbeddings {
    fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        Ok(Self {
            word_embeddings: embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("word_embeddings"))?,
            position_embeddings: embedding(
                cfg.max_position_embeddings,
                cfg.hidden_size,
                vb.pp("position_embeddings"),
            )?,
            layer_norm: layer_norm(cfg.hidden_size, cfg.layer_norm_eps, vb.pp("LayerNorm"))?,
            padding_idx: cfg.pad_token_id,
        })
    }

    /// `input_ids`: (batch, seq) u32. Position ids are computed on the host from the ids
    /// (cumulative count of non-padding tokens, offset by `padding_idx`).
    fn forward(&self, input_ids: &Tensor) -> Result<Tensor> {
        let positions = position_ids(input_ids, self.padding_idx)?;
        let words = self.word_embeddings.forward(input_ids)?;
        let pos = self.position_embeddings.forward(&positions)?;
        self.layer_norm.forward(&(words + pos)?)
    }
}

struct MPNetSelfAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    num_heads: usize,
    head_dim: usize,
}

impl MPNetSelfAttention {
    fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            q: linear(h, h, vb.pp("q"))?,
            k: linear(h, h, vb.pp("k"))?,
            v: linear(h, h, vb.pp("v"))?,
            o: linear(h, h, vb.pp("o"))?,
            num_heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
        })
    }

    fn split_heads(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, l, _) = xs.dims3()?;
        xs.reshape((b, l, self.num_heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// `bias`: (batch or 1, heads, seq, seq), the shared position bias plus the padding mask.
    fn forward(&self, xs: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let (b, l, h) = xs.dims3()?;
        let q = self.split_heads(&self.q.forward(xs)?)?;
        let k = self.split_heads(&self.k.forward(xs)?)?;
        let v = self.split_heads(&self.v.forward(xs)?)?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?;
        let scores = scores.broadcast_add(bias)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, l, h))?;
        self.o.forward(&ctx)
    }
}

struct MPNetLayer {
    attn: MPNetSelfAttention,
    attn_norm: LayerNorm,
    intermediate: Linear,
    act: candle_nn::Activation,
    output: Linear,
    output_norm: LayerNorm,
}

impl MPNetLayer {
    fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let h = cfg.hidden_size;
        Ok(Self {
            attn: MPNetSelfAttention::load(vb.pp("attention").pp("attn"), cfg)?,
            attn_norm: layer_norm(h, cfg.layer_norm_eps, vb.pp("attention").pp("LayerNorm"))?,
            intermediate: linear(h, cfg.intermediate_size, vb.pp("intermediate").pp("dense"))?,
            act: activation(&cfg.hidden_act)?,
            output: linear(cfg.intermediate_size, h, vb.pp("output").pp("dense"))?,
            output_norm: layer_norm(h, cfg.layer_norm_eps, vb.pp("output").pp("LayerNorm"))?,
        })
    }

    fn forward(&self, xs: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let attn = self.attn.forward(xs, bias)?;
        let xs = self.attn_norm.forward(&(attn + xs)?)?;
        let inter = self.act.forward(&self.intermediate.forward(&xs)?)?;
        let out = self.output.forward(&inter)?;
        self.output_norm.forward(&(out + xs)?)
    }
}

/// MPNet's position ids for `input_ids` (batch, seq) u32, computed on the host (they carry no
/// gradient): `padding_idx + 1, +2, …` over non-padding tokens and `padding_idx` on padding, as
/// `create_position_ids_from_input_ids`.
pub fn position_ids(input_ids: &Tensor, padding_idx: u32) -> Result<Tensor> {
    let (b, l) = input_ids.dims2()?;
    let ids = input_ids.flatten_all()?.to_vec1::<u32>()?;
    let mut positions = Vec::with_capacity(b * l);
    for row in ids.chunks(l.max(1)) {
        let mut count = 0u32;
        for &id in row {
            if id != padding_idx {
                count += 1;
                positions.push(count + padding_idx);
            } else {
                positions.push(padding_idx);
            }
        }
    }
    Tensor::from_vec(positions, (b, l), input_ids.device())
}

/// MPNet's relative-position bias: one table (num_buckets, heads) under the encoder's prefix
/// (`relative_attention_bias.weight`), shared by every layer.
pub struct RelativePositionBias {
    table: Tensor,
    num_buckets: usize,
}

impl RelativePositionBias {
    /// The table under `encoder` (a trainable variable when the builder is `VarMap`-backed).
    pub fn load(encoder: &VarBuilder, cfg: &Config) -> Result<Self> {
        Ok(Self {
            table: encoder.get(
                (cfg.relative_attention_num_buckets, cfg.num_attention_heads),
                "relative_attention_bias.weight",
            )?,
            num_buckets: cfg.relative_attention_num_buckets,
        })
    }

    /// The bias for a sequence length, (1, heads, seq, seq): the bucket of every (query, key)
    /// pair (host-side) gathered with `index_select` — differentiable, so the trainable port
    /// uses it too. Computed once per forward pass, as `MPNetEncoder.compute_position_bias`.
    pub fn for_length(&self, seq_len: usize) -> Result<Tensor> {
        let heads = self.table.dim(1)?;
        let mut buckets = Vec::with_capacity(seq_len * seq_len);
        for query in 0..seq_len as i64 {
            for key in 0..seq_len as i64 {
                buckets.push(relative_position_bucket(key - query, self.num_buckets) as u32);
            }
        }
        let buckets = Tensor::from_vec(buckets, seq_len * seq_len, self.table.device())?;
        // (seq*seq, heads) -> (heads, seq*seq) -> (1, heads, seq, seq)
        self.table
            .index_select(&buckets, 0)?
            .t()?
            .reshape((1, heads, seq_len, seq_len))
    }
}

/// MPNet encoder: embeddings, layers, and the shared relative-attention bias table.
pub struct MPNetModel {
    embeddings: MPNetEmbeddings,
    layers: Vec<MPNetLayer>,
    relative_bias: RelativePositionBias,
    dtype: DType,
    pub device: Device,
}

impl MPNetModel {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let vb = if vb.contains_tensor("mpnet.embeddings.word_embeddings.weight") {
            vb.pp("mpnet")
        } else {
            vb
        };
        let embeddings = MPNetEmbeddings::load(vb.pp("embeddings"), cfg)?;
        let enc = vb.pp("encoder");
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| MPNetLayer::load(enc.pp(format!("layer.{i}")), cfg))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            embeddings,
            layers,
            relative_bias: RelativePositionBias::load(&enc, cfg)?,
            dtype: vb.dtype(),
            device: vb.device().clone(),
        })
    }

    /// The relative-position bias for a sequence length: (1, heads, seq, seq). Computed once per
    /// forward pass and shared by every layer, as `MPNetEncoder.compute_position_bias` does.
    pub fn position_bias(&self, seq_len: usize) -> Result<Tensor> {
        self.relative_bias.for_length(seq_len)
    }

    /// `input_ids`, `attention_mask`: (batch, seq) u32. Returns the last hidden state
    /// (batch, seq, hidden).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let (_b, l) = input_ids.dims2()?;
        let mut xs = self.embeddings.forward(input_ids)?;
        // (1 - mask) * finfo(dtype).min, as get_extended_attention_mask
        let min = match self.dtype {
            DType::F16 => f64::from(half::f16::MIN),
            DType::BF16 => f64::from(half::bf16::MIN),
            _ => f64::from(f32::MIN),
        };
        let mask = attention_mask.to_dtype(DType::F32)?;
        let mask = ((mask.ones_like()? - mask)? * min)?
            .to_dtype(self.dtype)?
            .unsqueeze(1)?
            .unsqueeze(1)?;
        // bias + mask, broadcast once to (batch, heads, seq, seq) and shared across layers.
        let bias = self.position_bias(l)?.broadcast_add(&mask)?;
        for layer in &self.layers {
            xs = layer.forward(&xs, &bias)?;
        }
        Ok(xs)
    }

    /// Word-embedding matrix (vocab, hidden), used to distil static encoders.
    pub fn word_embeddings(&self) -> &Tensor {
        self.embeddings.word_embeddings.embeddings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_reference() {
        // torch: MPNetEncoder.relative_position_bucket(torch.arange(-520, 521), 32), run-length
        // encoded as (bucket, count).
        let runs: [(usize, usize); 31] = [
            (15, 430),
            (14, 27),
            (13, 18),
            (12, 14),
            (11, 9),
            (10, 7),
            (9, 4),
            (8, 4),
            (7, 1),
            (6, 1),
            (5, 1),
            (4, 1),
            (3, 1),
            (2, 1),
            (1, 1),
            (0, 1),
            (17, 1),
            (18, 1),
            (19, 1),
            (20, 1),
            (21, 1),
            (22, 1),
            (23, 1),
            (24, 4),
            (25, 4),
            (26, 7),
            (27, 9),
            (28, 14),
            (29, 18),
            (30, 27),
            (31, 430),
        ];
        let expected: Vec<usize> = runs
            .iter()
            .flat_map(|&(b, n)| std::iter::repeat_n(b, n))
            .collect();
        assert_eq!(expected.len(), 1041);
        for (k, &b) in expected.iter().enumerate() {
            let rp = k as i64 - 520;
            assert_eq!(
                relative_position_bucket(rp, 32),
                b,
                "relative position {rp}"
            );
        }
    }
}

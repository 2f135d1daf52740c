//! A trainable MPNet encoder (forward pass only) for `jobshift finetune`: the network of
//! jobshift-encode's inference port [`jobshift_encode::mpnet::MPNetModel`] (same [`Config`],
//! same safetensors tensor names), written only with candle ops that have a backward pass —
//! the primitive layer norm, softmax and flattened linear layers of [`crate::trainable_ops`].
//! The inference port normalizes with `candle_nn::LayerNorm` and `softmax_last_dim`, fused
//! kernels without a backward op, so a loss through it yields no gradient (as for BERT, see
//! [`crate::trainable_bert`]).
//!
//! What it owns, as in the inference port (Hugging Face's `modeling_mpnet.py`, encoder only,
//! no pooler): position ids that count only non-padding tokens and start at `padding_idx + 1`;
//! no token-type embeddings; one relative-position bias (T5-style log buckets, a learned scalar
//! per bucket and head, `encoder.relative_attention_bias`) computed once per forward pass and
//! shared by every layer; attention with its own output projection `attn.o` followed by
//! `attention.LayerNorm`. Not modelled: dropout (training is deterministic given the seed).
//! Tests check the hidden states against the inference port on a random tiny model, and the
//! sentence embeddings against `load_encoder("mpnet")` when all-mpnet-base-v2 is installed.

use crate::trainable_ops::{
    padding_mask_bias, AttentionNames, EncoderLayer, LayerDims, TrainableLayerNorm,
};
use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};
use jobshift_encode::mpnet::relative_position_bucket;
pub use jobshift_encode::mpnet::Config;

/// The feed-forward activation named by `hidden_act` (the names the inference port accepts).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    /// "gelu": exact GELU (erf), as PyTorch's default.
    GeluErf,
    /// "gelu_new" / "gelu_pytorch_tanh": the tanh approximation.
    GeluTanh,
    Relu,
}

impl Activation {
    fn from_config(name: &str) -> Result<Self> {
        match name {
            "gelu" => Ok(Self::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" => Ok(Self::GeluTanh),
            "relu" => Ok(Self::Relu),
            other => candle_core::bail!("unsupported MPNet hidden_act {other:?}"),
        }
    }

    fn forward(self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::GeluErf => xs.gelu_erf(),
            Self::GeluTanh => xs.gelu(),
            Self::Relu => xs.relu(),
        }
    }
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    layer_norm: TrainableLayerNorm,
    padding_idx: u32,
}

impl Embeddings {
    fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        Ok(Self {
            word: candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("word_embeddings"))?,
            position: candle_nn::embedding(
                cfg.max_position_embeddings,
                cfg.hidden_size,
                vb.pp("position_embeddings"),
            )?,
            layer_norm: TrainableLayerNorm::load(
                cfg.hidden_size,
                cfg.layer_norm_eps,
                vb.pp("LayerNorm"),
            )?,
            padding_idx: cfg.pad_token_id,
        })
    }

    /// `input_ids`: (batch, seq) u32. Position ids (computed on the host: they carry no
    /// gradient) are `padding_idx + 1, +2, …` over non-padding tokens and `padding_idx` on
    /// padding, as `create_position_ids_from_input_ids`.
    fn forward(&self, input_ids: &Tensor) -> Result<Tensor> {
        let (b, l) = input_ids.dims2()?;
        let ids = input_ids.flatten_all()?.to_vec1::<u32>()?;
        let mut positions = Vec::with_capacity(b * l);
        for row in ids.chunks(l.max(1)) {
            let mut count = 0u32;
            for &id in row {
                if id != self.padding_idx {
                    count += 1;
                    positions.push(count + self.padding_idx);
                } else {
                    positions.push(self.padding_idx);
                }
            }
        }
        let positions = Tensor::from_vec(positions, (b, l), input_ids.device())?;
        let xs = (self.word.forward(input_ids)? + self.position.forward(&positions)?)?;
        self.layer_norm.forward(&xs)
    }
}

struct Layer {
    inner: EncoderLayer,
    act: Activation,
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let dims = LayerDims {
            hidden: cfg.hidden_size,
            intermediate: cfg.intermediate_size,
            heads: cfg.num_attention_heads,
            layer_norm_eps: cfg.layer_norm_eps,
        };
        let names = AttentionNames {
            q: "attention.attn.q",
            k: "attention.attn.k",
            v: "attention.attn.v",
            o: "attention.attn.o",
            norm: "attention.LayerNorm",
        };
        Ok(Self {
            inner: EncoderLayer::load(vb, &dims, &names)?,
            act: Activation::from_config(&cfg.hidden_act)?,
        })
    }

    /// `bias`: (batch, heads, seq, seq), the shared relative-position bias plus the padding
    /// mask.
    fn forward(&self, xs: &Tensor, bias: &Tensor) -> Result<Tensor> {
        self.inner.forward(xs, bias, &|t| self.act.forward(t))
    }
}

/// MPNet embeddings, encoder layers and the shared relative-attention bias table (no pooler:
/// sentence-transformers pools the token states).
pub(crate) struct TrainableMpnet {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    /// (num_buckets, num_heads), a trainable variable shared by every layer.
    relative_attention_bias: Tensor,
    num_buckets: usize,
    heads: usize,
}

impl TrainableMpnet {
    /// Builds the model from `vb` (tensor names as in Hugging Face's `MPNetModel`:
    /// `embeddings.*`, `encoder.layer.N.*`, `encoder.relative_attention_bias.weight`; pass
    /// `vb.pp("mpnet")` for checkpoints with that prefix). With a `VarMap`-backed builder every
    /// tensor becomes a trainable variable.
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        if !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
            candle_core::bail!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden_size,
                cfg.num_attention_heads
            );
        }
        let embeddings = Embeddings::load(vb.pp("embeddings"), cfg)?;
        let encoder = vb.pp("encoder");
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Layer::load(encoder.pp(format!("layer.{i}")), cfg))
            .collect::<Result<Vec<_>>>()?;
        let relative_attention_bias = encoder.get(
            (cfg.relative_attention_num_buckets, cfg.num_attention_heads),
            "relative_attention_bias.weight",
        )?;
        Ok(Self {
            embeddings,
            layers,
            relative_attention_bias,
            num_buckets: cfg.relative_attention_num_buckets,
            heads: cfg.num_attention_heads,
        })
    }

    /// The relative-position bias for a sequence length, (1, heads, seq, seq): the bucket of
    /// every (query, key) pair (host-side, the inference port's bucketing) gathered from the
    /// bias table with `index_select`, so the table receives a gradient.
    fn position_bias(&self, seq_len: usize) -> Result<Tensor> {
        let mut buckets = Vec::with_capacity(seq_len * seq_len);
        for query in 0..seq_len as i64 {
            for key in 0..seq_len as i64 {
                buckets.push(relative_position_bucket(key - query, self.num_buckets) as u32);
            }
        }
        let device = self.relative_attention_bias.device();
        let buckets = Tensor::from_vec(buckets, seq_len * seq_len, device)?;
        // (seq·seq, heads) → (heads, seq·seq) → (1, heads, seq, seq)
        self.relative_attention_bias
            .index_select(&buckets, 0)?
            .t()?
            .reshape((1, self.heads, seq_len, seq_len))
    }

    /// Token states (batch, seq, hidden). `input_ids`, `attention_mask`: (batch, seq) u32,
    /// 1 = real token; padding must use the config's `pad_token_id` (it decides positions).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let (_, seq_len) = input_ids.dims2()?;
        let mut xs = self.embeddings.forward(input_ids)?;
        // bias + mask, broadcast once to (batch, heads, seq, seq) and shared by every layer
        let bias = self
            .position_bias(seq_len)?
            .broadcast_add(&padding_mask_bias(attention_mask)?)?;
        for layer in &self.layers {
            xs = layer.forward(&xs, &bias)?;
        }
        Ok(xs)
    }
}

/// A 2-layer, 16-wide MPNet configuration for tests (random weights, no download). 32 buckets
/// and sequences longer than 8 tokens exercise the log-spaced buckets.
#[cfg(test)]
pub(crate) fn tiny_config() -> Config {
    Config {
        vocab_size: 40,
        hidden_size: 16,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 32,
        hidden_act: "gelu".into(),
        max_position_embeddings: 24,
        layer_norm_eps: 1e-5,
        pad_token_id: 1,
        relative_attention_num_buckets: 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainable_ops::max_abs_diff;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    /// Every variable of `varmap` set to seeded random values (layer-norm weights around 1),
    /// so that a swapped weight/bias, a missing bias table or a wrong bucket changes the output.
    fn randomize(varmap: &VarMap) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let data = varmap.data().lock().unwrap();
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        for name in names {
            let var = &data[name];
            let centre = if name.ends_with("LayerNorm.weight") {
                1.0
            } else {
                0.0
            };
            let values: Vec<f32> = (0..var.elem_count())
                .map(|_| centre + rng.random_range(-0.8f32..0.8))
                .collect();
            let value = Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap();
            var.set(&value).unwrap();
        }
    }

    #[test]
    fn forward_matches_the_inference_mpnet() {
        let cfg = tiny_config();
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let ours = TrainableMpnet::load(vb.clone(), &cfg).unwrap();
        // same VarMap: the inference port reads the very same variables
        let theirs = jobshift_encode::mpnet::MPNetModel::load(vb, &cfg).unwrap();
        assert_eq!(varmap.all_vars().len(), 2 * 16 + 4 + 1);
        randomize(&varmap);
        // 14 tokens (relative distances up to 13 reach the log buckets), padding id 1
        let ids = Tensor::new(
            &[
                [0u32, 7, 9, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20, 2],
                [0, 11, 3, 25, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            ],
            &dev,
        )
        .unwrap();
        let mask = ids.ne(1u32).unwrap().to_dtype(DType::U32).unwrap();
        let a = ours.forward(&ids, &mask).unwrap();
        let b = theirs.forward(&ids, &mask).unwrap();
        assert_eq!(a.dims(), &[2, 14, 16]);
        // padded positions differ in no way that matters, but compare everything anyway
        let diff = max_abs_diff(&a, &b);
        assert!(diff < 1e-4, "max |Δ| {diff}");
        // and the comparison is sensitive: a different bias table changes the output
        let data = varmap.data().lock().unwrap();
        let table = &data["encoder.relative_attention_bias.weight"];
        table
            .set(&(table.as_tensor() + 1.0).unwrap().sqr().unwrap())
            .unwrap();
        drop(data);
        let c = ours.forward(&ids, &mask).unwrap();
        assert!(max_abs_diff(&a, &c) > 1e-3);
    }
}

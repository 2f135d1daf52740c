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
    encoder_dims, load_encoder_layers, padding_mask_bias, run_encoder_layers, Activation,
    AttentionNames, EncoderDims, EncoderLayer, TokenEmbeddings,
};
use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
pub use jobshift_encode::mpnet::Config;
use jobshift_encode::mpnet::{position_ids, RelativePositionBias};

struct Embeddings {
    tokens: TokenEmbeddings,
    padding_idx: u32,
}

impl Embeddings {
    fn load(vb: VarBuilder, dims: &EncoderDims, padding_idx: u32) -> Result<Self> {
        Ok(Self {
            tokens: TokenEmbeddings::load(&vb, dims)?,
            padding_idx,
        })
    }

    /// `input_ids`: (batch, seq) u32. Position ids (computed on the host: they carry no
    /// gradient) are `padding_idx + 1, +2, …` over non-padding tokens and `padding_idx` on
    /// padding, as `create_position_ids_from_input_ids`.
    fn forward(&self, input_ids: &Tensor) -> Result<Tensor> {
        let positions = position_ids(input_ids, self.padding_idx)?;
        let xs =
            (self.tokens.word.forward(input_ids)? + self.tokens.position.forward(&positions)?)?;
        self.tokens.normalize(&xs)
    }
}

/// Where MPNet keeps a layer's attention weights.
const MPNET_NAMES: AttentionNames = AttentionNames {
    q: "attention.attn.q",
    k: "attention.attn.k",
    v: "attention.attn.v",
    o: "attention.attn.o",
    norm: "attention.LayerNorm",
};

/// MPNet embeddings, encoder layers and the shared relative-attention bias table (no pooler:
/// sentence-transformers pools the token states).
pub(crate) struct TrainableMpnet {
    embeddings: Embeddings,
    layers: Vec<EncoderLayer>,
    /// (num_buckets, num_heads), a trainable variable shared by every layer.
    relative_bias: RelativePositionBias,
}

impl TrainableMpnet {
    /// Builds the model from `vb` (tensor names as in Hugging Face's `MPNetModel`:
    /// `embeddings.*`, `encoder.layer.N.*`, `encoder.relative_attention_bias.weight`; pass
    /// `vb.pp("mpnet")` for checkpoints with that prefix). With a `VarMap`-backed builder every
    /// tensor becomes a trainable variable.
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let dims = encoder_dims!(cfg, Activation::from_name(&cfg.hidden_act)?);
        let embeddings = Embeddings::load(vb.pp("embeddings"), &dims, cfg.pad_token_id)?;
        let encoder = vb.pp("encoder");
        let layers = load_encoder_layers(encoder.clone(), &dims, &MPNET_NAMES)?;
        Ok(Self {
            embeddings,
            layers,
            relative_bias: RelativePositionBias::load(&encoder, cfg)?,
        })
    }

    /// Token states (batch, seq, hidden). `input_ids`, `attention_mask`: (batch, seq) u32,
    /// 1 = real token; padding must use the config's `pad_token_id` (it decides positions).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let (_, seq_len) = input_ids.dims2()?;
        let xs = self.embeddings.forward(input_ids)?;
        // bias + mask, broadcast once to (batch, heads, seq, seq) and shared by every layer
        let bias = self
            .relative_bias
            .for_length(seq_len)?
            .broadcast_add(&padding_mask_bias(attention_mask)?)?;
        run_encoder_layers(&self.layers, xs, &bias)
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
    use crate::trainable_ops::{cpu_varmap, max_abs_diff};
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
        let (varmap, vb) = cpu_varmap();
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

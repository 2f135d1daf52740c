//! A trainable BERT encoder (forward pass only, in the style of candle-transformers'
//! `models/bert.rs`) for `jobshift finetune`: the same network, configuration and safetensors
//! tensor names as candle-transformers' `BertModel`, written only with candle ops that have a
//! backward pass.
//!
//! Why it exists: candle-transformers' `BertModel` (0.11) normalizes with
//! `candle_nn::LayerNorm`, whose forward on a contiguous input calls the fused kernel
//! `candle_nn::ops::layer_norm`, applied with `apply_op3_no_bwd`. Its output is a fresh tensor
//! with no op recorded, so the autograd graph of a loss stops at the model's last layer norm:
//! `backward()` finds no variable behind it, returns an empty gradient store without an error,
//! and AdamW updates nothing. Fine-tuning on that model ran, printed losses, and wrote weights
//! bit-identical to the base model (measured 2026-11-29, see docs/classifier.md). Here the
//! layer norm is built from mean/variance primitives (`candle_nn::ops::layer_norm_slow`), so
//! every parameter receives a gradient. (The rest of candle-transformers' BERT was already
//! differentiable: its softmax is the primitive `candle_nn::ops::softmax`, embeddings are
//! `index_select`, GELU is `gelu_erf`; the attention softmax here is the same computation.)
//! The differentiable pieces live in [`crate::trainable_ops`], shared with
//! [`crate::trainable_mpnet`].
//!
//! Inference keeps jobshift-encode's fast path; the tests check that this forward gives the
//! same hidden states as candle-transformers' model and the same sentence embeddings as the
//! inference encoder. Not modelled (as in candle-transformers): dropout — training is
//! deterministic given the seed, at the cost of sentence-transformers' dropout regularization.

use crate::trainable_ops::{
    encoder_dims, load_encoder_layers, padding_mask_bias, run_encoder_layers, Activation,
    AttentionNames, EncoderDims, EncoderLayer, TokenEmbeddings,
};
use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};
pub use candle_transformers::models::bert::Config;

struct Embeddings {
    tokens: TokenEmbeddings,
    token_type: Embedding,
}

impl Embeddings {
    fn load(vb: VarBuilder, dims: &EncoderDims, type_vocab_size: usize) -> Result<Self> {
        let token_type = vb.pp("token_type_embeddings");
        Ok(Self {
            tokens: TokenEmbeddings::load(&vb, dims)?,
            token_type: candle_nn::embedding(type_vocab_size, dims.hidden, token_type)?,
        })
    }

    fn forward(&self, input_ids: &Tensor, token_type_ids: &Tensor) -> Result<Tensor> {
        let (_, seq_len) = input_ids.dims2()?;
        let positions = Tensor::arange(0u32, seq_len as u32, input_ids.device())?;
        let xs = (self.tokens.word.forward(input_ids)?
            + self.token_type.forward(token_type_ids)?)?
        .broadcast_add(&self.tokens.position.forward(&positions)?)?;
        self.tokens.normalize(&xs)
    }
}

/// Where BERT keeps a layer's attention weights.
const BERT_NAMES: AttentionNames = AttentionNames {
    q: "attention.self.query",
    k: "attention.self.key",
    v: "attention.self.value",
    o: "attention.output.dense",
    norm: "attention.output.LayerNorm",
};

/// BERT embeddings + encoder layers (no pooler: sentence-transformers pools the token states).
pub(crate) struct TrainableBert {
    embeddings: Embeddings,
    layers: Vec<EncoderLayer>,
}

impl TrainableBert {
    /// Builds the model from `vb` (tensor names as in Hugging Face's `BertModel`:
    /// `embeddings.*`, `encoder.layer.N.*`; pass `vb.pp("bert")` for checkpoints with that
    /// prefix). With a `VarMap`-backed builder every tensor becomes a trainable variable.
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let dims = encoder_dims!(cfg, Activation::from_bert(cfg.hidden_act));
        let embeddings = Embeddings::load(vb.pp("embeddings"), &dims, cfg.type_vocab_size)?;
        let layers = load_encoder_layers(vb.pp("encoder"), &dims, &BERT_NAMES)?;
        Ok(Self { embeddings, layers })
    }

    /// Token states (batch, seq, hidden). `attention_mask`: (batch, seq), 1 = real token.
    pub fn forward(
        &self,
        input_ids: &Tensor,
        token_type_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<Tensor> {
        let xs = self.embeddings.forward(input_ids, token_type_ids)?;
        // (1 - mask) · f32::MIN, as candle-transformers and transformers do
        run_encoder_layers(&self.layers, xs, &padding_mask_bias(attention_mask)?)
    }
}

/// A 2-layer, 16-wide BERT configuration for tests (random weights, no download).
#[cfg(test)]
pub(crate) fn tiny_config() -> Config {
    Config {
        vocab_size: 40,
        hidden_size: 16,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 32,
        max_position_embeddings: 16,
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainable_ops::{cpu_varmap, max_abs_diff};
    use candle_core::Device;

    #[test]
    fn forward_matches_candle_transformers_bert() {
        let cfg = tiny_config();
        let dev = Device::Cpu;
        let (_varmap, vb) = cpu_varmap();
        let ours = TrainableBert::load(vb.clone(), &cfg).unwrap();
        // same VarMap: candle-transformers' model reads the very same variables
        let theirs = candle_transformers::models::bert::BertModel::load(vb, &cfg).unwrap();
        let ids = Tensor::new(&[[2u32, 7, 9, 3, 0], [2, 11, 3, 0, 0]], &dev).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 1, 1, 0], [1, 1, 1, 0, 0]], &dev).unwrap();
        let types = ids.zeros_like().unwrap();
        let a = ours.forward(&ids, &types, &mask).unwrap();
        let b = theirs.forward(&ids, &types, Some(&mask)).unwrap();
        let diff = max_abs_diff(&a, &b);
        assert!(diff < 1e-4, "max |Δ| {diff}");
    }
}

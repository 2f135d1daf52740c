//! Differentiable building blocks shared by the trainable encoders of `jobshift finetune`
//! ([`crate::trainable_bert`], [`crate::trainable_mpnet`]): a layer norm, a softmax and a
//! linear layer on 3-D input written only with candle ops that record a backward pass, and
//! the sentence-transformers pooling (mean over real tokens, L2 normalization), and the encoder
//! layer both architectures share ([`EncoderLayer`]).
//!
//! Why hand-written: candle's fused kernels (`candle_nn::ops::layer_norm`, which
//! `candle_nn::LayerNorm::forward` calls on contiguous input, and `softmax_last_dim`) are
//! applied without a backward op, so a graph through them silently yields no gradient for
//! the weights behind them (see `trainable_bert`).

use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{Embedding, Init, Linear, VarBuilder};

/// Layer norm over the last dimension from primitive ops (differentiable).
pub(crate) struct TrainableLayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl TrainableLayerNorm {
    /// `weight` and `bias` of size `size` under `vb` (initialized to 1 and 0 when the builder
    /// creates them).
    pub(crate) fn load(size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(size, "bias", Init::Const(0.0))?,
            eps: eps as f32,
        })
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        candle_nn::ops::layer_norm_slow(xs, &self.weight, &self.bias, self.eps)
    }
}

/// The word and position embedding tables and the layer norm after them, under an
/// `embeddings` prefix (the names BERT and MPNet share); each model adds what it owns
/// (BERT its token types, MPNet its padding-aware positions).
pub(crate) struct TokenEmbeddings {
    pub word: Embedding,
    pub position: Embedding,
    layer_norm: TrainableLayerNorm,
}

impl TokenEmbeddings {
    pub(crate) fn load(vb: &VarBuilder, dims: &EncoderDims) -> Result<Self> {
        let hidden = dims.hidden;
        Ok(Self {
            word: candle_nn::embedding(dims.vocab_size, hidden, vb.pp("word_embeddings"))?,
            position: candle_nn::embedding(
                dims.max_positions,
                hidden,
                vb.pp("position_embeddings"),
            )?,
            layer_norm: TrainableLayerNorm::load(hidden, dims.layer_norm_eps, vb.pp("LayerNorm"))?,
        })
    }

    /// The layer norm of the summed embeddings.
    pub(crate) fn normalize(&self, summed: &Tensor) -> Result<Tensor> {
        self.layer_norm.forward(summed)
    }
}

/// Where an encoder layer's attention weights are, under the layer's prefix (BERT and MPNet name
/// them differently; the feed-forward weights have the same names in both).
pub(crate) struct AttentionNames {
    pub q: &'static str,
    pub k: &'static str,
    pub v: &'static str,
    pub o: &'static str,
    pub norm: &'static str,
}

/// The sizes of an encoder (its embedding tables and its layers) and its feed-forward
/// activation.
pub(crate) struct EncoderDims {
    pub vocab_size: usize,
    pub max_positions: usize,
    pub hidden: usize,
    pub intermediate: usize,
    pub heads: usize,
    pub layers: usize,
    pub layer_norm_eps: f64,
    pub activation: Activation,
}

/// [`EncoderDims`] from a model configuration `$cfg` that names its sizes as Hugging Face's
/// `config.json` does, with the feed-forward `$activation`. A macro because the two configurations
/// it reads — candle-transformers' BERT `Config` and jobshift-encode's MPNet `Config` — are
/// different types (one from another crate) with the same field names.
macro_rules! encoder_dims {
    ($cfg:expr, $activation:expr) => {
        $crate::trainable_ops::EncoderDims {
            vocab_size: $cfg.vocab_size,
            max_positions: $cfg.max_position_embeddings,
            hidden: $cfg.hidden_size,
            intermediate: $cfg.intermediate_size,
            heads: $cfg.num_attention_heads,
            layers: $cfg.num_hidden_layers,
            layer_norm_eps: $cfg.layer_norm_eps,
            activation: $activation,
        }
    };
}
pub(crate) use encoder_dims;

/// The feed-forward activation (the names BERT's `HiddenAct` and MPNet's `hidden_act` give).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Activation {
    /// "gelu": exact GELU (erf), as PyTorch's default.
    GeluErf,
    /// "gelu_new" / "gelu_pytorch_tanh": the tanh approximation.
    GeluTanh,
    Relu,
}

impl Activation {
    /// MPNet's `hidden_act` string (the names the inference port accepts).
    pub(crate) fn from_name(name: &str) -> Result<Self> {
        match name {
            "gelu" => Ok(Self::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" => Ok(Self::GeluTanh),
            "relu" => Ok(Self::Relu),
            other => candle_core::bail!("unsupported MPNet hidden_act {other:?}"),
        }
    }

    /// candle-transformers' BERT `HiddenAct`.
    pub(crate) fn from_bert(act: candle_transformers::models::bert::HiddenAct) -> Self {
        use candle_transformers::models::bert::HiddenAct;
        match act {
            HiddenAct::Gelu => Self::GeluErf,
            HiddenAct::GeluApproximate => Self::GeluTanh,
            HiddenAct::Relu => Self::Relu,
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

/// One post-norm transformer encoder layer, as BERT and MPNet both compute it: self-attention
/// with an additive bias (the padding mask, plus MPNet's relative positions), residual + layer
/// norm, the feed-forward block with the model's activation, residual + layer norm.
pub(crate) struct EncoderLayer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attention_norm: TrainableLayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: TrainableLayerNorm,
    heads: usize,
    head_size: usize,
    activation: Activation,
}

impl EncoderLayer {
    pub(crate) fn load(vb: VarBuilder, dims: &EncoderDims, names: &AttentionNames) -> Result<Self> {
        let (h, eps) = (dims.hidden, dims.layer_norm_eps);
        Ok(Self {
            q: candle_nn::linear(h, h, vb.pp(names.q))?,
            k: candle_nn::linear(h, h, vb.pp(names.k))?,
            v: candle_nn::linear(h, h, vb.pp(names.v))?,
            o: candle_nn::linear(h, h, vb.pp(names.o))?,
            attention_norm: TrainableLayerNorm::load(h, eps, vb.pp(names.norm))?,
            intermediate: candle_nn::linear(h, dims.intermediate, vb.pp("intermediate.dense"))?,
            output: candle_nn::linear(dims.intermediate, h, vb.pp("output.dense"))?,
            output_norm: TrainableLayerNorm::load(h, eps, vb.pp("output.LayerNorm"))?,
            heads: dims.heads,
            head_size: h / dims.heads,
            activation: dims.activation,
        })
    }

    /// (batch, seq, hidden) → (batch, heads, seq, head_size)
    fn split_heads(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, s, _) = xs.dims3()?;
        xs.reshape((b, s, self.heads, self.head_size))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// `bias` is added to the attention scores (broadcast to (batch, heads, seq, seq)): the
    /// padding mask, plus MPNet's shared relative-position bias.
    pub(crate) fn forward(&self, xs: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let q = self.split_heads(&linear3d(&self.q, xs)?)?;
        let k = self.split_heads(&linear3d(&self.k, xs)?)?;
        let v = self.split_heads(&linear3d(&self.v, xs)?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_size as f64).sqrt())?;
        let probs = softmax_last_dim(&scores.broadcast_add(bias)?)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .flatten_from(D::Minus2)?;
        let attended = self
            .attention_norm
            .forward(&(linear3d(&self.o, &context)? + xs)?)?;
        let inner = self
            .activation
            .forward(&linear3d(&self.intermediate, &attended)?)?;
        self.output_norm
            .forward(&(linear3d(&self.output, &inner)? + &attended)?)
    }
}

/// The `dims.layers` encoder layers under `encoder` (`layer.0`, `layer.1`, …), after checking
/// that the hidden size splits evenly into heads.
pub(crate) fn load_encoder_layers(
    encoder: VarBuilder,
    dims: &EncoderDims,
    names: &AttentionNames,
) -> Result<Vec<EncoderLayer>> {
    if !dims.hidden.is_multiple_of(dims.heads) {
        candle_core::bail!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            dims.hidden,
            dims.heads
        );
    }
    (0..dims.layers)
        .map(|i| EncoderLayer::load(encoder.pp(format!("layer.{i}")), dims, names))
        .collect()
}

/// Token states through every layer, each with the same attention `bias`.
pub(crate) fn run_encoder_layers(
    layers: &[EncoderLayer],
    mut xs: Tensor,
    bias: &Tensor,
) -> Result<Tensor> {
    for layer in layers {
        xs = layer.forward(&xs, bias)?;
    }
    Ok(xs)
}

/// Softmax over the last dimension from exp/sum (differentiable). The row maximum is
/// subtracted for stability and detached: it cancels out of the result, so its gradient is 0.
pub(crate) fn softmax_last_dim(xs: &Tensor) -> Result<Tensor> {
    let max = xs.max_keepdim(D::Minus1)?.detach();
    let num = xs.broadcast_sub(&max)?.exp()?;
    let den = num.sum_keepdim(D::Minus1)?;
    num.broadcast_div(&den)
}

/// A linear layer on (batch, seq, in) as one (batch·seq, in) × (in, out) product. candle's
/// `Linear` on a 3-D input broadcasts the weight to every batch item, so its backward pass
/// materializes one full weight gradient per text and then sums them; flattened, the weight
/// gradient is a single product (with one forward pass for anchors and positives, a 12-step
/// MiniLM run went from 93 s to 72 s).
pub(crate) fn linear3d(layer: &Linear, xs: &Tensor) -> Result<Tensor> {
    let (b, s, h) = xs.dims3()?;
    let ys = layer.forward(&xs.reshape((b * s, h))?)?;
    let out = ys.dim(1)?;
    ys.reshape((b, s, out))
}

/// `(1 - mask) · f32::MIN` as (batch, 1, 1, seq): 0 for real tokens, a large negative for
/// padding, added to attention scores (as transformers' `get_extended_attention_mask`).
pub(crate) fn padding_mask_bias(attention_mask: &Tensor) -> Result<Tensor> {
    let mask = attention_mask
        .to_dtype(DType::F32)?
        .unsqueeze(1)?
        .unsqueeze(1)?;
    (mask.ones_like()? - &mask)? * f32::MIN as f64
}

/// Mean over real tokens, then L2 normalization (the sentence-transformers pipeline of
/// all-MiniLM-L6-v2 and all-mpnet-base-v2): (batch, seq, hidden) → (batch, hidden).
pub(crate) fn mean_pool_normalize(hidden: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
    let m = attention_mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&m)?.sum(1)?;
    let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?;
    let mean = summed.broadcast_div(&counts)?;
    let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    mean.broadcast_div(&norm)
}

/// An empty variable map on the CPU and a builder over it (tests: a model loaded from the
/// builder creates its variables in the map, so a second model can read the same ones).
#[cfg(test)]
pub(crate) fn cpu_varmap() -> (candle_nn::VarMap, VarBuilder<'static>) {
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &candle_core::Device::Cpu);
    (varmap, vb)
}

/// Largest absolute element of `a - b` (tests).
#[cfg(test)]
pub(crate) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs())
        .and_then(|d| d.flatten_all())
        .and_then(|d| d.max(0))
        .and_then(|d| d.to_scalar::<f32>())
        .expect("tensors of the same shape")
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn primitive_ops_match_candles_fused_ones_and_have_gradients() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(
            &Tensor::new(&[[0.5f32, -1.0, 2.0, 3.5], [1.0, 1.0, -4.0, 0.25]], &dev).unwrap(),
        )
        .unwrap();
        let w = Tensor::new(&[1.5f32, 0.5, -1.0, 2.0], &dev).unwrap();
        let b = Tensor::new(&[0.1f32, 0.2, 0.3, 0.4], &dev).unwrap();
        let vb = VarBuilder::from_tensors(
            [
                ("n.weight".to_string(), w.clone()),
                ("n.bias".into(), b.clone()),
            ]
            .into(),
            DType::F32,
            &dev,
        );
        let norm = TrainableLayerNorm::load(4, 1e-5, vb.pp("n")).unwrap();
        let ours = norm.forward(x.as_tensor()).unwrap();
        let fused = candle_nn::ops::layer_norm(x.as_tensor(), &w, &b, 1e-5).unwrap();
        assert!(max_abs_diff(&ours, &fused) < 1e-5);
        let soft = softmax_last_dim(x.as_tensor()).unwrap();
        let fused = candle_nn::ops::softmax_last_dim(x.as_tensor()).unwrap();
        assert!(max_abs_diff(&soft, &fused) < 1e-6);
        // both reach the input through backward (the fused ones would not)
        let loss = (ours.sqr().unwrap().sum_all().unwrap()
            + soft.sqr().unwrap().sum_all().unwrap())
        .unwrap();
        let grads = loss.backward().unwrap();
        assert!(grads.get(x.as_tensor()).is_some());
    }
}

//! The packed CPU engine: BERT-family and MPNet encoders in f32 on the CPU, written directly
//! against the `gemm` crate (the matrix kernel candle itself uses) instead of through candle
//! tensors, because that is what makes jobshift at least as fast as PyTorch on two cores.
//!
//! What it does differently from the candle path (measured in docs/encoders.md):
//! - **no padding**: a batch's sequences are packed row after row into one `tokens × hidden`
//!   matrix, so projections and feed-forward layers never spend work on pad positions, and each
//!   sequence attends only over its own tokens (mathematically the same as masking pad keys with
//!   `finfo.min`, which gives them exactly zero weight in PyTorch too);
//! - **one gemm per projection**: Q, K and V are one `hidden × 3·hidden` product; the bias is
//!   written into the destination first and the product accumulated onto it;
//! - **fused, parallel attention**: one rayon task per (sequence, head) computes scores (a gemm
//!   reading Q and Kᵀ in place from the QKV buffer), adds MPNet's relative-position bias, takes
//!   the softmax and multiplies by V straight into its columns of the context matrix;
//! - **parallel, vectorized element-wise work**: residual + LayerNorm, GELU and embedding sums
//!   run over rows in parallel, in kernels compiled for AVX-512 / AVX2+FMA with runtime dispatch.
//!   GELU and softmax use polynomial `exp`/`erf` approximations (Cephes `expf`, Abramowitz &
//!   Stegun 7.1.26, |error| < 1.5e-7) because the standard library's scalar calls do not vectorize.
//!
//! Used for `dtype f32` on the CPU; other dtypes and devices use candle ([`super::mpnet`],
//! candle-transformers' BERT). Parity with sentence-transformers: `tests/parity.rs`.

use crate::error::EncodeError;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

/// The architecture-specific parts of the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PackedArch {
    /// Absolute positions `0..n`, token-type 0 embedding added.
    Bert,
    /// Positions `padding_idx + 1 + i` (non-padding tokens), shared relative-position bias.
    MPNet,
}

/// Feed-forward activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PackedActivation {
    /// `0.5·x·(1 + erf(x/√2))` (PyTorch `gelu`, HF `"gelu"`).
    GeluErf,
    /// The tanh approximation (HF `"gelu_new"`, `"gelu_pytorch_tanh"`).
    GeluTanh,
    Relu,
}

impl PackedActivation {
    /// The activation for an HF `hidden_act`, or None when this engine lacks it.
    pub fn from_hf(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(PackedActivation::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_approximate" => {
                Some(PackedActivation::GeluTanh)
            }
            "relu" => Some(PackedActivation::Relu),
            _ => None,
        }
    }
}

/// Shapes and constants of a model.
#[derive(Debug, Clone)]
pub(crate) struct PackedConfig {
    pub arch: PackedArch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f32,
    pub activation: PackedActivation,
    /// MPNet's padding id (position ids start after it).
    pub padding_idx: u32,
    /// MPNet's relative-attention buckets.
    pub num_buckets: usize,
}

/// A linear layer with its weight transposed to `in × out` (row-major), as gemm reads it best.
struct Dense {
    weight_t: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    qkv: Dense,
    attn_out: Dense,
    attn_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// A transformer encoder held as plain f32 arrays.
pub(crate) struct PackedModel {
    cfg: PackedConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    /// BERT's token-type-0 embedding (added to every token), if the model has one.
    token_type0: Option<Vec<f32>>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    /// MPNet: (num_buckets × heads).
    relative_bias: Option<Vec<f32>>,
}

fn tensor_vec(vb: &VarBuilder, shape: &[usize], name: &str) -> candle_core::Result<Vec<f32>> {
    vb.get(shape, name)?
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()
}

fn load_dense(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Dense> {
    let w = tensor_vec(vb, &[outputs, inputs], "weight")?;
    let bias = tensor_vec(vb, &[outputs], "bias")?;
    Ok(Dense {
        weight_t: transpose(&w, outputs, inputs),
        bias,
        inputs,
        outputs,
    })
}

/// Several linear layers with the same input as one (their outputs side by side).
fn concat_dense(parts: Vec<Dense>) -> Dense {
    let inputs = parts[0].inputs;
    let outputs: usize = parts.iter().map(|d| d.outputs).sum();
    let mut weight_t = vec![0f32; inputs * outputs];
    let mut bias = Vec::with_capacity(outputs);
    let mut col = 0;
    for d in &parts {
        for r in 0..inputs {
            weight_t[r * outputs + col..r * outputs + col + d.outputs]
                .copy_from_slice(&d.weight_t[r * d.outputs..(r + 1) * d.outputs]);
        }
        bias.extend_from_slice(&d.bias);
        col += d.outputs;
    }
    Dense {
        weight_t,
        bias,
        inputs,
        outputs,
    }
}

fn load_norm(vb: &VarBuilder, size: usize) -> candle_core::Result<Norm> {
    let (g, b) = if vb.contains_tensor("gamma") {
        ("gamma", "beta")
    } else {
        ("weight", "bias")
    };
    Ok(Norm {
        gamma: tensor_vec(vb, &[size], g)?,
        beta: tensor_vec(vb, &[size], b)?,
    })
}

fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

impl PackedModel {
    /// Load from a VarBuilder rooted at the checkpoint (with or without a `bert.`/`mpnet.`
    /// prefix). `vb` should have dtype F32.
    pub fn load(vb: VarBuilder, cfg: PackedConfig) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        let vb = match cfg.arch {
            PackedArch::Bert if vb.contains_tensor("bert.embeddings.word_embeddings.weight") => {
                vb.pp("bert")
            }
            PackedArch::MPNet if vb.contains_tensor("mpnet.embeddings.word_embeddings.weight") => {
                vb.pp("mpnet")
            }
            _ => vb,
        };
        let emb = vb.pp("embeddings");
        let word = tensor_vec(&emb.pp("word_embeddings"), &[cfg.vocab_size, h], "weight")?;
        let position = tensor_vec(
            &emb.pp("position_embeddings"),
            &[cfg.max_position_embeddings, h],
            "weight",
        )?;
        let token_type0 = match cfg.arch {
            PackedArch::Bert if emb.contains_tensor("token_type_embeddings.weight") => {
                let tt = emb.pp("token_type_embeddings").get_unchecked("weight")?;
                Some(
                    tt.to_dtype(DType::F32)?
                        .get(0)?
                        .flatten_all()?
                        .to_vec1::<f32>()?,
                )
            }
            _ => None,
        };
        let emb_norm = load_norm(&emb.pp("LayerNorm"), h)?;
        let enc = vb.pp("encoder");
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let l = enc.pp(format!("layer.{i}"));
            let (qkv, attn_out, attn_norm) = match cfg.arch {
                PackedArch::Bert => {
                    let s = l.pp("attention").pp("self");
                    let qkv = concat_dense(vec![
                        load_dense(&s.pp("query"), h, h)?,
                        load_dense(&s.pp("key"), h, h)?,
                        load_dense(&s.pp("value"), h, h)?,
                    ]);
                    let o = l.pp("attention").pp("output");
                    (
                        qkv,
                        load_dense(&o.pp("dense"), h, h)?,
                        load_norm(&o.pp("LayerNorm"), h)?,
                    )
                }
                PackedArch::MPNet => {
                    let a = l.pp("attention").pp("attn");
                    let qkv = concat_dense(vec![
                        load_dense(&a.pp("q"), h, h)?,
                        load_dense(&a.pp("k"), h, h)?,
                        load_dense(&a.pp("v"), h, h)?,
                    ]);
                    (
                        qkv,
                        load_dense(&a.pp("o"), h, h)?,
                        load_norm(&l.pp("attention").pp("LayerNorm"), h)?,
                    )
                }
            };
            layers.push(Layer {
                qkv,
                attn_out,
                attn_norm,
                intermediate: load_dense(
                    &l.pp("intermediate").pp("dense"),
                    h,
                    cfg.intermediate_size,
                )?,
                output: load_dense(&l.pp("output").pp("dense"), cfg.intermediate_size, h)?,
                output_norm: load_norm(&l.pp("output").pp("LayerNorm"), h)?,
            });
        }
        let relative_bias = match cfg.arch {
            PackedArch::MPNet => Some(tensor_vec(
                &enc.pp("relative_attention_bias"),
                &[cfg.num_buckets, cfg.num_heads],
                "weight",
            )?),
            PackedArch::Bert => None,
        };
        Ok(PackedModel {
            cfg,
            word,
            position,
            token_type0,
            emb_norm,
            layers,
            relative_bias,
        })
    }

    pub fn config(&self) -> &PackedConfig {
        &self.cfg
    }

    /// The input token-embedding matrix (vocab × hidden).
    pub fn word_embeddings(&self) -> candle_core::Result<Tensor> {
        Tensor::from_slice(
            &self.word,
            (self.cfg.vocab_size, self.cfg.hidden_size),
            &Device::Cpu,
        )
    }

    /// Matrix-product FLOPs of one forward pass over sequences of these lengths.
    pub fn flops(&self, lens: &[usize]) -> u64 {
        let t: u64 = lens.iter().map(|&n| n as u64).sum();
        let sq: u64 = lens.iter().map(|&n| (n * n) as u64).sum();
        let (h, i) = (
            self.cfg.hidden_size as u64,
            self.cfg.intermediate_size as u64,
        );
        (2 * t * (4 * h * h + 2 * h * i) + 4 * sq * h) * self.cfg.num_layers as u64
    }

    /// Run the encoder over `seqs` (token ids, special tokens included) and write the last
    /// hidden states, packed (sequence after sequence, `Σ len × hidden`), into `hidden`.
    /// `scratch` holds the intermediate buffers and is reused across calls.
    pub fn forward(
        &self,
        seqs: &[&[u32]],
        hidden: &mut Vec<f32>,
        scratch: &mut PackedScratch,
    ) -> Result<(), EncodeError> {
        let cfg = &self.cfg;
        let h = cfg.hidden_size;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let mut offsets = Vec::with_capacity(seqs.len());
        let mut at = 0;
        for s in seqs {
            offsets.push((at, s.len()));
            at += s.len();
        }
        self.embed(seqs, &offsets, hidden)?;
        let longest = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let rel = self.relative_table(longest);
        let PackedScratch {
            qkv,
            context,
            projected,
            inter,
        } = scratch;
        for layer in &self.layers {
            linear(hidden, total, &layer.qkv, qkv);
            context.resize(total * h, 0.0);
            self.attention(qkv, &offsets, rel.as_deref(), longest, context);
            linear(context, total, &layer.attn_out, projected);
            add_layer_norm(hidden, projected, &layer.attn_norm, h, cfg.layer_norm_eps);
            linear(hidden, total, &layer.intermediate, inter);
            activate(inter, cfg.activation);
            linear(inter, total, &layer.output, projected);
            add_layer_norm(hidden, projected, &layer.output_norm, h, cfg.layer_norm_eps);
        }
        Ok(())
    }

    /// Word + position (+ token type) embeddings, then LayerNorm, into `out`.
    fn embed(
        &self,
        seqs: &[&[u32]],
        offsets: &[(usize, usize)],
        out: &mut Vec<f32>,
    ) -> Result<(), EncodeError> {
        let cfg = &self.cfg;
        let h = cfg.hidden_size;
        let total: usize = offsets.last().map(|&(o, n)| o + n).unwrap_or(0);
        // Validate ids and positions up front so the parallel part cannot fail.
        let mut positions = Vec::with_capacity(total);
        for s in seqs {
            let mut count = 0u32;
            for &id in s.iter() {
                if id as usize >= cfg.vocab_size {
                    return Err(EncodeError::Other(format!(
                        "token id {id} is outside the model's vocabulary ({} tokens)",
                        cfg.vocab_size
                    )));
                }
                let pos = match cfg.arch {
                    PackedArch::Bert => {
                        count += 1;
                        count - 1
                    }
                    // create_position_ids_from_input_ids: cumulative count of non-padding
                    // tokens, offset by padding_idx; a padding id keeps position padding_idx.
                    PackedArch::MPNet if id == cfg.padding_idx => cfg.padding_idx,
                    PackedArch::MPNet => {
                        count += 1;
                        count + cfg.padding_idx
                    }
                };
                if pos as usize >= cfg.max_position_embeddings {
                    return Err(EncodeError::Other(format!(
                        "sequence of {} tokens exceeds the model's {} positions",
                        s.len(),
                        cfg.max_position_embeddings
                    )));
                }
                positions.push(pos);
            }
        }
        let ids: Vec<u32> = seqs.iter().flat_map(|s| s.iter().copied()).collect();
        out.clear();
        out.resize(total * h, 0.0);
        let norm = &self.emb_norm;
        let eps = cfg.layer_norm_eps;
        out.par_chunks_mut(h)
            .zip(ids.par_iter().zip(positions.par_iter()))
            .for_each(|(row, (&id, &pos))| {
                let w = &self.word[id as usize * h..(id as usize + 1) * h];
                let p = &self.position[pos as usize * h..(pos as usize + 1) * h];
                for ((r, &a), &b) in row.iter_mut().zip(w).zip(p) {
                    *r = a + b;
                }
                if let Some(tt) = &self.token_type0 {
                    for (r, &t) in row.iter_mut().zip(tt) {
                        *r += t;
                    }
                }
                kernels::layer_norm_row(row, &norm.gamma, &norm.beta, eps);
            });
        Ok(())
    }

    /// MPNet: bias by relative position for each head, `heads × (2·longest − 1)`, index
    /// `key − query + longest − 1`.
    fn relative_table(&self, longest: usize) -> Option<Vec<f32>> {
        let table = self.relative_bias.as_ref()?;
        let heads = self.cfg.num_heads;
        let width = (2 * longest).saturating_sub(1).max(1);
        let mut rel = vec![0f32; heads * width];
        for (idx, dist) in (-(longest as i64 - 1)..=(longest as i64 - 1)).enumerate() {
            let bucket = super::mpnet::relative_position_bucket(dist, self.cfg.num_buckets);
            for head in 0..heads {
                rel[head * width + idx] = table[bucket * heads + head];
            }
        }
        Some(rel)
    }

    /// Self-attention of every (sequence, head) in parallel: `context[:, head] =
    /// softmax(Q Kᵀ / √d + bias) V`, reading Q, K, V in place from the packed QKV rows.
    fn attention(
        &self,
        qkv: &[f32],
        offsets: &[(usize, usize)],
        rel: Option<&[f32]>,
        longest: usize,
        context: &mut [f32],
    ) {
        let h = self.cfg.hidden_size;
        let heads = self.cfg.num_heads;
        let d = h / heads;
        let stride = 3 * h;
        let scale = 1.0 / (d as f32).sqrt();
        let width = (2 * longest).saturating_sub(1).max(1);
        let ctx = SharedMut(context.as_mut_ptr());
        // Longest sequences first so the tail of the parallel loop is short tasks.
        (0..offsets.len() * heads).into_par_iter().for_each_init(
            Vec::<f32>::new,
            |scores, task| {
                let (offset, n) = offsets[task / heads];
                let head = task % heads;
                if n == 0 {
                    return;
                }
                scores.clear();
                scores.resize(n * n, 0.0);
                let q = qkv[offset * stride + head * d..].as_ptr();
                let k = qkv[offset * stride + h + head * d..].as_ptr();
                let v = qkv[offset * stride + 2 * h + head * d..].as_ptr();
                // SAFETY: the strides and extents below stay inside qkv (rows offset..offset+n,
                // columns within this head's d) and inside `scores` (n × n).
                unsafe {
                    gemm::gemm(
                        n,
                        n,
                        d,
                        scores.as_mut_ptr(),
                        1,
                        n as isize,
                        false,
                        q,
                        1,
                        stride as isize,
                        k,
                        stride as isize,
                        1,
                        0.0,
                        scale,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
                for (i, row) in scores.chunks_exact_mut(n).enumerate() {
                    if let Some(rel) = rel {
                        let start = head * width + (longest - 1 - i);
                        for (s, &b) in row.iter_mut().zip(&rel[start..start + n]) {
                            *s += b;
                        }
                    }
                    kernels::softmax_row(row);
                }
                // SAFETY: each task writes only rows offset..offset+n, columns head*d..+d of
                // `context` (n × d with row stride h): disjoint across tasks, inside bounds.
                unsafe {
                    let dst = ctx.get().add(offset * h + head * d);
                    gemm::gemm(
                        n,
                        d,
                        n,
                        dst,
                        1,
                        h as isize,
                        false,
                        scores.as_ptr(),
                        1,
                        n as isize,
                        v,
                        1,
                        stride as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            },
        );
    }
}

/// Intermediate buffers of [`PackedModel::forward`], reused across batches.
#[derive(Default)]
pub(crate) struct PackedScratch {
    qkv: Vec<f32>,
    context: Vec<f32>,
    projected: Vec<f32>,
    inter: Vec<f32>,
}

/// A raw pointer that parallel tasks write through at disjoint offsets.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
// SAFETY: used only for disjoint writes (see `attention`).
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}
impl SharedMut {
    fn get(self) -> *mut f32 {
        self.0
    }
}

fn gemm_parallelism() -> gemm::Parallelism {
    match rayon::current_num_threads() {
        0 | 1 => gemm::Parallelism::None,
        n => gemm::Parallelism::Rayon(n),
    }
}

/// `y = x · Wᵀ + b` for `rows` rows: the bias is written into `y`, then the product is
/// accumulated onto it by one gemm call.
fn linear(x: &[f32], rows: usize, dense: &Dense, y: &mut Vec<f32>) {
    let (k, n) = (dense.inputs, dense.outputs);
    y.clear();
    y.resize(rows * n, 0.0);
    y.par_chunks_mut(n * 64).for_each(|block| {
        for row in block.chunks_exact_mut(n) {
            row.copy_from_slice(&dense.bias);
        }
    });
    if rows == 0 {
        return;
    }
    // SAFETY: x is rows × k, weight_t is k × n, y is rows × n, all row-major and in bounds.
    unsafe {
        gemm::gemm(
            rows,
            n,
            k,
            y.as_mut_ptr(),
            1,
            n as isize,
            true,
            x.as_ptr(),
            1,
            k as isize,
            dense.weight_t.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm_parallelism(),
        );
    }
}

/// Rows per parallel task for element-wise work: enough tasks to balance, few enough to be cheap.
fn rows_per_task(rows: usize) -> usize {
    (rows / (4 * rayon::current_num_threads().max(1))).max(1)
}

/// `x = LayerNorm(x + residual)`, row by row in parallel.
fn add_layer_norm(x: &mut [f32], residual: &[f32], norm: &Norm, h: usize, eps: f32) {
    let rows = x.len() / h;
    let per = rows_per_task(rows) * h;
    x.par_chunks_mut(per)
        .zip(residual.par_chunks(per))
        .for_each(|(xs, rs)| {
            for (row, res) in xs.chunks_exact_mut(h).zip(rs.chunks_exact(h)) {
                for (a, &b) in row.iter_mut().zip(res) {
                    *a += b;
                }
                kernels::layer_norm_row(row, &norm.gamma, &norm.beta, eps);
            }
        });
}

/// The feed-forward activation, in place, in parallel.
fn activate(x: &mut [f32], act: PackedActivation) {
    let per = (x.len() / (4 * rayon::current_num_threads().max(1))).clamp(4096, 1 << 20);
    x.par_chunks_mut(per).for_each(|chunk| match act {
        PackedActivation::GeluErf => kernels::gelu_erf(chunk),
        PackedActivation::GeluTanh => kernels::gelu_tanh(chunk),
        PackedActivation::Relu => chunk.iter_mut().for_each(|v| *v = v.max(0.0)),
    });
}

/// Element-wise kernels: plain loops the compiler vectorizes, compiled for AVX-512 and
/// AVX2+FMA and chosen at run time (the default x86-64 target only guarantees SSE2).
pub mod kernels {
    macro_rules! dispatch {
        ($(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty),* ) => $imp:ident) => {
            $(#[$doc])*
            pub fn $name($($arg: $ty),*) {
                #[cfg(target_arch = "x86_64")]
                {
                    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                    unsafe fn v4($($arg: $ty),*) { super::kernels::$imp($($arg),*) }
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn v3($($arg: $ty),*) { super::kernels::$imp($($arg),*) }
                    if std::arch::is_x86_feature_detected!("avx512f")
                        && std::arch::is_x86_feature_detected!("avx512bw")
                        && std::arch::is_x86_feature_detected!("avx512dq")
                        && std::arch::is_x86_feature_detected!("avx512vl")
                    {
                        // SAFETY: the CPU supports the features v4 is compiled for.
                        return unsafe { v4($($arg),*) };
                    }
                    if std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: as above, for v3.
                        return unsafe { v3($($arg),*) };
                    }
                }
                $imp($($arg),*)
            }
        };
    }

    dispatch!(
        /// LayerNorm of one row in place (biased variance, as PyTorch).
        layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) => layer_norm_impl
    );
    dispatch!(
        /// Softmax of one row in place.
        softmax_row(row: &mut [f32]) => softmax_impl
    );
    dispatch!(
        /// Exact-form GELU, `0.5·x·(1 + erf(x/√2))`, in place.
        gelu_erf(xs: &mut [f32]) => gelu_erf_impl
    );
    dispatch!(
        /// Tanh-approximation GELU in place.
        gelu_tanh(xs: &mut [f32]) => gelu_tanh_impl
    );

    const LANES: usize = 16;

    /// Sum with 16 independent accumulators, so it vectorizes without reassociation flags.
    #[inline(always)]
    fn sum(xs: &[f32]) -> f32 {
        let mut acc = [0f32; LANES];
        let chunks = xs.chunks_exact(LANES);
        let rest = chunks.remainder();
        for c in chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a += x;
            }
        }
        acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
    }

    #[inline(always)]
    fn layer_norm_impl(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        let n = row.len() as f32;
        let mean = sum(row) / n;
        let mut acc = [0f32; LANES];
        let chunks = row.chunks_exact(LANES);
        let rest: f32 = chunks
            .remainder()
            .iter()
            .map(|x| (x - mean) * (x - mean))
            .sum();
        for c in chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a += (x - mean) * (x - mean);
            }
        }
        let var = (acc.iter().sum::<f32>() + rest) / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((x, &g), &b) in row.iter_mut().zip(gamma).zip(beta) {
            *x = (*x - mean) * inv * g + b;
        }
    }

    #[inline(always)]
    fn softmax_impl(row: &mut [f32]) {
        let mut max = f32::NEG_INFINITY;
        for &x in row.iter() {
            max = max.max(x);
        }
        for x in row.iter_mut() {
            *x = exp(*x - max);
        }
        let inv = 1.0 / sum(row);
        for x in row.iter_mut() {
            *x *= inv;
        }
    }

    #[inline(always)]
    fn gelu_erf_impl(xs: &mut [f32]) {
        for x in xs.iter_mut() {
            let v = *x;
            *x = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }

    #[inline(always)]
    fn gelu_tanh_impl(xs: &mut [f32]) {
        const C: f32 = 0.797_884_6; // sqrt(2/pi)
        for x in xs.iter_mut() {
            let v = *x;
            let y = C * (v + 0.044715 * v * v * v);
            // tanh(y) = 1 - 2 / (exp(2y) + 1)
            let t = 1.0 - 2.0 / (exp(2.0 * y) + 1.0);
            *x = 0.5 * v * (1.0 + t);
        }
    }

    /// `e^x` for f32 (Cephes `expf`: range reduction to [-ln2/2, ln2/2], degree-6 polynomial,
    /// relative error ≈ 1e-7), branch-free so loops over it vectorize. Inputs below −87.3
    /// give ≈1e-38 instead of denormals/zero.
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
        let x = x.clamp(-87.3, 88.7);
        let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
        let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
        let mut p = 1.987_569_1e-4f32;
        p = p * r + 1.398_199_9e-3;
        p = p * r + 8.333_452e-3;
        p = p * r + 4.166_579_6e-2;
        p = p * r + 1.666_666_5e-1;
        p = p * r + 5e-1;
        let y = p * r * r + r + 1.0;
        y * f32::from_bits(((n as i32 + 127) as u32) << 23)
    }

    /// erf(x) (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7), branch-free.
    #[inline(always)]
    pub fn erf(x: f32) -> f32 {
        let a = x.abs();
        let t = 1.0 / (1.0 + 0.327_591_1 * a);
        let poly = t
            * (0.254_829_6
                + t * (-0.284_496_72 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
        let y = 1.0 - poly * exp(-a * a);
        y.copysign(x)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn exp_and_erf_are_accurate() {
            let mut worst_exp = 0f64;
            let mut worst_erf = 0f64;
            for i in -20000..=20000 {
                let x = i as f32 / 1000.0;
                let e = exp(x) as f64;
                let r = (x as f64).exp();
                worst_exp = worst_exp.max(((e - r) / r).abs());
                // erf reference via f64 numerical integration would be slow; compare with the
                // complementary identity at symmetric points and a few known values below.
                worst_erf = worst_erf.max((erf(x) + erf(-x)).abs() as f64);
            }
            assert!(worst_exp < 3e-7, "exp relative error {worst_exp}");
            assert!(worst_erf == 0.0);
            for (x, r) in [
                (0.0f32, 0.0f64),
                (0.5, 0.520_499_877_813_046_5),
                (1.0, 0.842_700_792_949_714_9),
                (2.0, 0.995_322_265_018_952_7),
                (-1.5, -0.966_105_146_475_310_7),
                (4.0, 0.999_999_984_582_742_1),
            ] {
                assert!(
                    (erf(x) as f64 - r).abs() < 3e-7,
                    "erf({x}) = {} vs {r}",
                    erf(x)
                );
            }
        }

        #[test]
        fn softmax_and_layer_norm() {
            let mut row = [1.0f32, 2.0, 3.0];
            softmax_row(&mut row);
            let z: f64 = [1f64, 2.0, 3.0].iter().map(|v| v.exp()).sum();
            for (i, v) in row.iter().enumerate() {
                assert!((*v as f64 - ((i + 1) as f64).exp() / z).abs() < 1e-6);
            }
            let mut row: Vec<f32> = (0..37).map(|i| i as f32).collect();
            layer_norm_row(&mut row, &[1.0; 37], &[0.0; 37], 1e-12);
            let mean: f32 = row.iter().sum::<f32>() / 37.0;
            let var: f32 = row.iter().map(|v| v * v).sum::<f32>() / 37.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4);
        }
    }
}

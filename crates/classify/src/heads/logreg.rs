//! The softmax logistic-regression head, trained on candle with AdamW.

use super::*;
use crate::ClassifyError;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Linear, Module, Optimizer, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Softmax regression trained with AdamW in candle; inputs are L2-normalized then scaled by
/// `sqrt(dim)` so coordinates are of unit order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogregHead {
    pub dim: usize,
    pub k: usize,
    /// `k × dim` weights, `k` biases.
    #[serde(skip)]
    pub weights: Vec<f32>,
    #[serde(skip)]
    pub bias: Vec<f32>,
}

impl LogregHead {
    fn prep(x: &[f32], dim: usize) -> Vec<f32> {
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, dim);
        let s = (dim as f32).sqrt();
        xs.iter_mut().for_each(|v| *v *= s);
        xs
    }

    /// `weights` per row (class balancing, label confidence).
    pub fn fit(
        x: &[f32],
        dim: usize,
        y: &[u32],
        row_weights: &[f32],
        k: usize,
        p: &HeadParams,
    ) -> Result<Self, ClassifyError> {
        let dev = Device::Cpu;
        let xs = Self::prep(x, dim);
        let n = y.len();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        // zero start: the objective is convex, so the optimum does not depend on where it
        // starts, and training stays deterministic given the seed (`candle_nn::linear` draws
        // its initial weights from an unseeded generator: two fits differed)
        let zero = candle_nn::Init::Const(0.0);
        let lin = Linear::new(
            vb.get_with_hints((k, dim), "head.weight", zero)?,
            Some(vb.get_with_hints(k, "head.bias", zero)?),
        );
        let mut opt = candle_nn::AdamW::new(
            varmap.all_vars(),
            candle_nn::ParamsAdamW {
                lr: p.lr_rate,
                weight_decay: p.lr_weight_decay,
                ..Default::default()
            },
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let mut order: Vec<usize> = (0..n).collect();
        let batch = p.lr_batch.max(1);
        let total_steps = (p.lr_epochs * n.div_ceil(batch)).max(1);
        let mut step = 0usize;
        for _epoch in 0..p.lr_epochs {
            order.shuffle(&mut rng);
            for idx in order.chunks(batch) {
                // cosine learning-rate decay to 10% of the base rate
                let t = step as f64 / total_steps as f64;
                opt.set_learning_rate(
                    p.lr_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())),
                );
                step += 1;
                let mut bx = Vec::with_capacity(idx.len() * dim);
                let mut by = Vec::with_capacity(idx.len());
                let mut bw = Vec::with_capacity(idx.len());
                for &i in idx {
                    bx.extend_from_slice(&xs[i * dim..(i + 1) * dim]);
                    by.push(y[i]);
                    bw.push(row_weights[i]);
                }
                let bx = Tensor::from_vec(bx, (idx.len(), dim), &dev)?;
                let by = Tensor::from_vec(by, (idx.len(), 1), &dev)?;
                let bw = Tensor::from_vec(bw, idx.len(), &dev)?;
                let logits = lin.forward(&bx)?;
                let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
                let picked = logp.gather(&by, 1)?.squeeze(1)?;
                let loss = (picked.mul(&bw)?.sum_all()?.neg()?
                    / bw.sum_all()?.to_scalar::<f32>()? as f64)?;
                opt.backward_step(&loss)?;
            }
        }
        let weights = lin.weight().flatten_all()?.to_vec1::<f32>()?;
        let bias = match lin.bias() {
            Some(b) => b.to_vec1::<f32>()?,
            None => vec![0.0; k],
        };
        Ok(LogregHead {
            dim,
            k,
            weights,
            bias,
        })
    }

    pub fn logits(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        let xs = Self::prep(x, self.dim);
        let mut s = matmul_transposed(&xs, &self.weights, self.dim)?;
        for row in s.chunks_mut(self.k) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
        }
        Ok(s)
    }

    pub fn predict_proba(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        let mut s = self.logits(x)?;
        softmax_rows(&mut s, self.k);
        Ok(s)
    }
}

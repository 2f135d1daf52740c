//! The softmax logistic-regression head: trained on candle with AdamW for the title head (tens
//! of thousands of examples, hundreds of titles), or fitted to the exact optimum of its
//! L2-penalized log-loss with L-BFGS (argmin) for the population head (hundreds of labelled
//! postings), where the fit must not depend on the order of minibatches.

use super::*;
use crate::ClassifyError;
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
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

    /// Fits the regression to the minimum of its row-weighted mean log-loss plus
    /// `l2 / 2 · ‖W‖²` (biases unpenalized) on the whole data at once, with L-BFGS from zero.
    /// The objective is strictly convex, so the fit is its one optimum: it moves little when a
    /// few rows change, where minibatch AdamW's answer also depends on the order the rows came
    /// in (a re-fit on three changed labels moved 69 of 843 answers). Meant for small data: each
    /// step reads every row. `start`, a head of the same shape (say, the optimum for a stronger
    /// penalty), is where the search begins instead of zero: the same optimum, in fewer steps.
    #[allow(clippy::too_many_arguments)]
    pub fn fit_converged(
        x: &[f32],
        dim: usize,
        y: &[u32],
        row_weights: &[f32],
        k: usize,
        l2: f64,
        start: Option<&LogregHead>,
    ) -> Result<Self, ClassifyError> {
        let n = y.len();
        if n == 0 || k == 0 || x.len() != n * dim || row_weights.len() != n {
            return Err(ClassifyError::Training(format!(
                "logistic regression: {n} labels, {} weights and {} values for rows of {dim} \
                 ({k} classes)",
                row_weights.len(),
                x.len()
            )));
        }
        let loss = PenalizedLogLoss::new(x, dim, y, row_weights, k, l2);
        let start_at: Vec<f64> = match start {
            Some(h) if h.dim == dim && h.k == k => h.params(),
            _ => vec![0.0; k * dim + k],
        };
        let failed = |e: argmin::core::Error| ClassifyError::Training(format!("L-BFGS: {e}"));
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), LBFGS_MEMORY)
            .with_tolerance_grad(LBFGS_TOLERANCE_GRAD)
            .and_then(|s| s.with_tolerance_cost(LBFGS_TOLERANCE_COST))
            .map_err(failed)?;
        let result = Executor::new(loss, solver)
            .configure(|state| state.param(start_at).max_iters(LBFGS_MAX_ITERS))
            .run()
            .map_err(failed)?;
        let theta = result.state().get_best_param().ok_or_else(|| {
            ClassifyError::Training("L-BFGS ended without a parameter".to_string())
        })?;
        let (weights, bias) = theta.split_at(k * dim);
        Ok(LogregHead {
            dim,
            k,
            weights: weights.iter().map(|&v| v as f32).collect(),
            bias: bias.iter().map(|&v| v as f32).collect(),
        })
    }

    /// The weights (row-major) then the biases, as [`PenalizedLogLoss`]'s parameter.
    fn params(&self) -> Vec<f64> {
        self.weights
            .iter()
            .chain(&self.bias)
            .map(|&v| f64::from(v))
            .collect()
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

/// L-BFGS's memory (pairs of steps kept), stopping tolerances (the gradient's norm; the change
/// of the cost between iterations) and iteration cap for [`LogregHead::fit_converged`]. The
/// penalized problems it is given converge in tens to a few hundred iterations.
const LBFGS_MEMORY: usize = 10;
const LBFGS_TOLERANCE_GRAD: f64 = 1e-6;
const LBFGS_TOLERANCE_COST: f64 = 1e-12;
const LBFGS_MAX_ITERS: u64 = 1_000;

/// The objective of [`LogregHead::fit_converged`] over prepared rows: `Σ wᵢ·(−log pᵢ,yᵢ) +
/// l2/2·‖W‖²` with `Σ wᵢ = 1`; its parameter is `W` (`k × dim`, row-major) then the `k` biases.
struct PenalizedLogLoss {
    /// `n × dim` rows, and their transpose (`dim × n`) for the gradient's product.
    x: Vec<f64>,
    xt: Vec<f64>,
    y: Vec<u32>,
    w: Vec<f64>,
    dim: usize,
    k: usize,
    l2: f64,
}

/// `rows` (`n × cols`, row-major) transposed (`cols × n`).
fn transpose(rows: &[f64], cols: usize) -> Vec<f64> {
    let n = rows.len() / cols.max(1);
    let mut t = vec![0.0; rows.len()];
    for (i, row) in rows.chunks(cols).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            t[j * n + i] = v;
        }
    }
    t
}

impl PenalizedLogLoss {
    /// The objective over raw rows `x` (prepared as [`LogregHead`] reads them), with the row
    /// weights scaled to sum to 1.
    fn new(x: &[f32], dim: usize, y: &[u32], row_weights: &[f32], k: usize, l2: f64) -> Self {
        let x: Vec<f64> = LogregHead::prep(x, dim)
            .into_iter()
            .map(f64::from)
            .collect();
        let total: f64 = row_weights.iter().map(|&w| f64::from(w)).sum();
        PenalizedLogLoss {
            xt: transpose(&x, dim),
            x,
            y: y.to_vec(),
            w: row_weights
                .iter()
                .map(|&w| f64::from(w) / total.max(f64::MIN_POSITIVE))
                .collect(),
            dim,
            k,
            l2,
        }
    }

    /// The cost at `theta` and, with `with_gradient`, its gradient (else an empty vector).
    fn evaluate(&self, theta: &[f64], with_gradient: bool) -> (f64, Vec<f64>) {
        let (n, dim, k) = (self.y.len(), self.dim, self.k);
        let (weights, bias) = theta.split_at(k * dim);
        let mut logits = vec![0.0; n * k];
        gemm_abt(&mut logits, &self.x, weights, dim, threads_for(n * k * dim));
        // per row: the cost's term, then the row's weighted residual p − onehot(y) in place
        let mut cost = 0.0;
        for ((row, &yi), &wi) in logits.chunks_mut(k).zip(&self.y).zip(&self.w) {
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            cost += wi * (log_sum - row[yi as usize]);
            if with_gradient {
                for (j, v) in row.iter_mut().enumerate() {
                    let target = if j == yi as usize { 1.0 } else { 0.0 };
                    *v = wi * ((*v - log_sum).exp() - target);
                }
            }
        }
        cost += 0.5 * self.l2 * weights.iter().map(|v| v * v).sum::<f64>();
        if !with_gradient {
            return (cost, Vec::new());
        }
        let residual_t = transpose(&logits, k);
        let mut gradient = vec![0.0; k * dim + k];
        let (grad_weights, grad_bias) = gradient.split_at_mut(k * dim);
        // ∂/∂W = Rᵀ·X (k × dim) = residual_t (k × n) · (xt (dim × n))ᵀ
        gemm_abt(
            grad_weights,
            &residual_t,
            &self.xt,
            n,
            threads_for(n * k * dim),
        );
        grad_weights
            .iter_mut()
            .zip(weights)
            .for_each(|(g, w)| *g += self.l2 * w);
        for (g, column) in grad_bias.iter_mut().zip(residual_t.chunks(n)) {
            *g = column.iter().sum();
        }
        (cost, gradient)
    }
}

impl CostFunction for PenalizedLogLoss {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta, false).0)
    }
}

impl Gradient for PenalizedLogLoss {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(theta, true).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three classes of four-wide rows, each class near its own axis, with some noise.
    fn rows() -> (Vec<f32>, Vec<u32>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..30u32 {
            let c = i % 3;
            let jitter = (i as f32 * 0.37).sin() * 0.3;
            let mut row = [jitter, -jitter, 0.5 * jitter, 0.2];
            row[c as usize] += 1.0;
            x.extend_from_slice(&row);
            y.push(c);
        }
        (x, y)
    }

    fn objective(x: &[f32], y: &[u32], l2: f64) -> PenalizedLogLoss {
        PenalizedLogLoss::new(x, 4, y, &vec![1.0; y.len()], 3, l2)
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (x, y) = rows();
        let loss = objective(&x, &y, 0.1);
        let theta: Vec<f64> = (0..15).map(|i| ((i as f64) * 0.7).cos() * 0.5).collect();
        let (_, gradient) = loss.evaluate(&theta, true);
        for i in 0..theta.len() {
            let (mut up, mut down) = (theta.clone(), theta.clone());
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let numeric = (loss.evaluate(&up, false).0 - loss.evaluate(&down, false).0) / 2e-6;
            assert!(
                (numeric - gradient[i]).abs() < 1e-6,
                "coordinate {i}: {numeric} numerically, {} analytically",
                gradient[i]
            );
        }
    }

    #[test]
    fn the_converged_fit_is_the_optimum_and_moves_little_for_one_changed_label() {
        let (x, mut y) = rows();
        let weights = vec![1.0f32; y.len()];
        let head = LogregHead::fit_converged(&x, 4, &y, &weights, 3, 0.05, None).unwrap();
        let (_, gradient) = objective(&x, &y, 0.05).evaluate(&head.params(), true);
        let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        assert!(norm < 1e-5, "gradient norm {norm} at the fit");
        // the rows' own classes are learned
        let p = head.predict_proba(&x).unwrap();
        let right = (0..y.len())
            .filter(|&i| top_k(&p[i * 3..i * 3 + 3], 1)[0].0 as u32 == y[i])
            .count();
        assert_eq!(right, y.len());
        // one changed label moves the optimum a little, and the same data gives the same fit
        y[0] = 1;
        let moved = LogregHead::fit_converged(&x, 4, &y, &weights, 3, 0.05, None).unwrap();
        let shift: f32 = moved
            .weights
            .iter()
            .zip(&head.weights)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(shift > 0.0 && shift < 0.5, "largest weight shift {shift}");
        let again = LogregHead::fit_converged(&x, 4, &y, &weights, 3, 0.05, None).unwrap();
        assert_eq!(again.weights, moved.weights);
        // from another start, the same optimum
        let warm = LogregHead::fit_converged(&x, 4, &y, &weights, 3, 0.05, Some(&head)).unwrap();
        let apart = warm
            .weights
            .iter()
            .zip(&moved.weights)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(apart < 1e-3, "warm start ends {apart} away");
    }

    #[test]
    fn rows_that_do_not_match_their_labels_are_an_error() {
        let err = LogregHead::fit_converged(&[0.0; 7], 4, &[0, 1], &[1.0, 1.0], 2, 0.1, None);
        assert!(matches!(err, Err(ClassifyError::Training(_))));
    }
}

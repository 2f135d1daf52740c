//! Classifier heads on sentence embeddings: random forest (the study's head, smartcore),
//! softmax logistic regression (candle, AdamW), nearest centroid and k-nearest neighbours
//! (cosine). Every head maps an `n × dim` row-major matrix to an `n × k` matrix of class
//! probabilities (rows sum to 1), so calibration, the cascade and evaluation treat them alike.
//!
//! Class indices are dense `0..k`; the classifier maps them to taxonomy title ids.

use crate::ClassifyError;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Module, Optimizer, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::decomposition::pca::{PCAParameters, PCA};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use std::path::Path;
use std::str::FromStr;

/// Which head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    RandomForest,
    Logreg,
    Centroid,
    Knn,
}

impl HeadKind {
    pub const ALL: [HeadKind; 4] = [
        HeadKind::RandomForest,
        HeadKind::Logreg,
        HeadKind::Centroid,
        HeadKind::Knn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            HeadKind::RandomForest => "rf",
            HeadKind::Logreg => "logreg",
            HeadKind::Centroid => "centroid",
            HeadKind::Knn => "knn",
        }
    }
}

impl std::fmt::Display for HeadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HeadKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rf" | "random_forest" | "randomforest" | "forest" => Ok(HeadKind::RandomForest),
            "logreg" | "logistic" | "softmax" => Ok(HeadKind::Logreg),
            "centroid" | "nearest_centroid" => Ok(HeadKind::Centroid),
            "knn" => Ok(HeadKind::Knn),
            other => Err(format!(
                "unknown head {other:?}; expected one of rf, logreg, centroid, knn"
            )),
        }
    }
}

/// Training knobs shared by the heads (each head reads the ones it uses).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeadParams {
    pub seed: u64,
    /// Random forest: number of trees.
    pub rf_trees: u16,
    /// Random forest: at most this many training rows per class. smartcore's split search scans
    /// every training row at every node and does O(classes) work per candidate threshold, so
    /// with ~650 classes a forest on all ~60k rows takes hours; the cap keeps it to minutes.
    pub rf_max_per_class: usize,
    pub rf_max_depth: Option<u16>,
    /// Random forest: rotate the embeddings onto their first `rf_pca_dims` principal components
    /// (fitted on the forest's rows) before growing trees; 0 keeps the raw embedding. Axis-aligned
    /// splits find the high-variance directions directly, and the per-split feature sample
    /// (`sqrt(dims)`) shrinks, which is what bounds smartcore's training time.
    #[serde(default)]
    pub rf_pca_dims: usize,
    /// Logistic regression: epochs, batch size, learning rate, weight decay.
    pub lr_epochs: usize,
    pub lr_batch: usize,
    pub lr_rate: f64,
    pub lr_weight_decay: f64,
    /// kNN: neighbours.
    pub knn_k: usize,
}

impl Default for HeadParams {
    fn default() -> Self {
        Self {
            seed: 42,
            rf_trees: 100,
            rf_max_per_class: 10,
            rf_max_depth: None,
            rf_pca_dims: 64,
            lr_epochs: 30,
            lr_batch: 512,
            lr_rate: 3e-3,
            lr_weight_decay: 1e-4,
            knn_k: 10,
        }
    }
}

/// Row-major L2 normalization, in place. Zero rows stay zero.
pub fn l2_normalize_rows(data: &mut [f32], dim: usize) {
    for row in data.chunks_mut(dim) {
        let n = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if n > 0.0 {
            row.iter_mut().for_each(|v| *v /= n);
        }
    }
}

/// `a (n×d) · bᵀ (m×d) → n×m`, row-major, with the `gemm` crate (the blocked, SIMD,
/// multi-threaded kernel candle's CPU matmul uses) writing straight into the output: no tensor
/// copies of `b`, which for the kNN head is the whole training matrix.
pub fn matmul_transposed(a: &[f32], b: &[f32], dim: usize) -> Result<Vec<f32>, ClassifyError> {
    if dim == 0 || !a.len().is_multiple_of(dim) || !b.len().is_multiple_of(dim) {
        return Err(ClassifyError::Predict(format!(
            "matrix product: {} and {} values are not rows of {dim}",
            a.len(),
            b.len()
        )));
    }
    let n = a.len() / dim;
    let m = b.len() / dim;
    let mut out = vec![0f32; n * m];
    gemm_abt(&mut out, a, b, dim, threads_for(n * m * dim));
    Ok(out)
}

/// Threads for a product of `work` multiply-adds: one below ~4 M (thread start-up dominates).
fn threads_for(work: usize) -> usize {
    if work < (1 << 22) {
        1
    } else {
        rayon::current_num_threads().max(1)
    }
}

/// `out (n×m) = a (n×d) · bᵀ` where `b` is `m×d`; all row-major, `out.len() == n·m`.
fn gemm_abt(out: &mut [f32], a: &[f32], b: &[f32], dim: usize, threads: usize) {
    let n = a.len() / dim;
    let m = b.len() / dim;
    assert!(
        out.len() == n * m && a.len() == n * dim && b.len() == m * dim,
        "gemm_abt shapes"
    );
    if n == 0 || m == 0 {
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the pointers come from slices whose lengths were checked above against the
    // shapes and strides passed: lhs (n×dim, row stride dim), rhs = bᵀ (dim×m, column stride
    // dim, row stride 1), dst (n×m, row stride m). `read_dst = false`, so `out` is only written.
    unsafe {
        gemm::gemm(
            n,
            m,
            dim,
            out.as_mut_ptr(),
            1,
            m as isize,
            false,
            a.as_ptr(),
            1,
            dim as isize,
            b.as_ptr(),
            dim as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The `k` largest similarities of one query, best first; ties go to the lower row index so
/// the result does not depend on how the scan was split across threads.
#[derive(Debug, Clone)]
struct TopK {
    k: usize,
    items: Vec<(f32, u32)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    #[inline]
    fn better(a: (f32, u32), b: (f32, u32)) -> bool {
        a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
    }

    #[inline]
    fn push(&mut self, s: f32, i: u32) {
        if self.items.len() == self.k {
            match self.items.last() {
                Some(&w) if !Self::better((s, i), w) => return,
                _ => {}
            }
            self.items.pop();
        }
        let pos = self
            .items
            .iter()
            .position(|&x| Self::better((s, i), x))
            .unwrap_or(self.items.len());
        self.items.insert(pos, (s, i));
    }

    fn merge(mut self, other: TopK) -> TopK {
        for (s, i) in other.items {
            self.push(s, i);
        }
        self
    }
}

/// Exact cosine k-nearest neighbours of every query row among `base` rows (both unit rows,
/// row-major `· × dim`): blocked matrix products (`gemm`, one thread per block, rayon over
/// blocks of base rows) feeding a running top-k per query, so the `queries × base` similarity
/// matrix is never materialized. Returns, per query, `(similarity, base row)` best first.
pub fn nearest_neighbours(
    queries: &[f32],
    base: &[f32],
    dim: usize,
    k: usize,
) -> Vec<Vec<(f32, u32)>> {
    const QUERY_BLOCK: usize = 256;
    const BASE_BLOCK: usize = 2048;
    let n = queries.len() / dim.max(1);
    let m = base.len() / dim.max(1);
    let k = k.max(1).min(m.max(1));
    let mut out = Vec::with_capacity(n);
    if n == 0 || m == 0 {
        out.resize(n, Vec::new());
        return out;
    }
    for qchunk in queries.chunks(QUERY_BLOCK * dim) {
        let qn = qchunk.len() / dim;
        let blocks: Vec<usize> = (0..m).step_by(BASE_BLOCK).collect();
        let merged = blocks
            .into_par_iter()
            .map(|start| {
                let end = (start + BASE_BLOCK).min(m);
                let bn = end - start;
                let mut sims = vec![0f32; qn * bn];
                gemm_abt(&mut sims, qchunk, &base[start * dim..end * dim], dim, 1);
                sims.chunks(bn)
                    .map(|row| {
                        let mut top = TopK::new(k);
                        for (j, &s) in row.iter().enumerate() {
                            top.push(s, (start + j) as u32);
                        }
                        top
                    })
                    .collect::<Vec<TopK>>()
            })
            .reduce_with(|a, b| a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect())
            .unwrap_or_default();
        out.extend(merged.into_iter().map(|t| t.items));
    }
    out
}

fn softmax_rows(logits: &mut [f32], k: usize) {
    for row in logits.chunks_mut(k) {
        let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let mut s = 0.0;
        for v in row.iter_mut() {
            *v = if v.is_finite() { (*v - m).exp() } else { 0.0 };
            s += *v;
        }
        if s > 0.0 {
            row.iter_mut().for_each(|v| *v /= s);
        }
    }
}

/// Nearest centroid on cosine similarity; probabilities are `softmax(scale · cos)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CentroidHead {
    pub dim: usize,
    pub k: usize,
    pub scale: f32,
    /// `k × dim`, unit rows (zero rows for classes without examples).
    #[serde(skip)]
    pub centroids: Vec<f32>,
    pub empty: Vec<bool>,
}

impl CentroidHead {
    pub fn fit(x: &[f32], dim: usize, y: &[u32], k: usize) -> Self {
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, dim);
        let mut c = vec![0f32; k * dim];
        let mut counts = vec![0usize; k];
        for (row, &label) in xs.chunks(dim).zip(y) {
            let l = label as usize;
            counts[l] += 1;
            for (a, b) in c[l * dim..(l + 1) * dim].iter_mut().zip(row) {
                *a += b;
            }
        }
        l2_normalize_rows(&mut c, dim);
        CentroidHead {
            dim,
            k,
            scale: 20.0,
            centroids: c,
            empty: counts.iter().map(|&n| n == 0).collect(),
        }
    }

    pub fn predict_proba(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, self.dim);
        let mut s = matmul_transposed(&xs, &self.centroids, self.dim)?;
        for row in s.chunks_mut(self.k) {
            for (v, &e) in row.iter_mut().zip(&self.empty) {
                *v = if e {
                    f32::NEG_INFINITY
                } else {
                    *v * self.scale
                };
            }
        }
        softmax_rows(&mut s, self.k);
        Ok(s)
    }
}

/// k nearest neighbours on cosine similarity. A class's logit is `scale ·` its best
/// similarity among the `k` nearest neighbours, plus `log(votes)`; other classes get nothing.
///
/// Stored as every training row (`vectors`, `labels`: the on-disk format). Scoring runs over
/// the *distinct* training vectors ([`KnnIndex`], built once on first use): many training
/// examples embed to the same vector (same text, several titles), and an exact duplicate always
/// has the same similarity, so it is scored once and its rows are expanded afterwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnnHead {
    pub dim: usize,
    pub k: usize,
    pub neighbours: usize,
    pub scale: f32,
    #[serde(skip)]
    pub vectors: Vec<f32>,
    pub labels: Vec<u32>,
    /// Distinct training vectors, derived from `vectors` on first scoring (not stored; set
    /// `vectors` before the first prediction — the index is not rebuilt if they change).
    #[serde(skip)]
    index: std::sync::OnceLock<KnnIndex>,
    /// The distinct training vectors on an accelerator, transposed, when the classifier runs
    /// there ([`use_device`](Self::use_device)); `None` scans on the CPU.
    #[serde(skip)]
    on_device: Option<candle_core::Tensor>,
}

/// The distinct rows of a kNN head's training matrix and, for each, its training rows.
#[derive(Debug, Clone)]
pub struct KnnIndex {
    /// `distinct × dim`, in order of first occurrence among the training rows.
    pub vectors: Vec<f32>,
    /// Training rows of distinct vector `u`: `rows[starts[u]..starts[u + 1]]`, ascending.
    pub starts: Vec<u32>,
    pub rows: Vec<u32>,
}

impl KnnIndex {
    /// Group bit-identical rows of `vectors` (`· × dim`). Hashing the bit patterns and then
    /// comparing them keeps the grouping exact: only rows whose every coordinate has the same
    /// bits share an entry, so they share every similarity too.
    pub fn build(vectors: &[f32], dim: usize) -> KnnIndex {
        use std::collections::HashMap;
        use std::hash::{Hash, Hasher};
        let dim = dim.max(1);
        let n = vectors.len() / dim;
        let row = |i: usize| &vectors[i * dim..(i + 1) * dim];
        let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        // hash of the bits -> distinct ids with that hash (collisions resolved by comparing)
        let mut by_hash: HashMap<u64, Vec<u32>> = HashMap::with_capacity(n);
        let mut first_row: Vec<u32> = Vec::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        for i in 0..n {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for v in row(i) {
                v.to_bits().hash(&mut h);
            }
            let ids = by_hash.entry(h.finish()).or_default();
            match ids
                .iter()
                .copied()
                .find(|&u| same(row(first_row[u as usize] as usize), row(i)))
            {
                Some(u) => members[u as usize].push(i as u32),
                None => {
                    let u = first_row.len() as u32;
                    ids.push(u);
                    first_row.push(i as u32);
                    members.push(vec![i as u32]);
                }
            }
        }
        let mut out = KnnIndex {
            vectors: Vec::with_capacity(first_row.len() * dim),
            starts: Vec::with_capacity(first_row.len() + 1),
            rows: Vec::with_capacity(n),
        };
        out.starts.push(0);
        for (&f, m) in first_row.iter().zip(&members) {
            out.vectors.extend_from_slice(row(f as usize));
            out.rows.extend_from_slice(m);
            out.starts.push(out.rows.len() as u32);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Training rows of distinct vector `u`, ascending.
    pub fn rows_of(&self, u: u32) -> &[u32] {
        &self.rows[self.starts[u as usize] as usize..self.starts[u as usize + 1] as usize]
    }
}

impl KnnHead {
    pub fn fit(x: &[f32], dim: usize, y: &[u32], k: usize, neighbours: usize) -> Self {
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, dim);
        KnnHead {
            dim,
            k,
            neighbours: neighbours.max(1),
            scale: 20.0,
            vectors: xs,
            labels: y.to_vec(),
            index: std::sync::OnceLock::new(),
            on_device: None,
        }
    }

    /// Score on `device` from now on: the distinct training vectors are uploaded once and each
    /// batch of queries is one matrix product there ([`crate::knn_device`]). The CPU keeps
    /// the blocked scan.
    pub fn use_device(&mut self, device: &candle_core::Device) -> Result<(), ClassifyError> {
        self.on_device = if device.is_cpu() {
            None
        } else {
            let index = self.index();
            Some(
                crate::knn_device::upload(&index.vectors, self.dim, device)
                    .map_err(|e| ClassifyError::Predict(format!("kNN head on {device:?}: {e}")))?,
            )
        };
        Ok(())
    }

    /// The distinct training vectors (built on first call).
    pub fn index(&self) -> &KnnIndex {
        self.index
            .get_or_init(|| KnnIndex::build(&self.vectors, self.dim))
    }

    fn check_input(&self, x: &[f32]) -> Result<(), ClassifyError> {
        if !x.len().is_multiple_of(self.dim.max(1)) {
            return Err(ClassifyError::Predict(format!(
                "kNN head: {} values are not rows of {}",
                x.len(),
                self.dim
            )));
        }
        Ok(())
    }

    /// The `neighbours` nearest training rows of each query (unit rows), `(similarity, row)`
    /// best first, ties to the lower row — the same rows a scan of every training row gives
    /// ([`nearest_neighbours`] over `vectors`), found by scanning the distinct vectors only.
    ///
    /// Why it is the same: order candidates by (similarity desc, row asc). If row `r` (of
    /// distinct vector `u`) is among the best `n` rows, fewer than `n` distinct vectors beat `u`
    /// by (similarity desc, first row asc), since each such vector's first row beats `r`; so
    /// the best `n` distinct vectors hold every one of the best `n` rows, and ranking all their
    /// rows picks them.
    pub fn neighbour_rows(&self, queries: &[f32]) -> Vec<Vec<(f32, u32)>> {
        let index = self.index();
        let near = nearest_neighbours(queries, &index.vectors, self.dim, self.neighbours.max(1));
        self.expand(near)
    }

    /// [`neighbour_rows`](Self::neighbour_rows) on the device the head was moved to, if any.
    fn neighbour_rows_anywhere(
        &self,
        queries: &[f32],
    ) -> Result<Vec<Vec<(f32, u32)>>, ClassifyError> {
        match &self.on_device {
            None => Ok(self.neighbour_rows(queries)),
            Some(base_t) => {
                let near = crate::knn_device::nearest_neighbours(
                    base_t,
                    queries,
                    self.dim,
                    self.neighbours.max(1),
                )
                .map_err(|e| ClassifyError::Predict(format!("kNN head on the device: {e}")))?;
                Ok(self.expand(near))
            }
        }
    }

    /// Each query's nearest distinct vectors → its best training rows.
    fn expand(&self, near: Vec<Vec<(f32, u32)>>) -> Vec<Vec<(f32, u32)>> {
        let index = self.index();
        let want = self.neighbours.max(1);
        near.into_iter()
            .map(|cands| {
                let mut top = TopK::new(want);
                for (sim, u) in cands {
                    for &r in index.rows_of(u) {
                        top.push(sim, r);
                    }
                }
                top.items
            })
            .collect()
    }

    pub fn predict_proba(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        self.check_input(x)?;
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, self.dim);
        let neighbours = self.neighbour_rows_anywhere(&xs)?;
        Ok(self.vote(neighbours))
    }

    /// The scan over every training row that [`predict_proba`](Self::predict_proba) replaced;
    /// kept to prove the two agree (tests) and to time them side by side (`classify_bench knn`).
    pub fn predict_proba_every_row(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        self.check_input(x)?;
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, self.dim);
        let neighbours = nearest_neighbours(&xs, &self.vectors, self.dim, self.neighbours);
        Ok(self.vote(neighbours))
    }

    /// Class probabilities from each query's neighbour rows.
    fn vote(&self, neighbours: Vec<Vec<(f32, u32)>>) -> Vec<f32> {
        let n = neighbours.len();
        let mut out = vec![f32::NEG_INFINITY; n * self.k];
        for (row, near) in out.chunks_mut(self.k.max(1)).zip(neighbours) {
            // per class: best similarity and votes among the neighbours
            let mut per: Vec<(u32, f32, u32)> = Vec::with_capacity(near.len());
            for (sim, j) in near {
                let l = self.labels[j as usize];
                match per.iter_mut().find(|p| p.0 == l) {
                    Some(p) => {
                        p.1 = p.1.max(sim);
                        p.2 += 1;
                    }
                    None => per.push((l, sim, 1)),
                }
            }
            for (l, best, votes) in per {
                row[l as usize] = self.scale * best + (votes as f32).ln();
            }
        }
        softmax_rows(&mut out, self.k);
        out
    }
}

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
        let lin = candle_nn::linear(dim, k, vb.pp("head"))?;
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

type Tree = RandomForestClassifier<f32, u32, DenseMatrix<f32>, Vec<u32>>;

/// The study's head: a random forest (smartcore). smartcore's forest exposes only hard votes
/// and trains its trees one after another, so the forest here is a set of one-tree smartcore
/// forests (same bootstrap and `sqrt(dim)` feature sampling per split), trained in parallel with
/// rayon; the share of trees voting for a class is its probability.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForestHead {
    pub dim: usize,
    pub k: usize,
    /// Principal-component rotation applied before the trees (see `HeadParams::rf_pca_dims`).
    #[serde(default)]
    pub pca: Option<PCA<f32, DenseMatrix<f32>>>,
    pub trees: Vec<Tree>,
}

impl ForestHead {
    pub fn fit(
        x: &[f32],
        dim: usize,
        y: &[u32],
        k: usize,
        p: &HeadParams,
    ) -> Result<Self, ClassifyError> {
        // cap rows per class (deterministic given the seed)
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed ^ 0x5eed_f0e5);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (i, &l) in y.iter().enumerate() {
            by_class[l as usize].push(i);
        }
        let mut rows: Vec<usize> = Vec::new();
        for idx in by_class.iter_mut() {
            idx.shuffle(&mut rng);
            rows.extend(idx.iter().take(p.rf_max_per_class.max(1)));
        }
        rows.sort_unstable();
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, dim);
        let mut sub = Vec::with_capacity(rows.len() * dim);
        let mut ys = Vec::with_capacity(rows.len());
        for &r in &rows {
            sub.extend_from_slice(&xs[r * dim..(r + 1) * dim]);
            ys.push(y[r]);
        }
        let distinct: std::collections::BTreeSet<u32> = ys.iter().copied().collect();
        if distinct.len() < 2 {
            return Err(ClassifyError::Training(
                "random forest needs examples of at least two titles".into(),
            ));
        }
        let matrix = DenseMatrix::new(rows.len(), dim, sub, false)
            .map_err(|e| ClassifyError::Training(format!("random forest input: {e}")))?;
        let pca = if p.rf_pca_dims > 0 && p.rf_pca_dims < dim.min(rows.len()) {
            Some(
                PCA::fit(
                    &matrix,
                    PCAParameters::default().with_n_components(p.rf_pca_dims),
                )
                .map_err(|e| ClassifyError::Training(format!("random forest PCA: {e}")))?,
            )
        } else {
            None
        };
        let matrix = match &pca {
            Some(pca) => pca
                .transform(&matrix)
                .map_err(|e| ClassifyError::Training(format!("random forest PCA: {e}")))?,
            None => matrix,
        };
        let trees: Result<Vec<Tree>, ClassifyError> = (0..p.rf_trees as u64)
            .into_par_iter()
            .map(|t| {
                let mut params = RandomForestClassifierParameters::default()
                    .with_n_trees(1)
                    .with_seed(p.seed.wrapping_mul(1_000_003).wrapping_add(t));
                if let Some(d) = p.rf_max_depth {
                    params = params.with_max_depth(d);
                }
                RandomForestClassifier::fit(&matrix, &ys, params)
                    .map_err(|e| ClassifyError::Training(format!("random forest tree {t}: {e}")))
            })
            .collect();
        Ok(ForestHead {
            dim,
            k,
            pca,
            trees: trees?,
        })
    }

    pub fn predict_proba(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        let n = x.len() / self.dim;
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut xs = x.to_vec();
        l2_normalize_rows(&mut xs, self.dim);
        let matrix = DenseMatrix::new(n, self.dim, xs, false)
            .map_err(|e| ClassifyError::Predict(format!("random forest input: {e}")))?;
        let matrix = match &self.pca {
            Some(pca) => pca
                .transform(&matrix)
                .map_err(|e| ClassifyError::Predict(format!("random forest PCA: {e}")))?,
            None => matrix,
        };
        let votes: Result<Vec<Vec<u32>>, ClassifyError> = self
            .trees
            .par_iter()
            .map(|t| {
                t.predict(&matrix)
                    .map_err(|e| ClassifyError::Predict(format!("random forest: {e}")))
            })
            .collect();
        let mut out = vec![0f32; n * self.k];
        let w = 1.0 / self.trees.len().max(1) as f32;
        for tree_votes in votes? {
            for (i, c) in tree_votes.into_iter().enumerate() {
                out[i * self.k + c as usize] += w;
            }
        }
        Ok(out)
    }
}

/// A trained head.
#[derive(Debug)]
pub enum Head {
    RandomForest(ForestHead),
    Logreg(LogregHead),
    Centroid(CentroidHead),
    Knn(KnnHead),
}

impl Head {
    pub fn kind(&self) -> HeadKind {
        match self {
            Head::RandomForest(_) => HeadKind::RandomForest,
            Head::Logreg(_) => HeadKind::Logreg,
            Head::Centroid(_) => HeadKind::Centroid,
            Head::Knn(_) => HeadKind::Knn,
        }
    }

    pub fn num_classes(&self) -> usize {
        match self {
            Head::RandomForest(h) => h.k,
            Head::Logreg(h) => h.k,
            Head::Centroid(h) => h.k,
            Head::Knn(h) => h.k,
        }
    }

    /// Train a head of `kind` on rows `x` (`n × dim`), labels `y` in `0..k`, row weights.
    pub fn fit(
        kind: HeadKind,
        x: &[f32],
        dim: usize,
        y: &[u32],
        row_weights: &[f32],
        k: usize,
        p: &HeadParams,
    ) -> Result<Head, ClassifyError> {
        if dim == 0 || x.len() != y.len() * dim || y.len() != row_weights.len() {
            return Err(ClassifyError::Training(format!(
                "head input shapes disagree: {} values, {} labels, {} weights, dim {dim}",
                x.len(),
                y.len(),
                row_weights.len()
            )));
        }
        if let Some(bad) = y.iter().find(|&&l| l as usize >= k) {
            return Err(ClassifyError::Training(format!(
                "label {bad} out of range 0..{k}"
            )));
        }
        Ok(match kind {
            HeadKind::Centroid => Head::Centroid(CentroidHead::fit(x, dim, y, k)),
            HeadKind::Knn => Head::Knn(KnnHead::fit(x, dim, y, k, p.knn_k)),
            HeadKind::Logreg => Head::Logreg(LogregHead::fit(x, dim, y, row_weights, k, p)?),
            HeadKind::RandomForest => Head::RandomForest(ForestHead::fit(x, dim, y, k, p)?),
        })
    }

    /// Run the head's similarity products on `device` where it has them (kNN); the other
    /// heads are cheap next to the encoder and stay on the CPU.
    pub fn use_device(&mut self, device: &candle_core::Device) -> Result<(), ClassifyError> {
        match self {
            Head::Knn(h) => h.use_device(device),
            _ => Ok(()),
        }
    }

    /// Class probabilities, `n × k` row-major.
    pub fn predict_proba(&self, x: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        match self {
            Head::RandomForest(h) => h.predict_proba(x),
            Head::Logreg(h) => h.predict_proba(x),
            Head::Centroid(h) => h.predict_proba(x),
            Head::Knn(h) => h.predict_proba(x),
        }
    }

    /// Set the softmax scale (temperature⁻¹) of the similarity heads; no-op for the others.
    pub fn set_scale(&mut self, scale: f32) {
        match self {
            Head::Centroid(h) => h.scale = scale,
            Head::Knn(h) => h.scale = scale,
            _ => {}
        }
    }

    /// Save into `dir` as `head.json` (+ `head.f32` for dense matrices).
    pub fn save(&self, dir: &Path) -> Result<(), ClassifyError> {
        let (meta, dense): (serde_json::Value, Vec<f32>) = match self {
            Head::RandomForest(h) => (serde_json::to_value(h)?, Vec::new()),
            Head::Logreg(h) => {
                let mut d = h.weights.clone();
                d.extend_from_slice(&h.bias);
                (serde_json::to_value(h)?, d)
            }
            Head::Centroid(h) => (serde_json::to_value(h)?, h.centroids.clone()),
            Head::Knn(h) => (serde_json::to_value(h)?, h.vectors.clone()),
        };
        let doc = serde_json::json!({"kind": self.kind(), "head": meta});
        let path = dir.join("head.json");
        jobshift_core::atomic::write_bytes(&path, &serde_json::to_vec(&doc)?)
            .map_err(|e| ClassifyError::io(&path, e))?;
        let fpath = dir.join("head.f32");
        jobshift_core::atomic::write_bytes(&fpath, &f32_bytes(&dense))
            .map_err(|e| ClassifyError::io(&fpath, e))?;
        Ok(())
    }

    pub fn load(dir: &Path) -> Result<Head, ClassifyError> {
        let path = dir.join("head.json");
        let bytes = std::fs::read(&path).map_err(|e| ClassifyError::io(&path, e))?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ClassifyError::Format(format!("{}: {e}", path.display())))?;
        let kind: HeadKind = serde_json::from_value(doc["kind"].clone())
            .map_err(|e| ClassifyError::Format(format!("{}: head kind: {e}", path.display())))?;
        let fpath = dir.join("head.f32");
        let dense = read_f32(&fpath)?;
        let bad = |e: serde_json::Error| ClassifyError::Format(format!("{}: {e}", path.display()));
        let head = doc["head"].clone();
        let h = match kind {
            HeadKind::RandomForest => {
                Head::RandomForest(serde_json::from_value(head).map_err(bad)?)
            }
            HeadKind::Logreg => {
                let mut h: LogregHead = serde_json::from_value(head).map_err(bad)?;
                check_len(&fpath, dense.len(), h.k * h.dim + h.k)?;
                h.bias = dense[h.k * h.dim..].to_vec();
                h.weights = dense[..h.k * h.dim].to_vec();
                Head::Logreg(h)
            }
            HeadKind::Centroid => {
                let mut h: CentroidHead = serde_json::from_value(head).map_err(bad)?;
                check_len(&fpath, dense.len(), h.k * h.dim)?;
                h.centroids = dense;
                Head::Centroid(h)
            }
            HeadKind::Knn => {
                let mut h: KnnHead = serde_json::from_value(head).map_err(bad)?;
                check_len(&fpath, dense.len(), h.labels.len() * h.dim)?;
                h.vectors = dense;
                Head::Knn(h)
            }
        };
        Ok(h)
    }
}

fn check_len(path: &Path, got: usize, want: usize) -> Result<(), ClassifyError> {
    if got != want {
        return Err(ClassifyError::Format(format!(
            "{}: {got} values, expected {want}; the classifier directory is damaged — retrain with `jobshift train`",
            path.display()
        )));
    }
    Ok(())
}

pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

pub(crate) fn read_f32(path: &Path) -> Result<Vec<f32>, ClassifyError> {
    let bytes = std::fs::read(path).map_err(|e| ClassifyError::io(path, e))?;
    if bytes.len() % 4 != 0 {
        return Err(ClassifyError::Format(format!(
            "{}: length {} is not a multiple of 4",
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Index of the largest value in each row and the margin to the second (for ambiguity).
pub fn top_k(row: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut idx: Vec<usize> = (0..row.len()).collect();
    let kk = k.min(row.len());
    if kk == 0 {
        return Vec::new();
    }
    idx.select_nth_unstable_by(kk - 1, |a, b| row[*b].total_cmp(&row[*a]).then(a.cmp(b)));
    let mut top: Vec<(usize, f32)> = idx[..kk].iter().map(|&i| (i, row[i])).collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well-separated clusters in 8 dimensions with a little deterministic noise.
    fn clusters(n_per: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dim = 8;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for c in 0..3u32 {
            for _ in 0..n_per {
                for d in 0..dim {
                    let base = if d == c as usize * 2 { 1.0 } else { 0.0 };
                    x.push(base + rng.random_range(-0.2..0.2));
                }
                y.push(c);
            }
        }
        (x, y)
    }

    fn accuracy(h: &Head, x: &[f32], y: &[u32]) -> f32 {
        let p = h.predict_proba(x).unwrap();
        let k = h.num_classes();
        let mut ok = 0;
        for (row, &l) in p.chunks(k).zip(y) {
            assert!(
                (row.iter().sum::<f32>() - 1.0).abs() < 1e-3,
                "row sums to 1"
            );
            if top_k(row, 1)[0].0 == l as usize {
                ok += 1;
            }
        }
        ok as f32 / y.len() as f32
    }

    #[test]
    fn every_head_separates_clusters_and_roundtrips() {
        let (x, y) = clusters(30, 1);
        let (tx, ty) = clusters(10, 2);
        let w = vec![1.0; y.len()];
        let p = HeadParams {
            rf_trees: 15,
            rf_pca_dims: 4,
            lr_epochs: 40,
            lr_batch: 16,
            lr_rate: 1e-2,
            ..Default::default()
        };
        for kind in HeadKind::ALL {
            let h = Head::fit(kind, &x, 8, &y, &w, 4, &p).unwrap();
            let acc = accuracy(&h, &tx, &ty);
            assert!(acc > 0.95, "{kind}: accuracy {acc}");
            let dir = tempfile::tempdir().unwrap();
            h.save(dir.path()).unwrap();
            let back = Head::load(dir.path()).unwrap();
            assert_eq!(back.kind(), kind);
            let a = h.predict_proba(&tx).unwrap();
            let b = back.predict_proba(&tx).unwrap();
            assert_eq!(a, b, "{kind} predictions survive save/load");
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        let e = Head::fit(
            HeadKind::Centroid,
            &[1.0, 2.0, 3.0],
            2,
            &[0],
            &[1.0],
            2,
            &HeadParams::default(),
        );
        assert!(e.is_err());
        let e = Head::fit(
            HeadKind::Centroid,
            &[1.0, 2.0],
            2,
            &[5],
            &[1.0],
            2,
            &HeadParams::default(),
        );
        assert!(e.is_err());
    }

    #[test]
    fn blocked_neighbours_match_a_brute_force_scan() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let dim = 24;
        // more base rows than one block, queries spanning two query blocks
        let mut base: Vec<f32> = (0..5000 * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let mut q: Vec<f32> = (0..300 * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        l2_normalize_rows(&mut base, dim);
        l2_normalize_rows(&mut q, dim);
        let got = nearest_neighbours(&q, &base, dim, 7);
        let sims = matmul_transposed(&q, &base, dim).unwrap();
        assert_eq!(got.len(), 300);
        for (r, near) in got.iter().enumerate() {
            let row = &sims[r * 5000..(r + 1) * 5000];
            let want: Vec<u32> = top_k(row, 7).iter().map(|t| t.0 as u32).collect();
            let have: Vec<u32> = near.iter().map(|t| t.1).collect();
            assert_eq!(have, want, "query {r}");
            for &(s, j) in near {
                let dot: f32 = q[r * dim..(r + 1) * dim]
                    .iter()
                    .zip(&base[j as usize * dim..(j as usize + 1) * dim])
                    .map(|(a, b)| a * b)
                    .sum();
                assert!((s - dot).abs() < 1e-4);
            }
        }
        assert!(nearest_neighbours(&[], &base, dim, 3).is_empty());
    }

    /// Neighbour rows of the earlier path: a scan of every training row.
    fn every_row_neighbours(h: &KnnHead, q: &[f32]) -> Vec<Vec<(f32, u32)>> {
        let mut xs = q.to_vec();
        l2_normalize_rows(&mut xs, h.dim);
        nearest_neighbours(&xs, &h.vectors, h.dim, h.neighbours)
    }

    fn assert_same_predictions(h: &KnnHead, q: &[f32], what: &str) {
        let mut xs = q.to_vec();
        l2_normalize_rows(&mut xs, h.dim);
        let want = every_row_neighbours(h, q);
        let have = h.neighbour_rows(&xs);
        assert_eq!(want.len(), have.len(), "{what}: rows");
        for (r, (w, g)) in want.iter().zip(&have).enumerate() {
            let wr: Vec<u32> = w.iter().map(|t| t.1).collect();
            let gr: Vec<u32> = g.iter().map(|t| t.1).collect();
            assert_eq!(wr, gr, "{what}: neighbour rows of query {r}");
            for (a, b) in w.iter().zip(g) {
                assert!((a.0 - b.0).abs() <= 1e-6, "{what}: similarity of query {r}");
            }
        }
        let pa = h.predict_proba_every_row(q).unwrap();
        let pb = h.predict_proba(q).unwrap();
        assert_eq!(pa.len(), pb.len());
        for (i, (a, b)) in pa.iter().zip(&pb).enumerate() {
            assert!((a - b).abs() <= 1e-6, "{what}: probability {i}: {a} vs {b}");
        }
    }

    #[test]
    fn knn_distinct_vectors_match_every_row_scan_on_random_data() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let dim = 32;
        // 2,500 distinct vectors, each used by 1–5 training rows with random labels, rows shuffled
        // (more distinct vectors than one base block of the scan)
        let distinct: Vec<Vec<f32>> = (0..2500)
            .map(|_| (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect())
            .collect();
        let mut rows: Vec<(usize, u32)> = Vec::new();
        for (u, _) in distinct.iter().enumerate() {
            for _ in 0..rng.random_range(1..=5) {
                rows.push((u, rng.random_range(0..40)));
            }
        }
        rows.shuffle(&mut rng);
        let x: Vec<f32> = rows
            .iter()
            .flat_map(|(u, _)| distinct[*u].clone())
            .collect();
        let y: Vec<u32> = rows.iter().map(|r| r.1).collect();
        // queries: random ones, and training vectors themselves (exact duplicates, similarity 1)
        let mut q: Vec<f32> = (0..200 * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        for u in (0..2500).step_by(25) {
            q.extend_from_slice(&distinct[u]);
        }
        for neighbours in [1, 3, 10, 40] {
            let h = KnnHead::fit(&x, dim, &y, 40, neighbours);
            assert_eq!(h.index().len(), 2500, "every distinct vector once");
            assert_same_predictions(&h, &q, &format!("k={neighbours}"));
        }
        // more neighbours than training rows: every row, as before
        let small = KnnHead::fit(&x[..6 * dim], dim, &y[..6], 40, 10);
        assert_same_predictions(&small, &q[..20 * dim], "k > rows");
    }

    #[test]
    fn knn_ties_break_to_the_lower_row_like_the_scan() {
        // 4-d axis vectors: e0 at rows 0, 3, 5, 8; e1 at rows 1, 4, 7; e2 at rows 2, 6.
        // The query (e0 + e1)/√2 ties e0 and e1 exactly; rows with equal similarity must be
        // taken in row order across distinct vectors (0, 1, 3, 4, …), and the cut at
        // `neighbours` falls inside a group of duplicates.
        let e = |i: usize| {
            let mut v = vec![0f32; 4];
            v[i] = 1.0;
            v
        };
        let order = [0, 1, 2, 0, 1, 0, 2, 1, 0];
        let x: Vec<f32> = order.iter().flat_map(|&i| e(i)).collect();
        let y: Vec<u32> = vec![0, 1, 2, 3, 0, 1, 2, 3, 4];
        let q: Vec<f32> = [
            vec![1.0, 1.0, 0.0, 0.0],
            vec![1.0, 0.0, 0.0, 0.0],
            vec![0.0, 1.0, 1.0, 0.0],
            vec![1.0, 1.0, 1.0, 0.0],
            vec![0.0, 0.0, 0.0, 1.0], // every similarity 0: all rows tie
        ]
        .concat();
        for neighbours in 1..=10 {
            let h = KnnHead::fit(&x, 4, &y, 5, neighbours);
            assert_eq!(h.index().len(), 3);
            assert_eq!(h.index().rows_of(0), &[0, 3, 5, 8]);
            assert_same_predictions(&h, &q, &format!("ties, k={neighbours}"));
        }
        let h = KnnHead::fit(&x, 4, &y, 5, 3);
        let mut xs = q[..4].to_vec();
        l2_normalize_rows(&mut xs, 4);
        let rows: Vec<u32> = h.neighbour_rows(&xs)[0].iter().map(|t| t.1).collect();
        assert_eq!(rows, vec![0, 1, 3]);
    }

    #[test]
    fn knn_index_groups_bit_identical_rows_only() {
        // -0.0 and 0.0 have different bits: kept apart (they would score alike anyway)
        let x = [1.0, 0.0, 1.0, -0.0, 1.0, 0.0, 0.5, 0.5];
        let idx = KnnIndex::build(&x, 2);
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.rows_of(0), &[0, 2]);
        assert_eq!(idx.rows_of(1), &[1]);
        assert_eq!(idx.rows_of(2), &[3]);
        assert_eq!(&idx.vectors[..], &[1.0, 0.0, 1.0, -0.0, 0.5, 0.5]);
        assert!(KnnIndex::build(&[], 2).is_empty());
    }

    #[test]
    fn knn_head_saved_before_loads_and_scores_alike() {
        // the stored format is unchanged: every training row and its label
        let (x, y) = clusters(20, 3);
        let mut dup = x.clone();
        dup.extend_from_slice(&x[..8 * 10]);
        let mut ydup = y.clone();
        ydup.extend_from_slice(&y[..10]);
        let h = Head::Knn(KnnHead::fit(&dup, 8, &ydup, 4, 10));
        let dir = tempfile::tempdir().unwrap();
        h.save(dir.path()).unwrap();
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("head.json")).unwrap()).unwrap();
        let mut keys: Vec<&String> = doc["head"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["dim", "k", "labels", "neighbours", "scale"]);
        assert_eq!(
            std::fs::metadata(dir.path().join("head.f32"))
                .unwrap()
                .len() as usize,
            dup.len() * 4
        );
        let Head::Knn(back) = Head::load(dir.path()).unwrap() else {
            panic!("kind")
        };
        let (tx, _) = clusters(5, 4);
        assert_same_predictions(&back, &tx, "loaded");
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        let t = top_k(&[0.1, 0.5, 0.5, 0.2], 3);
        assert_eq!(t.iter().map(|p| p.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}

//! The k-nearest-neighbours head (the default): cosine similarity to every training example,
//! votes of the k nearest, softmax over classes.

use super::*;
use crate::ClassifyError;
use serde::{Deserialize, Serialize};

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

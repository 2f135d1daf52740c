//! The nearest-centroid head: one mean embedding per class, cosine similarity, softmax.

use super::*;
use crate::ClassifyError;
use serde::{Deserialize, Serialize};

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

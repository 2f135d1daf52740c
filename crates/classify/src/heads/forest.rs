//! The random-forest head (the study's head), on smartcore, over a PCA projection.

use super::*;
use crate::ClassifyError;
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

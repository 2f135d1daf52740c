//! Classifier heads on sentence embeddings: random forest (the study's head, smartcore),
//! softmax logistic regression (candle, AdamW), nearest centroid and k-nearest neighbours
//! (cosine). Every head maps an `n × dim` row-major matrix to an `n × k` matrix of class
//! probabilities (rows sum to 1), so calibration, the cascade and evaluation treat them alike.
//!
//! Class indices are dense `0..k`; the classifier maps them to taxonomy title ids.

use crate::ClassifyError;
use serde::{Deserialize, Serialize};
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

mod centroid;
mod forest;
mod knn;
mod linalg;
mod logreg;

pub use centroid::CentroidHead;
pub use forest::ForestHead;
pub use knn::{KnnHead, KnnIndex};
pub use linalg::*;
pub use logreg::LogregHead;

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

    /// The head saved in `dir`, or `None` when `dir` holds none (an optional head: the
    /// description head, a re-fit's labelled neighbours).
    pub fn load_if_present(dir: &Path) -> Result<Option<Head>, ClassifyError> {
        if dir.join("head.json").is_file() {
            Head::load(dir).map(Some)
        } else {
            Ok(None)
        }
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
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

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
    fn every_head_is_the_same_given_the_seed() {
        let (x, y) = clusters(20, 3);
        let (tx, _) = clusters(5, 4);
        let w = vec![1.0; y.len()];
        let p = HeadParams {
            rf_trees: 5,
            rf_pca_dims: 4,
            lr_epochs: 5,
            lr_batch: 8,
            ..Default::default()
        };
        for kind in HeadKind::ALL {
            let fit = || Head::fit(kind, &x, 8, &y, &w, 4, &p).unwrap();
            let (a, b) = (fit(), fit());
            assert_eq!(
                a.predict_proba(&tx).unwrap(),
                b.predict_proba(&tx).unwrap(),
                "{kind}: two fits with one seed differ"
            );
        }
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

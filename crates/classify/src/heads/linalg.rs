//! The dense linear algebra the heads share: row normalization, `A·Bᵀ` products on `gemm`
//! (threaded by work size), top-k selection and a row softmax.

use crate::ClassifyError;
use rayon::prelude::*;

/// Row-major L2 normalization, in place. Zero rows stay zero.
pub(crate) fn l2_normalize_rows(data: &mut [f32], dim: usize) {
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
pub(crate) fn threads_for(work: usize) -> usize {
    if work < (1 << 22) {
        1
    } else {
        rayon::current_num_threads().max(1)
    }
}

/// The element types [`gemm_abt`] multiplies: `f32` (embeddings, the heads' scores) and `f64`
/// (the population head's convex fit, whose line search needs costs exact beyond `f32`).
pub(crate) trait GemmScalar: Copy + 'static {
    const ZERO: Self;
    const ONE: Self;
}

impl GemmScalar for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
}

impl GemmScalar for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
}

/// `out (n×m) = a (n×d) · bᵀ` where `b` is `m×d`; all row-major, `out.len() == n·m`.
pub(crate) fn gemm_abt<T: GemmScalar>(out: &mut [T], a: &[T], b: &[T], dim: usize, threads: usize) {
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
            T::ZERO,
            T::ONE,
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
pub(crate) struct TopK {
    k: usize,
    pub(crate) items: Vec<(f32, u32)>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    #[inline]
    pub(crate) fn better(a: (f32, u32), b: (f32, u32)) -> bool {
        a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
    }

    #[inline]
    pub(crate) fn push(&mut self, s: f32, i: u32) {
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

    pub(crate) fn merge(mut self, other: TopK) -> TopK {
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
pub(crate) fn nearest_neighbours(
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

pub(crate) fn softmax_rows(logits: &mut [f32], k: usize) {
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

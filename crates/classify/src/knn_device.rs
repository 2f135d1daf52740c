//! The kNN head's similarity scan on an accelerator: one matrix product per block of queries
//! against the distinct training vectors held on the device, then the `k` best of each row by
//! repeated arg-max (masking each winner), so only `queries × k` values come back to the host.
//!
//! Used when the classifier runs with `--device cuda` ([`crate::heads::KnnHead::use_device`]);
//! on the CPU the blocked `gemm` scan of [`crate::heads::nearest_neighbours`] is faster, since
//! it never materializes the `queries × training rows` matrix. Similarities are the device's f32
//! products, so a near-tie can order differently from the CPU scan in the last bit.

use candle_core::{DType, Device, Tensor};

/// Most similarity values materialized at once on the device (1 GiB of f32).
const MAX_BLOCK_VALUES: usize = 1 << 28;

/// Upload the distinct training vectors (`m × dim`, unit rows) to `device`, transposed
/// (`dim × m`, contiguous) as the right-hand side of every product.
pub(crate) fn upload(vectors: &[f32], dim: usize, device: &Device) -> candle_core::Result<Tensor> {
    let m = vectors.len() / dim.max(1);
    Tensor::from_slice(vectors, (m, dim), device)?
        .t()?
        .contiguous()
}

/// The `k` nearest of `base_t`'s columns to each query row (unit rows, row-major `· × dim`),
/// `(similarity, column)` best first.
pub(crate) fn nearest_neighbours(
    base_t: &Tensor,
    queries: &[f32],
    dim: usize,
    k: usize,
) -> candle_core::Result<Vec<Vec<(f32, u32)>>> {
    let device = base_t.device();
    let m = base_t.dim(1)?;
    let n = queries.len() / dim.max(1);
    let mut out = Vec::with_capacity(n);
    if n == 0 || m == 0 {
        out.resize(n, Vec::new());
        return Ok(out);
    }
    let k = k.clamp(1, m);
    let block = (MAX_BLOCK_VALUES / m).clamp(1, 8192);
    let columns = Tensor::arange(0u32, m as u32, device)?.unsqueeze(0)?; // 1 × m
    for qchunk in queries.chunks(block * dim) {
        let qn = qchunk.len() / dim;
        let q = Tensor::from_slice(qchunk, (qn, dim), device)?;
        let mut sims = q.matmul(base_t)?; // qn × m
        let masked = Tensor::full(f32::NEG_INFINITY, (qn, m), device)?;
        let mut idx = Vec::with_capacity(k);
        let mut val = Vec::with_capacity(k);
        for step in 0..k {
            let best = sims.argmax_keepdim(1)?; // qn × 1, u32
            val.push(sims.gather(&best, 1)?);
            if step + 1 < k {
                sims = columns.broadcast_eq(&best)?.where_cond(&masked, &sims)?;
            }
            idx.push(best);
        }
        let idx = Tensor::cat(&idx, 1)?
            .to_device(&Device::Cpu)?
            .to_vec2::<u32>()?;
        let val = Tensor::cat(&val, 1)?
            .to_dtype(DType::F32)?
            .to_device(&Device::Cpu)?
            .to_vec2::<f32>()?;
        out.extend(
            idx.into_iter()
                .zip(val)
                .map(|(is, vs)| vs.into_iter().zip(is).collect::<Vec<_>>()),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn unit_rows(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut v: Vec<f32> = (0..n * dim)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        crate::heads::l2_normalize_rows(&mut v, dim);
        v
    }

    /// The device scan (run on candle's CPU device here; the same ops run on CUDA) finds the
    /// same neighbours as the blocked gemm scan, with the same similarities to rounding.
    #[test]
    fn device_scan_matches_the_gemm_scan() {
        let dim = 24;
        let base = unit_rows(700, dim, 1);
        let queries = unit_rows(90, dim, 2);
        let base_t = upload(&base, dim, &Device::Cpu).unwrap();
        let got = nearest_neighbours(&base_t, &queries, dim, 5).unwrap();
        let want = crate::heads::nearest_neighbours(&queries, &base, dim, 5);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            let gi: Vec<u32> = g.iter().map(|x| x.1).collect();
            let wi: Vec<u32> = w.iter().map(|x| x.1).collect();
            assert_eq!(gi, wi);
            for (a, b) in g.iter().zip(w) {
                assert!((a.0 - b.0).abs() < 1e-5, "{} vs {}", a.0, b.0);
            }
        }
    }

    #[test]
    fn more_neighbours_than_rows_and_no_queries() {
        let dim = 4;
        let base = unit_rows(3, dim, 3);
        let base_t = upload(&base, dim, &Device::Cpu).unwrap();
        let got = nearest_neighbours(&base_t, &unit_rows(2, dim, 4), dim, 10).unwrap();
        assert!(got.iter().all(|r| r.len() == 3));
        assert!(nearest_neighbours(&base_t, &[], dim, 3).unwrap().is_empty());
    }
}

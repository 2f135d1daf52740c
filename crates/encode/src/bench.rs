//! Throughput measurement for `jobshift model bench` (the Rust side of
//! benches/encode/bench.py): texts per second and the GFLOP/s the matrix work achieved.

use crate::error::EncodeError;
use crate::{Encoder, SentenceTransformer};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct BenchResult {
    pub texts: usize,
    /// Best of the timed repetitions.
    pub seconds: f64,
    pub texts_per_s: f64,
    /// Transformer matrix-product FLOPs per second (see
    /// [`SentenceTransformer::work_counters`]).
    pub gflops_per_s: f64,
    pub tokens_real: u64,
    pub tokens_padded: u64,
}

/// Encode `texts` once to warm up (first batch), then `repeat` times, timing each; report the
/// fastest. No embedding cache is involved.
pub fn run(
    model: &SentenceTransformer,
    texts: &[&str],
    repeat: usize,
) -> Result<BenchResult, EncodeError> {
    let warm = model.options().batch_size.min(texts.len());
    model.encode(&texts[..warm])?;
    let mut best: Option<BenchResult> = None;
    for _ in 0..repeat.max(1) {
        model.reset_work_counters();
        let t = Instant::now();
        model.encode(texts)?;
        let seconds = t.elapsed().as_secs_f64().max(1e-9);
        let (flops, real, padded) = model.work_counters();
        let r = BenchResult {
            texts: texts.len(),
            seconds,
            texts_per_s: texts.len() as f64 / seconds,
            gflops_per_s: flops as f64 / seconds / 1e9,
            tokens_real: real,
            tokens_padded: padded,
        };
        if best.as_ref().is_none_or(|b| r.seconds < b.seconds) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| EncodeError::Other("no benchmark run".into()))
}

/// Time any encoder (e.g. a [`crate::StaticEncoder`]) the same way, without work counters:
/// one warm-up call on the first `warm` texts, then `repeat` timed calls, fastest reported.
pub fn run_encoder(
    encoder: &dyn Encoder,
    texts: &[&str],
    warm: usize,
    repeat: usize,
) -> Result<BenchResult, EncodeError> {
    encoder.encode(&texts[..warm.min(texts.len())])?;
    let mut best: Option<BenchResult> = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        encoder.encode(texts)?;
        let seconds = t.elapsed().as_secs_f64().max(1e-9);
        let r = BenchResult {
            texts: texts.len(),
            seconds,
            texts_per_s: texts.len() as f64 / seconds,
            gflops_per_s: 0.0,
            tokens_real: 0,
            tokens_padded: 0,
        };
        if best.as_ref().is_none_or(|b| r.seconds < b.seconds) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| EncodeError::Other("no benchmark run".into()))
}

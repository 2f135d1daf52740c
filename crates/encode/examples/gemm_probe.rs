//! Probe: GFLOP/s of the gemm crate on the encoder's matrix shapes (development aid).
use std::time::Instant;
fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    for &(m, k, n) in &[
        (8192usize, 384usize, 1152usize),
        (8192, 384, 1536),
        (8192, 1536, 384),
        (8192, 768, 3072),
        (2048, 768, 2304),
        (256, 32, 256),
        (256, 256, 32),
    ] {
        let a = vec![0.5f32; m * k];
        let b = vec![0.25f32; k * n];
        let mut c = vec![0f32; m * n];
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        let reps = (2e10 / (2.0 * (m * k * n) as f64)).ceil() as usize;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..reps {
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        c.as_mut_ptr(),
                        1,
                        n as isize,
                        false,
                        a.as_ptr(),
                        1,
                        k as isize,
                        b.as_ptr(),
                        1,
                        n as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        par,
                    );
                }
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        println!(
            "m={m} k={k} n={n} threads={threads}: {:.1} GFLOP/s",
            2.0 * (m * k * n) as f64 / best / 1e9
        );
    }
}

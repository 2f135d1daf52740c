//! Honest intervals under company clustering: postings drawn with company-level overdispersion
//! (each company's hiring swings from year to year), seeded. The company-clustered intervals
//! must cover the true change at close to their nominal rate; the baseline is estimated within
//! 0.2 points of its truth at this volume only in expectation, so it is checked against its own
//! interval.

mod common;

use common::Fixture;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Poisson};

#[tokio::test]
async fn clustered_intervals_cover_the_truth() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let titles = 30usize;
    let companies = 200usize;
    // true yearly factors per title: 2024 and 2025 relative to the previous year
    let truth: Vec<[f64; 2]> = (0..titles)
        .map(|_| [rng.random_range(0.7..1.3), rng.random_range(0.6..1.4)])
        .collect();
    let size = LogNormal::new(0.0, 1.0).unwrap();
    let sigma: f64 = 0.35;
    // mean-one year shocks per company and title: the cluster noise a Poisson interval ignores
    let shock = LogNormal::new(-sigma * sigma / 2.0, sigma).unwrap();
    let weights: Vec<f64> = (0..companies).map(|_| size.sample(&mut rng)).collect();
    let wsum: f64 = weights.iter().sum();
    let mut f = Fixture::default();
    for (t, tr) in truth.iter().enumerate() {
        let base = 1500.0;
        let levels = [base, base * tr[0], base * tr[0] * tr[1]];
        for (c, w) in weights.iter().enumerate() {
            for (yi, level) in levels.iter().enumerate() {
                let lambda = level * w / wsum * shock.sample(&mut rng);
                let n = if lambda > 0.0 {
                    Poisson::new(lambda).unwrap().sample(&mut rng) as usize
                } else {
                    0
                };
                for k in 0..n {
                    f.push_on(
                        &format!("t{t:02}"),
                        Some(format!("c{c}")),
                        (2023 + yi as i32, (k % 10) as u32 + 1, (k % 28) as u32 + 1),
                    );
                }
            }
        }
    }
    f.close_october_2025("t00", Some("c0"));
    let tmp = tempfile::tempdir().unwrap();
    f.write(tmp.path());
    let t = common::analyze_ranked_by_change(tmp.path()).await;
    assert_eq!(t.titles.len(), titles);
    let (mut covered, mut total, mut poisson_covered) = (0, 0, 0);
    for s in &t.titles {
        let i: usize = s.id[1..].parse().unwrap();
        for (k, y) in [(0, 2024), (1, 2025)] {
            let g = truth[i][k] - 1.0;
            let (lo, hi) = s.ci95[&y].unwrap();
            total += 1;
            if lo <= g && g <= hi {
                covered += 1;
            }
            // what a Poisson interval would have said
            let (n1, n0) = (s.count(y) as f64, s.count(y - 1) as f64);
            let se = (1.0 / n1 + 1.0 / n0).sqrt();
            let c = (n1 / n0).ln();
            if ((c - 1.96 * se).exp() - 1.0) <= g && g <= ((c + 1.96 * se).exp() - 1.0) {
                poisson_covered += 1;
            }
        }
    }
    let rate = covered as f64 / total as f64;
    let poisson_rate = poisson_covered as f64 / total as f64;
    eprintln!("coverage: clustered {rate:.2}, Poisson {poisson_rate:.2} over {total} intervals");
    assert!(rate >= 0.85, "clustered intervals cover only {rate:.2}");
    assert!(
        poisson_rate < rate,
        "Poisson {poisson_rate:.2} should under-cover vs clustered {rate:.2}"
    );
    assert!(t.notes.iter().any(|n| n.contains("not in taxonomy")));
}

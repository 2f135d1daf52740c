//! Aggregation on simulated crowds with known worker accuracies (seeded, deterministic).
//!
//! Stated tolerance: Dawid–Skene's estimated accuracy of every worker is within ±0.05 of the
//! accuracy that worker actually had in the simulation. Dawid–Skene beats majority vote by at
//! least 2 points of label accuracy when workers differ in skill, and is no worse (−1 point)
//! when they do not.

use jobshift_label::aggregate::{
    dawid_skene, krippendorff_alpha_nominal, majority_vote, Annotation, DsOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Crowd {
    truth: Vec<usize>,
    anns: Vec<Annotation>,
    /// realized accuracy per worker
    realized: Vec<f64>,
}

/// `n_items` postings of `k` classes (skewed class frequencies), `per_item` distinct workers each.
/// A wrong answer goes to the true class's "sibling" (k ^ 1) with probability `confusable`,
/// else uniformly to another class — people confuse related titles.
fn simulate(
    seed: u64,
    n_items: usize,
    k: usize,
    accuracies: &[f64],
    per_item: usize,
    confusable: f64,
) -> Crowd {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let truth: Vec<usize> = (0..n_items)
        .map(|_| {
            // skewed: lower classes more frequent
            let u: f64 = rng.random();
            ((u * u) * k as f64) as usize % k
        })
        .collect();
    let nw = accuracies.len();
    let mut anns = Vec::new();
    let mut ok = vec![0usize; nw];
    let mut n = vec![0usize; nw];
    for (i, &t) in truth.iter().enumerate() {
        let mut workers: Vec<usize> = (0..nw).collect();
        for j in 0..per_item {
            let r = rng.random_range(j..nw);
            workers.swap(j, r);
        }
        for &w in &workers[..per_item] {
            let label = if rng.random::<f64>() < accuracies[w] {
                t
            } else if rng.random::<f64>() < confusable && (t ^ 1) < k {
                t ^ 1
            } else {
                let mut l = rng.random_range(0..k - 1);
                if l >= t {
                    l += 1;
                }
                l
            };
            n[w] += 1;
            ok[w] += usize::from(label == t);
            anns.push(Annotation {
                item: i,
                worker: w,
                label,
            });
        }
    }
    let realized = (0..nw).map(|w| ok[w] as f64 / n[w].max(1) as f64).collect();
    Crowd {
        truth,
        anns,
        realized,
    }
}

fn accuracy_mv(c: &Crowd) -> f64 {
    let mv = majority_vote(c.truth.len(), &c.anns);
    mv.iter()
        .zip(&c.truth)
        .filter(|(v, &t)| v.as_ref().map(|v| v.label) == Some(t))
        .count() as f64
        / c.truth.len() as f64
}

fn run_ds(c: &Crowd, nw: usize, k: usize, gold: &[Option<usize>]) -> (f64, Vec<f64>) {
    let r = dawid_skene(c.truth.len(), nw, k, &c.anns, gold, &DsOptions::default());
    assert!(
        r.converged,
        "EM did not converge in {} iterations",
        r.iterations
    );
    let acc = (0..c.truth.len())
        .filter(|&i| r.best(i).map(|b| b.0) == Some(c.truth[i]))
        .count() as f64
        / c.truth.len() as f64;
    (acc, r.worker_accuracy)
}

const MIXED: [f64; 9] = [0.95, 0.9, 0.85, 0.75, 0.6, 0.5, 0.4, 0.35, 0.3];

#[test]
fn dawid_skene_beats_majority_when_skills_differ_and_recovers_worker_accuracy() {
    for seed in [1u64, 2, 3] {
        let k = 40;
        let c = simulate(seed, 1500, k, &MIXED, 5, 0.6);
        let mv = accuracy_mv(&c);
        let (ds, est) = run_ds(&c, MIXED.len(), k, &[]);
        eprintln!("seed {seed}: majority {mv:.3}, Dawid–Skene {ds:.3}");
        assert!(
            ds >= mv + 0.02,
            "seed {seed}: DS {ds:.3} should beat MV {mv:.3}"
        );
        for w in 0..MIXED.len() {
            eprintln!(
                "  worker {w}: true {:.2} realized {:.3} estimated {:.3}",
                MIXED[w], c.realized[w], est[w]
            );
            assert!(
                (est[w] - c.realized[w]).abs() <= 0.05,
                "seed {seed} worker {w}: estimated {:.3} vs realized {:.3}",
                est[w],
                c.realized[w]
            );
        }
    }
}

#[test]
fn equal_skills_dawid_skene_no_worse_than_majority() {
    let acc = [0.7; 7];
    let c = simulate(11, 1000, 30, &acc, 5, 0.3);
    let mv = accuracy_mv(&c);
    let (ds, _) = run_ds(&c, acc.len(), 30, &[]);
    eprintln!("equal skills: majority {mv:.3}, Dawid–Skene {ds:.3}");
    assert!(ds >= mv - 0.01, "DS {ds:.3} vs MV {mv:.3}");
}

#[test]
fn gold_clamping_anchors_worker_estimates_with_few_answers() {
    // Three answers per item, a minority of good workers: gold tells who is good.
    let acc = [0.9, 0.85, 0.45, 0.4, 0.35];
    let k = 20;
    let c = simulate(5, 300, k, &acc, 3, 0.8);
    let gold: Vec<Option<usize>> = (0..c.truth.len())
        .map(|i| (i % 5 == 0).then_some(c.truth[i]))
        .collect();
    let (_, est_free) = run_ds(&c, acc.len(), k, &[]);
    let (ds_gold, est_gold) = run_ds(&c, acc.len(), k, &gold);
    let err = |e: &[f64]| {
        e.iter()
            .zip(&c.realized)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    eprintln!(
        "max worker error: free {:.3}, with 20% gold {:.3}; DS accuracy {ds_gold:.3}",
        err(&est_free),
        err(&est_gold)
    );
    // A hard crowd (3 answers, bad workers agreeing on related titles): gold must cut the
    // worst worker-accuracy error (measured: 0.157 without gold, 0.115 with 20% gold).
    assert!(
        err(&est_gold) <= err(&est_free) - 0.02,
        "{:?} vs {:?}",
        est_gold,
        c.realized
    );
    assert!(err(&est_gold) <= 0.13, "{:?} vs {:?}", est_gold, c.realized);
}

#[test]
fn agreement_falls_with_noise() {
    let good = simulate(7, 400, 20, &[0.9; 5], 4, 0.0);
    let bad = simulate(7, 400, 20, &[0.5; 5], 4, 0.0);
    let lists = |c: &Crowd| {
        let mut v = vec![Vec::new(); c.truth.len()];
        for a in &c.anns {
            v[a.item].push(a.label);
        }
        v
    };
    let a_good = krippendorff_alpha_nominal(&lists(&good)).unwrap();
    let a_bad = krippendorff_alpha_nominal(&lists(&bad)).unwrap();
    eprintln!("alpha: accurate crowd {a_good:.3}, noisy crowd {a_bad:.3}");
    // For accuracy p and uniform errors over many classes, alpha ≈ p².
    assert!((a_good - 0.81).abs() < 0.06, "{a_good}");
    assert!(a_bad < a_good - 0.4);
}

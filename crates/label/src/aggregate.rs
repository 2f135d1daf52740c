//! Turning several crowd answers per posting into one label with a confidence.
//!
//! - [`majority_vote`]: the most frequent answer; confidence = its share of the votes.
//! - [`dawid_skene`]: EM over a worker-reliability model (Dawid & Skene 1979).
//! - [`krippendorff_alpha_nominal`]: chance-corrected agreement that allows any number of
//!   answers per posting (Fleiss' kappa needs the same number everywhere, which crowd rounds
//!   with drop-outs and gold do not have).
//!
//! ## The Dawid–Skene model used here, and why
//! The classic model gives every worker a full K×K confusion matrix. With a taxonomy of ~650
//! titles that is ~420,000 parameters per worker for a few hundred answers: not identifiable.
//! We use a **per-worker "one-coin" accuracy with a shared, smoothed error confusion**:
//!
//! `P(answer = l | truth = k, worker w) = p_w` if `l = k`, else `(1 − p_w) · C[k][l]`,
//!
//! where `p_w` (one number per worker, Beta(2, 2) prior) is the worker's reliability, and
//! `C[k][·]` (shared by all workers, Dirichlet-smoothed with `confusion_smoothing` per cell) says
//! which wrong titles people pick for a true title k (Data Analyst ↔ Data Scientist confusions
//! are common, Nurse ↔ Data Scientist rare). Class priors are Dirichlet(1)-smoothed. For speed
//! the candidate truths of a posting are the answers it received (plus its gold answer): a title
//! nobody picked cannot win. Gold postings can be clamped to their known answer, which anchors
//! the worker accuracies.
//!
//! All computations are deterministic (fixed iteration order; ties go to the lower class index).

use std::collections::HashMap;

/// One answer: item (posting) index, worker index, class (answer) index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotation {
    pub item: usize,
    pub worker: usize,
    pub label: usize,
}

/// Majority-vote result of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    pub label: usize,
    /// Share of the item's answers that chose `label`.
    pub share: f64,
    /// More than one label had the top count (the lower index won).
    pub tied: bool,
    pub answers: usize,
}

/// Majority vote per item (None for items without answers).
pub fn majority_vote(n_items: usize, annotations: &[Annotation]) -> Vec<Option<Vote>> {
    let mut counts: Vec<HashMap<usize, usize>> = vec![HashMap::new(); n_items];
    for a in annotations {
        *counts[a.item].entry(a.label).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|c| {
            let total: usize = c.values().sum();
            if total == 0 {
                return None;
            }
            let top = *c.values().max()?;
            let mut winners: Vec<usize> = c
                .iter()
                .filter(|(_, &n)| n == top)
                .map(|(&l, _)| l)
                .collect();
            winners.sort_unstable();
            Some(Vote {
                label: winners[0],
                share: top as f64 / total as f64,
                tied: winners.len() > 1,
                answers: total,
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct DsOptions {
    pub max_iterations: usize,
    /// Stop when no posterior moves by more than this.
    pub tolerance: f64,
    /// Beta(a, b) prior on each worker's accuracy.
    pub accuracy_prior: (f64, f64),
    /// Pseudo-count added to every cell of the shared error confusion.
    pub confusion_smoothing: f64,
    /// Pseudo-count added to every class prior.
    pub class_smoothing: f64,
}

impl Default for DsOptions {
    fn default() -> Self {
        DsOptions {
            max_iterations: 200,
            tolerance: 1e-6,
            accuracy_prior: (2.0, 2.0),
            confusion_smoothing: 0.5,
            class_smoothing: 1.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DsResult {
    /// Per item: (class, posterior) over its candidate classes, best first. Empty when the item
    /// had no answers.
    pub posterior: Vec<Vec<(usize, f64)>>,
    /// Per worker: estimated probability of answering correctly.
    pub worker_accuracy: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

impl DsResult {
    /// Best class and its posterior probability.
    pub fn best(&self, item: usize) -> Option<(usize, f64)> {
        self.posterior[item].first().copied()
    }
}

/// Dawid–Skene EM with the model described in the module docs. `gold[i] = Some(k)` clamps item
/// i to class k (pass an empty slice for none).
pub fn dawid_skene(
    n_items: usize,
    n_workers: usize,
    n_classes: usize,
    annotations: &[Annotation],
    gold: &[Option<usize>],
    opts: &DsOptions,
) -> DsResult {
    let clamp = |i: usize| gold.get(i).copied().flatten();
    // Per item: its answers, and its candidate classes (sorted, unique).
    let mut by_item: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n_items];
    for a in annotations {
        by_item[a.item].push((a.worker, a.label));
    }
    let cands: Vec<Vec<usize>> = (0..n_items)
        .map(|i| {
            let mut c: Vec<usize> = by_item[i].iter().map(|&(_, l)| l).collect();
            if let Some(g) = clamp(i) {
                c.push(g);
            }
            c.sort_unstable();
            c.dedup();
            c
        })
        .collect();

    // Initial posteriors: vote shares (or the gold answer).
    let mut post: Vec<Vec<f64>> = (0..n_items)
        .map(|i| {
            if let Some(g) = clamp(i) {
                return cands[i]
                    .iter()
                    .map(|&k| f64::from(u8::from(k == g)))
                    .collect();
            }
            let m = by_item[i].len().max(1) as f64;
            cands[i]
                .iter()
                .map(|&k| by_item[i].iter().filter(|&&(_, l)| l == k).count() as f64 / m)
                .collect()
        })
        .collect();

    let (pa, pb) = opts.accuracy_prior;
    let mut acc = vec![0.7; n_workers];
    let mut iterations = 0;
    let mut converged = false;
    let k_minus_1 = (n_classes.max(2) - 1) as f64;
    for it in 0..opts.max_iterations {
        iterations = it + 1;
        // ---- M-step ----
        let mut correct = vec![0.0f64; n_workers];
        let mut total = vec![0.0f64; n_workers];
        let mut prior_mass = vec![0.0f64; n_classes];
        let mut err: HashMap<(usize, usize), f64> = HashMap::new();
        let mut err_row = vec![0.0f64; n_classes];
        for i in 0..n_items {
            for (ci, &k) in cands[i].iter().enumerate() {
                prior_mass[k] += post[i][ci];
            }
            for &(w, l) in &by_item[i] {
                total[w] += 1.0;
                for (ci, &k) in cands[i].iter().enumerate() {
                    let t = post[i][ci];
                    if k == l {
                        correct[w] += t;
                    } else if t > 0.0 {
                        *err.entry((k, l)).or_default() += t;
                        err_row[k] += t;
                    }
                }
            }
        }
        for w in 0..n_workers {
            acc[w] = ((correct[w] + pa - 1.0) / (total[w] + pa + pb - 2.0)).clamp(1e-4, 1.0 - 1e-4);
        }
        let n_eff: f64 = prior_mass.iter().sum::<f64>() + opts.class_smoothing * n_classes as f64;
        let log_prior = |k: usize| ((prior_mass[k] + opts.class_smoothing) / n_eff).ln();
        let beta = opts.confusion_smoothing;
        let log_conf = |k: usize, l: usize| {
            let e = err.get(&(k, l)).copied().unwrap_or(0.0);
            ((e + beta) / (err_row[k] + beta * k_minus_1)).ln()
        };
        // ---- E-step ----
        let mut max_delta = 0.0f64;
        for i in 0..n_items {
            if clamp(i).is_some() || cands[i].is_empty() {
                continue;
            }
            let logs: Vec<f64> = cands[i]
                .iter()
                .map(|&k| {
                    let mut s = log_prior(k);
                    for &(w, l) in &by_item[i] {
                        s += if l == k {
                            acc[w].ln()
                        } else {
                            (1.0 - acc[w]).ln() + log_conf(k, l)
                        };
                    }
                    s
                })
                .collect();
            let mx = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = logs.iter().map(|x| (x - mx).exp()).sum();
            for (ci, x) in logs.iter().enumerate() {
                let p = (x - mx).exp() / z;
                max_delta = max_delta.max((p - post[i][ci]).abs());
                post[i][ci] = p;
            }
        }
        if max_delta < opts.tolerance {
            converged = true;
            break;
        }
    }
    let posterior = (0..n_items)
        .map(|i| {
            let mut v: Vec<(usize, f64)> = cands[i]
                .iter()
                .copied()
                .zip(post[i].iter().copied())
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        })
        .collect();
    DsResult {
        posterior,
        worker_accuracy: acc,
        iterations,
        converged,
    }
}

/// Krippendorff's alpha for nominal data. `items[u]` lists the answers (class indexes) given to
/// item u; items with fewer than two answers are not pairable and are skipped.
/// Returns None when fewer than two pairable answers exist or all answers are one class.
pub fn krippendorff_alpha_nominal(items: &[Vec<usize>]) -> Option<f64> {
    let mut n_total = 0.0f64; // pairable values
    let mut disagree = 0.0f64; // Σ_u (m_u² − Σ_c n_uc²) / (m_u − 1)
    let mut class_totals: HashMap<usize, f64> = HashMap::new();
    for answers in items {
        let m = answers.len();
        if m < 2 {
            continue;
        }
        let mut c: HashMap<usize, f64> = HashMap::new();
        for &a in answers {
            *c.entry(a).or_default() += 1.0;
        }
        let sq: f64 = c.values().map(|x| x * x).sum();
        let mf = m as f64;
        disagree += (mf * mf - sq) / (mf - 1.0);
        n_total += mf;
        for (k, v) in c {
            *class_totals.entry(k).or_default() += v;
        }
    }
    if n_total < 2.0 {
        return None;
    }
    let expected = n_total * n_total - class_totals.values().map(|x| x * x).sum::<f64>();
    if expected <= 0.0 {
        return None;
    }
    Some(1.0 - (n_total - 1.0) * disagree / expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krippendorff_reference_example() {
        // Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers,
        // 12 units, nominal alpha = 0.743.
        let rows: [[Option<usize>; 12]; 4] = {
            let n = None;
            let s = Some;
            [
                [
                    s(1),
                    s(2),
                    s(3),
                    s(3),
                    s(2),
                    s(1),
                    s(4),
                    s(1),
                    s(2),
                    n,
                    n,
                    n,
                ],
                [
                    s(1),
                    s(2),
                    s(3),
                    s(3),
                    s(2),
                    s(2),
                    s(4),
                    s(1),
                    s(2),
                    s(5),
                    n,
                    s(3),
                ],
                [
                    n,
                    s(3),
                    s(3),
                    s(3),
                    s(2),
                    s(3),
                    s(4),
                    s(2),
                    s(2),
                    s(5),
                    s(1),
                    n,
                ],
                [
                    s(1),
                    s(2),
                    s(3),
                    s(3),
                    s(2),
                    s(4),
                    s(4),
                    s(1),
                    s(2),
                    s(5),
                    s(1),
                    n,
                ],
            ]
        };
        let items: Vec<Vec<usize>> = (0..12)
            .map(|u| rows.iter().filter_map(|r| r[u]).collect())
            .collect();
        let a = krippendorff_alpha_nominal(&items).unwrap();
        assert!((a - 0.743).abs() < 0.001, "{a}");
    }

    #[test]
    fn alpha_edge_cases() {
        assert_eq!(krippendorff_alpha_nominal(&[vec![1]]), None);
        assert_eq!(krippendorff_alpha_nominal(&[vec![1, 1], vec![1, 1]]), None);
        let perfect = krippendorff_alpha_nominal(&[vec![1, 1], vec![2, 2]]).unwrap();
        assert!((perfect - 1.0).abs() < 1e-12);
    }

    #[test]
    fn majority_breaks_ties_low() {
        let a = |item, worker, label| Annotation {
            item,
            worker,
            label,
        };
        let v = majority_vote(
            2,
            &[a(0, 0, 3), a(0, 1, 2), a(1, 0, 1), a(1, 1, 1), a(1, 2, 0)],
        );
        assert_eq!(v[0].as_ref().unwrap().label, 2);
        assert!(v[0].as_ref().unwrap().tied);
        assert_eq!(v[1].as_ref().unwrap().label, 1);
        assert!((v[1].as_ref().unwrap().share - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ds_trusts_the_reliable_worker_and_honours_gold() {
        let a = |item, worker, label| Annotation {
            item,
            worker,
            label,
        };
        // Worker 0 always right on gold; workers 1 and 2 always agree with each other and wrong.
        let mut anns = Vec::new();
        for i in 0..20 {
            anns.push(a(i, 0, 0));
            anns.push(a(i, 1, 1));
            anns.push(a(i, 2, 1));
        }
        let gold: Vec<Option<usize>> = (0..20)
            .map(|i| if i < 15 { Some(0) } else { None })
            .collect();
        let r = dawid_skene(20, 3, 2, &anns, &gold, &DsOptions::default());
        assert!(r.worker_accuracy[0] > 0.9, "{:?}", r.worker_accuracy);
        assert!(r.worker_accuracy[1] < 0.3, "{:?}", r.worker_accuracy);
        assert_eq!(r.best(19).unwrap().0, 0, "gold teaches DS whom to trust");
    }
}

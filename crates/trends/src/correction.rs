//! Misclassification correction: recover true title counts from predicted ones with the
//! classifier's measured confusion matrix, and the uncertainty of that recovery.
//!
//! The classifier's evaluation writes a confusion matrix (true title → predicted title → count,
//! predicted may be `unclassified`). Row-normalised it gives P(pred = j | true = i), so the
//! expected predicted counts are o = Pᵀx. Plain adjusted classify-and-count inverts that system,
//! which goes negative and unstable with hundreds of titles. We solve it instead by
//! **expectation–maximisation (iterative Bayesian unfolding, Poisson maximum likelihood)**:
//! x_i ← x_i · Σ_j P_ij · o_j / (Σ_k P_kj x_k). Every iterate is non-negative, the total is
//! preserved, and when o = Pᵀx has a non-negative solution EM converges to it — i.e. it is
//! adjusted classify-and-count with the non-negativity constraint, without a matrix inverse.
//! Titles the matrix does not cover pass through unchanged.
//!
//! **Uncertainty** ([`Confusion::bootstrap`]): a corrected count is uncertain for two independent
//! reasons — the postings are a sample (the raw interval's sampling error), and P itself was
//! estimated from a finite labelled set (a title with 12 labelled examples has a very rough row).
//! Each bootstrap replicate resamples every row of the confusion matrix from its own labelled
//! examples (the nonparametric bootstrap of the evaluation set), perturbs each observed count with
//! its sampling noise (variance φ·o, φ the label's company-cluster overdispersion measured by the
//! raw interval), and re-runs EM. The spread of the replicates' corrected changes carries both
//! sources *and* their amplification through the unfolding (two titles the classifier often
//! confuses get wide corrected intervals), which the raw interval alone cannot show.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Row-normalised confusion rates.
#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    /// true id → (predicted id → probability)
    pub rates: BTreeMap<String, BTreeMap<String, f64>>,
    /// Labelled examples the matrix was measured on.
    pub examples: f64,
    /// The raw counts the rates come from (resampled by the bootstrap).
    #[serde(skip)]
    counts: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The matrix in index form for the EM loop: truths `0..rows.len()`, predicted labels
/// `0..labels.len()`, each row a sparse list of (label index, rate).
struct Indexed<'a> {
    truths: Vec<&'a str>,
    labels: Vec<&'a str>,
    rows: Vec<Vec<(usize, f64)>>,
}

impl<'a> Indexed<'a> {
    fn new(rates: &'a BTreeMap<String, BTreeMap<String, f64>>) -> Self {
        let labels: Vec<&str> = rates
            .values()
            .flat_map(|r| r.keys().map(String::as_str))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let rows = rates
            .values()
            .map(|r| {
                r.iter()
                    .filter_map(|(j, p)| labels.binary_search(&j.as_str()).ok().map(|k| (k, *p)))
                    .collect()
            })
            .collect();
        Indexed {
            truths: rates.keys().map(String::as_str).collect(),
            labels,
            rows,
        }
    }

    /// EM from `x` (updated in place) for observed label counts `obs`. Stops when the counts
    /// change by less than [`EM_TOLERANCE`] in an iteration (relative L1 change: Σ|Δxᵢ| / Σxᵢ),
    /// or after `max_iter` iterations.
    fn em(&self, obs: &[f64], x: &mut [f64], max_iter: usize) -> EmRun {
        let mut m = vec![0.0; self.labels.len()];
        for it in 0..max_iter {
            m.iter_mut().for_each(|v| *v = 0.0);
            for (row, &xi) in self.rows.iter().zip(x.iter()) {
                for &(j, p) in row {
                    m[j] += p * xi;
                }
            }
            let (mut moved, mut total) = (0.0f64, 0.0f64);
            for (row, xi) in self.rows.iter().zip(x.iter_mut()) {
                let factor: f64 = row
                    .iter()
                    .filter(|(j, _)| m[*j] > 0.0)
                    .map(|&(j, p)| p * obs[j] / m[j])
                    .sum();
                let nx = *xi * factor;
                moved += (nx - *xi).abs();
                total += nx;
                *xi = nx;
            }
            if moved <= EM_TOLERANCE * total {
                return EmRun {
                    iterations: it + 1,
                    converged: true,
                };
            }
        }
        EmRun {
            iterations: max_iter,
            converged: false,
        }
    }
}

/// EM stops when the corrected counts change by less than this in one iteration, relative to
/// their total (Σ|Δxᵢ| / Σxᵢ: one part per million).
pub const EM_TOLERANCE: f64 = 1e-6;
/// EM gives up after this many iterations (reported as not converged). Plain EM converges
/// linearly and slowly where the matrix barely tells titles apart: on 10M simulated postings
/// with the default classifier's matrix it needs 12,000–17,000 iterations (~0.1 s each year).
pub const EM_MAX_ITERATIONS: usize = 50_000;
/// Iteration cap of each bootstrap replicate: replicates start from the point solution and only
/// need to move as far as their perturbation, and 200 replicates × years must stay cheap.
pub const EM_BOOTSTRAP_MAX_ITERATIONS: usize = 5_000;

/// How one EM solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EmRun {
    pub iterations: usize,
    /// The counts' relative change fell below [`EM_TOLERANCE`] before [`EM_MAX_ITERATIONS`].
    pub converged: bool,
}

fn parse_map(v: &serde_json::Value) -> Option<BTreeMap<String, BTreeMap<String, f64>>> {
    let obj = v.as_object()?;
    let mut out = BTreeMap::new();
    for (t, row) in obj {
        let row = row.as_object()?;
        let mut r = BTreeMap::new();
        for (p, n) in row {
            r.insert(p.clone(), n.as_f64()?);
        }
        out.insert(t.clone(), r);
    }
    Some(out)
}

fn parse_labels_counts(v: &serde_json::Value) -> Option<BTreeMap<String, BTreeMap<String, f64>>> {
    let labels: Vec<String> = v
        .get("labels")?
        .as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect::<Option<_>>()?;
    let pred_labels: Vec<String> = match v.get("predicted_labels").and_then(|x| x.as_array()) {
        Some(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
        None => labels.clone(),
    };
    let rows = v.get("counts").or_else(|| v.get("matrix"))?.as_array()?;
    let mut out = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array()?;
        let mut r = BTreeMap::new();
        for (j, n) in row.iter().enumerate() {
            let n = n.as_f64()?;
            if n != 0.0 {
                r.insert(pred_labels.get(j)?.clone(), n);
            }
        }
        out.insert(labels.get(i)?.clone(), r);
    }
    Some(out)
}

impl Confusion {
    /// Read a confusion matrix JSON. Accepted shapes: `{"TRUE": {"PRED": n}}`, the same under a
    /// `"confusion"` or `"matrix"` key, or `{"labels": [...], "counts": [[...]]}` (rows true).
    pub fn load(path: &Path) -> Result<Confusion, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let counts = parse_labels_counts(&v)
            .or_else(|| v.get("confusion").and_then(parse_map))
            .or_else(|| v.get("matrix").and_then(parse_map))
            .or_else(|| parse_map(&v))
            .ok_or_else(|| {
                format!(
                    "{} is not a confusion matrix: expected {{\"TRUE_ID\": {{\"PREDICTED_ID\": count}}}} \
                     (optionally under \"confusion\"), or {{\"labels\": [...], \"counts\": [[...]]}}",
                    path.display()
                )
            })?;
        Self::from_counts(&counts)
    }

    /// Build from raw counts (true → predicted → n).
    pub fn from_counts(
        counts: &BTreeMap<String, BTreeMap<String, f64>>,
    ) -> Result<Confusion, String> {
        let mut rates = BTreeMap::new();
        let mut kept = BTreeMap::new();
        let mut examples = 0.0;
        for (t, row) in counts {
            let total: f64 = row.values().sum();
            if row.values().any(|n| *n < 0.0 || !n.is_finite()) {
                return Err(format!(
                    "confusion row {t:?} has a negative or non-finite count"
                ));
            }
            if total <= 0.0 {
                continue;
            }
            examples += total;
            rates.insert(
                t.clone(),
                row.iter().map(|(p, n)| (p.clone(), n / total)).collect(),
            );
            kept.insert(t.clone(), row.clone());
        }
        if rates.is_empty() {
            return Err("confusion matrix has no counts".into());
        }
        Ok(Confusion {
            rates,
            examples,
            counts: kept,
        })
    }

    /// The matrix extended with an identity row for every id in `ids` that has no row of its own
    /// (a title with no labelled evaluation examples): with no measurement of its errors it is
    /// taken as classified correctly, so its observed postings stay its own instead of being
    /// handed to the titles that are sometimes predicted as it.
    pub fn covering<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Confusion {
        let mut out = self.clone();
        for id in ids {
            if !out.rates.contains_key(id) {
                out.rates
                    .insert(id.to_string(), BTreeMap::from([(id.to_string(), 1.0)]));
                out.counts
                    .insert(id.to_string(), BTreeMap::from([(id.to_string(), 1.0)]));
            }
        }
        out
    }

    /// Estimate true counts from observed predicted counts. Returns the corrected counts and how
    /// EM ended (iterations used, converged or not).
    pub fn correct(&self, observed: &BTreeMap<String, f64>) -> (BTreeMap<String, f64>, EmRun) {
        let ix = Indexed::new(&self.rates);
        let (out, _, it) = self.correct_indexed(&ix, observed, None, EM_MAX_ITERATIONS);
        (out, it)
    }

    /// EM on the index form; `start` warm-starts from a previous solution (same truth order).
    /// Returns the corrected counts, the raw solution vector and how EM ended.
    fn correct_indexed(
        &self,
        ix: &Indexed<'_>,
        observed: &BTreeMap<String, f64>,
        start: Option<&[f64]>,
        max_iter: usize,
    ) -> (BTreeMap<String, f64>, Vec<f64>, EmRun) {
        let mut out = BTreeMap::new();
        // pass-through: observed labels no true title is ever predicted as
        for (j, &o) in observed {
            if ix.labels.binary_search(&j.as_str()).is_err() {
                out.insert(j.clone(), o);
            }
        }
        let obs: Vec<f64> = ix
            .labels
            .iter()
            .map(|j| observed.get(*j).copied().unwrap_or(0.0))
            .collect();
        let obs_total: f64 = obs.iter().sum();
        if obs_total <= 0.0 {
            for t in &ix.truths {
                out.entry((*t).to_string()).or_insert(0.0);
            }
            return (
                out,
                vec![0.0; ix.truths.len()],
                EmRun {
                    iterations: 0,
                    converged: true,
                },
            );
        }
        // start from the observed counts (plus a little mass so no title is stuck at zero)
        let mut x: Vec<f64> = match start {
            Some(s) if s.len() == ix.truths.len() => {
                s.iter().map(|v| v + obs_total * 1e-6).collect()
            }
            _ => ix
                .truths
                .iter()
                .map(|t| observed.get(*t).copied().unwrap_or(0.0) + obs_total * 1e-6)
                .collect(),
        };
        let run = ix.em(&obs, &mut x, max_iter);
        for (t, v) in ix.truths.iter().zip(&x) {
            *out.entry((*t).to_string()).or_insert(0.0) += v;
        }
        (out, x, run)
    }

    /// One confusion matrix drawn by resampling every row from its own labelled examples
    /// (multinomial with the row's size and rates).
    fn resampled(&self, rng: &mut ChaCha8Rng) -> Confusion {
        let mut counts = BTreeMap::new();
        for (t, row) in &self.counts {
            let n = row.values().sum::<f64>().round().max(1.0) as usize;
            let labels: Vec<&String> = row.keys().collect();
            let mut draw: BTreeMap<String, f64> = BTreeMap::new();
            if let Ok(pick) = WeightedIndex::new(row.values().copied()) {
                for _ in 0..n {
                    *draw.entry(labels[pick.sample(rng)].clone()).or_default() += 1.0;
                }
            } else {
                draw = row.clone();
            }
            counts.insert(t.clone(), draw);
        }
        // rows are non-empty by construction, so this cannot fail; fall back to self if it did
        Confusion::from_counts(&counts).unwrap_or_else(|_| self.clone())
    }

    /// Corrected counts under both sources of error, `replicates` times: each replicate resamples
    /// the confusion rows from their labelled examples and perturbs every observed count `o` of a
    /// label with normal noise of variance `φ·o` (`overdispersion[label]`, default 1 = Poisson),
    /// then re-runs EM. `observed` is window year → label → count. Deterministic for a seed.
    /// Returns one map year → id → corrected count per replicate.
    pub fn bootstrap(
        &self,
        observed: &BTreeMap<i32, BTreeMap<String, f64>>,
        overdispersion: &BTreeMap<String, f64>,
        replicates: usize,
        seed: u64,
    ) -> Vec<BTreeMap<i32, BTreeMap<String, f64>>> {
        // point solutions warm-start every replicate: EM then needs few iterations
        let ix = Indexed::new(&self.rates);
        let starts: BTreeMap<i32, Vec<f64>> = observed
            .iter()
            .map(|(y, o)| (*y, self.correct_indexed(&ix, o, None, EM_MAX_ITERATIONS).1))
            .collect();
        (0..replicates)
            .map(|b| {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    seed ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let conf = self.resampled(&mut rng);
                let rix = Indexed::new(&conf.rates);
                observed
                    .iter()
                    .map(|(y, obs)| {
                        let noisy: BTreeMap<String, f64> = obs
                            .iter()
                            .map(|(j, &o)| {
                                let phi = overdispersion.get(j).copied().unwrap_or(1.0).max(1.0);
                                let z: f64 = StandardNormal.sample(&mut rng);
                                (j.clone(), (o + (phi * o).sqrt() * z).max(0.0))
                            })
                            .collect();
                        // the resampled matrix has the same truths, so the start vector lines up
                        // unless a row vanished (it cannot; rows keep their size)
                        let start = starts.get(y).filter(|s| s.len() == rix.truths.len());
                        (
                            *y,
                            conf.correct_indexed(
                                &rix,
                                &noisy,
                                start.map(Vec::as_slice),
                                EM_BOOTSTRAP_MAX_ITERATIONS,
                            )
                            .0,
                        )
                    })
                    .collect()
            })
            .collect()
    }
}

/// Standard error of log(1+g) across bootstrap replicates of one series' corrected counts
/// (`prev`, `cur` per replicate); replicates with an empty previous window are skipped.
pub fn log_change_se(pairs: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let logs: Vec<f64> = pairs
        .into_iter()
        .filter(|(p, c)| *p > 0.0 && *c > 0.0)
        .map(|(p, c)| (c / p).ln())
        .collect();
    if logs.len() < 10 {
        return None;
    }
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    Some((logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[(&str, &[(&str, f64)])]) -> BTreeMap<String, BTreeMap<String, f64>> {
        rows.iter()
            .map(|(t, r)| {
                (
                    t.to_string(),
                    r.iter().map(|(p, n)| (p.to_string(), *n)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn recovers_true_counts() {
        let c = Confusion::from_counts(&m(&[
            ("a", &[("a", 80.0), ("b", 10.0), ("unclassified", 10.0)]),
            ("b", &[("b", 90.0), ("a", 10.0)]),
            ("c", &[("c", 70.0), ("b", 30.0)]),
        ]))
        .unwrap();
        let truth = [("a", 1000.0), ("b", 500.0), ("c", 2000.0)];
        let mut obs: BTreeMap<String, f64> = BTreeMap::new();
        for (t, n) in truth {
            for (p, r) in &c.rates[t] {
                *obs.entry(p.clone()).or_insert(0.0) += n * r;
            }
        }
        obs.insert("zzz".into(), 42.0);
        let (x, run) = c.correct(&obs);
        assert!(
            run.converged && run.iterations > 1 && run.iterations < EM_MAX_ITERATIONS,
            "{run:?}"
        );
        for (t, n) in truth {
            assert!((x[t] - n).abs() / n < 1e-3, "{t}: {} vs {n}", x[t]);
        }
        assert_eq!(x["zzz"], 42.0);
        assert!(x.values().all(|v| *v >= 0.0));
    }

    /// Corrected intervals must cover the true change at close to their nominal rate when the
    /// confusion matrix is itself estimated from a small labelled set; intervals that only carry
    /// the counts' Poisson error (the old re-centred raw interval) must not.
    #[test]
    fn corrected_intervals_cover_truth_with_estimated_confusion() {
        use rand_distr::Poisson;
        let k = 12usize;
        let ids: Vec<String> = (0..k).map(|i| format!("t{i:02}")).collect();
        // true P: 75% right, 10% to each neighbour, 5% unclassified
        let true_row = |i: usize| -> Vec<(String, f64)> {
            vec![
                (ids[i].clone(), 0.75),
                (ids[(i + 1) % k].clone(), 0.10),
                (ids[(i + k - 1) % k].clone(), 0.10),
                ("unclassified".to_string(), 0.05),
            ]
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let base: Vec<f64> = (0..k).map(|i| 800.0 + 150.0 * i as f64).collect();
        let factor: Vec<f64> = (0..k).map(|i| 0.7 + 0.05 * i as f64).collect();
        let (mut covered, mut covered_naive, mut total) = (0usize, 0usize, 0usize);
        for trial in 0..40u64 {
            // the labelled evaluation set: 40 examples per title
            let mut counts: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
            for (i, id) in ids.iter().enumerate() {
                let row = true_row(i);
                let pick = WeightedIndex::new(row.iter().map(|(_, p)| *p)).unwrap();
                let r = counts.entry(id.clone()).or_default();
                for _ in 0..40 {
                    *r.entry(row[pick.sample(&mut rng)].0.clone()).or_default() += 1.0;
                }
            }
            let conf = Confusion::from_counts(&counts).unwrap();
            // observed predicted counts in two years
            let mut observed: BTreeMap<i32, BTreeMap<String, f64>> = BTreeMap::new();
            for (y, mult) in [(2024, None), (2025, Some(&factor))] {
                let o = observed.entry(y).or_default();
                for i in 0..k {
                    let mean = base[i] * mult.map(|f| f[i]).unwrap_or(1.0);
                    let n: f64 = Poisson::new(mean).unwrap().sample(&mut rng);
                    let row = true_row(i);
                    let pick = WeightedIndex::new(row.iter().map(|(_, p)| *p)).unwrap();
                    for _ in 0..n as usize {
                        *o.entry(row[pick.sample(&mut rng)].0.clone()).or_default() += 1.0;
                    }
                }
            }
            let point: BTreeMap<i32, BTreeMap<String, f64>> = observed
                .iter()
                .map(|(y, o)| (*y, conf.correct(o).0))
                .collect();
            let reps = conf.bootstrap(&observed, &BTreeMap::new(), 100, trial);
            for i in 0..k {
                let (p, c) = (point[&2024][&ids[i]], point[&2025][&ids[i]]);
                let g = (c / p).ln();
                let truth = factor[i].ln();
                let se = log_change_se(reps.iter().map(|r| (r[&2024][&ids[i]], r[&2025][&ids[i]])))
                    .unwrap();
                total += 1;
                if (g - truth).abs() <= 1.959964 * se {
                    covered += 1;
                }
                // naive: Poisson error of the raw counts only
                let (op, oc) = (observed[&2024][&ids[i]], observed[&2025][&ids[i]]);
                if (g - truth).abs() <= 1.959964 * (1.0 / op + 1.0 / oc).sqrt() {
                    covered_naive += 1;
                }
            }
        }
        let rate = covered as f64 / total as f64;
        let naive = covered_naive as f64 / total as f64;
        eprintln!("corrected-interval coverage {rate:.3} over {total} intervals (Poisson-only {naive:.3})");
        assert!(
            (0.90..=0.995).contains(&rate),
            "coverage {rate} (naive {naive})"
        );
        assert!(
            naive < rate - 0.05,
            "naive coverage {naive} vs bootstrap {rate}"
        );
    }

    #[test]
    fn titles_without_rows_keep_their_postings() {
        let c = Confusion::from_counts(&m(&[("a", &[("a", 8.0), ("b", 2.0)])])).unwrap();
        let obs: BTreeMap<String, f64> = [("a".to_string(), 80.0), ("b".to_string(), 120.0)].into();
        // without a row for b, EM gives b's postings to a (the only truth ever predicted as b)
        let (x, _) = c.correct(&obs);
        assert!(x.get("b").copied().unwrap_or(0.0) < 1.0);
        let (x, _) = c.covering(["a", "b"]).correct(&obs);
        assert!(
            (x["a"] - 100.0).abs() < 1e-3 && (x["b"] - 100.0).abs() < 1e-3,
            "{x:?}"
        );
    }

    #[test]
    fn loads_both_shapes() {
        let dir = tempfile_dir();
        let p1 = dir.join("c1.json");
        std::fs::write(
            &p1,
            r#"{"confusion": {"a": {"a": 9, "b": 1}}, "model": "x"}"#,
        )
        .unwrap();
        assert!((Confusion::load(&p1).unwrap().rates["a"]["a"] - 0.9).abs() < 1e-12);
        let p2 = dir.join("c2.json");
        std::fs::write(&p2, r#"{"labels": ["a", "b"], "counts": [[3, 1], [0, 4]]}"#).unwrap();
        assert_eq!(Confusion::load(&p2).unwrap().rates["b"]["b"], 1.0);
        let p3 = dir.join("c3.json");
        std::fs::write(&p3, r#"[1, 2]"#).unwrap();
        assert!(Confusion::load(&p3)
            .unwrap_err()
            .contains("not a confusion matrix"));
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("jobshift-trends-conf-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

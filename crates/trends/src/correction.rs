//! Misclassification correction: recover true title counts from predicted ones with the
//! classifier's measured confusion matrix.
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
        }
        if rates.is_empty() {
            return Err("confusion matrix has no counts".into());
        }
        Ok(Confusion { rates, examples })
    }

    /// Estimate true counts from observed predicted counts. Returns (corrected counts, iterations).
    pub fn correct(&self, observed: &BTreeMap<String, f64>) -> (BTreeMap<String, f64>, usize) {
        // predicted labels the matrix can explain
        let explained: BTreeSet<&str> = self
            .rates
            .values()
            .flat_map(|r| r.keys().map(String::as_str))
            .collect();
        let mut out = BTreeMap::new();
        // pass-through: observed labels no true title is ever predicted as
        for (j, &o) in observed {
            if !explained.contains(j.as_str()) {
                out.insert(j.clone(), o);
            }
        }
        let truths: Vec<&String> = self.rates.keys().collect();
        let obs_total: f64 = observed
            .iter()
            .filter(|(j, _)| explained.contains(j.as_str()))
            .map(|(_, o)| *o)
            .sum();
        if obs_total <= 0.0 {
            for t in truths {
                out.entry(t.clone()).or_insert(0.0);
            }
            return (out, 0);
        }
        // start from the observed counts (plus a little mass so no title is stuck at zero)
        let mut x: Vec<f64> = truths
            .iter()
            .map(|t| observed.get(*t).copied().unwrap_or(0.0) + obs_total * 1e-6)
            .collect();
        let mut iterations = 0;
        for it in 0..5000 {
            iterations = it + 1;
            let mut m: BTreeMap<&str, f64> = BTreeMap::new();
            for (i, t) in truths.iter().enumerate() {
                for (j, p) in &self.rates[*t] {
                    *m.entry(j.as_str()).or_insert(0.0) += p * x[i];
                }
            }
            let mut max_rel = 0.0f64;
            for (i, t) in truths.iter().enumerate() {
                let mut factor = 0.0;
                for (j, p) in &self.rates[*t] {
                    let mj = m.get(j.as_str()).copied().unwrap_or(0.0);
                    let oj = observed.get(j).copied().unwrap_or(0.0);
                    if mj > 0.0 {
                        factor += p * oj / mj;
                    }
                }
                let nx = x[i] * factor;
                max_rel = max_rel.max((nx - x[i]).abs() / (x[i].max(1.0)));
                x[i] = nx;
            }
            if max_rel < 1e-10 {
                break;
            }
        }
        for (i, t) in truths.iter().enumerate() {
            *out.entry((*t).clone()).or_insert(0.0) += x[i];
        }
        (out, iterations)
    }
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
        let (x, _) = c.correct(&obs);
        for (t, n) in truth {
            assert!((x[t] - n).abs() / n < 1e-3, "{t}: {} vs {n}", x[t]);
        }
        assert_eq!(x["zzz"], 42.0);
        assert!(x.values().all(|v| *v >= 0.0));
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

//! The injected and expected changes per title, tier, family and the baseline, written as
//! `truth-changes.csv`: what a perfect pipeline should recover. Windows are Jan–Oct of each
//! year, as in the study (2025 vs 2024, and 2024 vs 2023).

use crate::calibrate::{ChangeSource, TitleCalibration};
use crate::catalog::Catalog;
use crate::plan::Plan;
use crate::sink::io_err;
use crate::GenerateError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Last month of the comparison window (the study compares Jan–Oct).
pub const WINDOW_THROUGH_MONTH: u32 = 10;

/// One row of `truth-changes.csv`. Changes are fractions (-0.08); counts are postings in the
/// Jan–Oct window of the year (None when the generated range does not cover it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangeRow {
    /// baseline | tier | family | title
    pub scope: String,
    pub key: String,
    pub name: String,
    /// For titles: study | family_rule | solved.
    pub source: String,
    pub injected_2024_vs_2023: f64,
    pub injected_2025_vs_2024: f64,
    /// What the study reports for this row, where it does.
    pub study_2025_vs_2024: Option<f64>,
    pub study_2024_vs_2023: Option<f64>,
    pub expected_2023: Option<f64>,
    pub expected_2024: Option<f64>,
    pub expected_2025: Option<f64>,
    pub expected_change_2024_vs_2023: Option<f64>,
    pub expected_change_2025_vs_2024: Option<f64>,
    pub actual_2023: Option<f64>,
    pub actual_2024: Option<f64>,
    pub actual_2025: Option<f64>,
    pub actual_change_2024_vs_2023: Option<f64>,
    pub actual_change_2025_vs_2024: Option<f64>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 => Some(b / a - 1.0),
        _ => None,
    }
}

fn sum_opt(xs: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let mut s = 0.0;
    for x in xs {
        s += x?;
    }
    Some(s)
}

fn aggregate_row(
    plan: &Plan,
    scope: &str,
    key: &str,
    name: &str,
    members: &[usize],
    study_25: Option<f64>,
    study_24: Option<f64>,
) -> ChangeRow {
    let cal = &plan.calibration;
    let sel = |i: &usize| *i;
    let inj = |y0: i32, y1: i32| {
        let (a, b): (f64, f64) = members
            .iter()
            .map(sel)
            .map(|i| {
                (
                    cal.titles[i].level_for_year(y0),
                    cal.titles[i].level_for_year(y1),
                )
            })
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        if a > 0.0 {
            b / a - 1.0
        } else {
            0.0
        }
    };
    let exp = |y: i32| {
        sum_opt(
            members
                .iter()
                .map(|&i| plan.expected_in(i, y, WINDOW_THROUGH_MONTH)),
        )
    };
    let act = |y: i32| {
        sum_opt(
            members
                .iter()
                .map(|&i| plan.actual_in(i, y, WINDOW_THROUGH_MONTH)),
        )
    };
    let (e23, e24, e25) = (exp(2023), exp(2024), exp(2025));
    let (a23, a24, a25) = (act(2023), act(2024), act(2025));
    ChangeRow {
        scope: scope.into(),
        key: key.into(),
        name: name.into(),
        source: String::new(),
        injected_2024_vs_2023: inj(2023, 2024),
        injected_2025_vs_2024: inj(2024, 2025),
        study_2025_vs_2024: study_25,
        study_2024_vs_2023: study_24,
        expected_2023: e23,
        expected_2024: e24,
        expected_2025: e25,
        expected_change_2024_vs_2023: ratio(e23, e24),
        expected_change_2025_vs_2024: ratio(e24, e25),
        actual_2023: a23,
        actual_2024: a24,
        actual_2025: a25,
        actual_change_2024_vs_2023: ratio(a23, a24),
        actual_change_2025_vs_2024: ratio(a24, a25),
    }
}

/// Every row of the truth-changes table: baseline, the three tiers, each family, each title.
pub fn change_table(catalog: &Catalog, plan: &Plan) -> Vec<ChangeRow> {
    let cal = &plan.calibration;
    let n = catalog.len();
    let all: Vec<usize> = (0..n).collect();
    let mut rows = vec![aggregate_row(
        plan,
        "baseline",
        "all",
        "All postings",
        &all,
        Some(cal.targets.baseline_2025),
        None,
    )];
    for tier in jobshift_core::Tier::ALL {
        let m: Vec<usize> = (0..n).filter(|&i| cal.titles[i].tier() == tier).collect();
        rows.push(aggregate_row(
            plan,
            "tier",
            tier.as_str(),
            tier.label(),
            &m,
            cal.targets.tier_change(tier),
            None,
        ));
    }
    let mut fams: Vec<&str> = catalog.titles().iter().map(|t| t.family.as_str()).collect();
    fams.sort();
    fams.dedup();
    for f in fams {
        let m: Vec<usize> = (0..n)
            .filter(|&i| catalog.titles()[i].family == f)
            .collect();
        rows.push(aggregate_row(plan, "family", f, f, &m, None, None));
    }
    for (i, t) in catalog.titles().iter().enumerate() {
        let tc: &TitleCalibration = &cal.titles[i];
        let named = cal.targets.named(&t.id);
        let mut r = aggregate_row(
            plan,
            "title",
            &t.id,
            &t.name,
            &[i],
            named.and_then(|n| n.change_2025),
            named.and_then(|n| n.change_2024),
        );
        r.source = match (tc.source_2025, tc.source_2024) {
            (ChangeSource::Study, _) | (_, ChangeSource::Study) if named.is_some() => {
                "study".into()
            }
            (s, _) => s.as_str().into(),
        };
        r.injected_2024_vs_2023 = tc.change_2024;
        r.injected_2025_vs_2024 = tc.change_2025;
        rows.push(r);
    }
    rows
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.4}", v * 100.0)).unwrap_or_default()
}
fn cnt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_default()
}

/// The `truth-changes.csv` column with the injected change of `year` against the year before,
/// in percent.
pub fn injected_column(year: i32) -> String {
    format!("injected_change_{year}_vs_{}_pct", year - 1)
}

/// The `truth-changes.csv` column with the change the generated counts realize, `year` against
/// the year before, in percent.
pub fn actual_column(year: i32) -> String {
    format!("actual_change_{year}_vs_{}_pct", year - 1)
}

/// One row of `truth-changes.csv` as a scorer reads it back: the change of one year against the
/// year before, as fractions.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeTruth {
    /// The change injected into the generator's plan.
    pub injected: f64,
    /// The change the generated counts realize (None when a window is not covered).
    pub actual: Option<f64>,
}

/// Read the changes of `year` against the year before from a `truth-changes.csv`, keyed by
/// (scope, key): ("baseline", "all"), ("title", id), ("tier", …), ("family", …).
pub fn read_change_truth(
    path: &Path,
    year: i32,
) -> Result<BTreeMap<(String, String), ChangeTruth>, GenerateError> {
    let err = |m: String| GenerateError::Io(format!("{}: {m}", path.display()));
    let mut rdr = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            err(format!(
                "no column {name:?} (a truth table for another year?)"
            ))
        })
    };
    let (scope, key) = (col("scope")?, col("key")?);
    let (injected, actual) = (col(&injected_column(year))?, col(&actual_column(year))?);
    let mut out = BTreeMap::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| err(e.to_string()))?;
        let field = |c: usize| r.get(c).unwrap_or("");
        let inj: f64 = field(injected).parse().map_err(|_| {
            err(format!(
                "row {}: {:?} is not a number",
                i + 2,
                field(injected)
            ))
        })?;
        out.insert(
            (field(scope).to_string(), field(key).to_string()),
            ChangeTruth {
                injected: inj / 100.0,
                actual: field(actual).parse::<f64>().ok().map(|x| x / 100.0),
            },
        );
    }
    Ok(out)
}

/// What a pipeline recovered for one title in the compared year: its change and 95 % interval,
/// raw and corrected for misclassification (when the report has them).
#[derive(Debug, Clone, Default)]
pub struct RecoveredTitle {
    pub id: String,
    pub raw: Option<f64>,
    pub raw_ci95: Option<(f64, f64)>,
    pub corrected: Option<f64>,
    pub corrected_ci95: Option<(f64, f64)>,
}

/// How far recovered title changes are from the generator's truth: absolute errors (as
/// fractions) against the injected and the realized change, and how often the 95 % intervals
/// cover the realized change. The demo and `jobshift-bench` both score with it.
#[derive(Debug, Clone, Default)]
pub struct RecoveryErrors {
    /// |raw − injected| per title with a raw change.
    pub raw: Vec<f64>,
    /// |corrected − injected| per title with a corrected change.
    pub corrected: Vec<f64>,
    /// |raw − injected| on the titles of `corrected` (like for like).
    pub raw_same: Vec<f64>,
    /// |raw − realized| per title with a raw change and a realized one.
    pub raw_real: Vec<f64>,
    /// |corrected − realized|.
    pub corrected_real: Vec<f64>,
    /// |raw − realized| on the titles of `corrected_real`.
    pub raw_same_real: Vec<f64>,
    /// (intervals covering the realized change, intervals scored), raw and corrected.
    pub raw_cover: (u64, u64),
    pub corrected_cover: (u64, u64),
}

/// The median of `v` in percentage points (`None` when empty).
fn median_points(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2] * 100.0)
}

/// The median errors, raw, corrected and against the realized change, one line each.
impl std::fmt::Display for RecoveryErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.raw.len();
        if let Some(m) = median_points(&self.raw) {
            writeln!(
                f,
                "ranked titles: {n}; median |recovered − injected| = {m:.1} points (raw)"
            )?;
        }
        let nc = self.corrected.len();
        if let (Some(m), Some(r)) = (
            median_points(&self.corrected),
            median_points(&self.raw_same),
        ) {
            writeln!(
                f,
                "median |recovered − injected| = {m:.1} points corrected for misclassification \
                 ({nc} titles with a corrected change; raw on the same titles: {r:.1})"
            )?;
        }
        if let Some(m) = median_points(&self.raw_real) {
            writeln!(
                f,
                "median |recovered − realized in the generated truth| = {m:.1} points \
                 (classification + dedup error alone, without sampling noise)"
            )?;
        }
        Ok(())
    }
}

/// Score `titles` against `truth` (from [`read_change_truth`]); titles the truth does not know
/// are skipped.
pub fn recovery_errors(
    truth: &BTreeMap<(String, String), ChangeTruth>,
    titles: impl IntoIterator<Item = RecoveredTitle>,
) -> RecoveryErrors {
    let mut e = RecoveryErrors::default();
    let covers = |ci: Option<(f64, f64)>, a: f64, c: &mut (u64, u64)| {
        if let Some((lo, hi)) = ci {
            c.1 += 1;
            c.0 += u64::from(lo <= a && a <= hi);
        }
    };
    for t in titles {
        let Some(ChangeTruth { injected, actual }) = truth.get(&("title".to_string(), t.id)) else {
            continue;
        };
        if let Some(g) = t.raw {
            e.raw.push((g - injected).abs());
            if let Some(a) = actual {
                e.raw_real.push((g - a).abs());
                covers(t.raw_ci95, *a, &mut e.raw_cover);
            }
        }
        if let Some(g) = t.corrected {
            e.corrected.push((g - injected).abs());
            if let Some(r) = t.raw {
                e.raw_same.push((r - injected).abs());
            }
            if let Some(a) = actual {
                e.corrected_real.push((g - a).abs());
                if let Some(r) = t.raw {
                    e.raw_same_real.push((r - a).abs());
                }
                covers(t.corrected_ci95, *a, &mut e.corrected_cover);
            }
        }
    }
    e
}

/// Write `truth-changes.csv` (changes in percent).
pub fn write_change_table(rows: &[ChangeRow], path: &Path) -> Result<(), GenerateError> {
    jobshift_core::atomic::with_writer(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record([
            "scope",
            "key",
            "name",
            "source",
            injected_column(2024).as_str(),
            injected_column(2025).as_str(),
            "study_change_2025_vs_2024_pct",
            "study_change_2024_vs_2023_pct",
            "expected_jan_oct_2023",
            "expected_jan_oct_2024",
            "expected_jan_oct_2025",
            "expected_change_2024_vs_2023_pct",
            "expected_change_2025_vs_2024_pct",
            "actual_jan_oct_2023",
            "actual_jan_oct_2024",
            "actual_jan_oct_2025",
            actual_column(2024).as_str(),
            actual_column(2025).as_str(),
        ])?;
        for r in rows {
            c.write_record([
                r.scope.clone(),
                r.key.clone(),
                r.name.clone(),
                r.source.clone(),
                pct(Some(r.injected_2024_vs_2023)),
                pct(Some(r.injected_2025_vs_2024)),
                pct(r.study_2025_vs_2024),
                pct(r.study_2024_vs_2023),
                cnt(r.expected_2023),
                cnt(r.expected_2024),
                cnt(r.expected_2025),
                pct(r.expected_change_2024_vs_2023),
                pct(r.expected_change_2025_vs_2024),
                cnt(r.actual_2023),
                cnt(r.actual_2024),
                cnt(r.actual_2025),
                pct(r.actual_change_2024_vs_2023),
                pct(r.actual_change_2025_vs_2024),
            ])?;
        }
        c.flush()?;
        Ok(())
    })
    .map_err(|e| io_err(path, e))
}

/// Write `expected-counts.csv`: per title and month, the expected and the generated number of
/// unique postings (what a perfect ingest + classify would count).
pub fn write_expected_counts(
    catalog: &Catalog,
    plan: &Plan,
    path: &Path,
) -> Result<(), GenerateError> {
    jobshift_core::atomic::with_writer(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(["month", "title_id", "expected", "actual", "reposts"])?;
        for m in &plan.months {
            let ym = m.ym.to_string();
            for (i, t) in catalog.titles().iter().enumerate() {
                c.write_record([
                    ym.as_str(),
                    t.id.as_str(),
                    &format!("{:.3}", m.expected[i]),
                    &m.counts[i].to_string(),
                    &m.reposts[i].to_string(),
                ])?;
            }
        }
        c.flush()?;
        Ok(())
    })
    .map_err(|e| io_err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_errors_compare_like_for_like_and_count_covering_intervals() {
        let truth: BTreeMap<(String, String), ChangeTruth> = [
            (
                ("title".to_string(), "a".to_string()),
                ChangeTruth {
                    injected: 0.10,
                    actual: Some(0.12),
                },
            ),
            (
                ("title".to_string(), "b".to_string()),
                ChangeTruth {
                    injected: -0.20,
                    actual: None,
                },
            ),
        ]
        .into_iter()
        .collect();
        let titles = vec![
            RecoveredTitle {
                id: "a".into(),
                raw: Some(0.15),
                raw_ci95: Some((0.10, 0.20)),
                corrected: Some(0.11),
                corrected_ci95: Some((0.13, 0.20)),
            },
            RecoveredTitle {
                id: "b".into(),
                raw: Some(-0.10),
                ..Default::default()
            },
            RecoveredTitle {
                id: "unknown".into(),
                raw: Some(1.0),
                ..Default::default()
            },
        ];
        let e = recovery_errors(&truth, titles);
        let close = |v: &[f64], w: &[f64]| {
            v.len() == w.len() && v.iter().zip(w).all(|(a, b)| (a - b).abs() < 1e-12)
        };
        assert!(close(&e.raw, &[0.05, 0.10]), "{:?}", e.raw);
        assert!(close(&e.corrected, &[0.01]));
        assert!(
            close(&e.raw_same, &[0.05]),
            "raw error on the corrected titles only"
        );
        assert!(close(&e.raw_real, &[0.03]), "b has no realized change");
        assert!(close(&e.corrected_real, &[0.01]));
        assert!(close(&e.raw_same_real, &[0.03]));
        // 0.12 is inside the raw interval, outside the corrected one
        assert_eq!(e.raw_cover, (1, 1));
        assert_eq!(e.corrected_cover, (0, 1));
    }
}

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

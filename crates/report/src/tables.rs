//! CSV tables: titles.csv, tiers.csv, families.csv (one row per group and year, long format, so
//! analysts can pivot as they like) and movers.csv (the ranked lists).

use crate::ReportError;
use jobshift_trends::{Series, Trends};
use std::path::Path;

fn f(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

const HEADER: [&str; 20] = [
    "id",
    "name",
    "family",
    "level",
    "tier",
    "year",
    "count",
    "companies",
    "share",
    "change",
    "ci95_lo",
    "ci95_hi",
    "excess_pts",
    "excess_ratio",
    "excess_ratio_ci95_lo",
    "excess_ratio_ci95_hi",
    "acceleration",
    "ranked",
    "corrected_count",
    "corrected_change",
];

fn series_rows(s: &Series, years: &[i32]) -> Vec<Vec<String>> {
    years
        .iter()
        .map(|&y| {
            let ci = s.ci95.get(&y).copied().flatten();
            let eci = s.excess_ratio_ci95.get(&y).copied().flatten();
            vec![
                s.id.clone(),
                s.name.clone(),
                s.family.clone().unwrap_or_default(),
                s.level.clone().unwrap_or_default(),
                s.tier.clone().unwrap_or_default(),
                y.to_string(),
                s.count(y).to_string(),
                s.companies.get(&y).copied().unwrap_or(0).to_string(),
                f(s.share.get(&y).copied()),
                f(s.change_in(y)),
                f(ci.map(|c| c.0)),
                f(ci.map(|c| c.1)),
                f(s.excess.get(&y).copied().flatten()),
                f(s.excess_ratio.get(&y).copied().flatten()),
                f(eci.map(|c| c.0)),
                f(eci.map(|c| c.1)),
                f(s.acceleration.get(&y).copied().flatten()),
                s.ranked.to_string(),
                f(s.corrected_counts.as_ref().and_then(|m| m.get(&y).copied())),
                f(s.corrected_change
                    .as_ref()
                    .and_then(|m| m.get(&y).copied().flatten())),
            ]
        })
        .collect()
}

fn write_rows(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .map_err(|e| ReportError::Csv(path.to_path_buf(), e.to_string()))?;
    for r in rows {
        w.write_record(r)
            .map_err(|e| ReportError::Csv(path.to_path_buf(), e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ReportError::Csv(path.to_path_buf(), e.to_string()))?;
    jobshift_core::atomic::write_bytes(path, &bytes)
        .map_err(|e| ReportError::Io(path.to_path_buf(), e))
}

/// Write a series table (baseline and unclassified rows lead titles.csv).
pub fn write_series(path: &Path, t: &Trends, series: &[&Series]) -> Result<(), ReportError> {
    let rows: Vec<Vec<String>> = series
        .iter()
        .flat_map(|s| series_rows(s, &t.years))
        .collect();
    write_rows(path, &HEADER, &rows)
}

/// movers.csv
pub fn write_movers(path: &Path, t: &Trends) -> Result<(), ReportError> {
    let (y, p) = (t.latest_year(), t.previous_year());
    let mut rows = Vec::new();
    for (list, ids) in [
        ("decliners", &t.movers.decliners),
        ("gainers", &t.movers.gainers),
        ("emerging", &t.movers.emerging),
    ] {
        for (i, id) in ids.iter().enumerate() {
            let Some(s) = t.title(id) else { continue };
            let ci = s.ci95.get(&y).copied().flatten();
            rows.push(vec![
                list.to_string(),
                (i + 1).to_string(),
                s.id.clone(),
                s.name.clone(),
                s.family.clone().unwrap_or_default(),
                s.count(p).to_string(),
                s.count(y).to_string(),
                f(s.change_in(y)),
                f(ci.map(|c| c.0)),
                f(ci.map(|c| c.1)),
                f(s.excess.get(&y).copied().flatten()),
                f(s.excess_ratio.get(&y).copied().flatten()),
                f(s.change_in(p)),
                f(s.acceleration.get(&y).copied().flatten()),
            ]);
        }
    }
    let (cp, cy) = (format!("count_{p}"), format!("count_{y}"));
    let header = [
        "list",
        "rank",
        "id",
        "name",
        "family",
        cp.as_str(),
        cy.as_str(),
        "change",
        "ci95_lo",
        "ci95_hi",
        "excess_pts",
        "excess_ratio",
        "change_previous_year",
        "acceleration",
    ];
    write_rows(path, &header, &rows)
}

//! CSV tables: titles.csv, tiers.csv, families.csv (one row per group and year, long format, so
//! analysts can pivot as they like), movers.csv (the ranked lists) and monthly.csv (one row per
//! group and month: count, 3-month moving average, year-over-year change with its interval,
//! seasonally adjusted count, corrected count).

use crate::ReportError;
use jobshift_trends::{Series, Trends, YEAR_COLUMNS};
use std::path::Path;

fn f(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// titles.csv, tiers.csv and families.csv: the group, the year, the year's figures, the rest.
fn series_header() -> Vec<&'static str> {
    let group = ["id", "name", "family", "level", "tier", "year"];
    let rest = [
        "excess_pts",
        "excess_ratio",
        "excess_ratio_ci95_lo",
        "excess_ratio_ci95_hi",
        "acceleration",
        "ranked",
        "corrected_count",
        "corrected_change",
    ];
    group.into_iter().chain(YEAR_COLUMNS).chain(rest).collect()
}

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
    write_rows(path, &series_header(), &rows)
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

/// monthly.csv: the market, unclassified postings, every tier, family and title, month by month.
pub fn write_monthly(path: &Path, t: &Trends) -> Result<(), ReportError> {
    let m = &t.monthly;
    let name_of = |list: &[Series], id: &str| -> String {
        list.iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut groups: Vec<(&str, String, String, &[jobshift_trends::MonthPoint])> = vec![
        (
            "market",
            "all".into(),
            "All postings".into(),
            m.market.as_slice(),
        ),
        (
            "unclassified",
            "unclassified".into(),
            "Unclassified".into(),
            m.unclassified.as_slice(),
        ),
    ];
    for (level, map, list) in [
        ("tier", &m.tiers, &t.tiers),
        ("family", &m.families, &t.families),
        ("title", &m.titles, &t.titles),
    ] {
        for (id, points) in map {
            groups.push((
                level,
                id.clone(),
                name_of(list.as_slice(), id),
                points.as_slice(),
            ));
        }
    }
    let mut rows = Vec::new();
    for (level, id, name, points) in groups {
        for p in points {
            rows.push(vec![
                level.to_string(),
                id.clone(),
                name.clone(),
                p.month.to_string(),
                p.count.to_string(),
                f(p.ma3),
                f(p.yoy),
                f(p.yoy_ci95.map(|c| c.0)),
                f(p.yoy_ci95.map(|c| c.1)),
                f(p.sa),
                f(p.corrected),
            ]);
        }
    }
    let header = [
        "level",
        "id",
        "name",
        "month",
        "count",
        "ma3",
        "yoy_change",
        "yoy_ci95_lo",
        "yoy_ci95_hi",
        "seasonally_adjusted",
        "corrected_count",
    ];
    write_rows(path, &header, &rows)
}

//! jobshift-report: renders a [`jobshift_trends::Trends`] into the files people read.
//!
//! [`write_report`] writes into an output directory: `report.html` (one self-contained file,
//! inline SVG charts, readable on a phone), `report.md`, `report.json` (the shape issue #6 fixes,
//! see [`json`]), CSV tables `titles.csv`, `tiers.csv`, `families.csv`, `movers.csv`, and
//! `monthly.csv` (monthly series per group), `queries.sql` + `title_map.csv` (the exact SQL the
//! engine ran, to reproduce the numbers in another engine). Every file records its inputs. The
//! directory is replaced whole (see [`write_report`]).

pub mod format;
pub mod json;
pub mod svg;
pub mod tables;

mod html;
mod markdown;

use jobshift_trends::Trends;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("cannot write CSV {0}: {1}")]
    Csv(PathBuf, String),
    #[error("template: {0}")]
    Template(String),
}

/// Where the report's files are.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportPaths {
    pub dir: PathBuf,
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub json: PathBuf,
    pub csv: Vec<PathBuf>,
    pub sql: PathBuf,
}

/// Write every report file into `out_dir` (created if needed), all or nothing: the files are
/// written into a sibling staging directory `.NAME.tmp-report-PID-N`, which then replaces
/// `out_dir` in one step (`jobshift_core::atomic::replace_dir`), so a reader or a killed run
/// never leaves `out_dir` holding files of two runs. Files in `out_dir` that the report does
/// not write are carried over (hard links); staging directories of killed runs and `.tmp-*`
/// files are cleaned up. When `out_dir` is the working directory (or holds it), the files are
/// written in place one by one instead, each atomically.
pub fn write_report(trends: &Trends, out_dir: &Path) -> Result<ReportPaths, ReportError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| ReportError::Io(p, e)
    };
    let holds_cwd = std::env::current_dir()
        .ok()
        .zip(out_dir.canonicalize().ok())
        .is_some_and(|(cwd, out)| cwd.starts_with(out));
    if holds_cwd {
        return write_report_files(trends, out_dir);
    }
    let staged = jobshift_core::atomic::staging_dir_for(out_dir, "report").map_err(io(out_dir))?;
    let written = write_report_files(trends, &staged);
    let paths = match written {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
    };
    jobshift_core::atomic::replace_dir(&staged, out_dir).map_err(io(out_dir))?;
    let moved = |p: &PathBuf| out_dir.join(p.strip_prefix(&staged).unwrap_or(p));
    Ok(ReportPaths {
        dir: out_dir.to_path_buf(),
        html: moved(&paths.html),
        markdown: moved(&paths.markdown),
        json: moved(&paths.json),
        csv: paths.csv.iter().map(moved).collect(),
        sql: moved(&paths.sql),
    })
}

/// Write every report file into `out_dir` (created if needed), each atomically.
fn write_report_files(trends: &Trends, out_dir: &Path) -> Result<ReportPaths, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::Io(out_dir.to_path_buf(), e))?;
    let p = |n: &str| out_dir.join(n);
    let write = |path: &Path, bytes: &[u8]| {
        jobshift_core::atomic::write_bytes(path, bytes)
            .map_err(|e| ReportError::Io(path.to_path_buf(), e))
    };

    let doc = json::document(trends);
    let json_bytes =
        serde_json::to_vec_pretty(&doc).map_err(|e| ReportError::Template(e.to_string()))?;
    write(&p("report.json"), &json_bytes)?;

    let mut title_rows: Vec<&jobshift_trends::Series> =
        vec![&trends.baseline, &trends.unclassified];
    title_rows.extend(trends.titles.iter());
    tables::write_series(&p("titles.csv"), trends, &title_rows)?;
    let mut tier_rows: Vec<&jobshift_trends::Series> = vec![&trends.baseline];
    tier_rows.extend(trends.tiers.iter());
    tables::write_series(&p("tiers.csv"), trends, &tier_rows)?;
    let mut fam_rows: Vec<&jobshift_trends::Series> = vec![&trends.baseline];
    fam_rows.extend(trends.families.iter());
    tables::write_series(&p("families.csv"), trends, &fam_rows)?;
    tables::write_movers(&p("movers.csv"), trends)?;
    tables::write_monthly(&p("monthly.csv"), trends)?;

    let mut sql = String::new();
    sql.push_str(&format!(
        "-- jobshift {} report queries, in order. Tables: postings = {}/classified (Parquet),\n\
         -- title_map = title_map.csv (title_id, tier, family); cell = the result of the first query.\n\n",
        trends.inputs.jobshift_version, trends.inputs.dataset
    ));
    for (name, q) in &trends.queries {
        sql.push_str(&format!("-- {name}\n{q};\n\n"));
    }
    write(&p("queries.sql"), sql.as_bytes())?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ReportError::Csv(p("title_map.csv"), e.to_string());
    w.write_record(["title_id", "tier", "family"])
        .map_err(csv_err)?;
    for (id, tier, fam) in &trends.title_map {
        w.write_record([
            id.as_str(),
            tier.as_deref().unwrap_or(""),
            fam.as_deref().unwrap_or(""),
        ])
        .map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ReportError::Csv(p("title_map.csv"), e.to_string()))?;
    write(&p("title_map.csv"), &bytes)?;

    write(&p("report.md"), markdown::render(trends).as_bytes())?;
    write(&p("report.html"), html::render(trends)?.as_bytes())?;

    Ok(ReportPaths {
        dir: out_dir.to_path_buf(),
        html: p("report.html"),
        markdown: p("report.md"),
        json: p("report.json"),
        csv: [
            "titles.csv",
            "tiers.csv",
            "families.csv",
            "movers.csv",
            "monthly.csv",
        ]
        .iter()
        .map(|n| p(n))
        .collect(),
        sql: p("queries.sql"),
    })
}

/// The one-line summary `jobshift report` prints: the window, the market's change, how many
/// titles were ranked, declined, grew and emerged.
pub struct Headline<'a>(pub &'a Trends);

impl std::fmt::Display for Headline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let trends = self.0;
        let (y, p) = (trends.latest_year(), trends.previous_year());
        write!(
            f,
            "{}–{} {y} vs {p}: all postings {} → {} ({}); {} titles ranked, {} decliners, {} gainers, {} emerging",
            trends.window.from,
            trends.window.to,
            format::count(trends.baseline.count(p)),
            format::count(trends.baseline.count(y)),
            format::opct(trends.baseline.change_in(y)),
            trends.titles.iter().filter(|t| t.ranked).count(),
            trends.movers.decliners.len(),
            trends.movers.gainers.len(),
            trends.movers.emerging.len()
        )
    }
}

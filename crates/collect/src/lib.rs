//! jobshift collect: open postings straight from company career sites — the ATS job-board APIs
//! behind them (Greenhouse, Lever, Ashby, SmartRecruiters, Workable, Recruitee, Workday) and
//! schema.org `JobPosting` markup — fetched politely and safely (`fetch`, `netguard`), kept as
//! raw snapshots (`snapshot`), fed through ingest's accounting into a jobshift dataset, run after
//! run, with a per-company history of first/last seen and closed postings (`history`, `run`).
//! With the `clap` feature, `flags` holds `jobshift collect`'s flags. See docs/collect.md.

pub mod companies;
pub mod connectors;
pub mod discover;
pub mod fetch;
#[cfg(feature = "clap")]
pub mod flags;
pub mod history;
pub mod netguard;
pub mod posting;
pub mod report;
pub mod run;
pub mod snapshot;

pub use companies::{parse_companies, read_companies, Ats, CompaniesFile, Company, RowProblem};
pub use fetch::{FetchOptions, Fetcher};
pub use report::{CollectReport, CompanyReport, PostingCounts, Status};
pub use run::{collect, reparse, CollectOptions};

use serde::Serialize;
use std::path::{Path, PathBuf};

/// Errors that stop a collect run. A company's failure never does: it is in the report.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Companies(String),
    #[error("{0}")]
    Options(String),
    #[error("dataset: {0}")]
    Dataset(String),
    #[error("snapshot: {0}")]
    Snapshot(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Ingest(#[from] jobshift_ingest::IngestError),
}

/// One company's health, as `jobshift collect status` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct CompanyHealth {
    pub name: String,
    pub ats: String,
    pub board: String,
    pub last_status: Option<String>,
    pub last_success: Option<String>,
    pub consecutive_failures: u32,
    pub open_postings: u64,
    pub closed_postings: u64,
    /// Postings fetched in each of the last runs, oldest first.
    pub postings_per_run: Vec<u64>,
}

/// The health of every company collected into `dataset`.
pub fn status(dataset: &Path) -> Result<Vec<CompanyHealth>, CollectError> {
    let dir = history::state_dir(dataset);
    let rd = std::fs::read_dir(&dir).map_err(|source| CollectError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut slugs: Vec<String> = rd
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_string)
        })
        .filter(|s| !s.starts_with('.'))
        .collect();
    slugs.sort();
    let mut out = Vec::new();
    for s in slugs {
        let st = history::load(dataset, &s).map_err(CollectError::Dataset)?;
        let open = st.open_postings();
        out.push(CompanyHealth {
            last_status: st.runs.last().map(|r| r.status.clone()),
            postings_per_run: st
                .runs
                .iter()
                .rev()
                .take(10)
                .rev()
                .map(|r| r.fetched)
                .collect(),
            closed_postings: st.postings.len() as u64 - open,
            open_postings: open,
            name: st.name,
            ats: st.ats,
            board: st.board,
            last_success: st.last_success,
            consecutive_failures: st.consecutive_failures,
        });
    }
    Ok(out)
}

/// What `--dry-run` prints for a company: the first request a run would send.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCompany {
    pub name: String,
    pub ats: String,
    pub first_request: Result<String, String>,
}

/// The run's plan without any request: the listing endpoint of each company.
pub fn plan(companies: &[&Company]) -> Vec<PlannedCompany> {
    companies
        .iter()
        .map(|c| PlannedCompany {
            name: c.name.clone(),
            ats: c.ats.name().into(),
            first_request: connectors::first_url(c),
        })
        .collect()
}

/// One line per company: its ATS, last status and success, failures, open and closed postings,
/// and postings per run (what `jobshift collect status` prints).
pub struct HealthTable<'a>(pub &'a [CompanyHealth]);

impl std::fmt::Display for HealthTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<28} {:<15} {:<8} {:<12} {:>5} {:>6} {:>6}  postings per run",
            "company", "ats", "last", "last success", "fails", "open", "closed"
        )?;
        for h in self.0 {
            writeln!(
                f,
                "{:<28} {:<15} {:<8} {:<12} {:>5} {:>6} {:>6}  {}",
                h.name,
                h.ats,
                h.last_status.as_deref().unwrap_or("-"),
                h.last_success.as_deref().unwrap_or("never"),
                h.consecutive_failures,
                h.open_postings,
                h.closed_postings,
                h.postings_per_run
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            )?;
        }
        Ok(())
    }
}

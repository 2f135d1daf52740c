//! `DATASET/collect-report.json`: what the latest collect run did, per company and in total.
//!
//! Per company, every posting fetched is accounted for:
//! `fetched == new + updated + reopened + unchanged + rejected + repeated`.

use crate::companies::RowProblem;
use serde::{Deserialize, Serialize};

/// How a company's run ended. Only `ok` runs close postings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every listing page was read.
    Ok,
    /// Some pages or detail calls failed, or a cap was hit: postings missing from it stay open.
    Partial,
    /// Nothing usable came back (refused, down, malformed...).
    Failed,
}

impl Status {
    /// A listing that broke off: `Failed` when nothing was read yet (its first page),
    /// `Partial` after some pages were.
    pub fn broken_off(first_page: bool) -> Status {
        if first_page {
            Status::Failed
        } else {
            Status::Partial
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Partial => "partial",
            Status::Failed => "failed",
        }
    }
}

/// One company's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyReport {
    pub name: String,
    pub ats: String,
    pub board: String,
    pub status: Status,
    /// Postings received from the company this run (distinct ATS ids).
    pub fetched: u64,
    /// Postings seen for the first time (and not rejected).
    pub new: u64,
    /// Postings seen before whose content changed.
    pub updated: u64,
    /// Open postings missing from this (complete) run: closed today.
    pub closed: u64,
    /// Postings seen before, unchanged: their `last_seen` moves to today.
    pub unchanged: u64,
    /// Postings closed by an earlier run that came back.
    pub reopened: u64,
    /// Postings ingest rejected (reasons in the dataset's `rejects/`).
    pub rejected: u64,
    /// New or updated postings ingest found to be copies of postings already kept.
    pub duplicates: u64,
    /// Listing entries repeating an id already listed (paging overlap, facet splits).
    pub repeated: u64,
    /// Open postings of the company after the run.
    pub open: u64,
    pub errors: Vec<String>,
    pub requests: u64,
    pub seconds: f64,
    /// The snapshot of the run's responses, relative to the dataset.
    pub snapshot: Option<String>,
}

impl CompanyReport {
    /// Every fetched posting is in exactly one bucket.
    pub fn accounting_holds(&self) -> bool {
        self.fetched
            == self.new
                + self.updated
                + self.reopened
                + self.unchanged
                + self.rejected
                + self.repeated
    }
}

/// Ingest's accounting of the postings this run fed it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestSummary {
    pub run_id: String,
    pub read: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub postings_total: u64,
    pub rejects_file: Option<String>,
    pub duplicates_file: Option<String>,
}

/// Politeness settings of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub user_agent: String,
    pub per_host_rate: f64,
    pub concurrency: usize,
    pub allow_private_network: bool,
}

/// The whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectReport {
    pub run_id: String,
    /// The day postings were seen on (UTC): first_seen/last_seen/closed dates.
    pub run_date: String,
    pub started_utc: String,
    pub finished_utc: String,
    pub dataset: String,
    /// Set for `--reparse`: the run whose snapshots were parsed again.
    pub reparse_of: Option<String>,
    /// The run was interrupted before and this invocation finished it.
    pub resumed: bool,
    pub companies: Vec<CompanyReport>,
    pub fetched: u64,
    pub new: u64,
    pub updated: u64,
    pub closed: u64,
    pub unchanged: u64,
    pub reopened: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub repeated: u64,
    pub requests: u64,
    pub seconds: f64,
    pub ok: u64,
    pub partial: u64,
    pub failed: u64,
    /// Rows of the companies file that were skipped, with their lines.
    pub skipped_rows: Vec<RowProblem>,
    pub ingest: Option<IngestSummary>,
    pub settings: RunSettings,
}

impl CollectReport {
    /// Sum the companies into the totals.
    pub fn total(&mut self) {
        let c = &self.companies;
        let sum = |f: fn(&CompanyReport) -> u64| c.iter().map(f).sum::<u64>();
        self.fetched = sum(|r| r.fetched);
        self.new = sum(|r| r.new);
        self.updated = sum(|r| r.updated);
        self.closed = sum(|r| r.closed);
        self.unchanged = sum(|r| r.unchanged);
        self.reopened = sum(|r| r.reopened);
        self.rejected = sum(|r| r.rejected);
        self.duplicates = sum(|r| r.duplicates);
        self.repeated = sum(|r| r.repeated);
        self.requests = sum(|r| r.requests);
        self.ok = c.iter().filter(|r| r.status == Status::Ok).count() as u64;
        self.partial = c.iter().filter(|r| r.status == Status::Partial).count() as u64;
        self.failed = c.iter().filter(|r| r.status == Status::Failed).count() as u64;
    }

    pub fn accounting_holds(&self) -> bool {
        self.companies.iter().all(CompanyReport::accounting_holds)
    }

    /// What `jobshift collect` prints.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "run {}{}: {} companies ({} ok, {} partial, {} failed), {} requests in {:.1} s",
            self.run_id,
            self.reparse_of
                .as_ref()
                .map(|r| format!(" (reparse of {r})"))
                .unwrap_or_default(),
            self.companies.len(),
            self.ok,
            self.partial,
            self.failed,
            self.requests,
            self.seconds
        );
        let _ = writeln!(
            s,
            "postings: fetched {}  new {}  updated {}  unchanged {}  reopened {}  closed {}  rejected {}  duplicates {}",
            self.fetched, self.new, self.updated, self.unchanged, self.reopened, self.closed, self.rejected, self.duplicates
        );
        for c in self.companies.iter().filter(|c| c.status != Status::Ok) {
            let _ = writeln!(
                s,
                "  {} [{}] {}: {}",
                c.name,
                c.ats,
                c.status.name(),
                c.errors.first().map_or("", String::as_str)
            );
        }
        for p in &self.skipped_rows {
            let _ = writeln!(s, "  companies file {p} (skipped)");
        }
        if let Some(i) = &self.ingest {
            let _ = writeln!(
                s,
                "ingest: read {} accepted {} duplicates {} rejected {}; postings in dataset: {}",
                i.read, i.accepted, i.duplicates, i.rejected, i.postings_total
            );
        }
        s
    }
}

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
    /// Where the company's postings went (flattened: the JSON keeps `fetched`, `new`, … here).
    #[serde(flatten)]
    pub postings: PostingCounts,
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
        self.postings.accounting_holds()
    }
}

/// What became of the postings of a company's listing (or, summed, of a whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingCounts {
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
}

impl PostingCounts {
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

impl std::ops::Add for PostingCounts {
    type Output = PostingCounts;
    fn add(self, o: PostingCounts) -> PostingCounts {
        PostingCounts {
            fetched: self.fetched + o.fetched,
            new: self.new + o.new,
            updated: self.updated + o.updated,
            closed: self.closed + o.closed,
            unchanged: self.unchanged + o.unchanged,
            reopened: self.reopened + o.reopened,
            rejected: self.rejected + o.rejected,
            duplicates: self.duplicates + o.duplicates,
            repeated: self.repeated + o.repeated,
        }
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
    /// The companies' counts summed (flattened: the JSON keeps `fetched`, `new`, … here).
    #[serde(flatten)]
    pub postings: PostingCounts,
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
        self.postings = c
            .iter()
            .fold(PostingCounts::default(), |a, r| a + r.postings);
        self.requests = c.iter().map(|r| r.requests).sum();
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
        let p = &self.postings;
        let _ = writeln!(
            s,
            "postings: fetched {}  new {}  updated {}  unchanged {}  reopened {}  closed {}  rejected {}  duplicates {}",
            p.fetched, p.new, p.updated, p.unchanged, p.reopened, p.closed, p.rejected, p.duplicates
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `collect-report.json` keeps its shape: the counts sit flat, in their order, between the
    /// company's status and its open postings (and between the companies and the run's
    /// requests), and read back into the same report.
    #[test]
    fn the_counts_are_flat_in_the_json_and_sum_over_companies() {
        let company = |name: &str, fetched: u64, new: u64| CompanyReport {
            name: name.into(),
            ats: "greenhouse".into(),
            board: name.into(),
            status: Status::Ok,
            postings: PostingCounts {
                fetched,
                new,
                unchanged: fetched - new,
                ..Default::default()
            },
            open: fetched,
            errors: vec![],
            requests: 1,
            seconds: 0.5,
            snapshot: None,
        };
        let mut run = CollectReport {
            companies: vec![company("a", 5, 2), company("b", 3, 3)],
            ..Default::default()
        };
        run.total();
        assert_eq!(
            (run.postings.fetched, run.postings.new, run.requests),
            (8, 5, 2)
        );
        assert!(run.accounting_holds());
        let json = serde_json::to_string(&run).unwrap();
        assert!(
            json.contains(concat!(
                r#""status":"ok","fetched":5,"new":2,"updated":0,"closed":0,"unchanged":3,"#,
                r#""reopened":0,"rejected":0,"duplicates":0,"repeated":0,"open":5,"errors":[]"#
            )),
            "{json}"
        );
        assert!(
            json.contains(concat!(
                r#"}],"fetched":8,"new":5,"updated":0,"closed":0,"unchanged":3,"reopened":0,"#,
                r#""rejected":0,"duplicates":0,"repeated":0,"requests":2,"#
            )),
            "{json}"
        );
        let back: CollectReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, run);
    }
}

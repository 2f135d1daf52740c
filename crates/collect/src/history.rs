//! Incremental history, one file per company (`DATASET/collect/companies/SLUG.json`): every
//! posting ever seen with its first and last day seen and the day it closed, and the company's
//! health (last success, consecutive failures, postings per run). Written atomically after each
//! run; a company's file is only read while that company is processed, so memory does not grow
//! with the number of companies.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs kept in a company's health record.
pub const RUNS_KEPT: usize = 90;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingHistory {
    pub first_seen: String,
    pub last_seen: String,
    /// The day a complete run first missed it; None while open.
    pub closed: Option<String>,
    /// `CollectedPosting::content_hash` of the last version fed to ingest.
    pub hash: String,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run: String,
    pub date: String,
    pub status: String,
    pub fetched: u64,
    pub new: u64,
    pub closed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompanyState {
    pub name: String,
    pub ats: String,
    pub board: String,
    /// The last run applied to this file (a resumed run skips companies already applied).
    pub last_run: Option<String>,
    pub last_success: Option<String>,
    pub consecutive_failures: u32,
    /// The run whose snapshot holds the latest responses (conditional requests, reparse).
    pub last_snapshot_run: Option<String>,
    pub runs: Vec<RunSummary>,
    pub postings: BTreeMap<String, PostingHistory>,
}

impl CompanyState {
    pub fn open_postings(&self) -> u64 {
        self.postings
            .values()
            .filter(|p| p.closed.is_none())
            .count() as u64
    }
}

pub fn state_dir(dataset: &Path) -> PathBuf {
    dataset.join("collect").join("companies")
}

pub fn state_path(dataset: &Path, slug: &str) -> PathBuf {
    state_dir(dataset).join(format!("{slug}.json"))
}

/// The company's state, or an empty one when it was never collected.
pub fn load(dataset: &Path, slug: &str) -> Result<CompanyState, String> {
    let p = state_path(dataset, slug);
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CompanyState::default()),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

pub fn save(dataset: &Path, slug: &str, state: &CompanyState) -> std::io::Result<()> {
    jobshift_core::atomic::write_json(&state_path(dataset, slug), state)
}

//! The task files of a labelling round (`TASKS_DIR`):
//!
//! ```text
//! TASKS_DIR/
//!   tasks.jsonl           one Task per line (what the labelling page serves)
//!   manifest.json         seed, strategy, taxonomy version, counts, gold task ids + answers
//!   catalog.json          the taxonomy snapshot annotators pick from
//!   mturk-input.csv       Mechanical Turk batch input (one row per task)
//!   mturk-question.html   Mechanical Turk HTML question template (${variable} placeholders)
//!   answers.jsonl         the labelling page's append-only answer store (label serve)
//!   tokens.txt            annotator tokens (label serve creates it when none is given)
//! ```

use crate::error::{LabelError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One posting to label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub posting_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The classifier's prediction when the task was drawn (never shown to annotators; kept to
    /// measure the classifier against the crowd later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_title_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_confidence: Option<f32>,
}

/// A known-answer task mixed into the round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldTask {
    pub task_id: String,
    pub posting_id: String,
    pub title_id: String,
}

/// How many candidates a stratum had and how many were drawn from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StratumCount {
    pub available: u64,
    pub drawn: u64,
}

/// What `label sample` did, for reproducibility and for `label import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub jobshift_version: String,
    pub dataset: String,
    /// "classified" or "postings": which part of the dataset was read.
    pub read_from: String,
    pub strategy: String,
    pub seed: u64,
    pub n_requested: usize,
    pub n_tasks: usize,
    pub n_postings: usize,
    pub n_gold: usize,
    pub gold_rate: f64,
    pub taxonomy_version: String,
    pub taxonomy_origin: String,
    /// Postings read as candidates (all rows of the dataset, minus gold postings).
    pub candidates_seen: u64,
    /// Per predicted family (stratified) or a single "all" stratum.
    pub strata: BTreeMap<String, StratumCount>,
    pub gold: Vec<GoldTask>,
    pub mturk: MturkInfo,
}

/// What the Mechanical Turk files hold (see [`crate::mturk`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MturkInfo {
    pub template_bytes: usize,
    pub aliases_embedded: usize,
    pub aliases_dropped: usize,
    pub description_max_chars: usize,
    pub descriptions_truncated: usize,
    /// Mechanical Turk's question limit the template was sized for (65,535 bytes).
    #[serde(default)]
    pub question_limit_bytes: usize,
    /// The largest question of the batch: template + largest row (HTML-escaped) + XML wrapper.
    #[serde(default)]
    pub largest_question_bytes: usize,
    #[serde(default)]
    pub titles_embedded: usize,
    #[serde(default)]
    pub titles_total: usize,
    /// Share of the taxonomy's aliases the picker carries.
    #[serde(default)]
    pub alias_coverage: f64,
    /// How the catalog is embedded ("zlib+base85").
    #[serde(default)]
    pub catalog_encoding: String,
}

pub const MANIFEST_FORMAT: &str = "jobshift-label-tasks/1";

/// Paths inside a tasks directory.
#[derive(Debug, Clone)]
pub struct TasksDir {
    root: PathBuf,
}

impl TasksDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        TasksDir { root: root.into() }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn tasks(&self) -> PathBuf {
        self.root.join("tasks.jsonl")
    }
    pub fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }
    pub fn catalog(&self) -> PathBuf {
        self.root.join("catalog.json")
    }
    pub fn mturk_input(&self) -> PathBuf {
        self.root.join("mturk-input.csv")
    }
    pub fn mturk_question(&self) -> PathBuf {
        self.root.join("mturk-question.html")
    }
    pub fn answers(&self) -> PathBuf {
        self.root.join("answers.jsonl")
    }
    pub fn tokens(&self) -> PathBuf {
        self.root.join("tokens.txt")
    }
}

/// Write `tasks.jsonl` atomically.
pub fn write_tasks(path: &Path, tasks: &[Task]) -> Result<()> {
    jobshift_core::atomic::write_jsonl(path, tasks).map_err(|e| LabelError::io(path, e))
}

/// Read `tasks.jsonl`. Every bad line is reported with its number; duplicate task ids too.
pub fn read_tasks(path: &Path) -> Result<Vec<Task>> {
    let f = std::fs::File::open(path).map_err(|e| LabelError::io(path, e))?;
    let mut out: Vec<Task> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut problems = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| LabelError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Task>(&line) {
            Ok(t) => {
                if !seen.insert(t.task_id.clone()) {
                    problems.push(format!(
                        "line {}: task id {} appears twice",
                        i + 1,
                        t.task_id
                    ));
                } else {
                    out.push(t);
                }
            }
            Err(e) => problems.push(format!("line {}: not a task ({e})", i + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(LabelError::bad_file(
            path,
            format!(
                "{} bad line(s); fix or re-create the file with `jobshift label sample`:\n  {}",
                problems.len(),
                problems.join("\n  ")
            ),
        ));
    }
    Ok(out)
}

pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = std::fs::read(path).map_err(|e| LabelError::io(path, e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| LabelError::bad_file(path, format!("not a jobshift label manifest ({e})")))
}

/// Stable task id of a posting.
pub fn task_id_for(posting_id: &str) -> String {
    let h = jobshift_core::normalize::content_hash(&["jobshift-label-task", posting_id]);
    format!("t{}", &h[..15])
}

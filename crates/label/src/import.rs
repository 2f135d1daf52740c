//! `label import`: read crowd answers, check every one, aggregate, and write training labels.
//!
//! Inputs (any mix, in the order given):
//! - Mechanical Turk batch results CSVs (`*.csv`): `WorkerId`, `AssignmentId`,
//!   `AssignmentStatus`, `HITId`, `Input.*` and the answer as `Answer.title_id` (our template) or
//!   inside the `Answer.taskAnswers` JSON (crowd-form's default format);
//! - the labelling page's store: a tasks directory (`answers.jsonl` + `tasks.jsonl`) or the
//!   `answers.jsonl` file itself.
//!
//! Every input row ends up either accepted or in the rejects file with its origin (file:line),
//! reason and raw content; every reason is counted in the report. Rules:
//! - malformed rows (wrong number of fields, no worker, no answer) → rejected;
//! - answers that are not a title id of the taxonomy (or `none_fits`) → rejected;
//! - Mechanical Turk assignments marked Rejected → rejected;
//! - the same assignment twice (a results file passed twice) → the copy is rejected;
//! - a worker answering the same task twice → the later answer counts, the earlier is rejected
//!   as superseded (on the page this is an annotator changing an answer: counted as a revision);
//! - workers with a single answer are kept (their reliability is the prior) and listed.
//!
//! Aggregation: majority vote and Dawid–Skene ([`crate::aggregate`]); gold postings (from
//! `--gold`, or the manifest of a tasks directory) give each worker's accuracy on known answers,
//! clamp Dawid–Skene, and measure majority vote vs Dawid–Skene (run without clamping) on gold.

use crate::aggregate::{self, Annotation, DsOptions};
use crate::catalog::TitleCatalog;
use crate::error::{LabelError, Result};
use crate::store::read_records;
use crate::tasks::{read_manifest, read_tasks, TasksDir};
use crate::NONE_FITS;
use jobshift_core::labels::{LabelSource, LabeledExample};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Workers need at least this many answers before their *estimated* reliability can flag them.
pub const MIN_ANSWERS_TO_FLAG_ON_ESTIMATE: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    DawidSkene,
    Majority,
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "dawid_skene" | "ds" => Ok(Method::DawidSkene),
            "majority" | "mv" | "majority_vote" => Ok(Method::Majority),
            _ => Err(format!(
                "unknown method {s:?}; expected dawid-skene or majority"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    /// Report path (default: `<out>` with extension `report.json`).
    pub report: Option<PathBuf>,
    /// A gold `LabeledExample` JSONL (matched by posting id) or a tasks `manifest.json`.
    pub gold: Option<PathBuf>,
    pub min_worker_accuracy: f64,
    /// Gold answers a worker needs before their gold accuracy can flag them.
    pub min_gold_answers: usize,
    pub method: Method,
    /// Re-aggregate without the flagged workers' answers.
    pub exclude_flagged: bool,
}

/// One rejected input row.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    pub origin: String,
    pub reason: String,
    pub message: String,
    pub raw: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub path: String,
    pub kind: String,
    pub rows: usize,
    pub accepted: usize,
    pub rejected: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkerReport {
    pub worker: String,
    pub answers: usize,
    pub gold_answers: usize,
    pub gold_correct: usize,
    pub gold_accuracy: Option<f64>,
    /// Dawid–Skene reliability (probability of a correct answer).
    pub estimated_accuracy: f64,
    /// Share of answers equal to the majority of the *other* workers on the posting.
    pub agreement_with_others: Option<f64>,
    pub flagged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoldEvaluation {
    pub items: usize,
    pub majority_accuracy: f64,
    /// Dawid–Skene run without clamping gold (a fair comparison).
    pub dawid_skene_accuracy: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub format: String,
    pub taxonomy_version: String,
    pub method: Method,
    pub dawid_skene_model: String,
    pub inputs: Vec<InputSummary>,
    pub rows_read: usize,
    pub answers_accepted: usize,
    pub rejected_by_reason: BTreeMap<String, usize>,
    pub page_revisions: usize,
    pub items: usize,
    pub gold_items: usize,
    pub items_with_one_answer: usize,
    /// Labels written, `none_fits` ones included.
    pub labels_written: usize,
    /// Postings whose aggregate answer is "none fits" (written with the title id `none_fits`).
    pub none_fits: usize,
    pub items_without_text: usize,
    pub majority_vs_dawid_skene_disagreements: usize,
    pub krippendorff_alpha: Option<f64>,
    pub pairable_items: usize,
    pub gold_evaluation: Option<GoldEvaluation>,
    pub workers: Vec<WorkerReport>,
    pub workers_with_one_answer: Vec<String>,
    pub flagged_workers: Vec<String>,
    pub excluded_flagged: bool,
    pub ds_iterations: usize,
    pub ds_converged: bool,
    pub messages: Vec<String>,
    pub labels_path: String,
    pub rejects_path: String,
}

/// An answer that passed the checks.
#[derive(Debug, Clone)]
struct Accepted {
    origin: String,
    task: String,
    worker: String,
    answer: String,
    /// MTurk assignment id (to find the same assignment twice).
    assignment: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct PostingText {
    posting_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

#[derive(Default)]
struct Collected {
    accepted: Vec<Accepted>,
    rejects: Vec<Reject>,
    inputs: Vec<InputSummary>,
    texts: HashMap<String, PostingText>,
    gold_by_task: HashMap<String, String>,
    gold_by_posting: HashMap<String, String>,
    page_revisions: usize,
    rows_read: usize,
    messages: Vec<String>,
}

impl Collected {
    fn reject(&mut self, origin: String, reason: &str, message: String, raw: String) {
        self.rejects.push(Reject {
            origin,
            reason: reason.to_string(),
            message,
            raw,
        });
    }
}

/// Run the import and write labels, rejects and the report.
pub fn import(opts: &ImportOptions, catalog: &TitleCatalog) -> Result<ImportReport> {
    if opts.inputs.is_empty() {
        return Err(LabelError::Invalid(
            "no inputs: pass Mechanical Turk results CSVs and/or labelling tasks directories"
                .into(),
        ));
    }
    let mut c = Collected::default();
    if let Some(g) = &opts.gold {
        read_gold_file(g, catalog, &mut c)?;
    }
    for input in &opts.inputs {
        let before_acc = c.accepted.len();
        let before_rej = c.rejects.len();
        let before_rows = c.rows_read;
        let kind = if input.is_dir() {
            read_tasks_dir(input, catalog, &mut c)?;
            "labelling page (tasks directory)"
        } else if input.extension().is_some_and(|e| e == "csv") {
            read_mturk_csv(input, catalog, &mut c)?;
            "Mechanical Turk results CSV"
        } else if input.extension().is_some_and(|e| e == "jsonl") {
            let dir = input.parent().unwrap_or(Path::new("."));
            read_page_store(input, dir, catalog, &mut c)?;
            "labelling page store"
        } else {
            return Err(LabelError::bad_file(
                input,
                "is not a results .csv, an answers .jsonl or a tasks directory",
            ));
        };
        c.inputs.push(InputSummary {
            path: input.display().to_string(),
            kind: kind.to_string(),
            rows: c.rows_read - before_rows,
            accepted: c.accepted.len() - before_acc,
            rejected: c.rejects.len() - before_rej,
        });
    }
    let dedup = dedup_answers(std::mem::take(&mut c.accepted), &mut c);
    aggregate_and_write(opts, catalog, dedup, c)
}

fn read_gold_file(path: &Path, catalog: &TitleCatalog, c: &mut Collected) -> Result<()> {
    if path.extension().is_some_and(|e| e == "json") {
        let m = read_manifest(path)?;
        for g in m.gold {
            c.gold_by_task.insert(g.task_id, g.title_id.clone());
            c.gold_by_posting.insert(g.posting_id, g.title_id);
        }
        return Ok(());
    }
    let f = std::fs::File::open(path).map_err(|e| LabelError::io(path, e))?;
    let mut problems = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| LabelError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LabeledExample>(&line) {
            Ok(ex) => {
                if !catalog.contains(&ex.title_id) {
                    problems.push(format!(
                        "line {}: unknown title id {:?}",
                        i + 1,
                        ex.title_id
                    ));
                    continue;
                }
                match ex.posting_id {
                    Some(p) => {
                        c.gold_by_posting.insert(p, ex.title_id);
                    }
                    None => problems.push(format!(
                        "line {}: gold example has no posting_id, so no answer can be matched to it",
                        i + 1
                    )),
                }
            }
            Err(e) => problems.push(format!("line {}: not a LabeledExample ({e})", i + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(LabelError::bad_file(path, problems.join("; ")));
    }
    Ok(())
}

fn add_tasks(dir: &Path, c: &mut Collected) -> Result<bool> {
    let td = TasksDir::new(dir);
    if !td.tasks().exists() {
        return Ok(false);
    }
    for t in read_tasks(&td.tasks())? {
        c.texts.insert(
            t.task_id.clone(),
            PostingText {
                posting_id: Some(t.posting_id.clone()),
                title: Some(t.title.clone()),
                description: t.description.clone(),
            },
        );
    }
    if td.manifest().exists() {
        for g in read_manifest(&td.manifest())?.gold {
            c.gold_by_task.insert(g.task_id, g.title_id.clone());
            c.gold_by_posting.insert(g.posting_id, g.title_id);
        }
    }
    Ok(true)
}

fn read_tasks_dir(dir: &Path, catalog: &TitleCatalog, c: &mut Collected) -> Result<()> {
    let td = TasksDir::new(dir);
    if !td.tasks().exists() {
        return Err(LabelError::bad_file(
            dir,
            "has no tasks.jsonl; is it a `jobshift label sample` output?",
        ));
    }
    if !td.answers().exists() {
        c.messages.push(format!(
            "{}: no answers.jsonl yet (the labelling page saved nothing); only its tasks and gold were read",
            dir.display()
        ));
        add_tasks(dir, c)?;
        return Ok(());
    }
    read_page_store(&td.answers(), dir, catalog, c)
}

fn read_page_store(
    path: &Path,
    dir: &Path,
    catalog: &TitleCatalog,
    c: &mut Collected,
) -> Result<()> {
    let have_tasks = add_tasks(dir, c)?;
    let (records, bad) = read_records(path)?;
    c.rows_read += records.len() + bad.len();
    let name = path.display().to_string();
    for b in bad {
        c.reject(
            format!("{name}:{}", b.line),
            "malformed_row",
            b.message,
            b.raw,
        );
    }
    // Latest record per (task, annotator) is the answer; earlier ones are revisions.
    let mut latest: HashMap<(String, String), usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let k = (r.task_id.clone(), r.annotator.clone());
        match latest.get(&k) {
            Some(&j) if records[j].seq > r.seq => {}
            _ => {
                latest.insert(k, i);
            }
        }
    }
    for (i, r) in records.iter().enumerate() {
        let origin = format!("{name}:seq {}", r.seq);
        let raw = serde_json::to_string(r).unwrap_or_default();
        if latest.get(&(r.task_id.clone(), r.annotator.clone())) != Some(&i) {
            c.page_revisions += 1;
            c.reject(
                origin,
                "superseded_by_revision",
                "the annotator changed this answer later; the later answer counts".into(),
                raw,
            );
            continue;
        }
        if have_tasks && !c.texts.contains_key(&r.task_id) {
            c.reject(
                origin,
                "unknown_task",
                format!("task {} is not in {}/tasks.jsonl", r.task_id, dir.display()),
                raw,
            );
            continue;
        }
        let answer = r.answer.trim();
        if !catalog.is_valid_answer(answer) {
            c.reject(
                origin,
                "unknown_title_id",
                format!(
                    "{answer:?} is not a title id of taxonomy {}",
                    catalog.version
                ),
                raw,
            );
            continue;
        }
        c.accepted.push(Accepted {
            origin,
            task: r.task_id.clone(),
            worker: format!("page:{}", r.annotator),
            answer: answer.to_string(),
            assignment: None,
        });
    }
    Ok(())
}

/// The columns of a Mechanical Turk batch results file that import reads.
struct MturkColumns {
    headers: Vec<String>,
    worker: Option<usize>,
    answer: Option<usize>,
    task_answers: Option<usize>,
    task: Option<usize>,
    /// The required columns the file lacks (every row is then rejected).
    missing: Vec<&'static str>,
}

impl MturkColumns {
    fn read(rdr: &mut csv::Reader<std::fs::File>, path: &Path) -> Result<Self> {
        let headers: Vec<String> = match rdr.byte_headers() {
            Ok(h) => h
                .iter()
                // A byte-order mark (a file re-saved by Excel) is not part of the first name.
                .map(|f| {
                    String::from_utf8_lossy(f)
                        .trim_start_matches('\u{feff}')
                        .trim()
                        .to_string()
                })
                .collect(),
            Err(e) => {
                return Err(LabelError::bad_file(
                    path,
                    format!("cannot read the header row: {e}"),
                ))
            }
        };
        let col = |n: &str| headers.iter().position(|h| h == n);
        let (worker, answer, task_answers) = (
            col("WorkerId"),
            col("Answer.title_id"),
            col("Answer.taskAnswers"),
        );
        let task = col("Input.task_id").or_else(|| col("HITId"));
        let mut missing = Vec::new();
        if worker.is_none() {
            missing.push("WorkerId");
        }
        if answer.is_none() && task_answers.is_none() {
            missing.push("Answer.title_id (or Answer.taskAnswers)");
        }
        if task.is_none() {
            missing.push("Input.task_id (or HITId)");
        }
        Ok(MturkColumns {
            headers,
            worker,
            answer,
            task_answers,
            task,
            missing,
        })
    }

    fn col(&self, n: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == n)
    }

    /// Checks one row (`origin`: file:line) and records it as accepted or rejected with a reason.
    fn row(&self, fields: Vec<String>, origin: String, catalog: &TitleCatalog, c: &mut Collected) {
        let raw = fields.join(",");
        if !self.missing.is_empty() {
            c.reject(
                origin,
                "malformed_file",
                format!(
                    "the file lacks column(s) {}; found: {}",
                    self.missing.join(", "),
                    self.headers.join(", ")
                ),
                raw,
            );
            return;
        }
        if fields.len() != self.headers.len() {
            c.reject(
                origin,
                "malformed_row",
                format!(
                    "{} fields but the header has {}",
                    fields.len(),
                    self.headers.len()
                ),
                raw,
            );
            return;
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let Some(worker) = get(self.worker) else {
            c.reject(origin, "malformed_row", "empty WorkerId".into(), raw);
            return;
        };
        let Some(task) = get(self.task) else {
            c.reject(
                origin,
                "malformed_row",
                "empty task id (Input.task_id / HITId)".into(),
                raw,
            );
            return;
        };
        if get(self.col("AssignmentStatus")).is_some_and(|s| s.eq_ignore_ascii_case("Rejected")) {
            c.reject(
                origin,
                "assignment_rejected",
                "the assignment was rejected on Mechanical Turk".into(),
                raw,
            );
            return;
        }
        let task_answers = get(self.task_answers);
        if get(self.answer).is_none() {
            if let Some(Err(e)) = task_answers
                .as_deref()
                .map(serde_json::from_str::<serde_json::Value>)
            {
                c.reject(
                    origin,
                    "malformed_row",
                    format!("Answer.taskAnswers is not valid JSON ({e})"),
                    raw,
                );
                return;
            }
        }
        let answer =
            get(self.answer).or_else(|| task_answers.and_then(|j| answer_from_task_answers(&j)));
        let Some(answer) = answer else {
            c.reject(
                origin,
                "no_answer",
                "no title was chosen (Answer.title_id is empty)".into(),
                raw,
            );
            return;
        };
        if !catalog.is_valid_answer(&answer) {
            c.reject(
                origin,
                "unknown_title_id",
                format!(
                    "{answer:?} is not a title id of taxonomy {}",
                    catalog.version
                ),
                raw,
            );
            return;
        }
        // Posting text from the Input.* columns, unless a tasks.jsonl already gave it.
        // (the batch input holds them HTML-escaped, see `mturk::write_mturk_files`)
        let input = |name: &str| get(self.col(name)).map(|v| crate::mturk::unescape_html(&v));
        let text = PostingText {
            posting_id: input("Input.posting_id"),
            title: input("Input.title"),
            description: input("Input.description"),
        };
        c.texts.entry(task.clone()).or_insert(text);
        c.accepted.push(Accepted {
            origin,
            task,
            worker: format!("mturk:{worker}"),
            answer,
            assignment: get(self.col("AssignmentId")),
        });
    }
}

fn read_mturk_csv(path: &Path, catalog: &TitleCatalog, c: &mut Collected) -> Result<()> {
    let name = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| LabelError::bad_file(path, format!("cannot open as CSV: {e}")))?;
    let cols = MturkColumns::read(&mut rdr, path)?;
    let mut rec = csv::ByteRecord::new();
    let mut line = 1usize;
    loop {
        let more = match rdr.read_byte_record(&mut rec) {
            Ok(m) => m,
            Err(e) => {
                // Unreadable bytes: count it, keep the position, go on with the next record.
                c.rows_read += 1;
                let l = e.position().map_or(line + 1, |p| p.line() as usize);
                c.reject(
                    format!("{name}:{l}"),
                    "malformed_row",
                    format!("unreadable CSV record: {e}"),
                    String::new(),
                );
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        };
        if !more {
            break;
        }
        c.rows_read += 1;
        line = rec.position().map_or(line + 1, |p| p.line() as usize);
        let fields: Vec<String> = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        cols.row(fields, format!("{name}:{line}"), catalog, c);
    }
    if !cols.missing.is_empty() {
        c.messages.push(format!(
            "{name}: every row rejected: the file lacks column(s) {}",
            cols.missing.join(", ")
        ));
    }
    Ok(())
}

/// `Answer.taskAnswers` is a JSON array with one object per page: `[{"title_id":"..."}]`
/// (a value may itself be an object like `{"data_engineer": true}` for radio groups).
fn answer_from_task_answers(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let first = match &v {
        serde_json::Value::Array(a) => a.first()?.clone(),
        other => other.clone(),
    };
    match first.get("title_id")? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Object(m) => m
            .iter()
            .find(|(_, v)| v.as_bool() == Some(true))
            .map(|(k, _)| k.clone()),
        _ => None,
    }
}

/// Same assignment twice → drop copies; same (task, worker) twice → the later one counts.
fn dedup_answers(accepted: Vec<Accepted>, c: &mut Collected) -> Vec<Accepted> {
    let mut seen_assign: HashMap<String, usize> = HashMap::new();
    let mut latest: HashMap<(String, String), usize> = HashMap::new();
    let mut keep = vec![true; accepted.len()];
    for (i, a) in accepted.iter().enumerate() {
        if let Some(asg) = &a.assignment {
            if let Some(&j) = seen_assign.get(asg) {
                keep[i] = false;
                c.reject(
                    a.origin.clone(),
                    "duplicate_assignment",
                    format!(
                        "assignment {asg} already read at {}; the copy is ignored",
                        accepted[j].origin
                    ),
                    raw_of(a),
                );
                continue;
            }
            seen_assign.insert(asg.clone(), i);
        }
        let k = (a.task.clone(), a.worker.clone());
        if let Some(&j) = latest.get(&k) {
            keep[j] = false;
            let e = &accepted[j];
            c.reject(
                e.origin.clone(),
                "answered_twice",
                format!(
                    "{} answered task {} again at {}; the later answer counts",
                    e.worker, e.task, a.origin
                ),
                raw_of(e),
            );
        }
        latest.insert(k, i);
    }
    accepted
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(a, _)| a)
        .collect()
}

fn raw_of(a: &Accepted) -> String {
    serde_json::json!({"task": a.task, "worker": a.worker, "answer": a.answer, "assignment": a.assignment}).to_string()
}

/// The answers as indices (sorted: deterministic): items (tasks), workers and classes (every
/// answer and gold label), with each item's gold class when it has one.
struct Indexed {
    items: Vec<String>,
    workers: Vec<String>,
    classes: Vec<String>,
    annotations: Vec<Annotation>,
    gold: Vec<Option<usize>>,
}

impl Indexed {
    fn new(answers: &[Accepted], c: &Collected) -> Self {
        let mut items: Vec<String> = answers.iter().map(|a| a.task.clone()).collect();
        items.sort();
        items.dedup();
        let mut workers: Vec<String> = answers.iter().map(|a| a.worker.clone()).collect();
        workers.sort();
        workers.dedup();
        let gold_of = |task: &str| -> Option<String> {
            c.gold_by_task.get(task).cloned().or_else(|| {
                c.texts
                    .get(task)
                    .and_then(|t| t.posting_id.as_ref())
                    .and_then(|p| c.gold_by_posting.get(p).cloned())
            })
        };
        let gold_answers: Vec<Option<String>> = items.iter().map(|t| gold_of(t)).collect();
        let mut classes: Vec<String> = answers.iter().map(|a| a.answer.clone()).collect();
        classes.extend(gold_answers.iter().flatten().cloned());
        classes.sort();
        classes.dedup();
        let item_ix: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let worker_ix: HashMap<&str, usize> = workers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let class_ix: HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let annotations: Vec<Annotation> = answers
            .iter()
            .map(|a| Annotation {
                item: item_ix[a.task.as_str()],
                worker: worker_ix[a.worker.as_str()],
                label: class_ix[a.answer.as_str()],
            })
            .collect();
        let gold: Vec<Option<usize>> = gold_answers
            .iter()
            .map(|g| g.as_ref().map(|g| class_ix[g.as_str()]))
            .collect();
        Indexed {
            items,
            workers,
            classes,
            annotations,
            gold,
        }
    }
}

/// Per worker: answers, gold answers and the right ones, and (agreeing, compared) with the
/// majority of the other answers on the same items.
struct WorkerCounts {
    answers: Vec<usize>,
    gold: Vec<usize>,
    gold_right: Vec<usize>,
    agree: Vec<(usize, usize)>,
}

impl WorkerCounts {
    fn new(ix: &Indexed) -> Self {
        let (ni, nw) = (ix.items.len(), ix.workers.len());
        let (all_anns, gold) = (&ix.annotations, &ix.gold);
        // Per-worker gold accuracy and answer counts.
        let mut n_ans = vec![0usize; nw];
        let mut gold_n = vec![0usize; nw];
        let mut gold_ok = vec![0usize; nw];
        for a in all_anns {
            n_ans[a.worker] += 1;
            if let Some(g) = gold[a.item] {
                gold_n[a.worker] += 1;
                gold_ok[a.worker] += usize::from(g == a.label);
            }
        }
        // Agreement with the majority of the other answers on the item.
        let mut by_item: Vec<Vec<(usize, usize)>> = vec![Vec::new(); ni];
        for a in all_anns {
            by_item[a.item].push((a.worker, a.label));
        }
        let mut agree = vec![(0usize, 0usize); nw];
        for answers in &by_item {
            for &(w, l) in answers {
                let mut counts: HashMap<usize, usize> = HashMap::new();
                for &(w2, l2) in answers {
                    if w2 != w {
                        *counts.entry(l2).or_default() += 1;
                    }
                }
                if let Some(&top) = counts.values().max() {
                    agree[w].1 += 1;
                    if counts.get(&l) == Some(&top) {
                        agree[w].0 += 1;
                    }
                }
            }
        }

        WorkerCounts {
            answers: n_ans,
            gold: gold_n,
            gold_right: gold_ok,
            agree,
        }
    }
}

/// Why each worker is flagged (`None`: not flagged): gold accuracy below the minimum when they
/// answered enough gold items, else Dawid–Skene's estimate below it over enough answers.
fn flag_workers(
    opts: &ImportOptions,
    counts: &WorkerCounts,
    worker_accuracy: &[f64],
) -> Vec<Option<String>> {
    let (n_ans, gold_n, gold_ok) = (&counts.answers, &counts.gold, &counts.gold_right);
    let nw = n_ans.len();
    let mut flagged = vec![None::<String>; nw];
    for w in 0..nw {
        if gold_n[w] >= opts.min_gold_answers.max(1) {
            let acc = gold_ok[w] as f64 / gold_n[w] as f64;
            if acc < opts.min_worker_accuracy {
                flagged[w] = Some(format!(
                    "gold accuracy {acc:.2} on {} gold answers is below {}",
                    gold_n[w], opts.min_worker_accuracy
                ));
            }
        } else if n_ans[w] >= MIN_ANSWERS_TO_FLAG_ON_ESTIMATE
            && worker_accuracy[w] < opts.min_worker_accuracy
        {
            flagged[w] = Some(format!(
                "estimated accuracy {:.2} over {} answers is below {} (too few gold answers to judge on gold)",
                worker_accuracy[w], n_ans[w], opts.min_worker_accuracy
            ));
        }
    }
    flagged
}

/// On the items with a gold label: majority vote against Dawid–Skene without clamping to gold.
fn gold_evaluation(
    ix: &Indexed,
    anns: &[Annotation],
    mv: &[Option<aggregate::Vote>],
    ds_opts: &DsOptions,
) -> Option<GoldEvaluation> {
    let (ni, nw, nk) = (ix.items.len(), ix.workers.len(), ix.classes.len());
    let gold = &ix.gold;
    let gold_items: Vec<usize> = (0..ni).filter(|&i| gold[i].is_some()).collect();
    if gold_items.is_empty() {
        None
    } else {
        let ds_free = aggregate::dawid_skene(ni, nw, nk, anns, &[], ds_opts);
        let scored: Vec<usize> = gold_items
            .iter()
            .copied()
            .filter(|&i| mv[i].is_some())
            .collect();
        let n = scored.len().max(1) as f64;
        Some(GoldEvaluation {
            items: scored.len(),
            majority_accuracy: scored
                .iter()
                .filter(|&&i| mv[i].as_ref().map(|v| v.label) == gold[i])
                .count() as f64
                / n,
            dawid_skene_accuracy: scored
                .iter()
                .filter(|&&i| ds_free.best(i).map(|b| b.0) == gold[i])
                .count() as f64
                / n,
        })
    }
}

/// The labels written, and what kept the others out.
struct Chosen {
    labels: Vec<LabeledExample>,
    /// Items whose answer is "none of these fits".
    none_fits: usize,
    /// Items without posting text (no title to write).
    without_text: usize,
    /// Items where majority vote and Dawid-Skene pick different titles.
    disagreements: usize,
    /// Items with a single answer.
    single: usize,
}

/// One label per non-gold item, by the chosen aggregation method.
fn choose_labels(
    opts: &ImportOptions,
    ix: &Indexed,
    c: &Collected,
    mv: &[Option<aggregate::Vote>],
    ds: &aggregate::DsResult,
) -> Chosen {
    let mut labels = Vec::new();
    let (mut none_fits, mut without_text, mut disagreements, mut single) = (0, 0, 0, 0);
    for (i, vote) in mv.iter().enumerate().take(ix.items.len()) {
        let Some(vote) = vote else { continue };
        if vote.answers == 1 {
            single += 1;
        }
        let ds_best = ds.best(i);
        if ds_best.map(|b| b.0) != Some(vote.label) {
            disagreements += 1;
        }
        if ix.gold[i].is_some() {
            continue; // gold postings already have their label
        }
        let (label, conf) = match opts.method {
            Method::DawidSkene => match ds_best {
                Some(b) => b,
                None => continue,
            },
            Method::Majority => (vote.label, vote.share),
        };
        // written too: training skips them, a re-fit's labelled neighbours learn from them
        if ix.classes[label] == NONE_FITS {
            none_fits += 1;
        }
        let text = c.texts.get(&ix.items[i]).cloned().unwrap_or_default();
        let Some(title) = text.title.filter(|t| !t.trim().is_empty()) else {
            without_text += 1;
            continue;
        };
        labels.push(LabeledExample {
            title,
            description: text.description,
            title_id: ix.classes[label].clone(),
            source: LabelSource::Crowd,
            confidence: conf as f32,
            posting_id: text.posting_id.or_else(|| Some(ix.items[i].clone())),
        });
    }
    Chosen {
        labels,
        none_fits,
        without_text,
        disagreements,
        single,
    }
}

/// Each worker's answers, gold score, estimated accuracy, agreement and flag.
fn worker_reports(
    ix: &Indexed,
    counts: &WorkerCounts,
    ds_full: &aggregate::DsResult,
    flagged: &[Option<String>],
) -> Vec<WorkerReport> {
    let (n_ans, gold_n, gold_ok, agree) = (
        &counts.answers,
        &counts.gold,
        &counts.gold_right,
        &counts.agree,
    );
    (0..ix.workers.len())
        .map(|w| WorkerReport {
            worker: ix.workers[w].clone(),
            answers: n_ans[w],
            gold_answers: gold_n[w],
            gold_correct: gold_ok[w],
            gold_accuracy: (gold_n[w] > 0).then(|| gold_ok[w] as f64 / gold_n[w] as f64),
            estimated_accuracy: ds_full.worker_accuracy[w],
            agreement_with_others: (agree[w].1 > 0).then(|| agree[w].0 as f64 / agree[w].1 as f64),
            flagged: flagged[w].is_some(),
            flag_reason: flagged[w].clone(),
        })
        .collect()
}

fn aggregate_and_write(
    opts: &ImportOptions,
    catalog: &TitleCatalog,
    answers: Vec<Accepted>,
    mut c: Collected,
) -> Result<ImportReport> {
    let ix = Indexed::new(&answers, &c);
    let (ni, nw, nk) = (ix.items.len(), ix.workers.len(), ix.classes.len());
    let (workers, gold) = (&ix.workers, &ix.gold);
    let all_anns = &ix.annotations;
    let ds_opts = DsOptions::default();
    let counts = WorkerCounts::new(&ix);
    let n_ans = &counts.answers;

    let ds_full = aggregate::dawid_skene(ni, nw, nk, all_anns, gold, &ds_opts);
    let flagged = flag_workers(opts, &counts, &ds_full.worker_accuracy);
    let anns: Vec<Annotation> = if opts.exclude_flagged {
        all_anns
            .iter()
            .copied()
            .filter(|a| flagged[a.worker].is_none())
            .collect()
    } else {
        all_anns.clone()
    };
    let ds = if opts.exclude_flagged {
        aggregate::dawid_skene(ni, nw, nk, &anns, gold, &ds_opts)
    } else {
        ds_full.clone()
    };
    let mv = aggregate::majority_vote(ni, &anns);

    let gold_items = gold.iter().filter(|g| g.is_some()).count();
    let gold_evaluation = gold_evaluation(&ix, &anns, &mv, &ds_opts);

    // Agreement.
    let label_lists: Vec<Vec<usize>> = {
        let mut v: Vec<Vec<usize>> = vec![Vec::new(); ni];
        for a in &anns {
            v[a.item].push(a.label);
        }
        v
    };
    let pairable_items = label_lists.iter().filter(|l| l.len() >= 2).count();
    let alpha = aggregate::krippendorff_alpha_nominal(&label_lists);

    let Chosen {
        labels,
        none_fits,
        without_text,
        disagreements,
        single,
    } = choose_labels(opts, &ix, &c, &mv, &ds);
    if without_text > 0 {
        c.messages.push(format!(
            "{without_text} aggregated posting(s) have no posting text (no Input.title column and no tasks.jsonl): pass the tasks directory too; they were not written"
        ));
    }
    let one_answer: Vec<String> = (0..nw)
        .filter(|&w| n_ans[w] == 1)
        .map(|w| workers[w].clone())
        .collect();
    if !one_answer.is_empty() {
        c.messages.push(format!(
            "{} worker(s) gave a single answer; their answers count, but their reliability is only the prior ({}): {}",
            one_answer.len(),
            ds_opts.accuracy_prior.0 / (ds_opts.accuracy_prior.0 + ds_opts.accuracy_prior.1),
            one_answer.join(", ")
        ));
    }
    let mut rejected_by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for r in &c.rejects {
        *rejected_by_reason.entry(r.reason.clone()).or_default() += 1;
    }
    for (reason, n) in &rejected_by_reason {
        if reason != "superseded_by_revision" {
            c.messages.push(format!(
                "{n} answer(s) set aside: {reason} (see the rejects file)"
            ));
        }
    }
    let worker_reports = worker_reports(&ix, &counts, &ds_full, &flagged);

    // Write outputs.
    let out = &opts.out;
    jobshift_core::atomic::write_jsonl(out, &labels).map_err(|e| LabelError::io(out, e))?;
    let rejects_path = sibling(out, "rejects.jsonl");
    jobshift_core::atomic::write_jsonl(&rejects_path, &c.rejects)
        .map_err(|e| LabelError::io(&rejects_path, e))?;
    let report = ImportReport {
        format: "jobshift-label-import/1".into(),
        taxonomy_version: catalog.version.clone(),
        method: opts.method,
        dawid_skene_model: "per-worker one-coin accuracy (Beta(2,2) prior) + shared error confusion (Dirichlet 0.5 smoothing); candidates = answers given".into(),
        inputs: c.inputs,
        rows_read: c.rows_read,
        answers_accepted: answers.len(),
        rejected_by_reason,
        page_revisions: c.page_revisions,
        items: ni,
        gold_items,
        items_with_one_answer: single,
        labels_written: labels.len(),
        none_fits,
        items_without_text: without_text,
        majority_vs_dawid_skene_disagreements: disagreements,
        krippendorff_alpha: alpha,
        pairable_items,
        gold_evaluation,
        flagged_workers: worker_reports.iter().filter(|w| w.flagged).map(|w| w.worker.clone()).collect(),
        workers: worker_reports,
        workers_with_one_answer: one_answer,
        excluded_flagged: opts.exclude_flagged,
        ds_iterations: ds.iterations,
        ds_converged: ds.converged,
        messages: c.messages,
        labels_path: out.display().to_string(),
        rejects_path: rejects_path.display().to_string(),
    };
    let report_path = opts
        .report
        .clone()
        .unwrap_or_else(|| sibling(out, "report.json"));
    jobshift_core::atomic::write_json(&report_path, &report)
        .map_err(|e| LabelError::io(&report_path, e))?;
    Ok(report)
}

/// `labels.jsonl` → `labels.<suffix>` beside it.
fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "labels".into());
    out.with_file_name(format!("{stem}.{suffix}"))
}

/// What an import did: rows, answers, labels written, agreement, gold scores, and one line per
/// worker (the lines `jobshift label import` prints).
impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self;
        writeln!(
            f,
            "{} rows read, {} answers used, {} set aside; {} postings ({} gold) → {} labels written ({} none-fits) to {}",
            r.rows_read,
            r.answers_accepted,
            r.rejected_by_reason.values().sum::<usize>(),
            r.items,
            r.gold_items,
            r.labels_written,
            r.none_fits,
            r.labels_path
        )?;
        if let Some(alpha) = r.krippendorff_alpha {
            writeln!(
                f,
                "agreement: Krippendorff's alpha {alpha:.3} over {} postings with 2+ answers",
                r.pairable_items
            )?;
        }
        if let Some(g) = &r.gold_evaluation {
            writeln!(
                f,
                "on {} gold postings: majority vote {:.1}% correct, Dawid–Skene {:.1}%",
                g.items,
                100.0 * g.majority_accuracy,
                100.0 * g.dawid_skene_accuracy
            )?;
        }
        writeln!(
            f,
            "{:<28} {:>7} {:>9} {:>9}  flag",
            "worker", "answers", "gold acc", "est. acc"
        )?;
        for w in &r.workers {
            writeln!(
                f,
                "{:<28} {:>7} {:>9} {:>9.2}  {}",
                w.worker,
                w.answers,
                w.gold_accuracy
                    .map_or("-".to_string(), |g| format!("{g:.2}")),
                w.estimated_accuracy,
                w.flag_reason.as_deref().unwrap_or("")
            )?;
        }
        writeln!(f, "rejects: {}", r.rejects_path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_answers_json_forms() {
        assert_eq!(
            answer_from_task_answers(r#"[{"title_id":"data_engineer"}]"#).as_deref(),
            Some("data_engineer")
        );
        assert_eq!(
            answer_from_task_answers(r#"[{"title_id":{"data_analyst":true,"x":false}}]"#)
                .as_deref(),
            Some("data_analyst")
        );
        assert_eq!(answer_from_task_answers(r#"[{"title_id":""}]"#), None);
        assert_eq!(answer_from_task_answers("not json"), None);
    }

    #[test]
    fn sibling_names() {
        assert_eq!(
            sibling(Path::new("/x/labels.jsonl"), "report.json"),
            PathBuf::from("/x/labels.report.json")
        );
    }
}

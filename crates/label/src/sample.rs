//! `label sample`: draw postings to label from a dataset and write the task files.
//!
//! Two streaming passes over the parquet files, so memory stays bounded by the sample size, not
//! the dataset: pass 1 reads only `posting_id` (+ `family`, `confidence`) and keeps the chosen
//! ids in bounded heaps; pass 2 reads the full rows of the chosen ids. Every choice is keyed by a
//! hash of (seed, posting_id), so the sample depends on the seed and the data only — not on the
//! order of files or rows.
//!
//! - `random`: the n postings with the smallest keys (a uniform sample without replacement).
//! - `stratified`: equal allocation across predicted families (water-filling: a family with
//!   fewer postings than its share gives the rest to the others), uniform within a family, so
//!   rare families get labels too.
//! - `uncertain`: the n postings with the lowest classifier confidence (active learning);
//!   abstentions (`unclassified`) count as the least confident.
//!
//! Gold (known-answer) postings from a `LabeledExample` JSONL make up `gold_rate` of the tasks.

use crate::catalog::TitleCatalog;
use crate::error::{LabelError, Result};
use crate::mturk;
use crate::tasks::{
    task_id_for, write_tasks, GoldTask, Manifest, StratumCount, Task, TasksDir, MANIFEST_FORMAT,
};
use arrow::array::{Array, ArrayRef, Float32Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use jobshift_core::dataset::DatasetDir;
use jobshift_core::labels::LabeledExample;
use jobshift_core::schema as col;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Random,
    Stratified,
    Uncertain,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Random => "random",
            Strategy::Stratified => "stratified",
            Strategy::Uncertain => "uncertain",
        }
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "random" => Ok(Strategy::Random),
            "stratified" => Ok(Strategy::Stratified),
            "uncertain" => Ok(Strategy::Uncertain),
            _ => Err(format!(
                "unknown strategy {s:?}; expected random, stratified or uncertain"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub dataset: PathBuf,
    /// Total number of tasks (postings + gold).
    pub n: usize,
    pub strategy: Strategy,
    pub seed: u64,
    pub gold: Option<PathBuf>,
    /// Share of the tasks that are gold (0..1).
    pub gold_rate: f64,
    pub out: PathBuf,
    /// Descriptions longer than this are cut in the Mechanical Turk CSV (not in tasks.jsonl).
    pub mturk_description_max_chars: usize,
}

#[derive(Debug, Clone)]
pub struct SampleOutcome {
    pub manifest: Manifest,
    pub warnings: Vec<String>,
}

/// Draw the sample and write every task file into `opts.out`.
/// Rejects options no sample can be drawn with.
fn validate(opts: &SampleOptions) -> Result<()> {
    if opts.n == 0 {
        return Err(LabelError::Invalid("--n must be at least 1".into()));
    }
    if !(0.0..1.0).contains(&opts.gold_rate) {
        return Err(LabelError::Invalid(format!(
            "--gold-rate {} must be in [0, 1)",
            opts.gold_rate
        )));
    }
    Ok(())
}

/// The gold tasks to mix in (at most `n × gold_rate`), in a seeded order; warns when the gold
/// file has fewer usable examples than asked for.
fn choose_gold(
    opts: &SampleOptions,
    catalog: &TitleCatalog,
    warnings: &mut Vec<String>,
) -> Result<Vec<(u64, Task, String)>> {
    let gold_pool = match &opts.gold {
        Some(p) => read_gold(p, catalog)?,
        None => Vec::new(),
    };
    let mut n_gold = if gold_pool.is_empty() {
        0
    } else {
        ((opts.n as f64) * opts.gold_rate).round() as usize
    };
    if opts.gold.is_some() && opts.gold_rate > 0.0 && n_gold > gold_pool.len() {
        warnings.push(format!(
            "asked for {n_gold} gold tasks but the gold file has {} usable examples; using all of them",
            gold_pool.len()
        ));
        n_gold = gold_pool.len();
    }
    let mut gold_sorted: Vec<(u64, Task, String)> = gold_pool
        .into_iter()
        .map(|(task, title_id)| (key(opts.seed, &task.posting_id), task, title_id))
        .collect();
    gold_sorted.sort_by(|a, b| (a.0, &a.1.posting_id).cmp(&(b.0, &b.1.posting_id)));
    gold_sorted.truncate(n_gold);
    Ok(gold_sorted)
}

/// The dataset's parquet files to draw from: `classified/` when classify ran, else `postings/`
/// (which only `--strategy random` can use).
fn source_files(opts: &SampleOptions) -> Result<(&'static str, Vec<PathBuf>)> {
    let ds = DatasetDir::new(&opts.dataset);
    let classified = DatasetDir::parquet_files(&ds.classified())
        .map_err(|e| LabelError::io(&ds.classified(), e))?;
    let (read_from, files) = if !classified.is_empty() {
        ("classified", classified)
    } else {
        let p = DatasetDir::parquet_files(&ds.postings())
            .map_err(|e| LabelError::io(&ds.postings(), e))?;
        ("postings", p)
    };
    if files.is_empty() {
        return Err(LabelError::Invalid(format!(
            "{} holds no parquet files under classified/ or postings/; run `jobshift ingest` (and `jobshift classify`) first",
            opts.dataset.display()
        )));
    }
    if read_from == "postings" && opts.strategy != Strategy::Random {
        return Err(LabelError::Invalid(format!(
            "--strategy {} needs the classifier's output in {}; run `jobshift classify {}` first, or use --strategy random",
            opts.strategy.as_str(),
            ds.classified().display(),
            opts.dataset.display()
        )));
    }
    Ok((read_from, files))
}

/// Pass 1: chooses `n_postings` posting ids by the sampling strategy, reading only the light
/// columns; returns them, the strata drawn, and how many candidates were seen.
fn choose_postings(
    opts: &SampleOptions,
    read_from: &str,
    files: &[PathBuf],
    n_postings: usize,
    gold_posting_ids: &HashSet<String>,
) -> Result<(Vec<String>, BTreeMap<String, StratumCount>, u64)> {
    let mut chooser = Chooser::new(opts.strategy, n_postings);
    let mut candidates_seen = 0u64;
    let mut light_cols = vec![col::POSTING_ID];
    if read_from == "classified" {
        light_cols.extend([col::FAMILY, col::CONFIDENCE]);
    }
    for f in files {
        for_each_batch(f, &light_cols, |batch| {
            let ids = string_col(f, batch, col::POSTING_ID)?;
            let fam = optional_string_col(batch, col::FAMILY);
            let conf = optional_f32_col(batch, col::CONFIDENCE);
            for i in 0..batch.num_rows() {
                if ids.is_null(i) {
                    continue;
                }
                let id = ids.value(i);
                if gold_posting_ids.contains(id) {
                    continue;
                }
                candidates_seen += 1;
                let family = fam
                    .as_ref()
                    .and_then(|a| (!a.is_null(i)).then(|| a.value(i)))
                    .unwrap_or(col::UNCLASSIFIED);
                let c = conf
                    .as_ref()
                    .and_then(|a| (!a.is_null(i)).then(|| a.value(i)))
                    .unwrap_or(0.0);
                chooser.offer(key(opts.seed, id), id, family, c);
            }
            Ok(())
        })?;
    }
    let (chosen, strata) = chooser.finish();
    Ok((chosen, strata, candidates_seen))
}

/// Pass 2: the full rows of the chosen postings, as tasks keyed by posting id.
fn read_tasks(
    read_from: &str,
    files: &[PathBuf],
    chosen: &[String],
) -> Result<HashMap<String, Task>> {
    let chosen_set: HashSet<&str> = chosen.iter().map(|s| s.as_str()).collect();
    let mut rows: HashMap<String, Task> = HashMap::with_capacity(chosen.len());
    let mut full_cols = vec![
        col::POSTING_ID,
        col::TITLE,
        col::DESCRIPTION,
        col::COMPANY,
        col::LOCATION,
        col::COUNTRY,
        col::POSTED_DATE,
        col::URL,
    ];
    if read_from == "classified" {
        full_cols.extend([col::TITLE_ID, col::FAMILY, col::CONFIDENCE]);
    }
    for f in files {
        for_each_batch(f, &full_cols, |batch| {
            let ids = string_col(f, batch, col::POSTING_ID)?;
            let get = |name: &str| optional_string_col(batch, name);
            let (title, desc, company, location, country, date, url, tid, fam) = (
                get(col::TITLE),
                get(col::DESCRIPTION),
                get(col::COMPANY),
                get(col::LOCATION),
                get(col::COUNTRY),
                get(col::POSTED_DATE),
                get(col::URL),
                get(col::TITLE_ID),
                get(col::FAMILY),
            );
            let conf = optional_f32_col(batch, col::CONFIDENCE);
            for i in 0..batch.num_rows() {
                if ids.is_null(i) || !chosen_set.contains(ids.value(i)) {
                    continue;
                }
                let id = ids.value(i).to_string();
                if rows.contains_key(&id) {
                    continue;
                }
                let s = |a: &Option<StringArray>| {
                    a.as_ref()
                        .and_then(|a| (!a.is_null(i)).then(|| a.value(i).to_string()))
                };
                let task = Task {
                    task_id: task_id_for(&id),
                    posting_id: id.clone(),
                    title: s(&title).unwrap_or_default(),
                    company: s(&company),
                    location: s(&location),
                    country: s(&country),
                    posted_date: s(&date),
                    url: s(&url),
                    description: s(&desc),
                    predicted_title_id: s(&tid),
                    predicted_family: s(&fam),
                    predicted_confidence: conf
                        .as_ref()
                        .and_then(|a| (!a.is_null(i)).then(|| a.value(i))),
                };
                rows.insert(id, task);
            }
            Ok(())
        })?;
    }
    Ok(rows)
}

pub fn sample(opts: &SampleOptions, catalog: &TitleCatalog) -> Result<SampleOutcome> {
    validate(opts)?;
    let dir = TasksDir::new(&opts.out);
    if dir.answers().exists() {
        return Err(LabelError::bad_file(
            &dir.answers(),
            "this tasks directory already holds answers from the labelling page; \
             sample into a new --out directory so those answers keep their tasks",
        ));
    }
    let mut warnings = Vec::new();
    let gold_sorted = choose_gold(opts, catalog, &mut warnings)?;
    let n_gold = gold_sorted.len();
    let gold_posting_ids: HashSet<String> =
        gold_sorted.iter().map(|g| g.1.posting_id.clone()).collect();
    // Dataset files (never half-committed ones; no commit starts while they are read).
    let _reading = jobshift_core::commit::open_for_reading(&opts.dataset)?;
    let (read_from, files) = source_files(opts)?;
    let n_postings = opts.n - n_gold;
    let (chosen, strata, candidates_seen) =
        choose_postings(opts, read_from, &files, n_postings, &gold_posting_ids)?;
    if chosen.len() < n_postings {
        warnings.push(format!(
            "the dataset has {} postings to draw from; drew all of them instead of {n_postings}",
            chosen.len()
        ));
    }
    let mut rows = read_tasks(read_from, &files, &chosen)?;

    // Assemble: postings + gold, shuffled by a seeded key so gold is not recognisable by place.
    let mut tasks: Vec<Task> = chosen.iter().filter_map(|id| rows.remove(id)).collect();
    let mut gold = Vec::new();
    for (_, t, title_id) in gold_sorted {
        gold.push(GoldTask {
            task_id: t.task_id.clone(),
            posting_id: t.posting_id.clone(),
            title_id,
        });
        tasks.push(t);
    }
    tasks.sort_by_cached_key(|t| {
        (
            key(opts.seed ^ 0x9e37_79b9_7f4a_7c15, &t.task_id),
            t.task_id.clone(),
        )
    });
    gold.sort_by(|a, b| a.task_id.cmp(&b.task_id));

    std::fs::create_dir_all(dir.root()).map_err(|e| LabelError::io(dir.root(), e))?;
    write_tasks(&dir.tasks(), &tasks)?;
    catalog.save(&dir.catalog())?;
    let mturk_info = mturk::write_mturk_files(
        &dir.mturk_input(),
        &dir.mturk_question(),
        &tasks,
        catalog,
        opts.mturk_description_max_chars,
    )?;
    if mturk_info.aliases_dropped > 0 {
        warnings.push(format!(
            "the Mechanical Turk template carries all {} titles and {} of {} aliases ({:.0}%); the other {} do not fit Mechanical Turk's {}-byte question limit next to the largest posting of this batch",
            mturk_info.titles_embedded,
            mturk_info.aliases_embedded,
            mturk_info.aliases_embedded + mturk_info.aliases_dropped,
            100.0 * mturk_info.alias_coverage,
            mturk_info.aliases_dropped,
            mturk_info.question_limit_bytes
        ));
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        jobshift_version: env!("CARGO_PKG_VERSION").into(),
        dataset: opts.dataset.display().to_string(),
        read_from: read_from.into(),
        strategy: opts.strategy.as_str().into(),
        seed: opts.seed,
        n_requested: opts.n,
        n_tasks: tasks.len(),
        n_postings: tasks.len() - gold.len(),
        n_gold: gold.len(),
        gold_rate: opts.gold_rate,
        taxonomy_version: catalog.version.clone(),
        taxonomy_origin: catalog.origin.clone(),
        candidates_seen,
        strata,
        gold,
        mturk: mturk_info,
    };
    jobshift_core::atomic::write_json(&dir.manifest(), &manifest)
        .map_err(|e| LabelError::io(&dir.manifest(), e))?;
    Ok(SampleOutcome { manifest, warnings })
}

/// Seeded 64-bit key of a posting (the first 16 hex digits of a content hash).
fn key(seed: u64, id: &str) -> u64 {
    let h = jobshift_core::normalize::content_hash(&[&seed.to_string(), id]);
    u64::from_str_radix(&h[..16], 16).unwrap_or(0)
}

/// Read gold examples: every line must parse and name a title of the catalog.
fn read_gold(path: &Path, catalog: &TitleCatalog) -> Result<Vec<(Task, String)>> {
    let f = std::fs::File::open(path).map_err(|e| LabelError::io(path, e))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| LabelError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let ex: LabeledExample = match serde_json::from_str(&line) {
            Ok(ex) => ex,
            Err(e) => {
                problems.push(format!("line {}: not a LabeledExample ({e})", i + 1));
                continue;
            }
        };
        if !catalog.contains(&ex.title_id) {
            problems.push(format!(
                "line {}: title id {:?} is not in taxonomy {}",
                i + 1,
                ex.title_id,
                catalog.version
            ));
            continue;
        }
        let posting_id = ex.posting_id.clone().unwrap_or_else(|| {
            format!(
                "gold-{}",
                jobshift_core::normalize::content_hash(&[
                    &ex.title,
                    ex.description.as_deref().unwrap_or("")
                ])
            )
        });
        if !seen.insert(posting_id.clone()) {
            continue; // the same gold posting twice: keep one
        }
        out.push((
            Task {
                task_id: task_id_for(&posting_id),
                posting_id,
                title: ex.title,
                company: None,
                location: None,
                country: None,
                posted_date: None,
                url: None,
                description: ex.description,
                predicted_title_id: None,
                predicted_family: None,
                predicted_confidence: None,
            },
            ex.title_id,
        ));
    }
    if !problems.is_empty() {
        return Err(LabelError::bad_file(
            path,
            format!(
                "{} bad gold line(s); fix them (title ids must be taxonomy ids):\n  {}",
                problems.len(),
                problems.join("\n  ")
            ),
        ));
    }
    Ok(out)
}

/// Bounded selection for pass 1.
struct Chooser {
    strategy: Strategy,
    n: usize,
    /// random / uncertain: max-heap of the n smallest (rank, key, id).
    heap: BinaryHeap<(u64, u64, String)>,
    /// stratified: per family, max-heap of the n smallest (key, id), and the family's size.
    strata: BTreeMap<String, (BinaryHeap<(u64, String)>, u64)>,
    seen: u64,
}

impl Chooser {
    fn new(strategy: Strategy, n: usize) -> Self {
        Chooser {
            strategy,
            n,
            heap: BinaryHeap::new(),
            strata: BTreeMap::new(),
            seen: 0,
        }
    }

    fn offer(&mut self, key: u64, id: &str, family: &str, confidence: f32) {
        self.seen += 1;
        if self.n == 0 {
            return;
        }
        match self.strategy {
            Strategy::Random | Strategy::Uncertain => {
                let rank = if self.strategy == Strategy::Uncertain {
                    // lower confidence first; NaN counts as 0
                    let c = if confidence.is_nan() {
                        0.0
                    } else {
                        confidence.clamp(0.0, 1.0)
                    };
                    (c as f64 * 1e9) as u64
                } else {
                    0
                };
                push_bounded(&mut self.heap, (rank, key, id.to_string()), self.n);
            }
            Strategy::Stratified => {
                let e = self.strata.entry(family.to_string()).or_default();
                e.1 += 1;
                push_bounded(&mut e.0, (key, id.to_string()), self.n);
            }
        }
    }

    fn finish(self) -> (Vec<String>, BTreeMap<String, StratumCount>) {
        let mut counts = BTreeMap::new();
        match self.strategy {
            Strategy::Random | Strategy::Uncertain => {
                let chosen: Vec<String> = self
                    .heap
                    .into_sorted_vec()
                    .into_iter()
                    .map(|e| e.2)
                    .collect();
                counts.insert(
                    "all".to_string(),
                    StratumCount {
                        available: self.seen,
                        drawn: chosen.len() as u64,
                    },
                );
                (chosen, counts)
            }
            Strategy::Stratified => {
                let sizes: Vec<u64> = self.strata.values().map(|s| s.1).collect();
                let alloc = equal_allocation(&sizes, self.n);
                let mut chosen = Vec::new();
                for ((fam, (heap, size)), take) in self.strata.into_iter().zip(alloc) {
                    let sorted = heap.into_sorted_vec();
                    chosen.extend(sorted.into_iter().take(take).map(|e| e.1));
                    counts.insert(
                        fam,
                        StratumCount {
                            available: size,
                            drawn: take as u64,
                        },
                    );
                }
                (chosen, counts)
            }
        }
    }
}

fn push_bounded<T: Ord>(heap: &mut BinaryHeap<T>, item: T, n: usize) {
    if heap.len() < n {
        heap.push(item);
    } else if let Some(top) = heap.peek() {
        if item < *top {
            heap.pop();
            heap.push(item);
        }
    }
}

/// Split `n` as equally as possible across strata of the given sizes; a stratum never gets more
/// than it has, and what it cannot take goes to the others. Leftover units after the equal split
/// go to the strata in order (families are sorted by id, so this is deterministic).
pub fn equal_allocation(sizes: &[u64], n: usize) -> Vec<usize> {
    let mut alloc = vec![0usize; sizes.len()];
    let mut remaining = n;
    loop {
        let open: Vec<usize> = (0..sizes.len())
            .filter(|&i| (alloc[i] as u64) < sizes[i])
            .collect();
        if remaining == 0 || open.is_empty() {
            break;
        }
        let share = (remaining / open.len()).max(1);
        for &i in &open {
            if remaining == 0 {
                break;
            }
            let room = (sizes[i] - alloc[i] as u64) as usize;
            let give = share.min(room).min(remaining);
            alloc[i] += give;
            remaining -= give;
        }
    }
    alloc
}

/// Read `columns` (those present in the file) of one parquet file, batch by batch.
fn for_each_batch(
    path: &Path,
    columns: &[&str],
    mut f: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let pq = |e: parquet::errors::ParquetError| LabelError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| LabelError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let schema = builder.schema().clone();
    let idx: Vec<usize> = columns
        .iter()
        .filter_map(|c| schema.index_of(c).ok())
        .collect();
    if schema.index_of(col::POSTING_ID).is_err() {
        return Err(LabelError::bad_file(
            path,
            "has no posting_id column; is this a jobshift dataset (written by `jobshift ingest`)?",
        ));
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), idx);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(pq)?;
    for batch in reader {
        let batch = batch.map_err(|e| LabelError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        f(&batch)?;
    }
    Ok(())
}

/// A column as strings (dates and numbers cast to their text form), or None when absent.
fn optional_string_col(batch: &RecordBatch, name: &str) -> Option<StringArray> {
    let a: &ArrayRef = batch.column_by_name(name)?;
    let cast = arrow::compute::cast(a, &DataType::Utf8).ok()?;
    cast.as_any().downcast_ref::<StringArray>().cloned()
}

fn string_col(path: &Path, batch: &RecordBatch, name: &str) -> Result<StringArray> {
    optional_string_col(batch, name)
        .ok_or_else(|| LabelError::bad_file(path, format!("column {name} is missing or not text")))
}

fn optional_f32_col(batch: &RecordBatch, name: &str) -> Option<Float32Array> {
    let a = batch.column_by_name(name)?;
    let cast = arrow::compute::cast(a, &DataType::Float32).ok()?;
    cast.as_any().downcast_ref::<Float32Array>().cloned()
}

/// What a sample wrote (the lines `jobshift label sample` prints), with `out` its tasks
/// directory.
pub struct SampleText<'a> {
    outcome: &'a SampleOutcome,
    out: &'a Path,
}

impl SampleOutcome {
    pub fn text<'a>(&'a self, out: &'a Path) -> SampleText<'a> {
        SampleText { outcome: self, out }
    }
}

impl std::fmt::Display for SampleText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (outcome, out) = (self.outcome, self.out);
        let m = &outcome.manifest;
        writeln!(
            f,
            "wrote {} tasks ({} postings, {} gold) to {} — strategy {}, seed {}, taxonomy {}, {} candidate postings read from {}",
            m.n_tasks, m.n_postings, m.n_gold, out.display(), m.strategy, m.seed, m.taxonomy_version,
            m.candidates_seen, m.read_from
        )?;
        if m.strata.len() > 1 {
            for (fam, s) in &m.strata {
                writeln!(f, "  {fam:<32} {:>6} drawn of {:>10}", s.drawn, s.available)?;
            }
        }
        let d = TasksDir::new(out);
        writeln!(
            f,
            "  Mechanical Turk: {} + {}",
            d.mturk_input().display(),
            d.mturk_question().display()
        )?;
        writeln!(
            f,
            "  labelling page:  jobshift label serve {}",
            out.display()
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_equal_and_capped() {
        assert_eq!(equal_allocation(&[100, 100, 100], 9), vec![3, 3, 3]);
        assert_eq!(equal_allocation(&[1, 100, 100], 9), vec![1, 4, 4]);
        assert_eq!(equal_allocation(&[2, 2], 10), vec![2, 2]);
        assert_eq!(equal_allocation(&[5, 5, 5], 4), vec![2, 1, 1]);
        assert_eq!(equal_allocation(&[], 4), Vec::<usize>::new());
    }

    #[test]
    fn strategy_parses() {
        assert_eq!(
            "Stratified".parse::<Strategy>().unwrap(),
            Strategy::Stratified
        );
        assert!("best"
            .parse::<Strategy>()
            .unwrap_err()
            .contains("uncertain"));
    }
}

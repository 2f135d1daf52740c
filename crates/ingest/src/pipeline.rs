//! The ingest run, end to end.
//!
//! 1. Read: every input is streamed record by record; rejects go to the staged rejects file,
//!    valid postings are spilled to one staged file per posting month (`<days>\t<json>` lines).
//!    An unreadable input stops the run here and the staging directory is deleted.
//! 2. De-duplicate: months are processed in date order; within a month the spilled postings are
//!    sorted by (date, arrival) — only a 24-byte key per posting is held — and read back one at a
//!    time, so the earliest copy is the kept one whatever the input order. Existing months of the
//!    dataset within the window are loaded from the persisted index before they can match, and a
//!    month is finalized (written and evicted) as soon as no later posting can touch it, so
//!    memory is bounded by the postings of a window, not by the dataset.
//! 3. Write and commit: each touched month is written as a whole new partition (existing rows
//!    with extended first_seen/last_seen/duplicates + new rows), the index and the report are
//!    staged, then everything is swapped in (see `store`).

use crate::dedup::{self, Decision, DedupIndex, KeptState, MonthKey};
use crate::fields::{self, FileContext, Posting};
use crate::formats;
use crate::readers::{self, BadRecord, Limits, ReadItem};
use crate::store::{self, PostingsBatchBuilder};
use crate::{IngestError, IngestOptions, IngestReport, InputReport, ReportSettings};
use indicatif::{ProgressBar, ProgressStyle};
use jobshift_core::atomic;
use jobshift_core::dataset::DatasetDir;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAX_OPEN_SPILLS: usize = 64;

/// Spilled postings, one file per month.
struct Spill {
    dir: PathBuf,
    writers: HashMap<MonthKey, BufWriter<File>>,
    counts: BTreeMap<MonthKey, u64>,
}

impl Spill {
    fn new(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            writers: HashMap::new(),
            counts: BTreeMap::new(),
        })
    }
    fn path(&self, k: MonthKey) -> PathBuf {
        self.dir.join(format!("{}.jsonl", dedup::month_label(k)))
    }
    fn push(&mut self, p: &Posting) -> io::Result<()> {
        let k = dedup::month_key_of_days(p.posted_date);
        if !self.writers.contains_key(&k) {
            if self.writers.len() >= MAX_OPEN_SPILLS {
                for (_, mut w) in self.writers.drain() {
                    w.flush()?;
                }
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(k))?;
            self.writers.insert(k, BufWriter::with_capacity(1 << 16, f));
        }
        let w = self
            .writers
            .get_mut(&k)
            .ok_or_else(|| io::Error::other("spill writer vanished"))?;
        write!(w, "{}\t", p.posted_date)?;
        serde_json::to_writer(&mut *w, p)?;
        w.write_all(b"\n")?;
        *self.counts.entry(k).or_default() += 1;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        for (_, mut w) in self.writers.drain() {
            w.flush()?;
        }
        Ok(())
    }
}

/// Read one spilled line at (offset, len).
fn read_spilled(file: &File, offset: u64, len: usize, path: &Path) -> Result<Posting, IngestError> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| IngestError::io(path, e))?;
    parse_spill_line(&buf, path)
}

fn parse_spill_line(line: &[u8], path: &Path) -> Result<Posting, IngestError> {
    let tab = line.iter().position(|b| *b == b'\t').unwrap_or(0);
    serde_json::from_slice(&line[tab + 1..]).map_err(|e| IngestError::Dataset {
        dir: path.to_path_buf(),
        message: format!("corrupt staging spill line: {e}"),
    })
}

/// (date, arrival index, byte offset, length) of every spilled line of a month.
fn scan_spill(path: &Path) -> Result<Vec<(i32, u32, u64, u32)>, IngestError> {
    let f = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| IngestError::io(path, e))?;
        if n == 0 {
            break;
        }
        let tab = line.iter().position(|b| *b == b'\t').unwrap_or(0);
        let days: i32 = std::str::from_utf8(&line[..tab])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.push((days, out.len() as u32, offset, n as u32));
        offset += n as u64;
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct IngestedInput {
    file: String,
    run_id: String,
}

fn ingested_inputs_path(root: &Path) -> PathBuf {
    DatasetDir::new(root).runs().join("ingested-inputs.json")
}

fn file_blake3(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        n_total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((h.finalize().to_hex()[..32].to_string(), n_total))
}

#[derive(Serialize)]
struct RejectLine<'a> {
    file: &'a str,
    record: u64,
    line: u64,
    reason: String,
    reason_key: &'static str,
    raw: &'a str,
}

#[derive(Serialize)]
struct DuplicateLine<'a> {
    file: &'a str,
    record: u64,
    posted_date: String,
    duplicate_of: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    similarity: Option<f64>,
}

fn progress_bar(enabled: bool, len: u64, msg: String) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg);
    pb
}

fn make_run_id(root: &Path, now: chrono::DateTime<chrono::Utc>) -> String {
    let base = now
        .format("%Y%m%dT%H%M%S%.3fZ")
        .to_string()
        .replace('.', "");
    let runs = DatasetDir::new(root).runs();
    let mut id = base.clone();
    let mut k = 1;
    while runs.join(format!("{id}.json")).exists() || root.join(format!(".staging-{id}")).exists() {
        k += 1;
        id = format!("{base}-{k}");
    }
    id
}

pub(crate) fn run(
    inputs: &[PathBuf],
    out: &Path,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    if inputs.is_empty() {
        return Err(IngestError::Options("no input files given".into()));
    }
    if !(opts.near_dup_threshold > 0.0 && opts.near_dup_threshold <= 1.0) {
        return Err(IngestError::Options(format!(
            "near-duplicate threshold {} must be in (0, 1]",
            opts.near_dup_threshold
        )));
    }
    if opts.dedup_window_days < 0 {
        return Err(IngestError::Options(
            "the dedup window cannot be negative".into(),
        ));
    }
    if opts.batch_rows == 0 || opts.max_field_bytes == 0 || opts.max_record_bytes == 0 {
        return Err(IngestError::Options(
            "batch size and size limits must be positive".into(),
        ));
    }
    fs::create_dir_all(out).map_err(|e| IngestError::io(out, e))?;
    store::recover(out)?;
    let started = chrono::Utc::now();
    let run_id = make_run_id(out, started);
    let staging = out.join(format!(".staging-{run_id}"));
    fs::create_dir_all(&staging).map_err(|e| IngestError::io(&staging, e))?;
    match run_staged(inputs, out, &staging, &run_id, started, opts) {
        Ok(report) => {
            let marker = staging.join(store::COMMIT_MARKER);
            atomic::write_bytes(&marker, run_id.as_bytes())
                .map_err(|e| IngestError::io(&marker, e))?;
            store::commit(&staging, out).map_err(|e| IngestError::io(&staging, e))?;
            Ok(report)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

struct Counters {
    inputs: Vec<InputReport>,
    rejected_by_reason: BTreeMap<String, u64>,
    repaired_by_reason: BTreeMap<String, u64>,
}

fn run_staged(
    inputs: &[PathBuf],
    out: &Path,
    staging: &Path,
    run_id: &str,
    started: chrono::DateTime<chrono::Utc>,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let limits = Limits {
        max_field_bytes: opts.max_field_bytes,
        max_record_bytes: opts.max_record_bytes,
    };
    let mut spill = Spill::new(staging.join("spill")).map_err(|e| IngestError::io(staging, e))?;
    let rejects_rel = format!("rejects/{run_id}.jsonl");
    let rejects_path = staging.join(&rejects_rel);
    fs::create_dir_all(staging.join("rejects")).map_err(|e| IngestError::io(staging, e))?;
    let mut rejects =
        BufWriter::new(File::create(&rejects_path).map_err(|e| IngestError::io(&rejects_path, e))?);
    let mut counters = Counters {
        inputs: Vec::new(),
        rejected_by_reason: BTreeMap::new(),
        repaired_by_reason: BTreeMap::new(),
    };

    // Inputs already ingested (by blake3 of their bytes).
    let ingested_path = ingested_inputs_path(out);
    let mut ingested: BTreeMap<String, IngestedInput> = match fs::read(&ingested_path) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(_) => BTreeMap::new(),
    };

    // ---- 1. read ----
    for (fi, path) in inputs.iter().enumerate() {
        let display = path.display().to_string();
        let input_err = |e: io::Error| IngestError::Input {
            file: path.clone(),
            source: e,
        };
        let meta = fs::metadata(path).map_err(input_err)?;
        if meta.is_dir() {
            return Err(IngestError::InputFormat {
                file: path.clone(),
                message: "is a directory; pass the files inside it".into(),
            });
        }
        let format = match opts.format.or(formats::detect(path).0) {
            Some(f) => f,
            None => {
                return Err(IngestError::InputFormat {
                    file: path.clone(),
                    message: "cannot tell the format from the file name; pass --format csv|tsv|jsonl|json|parquet".into(),
                })
            }
        };
        let (digest, bytes) = file_blake3(path).map_err(input_err)?;
        let already = ingested.get(&digest).cloned();
        let replay = already.is_some();
        let source = opts
            .source
            .clone()
            .unwrap_or_else(|| formats::source_name(path));
        let mut rep = InputReport {
            file: display.clone(),
            format: format.to_string(),
            source: source.clone(),
            blake3: digest.clone(),
            bytes,
            already_ingested: replay,
            ..Default::default()
        };
        if let Some(a) = &already {
            rep.notes.push(format!(
                "same bytes as {} ingested by run {}: its records count as duplicates and do not extend the kept postings again",
                a.file, a.run_id
            ));
        }
        let ctx = FileContext {
            input_file: display.clone(),
            source,
            file_index: fi as u32,
            map: &opts.column_map,
            max_field_bytes: opts.max_field_bytes,
            replay,
        };
        let pb = progress_bar(
            opts.progress,
            bytes,
            path.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
        );
        let mut reader = readers::open(path, format, limits).map_err(input_err)?;
        let mut columns: BTreeMap<String, String> = BTreeMap::new();
        loop {
            let item = reader.next_item().map_err(input_err)?;
            let Some(item) = item else { break };
            rep.read += 1;
            if rep.read % 2048 == 0 {
                pb.set_position(reader.bytes_read());
            }
            let bad = match item {
                ReadItem::Bad(b) => Some(b),
                ReadItem::Record(r) => match fields::build_posting(&r, &ctx) {
                    Ok(built) => {
                        for (f, c) in built.columns {
                            columns.entry(f.as_str().to_string()).or_insert(c);
                        }
                        if !built.repairs.is_empty() {
                            rep.repaired += 1;
                            for k in &built.repairs {
                                *counters
                                    .repaired_by_reason
                                    .entry(k.to_string())
                                    .or_default() += 1;
                            }
                        }
                        spill
                            .push(&built.posting)
                            .map_err(|e| IngestError::io(staging, e))?;
                        None
                    }
                    Err(reason) => {
                        let raw = r.raw.clone().unwrap_or_else(|| {
                            let vals: Vec<String> = r
                                .fields
                                .iter()
                                .map(|(_, v)| match v {
                                    serde_json::Value::String(s) => s.clone(),
                                    serde_json::Value::Null => String::new(),
                                    other => other.to_string(),
                                })
                                .collect();
                            let delim = if format == formats::Format::Tsv {
                                b'\t'
                            } else {
                                b','
                            };
                            readers::cap_raw(
                                &readers::join_delimited(&vals, delim),
                                opts.max_field_bytes,
                            )
                        });
                        Some(BadRecord {
                            number: r.number,
                            line: r.line,
                            reason,
                            raw,
                            lossy_utf8: r.lossy_utf8,
                        })
                    }
                },
            };
            if let Some(b) = bad {
                rep.rejected += 1;
                if b.lossy_utf8 {
                    rep.repaired += 1;
                    *counters
                        .repaired_by_reason
                        .entry("invalid_utf8_replaced".into())
                        .or_default() += 1;
                }
                *counters
                    .rejected_by_reason
                    .entry(b.reason.key().to_string())
                    .or_default() += 1;
                write_reject(&mut rejects, &display, &b)
                    .map_err(|e| IngestError::io(&rejects_path, e))?;
            }
        }
        pb.finish_and_clear();
        rep.notes.extend(reader.notes());
        rep.columns = columns;
        if rep.read == 0 && !rep.notes.iter().any(|n| n.contains("empty")) {
            rep.notes.push("no records".into());
        }
        ingested.entry(digest).or_insert(IngestedInput {
            file: display,
            run_id: run_id.to_string(),
        });
        counters.inputs.push(rep);
    }
    spill.finish().map_err(|e| IngestError::io(staging, e))?;
    rejects
        .flush()
        .map_err(|e| IngestError::io(&rejects_path, e))?;
    drop(rejects);

    // ---- 2. de-duplicate, 3. write ----
    let dup_rel = format!("duplicates/{run_id}.jsonl");
    let dup_path = staging.join(&dup_rel);
    fs::create_dir_all(staging.join("duplicates")).map_err(|e| IngestError::io(staging, e))?;
    let mut dups_out =
        BufWriter::new(File::create(&dup_path).map_err(|e| IngestError::io(&dup_path, e))?);
    let mut dedup = Deduper {
        out,
        staging,
        opts,
        index: DedupIndex::new(
            opts.dedup_window_days,
            opts.near_dup_threshold,
            opts.near_duplicates,
        ),
        existing: store::existing_months(out)?.into_iter().collect(),
        loaded: BTreeSet::new(),
        pending: BTreeSet::new(),
        finalized: BTreeSet::new(),
        kept_flags: HashMap::new(),
        spill_paths: HashMap::new(),
        rows_written: BTreeMap::new(),
        extended: 0,
        exact: 0,
        near: 0,
    };
    let spill_months: Vec<MonthKey> = spill.counts.keys().copied().collect();
    let total_spilled: u64 = spill.counts.values().sum();
    let pb = if opts.progress {
        let pb = ProgressBar::new(total_spilled);
        if let Ok(s) =
            ProgressStyle::with_template("de-duplicating [{bar:30}] {pos}/{len} {per_sec} {eta}")
        {
            pb.set_style(s.progress_chars("=> "));
        }
        pb
    } else {
        ProgressBar::hidden()
    };
    let window = opts.dedup_window_days.clamp(0, 100_000) as i32;
    for (si, &m) in spill_months.iter().enumerate() {
        let (start, end) = dedup::month_bounds(m);
        let lo = dedup::month_key_of_days(start.saturating_sub(window));
        let hi = dedup::month_key_of_days(end.saturating_add(window));
        let to_load: Vec<MonthKey> = dedup.existing.range(lo..=hi).copied().collect();
        for k in to_load {
            dedup.load(k)?;
        }
        dedup.pending.insert(m);
        let path = spill.path(m);
        let mut entries = scan_spill(&path)?;
        entries.sort_unstable_by_key(|e| (e.0, e.1));
        let file = File::open(&path).map_err(|e| IngestError::io(&path, e))?;
        let mut kept = vec![false; entries.len()];
        for (days, idx, offset, len) in entries {
            let _ = days;
            let p = read_spilled(&file, offset, len as usize, &path)?;
            let fi = p.file_index as usize;
            let (decision, _) = dedup.index.decide(&p);
            match decision {
                Decision::Kept => {
                    kept[idx as usize] = true;
                    if let Some(r) = counters.inputs.get_mut(fi) {
                        r.accepted += 1;
                    }
                }
                Decision::Exact { of } | Decision::Near { of, .. } => {
                    let (kind, similarity) = match decision {
                        Decision::Near { similarity, .. } => {
                            ("near", Some((similarity * 1000.0).round() / 1000.0))
                        }
                        _ => ("exact", None),
                    };
                    if kind == "near" {
                        dedup.near += 1;
                    } else {
                        dedup.exact += 1;
                    }
                    if let Some(r) = counters.inputs.get_mut(fi) {
                        r.duplicates += 1;
                    }
                    let line = DuplicateLine {
                        file: &p.input_file,
                        record: p.input_record,
                        posted_date: crate::dates::from_days(p.posted_date).to_string(),
                        duplicate_of: dedup::id_hex(of),
                        kind,
                        similarity,
                    };
                    serde_json::to_writer(&mut dups_out, &line)
                        .map_err(|e| IngestError::io(&dup_path, e.into()))?;
                    dups_out
                        .write_all(b"\n")
                        .map_err(|e| IngestError::io(&dup_path, e))?;
                }
            }
            pb.inc(1);
        }
        dedup.kept_flags.insert(m, kept);
        dedup.spill_paths.insert(m, path);
        let next_start = spill_months.get(si + 1).map(|n| dedup::month_bounds(*n).0);
        let ready: Vec<MonthKey> = dedup
            .pending
            .iter()
            .copied()
            .filter(|k| match next_start {
                Some(ns) => dedup::month_bounds(*k).1 as i64 + (window as i64) < ns as i64,
                None => false,
            })
            .collect();
        for k in ready {
            dedup.finalize(k)?;
        }
    }
    let rest: Vec<MonthKey> = dedup.pending.iter().copied().collect();
    for k in rest {
        dedup.finalize(k)?;
    }
    pb.finish_and_clear();
    dups_out
        .flush()
        .map_err(|e| IngestError::io(&dup_path, e))?;
    drop(dups_out);
    let _ = fs::remove_dir_all(staging.join("spill"));

    // Total postings after the run.
    let mut postings_total = 0u64;
    for k in dedup.existing.iter() {
        if dedup.rows_written.contains_key(k) {
            continue;
        }
        let dir = store::month_dir(out, *k);
        for f in DatasetDir::parquet_files(&dir).map_err(|e| IngestError::io(&dir, e))? {
            postings_total += store::parquet_rows(&f)?;
        }
    }
    postings_total += dedup.rows_written.values().sum::<u64>();

    let mut report = IngestReport {
        run_id: run_id.to_string(),
        started_utc: started.to_rfc3339(),
        finished_utc: String::new(),
        dataset: out.display().to_string(),
        read: counters.inputs.iter().map(|i| i.read).sum(),
        accepted: counters.inputs.iter().map(|i| i.accepted).sum(),
        duplicates: counters.inputs.iter().map(|i| i.duplicates).sum(),
        exact_duplicates: dedup.exact,
        near_duplicates: dedup.near,
        rejected: counters.inputs.iter().map(|i| i.rejected).sum(),
        repaired: counters.inputs.iter().map(|i| i.repaired).sum(),
        rejected_by_reason: counters.rejected_by_reason,
        repaired_by_reason: counters.repaired_by_reason,
        existing_postings_extended: dedup.extended,
        postings_total,
        months_written: dedup
            .rows_written
            .keys()
            .map(|k| dedup::month_label(*k))
            .collect(),
        rejects_file: None,
        duplicates_file: None,
        settings: ReportSettings {
            near_dup_threshold: opts.near_dup_threshold,
            dedup_window_days: opts.dedup_window_days,
            near_duplicates: opts.near_duplicates,
            max_field_bytes: opts.max_field_bytes,
            minhash_permutations: crate::minhash::PERMUTATIONS,
            lsh_bands: crate::minhash::BANDS,
            shingle_words: crate::minhash::SHINGLE_WORDS,
        },
        inputs: counters.inputs,
    };
    if report.rejected > 0 {
        report.rejects_file = Some(rejects_rel);
    } else {
        let _ = fs::remove_file(&rejects_path);
    }
    if report.duplicates > 0 {
        report.duplicates_file = Some(dup_rel);
    } else {
        let _ = fs::remove_file(&dup_path);
    }
    report.finished_utc = chrono::Utc::now().to_rfc3339();
    let runs_dir = staging.join("runs");
    let p = runs_dir.join(format!("{run_id}.json"));
    atomic::write_json(&p, &report).map_err(|e| IngestError::io(&p, e))?;
    let p = runs_dir.join("ingested-inputs.json");
    atomic::write_json(&p, &ingested).map_err(|e| IngestError::io(&p, e))?;
    let p = staging.join("ingest-report.json");
    atomic::write_json(&p, &report).map_err(|e| IngestError::io(&p, e))?;
    Ok(report)
}

fn write_reject(w: &mut impl Write, file: &str, b: &BadRecord) -> io::Result<()> {
    let line = RejectLine {
        file,
        record: b.number,
        line: b.line,
        reason: b.reason.to_string(),
        reason_key: b.reason.key(),
        raw: &b.raw,
    };
    serde_json::to_writer(&mut *w, &line)?;
    w.write_all(b"\n")
}

/// The month-by-month de-duplication and output state.
struct Deduper<'a> {
    out: &'a Path,
    staging: &'a Path,
    opts: &'a IngestOptions,
    index: DedupIndex,
    existing: BTreeSet<MonthKey>,
    loaded: BTreeSet<MonthKey>,
    pending: BTreeSet<MonthKey>,
    finalized: BTreeSet<MonthKey>,
    kept_flags: HashMap<MonthKey, Vec<bool>>,
    spill_paths: HashMap<MonthKey, PathBuf>,
    rows_written: BTreeMap<MonthKey, u64>,
    extended: u64,
    exact: u64,
    near: u64,
}

impl Deduper<'_> {
    fn load(&mut self, k: MonthKey) -> Result<(), IngestError> {
        if self.loaded.contains(&k) || self.finalized.contains(&k) {
            return Ok(());
        }
        for s in store::load_index(self.out, k)? {
            self.index.insert(s);
        }
        self.loaded.insert(k);
        self.pending.insert(k);
        Ok(())
    }

    /// Write month `k` (when it has new or changed postings) and evict it from the index.
    fn finalize(&mut self, k: MonthKey) -> Result<(), IngestError> {
        self.pending.remove(&k);
        self.finalized.insert(k);
        let states = self.index.evict_month(k);
        let changed_existing = states.iter().filter(|s| s.existing && s.changed).count() as u64;
        self.extended += changed_existing;
        let kept = self.kept_flags.remove(&k).unwrap_or_default();
        let new_rows = kept.iter().filter(|x| **x).count();
        let index_missing = self.existing.contains(&k) && !store::index_file(self.out, k).exists();
        if new_rows == 0 && changed_existing == 0 {
            if index_missing && !states.is_empty() {
                let mut st = states;
                st.sort_by_key(|s| s.posting_id);
                store::write_index(&store::index_file(self.staging, k), &st)?;
            }
            return Ok(());
        }
        let by_id: HashMap<u128, KeptState> =
            states.into_iter().map(|s| (s.posting_id, s)).collect();
        let part = store::month_dir(self.staging, k).join(store::PART_FILE);
        let existing_files = if self.existing.contains(&k) {
            let d = store::month_dir(self.out, k);
            DatasetDir::parquet_files(&d).map_err(|e| IngestError::io(&d, e))?
        } else {
            Vec::new()
        };
        let spill_path = self.spill_paths.get(&k).cloned();
        let batch_rows = self.opts.batch_rows;
        let rows = store::write_postings_file(&part, |sink| {
            let mut rows = 0u64;
            let to_io = |e: IngestError| io::Error::other(e.to_string());
            store::for_each_batch(&existing_files, |p, b| {
                let nb = store::update_existing_batch(&b, &by_id, p)?;
                rows += nb.num_rows() as u64;
                sink(nb).map_err(|e| IngestError::io(p, e))
            })
            .map_err(to_io)?;
            if let Some(sp) = &spill_path {
                let f = File::open(sp)?;
                let mut r = BufReader::with_capacity(1 << 20, f);
                let mut line = Vec::new();
                let mut i = 0usize;
                let mut builder = PostingsBatchBuilder::new();
                loop {
                    line.clear();
                    if r.read_until(b'\n', &mut line)? == 0 {
                        break;
                    }
                    if kept.get(i).copied().unwrap_or(false) {
                        let p = parse_spill_line(&line, sp).map_err(to_io)?;
                        let id = dedup::parse_id(&p.posting_id);
                        let state = by_id
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| KeptState::from_posting(&p));
                        builder.push(&p, &state);
                        if builder.len() >= batch_rows {
                            rows += builder.len() as u64;
                            sink(builder.finish().map_err(io::Error::other)?)?;
                        }
                    }
                    i += 1;
                }
                if !builder.is_empty() {
                    rows += builder.len() as u64;
                    sink(builder.finish().map_err(io::Error::other)?)?;
                }
            }
            Ok(rows)
        })?;
        let mut st: Vec<KeptState> = by_id.into_values().collect();
        st.sort_by_key(|s| s.posting_id);
        store::write_index(&store::index_file(self.staging, k), &st)?;
        self.rows_written.insert(k, rows);
        Ok(())
    }
}

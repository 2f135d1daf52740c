//! The ingest run, end to end.
//!
//! 1. Read: every input is streamed record by record by a reader thread, in chunks; the chunk's
//!    records are validated, normalized, hashed and MinHashed in parallel (rayon; the order of
//!    the results is the input order, so everything downstream is deterministic), then, in
//!    order, rejects go to the staged rejects file and valid postings are spilled per posting
//!    month: the posting itself (binary, zstd-compressed frames) and, apart, its dedup keys (ids,
//!    company key, normalized title, MinHash signature — see [`DedupKeys`]).
//!    An unreadable input stops the run here and the staging directory is deleted.
//!    The keys go to one of 64 shards by company (see `spill`).
//! 2. De-duplicate (see `passes`): in one or more passes over disjoint company shards, months
//!    are processed in date order; within a month the spilled keys are sorted by (date,
//!    arrival) — only a 24-byte entry per posting of the month is held — and read back one at a
//!    time, so the earliest copy is the kept one whatever the input order. Existing months of
//!    the dataset within the window are loaded from the persisted index before they can match,
//!    and a month is evicted as soon as no later posting can touch it, so memory is bounded by
//!    one pass's share of the postings of a window, not by the input.
//! 3. Write: a month the last pass evicts is handed to a writer thread (so Parquet encoding
//!    overlaps the de-duplication of the next months) and written as a whole new partition
//!    (existing rows with extended first_seen/last_seen/duplicates + new rows); the index and
//!    the report are staged, then everything is swapped in (see `store`).

use crate::dedup::{self, DedupKeys, MonthKey};
use crate::fields::{self, FileContext};
use crate::formats;
use crate::passes;
use crate::readers::{self, BadRecord, Limits, ReadItem, RecordReader};
use crate::spill::{encode_posting, Spill};
use crate::store;
use crate::{IngestError, IngestOptions, IngestReport, InputReport, ReportSettings};
use indicatif::{ProgressBar, ProgressStyle};
use jobshift_core::atomic;
use jobshift_core::commit::{self, WriterLock, STAGING_PREFIX};
use jobshift_core::dataset::DatasetDir;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Records per parallel chunk, and the most bytes of field text a chunk may hold.
const CHUNK_RECORDS: usize = 1024;
const CHUNK_BYTES: usize = 8 << 20;

/// The result of processing one read item (in parallel).
enum Outcome {
    Accepted {
        month: MonthKey,
        /// The company's key shard.
        shard: u32,
        posting: Vec<u8>,
        keys: Vec<u8>,
        columns: Vec<(fields::CanonicalField, String)>,
        repairs: Vec<&'static str>,
    },
    Rejected(BadRecord),
}

fn process_item(
    item: ReadItem,
    ctx: &FileContext<'_>,
    format: formats::Format,
    opts: &IngestOptions,
) -> Outcome {
    let r = match item {
        ReadItem::Bad(b) => return Outcome::Rejected(b),
        ReadItem::Record(r) => r,
    };
    match fields::build_posting(&r, ctx) {
        Ok(built) => {
            let keys = DedupKeys::new(
                &built.posting,
                &built.norm_company,
                built.norm_title,
                &built.norm_description,
                opts.near_duplicates,
            );
            let mut posting =
                Vec::with_capacity(built.posting.description.as_ref().map_or(0, |d| d.len()) + 512);
            encode_posting(&built.posting, &mut posting);
            let mut kb = Vec::with_capacity(400);
            keys.encode(&mut kb);
            Outcome::Accepted {
                month: dedup::month_key_of_days(built.posting.posted_date),
                shard: dedup::key_shard(keys.company_key),
                posting,
                keys: kb,
                columns: built.columns,
                repairs: built.repairs,
            }
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
                readers::cap_raw(&readers::join_delimited(&vals, delim), opts.max_field_bytes)
            });
            Outcome::Rejected(BadRecord {
                number: r.number,
                line: r.line,
                reason,
                raw,
                lossy_utf8: r.lossy_utf8,
            })
        }
    }
}

/// Approximate bytes of field text an item holds (to bound a chunk's memory).
fn item_bytes(item: &ReadItem) -> usize {
    match item {
        ReadItem::Bad(b) => b.raw.len(),
        ReadItem::Record(r) => {
            r.fields
                .iter()
                .map(|(k, v)| {
                    k.len()
                        + match v {
                            serde_json::Value::String(s) => s.len(),
                            _ => 16,
                        }
                })
                .sum::<usize>()
                + r.raw.as_ref().map_or(0, |s| s.len())
        }
    }
}

/// Read `reader` to its end on this thread, sending chunks of items (and the bytes read so far).
fn read_chunks(
    mut reader: Box<dyn RecordReader>,
    tx: std::sync::mpsc::SyncSender<(Vec<ReadItem>, u64)>,
) -> io::Result<Box<dyn RecordReader>> {
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
        let mut bytes = 0usize;
        let mut end = false;
        while chunk.len() < CHUNK_RECORDS && bytes < CHUNK_BYTES {
            match reader.next_item() {
                Ok(Some(item)) => {
                    bytes += item_bytes(&item);
                    chunk.push(item);
                }
                Ok(None) => {
                    end = true;
                    break;
                }
                Err(e) => {
                    // a file unreadable part-way: the records before the error still count
                    if !chunk.is_empty() {
                        let _ = tx.send((chunk, reader.bytes_read()));
                    }
                    return Err(e);
                }
            }
        }
        if !chunk.is_empty() && tx.send((chunk, reader.bytes_read())).is_err() {
            // The consumer stopped (it failed): its error is the one reported.
            return Ok(reader);
        }
        if end {
            return Ok(reader);
        }
    }
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
    // one writer at a time; taking the lock also finishes or removes what a killed run left
    let writer = WriterLock::acquire_for_this_process(out)?;
    let started = chrono::Utc::now();
    let run_id = make_run_id(out, started);
    let staging = out.join(format!("{STAGING_PREFIX}{run_id}"));
    fs::create_dir_all(&staging).map_err(|e| IngestError::io(&staging, e))?;
    match run_staged(inputs, out, &staging, &run_id, started, opts) {
        Ok(report) => {
            commit::commit(&writer, &staging, &run_id)?;
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
        read_input(
            path,
            fi,
            ReadRun {
                opts,
                limits,
                staging,
                run_id,
                spill: &mut spill,
                rejects: &mut rejects,
                rejects_path: &rejects_path,
                counters: &mut counters,
                ingested: &mut ingested,
            },
        )?;
    }
    spill.finish().map_err(|e| IngestError::io(staging, e))?;
    rejects
        .flush()
        .map_err(|e| IngestError::io(&rejects_path, e))?;
    drop(rejects);

    // ---- 2. de-duplicate, 3. write ----
    let (dedup, dup_rel, dup_path) = dedup_step(&spill, out, staging, run_id, opts, &mut counters)?;
    let mut rows_written: BTreeMap<MonthKey, u64> = BTreeMap::new();
    let mut extended = 0u64;
    for w in &dedup.written {
        extended += w.extended;
        if let Some(r) = w.rows {
            rows_written.insert(w.month, r);
        }
    }

    let postings_total = postings_total(out, &dedup.existing, &rows_written)?;

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
        existing_postings_extended: extended,
        postings_total,
        months_written: rows_written
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
        dedup_window_peak_postings: dedup.peak_window_postings,
        dedup_window_peak_bytes: dedup.peak_window_bytes,
        dedup_passes: dedup.passes,
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

/// What reading one input needs from the run: its settings and where accepted postings,
/// rejects, counts and the ingested-inputs record go.
struct ReadRun<'a> {
    opts: &'a IngestOptions,
    limits: Limits,
    staging: &'a Path,
    run_id: &'a str,
    spill: &'a mut Spill,
    rejects: &'a mut BufWriter<File>,
    rejects_path: &'a Path,
    counters: &'a mut Counters,
    ingested: &'a mut BTreeMap<String, IngestedInput>,
}

/// The input's format: `--format`, else from the file name; a directory is refused.
fn input_format(path: &Path, opts: &IngestOptions) -> Result<formats::Format, IngestError> {
    let meta = fs::metadata(path).map_err(|e| IngestError::Input {
        file: path.to_path_buf(),
        source: e,
    })?;
    if meta.is_dir() {
        return Err(IngestError::InputFormat {
            file: path.to_path_buf(),
            message: "is a directory; pass the files inside it".into(),
        });
    }
    match opts.format.or(formats::detect(path).0) {
        Some(f) => Ok(f),
        None => Err(IngestError::InputFormat {
            file: path.to_path_buf(),
            message: "cannot tell the format from the file name; pass --format csv|tsv|jsonl|json|parquet".into(),
        }),
    }
}

/// Where one input file's outcomes go: its report, the run's counters, the spill and the
/// rejects file.
struct FileSink<'a> {
    display: &'a str,
    rep: InputReport,
    /// canonical field → the column that fed it (first seen)
    columns: BTreeMap<String, String>,
    staging: &'a Path,
    spill: &'a mut Spill,
    rejects: &'a mut BufWriter<File>,
    rejects_path: &'a Path,
    counters: &'a mut Counters,
}

impl<'a> FileSink<'a> {
    /// The file's report, with the columns that fed each field, and the run's counters.
    fn finish(self) -> (InputReport, &'a mut Counters) {
        let FileSink {
            mut rep,
            columns,
            counters,
            ..
        } = self;
        rep.columns = columns;
        (rep, counters)
    }

    /// Spills accepted postings and counts their repairs; writes rejects with their reasons.
    fn consume(&mut self, outcomes: Vec<Outcome>) -> Result<(), IngestError> {
        for o in outcomes {
            self.rep.read += 1;
            let bad = match o {
                Outcome::Accepted {
                    month,
                    shard,
                    posting,
                    keys,
                    columns: cols,
                    repairs,
                } => {
                    for (f, c) in cols {
                        self.columns.entry(f.as_str().to_string()).or_insert(c);
                    }
                    if !repairs.is_empty() {
                        self.rep.repaired += 1;
                        for k in &repairs {
                            *self
                                .counters
                                .repaired_by_reason
                                .entry(k.to_string())
                                .or_default() += 1;
                        }
                    }
                    self.spill
                        .push(month, shard, &posting, &keys)
                        .map_err(|e| IngestError::io(self.staging, e))?;
                    continue;
                }
                Outcome::Rejected(b) => b,
            };
            if bad.lossy_utf8 {
                self.rep.repaired += 1;
                *self
                    .counters
                    .repaired_by_reason
                    .entry("invalid_utf8_replaced".into())
                    .or_default() += 1;
            }
            self.reject(&bad)?;
        }
        Ok(())
    }

    /// Counts a rejected record by reason and writes it to the rejects file.
    fn reject(&mut self, bad: &BadRecord) -> Result<(), IngestError> {
        self.rep.rejected += 1;
        *self
            .counters
            .rejected_by_reason
            .entry(bad.reason.key().to_string())
            .or_default() += 1;
        write_reject(self.rejects, self.display, bad)
            .map_err(|e| IngestError::io(self.rejects_path, e))
    }

    /// A file unreadable part-way (a cut download): the records read so far are kept and the
    /// unreadable rest is one rejected record, so the other files of the run are not thrown
    /// away.
    fn truncated(&mut self, e: io::Error) -> Result<(), IngestError> {
        let bad = BadRecord {
            number: self.rep.read + 1,
            line: 0,
            reason: readers::Reject::TruncatedInput {
                message: e.to_string(),
            },
            raw: String::new(),
            lossy_utf8: false,
        };
        self.rep.read += 1;
        self.reject(&bad)?;
        self.rep.notes.push(format!(
            "truncated: unreadable after record {} ({e}); the records before it are kept",
            self.rep.read - 1
        ));
        Ok(())
    }
}

/// Step 1 for one input file (`fi`: its position among the run's inputs): detect the format,
/// stream it through the reader thread, spill accepted postings, write rejects, and record the
/// file's [`InputReport`]. A file cut off part-way keeps the records before the cut.
fn read_input(path: &Path, fi: usize, run: ReadRun<'_>) -> Result<(), IngestError> {
    let ReadRun {
        opts,
        limits,
        staging,
        run_id,
        spill,
        rejects,
        rejects_path,
        counters,
        ingested,
    } = run;
    let display = path.display().to_string();
    let input_err = |e: io::Error| IngestError::Input {
        file: path.to_path_buf(),
        source: e,
    };
    let format = input_format(path, opts)?;
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
    let reader = readers::open(path, format, limits).map_err(input_err)?;
    let mut sink = FileSink {
        display: &display,
        rep,
        columns: BTreeMap::new(),
        staging,
        spill,
        rejects,
        rejects_path,
        counters,
    };
    // A reader thread parses the file while the chunks it produced are processed in
    // parallel here and consumed in input order.
    let (reader, consumed) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<ReadItem>, u64)>(2);
        let handle = scope.spawn(move || read_chunks(reader, tx));
        let mut consumed: Result<(), IngestError> = Ok(());
        for (chunk, pos) in rx.iter() {
            let outcomes: Vec<Outcome> = chunk
                .into_par_iter()
                .map(|item| process_item(item, &ctx, format, opts))
                .collect();
            consumed = sink.consume(outcomes);
            if consumed.is_err() {
                break;
            }
            pb.set_position(pos);
        }
        drop(rx);
        let reader = handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")));
        (reader, consumed)
    });
    consumed?;
    pb.finish_and_clear();
    match reader {
        Ok(reader) => sink.rep.notes.extend(reader.notes()),
        // unreadable from the start: the run stops and the dataset is unchanged
        Err(e) if sink.rep.read == 0 => return Err(input_err(e)),
        // truncated or corrupt part-way: the file is not marked ingested, so fixing it and
        // ingesting it again reads it in full
        Err(e) => {
            sink.truncated(e)?;
            let (rep, counters) = sink.finish();
            counters.inputs.push(rep);
            return Ok(());
        }
    }
    let (mut rep, counters) = sink.finish();
    if rep.read == 0 && !rep.notes.iter().any(|n| n.contains("empty")) {
        rep.notes.push("no records".into());
    }
    counters.inputs.push(rep);
    ingested.entry(digest).or_insert(IngestedInput {
        file: display,
        run_id: run_id.to_string(),
    });
    Ok(())
}

/// Steps 2 and 3: de-duplicate the spilled postings against each other and the dataset, and
/// write the months (see `passes`); every duplicate decision goes to `duplicates/RUN.jsonl`.
/// Returns the passes' outcome and that file (relative to the dataset, and staged).
fn dedup_step(
    spill: &Spill,
    out: &Path,
    staging: &Path,
    run_id: &str,
    opts: &IngestOptions,
    counters: &mut Counters,
) -> Result<(passes::DedupSummary, String, PathBuf), IngestError> {
    let dup_rel = format!("duplicates/{run_id}.jsonl");
    let dup_path = staging.join(&dup_rel);
    fs::create_dir_all(staging.join("duplicates")).map_err(|e| IngestError::io(staging, e))?;
    let mut dups_out =
        BufWriter::new(File::create(&dup_path).map_err(|e| IngestError::io(&dup_path, e))?);
    let input_names: Vec<String> = counters.inputs.iter().map(|i| i.file.clone()).collect();
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
    let dedup = passes::dedup_and_write(
        spill,
        out,
        staging,
        opts,
        &mut passes::DecisionLog {
            inputs: &mut counters.inputs,
            input_names: &input_names,
            duplicates: &mut dups_out,
            duplicates_path: &dup_path,
            progress: &pb,
        },
    )?;
    pb.finish_and_clear();
    dups_out
        .flush()
        .map_err(|e| IngestError::io(&dup_path, e))?;
    drop(dups_out);
    let _ = fs::remove_dir_all(staging.join("spill"));
    Ok((dedup, dup_rel, dup_path))
}

/// Postings in the dataset after the run: the months written now plus the untouched ones.
fn postings_total(
    out: &Path,
    existing: &std::collections::BTreeSet<MonthKey>,
    rows_written: &BTreeMap<MonthKey, u64>,
) -> Result<u64, IngestError> {
    let mut postings_total = 0u64;
    for k in existing.iter() {
        if rows_written.contains_key(k) {
            continue;
        }
        let dir = store::month_dir(out, *k);
        for f in DatasetDir::parquet_files(&dir).map_err(|e| IngestError::io(&dir, e))? {
            postings_total += store::parquet_rows(&f)?;
        }
    }
    postings_total += rows_written.values().sum::<u64>();

    Ok(postings_total)
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

//! The ingest run, end to end.
//!
//! 1. Read: every input is streamed record by record by a reader thread, in chunks; the chunk's
//!    records are validated, normalized, hashed and MinHashed in parallel (rayon; the order of
//!    the results is the input order, so everything downstream is deterministic), then, in
//!    order, rejects go to the staged rejects file and valid postings are spilled per posting
//!    month: the posting itself (binary, zstd-compressed frames) and, apart, its dedup keys (ids,
//!    company key, normalized title, MinHash signature — see [`DedupKeys`]).
//!    An unreadable input stops the run here and the staging directory is deleted.
//! 2. De-duplicate: months are processed in date order; within a month the spilled keys are
//!    sorted by (date, arrival) — only a 24-byte entry per posting of the month is held — and
//!    read back one at a time, so the earliest copy is the kept one whatever the input order.
//!    Existing months of the dataset within the window are loaded from the persisted index
//!    before they can match, and a month is finalized (written and evicted) as soon as no later
//!    posting can touch it, so memory is bounded by the postings of a window, not by the input.
//! 3. Write: a finalized month is handed to a writer thread (so Parquet encoding overlaps the
//!    de-duplication of the next months) and written as a whole new partition (existing rows
//!    with extended first_seen/last_seen/duplicates + new rows); the index and the report are
//!    staged, then everything is swapped in (see `store`).

use crate::dedup::{self, ByteReader, Decision, DedupIndex, DedupKeys, MonthIndex, MonthKey};
use crate::fields::{self, FileContext, Posting};
use crate::formats;
use crate::readers::{self, BadRecord, Limits, ReadItem, RecordReader};
use crate::store::{self, PostingsBatchBuilder};
use crate::{IngestError, IngestOptions, IngestReport, InputReport, ReportSettings};
use indicatif::{ProgressBar, ProgressStyle};
use jobshift_core::atomic;
use jobshift_core::dataset::DatasetDir;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Records per parallel chunk, and the most bytes of field text a chunk may hold.
const CHUNK_RECORDS: usize = 1024;
const CHUNK_BYTES: usize = 8 << 20;
/// A month's spill buffers are flushed at these sizes; all buffers when their total passes
/// `SPILL_BUFFERED_MAX`, so spill memory is bounded whatever the number of months.
const SPILL_POSTINGS_FLUSH: usize = 1 << 20;
const SPILL_KEYS_FLUSH: usize = 256 << 10;
const SPILL_BUFFERED_MAX: usize = 48 << 20;
/// zstd level of the spilled postings (fast; the spill is read back once).
const SPILL_ZSTD_LEVEL: i32 = 1;

// ---- the binary spill format ----
//
// Hand-written (a few lines) rather than serde_json: the spill is written and read back once
// per posting and JSON (escaping, parsing 2 KB descriptions) was a large share of the run.

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
}

fn get_opt(r: &mut ByteReader<'_>) -> Option<Option<String>> {
    let n = u32::from_le_bytes(r.take()?);
    if n == u32::MAX {
        return Some(None);
    }
    Some(Some(
        String::from_utf8_lossy(r.bytes(n as usize)?).into_owned(),
    ))
}

fn get_str(r: &mut ByteReader<'_>) -> Option<String> {
    get_opt(r)?
}

pub(crate) fn encode_posting(p: &Posting, out: &mut Vec<u8>) {
    put_str(out, &p.posting_id);
    put_str(out, &p.exact_key);
    put_str(out, &p.source);
    put_opt(out, p.company.as_deref());
    put_str(out, &p.title);
    put_opt(out, p.description.as_deref());
    put_opt(out, p.location.as_deref());
    put_opt(out, p.country.as_deref());
    out.extend_from_slice(&p.posted_date.to_le_bytes());
    put_str(out, &p.date_precision);
    put_opt(out, p.url.as_deref());
    put_opt(out, p.extra.as_deref());
    put_str(out, &p.input_file);
    out.extend_from_slice(&p.input_record.to_le_bytes());
    out.extend_from_slice(&p.file_index.to_le_bytes());
    out.push(p.replay as u8);
}

pub(crate) fn decode_posting(b: &[u8]) -> Option<Posting> {
    let mut r = ByteReader(b);
    Some(Posting {
        posting_id: get_str(&mut r)?,
        exact_key: get_str(&mut r)?,
        source: get_str(&mut r)?,
        company: get_opt(&mut r)?,
        title: get_str(&mut r)?,
        description: get_opt(&mut r)?,
        location: get_opt(&mut r)?,
        country: get_opt(&mut r)?,
        posted_date: i32::from_le_bytes(r.take()?),
        date_precision: get_str(&mut r)?,
        url: get_opt(&mut r)?,
        extra: get_opt(&mut r)?,
        input_file: get_str(&mut r)?,
        input_record: u64::from_le_bytes(r.take()?),
        file_index: u32::from_le_bytes(r.take()?),
        replay: r.take::<1>()?[0] != 0,
    })
}

/// Read one length-prefixed record; None at a clean end of stream.
fn read_record(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Option<()>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    buf.clear();
    buf.resize(u32::from_le_bytes(len) as usize, 0);
    r.read_exact(buf)?;
    Ok(Some(()))
}

#[derive(Default)]
struct MonthSpill {
    postings: Vec<u8>,
    keys: Vec<u8>,
}

/// Spilled postings: per month, `<month>.postings.zst` (length-prefixed binary postings in
/// concatenated zstd frames) and `<month>.keys` (length-prefixed [`DedupKeys`]), both in
/// arrival order.
struct Spill {
    dir: PathBuf,
    months: BTreeMap<MonthKey, MonthSpill>,
    counts: BTreeMap<MonthKey, u64>,
    buffered: usize,
    compressor: zstd::bulk::Compressor<'static>,
    bytes_raw: u64,
    bytes_written: u64,
}

impl Spill {
    fn new(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            months: BTreeMap::new(),
            counts: BTreeMap::new(),
            buffered: 0,
            compressor: zstd::bulk::Compressor::new(SPILL_ZSTD_LEVEL)?,
            bytes_raw: 0,
            bytes_written: 0,
        })
    }
    fn postings_path(&self, k: MonthKey) -> PathBuf {
        self.dir
            .join(format!("{}.postings.zst", dedup::month_label(k)))
    }
    fn keys_path(&self, k: MonthKey) -> PathBuf {
        self.dir.join(format!("{}.keys", dedup::month_label(k)))
    }
    fn push(&mut self, k: MonthKey, posting: &[u8], keys: &[u8]) -> io::Result<()> {
        let m = self.months.entry(k).or_default();
        m.postings
            .extend_from_slice(&(posting.len() as u32).to_le_bytes());
        m.postings.extend_from_slice(posting);
        m.keys.extend_from_slice(&(keys.len() as u32).to_le_bytes());
        m.keys.extend_from_slice(keys);
        self.buffered += posting.len() + keys.len() + 8;
        *self.counts.entry(k).or_default() += 1;
        let (p_full, k_full) = (
            m.postings.len() >= SPILL_POSTINGS_FLUSH,
            m.keys.len() >= SPILL_KEYS_FLUSH,
        );
        if p_full || k_full {
            self.flush_month(k, p_full, k_full)?;
        }
        if self.buffered > SPILL_BUFFERED_MAX {
            self.finish()?;
        }
        Ok(())
    }
    fn flush_month(&mut self, k: MonthKey, postings: bool, keys: bool) -> io::Result<()> {
        let (pp, kp) = (self.postings_path(k), self.keys_path(k));
        let Some(m) = self.months.get_mut(&k) else {
            return Ok(());
        };
        let append = |path: &Path, bytes: &[u8]| -> io::Result<()> {
            let mut f = OpenOptions::new().create(true).append(true).open(path)?;
            f.write_all(bytes)
        };
        if postings && !m.postings.is_empty() {
            let frame = self.compressor.compress(&m.postings)?;
            append(&pp, &frame)?;
            self.bytes_raw += m.postings.len() as u64;
            self.bytes_written += frame.len() as u64;
            self.buffered = self.buffered.saturating_sub(m.postings.len());
            m.postings.clear();
        }
        if keys && !m.keys.is_empty() {
            append(&kp, &m.keys)?;
            self.buffered = self.buffered.saturating_sub(m.keys.len());
            m.keys.clear();
        }
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        let ks: Vec<MonthKey> = self.months.keys().copied().collect();
        for k in ks {
            self.flush_month(k, true, true)?;
        }
        self.months.clear();
        self.buffered = 0;
        Ok(())
    }
}

/// (date, arrival index, byte offset, length) of every spilled key record of a month.
fn scan_keys(path: &Path) -> Result<Vec<(i32, u32, u64, u32)>, IngestError> {
    let f = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut buf = Vec::new();
    while read_record(&mut r, &mut buf)
        .map_err(|e| IngestError::io(path, e))?
        .is_some()
    {
        let days = buf
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_le_bytes)
            .unwrap_or(0);
        out.push((days, out.len() as u32, offset + 4, buf.len() as u32));
        offset += 4 + buf.len() as u64;
    }
    Ok(out)
}

fn corrupt_spill(path: &Path) -> IngestError {
    IngestError::Dataset {
        dir: path.to_path_buf(),
        message: "corrupt staging spill record".into(),
    }
}

/// The result of processing one read item (in parallel).
enum Outcome {
    Accepted {
        month: MonthKey,
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
            match reader.next_item()? {
                Some(item) => {
                    bytes += item_bytes(&item);
                    chunk.push(item);
                }
                None => {
                    end = true;
                    break;
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
        let reader = readers::open(path, format, limits).map_err(input_err)?;
        let mut columns: BTreeMap<String, String> = BTreeMap::new();
        let mut consume = |outcomes: Vec<Outcome>| -> Result<(), IngestError> {
            for o in outcomes {
                rep.read += 1;
                let bad = match o {
                    Outcome::Accepted {
                        month,
                        posting,
                        keys,
                        columns: cols,
                        repairs,
                    } => {
                        for (f, c) in cols {
                            columns.entry(f.as_str().to_string()).or_insert(c);
                        }
                        if !repairs.is_empty() {
                            rep.repaired += 1;
                            for k in &repairs {
                                *counters
                                    .repaired_by_reason
                                    .entry(k.to_string())
                                    .or_default() += 1;
                            }
                        }
                        spill
                            .push(month, &posting, &keys)
                            .map_err(|e| IngestError::io(staging, e))?;
                        continue;
                    }
                    Outcome::Rejected(b) => b,
                };
                rep.rejected += 1;
                if bad.lossy_utf8 {
                    rep.repaired += 1;
                    *counters
                        .repaired_by_reason
                        .entry("invalid_utf8_replaced".into())
                        .or_default() += 1;
                }
                *counters
                    .rejected_by_reason
                    .entry(bad.reason.key().to_string())
                    .or_default() += 1;
                write_reject(&mut rejects, &display, &bad)
                    .map_err(|e| IngestError::io(&rejects_path, e))?;
            }
            Ok(())
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
                consumed = consume(outcomes);
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
        let reader = reader.map_err(input_err)?;
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
    let input_names: Vec<String> = counters.inputs.iter().map(|i| i.file.clone()).collect();
    let mut dedup = Deduper {
        out,
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
        exact: 0,
        near: 0,
        peak_window_postings: 0,
        peak_window_bytes: 0,
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
    let batch_rows = opts.batch_rows;
    // Finalized months are written by this thread while the next months are de-duplicated.
    let written: Result<Vec<Written>, IngestError> = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<FinalizeJob>(0);
        let writer = scope.spawn(move || -> Result<Vec<Written>, IngestError> {
            let mut done = Vec::new();
            for job in rx.iter() {
                done.push(finalize_month(out, staging, batch_rows, job)?);
            }
            Ok(done)
        });
        let send = |job: FinalizeJob| -> Result<(), ()> { tx.send(job).map_err(|_| ()) };
        let deduped: Result<(), IngestError> = (|| {
            let mut buf = Vec::new();
            for (si, &m) in spill_months.iter().enumerate() {
                let (start, end) = dedup::month_bounds(m);
                let lo = dedup::month_key_of_days(start.saturating_sub(window));
                let hi = dedup::month_key_of_days(end.saturating_add(window));
                let to_load: Vec<MonthKey> = dedup.existing.range(lo..=hi).copied().collect();
                for k in to_load {
                    dedup.load(k)?;
                }
                dedup.pending.insert(m);
                let keys_path = spill.keys_path(m);
                let mut entries = scan_keys(&keys_path)?;
                entries.sort_unstable_by_key(|e| (e.0, e.1));
                let file = File::open(&keys_path).map_err(|e| IngestError::io(&keys_path, e))?;
                let mut kept = vec![false; entries.len()];
                for (_, idx, offset, len) in entries {
                    use std::os::unix::fs::FileExt;
                    buf.clear();
                    buf.resize(len as usize, 0);
                    file.read_exact_at(&mut buf, offset)
                        .map_err(|e| IngestError::io(&keys_path, e))?;
                    let k = DedupKeys::decode(&buf).ok_or_else(|| corrupt_spill(&keys_path))?;
                    let fi = k.file_index as usize;
                    let decision = dedup.index.decide(&k);
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
                                    dedup.near += 1;
                                    ("near", Some((similarity * 1000.0).round() / 1000.0))
                                }
                                _ => {
                                    dedup.exact += 1;
                                    ("exact", None)
                                }
                            };
                            if let Some(r) = counters.inputs.get_mut(fi) {
                                r.duplicates += 1;
                            }
                            let line = DuplicateLine {
                                file: input_names.get(fi).map(String::as_str).unwrap_or(""),
                                record: k.input_record,
                                posted_date: crate::dates::from_days(k.posted_date).to_string(),
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
                drop(file);
                let _ = fs::remove_file(&keys_path);
                dedup.kept_flags.insert(m, kept);
                dedup.spill_paths.insert(m, spill.postings_path(m));
                dedup.peak_window_postings =
                    dedup.peak_window_postings.max(dedup.index.len() as u64);
                dedup.peak_window_bytes = dedup.peak_window_bytes.max(dedup.index.bytes() as u64);
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
                    if send(dedup.finalize_job(k)).is_err() {
                        return Ok(()); // the writer failed; its error is reported below
                    }
                }
            }
            let rest: Vec<MonthKey> = dedup.pending.iter().copied().collect();
            for k in rest {
                if send(dedup.finalize_job(k)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        })();
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(IngestError::Options("the writer thread panicked".into())));
        deduped?;
        written
    });
    let written = written?;
    pb.finish_and_clear();
    dups_out
        .flush()
        .map_err(|e| IngestError::io(&dup_path, e))?;
    drop(dups_out);
    let _ = fs::remove_dir_all(staging.join("spill"));
    let (peak_window_postings, peak_window_bytes) =
        (dedup.peak_window_postings, dedup.peak_window_bytes);
    let mut rows_written: BTreeMap<MonthKey, u64> = BTreeMap::new();
    let mut extended = 0u64;
    for w in &written {
        extended += w.extended;
        if let Some(r) = w.rows {
            rows_written.insert(w.month, r);
        }
    }

    // Total postings after the run.
    let mut postings_total = 0u64;
    for k in dedup.existing.iter() {
        if rows_written.contains_key(k) {
            continue;
        }
        let dir = store::month_dir(out, *k);
        for f in DatasetDir::parquet_files(&dir).map_err(|e| IngestError::io(&dir, e))? {
            postings_total += store::parquet_rows(&f)?;
        }
    }
    postings_total += rows_written.values().sum::<u64>();

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
        dedup_window_peak_postings: peak_window_postings,
        dedup_window_peak_bytes: peak_window_bytes,
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

/// The month-by-month de-duplication state.
struct Deduper<'a> {
    out: &'a Path,
    index: DedupIndex,
    existing: BTreeSet<MonthKey>,
    loaded: BTreeSet<MonthKey>,
    pending: BTreeSet<MonthKey>,
    finalized: BTreeSet<MonthKey>,
    kept_flags: HashMap<MonthKey, Vec<bool>>,
    spill_paths: HashMap<MonthKey, PathBuf>,
    exact: u64,
    near: u64,
    /// Most kept postings held in the window at once, and their heap bytes.
    peak_window_postings: u64,
    peak_window_bytes: u64,
}

/// A month to write: its postings' final states, which new postings were kept, and where they
/// and the existing partition are.
struct FinalizeJob {
    month: MonthKey,
    states: MonthIndex,
    kept: Vec<bool>,
    spill: Option<PathBuf>,
    existing: bool,
}

/// What writing a month did.
struct Written {
    month: MonthKey,
    /// Rows of the new partition, None when the month was left as it was.
    rows: Option<u64>,
    /// Existing postings whose counters changed.
    extended: u64,
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

    /// Evict month `k` from the window; the writer thread writes it.
    fn finalize_job(&mut self, k: MonthKey) -> FinalizeJob {
        self.pending.remove(&k);
        self.finalized.insert(k);
        FinalizeJob {
            month: k,
            states: self.index.evict_month(k),
            kept: self.kept_flags.remove(&k).unwrap_or_default(),
            spill: self.spill_paths.remove(&k),
            existing: self.existing.contains(&k),
        }
    }
}

/// Write month `job.month` (when it has new or changed postings) into the staging directory.
fn finalize_month(
    out: &Path,
    staging: &Path,
    batch_rows: usize,
    job: FinalizeJob,
) -> Result<Written, IngestError> {
    let k = job.month;
    let changed_existing = job.states.changed_existing() as u64;
    let new_rows = job.kept.iter().filter(|x| **x).count();
    let index_missing = job.existing && !store::index_file(out, k).exists();
    if new_rows == 0 && changed_existing == 0 {
        if index_missing && !job.states.is_empty() {
            store::write_index(&store::index_file(staging, k), &job.states)?;
        }
        if let Some(sp) = &job.spill {
            let _ = fs::remove_file(sp);
        }
        return Ok(Written {
            month: k,
            rows: None,
            extended: 0,
        });
    }
    let seen = job.states.seen_by_id();
    let part = store::month_dir(staging, k).join(store::PART_FILE);
    let existing_files = if job.existing {
        let d = store::month_dir(out, k);
        DatasetDir::parquet_files(&d).map_err(|e| IngestError::io(&d, e))?
    } else {
        Vec::new()
    };
    let kept = &job.kept;
    let rows = store::write_postings_file(&part, |sink| {
        let mut rows = 0u64;
        let to_io = |e: IngestError| io::Error::other(e.to_string());
        store::for_each_batch(&existing_files, |p, b| {
            let nb = store::update_existing_batch(&b, &seen, p)?;
            rows += nb.num_rows() as u64;
            sink(nb).map_err(|e| IngestError::io(p, e))
        })
        .map_err(to_io)?;
        if let Some(sp) = &job.spill {
            let f = File::open(sp)?;
            let mut r = BufReader::with_capacity(1 << 20, zstd::stream::read::Decoder::new(f)?);
            let mut buf = Vec::new();
            let mut i = 0usize;
            let mut builder = PostingsBatchBuilder::new();
            while read_record(&mut r, &mut buf)?.is_some() {
                if kept.get(i).copied().unwrap_or(false) {
                    let p = decode_posting(&buf).ok_or_else(|| to_io(corrupt_spill(sp)))?;
                    let id = dedup::parse_id(&p.posting_id);
                    let state = seen
                        .get(&id)
                        .copied()
                        .unwrap_or((p.posted_date, p.posted_date, 0));
                    builder.push(&p, state);
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
    if let Some(sp) = &job.spill {
        let _ = fs::remove_file(sp);
    }
    store::write_index(&store::index_file(staging, k), &job.states)?;
    Ok(Written {
        month: k,
        rows: Some(rows),
        extended: changed_existing,
    })
}

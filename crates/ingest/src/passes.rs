//! De-duplication passes over the spilled keys, and the writer of finalized months.
//!
//! Memory is the window: every kept posting a later one could still match (about 850 bytes
//! each, see [`WINDOW_BYTES_PER_POSTING`]). It grows with postings per month, not with the
//! input, but a dense corpus (the study's 180M postings over two years is ~7.5M a month) would
//! need many GB. So the window is split by company: the keys are spilled to
//! [`dedup::KEY_SHARDS`] shards by company (both kinds of duplicate need the same company), and
//! de-duplication runs as `passes` passes, pass `p` over the shards `s` with `s % passes == p`,
//! each holding only its share of the window. The number of passes is the smallest power of two
//! whose largest pass window fits `IngestOptions::dedup_memory` (planned from the spilled counts
//! per month and shard, so a giant company is counted where it is). Decisions do not depend on
//! the number of passes: each company's postings are decided in the same (date, arrival) order.
//!
//! What a pass decides for a month is kept until the last pass has decided it too: the new
//! postings it kept (arrival number and final counters, `<month>.pN.kept`), its part of the
//! month's persisted index (`index/<month>.pN.parquet`) and, in memory, the existing postings
//! whose counters changed (at most one per duplicate of this run). The last pass hands its own
//! share in memory to the writer thread, which writes the month while the next months are
//! de-duplicated: the existing partition (counters updated), the kept new postings in arrival
//! order (merging the passes' kept files), and the index (the parts, then the last share).

use crate::dedup::{self, Decision, DedupIndex, MonthIndex, MonthKey, KEY_SHARDS};
use crate::spill::{self, KeyEntry, Spill};
use crate::store::{self, PostingsBatchBuilder};
use crate::{IngestError, IngestOptions, InputReport};
use indicatif::ProgressBar;
use jobshift_core::dataset::DatasetDir;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Heap bytes of the window per kept posting (slot 80, signature 256, LSH and exact tables with
/// their growth headroom, title): 853 B measured at the 10M ingest benchmark.
pub const WINDOW_BYTES_PER_POSTING: u64 = 850;

/// (first_seen, last_seen, duplicates) of a kept posting.
type Counters = (i32, i32, u32);

/// A kept-record of `<month>.pN.kept`: arrival, first_seen, last_seen, duplicates (LE).
const KEPT_RECORD: usize = 16;

/// What the passes did, for the run's report.
pub(crate) struct DedupSummary {
    pub written: Vec<Written>,
    pub existing: BTreeSet<MonthKey>,
    pub exact: u64,
    pub near: u64,
    pub passes: u32,
    /// Most kept postings one pass's window held at once, and their heap bytes.
    pub peak_window_postings: u64,
    pub peak_window_bytes: u64,
}

/// What writing a month did.
pub(crate) struct Written {
    pub month: MonthKey,
    /// Rows of the new partition, None when the month was left as it was.
    pub rows: Option<u64>,
    /// Existing postings whose counters changed.
    pub extended: u64,
}

#[derive(Serialize)]
struct DuplicateLine<'a> {
    file: &'a str,
    record: u64,
    posted_date: String,
    duplicate_of: String,
    kind: &'static str,
    similarity: Option<f64>,
}

/// Where the duplicate decisions and per-input counts go.
pub(crate) struct DecisionLog<'a, W: Write> {
    pub inputs: &'a mut [InputReport],
    pub input_names: &'a [String],
    pub duplicates: W,
    pub duplicates_path: &'a Path,
    pub progress: &'a ProgressBar,
}

/// The months (of the spill) whose postings a posting of month `m` may match or be matched by
/// while `m` is decided: earlier spill months still within the window.
fn window_lo(m: MonthKey, window: i32) -> MonthKey {
    dedup::month_key_of_days(dedup::month_bounds(m).0.saturating_sub(window))
}

fn window_hi(m: MonthKey, window: i32) -> MonthKey {
    dedup::month_key_of_days(dedup::month_bounds(m).1.saturating_add(window))
}

/// The number of passes: the smallest power of two (≤ [`KEY_SHARDS`]) whose largest pass
/// window, estimated from the spilled counts per (month, shard) and the existing months' rows,
/// fits `budget` bytes.
pub(crate) fn plan_passes(
    shard_counts: &BTreeMap<(MonthKey, u32), u64>,
    existing_rows: &BTreeMap<MonthKey, u64>,
    window: i32,
    budget: u64,
) -> u32 {
    let months: BTreeSet<MonthKey> = shard_counts.keys().map(|(m, _)| *m).collect();
    let mut passes = 1u32;
    loop {
        let worst = (0..passes)
            .map(|p| {
                months
                    .iter()
                    .map(|&m| {
                        let spilled: u64 = shard_counts
                            .range((window_lo(m, window), 0)..=(m, u32::MAX))
                            .filter(|((_, s), _)| s % passes == p)
                            .map(|(_, c)| *c)
                            .sum();
                        let existing: u64 = existing_rows
                            .range(window_lo(m, window)..=window_hi(m, window))
                            .map(|(_, r)| r.div_ceil(passes as u64))
                            .sum();
                        spilled + existing
                    })
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        if worst.saturating_mul(WINDOW_BYTES_PER_POSTING) <= budget || passes >= KEY_SHARDS {
            return passes;
        }
        passes *= 2;
    }
}

/// A month the writer thread writes: the passes' shares of its decisions.
struct FinalizeJob {
    month: MonthKey,
    /// The last pass's share of the month's kept postings (existing and new).
    last: MonthIndex,
    /// Earlier passes' index parts and kept files.
    index_parts: Vec<PathBuf>,
    kept_files: Vec<PathBuf>,
    /// Existing postings whose counters earlier passes changed.
    changed: HashMap<u128, Counters>,
    /// New postings kept, over all passes.
    new_rows: u64,
    spill: Option<PathBuf>,
    existing: bool,
}

/// One pass's month-by-month state, and what passes hand on to the last one.
struct Deduper<'a> {
    out: &'a Path,
    spill: &'a Spill,
    window: i32,
    passes: u32,
    pass: u32,
    index: DedupIndex,
    existing: BTreeSet<MonthKey>,
    loaded: BTreeSet<MonthKey>,
    pending: BTreeSet<MonthKey>,
    finalized: BTreeSet<MonthKey>,
    // Carried across passes:
    index_parts: HashMap<MonthKey, Vec<PathBuf>>,
    kept_files: HashMap<MonthKey, Vec<PathBuf>>,
    changed: HashMap<MonthKey, HashMap<u128, Counters>>,
    new_rows: HashMap<MonthKey, u64>,
    exact: u64,
    near: u64,
    peak_window_postings: u64,
    peak_window_bytes: u64,
}

impl Deduper<'_> {
    fn in_pass(&self, company_key: u64) -> bool {
        dedup::key_shard(company_key) % self.passes == self.pass
    }

    fn load(&mut self, k: MonthKey) -> Result<(), IngestError> {
        if self.loaded.contains(&k) || self.finalized.contains(&k) {
            return Ok(());
        }
        for s in store::load_index(self.out, k, |ck| self.in_pass(ck))? {
            self.index.insert(s);
        }
        self.loaded.insert(k);
        self.pending.insert(k);
        Ok(())
    }

    /// Evict month `k` from this pass's window. Earlier passes persist their share in the spill
    /// directory; the last pass returns the job for the writer.
    fn evict(&mut self, k: MonthKey) -> Result<Option<FinalizeJob>, IngestError> {
        self.pending.remove(&k);
        self.finalized.insert(k);
        let states = self.index.evict_month(k);
        if self.pass + 1 == self.passes {
            return Ok(Some(FinalizeJob {
                month: k,
                last: states,
                index_parts: self.index_parts.remove(&k).unwrap_or_default(),
                kept_files: self.kept_files.remove(&k).unwrap_or_default(),
                changed: self.changed.remove(&k).unwrap_or_default(),
                new_rows: self.new_rows.get(&k).copied().unwrap_or(0),
                spill: self
                    .spill
                    .counts
                    .contains_key(&k)
                    .then(|| self.spill.postings_path(k)),
                existing: self.existing.contains(&k),
            }));
        }
        if states.is_empty() {
            return Ok(None);
        }
        let label = dedup::month_label(k);
        let part = self
            .spill
            .dir()
            .join("index")
            .join(format!("{label}.p{:02}.parquet", self.pass));
        store::write_index(&part, &states)?;
        self.index_parts.entry(k).or_default().push(part);
        let kept = states.new_kept_by_arrival();
        if !kept.is_empty() {
            let path = self
                .spill
                .dir()
                .join(format!("{label}.p{:02}.kept", self.pass));
            write_kept(&path, &kept).map_err(|e| IngestError::io(&path, e))?;
            self.kept_files.entry(k).or_default().push(path);
        }
        self.changed
            .entry(k)
            .or_default()
            .extend(states.changed_existing());
        Ok(None)
    }
}

fn write_kept(path: &Path, kept: &[(u32, i32, i32, u32)]) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    for &(a, f, l, d) in kept {
        w.write_all(&a.to_le_bytes())?;
        w.write_all(&f.to_le_bytes())?;
        w.write_all(&l.to_le_bytes())?;
        w.write_all(&d.to_le_bytes())?;
    }
    w.flush()
}

/// Decide every spilled posting (pass by pass, month by month) and write the finalized months
/// into `staging`, the writer thread overlapping the last pass.
pub(crate) fn dedup_and_write<W: Write>(
    spill: &Spill,
    out: &Path,
    staging: &Path,
    opts: &IngestOptions,
    log: &mut DecisionLog<'_, W>,
) -> Result<DedupSummary, IngestError> {
    let window = opts.dedup_window_days.clamp(0, 100_000) as i32;
    let existing: BTreeSet<MonthKey> = store::existing_months(out)?.into_iter().collect();
    let spill_months: Vec<MonthKey> = spill.counts.keys().copied().collect();
    let passes = match opts.dedup_passes {
        Some(n) => n.clamp(1, KEY_SHARDS),
        None => {
            let mut existing_rows = BTreeMap::new();
            for &m in &spill_months {
                for &k in existing.range(window_lo(m, window)..=window_hi(m, window)) {
                    if let std::collections::btree_map::Entry::Vacant(e) = existing_rows.entry(k) {
                        e.insert(existing_month_rows(out, k)?);
                    }
                }
            }
            plan_passes(
                &spill.shard_counts,
                &existing_rows,
                window,
                opts.dedup_memory,
            )
        }
    };
    fs::create_dir_all(spill.dir().join("index")).map_err(|e| IngestError::io(spill.dir(), e))?;
    let new_index = || {
        DedupIndex::new(
            opts.dedup_window_days,
            opts.near_dup_threshold,
            opts.near_duplicates,
        )
    };
    let mut d = Deduper {
        out,
        spill,
        window,
        passes,
        pass: 0,
        index: new_index(),
        existing,
        loaded: BTreeSet::new(),
        pending: BTreeSet::new(),
        finalized: BTreeSet::new(),
        index_parts: HashMap::new(),
        kept_files: HashMap::new(),
        changed: HashMap::new(),
        new_rows: HashMap::new(),
        exact: 0,
        near: 0,
        peak_window_postings: 0,
        peak_window_bytes: 0,
    };
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
        let deduped = (|| -> Result<(), IngestError> {
            for pass in 0..passes {
                d.pass = pass;
                d.index = new_index();
                d.loaded.clear();
                d.pending.clear();
                d.finalized.clear();
                for (si, &m) in spill_months.iter().enumerate() {
                    let next_start = spill_months.get(si + 1).map(|n| dedup::month_bounds(*n).0);
                    decide_month(&mut d, m, log)?;
                    let ready: Vec<MonthKey> = d
                        .pending
                        .iter()
                        .copied()
                        .filter(|k| match next_start {
                            Some(ns) => {
                                dedup::month_bounds(*k).1 as i64 + (window as i64) < ns as i64
                            }
                            None => false,
                        })
                        .collect();
                    for k in ready {
                        if let Some(job) = d.evict(k)? {
                            if tx.send(job).is_err() {
                                return Ok(()); // the writer failed; its error is reported below
                            }
                        }
                    }
                }
                let rest: Vec<MonthKey> = d.pending.iter().copied().collect();
                for k in rest {
                    if let Some(job) = d.evict(k)? {
                        if tx.send(job).is_err() {
                            return Ok(());
                        }
                    }
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
    Ok(DedupSummary {
        written: written?,
        existing: d.existing,
        exact: d.exact,
        near: d.near,
        passes,
        peak_window_postings: d.peak_window_postings,
        peak_window_bytes: d.peak_window_bytes,
    })
}

/// Rows of an existing month (its index's, or its postings' when the index is missing).
fn existing_month_rows(out: &Path, k: MonthKey) -> Result<u64, IngestError> {
    let index = store::index_file(out, k);
    if index.exists() {
        return store::parquet_rows(&index);
    }
    let dir = store::month_dir(out, k);
    let mut rows = 0;
    for f in DatasetDir::parquet_files(&dir).map_err(|e| IngestError::io(&dir, e))? {
        rows += store::parquet_rows(&f)?;
    }
    Ok(rows)
}

/// Decide the postings of spill month `m` that belong to the current pass, in (date, arrival)
/// order.
fn decide_month<W: Write>(
    d: &mut Deduper<'_>,
    m: MonthKey,
    log: &mut DecisionLog<'_, W>,
) -> Result<(), IngestError> {
    let window = d.window;
    let to_load: Vec<MonthKey> = d
        .existing
        .range(window_lo(m, window)..=window_hi(m, window))
        .copied()
        .collect();
    for k in to_load {
        d.load(k)?;
    }
    d.pending.insert(m);
    let spill = d.spill;
    let shards: Vec<u32> = (0..KEY_SHARDS)
        .filter(|s| s % d.passes == d.pass && spill.shard_counts.contains_key(&(m, *s)))
        .collect();
    let mut entries: Vec<KeyEntry> = Vec::new();
    let mut files = Vec::with_capacity(shards.len());
    for (i, &s) in shards.iter().enumerate() {
        let path = spill.keys_path(m, s);
        spill::scan_keys(&path, i as u16, &mut entries)?;
        let f = File::open(&path).map_err(|e| IngestError::io(&path, e))?;
        files.push((path, f));
    }
    entries.sort_unstable_by_key(|e| (e.date, e.arrival));
    let mut buf = Vec::new();
    let mut kept = 0u64;
    for e in entries {
        use std::os::unix::fs::FileExt;
        let (path, file) = &files[e.file as usize];
        buf.clear();
        buf.resize(e.len as usize, 0);
        file.read_exact_at(&mut buf, e.offset)
            .map_err(|err| IngestError::io(path, err))?;
        let k = spill::decode_key_record(&buf).ok_or_else(|| spill::corrupt_spill(path))?;
        let fi = k.file_index as usize;
        let decision = d.index.decide(&k);
        match decision {
            Decision::Kept => {
                kept += 1;
                if let Some(r) = log.inputs.get_mut(fi) {
                    r.accepted += 1;
                }
            }
            Decision::Exact { of } | Decision::Near { of, .. } => {
                let (kind, similarity) = match decision {
                    Decision::Near { similarity, .. } => {
                        d.near += 1;
                        ("near", Some((similarity * 1000.0).round() / 1000.0))
                    }
                    _ => {
                        d.exact += 1;
                        ("exact", None)
                    }
                };
                if let Some(r) = log.inputs.get_mut(fi) {
                    r.duplicates += 1;
                }
                let line = DuplicateLine {
                    file: log.input_names.get(fi).map(String::as_str).unwrap_or(""),
                    record: k.input_record,
                    posted_date: crate::dates::from_days(k.posted_date).to_string(),
                    duplicate_of: dedup::id_hex(of),
                    kind,
                    similarity,
                };
                serde_json::to_writer(&mut log.duplicates, &line)
                    .map_err(|e| IngestError::io(log.duplicates_path, e.into()))?;
                log.duplicates
                    .write_all(b"\n")
                    .map_err(|e| IngestError::io(log.duplicates_path, e))?;
            }
        }
        log.progress.inc(1);
    }
    for (path, f) in files {
        drop(f);
        let _ = fs::remove_file(path);
    }
    *d.new_rows.entry(m).or_default() += kept;
    d.peak_window_postings = d.peak_window_postings.max(d.index.len() as u64);
    d.peak_window_bytes = d.peak_window_bytes.max(d.index.bytes() as u64);
    Ok(())
}

/// The kept new postings of a month in arrival order, merged from the passes' shares.
struct KeptMerge {
    files: Vec<BufReader<File>>,
    last: std::vec::IntoIter<(u32, i32, i32, u32)>,
    heap: BinaryHeap<Reverse<(u32, usize, Counters)>>,
}

impl KeptMerge {
    fn new(paths: &[PathBuf], last: Vec<(u32, i32, i32, u32)>) -> io::Result<Self> {
        let mut m = KeptMerge {
            files: Vec::with_capacity(paths.len()),
            last: last.into_iter(),
            heap: BinaryHeap::new(),
        };
        for p in paths {
            m.files.push(BufReader::new(File::open(p)?));
        }
        for src in 0..=m.files.len() {
            m.refill(src)?;
        }
        Ok(m)
    }

    /// Push the next record of source `src` (the files, then the last pass's share).
    fn refill(&mut self, src: usize) -> io::Result<()> {
        let next = match self.files.get_mut(src) {
            Some(f) => {
                let mut r = [0u8; KEPT_RECORD];
                match f.read_exact(&mut r) {
                    Ok(()) => {
                        let w = |i: usize| [r[i], r[i + 1], r[i + 2], r[i + 3]];
                        Some((
                            u32::from_le_bytes(w(0)),
                            i32::from_le_bytes(w(4)),
                            i32::from_le_bytes(w(8)),
                            u32::from_le_bytes(w(12)),
                        ))
                    }
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
                    Err(e) => return Err(e),
                }
            }
            None => self.last.next(),
        };
        if let Some((a, f, l, d)) = next {
            self.heap.push(Reverse((a, src, (f, l, d))));
        }
        Ok(())
    }

    /// The next kept posting: (arrival, counters).
    fn next(&mut self) -> io::Result<Option<(u32, Counters)>> {
        let Some(Reverse((a, src, c))) = self.heap.pop() else {
            return Ok(None);
        };
        self.refill(src)?;
        Ok(Some((a, c)))
    }
}

/// Write month `job.month` (when it has new or changed postings) into the staging directory.
fn finalize_month(
    out: &Path,
    staging: &Path,
    batch_rows: usize,
    mut job: FinalizeJob,
) -> Result<Written, IngestError> {
    let k = job.month;
    job.changed.extend(job.last.changed_existing());
    let changed_existing = job.changed.len() as u64;
    let index_missing = job.existing && !store::index_file(out, k).exists();
    let has_states = !job.last.is_empty() || !job.index_parts.is_empty();
    let cleanup = |job: &FinalizeJob| {
        for p in job
            .spill
            .iter()
            .chain(&job.index_parts)
            .chain(&job.kept_files)
        {
            let _ = fs::remove_file(p);
        }
    };
    if job.new_rows == 0 && changed_existing == 0 {
        if index_missing && has_states {
            store::write_index_parts(&store::index_file(staging, k), &job.index_parts, &job.last)?;
        }
        cleanup(&job);
        return Ok(Written {
            month: k,
            rows: None,
            extended: 0,
        });
    }
    let part = store::month_dir(staging, k).join(store::PART_FILE);
    let existing_files = if job.existing {
        let d = store::month_dir(out, k);
        DatasetDir::parquet_files(&d).map_err(|e| IngestError::io(&d, e))?
    } else {
        Vec::new()
    };
    let changed = &job.changed;
    let mut kept = KeptMerge::new(&job.kept_files, job.last.new_kept_by_arrival())
        .map_err(|e| IngestError::io(staging, e))?;
    let rows = store::write_postings_file(&part, |sink| {
        let mut rows = 0u64;
        let to_io = |e: IngestError| io::Error::other(e.to_string());
        store::for_each_batch(&existing_files, |p, b| {
            let nb = store::update_existing_batch(&b, changed, p)?;
            rows += nb.num_rows() as u64;
            sink(nb).map_err(|e| IngestError::io(p, e))
        })
        .map_err(to_io)?;
        if let Some(sp) = &job.spill {
            let f = File::open(sp)?;
            let mut r = BufReader::with_capacity(1 << 20, zstd::stream::read::Decoder::new(f)?);
            let mut buf = Vec::new();
            let mut i = 0u32;
            let mut next = kept.next()?;
            let mut builder = PostingsBatchBuilder::new();
            while spill::read_record(&mut r, &mut buf)?.is_some() {
                if let Some((_, counters)) = next.filter(|(a, _)| *a == i) {
                    let p = spill::decode_posting(&buf)
                        .ok_or_else(|| to_io(spill::corrupt_spill(sp)))?;
                    builder.push(&p, counters);
                    if builder.len() >= batch_rows {
                        rows += builder.len() as u64;
                        sink(builder.finish().map_err(io::Error::other)?)?;
                    }
                    next = kept.next()?;
                }
                i += 1;
            }
            if next.is_some() {
                // A kept posting the spill does not have: the staging files do not belong together.
                return Err(to_io(spill::corrupt_spill(sp)));
            }
            if !builder.is_empty() {
                rows += builder.len() as u64;
                sink(builder.finish().map_err(io::Error::other)?)?;
            }
        }
        Ok(rows)
    })?;
    store::write_index_parts(&store::index_file(staging, k), &job.index_parts, &job.last)?;
    cleanup(&job);
    Ok(Written {
        month: k,
        rows: Some(rows),
        extended: changed_existing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> MonthKey {
        dedup::parse_month_label(s).unwrap()
    }

    #[test]
    fn passes_are_planned_from_the_largest_pass_window() {
        // 12 months of 100k postings spread evenly over the shards.
        let mut counts = BTreeMap::new();
        for m in 0..12 {
            for s in 0..KEY_SHARDS {
                counts.insert((month("2024-01") + m, s), 100_000 / KEY_SHARDS as u64);
            }
        }
        let none = BTreeMap::new();
        let gib = 1u64 << 30;
        // A 60-day window holds 3 months here (300k postings, ~255 MB).
        assert_eq!(plan_passes(&counts, &none, 60, gib), 1);
        assert_eq!(plan_passes(&counts, &none, 60, 128 << 20), 2);
        assert_eq!(plan_passes(&counts, &none, 60, 32 << 20), 8);
        assert_eq!(plan_passes(&counts, &none, 60, 1), KEY_SHARDS);
        // A wider window holds more months (7 at 180 days).
        assert_eq!(plan_passes(&counts, &none, 180, 128 << 20), 8);
        // One giant company's shard sets the pass count: it cannot be split.
        let mut skewed = counts.clone();
        for m in 0..12 {
            skewed.insert((month("2024-01") + m, 7), 50_000);
        }
        assert_eq!(plan_passes(&skewed, &none, 60, 128 << 20), 32);
        // Existing months of the dataset in the window count too (spread over the passes).
        let existing: BTreeMap<MonthKey, u64> =
            (0..12).map(|m| (month("2024-01") + m, 1_000_000)).collect();
        assert_eq!(plan_passes(&counts, &existing, 60, gib), 8);
    }

    #[test]
    fn kept_shares_merge_in_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.kept"), dir.path().join("b.kept"));
        write_kept(&a, &[(0, 1, 2, 0), (5, 1, 1, 0)]).unwrap();
        write_kept(&b, &[(2, 3, 4, 1)]).unwrap();
        let mut m = KeptMerge::new(&[a, b], vec![(1, 9, 9, 2), (7, 0, 0, 0)]).unwrap();
        let mut got = Vec::new();
        while let Some((arrival, c)) = m.next().unwrap() {
            got.push((arrival, c));
        }
        assert_eq!(
            got,
            vec![
                (0, (1, 2, 0)),
                (1, (9, 9, 2)),
                (2, (3, 4, 1)),
                (5, (1, 1, 0)),
                (7, (0, 0, 0))
            ]
        );
    }
}

//! The staging spill: where the read phase puts every valid posting, per posting month, until
//! de-duplication has decided which to keep.
//!
//! ```text
//! <month>.postings.zst      the postings, length-prefixed binary, concatenated zstd frames,
//!                           in arrival order (the order the writer reads them back)
//! <month>.sNN.keys          the dedup keys ([`DedupKeys`], prefixed by the posting's arrival
//!                           number in the month) of the postings of key shard NN
//!                           ([`dedup::key_shard`] of the company)
//! ```
//!
//! Keys are split by company shard so that de-duplication can run in passes over disjoint
//! shards, each holding only its share of the window (see `passes`).

use crate::dedup::{self, ByteReader, DedupKeys, MonthKey};
use crate::fields::Posting;
use crate::IngestError;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// A month's postings buffer and a key shard's buffer are flushed at these sizes; all buffers
/// when their total passes `SPILL_BUFFERED_MAX`, so spill memory is bounded whatever the number
/// of months and shards.
const SPILL_POSTINGS_FLUSH: usize = 1 << 20;
const SPILL_KEYS_FLUSH: usize = 64 << 10;
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
pub(crate) fn read_record(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Option<()>> {
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
    keys: BTreeMap<u32, Vec<u8>>,
}

/// Spilled postings and their dedup keys (layout in the module docs).
pub(crate) struct Spill {
    dir: PathBuf,
    months: BTreeMap<MonthKey, MonthSpill>,
    /// Postings spilled per month (the next arrival number).
    pub counts: BTreeMap<MonthKey, u64>,
    /// Postings spilled per (month, key shard).
    pub shard_counts: BTreeMap<(MonthKey, u32), u64>,
    buffered: usize,
    compressor: zstd::bulk::Compressor<'static>,
}

impl Spill {
    pub fn new(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            months: BTreeMap::new(),
            counts: BTreeMap::new(),
            shard_counts: BTreeMap::new(),
            buffered: 0,
            compressor: zstd::bulk::Compressor::new(SPILL_ZSTD_LEVEL)?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn postings_path(&self, k: MonthKey) -> PathBuf {
        self.dir
            .join(format!("{}.postings.zst", dedup::month_label(k)))
    }

    pub fn keys_path(&self, k: MonthKey, shard: u32) -> PathBuf {
        self.dir
            .join(format!("{}.s{shard:02}.keys", dedup::month_label(k)))
    }

    /// Spill one posting (encoded with [`encode_posting`]) and its keys (encoded with
    /// [`DedupKeys::encode`]) of company key shard `shard`.
    pub fn push(&mut self, k: MonthKey, shard: u32, posting: &[u8], keys: &[u8]) -> io::Result<()> {
        let count = self.counts.entry(k).or_default();
        let arrival = u32::try_from(*count).map_err(|_| {
            io::Error::other("more than 4 billion postings in one month: split the input")
        })?;
        *count += 1;
        *self.shard_counts.entry((k, shard)).or_default() += 1;
        let m = self.months.entry(k).or_default();
        m.postings
            .extend_from_slice(&(posting.len() as u32).to_le_bytes());
        m.postings.extend_from_slice(posting);
        let kb = m.keys.entry(shard).or_default();
        kb.extend_from_slice(&(keys.len() as u32 + 4).to_le_bytes());
        kb.extend_from_slice(&arrival.to_le_bytes());
        kb.extend_from_slice(keys);
        self.buffered += posting.len() + keys.len() + 12;
        let (p_full, k_full) = (
            m.postings.len() >= SPILL_POSTINGS_FLUSH,
            kb.len() >= SPILL_KEYS_FLUSH,
        );
        if p_full {
            self.flush_postings(k)?;
        }
        if k_full {
            self.flush_keys(k, shard)?;
        }
        if self.buffered > SPILL_BUFFERED_MAX {
            self.finish()?;
        }
        Ok(())
    }

    fn flush_postings(&mut self, k: MonthKey) -> io::Result<()> {
        let path = self.postings_path(k);
        let Some(m) = self.months.get_mut(&k) else {
            return Ok(());
        };
        if !m.postings.is_empty() {
            let frame = self.compressor.compress(&m.postings)?;
            append(&path, &frame)?;
            self.buffered = self.buffered.saturating_sub(m.postings.len());
            m.postings.clear();
        }
        Ok(())
    }

    fn flush_keys(&mut self, k: MonthKey, shard: u32) -> io::Result<()> {
        let path = self.keys_path(k, shard);
        let Some(kb) = self.months.get_mut(&k).and_then(|m| m.keys.get_mut(&shard)) else {
            return Ok(());
        };
        if !kb.is_empty() {
            append(&path, kb)?;
            self.buffered = self.buffered.saturating_sub(kb.len());
            kb.clear();
        }
        Ok(())
    }

    /// Flush every buffer.
    pub fn finish(&mut self) -> io::Result<()> {
        let ks: Vec<(MonthKey, Vec<u32>)> = self
            .months
            .iter()
            .map(|(k, m)| (*k, m.keys.keys().copied().collect()))
            .collect();
        for (k, shards) in ks {
            self.flush_postings(k)?;
            for s in shards {
                self.flush_keys(k, s)?;
            }
        }
        self.months.clear();
        self.buffered = 0;
        Ok(())
    }
}

fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(bytes)
}

/// Where a spilled key record is: its posting's date and arrival number (the order a month is
/// de-duplicated in), and the record's file, byte offset and length.
#[derive(Clone, Copy)]
pub(crate) struct KeyEntry {
    pub date: i32,
    pub arrival: u32,
    pub file: u16,
    pub offset: u64,
    pub len: u32,
}

/// Append the entries of a spilled keys file (number `file` of the caller's list).
pub(crate) fn scan_keys(
    path: &Path,
    file: u16,
    out: &mut Vec<KeyEntry>,
) -> Result<(), IngestError> {
    let f = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut offset = 0u64;
    let mut buf = Vec::new();
    while read_record(&mut r, &mut buf)
        .map_err(|e| IngestError::io(path, e))?
        .is_some()
    {
        let word = |at: usize| {
            buf.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let (Some(arrival), Some(date)) = (word(0), word(4)) else {
            return Err(corrupt_spill(path));
        };
        out.push(KeyEntry {
            date: date as i32,
            arrival,
            file,
            offset: offset + 4,
            len: buf.len() as u32,
        });
        offset += 4 + buf.len() as u64;
    }
    Ok(())
}

/// Decode a key record read at a [`KeyEntry`] (arrival number + [`DedupKeys`]).
pub(crate) fn decode_key_record(b: &[u8]) -> Option<DedupKeys> {
    let arrival = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
    let mut k = DedupKeys::decode(b.get(4..)?)?;
    k.arrival = arrival;
    Some(k)
}

pub(crate) fn corrupt_spill(path: &Path) -> IngestError {
    IngestError::Dataset {
        dir: path.to_path_buf(),
        message: "corrupt staging spill record".into(),
    }
}

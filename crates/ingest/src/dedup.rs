//! The de-duplication engine: decides, for postings presented in date order, whether each is a
//! new posting, an exact duplicate or a near duplicate of a posting already kept.
//!
//! - Exact: same normalized company, title, location and description (the `exact_key`).
//! - Near: same normalized company, MinHash-estimated Jaccard similarity of the descriptions at
//!   or above the threshold (LSH candidates, confirmed on the full signature), and titles that
//!   share at least half their words (so "Backend Engineer" and "Frontend Engineer" with one
//!   boilerplate description stay two postings).
//! - Both only within the window (default 60 days) of the kept posting's posted date: a re-post
//!   after the window is a new posting. The earliest copy is kept; later copies extend its
//!   `first_seen`/`last_seen` and increment its `duplicates`.
//!
//! Memory is bounded by the window, not by the dataset: the caller loads and evicts postings one
//! month at a time (see `pipeline`), so only the months a new record could match are held, each
//! as a compact [`MonthIndex`] (about 600 bytes per kept posting, see there).

use crate::fields::{normalize_text_fast, normalize_title_fast, Posting};
use crate::minhash::{self, Signature, PERMUTATIONS};
use std::collections::{BTreeMap, HashSet};

/// Month key: year * 12 + (month - 1).
pub type MonthKey = i32;

pub fn month_key_of_days(days: i32) -> MonthKey {
    use chrono::Datelike;
    let d = crate::dates::from_days(days);
    d.year() * 12 + d.month0() as i32
}

pub fn month_label(k: MonthKey) -> String {
    format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1)
}

pub fn parse_month_label(s: &str) -> Option<MonthKey> {
    let (y, m) = s.split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if !(1..=12).contains(&m) {
        return None;
    }
    Some(y * 12 + m - 1)
}

/// First and last day (Date32) of a month.
pub fn month_bounds(k: MonthKey) -> (i32, i32) {
    let y = k.div_euclid(12);
    let m = (k.rem_euclid(12) + 1) as u32;
    let first = chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default();
    let next = if m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
    }
    .unwrap_or_default();
    (
        crate::dates::to_days(first),
        crate::dates::to_days(next) - 1,
    )
}

/// Key shards: a posting's dedup keys are spilled to one of these by its company, and the
/// de-duplication runs as one or more passes over disjoint sets of them (see `passes`). Both
/// exact and near duplicates require the same normalized company, so no match crosses shards.
pub const KEY_SHARDS: u32 = 64;

/// The key shard of a company key.
pub fn key_shard(company_key: u64) -> u32 {
    (minhash::mix64(company_key) % KEY_SHARDS as u64) as u32
}

/// Hash of a normalized company name (0 = no company).
pub fn company_key_of_normalized(n: &str) -> u64 {
    if n.is_empty() {
        return 0;
    }
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in n.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

/// Hash of the normalized company name (0 = no company).
pub fn company_key(company: Option<&str>) -> u64 {
    company_key_of_normalized(&normalize_text_fast(company.unwrap_or("")))
}

pub fn parse_id(hex: &str) -> u128 {
    u128::from_str_radix(hex, 16).unwrap_or(0)
}

pub fn id_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// What de-duplication needs of one posting. Spilled apart from the posting itself (about
/// 70 bytes + the normalized title + 256 bytes of signature), so the dedup pass never re-reads,
/// re-parses or re-normalizes descriptions.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupKeys {
    pub posting_id: u128,
    pub exact_key: u128,
    pub company_key: u64,
    pub posted_date: i32,
    pub file_index: u32,
    pub input_record: u64,
    pub replay: bool,
    pub norm_title: String,
    pub signature: Option<Signature>,
    /// Position of the posting among its month's spilled postings (not part of the encoding:
    /// the spill stores it beside the keys).
    pub arrival: u32,
}

impl DedupKeys {
    /// Keys of a built posting from its already normalized company, title and description.
    pub fn new(
        p: &Posting,
        norm_company: &str,
        norm_title: String,
        norm_description: &str,
        with_signature: bool,
    ) -> Self {
        let company_key = company_key_of_normalized(norm_company);
        DedupKeys {
            posting_id: parse_id(&p.posting_id),
            exact_key: parse_id(&p.exact_key),
            company_key,
            posted_date: p.posted_date,
            file_index: p.file_index,
            input_record: p.input_record,
            replay: p.replay,
            norm_title,
            // Only postings with a company are ever compared for near duplicates.
            signature: if with_signature && company_key != 0 {
                minhash::signature_of_normalized(norm_description)
            } else {
                None
            },
            arrival: 0,
        }
    }

    /// Keys of a posting, normalizing its fields here.
    pub fn from_posting(p: &Posting) -> Self {
        let n_company = normalize_text_fast(p.company.as_deref().unwrap_or(""));
        let n_desc = normalize_text_fast(p.description.as_deref().unwrap_or(""));
        Self::new(p, &n_company, normalize_title_fast(&p.title), &n_desc, true)
    }

    /// Binary encoding for the staging spill (little-endian; the date comes first).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.posted_date.to_le_bytes());
        out.extend_from_slice(&self.posting_id.to_le_bytes());
        out.extend_from_slice(&self.exact_key.to_le_bytes());
        out.extend_from_slice(&self.company_key.to_le_bytes());
        out.extend_from_slice(&self.file_index.to_le_bytes());
        out.extend_from_slice(&self.input_record.to_le_bytes());
        out.push(self.replay as u8);
        let title = self.norm_title.as_bytes();
        out.extend_from_slice(&(title.len() as u32).to_le_bytes());
        out.extend_from_slice(title);
        match &self.signature {
            Some(sig) => {
                out.push(1);
                for v in sig {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            None => out.push(0),
        }
    }

    /// Inverse of [`DedupKeys::encode`]; None when the bytes are cut short.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let mut r = ByteReader(b);
        let posted_date = i32::from_le_bytes(r.take()?);
        let posting_id = u128::from_le_bytes(r.take()?);
        let exact_key = u128::from_le_bytes(r.take()?);
        let company_key = u64::from_le_bytes(r.take()?);
        let file_index = u32::from_le_bytes(r.take()?);
        let input_record = u64::from_le_bytes(r.take()?);
        let replay = r.take::<1>()?[0] != 0;
        let n = u32::from_le_bytes(r.take()?) as usize;
        let norm_title = String::from_utf8_lossy(r.bytes(n)?).into_owned();
        let signature = if r.take::<1>()?[0] != 0 {
            let mut sig = [0u32; PERMUTATIONS];
            for v in sig.iter_mut() {
                *v = u32::from_le_bytes(r.take()?);
            }
            Some(sig)
        } else {
            None
        };
        Some(DedupKeys {
            posting_id,
            exact_key,
            company_key,
            posted_date,
            file_index,
            input_record,
            replay,
            norm_title,
            signature,
            arrival: 0,
        })
    }
}

/// A cursor over a byte slice for the spill decoders.
pub(crate) struct ByteReader<'a>(pub &'a [u8]);

impl<'a> ByteReader<'a> {
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    pub fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N).and_then(|b| b.try_into().ok())
    }
}

/// What the index remembers of a kept posting (the form it is loaded and persisted in).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptState {
    pub posting_id: u128,
    pub exact_key: u128,
    pub company_key: u64,
    pub norm_title: String,
    /// The kept posting's posted date (the window is measured from it).
    pub anchor: i32,
    pub first_seen: i32,
    pub last_seen: i32,
    pub duplicates: u32,
    pub signature: Option<Box<Signature>>,
    /// Already in the dataset before this run.
    pub existing: bool,
    /// first_seen/last_seen/duplicates changed in this run.
    pub changed: bool,
    /// A new posting's [`DedupKeys::arrival`] (unused for existing ones).
    pub arrival: u32,
}

impl KeptState {
    pub fn month(&self) -> MonthKey {
        month_key_of_days(self.anchor)
    }

    /// The state of a newly seen posting.
    pub fn from_posting(p: &Posting) -> Self {
        Self::from_keys(&DedupKeys::from_posting(p))
    }

    /// The state of a newly kept posting.
    pub fn from_keys(k: &DedupKeys) -> Self {
        KeptState {
            posting_id: k.posting_id,
            exact_key: k.exact_key,
            company_key: k.company_key,
            norm_title: k.norm_title.clone(),
            anchor: k.posted_date,
            first_seen: k.posted_date,
            last_seen: k.posted_date,
            duplicates: 0,
            signature: k.signature.map(Box::new),
            existing: false,
            changed: false,
            arrival: k.arrival,
        }
    }
}

/// The outcome for one posting.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Kept,
    Exact { of: u128 },
    Near { of: u128, similarity: f64 },
}

/// Open-addressing multimap from a 32-bit fingerprint to slot numbers, with linear probing.
///
/// Hand-written because it is the memory of the window: a `HashMap<key, Vec<id>>` costs about
/// 80 bytes per (posting, band) entry, this costs 8 bytes per entry at ≤ 75 % load. Entries are
/// never removed (a month's table is dropped whole), which is what keeps it this simple.
/// Fingerprint collisions only add candidates; the caller confirms each on the full key.
///
/// A table can cap its buckets ([`FpTable::capped`]): once more than `cap` entries share a
/// fingerprint, the bucket is *saturated*: no more entries go in and lookups of it return
/// nothing. Whether a bucket is saturated depends only on how many entries were offered to it,
/// not on their order, so decisions stay the same whatever order a month's index is rebuilt in
/// (incremental runs insert the persisted postings in id order, the first run in arrival order).
struct FpTable {
    /// 0 = empty, else `fp << 32 | (slot + 1)`.
    cells: Vec<u64>,
    len: usize,
    cap: usize,
    saturated: HashSet<u32>,
}

impl Default for FpTable {
    fn default() -> Self {
        Self::capped(usize::MAX)
    }
}

impl FpTable {
    fn capped(cap: usize) -> Self {
        FpTable {
            cells: Vec::new(),
            len: 0,
            cap,
            saturated: HashSet::new(),
        }
    }

    /// Where the probe run of `fp` starts in a table of `mask + 1` cells.
    fn home(fp: u32, mask: usize) -> usize {
        (fp as usize).wrapping_mul(0x9e37_79b9) & mask
    }

    fn insert(&mut self, fp: u32, slot: u32) {
        if self.saturated.contains(&fp) {
            return;
        }
        if (self.len + 1) * 4 > self.cells.len() * 3 {
            self.grow();
        }
        // walk the probe run to its end, counting the bucket's entries on the way
        let mask = self.cells.len() - 1;
        let mut i = Self::home(fp, mask);
        let mut same = 0usize;
        while self.cells[i] != 0 {
            same += usize::from((self.cells[i] >> 32) as u32 == fp);
            i = (i + 1) & mask;
        }
        if same >= self.cap {
            self.saturated.insert(fp);
            return;
        }
        self.cells[i] = ((fp as u64) << 32) | (slot as u64 + 1);
        self.len += 1;
    }
    fn place(cells: &mut [u64], cell: u64) {
        let mask = cells.len() - 1;
        let mut i = Self::home((cell >> 32) as u32, mask);
        while cells[i] != 0 {
            i = (i + 1) & mask;
        }
        cells[i] = cell;
    }
    fn grow(&mut self) {
        let cap = (self.cells.len() * 2).max(1024);
        let mut cells = vec![0u64; cap];
        for &c in self.cells.iter().filter(|c| **c != 0) {
            Self::place(&mut cells, c);
        }
        self.cells = cells;
    }
    fn for_each(&self, fp: u32, mut f: impl FnMut(u32)) {
        if self.cells.is_empty() || self.saturated.contains(&fp) {
            return;
        }
        let mask = self.cells.len() - 1;
        let mut i = Self::home(fp, mask);
        loop {
            let c = self.cells[i];
            if c == 0 {
                return;
            }
            if (c >> 32) as u32 == fp {
                f((c & 0xffff_ffff) as u32 - 1);
            }
            i = (i + 1) & mask;
        }
    }
    fn bytes(&self) -> usize {
        self.cells.capacity() * 8 + self.saturated.capacity() * 8
    }
}

/// A kept posting inside a [`MonthIndex`] (fixed size; title and signature live in arenas).
#[derive(Debug, Clone, Copy)]
struct Slot {
    posting_id: u128,
    exact_key: u128,
    company_key: u64,
    anchor: i32,
    first_seen: i32,
    last_seen: i32,
    duplicates: u32,
    title_start: u32,
    title_len: u32,
    /// Index of the signature in `sigs` (in signatures), or u32::MAX for none.
    sig: u32,
    arrival: u32,
    existing: bool,
    changed: bool,
}

/// The kept postings of one month: what the window holds, about 600 bytes per posting
/// (slot 80, signature 256, LSH entries 16 × ~11, exact entry ~11, normalized title).
pub struct MonthIndex {
    slots: Vec<Slot>,
    titles: String,
    sigs: Vec<u32>,
    exact: FpTable,
    lsh: FpTable,
}

/// The most kept postings of one month and company that may share an LSH band value before
/// that band value stops proposing candidates.
///
/// A large employer's postings share boilerplate (about the company, benefits), so some band
/// values of their signatures come from boilerplate alone and are shared by most of the
/// company's postings. Uncapped, every new posting of such a company was compared with the
/// company's whole window: quadratic in its postings per month (ingest at 3M postings a month
/// spent minutes per pass on one shard). A band value shared by this many postings says
/// "same company", which the LSH key already says; true near copies share other band values
/// too (a pair at similarity 0.8 shares 6.6 of 16 bands on average).
pub const LSH_BUCKET_CAP: usize = 64;

impl Default for MonthIndex {
    fn default() -> Self {
        MonthIndex {
            slots: Vec::new(),
            titles: String::new(),
            sigs: Vec::new(),
            exact: FpTable::default(),
            lsh: FpTable::capped(LSH_BUCKET_CAP),
        }
    }
}

fn exact_fp(exact_key: u128) -> u32 {
    exact_key as u32
}

fn lsh_fp(company_key: u64, band_key: u64) -> u32 {
    (minhash::mix64(company_key ^ minhash::mix64(band_key)) >> 32) as u32
}

impl MonthIndex {
    pub fn len(&self) -> usize {
        self.slots.len()
    }
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
    /// Heap bytes held (capacities), for the memory accounting in the docs and benchmarks.
    pub fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.titles.capacity()
            + self.sigs.capacity() * 4
            + self.exact.bytes()
            + self.lsh.bytes()
    }

    fn push(&mut self, s: &KeptState, near: bool) {
        let slot = self.slots.len() as u32;
        let sig = match &s.signature {
            Some(sig) => {
                let i = (self.sigs.len() / PERMUTATIONS) as u32;
                self.sigs.extend_from_slice(&sig[..]);
                if near && s.company_key != 0 {
                    for b in minhash::band_keys(sig) {
                        self.lsh.insert(lsh_fp(s.company_key, b), slot);
                    }
                }
                i
            }
            None => u32::MAX,
        };
        self.exact.insert(exact_fp(s.exact_key), slot);
        self.slots.push(Slot {
            posting_id: s.posting_id,
            exact_key: s.exact_key,
            company_key: s.company_key,
            anchor: s.anchor,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            duplicates: s.duplicates,
            title_start: self.titles.len() as u32,
            title_len: s.norm_title.len() as u32,
            sig,
            arrival: s.arrival,
            existing: s.existing,
            changed: s.changed,
        });
        self.titles.push_str(&s.norm_title);
    }

    fn title(&self, s: &Slot) -> &str {
        let a = s.title_start as usize;
        self.titles.get(a..a + s.title_len as usize).unwrap_or("")
    }

    fn signature(&self, s: &Slot) -> Option<&Signature> {
        if s.sig == u32::MAX {
            return None;
        }
        let a = s.sig as usize * PERMUTATIONS;
        self.sigs.get(a..a + PERMUTATIONS)?.try_into().ok()
    }

    /// The state of slot `i` (for persisting the index).
    pub fn state(&self, i: usize) -> Option<KeptState> {
        let s = self.slots.get(i)?;
        Some(KeptState {
            posting_id: s.posting_id,
            exact_key: s.exact_key,
            company_key: s.company_key,
            norm_title: self.title(s).to_string(),
            anchor: s.anchor,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            duplicates: s.duplicates,
            signature: self.signature(s).map(|x| Box::new(*x)),
            existing: s.existing,
            changed: s.changed,
            arrival: s.arrival,
        })
    }

    /// Slot numbers in posting-id order (the persisted index's row order).
    pub fn order_by_id(&self) -> Vec<u32> {
        let mut o: Vec<u32> = (0..self.slots.len() as u32).collect();
        o.sort_unstable_by_key(|i| self.slots[*i as usize].posting_id);
        o
    }

    /// (first_seen, last_seen, duplicates) of the postings that were in the dataset before this
    /// run and whose counters this run changed, by id.
    pub fn changed_existing(&self) -> impl Iterator<Item = (u128, (i32, i32, u32))> + '_ {
        self.slots
            .iter()
            .filter(|s| s.existing && s.changed)
            .map(|s| (s.posting_id, (s.first_seen, s.last_seen, s.duplicates)))
    }

    /// The postings this run kept, as (arrival, first_seen, last_seen, duplicates) in arrival
    /// order.
    pub fn new_kept_by_arrival(&self) -> Vec<(u32, i32, i32, u32)> {
        let mut v: Vec<(u32, i32, i32, u32)> = self
            .slots
            .iter()
            .filter(|s| !s.existing)
            .map(|s| (s.arrival, s.first_seen, s.last_seen, s.duplicates))
            .collect();
        v.sort_unstable_by_key(|x| x.0);
        v
    }
}

/// The in-memory window of kept postings: one [`MonthIndex`] per month held.
pub struct DedupIndex {
    window: i32,
    threshold: f64,
    near: bool,
    months: BTreeMap<MonthKey, MonthIndex>,
    /// Scratch for one month's near-duplicate candidates (reused across calls).
    candidates: Vec<u32>,
}

/// Minimum title-word overlap for a near duplicate.
pub const TITLE_OVERLAP: f64 = 0.5;

impl DedupIndex {
    pub fn new(window_days: i64, threshold: f64, near: bool) -> Self {
        Self {
            window: window_days.clamp(0, 100_000) as i32,
            threshold,
            near,
            months: BTreeMap::new(),
            candidates: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.months.values().map(|m| m.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held by the window.
    pub fn bytes(&self) -> usize {
        self.months.values().map(|m| m.bytes()).sum()
    }

    /// Add a kept posting (existing one loaded from the dataset, or a new one).
    pub fn insert(&mut self, s: KeptState) {
        let near = self.near;
        self.months.entry(s.month()).or_default().push(&s, near);
    }

    /// The state of the kept posting `id` (linear; for tests and diagnostics).
    pub fn get(&self, id: u128) -> Option<KeptState> {
        self.months.values().find_map(|m| {
            let i = m.slots.iter().position(|s| s.posting_id == id)?;
            m.state(i)
        })
    }

    fn within(&self, anchor: i32, d: i32) -> bool {
        (anchor as i64 - d as i64).abs() <= self.window as i64
    }

    /// Decide for `k` (presented in date order). A kept posting is added to the index; a
    /// duplicate extends the posting it duplicates unless `k.replay` (a re-ingested file).
    pub fn decide(&mut self, k: &DedupKeys) -> Decision {
        let d = k.posted_date;
        // Exact: the earliest (anchor, id) copy within the window.
        let mut best: Option<(i32, u128, MonthKey, u32)> = None;
        for (&mk, m) in &self.months {
            m.exact.for_each(exact_fp(k.exact_key), |i| {
                let s = &m.slots[i as usize];
                if s.exact_key == k.exact_key
                    && self.within(s.anchor, d)
                    && best.is_none_or(|(ba, bid, _, _)| (s.anchor, s.posting_id) < (ba, bid))
                {
                    best = Some((s.anchor, s.posting_id, mk, i));
                }
            });
        }
        if let Some((_, of, mk, i)) = best {
            self.extend(mk, i, d, k.replay);
            return Decision::Exact { of };
        }
        if self.near && k.company_key != 0 {
            if let Some(sig) = &k.signature {
                let bands = minhash::band_keys(sig);
                // The candidates of one month: every slot sharing a band with `k` (same company),
                // each once. Sorted and de-duplicated rather than checked against a list of the
                // ones seen: a large company whose postings share boilerplate puts thousands of
                // slots in the same buckets, and the linear check made `decide` quadratic in them
                // (52 % of ingest CPU at the 10M benchmark's density).
                let mut cands = std::mem::take(&mut self.candidates);
                // (similarity, anchor, id, month, slot) of the best candidate.
                let mut best: Option<(f64, i32, u128, MonthKey, u32)> = None;
                for (&mk, m) in &self.months {
                    cands.clear();
                    for b in bands {
                        m.lsh.for_each(lsh_fp(k.company_key, b), |i| cands.push(i));
                    }
                    cands.sort_unstable();
                    cands.dedup();
                    for &i in &cands {
                        let c = &m.slots[i as usize];
                        if c.company_key != k.company_key || !self.within(c.anchor, d) {
                            continue;
                        }
                        let Some(csig) = m.signature(c) else { continue };
                        // the signature first: 64 integer compares, where the title check
                        // builds word sets; both must pass, so the order changes nothing
                        let sim = minhash::similarity(csig, sig);
                        if sim < self.threshold
                            || minhash::title_similarity(m.title(c), &k.norm_title) < TITLE_OVERLAP
                        {
                            continue;
                        }
                        let better = match best {
                            None => true,
                            Some((bs, ba, bid, _, _)) => {
                                sim > bs || (sim == bs && (c.anchor, c.posting_id) < (ba, bid))
                            }
                        };
                        if better {
                            best = Some((sim, c.anchor, c.posting_id, mk, i));
                        }
                    }
                }
                self.candidates = cands;
                if let Some((similarity, _, of, mk, i)) = best {
                    self.extend(mk, i, d, k.replay);
                    return Decision::Near { of, similarity };
                }
            }
        }
        self.insert(KeptState::from_keys(k));
        Decision::Kept
    }

    fn extend(&mut self, mk: MonthKey, i: u32, d: i32, replay: bool) {
        if replay {
            return;
        }
        if let Some(s) = self
            .months
            .get_mut(&mk)
            .and_then(|m| m.slots.get_mut(i as usize))
        {
            s.first_seen = s.first_seen.min(d);
            s.last_seen = s.last_seen.max(d);
            s.duplicates = s.duplicates.saturating_add(1);
            s.changed = true;
        }
    }

    /// Months currently held.
    pub fn months(&self) -> Vec<MonthKey> {
        self.months.keys().copied().collect()
    }

    /// Remove month `k` from the window and return its postings.
    pub fn evict_month(&mut self, k: MonthKey) -> MonthIndex {
        self.months.remove(&k).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobshift_core::normalize::{content_hash, normalize_text, normalize_title};

    fn posting(company: &str, title: &str, desc: &str, day: i32) -> Posting {
        let exact = content_hash(&[
            &normalize_text(company),
            &normalize_title(title),
            "",
            &normalize_text(desc),
        ]);
        Posting {
            posting_id: content_hash(&[&exact, &day.to_string()]),
            exact_key: exact,
            source: "t".into(),
            company: Some(company.into()),
            title: title.into(),
            description: Some(desc.into()),
            location: None,
            country: None,
            posted_date: day,
            date_precision: "day".into(),
            url: None,
            extra: None,
            input_file: "t".into(),
            input_record: 1,
            file_index: 0,
            replay: false,
        }
    }

    const DESC: &str = "We are hiring a data engineer to build reliable batch and streaming pipelines in Python and SQL for our analytics platform, working closely with analysts.";

    #[test]
    fn many_candidates_from_one_company_pick_the_most_similar_earliest() {
        // 600 postings of one company sharing a long boilerplate (every one a candidate of the
        // next), each with its own role paragraph, so none is a near copy of another
        let boiler = "Acme is an equal opportunity employer with offices worldwide. We offer \
            health insurance, a retirement plan, paid time off, parental leave, a learning budget \
            and flexible hours. Our teams value ownership, clear writing and kind reviews.";
        let mut ix = DedupIndex::new(60, 0.8, true);
        let k = |p: &Posting| DedupKeys::from_posting(p);
        let role = |i: usize| {
            format!(
                "Role {i}: own project number {i} with partner team {} in region {} using stack {}; \
                 report to lead {} and ship milestone {} by quarter {}.",
                i * 7,
                i * 13,
                i * 17,
                i * 19,
                i * 23,
                i % 4
            )
        };
        for i in 0..600 {
            let p = posting(
                "Acme",
                "Data Engineer",
                &format!("{} {boiler}", role(i)),
                19_000 + (i % 30) as i32,
            );
            assert_eq!(ix.decide(&k(&p)), Decision::Kept, "posting {i}");
        }
        // a lightly edited copy of posting 123 finds exactly it among all those candidates
        let original = posting(
            "Acme",
            "Data Engineer",
            &format!("{} {boiler}", role(123)),
            19_000 + 123 % 30,
        );
        let copy = posting(
            "Acme",
            "Data Engineer",
            &format!("{} {boiler} Apply today.", role(123)),
            19_040,
        );
        match ix.decide(&k(&copy)) {
            Decision::Near { of, similarity } => {
                assert_eq!(of, k(&original).posting_id);
                assert!(similarity >= 0.8);
            }
            d => panic!("expected a near duplicate of posting 123, got {d:?}"),
        }
    }

    #[test]
    fn a_capped_bucket_stops_proposing_once_saturated() {
        let mut t = FpTable::capped(3);
        let got = |t: &FpTable, fp| {
            let mut v = Vec::new();
            t.for_each(fp, |i| v.push(i));
            v.sort_unstable();
            v
        };
        for slot in 0..3 {
            t.insert(7, slot);
        }
        t.insert(8, 100);
        assert_eq!(got(&t, 7), vec![0, 1, 2]);
        t.insert(7, 3);
        assert_eq!(
            got(&t, 7),
            Vec::<u32>::new(),
            "a fourth entry saturates the bucket"
        );
        t.insert(7, 4);
        assert_eq!(got(&t, 7), Vec::<u32>::new());
        assert_eq!(got(&t, 8), vec![100], "other buckets are unaffected");
        let mut uncapped = FpTable::default();
        for slot in 0..1000 {
            uncapped.insert(7, slot);
        }
        assert_eq!(got(&uncapped, 7).len(), 1000);
    }

    #[test]
    fn decisions_do_not_depend_on_the_order_a_capped_index_is_rebuilt_in() {
        // 300 postings of one company with shared boilerplate: the boilerplate's band values
        // saturate. The index rebuilt from the kept postings in reverse order (as an
        // incremental run reloads them, in id order) must decide every later posting the same.
        let boiler = "Acme is an equal opportunity employer with offices worldwide. We offer \
            health insurance, a retirement plan, paid time off, parental leave, a learning budget \
            and flexible hours. Our teams value ownership, clear writing and kind reviews.";
        let role = |i: usize| {
            format!(
                "Role {i}: own project {i} with team {} in region {}; ship milestone {} by {}.",
                i * 7,
                i * 13,
                i * 23,
                i % 4
            )
        };
        let k = |p: &Posting| DedupKeys::from_posting(p);
        let mut forward = DedupIndex::new(60, 0.8, true);
        for i in 0..300 {
            let p = posting(
                "Acme",
                "Data Engineer",
                &format!("{} {boiler}", role(i)),
                19_000,
            );
            assert_eq!(forward.decide(&k(&p)), Decision::Kept);
        }
        assert!(
            forward.months.values().any(|m| !m.lsh.saturated.is_empty()),
            "the boilerplate should saturate some band values"
        );
        let mut states: Vec<KeptState> = forward
            .months
            .values()
            .flat_map(|m| (0..m.len()).filter_map(|i| m.state(i)))
            .collect();
        states.reverse();
        let mut reversed = DedupIndex::new(60, 0.8, true);
        for s in states {
            reversed.insert(s);
        }
        // what every lookup sees is the same set of postings in both
        let visible = |ix: &DedupIndex| {
            let mut seen = Vec::new();
            for m in ix.months.values() {
                for i in 0..m.len() {
                    let Some(sig) = m.signature(&m.slots[i]) else {
                        continue;
                    };
                    for b in minhash::band_keys(sig) {
                        let mut ids = Vec::new();
                        m.lsh.for_each(lsh_fp(m.slots[i].company_key, b), |j| {
                            ids.push(m.slots[j as usize].posting_id)
                        });
                        ids.sort_unstable();
                        seen.push((m.slots[i].posting_id, b, ids));
                    }
                }
            }
            seen.sort_unstable();
            seen
        };
        assert_eq!(visible(&forward), visible(&reversed));
        let mut near = 0;
        for i in (0..300).step_by(7) {
            let copy = posting(
                "Acme",
                "Data Engineer",
                &format!("{} {boiler} Apply today.", role(i)),
                19_010,
            );
            let new = posting(
                "Acme",
                "Data Engineer",
                &format!("{} {boiler}", role(i + 1000)),
                19_010,
            );
            for p in [copy, new] {
                let a = forward.decide(&k(&p));
                near += usize::from(matches!(a, Decision::Near { .. }));
                assert_eq!(a, reversed.decide(&k(&p)));
            }
        }
        assert_eq!(
            near, 43,
            "every edited copy is still found through its own band values"
        );
    }

    #[test]
    fn exact_near_and_window() {
        let mut ix = DedupIndex::new(60, 0.8, true);
        let k = |p: &Posting| DedupKeys::from_posting(p);
        let a = posting("Acme", "Data Engineer", DESC, 19_000);
        assert_eq!(ix.decide(&k(&a)), Decision::Kept);
        let a2 = posting("Acme", "Data Engineer", DESC, 19_010);
        assert!(matches!(ix.decide(&k(&a2)), Decision::Exact { .. }));
        let near = posting(
            "ACME",
            "Sr. Data Engineer",
            &format!("{DESC} Apply now."),
            19_020,
        );
        let d = ix.decide(&k(&near));
        assert!(matches!(d, Decision::Near { .. }), "{d:?}");
        let other_title = posting("Acme", "Frontend Developer", DESC, 19_020);
        assert_eq!(ix.decide(&k(&other_title)), Decision::Kept);
        let other_company = posting("Globex", "Data Engineer", DESC, 19_020);
        assert_eq!(ix.decide(&k(&other_company)), Decision::Kept);
        let repost = posting("Acme", "Data Engineer", DESC, 19_100);
        assert_eq!(ix.decide(&k(&repost)), Decision::Kept);
        let keys = k(&a);
        let mut buf = Vec::new();
        keys.encode(&mut buf);
        assert_eq!(DedupKeys::decode(&buf), Some(keys));
        assert_eq!(DedupKeys::decode(&buf[..buf.len() - 1]), None);
        let s = ix.get(parse_id(&a.posting_id)).unwrap();
        assert_eq!((s.first_seen, s.last_seen), (19_000, 19_020));
        assert_eq!(s.duplicates, 2);
        let m = month_key_of_days(19_000);
        let ev = ix.evict_month(m);
        assert!(!ev.is_empty());
        assert!(ev.bytes() > 0);
        assert_eq!(
            month_label(parse_month_label("2024-03").unwrap()),
            "2024-03"
        );
    }
}

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
//! month at a time (see `pipeline`), so only the months a new record could match are held.

use crate::fields::Posting;
use crate::minhash::{self, Signature};
use jobshift_core::normalize::{normalize_text, normalize_title};
use std::collections::{BTreeMap, HashMap};

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

/// Hash of the normalized company name (0 = no company).
pub fn company_key(company: Option<&str>) -> u64 {
    let n = normalize_text(company.unwrap_or(""));
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

pub fn parse_id(hex: &str) -> u128 {
    u128::from_str_radix(hex, 16).unwrap_or(0)
}

pub fn id_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// What the index remembers of a kept posting.
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
}

impl KeptState {
    pub fn month(&self) -> MonthKey {
        month_key_of_days(self.anchor)
    }

    /// The state of a newly seen posting.
    pub fn from_posting(p: &Posting) -> Self {
        KeptState {
            posting_id: parse_id(&p.posting_id),
            exact_key: parse_id(&p.exact_key),
            company_key: company_key(p.company.as_deref()),
            norm_title: normalize_title(&p.title),
            anchor: p.posted_date,
            first_seen: p.posted_date,
            last_seen: p.posted_date,
            duplicates: 0,
            signature: p
                .description
                .as_deref()
                .and_then(minhash::signature)
                .map(Box::new),
            existing: false,
            changed: false,
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

/// The in-memory window of kept postings.
pub struct DedupIndex {
    window: i32,
    threshold: f64,
    near: bool,
    kept: HashMap<u128, KeptState>,
    exact: HashMap<u128, Vec<u128>>,
    lsh: HashMap<(u64, u64), Vec<u128>>,
    by_month: BTreeMap<MonthKey, Vec<u128>>,
}

/// Minimum title-word overlap for a near duplicate.
pub const TITLE_OVERLAP: f64 = 0.5;

impl DedupIndex {
    pub fn new(window_days: i64, threshold: f64, near: bool) -> Self {
        Self {
            window: window_days.clamp(0, 100_000) as i32,
            threshold,
            near,
            kept: HashMap::new(),
            exact: HashMap::new(),
            lsh: HashMap::new(),
            by_month: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Add a kept posting (existing one loaded from the dataset, or a new one).
    pub fn insert(&mut self, s: KeptState) {
        let id = s.posting_id;
        if self.kept.contains_key(&id) {
            return;
        }
        self.exact.entry(s.exact_key).or_default().push(id);
        if self.near && s.company_key != 0 {
            if let Some(sig) = &s.signature {
                for k in minhash::band_keys(sig) {
                    self.lsh.entry((s.company_key, k)).or_default().push(id);
                }
            }
        }
        self.by_month.entry(s.month()).or_default().push(id);
        self.kept.insert(id, s);
    }

    pub fn get(&self, id: u128) -> Option<&KeptState> {
        self.kept.get(&id)
    }

    fn within(&self, anchor: i32, d: i32) -> bool {
        (anchor as i64 - d as i64).abs() <= self.window as i64
    }

    /// Decide for `p` (presented in date order). A kept posting is added to the index; a
    /// duplicate extends the posting it duplicates unless `p.replay` (a re-ingested file).
    pub fn decide(&mut self, p: &Posting) -> (Decision, Option<KeptState>) {
        let d = p.posted_date;
        let exact_key = parse_id(&p.exact_key);
        let mut best: Option<(u128, i32)> = None;
        if let Some(ids) = self.exact.get(&exact_key) {
            for id in ids {
                if let Some(s) = self.kept.get(id) {
                    if self.within(s.anchor, d)
                        && best.is_none_or(|(bid, ba)| (s.anchor, *id) < (ba, bid))
                    {
                        best = Some((*id, s.anchor));
                    }
                }
            }
        }
        if let Some((of, _)) = best {
            self.extend(of, d, p.replay);
            return (Decision::Exact { of }, None);
        }
        let state = KeptState::from_posting(p);
        if self.near && state.company_key != 0 {
            if let Some(sig) = &state.signature {
                let mut seen: Vec<u128> = Vec::new();
                let mut best: Option<(u128, f64, i32)> = None;
                for k in minhash::band_keys(sig) {
                    let Some(ids) = self.lsh.get(&(state.company_key, k)) else {
                        continue;
                    };
                    for id in ids {
                        if seen.contains(id) {
                            continue;
                        }
                        seen.push(*id);
                        let Some(c) = self.kept.get(id) else { continue };
                        if !self.within(c.anchor, d) {
                            continue;
                        }
                        let Some(csig) = &c.signature else { continue };
                        if minhash::title_similarity(&c.norm_title, &state.norm_title)
                            < TITLE_OVERLAP
                        {
                            continue;
                        }
                        let sim = minhash::similarity(csig, sig);
                        if sim >= self.threshold {
                            let better = match best {
                                None => true,
                                Some((bid, bs, ba)) => {
                                    sim > bs || (sim == bs && (c.anchor, *id) < (ba, bid))
                                }
                            };
                            if better {
                                best = Some((*id, sim, c.anchor));
                            }
                        }
                    }
                }
                if let Some((of, similarity, _)) = best {
                    self.extend(of, d, p.replay);
                    return (Decision::Near { of, similarity }, None);
                }
            }
        }
        let out = state.clone();
        self.insert(state);
        (Decision::Kept, Some(out))
    }

    fn extend(&mut self, id: u128, d: i32, replay: bool) {
        if replay {
            return;
        }
        if let Some(s) = self.kept.get_mut(&id) {
            s.first_seen = s.first_seen.min(d);
            s.last_seen = s.last_seen.max(d);
            s.duplicates = s.duplicates.saturating_add(1);
            s.changed = true;
        }
    }

    /// Months currently held.
    pub fn months(&self) -> Vec<MonthKey> {
        self.by_month.keys().copied().collect()
    }

    /// Remove every posting of month `k` from the index and return their states.
    pub fn evict_month(&mut self, k: MonthKey) -> Vec<KeptState> {
        let ids = self.by_month.remove(&k).unwrap_or_default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(s) = self.kept.remove(&id) else {
                continue;
            };
            if let Some(v) = self.exact.get_mut(&s.exact_key) {
                v.retain(|x| *x != id);
                if v.is_empty() {
                    self.exact.remove(&s.exact_key);
                }
            }
            if let Some(sig) = &s.signature {
                for b in minhash::band_keys(sig) {
                    let key = (s.company_key, b);
                    if let Some(v) = self.lsh.get_mut(&key) {
                        v.retain(|x| *x != id);
                        if v.is_empty() {
                            self.lsh.remove(&key);
                        }
                    }
                }
            }
            out.push(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobshift_core::normalize::content_hash;

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
    fn exact_near_and_window() {
        let mut ix = DedupIndex::new(60, 0.8, true);
        let a = posting("Acme", "Data Engineer", DESC, 19_000);
        assert_eq!(ix.decide(&a).0, Decision::Kept);
        let a2 = posting("Acme", "Data Engineer", DESC, 19_010);
        assert!(matches!(ix.decide(&a2).0, Decision::Exact { .. }));
        let near = posting(
            "ACME",
            "Sr. Data Engineer",
            &format!("{DESC} Apply now."),
            19_020,
        );
        assert!(
            matches!(ix.decide(&near).0, Decision::Near { .. }),
            "{:?}",
            ix.decide(&near).0
        );
        let other_title = posting("Acme", "Frontend Developer", DESC, 19_020);
        assert_eq!(ix.decide(&other_title).0, Decision::Kept);
        let other_company = posting("Globex", "Data Engineer", DESC, 19_020);
        assert_eq!(ix.decide(&other_company).0, Decision::Kept);
        let repost = posting("Acme", "Data Engineer", DESC, 19_100);
        assert_eq!(ix.decide(&repost).0, Decision::Kept);
        let s = ix.get(parse_id(&a.posting_id)).unwrap();
        assert_eq!((s.first_seen, s.last_seen), (19_000, 19_020));
        assert_eq!(s.duplicates, 2);
        let m = month_key_of_days(19_000);
        let ev = ix.evict_month(m);
        assert!(!ev.is_empty());
        assert_eq!(
            month_label(parse_month_label("2024-03").unwrap()),
            "2024-03"
        );
    }
}

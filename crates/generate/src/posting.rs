//! One posting as a pure function of (seed, month, slot) and the plan: originals are drawn
//! fresh; re-posts regenerate an earlier posting of the same title (4–12 months back, so always
//! more than 60 days) and edit it slightly; exact and near copies and malformed records derive
//! from a unique posting of the same month. Nothing is remembered between postings.

use crate::catalog::Catalog;
use crate::companies::{Companies, MonthCompanies};
use crate::describe::{describe, DescribeInput};
use crate::plan::{Plan, REPOST_MAX_BACK, REPOST_MIN_BACK};
use crate::rawtitle::{draw_seniority, raw_title, TitleNoise};
use crate::rng::{chance, pick, rng_for, GenRng, Key};
use crate::vocab::{family_vocab, industry_index, COUNTRIES};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use jobshift_core::Seniority;
use rand::Rng;

/// How a record relates to the unique posting it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DupKind {
    Original,
    /// The same job posted again more than 60 days later (counts as a new posting).
    Repost,
    /// Same company, title, location and description (a duplicate).
    ExactCopy,
    /// Same company, description edited slightly, within days (a duplicate).
    NearCopy,
    /// A corrupted copy that a reader should reject (text formats only).
    Malformed,
}

impl DupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DupKind::Original => "original",
            DupKind::Repost => "repost",
            DupKind::ExactCopy => "exact_copy",
            DupKind::NearCopy => "near_copy",
            DupKind::Malformed => "malformed",
        }
    }
    /// Whether a correct ingest keeps this record as a posting of its own.
    pub fn is_unique(self) -> bool {
        matches!(self, DupKind::Original | DupKind::Repost)
    }
}

/// How a malformed record is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedKind {
    MissingTitle,
    BadDate,
    /// CSV: a row with an extra field. JSONL: a line cut off mid-object.
    BrokenRecord,
    /// CSV only: a quote opened and never closed; written as the last record of its file.
    UnterminatedQuote,
}

impl MalformedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::MissingTitle => "missing_title",
            MalformedKind::BadDate => "bad_date",
            MalformedKind::BrokenRecord => "broken_record",
            MalformedKind::UnterminatedQuote => "unterminated_quote",
        }
    }
}

/// A generated record: the posting fields and its truth.
#[derive(Debug, Clone)]
pub struct Record {
    pub posting_ref: String,
    pub title: String,
    pub description: String,
    pub company: String,
    pub date: NaiveDate,
    pub location: String,
    /// As written in the posting (ISO code, country name or empty).
    pub country_field: String,
    pub url: String,
    // truth
    pub title_index: usize,
    pub seniority: Seniority,
    pub country_iso: &'static str,
    pub company_id: u32,
    pub ambiguous_title: bool,
    pub dup_kind: DupKind,
    /// posting_ref of the first posting of the job (itself for an original).
    pub dup_group: String,
    pub malformed: Option<MalformedKind>,
    /// A bad date string (malformed BadDate).
    pub bad_date: Option<String>,
}

/// What generation needs, shared read-only across threads.
pub struct Ctx<'a> {
    pub seed: u64,
    pub catalog: &'a Catalog,
    pub plan: &'a Plan,
    pub companies: &'a Companies,
    /// Samplers for months `window_start..` (index = month - window_start).
    pub month_companies: &'a [MonthCompanies],
    pub window_start: usize,
    pub noise: TitleNoise,
    pub title_industries: &'a [Vec<usize>],
}

pub fn title_industries(catalog: &Catalog) -> Vec<Vec<usize>> {
    catalog
        .titles()
        .iter()
        .map(|t| {
            family_vocab(&t.family)
                .industries
                .iter()
                .filter_map(|i| industry_index(i))
                .collect()
        })
        .collect()
}

fn posting_ref(prefix: char, ym: crate::plan::YearMonth, n: u64) -> String {
    format!("{prefix}{:04}{:02}-{n:08}", ym.year, ym.month)
}

pub(crate) fn draw_date(ym: crate::plan::YearMonth, rng: &mut GenRng) -> NaiveDate {
    let first = ym.first_day();
    let mut d = first + Duration::days(rng.random_range(0..ym.days()) as i64);
    // fewer postings at weekends: re-draw once
    if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = first + Duration::days(rng.random_range(0..ym.days()) as i64);
    }
    d
}

fn remote_share(family: &str) -> f64 {
    match family {
        "software_engineering" | "data_ai" => 0.25,
        "marketing" | "product_design" | "creative_media" | "sales" | "communications" => 0.15,
        "healthcare_clinical"
        | "retail"
        | "hospitality_food"
        | "trades_construction"
        | "manufacturing_production"
        | "transportation_logistics"
        | "personal_care_services"
        | "protective_services" => 0.0,
        _ => 0.06,
    }
}

impl Ctx<'_> {
    /// The unique posting at logical `slot` of month `mi`.
    pub fn unique(&self, mi: usize, slot: u64) -> Record {
        let mp = &self.plan.months[mi];
        let t = mp.title_of_slot(slot);
        let offset = slot - mp.starts[t];
        if offset < mp.reposts[t] {
            if let Some(r) = self.repost(mi, slot, t) {
                return r;
            }
        }
        self.original(mi, slot, t)
    }

    fn original(&self, mi: usize, slot: u64, t: usize) -> Record {
        let mp = &self.plan.months[mi];
        let title = &self.catalog.titles()[t];
        let mut rng = rng_for(
            self.seed,
            &[Key::S("posting"), Key::N(mi as u64), Key::N(slot)],
        );
        let sampler = &self.month_companies[mi - self.window_start];
        let (company_id, country_idx) =
            sampler.draw_employer(self.companies, &self.title_industries[t], &mut rng);
        let company = &self.companies.list[company_id as usize];
        let country = &COUNTRIES[country_idx];
        let city = *pick(&mut rng, country.cities);
        let remote = chance(&mut rng, remote_share(&title.family));
        let location = if remote {
            pick(
                &mut rng,
                &[
                    format!("Remote - {}", country.name),
                    "Remote".to_string(),
                    format!("{city} (Remote)"),
                ],
            )
            .clone()
        } else if chance(&mut rng, 0.25) && !city.contains(',') {
            format!("{city}, {}", country.name)
        } else {
            city.to_string()
        };
        let seniority = draw_seniority(title.level, &mut rng);
        let (raw, ambiguous) = raw_title(title, seniority, country, city, self.noise, &mut rng);
        let description = describe(
            &DescribeInput {
                title,
                seniority,
                company,
                location: &location,
                remote,
            },
            &mut rng,
        );
        let date = draw_date(mp.ym, &mut rng);
        let country_field = match rng.random_range(0..10) {
            0..=6 => country.iso.to_string(),
            7 | 8 => country.name.to_string(),
            _ => String::new(),
        };
        let pref = posting_ref('p', mp.ym, slot);
        let url = format!(
            "https://{}/jobs/{}",
            company.domain,
            rng.random_range(100_000u64..99_999_999)
        );
        Record {
            dup_group: pref.clone(),
            posting_ref: pref,
            title: raw,
            description,
            company: company.name.clone(),
            date,
            location,
            country_field,
            url,
            title_index: t,
            seniority,
            country_iso: country.iso,
            company_id,
            ambiguous_title: ambiguous,
            dup_kind: DupKind::Original,
            malformed: None,
            bad_date: None,
        }
    }

    /// A re-post of an earlier posting of title `t`; `None` if no source month has one.
    fn repost(&self, mi: usize, slot: u64, t: usize) -> Option<Record> {
        let mut rng = rng_for(
            self.seed,
            &[Key::S("repost"), Key::N(mi as u64), Key::N(slot)],
        );
        let lo = mi.saturating_sub(REPOST_MAX_BACK).max(self.window_start);
        let hi = mi.checked_sub(REPOST_MIN_BACK)?;
        if lo > hi {
            return None;
        }
        // the source is an original (not itself a re-post), so regeneration never recurses
        let originals = |s: usize| self.plan.months[s].counts[t] - self.plan.months[s].reposts[t];
        let weights: Vec<f64> = (lo..=hi).map(|s| originals(s) as f64).collect();
        if weights.iter().sum::<f64>() <= 0.0 {
            return None;
        }
        let src_m = lo + crate::rng::pick_weighted(&mut rng, &weights);
        let sp = &self.plan.months[src_m];
        let src_slot = sp.starts[t] + sp.reposts[t] + rng.random_range(0..originals(src_m));
        let src = self.original(src_m, src_slot, t);
        let mp = &self.plan.months[mi];
        let mut r = src;
        r.posting_ref = posting_ref('p', mp.ym, slot);
        r.date = draw_date(mp.ym, &mut rng);
        r.description = edit_description(&r.description, &mut rng);
        r.url = format!(
            "{}?r={}",
            r.url.split('?').next().unwrap_or(&r.url),
            rng.random_range(1000..9999)
        );
        r.dup_kind = DupKind::Repost;
        Some(r)
    }

    /// Copy `src` (a unique posting of month `mi`) as copy number `n` of the month.
    pub fn copy(
        &self,
        mi: usize,
        n: u64,
        src: &Record,
        kind: DupKind,
        text_format: bool,
        csv: bool,
    ) -> Record {
        let mp = &self.plan.months[mi];
        let mut rng = rng_for(self.seed, &[Key::S("copy"), Key::N(mi as u64), Key::N(n)]);
        let mut r = src.clone();
        r.dup_kind = kind;
        match kind {
            DupKind::ExactCopy => {
                r.posting_ref = posting_ref('c', mp.ym, n);
                r.date = src.date + Duration::days(rng.random_range(0..=7));
                if chance(&mut rng, 0.5) {
                    r.url = format!("{}?utm_source=feed{}", src.url, rng.random_range(1..9));
                }
            }
            DupKind::NearCopy => {
                r.posting_ref = posting_ref('c', mp.ym, n);
                r.date = src.date + Duration::days(rng.random_range(1..=20));
                r.description = edit_description(&src.description, &mut rng);
                if chance(&mut rng, 0.2) {
                    r.title = format!("{} (Updated)", src.title);
                }
            }
            DupKind::Malformed => {
                r.posting_ref = posting_ref('m', mp.ym, n);
                let kind = if !text_format {
                    MalformedKind::MissingTitle
                } else {
                    match rng.random_range(0..100) {
                        0..=34 => MalformedKind::MissingTitle,
                        35..=69 => MalformedKind::BadDate,
                        70..=89 => MalformedKind::BrokenRecord,
                        _ if csv => MalformedKind::UnterminatedQuote,
                        _ => MalformedKind::BrokenRecord,
                    }
                };
                r.malformed = Some(kind);
                match kind {
                    MalformedKind::MissingTitle => r.title.clear(),
                    MalformedKind::BadDate => {
                        let bad = [
                            "31/02/2024",
                            "yesterday",
                            "2024-13-45",
                            "N/A",
                            "00/00/0000",
                            "last week",
                            "2025-02-30",
                        ];
                        r.bad_date = Some(pick(&mut rng, &bad).to_string());
                    }
                    _ => {}
                }
            }
            DupKind::Original | DupKind::Repost => {}
        }
        r
    }
}

/// Small edits a re-post or a near copy carries: a changed sentence, a line added or removed,
/// whitespace. Similarity to the source stays high.
pub fn edit_description(d: &str, rng: &mut GenRng) -> String {
    let mut s = d.to_string();
    let n = rng.random_range(1..=2);
    for _ in 0..n {
        match rng.random_range(0..5) {
            0 => s.push_str(pick::<&str>(
                rng,
                &[
                    "\n\nApply today!",
                    "\n\nWe review applications on a rolling basis.",
                    "\n\n#LI-Hybrid",
                    "\n\nReferral bonus eligible.",
                ],
            )),
            1 => s = s.replacen("team", "group", 1),
            2 => s = s.replacen("  ", " ", 1).replacen("\n\n", "\n \n", 1),
            3 => s = s.replacen("experience", "hands-on experience", 1),
            _ => s = s.replacen("We are", "We're", 1),
        }
    }
    s
}

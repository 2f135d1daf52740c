//! From an input record to a canonical posting: column recognition, `--map` overrides, value
//! cleaning (HTML → text, dates, countries), validation, the content hash, and the `extra` JSON
//! of every input column that is not a canonical field.
//!
//! Column names are compared after lower-casing and turning every non-alphanumeric run into `_`
//! (`Job Title`, `job-title`, `JobTitle`… all read as `job_title`/`jobtitle`). For each canonical
//! field the first candidate column with a non-empty value in the row is used, so a row with an
//! empty `post_date` falls back to `thread_month`. A `--map FIELD=COLUMN` replaces the candidate
//! list of FIELD by that one column.
//!
//! A `header_line` column (Hacker News "Company | Role | Location | ..." first lines) is a title
//! source of last resort: the title is the role part of a pipe-separated header (the first part
//! after the company that reads like a role, else the second part), else the whole header (cut at
//! 200 characters). When no company column exists, the company is the header's first part.

use crate::country;
use crate::dates::{self, DateError, Precision};
use crate::readers::{RawRecord, Reject};
use jobshift_core::normalize::{normalize_text, normalize_title};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The canonical fields an input column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CanonicalField {
    Title,
    Description,
    Company,
    Date,
    Location,
    Country,
    Url,
}

impl CanonicalField {
    pub const ALL: [CanonicalField; 7] = [
        CanonicalField::Title,
        CanonicalField::Description,
        CanonicalField::Company,
        CanonicalField::Date,
        CanonicalField::Location,
        CanonicalField::Country,
        CanonicalField::Url,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CanonicalField::Title => "title",
            CanonicalField::Description => "description",
            CanonicalField::Company => "company",
            CanonicalField::Date => "date",
            CanonicalField::Location => "location",
            CanonicalField::Country => "country",
            CanonicalField::Url => "url",
        }
    }
    /// Recognized column spellings (normalized), in order of preference.
    pub fn candidates(self) -> &'static [&'static str] {
        match self {
            CanonicalField::Title => &[
                "title",
                "job_title",
                "jobtitle",
                "position",
                "position_title",
                "job_position",
                "role",
                "job_role",
                "job_name",
                "posting_title",
                "header_line",
                "headline",
            ],
            CanonicalField::Description => &[
                "description",
                "job_description",
                "jobdescription",
                "description_text",
                "text",
                "body",
                "content",
                "details",
                "description_html",
                "job_description_html",
                "text_html",
                "body_html",
                "html",
            ],
            CanonicalField::Company => &[
                "company",
                "company_name",
                "companyname",
                "employer",
                "employer_name",
                "organization",
                "organisation",
                "hiring_organization",
                "org",
            ],
            CanonicalField::Date => &[
                "date",
                "posted_at",
                "date_posted",
                "posted_date",
                "post_date",
                "posted_utc",
                "posted",
                "posting_date",
                "published_at",
                "date_published",
                "created_at",
                "date_created",
                "thread_month",
                "month",
            ],
            CanonicalField::Location => &[
                "location",
                "job_location",
                "locations",
                "city",
                "locality",
                "address",
                "place",
            ],
            CanonicalField::Country => &["country", "country_code", "countrycode", "nation"],
            CanonicalField::Url => &[
                "url",
                "link",
                "apply_url",
                "job_url",
                "posting_url",
                "application_url",
                "href",
            ],
        }
    }
}

impl fmt::Display for CanonicalField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CanonicalField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "title" => Ok(CanonicalField::Title),
            "description" => Ok(CanonicalField::Description),
            "company" => Ok(CanonicalField::Company),
            "date" | "posted_date" => Ok(CanonicalField::Date),
            "location" => Ok(CanonicalField::Location),
            "country" => Ok(CanonicalField::Country),
            "url" => Ok(CanonicalField::Url),
            other => Err(format!(
                "unknown field `{other}`: --map accepts title, description, company, date, location, country, url"
            )),
        }
    }
}

/// `--map FIELD=COLUMN` overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnMap {
    overrides: BTreeMap<CanonicalField, String>,
}

impl ColumnMap {
    /// Parse `FIELD=COLUMN` pairs.
    pub fn parse(pairs: &[String]) -> Result<Self, String> {
        let mut m = ColumnMap::default();
        for p in pairs {
            let (f, c) = p.split_once('=').ok_or_else(|| {
                format!("--map {p:?}: expected FIELD=COLUMN, e.g. --map title=job_name")
            })?;
            let c = c.trim();
            if c.is_empty() {
                return Err(format!("--map {p:?}: empty column name"));
            }
            m.set(f.parse()?, c);
        }
        Ok(m)
    }
    pub fn set(&mut self, field: CanonicalField, column: &str) {
        self.overrides.insert(field, column.to_string());
    }
    pub fn get(&self, field: CanonicalField) -> Option<&str> {
        self.overrides.get(&field).map(String::as_str)
    }
}

/// Normalize a column name for recognition: lower case, non-alphanumeric runs → `_`.
pub fn normalize_column(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending = false;
    for ch in name.trim_start_matches('\u{feff}').chars() {
        if ch.is_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.extend(ch.to_lowercase());
        } else {
            pending = true;
        }
    }
    out
}

fn is_header_column(norm: &str) -> bool {
    matches!(norm, "header_line" | "headline")
}

/// A canonical posting before de-duplication (also the spill format between the phases).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Posting {
    pub posting_id: String,
    /// Exact-duplicate key: hash of normalized company, title, location and description.
    pub exact_key: String,
    pub source: String,
    pub company: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub country: Option<String>,
    /// Days since 1970-01-01.
    pub posted_date: i32,
    pub date_precision: String,
    pub url: Option<String>,
    pub extra: Option<String>,
    pub input_file: String,
    pub input_record: u64,
    /// Index of the input in this run (for per-file accounting).
    pub file_index: u32,
    /// The input was already ingested by an earlier run (replay: never extends counters).
    #[serde(default)]
    pub replay: bool,
}

/// Per-file context for building postings.
pub struct FileContext<'a> {
    pub input_file: String,
    pub source: String,
    pub file_index: u32,
    pub map: &'a ColumnMap,
    pub max_field_bytes: usize,
    pub replay: bool,
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Collapse whitespace and trim.
fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    let tag = b
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'));
    tag || (s.contains('&')
        && (s.contains("&amp;")
            || s.contains("&lt;")
            || s.contains("&#")
            || s.contains("&nbsp;")
            || s.contains("&quot;")))
}

/// HTML → plain text (html2text), paragraphs kept as blank-line-separated blocks.
pub fn html_to_text(s: &str) -> String {
    if !looks_like_html(s) {
        return s.trim().to_string();
    }
    match html2text::config::plain_no_decorate()
        .allow_width_overflow()
        .no_link_wrapping()
        .string_from_read(s.as_bytes(), 10_000)
    {
        Ok(t) => {
            // html2text pads lines; keep paragraphs but drop trailing spaces and blank runs.
            let mut out = String::with_capacity(t.len());
            let mut blank = 0;
            for line in t.lines() {
                let line = line.trim_end();
                if line.is_empty() {
                    blank += 1;
                    continue;
                }
                if !out.is_empty() {
                    out.push_str(if blank > 0 { "\n\n" } else { "\n" });
                }
                blank = 0;
                out.push_str(line);
            }
            out
        }
        Err(_) => s.trim().to_string(),
    }
}

fn is_binary(s: &str) -> bool {
    let mut bad = 0usize;
    let mut total = 0usize;
    for c in s.chars() {
        total += 1;
        if c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            bad += 1;
        }
    }
    s.contains('\0') || (total > 0 && bad * 10 > total)
}

const ROLE_WORDS: &[&str] = &[
    "engineer",
    "developer",
    "designer",
    "manager",
    "scientist",
    "analyst",
    "lead",
    "director",
    "head of",
    "architect",
    "administrator",
    "admin",
    "intern",
    "specialist",
    "consultant",
    "researcher",
    "programmer",
    "devops",
    "sre",
    "recruiter",
    "writer",
    "editor",
    "officer",
    "vp",
    "cto",
    "founding",
    "staff",
    "senior",
    "junior",
    "principal",
    "coordinator",
    "representative",
    "technician",
    "associate",
    "support",
    "accountant",
    "counsel",
    "attorney",
    "nurse",
    "teacher",
    "executive",
    "strategist",
    "full stack",
    "full-stack",
    "fullstack",
    "frontend",
    "front-end",
    "backend",
    "back-end",
    "hacker",
    "marketer",
    "sales",
    "product",
    "operations",
    "ios",
    "android",
    "ml ",
    "data ",
    "security",
    "qa",
    "tester",
    "ux",
    "ui ",
    "mechanic",
    "operator",
    "chef",
    "driver",
];

/// Split a Hacker-News-style header line into (role, company).
pub fn role_from_header(header: &str) -> (String, Option<String>) {
    let header = clean(header);
    let parts: Vec<&str> = header
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() >= 2 {
        let company = Some(parts[0].to_string());
        let role = parts[1..]
            .iter()
            .find(|p| {
                let l = format!("{} ", p.to_lowercase());
                ROLE_WORDS.iter().any(|w| l.contains(w))
            })
            .unwrap_or(&parts[1]);
        return (cap_chars(role, 200), company);
    }
    let company = ["–", "—", " - ", ",", "("]
        .iter()
        .filter_map(|sep| header.split_once(sep).map(|(c, _)| c.trim()))
        .filter(|c| !c.is_empty())
        .min_by_key(|c| c.len())
        .map(str::to_string);
    (cap_chars(&header, 200), company)
}

fn cap_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let cut: String = s.chars().take(n).collect();
    match cut.rfind(' ') {
        Some(i) if i > n / 2 => cut[..i].to_string(),
        _ => cut,
    }
}

/// The result of building a posting from a record.
pub struct Built {
    pub posting: Posting,
    /// Repairs applied (keys for `repaired_by_reason`).
    pub repairs: Vec<&'static str>,
    /// Which column fed which canonical field.
    pub columns: Vec<(CanonicalField, String)>,
    /// `normalize_text` of the company ("" when none), reused for the dedup company key.
    pub norm_company: String,
    /// `normalize_title` of the title.
    pub norm_title: String,
    /// `normalize_text` of the description, reused for the MinHash signature.
    pub norm_description: String,
}

/// Picks each canonical field's column from one record: the column the user mapped, else the
/// first candidate column with a non-empty value; remembers which columns it used.
struct Picker<'r> {
    rec: &'r RawRecord,
    map: &'r ColumnMap,
    norm_names: Vec<String>,
    used: Vec<bool>,
    columns: Vec<(CanonicalField, String)>,
}

impl<'r> Picker<'r> {
    fn new(rec: &'r RawRecord, map: &'r ColumnMap) -> Self {
        Picker {
            rec,
            map,
            norm_names: rec
                .fields
                .iter()
                .map(|(k, _)| normalize_column(k))
                .collect(),
            used: vec![false; rec.fields.len()],
            columns: Vec::new(),
        }
    }

    /// The first candidate column of `field` with a non-empty value: its index and text.
    fn pick(&mut self, field: CanonicalField) -> Option<(usize, String)> {
        let rec = self.rec;
        let norm_names = &self.norm_names;
        let idx_for = |cand: &str| -> Option<usize> {
            rec.fields.iter().position(|(k, _)| k == cand).or_else(|| {
                let n = normalize_column(cand);
                norm_names.iter().position(|x| *x == n)
            })
        };
        let list: Vec<usize> = match self.map.get(field) {
            Some(col) => idx_for(col).into_iter().collect(),
            None => field
                .candidates()
                .iter()
                .filter_map(|c| norm_names.iter().position(|x| x == c))
                .collect(),
        };
        for i in list {
            if let Some(v) = value_text(&rec.fields[i].1) {
                if !v.trim().is_empty() {
                    self.used[i] = true;
                    self.columns.push((field, rec.fields[i].0.clone()));
                    return Some((i, v));
                }
            }
        }
        None
    }

    /// The title, and the company when the title column is a "Company | Role | …" header line.
    fn title(
        &mut self,
        repairs: &mut Vec<&'static str>,
    ) -> Result<(String, Option<String>), Reject> {
        let mut header_company = None;
        let title = match self.pick(CanonicalField::Title) {
            Some((i, v)) if is_header_column(&self.norm_names[i]) => {
                let (role, company) = role_from_header(&v);
                header_company = company;
                // The header keeps more than the role: it stays in `extra` too.
                self.used[i] = false;
                if role.chars().count() < clean(&v).chars().count() && !v.contains('|') {
                    repairs.push("header_title_truncated");
                }
                role
            }
            Some((_, v)) => clean(&v),
            None => return Err(Reject::MissingTitle),
        };
        if title.is_empty() {
            return Err(Reject::MissingTitle);
        }
        if is_binary(&title) {
            return Err(Reject::BinaryData {
                field: "title".into(),
            });
        }
        Ok((title, header_company))
    }

    /// The posting date and its precision.
    fn date(&mut self) -> Result<(chrono::NaiveDate, Precision), Reject> {
        match self.pick(CanonicalField::Date) {
            Some((i, v)) => dates::parse_date(&v).map_err(|e| {
                let column = self.rec.fields[i].0.clone();
                let value: String = v.chars().take(100).collect();
                match e {
                    DateError::Unparseable => Reject::UnparseableDate { column, value },
                    DateError::OutOfRange => Reject::DateOutOfRange { column, value },
                }
            }),
            None => Err(Reject::MissingDate),
        }
    }

    /// The description as text (HTML stripped); rejects binary data.
    fn description(&mut self) -> Result<Option<String>, Reject> {
        let description = self
            .pick(CanonicalField::Description)
            .map(|(_, v)| html_to_text(&v))
            .filter(|d| !d.is_empty());
        if let Some(d) = &description {
            if d.contains('\0') || is_binary(&d.chars().take(2000).collect::<String>()) {
                return Err(Reject::BinaryData {
                    field: "description".into(),
                });
            }
        }
        Ok(description)
    }

    /// The country code: from the country field, else the location, else the parts of a header
    /// line after the company ("Acme | Engineer | Berlin, Germany | Full-time").
    fn country(
        &self,
        country_raw: Option<&str>,
        location: Option<&str>,
        from_header: bool,
    ) -> Option<String> {
        let mut country = country_raw.and_then(country::from_country_field);
        if country.is_none() {
            country = location.and_then(country::from_location);
        }
        if country.is_none() && from_header {
            if let Some((_, v)) = title_pick_header(self.rec, &self.norm_names) {
                for part in v.split('|').skip(1) {
                    if let Some(c) = country::from_location(part) {
                        country = Some(c);
                        break;
                    }
                }
            }
        }
        country
    }

    /// Every column not used for a canonical field, as a JSON object (None when empty); the raw
    /// country value, when it did not map to a code, is not lost.
    fn extra(&self, country_unmapped: Option<&str>) -> Option<String> {
        let mut extra = serde_json::Map::new();
        for (i, (k, v)) in self.rec.fields.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let keep = match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if keep {
                extra.insert(k.clone(), v.clone());
            }
        }
        if let Some(c) = country_unmapped {
            extra
                .entry("country_raw".to_string())
                .or_insert_with(|| Value::String(c.to_string()));
        }
        if extra.is_empty() {
            None
        } else {
            Some(Value::Object(extra).to_string())
        }
    }
}

/// content_hash(company, title, location, description) and the same plus the date, sharing
/// the hashing of the first four normalized fields (identical to jobshift_core's content_hash):
/// the exact-duplicate key and the posting id.
fn content_keys(fields: [&str; 4], date: &str) -> (String, String) {
    let mut h = blake3::Hasher::new();
    for f in fields {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    let exact_key = h.finalize().to_hex()[..32].to_string();
    h.update(&(date.len() as u64).to_le_bytes());
    h.update(date.as_bytes());
    let posting_id = h.finalize().to_hex()[..32].to_string();
    (exact_key, posting_id)
}

/// Build the canonical posting of a record, or say why it is rejected.
pub fn build_posting(rec: &RawRecord, ctx: &FileContext<'_>) -> Result<Built, Reject> {
    let mut p = Picker::new(rec, ctx.map);
    let mut repairs = Vec::new();
    if rec.lossy_utf8 {
        repairs.push("invalid_utf8_replaced");
    }
    let (title, header_company) = p.title(&mut repairs)?;
    let (posted, precision) = p.date()?;
    let description = p.description()?;
    let company = p
        .pick(CanonicalField::Company)
        .map(|(_, v)| clean(&v))
        .or_else(|| header_company.clone().map(|c| clean(&c)))
        .filter(|c| !c.is_empty());
    let location = p
        .pick(CanonicalField::Location)
        .map(|(_, v)| clean(&v))
        .filter(|c| !c.is_empty());
    let country_raw = p.pick(CanonicalField::Country).map(|(_, v)| v);
    let url = p
        .pick(CanonicalField::Url)
        .map(|(_, v)| v.trim().to_string())
        .filter(|c| !c.is_empty());
    let country = p.country(
        country_raw.as_deref(),
        location.as_deref(),
        header_company.is_some(),
    );
    let extra = p.extra(country_raw.as_deref().filter(|_| country.is_none()));

    let n_company = normalize_text_fast(company.as_deref().unwrap_or(""));
    let n_title = normalize_title_fast(&title);
    let n_location = normalize_text_fast(location.as_deref().unwrap_or(""));
    let n_description = normalize_text_fast(description.as_deref().unwrap_or(""));
    let date_str = dates::from_days(dates::to_days(posted)).to_string();
    let (exact_key, posting_id) = content_keys(
        [&n_company, &n_title, &n_location, &n_description],
        &date_str,
    );

    Ok(Built {
        posting: Posting {
            posting_id,
            exact_key,
            source: ctx.source.clone(),
            company,
            title,
            description,
            location,
            country,
            posted_date: dates::to_days(posted),
            date_precision: match precision {
                Precision::Day => "day",
                Precision::Month => "month",
            }
            .to_string(),
            url,
            extra,
            input_file: ctx.input_file.clone(),
            input_record: rec.number,
            file_index: ctx.file_index,
            replay: ctx.replay,
        },
        repairs,
        columns: p.columns,
        norm_company: n_company,
        norm_title: n_title,
        norm_description: n_description,
    })
}

/// `jobshift_core::normalize::normalize_text` with a fast path for ASCII text, where NFKC is
/// the identity: the same output (tested), without the per-character Unicode tables.
pub fn normalize_text_fast(raw: &str) -> String {
    if !raw.is_ascii() {
        return normalize_text(raw);
    }
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend(word.bytes().map(|b| b.to_ascii_lowercase()));
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `jobshift_core::normalize::normalize_title` with the same ASCII fast path (same output).
pub fn normalize_title_fast(raw: &str) -> String {
    if !raw.is_ascii() {
        return normalize_title(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for ch in raw.chars() {
        if ch == '&' {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str("and");
            pending_space = true;
        } else if ch.is_ascii_alphanumeric() || ch == '+' || ch == '#' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

fn title_pick_header(rec: &RawRecord, norm_names: &[String]) -> Option<(usize, String)> {
    norm_names
        .iter()
        .position(|n| is_header_column(n))
        .and_then(|i| value_text(&rec.fields[i].1).map(|v| (i, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[(&str, &str)]) -> RawRecord {
        RawRecord {
            number: 1,
            line: 2,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
            raw: None,
            lossy_utf8: false,
        }
    }

    fn ctx(map: &ColumnMap) -> FileContext<'_> {
        FileContext {
            input_file: "f.csv".into(),
            source: "f".into(),
            file_index: 0,
            map,
            max_field_bytes: 1 << 20,
            replay: false,
        }
    }

    #[test]
    fn recognizes_columns_and_keeps_extra() {
        let m = ColumnMap::default();
        let b = build_posting(
            &rec(&[
                ("Job Title", "Data Engineer"),
                ("Company Name", "Acme"),
                ("post_date", ""),
                ("thread_month", "2024-03"),
                ("City", "Berlin"),
                ("salary", "100k"),
                ("Description", "<p>Build <b>pipelines</b> &amp; more</p>"),
            ]),
            &ctx(&m),
        )
        .unwrap();
        let p = b.posting;
        assert_eq!(p.title, "Data Engineer");
        assert_eq!(p.company.as_deref(), Some("Acme"));
        assert_eq!(p.date_precision, "month");
        assert_eq!(dates::from_days(p.posted_date).to_string(), "2024-03-01");
        assert_eq!(p.country.as_deref(), Some("DE"));
        assert_eq!(p.description.as_deref(), Some("Build pipelines & more"));
        let extra: Value = serde_json::from_str(p.extra.as_deref().unwrap()).unwrap();
        assert_eq!(extra["salary"], "100k");
        assert!(extra.get("post_date").is_none());
    }

    #[test]
    fn map_overrides_and_rejects() {
        let mut m = ColumnMap::default();
        m.set(CanonicalField::Title, "name");
        let b = build_posting(
            &rec(&[("name", "Nurse"), ("title", "x"), ("date", "2024-01-02")]),
            &ctx(&m),
        )
        .unwrap();
        assert_eq!(b.posting.title, "Nurse");
        let m = ColumnMap::default();
        assert_eq!(
            build_posting(
                &rec(&[("title", "Nurse"), ("date", "31/02/2024")]),
                &ctx(&m)
            )
            .err()
            .unwrap()
            .key(),
            "unparseable_date"
        );
        assert_eq!(
            build_posting(&rec(&[("title", " "), ("date", "2024-01-01")]), &ctx(&m))
                .err()
                .unwrap(),
            Reject::MissingTitle
        );
        assert_eq!(
            build_posting(&rec(&[("title", "Nurse")]), &ctx(&m))
                .err()
                .unwrap(),
            Reject::MissingDate
        );
    }

    #[test]
    fn fast_normalization_matches_core() {
        for t in [
            " Hello\n\tWorld. ",
            "a\u{000B}b\u{000C}c\rd",
            "Sr. Software-Engineer & R&D (m/w/d) C++ / C#",
            "&lead & ",
            "",
            "Café ＦＵＬＬ ﬁne",
        ] {
            assert_eq!(normalize_text_fast(t), normalize_text(t), "{t:?}");
            assert_eq!(normalize_title_fast(t), normalize_title(t), "{t:?}");
        }
        use jobshift_core::normalize::content_hash;
        let m = ColumnMap::default();
        let b = build_posting(
            &rec(&[
                ("title", "Data Engineer"),
                ("company", "ACME  Corp"),
                ("date", "2024-01-05"),
                ("description", "Build  Pipelines"),
            ]),
            &ctx(&m),
        )
        .unwrap();
        let f = ["acme corp", "data engineer", "", "build pipelines"];
        assert_eq!(b.posting.exact_key, content_hash(&f));
        assert_eq!(
            b.posting.posting_id,
            content_hash(&[f[0], f[1], f[2], f[3], "2024-01-05"])
        );
    }

    #[test]
    fn header_lines() {
        let (r, c) = role_from_header("Clever Benefits | Scottsdale, AZ (Hybrid) | Full-time | $140k | Senior Full Stack (React)");
        assert_eq!(r, "Senior Full Stack (React)");
        assert_eq!(c.as_deref(), Some("Clever Benefits"));
        let (r, c) = role_from_header("Acme | Berlin | Full-time");
        assert_eq!(r, "Berlin");
        assert_eq!(c.as_deref(), Some("Acme"));
        let (r, c) = role_from_header("Stormpulse – Austin, TX – Full-time");
        assert_eq!(r, "Stormpulse – Austin, TX – Full-time");
        assert_eq!(c.as_deref(), Some("Stormpulse"));
        assert_eq!(normalize_column("\u{feff}Job-Title "), "job_title");
    }
}

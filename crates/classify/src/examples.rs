//! Training data and held-out evaluation sets.
//!
//! Training examples ([`LabeledExample`]) come from:
//! - the taxonomy's names and aliases ([`LabelSource::TaxonomyAlias`]);
//! - O*NET alternate titles sent to a title through the taxonomy's O*NET crosswalk
//!   ([`LabelSource::OnetAlternate`]; optional — the recipe works without the file);
//! - human label files (JSONL of `LabeledExample`);
//! - postings whose title matches an alias exactly ([`LabelSource::AliasMatchedPosting`];
//!   they carry descriptions and teach the description model).
//!
//! Held-out sets: the O*NET "sample of reported titles" and the JobBERT vacancy titles (ESCO
//! labels → O*NET through the official ESCO–O*NET crosswalk). Gold is a set of O*NET codes.

use crate::seniority::clean_title;
use crate::ClassifyError;
use jobshift_core::labels::{LabelSource, LabeledExample, NONE_FITS};
use jobshift_core::normalize::normalize_title;
use jobshift_taxonomy::Taxonomy;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

/// Names and aliases of every title.
pub(crate) fn taxonomy_examples(tax: &Taxonomy) -> Vec<LabeledExample> {
    let mut out = Vec::new();
    for t in tax.titles() {
        for text in std::iter::once(&t.name).chain(t.aliases.iter()) {
            out.push(example(text, &t.id, LabelSource::TaxonomyAlias));
        }
    }
    out
}

fn example(title: &str, id: &str, source: LabelSource) -> LabeledExample {
    LabeledExample {
        title: title.to_string(),
        description: None,
        title_id: id.to_string(),
        source,
        confidence: 1.0,
        posting_id: None,
    }
}

/// Read an O*NET "Alternate Titles" TSV (columns: O*NET-SOC Code, Title, Alternate Title,
/// Short Title, ...) and label each alternate (and short) title through the crosswalk.
///
/// An alternate title that is itself a taxonomy name/alias keeps that title. When several
/// taxonomy titles share the O*NET code (Software Developers → software, frontend, backend,
/// mobile engineer), the taxonomy search picks among them, else the crosswalk's default title.
/// Returns the examples and the number of rows whose code has no taxonomy title.
pub fn onet_alternate_examples(
    tax: &Taxonomy,
    path: &Path,
) -> Result<(Vec<LabeledExample>, usize), ClassifyError> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    onet_alternate_examples_from(tax, file, &path.display().to_string())
}

/// The O*NET alternate titles shipped in this crate (`data/onet_alternate_titles.tsv.gz`,
/// derived by `data/derive.py`; O*NET Database, U.S. DOL/ETA, CC BY 4.0): what the default
/// classifier trains on, on every machine, from any directory.
pub(crate) const SHIPPED_ONET_ALTERNATES: &[u8] =
    include_bytes!("../data/onet_alternate_titles.tsv.gz");

/// The JobBERT *validation* split shipped in this crate (`data/jobbert_validation.tsv.gz`:
/// title → gold O*NET codes, titles of the test split removed; TechWolf, Apache-2.0): it
/// measures the alias step's precision (its confidence), and `jobshift train --vacancy-titles`
/// trains on its titles ([`shipped_vacancy_title_examples`]; not the default classifier). The
/// JobBERT *test* split stays held out.
pub(crate) const SHIPPED_JOBBERT_VALIDATION: &[u8] =
    include_bytes!("../data/jobbert_validation.tsv.gz");

/// Name under which the shipped O*NET file is recorded in `classifier.json`.
pub(crate) const SHIPPED_ONET_NAME: &str =
    "builtin:onet_alternate_titles.tsv.gz (O*NET Database, CC BY 4.0)";

/// Decompress one of the shipped gzip files.
pub(crate) fn gunzip(bytes: &[u8], what: &str) -> Result<Vec<u8>, ClassifyError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| ClassifyError::Format(format!("{what}: not a gzip file: {e}")))?;
    Ok(out)
}

/// [`onet_alternate_examples`] over the shipped O*NET alternate titles.
pub fn shipped_onet_alternate_examples(
    tax: &Taxonomy,
) -> Result<(Vec<LabeledExample>, usize), ClassifyError> {
    let bytes = gunzip(SHIPPED_ONET_ALTERNATES, SHIPPED_ONET_NAME)?;
    onet_alternate_examples_from(tax, bytes.as_slice(), SHIPPED_ONET_NAME)
}

/// What became of the shipped JobBERT validation titles as training examples
/// ([`shipped_vacancy_title_examples`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VacancyTitleCounts {
    /// Titles in the shipped file.
    pub read: usize,
    /// Titles kept as examples.
    pub kept: usize,
    /// Titles whose gold occupations count under no single taxonomy title.
    pub no_single_title: usize,
    /// Titles whose own words name other taxonomy titles, never the gold one.
    pub contradicted: usize,
}

/// The shipped JobBERT validation titles — job ads as employers wrote them ("SALES ASSISTANT
/// (LELAKI)", "Lorry Driver (10ton - 15ton)", "Account Executive cum Admin") — as training
/// examples ([`LabelSource::VacancyTitle`]): what the O*NET alternate titles lack is titles
/// written the way ads write them. Each takes the one taxonomy title its gold O*NET occupations
/// count under (a title with occupations of several titles is left out). The gold comes from
/// an ESCO label through the ESCO → O*NET crosswalk and is often another occupation than the
/// title says ("Lorry Driver" → Tutor, "UI & UX Designer" → Art Director), so a title whose own
/// words name taxonomy titles (a name or an alias of two words or more: "lorry driver",
/// "ui ux designer") of which the gold is none is left out too: the taxonomy decides what its
/// words mean.
pub fn shipped_vacancy_title_examples(
    tax: &Taxonomy,
) -> Result<(Vec<LabeledExample>, VacancyTitleCounts), ClassifyError> {
    let items = shipped_jobbert_validation()?;
    let mut counts = VacancyTitleCounts {
        read: items.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for item in &items {
        let ids: BTreeSet<&str> = item
            .gold_onet
            .iter()
            .filter_map(|code| tax.title_for_onet(code))
            .map(|t| t.id.as_str())
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let [id] = ids[..] else {
            counts.no_single_title += 1;
            continue;
        };
        let named = titles_named_in(tax, &item.title);
        if !named.is_empty() && !named.contains(&id) {
            counts.contradicted += 1;
            continue;
        }
        out.push(example(&item.title, id, LabelSource::VacancyTitle));
    }
    counts.kept = out.len();
    Ok((out, counts))
}

/// The titles a title's words name: from each word on, the longest phrase of two words or more
/// that is a taxonomy name or alias ("Senior Front End Developer (Angular)" → Frontend
/// Engineer, by "front end developer").
fn titles_named_in<'t>(tax: &'t Taxonomy, title: &str) -> Vec<&'t str> {
    let norm = normalize_title(title);
    let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
    let mut named = Vec::new();
    for i in 0..words.len() {
        for j in (i + 2..=words.len()).rev() {
            if let Some(t) = tax.match_exact(&words[i..j].join(" ")) {
                named.push(t.id.as_str());
                break;
            }
        }
    }
    named
}

/// The shipped JobBERT validation titles with their gold O*NET codes.
pub(crate) fn shipped_jobbert_validation() -> Result<Vec<EvalItem>, ClassifyError> {
    let what = "builtin:jobbert_validation.tsv.gz";
    let bytes = gunzip(SHIPPED_JOBBERT_VALIDATION, what)?;
    let text =
        String::from_utf8(bytes).map_err(|e| ClassifyError::Format(format!("{what}: {e}")))?;
    let mut items = Vec::new();
    for line in text.lines().skip(1) {
        let Some((title, codes)) = line.split_once('\t') else {
            continue;
        };
        items.push(EvalItem {
            title: title.to_string(),
            gold_onet: codes.split(';').map(str::to_string).collect(),
            ..Default::default()
        });
    }
    Ok(items)
}

/// [`onet_alternate_examples`] over any reader of the TSV (`source` names it in errors).
pub(crate) fn onet_alternate_examples_from<R: std::io::Read>(
    tax: &Taxonomy,
    reader: R,
    source: &str,
) -> Result<(Vec<LabeledExample>, usize), ClassifyError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_reader(reader);
    let mut by_code: HashMap<&str, Vec<&str>> = HashMap::new();
    for t in tax.titles() {
        by_code
            .entry(t.onet_soc.as_str())
            .or_default()
            .push(t.id.as_str());
    }
    let mut out = Vec::new();
    let mut unmapped = 0usize;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| ClassifyError::Format(format!("{source} row {}: {e}", i + 2)))?;
        let code = rec.get(0).unwrap_or("").trim();
        let occupation = rec.get(1).unwrap_or("").trim();
        let texts = [
            rec.get(2).unwrap_or("").trim(),
            rec.get(3).unwrap_or("").trim(),
        ];
        let default = tax.title_for_onet(code);
        let mut candidates: Vec<&str> = by_code.get(code).cloned().unwrap_or_default();
        if let Some(d) = default {
            if !candidates.contains(&d.id.as_str()) {
                candidates.push(d.id.as_str());
            }
        }
        if candidates.is_empty() {
            unmapped += 1;
            continue;
        }
        for text in texts.into_iter().chain(std::iter::once(occupation)) {
            if text.is_empty() {
                continue;
            }
            let id = if let Some(t) = tax.match_exact(text) {
                t.id.clone()
            } else if candidates.len() == 1 {
                candidates[0].to_string()
            } else {
                let hit = tax
                    .search(&clean_title(text), 25)
                    .into_iter()
                    .find(|t| candidates.contains(&t.id.as_str()));
                match (hit, default) {
                    (Some(t), _) => t.id.clone(),
                    (None, Some(d)) => d.id.clone(),
                    (None, None) => candidates[0].to_string(),
                }
            };
            if seen.insert((normalize_title(text), id.clone())) {
                out.push(example(text, &id, LabelSource::OnetAlternate));
            }
        }
    }
    Ok((out, unmapped))
}

/// A label file that could not be used entirely: which lines were rejected and why.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LabelFileReport {
    pub file: String,
    /// Lines with a taxonomy title (`none_fits` labels not counted).
    pub accepted: usize,
    /// `none_fits` labels read (no title fits the posting; see [`NONE_FITS`]).
    pub none_fits: usize,
    pub rejected: Vec<String>,
}

/// Read a JSONL file of [`LabeledExample`]. Lines with unknown title ids or bad JSON are
/// rejected (reported with their line numbers), never silently dropped. `none_fits` labels
/// ([`NONE_FITS`]) are returned with the others and counted apart.
pub(crate) fn read_label_file(
    tax: &Taxonomy,
    path: &Path,
) -> Result<(Vec<LabeledExample>, LabelFileReport), ClassifyError> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    let mut rep = LabelFileReport {
        file: path.display().to_string(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| ClassifyError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LabeledExample>(&line) {
            Ok(ex) if tax.get(&ex.title_id).is_some() => out.push(ex),
            Ok(ex) if ex.title_id == NONE_FITS => {
                rep.none_fits += 1;
                out.push(ex)
            }
            Ok(ex) => rep.rejected.push(format!(
                "line {}: unknown title_id {:?} (see `jobshift taxonomy list`)",
                i + 1,
                ex.title_id
            )),
            Err(e) => rep
                .rejected
                .push(format!("line {}: not a labelled example: {e}", i + 1)),
        }
    }
    rep.accepted = out.len() - rep.none_fits;
    Ok((out, rep))
}

/// Your own labelled postings as an evaluation set (`jobshift eval --labels`): JSONL files of
/// [`LabeledExample`], or directories of them (every `*.jsonl` inside, in name order), e.g. the
/// aggregated crowd labels of a random sample of your corpus. Each item knows its exact gold
/// title, so its confusion-matrix row is by title (what the trends correction needs), and the
/// title's O*NET code scores the SOC-level accuracies. Descriptions are kept only when
/// `with_description`. Rejected lines are reported per file, never silently dropped. The
/// `none_fits` labels come back apart (second), as items whose `gold_title` is [`NONE_FITS`]:
/// they are not scored (no title is right for them), only remembered by a re-fit.
pub(crate) fn labelled_set(
    tax: &Taxonomy,
    paths: &[std::path::PathBuf],
    with_description: bool,
) -> Result<(EvalSet, Vec<EvalItem>, Vec<LabelFileReport>), ClassifyError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<std::path::PathBuf> = std::fs::read_dir(p)
                .map_err(|e| ClassifyError::io(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            inside.sort();
            if inside.is_empty() {
                return Err(ClassifyError::Format(format!(
                    "{}: no *.jsonl label files in this directory",
                    p.display()
                )));
            }
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    let mut items = Vec::new();
    let mut none_fits = Vec::new();
    let mut reports = Vec::new();
    for f in &files {
        let (examples, rep) = read_label_file(tax, f)?;
        for ex in examples {
            let description = ex.description.filter(|_| with_description);
            // read_label_file keeps known ids and none_fits only
            match tax.get(&ex.title_id) {
                Some(t) => items.push(EvalItem {
                    title: ex.title,
                    gold_onet: BTreeSet::from([t.onet_soc.clone()]),
                    description,
                    gold_title: Some(t.id.clone()),
                }),
                None => none_fits.push(EvalItem {
                    title: ex.title,
                    gold_onet: BTreeSet::new(),
                    description,
                    gold_title: Some(NONE_FITS.to_string()),
                }),
            }
        }
        reports.push(rep);
    }
    let name = match paths {
        [one] => one
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "labels".into()),
        _ => "labels".into(),
    };
    let removed_unmapped = reports.iter().map(|r| r.rejected.len()).sum();
    Ok((
        EvalSet {
            name,
            items,
            removed_seen: 0,
            removed_unmapped,
        },
        none_fits,
        reports,
    ))
}

/// Split examples into (train, validation) by group: every example whose cleaned title hashes
/// into the validation share goes there, so the same written title never sits on both sides.
/// Taxonomy names/aliases always train (they define the classes), and so do vacancy titles
/// ([`LabelSource::VacancyTitle`]: thresholds and calibration stay chosen on the O*NET
/// alternate titles). Deterministic given `seed`.
pub(crate) fn split_by_title(
    examples: Vec<LabeledExample>,
    val_fraction: f64,
    seed: u64,
) -> (Vec<LabeledExample>, Vec<LabeledExample>) {
    let mut train = Vec::new();
    let mut val = Vec::new();
    let alias_keys: HashSet<String> = examples
        .iter()
        .filter(|e| e.source == LabelSource::TaxonomyAlias)
        .map(|e| clean_title(&e.title))
        .collect();
    for ex in examples {
        let key = clean_title(&ex.title);
        if matches!(
            ex.source,
            LabelSource::TaxonomyAlias | LabelSource::VacancyTitle
        ) || alias_keys.contains(&key)
        {
            train.push(ex);
            continue;
        }
        let h = blake3::hash(format!("{seed}:{key}").as_bytes());
        let b = h.as_bytes();
        let u = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f64
            / u64::MAX as f64;
        if u < val_fraction {
            val.push(ex);
        } else {
            train.push(ex);
        }
    }
    (train, val)
}

/// One held-out item: a raw title and the set of O*NET-SOC codes that count as right; for
/// the posting sets also the description and the exact gold taxonomy title.
#[derive(Debug, Clone, Default)]
pub struct EvalItem {
    pub title: String,
    pub gold_onet: BTreeSet<String>,
    /// The posting's description (posting sets only; the title sets have none).
    pub description: Option<String>,
    /// The exact gold taxonomy title id, when the set knows it (posting sets).
    pub gold_title: Option<String>,
}

/// A named held-out set and what was removed from it.
#[derive(Debug, Clone)]
pub struct EvalSet {
    pub name: String,
    pub items: Vec<EvalItem>,
    /// Rows dropped because their title also appears in the training data.
    pub removed_seen: usize,
    /// Rows dropped because their label has no O*NET code.
    pub removed_unmapped: usize,
}

/// O*NET "Sample of Reported Titles" (`sample_of_reported_titles.tsv`), minus every title that
/// (normalized) also appears in `seen` (the alternate titles and taxonomy aliases).
pub(crate) fn onet_reported_set(
    path: &Path,
    seen: &HashSet<String>,
) -> Result<EvalSet, ClassifyError> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_reader(file);
    let mut items = Vec::new();
    let mut removed = 0;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec
            .map_err(|e| ClassifyError::Format(format!("{} row {}: {e}", path.display(), i + 2)))?;
        let code = rec.get(0).unwrap_or("").trim().to_string();
        let title = rec.get(2).unwrap_or("").trim().to_string();
        if code.is_empty() || title.is_empty() {
            continue;
        }
        if seen.contains(&normalize_title(&title)) {
            removed += 1;
            continue;
        }
        items.push(EvalItem {
            title,
            gold_onet: BTreeSet::from([code]),
            ..Default::default()
        });
    }
    Ok(EvalSet {
        name: "onet_reported".into(),
        items,
        removed_seen: removed,
        removed_unmapped: 0,
    })
}

/// ESCO preferred label (lower case) → O*NET codes, from the official crosswalk CSV
/// (`crosswalk_esco_onet.csv`: metadata lines, then a header starting "O*NET Id").
/// Exact and close matches are preferred; broad/narrow ones are used only when a label has
/// no exact or close match.
pub(crate) fn esco_to_onet(
    path: &Path,
) -> Result<HashMap<String, BTreeSet<String>>, ClassifyError> {
    let text = std::fs::read_to_string(path).map_err(|e| ClassifyError::io(path, e))?;
    let start = text.find("O*NET Id,").ok_or_else(|| {
        ClassifyError::Format(format!(
            "{}: no header line starting \"O*NET Id,\"",
            path.display()
        ))
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&text.as_bytes()[start..]);
    let mut strong: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut weak: HashMap<String, BTreeSet<String>> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ClassifyError::Format(format!("{}: {e}", path.display())))?;
        let code = rec.get(0).unwrap_or("").trim().to_string();
        let esco = rec.get(4).unwrap_or("").trim().to_lowercase();
        let kind = rec.get(6).unwrap_or("").trim().to_lowercase();
        if code.is_empty() || esco.is_empty() {
            continue;
        }
        let target = if kind.starts_with("exact") || kind.starts_with("close") {
            &mut strong
        } else {
            &mut weak
        };
        target.entry(esco).or_default().insert(code);
    }
    for (k, v) in weak {
        strong.entry(k).or_insert(v);
    }
    Ok(strong)
}

/// JobBERT titles (`text,label` CSV; label = ESCO preferred label), gold through `esco`,
/// minus titles seen in training. Distinct (normalized title, label) pairs are kept once.
pub(crate) fn jobbert_set(
    path: &Path,
    esco: &HashMap<String, BTreeSet<String>>,
    seen: &HashSet<String>,
) -> Result<EvalSet, ClassifyError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| ClassifyError::Format(format!("{}: {e}", path.display())))?;
    let mut items = Vec::new();
    let (mut removed_seen, mut removed_unmapped) = (0, 0);
    let mut dedup: HashSet<(String, String)> = HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec
            .map_err(|e| ClassifyError::Format(format!("{} row {}: {e}", path.display(), i + 2)))?;
        let title = rec.get(0).unwrap_or("").trim().to_string();
        let label = rec.get(1).unwrap_or("").trim().to_lowercase();
        let norm = normalize_title(&title);
        if norm.is_empty() || !dedup.insert((norm.clone(), label.clone())) {
            continue;
        }
        let Some(codes) = esco.get(&label) else {
            removed_unmapped += 1;
            continue;
        };
        if seen.contains(&norm) {
            removed_seen += 1;
            continue;
        }
        items.push(EvalItem {
            title,
            gold_onet: codes.clone(),
            ..Default::default()
        });
    }
    Ok(EvalSet {
        name: "jobbert".into(),
        items,
        removed_seen,
        removed_unmapped,
    })
}

/// Where the held-out files live under the shared data directory.
pub(crate) struct HeldOutPaths {
    pub onet_reported: std::path::PathBuf,
    pub jobbert: std::path::PathBuf,
    pub esco_crosswalk: std::path::PathBuf,
}

impl HeldOutPaths {
    pub fn under(shared: &Path) -> Self {
        HeldOutPaths {
            onet_reported: shared.join("onet-sample-reported-titles/sample_of_reported_titles.tsv"),
            jobbert: shared.join("jobbert-v1-title-normalization/jobbert_v1_titles.test.csv"),
            esco_crosswalk: shared.join("esco-onet-crosswalk/crosswalk_esco_onet.csv"),
        }
    }
}

/// Normalized titles of the training examples (what held-out sets must not contain).
pub(crate) fn seen_titles(examples: &[LabeledExample]) -> HashSet<String> {
    examples.iter().map(|e| normalize_title(&e.title)).collect()
}

/// Load both held-out sets that exist under `shared` (skipping absent files).
pub fn load_held_out(shared: &Path, seen: &HashSet<String>) -> Result<Vec<EvalSet>, ClassifyError> {
    let p = HeldOutPaths::under(shared);
    let mut sets = Vec::new();
    if p.onet_reported.is_file() {
        sets.push(onet_reported_set(&p.onet_reported, seen)?);
    }
    if p.jobbert.is_file() && p.esco_crosswalk.is_file() {
        let esco = esco_to_onet(&p.esco_crosswalk)?;
        sets.push(jobbert_set(&p.jobbert, &esco, seen)?);
    }
    Ok(sets)
}

/// Where the Hacker News full-text postings live under the shared data directory.
pub(crate) const HN_FULLTEXT_FILES: [&str; 2] = [
    "hn-whoishiring-fulltext-2013-2018/hn_whoishiring_2013-08_2018-04.csv",
    "hn-whoishiring-fulltext-2026/hn_jobs_2026-01_2026-05.csv",
];

/// The title of an HN "Who is hiring?" header line when exactly one of its parts is a
/// taxonomy name/alias: the header is split on `|`, ` - `, ` – `, ` — ` and `;`; the first
/// part is the company and is skipped when there are several parts; a part matches when it,
/// or its cleaned form (seniority and location tails removed, as in the cascade's alias
/// step), is a name or alias. Headers naming two different titles give `None`.
pub(crate) fn hn_header_title<'t>(
    tax: &'t Taxonomy,
    header: &str,
) -> Option<(&'t jobshift_taxonomy::Title, String)> {
    let mut parts: Vec<&str> = vec![header];
    for sep in ["|", " - ", " – ", " — ", ";"] {
        parts = parts.iter().flat_map(|p| p.split(sep)).collect();
    }
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    let skip = usize::from(parts.len() > 1);
    let mut found: Option<(&jobshift_taxonomy::Title, String)> = None;
    for part in &parts[skip..] {
        let hit = tax
            .match_exact(part)
            .or_else(|| tax.match_exact(&clean_title(part)));
        if let Some(t) = hit {
            match &found {
                Some((f, _)) if f.id != t.id => return None,
                Some(_) => {}
                None => found = Some((t, part.to_string())),
            }
        }
    }
    found
}

/// The posting sets `jobshift eval --descriptions` scores: the HN full-text postings under
/// `shared` whose header names exactly one taxonomy title, and with `generated` (a `jobshift
/// generate --format jsonl` directory) its generic-title postings and, as a control, the others;
/// at most `max` postings each. `generic_title` (the word that replaces the title in the
/// withheld-title variant) must not be an alias. Returns the sets found (none when neither
/// source has postings) and notes for the user.
pub fn description_sets(
    tax: &Taxonomy,
    shared: &Path,
    generated: Option<&Path>,
    generic_title: &str,
    max: usize,
) -> Result<(Vec<EvalSet>, Vec<String>), ClassifyError> {
    if let Some(t) = tax.match_exact(generic_title) {
        return Err(ClassifyError::Format(format!(
            "--generic-title {generic_title:?} is an alias of {} in the taxonomy; pick a word \
             that is not",
            t.id
        )));
    }
    let (mut sets, mut notes) = (Vec::new(), Vec::new());
    let hn = hn_alias_postings(tax, shared, 200, max)?;
    if hn.items.is_empty() {
        notes.push(format!(
            "no HN full-text postings under {}",
            shared.display()
        ));
    } else {
        sets.push(hn);
    }
    if let Some(g) = generated {
        sets.push(generated_postings(tax, g, true, max)?);
        sets.push(generated_postings(tax, g, false, max)?);
    }
    Ok((sets, notes))
}

/// Hacker News full-text postings whose header names exactly one taxonomy title (see
/// [`hn_header_title`]): the gold is that title, the description is the post without its
/// header line (at least `min_chars` characters). Deterministic sample of at most `max`
/// posts (ordered by a hash of the HN item id). Files absent under `shared` are skipped.
pub fn hn_alias_postings(
    tax: &Taxonomy,
    shared: &Path,
    min_chars: usize,
    max: usize,
) -> Result<EvalSet, ClassifyError> {
    let mut rows: Vec<([u8; 8], EvalItem)> = Vec::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut removed = 0usize;
    for rel in HN_FULLTEXT_FILES {
        let path = shared.join(rel);
        if !path.is_file() {
            continue;
        }
        let (mut rdr, _, cols) =
            open_csv_with_columns(&path, &["hn_item_id", "header_line", "text"], "")?;
        let [c_id, c_header, c_text] = cols[..] else {
            unreachable!("three columns asked, three found")
        };
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| {
                ClassifyError::Format(format!("{} row {}: {e}", path.display(), i + 2))
            })?;
            let id = rec.get(c_id).unwrap_or("").trim().to_string();
            let header = rec.get(c_header).unwrap_or("").trim();
            let text = rec.get(c_text).unwrap_or("");
            if id.is_empty() || header.is_empty() || !seen_ids.insert(id.clone()) {
                continue;
            }
            let Some((title, raw)) = hn_header_title(tax, header) else {
                continue;
            };
            // the description: the post without its header line
            let body = text
                .trim_start()
                .strip_prefix(header)
                .unwrap_or_else(|| text.split_once('\n').map(|(_, b)| b).unwrap_or(""))
                .trim();
            if body.chars().count() < min_chars {
                removed += 1;
                continue;
            }
            let h = blake3::hash(id.as_bytes());
            let mut key = [0u8; 8];
            key.copy_from_slice(&h.as_bytes()[..8]);
            rows.push((
                key,
                EvalItem {
                    title: raw,
                    gold_onet: BTreeSet::from([title.onet_soc.clone()]),
                    description: Some(body.to_string()),
                    gold_title: Some(title.id.clone()),
                },
            ));
        }
    }
    rows.sort_by_key(|a| a.0);
    rows.truncate(max);
    Ok(EvalSet {
        name: "hn_alias".into(),
        items: rows.into_iter().map(|r| r.1).collect(),
        removed_seen: 0,
        removed_unmapped: removed,
    })
}

/// Opens a headed CSV and finds the `required` columns (their indices, in order); the error names
/// the file and the columns it expected, followed by `hint`.
fn open_csv_with_columns(
    path: &Path,
    required: &[&str],
    hint: &str,
) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord, Vec<usize>), ClassifyError> {
    let err = |e: csv::Error| ClassifyError::Format(format!("{}: {e}", path.display()));
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(err)?;
    let headers = rdr.headers().map_err(err)?.clone();
    let cols: Option<Vec<usize>> = required
        .iter()
        .map(|name| headers.iter().position(|h| h == *name))
        .collect();
    let cols = cols.ok_or_else(|| {
        ClassifyError::Format(format!(
            "{}: expected columns {}{hint}",
            path.display(),
            required.join(", ")
        ))
    })?;
    Ok((rdr, headers, cols))
}

/// Postings written by `jobshift generate --format jsonl` (DIR/postings/*.jsonl, DIR/truth.csv)
/// with their true title. `only_ambiguous` keeps the postings the generator gave a generic
/// title ("Associate", "Consultant": truth.csv `ambiguous_title = true`), otherwise only the
/// others. Duplicates and malformed records are skipped. At most `max`, in file order.
pub fn generated_postings(
    tax: &Taxonomy,
    dir: &Path,
    only_ambiguous: bool,
    max: usize,
) -> Result<EvalSet, ClassifyError> {
    let truth_path = dir.join("truth.csv");
    let (mut rdr, headers, cols) = open_csv_with_columns(
        &truth_path,
        &["posting_ref", "title_id", "ambiguous_title"],
        " (written by `jobshift generate`)",
    )?;
    let [c_ref, c_title, c_amb] = cols[..] else {
        unreachable!("three columns asked, three found")
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let c_kind = col("dup_kind");
    let c_bad = col("malformed_kind");
    let mut truth: HashMap<String, String> = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            ClassifyError::Format(format!("{} row {}: {e}", truth_path.display(), i + 2))
        })?;
        let amb = rec.get(c_amb).unwrap_or("") == "true";
        let original = c_kind.is_none_or(|c| matches!(rec.get(c).unwrap_or(""), "" | "original"));
        let ok = c_bad.is_none_or(|c| rec.get(c).unwrap_or("").is_empty());
        if amb == only_ambiguous && original && ok {
            truth.insert(
                rec.get(c_ref).unwrap_or("").to_string(),
                rec.get(c_title).unwrap_or("").to_string(),
            );
        }
    }
    let pdir = dir.join("postings");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&pdir)
        .map_err(|e| ClassifyError::io(&pdir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ClassifyError::Format(format!(
            "{}: no .jsonl postings (generate them with `jobshift generate --format jsonl`)",
            pdir.display()
        )));
    }
    let mut items = Vec::new();
    let mut unmapped = 0usize;
    'files: for f in files {
        let file = std::fs::File::open(&f).map_err(|e| ClassifyError::io(&f, e))?;
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| ClassifyError::io(&f, e))?;
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue; // malformed records are the generator's on purpose
            };
            let get = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            let Some(id) = truth.get(&get("posting_ref")) else {
                continue;
            };
            let Some(t) = tax.get(id) else {
                unmapped += 1;
                let _ = i;
                continue;
            };
            items.push(EvalItem {
                title: get("title"),
                gold_onet: BTreeSet::from([t.onet_soc.clone()]),
                description: Some(get("description")),
                gold_title: Some(t.id.clone()),
            });
            if items.len() >= max {
                break 'files;
            }
        }
    }
    Ok(EvalSet {
        name: if only_ambiguous {
            "generated_generic".into()
        } else {
            "generated_specific".into()
        },
        items,
        removed_seen: 0,
        removed_unmapped: unmapped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vacancy_titles_keep_the_gold_their_words_do_not_contradict() {
        let tax = Taxonomy::builtin().unwrap();
        assert_eq!(
            titles_named_in(&tax, "Senior Front End Developer (Angular)"),
            ["frontend_engineer"]
        );
        assert_eq!(
            titles_named_in(&tax, "Lorry Driver (10ton - 15ton)"),
            ["truck_driver"]
        );
        assert!(titles_named_in(&tax, "Kerani Akaun").is_empty());
        let (ex, c) = shipped_vacancy_title_examples(&tax).unwrap();
        assert_eq!(c.read, 11_039);
        assert_eq!(c.kept, ex.len());
        assert_eq!(c.read, c.kept + c.no_single_title + c.contradicted, "{c:?}");
        assert!(c.kept > 5_500 && c.contradicted > 1_000, "{c:?}");
        assert!(ex.iter().all(|e| e.source == LabelSource::VacancyTitle));
        // the gold "Tutor" for a lorry driver is left out; a title naming no taxonomy title keeps
        // its gold
        assert!(!ex
            .iter()
            .any(|e| e.title.starts_with("Lorry Driver (10ton")));
        // vacancy titles always train: thresholds are chosen on the O*NET alternates
        let (train, val) = split_by_title(ex, 0.5, 42);
        assert!(val.is_empty() && !train.is_empty());
    }

    #[test]
    fn labelled_set_reads_a_directory_and_reports_bad_lines() {
        let tax = Taxonomy::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let labels = dir.path().join("labels");
        std::fs::create_dir_all(&labels).unwrap();
        std::fs::write(
            labels.join("a.jsonl"),
            concat!(
                r#"{"title":"Sr. Data Engineer","title_id":"data_engineer","source":"crowd","description":"Spark pipelines"}"#,
                "\n",
                r#"{"title":"Nurse","title_id":"no_such_title","source":"crowd"}"#,
                "\n",
                "not json\n",
            ),
        )
        .unwrap();
        std::fs::write(
            labels.join("b.jsonl"),
            concat!(
                r#"{"title":"RN","title_id":"registered_nurse","source":"expert"}"#,
                "\n",
                r#"{"title":"What about Europe?","title_id":"none_fits","source":"crowd","description":"A comment"}"#,
            ),
        )
        .unwrap();
        std::fs::write(labels.join("ignored.txt"), "x").unwrap();
        let (set, none, reports) = labelled_set(&tax, std::slice::from_ref(&labels), true).unwrap();
        assert_eq!(set.items.len(), 2);
        assert_eq!(set.name, "labels");
        assert_eq!(set.removed_unmapped, 2);
        assert_eq!(reports.len(), 2);
        // a none_fits label is neither scored nor rejected: it comes back apart
        assert_eq!((reports[1].accepted, reports[1].none_fits), (1, 1));
        assert!(reports[1].rejected.is_empty());
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].gold_title.as_deref(), Some(NONE_FITS));
        assert_eq!(none[0].description.as_deref(), Some("A comment"));
        assert!(
            reports[0].rejected[0].contains("line 2") && reports[0].rejected[1].contains("line 3")
        );
        let de = &set.items[0];
        assert_eq!(de.gold_title.as_deref(), Some("data_engineer"));
        assert_eq!(de.description.as_deref(), Some("Spark pipelines"));
        assert!(de
            .gold_onet
            .contains(&tax.get("data_engineer").unwrap().onet_soc));
        // titles only
        let (set, _, _) = labelled_set(&tax, &[labels], false).unwrap();
        assert!(set.items.iter().all(|i| i.description.is_none()));
        // an empty directory is an error that names it
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = labelled_set(&tax, &[empty], false).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn split_keeps_groups_together_and_aliases_in_train() {
        let mut ex = Vec::new();
        for i in 0..200 {
            ex.push(example(
                &format!("Title x{i}y"),
                "a",
                LabelSource::OnetAlternate,
            ));
            ex.push(example(
                &format!("Senior Title x{i}y"),
                "a",
                LabelSource::OnetAlternate,
            ));
        }
        ex.push(example("Alias", "a", LabelSource::TaxonomyAlias));
        let (tr, va) = split_by_title(ex, 0.2, 7);
        assert!(va.len() > 40 && va.len() < 120, "{}", va.len());
        assert!(tr.iter().any(|e| e.source == LabelSource::TaxonomyAlias));
        let tk: HashSet<String> = tr.iter().map(|e| clean_title(&e.title)).collect();
        assert!(va.iter().all(|e| !tk.contains(&clean_title(&e.title))));
    }

    #[test]
    fn esco_crosswalk_prefers_close_matches() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(
            &p,
            "Mapping project name,x,,,,,\n,,,,,,\nO*NET Id,O*NET Title,O*NET Description,ESCO or ISCO URI,ESCO or ISCO Title,ESCO or ISCO Description,Type of Match\n\
             11-1011.00,Chief Executives,d,u1,chief executive officer,d,exactMatch\n\
             11-1021.00,GM,d,u1,chief executive officer,d,broadMatch\n\
             13-1161.00,Market Research,d,u2,marketing assistant,d,broadMatch\n",
        )
        .unwrap();
        let m = esco_to_onet(&p).unwrap();
        assert_eq!(
            m["chief executive officer"],
            BTreeSet::from(["11-1011.00".to_string()])
        );
        assert_eq!(
            m["marketing assistant"],
            BTreeSet::from(["13-1161.00".to_string()])
        );
    }
}

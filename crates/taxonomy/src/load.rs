//! Reading the taxonomy files and checking every rule (the `validate()` run at load).
//!
//! `build` parses all files, collects *every* problem (it never stops at the first one) and only
//! returns a [`Taxonomy`] when there are none. Rules (see `taxonomy/README.md`):
//! - `taxonomy.toml` has a non-empty `version` (and optionally `onet_occupations`, the number of
//!   O*NET-SOC codes the crosswalk must cover);
//! - families: ids are snake_case and unique, names unique; every title file is named after one;
//! - titles: ids snake_case and unique across files, names unique, level one of the five levels,
//!   definition non-empty, `soc` a real SOC 2018 detailed code (the 6-digit prefix of an O*NET code
//!   in the crosswalk), `onet_soc` an O*NET code in the crosswalk and inside `soc`;
//! - no name or alias, after `normalize_title`, belongs to two titles;
//! - crosswalk: every O*NET code appears once, in the file of its major group, and points to an
//!   existing title;
//! - retired ids are unique, never reappear as titles, and `replaced_by` names an existing title.

use crate::{CrosswalkEntry, Family, Problem, RetiredId, Taxonomy, TaxonomyError, Title};
use jobshift_core::normalize::normalize_title;
use jobshift_core::Level;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

pub(crate) const MANIFEST: &str = "taxonomy.toml";
pub(crate) const FAMILIES: &str = "families.csv";
pub(crate) const RETIRED: &str = "retired.csv";
pub(crate) const FAMILY_COLUMNS: &[&str] = &["id", "name", "description"];
pub(crate) const TITLE_COLUMNS: &[&str] = &[
    "id",
    "name",
    "level",
    "sub_family",
    "soc",
    "onet_soc",
    "definition",
    "aliases",
];
pub(crate) const CROSSWALK_COLUMNS: &[&str] = &["onet_soc", "onet_title", "title_id"];
pub(crate) const RETIRED_COLUMNS: &[&str] = &["id", "retired_in_version", "replaced_by", "reason"];

/// Read every taxonomy file of `dir` as (path relative to `dir`, contents), sorted by path.
pub(crate) fn read_dir_files(dir: &Path) -> Result<Vec<(String, String)>, TaxonomyError> {
    if !dir.join(MANIFEST).is_file() && !dir.join(FAMILIES).is_file() {
        return Err(TaxonomyError::NotATaxonomy {
            origin: dir.display().to_string(),
            reason: format!(
                "it has neither {MANIFEST} nor {FAMILIES}; point at a copy of the repository's taxonomy/ \
                 directory (`jobshift taxonomy export DIR` writes one)"
            ),
        });
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| TaxonomyError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut files = Vec::new();
    for top in [MANIFEST, FAMILIES, RETIRED] {
        let p = dir.join(top);
        if p.is_file() {
            files.push((top.to_string(), read(&p)?));
        }
    }
    for sub in ["titles", "crosswalk"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        let entries = std::fs::read_dir(&d).map_err(|source| TaxonomyError::Io {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| TaxonomyError::Io {
                path: d.clone(),
                source,
            })?;
            let p = entry.path();
            if p.is_file() && p.extension().and_then(|e| e.to_str()) == Some("csv") {
                let name = entry.file_name().to_string_lossy().into_owned();
                files.push((format!("{sub}/{name}"), read(&p)?));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// One data row: 1-based line number and its fields in the order of the expected columns.
struct Row {
    line: u64,
    fields: Vec<String>,
}

/// Parse one CSV file whose header must be exactly `columns` (in any order).
fn read_csv(file: &str, text: &str, columns: &[&str], problems: &mut Vec<Problem>) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_string()).collect(),
        Err(e) => {
            problems.push(Problem::new(
                file,
                Some(1),
                format!("unreadable CSV header: {e}"),
                "save the file as UTF-8 CSV",
            ));
            return Vec::new();
        }
    };
    let mut index = Vec::with_capacity(columns.len());
    let mut header_ok = true;
    for col in columns {
        match header.iter().position(|h| h == col) {
            Some(i) => index.push(i),
            None => {
                header_ok = false;
                problems.push(Problem::new(
                    file,
                    Some(1),
                    format!("missing column `{col}` (header is `{}`)", header.join(",")),
                    format!("make the first line `{}`", columns.join(",")),
                ));
            }
        }
    }
    for h in &header {
        if !columns.contains(&h.as_str()) {
            header_ok = false;
            problems.push(Problem::new(
                file,
                Some(1),
                format!("unknown column `{h}`"),
                format!("the columns are exactly `{}`", columns.join(",")),
            ));
        }
    }
    if !header_ok {
        return Vec::new();
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(rec) => {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                if rec.len() != header.len() {
                    problems.push(Problem::new(
                        file,
                        Some(line),
                        format!("{} fields but the header has {}", rec.len(), header.len()),
                        "quote fields that contain commas with \"...\" (and double any \" inside them)",
                    ));
                    continue;
                }
                let fields = index
                    .iter()
                    .map(|&i| rec.get(i).unwrap_or("").to_string())
                    .collect();
                rows.push(Row { line, fields });
            }
            Err(e) => {
                let line = e.position().map(|p| p.line());
                problems.push(Problem::new(
                    file,
                    line,
                    format!("unreadable CSV row: {e}"),
                    "fix the quoting of this row",
                ));
            }
        }
    }
    rows
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.split('_').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// "NN-NNNN"
pub(crate) fn is_soc_detailed(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[2] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
}

/// "NN-NNNN.NN"
pub(crate) fn is_onet_soc(s: &str) -> bool {
    s.len() == 10
        && is_soc_detailed(&s[..7])
        && s.as_bytes()[7] == b'.'
        && s[8..].bytes().all(|c| c.is_ascii_digit())
}

fn slug_of(name: &str) -> String {
    normalize_title(name)
        .replace("+", "plus")
        .replace("#", "sharp")
        .replace(' ', "_")
}

/// The existing id nearest to a mistyped one (edit distance at most a third of its length).
fn closest_id<'a>(wanted: &str, ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wanted.len() / 3).max(2);
    ids.map(|id| (edit_distance(wanted, id), id))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, id)| id)
}

/// Levenshtein distance over bytes (ids are ASCII); hand-written: ten lines beat a dependency.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn level_from_data(s: &str) -> Option<Level> {
    Level::ALL.iter().copied().find(|l| l.as_str() == s)
}

/// Where a title was defined, for messages.
struct TitleRow {
    title: Title,
    file: String,
    line: u64,
}

/// Parse and validate; `Err` carries every problem found. Each input file is read by its own
/// step of [`Load`], in the order the checks need (the crosswalk before the titles: it is the
/// list of real codes); the taxonomy is assembled only when no step found a problem.
pub(crate) fn build(origin: &str, files: &[(String, String)]) -> Result<Taxonomy, Vec<Problem>> {
    let mut load = Load::new(files);
    load.read_manifest();
    load.read_families();
    load.read_crosswalk();
    load.read_titles();
    load.check_crosswalk_targets();
    load.read_retired();
    if !load.problems.is_empty() {
        return Err(load.problems);
    }
    Ok(load.assemble(origin))
}

/// What [`build`] has read so far, and every problem found.
struct Load<'a> {
    files: BTreeMap<&'a str, &'a str>,
    problems: Vec<Problem>,
    version: String,
    expected_onet: Option<usize>,
    families: Vec<Family>,
    family_line: HashMap<String, u64>,
    crosswalk: Vec<(CrosswalkEntry, String, u64)>,
    onet_first: HashMap<String, (String, u64)>,
    title_rows: Vec<TitleRow>,
    id_first: HashMap<String, (String, u64)>,
    /// normalized key → (title id, file, line, is the title's name)
    key_owner: HashMap<String, (String, String, u64, bool)>,
    retired: Vec<RetiredId>,
}

impl<'a> Load<'a> {
    fn new(files: &'a [(String, String)]) -> Self {
        Load {
            files: files
                .iter()
                .map(|(p, c)| (p.as_str(), c.as_str()))
                .collect(),
            problems: Vec::new(),
            version: String::new(),
            expected_onet: None,
            families: Vec::new(),
            family_line: HashMap::new(),
            crosswalk: Vec::new(),
            onet_first: HashMap::new(),
            title_rows: Vec::new(),
            id_first: HashMap::new(),
            key_owner: HashMap::new(),
            retired: Vec::new(),
        }
    }

    /// taxonomy.toml: the version and the expected number of O*NET occupations.
    fn read_manifest(&mut self) {
        match self.files.get(MANIFEST) {
            None => self.problems.push(Problem::new(
                MANIFEST,
                None,
                "file missing",
                "create it with a line `version = \"YYYY.MM.N\"`",
            )),
            Some(text) => match text.parse::<toml::Table>() {
                Err(e) => self.problems.push(Problem::new(
                    MANIFEST,
                    None,
                    format!("not valid TOML: {e}"),
                    "fix the TOML syntax",
                )),
                Ok(table) => {
                    match table.get("version").and_then(|v| v.as_str()) {
                        Some(v) if !v.trim().is_empty() => self.version = v.trim().to_string(),
                        _ => self.problems.push(Problem::new(
                            MANIFEST,
                            None,
                            "no `version` string",
                            "add `version = \"YYYY.MM.N\"` (bump it whenever titles, aliases or the crosswalk change)",
                        )),
                    }
                    if let Some(v) = table.get("onet_occupations") {
                        match v.as_integer() {
                            Some(n) if n > 0 => self.expected_onet = Some(n as usize),
                            _ => self.problems.push(Problem::new(
                                MANIFEST,
                                None,
                                "`onet_occupations` must be a positive integer",
                                "e.g. `onet_occupations = 1016`",
                            )),
                        }
                    }
                }
            },
        }
    }

    /// families.csv
    fn read_families(&mut self) {
        match self.files.get(FAMILIES) {
            None => self.problems.push(Problem::new(
                FAMILIES,
                None,
                "file missing",
                format!("create it with header `{}`", FAMILY_COLUMNS.join(",")),
            )),
            Some(text) => {
                let mut names: HashMap<String, u64> = HashMap::new();
                for row in read_csv(FAMILIES, text, FAMILY_COLUMNS, &mut self.problems) {
                    let [id, name, description] = [&row.fields[0], &row.fields[1], &row.fields[2]];
                    if !is_slug(id) {
                        self.problems.push(Problem::new(
                            FAMILIES,
                            Some(row.line),
                            format!("family id `{id}` is not a snake_case slug"),
                            "use lower-case letters, digits and single underscores",
                        ));
                        continue;
                    }
                    if let Some(first) = self.family_line.get(id.as_str()) {
                        self.problems.push(Problem::new(
                            FAMILIES,
                            Some(row.line),
                            format!("duplicate family id `{id}` (first on line {first})"),
                            "delete or rename one of the rows",
                        ));
                        continue;
                    }
                    if name.is_empty() || description.is_empty() {
                        self.problems.push(Problem::new(
                            FAMILIES,
                            Some(row.line),
                            format!("family `{id}` has an empty name or description"),
                            "fill in both",
                        ));
                    }
                    if let Some(first) = names.insert(normalize_title(name), row.line) {
                        self.problems.push(Problem::new(
                            FAMILIES,
                            Some(row.line),
                            format!("duplicate family name `{name}` (first on line {first})"),
                            "give each family a distinct name",
                        ));
                    }
                    self.family_line.insert(id.clone(), row.line);
                    self.families.push(Family {
                        id: id.clone(),
                        name: name.clone(),
                        description: description.clone(),
                    });
                }
            }
        }
    }

    /// crosswalk/soc-NN.csv
    fn read_crosswalk(&mut self) {
        let files: Vec<(&'a str, &'a str)> = self
            .files
            .range("crosswalk/".."crosswalk0")
            .map(|(p, t)| (*p, *t))
            .collect();
        for (path, text) in files {
            let major = path
                .strip_prefix("crosswalk/soc-")
                .and_then(|r| r.strip_suffix(".csv"));
            let major = match major {
                Some(m) if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => m.to_string(),
                _ => {
                    self.problems.push(Problem::new(
                        path,
                        None,
                        "crosswalk files are named `soc-NN.csv` after a SOC major group",
                        "rename the file, e.g. crosswalk/soc-15.csv",
                    ));
                    continue;
                }
            };
            for row in read_csv(path, text, CROSSWALK_COLUMNS, &mut self.problems) {
                let [code, onet_title, title_id] = [&row.fields[0], &row.fields[1], &row.fields[2]];
                if !is_onet_soc(code) {
                    self.problems.push(Problem::new(
                        path,
                        Some(row.line),
                        format!("`{code}` is not an O*NET-SOC 2019 code"),
                        "write it as NN-NNNN.NN, e.g. 15-1252.00",
                    ));
                    continue;
                }
                if !code.starts_with(&format!("{major}-")) {
                    self.problems.push(Problem::new(
                        path,
                        Some(row.line),
                        format!("`{code}` is not in SOC major group {major}"),
                        format!("move the row to crosswalk/soc-{}.csv", &code[..2]),
                    ));
                }
                if let Some((f, l)) = self.onet_first.get(code.as_str()) {
                    self.problems.push(Problem::new(
                        path,
                        Some(row.line),
                        format!("O*NET code `{code}` is crosswalked twice (first at {f}:{l})"),
                        "keep exactly one row per O*NET code",
                    ));
                    continue;
                }
                if onet_title.is_empty() || title_id.is_empty() {
                    self.problems.push(Problem::new(
                        path,
                        Some(row.line),
                        format!("`{code}` has an empty onet_title or title_id"),
                        "fill in the O*NET title and the taxonomy title id it counts under",
                    ));
                }
                self.onet_first
                    .insert(code.clone(), (path.to_string(), row.line));
                self.crosswalk.push((
                    CrosswalkEntry {
                        onet_soc: code.clone(),
                        onet_title: onet_title.clone(),
                        title_id: title_id.clone(),
                    },
                    path.to_string(),
                    row.line,
                ));
            }
        }
        if self.crosswalk.is_empty() {
            self.problems.push(Problem::new(
                "crosswalk/",
                None,
                "no crosswalk rows",
                "add crosswalk/soc-NN.csv files with header `onet_soc,onet_title,title_id`",
            ));
        }
        if let Some(n) = self.expected_onet {
            if self.crosswalk.len() != n && !self.crosswalk.is_empty() {
                self.problems.push(Problem::new(
                    "crosswalk/",
                    None,
                    format!("the crosswalk has {} O*NET codes but taxonomy.toml says onet_occupations = {n}", self.crosswalk.len()),
                    "add a row for every missing O*NET-SOC code (or correct onet_occupations)",
                ));
            }
        }
    }

    /// `titles/<family>.csv`, in `families.csv` order (so titles() is grouped predictably).
    fn read_titles(&mut self) {
        let real_soc: BTreeSet<String> = self
            .crosswalk
            .iter()
            .map(|(e, _, _)| e.onet_soc[..7].to_string())
            .collect();
        let title_files: Vec<(&'a str, &'a str)> = self
            .files
            .range("titles/".."titles0")
            .map(|(p, t)| (*p, *t))
            .collect();
        if title_files.is_empty() {
            self.problems.push(Problem::new(
                "titles/",
                None,
                "no title files",
                "add titles/<family_id>.csv files",
            ));
        }
        // families in families.csv order, so titles() is grouped predictably
        let family_order: HashMap<String, usize> = self
            .families
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let mut ordered_files = title_files.clone();
        ordered_files.sort_by_key(|(p, _)| {
            let fam = p.trim_start_matches("titles/").trim_end_matches(".csv");
            (
                family_order.get(fam).copied().unwrap_or(usize::MAX),
                p.to_string(),
            )
        });
        for (path, text) in ordered_files {
            let family = path
                .trim_start_matches("titles/")
                .trim_end_matches(".csv")
                .to_string();
            if !self.family_line.contains_key(&family) && !self.families.is_empty() {
                self.problems.push(Problem::new(
                    path,
                    None,
                    format!("`{family}` is not a family id in families.csv"),
                    "name the file after a family id (titles/<family_id>.csv) or add the family to families.csv",
                ));
            }
            for row in read_csv(path, text, TITLE_COLUMNS, &mut self.problems) {
                self.read_title_row(path, &family, &real_soc, row);
            }
        }
    }

    /// One row of a titles file: its id, name, level and codes, and the keys its name and
    /// aliases claim.
    fn read_title_row(&mut self, path: &str, family: &str, real_soc: &BTreeSet<String>, row: Row) {
        let f = &row.fields;
        let (id, name, level, sub_family, soc, onet_soc, definition, aliases_raw) =
            (&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]);
        let at = Some(row.line);
        if !is_slug(id) {
            self.problems.push(Problem::new(
                path,
                at,
                format!("id `{id}` is not a snake_case slug"),
                format!("use the slug of the name, e.g. `{}`", slug_of(name)),
            ));
            return;
        }
        if let Some((pf, pl)) = self.id_first.get(id.as_str()) {
            self.problems.push(Problem::new(
                path,
                at,
                format!("duplicate title id `{id}` (first at {pf}:{pl})"),
                "ids are unique: merge the rows or give the new title its own id",
            ));
            return;
        }
        self.id_first
            .insert(id.clone(), (path.to_string(), row.line));
        if name.is_empty() {
            self.problems.push(Problem::new(
                path,
                at,
                format!("title `{id}` has no name"),
                "fill in the name column",
            ));
        }
        if definition.is_empty() {
            self.problems.push(Problem::new(
                path,
                at,
                format!("title `{id}` has no definition"),
                "write a one-sentence definition",
            ));
        }
        let level_parsed = level_from_data(level);
        if level_parsed.is_none() {
            self.problems.push(Problem::new(
                path,
                at,
                format!("title `{id}` has level `{level}`"),
                format!(
                    "use one of {}",
                    Level::ALL
                        .iter()
                        .map(|l| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !is_soc_detailed(soc) {
            self.problems.push(Problem::new(
                path,
                at,
                format!("title `{id}`: soc `{soc}` is not a SOC 2018 detailed code"),
                "write it as NN-NNNN, e.g. 15-1252",
            ));
        } else if !real_soc.is_empty() && !real_soc.contains(soc.as_str()) {
            self.problems.push(Problem::new(
                path,
                at,
                format!("title `{id}`: soc `{soc}` is not a SOC 2018 detailed occupation (no O*NET code in the crosswalk starts with it)"),
                "use the SOC code of an occupation listed in crosswalk/soc-NN.csv",
            ));
        }
        if !is_onet_soc(onet_soc) {
            self.problems.push(Problem::new(
                path,
                at,
                format!("title `{id}`: onet_soc `{onet_soc}` is not an O*NET-SOC code"),
                "write it as NN-NNNN.NN, e.g. 15-1252.00",
            ));
        } else {
            if !self.onet_first.contains_key(onet_soc.as_str()) && !self.crosswalk.is_empty() {
                self.problems.push(Problem::new(
                    path,
                    at,
                    format!("title `{id}`: onet_soc `{onet_soc}` is not an O*NET-SOC 2019 code in the crosswalk"),
                    format!("use a code listed in crosswalk/soc-{}.csv", &onet_soc[..2]),
                ));
            }
            if is_soc_detailed(soc) && !onet_soc.starts_with(soc.as_str()) {
                self.problems.push(Problem::new(
                    path,
                    at,
                    format!("title `{id}`: onet_soc `{onet_soc}` is not inside soc `{soc}`"),
                    format!(
                        "make soc `{}` or pick an O*NET code starting with {soc}",
                        &onet_soc[..7]
                    ),
                ));
            }
        }
        let aliases: Vec<String> = aliases_raw
            .split(';')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        self.claim_keys(path, row.line, id, name, &aliases);
        if let Some(level) = level_parsed {
            self.title_rows.push(TitleRow {
                title: Title {
                    id: id.clone(),
                    name: name.clone(),
                    definition: definition.clone(),
                    family: family.to_string(),
                    sub_family: if sub_family.is_empty() {
                        None
                    } else {
                        Some(sub_family.clone())
                    },
                    level,
                    soc: soc.clone(),
                    onet_soc: onet_soc.clone(),
                    aliases,
                },
                file: path.to_string(),
                line: row.line,
            });
        }
    }

    /// The normalized name and aliases of title `id`: each must lead to this title only.
    fn claim_keys(&mut self, path: &str, line: u64, id: &str, name: &str, aliases: &[String]) {
        let mut own_keys: BTreeSet<String> = BTreeSet::new();
        for (k, text) in std::iter::once(name)
            .chain(aliases.iter().map(String::as_str))
            .enumerate()
        {
            let is_name = k == 0;
            let key = normalize_title(text);
            if key.is_empty() {
                if !name.is_empty() || !is_name {
                    self.problems.push(Problem::new(
                        path,
                        Some(line),
                        format!("title `{id}`: `{text}` is empty after normalization"),
                        "remove it or write letters/digits",
                    ));
                }
                continue;
            }
            if !own_keys.insert(key.clone()) {
                continue; // the same spelling twice within one title is harmless
            }
            if let Some((other, of, ol, other_is_name)) = self.key_owner.get(&key) {
                let what = match (is_name, *other_is_name) {
                    (true, true) => format!(
                        "duplicate title name `{text}`: also the name of `{other}` ({of}:{ol})"
                    ),
                    (true, false) => format!(
                        "the name of `{id}` (`{text}`) is an alias of `{other}` ({of}:{ol})"
                    ),
                    (false, true) => {
                        format!("alias `{text}` of `{id}` is the name of `{other}` ({of}:{ol})")
                    }
                    (false, false) => format!(
                        "alias `{text}` of `{id}` is also an alias of `{other}` ({of}:{ol})"
                    ),
                };
                self.problems.push(Problem::new(
                    path,
                    Some(line),
                    format!("{what} (both normalize to `{key}`)"),
                    "an alias must lead to one title: remove it from one of the two rows (keep it where postings most often mean it)",
                ));
                continue;
            }
            self.key_owner
                .insert(key, (id.to_string(), path.to_string(), line, is_name));
        }
    }

    /// Every crosswalk row names an existing title.
    fn check_crosswalk_targets(&mut self) {
        for (entry, file, line) in &self.crosswalk {
            if !entry.title_id.is_empty() && !self.id_first.contains_key(&entry.title_id) {
                let fix = match closest_id(
                    &entry.title_id,
                    self.title_rows.iter().map(|t| t.title.id.as_str()),
                ) {
                    Some(id) => {
                        format!("use an existing title id (did you mean `{id}`?) or add the title")
                    }
                    None => "use an existing title id or add the title to titles/<family>.csv"
                        .to_string(),
                };
                self.problems.push(Problem::new(
                    file,
                    Some(*line),
                    format!(
                        "`{}` is crosswalked to unknown title id `{}`",
                        entry.onet_soc, entry.title_id
                    ),
                    fix,
                ));
            }
        }
    }

    /// retired.csv
    fn read_retired(&mut self) {
        match self.files.get(RETIRED) {
            None => self.problems.push(Problem::new(
                RETIRED,
                None,
                "file missing",
                format!(
                    "create it with header `{}` (it may have no rows)",
                    RETIRED_COLUMNS.join(",")
                ),
            )),
            Some(text) => {
                let mut seen: HashMap<String, u64> = HashMap::new();
                for row in read_csv(RETIRED, text, RETIRED_COLUMNS, &mut self.problems) {
                    let [id, in_version, replaced_by, reason] = [
                        &row.fields[0],
                        &row.fields[1],
                        &row.fields[2],
                        &row.fields[3],
                    ];
                    let at = Some(row.line);
                    if let Some(first) = seen.insert(id.clone(), row.line) {
                        self.problems.push(Problem::new(
                            RETIRED,
                            at,
                            format!("`{id}` is retired twice (first on line {first})"),
                            "keep one row per retired id",
                        ));
                    }
                    if let Some((f, l)) = self.id_first.get(id.as_str()) {
                        self.problems.push(Problem::new(
                            f,
                            Some(*l),
                            format!("title id `{id}` was retired in {in_version} (retired.csv:{}) and may never be reused", row.line),
                            "give the title a new id (a rename keeps its old id only if it was never retired)",
                        ));
                    }
                    if in_version.is_empty() || reason.is_empty() {
                        self.problems.push(Problem::new(
                            RETIRED,
                            at,
                            format!("retired id `{id}` has no version or reason"),
                            "fill in retired_in_version and reason",
                        ));
                    }
                    if !replaced_by.is_empty() && !self.id_first.contains_key(replaced_by.as_str())
                    {
                        self.problems.push(Problem::new(
                            RETIRED,
                            at,
                            format!("`{id}` is replaced_by unknown title `{replaced_by}`"),
                            "name an existing title id or leave replaced_by empty",
                        ));
                    }
                    self.retired.push(RetiredId {
                        id: id.clone(),
                        retired_in_version: in_version.clone(),
                        replaced_by: if replaced_by.is_empty() {
                            None
                        } else {
                            Some(replaced_by.clone())
                        },
                        reason: reason.clone(),
                    });
                }
            }
        }
    }

    /// The taxonomy and its indexes (called only when no problem was found).
    fn assemble(self, origin: &str) -> Taxonomy {
        let titles: Vec<Title> = self
            .title_rows
            .into_iter()
            .map(|t| {
                let _ = (&t.file, t.line);
                t.title
            })
            .collect();
        let by_id: HashMap<String, usize> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let by_family = self
            .families
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let by_key = self
            .key_owner
            .into_iter()
            .map(|(k, (id, _, _, _))| (k, by_id[&id]))
            .collect();
        let mut crosswalk: Vec<CrosswalkEntry> =
            self.crosswalk.into_iter().map(|(e, _, _)| e).collect();
        crosswalk.sort_by(|a, b| a.onet_soc.cmp(&b.onet_soc));
        let by_onet = crosswalk
            .iter()
            .map(|e| (e.onet_soc.clone(), by_id[&e.title_id]))
            .collect();
        let search_keys = titles
            .iter()
            .map(|t| {
                let mut keys = vec![normalize_title(&t.name)];
                keys.extend(t.aliases.iter().map(|a| normalize_title(a)));
                keys
            })
            .collect();
        Taxonomy {
            version: self.version,
            origin: origin.to_string(),
            families: self.families,
            titles,
            crosswalk,
            retired: self.retired,
            by_id,
            by_family,
            by_key,
            by_onet,
            search_keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_formats() {
        assert!(is_soc_detailed("15-1252"));
        assert!(!is_soc_detailed("15-125"));
        assert!(!is_soc_detailed("151252x"));
        assert!(is_onet_soc("15-1252.00"));
        assert!(!is_onet_soc("15-1252"));
        assert!(!is_onet_soc("15-1252.0a"));
        assert!(is_slug("vp_of_engineering"));
        assert!(!is_slug("VP_of"));
        assert!(!is_slug("a__b"));
        assert_eq!(slug_of("VP of Engineering"), "vp_of_engineering");
        assert_eq!(edit_distance("software_enginer", "software_engineer"), 1);
        assert_eq!(
            closest_id(
                "softwre_engineer",
                ["software_architect", "software_engineer"].into_iter()
            ),
            Some("software_engineer")
        );
        assert_eq!(closest_id("nurse", ["software_engineer"].into_iter()), None);
    }
}

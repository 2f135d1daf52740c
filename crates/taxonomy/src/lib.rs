//! The jobshift taxonomy: ~650 standardized job titles, their families, levels (and so the study's
//! three tiers), SOC 2018 / O*NET-SOC 2019 codes, the aliases postings use, and the crosswalk that
//! sends every O*NET-SOC 2019 occupation to the one title its postings count under by default.
//!
//! The data lives as CSV/TOML under the repository's `taxonomy/` directory (format in
//! `taxonomy/README.md`) and is embedded into the binary at build time ([`Taxonomy::builtin`]);
//! [`Taxonomy::load_dir`] reads a user's edited copy. Both run the same checks as [`validate_dir`] and
//! refuse a taxonomy that breaks a rule, listing every problem with file, line and fix. With the
//! `clap` feature, [`flags`] holds `jobshift taxonomy`'s flags.

#[cfg(feature = "clap")]
pub mod flags;
mod load;
mod problem;
mod search;
mod snapshot;
pub mod views;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use jobshift_core::{Level, Tier};
pub use problem::Problem;
use serde::Serialize;
pub use snapshot::{FamilySnapshot, TaxonomySnapshot, TitleSnapshot};

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// One standardized title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Title {
    /// Stable snake_case slug, never reused (renames keep it; removals go to `retired.csv`).
    pub id: String,
    pub name: String,
    /// One sentence saying what the job is.
    pub definition: String,
    /// A [`Family`] id (the name of the file the title lives in).
    pub family: String,
    pub sub_family: Option<String>,
    pub level: Level,
    /// Primary SOC 2018 detailed occupation, e.g. "15-1252".
    pub soc: String,
    /// Primary O*NET-SOC 2019 occupation, e.g. "15-1252.00".
    pub onet_soc: String,
    /// The other ways postings write this title (matched after `normalize_title`).
    pub aliases: Vec<String>,
}

impl Title {
    /// The study's tier: individual contributors, middle management or senior leadership.
    pub fn tier(&self) -> Tier {
        self.level.tier()
    }
}

/// A job family (a group of titles: one file `taxonomy/titles/<id>.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Family {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// One row of the O*NET crosswalk: the title a posting of this O*NET occupation counts under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrosswalkEntry {
    pub onet_soc: String,
    pub onet_title: String,
    pub title_id: String,
}

/// A title id that was removed; it may never be used again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetiredId {
    pub id: String,
    pub retired_in_version: String,
    /// The title that postings of the retired id now count under, if any.
    pub replaced_by: Option<String>,
    pub reason: String,
}

/// Why a taxonomy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("cannot read taxonomy file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} is not a taxonomy directory: {reason}")]
    NotATaxonomy { origin: String, reason: String },
    #[error("the taxonomy in {origin} breaks {} rule(s):\n{}", problems.len(), problem::render(problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

/// The loaded, validated taxonomy.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    version: String,
    origin: String,
    families: Vec<Family>,
    titles: Vec<Title>,
    crosswalk: Vec<CrosswalkEntry>,
    retired: Vec<RetiredId>,
    by_id: HashMap<String, usize>,
    by_family: HashMap<String, usize>,
    /// normalize_title(name or alias) -> title index.
    by_key: HashMap<String, usize>,
    by_onet: HashMap<String, usize>,
    /// Per title: its normalized name followed by its normalized aliases (for search).
    search_keys: Vec<Vec<String>>,
}

impl Taxonomy {
    /// The taxonomy committed in the repository's `taxonomy/` directory, embedded at build time.
    pub fn builtin() -> Result<Taxonomy, TaxonomyError> {
        let files = builtin_files();
        load::build("the built-in taxonomy", &files).map_err(|problems| TaxonomyError::Invalid {
            origin: "the built-in taxonomy (taxonomy/ in the jobshift repository)".into(),
            problems,
        })
    }

    /// A taxonomy directory laid out like the repository's `taxonomy/` (e.g. a user's edited copy).
    pub fn load_dir(dir: &Path) -> Result<Taxonomy, TaxonomyError> {
        let files = load::read_dir_files(dir)?;
        let origin = dir.display().to_string();
        load::build(&origin, &files).map_err(|problems| TaxonomyError::Invalid { origin, problems })
    }

    /// The data version (`version` in `taxonomy.toml`), recorded by every downstream output.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where this taxonomy was loaded from ("the built-in taxonomy" or a directory path).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// All titles, in family-file order (families sorted by id), then file order.
    pub fn titles(&self) -> &[Title] {
        &self.titles
    }

    pub fn get(&self, id: &str) -> Option<&Title> {
        self.by_id.get(id).map(|&i| &self.titles[i])
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    pub fn family(&self, id: &str) -> Option<&Family> {
        self.by_family.get(id).map(|&i| &self.families[i])
    }

    /// The title whose name or an alias equals `raw_title` after `normalize_title`.
    /// Seniority words are *not* stripped here (the classifier does that first).
    pub fn match_exact(&self, raw_title: &str) -> Option<&Title> {
        let key = jobshift_core::normalize::normalize_title(raw_title);
        self.by_key.get(&key).map(|&i| &self.titles[i])
    }

    /// Titles whose name or aliases share words with `query`, best first (at most `limit`).
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Title> {
        search::search(&self.search_keys, query, limit)
            .into_iter()
            .map(|i| &self.titles[i])
            .collect()
    }

    /// The O*NET-SOC 2019 crosswalk, sorted by code.
    pub fn crosswalk(&self) -> &[CrosswalkEntry] {
        &self.crosswalk
    }

    /// The title an O*NET-SOC 2019 occupation counts under by default.
    pub fn title_for_onet(&self, onet_soc: &str) -> Option<&Title> {
        self.by_onet.get(onet_soc.trim()).map(|&i| &self.titles[i])
    }

    /// Ids removed from the taxonomy (never reused).
    pub fn retired(&self) -> &[RetiredId] {
        &self.retired
    }

    /// Titles of one family, in file order.
    pub fn titles_in_family<'a>(&'a self, family: &'a str) -> impl Iterator<Item = &'a Title> + 'a {
        self.titles.iter().filter(move |t| t.family == family)
    }
}

/// Check a taxonomy directory and return every problem found (empty = valid).
/// An unreadable directory is reported as an `Err`.
pub fn validate_dir(dir: &Path) -> Result<Vec<Problem>, TaxonomyError> {
    let files = load::read_dir_files(dir)?;
    Ok(load::build(&dir.display().to_string(), &files)
        .err()
        .unwrap_or_default())
}

/// Check the built-in taxonomy and return every problem found (empty = valid).
pub fn validate_builtin() -> Vec<Problem> {
    load::build("the built-in taxonomy", &builtin_files())
        .err()
        .unwrap_or_default()
}

/// The embedded data files as (path relative to `taxonomy/`, contents), sorted by path.
pub fn builtin_files() -> Vec<(String, String)> {
    BUILTIN_FILES
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

/// Write the embedded data files into `dir` (creating it) so a user can edit their own copy.
pub fn export_builtin(dir: &Path) -> Result<(), TaxonomyError> {
    for (rel, contents) in BUILTIN_FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| TaxonomyError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        jobshift_core::atomic::write_bytes(&path, contents.as_bytes()).map_err(|source| {
            TaxonomyError::Io {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok(())
}

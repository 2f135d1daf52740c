//! The titles annotators pick from: a serializable snapshot of the taxonomy (id, name, family,
//! definition, aliases) with a name/alias search.
//!
//! `label sample` saves it as `TASKS_DIR/catalog.json`, so the page, the Mechanical Turk template
//! and `label import` all check answers against the exact taxonomy version the tasks were made
//! with, even after the taxonomy changes.

use crate::error::{LabelError, Result};
use jobshift_core::normalize::normalize_title;
use jobshift_taxonomy::TaxonomySnapshot;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A family of the catalog (the taxonomy's snapshot of it).
pub use jobshift_taxonomy::FamilySnapshot as CatalogFamily;
/// A title annotators pick from (the taxonomy's snapshot of it).
pub use jobshift_taxonomy::TitleSnapshot as CatalogTitle;

/// A taxonomy snapshot ([`TaxonomySnapshot`], read through `Deref`) with a search index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TitleCatalog {
    #[serde(flatten)]
    snapshot: TaxonomySnapshot,
    #[serde(skip)]
    index: CatalogIndex,
}

impl std::ops::Deref for TitleCatalog {
    type Target = TaxonomySnapshot;
    fn deref(&self) -> &TaxonomySnapshot {
        &self.snapshot
    }
}

#[derive(Debug, Clone, Default)]
struct CatalogIndex {
    by_id: HashMap<String, usize>,
    /// Per title: normalized name, then normalized aliases.
    keys: Vec<Vec<String>>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub id: String,
    pub name: String,
    pub family: String,
    pub definition: String,
    /// The alias that matched, when it was an alias rather than the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_alias: Option<String>,
}

impl TitleCatalog {
    pub fn new(
        version: impl Into<String>,
        origin: impl Into<String>,
        families: Vec<CatalogFamily>,
        titles: Vec<CatalogTitle>,
    ) -> Self {
        Self::from_snapshot(TaxonomySnapshot {
            version: version.into(),
            origin: origin.into(),
            families,
            titles,
        })
    }

    /// A catalog of `snapshot`'s titles.
    pub fn from_snapshot(snapshot: TaxonomySnapshot) -> Self {
        let mut c = TitleCatalog {
            snapshot,
            index: CatalogIndex::default(),
        };
        c.reindex();
        c
    }

    fn reindex(&mut self) {
        let mut by_id = HashMap::with_capacity(self.titles.len());
        let mut keys = Vec::with_capacity(self.titles.len());
        for (i, t) in self.snapshot.titles.iter().enumerate() {
            by_id.insert(t.id.clone(), i);
            let mut k = vec![normalize_title(&t.name)];
            k.extend(t.aliases.iter().map(|a| normalize_title(a)));
            keys.push(k);
        }
        self.index = CatalogIndex { by_id, keys };
    }

    /// Snapshot of a loaded taxonomy.
    pub fn from_taxonomy(tax: &jobshift_taxonomy::Taxonomy) -> Self {
        Self::from_snapshot(tax.snapshot())
    }

    /// The built-in taxonomy, or a taxonomy directory when `dir` is given.
    pub fn from_taxonomy_source(dir: Option<&Path>) -> Result<Self> {
        let tax = match dir {
            Some(d) => jobshift_taxonomy::Taxonomy::load_dir(d)?,
            None => jobshift_taxonomy::Taxonomy::builtin()?,
        };
        Ok(Self::from_taxonomy(&tax))
    }

    /// The catalog answers are checked against: the taxonomy directory when given, else the
    /// first `catalog.json` of a tasks directory among `inputs` (or beside an answers/results
    /// file), else the built-in taxonomy.
    pub fn for_results(taxonomy: Option<&Path>, inputs: &[PathBuf]) -> Result<Self> {
        if taxonomy.is_some() {
            return Self::from_taxonomy_source(taxonomy);
        }
        let beside = |p: &PathBuf| {
            if p.is_dir() {
                crate::tasks::TasksDir::new(p).catalog()
            } else {
                p.parent().unwrap_or(Path::new(".")).join("catalog.json")
            }
        };
        match inputs.iter().map(beside).find(|c| c.exists()) {
            Some(c) => Self::load(&c),
            None => Self::from_taxonomy_source(None),
        }
    }

    /// Read a `catalog.json` written by [`TitleCatalog::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| LabelError::io(path, e))?;
        let mut c: TitleCatalog = serde_json::from_slice(&bytes).map_err(|e| {
            LabelError::bad_file(
                path,
                format!(
                    "not a jobshift title catalog ({e}); re-create it with `jobshift label sample`"
                ),
            )
        })?;
        c.reindex();
        Ok(c)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        jobshift_core::atomic::write_json(path, self).map_err(|e| LabelError::io(path, e))
    }

    pub fn get(&self, id: &str) -> Option<&CatalogTitle> {
        self.index.by_id.get(id).map(|&i| &self.titles[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.by_id.contains_key(id)
    }

    /// A valid answer is a title id of this catalog or [`crate::NONE_FITS`].
    pub fn is_valid_answer(&self, answer: &str) -> bool {
        answer == crate::NONE_FITS || self.contains(answer)
    }

    /// Search names and aliases. Ranking: exact name/alias, then a name/alias starting with the
    /// query, then every query word a prefix of some word of the name/alias; names beat aliases
    /// at equal rank, then shorter keys, then catalog order. The same rule runs in the page's
    /// JavaScript (embedded Mechanical Turk template) so both pickers agree.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = normalize_title(query);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let q_words: Vec<&str> = q.split(' ').collect();
        let mut scored: Vec<(u32, usize, usize, Option<usize>)> = Vec::new();
        for (ti, keys) in self.index.keys.iter().enumerate() {
            let mut best: Option<(u32, usize, Option<usize>)> = None;
            for (ki, key) in keys.iter().enumerate() {
                let rank = if *key == q {
                    0
                } else if key.starts_with(&q) {
                    1
                } else if q_words
                    .iter()
                    .all(|w| key.split(' ').any(|kw| kw.starts_with(w)))
                {
                    2
                } else {
                    continue;
                };
                let score = rank * 2 + u32::from(ki > 0);
                let alias = if ki > 0 { Some(ki - 1) } else { None };
                if best.is_none_or(|(s, l, _)| (score, key.len()) < (s, l)) {
                    best = Some((score, key.len(), alias));
                }
            }
            if let Some((s, l, a)) = best {
                scored.push((s, l, ti, a));
            }
        }
        scored.sort();
        scored
            .into_iter()
            .take(limit)
            .map(|(_, _, ti, alias)| {
                let t = &self.titles[ti];
                SearchHit {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    family: t.family.clone(),
                    definition: t.definition.clone(),
                    matched_alias: alias.map(|a| t.aliases[a].clone()),
                }
            })
            .collect()
    }
}

/// The six-title catalog the unit and integration tests share (`tests/fixtures/catalog.json`).
#[cfg(test)]
pub(crate) fn test_catalog() -> TitleCatalog {
    let path = jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog.json");
    TitleCatalog::load(&path).expect("the test catalog fixture reads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ranks_exact_then_prefix_then_words() {
        let c = test_catalog();
        let hits = c.search("data engineer", 10);
        assert_eq!(hits[0].id, "data_engineer");
        let hits = c.search("etl", 10);
        assert_eq!(hits[0].id, "data_engineer");
        assert_eq!(hits[0].matched_alias.as_deref(), Some("ETL Developer"));
        let hits = c.search("front end dev", 10);
        assert_eq!(hits[0].id, "frontend_engineer");
        let hits = c.search("data", 2);
        assert_eq!(hits.len(), 2);
        assert!(c.search("   ", 5).is_empty());
        assert!(c.search("zzz", 5).is_empty());
    }

    #[test]
    fn roundtrip_keeps_index() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("catalog.json");
        let c = test_catalog();
        c.save(&p).unwrap();
        let back = TitleCatalog::load(&p).unwrap();
        assert!(back.contains("data_scientist"));
        assert!(back.is_valid_answer(crate::NONE_FITS));
        assert!(!back.is_valid_answer("astronaut"));
        assert_eq!(back.search("swe", 1)[0].id, "software_engineer");
    }
}

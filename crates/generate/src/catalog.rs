//! The titles the generator draws from, taken from a taxonomy's snapshot
//! ([`jobshift_taxonomy::TaxonomySnapshot`], the copy the labeller keeps too) with a level each
//! and an index by id, so generation does not depend on the taxonomy's internals and tests can
//! use a small hand-built list.

use crate::GenerateError;
use jobshift_core::{Level, Tier};
use jobshift_taxonomy::TaxonomySnapshot;

/// One standardized title as the generator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleSpec {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub family: String,
    pub level: Level,
    pub aliases: Vec<String>,
}

impl TitleSpec {
    pub fn tier(&self) -> Tier {
        self.level.tier()
    }
}

/// An ordered list of titles plus the taxonomy version they came from.
/// Order is the input order (deterministic); lookups go through a sorted index.
#[derive(Debug, Clone)]
pub struct Catalog {
    version: String,
    titles: Vec<TitleSpec>,
    by_id: Vec<(String, usize)>,
}

const SAMPLE_TITLES_CSV: &str = include_str!("../data/sample_titles.csv");

impl Catalog {
    /// Build a catalog; ids must be unique and non-empty.
    pub fn new(version: impl Into<String>, titles: Vec<TitleSpec>) -> Result<Self, GenerateError> {
        if titles.is_empty() {
            return Err(GenerateError::Catalog(
                "the title list is empty; the generator needs at least one title".into(),
            ));
        }
        let mut by_id: Vec<(String, usize)> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        by_id.sort();
        for w in by_id.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(GenerateError::Catalog(format!(
                    "title id {:?} appears twice",
                    w[0].0
                )));
            }
        }
        if let Some(t) = titles
            .iter()
            .find(|t| t.id.trim().is_empty() || t.name.trim().is_empty())
        {
            return Err(GenerateError::Catalog(format!(
                "a title has an empty id or name (id {:?}, name {:?})",
                t.id, t.name
            )));
        }
        Ok(Self {
            version: version.into(),
            titles,
            by_id,
        })
    }

    /// The titles of the built-in taxonomy (`taxonomy/` in the repository).
    pub fn builtin() -> Result<Self, GenerateError> {
        let tax = jobshift_taxonomy::Taxonomy::builtin().map_err(|e| {
            GenerateError::Catalog(format!("cannot load the built-in taxonomy: {e}"))
        })?;
        Self::from_taxonomy(&tax)
    }

    /// The titles of a taxonomy directory (a user's edited copy).
    pub fn load_taxonomy_dir(dir: &std::path::Path) -> Result<Self, GenerateError> {
        let tax = jobshift_taxonomy::Taxonomy::load_dir(dir).map_err(|e| {
            GenerateError::Catalog(format!(
                "cannot load the taxonomy in {}: {e}",
                dir.display()
            ))
        })?;
        Self::from_taxonomy(&tax)
    }

    /// The titles of a loaded taxonomy.
    pub fn from_taxonomy(tax: &jobshift_taxonomy::Taxonomy) -> Result<Self, GenerateError> {
        Self::from_snapshot(tax.snapshot())
    }

    /// The titles of a taxonomy snapshot; every title needs its level (the tier it counts in).
    pub fn from_snapshot(snapshot: TaxonomySnapshot) -> Result<Self, GenerateError> {
        let titles = snapshot
            .titles
            .into_iter()
            .map(|t| {
                let level = t.level.ok_or_else(|| {
                    GenerateError::Catalog(format!(
                        "title {:?} of taxonomy {} has no level",
                        t.id, snapshot.version
                    ))
                })?;
                Ok(TitleSpec {
                    id: t.id,
                    name: t.name,
                    definition: t.definition,
                    family: t.family,
                    level,
                    aliases: t.aliases,
                })
            })
            .collect::<Result<Vec<_>, GenerateError>>()?;
        Self::new(format!("taxonomy {}", snapshot.version), titles)
    }

    /// A small hand-built list (~80 titles: every title the study names plus a few common ones
    /// at each level), for tests and quick runs. Not a substitute for the taxonomy.
    pub fn study_sample() -> Self {
        let mut rdr = csv::Reader::from_reader(SAMPLE_TITLES_CSV.as_bytes());
        let mut titles = Vec::new();
        for rec in rdr.records() {
            let rec = rec.expect("data/sample_titles.csv is committed and well formed");
            let level: Level = rec[3]
                .parse()
                .expect("data/sample_titles.csv has valid levels");
            titles.push(TitleSpec {
                id: rec[0].to_string(),
                name: rec[1].to_string(),
                family: rec[2].to_string(),
                level,
                definition: rec[4].to_string(),
                aliases: rec[5]
                    .split('|')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            });
        }
        Self::new("study-sample-1", titles).expect("data/sample_titles.csv has unique ids")
    }

    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn titles(&self) -> &[TitleSpec] {
        &self.titles
    }
    pub fn len(&self) -> usize {
        self.titles.len()
    }
    pub fn is_empty(&self) -> bool {
        self.titles.is_empty()
    }
    /// Index of a title id in [`Catalog::titles`].
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id
            .binary_search_by(|(k, _)| k.as_str().cmp(id))
            .ok()
            .map(|i| self.by_id[i].1)
    }
    pub fn get(&self, id: &str) -> Option<&TitleSpec> {
        self.index_of(id).map(|i| &self.titles[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_has_every_study_title() {
        let c = Catalog::study_sample();
        for id in [
            "computer_graphic_artist",
            "gtm_engineer",
            "vp_of_engineering",
            "chemical_operator",
        ] {
            assert!(c.get(id).is_some(), "{id}");
        }
        assert!(c.len() > 70);
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let t = Catalog::study_sample().titles()[0].clone();
        let e = Catalog::new("x", vec![t.clone(), t]).unwrap_err();
        assert!(e.to_string().contains("twice"));
    }
}

//! An owned, serializable copy of one taxonomy version: what the stages outside this crate keep
//! of it. The labeller saves it with its tasks (`TASKS_DIR/catalog.json`, so answers are checked
//! against the version the tasks were made with), and the generator draws its titles from it;
//! both take it from [`Taxonomy::snapshot`] instead of copying fields out of the taxonomy each.

use crate::{Level, Taxonomy};
use serde::{Deserialize, Serialize};

/// A taxonomy version: its titles and families.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonomySnapshot {
    pub version: String,
    /// `builtin` or the directory it was loaded from.
    pub origin: String,
    pub families: Vec<FamilySnapshot>,
    pub titles: Vec<TitleSnapshot>,
}

/// One title of a [`TaxonomySnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TitleSnapshot {
    pub id: String,
    pub name: String,
    pub family: String,
    #[serde(default)]
    pub definition: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The title's level (and so its tier). `None` only in a labelling catalog saved before
    /// snapshots carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

/// One family of a [`TaxonomySnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilySnapshot {
    pub id: String,
    pub name: String,
}

impl TitleSnapshot {
    /// A title with no level (a hand-made catalog: tests, small examples).
    pub fn new(id: &str, name: &str, family: &str, definition: &str, aliases: &[&str]) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            family: family.into(),
            definition: definition.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            level: None,
        }
    }
}

impl FamilySnapshot {
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

impl Taxonomy {
    /// This taxonomy's titles (in taxonomy order) and families, owned.
    pub fn snapshot(&self) -> TaxonomySnapshot {
        TaxonomySnapshot {
            version: self.version().to_string(),
            origin: self.origin().to_string(),
            families: self
                .families()
                .iter()
                .map(|f| FamilySnapshot {
                    id: f.id.clone(),
                    name: f.name.clone(),
                })
                .collect(),
            titles: self
                .titles()
                .iter()
                .map(|t| TitleSnapshot {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    family: t.family.clone(),
                    definition: t.definition.clone(),
                    aliases: t.aliases.clone(),
                    level: Some(t.level),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_snapshot_has_every_title_with_its_level_and_reads_back() {
        let tax = Taxonomy::builtin().unwrap();
        let snap = tax.snapshot();
        assert_eq!(snap.titles.len(), tax.titles().len());
        assert_eq!(snap.families.len(), tax.families().len());
        assert!(snap.titles.iter().all(|t| t.level.is_some()));
        let back: TaxonomySnapshot =
            serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
        assert_eq!(back, snap);
        // a catalog saved before snapshots carried levels still reads
        let old: TitleSnapshot =
            serde_json::from_str(r#"{"id":"a","name":"A","family":"f"}"#).unwrap();
        assert_eq!(old.level, None);
        assert!(old.aliases.is_empty());
    }
}

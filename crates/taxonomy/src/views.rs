//! What `jobshift taxonomy` shows, as values a library user can print or serve: titles as JSON,
//! the title table, families, one title's card, search hits, statistics and the crosswalk.
//! Each text view is a `Display` value.

use crate::{Taxonomy, Title};
use jobshift_core::Level;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Why a lookup found nothing; the message says what to try.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("unknown family `{family}`; families are: {known}")]
    UnknownFamily { family: String, known: String },
    #[error("{0}")]
    UnknownLevel(String),
    #[error("`{id}` was retired in {version}: {reason}{replaced}")]
    Retired {
        id: String,
        version: String,
        reason: String,
        replaced: String,
    },
    #[error("no title `{id}`; try `jobshift taxonomy search WORDS`")]
    NoTitle { id: String },
    #[error("no title `{id}`; did you mean: {suggestions}")]
    NoTitleDidYouMean { id: String, suggestions: String },
}

/// One title as JSON (the fields `taxonomy list/show/search --json` print).
pub fn title_json(t: &Title) -> Value {
    json!({
        "id": t.id, "name": t.name, "family": t.family, "sub_family": t.sub_family,
        "level": t.level.as_str(), "tier": t.tier().as_str(), "soc": t.soc, "onet_soc": t.onet_soc,
        "definition": t.definition, "aliases": t.aliases,
    })
}

/// The titles of a family and/or level (both optional).
pub fn titles<'t>(
    tax: &'t Taxonomy,
    family: Option<&str>,
    level: Option<&str>,
) -> Result<Vec<&'t Title>, LookupError> {
    if let Some(f) = family {
        if tax.family(f).is_none() {
            let ids: Vec<&str> = tax.families().iter().map(|f| f.id.as_str()).collect();
            return Err(LookupError::UnknownFamily {
                family: f.to_string(),
                known: ids.join(", "),
            });
        }
    }
    let level: Option<Level> = match level {
        Some(l) => Some(l.parse().map_err(LookupError::UnknownLevel)?),
        None => None,
    };
    Ok(tax
        .titles()
        .iter()
        .filter(|t| family.is_none_or(|f| t.family == f))
        .filter(|t| level.is_none_or(|l| t.level == l))
        .collect())
}

/// The title table: id, name, family, level, SOC.
pub struct TitleTable<'a>(pub &'a [&'a Title]);

impl fmt::Display for TitleTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let titles = self.0;
        writeln!(
            f,
            "{:<40} {:<44} {:<26} {:<22} {:<10}",
            "ID", "NAME", "FAMILY", "LEVEL", "SOC"
        )?;
        for t in titles {
            writeln!(
                f,
                "{:<40} {:<44} {:<26} {:<22} {:<10}",
                t.id,
                t.name,
                t.family,
                t.level.as_str(),
                t.soc
            )?;
        }
        Ok(())
    }
}

/// Titles per family.
pub fn family_counts(tax: &Taxonomy) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for t in tax.titles() {
        *counts.entry(t.family.as_str()).or_insert(0) += 1;
    }
    counts
}

/// The families with their title counts, as JSON.
pub fn families_json(tax: &Taxonomy) -> Value {
    let counts = family_counts(tax);
    Value::Array(
        tax.families()
            .iter()
            .map(|f| json!({"id": f.id, "name": f.name, "description": f.description, "titles": counts.get(f.id.as_str()).copied().unwrap_or(0)}))
            .collect(),
    )
}

/// The families with their title counts, one per line.
pub struct FamilyTable<'a>(pub &'a Taxonomy);

impl fmt::Display for FamilyTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tax = self.0;
        let counts = family_counts(tax);
        for fam in tax.families() {
            writeln!(
                f,
                "{:<30} {:>4}  {} — {}",
                fam.id,
                counts.get(fam.id.as_str()).copied().unwrap_or(0),
                fam.name,
                fam.description
            )?;
        }
        Ok(())
    }
}

/// A title by id or exact name; a retired id says what replaced it, an unknown one suggests
/// close titles.
pub fn lookup<'t>(tax: &'t Taxonomy, id: &str) -> Result<&'t Title, LookupError> {
    if let Some(t) = tax.get(id).or_else(|| tax.match_exact(id)) {
        return Ok(t);
    }
    let suggestions: Vec<String> = tax
        .search(id, 5)
        .iter()
        .map(|t| format!("{} ({})", t.id, t.name))
        .collect();
    if let Some(r) = tax.retired().iter().find(|r| r.id == id) {
        return Err(LookupError::Retired {
            id: id.to_string(),
            version: r.retired_in_version.to_string(),
            reason: r.reason.clone(),
            replaced: r
                .replaced_by
                .as_ref()
                .map(|n| format!("; postings now count under `{n}`"))
                .unwrap_or_default(),
        });
    }
    if suggestions.is_empty() {
        return Err(LookupError::NoTitle { id: id.to_string() });
    }
    Err(LookupError::NoTitleDidYouMean {
        id: id.to_string(),
        suggestions: suggestions.join(", "),
    })
}

/// One title with the O*NET occupations counted under it.
pub struct TitleCard<'a> {
    pub tax: &'a Taxonomy,
    pub title: &'a Title,
}

impl TitleCard<'_> {
    pub fn json(&self) -> Value {
        let mut v = title_json(self.title);
        v["crosswalked_onet"] = json!(self
            .onet()
            .iter()
            .map(|e| json!({"onet_soc": e.onet_soc, "onet_title": e.onet_title}))
            .collect::<Vec<_>>());
        v
    }

    fn onet(&self) -> Vec<&crate::CrosswalkEntry> {
        self.tax
            .crosswalk()
            .iter()
            .filter(|e| e.title_id == self.title.id)
            .collect()
    }
}

impl fmt::Display for TitleCard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tax, title, onet) = (self.tax, self.title, self.onet());
        let family = tax
            .family(&title.family)
            .map(|f| f.name.as_str())
            .unwrap_or("?");
        writeln!(f, "{} ({})", title.name, title.id)?;
        writeln!(f, "  {}", title.definition)?;
        writeln!(
            f,
            "  family:   {} ({}){}",
            family,
            title.family,
            title
                .sub_family
                .as_ref()
                .map(|s| format!(" / {s}"))
                .unwrap_or_default()
        )?;
        writeln!(
            f,
            "  level:    {} → tier {}",
            title.level.as_str(),
            title.tier().as_str()
        )?;
        writeln!(
            f,
            "  soc:      {}   onet_soc: {}",
            title.soc, title.onet_soc
        )?;
        writeln!(
            f,
            "  aliases ({}): {}",
            title.aliases.len(),
            title.aliases.join("; ")
        )?;
        writeln!(
            f,
            "  O*NET occupations counted under it by default ({}):",
            onet.len()
        )?;
        for e in onet {
            writeln!(f, "    {}  {}", e.onet_soc, e.onet_title)?;
        }
        Ok(())
    }
}

/// Search hits, the exact match (if any) marked.
pub struct SearchHits<'a> {
    pub text: &'a str,
    pub hits: Vec<&'a Title>,
    pub exact: Option<String>,
}

impl<'a> SearchHits<'a> {
    pub fn new(tax: &'a Taxonomy, text: &'a str, limit: usize) -> Self {
        SearchHits {
            text,
            hits: tax.search(text, limit),
            exact: tax.match_exact(text).map(|t| t.id.clone()),
        }
    }

    pub fn json(&self) -> Value {
        Value::Array(
            self.hits
                .iter()
                .map(|t| {
                    let mut o = title_json(t);
                    o["exact_match"] = json!(self.exact.as_deref() == Some(t.id.as_str()));
                    o
                })
                .collect(),
        )
    }
}

impl fmt::Display for SearchHits<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, exact, hits) = (self.text, &self.exact, &self.hits);
        if hits.is_empty() {
            writeln!(f, "no title matches `{text}`")?;
        }
        for t in hits {
            let mark = if exact.as_deref() == Some(t.id.as_str()) {
                "= "
            } else {
                "  "
            };
            writeln!(
                f,
                "{mark}{:<40} {:<44} {:<26} {}",
                t.id,
                t.name,
                t.family,
                t.level.as_str()
            )?;
        }
        Ok(())
    }
}

/// Counts of titles per family, level and tier, aliases, and the crosswalk's coverage.
pub struct Stats<'a> {
    tax: &'a Taxonomy,
    by_family: BTreeMap<&'a str, usize>,
    by_level: BTreeMap<&'a str, usize>,
    by_tier: BTreeMap<&'a str, usize>,
    aliases: usize,
    titles_in_cw: BTreeSet<&'a str>,
    cw_by_major: BTreeMap<&'a str, usize>,
}

impl<'a> Stats<'a> {
    pub fn of(tax: &'a Taxonomy) -> Self {
        let by_family = family_counts(tax);
        let mut by_level: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_tier: BTreeMap<&str, usize> = BTreeMap::new();
        for t in tax.titles() {
            *by_level.entry(t.level.as_str()).or_insert(0) += 1;
            *by_tier.entry(t.tier().as_str()).or_insert(0) += 1;
        }
        let aliases: usize = tax.titles().iter().map(|t| t.aliases.len()).sum();
        let cw = tax.crosswalk();
        let titles_in_cw: BTreeSet<&str> = cw.iter().map(|e| e.title_id.as_str()).collect();
        let mut cw_by_major: BTreeMap<&str, usize> = BTreeMap::new();
        for e in cw {
            *cw_by_major
                .entry(e.onet_soc.get(..2).unwrap_or(&e.onet_soc))
                .or_insert(0) += 1;
        }
        Stats {
            tax,
            by_family,
            by_level,
            by_tier,
            aliases,
            titles_in_cw,
            cw_by_major,
        }
    }

    pub fn json(&self) -> Value {
        let (tax, cw) = (self.tax, self.tax.crosswalk());
        json!({
            "version": tax.version(), "origin": tax.origin(), "titles": tax.titles().len(),
            "families": tax.families().len(), "aliases": self.aliases,
            "titles_per_family": self.by_family, "titles_per_level": self.by_level, "titles_per_tier": self.by_tier,
            "crosswalk": {"onet_codes": cw.len(), "titles_targeted": self.titles_in_cw.len(), "onet_codes_per_soc_major": self.cw_by_major},
            "retired_ids": tax.retired().len(),
        })
    }
}

impl fmt::Display for Stats<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tax, cw) = (self.tax, self.tax.crosswalk());
        writeln!(f, "taxonomy {} ({})", tax.version(), tax.origin())?;
        writeln!(
            f,
            "{} titles in {} families, {} aliases, {} retired ids",
            tax.titles().len(),
            tax.families().len(),
            self.aliases,
            tax.retired().len()
        )?;
        writeln!(f, "\ntitles per family:")?;
        for fam in tax.families() {
            writeln!(
                f,
                "  {:<32} {:>4}",
                fam.id,
                self.by_family.get(fam.id.as_str()).copied().unwrap_or(0)
            )?;
        }
        writeln!(f, "\ntitles per level:")?;
        for l in Level::ALL {
            writeln!(
                f,
                "  {:<32} {:>4}",
                l.as_str(),
                self.by_level.get(l.as_str()).copied().unwrap_or(0)
            )?;
        }
        writeln!(f, "\ntitles per tier:")?;
        for (k, v) in self.by_tier.iter() {
            writeln!(f, "  {:<32} {:>4}", k, v)?;
        }
        writeln!(
            f,
            "\ncrosswalk: {} O*NET-SOC 2019 codes → {} distinct titles; per SOC major group: {}",
            cw.len(),
            self.titles_in_cw.len(),
            self.cw_by_major
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        )?;
        Ok(())
    }
}

/// The crosswalk as JSON: one object per O*NET code.
pub fn crosswalk_json(tax: &Taxonomy) -> Value {
    Value::Array(
        tax.crosswalk()
            .iter()
            .map(|e| json!({"onet_soc": e.onet_soc, "onet_title": e.onet_title, "title_id": e.title_id}))
            .collect(),
    )
}

/// The crosswalk, one tab-separated line per O*NET code.
pub struct CrosswalkTable<'a>(pub &'a Taxonomy);

impl fmt::Display for CrosswalkTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.0.crosswalk() {
            writeln!(f, "{}\t{}\t{}", e.onet_soc, e.title_id, e.onet_title)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tax() -> Taxonomy {
        Taxonomy::builtin().expect("the built-in taxonomy loads")
    }

    #[test]
    fn titles_filter_by_family_and_level_and_name_what_is_unknown() {
        let tax = tax();
        let all = titles(&tax, None, None).unwrap();
        assert_eq!(all.len(), tax.titles().len());
        let se = titles(&tax, Some("software_engineering"), None).unwrap();
        assert!(!se.is_empty() && se.len() < all.len());
        assert!(se.iter().all(|t| t.family == "software_engineering"));
        let err = titles(&tax, Some("no_such_family"), None).unwrap_err();
        assert!(err.to_string().contains("families are: "), "{err}");
        assert!(titles(&tax, None, Some("no_such_level")).is_err());
    }

    #[test]
    fn lookup_by_id_or_name_and_suggests_otherwise() {
        let tax = tax();
        assert_eq!(lookup(&tax, "data_engineer").unwrap().id, "data_engineer");
        assert_eq!(lookup(&tax, "Data Engineer").unwrap().id, "data_engineer");
        let err = lookup(&tax, "data_enginer").unwrap_err().to_string();
        assert!(err.starts_with("no title `data_enginer`"), "{err}");
    }

    #[test]
    fn stats_add_up_to_the_taxonomy() {
        let tax = tax();
        let s = Stats::of(&tax);
        let v = s.json();
        assert_eq!(v["titles"], tax.titles().len());
        let per_family: u64 = v["titles_per_family"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(per_family as usize, tax.titles().len());
        let text = s.to_string();
        assert!(text.contains("titles per family:") && text.contains("crosswalk: "));
    }

    #[test]
    fn a_title_card_lists_its_onet_occupations() {
        let tax = tax();
        let card = TitleCard {
            tax: &tax,
            title: lookup(&tax, "data_engineer").unwrap(),
        };
        let n = card.json()["crosswalked_onet"].as_array().unwrap().len();
        assert!(card
            .to_string()
            .contains(&format!("counted under it by default ({n}):")));
    }
}

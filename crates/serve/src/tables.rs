//! The pre-aggregated tables every request is answered from, built once per load from the
//! report document (`jobshift_report::json::document`, i.e. exactly what `report.json` holds):
//! so `/api/titles` and `/api/titles/{id}` carry the same ids, names, counts, changes and
//! intervals as report.json, by construction. Also the search index and a small cache of
//! serialized responses.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Responses kept per load (keyed by path and canonical query); beyond this, new ones are not
/// cached (a flood of distinct queries cannot grow memory).
const RESPONSE_CACHE_ENTRIES: usize = 2048;

use crate::respond::ApiError;
pub use crate::respond::Body;

/// One searchable title.
#[derive(Debug, Clone)]
struct SearchEntry {
    index: usize,
    id: String,
    name: String,
    words: Vec<String>,
}

/// Everything the API serves, derived from one report document.
pub struct Tables {
    /// The report document (report.json's content).
    pub doc: Value,
    pub years: Vec<i32>,
    pub latest: String,
    pub previous: String,
    pub titles: Vec<Value>,
    pub title_index: HashMap<String, usize>,
    pub families: Vec<Value>,
    pub family_index: HashMap<String, usize>,
    pub tiers: Vec<Value>,
    pub tier_index: HashMap<String, usize>,
    search: Vec<SearchEntry>,
    /// Identifies this load (hash of the document); changes when the data does.
    pub version: String,
    cache: Mutex<HashMap<String, Body>>,
}

fn index_of(list: &[Value]) -> HashMap<String, usize> {
    list.iter()
        .enumerate()
        .filter_map(|(i, v)| v["id"].as_str().map(|id| (id.to_string(), i)))
        .collect()
}

/// Lower-case words of a name or id (split on anything not alphanumeric).
pub fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl Tables {
    /// Build the tables from a report document.
    pub fn from_document(doc: Value) -> Result<Tables, String> {
        let list = |k: &str| -> Result<Vec<Value>, String> {
            doc.get(k)
                .and_then(|v| v.as_array())
                .cloned()
                .ok_or_else(|| format!("the report document has no {k:?} list"))
        };
        let titles = list("titles")?;
        let families = list("families")?;
        let tiers = list("tiers")?;
        let years: Vec<i32> = doc["years"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|y| y.as_i64())
                    .map(|y| y as i32)
                    .collect()
            })
            .unwrap_or_default();
        if years.len() < 2 {
            return Err("the report document compares fewer than two years".into());
        }
        let latest = years[years.len() - 1].to_string();
        let previous = years[years.len() - 2].to_string();
        let search = titles
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let id = t["id"].as_str().unwrap_or_default().to_string();
                let name = t["name"].as_str().unwrap_or_default().to_string();
                let mut w = words(&name);
                w.extend(words(&id));
                SearchEntry {
                    index: i,
                    id: id.to_lowercase(),
                    name: name.to_lowercase(),
                    words: w,
                }
            })
            .collect();
        let version = blake3::hash(doc.to_string().as_bytes()).to_hex()[..16].to_string();
        Ok(Tables {
            title_index: index_of(&titles),
            family_index: index_of(&families),
            tier_index: index_of(&tiers),
            titles,
            families,
            tiers,
            years,
            latest,
            previous,
            search,
            version,
            doc,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// A cached response, or compute, cache and return it.
    pub fn cached(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<Body, ApiError>,
    ) -> Result<Body, ApiError> {
        if let Some(b) = self.cache.lock().ok().and_then(|c| c.get(key).cloned()) {
            return Ok(b);
        }
        let body = make()?;
        if let Ok(mut c) = self.cache.lock() {
            if c.len() < RESPONSE_CACHE_ENTRIES {
                c.insert(key.to_string(), body.clone());
            }
        }
        Ok(body)
    }

    pub fn monthly(&self, level: &str, id: &str) -> Value {
        self.doc["monthly"][level]
            .get(id)
            .cloned()
            .unwrap_or(Value::Array(vec![]))
    }

    pub fn market_monthly(&self) -> Value {
        self.doc["monthly"]["market"].clone()
    }

    /// The latest-year count of an entry.
    pub fn latest_count(&self, v: &Value) -> u64 {
        v["counts"][&self.latest].as_u64().unwrap_or(0)
    }

    /// A short form of an entry (lists inside other answers).
    pub fn brief(&self, v: &Value) -> Value {
        json!({
            "id": v["id"], "name": v["name"], "family": v["family"], "tier": v["tier"],
            "counts": v["counts"], "change": v["change"], "ci95": v["ci95"], "ranked": v["ranked"],
        })
    }

    /// Titles matching every word of `q` (word prefix, or substring of the name or id), best
    /// first: exact name or id, then name prefix, then word prefixes, then substrings; ties by
    /// latest-year volume.
    pub fn search(&self, q: &str, limit: usize) -> Vec<&Value> {
        let q_lower = q.trim().to_lowercase();
        let q_words = words(&q_lower);
        if q_words.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u8, u64, usize)> = Vec::new();
        for e in &self.search {
            let all_match = q_words.iter().all(|qw| {
                e.words.iter().any(|w| w.starts_with(qw.as_str()))
                    || e.name.contains(qw.as_str())
                    || e.id.contains(qw.as_str())
            });
            if !all_match {
                continue;
            }
            let rank = if e.name == q_lower || e.id == q_lower {
                0
            } else if e.name.starts_with(&q_lower) {
                1
            } else if q_words
                .iter()
                .all(|qw| e.words.iter().any(|w| w.starts_with(qw.as_str())))
            {
                2
            } else {
                3
            };
            hits.push((rank, self.latest_count(&self.titles[e.index]), e.index));
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        hits.into_iter()
            .take(limit)
            .map(|(_, _, i)| &self.titles[i])
            .collect()
    }

    /// The summary document (without the live dataset status).
    pub fn summary(&self) -> Value {
        let d = &self.doc;
        let mut m = Map::new();
        for k in [
            "taxonomy_version",
            "window",
            "years",
            "baseline",
            "unclassified",
            "market",
            "min_postings",
            "min_postings_rule",
            "ci_method",
            "window_rule",
            "panel",
            "correction",
            "notes",
        ] {
            m.insert(k.to_string(), d.get(k).cloned().unwrap_or(Value::Null));
        }
        m.insert("latest_year".into(), json!(self.years.last()));
        m.insert(
            "previous_year".into(),
            json!(self.previous.parse::<i32>().ok()),
        );
        m.insert("title_count".into(), json!(self.titles.len()));
        m.insert("family_count".into(), json!(self.families.len()));
        m.insert("tier_count".into(), json!(self.tiers.len()));
        let watch: Vec<Value> = d["watch"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str())
                    .filter_map(|id| self.title_index.get(id))
                    .map(|&i| self.brief(&self.titles[i]))
                    .collect()
            })
            .unwrap_or_default();
        m.insert("watch".into(), Value::Array(watch));
        m.insert(
            "monthly".into(),
            json!({
                "months": d["monthly"]["months"],
                "seasonal_adjustment": d["monthly"]["seasonal_adjustment"],
                "interval_method": d["monthly"]["interval_method"],
                "market": d["monthly"]["market"],
            }),
        );
        m.insert("version".into(), json!(self.version));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "years": [2024, 2025],
            "titles": [
                {"id": "software_engineer", "name": "Software Engineer", "counts": {"2024": 10, "2025": 20}},
                {"id": "software_architect", "name": "Software Architect", "counts": {"2024": 10, "2025": 5}},
                {"id": "data_engineer", "name": "Data Engineer", "counts": {"2024": 10, "2025": 50}},
            ],
            "families": [], "tiers": [], "watch": [], "monthly": {}
        })
    }

    #[test]
    fn search_ranks_exact_then_prefix_then_volume() {
        let t = Tables::from_document(doc()).unwrap();
        let ids = |q: &str| -> Vec<String> {
            t.search(q, 10)
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids("software engineer"), ["software_engineer"]);
        assert_eq!(ids("soft"), ["software_engineer", "software_architect"]);
        assert_eq!(ids("engineer"), ["data_engineer", "software_engineer"]);
        assert_eq!(ids("gineer"), ["data_engineer", "software_engineer"]);
        assert!(ids("  ").is_empty());
        assert!(ids("<script>").is_empty());
        assert_eq!(ids("data_engineer"), ["data_engineer"]);
    }

    #[test]
    fn documents_without_lists_are_refused() {
        assert!(Tables::from_document(json!({"years": [2024, 2025]})).is_err());
    }
}

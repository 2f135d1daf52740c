//! The canonical collected posting every connector maps its ATS's fields into, and the flat
//! record handed to ingest (whose column names ingest recognizes: title, description, company,
//! date, location, country, url; everything else lands in the dataset's `extra`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One posting as a connector read it. `key` identifies it within its company across runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectedPosting {
    /// The ATS's id (or the posting URL when there is none): the history key.
    pub key: String,
    pub title: Option<String>,
    /// HTML or plain text; ingest turns HTML into text.
    pub description: Option<String>,
    pub location: Option<String>,
    /// Country as the ATS gives it (ISO code or name); ingest normalizes it.
    pub country: Option<String>,
    pub department: Option<String>,
    pub employment_type: Option<String>,
    /// remote / hybrid / onsite, as the ATS says it.
    pub workplace: Option<String>,
    pub salary_min: Option<f64>,
    pub salary_max: Option<f64>,
    pub salary_currency: Option<String>,
    pub salary_period: Option<String>,
    pub requisition_id: Option<String>,
    /// When the posting was published (any date format ingest reads).
    pub published: Option<String>,
    pub updated: Option<String>,
    pub url: Option<String>,
    /// schema.org `occupationalCategory` (often an O*NET-SOC code): a free SOC hint.
    pub occupational_category: Option<String>,
    /// Other ATS fields worth keeping (flat text values).
    pub extra: BTreeMap<String, String>,
}

impl CollectedPosting {
    /// Fingerprint of everything the connector read: a change means the posting was updated.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        blake3::hash(&bytes).to_hex()[..32].to_string()
    }

    /// The record ingest reads. `fallback_date` (the day the posting was first seen) is the
    /// posted date when the ATS gives none; `date_source` says which one was used.
    pub fn to_ingest_record(
        &self,
        company: &crate::Company,
        fallback_date: &str,
        collected_on: &str,
    ) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<&str>| {
            if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
                m.insert(k.to_string(), Value::String(v.to_string()));
            }
        };
        put("title", self.title.as_deref());
        put("description", self.description.as_deref());
        put("company", Some(company.name.as_str()));
        let (date, source) = match self.published.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => (d, "published"),
            None => (fallback_date, "first_seen"),
        };
        put("date", Some(date));
        put("date_source", Some(source));
        put("location", self.location.as_deref());
        put("country", self.country.as_deref());
        put("url", self.url.as_deref());
        put("ats", Some(company.ats.name()));
        put("board", Some(company.board.as_str()));
        put("ats_id", Some(self.key.as_str()));
        put("department", self.department.as_deref());
        put("employment_type", self.employment_type.as_deref());
        put("workplace", self.workplace.as_deref());
        let num = |v: Option<f64>| v.map(|x| format!("{x}"));
        put("salary_min", num(self.salary_min).as_deref());
        put("salary_max", num(self.salary_max).as_deref());
        put("salary_currency", self.salary_currency.as_deref());
        put("salary_period", self.salary_period.as_deref());
        put("requisition_id", self.requisition_id.as_deref());
        put("ats_updated", self.updated.as_deref());
        put(
            "occupational_category",
            self.occupational_category.as_deref(),
        );
        put("collected_on", Some(collected_on));
        for (k, v) in &self.extra {
            // prefixed so that no extra field can be mistaken for a canonical column
            put(&format!("x_{k}"), Some(v.as_str()));
        }
        Value::Object(m)
    }
}

/// Text of a JSON value at a path of object keys: strings as they are, numbers and booleans
/// rendered, empty strings as None.
pub fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    value_text(cur)
}

/// A scalar JSON value as text (None for null, empty strings, arrays and objects).
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number at a path (JSON numbers or numeric strings).
pub fn number_at(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    match cur {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', "").parse().ok(),
        _ => None,
    }
}

/// Texts of an array of strings or objects (taking `field` of each object), joined by "; ".
pub fn join_texts(v: Option<&Value>, field: &str) -> Option<String> {
    let items: Vec<String> = match v? {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| value_text(x).or_else(|| text_at(x, &[field])))
            .collect(),
        other => value_text(other)
            .or_else(|| text_at(other, &[field]))
            .into_iter()
            .collect(),
    };
    (!items.is_empty()).then(|| items.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_published_date_falls_back_to_first_seen_and_says_so() {
        let c = crate::companies::parse_companies(b"name,ats,board\nAcme,lever,acme\n")
            .unwrap()
            .companies
            .remove(0);
        let p = CollectedPosting {
            key: "7".into(),
            title: Some("Engineer".into()),
            extra: [("text".to_string(), "x".to_string())].into(),
            ..Default::default()
        };
        let r = p.to_ingest_record(&c, "2026-12-04", "2026-12-04");
        assert_eq!(r["date"], "2026-12-04");
        assert_eq!(r["date_source"], "first_seen");
        assert_eq!(r["company"], "Acme");
        assert_eq!(r["x_text"], "x");
        assert!(r.get("text").is_none());
    }

    #[test]
    fn helpers_read_nested_values() {
        let v = json!({"a": {"b": " x "}, "n": "1,200", "l": [{"name": "A"}, "B"]});
        assert_eq!(text_at(&v, &["a", "b"]).as_deref(), Some("x"));
        assert_eq!(number_at(&v, &["n"]), Some(1200.0));
        assert_eq!(join_texts(v.get("l"), "name").as_deref(), Some("A; B"));
    }
}

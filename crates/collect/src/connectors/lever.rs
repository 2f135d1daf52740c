//! Lever postings API: `GET api.lever.co/v0/postings/{site}?mode=json&skip=&limit=` (EU boards:
//! `api.eu.lever.co`, given as the company's `url`). A bare array, no total: pages are requested
//! until one comes back shorter than `limit`.

use super::{json_bodies, listing_url, with_query, Session, MAX_PAGES};
use crate::fetch::Request;
use crate::posting::{number_at, text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;

/// Postings per page.
pub const PAGE: usize = 100;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let base = listing_url(s.company, |b| {
        super::api_url("https://api.lever.co/v0/postings", &[b])
    });
    let mut skip = 0usize;
    let mut ids = std::collections::HashSet::new();
    for page in 0..MAX_PAGES {
        let url = with_query(
            &base,
            &[
                ("mode", "json"),
                ("skip", &skip.to_string()),
                ("limit", &PAGE.to_string()),
            ],
        );
        let v = match s.json("list", Request::get(url.clone())).await {
            Ok(v) => v,
            Err(e) => {
                s.error(e);
                return Status::broken_off(page == 0);
            }
        };
        let Some(items) = v.as_array() else {
            s.error(format!("{url}: expected a JSON array of postings"));
            return Status::broken_off(page == 0);
        };
        let fresh = items
            .iter()
            .filter(|i| ids.insert(text_at(i, &["id"]).unwrap_or_else(|| i.to_string())))
            .count();
        // a short page ends the board; so does a page of ids already seen (a server that
        // ignores `skip` and answers the whole board every time)
        if items.len() < PAGE || fresh == 0 {
            return Status::Ok;
        }
        skip += items.len();
    }
    s.error(format!("stopped after {MAX_PAGES} pages"));
    Status::Partial
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    let mut out = Vec::new();
    for (_, v) in json_bodies(responses, "list", errors) {
        out.extend(v.as_array().into_iter().flatten().map(posting));
    }
    out
}

fn posting(p: &Value) -> CollectedPosting {
    // description, then the lists (requirements, responsibilities) and the closing text
    let mut html = text_at(p, &["description"]).unwrap_or_default();
    for l in p
        .get("lists")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = text_at(l, &["text"]) {
            html.push_str(&format!("<h3>{t}</h3>"));
        }
        if let Some(c) = text_at(l, &["content"]) {
            html.push_str(&format!("<ul>{c}</ul>"));
        }
    }
    if let Some(a) = text_at(p, &["additional"]) {
        html.push_str(&a);
    }
    let description = if html.is_empty() {
        text_at(p, &["descriptionPlain"])
    } else {
        Some(html)
    };
    let mut extra = std::collections::BTreeMap::new();
    for (k, path) in [
        ("team", &["categories", "team"][..]),
        ("salary_description", &["salaryDescriptionPlain"][..]),
        ("apply_url", &["applyUrl"][..]),
    ] {
        if let Some(v) = text_at(p, path) {
            extra.insert(k.to_string(), v);
        }
    }
    if let Some(all) = p
        .pointer("/categories/allLocations")
        .and_then(Value::as_array)
    {
        let all: Vec<_> = all.iter().filter_map(Value::as_str).collect();
        if all.len() > 1 {
            extra.insert("all_locations".into(), all.join("; "));
        }
    }
    CollectedPosting {
        key: text_at(p, &["id"])
            .or_else(|| text_at(p, &["hostedUrl"]))
            .unwrap_or_default(),
        title: text_at(p, &["text"]),
        description,
        location: text_at(p, &["categories", "location"]),
        country: text_at(p, &["country"]),
        department: text_at(p, &["categories", "department"])
            .or_else(|| text_at(p, &["categories", "team"])),
        employment_type: text_at(p, &["categories", "commitment"]),
        workplace: text_at(p, &["workplaceType"]).filter(|w| w != "unspecified"),
        salary_min: number_at(p, &["salaryRange", "min"]),
        salary_max: number_at(p, &["salaryRange", "max"]),
        salary_currency: text_at(p, &["salaryRange", "currency"]),
        salary_period: text_at(p, &["salaryRange", "interval"]),
        published: text_at(p, &["createdAt"]),
        updated: text_at(p, &["updatedAt"]),
        url: text_at(p, &["hostedUrl"]),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_categories_salary_and_lists() {
        let p = posting(&json!({
            "id": "5ac21346-8e0c-4494-8e7a-3eb92ff77902", "text": "Account Executive",
            "categories": {"location": "San Francisco", "commitment": "Full-time", "team": "Sales",
                           "department": "Go To Market", "allLocations": ["San Francisco", "Remote"]},
            "createdAt": 1502907172814u64, "country": "US", "workplaceType": "hybrid",
            "description": "<div>Sell</div>", "descriptionPlain": "Sell",
            "lists": [{"text": "Requirements", "content": "<li>3 years</li>"}],
            "additional": "<div>Benefits</div>",
            "hostedUrl": "https://jobs.lever.co/acme/5ac21346", "applyUrl": "https://jobs.lever.co/acme/5ac21346/apply",
            "salaryRange": {"min": 90000, "max": 120000, "currency": "USD", "interval": "per-year-salary"}
        }));
        assert_eq!(p.title.as_deref(), Some("Account Executive"));
        assert_eq!(p.published.as_deref(), Some("1502907172814"));
        assert_eq!(p.salary_max, Some(120000.0));
        assert_eq!(p.department.as_deref(), Some("Go To Market"));
        assert!(p
            .description
            .unwrap()
            .contains("<h3>Requirements</h3><ul><li>3 years</li></ul>"));
        assert_eq!(p.extra["all_locations"], "San Francisco; Remote");
    }
}

//! Workable widget API: `GET apply.workable.com/api/v1/widget/accounts/{slug}?details=true`.
//! One response with every published job (`jobs`), descriptions included with `details=true`.

use super::{fetch_single, listing_url, parse_list, with_default_query, Session};
use crate::posting::{text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let url = listing_url(s.company, |b| {
        super::api_url("https://apply.workable.com/api/v1/widget/accounts", &[b])
    });
    let url = with_default_query(&url, &[("details", "true")]);
    fetch_single(s, url, "jobs").await.0
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    parse_list(responses, errors, "jobs", |job| Some(posting(job)))
}

fn posting(j: &Value) -> CollectedPosting {
    let first_loc = j.pointer("/locations/0");
    let city = text_at(j, &["city"]).or_else(|| first_loc.and_then(|l| text_at(l, &["city"])));
    let region = text_at(j, &["state"]).or_else(|| first_loc.and_then(|l| text_at(l, &["region"])));
    let country =
        text_at(j, &["country"]).or_else(|| first_loc.and_then(|l| text_at(l, &["country"])));
    let parts: Vec<String> = [city, region, country.clone()]
        .into_iter()
        .flatten()
        .collect();
    let remote = j.get("telecommuting").and_then(Value::as_bool) == Some(true);
    let mut extra = std::collections::BTreeMap::new();
    for k in [
        "code",
        "education",
        "experience",
        "function",
        "industry",
        "application_url",
        "shortlink",
    ] {
        if let Some(v) = text_at(j, &[k]) {
            extra.insert(k.to_string(), v);
        }
    }
    CollectedPosting {
        key: text_at(j, &["shortcode"])
            .or_else(|| text_at(j, &["url"]))
            .unwrap_or_default(),
        title: text_at(j, &["title"]),
        description: text_at(j, &["description"]),
        location: (!parts.is_empty()).then(|| parts.join(", ")),
        country: first_loc
            .and_then(|l| text_at(l, &["countryCode"]))
            .or(country),
        department: text_at(j, &["department"]),
        employment_type: text_at(j, &["employment_type"]),
        workplace: remote.then(|| "remote".to_string()),
        published: text_at(j, &["published_on"]).or_else(|| text_at(j, &["created_at"])),
        updated: None,
        url: text_at(j, &["url"]).or_else(|| text_at(j, &["shortlink"])),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_location_remote_and_dates() {
        let p = posting(&json!({
            "title": "Backend Engineer", "shortcode": "AB12CD34", "code": "BE-1",
            "employment_type": "Full-time", "telecommuting": true, "department": "Engineering",
            "url": "https://apply.workable.com/j/AB12CD34", "shortlink": "https://apply.workable.com/j/AB12CD34",
            "application_url": "https://apply.workable.com/j/AB12CD34/apply",
            "published_on": "2024-02-01", "created_at": "2024-01-30",
            "country": "Greece", "city": "Athens", "state": "Attica",
            "locations": [{"country": "Greece", "countryCode": "GR", "city": "Athens", "region": "Attica", "hidden": false}],
            "description": "<p>Build APIs</p>"
        }));
        assert_eq!(p.key, "AB12CD34");
        assert_eq!(p.location.as_deref(), Some("Athens, Attica, Greece"));
        assert_eq!(p.country.as_deref(), Some("GR"));
        assert_eq!(p.workplace.as_deref(), Some("remote"));
        assert_eq!(p.published.as_deref(), Some("2024-02-01"));
    }
}

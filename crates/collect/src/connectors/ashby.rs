//! Ashby posting API: `GET api.ashbyhq.com/posting-api/job-board/{board}?includeCompensation=true`.
//! One response with every listed job (`jobs`); an unknown board answers 404 or an empty list.

use super::{fetch_single, listing_url, parse_list, with_default_query, Session};
use crate::posting::{join_texts, number_at, text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let url = listing_url(s.company, |b| {
        super::api_url("https://api.ashbyhq.com/posting-api/job-board", &[b])
    });
    let url = with_default_query(&url, &[("includeCompensation", "true")]);
    fetch_single(s, url, "jobs").await.0
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    parse_list(responses, errors, "jobs", |job| {
        // unlisted jobs are not public postings
        let unlisted = job.get("isListed").and_then(Value::as_bool) == Some(false);
        (!unlisted).then(|| posting(job))
    })
}

fn posting(j: &Value) -> CollectedPosting {
    let salary = j
        .pointer("/compensation/summaryComponents")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter().find(|c| {
                text_at(c, &["compensationType"]).is_some_and(|t| t.eq_ignore_ascii_case("salary"))
            })
        });
    let mut extra = std::collections::BTreeMap::new();
    for (k, path) in [
        ("team", &["team"][..]),
        (
            "compensation_summary",
            &["compensation", "compensationTierSummary"][..],
        ),
        ("apply_url", &["applyUrl"][..]),
    ] {
        if let Some(v) = text_at(j, path) {
            extra.insert(k.to_string(), v);
        }
    }
    if let Some(v) = join_texts(j.get("secondaryLocations"), "location") {
        extra.insert("secondary_locations".into(), v);
    }
    let workplace = text_at(j, &["workplaceType"]).or_else(|| {
        (j.get("isRemote").and_then(Value::as_bool) == Some(true)).then(|| "Remote".to_string())
    });
    CollectedPosting {
        key: text_at(j, &["id"])
            .or_else(|| text_at(j, &["jobUrl"]))
            .unwrap_or_default(),
        title: text_at(j, &["title"]),
        description: text_at(j, &["descriptionHtml"]).or_else(|| text_at(j, &["descriptionPlain"])),
        location: text_at(j, &["location"]),
        country: text_at(j, &["address", "postalAddress", "addressCountry"]),
        department: text_at(j, &["department"]),
        employment_type: text_at(j, &["employmentType"]),
        workplace,
        salary_min: salary.and_then(|c| number_at(c, &["minValue"])),
        salary_max: salary.and_then(|c| number_at(c, &["maxValue"])),
        salary_currency: salary.and_then(|c| text_at(c, &["currencyCode"])),
        salary_period: salary.and_then(|c| text_at(c, &["interval"])),
        published: text_at(j, &["publishedAt"]),
        updated: text_at(j, &["updatedAt"]),
        url: text_at(j, &["jobUrl"]),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_compensation_and_skips_unlisted() {
        let body = json!({"apiVersion": "1", "jobs": [
            {"id": "a1", "title": "Product Manager", "location": "Houston, TX", "department": "Product",
             "team": "Growth", "isListed": true, "isRemote": true, "workplaceType": "Hybrid",
             "descriptionHtml": "<p>Lead</p>", "descriptionPlain": "Lead",
             "publishedAt": "2021-04-30T16:21:55.393+00:00", "employmentType": "FullTime",
             "address": {"postalAddress": {"addressLocality": "Houston", "addressRegion": "Texas", "addressCountry": "USA"}},
             "jobUrl": "https://jobs.ashbyhq.com/example/a1", "applyUrl": "https://jobs.ashbyhq.com/example/a1/application",
             "compensation": {"compensationTierSummary": "$81K – $87K", "summaryComponents": [
                {"compensationType": "Salary", "interval": "1 YEAR", "currencyCode": "USD", "minValue": 81000, "maxValue": 87000},
                {"compensationType": "EquityPercentage", "minValue": 0.5, "maxValue": 1.0}]}},
            {"id": "a2", "title": "Hidden", "isListed": false}
        ]});
        let r = RawResponse::from_body("list", "u", &body.to_string());
        let ps = parse(&[&r], &mut Vec::new());
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        assert_eq!((p.salary_min, p.salary_max), (Some(81000.0), Some(87000.0)));
        assert_eq!(p.country.as_deref(), Some("USA"));
        assert_eq!(p.workplace.as_deref(), Some("Hybrid"));
        assert_eq!(p.extra["compensation_summary"], "$81K – $87K");
    }
}

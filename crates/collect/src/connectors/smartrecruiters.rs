//! SmartRecruiters posting API: `GET api.smartrecruiters.com/v1/companies/{id}/postings
//! ?limit=100&offset=` (`{totalFound, content[]}`), then one detail call per posting
//! (`.../postings/{id}`) for the job ad (`jobAd.sections`). A failed detail call keeps the
//! posting from the list (without its description) and makes the run `partial`.

use super::{api_url, json_bodies, listing_url, with_query, Session, MAX_PAGES};
use crate::fetch::Request;
use crate::posting::{text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;
use std::collections::HashMap;

/// Postings per page (the API's maximum).
pub const PAGE: u64 = 100;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let base = listing_url(s.company, |b| {
        api_url(
            "https://api.smartrecruiters.com/v1/companies",
            &[b, "postings"],
        )
    });
    let mut status = Status::Ok;
    let mut details: Vec<String> = Vec::new();
    let mut offset = 0u64;
    for page in 0..MAX_PAGES {
        let url = with_query(
            &base,
            &[
                ("limit", &PAGE.to_string()),
                ("offset", &offset.to_string()),
            ],
        );
        let v = match s.json("list", Request::get(url.clone())).await {
            Ok(v) => v,
            Err(e) => {
                s.error(e);
                return Status::broken_off(page == 0);
            }
        };
        let Some(items) = v.get("content").and_then(Value::as_array) else {
            s.error(format!("{url}: no \"content\" array in the response"));
            return Status::broken_off(page == 0);
        };
        for it in items {
            if let Some(d) = detail_url(&base, it) {
                details.push(d);
            }
        }
        let total = v.get("totalFound").and_then(Value::as_u64).unwrap_or(0);
        offset += items.len() as u64;
        if items.is_empty() || offset >= total {
            break;
        }
        if page + 1 == MAX_PAGES {
            s.error(format!("stopped after {MAX_PAGES} pages"));
            status = Status::Partial;
        }
    }
    for d in details {
        if let Err(e) = s.send("detail", Request::get(d)).await {
            s.error(format!("detail call failed, description missing: {e}"));
            status = Status::Partial;
        }
    }
    status
}

/// The posting's detail URL: its `ref` when given, else `{listing}/{id}`.
fn detail_url(base: &str, item: &Value) -> Option<String> {
    if let Some(r) = text_at(item, &["ref"]).filter(|r| r.starts_with("http")) {
        return Some(r);
    }
    let id = text_at(item, &["id"])?;
    let mut u = url::Url::parse(base).ok()?;
    u.set_query(None);
    Some(api_url(u.as_str(), &[&id]))
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    let details: HashMap<String, Value> = json_bodies(responses, "detail", errors)
        .into_iter()
        .filter_map(|(_, v)| Some((text_at(&v, &["id"])?, v)))
        .collect();
    let mut out = Vec::new();
    for (_, v) in json_bodies(responses, "list", errors) {
        for it in v
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let detail = text_at(it, &["id"]).and_then(|id| details.get(&id));
            out.push(posting(it, detail));
        }
    }
    out
}

fn posting(it: &Value, detail: Option<&Value>) -> CollectedPosting {
    let description = detail
        .and_then(|d| d.pointer("/jobAd/sections"))
        .map(|sections| {
            let mut html = String::new();
            for k in [
                "companyDescription",
                "jobDescription",
                "qualifications",
                "additionalInformation",
            ] {
                if let Some(sec) = sections.get(k) {
                    if let Some(t) = text_at(sec, &["title"]) {
                        html.push_str(&format!("<h3>{t}</h3>"));
                    }
                    if let Some(t) = text_at(sec, &["text"]) {
                        html.push_str(&t);
                    }
                }
            }
            html
        });
    let loc = it.get("location").unwrap_or(&Value::Null);
    let location = text_at(loc, &["fullLocation"]).or_else(|| {
        let parts: Vec<String> = ["city", "region", "country"]
            .iter()
            .filter_map(|k| text_at(loc, &[k]))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    });
    let remote = loc.get("remote").and_then(Value::as_bool) == Some(true);
    let hybrid = loc.get("hybrid").and_then(Value::as_bool) == Some(true);
    let mut extra = std::collections::BTreeMap::new();
    for (k, path) in [
        ("experience_level", &["experienceLevel", "label"][..]),
        ("industry", &["industry", "label"][..]),
        ("function", &["function", "label"][..]),
        ("uuid", &["uuid"][..]),
    ] {
        if let Some(v) = text_at(it, path) {
            extra.insert(k.to_string(), v);
        }
    }
    CollectedPosting {
        key: text_at(it, &["id"]).unwrap_or_default(),
        title: text_at(it, &["name"]),
        description: description.filter(|d| !d.is_empty()),
        location,
        country: text_at(loc, &["country"]),
        department: text_at(it, &["department", "label"]),
        employment_type: text_at(it, &["typeOfEmployment", "label"]),
        workplace: if remote {
            Some("remote".into())
        } else if hybrid {
            Some("hybrid".into())
        } else {
            None
        },
        requisition_id: text_at(it, &["refNumber"]),
        published: text_at(it, &["releasedDate"]),
        url: detail
            .and_then(|d| text_at(d, &["postingUrl"]))
            .or_else(|| text_at(it, &["ref"])),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_list_items_with_their_job_ads() {
        let item = json!({"id": "743999", "name": "Chef", "refNumber": "REF1", "releasedDate": "2024-01-10T10:00:00.000Z",
            "location": {"city": "Berlin", "country": "de", "remote": false, "hybrid": true},
            "department": {"label": "Kitchen"}, "typeOfEmployment": {"label": "Full-time"},
            "experienceLevel": {"id": "mid_senior_level", "label": "Mid-Senior Level"}});
        let detail = json!({"id": "743999", "postingUrl": "https://jobs.smartrecruiters.com/Acme/743999-chef",
            "jobAd": {"sections": {"jobDescription": {"title": "Job Description", "text": "<p>Cook</p>"},
                                    "qualifications": {"title": "Qualifications", "text": "<p>Knives</p>"}}}});
        let p = posting(&item, Some(&detail));
        assert_eq!(p.location.as_deref(), Some("Berlin, de"));
        assert_eq!(p.workplace.as_deref(), Some("hybrid"));
        assert_eq!(p.extra["experience_level"], "Mid-Senior Level");
        assert!(p
            .description
            .unwrap()
            .contains("<h3>Qualifications</h3><p>Knives</p>"));
        assert_eq!(
            detail_url("https://h/v1/companies/acme/postings?limit=100", &item).unwrap(),
            "https://h/v1/companies/acme/postings/743999"
        );
    }
}

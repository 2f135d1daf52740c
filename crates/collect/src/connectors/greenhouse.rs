//! Greenhouse job board API: `GET boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true`.
//! The whole board comes in one response (`jobs`, `meta.total`); `content` is entity-escaped
//! HTML (`&lt;p&gt;`), unescaped once here and turned into text by ingest.

use super::{fetch_single, listing_url, parse_list, with_default_query, Session};
use crate::posting::{join_texts, text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let url = listing_url(s.company, |b| {
        super::api_url("https://boards-api.greenhouse.io/v1/boards", &[b, "jobs"])
    });
    let url = with_default_query(&url, &[("content", "true")]);
    let (status, body) = fetch_single(s, url.clone(), "jobs").await;
    let Some(v) = body else { return status };
    let got = v["jobs"].as_array().map_or(0, Vec::len) as u64;
    match v.pointer("/meta/total").and_then(Value::as_u64) {
        Some(t) if t > got => {
            s.error(format!("{url}: meta.total is {t} but {got} jobs came back"));
            Status::Partial
        }
        _ => status,
    }
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    parse_list(responses, errors, "jobs", |job| Some(posting(job)))
}

fn posting(job: &Value) -> CollectedPosting {
    let content =
        text_at(job, &["content"]).map(|c| html_escape::decode_html_entities(&c).into_owned());
    let mut extra = std::collections::BTreeMap::new();
    let fields = [
        ("internal_job_id", text_at(job, &["internal_job_id"])),
        ("language", text_at(job, &["language"])),
        ("offices", join_texts(job.get("offices"), "name")),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            extra.insert(k.to_string(), v);
        }
    }
    for m in job
        .get("metadata")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(name), Some(value)) =
            (text_at(m, &["name"]), join_texts(m.get("value"), "name"))
        {
            extra.insert(format!("metadata_{name}"), value);
        }
    }
    CollectedPosting {
        key: text_at(job, &["id"])
            .or_else(|| text_at(job, &["absolute_url"]))
            .unwrap_or_default(),
        title: text_at(job, &["title"]),
        description: content,
        location: text_at(job, &["location", "name"]),
        department: join_texts(job.get("departments"), "name"),
        requisition_id: text_at(job, &["requisition_id"]),
        published: text_at(job, &["first_published"]).or_else(|| text_at(job, &["updated_at"])),
        updated: text_at(job, &["updated_at"]),
        url: text_at(job, &["absolute_url"]),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_the_documented_fields_and_unescapes_content() {
        let job = json!({
            "id": 127817, "internal_job_id": 144381, "title": "Vault Designer",
            "updated_at": "2016-01-14T10:55:28-05:00", "first_published": "2016-01-10T09:00:00-05:00",
            "requisition_id": "50", "location": {"name": "NYC"},
            "absolute_url": "https://boards.greenhouse.io/vaulttec/jobs/127817",
            "content": "&lt;p&gt;Design &amp;amp; build vaults&lt;/p&gt;",
            "departments": [{"id": 1, "name": "Design"}], "offices": [{"id": 2, "name": "New York"}],
            "metadata": [{"id": 3, "name": "Employment Type", "value": "Full-time"}]
        });
        let p = posting(&job);
        assert_eq!(p.key, "127817");
        assert_eq!(
            p.description.as_deref(),
            Some("<p>Design &amp; build vaults</p>")
        );
        assert_eq!(p.published.as_deref(), Some("2016-01-10T09:00:00-05:00"));
        assert_eq!(p.department.as_deref(), Some("Design"));
        assert_eq!(p.extra["offices"], "New York");
        assert_eq!(p.extra["metadata_Employment Type"], "Full-time");
    }
}

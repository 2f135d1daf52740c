//! Workday career sites (`cxs` JSON): `POST https://{tenant}.wd{N}.myworkdayjobs.com/wday/cxs/
//! {tenant}/{site}/jobs` with `{"appliedFacets":{},"limit":20,"offset":0,"searchText":""}`.
//!
//! - pages of 20 (a larger limit fails); `total` is only on the first page of a query;
//! - one query returns at most 2,000 postings, so a larger board is split by a facet (the first
//!   page's `facets`, e.g. locations or job families) into queries under the cap, up to two
//!   levels; what still does not fit makes the run `partial`;
//! - the list's `postedOn` is relative ("Posted 3 Days Ago"), so each posting's detail call
//!   (`GET .../{site}{externalPath}`) gives the absolute `startDate` and the description; when a
//!   detail call fails the relative date is resolved against the day of the list response.
//!
//! `board` is `tenant.wdN/site` (e.g. `acme.wd5/External`); `url` may be the `.../jobs`
//! endpoint or the career site's page (`https://acme.wd5.myworkdayjobs.com/en-US/External`).

use super::{json_bodies, Session};
use crate::fetch::Request;
use crate::posting::{join_texts, text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

pub const PAGE: u64 = 20;
/// Postings one query can return.
pub const QUERY_CAP: u64 = 2_000;
/// Facet split levels.
pub const MAX_SPLIT_DEPTH: usize = 2;

/// The `.../jobs` endpoint for a company, or why it cannot be derived.
pub fn jobs_endpoint(board: &str, url: Option<&str>) -> Result<String, String> {
    if let Some(u) = url {
        let parsed = url::Url::parse(u).map_err(|e| format!("{u}: {e}"))?;
        let path = parsed.path().trim_end_matches('/');
        if path.contains("/wday/cxs/") {
            let p = if path.ends_with("/jobs") {
                path.to_string()
            } else {
                format!("{path}/jobs")
            };
            let mut out = parsed.clone();
            out.set_path(&p);
            out.set_query(None);
            return Ok(out.to_string());
        }
        let host = parsed.host_str().unwrap_or("");
        let tenant = host.split('.').next().unwrap_or("");
        let site = path.rsplit('/').next().unwrap_or("");
        if tenant.is_empty() || site.is_empty() {
            return Err(format!("{u}: not a Workday career site URL"));
        }
        let mut out = parsed.clone();
        out.set_path(&format!("/wday/cxs/{tenant}/{site}/jobs"));
        out.set_query(None);
        return Ok(out.to_string());
    }
    let (host_part, site) = board.split_once('/').ok_or_else(|| {
        format!("workday board {board:?} must be tenant.wdN/site, e.g. acme.wd5/External")
    })?;
    let tenant = host_part.split('.').next().unwrap_or("");
    let host = if host_part.contains("myworkdayjobs") {
        host_part.to_string()
    } else {
        format!("{host_part}.myworkdayjobs.com")
    };
    Ok(super::api_url(
        &format!("https://{host}/wday/cxs"),
        &[tenant, site, "jobs"],
    ))
}

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let endpoint = match jobs_endpoint(&s.company.board, s.company.url.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            s.error(e);
            return Status::Failed;
        }
    };
    let mut paths = Vec::new();
    let mut seen = HashSet::new();
    let mut status = query(s, &endpoint, Map::new(), 0, &mut paths, &mut seen).await;
    if status == Status::Failed {
        return status;
    }
    let base = endpoint.trim_end_matches("/jobs").to_string();
    for p in paths {
        if let Err(e) = s.send("detail", Request::get(format!("{base}{p}"))).await {
            s.error(format!(
                "detail call failed, posted date from the list: {e}"
            ));
            status = Status::Partial;
        }
    }
    status
}

/// Page through one query (facets applied); split it when its total passes the cap.
fn query<'s, 'a: 's>(
    s: &'s mut Session<'a>,
    endpoint: &'s str,
    facets: Map<String, Value>,
    depth: usize,
    paths: &'s mut Vec<String>,
    seen: &'s mut HashSet<String>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Status> + Send + 's>> {
    Box::pin(async move {
        let mut offset = 0u64;
        // None: the first page gave no total, so pages are read until a short one
        let mut total: Option<u64> = None;
        // this query's own postings: a page of none new ends it (a server ignoring `offset`)
        let mut mine = HashSet::new();
        loop {
            let body =
                json!({"appliedFacets": facets, "limit": PAGE, "offset": offset, "searchText": ""});
            let v = match s
                .json("list", Request::post_json(endpoint, body.to_string()))
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    s.error(e);
                    return Status::broken_off(offset == 0 && depth == 0);
                }
            };
            let Some(items) = v.get("jobPostings").and_then(Value::as_array) else {
                s.error(format!(
                    "{endpoint}: no \"jobPostings\" array in the response"
                ));
                return Status::broken_off(offset == 0 && depth == 0);
            };
            if offset == 0 {
                total = v.get("total").and_then(Value::as_u64);
                let t = total.unwrap_or(0);
                if t > QUERY_CAP {
                    if depth < MAX_SPLIT_DEPTH {
                        if let Some((param, ids)) = split_facet(&v, &facets, t) {
                            let mut worst = Status::Ok;
                            for id in ids {
                                let mut sub = facets.clone();
                                sub.insert(param.clone(), json!([id]));
                                let st = query(s, endpoint, sub, depth + 1, paths, seen).await;
                                worst = worst.max(st.min(Status::Partial));
                            }
                            return worst;
                        }
                    }
                    s.error(format!(
                        "{endpoint}: {t} postings in one query and no facet splits them under {QUERY_CAP}; the first {QUERY_CAP} only"
                    ));
                }
            }
            let mut fresh = 0;
            for it in items {
                if let Some(p) = text_at(it, &["externalPath"]) {
                    if mine.insert(p.clone()) {
                        fresh += 1;
                    }
                    if seen.insert(p.clone()) {
                        paths.push(p);
                    }
                }
            }
            offset += PAGE;
            let end = match total {
                Some(t) => offset >= t.min(QUERY_CAP),
                None => (items.len() as u64) < PAGE || offset >= QUERY_CAP,
            };
            if items.is_empty() || fresh == 0 || end {
                return if total.unwrap_or(0) > QUERY_CAP {
                    Status::Partial
                } else {
                    Status::Ok
                };
            }
        }
    })
}

/// The facet to split an over-cap query by: one not yet applied whose values each fit under the
/// cap (else the one with the smallest largest value), with its value ids.
fn split_facet(
    first_page: &Value,
    applied: &Map<String, Value>,
    total: u64,
) -> Option<(String, Vec<String>)> {
    let mut best: Option<(u64, String, Vec<String>)> = None;
    let mut consider = |f: &Value| {
        let Some(param) = text_at(f, &["facetParameter"]) else {
            return;
        };
        if applied.contains_key(&param) {
            return;
        }
        let values: Vec<(String, u64)> = f
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| {
                Some((
                    text_at(v, &["id"])?,
                    v.get("count").and_then(Value::as_u64)?,
                ))
            })
            .collect();
        let sum: u64 = values.iter().map(|(_, c)| c).sum();
        if values.len() < 2 || sum < total {
            return; // a facet that does not cover every posting would lose some
        }
        let largest = values.iter().map(|(_, c)| *c).max().unwrap_or(u64::MAX);
        if best.as_ref().is_none_or(|(b, _, _)| largest < *b) {
            best = Some((
                largest,
                param,
                values.into_iter().map(|(id, _)| id).collect(),
            ));
        }
    };
    for f in first_page
        .get("facets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        consider(f);
        // grouped facets nest their facets in `values`
        for inner in f
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if inner.get("facetParameter").is_some() {
                consider(inner);
            }
        }
    }
    best.map(|(_, p, ids)| (p, ids))
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    let details: HashMap<String, Value> = json_bodies(responses, "detail", errors)
        .into_iter()
        .map(|(r, v)| (r.url.clone(), v))
        .collect();
    let mut out = Vec::new();
    // a posting is on the first page of a query that was then split by facet, and again in
    // one of the split queries: keep it once
    let mut seen = HashSet::new();
    for (r, v) in json_bodies(responses, "list", errors) {
        let base = r.url.trim_end_matches("/jobs");
        let day = r
            .fetched_utc
            .get(..10)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        for it in v
            .get("jobPostings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let path = text_at(it, &["externalPath"]).unwrap_or_default();
            if !path.is_empty() && !seen.insert(path.clone()) {
                continue;
            }
            let detail = details.get(&format!("{base}{path}"));
            out.push(posting(it, detail, day));
        }
    }
    out
}

/// "Posted Today" / "Posted Yesterday" / "Posted 3 Days Ago" / "Posted 30+ Days Ago" → a date.
pub fn resolve_posted_on(text: &str, day: chrono::NaiveDate) -> Option<(chrono::NaiveDate, bool)> {
    let t = text.to_ascii_lowercase();
    if t.contains("today") {
        return Some((day, true));
    }
    if t.contains("yesterday") {
        return Some((day - chrono::Duration::days(1), true));
    }
    let n: String = t
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    let n: i64 = n.parse().ok()?;
    Some((day - chrono::Duration::days(n), !t.contains('+')))
}

fn posting(it: &Value, detail: Option<&Value>, day: Option<chrono::NaiveDate>) -> CollectedPosting {
    let info = detail.and_then(|d| d.get("jobPostingInfo"));
    let from = |path: &[&str]| info.and_then(|i| text_at(i, path));
    let path = text_at(it, &["externalPath"]).unwrap_or_default();
    let mut extra = std::collections::BTreeMap::new();
    let posted_on = text_at(it, &["postedOn"]).or_else(|| from(&["postedOn"]));
    if let Some(p) = &posted_on {
        extra.insert("posted_on".to_string(), p.clone());
    }
    let published = from(&["startDate"]).or_else(|| {
        let (d, exact) = resolve_posted_on(posted_on.as_deref()?, day?)?;
        extra.insert(
            "posted_date_from".into(),
            if exact {
                "relative postedOn"
            } else {
                "relative postedOn, at most this date"
            }
            .into(),
        );
        Some(d.to_string())
    });
    if let Some(v) = info.and_then(|i| join_texts(i.get("additionalLocations"), "descriptor")) {
        extra.insert("additional_locations".into(), v);
    }
    if let Some(v) = detail.and_then(|d| text_at(d, &["hiringOrganization", "name"])) {
        extra.insert("hiring_organization".into(), v);
    }
    CollectedPosting {
        key: path.clone(),
        title: from(&["title"]).or_else(|| text_at(it, &["title"])),
        description: from(&["jobDescription"]),
        location: from(&["location"]).or_else(|| text_at(it, &["locationsText"])),
        country: from(&["country", "descriptor"]),
        employment_type: from(&["timeType"]),
        workplace: from(&["remoteType"]),
        requisition_id: from(&["jobReqId"]).or_else(|| join_texts(it.get("bulletFields"), "")),
        published,
        url: from(&["externalUrl"]),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_board_or_url() {
        assert_eq!(
            jobs_endpoint("acme.wd5/External", None).unwrap(),
            "https://acme.wd5.myworkdayjobs.com/wday/cxs/acme/External/jobs"
        );
        assert_eq!(
            jobs_endpoint(
                "",
                Some("https://acme.wd5.myworkdayjobs.com/en-US/External")
            )
            .unwrap(),
            "https://acme.wd5.myworkdayjobs.com/wday/cxs/acme/External/jobs"
        );
        assert_eq!(
            jobs_endpoint("", Some("http://127.0.0.1:9/wday/cxs/acme/Ext")).unwrap(),
            "http://127.0.0.1:9/wday/cxs/acme/Ext/jobs"
        );
        assert!(jobs_endpoint("acme", None).is_err());
    }

    #[test]
    fn relative_posted_on() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 3, 10).unwrap();
        assert_eq!(resolve_posted_on("Posted Today", d), Some((d, true)));
        assert_eq!(
            resolve_posted_on("Posted Yesterday", d)
                .unwrap()
                .0
                .to_string(),
            "2024-03-09"
        );
        assert_eq!(
            resolve_posted_on("Posted 3 Days Ago", d)
                .unwrap()
                .0
                .to_string(),
            "2024-03-07"
        );
        assert_eq!(
            resolve_posted_on("Posted 30+ Days Ago", d),
            Some((d - chrono::Duration::days(30), false))
        );
    }

    #[test]
    fn split_picks_a_covering_facet_under_the_cap() {
        let page = serde_json::json!({"total": 3000, "facets": [
            {"facetParameter": "timeType", "values": [{"id": "ft", "count": 2900}, {"id": "pt", "count": 100}]},
            {"facetParameter": "locations", "values": [{"id": "a", "count": 1500}, {"id": "b", "count": 1500}]},
            {"facetParameter": "jobFamily", "values": [{"id": "x", "count": 10}, {"id": "y", "count": 20}]}
        ]});
        let (p, ids) = split_facet(&page, &Map::new(), 3000).unwrap();
        assert_eq!(p, "locations");
        assert_eq!(ids, ["a", "b"]);
    }
}

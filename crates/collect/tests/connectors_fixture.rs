//! Ashby, SmartRecruiters, Workable, Recruitee and Workday against fixture servers shaped like
//! their public API documentation.

mod common;

use common::*;
use jobshift_collect::{collect, Status};
use serde_json::json;

fn one(ats: &str, url: &str) -> jobshift_collect::CompanyReport {
    let ds = tempfile::tempdir().unwrap();
    let r = collect(
        &companies(&[("Co", ats, "co", url)]),
        ds.path(),
        &fast_options(true),
    )
    .unwrap();
    assert!(r.accounting_holds());
    r.companies.into_iter().next().unwrap()
}

#[test]
fn ashby_job_board_with_compensation() {
    let srv = serve(|req| {
        assert_eq!(req.q("includeCompensation"), Some("true"));
        Resp::json(&json!({"apiVersion": "1", "jobs": [
            {"id": "a", "title": "Engineer", "location": "Remote", "isListed": true, "publishedAt": "2026-11-01T10:00:00.000+00:00",
             "descriptionHtml": "<p>Code</p>", "jobUrl": "https://jobs.ashbyhq.com/co/a",
             "compensation": {"summaryComponents": [{"compensationType": "Salary", "interval": "1 YEAR", "currencyCode": "USD", "minValue": 1, "maxValue": 2}]}},
            {"id": "b", "title": "Designer", "location": "Berlin", "isListed": true, "publishedAt": "2026-11-02T10:00:00.000+00:00", "descriptionPlain": "Draw", "jobUrl": "https://jobs.ashbyhq.com/co/b"},
            {"id": "c", "title": "Secret", "isListed": false}
        ]}))
    });
    let c = one("ashby", &srv.url("/posting-api/job-board/co"));
    assert_eq!(
        (c.status, c.postings.fetched, c.postings.new),
        (Status::Ok, 2, 2)
    );
}

#[test]
fn smartrecruiters_pages_by_offset_and_calls_details() {
    let srv = serve(|req| {
        let p = req.path.as_str();
        if let Some(id) = p.strip_prefix("/v1/companies/co/postings/") {
            if id == "5" {
                return Resp::status(500, "detail broken");
            }
            return Resp::json(
                &json!({"id": id, "postingUrl": format!("https://jobs.smartrecruiters.com/co/{id}"),
                "jobAd": {"sections": {"jobDescription": {"title": "Job", "text": format!("<p>Job ad {id}</p>")}}}}),
            );
        }
        let (offset, limit) = (req.q_num("offset", 0), req.q_num("limit", 10));
        assert!(limit <= 100);
        let content: Vec<_> = (offset..(offset + limit).min(230))
            .map(|i| json!({"id": i.to_string(), "name": format!("Clerk {}", i % 9), "releasedDate": "2026-11-01T00:00:00.000Z",
                            "location": {"city": "Madrid", "country": "es"}, "experienceLevel": {"label": "Entry Level"}}))
            .collect();
        Resp::json(
            &json!({"offset": offset, "limit": limit, "totalFound": 230, "content": content}),
        )
    });
    let c = one("smartrecruiters", &srv.url("/v1/companies/co/postings"));
    // one detail call failed: the posting is kept without its job ad, and the run is partial
    assert_eq!((c.status, c.postings.fetched), (Status::Partial, 230));
    assert_eq!(
        srv.hits()
            .iter()
            .filter(|h| h.query.contains_key("offset"))
            .count(),
        3
    );
    assert_eq!(srv.hits_on("/v1/companies/co/postings/7"), 1);
    assert!(
        c.errors.iter().any(|e| e.contains("postings/5")),
        "{:?}",
        c.errors
    );
}

#[test]
fn workable_widget_and_recruitee_offers() {
    let srv = serve(|req| match req.path.as_str() {
        "/api/v1/widget/accounts/co" => {
            assert_eq!(req.q("details"), Some("true"));
            Resp::json(&json!({"name": "Co", "jobs": [
                {"title": "Cook", "shortcode": "S1", "published_on": "2026-11-01", "city": "Athens", "country": "Greece", "description": "<p>Cook</p>", "url": "https://apply.workable.com/j/S1"},
                {"title": "Waiter", "shortcode": "S2", "published_on": "2026-11-02", "telecommuting": true, "description": "<p>Serve</p>", "url": "https://apply.workable.com/j/S2"}
            ]}))
        }
        "/api/offers/" => Resp::json(&json!({"offers": [
            {"id": 1, "title": "Driver", "status": "published", "published_at": "2026-11-03 08:00:00 UTC", "location": "Utrecht", "country_code": "NL", "description": "<p>Drive</p>", "careers_url": "https://co.recruitee.com/o/driver"},
            {"id": 2, "title": "Draft", "status": "draft"}
        ]})),
        _ => Resp::not_found(),
    });
    let c = one("workable", &srv.url("/api/v1/widget/accounts/co"));
    assert_eq!(
        (c.status, c.postings.fetched, c.postings.new),
        (Status::Ok, 2, 2)
    );
    let c = one("recruitee", &srv.url("/api/offers/"));
    assert_eq!(
        (
            c.status,
            c.postings.fetched,
            c.postings.new,
            c.postings.rejected
        ),
        (Status::Ok, 1, 1, 0)
    );
}

/// A Workday tenant with `n` postings in two locations; `total` only on first pages.
fn workday_server(n: usize) -> Server {
    serve(move |req| {
        let base = "/wday/cxs/co/Ext";
        if req.method == "GET" {
            let path = req.path.strip_prefix(base).unwrap_or("");
            let id = path.rsplit('_').next().unwrap_or("");
            return Resp::json(
                &json!({"jobPostingInfo": {"id": id, "title": format!("Analyst {id}"), "jobDescription": format!("<p>Analyse {id}</p>"),
                "location": "Leeds", "startDate": "2026-10-15", "jobReqId": id, "timeType": "Full time", "country": {"descriptor": "United Kingdom"},
                "externalUrl": format!("https://co.wd3.myworkdayjobs.com/Ext{path}")}}),
            );
        }
        assert_eq!(req.path, format!("{base}/jobs"));
        let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
        let limit = body["limit"].as_u64().unwrap() as usize;
        if limit > 20 {
            return Resp::status(400, "limit");
        }
        let offset = body["offset"].as_u64().unwrap() as usize;
        let loc = body["appliedFacets"]["locations"][0]
            .as_str()
            .map(str::to_string);
        let all: Vec<usize> = (0..n)
            .filter(|i| match loc.as_deref() {
                Some("north") => i % 2 == 0,
                Some("south") => i % 2 == 1,
                _ => true,
            })
            .collect();
        // a query never returns more than 2,000 postings
        let page: Vec<_> = all.iter().skip(offset).take(limit).filter(|_| offset < 2000)
            .map(|i| json!({"title": format!("Analyst {i}"), "externalPath": format!("/job/Leeds/Analyst_R{i}"), "locationsText": "Leeds", "postedOn": "Posted 3 Days Ago", "bulletFields": [format!("R{i}")]}))
            .collect();
        let total = if offset == 0 { all.len() } else { 0 };
        Resp::json(&json!({"total": total, "jobPostings": page, "facets": [
            {"facetParameter": "locations", "descriptor": "Locations", "values": [
                {"descriptor": "North", "id": "north", "count": n.div_ceil(2)}, {"descriptor": "South", "id": "south", "count": n / 2}]}]}))
    })
}

#[test]
fn workday_pages_by_20_with_details() {
    let srv = workday_server(45);
    let c = one("workday", &srv.url("/wday/cxs/co/Ext/jobs"));
    assert_eq!(
        (c.status, c.postings.fetched, c.postings.new),
        (Status::Ok, 45, 45)
    );
    assert_eq!(srv.hits().iter().filter(|h| h.method == "POST").count(), 3);
    assert_eq!(srv.hits().iter().filter(|h| h.method == "GET").count(), 45);
}

#[test]
fn workday_splits_a_query_over_the_cap_by_facet() {
    let srv = workday_server(2_100);
    let ds = tempfile::tempdir().unwrap();
    let mut opts = fast_options(true);
    opts.fetch.concurrency = 8;
    let r = collect(
        &companies(&[("Co", "workday", "", &srv.url("/wday/cxs/co/Ext"))]),
        ds.path(),
        &opts,
    )
    .unwrap();
    let c = &r.companies[0];
    assert_eq!(
        (c.status, c.postings.fetched),
        (Status::Ok, 2_100),
        "{:?}",
        c.errors
    );
    let facets: std::collections::BTreeSet<String> = srv
        .hits()
        .iter()
        .filter(|h| h.method == "POST")
        .map(|h| {
            serde_json::from_str::<serde_json::Value>(&h.body).unwrap()["appliedFacets"].to_string()
        })
        .collect();
    assert_eq!(facets.len(), 3, "{facets:?}");
}

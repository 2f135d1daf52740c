//! Collect against an in-process fixture server that answers like the real ATS APIs (from their
//! public documentation): paging, 429 + Retry-After, 500s, slow responses and timeouts,
//! malformed JSON, oversized bodies, gzip, redirects to private addresses, robots.txt, JSON-LD
//! arrays and @graph, sitemaps; and the incremental history across runs.

mod common;

use common::*;
use jobshift_collect::{collect, CollectReport, Status};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn company<'r>(r: &'r CollectReport, name: &str) -> &'r jobshift_collect::CompanyReport {
    r.companies.iter().find(|c| c.name == name).unwrap()
}

/// `name` failed after `requests` requests, its first error saying `why`.
fn assert_failed(r: &CollectReport, name: &str, requests: u64, why: &str) {
    let c = company(r, name);
    assert_eq!((c.status, c.requests), (Status::Failed, requests), "{name}");
    assert!(c.errors[0].contains(why), "{name}: {:?}", c.errors);
}

/// Greenhouse boards, one per path of `srv`, each named by its path.
fn greenhouse_rows(
    srv: &Server,
    paths: &[&str],
) -> Vec<(String, &'static str, &'static str, String)> {
    paths
        .iter()
        .map(|p| (p.to_string(), "greenhouse", "x", srv.url(&format!("/{p}"))))
        .collect()
}

fn run<N: AsRef<str>, U: AsRef<str>>(
    rows: &[(N, &str, &str, U)],
    ds: &std::path::Path,
    opts: &jobshift_collect::CollectOptions,
) -> CollectReport {
    let r = collect(&companies(rows), ds, opts).unwrap();
    assert!(r.accounting_holds(), "{r:#?}");
    let on_disk: CollectReport =
        serde_json::from_slice(&std::fs::read(ds.join("collect-report.json")).unwrap()).unwrap();
    assert_eq!(on_disk.run_id, r.run_id);
    r
}

#[test]
fn loopback_is_refused_without_the_flag_and_nothing_is_fetched() {
    let srv = serve(|_| Resp::json(&greenhouse_jobs(1..4)));
    let ds = tempfile::tempdir().unwrap();
    let url = srv.url("/v1/boards/acme/jobs");
    let r = run(
        &[("Acme", "greenhouse", "acme", &url)],
        ds.path(),
        &fast_options(false),
    );
    let c = company(&r, "Acme");
    assert_eq!(c.status, Status::Failed);
    assert_eq!((c.postings.fetched, c.requests), (0, 0));
    assert!(
        c.errors[0].contains("loopback") && c.errors[0].contains("--allow-private-network"),
        "{:?}",
        c.errors
    );
    assert_eq!(srv.hits().len(), 0);
    // with the flag the same board is read
    let r = run(
        &[("Acme", "greenhouse", "acme", &url)],
        ds.path(),
        &fast_options(true),
    );
    let c = company(&r, "Acme");
    assert_eq!(
        (c.status, c.postings.fetched, c.postings.new),
        (Status::Ok, 3, 3)
    );
    assert_eq!(srv.hits()[0].q("content"), Some("true"));
    let ua = &srv.hits()[0].headers["user-agent"];
    assert!(ua.starts_with("jobshift/"), "{ua}");
    let stats = jobshift_ingest::dataset_stats(ds.path()).unwrap();
    assert_eq!(stats.postings, 3);
    assert!(ds.path().join(c.snapshot.as_ref().unwrap()).exists());
}

#[test]
fn second_run_counts_exactly_the_new_and_closed_and_a_failed_board_closes_nothing() {
    let ids = Arc::new(Mutex::new((1u64..=10).collect::<Vec<_>>()));
    let down = Arc::new(AtomicUsize::new(0));
    let (ids2, down2) = (ids.clone(), down.clone());
    let srv = serve(move |req| {
        if req.path.starts_with("/gh/") {
            if down2.load(Ordering::SeqCst) == 1 {
                return Resp::status(503, "maintenance");
            }
            return Resp::json(&greenhouse_jobs(ids2.lock().unwrap().clone()));
        }
        // a Lever board that stays the same
        let skip = req.q_num("skip", 0);
        let items: Vec<_> = (skip..(skip + req.q_num("limit", 100)).min(3))
            .map(|i| json!({"id": format!("l{i}"), "text": "Barista", "categories": {"location": "Paris, France", "commitment": "Part-time"},
                            "createdAt": 1764000000000u64 + i as u64, "descriptionPlain": format!("Coffee {i}"), "hostedUrl": format!("https://jobs.lever.co/b/l{i}")}))
            .collect();
        Resp::json(&json!(items))
    });
    let ds = tempfile::tempdir().unwrap();
    let rows = [
        ("Acme", "greenhouse", "acme", srv.url("/gh/acme/jobs")),
        ("Brew", "lever", "brew", srv.url("/lever/brew")),
    ];
    let opts = fast_options(true);
    let r1 = run(&rows, ds.path(), &opts);
    assert_eq!(
        (r1.postings.fetched, r1.postings.new, r1.postings.closed),
        (13, 13, 0)
    );
    // 3 removed (1, 2, 3), 4 added (11..=14)
    *ids.lock().unwrap() = (4u64..=14).collect();
    let r2 = run(&rows, ds.path(), &opts);
    let a = company(&r2, "Acme");
    assert_eq!(
        (
            a.status,
            a.postings.fetched,
            a.postings.new,
            a.postings.closed,
            a.postings.unchanged,
            a.open
        ),
        (Status::Ok, 11, 4, 3, 7, 11)
    );
    let b = company(&r2, "Brew");
    assert_eq!(
        (
            b.postings.fetched,
            b.postings.new,
            b.postings.closed,
            b.postings.unchanged
        ),
        (3, 0, 0, 3)
    );
    assert_eq!((r2.postings.new, r2.postings.closed), (4, 3));
    let stats = jobshift_ingest::dataset_stats(ds.path()).unwrap();
    assert_eq!(
        stats.postings, 17,
        "13 + 4 new; closed postings stay in the dataset"
    );
    // the board is down: failed, nothing closed
    down.store(1, Ordering::SeqCst);
    let r3 = run(&rows, ds.path(), &opts);
    let a = company(&r3, "Acme");
    assert_eq!(
        (a.status, a.postings.fetched, a.postings.closed, a.open),
        (Status::Failed, 0, 0, 11)
    );
    assert!(
        a.errors[0].contains("HTTP 503 after 5 tries"),
        "{:?}",
        a.errors
    );
    assert_eq!(a.requests, 5);
    let health = jobshift_collect::status(ds.path()).unwrap();
    let h = health.iter().find(|h| h.name == "Acme").unwrap();
    assert_eq!(
        (h.consecutive_failures, h.open_postings, h.closed_postings),
        (1, 11, 3)
    );
    assert_eq!(h.postings_per_run, [10, 11, 0]);
    // back up with one posting gone: closed with today's date, reappearing later reopens it
    down.store(0, Ordering::SeqCst);
    *ids.lock().unwrap() = (5u64..=14).collect();
    let r4 = run(&rows, ds.path(), &opts);
    assert_eq!(company(&r4, "Acme").postings.closed, 1);
    *ids.lock().unwrap() = (4u64..=14).collect();
    let r5 = run(&rows, ds.path(), &opts);
    let a = company(&r5, "Acme");
    assert_eq!(
        (a.postings.reopened, a.postings.new, a.postings.closed),
        (1, 0, 0)
    );
}

#[test]
fn lever_pages_until_a_short_page() {
    let srv = serve(|req| {
        let (skip, limit) = (req.q_num("skip", 0), req.q_num("limit", 100));
        let items: Vec<_> = (skip..(skip + limit).min(250))
            .map(|i| json!({"id": format!("p{i}"), "text": format!("Cashier {}", i % 7), "categories": {"location": "Austin, TX"},
                            "createdAt": 1764000000000u64, "descriptionPlain": format!("Shift {i} at store {}", i * 31 % 97), "hostedUrl": format!("https://jobs.lever.co/x/p{i}")}))
            .collect();
        Resp::json(&json!(items))
    });
    let ds = tempfile::tempdir().unwrap();
    let r = run(
        &[("Shop", "lever", "shop", &srv.url("/v0/postings/shop"))],
        ds.path(),
        &fast_options(true),
    );
    let c = company(&r, "Shop");
    assert_eq!(
        (c.status, c.postings.fetched, c.requests),
        (Status::Ok, 250, 3)
    );
    let skips: Vec<_> = srv.hits().iter().map(|h| h.q_num("skip", 9)).collect();
    assert_eq!(skips, [0, 100, 200]);
    assert!(srv.hits().iter().all(|h| h.q("mode") == Some("json")));
}

#[test]
fn retries_honour_retry_after_and_give_up_after_five_tries() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let srv = serve(move |req| match req.path.as_str() {
        "/busy" => {
            if n2.fetch_add(1, Ordering::SeqCst) == 0 {
                Resp::status(429, "slow down").header("retry-after", "1")
            } else {
                Resp::json(&greenhouse_jobs(1..3))
            }
        }
        "/broken" => Resp::status(500, "oops"),
        "/slow" => Resp::json(&greenhouse_jobs(1..3)).delay(Duration::from_secs(3)),
        "/malformed" => {
            Resp::status(200, "{\"jobs\": [ {\"id\": 1,").header("content-type", "application/json")
        }
        "/huge" => Resp::json(&json!({"jobs": [], "pad": "x".repeat(300_000)})),
        "/gzip" => Resp::json(&greenhouse_jobs(1..6)).gzipped(),
        "/bomb" => {
            Resp::status(200, gzip(&vec![b' '; 20_000_000])).header("content-encoding", "gzip")
        }
        _ => Resp::not_found(),
    });
    let ds = tempfile::tempdir().unwrap();
    let mut opts = fast_options(true);
    opts.fetch.timeout = Duration::from_millis(500);
    opts.fetch.max_body_bytes = 200_000;
    let rows = greenhouse_rows(
        &srv,
        &[
            "busy",
            "broken",
            "slow",
            "malformed",
            "huge",
            "gzip",
            "bomb",
            "missing",
        ],
    );
    let t0 = std::time::Instant::now();
    let r = run(&rows, ds.path(), &opts);
    let c = company(&r, "busy");
    assert_eq!(
        (c.status, c.postings.fetched, c.requests),
        (Status::Ok, 2, 2)
    );
    assert!(
        t0.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert_failed(&r, "broken", 5, "HTTP 500 after 5 tries");
    assert_failed(&r, "slow", 5, "timed out after 5 tries");
    assert_failed(&r, "malformed", 1, "malformed JSON");
    assert_failed(&r, "huge", 1, "over the 200000-byte limit");
    let c = company(&r, "gzip");
    assert_eq!((c.status, c.postings.fetched), (Status::Ok, 5));
    assert_failed(&r, "bomb", 1, "once decompressed");
    // 404 is not retried
    assert_failed(&r, "missing", 1, "HTTP 404");
    assert_eq!(r.postings.fetched, 7);
    assert_eq!(r.failed, 6);
}

#[test]
fn redirects_to_private_addresses_are_refused_at_the_hop() {
    let srv = serve(|req| match req.path.as_str() {
        "/to-metadata" => {
            Resp::status(302, "").header("location", "http://169.254.169.254/latest/meta-data/")
        }
        "/to-intranet" => Resp::status(301, "").header("location", "http://10.0.0.7/jobs"),
        "/to-ftp" => Resp::status(302, "").header("location", "ftp://example.com/jobs"),
        "/loop" => Resp::status(302, "").header("location", "/loop"),
        "/ok" => Resp::status(307, "").header("location", "/final"),
        "/final" => Resp::json(&greenhouse_jobs(1..2)),
        _ => Resp::not_found(),
    });
    let ds = tempfile::tempdir().unwrap();
    let mut opts = fast_options(false);
    opts.fetch.allow_hosts = vec![srv.host()];
    let rows = greenhouse_rows(
        &srv,
        &["to-metadata", "to-intranet", "to-ftp", "loop", "ok"],
    );
    let r = run(&rows, ds.path(), &opts);
    for (name, reason) in [
        ("to-metadata", "cloud metadata"),
        ("to-intranet", "private-network"),
        ("to-ftp", "only http and https"),
        ("loop", "more than 5 redirects"),
    ] {
        let c = company(&r, name);
        assert_eq!((c.status, c.postings.fetched), (Status::Failed, 0));
        assert!(c.errors[0].contains(reason), "{name}: {:?}", c.errors);
    }
    assert_eq!(srv.hits_on("/loop"), 6);
    assert_eq!(company(&r, "ok").postings.fetched, 1);
}

fn job_page(title: &str, id: &str) -> String {
    format!(
        r#"<html><head><script type="application/ld+json">{{"@context":"https://schema.org","@type":"JobPosting","title":"{title}",
        "description":"<p>{title} wanted</p>","datePosted":"2026-11-01","identifier":{{"@type":"PropertyValue","value":"{id}"}},
        "occupationalCategory":"29-1141.00","jobLocation":{{"@type":"Place","address":{{"addressLocality":"Leeds","addressCountry":"GB"}}}}}}</script></head></html>"#
    )
}

#[test]
fn jsonld_sitemaps_nested_gzip_graphs_arrays_and_robots() {
    let srv = serve(|req| {
        match req.path.as_str() {
        "/robots.txt" => Resp::status(200, "User-agent: *\nDisallow: /private/\nCrawl-delay: 0\n"),
        "/sitemap_index.xml" => Resp::status(200, r#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/jobs.xml.gz</loc></sitemap></sitemapindex>"#),
        "/jobs.xml.gz" => Resp::status(200, gzip(br#"<urlset><url><loc>/jobs/1</loc></url><url><loc>/jobs/graph</loc></url><url><loc>/private/secret</loc></url><url><loc>https://elsewhere.example/jobs/9</loc></url></urlset>"#)).header("content-type", "application/x-gzip"),
        "/jobs/1" => Resp::html(&job_page("Nurse", "N1")),
        "/jobs/graph" => Resp::html(r#"<script type="application/ld+json">{"@graph":[{"@type":"WebSite"},{"@type":"JobPosting","title":"Welder","datePosted":"2026-11-03","identifier":"W1"},{"@type":"JobPosting","title":"Baker","datePosted":"2026-11-04","identifier":"B1"}]}</script>
                                       <script type="application/ld+json">[{"@type":"JobPosting","title":"Porter","datePosted":"2026-11-05","identifier":"P1"}]</script>"#),
        "/careers/" => Resp::html(r#"<a href="/careers/a">A</a><a href="/about">About</a>"#),
        "/careers/a" => Resp::html(&job_page("Chef", "C1")),
        _ => Resp::not_found(),
    }
    });
    let blocked = serve(|req| match req.path.as_str() {
        "/robots.txt" => Resp::status(200, "User-agent: jobshift\nDisallow: /\n"),
        _ => Resp::html(&job_page("Nurse", "N1")),
    });
    let ds = tempfile::tempdir().unwrap();
    let rows = [
        ("Site", "jsonld", "", srv.url("/sitemap_index.xml")),
        ("Page", "jsonld", "", srv.url("/careers/")),
        ("Blocked", "jsonld", "", blocked.url("/careers/")),
    ];
    let r = run(&rows, ds.path(), &fast_options(true));
    let s = company(&r, "Site");
    assert_eq!(
        (s.status, s.postings.fetched),
        (Status::Ok, 4),
        "{:?}",
        s.errors
    );
    assert!(
        s.errors
            .iter()
            .any(|e| e.contains("/private/secret") && e.contains("robots.txt")),
        "{:?}",
        s.errors
    );
    assert_eq!(srv.hits_on("/private/secret"), 0);
    let p = company(&r, "Page");
    assert_eq!((p.status, p.postings.fetched), (Status::Ok, 1));
    assert_eq!(srv.hits_on("/about"), 0);
    let b = company(&r, "Blocked");
    assert_eq!(
        (b.status, b.postings.fetched, b.requests),
        (Status::Failed, 0, 1)
    );
    assert!(
        b.errors[0].contains("robots.txt disallows"),
        "{:?}",
        b.errors
    );
    assert_eq!(blocked.hits().len(), 1);
    // occupationalCategory is kept as a SOC hint in the dataset's extra
    let rec = std::fs::read_to_string(
        ds.path()
            .join(format!("collect/runs/{}/feed/site.jsonl", r.run_id)),
    )
    .unwrap();
    assert!(
        rec.contains("\"occupational_category\":\"29-1141.00\""),
        "{rec}"
    );
}

#[test]
fn conditional_requests_reuse_the_previous_body_and_reparse_needs_no_fetch() {
    let srv = serve(|req| {
        if req.headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
            return Resp::status(304, "");
        }
        Resp::json(&greenhouse_jobs(1..6)).header("etag", "\"v1\"")
    });
    let ds = tempfile::tempdir().unwrap();
    let rows = [("Acme", "greenhouse", "acme", srv.url("/jobs"))];
    let opts = fast_options(true);
    run(&rows, ds.path(), &opts);
    let r2 = run(&rows, ds.path(), &opts);
    let c = company(&r2, "Acme");
    assert_eq!(
        (
            c.status,
            c.postings.fetched,
            c.postings.unchanged,
            c.postings.closed
        ),
        (Status::Ok, 5, 5, 0)
    );
    assert_eq!(
        srv.hits()[1]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v1\"")
    );
    let before = srv.hits().len();
    let rp = jobshift_collect::reparse(ds.path(), None, &[], false).unwrap();
    assert_eq!(srv.hits().len(), before, "reparse fetched");
    assert_eq!(rp.reparse_of.as_deref(), Some(r2.run_id.as_str()));
    let c = company(&rp, "Acme");
    assert_eq!(
        (
            c.postings.fetched,
            c.postings.unchanged,
            c.postings.new,
            c.postings.closed
        ),
        (5, 5, 0, 0)
    );
}

#[test]
fn bad_rows_are_reported_and_the_others_run() {
    let srv = serve(|_| Resp::json(&greenhouse_jobs(1..3)));
    let csv = format!(
        "name,ats,board,url\nAcme,greenhouse,acme,{}\nBad,taleo,x,\nNoBoard,lever,,\nAcme,lever,dup,\n",
        srv.url("/j")
    );
    let file = jobshift_collect::parse_companies(csv.as_bytes()).unwrap();
    let ds = tempfile::tempdir().unwrap();
    let r = collect(&file, ds.path(), &fast_options(true)).unwrap();
    assert_eq!(r.companies.len(), 1);
    let lines: Vec<u64> = r.skipped_rows.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4, 5]);
}

#[test]
fn a_malformed_posting_is_a_rejected_row_and_stays_in_the_snapshot() {
    let srv = serve(|_| {
        Resp::json(&json!({"jobs": [
            {"id": 1, "title": "Welder", "updated_at": "2026-11-01", "location": {"name": "Ohio"}, "content": "Weld"},
            {"id": 2, "updated_at": "2026-11-01", "content": "no title"},
            {"id": 3, "title": "Painter", "first_published": "3 days ago", "content": "Paint"}
        ]}))
    });
    let ds = tempfile::tempdir().unwrap();
    let url = srv.url("/j");
    let acme = [("Acme", "greenhouse", "acme", url.as_str())];
    let r = run(&acme, ds.path(), &fast_options(true));
    let c = company(&r, "Acme");
    assert_eq!(
        (c.postings.fetched, c.postings.new, c.postings.rejected),
        (3, 1, 2)
    );
    let ing = r.ingest.as_ref().unwrap();
    assert_eq!((ing.read, ing.accepted, ing.rejected), (3, 1, 2));
    let snap =
        jobshift_collect::snapshot::read_snapshot(&ds.path().join(c.snapshot.as_ref().unwrap()))
            .unwrap();
    let body = snap.iter().find_map(|l| match l {
        jobshift_collect::snapshot::SnapshotLine::Response(r) => Some(r.body.clone()),
        _ => None,
    });
    assert!(body.unwrap().contains("no title"));
    // rejected postings are not in the history: the next run reports them rejected again
    let r2 = run(&acme, ds.path(), &fast_options(true));
    let c = company(&r2, "Acme");
    assert_eq!(
        (c.postings.unchanged, c.postings.rejected, c.postings.closed),
        (1, 2, 0)
    );
}

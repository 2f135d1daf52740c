//! The API over a dataset with known answers: every figure of `/api/titles`, `/api/titles/{id}`,
//! families, tiers and movers equals report.json's (written by jobshift-report from the same
//! analysis); monthly counts of a window sum to the yearly count; filters, CSV, ETags, security
//! headers, tokens, bad input (4xx JSON, never 500), path traversal, and reloading when the
//! dataset changes.

mod common;

use common::*;
use jobshift_trends::{analyze_with_catalog, TrendOptions};
use serde_json::Value;
use std::time::{Duration, Instant};

/// report.json as `jobshift report` writes it for the fixture.
fn report_json(dir: &std::path::Path) -> Value {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = rt
        .block_on(analyze_with_catalog(
            dir,
            &TrendOptions::default(),
            &fixture::catalog(),
        ))
        .unwrap();
    let out = dir.join("report-out");
    let paths = jobshift_report::write_report(&t, &out).unwrap();
    serde_json::from_slice(&std::fs::read(paths.json).unwrap()).unwrap()
}

/// The test dataset in a temporary directory and a server over it (keep both alive).
fn serve_a_dataset() -> (tempfile::TempDir, Running) {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let server = start(config(tmp.path(), None));
    (tmp, server)
}

/// The array `v[key]`, item by item (a test fails when it is not an array).
fn list<'a>(v: &'a Value, key: &str) -> std::slice::Iter<'a, Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {v}"))
        .iter()
}

#[test]
fn every_figure_equals_report_json() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let report = report_json(tmp.path());
    let server = start(config(tmp.path(), None));
    let a = server.addr;

    let titles = get(a, "/api/titles");
    assert_eq!(titles.status, 200);
    let titles = titles.json();
    let listed = titles["titles"].as_array().unwrap();
    let expected = report["titles"].as_array().unwrap();
    assert_eq!(listed.len(), expected.len());
    assert!(listed.len() >= 6);
    for (got, want) in listed.iter().zip(expected) {
        assert_eq!(got, want, "title entry differs from report.json");
    }
    for key in ["families", "tiers"] {
        let got = get(a, &format!("/api/{key}")).json();
        assert_eq!(got[key], report[key], "{key} differ from report.json");
    }
    let years: Vec<String> = list(&report, "years").map(|y| y.to_string()).collect();
    assert_eq!(years, ["2023", "2024", "2025"]);
    for want in expected {
        let id = want["id"].as_str().unwrap();
        let r = get(a, &format!("/api/titles/{id}"));
        assert_eq!(r.status, 200, "{id}");
        let got = r.json();
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&got[k], v, "{id}: {k} differs from report.json");
        }
        let monthly = got["monthly"].as_array().unwrap();
        assert_eq!(&got["monthly"], &report["monthly"]["titles"][id]);
        assert_eq!(monthly[0]["month"], "2023-01");
        assert_eq!(monthly.last().unwrap()["month"], "2025-10");
        // the window (Jan–Oct) of every year sums to the yearly count
        for y in &years {
            let sum: u64 = monthly
                .iter()
                .filter(|p| {
                    let m = p["month"].as_str().unwrap();
                    m.starts_with(y.as_str()) && m[5..7].parse::<u32>().unwrap() <= 10
                })
                .map(|p| p["count"].as_u64().unwrap())
                .sum();
            assert_eq!(sum, want["counts"][y].as_u64().unwrap(), "{id} {y}");
        }
        assert!(monthly.iter().all(|p| p["sa"].is_number()), "{id}: STL ran");
        // related titles are the rest of the family
        for r in got["related"].as_array().unwrap() {
            assert_eq!(r["family"], want["family"]);
            assert_ne!(r["id"], want["id"]);
        }
        assert_eq!(got["family_series"]["id"], want["family"]);
        assert!(got["family_series"]["monthly"].as_array().unwrap().len() == monthly.len());
        assert_eq!(got["market"]["monthly"], report["monthly"]["market"]);
    }
    // movers: full entries in report.json's order
    let movers = get(a, "/api/movers").json();
    for list in ["decliners", "gainers", "emerging"] {
        let ids: Vec<&Value> = movers[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["id"])
            .collect();
        let want: Vec<&Value> = report["movers"][list].as_array().unwrap().iter().collect();
        assert_eq!(ids, want, "{list}");
    }
    let summary = get(a, "/api/summary").json();
    assert_eq!(summary["baseline"], report["baseline"]);
    assert_eq!(summary["window"], report["window"]);
    assert_eq!(summary["monthly"]["market"], report["monthly"]["market"]);
    assert_eq!(summary["dataset"]["status"]["state"], "loaded");
}

#[test]
fn filters_sorting_search_and_csv() {
    let (_tmp, server) = serve_a_dataset();
    let a = server.addr;
    let fam = get(a, "/api/titles?family=creative_media").json();
    let ids: Vec<&str> = list(&fam, "titles")
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(list(&fam, "titles").all(|t| t["family"] == "creative_media"));
    let tier = get(a, "/api/titles?tier=senior_leadership").json();
    assert_eq!(tier["titles"][0]["id"], "creative_director");
    let big = get(a, "/api/titles?min_volume=500").json();
    assert!(list(&big, "titles").all(|t| t["counts"]["2025"].as_u64().unwrap() >= 500));
    let by_change = get(a, "/api/titles?sort=change").json();
    let changes: Vec<f64> = list(&by_change, "titles")
        .filter_map(|t| t["change"]["2025"].as_f64())
        .collect();
    assert!(changes.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(by_change["titles"][0]["id"], "writer");
    let search = get(a, "/api/search?q=engin").json();
    let hits: Vec<&str> = list(&search, "results")
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(hits.contains(&"software_engineer") && hits.contains(&"gtm_engineer"));
    assert!(!hits.contains(&"writer"));
    let csv = get(a, "/api/titles?format=csv&family=creative_media");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("id,name,family,level,tier,ranked,count_2023"));
    assert_eq!(text.lines().count(), 4);
    let monthly = get(a, "/api/titles/writer?format=csv").text();
    assert!(monthly.starts_with("month,count,ma3,yoy,yoy_ci95_lo,yoy_ci95_hi,sa"));
    assert_eq!(monthly.lines().count(), 1 + 34);
    for path in [
        "/api/families?format=csv",
        "/api/tiers?format=csv",
        "/api/movers?format=csv",
        "/api/families/creative_media?format=csv",
        "/api/tiers/individual_contributors?format=csv",
        "/api/search?q=writer&format=csv",
        "/api/summary?format=csv",
    ] {
        let r = get(a, path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(
            r.header("content-type").unwrap().starts_with("text/csv"),
            "{path}"
        );
    }
    let fam = get(a, "/api/families/software_engineering").json();
    assert_eq!(fam["titles"].as_array().unwrap().len(), 3);
    assert_eq!(fam["monthly"].as_array().unwrap().len(), 34);
    let openapi = get(a, "/api/openapi.json").json();
    assert!(openapi["paths"]["/api/titles/{id}"].is_object());
}

#[test]
fn etags_cache_headers_and_security_headers() {
    let (_tmp, server) = serve_a_dataset();
    let a = server.addr;
    let first = get(a, "/api/titles");
    let etag = first.header("etag").unwrap().to_string();
    assert!(first.header("cache-control").unwrap().contains("no-cache"));
    let again = request(
        a,
        "GET",
        "/api/titles",
        &[("If-None-Match", etag.as_str())],
        "",
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    for path in ["/", "/api/summary", "/api/titles/nope", "/assets/app.js"] {
        let r = get(a, path);
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let page = get(a, "/");
    assert!(page.text().contains("<script src=\"/assets/app.js\""));
    assert!(
        !page.text().contains("<script>"),
        "no inline script under the CSP"
    );
    let lib = get(a, "/assets/uPlot.min.js");
    assert_eq!(lib.status, 200);
    assert!(lib.header("content-type").unwrap().contains("javascript"));
}

#[test]
fn bad_input_gets_clear_4xx_never_500() {
    let (_tmp, server) = serve_a_dataset();
    let a = server.addr;
    let long = "a".repeat(5000);
    let cases: Vec<(String, u16)> = vec![
        ("/api/titles/no_such_title".into(), 404),
        ("/api/titles/..%2F..%2Fetc%2Fpasswd".into(), 400),
        ("/api/titles/%00".into(), 400),
        ("/api/families/nope".into(), 404),
        ("/api/tiers/nope".into(), 404),
        ("/api/titles?family=nope".into(), 400),
        ("/api/titles?tier=nope".into(), 400),
        ("/api/titles?min_volume=-3".into(), 400),
        ("/api/titles?min_volume=abc".into(), 400),
        ("/api/titles?limit=1e9".into(), 400),
        ("/api/titles?sort=drop%20table".into(), 400),
        ("/api/titles?ranked=maybe".into(), 400),
        ("/api/titles?format=xml".into(), 400),
        ("/api/titles?unknown=1".into(), 400),
        ("/api/titles?family=%ZZ".into(), 400),
        ("/api/search".into(), 400),
        (format!("/api/search?q={long}"), 400),
        ("/api/classify".into(), 400),
        ("/api/classify?title=nurse".into(), 503),
        ("/api/nope".into(), 404),
        ("/nope".into(), 404),
    ];
    for (path, want) in &cases {
        let r = get(a, path);
        assert_eq!(r.status, *want, "{path}: {}", r.text());
        let body = r.json();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}"
        );
        assert_eq!(body["status"], *want);
    }
    // hostile search strings are just searches
    for q in [
        "%F0%28%8C%BC",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "'%20OR%201%3D1--",
        "%2A%2A%2A",
        "%E2%80%AE",
    ] {
        let r = get(a, &format!("/api/search?q={q}"));
        assert_eq!(r.status, 200, "{q}");
        assert!(r.json()["results"].as_array().unwrap().is_empty(), "{q}");
    }
    // read-only: writing methods are refused
    for m in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = request(a, m, "/api/titles", &[], "");
        assert_eq!(r.status, 405, "{m}");
    }
    // a request body beyond the limit
    let big = "token=".to_string() + &"x".repeat(10_000);
    let r = request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &big,
    );
    assert_eq!(r.status, 413);
    // a 20 kB query string
    let r = get(a, &format!("/api/titles?family={}", "x".repeat(20_000)));
    assert!((400..500).contains(&r.status), "{}", r.status);
}

#[test]
fn no_path_traversal() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    std::fs::write(tmp.path().join("secret.txt"), "TOP-SECRET").unwrap();
    let server = start(config(tmp.path(), None));
    let a = server.addr;
    for path in [
        "/assets/../../../../etc/passwd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..\\..\\Cargo.toml",
        "/secret.txt",
        "/classified",
        "/assets/",
        "/assets/app.js/../../../secret.txt",
        "//etc/passwd",
        "/api/../../etc/passwd",
    ] {
        let r = get(a, path);
        let text = r.text();
        assert!(r.status == 404 || r.status == 400, "{path}: {}", r.status);
        assert!(
            !text.contains("root:")
                && !text.contains("TOP-SECRET")
                && !text.contains("[workspace]"),
            "{path}"
        );
    }
}

#[test]
fn token_is_required_when_configured() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let token = "0123456789abcdef-token";
    let server = start(config(tmp.path(), Some(token)));
    let a = server.addr;
    let bearer = format!("Bearer {token}");
    for path in [
        "/api/summary",
        "/api/titles",
        "/api/titles/writer",
        "/api/search?q=x",
    ] {
        let r = get(a, path);
        assert_eq!(r.status, 401, "{path}");
        assert!(r.json()["error"].as_str().unwrap().contains("token"));
        let bad = request(
            a,
            "GET",
            path,
            &[("Authorization", "Bearer wrong-token-0000000")],
            "",
        );
        assert_eq!(bad.status, 401, "{path}");
        let ok = request(a, "GET", path, &[("Authorization", bearer.as_str())], "");
        assert_eq!(ok.status, 200, "{path}");
    }
    // the page itself holds no data and loads without a token
    assert_eq!(get(a, "/").status, 200);
    // sign in with the form: an HttpOnly cookie that is not the token
    let login = request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={token}"),
    );
    assert_eq!(login.status, 303);
    let cookie = login.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains(token));
    let session = cookie.split(';').next().unwrap();
    let r = request(a, "GET", "/api/summary", &[("Cookie", session)], "");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["dataset"]["token_required"], true);
    let wrong = request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "token=nope",
    );
    assert!(wrong.header("set-cookie").is_none());
}

#[test]
fn non_loopback_bind_without_token_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = config(tmp.path(), None);
    c.bind = "0.0.0.0:0".parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = match rt.block_on(jobshift_serve::open(c)) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a public bind without a token must be refused"),
    };
    assert!(err.contains("without --token"), "{err}");
}

#[test]
fn reloads_when_the_dataset_changes_and_reports_a_failed_reload() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let mut c = config(tmp.path(), None);
    c.reload_every = Some(Duration::from_millis(200));
    let server = start(c);
    let a = server.addr;
    let before = get(a, "/api/titles/writer").json();
    let v0 = get(a, "/api/summary").json()["version"].clone();
    // more writer postings in March 2025 (a new Parquet file in that month's partition)
    let mut f = fixture::Fixture::default();
    f.add_month("writer", 2025, 3, 25, "new-co");
    let extra = tempfile::tempdir().unwrap();
    f.write(extra.path());
    let src = extra.path().join("classified/month=2025-03/part-0.parquet");
    let dst = tmp
        .path()
        .join("classified/month=2025-03/part-extra.parquet");
    // the fixture numbers posting ids by row (p00000000..): ids 0..24 are software_engineer
    // postings of January 2023 in the original, never writer postings of March 2025, and counts
    // are distinct per title (and company), so the 25 new postings all count
    std::fs::copy(&src, &dst).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = get(a, "/api/summary").json();
        if s["version"] != v0 && s["dataset"]["status"]["state"] == "loaded" {
            break;
        }
        assert!(Instant::now() < deadline, "no reload: {}", s["dataset"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = get(a, "/api/titles/writer").json();
    assert_eq!(
        after["counts"]["2025"].as_u64().unwrap(),
        before["counts"]["2025"].as_u64().unwrap() + 25
    );
    // a broken file: the old figures stay, and the failure is reported
    std::fs::write(
        tmp.path()
            .join("classified/month=2025-04/part-broken.parquet"),
        b"not parquet",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = get(a, "/api/titles/writer");
        assert_eq!(r.status, 200);
        let s = get(a, "/api/summary").json();
        if s["dataset"]["status"]["state"] == "failed" {
            assert!(s["dataset"]["status"]["error"]
                .as_str()
                .unwrap()
                .contains("could not be reloaded"));
            assert!(
                r.header("x-jobshift-reload").is_some()
                    || get(a, "/api/titles").header("x-jobshift-reload").is_some()
            );
            assert_eq!(r.json()["counts"], after["counts"]);
            break;
        }
        assert!(Instant::now() < deadline, "the broken file was not noticed");
        std::thread::sleep(Duration::from_millis(200));
    }
}

//! The report files: report.json has exactly the keys (plus documented extras), the HTML
//! is one self-contained file with inline SVG, CSV tables are written, inputs are recorded.

#[path = "../../trends/tests/common/mod.rs"]
mod common;

use common::{catalog, Fixture};
use jobshift_trends::{analyze_with_catalog, TrendOptions};

/// Analyses the dataset `dir` with `opts` and writes its report to `dir/out`: the analysis, the
/// report's paths and its JSON.
async fn analyze_and_report(
    dir: &std::path::Path,
    opts: &TrendOptions,
    out: &str,
) -> (
    jobshift_trends::Trends,
    jobshift_report::ReportPaths,
    serde_json::Value,
) {
    let t = analyze_with_catalog(dir, opts, &catalog()).await.unwrap();
    let paths = jobshift_report::write_report(&t, &dir.join(out)).unwrap();
    let doc = serde_json::from_slice(&std::fs::read(&paths.json).unwrap()).unwrap();
    (t, paths, doc)
}

#[tokio::test]
async fn writes_every_output_with_the_fixed_json_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = Fixture::default();
    for (i, y) in [2023, 2024, 2025].iter().enumerate() {
        f.add("software_engineer", *y, 1000 + 100 * i, Some("a"), 30);
        f.add("writer", *y, 1000 - 200 * i, Some("b"), 30);
        f.add("photographer", *y, 800 - 100 * i, Some("b"), 30);
        f.add("engineering_manager", *y, 300, Some("a"), 30);
        f.add("unclassified", *y, 50, None, 1);
    }
    f.add("gtm_engineer", 2025, 40, Some("g"), 3);
    f.close_october_2025("writer", Some("b0"));
    f.write(tmp.path());
    let opts = TrendOptions {
        watch: vec!["writer".into()],
        ..Default::default()
    };
    let (_, paths, doc) = analyze_and_report(tmp.path(), &opts, "out").await;
    let out = tmp.path().join("out");
    for k in [
        "taxonomy_version",
        "window",
        "years",
        "baseline",
        "titles",
        "tiers",
        "families",
        "movers",
        "inputs",
    ] {
        assert!(doc.get(k).is_some(), "report.json lacks {k}");
    }
    assert_eq!(doc["window"]["from"], "2025-01");
    assert_eq!(doc["window"]["to"], "2025-10");
    assert_eq!(doc["years"], serde_json::json!([2023, 2024, 2025]));
    assert_eq!(
        doc["baseline"]["counts"]["2025"],
        1000 + 200 + 600 + 600 + 300 + 50 + 40 + 1
    );
    let g = doc["baseline"]["change"]["2025"].as_f64().unwrap();
    assert!(g > -1.0 && g < 1.0, "fractions, not percents: {g}");
    for list in ["titles", "tiers", "families"] {
        for e in doc[list].as_array().unwrap() {
            for k in [
                "id", "name", "family", "level", "tier", "counts", "change", "excess", "ci95",
                "ranked",
            ] {
                assert!(e.get(k).is_some(), "{list} entry lacks {k}: {e}");
            }
            let ci = &e["ci95"]["2025"];
            if !ci.is_null() {
                assert_eq!(ci.as_array().unwrap().len(), 2);
            }
            assert!(e["ranked"].is_boolean());
        }
    }
    let writer = doc["titles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "writer")
        .unwrap();
    assert!((writer["change"]["2025"].as_f64().unwrap() - (601.0 / 800.0 - 1.0)).abs() < 1e-9);
    for k in ["decliners", "gainers", "emerging"] {
        assert!(doc["movers"][k].is_array());
    }
    assert_eq!(
        doc["movers"]["emerging"],
        serde_json::json!(["gtm_engineer"])
    );
    assert_eq!(doc["inputs"]["taxonomy_version"], "test-1");
    assert_eq!(doc["unclassified"]["counts"]["2025"], 50);

    let html = std::fs::read_to_string(&paths.html).unwrap();
    assert!(html.contains("<svg viewBox"));
    assert!(html.contains("name=\"viewport\""));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"),
        "self-contained"
    );
    assert!(html.contains("writer"));
    assert!(html.contains("Watch list"));
    assert!(html.contains("test-1"));
    let md = std::fs::read_to_string(&paths.markdown).unwrap();
    assert!(md.contains("## Biggest decliners") && md.contains("\"taxonomy_version\""));
    for p in &paths.csv {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.lines().count() >= 2, "{} is empty", p.display());
    }
    let titles_csv = std::fs::read_to_string(out.join("titles.csv")).unwrap();
    assert!(titles_csv.lines().any(|l| l.starts_with("unclassified,")));
    assert!(std::fs::read_to_string(&paths.sql)
        .unwrap()
        .contains("COUNT(DISTINCT posting_id)"));

    // deterministic: the same inputs write the same bytes
    let (_, p2, _) = analyze_and_report(tmp.path(), &opts, "out2").await;
    assert_eq!(
        std::fs::read(&paths.json).unwrap(),
        std::fs::read(&p2.json).unwrap()
    );
    assert_eq!(html, std::fs::read_to_string(&p2.html).unwrap());
}

#[tokio::test]
async fn monthly_series_are_in_json_csv_and_html() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = Fixture::default();
    for (i, y) in [2023, 2024, 2025].iter().enumerate() {
        f.add("software_engineer", *y, 600 + 100 * i, Some("a"), 20);
        f.add("writer", *y, 500 - 100 * i, Some("b"), 20);
    }
    f.write(tmp.path());
    let (t, paths, doc) = analyze_and_report(tmp.path(), &TrendOptions::default(), "out").await;
    let out = tmp.path().join("out");
    let se = doc["monthly"]["titles"]["software_engineer"]
        .as_array()
        .unwrap();
    assert_eq!(se[0]["month"], "2023-01");
    // Jan–Oct 2025 of the monthly series sums to the title's 2025 count
    let sum: u64 = se
        .iter()
        .filter(|p| p["month"].as_str().unwrap().starts_with("2025-"))
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, doc["titles"][0]["counts"]["2025"].as_u64().unwrap());
    assert!(se.iter().all(|p| p["sa"].is_number()));
    let csv = std::fs::read_to_string(out.join("monthly.csv")).unwrap();
    assert!(csv.starts_with("level,id,name,month,count,ma3,yoy_change"));
    // the series runs to the window's last month (September here: the fixture's October ends
    // on the 28th, so the default window drops it as incomplete)
    assert_eq!(t.window.to.to_string(), "2025-09");
    assert!(csv.contains("title,software_engineer,software engineer,2025-09,"));
    assert!(!csv.contains(",2025-10,"));
    let html = std::fs::read_to_string(&paths.html).unwrap();
    assert!(html.contains("Month by month"));
}

//! Recovery of known answers on generated classified datasets with injected per-title changes.

mod common;

use common::{catalog, Fixture};
use jobshift_trends::{analyze_with_catalog, TrendOptions};
use std::collections::BTreeMap;

/// (title, counts 2023, 2024, 2025) — exact injected changes.
const TRUTH: [(&str, [usize; 3]); 8] = [
    ("software_engineer", [5000, 5500, 5390]),   // +10%, −2%
    ("engineering_manager", [2000, 1800, 1710]), // −10%, −5%
    ("frontend_engineer", [3000, 2700, 2430]),   // −10%, −10%
    ("writer", [4000, 3750, 2700]),              // −6.25%, −28%
    ("creative_director", [1000, 1050, 1092]),   // +5%, +4%
    ("photographer", [2500, 2200, 1584]),        // −12%, −28%
    ("gtm_engineer", [5, 10, 31]),               // emerging
    ("unclassified", [1000, 1000, 1000]),
];

fn build(dir: &std::path::Path) {
    let mut f = Fixture::default();
    for (title, counts) in TRUTH {
        for (i, n) in counts.iter().enumerate() {
            f.add(title, 2023 + i as i32, *n, Some("co"), 150);
        }
    }
    // outside the window: must not count
    f.add_month("software_engineer", 2023, 12, 300, "co1");
    f.add_month("software_engineer", 2024, 11, 300, "co1");
    // an incomplete latest month (1st–10th): the default window must stop at October
    f.add_month("writer", 2025, 11, 10, "co2");
    // October is complete
    f.add_month("writer", 2025, 10, 0, "co2");
    f.close_october_2025("unclassified", None);
    f.write(dir);
}

fn truth_total(year_idx: usize) -> usize {
    TRUTH.iter().map(|(_, c)| c[year_idx]).sum::<usize>() + if year_idx == 2 { 1 } else { 0 }
}

#[tokio::test]
async fn recovers_injected_changes() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let t = common::analyze_ranked_by_change(tmp.path()).await;
    assert_eq!(t.window.from.to_string(), "2025-01");
    assert_eq!(t.window.to.to_string(), "2025-10");
    assert_eq!(t.years, vec![2023, 2024, 2025]);

    // baseline exact (the extra unclassified posting on 2025-10-31 included)
    for (i, y) in [2023, 2024, 2025].iter().enumerate() {
        assert_eq!(
            t.baseline.count(*y) as usize,
            truth_total(i),
            "baseline {y}"
        );
    }
    let g_all = truth_total(2) as f64 / truth_total(1) as f64 - 1.0;
    assert!((t.baseline.change_in(2025).unwrap() - g_all).abs() < 1e-12);

    // unclassified counted, not a title
    assert_eq!(t.unclassified.count(2025), 1001);
    assert!(t.titles.iter().all(|s| s.id != "unclassified"));

    // ranked titles: within 1 point of the truth and inside their CI
    for (title, c) in TRUTH
        .iter()
        .filter(|(id, _)| *id != "unclassified" && *id != "gtm_engineer")
    {
        let s = t.title(title).unwrap();
        assert!(s.ranked, "{title} should be ranked");
        for (i, y) in [(1, 2024), (2, 2025)] {
            let truth = c[i] as f64 / c[i - 1] as f64 - 1.0;
            let est = s.change_in(y).unwrap();
            assert!((est - truth).abs() < 0.01, "{title} {y}: {est} vs {truth}");
            let (lo, hi) = s.ci95[&y].unwrap();
            assert!(
                lo <= truth && truth <= hi,
                "{title} {y}: {truth} not in [{lo}, {hi}]"
            );
            assert!(hi - lo < 0.2, "{title} {y}: interval too wide [{lo}, {hi}]");
            let ex = s.excess[&y].unwrap();
            let g_all_y = t.baseline.change_in(y).unwrap();
            assert!((ex - (truth - g_all_y)).abs() < 1e-9);
            let er = s.excess_ratio[&y].unwrap();
            assert!((er - ((1.0 + truth) / (1.0 + g_all_y) - 1.0)).abs() < 1e-9);
        }
        let acc = s.acceleration[&2025].unwrap();
        let truth_acc = (c[2] as f64 / c[1] as f64) - (c[1] as f64 / c[0] as f64);
        assert!((acc - truth_acc).abs() < 1e-9);
    }

    // tiers and families are exact sums of their titles
    let mut tier_truth: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    let mut fam_truth: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for (id, fam, _, tier) in common::TITLES {
        let c = TRUTH.iter().find(|(t, _)| *t == id).unwrap().1;
        for (i, n) in c.iter().enumerate() {
            tier_truth.entry(tier).or_default()[i] += n;
            fam_truth.entry(fam).or_default()[i] += n;
        }
    }
    for s in &t.tiers {
        let c = tier_truth[s.id.as_str()];
        for (i, y) in [2023, 2024, 2025].iter().enumerate() {
            assert_eq!(s.count(*y) as usize, c[i], "tier {} {y}", s.id);
        }
    }
    assert_eq!(t.tiers.len(), 3);
    for s in &t.families {
        let c = fam_truth[s.id.as_str()];
        for (i, y) in [2023, 2024, 2025].iter().enumerate() {
            assert_eq!(s.count(*y) as usize, c[i], "family {} {y}", s.id);
        }
    }

    // movers: the −28% pair first (tie broken by id), GTM engineer emerging not ranked
    let mut top2 = t.movers.decliners[..2].to_vec();
    top2.sort();
    assert_eq!(top2, vec!["photographer".to_string(), "writer".to_string()]);
    assert_eq!(t.movers.gainers[0], "creative_director");
    assert_eq!(t.movers.emerging, vec!["gtm_engineer".to_string()]);
    assert!(!t.title("gtm_engineer").unwrap().ranked);

    // within-family: writer/photographer diverge from the rest of creative
    assert!(t
        .divergence
        .iter()
        .any(|d| d.title_id == "creative_director" && d.divergence > 0.2 && d.significant));
}

#[tokio::test]
async fn default_min_volume_scales_and_explicit_window_works() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let opts = TrendOptions {
        from: Some("2024-03".parse().unwrap()),
        to: Some("2024-06".parse().unwrap()),
        years: 2,
        ..Default::default()
    };
    let t = analyze_with_catalog(tmp.path(), &opts, &catalog())
        .await
        .unwrap();
    assert_eq!(t.years, vec![2023, 2024]);
    // default rule: max(50, ⌈N/10000⌉) = 50 here
    assert_eq!(t.min_postings, 50);
    // 4 of 10 months
    let se = t.title("software_engineer").unwrap();
    assert_eq!(se.count(2023), 2000);
    assert_eq!(se.count(2024), 2200);
    // the test catalogue is 2/3 tech by volume here? rank_by auto-decided and explained
    assert!(t.market.auto);
    assert!(!t.market.note.is_empty());
}

#[tokio::test]
async fn panel_removes_entering_and_leaving_companies() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = Fixture::default();
    for (i, n) in [1000usize, 1000, 900].iter().enumerate() {
        f.add("software_engineer", 2023 + i as i32, *n, Some("stay"), 20);
        f.add("writer", 2023 + i as i32, 500, Some("stay"), 20);
    }
    f.add("software_engineer", 2025, 700, Some("new"), 10); // entering in 2025
    f.add("writer", 2023, 400, Some("gone"), 5); // leaving after 2023
    f.add("writer", 2024, 300, None, 1); // no company name: cannot be followed
    f.close_october_2025("writer", Some("stay0"));
    f.write(tmp.path());

    let raw = analyze_with_catalog(tmp.path(), &TrendOptions::default(), &catalog())
        .await
        .unwrap();
    assert_eq!(raw.title("software_engineer").unwrap().count(2025), 1600);
    let opts = TrendOptions {
        panel: true,
        ..Default::default()
    };
    let p = analyze_with_catalog(tmp.path(), &opts, &catalog())
        .await
        .unwrap();
    let se = p.title("software_engineer").unwrap();
    assert_eq!(se.count(2025), 900);
    assert!((se.change_in(2025).unwrap() + 0.1).abs() < 1e-12);
    let w = p.title("writer").unwrap();
    assert_eq!(
        (w.count(2023), w.count(2024), w.count(2025)),
        (500, 500, 501)
    );
    let info = p.panel.as_ref().unwrap();
    assert_eq!(info.companies, 20);
    assert!(info.companies_all > 20);
}

#[tokio::test]
async fn correction_recovers_counts_under_known_confusion() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = Fixture::default();
    // truth: SE 4000 → 4000, FE 1000 → 2000; SE predicted FE 10%; FE predicted SE 20%
    let truth = [
        ("software_engineer", [4000usize, 4000]),
        ("frontend_engineer", [1000, 2000]),
    ];
    for (i, y) in [2024, 2025].iter().enumerate() {
        let (se, fe) = (truth[0].1[i], truth[1].1[i]);
        f.add(
            "software_engineer",
            *y,
            se * 9 / 10 + fe * 2 / 10,
            Some("c"),
            40,
        );
        f.add(
            "frontend_engineer",
            *y,
            se / 10 + fe * 8 / 10,
            Some("c"),
            40,
        );
    }
    f.close_october_2025("writer", Some("c0"));
    f.write(tmp.path());
    let conf = tmp.path().join("confusion.json");
    std::fs::write(
        &conf,
        r#"{"software_engineer": {"software_engineer": 90, "frontend_engineer": 10},
            "frontend_engineer": {"frontend_engineer": 80, "software_engineer": 20}}"#,
    )
    .unwrap();
    let opts = TrendOptions {
        years: 2,
        corrected: true,
        confusion: Some(conf),
        ..Default::default()
    };
    let t = analyze_with_catalog(tmp.path(), &opts, &catalog())
        .await
        .unwrap();
    for (id, c) in truth {
        let s = t.title(id).unwrap();
        let cc = s.corrected_counts.as_ref().unwrap();
        assert!(
            (cc[&2024] - c[0] as f64).abs() < 5.0,
            "{id} 2024: {}",
            cc[&2024]
        );
        assert!(
            (cc[&2025] - c[1] as f64).abs() < 5.0,
            "{id} 2025: {}",
            cc[&2025]
        );
    }
    let fe = t.title("frontend_engineer").unwrap();
    assert!(
        (fe.change_in(2025).unwrap() - (2000.0 / 1200.0 - 1.0)).abs() < 1e-9,
        "raw kept beside corrected"
    );
    assert!((fe.corrected_change.as_ref().unwrap()[&2025].unwrap() - 1.0).abs() < 0.01);
    assert!(t.correction.is_some());

    // --corrected without a matrix explains the fix
    let opts = TrendOptions {
        years: 2,
        corrected: true,
        ..Default::default()
    };
    let e = analyze_with_catalog(tmp.path(), &opts, &catalog())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("--confusion"), "{e}");
}

#[tokio::test]
async fn missing_classified_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let e = analyze_with_catalog(tmp.path(), &TrendOptions::default(), &catalog())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("jobshift ingest"), "{e}");
}

#[test]
fn sql_runs_over_the_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = Fixture::default();
    f.add("writer", 2024, 30, Some("c"), 3);
    f.write(tmp.path());
    // the built-in taxonomy may not be available in every checkout; query only `postings`
    let out = match jobshift_trends::run_sql(
        tmp.path(),
        "SELECT title_id, COUNT(*) AS n FROM postings GROUP BY title_id",
        None,
    ) {
        Ok(o) => o,
        Err(jobshift_trends::TrendsError::Taxonomy(e)) => {
            jobshift_core::test_support::skip_missing(&format!("the built-in taxonomy ({e})"));
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(out.rows(), 1);
    assert!(out.to_table().unwrap().contains("writer"));
    let csv = tmp.path().join("out.csv");
    out.write_csv(&csv).unwrap();
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("title_id,n"));
    let pq = tmp.path().join("out.parquet");
    out.write_parquet(&pq).unwrap();
    assert!(std::fs::metadata(&pq).unwrap().len() > 0);
}

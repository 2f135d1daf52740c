//! Monthly series: a window's months sum to its yearly count for every title, tier, family and
//! the market (also with --panel and with the correction), and the derived measures are there.

mod common;

use common::{catalog, Fixture};
use jobshift_trends::{analyze_with_catalog, MonthPoint, TrendOptions, Trends};

fn fixture() -> Fixture {
    let mut f = Fixture::default();
    for (i, y) in [2023, 2024, 2025].iter().enumerate() {
        f.add("software_engineer", *y, 900 + 150 * i, Some("a"), 40);
        f.add("writer", *y, 800 - 150 * i, Some("b"), 25);
        f.add("photographer", *y, 400, Some("c"), 10);
        f.add("engineering_manager", *y, 200 + 20 * i, Some("a"), 15);
        f.add("unclassified", *y, 60, None, 1);
        // months outside the Jan–Oct window still belong to the monthly series
        if *y < 2025 {
            f.add_month("writer", *y, 11, 30 + 5 * i, "b1");
            f.add_month("software_engineer", *y, 12, 20, "a1");
        }
    }
    f.add("gtm_engineer", 2024, 12, Some("g"), 2);
    f.add("gtm_engineer", 2025, 40, Some("g"), 3);
    f
}

fn window_sum(t: &Trends, points: &[MonthPoint], year: i32) -> u64 {
    points
        .iter()
        .filter(|p| {
            p.month.year == year
                && p.month.month >= t.window.from.month
                && p.month.month <= t.window.to.month
        })
        .map(|p| p.count)
        .sum()
}

fn assert_sums(t: &Trends) {
    let m = &t.monthly;
    assert_eq!(m.months.first().unwrap().to_string(), "2023-01");
    assert_eq!(
        m.months.last().unwrap().to_string(),
        t.window.to.to_string()
    );
    for &y in &t.years {
        assert_eq!(
            window_sum(t, &m.market, y),
            t.baseline.count(y),
            "market {y}"
        );
        assert_eq!(
            window_sum(t, &m.unclassified, y),
            t.unclassified.count(y),
            "unclassified {y}"
        );
        for (kind, series, map) in [
            ("title", &t.titles, &m.titles),
            ("tier", &t.tiers, &m.tiers),
            ("family", &t.families, &m.families),
        ] {
            for s in series {
                let p = map
                    .get(&s.id)
                    .unwrap_or_else(|| panic!("{kind} {} lacks a monthly series", s.id));
                assert_eq!(p.len(), m.months.len());
                assert_eq!(window_sum(t, p, y), s.count(y), "{kind} {} in {y}", s.id);
            }
        }
    }
}

#[tokio::test]
async fn monthly_counts_of_a_window_sum_to_its_yearly_count() {
    let tmp = tempfile::tempdir().unwrap();
    fixture().write(tmp.path());
    let t = analyze_with_catalog(tmp.path(), &TrendOptions::default(), &catalog())
        .await
        .unwrap();
    assert_sums(&t);
    let m = &t.monthly;
    // Jan 2023 .. Sep 2025 = 33 months (the default window ends in September: the fixture's
    // October 2025 ends on the 28th, an incomplete month): moving average, year-over-year and
    // STL are there
    assert_eq!(t.window.to.to_string(), "2025-09");
    assert_eq!(m.months.len(), 33);
    let se = &m.titles["software_engineer"];
    assert!(se[1].ma3.is_none() && se[2].ma3.is_some());
    assert!(se[11].yoy.is_none() && se[12].yoy.is_some() && se[12].yoy_ci95.is_some());
    assert!(se.iter().all(|p| p.sa.is_some()));
    // software_engineer in Jan 2024 vs Jan 2023: 105 vs 90 postings
    let g = se[12].yoy.unwrap();
    assert!((g - (se[12].count as f64 / se[0].count as f64 - 1.0)).abs() < 1e-12);
    assert!(t.queries.iter().any(|(n, _)| n == "monthly"));
}

#[tokio::test]
async fn monthly_sums_hold_with_panel_and_assume_unique() {
    let tmp = tempfile::tempdir().unwrap();
    fixture().write(tmp.path());
    for opts in [
        TrendOptions {
            panel: true,
            ..Default::default()
        },
        TrendOptions {
            assume_unique: true,
            ..Default::default()
        },
    ] {
        let t = analyze_with_catalog(tmp.path(), &opts, &catalog())
            .await
            .unwrap();
        assert_sums(&t);
    }
}

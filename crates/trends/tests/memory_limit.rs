//! The engine under a memory limit: grouping spills to disk and the analysis is unchanged.

mod common;

use common::{catalog, Fixture};
use jobshift_trends::{analyze_with_catalog, RankBy, TrendOptions};

#[tokio::test]
async fn small_memory_limit_spills_and_gives_the_same_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut f = Fixture::default();
    // many title × company cells, so the grouped plans hold far more than the limit
    for (i, title) in [
        "software_engineer",
        "data_scientist",
        "writer",
        "photographer",
        "registered_nurse",
        "marketing_manager",
    ]
    .iter()
    .enumerate()
    {
        for (y, n) in [(2023, 12_000), (2024, 11_000 + 500 * i), (2025, 10_000)] {
            f.add(title, y, n, Some("company-with-a-long-name-"), 9_000);
        }
    }
    f.write(tmp.path());
    let base = TrendOptions {
        min_postings: Some(100),
        rank_by: Some(RankBy::Change),
        assume_unique: true,
        ..Default::default()
    };
    let unbounded = analyze_with_catalog(
        tmp.path(),
        &TrendOptions {
            memory_limit: None,
            ..base.clone()
        },
        &catalog(),
    )
    .await
    .unwrap();
    let limited = analyze_with_catalog(
        tmp.path(),
        &TrendOptions {
            memory_limit: Some(32 << 20),
            ..base.clone()
        },
        &catalog(),
    )
    .await
    .unwrap();
    let view = |t: &jobshift_trends::Trends| {
        t.titles
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    s.counts.clone(),
                    s.ci95.clone(),
                    s.companies.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(view(&unbounded), view(&limited));
    assert_eq!(unbounded.baseline.counts, limited.baseline.counts);
    assert_eq!(unbounded.baseline.ci95, limited.baseline.ci95);
}

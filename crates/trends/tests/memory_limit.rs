//! The engine under a memory limit: grouping spills to disk and the analysis is unchanged.
//!
//! The limits are far below what the fixture's grouped plans hold, so the final aggregations
//! spill and merge their spill files in several passes (at 16 MiB a merge opens at most
//! `jobshift_trends::engine::spill_merge_fan_in(16 MiB)` = 2 files at a time; at 8 MiB
//! the two files' read buffers and the ordered aggregation after them no longer fit).

mod common;

use common::{catalog, Fixture};
use jobshift_trends::{analyze_with_catalog, RankBy, TrendOptions, Trends};
use std::path::Path;

/// Many title × company cells, so the grouped plans hold far more than the limits below.
fn write_fixture(dir: &Path) {
    let mut f = Fixture::default();
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
    f.write(dir);
}

/// Everything the report shows, without the recorded limit and the SQL text.
fn comparable(t: &Trends) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.remove("memory_limit");
                o.remove("queries");
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(t).unwrap();
    strip(&mut v);
    v
}

async fn run(dir: &Path, base: &TrendOptions, memory_limit: Option<u64>) -> Trends {
    analyze_with_catalog(
        dir,
        &TrendOptions {
            memory_limit,
            ..base.clone()
        },
        &catalog(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn small_memory_limit_spills_and_gives_the_same_answer() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let base = TrendOptions {
        min_postings: Some(100),
        rank_by: Some(RankBy::Change),
        assume_unique: true,
        ..Default::default()
    };
    let unbounded = run(tmp.path(), &base, None).await;
    assert!(!unbounded.titles.is_empty() && !unbounded.families.is_empty());
    for limit in [32u64 << 20, 16 << 20] {
        let limited = run(tmp.path(), &base, Some(limit)).await;
        assert_eq!(limited.baseline.counts, unbounded.baseline.counts);
        assert_eq!(limited.baseline.ci95, unbounded.baseline.ci95);
        assert_eq!(
            comparable(&limited),
            comparable(&unbounded),
            "report at a {limit}-byte limit differs from the unbounded one"
        );
    }
}

#[tokio::test]
async fn panel_under_a_small_memory_limit_gives_the_same_answer() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let base = TrendOptions {
        min_postings: Some(100),
        assume_unique: true,
        panel: true,
        ..Default::default()
    };
    let unbounded = run(tmp.path(), &base, None).await;
    assert!(unbounded.panel.as_ref().is_some_and(|p| p.companies > 0));
    let limited = run(tmp.path(), &base, Some(16 << 20)).await;
    assert_eq!(comparable(&limited), comparable(&unbounded));
}

/// Spills of every operator of an executed plan (DataFusion's `spill_count` metric).
fn spills(plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>) -> usize {
    plan.metrics().and_then(|m| m.spill_count()).unwrap_or(0)
        + plan.children().into_iter().map(spills).sum::<usize>()
}

async fn grouped_spills(dir: &Path, memory_limit: Option<u64>) -> (usize, usize) {
    let cat = catalog();
    let (ctx, _, _) = jobshift_trends::engine::open_session_with(dir, &cat, memory_limit)
        .await
        .unwrap();
    // the shape of the report's cell query: postings per title × company × month
    let df = ctx
        .sql(
            "SELECT title_id, company, date_trunc('month', posted_date) AS m, COUNT(*) AS n \
             FROM postings GROUP BY 1, 2, 3",
        )
        .await
        .unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    let batches = datafusion::physical_plan::collect(plan.clone(), ctx.task_ctx())
        .await
        .unwrap();
    (spills(&plan), batches.iter().map(|b| b.num_rows()).sum())
}

#[tokio::test]
async fn a_small_memory_limit_really_spills_to_disk() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let (unbounded_spills, unbounded_rows) = grouped_spills(tmp.path(), None).await;
    let (limited_spills, limited_rows) = grouped_spills(tmp.path(), Some(16 << 20)).await;
    eprintln!("spills: unbounded {unbounded_spills}, 16 MiB {limited_spills}");
    assert_eq!(unbounded_spills, 0);
    assert!(
        limited_spills > 0,
        "no operator spilled under a 16 MiB limit"
    );
    assert_eq!(limited_rows, unbounded_rows);
}

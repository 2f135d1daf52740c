//! Step 3 of the analysis: the grouped plans (baseline, titles, tiers, families) and the
//! series built from their sums — counts, shares, changes with intervals, excess over the
//! baseline, acceleration.

use super::{describe, Meta, Series};
use crate::aggregate::{self, GroupSums, Level};
use crate::engine::Catalog;
use crate::stats::{self, PairSums};
use crate::window::Window;
use crate::TrendsError;
use datafusion::prelude::SessionContext;
use jobshift_core::schema;
use std::collections::BTreeMap;

/// Every group's series.
pub(super) struct Groups {
    pub baseline: Series,
    pub unclassified: Series,
    pub titles: Vec<Series>,
    pub tiers: Vec<Series>,
    pub families: Vec<Series>,
}

/// Run the grouped plans (their SQL goes into `queries`) and build the series; `meta` is
/// consumed by the titles.
pub(super) async fn build(
    ctx: &SessionContext,
    win: &Window,
    mut meta: BTreeMap<String, Meta>,
    catalog: &Catalog,
    queries: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) -> Result<Groups, TrendsError> {
    let years = &win.years;
    let run_level = |level: Level| async move { aggregate::run_group(ctx, level, years).await };
    let (q_base, base) = run_level(Level::Baseline).await?;
    let (q_title, titles_g) = run_level(Level::Title).await?;
    let (q_tier, tiers_g) = run_level(Level::Tier).await?;
    let (q_family, families_g) = run_level(Level::Family).await?;
    for (n, q) in [
        ("baseline", q_base),
        ("titles", q_title),
        ("tiers", q_tier),
        ("families", q_family),
    ] {
        queries.push((n.to_string(), q));
    }
    let base_g = base.into_iter().next().ok_or_else(|| {
        TrendsError::Options(format!(
            "no postings in the windows {} of years {:?}",
            describe(win),
            years
        ))
    })?;

    let blank = |_id: &str, name: &str| Meta {
        name: name.to_string(),
        family: None,
        family_name: None,
        level: None,
        tier: None,
    };
    let baseline = build_series(
        "all",
        &blank("all", "All postings"),
        &base_g,
        &base_g,
        years,
    );
    let mut unclassified = None;
    let mut titles = Vec::new();
    for g in &titles_g {
        if g.key == schema::UNCLASSIFIED {
            unclassified = Some(build_series(
                &g.key,
                &blank(&g.key, "Unclassified"),
                g,
                &base_g,
                years,
            ));
            continue;
        }
        let m = meta.remove(&g.key).unwrap_or_else(|| blank(&g.key, &g.key));
        titles.push(build_series(&g.key, &m, g, &base_g, years));
    }
    let unclassified = unclassified.unwrap_or_else(|| {
        let empty = GroupSums {
            key: schema::UNCLASSIFIED.into(),
            companies: 0.0,
            counts: vec![0.0; years.len()],
            company_counts: vec![0.0; years.len()],
            pairs: vec![PairSums::default(); years.len()],
        };
        build_series(
            schema::UNCLASSIFIED,
            &blank("", "Unclassified"),
            &empty,
            &base_g,
            years,
        )
    });
    let tiers: Vec<Series> = {
        let mut v: Vec<Series> = tiers_g
            .iter()
            .map(|g| {
                let label = g
                    .key
                    .parse::<jobshift_core::Tier>()
                    .map(|t| t.label().to_string())
                    .unwrap_or_else(|_| g.key.clone());
                let mut m = blank(&g.key, &label);
                m.tier = Some(g.key.clone());
                build_series(&g.key, &m, g, &base_g, years)
            })
            .collect();
        let order = |s: &Series| {
            s.id.parse::<jobshift_core::Tier>()
                .map(|t| t as usize)
                .unwrap_or(9)
        };
        v.sort_by_key(order);
        v
    };
    let families: Vec<Series> = families_g
        .iter()
        .map(|g| {
            let mut m = blank(&g.key, &catalog.family_name(&g.key));
            m.family = Some(g.key.clone());
            m.family_name = Some(m.name.clone());
            build_series(&g.key, &m, g, &base_g, years)
        })
        .collect();

    let unc_total: u64 = unclassified.counts.values().sum();
    let base_total: u64 = baseline.counts.values().sum();
    if unc_total > 0 {
        notes.push(format!(
            "{unc_total} of {base_total} postings in the windows ({:.1}%) are unclassified; they count in the baseline, not in any title, tier or family",
            100.0 * unc_total as f64 / base_total.max(1) as f64
        ));
    }

    Ok(Groups {
        baseline,
        unclassified,
        titles,
        tiers,
        families,
    })
}

pub(super) fn build_series(
    id: &str,
    m: &Meta,
    g: &GroupSums,
    base: &GroupSums,
    years: &[i32],
) -> Series {
    let mut s = Series {
        id: id.to_string(),
        name: m.name.clone(),
        family: m.family.clone(),
        family_name: m.family_name.clone(),
        level: m.level.clone(),
        tier: m.tier.clone(),
        counts: BTreeMap::new(),
        companies: BTreeMap::new(),
        share: BTreeMap::new(),
        change: BTreeMap::new(),
        ci95: BTreeMap::new(),
        excess: BTreeMap::new(),
        excess_ratio: BTreeMap::new(),
        excess_ratio_ci95: BTreeMap::new(),
        acceleration: BTreeMap::new(),
        ranked: false,
        corrected_counts: None,
        corrected_change: None,
        corrected_ci95: None,
    };
    for (i, &y) in years.iter().enumerate() {
        let n = g.counts.get(i).copied().unwrap_or(0.0);
        s.counts.insert(y, n as u64);
        s.companies
            .insert(y, g.company_counts.get(i).copied().unwrap_or(0.0) as u64);
        let b = base.counts.get(i).copied().unwrap_or(0.0);
        s.share.insert(y, if b > 0.0 { n / b } else { 0.0 });
        if i == 0 {
            continue;
        }
        let pair = g.pairs.get(i).copied().unwrap_or_default();
        let base_pair = base.pairs.get(i).copied().unwrap_or_default();
        let ch = stats::change(&pair);
        let base_ch = stats::change(&base_pair);
        s.change.insert(y, ch.map(|e| e.value));
        s.ci95.insert(y, ch.map(|e| (e.lo, e.hi)));
        let ex = stats::excess_ratio(&pair, &base_pair, base_pair.companies);
        s.excess.insert(
            y,
            match (ch, base_ch) {
                (Some(a), Some(b)) => Some(a.value - b.value),
                _ => None,
            },
        );
        s.excess_ratio.insert(y, ex.map(|e| e.value));
        s.excess_ratio_ci95.insert(y, ex.map(|e| (e.lo, e.hi)));
        if i >= 2 {
            let before = s.change.get(&years[i - 1]).copied().flatten();
            s.acceleration.insert(
                y,
                match (ch, before) {
                    (Some(a), Some(b)) => Some(a.value - b),
                    _ => None,
                },
            );
        }
    }
    s
}

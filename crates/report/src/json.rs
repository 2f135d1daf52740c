//! report.json: the shape issue #6 fixes (fractions, not percents), plus the inputs and the
//! extra measures under additional keys.
//!
//! Fixed keys: `taxonomy_version`, `window {from,to}`, `years`, `baseline {counts, change}`,
//! `titles|tiers|families [{id, name, family, level, tier, counts, change, excess, ci95,
//! ranked}]`, `movers {decliners, gainers, emerging}`. `change`, `excess` and `ci95` are keyed
//! by every year after the first (relative to the previous year); undefined values are null.
//! `excess` is in points (g − g_all); the ratio form is `excess_ratio`.
//!
//! `monthly`: `{months, seasonal_adjustment, interval_method, market, unclassified, titles: {id:
//! [points]}, tiers, families}`, each point `{month: "2025-01", count, ma3, yoy, yoy_ci95, sa}`
//! (plus `corrected` with the correction); see `jobshift_trends::monthly`.

use jobshift_trends::{Series, Trends};
use serde_json::{json, Map, Value};

fn year_map<T, F: Fn(&T) -> Value>(m: &std::collections::BTreeMap<i32, T>, f: F) -> Value {
    let mut out = Map::new();
    for (y, v) in m {
        out.insert(y.to_string(), f(v));
    }
    Value::Object(out)
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn onum(x: &Option<f64>) -> Value {
    x.map(num).unwrap_or(Value::Null)
}

fn oci(x: &Option<(f64, f64)>) -> Value {
    match x {
        Some((lo, hi)) => json!([num(*lo), num(*hi)]),
        None => Value::Null,
    }
}

/// One entry of `titles`, `tiers` or `families`.
pub fn series(s: &Series) -> Value {
    let mut v = json!({
        "id": s.id,
        "name": s.name,
        "family": s.family,
        "level": s.level,
        "tier": s.tier,
        "counts": year_map(&s.counts, |n| json!(n)),
        "change": year_map(&s.change, onum),
        "excess": year_map(&s.excess, onum),
        "ci95": year_map(&s.ci95, oci),
        "ranked": s.ranked,
        "share": year_map(&s.share, |x| num(*x)),
        "excess_ratio": year_map(&s.excess_ratio, onum),
        "excess_ratio_ci95": year_map(&s.excess_ratio_ci95, oci),
        "acceleration": year_map(&s.acceleration, onum),
        "companies": year_map(&s.companies, |n| json!(n)),
    });
    if let (Some(obj), Some(c), Some(ch), Some(ci)) = (
        v.as_object_mut(),
        &s.corrected_counts,
        &s.corrected_change,
        &s.corrected_ci95,
    ) {
        obj.insert(
            "corrected".into(),
            json!({
                "counts": year_map(c, |x| num(*x)),
                "change": year_map(ch, onum),
                "ci95": year_map(ci, oci),
            }),
        );
    }
    v
}

/// The whole report.json document.
pub fn document(t: &Trends) -> Value {
    let mut tiers_ranked = t.tiers.clone();
    for s in tiers_ranked.iter_mut() {
        s.ranked = s.count(t.previous_year()) >= t.min_postings;
    }
    let mut families_ranked = t.families.clone();
    for s in families_ranked.iter_mut() {
        s.ranked = s.count(t.previous_year()) >= t.min_postings;
    }
    json!({
        "taxonomy_version": t.inputs.taxonomy_version,
        "window": {"from": t.window.from.to_string(), "to": t.window.to.to_string()},
        "years": t.years,
        "baseline": {
            "counts": year_map(&t.baseline.counts, |n| json!(n)),
            "change": year_map(&t.baseline.change, onum),
            "ci95": year_map(&t.baseline.ci95, oci),
            "companies": year_map(&t.baseline.companies, |n| json!(n)),
        },
        "titles": t.titles.iter().map(series).collect::<Vec<_>>(),
        "tiers": tiers_ranked.iter().map(series).collect::<Vec<_>>(),
        "families": families_ranked.iter().map(series).collect::<Vec<_>>(),
        "movers": {
            "decliners": t.movers.decliners,
            "gainers": t.movers.gainers,
            "emerging": t.movers.emerging,
            "metric": t.movers.metric,
        },
        "unclassified": {
            "counts": year_map(&t.unclassified.counts, |n| json!(n)),
            "share": year_map(&t.unclassified.share, |x| num(*x)),
        },
        "divergence": t.divergence,
        "watch": t.watch,
        "market": t.market,
        "min_postings": t.min_postings,
        "min_postings_rule": t.min_postings_rule,
        "ci_method": t.ci_method,
        "window_rule": t.window.rule,
        "panel": t.panel,
        "correction": t.correction,
        "notes": t.notes,
        "inputs": t.inputs,
        "monthly": serde_json::to_value(&t.monthly).unwrap_or(Value::Null),
    })
}

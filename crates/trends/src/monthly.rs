//! Monthly series per title, tier, family and the whole market: counts per month, a 3-month
//! moving average, the year-over-year change by month (with an interval) and a seasonally
//! adjusted series.
//!
//! **Counts.** One grouped plan over the postings ([`monthly_sql`]): distinct postings per
//! title and month, from January of the first compared year through the window's last month
//! (the latest complete month). It counts exactly what the yearly `cell` plan counts (same
//! distinct `posting_id`s, same `--panel` restriction), so a window's months sum to its yearly
//! count. Tiers, families and the market are sums of titles (the market includes unclassified
//! postings, like the baseline).
//!
//! **Moving average.** Trailing: the month and the two before it (undefined for the first two).
//!
//! **Year-over-year change** g = n_m / n_{m−12} − 1 with a 95% interval on the log ratio. A
//! month has too few postings per company to re-estimate the company-clustered variance, so the
//! monthly interval uses the series' own overdispersion φ, read off its yearly company-clustered
//! interval (φ = Var_clustered / Var_Poisson, averaged over the compared years, at least 1), times
//! the Poisson variance 1/n_m + 1/n_{m−12}: the same clustering the yearly intervals carry.
//!
//! **Seasonal adjustment.** STL (Cleveland et al. 1990, seasonal-trend decomposition by LOESS)
//! from the `stlrs` crate, period 12, robust iterations (a one-off hiring push does not leak
//! into the seasonal pattern), additive on the counts: `sa = count − seasonal`. It needs two full
//! years of months; with fewer the series has no adjusted values and a note says so.
//!
//! **Misclassification correction** (`--corrected`): the same EM unfolding as the yearly counts,
//! run on each month's title counts; tiers and families sum their titles' corrected counts.

use crate::correction::Confusion;
use crate::engine::{integers, query, strings};
use crate::options::YearMonth;
use crate::stats::Z95;
use crate::window::Window;
use crate::{Series, TrendsError};
use datafusion::prelude::SessionContext;
use jobshift_core::schema;
use serde::Serialize;
use std::collections::BTreeMap;

/// Seasonal period of monthly data.
pub const PERIOD: usize = 12;

/// What the seasonal adjustment is, as recorded in report.json.
pub const SA_METHOD: &str = "STL (seasonal-trend decomposition by LOESS, crate stlrs), period 12, \
robust, additive: seasonally adjusted = count − seasonal component; needs at least 24 months";

/// One month of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthPoint {
    pub month: YearMonth,
    pub count: u64,
    /// Trailing 3-month moving average of `count`.
    pub ma3: Option<f64>,
    /// Change against the same month a year earlier (fraction).
    pub yoy: Option<f64>,
    pub yoy_ci95: Option<(f64, f64)>,
    /// Seasonally adjusted count (STL).
    pub sa: Option<f64>,
    /// Misclassification-corrected count (with `--corrected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected: Option<f64>,
}

/// Monthly series of every group.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Monthly {
    /// The months covered, ascending and contiguous.
    pub months: Vec<YearMonth>,
    pub seasonal_adjustment: String,
    pub interval_method: String,
    pub market: Vec<MonthPoint>,
    pub unclassified: Vec<MonthPoint>,
    pub titles: BTreeMap<String, Vec<MonthPoint>>,
    pub tiers: BTreeMap<String, Vec<MonthPoint>>,
    pub families: BTreeMap<String, Vec<MonthPoint>>,
}

/// Raw monthly counts per title id (index = position in `months`).
#[derive(Debug, Clone, Default)]
pub struct MonthlyCounts {
    pub months: Vec<YearMonth>,
    pub titles: BTreeMap<String, Vec<u64>>,
    /// Per month: corrected counts per title (with `--corrected`).
    pub corrected: Option<Vec<BTreeMap<String, f64>>>,
}

/// The months a monthly series covers: January of the first compared year through the window's
/// last month.
pub fn months_of(window: &Window) -> Vec<YearMonth> {
    let mut out = Vec::new();
    let Some(&first) = window.years.first() else {
        return out;
    };
    let mut m = YearMonth::new(first, 1);
    while m <= window.to {
        out.push(m);
        m = m.next();
    }
    out
}

/// The monthly plan: distinct postings per title and month (`cell` must be registered when
/// `panel` is set: its companies are the panel).
pub fn monthly_sql(window: &Window, assume_unique: bool, panel: bool) -> String {
    let months = months_of(window);
    let (start, end) = match (months.first(), months.last()) {
        (Some(a), Some(b)) => (format!("{a}-01"), format!("{}-01", b.next())),
        _ => ("1970-01-01".into(), "1970-01-01".into()),
    };
    let count = if assume_unique {
        "COUNT(*)"
    } else {
        "COUNT(DISTINCT p.posting_id)"
    };
    let company = "COALESCE(NULLIF(lower(trim(p.company)), ''), '~' || p.posting_id)";
    // the panel's companies come first: under a memory limit the engine builds the hash join on
    // the first input as written (see crate::aggregate), and a hash join cannot spill
    let from = if panel {
        format!("(SELECT DISTINCT company FROM cell) k JOIN postings p ON k.company = {company}")
    } else {
        "postings p".to_string()
    };
    format!(
        "SELECT p.title_id AS title_id, \
                CAST(date_part('year', p.posted_date) AS BIGINT) AS y, \
                CAST(date_part('month', p.posted_date) AS BIGINT) AS m, \
                {count} AS n \
         FROM {from} \
         WHERE p.posted_date >= DATE '{start}' AND p.posted_date < DATE '{end}' \
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
}

/// Run the monthly plan.
pub async fn monthly_counts(
    ctx: &SessionContext,
    window: &Window,
    assume_unique: bool,
    panel: bool,
) -> Result<(String, MonthlyCounts), TrendsError> {
    let sql = monthly_sql(window, assume_unique, panel);
    let months = months_of(window);
    let index: BTreeMap<YearMonth, usize> =
        months.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut titles: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for b in query(ctx, &sql).await? {
        let (id, y, m, n) = (
            strings(&b, "title_id")?,
            integers(&b, "y")?,
            integers(&b, "m")?,
            integers(&b, "n")?,
        );
        for r in 0..b.num_rows() {
            let Some(id) = id[r].clone() else { continue };
            let ym = YearMonth::new(y[r] as i32, m[r] as u32);
            let Some(&i) = index.get(&ym) else { continue };
            titles.entry(id).or_insert_with(|| vec![0; months.len()])[i] = n[r] as u64;
        }
    }
    Ok((
        sql,
        MonthlyCounts {
            months,
            titles,
            corrected: None,
        },
    ))
}

/// Run the misclassification correction on every month's title counts.
pub fn correct(conf: &Confusion, counts: &MonthlyCounts) -> Vec<BTreeMap<String, f64>> {
    (0..counts.months.len())
        .map(|i| {
            let observed: BTreeMap<String, f64> = counts
                .titles
                .iter()
                .map(|(id, v)| (id.clone(), v[i] as f64))
                .collect();
            conf.correct(&observed).0
        })
        .collect()
}

/// Company-clustering overdispersion of a series: its yearly interval's variance over the
/// Poisson variance of the same counts, averaged over the compared years (`None` without any
/// defined interval). Also what the correction's bootstrap perturbs counts with.
pub fn overdispersion_ratio(s: &Series, years: &[i32]) -> Option<f64> {
    let phis: Vec<f64> = years
        .windows(2)
        .filter_map(|w| {
            let (cp, cc) = (s.count(w[0]) as f64, s.count(w[1]) as f64);
            let (lo, hi) = s.ci95.get(&w[1]).copied().flatten()?;
            if cp <= 0.0 || cc <= 0.0 || lo <= -0.999_999 {
                return None;
            }
            let se = ((1.0 + hi).ln() - (1.0 + lo).ln()) / (2.0 * Z95);
            Some(se * se / (1.0 / cp + 1.0 / cc))
        })
        .collect();
    (!phis.is_empty()).then(|| phis.iter().sum::<f64>() / phis.len() as f64)
}

/// [`overdispersion_ratio`] for the monthly intervals: at least 1 (never narrower than Poisson).
pub fn overdispersion(s: &Series, years: &[i32]) -> f64 {
    overdispersion_ratio(s, years).unwrap_or(1.0).max(1.0)
}

/// Seasonally adjusted values of a monthly series (STL, period 12), or `None` when the series is
/// shorter than two years or STL cannot fit it.
pub fn seasonally_adjust(counts: &[f64]) -> Option<Vec<f64>> {
    if counts.len() < 2 * PERIOD {
        return None;
    }
    let series: Vec<f64> = counts.to_vec();
    let fit = stlrs::params().robust(true).fit(&series, PERIOD).ok()?;
    Some(
        series
            .iter()
            .zip(fit.seasonal())
            .map(|(c, s)| c - s)
            .collect(),
    )
}

/// Derive a series' points from its counts (and corrected counts).
pub fn points(
    months: &[YearMonth],
    counts: &[u64],
    corrected: Option<&[f64]>,
    phi: f64,
) -> Vec<MonthPoint> {
    let as_f: Vec<f64> = counts.iter().map(|&n| n as f64).collect();
    let sa = seasonally_adjust(&as_f);
    months
        .iter()
        .enumerate()
        .map(|(i, &month)| {
            let n = as_f[i];
            let ma3 = (i >= 2).then(|| (as_f[i - 2] + as_f[i - 1] + n) / 3.0);
            let (yoy, yoy_ci95) = if i >= PERIOD && as_f[i - PERIOD] > 0.0 {
                let p = as_f[i - PERIOD];
                let g = n / p - 1.0;
                // 0.5-corrected counts keep the interval finite at zero (as the yearly one)
                let (a, b) = (n.max(0.5), p.max(0.5));
                let se = (phi * (1.0 / a + 1.0 / b)).sqrt();
                let l = (a / b).ln();
                (
                    Some(g),
                    Some(((l - Z95 * se).exp() - 1.0, (l + Z95 * se).exp() - 1.0)),
                )
            } else {
                (None, None)
            };
            MonthPoint {
                month,
                count: counts[i],
                ma3,
                yoy,
                yoy_ci95,
                sa: sa.as_ref().map(|v| v[i]),
                corrected: corrected.map(|c| c[i]),
            }
        })
        .collect()
}

/// Build every monthly series from the title counts and the yearly series (for names, groups and
/// the overdispersion of the intervals).
#[allow(clippy::too_many_arguments)]
pub fn build(
    counts: &MonthlyCounts,
    years: &[i32],
    baseline: &Series,
    unclassified: &Series,
    titles: &[Series],
    tiers: &[Series],
    families: &[Series],
    notes: &mut Vec<String>,
) -> Monthly {
    let n = counts.months.len();
    let zero = vec![0u64; n];
    let corrected_of = |id: &str| -> Option<Vec<f64>> {
        counts.corrected.as_ref().map(|c| {
            c.iter()
                .map(|m| m.get(id).copied().unwrap_or(0.0))
                .collect()
        })
    };
    let add = |acc: &mut Vec<u64>, v: &[u64]| {
        for (a, b) in acc.iter_mut().zip(v) {
            *a += b;
        }
    };
    let add_f = |acc: &mut Vec<f64>, v: &[f64]| {
        for (a, b) in acc.iter_mut().zip(v) {
            *a += b;
        }
    };
    let mut market = vec![0u64; n];
    for v in counts.titles.values() {
        add(&mut market, v);
    }
    let mut out = Monthly {
        months: counts.months.clone(),
        seasonal_adjustment: SA_METHOD.to_string(),
        interval_method: "log ratio against the same month a year earlier; variance = the \
            series' company-clustering overdispersion (from its yearly interval) × the Poisson \
            variance"
            .to_string(),
        market: points(
            &counts.months,
            &market,
            None,
            overdispersion(baseline, years),
        ),
        unclassified: points(
            &counts.months,
            counts
                .titles
                .get(schema::UNCLASSIFIED)
                .map(|v| v.as_slice())
                .unwrap_or(&zero),
            None,
            overdispersion(unclassified, years),
        ),
        ..Default::default()
    };
    let mut tier_sum: BTreeMap<String, (Vec<u64>, Vec<f64>)> = BTreeMap::new();
    let mut fam_sum: BTreeMap<String, (Vec<u64>, Vec<f64>)> = BTreeMap::new();
    for t in titles {
        let c = counts
            .titles
            .get(&t.id)
            .map(|v| v.as_slice())
            .unwrap_or(&zero);
        let cc = corrected_of(&t.id);
        for (key, sums) in [(&t.tier, &mut tier_sum), (&t.family, &mut fam_sum)] {
            if let Some(k) = key {
                let e = sums
                    .entry(k.clone())
                    .or_insert_with(|| (vec![0; n], vec![0.0; n]));
                add(&mut e.0, c);
                if let Some(cc) = &cc {
                    add_f(&mut e.1, cc);
                }
            }
        }
        out.titles.insert(
            t.id.clone(),
            points(&counts.months, c, cc.as_deref(), overdispersion(t, years)),
        );
    }
    let corrected = counts.corrected.is_some();
    for (groups, sums, target) in [
        (tiers, &tier_sum, &mut out.tiers),
        (families, &fam_sum, &mut out.families),
    ] {
        for g in groups {
            let (c, cc) = sums
                .get(&g.id)
                .cloned()
                .unwrap_or_else(|| (vec![0; n], vec![0.0; n]));
            target.insert(
                g.id.clone(),
                points(
                    &counts.months,
                    &c,
                    corrected.then_some(cc.as_slice()),
                    overdispersion(g, years),
                ),
            );
        }
    }
    if n < 2 * PERIOD {
        notes.push(format!(
            "monthly series cover {n} months ({}..{}); seasonal adjustment needs at least 24, so it is left out",
            counts.months.first().map(|m| m.to_string()).unwrap_or_default(),
            counts.months.last().map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stl_recovers_a_known_seasonal_pattern() {
        // trend 1000 → 1350 over 4 years plus a fixed seasonal pattern that sums to zero
        let pattern = [
            -120.0, -60.0, 40.0, 90.0, 110.0, 60.0, -20.0, -80.0, 30.0, 70.0, 0.0, -120.0,
        ];
        let trend: Vec<f64> = (0..48).map(|i| 1000.0 + 7.5 * i as f64).collect();
        let series: Vec<f64> = trend
            .iter()
            .enumerate()
            .map(|(i, t)| t + pattern[i % 12])
            .collect();
        let sa = seasonally_adjust(&series).unwrap();
        for (i, (a, t)) in sa.iter().zip(&trend).enumerate() {
            assert!(
                (a - t).abs() < 12.0,
                "month {i}: adjusted {a:.1} vs trend {t:.1}"
            );
        }
        // and the removed component is the pattern
        let removed: Vec<f64> = series.iter().zip(&sa).map(|(s, a)| s - a).collect();
        for (i, r) in removed.iter().enumerate().skip(12).take(24) {
            assert!((r - pattern[i % 12]).abs() < 12.0, "month {i}: {r:.1}");
        }
        assert!(seasonally_adjust(&series[..23]).is_none());
    }

    #[test]
    fn moving_average_and_year_over_year() {
        let months: Vec<YearMonth> = (1..=12)
            .map(|m| YearMonth::new(2024, m))
            .chain((1..=2).map(|m| YearMonth::new(2025, m)))
            .collect();
        let counts: Vec<u64> = (0..14).map(|i| 100 + 10 * i).collect();
        let p = points(&months, &counts, None, 1.0);
        assert_eq!(p[0].ma3, None);
        assert_eq!(p[2].ma3, Some(110.0));
        assert_eq!(p[11].yoy, None);
        let g = p[12].yoy.unwrap();
        assert!((g - (220.0 / 100.0 - 1.0)).abs() < 1e-12);
        let (lo, hi) = p[12].yoy_ci95.unwrap();
        assert!(lo < g && g < hi);
        // overdispersion widens the interval
        let wide = points(&months, &counts, None, 4.0)[12].yoy_ci95.unwrap();
        assert!(wide.0 < lo && wide.1 > hi);
        assert!(p.iter().all(|x| x.sa.is_none()));
    }
}

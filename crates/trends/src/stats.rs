//! Confidence intervals for changes in posting counts, clustered by company.
//!
//! Method (see `docs/report.md`): the change of a group between two windows is the count ratio
//! R = Y₁/Y₀ − 1. Its interval is a **log-ratio interval with a company-cluster-robust
//! (sandwich) variance**: treating companies as the sampled units, the linearised influence of
//! company c on log R is u_c = y_c1/Y₁ − y_c0/Y₀, and Var(log R) ≈ C/(C−1)·Σ u_c². The sums it
//! needs (Σy², Σy₁y₀ over companies) are plain aggregates, so the engine computes them in the same
//! plan as the counts — at any scale, deterministically, with no resampling. It is the
//! large-sample equivalent of a company-cluster bootstrap. The variance is floored at the Poisson
//! variance 1/Y₁ + 1/Y₀, so a group posted by one or two companies never gets a falsely narrow
//! interval (the cluster estimate is degenerate with few clusters).
//!
//! The excess over the baseline, (1+g)/(1+g_all) − 1, gets the same treatment with
//! u_c − u_c(all), the baseline's own per-company influence subtracted.

use serde::Serialize;

/// 97.5% standard-normal quantile.
pub const Z95: f64 = 1.959963984540054;

/// Per-pair company sums for one group, as the engine returns them.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PairSums {
    /// Postings in the current and previous window.
    pub y_cur: f64,
    pub y_prev: f64,
    /// Σ_c y_c,cur², Σ_c y_c,prev², Σ_c y_c,cur·y_c,prev.
    pub sq_cur: f64,
    pub sq_prev: f64,
    pub cross: f64,
    /// Companies with a posting of the group in either window.
    pub companies: f64,
    /// Σ_c y_c,cur·a_c,cur, y_c,cur·a_c,prev, y_c,prev·a_c,cur, y_c,prev·a_c,prev, where a is all
    /// postings of company c (the baseline).
    pub ta_cc: f64,
    pub ta_cp: f64,
    pub ta_pc: f64,
    pub ta_pp: f64,
}

/// A change with its interval, as fractions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
    /// Standard error of the log ratio.
    pub se_log: f64,
}

/// Σ u_c² for a group (without the C/(C−1) factor).
fn sum_u2(s: &PairSums) -> f64 {
    s.sq_cur / (s.y_cur * s.y_cur) + s.sq_prev / (s.y_prev * s.y_prev)
        - 2.0 * s.cross / (s.y_cur * s.y_prev)
}

fn small_sample_factor(c: f64) -> f64 {
    if c > 1.0 {
        c / (c - 1.0)
    } else {
        1.0
    }
}

/// The change Y_cur/Y_prev − 1 with its 95% interval. `None` when the previous window is empty.
pub fn change(s: &PairSums) -> Option<Estimate> {
    if s.y_prev <= 0.0 {
        return None;
    }
    let value = s.y_cur / s.y_prev - 1.0;
    // zero counts: centre and variance on 0.5-corrected counts so the interval stays finite
    let (yc, yp) = if s.y_cur <= 0.0 {
        (0.5, s.y_prev + 0.5)
    } else {
        (s.y_cur, s.y_prev)
    };
    let poisson = 1.0 / yc + 1.0 / yp;
    let cluster = if s.y_cur > 0.0 {
        small_sample_factor(s.companies) * sum_u2(s).max(0.0)
    } else {
        0.0
    };
    let var = poisson.max(cluster);
    let se = var.sqrt();
    let centre = (yc / yp).ln();
    Some(Estimate {
        value,
        lo: ((centre - Z95 * se).exp() - 1.0).max(-1.0),
        hi: (centre + Z95 * se).exp() - 1.0,
        se_log: se,
    })
}

/// The excess ratio (1+g)/(1+g_all) − 1 with its interval. `all` is the baseline's sums,
/// `all_companies` the number of companies posting anything in either window.
pub fn excess_ratio(s: &PairSums, all: &PairSums, all_companies: f64) -> Option<Estimate> {
    if s.y_prev <= 0.0 || all.y_prev <= 0.0 || all.y_cur <= 0.0 {
        return None;
    }
    let r_title = s.y_cur / s.y_prev;
    let r_all = all.y_cur / all.y_prev;
    let value = r_title / r_all - 1.0;
    let (yc, yp) = if s.y_cur <= 0.0 {
        (0.5, s.y_prev + 0.5)
    } else {
        (s.y_cur, s.y_prev)
    };
    // multinomial floor: the title is part of the total
    let floor = (1.0 / yc - 1.0 / all.y_cur).max(0.0) + (1.0 / yp - 1.0 / all.y_prev).max(0.0);
    let cluster = if s.y_cur > 0.0 {
        let st = sum_u2(s);
        let sa = sum_u2(all);
        let sta = s.ta_cc / (s.y_cur * all.y_cur)
            - s.ta_cp / (s.y_cur * all.y_prev)
            - s.ta_pc / (s.y_prev * all.y_cur)
            + s.ta_pp / (s.y_prev * all.y_prev);
        small_sample_factor(all_companies) * (st - 2.0 * sta + sa).max(0.0)
    } else {
        0.0
    };
    let se = floor.max(cluster).sqrt();
    let centre = ((yc / yp) / r_all).ln();
    Some(Estimate {
        value,
        lo: ((centre - Z95 * se).exp() - 1.0).max(-1.0),
        hi: (centre + Z95 * se).exp() - 1.0,
        se_log: se,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(companies: &[(f64, f64)]) -> PairSums {
        let mut s = PairSums::default();
        for &(c, p) in companies {
            s.y_cur += c;
            s.y_prev += p;
            s.sq_cur += c * c;
            s.sq_prev += p * p;
            s.cross += c * p;
            if c + p > 0.0 {
                s.companies += 1.0;
            }
        }
        s
    }

    #[test]
    fn many_small_companies_give_poisson_width() {
        // 1000 companies posting 1 each → cluster variance ≈ Poisson variance
        let s = sums(&vec![(1.0, 1.0); 1000]);
        let e = change(&s).unwrap();
        assert!(e.value.abs() < 1e-12);
        let poisson_se = (2.0f64 / 1000.0).sqrt();
        assert!(
            (e.se_log - poisson_se).abs() / poisson_se < 0.05,
            "{}",
            e.se_log
        );
    }

    #[test]
    fn concentrated_companies_widen_the_interval() {
        // the same totals posted by 10 companies whose volumes swing
        let mut v = Vec::new();
        for i in 0..10 {
            let (c, p) = if i % 2 == 0 {
                (150.0, 50.0)
            } else {
                (50.0, 150.0)
            };
            v.push((c, p));
        }
        let s = sums(&v);
        let e = change(&s).unwrap();
        let poisson_se = (2.0f64 / 1000.0).sqrt();
        assert!(
            e.se_log > 5.0 * poisson_se,
            "{} vs {}",
            e.se_log,
            poisson_se
        );
        assert!(e.lo < 0.0 && e.hi > 0.0);
    }

    #[test]
    fn single_company_is_floored_at_poisson() {
        let s = sums(&[(80.0, 100.0)]);
        let e = change(&s).unwrap();
        assert!((e.value + 0.2).abs() < 1e-12);
        assert!((e.se_log - (1.0 / 80.0 + 1.0 / 100.0f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn zero_previous_has_no_change_and_zero_current_is_minus_100() {
        assert!(change(&sums(&[(5.0, 0.0)])).is_none());
        let e = change(&sums(&[(0.0, 40.0)])).unwrap();
        assert_eq!(e.value, -1.0);
        assert!(e.lo >= -1.0 && e.hi > -1.0 && e.hi.is_finite());
    }

    #[test]
    fn excess_ratio_matches_definition() {
        let t = sums(&[(70.0, 100.0)]);
        let mut all = sums(&[(920.0, 1000.0)]);
        all.companies = 1.0;
        let mut t2 = t;
        t2.ta_cc = 70.0 * 920.0;
        t2.ta_cp = 70.0 * 1000.0;
        t2.ta_pc = 100.0 * 920.0;
        t2.ta_pp = 100.0 * 1000.0;
        let e = excess_ratio(&t2, &all, 1.0).unwrap();
        assert!((e.value - (0.7 / 0.92 - 1.0)).abs() < 1e-12);
        assert!(e.lo < e.value && e.value < e.hi);
    }
}

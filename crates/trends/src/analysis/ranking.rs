//! Step 5 of the analysis: which titles are ranked (the volume rule), the decliners and
//! gainers among them, and the emerging titles below the rule.

use super::{Movers, Series};
use crate::options::{RankBy, TrendOptions};

/// The movers, and the volume rule (minimum postings in the previous window, and how it was
/// set). Marks each title `ranked`.
pub(super) fn movers(
    titles: &mut [Series],
    baseline: &Series,
    opts: &TrendOptions,
    rank_by: RankBy,
    years: &[i32],
    notes: &mut Vec<String>,
) -> (Movers, u64, String) {
    let (latest, prev) = super::compared_years(years);
    let base_prev = baseline.count(prev);
    let (min_postings, min_rule) = match opts.min_postings {
        Some(n) => (
            n,
            format!("given: at least {n} postings in the {prev} window"),
        ),
        None => {
            let n = 50u64.max(base_prev.div_ceil(10_000));
            (n, format!(
                "default: at least max(50, 1 in 10,000 of all postings in the {prev} window = {}) = {n} postings in the {prev} window",
                base_prev.div_ceil(10_000)
            ))
        }
    };
    for t in titles.iter_mut() {
        t.ranked = t.count(prev) >= min_postings;
    }
    let metric = |s: &Series| -> Option<f64> {
        match rank_by {
            RankBy::Change => s.change_in(latest),
            RankBy::Share => s.excess_ratio.get(&latest).copied().flatten(),
        }
    };
    let mut ranked: Vec<(&Series, f64)> = titles
        .iter()
        .filter(|t| t.ranked)
        .filter_map(|t| metric(t).map(|m| (t, m)))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.id.cmp(&b.0.id)));
    let decliners: Vec<String> = ranked
        .iter()
        .filter(|(_, m)| *m < 0.0)
        .take(opts.top)
        .map(|(t, _)| t.id.clone())
        .collect();
    let gainers: Vec<String> = ranked
        .iter()
        .rev()
        .filter(|(_, m)| *m > 0.0)
        .take(opts.top)
        .map(|(t, _)| t.id.clone())
        .collect();
    let emerging_floor = 10u64.max(min_postings / 5);
    let mut emerging: Vec<(&Series, f64)> = titles
        .iter()
        .filter(|t| !t.ranked && t.count(latest) >= emerging_floor)
        .filter_map(|t| {
            let (c, p) = (t.count(latest) as f64, t.count(prev) as f64);
            if p == 0.0 || c / p >= 2.0 {
                Some((t, c / p.max(0.5)))
            } else {
                None
            }
        })
        .collect();
    emerging.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
    let emerging: Vec<String> = emerging
        .iter()
        .take(opts.top)
        .map(|(t, _)| t.id.clone())
        .collect();
    let ranked_count = titles.iter().filter(|t| t.ranked).count();
    notes.push(format!(
        "{ranked_count} of {} observed titles meet the volume rule ({min_rule}); emerging: below it, at least {emerging_floor} postings in {latest} and at least doubled (or new)",
        titles.len()
    ));
    let movers = Movers {
        decliners,
        gainers,
        emerging,
        metric: rank_by,
    };

    (movers, min_postings, min_rule)
}

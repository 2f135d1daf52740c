//! Step 4 of the analysis: what kind of market the data is — a broad one, read by change in
//! postings against the baseline, or a single sector (mostly tech), read by change in share.

use super::{Market, Series, TECH_FAMILIES, TECH_ONLY_SHARE};
use crate::options::{RankBy, TrendOptions};

/// The market kind from the classified titles' families (or `--rank-by`).
pub(super) fn kind(titles: &[Series], opts: &TrendOptions) -> Market {
    let classified_total: u64 = titles.iter().map(|t| t.counts.values().sum::<u64>()).sum();
    let tech_total: u64 = titles
        .iter()
        .filter(|t| {
            t.family
                .as_deref()
                .is_some_and(|f| TECH_FAMILIES.contains(&f))
        })
        .map(|t| t.counts.values().sum::<u64>())
        .sum();
    let tech_share = if classified_total > 0 {
        tech_total as f64 / classified_total as f64
    } else {
        0.0
    };
    let (rank_by, auto) = match opts.rank_by {
        Some(r) => (r, false),
        None => (
            if tech_share >= TECH_ONLY_SHARE {
                RankBy::Share
            } else {
                RankBy::Change
            },
            true,
        ),
    };
    let note = match rank_by {
        RankBy::Share => format!(
            "{:.0}% of classified postings are tech roles: this is a single-sector market, whose total \
             follows that sector's hiring cycle rather than the labour market. Titles are compared by \
             their share of postings (change in share = excess ratio), not by raw counts.",
            100.0 * tech_share
        ),
        RankBy::Change => format!(
            "Broad market ({:.0}% tech roles): titles are ranked by their change in postings and read against the all-postings baseline.",
            100.0 * tech_share
        ),
    };
    Market {
        tech_share,
        rank_by,
        auto,
        note,
    }
}

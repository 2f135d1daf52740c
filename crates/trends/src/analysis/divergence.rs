//! Step 6 of the analysis: titles whose change differs from the rest of their family.

use super::{Divergence, Series};

/// Every ranked title against the rest of its family (when that rest meets the volume rule),
/// largest divergence first.
pub(super) fn within_family(
    families: &[Series],
    titles: &[Series],
    min_postings: u64,
    years: &[i32],
) -> Vec<Divergence> {
    let (latest, prev) = super::compared_years(years);
    let mut divergence = Vec::new();
    for f in families {
        let (fc, fp) = (f.count(latest) as f64, f.count(prev) as f64);
        for t in titles
            .iter()
            .filter(|t| t.ranked && t.family.as_deref() == Some(f.id.as_str()))
        {
            let (tc, tp) = (t.count(latest) as f64, t.count(prev) as f64);
            let (rc, rp) = (fc - tc, fp - tp);
            if rp < min_postings as f64 {
                continue;
            }
            let Some(g) = t.change_in(latest) else {
                continue;
            };
            let rest = rc / rp - 1.0;
            let significant = t
                .ci95
                .get(&latest)
                .copied()
                .flatten()
                .is_some_and(|(lo, hi)| rest < lo || rest > hi);
            divergence.push(Divergence {
                family: f.id.clone(),
                family_name: f.name.clone(),
                title_id: t.id.clone(),
                title_name: t.name.clone(),
                title_change: g,
                rest_change: rest,
                divergence: g - rest,
                significant,
            });
        }
    }
    divergence.sort_by(|a, b| {
        b.divergence
            .abs()
            .total_cmp(&a.divergence.abs())
            .then_with(|| a.title_id.cmp(&b.title_id))
    });

    divergence
}

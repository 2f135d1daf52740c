//! Step 8 of the analysis (`--corrected`): title counts corrected for misclassification with
//! the classifier's confusion matrix (EM), bootstrap intervals, and the corrected tiers, families
//! and unclassified remainder beside the raw ones.

use super::{CorrectionInfo, Series};
use crate::correction::{self, Confusion};
use crate::monthly::{self, MonthlyCounts};
use crate::options::TrendOptions;
use crate::stats;
use crate::TrendsError;
use jobshift_core::classified::ClassifiedManifest;
use jobshift_core::schema;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The series the correction fills in (their `corrected_*` fields).
pub(super) struct Corrected<'a> {
    pub titles: &'a mut [Series],
    pub tiers: &'a mut [Series],
    pub families: &'a mut [Series],
    pub unclassified: &'a mut Series,
    pub baseline: &'a Series,
    pub monthly: &'a mut MonthlyCounts,
}

/// Replicate → window year → corrected count (of a title, or of every title).
type Replicates = Vec<BTreeMap<i32, f64>>;

/// With `--corrected`, correct every series in `s` and describe how; else `None`.
pub(super) fn correct(
    opts: &TrendOptions,
    classified_dir: &Path,
    manifest: Option<&ClassifiedManifest>,
    s: Corrected<'_>,
    years: &[i32],
    min_postings: u64,
    notes: &mut Vec<String>,
) -> Result<Option<CorrectionInfo>, TrendsError> {
    if !opts.corrected {
        return Ok(None);
    }
    let Corrected {
        titles,
        tiers,
        families,
        unclassified,
        baseline,
        monthly: monthly_counts,
    } = s;
    let path = find_confusion(opts, classified_dir, manifest)?;
    let measured = Confusion::load(&path).map_err(TrendsError::Confusion)?;
    let conf = measured.covering(titles.iter().map(|t| t.id.as_str()));
    monthly_counts.corrected = Some(monthly::correct(&conf, monthly_counts));
    // observed counts per window year, the unclassified among them
    let observed_by_year: BTreeMap<i32, BTreeMap<String, f64>> = years
        .iter()
        .map(|&y| {
            let mut o: BTreeMap<String, f64> = titles
                .iter()
                .map(|t| (t.id.clone(), t.count(y) as f64))
                .collect();
            o.insert(schema::UNCLASSIFIED.into(), unclassified.count(y) as f64);
            (y, o)
        })
        .collect();
    let (corrected, iterations, converged) = em_by_year(&conf, &observed_by_year, notes);
    // the uncertainty of the corrected counts: bootstrap over the confusion matrix's labelled
    // examples and the counts' own sampling noise (see correction.rs)
    let overdispersion: BTreeMap<String, f64> = titles
        .iter()
        .filter_map(|t| monthly::overdispersion_ratio(t, years).map(|phi| (t.id.clone(), phi)))
        .collect();
    let replicates = conf.bootstrap(
        &observed_by_year,
        &overdispersion,
        opts.correction_replicates,
        opts.seed,
    );
    correct_titles(titles, &corrected, &replicates, years, min_postings, notes);
    correct_sums(tiers, titles, &replicates, years, |t| t.tier.as_ref());
    correct_sums(families, titles, &replicates, years, |t| t.family.as_ref());
    // after correction the unclassified mass is attributed to titles; keep the raw count beside
    let mut counts = BTreeMap::new();
    for &y in years {
        let total_titles: f64 = titles
            .iter()
            .map(|t| {
                t.corrected_counts
                    .as_ref()
                    .and_then(|m| m.get(&y))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum();
        counts.insert(y, (baseline.count(y) as f64 - total_titles).max(0.0));
    }
    unclassified.corrected_counts = Some(counts);
    Ok(Some(CorrectionInfo {
        confusion_file: path.display().to_string(),
        method: format!(
            "EM / iterative Bayesian unfolding (Poisson maximum likelihood of o = Pᵀx, x ≥ 0); \
             95% intervals from {} bootstrap replicates resampling the confusion matrix's \
             labelled examples and the counts' sampling noise (seed {})",
            opts.correction_replicates, opts.seed
        ),
        examples: measured.examples,
        titles_covered: measured.rates.len(),
        iterations,
        converged,
        tolerance: correction::EM_TOLERANCE,
        max_iterations: correction::EM_MAX_ITERATIONS,
    }))
}

/// The EM point estimate per window year: title → year → corrected count, and per year the
/// iterations used and whether EM converged (a note when it did not).
#[allow(clippy::type_complexity)]
fn em_by_year(
    conf: &Confusion,
    observed_by_year: &BTreeMap<i32, BTreeMap<String, f64>>,
    notes: &mut Vec<String>,
) -> (
    BTreeMap<String, BTreeMap<i32, f64>>,
    BTreeMap<i32, usize>,
    BTreeMap<i32, bool>,
) {
    let mut iterations = BTreeMap::new();
    let mut converged = BTreeMap::new();
    let mut corrected: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    for (&y, observed) in observed_by_year {
        let (x, run) = conf.correct(observed);
        iterations.insert(y, run.iterations);
        converged.insert(y, run.converged);
        if !run.converged {
            notes.push(format!(
                "misclassification correction: EM did not converge for {y} within {} iterations \
                 (relative change of the counts per iteration still ≥ {:e}): the confusion matrix leaves some titles nearly indistinguishable, so their corrected counts are approximate",
                correction::EM_MAX_ITERATIONS,
                correction::EM_TOLERANCE
            ));
        }
        for (id, v) in x {
            corrected.entry(id).or_default().insert(y, v);
        }
    }
    (corrected, iterations, converged)
}

/// Each title's corrected counts, changes and intervals. A title the correction leaves with
/// fewer postings in a previous window than the ranking minimum gets no corrected change there
/// (EM can drive a count it cannot tell apart from a neighbour's to ~0, and the ratio explodes).
fn correct_titles(
    titles: &mut [Series],
    corrected: &BTreeMap<String, BTreeMap<i32, f64>>,
    replicates: &[BTreeMap<i32, BTreeMap<String, f64>>],
    years: &[i32],
    min_postings: u64,
    notes: &mut Vec<String>,
) {
    let (latest, prev) = super::compared_years(years);
    let mut below_minimum = 0usize;
    for t in titles.iter_mut() {
        let counts = corrected.get(&t.id).cloned().unwrap_or_default();
        let reps: Replicates = replicates
            .iter()
            .map(|r| {
                r.iter()
                    .map(|(y, c)| (*y, c.get(&t.id).copied().unwrap_or(0.0)))
                    .collect()
            })
            .collect();
        set_corrected(t, counts, &reps, years);
        for w in years.windows(2) {
            let cp = t
                .corrected_counts
                .as_ref()
                .and_then(|c| c.get(&w[0]).copied())
                .unwrap_or(0.0);
            if cp < min_postings as f64 {
                if let Some(ch) = t.corrected_change.as_mut() {
                    ch.insert(w[1], None);
                }
                if let Some(ci) = t.corrected_ci95.as_mut() {
                    ci.insert(w[1], None);
                }
                if w[1] == latest && t.ranked {
                    below_minimum += 1;
                }
            }
        }
    }
    if below_minimum > 0 {
        notes.push(format!(
            "misclassification correction: {below_minimum} ranked title(s) have fewer than {min_postings} corrected postings in {prev}; \
             their corrected change is not shown (the confusion matrix cannot tell them apart from titles it confuses them with)"
        ));
    }
}

/// Tiers or families (`groups`): the sums of their titles' corrected counts (titles in order,
/// years in order), with intervals from the same sums over each bootstrap replicate.
fn correct_sums(
    groups: &mut [Series],
    titles: &[Series],
    replicates: &[BTreeMap<i32, BTreeMap<String, f64>>],
    years: &[i32],
    group_of: impl Fn(&Series) -> Option<&String>,
) {
    let mut sums: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    let mut member_of: BTreeMap<String, String> = BTreeMap::new();
    for t in titles {
        let Some(g) = group_of(t) else { continue };
        member_of.insert(t.id.clone(), g.clone());
        for (y, v) in t.corrected_counts.iter().flatten() {
            *sums.entry(g.clone()).or_default().entry(*y).or_default() += v;
        }
    }
    for s in groups.iter_mut() {
        let counts = sums.remove(&s.id).unwrap_or_default();
        // replicate → year → the group's corrected count
        let reps: Replicates = replicates
            .iter()
            .map(|r| {
                r.iter()
                    .map(|(y, counts)| {
                        let sum: f64 = counts
                            .iter()
                            .filter(|(id, _)| member_of.get(id.as_str()) == Some(&s.id))
                            .map(|(_, v)| *v)
                            .sum();
                        (*y, sum)
                    })
                    .collect()
            })
            .collect();
        set_corrected(s, counts, &reps, years);
    }
}

/// Set a series' corrected counts, the change between consecutive windows and its 95 %
/// interval (log scale, the standard error from the bootstrap replicates `reps`).
fn set_corrected(s: &mut Series, counts: BTreeMap<i32, f64>, reps: &Replicates, years: &[i32]) {
    let mut ch = BTreeMap::new();
    let mut ci = BTreeMap::new();
    for w in years.windows(2) {
        let (p, c) = (w[0], w[1]);
        let (cp, cc) = (
            counts.get(&p).copied().unwrap_or(0.0),
            counts.get(&c).copied().unwrap_or(0.0),
        );
        let g = if cp > 0.0 { Some(cc / cp - 1.0) } else { None };
        ch.insert(c, g);
        let se = correction::log_change_se(reps.iter().map(|r| {
            (
                r.get(&p).copied().unwrap_or(0.0),
                r.get(&c).copied().unwrap_or(0.0),
            )
        }));
        ci.insert(
            c,
            match (g, se) {
                (Some(g), Some(se)) if g > -1.0 => Some((
                    ((1.0 + g).ln() - stats::Z95 * se).exp() - 1.0,
                    ((1.0 + g).ln() + stats::Z95 * se).exp() - 1.0,
                )),
                _ => None,
            },
        );
    }
    s.corrected_counts = Some(counts);
    s.corrected_change = Some(ch);
    s.corrected_ci95 = Some(ci);
}

/// Where the confusion matrix is: --confusion, else the one the manifest names (the generator's
/// `confusion`, or `confusion.json` in the classifier directory classify recorded), else
/// classified/confusion.json.
fn find_confusion(
    opts: &TrendOptions,
    classified_dir: &Path,
    manifest: Option<&ClassifiedManifest>,
) -> Result<PathBuf, TrendsError> {
    if let Some(p) = &opts.confusion {
        return Ok(p.clone());
    }
    let mut tried = Vec::new();
    if let Some(m) = manifest {
        // the generator names its simulated matrix; classify names its classifier directory
        if let Some(p) = &m.confusion {
            tried.push(PathBuf::from(p));
        }
        if let Some(id) = m.identity() {
            tried.push(id.dir.join("confusion.json"));
        }
    }
    tried.push(classified_dir.join("confusion.json"));
    for p in &tried {
        if p.is_file() {
            return Ok(p.clone());
        }
    }
    Err(TrendsError::Confusion(format!(
        "--corrected needs the classifier's confusion matrix; none found at {}; pass --confusion FILE",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )))
}

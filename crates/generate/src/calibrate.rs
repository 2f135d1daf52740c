//! Calibration to the study: per-title volumes and year-over-year changes.
//!
//! The study's figures (`data/study_changes.csv`, transcribed from the BRIEF) fix the change of
//! every title it names, the three seniority tiers and the market baseline. The generator must
//! reproduce all of them at once, so the changes of the titles it does NOT name are solved for:
//!
//! 1. every title gets a heavy-tailed base volume (its Jan–Oct 2024 level);
//! 2. the tier volume shares are chosen so the tier changes average to the baseline
//!    (`s_sl·C_sl + s_mm·C_mm + s_ic·C_ic = B`, with `s_sl` fixed), which makes the baseline exact;
//! 3. within each tier the unnamed titles get `c = clamp(μ_tier + δ_title)`, where `δ` is a seeded
//!    family offset plus title spread, and `μ_tier` is solved (bisection) so the tier's
//!    volume-weighted change is exactly the study's. If named titles dominate a tier so much that no
//!    `μ` within the clamps works, the unnamed titles' volume in that tier is raised first.
//! 4. 2024 vs 2023: the study gives only a few titles; the rest are solved so the baseline hits the
//!    configured (assumed) 2024 baseline.
//!
//! All changes are fractions here (-0.08 = -8%); the CSV holds percent.

use crate::catalog::{Catalog, TitleSpec};
use crate::rng::{rng_for, std_normal, Key};
use crate::GenerateError;
use jobshift_core::{Level, Tier};
use rand::Rng;

const STUDY_CHANGES_CSV: &str = include_str!("../data/study_changes.csv");

/// Share of senior leadership in 2024 postings volume; the other two tier shares follow from
/// the baseline equation. ~6% is the order of magnitude of director-and-above postings.
pub const SENIOR_LEADERSHIP_SHARE: f64 = 0.06;

/// Spread of unnamed titles around their tier's solved mean (fraction, standard deviation).
const TITLE_SPREAD_SD: f64 = 0.05;
/// Spread of family offsets around the tier mean.
const FAMILY_SPREAD_SD: f64 = 0.03;
/// Bounds for solved (unnamed) changes, so the study's named extremes stay the extremes.
const SOLVED_MIN: f64 = -0.21;
const SOLVED_MAX: f64 = 0.15;

/// A title change the study reports.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedChange {
    pub title_id: String,
    pub change_2025: Option<f64>,
    pub change_2024: Option<f64>,
    pub note: String,
}

/// A rule for the titles of a family the study does not name individually.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyRule {
    pub family: String,
    /// Fixed centre for the family's unnamed titles (e.g. marketing about -8%).
    pub change_2025: Option<f64>,
    pub note: String,
}

/// The study's figures as the generator uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyTargets {
    pub baseline_2025: f64,
    pub baseline_2024: f64,
    pub tiers_2025: Vec<(Tier, f64)>,
    pub titles: Vec<NamedChange>,
    pub family_rules: Vec<FamilyRule>,
}

fn parse_pct(s: &str, line: usize, col: &str) -> Result<Option<f64>, GenerateError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>().map(|v| Some(v / 100.0)).map_err(|_| {
        GenerateError::Calibration(format!(
            "study changes line {line}: column {col} is {s:?}, expected a percentage like -8.0"
        ))
    })
}

impl StudyTargets {
    /// The figures of the study (`data/study_changes.csv`).
    pub fn study() -> Self {
        Self::parse_csv(STUDY_CHANGES_CSV).expect("data/study_changes.csv is committed and valid")
    }

    /// Parse the `key,kind,change_2025_vs_2024,change_2024_vs_2023,note` format.
    pub fn parse_csv(text: &str) -> Result<Self, GenerateError> {
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let mut t = StudyTargets {
            baseline_2025: -0.08,
            baseline_2024: -0.05,
            tiers_2025: Vec::new(),
            titles: Vec::new(),
            family_rules: Vec::new(),
        };
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| {
                GenerateError::Calibration(format!("study changes line {line}: {e}"))
            })?;
            if rec.len() < 5 {
                return Err(GenerateError::Calibration(format!(
                    "study changes line {line}: expected 5 columns (key,kind,change_2025_vs_2024,change_2024_vs_2023,note), got {}",
                    rec.len()
                )));
            }
            let key = rec[0].trim().to_string();
            let c25 = parse_pct(&rec[2], line, "change_2025_vs_2024")?;
            let c24 = parse_pct(&rec[3], line, "change_2024_vs_2023")?;
            let note = rec[4].to_string();
            match rec[1].trim() {
                "baseline" => {
                    t.baseline_2025 = c25.unwrap_or(t.baseline_2025);
                    t.baseline_2024 = c24.unwrap_or(t.baseline_2024);
                }
                "tier" => {
                    let tier: Tier = key
                        .parse()
                        .map_err(|e| GenerateError::Calibration(format!("study changes line {line}: {e}")))?;
                    let c = c25.ok_or_else(|| {
                        GenerateError::Calibration(format!("study changes line {line}: tier {key} needs a 2025 change"))
                    })?;
                    t.tiers_2025.push((tier, c));
                }
                "title" => t.titles.push(NamedChange { title_id: key, change_2025: c25, change_2024: c24, note }),
                "family_rest" => t.family_rules.push(FamilyRule { family: key, change_2025: c25, note }),
                other => {
                    return Err(GenerateError::Calibration(format!(
                        "study changes line {line}: kind {other:?}; expected baseline, tier, title or family_rest"
                    )))
                }
            }
        }
        Ok(t)
    }

    pub fn tier_change(&self, tier: Tier) -> Option<f64> {
        self.tiers_2025
            .iter()
            .find(|(t, _)| *t == tier)
            .map(|(_, c)| *c)
    }
    pub fn named(&self, id: &str) -> Option<&NamedChange> {
        self.titles.iter().find(|n| n.title_id == id)
    }
}

/// Where a title's injected change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// Reported (or, where the BRIEF gives only a direction or a range, chosen) from the study.
    Study,
    /// The study's statement about a family's other titles.
    FamilyRule,
    /// Solved so tier and baseline aggregates match the study.
    Solved,
}

impl ChangeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Study => "study",
            ChangeSource::FamilyRule => "family_rule",
            ChangeSource::Solved => "solved",
        }
    }
}

/// The injected truth for one title.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleCalibration {
    pub title_id: String,
    pub family: String,
    pub level: Level,
    /// Relative Jan–Oct 2024 volume (all titles sum to 1).
    pub volume_2024: f64,
    /// Injected 2024-vs-2023 change (fraction).
    pub change_2024: f64,
    /// Injected 2025-vs-2024 change (fraction).
    pub change_2025: f64,
    pub source_2024: ChangeSource,
    pub source_2025: ChangeSource,
}

impl TitleCalibration {
    pub fn tier(&self) -> Tier {
        self.level.tier()
    }
    /// Annual level (relative volume) for a calendar year; years before 2023 repeat 2023 and
    /// years after 2025 repeat 2025.
    pub fn level_for_year(&self, year: i32) -> f64 {
        match year {
            y if y <= 2023 => self.volume_2024 / (1.0 + self.change_2024),
            2024 => self.volume_2024,
            _ => self.volume_2024 * (1.0 + self.change_2025),
        }
    }
}

/// Calibrated volumes and changes for every title of a catalog.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub titles: Vec<TitleCalibration>,
    /// 2024 volume share per tier (IC, MM, SL order of `Tier::ALL`).
    pub tier_shares: [(Tier, f64); 3],
    pub targets: StudyTargets,
    /// Study titles (ids) that the catalog does not contain, so cannot be injected.
    pub missing_named: Vec<String>,
}

/// Relative posting volume of a few very common titles (the long tail is lognormal).
const VOLUME_HINTS: &[(&str, f64)] = &[
    ("registered_nurse", 12.0),
    ("software_engineer", 8.0),
    ("customer_service_representative", 6.0),
    ("retail_sales_associate", 6.0),
    ("truck_driver", 5.0),
    ("warehouse_associate", 5.0),
    ("cashier", 4.0),
    ("administrative_assistant", 3.0),
    ("medical_assistant", 3.0),
    ("account_executive", 3.0),
    ("account_manager", 3.0),
    ("sales_manager", 3.0),
    ("project_manager", 3.0),
    ("line_cook", 3.0),
    ("teacher", 3.0),
    ("accountant", 2.5),
    ("data_analyst", 2.5),
    ("store_manager", 2.5),
    ("operations_manager", 2.0),
    ("gtm_engineer", 0.03),
];

/// Relative posting volume of a family's titles.
fn family_weight(family: &str) -> f64 {
    match family {
        "healthcare_clinical" => 2.0,
        "sales" | "retail" | "customer_service" => 1.6,
        "software_engineering" => 1.5,
        "hospitality_food" | "transportation_logistics" | "operations_supply_chain" => 1.3,
        "administrative_support" | "finance_accounting" | "data_ai" | "it_infrastructure" => 1.0,
        "sustainability_environment" | "communications" | "arts_entertainment_sports" => 0.35,
        "creative_media" | "science_research" | "legal_compliance" => 0.5,
        _ => 0.8,
    }
}

fn solved_bounds(family: &str) -> (f64, f64) {
    match family {
        // the study: Frontend Engineer (-9%) is the largest fall among software roles
        "software_engineering" => (-0.06, 0.06),
        _ => (SOLVED_MIN, SOLVED_MAX),
    }
}

/// Find μ with Σ v·g(clamp(μ+δ)) = target by bisection (g is monotone increasing in μ for 2025
/// and decreasing for 2023; `increasing` says which).
fn bisect_mu(
    items: &[(f64, f64, (f64, f64))],
    target: f64,
    g: impl Fn(f64) -> f64,
    increasing: bool,
) -> Option<f64> {
    let f = |mu: f64| -> f64 {
        items
            .iter()
            .map(|(v, d, (lo, hi))| v * g((mu + d).clamp(*lo, *hi)))
            .sum::<f64>()
            - target
    };
    let (mut lo, mut hi) = (-1.0, 1.0);
    let (flo, fhi) = (f(lo), f(hi));
    let ok = if increasing {
        flo <= 0.0 && fhi >= 0.0
    } else {
        flo >= 0.0 && fhi <= 0.0
    };
    if !ok {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let fm = f(mid);
        if (fm <= 0.0) == increasing {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mu = 0.5 * (lo + hi);
    if f(mu).abs() <= 1e-9 * target.abs().max(1e-12) {
        Some(mu)
    } else {
        None
    }
}

/// Step 1: each title's base volume and its unnamed offsets for 2025 and 2024 (seeded).
fn base_volumes(titles: &[TitleSpec], seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = titles.len();
    let mut volume = vec![0.0f64; n];
    let mut delta25 = vec![0.0f64; n];
    let mut delta24 = vec![0.0f64; n];
    let mut fam_offset: Vec<(String, f64)> = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        let mut r = rng_for(seed, &[Key::S("title-volume"), Key::S(&t.id)]);
        let hint = VOLUME_HINTS
            .iter()
            .find(|(id, _)| *id == t.id)
            .map(|(_, h)| *h)
            .unwrap_or(1.0);
        // hinted (very common) titles keep most of their hint; the long tail is lognormal
        let sd = if hint != 1.0 { 0.3 } else { 1.1 };
        volume[i] =
            (sd * std_normal(&mut r)).clamp(-3.0, 3.0).exp() * hint * family_weight(&t.family);
        let fo = match fam_offset.iter().find(|(f, _)| *f == t.family) {
            Some((_, v)) => *v,
            None => {
                let mut fr = rng_for(seed, &[Key::S("family-offset"), Key::S(&t.family)]);
                let v = (FAMILY_SPREAD_SD * std_normal(&mut fr)).clamp(-0.06, 0.06);
                fam_offset.push((t.family.clone(), v));
                v
            }
        };
        let mut dr = rng_for(seed, &[Key::S("title-change"), Key::S(&t.id)]);
        delta25[i] = fo + (TITLE_SPREAD_SD * std_normal(&mut dr)).clamp(-0.12, 0.12);
        delta24[i] = (TITLE_SPREAD_SD * std_normal(&mut dr)).clamp(-0.12, 0.12);
    }

    (volume, delta25, delta24)
}

/// Step 2: the 2025 changes fixed by the study (named titles) or by a family rule (jittered).
fn fixed_changes_2025(
    titles: &[TitleSpec],
    targets: &StudyTargets,
    seed: u64,
) -> Vec<Option<(f64, ChangeSource)>> {
    let n = titles.len();
    let mut change25: Vec<Option<(f64, ChangeSource)>> = vec![None; n];
    for (i, t) in titles.iter().enumerate() {
        if let Some(c) = targets.named(&t.id).and_then(|nc| nc.change_2025) {
            change25[i] = Some((c, ChangeSource::Study));
        } else if let Some(rule) = targets.family_rules.iter().find(|r| r.family == t.family) {
            if let Some(c) = rule.change_2025 {
                let mut r = rng_for(seed, &[Key::S("family-rule"), Key::S(&t.id)]);
                let jitter = (r.random::<f64>() - 0.5) * 0.03;
                change25[i] = Some((c + jitter, ChangeSource::FamilyRule));
            }
        }
    }

    change25
}

/// The 2025 changes solved so far: every title's change and where it came from.
struct Changes2025 {
    change: Vec<f64>,
    source: Vec<ChangeSource>,
}

/// Step 3, one tier: makes sure the tier's unnamed titles can absorb the named ones (raising
/// their volume if needed), then solves their common shift μ so the tier reaches its change.
fn solve_tier_2025(
    tier: Tier,
    titles: &[TitleSpec],
    targets: &StudyTargets,
    volume: &mut [f64],
    delta25: &[f64],
    change25: &[Option<(f64, ChangeSource)>],
    out: &mut Changes2025,
) -> Result<(), GenerateError> {
    let n = titles.len();
    let c_tier = targets.tier_change(tier).ok_or_else(|| {
        GenerateError::Calibration(format!(
            "the study targets have no change for tier {}",
            tier.as_str()
        ))
    })?;
    let idx: Vec<usize> = (0..n).filter(|&i| titles[i].level.tier() == tier).collect();
    let fixed: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| change25[i].is_some())
        .collect();
    let free: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| change25[i].is_none())
        .collect();
    if idx.is_empty() {
        return Err(GenerateError::Calibration(format!(
            "the catalog has no title in tier {}; cannot reproduce the study's tier figures",
            tier.as_str()
        )));
    }
    if free.is_empty() {
        return Err(GenerateError::Calibration(format!(
            "every title in tier {} is fixed by the study; at least one unnamed title is needed to reach the tier's {:+.1}%",
            tier.as_str(),
            c_tier * 100.0
        )));
    }
    let fv: f64 = fixed.iter().map(|&i| volume[i]).sum();
    let f_after: f64 = fixed
        .iter()
        .map(|&i| volume[i] * (1.0 + change25[i].map(|c| c.0).unwrap_or(0.0)))
        .sum();
    // the mean change the free titles need is c_tier + (fv/U)(c_tier - mean_fixed);
    // keep it within [-0.15, +0.08] by raising U if necessary
    let mean_fixed = if fv > 0.0 { f_after / fv - 1.0 } else { c_tier };
    let mut u: f64 = free.iter().map(|&i| volume[i]).sum();
    let need = c_tier + fv / u * (c_tier - mean_fixed);
    let (lo_ok, hi_ok) = (-0.15, 0.08);
    if need < lo_ok || need > hi_ok {
        let room = if need < lo_ok {
            c_tier - lo_ok
        } else {
            hi_ok - c_tier
        };
        let u_needed = fv * (c_tier - mean_fixed).abs() / room.max(1e-6);
        let scale = u_needed / u;
        for &i in &free {
            volume[i] *= scale;
        }
        u = u_needed;
    }
    let target = (1.0 + c_tier) * (fv + u) - f_after;
    let items: Vec<(f64, f64, (f64, f64))> = free
        .iter()
        .map(|&i| (volume[i], delta25[i], solved_bounds(&titles[i].family)))
        .collect();
    let mu = bisect_mu(&items, target, |c| 1.0 + c, true).ok_or_else(|| {
        GenerateError::Calibration(format!(
            "cannot solve the unnamed titles of tier {} for {:+.1}% within the bounds",
            tier.as_str(),
            c_tier * 100.0
        ))
    })?;
    for &i in &fixed {
        let (c, s) = change25[i].expect("fixed");
        out.change[i] = c;
        out.source[i] = s;
    }
    for (k, &i) in free.iter().enumerate() {
        let (_, d, (lo, hi)) = items[k];
        out.change[i] = (mu + d).clamp(lo, hi);
        out.source[i] = ChangeSource::Solved;
    }
    Ok(())
}

/// Step 4: tier shares (senior leadership fixed, middle management from the baseline equation,
/// individual contributors the rest); rescales `volume` so each tier has its share.
fn tier_shares(
    titles: &[TitleSpec],
    targets: &StudyTargets,
    volume: &mut [f64],
) -> Result<[(Tier, f64); 3], GenerateError> {
    let n = titles.len();
    let c = |t: Tier| targets.tier_change(t).unwrap_or(targets.baseline_2025);
    let (c_sl, c_mm, c_ic) = (
        c(Tier::SeniorLeadership),
        c(Tier::MiddleManagement),
        c(Tier::IndividualContributors),
    );
    let b = targets.baseline_2025;
    let s_sl = SENIOR_LEADERSHIP_SHARE;
    if (c_mm - c_ic).abs() < 1e-12 {
        return Err(GenerateError::Calibration(
            "middle management and individual contributors have the same change; tier shares are not identifiable".into(),
        ));
    }
    let s_mm = ((b - c_ic) - s_sl * (c_sl - c_ic)) / (c_mm - c_ic);
    let s_ic = 1.0 - s_sl - s_mm;
    if !(0.0..1.0).contains(&s_mm) || !(0.0..1.0).contains(&s_ic) {
        return Err(GenerateError::Calibration(format!(
            "the baseline {:+.1}% is not a mix of the tier changes ({:+.1}%, {:+.1}%, {:+.1}%) with senior leadership at {:.0}%",
            b * 100.0,
            c_sl * 100.0,
            c_mm * 100.0,
            c_ic * 100.0,
            s_sl * 100.0
        )));
    }
    let shares = [
        (Tier::IndividualContributors, s_ic),
        (Tier::MiddleManagement, s_mm),
        (Tier::SeniorLeadership, s_sl),
    ];
    for (tier, share) in shares {
        let tot: f64 = (0..n)
            .filter(|&i| titles[i].level.tier() == tier)
            .map(|i| volume[i])
            .sum();
        for i in 0..n {
            if titles[i].level.tier() == tier {
                volume[i] *= share / tot;
            }
        }
    }

    Ok(shares)
}

/// Step 5: 2024-vs-2023 changes, named where the study reports them, the rest solved for the
/// (assumed) 2024 baseline.
fn changes_2024(
    titles: &[TitleSpec],
    targets: &StudyTargets,
    volume: &[f64],
    delta24: &[f64],
) -> Result<(Vec<f64>, Vec<ChangeSource>), GenerateError> {
    let n = titles.len();
    let mut change24 = vec![0.0f64; n];
    let mut source24 = vec![ChangeSource::Solved; n];
    let mut fixed_before = 0.0;
    let mut items = Vec::new();
    let mut free_idx = Vec::new();
    for i in 0..n {
        if let Some(c24) = targets.named(&titles[i].id).and_then(|nc| nc.change_2024) {
            change24[i] = c24;
            source24[i] = ChangeSource::Study;
            fixed_before += volume[i] / (1.0 + c24);
        } else {
            items.push((volume[i], delta24[i], (SOLVED_MIN, SOLVED_MAX)));
            free_idx.push(i);
        }
    }
    let total_2024: f64 = volume.iter().sum();
    let target_before = total_2024 / (1.0 + targets.baseline_2024) - fixed_before;
    if !free_idx.is_empty() {
        let mu = bisect_mu(&items, target_before, |c| 1.0 / (1.0 + c), false).ok_or_else(|| {
            GenerateError::Calibration(format!(
                "cannot solve 2024-vs-2023 changes for the baseline {:+.1}%",
                targets.baseline_2024 * 100.0
            ))
        })?;
        for (k, &i) in free_idx.iter().enumerate() {
            let (_, d, (lo, hi)) = items[k];
            change24[i] = (mu + d).clamp(lo, hi);
        }
    }
    Ok((change24, source24))
}

impl Calibration {
    /// Solve volumes and changes for `catalog` so the study's figures hold. Deterministic in `seed`.
    pub fn solve(
        catalog: &Catalog,
        targets: &StudyTargets,
        seed: u64,
    ) -> Result<Self, GenerateError> {
        let titles = catalog.titles();
        let n = titles.len();
        let mut missing_named: Vec<String> = targets
            .titles
            .iter()
            .filter(|t| catalog.get(&t.title_id).is_none())
            .map(|t| t.title_id.clone())
            .collect();
        missing_named.sort();
        let (mut volume, delta25, delta24) = base_volumes(titles, seed);
        let change25 = fixed_changes_2025(titles, targets, seed);
        let mut solved = Changes2025 {
            change: vec![0.0f64; n],
            source: vec![ChangeSource::Solved; n],
        };
        for tier in Tier::ALL {
            solve_tier_2025(
                tier,
                titles,
                targets,
                &mut volume,
                &delta25,
                &change25,
                &mut solved,
            )?;
        }
        let shares = tier_shares(titles, targets, &mut volume)?;
        let (change24, source24) = changes_2024(titles, targets, &volume, &delta24)?;
        let (change25_final, source25) = (solved.change, solved.source);
        let out = titles
            .iter()
            .enumerate()
            .map(|(i, t)| TitleCalibration {
                title_id: t.id.clone(),
                family: t.family.clone(),
                level: t.level,
                volume_2024: volume[i],
                change_2024: change24[i],
                change_2025: change25_final[i],
                source_2024: source24[i],
                source_2025: source25[i],
            })
            .collect();
        Ok(Calibration {
            titles: out,
            tier_shares: shares,
            targets: targets.clone(),
            missing_named,
        })
    }

    /// Volume-weighted change between two years over the titles selected by `filter`.
    pub fn aggregate_change(
        &self,
        filter: impl Fn(&TitleCalibration) -> bool,
        from_year: i32,
        to_year: i32,
    ) -> f64 {
        let (mut a, mut b) = (0.0, 0.0);
        for t in self.titles.iter().filter(|t| filter(t)) {
            a += t.level_for_year(from_year);
            b += t.level_for_year(to_year);
        }
        b / a - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_csv_parses() {
        let t = StudyTargets::study();
        assert_eq!(t.baseline_2025, -0.08);
        assert_eq!(t.tier_change(Tier::MiddleManagement), Some(-0.057));
        assert_eq!(
            t.named("machine_learning_engineer").unwrap().change_2024,
            Some(0.78)
        );
        assert!(t.titles.len() >= 50);
    }

    #[test]
    fn sample_catalog_hits_every_figure() {
        let cat = Catalog::study_sample();
        let targets = StudyTargets::study();
        for seed in [1u64, 7, 42] {
            let cal = Calibration::solve(&cat, &targets, seed).unwrap();
            let base = cal.aggregate_change(|_| true, 2024, 2025);
            assert!((base - -0.08).abs() < 1e-9, "baseline {base}");
            let base24 = cal.aggregate_change(|_| true, 2023, 2024);
            assert!((base24 - -0.05).abs() < 1e-9, "baseline 2024 {base24}");
            for (tier, c) in &targets.tiers_2025 {
                let got = cal.aggregate_change(|t| t.tier() == *tier, 2024, 2025);
                assert!((got - c).abs() < 1e-9, "{tier:?} {got} vs {c}");
            }
            for nc in &targets.titles {
                let t = cal
                    .titles
                    .iter()
                    .find(|t| t.title_id == nc.title_id)
                    .unwrap();
                if let Some(c) = nc.change_2025 {
                    assert!((t.change_2025 - c).abs() < 1e-12);
                }
            }
            assert!(cal.missing_named.is_empty());
        }
    }
}

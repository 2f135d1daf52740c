//! One group's numbers across the compared years (`Series`): the shape the analysis fills and
//! the monthly series, the report and the API read. Its own module so that the monthly series
//! ([`crate::monthly`]) need not import the analysis that builds the rest.

use serde::Serialize;
use std::collections::BTreeMap;

/// A series' figures for one year as its tables name them (the report's CSVs and the API's CSV
/// exports): postings, companies, share of the market, change on the previous year and that
/// change's 95 % interval.
pub const YEAR_COLUMNS: [&str; 6] = [
    "count",
    "companies",
    "share",
    "change",
    "ci95_lo",
    "ci95_hi",
];

/// One group (the baseline, a title, a tier or a family) across the compared years. Maps are
/// keyed by window year; `change`, `excess`, `ci95` exist from the second year on (relative to
/// the previous year), `acceleration` from the third. `None` where undefined (previous year 0).
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub id: String,
    pub name: String,
    pub family: Option<String>,
    pub family_name: Option<String>,
    pub level: Option<String>,
    pub tier: Option<String>,
    pub counts: BTreeMap<i32, u64>,
    /// Companies with at least one posting of the group in the window.
    pub companies: BTreeMap<i32, u64>,
    /// Share of all postings (the baseline) in the window.
    pub share: BTreeMap<i32, f64>,
    pub change: BTreeMap<i32, Option<f64>>,
    pub ci95: BTreeMap<i32, Option<(f64, f64)>>,
    /// Excess over the baseline in points (fractions): g − g_all.
    pub excess: BTreeMap<i32, Option<f64>>,
    /// Excess as a ratio: (1+g)/(1+g_all) − 1 (= change in share).
    pub excess_ratio: BTreeMap<i32, Option<f64>>,
    pub excess_ratio_ci95: BTreeMap<i32, Option<(f64, f64)>>,
    /// This year's change minus last year's (points).
    pub acceleration: BTreeMap<i32, Option<f64>>,
    pub ranked: bool,
    /// Misclassification-corrected counts and changes (with `--corrected`).
    pub corrected_counts: Option<BTreeMap<i32, f64>>,
    pub corrected_change: Option<BTreeMap<i32, Option<f64>>>,
    pub corrected_ci95: Option<BTreeMap<i32, Option<(f64, f64)>>>,
}

impl Series {
    /// Count in a year (0 when absent).
    pub fn count(&self, y: i32) -> u64 {
        self.counts.get(&y).copied().unwrap_or(0)
    }
    /// Change in a year, when defined.
    pub fn change_in(&self, y: i32) -> Option<f64> {
        self.change.get(&y).copied().flatten()
    }
}

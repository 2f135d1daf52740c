//! Options of a trends run ([`TrendOptions`]) and the `YYYY-MM` month type the window is made of.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Result<Self, String> {
        if !(1..=12).contains(&month) {
            return Err(format!("month {month} is not in 1..=12"));
        }
        Ok(Self { year, month })
    }
    /// The following month.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
    /// The preceding month.
    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
    /// Number of days in this month.
    pub fn days(self) -> u32 {
        let next = self.next();
        let first = chrono::NaiveDate::from_ymd_opt(self.year, self.month, 1);
        let first_next = chrono::NaiveDate::from_ymd_opt(next.year, next.month, 1);
        match (first, first_next) {
            (Some(a), Some(b)) => (b - a).num_days() as u32,
            _ => 30,
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a month; write it as YYYY-MM, e.g. 2025-01");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).map_err(|e| format!("{}: {e}", bad()))
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How movers are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Absolute change in postings (the study's reading of a whole labour market).
    Change,
    /// Change in each title's share of all postings, i.e. the excess ratio (1+g)/(1+g_all)−1.
    /// The right reading for a single-sector market (e.g. Hacker News, which is all tech):
    /// there the "market" is one sector's hiring cycle, so only shares are comparable.
    Share,
}

/// Parameters of a trends run. Every field is recorded in the outputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendOptions {
    /// First month of the window (inclusive). With `to`; both default to the latest complete
    /// year-to-date in the data.
    pub from: Option<YearMonth>,
    /// Last month of the window (inclusive), same year as `from`.
    pub to: Option<YearMonth>,
    /// Number of matched windows (the window and the same months of the N−1 previous years).
    pub years: usize,
    /// Minimum postings in the previous window for a title to be ranked. `None`: the default
    /// rule, max(50, ⌈previous-window postings / 10,000⌉).
    pub min_postings: Option<u64>,
    /// Restrict to companies that posted in every window.
    pub panel: bool,
    /// Title ids to show with their trajectory. Empty: the study's watch list (medical_scribe)
    /// when it has postings.
    pub watch: Vec<String>,
    /// Correct title counts for misclassification with a confusion matrix.
    pub corrected: bool,
    /// Confusion matrix JSON (true title → predicted title → count). `None`: looked up next to
    /// the classifier (see `docs/report.md`).
    pub confusion: Option<PathBuf>,
    /// Taxonomy directory (a user's edited copy). `None`: the built-in taxonomy.
    pub taxonomy_dir: Option<PathBuf>,
    /// Number of decliners and gainers listed.
    pub top: usize,
    /// Skip `COUNT(DISTINCT posting_id)` and count rows, trusting ingest's de-duplication
    /// (the dataset contract); faster on very large datasets.
    pub assume_unique: bool,
    /// `None`: decided from the data (shares when ≥ 60% of classified postings are tech).
    pub rank_by: Option<RankBy>,
}

impl Default for TrendOptions {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            years: 3,
            min_postings: None,
            panel: false,
            watch: Vec::new(),
            corrected: false,
            confusion: None,
            taxonomy_dir: None,
            top: 10,
            assume_unique: false,
            rank_by: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_parse_and_step() {
        let m: YearMonth = "2025-01".parse().unwrap();
        assert_eq!(m.prev().to_string(), "2024-12");
        assert_eq!(m.next().to_string(), "2025-02");
        assert_eq!("2024-02".parse::<YearMonth>().unwrap().days(), 29);
        assert!("2025-13".parse::<YearMonth>().is_err());
        assert!("Jan 2025"
            .parse::<YearMonth>()
            .unwrap_err()
            .contains("YYYY-MM"));
    }
}

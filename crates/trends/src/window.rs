//! Matched periods: which months form the window, and which years are compared.
//!
//! Default window: the latest complete year-to-date in the data — January through the latest
//! complete month of the latest year. The latest month counts as complete when its postings
//! reach its last days (within two days) or when all of them carry month-precision dates (then
//! the whole month was delivered at once); otherwise the month before is the last one. The same
//! months of the N−1 previous years are the comparison windows; years with no postings in their
//! window are dropped with a note, and a year missing some months gets a note.

use crate::engine::{integers, query, strings};
use crate::options::{TrendOptions, YearMonth};
use crate::TrendsError;
use datafusion::prelude::SessionContext;
use serde::Serialize;
use std::collections::BTreeMap;

/// Postings per month in the dataset.
#[derive(Debug, Clone, Serialize)]
pub struct MonthCount {
    pub month: YearMonth,
    pub postings: u64,
    /// Latest posted_date in the month (YYYY-MM-DD).
    pub last_date: String,
    /// Postings whose date is only known to the month.
    pub month_precision: u64,
}

/// The resolved matched periods.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub from: YearMonth,
    pub to: YearMonth,
    /// Compared years, ascending; the last is the window's own year.
    pub years: Vec<i32>,
    /// How the window was chosen.
    pub rule: String,
}

impl Window {
    /// First day of year `y`'s window and first day after it, as `YYYY-MM-DD`.
    pub fn bounds(&self, y: i32) -> (String, String) {
        let start = YearMonth {
            year: y,
            month: self.from.month,
        };
        let end = YearMonth {
            year: y,
            month: self.to.month,
        }
        .next();
        (format!("{start}-01"), format!("{end}-01"))
    }
}

/// The monthly-counts query.
pub fn month_counts_sql(has_precision: bool) -> String {
    let prec = if has_precision {
        "SUM(CASE WHEN date_precision = 'month' THEN 1 ELSE 0 END)"
    } else {
        "CAST(0 AS BIGINT)"
    };
    format!(
        "SELECT CAST(date_part('year', posted_date) AS BIGINT) AS y, \
                CAST(date_part('month', posted_date) AS BIGINT) AS m, \
                COUNT(*) AS n, CAST(MAX(posted_date) AS VARCHAR) AS last_date, {prec} AS month_prec \
         FROM postings GROUP BY 1, 2 ORDER BY 1, 2"
    )
}

/// Monthly counts over the whole dataset (one aggregate query).
pub async fn month_counts(
    ctx: &SessionContext,
    has_precision: bool,
) -> Result<Vec<MonthCount>, TrendsError> {
    let sql = month_counts_sql(has_precision);
    let mut out = Vec::new();
    for b in query(ctx, &sql).await? {
        let (y, m, n, last, mp) = (
            integers(&b, "y")?,
            integers(&b, "m")?,
            integers(&b, "n")?,
            strings(&b, "last_date")?,
            integers(&b, "month_prec")?,
        );
        for i in 0..b.num_rows() {
            out.push(MonthCount {
                month: YearMonth {
                    year: y[i] as i32,
                    month: m[i] as u32,
                },
                postings: n[i] as u64,
                last_date: last[i].clone().unwrap_or_default(),
                month_precision: mp[i] as u64,
            });
        }
    }
    Ok(out)
}

fn is_complete(m: &MonthCount) -> bool {
    if m.postings > 0 && m.month_precision == m.postings {
        return true;
    }
    let day: u32 = m
        .last_date
        .get(8..10)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    day + 2 >= m.month.days()
}

/// Resolve the window and compared years from options and the data's months.
pub fn resolve(
    opts: &TrendOptions,
    months: &[MonthCount],
    notes: &mut Vec<String>,
) -> Result<Window, TrendsError> {
    if opts.years < 2 {
        return Err(TrendsError::Options(format!(
            "--years {} compares nothing; use 2 or more",
            opts.years
        )));
    }
    if months.is_empty() {
        return Err(TrendsError::Options("the dataset has no postings".into()));
    }
    let (from, to, rule) = match (opts.from, opts.to) {
        (Some(f), Some(t)) => {
            if f.year != t.year || f > t {
                return Err(TrendsError::Options(format!(
                    "window {f}..{t} must lie within one calendar year with --from ≤ --to (e.g. --from 2025-01 --to 2025-10)"
                )));
            }
            (f, t, "given by --from/--to".to_string())
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(TrendsError::Options(
                "give both --from and --to, or neither".into(),
            ))
        }
        (None, None) => {
            let last = months
                .last()
                .ok_or_else(|| TrendsError::Options("no months".into()))?;
            let to = if is_complete(last) {
                last.month
            } else {
                notes.push(format!(
                    "{} looks incomplete (latest posting {}), so the window ends at {}",
                    last.month,
                    last.last_date,
                    last.month.prev()
                ));
                last.month.prev()
            };
            (
                YearMonth {
                    year: to.year,
                    month: 1,
                },
                to,
                "latest complete year-to-date in the data".to_string(),
            )
        }
    };
    let by_month: BTreeMap<YearMonth, u64> = months.iter().map(|m| (m.month, m.postings)).collect();
    let mut years = Vec::new();
    for y in (to.year + 1 - opts.years as i32)..=to.year {
        let window_months: Vec<YearMonth> = (from.month..=to.month)
            .map(|m| YearMonth { year: y, month: m })
            .collect();
        let present: Vec<&YearMonth> = window_months
            .iter()
            .filter(|m| by_month.get(m).copied().unwrap_or(0) > 0)
            .collect();
        if present.is_empty() {
            notes.push(format!(
                "{y} has no postings in {}–{}; it is left out",
                from.month_name(),
                to.month_name()
            ));
            continue;
        }
        if present.len() < window_months.len() {
            let missing: Vec<String> = window_months
                .iter()
                .filter(|m| by_month.get(m).copied().unwrap_or(0) == 0)
                .map(|m| m.to_string())
                .collect();
            notes.push(format!(
                "{y}'s window is missing months {}; its counts cover fewer months than the others",
                missing.join(", ")
            ));
        }
        years.push(y);
    }
    if years.len() < 2 {
        return Err(TrendsError::Options(format!(
            "only {} of the {} requested years have postings in the window {from}..{to}; need two \
             (data covers {}..{})",
            years.len(),
            opts.years,
            months
                .first()
                .map(|m| m.month.to_string())
                .unwrap_or_default(),
            months
                .last()
                .map(|m| m.month.to_string())
                .unwrap_or_default()
        )));
    }
    Ok(Window {
        from,
        to,
        years,
        rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mc(s: &str, n: u64, last: &str, mp: u64) -> MonthCount {
        MonthCount {
            month: s.parse().unwrap(),
            postings: n,
            last_date: last.into(),
            month_precision: mp,
        }
    }

    #[test]
    fn default_window_drops_incomplete_month() {
        let months = vec![
            mc("2023-01", 10, "2023-01-31", 0),
            mc("2024-01", 10, "2024-01-31", 0),
            mc("2025-01", 10, "2025-01-31", 0),
            mc("2025-10", 10, "2025-10-31", 0),
            mc("2025-11", 10, "2025-11-12", 0),
        ];
        let mut notes = vec![];
        let w = resolve(&TrendOptions::default(), &months, &mut notes).unwrap();
        assert_eq!(w.from.to_string(), "2025-01");
        assert_eq!(w.to.to_string(), "2025-10");
        assert_eq!(w.years, vec![2023, 2024, 2025]);
        assert!(notes.iter().any(|n| n.contains("incomplete")));
    }

    #[test]
    fn month_precision_month_is_complete_and_missing_year_dropped() {
        let months = vec![
            mc("2024-03", 5, "2024-03-01", 5),
            mc("2025-03", 5, "2025-03-01", 5),
        ];
        let mut notes = vec![];
        let w = resolve(&TrendOptions::default(), &months, &mut notes).unwrap();
        assert_eq!(w.to.to_string(), "2025-03");
        assert_eq!(w.years, vec![2024, 2025]);
        assert!(notes.iter().any(|n| n.contains("2023")));
    }

    #[test]
    fn bad_windows_are_explained() {
        let months = vec![mc("2025-03", 5, "2025-03-31", 0)];
        let mut o = TrendOptions {
            from: Some("2024-11".parse().unwrap()),
            to: Some("2025-02".parse().unwrap()),
            ..Default::default()
        };
        assert!(resolve(&o, &months, &mut vec![])
            .unwrap_err()
            .to_string()
            .contains("one calendar year"));
        o.from = None;
        o.to = None;
        assert!(resolve(&o, &months, &mut vec![])
            .unwrap_err()
            .to_string()
            .contains("need two"));
    }
}

//! Date parsing for posting dates, in the spellings postings files use.
//!
//! Accepted: RFC 3339 / ISO 8601 timestamps (with an offset: converted to the UTC date),
//! `YYYY-MM-DD[ HH:MM[:SS]]`, `YYYY/MM/DD`, `YYYYMMDD`, `DD.MM.YYYY`, `D/M/YYYY` or `M/D/YYYY`
//! (day-first when the first number is over 12, month-first when the second is; when both are
//! ≤ 12 month-first, the US convention, is assumed), `March 5, 2024`, `5 March 2024`,
//! Unix seconds or milliseconds, and month-only `YYYY-MM`, `YYYY/MM`, `March 2024`, `Mar 2024`
//! (stored as the first of the month with precision "month").
//! Not accepted (the record is rejected with the value): relative dates ("yesterday",
//! "3 days ago" — there is no reliable reference date), impossible dates ("31/02/2024") and
//! years outside 1970..=2100.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

/// How precise a parsed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Day,
    Month,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Day => "day",
            Precision::Month => "month",
        }
    }
}

/// Why a date did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    Unparseable,
    OutOfRange,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_from_name(s: &str) -> Option<u32> {
    let s = s.trim_end_matches('.').to_ascii_lowercase();
    if s.len() < 3 {
        return None;
    }
    if s == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == s || (s.len() == 3 && m.starts_with(&s)))
        .map(|i| i as u32 + 1)
}

fn in_range(d: NaiveDate) -> bool {
    (1970..=2100).contains(&d.year())
}

fn ymd(y: i64, m: i64, d: i64) -> Result<NaiveDate, DateError> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(DateError::Unparseable);
    }
    let y = i32::try_from(y).map_err(|_| DateError::OutOfRange)?;
    NaiveDate::from_ymd_opt(y, m as u32, d as u32).ok_or(DateError::Unparseable)
}

fn nums(s: &str, sep: char) -> Option<Vec<i64>> {
    let parts: Vec<&str> = s.split(sep).collect();
    if parts
        .iter()
        // long numbers too, so a five-digit year is out of range like 2150, not unparseable
        .any(|p| p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    parts.iter().map(|p| p.parse().ok()).collect()
}

/// Parse a posting date.
pub fn parse_date(raw: &str) -> Result<(NaiveDate, Precision), DateError> {
    let s = raw.trim().trim_matches('"').trim();
    if s.is_empty() || s.len() > 64 {
        return Err(DateError::Unparseable);
    }
    let r = parse_inner(s)?;
    if in_range(r.0) {
        Ok(r)
    } else {
        Err(DateError::OutOfRange)
    }
}

fn parse_inner(s: &str) -> Result<(NaiveDate, Precision), DateError> {
    use Precision::*;
    // Timestamps with an offset or Z.
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok((dt.naive_utc().date(), Day));
    }
    if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %z") {
        return Ok((dt.naive_utc().date(), Day));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Ok((dt.date(), Day));
        }
    }
    // Unix seconds / milliseconds.
    if s.bytes().all(|b| b.is_ascii_digit()) {
        if s.len() == 8 {
            let y: i64 = s[..4].parse().map_err(|_| DateError::Unparseable)?;
            let m: i64 = s[4..6].parse().map_err(|_| DateError::Unparseable)?;
            let d: i64 = s[6..].parse().map_err(|_| DateError::Unparseable)?;
            return ymd(y, m, d).map(|d| (d, Day));
        }
        // 9–10 digits are seconds (1973–2286), 13 are milliseconds (2001–2286); 11 or 12
        // digits are in range as neither (seconds after 2286, milliseconds before 2001)
        if (11..=12).contains(&s.len()) {
            return Err(DateError::OutOfRange);
        }
        if (9..=13).contains(&s.len()) {
            let n: i64 = s.parse().map_err(|_| DateError::Unparseable)?;
            let secs = if s.len() == 13 { n / 1000 } else { n };
            let dt = DateTime::from_timestamp(secs, 0).ok_or(DateError::OutOfRange)?;
            return Ok((dt.date_naive(), Day));
        }
        return Err(DateError::Unparseable);
    }
    // Date part of a longer ISO-like string ("2024-03-05T10:00:00+0100" with odd offsets).
    let head = s.split(['T', ' ']).next().unwrap_or(s);
    for sep in ['-', '/', '.'] {
        if let Some(n) = nums(head, sep) {
            match n.as_slice() {
                [y, m] if *y > 31 && head.len() >= 6 => {
                    return ymd(*y, *m, 1).map(|d| (d, Month));
                }
                [y, m, d] if *y > 31 => return ymd(*y, *m, *d).map(|d| (d, Day)),
                [a, b, y] if *y > 31 => {
                    // day first with dots or when the first number cannot be a month;
                    // otherwise month first (US style), which is also the only reading when
                    // the second number cannot be a month
                    let (d, m) = if sep == '.' || *a > 12 {
                        (*a, *b)
                    } else {
                        (*b, *a)
                    };
                    return ymd(*y, m, d).map(|d| (d, Day));
                }
                _ => {}
            }
            if head.len() == s.len() {
                return Err(DateError::Unparseable);
            }
        }
    }
    // Month names: "March 2024", "Mar 2024", "March 5, 2024", "5 March 2024", "5-Mar-2024".
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let year_of = |w: &str| -> Option<i64> {
        if w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()) {
            w.parse().ok()
        } else {
            None
        }
    };
    let day_of = |w: &str| -> Option<i64> {
        let w = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if (1..=2).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()) {
            w.parse().ok()
        } else {
            None
        }
    };
    match words.as_slice() {
        [m, y] => {
            if let (Some(m), Some(y)) = (month_from_name(m), year_of(y)) {
                return ymd(y, m as i64, 1).map(|d| (d, Month));
            }
        }
        [a, b, y] => {
            if let Some(y) = year_of(y) {
                if let (Some(m), Some(d)) = (month_from_name(a), day_of(b)) {
                    return ymd(y, m as i64, d).map(|d| (d, Day));
                }
                if let (Some(d), Some(m)) = (day_of(a), month_from_name(b)) {
                    return ymd(y, m as i64, d).map(|d| (d, Day));
                }
            }
        }
        _ => {}
    }
    Err(DateError::Unparseable)
}

/// Days since 1970-01-01 (Arrow Date32).
pub fn to_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch is a valid date")).num_days() as i32
}

/// Inverse of [`to_days`].
pub fn from_days(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch is a valid date")
        + chrono::Duration::days(days as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> (String, &'static str) {
        let (d, p) = parse_date(s).unwrap();
        (d.to_string(), p.as_str())
    }

    #[test]
    fn parses_common_spellings() {
        assert_eq!(d("2024-03-05"), ("2024-03-05".into(), "day"));
        assert_eq!(d("2026-01-02T16:04:13Z"), ("2026-01-02".into(), "day"));
        assert_eq!(d("2022-12-01T16:00:59"), ("2022-12-01".into(), "day"));
        assert_eq!(d("2024-03-05 23:30:00"), ("2024-03-05".into(), "day"));
        assert_eq!(d("2024-03-05T23:30:00-05:00"), ("2024-03-06".into(), "day"));
        assert_eq!(d("2024-03"), ("2024-03-01".into(), "month"));
        assert_eq!(d("2024/3"), ("2024-03-01".into(), "month"));
        assert_eq!(d("March 2024"), ("2024-03-01".into(), "month"));
        assert_eq!(d("Sep 2024"), ("2024-09-01".into(), "month"));
        assert_eq!(d("March 5, 2024"), ("2024-03-05".into(), "day"));
        assert_eq!(d("5 March 2024"), ("2024-03-05".into(), "day"));
        assert_eq!(d("25/12/2024"), ("2024-12-25".into(), "day"));
        assert_eq!(d("12/25/2024"), ("2024-12-25".into(), "day"));
        assert_eq!(d("05.03.2024"), ("2024-03-05".into(), "day"));
        assert_eq!(d("20240305"), ("2024-03-05".into(), "day"));
        assert_eq!(d("1709596800"), ("2024-03-05".into(), "day"));
        assert_eq!(d("1709596800000"), ("2024-03-05".into(), "day"));
    }

    #[test]
    fn rejects_impossible_and_relative_dates() {
        assert_eq!(parse_date("31/02/2024"), Err(DateError::Unparseable));
        assert_eq!(parse_date("2024-02-30"), Err(DateError::Unparseable));
        assert_eq!(parse_date("yesterday"), Err(DateError::Unparseable));
        assert_eq!(parse_date("3 days ago"), Err(DateError::Unparseable));
        assert_eq!(parse_date(""), Err(DateError::Unparseable));
        assert_eq!(parse_date("1850-01-01"), Err(DateError::OutOfRange));
        assert_eq!(parse_date("2024-13"), Err(DateError::Unparseable));
    }

    #[test]
    fn days_round_trip() {
        let x = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(from_days(to_days(x)), x);
    }
}

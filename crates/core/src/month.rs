//! [`YearMonth`]: the calendar month, the unit of the generator's plan, dataset partitions and the
//! trends windows. Written `YYYY-MM` in flags, files and JSON.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12
    pub month: u32,
}

impl YearMonth {
    /// A month from its parts; parse user input with [`FromStr`], which validates.
    pub const fn new(year: i32, month: u32) -> Self {
        Self { year, month }
    }
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self::new(self.year + 1, 1)
        } else {
            Self::new(self.year, self.month + 1)
        }
    }
    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self::new(self.year - 1, 12)
        } else {
            Self::new(self.year, self.month - 1)
        }
    }
    /// Months from `self` to `other` (positive when `other` is later).
    pub fn months_until(self, other: YearMonth) -> i64 {
        (other.year as i64 - self.year as i64) * 12 + other.month as i64 - self.month as i64
    }
    pub fn days(self) -> u32 {
        match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0 => 29,
            _ => 28,
        }
    }
    pub fn first_day(self) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month.clamp(1, 12), 1)
            .unwrap_or(chrono::NaiveDate::MIN)
    }
    /// Short English month name ("Jan").
    pub fn month_name(self) -> &'static str {
        const N: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        N[(self.month.clamp(1, 12) - 1) as usize]
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
        if !(1..=12).contains(&month) || !(1900..=2200).contains(&year) {
            return Err(bad());
        }
        Ok(Self::new(year, month))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_step_and_count() {
        let m: YearMonth = "2025-01".parse().unwrap();
        assert_eq!(m.prev().to_string(), "2024-12");
        assert_eq!(m.next().to_string(), "2025-02");
        assert_eq!(YearMonth::new(2024, 2).days(), 29);
        assert_eq!(
            YearMonth::new(2023, 1).months_until(YearMonth::new(2025, 10)),
            33
        );
        assert!("2025-13".parse::<YearMonth>().is_err());
        assert!("Jan 2025"
            .parse::<YearMonth>()
            .unwrap_err()
            .contains("YYYY-MM"));
        assert_eq!(YearMonth::new(2025, 3).month_name(), "Mar");
    }
}

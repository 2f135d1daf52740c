//! The shared vocabulary: title levels, the study's three seniority tiers, and per-posting seniority.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The level of a standardized title in the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    IndividualContributor,
    Manager,
    Director,
    Vp,
    CSuite,
}

/// The three tiers the study compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    IndividualContributors,
    MiddleManagement,
    SeniorLeadership,
}

/// Seniority of one posting, read from the raw title (and the model when the title says nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seniority {
    Intern,
    Entry,
    Mid,
    Senior,
    Lead,
    Manager,
    Director,
    Vp,
    CSuite,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::IndividualContributor,
        Level::Manager,
        Level::Director,
        Level::Vp,
        Level::CSuite,
    ];
    pub fn tier(self) -> Tier {
        match self {
            Level::IndividualContributor => Tier::IndividualContributors,
            Level::Manager => Tier::MiddleManagement,
            Level::Director | Level::Vp | Level::CSuite => Tier::SeniorLeadership,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::IndividualContributor => "individual_contributor",
            Level::Manager => "manager",
            Level::Director => "director",
            Level::Vp => "vp",
            Level::CSuite => "c_suite",
        }
    }
}

impl Tier {
    pub const ALL: [Tier; 3] = [
        Tier::IndividualContributors,
        Tier::MiddleManagement,
        Tier::SeniorLeadership,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::IndividualContributors => "individual_contributors",
            Tier::MiddleManagement => "middle_management",
            Tier::SeniorLeadership => "senior_leadership",
        }
    }
    /// Human label, as the study writes it.
    pub fn label(self) -> &'static str {
        match self {
            Tier::IndividualContributors => "Individual contributors",
            Tier::MiddleManagement => "Middle management",
            Tier::SeniorLeadership => "Senior leadership (Director, VP, C-suite)",
        }
    }
}

impl Seniority {
    pub const ALL: [Seniority; 9] = [
        Seniority::Intern,
        Seniority::Entry,
        Seniority::Mid,
        Seniority::Senior,
        Seniority::Lead,
        Seniority::Manager,
        Seniority::Director,
        Seniority::Vp,
        Seniority::CSuite,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Seniority::Intern => "intern",
            Seniority::Entry => "entry",
            Seniority::Mid => "mid",
            Seniority::Senior => "senior",
            Seniority::Lead => "lead",
            Seniority::Manager => "manager",
            Seniority::Director => "director",
            Seniority::Vp => "vp",
            Seniority::CSuite => "c_suite",
        }
    }
}

macro_rules! display_fromstr {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let k = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == k)
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!(
                            "unknown {} {:?}; expected one of {}",
                            $what,
                            s,
                            allowed.join(", ")
                        )
                    })
            }
        }
    };
}
display_fromstr!(Level, "level");
display_fromstr!(Tier, "tier");
display_fromstr!(Seniority, "seniority");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_study() {
        assert_eq!(
            Level::IndividualContributor.tier(),
            Tier::IndividualContributors
        );
        assert_eq!(Level::Manager.tier(), Tier::MiddleManagement);
        for l in [Level::Director, Level::Vp, Level::CSuite] {
            assert_eq!(l.tier(), Tier::SeniorLeadership);
        }
    }

    #[test]
    fn parse_roundtrip_and_errors() {
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
        }
        assert_eq!("C-Suite".parse::<Level>().unwrap(), Level::CSuite);
        let e = "boss".parse::<Level>().unwrap_err();
        assert!(e.contains("individual_contributor"), "{e}");
        assert_eq!("c_suite".parse::<Seniority>().unwrap(), Seniority::CSuite);
    }
}

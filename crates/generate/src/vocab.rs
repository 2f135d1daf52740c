//! Word lists the generator writes with: per-family vocabularies (`data/families.toml`),
//! industries, countries and cities, benefits and boilerplate. Data, not logic.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const FAMILIES_TOML: &str = include_str!("../data/families.toml");

/// Vocabulary of one job family.
#[derive(Debug, Clone, Deserialize)]
pub struct FamilyVocab {
    pub team: String,
    pub industries: Vec<String>,
    pub season: String,
    pub degree: String,
    pub duties: Vec<String>,
    pub skills: Vec<String>,
    pub tools: Vec<String>,
}

static FAMILIES: OnceLock<BTreeMap<String, FamilyVocab>> = OnceLock::new();

fn families() -> &'static BTreeMap<String, FamilyVocab> {
    FAMILIES.get_or_init(|| {
        toml::from_str(FAMILIES_TOML).expect("data/families.toml is committed and valid")
    })
}

static GENERIC: OnceLock<FamilyVocab> = OnceLock::new();

/// The vocabulary of `family`, or a generic office vocabulary for a family the data does not know.
pub fn family_vocab(family: &str) -> &'static FamilyVocab {
    families().get(family).unwrap_or_else(|| {
        GENERIC.get_or_init(|| FamilyVocab {
            team: "Operations".into(),
            industries: vec!["professional_services".into(), "technology".into()],
            season: "office".into(),
            degree: "a bachelor's degree or equivalent experience".into(),
            duties: vec![
                "plan and prioritize work with your manager".into(),
                "deliver projects on time and to a high standard".into(),
                "document processes and results".into(),
                "work with colleagues across departments".into(),
            ],
            skills: vec![
                "communication".into(),
                "organization".into(),
                "problem solving".into(),
            ],
            tools: vec!["Microsoft Office".into(), "Google Workspace".into()],
        })
    })
}

/// Families with vocabulary data (sorted).
#[cfg(test)]
pub fn known_families() -> Vec<&'static str> {
    families().keys().map(|s| s.as_str()).collect()
}

/// Monthly seasonal factors (Jan..Dec), mean 1.
pub fn season_factors(profile: &str) -> [f64; 12] {
    let raw: [f64; 12] = match profile {
        "retail" => [
            0.95, 0.93, 0.98, 1.0, 1.0, 1.0, 0.98, 1.02, 1.08, 1.15, 1.06, 0.85,
        ],
        "education" => [
            1.05, 1.05, 1.15, 1.15, 1.10, 1.0, 0.95, 0.95, 0.90, 0.90, 0.85, 0.80,
        ],
        "outdoor" => [
            0.85, 0.92, 1.10, 1.18, 1.15, 1.08, 1.02, 0.98, 0.96, 0.95, 0.88, 0.80,
        ],
        "healthcare" => [
            1.02, 1.0, 1.01, 1.0, 1.0, 0.99, 1.0, 1.01, 1.01, 1.0, 0.98, 0.92,
        ],
        _ => [
            1.10, 1.06, 1.05, 1.02, 0.99, 0.97, 0.94, 0.97, 1.03, 1.02, 0.95, 0.80,
        ],
    };
    let mean = raw.iter().sum::<f64>() / 12.0;
    raw.map(|x| x / mean)
}

pub struct Industry {
    pub id: &'static str,
    pub noun: &'static str,
    pub name_words: &'static [&'static str],
    pub blurb: &'static [&'static str],
}

pub const INDUSTRIES: &[Industry] = &[
    Industry {
        id: "technology",
        noun: "software",
        name_words: &[
            "Labs",
            "Systems",
            "Software",
            "Technologies",
            "Cloud",
            "AI",
            "Data",
        ],
        blurb: &[
            "We build software that helps businesses run faster.",
            "Our platform is used by thousands of teams every day.",
            "We are a fast-growing technology company backed by leading investors.",
        ],
    },
    Industry {
        id: "healthcare",
        noun: "healthcare",
        name_words: &[
            "Health",
            "Medical Center",
            "Clinic",
            "Care",
            "Hospital",
            "Health System",
        ],
        blurb: &[
            "We provide compassionate, high-quality care to our community.",
            "Our network of hospitals and clinics serves patients across the region.",
            "We are a nonprofit health system committed to patient safety.",
        ],
    },
    Industry {
        id: "finance",
        noun: "financial services",
        name_words: &[
            "Capital",
            "Financial",
            "Bank",
            "Partners",
            "Insurance",
            "Credit Union",
        ],
        blurb: &[
            "We help clients save, invest and protect what matters.",
            "We are a trusted financial institution with a long history.",
            "Our teams serve retail and institutional clients worldwide.",
        ],
    },
    Industry {
        id: "retail",
        noun: "retail",
        name_words: &[
            "Stores",
            "Market",
            "Outfitters",
            "Goods",
            "Brands",
            "Supply",
        ],
        blurb: &[
            "We run stores and an online shop loved by our customers.",
            "Our brands are sold in hundreds of locations.",
            "We are a family of retail brands focused on value and service.",
        ],
    },
    Industry {
        id: "manufacturing",
        noun: "manufacturing",
        name_words: &[
            "Industries",
            "Manufacturing",
            "Components",
            "Materials",
            "Chemicals",
            "Works",
        ],
        blurb: &[
            "We design and manufacture products used in everyday life.",
            "Our plants make components for customers in many industries.",
            "We are a global manufacturer with a strong safety culture.",
        ],
    },
    Industry {
        id: "media",
        noun: "media and entertainment",
        name_words: &[
            "Media",
            "Studios",
            "Publishing",
            "Entertainment",
            "Pictures",
            "Press",
        ],
        blurb: &[
            "We tell stories that reach millions of people.",
            "Our studios produce content for streaming, broadcast and social.",
            "We are an independent media company.",
        ],
    },
    Industry {
        id: "professional_services",
        noun: "consulting",
        name_words: &[
            "Consulting",
            "Advisors",
            "Group",
            "Associates",
            "Partners",
            "Solutions",
        ],
        blurb: &[
            "We advise clients on their most important decisions.",
            "Our consultants work with leading companies across sectors.",
            "We are a professional services firm built on expertise and integrity.",
        ],
    },
    Industry {
        id: "education",
        noun: "education",
        name_words: &[
            "University",
            "Academy",
            "School District",
            "College",
            "Learning",
        ],
        blurb: &[
            "We educate students and serve our community.",
            "Our mission is to make learning accessible to everyone.",
            "We are a public institution committed to student success.",
        ],
    },
    Industry {
        id: "government",
        noun: "public sector",
        name_words: &["County", "City of", "Department", "Authority", "Agency"],
        blurb: &[
            "We serve the residents of our community.",
            "Our agency delivers essential public services.",
            "We are an equal opportunity public employer.",
        ],
    },
    Industry {
        id: "energy",
        noun: "energy",
        name_words: &["Energy", "Power", "Renewables", "Utilities", "Resources"],
        blurb: &[
            "We deliver reliable energy to homes and businesses.",
            "Our projects accelerate the energy transition.",
            "We are an energy company investing in a lower-carbon future.",
        ],
    },
    Industry {
        id: "logistics",
        noun: "logistics",
        name_words: &[
            "Logistics",
            "Freight",
            "Transport",
            "Distribution",
            "Express",
        ],
        blurb: &[
            "We move goods for customers across the country.",
            "Our network of warehouses and fleets keeps supply chains running.",
            "We are a logistics company that delivers on time.",
        ],
    },
    Industry {
        id: "hospitality",
        noun: "hospitality",
        name_words: &["Hotels", "Restaurants", "Hospitality", "Resorts", "Kitchen"],
        blurb: &[
            "We create memorable experiences for our guests.",
            "Our restaurants and hotels are known for great service.",
            "We are a hospitality group with locations in many cities.",
        ],
    },
    Industry {
        id: "real_estate",
        noun: "real estate",
        name_words: &[
            "Properties",
            "Realty",
            "Real Estate",
            "Estates",
            "Development",
        ],
        blurb: &[
            "We own, develop and manage properties.",
            "Our portfolio spans office, retail and residential buildings.",
            "We are a real estate investment and management company.",
        ],
    },
    Industry {
        id: "life_sciences",
        noun: "life sciences",
        name_words: &["Therapeutics", "Biosciences", "Pharma", "Genomics", "Bio"],
        blurb: &[
            "We develop therapies for patients with serious diseases.",
            "Our scientists turn discoveries into medicines.",
            "We are a clinical-stage biotechnology company.",
        ],
    },
    Industry {
        id: "telecom",
        noun: "telecommunications",
        name_words: &["Telecom", "Networks", "Wireless", "Communications", "Fiber"],
        blurb: &[
            "We connect people and businesses.",
            "Our network carries voice and data for millions of customers.",
            "We are a communications provider investing in fiber and 5G.",
        ],
    },
    Industry {
        id: "nonprofit",
        noun: "nonprofit",
        name_words: &["Foundation", "Alliance", "Trust", "Society", "Coalition"],
        blurb: &[
            "We work for a fairer, healthier community.",
            "Our programs serve thousands of people each year.",
            "We are a mission-driven nonprofit organization.",
        ],
    },
    Industry {
        id: "construction",
        noun: "construction and engineering",
        name_words: &[
            "Construction",
            "Builders",
            "Engineering",
            "Contractors",
            "Infrastructure",
        ],
        blurb: &[
            "We build infrastructure that lasts.",
            "Our projects include roads, bridges and buildings.",
            "We are an engineering and construction firm.",
        ],
    },
    Industry {
        id: "agriculture",
        noun: "agriculture",
        name_words: &["Farms", "Agri", "Growers", "Harvest", "Ag"],
        blurb: &[
            "We grow food for families across the country.",
            "Our farms use modern, sustainable practices.",
            "We are an agricultural cooperative.",
        ],
    },
];

pub fn industry_index(id: &str) -> Option<usize> {
    INDUSTRIES.iter().position(|i| i.id == id)
}

pub const NAME_STEMS: &[&str] = &[
    "Northwind",
    "Bluefield",
    "Summit",
    "Riverstone",
    "Brightline",
    "Ironwood",
    "Cedar",
    "Harbor",
    "Pioneer",
    "Keystone",
    "Silverline",
    "Redwood",
    "Evergreen",
    "Granite",
    "Lakeshore",
    "Meridian",
    "Atlas",
    "Beacon",
    "Crescent",
    "Horizon",
    "Juniper",
    "Maple",
    "Orion",
    "Pinnacle",
    "Quantum",
    "Sterling",
    "Trident",
    "Unity",
    "Vertex",
    "Westbrook",
    "Alder",
    "Birch",
    "Cobalt",
    "Delta",
    "Everest",
    "Falcon",
    "Glacier",
    "Highland",
    "Indigo",
    "Jasper",
    "Kestrel",
    "Lumen",
    "Monarch",
    "Nimbus",
    "Oakridge",
    "Prairie",
    "Quarry",
    "Radiant",
    "Sable",
    "Tidewater",
    "Upland",
    "Vanguard",
    "Willow",
    "Zenith",
    "Apex",
    "Bristol",
    "Coastal",
    "Dune",
    "Ember",
    "Fjord",
    "Golden",
    "Hollow",
    "Island",
    "Lantern",
    "Mosaic",
    "Nova",
    "Onyx",
    "Parkway",
    "Ridge",
    "Sunrise",
    "Thistle",
    "Union",
    "Valley",
    "Wren",
    "Aurora",
    "Bayview",
    "Canyon",
    "Driftwood",
    "Eastgate",
    "Foxglove",
];

pub struct Country {
    pub iso: &'static str,
    pub name: &'static str,
    pub weight: f64,
    pub cities: &'static [&'static str],
    pub legal: &'static [&'static str],
    pub currency: &'static str,
    /// Gender tag employers in this country append to titles, if any.
    pub gender_tag: Option<&'static str>,
}

pub const COUNTRIES: &[Country] = &[
    Country {
        iso: "US",
        name: "United States",
        weight: 0.45,
        cities: &[
            "New York, NY",
            "San Francisco, CA",
            "Austin, TX",
            "Chicago, IL",
            "Seattle, WA",
            "Boston, MA",
            "Atlanta, GA",
            "Denver, CO",
            "Dallas, TX",
            "Phoenix, AZ",
            "Columbus, OH",
            "Nashville, TN",
            "Raleigh, NC",
            "Minneapolis, MN",
            "Los Angeles, CA",
            "Miami, FL",
        ],
        legal: &["Inc.", "LLC", "Corp.", ""],
        currency: "USD",
        gender_tag: None,
    },
    Country {
        iso: "GB",
        name: "United Kingdom",
        weight: 0.08,
        cities: &[
            "London",
            "Manchester",
            "Birmingham",
            "Edinburgh",
            "Bristol",
            "Leeds",
        ],
        legal: &["Ltd", "plc", ""],
        currency: "GBP",
        gender_tag: None,
    },
    Country {
        iso: "DE",
        name: "Germany",
        weight: 0.06,
        cities: &[
            "Berlin",
            "Munich",
            "Hamburg",
            "Frankfurt",
            "Cologne",
            "Stuttgart",
        ],
        legal: &["GmbH", "AG", "SE"],
        currency: "EUR",
        gender_tag: Some("(m/w/d)"),
    },
    Country {
        iso: "IN",
        name: "India",
        weight: 0.07,
        cities: &[
            "Bengaluru",
            "Hyderabad",
            "Pune",
            "Mumbai",
            "Chennai",
            "Gurugram",
        ],
        legal: &["Pvt Ltd", "Limited", ""],
        currency: "INR",
        gender_tag: None,
    },
    Country {
        iso: "CA",
        name: "Canada",
        weight: 0.05,
        cities: &[
            "Toronto, ON",
            "Vancouver, BC",
            "Montreal, QC",
            "Calgary, AB",
            "Ottawa, ON",
        ],
        legal: &["Inc.", "Ltd.", ""],
        currency: "CAD",
        gender_tag: None,
    },
    Country {
        iso: "FR",
        name: "France",
        weight: 0.04,
        cities: &["Paris", "Lyon", "Toulouse", "Lille", "Nantes"],
        legal: &["SAS", "SA", ""],
        currency: "EUR",
        gender_tag: Some("(H/F)"),
    },
    Country {
        iso: "AU",
        name: "Australia",
        weight: 0.03,
        cities: &["Sydney NSW", "Melbourne VIC", "Brisbane QLD", "Perth WA"],
        legal: &["Pty Ltd", ""],
        currency: "AUD",
        gender_tag: None,
    },
    Country {
        iso: "NL",
        name: "Netherlands",
        weight: 0.02,
        cities: &["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"],
        legal: &["B.V.", "N.V."],
        currency: "EUR",
        gender_tag: None,
    },
    Country {
        iso: "SG",
        name: "Singapore",
        weight: 0.02,
        cities: &["Singapore"],
        legal: &["Pte. Ltd.", ""],
        currency: "SGD",
        gender_tag: None,
    },
    Country {
        iso: "BR",
        name: "Brazil",
        weight: 0.02,
        cities: &["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba"],
        legal: &["Ltda.", "S.A."],
        currency: "BRL",
        gender_tag: None,
    },
    Country {
        iso: "ES",
        name: "Spain",
        weight: 0.02,
        cities: &["Madrid", "Barcelona", "Valencia", "Málaga"],
        legal: &["S.L.", "S.A."],
        currency: "EUR",
        gender_tag: None,
    },
    Country {
        iso: "IE",
        name: "Ireland",
        weight: 0.015,
        cities: &["Dublin", "Cork", "Galway"],
        legal: &["Ltd", "DAC"],
        currency: "EUR",
        gender_tag: None,
    },
    Country {
        iso: "PL",
        name: "Poland",
        weight: 0.015,
        cities: &["Warsaw", "Kraków", "Wrocław", "Gdańsk"],
        legal: &["Sp. z o.o.", "S.A."],
        currency: "PLN",
        gender_tag: None,
    },
    Country {
        iso: "MX",
        name: "Mexico",
        weight: 0.015,
        cities: &["Mexico City", "Guadalajara", "Monterrey"],
        legal: &["S.A. de C.V.", ""],
        currency: "MXN",
        gender_tag: None,
    },
    Country {
        iso: "JP",
        name: "Japan",
        weight: 0.015,
        cities: &["Tokyo", "Osaka", "Yokohama"],
        legal: &["K.K.", "Co., Ltd."],
        currency: "JPY",
        gender_tag: None,
    },
    Country {
        iso: "SE",
        name: "Sweden",
        weight: 0.01,
        cities: &["Stockholm", "Gothenburg", "Malmö"],
        legal: &["AB"],
        currency: "SEK",
        gender_tag: None,
    },
    Country {
        iso: "CH",
        name: "Switzerland",
        weight: 0.01,
        cities: &["Zurich", "Geneva", "Basel"],
        legal: &["AG", "SA", "GmbH"],
        currency: "CHF",
        gender_tag: Some("(m/w/d)"),
    },
    Country {
        iso: "IT",
        name: "Italy",
        weight: 0.01,
        cities: &["Milan", "Rome", "Turin", "Bologna"],
        legal: &["S.p.A.", "S.r.l."],
        currency: "EUR",
        gender_tag: None,
    },
    Country {
        iso: "ZA",
        name: "South Africa",
        weight: 0.01,
        cities: &["Johannesburg", "Cape Town", "Durban"],
        legal: &["(Pty) Ltd"],
        currency: "ZAR",
        gender_tag: None,
    },
    Country {
        iso: "AE",
        name: "United Arab Emirates",
        weight: 0.01,
        cities: &["Dubai", "Abu Dhabi"],
        legal: &["LLC", "FZ-LLC"],
        currency: "AED",
        gender_tag: None,
    },
];

pub const BENEFITS_COMMON: &[&str] = &[
    "Competitive salary and an annual bonus",
    "Comprehensive medical, dental and vision coverage",
    "Generous paid time off and paid holidays",
    "Flexible working hours",
    "Hybrid work: two to three days a week in the office",
    "Paid parental leave",
    "A learning and development budget",
    "Employee assistance program and mental health support",
    "Wellness stipend",
    "Commuter benefits",
    "Employee stock purchase plan",
    "Tuition reimbursement",
    "Life and disability insurance",
    "Company-paid team events and offsites",
    "Home office setup allowance",
    "Employee discounts",
];

pub const CLOSINGS: &[&str] = &[
    "We are an equal opportunity employer. All qualified applicants will receive consideration for employment without regard to race, color, religion, sex, sexual orientation, gender identity, national origin, disability or veteran status.",
    "We welcome applicants of all backgrounds and are committed to building a diverse and inclusive team. If you need an accommodation during the application process, let us know.",
    "Diversity makes us better. We encourage people from underrepresented groups to apply, even if they do not meet every requirement listed.",
    "Applicants must be authorized to work in the country of the position. We do not accept unsolicited resumes from agencies.",
];

pub const SOFT_SKILLS: &[&str] = &[
    "Clear written and verbal communication",
    "Ability to manage priorities and meet deadlines",
    "A collaborative, low-ego approach to teamwork",
    "Comfort with ambiguity and change",
    "Strong attention to detail",
    "A customer-first mindset",
    "Curiosity and a willingness to learn",
];

pub const WORK_SETTINGS: &[&str] = &[
    "On-site",
    "Hybrid",
    "Remote",
    "Full-time",
    "Full time, permanent",
    "Contract",
    "Part-time",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_loads_and_covers_the_team_families() {
        let fams = known_families();
        for f in [
            "creative_media",
            "software_engineering",
            "healthcare_clinical",
            "arts_entertainment_sports",
            "protective_services",
        ] {
            assert!(fams.contains(&f), "{f}");
        }
        for f in fams {
            let v = family_vocab(f);
            assert!(
                v.duties.len() >= 4 && !v.skills.is_empty() && !v.tools.is_empty(),
                "{f}"
            );
            for ind in &v.industries {
                assert!(industry_index(ind).is_some(), "{f}: industry {ind}");
            }
        }
        let s = season_factors("retail");
        assert!((s.iter().sum::<f64>() - 12.0).abs() < 1e-9);
    }
}

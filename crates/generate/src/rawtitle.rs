//! Raw titles as employers write them: the taxonomy name or an alias, then seniority words or
//! level numerals, word-order variants, abbreviations, location/remote/shift tags, gender tags,
//! typos and case styles; and a share of genuinely ambiguous titles ("Associate", "Consultant")
//! that only the description can resolve.

use crate::catalog::TitleSpec;
use crate::rng::{chance, pick, pick_weighted, GenRng};
use crate::vocab::Country;
use jobshift_core::{Level, Seniority};
use rand::Rng;

/// Draw the seniority of one posting of a title.
pub fn draw_seniority(level: Level, rng: &mut GenRng) -> Seniority {
    match level {
        Level::IndividualContributor => {
            const S: [Seniority; 5] = [
                Seniority::Intern,
                Seniority::Entry,
                Seniority::Mid,
                Seniority::Senior,
                Seniority::Lead,
            ];
            S[pick_weighted(rng, &[0.03, 0.17, 0.45, 0.27, 0.08])]
        }
        Level::Manager => Seniority::Manager,
        Level::Director => Seniority::Director,
        Level::Vp => Seniority::Vp,
        Level::CSuite => Seniority::CSuite,
    }
}

const LEVEL_WORDS: &[&str] = &[
    "senior",
    "sr",
    "junior",
    "jr",
    "lead",
    "principal",
    "staff",
    "chief",
    "head",
    "director",
    "vp",
    "vice",
    "intern",
    "manager",
    "officer",
    "president",
];

fn has_level_word(name: &str) -> bool {
    name.split(|c: char| !c.is_alphanumeric())
        .any(|w| LEVEL_WORDS.contains(&w.to_ascii_lowercase().as_str()))
}

/// Word-order variant: "Director of Data Engineering" → "Data Engineering Director";
/// "Machine Learning Engineer" → "Engineer, Machine Learning".
fn reorder(base: &str) -> Option<String> {
    if let Some((a, b)) = base.split_once(" of ") {
        return Some(format!("{b} {a}"));
    }
    let words: Vec<&str> = base.split_whitespace().collect();
    if words.len() >= 2 {
        let (last, rest) = words.split_last()?;
        return Some(format!("{last}, {}", rest.join(" ")));
    }
    None
}

const ABBREVIATIONS: &[(&str, &str)] = &[
    ("Senior", "Sr."),
    ("Junior", "Jr."),
    ("Engineer", "Eng."),
    ("Engineering", "Eng"),
    ("Manager", "Mgr"),
    ("Management", "Mgmt"),
    ("Assistant", "Asst."),
    ("Director", "Dir."),
    ("Representative", "Rep"),
    ("Specialist", "Spclst"),
    ("Vice President", "VP"),
    ("Development", "Dev"),
    ("Developer", "Dev"),
    ("Operations", "Ops"),
    ("Administrator", "Admin"),
    ("Administrative", "Admin"),
    ("Technician", "Tech"),
    ("Coordinator", "Coord."),
    ("Associate", "Assoc."),
    ("Marketing", "Mktg"),
    ("Machine Learning", "ML"),
    ("Quality Assurance", "QA"),
    ("Human Resources", "HR"),
    ("Information Technology", "IT"),
    ("Registered Nurse", "RN"),
    ("Customer Service", "Cust. Svc."),
    ("Software", "SW"),
    ("Account Executive", "AE"),
    ("Business Development", "BD"),
    ("and", "&"),
];

fn abbreviate(s: &str, rng: &mut GenRng) -> String {
    let mut out = s.to_string();
    let mut applied = 0;
    for (long, short) in ABBREVIATIONS {
        if applied >= 2 {
            break;
        }
        if let Some(pos) = find_word(&out, long) {
            if chance(rng, 0.7) {
                out.replace_range(pos..pos + long.len(), short);
                applied += 1;
            }
        }
    }
    out
}

fn find_word(hay: &str, word: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(p) = hay[start..].find(word) {
        let i = start + p;
        let before_ok = i == 0
            || !hay[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric());
        let after = i + word.len();
        let after_ok = after >= hay.len()
            || !hay[after..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(i);
        }
        start = i + word.len();
    }
    None
}

fn with_seniority(base: &str, s: Seniority, name_has_level: bool, rng: &mut GenRng) -> String {
    let f = |pats: &[&str], rng: &mut GenRng| pick(rng, pats).replace("{b}", base);
    match s {
        Seniority::Intern => f(
            &[
                "{b} Intern",
                "Intern - {b}",
                "{b} Internship",
                "{b} Co-op",
                "Summer Intern, {b}",
                "{b} (Intern)",
            ],
            rng,
        ),
        _ if name_has_level => {
            if chance(rng, 0.1)
                && matches!(s, Seniority::Manager | Seniority::Director | Seniority::Vp)
            {
                format!("Senior {base}")
            } else {
                base.to_string()
            }
        }
        Seniority::Entry => f(
            &[
                "Junior {b}",
                "Jr. {b}",
                "Entry Level {b}",
                "{b} I",
                "Graduate {b}",
                "{b} 1",
                "Entry-Level {b}",
                "{b} - New Grad",
            ],
            rng,
        ),
        Seniority::Mid => {
            if chance(rng, 0.6) {
                base.to_string()
            } else {
                f(
                    &[
                        "{b} II",
                        "{b} 2",
                        "{b} (L4)",
                        "Intermediate {b}",
                        "{b} II",
                        "Experienced {b}",
                    ],
                    rng,
                )
            }
        }
        Seniority::Senior => f(
            &[
                "Senior {b}",
                "Sr. {b}",
                "Sr {b}",
                "{b} III",
                "{b} (L5)",
                "{b}, Senior",
                "Senior {b}",
                "{b} 3",
            ],
            rng,
        ),
        Seniority::Lead => f(
            &[
                "Lead {b}",
                "Principal {b}",
                "Staff {b}",
                "{b} Lead",
                "{b} IV",
                "{b} (L6)",
                "Senior Staff {b}",
            ],
            rng,
        ),
        Seniority::Manager | Seniority::Director | Seniority::Vp | Seniority::CSuite => {
            if chance(rng, 0.1) && s != Seniority::CSuite {
                format!("Senior {base}")
            } else {
                base.to_string()
            }
        }
    }
}

fn tag(country: &Country, city: &str, family: &str, rng: &mut GenRng) -> String {
    let mut opts: Vec<String> = vec![
        " - Remote".into(),
        " (Remote)".into(),
        format!(" - Remote, {}", country.iso),
        format!(" - {city}"),
        format!(" ({city})"),
        " | Hybrid".into(),
        format!(" - Hybrid ({city})"),
        format!(", {city}"),
        " - Full Time".into(),
        " (Contract)".into(),
        format!(" - Req #{}", rng.random_range(10_000..999_999)),
        " [Remote]".into(),
        " - Immediate Start".into(),
    ];
    if family.starts_with("healthcare")
        || family == "manufacturing_production"
        || family == "protective_services"
    {
        opts.push(" - Night Shift".into());
        opts.push(" - PRN".into());
        opts.push(" (Days, 12hr)".into());
        opts.push(" - $5,000 Sign-On Bonus".into());
    }
    pick(rng, &opts).clone()
}

fn typo(s: &str, rng: &mut GenRng) -> String {
    let chars: Vec<char> = s.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    if letters.len() < 4 {
        return s.to_string();
    }
    let i = letters[rng.random_range(1..letters.len() - 1)];
    let mut c = chars.clone();
    match rng.random_range(0..3) {
        0 if i + 1 < c.len() && c[i + 1].is_alphabetic() => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        _ => c.insert(i, chars[i]),
    }
    c.into_iter().collect()
}

/// Generic titles by level: a real share of postings are titled like this.
fn ambiguous_title(level: Level, seniority: Seniority, rng: &mut GenRng) -> String {
    let base = match level {
        Level::IndividualContributor => *pick(
            rng,
            &[
                "Associate",
                "Consultant",
                "Analyst",
                "Specialist",
                "Team Member",
                "Coordinator",
                "Professional",
                "Associate",
            ],
        ),
        Level::Manager => *pick(rng, &["Manager", "Team Lead", "Supervisor", "Manager"]),
        Level::Director => *pick(rng, &["Director", "Senior Director", "Head of Department"]),
        Level::Vp => *pick(rng, &["Vice President", "VP", "SVP"]),
        Level::CSuite => *pick(rng, &["Executive", "Officer", "Executive Officer"]),
    };
    match seniority {
        Seniority::Senior if chance(rng, 0.6) => format!("Senior {base}"),
        Seniority::Entry if chance(rng, 0.5) => format!("{base} I"),
        Seniority::Mid if chance(rng, 0.3) => format!("{base} II"),
        Seniority::Lead if chance(rng, 0.5) => format!("Lead {base}"),
        _ => base.to_string(),
    }
}

/// Rates of each raw-title transformation (per posting).
#[derive(Debug, Clone, Copy)]
pub struct TitleNoise {
    pub ambiguous: f64,
}

/// Write the raw title of one posting. Returns the title and whether it is ambiguous.
pub fn raw_title(
    t: &TitleSpec,
    seniority: Seniority,
    country: &Country,
    city: &str,
    noise: TitleNoise,
    rng: &mut GenRng,
) -> (String, bool) {
    let ambiguous = chance(rng, noise.ambiguous);
    let mut s = if ambiguous {
        ambiguous_title(t.level, seniority, rng)
    } else {
        let base = if !t.aliases.is_empty() && chance(rng, 0.45) {
            pick(rng, &t.aliases).clone()
        } else {
            t.name.clone()
        };
        let base = if chance(rng, 0.08) {
            reorder(&base).unwrap_or(base)
        } else {
            base
        };
        let s = with_seniority(&base, seniority, has_level_word(&base), rng);
        if chance(rng, 0.15) {
            abbreviate(&s, rng)
        } else {
            s
        }
    };
    if chance(rng, 0.22) {
        s.push_str(&tag(country, city, &t.family, rng));
    }
    if let Some(g) = country.gender_tag {
        if chance(rng, 0.6) {
            s.push(' ');
            s.push_str(g);
        }
    }
    if !ambiguous && chance(rng, 0.02) {
        s = typo(&s, rng);
    }
    let r: f64 = rng.random();
    if r < 0.04 {
        s = s.to_uppercase();
    } else if r < 0.07 {
        s = s.to_lowercase();
    }
    (s, ambiguous)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::rng::{rng_for, Key};
    use crate::vocab::COUNTRIES;

    #[test]
    fn variants_are_diverse_and_mostly_recognizable() {
        let cat = Catalog::study_sample();
        let t = cat.get("machine_learning_engineer").unwrap();
        let mut seen = std::collections::BTreeSet::new();
        let mut amb = 0;
        for i in 0..2000 {
            let mut r = rng_for(5, &[Key::N(i)]);
            let s = draw_seniority(t.level, &mut r);
            let (title, a) = raw_title(
                t,
                s,
                &COUNTRIES[0],
                "Austin, TX",
                TitleNoise { ambiguous: 0.05 },
                &mut r,
            );
            amb += a as usize;
            seen.insert(title);
        }
        assert!(seen.len() > 300, "only {} distinct", seen.len());
        assert!((50..=150).contains(&amb), "{amb}");
        assert_eq!(
            reorder("Director of Data Engineering").unwrap(),
            "Data Engineering Director"
        );
        assert_eq!(
            reorder("Machine Learning Engineer").unwrap(),
            "Engineer, Machine Learning"
        );
    }
}

//! Descriptions with the structure of real postings: about the company, the role, what you will
//! do, what you bring, pay and benefits, and a closing statement. Content comes from the title
//! (its name, definition, aliases and level) and its family's vocabulary, so the description
//! identifies the title even when the raw title ("Associate") does not. A share is written as
//! HTML, as career sites serve it.

use crate::catalog::TitleSpec;
use crate::companies::Company;
use crate::rng::{chance, pick, GenRng};
use crate::vocab::{
    family_vocab, FamilyVocab, BENEFITS_COMMON, CLOSINGS, INDUSTRIES, SOFT_SKILLS, WORK_SETTINGS,
};
use jobshift_core::{Level, Seniority};
use rand::seq::SliceRandom;
use rand::Rng;

/// Everything a description needs besides the RNG.
pub struct DescribeInput<'a> {
    pub title: &'a TitleSpec,
    pub seniority: Seniority,
    pub company: &'a Company,
    pub location: &'a str,
    pub remote: bool,
}

struct Section {
    header: String,
    paragraphs: Vec<String>,
    bullets: Vec<String>,
}

fn lower_first(s: &str) -> String {
    // keep acronyms ("ESG data ...") as written
    if s.chars().nth(1).is_some_and(|c| c.is_uppercase()) {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn trim_period(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

fn seniority_adj(s: Seniority) -> &'static str {
    match s {
        Seniority::Intern => "an intern ",
        Seniority::Entry => "a junior ",
        Seniority::Senior => "a senior ",
        Seniority::Lead => "a lead ",
        _ => "a ",
    }
}

fn years(s: Seniority, rng: &mut GenRng) -> Option<u32> {
    Some(match s {
        Seniority::Intern => return None,
        Seniority::Entry => rng.random_range(0..=2),
        Seniority::Mid => rng.random_range(2..=4),
        Seniority::Senior => rng.random_range(5..=7),
        Seniority::Lead => rng.random_range(8..=10),
        Seniority::Manager => rng.random_range(5..=8),
        Seniority::Director => rng.random_range(10..=12),
        Seniority::Vp => rng.random_range(12..=15),
        Seniority::CSuite => rng.random_range(15..=20),
    })
}

const HOURLY_FAMILIES: &[&str] = &[
    "retail",
    "hospitality_food",
    "personal_care_services",
    "customer_service",
    "transportation_logistics",
    "manufacturing_production",
    "trades_construction",
    "agriculture_natural_resources",
    "protective_services",
];

fn pay_line(d: &DescribeInput<'_>, rng: &mut GenRng) -> Option<String> {
    if !chance(rng, 0.7) {
        return None;
    }
    let c = d.company.country();
    let fx = match c.currency {
        "USD" => 1.0,
        "GBP" => 0.6,
        "EUR" => 0.7,
        "CAD" => 1.1,
        "AUD" => 1.3,
        "SGD" => 1.1,
        "INR" => 25.0,
        "BRL" => 2.0,
        "PLN" => 2.0,
        "MXN" => 6.0,
        "JPY" => 100.0,
        "SEK" => 7.0,
        "CHF" => 0.9,
        "ZAR" => 5.0,
        "AED" => 3.0,
        _ => 1.0,
    };
    let fam = d.title.family.as_str();
    if HOURLY_FAMILIES.contains(&fam) && d.title.level == Level::IndividualContributor {
        let lo = (rng.random_range(14..=24) as f64 * fx).round();
        let hi = lo + (rng.random_range(2..=8) as f64 * fx).round();
        return Some(format!(
            "Pay: {lo:.0}–{hi:.0} {} per hour, plus overtime",
            c.currency
        ));
    }
    let base = match d.title.level {
        Level::IndividualContributor => 70_000.0,
        Level::Manager => 115_000.0,
        Level::Director => 170_000.0,
        Level::Vp => 230_000.0,
        Level::CSuite => 290_000.0,
    };
    let fam_f = match fam {
        "software_engineering" | "data_ai" => 1.5,
        "product_design" | "executive_leadership" | "legal_compliance" => 1.3,
        "healthcare_clinical" | "finance_accounting" | "engineering" | "sales" => 1.1,
        "education" | "administrative_support" | "social_community_services" => 0.75,
        _ => 1.0,
    };
    let sen_f = match d.seniority {
        Seniority::Intern => 0.4,
        Seniority::Entry => 0.75,
        Seniority::Senior => 1.3,
        Seniority::Lead => 1.55,
        _ => 1.0,
    };
    let mid = base * fam_f * sen_f * fx * rng.random_range(0.85..1.15);
    let lo = (mid * 0.85 / 1000.0).round() * 1000.0;
    let hi = (mid * 1.15 / 1000.0).round() * 1000.0;
    let fmt = |x: f64| jobshift_core::numbers::thousands(x as u64);
    Some(if c.currency == "USD" {
        format!("The base salary range for this role is ${} – ${} per year, depending on experience and location.", fmt(lo), fmt(hi))
    } else {
        format!("Salary: {} {} – {} per year.", c.currency, fmt(lo), fmt(hi))
    })
}

fn level_duties(level: Level, team: &str, rng: &mut GenRng) -> Vec<String> {
    match level {
        Level::IndividualContributor => vec![],
        Level::Manager => vec![
            format!(
                "Hire, coach and develop a team of {} people",
                rng.random_range(4..=12)
            ),
            "Set quarterly goals for the team and track them".into(),
            "Run one-on-ones, performance reviews and team rituals".into(),
        ],
        Level::Director => vec![
            format!("Set the multi-year strategy for {team} and own its budget"),
            "Lead managers and senior specialists across several teams".into(),
            "Represent the function to the executive team".into(),
        ],
        Level::Vp => vec![
            format!(
                "Lead the {team} organization of {}+ people",
                rng.random_range(40..=300)
            ),
            "Own the function's strategy, operating plan and headcount".into(),
            "Partner with the CEO and peers on company priorities".into(),
        ],
        Level::CSuite => vec![
            "Report to the CEO and the board of directors".into(),
            "Own the enterprise-wide program and its risks".into(),
            "Build and lead the senior leadership team of the function".into(),
        ],
    }
}

/// Write the description of one posting.
/// "About us": size, industry, headquarters, head count.
fn about_company(d: &DescribeInput<'_>, rng: &mut GenRng) -> Section {
    let ind = &INDUSTRIES[d.company.industry];
    let country = d.company.country();
    let size_word = match d.company.size {
        s if s > 200.0 => "global",
        s if s > 20.0 => "leading",
        s if s > 3.0 => "growing",
        _ => "small, independent",
    };
    let mut blurbs: Vec<&str> = ind.blurb.to_vec();
    blurbs.shuffle(rng);
    let employees = (d.company.size * rng.random_range(40.0..80.0))
        .round()
        .max(8.0) as u64;
    Section {
        header: pick(rng, &["About Us", "Who we are", "About the company", "Our company"]).to_string(),
        paragraphs: vec![format!(
            "{} is a {size_word} {} company headquartered in {}. {} {} Today we are {employees} people{}.",
            d.company.name,
            ind.noun,
            country.name,
            blurbs[0],
            blurbs[1],
            if d.company.multinational { " across several countries" } else { "" }
        )],
        bullets: vec![],
    }
}

/// The role: who is sought, for which team, where; sometimes with an alias of the title.
fn about_role(d: &DescribeInput<'_>, v: &FamilyVocab, rng: &mut GenRng) -> Section {
    let t = d.title;
    let mention = chance(rng, 0.85);
    let who = if mention {
        format!("{}{}", seniority_adj(d.seniority), t.name)
    } else {
        format!("{}new colleague", seniority_adj(d.seniority))
    };
    let where_ = if d.remote {
        " This position is remote.".to_string()
    } else {
        format!(" The role is based in {}.", d.location)
    };
    let mut role = vec![format!(
        "We are looking for {who} to join our {} team. {}{where_}",
        v.team,
        format!(
            "{} {}.",
            pick(
                rng,
                &[
                    "The job in one sentence:",
                    "In short, the role",
                    "The role:"
                ]
            ),
            lower_first(trim_period(&t.definition))
        )
    )];
    if chance(rng, 0.5) && !t.aliases.is_empty() {
        let a = pick(rng, &t.aliases);
        role.push(format!(
            "You may currently hold a title like {a} or {}; what matters is the work described below.",
            t.name
        ));
    }
    Section {
        header: pick(
            rng,
            &[
                "About the role",
                "The opportunity",
                "The Role",
                "Position summary",
                "Job Description",
            ],
        )
        .to_string(),
        paragraphs: role,
        bullets: vec![],
    }
}

/// Duties: the title's definition, its level's, and a few of its family's.
fn responsibilities(d: &DescribeInput<'_>, v: &FamilyVocab, rng: &mut GenRng) -> Section {
    let t = d.title;
    let mut duties: Vec<String> = vec![upper_first(trim_period(&t.definition))];
    duties.extend(level_duties(t.level, &v.team, rng));
    let mut fam: Vec<&String> = v.duties.iter().collect();
    fam.shuffle(rng);
    let k = rng.random_range(3..=5).min(fam.len());
    duties.extend(fam[..k].iter().map(|s| upper_first(s)));
    if matches!(d.seniority, Seniority::Senior | Seniority::Lead) {
        duties.push("Mentor less experienced colleagues and review their work".into());
    }
    duties.push(format!(
        "Be the {} the rest of the business relies on",
        t.name
    ));
    Section {
        header: pick(
            rng,
            &[
                "What you'll do",
                "Responsibilities",
                "Key Responsibilities",
                "Your day to day",
                "In this role you will",
            ],
        )
        .to_string(),
        paragraphs: vec![],
        bullets: duties,
    }
}

/// Requirements: experience by seniority, degree, tools, skills, one soft skill.
fn requirements(d: &DescribeInput<'_>, v: &FamilyVocab, rng: &mut GenRng) -> Section {
    let t = d.title;
    let mut req = Vec::new();
    match years(d.seniority, rng) {
        None => req.push(format!(
            "Currently enrolled in a relevant program, with an interest in becoming a {}",
            t.name
        )),
        Some(0) => req.push(format!(
            "Some exposure to {} work through school, internships or projects",
            t.name
        )),
        Some(y) => req.push(format!(
            "{y}+ years of experience as a {} or in a similar role",
            t.name
        )),
    }
    if t.level == Level::Manager {
        req.push("2+ years managing people".into());
    }
    req.push(upper_first(&v.degree));
    let mut tools: Vec<&String> = v.tools.iter().collect();
    tools.shuffle(rng);
    let nt = rng.random_range(2..=3).min(tools.len());
    let tl: Vec<&str> = tools[..nt].iter().map(|s| s.as_str()).collect();
    req.push(format!("Hands-on experience with {}", tl.join(", ")));
    let mut skills: Vec<&String> = v.skills.iter().collect();
    skills.shuffle(rng);
    for s in skills.iter().take(2) {
        req.push(format!(
            "{} in {}",
            pick(rng, &["Strength", "Proven skill", "Solid grounding"]),
            s
        ));
    }
    req.push(pick(rng, SOFT_SKILLS).to_string());
    Section {
        header: pick(
            rng,
            &[
                "What you bring",
                "Requirements",
                "Qualifications",
                "About you",
                "Who you are",
            ],
        )
        .to_string(),
        paragraphs: vec![],
        bullets: req,
    }
}

/// Pay (when the posting states it) and benefits, some by country.
fn pay_and_benefits(d: &DescribeInput<'_>, rng: &mut GenRng) -> Section {
    let country = d.company.country();
    let mut ben: Vec<&str> = BENEFITS_COMMON.to_vec();
    ben.shuffle(rng);
    let nb = rng.random_range(3..=6);
    let mut bullets: Vec<String> = ben[..nb].iter().map(|s| s.to_string()).collect();
    if country.iso == "US" && chance(rng, 0.6) {
        bullets.push("401(k) with company match".into());
    }
    if country.iso != "US" && chance(rng, 0.5) {
        bullets.push("Pension scheme with employer contributions".into());
    }
    let mut paras = Vec::new();
    if let Some(p) = pay_line(d, rng) {
        paras.push(p);
    }
    Section {
        header: pick(
            rng,
            &[
                "What we offer",
                "Benefits",
                "Perks and benefits",
                "Why join us",
            ],
        )
        .to_string(),
        paragraphs: paras,
        bullets,
    }
}

pub fn describe(d: &DescribeInput<'_>, rng: &mut GenRng) -> String {
    let v = family_vocab(&d.title.family);
    let sections = vec![
        about_company(d, rng),
        about_role(d, v, rng),
        responsibilities(d, v, rng),
        requirements(d, v, rng),
        pay_and_benefits(d, rng),
    ];
    let setting = if d.remote {
        "Remote"
    } else {
        *pick(rng, WORK_SETTINGS)
    };
    let footer = format!(
        "Location: {} ({setting})\n\n{}",
        d.location,
        pick(rng, CLOSINGS)
    );

    if chance(rng, 0.15) {
        render_html(&sections, &footer)
    } else {
        render_text(&sections, &footer, rng)
    }
}

fn render_text(sections: &[Section], footer: &str, rng: &mut GenRng) -> String {
    let bullet = *pick(rng, &["- ", "• ", "* "]);
    let upper = chance(rng, 0.2);
    let mut out = String::with_capacity(2600);
    for s in sections {
        if upper {
            out.push_str(&s.header.to_uppercase());
        } else {
            out.push_str(&s.header);
            out.push(':');
        }
        out.push('\n');
        for p in &s.paragraphs {
            out.push_str(p);
            out.push('\n');
        }
        for b in &s.bullets {
            out.push_str(bullet);
            out.push_str(b);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(footer);
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn render_html(sections: &[Section], footer: &str) -> String {
    let mut out = String::with_capacity(3000);
    out.push_str("<div class=\"job-description\">");
    for s in sections {
        out.push_str("<h3>");
        out.push_str(&esc(&s.header));
        out.push_str("</h3>");
        for p in &s.paragraphs {
            out.push_str("<p>");
            out.push_str(&esc(p));
            out.push_str("</p>");
        }
        if !s.bullets.is_empty() {
            out.push_str("<ul>");
            for b in &s.bullets {
                out.push_str("<li>");
                out.push_str(&esc(b));
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
    }
    for line in footer.split("\n\n") {
        out.push_str("<p>");
        out.push_str(&esc(line));
        out.push_str("</p>");
    }
    out.push_str("</div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::companies::Companies;
    use crate::rng::{rng_for, Key};

    #[test]
    fn lengths_look_like_real_postings_and_name_the_work() {
        let cat = Catalog::study_sample();
        let comps = Companies::build(1, 50, 12);
        let mut lens = Vec::new();
        for (i, t) in cat.titles().iter().enumerate() {
            let mut r = rng_for(9, &[Key::N(i as u64)]);
            let d = DescribeInput {
                title: t,
                seniority: Seniority::Mid,
                company: &comps.list[i % 50],
                location: "Austin, TX",
                remote: false,
            };
            let text = describe(&d, &mut r);
            assert!(
                text.contains(trim_period(&t.definition))
                    || text.contains(&esc(trim_period(&t.definition)))
            );
            lens.push(text.len());
        }
        lens.sort();
        let median = lens[lens.len() / 2];
        assert!((1400..=3200).contains(&median), "median length {median}");
    }
}

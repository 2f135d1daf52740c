//! Rules that read a title's parts where the whole title matches no alias: the title before a
//! separator, a bracketed or lead specialty, the title after the technologies it names first, a
//! software stack in the text, the head word's check and the title a refused title ends with.

use super::{Classifier, Method, Prediction};
use crate::head_word::accepts;
use crate::heads::top_k;
use crate::seniority::{bracket_groups, clean_title, is_generic_title, resolve_seniority};
use jobshift_taxonomy::Title;

impl Classifier {
    /// A software engineer, read from the description (method `description`, the alias
    /// confidence), when the posting's text writes out a software stack
    /// ([`crate::roles::names_software_stack`]) and the taxonomy has the title; the caller has
    /// established that the posting hires an engineer of some kind.
    pub(super) fn software_engineer_of(
        &self,
        title: &str,
        description: &str,
    ) -> Option<Prediction> {
        if !crate::roles::names_software_stack(description) {
            return None;
        }
        let t = self.taxonomy.match_exact("software engineer")?;
        let mut p = self.alias_prediction(title, t, vec![t.id.clone()], Vec::new());
        p.method = Method::Description;
        Some(p)
    }

    /// A prediction by the alias step: title `t` at the alias step's measured confidence.
    pub(super) fn alias_prediction(
        &self,
        raw_title: &str,
        t: &Title,
        top5: Vec<String>,
        roles: Vec<String>,
    ) -> Prediction {
        Prediction {
            title_id: t.id.clone(),
            confidence: self.meta.alias_confidence,
            method: Method::Alias,
            alternatives: vec![(t.id.clone(), 1.0)],
            seniority: resolve_seniority(raw_title, Some(t.level)),
            top5,
            best: t.id.clone(),
            reason: None,
            roles,
        }
    }

    /// The title an exact name or alias gives a posting title (raw, else cleaned), refined by a
    /// bracketed specialty: "Senior Software Engineer (Backend)" is "Backend Engineer" when that
    /// is an alias. The specialty replaces the plain match only when the plain match is the
    /// generic title of its O*NET occupation (the crosswalk's default, as software engineer is
    /// for Software Developers) and the specialty is in the same family — "Full Stack Engineer
    /// (React)" stays full stack, "Software Engineer (Windows)" stays software. Without a plain
    /// match it is taken only when the cleaned title is a bare head word or generic ("Founding
    /// Engineer (Full-stack)"); a longer title is left to the embedding.
    pub(super) fn alias_hit(&self, raw: &str, cleaned: &str) -> Option<&Title> {
        let plain = self
            .taxonomy
            .match_exact(raw)
            .or_else(|| self.taxonomy.match_exact(cleaned))
            .or_else(|| {
                // "Founding Engineers", "Forward Deployed Engineers": the plural of an alias
                [raw, cleaned]
                    .into_iter()
                    .filter_map(crate::roles::singular_title)
                    .filter(|one| !is_generic_title(one))
                    .find_map(|one| self.taxonomy.match_exact(&one))
            });
        let specialty = if raw.contains(['(', '[']) {
            self.bracket_specialty(raw, cleaned)
        } else {
            None
        };
        match (plain, specialty) {
            // "Founding Engineer (Full-stack)": the title is only its head word (or generic)
            (None, Some(s))
                if cleaned.split_whitespace().count() <= 1 || is_generic_title(cleaned) =>
            {
                Some(s)
            }
            // "Senior Software Engineer (Backend)": a generic title, refined within its family
            // (not a plural's: "Software Engineers (Backend, Frontend)" hires both)
            (Some(p), Some(s))
                if s.id != p.id
                    && s.family == p.family
                    && self.is_onet_default(p)
                    && !is_plural_head(cleaned) =>
            {
                Some(s)
            }
            (p, _) => p,
        }
    }

    /// The title the first part of `raw` names when a separator (`,` `|` `:` ` - ` ` / ` `–`
    /// `—` outside brackets) follows it with the team, product or area the role works on:
    /// "Senior Software Engineer, Database Engine", "Platform Engineer - Orchestration", "Sr
    /// Data Engineer, Alerts", "Software Engineer / Distributed Database". Only an exact name
    /// or alias counts, and never a generic one ("Director, People Experience", "Engineer,
    /// Backend" stay unclassified). The cascade
    /// asks this of titles the embedding left below the threshold, and of titles whose sure
    /// embedding answer leaves the leading title's family and kind
    /// ([`leaves_the_leading_title`]): otherwise the tail often refines the title ("Software
    /// Engineer, Security" is a security engineer), so the plain leading title would be a step
    /// back. A part of level words alone ("Principal / Lead …") is no title.
    pub(super) fn leading_title(&self, raw: &str) -> Option<&Title> {
        let first = raw[..leading_part_end(raw)?].trim();
        let cleaned = clean_title(first);
        // "Principal / Lead Fullstack SW Engineer": a level, not the school's principal (a
        // part of seniority words only cleans to nothing before a head word)
        if first.is_empty() || is_generic_title(&cleaned) || only_level_words(first) {
            return None;
        }
        self.taxonomy
            .match_exact(first)
            .or_else(|| self.taxonomy.match_exact(&cleaned))
    }

    /// The one exact title a later part of a header-like title field names when its first part
    /// names no role and no department: "Rangespan - London, UK - Lead DevOps Engineer",
    /// "Shoefitr - Software Engineer - Pittsburgh, PA" (the company, read by the embedding as a
    /// Conservation Scientist or a Tailor, comes first). Split on `|`, ` - `, ` -- `, `–`, `—`, `,`, `:` and
    /// `;` (brackets removed), never on a spaced slash, which writes alternatives of one job; a
    /// part counts when it is, without its level words, an exact, non-generic name or alias (or
    /// its plural). Two parts naming titles, or none, give `None`.
    pub(super) fn header_title(&self, raw: &str) -> Option<&Title> {
        const SEPARATORS: &[&str] = &["|", " - ", " -- ", "–", "—", ",", ":", ";"];
        let parts = crate::roles::title_parts(raw, SEPARATORS);
        if parts.len() < 2 {
            return None;
        }
        let named = |part: &str| {
            let cleaned = clean_title(part);
            // a state ("Philadelphia, PA", "Columbia, MD") is no title, nor a generic one or
            // its plural ("Consultants")
            let abbreviation = !part.contains(' ') && part.len() <= 2;
            let generic = is_generic_title(&cleaned)
                || crate::roles::singular_title(&cleaned).is_some_and(|one| is_generic_title(&one));
            if abbreviation || generic || only_level_words(part) {
                return None;
            }
            self.roles
                .part_role(part)
                .or_else(|| self.roles.part_role(&cleaned))
                .map(|i| &self.taxonomy.titles()[i])
        };
        // the first part is the company: not a role, a department or a list of them
        // ("Engineers, Designers, Product Managers", "Engineering, Sales, Support")
        if self.roles.names_role_or_department(&parts[0]) {
            return None;
        }
        let mut found = parts[1..].iter().filter_map(|p| named(p));
        let title = found.next()?;
        found.next().is_none().then_some(title)
    }

    /// A bracketed group of `raw` (whole, or one of its `/`, `,`, `&`, `+` parts) joined to the
    /// cleaned title's last word, when that is an exact alias ("Platform/API" + "engineer" →
    /// "Platform engineer").
    pub(super) fn bracket_specialty(&self, raw: &str, cleaned: &str) -> Option<&Title> {
        let last = cleaned.split_whitespace().last()?;
        // "Senior Engineers (Fullstack & Ads)": the specialty names one of them
        let singular = crate::roles::singular_title(last);
        let heads = std::iter::once(last).chain(singular.as_deref());
        for head in heads {
            for group in bracket_groups(raw) {
                let parts = std::iter::once(group).chain(group.split(['/', ',', '&', '+']));
                for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
                    if let Some(t) = self.taxonomy.match_exact(&format!("{part} {head}")) {
                        return Some(t);
                    }
                }
            }
        }
        None
    }

    /// The title a lead role's specialty names ("Frontend Technical Lead", "QA Lead", "Data
    /// Engineering Lead", "Machine Learning Team Lead"): the cleaned title ends in lead, tech
    /// lead, technical lead, team lead or leader, and the specialty before it, as its
    /// practitioner ("frontend engineer", "qa engineer", "data engineer", "product designer"
    /// for "Product Design Lead") or as itself, is an exact, non-generic title. Asked, like
    /// [`Self::leading_title`], only where the embedding abstained ("Engineering Lead",
    /// "Strategic Project Lead" stay unclassified). A business function's lead is not its
    /// engineer ([`BUSINESS_FUNCTIONS`]: "Site Lead" is no site engineer, "Design Lead" no design
    /// engineer, "Business Lead" no business developer): there only the specialty itself counts.
    pub(super) fn lead_specialty(&self, cleaned: &str) -> Option<&Title> {
        const LEADS: &[&[&str]] = &[
            &["technical", "lead"],
            &["tech", "lead"],
            &["team", "lead"],
            &["technical", "leader"],
            &["lead"],
            &["leader"],
        ];
        let toks: Vec<&str> = cleaned.split_whitespace().collect();
        let n = LEADS.iter().find(|l| toks.ends_with(l))?.len();
        let specialty = toks[..toks.len() - n].join(" ");
        if specialty.is_empty() || is_generic_title(&specialty) {
            return None;
        }
        let stem = |suffix: &str| {
            specialty
                .strip_suffix(suffix)
                .map(str::trim_end)
                .filter(|s| !s.is_empty())
        };
        let practitioner = !specialty
            .split(' ')
            .any(|w| BUSINESS_FUNCTIONS.contains(&w));
        let candidates = [
            stem("engineering").map(|s| format!("{s} engineer")),
            stem("design").map(|s| format!("{s} designer")),
            practitioner.then(|| format!("{specialty} engineer")),
            practitioner.then(|| format!("{specialty} developer")),
            Some(specialty.clone()),
        ];
        candidates
            .into_iter()
            .flatten()
            .filter(|c| !is_generic_title(c))
            .find_map(|c| self.taxonomy.match_exact(&c))
    }

    /// The exact title after the technologies a title names first ("Rust Software Engineer" →
    /// Software Engineer, "Java/Kotlin Backend Engineer" → Backend Engineer, "GCP DevOps
    /// Engineer" → DevOps Engineer; [`crate::roles::is_stack_word`]): the technology pulls the
    /// embedding away from the job (MiniLM's best guess for "Rust Software Engineer" is right,
    /// at 0.37), and the job is the title it qualifies. Asked, like [`Self::leading_title`],
    /// only where the embedding abstained; a generic remainder ("Rust Engineer", "AWS
    /// Consultant") is not taken.
    pub(super) fn technology_title(&self, cleaned: &str) -> Option<&Title> {
        let toks: Vec<&str> = cleaned.split_whitespace().collect();
        let skip = toks
            .iter()
            .take_while(|w| **w == "and" || crate::roles::is_stack_word(w))
            .count();
        if skip == toks.len() || !toks[..skip].iter().any(|w| *w != "and") {
            return None;
        }
        let rest = toks[skip..].join(" ");
        if is_generic_title(&rest) {
            return None;
        }
        self.taxonomy.match_exact(&rest)
    }

    /// Where the best of `top` (the head's best titles for `row`) is never written with the
    /// title's checked head word `head`: the best titles that are, to take their place
    /// ([`crate::head_word`]). `None` when the best is written so, or no title is.
    pub(super) fn top_written_with(
        &self,
        row: &[f32],
        top: &[(usize, f32)],
        head: usize,
    ) -> Option<Vec<(usize, f32)>> {
        let bits = self.class_heads.as_ref()?;
        if accepts(head, bits[top.first()?.0]) {
            return None;
        }
        let masked: Vec<f32> = row
            .iter()
            .zip(bits)
            .map(|(p, b)| {
                if accepts(head, *b) {
                    *p
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect();
        let allowed: Vec<(usize, f32)> = top_k(&masked, top.len())
            .into_iter()
            .filter(|(_, p)| p.is_finite())
            .collect();
        (!allowed.is_empty()).then_some(allowed)
    }

    /// The exact, non-generic title a cleaned title ends with, written with its checked head
    /// word `head` ("ct network engineer" → Network Engineer, "billing platform engineer" →
    /// Platform Engineer, "cno software engineer" → Software Engineer), longest first. Asked
    /// only where the embedding's best title was refused for its head word
    /// ([`crate::head_word`]) and what remained fell below the threshold: measured on every
    /// title the embedding left below the threshold, the title a title ends with was right on
    /// about nine in ten HN titles but on 0.56 of the O*NET reported titles and 0.25 of the
    /// JobBERT titles ("Furnace Production Engineer" → Site Reliability Engineer), so it is not
    /// a general rule. A phrase that starts inside a phrase the taxonomy writes is no title
    /// of its own: "development engineer" in "Senior Business Development Engineer" (the
    /// taxonomy writes "business development"), "automation engineer" in "Marketing Automation
    /// Engineer" ([`crate::roles::RoleFinder::writes_together`]).
    pub(super) fn trailing_title(&self, cleaned: &str, head: usize) -> Option<&Title> {
        let bits = self.class_heads.as_ref()?;
        crate::head_word::trailing_phrases(cleaned)
            .iter()
            .filter(|(before, p)| {
                let first = p.split(' ').next().unwrap_or_default();
                !is_generic_title(p) && !self.roles.writes_together(before, first)
            })
            .filter_map(|(_, p)| self.taxonomy.match_exact(p))
            .find(|t| {
                let class = self.meta.classes.iter().position(|c| *c == t.id);
                class.is_some_and(|c| accepts(head, bits[c]))
            })
    }

    /// Whether `t` is the title its O*NET occupation's postings count under by default.
    pub(super) fn is_onet_default(&self, t: &Title) -> bool {
        self.taxonomy
            .title_for_onet(&t.onet_soc)
            .is_some_and(|d| d.id == t.id)
    }
}

/// Whether a cleaned title's last word is a plural ("Software Engineers").
pub(super) fn is_plural_head(cleaned: &str) -> bool {
    cleaned
        .split_whitespace()
        .last()
        .is_some_and(|w| crate::roles::singular_title(w).is_some())
}

/// Whether a cleaned title is only "engineer(s)" ("Senior Engineer", "Staff+ Engineers"):
/// which engineer, only the posting says.
pub(super) fn is_bare_engineer(cleaned: &str) -> bool {
    matches!(cleaned, "engineer" | "engineers")
}

/// Words of a lead's specialty that name a business function or a place, not a technical
/// specialty: their lead is not "X engineer" or "X developer" ([`Classifier::lead_specialty`]).
pub(super) const BUSINESS_FUNCTIONS: &[&str] = &[
    "business",
    "site",
    "design",
    "customer",
    "service",
    "market",
    "product",
    "team",
    "operations",
    "project",
    "program",
    "account",
    "sales",
    "marketing",
    "community",
    "people",
    "finance",
    "legal",
    "office",
    "studio",
    "store",
    "shift",
    "content",
    "strategic",
    "growth",
    "partner",
    "partnerships",
    "client",
    "support",
    "gtm",
    "revenue",
    "revops",
];

/// Where the first part of a title ends: the first `,` `|` `:` `–` `—` or spaced `-` outside
/// brackets (None without one).
pub(super) fn leading_part_end(raw: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut prev_space = false;
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' | '|' | ':' | '–' | '—' if depth == 0 => return Some(i),
            // " - " and " / " (a slash without spaces joins words of one title: "Node/React")
            '-' | '/'
                if depth == 0
                    && prev_space
                    && chars.peek().is_some_and(|(_, n)| n.is_whitespace()) =>
            {
                return Some(i)
            }
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    None
}

/// Whether `part` is level words alone ("Principal", "Senior / Lead"): it cleans to nothing
/// before a head word.
fn only_level_words(part: &str) -> bool {
    clean_title(&format!("{part} engineer")) == "engineer"
}

/// Whether the part of `raw` after its leading title names a team, product or area rather
/// than another title: the separator is not a spaced slash ("Accounts Assistant / Officer /
/// Executive", "Care Assistant / Hospital Aide" write alternatives of one job).
pub(super) fn tail_names_an_area(raw: &str) -> bool {
    leading_part_end(raw).is_some_and(|i| !raw[i..].starts_with('/'))
}

/// Whether the embedding's answer `best` leaves the exact title `leading` a title names before
/// a separator: another family, and a name without the leading title's head word ("Credit
/// Analyst" for "Data Scientist - Credit Risk"). A title of the same family, or of the same kind
/// ("Security Engineer" for "Software Engineer, Security", "Data Engineer" for "Software
/// Engineer, Data Platform"), is the tail refining the title, and stays.
pub(super) fn leaves_the_leading_title(leading: &Title, best: &Title) -> bool {
    let kind = leading.name.split_whitespace().last().unwrap_or_default();
    leading.id != best.id
        && leading.family != best.family
        && !best
            .name
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case(kind))
}

#[cfg(test)]
mod tests {
    use super::{leading_part_end, leaves_the_leading_title, tail_names_an_area};
    use jobshift_taxonomy::Taxonomy;

    #[test]
    fn only_a_title_of_another_family_and_kind_leaves_the_leading_title() {
        let tax = Taxonomy::builtin().unwrap();
        let t = |id: &str| tax.get(id).unwrap_or_else(|| panic!("{id}"));
        let swe = t("software_engineer");
        assert!(leaves_the_leading_title(swe, t("audio_video_technician")));
        assert!(leaves_the_leading_title(
            t("data_scientist"),
            t("credit_analyst")
        ));
        // the same family, or the same kind in another family: the tail refines the title
        assert!(!leaves_the_leading_title(swe, t("security_engineer")));
        assert!(!leaves_the_leading_title(swe, t("data_engineer")));
        assert!(!leaves_the_leading_title(swe, swe));
    }

    #[test]
    fn a_spaced_slash_writes_alternatives_not_an_area() {
        assert!(tail_names_an_area("Data Scientist - Credit Risk"));
        assert!(tail_names_an_area(
            "Senior Software Engineer, Database Engine"
        ));
        assert!(!tail_names_an_area(
            "Accounts Assistant / Officer / Executive"
        ));
        assert!(!tail_names_an_area("Software Engineer"));
    }

    #[test]
    pub(super) fn the_leading_part_ends_at_the_first_separator_outside_brackets() {
        let first = |s: &'static str| leading_part_end(s).map(|i| s[..i].trim());
        assert_eq!(
            first("Senior Software Engineer, Database Engine"),
            Some("Senior Software Engineer")
        );
        assert_eq!(
            first("Platform Engineer - Orchestration"),
            Some("Platform Engineer")
        );
        assert_eq!(first("Data Engineer | Remote"), Some("Data Engineer"));
        assert_eq!(first("Engineer – Payments"), Some("Engineer"));
        assert_eq!(
            first("Software Engineer / Distributed Database"),
            Some("Software Engineer")
        );
        // a comma inside brackets, a hyphenated word, a slash between words: no separator
        assert_eq!(first("Staff Engineer (Embedded, Telematics)"), None);
        assert_eq!(first("Full-Stack Engineer"), None);
        assert_eq!(first("Full Stack Node/React Engineer"), None);
        assert_eq!(
            first("Staff Engineer (Embedded, Telematics) - Berlin"),
            Some("Staff Engineer (Embedded, Telematics)")
        );
        assert_eq!(first("Software Engineer"), None);
    }
}

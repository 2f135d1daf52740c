//! Title cleaning for the cascade and per-posting seniority.
//!
//! [`clean_title`] turns a raw posting title into the occupation words the classifier looks up
//! and embeds: parentheticals, seniority words, levels and numerals, location / remote /
//! employment-type tails and gender tags are removed ("Sr. Software Engineer II (Remote, NYC)"
//! → "software engineer"). Words that *name* a taxonomy title ("manager", "director", "vp",
//! "chief") are kept: they separate Engineering Manager from Software Engineer.
//!
//! [`title_signals`] reads the seniority words of the raw title; [`resolve_seniority`] combines
//! them with the level of the predicted title (an "Account Manager" is an individual contributor
//! whose title happens to contain "manager").

use jobshift_core::normalize::normalize_title;
use jobshift_core::{Level, Seniority};

/// Longest title the cascade reads (characters); longer fields are cut (a 10,000-character
/// "title" is a description pasted in the wrong column).
pub const MAX_TITLE_CHARS: usize = 300;

/// Seniority and level words, dropped wherever they occur ([`CleaningRule::Seniority`]).
const SENIORITY_WORDS: &[&str] = &[
    "sr",
    "snr",
    "senior",
    "jr",
    "junior",
    "entry",
    "mid",
    "midlevel",
    // Dutch and Flemish postings' mid-level ("Medior Data Engineer")
    "medior",
    "experienced",
    "intern",
    "internship",
    "trainee",
    "apprentice",
    "graduate",
    "grad",
    "coop",
    "ii",
    "iii",
    "iv",
    "vi",
    "vii",
    "viii",
    // "Founding Engineer": a stage of the company, not the occupation
    "founding",
];

/// Where, how long and how urgently: remote and contract tags, dropped wherever they occur
/// ([`CleaningRule::WorkArrangement`]).
const ARRANGEMENT_WORDS: &[&str] = &[
    "remote",
    "hybrid",
    "onsite",
    "wfh",
    "telecommute",
    "telework",
    "fulltime",
    "parttime",
    "contract",
    "contractor",
    "temporary",
    "temp",
    "freelance",
    "permanent",
    "seasonal",
    "urgent",
    "urgently",
    "hiring",
    "immediate",
];

/// Salary decorations ("$150k-$200k USD"), beside [`is_money_token`] ([`CleaningRule::Salary`]).
const MONEY_WORDS: &[&str] = &["usd", "eur", "gbp"];

/// Requisition decorations ("Req #12345"), beside [`is_requisition_token`]
/// ([`CleaningRule::Requisition`]).
const REQUISITION_WORDS: &[&str] = &["req", "requisition"];

/// Multi-word phrases dropped wherever they occur (matched on normalized tokens), each with the
/// rule it belongs to.
const DROP_PHRASES: &[(&[&str], CleaningRule)] = {
    use CleaningRule::{Gender, Seniority, WorkArrangement};
    &[
        (&["entry", "level"], Seniority),
        (&["mid", "level"], Seniority),
        (&["new", "grad"], Seniority),
        (&["co", "op"], Seniority),
        (&["work", "from", "home"], WorkArrangement),
        (&["full", "time"], WorkArrangement),
        (&["part", "time"], WorkArrangement),
        (&["on", "site"], WorkArrangement),
        (&["fully", "remote"], WorkArrangement),
        (&["100", "remote"], WorkArrangement),
        (&["m", "w", "d"], Gender),
        (&["m", "f", "d"], Gender),
        (&["f", "m", "d"], Gender),
        (&["w", "m", "d"], Gender),
        (&["h", "f"], Gender),
        (&["f", "h"], Gender),
        (&["m", "f"], Gender),
        (&["all", "genders"], Gender),
        (&["level", "1"], Seniority),
        (&["level", "2"], Seniority),
        (&["level", "3"], Seniority),
        (&["level", "4"], Seniority),
        (&["level", "5"], Seniority),
        (&["level", "i"], Seniority),
        (&["level", "ii"], Seniority),
        (&["level", "iii"], Seniority),
    ]
};

/// One rule of [`clean_title`]. Every rule is on in the product; [`CleaningRules`] turns some
/// off to measure what each does (`jobshift eval --skip-cleaning RULE`,
/// `benches/classify/cleaning_ablation.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CleaningRule {
    /// HTML tags and entities ("<b>Data Engineer</b>", "&nbsp;").
    Html,
    /// Web addresses ("`https://coder.com/`").
    WebAddresses,
    /// Bracketed parts ("(Remote, NYC)", "\[Contract\]").
    Brackets,
    /// Segments after a separator (`|`, `,`, `@`, `:`, ` - `, …) that name a location, a
    /// company or an employment type, and " at Company" / " in City" tails.
    Separators,
    /// Seniority and level words, level codes and numerals ("Sr.", "II", "L4", "Lead …").
    Seniority,
    /// Remote, hybrid, full-time, contract and hiring tags.
    WorkArrangement,
    /// Gender markers ("(m/w/d)", "H/F").
    Gender,
    /// Salaries ("$150k", "USD").
    Salary,
    /// Requisition numbers ("Req #12345", "JR104233").
    Requisition,
    /// The cascade's step 0 reading a title field that names no role ("Multiple roles", "San
    /// Francisco, CA", a hiring sentence without a role) as such, instead of matching it.
    NonTitles,
    /// The cascade's step 0 taking the roles a title field lists or a hiring sentence names
    /// ("Backend Engineer, Frontend Engineer", "Acme is hiring data engineers"), the first as
    /// the title and all in `roles`, instead of matching the whole field.
    SeveralRoles,
    /// The cascade's step 0 abstaining (`unsupported_script`) on a title field written mostly in
    /// a script an English-only encoder cannot read ("软件工程师", "Инженер-программист"), unless
    /// the posting's text names the role, and not embedding such a description
    /// ([`crate::script`]).
    OtherScripts,
    /// The cascade's title step not answering a title whose head word is "engineer",
    /// "developer" or "programmer" with a title no training title writes with it ("CT Senior
    /// Network Engineer" is no Radiologic Technologist), and then taking the exact title it
    /// ends with ([`crate::head_word`]).
    HeadWords,
}

impl CleaningRule {
    /// Every rule: those [`clean_title`] applies, in its order, then the cascade's step 0, then
    /// the title step's head-word check.
    pub const ALL: [CleaningRule; 13] = [
        CleaningRule::Html,
        CleaningRule::WebAddresses,
        CleaningRule::Brackets,
        CleaningRule::Separators,
        CleaningRule::Seniority,
        CleaningRule::WorkArrangement,
        CleaningRule::Gender,
        CleaningRule::Salary,
        CleaningRule::Requisition,
        CleaningRule::NonTitles,
        CleaningRule::SeveralRoles,
        CleaningRule::OtherScripts,
        CleaningRule::HeadWords,
    ];

    /// The rule's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CleaningRule::Html => "html",
            CleaningRule::WebAddresses => "web-addresses",
            CleaningRule::Brackets => "brackets",
            CleaningRule::Separators => "separators",
            CleaningRule::Seniority => "seniority",
            CleaningRule::WorkArrangement => "work-arrangement",
            CleaningRule::Gender => "gender",
            CleaningRule::Salary => "salary",
            CleaningRule::Requisition => "requisition",
            CleaningRule::NonTitles => "non-titles",
            CleaningRule::SeveralRoles => "several-roles",
            CleaningRule::OtherScripts => "other-scripts",
            CleaningRule::HeadWords => "head-words",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl std::str::FromStr for CleaningRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CleaningRule::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = CleaningRule::ALL.iter().map(|r| r.name()).collect();
                format!("no cleaning rule {s:?}; the rules are {}", names.join(", "))
            })
    }
}

/// The rules [`clean_title_with`] applies: all of them unless some are skipped (the default,
/// and what every stored classifier and every output of the product uses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CleaningRules {
    /// Bits of the skipped rules (`1 << rule`); 0 applies all.
    skipped: u16,
}

impl CleaningRules {
    /// Every rule but `skip`.
    pub fn skipping(skip: &[CleaningRule]) -> Self {
        CleaningRules {
            skipped: skip.iter().fold(0, |b, r| b | r.bit()),
        }
    }

    /// Whether `rule` is applied.
    pub fn applies(self, rule: CleaningRule) -> bool {
        self.skipped & rule.bit() == 0
    }

    /// Whether every rule is applied (the product's cleaning).
    pub fn all(self) -> bool {
        self.skipped == 0
    }
}

/// Words dropped only as the first word of a longer title ("Lead Data Engineer", "Staff
/// Accountant"), kept elsewhere ("Team Lead").
const DROP_LEADING: &[&str] = &["lead", "staff", "principal", "distinguished", "head"];

/// Location, remote and employment-type words: a trailing segment (after " - ", "|", ",", "@",
/// " at ", " in ") made only of these and short tokens is a location tail and is dropped.
const LOCATION_WORDS: &[&str] = &[
    "remote",
    "hybrid",
    "onsite",
    "usa",
    "us",
    "uk",
    "eu",
    "emea",
    "apac",
    "latam",
    "amer",
    "global",
    "worldwide",
    "anywhere",
    "nyc",
    "sf",
    "la",
    "dc",
    "bay",
    "area",
    "new",
    "york",
    "san",
    "francisco",
    "london",
    "berlin",
    "paris",
    "toronto",
    "vancouver",
    "seattle",
    "austin",
    "boston",
    "chicago",
    "denver",
    "atlanta",
    "dallas",
    "houston",
    "miami",
    "portland",
    "jose",
    "diego",
    "los",
    "angeles",
    "washington",
    "amsterdam",
    "dublin",
    "munich",
    "singapore",
    "sydney",
    "melbourne",
    "bangalore",
    "bengaluru",
    "india",
    "canada",
    "germany",
    "france",
    "spain",
    "kuala",
    "lumpur",
    "kl",
    "malaysia",
    "penang",
    "johor",
    "selangor",
    "europe",
    "america",
    "united",
    "states",
    "kingdom",
    "north",
    "south",
    "east",
    "west",
    "city",
    "office",
    "based",
    "only",
    "timezone",
    "time",
    "zone",
    "est",
    "pst",
    "cet",
    "utc",
    "gmt",
    "ca",
    "ny",
    "tx",
    "wa",
    "ma",
    "il",
    "co",
    "or",
    "ga",
    "fl",
    "nj",
    "pa",
    "va",
    "nc",
    "md",
    "full",
    "part",
    "contract",
    "temporary",
    "permanent",
    "fulltime",
    "parttime",
    "and",
    "or",
    "home",
    "work",
    "from",
    "100",
    "fully",
    "relocation",
    "visa",
    "sponsorship",
    "us-only",
    "shift",
    "night",
    "day",
    "weekend",
    "weekends",
    "flexible",
    "immediate",
    "start",
];

/// Salary tokens after normalization: "150k", "1m" ("$150k" loses its "$").
pub(crate) fn is_money_token(t: &str) -> bool {
    let digits = t.trim_end_matches('k').trim_end_matches('m');
    !digits.is_empty() && digits.len() < t.len() && digits.chars().all(|c| c.is_ascii_digit())
}

/// Requisition and job numbers: "r12345", "jr104233", "req12345" (letters then ≥ 4 digits).
fn is_requisition_token(t: &str) -> bool {
    let letters = t.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    let digits = t.len() - letters;
    (1..=3).contains(&letters) && digits >= 4 && t[letters..].chars().all(|c| c.is_ascii_digit())
}

/// Tokens that mark a level: roman numerals, "l4", "e5", "p3", "t2", bare digits.
fn is_level_token(tok: &str) -> bool {
    if tok.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    if matches!(tok, "ii" | "iii" | "iv" | "vi" | "vii" | "viii" | "ix") {
        return true;
    }
    let mut chars = tok.chars();
    let (first, rest) = (chars.next(), chars.as_str());
    matches!(first, Some('l' | 'e' | 'p' | 't' | 'g'))
        && !rest.is_empty()
        && rest.len() <= 2
        && rest.chars().all(|d| d.is_ascii_digit())
}

/// Remove bracketed parts: "(Remote, NYC)", "\[Contract\]", "{x}".
pub(crate) fn strip_brackets(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut depth = 0usize;
    for ch in raw.chars() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

/// The text inside each pair of round or square brackets of `raw`, outermost pairs only, in
/// order ("Founding Engineer (Platform/API) \[Remote\]" → "Platform/API", "Remote").
pub(crate) fn bracket_groups(raw: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, ch) in raw.char_indices() {
        match ch {
            '(' | '[' => {
                if depth == 0 {
                    start = i + ch.len_utf8();
                }
                depth += 1;
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(&raw[start..i]);
                }
            }
            _ => {}
        }
    }
    out
}

/// Split on tail separators; keep the first segment and any later segment that is not a pure
/// location / remote / employment tail. The segment right after an `@` names the company or the
/// place ("Founding Engineer @ Conductor", "Senior QA @ busuu") and is never kept.
fn strip_tails(text: &str) -> String {
    // each segment with whether an `@` introduced it
    let mut segments: Vec<(String, bool)> = Vec::new();
    let mut after_at = false;
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let is_dash_sep = matches!(c, '-' | '–' | '—')
            && i > 0
            && chars[i - 1].is_whitespace()
            && chars.get(i + 1).is_some_and(|n| n.is_whitespace());
        if matches!(c, '|' | ',' | '@' | '•' | '·' | ';' | ':')
            || is_dash_sep
            || matches!(c, '–' | '—')
        {
            segments.push((std::mem::take(&mut cur), after_at));
            after_at = c == '@';
        } else {
            cur.push(c);
        }
        i += 1;
    }
    segments.push((cur, after_at));
    // " at Company" / " in City" tails of the first segment
    let mut kept: Vec<String> = Vec::new();
    for (idx, (seg, company)) in segments.into_iter().enumerate() {
        let norm = normalize_title(&seg);
        if norm.is_empty() || company {
            continue;
        }
        if idx == 0 {
            let toks: Vec<&str> = norm.split(' ').collect();
            let cut = toks
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, t)| matches!(**t, "at" | "in" | "for"))
                .map(|(i, _)| i);
            let first = match cut {
                Some(c) if is_location_tail(&toks[c + 1..]) || toks[c] == "at" => {
                    toks[..c].join(" ")
                }
                _ => norm.clone(),
            };
            kept.push(first);
        } else if !is_location_tail(&norm.split(' ').collect::<Vec<_>>()) {
            kept.push(norm);
        }
    }
    kept.join(" ")
}

fn is_location_tail(toks: &[&str]) -> bool {
    !toks.is_empty()
        && toks.iter().all(|t| {
            LOCATION_WORDS.contains(t)
                || t.len() <= 2
                || t.chars().all(|c| c.is_ascii_digit())
                || is_money_token(t)
                || matches!(*t, "equity" | "salary" | "bonus" | "options" | "benefits")
        })
}

/// The occupation words of a raw title, normalized with [`normalize_title`] rules.
///
/// Never returns an empty string for a non-empty title: when cleaning removes everything
/// ("Senior", "Intern"), the plainly normalized title is returned instead.
/// Cleaned titles that name no occupation ("Consultant", "Senior Associate", "Manager II" all
/// clean to one of these): the cascade treats them as ambiguous, so a taxonomy alias that
/// happens to be one of these words ("consultant" → Management Consultant) does not decide a
/// posting that has a description, and the description step always runs for them.
const GENERIC_TITLES: &[&str] = &[
    "associate",
    "consultant",
    "analyst",
    "specialist",
    "coordinator",
    "professional",
    "team member",
    "member",
    "employee",
    "staff",
    "staff member",
    "worker",
    "generalist",
    "manager",
    "team lead",
    "lead",
    "supervisor",
    "director",
    "head of department",
    "of department",
    "department",
    "vice president",
    "vp",
    "svp",
    "evp",
    "avp",
    "executive",
    "officer",
    "executive officer",
    "partner",
];

/// Whether a cleaned title ([`clean_title`]) names no occupation (see [`GENERIC_TITLES`]).
pub(crate) fn is_generic_title(cleaned: &str) -> bool {
    let c = cleaned.trim();
    c.is_empty() || GENERIC_TITLES.contains(&c)
}

/// Top-level domains that mark a bare word as a web address ("pepr.ai", "kinelo.com"); ".js"
/// and the like are not among them, so "Node.js Developer" keeps its words.
const WEB_DOMAINS: &[&str] = &[
    "com", "io", "ai", "co", "org", "dev", "app", "tech", "xyz", "so", "sh", "health",
];

/// `raw` without its web addresses, when it has any: words with a scheme ("https://…"),
/// starting "www.", or a bare domain ending in one of [`WEB_DOMAINS`] (with or without a path).
pub(crate) fn without_web_addresses(raw: &str) -> Option<String> {
    let is_address = |w: &str| {
        let w = w.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ',' | '<' | '>'));
        if w.contains("://") || w.to_ascii_lowercase().starts_with("www.") {
            return true;
        }
        let host = w.split('/').next().unwrap_or("");
        let mut labels = host.rsplit('.');
        let tld = labels.next().unwrap_or("").to_ascii_lowercase();
        labels.next().is_some_and(|l| !l.is_empty()) && WEB_DOMAINS.contains(&tld.as_str())
    };
    let words: Vec<&str> = raw.split_whitespace().collect();
    let kept: Vec<&str> = words.iter().copied().filter(|w| !is_address(w)).collect();
    (kept.len() < words.len()).then(|| kept.join(" "))
}

/// A word with a trailing "+" read without it when it is a word ("senior+" → "senior"), so the
/// level is dropped like the plain level; "c++" and "$300k+" stay as they are.
fn level_and_above(tok: &str) -> &str {
    match tok.strip_suffix('+') {
        Some(stem) if !stem.is_empty() && stem.chars().all(char::is_alphabetic) => stem,
        _ => tok,
    }
}

/// The first `n` characters of `s` (cut on a character boundary).
pub(crate) fn cap_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

pub fn clean_title(raw: &str) -> String {
    clean_title_with(raw, CleaningRules::default())
}

/// [`clean_title`] with only the rules `rules` applies (for measuring each rule).
pub fn clean_title_with(raw: &str, rules: CleaningRules) -> String {
    use std::borrow::Cow;
    use CleaningRule as R;
    let raw = cap_chars(raw, MAX_TITLE_CHARS);
    let no_html = if rules.applies(R::Html) {
        strip_html(raw)
    } else {
        Cow::Borrowed(raw)
    };
    let no_addresses = without_web_addresses(&no_html).filter(|_| rules.applies(R::WebAddresses));
    let raw = no_addresses
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or(no_html.as_ref());
    let no_brackets = if rules.applies(R::Brackets) {
        strip_brackets(raw)
    } else {
        raw.to_string()
    };
    let tailless = if rules.applies(R::Separators) {
        strip_tails(&no_brackets)
    } else {
        normalize_title(&no_brackets)
    };
    let toks: Vec<&str> = tailless.split(' ').filter(|t| !t.is_empty()).collect();
    let mut keep = vec![true; toks.len()];
    for (phrase, rule) in DROP_PHRASES {
        if phrase.len() > toks.len() || !rules.applies(*rule) {
            continue;
        }
        for start in 0..=toks.len() - phrase.len() {
            if toks[start..start + phrase.len()] == **phrase {
                for k in &mut keep[start..start + phrase.len()] {
                    *k = false;
                }
            }
        }
    }
    let seniority = rules.applies(R::Seniority);
    for (i, t) in toks.iter().enumerate() {
        // "Senior+ Engineer", "Staff+ Engineer": the level and above
        let t = &level_and_above(t);
        if (seniority && (SENIORITY_WORDS.contains(t) || is_level_token(t)))
            || (rules.applies(R::WorkArrangement) && ARRANGEMENT_WORDS.contains(t))
            || (rules.applies(R::Salary) && (MONEY_WORDS.contains(t) || is_money_token(t)))
            || (rules.applies(R::Requisition)
                && (REQUISITION_WORDS.contains(t) || is_requisition_token(t)))
        {
            keep[i] = false;
        }
    }
    // A trailing single "i" is a level ("Engineer I"); "v" likewise.
    if let Some(last) = toks.len().checked_sub(1) {
        if seniority && toks.len() > 1 && matches!(toks[last], "i" | "v" | "x") {
            keep[last] = false;
        }
    }
    let mut out: Vec<&str> = toks
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(t, _)| *t)
        .collect();
    while seniority
        && out.len() > 1
        && DROP_LEADING.contains(&level_and_above(out[0]))
        && out[1] != "of"
    {
        out.remove(0);
    }
    // "head of marketing" keeps its meaning; a dangling leading "of"/"and" does not.
    while out.len() > 1 && matches!(out[0], "of" | "and" | "the") {
        out.remove(0);
    }
    while out.len() > 1 && matches!(out[out.len() - 1], "of" | "and" | "the" | "for" | "to") {
        out.pop();
    }
    if out.is_empty() {
        return normalize_title(raw);
    }
    out.join(" ")
}

/// Seniority signals found in the words of a raw title, highest first is not implied: each
/// element is a signal present in the title.
pub(crate) fn title_signals(raw: &str) -> Vec<Seniority> {
    let norm = normalize_title(raw);
    let toks: Vec<&str> = norm.split(' ').filter(|t| !t.is_empty()).collect();
    let has = |w: &str| toks.contains(&w);
    let has_seq = |a: &str, b: &str| toks.windows(2).any(|p| p[0] == a && p[1] == b);
    let mut s = Vec::new();
    let c_words = [
        "chief",
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cio",
        "cmo",
        "ciso",
        "cpo",
        "cro",
        "cco",
        "cdo",
        "founder",
        "cofounder",
    ];
    let vice = has_seq("vice", "president");
    if c_words.iter().any(|w| has(w)) || (has("president") && !vice) {
        s.push(Seniority::CSuite);
    }
    if vice || ["vp", "svp", "evp", "avp"].iter().any(|w| has(w)) {
        s.push(Seniority::Vp);
    }
    if has("director")
        || has("dir")
        || has_seq("head", "of")
        || (toks.first() == Some(&"head") && toks.len() > 1)
    {
        s.push(Seniority::Director);
    }
    if has("manager") || has("mgr") || has("supervisor") || has("management") && has("team") {
        s.push(Seniority::Manager);
    }
    if ["lead", "staff", "principal", "distinguished", "architect"]
        .iter()
        .any(|w| has(w))
        || toks.last() == Some(&"iv")
    {
        s.push(Seniority::Lead);
    }
    if ["senior", "sr", "snr", "experienced", "iii"]
        .iter()
        .any(|w| has(w))
    {
        s.push(Seniority::Senior);
    }
    if [
        "junior",
        "jr",
        "entry",
        "graduate",
        "apprentice",
        "trainee",
        "associate",
    ]
    .iter()
    .any(|w| has(w))
        || has_seq("new", "grad")
        || (toks.len() > 1 && matches!(toks.last(), Some(&"i") | Some(&"1")))
    {
        s.push(Seniority::Entry);
    }
    if ["intern", "internship", "coop", "werkstudent", "praktikant"]
        .iter()
        .any(|w| has(w))
        || has_seq("co", "op")
        || has_seq("summer", "student")
    {
        s.push(Seniority::Intern);
    }
    if toks.last() == Some(&"ii") || has_seq("mid", "level") || has("medior") {
        s.push(Seniority::Mid);
    }
    s
}

fn rank(s: Seniority) -> u8 {
    match s {
        Seniority::Intern => 0,
        Seniority::Entry => 1,
        Seniority::Mid => 2,
        Seniority::Senior => 3,
        Seniority::Lead => 4,
        Seniority::Manager => 5,
        Seniority::Director => 6,
        Seniority::Vp => 7,
        Seniority::CSuite => 8,
    }
}

fn level_seniority(level: Level) -> Seniority {
    match level {
        Level::IndividualContributor => Seniority::Mid,
        Level::Manager => Seniority::Manager,
        Level::Director => Seniority::Director,
        Level::Vp => Seniority::Vp,
        Level::CSuite => Seniority::CSuite,
    }
}

/// Seniority of a posting from its raw title words and the level of the predicted title.
///
/// - A management title (manager and up) is at least its own level; higher words win
///   ("Senior Director" of a director title stays director; "VP, Engineering Manager" → vp).
/// - An individual-contributor title ignores the word "manager"/"supervisor" (Account Manager,
///   Product Manager are IC roles) and takes the strongest IC word, else `mid`. Intern beats
///   everything for an IC title ("Marketing Intern"), entry beats senior only when senior is absent.
/// - Without a predicted title (abstention), the strongest word, else `mid`.
pub fn resolve_seniority(raw_title: &str, predicted_level: Option<Level>) -> Seniority {
    let signals = title_signals(raw_title);
    let strongest = |allowed: &dyn Fn(Seniority) -> bool| {
        signals
            .iter()
            .copied()
            .filter(|s| allowed(*s))
            .max_by_key(|s| rank(*s))
    };
    match predicted_level {
        Some(Level::IndividualContributor) => {
            if signals.contains(&Seniority::Intern) {
                return Seniority::Intern;
            }
            strongest(&|s| rank(s) <= rank(Seniority::Lead)).unwrap_or(Seniority::Mid)
        }
        Some(level) => {
            let own = level_seniority(level);
            match strongest(&|s| rank(s) >= rank(Seniority::Manager)) {
                Some(s) if rank(s) > rank(own) => s,
                _ => own,
            }
        }
        None => {
            if signals.contains(&Seniority::Intern) {
                return Seniority::Intern;
            }
            strongest(&|_| true).unwrap_or(Seniority::Mid)
        }
    }
}

/// Remove HTML tags and character entities (a title field copied with its markup).
pub(crate) fn strip_html(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains('<') && !raw.contains('&') {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '<' {
            // a tag: up to the next '>' when it starts like one
            let rest = &raw[i + 1..];
            let tagish = rest
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_alphabetic() || n == '/' || n == '!');
            if let (true, Some(end)) = (tagish, rest.find('>')) {
                out.push(' ');
                let stop = i + 1 + end;
                while chars.peek().is_some_and(|(j, _)| *j <= stop) {
                    chars.next();
                }
                continue;
            }
        } else if c == '&' {
            let rest = &raw[i + 1..];
            if let Some(end) = rest.find(';').filter(|&e| {
                e > 0
                    && e <= 8
                    && rest[..e]
                        .chars()
                        .all(|x| x.is_ascii_alphanumeric() || x == '#')
            }) {
                let entity = &rest[..end];
                out.push_str(match entity {
                    "amp" => "&",
                    "lt" | "gt" | "quot" | "apos" | "nbsp" => " ",
                    _ => " ",
                });
                let stop = i + 1 + end;
                while chars.peek().is_some_and(|(j, _)| *j <= stop) {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_level_and_above_is_a_level() {
        assert_eq!(clean_title("Senior+ Engineer"), "engineer");
        assert_eq!(clean_title("Staff+ Software Engineer"), "software engineer");
        assert_eq!(clean_title("C++ Developer"), "c++ developer");
        assert_eq!(clean_title("Medior Data Engineer"), "data engineer");
    }

    #[test]
    fn generic_titles_are_recognized_after_cleaning() {
        for raw in [
            "Consultant",
            "Senior Associate",
            "Manager II",
            "Lead Analyst",
            "Team Member",
            "VP",
            "Executive Officer",
        ] {
            assert!(
                is_generic_title(&clean_title(raw)),
                "{raw} -> {:?}",
                clean_title(raw)
            );
        }
        for raw in [
            "Management Consultant",
            "Data Analyst",
            "Engineering Manager",
            "Registered Nurse",
            "VP of Engineering",
        ] {
            assert!(
                !is_generic_title(&clean_title(raw)),
                "{raw} -> {:?}",
                clean_title(raw)
            );
        }
    }

    use super::*;

    #[test]
    fn each_cleaning_rule_can_be_skipped_alone() {
        let cases = [
            (CleaningRule::Html, "<b>Data Engineer</b>"),
            (
                CleaningRule::WebAddresses,
                "Data Engineer https://acme.com/jobs",
            ),
            (CleaningRule::Brackets, "Data Engineer (Acme)"),
            (CleaningRule::Separators, "Data Engineer at Acme"),
            (CleaningRule::Seniority, "Senior Data Engineer II"),
            (
                CleaningRule::WorkArrangement,
                "Data Engineer Remote Contract",
            ),
            (CleaningRule::Gender, "Data Engineer m/w/d"),
            (CleaningRule::Salary, "Data Engineer $150k"),
            (CleaningRule::Requisition, "Data Engineer JR104233"),
        ];
        // rules of the cascade, not of the cleaned words (measured in tests/bad_input.rs)
        let step_0 = [
            CleaningRule::NonTitles,
            CleaningRule::SeveralRoles,
            CleaningRule::OtherScripts,
            CleaningRule::HeadWords,
        ];
        assert_eq!(cases.len() + step_0.len(), CleaningRule::ALL.len());
        for (rule, raw) in cases {
            // the cascade's step 0 reads the field; the cleaned words are the same
            assert_eq!(
                clean_title_with(raw, CleaningRules::skipping(&step_0)),
                "data engineer"
            );
            assert_eq!(clean_title(raw), "data engineer", "{raw:?}");
            let without = clean_title_with(raw, CleaningRules::skipping(&[rule]));
            assert_ne!(
                without,
                "data engineer",
                "skipping {} on {raw:?}",
                rule.name()
            );
            // the other rules still apply
            for other in CleaningRule::ALL.into_iter().filter(|r| *r != rule) {
                let skip = CleaningRules::skipping(&[other]);
                assert_eq!(clean_title_with(raw, skip), "data engineer", "{raw:?}");
            }
        }
        assert!(CleaningRules::default().all());
        assert!(!CleaningRules::skipping(&[CleaningRule::Gender]).all());
        for rule in CleaningRule::ALL {
            assert_eq!(rule.name().parse::<CleaningRule>(), Ok(rule));
        }
        assert!("emoji".parse::<CleaningRule>().is_err());
    }

    #[test]
    fn bracket_groups_are_the_outermost_pairs_in_order() {
        assert_eq!(
            bracket_groups("Founding Engineer (Platform/API) [Remote]"),
            vec!["Platform/API", "Remote"]
        );
        assert_eq!(bracket_groups("A (b (c) d) e"), vec!["b (c) d"]);
        assert!(bracket_groups("No brackets) here (unclosed").is_empty());
        assert_eq!(bracket_groups("Ingénieur (Données)"), vec!["Données"]);
    }

    #[test]
    fn cleans_the_study_example() {
        assert_eq!(
            clean_title("Sr. Software Engineer II (Remote, NYC)"),
            "software engineer"
        );
    }

    #[test]
    fn cleans_common_decorations() {
        let cases = [
            ("Senior Data Engineer - Remote", "data engineer"),
            ("Lead Data Scientist | London", "data scientist"),
            ("Staff Accountant", "accountant"),
            ("Team Lead", "team lead"),
            (
                "Registered Nurse, Full-Time, Night Shift",
                "registered nurse",
            ),
            ("Software Engineer, Backend", "software engineer backend"),
            ("Director, Data Engineering", "director data engineering"),
            ("Head of Marketing", "head of marketing"),
            ("VP of Engineering", "vp of engineering"),
            ("Machine Learning Engineer L5", "machine learning engineer"),
            ("Krankenpfleger (m/w/d)", "krankenpfleger"),
            ("Marketing Intern", "marketing"),
            ("Senior", "senior"),
            ("Frontend Engineer at Acme", "frontend engineer"),
            ("Account Executive - San Francisco, CA", "account executive"),
            ("C++ Developer", "c++ developer"),
            ("Medical Assistant I", "medical assistant"),
            // issue 17: salaries, requisition numbers, HTML, emojis, "founding"
            (
                "Backend Engineer | $150k-$200k + equity",
                "backend engineer",
            ),
            ("Data Engineer (Req #R12345)", "data engineer"),
            ("Data Engineer - JR104233", "data engineer"),
            ("<b>Product&nbsp;Designer</b>", "product designer"),
            ("🚀 Founding Product Designer 🚀", "product designer"),
            (
                "Softwareentwickler (m/w/d) – 60.000 EUR",
                "softwareentwickler",
            ),
            ("Equity Analyst", "equity analyst"),
            // the segment after "@" is the company or the place, never the role
            (
                "Founding Engineer @ Conductor (San Francisco, ONSITE)",
                "engineer",
            ),
            ("Ruby Engineer @ clypd - Boston, MA", "ruby engineer"),
            (
                "Full-Stack Engineering https://www.uncountable.com/hiring/hn",
                "full stack engineering",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_title(raw), want, "cleaning {raw:?}");
        }
    }

    #[test]
    fn seniority_from_words_and_level() {
        use Level::*;
        let ic = Some(IndividualContributor);
        assert_eq!(
            resolve_seniority("Sr. Software Engineer", ic),
            Seniority::Senior
        );
        assert_eq!(resolve_seniority("Software Engineer", ic), Seniority::Mid);
        assert_eq!(
            resolve_seniority("Junior Data Analyst", ic),
            Seniority::Entry
        );
        assert_eq!(resolve_seniority("Staff Engineer", ic), Seniority::Lead);
        assert_eq!(resolve_seniority("Marketing Intern", ic), Seniority::Intern);
        assert_eq!(
            resolve_seniority("Senior Account Manager", ic),
            Seniority::Senior
        );
        assert_eq!(resolve_seniority("Account Manager", ic), Seniority::Mid);
        assert_eq!(
            resolve_seniority("Medior Data Engineer", ic),
            Seniority::Mid
        );
        assert_eq!(
            resolve_seniority("Medior/Senior NLP Data Scientist", ic),
            Seniority::Senior
        );
        assert_eq!(
            resolve_seniority("Engineering Manager", Some(Manager)),
            Seniority::Manager
        );
        assert_eq!(
            resolve_seniority("Senior Director, Sales", Some(Director)),
            Seniority::Director
        );
        assert_eq!(
            resolve_seniority("Vice President of Engineering", Some(Vp)),
            Seniority::Vp
        );
        assert_eq!(
            resolve_seniority("Chief Compliance Officer", Some(CSuite)),
            Seniority::CSuite
        );
        assert_eq!(
            resolve_seniority("Head of Data", Some(Manager)),
            Seniority::Director
        );
        assert_eq!(
            resolve_seniority("Sales Director", None),
            Seniority::Director
        );
        assert_eq!(resolve_seniority("Barista", None), Seniority::Mid);
        assert_eq!(
            resolve_seniority("Software Engineer I", ic),
            Seniority::Entry
        );
        assert_eq!(
            resolve_seniority("Software Engineer III", ic),
            Seniority::Senior
        );
    }
}

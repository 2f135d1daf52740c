//! Titles that are not titles, and the roles a posting names.
//!
//! Real title fields often hold no role: a location ("San Francisco, CA"), an employment type
//! ("Full Time", "REMOTE"), a company name, or a placeholder ("Multiple roles", "Join our team").
//! [`not_a_title`] recognizes them, so the cascade abstains with the reason `not_a_title` instead
//! of matching "San Francisco" against occupations — or, when the posting has a description,
//! reads the role from the text.
//!
//! [`RoleFinder`] finds the taxonomy titles a text names by exact alias match on word windows
//! (plural heads read as singular: "Android Engineers"), in three tiers of trust:
//! 1. the header line (the first line: "Acme | Senior Python Developer | London"), company part
//!    skipped;
//! 2. short role lines ("-- Senior Python Developer --", "* Full Stack Engineers: http://…");
//! 3. hiring sentences ("we are looking for a backend engineer", "hiring: data engineers").
//!
//! Mentions elsewhere in the text ("you will work with product managers") are never used.
//! A title field that names several roles ("Android Engineers, iOS Engineers") is split by
//! [`RoleFinder::roles_in_title`].

use crate::seniority::{
    cap_chars, clean_title, is_generic_title, strip_html, without_web_addresses,
};
use jobshift_core::normalize::normalize_title;
use jobshift_taxonomy::Taxonomy;
use std::collections::{HashMap, HashSet};

/// Longest alias, in words, that the finder looks for.
const MAX_WINDOW: usize = 6;

/// Aliases that name no role on their own in running text (they are fine as a whole title
/// field, where the alias step reads them): a mention of "lead" or "founder" in a posting is
/// not the job.
const WEAK_IN_TEXT: &[&str] = &[
    "engineer",
    "lead",
    "founder",
    "cofounder",
    "co founder",
    "partner",
    "owner",
    "principal",
    "staff",
    "intern",
    "volunteer",
    "contractor",
    "freelancer",
    "hacker",
    "hackers",
    "people",
    "teacher",
    "tutor",
    "mentor",
    "coach",
    "trainer",
    "writer",
    "editor",
    "assistant",
    "advisor",
    "ambassador",
    "operator",
    "driver",
    "cook",
    "programmer",
    "scientist",
    "architect",
    "designer",
    "researcher",
    "administrator",
    "technician",
    // words whose sense in a software posting is not a job: "server-side code", "Puppet &
    // Chef", "concurrency models", "we host", "a controller", "class loader"
    "server",
    "chef",
    "model",
    "host",
    "controller",
    "loader",
    "checker",
    "collector",
    // tools, terms of the trade and customers that are also aliases: "Experience with
    // ZooKeeper, etcd", "TCP/IP, HTTP, DNS", "audio DSP", "9am-5pm CST", "a killer coder",
    // "Linux admin work", "Framer Motion", "venture capitalists and entrepreneurs", "high
    // performers", "data miners", "helping farmers, shoppers and musicians", "Secure Boot /
    // OTA", "a parser, an interpreter", "QA the reviewers"
    "zookeeper",
    "dns",
    "dsp",
    "cst",
    "ota",
    "interpreter",
    "reviewer",
    "coder",
    "admin",
    "framer",
    "packager",
    "entrepreneur",
    "performer",
    "miner",
    "farmer",
    "shopper",
    "musician",
];

/// Words after which a sentence names the roles it hires for.
const HIRING_CUES: &[&[&str]] = &[
    &["looking", "for"],
    &["hiring"],
    &["seeking"],
    &["searching", "for"],
    &["we", "need"],
    &["need", "a"],
    &["join", "us", "as"],
    &["roles"],
    &["positions"],
    &["openings"],
    &["position"],
    &["role"],
    &["opening"],
    &["hire"],
    &["hire", "a"],
];

/// Placeholders written where a title belongs.
const NON_TITLE_STARTS: &[&str] = &[
    "multiple",
    "various",
    "several",
    "many",
    "numerous",
    "all roles",
    "all positions",
    "any role",
    "open roles",
    "open positions",
    "open role",
    "join our",
    "join us",
    "join the team",
    "join a",
    "we are hiring",
    "we re hiring",
    "were hiring",
    "now hiring",
    "hiring",
    "we are looking",
    "we re looking",
    "looking for",
    "see below",
    "see our",
    "check out",
    "apply",
    "careers",
    "jobs at",
];

/// Whole normalized fields that name no role.
const NON_TITLE_WHOLE: &[&str] = &[
    "jobs",
    "job",
    "careers",
    "career",
    "positions",
    "position",
    "roles",
    "role",
    "openings",
    "opportunities",
    "various",
    "tbd",
    "n a",
    "na",
    "none",
    "null",
    "other",
    "others",
    "everyone",
    "anyone",
    "all",
    "people",
    "talent",
    "engineers",
    "developers",
    "engineering",
    "everything",
];

/// Place names and work-arrangement words beyond [`crate::seniority`]'s location list; a field
/// made only of these, two-letter codes and numbers is a location or an employment type.
const PLACE_WORDS: &[&str] = &[
    "remote",
    "remotely",
    "hybrid",
    "onsite",
    "on",
    "site",
    "in",
    "office",
    "offices",
    "person",
    "full",
    "time",
    "fulltime",
    "part",
    "parttime",
    "contract",
    "contractor",
    "freelance",
    "permanent",
    "temporary",
    "internship",
    "interns",
    "intern",
    "visa",
    "sponsorship",
    "h1b",
    "relocation",
    "equity",
    "salary",
    "usd",
    "eur",
    "gbp",
    "k",
    "only",
    "friendly",
    "ok",
    "possible",
    "optional",
    "preferred",
    "and",
    "or",
    "the",
    "of",
    "de",
    "area",
    "bay",
    "greater",
    "metro",
    "downtown",
    "county",
    "city",
    "state",
    "states",
    "united",
    "kingdom",
    "north",
    "south",
    "east",
    "west",
    "central",
    "new",
    "york",
    "san",
    "francisco",
    "mateo",
    "jose",
    "diego",
    "los",
    "angeles",
    "santa",
    "monica",
    "clara",
    "barbara",
    "cruz",
    "palo",
    "alto",
    "mountain",
    "view",
    "menlo",
    "park",
    "redwood",
    "sunnyvale",
    "cupertino",
    "oakland",
    "berkeley",
    "emeryville",
    "seattle",
    "bellevue",
    "redmond",
    "portland",
    "boston",
    "cambridge",
    "somerville",
    "chicago",
    "austin",
    "dallas",
    "houston",
    "denver",
    "boulder",
    "atlanta",
    "miami",
    "washington",
    "dc",
    "philadelphia",
    "pittsburgh",
    "baltimore",
    "raleigh",
    "durham",
    "nashville",
    "salt",
    "lake",
    "phoenix",
    "minneapolis",
    "detroit",
    "ann",
    "arbor",
    "columbus",
    "cincinnati",
    "cleveland",
    "st",
    "louis",
    "kansas",
    "orlando",
    "tampa",
    "brooklyn",
    "manhattan",
    "nyc",
    "sf",
    "la",
    "sv",
    "silicon",
    "valley",
    "usa",
    "us",
    "america",
    "canada",
    "toronto",
    "vancouver",
    "montreal",
    "ottawa",
    "waterloo",
    "calgary",
    "london",
    "uk",
    "england",
    "scotland",
    "edinburgh",
    "manchester",
    "bristol",
    "oxford",
    "ireland",
    "dublin",
    "berlin",
    "munich",
    "hamburg",
    "frankfurt",
    "cologne",
    "germany",
    "paris",
    "france",
    "amsterdam",
    "rotterdam",
    "netherlands",
    "nl",
    "brussels",
    "belgium",
    "zurich",
    "geneva",
    "switzerland",
    "vienna",
    "austria",
    "stockholm",
    "sweden",
    "oslo",
    "norway",
    "copenhagen",
    "denmark",
    "helsinki",
    "finland",
    "madrid",
    "barcelona",
    "spain",
    "lisbon",
    "porto",
    "portugal",
    "milan",
    "rome",
    "italy",
    "warsaw",
    "krakow",
    "poland",
    "prague",
    "czech",
    "budapest",
    "hungary",
    "bucharest",
    "romania",
    "athens",
    "greece",
    "tallinn",
    "estonia",
    "riga",
    "vilnius",
    "kyiv",
    "ukraine",
    "israel",
    "tel",
    "aviv",
    "dubai",
    "uae",
    "india",
    "bangalore",
    "bengaluru",
    "hyderabad",
    "pune",
    "mumbai",
    "delhi",
    "chennai",
    "singapore",
    "tokyo",
    "japan",
    "seoul",
    "korea",
    "beijing",
    "shanghai",
    "china",
    "hong",
    "kong",
    "taipei",
    "taiwan",
    "sydney",
    "melbourne",
    "brisbane",
    "australia",
    "auckland",
    "zealand",
    "mexico",
    "brazil",
    "sao",
    "paulo",
    "buenos",
    "aires",
    "argentina",
    "chile",
    "colombia",
    "bogota",
    "medellin",
    "lagos",
    "nigeria",
    "nairobi",
    "kenya",
    "cape",
    "town",
    "africa",
    "europe",
    "eu",
    "emea",
    "apac",
    "latam",
    "asia",
    "americas",
    "global",
    "worldwide",
    "anywhere",
    "international",
    "timezone",
    "timezones",
    "time",
    "zone",
    "zones",
    "est",
    "pst",
    "cet",
    "utc",
    "gmt",
    "et",
    "pt",
    "ct",
    "based",
    "near",
    "within",
    "across",
    "multiple",
    "locations",
    "location",
];

/// Departments and functions: a title field that lists two or more of them and nothing else
/// ("Engineering & Sales", "Eng, GTM, and Operations", "Product, Design and Engineering") names
/// where the company hires, not a role.
const DEPARTMENT_WORDS: &[&str] = &[
    "engineering",
    "eng",
    "sales",
    "product",
    "design",
    "gtm",
    "growth",
    "operations",
    "ops",
    "marketing",
    "support",
    "finance",
    "data",
    "research",
    "business",
    "customer",
    "success",
    "people",
    "legal",
    "security",
    "infrastructure",
    "infra",
];

/// Words that may stand in a list of departments besides them ("go-to-market", "and more").
const LIST_WORDS: &[&str] = &[
    "and",
    "or",
    "roles",
    "role",
    "positions",
    "teams",
    "team",
    "go",
    "to",
    "market",
    "more",
    "others",
    "other",
];

/// Whether a title field lists two or more departments (or one "and more"), joined by `&`, `,`,
/// `/`, `+`, "and" or "or", and nothing else.
fn is_department_list(raw: &str, toks: &[&str]) -> bool {
    let departments: HashSet<&str> = toks
        .iter()
        .copied()
        .filter(|t| DEPARTMENT_WORDS.contains(t))
        .collect();
    let joined =
        raw.contains(['&', ',', '/', '+']) || toks.contains(&"and") || toks.contains(&"or");
    let and_more = toks
        .iter()
        .any(|t| matches!(*t, "more" | "others" | "other"));
    joined
        && (departments.len() >= 2 || (and_more && !departments.is_empty()))
        && toks
            .iter()
            .all(|t| DEPARTMENT_WORDS.contains(t) || LIST_WORDS.contains(t))
}

/// Words that make a long title field a sentence someone writes about their company ("I" is
/// not among them alone: "Engineer I", "I/O"; "I'm", "I am", "I've" are).
const FIRST_PERSON: &[&str] = &["we", "our", "us", "my", "hey", "hi", "hello"];

/// Verbs that make a long title field a sentence about something ("Booking.com is world leader
/// in travel accommodations", "Since 2009, Venmo has been connecting …"): a title has none.
const SENTENCE_VERBS: &[&str] = &[
    "is", "are", "was", "were", "has", "have", "had", "provides", "helps", "makes", "builds",
    "offers",
];

/// Whether the normalized title `toks` is a sentence in the first person or a greeting: eight
/// words or more, one of them [`FIRST_PERSON`] or "I" before "m", "am", "ve" or "ll".
fn is_first_person_sentence(toks: &[&str]) -> bool {
    toks.len() >= 8
        && (toks.iter().any(|t| FIRST_PERSON.contains(t))
            || toks
                .windows(2)
                .any(|w| w[0] == "i" && matches!(w[1], "m" | "am" | "ve" | "ll")))
}

/// Whether the title field `stripped` (HTML removed) is, outside its brackets, a sentence in
/// the third person: eight words or more, one of them a [`SENTENCE_VERBS`] ("Sales Executive
/// (Fresh Graduates are Welcome to Apply!)" is a title).
fn is_third_person_sentence(stripped: &str) -> bool {
    let norm = normalize_title(&crate::seniority::strip_brackets(stripped));
    let toks: Vec<&str> = norm.split(' ').collect();
    toks.len() >= 8 && toks.iter().any(|t| SENTENCE_VERBS.contains(t))
}

/// What a title field holds, read once by the cascade's step 0 ([`read_title_field`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TitleField {
    /// It names no role ([`not_a_title`]).
    NotATitle,
    /// A sentence about hiring that names these roles (title indices, in order;
    /// [`RoleFinder::roles_in_hiring_title`]).
    HiringRoles(Vec<usize>),
    /// Anything else: left to the alias, split and embedding steps.
    Other,
}

/// Whether a title field names no role (see the module doc). `has_description` widens the test
/// to fields with no occupation word at all (a company name, "Temporal Technologies"): with a
/// description there is somewhere better to read the role; a bare title keeps the benefit of
/// the doubt.
pub fn not_a_title(raw: &str, finder: &RoleFinder, has_description: bool) -> bool {
    read_title_field(raw, finder, has_description) == TitleField::NotATitle
}

/// [`not_a_title`], keeping the roles a sentence about hiring names so that the cascade does not
/// read the field twice.
pub(crate) fn read_title_field(
    raw: &str,
    finder: &RoleFinder,
    has_description: bool,
) -> TitleField {
    use TitleField::NotATitle;
    let stripped = strip_html(raw);
    let norm = normalize_title(&stripped);
    let toks: Vec<&str> = norm.split(' ').collect();
    if norm.is_empty() {
        return NotATitle;
    }
    if NON_TITLE_WHOLE.contains(&norm.as_str()) {
        return NotATitle;
    }
    if NON_TITLE_STARTS
        .iter()
        .any(|s| norm == *s || norm.starts_with(&format!("{s} ")))
    {
        // a placeholder, unless it opens with a hiring cue and names roles after it ("Hiring
        // Android Engineer", "We are hiring a Senior Software Engineer in Austin, TX")
        let roles = finder.roles_after_opening_cue(&toks, &stripped);
        return if roles.is_empty() {
            NotATitle
        } else {
            TitleField::HiringRoles(roles)
        };
    }
    // A web address is not a role even when a word of it is ("https://coder.com/"): the test
    // for a role word reads the field without its addresses.
    if let Some(words) = without_web_addresses(raw) {
        if !finder.has_head_word(&normalize_title(&strip_html(&words))) {
            return NotATitle;
        }
    }
    let place = |t: &&str| {
        PLACE_WORDS.contains(t)
            || t.len() <= 2
            || t.chars().all(|c| c.is_ascii_digit())
            || crate::seniority::is_money_token(t)
    };
    if toks.iter().all(place) || is_department_list(raw, &toks) {
        return NotATitle;
    }
    match finder.hiring_sentence_roles(&toks, &stripped) {
        // "Hightouch (YC S19) Is Hiring": a sentence about hiring that names no role
        Some(roles) if roles.is_empty() => NotATitle,
        Some(roles) => TitleField::HiringRoles(roles),
        // "At SentiLink, we stop identity fraud at scale", "Hey HN, this is Louis, co-founder
        // at SightlineOS": a sentence about the company, not a role
        None if is_first_person_sentence(&toks) => NotATitle,
        // "Booking.com is world leader in travel accommodations" (a Travel Agent by its
        // embedding): a sentence about the company
        None if is_third_person_sentence(&stripped) => NotATitle,
        None if has_description && !finder.has_head_word(&norm) => NotATitle,
        None => TitleField::Other,
    }
}

/// Where in a posting a role was named (lower = more trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleTier {
    Header = 1,
    RoleLine = 2,
    HiringSentence = 3,
}

/// A taxonomy title named in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleMention {
    /// Index into `Taxonomy::titles()`.
    pub title: usize,
    /// The words that matched (normalized).
    pub text: String,
    pub tier: RoleTier,
}

/// Finds taxonomy titles named in free text by exact alias match (see the module doc).
pub struct RoleFinder {
    /// normalized name/alias → title index
    aliases: HashMap<String, usize>,
    /// last words of names and aliases (singular): what a role phrase ends with
    heads: HashSet<String>,
    /// last words of the names and aliases with no preposition ("network engineer", not
    /// "director of climate", whose head "director" other aliases end with): what makes a text
    /// name an occupation ([`Self::has_head_word`])
    occupation_heads: HashSet<String>,
    /// adjacent words of the names and aliases ("business development" of "business
    /// development manager"): [`Self::writes_together`]
    word_pairs: HashSet<(String, String)>,
    /// aliases that are generic or weak in running text
    weak: HashSet<String>,
    /// one-word aliases the taxonomy writes only in capitals ("DON", "DNS", "CPC"), and those of
    /// three letters or fewer: in running text they name the role only when written so, not as
    /// "don't" or "cos(x)"
    acronyms: HashSet<String>,
    /// the titles of the c-suite and founders: in a short line after a name ("Jane Doe, CEO")
    /// they sign the post, they are not the job
    signers: HashSet<usize>,
}

/// The hiring cues a title field may open with (normalized words): what follows names the
/// roles, if anything ([`RoleFinder::roles_after_leading_hiring_cue`]).
const LEADING_HIRING_CUES: &[&[&str]] = &[
    &["we", "are", "hiring"],
    &["we", "re", "hiring"],
    &["were", "hiring"],
    &["now", "hiring"],
    &["hiring"],
    &["we", "are", "looking", "for"],
    &["we", "re", "looking", "for"],
    &["looking", "for"],
];

/// Words before "hiring" that make a title field a sentence about hiring ("Acme is hiring",
/// "we're hiring", "now hiring").
const HIRING_SUBJECTS: &[&str] = &[
    "is",
    "are",
    "re",
    "s",
    "now",
    "currently",
    "actively",
    "also",
    "still",
    "we",
];

/// Each sentence of `text` with a hiring cue ([`HIRING_CUES`]), with the first 25 normalized
/// words after its first cue (where the sentence names what it hires).
fn after_hiring_cues(text: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    for sentence in text.split(['.', '!', '?', ':']) {
        let norm = normalize_title(sentence);
        let toks: Vec<&str> = norm.split(' ').collect();
        let cue_end = HIRING_CUES.iter().find_map(|cue| {
            toks.windows(cue.len())
                .position(|w| w == *cue)
                .map(|p| p + cue.len())
        });
        if let Some(start) = cue_end {
            out.push((sentence, toks[start..toks.len().min(start + 25)].join(" ")));
        }
    }
    out
}

/// Whether a posting's text (its first 4,000 characters) hires bare "engineers" in a hiring
/// sentence ("Factual is currently hiring engineers and data lovers"): "engineer(s)" within
/// the six words after a hiring cue.
pub(crate) fn hires_engineers(text: &str) -> bool {
    after_hiring_cues(cap_chars(text, 4_000))
        .iter()
        .any(|(_, after)| {
            after
                .split(' ')
                .take(6)
                .any(|w| w == "engineer" || w == "engineers")
        })
}

/// Languages, frameworks and platforms that mark a posting's work as software (none of them an
/// everyday word: no "Go", "Swift" or "Spark").
const SOFTWARE_STACK: &[&str] = &[
    "python",
    "golang",
    "rust",
    "java",
    "kotlin",
    "typescript",
    "javascript",
    "react",
    "node",
    "node.js",
    "nodejs",
    "ruby",
    "rails",
    "postgres",
    "postgresql",
    "mysql",
    "redis",
    "kafka",
    "kubernetes",
    "k8s",
    "aws",
    "gcp",
    "azure",
    "django",
    "graphql",
    "next.js",
    "nextjs",
    "vue",
    "scala",
    "elixir",
    "terraform",
    "docker",
    "c++",
    "c#",
    ".net",
    "php",
    "laravel",
    "flutter",
    "swiftui",
    "pytorch",
    "tensorflow",
];

/// Whether a word of a normalized title is one of the [`SOFTWARE_STACK`] technologies, written
/// as [`jobshift_core::normalize::normalize_title`] leaves it ("node.js" and ".net" become
/// "node js" and "net": "nodejs", "node", "js" and "net" all count; "next.js" is only "nextjs",
/// "next" being an everyday word).
pub(crate) fn is_stack_word(word: &str) -> bool {
    word == "js"
        || SOFTWARE_STACK.iter().any(|t| {
            t.len() == word.len() + t.matches('.').count()
                && t.chars().filter(|&c| c != '.').eq(word.chars())
        })
}

/// Whether a posting's text (its first 4,000 characters) names at
/// least two different [`SOFTWARE_STACK`] technologies.
pub(crate) fn names_software_stack(text: &str) -> bool {
    let lower = cap_chars(text, 4_000).to_lowercase();
    let mut seen: Vec<&str> = Vec::new();
    for word in lower.split(|c: char| c.is_whitespace() || ",;:()[]{}/|!?\"'*`<>=".contains(c)) {
        let word = word.trim_end_matches('.');
        if let Some(&tech) = SOFTWARE_STACK.iter().find(|&&t| t == word) {
            if !seen.contains(&tech) {
                seen.push(tech);
                if seen.len() >= 2 {
                    return true;
                }
            }
        }
    }
    false
}

/// Bars and dashes: what marks a line as a header ("Acme | Boston | Engineer"); a sentence has
/// none of them.
const BARS_AND_DASHES: [&str; 5] = ["|", " - ", " – ", " — ", " -- "];

/// What else splits a header line into its parts (company, role, place, terms).
const OTHER_HEADER_SEPARATORS: [&str; 3] = [";", "•", " at "];

/// A line short enough to be a role line or a header part: at most ten words and 100
/// characters (a longer one is a sentence).
fn is_short_line(line: &str) -> bool {
    line.split_whitespace().count() <= 10 && line.chars().count() <= 100
}

/// Which of a posting's first lines is its header: the first line, unless it has no header
/// separator and one of the next two lines has two or more `|` (a sentence written before
/// the header).
fn header_line_index(lines: &[&str]) -> usize {
    let first_is_header = lines
        .first()
        .is_none_or(|l| BARS_AND_DASHES.iter().any(|sep| l.contains(sep)));
    if first_is_header {
        return 0;
    }
    lines
        .iter()
        .take(3)
        .position(|l| l.matches('|').count() >= 2)
        .unwrap_or(0)
}

/// The normalized, non-empty parts of a title field split on `seps` (brackets and HTML removed
/// first).
pub(crate) fn title_parts(raw: &str, seps: &[&str]) -> Vec<String> {
    let stripped = crate::seniority::strip_brackets(&strip_html(raw));
    let mut parts: Vec<String> = vec![stripped];
    for sep in seps {
        parts = parts
            .iter()
            .flat_map(|p| p.split(sep).map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    parts
        .iter()
        .map(|p| normalize_title(p))
        .filter(|p| !p.is_empty())
        .collect()
}

/// "engineers" → "engineer", "analysts" → "analyst", "salespeople" stays; "boss" stays.
fn singular(tok: &str) -> Option<String> {
    if tok.len() > 3 && tok.ends_with('s') && !tok.ends_with("ss") && !tok.ends_with("us") {
        if let Some(stem) = tok.strip_suffix("ies") {
            return Some(format!("{stem}y"));
        }
        return Some(tok[..tok.len() - 1].to_string());
    }
    None
}

/// A title with its last word read as singular ("founding engineers" → "founding engineer"),
/// when it reads as a plural.
pub(crate) fn singular_title(title: &str) -> Option<String> {
    let title = normalize_title(title);
    match title.rsplit_once(' ') {
        Some((head, last)) => singular(last).map(|s| format!("{head} {s}")),
        None => singular(&title),
    }
}

impl RoleFinder {
    pub fn new(tax: &Taxonomy) -> Self {
        let mut aliases = HashMap::new();
        let mut heads = HashSet::new();
        let mut occupation_heads = HashSet::new();
        let mut word_pairs = HashSet::new();
        // normalized one-word alias → whether every spelling of it is in capitals
        let mut capitals: HashMap<String, bool> = HashMap::new();
        let mut signers = HashSet::new();
        for (i, t) in tax.titles().iter().enumerate() {
            if t.level == jobshift_taxonomy::Level::CSuite {
                signers.insert(i);
            }
            for a in std::iter::once(&t.name).chain(t.aliases.iter()) {
                let n = normalize_title(a);
                if n.is_empty() {
                    continue;
                }
                let words: Vec<&str> = n.split(' ').collect();
                for pair in words.windows(2) {
                    word_pairs.insert((pair[0].to_string(), pair[1].to_string()));
                }
                if let Some(last) = n.rsplit(' ').next() {
                    heads.insert(last.to_string());
                    let prepositions = crate::head_word::PREPOSITIONS;
                    if !n.split(' ').skip(1).any(|w| prepositions.contains(&w)) {
                        occupation_heads.insert(last.to_string());
                    }
                }
                if !n.contains(' ') {
                    // short ones are initialisms however the taxonomy spells them ("ea", "cos")
                    let caps = n.len() <= 3 || a.trim().chars().all(|c| c.is_ascii_uppercase());
                    *capitals.entry(n.clone()).or_insert(true) &= caps;
                }
                aliases.entry(n).or_insert(i);
            }
        }
        for founder in ["founder", "cofounder", "co founder"] {
            if let Some(&t) = aliases.get(founder) {
                signers.insert(t);
            }
        }
        let weak = WEAK_IN_TEXT.iter().map(|s| s.to_string()).collect();
        let acronyms = capitals
            .into_iter()
            .filter_map(|(n, caps)| caps.then_some(n))
            .collect();
        RoleFinder {
            aliases,
            heads,
            occupation_heads,
            word_pairs,
            weak,
            acronyms,
            signers,
        }
    }

    /// Whether an acronym alias matched in `segment` is written there in capitals (and is not
    /// a US state's code: "Conshohocken, PA" is a place, not a personal assistant).
    fn written_as_acronym(&self, phrase: &str, segment: &str) -> bool {
        if !self.acronyms.contains(phrase) {
            return true;
        }
        if jobshift_core::places::is_us_state_code(phrase) {
            return false;
        }
        let upper = phrase.to_ascii_uppercase();
        segment
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.strip_suffix('s').unwrap_or(w) == upper)
    }

    /// Whether a short line signs the post rather than names a job: a person's name, then a
    /// c-suite or founder title ("Shaswat, co-founder & CEO", "Jane Doe - CTO: linkedin.com/…"),
    /// or any line pointing at a LinkedIn profile.
    fn is_signature(&self, line: &str, hits: &[(usize, String)]) -> bool {
        if line.to_ascii_lowercase().contains("linkedin.com/in/") {
            return true;
        }
        let Some((name, _)) = line.split_once([',', '-', '–', '—']) else {
            return false;
        };
        let name = normalize_title(name);
        let words = name.split(' ').filter(|w| !w.is_empty()).count();
        (1..=4).contains(&words)
            && !self.has_head_word(&name)
            && !hits.is_empty()
            && hits.iter().all(|(t, _)| self.signers.contains(t))
    }

    /// Whether a normalized text contains a word that ends some title's name or alias with no
    /// preposition ("engineer", "nurse", "barista"; plurals read as singular). The words after
    /// a preposition name no occupation: "The Climate Corporation" is not one for "Director of
    /// Climate", nor "Scalable Press" for "Head of Press" (on HN 2013–2018 such company names
    /// had been embedded as titles: Sustainability Specialist, Machine Operator).
    pub fn has_head_word(&self, norm: &str) -> bool {
        let heads = &self.occupation_heads;
        norm.split(' ')
            .any(|t| heads.contains(t) || singular(t).is_some_and(|s| heads.contains(&s)))
    }

    /// Whether a normalized part of a title field names a role or a department: a word that
    /// ends some title's name or alias ([`Self::has_head_word`]), a department ("engineering",
    /// "sales") or a generic title word ("engineers", "manager").
    pub fn names_role_or_department(&self, norm: &str) -> bool {
        self.has_head_word(norm)
            || norm.split(' ').any(|w| {
                let one = singular(w);
                let w = one.as_deref().unwrap_or(w);
                DEPARTMENT_WORDS.contains(&w) || is_generic_title(w)
            })
    }

    /// Whether some taxonomy name or alias writes the normalized words `first` then `second`
    /// side by side ("business" "development", "marketing" "automation").
    pub fn writes_together(&self, first: &str, second: &str) -> bool {
        self.word_pairs
            .contains(&(first.to_string(), second.to_string()))
    }

    /// The title a whole role phrase names (exact alias of the phrase or of its cleaned form).
    fn lookup(&self, phrase: &str) -> Option<usize> {
        self.aliases
            .get(phrase)
            .or_else(|| self.aliases.get(&clean_title(phrase)))
            .copied()
    }

    /// Roles named in one segment of text: at each word that can end a role phrase, the longest
    /// window (≤ [`MAX_WINDOW`] words) that is a name or alias, the last word read as singular
    /// too. Generic and weak aliases are skipped, and so are refused mentions and initialisms
    /// not in capitals in `written` (the segment as the posting wrote it).
    fn roles_in_segment(&self, segment: &str, written: &str, out: &mut Vec<(usize, String)>) {
        let norm = normalize_title(segment);
        if norm.is_empty() {
            return;
        }
        let toks: Vec<&str> = norm.split(' ').collect();
        // start of the match this call pushed last: a later, longer match that covers it
        // ("developer" then "developer advocate", "software engineer" then "software engineer
        // in test") replaces it
        let mut last_start: Option<usize> = None;
        let mut j = 0;
        while j < toks.len() {
            let last_forms: Vec<String> = std::iter::once(toks[j].to_string())
                .chain(singular(toks[j]))
                .filter(|t| self.heads.contains(t))
                .collect();
            let mut matched: Option<(usize, String, usize)> = None;
            'window: for len in (1..=MAX_WINDOW.min(j + 1)).rev() {
                let start = j + 1 - len;
                for last in &last_forms {
                    let mut phrase = toks[start..j].join(" ");
                    if !phrase.is_empty() {
                        phrase.push(' ');
                    }
                    phrase.push_str(last);
                    if let Some(&t) = self.aliases.get(&phrase) {
                        matched = Some((t, phrase, start));
                        break 'window;
                    }
                }
            }
            if let Some((t, phrase, start)) = matched {
                let weak = is_generic_title(&phrase) || self.weak.contains(&phrase);
                // "No recruiters, please", "(hear from our CEO)": the text says it is no job
                let before = start.checked_sub(1).map(|k| toks[k]);
                let refused = before == Some("no")
                    || (matches!(before, Some("our" | "my")) && self.signers.contains(&t));
                if !weak && !refused && self.written_as_acronym(&phrase, written) {
                    if last_start.is_some_and(|s| start <= s) {
                        out.pop();
                    }
                    out.push((t, phrase));
                    last_start = Some(start);
                }
            }
            j += 1;
        }
    }

    /// The roles of a line that names a role and then qualifies it in brackets: "- Software
    /// Engineers (Backend, Frontend, Data, …)", "Systems Engineer (Real-Time Engine): Build our
    /// core …". The words before the first bracket are at most six, in no first person, and end
    /// with the role (plural or not); `None` otherwise ("• Contribute to infrastructure (AWS,
    /// Docker), and devops" names no role before its bracket; "Founded 2011, we're doing
    /// marketing automation (…)" is a sentence).
    fn role_before_bracket(&self, line: &str) -> Option<Vec<(usize, String)>> {
        let (before, _) = line.split_once(['(', '['])?;
        let norm = normalize_title(before);
        let toks: Vec<&str> = norm.split(' ').filter(|t| !t.is_empty()).collect();
        if toks.is_empty() || toks.len() > 6 || toks.iter().any(|t| FIRST_PERSON.contains(t)) {
            return None;
        }
        let mut hits = Vec::new();
        self.roles_in_segment(before, before, &mut hits);
        let (_, phrase) = hits.last()?;
        let last = toks[toks.len() - 1];
        let head = toks[..toks.len() - 1].join(" ");
        let ends_with_role = std::iter::once(last.to_string())
            .chain(singular(last))
            .any(|l| {
                let whole = if head.is_empty() {
                    l
                } else {
                    format!("{head} {l}")
                };
                whole == *phrase || whole.ends_with(&format!(" {phrase}"))
            });
        ends_with_role.then_some(hits)
    }

    /// The roles a title field that is a sentence about hiring names after its cue ("is hiring",
    /// "we're hiring", "looking for", "seeking"): "Reflex (YC W23) Is Hiring Software Engineers
    /// – Python" → software engineer; "Hightouch (YC S19) Is Hiring" → none (an empty list).
    /// `None` when the field is no such sentence. A field that opens with "Hiring" is read by
    /// [`Self::roles_after_leading_hiring_cue`]; "Hiring Coordinator" is a title.
    pub fn roles_in_hiring_title(&self, raw: &str) -> Option<Vec<usize>> {
        let stripped = strip_html(raw);
        let norm = normalize_title(&stripped);
        self.hiring_sentence_roles(&norm.split(' ').collect::<Vec<_>>(), &stripped)
    }

    /// [`Self::roles_in_hiring_title`] of a field already normalized into `toks` (`written`: the
    /// field without HTML, for the acronym check).
    fn hiring_sentence_roles(&self, toks: &[&str], written: &str) -> Option<Vec<usize>> {
        // "Acme is hiring", "looking for", "seeking": where the roles start
        let after_cue = toks.windows(2).enumerate().find_map(|(k, w)| {
            if (w[1] == "hiring" && HIRING_SUBJECTS.contains(&w[0]))
                || matches!(w, ["looking" | "searching", "for"])
            {
                Some(k + 2)
            } else {
                (w[0] == "seeking").then_some(k + 1)
            }
        })?;
        Some(self.roles_named_in(&toks[after_cue..], written))
    }

    /// The roles a title field that *opens* with a hiring cue names after it ("Hiring Android
    /// Engineer", "We are hiring a Senior Software Engineer in Austin, TX", "Now hiring: Data
    /// Scientists and ML Engineers"); empty when it names none ("Hiring!", "Hiring Eng, Product
    /// & Growth"), and such a field is a placeholder ([`not_a_title`]). An exact alias that
    /// opens with the word ("Hiring Coordinator") never gets here: step 1 takes it first.
    pub fn roles_after_leading_hiring_cue(&self, raw: &str) -> Vec<usize> {
        let stripped = strip_html(raw);
        let norm = normalize_title(&stripped);
        self.roles_after_opening_cue(&norm.split(' ').collect::<Vec<_>>(), &stripped)
    }

    /// [`Self::roles_after_leading_hiring_cue`] of a field already normalized into `toks`.
    fn roles_after_opening_cue(&self, toks: &[&str], written: &str) -> Vec<usize> {
        match LEADING_HIRING_CUES.iter().find(|cue| toks.starts_with(cue)) {
            Some(cue) => self.roles_named_in(&toks[cue.len()..], written),
            None => Vec::new(),
        }
    }

    /// The distinct roles the normalized words `toks` name (`written` is the field as written,
    /// for the acronym check), departments left out: "hiring across engineering, design, sales
    /// and marketing" names no role.
    fn roles_named_in(&self, toks: &[&str], written: &str) -> Vec<usize> {
        let mut hits = Vec::new();
        self.roles_in_segment(&toks.join(" "), written, &mut hits);
        let mut out: Vec<usize> = Vec::new();
        for (t, phrase) in hits {
            if !out.contains(&t) && !DEPARTMENT_WORDS.contains(&phrase.as_str()) {
                out.push(t);
            }
        }
        out
    }

    /// The one role of a title field whose short parts are joined by `&`, "and", `+` or " / "
    /// when only one part names a role and the others name a department or function ("Founding
    /// Engineers & GTM", "Head of Sales + Solutions Engineering", "Backend Engineer & Infra"):
    /// the embedding of the whole field blends the parts ("GTM Engineer", "Sales Engineer"), the
    /// part that is a title is the job. A generic or weak part ("Principal") names no role. A
    /// part that names another job the taxonomy has no alias for ("Stone Derrickman and
    /// Rigger", "2x Founding Engineers + EA") leaves the field to the embedding, as fewer than
    /// two parts do ([`Self::roles_in_title`] takes several named roles).
    pub fn role_among_conjoined_parts(&self, raw: &str) -> Option<usize> {
        // "Research and Development Engineer" is one title
        let mut raw = raw.to_string();
        if let Some(at) = raw.to_ascii_lowercase().find("research and development") {
            raw.replace_range(at..at + "research and development".len(), "R-D");
        }
        // a slash without spaces joins words of one title ("Node/React Engineer", "Product/Design
        // Engineer"), with spaces whole titles ("Founding Engineer / Founding GTM")
        let parts = title_parts(&raw, &["&", " and ", " + ", " / "]);
        // a list of short parts, not a sentence
        if parts.len() < 2 || parts.iter().any(|p| p.split(' ').count() > MAX_WINDOW) {
            return None;
        }
        let named: Vec<(&String, Option<usize>)> = parts
            .iter()
            .map(|p| {
                let named = !is_generic_title(p) && !self.weak.contains(p.as_str());
                (p, self.part_role(p).filter(|_| named))
            })
            .collect();
        let roles: Vec<usize> = named.iter().filter_map(|(_, r)| *r).collect();
        // the other parts name a department or function ("GTM", "Solutions Engineering"), not
        // another job: "2x Founding Engineers", "Stone Derrickman and Rigger" and "AI Simulation
        // and Control Engineer" are left to the embedding
        let a_department = |p: &str| DEPARTMENT_WORDS.contains(&p.rsplit(' ').next().unwrap_or(""));
        // one word after a spaced slash qualifies the title ("Software Engineer / Security",
        // "Sales / Integration Engineer"): it is no second part of a list
        let slash = raw.contains(" / ");
        let others_are_departments = named
            .iter()
            .all(|(p, r)| r.is_some() || (a_department(p) && (!slash || p.contains(' '))));
        (roles.len() == 1 && others_are_departments).then(|| roles[0])
    }

    /// The title one part of a split title field names as a whole (read as a plural too).
    pub(crate) fn part_role(&self, part: &str) -> Option<usize> {
        self.lookup(part)
            .or_else(|| singular_title(part).as_deref().and_then(|s| self.lookup(s)))
    }

    /// The distinct roles the parts of a split title field name, in order: each part matched as
    /// a whole, or completed with the last part's head word ("frontend / backend developer").
    fn part_roles(&self, parts: &[String]) -> Vec<usize> {
        let last_head = parts
            .last()
            .and_then(|p| p.rsplit(' ').next())
            .unwrap_or("")
            .to_string();
        let head = singular(&last_head).unwrap_or(last_head.clone());
        let mut out: Vec<usize> = Vec::new();
        for p in parts {
            let hit = self.part_role(p).or_else(|| {
                // "frontend / backend developer": complete the part with the head word
                (!self.has_head_word(p) && !last_head.is_empty())
                    .then(|| self.lookup(&format!("{p} {head}")))
                    .flatten()
            });
            if let Some(t) = hit {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// The roles a title field names when it names several ("Android Engineers, iOS Engineers",
    /// "Frontend / Backend Developer"): split on `,`, `/`, `&`, `;`, " and ", " or ", `|`; each
    /// part (or, for "Frontend / Backend Developer", each part completed with the last part's
    /// head word) matched as a whole. Returns the distinct title indices in order; fewer than
    /// two means the field names one role (or none found).
    pub fn roles_in_title(&self, raw: &str) -> Vec<usize> {
        let parts = title_parts(raw, &[",", "/", "&", ";", "|", " and ", " or ", " + "]);
        if parts.len() < 2 {
            return Vec::new();
        }
        let out = self.part_roles(&parts);
        if out.len() < 2 {
            return Vec::new();
        }
        out
    }

    /// The roles named in the 25 words after a hiring cue ("we're hiring", "looking for", …),
    /// sentence by sentence.
    fn roles_after_hiring_cue(&self, text: &str, out: &mut Vec<(usize, String)>) {
        for (sentence, after) in after_hiring_cues(text) {
            self.roles_in_segment(&after, sentence, out);
        }
    }

    /// The roles a posting's text names, most trusted tier first, each title once (its best
    /// tier, first mention). Only the first `max_chars` characters are read.
    pub fn roles_in_posting(&self, text: &str, max_chars: usize) -> Vec<RoleMention> {
        let text = cap_chars(text, max_chars);
        let mut found: Vec<RoleMention> = Vec::new();
        fn push(found: &mut Vec<RoleMention>, t: usize, phrase: String, tier: RoleTier) {
            if !found.iter().any(|m| m.title == t) {
                found.push(RoleMention {
                    title: t,
                    text: phrase,
                    tier,
                });
            }
        }
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        // 1. the header line, company part skipped: the first line, or — when the first line is
        // a sentence before it ("I have adapted our pitch…") — the first of the next two
        // lines written as a header ("Acme | Boston | Full-Stack Engineer")
        let header_at = header_line_index(&lines);
        if let Some(header) = lines.get(header_at) {
            let mut parts: Vec<&str> = vec![header];
            for sep in BARS_AND_DASHES.iter().chain(&OTHER_HEADER_SEPARATORS) {
                parts = parts.iter().flat_map(|p| p.split(sep)).collect();
            }
            // the company leads the header, unless it stood alone on the line before
            // ("SafetyWing" / "Partnerships Manager | Platform Business Partner")
            let company_alone_before = header_at > 0 && is_short_line(lines[0]);
            let skip = usize::from(parts.len() > 1 && !company_alone_before);
            let mut hits = Vec::new();
            for p in &parts[skip..] {
                // "Coder | https://coder.com/": an address is not a role
                let p = without_web_addresses(p).unwrap_or_else(|| p.to_string());
                self.roles_in_segment(&p, &p, &mut hits);
            }
            for (t, phrase) in hits {
                push(&mut found, t, phrase, RoleTier::Header);
            }
        }
        // 2. short role lines, 3. hiring sentences
        let mut tier2 = Vec::new();
        let mut tier3 = Vec::new();
        let others = lines[..header_at.min(lines.len())]
            .iter()
            .chain(lines.iter().skip(header_at + 1));
        for &line in others {
            // "-- Senior Python Developer --", "* Full Stack Engineers: http://…": short once
            // its addresses are left out
            let no_url = without_web_addresses(line);
            let short = no_url.as_deref().unwrap_or(line);
            if is_short_line(short) {
                let mut hits = Vec::new();
                self.roles_in_segment(short, short, &mut hits);
                if !self.is_signature(line, &hits) {
                    tier2.extend(hits);
                }
                continue;
            }
            // "- Software Engineers (Backend, Frontend, Data, Viz, WebGL/WASM, Rust, SE, FDE)": a
            // role line made long by what its bracket says of the role
            if let Some(hits) = self.role_before_bracket(short) {
                if !self.is_signature(line, &hits) {
                    tier2.extend(hits);
                    continue;
                }
            }
            self.roles_after_hiring_cue(line, &mut tier3);
        }
        for (t, p) in tier2 {
            push(&mut found, t, p, RoleTier::RoleLine);
        }
        for (t, p) in tier3 {
            push(&mut found, t, p, RoleTier::HiringSentence);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finder() -> (Taxonomy, RoleFinder) {
        let tax = Taxonomy::builtin().unwrap();
        let f = RoleFinder::new(&tax);
        (tax, f)
    }

    fn ids(tax: &Taxonomy, v: &[RoleMention]) -> Vec<String> {
        v.iter().map(|m| tax.titles()[m.title].id.clone()).collect()
    }

    #[test]
    fn word_pairs_are_the_taxonomys_own() {
        let (_, f) = finder();
        assert!(f.writes_together("business", "development"));
        assert!(f.writes_together("marketing", "automation"));
        assert!(f.writes_together("software", "engineer"));
        assert!(!f.writes_together("development", "business"));
        assert!(!f.writes_together("ct", "network"));
        assert!(!f.writes_together("billing", "platform"));
    }

    #[test]
    fn a_company_part_names_no_role_and_no_department() {
        let (_, f) = finder();
        assert!(!f.names_role_or_department("rangespan"));
        assert!(!f.names_role_or_department("philadelphia 76ers"));
        assert!(f.names_role_or_department("engineers"));
        assert!(f.names_role_or_department("engineering"));
        assert!(f.names_role_or_department("sales"));
        assert!(f.names_role_or_department("ruby developers"));
    }

    #[test]
    fn the_words_after_a_preposition_name_no_occupation() {
        let (_, f) = finder();
        for norm in [
            "network engineer",
            "nurses",
            "director of climate",
            "barista",
        ] {
            assert!(f.has_head_word(norm), "{norm:?}");
        }
        // "Director of Climate", "Head of Press", "Day to Day Substitute" end with these words
        for norm in [
            "the climate corporation",
            "scalable press",
            "sf 2 3 days week",
        ] {
            assert!(!f.has_head_word(norm), "{norm:?}");
        }
        // a company name as the title field of a posting with a description names no role
        assert!(not_a_title("The Climate Corporation", &f, true));
        assert!(!not_a_title("The Climate Corporation", &f, false));
    }

    #[test]
    fn non_titles_are_recognized() {
        let (_, f) = finder();
        for raw in [
            "Multiple roles",
            "Various positions",
            "Join our team",
            "San Francisco, CA",
            "New York, NY",
            "London, UK",
            "Full Time",
            "REMOTE",
            "ONSITE",
            "Remote (US) | Full-time | $150k-$200k",
            "",
            "   ",
            "Multiple positions in United States - WORK FROM HOME",
            "https://acme.com/jobs",
            // an address whose words name a role is still an address
            "https://coder.com/",
            "www.architect.co",
            "coder.com",
        ] {
            assert!(not_a_title(raw, &f, false), "{raw:?} should not be a title");
        }
        for raw in [
            "Software Engineer",
            "Web Backend Engineer",
            "Developer Relations",
            "Founding Product Designer",
            "Registered Nurse",
            "Barista",
            "Senior Python Developer (Remote)",
            "Node.js Developer",
            "Full-Stack Engineer https://www.uncountable.com/hiring/hn",
        ] {
            assert!(!not_a_title(raw, &f, true), "{raw:?} is a title");
        }
        // a company name is a non-title only where a description can name the role
        assert!(not_a_title("Kadoa", &f, true));
        assert!(!not_a_title("Kadoa", &f, false));
    }

    #[test]
    fn roles_come_from_the_header_and_role_lines() {
        let (tax, f) = finder();
        let text = "OpenRent | London, UK | Full-Time | ONSITE\n\nWe are a lettings platform.\n\n-- Senior Python Developer --\n\nYou will work with product managers and designers every single day of the week.";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000)),
            ["software_engineer"]
        );
        let text = "DocTalk (YC W17) | Android Engineers, iOS Engineers, Full stack Engineers | Hyderabad, IN\n\nWe build care.";
        let got = ids(&tax, &f.roles_in_posting(text, 4000));
        assert!(got.contains(&"full_stack_engineer".to_string()), "{got:?}");
        assert!(got.len() >= 2, "{got:?}");
        let text = "Acme - Boston\n\nAcme makes robots. We're looking for a backend engineer and a data scientist to join the team in our office downtown near the river.";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000)),
            ["backend_engineer", "data_scientist"]
        );
        // a role line's address does not make it long; a signature names no job; an address
        // and "don't" are no role
        let text = "Coder | https://coder.com/ | Multiple roles\n\nWe build tools.\n\n>> Distributed Systems Engineer: https://jobs.ashbyhq.com/livekit/938b49cb-4542-46ae-9383-0317cd6674f3\n\nWe don\u{2019}t sponsor visas.\n\nShaswat, co-founder & CEO\nRuss D'sa, CTO and Cofounder: https://www.linkedin.com/in/someone/";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000)),
            ["systems_software_engineer"]
        );
        // an initialism in capitals counts in a hiring sentence too
        let text = "Acme | Remote\n\nWe are a small team that ships infrastructure to thousands of customers every day. We're always hiring for operations/SRE and sales.";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000)),
            ["site_reliability_engineer"]
        );
        // a state, a tool and a noun of the trade are no jobs
        let text = "Monetate - Conshohocken, PA (Philly suburbs)\n\nOur stack:\n- Chef\n- server-side code in Go\n- concurrency models";
        assert!(f.roles_in_posting(text, 4000).is_empty());
        // a role the text refuses, or a person of the company, is no job
        let text = "Acme | Remote\n\nWe build tools.\n\nNo recruiters or agencies, please.\n(Hear from our CEO here: https://acme.com/ceo)";
        assert!(f.roles_in_posting(text, 4000).is_empty());
        // written in capitals, the acronym is the role; a role line naming a CEO is one
        let text = "Acme | Remote\n\nWe run care homes.\n\n* DONs, full time\n* CEO";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000)),
            ["director_of_nursing", "chief_executive_officer"]
        );
        // a sentence before the header: the header is read as one, the sentence is not
        let text = "I have adapted our pitch to fit their strict format while keeping the hook.\nStealth Startup | Boston, MA (or Remote) | Founding Full-Stack Engineer | CONTRACT TO HIRE | Competitive Market Rate + Equity\nThe Stack: React, Next.js. (Bonus: Framer Motion/GSAP).";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000))[0],
            "full_stack_engineer"
        );
        // a company name alone on the first line: the header after it is all roles
        let text = "SafetyWing\n\nPartnerships Manager | Platform Business Partner | B2B Content Lead\n\nRemote | Full-time";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000))[0],
            "business_development_manager"
        );
        // a role line made long by its bracketed list of specialties is still a role line
        let text = "Foxglove | Onsite (San Francisco) | Full Time\n\nMany open roles:\n\n- Software Engineers (Backend, Frontend, Data, Viz, WebGL/WASM, Rust, SE, FDE)\n\n- Product Manager, Data Platform\n\n- Account Exec";
        assert_eq!(
            ids(&tax, &f.roles_in_posting(text, 4000))[..2],
            ["software_engineer", "product_manager"]
        );
        // a tool or a term of the trade named like a job is none in the text
        let text = "Acme | Remote\n\nWe stream events.\n\n- Experience with ZooKeeper, etcd or similar\n- TCP/IP, HTTP, DNS\n- Some Linux admin work\n- Ability to become a killer coder";
        assert!(f.roles_in_posting(text, 4000).is_empty());
        // "hiring engineers" right after the cue, not a sentence that only mentions them
        assert!(hires_engineers(
            "Factual is currently hiring engineers and data lovers of all levels."
        ));
        assert!(!hires_engineers(
            "We're hiring an account executive to sell to VPs of sales who manage many engineers."
        ));
        // a software stack is two technologies, not one, and not everyday words
        assert!(names_software_stack(
            "Stack: TS, Postgres, React, GraphQL, and Next.js."
        ));
        assert!(names_software_stack("We use C++ and Python (PyTorch)"));
        assert!(!names_software_stack("We go swiftly; Python only"));
        assert!(!names_software_stack("Spark joy, go far, be swift."));
        // a technology as normalize_title writes it: "node.js" and ".net" are "node js", "net"
        for w in [
            "rust", "php", "node", "js", "nodejs", "net", "c++", "c#", "k8s",
        ] {
            assert!(is_stack_word(w), "{w}");
        }
        for w in ["next", "go", "swift", "software", "", "ne"] {
            assert!(!is_stack_word(w), "{w}");
        }
        // a mention outside the header, role lines and hiring sentences is not a role
        let text = "Acme - Boston\n\nAcme makes robots for warehouses and our engineers work closely with product managers and designers on every release we ship.";
        assert!(f.roles_in_posting(text, 4000).is_empty());
    }

    #[test]
    fn several_roles_in_one_title_are_split() {
        let (tax, f) = finder();
        let got: Vec<String> = f
            .roles_in_title("Frontend Engineer / Backend Engineer")
            .iter()
            .map(|&i| tax.titles()[i].id.clone())
            .collect();
        assert_eq!(got, ["frontend_engineer", "backend_engineer"]);
        let got: Vec<String> = f
            .roles_in_title("Data Engineer & Data Scientist")
            .iter()
            .map(|&i| tax.titles()[i].id.clone())
            .collect();
        assert_eq!(got, ["data_engineer", "data_scientist"]);
        assert!(f.roles_in_title("Software Engineer").is_empty());
        assert!(f.roles_in_title("Software Engineer, Backend").len() < 2);
    }

    #[test]
    fn a_title_that_is_a_sentence_about_hiring_names_its_roles_or_none() {
        let (tax, f) = finder();
        let ids = |v: Vec<usize>| -> Vec<String> {
            v.iter().map(|&i| tax.titles()[i].id.clone()).collect()
        };
        let got = f.roles_in_hiring_title("Reflex (YC W23) Is Hiring Software Engineers – Python");
        assert_eq!(got.map(ids), Some(vec!["software_engineer".to_string()]));
        let got =
            f.roles_in_hiring_title("Kyber (YC W23) Is Hiring an Enterprise Account Executive");
        assert_eq!(got.map(ids), Some(vec!["account_executive".to_string()]));
        assert_eq!(
            f.roles_in_hiring_title("Hightouch (YC S19) Is Hiring"),
            Some(vec![])
        );
        // the longest phrase, not a shorter one inside it
        let got = f.roles_in_hiring_title("Couchbase is hiring a Developer Advocate");
        assert_eq!(got.map(ids), Some(vec!["developer_advocate".to_string()]));
        assert_eq!(f.roles_in_hiring_title("Hiring Coordinator"), None);
        assert_eq!(f.roles_in_hiring_title("Senior Software Engineer"), None);
        // a field that opens with the cue names its roles after it, or is a placeholder
        let opens = |t: &str| ids(f.roles_after_leading_hiring_cue(t));
        assert_eq!(
            opens("We are hiring a Senior Software Engineer in Austin, TX at New Knowledge."),
            ["software_engineer"]
        );
        assert_eq!(
            opens("Hiring: Data Scientists and ML Engineers"),
            ["data_scientist", "machine_learning_engineer"]
        );
        assert!(opens("Hiring Eng, Product & Growth").is_empty());
        assert!(opens("Hiring pretty much across the board!").is_empty());
        assert!(opens("Senior Software Engineer").is_empty());
        assert!(not_a_title("Hiring Eng, Product & Growth", &f, false));
        assert!(!not_a_title(
            "Hiring: Data Scientists and ML Engineers",
            &f,
            false
        ));
        // a sentence about hiring that names no role is no title
        assert!(not_a_title("Hightouch (YC S19) Is Hiring", &f, false));
        // a sentence about the company, in the first person
        assert!(not_a_title(
            "At SentiLink, we stop identity fraud at scale. Our products protect banks",
            &f,
            false
        ));
        assert!(not_a_title(
            "Hey HN, this is Louis, co-founder at SightlineOS.",
            &f,
            false
        ));
        assert!(!not_a_title(
            "Senior Software Engineer, Our Payments Team",
            &f,
            false
        ));
        // ... or in the third person, outside its brackets
        assert!(not_a_title(
            "Booking.com is world leader in travel accommodations",
            &f,
            false
        ));
        assert!(not_a_title(
            "Since 2009, Venmo has been connecting and empowering people through payments",
            &f,
            false
        ));
        assert!(!not_a_title(
            "Sales Executive (Fresh Graduates are Welcome to Apply!)",
            &f,
            false
        ));
        assert!(!not_a_title(
            "[Chicago, IL or San Francisco, CA] Rails Engineer - Risk I/O",
            &f,
            false
        ));
        // a sentence that names the roles it seeks gives them
        let got = f.roles_in_hiring_title(
            "We are seeking Front-end Developers to join our quickly growing team",
        );
        assert_eq!(got.map(ids), Some(vec!["frontend_engineer".to_string()]));
        assert!(not_a_title(
            "Padlet (YC W13) Is Hiring in San Francisco and Singapore",
            &f,
            false
        ));
        assert!(!not_a_title(
            "Reflex (YC W23) Is Hiring Software Engineers",
            &f,
            false
        ));
    }

    #[test]
    fn a_list_of_departments_is_not_a_title() {
        let (_, f) = finder();
        for (t, listed) in [
            ("Engineering & Sales", true),
            ("Eng, GTM, and Operations", true),
            ("Product, Design and Engineering", true),
            ("Engineering, Product & Growth", true),
            ("Engineering and more", true),
            ("Product Design", false),
            ("Platform Engineering", false),
            ("Security Engineer", false),
            ("Sales Engineer & more", false),
        ] {
            assert_eq!(not_a_title(t, &f, false), listed, "{t}");
        }
    }

    #[test]
    fn one_role_beside_departments_is_the_job() {
        let (tax, f) = finder();
        for (title, want) in [
            ("Founding Engineers & GTM", Some("software_engineer")),
            ("Backend Engineer & Infra", Some("backend_engineer")),
            (
                "Founding Engineer / Founding GTM",
                Some("software_engineer"),
            ),
            (
                "Head of Sales + Solutions Engineering",
                Some("sales_director"),
            ),
            // one part: not a list; two roles: roles_in_title's; no role: the embedding's
            ("Senior Backend Engineer", None),
            ("Frontend Engineer / Backend Engineer", None),
            ("Engineering & Sales", None),
            // a comma adds the team or the specialty, a slash without spaces joins words of
            // one title, one word after a spaced slash qualifies it: none joins roles here
            ("Software Engineer, Security", None),
            ("Full Stack Node/React Engineer", None),
            ("Principal Software Engineer / Security", None),
            // a part that names no department: another job, or the team
            ("Software Engineer / Distributed Database", None),
            ("Mechatronic Research and Development Engineer", None),
            ("2x Founding Engineers + EA", None),
            ("Stone Derrickman and Rigger", None),
            // a generic or weak part is no role
            ("Mid/Sr./Principal/Staff", None),
        ] {
            let got = f.role_among_conjoined_parts(title);
            let got = got.map(|i| tax.titles()[i].id.as_str());
            assert_eq!(got, want, "{title}");
        }
    }

    #[test]
    fn html_is_stripped() {
        assert_eq!(
            strip_html("<b>Data&nbsp;Engineer</b> &amp; more")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["Data", "Engineer", "&", "more"]
        );
        assert_eq!(strip_html("R&D Engineer"), "R&D Engineer");
        assert_eq!(strip_html("a < b"), "a < b");
    }
}

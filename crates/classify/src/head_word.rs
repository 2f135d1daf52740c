//! The head word of a job title, and which titles a classifier was trained with under it.
//!
//! English job titles are head-final: a "CT Senior Network Engineer" is an engineer and a "CNO
//! Developer" a developer, whatever the words before them say. The title embedding's nearest
//! neighbours can disagree — MiniLM puts "CT Senior Network Engineer" beside radiologic
//! technologists (CT scans), "Billing Platform Engineer" beside billing specialists and
//! "Fraud Detection Analytics Software Engineer" beside fraud analysts, each above the
//! abstention threshold — and a confident answer in the wrong family is the error a trend
//! report carries furthest. For the few head words whose sense does not depend on the words
//! before them ([`CHECKED`]), `jobshift train` records which titles its training titles (the
//! taxonomy's names and aliases, the O*NET alternate titles, any labels) write with them
//! (`classifier.json` → `head_words`), and the cascade does not answer such a title with a
//! title never written so (`Classifier::decide`). The O*NET alternate titles count: they
//! are how employers write a job ("Building Engineer" is a janitor's, "Stationary Engineer" a
//! power plant operator's), so only a title no training title spells with the head is refused.

use std::collections::{BTreeMap, BTreeSet};

/// Head words checked: each names a kind of worker in any title it ends. Not "analyst",
/// "scientist", "designer", "architect" or "researcher": measured on the HN titles, their
/// mismatches were as often right as wrong ("Senior Quantitative Research Scientist" →
/// Quantitative Analyst, "ML/AI Scientist" → Machine Learning Engineer).
pub const CHECKED: &[&str] = &["engineer", "developer", "programmer"];

/// The head words whose titles may answer a title with each checked head (bits over
/// [`CHECKED`]): a programmer may be a developer ("iOS Programmer" is a Mobile Engineer, whose
/// training titles say "iOS Developer" but never "programmer"), but a developer is not every
/// programmer ("CNO Developer" is no machinist, though "CNC Programmer" is).
const ACCEPTS: [u8; 3] = [0b001, 0b010, 0b110];

/// Whether a class whose training titles are written with the head words `class_bits` may
/// answer a title with the checked head `head`.
pub fn accepts(head: usize, class_bits: u8) -> bool {
    class_bits & ACCEPTS[head] != 0
}

/// Families whose titles are software jobs, where an engineer, a developer and a programmer
/// are one job ("Kernel Developer" is a Systems Software Engineer, whose training titles say
/// "Systems Programmer" and "Kernel Engineer" but never "developer"): a title of these
/// families written with any of the three may answer any of them.
pub const SOFTWARE_FAMILIES: &[&str] = &["software_engineering", "data_ai"];

/// Words after which a title's head has been said ("Software Engineer in Test", "Developer for
/// Payments"): the head is the last word before the first of them.
pub(crate) const PREPOSITIONS: &[&str] = &["of", "for", "at", "in", "with", "on", "to"];

/// The words of a cleaned title up to its first preposition, split at anything not a letter or
/// digit ("engineer/researcher" is two words). Borrowed: the title step asks this of every title
/// it scores.
fn head_phrase(cleaned: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for w in cleaned
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !words.is_empty() && PREPOSITIONS.iter().any(|p| w.eq_ignore_ascii_case(p)) {
            break;
        }
        words.push(w);
    }
    words
}

/// The checked head word (an index into [`CHECKED`]) of a cleaned title: the last word before
/// its first preposition, singular or plural ("software engineers" → engineer). `None` for
/// any other head ("engineering manager", "developer advocate", "head of engineering").
pub fn checked_head(cleaned: &str) -> Option<usize> {
    let last = *head_phrase(cleaned).last()?;
    let singular = last.strip_suffix(['s', 'S']).unwrap_or(last);
    CHECKED
        .iter()
        .position(|h| h.eq_ignore_ascii_case(last) || h.eq_ignore_ascii_case(singular))
}

/// The phrases ending a cleaned title's head phrase, longest first, of two words or more and
/// shorter than the whole, each with the word before it, lower-cased ("fraud detection
/// analytics software engineer" → ("fraud", "detection analytics software engineer"), …,
/// ("analytics", "software engineer")): where the cascade looks for the exact title a refused
/// answer's title ends with.
pub fn trailing_phrases(cleaned: &str) -> Vec<(String, String)> {
    let words = head_phrase(cleaned);
    (1..words.len().saturating_sub(1))
        .map(|i| {
            (
                words[i - 1].to_lowercase(),
                words[i..].join(" ").to_lowercase(),
            )
        })
        .collect()
}

/// For each checked head word, the title ids of the examples `(title, title_id)` whose cleaned
/// title ends with it (what `jobshift train` records as `head_words`).
pub fn head_words<'a>(
    examples: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, Vec<String>> {
    let mut by_head: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (title, id) in examples {
        if let Some(h) = checked_head(&crate::seniority::clean_title(title)) {
            by_head.entry(CHECKED[h]).or_default().insert(id);
        }
    }
    by_head
        .into_iter()
        .map(|(h, ids)| (h.to_string(), ids.into_iter().map(String::from).collect()))
        .collect()
}

/// Per class, a bit per [`CHECKED`] head word its training titles are written with (all three
/// for a class of [`SOFTWARE_FAMILIES`] written with any: `software[c]`); `None` when the
/// classifier recorded no head words (trained before they were recorded: no check).
pub fn class_heads(
    head_words: &BTreeMap<String, Vec<String>>,
    classes: &[String],
    software: &[bool],
) -> Option<Vec<u8>> {
    if head_words.is_empty() {
        return None;
    }
    let mut bits = vec![0u8; classes.len()];
    for (h, head) in CHECKED.iter().enumerate() {
        let Some(ids) = head_words.get(*head) else {
            // no training title has this head: nothing to check it against
            bits.iter_mut().for_each(|b| *b |= 1 << h);
            continue;
        };
        for (c, id) in classes.iter().enumerate() {
            if ids.binary_search(id).is_ok() {
                bits[c] |= 1 << h;
            }
        }
    }
    let all = (1u8 << CHECKED.len()) - 1;
    for (b, _) in bits
        .iter_mut()
        .zip(software)
        .filter(|(b, s)| **s && **b != 0)
    {
        *b = all;
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_the_last_word_before_a_preposition() {
        let head = |s: &str| checked_head(s).map(|h| CHECKED[h]);
        assert_eq!(head("ct network engineer"), Some("engineer"));
        assert_eq!(head("cno developer"), Some("developer"));
        assert_eq!(head("software engineers"), Some("engineer"));
        assert_eq!(head("software engineer in test"), Some("engineer"));
        assert_eq!(head("web and mobile programmer"), Some("programmer"));
        assert_eq!(head("ml engineer/researcher"), None);
        assert_eq!(head("engineering manager"), None);
        assert_eq!(head("developer advocate"), None);
        assert_eq!(head("head of engineering"), None);
        assert_eq!(head(""), None);
    }

    #[test]
    fn trailing_phrases_are_longest_first_and_shorter_than_the_title() {
        let pairs = |v: Vec<(String, String)>| -> Vec<String> {
            v.into_iter().map(|(b, p)| format!("{b} | {p}")).collect()
        };
        assert_eq!(
            pairs(trailing_phrases("Fraud Detection Software Engineer")),
            vec![
                "fraud | detection software engineer",
                "detection | software engineer"
            ]
        );
        assert_eq!(
            pairs(trailing_phrases("ct network engineer in radiology")),
            vec!["ct | network engineer"]
        );
        assert!(trailing_phrases("network engineer").is_empty());
    }

    #[test]
    fn head_words_record_the_titles_written_with_each_head() {
        let ex = [
            ("Network Engineer", "network_engineer"),
            ("Senior Network Engineers", "network_engineer"),
            ("Building Engineer", "janitor"),
            ("Radiologic Technologist", "radiologic_technologist"),
            ("Java Developer", "software_engineer"),
            ("CNC Programmer", "machinist"),
        ];
        let hw = head_words(ex);
        assert_eq!(hw["engineer"], vec!["janitor", "network_engineer"]);
        assert_eq!(hw["developer"], vec!["software_engineer"]);
        assert_eq!(hw["programmer"], vec!["machinist"]);
        let classes: Vec<String> = [
            "network_engineer",
            "radiologic_technologist",
            "software_engineer",
            "machinist",
        ]
        .map(String::from)
        .to_vec();
        let software = [true, false, true, false];
        let bits = class_heads(&hw, &classes, &software).unwrap();
        // software titles written with any of the heads may answer all three
        assert_eq!(bits, vec![0b111, 0b000, 0b111, 0b100]);
        let [engineer, developer, programmer] = [0, 1, 2];
        // a programmer may be a developer; a developer is not a CNC programmer
        assert!(accepts(programmer, bits[2]) && accepts(programmer, bits[3]));
        assert!(accepts(developer, bits[2]) && !accepts(developer, bits[3]));
        assert!(accepts(engineer, bits[0]) && !accepts(engineer, bits[1]));
        assert!(accepts(developer, bits[0]) && !accepts(engineer, bits[3]));
        let plain = class_heads(&hw, &classes, &[false; 4]).unwrap();
        assert_eq!(plain, vec![0b001, 0b000, 0b010, 0b100]);
        // a head no training title has is not checked: every class may answer it
        let only_engineers = BTreeMap::from([("engineer".to_string(), vec![])]);
        assert_eq!(
            class_heads(&only_engineers, &classes, &[false; 4]).unwrap(),
            vec![0b110; 4]
        );
        assert_eq!(class_heads(&BTreeMap::new(), &classes, &software), None);
    }
}

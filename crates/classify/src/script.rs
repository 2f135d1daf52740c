//! Which text an English-only encoder can read: the writing system (Unicode script) of a text's
//! letters. all-MiniLM-L6-v2 and all-mpnet-base-v2 were trained on English; a title written in
//! Han, Cyrillic, Arabic or Hangul still gets a vector, but one that means nothing, and the kNN
//! head then answers it with confidence ("مدير مبيعات", sales manager → Translator at 0.83). The
//! cascade's step 0 abstains on such a title (`unsupported_script`) unless the posting's text
//! names the role in words it can read.
//!
//! The script of a character comes from the `unicode-script` crate (the Unicode Character
//! Database's Scripts.txt), not from hand-written code-point ranges.

use unicode_script::{Script, UnicodeScript};

/// Characters of a text [`latin_readable`] looks at: enough to tell a title's or a description's
/// script, bounded for a 10,000-character field.
const SCAN_CHARS: usize = 2000;

/// Letters of `text` (its first [`SCAN_CHARS`] characters) in the Latin script, and letters in
/// any other script. Characters of no one script — digits, punctuation, spaces, emoji, combining
/// marks (Unicode's Common and Inherited) — count for neither.
pub fn letters_by_script(text: &str) -> (usize, usize) {
    let (mut latin, mut other) = (0, 0);
    for c in text.chars().take(SCAN_CHARS) {
        match c.script() {
            Script::Latin => latin += 1,
            Script::Common | Script::Inherited | Script::Unknown => {}
            _ => other += 1,
        }
    }
    (latin, other)
}

/// Whether an encoder trained on English text can read `text`: unless most of its letters are in
/// a script other than Latin. A text without letters ("", "((((", "🚀") is readable: the other
/// steps decide what it is. "Software Engineer (東京)" and "Senior Java Developer – Москва" are
/// readable; "软件工程师" and "Инженер-программист" are not.
pub fn latin_readable(text: &str) -> bool {
    // nearly every title: no script to look up
    if text.is_ascii() {
        return true;
    }
    let (latin, other) = letters_by_script(text);
    other <= latin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_mostly_in_another_script_are_not_readable() {
        for t in [
            "软件工程师",
            "Инженер-программист",
            "مهندس برمجيات",
            "ソフトウェアエンジニア (東京)",
            "소프트웨어 엔지니어",
            "सॉफ्टवेयर इंजीनियर",
            "מהנדס תוכנה",
            "Μηχανικός λογισμικού",
            "วิศวกรซอฟต์แวร์",
            "高级Java开发工程师",
        ] {
            assert!(!latin_readable(t), "{t:?} read as Latin");
        }
    }

    #[test]
    fn latin_titles_with_some_other_script_and_letterless_fields_are_readable() {
        for t in [
            "Software Engineer",
            "Software Engineer (東京)",
            "Senior Java Developer – Москва",
            "Data Scientist, 北京",
            "Ingénieur logiciel (H/F)",
            "Softwareentwickler (m/w/d)",
            "Kỹ sư phần mềm",
            "",
            "   ",
            "((((",
            "🚀🚀 $150k",
            "12345",
        ] {
            assert!(latin_readable(t), "{t:?} not read as Latin");
        }
    }

    #[test]
    fn the_count_is_bounded_and_ignores_characters_of_no_script() {
        assert_eq!(letters_by_script("C++ / C# 3.0"), (2, 0));
        assert_eq!(letters_by_script("Dev – Москва"), (3, 6));
        let long = "é".repeat(10_000);
        assert_eq!(letters_by_script(&long), (SCAN_CHARS, 0));
    }
}

//! Text normalization shared by every stage that compares titles.
//!
//! One function decides when two written titles are "the same": the taxonomy's alias index,
//! the classifier's exact-match step and embedding cache, the generator and dedup keys all call
//! [`normalize_title`], so a change here changes them together.

use unicode_normalization::UnicodeNormalization;

/// Normalize a job title for exact matching.
///
/// NFKC, lower case, `&` read as "and", every character that is not a letter, digit, `+` or `#`
/// becomes a space (so "Sr. Software-Engineer" and "sr software engineer" agree, while "C++" and
/// "C#" survive), then whitespace is collapsed. Diacritics are kept: "Café" ≠ "Cafe" is rare in
/// titles and stripping them loses meaning in other languages.
pub fn normalize_title(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for ch in raw.nfkc() {
        let mapped: Option<&str> = match ch {
            '&' => Some("and"),
            _ => None,
        };
        if let Some(word) = mapped {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
            pending_space = true;
            continue;
        }
        if ch.is_alphanumeric() || ch == '+' || ch == '#' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            for lc in ch.to_lowercase() {
                out.push(lc);
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// Normalize free text for hashing and near-duplicate detection: NFKC, lower case,
/// whitespace collapsed. Punctuation is kept (it carries content in descriptions).
pub fn normalize_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.nfkc().collect::<String>().split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for ch in word.chars() {
            for lc in ch.to_lowercase() {
                out.push(lc);
            }
        }
    }
    out
}

/// A stable 128-bit content hash (hex) of the given fields, with a separator that cannot occur
/// inside a field after normalization. Used for `posting_id` and cache keys.
pub fn content_hash(fields: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for f in fields {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    let hash = h.finalize();
    hash.to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_agree_across_spellings() {
        assert_eq!(
            normalize_title("Sr. Software-Engineer"),
            "sr software engineer"
        );
        assert_eq!(
            normalize_title("  SR SOFTWARE   ENGINEER "),
            "sr software engineer"
        );
        assert_eq!(normalize_title("R&D Engineer"), "r and d engineer");
        assert_eq!(normalize_title("C++ / C# Developer"), "c++ c# developer");
        assert_eq!(normalize_title("Ｆｕｌｌｗｉｄｔｈ"), "fullwidth");
        assert_eq!(
            normalize_title("Krankenpfleger (m/w/d)"),
            "krankenpfleger m w d"
        );
        assert_eq!(normalize_title("🚀"), "");
    }

    #[test]
    fn hash_is_stable_and_field_separated() {
        assert_eq!(content_hash(&["a", "bc"]), content_hash(&["a", "bc"]));
        assert_ne!(content_hash(&["ab", "c"]), content_hash(&["a", "bc"]));
        assert_eq!(content_hash(&["x"]).len(), 32);
    }

    #[test]
    fn text_normalization_collapses_space() {
        assert_eq!(normalize_text(" Hello\n\tWorld. "), "hello world.");
    }
}

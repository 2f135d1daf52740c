//! MinHash signatures over word shingles, and LSH band keys, for near-duplicate descriptions.
//!
//! Hand-written (≈60 lines) rather than `gaoya`/`probminhash`: the dedup index must persist
//! signatures in the dataset directory and evict them by date window, and must give the same
//! signature on every platform and crate version forever (a changed hash would silently break
//! incremental de-duplication). A fixed FNV-1a shingle hash and a splitmix64 permutation family
//! give that with no dependency.
//!
//! Parameters: 3-word shingles of the normalized description, 64 permutations, 16 LSH bands of
//! 4 rows: two descriptions with Jaccard similarity 0.8 become LSH candidates with probability
//! 1-(1-0.8^4)^16 ≈ 0.9997, at 0.5 with 0.65, at 0.3 with 0.12; candidates are then confirmed on
//! the full 64-value signature estimate.

use jobshift_core::normalize::normalize_text;

pub const PERMUTATIONS: usize = 64;
pub const BANDS: usize = 16;
pub const ROWS_PER_BAND: usize = PERMUTATIONS / BANDS;
pub const SHINGLE_WORDS: usize = 3;
/// Descriptions with fewer words than this get no signature (exact dedup only).
pub const MIN_WORDS: usize = 8;

pub type Signature = [u32; PERMUTATIONS];

fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Words of a description for shingling: normalized text, split on non-alphanumerics.
fn words(text: &str) -> Vec<String> {
    normalize_text(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The MinHash signature of a description, or None when it is too short to compare.
pub fn signature(text: &str) -> Option<Signature> {
    let w = words(text);
    if w.len() < MIN_WORDS {
        return None;
    }
    let k = SHINGLE_WORDS.min(w.len());
    let mut sig = [u32::MAX; PERMUTATIONS];
    let mut buf = String::new();
    for win in w.windows(k) {
        buf.clear();
        for (i, x) in win.iter().enumerate() {
            if i > 0 {
                buf.push(' ');
            }
            buf.push_str(x);
        }
        let base = fnv1a(buf.as_bytes(), 0);
        for (i, s) in sig.iter_mut().enumerate() {
            let h = (splitmix(base ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 32) as u32;
            if h < *s {
                *s = h;
            }
        }
    }
    Some(sig)
}

/// Estimated Jaccard similarity of two signatures.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    let same = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    same as f64 / PERMUTATIONS as f64
}

/// The LSH band keys of a signature (band index mixed in).
pub fn band_keys(sig: &Signature) -> [u64; BANDS] {
    let mut out = [0u64; BANDS];
    for (b, chunk) in sig.chunks(ROWS_PER_BAND).enumerate() {
        let mut h = splitmix(b as u64);
        for v in chunk {
            h = splitmix(h ^ *v as u64);
        }
        out[b] = h;
    }
    out
}

/// Signature as little-endian bytes (for the persisted index).
pub fn to_bytes(sig: &Signature) -> Vec<u8> {
    sig.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Inverse of [`to_bytes`]; None when the length is wrong.
pub fn from_bytes(b: &[u8]) -> Option<Signature> {
    if b.len() != PERMUTATIONS * 4 {
        return None;
    }
    let mut sig = [0u32; PERMUTATIONS];
    for (i, c) in b.chunks_exact(4).enumerate() {
        sig[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Some(sig)
}

/// Token-set Jaccard of two normalized titles (used to keep "Backend Engineer" and "Frontend
/// Engineer" with the same boilerplate description apart).
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let ta: std::collections::BTreeSet<&str> = a.split(' ').filter(|w| !w.is_empty()).collect();
    let tb: std::collections::BTreeSet<&str> = b.split(' ').filter(|w| !w.is_empty()).collect();
    if ta.is_empty() && tb.is_empty() {
        return 1.0;
    }
    let inter = ta.intersection(&tb).count();
    let union = ta.union(&tb).count();
    inter as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_texts_have_similar_signatures() {
        let a = "We are looking for a senior data engineer to build reliable pipelines in Python and SQL, own our warehouse, and mentor others on the team in Berlin.";
        let b = "We are looking for a senior data engineer to build reliable pipelines in Python and SQL, own our warehouse, and mentor others on the team in Munich.";
        let c = "Our bakery needs a friendly morning shift baker who loves bread, pastries and coffee, and can start at five every weekday in the city centre.";
        let (sa, sb, sc) = (
            signature(a).unwrap(),
            signature(b).unwrap(),
            signature(c).unwrap(),
        );
        assert!(similarity(&sa, &sb) > 0.7, "{}", similarity(&sa, &sb));
        assert!(similarity(&sa, &sc) < 0.2);
        assert_eq!(from_bytes(&to_bytes(&sa)), Some(sa));
        assert!(signature("too short").is_none());
        assert_eq!(signature(a), signature(a));
    }

    #[test]
    fn titles() {
        assert!(title_similarity("senior software engineer", "sr software engineer") >= 0.5);
        assert!(title_similarity("backend engineer", "frontend engineer") < 0.5);
    }
}

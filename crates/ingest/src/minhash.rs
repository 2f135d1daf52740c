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

pub const PERMUTATIONS: usize = 64;
pub const BANDS: usize = 16;
pub const ROWS_PER_BAND: usize = PERMUTATIONS / BANDS;
pub const SHINGLE_WORDS: usize = 3;
/// Descriptions with fewer words than this get no signature (exact dedup only).
pub const MIN_WORDS: usize = 8;

pub type Signature = [u32; PERMUTATIONS];

/// The splitmix64 finalizer (a fixed, well-mixed 64-bit hash of a 64-bit value).
pub fn mix64(x: u64) -> u64 {
    splitmix(x)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Words of an already normalized description for shingling: split on non-alphanumerics.
fn words_of_normalized(normalized: &str) -> Vec<&str> {
    normalized
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// `(i * golden) ` mixed into the shingle hash for permutation `i`.
const PERMUTATION_MIX: [u64; PERMUTATIONS] = {
    let mut out = [0u64; PERMUTATIONS];
    let mut i = 0;
    while i < PERMUTATIONS {
        out[i] = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        i += 1;
    }
    out
};

/// Fold the shingle hashes into the signature (the hot loop: 64 splitmix per shingle).
#[inline(always)]
fn fold_shingles(sig: &mut Signature, bases: &[u64]) {
    for &base in bases {
        for (s, mix) in sig.iter_mut().zip(PERMUTATION_MIX.iter()) {
            let h = (splitmix(base ^ *mix) >> 32) as u32;
            *s = (*s).min(h);
        }
    }
}

/// The same loop compiled for AVX-512 (8 lanes of 64-bit multiplies); chosen at run time, so
/// the binary stays portable and the signature bit-identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn fold_shingles_avx512(sig: &mut Signature, bases: &[u64]) {
    fold_shingles(sig, bases)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_shingles_avx2(sig: &mut Signature, bases: &[u64]) {
    fold_shingles(sig, bases)
}

fn fold_shingles_dispatch(sig: &mut Signature, bases: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU supports the features the function was compiled for.
            return unsafe { fold_shingles_avx512(sig, bases) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { fold_shingles_avx2(sig, bases) };
        }
    }
    fold_shingles(sig, bases)
}

/// The MinHash signature of a description, or None when it is too short to compare.
pub fn signature(text: &str) -> Option<Signature> {
    signature_of_normalized(&crate::fields::normalize_text_fast(text))
}

/// [`signature`] of a description already passed through `normalize_text` (ingest normalizes
/// each description once and reuses it for the exact key and the signature).
pub fn signature_of_normalized(normalized: &str) -> Option<Signature> {
    let w = words_of_normalized(normalized);
    if w.len() < MIN_WORDS {
        return None;
    }
    let k = SHINGLE_WORDS.min(w.len());
    // FNV-1a of the shingle's words joined by one space, computed without building the string.
    let bases: Vec<u64> = w
        .windows(k)
        .map(|win| {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for (i, x) in win.iter().enumerate() {
                if i > 0 {
                    h ^= b' ' as u64;
                    h = h.wrapping_mul(0x0000_0100_0000_01b3);
                }
                for &b in x.as_bytes() {
                    h ^= b as u64;
                    h = h.wrapping_mul(0x0000_0100_0000_01b3);
                }
            }
            h
        })
        .collect();
    let mut sig = [u32::MAX; PERMUTATIONS];
    fold_shingles_dispatch(&mut sig, &bases);
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
    fn token_set(s: &str) -> Vec<&str> {
        let mut v: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    let (ta, tb) = (token_set(a), token_set(b));
    if ta.is_empty() && tb.is_empty() {
        return 1.0;
    }
    let inter = ta.iter().filter(|w| tb.binary_search(w).is_ok()).count();
    let union = ta.len() + tb.len() - inter;
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

    /// The original, allocation-heavy implementation: the fast one must match it bit for bit
    /// (persisted indexes hold these signatures).
    fn reference_signature(text: &str) -> Option<Signature> {
        fn fnv1a(bytes: &[u8]) -> u64 {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for &b in bytes {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            h
        }
        let w: Vec<String> = jobshift_core::normalize::normalize_text(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        if w.len() < MIN_WORDS {
            return None;
        }
        let mut sig = [u32::MAX; PERMUTATIONS];
        for win in w.windows(SHINGLE_WORDS.min(w.len())) {
            let base = fnv1a(win.join(" ").as_bytes());
            for (i, s) in sig.iter_mut().enumerate() {
                let h =
                    (splitmix(base ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 32) as u32;
                *s = (*s).min(h);
            }
        }
        Some(sig)
    }

    #[test]
    fn fast_signature_matches_reference() {
        for t in [
            "We are looking for a senior data engineer to build reliable pipelines in Python.",
            "Krankenpfleger (m/w/d) gesucht — Vollzeit, Schichtdienst, Tarif, ab sofort, Köln Süd",
            "ＦＵＬＬＷＩＤＴＨ text with ligatures ﬁne ﬂow and\u{00A0}no-break spaces, more words here",
            "short text",
        ] {
            assert_eq!(signature(t), reference_signature(t), "{t}");
        }
    }

    #[test]
    fn titles() {
        assert!(title_similarity("senior software engineer", "sr software engineer") >= 0.5);
        assert!(title_similarity("backend engineer", "frontend engineer") < 0.5);
    }
}

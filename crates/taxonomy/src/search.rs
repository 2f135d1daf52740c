//! Token search over title names and aliases (`jobshift taxonomy search`, and suggestions).
//! Hand-written because the vocabulary is ~650 titles: a full-text engine would be overkill.

use jobshift_core::normalize::normalize_title;

/// Indices of the best-matching titles for `query`, best first.
/// `keys[i]` holds title i's normalized name followed by its normalized aliases.
pub(crate) fn search(keys: &[Vec<String>], query: &str, limit: usize) -> Vec<usize> {
    let q = normalize_title(query);
    if q.is_empty() || limit == 0 {
        return Vec::new();
    }
    let q_tokens: Vec<&str> = q.split(' ').collect();
    let mut scored: Vec<(f64, usize)> = Vec::new();
    for (i, title_keys) in keys.iter().enumerate() {
        let best = title_keys
            .iter()
            .enumerate()
            // the name (index 0) wins ties over aliases
            .map(|(k, s)| score(&q, &q_tokens, s) + if k == 0 { 0.5 } else { 0.0 })
            .fold(0.0_f64, f64::max);
        if best > 1.0 {
            scored.push((best, i));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(keys[a.1][0].cmp(&keys[b.1][0])));
    scored.into_iter().take(limit).map(|(_, i)| i).collect()
}

fn score(q: &str, q_tokens: &[&str], candidate: &str) -> f64 {
    if candidate == q {
        return 1000.0;
    }
    let c_tokens: Vec<&str> = candidate.split(' ').collect();
    let mut matched = 0.0;
    let mut exact = 0usize;
    for qt in q_tokens {
        if c_tokens.contains(qt) {
            matched += 1.0;
            exact += 1;
        } else if qt.len() >= 2 && c_tokens.iter().any(|ct| ct.starts_with(qt)) {
            matched += 0.6;
        }
    }
    if matched == 0.0 {
        return 0.0;
    }
    let coverage = matched / q_tokens.len() as f64;
    let precision = exact as f64 / c_tokens.len() as f64;
    let mut s = 100.0 * coverage + 20.0 * precision;
    if candidate.contains(q) {
        s += 15.0;
    }
    if candidate.starts_with(q) {
        s += 10.0;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_partial() {
        let keys = vec![
            vec!["data engineer".to_string()],
            vec!["data scientist".to_string()],
            vec!["software engineer".to_string(), "programmer".to_string()],
        ];
        assert_eq!(search(&keys, "Data Engineer", 10)[0], 0);
        assert_eq!(search(&keys, "program", 10), vec![2]);
        assert_eq!(search(&keys, "data", 1).len(), 1);
        assert!(search(&keys, "nurse", 10).is_empty());
        assert!(search(&keys, "   ", 10).is_empty());
    }
}

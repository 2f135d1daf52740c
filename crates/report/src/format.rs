//! Number formatting shared by the HTML, Markdown and chart renderers.

/// 12345 → "12,345".
pub fn count(n: u64) -> String {
    jobshift_core::numbers::thousands(n)
}

/// A fractional count (corrected estimates), rounded.
pub fn fcount(x: f64) -> String {
    count(x.max(0.0).round() as u64)
}

/// 0.123 → "+12.3%", −0.33 → "−33.0%" (true minus sign).
pub fn pct(x: f64) -> String {
    let v = x * 100.0;
    let digits = if v.abs() >= 100.0 { 0 } else { 1 };
    let s = format!("{:.*}", digits, v.abs());
    if v > 0.0 && !s.trim_start_matches(['0', '.']).is_empty() {
        format!("+{s}%")
    } else if v < 0.0 && !s.trim_start_matches(['0', '.']).is_empty() {
        format!("\u{2212}{s}%")
    } else {
        format!("{s}%")
    }
}

/// Optional percentage ("n/a" when undefined).
pub fn opct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "n/a".into())
}

/// Difference in percentage points: 0.021 → "+2.1 pts".
pub fn pts(x: f64) -> String {
    let v = x * 100.0;
    let s = format!("{:.1}", v.abs());
    let sign = if s == "0.0" {
        ""
    } else if v > 0.0 {
        "+"
    } else {
        "\u{2212}"
    };
    format!("{sign}{s} pts")
}

pub fn opts(x: Option<f64>) -> String {
    x.map(pts).unwrap_or_else(|| "n/a".into())
}

/// "[−40.1%, −20.2%]".
pub fn ci(x: Option<(f64, f64)>) -> String {
    match x {
        Some((lo, hi)) => format!("[{}, {}]", pct(lo), pct(hi)),
        None => "n/a".into(),
    }
}

/// Share as a percentage with more digits (0.01234 → "1.23%").
pub fn share(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// How the correction's EM ended, per window year: "EM converged in 212 (2024), 198 (2025)
/// iterations (relative change < 1e-6)." or which years hit the cap.
pub fn em_summary(c: &jobshift_trends::CorrectionInfo) -> String {
    let per_year: Vec<String> = c
        .iterations
        .iter()
        .map(|(y, n)| {
            let done = c.converged.get(y).copied().unwrap_or(true);
            format!("{n} ({y}{})", if done { "" } else { ", not converged" })
        })
        .collect();
    let all = c.converged.values().all(|d| *d);
    format!(
        "EM {} in {} iterations (stops when the corrected counts change by less than {:e} of their total in an iteration; cap {}).",
        if all { "converged" } else { "did not always converge" },
        per_year.join(", "),
        c.tolerance,
        c.max_iterations
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(pct(-0.33), "\u{2212}33.0%");
        assert_eq!(pct(2.05), "+205%");
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(pts(0.021), "+2.1 pts");
        assert_eq!(ci(Some((-0.4, 0.1))), "[\u{2212}40.0%, +10.0%]");
    }
}

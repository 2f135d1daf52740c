//! Inline SVG charts for report.html.
//!
//! Hand-written on purpose: the charts are a few rectangles, lines and labels, and the Rust
//! charting crates (plotters' SVG backend, charts-rs) emit fixed-pixel drawings with no
//! `viewBox`-based scaling, pull in font stacks and do not draw interval whiskers; forty lines
//! of SVG per chart are smaller, scale cleanly on a phone and stay byte-for-byte deterministic.
//! Every chart is a `viewBox` 400 units wide with labels above the bars, so text stays legible
//! when the page is 360 px wide.

use crate::format::pct;
use std::fmt::Write;

pub const WIDTH: f64 = 400.0;
const PAD: f64 = 8.0;
const ROW: f64 = 42.0;
const TOP: f64 = 22.0;

/// One bar: a change with its interval and a caption.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
    /// Shown after the label (e.g. counts "1,234 → 827").
    pub note: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Axis domain covering values, intervals and reference lines, clamped to [−100%, +300%].
fn domain(bars: &[Bar], reference: Option<f64>) -> (f64, f64) {
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for b in bars {
        lo = lo.min(b.value);
        hi = hi.max(b.value);
        if let Some((l, h)) = b.ci {
            lo = lo.min(l);
            hi = hi.max(h);
        }
    }
    if let Some(r) = reference {
        lo = lo.min(r);
        hi = hi.max(r);
    }
    let lo = lo.max(-1.0);
    let hi = hi.min(3.0);
    let span = (hi - lo).max(0.1);
    (lo - span * 0.04, hi + span * 0.04)
}

/// Horizontal bars with 95% whiskers, a zero line and an optional dashed reference line
/// (the baseline or the family's change).
pub fn bars(bars: &[Bar], reference: Option<(f64, &str)>) -> String {
    if bars.is_empty() {
        return String::new();
    }
    let (d0, d1) = domain(bars, reference.map(|r| r.0));
    let x = |v: f64| PAD + (v.clamp(d0, d1) - d0) / (d1 - d0) * (WIDTH - 2.0 * PAD);
    let height = TOP + ROW * bars.len() as f64 + 16.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg viewBox="0 0 {WIDTH} {height:.0}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="12">"#
    );
    // gridlines every 10 or 25 points
    let step = if d1 - d0 > 1.5 {
        0.5
    } else if d1 - d0 > 0.6 {
        0.2
    } else {
        0.1
    };
    let mut g = (d0 / step).ceil() * step;
    while g <= d1 {
        let gx = x(g);
        let _ = write!(
            s,
            r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{:.1}" stroke="#e5e5e5"/>"##,
            height - 14.0
        );
        let _ = write!(
            s,
            r##"<text x="{gx:.1}" y="{:.1}" fill="#777" font-size="10" text-anchor="middle">{}</text>"##,
            height - 3.0,
            esc(&pct(g))
        );
        g += step;
    }
    let zx = x(0.0);
    let _ = write!(
        s,
        r##"<line x1="{zx:.1}" y1="{TOP}" x2="{zx:.1}" y2="{:.1}" stroke="#333"/>"##,
        height - 14.0
    );
    if let Some((r, label)) = reference {
        let rx = x(r);
        let _ = write!(
            s,
            r##"<line x1="{rx:.1}" y1="{:.1}" x2="{rx:.1}" y2="{:.1}" stroke="#555" stroke-dasharray="4 3"/><text x="{:.1}" y="12" fill="#555" font-size="11" text-anchor="{}">{} {}</text>"##,
            TOP - 4.0,
            height - 14.0,
            rx,
            if rx > WIDTH / 2.0 { "end" } else { "start" },
            esc(label),
            esc(&pct(r))
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y0 = TOP + ROW * i as f64;
        let _ = write!(
            s,
            r##"<text x="{PAD}" y="{:.1}" fill="#111"><tspan font-weight="600">{}</tspan> <tspan fill="#444">{} {}</tspan></text>"##,
            y0 + 13.0,
            esc(&b.label),
            esc(&pct(b.value)),
            esc(&b.note)
        );
        let (a, c) = (x(0.0), x(b.value));
        let color = if b.value < 0.0 { "#c0392b" } else { "#2471a3" };
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="14" fill="{color}" opacity="0.85"/>"#,
            a.min(c),
            y0 + 19.0,
            (c - a).abs().max(1.0)
        );
        if let Some((lo, hi)) = b.ci {
            let (l, h) = (x(lo), x(hi));
            let yy = y0 + 26.0;
            let _ = write!(
                s,
                r##"<line x1="{l:.1}" y1="{yy:.1}" x2="{h:.1}" y2="{yy:.1}" stroke="#111" stroke-width="1.5"/><line x1="{l:.1}" y1="{:.1}" x2="{l:.1}" y2="{:.1}" stroke="#111"/><line x1="{h:.1}" y1="{:.1}" x2="{h:.1}" y2="{:.1}" stroke="#111"/>"##,
                yy - 5.0,
                yy + 5.0,
                yy - 5.0,
                yy + 5.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// One trajectory: the changes of consecutive years (oldest first).
#[derive(Debug, Clone)]
pub struct Trajectory {
    pub label: String,
    /// (year, change) pairs.
    pub points: Vec<(i32, f64)>,
}

/// Dumbbells: for each title, a hollow dot at the earlier year's change and an arrow to the
/// latest year's (filled) — the study's two-year trajectory and its acceleration at a glance.
pub fn trajectories(rows: &[Trajectory], baseline: &[(i32, f64)]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let fake: Vec<Bar> = rows
        .iter()
        .flat_map(|r| {
            r.points.iter().map(|p| Bar {
                label: String::new(),
                value: p.1,
                ci: None,
                note: String::new(),
            })
        })
        .chain(baseline.iter().map(|p| Bar {
            label: String::new(),
            value: p.1,
            ci: None,
            note: String::new(),
        }))
        .collect();
    let (d0, d1) = domain(&fake, None);
    let x = |v: f64| PAD + (v.clamp(d0, d1) - d0) / (d1 - d0) * (WIDTH - 2.0 * PAD);
    let row = 34.0;
    let height = TOP + row * rows.len() as f64 + 16.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg viewBox="0 0 {WIDTH} {height:.0}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="12">"#
    );
    let zx = x(0.0);
    let _ = write!(
        s,
        r##"<line x1="{zx:.1}" y1="{TOP}" x2="{zx:.1}" y2="{:.1}" stroke="#333"/>"##,
        height - 14.0
    );
    let _ = write!(
        s,
        r##"<text x="{zx:.1}" y="{:.1}" fill="#777" font-size="10" text-anchor="middle">0%</text>"##,
        height - 3.0
    );
    let years: Vec<String> = rows
        .first()
        .map(|r| r.points.iter().map(|p| p.0.to_string()).collect())
        .unwrap_or_default();
    let _ = write!(
        s,
        r##"<text x="{PAD}" y="12" fill="#555" font-size="11">○ {} change → ● {} change</text>"##,
        years.first().cloned().unwrap_or_default(),
        years.last().cloned().unwrap_or_default()
    );
    for (i, r) in rows.iter().enumerate() {
        let y0 = TOP + row * i as f64;
        let last = r.points.last().map(|p| p.1).unwrap_or(0.0);
        let first = r.points.first().map(|p| p.1).unwrap_or(0.0);
        let _ = write!(
            s,
            r##"<text x="{PAD}" y="{:.1}" fill="#111"><tspan font-weight="600">{}</tspan> <tspan fill="#444">{} → {}</tspan></text>"##,
            y0 + 12.0,
            esc(&r.label),
            esc(&pct(first)),
            esc(&pct(last))
        );
        let yy = y0 + 23.0;
        let (a, b) = (x(first), x(last));
        let color = if last < first { "#c0392b" } else { "#2471a3" };
        let _ = write!(
            s,
            r##"<line x1="{a:.1}" y1="{yy:.1}" x2="{b:.1}" y2="{yy:.1}" stroke="{color}" stroke-width="2"/><circle cx="{a:.1}" cy="{yy:.1}" r="4" fill="#fff" stroke="{color}" stroke-width="1.5"/><circle cx="{b:.1}" cy="{yy:.1}" r="4.5" fill="{color}"/>"##
        );
    }
    s.push_str("</svg>");
    s
}

/// A small line chart of yearly counts (watch list), with the baseline rescaled to the same
/// first-year value as a dashed line, so "falls faster than the market" is visible.
pub fn counts_line(label: &str, counts: &[(i32, f64)], baseline: &[(i32, f64)]) -> String {
    if counts.len() < 2 {
        return String::new();
    }
    let h = 150.0;
    let (l, r, t, b) = (40.0, 20.0, 24.0, 22.0);
    let first = counts[0].1.max(1.0);
    let bfirst = baseline.first().map(|p| p.1).unwrap_or(1.0).max(1.0);
    let scaled: Vec<f64> = baseline.iter().map(|p| p.1 / bfirst * first).collect();
    let maxv = counts
        .iter()
        .map(|p| p.1)
        .chain(scaled.iter().copied())
        .fold(1.0f64, f64::max)
        * 1.1;
    let n = counts.len() as f64 - 1.0;
    let px = |i: usize| l + (WIDTH - l - r) * i as f64 / n;
    let py = |v: f64| t + (h - t - b) * (1.0 - v / maxv);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg viewBox="0 0 {WIDTH} {h}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="12"><text x="{l}" y="14" font-weight="600">{}</text><line x1="{l}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/>"##,
        esc(label),
        h - b,
        WIDTH - r,
        h - b
    );
    let path = |vals: &[f64]| -> String {
        vals.iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{}{:.1},{:.1}",
                    if i == 0 { "M" } else { "L" },
                    px(i),
                    py(*v)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    if scaled.len() == counts.len() {
        let _ = write!(
            s,
            r##"<path d="{}" fill="none" stroke="#888" stroke-dasharray="4 3"/>"##,
            path(&scaled)
        );
    }
    let vals: Vec<f64> = counts.iter().map(|p| p.1).collect();
    let _ = write!(
        s,
        r##"<path d="{}" fill="none" stroke="#c0392b" stroke-width="2"/>"##,
        path(&vals)
    );
    for (i, (y, v)) in counts.iter().enumerate() {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#c0392b"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" font-size="10" fill="#777" text-anchor="middle">{y}</text>"##,
            px(i),
            py(*v),
            px(i),
            py(*v) - 7.0,
            crate::format::fcount(*v),
            px(i),
            h - 6.0
        );
    }
    s.push_str("</svg>");
    s
}

/// A monthly line chart: counts (thin), the 3-month moving average and the seasonally adjusted
/// series (thick), with a year tick under each January.
pub fn monthly_line(
    label: &str,
    months: &[String],
    lines: &[(&str, &str, Vec<Option<f64>>)],
) -> String {
    if months.len() < 2 || lines.is_empty() {
        return String::new();
    }
    let h = 170.0;
    let (l, r, t, b) = (44.0, 12.0, 36.0, 22.0);
    let maxv = lines
        .iter()
        .flat_map(|x| x.2.iter().flatten().copied())
        .fold(1.0f64, f64::max)
        * 1.1;
    let n = months.len() as f64 - 1.0;
    let px = |i: usize| l + (WIDTH - l - r) * i as f64 / n;
    let py = |v: f64| t + (h - t - b) * (1.0 - v.max(0.0) / maxv);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg viewBox="0 0 {WIDTH} {h}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="12"><text x="{l}" y="14" font-weight="600">{}</text><line x1="{l}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#777" text-anchor="end">{}</text>"##,
        esc(label),
        h - b,
        WIDTH - r,
        h - b,
        l - 4.0,
        t + 4.0,
        crate::format::fcount(maxv / 1.1)
    );
    let mut lx = l;
    for (name, colour, _) in lines {
        let _ = write!(
            s,
            r##"<line x1="{lx:.1}" y1="25" x2="{:.1}" y2="25" stroke="{colour}" stroke-width="2"/><text x="{:.1}" y="29" font-size="10">{}</text>"##,
            lx + 14.0,
            lx + 17.0,
            esc(name)
        );
        lx += 24.0 + 6.0 * name.chars().count() as f64;
    }
    for (i, m) in months.iter().enumerate() {
        if m.ends_with("-01") {
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}" stroke="#ccc"/><text x="{x:.1}" y="{:.1}" font-size="10" fill="#777" text-anchor="start">{}</text>"##,
                h - 6.0,
                &m[..4],
                x = px(i),
                y0 = t,
                y1 = h - b,
            );
        }
    }
    for (k, (_, colour, vals)) in lines.iter().enumerate() {
        let mut d = String::new();
        let mut pen_up = true;
        for (i, v) in vals.iter().enumerate() {
            match v {
                Some(v) if v.is_finite() => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen_up { "M" } else { "L" },
                        px(i),
                        py(*v)
                    );
                    pen_up = false;
                }
                _ => pen_up = true,
            }
        }
        let width = if k == 0 { 1.0 } else { 2.0 };
        let _ = write!(
            s,
            r##"<path d="{}" fill="none" stroke="{colour}" stroke-width="{width}"/>"##,
            d.trim_end()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_escaped_and_scaled() {
        let svg = bars(
            &[
                Bar {
                    label: "R&D <Eng>".into(),
                    value: -0.3,
                    ci: Some((-0.4, -0.2)),
                    note: "(10 → 7)".into(),
                },
                Bar {
                    label: "B".into(),
                    value: 5.0,
                    ci: Some((1.0, 9.0)),
                    note: String::new(),
                },
            ],
            Some((-0.08, "All postings")),
        );
        assert!(svg.starts_with("<svg viewBox=\"0 0 400"));
        assert!(svg.contains("R&amp;D &lt;Eng&gt;"));
        assert!(!svg.contains("NaN"));
        // clamped: nothing drawn beyond the width
        for part in svg.split("x2=\"").skip(1) {
            let v: f64 = part.split('"').next().unwrap().parse().unwrap();
            assert!(v <= WIDTH);
        }
    }
}

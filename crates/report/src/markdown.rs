//! report.md: the same findings as report.html in Markdown tables (for issues, notebooks, diffs).

use crate::format::{ci, count, fcount, opct, opts, pct, share};
use jobshift_trends::{RankBy, Series, Trends};
use std::fmt::Write;

fn mover_table(out: &mut String, t: &Trends, ids: &[String]) {
    let (y, p) = (t.latest_year(), t.previous_year());
    let _ = writeln!(
        out,
        "| Title | {p} | {y} | Change | 95% CI | Excess | Share change |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---:|---:|");
    for id in ids {
        let Some(s) = t.title(id) else { continue };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            count(s.count(p)),
            count(s.count(y)),
            opct(s.change_in(y)),
            ci(s.ci95.get(&y).copied().flatten()),
            opts(s.excess.get(&y).copied().flatten()),
            opct(s.excess_ratio.get(&y).copied().flatten())
        );
    }
    out.push('\n');
}

fn group_table(out: &mut String, t: &Trends, rows: &[&Series]) {
    let y = t.latest_year();
    let _ = write!(out, "| Group |");
    for yy in &t.years {
        let _ = write!(out, " {yy} |");
    }
    let _ = writeln!(out, " Change | 95% CI | Excess | Acceleration |");
    let _ = write!(out, "|---|");
    for _ in &t.years {
        out.push_str("---:|");
    }
    out.push_str("---:|---|---:|---:|\n");
    for s in rows {
        let _ = write!(out, "| {} |", s.name);
        for yy in &t.years {
            let _ = write!(out, " {} |", count(s.count(*yy)));
        }
        let _ = writeln!(
            out,
            " {} | {} | {} | {} |",
            opct(s.change_in(y)),
            ci(s.ci95.get(&y).copied().flatten()),
            opts(s.excess.get(&y).copied().flatten()),
            opts(s.acceleration.get(&y).copied().flatten())
        );
    }
    out.push('\n');
}

pub(crate) fn render(t: &Trends) -> String {
    let (y, p) = (t.latest_year(), t.previous_year());
    let mut o = String::new();
    let _ = writeln!(o, "# Which jobs are growing, which are disappearing\n");
    let _ = writeln!(
        o,
        "Window {}–{} of {}; dataset `{}`; taxonomy {}{}{}.\n",
        t.window.from.month_name(),
        t.window.to.month_name(),
        t.years
            .iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        t.inputs.dataset,
        t.inputs.taxonomy_version,
        if t.panel.is_some() {
            "; company panel"
        } else {
            ""
        },
        if t.correction.is_some() {
            "; corrected for misclassification"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "**All postings:** {} → {} ({} {y} vs {p}, 95% CI {}). Unclassified in {y}: {} ({} of all, counted in the baseline).\n",
        count(t.baseline.count(p)),
        count(t.baseline.count(y)),
        opct(t.baseline.change_in(y)),
        ci(t.baseline.ci95.get(&y).copied().flatten()),
        count(t.unclassified.count(y)),
        share(t.unclassified.share.get(&y).copied().unwrap_or(0.0))
    );
    let _ = writeln!(o, "> {}\n", t.market.note);
    let what = match t.movers.metric {
        RankBy::Change => "change in postings",
        RankBy::Share => "change in share of all postings",
    };
    let _ = writeln!(
        o,
        "## Biggest decliners\n\nRanked by {what}; titles with at least {} postings in {p}.\n",
        count(t.min_postings)
    );
    mover_table(&mut o, t, &t.movers.decliners);
    let _ = writeln!(o, "## Biggest gainers\n");
    mover_table(&mut o, t, &t.movers.gainers);
    if !t.movers.emerging.is_empty() {
        let _ = writeln!(o, "## Emerging (below the volume rule)\n");
        mover_table(&mut o, t, &t.movers.emerging);
    }
    let _ = writeln!(o, "## Seniority tiers\n");
    let mut tiers: Vec<&Series> = vec![&t.baseline];
    tiers.extend(t.tiers.iter());
    group_table(&mut o, t, &tiers);
    let _ = writeln!(o, "## Families\n");
    let fams: Vec<&Series> = t.families.iter().collect();
    group_table(&mut o, t, &fams);
    if !t.divergence.is_empty() {
        let _ = writeln!(o, "## Within-family divergence\n\n| Title | Family | Title change | Rest of family | Divergence | Outside CI |\n|---|---|---:|---:|---:|---|");
        for d in t
            .divergence
            .iter()
            .filter(|d| d.divergence.abs() >= 0.05)
            .take(20)
        {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                d.title_name,
                d.family_name,
                pct(d.title_change),
                pct(d.rest_change),
                crate::format::pts(d.divergence),
                if d.significant { "yes" } else { "no" }
            );
        }
        o.push('\n');
    }
    if !t.watch.is_empty() {
        let _ = writeln!(o, "## Watch list\n");
        let w: Vec<&Series> = t.watch.iter().filter_map(|id| t.title(id)).collect();
        group_table(&mut o, t, &w);
    }
    if let Some(c) = &t.correction {
        let _ = writeln!(
            o,
            "## Raw and corrected for misclassification\n\n{} — confusion matrix `{}`. {}\n",
            c.method,
            c.confusion_file,
            crate::format::em_summary(c)
        );
        let _ = writeln!(o, "| Title | Raw {p} | Raw {y} | Raw change | Corrected {p} | Corrected {y} | Corrected change |\n|---|---:|---:|---:|---:|---:|---:|");
        for s in t.titles.iter().filter(|s| s.ranked) {
            let cc = s.corrected_counts.clone().unwrap_or_default();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                s.name,
                count(s.count(p)),
                count(s.count(y)),
                opct(s.change_in(y)),
                fcount(cc.get(&p).copied().unwrap_or(0.0)),
                fcount(cc.get(&y).copied().unwrap_or(0.0)),
                opct(
                    s.corrected_change
                        .as_ref()
                        .and_then(|m| m.get(&y).copied().flatten())
                )
            );
        }
        o.push('\n');
    }
    if let Some(pi) = &t.panel {
        let _ = writeln!(
            o,
            "## Company panel\n\n{} of {} companies posted in every window.\n",
            count(pi.companies),
            count(pi.companies_all)
        );
    }
    let _ = writeln!(o, "## Method and inputs\n");
    let _ = writeln!(
        o,
        "- Windows: {} to {} ({}).",
        t.window.from, t.window.to, t.window.rule
    );
    let _ = writeln!(o, "- Intervals: {}.", t.ci_method);
    let _ = writeln!(o, "- Volume rule: {}.", t.min_postings_rule);
    for n in &t.notes {
        let _ = writeln!(o, "- {n}");
    }
    let _ = writeln!(o, "- Caveats: postings are not hires; ghost postings exist; relative movement between titles is the robust reading.\n");
    let _ = writeln!(
        o,
        "```json\n{}\n```",
        serde_json::to_string_pretty(&t.inputs).unwrap_or_default()
    );
    o
}

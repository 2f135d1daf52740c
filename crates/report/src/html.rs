//! report.html: one self-contained page (inline CSS and SVG, no scripts, no external requests),
//! rendered with minijinja from `templates/report.html`.

use crate::format::{ci, count, fcount, opct, opts, pct, share};
use crate::svg::{self, Bar, Trajectory};
use crate::ReportError;
use jobshift_trends::{RankBy, Series, Trends};
use minijinja::{context, Environment};
use serde_json::{json, Value};

const TEMPLATE: &str = include_str!("../templates/report.html");

fn cls(x: Option<f64>) -> &'static str {
    match x {
        Some(v) if v < 0.0 => "neg",
        Some(v) if v > 0.0 => "pos",
        _ => "",
    }
}

pub(crate) fn metric_of(t: &Trends, s: &Series) -> (Option<f64>, Option<(f64, f64)>) {
    let y = t.latest_year();
    match t.movers.metric {
        RankBy::Change => (s.change_in(y), s.ci95.get(&y).copied().flatten()),
        RankBy::Share => (
            s.excess_ratio.get(&y).copied().flatten(),
            s.excess_ratio_ci95.get(&y).copied().flatten(),
        ),
    }
}

fn bar(t: &Trends, s: &Series) -> Option<Bar> {
    let (y, p) = (t.latest_year(), t.previous_year());
    let (v, c) = metric_of(t, s);
    let counts = format!("{} → {}", count(s.count(p)), count(s.count(y)));
    Some(Bar {
        label: s.name.clone(),
        value: v?,
        ci: c,
        // ranked by share, the bar is the change in share while the counts are postings: say so
        note: match t.movers.metric {
            RankBy::Change => format!("({counts})"),
            RankBy::Share => format!("in share (postings {counts})"),
        },
    })
}

fn reference(t: &Trends) -> Option<(f64, &'static str)> {
    match t.movers.metric {
        RankBy::Change => t
            .baseline
            .change_in(t.latest_year())
            .map(|g| (g, "All postings")),
        RankBy::Share => None,
    }
}

fn row(t: &Trends, s: &Series) -> Value {
    let (y, p) = (t.latest_year(), t.previous_year());
    json!({
        "name": s.name,
        "prev_count": count(s.count(p)),
        "count": count(s.count(y)),
        "change": opct(s.change_in(y)),
        "cls": cls(s.change_in(y)),
        "ci": ci(s.ci95.get(&y).copied().flatten()),
        "excess": opts(s.excess.get(&y).copied().flatten()),
        "excess_ratio": opct(s.excess_ratio.get(&y).copied().flatten()),
        "change_prev": if t.years.len() >= 3 { opct(s.change_in(p)) } else { "n/a".to_string() },
        "companies": count(s.companies.get(&y).copied().unwrap_or(0)),
    })
}

/// Bars for the market and each seniority tier, the market first.
fn tier_bars(t: &Trends) -> Vec<Bar> {
    let (y, p) = (t.latest_year(), t.previous_year());
    let mut tier_bars: Vec<Bar> = t
        .tiers
        .iter()
        .filter_map(|s| {
            let g = s.change_in(y)?;
            Some(Bar {
                label: s.name.clone(),
                value: g,
                ci: s.ci95.get(&y).copied().flatten(),
                note: format!("({} → {})", count(s.count(p)), count(s.count(y))),
            })
        })
        .collect();
    if let Some(g) = t.baseline.change_in(y) {
        tier_bars.insert(
            0,
            Bar {
                label: "All postings".into(),
                value: g,
                ci: t.baseline.ci95.get(&y).copied().flatten(),
                note: format!(
                    "({} → {})",
                    count(t.baseline.count(p)),
                    count(t.baseline.count(y))
                ),
            },
        );
    }
    tier_bars
}

/// Families as small multiples: families with at least two ranked titles, by volume.
fn family_multiples(t: &Trends) -> Vec<Value> {
    let (y, p) = (t.latest_year(), t.previous_year());
    let mut families = Vec::new();
    for f in &t.families {
        let mut members: Vec<&Series> = t
            .titles
            .iter()
            .filter(|s| s.ranked && s.family.as_deref() == Some(f.id.as_str()))
            .collect();
        if members.len() < 2 {
            continue;
        }
        members.sort_by(|a, b| b.count(p).cmp(&a.count(p)).then_with(|| a.id.cmp(&b.id)));
        members.truncate(8);
        let bars: Vec<Bar> = members
            .iter()
            .filter_map(|s| {
                Some(Bar {
                    label: s.name.clone(),
                    value: s.change_in(y)?,
                    ci: s.ci95.get(&y).copied().flatten(),
                    note: format!("({} → {})", count(s.count(p)), count(s.count(y))),
                })
            })
            .collect();
        let svg = svg::bars(&bars, f.change_in(y).map(|g| (g, "Family")));
        families.push(json!({
            "name": f.name, "change": opct(f.change_in(y)),
            "prev_count": count(f.count(p)), "count": count(f.count(y)), "svg": svg,
        }));
        if families.len() >= 16 {
            break;
        }
    }
    families
}

/// The movers' changes in the last two compared years, beside the market's (three years or more).
fn trajectory_svg(t: &Trends) -> String {
    let (y, p) = (t.latest_year(), t.previous_year());
    if t.years.len() < 3 {
        return String::new();
    }
    let rows: Vec<Trajectory> = t
        .movers
        .decliners
        .iter()
        .chain(t.movers.gainers.iter())
        .filter_map(|id| t.title(id))
        .filter_map(|s| {
            Some(Trajectory {
                label: s.name.clone(),
                points: vec![(p, s.change_in(p)?), (y, s.change_in(y)?)],
            })
        })
        .collect();
    let base: Vec<(i32, f64)> = [p, y]
        .iter()
        .filter_map(|yy| Some((*yy, t.baseline.change_in(*yy)?)))
        .collect();
    svg::trajectories(&rows, &base)
}

/// One card per watched title: its counts against the market's, and its changes year by year.
fn watch_cards(t: &Trends) -> Vec<Value> {
    let y = t.latest_year();
    let baseline_counts: Vec<(i32, f64)> = t
        .years
        .iter()
        .map(|yy| (*yy, t.baseline.count(*yy) as f64))
        .collect();
    t.watch
        .iter()
        .filter_map(|id| t.title(id))
        .map(|s| {
            let counts: Vec<(i32, f64)> = t.years.iter().map(|yy| (*yy, s.count(*yy) as f64)).collect();
            let traj: Vec<String> = t.years.iter().skip(1).map(|yy| format!("{yy}: {} {}", opct(s.change_in(*yy)), ci(s.ci95.get(yy).copied().flatten()))).collect();
            let acc = s.acceleration.get(&y).copied().flatten().map(|a| format!("; acceleration {}", crate::format::pts(a))).unwrap_or_default();
            json!({"svg": svg::counts_line(&s.name, &counts, &baseline_counts), "text": format!("{}{acc}", traj.join("; "))})
        })
        .collect()
}

/// One monthly line chart: postings, their 3-month average and, when computed, the seasonally
/// adjusted series.
fn monthly_chart(label: &str, points: &[jobshift_trends::MonthPoint]) -> String {
    let months: Vec<String> = points.iter().map(|p| p.month.to_string()).collect();
    let mut lines: Vec<(&str, &str, Vec<Option<f64>>)> = vec![
        (
            "postings",
            "#bbb",
            points.iter().map(|p| Some(p.count as f64)).collect(),
        ),
        (
            "3-month average",
            "#2c7fb8",
            points.iter().map(|p| p.ma3).collect(),
        ),
    ];
    if points.iter().any(|p| p.sa.is_some()) {
        lines.push((
            "seasonally adjusted",
            "#c0392b",
            points.iter().map(|p| p.sa).collect(),
        ));
    }
    svg::monthly_line(label, &months, &lines)
}

/// Monthly charts: the market, each tier, each watched title.
fn monthly_svgs(t: &Trends) -> Vec<String> {
    let mut monthly_svgs: Vec<String> = vec![monthly_chart("All postings", &t.monthly.market)];
    for s in &t.tiers {
        if let Some(p) = t.monthly.tiers.get(&s.id) {
            monthly_svgs.push(monthly_chart(&s.name, p));
        }
    }
    for id in &t.watch {
        if let (Some(s), Some(p)) = (t.title(id), t.monthly.titles.get(id)) {
            monthly_svgs.push(monthly_chart(&s.name, p));
        }
    }
    monthly_svgs
}

/// Table rows for the given titles.
fn rows<'a>(t: &Trends, ids: impl Iterator<Item = &'a String>) -> Vec<Value> {
    ids.filter_map(|id| t.title(id))
        .map(|s| row(t, s))
        .collect()
}

/// Titles whose change differs most from the rest of their family.
fn divergence_rows(t: &Trends) -> Vec<Value> {
    t.divergence
        .iter()
        .filter(|d| d.divergence.abs() >= 0.05)
        .take(20)
        .map(|d| json!({"title": d.title_name, "family": d.family_name, "title_change": pct(d.title_change), "rest_change": pct(d.rest_change), "divergence": crate::format::pts(d.divergence), "significant": if d.significant { "yes" } else { "no" }}))
        .collect()
}

/// Raw beside corrected counts and changes for the ranked titles (empty without a correction).
fn corrected_rows(t: &Trends) -> Vec<Value> {
    let (y, p) = (t.latest_year(), t.previous_year());
    if t.correction.is_none() {
        return Vec::new();
    }
    t.titles
        .iter()
        .filter(|s| s.ranked)
        .map(|s| {
            let c = s.corrected_counts.clone().unwrap_or_default();
            let cc = s.corrected_change.as_ref().and_then(|m| m.get(&y).copied().flatten());
            json!({"name": s.name, "raw_prev": count(s.count(p)), "raw": count(s.count(y)), "raw_change": opct(s.change_in(y)),
                   "cor_prev": fcount(c.get(&p).copied().unwrap_or(0.0)), "cor": fcount(c.get(&y).copied().unwrap_or(0.0)), "cor_change": opct(cc)})
        })
        .collect()
}

fn correction_text(t: &Trends) -> String {
    t.correction
        .as_ref()
        .map(|c| {
            format!(
                "Method: {}. Confusion matrix {} ({} labelled examples, {} titles). {}",
                c.method,
                c.confusion_file,
                c.examples,
                c.titles_covered,
                crate::format::em_summary(c)
            )
        })
        .unwrap_or_default()
}

fn panel_text(t: &Trends) -> Option<String> {
    t.panel.as_ref().map(|pi| format!(
        "Restricted to the {} of {} companies that posted in every window ({}). Postings kept per window: {}.",
        count(pi.companies), count(pi.companies_all),
        t.years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", "),
        t.years.iter().map(|y| format!("{y}: {} of {}", count(pi.postings_panel.get(y).copied().unwrap_or(0)), count(pi.postings_all.get(y).copied().unwrap_or(0)))).collect::<Vec<_>>().join("; ")
    ))
}

/// The appendix table: every title, counts for every year.
fn all_rows(t: &Trends) -> Vec<Value> {
    let y = t.latest_year();
    t.titles
        .iter()
        .map(|s| json!({
            "name": s.name, "counts": t.years.iter().map(|yy| count(s.count(*yy))).collect::<Vec<_>>(),
            "change": opct(s.change_in(y)), "cls": cls(s.change_in(y)), "ci": ci(s.ci95.get(&y).copied().flatten()),
            "excess": opts(s.excess.get(&y).copied().flatten()), "ranked": if s.ranked { "yes" } else { "no" },
        }))
        .collect()
}

fn tier_cards(t: &Trends) -> Vec<Value> {
    let (y, p) = (t.latest_year(), t.previous_year());
    t.tiers
        .iter()
        .map(|s| json!({"name": s.name, "change": opct(s.change_in(y)), "cls": cls(s.change_in(y)), "prev_count": count(s.count(p)), "count": count(s.count(y)), "excess": opts(s.excess.get(&y).copied().flatten())}))
        .collect()
}

/// Bars for ranked movers (decliners or gainers).
fn mover_bars(t: &Trends, ids: &[String]) -> Vec<Bar> {
    ids.iter()
        .filter_map(|id| t.title(id))
        .filter_map(|s| bar(t, s))
        .collect()
}

pub(crate) fn render(t: &Trends) -> Result<String, ReportError> {
    let (y, p) = (t.latest_year(), t.previous_year());
    let pp = if t.years.len() >= 3 {
        t.years[t.years.len() - 3].to_string()
    } else {
        "—".into()
    };
    let decl = mover_bars(t, &t.movers.decliners);
    let gain = mover_bars(t, &t.movers.gainers);
    let reference = reference(t);
    let tiers_svg = svg::bars(&tier_bars(t), None);
    let mover_rows = rows(t, t.movers.decliners.iter().chain(t.movers.gainers.iter()));
    let emerging_rows = rows(t, t.movers.emerging.iter());

    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| ReportError::Template(e.to_string()))?;
    let tmpl = env
        .get_template("report.html")
        .map_err(|e| ReportError::Template(e.to_string()))?;
    let inputs_json = serde_json::to_string_pretty(&t.inputs).unwrap_or_default();
    let html = tmpl
        .render(context! {
            window_text => format!("{}–{} of each year", t.window.from.month_name(), t.window.to.month_name()),
            years_text => t.years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(" · "),
            years => t.years,
            dataset => t.inputs.dataset,
            taxonomy_version => t.inputs.taxonomy_version,
            latest => y, prev => p, prev_prev => pp,
            baseline => json!({"change": opct(t.baseline.change_in(y)), "cls": cls(t.baseline.change_in(y)), "prev_count": count(t.baseline.count(p)), "count": count(t.baseline.count(y)), "ci": ci(t.baseline.ci95.get(&y).copied().flatten())}),
            tier_cards => tier_cards(t),
            unclassified => json!({"count": count(t.unclassified.count(y)), "share": share(t.unclassified.share.get(&y).copied().unwrap_or(0.0))}),
            market_note => t.market.note,
            metric_text => match t.movers.metric { RankBy::Change => "change in postings,", RankBy::Share => "change in share of all postings,", },
            min_postings => count(t.min_postings),
            decliners_svg => if decl.is_empty() { "<p class=\"muted\">No ranked title declined.</p>".to_string() } else { svg::bars(&decl, reference) },
            gainers_svg => if gain.is_empty() { "<p class=\"muted\">No ranked title grew.</p>".to_string() } else { svg::bars(&gain, reference) },
            mover_rows => mover_rows,
            emerging_rows => emerging_rows,
            tiers_svg => tiers_svg,
            trajectory_svg => trajectory_svg(t),
            watch => watch_cards(t),
            monthly_svgs => monthly_svgs(t),
            monthly_method => t.monthly.seasonal_adjustment,
            families => family_multiples(t),
            divergence_rows => divergence_rows(t),
            corrected => t.correction.is_some(),
            corrected_rows => corrected_rows(t),
            correction_text => correction_text(t),
            panel => panel_text(t),
            title_count => t.titles.len(),
            all_rows => all_rows(t),
            window_rule => format!("{} to {} ({}), against the same months of {}", t.window.from, t.window.to, t.window.rule, t.years.iter().rev().skip(1).map(|y| y.to_string()).collect::<Vec<_>>().join(", ")),
            ci_method => t.ci_method,
            min_rule => t.min_postings_rule,
            notes => t.notes,
            inputs_json => inputs_json,
            version => t.inputs.jobshift_version,
        })
        .map_err(|e| ReportError::Template(e.to_string()))?;
    Ok(html)
}

//! The aggregation plans. Everything that touches postings runs on the engine as SQL:
//!
//! 1. `cell`: distinct postings per (company, title, window year) — the only scan of the
//!    dataset; cached in memory (it is orders of magnitude smaller than the postings).
//! 2. `--panel`: `cell` restricted to companies with postings in every window.
//! 3. one grouped plan per level (baseline, titles, tiers, families) over `cell`, returning
//!    per-year counts and the company-level sums the clustered intervals need
//!    (see [`crate::stats`]).
//!
//! The SQL is plain ANSI (CASE, COALESCE, NULLIF, ||, DATE literals), so the same text runs on
//! DuckDB in `benches/trends` and on a Ballista cluster.

use crate::engine::{numbers, query, strings};
use crate::stats::PairSums;
use crate::window::Window;
use crate::TrendsError;
use datafusion::prelude::SessionContext;

/// The `cell` plan: distinct postings per company, title and window year.
pub fn cell_sql(window: &Window, assume_unique: bool) -> String {
    let mut case = String::from("CASE");
    let mut filter = Vec::new();
    for &y in &window.years {
        let (a, b) = window.bounds(y);
        case.push_str(&format!(
            " WHEN posted_date >= DATE '{a}' AND posted_date < DATE '{b}' THEN {y}"
        ));
        filter.push(format!(
            "(posted_date >= DATE '{a}' AND posted_date < DATE '{b}')"
        ));
    }
    case.push_str(" END");
    let count = if assume_unique {
        "COUNT(*)"
    } else {
        "COUNT(DISTINCT posting_id)"
    };
    format!(
        "SELECT company, title_id, yr, {count} AS n FROM (\
           SELECT COALESCE(NULLIF(lower(trim(company)), ''), '~' || posting_id) AS company, \
                  title_id, {case} AS yr, posting_id \
           FROM postings WHERE {filter}) b \
         GROUP BY company, title_id, yr",
        filter = filter.join(" OR ")
    )
}

/// Restrict `cell_all` to companies present in every window. Postings without a company name
/// (clustered as their own singleton "company" `~posting_id`) cannot be followed and are left out.
///
/// Written as a join with the (small) set of panel companies first: under a memory limit the
/// engine keeps the written join order and builds its hash table on the first input.
pub fn panel_sql(years: usize) -> String {
    format!(
        "SELECT c.company AS company, c.title_id AS title_id, c.yr AS yr, c.n AS n FROM (\
           SELECT company FROM cell_all WHERE company NOT LIKE '~%' \
           GROUP BY company HAVING COUNT(DISTINCT yr) = {years}) p \
         JOIN cell_all c ON c.company = p.company"
    )
}

/// Grouping levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Baseline,
    Title,
    Tier,
    Family,
}

impl Level {
    fn key(self) -> &'static str {
        match self {
            Level::Baseline => "'all'",
            Level::Title => "c.title_id",
            Level::Tier => "m.tier",
            Level::Family => "m.family",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Title => "titles",
            Level::Tier => "tiers",
            Level::Family => "families",
        }
    }
}

/// The grouped plan of one level over `cell` (and `title_map`: title_id → tier, family).
///
/// `ac` (one row per company) is written first so it is the hash join's build side: a hash
/// join cannot spill, and its other input (`kc`, one row per group × company: tens of millions
/// at 100M postings) would otherwise be held in memory whole. Likewise `title_map` comes before
/// `cell` in the tier and family plans (the title plan needs no join). Under a memory limit the
/// engine keeps the written order (`join_reordering` off, see [`crate::engine::new_session`]):
/// its statistics once picked `kc` (families × companies) as the build side.
pub fn group_sql(level: Level, years: &[i32]) -> String {
    let key = level.key();
    // tier and family: an inner join (the key comes from title_map, and groups without one are
    // dropped); titles and the baseline need no taxonomy column
    let from = match level {
        Level::Baseline | Level::Title => "cell c",
        Level::Tier | Level::Family => "title_map m JOIN cell c ON c.title_id = m.title_id",
    };
    let a_cols: Vec<String> = years
        .iter()
        .map(|y| format!("SUM(CASE WHEN yr = {y} THEN n ELSE 0 END) AS a_{y}"))
        .collect();
    let n_cols: Vec<String> = years
        .iter()
        .map(|y| format!("SUM(CASE WHEN c.yr = {y} THEN c.n ELSE 0 END) AS n_{y}"))
        .collect();
    let mut out_cols = vec!["kc.k AS k".to_string(), "COUNT(*) AS companies".to_string()];
    for y in years {
        out_cols.push(format!("SUM(n_{y}) AS y_{y}"));
        out_cols.push(format!("SUM(n_{y} * n_{y}) AS sq_{y}"));
        out_cols.push(format!(
            "SUM(CASE WHEN n_{y} > 0 THEN 1 ELSE 0 END) AS c_{y}"
        ));
    }
    for w in years.windows(2) {
        let (p, c) = (w[0], w[1]);
        out_cols.push(format!("SUM(n_{c} * n_{p}) AS x_{c}"));
        out_cols.push(format!(
            "SUM(CASE WHEN n_{c} + n_{p} > 0 THEN 1 ELSE 0 END) AS cp_{c}"
        ));
        out_cols.push(format!("SUM(n_{c} * a_{c}) AS tacc_{c}"));
        out_cols.push(format!("SUM(n_{c} * a_{p}) AS tacp_{c}"));
        out_cols.push(format!("SUM(n_{p} * a_{c}) AS tapc_{c}"));
        out_cols.push(format!("SUM(n_{p} * a_{p}) AS tapp_{c}"));
    }
    format!(
        "WITH ac AS (SELECT company, {a} FROM cell GROUP BY company), \
         kc AS (SELECT {key} AS k, c.company AS company, {n} \
                FROM {from} \
                WHERE {key} IS NOT NULL GROUP BY {key}, c.company) \
         SELECT {out} FROM ac JOIN kc ON kc.company = ac.company GROUP BY kc.k ORDER BY kc.k",
        a = a_cols.join(", "),
        n = n_cols.join(", "),
        out = out_cols.join(", ")
    )
}

/// Per-group sums as the grouped plan returns them.
#[derive(Debug, Clone)]
pub struct GroupSums {
    pub key: String,
    /// Companies with a posting of the group in any window.
    pub companies: f64,
    /// Per year (same order as `years`).
    pub counts: Vec<f64>,
    pub company_counts: Vec<f64>,
    /// Per year index ≥ 1: sums for (`years[i-1]`, `years[i]`); index 0 unused.
    pub pairs: Vec<PairSums>,
}

/// Run one level's plan.
pub async fn run_group(
    ctx: &SessionContext,
    level: Level,
    years: &[i32],
) -> Result<(String, Vec<GroupSums>), TrendsError> {
    let sql = group_sql(level, years);
    let mut out = Vec::new();
    for b in query(ctx, &sql).await? {
        let keys = strings(&b, "k")?;
        let companies = numbers(&b, "companies")?;
        let mut ys = Vec::new();
        let mut sqs = Vec::new();
        let mut cs = Vec::new();
        for y in years {
            ys.push(numbers(&b, &format!("y_{y}"))?);
            sqs.push(numbers(&b, &format!("sq_{y}"))?);
            cs.push(numbers(&b, &format!("c_{y}"))?);
        }
        let mut pair_cols = vec![None];
        for w in years.windows(2) {
            let c = w[1];
            pair_cols.push(Some((
                numbers(&b, &format!("x_{c}"))?,
                numbers(&b, &format!("cp_{c}"))?,
                numbers(&b, &format!("tacc_{c}"))?,
                numbers(&b, &format!("tacp_{c}"))?,
                numbers(&b, &format!("tapc_{c}"))?,
                numbers(&b, &format!("tapp_{c}"))?,
            )));
        }
        for r in 0..b.num_rows() {
            let counts: Vec<f64> = ys.iter().map(|v| v[r]).collect();
            let mut pairs = vec![PairSums::default()];
            for (i, pc) in pair_cols.iter().enumerate().skip(1) {
                if let Some((x, cp, tacc, tacp, tapc, tapp)) = pc {
                    pairs.push(PairSums {
                        y_cur: counts[i],
                        y_prev: counts[i - 1],
                        sq_cur: sqs[i][r],
                        sq_prev: sqs[i - 1][r],
                        cross: x[r],
                        companies: cp[r],
                        ta_cc: tacc[r],
                        ta_cp: tacp[r],
                        ta_pc: tapc[r],
                        ta_pp: tapp[r],
                    });
                }
            }
            out.push(GroupSums {
                key: keys[r].clone().unwrap_or_default(),
                companies: companies[r],
                counts,
                company_counts: cs.iter().map(|v| v[r]).collect(),
                pairs,
            });
        }
    }
    Ok((sql, out))
}

//! Turning the engine's grouped sums into the answer: series per title, tier and family,
//! rankings, emerging titles, within-family divergence, the watch list, the panel and the
//! misclassification correction. Only small per-group arithmetic happens here; every count
//! comes from [`crate::aggregate`].

use crate::aggregate::{self, cell_sql, panel_sql, GroupSums, Level};
use crate::correction::{self, Confusion};
use crate::engine::{self, query, sql_str, strings, Catalog, Materialize, PostingsSource};
use crate::monthly::{self, Monthly};
use crate::options::{RankBy, TrendOptions};
use crate::stats::{self, PairSums};
use crate::window::{self, MonthCount, Window};
use crate::TrendsError;
use datafusion::prelude::SessionContext;
use jobshift_core::schema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Families read as "tech" when deciding whether a dataset is a tech-only market.
pub const TECH_FAMILIES: [&str; 4] = [
    "software_engineering",
    "data_ai",
    "it_infrastructure",
    "product_design",
];
/// Tech share of classified postings above which shares are compared instead of counts.
pub const TECH_ONLY_SHARE: f64 = 0.6;
/// The study's watch list, used when the user names none.
pub const DEFAULT_WATCH: [&str; 1] = ["medical_scribe"];

/// One group (the baseline, a title, a tier or a family) across the compared years. Maps are
/// keyed by window year; `change`, `excess`, `ci95` exist from the second year on (relative to
/// the previous year), `acceleration` from the third. `None` where undefined (previous year 0).
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub id: String,
    pub name: String,
    pub family: Option<String>,
    pub family_name: Option<String>,
    pub level: Option<String>,
    pub tier: Option<String>,
    pub counts: BTreeMap<i32, u64>,
    /// Companies with at least one posting of the group in the window.
    pub companies: BTreeMap<i32, u64>,
    /// Share of all postings (the baseline) in the window.
    pub share: BTreeMap<i32, f64>,
    pub change: BTreeMap<i32, Option<f64>>,
    pub ci95: BTreeMap<i32, Option<(f64, f64)>>,
    /// Excess over the baseline in points (fractions): g − g_all.
    pub excess: BTreeMap<i32, Option<f64>>,
    /// Excess as a ratio: (1+g)/(1+g_all) − 1 (= change in share).
    pub excess_ratio: BTreeMap<i32, Option<f64>>,
    pub excess_ratio_ci95: BTreeMap<i32, Option<(f64, f64)>>,
    /// This year's change minus last year's (points).
    pub acceleration: BTreeMap<i32, Option<f64>>,
    pub ranked: bool,
    /// Misclassification-corrected counts and changes (with `--corrected`).
    pub corrected_counts: Option<BTreeMap<i32, f64>>,
    pub corrected_change: Option<BTreeMap<i32, Option<f64>>>,
    pub corrected_ci95: Option<BTreeMap<i32, Option<(f64, f64)>>>,
}

impl Series {
    /// Count in a year (0 when absent).
    pub fn count(&self, y: i32) -> u64 {
        self.counts.get(&y).copied().unwrap_or(0)
    }
    /// Change in a year, when defined.
    pub fn change_in(&self, y: i32) -> Option<f64> {
        self.change.get(&y).copied().flatten()
    }
}

/// Ranked movers (ids, best first).
#[derive(Debug, Clone, Serialize)]
pub struct Movers {
    pub decliners: Vec<String>,
    pub gainers: Vec<String>,
    pub emerging: Vec<String>,
    /// What "moving" means here (absolute change or change in share).
    pub metric: RankBy,
}

/// A title whose change differs from the rest of its family.
#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    pub family: String,
    pub family_name: String,
    pub title_id: String,
    pub title_name: String,
    pub title_change: f64,
    /// Change of the family without this title.
    pub rest_change: f64,
    /// title_change − rest_change (points).
    pub divergence: f64,
    /// The rest-of-family change lies outside the title's 95% interval.
    pub significant: bool,
}

/// What kind of market the data is, and how movers are read.
#[derive(Debug, Clone, Serialize)]
pub struct Market {
    /// Share of classified postings in tech families.
    pub tech_share: f64,
    pub rank_by: RankBy,
    /// Decided from the data rather than given.
    pub auto: bool,
    pub note: String,
}

/// The company panel (with `--panel`).
#[derive(Debug, Clone, Serialize)]
pub struct PanelInfo {
    /// Companies with postings in every window.
    pub companies: u64,
    /// Companies in the unrestricted data.
    pub companies_all: u64,
    /// Postings per window before and after the restriction.
    pub postings_all: BTreeMap<i32, u64>,
    pub postings_panel: BTreeMap<i32, u64>,
}

/// The misclassification correction (with `--corrected`).
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionInfo {
    pub confusion_file: String,
    pub method: String,
    /// Labelled examples the confusion matrix was measured on.
    pub examples: f64,
    /// Titles the matrix covers.
    pub titles_covered: usize,
    /// EM iterations used per window year (point estimate).
    pub iterations: BTreeMap<i32, usize>,
    /// Per window year: EM met its convergence criterion (the counts' relative L1 change in one
    /// iteration below `tolerance`) before `max_iterations`.
    pub converged: BTreeMap<i32, bool>,
    pub tolerance: f64,
    pub max_iterations: usize,
}

/// Everything a report records about its inputs.
#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub dataset: String,
    pub source: PostingsSource,
    pub taxonomy_version: String,
    pub taxonomy_dir: Option<String>,
    /// classified/manifest.json as written by classify (null when absent).
    pub classifier: serde_json::Value,
    pub options: TrendOptions,
    pub jobshift_version: String,
}

/// The analysis result jobshift-report renders.
#[derive(Debug, Clone, Serialize)]
pub struct Trends {
    pub inputs: Inputs,
    pub window: Window,
    pub years: Vec<i32>,
    pub months: Vec<MonthCount>,
    /// Monthly series per title, tier, family and the market (see [`crate::monthly`]).
    pub monthly: Monthly,
    pub baseline: Series,
    /// Postings the classifier abstained on (counted in the baseline, never dropped).
    pub unclassified: Series,
    pub titles: Vec<Series>,
    pub tiers: Vec<Series>,
    pub families: Vec<Series>,
    pub movers: Movers,
    pub divergence: Vec<Divergence>,
    /// Watched title ids (in the order given).
    pub watch: Vec<String>,
    pub market: Market,
    pub min_postings: u64,
    pub min_postings_rule: String,
    pub panel: Option<PanelInfo>,
    pub correction: Option<CorrectionInfo>,
    pub ci_method: String,
    pub notes: Vec<String>,
    /// The SQL the engine ran, in order (name, text), for reproducing the numbers elsewhere.
    pub queries: Vec<(String, String)>,
    /// title_id → (tier, family) as used by the tier and family plans.
    pub title_map: Vec<(String, Option<String>, Option<String>)>,
}

impl Trends {
    pub fn latest_year(&self) -> i32 {
        self.years.last().copied().unwrap_or_default()
    }
    pub fn previous_year(&self) -> i32 {
        let n = self.years.len();
        if n >= 2 {
            self.years[n - 2]
        } else {
            self.latest_year()
        }
    }
    pub fn title(&self, id: &str) -> Option<&Series> {
        self.titles
            .iter()
            .find(|t| t.id == id)
            .or(if id == schema::UNCLASSIFIED {
                Some(&self.unclassified)
            } else {
                None
            })
    }
}

pub const CI_METHOD: &str = "log-ratio interval with company-cluster-robust (sandwich) variance, \
floored at the Poisson variance; companies are the resampling unit because postings cluster by \
company (see docs/report.md)";

struct Meta {
    name: String,
    family: Option<String>,
    family_name: Option<String>,
    level: Option<String>,
    tier: Option<String>,
}

pub(crate) async fn run(
    dataset_dir: &Path,
    opts: &TrendOptions,
    catalog: &Catalog,
) -> Result<Trends, TrendsError> {
    // never read a half-committed dataset, and let no commit start while reading
    let _reading = jobshift_core::commit::open_for_reading(dataset_dir)?;
    let (ctx, source, dir) =
        engine::open_session_with(dataset_dir, catalog, opts.memory_limit).await?;
    // with a memory limit, intermediate tables live on disk (dropped at the end of the run)
    let keep = if opts.memory_limit.is_some() {
        Materialize::OnDisk
    } else {
        Materialize::InMemory
    };
    run_in(ctx, source, dir, dataset_dir, opts, catalog, keep).await
}

/// The analysis in a session whose dataset tables are registered (see
/// [`engine::register_dataset`]); `keep` says how the `cell` table is kept between queries.
pub(crate) async fn run_in(
    ctx: SessionContext,
    source: PostingsSource,
    dir: PathBuf,
    dataset_dir: &Path,
    opts: &TrendOptions,
    catalog: &Catalog,
    keep: Materialize,
) -> Result<Trends, TrendsError> {
    let mut notes = Vec::new();
    let mut spilled = Vec::new();
    if source != PostingsSource::Classified {
        return Err(TrendsError::NotClassified(dataset_dir.to_path_buf()));
    }
    let table_schema = ctx.table("postings").await?.schema().clone();
    for c in [
        schema::POSTING_ID,
        schema::POSTED_DATE,
        schema::COMPANY,
        schema::TITLE_ID,
    ] {
        if table_schema.field_with_unqualified_name(c).is_err() {
            return Err(TrendsError::Options(format!(
                "{} lacks column {c:?}; it must follow jobshift_core::schema::classified_schema (re-run `jobshift classify`)",
                dir.display()
            )));
        }
    }
    let has_precision = table_schema
        .field_with_unqualified_name(schema::DATE_PRECISION)
        .is_ok();
    let months = window::month_counts(&ctx, has_precision).await?;
    let win = window::resolve(opts, &months, &mut notes)?;
    let years = win.years.clone();
    let mut queries = vec![(
        "months".to_string(),
        window::month_counts_sql(has_precision),
    )];

    // 1. the one scan: distinct postings per company × title × window year
    let cell = cell_sql(&win, opts.assume_unique);
    let (cell_df, f) = engine::materialize(&ctx, ctx.sql(&cell).await?, "cell", keep).await?;
    spilled.extend(f);
    queries.push(("cell".to_string(), cell.clone()));
    let panel = if opts.panel {
        ctx.register_table("cell_all", cell_df.into_view())?;
        let p = panel_sql(years.len());
        let (panel_df, f) =
            engine::materialize(&ctx, ctx.sql(&p).await?, "cell-panel", keep).await?;
        spilled.extend(f);
        ctx.register_table("cell", panel_df.into_view())?;
        queries.push((
            "cell (panel)".to_string(),
            format!("-- cell_all = the cell query above\n{p}"),
        ));
        let totals = |t: &'static str| {
            format!("SELECT yr, SUM(n) AS n, COUNT(DISTINCT company) AS c FROM {t} GROUP BY yr")
        };
        let comp = |t: &'static str| format!("SELECT COUNT(DISTINCT company) AS c FROM {t}");
        let mut info = PanelInfo {
            companies: 0,
            companies_all: 0,
            postings_all: BTreeMap::new(),
            postings_panel: BTreeMap::new(),
        };
        for (table, map) in [
            ("cell_all", &mut info.postings_all),
            ("cell", &mut info.postings_panel),
        ] {
            for b in query(&ctx, &totals(table)).await? {
                let (y, n) = (engine::integers(&b, "yr")?, engine::integers(&b, "n")?);
                for i in 0..b.num_rows() {
                    map.insert(y[i] as i32, n[i] as u64);
                }
            }
        }
        for (table, slot) in [
            ("cell_all", &mut info.companies_all),
            ("cell", &mut info.companies),
        ] {
            for b in query(&ctx, &comp(table)).await? {
                *slot = engine::integers(&b, "c")?.first().copied().unwrap_or(0) as u64;
            }
        }
        if info.companies == 0 {
            return Err(TrendsError::Options(format!(
                "--panel: no company posted in all {} windows; drop --panel or compare fewer years (--years 2)",
                years.len()
            )));
        }
        Some(info)
    } else {
        ctx.register_table("cell", cell_df.into_view())?;
        None
    };

    // 2. title metadata: the taxonomy, else what classify wrote for ids the taxonomy lacks
    let mut meta: BTreeMap<String, Meta> = BTreeMap::new();
    let observed: Vec<String> = query(&ctx, "SELECT DISTINCT title_id FROM cell ORDER BY title_id")
        .await?
        .iter()
        .map(|b| strings(b, "title_id"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let by_id: BTreeMap<&str, &engine::TitleRow> =
        catalog.titles.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut unknown = Vec::new();
    for id in &observed {
        if let Some(t) = by_id.get(id.as_str()) {
            meta.insert(
                id.clone(),
                Meta {
                    name: t.name.clone(),
                    family: Some(t.family.clone()),
                    family_name: Some(t.family_name.clone()),
                    level: Some(t.level.clone()),
                    tier: Some(t.tier.clone()),
                },
            );
        } else if id != schema::UNCLASSIFIED {
            unknown.push(id.clone());
        }
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|s| sql_str(s)).collect();
        let has = |c: &str| table_schema.field_with_unqualified_name(c).is_ok();
        let col = |c: &str| {
            if has(c) {
                format!("MAX({c})")
            } else {
                "CAST(NULL AS VARCHAR)".to_string()
            }
        };
        let q = format!(
            "SELECT title_id, {} AS name, {} AS family, {} AS level, {} AS tier FROM postings WHERE title_id IN ({}) GROUP BY title_id",
            col(schema::TITLE_NAME),
            col(schema::FAMILY),
            col(schema::LEVEL),
            col(schema::TIER),
            list.join(", ")
        );
        for b in query(&ctx, &q).await? {
            let (id, name, fam, lev, tier) = (
                strings(&b, "title_id")?,
                strings(&b, "name")?,
                strings(&b, "family")?,
                strings(&b, "level")?,
                strings(&b, "tier")?,
            );
            for i in 0..b.num_rows() {
                let Some(id) = id[i].clone() else { continue };
                meta.insert(
                    id.clone(),
                    Meta {
                        name: name[i].clone().unwrap_or_else(|| id.clone()),
                        family_name: fam[i].as_deref().map(|f| catalog.family_name(f)),
                        family: fam[i].clone(),
                        level: lev[i].clone(),
                        tier: tier[i].clone(),
                    },
                );
            }
        }
        notes.push(format!(
            "{} title id(s) in the data are not in taxonomy {} ({}); they are reported with the names classify wrote",
            unknown.len(),
            catalog.version,
            unknown.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let title_map: Vec<(String, Option<String>, Option<String>)> = meta
        .iter()
        .map(|(id, m)| (id.clone(), m.tier.clone(), m.family.clone()))
        .collect();
    let map_table = engine::string_table(&[
        (
            "title_id",
            title_map.iter().map(|t| Some(t.0.clone())).collect(),
        ),
        ("tier", title_map.iter().map(|t| t.1.clone()).collect()),
        ("family", title_map.iter().map(|t| t.2.clone()).collect()),
    ])?;
    ctx.register_table("title_map", Arc::new(map_table))?;

    // monthly counts per title (the same postings as `cell`, by month)
    let (q_monthly, mut monthly_counts) =
        monthly::monthly_counts(&ctx, &win, opts.assume_unique, opts.panel).await?;

    // 3. grouped plans
    let run_level = |level: Level| {
        let ctx = &ctx;
        let years = &years;
        async move { aggregate::run_group(ctx, level, years).await }
    };
    let (q_base, base) = run_level(Level::Baseline).await?;
    let (q_title, titles_g) = run_level(Level::Title).await?;
    let (q_tier, tiers_g) = run_level(Level::Tier).await?;
    let (q_family, families_g) = run_level(Level::Family).await?;
    for (n, q) in [
        ("baseline", q_base),
        ("titles", q_title),
        ("tiers", q_tier),
        ("families", q_family),
        ("monthly", q_monthly),
    ] {
        queries.push((n.to_string(), q));
    }
    let base_g = base.into_iter().next().ok_or_else(|| {
        TrendsError::Options(format!(
            "no postings in the windows {} of years {:?}",
            describe(&win),
            years
        ))
    })?;

    let blank = |_id: &str, name: &str| Meta {
        name: name.to_string(),
        family: None,
        family_name: None,
        level: None,
        tier: None,
    };
    let baseline = build_series(
        "all",
        &blank("all", "All postings"),
        &base_g,
        &base_g,
        &years,
    );
    let mut unclassified = None;
    let mut titles = Vec::new();
    for g in &titles_g {
        if g.key == schema::UNCLASSIFIED {
            unclassified = Some(build_series(
                &g.key,
                &blank(&g.key, "Unclassified"),
                g,
                &base_g,
                &years,
            ));
            continue;
        }
        let m = meta.remove(&g.key).unwrap_or_else(|| blank(&g.key, &g.key));
        titles.push(build_series(&g.key, &m, g, &base_g, &years));
    }
    let unclassified = unclassified.unwrap_or_else(|| {
        let empty = GroupSums {
            key: schema::UNCLASSIFIED.into(),
            companies: 0.0,
            counts: vec![0.0; years.len()],
            company_counts: vec![0.0; years.len()],
            pairs: vec![PairSums::default(); years.len()],
        };
        build_series(
            schema::UNCLASSIFIED,
            &blank("", "Unclassified"),
            &empty,
            &base_g,
            &years,
        )
    });
    let tiers: Vec<Series> = {
        let mut v: Vec<Series> = tiers_g
            .iter()
            .map(|g| {
                let label = g
                    .key
                    .parse::<jobshift_core::Tier>()
                    .map(|t| t.label().to_string())
                    .unwrap_or_else(|_| g.key.clone());
                let mut m = blank(&g.key, &label);
                m.tier = Some(g.key.clone());
                build_series(&g.key, &m, g, &base_g, &years)
            })
            .collect();
        let order = |s: &Series| {
            s.id.parse::<jobshift_core::Tier>()
                .map(|t| t as usize)
                .unwrap_or(9)
        };
        v.sort_by_key(order);
        v
    };
    let families: Vec<Series> = families_g
        .iter()
        .map(|g| {
            let mut m = blank(&g.key, &catalog.family_name(&g.key));
            m.family = Some(g.key.clone());
            m.family_name = Some(m.name.clone());
            build_series(&g.key, &m, g, &base_g, &years)
        })
        .collect();

    let latest = *years.last().unwrap_or(&0);
    let prev = years[years.len() - 2];
    let unc_total: u64 = unclassified.counts.values().sum();
    let base_total: u64 = baseline.counts.values().sum();
    if unc_total > 0 {
        notes.push(format!(
            "{unc_total} of {base_total} postings in the windows ({:.1}%) are unclassified; they count in the baseline, not in any title, tier or family",
            100.0 * unc_total as f64 / base_total.max(1) as f64
        ));
    }

    // 4. market kind
    let classified_total: u64 = titles.iter().map(|t| t.counts.values().sum::<u64>()).sum();
    let tech_total: u64 = titles
        .iter()
        .filter(|t| {
            t.family
                .as_deref()
                .is_some_and(|f| TECH_FAMILIES.contains(&f))
        })
        .map(|t| t.counts.values().sum::<u64>())
        .sum();
    let tech_share = if classified_total > 0 {
        tech_total as f64 / classified_total as f64
    } else {
        0.0
    };
    let (rank_by, auto) = match opts.rank_by {
        Some(r) => (r, false),
        None => (
            if tech_share >= TECH_ONLY_SHARE {
                RankBy::Share
            } else {
                RankBy::Change
            },
            true,
        ),
    };
    let note = match rank_by {
        RankBy::Share => format!(
            "{:.0}% of classified postings are tech roles: this is a single-sector market, whose total \
             follows that sector's hiring cycle rather than the labour market. Titles are compared by \
             their share of postings (change in share = excess ratio), not by raw counts.",
            100.0 * tech_share
        ),
        RankBy::Change => format!(
            "Broad market ({:.0}% tech roles): titles are ranked by their change in postings and read against the all-postings baseline.",
            100.0 * tech_share
        ),
    };
    let market = Market {
        tech_share,
        rank_by,
        auto,
        note,
    };

    // 5. ranking
    let base_prev = baseline.count(prev);
    let (min_postings, min_rule) = match opts.min_postings {
        Some(n) => (
            n,
            format!("given: at least {n} postings in the {prev} window"),
        ),
        None => {
            let n = 50u64.max(base_prev.div_ceil(10_000));
            (n, format!(
                "default: at least max(50, 1 in 10,000 of all postings in the {prev} window = {}) = {n} postings in the {prev} window",
                base_prev.div_ceil(10_000)
            ))
        }
    };
    for t in titles.iter_mut() {
        t.ranked = t.count(prev) >= min_postings;
    }
    let metric = |s: &Series| -> Option<f64> {
        match rank_by {
            RankBy::Change => s.change_in(latest),
            RankBy::Share => s.excess_ratio.get(&latest).copied().flatten(),
        }
    };
    let mut ranked: Vec<(&Series, f64)> = titles
        .iter()
        .filter(|t| t.ranked)
        .filter_map(|t| metric(t).map(|m| (t, m)))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.id.cmp(&b.0.id)));
    let decliners: Vec<String> = ranked
        .iter()
        .filter(|(_, m)| *m < 0.0)
        .take(opts.top)
        .map(|(t, _)| t.id.clone())
        .collect();
    let gainers: Vec<String> = ranked
        .iter()
        .rev()
        .filter(|(_, m)| *m > 0.0)
        .take(opts.top)
        .map(|(t, _)| t.id.clone())
        .collect();
    let emerging_floor = 10u64.max(min_postings / 5);
    let mut emerging: Vec<(&Series, f64)> = titles
        .iter()
        .filter(|t| !t.ranked && t.count(latest) >= emerging_floor)
        .filter_map(|t| {
            let (c, p) = (t.count(latest) as f64, t.count(prev) as f64);
            if p == 0.0 || c / p >= 2.0 {
                Some((t, c / p.max(0.5)))
            } else {
                None
            }
        })
        .collect();
    emerging.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
    let emerging: Vec<String> = emerging
        .iter()
        .take(opts.top)
        .map(|(t, _)| t.id.clone())
        .collect();
    let ranked_count = titles.iter().filter(|t| t.ranked).count();
    notes.push(format!(
        "{ranked_count} of {} observed titles meet the volume rule ({min_rule}); emerging: below it, at least {emerging_floor} postings in {latest} and at least doubled (or new)",
        titles.len()
    ));
    let movers = Movers {
        decliners,
        gainers,
        emerging,
        metric: rank_by,
    };

    // 6. within-family divergence
    let mut divergence = Vec::new();
    for f in &families {
        let (fc, fp) = (f.count(latest) as f64, f.count(prev) as f64);
        for t in titles
            .iter()
            .filter(|t| t.ranked && t.family.as_deref() == Some(f.id.as_str()))
        {
            let (tc, tp) = (t.count(latest) as f64, t.count(prev) as f64);
            let (rc, rp) = (fc - tc, fp - tp);
            if rp < min_postings as f64 {
                continue;
            }
            let Some(g) = t.change_in(latest) else {
                continue;
            };
            let rest = rc / rp - 1.0;
            let significant = t
                .ci95
                .get(&latest)
                .copied()
                .flatten()
                .is_some_and(|(lo, hi)| rest < lo || rest > hi);
            divergence.push(Divergence {
                family: f.id.clone(),
                family_name: f.name.clone(),
                title_id: t.id.clone(),
                title_name: t.name.clone(),
                title_change: g,
                rest_change: rest,
                divergence: g - rest,
                significant,
            });
        }
    }
    divergence.sort_by(|a, b| {
        b.divergence
            .abs()
            .total_cmp(&a.divergence.abs())
            .then_with(|| a.title_id.cmp(&b.title_id))
    });

    // 7. watch list
    let watch: Vec<String> = if opts.watch.is_empty() {
        DEFAULT_WATCH
            .iter()
            .filter(|id| titles.iter().any(|t| &t.id == *id))
            .map(|s| s.to_string())
            .collect()
    } else {
        for id in &opts.watch {
            if !titles.iter().any(|t| &t.id == id) {
                let hint = if by_id.contains_key(id.as_str()) {
                    "it has no postings in the windows"
                } else {
                    "it is not a title id of the taxonomy (see `jobshift taxonomy`)"
                };
                notes.push(format!("watch list: {id:?} is not shown: {hint}"));
            }
        }
        opts.watch
            .iter()
            .filter(|id| titles.iter().any(|t| &t.id == *id))
            .cloned()
            .collect()
    };

    // 8. misclassification correction
    let mut titles = titles;
    let mut tiers = tiers;
    let mut families = families;
    let correction = if opts.corrected {
        let path = find_confusion(opts, &dir)?;
        let measured = Confusion::load(&path).map_err(TrendsError::Confusion)?;
        let conf = measured.covering(titles.iter().map(|t| t.id.as_str()));
        let mut iterations = BTreeMap::new();
        let mut converged = BTreeMap::new();
        monthly_counts.corrected = Some(monthly::correct(&conf, &monthly_counts));
        let mut corrected: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
        for &y in &years {
            let mut observed: BTreeMap<String, f64> = titles
                .iter()
                .map(|t| (t.id.clone(), t.count(y) as f64))
                .collect();
            observed.insert(schema::UNCLASSIFIED.into(), unclassified.count(y) as f64);
            let (x, run) = conf.correct(&observed);
            iterations.insert(y, run.iterations);
            converged.insert(y, run.converged);
            if !run.converged {
                notes.push(format!(
                    "misclassification correction: EM did not converge for {y} within {} iterations \
                     (relative change of the counts per iteration still ≥ {:e}): the confusion matrix leaves some titles nearly indistinguishable, so their corrected counts are approximate",
                    correction::EM_MAX_ITERATIONS,
                    correction::EM_TOLERANCE
                ));
            }
            for (id, v) in x {
                corrected.entry(id).or_default().insert(y, v);
            }
        }
        // the uncertainty of the corrected counts: bootstrap over the confusion matrix's labelled
        // examples and the counts' own sampling noise (see correction.rs)
        let observed_by_year: BTreeMap<i32, BTreeMap<String, f64>> = years
            .iter()
            .map(|&y| {
                let mut o: BTreeMap<String, f64> = titles
                    .iter()
                    .map(|t| (t.id.clone(), t.count(y) as f64))
                    .collect();
                o.insert(schema::UNCLASSIFIED.into(), unclassified.count(y) as f64);
                (y, o)
            })
            .collect();
        let overdispersion: BTreeMap<String, f64> = titles
            .iter()
            .filter_map(|t| monthly::overdispersion_ratio(t, &years).map(|phi| (t.id.clone(), phi)))
            .collect();
        let replicates = conf.bootstrap(
            &observed_by_year,
            &overdispersion,
            opts.correction_replicates,
            opts.seed,
        );
        // per series: replicate → year → corrected count
        let series_replicates = |members: &dyn Fn(&str) -> bool| -> Vec<BTreeMap<i32, f64>> {
            replicates
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|(y, counts)| {
                            let sum: f64 = counts
                                .iter()
                                .filter(|(id, _)| members(id))
                                .map(|(_, v)| *v)
                                .sum();
                            (*y, sum)
                        })
                        .collect()
                })
                .collect()
        };
        let apply = |s: &mut Series, counts: BTreeMap<i32, f64>, reps: Vec<BTreeMap<i32, f64>>| {
            let mut ch = BTreeMap::new();
            let mut ci = BTreeMap::new();
            for w in years.windows(2) {
                let (p, c) = (w[0], w[1]);
                let (cp, cc) = (
                    counts.get(&p).copied().unwrap_or(0.0),
                    counts.get(&c).copied().unwrap_or(0.0),
                );
                let g = if cp > 0.0 { Some(cc / cp - 1.0) } else { None };
                ch.insert(c, g);
                let se = correction::log_change_se(reps.iter().map(|r| {
                    (
                        r.get(&p).copied().unwrap_or(0.0),
                        r.get(&c).copied().unwrap_or(0.0),
                    )
                }));
                ci.insert(
                    c,
                    match (g, se) {
                        (Some(g), Some(se)) if g > -1.0 => Some((
                            ((1.0 + g).ln() - stats::Z95 * se).exp() - 1.0,
                            ((1.0 + g).ln() + stats::Z95 * se).exp() - 1.0,
                        )),
                        _ => None,
                    },
                );
            }
            s.corrected_counts = Some(counts);
            s.corrected_change = Some(ch);
            s.corrected_ci95 = Some(ci);
        };
        let mut below_minimum = 0usize;
        let mut tier_sum: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
        let mut fam_sum: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
        for t in titles.iter_mut() {
            let counts = corrected.get(&t.id).cloned().unwrap_or_default();
            for (y, v) in &counts {
                if let Some(tier) = &t.tier {
                    *tier_sum
                        .entry(tier.clone())
                        .or_default()
                        .entry(*y)
                        .or_default() += v;
                }
                if let Some(f) = &t.family {
                    *fam_sum.entry(f.clone()).or_default().entry(*y).or_default() += v;
                }
            }
            let reps: Vec<BTreeMap<i32, f64>> = replicates
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|(y, c)| (*y, c.get(&t.id).copied().unwrap_or(0.0)))
                        .collect()
                })
                .collect();
            apply(t, counts, reps);
            // a title the correction leaves with fewer postings in a previous window than the
            // ranking minimum has no meaningful corrected change there (EM can drive a count it
            // cannot tell apart from a neighbour's to ~0, and the ratio explodes)
            for w in years.windows(2) {
                let cp = t
                    .corrected_counts
                    .as_ref()
                    .and_then(|c| c.get(&w[0]).copied())
                    .unwrap_or(0.0);
                if cp < min_postings as f64 {
                    if let Some(ch) = t.corrected_change.as_mut() {
                        ch.insert(w[1], None);
                    }
                    if let Some(ci) = t.corrected_ci95.as_mut() {
                        ci.insert(w[1], None);
                    }
                    if w[1] == latest && t.ranked {
                        below_minimum += 1;
                    }
                }
            }
        }
        if below_minimum > 0 {
            notes.push(format!(
                "misclassification correction: {below_minimum} ranked title(s) have fewer than {min_postings} corrected postings in {prev}; \
                 their corrected change is not shown (the confusion matrix cannot tell them apart from titles it confuses them with)"
            ));
        }
        let tier_of: BTreeMap<String, String> = titles
            .iter()
            .filter_map(|t| t.tier.clone().map(|x| (t.id.clone(), x)))
            .collect();
        let family_of: BTreeMap<String, String> = titles
            .iter()
            .filter_map(|t| t.family.clone().map(|x| (t.id.clone(), x)))
            .collect();
        for t in tiers.iter_mut() {
            let c = tier_sum.remove(&t.id).unwrap_or_default();
            let tier = t.id.clone();
            let reps = series_replicates(&|x: &str| tier_of.get(x) == Some(&tier));
            apply(t, c, reps);
        }
        for f in families.iter_mut() {
            let c = fam_sum.remove(&f.id).unwrap_or_default();
            let fam = f.id.clone();
            let reps = series_replicates(&|x: &str| family_of.get(x) == Some(&fam));
            apply(f, c, reps);
        }
        let titles_covered = measured.rates.len();
        Some(CorrectionInfo {
            confusion_file: path.display().to_string(),
            method: format!(
                "EM / iterative Bayesian unfolding (Poisson maximum likelihood of o = Pᵀx, x ≥ 0); \
                 95% intervals from {} bootstrap replicates resampling the confusion matrix's \
                 labelled examples and the counts' sampling noise (seed {})",
                opts.correction_replicates, opts.seed
            ),
            examples: measured.examples,
            titles_covered,
            iterations,
            converged,
            tolerance: correction::EM_TOLERANCE,
            max_iterations: correction::EM_MAX_ITERATIONS,
        })
    } else {
        None
    };
    let mut unclassified = unclassified;
    if correction.is_some() {
        // after correction the unclassified mass is attributed to titles; keep the raw count beside
        let mut counts = BTreeMap::new();
        for &y in &years {
            let total_titles: f64 = titles
                .iter()
                .map(|t| {
                    t.corrected_counts
                        .as_ref()
                        .and_then(|m| m.get(&y))
                        .copied()
                        .unwrap_or(0.0)
                })
                .sum();
            counts.insert(y, (baseline.count(y) as f64 - total_titles).max(0.0));
        }
        unclassified.corrected_counts = Some(counts);
    }

    titles.sort_by(|a, b| {
        b.count(latest)
            .cmp(&a.count(latest))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut families = families;
    families.sort_by(|a, b| {
        b.count(latest)
            .cmp(&a.count(latest))
            .then_with(|| a.id.cmp(&b.id))
    });

    // classify's manifest: {"classifier": "DIR|model|head|taxonomy|seed|...", "files": {...}};
    // record the classifier identity (not the per-file list)
    let classifier = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .map(|m| m.get("classifier").cloned().unwrap_or(m))
        .unwrap_or(serde_json::Value::Null);
    if classifier.is_null() {
        notes.push("classified/manifest.json is missing: the classifier that produced the titles is not recorded".into());
    }
    let inputs = Inputs {
        dataset: dataset_dir.display().to_string(),
        source,
        taxonomy_version: catalog.version.clone(),
        taxonomy_dir: opts.taxonomy_dir.as_ref().map(|p| p.display().to_string()),
        classifier,
        options: opts.clone(),
        jobshift_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let monthly = monthly::build(
        &monthly_counts,
        &years,
        &baseline,
        &unclassified,
        &titles,
        &tiers,
        &families,
        &mut notes,
    );
    Ok(Trends {
        inputs,
        window: win,
        years,
        months,
        monthly,
        baseline,
        unclassified,
        titles,
        tiers,
        families,
        movers,
        divergence,
        watch,
        market,
        min_postings,
        min_postings_rule: min_rule,
        panel,
        correction,
        ci_method: CI_METHOD.to_string(),
        notes,
        queries,
        title_map,
    })
}

fn describe(w: &Window) -> String {
    format!("{}–{}", w.from.month_name(), w.to.month_name())
}

/// Where the confusion matrix is: --confusion, else the path classify recorded in its manifest
/// (`confusion` key, or `confusion.json` beside the `model` it names), else classified/confusion.json.
fn find_confusion(opts: &TrendOptions, classified_dir: &Path) -> Result<PathBuf, TrendsError> {
    if let Some(p) = &opts.confusion {
        return Ok(p.clone());
    }
    let mut tried = Vec::new();
    if let Some(m) = std::fs::read_to_string(classified_dir.join("manifest.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
    {
        for key in ["confusion", "confusion_matrix"] {
            if let Some(p) = m.get(key).and_then(|v| v.as_str()) {
                tried.push(PathBuf::from(p));
            }
        }
        for key in ["model", "model_dir", "classifier"] {
            if let Some(p) = m.get(key).and_then(|v| v.as_str()) {
                // classify records "DIR|model|head|taxonomy|..." as the classifier identity
                let p = PathBuf::from(p.split('|').next().unwrap_or(p));
                tried.push(if p.is_dir() {
                    p.join("confusion.json")
                } else {
                    p.with_file_name("confusion.json")
                });
            }
        }
    }
    tried.push(classified_dir.join("confusion.json"));
    for p in &tried {
        if p.is_file() {
            return Ok(p.clone());
        }
    }
    Err(TrendsError::Confusion(format!(
        "--corrected needs the classifier's confusion matrix; none found at {}; pass --confusion FILE",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )))
}

fn build_series(id: &str, m: &Meta, g: &GroupSums, base: &GroupSums, years: &[i32]) -> Series {
    let mut s = Series {
        id: id.to_string(),
        name: m.name.clone(),
        family: m.family.clone(),
        family_name: m.family_name.clone(),
        level: m.level.clone(),
        tier: m.tier.clone(),
        counts: BTreeMap::new(),
        companies: BTreeMap::new(),
        share: BTreeMap::new(),
        change: BTreeMap::new(),
        ci95: BTreeMap::new(),
        excess: BTreeMap::new(),
        excess_ratio: BTreeMap::new(),
        excess_ratio_ci95: BTreeMap::new(),
        acceleration: BTreeMap::new(),
        ranked: false,
        corrected_counts: None,
        corrected_change: None,
        corrected_ci95: None,
    };
    for (i, &y) in years.iter().enumerate() {
        let n = g.counts.get(i).copied().unwrap_or(0.0);
        s.counts.insert(y, n as u64);
        s.companies
            .insert(y, g.company_counts.get(i).copied().unwrap_or(0.0) as u64);
        let b = base.counts.get(i).copied().unwrap_or(0.0);
        s.share.insert(y, if b > 0.0 { n / b } else { 0.0 });
        if i == 0 {
            continue;
        }
        let pair = g.pairs.get(i).copied().unwrap_or_default();
        let base_pair = base.pairs.get(i).copied().unwrap_or_default();
        let ch = stats::change(&pair);
        let base_ch = stats::change(&base_pair);
        s.change.insert(y, ch.map(|e| e.value));
        s.ci95.insert(y, ch.map(|e| (e.lo, e.hi)));
        let ex = stats::excess_ratio(&pair, &base_pair, base_pair.companies);
        s.excess.insert(
            y,
            match (ch, base_ch) {
                (Some(a), Some(b)) => Some(a.value - b.value),
                _ => None,
            },
        );
        s.excess_ratio.insert(y, ex.map(|e| e.value));
        s.excess_ratio_ci95.insert(y, ex.map(|e| (e.lo, e.hi)));
        if i >= 2 {
            let before = s.change.get(&years[i - 1]).copied().flatten();
            s.acceleration.insert(
                y,
                match (ch, before) {
                    (Some(a), Some(b)) => Some(a.value - b),
                    _ => None,
                },
            );
        }
    }
    s
}

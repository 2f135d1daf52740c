//! Turning the engine's grouped sums into the answer: series per title, tier and family,
//! rankings, emerging titles, within-family divergence, the watch list, the panel and the
//! misclassification correction. Only small per-group arithmetic happens here; every count
//! comes from [`crate::aggregate`].
//!
//! [`run_in`] is the orchestrator; each step lives in its own module, in the order it runs:
//! [`scan`] (the one scan, `cell`) → [`metadata`] (title names, families, tiers) → [`groups`]
//! (grouped plans → series) → [`market`] (broad market or one sector) → [`ranking`] (volume
//! rule, movers) → [`divergence`] (titles against their family) → [`watch`] → [`corrected`]
//! (misclassification correction, with `--corrected`).

mod corrected;
mod divergence;
mod groups;
mod market;
mod metadata;
mod ranking;
mod scan;
mod watch;

use crate::engine::{self, Catalog, Materialize, PostingsSource};
use crate::monthly::{self, Monthly};
use crate::options::{RankBy, TrendOptions};
pub use crate::series::Series;
use crate::window::{self, MonthCount, Window};
use crate::TrendsError;
use datafusion::prelude::SessionContext;
use jobshift_core::classified::ClassifiedManifest;
use jobshift_core::schema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// The classifier `classified/manifest.json` names ([`ClassifiedManifest::classifier`]; null
    /// when the dataset has no manifest).
    pub classifier: serde_json::Value,
    pub options: TrendOptions,
    pub jobshift_version: String,
}

/// The analysis result jobshift-report renders.
#[derive(Debug, Clone, Serialize)]
pub struct Trends {
    /// The dataset, taxonomy, classifier and options the numbers came from.
    pub inputs: Inputs,
    /// The matched periods compared (the same months of each year).
    pub window: Window,
    /// The years compared, oldest first; the last is the one ranked.
    pub years: Vec<i32>,
    /// Postings per month over the whole dataset (the window is chosen from these).
    pub months: Vec<MonthCount>,
    /// Monthly series per title, tier, family and the market (see [`crate::monthly`]).
    pub monthly: Monthly,
    /// The whole market: every posting of the window, unclassified ones included.
    pub baseline: Series,
    /// Postings the classifier abstained on (counted in the baseline, never dropped).
    pub unclassified: Series,
    /// One series per title observed in the window, ranked titles first.
    pub titles: Vec<Series>,
    /// One series per seniority tier.
    pub tiers: Vec<Series>,
    /// One series per job family.
    pub families: Vec<Series>,
    /// Decliners, gainers and emerging titles, by id.
    pub movers: Movers,
    /// Titles whose change departs from the rest of their family.
    pub divergence: Vec<Divergence>,
    /// Watched title ids (in the order given).
    pub watch: Vec<String>,
    /// Whether the market grew or shrank, and so how a title's change is read against it.
    pub market: Market,
    /// The fewest postings a title needs in each compared year to be ranked.
    pub min_postings: u64,
    /// How `min_postings` was set (given, or derived from the volume), in words.
    pub min_postings_rule: String,
    /// The company panel (`--panel`): companies present in every compared year.
    pub panel: Option<PanelInfo>,
    /// The correction for classifier error (`--corrected`).
    pub correction: Option<CorrectionInfo>,
    /// How the 95 % intervals are computed ([`CI_METHOD`]).
    pub ci_method: String,
    /// What a reader should know about these numbers (thin titles, an incomplete month, …).
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

/// What the report shows of a title besides its counts.
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
    // never read a half-committed (or half-published) dataset
    let reading = crate::store::Reading::begin(dataset_dir).await?;
    let (ctx, source, dir) =
        engine::open_session_with(dataset_dir, catalog, opts.memory_limit).await?;
    // with a memory limit, intermediate tables live on disk (dropped at the end of the run)
    let keep = if opts.memory_limit.is_some() {
        Materialize::OnDisk
    } else {
        Materialize::InMemory
    };
    let trends = run_in(ctx, source, dir, dataset_dir, opts, catalog, keep).await?;
    reading.verify().await?;
    Ok(trends)
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
    if source != PostingsSource::Classified {
        return Err(TrendsError::NotClassified(dataset_dir.to_path_buf()));
    }
    // what classified/ was written by (read once; from a directory or an object store)
    let manifest = crate::store::Location::of(dataset_dir)?
        .classified_manifest()
        .await;
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
    let (panel, _spilled) = scan::register_cell(&ctx, &win, opts, keep, &mut queries).await?;
    // 2. title metadata: the taxonomy, else what classify wrote for ids the taxonomy lacks
    let meta = metadata::title_metadata(&ctx, catalog, &table_schema, &mut notes).await?;
    let title_map = metadata::register_title_map(&ctx, &meta)?;
    // monthly counts per title (the same postings as `cell`, by month)
    let (q_monthly, mut monthly_counts) =
        monthly::monthly_counts(&ctx, &win, opts.assume_unique, opts.panel).await?;
    // 3. grouped plans
    let groups::Groups {
        baseline,
        mut unclassified,
        mut titles,
        mut tiers,
        mut families,
    } = groups::build(&ctx, &win, meta, catalog, &mut queries, &mut notes).await?;
    queries.push(("monthly".to_string(), q_monthly));
    let (latest, _) = compared_years(&years);
    // 4. market kind
    let market = market::kind(&titles, opts);
    // 5. ranking
    let (movers, min_postings, min_rule) = ranking::movers(
        &mut titles,
        &baseline,
        opts,
        market.rank_by,
        &years,
        &mut notes,
    );
    // 6. within-family divergence
    let divergence = divergence::within_family(&families, &titles, min_postings, &years);
    // 7. watch list
    let watch = watch::list(opts, &titles, catalog, &mut notes);
    // 8. misclassification correction
    let correction = corrected::correct(
        opts,
        &dir,
        manifest.as_ref().ok().and_then(Option::as_ref),
        corrected::Corrected {
            titles: &mut titles,
            tiers: &mut tiers,
            families: &mut families,
            unclassified: &mut unclassified,
            baseline: &baseline,
            monthly: &mut monthly_counts,
        },
        &years,
        min_postings,
        &mut notes,
    )?;

    titles.sort_by(|a, b| {
        b.count(latest)
            .cmp(&a.count(latest))
            .then_with(|| a.id.cmp(&b.id))
    });
    families.sort_by(|a, b| {
        b.count(latest)
            .cmp(&a.count(latest))
            .then_with(|| a.id.cmp(&b.id))
    });

    let inputs = Inputs {
        dataset: dataset_dir.display().to_string(),
        source,
        taxonomy_version: catalog.version.clone(),
        taxonomy_dir: opts.taxonomy_dir.as_ref().map(|p| p.display().to_string()),
        classifier: recorded_classifier(manifest, &mut notes),
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

/// The classifier `classified/manifest.json` names (null, with a note, when it cannot be read).
fn recorded_classifier(
    manifest: Result<Option<ClassifiedManifest>, String>,
    notes: &mut Vec<String>,
) -> serde_json::Value {
    match manifest {
        Ok(Some(m)) => serde_json::Value::String(m.classifier),
        Ok(None) => {
            notes.push("classified/manifest.json is missing: the classifier that produced the titles is not recorded".into());
            serde_json::Value::Null
        }
        Err(e) => {
            notes.push(format!(
                "{e}: the classifier that produced the titles is not recorded"
            ));
            serde_json::Value::Null
        }
    }
}

/// The compared years: the latest window year and the one before it (`years` holds at least
/// two, as the window resolution guarantees).
pub(super) fn compared_years(years: &[i32]) -> (i32, i32) {
    (*years.last().unwrap_or(&0), years[years.len() - 2])
}

pub(super) fn describe(w: &Window) -> String {
    format!("{}–{}", w.from.month_name(), w.to.month_name())
}

//! jobshift-trends: which titles grew and which shrank, against the market, and how sure we are.
//!
//! Reads `DATASET_DIR/classified` (see `jobshift_core::schema::classified_schema`) through a
//! DataFusion session ([`engine`]), counts distinct postings first posted in matched windows
//! ([`window`]) with SQL plans ([`aggregate`]), and derives per title, tier and family: counts,
//! change per year, excess over the all-postings baseline (points and ratio), acceleration, and
//! company-clustered 95% intervals ([`stats`]); rankings with an explicit minimum volume, the
//! emerging list, within-family divergence, the watch list, an optional company panel and an
//! optional misclassification correction ([`correction`]). Rendering is jobshift-report's job.
//!
//! Entry points: [`analyze`] (blocking) and [`analyze_async`]; [`run_sql`] for `jobshift sql`;
//! [`analyze_in_session`] and [`run_sql_in_session`] run the same plans in a session the caller
//! built (jobshift-cluster's sessions on an Apache DataFusion Ballista cluster). With the `clap`
//! feature, [`flags`] holds the analysis flags `jobshift report` and `jobshift serve` share.

// This crate is one of the workspace's internals: its docs are built with
// `--document-private-items` (`.ci/run`), where links to private items resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod aggregate;
pub mod correction;
pub mod engine;
#[cfg(feature = "clap")]
pub mod flags;
pub mod monthly;
pub mod options;
pub mod publish;
pub mod series;
pub mod sql;
pub mod stats;
pub mod store;
pub mod window;

mod analysis;

pub use analysis::{CorrectionInfo, Divergence, Inputs, Market, Movers, PanelInfo, Trends};
pub use engine::{Catalog, Materialize, PostingsSource, TitleRow};
pub use monthly::{MonthPoint, Monthly};
pub use options::{RankBy, TrendOptions, YearMonth};
pub use series::{Series, YEAR_COLUMNS};
pub use sql::{run_sql, run_sql_async, run_sql_in_session, SqlOutput};
pub use window::{MonthCount, Window};

use std::path::{Path, PathBuf};

/// Errors of the trends stage. Each names what failed and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum TrendsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no Parquet postings under {0}/classified or {0}/postings; run `jobshift ingest` (and `jobshift classify`) first")]
    NoData(PathBuf),
    #[error("{0} has postings but no classified/ yet; run `jobshift classify {0}` before `jobshift report` (`jobshift sql` works on postings already)")]
    NotClassified(PathBuf),
    #[error("{location}: {message}\n  fix: {fix}")]
    ObjectStore {
        location: String,
        message: String,
        fix: String,
    },
    #[error("taxonomy: {0}")]
    Taxonomy(String),
    #[error("{0}")]
    Options(String),
    #[error("confusion matrix: {0}")]
    Confusion(String),
    #[error("query failed: {message}\n  query: {sql}")]
    Query { sql: String, message: String },
    /// A query ran out of the engine's memory limit (what it cannot spill); the same text as
    /// [`TrendsError::Query`], typed so callers can say what to do.
    #[error("query failed: {message}\n  query: {sql}")]
    ResourcesExhausted { sql: String, message: String },
    #[error(
        "jobshift sql is read-only: it runs queries (SELECT, WITH, EXPLAIN, DESCRIBE, SHOW) over \
         the dataset and refused this statement ({message}). To save a result, run the query \
         with --csv FILE or --parquet FILE; to change the dataset, use `jobshift ingest`.\n  \
         query: {sql}"
    )]
    ReadOnly { sql: String, message: String },
    #[error(transparent)]
    Lock(#[from] jobshift_core::commit::LockError),
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("internal: {0}")]
    Internal(String),
}

impl TrendsError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        TrendsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The async runtime the blocking entry points run on.
fn runtime() -> Result<tokio::runtime::Runtime, TrendsError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| TrendsError::Internal(format!("cannot start the async runtime: {e}")))
}

/// Run the whole analysis over a dataset directory (blocking; starts its own tokio runtime —
/// call [`analyze_async`] from async code).
pub fn analyze(dataset_dir: &Path, opts: &TrendOptions) -> Result<Trends, TrendsError> {
    runtime()?.block_on(analyze_async(dataset_dir, opts))
}

/// Run the whole analysis over a dataset directory.
pub async fn analyze_async(dataset_dir: &Path, opts: &TrendOptions) -> Result<Trends, TrendsError> {
    let catalog = Catalog::load(opts.taxonomy_dir.as_deref())?;
    analysis::run(dataset_dir, opts, &catalog).await
}

/// Same as [`analyze_async`] with an already loaded taxonomy (tests, the demo).
pub async fn analyze_with_catalog(
    dataset_dir: &Path,
    opts: &TrendOptions,
    catalog: &Catalog,
) -> Result<Trends, TrendsError> {
    analysis::run(dataset_dir, opts, catalog).await
}

/// The analysis in a session the caller built (for example one whose plans run on a Ballista
/// cluster): registers the dataset's tables in `ctx` and keeps the intermediate `cell` table as
/// a view ([`Materialize::Inline`]), since the caller's memory and temp directory may not be
/// where the plans run. The queries are the local ones, so the counts are the same.
pub async fn analyze_in_session(
    ctx: datafusion::prelude::SessionContext,
    dataset_dir: &Path,
    opts: &TrendOptions,
    catalog: &Catalog,
) -> Result<Trends, TrendsError> {
    // never read a half-committed (or half-published) dataset
    let reading = store::Reading::begin(dataset_dir).await?;
    let (source, dir) = engine::register_dataset(&ctx, dataset_dir, catalog).await?;
    let trends = analysis::run_in(
        ctx,
        source,
        dir,
        dataset_dir,
        opts,
        catalog,
        Materialize::Inline,
    )
    .await?;
    reading.verify().await?;
    Ok(trends)
}

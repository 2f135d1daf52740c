//! The query engine: a DataFusion session over a dataset directory, with the tables `postings`
//! (DATASET_DIR/classified, or DATASET_DIR/postings before classification) and `titles` (the
//! taxonomy). Both the trends analysis and `jobshift sql` go through [`open_session`], so users
//! query exactly what the report counts.
//!
//! Memory: the session's runtime has a memory pool of the configured size (the report's
//! `--memory-limit`, default [`DEFAULT_MEMORY_LIMIT`]) and a disk manager in the OS temp
//! directory, so grouping and sorting spill to disk instead of growing with the data;
//! [`materialize`] keeps intermediate tables on disk (Parquet in that spill directory) rather
//! than in RAM when a limit is set. The pool is DataFusion's `GreedyMemoryPool` (wrapped in
//! `TrackConsumersPool`, so an out-of-memory error names the biggest consumers), not
//! `FairSpillPool`: the fair pool caps every spillable consumer at pool ÷ (registered spillable
//! consumers), and the merge that follows a hash aggregate's spill cannot spill again, so it
//! failed with "Resources exhausted" at limits the greedy pool handles (64 MiB on 1M postings,
//! 32 MiB on the test fixture in `tests/memory_limit.rs`).
//!
//! Under a limit the session is also shaped so that spilling always has room to finish
//! (measured: before this, `--memory-limit 256MiB` failed at 100M postings and 32 MiB at 10M;
//! see BENCHMARKS.md "Memory as N grows"):
//! - **Spill merges open at most [`spill_merge_fan_in`] files per pass.** A final hash
//!   aggregation that spilled merges its sorted runs into an ordered aggregation; DataFusion's
//!   merge reserves read buffers for as many runs as the pool has room for, and the ordered
//!   aggregation after it, which cannot spill, then failed to get its next 1–3 MB (the error
//!   named `FinalHashAggregateStream[0]` / `SingleHashAggregateStream[0]`, the `cell` query).
//! - **One partition** (`target_partitions = 1`): with two, the other partition's hash
//!   aggregation could fill the greedy pool at any moment (it spills only when its own growth
//!   fails), and at 24–32 MiB the two-partition plan sometimes hung with every thread idle,
//!   which matches DataFusion 55.2's `RepartitionExec` spill deadlock (apache/datafusion#24883:
//!   its spill reader waits on the oldest spill file only). CPU time did not grow (10M postings
//!   at 1 GiB: 8.0 CPU-s, 10.4 before); the query part now uses one core.
//! - **Join inputs as written** (`join_reordering = false`): a hash join cannot spill, and the
//!   statistics-driven swap built the families plan's join on families × companies instead of
//!   the per-company side; the SQL in [`crate::aggregate`] puts the small input first.
//! - **Sorts set aside at most an eighth of the pool** for merging their spills
//!   (`sort_spill_reservation_bytes`, default 10 MiB), so a 16 MiB limit still sorts.
//!
//! `jobshift report` also tunes glibc's allocator under a limit (crates/cli/src/cmd/report.rs):
//! without it, memory the pool had released stayed in the process.

use crate::store::Location;
use crate::TrendsError;
use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::MemTable;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SpillFile;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which directory of the dataset backs the `postings` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PostingsSource {
    Classified,
    Postings,
}

/// One taxonomy title as the engine's `titles` table holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TitleRow {
    pub id: String,
    pub name: String,
    pub family: String,
    pub family_name: String,
    pub level: String,
    pub tier: String,
    pub soc: String,
}

/// The taxonomy as the engine sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Catalog {
    pub version: String,
    pub titles: Vec<TitleRow>,
    /// family id → display name
    pub family_names: Vec<(String, String)>,
}

impl Catalog {
    /// Load the built-in taxonomy or a user's copy.
    pub fn load(dir: Option<&Path>) -> Result<Catalog, TrendsError> {
        let tax = match dir {
            Some(d) => jobshift_taxonomy::Taxonomy::load_dir(d),
            None => jobshift_taxonomy::Taxonomy::builtin(),
        }
        .map_err(|e| TrendsError::Taxonomy(e.to_string()))?;
        let family_names: Vec<(String, String)> = tax
            .families()
            .iter()
            .map(|f| (f.id.clone(), f.name.clone()))
            .collect();
        let titles = tax
            .titles()
            .iter()
            .map(|t| TitleRow {
                id: t.id.clone(),
                name: t.name.clone(),
                family: t.family.clone(),
                family_name: tax
                    .family(&t.family)
                    .map(|f| f.name.clone())
                    .unwrap_or_else(|| t.family.clone()),
                level: t.level.as_str().to_string(),
                tier: t.tier().as_str().to_string(),
                soc: t.soc.clone(),
            })
            .collect();
        Ok(Catalog {
            version: tax.version().to_string(),
            titles,
            family_names,
        })
    }

    pub fn family_name(&self, id: &str) -> String {
        self.family_names
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.replace('_', " "))
    }
}

/// Build the `titles` table.
pub fn titles_table(catalog: &Catalog) -> Result<MemTable, TrendsError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("family", DataType::Utf8, false),
        Field::new("family_name", DataType::Utf8, false),
        Field::new("level", DataType::Utf8, false),
        Field::new("tier", DataType::Utf8, false),
        Field::new("soc", DataType::Utf8, false),
    ]));
    let col = |f: fn(&TitleRow) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(catalog.titles.iter().map(f)))
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            col(|t| t.id.as_str()),
            col(|t| t.name.as_str()),
            col(|t| t.family.as_str()),
            col(|t| t.family_name.as_str()),
            col(|t| t.level.as_str()),
            col(|t| t.tier.as_str()),
            col(|t| t.soc.as_str()),
        ],
    )?;
    Ok(MemTable::try_new(schema, vec![vec![batch]])?)
}

/// A string-keyed in-memory table from columns of strings (used for small lookup tables).
pub fn string_table(columns: &[(&str, Vec<Option<String>>)]) -> Result<MemTable, TrendsError> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Ok(MemTable::try_new(schema, vec![vec![batch]])?)
}

/// Memory the report's query engine may hold before it spills to disk: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 1 << 30;

/// A session whose operators share a greedy memory pool of `memory_limit` bytes (none:
/// unbounded) and spill to files in the OS temp directory (removed when the session ends).
pub fn new_session(memory_limit: Option<u64>) -> Result<SessionContext, TrendsError> {
    let mut config = SessionConfig::new();
    let mut disk = DiskManagerBuilder::default();
    let mut pool = None;
    if let Some(limit) = memory_limit {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        disk = disk.with_max_spill_merge_fan_in(spill_merge_fan_in(limit));
        // one partition: no two aggregations race for the greedy pool, and no RepartitionExec
        // (see the module docs)
        config = config.with_target_partitions(1);
        // build sides of hash joins as written in the SQL (the small side first)
        config.options_mut().optimizer.join_reordering = false;
        // a sort sets this much aside for merging its spills (default 10 MiB): at most an
        // eighth of the pool, so small limits (16 MiB in tests/memory_limit.rs) still sort
        let sort_reserve = &mut config.options_mut().execution.sort_spill_reservation_bytes;
        *sort_reserve = (*sort_reserve).min(limit / 8);
        // tracking names the biggest consumers if the limit is ever exceeded
        pool = Some(Arc::new(TrackConsumersPool::new(
            GreedyMemoryPool::new(limit),
            std::num::NonZeroUsize::MIN.saturating_add(4),
        )));
    }
    let mut rt = RuntimeEnvBuilder::new()
        .with_disk_manager_builder(disk)
        .with_object_store_registry(crate::store::registry());
    if let Some(pool) = pool {
        rt = rt.with_memory_pool(pool);
    }
    Ok(SessionContext::new_with_config_rt(config, rt.build_arc()?))
}

/// How many sorted spill files one merge pass may open under a memory limit of `limit` bytes:
/// one per 8 MiB, 2..=32. DataFusion reserves each open file's read buffers (about 2 MB for
/// our narrow rows at the default batch size) and, by default, opens as many as the pool has
/// room for; the ordered aggregation that consumes the merge then cannot get the few MB it
/// needs and cannot spill (its input is sorted). Capped, the merge keeps to about a quarter of
/// the pool and merges in more passes instead.
pub fn spill_merge_fan_in(limit: usize) -> usize {
    (limit / (8 << 20)).clamp(2, 32)
}

/// An intermediate table kept on disk while the session runs (dropping it lets the spill
/// directory go).
pub struct Spilled {
    _file: Arc<dyn SpillFile>,
    pub path: PathBuf,
}

/// How the report keeps an intermediate table (the `cell` scan) for the queries after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Materialize {
    /// `DataFrame::cache`: in the session's memory (local, no memory limit).
    InMemory,
    /// A Parquet file in the session's spill directory (local, under a memory limit).
    OnDisk,
    /// Not kept: the table is a view whose plan each later query repeats. For sessions whose
    /// plans run elsewhere (a Ballista cluster), where neither the client's memory nor its
    /// temp directory is visible to the executors.
    Inline,
}

/// Materialize a query's result for reuse by later queries (see [`Materialize`]): in memory
/// (`DataFrame::cache`) without a memory limit; with one, written as a Parquet file into the
/// session's spill directory and read back from there, so the table costs disk, not RAM.
pub async fn materialize(
    ctx: &SessionContext,
    df: DataFrame,
    what: &str,
    mode: Materialize,
) -> Result<(DataFrame, Option<Spilled>), TrendsError> {
    match mode {
        Materialize::Inline => return Ok((df, None)),
        Materialize::InMemory => return Ok((df.cache().await?, None)),
        Materialize::OnDisk => {}
    }
    let file = ctx
        .runtime_env()
        .disk_manager
        .create_tmp_file(&format!("jobshift: {what}"))?;
    let Some(tmp) = file.path().map(Path::to_path_buf) else {
        return Ok((df.cache().await?, None));
    };
    // a sibling of the spill file, in the same temporary directory (removed with it)
    let mut name = tmp.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-{what}.parquet"));
    let path = tmp.with_file_name(name);
    let url = path.to_string_lossy().to_string();
    df.write_parquet(
        &url,
        DataFrameWriteOptions::new().with_single_file_output(true),
        None,
    )
    .await?;
    let back = ctx.read_parquet(url, ParquetReadOptions::default()).await?;
    Ok((back, Some(Spilled { _file: file, path })))
}

impl Drop for Spilled {
    fn drop(&mut self) {
        // the directory goes with the session; free the disk as soon as the table is unused
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Open a session over a dataset: `postings` = classified/ when it has Parquet files, else
/// postings/; `titles` = the taxonomy. No memory limit (see [`open_session_with`]).
pub async fn open_session(
    dataset_dir: &Path,
    catalog: &Catalog,
) -> Result<(SessionContext, PostingsSource, PathBuf), TrendsError> {
    open_session_with(dataset_dir, catalog, None).await
}

/// [`open_session`] with the engine's memory limited to `memory_limit` bytes (spilling to disk
/// beyond it).
pub async fn open_session_with(
    dataset_dir: &Path,
    catalog: &Catalog,
    memory_limit: Option<u64>,
) -> Result<(SessionContext, PostingsSource, PathBuf), TrendsError> {
    let ctx = new_session(memory_limit)?;
    let (source, dir) = register_dataset(&ctx, dataset_dir, catalog).await?;
    Ok((ctx, source, dir))
}

/// Register a dataset's tables in an existing session (a local one from [`new_session`] or
/// one whose plans run on a cluster): `postings` = classified/ when it has Parquet files, else
/// postings/; `titles` = the taxonomy (either replaces a table of that name already there).
/// `dataset_dir` is a directory or an object store URL (`s3://BUCKET/PREFIX`, see
/// [`crate::store`]). Returns which directory backs `postings`.
pub async fn register_dataset(
    ctx: &SessionContext,
    dataset_dir: &Path,
    catalog: &Catalog,
) -> Result<(PostingsSource, PathBuf), TrendsError> {
    let location = Location::of(dataset_dir)?;
    // published by jobshift to an object store: exactly the committed files
    let record = location.committed().await?;
    let mut chosen = None;
    for (source, subdir) in [
        (PostingsSource::Classified, "classified"),
        (PostingsSource::Postings, "postings"),
    ] {
        let files = record
            .as_ref()
            .map(|r| location.committed_parquet(r, subdir));
        let found = match &files {
            Some(f) => !f.is_empty(),
            None => location.has_parquet(subdir).await?,
        };
        if found {
            chosen = Some((source, subdir, files));
            break;
        }
    }
    let Some((source, subdir, files)) = chosen else {
        return Err(TrendsError::NoData(dataset_dir.to_path_buf()));
    };
    // a session used before (one cluster connection for several commands) gets the tables
    // of this dataset, as it is now, in place of the earlier ones
    ctx.deregister_table("postings")?;
    ctx.deregister_table("titles")?;
    match files {
        Some(files) => register_parquet_files(ctx, "postings", &files).await?,
        None => {
            let url = location.table_url(subdir)?;
            ctx.register_parquet("postings", &url, ParquetReadOptions::default())
                .await?
        }
    }
    ctx.register_table("titles", Arc::new(titles_table(catalog)?))?;
    Ok((source, location.subdir(subdir)))
}

/// Register `files` (URLs of Parquet files) as one table, read as `register_parquet` reads a
/// directory of them (the same options; the schema merged from every file).
async fn register_parquet_files(
    ctx: &SessionContext,
    name: &str,
    files: &[String],
) -> Result<(), TrendsError> {
    use datafusion::datasource::listing::{ListingTable, ListingTableConfig, ListingTableUrl};
    use datafusion::execution::options::ReadOptions;
    let options = ParquetReadOptions::default()
        .to_listing_options(&ctx.copied_config(), ctx.copied_table_options());
    let state = ctx.state();
    let mut urls = Vec::with_capacity(files.len());
    let mut schemas = Vec::with_capacity(files.len());
    for f in files {
        let url = ListingTableUrl::parse(f)?;
        schemas.push(options.infer_schema(&state, &url).await?.as_ref().clone());
        urls.push(url);
    }
    let schema = datafusion::arrow::datatypes::Schema::try_merge(schemas)?;
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(Arc::new(schema));
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// Run a user's query read-only: DataFusion's own [`SQLOptions`] refuse DDL (`CREATE
/// [EXTERNAL] TABLE`, `CREATE VIEW`, `DROP`), DML (`INSERT`, `UPDATE`, `DELETE`, `COPY ... TO`)
/// and statements (`SET`, transactions) before anything runs, so a query can neither change
/// the dataset, write a file, nor register a table over a file outside the dataset (URL
/// tables, `SELECT * FROM 'file'`, are off in a plain session).
pub async fn query_read_only(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Vec<RecordBatch>, TrendsError> {
    let read_only = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let plan = ctx
        .state()
        .create_logical_plan(sql)
        .await
        .map_err(query_error(sql))?;
    read_only
        .verify_plan(&plan)
        .map_err(|e| TrendsError::ReadOnly {
            sql: sql.to_string(),
            message: e.strip_backtrace(),
        })?;
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(query_error(sql))?;
    df.collect().await.map_err(query_error(sql))
}

/// Run a query and collect its batches.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, TrendsError> {
    let df = ctx.sql(sql).await.map_err(query_error(sql))?;
    df.collect().await.map_err(query_error(sql))
}

fn query_error(sql: &str) -> impl Fn(datafusion::error::DataFusionError) -> TrendsError + '_ {
    move |e| {
        let (sql, message) = (sql.to_string(), e.to_string());
        match e.find_root() {
            datafusion::error::DataFusionError::ResourcesExhausted(_) => {
                TrendsError::ResourcesExhausted { sql, message }
            }
            _ => TrendsError::Query { sql, message },
        }
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, TrendsError> {
    let idx = batch
        .schema()
        .index_of(name)
        .map_err(|_| TrendsError::Internal(format!("query result has no column {name:?}")))?;
    Ok(batch.column(idx))
}

/// A column as optional strings (whatever its string or date type).
pub fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, TrendsError> {
    let a = cast(column(batch, name)?, &DataType::Utf8)?;
    let a = a
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| TrendsError::Internal(format!("column {name:?} is not text")))?;
    Ok((0..a.len())
        .map(|i| {
            if a.is_null(i) {
                None
            } else {
                Some(a.value(i).to_string())
            }
        })
        .collect())
}

/// A column as f64 (nulls → 0).
pub fn numbers(batch: &RecordBatch, name: &str) -> Result<Vec<f64>, TrendsError> {
    let a = cast(column(batch, name)?, &DataType::Float64)?;
    let a = a
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| TrendsError::Internal(format!("column {name:?} is not numeric")))?;
    Ok((0..a.len())
        .map(|i| if a.is_null(i) { 0.0 } else { a.value(i) })
        .collect())
}

/// A column as i64 (nulls → 0).
pub fn integers(batch: &RecordBatch, name: &str) -> Result<Vec<i64>, TrendsError> {
    let a = cast(column(batch, name)?, &DataType::Int64)?;
    let a = a
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| TrendsError::Internal(format!("column {name:?} is not an integer")))?;
    Ok((0..a.len())
        .map(|i| if a.is_null(i) { 0 } else { a.value(i) })
        .collect())
}

/// Quote a string as an SQL literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::{query_error, spill_merge_fan_in};
    use crate::TrendsError;
    use datafusion::error::DataFusionError;

    #[test]
    fn running_out_of_memory_is_a_typed_error_with_the_query_error_text() {
        let oom = DataFusionError::ResourcesExhausted("Failed to allocate 8 MB".into());
        let wrapped = DataFusionError::Context("aggregate".into(), Box::new(oom));
        let e = query_error("SELECT 1")(wrapped);
        assert!(matches!(e, TrendsError::ResourcesExhausted { .. }), "{e:?}");
        assert!(e.to_string().starts_with("query failed: "), "{e}");
        assert!(e.to_string().contains("Resources exhausted"), "{e}");
        let other = query_error("SELECT 1")(DataFusionError::Plan("no such column".into()));
        assert!(matches!(other, TrendsError::Query { .. }), "{other:?}");
    }

    #[test]
    fn spill_merge_fan_in_grows_with_the_limit_within_bounds() {
        assert_eq!(spill_merge_fan_in(1 << 20), 2);
        assert_eq!(spill_merge_fan_in(32 << 20), 4);
        assert_eq!(spill_merge_fan_in(256 << 20), 32);
        assert_eq!(spill_merge_fan_in(usize::MAX), 32);
    }
}

//! Classification on a cluster: the classifier cascade as a DataFusion scalar function
//! ([`ClassifyUdf`], `jobshift_classify(classifier_dir, options, title, description)`) that every
//! node registers ([`crate::session`]), and [`classify_dataset`], which runs it on the executors
//! file by file and writes `DATASET_DIR/classified/` on the client exactly as a local
//! `jobshift classify` does (`jobshift_classify::dataset::DatasetRun`: same files, same
//! manifest, same staging and commit).
//!
//! Each executor loads a classifier directory once (the first task that needs it) and keeps it
//! for its lifetime; tasks share it. Its title-embedding caches live as long (a pool, one cache
//! per task at a time, each bounded), so a title is embedded once per cache, not once per batch.
//! The directory and the model it names must be readable at the same path on every executor, as
//! the dataset is.
//!
//! The cascade's answer for a posting depends only on its title and description, so the client
//! matches the executors' answers to its rows by a hash of those two fields ([`content_key`]),
//! whatever order the cluster returns them in.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeBinaryArray, RecordBatch, StringArray, StructArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{exec_err, DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{col, lit, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use jobshift_classify::classifier::{
    CascadeOptions, CascadeStats, Classifier, ClassifierMeta, TitleInput,
};
use jobshift_classify::dataset::{self, DatasetRun, PendingFile};
use jobshift_classify::embed_cache::EmbedCache;
use jobshift_classify::{ClassifyError, ClassifyReport};
use jobshift_core::schema;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The function's name in SQL and in plans.
pub const UDF_NAME: &str = "jobshift_classify";
/// Bytes of [`content_key`].
const KEY_BYTES: i32 = 16;
/// A [`content_key`].
type Key = [u8; KEY_BYTES as usize];
/// The output field holding [`content_key`].
const KEY_FIELD: &str = "key";

/// The cascade as a scalar function: `jobshift_classify(classifier_dir, options_json, title,
/// description)` → a struct of the content key and the classification columns
/// ([`schema::classification_schema`]).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ClassifyUdf {
    signature: Signature,
}

impl Default for ClassifyUdf {
    fn default() -> Self {
        ClassifyUdf {
            signature: Signature::string(4, Volatility::Immutable),
        }
    }
}

/// The function, ready to register.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ClassifyUdf::default())
}

fn output_fields() -> Fields {
    let mut fields = vec![Field::new(
        KEY_FIELD,
        DataType::FixedSizeBinary(KEY_BYTES),
        false,
    )];
    fields.extend(
        schema::classification_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone()),
    );
    Fields::from(fields)
}

/// A 128-bit hash of a posting's title and description (null and empty alike: the cascade reads
/// a null title as empty and ignores a null description).
pub fn content_key(title: Option<&str>, description: Option<&str>) -> Key {
    let mut h = blake3::Hasher::new();
    let t = title.unwrap_or("");
    h.update(&(t.len() as u64).to_le_bytes());
    h.update(t.as_bytes());
    match description {
        Some(d) => {
            h.update(&[1]);
            h.update(d.as_bytes());
        }
        None => {
            h.update(&[0]);
        }
    }
    let mut key = [0u8; KEY_BYTES as usize];
    key.copy_from_slice(&h.finalize().as_bytes()[..KEY_BYTES as usize]);
    key
}

/// The [`content_key`] of a cascade input (built by `dataset::title_inputs`, which already reads
/// a null title as empty and a null description as none).
fn input_key(input: &TitleInput<'_>) -> Key {
    content_key(Some(input.title), input.description)
}

/// Classifiers this process has loaded, by directory (an executor loads each once).
fn loaded(dir: &str) -> DfResult<Arc<Classifier>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<Classifier>>>> = OnceLock::new();
    let map = LOADED.get_or_init(Default::default);
    // held while loading: concurrent tasks wait for the one load instead of each loading it
    let mut map = map
        .lock()
        .map_err(|_| DataFusionError::Execution("classifier cache poisoned".into()))?;
    if let Some(c) = map.get(dir) {
        return Ok(c.clone());
    }
    let c = Classifier::load(Path::new(dir)).map_err(|e| {
        DataFusionError::Execution(format!(
            "executor on {}: cannot load the classifier at {dir}: {e}\n  fix: make the classifier \
             directory readable at that same path on every executor (copy it there or use a \
             shared filesystem) and fetch its model there (`jobshift model fetch minilm|mpnet`)",
            host_name()
        ))
    })?;
    let c = Arc::new(c);
    map.insert(dir.to_string(), c.clone());
    Ok(c)
}

/// Titles a pooled cache may hold before it is dropped instead of returned to the pool: each
/// title costs its embedding (1.5 KB for MiniLM) and the head's scores, so a long-lived executor
/// keeps at most about 170 MB per task slot.
const CACHE_MAX_TITLES: usize = 100_000;

/// Title-embedding caches this process keeps between calls, by classifier directory. A call takes
/// one (or starts one) and gives it back when done, so concurrent tasks never share one, and a
/// title repeated across batches and files is embedded once per cache rather than once per
/// batch (a local run keeps one cache for the whole dataset).
fn cache_pool() -> &'static Mutex<HashMap<String, Vec<EmbedCache>>> {
    static POOL: OnceLock<Mutex<HashMap<String, Vec<EmbedCache>>>> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

/// A cache for `dir`'s classifier from the pool, or `new()` when the pool has none.
fn take_cache(dir: &str, new: impl FnOnce() -> EmbedCache) -> EmbedCache {
    cache_pool()
        .lock()
        .ok()
        .and_then(|mut pool| pool.get_mut(dir).and_then(Vec::pop))
        .unwrap_or_else(new)
}

/// Return `cache` to the pool unless it has grown past [`CACHE_MAX_TITLES`].
fn give_back_cache(dir: &str, cache: EmbedCache) {
    if cache.len() > CACHE_MAX_TITLES {
        return;
    }
    if let Ok(mut pool) = cache_pool().lock() {
        pool.entry(dir.to_string()).or_default().push(cache);
    }
}

fn host_name() -> String {
    jobshift_core::commit::host_name().unwrap_or_else(|| "this machine".into())
}

fn scalar_string(v: &ColumnarValue, what: &str) -> DfResult<String> {
    match v {
        ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Ok(s.clone()),
        _ => exec_err!("{UDF_NAME}: the {what} must be a string literal"),
    }
}

impl ScalarUDFImpl for ClassifyUdf {
    fn name(&self) -> &str {
        UDF_NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(output_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let [dir, options, titles, descriptions] = args.args.as_slice() else {
            return exec_err!(
                "{UDF_NAME}(classifier_dir, options, title, description) takes 4 arguments"
            );
        };
        let dir = scalar_string(dir, "classifier directory")?;
        let options: CascadeOptions = serde_json::from_str(&scalar_string(options, "options")?)
            .map_err(|e| DataFusionError::Execution(format!("{UDF_NAME} options: {e}")))?;
        let n = args.number_rows;
        let as_strings = |v: &ColumnarValue| -> DfResult<StringArray> {
            let a = cast(&v.to_array(n)?, &DataType::Utf8)?;
            Ok(a.as_string::<i32>().clone())
        };
        let titles = as_strings(titles)?;
        let descriptions = as_strings(descriptions)?;
        let classifier = loaded(&dir)?;
        let inputs = dataset::title_inputs(&titles, Some(&descriptions), 0..n);
        let mut cache = take_cache(&dir, || classifier.new_cache());
        let mut stats = CascadeStats::default();
        let preds = classifier.classify(&inputs, &mut cache, &options, &mut stats);
        give_back_cache(&dir, cache);
        let preds = preds
            .map_err(|e| DataFusionError::Execution(format!("executor on {}: {e}", host_name())))?;
        let keys = FixedSizeBinaryArray::try_from_iter(inputs.iter().map(input_key))?;
        let mut columns: Vec<ArrayRef> = vec![Arc::new(keys)];
        columns.extend(dataset::classification_columns(&classifier, &preds));
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            output_fields(),
            columns,
            None,
        )?)))
    }
}

/// How a dataset is classified on a cluster.
#[derive(Debug, Clone)]
pub struct ClusterClassifyOptions {
    /// The classifier directory (the same path on every executor).
    pub classifier_dir: PathBuf,
    /// The cascade's switches and thresholds (default: the classifier's own).
    pub cascade: Option<CascadeOptions>,
    /// Redo every file even if the manifest says it is done.
    pub force: bool,
    /// Files classified at once (each is a query on the cluster).
    pub files_in_flight: usize,
    pub progress: bool,
    /// Where the executors read the dataset when it is not at `dataset_dir` on their machines:
    /// the URL of an object-store dataset (`s3://BUCKET/PREFIX/`, ending in '/') whose working
    /// copy `dataset_dir` is (see `jobshift_trends::publish`).
    pub read_from: Option<String>,
}

/// Where the executors read `file` (a file under `dataset_dir`): the same path, or its place
/// under `read_from` (the dataset's URL).
fn executor_path(dataset_dir: &Path, file: &Path, read_from: Option<&str>) -> PathBuf {
    match (read_from, file.strip_prefix(dataset_dir)) {
        (Some(base), Ok(rel)) => {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            PathBuf::from(format!("{base}{}", parts.join("/")))
        }
        _ => file.to_path_buf(),
    }
}

/// The cluster's answers for one postings file: batches of classification columns, and where
/// each content key's answer is in them (batch, row).
struct Answers {
    batches: Vec<RecordBatch>,
    by_key: HashMap<Key, (usize, usize)>,
}

/// The classification columns of one postings file, from the cluster.
async fn classify_file(
    ctx: &SessionContext,
    file: &Path,
    dir: &str,
    options: &str,
) -> Result<Answers, DataFusionError> {
    let path = file.to_string_lossy();
    let df = ctx
        .read_parquet(path.as_ref(), ParquetReadOptions::default())
        .await?;
    let call = udf().call(vec![
        lit(dir),
        lit(options),
        col(schema::TITLE),
        col(schema::DESCRIPTION),
    ]);
    let mut answers = Answers {
        batches: Vec::new(),
        by_key: HashMap::new(),
    };
    for b in df.select(vec![call.alias("c")])?.collect().await? {
        let s = b.column(0).as_struct();
        let keys = s.column(0).as_fixed_size_binary();
        let (fields, columns): (Vec<_>, Vec<_>) = s
            .fields()
            .iter()
            .zip(s.columns())
            .skip(1)
            .map(|(f, c)| (f.clone(), c.clone()))
            .unzip();
        let at = answers.batches.len();
        answers.batches.push(RecordBatch::try_new(
            Arc::new(datafusion::arrow::datatypes::Schema::new(fields)),
            columns,
        )?);
        for (i, key) in keys.iter().enumerate() {
            if let Some(k) = key.and_then(|k| Key::try_from(k).ok()) {
                answers.by_key.entry(k).or_insert((at, i));
            }
        }
    }
    Ok(answers)
}

/// Classify every postings file of `dataset_dir` on the cluster behind `ctx`, writing
/// `dataset_dir/classified/` exactly as a local run with the same classifier and options does.
pub async fn classify_dataset(
    ctx: &SessionContext,
    dataset_dir: &Path,
    opts: &ClusterClassifyOptions,
) -> Result<ClassifyReport, crate::ClusterError> {
    let given = &opts.classifier_dir;
    let dir = std::path::absolute(given).map_err(|e| ClassifyError::io(given, e))?;
    if !dir.join("classifier.json").is_file() {
        return Err(ClassifyError::NoClassifier {
            path: dir,
            hint: "run `jobshift train` (or pass --classifier DIR)".into(),
        }
        .into());
    }
    let meta = ClassifierMeta::read(&dir)?;
    let cascade = opts
        .cascade
        .unwrap_or_else(|| CascadeOptions::defaults_for(&meta));
    // the directory as given, as a local run records it (a local rerun then finds the work done)
    let identity = dataset::classifier_identity(given, &meta, &cascade);
    let mut run = DatasetRun::begin(dataset_dir, identity, opts.force)?;
    let pending: Vec<PendingFile> = run.pending().to_vec();
    let pb = dataset::progress_bar(pending.iter().map(|f| f.rows).sum(), opts.progress);
    let dir = dir.to_string_lossy().into_owned();
    let options = serde_json::to_string(&cascade).map_err(ClassifyError::from)?;
    let mut results = futures::stream::iter(pending)
        .map(|file| {
            let (dir, options) = (&dir, &options);
            let at = executor_path(dataset_dir, &file.path, opts.read_from.as_deref());
            async move {
                let got = classify_file(ctx, &at, dir, options).await;
                (file, got)
            }
        })
        .buffered(opts.files_in_flight.max(1));
    while let Some((file, got)) = results.next().await {
        let answers = got.map_err(|e| crate::ClusterError::Node {
            node: "cluster".into(),
            message: format!("classifying {}: {e}", file.path.display()),
            fix: "check that every executor reads the dataset and the classifier directory at \
                  these paths and has the model fetched; rerun to resume from the files done"
                .into(),
        })?;
        let batch = dataset::read_parquet(&file.path)?;
        let columns = assemble(&batch, &answers, &file.path)?;
        run.write(&file, &batch, columns)?;
        pb.inc(batch.num_rows() as u64);
    }
    pb.finish_and_clear();
    Ok(run.finish(CascadeStats::default())?)
}

/// The classification columns for the rows of `batch`, in its order, from the cluster's answers.
fn assemble(
    batch: &RecordBatch,
    answers: &Answers,
    path: &Path,
) -> Result<Vec<ArrayRef>, ClassifyError> {
    let mut picks: Vec<(usize, usize)> = Vec::with_capacity(batch.num_rows());
    for (i, input) in dataset::postings_inputs(batch, path)?.iter().enumerate() {
        let at = answers.by_key.get(&input_key(input)).ok_or_else(|| {
            ClassifyError::Format(format!(
                "{}: row {i} came back from the cluster unclassified (do the executors read a \
                 different file at this path?)",
                path.display()
            ))
        })?;
        picks.push(*at);
    }
    let fields = schema::classification_schema().fields().clone();
    if picks.is_empty() {
        return Ok(fields
            .iter()
            .map(|f| datafusion::arrow::array::new_empty_array(f.data_type()))
            .collect());
    }
    (0..fields.len())
        .map(|c| {
            let arrays: Vec<&dyn Array> = answers
                .batches
                .iter()
                .map(|b| b.column(c).as_ref())
                .collect();
            datafusion::arrow::compute::interleave(&arrays, &picks)
                .map_err(|e| ClassifyError::Format(format!("{}: {e}", path.display())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pooled_cache_is_handed_to_one_call_at_a_time_and_comes_back() {
        let dir = "/pool-test/classifier";
        let marked = |n| {
            let mut c = EmbedCache::new(4);
            c.encoded = n;
            c
        };
        give_back_cache(dir, marked(7));
        // the pooled cache, then (the pool empty) a new one
        assert_eq!(take_cache(dir, || marked(0)).encoded, 7);
        assert_eq!(take_cache(dir, || marked(0)).encoded, 0);
        // another classifier's caches are its own
        give_back_cache(dir, marked(3));
        assert_eq!(take_cache("/pool-test/other", || marked(0)).encoded, 0);
        assert_eq!(take_cache(dir, || marked(0)).encoded, 3);
    }

    #[test]
    fn content_keys_tell_postings_apart_as_the_cascade_does() {
        let k = content_key;
        // the cascade reads a null title as empty
        assert_eq!(k(None, Some("d")), k(Some(""), Some("d")));
        // but a missing description is not an empty one, and fields do not run together
        assert_ne!(k(Some("a"), None), k(Some("a"), Some("")));
        assert_ne!(k(Some("ab"), Some("c")), k(Some("a"), Some("bc")));
        assert_ne!(
            k(Some("Data Engineer"), None),
            k(Some("Data Engineers"), None)
        );
        assert_eq!(k(Some("x"), Some("y")), k(Some("x"), Some("y")));
    }

    #[test]
    fn the_function_declares_the_classification_columns_after_the_key() {
        let DataType::Struct(fields) = ClassifyUdf::default().return_type(&[]).unwrap() else {
            panic!("not a struct");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        let mut want = vec![KEY_FIELD];
        let schema = schema::classification_schema();
        want.extend(schema.fields().iter().map(|f| f.name().as_str()));
        assert_eq!(names, want);
    }
}

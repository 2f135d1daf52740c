//! Classify a whole dataset: `DATASET_DIR/postings/**.parquet` → `DATASET_DIR/classified/`
//! (same relative paths, [`classified_schema`]), one output file per input file, written
//! atomically. `classified/manifest.json` records which inputs are done with which classifier,
//! so an interrupted run resumes where it stopped and a different classifier redoes everything.
//!
//! A run holds the dataset's writer lock (a second run waits, then finds the work done) and
//! writes into `DATASET_DIR/.resumable-classify/classified/`, which it commits into
//! `classified/` when every file is done (`jobshift_core::commit`): readers see the old
//! classification or the new one, never a mix; a killed run resumes from its staged files.
//!
//! [`DatasetRun`] is that bookkeeping on its own (which files are left, staging, the manifest,
//! the commit), shared by the local run ([`classify_dataset`]) and the cluster's
//! (`jobshift-cluster`), which computes the classification columns on executors;
//! [`classification_columns`] turns predictions into those columns for both.

use crate::classifier::{
    CascadeOptions, CascadeStats, Classifier, ClassifierMeta, Prediction, TitleInput,
};
use crate::ClassifyError;
use arrow::array::{Array, ArrayRef, Float32Array, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use jobshift_core::classified::{ClassifiedManifest, ClassifierIdentity, DoneFile, MANIFEST_FILE};
use jobshift_core::commit::{self, WriterLock, RESUMABLE_PREFIX};
use jobshift_core::dataset::DatasetDir;
use jobshift_core::schema::{self, classified_schema, postings_schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ClassifyOptions {
    pub cascade: Option<CascadeOptions>,
    /// Redo every partition even if the manifest says it is done.
    pub force: bool,
    pub progress: bool,
    /// Rows classified per call (title embeddings are cached across the whole run anyway).
    pub chunk_rows: usize,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        ClassifyOptions {
            cascade: None,
            force: false,
            progress: true,
            chunk_rows: 8192,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassifyReport {
    pub files_total: usize,
    pub files_done_now: usize,
    pub files_skipped_resume: usize,
    pub rows: usize,
    pub by_method: BTreeMap<String, usize>,
    pub unclassified: usize,
    pub distinct_titles_embedded: usize,
    pub seconds: f64,
    pub stats: CascadeStats,
}

/// What a classified dataset's manifest records of the classifier that wrote it: its directory,
/// model, head, taxonomy and seed, and the cascade's switches and thresholds. A run with another
/// identity redoes every file.
pub fn classifier_identity(
    dir: &Path,
    meta: &ClassifierMeta,
    o: &CascadeOptions,
) -> ClassifierIdentity {
    ClassifierIdentity {
        dir: dir.to_path_buf(),
        model_id: meta.model_id.clone(),
        head: meta.head.as_str().to_string(),
        taxonomy_version: meta.taxonomy_version.clone(),
        seed: meta.seed,
        use_alias: o.use_alias,
        use_description: o.use_description,
        ambiguity_margin: o.ambiguity_margin,
        min_confidence: o.min_confidence,
    }
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> ClassifyError {
    ClassifyError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Read a whole parquet file into one batch.
pub fn read_parquet(path: &Path) -> Result<RecordBatch, ClassifyError> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| pq_err(path, e))?;
    let schema = builder.schema().clone();
    let reader = builder.build().map_err(|e| pq_err(path, e))?;
    let mut batches = Vec::new();
    for b in reader {
        batches.push(b.map_err(|e| pq_err(path, e))?);
    }
    concat_batches(&schema, &batches).map_err(|e| pq_err(path, e))
}

fn string_column<'a>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a StringArray, ClassifyError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| {
            pq_err(path, format!("column {name:?} missing or not a string; is this a jobshift postings file? (re-run `jobshift ingest`)"))
        })
}

/// The classification columns of `preds` ([`schema::classification_schema`], in order): the
/// title id, the taxonomy's name, family, level and tier of it, seniority, SOC code,
/// confidence, the cascade step that decided, why it abstained, and the titles a posting
/// naming several names.
pub fn classification_columns(classifier: &Classifier, preds: &[Prediction]) -> Vec<ArrayRef> {
    let title_of = |p: &Prediction| classifier.title(&p.title_id);
    let s = |f: &dyn Fn(&Prediction) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            preds.iter().map(f).collect::<Vec<Option<String>>>(),
        ))
    };
    vec![
        Arc::new(StringArray::from(
            preds
                .iter()
                .map(|p| p.title_id.clone())
                .collect::<Vec<String>>(),
        )),
        s(&|p| title_of(p).map(|t| t.name.clone())),
        s(&|p| title_of(p).map(|t| t.family.clone())),
        s(&|p| title_of(p).map(|t| t.level.as_str().to_string())),
        s(&|p| title_of(p).map(|t| t.tier().as_str().to_string())),
        s(&|p| Some(p.seniority.as_str().to_string())),
        s(&|p| title_of(p).map(|t| t.soc.clone())),
        Arc::new(Float32Array::from(
            preds.iter().map(|p| p.confidence).collect::<Vec<f32>>(),
        )),
        Arc::new(StringArray::from(
            preds
                .iter()
                .map(|p| p.method.as_str())
                .collect::<Vec<&str>>(),
        )),
        s(&|p| p.reason.map(str::to_string)),
        schema::roles_array(preds.iter().map(|p| p.roles.as_slice())),
    ]
}

/// The (title, description) input of every row of a postings `batch` read from `path`.
pub fn postings_inputs<'a>(
    batch: &'a RecordBatch,
    path: &Path,
) -> Result<Vec<TitleInput<'a>>, ClassifyError> {
    let titles = string_column(batch, schema::TITLE, path)?;
    let descriptions = batch
        .column_by_name(schema::DESCRIPTION)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>());
    Ok(title_inputs(titles, descriptions, 0..batch.num_rows()))
}

/// The (title, description) inputs of rows `lo..hi` of a postings batch.
pub fn title_inputs<'a>(
    titles: &'a StringArray,
    descriptions: Option<&'a StringArray>,
    rows: std::ops::Range<usize>,
) -> Vec<TitleInput<'a>> {
    rows.map(|i| TitleInput {
        title: if titles.is_null(i) {
            ""
        } else {
            titles.value(i)
        },
        description: descriptions.filter(|d| !d.is_null(i)).map(|d| d.value(i)),
    })
    .collect()
}

/// A postings file still to classify in a [`DatasetRun`].
#[derive(Debug, Clone)]
pub struct PendingFile {
    /// The input file, `DATASET_DIR/postings/REL`.
    pub path: PathBuf,
    /// Its path under `postings/` (and under `classified/`).
    pub rel: String,
    /// Its rows (from the Parquet footer).
    pub rows: u64,
    bytes: u64,
}

/// One classification run over a dataset: the writer lock, the files left to do, the staged
/// outputs and their manifest; [`DatasetRun::finish`] commits them into `classified/`.
pub struct DatasetRun {
    writer: WriterLock,
    work: PathBuf,
    stage_root: PathBuf,
    manifest_path: PathBuf,
    manifest: ClassifiedManifest,
    pending: Vec<PendingFile>,
    report: ClassifyReport,
    start: Instant,
}

impl DatasetRun {
    /// Take the dataset's writer lock and find what is left to do for the classifier `identity`
    /// ([`classifier_identity`]): everything when `force` or when the classifier changed, else
    /// the files neither committed nor staged by an interrupted run.
    pub fn begin(
        dataset_dir: &Path,
        identity: ClassifierIdentity,
        force: bool,
    ) -> Result<Self, ClassifyError> {
        let start = Instant::now();
        let ds = DatasetDir::new(dataset_dir);
        let in_root = ds.postings();
        let out_root = ds.classified();
        if !in_root.is_dir() {
            return Err(ClassifyError::Format(format!(
                "{} has no postings/ directory; run `jobshift ingest` first",
                dataset_dir.display()
            )));
        }
        let writer = WriterLock::acquire_for_this_process(dataset_dir)?;
        let work = dataset_dir.join(format!("{RESUMABLE_PREFIX}classify"));
        let stage_root = work.join("classified");
        let files =
            DatasetDir::parquet_files(&in_root).map_err(|e| ClassifyError::io(&in_root, e))?;
        // an unreadable manifest is treated as none: every file is redone
        let read_manifest = |dir: &Path| ClassifiedManifest::read(dir).ok().flatten();
        let identity = identity.to_string();
        let committed = read_manifest(&out_root).unwrap_or_default();
        let manifest_path = stage_root.join(MANIFEST_FILE);
        let mut manifest = match read_manifest(&stage_root) {
            // an interrupted run of the same classifier: resume from its staged files
            Some(m) if m.classifier == identity && !force => m,
            _ => {
                if work.exists() {
                    std::fs::remove_dir_all(&work).map_err(|e| ClassifyError::io(&work, e))?;
                }
                committed
            }
        };
        if manifest.classifier != identity || force {
            manifest = ClassifiedManifest {
                classifier: identity,
                ..Default::default()
            };
        }
        let mut report = ClassifyReport {
            files_total: files.len(),
            ..Default::default()
        };
        let mut pending = Vec::new();
        for f in &files {
            let rel = f
                .strip_prefix(&in_root)
                .unwrap_or(f)
                .to_string_lossy()
                .to_string();
            let bytes = std::fs::metadata(f)
                .map_err(|e| ClassifyError::io(f, e))?
                .len();
            let done = manifest
                .files
                .get(&rel)
                .is_some_and(|d| d.input_bytes == bytes)
                && (stage_root.join(&rel).is_file() || out_root.join(&rel).is_file());
            if done {
                report.files_skipped_resume += 1;
                continue;
            }
            let meta = std::fs::File::open(f)
                .map_err(|e| ClassifyError::io(f, e))
                .and_then(|file| {
                    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| pq_err(f, e))
                })?;
            let rows = meta.metadata().file_metadata().num_rows().max(0) as u64;
            pending.push(PendingFile {
                path: f.clone(),
                rel,
                rows,
                bytes,
            });
        }
        Ok(DatasetRun {
            writer,
            work,
            stage_root,
            manifest_path,
            manifest,
            pending,
            report,
            start,
        })
    }

    /// The files left to do, in path order.
    pub fn pending(&self) -> &[PendingFile] {
        &self.pending
    }

    /// Stage the classified version of `file`: its postings `batch` (as read by
    /// [`read_parquet`]) with `classification` ([`classification_columns`]) appended, and
    /// record it done in the staged manifest.
    pub fn write(
        &mut self,
        file: &PendingFile,
        batch: &RecordBatch,
        classification: Vec<ArrayRef>,
    ) -> Result<(), ClassifyError> {
        let path = &file.path;
        let out_schema = classified_schema();
        let n = batch.num_rows();
        // postings columns in canonical order, then classification columns
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(out_schema.fields().len());
        for field in postings_schema().fields() {
            let col = batch.column_by_name(field.name()).ok_or_else(|| {
                pq_err(
                    path,
                    format!(
                        "column {:?} missing; re-run `jobshift ingest`",
                        field.name()
                    ),
                )
            })?;
            cols.push(col.clone());
        }
        cols.extend(classification);
        let out_batch =
            RecordBatch::try_new(out_schema.clone(), cols).map_err(|e| pq_err(path, e))?;
        let out_path = self.stage_root.join(&file.rel);
        jobshift_core::atomic::with_writer(&out_path, |w| {
            let mut writer =
                ArrowWriter::try_new(w, out_schema.clone(), None).map_err(std::io::Error::other)?;
            writer.write(&out_batch).map_err(std::io::Error::other)?;
            writer.close().map_err(std::io::Error::other)?;
            Ok(())
        })
        .map_err(|e| ClassifyError::io(&out_path, e))?;
        let methods = out_batch
            .column_by_name(schema::METHOD)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>());
        for m in methods.into_iter().flatten().flatten() {
            *self.report.by_method.entry(m.to_string()).or_default() += 1;
        }
        self.report.rows += n;
        self.report.files_done_now += 1;
        self.manifest.files.insert(
            file.rel.clone(),
            DoneFile {
                input_bytes: file.bytes,
                rows: n,
            },
        );
        jobshift_core::atomic::write_json(&self.manifest_path, &self.manifest)
            .map_err(|e| ClassifyError::io(&self.manifest_path, e))
    }

    /// Commit the staged files into `classified/` and release the lock; `stats` are the
    /// cascade's counts and times when they were gathered (a local run).
    pub fn finish(mut self, stats: CascadeStats) -> Result<ClassifyReport, ClassifyError> {
        if self.work.exists() {
            if !self.manifest_path.exists() {
                jobshift_core::atomic::write_json(&self.manifest_path, &self.manifest)
                    .map_err(|e| ClassifyError::io(&self.manifest_path, e))?;
            }
            commit::commit(&self.writer, &self.work, "classify")?;
        }
        drop(self.writer);
        self.report.unclassified = self
            .report
            .by_method
            .get(crate::classifier::Method::Unclassified.as_str())
            .copied()
            .unwrap_or(0);
        self.report.distinct_titles_embedded = stats.title_embedded;
        self.report.stats = stats;
        self.report.seconds = self.start.elapsed().as_secs_f64();
        Ok(self.report)
    }
}

/// A progress bar over `total_rows` postings (hidden when `show` is false).
pub fn progress_bar(total_rows: u64, show: bool) -> indicatif::ProgressBar {
    crate::progress_bar(
        show,
        total_rows,
        "classifying [{bar:30}] {pos}/{len} postings ({per_sec}, eta {eta})",
    )
}

/// Classify every postings file of `dataset_dir` into `dataset_dir/classified/`.
pub fn classify_dataset(
    dataset_dir: &Path,
    classifier: &Classifier,
    opts: &ClassifyOptions,
) -> Result<ClassifyReport, ClassifyError> {
    let cascade = opts.cascade.unwrap_or_else(|| classifier.default_options());
    let identity = classifier_identity(&classifier.dir, &classifier.meta, &cascade);
    let mut run = DatasetRun::begin(dataset_dir, identity, opts.force)?;
    let pending = run.pending().to_vec();
    let pb = progress_bar(pending.iter().map(|f| f.rows).sum(), opts.progress);
    let mut stats = CascadeStats::default();
    let mut cache = classifier.new_cache();
    for file in &pending {
        let batch = read_parquet(&file.path)?;
        let inputs = postings_inputs(&batch, &file.path)?;
        let mut preds: Vec<Prediction> = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(opts.chunk_rows.max(1)) {
            preds.extend(classifier.classify(chunk, &mut cache, &cascade, &mut stats)?);
            pb.inc(chunk.len() as u64);
        }
        run.write(file, &batch, classification_columns(classifier, &preds))?;
    }
    pb.finish_and_clear();
    run.finish(stats)
}

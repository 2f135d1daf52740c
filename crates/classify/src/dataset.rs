//! Classify a whole dataset: `DATASET_DIR/postings/**.parquet` → `DATASET_DIR/classified/`
//! (same relative paths, [`classified_schema`]), one output file per input file, written
//! atomically. `classified/manifest.json` records which inputs are done with which classifier,
//! so an interrupted run resumes where it stopped and a different classifier redoes everything.
//!
//! A run holds the dataset's writer lock (a second run waits, then finds the work done) and
//! writes into `DATASET_DIR/.resumable-classify/classified/`, which it commits into
//! `classified/` when every file is done (`jobshift_core::commit`): readers see the old
//! classification or the new one, never a mix; a killed run resumes from its staged files.

use crate::classifier::{CascadeOptions, CascadeStats, Classifier, Prediction, TitleInput};
use crate::ClassifyError;
use arrow::array::{Array, ArrayRef, Float32Array, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use jobshift_core::commit::{self, WriterLock, RESUMABLE_PREFIX};
use jobshift_core::dataset::DatasetDir;
use jobshift_core::schema::{self, classified_schema, postings_schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Manifest {
    /// Identity of the classifier (dir + model + head + taxonomy + thresholds).
    classifier: String,
    /// input relative path → done record
    files: BTreeMap<String, DoneFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DoneFile {
    input_bytes: u64,
    rows: usize,
}

fn classifier_identity(c: &Classifier, o: &CascadeOptions) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}",
        c.dir.display(),
        c.meta.model_id,
        c.meta.head.as_str(),
        c.meta.taxonomy_version,
        c.meta.seed,
        o.use_alias,
        o.use_description,
        o.ambiguity_margin,
        o.min_confidence
    )
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

/// Classify every postings file of `dataset_dir` into `dataset_dir/classified/`.
pub fn classify_dataset(
    dataset_dir: &Path,
    classifier: &Classifier,
    opts: &ClassifyOptions,
) -> Result<ClassifyReport, ClassifyError> {
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
    let files = DatasetDir::parquet_files(&in_root).map_err(|e| ClassifyError::io(&in_root, e))?;
    let cascade = opts.cascade.unwrap_or_else(|| classifier.default_options());
    let identity = classifier_identity(classifier, &cascade);
    let read_manifest = |p: &Path| -> Option<Manifest> {
        std::fs::read(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    };
    let committed: Manifest = read_manifest(&out_root.join("manifest.json")).unwrap_or_default();
    let manifest_path = stage_root.join("manifest.json");
    let mut manifest = match read_manifest(&manifest_path) {
        // an interrupted run of the same classifier: resume from its staged files
        Some(m) if m.classifier == identity && !opts.force => m,
        _ => {
            if work.exists() {
                std::fs::remove_dir_all(&work).map_err(|e| ClassifyError::io(&work, e))?;
            }
            committed
        }
    };
    if manifest.classifier != identity || opts.force {
        manifest = Manifest {
            classifier: identity,
            files: BTreeMap::new(),
        };
    }
    let mut report = ClassifyReport {
        files_total: files.len(),
        ..Default::default()
    };
    // rows to do, for the progress bar
    let mut todo: Vec<(PathBuf, String, u64)> = Vec::new();
    let mut total_rows = 0u64;
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
        total_rows += meta.metadata().file_metadata().num_rows().max(0) as u64;
        todo.push((f.clone(), rel, bytes));
    }
    let pb = if opts.progress {
        let pb = indicatif::ProgressBar::new(total_rows);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "classifying [{bar:30}] {pos}/{len} postings ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut cache = classifier.new_cache();
    let out_schema = classified_schema();
    for (path, rel, bytes) in todo {
        let batch = read_parquet(&path)?;
        let titles = string_column(&batch, schema::TITLE, &path)?;
        let descs = batch
            .column_by_name(schema::DESCRIPTION)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>());
        let n = batch.num_rows();
        let mut preds: Vec<Prediction> = Vec::with_capacity(n);
        let mut lo = 0;
        while lo < n {
            let hi = (lo + opts.chunk_rows.max(1)).min(n);
            let inputs: Vec<TitleInput> = (lo..hi)
                .map(|i| TitleInput {
                    title: if titles.is_null(i) {
                        ""
                    } else {
                        titles.value(i)
                    },
                    description: descs.filter(|d| !d.is_null(i)).map(|d| d.value(i)),
                })
                .collect();
            preds.extend(classifier.classify(&inputs, &mut cache, &cascade, &mut report.stats)?);
            pb.inc((hi - lo) as u64);
            lo = hi;
        }
        // postings columns in canonical order, then classification columns
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(out_schema.fields().len());
        for field in postings_schema().fields() {
            let col = batch.column_by_name(field.name()).ok_or_else(|| {
                pq_err(
                    &path,
                    format!(
                        "column {:?} missing; re-run `jobshift ingest`",
                        field.name()
                    ),
                )
            })?;
            cols.push(col.clone());
        }
        let title_of = |p: &Prediction| classifier.title(&p.title_id);
        let s = |f: &dyn Fn(&Prediction) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(
                preds.iter().map(f).collect::<Vec<Option<String>>>(),
            ))
        };
        cols.push(Arc::new(StringArray::from(
            preds
                .iter()
                .map(|p| p.title_id.clone())
                .collect::<Vec<String>>(),
        )));
        cols.push(s(&|p| title_of(p).map(|t| t.name.clone())));
        cols.push(s(&|p| title_of(p).map(|t| t.family.clone())));
        cols.push(s(&|p| title_of(p).map(|t| t.level.as_str().to_string())));
        cols.push(s(&|p| title_of(p).map(|t| t.tier().as_str().to_string())));
        cols.push(s(&|p| Some(p.seniority.as_str().to_string())));
        cols.push(s(&|p| title_of(p).map(|t| t.soc.clone())));
        cols.push(Arc::new(Float32Array::from(
            preds.iter().map(|p| p.confidence).collect::<Vec<f32>>(),
        )));
        cols.push(Arc::new(StringArray::from(
            preds
                .iter()
                .map(|p| p.method.as_str())
                .collect::<Vec<&str>>(),
        )));
        let out_batch =
            RecordBatch::try_new(out_schema.clone(), cols).map_err(|e| pq_err(&path, e))?;
        let out_path = stage_root.join(&rel);
        jobshift_core::atomic::with_writer(&out_path, |w| {
            let mut writer =
                ArrowWriter::try_new(w, out_schema.clone(), None).map_err(std::io::Error::other)?;
            writer.write(&out_batch).map_err(std::io::Error::other)?;
            writer.close().map_err(std::io::Error::other)?;
            Ok(())
        })
        .map_err(|e| ClassifyError::io(&out_path, e))?;
        for p in &preds {
            *report
                .by_method
                .entry(p.method.as_str().to_string())
                .or_default() += 1;
        }
        report.rows += n;
        report.files_done_now += 1;
        manifest.files.insert(
            rel,
            DoneFile {
                input_bytes: bytes,
                rows: n,
            },
        );
        jobshift_core::atomic::write_json(&manifest_path, &manifest)
            .map_err(|e| ClassifyError::io(&manifest_path, e))?;
    }
    pb.finish_and_clear();
    if work.exists() {
        if !manifest_path.exists() {
            jobshift_core::atomic::write_json(&manifest_path, &manifest)
                .map_err(|e| ClassifyError::io(&manifest_path, e))?;
        }
        commit::commit(&writer, &work, "classify")?;
    }
    drop(writer);
    report.unclassified = report.stats.unclassified;
    report.distinct_titles_embedded = report.stats.title_embedded;
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

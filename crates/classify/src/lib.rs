//! jobshift-classify: the title classifier — training data, heads on sentence embeddings,
//! calibration, the alias → title-embedding → description cascade, seniority, evaluation on
//! real held-out titles, and classification of a whole postings dataset.
//!
//! Entry points:
//! - [`train::train`] / [`train::train_default`] build a classifier directory from the
//!   taxonomy (+ O*NET alternate titles, + human labels, + alias-matched postings);
//! - [`Classifier::load`] and [`Classifier::classify`] apply it to titles;
//! - [`examples`] holds where training examples and held-out evaluation sets come from;
//! - [`dataset::classify_dataset`] writes `DATASET_DIR/classified/` ([`dataset::DatasetRun`] is
//!   its bookkeeping, shared with the cluster);
//! - [`eval::evaluate`] scores it on the O*NET reported titles and the JobBERT titles;
//! - [`flags`] (with the `clap` feature): the flags of `jobshift train`, `eval`, `finetune`,
//!   `classify` and `classify-titles`, and the options they describe.

// This crate is one of the workspace's internals: its docs are built with
// `--document-private-items` (`.ci/run`), where links to private items resolve.
#![allow(rustdoc::private_intra_doc_links)]

mod calibrate;
pub mod classifier;
pub mod dataset;
pub mod embed_cache;
pub mod eval;
pub mod examples;
pub mod finetune;
#[cfg(feature = "clap")]
pub mod flags;
pub mod head_word;
pub mod heads;
mod knn_device;
pub mod population;
mod recalibrate;
pub mod roles;
pub mod script;
pub mod seniority;
mod summary;
pub mod title_file;
pub mod train;
mod trainable_bert;
mod trainable_mpnet;
mod trainable_ops;

pub use classifier::{
    reason, CascadeOptions, CascadeStats, Classifier, ClassifierMeta, Method, Prediction,
    TitleInput,
};
pub use dataset::{classify_dataset, ClassifyOptions, ClassifyReport};
pub use heads::{HeadKind, HeadParams};
pub use recalibrate::{fit_population, write_recalibrated_classifier};
pub use summary::{ClassifySummary, SetDetails, StepTimes, Thresholds};
pub use train::{classifier_for_model, train, train_default, TrainOptions, TrainReport};

use std::path::{Path, PathBuf};

/// A progress bar over `total` items in `template` (indicatif's syntax), or a hidden one when
/// `show` is false: training, fine-tuning and dataset classification draw theirs with it.
pub(crate) fn progress_bar(show: bool, total: u64, template: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(total);
    pb.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb
}

/// Everything that can go wrong in classification.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
    #[error("training failed: {0}")]
    Training(String),
    #[error("prediction failed: {0}")]
    Predict(String),
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("taxonomy: {0}")]
    Taxonomy(#[from] jobshift_taxonomy::TaxonomyError),
    #[error("encoder: {0}")]
    Encode(#[from] jobshift_encode::EncodeError),
    #[error("parquet {path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("no classifier at {path}: {hint}")]
    NoClassifier { path: PathBuf, hint: String },
    #[error(transparent)]
    Lock(#[from] jobshift_core::commit::LockError),
}

impl ClassifyError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ClassifyError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The jobshift cache root: `$JOBSHIFT_CACHE`, else `dirs::cache_dir()/jobshift` (the one
/// jobshift-encode keeps its models under).
pub use jobshift_encode::cache_root;

/// Where a named classifier lives: `cache_root()/classifiers/<name>`.
pub fn classifier_dir(name: &str) -> PathBuf {
    cache_root().join("classifiers").join(name)
}

/// The name of the default classifier (`jobshift train` with no options).
pub const DEFAULT_CLASSIFIER: &str = "default";

/// Serde's `skip_serializing_if` for counts that are left out of the JSON when zero (so
/// records written before a count existed, and runs that never saw it, stay as they were).
pub(crate) fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Copy the directory tree `src` into `dst` (created), leaving out entries whose file name
/// `skip` accepts (fine-tuning leaves out the base weights; every copy leaves out `.tmp-*`).
pub(crate) fn copy_dir(
    src: &Path,
    dst: &Path,
    skip: &dyn Fn(&str) -> bool,
) -> Result<(), ClassifyError> {
    std::fs::create_dir_all(dst).map_err(|e| ClassifyError::io(dst, e))?;
    for e in std::fs::read_dir(src).map_err(|e| ClassifyError::io(src, e))? {
        let e = e.map_err(|e| ClassifyError::io(src, e))?;
        let p = e.path();
        let name = e.file_name();
        if skip(&name.to_string_lossy()) {
            continue;
        }
        let target = dst.join(&name);
        if p.is_dir() {
            copy_dir(&p, &target, skip)?;
        } else {
            std::fs::copy(&p, &target).map_err(|e| ClassifyError::io(&target, e))?;
        }
    }
    Ok(())
}

/// Find the shared data directory (`$JOBSHIFT_SHARED_DATA`, else a `shared/data` directory
/// found walking up from `start`). Used for the O*NET / JobBERT / ESCO files.
pub fn find_shared_data(start: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("JOBSHIFT_SHARED_DATA") {
        let p = PathBuf::from(p);
        if p.is_dir() {
            return Some(p);
        }
    }
    let mut cur = Some(start);
    while let Some(d) = cur {
        let cand = d.join("shared").join("data");
        if cand.is_dir() {
            return Some(cand);
        }
        cur = d.parent();
    }
    None
}

//! The error type of jobshift-label: every variant names the file (and record) and the fix.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot read parquet: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Taxonomy(#[from] jobshift_taxonomy::TaxonomyError),
    #[error(transparent)]
    Lock(#[from] jobshift_core::commit::LockError),
}

impl LabelError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        LabelError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub fn bad_file(path: &Path, message: impl Into<String>) -> Self {
        LabelError::BadFile {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = LabelError> = std::result::Result<T, E>;

//! The error type of jobshift-encode: every failure names the file or model involved and,
//! where there is one, the command that fixes it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// A named model (alias or Hugging Face repo id) is not in the local cache.
    #[error("model {name:?} is not installed (looked in {looked_in}); fetch it with `jobshift model fetch {fetch_arg}`")]
    ModelNotInstalled {
        name: String,
        looked_in: PathBuf,
        fetch_arg: String,
    },
    /// A model directory exists but is missing a file or has a file that fails verification.
    #[error("model at {dir} is incomplete or corrupt: {detail}; re-fetch it with `jobshift model fetch {fetch_arg}`")]
    ModelCorrupt {
        dir: PathBuf,
        detail: String,
        fetch_arg: String,
    },
    /// A configuration file of a model directory could not be read or understood.
    #[error("{path}: {detail}")]
    BadModelFile { path: PathBuf, detail: String },
    /// The model uses an architecture or module this crate does not implement.
    #[error("unsupported model: {0}")]
    Unsupported(String),
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("model fetch failed: {0}")]
    Fetch(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A problem with a user's input file (which line, what is wrong).
    #[error("{path}:{line}: {detail}")]
    Input {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("{0}")]
    Other(String),
}

impl EncodeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EncodeError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn bad_file(path: impl Into<PathBuf>, detail: impl std::fmt::Display) -> Self {
        EncodeError::BadModelFile {
            path: path.into(),
            detail: detail.to_string(),
        }
    }
}

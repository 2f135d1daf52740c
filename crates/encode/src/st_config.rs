//! Reading a sentence-transformers model directory: `modules.json` (the module pipeline),
//! `sentence_bert_config.json` (max_seq_length, lower-casing), `1_Pooling/config.json` (pooling
//! modes), `Dense` layers and the `Normalize` marker.
//!
//! Mirrors what `sentence_transformers.SentenceTransformer(path)` reads, so a directory saved by
//! sentence-transformers loads here with the same behaviour.

use crate::error::EncodeError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One entry of `modules.json`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ModuleEntry {
    #[serde(default)]
    pub idx: usize,
    #[serde(default)]
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Pooling modes, in the order sentence-transformers concatenates them when several are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingMode {
    Cls,
    Max,
    Mean,
    MeanSqrtLen,
    WeightedMean,
    LastToken,
}

impl PoolingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolingMode::Cls => "cls",
            PoolingMode::Max => "max",
            PoolingMode::Mean => "mean",
            PoolingMode::MeanSqrtLen => "mean_sqrt_len_tokens",
            PoolingMode::WeightedMean => "weightedmean",
            PoolingMode::LastToken => "lasttoken",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
struct PoolingFile {
    word_embedding_dimension: Option<usize>,
    pooling_mode: Option<String>,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
    #[serde(default = "yes")]
    include_prompt: bool,
}

fn yes() -> bool {
    true
}

/// The pooling configuration of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolingConfig {
    pub modes: Vec<PoolingMode>,
    pub word_embedding_dimension: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Default)]
struct SbertFile {
    max_seq_length: Option<usize>,
    #[serde(default)]
    do_lower_case: bool,
}

/// A `sentence_transformers.models.Dense` module: `activation(W x + b)`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseConfig {
    pub in_features: usize,
    pub out_features: usize,
    #[serde(default = "yes")]
    pub bias: bool,
    #[serde(default = "identity")]
    pub activation_function: String,
    #[serde(skip)]
    pub dir: PathBuf,
}

fn identity() -> String {
    "torch.nn.modules.linear.Identity".to_string()
}

/// Everything a sentence-transformers directory says about how to turn text into a vector.
#[derive(Debug, Clone)]
pub(crate) struct StConfig {
    /// Directory of the Transformer module (config.json, tokenizer.json, weights).
    pub transformer_dir: PathBuf,
    /// `max_seq_length` from `sentence_bert_config.json`, if given.
    pub max_seq_length: Option<usize>,
    pub do_lower_case: bool,
    pub pooling: PoolingConfig,
    pub dense: Vec<DenseConfig>,
    pub normalize: bool,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, EncodeError> {
    let bytes = std::fs::read(path).map_err(|e| EncodeError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| EncodeError::bad_file(path, e))
}

fn parse_pooling(path: &Path) -> Result<PoolingConfig, EncodeError> {
    let f: PoolingFile = read_json(path)?;
    if !f.include_prompt {
        return Err(EncodeError::Unsupported(format!(
            "{}: include_prompt=false (prompt-excluding pooling) is not implemented",
            path.display()
        )));
    }
    let mut modes = Vec::new();
    if let Some(mode) = &f.pooling_mode {
        let m = match mode.as_str() {
            "cls" => PoolingMode::Cls,
            "max" => PoolingMode::Max,
            "mean" => PoolingMode::Mean,
            "mean_sqrt_len_tokens" => PoolingMode::MeanSqrtLen,
            "weightedmean" => PoolingMode::WeightedMean,
            "lasttoken" => PoolingMode::LastToken,
            other => {
                return Err(EncodeError::bad_file(
                    path,
                    format!("unknown pooling_mode {other:?}"),
                ))
            }
        };
        modes.push(m);
    } else {
        // sentence_transformers.models.Pooling concatenates in this order.
        let flags = [
            (f.pooling_mode_cls_token, PoolingMode::Cls),
            (f.pooling_mode_max_tokens, PoolingMode::Max),
            (f.pooling_mode_mean_tokens, PoolingMode::Mean),
            (
                f.pooling_mode_mean_sqrt_len_tokens,
                PoolingMode::MeanSqrtLen,
            ),
            (
                f.pooling_mode_weightedmean_tokens,
                PoolingMode::WeightedMean,
            ),
            (f.pooling_mode_lasttoken, PoolingMode::LastToken),
        ];
        modes.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, m)| m));
    }
    if modes.is_empty() {
        return Err(EncodeError::bad_file(path, "no pooling mode is enabled"));
    }
    Ok(PoolingConfig {
        modes,
        word_embedding_dimension: f.word_embedding_dimension,
    })
}

impl StConfig {
    /// Read a model directory. A plain Hugging Face transformer directory without `modules.json`
    /// is read the way sentence-transformers reads it: Transformer + mean pooling.
    pub fn read(root: &Path) -> Result<StConfig, EncodeError> {
        let modules_path = root.join("modules.json");
        let modules: Vec<ModuleEntry> = if modules_path.exists() {
            let mut m: Vec<ModuleEntry> = read_json(&modules_path)?;
            m.sort_by_key(|e| e.idx);
            m
        } else {
            vec![ModuleEntry {
                idx: 0,
                path: String::new(),
                kind: "sentence_transformers.models.Transformer".into(),
            }]
        };
        let mut transformer_dir = None;
        let mut pooling = None;
        let mut dense = Vec::new();
        let mut normalize = false;
        for m in &modules {
            let kind = m.kind.rsplit('.').next().unwrap_or(&m.kind);
            let dir = root.join(&m.path);
            match kind {
                "Transformer" => {
                    if transformer_dir.is_some() {
                        return Err(EncodeError::Unsupported(format!(
                            "{}: more than one Transformer module",
                            modules_path.display()
                        )));
                    }
                    transformer_dir = Some(dir);
                }
                "Pooling" => pooling = Some(parse_pooling(&dir.join("config.json"))?),
                "Dense" => {
                    let mut d: DenseConfig = read_json(&dir.join("config.json"))?;
                    d.dir = dir;
                    dense.push(d);
                }
                "Normalize" => normalize = true,
                other => {
                    return Err(EncodeError::Unsupported(format!(
                        "{}: module type {other:?} ({}) is not implemented",
                        modules_path.display(),
                        m.kind
                    )))
                }
            }
        }
        let transformer_dir = transformer_dir.ok_or_else(|| {
            EncodeError::bad_file(
                &modules_path,
                "no sentence_transformers.models.Transformer module",
            )
        })?;
        let pooling = pooling.unwrap_or(PoolingConfig {
            modes: vec![PoolingMode::Mean],
            word_embedding_dimension: None,
        });
        let sbert_path = transformer_dir.join("sentence_bert_config.json");
        let sbert: SbertFile = if sbert_path.exists() {
            read_json(&sbert_path)?
        } else {
            SbertFile::default()
        };
        Ok(StConfig {
            transformer_dir,
            max_seq_length: sbert.max_seq_length,
            do_lower_case: sbert.do_lower_case,
            pooling,
            dense,
            normalize,
        })
    }
}

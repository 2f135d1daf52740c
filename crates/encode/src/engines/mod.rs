//! The transformer forward passes behind [`crate::SentenceTransformer`], and which one runs when.
//!
//! | engine | runs when | file |
//! |---|---|---|
//! | packed CPU engine (BERT and MPNet) | `--device cpu` with `--dtype f32`: the default everywhere | [`packed_cpu`] |
//! | candle BERT (candle-transformers) | BERT-family models on `--device cuda[:N]`, or with `--dtype f16/bf16` | `candle_transformers::models::bert` |
//! | candle MPNet (our port; candle-transformers has none) | MPNet models on `--device cuda[:N]`, or with `--dtype f16/bf16` | [`mpnet`] |
//!
//! `JOBSHIFT_ENCODER_ENGINE=candle` forces candle on the CPU too (for comparisons), and a model the
//! packed engine does not support (another position scheme or activation) falls back to candle
//! (`SentenceTransformer`'s `packed_config`). All three produce the vectors of Python sentence-transformers (`tests/parity.rs`). The
//! fine-tuning copies in jobshift-classify (`trainable_bert`, `trainable_mpnet`) are a fourth
//! forward pass: the same layers with trainable variables, used only by `jobshift finetune`,
//! whose output is loaded back through these engines.

pub mod mpnet;
pub mod packed_cpu;

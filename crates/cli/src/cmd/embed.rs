//! `jobshift embed`: turn a file of texts into vectors with a sentence-transformer model.
//!
//! Input: one text per line, or JSONL with a string field `text` (by extension or
//! `--input-format`). Output by extension: `.jsonl` (a JSON array per line), `.npy` (f32,
//! n × dim) or `.parquet` (`row`, `embedding`), one row per input record, in input order,
//! written atomically. Repeated texts are encoded once (embedding cache).

use anyhow::Context;
use jobshift_encode::io::{embed_file, InputFormat};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// minilm | mpnet | Hugging Face repo id | model directory | static:DIR
    #[arg(long, default_value = "mpnet")]
    model: String,
    /// Texts: one per line, or JSONL with a "text" field
    #[arg(long)]
    input: PathBuf,
    /// .jsonl | .npy | .parquet
    #[arg(long)]
    output: PathBuf,
    /// auto (by extension) | lines | jsonl
    #[arg(long, default_value = "auto")]
    input_format: String,
    /// Most texts per forward pass [default: 128 on the CPU, 512 on a GPU]
    #[arg(long)]
    batch_size: Option<usize>,
    #[command(flatten)]
    device: super::DeviceArgs,
    /// Threads for matrix work (default: all cores)
    #[arg(long)]
    threads: Option<usize>,
    /// Embedding-cache budget in MiB (0 disables)
    #[arg(long, default_value_t = 256)]
    cache_mb: usize,
    /// Hide the progress bar
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(t) = args.threads {
        std::env::set_var("RAYON_NUM_THREADS", t.to_string());
    }
    let format = match args.input_format.as_str() {
        "auto" => InputFormat::from_path(&args.input),
        "lines" => InputFormat::Lines,
        "jsonl" => InputFormat::Jsonl,
        other => anyhow::bail!("--input-format {other:?}: expected auto, lines or jsonl"),
    };
    let options = args.device.load_options(args.batch_size)?;
    let encoder = jobshift_encode::load_encoder_with(&args.model, options, args.cache_mb << 20)?;
    let summary = embed_file(
        encoder.as_ref(),
        &args.input,
        format,
        &args.output,
        8192,
        !args.quiet,
    )
    .with_context(|| format!("embedding {}", args.input.display()))?;
    eprintln!(
        "embedded {} texts ({}-d, {}) into {} in {:.1}s ({:.0} texts/s)",
        summary.rows,
        summary.dim,
        encoder.model_id(),
        args.output.display(),
        summary.seconds,
        summary.rows as f64 / summary.seconds.max(1e-9)
    );
    Ok(())
}

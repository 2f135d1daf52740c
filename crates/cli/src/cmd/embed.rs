//! `jobshift embed`: turn a file of texts into vectors with a sentence-transformer model.
//!
//! Input: one text per line, or JSONL with a string field `text` (by extension or
//! `--input-format`). Output by extension: `.jsonl` (a JSON array per line), `.npy` (f32,
//! n × dim) or `.parquet` (`row`, `embedding`), one row per input record, in input order,
//! written atomically. Repeated texts are encoded once (embedding cache).

use anyhow::Context;
use jobshift_encode::flags::EmbedArgs;
use jobshift_encode::io::{embed_file, InputFormat};

pub fn run(args: EmbedArgs) -> anyhow::Result<()> {
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

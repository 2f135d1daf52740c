//! One module per subcommand, each with a `run` function. The flags live beside the options
//! they describe, in each stage crate's `flags` module (its `clap` feature).

pub mod classify;
pub mod cluster;
pub mod collect;
pub mod dataset;
pub mod demo;
pub mod embed;
pub mod generate;
pub mod ingest;
pub mod label;
pub mod model;
pub mod report;
pub mod serve;
pub mod sql;
pub mod taxonomy;

/// Where object-store datasets' working copies live (default: `<jobshift cache>/object-datasets`).
pub const WORK_DIR_ENV: &str = "JOBSHIFT_WORK_DIR";

/// Where `ingest` and `classify` write `dataset`: the directory, or for `s3://BUCKET/PREFIX` a
/// working copy under [`WORK_DIR_ENV`], with the dataset's writer lease taken (see
/// `jobshift_trends::publish`). [`jobshift_trends::publish::Target::finish`] publishes it.
pub fn write_target(
    dataset: &std::path::Path,
    command: &str,
) -> anyhow::Result<jobshift_trends::publish::Target> {
    let work_root = std::env::var_os(WORK_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| jobshift_encode::cache_root().join("object-datasets"));
    Ok(jobshift_trends::publish::Target::open(
        dataset,
        &work_root,
        command,
        &mut |m| eprintln!("{m}"),
    )?)
}

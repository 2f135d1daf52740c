//! One module per subcommand. Each exports its clap `Args` and a `run` function.

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

pub use jobshift_core::memory::parse_memory_size;

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
    pub fn is_gpu(&self) -> anyhow::Result<bool> {
        Ok(jobshift_encode::DeviceSpec::parse(&self.device)? != jobshift_encode::DeviceSpec::Cpu)
    }

    /// The encoder's load options; `batch_size` overrides the device's default batching.
    pub fn load_options(
        &self,
        batch_size: Option<usize>,
    ) -> anyhow::Result<jobshift_encode::LoadOptions> {
        Ok(jobshift_encode::load_options(
            &self.device,
            &self.dtype,
            batch_size,
        )?)
    }
}

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

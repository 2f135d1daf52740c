//! Where inference runs: `--device cpu|cuda[:N]` and `--dtype f32|f16|bf16` turned into candle's
//! [`Device`] and [`DType`], with one clear message for every way a GPU can be unavailable.
//!
//! jobshift never falls back silently: a command that asked for `cuda` either runs there or
//! stops and says why (a CPU-only build, no driver, no such GPU). Batching defaults differ by
//! device: a GPU wants large batches to be busy, a CPU wants small ones to stay in cache.

use crate::error::EncodeError;
use candle_core::{DType, Device};

/// How to load and run a model.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: Device,
    /// Weights and activations dtype: F32 (default, reference parity), F16 or BF16.
    pub dtype: DType,
    /// Most texts per forward pass.
    pub batch_size: usize,
    /// Most tokens (texts × padded length) per forward pass; bounds attention memory.
    pub max_batch_tokens: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            device: Device::Cpu,
            dtype: DType::F32,
            batch_size: 128,
            max_batch_tokens: 8192,
        }
    }
}

impl LoadOptions {
    /// The CUDA device `ordinal` (only with the `cuda` cargo feature).
    #[cfg(feature = "cuda")]
    pub fn cuda(ordinal: usize) -> Result<Self, EncodeError> {
        load_options(&format!("cuda:{ordinal}"), "f32", None)
    }
}

/// Parse "f32" | "f16" | "bf16".
pub fn parse_dtype(s: &str) -> Result<DType, EncodeError> {
    match s.to_ascii_lowercase().as_str() {
        "f32" | "float32" => Ok(DType::F32),
        "f16" | "float16" | "half" => Ok(DType::F16),
        "bf16" | "bfloat16" => Ok(DType::BF16),
        other => Err(EncodeError::Other(format!(
            "unknown dtype {other:?}; expected f32, f16 or bf16"
        ))),
    }
}

/// What `--device` asked for, before any driver is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Cuda(usize),
}

impl DeviceSpec {
    /// Parse `cpu`, `cuda`, `gpu` or `cuda:N` (case and surrounding spaces ignored).
    pub fn parse(spec: &str) -> Result<DeviceSpec, EncodeError> {
        let s = spec.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" | "gpu" => Ok(DeviceSpec::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceSpec::Cuda(n)),
                _ => Err(EncodeError::Other(format!(
                    "--device {spec:?}: expected cpu, cuda or cuda:N"
                ))),
            },
        }
    }

    /// Open the device. A CPU-only build refuses `cuda` with how to rebuild; a CUDA build on a
    /// machine without a usable GPU says what the driver answered and what to check.
    pub fn open(self) -> Result<Device, EncodeError> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Cuda(n) => open_cuda(n),
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(n: usize) -> Result<Device, EncodeError> {
    Err(EncodeError::Other(format!(
        "--device cuda:{n}: this jobshift was built without CUDA; rebuild with \
         `cargo build --release --features cuda` (see docs/gpu.md), or use --device cpu"
    )))
}

#[cfg(feature = "cuda")]
fn open_cuda(n: usize) -> Result<Device, EncodeError> {
    Device::new_cuda(n).map_err(|e| {
        EncodeError::Other(format!(
            "--device cuda:{n}: no usable CUDA device ({e}); check `nvidia-smi`, \
             CUDA_VISIBLE_DEVICES and that the driver supports CUDA 13 (docs/gpu.md), or use --device cpu"
        ))
    })
}

/// Parse `--device` and open it.
pub fn parse_device(spec: &str) -> Result<Device, EncodeError> {
    DeviceSpec::parse(spec)?.open()
}

/// Load options for `--device` / `--dtype`, with batching suited to the device: on a GPU, large
/// batches (512 texts, 256k tokens) so the device is busy; on the CPU, the defaults. A
/// `batch_size` given by the user wins on either.
pub fn load_options(
    device: &str,
    dtype: &str,
    batch_size: Option<usize>,
) -> Result<LoadOptions, EncodeError> {
    let device = parse_device(device)?;
    let dtype = parse_dtype(dtype)?;
    if device.is_cpu() && dtype == DType::BF16 && !cfg!(target_arch = "x86_64") {
        return Err(EncodeError::Other(
            "--dtype bf16 on the CPU needs x86-64; use f32".into(),
        ));
    }
    let mut options = if device.is_cpu() {
        LoadOptions::default()
    } else {
        LoadOptions {
            batch_size: 512,
            max_batch_tokens: 256 * 1024,
            ..LoadOptions::default()
        }
    };
    options.device = device;
    options.dtype = dtype;
    if let Some(b) = batch_size {
        options.batch_size = b.max(1);
    }
    Ok(options)
}

/// Whether a candle error is the device running out of memory (then the caller retries with a
/// smaller batch). candle boxes the CUDA driver's and cuBLAS's errors without a typed kind, so
/// the driver's own names for the condition are matched.
pub(crate) fn is_out_of_memory(e: &candle_core::Error) -> bool {
    let text = e.to_string();
    text.contains("OUT_OF_MEMORY")
        || text.contains("out of memory")
        || text.contains("ALLOC_FAILED")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_and_rejects_the_rest() {
        assert_eq!(DeviceSpec::parse("cpu").unwrap(), DeviceSpec::Cpu);
        assert_eq!(DeviceSpec::parse(" CPU ").unwrap(), DeviceSpec::Cpu);
        assert_eq!(DeviceSpec::parse("cuda").unwrap(), DeviceSpec::Cuda(0));
        assert_eq!(DeviceSpec::parse("gpu").unwrap(), DeviceSpec::Cuda(0));
        assert_eq!(DeviceSpec::parse("cuda:3").unwrap(), DeviceSpec::Cuda(3));
        for bad in ["", "cuda:", "cuda:x", "tpu", "cuda:-1"] {
            let e = DeviceSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected cpu, cuda or cuda:N"), "{bad}: {e}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn a_cpu_only_build_refuses_cuda_in_one_line_saying_how_to_rebuild() {
        let e = parse_device("cuda:0").unwrap_err().to_string();
        assert!(e.contains("--features cuda"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = load_options("cuda", "f32", None).unwrap_err().to_string();
        assert!(e.contains("built without CUDA"), "{e}");
    }

    #[test]
    fn cpu_options_keep_the_defaults_and_a_given_batch_wins() {
        let o = load_options("cpu", "f32", None).unwrap();
        assert!(o.device.is_cpu());
        assert_eq!(o.batch_size, LoadOptions::default().batch_size);
        assert_eq!(o.max_batch_tokens, LoadOptions::default().max_batch_tokens);
        let o = load_options("cpu", "f16", Some(7)).unwrap();
        assert_eq!(o.batch_size, 7);
        assert_eq!(o.dtype, DType::F16);
        assert!(load_options("cpu", "f64", None).is_err());
    }

    #[test]
    fn out_of_memory_is_recognised_from_the_driver_names() {
        let oom = candle_core::Error::Msg(
            "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")".into(),
        );
        assert!(is_out_of_memory(&oom));
        assert!(!is_out_of_memory(&candle_core::Error::Msg(
            "shape mismatch".into()
        )));
    }
}

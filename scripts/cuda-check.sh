#!/usr/bin/env bash
# Compile-check the `cuda` feature on a machine without a GPU: installs the CUDA 13.0 toolkit
# from PyPI (scripts/cuda-toolkit.sh), then type-checks jobshift-encode — the one crate with
# CUDA-only code (`#[cfg(feature = "cuda")]`) — with candle's CUDA backend, which runs nvcc on
# candle's kernels for CUDA_COMPUTE_CAP (default 90: H100/H200). Its own target directory, so
# the CPU build's cache is untouched. About 33 minutes on 2 cores from a cold cache; CI does
# not run it (it would not fit beside the test suite in CI's 90 minutes).
#
#   scripts/cuda-check.sh            # exit 0 when the feature compiles
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/cuda-toolkit.sh >/dev/null
eval "$(scripts/cuda-toolkit.sh --env)"
export CARGO_TARGET_DIR="${CUDA_CHECK_TARGET_DIR:-$HOME/.cache/jobshift/target-cuda-check}"
cargo check -p jobshift-encode --features cuda --all-targets --message-format short

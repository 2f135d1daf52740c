#!/usr/bin/env bash
# Install the CUDA 13.0 toolkit pieces that `cargo build --features cuda` needs, from PyPI only
# (NVIDIA's wheels), into PREFIX, and print the environment to build with. No GPU and no driver
# are needed to build: the driver library is replaced at link time by a stub that only names its
# functions (as NVIDIA's own toolkit stubs do); the real libcuda.so.1 of the GPU machine's driver
# is the one loaded at run time.
#
#   scripts/cuda-toolkit.sh [PREFIX]        # default PREFIX: ~/.cache/jobshift/cuda-13.0
#   eval "$(scripts/cuda-toolkit.sh --env [PREFIX])"
#   cargo build --release --features cuda -p jobshift
#
# What comes from where: nvcc, cicc (nvvm), the CUDA runtime, C runtime headers and CCCL compile
# candle's kernels to PTX for compute capability 9.0 (CUDA_COMPUTE_CAP, default 90: H100/H200);
# cuBLAS, cuRAND and NVRTC are linked by name (cudarc's dynamic-linking) and loaded at run time
# from the GPU machine (see docs/gpu.md for LD_LIBRARY_PATH).
set -euo pipefail
env_only=0
if [ "${1:-}" = "--env" ]; then env_only=1; shift; fi
PREFIX="${1:-$HOME/.cache/jobshift/cuda-13.0}"
ROOT="$PREFIX/site/nvidia/cu13"

print_env() {
  echo "export CUDA_ROOT='$ROOT'"
  echo "export PATH='$ROOT/bin':\"\$PATH\""
  echo "export CUDA_COMPUTE_CAP=\"\${CUDA_COMPUTE_CAP:-90}\""
  echo "export LIBRARY_PATH='$ROOT/lib':\"\${LIBRARY_PATH:-}\""
}
if [ $env_only = 1 ]; then print_env; exit 0; fi

if [ ! -x "$ROOT/bin/nvcc" ] || [ ! -e "$ROOT/lib/libcuda.so" ]; then
  mkdir -p "$PREFIX/wheels"
  python3 -m pip download -q --no-deps -d "$PREFIX/wheels" \
    'nvidia-cuda-nvcc==13.0.88' 'nvidia-cuda-runtime==13.0.96' 'nvidia-cuda-crt==13.0.88' \
    'nvidia-nvvm==13.0.88' 'nvidia-cuda-cccl==13.0.85' 'nvidia-cublas==13.0.2.14' \
    'nvidia-curand==10.4.0.35' 'nvidia-cuda-nvrtc==13.0.88'
  python3 -m pip install -q --no-deps --no-compile --upgrade --target "$PREFIX/site" "$PREFIX"/wheels/*.whl
  rm -rf "$PREFIX/wheels"
  # unversioned names for the linker (the wheels carry only the sonames)
  for so in "$ROOT"/lib/lib*.so.*; do
    base="${so%%.so.*}.so"
    [ -e "$base" ] || ln -s "$(basename "$so")" "$base"
  done
  # the driver stub: every cu* entry point cudarc's driver bindings name, soname libcuda.so.1
  bindings=$(ls -d "$HOME"/.cargo/registry/src/*/cudarc-0.19.*/src/driver/sys/mod.rs 2>/dev/null | tail -1)
  if [ -z "$bindings" ]; then
    echo "cudarc 0.19 sources not found: run \`cargo fetch\` in the jobshift checkout first" >&2
    exit 1
  fi
  grep -oE '^ +fn cu[A-Za-z0-9_]+' "$bindings" | sed 's/^ *fn //' | sort -u |
    awk '{print "void " $1 "(void) {}"}' > "$PREFIX/libcuda_stub.c"
  cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$ROOT/lib/libcuda.so" "$PREFIX/libcuda_stub.c"
fi
"$ROOT/bin/nvcc" --version | tail -2 >&2
print_env

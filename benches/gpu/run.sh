#!/usr/bin/env bash
# The GPU measurement, in one run on the GPU machine (no Rust, no network, no weights there).
# Prepared here by benches/gpu/prepare.sh into .gpu/ (carried): the `cuda` jobshift binary
# (xz), the MiniLM and MPNet skeletons (configs + tokenizers), and the benchmark texts.
#
#   benches/gpu/run.sh                     # writes $OUT (or /tmp/gpu-out): log.txt, *.jsonl
#   DEVICE=cpu QUICK=1 benches/gpu/run.sh  # a dry run of every step on a CPU (tiny sizes)
#
# Steps (each time-boxed so one slow step cannot eat the rest):
#   1. random weights of the real shapes (make_weights.py, torch, seed 0);
#   2. parity: jobshift embed vs sentence-transformers on the same weights and texts, f32/f16/bf16;
#   3. throughput: titles and 256-token descriptions, both models, jobshift vs s-t, f32 and f16;
#   4. classify: generate → ingest → train (kNN on the random MPNet) → classify --device.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
G="${GPU_DIR:-.gpu}"
O="${OUT:-/tmp/gpu-out}"
DEVICE="${DEVICE:-cuda}"
QUICK="${QUICK:-0}"
mkdir -p "$O"
exec > >(tee -a "$O/log.txt") 2>&1
T0=$(date +%s)
say() { echo "== [$(( $(date +%s) - T0 ))s] $*"; }

if [ "$QUICK" = 1 ]; then
  N_TITLES=300; N_DESC=60; N_PARITY=200; POSTINGS=2000; REPEAT=1
else
  N_TITLES=50000; N_DESC=10000; N_PARITY=2000; POSTINGS="${POSTINGS:-1000000}"; REPEAT=3
fi

say "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || echo "no nvidia-smi"
nproc; python3 -c 'import torch, sentence_transformers as st, transformers as tf; print("torch", torch.__version__, "s-t", st.__version__, "transformers", tf.__version__, "cuda", torch.cuda.is_available())'

BIN=/tmp/jobshift-gpu
if [ -f "$G/jobshift.xz" ]; then
  python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('$G/jobshift.xz'), open('$BIN', 'wb'))"
else
  cp "$G/jobshift" "$BIN"
fi
chmod +x "$BIN"
# the CUDA libraries jobshift links by name (cuBLAS, cuRAND, NVRTC, cudart) come from the
# NVIDIA wheels PyTorch already installed
NVLIBS=$(python3 - <<'PY' 2>/dev/null
import pathlib
try:
    import nvidia
    roots = [pathlib.Path(p) for p in nvidia.__path__]
    print(":".join(sorted({str(l.parent) for r in roots for l in r.glob("**/lib/lib*.so*")})))
except Exception:
    pass
PY
)
export LD_LIBRARY_PATH="${NVLIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ldd "$BIN" | grep -E "not found|cublas|cudart|curand|nvrtc|libcuda" || true
"$BIN" --version || { echo "the binary does not start"; exit 1; }

say "1. random weights"
M=/tmp/gpu-models
mkdir -p "$M"
for m in minilm mpnet; do
  timeout 300 python3 "$HERE/make_weights.py" "$G/$m" "$M/$m" || exit 1
done

head -n "$N_TITLES" "$G/titles.txt" > /tmp/titles.txt
head -n "$N_DESC" "$G/desc256.txt" > /tmp/desc256.txt
{ head -n "$N_PARITY" "$G/titles.txt"; head -n $((N_PARITY / 4)) "$G/desc256.txt"; } > /tmp/parity.txt

say "2. parity (jobshift vs sentence-transformers, same weights)"
ST_DEVICE_OK=1
[ "$DEVICE" = cpu ] && ST_DEVICE_OK=0
for m in minilm mpnet; do
  for dt in f32 f16 bf16; do
    timeout 300 "$BIN" embed --model "$M/$m" --input /tmp/parity.txt --output "/tmp/js-$m-$dt.npy" \
      --device "$DEVICE" --dtype "$dt" --cache-mb 0 --quiet || echo "jobshift embed $m $dt FAILED"
    if [ $ST_DEVICE_OK = 1 ]; then
      timeout 300 python3 "$HERE/peer.py" embed --model "$M/$m" --texts /tmp/parity.txt --dtype "$dt" \
        --out "/tmp/st-$m-$dt.npy" || echo "s-t embed $m $dt FAILED"
    fi
  done
  for dt in f32 f16 bf16; do
    if [ $ST_DEVICE_OK = 1 ]; then
      python3 "$HERE/peer.py" compare "/tmp/js-$m-$dt.npy" "/tmp/st-$m-$dt.npy" --label "$m $dt: jobshift vs s-t $dt" --json "$O/parity.jsonl"
      python3 "$HERE/peer.py" compare "/tmp/js-$m-$dt.npy" "/tmp/st-$m-f32.npy" --label "$m $dt: jobshift vs s-t f32" --json "$O/parity.jsonl"
    else
      python3 "$HERE/peer.py" compare "/tmp/js-$m-$dt.npy" "/tmp/js-$m-f32.npy" --label "$m $dt: jobshift vs jobshift f32" --json "$O/parity.jsonl"
    fi
  done
done

say "3. throughput"
for m in minilm mpnet; do
  for w in titles desc256; do
    if [ $w = titles ]; then bs=512; else bs=128; fi
    for dt in f16 f32; do
      timeout 240 "$BIN" model bench --model "$M/$m" --input "/tmp/$w.txt" --batch-size $bs \
        --device "$DEVICE" --dtype $dt --repeat $REPEAT --json "$O/speed.jsonl" || echo "jobshift bench $m $w $dt FAILED"
      if [ $ST_DEVICE_OK = 1 ]; then
        timeout 240 python3 "$HERE/peer.py" bench --model "$M/$m" --texts "/tmp/$w.txt" --batch-size $bs \
          --dtype $dt --repeat $REPEAT --json "$O/speed.jsonl" || echo "s-t bench $m $w $dt FAILED"
      fi
    done
  done
done

say "4. classify $POSTINGS generated postings with descriptions"
W=/tmp/gpu-classify
rm -rf "$W"; mkdir -p "$W"
/usr/bin/time -v "$BIN" generate --postings "$POSTINGS" --out "$W/gen" --format parquet > "$W/generate.txt" 2>&1 || { tail "$W/generate.txt"; echo "generate FAILED"; }
tail -3 "$W/generate.txt"
/usr/bin/time -v "$BIN" ingest "$W"/gen/*.parquet --out "$W/ds" > "$W/ingest.txt" 2>&1 || { tail "$W/ingest.txt"; echo "ingest FAILED"; }
tail -3 "$W/ingest.txt"
timeout 400 "$BIN" train --model "$M/mpnet" --head knn --no-onet-alternates --no-eval --out "$W/clf" > "$W/train.txt" 2>&1 || { tail -5 "$W/train.txt"; echo "train FAILED"; }
tail -3 "$W/train.txt"
for dt in f16; do
  timeout 600 /usr/bin/time -v "$BIN" classify "$W/ds" --classifier "$W/clf" --device "$DEVICE" --dtype $dt --force > "$W/classify-$dt.txt" 2>&1 || echo "classify $dt FAILED"
  grep -vE "^\s+(Page|Socket|Signals|Swaps|File system|Average|Exit|Voluntary|Involuntary|Minor|Major)" "$W/classify-$dt.txt" | tail -40
  cp "$W/classify-$dt.txt" "$O/"
done
say "done"

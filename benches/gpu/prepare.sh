#!/usr/bin/env bash
# Prepare the GPU measurement (benches/gpu/run.sh) here, on the build machine: build the `cuda`
# jobshift with CUDA 13.0 from PyPI (scripts/cuda-toolkit.sh) for compute capability 9.0,
# strip and xz it, and gather what the GPU machine lacks into .gpu/ (ignored by git; at most
# 64 MiB can be carried): model skeletons (configs and tokenizers, no weights) and texts.
#
#   benches/gpu/prepare.sh            # then: device run with carry [".gpu"] and benches/gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jobshift/target}"
G=.gpu
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> "$(git rev-parse --git-common-dir)/info/exclude"
mkdir -p "$G"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  eval "$(scripts/cuda-toolkit.sh)"
  cargo build --release --features cuda -p jobshift
fi
BIN="${JOBSHIFT_BIN:-$CARGO_TARGET_DIR/release/jobshift}"
if [ "${SKIP_BINARY:-0}" != 1 ]; then
  strip -o "$G/jobshift" "$BIN"
  rm -f "$G/jobshift.xz"
  xz -T2 -6 "$G/jobshift"
fi

MODELS="${JOBSHIFT_MODELS:-$HOME/.cache/jobshift/models}"
for m in minilm mpnet; do
  src="$MODELS/$m"
  [ -f "$src/config.json" ] || { echo "$src: run \`jobshift model fetch $m\` first" >&2; exit 1; }
  rm -rf "${G:?}/$m"
  (cd "$src" && find . -type f ! -name '*.safetensors' ! -name '*.bin' ! -name '*.onnx' ! -name '*.h5' \
      ! -name '*.msgpack' ! -name '*.ot' ! -path './onnx/*' ! -path './openvino/*' ! -name 'jobshift-manifest.json' ! -name 'jobshift-model.json' \
      -size -4M) | while read -r f; do mkdir -p "$G/$m/$(dirname "$f")"; cp "$src/$f" "$G/$m/$f"; done
done

python3 benches/encode/bench.py prepare --data ../shared/data --out "$G" --titles 50000 --descs 10000 \
  --tokenizer "$MODELS/minilm/tokenizer.json"
# more titles than HN has (18,669): O*NET alternate titles after them, 60,000 in all
python3 - "$G/titles.txt" <<'PY'
import csv, sys
path = sys.argv[1]
rows = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip()]
with open("../shared/data/onet-alternate-titles/alternate_titles.tsv", encoding="utf-8") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        t = " ".join((row.get("Alternate Title") or "").split())
        if t and len(rows) < 60000:
            rows.append(t)
open(path, "w", encoding="utf-8").write("\n".join(rows) + "\n")
PY
du -sh "$G" "$G"/*

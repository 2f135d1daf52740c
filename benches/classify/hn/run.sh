#!/usr/bin/env bash
# Issue #17 measurements, in order: train the default classifier from a directory far from the
# shared data, score it on the held-out sets, then classify the real Hacker News files.
#   flock /tmp/jobshift-measure.lock benches/classify/hn/run.sh OUTDIR [CLASSIFIER_NAME]
# Needs: the release binary ($JOBSHIFT, default $CARGO_TARGET_DIR/release/jobshift), the MiniLM
# model (`jobshift model fetch minilm`), ../shared/data. Prints load averages with each step.
set -euo pipefail
OUT=${1:?usage: run.sh OUTDIR [NAME]}
NAME=${2:-default}
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
SHARED=${JOBSHIFT_SHARED_DATA:-$REPO/../shared/data}
J=${JOBSHIFT:-${CARGO_TARGET_DIR:-$HOME/.cache/jobshift/target}/release/jobshift}
CL=${JOBSHIFT_CACHE:-$HOME/.cache/jobshift}/classifiers/$NAME
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
load() { echo "[load $(cut -d' ' -f1-3 /proc/loadavg)] $*"; }
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  FAR=$(mktemp -d /tmp/jobshift-far-XXXX)
  load "train $NAME from $FAR (no shared data in reach)"
  (cd "$FAR" && env -u JOBSHIFT_SHARED_DATA /usr/bin/time -v "$J" train --name "$NAME" --no-eval) \
    2> >(tee "$OUT/train.log" >&2)
fi
load "eval"
(cd "$REPO" && "$J" eval --classifier "$CL" --json "$OUT/eval.json") | tee "$OUT/eval.txt"
python3 "$REPO/benches/classify/hn/prep.py" "$SHARED" "$OUT/in" > /dev/null
for f in titles_2022_2025 fulltext_2026 fulltext_2013_2018; do
  load "classify-titles $f"
  "$J" classify-titles --classifier "$CL" --input "$OUT/in/$f.jsonl" --output "$OUT/$f.out.jsonl" 2> "$OUT/$f.log"
  cat "$OUT/$f.log"
  python3 "$REPO/benches/classify/hn/score.py" "$OUT/$f.out.jsonl" --taxonomy "$REPO/taxonomy"
done

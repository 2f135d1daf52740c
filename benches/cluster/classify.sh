#!/usr/bin/env bash
# Benchmark (not a test): `jobshift classify` of a postings dataset, locally and on a loopback
# cluster (1 executor x 2 tasks, then 2 executors x 1 task). Per run: wall, the client's CPU and
# peak RSS, each node's CPU and peak RSS (from /proc before it is stopped), and whether
# classified/ is byte-identical to the local run's.
#
#   benches/cluster/classify.sh BIN DATASET_DIR CLASSIFIER_DIR
#
# DATASET_DIR needs postings/ (ingested); it is copied, never changed. Run it under
# `flock /tmp/jobshift-measure.lock` on a shared machine, and note the load.
set -euo pipefail
BIN=${1:?usage: classify.sh BIN DATASET_DIR CLASSIFIER_DIR}
DATA=${2:?usage: classify.sh BIN DATASET_DIR CLASSIFIER_DIR}
CLS=$(realpath "${3:?usage: classify.sh BIN DATASET_DIR CLASSIFIER_DIR}")
WORK=$(mktemp -d /tmp/jobshift-cluster-classify.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
. "$(dirname "$0")/lib.sh"
SHOW_FIRST_LINE=1

fresh_copy() { rm -rf "$1"; mkdir -p "$1"; cp -r "$DATA/postings" "$1/"; }

rows=$(find "$DATA/postings" -name '*.parquet' | wc -l)
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $rows postings files, classifier $CLS"
fresh_copy "$WORK/local"
timed "local" "$BIN" classify "$WORK/local" --classifier "$CLS"

for layout in 1x2 2x1; do
  n=${layout%x*}; tasks=${layout#*x}
  start_cluster "$BIN" "$n" "$tasks" "$layout"
  wait_ready "$BIN" "$DATA"
  fresh_copy "$WORK/c$layout"
  timed "cluster, $n executor(s) x $tasks task(s)" "$BIN" classify "$WORK/c$layout" --classifier "$CLS" \
    --cluster "df://127.0.0.1:$SCHED_PORT"
  if diff -r "$WORK/local/classified" "$WORK/c$layout/classified" >/dev/null; then
    echo "  classified/ identical to the local run"
  else
    echo "  classified/ DIFFERS from the local run"
  fi
  echo "  scheduler: $(proc_usage "$SCHED_PID")"
  for i in $(seq 1 "$n"); do
    echo "  executor $i: $(proc_usage "${EXEC_PIDS[$((i-1))]}")"
  done
  stop_cluster
done

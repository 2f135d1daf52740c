#!/usr/bin/env bash
# Benchmark (not a test): `jobshift report` on a classified-only corpus, locally and on a loopback
# cluster with 1 and 2 executors. Per run: wall, client CPU and peak RSS, and each node's CPU
# and peak RSS (from /proc before it is stopped), and the shuffle bytes the executors wrote.
#
#   benches/cluster/run.sh BIN DATASET_DIR [EXECUTOR_TASKS]
#
# Shuffle files can outgrow the disk at 100M postings: every 5 s a guard samples the shuffle
# directories (their peak is reported) and stops the executors when the disk's free space falls
# below MIN_FREE_GB (default 5), so the run fails instead of filling the disk.
# SKIP_LOCAL=1 skips the two local runs, SKIP_LOCAL_1G=1 only the (slow at 100M) 1 GiB one, in
# which case the cluster's report.json is compared with the unlimited local run's, all but the
# memory limit it records; EXECUTORS="2" runs only the 2-executor cluster; KEEP_REPORTS=DIR
# keeps every report under DIR.
#
# Run it under `flock /tmp/jobshift-measure.lock` on a shared machine, and note the load.
set -euo pipefail
BIN=${1:?usage: run.sh BIN DATASET_DIR [EXECUTOR_TASKS]}
DATA=${2:?usage: run.sh BIN DATASET_DIR [EXECUTOR_TASKS]}
TASKS=${3:-2}
WORK=$(mktemp -d /tmp/jobshift-cluster-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP_REPORTS:-}" ] && mkdir -p "$KEEP_REPORTS" && cp -r "$WORK"/r-* "$KEEP_REPORTS"/ 2>/dev/null; rm -rf "$WORK"' EXIT
. "$(dirname "$0")/lib.sh"

MIN_FREE_GB=${MIN_FREE_GB:-5}
# peak bytes of the shuffle directories matching $1, written to $2; stops executors on a full disk
guard() {
  local pattern=$1 out=$2 peak=0 now free
  while sleep 5; do
    now=$(du -scb $pattern 2>/dev/null | tail -1 | cut -f1)
    [ "${now:-0}" -gt "$peak" ] && peak=$now && echo "$peak" >"$out"
    free=$(df -B1G --output=avail "$WORK" | tail -1 | tr -d ' ')
    if [ "$free" -lt "$MIN_FREE_GB" ]; then
      echo "  guard: ${free} GB free, stopping the executors" >&2
      kill "${EXEC_PIDS[@]}" 2>/dev/null || true
    fi
  done
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(du -sh "$DATA/classified" | cut -f1) Parquet"
if [ -z "${SKIP_LOCAL:-}" ]; then
  timed "local (--memory-limit none)" "$BIN" report "$DATA" --out "$WORK/r-local" --memory-limit none
  if [ -z "${SKIP_LOCAL_1G:-}" ]; then
    timed "local (--memory-limit 1GiB)" "$BIN" report "$DATA" --out "$WORK/r-local-1g"
  fi
fi

for n in ${EXECUTORS:-1 2}; do
  start_cluster "$BIN" "$n" "$TASKS" "$n"
  wait_ready "$BIN" "$DATA"
  sp=$SCHED_PORT
  guard "$WORK/shuffle-$n-*" "$WORK/peak-$n" &
  gpid=$!
  timed "cluster, $n executor(s) x $TASKS tasks" "$BIN" report "$DATA" --out "$WORK/r-cluster-$n" --cluster "df://127.0.0.1:$sp" --cluster-timeout 7200
  kill "$gpid" 2>/dev/null || true
  echo "  peak shuffle bytes on disk: $(cat "$WORK/peak-$n" 2>/dev/null || echo 0)"
  # the same options as the local 1GiB run (report.json records them; the figures are compared by the tests)
  if [ -f "$WORK/r-local-1g/report.json" ]; then
    cmp "$WORK/r-local-1g/report.json" "$WORK/r-cluster-$n/report.json" && echo "  report.json identical to local"
  elif [ -f "$WORK/r-local/report.json" ]; then
    if python3 - "$WORK/r-local/report.json" "$WORK/r-cluster-$n/report.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for r in (a, b):
    r["inputs"]["options"].pop("memory_limit", None)
sys.exit(a != b)
PY
    then echo "  report.json equal to the unlimited local run's but for options.memory_limit"
    else echo "  report.json DIFFERS from the unlimited local run's"
    fi
  fi
  echo "  scheduler: $(proc_usage "$SCHED_PID")"
  for i in $(seq 1 "$n"); do
    echo "  executor $i: $(proc_usage "${EXEC_PIDS[$((i-1))]}") shuffle_bytes=$(du -sb "$WORK/shuffle-$n-$i" | cut -f1)"
  done
  stop_cluster
done

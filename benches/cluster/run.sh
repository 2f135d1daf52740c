#!/usr/bin/env bash
# Benchmark (not a test): `jobshift report` on a classified-only corpus, locally and on a loopback
# cluster with 1 and 2 executors. Per run: wall, client CPU and peak RSS, and each node's CPU
# and peak RSS (from /proc before it is stopped), and the shuffle bytes the executors wrote.
#
#   benches/cluster/run.sh BIN DATASET_DIR [EXECUTOR_TASKS]
#
# Run it under `flock /tmp/jobshift-measure.lock` on a shared machine, and note the load.
set -euo pipefail
BIN=${1:?usage: run.sh BIN DATASET_DIR [EXECUTOR_TASKS]}
DATA=${2:?usage: run.sh BIN DATASET_DIR [EXECUTOR_TASKS]}
TASKS=${3:-2}
WORK=$(mktemp -d /tmp/jobshift-cluster-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
TICK=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU seconds and peak RSS (MB) of a live process
proc_usage() {
  local pid=$1
  local ticks
  ticks=$(awk '{print $14+$15}' "/proc/$pid/stat")
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "cpu_s=$(echo "scale=1; $ticks/$TICK" | bc) peak_rss_mb=$((hwm/1024))"
}

timed() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r wall user sys rss <"$WORK/time"
  echo "$label: wall_s=$wall client_cpu_s=$(echo "$user+$sys" | bc) client_peak_rss_mb=$((rss/1024))"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(du -sh "$DATA/classified" | cut -f1) Parquet"
timed "local (--memory-limit none)" "$BIN" report "$DATA" --out "$WORK/r-local" --memory-limit none
timed "local (--memory-limit 1GiB)" "$BIN" report "$DATA" --out "$WORK/r-local-1g"

for n in 1 2; do
  sp=$(free_port)
  "$BIN" cluster scheduler --bind "127.0.0.1:$sp" 2>"$WORK/sched.log" &
  spid=$!
  epids=()
  for i in $(seq 1 "$n"); do
    ep=$(free_port)
    "$BIN" cluster executor --scheduler "127.0.0.1:$sp" --bind "127.0.0.1:$ep" \
      --concurrent-tasks "$TASKS" --work-dir "$WORK/shuffle-$n-$i" 2>"$WORK/exec-$i.log" &
    epids+=($!)
  done
  for _ in $(seq 1 60); do
    "$BIN" sql "$DATA" "SELECT 1" --cluster "df://127.0.0.1:$sp" >/dev/null 2>&1 && break
    sleep 1
  done
  timed "cluster, $n executor(s) x $TASKS tasks" "$BIN" report "$DATA" --out "$WORK/r-cluster-$n" --cluster "df://127.0.0.1:$sp"
  # the same options as the local 1GiB run (report.json records them; the figures are compared by the tests)
  cmp "$WORK/r-local-1g/report.json" "$WORK/r-cluster-$n/report.json" && echo "  report.json identical to local"
  echo "  scheduler: $(proc_usage $spid)"
  for i in $(seq 1 "$n"); do
    echo "  executor $i: $(proc_usage ${epids[$((i-1))]}) shuffle_bytes=$(du -sb "$WORK/shuffle-$n-$i" | cut -f1)"
  done
  kill "${epids[@]}" "$spid"; wait "${epids[@]}" "$spid" 2>/dev/null || true
done

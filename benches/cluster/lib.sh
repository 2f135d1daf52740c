# Shared by the cluster benchmarks (run.sh, classify.sh): source it after setting WORK.
# shellcheck shell=bash
TICK=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU seconds and peak RSS (MB) of a live process
proc_usage() {
  local pid=$1 ticks hwm
  ticks=$(awk '{print $14+$15}' "/proc/$pid/stat")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "cpu_s=$(echo "scale=1; $ticks/$TICK" | bc) peak_rss_mb=$((hwm/1024))"
}

# label, command...: wall time, the client's CPU and peak RSS; SHOW_FIRST_LINE=1 also prints
# the command's first line of output
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r wall user sys rss <"$WORK/time"
  echo "$label: wall_s=$wall client_cpu_s=$(echo "$user+$sys" | bc) client_peak_rss_mb=$((rss/1024))"
  if [ -n "${SHOW_FIRST_LINE:-}" ]; then head -1 "$WORK/out" | sed 's/^/  /'; fi
}

# start_cluster BIN EXECUTORS TASKS NAME: a scheduler and EXECUTORS executors on loopback with
# shuffle directories $WORK/shuffle-NAME-i; sets SCHED_PORT, SCHED_PID and EXEC_PIDS
start_cluster() {
  local bin=$1 n=$2 tasks=$3 name=$4 i ep
  SCHED_PORT=$(free_port)
  "$bin" cluster scheduler --bind "127.0.0.1:$SCHED_PORT" 2>"$WORK/sched-$name.log" &
  SCHED_PID=$!
  EXEC_PIDS=()
  for i in $(seq 1 "$n"); do
    ep=$(free_port)
    "$bin" cluster executor --scheduler "127.0.0.1:$SCHED_PORT" --bind "127.0.0.1:$ep" \
      --concurrent-tasks "$tasks" --work-dir "$WORK/shuffle-$name-$i" 2>"$WORK/exec-$name-$i.log" &
    EXEC_PIDS+=($!)
  done
}

# wait_ready BIN DATASET: until the cluster at SCHED_PORT runs a query (60 s at most)
wait_ready() {
  local _
  for _ in $(seq 1 60); do
    "$1" sql "$2" "SELECT 1" --cluster "df://127.0.0.1:$SCHED_PORT" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "the cluster did not answer within 60 s" >&2
  exit 1
}

stop_cluster() {
  kill "${EXEC_PIDS[@]}" "$SCHED_PID" 2>/dev/null || true
  wait "${EXEC_PIDS[@]}" "$SCHED_PID" 2>/dev/null || true
}

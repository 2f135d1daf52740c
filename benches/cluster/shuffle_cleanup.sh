#!/usr/bin/env bash
# Diagnostic (not a test): does a loopback cluster remove a job's shuffle files when the job
# ends? Starts 1 scheduler and 1 executor (2 tasks) with Ballista's executor logs at info, runs
# one `jobshift report DATASET` on it while sampling `du` of the executor's work directory every
# 2 s, then prints the peak, what is left right after the report and AFTER seconds later, the
# jobs finished and the removals the executor logged.
#
#   benches/cluster/shuffle_cleanup.sh BIN DATASET_DIR      (AFTER=70 to wait for the delayed cleanup)
#
# Measured with it on 2026-12-05 (200,000 classified postings): Ballista's adaptive planner,
# 8 jobs, 0 removals, 114 MB left; the static planner (jobshift's setting since then), 48
# removals, 28 MB peak, 0.4 MB left (docs/cluster.md, "Shuffle files").
set -u
BIN=${1:?usage: shuffle_cleanup.sh BIN DATASET_DIR}
DATA=${2:?usage: shuffle_cleanup.sh BIN DATASET_DIR}
W=$(mktemp -d /tmp/jobshift-shuffle-cleanup.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT
. "$(dirname "$0")/lib.sh"
export RUST_LOG=${RUST_LOG:-warn,ballista_executor=info,ballista_scheduler=info}
SP=$(free_port); EP=$(free_port)
"$BIN" cluster scheduler --bind "127.0.0.1:$SP" 2>"$W/sched.log" &
"$BIN" cluster executor --scheduler "127.0.0.1:$SP" --bind "127.0.0.1:$EP" --concurrent-tasks 2 \
  --work-dir "$W/shuffle" 2>"$W/exec.log" &
SCHED_PORT=$SP wait_ready "$BIN" "$DATA"
(while sleep 2; do du -sb "$W/shuffle" 2>/dev/null | cut -f1; done) >"$W/du.log" &
/usr/bin/time -f "report: %e s wall" "$BIN" report "$DATA" --out "$W/r" \
  --cluster "df://127.0.0.1:$SP" --cluster-timeout 3600 >/dev/null
echo "peak shuffle bytes: $(sort -n "$W/du.log" | tail -1)"
echo "left when the report returned: $(du -sb "$W/shuffle" | cut -f1)"
sleep "${AFTER:-0}"
echo "left ${AFTER:-0} s later: $(du -sb "$W/shuffle" | cut -f1)"
echo "jobs finished: $(grep -c 'Job finished successfully' "$W/sched.log")"
echo "removals logged by the executor: $(grep -c 'Remove intermediate data' "$W/exec.log") of intermediate stages, $(grep -c 'Remove data for job' "$W/exec.log") of whole jobs"

#!/bin/sh
# Throughput of each cascade step (HN titles, HN full text, generated postings), the heads
# alone, and the Python reference vs jobshift on the same held-out sample. Run it under the
# shared measurement lock:   flock /tmp/jobshift-measure.lock benches/classify/run_speed.sh
#
#   B        classify_bench binary  [$CARGO_TARGET_DIR/debug/examples/classify_bench]
#   C        classifier directory   [~/.cache/jobshift/classifiers/default]
#   SHARED   shared data directory  [/work/shared/data]
#   WORK     scratch directory      [/tmp/jobshift-classify-speed]
#   PY       python with sentence-transformers + scikit-learn [python3]
#   MPNET    all-mpnet-base-v2 directory [~/.cache/jobshift/models/mpnet]
#   JOBSHIFT jobshift binary, to generate postings [$CARGO_TARGET_DIR/release/jobshift]
set -e
T=${CARGO_TARGET_DIR:-target}
B=${B:-$T/debug/examples/classify_bench}
C=${C:-$HOME/.cache/jobshift/classifiers/default}
SHARED=${SHARED:-/work/shared/data}
WORK=${WORK:-/tmp/jobshift-classify-speed}
PY=${PY:-python3}
MPNET=${MPNET:-$HOME/.cache/jobshift/models/mpnet}
JOBSHIFT=${JOBSHIFT:-$T/release/jobshift}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"
python3 "$HERE/speed_inputs.py" --shared "$SHARED" --jobshift "$JOBSHIFT" --out "$WORK"
echo "== start"; uptime
echo "== HN titles 2022-2025 (job_title)"
RAYON_NUM_THREADS=2 $B speed "$C" "$SHARED/hn-whoishiring-titles-2022-2025/hn_whoishiring_titles_2022-12_2025-10.csv" job_title
echo "== HN 2026 full text (llm_role as title, text as description)"
RAYON_NUM_THREADS=2 $B speed "$C" "$SHARED/hn-whoishiring-fulltext-2026/hn_jobs_2026-01_2026-05.csv" llm_role
echo "== generated postings (title, description)"
RAYON_NUM_THREADS=2 $B speed "$C" "$WORK/gen20k.csv" title 2000
echo "== heads"
RAYON_NUM_THREADS=2 $B heads "$C" 3000
uptime
echo "== reference on a 1,000-title sample per held-out set"
$PY -u "$HERE/reference.py" --classifier "$C" --model "$MPNET" --threads 2 --trees 100 \
    --max-per-class 1 --sample 1000 --titles-out "$WORK/refsample" --out "$WORK/ref-speed.json"
uptime
for n in onet_reported jobbert; do
  python3 -c "import csv,sys; w=csv.writer(open(sys.argv[2],'w',newline='')); w.writerow(['title']); [w.writerow([l.rstrip('\n')]) for l in open(sys.argv[1])]" \
      "$WORK/refsample/$n.txt" "$WORK/refsample/$n.csv"
  echo "== jobshift on the reference sample $n (2 threads, cold cache)"
  RAYON_NUM_THREADS=2 $B speed "$C" "$WORK/refsample/$n.csv" title
done
echo "== end"; uptime

#!/usr/bin/env bash
# End-to-end labelling run: sample -> label (page) -> import -> train -> measurable change.
#
#   benches/label/run.sh [WORK_DIR]        (default /work/scratch/label-e2e)
#
# 1. generate 20,000 postings with ground truth (seed 7) and ingest them;
# 2. classify them with the default classifier (the "before");
# 3. draw 300 tasks where the classifier is least sure (--strategy uncertain), 10% of them gold
#    postings with known answers;
# 4. five simulated annotators (accuracy 0.92 in headless Chromium through the page, 0.85, 0.70,
#    0.55 and a spammer through the page's HTTP endpoints) label every task; the server is killed
#    midway and restarted, and every confirmed answer must still be there (annotate.mjs);
# 5. import: Dawid-Skene and majority vote, scored against the truth (measure.py labels);
# 6. train two classifiers with the same recipe as the default (minilm, kNN head, seed 42): one
#    without and one with the crowd labels, and evaluate both on the real held-out sets;
# 7. re-classify (with both) the postings the default did not decide by exact alias, and score
#    every posting that was NOT labelled against the truth (measure.py classifier).
#
# Environment: JOBSHIFT (binary; default $CARGO_TARGET_DIR/debug/jobshift), CHROMIUM
# (/usr/bin/chromium), JOBSHIFT_SHARED_DATA (/work/shared/data), PORT (18931), N (300),
# REPEAT_LABELS (1: how many times each crowd label is written into the training file).
# Steps whose output exists are skipped, so a rerun resumes; delete WORK_DIR to start over.
# Classify and train run under `flock /tmp/jobshift-measure.lock` (shared 2-core machine).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
W="${1:-/work/scratch/label-e2e}"
J="${JOBSHIFT:-${CARGO_TARGET_DIR:-/root/.cache/jobshift/target}/debug/jobshift}"
N="${N:-300}"
PORT="${PORT:-18931}"
REPEAT="${REPEAT_LABELS:-1}"
export JOBSHIFT_SHARED_DATA="${JOBSHIFT_SHARED_DATA:-/work/shared/data}"
CLS="${JOBSHIFT_CACHE:-/root/.cache/jobshift}/classifiers"
LOCK="flock /tmp/jobshift-measure.lock"
mkdir -p "$W/work"
cd "$W"
say() { echo; echo "== $* ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"; }

say "1. generate + ingest"
[ -f corpus/truth.csv ] || "$J" generate --postings 20000 --out corpus --seed 7 --format csv
[ -d ds/postings ] || "$J" ingest corpus/postings/*.csv --out ds -q

say "2. classify with the default classifier"
[ -d ds/classified ] || $LOCK "$J" classify ds
[ -f work/before.csv ] || "$J" sql ds "SELECT posting_id, extra, title, description, title_id, confidence, method FROM postings" --csv work/before.csv
python3 "$here/measure.py" prep --truth corpus/truth.csv --export work/before.csv \
  --out-truth work/posting_truth.csv --out-gold work/gold.jsonl --gold 30 --seed 7

say "3. sample $N tasks (uncertain + 10% gold)"
[ -f work/round1/tasks.jsonl ] || "$J" label sample ds --n "$N" --strategy uncertain \
  --gold work/gold.jsonl --gold-rate 0.1 --seed 7 --out work/round1
python3 "$here/measure.py" tasks --tasks-dir work/round1 --posting-truth work/posting_truth.csv --out work/task_truth.json

say "4. five simulated annotators label every task through the page / its endpoints, with a crash + restart"
[ -f work/annotate.json ] || node "$here/annotate.mjs" --bin "$J" --tasks work/round1 \
  --truth work/task_truth.json --port "$PORT" --seed 7 --per-task 3 --out work/annotate.json

say "5. import and aggregate"
mkdir -p work/labels
"$J" label import work/round1 --out work/labels/crowd-ds.jsonl
"$J" label import work/round1 --method majority --out work/labels/crowd-mv.jsonl > /dev/null
python3 "$here/measure.py" labels --tasks-dir work/round1 --task-truth work/task_truth.json \
  --report work/labels/crowd-ds.report.json --ds work/labels/crowd-ds.jsonl \
  --mv work/labels/crowd-mv.jsonl --out work/labels-score.json
# the training file: the Dawid-Skene labels, each written REPEAT times (extra kNN votes)
: > work/labels/train-labels.jsonl
for _ in $(seq "$REPEAT"); do cat work/labels/crowd-ds.jsonl >> work/labels/train-labels.jsonl; done

say "6. train without and with the crowd labels (same recipe as the default: minilm, kNN, seed 42)"
[ -f "$CLS/e2e-baseline/eval.json" ] || $LOCK "$J" train --name e2e-baseline --head knn --seed 42
[ -f "$CLS/e2e-labelled/eval.json" ] || $LOCK "$J" train --name e2e-labelled --head knn --seed 42 \
  --labels work/labels/train-labels.jsonl
for c in default e2e-baseline e2e-labelled; do cp "$CLS/$c/eval.json" "work/eval-$c.json"; done  # written by train

say "7. re-classify with both what labels can change, score the postings that were not labelled"
# Postings the default classifier decided by exact alias keep that answer with any classifier
# trained on the same taxonomy (the alias step comes first and is the taxonomy's), so only the
# others (3,711 of 18,894) are re-ingested into ds-sub and classified again.
if [ ! -d ds-sub/postings ]; then
  python3 - <<'PY'
import csv, glob, json, os, sys
csv.field_size_limit(sys.maxsize)
refs = {json.loads(r["extra"])["posting_ref"] for r in csv.DictReader(open("work/before.csv", newline=""))
        if r["method"] != "alias"}
os.makedirs("sub", exist_ok=True)
for f in sorted(glob.glob("corpus/postings/*.csv")):
    rd = csv.reader(open(f, newline=""))
    h = next(rd, None)
    rows = [r for r in rd if h and len(r) == len(h) and r[0] in refs]
    if rows:
        with open("sub/" + os.path.basename(f), "w", newline="") as o:
            w = csv.writer(o); w.writerow(h); w.writerows(rows)
PY
  "$J" ingest sub/*.csv --out ds-sub -q --no-near-duplicates
fi
for c in e2e-baseline e2e-labelled; do
  if [ ! -f "work/after-$c.csv" ]; then
    rm -rf "ds-sub-$c" && mkdir -p "ds-sub-$c" && cp -r ds-sub/postings "ds-sub-$c/"
    $LOCK "$J" classify "ds-sub-$c" --classifier "$CLS/$c" --force
    "$J" sql "ds-sub-$c" "SELECT posting_id, extra, title, title_id, confidence, method FROM postings" --csv "work/after-$c.csv"
  fi
done
python3 "$here/measure.py" classifier --posting-truth work/posting_truth.csv --tasks-dir work/round1 \
  --run default=work/before.csv --run e2e-baseline=work/after-e2e-baseline.csv \
  --run e2e-labelled=work/after-e2e-labelled.csv --out work/classifier-score.json
python3 - "$W/work" <<'EOF'
import json, sys
w = sys.argv[1]
print("real held-out sets (jobshift eval, top-1):")
for c in ("default", "e2e-baseline", "e2e-labelled"):
    rows = json.load(open(f"{w}/eval-{c}.json"))
    print("  %-14s" % c + "  ".join(f"{r['set']}/{r['head']}: top1 {r['top1']:.4f} family {r['family']:.4f} (n={r['n']})" for r in rows if r["head"] == "knn"))
EOF
say "done"

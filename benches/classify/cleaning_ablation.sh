#!/usr/bin/env bash
# Title cleaning, measured rule by rule (issue 17: "title cleaning before matching, measured step
# by step"): the default classifier with every cleaning rule, then with each rule skipped alone
# (`--skip-cleaning RULE`), on the held-out O*NET reported and JobBERT titles (`jobshift eval`),
# the HN titles 2022-2025, the expert-labelled HN titles (tests/fixtures), the HN 2026 full-text
# postings and generated raw titles with their true titles; `cleaning_ablation.py OUT` prints the
# table. The last two rules are the cascade's step 0 (title fields that name no role, title
# fields that name several).
#
#   benches/classify/hn/prep.py IN            # the HN inputs, once
#   benches/classify/cleaning_ablation.sh IN OUT [JOBSHIFT]   # from the repository (or with
#   JOBSHIFT_SHARED_DATA set): `eval` finds the held-out sets in ../shared/data
set -euo pipefail
IN=$1; OUT=$2; BIN=${3:-jobshift}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
python3 - "$HERE/../../crates/classify/tests/fixtures/hn_titles_expert_labels.tsv" "$OUT/expert.jsonl" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8") if not l.startswith("#")][1:]
with open(sys.argv[2], "w", encoding="utf-8") as o:
    for r in rows:
        o.write(json.dumps({"title": r[1], "expert": r[3].split("|")}) + "\n")
PY
# generated raw titles as employers write them (gender tags, requisition numbers, salaries that
# the HN titles lack), with their true titles: a 5 % labelled sample of 60,000 postings
[ -d "$OUT/generated" ] || "$BIN" generate --classified-only --postings-table --raw-titles \
  --labels-rate 0.05 --postings 60000 --seed 7 --out "$OUT/generated" > "$OUT/generated.log" 2>&1
cat "$OUT"/generated/labels/*.jsonl > "$OUT/generated.jsonl"
for rule in none html web-addresses brackets separators seniority work-arrangement gender salary \
    requisition non-titles several-roles other-scripts; do
  # a rerun keeps the rules already measured (delete OUT to measure again)
  [ -f "$OUT/expert.$rule.jsonl" ] && [ -f "$OUT/generated.$rule.jsonl" ] && continue
  skip=(); [ "$rule" = none ] || skip=(--skip-cleaning "$rule")
  "$BIN" eval "${skip[@]}" --json "$OUT/eval.$rule.json" > "$OUT/eval.$rule.log" 2>&1
  for set in titles_2022_2025 fulltext_2026; do
    "$BIN" classify-titles "${skip[@]}" --input "$IN/$set.jsonl" --output "$OUT/$set.$rule.jsonl" > "$OUT/$set.$rule.log" 2>&1
  done
  "$BIN" classify-titles "${skip[@]}" --input "$OUT/generated.jsonl" --output "$OUT/generated.$rule.jsonl" > "$OUT/generated.$rule.log" 2>&1
  "$BIN" classify-titles "${skip[@]}" --input "$OUT/expert.jsonl" --output "$OUT/expert.$rule.jsonl" > "$OUT/expert.$rule.log" 2>&1
  echo "$rule done"
done
python3 "$HERE/cleaning_ablation.py" "$OUT"

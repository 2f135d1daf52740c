#!/bin/bash
# Description-step evaluation (docs/classifier.md and docs/classifier-measurements.md, "Evaluation with descriptions").
# Usage: run.sh WORKDIR [HEAD...]   (needs `jobshift` on PATH, the default classifier trained,
# JOBSHIFT_SHARED_DATA or /work/shared/data). Writes everything under WORKDIR.
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?WORKDIR}; shift; HEADS=${*:-knn logreg centroid}
mkdir -p "$W" && cd "$W"
[ -d gen-amb ] || jobshift generate --postings 4000 --out gen-amb --format jsonl --ambiguous-rate 0.5 \
  --exact-dup-rate 0 --near-dup-rate 0 --repost-rate 0 --malformed-rate 0 --seed 7
python3 "$HERE/prep.py" 300 gen-amb
# keep the HN candidates the Rust alias step confirms (method == alias, same title)
jobshift classify-titles --input hn_verify.txt --output hn_verify.out.jsonl
python3 - <<'PY'
import json
c=[json.loads(l) for l in open('hn_candidates.jsonl')]; o=[json.loads(l) for l in open('hn_verify.out.jsonl')]
keep=[x for x,p in zip(c,o) if p['method']=='alias' and p['title_id']==x['gold']][:300]
open('hn_alias.jsonl','w').writelines(json.dumps(x)+'\n' for x in keep)
def w(name, rows): open(name,'w').writelines(json.dumps(r)+'\n' for r in rows)
w('in_hn_generic.jsonl', [{'title':'Position'} for x in keep])
w('in_hn_generic_desc.jsonl', [{'title':'Position','description':x['description']} for x in keep])
w('in_hn_withheld_desc.jsonl', [{'title':'','description':x['description']} for x in keep])
for k in ['generic','specific']:
    g=[json.loads(l) for l in open(f'gen_{k}.jsonl')]
    w(f'in_gen_{k}_title.jsonl', [{'title':x['title']} for x in g])
    w(f'in_gen_{k}_desc.jsonl', [{'title':x['title'],'description':x['description']} for x in g])
PY
# classifier copies differing only in ambiguity_margin
D=${JOBSHIFT_CLASSIFIER:-${JOBSHIFT_CACHE:-$HOME/.cache/jobshift}/classifiers/default}
for m in 0.1 10; do
  mkdir -p cls-m$m; for x in head heads desc_head; do [ -e "$D/$x" ] && ln -sfn "$D/$x" cls-m$m/$x; done
  python3 -c "import json; m=json.load(open('$D/classifier.json')); m['ambiguity_margin']=$m; json.dump(m, open('cls-m$m/classifier.json','w'))"
done
for h in $HEADS; do
  for v in "gen_generic_title cls-m0.1 in_gen_generic_title.jsonl" "gen_specific_title cls-m0.1 in_gen_specific_title.jsonl" \
           "gen_generic_m10 cls-m10 in_gen_generic_desc.jsonl" "gen_specific_m10 cls-m10 in_gen_specific_desc.jsonl" \
           "hn_generic cls-m0.1 in_hn_generic.jsonl" "hn_generic_m10 cls-m10 in_hn_generic_desc.jsonl" \
           "hn_withheld_m10 cls-m10 in_hn_withheld_desc.jsonl"; do
    set -- $v; [ -s out_${h}_$1.jsonl ] || jobshift classify-titles --input $3 --output out_${h}_$1.jsonl --classifier $2 --head $h
  done
  python3 "$HERE/sweep.py" $h generic specific
done
python3 "$HERE/score.py"

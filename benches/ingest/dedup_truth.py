"""Precision and recall of `jobshift ingest`'s duplicate detection against `jobshift generate`'s truth.

usage: dedup_truth.py GEN_DIR DATASET_DIR [JOBSHIFT]
  GEN_DIR      a `jobshift generate --format csv|jsonl` output (truth.csv: posting_ref, dup_kind, ...)
  DATASET_DIR  `jobshift ingest GEN_DIR/postings/* --out DATASET_DIR` (posting_ref is kept in `extra`)
  JOBSHIFT     the jobshift binary [jobshift]
Truth duplicates are the generator's exact and near copies; a record counts as flagged when it is
neither accepted nor rejected. Prints one JSON line (docs/ingest.md, "Measured").
"""
import csv, json, sys, glob, collections, subprocess, tempfile, os
csv.field_size_limit(10**9)
gen, ds = sys.argv[1:3]
jobshift = sys.argv[3] if len(sys.argv) > 3 else 'jobshift'
acc = os.path.join(tempfile.mkdtemp(), 'accepted.csv')
subprocess.run([jobshift, 'sql', ds, 'SELECT extra FROM postings', '--csv', acc], check=True)
truth = {}
for r in csv.DictReader(open(gen + '/truth.csv', newline='')):
    truth[r['posting_ref']] = r['dup_kind']
accepted = set()
for r in csv.DictReader(open(acc, newline='')):
    try:
        ref = json.loads(r['extra']).get('posting_ref')
    except Exception:
        ref = None
    if ref: accepted.add(ref)
rejected = set()
for f in glob.glob(ds + '/rejects/**/*.jsonl', recursive=True):
    for line in open(f):
        raw = json.loads(line).get('raw') or ''
        ref = raw.split(',', 1)[0].strip('"')
        if ref.startswith('{'):
            try: ref = json.loads(raw).get('posting_ref', '')
            except Exception: ref = ''
        rejected.add(ref)
flagged = set(truth) - accepted - rejected
true_dup = {k for k, v in truth.items() if v in ('exact_copy', 'near_copy')}
tp = len(flagged & true_dup)
by_kind = collections.Counter(truth[k] for k in flagged)
missed = collections.Counter(truth[k] for k in true_dup - flagged)
print(json.dumps(dict(records=len(truth), accepted=len(accepted), rejected_refs=len(rejected), flagged=len(flagged),
    true_duplicates=len(true_dup), true_positives=tp, precision=round(tp / max(1, len(flagged)), 4),
    recall=round(tp / max(1, len(true_dup)), 4), flagged_by_truth_kind=dict(by_kind), missed_by_kind=dict(missed),
    reposts_accepted=sum(1 for k, v in truth.items() if v == 'repost' and k in accepted),
    reposts_total=sum(1 for v in truth.values() if v == 'repost'))))

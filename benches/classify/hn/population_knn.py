#!/usr/bin/env python3
"""Issue #17 "labels that help": what a learner over the labelled half alone scores.

    python3 benches/classify/hn/population_knn.py LH [--jobshift BIN] [--k 20]

LH is labels_help.py's output directory with, beside labels_a.jsonl and half_b.jsonl,
b.default.jsonl (`jobshift classify-titles` of half_b.jsonl with the default classifier). Embeds
the titles of both halves with `jobshift embed --model minilm`, predicts each half-B posting by a
similarity-weighted vote of its k nearest half-A labels, and prints, over the half-B postings whose
llm_role maps to a title: agreement of the majority class, of the default (among classified and
over all) and of the kNN, and each class's recall (abstention counted as wrong) with the macro
mean. docs/classifier-measurements.md ("Why labels that help stops near +5") gives the numbers.
"""
import collections, json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(__file__))
args = sys.argv[1:]
lh = args[0]
binary = args[args.index("--jobshift") + 1] if "--jobshift" in args else "jobshift"
k = int(args[args.index("--k") + 1]) if "--k" in args else 20
from silver_map import LABEL_MAP as MAP
load = lambda p: [json.loads(l) for l in open(p, encoding="utf-8")]
a, b, pred = (load(os.path.join(lh, f)) for f in ("labels_a.jsonl", "half_b.jsonl", "b.default.jsonl"))
assert len(b) == len(pred), "b.default.jsonl must be classify-titles of half_b.jsonl"


def embed(rows):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "t.jsonl"), os.path.join(tmp, "e.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({"text": r.get("title") or ""}) + "\n")
        subprocess.run([binary, "embed", "--model", "minilm", "--input", src, "--output", dst, "--quiet"], check=True)
        return load(dst)


ea, eb = embed(a), embed(b)
dot = lambda u, v: sum(x * y for x, y in zip(u, v))
n, hits, default_hits, knn_hits = 0, collections.Counter(), collections.Counter(), collections.Counter()
classified = default_ok = 0
for r, e, p in zip(b, eb, pred):
    gold = MAP.get(r.get("llm_role"))
    if not gold:
        continue
    n += 1
    hits[gold] += 1
    near = sorted(((dot(e, x), l["title_id"]) for l, x in zip(a, ea)), reverse=True)[:k]
    votes = collections.Counter()
    for s, t in near:
        votes[t] += s
    knn_hits[gold] += votes.most_common(1)[0][0] == gold
    if p["title_id"] != "unclassified":
        classified += 1
        default_ok += p["title_id"] == gold
        default_hits[gold] += p["title_id"] == gold
major, major_n = hits.most_common(1)[0]
print(f"{n} mapped postings in half B; '{major}' for all: {major_n / n:.3f}")
print(f"default: {default_ok / classified:.3f} among the {classified} classified, {default_ok / n:.3f} over all")
print(f"kNN over half A's {len(a)} labels (k={k}): {sum(knn_hits.values()) / n:.3f}")
print(f"{'class':28} {'n':>4} {'default':>8} {'kNN':>8}")
for c, m in hits.most_common():
    print(f"{c:28} {m:4} {default_hits[c] / m:8.3f} {knn_hits[c] / m:8.3f}")
macro = lambda h: sum(h[c] / hits[c] for c in hits) / len(hits)
print(f"{'macro recall':28} {'':4} {macro(default_hits):8.3f} {macro(knn_hits):8.3f}")

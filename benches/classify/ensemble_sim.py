#!/usr/bin/env python3
"""Simulate a kNN + logistic-regression ensemble head over a classifier's own training vectors.

    jobshift embed --model minilm --input T.txt --input-format lines --output T.npy   # per set
    python3 benches/classify/ensemble_sim.py CLASSIFIER_DIR WORK_DIR [C]

CLASSIFIER_DIR is a kNN classifier (`jobshift train`); WORK_DIR holds, for each of its
`validation.jsonl`, `heldout_onet_reported.jsonl` and `heldout_jobbert.jsonl`, the lower-cased
titles one per line (`NAME.txt`, written by this script on its first run) and their MiniLM
embeddings (`NAME.npy`, by `jobshift embed`). Prints the top-1 accuracy (a prediction is right
when it is one of the item's gold titles) of the kNN head exactly as `heads/knn.rs` scores
(k = 10 neighbours, logit = scale * best similarity + ln votes, softmax), of a multinomial
logistic regression (scikit-learn, L2, C) fitted on the same training vectors, and of their
arithmetic and geometric blends for weights 0.2 ... 0.7. Head level only: raw lower-cased titles,
no alias step, no cleaning, no abstention. Needs numpy and scikit-learn.
"""
import json, os, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression

from knn_replica import load_head, neighbour_votes

clf, work = sys.argv[1], sys.argv[2]
C = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
SETS = ["validation", "heldout_onet_reported", "heldout_jobbert"]
meta, head, X, y = load_head(clf)
classes = meta["classes"]
K = len(classes)

def load(name):
    rows = [json.loads(l) for l in open(os.path.join(clf, name + ".jsonl"))]
    txt = os.path.join(work, name + ".txt")
    if not os.path.exists(txt):
        with open(txt, "w") as o:
            o.writelines(r["title"].lower().replace("\n", " ") + "\n" for r in rows)
    npy = os.path.join(work, name + ".npy")
    if not os.path.exists(npy):
        sys.exit(f"embed {txt} first: jobshift embed --model minilm --input {txt} --input-format lines --output {npy}")
    e = np.load(npy)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    gold = [set(r.get("gold_titles") or [r.get("title_id")]) for r in rows]
    return e, gold

def knn(e, k=head["neighbours"], scale=head["scale"]):
    p = np.zeros((len(e), K), dtype=np.float32)
    for i, (labels, q, _, _, _) in enumerate(neighbour_votes(e, X, y, k, scale)):
        p[i, labels] = q
    return p

def acc(p, gold):
    return round(float(np.mean([classes[i] in g for i, g in zip(p.argmax(1), gold)])), 4)

sets = {n: load(n) for n in SETS}
kp = {n: knn(e) for n, (e, _) in sets.items()}
print("knn", {n: acc(kp[n], g) for n, (_, g) in sets.items()}, flush=True)
t = time.time()
lr = LogisticRegression(C=C, max_iter=200).fit(X, y)
print(f"logreg fitted in {time.time() - t:.0f} s", flush=True)
lp = {}
for n, (e, g) in sets.items():
    q = np.zeros((len(e), K), dtype=np.float32)
    q[:, lr.classes_] = lr.predict_proba(e)
    lp[n] = q
print("logreg", {n: acc(lp[n], g) for n, (_, g) in sets.items()}, flush=True)
for w in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]:
    arith = {n: acc((1 - w) * kp[n] + w * lp[n], g) for n, (_, g) in sets.items()}
    geo = {n: acc((1 - w) * np.log(kp[n] + 1e-4) + w * np.log(lp[n] + 1e-6), g) for n, (_, g) in sets.items()}
    print(f"w={w} arithmetic {arith} geometric {geo}", flush=True)

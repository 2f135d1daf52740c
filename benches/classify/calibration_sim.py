#!/usr/bin/env python3
"""Can a calibration that reads more than the top score bring both held-out sets' ECE down?

    python3 benches/classify/calibration_sim.py CLASSIFIER_DIR WORK_DIR

WORK_DIR holds the MiniLM embeddings of the classifier's `validation.jsonl`,
`heldout_onet_reported.jsonl` and `heldout_jobbert.jsonl` titles, lower-cased, as
`benches/classify/ensemble_sim.py` describes (`NAME.txt` one title per line, `NAME.npy` from
`jobshift embed --model minilm --input NAME.txt --input-format lines --output NAME.npy`).

Scores every title with the kNN head exactly as `heads/knn.rs` does (k neighbours, logit = scale
* best similarity + ln votes, softmax) and fits, on the validation split only, calibrators of
the top title's correctness: isotonic regression of the top score (what `jobshift train` fits),
isotonic regression of the top title's best neighbour similarity, and a logistic regression and
a gradient-boosted classifier on six features (the top score's logit, the runner-up's score,
the best similarity of any neighbour and of the top title's, the top title's votes, the number
of titles among the neighbours). Prints each set's accuracy and each calibrator's ECE (15
bins) and mean confidence on each set. Head level: raw lower-cased titles, no alias step, no
cleaning, no abstention; a prediction is right when it is a gold title or shares a gold SOC-6
code (as `jobshift eval` counts). Needs numpy and scikit-learn.
"""
import json, os, sys
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from knn_replica import load_head, neighbour_votes

clf, work = sys.argv[1], sys.argv[2]
SETS = ["validation", "heldout_onet_reported", "heldout_jobbert"]
meta, head, X, y = load_head(clf)
classes = meta["classes"]
tax = {}
for line in open(os.path.join(clf, "taxonomy_titles.jsonl")):
    t = json.loads(line)
    tax[t["id"]] = t


def right(row, tid):
    if "gold_soc6" not in row:  # validation: one title
        return tid == row["title_id"]
    if tid in row["gold_titles"]:
        return True
    t = tax.get(tid)
    return bool(t) and (t["onet_soc"][:7] in row["gold_soc6"] or t["soc"][:7] in row["gold_soc6"])


def features(name):
    rows = [json.loads(l) for l in open(os.path.join(clf, name + ".jsonl"))]
    e = np.load(os.path.join(work, name + ".npy"))
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    feats, ok = [], []
    for i, (labels, q, best, votes, nearest) in enumerate(
        neighbour_votes(e, X, y, head["neighbours"], head["scale"])
    ):
        order = np.argsort(-q)
        top = labels[order[0]]
        p2 = q[order[1]] if len(order) > 1 else 0.0
        feats.append([q[order[0]], p2, nearest, best[top], votes[top], len(labels)])
        ok.append(right(rows[i], classes[top]))
    return np.array(feats), np.array(ok)


def ece(conf, ok, bins=15):
    b = np.minimum((conf * bins).astype(int), bins - 1)
    return sum(abs(conf[b == i].mean() - ok[b == i].mean()) * (b == i).sum() for i in range(bins) if (b == i).any()) / len(conf)


def design(f):
    p = np.clip(f[:, 0], 1e-4, 1 - 1e-4)
    return np.c_[np.log(p / (1 - p)), f[:, 2], f[:, 3], f[:, 4], f[:, 5], f[:, 1]]


data = {n: features(n) for n in SETS}
for n, (f, ok) in data.items():
    print(f"{n}: {len(ok)} titles, top-1 {ok.mean():.3f}, mean top score {f[:, 0].mean():.3f}")
fv, ov = data["validation"]
iso_top = IsotonicRegression(out_of_bounds="clip").fit(fv[:, 0], ov)
iso_sim = IsotonicRegression(out_of_bounds="clip").fit(fv[:, 3], ov)
lr = LogisticRegression(C=1.0, max_iter=1000).fit(design(fv), ov)
gb = HistGradientBoostingClassifier(max_iter=200, max_depth=3, learning_rate=0.05, random_state=0).fit(design(fv), ov)
calibrators = {
    "isotonic(top score)": lambda f: iso_top.predict(f[:, 0]),
    "isotonic(top similarity)": lambda f: iso_sim.predict(f[:, 3]),
    "logistic(6 features)": lambda f: lr.predict_proba(design(f))[:, 1],
    "boosted trees(6 features)": lambda f: gb.predict_proba(design(f))[:, 1],
}
for name, cal in calibrators.items():
    cells = [f"{n}: ECE {ece(cal(f), ok):.3f}, mean {cal(f).mean():.3f}" for n, (f, ok) in data.items()]
    print(f"{name:27} " + " | ".join(cells))

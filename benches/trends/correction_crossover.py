#!/usr/bin/env python3
"""Raw vs misclassification-corrected title changes as the corpus grows (issue 7).

Takes the true title counts of a generated corpus (truth-changes.csv, `actual_jan_oct_YYYY`),
multiplies them by each --scale, draws every posting's predicted title from the confusion matrix
(as `jobshift generate --simulate-confusion` does), and scores the raw change and the corrected
change (EM to the Poisson maximum likelihood, as `jobshift report --corrected`: stop when the
counts' relative L1 change < 1e-6, cap 50,000) of the ranked titles of REPORT against the truth.
Shows where the correction's amplified classification noise (∝ 1/√N) falls below raw's mixing
bias (constant in N). Needs numpy.

  python3 benches/trends/correction_crossover.py --report R/report.json --truth S/truth-changes.csv \
      --confusion ~/.cache/jobshift/classifiers/default/confusion.json --scales 1,10,100
"""
import argparse, csv, json
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--report", required=True, help="report.json of the corpus (which titles are ranked)")
ap.add_argument("--truth", required=True, help="truth-changes.csv of the corpus")
ap.add_argument("--confusion", required=True)
ap.add_argument("--scales", default="1,10,100")
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()

rep = json.load(open(a.report))
conf = json.load(open(a.confusion))
conf = conf.get("confusion", conf)
y = max(rep["years"]); p = y - 1
T = {r["key"]: r for r in csv.DictReader(open(a.truth)) if r["scope"] == "title"}
truths = sorted(set(conf) | set(T))
labels = sorted(set(truths) | {l for r in conf.values() for l in r} | {"unclassified"})
L = {l: i for i, l in enumerate(labels)}
C = np.zeros((len(truths), len(labels)))
for i, t in enumerate(truths):
    if t in conf:
        for l, n in conf[t].items():
            C[i, L[l]] += n
    else:
        C[i, L[t]] = 1.0  # no evaluation row: taken as classified correctly (as the report does)
P = C / C.sum(1, keepdims=True)
count = lambda t, yr: float(T[t][f"actual_jan_oct_{yr}"] or 0) if t in T else 0.0
x_true = {yr: np.array([count(t, yr) for t in truths]) for yr in (p, y)}
ranked = [t["id"] for t in rep["titles"] if t.get("ranked") and t["id"] in T]
ri = [truths.index(t) for t in ranked]; li = [L[t] for t in ranked]
realized = x_true[y][ri] / x_true[p][ri] - 1
rng = np.random.default_rng(a.seed)


def draw(x):
    o = np.zeros(len(labels))
    for i in np.nonzero(x)[0]:
        o += rng.multinomial(int(round(x[i])), P[i])
    return o


def em(o, tol=1e-6, cap=50_000):
    x = np.array([o[L[t]] for t in truths]) + o.sum() * 1e-6
    for it in range(cap):
        m = x @ P
        nx = x * (P @ np.divide(o, m, out=np.zeros_like(o), where=m > 0))
        moved, x = np.abs(nx - x).sum(), nx
        if moved <= tol * x.sum():
            break
    return x, it + 1


def show(name, est, keep=None):
    e = np.abs(est - realized) * 100
    e = e[np.isfinite(e) & (keep if keep is not None else True)]
    print(f"  {name:34s} n={len(e):4d} median {np.median(e):6.3f}  p90 {np.quantile(e, .9):7.3f} pt")


for s in [float(v) for v in a.scales.split(",")]:
    o = {yr: draw(x_true[yr] * s) for yr in (p, y)}
    with np.errstate(all="ignore"):
        raw = o[y][li] / o[p][li] - 1
        xs = {yr: em(o[yr]) for yr in (p, y)}
        cor = xs[y][0][ri] / xs[p][0][ri] - 1
        # the report hides corrected changes below its ranking minimum (scaled with the corpus)
        keep = xs[p][0][ri] >= rep["min_postings"] * s
    print(f"scale ×{s:g} ({sum(o[p]) + sum(o[y]):.0f} postings in the two windows; EM iterations {xs[p][1]}, {xs[y][1]})")
    show("raw vs realized", raw)
    show("corrected vs realized", cor, keep)
    show("raw vs realized, same titles", raw, keep)

#!/usr/bin/env python3
"""Offline replica of step 6's population head on one labels-help split (issue 17, session 18).

    python3 benches/classify/hn/population_head_sim.py LH [--wd 1,3,10] [--balance 0.5]

LH holds labels_help.py's labels_a.jsonl and half_b.jsonl, the default classifier's
`classify-titles` outputs on them (a.default.jsonl, b.default.jsonl), and `jobshift embed
--model minilm` vectors of their titles and descriptions (a.title.npy, a.desc.npy, b.title.npy,
b.desc.npy; texts: the title as written, and ". " + the first 1,000 characters of the
whitespace-joined description). Input per posting: [title | description if the cascade
abstained | the cascade's answer, one-hot]; rows L2-normalized and scaled by sqrt(width) as
LogregHead does; AdamW (decoupled decay), batches of 32, learning rate 0.01 with the cosine
schedule, 60 epochs; rows weighted count^-balance. For each weight decay it prints the 5-fold
cross-fitted accuracy on half A and the title agreement on half B under the shipped rule (known
answers take the head's title, abstentions at the min confidence, unseen answers on their own
map). It reproduced the Rust cross-fit within 0.001 on the first split; its half-B agreement ran
1-2 points above the shipped head's (shuffling and map details differ). numpy only.
"""
import collections, csv, glob, json, os, sys
import numpy as np

args = sys.argv[1:]
LH = args[0]
WDS = [float(w) for w in (args[args.index("--wd") + 1] if "--wd" in args else "1,3,10").split(",")]
BAL = float(args[args.index("--balance") + 1]) if "--balance" in args else 0.5
MIN_CONF = 0.494  # the re-fit's min_confidence on the HN splits
here = os.path.dirname(os.path.abspath(__file__))
taxonomy = os.path.join(here, "..", "..", "..", "taxonomy")
src = open(os.path.join(here, "score.py")).read()
family = {}
for f in glob.glob(os.path.join(taxonomy, "titles", "*.csv")):
    for r in csv.DictReader(row for row in open(f) if not row.startswith("#")):
        family[r["id"]] = os.path.basename(f)[:-4]
exec(src[src.index("MAP = {"):src.index("n = unc = 0")])  # score.py's silver map
load = lambda p: [json.loads(l) for l in open(os.path.join(LH, p))]
A, B, adef, bdef = load("labels_a.jsonl"), load("half_b.jsonl"), load("a.default.jsonl"), load("b.default.jsonl")
def npy(n):
    x = np.load(os.path.join(LH, n + ".npy")).astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
at, ad, bt, bd = npy("a.title"), npy("a.desc"), npy("b.title"), npy("b.desc")
answers = sorted({p["title_id"] for p in adef})
def onehot(D):
    X = np.zeros((len(D), len(answers)))
    for i, p in enumerate(D):
        if p["title_id"] in answers: X[i, answers.index(p["title_id"])] = 1
    return X
abst = lambda D: np.array([p["title_id"] == "unclassified" for p in D])[:, None]
def prep(X):
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    return X * np.sqrt(X.shape[1])
XA = prep(np.hstack([at, ad * abst(adef), onehot(adef)])); XB = prep(np.hstack([bt, bd * abst(bdef), onehot(bdef)]))
ya = np.array([r["title_id"] for r in A]); classes = sorted(set(ya)); y = np.array([classes.index(t) for t in ya])
count = collections.Counter(y); RW = np.array([count[c] ** -BAL for c in y]); RW /= RW.mean()
def fit(X, y, rw, wd, epochs=60, batch=32, lr=1e-2, seed=42):
    rng = np.random.default_rng(seed); n, d = X.shape; k = len(classes)
    W, b = np.zeros((k, d)), np.zeros(k); m = [np.zeros_like(W), np.zeros(k)]; v = [np.zeros_like(W), np.zeros(k)]
    total, step = epochs * -(-n // batch), 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, batch):
            idx = order[s:s + batch]; cur = lr * (0.1 + 0.45 * (1 + np.cos(np.pi * step / total))); step += 1
            Z = X[idx] @ W.T + b; Z -= Z.max(1, keepdims=True); P = np.exp(Z); P /= P.sum(1, keepdims=True)
            P[np.arange(len(idx)), y[idx]] -= 1; P *= (rw[idx] / rw[idx].sum())[:, None]
            W *= 1 - cur * wd; b *= 1 - cur * wd
            for j, (g, prm) in enumerate(((P.T @ X[idx], W), (P.sum(0), b))):
                m[j] = 0.9 * m[j] + 0.1 * g; v[j] = 0.999 * v[j] + 0.001 * g * g
                prm -= cur * (m[j] / (1 - 0.9 ** step)) / (np.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8)
    return W, b
def proba(X, Wb):
    Z = X @ Wb[0].T + Wb[1]; Z -= Z.max(1, keepdims=True); P = np.exp(Z); return P / P.sum(1, keepdims=True)
def isotonic(x, r):  # pool-adjacent-violators, a step function
    o = np.argsort(x, kind="stable"); blocks = []
    for xi, ri in zip(np.asarray(x)[o], np.asarray(r, float)[o]):
        blocks.append([ri, 1, xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            t = blocks.pop(); blocks[-1][0] += t[0]; blocks[-1][1] += t[1]
    xs = np.array([bl[2] for bl in blocks]); vs = np.array([bl[0] / bl[1] for bl in blocks])
    return lambda q: float(vs[max(np.searchsorted(xs, q, side="right") - 1, 0)])
def agreement(preds):
    rows = [(MAP[r["llm_role"]], p) for r, p in zip(B, preds) if MAP.get(r.get("llm_role"))]
    cls = [(g, p) for g, p in rows if p != "unclassified"]
    return sum(p in g for g, p in cls) / len(cls), len(cls) / len(rows)
ans = [p["title_id"] for p in adef]; known = set(ya) | set(ans)
print(f"default: title agreement {agreement([p['title_id'] for p in bdef])[0]:.3f}")
for wd in WDS:
    tops, right, unseen = [], [], []
    for f in range(5):
        tr = np.array([i for i in range(len(y)) if i % 5 != f]); te = np.array([i for i in range(len(y)) if i % 5 == f])
        P = proba(XA[te], fit(XA[tr], y[tr], RW[tr], wd)); seen = {ans[i] for i in tr} | set(ya[tr])
        tops += list(P.max(1)); right += list(P.argmax(1) == y[te])
        unseen += [ans[i] not in seen and ans[i] != "unclassified" for i in te]
    tops, right, unseen = map(np.array, (tops, right, unseen))
    anchor = 1 / len(classes)
    m_seen = isotonic(np.append(tops[~unseen], anchor), np.append(right[~unseen], False))
    m_unseen = isotonic(np.append(tops[unseen], anchor), np.append(right[unseen], False)) if unseen.sum() >= 20 else None
    P = proba(XB, fit(XA, y, RW, wd)); out = []
    for c, t, p in zip(P.argmax(1), P.max(1), bdef):
        title = classes[c]
        if p["title_id"] == "unclassified": out.append(title if m_seen(t) >= MIN_CONF else "unclassified")
        elif p["title_id"] in known: out.append(title)
        elif m_unseen and m_unseen(t) > p["confidence"]: out.append(title)
        else: out.append(p["title_id"])
    agree, classified = agreement(out)
    print(f"weight decay {wd}: cross-fit {right.mean():.3f}; half B title agreement {agree:.3f}, classified {classified:.1%}")

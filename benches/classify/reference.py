#!/usr/bin/env python3
"""The study's recipe with its usual Python tools, as a reference for jobshift's classifier.

sentence-transformers all-mpnet-base-v2 embeds every title; a scikit-learn RandomForest
predicts the taxonomy title. It reads exactly the data `jobshift train` used and wrote next to
the classifier (train.jsonl, heldout_<set>.jsonl with the resolved gold, taxonomy_titles.jsonl),
scores it with the same rule (right when the predicted title is a gold crosswalk title or
shares its SOC-6 code) and reports accuracy and throughput on this machine.

Not a dependency of jobshift. Needs: pip install scikit-learn sentence-transformers torch

    python benches/classify/reference.py --classifier ~/.cache/jobshift/classifiers/default \
        --model /path/to/all-mpnet-base-v2 [--max-per-class 40] [--trees 100] [--out ref.json] \
        [--sample 2000 --titles-out DIR]

--sample N scores a deterministic subsample of at most N titles per held-out set (every
len/N-th title in file order) and --titles-out writes the scored titles, one per line
(DIR/<set>.txt), so `jobshift classify-titles` can be timed on exactly the same sample.
"""
import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classifier", required=True, help="classifier directory written by `jobshift train`")
    ap.add_argument("--model", default="sentence-transformers/all-mpnet-base-v2",
                    help="sentence-transformers model name or directory")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--max-per-class", type=int, default=10,
                    help="cap training rows per title (same cap as jobshift's forest; 0 = no cap)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--out", help="write the scores as JSON here")
    ap.add_argument("--sample", type=int, default=0,
                    help="score at most N titles per held-out set (deterministic, every len/N-th)")
    ap.add_argument("--titles-out", help="write the scored titles of each set to DIR/<set>.txt")
    args = ap.parse_args()

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from sklearn.ensemble import RandomForestClassifier

    torch.set_num_threads(args.threads)
    d = args.classifier
    train = read_jsonl(os.path.join(d, "train.jsonl"))
    titles = {t["id"]: t for t in read_jsonl(os.path.join(d, "taxonomy_titles.jsonl"))}
    sets = {}
    for name in ("onet_reported", "jobbert"):
        p = os.path.join(d, f"heldout_{name}.jsonl")
        if os.path.exists(p):
            sets[name] = read_jsonl(p)
    if not sets:
        sys.exit(f"no heldout_*.jsonl in {d}; run `jobshift train` with the shared data present")
    if args.sample > 0:
        for name, items in sets.items():
            if len(items) > args.sample:
                step = len(items) / args.sample
                sets[name] = [items[int(i * step)] for i in range(args.sample)]
    if args.titles_out:
        os.makedirs(args.titles_out, exist_ok=True)
        for name, items in sets.items():
            with open(os.path.join(args.titles_out, f"{name}.txt"), "w", encoding="utf-8") as f:
                for it in items:
                    f.write(it["title"].replace("\n", " ") + "\n")

    rng = random.Random(args.seed)
    by = defaultdict(list)
    for ex in train:
        by[ex["title_id"]].append(ex["title"])
    rows = []
    for tid, ts in sorted(by.items()):
        ts = list(dict.fromkeys(ts))
        rng.shuffle(ts)
        if args.max_per_class > 0:
            ts = ts[: args.max_per_class]
        rows.extend((t, tid) for t in ts)

    model = SentenceTransformer(args.model, device="cpu")
    t0 = time.time()
    x_train = model.encode([r[0] for r in rows], batch_size=args.batch_size, normalize_embeddings=True,
                           show_progress_bar=False, convert_to_numpy=True)
    encode_train_s = time.time() - t0
    y_train = [r[1] for r in rows]
    t0 = time.time()
    rf = RandomForestClassifier(n_estimators=args.trees, n_jobs=args.threads, random_state=args.seed)
    rf.fit(x_train, y_train)
    fit_s = time.time() - t0

    def soc6(code):
        return code[:7]

    results = []
    for name, items in sets.items():
        texts = [it["title"] for it in items]
        t0 = time.time()
        x = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True,
                         show_progress_bar=False, convert_to_numpy=True)
        enc_s = time.time() - t0
        t0 = time.time()
        proba = rf.predict_proba(x)
        head_s = time.time() - t0
        classes = rf.classes_
        top5 = np.argsort(-proba, axis=1)[:, :5]
        n = len(items)
        ok1 = ok5 = s6 = s2 = fam = lev = with_title = 0
        for i, it in enumerate(items):
            gold_titles = set(it["gold_titles"])
            gold6 = set(it["gold_soc6"])
            gold2 = set(it["gold_soc2"])

            def right(tid):
                t = titles[tid]
                return tid in gold_titles or soc6(t["onet_soc"]) in gold6 or t["soc"][:7] in gold6

            preds = [classes[j] for j in top5[i]]
            p = titles[preds[0]]
            ok1 += right(preds[0])
            ok5 += any(right(q) for q in preds)
            s6 += soc6(p["onet_soc"]) in gold6 or p["soc"][:7] in gold6
            s2 += p["onet_soc"][:2] in gold2 or p["soc"][:2] in gold2
            if gold_titles:
                with_title += 1
                fam += p["family"] in set(it["gold_families"])
                lev += p["level"] in set(it["gold_levels"])
        res = {
            "set": name, "head": "python-mpnet-sklearn-rf", "n": n,
            "top1": ok1 / n, "top5": ok5 / n, "soc6": s6 / n, "soc2": s2 / n,
            "family": fam / max(with_title, 1), "level": lev / max(with_title, 1),
            "encode_titles_per_s": n / enc_s, "head_titles_per_s": n / head_s,
            "overall_titles_per_s": n / (enc_s + head_s),
        }
        results.append(res)
        print(f"{name:<14} n={n:<6} top1 {res['top1']:.3f} top5 {res['top5']:.3f} soc6 {res['soc6']:.3f} "
              f"soc2 {res['soc2']:.3f} family {res['family']:.3f} level {res['level']:.3f} "
              f"| {res['overall_titles_per_s']:.1f} titles/s (encode {enc_s:.1f}s, forest {head_s:.2f}s)",
              flush=True)
    summary = {
        "model": args.model, "trees": args.trees, "max_per_class": args.max_per_class,
        "train_rows": len(rows), "threads": args.threads, "sample": args.sample,
        "encode_train_s": encode_train_s, "fit_s": fit_s, "results": results,
    }
    print(f"train rows {len(rows)}: encoded in {encode_train_s:.0f}s, forest fit in {fit_s:.0f}s")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How close each embedding decision of a `classify-titles` output is to flipping.

    python3 benches/classify/hn/margins.py CLASSIFIER_DIR OUT.jsonl [OUT2.jsonl ...]

For postings decided by the title or description embedding (or abstained `low_confidence`),
prints how many have a head probability (`alternatives[0].score`) within 1e-4 of the one whose
calibrated confidence reaches `min_confidence`, and how many have their top two scores within
1e-4 (and exactly equal). Answers at the alias confidence (aliases, roles read from the text)
do not depend on floating point and are left out. docs/classifier-measurements.md, "How close the decisions
are to flipping".
"""
import bisect, json, os, sys

meta = json.load(open(os.path.join(sys.argv[1], "classifier.json")))
xs, ys, min_conf = meta["calibration"]["x"], meta["calibration"]["y"], meta["min_confidence"]


def calibrated(s):  # calibrate::Isotonic::apply
    if not xs or s <= xs[0]:
        return ys[0] if xs else s
    if s >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, s)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y1 if x1 <= x0 else y0 + (y1 - y0) * (s - x0) / (x1 - x0)


lo, hi = 0.0, 1.0  # the head probability at the threshold
for _ in range(60):
    mid = (lo + hi) / 2
    lo, hi = (lo, mid) if calibrated(mid) >= min_conf else (mid, hi)
print(f"min_confidence {min_conf:.6f} = head probability {hi:.8f}")
for path in sys.argv[2:]:
    dist, gaps = [], []
    for line in open(path, encoding="utf-8"):
        o = json.loads(line)
        alts = o.get("alternatives") or []
        if not alts or not (o["method"] in ("title_embedding", "description") or o.get("reason") == "low_confidence"):
            continue
        if abs(calibrated(alts[0]["score"]) - o["confidence"]) > 1e-4:
            continue  # an answer at the alias confidence
        dist.append(abs(alts[0]["score"] - hi))
        if len(alts) > 1:
            gaps.append(alts[0]["score"] - alts[1]["score"])
    near = sorted(dist)[:1]
    print(f"{path}: {len(dist)} embedding decisions; within 1e-4 of the threshold {sum(d < 1e-4 for d in dist)}"
          f" (nearest {near[0] if near else '-'}); top two within 1e-4 {sum(0 < g < 1e-4 for g in gaps)},"
          f" exactly equal {sum(g == 0 for g in gaps)}")

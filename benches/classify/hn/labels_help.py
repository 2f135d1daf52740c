#!/usr/bin/env python3
"""Issue #17 "labels that help": HN 2026's `llm_role` as stand-in crowd labels.

    python3 benches/classify/hn/labels_help.py split IN/fulltext_2026.jsonl OUTDIR [--hash-byte N] [--other-as-none]
        -> OUTDIR/labels_a.jsonl  (half A, as `jobshift train --labels` examples, source "crowd")
           OUTDIR/half_b.jsonl    (half B, classify-titles input, llm_role kept for scoring)
Halves by sha256 of the HN item id (even first byte = A; `--hash-byte 1` splits by the second
byte instead, for a second, independent split). Only postings whose llm_role maps to
exactly one taxonomy title (silver_map.py) become labels; half B keeps every posting.
`--other-as-none` also writes half A's rows whose llm_role is "Other" (or empty) as `none_fits`
labels: the silver labeller's "none of my roles fits" (comments, and jobs outside its list).
"""
import hashlib, json, os, sys
sys.path.insert(0, os.path.dirname(__file__))

from silver_map import LABEL_MAP as MAP
cmd, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
byte = int(sys.argv[sys.argv.index("--hash-byte") + 1]) if "--hash-byte" in sys.argv else 0
other_as_none = "--other-as-none" in sys.argv
assert cmd == "split"
os.makedirs(out, exist_ok=True)
na = nb = 0
with open(src) as f, open(os.path.join(out, "labels_a.jsonl"), "w") as a, open(os.path.join(out, "half_b.jsonl"), "w") as b:
    for line in f:
        r = json.loads(line)
        half_a = hashlib.sha256(r["hn_item_id"].encode()).digest()[byte] % 2 == 0
        if half_a:
            tid = MAP.get(r.get("llm_role", ""))
            if not tid and other_as_none and r.get("llm_role", "") in ("Other", ""):
                tid = "none_fits"
            if tid:
                a.write(json.dumps({"title": r["title"], "description": r["description"], "title_id": tid,
                                    "source": "crowd", "confidence": 1.0}) + "\n")
                na += 1
        else:
            b.write(line)
            nb += 1
print(f"labels (half A): {na}; half B postings: {nb}")

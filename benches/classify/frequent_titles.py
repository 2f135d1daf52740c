#!/usr/bin/env python3
"""Classify the frequent posting titles of frequent_titles.tsv and list what disagrees.

    python3 benches/classify/frequent_titles.py [--jobshift BIN] [--classifier DIR]

Runs `jobshift classify-titles` on the titles and prints every title that abstains (with the
best candidate and the reason) or lands on another SOC code than the hand-coded one (with the
title, method and confidence), then the counts. A SOC mismatch is a place to look, not an
error: the hand codes are one reading of each title (docs/classifier.md).
"""
import json, os, subprocess, sys, tempfile

args = sys.argv[1:]
here = os.path.dirname(os.path.abspath(__file__))
target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/jobshift/target"))
binary = args[args.index("--jobshift") + 1] if "--jobshift" in args else os.path.join(target, "release", "jobshift")
extra = ["--classifier", args[args.index("--classifier") + 1]] if "--classifier" in args else []
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(here, "frequent_titles.tsv"), encoding="utf-8")
        if not l.startswith("#")][1:]
with tempfile.TemporaryDirectory() as tmp:
    inp, out = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
    with open(inp, "w", encoding="utf-8") as f:
        for title, soc in rows:
            f.write(json.dumps({"title": title, "gold_soc": soc}) + "\n")
    subprocess.run([binary, "classify-titles", "--input", inp, "--output", out, *extra],
                   check=True, stderr=subprocess.DEVNULL)
    preds = [json.loads(l) for l in open(out, encoding="utf-8")]
same = unclassified = 0
for o in preds:
    title, gold = o["input"]["title"], o["input"]["gold_soc"]
    if o["title_id"] == "unclassified":
        unclassified += 1
        best = o["alternatives"][0]["title_id"] if o.get("alternatives") else "-"
        print(f"abstains  {title:<35} soc {gold}  best {best} ({o.get('reason')})")
    elif o.get("soc") == gold:
        same += 1
    else:
        print(f"other soc {title:<35} soc {gold}  got {o['title_id']} {o.get('soc')} "
              f"({o['method']}, {o['confidence']:.2f})")
print(f"{len(preds)} titles: {same} on the hand-coded SOC, {unclassified} abstained, "
      f"{len(preds) - same - unclassified} on another SOC")

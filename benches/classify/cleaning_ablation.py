#!/usr/bin/env python3
"""The table of `cleaning_ablation.sh OUT`: per cleaning rule skipped, the held-out scores
(strict top-1 = abstention wrong, best guess), HN unclassified shares, the expert titles'
unclassified share and precision, HN 2026 silver agreement (benches/classify/hn/score.py's
rules), how many HN 2022-2025 titles changed their answer against all rules on, and on the
generated raw titles the unclassified share and the exact-title accuracy (abstention wrong)."""
import json, os, re, subprocess, sys

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
RULES = ["none", "html", "web-addresses", "brackets", "separators", "seniority",
         "work-arrangement", "gender", "salary", "requisition", "non-titles", "several-roles", "other-scripts"]

def rows(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]

def unclassified(rs):
    return sum(r["title_id"] == "unclassified" for r in rs) / len(rs)

base = rows(os.path.join(out, "titles_2022_2025.none.jsonl"))
print("| skipped rule | O*NET strict (best) | JobBERT strict (best) | HN 2022-25 unclassified | "
      "titles changed | expert unclassified / precision | HN 2026 unclassified | HN 2026 family / title | "
      "generated: unclassified / exact title |")
print("|---|---|---|---|---|---|---|---|---|")
for rule in RULES:
    ev = {s["set"]: s for s in json.load(open(os.path.join(out, f"eval.{rule}.json")))}
    o, j = ev["onet_reported"], ev["jobbert"]
    t25 = rows(os.path.join(out, f"titles_2022_2025.{rule}.jsonl"))
    changed = sum(a["title_id"] != b["title_id"] for a, b in zip(base, t25))
    ex = rows(os.path.join(out, f"expert.{rule}.jsonl"))
    answered = [r for r in ex if r["title_id"] != "unclassified"]
    right = sum(r["title_id"] in r["input"]["expert"] for r in answered)
    hn26 = os.path.join(out, f"fulltext_2026.{rule}.jsonl")
    score = subprocess.run([sys.executable, os.path.join(here, "hn", "score.py"), hn26,
                            "--taxonomy", os.path.join(here, "..", "..", "taxonomy")],
                           capture_output=True, text=True, check=True).stdout
    m = re.search(r"title agreement ([0-9.]+), family agreement ([0-9.]+)", score)
    gen = rows(os.path.join(out, f"generated.{rule}.jsonl"))
    exact = sum(r["title_id"] == r["input"]["title_id"] for r in gen) / len(gen)
    print(f"| {rule} | {o['top1_strict']:.3f} ({o['top1']:.3f}) | {j['top1_strict']:.3f} ({j['top1']:.3f}) | "
          f"{unclassified(t25):.1%} | {changed} | {unclassified(ex):.1%} / {right / max(len(answered), 1):.3f} | "
          f"{unclassified(rows(hn26)):.1%} | {m.group(2)} / {m.group(1)} | "
          f"{unclassified(gen):.1%} / {exact:.3f} |")

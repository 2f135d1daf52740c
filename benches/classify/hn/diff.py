#!/usr/bin/env python3
"""Postings whose title two `jobshift classify-titles` outputs of the same input disagree on.

    python3 benches/classify/hn/diff.py BEFORE.jsonl AFTER.jsonl [--show N]

Prints how many changed, the counts by (method before, method after), and the first N changes
(title field, title and method before and after, and the HN 2026 `llm_role` where the input has
one). Used to read every change a cascade rule makes (docs/classifier-measurements.md).
"""
import collections, json, sys

args = sys.argv[1:]
before, after = args[0], args[1]
show = int(args[args.index("--show") + 1]) if "--show" in args else 40
load = lambda p: [json.loads(l) for l in open(p, encoding="utf-8")]
a, b = load(before), load(after)
assert len(a) == len(b), "the two outputs must be of the same input"
changed = [(x, y) for x, y in zip(a, b) if x["title_id"] != y["title_id"]]
print(f"{len(changed)} of {len(a)} postings change;",
      dict(collections.Counter((x["method"], y["method"]) for x, y in changed).most_common()))
for x, y in changed[:show]:
    inp = x["input"] if isinstance(x.get("input"), dict) else {"title": x.get("input")}
    role = f"  llm_role={inp['llm_role']}" if inp.get("llm_role") else ""
    print(f"{(inp.get('title') or '')[:60]!r:64} {x['title_id']} ({x['method']}) -> {y['title_id']} ({y['method']}){role}")

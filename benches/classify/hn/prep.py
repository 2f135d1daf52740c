#!/usr/bin/env python3
"""Build classify-titles inputs from the real Hacker News files (measurement only).

    python3 benches/classify/hn/prep.py ../shared/data OUTDIR

Writes OUTDIR/{fulltext_2013_2018,fulltext_2026,titles_2022_2025}.jsonl. For the full-text files
the title is what `jobshift ingest` makes of the `header_line` (the role part of a pipe-separated
header, else its second part, else the whole header: `role_from_header` in
crates/ingest/src/fields.rs, replicated here) and the description is the post's text, as ingest
stores them. Rows with an empty header are kept (title = ""), as ingest keeps them.
"""
import csv, json, os, sys

csv.field_size_limit(1 << 30)
ROLE_WORDS = ["engineer", "developer", "designer", "manager", "scientist", "analyst", "lead",
    "director", "head of", "architect", "administrator", "admin", "intern", "specialist",
    "consultant", "researcher", "programmer", "devops", "sre", "recruiter", "writer", "editor",
    "officer", "vp", "cto", "founding", "staff", "senior", "junior", "principal", "coordinator",
    "representative", "technician", "associate", "support", "accountant", "counsel", "attorney",
    "nurse", "teacher", "executive", "strategist", "full stack", "full-stack", "fullstack",
    "frontend", "front-end", "backend", "back-end", "hacker", "marketer", "sales", "product",
    "operations", "ios", "android", "ml ", "data ", "security", "qa", "tester", "ux", "ui ",
    "mechanic", "operator", "chef", "driver"]

def cap(s, n=200):
    if len(s) <= n:
        return s
    cut = s[:n]
    i = cut.rfind(" ")
    return cut[:i] if i > n // 2 else cut

def role_from_header(header):
    header = " ".join(header.split())
    parts = [p.strip() for p in header.split("|") if p.strip()]
    if len(parts) >= 2:
        for p in parts[1:]:
            l = p.lower() + " "
            if any(w in l for w in ROLE_WORDS):
                return cap(p)
        return cap(parts[1])
    return cap(header)

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for name, rel in [("fulltext_2013_2018", "hn-whoishiring-fulltext-2013-2018/hn_whoishiring_2013-08_2018-04.csv"),
                  ("fulltext_2026", "hn-whoishiring-fulltext-2026/hn_jobs_2026-01_2026-05.csv")]:
    n = 0
    with open(os.path.join(src, rel), encoding="utf-8") as f, open(os.path.join(out, name + ".jsonl"), "w") as w:
        for r in csv.DictReader(f):
            rec = {"title": role_from_header(r["header_line"] or ""), "description": r["text"],
                   "hn_item_id": r["hn_item_id"], "header_line": r["header_line"]}
            if "llm_role" in r:
                rec["llm_role"] = r["llm_role"]
            w.write(json.dumps(rec) + "\n")
            n += 1
    print(name, n)
with open(os.path.join(src, "hn-whoishiring-titles-2022-2025/hn_whoishiring_titles_2022-12_2025-10.csv"), encoding="utf-8") as f, \
        open(os.path.join(out, "titles_2022_2025.jsonl"), "w") as w:
    n = 0
    for r in csv.DictReader(f):
        w.write(json.dumps({"title": r["job_title"], "hn_item_id": r["hn_item_id"]}) + "\n")
        n += 1
    print("titles_2022_2025", n)

#!/usr/bin/env python3
"""Derive the training-signal files shipped with jobshift-classify from the public sources.

Usage (from the repository root, with the shared data beside it):
    python3 crates/classify/data/derive.py ../shared/data crates/classify/data

Writes (gzip, deterministic: mtime 0, rows in source order):
  onet_alternate_titles.tsv.gz  O*NET "Alternate Titles" reduced to the four columns the
                                trainer reads: O*NET-SOC Code, Title, Alternate Title, Short Title.
                                Content: O*NET Database, U.S. DOL/ETA, CC BY 4.0.
  jobbert_validation.tsv.gz     the JobBERT v1 *validation* split (not the test split the
                                held-out evaluation uses) as title -> gold O*NET codes (ESCO label
                                sent through the official ESCO-O*NET crosswalk, exact/close matches
                                preferred), minus every title (normalized as below, roughly) that
                                also occurs in the test split. Used only to measure the alias
                                step's precision (its confidence), never as training examples.
                                Content: TechWolf JobBERT (Apache-2.0); crosswalk ESCO/O*NET.
"""
import csv, gzip, io, sys, os

src, dst = sys.argv[1], sys.argv[2]

def write_gz(path, text):
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as g:
            g.write(text.encode("utf-8"))

# 1. O*NET alternate titles
rows = []
with open(os.path.join(src, "onet-alternate-titles/alternate_titles.tsv"), encoding="utf-8") as f:
    for i, line in enumerate(f):
        cols = line.rstrip("\n").split("\t")
        rows.append("\t".join((cols + ["", "", "", ""])[:4]))
write_gz(os.path.join(dst, "onet_alternate_titles.tsv.gz"), "\n".join(rows) + "\n")
print(f"onet_alternate_titles: {len(rows) - 1} rows")

# 2. JobBERT validation split -> O*NET codes
cw_text = open(os.path.join(src, "esco-onet-crosswalk/crosswalk_esco_onet.csv"), encoding="utf-8").read()
cw_text = cw_text[cw_text.index("O*NET Id,"):]
strong, weak = {}, {}
for rec in csv.reader(io.StringIO(cw_text)):
    if rec[0] == "O*NET Id" or len(rec) < 7:
        continue
    code, esco, kind = rec[0].strip(), rec[4].strip().lower(), rec[6].strip().lower()
    if not code or not esco:
        continue
    tgt = strong if kind.startswith("exact") or kind.startswith("close") else weak
    tgt.setdefault(esco, set()).add(code)
for k, v in weak.items():
    strong.setdefault(k, v)

def norm(t):
    import unicodedata
    t = unicodedata.normalize("NFKC", t).lower().replace("&", " and ")
    return " ".join("".join(c if (c.isalnum() or c in "+#") else " " for c in t).split())

jb = os.path.join(src, "jobbert-v1-title-normalization")
test_titles = set()
with open(os.path.join(jb, "jobbert_v1_titles.test.csv"), encoding="utf-8") as f:
    for r in csv.DictReader(f):
        test_titles.add(norm(r["text"]))
out, seen = ["title\tonet_codes"], set()
with open(os.path.join(jb, "jobbert_v1_titles.csv"), encoding="utf-8") as f:
    for r in csv.DictReader(f):
        title, label = r["text"].strip(), r["label"].strip().lower()
        n = norm(title)
        if not n or (n, label) in seen or n in test_titles or label not in strong:
            continue
        seen.add((n, label))
        out.append(title.replace("\t", " ") + "\t" + ";".join(sorted(strong[label])))
write_gz(os.path.join(dst, "jobbert_validation.tsv.gz"), "\n".join(out) + "\n")
print(f"jobbert_validation: {len(out) - 1} rows")

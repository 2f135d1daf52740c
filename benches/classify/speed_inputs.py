#!/usr/bin/env python3
"""Inputs for run_speed.sh: 20,000 generated postings as a CSV with `title` and `text`
(the description) columns, from `jobshift generate --format csv`."""
import argparse
import csv
import glob
import os
import subprocess

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--shared", required=True)
ap.add_argument("--jobshift", required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()
csv.field_size_limit(10**9)
target = os.path.join(a.out, "gen20k.csv")
if not os.path.exists(target):
    gen = os.path.join(a.out, "gencsv")
    if not os.path.isdir(gen):
        subprocess.run([a.jobshift, "generate", "--postings", "20000", "--format", "csv", "--out", gen], check=True)
    with open(target + ".tmp", "w", newline="") as o:
        w = csv.writer(o)
        w.writerow(["title", "text"])
        for f in sorted(glob.glob(os.path.join(gen, "postings", "*.csv"))):
            with open(f, newline="") as fh:
                for r in csv.DictReader(fh):
                    if r.get("title") is not None:
                        w.writerow([r["title"], r.get("description") or ""])
    os.replace(target + ".tmp", target)

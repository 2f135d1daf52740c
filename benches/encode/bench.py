#!/usr/bin/env python3
"""Throughput of Python sentence-transformers on the encoder benchmark texts.

Two workloads, both models, same texts as the Rust side (`jobshift model bench`):
  titles   short job titles, batch size 128
  desc256  posting descriptions cut to ~256 tokens, batch size 32

`prepare` builds the text files (never committed) from the shared data:
  titles.txt   the first N job titles of hn-whoishiring-titles-2022-2025 (or onet alternate titles)
  desc256.txt  Hacker News "Who is hiring" posts, each cut to its first 254 WordPiece tokens
               (the MiniLM tokenizer; 256 with [CLS]/[SEP]) and decoded back to text
`run` times SentenceTransformer.encode with torch.set_num_threads(THREADS) after a warm-up and
writes results JSON (texts/s, per model and workload).

Usage:
  python benches/encode/bench.py prepare --data /work/shared/data --out /tmp/encbench
  python benches/encode/bench.py run --texts /tmp/encbench --threads 2 \
      --minilm /root/.cache/jobshift/models/minilm --mpnet /root/.cache/jobshift/models/mpnet \
      --json /tmp/encbench/python.json
Versions used for the reported numbers: see the JSON ("versions").
"""
import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

WORKLOADS = {"titles": 128, "desc256": 32}


def prepare(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv.field_size_limit(sys.maxsize)
    titles_csv = Path(args.data) / "hn-whoishiring-titles-2022-2025/hn_whoishiring_titles_2022-12_2025-10.csv"
    titles = []
    with titles_csv.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = " ".join((row.get("job_title") or "").split())
            if t:
                titles.append(t)
            if len(titles) >= args.titles:
                break
    (out / "titles.txt").write_text("\n".join(titles) + "\n", encoding="utf-8")

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(args.tokenizer)))
    tok.no_padding()
    tok.no_truncation()
    posts_csv = Path(args.data) / "hn-whoishiring-fulltext-2013-2018/hn_whoishiring_2013-08_2018-04.csv"
    descs = []
    with posts_csv.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = " ".join((row.get("text") or "").split())
            enc = tok.encode(text, add_special_tokens=False)
            if len(enc.ids) < 300:
                continue
            cut = tok.decode(enc.ids[:254])
            descs.append(cut)
            if len(descs) >= args.descs:
                break
    (out / "desc256.txt").write_text("\n".join(descs) + "\n", encoding="utf-8")
    print(f"wrote {len(titles)} titles and {len(descs)} descriptions to {out}")


def run(args):
    import torch
    import sentence_transformers
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    texts = {w: Path(args.texts, f"{w}.txt").read_text(encoding="utf-8").splitlines() for w in WORKLOADS}
    results = {
        "tool": "sentence-transformers",
        "threads": args.threads,
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "torch_parallel_info": torch.__config__.parallel_info().splitlines()[:6],
        },
        "cells": [],
    }
    for name in args.models.split(","):
        path = getattr(args, name)
        if not path:
            continue
        model = SentenceTransformer(path, device="cpu")
        model.eval()
        for workload, batch in WORKLOADS.items():
            limit = {"titles": args.titles_limit, "desc256": args.desc_limit}[workload] or args.limit
            data = texts[workload][:limit] if limit else texts[workload]
            with torch.inference_mode():
                model.encode(data[: batch * 2], batch_size=batch)  # warm-up
                t0 = time.perf_counter()
                model.encode(data, batch_size=batch)
                dt = time.perf_counter() - t0
            cell = {"model": name, "workload": workload, "batch_size": batch, "texts": len(data),
                    "seconds": dt, "texts_per_s": len(data) / dt}
            results["cells"].append(cell)
            print(json.dumps(cell), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--data", default="/work/shared/data")
    p.add_argument("--out", required=True)
    p.add_argument("--titles", type=int, default=4096)
    p.add_argument("--descs", type=int, default=512)
    p.add_argument("--tokenizer", default="/root/.cache/jobshift/models/minilm/tokenizer.json")
    r = sub.add_parser("run")
    r.add_argument("--texts", required=True)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--minilm")
    r.add_argument("--mpnet")
    r.add_argument("--limit", type=int, default=0)
    r.add_argument("--titles-limit", type=int, default=0, help="overrides --limit for titles")
    r.add_argument("--desc-limit", type=int, default=0, help="overrides --limit for desc256")
    r.add_argument("--models", default="minilm,mpnet", help="comma-separated subset to run")
    r.add_argument("--json")
    args = ap.parse_args()
    prepare(args) if args.cmd == "prepare" else run(args)


if __name__ == "__main__":
    main()

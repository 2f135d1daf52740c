#!/usr/bin/env python3
"""The peer side of the GPU benchmark: sentence-transformers on the same GPU, same weights,
same texts, same batch size as `jobshift model bench` / `jobshift embed`.

  peer.py embed   --model DIR --texts FILE --dtype f32|f16|bf16 --out X.npy [--batch-size B]
  peer.py bench   --model DIR --texts FILE --dtype ... --batch-size B [--repeat 3] --json OUT
  peer.py compare A.npy B.npy --label NAME --json OUT     (per-row cosine: min, mean)

Timing: one warm-up encode of the first 1,000 texts, then `repeat` timed encodes of all texts
(torch.cuda.synchronize before and after), the best reported, as `jobshift model bench` does.
"""
import argparse
import json
import sys
import time

import numpy as np

DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def load(model_dir, dtype):
    import torch
    from sentence_transformers import SentenceTransformer

    m = SentenceTransformer(model_dir, device="cuda")
    m = m.to(getattr(torch, DTYPES[dtype]))
    m.eval()
    return m


def read_texts(path, limit=None):
    with open(path, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    return texts[:limit] if limit else texts


def embed(a):
    m = load(a.model, a.dtype)
    texts = read_texts(a.texts, a.limit)
    v = m.encode(texts, batch_size=a.batch_size, convert_to_numpy=False, convert_to_tensor=True)
    np.save(a.out, v.float().cpu().numpy())


def bench(a):
    import torch

    m = load(a.model, a.dtype)
    texts = read_texts(a.texts, a.limit)
    with torch.inference_mode():
        m.encode(texts[:1000], batch_size=a.batch_size, convert_to_tensor=True)
        best = None
        for _ in range(max(1, a.repeat)):
            torch.cuda.synchronize()
            t = time.perf_counter()
            m.encode(texts, batch_size=a.batch_size, convert_to_tensor=True)
            torch.cuda.synchronize()
            s = time.perf_counter() - t
            best = s if best is None else min(best, s)
    line = {
        "tool": "sentence-transformers",
        "model": a.model,
        "input": a.texts,
        "batch_size": a.batch_size,
        "dtype": a.dtype,
        "device": torch.cuda.get_device_name(0),
        "texts": len(texts),
        "seconds": best,
        "texts_per_s": len(texts) / best,
        "versions": {
            "torch": torch.__version__,
            "sentence_transformers": __import__("sentence_transformers").__version__,
            "transformers": __import__("transformers").__version__,
        },
    }
    print(json.dumps(line))
    with open(a.json, "a") as f:
        f.write(json.dumps(line) + "\n")


def compare(a):
    x, y = np.load(a.a).astype(np.float64), np.load(a.b).astype(np.float64)
    if x.shape != y.shape:
        sys.exit(f"shapes differ: {x.shape} vs {y.shape}")
    cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-30)
    line = {"label": a.label, "rows": int(len(cos)), "cos_min": float(cos.min()), "cos_mean": float(cos.mean())}
    print(json.dumps(line))
    with open(a.json, "a") as f:
        f.write(json.dumps(line) + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("embed", "bench"):
        p = sub.add_parser(name)
        p.add_argument("--model", required=True)
        p.add_argument("--texts", required=True)
        p.add_argument("--dtype", default="f32", choices=list(DTYPES))
        p.add_argument("--batch-size", type=int, default=512)
        p.add_argument("--limit", type=int)
        if name == "embed":
            p.add_argument("--out", required=True)
        else:
            p.add_argument("--repeat", type=int, default=3)
            p.add_argument("--json", required=True)
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--label", required=True)
    p.add_argument("--json", required=True)
    a = ap.parse_args()
    {"embed": embed, "bench": bench, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()

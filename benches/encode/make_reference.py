#!/usr/bin/env python3
"""Reference vectors for the Rust encoder parity test (crates/encode/tests/parity.rs).

Encodes every text of crates/encode/tests/fixtures/parity_texts.jsonl with Python
sentence-transformers and writes, per model:
  crates/encode/tests/fixtures/reference_<model>.npy   float16 (n, dim) sentence embeddings
and crates/encode/tests/fixtures/reference_meta.json with the exact library versions, the
sha256 of each model's weights, and for every text the token count and a sha256 of the token
ids the reference tokenizer produced (so the Rust side can check truncation exactly).

float16 keeps the fixture small (< 0.5 MB); its rounding costs < 1e-6 of cosine, far below the
0.9999 acceptance threshold.

Versions used for the committed reference (pip install torch sentence-transformers, CPU):
  sentence-transformers 6.2.0, transformers 5.24.0, torch 2.15.0, tokenizers 0.23.3,
  numpy 2.4.6, Python 3.11.7.

Usage:
  python benches/encode/make_reference.py \
      --minilm /root/.cache/jobshift/staging/minilm \
      --mpnet  /root/.cache/jobshift/staging/mpnet/all-mpnet-base-v2
"""
import argparse
import hashlib
import json
import platform
from pathlib import Path

import numpy as np
import sentence_transformers
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer

FIXTURES = Path(__file__).resolve().parents[2] / "crates/encode/tests/fixtures"


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ids_digest(ids) -> str:
    # little-endian u32 ids, the same bytes the Rust test hashes
    return hashlib.sha256(np.asarray(ids, dtype="<u4").tobytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", type=Path, required=True)
    ap.add_argument("--mpnet", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    rows = [json.loads(l) for l in (FIXTURES / "parity_texts.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in rows]
    meta = {
        "generator": "benches/encode/make_reference.py",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "texts": len(texts),
        "dtype": "float16",
        "models": {},
    }
    for name, path in (("minilm", args.minilm), ("mpnet", args.mpnet)):
        model = SentenceTransformer(str(path), device="cpu")
        model.eval()
        emb = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
        emb = np.asarray(emb, dtype=np.float32)
        np.save(FIXTURES / f"reference_{name}.npy", emb.astype(np.float16))
        tok = model.tokenize(texts)
        lengths, digests = [], []
        for ids, mask in zip(tok["input_ids"].tolist(), tok["attention_mask"].tolist()):
            real = [i for i, m in zip(ids, mask) if m]
            lengths.append(len(real))
            digests.append(ids_digest(real))
        meta["models"][name] = {
            "dim": int(emb.shape[1]),
            "max_seq_length": int(model.max_seq_length),
            "weights_sha256": sha256_file(Path(path) / "model.safetensors"),
            "token_counts": lengths,
            "token_id_sha256": digests,
        }
        print(f"{name}: {emb.shape}, max tokens {max(lengths)}, truncated {sum(l == model.max_seq_length for l in lengths)}")
    (FIXTURES / "reference_meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Give a sentence-transformers model skeleton (configs + tokenizer, no weights) random weights.

The GPU machine has no network and no model weights, and at most 64 MiB can be carried there,
so the benchmark builds models of the real shapes on the spot: a randomly initialised
`BertModel` (all-MiniLM-L6-v2's config) or `MPNetModel` (all-mpnet-base-v2's), seeded, saved as
`model.safetensors` next to the carried config and tokenizer. Speed does not depend on the
values, and parity is checked against PyTorch on these same weights.

  python3 make_weights.py SKELETON_DIR OUT_DIR [--seed 0]
"""
import argparse
import json
import shutil
from pathlib import Path

import torch
from transformers import AutoConfig, BertModel, MPNetModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skeleton")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    src, out = Path(a.skeleton), Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src, out)
    cfg = AutoConfig.from_pretrained(out)
    torch.manual_seed(a.seed)
    cls = {"bert": BertModel, "mpnet": MPNetModel}[cfg.model_type]
    model = cls(cfg, add_pooling_layer=False) if cfg.model_type == "bert" else cls(cfg, add_pooling_layer=False)
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    # save_pretrained may rewrite config.json; keep the carried one (max_position_embeddings etc.)
    shutil.copy(src / "config.json", out / "config.json")
    n = sum(p.numel() for p in model.parameters())
    print(json.dumps({"model": cfg.model_type, "params": n, "dir": str(out)}))


if __name__ == "__main__":
    main()

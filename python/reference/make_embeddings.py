#!/usr/bin/env python3
"""Reference embeddings from sentence-transformers itself (the parity target; never typed in).

SentenceTransformer(model_dir).encode(texts, normalize_embeddings=True) on CPU in float32: BertModel,
mean pooling over the attention mask (1_Pooling), then L2 normalization, max_seq_length 256.

usage: make_embeddings.py --model-dir DIR --corpus FILE(.jsonl with "text" | .txt) --out FILE.npy
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

import numpy as np


def sentence_transformers_embeddings(model_dir: str, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    model = SentenceTransformer(model_dir, device="cpu")
    model.eval()
    emb = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                       show_progress_bar=False)
    return np.asarray(emb, dtype=np.float32)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help=".npy output (float32, one row per text, corpus order)")
    a = p.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from minilm_convert.validate import load_texts

    texts = load_texts(a.corpus)
    emb = sentence_transformers_embeddings(a.model_dir, texts)
    np.save(a.out, emb)
    print(f"{len(texts)} texts -> {a.out} {emb.shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

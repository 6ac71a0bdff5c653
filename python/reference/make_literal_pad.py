#!/usr/bin/env python3
"""Reference vectors for texts that contain the literal token "[PAD]" (testdata/fixtures/literal_pad.json).

Why: the default Core ML model takes input_ids alone and derives its attention mask as ids != 0.
Hugging Face tokenizes a literal "[PAD]" inside a text to id 0 -- the padding id -- with attention
mask 1, so such a token must reach the model another way (go/backend/coreml/inputs.go sends it as
-1). This script records, from sentence-transformers itself, what those texts must give:

* ``ids`` and ``attention_mask``: sentence-transformers' own tokenization (``model.tokenize``, the
  transformers fast tokenizer, max_seq_length 256) of each text alone. The script fails unless
  every text has id 0 with mask 1 at an inner position, i.e. unless the premise above holds.
* ``embedding``: ``SentenceTransformer.encode(text, normalize_embeddings=True)`` on CPU in float32.

Run with the hash-locked conversion venv (it has sentence-transformers 3.0.1):

    HF_HUB_OFFLINE=1 $VENV/bin/python python/reference/make_literal_pad.py \
        --model-dir bazel-bin/models/minilm_weights --out testdata/fixtures/literal_pad.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys

import numpy as np

TEXTS = [
    "hello [PAD] world",
    "[PAD]",
    "A grey cat [PAD] lying on a wooden table.",
    "[PAD] at the start, [PAD][PAD] twice in the middle and at the end [PAD]",
    "Padding tokens such as [PAD] and [CLS] or [SEP] can appear in scraped text.",
]
MAX_SEQ_LENGTH = 256


def f32(values):
    return [float(f"{float(v):.9g}") for v in np.asarray(values, dtype=np.float32).ravel()]


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)

    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    model = SentenceTransformer(a.model_dir, device="cpu")
    model.eval()
    if model.max_seq_length != MAX_SEQ_LENGTH:
        raise SystemExit(f"max_seq_length {model.max_seq_length}, expected {MAX_SEQ_LENGTH}")
    pad_id = model.tokenizer.pad_token_id
    if pad_id != 0:
        raise SystemExit(f"[PAD] has id {pad_id}, expected 0")
    cases = []
    for text in TEXTS:
        feats = model.tokenize([text])  # one text: no batch padding
        ids = feats["input_ids"][0].tolist()
        mask = feats["attention_mask"][0].tolist()
        inner = [i for i in range(1, len(ids) - 1) if ids[i] == pad_id and mask[i] == 1]
        if not inner or any(m != 1 for m in mask):
            raise SystemExit(f"{text!r}: expected a [PAD] token (id 0, mask 1) inside, got ids {ids} mask {mask}")
        emb = model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0]
        cases.append({"text": text, "ids": ids, "attention_mask": mask, "literal_pad_positions": inner,
                      "embedding": f32(emb)})
    doc = {
        "generator": "python/reference/make_literal_pad.py",
        "encode": {"device": "cpu", "max_seq_length": MAX_SEQ_LENGTH, "normalize_embeddings": True},
        "model_files_sha256": {f: sha256(os.path.join(a.model_dir, f))
                               for f in ("config.json", "model.safetensors", "tokenizer.json")},
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
                     "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__},
        "cases": cases,
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(cases)} texts -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

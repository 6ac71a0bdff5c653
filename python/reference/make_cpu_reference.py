#!/usr/bin/env python3
"""Writes the encoder parity fixture for the Go CPU backend (go/backend/cpu) and go/pooling.

Re-run after changing the texts or the model:

    HF_HUB_OFFLINE=1 /tmp/devvenv/bin/python python/reference/make_cpu_reference.py \
        --model-dir /path/to/all-MiniLM-L6-v2 --out testdata/fixtures/encoder_reference.json

For each text the fixture holds the token ids and attention mask exactly as
sentence-transformers feeds them to the encoder (HF tokenizer, truncated at max_seq_length),
the normalized sentence embedding (each text encoded alone, so no padding effects), and the
last hidden state of its first token ([CLS]). A separate "pooling" case holds the full last
hidden state of a padded two-text batch with sentence-transformers' pooled, normalized output,
so go/pooling can be checked without the encoder.
"""

import argparse
import json
import sys

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

TEXTS = [
    "",
    "a",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "Core ML runs models on the Apple Neural Engine.",
    "naïve café résumé — ünïcödé and emoji 🙂 and 中文字符",
    "   leading and trailing spaces   ",
    "UPPER CASE TEXT IS LOWERCASED BY THE UNCASED TOKENIZER",
    "Numbers 1234567890 and symbols !@#$%^&*()_+-=[]{};':\",./<>?",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "What is the capital of France? Paris is the capital and most populous city of France.",
    # ~128 tokens.
    " ".join(["Sentence embeddings map text to dense vectors for semantic search and clustering."] * 9),
    # Longer than max_seq_length (256): sentence-transformers truncates it.
    " ".join(["The encoder must handle long inputs by truncating them to the model limit."] * 30),
]


def f32(values):
    return [float(f"{float(v):.9g}") for v in np.asarray(values, dtype=np.float32).ravel()]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    torch.manual_seed(0)
    model = SentenceTransformer(args.model_dir, device="cpu")
    model.eval()

    cases = []
    with torch.no_grad():
        for text in TEXTS:
            feats = model.tokenize([text])
            out = model(dict(feats))
            emb = out["sentence_embedding"][0]
            hidden = out["token_embeddings"][0]
            cases.append({
                "text": text,
                "ids": feats["input_ids"][0].tolist(),
                "mask": feats["attention_mask"][0].tolist(),
                "type_ids": feats["token_type_ids"][0].tolist(),
                "embedding": f32(emb),
                "hidden_cls": f32(hidden[0]),
            })

        pool_texts = ["A man is eating food.", "Hello, world!"]
        feats = model.tokenize(pool_texts)
        out = model(dict(feats))
        seq = feats["input_ids"].shape[1]
        pooling = {
            "texts": pool_texts,
            "rows": len(pool_texts),
            "seq": int(seq),
            "dim": int(out["token_embeddings"].shape[2]),
            "mask": feats["attention_mask"].ravel().tolist(),
            "hidden": f32(out["token_embeddings"]),
            "embeddings": f32(out["sentence_embedding"]),
        }

    fixture = {
        "generator": "python/reference/make_cpu_reference.py",
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "versions": {
            "torch": torch.__version__,
            "sentence_transformers": __import__("sentence_transformers").__version__,
            "transformers": __import__("transformers").__version__,
        },
        "max_seq_length": model.max_seq_length,
        "hidden_size": int(cases[0]["hidden_cls"].__len__()),
        "cases": cases,
        "pooling": pooling,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    lens = [sum(c["mask"]) for c in cases]
    print(f"wrote {args.out}: {len(cases)} texts, token lengths {lens}", file=sys.stderr)


if __name__ == "__main__":
    main()

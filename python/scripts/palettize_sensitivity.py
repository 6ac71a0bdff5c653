#!/usr/bin/env python3
"""Which weights cost a uniform palette its quality: a fast proxy for the quality gate.

Palettizes chosen weight roles of the float32 Hugging Face model in place, with the same fitted
uniform tables as the converter (minilm_convert/palettize.py, one table per input column, the
palettize_uniform4 preset's layout), and prints the cosine of the mean-pooled embeddings to the
unpalettized model's on the hardest categories of the fixture corpus. Seconds per configuration
instead of a conversion and a gate run (minutes), and it ranks the configurations as the gate does:
4 bits everywhere gives min 0.631 here and 0.627 in the full gate; attention.output.dense and
output.dense at 8 bits 0.708 and 0.706. It chose the preset's --palettize-nbits-for
intermediate_dense=6 (README.md, "Uniform palettization and W8A8").

usage: palettize_sensitivity.py [--model-dir DIR] [--corpus corpus.jsonl] [--categories a,b] CONFIG...

CONFIG is ROLE=BITS[,ROLE=BITS...] over the roles q, k, v, ao (attention.output.dense), i
(intermediate.dense), o (output.dense) and emb (word embeddings); unnamed roles get 4 bits, 16 means
float16 (left unpalettized); "" is 4 bits everywhere. Size is the weight bytes of the palettized
matrices plus their tables. Run with the conversion venv's python.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

ROLES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
         "ao": "attention.output.dense", "i": "intermediate.dense", "o": "output.dense",
         "emb": "embeddings.word_embeddings"}
HARD = "gen_random_unicode,gen_cjk,gen_mixed_script,gen_emoji,gen_control,gen_math"


def role_of(name):
    if name == "embeddings.word_embeddings.weight":
        return "emb"
    if not (name.startswith("encoder.layer.") and name.endswith(".weight")) or "LayerNorm" in name:
        return None
    for role, part in ROLES.items():
        if role == "o" and "attention.output.dense" in name:
            continue
        if "." + part + "." in "." + name:
            return role
    return None


def parse_config(text):
    bits = dict.fromkeys(ROLES, 4)
    for item in filter(None, text.split(",")):
        role, sep, b = item.partition("=")
        if not sep or role not in ROLES or not b.isdigit():
            raise SystemExit(f"bad CONFIG item {item!r}: expected ROLE=BITS, ROLE one of {', '.join(ROLES)}")
        bits[role] = int(b)
    return bits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=os.environ.get("MINILM_MODEL_DIR"), help="default $MINILM_MODEL_DIR")
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "testdata", "fixtures", "corpus.jsonl"))
    ap.add_argument("--categories", default=HARD, help="fixture categories to measure (default: %(default)s)")
    ap.add_argument("configs", nargs="+", metavar="CONFIG")
    a = ap.parse_args(argv)
    if not a.model_dir:
        ap.error("--model-dir or $MINILM_MODEL_DIR is required")
    configs = [(c, parse_config(c)) for c in a.configs]

    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from minilm_convert.palettize import fitted_uniform_lut

    torch.manual_seed(0)
    cats = set(a.categories.split(","))
    texts = [r["text"] for r in map(json.loads, open(a.corpus, encoding="utf-8")) if r["category"] in cats]
    if not texts:
        raise SystemExit(f"no texts of categories {sorted(cats)} in {a.corpus}")
    tok = AutoTokenizer.from_pretrained(a.model_dir)
    model = AutoModel.from_pretrained(a.model_dir).eval()

    def embed():
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 32):
                b = tok(texts[i:i + 32], padding=True, truncation=True, max_length=256, return_tensors="pt")
                h = model(**b).last_hidden_state
                m = b["attention_mask"].unsqueeze(-1).float()
                out.append(torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1))
        return torch.cat(out).numpy()

    ref = embed()
    original = {k: v.clone() for k, v in model.state_dict().items()}
    cache = {}

    def palettized(name, w, nbits):
        if (name, nbits) not in cache:
            w16 = w.numpy().astype(np.float16)  # the converter palettizes the float16 weights
            out = np.empty_like(w16)
            for c in range(w16.shape[1]):  # one table per input column
                lut, idx = fitted_uniform_lut(w16[:, c], nbits)
                out[:, c] = lut[idx]
            cache[(name, nbits)] = torch.from_numpy(out.astype(np.float32))
        return cache[(name, nbits)]

    print(f"{len(texts)} texts ({a.categories}); cosine to the float32 model")
    for text, bits in configs:
        state, size = {}, 0.0
        for name, w in original.items():
            role = role_of(name)
            if role is None or w.dim() != 2 or bits[role] >= 16:
                state[name] = w
                size += 2 * w.numel() if role else 0
                continue
            state[name] = palettized(name, w, bits[role])
            size += w.numel() * bits[role] / 8 + w.shape[1] * (1 << bits[role]) * 2
        model.load_state_dict(state)
        cos = (embed() * ref).sum(1)
        print(f"{text or '(4 bits everywhere)':36s} {size / 1e6:6.1f} MB  mean {cos.mean():.4f}  min {cos.min():.4f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Cross-checks testdata/fixtures/tokens.jsonl against sentence-transformers' own tokenize.

make_token_fixtures.py calls `tokenizers` directly. This script makes sure that is what
sentence-transformers really feeds the model: it loads the model with SentenceTransformer,
sets max_seq_length, calls model.tokenize (which strips each text and calls the transformers
fast tokenizer with padding and truncation) and compares the unpadded ids, attention mask and
token type ids with the fixture for every text (or a --sample of them).

Usage (from the repository root):
    HF_HUB_OFFLINE=1 python3 python/reference/check_st_tokenize.py \
        --model /path/to/model --corpus testdata/fixtures/corpus.jsonl \
        --tokens testdata/fixtures/tokens.jsonl
"""

import argparse
import json
import random

import sentence_transformers
import transformers
from sentence_transformers import SentenceTransformer


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--sample", type=int, default=0, help="check only this many random texts (0: all)")
    args = ap.parse_args()

    with open(args.corpus, encoding="utf-8") as f:
        texts = {r["id"]: r["text"] for r in map(json.loads, f)}
    expected = {}
    with open(args.tokens, encoding="utf-8") as f:
        for r in map(json.loads, f):
            expected[(r["id"], r["max_len"])] = r

    ids = sorted(texts)
    if args.sample:
        ids = sorted(random.Random(0).sample(ids, args.sample))

    model = SentenceTransformer(args.model, device="cpu")
    checked, bad = 0, 0
    for max_len in (256, 512):
        model.max_seq_length = max_len
        for start in range(0, len(ids), 64):
            chunk = ids[start:start + 64]
            feats = model.tokenize([texts[i] for i in chunk])
            for row, i in enumerate(chunk):
                mask = feats["attention_mask"][row].tolist()
                n = sum(mask)
                got = {
                    "ids": feats["input_ids"][row].tolist()[:n],
                    "attention_mask": mask[:n],
                    "type_ids": feats["token_type_ids"][row].tolist()[:n],
                }
                want = expected[(i, max_len)]
                checked += 1
                if any(got[k] != want[k] for k in got):
                    bad += 1
                    print(f"MISMATCH id={i} max_len={max_len} text={texts[i][:80]!r}")
    print(f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}: "
          f"{checked} encodings checked, {bad} mismatches")
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()

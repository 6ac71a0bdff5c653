#!/usr/bin/env python3
"""Writes the expected token ids of every corpus text, made by Hugging Face `tokenizers`.

For each text of testdata/fixtures/corpus.jsonl and each max_len in (256, 512) it writes one
line of testdata/fixtures/tokens.jsonl:

    {"id": 7, "max_len": 256, "ids": [...], "attention_mask": [...], "type_ids": [...]}

The encodings are unpadded and truncated to max_len the way sentence-transformers calls the
fast tokenizer (special tokens added, longest-first truncation, stride 0, no padding).
testdata/fixtures/tokens.meta.json records the tokenizers version and the sha256 of the
corpus and tokenizer.json the fixture was made from, so a stale fixture is detectable.

Usage (from the repository root; the reference version is tokenizers 0.15.2, the version
transformers 4.37 pins):
    HF_HUB_OFFLINE=1 python3 python/reference/make_token_fixtures.py \
        --tokenizer /path/to/model/tokenizer.json \
        --corpus testdata/fixtures/corpus.jsonl \
        --out testdata/fixtures/tokens.jsonl
"""

import argparse
import hashlib
import json
import os

import tokenizers

MAX_LENS = (256, 512)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_tokenizer(path, max_len):
    tok = tokenizers.Tokenizer.from_file(path)
    tok.no_padding()
    tok.enable_truncation(max_length=max_len, stride=0, strategy="longest_first")
    return tok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", required=True, help="the model's tokenizer.json")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.corpus, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]

    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for max_len in MAX_LENS:
            tok = load_tokenizer(args.tokenizer, max_len)
            encs = tok.encode_batch([r["text"] for r in rows], add_special_tokens=True)
            for r, e in zip(rows, encs):
                rec = {
                    "id": r["id"],
                    "max_len": max_len,
                    "ids": e.ids,
                    "attention_mask": e.attention_mask,
                    "type_ids": e.type_ids,
                }
                out.write(json.dumps(rec, separators=(",", ":")) + "\n")

    meta = {
        "generator": "python/reference/make_token_fixtures.py",
        "tokenizers_version": tokenizers.__version__,
        "max_lens": list(MAX_LENS),
        "texts": len(rows),
        "corpus_sha256": sha256(args.corpus),
        "tokenizer_json_sha256": sha256(args.tokenizer),
    }
    meta_path = os.path.join(os.path.dirname(args.out), "tokens.meta.json")
    with open(meta_path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(rows) * len(MAX_LENS)} encodings to {args.out} (tokenizers {tokenizers.__version__})")


if __name__ == "__main__":
    main()

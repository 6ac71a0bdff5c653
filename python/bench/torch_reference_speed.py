#!/usr/bin/env python3
"""Encoder throughput of sentence-transformers (torch CPU) vs the Go CPU backend, same session.

    HF_HUB_OFFLINE=1 /tmp/devvenv/bin/python python/bench/torch_reference_speed.py \
        --model-dir /path/to/all-MiniLM-L6-v2 --threads 2 --go

For each configuration (rows texts of exactly seq tokens, [CLS] and [SEP] included) it times
  * torch-encoder: the BERT encoder alone (model[0].auto_model) on pre-tokenized input,
  * torch-encode: SentenceTransformer.encode (tokenization + encoder + pooling),
  * go (with --go): BenchmarkForward of go/backend/cpu (encoder alone, GOMAXPROCS=threads),
each rate being a mean over a timed window; the engines alternate for --rounds rounds and each
keeps its best window, so both see the same machine load. This is a quick same-machine check, not the benchmark suite (go/bench).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

CONFIGS = [(1, 16), (32, 16), (32, 32), (1, 128), (32, 128)]
WORDS = ("time people way year day thing man world life hand part child eye woman place work week "
         "case point government company number group problem fact").split()


def texts_of(tokenizer, rows, seq):
    """rows different texts of exactly seq tokens each (special tokens included)."""
    out = []
    for r in range(rows):
        words = [WORDS[(r * 7 + i) % len(WORDS)] for i in range(seq - 2)]
        text = " ".join(words)
        n = len(tokenizer(text)["input_ids"])
        assert n == seq, (text, n, seq)
        out.append(text)
    return out


def mean_rate(fn, rows, min_time):
    """Texts per second over at least min_time seconds of calls (a mean, like go test -bench)."""
    fn()  # warm up
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        spent = time.perf_counter() - t0
        if spent >= min_time:
            return rows * calls / spent


def torch_rates(model, rows, seq, min_time):
    texts = texts_of(model.tokenizer, rows, seq)
    feats = model.tokenize(texts)
    enc = model[0].auto_model

    def encoder():
        with torch.inference_mode():
            enc(input_ids=feats["input_ids"], attention_mask=feats["attention_mask"],
                token_type_ids=feats["token_type_ids"])

    def encode():
        model.encode(texts, batch_size=rows, convert_to_numpy=True)

    return mean_rate(encoder, rows, min_time), mean_rate(encode, rows, min_time)


def go_rates(repo, model_dir, threads, benchtime):
    env = dict(os.environ, MINILM_MODEL_DIR=model_dir, GOMAXPROCS=str(threads))
    names = "|".join(f"{r}x{s}" for r, s in CONFIGS)
    cmd = ["go", "test", "-run", "XXX", "-bench", f"BenchmarkForward/({names})$",
           "-benchtime", benchtime, "-count", "1", "./go/backend/cpu/"]
    res = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=True)
    rates = {}
    for line in res.stdout.splitlines():
        m = re.match(r"BenchmarkForward/(\d+)x(\d+)\S*\s.*?([\d.]+) texts/s", line)
        if m:
            rates[(int(m.group(1)), int(m.group(2)))] = float(m.group(3))
    return rates


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--min-time", type=float, default=3.0, help="seconds per torch measurement")
    p.add_argument("--go", action="store_true", help="also run the Go BenchmarkForward")
    p.add_argument("--go-benchtime", default="3s")
    p.add_argument("--repo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(args.model_dir, device="cpu")
    model.eval()

    best = {}
    for _ in range(args.rounds):
        for rows, seq in CONFIGS:
            enc, encode = torch_rates(model, rows, seq, args.min_time)
            for k, v in (("torch-encoder", enc), ("torch-encode", encode)):
                best[(k, rows, seq)] = max(best.get((k, rows, seq), 0.0), v)
        if args.go:
            for (rows, seq), v in go_rates(args.repo, args.model_dir, args.threads, args.go_benchtime).items():
                best[("go", rows, seq)] = max(best.get(("go", rows, seq), 0.0), v)

    results = []
    print(f"threads={args.threads} torch={torch.__version__} load={os.getloadavg()[0]:.1f}", file=sys.stderr)
    print(f"{'config':>8} {'torch-encoder':>14} {'torch-encode':>13} {'go':>9} {'go/torch-enc':>13}", file=sys.stderr)
    for rows, seq in CONFIGS:
        te, tn = best[("torch-encoder", rows, seq)], best[("torch-encode", rows, seq)]
        g = best.get(("go", rows, seq))
        ratio = g / te if g else None
        results.append({"rows": rows, "seq": seq, "torch_encoder_texts_per_s": te,
                        "torch_encode_texts_per_s": tn, "go_texts_per_s": g, "go_over_torch_encoder": ratio})
        gs = f"{g:9.1f}" if g else f"{'-':>9}"
        rs = f"{ratio:13.2f}" if ratio else f"{'-':>13}"
        print(f"{rows:>3}x{seq:<4} {te:14.1f} {tn:13.1f} {gs} {rs}", file=sys.stderr)
    json.dump({"threads": args.threads, "results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

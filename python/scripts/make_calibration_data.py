#!/usr/bin/env python3
"""Writes python/data/calibration_sentences.txt: real sentences for W8A8 calibration.

Source: the STS Benchmark test split (/work/shared/data/stsb-test.tsv, see its README; scores CC BY-SA 4.0,
sentences under their original licences). Takes sentence1 of every 10th row, so the sample spans the file's
genres (captions, news, forums), drops exact duplicates and keeps file order. Deterministic.

usage: make_calibration_data.py [STSB_TSV] [OUT]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/stsb-test.tsv"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "data", "calibration_sentences.txt")
N = 128

with open(SRC, encoding="utf-8") as f:
    rows = [line.rstrip("\n").split("\t") for line in f][1:]
seen, out = set(), []
for i, row in enumerate(rows):
    if i % 10:
        continue
    s = row[1].strip()
    if s and s not in seen:
        seen.add(s)
        out.append(s)
    if len(out) == N:
        break
with open(OUT, "w", encoding="utf-8") as f:
    f.write("# STS Benchmark test split, sentence1 of every 10th row (python/scripts/make_calibration_data.py).\n")
    f.write("# Scores CC BY-SA 4.0; sentences keep their original licences (see /work/shared/data/README.md).\n")
    for s in out:
        f.write(s + "\n")
print(f"wrote {len(out)} sentences to {OUT}")

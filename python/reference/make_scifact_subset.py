#!/usr/bin/env python3
"""Writes testdata/scifact/, a fixed subset of BEIR SciFact (test split) for quality tests.

The retrieval-quality test (go/embed TestPrecisionQuality) compares nDCG@10 between compute
precisions on the same texts; the whole corpus (5,183 abstracts) would take minutes per
precision on a 2-core machine, so it runs on this subset instead. Its scores are not
comparable with the published full-corpus figure; the test computes its float32 reference
on the same subset.

Selection (deterministic, no randomness): the first --queries test queries in queries.jsonl
order that have judgements, every document judged for them, and the first other documents in
corpus order until --docs documents in all. Lines are copied verbatim, in their original
order; the qrels keep the header and the kept queries' rows.

Usage (from the repository root):
    python3 python/reference/make_scifact_subset.py \
        --scifact /work/shared/data/scifact --queries 100 --docs 500 --out testdata/scifact
"""

import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scifact", required=True, help="directory with corpus.jsonl, queries.jsonl, qrels-test.tsv")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(os.path.join(args.scifact, "qrels-test.tsv"), encoding="utf-8", newline="") as f:
        qrel_lines = f.read().split("\n")
    header, rows = qrel_lines[0], [r for r in qrel_lines[1:] if r]
    judged = {}
    for r in rows:
        q, d, _ = r.split("\t")
        judged.setdefault(q, set()).add(d)

    with open(os.path.join(args.scifact, "queries.jsonl"), encoding="utf-8", newline="") as f:
        query_lines = [l for l in f.read().split("\n") if l.strip()]
    kept_queries, kept_ids = [], set()
    for line in query_lines:
        qid = json.loads(line)["_id"]
        if qid in judged and len(kept_queries) < args.queries:
            kept_queries.append(line)
            kept_ids.add(qid)
    need = set().union(*(judged[q] for q in kept_ids))

    with open(os.path.join(args.scifact, "corpus.jsonl"), encoding="utf-8", newline="") as f:
        corpus_lines = [l for l in f.read().split("\n") if l.strip()]
    extra = args.docs - len(need)
    kept_docs = []
    for line in corpus_lines:
        did = json.loads(line)["_id"]
        if did in need:
            kept_docs.append(line)
        elif extra > 0:
            kept_docs.append(line)
            extra -= 1
    found = {json.loads(l)["_id"] for l in kept_docs} & need
    if found != need:
        raise SystemExit(f"judged documents missing from the corpus: {sorted(need - found)}")

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "corpus.jsonl"), "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(kept_docs) + "\n")
    with open(os.path.join(args.out, "queries.jsonl"), "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(kept_queries) + "\n")
    with open(os.path.join(args.out, "qrels-test.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write("\n".join([header] + [r for r in rows if r.split("\t")[0] in kept_ids]) + "\n")
    print(f"{len(kept_queries)} queries, {len(kept_docs)} documents ({len(need)} judged)")


if __name__ == "__main__":
    main()

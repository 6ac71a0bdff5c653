#!/usr/bin/env python3
"""Validate a converted all-MiniLM-L6-v2 .mlpackage without the Core ML runtime.

usage: validate_model.py PACKAGE [--expect-variant NAME] [--expect-shapes SPEC] [--expect-inputs single|two]
                         [--parity --model-dir DIR [--corpus FILE] [--min-cosine X]]

SPEC: '1,2,4x8,16' (enumerated grid), '1:64x8:512' (ranges), 'default-enumerated' or 'default-range';
without it the package's own recorded shape set is checked against its inputs. --expect-inputs: the
input interface (single: input_ids; two: input_ids and attention_mask); default: what the metadata records.
--parity evaluates the saved MIL program in NumPy on the corpus and compares mean-pooled, normalized
embeddings with sentence-transformers (min cosine threshold; default 0.999 for fp16, variants differ).
Exits 1 and prints a report on any failed check.
"""

import argparse
import os

import numpy as np
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Only local model directories are read: never reach the Hub, and keep huggingface_hub's cache
# bookkeeping (it writes $HF_HOME/hub/version.txt on import) out of $HOME, e.g. in a Bazel sandbox.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if "HF_HOME" not in os.environ:
    import tempfile

    os.environ["HF_HOME"] = os.path.join(tempfile.gettempdir(), "minilm-convert-hf-home")

from minilm_convert import validate as V  # noqa: E402
from minilm_convert.options import VARIANTS, default_model_dir  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Validate a converted MiniLM .mlpackage (no Core ML runtime needed).")
    p.add_argument("package")
    p.add_argument("--expect-variant", choices=sorted(VARIANTS) + ["custom"], default=None)
    p.add_argument("--expect-shapes", default=None)
    p.add_argument("--expect-inputs", choices=("single", "two"), default=None)
    p.add_argument("--parity", action="store_true", help="also compare the program's embeddings with sentence-transformers")
    p.add_argument("--model-dir", default=None)
    p.add_argument("--corpus", default=None, help=".jsonl ('text' field) or .txt; default: testdata/fixtures/corpus.jsonl (all 1,357 texts: slow), else python/data/calibration_sentences.txt")
    p.add_argument("--min-cosine", type=float, default=None)
    a = p.parse_args(argv)
    try:
        expect = V.parse_expect_shapes(a.expect_shapes) if a.expect_shapes else None
    except ValueError as e:
        print(f"validate_model.py: error: {e}", file=sys.stderr)
        return 2
    report = V.check_package(a.package, expect_variant=a.expect_variant, expect_shapes=expect,
                             expect_inputs=a.expect_inputs)
    if a.parity and report.ok:
        model_dir = a.model_dir or default_model_dir()
        here = os.path.dirname(os.path.abspath(__file__))
        fixture = os.path.join(here, "..", "testdata", "fixtures", "corpus.jsonl")
        corpus = a.corpus or (fixture if os.path.isfile(fixture) else os.path.join(here, "data", "calibration_sentences.txt"))
        texts = V.load_texts(corpus)
        ref = V.reference_embeddings(model_dir, texts)
        got = V.program_embeddings(a.package, model_dir, texts)
        cos = V.cosines(got, ref)
        thr = a.min_cosine if a.min_cosine is not None else V.PROGRAM_MIN_COSINE[V.package_class(a.package)]
        report.add(f"program output finite", bool(np.all(np.isfinite(got))), "")
        report.add(f"program parity vs sentence-transformers ({len(texts)} texts)", float(cos.min()) >= thr,
                   f"min cosine {cos.min():.6f}, mean {cos.mean():.6f}, threshold {thr}")
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

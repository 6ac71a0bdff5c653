#!/usr/bin/env python3
"""Reference quantized embeddings from sentence-transformers' own quantize_embeddings.

Reads the committed sentence-transformers vectors (testdata/fixtures/embeddings.npy, made by
make_embeddings.py), calibrates int8/uint8 ranges on all of them, and quantizes the first
--rows vectors to every precision with sentence_transformers.quantization.quantize_embeddings
(v3.0.1, the pinned version). go/quantize's tests compare with the result bit for bit.

usage: make_quantized.py [--embeddings testdata/fixtures/embeddings.npy] [--rows 300]
                         [--out testdata/fixtures/quantized.json]
"""

from __future__ import annotations

import argparse
import base64
import json

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--embeddings", default="testdata/fixtures/embeddings.npy")
    p.add_argument("--rows", type=int, default=300)
    p.add_argument("--out", default="testdata/fixtures/quantized.json")
    a = p.parse_args(argv)

    import sentence_transformers
    from sentence_transformers.quantization import quantize_embeddings

    calib = np.load(a.embeddings).astype(np.float32)
    emb = calib[: a.rows]
    out = {
        "source": "sentence_transformers.quantization.quantize_embeddings, sentence-transformers "
        + sentence_transformers.__version__,
        "embeddings": a.embeddings,
        "rows": int(emb.shape[0]),
        "dim": int(emb.shape[1]),
        "calibration_rows": int(calib.shape[0]),
        # The ranges quantize_embeddings computes from calibration_embeddings (row 0 min, row 1 max).
        "ranges": np.vstack((calib.min(axis=0), calib.max(axis=0))).astype(np.float32).tolist(),
    }
    for precision in ("int8", "uint8", "binary", "ubinary"):
        q = quantize_embeddings(emb, precision=precision, calibration_embeddings=calib)
        assert q.dtype in (np.int8, np.uint8), q.dtype
        out[precision] = {
            "dtype": str(q.dtype),
            "shape": list(q.shape),
            "base64": base64.b64encode(np.ascontiguousarray(q).tobytes()).decode(),
        }
    with open(a.out, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {a.out}: {emb.shape[0]} rows, precisions int8 uint8 binary ubinary")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

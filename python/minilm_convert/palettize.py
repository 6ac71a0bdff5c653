"""Uniform palettization that holds quality: a uniform lookup table over a fitted range.

coremltools 9.0's ``palettize_weights(mode="uniform")`` spreads the 2**nbits levels evenly over
each group's min..max (optimize/coreml/_quantization_passes.py ``compress_uniform``). BERT's
weights have outliers (whole input columns of output.dense are 20x the median column), so the
range is stretched, most weights fall on one or two levels, and zero is not even a level:
mean cosine 0.10 vs sentence-transformers with groups of 8 output channels, 0.29 with one table
per output channel (measured with go/cmd/mlgate, python/README.md).

What was tried (README.md, "Variants"):
  * ``enable_per_channel_scale=True`` (coremltools' option for this: divide each input column
    by its absolute maximum, palettize, multiply back with constexpr_blockwise_shift_scale): in
    9.0 it divides the weight in place before deciding whether the op can be palettized, so the
    word-embedding table that a group of 8 cannot tile (30522 rows) is left divided,
    uncompressed (mean cosine 0.44); and for targets below iOS 26 the
    ``canonicalize_quantized_lut_pattern`` pass moves the per-column scale into the lookup
    table, repeated for every column: 62.8 MB weight.bin with groups of 8, more than float16.
    Doing the per-column scale ourselves hits the same pass (79 MB with groups of 32) and still
    leaves the min..max error of the normalized weights (mean cosine 0.48).
  * smaller groups alone (one table per output channel): mean cosine 0.29.

What works: keep the table uniform (evenly spaced levels, no clustering, no scikit-learn) but
choose its range by least squares instead of min..max. For each group, the range is the group's
centre +- r * half-span for the r in RANGE_RATIOS that minimises the squared reconstruction
error; weights beyond it take the end levels. This is coremltools' own ``mode="custom"`` with
``lut_function`` (OpPalettizerConfig: "lut_function: callable ... takes weight, returns lut and
indices"), so the package holds plain constexpr_lut_to_dense ops like every other palettized
variant. Deterministic: a fixed grid of ratios, ties to the first.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

# Candidate range ratios (fraction of the min..max half-span), ascending; 1.0 is min..max.
RANGE_RATIOS = tuple(np.round(np.linspace(0.3, 1.0, 36), 4))


def fitted_uniform_lut(val: np.ndarray, nbits: int = 4) -> Tuple[np.ndarray, np.ndarray]:
    """A uniform lookup table of 2**nbits evenly spaced levels over the least-squares range of
    val, and each value's index (uint8), val flattened. The table has val's dtype; the indices
    are chosen against the table as stored (after rounding to that dtype)."""
    v = np.asarray(val, dtype=np.float64).ravel()
    n = (1 << nbits) - 1
    lo0, hi0 = float(v.min()), float(v.max())
    mid, half = (lo0 + hi0) / 2.0, (hi0 - lo0) / 2.0
    best = None
    for r in RANGE_RATIOS:
        lo, hi = mid - r * half, mid + r * half
        step = (hi - lo) / n if hi > lo else 1.0
        idx = np.clip(np.rint((v - lo) / step), 0, n)
        err = float(np.sum((lo + idx * step - v) ** 2))
        if best is None or err < best[0]:
            best = (err, lo, step)
    _, lo, step = best
    lut = (lo + np.arange(n + 1) * step).astype(np.asarray(val).dtype)
    stored = lut.astype(np.float64)
    # Nearest stored level (the levels are ascending): the index the device's values decode to.
    edges = (stored[1:] + stored[:-1]) / 2.0
    idx = np.searchsorted(edges, v).astype(np.uint8)
    return lut, idx


def lut_function(nbits: int):
    """The lut_function for coremltools' OpPalettizerConfig(mode="custom") (nbits is implied by
    the table's length there)."""

    def f(val):
        return fitted_uniform_lut(val, nbits)

    return f

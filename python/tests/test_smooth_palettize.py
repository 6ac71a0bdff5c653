"""SmoothQuant rescaling is the same float function; the fitted uniform palette is uniform and
beats min..max on outlier-stretched weights."""

import numpy as np
import pytest

from minilm_convert import compress, palettize, smooth
from minilm_convert.convert import load_wrapper


def test_smoothing_keeps_the_float_model(model_dir, corpus_texts):
    import torch

    texts = corpus_texts[:16]
    samples = compress.calibration_samples(model_dir, texts, "two")
    plain = load_wrapper(model_dir, "eager", "two")
    smoothed = load_wrapper(model_dir, "eager", "two")
    scales = smooth.apply(smoothed, smooth.input_absmax(smoothed, samples), 0.5)
    assert len(scales) == 4 * len(plain.encoder.layer)
    # The scales are not trivial: some channels move by more than 2x.
    assert max(float(np.max(np.abs(np.log2(s)))) for s in scales.values()) > 1.0
    with torch.no_grad():
        for s in samples:
            ids = torch.from_numpy(s["input_ids"].astype(np.int64))
            mask = torch.from_numpy(s["attention_mask"].astype(np.int64))
            a = plain(ids, mask).numpy()
            b = smoothed(ids, mask).numpy()
            keep = s["attention_mask"].astype(bool)
            rel = np.linalg.norm((a - b)[keep]) / np.linalg.norm(a[keep])
            assert rel < 1e-4, rel


def test_smoothing_scale_formula():
    act = np.array([4.0, 1.0, 0.25])
    w = [np.array([[1.0, 4.0, 1.0], [0.5, 1.0, 0.25]])]
    s = smooth.smoothing_scale(act, w, 0.5)
    np.testing.assert_allclose(s, np.sqrt(act) / np.sqrt([1.0, 4.0, 1.0]))


def test_fitted_uniform_lut_is_uniform_and_deterministic():
    rng = np.random.default_rng(0)
    v = rng.normal(size=2000).astype(np.float16)
    lut, idx = palettize.fitted_uniform_lut(v, 4)
    assert lut.dtype == np.float16 and lut.shape == (16,) and idx.dtype == np.uint8 and idx.max() <= 15
    steps = np.diff(lut.astype(np.float64))
    np.testing.assert_allclose(steps, steps[0], rtol=0, atol=2e-3)  # evenly spaced, up to float16 rounding
    lut2, idx2 = palettize.fitted_uniform_lut(v, 4)
    assert np.array_equal(lut, lut2) and np.array_equal(idx, idx2)


def _sse(v, lut, idx):
    return float(np.sum((np.asarray(lut, dtype=np.float64)[idx] - v) ** 2))


def test_fitted_range_beats_min_max_with_outliers():
    """Heavy-tailed weights (Student t, 3 degrees of freedom): the least-squares range has well
    under half min..max's squared error; and it is never worse (1.0 is a candidate ratio)."""
    rng = np.random.default_rng(1)
    for v, bound in ((rng.standard_t(3, size=3072) * 0.05, 0.5), (rng.normal(size=384), 1.0)):
        lut, idx = palettize.fitted_uniform_lut(v, 4)
        lo, hi = v.min(), v.max()
        step = (hi - lo) / 15
        mm = float(np.sum((lo + np.rint((v - lo) / step) * step - v) ** 2))
        assert _sse(v, lut, idx) <= bound * mm * (1 + 1e-9), (_sse(v, lut, idx), mm)

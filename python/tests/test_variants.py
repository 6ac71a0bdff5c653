"""Each named variant converted with the real default grid (70 enumerated shapes) and validated,
including program parity vs sentence-transformers. Marked slow: k-means takes ~2 min on 2 cores."""

import pytest

from minilm_convert import validate as V
from minilm_convert.options import VARIANTS
from minilm_convert.variants import class_of, load

DECLARED = {v["name"]: v for v in load()}


@pytest.fixture(scope="module")
def parity_texts(corpus_texts):
    return corpus_texts[:24]


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_full_grid(variant, model_dir, tmp_path, convert, parity_texts):
    out = tmp_path / f"{variant}.mlpackage"
    _, report = convert(model_dir, out, ["--enumerated-shapes", "--variant", variant])
    assert report["shape_count"] == 70
    r = V.check_package(str(out), expect_variant=variant, expect_shapes=V.parse_expect_shapes("default-enumerated"))
    assert r.ok, r.text()
    got = V.program_embeddings(str(out), model_dir, parity_texts)
    ref = V.reference_embeddings(model_dir, parity_texts)
    import numpy as np

    assert np.all(np.isfinite(got))
    cos = V.cosines(got, ref)
    print(f"{variant}: weight.bin {report['weight_bin_bytes']} B, {report['seconds_total']} s, "
          f"ops {report['compression_ops']}, min cos {cos.min():.6f} mean {cos.mean():.6f}")
    guard = V.PROGRAM_MIN_COSINE[class_of(DECLARED[variant]["compression"])]
    assert cos.min() >= guard

"""--inputs single (the default) against --inputs two: same vectors, the literal [PAD] case, the
program coremltools emits for it, and the two-input conversion's own target and metadata."""

import json

import numpy as np
import pytest

from conftest import FIXTURE_CORPUS, SMALL_GRID
from minilm_convert import metadata as M
from minilm_convert import validate as V
from minilm_convert import wrapper as W

LITERAL_PAD = FIXTURE_CORPUS.parent / "literal_pad.json"


def test_single_input_ids_encoding():
    ids = np.array([[101, 7592, 0, 2088, 102, 0], [101, 0, 102, 0, 0, 0]], dtype=np.int32)
    mask = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]], dtype=np.int32)
    got = W.single_input_ids(ids, mask)
    assert got.dtype == np.int32
    assert got.tolist() == [[101, 7592, -1, 2088, 102, 0], [101, -1, 102, 0, 0, 0]]
    assert (W.PAD_ID, W.LITERAL_PAD_ID) == (0, -1)  # go/backend/coreml/inputs.go: PadID, LiteralPadID


@pytest.fixture(scope="module")
def traced_pair(model_dir):
    from minilm_convert.convert import load_wrapper, trace

    single = trace(load_wrapper(model_dir, inputs="single"), (2, 16), seed=0, inputs="single")
    two = trace(load_wrapper(model_dir, inputs="two"), (2, 16), seed=0, inputs="two")
    return single, two


def test_single_input_traced_module_equals_two_input_on_corpus(model_dir, corpus_texts, traced_pair):
    """The whole fixture corpus (its literal "[PAD]" text included), length-bucketed batches with padding."""
    single, two = traced_pair
    a = V.torch_embeddings(model_dir, corpus_texts, traced=single, inputs="single")
    b = V.torch_embeddings(model_dir, corpus_texts, traced=two, inputs="two")
    assert a.shape == b.shape == (len(corpus_texts), 384)
    assert any("[PAD]" in t for t in corpus_texts)
    diff = float(np.abs(a - b).max())
    assert diff <= 1e-6, f"max |single - two| = {diff:g}"


def test_literal_pad_gets_sentence_transformers_vector(model_dir, traced_pair):
    """testdata/fixtures/literal_pad.json (python/reference/make_literal_pad.py): sentence-transformers'
    vectors of texts holding "[PAD]". Encoded as -1 the single-input module reproduces them; the raw
    ids (the literal [PAD] as 0, i.e. as padding) do not."""
    import torch

    single, _ = traced_pair
    fx = json.loads(LITERAL_PAD.read_text())
    assert fx["generator"] == "python/reference/make_literal_pad.py" and fx["cases"]
    for c in fx["cases"]:
        ids = np.array([c["ids"]], dtype=np.int32)
        mask = np.array([c["attention_mask"]], dtype=np.int32)
        assert ids.tolist() == V.tokenize(model_dir, [c["text"]])[0].tolist()
        assert 0 in ids[0, 1:-1] and mask.all()
        ref = np.array(c["embedding"], dtype=np.float64)[None]
        with torch.no_grad():
            good = single(torch.from_numpy(W.single_input_ids(ids, mask))).numpy()
            bad = single(torch.from_numpy(ids)).numpy()
        cg = float(V.cosines(V.mean_pool_normalize(good, mask), ref)[0])
        cb = float(V.cosines(V.mean_pool_normalize(bad, mask), ref)[0])
        assert cg >= 0.99999, (c["text"], cg)
        assert cb < 0.9999, (c["text"], cb)


def test_single_input_program_ops(program):
    """The ids stay int32 from input to gather: the mask is not_equal(ids, 0) and the gather index
    maximum(ids, 0). (torch.clamp would convert to MIL clip, which is float-only: coremltools casts
    the ids to float16 first, and float16 rounds ids above 2048.)"""
    ops = list(program.functions["main"].operations)
    types = {op.op_type for op in ops}
    assert "clip" not in types
    consumers = sorted(op.op_type for op in ops if any(getattr(v, "name", None) == "input_ids"
                                                       for v in op.inputs.values()))
    assert consumers == ["maximum", "not_equal"], consumers
    for op in ops:
        if op.op_type in ("maximum", "not_equal"):
            assert op.x.name == "input_ids" and int(op.y.val) == W.PAD_ID
    from coremltools.converters.mil.mil import types as T

    (mx,) = [op for op in ops if op.op_type == "maximum"]
    assert T.builtin_to_string(mx.outputs[0].dtype) == "int32"
    children = [(c.op_type, c.dtype.val if c.op_type == "cast" else None) for c in mx.outputs[0].child_ops]
    assert children and all(t == "shape" or (t == "cast" and d in ("uint16", "int16", "int32")) for t, d in children), children


@pytest.fixture(scope="module")
def converted_two(model_dir, tmp_path_factory, convert):
    out = tmp_path_factory.mktemp("conv_two") / "all-MiniLM-L6-v2.mlpackage"
    opts, report = convert(model_dir, out, SMALL_GRID + ["--inputs", "two"])
    return {"path": str(out), "opts": opts, "report": report}


def test_two_input_conversion(converted_two):
    """--inputs two keeps the guide's interface; two enumerated inputs need macOS 15 (spec 9)."""
    spec = V.load(converted_two["path"]).get_spec()
    assert [i.name for i in spec.description.input] == ["input_ids", "attention_mask"]
    assert spec.specificationVersion == 9
    md = dict(spec.description.metadata.userDefined)
    mos = json.loads(md[M.KEY_MINIMUM_OS])
    assert (mos["macOS"], mos["iOS"], mos["specification_version"]) == ("15.0", "18.0", 9)
    assert any("EnumeratedShapes" in r for r in mos["reasons"])
    assert json.loads(md[M.KEY_INPUTS]) == ["input_ids", "attention_mask"]
    assert M.KEY_INPUT_ENCODING not in md
    assert converted_two["report"]["minimum_os"] == "macOS15"
    r = V.check_package(converted_two["path"], expect_variant="default", expect_shapes=V.parse_expect_shapes("1,4x16,64"),
                        expect_inputs="two")
    assert r.ok, r.text()


def test_check_package_checks_the_interface(converted, converted_two):
    for path, wrong in ((converted["path"], "two"), (converted_two["path"], "single")):
        r = V.check_package(path, expect_inputs=wrong)
        assert "input names" in {name for name, ok, _ in r.checks if not ok}


def test_programs_agree(converted, converted_two, model_dir, corpus_texts):
    """The saved fp16 programs of both interfaces, evaluated in NumPy, on texts with padding and a literal [PAD]."""
    texts = corpus_texts[:12] + [json.loads(LITERAL_PAD.read_text())["cases"][0]["text"]]
    a = V.program_embeddings(converted["path"], model_dir, texts)
    b = V.program_embeddings(converted_two["path"], model_dir, texts)
    cos = V.cosines(a, b)
    assert cos.min() >= 0.99999, cos.min()

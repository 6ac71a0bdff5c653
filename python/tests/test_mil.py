"""Inspect the converted MIL program (shared small-grid conversion): I/O, fp16 safety, weights."""

import numpy as np
import pytest

from minilm_convert import validate as V
from minilm_convert import wrapper as W


def test_io_signature(converted):
    from coremltools.proto import FeatureTypes_pb2 as ft

    spec = V.load(converted["path"]).get_spec()
    assert [i.name for i in spec.description.input] == ["input_ids"]  # --inputs single, the default
    for i in spec.description.input:
        assert i.type.multiArrayType.dataType == ft.ArrayFeatureType.INT32
        assert V.spec_shape_set(i) == {"kind": "enumerated", "shapes": [[1, 16], [1, 64], [4, 16], [4, 64]]}
    assert [o.name for o in spec.description.output] == ["last_hidden_state"]
    assert spec.description.output[0].type.multiArrayType.dataType == ft.ArrayFeatureType.FLOAT32


def test_output_rank_and_width(program):
    out = program.functions["main"].outputs
    assert len(out) == 1 and len(out[0].shape) == 3 and out[0].shape[-1] == 384


def test_every_constant_fits_float16(program):
    """Walks every const of the saved program (weights read back from weight.bin)."""
    n = 0
    for _, _, name, val in V.iter_consts(program):
        a = np.asarray(val)
        if a.dtype.kind == "f":
            n += 1
            assert np.all(np.isfinite(a)), name
            assert np.max(np.abs(a)) <= 65504.0, name
    assert n > 100  # the walk saw the weights, not an empty program
    assert V.overflowing_constants(program) == []


def test_mask_constant_is_fp16_safe(program):
    """The additive mask is (1 - mask) * -1e4 in fp16; transformers' finfo(float32).min is gone."""
    func = program.functions["main"]
    mask_muls = []
    for op in func.operations:
        if op.op_type == "mul":
            for v in (op.x, op.y):
                if v.val is not None and np.ndim(v.val) == 0 and float(v.val) == W.MASK_VALUE:
                    mask_muls.append(op)
    assert len(mask_muls) == 1, "expected exactly one (1 - mask) * -1e4"
    assert mask_muls[0].outputs[0].dtype.__name__ == "fp16"
    for _, _, name, val in V.iter_consts(program):
        a = np.asarray(val)
        if a.dtype.kind == "f" and a.size:
            assert np.min(a) > -1e30, f"{name} holds a finfo(float32).min-like sentinel"


def test_layer_norm_epsilon(program):
    """1e-12 would round to 0 in fp16; the program holds 1e-7 rounded to fp16 (1.19e-7), nonzero."""
    eps = [float(op.epsilon.val) for op in program.functions["main"].operations if op.op_type == "layer_norm"]
    assert len(eps) == 13  # embeddings + 2 per layer x 6
    assert all(e > 0 for e in eps)
    assert all(abs(e - float(np.float16(W.LAYER_NORM_EPS))) < 1e-12 for e in eps)
    assert float(np.float16(1e-12)) == 0.0  # why the checkpoint's eps is replaced


def test_weights_are_float16(program):
    wd = V.weight_dtypes(program)
    assert set(wd) == {"float16"}, wd
    assert wd["float16"] >= 37  # 36 linear weights + embeddings


def test_checker_catches_float32_min_sentinel(tmp_path):
    """Negative control: a module with transformers' finfo(float32).min mask is flagged by the same walk."""
    import coremltools as ct
    import torch

    class Bad(torch.nn.Module):
        def forward(self, x, mask):
            return torch.softmax(x + (1.0 - mask) * torch.finfo(torch.float32).min, dim=-1)

    x = torch.zeros(2, 8)
    m = ct.convert(torch.jit.trace(Bad(), (x, torch.ones(2, 8))),
                   inputs=[ct.TensorType(name="x", shape=(2, 8)), ct.TensorType(name="mask", shape=(2, 8))],
                   convert_to="mlprogram", compute_precision=ct.precision.FLOAT16,
                   minimum_deployment_target=ct.target.macOS15)
    path = str(tmp_path / "bad.mlpackage")
    m.save(path)
    bad = V.overflowing_constants(V.load_program(V.load(path)))
    assert bad, "the fp32-min sentinel must be reported"


def test_check_package_passes(converted):
    r = V.check_package(converted["path"], expect_variant="default", expect_shapes=V.parse_expect_shapes("1,4x16,64"))
    assert r.ok, r.text()


def test_check_package_reports_wrong_expectations(converted):
    r = V.check_package(converted["path"], expect_variant="w8_per_channel",
                        expect_shapes=V.parse_expect_shapes("default-enumerated"))
    assert not r.ok
    failed = {name for name, ok, _ in r.checks if not ok}
    assert "shape set matches expectation" in failed
    assert "metadata variant matches" in failed
    assert any(n.startswith("compression ops") for n in failed)


def test_validate_cli(converted, capsys):
    import validate_model

    assert validate_model.main([converted["path"], "--expect-variant", "default", "--expect-shapes", "1,4x16,64"]) == 0
    assert "RESULT: PASS" in capsys.readouterr().out
    assert validate_model.main([converted["path"], "--expect-shapes", "1:64x8:512"]) == 1
    assert "FAIL shape set matches expectation" in capsys.readouterr().out


def test_program_matches_torch_wrapper(converted, program, model_dir, corpus_texts):
    """The saved fp16 program, evaluated in NumPy, against the fp32 torch wrapper (same pooling)."""
    texts = corpus_texts[:16]
    got = V.program_embeddings(converted["path"], model_dir, texts)
    ref = V.torch_embeddings(model_dir, texts)
    cos = V.cosines(got, ref)
    assert cos.min() >= 0.9999, cos.min()

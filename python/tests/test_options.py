"""Flag parsing and validation: fast, no model loading, no conversion."""

import pytest

from minilm_convert import shapes as S
from minilm_convert.options import VARIANTS, OptionsError, build_parser, parse

pytestmark = []


@pytest.fixture
def p(tmp_path, monkeypatch):
    d = tmp_path / "model"
    d.mkdir()
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        (d / f).write_text("{}")

    def _parse(*args):
        return parse(["--model-dir", str(d), *args])

    return _parse


def test_defaults_are_range_dims_from_the_guide(p):
    o = p()
    assert o.output == "all-MiniLM-L6-v2.mlpackage"
    assert o.shape_spec.kind == "range"
    assert o.shape_spec.batch_range == (1, 64, 1)
    assert o.shape_spec.seq_range == (8, 512, 128)
    assert o.attn_implementation == "eager"
    assert o.quantize is None and o.palettize_nbits is None and not o.activation_quantize
    assert o.variant == "default"
    assert o.inputs == "single" and o.input_names == ("input_ids",)
    assert o.flag_dict()["inputs"] == "single"


def test_inputs_flag(p):
    assert p("--inputs", "two").input_names == ("input_ids", "attention_mask")
    assert p("--inputs", "single").input_names == ("input_ids",)
    with pytest.raises(OptionsError):
        p("--inputs", "three")


@pytest.mark.parametrize(
    "args, target",
    [
        ([], "macOS14"),
        (["--enumerated-shapes"], "macOS14"),  # one enumerated input is allowed below iOS 18
        (["--enumerated-shapes", "--inputs", "two"], "macOS15"),  # two are not
        (["--inputs", "two"], "macOS14"),  # two RangeDim inputs are
        (["--enumerated-shapes", "--variant", "w8_per_channel"], "macOS14"),  # constexpr_affine_dequantize
        (["--enumerated-shapes", "--variant", "w8a8"], "macOS14"),  # activation quantization needs iOS 17
        (["--enumerated-shapes", "--variant", "int4_per_block32"], "macOS15"),
        (["--enumerated-shapes", "--variant", "palettize_uniform4"], "macOS15"),
        (["--enumerated-shapes", "--variant", "palettize_kmeans4_group8"], "macOS15"),
        (["--quantize", "int8", "--quantize-granularity", "per_block"], "macOS15"),
        (["--quantize", "int4", "--quantize-granularity", "per_channel"], "macOS15"),
    ],
)
def test_minimum_os(p, args, target):
    m = p(*args).minimum_os()
    assert m.target == target
    assert bool(m.reasons) == (target == "macOS15")
    assert (m.macos, m.ios, m.specification_version) == {"macOS14": ("14.0", "17.0", 8),
                                                         "macOS15": ("15.0", "18.0", 9)}[target]


def test_minimum_os_matches_coremltools():
    """The deployment targets' specification versions are coremltools' own."""
    import coremltools as ct
    from coremltools import _SPECIFICATION_VERSION_IOS_17, _SPECIFICATION_VERSION_IOS_18

    from minilm_convert.options import TARGETS

    assert ct.target.macOS14 == ct.target.iOS17 and ct.target.macOS15 == ct.target.iOS18
    assert TARGETS["macOS14"][2] == _SPECIFICATION_VERSION_IOS_17 == 8
    assert TARGETS["macOS15"][2] == _SPECIFICATION_VERSION_IOS_18 == 9


def test_default_enumerated_grid():
    spec = S.ShapeSpec.enumerated(S.DEFAULT_BATCH_SIZES, S.DEFAULT_SEQ_LENGTHS)
    assert len(spec.shapes) == 70 <= S.MAX_ENUMERATED_SHAPES
    assert spec.default == (1, 128)
    assert max(s for _, s in spec.shapes) == 512 and min(s for _, s in spec.shapes) == 8
    assert max(b for b, _ in spec.shapes) == 64


def test_enumerated_flags(p):
    o = p("--enumerated-shapes", "--batch-sizes", "1,8,16,32,64", "--seq-lengths", "32,64,128,256,384,512")
    assert o.shape_spec.kind == "enumerated"
    assert len(o.shape_spec.shapes) == 30
    assert o.shape_spec.default == (1, 128)
    o = p("--enumerated-shapes", "--batch-sizes", "4,2", "--seq-lengths", "100,16")
    assert o.shape_spec.shapes == ((2, 16), (2, 100), (4, 16), (4, 100))
    assert o.shape_spec.default == (2, 100)


def test_ct_inputs_index_paired(p):
    o = p("--enumerated-shapes", "--batch-sizes", "1,4", "--seq-lengths", "16,64")
    a, b = o.shape_spec.ct_inputs()
    assert (a.name, b.name) == ("input_ids", "attention_mask")
    sa = [tuple(s.shape) for s in a.shape.shapes]
    sb = [tuple(s.shape) for s in b.shape.shapes]
    assert sa == sb == [(1, 16), (1, 64), (4, 16), (4, 64)]
    from coremltools.converters.mil.mil import types

    assert a.dtype == b.dtype == types.int32


def test_range_flags(p):
    o = p("--batch-range", "2:32", "--seq-range", "16:256")
    assert o.shape_spec.batch_range == (2, 32, 2)
    assert o.shape_spec.seq_range == (16, 256, 128)
    o = p("--batch-range", "1:64:8", "--seq-range", "8:512:256")
    assert o.shape_spec.default == (8, 256)
    a, _ = o.shape_spec.ct_inputs()
    dims = a.shape.shape
    assert (dims[0].lower_bound, dims[0].upper_bound, dims[1].lower_bound, dims[1].upper_bound) == (1, 64, 8, 512)


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--batch-range", "64:1"], "exceeds upper bound"),
        (["--seq-range", "600:512"], "exceeds upper bound"),
        (["--seq-range", "8:1024"], "exceeds the model's 512"),
        (["--batch-range", "0:8"], ">= 1"),
        (["--batch-range", "1:8:9"], "outside"),
        (["--batch-range", "abc"], "LO:HI"),
        (["--enumerated-shapes", "--seq-lengths", "16,1024"], "exceeds the model's 512"),
        (["--enumerated-shapes", "--batch-sizes", ",".join(map(str, range(1, 14))),
          "--seq-lengths", ",".join(map(str, range(8, 18)))], "at most 128"),
        (["--enumerated-shapes", "--batch-sizes", "1,1"], "duplicate"),
        (["--enumerated-shapes", "--batch-sizes", "0,1"], ">= 1"),
        (["--enumerated-shapes", "--batch-range", "1:8"], "--batch-sizes/--seq-lengths"),
        (["--batch-sizes", "1,2"], "need --enumerated-shapes"),
        (["--quantize-granularity", "per_block"], "need --quantize"),
        (["--quantize", "int8", "--quantize-block-size", "32"], "only applies to --quantize-granularity per_block"),
        (["--quantize", "int4", "--quantize-granularity", "per_block", "--quantize-block-size", "7"], "divide 384"),
        (["--palettize-mode", "uniform"], "need --palettize-nbits"),
        (["--palettize-nbits", "5"], "supports"),
        (["--palettize-nbits", "4", "--palettize-group-size", "8"], "only applies to --palettize-granularity"),
        (["--palettize-nbits", "4", "--palettize-granularity", "per_grouped_channel", "--palettize-group-size", "5"], "divide 384"),
        (["--quantize", "int8", "--palettize-nbits", "4", "--palettize-mode", "uniform"], "not supported"),
        (["--activation-quantize"], "requires --quantize int8"),
        (["--activation-quantize", "--quantize", "int4"], "requires --quantize int8"),
        (["--calibration-data", "x.txt"], "only used with --activation-quantize or --smooth-quant"),
        (["--smooth-quant", "1.5"], "between 0 and 1"),
        (["--smooth-quant", "0"], "between 0 and 1"),
        (["--palettize-range", "fitted"], "need --palettize-nbits"),
        (["--palettize-nbits-for", "intermediate_dense=6"], "need --palettize-nbits"),
        (["--activation-quantize", "--quantize", "int8", "--activation-quantize-for", "dense"], "needs --activation-quantize --activation-scope linear-inputs"),
        (["--activation-quantize-for", "dense"], "needs --activation-quantize --activation-scope linear-inputs"),
        (["--activation-quantize", "--quantize", "int8", "--activation-scope", "linear-inputs", "--activation-quantize-for", "a[b"], "not a regular expression"),
        (["--palettize-nbits", "4", "--palettize-nbits-for", "intermediate_dense"], "expected PATTERN=N"),
        (["--palettize-nbits", "4", "--palettize-nbits-for", "intermediate_dense=x"], "expected PATTERN=N"),
        (["--palettize-nbits", "4", "--palettize-nbits-for", "=6"], "expected PATTERN=N"),
        (["--palettize-nbits", "4", "--palettize-nbits-for", "inter(=6"], "not a regular expression"),
        (["--palettize-nbits", "4", "--palettize-nbits-for", "intermediate_dense=5"], "supports"),
        (["--palettize-nbits", "4", "--palettize-mode", "kmeans", "--palettize-range", "fitted"], "uniform only"),
        (["--variant", "w8a8", "--smooth-quant", "0.7"], "already sets the compression flags"),
        (["--activation-quantize", "--quantize", "int8", "--calibration-data", "/nonexistent.txt"], "no such file"),
        (["--output", "model.mlmodel"], "must end in .mlpackage"),
        (["--variant", "w8a8", "--quantize", "int4"], "already sets the compression flags"),
    ],
)
def test_invalid_combinations_fail_early(p, args, msg):
    with pytest.raises(OptionsError, match=msg.replace("(", r"\(").replace("+", r"\+")):
        p(*args)


def test_unknown_choice_fails(p):
    with pytest.raises(OptionsError):
        p("--quantize", "int2")
    with pytest.raises(OptionsError):
        p("--palettize-granularity", "per_channel", "--palettize-nbits", "4")


def test_model_dir_checked(tmp_path):
    with pytest.raises(OptionsError, match="missing config.json"):
        parse(["--model-dir", str(tmp_path)])


def test_sdpa_rejected_before_any_work(p):
    # transformers 4.37.2: BertPreTrainedModel._supports_sdpa is False.
    from transformers.models.bert.modeling_bert import BertPreTrainedModel

    if getattr(BertPreTrainedModel, "_supports_sdpa", False):
        pytest.skip("this transformers has BERT SDPA")
    with pytest.raises(OptionsError, match="no SDPA attention path"):
        p("--attn-implementation", "sdpa")


def test_kmeans_without_sklearn(p, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "sklearn" else real(n, *a))
    with pytest.raises(OptionsError, match="scikit-learn"):
        p("--palettize-nbits", "4", "--palettize-mode", "kmeans")
    p("--palettize-nbits", "4", "--palettize-mode", "uniform")  # uniform needs no sklearn


def test_int4_granularities_accepted(p):
    for g in ("per_tensor", "per_channel", "per_block"):
        o = p("--quantize", "int4", "--quantize-granularity", g)
        assert o.quantize_granularity == g
    assert p("--quantize", "int4", "--quantize-granularity", "per_block").quantize_block_size == 32


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants_expand_and_name_themselves(p, name):
    o = p("--variant", name)
    assert o.variant == name
    # The same flags spelled out give the same variant name.
    assert p(*VARIANTS[name]).variant == name


def test_variant_flags_match_guide(p):
    o = p("--variant", "int4_per_block32")
    assert (o.quantize, o.quantize_granularity, o.quantize_block_size) == ("int4", "per_block", 32)
    o = p("--variant", "palettize_kmeans4_group8")
    assert (o.palettize_nbits, o.palettize_mode, o.palettize_granularity, o.palettize_group_size) == (4, "kmeans", "per_grouped_channel", 8)
    o = p("--variant", "w8a8")
    assert o.activation_quantize and o.quantize == "int8" and o.calibration_data.endswith("calibration_sentences.txt")
    assert p("--quantize", "int8", "--quantize-granularity", "per_tensor").variant == "custom"


def test_flag_dict_has_no_paths(p):
    d = p("--variant", "w8a8").flag_dict()
    assert "model_dir" not in d and "output" not in d and "work_dir" not in d
    assert d["calibration_data"] == "calibration_sentences.txt"


def test_help_documents_grid_and_flags():
    h = build_parser().format_help()
    for flag in ("--model-dir", "--output", "--enumerated-shapes", "--batch-sizes", "--seq-lengths", "--batch-range",
                 "--seq-range", "--attn-implementation", "--quantize", "--quantize-granularity", "--quantize-block-size",
                 "--palettize-nbits", "--palettize-mode", "--palettize-granularity", "--palettize-group-size",
                 "--activation-quantize", "--calibration-data", "--work-dir", "--seed", "--variant", "--inputs",
                 "--smooth-quant", "--palettize-range"):
        assert flag in h
    assert "70 shapes" in h and "128" in h
    flat = " ".join(h.split())
    # --inputs says why the single-input model is the default, and what each form needs.
    assert "refuses more than one enumerated-shape input below iOS 18 / macOS 15" in flat
    assert "one enumerated input is allowed on older targets" in flat
    assert "loads on macOS 14 / iOS 17" in flat
    assert "passed as id -1" in flat and "(default: single)" in flat
    assert "minilm.minimum_os" in flat


def test_cli_help_exits_zero(capsys):
    import convert_model

    with pytest.raises(SystemExit) as e:
        convert_model.main(["--help"])
    assert e.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--inputs {single,two}" in out and "macOS 14 / iOS 17" in out


def test_cli_exit_code_on_invalid(capsys):
    import convert_model

    assert convert_model.main(["--activation-quantize"]) == 2
    assert "requires --quantize int8" in capsys.readouterr().err


def test_issue17_presets(p):
    """The presets picked by the gate measurements (README.md): uniform palettes over a fitted
    range with one table per input column; W8A8 with int8 linear inputs only."""
    o = p("--variant", "palettize_uniform4")
    assert (o.palettize_mode, o.palettize_range, o.palettize_axis, o.palettize_group_size) == ("uniform", "fitted", "input", 1)
    assert o.palettize_nbits_for == (("intermediate_dense", 6),)
    assert o.compression() == {"weights": "palette4", "activations": "float16"}
    # Mixed bit widths take the class of the fewest bits.
    m = p("--palettize-nbits", "6", "--palettize-mode", "uniform", "--palettize-nbits-for", "output_dense=4")
    assert m.compression()["weights"] == "palette4" and m.variant == "custom"
    o = p("--variant", "w8a8")
    assert o.activation_scope == "linear-inputs" and o.smooth_quant is None and o.needs_calibration()
    assert o.activation_quantize_for == "attention_output_dense"
    assert o.compression() == {"weights": "int8", "activations": "int8"}
    # The guide's flags keep their meaning: coremltools' min..max uniform tables per output group.
    g = p("--palettize-nbits", "4", "--palettize-mode", "uniform", "--palettize-granularity", "per_grouped_channel",
          "--palettize-group-size", "8")
    assert (g.palettize_range, g.palettize_axis, g.variant) == ("minmax", "output", "custom")
    g = p("--activation-quantize", "--quantize", "int8", "--quantize-granularity", "per_channel")
    assert g.activation_scope == "coremltools" and g.variant == "custom"
    s = p("--smooth-quant", "0.5")
    assert s.needs_calibration() and s.compression() == {"weights": "float16", "activations": "float16"}


def test_palettize_nbits_for_picks_weights_by_name(converted, model_dir):
    """--palettize-nbits-for gives the matching weights of the real converted program their own
    bit width (a table of 2**N levels), the first matching pattern winning, and refuses a
    pattern that matches nothing."""
    import numpy as np

    from minilm_convert import compress
    from minilm_convert import validate as V
    from minilm_convert.options import parse

    m = V.load(converted["path"])
    base = ["--model-dir", model_dir, "--palettize-nbits", "4", "--palettize-mode", "uniform", "--palettize-range", "fitted"]
    cfg = compress.weight_config(parse(base + ["--palettize-nbits-for", "layer_0_intermediate=8",
                                               "--palettize-nbits-for", "intermediate_dense=6"]), m)
    names = sorted(cfg.op_name_configs)
    assert names == sorted(f"encoder_layer_{i}_intermediate_dense_weight_to_fp16" for i in range(6))
    levels = {n: len(cfg.op_name_configs[n].lut_function(np.linspace(-1, 1, 300))[0]) for n in names}
    assert levels.pop("encoder_layer_0_intermediate_dense_weight_to_fp16") == 256
    assert set(levels.values()) == {64}
    assert len(cfg.global_config.lut_function(np.linspace(-1, 1, 300))[0]) == 16
    with pytest.raises(ValueError, match="no weight name matches"):
        compress.weight_config(parse(base + ["--palettize-nbits-for", "no_such_layer=6"]), m)


def test_activation_quantize_for_picks_linears_by_weight_name(converted):
    """--activation-quantize-for keeps float16 inputs on every linear layer whose weight does not
    match (30 of the real program's 36 for attention_output_dense), and refuses a pattern that
    matches no linear layer."""
    from minilm_convert import compress
    from minilm_convert import validate as V

    m = V.load(converted["path"])
    prog = compress.load_program(m)
    linears = {op.name: op.weight.op.name for op in prog.functions["main"].operations if op.op_type == "linear"}
    assert len(linears) == 36
    floats = compress.float_input_linears(m, "attention_output_dense")
    assert len(floats) == 30 and not any("attention_output_dense" in linears[n] for n in floats)
    with pytest.raises(ValueError, match="no linear layer's weight matches"):
        compress.float_input_linears(m, "no_such_layer")

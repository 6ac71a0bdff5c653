"""The variant declaration (models/variants.bzl) and the converter side derived from it."""

import json
import shutil

import pytest

from minilm_convert import options, variants


def test_converter_agrees_with_declaration():
    assert variants.check_agreement() == []


def test_presets_are_the_declaration():
    decl = variants.load()
    assert list(options.VARIANTS) == [v["name"] for v in decl]
    assert options.VARIANTS["default"] == []


def test_threshold_class_from_compression():
    assert variants.class_of({"weights": "float16", "activations": "float16"}) == "fp16"
    assert variants.class_of({"weights": "int8", "activations": "int8"}) == "int8"
    assert variants.class_of({"weights": "palette4", "activations": "float16"}) == "4bit"
    assert variants.class_of({"weights": "int4", "activations": "float16"}) == "4bit"
    assert variants.class_of({"weights": "palette6", "activations": "float16"}) == "int8"


def _edited(tmp_path, edit):
    src = open(variants.DECLARATION, encoding="utf-8").read()
    out = tmp_path / "variants.bzl"
    out.write_text(edit(src), encoding="utf-8")
    return str(out)


def test_disagreements_are_found(tmp_path):
    """Each derived place out of step with the declaration is reported (the test cannot pass
    vacuously): a declared compression the preset does not perform, a Bazel list, verdicts,
    release list and calibration that differ."""
    wrong_comp = _edited(tmp_path, lambda s: s.replace(
        '"compression": {"weights": "int8", "activations": "float16"}',
        '"compression": {"weights": "int4", "activations": "float16"}', 1))
    names = [v["name"] for v in variants.load()]
    # The converter's presets are read from the real file; the edited declaration disagrees.
    problems = variants.check_agreement(path=wrong_comp)
    assert any("w8_per_channel: preset compresses" in p for p in problems), problems
    problems = variants.check_agreement(bazel_variants=names[:-1], gate_expect={}, released=[], calibrated=["x"])
    assert [p.split(" ")[0] for p in problems] == ["Bazel", "gate", "release", "calibrated"], problems


def test_malformed_declaration_is_refused(tmp_path):
    dup = _edited(tmp_path, lambda s: s.replace('[\n  {"name": "default"', '[\n  {"name": "w8a8"', 1))
    with pytest.raises(variants.DeclarationError, match="declared twice"):
        variants.load(dup)
    bad = _edited(tmp_path, lambda s: s.replace('"weights": "float16"', '"weights": "fp8"', 1))
    with pytest.raises(variants.DeclarationError, match="compression"):
        variants.load(bad)

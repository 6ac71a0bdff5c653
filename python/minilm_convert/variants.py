"""The variant declaration (models/variants.bzl), read by the converter.

models/variants.bzl holds the one table of variants as JSON inside Starlark (VARIANTS_JSON);
Bazel decodes it with json.decode, this module with the json module, go/cmd/mlgate's tests with
encoding/json: the converter presets, the Bazel targets, the gate's expected verdicts and the
release list all come from that text.
"""

from __future__ import annotations

import json
import os
import re
from typing import Dict, List

# python/minilm_convert/variants.py -> <root>/models/variants.bzl. Not resolved through
# symlinks: in a Bazel action or test the file is the declared input next to this package.
DECLARATION = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "models", "variants.bzl")
_JSON = re.compile(r'^VARIANTS_JSON = """(.*?)"""', re.S | re.M)

WEIGHT_KINDS = ("float16", "int8", "int4") + tuple(f"palette{n}" for n in (1, 2, 3, 4, 6, 8))
ACTIVATION_KINDS = ("float16", "int8")


class DeclarationError(ValueError):
    """models/variants.bzl is missing or malformed."""


def load(path: str = DECLARATION) -> List[dict]:
    """The declared variants, in declaration order, each checked for its fields."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise DeclarationError(f"variant declaration: {e}") from None
    m = _JSON.search(text)
    if not m:
        raise DeclarationError(f'{path}: no VARIANTS_JSON = """...""" block')
    try:
        variants = json.loads(m.group(1))
    except ValueError as e:
        raise DeclarationError(f"{path}: VARIANTS_JSON: {e}") from None
    names = set()
    for v in variants:
        for key, typ in (("name", str), ("flags", list), ("compression", dict), ("calibrated", bool), ("release", bool)):
            if not isinstance(v.get(key), typ):
                raise DeclarationError(f"{path}: variant {v.get('name')!r}: field {key!r} missing or not {typ.__name__}")
        if v["name"] in names:
            raise DeclarationError(f"{path}: variant {v['name']!r} declared twice")
        names.add(v["name"])
        c = v["compression"]
        if c.get("weights") not in WEIGHT_KINDS or c.get("activations") not in ACTIVATION_KINDS:
            raise DeclarationError(f"{path}: variant {v['name']!r}: compression {c} (weights one of {WEIGHT_KINDS}, "
                                   f"activations one of {ACTIVATION_KINDS})")
    return variants


def presets(path: str = DECLARATION) -> Dict[str, List[str]]:
    """name -> converter flags, in declaration order."""
    return {v["name"]: list(v["flags"]) for v in load(path)}


def _bits(kind: str) -> int:
    if kind == "float16":
        return 16
    if kind in ("int8", "int4"):
        return int(kind[3:])
    if kind.startswith("palette"):
        return int(kind[len("palette"):])
    raise ValueError(f"unknown compression kind {kind!r}")


def class_of(compression: Dict[str, str]) -> str:
    """Threshold class of a compression, from its narrowest part: fp16, int8 (5..8 bits) or 4bit.
    The same rule as go/cmd/mlgate's ClassOf, which the gate applies to the package metadata."""
    b = min(_bits(compression["weights"]), _bits(compression["activations"]))
    return "fp16" if b >= 16 else "int8" if b > 4 else "4bit"


def check_agreement(bazel_variants=None, gate_expect=None, released=None, calibrated=None,
                    path: str = DECLARATION) -> List[str]:
    """Every place derived from the declaration, compared with it; returns the disagreements.

    Always checked: the converter's presets (options.VARIANTS) are the declared flags, in order;
    each preset parses, maps back to its own name (no two presets are the same conversion), and
    performs the declared compression (Options.compression, which the package metadata records
    and the gate's class comes from), with calibration exactly when declared. When given (from
    Starlark, //models:variants_agreement_test): the variants coreml_variants builds, the gate's
    expected verdicts and the release list.
    """
    from . import options as _options

    decl = load(path)
    names = [v["name"] for v in decl]
    problems = []
    if list(_options.VARIANTS) != names:
        problems.append(f"converter presets {list(_options.VARIANTS)} != declared {names}")
    for v in decl:
        n = v["name"]
        if _options.VARIANTS.get(n) != v["flags"]:
            problems.append(f"{n}: converter preset {_options.VARIANTS.get(n)} != declared flags {v['flags']}")
            continue
        try:
            o = _options.parse(["--variant", n, "--enumerated-shapes", "--model-dir", "unused"], check_model_dir=False)
        except (_options.OptionsError, SystemExit) as e:
            problems.append(f"{n}: preset does not parse: {e}")
            continue
        if o.variant != n:
            problems.append(f"{n}: preset is recognised as variant {o.variant!r}")
        if o.compression() != v["compression"]:
            problems.append(f"{n}: preset compresses {o.compression()}, declared {v['compression']}")
        if o.needs_calibration() != v["calibrated"]:
            problems.append(f"{n}: preset reads calibration data: {o.needs_calibration()}, declared {v['calibrated']}")
        try:
            class_of(v["compression"])
        except ValueError as e:
            problems.append(f"{n}: {e}")
    if bazel_variants is not None and list(bazel_variants) != names:
        problems.append(f"Bazel variants {list(bazel_variants)} != declared {names}")
    if gate_expect is not None:
        want = {v["name"]: "pass" if v["release"] else "fail" for v in decl}
        if dict(gate_expect) != want:
            problems.append(f"gate verdicts {dict(gate_expect)} != declared {want}")
    if released is not None:
        want = [v["name"] for v in decl if v["release"]]
        if list(released) != want:
            problems.append(f"release list {list(released)} != declared {want}")
    if calibrated is not None:
        want = [v["name"] for v in decl if v["calibrated"]]
        if list(calibrated) != want:
            problems.append(f"calibrated variants {list(calibrated)} != declared {want}")
    return problems

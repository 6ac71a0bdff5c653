"""Validation of a saved .mlpackage without the Core ML runtime, plus torch/program parity.

Structural checks read the saved package (spec + weight.bin through coremltools' MIL loader):
input names/dtypes/exact shape set, the single output, weight dtypes or the compression ops the
variant must contain, no constant outside the float16 range, and the metadata.

Parity: ``torch_parity`` compares the traced wrapper (what is converted) with
SentenceTransformer(...).encode(normalize_embeddings=True); ``program_parity`` evaluates the saved
MIL program itself in NumPy (mil_eval.py, compressed weights decompressed by coremltools) against the
same reference, which measures the fp16/compression loss on Linux.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import metadata as _md
from .shapes import HIDDEN_SIZE, INPUT_FORMS, INPUT_NAMES, OUTPUT_NAME, ShapeSpec

FP16_MAX = 65504.0
WEIGHT_MIN_ELEMENTS = 2048  # coremltools' weight_threshold: smaller consts are never compressed

# Compression ops coremltools 9.0 emits (observed on each variant). int8 weights are
# constexpr_blockwise_shift_scale in the iOS 18 opset and constexpr_affine_dequantize (iOS 16) below
# it, so the int8 variants accept either, as long as it matches the package's specification version
# (checked in check_package).
_INT8_WEIGHT_OPS = {"constexpr_blockwise_shift_scale", "constexpr_affine_dequantize"}
_WEIGHT_OPS = {"constexpr_blockwise_shift_scale", "constexpr_lut_to_dense", "constexpr_affine_dequantize"}
_ACTIVATION_OPS = {"quantize", "dequantize"}


def expected_ops(compression: Dict[str, str]) -> Dict[str, object]:
    """The compression ops a package must (and must not) hold, from the compression it records
    (metadata minilm.compression, the vocabulary of models/variants.bzl), not from its name."""
    w, a = compression.get("weights"), compression.get("activations")
    act = {"require": set(_ACTIVATION_OPS)} if a == "int8" else {"forbid": set(_ACTIVATION_OPS)}
    if w == "float16":
        exp = {"require": set(), "forbid": set(_WEIGHT_OPS)}
    elif w == "int8":
        exp = {"require_one_of": _INT8_WEIGHT_OPS, "data_dtype": "int8", "forbid": {"constexpr_lut_to_dense"}}
    elif w == "int4":
        exp = {"require": {"constexpr_blockwise_shift_scale"}, "data_dtype": "int4", "forbid": {"constexpr_lut_to_dense"}}
    elif w and w.startswith("palette"):
        # A per-input-channel scale (minilm_convert.palettize) adds constexpr_blockwise_shift_scale.
        exp = {"require": {"constexpr_lut_to_dense"}, "forbid": set()}
    else:
        raise ValueError(f"unknown weight compression {w!r}")
    exp["require"] = set(exp.get("require", set())) | act.get("require", set())
    exp["forbid"] = set(exp["forbid"]) | act.get("forbid", set())
    return exp


# Minimum cosine of the saved program (NumPy-evaluated, mean-pooled) vs sentence-transformers on
# a few texts, per threshold class (minilm_convert.variants.class_of): a loose regression guard
# of the converter tests, at the quality gate's floors (go/cmd/mlgate/thresholds.go); the gate
# itself runs on the fixture corpus and STS-B.
PROGRAM_MIN_COSINE: Dict[str, float] = {"fp16": 0.9999, "int8": 0.99, "4bit": 0.70}


def package_class(package: str) -> str:
    """The threshold class of a converted package, from the compression its metadata records."""
    import coremltools as ct

    from .variants import class_of

    md = ct.models.MLModel(package, skip_model_load=True).user_defined_metadata
    return class_of(json.loads(md[_md.KEY_COMPRESSION]))


@dataclass
class Report:
    checks: List[Tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, bool(ok), detail))
        return ok

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    def failures(self):
        return [c for c in self.checks if not c[1]]

    def text(self) -> str:
        lines = [f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}" for name, ok, detail in self.checks]
        lines.append("RESULT: " + ("PASS" if self.ok else f"FAIL ({len(self.failures())} failed)"))
        return "\n".join(lines)


def load(package: str):
    import coremltools as ct

    return ct.models.MLModel(package, skip_model_load=True)


def load_program(mlmodel):
    from .compress import load_program as _lp

    return _lp(mlmodel)


# ----------------------------------------------------------------------------- shapes
def spec_shape_set(feature) -> dict:
    """The shape set of one input FeatureDescription, in ShapeSpec.as_dict() form (minus default)."""
    arr = feature.type.multiArrayType
    which = arr.WhichOneof("ShapeFlexibility")
    if which == "enumeratedShapes":
        # coremltools stores the default shape first; compare as a sorted set.
        return {"kind": "enumerated", "shapes": sorted(list(s.shape) for s in arr.enumeratedShapes.shapes)}
    if which == "shapeRange":
        r = arr.shapeRange.sizeRanges
        return {"kind": "range", "batch": [r[0].lowerBound, r[0].upperBound], "seq": [r[1].lowerBound, r[1].upperBound]}
    return {"kind": "fixed", "shapes": [list(arr.shape)]}


def parse_expect_shapes(text: str) -> dict:
    """'1,2,4x8,16' (enumerated grid) or '1:64x8:512' (ranges) or 'default-enumerated' / 'default-range'."""
    from . import shapes as S

    if text == "default-enumerated":
        return _strip_default(ShapeSpec.enumerated(S.DEFAULT_BATCH_SIZES, S.DEFAULT_SEQ_LENGTHS).as_dict())
    if text == "default-range":
        return _strip_default(ShapeSpec.ranges(S.DEFAULT_BATCH_RANGE, S.DEFAULT_SEQ_RANGE).as_dict())
    if "x" not in text:
        raise ValueError(f"--expect-shapes {text!r}: expected BATCHESxSEQS, e.g. 1,8x16,128 or 1:64x8:512")
    b, s = text.split("x", 1)
    if ":" in b:
        return _strip_default(ShapeSpec.ranges(S.parse_range(b, "batch", 1), S.parse_range(s, "seq", 128)).as_dict())
    return _strip_default(ShapeSpec.enumerated(S.parse_int_list(b, "batch"), S.parse_int_list(s, "seq")).as_dict())


def _strip_default(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "default"}


# ----------------------------------------------------------------------------- constants
def iter_consts(prog):
    """(op_type, name, value) for every const and every constexpr input/output value of every function."""
    for fname, func in prog.functions.items():
        for op in func.operations:
            if op.op_type == "const":
                yield fname, op.op_type, op.outputs[0].name, op.outputs[0].val


def overflowing_constants(prog) -> List[str]:
    bad = []
    for fname, _, name, val in iter_consts(prog):
        a = np.asarray(val)
        if a.dtype.kind != "f" or a.size == 0:
            continue
        a64 = a.astype(np.float64)
        n_nonfinite = int((~np.isfinite(a64)).sum())
        big = float(np.nanmax(np.abs(np.where(np.isfinite(a64), a64, 0.0))))
        if n_nonfinite or big > FP16_MAX:
            bad.append(f"{fname}/{name} ({a.dtype}, {a.shape}): max|x|={big:g}, non-finite={n_nonfinite}")
    return bad


def weight_dtypes(prog) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for _, _, name, val in iter_consts(prog):
        a = np.asarray(val)
        if a.size >= WEIGHT_MIN_ELEMENTS:
            out[str(a.dtype)] = out.get(str(a.dtype), 0) + 1
    return out


def uncompressed_float_weights(prog) -> List[str]:
    """Names of float consts large enough that coremltools would compress them (>= 2048 elements)
    and that are not the compressed data/scale/LUT inputs of a constexpr op."""
    names = []
    for func in prog.functions.values():
        for op in func.operations:
            if op.op_type != "const":
                continue
            a = np.asarray(op.outputs[0].val)
            if a.dtype.kind != "f" or a.size < WEIGHT_MIN_ELEMENTS:
                continue
            if any(c.op_type.startswith("constexpr_") for c in op.outputs[0].child_ops):
                continue
            names.append(op.outputs[0].name)
    return names


def op_types(prog) -> Dict[str, int]:
    c: Dict[str, int] = {}
    for func in prog.functions.values():
        for op in func.operations:
            c[op.op_type] = c.get(op.op_type, 0) + 1
    return c


def compressed_data_dtypes(prog) -> Dict[str, int]:
    """Element types of the quantized weights (constexpr_blockwise_shift_scale data, or
    constexpr_affine_dequantize quantized_data below iOS 18)."""
    from coremltools.converters.mil.mil import types

    c: Dict[str, int] = {}
    for func in prog.functions.values():
        for op in func.operations:
            if op.op_type == "constexpr_blockwise_shift_scale":
                dt = types.builtin_to_string(op.data.dtype)
            elif op.op_type == "constexpr_affine_dequantize":
                dt = types.builtin_to_string(op.quantized_data.dtype)
            else:
                continue
            c[dt] = c.get(dt, 0) + 1
    return c


def package_inputs(md: Dict[str, str]) -> Optional[Tuple[str, ...]]:
    """The input names the package's metadata records (minilm.inputs), else None."""
    if md.get(_md.KEY_INPUTS):
        return tuple(json.loads(md[_md.KEY_INPUTS]))
    return None


# ----------------------------------------------------------------------------- main check
def check_package(package: str, expect_variant: Optional[str] = None, expect_shapes: Optional[dict] = None,
                  expect_inputs: Optional[str] = None) -> Report:
    """Structural checks; expect_inputs is "single" or "two" (default: the form the metadata records)."""
    from coremltools.proto import FeatureTypes_pb2 as ft

    r = Report()
    if not r.add("package exists", os.path.isdir(package) and os.path.isfile(os.path.join(package, "Manifest.json")), package):
        return r
    m = load(package)
    spec = m.get_spec()
    r.add("model type mlProgram", spec.WhichOneof("Type") == "mlProgram", spec.WhichOneof("Type") or "")
    md = dict(spec.description.metadata.userDefined)

    # inputs
    names = [i.name for i in spec.description.input]
    want_names = INPUT_FORMS[expect_inputs] if expect_inputs else (package_inputs(md) or INPUT_NAMES)
    r.add("input names", names == list(want_names), f"{names}, expected {list(want_names)}")
    for i in spec.description.input:
        dt = i.type.multiArrayType.dataType
        r.add(f"input {i.name} dtype int32", dt == ft.ArrayFeatureType.INT32, ft.ArrayFeatureType.ArrayDataType.Name(dt))
    sets = [spec_shape_set(i) for i in spec.description.input]
    raw = [[list(s.shape) for s in i.type.multiArrayType.enumeratedShapes.shapes] for i in spec.description.input]
    if len(names) > 1:
        r.add("inputs share one index-paired shape list", all(s == sets[0] for s in sets) and all(x == raw[0] for x in raw), "")
    else:
        from . import wrapper as _w

        enc = md.get(_md.KEY_INPUT_ENCODING, "")
        r.add("single-input id encoding recorded", enc == _md.input_encoding_value(),
              f"{enc!r}, expected {_md.input_encoding_value()!r} (pad {_w.PAD_ID}, literal [PAD] {_w.LITERAL_PAD_ID})")
    # minimum OS: metadata agrees with the specification version Core ML checks on load
    if md.get(_md.KEY_MINIMUM_OS):
        mos = json.loads(md[_md.KEY_MINIMUM_OS])
        from .options import TARGETS

        want = {v[2]: (v[0], v[1]) for v in TARGETS.values()}.get(spec.specificationVersion)
        r.add("minimum OS matches the specification version",
              mos.get("specification_version") == spec.specificationVersion
              and want == (mos.get("macOS"), mos.get("iOS")),
              f"metadata {mos}, spec version {spec.specificationVersion}")
        two_enum = len(names) > 1 and sets and sets[0].get("kind") == "enumerated"
        r.add("two enumerated inputs only with macOS 15 / spec 9", not two_enum or spec.specificationVersion >= 9,
              f"spec version {spec.specificationVersion}")
    if _md.KEY_SHAPES in md:
        want_default = json.loads(md[_md.KEY_SHAPES]).get("default")
        got_default = [list(i.type.multiArrayType.shape) for i in spec.description.input]
        r.add("default shape matches metadata", all(g == want_default for g in got_default),
              f"{got_default} vs {want_default}")
    if expect_shapes is None and _md.KEY_SHAPES in md:
        expect_shapes = _strip_default(json.loads(md[_md.KEY_SHAPES]))
    if expect_shapes is not None and sets:
        got = sets[0]
        r.add("shape set matches expectation", got == expect_shapes,
              f"got {_short(got)}, expected {_short(expect_shapes)}")
        if got.get("kind") == "enumerated":
            r.add("enumerated shapes <= 128", len(got["shapes"]) <= 128, str(len(got["shapes"])))
    for feat in spec.description.input:
        s = spec_shape_set(feat)
        mx = max(x[1] for x in s["shapes"]) if s["kind"] != "range" else s["seq"][1]
        r.add(f"input {feat.name} seq <= 512", mx <= 512, str(mx))
        break

    # output
    outs = [o.name for o in spec.description.output]
    r.add("single output last_hidden_state", outs == [OUTPUT_NAME], str(outs))
    if outs:
        dt = spec.description.output[0].type.multiArrayType.dataType
        r.add("output dtype float32", dt == ft.ArrayFeatureType.FLOAT32, ft.ArrayFeatureType.ArrayDataType.Name(dt))

    prog = load_program(m)
    func = prog.functions["main"]
    oshape = func.outputs[0].shape if func.outputs else ()
    r.add("output shape (batch, seq, 384)", len(oshape) == 3 and oshape[-1] == HIDDEN_SIZE, str(oshape))

    # constants
    bad = overflowing_constants(prog)
    r.add("no constant outside float16 range (|x|<=65504, finite)", not bad, "; ".join(bad[:5]))

    # weights / compression
    ops = op_types(prog)
    wd = weight_dtypes(prog)
    variant = expect_variant or md.get(_md.KEY_VARIANT)
    if expect_variant is not None:
        r.add("metadata variant matches", md.get(_md.KEY_VARIANT) == expect_variant,
              f"{md.get(_md.KEY_VARIANT)} vs {expect_variant}")
    comp = json.loads(md[_md.KEY_COMPRESSION]) if md.get(_md.KEY_COMPRESSION) else None
    if expect_variant is not None:
        from .variants import load as _load_declaration

        declared = {v["name"]: v["compression"] for v in _load_declaration()}
        if expect_variant in declared:
            r.add("compression ops: recorded compression is the declared variant's", comp == declared[expect_variant],
                  f"recorded {comp}, models/variants.bzl declares {declared[expect_variant]} for {expect_variant}")
    if comp is None:
        r.add("compression recorded", False, f"no {_md.KEY_COMPRESSION} metadata: compression ops not checked")
    else:
        exp = expected_ops(comp)
        missing = sorted(op for op in exp.get("require", set()) if op not in ops)
        one_of = exp.get("require_one_of")
        if one_of:
            present = sorted(op for op in one_of if op in ops)
            # constexpr_blockwise_shift_scale is iOS 18 (spec 9); constexpr_affine_dequantize iOS 16.
            want = "constexpr_blockwise_shift_scale" if spec.specificationVersion >= 9 else "constexpr_affine_dequantize"
            if present != [want]:
                missing.append(f"exactly {want} of {sorted(one_of)} for spec version {spec.specificationVersion}")
        forbidden = sorted(op for op in exp["forbid"] if op in ops)
        r.add(f"compression ops for {variant}", not missing and not forbidden,
              f"missing {missing} forbidden {forbidden}; present " +
              str({k: v for k, v in ops.items() if k.startswith('constexpr') or k in ('quantize', 'dequantize')}))
        if comp["weights"] == "float16":
            r.add("large weights are float16", set(wd) == {"float16"}, str(wd))
        else:
            # An uncompressed large float means a weight escaped compression. Exception: grouped
            # palettization skips the 30522-row word embedding table (30522 % group size != 0);
            # coremltools logs "Cannot perform palettization on word_embeddings_weight_to_fp16".
            left = uncompressed_float_weights(prog)
            allowed = {"word_embeddings_weight_to_fp16"} if comp["weights"].startswith("palette") else set()
            r.add("every large float weight compressed", set(left) <= allowed,
                  f"uncompressed: {left}")
        if "data_dtype" in exp:
            cd = compressed_data_dtypes(prog)
            r.add(f"quantized data dtype {exp['data_dtype']}", set(cd) == {exp["data_dtype"]}, str(cd))
    # metadata
    missing_md = [k for k in _md.REQUIRED_KEYS if not md.get(k)]
    r.add("metadata keys present", not missing_md, f"missing {missing_md}")
    vol = [k for k in _md.VOLATILE_KEYS if k in md]
    r.add("no date in metadata", not vol, str(vol))
    d = spec.description.metadata
    r.add("author/license/description/version", all([d.author, d.license, d.shortDescription, d.versionString]), "")
    if md.get(_md.KEY_TOOLCHAIN):
        tc = json.loads(md[_md.KEY_TOOLCHAIN])
        r.add("toolchain versions recorded", all(k in tc for k in ("torch", "transformers", "coremltools", "numpy")), str(tc))
    sha = md.get(_md.KEY_WEIGHTS_SHA, "")
    r.add("weights sha256 recorded", len(sha) == 64 and all(c in "0123456789abcdef" for c in sha), sha)
    return r


def _short(d: dict) -> str:
    if d.get("kind") == "enumerated":
        s = d["shapes"]
        return f"enumerated[{len(s)}] batches={sorted({x[0] for x in s})} seqs={sorted({x[1] for x in s})}"
    return json.dumps(d, sort_keys=True)


# ----------------------------------------------------------------------------- parity
def load_texts(path: str) -> List[str]:
    """Texts from a .jsonl (field 'text', else 'sentence'/'query') or a plain text file (one per line)."""
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            if path.endswith(".jsonl"):
                obj = json.loads(line)
                for k in ("text", "sentence", "query"):
                    if isinstance(obj.get(k), str):
                        texts.append(obj[k])
                        break
            else:
                texts.append(line.rstrip("\n"))
    return texts


def tokenize(model_dir: str, texts: Sequence[str], max_length: int = 256):
    """Same tokenization as sentence-transformers for this model: truncation at max_seq_length 256."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()
    encs = tok.encode_batch(list(texts))
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int32)
    mask = np.zeros_like(ids)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
    return ids, mask


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pooling the Go library does: attention-mask mean, then L2 normalization."""
    m = mask.astype(np.float64)[:, :, None]
    summed = (hidden.astype(np.float64) * m).sum(axis=1)
    pooled = summed / np.clip(m.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def _batched(fn, model_dir, texts, batch=32):
    """Runs fn over length-sorted batches (little padding, like sentence-transformers) in input order."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    lengths = [len(e.ids) for e in tok.encode_batch(list(texts))]
    order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
    out = np.zeros((len(texts), HIDDEN_SIZE), dtype=np.float64)
    for i in range(0, len(order), batch):
        idx = order[i : i + batch]
        ids, mask = tokenize(model_dir, [texts[j] for j in idx])
        out[idx] = mean_pool_normalize(fn(ids, mask), mask)
    return out


def torch_embeddings(model_dir: str, texts: Sequence[str], wrapper=None, traced=None, inputs: str = "two") -> np.ndarray:
    """Embeddings of the (traced) wrapper; inputs says which interface it has ("single" or "two")."""
    import torch

    from .convert import load_wrapper

    mod = traced or wrapper or load_wrapper(model_dir, inputs=inputs)

    def fn(ids, mask):
        feeds = program_feeds(INPUT_FORMS[inputs], ids, mask)
        with torch.no_grad():
            return mod(*(torch.from_numpy(feeds[n]) for n in INPUT_FORMS[inputs])).numpy()

    return _batched(fn, model_dir, texts)


def program_feeds(input_names: Sequence[str], ids: np.ndarray, mask: np.ndarray) -> Dict[str, np.ndarray]:
    """The feeds of a program with these inputs for the padded batch (ids, mask)."""
    from .wrapper import single_input_ids

    if tuple(input_names) == INPUT_FORMS["single"]:
        return {"input_ids": single_input_ids(ids, mask)}
    if tuple(input_names) == INPUT_FORMS["two"]:
        return {"input_ids": ids, "attention_mask": mask}
    raise ValueError(f"program inputs {list(input_names)}: expected {INPUT_FORMS['single']} or {INPUT_FORMS['two']}")


def program_embeddings(package: str, model_dir: str, texts: Sequence[str]) -> np.ndarray:
    from .mil_eval import evaluate

    prog = load_program(load(package))
    func = prog.functions["main"]
    names = list(func.inputs)
    return _batched(lambda ids, mask: evaluate(func, program_feeds(names, ids, mask))[OUTPUT_NAME],
                    model_dir, texts, batch=8)


def reference_embeddings(model_dir: str, texts: Sequence[str]) -> np.ndarray:
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference"))
    from make_embeddings import sentence_transformers_embeddings

    return sentence_transformers_embeddings(model_dir, texts)

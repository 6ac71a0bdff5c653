"""Model metadata: toolchain versions, full flag set, weights digest, shape set. No dates."""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Dict

from . import wrapper as _wrapper
from .shapes import HIDDEN_SIZE, OUTPUT_NAME

PREFIX = "minilm."
KEY_VARIANT = PREFIX + "variant"
KEY_FLAGS = PREFIX + "flags"
KEY_SHAPES = PREFIX + "shapes"
KEY_WEIGHTS_SHA = PREFIX + "weights_sha256"
KEY_TOOLCHAIN = PREFIX + "toolchain"
KEY_POOLING = PREFIX + "pooling"
KEY_MASK = PREFIX + "attention_mask_value"
KEY_EPS = PREFIX + "layer_norm_eps"
KEY_CALIBRATION = PREFIX + "calibration"
# What the conversion did to weights and activations, as JSON {"weights": ..., "activations": ...}
# (Options.compression, the vocabulary of models/variants.bzl); go/cmd/mlgate derives the
# variant's threshold class from it.
KEY_COMPRESSION = PREFIX + "compression"
# The oldest OS the package loads on, as JSON: {"macOS": "14.0", "iOS": "17.0",
# "specification_version": 8, "reasons": [...]}; reasons names what needs the iOS 18 opset
# (empty for macOS 14). The Go Core ML backend reads it to say why a model cannot load.
KEY_MINIMUM_OS = PREFIX + "minimum_os"
# The model's input names (JSON list) and, for the single-input model, its id encoding
# (JSON {"pad_id": 0, "literal_pad_id": -1}; go/backend/coreml/inputs.go is the Go side).
KEY_INPUTS = PREFIX + "inputs"
KEY_INPUT_ENCODING = PREFIX + "input_encoding"
REQUIRED_KEYS = (KEY_VARIANT, KEY_COMPRESSION, KEY_FLAGS, KEY_SHAPES, KEY_WEIGHTS_SHA, KEY_TOOLCHAIN, KEY_POOLING, KEY_MASK, KEY_EPS,
                 KEY_MINIMUM_OS, KEY_INPUTS)
# Keys coremltools adds that would make the package depend on the day it was built.
VOLATILE_KEYS = ("com.github.apple.coremltools.conversion_date",)

POOLING_NOTE = (
    "none in the model: the output is last_hidden_state; the Go library applies attention-mask mean pooling "
    "and L2 normalization with the same code for every backend"
)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def toolchain_versions() -> Dict[str, str]:
    import coremltools
    import numpy
    import tokenizers
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "coremltools": coremltools.__version__,
        "numpy": numpy.__version__,
    }


def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def minimum_os_value(opts) -> str:
    m = opts.minimum_os()
    return _dumps({"macOS": m.macos, "iOS": m.ios, "specification_version": m.specification_version,
                   "reasons": list(m.reasons)})


def input_encoding_value() -> str:
    return _dumps({"pad_id": _wrapper.PAD_ID, "literal_pad_id": _wrapper.LITERAL_PAD_ID})


def apply(mlmodel, opts, weights_sha256: str, extra: Dict[str, str] | None = None) -> None:
    md = mlmodel.user_defined_metadata
    for k in VOLATILE_KEYS:
        if k in md:
            del md[k]
    md[KEY_VARIANT] = opts.variant
    md[KEY_COMPRESSION] = _dumps(opts.compression())
    md[KEY_FLAGS] = _dumps(opts.flag_dict())
    md[KEY_SHAPES] = _dumps(opts.shape_spec.as_dict())
    md[KEY_WEIGHTS_SHA] = weights_sha256
    md[KEY_TOOLCHAIN] = _dumps(toolchain_versions())
    md[KEY_POOLING] = POOLING_NOTE
    md[KEY_MASK] = repr(_wrapper.MASK_VALUE)
    md[KEY_EPS] = repr(_wrapper.LAYER_NORM_EPS)
    md[KEY_MINIMUM_OS] = minimum_os_value(opts)
    md[KEY_INPUTS] = _dumps(list(opts.input_names))
    if opts.inputs == "single":
        md[KEY_INPUT_ENCODING] = input_encoding_value()
    for k, v in (extra or {}).items():
        md[PREFIX + k] = v

    mlmodel.author = "sentence-transformers (model); minilm-coreml converter (conversion)"
    mlmodel.license = "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)"
    mos = opts.minimum_os()
    if opts.inputs == "single":
        io = ("int32 input_ids (batch, seq), 0 = padding, a literal [PAD] token in a text passed as -1; the "
              "attention mask is derived inside (ids != 0)")
    else:
        io = "int32 input_ids and attention_mask (batch, seq)"
    mlmodel.short_description = (
        f"all-MiniLM-L6-v2 encoder, variant {opts.variant}, macOS {mos.macos}+ / iOS {mos.ios}+: {io} -> "
        f"last_hidden_state (batch, seq, {HIDDEN_SIZE}) float32. No pooling inside: mean-pool over "
        "the attention mask and L2-normalize outside (the Go library does this for every backend). "
        "token_type_ids are fixed to 0."
    )
    mlmodel.version = f"1.0.0+{opts.variant}"
    if opts.inputs == "single":
        ids_desc = ("WordPiece token ids (int32), [CLS] ... [SEP] then 0-padding; a [PAD] token inside the text "
                    "(id 0, attended) is passed as -1")
    else:
        ids_desc = "WordPiece token ids (int32), [CLS] ... [SEP] then 0-padding"
    descs = {
        "input_ids": ids_desc,
        "attention_mask": "1 for real tokens, 0 for padding (int32)",
        OUTPUT_NAME: f"token embeddings (batch, seq, {HIDDEN_SIZE}); pool with the attention mask outside the model",
    }
    for name in opts.input_names:
        mlmodel.input_description[name] = descs[name]
    mlmodel.output_description[OUTPUT_NAME] = descs[OUTPUT_NAME]

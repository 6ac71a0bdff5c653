"""The conversion: trace the wrapper, ct.convert to a float16 mlprogram, compress, tag, save, normalize."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from typing import Dict, Optional

import numpy as np

from . import compress, determinism, metadata
from .options import Options
from .shapes import OUTPUT_NAME

DEPLOYMENT_TARGET = "macOS15"  # EnumeratedShapes on two inputs, int4/per-block/grouped-LUT ops (iOS 18 opset)


def load_wrapper(model_dir: str, attn_implementation: str = "eager"):
    import torch
    from transformers import AutoModel

    from .wrapper import MiniLMEncoder

    bert = AutoModel.from_pretrained(model_dir, attn_implementation=attn_implementation, torch_dtype=torch.float32)
    bert.eval()
    return MiniLMEncoder(bert).eval()


def example_inputs(shape, seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    b, s = shape
    ids = torch.randint(1000, 29000, (b, s), generator=g, dtype=torch.int32)
    ids[:, 0] = 101
    mask = torch.ones((b, s), dtype=torch.int32)
    mask[-1, s // 2 :] = 0  # one padded row so the mask path is traced with real zeros
    ids[-1, s // 2 :] = 0
    return ids, mask


def trace(wrapper, shape, seed: int):
    import torch

    ids, mask = example_inputs(shape, seed)
    with torch.no_grad():
        return torch.jit.trace(wrapper, (ids, mask), check_trace=False)


@contextlib.contextmanager
def private_tempdir(work_dir: Optional[str]):
    """All coremltools temp files (in-memory packages, compression round-trips) go to a dir we own."""
    own = work_dir is None
    d = tempfile.mkdtemp(prefix="minilm-convert-") if own else tempfile.mkdtemp(prefix="run-", dir=work_dir)
    old = tempfile.tempdir
    tempfile.tempdir = d
    try:
        yield d
    finally:
        tempfile.tempdir = old
        shutil.rmtree(d, ignore_errors=True)


def convert_to_mlmodel(opts: Options, wrapper=None):
    import coremltools as ct

    if wrapper is None:
        wrapper = load_wrapper(opts.model_dir, opts.attn_implementation)
    traced = trace(wrapper, opts.shape_spec.example_shape(), opts.seed)
    return ct.convert(
        traced,
        inputs=opts.shape_spec.ct_inputs(),
        outputs=[ct.TensorType(name=OUTPUT_NAME, dtype=np.float32)],
        convert_to="mlprogram",
        compute_precision=ct.precision.FLOAT16,
        minimum_deployment_target=getattr(ct.target, DEPLOYMENT_TARGET),
    )


def op_counts(mlmodel) -> Dict[str, int]:
    spec = mlmodel.get_spec()
    c: Counter = Counter()
    for f in spec.mlProgram.functions.values():
        for b in f.block_specializations.values():
            for op in b.operations:
                c[op.type] += 1
    return dict(sorted(c.items()))


def run(opts: Options, log=sys.stderr) -> dict:
    t0 = time.monotonic()
    determinism.seed_everything(opts.seed)
    weights_sha = metadata.sha256_file(os.path.join(opts.model_dir, "model.safetensors"))
    with private_tempdir(opts.work_dir):
        mlmodel = convert_to_mlmodel(opts)
        t_convert = time.monotonic() - t0
        calibration = None
        extra = {}
        if opts.activation_quantize:
            texts = compress.read_calibration_texts(opts.calibration_data, opts.calibration_samples)
            calibration = compress.calibration_samples(opts.model_dir, texts)
            extra["calibration"] = json.dumps(
                {"file": os.path.basename(opts.calibration_data), "sha256": metadata.sha256_file(opts.calibration_data),
                 "sentences": len(texts), "method": "numpy evaluation of the fp16 MIL program (minilm_convert.mil_eval)"},
                sort_keys=True, separators=(",", ":"))
        mlmodel = compress.apply(mlmodel, opts, calibration)
        metadata.apply(mlmodel, opts, weights_sha, extra)
        out = opts.output.rstrip("/")
        if os.path.exists(out):
            shutil.rmtree(out)
        mlmodel.save(out)
    determinism.normalize_package(out)
    weight_bin = os.path.join(out, "Data", "com.apple.CoreML", "weights", "weight.bin")
    ops = op_counts(mlmodel)
    report = {
        "output": out,
        "variant": opts.variant,
        "seconds_total": round(time.monotonic() - t0, 2),
        "seconds_ct_convert": round(t_convert, 2),
        "weight_bin_bytes": os.path.getsize(weight_bin) if os.path.exists(weight_bin) else 0,
        "compression_ops": {k: v for k, v in ops.items() if k.startswith("constexpr") or k in ("quantize", "dequantize")},
        "shape_count": len(opts.shape_spec.shapes) if opts.shape_spec.kind == "enumerated" else None,
    }
    return report

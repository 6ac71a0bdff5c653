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

def load_wrapper(model_dir: str, attn_implementation: str = "eager", inputs: str = "two"):
    """The torch module to convert: MiniLMSingleInputEncoder for inputs="single", else MiniLMEncoder."""
    import torch
    from transformers import AutoModel

    from .wrapper import MiniLMEncoder, MiniLMSingleInputEncoder

    bert = AutoModel.from_pretrained(model_dir, attn_implementation=attn_implementation, torch_dtype=torch.float32)
    bert.eval()
    cls = MiniLMSingleInputEncoder if inputs == "single" else MiniLMEncoder
    return cls(bert).eval()


def example_inputs(shape, seed: int, inputs: str = "two"):
    """Trace inputs: random ids, one half-padded row; the single-input form gets its encoded ids
    (a literal [PAD] as -1 included) and no mask."""
    import torch

    from .wrapper import LITERAL_PAD_ID

    g = torch.Generator().manual_seed(seed)
    b, s = shape
    ids = torch.randint(1000, 29000, (b, s), generator=g, dtype=torch.int32)
    ids[:, 0] = 101
    mask = torch.ones((b, s), dtype=torch.int32)
    mask[-1, s // 2 :] = 0  # one padded row so the mask path is traced with real zeros
    ids[-1, s // 2 :] = 0
    if inputs == "single":
        ids[0, 1] = LITERAL_PAD_ID
        return (ids,)
    return ids, mask


def trace(wrapper, shape, seed: int, inputs: str = "two"):
    import torch

    with torch.no_grad():
        return torch.jit.trace(wrapper, example_inputs(shape, seed, inputs), check_trace=False)


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
        wrapper = load_wrapper(opts.model_dir, opts.attn_implementation, opts.inputs)
    traced = trace(wrapper, opts.shape_spec.example_shape(), opts.seed, opts.inputs)
    mlmodel = ct.convert(
        traced,
        inputs=opts.shape_spec.ct_inputs(opts.input_names),
        outputs=[ct.TensorType(name=OUTPUT_NAME, dtype=np.float32)],
        convert_to="mlprogram",
        compute_precision=ct.precision.FLOAT16,
        minimum_deployment_target=getattr(ct.target, opts.minimum_os().target),
    )
    return mlmodel


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
        calibration = None
        extra = {}
        wrapper = None
        if opts.needs_calibration():
            texts = compress.read_calibration_texts(opts.calibration_data, opts.calibration_samples)
            extra["calibration"] = json.dumps(
                {"file": os.path.basename(opts.calibration_data), "sha256": metadata.sha256_file(opts.calibration_data),
                 "sentences": len(texts),
                 "method": ("numpy evaluation of the fp16 MIL program (minilm_convert.mil_eval)" if opts.activation_quantize
                            else "float32 torch forward (SmoothQuant statistics)")},
                sort_keys=True, separators=(",", ":"))
        if opts.smooth_quant is not None:
            from . import smooth

            wrapper = load_wrapper(opts.model_dir, opts.attn_implementation, opts.inputs)
            stats = smooth.input_absmax(wrapper, compress.calibration_samples(opts.model_dir, texts, "two"))
            smooth.apply(wrapper, stats, opts.smooth_quant)
            extra["smoothing"] = json.dumps(
                {"method": "SmoothQuant (minilm_convert.smooth)", "alpha": opts.smooth_quant,
                 "statistic": "per-channel max |x| over the calibration sentences' real tokens, float32 torch"},
                sort_keys=True, separators=(",", ":"))
        mlmodel = convert_to_mlmodel(opts, wrapper)
        t_convert = time.monotonic() - t0
        if opts.activation_quantize:
            calibration = compress.calibration_samples(opts.model_dir, texts, opts.inputs)
        mlmodel = compress.apply(mlmodel, opts, calibration)
        metadata.apply(mlmodel, opts, weights_sha, extra)
        want = opts.minimum_os().specification_version
        if mlmodel.get_spec().specificationVersion != want:  # e.g. a pass that raised the opset
            raise RuntimeError(f"converted specification version {mlmodel.get_spec().specificationVersion}, "
                               f"expected {want} for {opts.minimum_os().target}")
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
        "inputs": list(opts.input_names),
        "minimum_os": opts.minimum_os().target,
        "seconds_total": round(time.monotonic() - t0, 2),
        "seconds_ct_convert": round(t_convert, 2),
        "weight_bin_bytes": os.path.getsize(weight_bin) if os.path.exists(weight_bin) else 0,
        "compression_ops": {k: v for k, v in ops.items() if k.startswith("constexpr") or k in ("quantize", "dequantize")},
        "shape_count": len(opts.shape_spec.shapes) if opts.shape_spec.kind == "enumerated" else None,
    }
    return report

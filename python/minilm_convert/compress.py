"""Weight compression and W8A8 activation quantization (coremltools.optimize.coreml, 9.0).

W8A8 decision: coremltools 9.0's ``linear_quantize_activations`` calibrates through
``experimental._model_debugger.ModelDebugger``, which builds a copy of the model with every
intermediate tensor as an output and calls ``MLModel.predict`` -- the Core ML runtime, i.e. macOS
only (on Linux: "No module named 'coremltools.libcoremlpython'"). Instead of making the variant
macOS-only or re-implementing it with coremltools.optimize.torch (FX-traced fake-quant, which does
not trace HF BERT cleanly), we keep coremltools' own graph passes and replace only the calibration
step: ``_get_activation_calibration_stats`` is swapped for one that evaluates the same MIL program
in NumPy (mil_eval.py) over real sentences. The activation ranges are keyed by the exact tensor
names the passes look up; min/max are accumulated over all samples (9.0's
``record_intermediate_output`` overwrites them with the last sample's, so it is not reused).
Activation quantization runs first, then int8 weight quantization (coremltools' documented order).

Quality (measured with the full gate, README.md): coremltools 9.0 quantizes activations per tensor
only. With every eligible op quantized, the attention-mask adds (range -1e4..10) and the residual
adds (BERT outlier dimensions, ranges up to ~1000) lose all resolution: min cosine vs
sentence-transformers 0.05. Keeping those adds in float16 and quantizing only linear inputs gives
min 0.90; the LayerNorm outputs (Q/K/V and intermediate inputs, a few channels at +-28) and the GELU
outputs (output.dense inputs) are what one scale per tensor cannot hold. The w8a8 preset therefore
gives int8 inputs to attention.output.dense only (--activation-quantize-for): min 0.995.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np

CALIBRATION_BATCH = 8
W8A8_FLOAT_OP_TYPES = ("add",)
CALIBRATION_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


def _palettizer_config(opts, nbits: int):
    import coremltools.optimize.coreml as cto

    kw = dict(mode=opts.palettize_mode, nbits=nbits, granularity=opts.palettize_granularity, num_kmeans_workers=1)
    if opts.palettize_range == "fitted":
        from . import palettize

        # coremltools' custom mode: our uniform table (nbits is implied by its length).
        kw = dict(mode="custom", lut_function=palettize.lut_function(nbits), granularity=opts.palettize_granularity)
    if opts.palettize_granularity == "per_grouped_channel":
        kw["group_size"] = opts.palettize_group_size
        if opts.palettize_axis == "input":
            kw["channel_axis"] = 1  # the input-channel axis of linear (out, in) and gather (vocab, hidden)
    return cto.OpPalettizerConfig(**kw)


def weight_names(mlmodel) -> List[str]:
    """Names of the model's weight consts (float, at least 2-D), in program order: the names
    --palettize-nbits-for patterns are matched against."""
    prog = load_program(mlmodel)
    names = []
    for op in prog.functions["main"].operations:
        v = op.outputs[0].val if op.op_type == "const" else None
        if v is not None and np.ndim(v) >= 2 and np.issubdtype(np.asarray(v).dtype, np.floating):
            names.append(op.name)
    return names


def weight_config(opts, mlmodel=None):
    """The coremltools OptimizationConfig of the weight compression, or None. mlmodel is needed
    when --palettize-nbits-for names weights (its const names are matched)."""
    import coremltools.optimize.coreml as cto

    if opts.quantize:
        kw = dict(mode="linear_symmetric", dtype=opts.quantize, granularity=opts.quantize_granularity)
        if opts.quantize_granularity == "per_block":
            kw["block_size"] = opts.quantize_block_size
        return cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(**kw))
    if opts.palettize_nbits is None:
        return None
    by_name = {}
    if opts.palettize_nbits_for:
        if mlmodel is None:
            raise ValueError("--palettize-nbits-for needs the model to match weight names")
        names = weight_names(mlmodel)
        for pat, nbits in opts.palettize_nbits_for:
            matched = [n for n in names if re.search(pat, n)]
            if not matched:
                raise ValueError(f"--palettize-nbits-for {pat}={nbits}: no weight name matches; the weights are "
                                 + ", ".join(names[:8]) + f", ... ({len(names)})")
            cfg = _palettizer_config(opts, nbits)
            for n in matched:
                by_name.setdefault(n, cfg)  # the first matching pattern wins
    return cto.OptimizationConfig(global_config=_palettizer_config(opts, opts.palettize_nbits),
                                  op_name_configs=by_name or None)


def read_calibration_texts(path: str, limit: int) -> List[str]:
    with open(path, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    if not texts:
        raise ValueError(f"{path}: no calibration sentences")
    return texts[:limit]


def calibration_samples(model_dir: str, texts: Sequence[str], inputs: str = "two") -> List[Dict[str, np.ndarray]]:
    """Calibration feeds, batches of CALIBRATION_BATCH sentences, in the model's input form."""
    from tokenizers import Tokenizer

    from .wrapper import single_input_ids

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length=CALIBRATION_MAX_TOKENS)
    tok.no_padding()
    samples = []
    for i in range(0, len(texts), CALIBRATION_BATCH):
        encs = tok.encode_batch(list(texts[i : i + CALIBRATION_BATCH]))
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int32)
        mask = np.zeros((len(encs), width), dtype=np.int32)
        for r, e in enumerate(encs):
            ids[r, : len(e.ids)] = e.ids
            mask[r, : len(e.ids)] = 1
        if inputs == "single":
            samples.append({"input_ids": single_input_ids(ids, mask)})
        else:
            samples.append({"input_ids": ids, "attention_mask": mask})
    return samples


def load_program(mlmodel):
    from coremltools.converters.mil.frontend.milproto.load import load

    spec = mlmodel.get_spec()
    return load(spec, specification_version=spec.specificationVersion, file_weights_dir=mlmodel.weights_dir)


def numpy_calibration_stats(fpmodel, sample_data, calibration_op_group_size=-1):
    """Drop-in for coremltools' _get_activation_calibration_stats that needs no Core ML runtime."""
    from coremltools.optimize.coreml.experimental._post_training_quantization import (
        _adjust_concat_surrounding_activation_stats,
    )

    from .mil_eval import evaluate

    prog = load_program(fpmodel)
    func = prog.functions["main"]
    outputs = {o.name for o in func.outputs}
    names = [o.name for op in func.operations if op.op_type != "const" for o in op.outputs]
    names = [n for n in names if n not in outputs]
    stats: Dict[str, Dict[str, float]] = defaultdict(dict)

    def update(name, value):
        v = np.asarray(value)
        if v.dtype == bool or v.size == 0:
            return
        lo, hi = float(v.min()), float(v.max())
        s = stats[name]
        s["rmin"] = min(lo, s.get("rmin", lo))
        s["rmax"] = max(hi, s.get("rmax", hi))

    for data in sample_data:
        for k, v in data.items():
            update(k, v)
        env = evaluate(func, data)
        for n in names:
            if n in env:
                update(n, env[n])
    concat_info = []
    for op in func.operations:
        if op.op_type == "concat":
            concat_info.append([v.name for v in op.values] + [op.outputs[0].name])
    _adjust_concat_surrounding_activation_stats(concat_info, stats)
    return stats


def mask_consumers(mlmodel) -> List[str]:
    """Names of the ops that add the -1e4 attention mask to the attention scores.

    Their inputs span [-1e4, ~10]: one int8 scale for that range (~79 per step) rounds every real
    attention score to 0 and the model collapses to uniform attention (measured: min cosine 0.05 vs
    sentence-transformers). These adds (and so the softmax after them) stay in float16.
    """
    from .wrapper import MASK_VALUE

    prog = load_program(mlmodel)
    names = []
    for op in prog.functions["main"].operations:
        if op.op_type != "mul":
            continue
        if not any(v.val is not None and np.ndim(v.val) == 0 and float(v.val) == MASK_VALUE for v in (op.x, op.y)):
            continue
        names.extend(c.name for c in op.outputs[0].child_ops)
    return sorted(names)


def float_input_linears(mlmodel, pattern: str) -> List[str]:
    """Names of the linear ops whose weight's const name does not match pattern (re.search):
    their inputs stay float16 under --activation-quantize-for. Raises when no linear matches."""
    prog = load_program(mlmodel)
    linears = [op for op in prog.functions["main"].operations if op.op_type == "linear"]
    floats = [op.name for op in linears if not re.search(pattern, op.weight.op.name)]
    if len(floats) == len(linears):
        raise ValueError(f"--activation-quantize-for {pattern}: no linear layer's weight matches; the weights are "
                         + ", ".join(op.weight.op.name for op in linears[:6]) + f", ... ({len(linears)})")
    return sorted(floats)


def quantize_activations(mlmodel, samples, scope: str = "coremltools", only: Optional[str] = None):
    """W8A8's activation half. scope "coremltools" is 9.0's linear_quantize_activations: an int8
    quantize/dequantize pair before every eligible op (insert_prefix_quantize_dequantize_pair)
    and after it (insert_suffix_quantize_dequantize_pair). scope "linear-inputs" keeps only the
    pairs before the linear layers: their inputs are int8 (the int8 x int8 products newer Neural
    Engines run faster), their outputs stay float16. Why: the suffix pairs quantize every linear
    output per tensor, and the outputs of attention.output.dense and output.dense carry BERT's
    residual outlier dimensions (per-tensor scales up to 1.5, i.e. a range of +-196, measured on
    the calibration sentences), which rounds every ordinary channel of the residual update to 0.
    The same pass sequence as linear_quantize_activations (optimize/coreml/
    _post_training_quantization.py), without the suffix pass."""
    import coremltools.optimize.coreml as cto
    from coremltools.optimize.coreml import _post_training_quantization as ptq

    skip = mask_consumers(mlmodel)
    if not skip:
        raise RuntimeError("W8A8: could not find the attention-mask add ops to keep in float16")
    if only is not None:
        skip = sorted(set(skip) | set(float_input_linears(mlmodel, only)))
    config = cto.OptimizationConfig(
        global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8"),
        # Residual adds stay float16: the residual stream has BERT's outlier dimensions (per-tensor
        # ranges up to ~1000 before LayerNorm), and 9.0 only offers per-tensor activation scales.
        op_type_configs={t: None for t in W8A8_FLOAT_OP_TYPES},
        op_name_configs={name: None for name in skip},
    )
    if scope == "coremltools":
        original = ptq._get_activation_calibration_stats
        ptq._get_activation_calibration_stats = numpy_calibration_stats
        try:
            return cto.linear_quantize_activations(mlmodel, config, samples)
        finally:
            ptq._get_activation_calibration_stats = original
    if scope != "linear-inputs":
        raise ValueError(f"activation quantization scope {scope!r}")
    from coremltools import _SPECIFICATION_VERSION_IOS_17
    from coremltools.converters.mil.frontend.milproto import load as milproto_load
    from coremltools.converters.mil.mil.passes.graph_pass import PassOption
    from coremltools.converters.mil.mil.passes.pass_registry import PASS_REGISTRY
    from coremltools.models import utils as model_utils

    prefix = PASS_REGISTRY["compression::insert_prefix_quantize_dequantize_pair"]
    prefix.set_options([PassOption("config", config)])
    prefix.set_options([PassOption("activation_stats", numpy_calibration_stats(mlmodel, samples))])
    return model_utils._apply_graph_pass(
        mlmodel, [prefix, PASS_REGISTRY["common::dequantize_quantize_pair_elimination"]],
        spec_version=_SPECIFICATION_VERSION_IOS_17, pymil_load_func=milproto_load.load,
        skip_model_load=mlmodel.__proxy__ is None)


def apply(mlmodel, opts, calibration: Optional[List[Dict[str, np.ndarray]]] = None):
    import coremltools.optimize.coreml as cto

    if opts.activation_quantize:
        mlmodel = quantize_activations(mlmodel, calibration, opts.activation_scope, opts.activation_quantize_for)
    cfg = weight_config(opts, mlmodel)
    if cfg is None:
        return mlmodel
    if opts.quantize:
        return cto.linear_quantize_weights(mlmodel, config=cfg)
    return cto.palettize_weights(mlmodel, config=cfg)

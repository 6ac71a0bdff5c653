"""A small float32 NumPy evaluator for the MIL ops this model's fp16 program contains.

Why: coremltools 9.0's ``linear_quantize_activations`` calibrates by calling
``MLModel.predict`` on a copy of the model with every intermediate tensor added as an output
(``ModelDebugger.predict_intermediate_outputs``). ``predict`` needs the Core ML runtime
(``libcoremlpython``), which only exists on macOS. This module evaluates the *same* MIL program,
op by op, so the activation ranges are keyed by exactly the tensor names the coremltools
quantization passes look up. Values are kept in float32 (the fp16 program is evaluated with
fp16 weights widened to fp32), which is what calibration needs: min/max ranges.

Only the ops that occur in the converted MiniLM program are implemented; anything else raises
``UnsupportedOp`` so a changed program fails loudly instead of calibrating silently wrong.
"""

from __future__ import annotations

import math
from typing import Dict, Mapping

import numpy as np


class UnsupportedOp(RuntimeError):
    pass


_INT_TYPES = {"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "bool"}


def _val(env, var):
    if var is None:
        return None
    if var.name in env:
        return env[var.name]
    v = var.val
    if v is None:
        raise UnsupportedOp(f"input {var.name} has no value")
    return _widen(np.asarray(v))


def _widen(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.float16 or a.dtype == np.float64:
        return a.astype(np.float32)
    return a


def _erf(x: np.ndarray) -> np.ndarray:
    try:
        import torch

        return torch.erf(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()
    except ImportError:  # pragma: no cover - torch is part of the conversion venv
        return np.vectorize(math.erf, otypes=[np.float32])(x)


def _slice_by_index(env, op):
    x = _val(env, op.x)
    rank = x.ndim
    begin = list(_val(env, op.begin)) if op.begin is not None else [0] * rank
    end = list(_val(env, op.end)) if op.end is not None else list(x.shape)
    stride = list(_val(env, op.stride)) if op.stride is not None else [1] * rank
    bmask = list(_val(env, op.begin_mask)) if op.begin_mask is not None else [False] * rank
    emask = list(_val(env, op.end_mask)) if op.end_mask is not None else [False] * rank
    smask = list(_val(env, op.squeeze_mask)) if op.squeeze_mask is not None else [False] * rank
    idx = []
    for d in range(rank):
        b = None if bmask[d] else int(begin[d])
        e = None if emask[d] else int(end[d])
        idx.append(slice(b, e, int(stride[d])))
    out = x[tuple(idx)]
    sq = tuple(d for d in range(rank) if smask[d])
    return np.squeeze(out, axis=sq) if sq else out


def _gelu(x, mode):
    if mode == "EXACT":
        return 0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))))
    if mode == "TANH_APPROXIMATION":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    if mode == "SIGMOID_APPROXIMATION":
        return x / (1 + np.exp(-1.702 * x))
    raise UnsupportedOp(f"gelu mode {mode}")


def _eval_op(env, op):
    t = op.op_type
    if t == "shape":
        return np.array(_val(env, op.x).shape, dtype=np.int32)
    if t == "cast":
        dt = op.dtype.val
        x = _val(env, op.x)
        if dt in ("fp16", "fp32", "fp64"):
            # Round through fp16 where the program does, so ranges reflect fp16 values.
            return x.astype(np.float16).astype(np.float32) if dt == "fp16" else x.astype(np.float32)
        if dt in _INT_TYPES:
            return x.astype(np.int64) if dt != "bool" else x.astype(bool)
        raise UnsupportedOp(f"cast to {dt}")
    if t == "gather":
        x, ind = _val(env, op.x), _val(env, op.indices)
        axis = int(_val(env, op.axis)) if op.axis is not None else 0
        if op.batch_dims is not None and int(_val(env, op.batch_dims)) != 0:
            raise UnsupportedOp("gather with batch_dims")
        return np.take(x, np.asarray(ind).astype(np.int64), axis=axis)
    if t == "concat":
        vals = [np.atleast_1d(_val(env, v)) for v in op.values]
        if op.interleave is not None and bool(_val(env, op.interleave)):
            raise UnsupportedOp("interleaved concat")
        return np.concatenate(vals, axis=int(_val(env, op.axis)))
    if t == "slice_by_index":
        return _slice_by_index(env, op)
    if t == "expand_dims":
        x = _val(env, op.x)
        for a in sorted(int(a) for a in _val(env, op.axes)):
            x = np.expand_dims(x, a if a >= 0 else x.ndim + 1 + a)
        return x
    if t in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
        x, y = _val(env, op.x), _val(env, op.y)
        f = {"equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
             "greater": np.greater, "greater_equal": np.greater_equal}[t]
        return f(x, y)
    if t in ("add", "sub", "mul", "real_div", "maximum", "minimum"):
        x, y = _val(env, op.x), _val(env, op.y)
        f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "real_div": np.divide,
             "maximum": np.maximum, "minimum": np.minimum}[t]
        return f(x, y)
    if t == "layer_norm":
        x = _val(env, op.x)
        axes = tuple(int(a) for a in _val(env, op.axes))
        eps = np.float32(_val(env, op.epsilon)) if op.epsilon is not None else np.float32(1e-5)
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + eps)
        if op.gamma is not None:
            y = y * _val(env, op.gamma)
        if op.beta is not None:
            y = y + _val(env, op.beta)
        return y
    if t == "linear":
        x, w = _val(env, op.x), _val(env, op.weight)
        y = x @ w.T
        return y + _val(env, op.bias) if op.bias is not None else y
    if t == "matmul":
        x, y = _val(env, op.x), _val(env, op.y)
        if bool(_val(env, op.transpose_x)):
            x = np.swapaxes(x, -1, -2)
        if bool(_val(env, op.transpose_y)):
            y = np.swapaxes(y, -1, -2)
        return np.matmul(x, y)
    if t == "reshape":
        return np.reshape(_val(env, op.x), [int(s) for s in _val(env, op.shape)])
    if t == "transpose":
        return np.transpose(_val(env, op.x), [int(p) for p in _val(env, op.perm)])
    if t == "softmax":
        x = _val(env, op.x)
        axis = int(_val(env, op.axis))
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    if t == "gelu":
        return _gelu(_val(env, op.x), op.mode.val if op.mode is not None else "EXACT")
    if t.startswith("constexpr_"):
        # Compressed weights: every input is a const, so coremltools' own decompression applies.
        return _widen(np.asarray(op.materialized_val_inference()))
    if t == "quantize":
        x = _val(env, op.input)
        scale = _val(env, op.scale)
        zp = _val(env, op.zero_point) if op.zero_point is not None else 0
        dt = op.output_dtype.val
        lo, hi = {"int8": (-128, 127), "uint8": (0, 255)}[dt]
        if op.axis is not None and np.ndim(scale) == 1:
            shape = [1] * x.ndim
            shape[int(op.axis.val)] = -1
            scale = np.reshape(scale, shape)
            zp = np.reshape(zp, shape) if np.ndim(zp) == 1 else zp
        return np.clip(np.round(x / scale) + zp, lo, hi).astype(np.int32)
    if t == "dequantize":
        x = _val(env, op.input).astype(np.float32)
        scale = _val(env, op.scale)
        zp = _val(env, op.zero_point) if op.zero_point is not None else 0
        if op.axis is not None and np.ndim(scale) == 1:
            shape = [1] * x.ndim
            shape[int(op.axis.val)] = -1
            scale = np.reshape(scale, shape)
            zp = np.reshape(zp, shape) if np.ndim(zp) == 1 else zp
        return (x - np.asarray(zp, dtype=np.float32)) * scale
    if t == "identity":
        return _val(env, op.x)
    raise UnsupportedOp(f"MIL op {t!r} ({op.name}) is not implemented by minilm_convert.mil_eval")


def evaluate(function, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Evaluates every non-const op of a MIL function; returns {tensor name: value}."""
    env: Dict[str, np.ndarray] = {k: _widen(np.asarray(v)) for k, v in feeds.items()}
    for op in function.operations:
        if op.op_type == "const":
            continue
        if op.op_type.startswith("constexpr_") and op.outputs[0].name in env:
            continue
        if op.blocks:
            raise UnsupportedOp(f"control flow op {op.op_type}")
        out = _eval_op(env, op)
        if len(op.outputs) != 1:
            raise UnsupportedOp(f"multi-output op {op.op_type}")
        env[op.outputs[0].name] = _widen(np.asarray(out))
    return env

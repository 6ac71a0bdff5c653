"""SmoothQuant for W8A8: move activation outliers into the weights before quantizing.

coremltools 9.0 quantizes activations per tensor (one int8 scale for a whole linear input).
BERT's linear inputs have a few outlier channels (LayerNorm outputs with large gamma, GELU
outputs of a few neurons) tens of times larger than the rest, so one scale spans the outliers
and rounds the other channels to a handful of levels. SmoothQuant (Xiao et al. 2023,
arXiv:2211.10438, section 4; "per-channel smoothing of the inputs of each linear layer against
its weights") rescales input channel j of a linear layer by 1/s_j and the weight column j by
s_j, which leaves the product unchanged:

    y = W x = (W diag(s)) (diag(s)^-1 x),   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)

with max|X_j| measured on calibration sentences and max|W_j| the column's largest weight.
alpha = 0.5 splits the difficulty evenly between activations and weights (the paper's value
for BERT-class models).

Where the 1/s goes, per encoder layer of this post-LayerNorm BERT:

* query/key/value (input: the previous LayerNorm's output) and intermediate.dense (input:
  attention.output.LayerNorm's output): that LayerNorm output is also the residual branch, so
  1/s cannot be folded into its gamma/beta without changing the residual (and a LayerNorm of a
  rescaled sum is not the rescaled LayerNorm). An explicit ``mul`` by 1/s (one per input,
  shared by query, key and value) is inserted before the linear layers: an element-wise
  float16 op before the int8 quantize.
* attention.output.dense (input: softmax(QK^T) V): channel j of that input is linear in value
  channel j, so 1/s is folded exactly into value's weight rows and bias: no op is added.
* output.dense (input: GELU(intermediate)): GELU is not linear, so an explicit ``mul``.

The smoothed float model computes the same function; ``//models:smoothing_equivalence_test``
runs it through go/mil against the unsmoothed float model (min cosine >= 0.99999).
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

DEFAULT_ALPHA = 0.5


def _scale_input_module():
    import torch
    from torch import nn

    class _ScaleInput(nn.Module):
        """Calls ``inner(x * inv_scale, *rest)``: the explicit 1/s of a smoothed input."""

        def __init__(self, inner: nn.Module, inv_scale: torch.Tensor):
            super().__init__()
            self.inner = inner
            self.register_buffer("inv_scale", inv_scale.detach().clone().to(torch.float32))

        def forward(self, hidden_states, *args, **kwargs):
            return self.inner(hidden_states * self.inv_scale, *args, **kwargs)

    return _ScaleInput


def _layers(wrapper):
    return list(wrapper.encoder.layer)


def input_absmax(wrapper, samples: Sequence[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """Per-input-channel max |x| of every linear layer of the encoder, over the real (unpadded)
    tokens of the calibration batches (two-input feeds: input_ids, attention_mask). Keys:
    "<layer>.qkv", "<layer>.attn_out", "<layer>.intermediate", "<layer>.ffn_out"."""
    import torch

    stats: Dict[str, np.ndarray] = {}
    current = {}
    hooks = []

    def hook(key):
        def fn(module, inputs):
            x = inputs[0].detach()
            keep = current["keep"][..., None].to(x.dtype)
            m = (x.abs() * keep).amax(dim=(0, 1)).numpy().astype(np.float64)
            stats[key] = np.maximum(stats[key], m) if key in stats else m
        return fn

    for i, layer in enumerate(_layers(wrapper)):
        hooks.append(layer.attention.self.query.register_forward_pre_hook(hook(f"{i}.qkv")))
        hooks.append(layer.attention.output.dense.register_forward_pre_hook(hook(f"{i}.attn_out")))
        hooks.append(layer.intermediate.dense.register_forward_pre_hook(hook(f"{i}.intermediate")))
        hooks.append(layer.output.dense.register_forward_pre_hook(hook(f"{i}.ffn_out")))
    try:
        with torch.no_grad():
            for s in samples:
                ids = torch.from_numpy(np.asarray(s["input_ids"], dtype=np.int64))
                keep = torch.from_numpy(np.asarray(s["attention_mask"], dtype=np.int64))
                current["keep"] = keep
                wrapper.encode(ids, keep)
    finally:
        for h in hooks:
            h.remove()
    return stats


def smoothing_scale(act_absmax: np.ndarray, weights: List[np.ndarray], alpha: float) -> np.ndarray:
    """s_j = max|X_j|^alpha / max|W_j|^(1-alpha) over the weights' column j (weights (out, in))."""
    wmax = np.max([np.abs(w).max(axis=0) for w in weights], axis=0).astype(np.float64)
    a = np.maximum(act_absmax, 1e-5)
    w = np.maximum(wmax, 1e-5)
    s = a ** alpha / w ** (1.0 - alpha)
    return np.clip(s, 1e-5, 1e5)


def apply(wrapper, stats: Dict[str, np.ndarray], alpha: float = DEFAULT_ALPHA) -> Dict[str, np.ndarray]:
    """Smooths every linear input of the encoder in place (module docstring); returns the scales."""
    import torch

    ScaleInputModule = _scale_input_module()
    scales = {}
    with torch.no_grad():
        for i, layer in enumerate(_layers(wrapper)):
            sa = layer.attention.self
            q, k, v = sa.query, sa.key, sa.value
            # query/key/value: explicit 1/s on their shared input.
            s = smoothing_scale(stats[f"{i}.qkv"], [q.weight.numpy(), k.weight.numpy(), v.weight.numpy()], alpha)
            st = torch.from_numpy(s).to(torch.float32)
            for lin in (q, k, v):
                lin.weight.mul_(st[None, :])
            layer.attention.self = ScaleInputModule(sa, 1.0 / st)
            scales[f"{i}.qkv"] = s
            # attention.output.dense: 1/s folded into value's output channels.
            od = layer.attention.output.dense
            s = smoothing_scale(stats[f"{i}.attn_out"], [od.weight.numpy()], alpha)
            st = torch.from_numpy(s).to(torch.float32)
            v.weight.div_(st[:, None])
            v.bias.div_(st)
            od.weight.mul_(st[None, :])
            scales[f"{i}.attn_out"] = s
            # intermediate.dense: explicit 1/s.
            idn = layer.intermediate.dense
            s = smoothing_scale(stats[f"{i}.intermediate"], [idn.weight.numpy()], alpha)
            st = torch.from_numpy(s).to(torch.float32)
            idn.weight.mul_(st[None, :])
            layer.intermediate = ScaleInputModule(layer.intermediate, 1.0 / st)
            scales[f"{i}.intermediate"] = s
            # output.dense (after GELU): explicit 1/s.
            odn = layer.output.dense
            s = smoothing_scale(stats[f"{i}.ffn_out"], [odn.weight.numpy()], alpha)
            st = torch.from_numpy(s).to(torch.float32)
            odn.weight.mul_(st[None, :])
            layer.output = ScaleInputModule(layer.output, 1.0 / st)
            scales[f"{i}.ffn_out"] = s
    return scales

#!/usr/bin/env python3
"""Quantizes the ONNX export to int8 the way sentence-transformers recommends for CPUs.

    python3 python/bench/quantize_onnx.py --onnx /tmp/minilm-onnx/model.onnx \
        --out /tmp/minilm-onnx/model_qint8_avx512_vnni.onnx

sentence-transformers' export_dynamic_quantized_onnx_model(model, "avx512_vnni", ...)
(sentence_transformers/backend.py, added in 3.2; the pinned 3.0.1 does not have it) builds
optimum's AutoQuantizationConfig.avx512_vnni(is_static=False, per_channel=True) and runs
optimum's ORTQuantizer.quantize, which hands the config to onnxruntime's ONNXQuantizer
(optimum/onnxruntime/configuration.py and quantization.py). optimum is not in the pinned
environment, so this script makes the same ONNXQuantizer call with the values that config
resolves to:

    format QOperator, mode IntegerOps (dynamic: default_quantization_parameters)
    activations QUInt8 asymmetric, weights QInt8 symmetric, per_channel=True, reduce_range=False
    op_types_to_quantize = ORT_FULLY_CONNECTED_OPERATORS = ["MatMul", "Add"]
    extra_options = {WeightSymmetric: True, ActivationSymmetric: False, EnableSubgraph: False,
                     ForceSymmetric: False}

No MatMulConstBOnly is passed (onnxruntime.quantization.quantize_dynamic would default it to
True): as with optimum, the attention MatMuls of two activations (Q·Kᵀ, P·V) are quantized
too. The result runs with ONNX Runtime's graph optimizations on (peer_onnxruntime.py sets
ORT_ENABLE_ALL), which fuse the quantized graph (DynamicQuantizeMatMul, attention, LayerNorm).

It then prints the mean and minimum cosine between the int8 and float32 models' pooled
vectors on a few texts, and fails if the model does not run or the minimum is below 0.9.
"""

import argparse
import os
import sys

# The values optimum's AutoQuantizationConfig.avx512_vnni(is_static=False, per_channel=True)
# resolves to; recorded in the peer's versions so the report says what ran.
RECIPE = ("optimum AutoQuantizationConfig.avx512_vnni(is_static=False, per_channel=True) via "
          "onnxruntime ONNXQuantizer: QOperator/IntegerOps, U8 activations (asymmetric), "
          "S8 weights (symmetric, per channel), ops MatMul+Add")


def quantize(src, dst):
    import onnx
    from onnxruntime.quantization import QuantizationMode, QuantType
    from onnxruntime.quantization.onnx_quantizer import ONNXQuantizer

    model = onnx.load(src)
    quantizer = ONNXQuantizer(
        model=model,
        per_channel=True,
        reduce_range=False,
        mode=QuantizationMode.IntegerOps,
        static=False,
        weight_qType=QuantType.QInt8,
        activation_qType=QuantType.QUInt8,
        tensors_range=None,
        nodes_to_quantize=[],
        nodes_to_exclude=[],
        op_types_to_quantize=["MatMul", "Add"],
        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False,
                       "EnableSubgraph": False, "ForceSymmetric": False},
    )
    quantizer.quantize_model()
    quantizer.model.save_model_to_file(dst, False)


def check(src, dst, model_dir):
    import numpy as np
    import onnxruntime as ort
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(model_dir) if model_dir else None
    if tok is None:
        return None
    texts = ["A man is playing a guitar.", "The cat sits on the mat.",
             "Vitamin D deficiency is associated with a higher risk of fractures in older adults."]
    enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="np")
    feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    mask = enc["attention_mask"].astype(np.float32)[:, :, None]
    vecs = []
    for path in (src, dst):
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        h = sess.run(["last_hidden_state"], feeds)[0]
        v = (h * mask).sum(1) / mask.sum(1)
        vecs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    return (vecs[0] * vecs[1]).sum(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--onnx", required=True, help="float32 model.onnx written by export_onnx.py")
    p.add_argument("--out", required=True, help="where to write the int8 model")
    p.add_argument("--model-dir", default=os.environ.get("MINILM_MODEL_DIR"),
                   help="model directory with the tokenizer, for the check (default $MINILM_MODEL_DIR)")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = args.out + ".partial"
    quantize(args.onnx, tmp)
    cos = check(args.onnx, tmp, args.model_dir)
    if cos is not None:
        print(f"int8 vs float32 ONNX on {len(cos)} texts: mean cosine {cos.mean():.4f}, min {cos.min():.4f}")
        if not (cos.min() >= 0.9):
            os.remove(tmp)
            print("the quantized model's vectors are far from float32's", file=sys.stderr)
            return 1
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB): {RECIPE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

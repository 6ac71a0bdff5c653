#!/usr/bin/env python3
"""Build go/mlpackage/testdata/tiny.mlpackage: a tiny real ML Program for the Go reader tests.

tiny_single.mlpackage is the same program with the single-input interface of the converter
(--inputs single): input_ids alone, mask = (ids != 0), embeddings gathered at max(ids, 0), so a
literal [PAD] sent as -1 is attended and embedded as id 0 (go/backend/coreml/inputs.go). Its
ops are those coremltools emits for the real single-input model (not_equal, maximum on int32).

It uses the same op types (and weight storage types) as the converted all-MiniLM-L6-v2
variants, at toy sizes (vocab 16, hidden 8), so the Go reader and executor (go/mlpackage,
go/mil) are tested on bytes written by coremltools itself, and the fuzz targets get a real
seed corpus. Expected outputs come from a NumPy evaluation of the same graph, written to
tiny_expected.json. Run with the pinned coremltools 9.0 (deterministic: fixed seed; the
manifest's item ids are random per save, the model and weights are not):

    /tmp/devvenv/bin/python python/reference/make_tiny_mlpackage.py --out go/mlpackage/testdata [--which single|ios17]
"""
import argparse
import json
import math
import os
import shutil

import numpy as np
import coremltools as ct
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import get_new_symbol, types

V, D, H, F = 16, 8, 2, 12  # vocab, hidden, heads, ffn
rng = np.random.default_rng(0)


def f16(a):
    return np.asarray(a, dtype=np.float16)


emb = f16(rng.normal(0, 1, (V, D)))
pos = f16(rng.normal(0, 0.5, (8, D)))
gamma = f16(rng.uniform(0.5, 1.5, D))
beta = f16(rng.normal(0, 0.1, D))
# int4 blockwise weight (block 4 along the input axis) with an offset
w1_q = rng.integers(-8, 8, (F, D)).astype(np.int8)
w1_s = f16(rng.uniform(0.01, 0.1, (F, D // 4)))
w1_o = rng.integers(-2, 3, (F, D // 4)).astype(np.int8)
b1 = f16(rng.normal(0, 0.1, F))
# uint2 palettized weight: 2 groups of rows, 4 entries each
w2_idx = rng.integers(0, 4, (D, F)).astype(np.uint8)
w2_lut = f16(rng.normal(0, 0.3, (2, 1, 4, 1)))
# int8 per-channel weight for the attention projections
wq_q = rng.integers(-127, 128, (D, D)).astype(np.int8)
wq_s = f16(rng.uniform(0.001, 0.02, (D, 1)))


def program(single=False):
    shapes = [[1, 4], [2, 4], [1, 8], [2, 8]]

    b, s = get_new_symbol(), get_new_symbol()
    specs = [mb.TensorSpec(shape=(b, s), dtype=types.int32)]
    if not single:
        specs.append(mb.TensorSpec(shape=(b, s), dtype=types.int32))

    def body(input_ids, attention_mask):
        w1 = mb.constexpr_blockwise_shift_scale(data=w1_q.astype(types.np_int4_dtype) if hasattr(types, "np_int4_dtype") else w1_q,
                                                scale=w1_s, offset=w1_o.astype(types.np_int4_dtype) if hasattr(types, "np_int4_dtype") else w1_o, name="w1")
        w2 = mb.constexpr_lut_to_dense(indices=w2_idx.astype(types.np_uint2_dtype) if hasattr(types, "np_uint2_dtype") else w2_idx,
                                       lut=w2_lut, name="w2")
        wq = mb.constexpr_blockwise_shift_scale(data=wq_q, scale=wq_s, name="wq")
        shp = mb.shape(x=input_ids)
        seq = mb.gather(x=mb.cast(x=shp, dtype="int16"), indices=1, axis=0)
        end = mb.concat(values=[mb.cast(x=seq, dtype="int32"), np.array(0, dtype=np.int32)], axis=0)
        p = mb.slice_by_index(x=pos, begin=[0, 0], end=end, end_mask=[False, True])
        x = mb.gather(x=emb, indices=mb.cast(x=input_ids, dtype="uint16"), axis=0)
        x = mb.add(x=x, y=mb.expand_dims(x=p, axes=[0]))
        x = mb.layer_norm(x=x, axes=[-1], gamma=gamma, beta=beta, epsilon=f16(1e-5))
        m = mb.cast(x=attention_mask, dtype="fp16")
        m = mb.expand_dims(x=mb.expand_dims(x=m, axes=[1]), axes=[2])
        m = mb.mul(x=mb.sub(x=f16(1.0), y=m), y=f16(-10000.0))
        q = mb.linear(x=x, weight=wq)
        q = mb.quantize(input=q, scale=f16(0.05), output_dtype="int8")
        q = mb.dequantize(input=q, scale=f16(0.05))
        sh = mb.concat(values=[mb.gather(x=mb.shape(x=q), indices=0, axis=0), mb.gather(x=mb.shape(x=q), indices=1, axis=0),
                               np.array(H, dtype=np.int32), np.array(D // H, dtype=np.int32)], axis=0)
        qh = mb.transpose(x=mb.reshape(x=q, shape=sh), perm=[0, 2, 1, 3])
        kt = mb.transpose(x=mb.reshape(x=x, shape=sh), perm=[0, 2, -1, -3])
        s = mb.matmul(x=qh, y=kt, transpose_x=False, transpose_y=False)
        s = mb.add(x=mb.real_div(x=s, y=f16(2.0)), y=m)
        a = mb.softmax(x=s, axis=-1)
        v = mb.transpose(x=mb.reshape(x=x, shape=sh), perm=[0, 2, 1, 3])
        c = mb.matmul(x=a, y=v, transpose_y=False)
        c = mb.reshape(x=mb.transpose(x=c, perm=[0, 2, 1, 3]), shape=mb.shape(x=x))
        h = mb.gelu(x=mb.linear(x=c, weight=w1, bias=b1), mode="EXACT")
        h = mb.linear(x=h, weight=w2)
        y = mb.add(x=h, y=x)
        return mb.cast(x=y, dtype="fp32", name="last_hidden_state")

    if single:
        @mb.program(input_specs=specs, opset_version=ct.target.iOS18)
        def prog(input_ids):
            keep = mb.cast(x=mb.not_equal(x=input_ids, y=np.int32(0)), dtype="int32")
            return body(mb.maximum(x=input_ids, y=np.int32(0)), keep)
    else:
        @mb.program(input_specs=specs, opset_version=ct.target.iOS18)
        def prog(input_ids, attention_mask):
            return body(input_ids, attention_mask)

    return prog, shapes


def erf(x):
    return np.vectorize(math.erf)(x)


def reference(ids, mask):
    """NumPy float32 evaluation of the same graph (weights decompressed in float16)."""
    w1 = ((w1_q.astype(np.float32) - np.repeat(w1_o, 4, axis=1)) * np.repeat(w1_s.astype(np.float32), 4, axis=1))
    w1 = w1.astype(np.float16).astype(np.float32)
    groups = np.repeat(np.arange(2), D // 2)
    w2 = w2_lut[groups[:, None], 0, w2_idx, 0].astype(np.float32)
    wq = (wq_q.astype(np.float32) * wq_s.astype(np.float32)).astype(np.float16).astype(np.float32)
    B, L = ids.shape
    x = emb.astype(np.float32)[ids] + pos.astype(np.float32)[:L][None]
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    x = (x - mu) / np.sqrt(var + np.float32(f16(1e-5))) * gamma.astype(np.float32) + beta.astype(np.float32)
    m = (1.0 - mask.astype(np.float32))[:, None, None, :] * np.float32(-10000.0)
    q = x @ wq.T
    q = np.clip(np.round(q / np.float32(f16(0.05))), -128, 127) * np.float32(f16(0.05))
    hd = D // H
    qh = q.reshape(B, L, H, hd).transpose(0, 2, 1, 3)
    kt = x.reshape(B, L, H, hd).transpose(0, 2, 3, 1)
    s = qh @ kt / 2.0 + m
    s = np.exp(s - s.max(-1, keepdims=True))
    a = s / s.sum(-1, keepdims=True)
    v = x.reshape(B, L, H, hd).transpose(0, 2, 1, 3)
    c = (a @ v).transpose(0, 2, 1, 3).reshape(B, L, D)
    h = c @ w1.T + b1.astype(np.float32)
    h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
    h = h @ w2.T
    return (h + x).astype(np.float32)


def write(out, single):
    prog, shapes = program(single)
    names = ["input_ids"] if single else ["input_ids", "attention_mask"]
    inputs = [ct.TensorType(name=n, shape=ct.EnumeratedShapes(shapes=shapes, default=shapes[0]), dtype=np.int32)
              for n in names]
    m = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS18,
                   compute_precision=ct.precision.FLOAT32, pass_pipeline=ct.PassPipeline.EMPTY,
                   inputs=inputs, skip_model_load=True)
    m.user_defined_metadata["minilm.variant"] = "tiny"
    stem = "tiny_single" if single else "tiny"
    pkg = os.path.join(out, stem + ".mlpackage")
    shutil.rmtree(pkg, ignore_errors=True)
    m.save(pkg)
    cases = []
    # Row 0 of the single-input case holds a literal [PAD] inside the text: id 0 with mask 1,
    # which the single-input model receives as -1.
    ids = np.array([[1, 5, 0 if single else 9, 2, 0, 0, 0, 0], [1, 3, 3, 7, 11, 15, 4, 2]], dtype=np.int32)
    mask = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [1] * 8], dtype=np.int32)
    for b, l in [(1, 4), (2, 8)]:
        i, k = ids[:b, :l], mask[:b, :l]
        case = {"input_ids": i.tolist(), "attention_mask": k.tolist(),
                "last_hidden_state": reference(i, k).ravel().tolist()}
        if single:  # what the program is fed: coreml.SingleInputIDs's encoding
            case["single_input_ids"] = np.where(k == 0, 0, np.where(i == 0, -1, i)).tolist()
        cases.append(case)
    with open(os.path.join(out, stem + "_expected.json"), "w") as f:
        json.dump({"cases": cases}, f)
    print("wrote", pkg)


# tiny_ios17.mlpackage: an iOS 17 (specification version 8) program, the opset of the macOS 14
# packages, whose constexpr_affine_dequantize holds its operands as attributes (coremltools'
# translate_constexpr serializes constexpr inputs as attributes up to iOS 17). int8 table with
# a per-row zero point and scale, gathered at maximum(ids, 0).
aff_q = rng.integers(-127, 128, (V, D)).astype(np.int8)
aff_zp = rng.integers(-3, 4, (V,)).astype(np.int8)
aff_s = f16(rng.uniform(0.001, 0.02, (V,)))


def write_ios17(out):
    b, s = get_new_symbol(), get_new_symbol()

    @mb.program(input_specs=[mb.TensorSpec(shape=(b, s), dtype=types.int32)], opset_version=ct.target.iOS17)
    def prog(input_ids):
        w = mb.constexpr_affine_dequantize(quantized_data=aff_q, zero_point=aff_zp, scale=aff_s, axis=0, name="w")
        x = mb.gather(x=w, indices=mb.cast(x=mb.maximum(x=input_ids, y=np.int32(0)), dtype="uint16"), axis=0)
        return mb.cast(x=x, dtype="fp32", name="last_hidden_state")

    shapes = [[1, 4], [2, 4]]
    m = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS17,
                   compute_precision=ct.precision.FLOAT32, pass_pipeline=ct.PassPipeline.EMPTY,
                   inputs=[ct.TensorType(name="input_ids", shape=ct.EnumeratedShapes(shapes=shapes, default=shapes[0]),
                                         dtype=np.int32)], skip_model_load=True)
    pkg = os.path.join(out, "tiny_ios17.mlpackage")
    shutil.rmtree(pkg, ignore_errors=True)
    m.save(pkg)
    ids = np.array([[1, 15, -1, 0], [7, 3, 0, 0]], dtype=np.int32)
    table = ((aff_q.astype(np.float32) - aff_zp.astype(np.float32)[:, None]) * aff_s.astype(np.float32)[:, None])
    table = table.astype(np.float16).astype(np.float32)  # the decompressed weight is float16
    hidden = table[np.maximum(ids, 0)]
    with open(os.path.join(out, "tiny_ios17_expected.json"), "w") as f:
        json.dump({"input_ids": ids.tolist(), "last_hidden_state": hidden.ravel().tolist()}, f)
    print("wrote", pkg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--which", choices=("both", "two", "single", "ios17"), default="both")
    args = ap.parse_args()
    if args.which in ("both", "two"):
        write(args.out, single=False)
    if args.which in ("both", "single"):
        write(args.out, single=True)
    if args.which in ("both", "ios17"):
        write_ios17(args.out)


if __name__ == "__main__":
    main()

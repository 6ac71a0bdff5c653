#!/usr/bin/env python3
"""ONNX Runtime CPU as a benchmark peer of the Go benchmarks (go/bench).

Runs the model exported by export_onnx.py (last_hidden_state with dynamic batch and
sequence axes) with intra_op_num_threads = the spec's thread count, the model directory's
Hugging Face fast tokenizer (padding to the longest text of each batch, truncation at
max_seq_length), and mean pooling + L2 normalization in numpy, as sentence-transformers does.
Like SentenceTransformer.encode, texts are sorted by length (longest first) before being cut
into batches, and the results are returned in input order.

With --precision int8 the model is the int8 one quantize_onnx.py writes (the dynamic
quantization sentence-transformers recommends for CPUs, "avx512_vnni"); the session is the
same, graph optimizations on, so ONNX Runtime fuses the quantized graph.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402


def extra_args(p):
    p.add_argument("--onnx", required=True, help="model.onnx written by export_onnx.py (or quantize_onnx.py)")
    p.add_argument("--precision", default="float32", choices=["float32", "int8"],
                   help="what --onnx holds: the float32 export or its int8 quantization (names the engine)")


def engine_name(args):
    return "onnxruntime (cpu)" if args.precision == "float32" else f"onnxruntime {args.precision} (cpu)"


def make_engine(spec, args):
    import numpy as np
    import onnxruntime as ort
    import transformers

    threads = int(spec["threads"])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
    tok = transformers.AutoTokenizer.from_pretrained(spec["model_dir"])
    max_len = int(spec["max_seq_length"])
    input_names = {i.name for i in sess.get_inputs()}

    class Engine:
        def encode(self, texts, batch_size):
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            out = np.zeros((len(texts), 384), np.float32)
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_len,
                          return_tensors="np")
                feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")
                         if k in input_names}
                hidden = sess.run(["last_hidden_state"], feeds)[0]
                mask = enc["attention_mask"].astype(np.float32)[:, :, None]
                pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
                norm = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
                out[idx] = pooled / norm
            return out

    versions = {"onnxruntime": ort.__version__, "transformers": transformers.__version__,
                "numpy": np.__version__, "intra_op_threads": threads, "precision": args.precision}
    if args.precision == "int8":
        import quantize_onnx
        versions["quantization"] = quantize_onnx.RECIPE
    return Engine(), versions


if __name__ == "__main__":
    sys.exit(peer_common.main(engine_name, make_engine, extra_args))

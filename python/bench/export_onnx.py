#!/usr/bin/env python3
"""Exports all-MiniLM-L6-v2's encoder to ONNX once, for the ONNX Runtime and hugot peers.

    python3 python/bench/export_onnx.py --model-dir DIR --out-dir /tmp/minilm-onnx

writes OUT/model.onnx (inputs input_ids, attention_mask, token_type_ids: int64 [batch, seq];
output last_hidden_state: float32 [batch, seq, 384]; dynamic batch and sequence axes, opset
17) and copies the tokenizer files beside it, so OUT is also a model directory for hugot.
It then checks ONNX Runtime against torch on a few texts and fails if they differ.
"""

import argparse
import os
import shutil
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--model-dir", default=os.environ.get("MINILM_MODEL_DIR"),
                   help="Hugging Face model directory (default $MINILM_MODEL_DIR)")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--opset", type=int, default=17)
    args = p.parse_args()
    if not args.model_dir:
        p.error("--model-dir or $MINILM_MODEL_DIR is required")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np
    import torch
    import transformers

    os.makedirs(args.out_dir, exist_ok=True)
    model = transformers.AutoModel.from_pretrained(args.model_dir, attn_implementation="eager")
    model.eval()
    tok = transformers.AutoTokenizer.from_pretrained(args.model_dir)

    class Encoder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    enc = Encoder(model)
    sample = tok(["a short text", "a somewhat longer text for the export sample"], padding=True,
                 return_tensors="pt")
    onnx_path = os.path.join(args.out_dir, "model.onnx")
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            enc,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            onnx_path,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes},
            opset_version=args.opset,
            do_constant_folding=True,
            dynamo=False,
        )
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                 "config.json"):
        src = os.path.join(args.model_dir, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(args.out_dir, name))

    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    texts = ["Hello world.", "A man is playing a guitar on a stage in front of a large crowd.",
             "x " * 300]
    batch = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    # A fresh copy: torch.onnx.export can leave the exported module altered for eager runs.
    ref = transformers.AutoModel.from_pretrained(args.model_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        want = ref(**batch).last_hidden_state.numpy()
    got = sess.run(["last_hidden_state"], {k: batch[k].numpy() for k in
                                           ("input_ids", "attention_mask", "token_type_ids")})[0]
    mask = batch["attention_mask"].numpy().astype(bool)
    diff = float(np.abs(got - want)[mask].max())
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB); max |ORT - torch| "
          f"over real tokens = {diff:.2e}")
    if diff > 1e-3:
        print("ONNX export does not match torch", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Writes the tiny BERT of go/backend/cpu's TestTinyModelRuns and its reference outputs.

A 2-layer BERT with generic dimensions (hidden 32, 2 heads, FFN 48, vocabulary 50,
16 positions) and seeded random weights goes to tiny/config.json and tiny/model.safetensors;
transformers' BertModel (the reference implementation) runs it on a fixed padded batch and
its last hidden state goes to tiny/reference.json. Run with a Python that has torch,
transformers and safetensors, e.g. the conversion toolchain's venv:

    python go/backend/cpu/testdata/make_tiny_reference.py
"""
import json
import os

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import BertConfig, BertModel

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny")
CONFIG = {
    "model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 48, "hidden_act": "gelu", "max_position_embeddings": 16,
    "type_vocab_size": 2, "vocab_size": 50, "layer_norm_eps": 1e-12,
}
# Two rows of 4 positions; the second row's last position is padding.
IDS = [[1, 5, 9, 2], [1, 7, 2, 0]]
MASK = [[1, 1, 1, 1], [1, 1, 1, 0]]


def main():
    os.makedirs(HERE, exist_ok=True)
    cfg = BertConfig(**CONFIG)
    model = BertModel(cfg, add_pooling_layer=False).eval()
    rng = np.random.default_rng(3)
    tensors = {}
    for name, p in model.state_dict().items():
        if name == "embeddings.position_ids":
            continue
        # Weights around 0.2 in scale; LayerNorm gains around 1 so the norms stay well scaled.
        v = rng.normal(0, 0.2, size=tuple(p.shape))
        if name.endswith("LayerNorm.weight"):
            v += 1
        tensors[name] = v.astype(np.float32)
    tensors["embeddings.position_ids"] = np.arange(16, dtype=np.int64).reshape(1, 16)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
    save_file(tensors, os.path.join(HERE, "model.safetensors"))
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=1)
    with torch.no_grad():
        out = model(input_ids=torch.tensor(IDS), attention_mask=torch.tensor(MASK),
                    token_type_ids=torch.zeros(2, 4, dtype=torch.long)).last_hidden_state
    import transformers
    ref = {
        "generator": "transformers %s BertModel, torch %s" % (transformers.__version__, torch.__version__),
        "ids": IDS,
        "mask": MASK,
        # last_hidden_state of the real (mask 1) positions, row-major (row, position, channel).
        "hidden": out.numpy().astype(np.float64).round(8).tolist(),
    }
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main()

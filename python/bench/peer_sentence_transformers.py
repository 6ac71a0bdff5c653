#!/usr/bin/env python3
"""sentence-transformers on torch CPU: the reference implementation as a benchmark peer.

Run by the Go benchmarks (go/bench) with a job spec; see peer_common.py. Embeddings are
SentenceTransformer.encode(..., normalize_embeddings=True), i.e. mean pooling + L2 norm,
with torch limited to the spec's thread count.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402


def make_engine(spec, args):
    import sentence_transformers
    import torch

    torch.set_num_threads(int(spec["threads"]))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    model = sentence_transformers.SentenceTransformer(spec["model_dir"], device="cpu")
    model.max_seq_length = int(spec["max_seq_length"])
    model.eval()

    class Engine:
        def encode(self, texts, batch_size):
            with torch.inference_mode():
                return model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)

    import transformers
    return Engine(), {"torch": torch.__version__, "sentence_transformers": sentence_transformers.__version__,
                      "transformers": transformers.__version__, "torch_threads": torch.get_num_threads()}


if __name__ == "__main__":
    sys.exit(peer_common.main("sentence-transformers (torch cpu)", make_engine))

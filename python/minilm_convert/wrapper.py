"""The torch module that is traced and converted.

It takes ``input_ids`` and ``attention_mask`` (int32, shape (batch, seq)) and returns the
encoder's ``last_hidden_state`` (batch, seq, 384). It differs from calling ``BertModel``
directly in three deliberate ways:

* ``token_type_ids`` are not an input. Single-sentence embedding always uses segment 0, so the
  wrapper adds row 0 of the token-type embedding table as a constant vector (no gather).
* The additive attention mask is built here with ``MASK_VALUE = -1e4`` instead of transformers'
  ``torch.finfo(float32).min`` (-3.4e38). That fp32 sentinel is not representable in float16: it
  becomes -inf in the fp16 program, and ``-inf - (-inf)`` inside softmax gives NaN on device
  (coremltools PR #2669 fixes this after 9.0). -1e4 is what BERT's original code and Apple's
  ml-ane-transformers use: exp(-1e4) underflows to exactly 0 in fp16 and fp32, so the softmax is
  identical to the fp32 reference, while |scores + mask| stays 6x below the fp16 maximum
  (65504), leaving headroom for any later scaling the compiler may fuse into the add (a
  finfo(float16).min/2 sentinel would leave only 2x).
* LayerNorm epsilon: the checkpoint says 1e-12, which is below the smallest float16 subnormal
  (6e-8) and rounds to 0 in a float16 program (verified in the converted MIL), i.e. no epsilon at
  all. The wrapper uses ``LAYER_NORM_EPS`` (1e-7 by default, as Apple's ANE DistilBERT does),
  the smallest power of ten that survives fp16 rounding. Hidden-state variances are O(1e-2..1),
  so the change is far below fp16 resolution; the parity test measures it against
  sentence-transformers (min cosine >= 0.99999).

Pooling (attention-mask mean + L2 normalisation) is *not* part of the model: the Go library
applies the same pooling code to every backend.
"""

from __future__ import annotations

import torch
from torch import nn

MASK_VALUE = -1.0e4
LAYER_NORM_EPS = 1.0e-7


class MiniLMEncoder(nn.Module):
    def __init__(self, bert: nn.Module, layer_norm_eps: float = LAYER_NORM_EPS, mask_value: float = MASK_VALUE):
        super().__init__()
        emb = bert.embeddings
        self.word_embeddings = emb.word_embeddings
        self.position_embeddings = emb.position_embeddings
        # Segment 0 for every token: a constant row, not an input.
        self.register_buffer("token_type_row", emb.token_type_embeddings.weight[0].detach().clone())
        self.embeddings_norm = emb.LayerNorm
        self.encoder = bert.encoder
        self.mask_value = float(mask_value)
        for m in self.modules():
            if isinstance(m, nn.LayerNorm):
                m.eps = float(layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        seq_len = input_ids.shape[1]
        positions = self.position_embeddings.weight[:seq_len]
        hidden = self.word_embeddings(input_ids) + positions.unsqueeze(0) + self.token_type_row
        hidden = self.embeddings_norm(hidden)
        # (batch, 1, 1, seq) additive mask: 0 where attended, MASK_VALUE on padding.
        keep = attention_mask.to(hidden.dtype)[:, None, None, :]
        additive = (1.0 - keep) * self.mask_value
        return self.encoder(hidden, attention_mask=additive, return_dict=False)[0]

"""The torch modules that are traced and converted.

Two interfaces (convert_model.py ``--inputs``), the same encoder:

* ``MiniLMSingleInputEncoder`` (``--inputs single``, the default) takes ``input_ids`` alone
  (int32, (batch, seq)) and derives the mask from it, with the id encoding of
  go/backend/coreml/inputs.go (``SingleInputIDs``): a position whose id is ``PAD_ID`` (0) is
  padding; any other id is attended. A literal "[PAD]" inside a text (Hugging Face tokenizes it
  to id 0 with attention mask 1) is sent as ``LITERAL_PAD_ID`` (-1): attended, and embedded as
  row 0 of the word-embedding table (the module gathers ``max(id, 0)``). One input means one
  enumerated-shape input, which coremltools 9.0 accepts for every deployment target, so this
  model loads on macOS 14 / iOS 17.
* ``MiniLMEncoder`` (``--inputs two``, the conversion guide's interface) takes ``input_ids``
  and ``attention_mask``. coremltools 9.0 refuses more than one EnumeratedShapes input below
  iOS 18 (``_validate_enumerated_shape_inputs`` in converters/_converters_entry.py), so with
  enumerated shapes this form needs macOS 15 / iOS 18.

Both return the encoder's ``last_hidden_state`` (batch, seq, 384) and differ from calling
``BertModel`` directly in three deliberate ways:

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
# The single-input id encoding; go/backend/coreml/inputs.go (PadID, LiteralPadID) is the Go
# side of the same contract, and the package metadata (minilm.input_encoding) records it.
PAD_ID = 0
LITERAL_PAD_ID = -1


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

    def encode(self, input_ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """The encoder on ids (all >= 0) and keep (1 attended, 0 padding; any dtype)."""
        seq_len = input_ids.shape[1]
        positions = self.position_embeddings.weight[:seq_len]
        hidden = self.word_embeddings(input_ids) + positions.unsqueeze(0) + self.token_type_row
        hidden = self.embeddings_norm(hidden)
        # (batch, 1, 1, seq) additive mask: 0 where attended, MASK_VALUE on padding.
        keep = keep.to(hidden.dtype)[:, None, None, :]
        additive = (1.0 - keep) * self.mask_value
        return self.encoder(hidden, attention_mask=additive, return_dict=False)[0]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.encode(input_ids, attention_mask)


class MiniLMSingleInputEncoder(MiniLMEncoder):
    """input_ids alone; the mask is derived from the ids (see the module docstring)."""

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        keep = input_ids != PAD_ID
        # LITERAL_PAD_ID (-1) -> the [PAD] row. torch.maximum converts to MIL maximum on int32;
        # torch.clamp would become MIL clip, which is float-only: coremltools casts the ids to
        # float16 first, and float16 cannot hold ids above 2048 exactly (it rounds 30000 to 29984).
        ids = torch.maximum(input_ids, torch.full((), PAD_ID, dtype=input_ids.dtype))
        return self.encode(ids, keep)


def single_input_ids(ids, mask):
    """The single-input model's input_ids for a padded batch (ids, mask), as NumPy arrays:
    PAD_ID where mask is 0, LITERAL_PAD_ID where mask is 1 and the id is PAD_ID, else the id.
    The Python twin of go/backend/coreml.SingleInputIDs (validation, calibration, tests)."""
    import numpy as np

    ids = np.asarray(ids)
    mask = np.asarray(mask)
    out = np.where(mask == 0, PAD_ID, np.where(ids == PAD_ID, LITERAL_PAD_ID, ids))
    return out.astype(ids.dtype)

"""Input shape sets: enumerated (batch x sequence grid) or bounded ranges.

Why the default enumerated grid is batch {1,2,4,8,16,32,64} x seq {8,16,32,64,96,128,192,256,384,512}
(70 shapes):

* The Neural Engine runs every *enumerated* shape, but a RangeDim model only at its default
  shape (Apple forum thread 724930, coremltools #2370); Core ML allows at most 128 enumerated shapes.
* Sequence buckets are powers of two plus 1.5x midpoints from 64 up (96, 192, 384): a text is padded
  to at most 2x its length below 64 tokens (a few wasted slots) and at most 1.5x above, where
  padding costs real attention compute. 512 is BERT's position limit.
* Batch buckets are powers of two up to 64 (the guide's batch range), so the Go planner can
  split any batch into few calls with at most 2x row padding on the last call.
* 70 leaves headroom under the cap; every extra shape costs on-device compile time
  (Wax reports 5-30 s for a cold bucket), so the grid is not filled to 128.
* With two inputs (``--inputs two``), both get the same list, index-paired (coremltools #2271:
  mixing indices fails). The default single-input model has one enumerated input.
* Default shape (preallocated by Core ML): batch 1 x seq 128, the single short query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

MAX_ENUMERATED_SHAPES = 128
MAX_SEQ_LEN = 512  # max_position_embeddings of all-MiniLM-L6-v2
DEFAULT_BATCH_SIZES: Tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_SEQ_LENGTHS: Tuple[int, ...] = (8, 16, 32, 64, 96, 128, 192, 256, 384, 512)
DEFAULT_BATCH_RANGE = (1, 64, 1)
DEFAULT_SEQ_RANGE = (8, 512, 128)
PREFERRED_DEFAULT = (1, 128)
INPUT_NAMES = ("input_ids", "attention_mask")  # the two-input interface (--inputs two)
INPUT_FORMS = {"single": INPUT_NAMES[:1], "two": INPUT_NAMES}  # --inputs -> the model's input names
OUTPUT_NAME = "last_hidden_state"
HIDDEN_SIZE = 384


class ShapeError(ValueError):
    pass


def parse_int_list(text: str, what: str) -> Tuple[int, ...]:
    try:
        vals = tuple(int(v) for v in text.split(",") if v.strip() != "")
    except ValueError:
        raise ShapeError(f"{what}: expected comma-separated integers, got {text!r}") from None
    if not vals:
        raise ShapeError(f"{what}: empty list")
    if any(v < 1 for v in vals):
        raise ShapeError(f"{what}: values must be >= 1, got {text!r}")
    if len(set(vals)) != len(vals):
        raise ShapeError(f"{what}: duplicate values in {text!r}")
    return tuple(sorted(vals))


def parse_range(text: str, what: str, default_pref: int) -> Tuple[int, int, int]:
    """'LO:HI' or 'LO:HI:DEFAULT' -> (lo, hi, default). DEFAULT defaults to default_pref clamped."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ShapeError(f"{what}: expected LO:HI or LO:HI:DEFAULT, got {text!r}")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise ShapeError(f"{what}: expected integers in {text!r}") from None
    lo, hi = nums[0], nums[1]
    if lo < 1:
        raise ShapeError(f"{what}: lower bound must be >= 1, got {lo}")
    if lo > hi:
        raise ShapeError(f"{what}: lower bound {lo} exceeds upper bound {hi}")
    default = nums[2] if len(nums) == 3 else min(max(default_pref, lo), hi)
    if not lo <= default <= hi:
        raise ShapeError(f"{what}: default {default} is outside {lo}:{hi}")
    return lo, hi, default


@dataclass(frozen=True)
class ShapeSpec:
    kind: str  # "enumerated" | "range"
    shapes: Tuple[Tuple[int, int], ...] = ()
    batch_range: Optional[Tuple[int, int, int]] = None
    seq_range: Optional[Tuple[int, int, int]] = None
    default: Tuple[int, int] = PREFERRED_DEFAULT

    @staticmethod
    def enumerated(batch_sizes: Sequence[int], seq_lengths: Sequence[int]) -> "ShapeSpec":
        if max(seq_lengths) > MAX_SEQ_LEN:
            raise ShapeError(f"--seq-lengths: {max(seq_lengths)} exceeds the model's {MAX_SEQ_LEN} positions")
        n = len(batch_sizes) * len(seq_lengths)
        if n > MAX_ENUMERATED_SHAPES:
            raise ShapeError(
                f"enumerated grid has {len(batch_sizes)} x {len(seq_lengths)} = {n} shapes; "
                f"Core ML allows at most {MAX_ENUMERATED_SHAPES}"
            )
        shapes = tuple((b, s) for b in sorted(batch_sizes) for s in sorted(seq_lengths))
        if PREFERRED_DEFAULT in shapes:
            default = PREFERRED_DEFAULT
        else:
            b0 = min(batch_sizes)
            s0 = min(seq_lengths, key=lambda s: (abs(s - PREFERRED_DEFAULT[1]), s))
            default = (b0, s0)
        return ShapeSpec(kind="enumerated", shapes=shapes, default=default)

    @staticmethod
    def ranges(batch_range: Tuple[int, int, int], seq_range: Tuple[int, int, int]) -> "ShapeSpec":
        if seq_range[1] > MAX_SEQ_LEN:
            raise ShapeError(f"--seq-range: upper bound {seq_range[1]} exceeds the model's {MAX_SEQ_LEN} positions")
        return ShapeSpec(kind="range", batch_range=batch_range, seq_range=seq_range,
                         default=(batch_range[2], seq_range[2]))

    def ct_inputs(self, names: Sequence[str] = INPUT_NAMES):
        """One int32 ct.TensorType per input name, every one with this shape set."""
        import coremltools as ct
        import numpy as np

        inputs = []
        for name in names:
            if self.kind == "enumerated":
                shape = ct.EnumeratedShapes(shapes=[list(s) for s in self.shapes], default=list(self.default))
            else:
                b, s = self.batch_range, self.seq_range
                shape = ct.Shape(shape=(ct.RangeDim(lower_bound=b[0], upper_bound=b[1], default=b[2]),
                                        ct.RangeDim(lower_bound=s[0], upper_bound=s[1], default=s[2])))
            inputs.append(ct.TensorType(name=name, shape=shape, dtype=np.int32))
        return inputs

    def as_dict(self) -> dict:
        if self.kind == "enumerated":
            return {"kind": "enumerated", "default": list(self.default), "shapes": [list(s) for s in self.shapes]}
        return {"kind": "range", "default": list(self.default),
                "batch": list(self.batch_range[:2]), "seq": list(self.seq_range[:2])}

    def example_shape(self) -> Tuple[int, int]:
        """A small shape inside the set, used to trace the torch module (batch > 1 on purpose)."""
        if self.kind == "enumerated":
            multi = [s for s in self.shapes if s[0] > 1]
            pool = multi or list(self.shapes)
            return min(pool, key=lambda s: (s[0] * s[1], s))
        b = min(max(2, self.batch_range[0]), self.batch_range[1])
        s = min(max(16, self.seq_range[0]), self.seq_range[1])
        return (b, s)

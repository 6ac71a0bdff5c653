"""The Core ML variants, declared once.

Each entry is one variant of the converted model:

  name         converter preset (`convert_model.py --variant NAME`) and Bazel suffix
               (//models:minilm_mlpackage_NAME; "default" keeps the bare names);
  flags        the converter flags the preset expands to;
  compression  what the flags do to the weights ("float16", "int8", "int4", "palette4") and
               the activations ("float16", "int8"). The converter records the compression its
               options actually perform in the package metadata (minilm.compression) and the
               quality gate takes its threshold class from it (go/cmd/mlgate/thresholds.go:
               float16 -> fp16; any 8-bit part -> int8; any 4-bit part -> 4bit);
  calibrated   the conversion reads the calibration sentences (W8A8, SmoothQuant);
  release      the variant passes the gate and ships; its _gate test expects "pass" (or "fail").

Everything else is derived from this table: the converter's presets
(python/minilm_convert/variants.py reads the JSON below), the .mlpackage/_validate/_gate/
.mlmodelc targets (tools/private/coreml_variants.bzl), the gate's expected verdicts and the
release list (models/release.bzl). Adding a variant is one entry here. The agreement of every
derived place is tested: //python:converter_test (test_variants_declaration.py),
//go/cmd/mlgate:mlgate_test (TestDeclaredVariantsHaveAClass) and
//models:variants_agreement_test.

The table is JSON inside Starlark so that Python and Go parse the very same text.
"""

VARIANTS_JSON = """
[
  {"name": "default", "flags": [],
   "compression": {"weights": "float16", "activations": "float16"}, "calibrated": false, "release": true},
  {"name": "w8_per_channel", "flags": ["--quantize", "int8", "--quantize-granularity", "per_channel"],
   "compression": {"weights": "int8", "activations": "float16"}, "calibrated": false, "release": true},
  {"name": "int4_per_block32",
   "flags": ["--quantize", "int4", "--quantize-granularity", "per_block", "--quantize-block-size", "32"],
   "compression": {"weights": "int4", "activations": "float16"}, "calibrated": false, "release": true},
  {"name": "palettize_uniform4",
   "flags": ["--palettize-nbits", "4", "--palettize-mode", "uniform", "--palettize-granularity", "per_grouped_channel",
             "--palettize-group-size", "1", "--palettize-axis", "input", "--palettize-range", "fitted",
             "--palettize-nbits-for", "intermediate_dense=6"],
   "compression": {"weights": "palette4", "activations": "float16"}, "calibrated": false, "release": true},
  {"name": "palettize_kmeans4_group8",
   "flags": ["--palettize-nbits", "4", "--palettize-mode", "kmeans", "--palettize-granularity", "per_grouped_channel",
             "--palettize-group-size", "8"],
   "compression": {"weights": "palette4", "activations": "float16"}, "calibrated": false, "release": true},
  {"name": "w8a8",
   "flags": ["--activation-quantize", "--quantize", "int8", "--quantize-granularity", "per_channel",
             "--activation-scope", "linear-inputs", "--activation-quantize-for", "attention_output_dense"],
   "compression": {"weights": "int8", "activations": "int8"}, "calibrated": true, "release": true}
]
"""

VARIANTS = json.decode(VARIANTS_JSON)

VARIANT_NAMES = [v["name"] for v in VARIANTS]

CALIBRATED_VARIANTS = [v["name"] for v in VARIANTS if v["calibrated"]]

# The verdict each variant's _gate test expects: a released variant must pass; a variant kept
# out must keep failing until someone decides (here) to ship it.
GATE_EXPECT = {v["name"]: ("pass" if v["release"] else "fail") for v in VARIANTS}

RELEASED_VARIANTS = [v["name"] for v in VARIANTS if v["release"]]

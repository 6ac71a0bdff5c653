"""coreml_variants: one .mlpackage target, validation test and .mlmodelc target per variant."""

load(":coreml.bzl", "coreml_compile", "coreml_package")

# The compression variants of the conversion guide. Flags are the converter's, documented in
# python/README.md. "default" is the float16 model every user gets.
MINILM_VARIANTS = {
    "default": [],
    "w8_per_channel": ["--quantize", "int8", "--quantize-granularity", "per_channel"],
    "int4_per_block32": ["--quantize", "int4", "--quantize-granularity", "per_block", "--quantize-block-size", "32"],
    "palettize_uniform4_group8": [
        "--palettize-nbits",
        "4",
        "--palettize-mode",
        "uniform",
        "--palettize-granularity",
        "per_grouped_channel",
        "--palettize-group-size",
        "8",
    ],
    "palettize_kmeans4_group8": [
        "--palettize-nbits",
        "4",
        "--palettize-mode",
        "kmeans",
        "--palettize-granularity",
        "per_grouped_channel",
        "--palettize-group-size",
        "8",
    ],
    "w8a8": ["--activation-quantize", "--quantize", "int8", "--quantize-granularity", "per_channel"],
}

def coreml_variants(
        name,
        weights,
        common_flags = [],
        variants = MINILM_VARIANTS,
        calibration_data = None,
        compiled_name = None,
        validate_tags = []):
    """Declares, for each variant V (the default keeps the bare names):

    - `<name>[_V]`: the .mlpackage, converted by one cached action;
    - `<name>[_V]_validate`: a test that inspects it (shapes, dtypes, compression ops, float16 safety);
    - `<compiled_name>[_V]`: the .mlmodelc, macOS only (incompatible elsewhere).
    """
    for variant, flags in variants.items():
        suffix = "" if variant == "default" else "_" + variant
        pkg = name + suffix
        coreml_package(
            name = pkg,
            weights = weights,
            variant = variant,
            flags = common_flags + flags,
            calibration_data = calibration_data if "--activation-quantize" in flags else None,
        )
        native.sh_test(
            name = pkg + "_validate",
            srcs = ["//tools/private:run_venv_python.sh"],
            args = [
                "$(rootpath @conversion_venv//:python)",
                "$(rootpath //python:validate_model.py)",
                "$(rootpath :%s)" % pkg,
                "--expect-variant",
                variant,
            ],
            data = [
                ":" + pkg,
                "@conversion_venv//:python",
                "//python:validate_model.py",
                "//python:converter_srcs",
            ],
            size = "medium",
            tags = validate_tags,
        )
        if compiled_name:
            coreml_compile(
                name = compiled_name + suffix,
                package = ":" + pkg,
                target_compatible_with = ["@platforms//os:macos"],
            )

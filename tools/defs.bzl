"""Public build rules of this workspace. Implementations live in //tools/private."""

load("//tools/private:coreml.bzl", _CoreMLPackageInfo = "CoreMLPackageInfo", _coreml_compile = "coreml_compile", _coreml_package = "coreml_package")
load("//tools/private:coreml_variants.bzl", _MINILM_VARIANTS = "MINILM_VARIANTS", _coreml_variants = "coreml_variants")
load("//tools/private:model_dir.bzl", _ModelDirInfo = "ModelDirInfo", _model_dir = "model_dir")
load("//tools/private:release.bzl", _release_archive = "release_archive")

ModelDirInfo = _ModelDirInfo
model_dir = _model_dir
CoreMLPackageInfo = _CoreMLPackageInfo
coreml_package = _coreml_package
coreml_compile = _coreml_compile
coreml_variants = _coreml_variants
MINILM_VARIANTS = _MINILM_VARIANTS
release_archive = _release_archive

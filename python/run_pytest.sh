#!/bin/sh
# Bazel test entry for the converter's pytest suite, in the hash-locked conversion venv:
#   run_pytest.sh LAUNCHER MODEL_DIR [pytest args...]
# The slow full-grid variant conversions are deselected: //models:minilm_mlpackage_* build
# every variant with the real grid, and their _validate tests inspect them.
set -eu
launcher="$1"
model="$2"
shift 2
export MINILM_MODEL_DIR="$PWD/$model" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
exec "$launcher" -m pytest -p no:cacheprovider -c python/pytest.ini --rootdir python -m "not slow" -q "$@" python/tests

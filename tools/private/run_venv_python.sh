#!/bin/sh
# Runs a Python script in the conversion venv: run_venv_python.sh LAUNCHER SCRIPT ARGS...
set -eu
launcher="$1"
shift
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
exec "$launcher" "$@"

#!/bin/sh
# Runs openai_client_check.py with the OpenAI client's venv (see python/BUILD.bazel).
set -eu
python="$1"
shift
exec "$python" "$@"

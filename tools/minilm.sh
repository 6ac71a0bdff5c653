#!/usr/bin/env bash
# The main job, set-up included: the minilm CLI, built by Bazel. With no arguments it prints
# the cosine similarity matrix of a built-in set of sentences, embedded by the pure-Go CPU
# backend (Core ML on a Mac when given --coreml-model). Arguments go to the CLI, and file
# paths are relative to where you run this script:
#   tools/minilm.sh embed --output vectors.npy texts.txt
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/tools/setup.sh"
(cd "$repo" && bazel build --ui_event_filters=-info --noshow_progress --show_result=0 //go/cmd/minilm)
if [ $# -eq 0 ]; then set -- similarity; fi
# The binary finds the weights in its own runfiles tree (//models:minilm_weights).
exec "$repo/bazel-bin/go/cmd/minilm/minilm_/minilm" "$@"

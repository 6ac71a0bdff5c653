#!/bin/sh
# Bazel stamping for release builds (--config=release): the source revision, nothing that
# depends on the machine or the time.
rev="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then rev="$rev-dirty"; fi
echo "STABLE_GIT_COMMIT $rev"

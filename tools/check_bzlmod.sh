#!/bin/sh
# sh_test wrapper of check_bzlmod.py (the py rules need a Python toolchain per Bazel mode; the
# check needs only python3 with PyYAML, from the strict action PATH).
exec python3 "$(dirname "$0")/check_bzlmod.py" "$@"

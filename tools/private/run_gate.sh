#!/bin/sh
# Runs the quality gate on one converted package and checks its verdict:
#   run_gate.sh MLGATE EXPECT(pass|fail) [mlgate flags...]
# A variant's expected verdict is recorded in models/release.bzl: a released variant must pass;
# a variant known to fail must keep failing until someone decides to ship it.
set -u
mlgate="$1"
expect="$2"
shift 2
"$mlgate" --json "${TEST_UNDECLARED_OUTPUTS_DIR:-/tmp}/gate.json" "$@"
rc=$?
case "$rc" in
0) got=pass ;;
1) got=fail ;;
*)
  echo "mlgate could not run (exit $rc)" >&2
  exit "$rc"
  ;;
esac
if [ "$got" != "$expect" ]; then
  echo "GATE VERDICT CHANGED: expected $expect, got $got (update models/release.bzl deliberately)" >&2
  exit 1
fi
echo "gate verdict: $got (as expected)"

#!/usr/bin/env bash
# Smoke test of a benchmark binary: run it with --quick on the committed mini data, then check
# that the report files exist and results.json holds only finite numbers.
#
#   quick_test.sh BENCH_BINARY CHECKRESULTS MODEL_DIR DATA_DIR FILES KEY...
#
# The peers are pointed at an interpreter that does not exist, so the test stays hermetic
# and exercises the "not run" path; run the binaries by hand for peer numbers.
set -euo pipefail
bin="$1" check="$2" model="$3" data="$4" files="$5"
shift 5
out="${TEST_TMPDIR:-$(mktemp -d)}/out"
peers=sentence-transformers,onnxruntime
case "$(basename "$bin")" in serve*) peers=infinity ;; esac
"$bin" --quick --out "$out" --model-dir "$model" --data-dir "$data" \
  --peers "$peers" --python /nonexistent/python3
"$check" "$out" "$files" "$@"
grep -q "not run\|Not run" "$out/report.md"
echo "PASS: $(basename "$bin") --quick"

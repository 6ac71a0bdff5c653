#!/usr/bin/env bash
# The arm64 kernels, tested on any Linux machine under user-mode emulation (qemu-aarch64):
#
#   1. compile checks for linux/arm64 and darwin/arm64, with and without the purego tag;
#   2. every test of go/internal/kernels (the NEON micro-kernels and elementwise kernels
#      against the Go ones, odd sizes and tails included) built with GOARCH=arm64;
#   3. the CPU backend's parity test against sentence-transformers (fixture corpus, min
#      cosine ≥ 0.99999) and the pure-Go-vs-NEON encoder check, on the NEON kernels.
#
# Emulated timings say nothing about arm64 speed and are never reported as such; the macOS
# workflow measures speed on real hardware.
#
#   tools/arm64_test.sh                  MINILM_MODEL_DIR defaults to Bazel's //models:minilm_weights
#   MINILM_MODEL_DIR=dir tools/arm64_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

qemu=""
for q in qemu-aarch64-static qemu-aarch64; do
  if command -v "$q" >/dev/null 2>&1; then qemu="$(command -v "$q")"; break; fi
done
[ -n "$qemu" ] || { echo "arm64_test: no qemu-aarch64 (tools/setup.sh installs qemu-user-static)" >&2; exit 1; }

if [ -z "${MINILM_MODEL_DIR:-}" ]; then
  bazel build //models:minilm_weights >&2
  MINILM_MODEL_DIR="$(bazel info bazel-bin 2>/dev/null)/models/minilm_weights"
fi
export MINILM_MODEL_DIR
[ -f "$MINILM_MODEL_DIR/config.json" ] || { echo "arm64_test: no model in MINILM_MODEL_DIR=$MINILM_MODEL_DIR" >&2; exit 1; }

export GOFLAGS=-mod=mod CGO_ENABLED=0
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "arm64_test: $("$qemu" --version | head -1); $(go version)"
for target in linux/arm64 darwin/arm64; do
  for tags in "" purego; do
    GOOS=${target%/*} GOARCH=arm64 go vet -tags "$tags" ./go/internal/kernels/ ./go/backend/cpu/
  done
done
echo "ok: go vet for linux/arm64 and darwin/arm64, with and without purego"

GOOS=linux GOARCH=arm64 go test -c -o "$out/kernels.test" ./go/internal/kernels/
GOOS=linux GOARCH=arm64 go test -c -o "$out/cpu.test" ./go/backend/cpu/

# run NAME DIR BINARY ARGS...: runs a test binary under qemu in DIR (tests find their fixtures
# from the package directory), keeps its verbose log, fails on failure.
run() {
  local name=$1 dir=$2 bin=$3; shift 3
  local start=$SECONDS
  if ! (cd "$dir" && "$qemu" "$bin" -test.count=1 -test.v "$@") >"$out/$name.log" 2>&1; then
    grep -v -e '^=== ' -e '^    --- PASS' -e '^        --- PASS' "$out/$name.log" | tail -60 >&2
    echo "FAIL: $name under $(basename "$qemu")" >&2
    exit 1
  fi
  echo "ok: $name ($((SECONDS - start)) s emulated)"
}

# must LOG PATTERN / mustnot LOG PATTERN: guards against a vacuous pass (the NEON set not
# selected, a test skipped for want of the model).
must() { grep -q -- "$2" "$out/$1.log" || { echo "FAIL: $1: no '$2' in the test log" >&2; exit 1; }; }
mustnot() { if grep -- "$2" "$out/$1.log" >&2; then echo "FAIL: $1: '$2' in the test log" >&2; exit 1; fi; }

# Operation-count evidence (not emulated time): the micro-kernels' inner loops do the tile's
# multiply-adds as 4-lane FMLAs, 24 per k step for 6×16 and 16 for 4×16 (the functions hold
# no FMLA outside their loop).
fmla() { go tool objdump -s "kernels\.$1\.abi0\$" "$out/kernels.test" | grep -c 'VFMLA V[0-9]*\.S4, V[0-9]*\.S4, V[0-9]*\.S4'; }
for kv in kernelNEON:24 kernelNEONx4:16; do
  n="$(fmla "${kv%:*}")"
  [ "$n" = "${kv#*:}" ] || { echo "FAIL: ${kv%:*} has $n FMLA .4S, want ${kv#*:}" >&2; exit 1; }
  echo "ok: ${kv%:*}: $n FMLA .4S per k step (go tool objdump)"
done

run kernels go/internal/kernels "$out/kernels.test"
must kernels '--- PASS: TestArm64SelectsNEON'
must kernels '--- PASS: TestGemm/neon/'
must kernels '--- PASS: TestNEONTiles'
mustnot kernels '--- SKIP'

run cpu-parity go/backend/cpu "$out/cpu.test" -test.run '^(TestParity|TestPureGoMatchesAssembly|TestTinyModelRuns)$'
must cpu-parity '--- PASS: TestParity'
must cpu-parity 'neon kernels: worst'
must cpu-parity '--- PASS: TestPureGoMatchesAssembly'
mustnot cpu-parity '--- SKIP'
grep -m1 'neon kernels: worst' "$out/cpu-parity.log" | sed 's/^ */  /'
echo "arm64 tests passed"

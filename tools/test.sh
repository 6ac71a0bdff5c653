#!/usr/bin/env bash
# The whole test suite, set-up included: what CI runs (.ci/run) and what the README shows.
#
#   tools/test.sh          everything: Bazel tests (Go, tokenizer and embedding parity, STS-B,
#                          darwin type-check guard, conversion of every variant, its validation
#                          and quality gate, Python tests, quick benchmarks), `go test ./...`
#                          with the machine's Go, the macOS-only target check, the arm64
#                          kernels and CPU parity under qemu-aarch64, and the release
#                          checks: reproducibility (quick form), remote cache, tampered pins.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

# Each step header says how much disk is left where Bazel, Go and mktemp write: a cold run
# needs about 14 GB (README, "Two commands"), and running out shows up as unrelated
# "no space left on device" errors deep inside a build.
disk_free() { df -Pk "$1" 2>/dev/null | awk 'NR==2 {printf "%.1f", $4/1048576}'; }
disk_report() {
  mkdir -p "$HOME/.cache"
  echo "disk free: $(disk_free "$HOME/.cache") GB in ~/.cache (Bazel, Go), $(disk_free "${TMPDIR:-/tmp}") GB in ${TMPDIR:-/tmp}"
}
step() { printf '\n=== %s\n' "$*"; disk_report; }

step "bazel build //... (macOS-only targets are skipped on Linux)"
bazel build //...

step "bazel test //..."
bazel test //...

step "//models:minilm_mlmodelc is macOS-only: Bazel must refuse it here with its incompatibility error"
if [ "$(uname -s)" != Darwin ]; then
  if out="$(bazel build //models:minilm_mlmodelc 2>&1)"; then
    echo "FAIL: //models:minilm_mlmodelc built on $(uname -s)" >&2
    exit 1
  fi
  grep -q "is incompatible and cannot be built" <<<"$out" || { echo "$out" >&2; exit 1; }
  echo "ok: $(grep -m1 'incompatible' <<<"$out")"
fi

step "go test ./... with the machine's Go ($(go version))"
MINILM_MODEL_DIR="$(bazel info bazel-bin 2>/dev/null)/models/minilm_weights" \
  GOFLAGS=-mod=mod go test -count=1 ./...

step "arm64: the NEON kernels and the CPU parity test under qemu-aarch64"
MINILM_MODEL_DIR="$(bazel info bazel-bin 2>/dev/null)/models/minilm_weights" tools/arm64_test.sh

if [ -n "${CI:-}" ]; then
  # A CI machine is used once, and its disk may be small: the release checks below need room
  # for fresh output bases. The Go caches of the two steps above are not needed again, nor are
  # this workspace's build outputs (bazel clean keeps the fetched repositories, which the
  # checks below reuse; the few targets they build again take a minute or two).
  go clean -cache -modcache
  bazel clean
fi

step "release: two clean builds from different paths give identical SHA256SUMS (quick form)"
tools/repro_check.sh --quick

step "remote cache: a second empty output base takes the conversion from the cache"
tools/remote_cache_test.sh

step "supply chain: tampered pins fail the build, naming the input"
tools/tamper_test.sh

echo
echo "all checks passed"

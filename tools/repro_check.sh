#!/usr/bin/env bash
# Reproducibility check: builds the release twice, from two clones at different paths and in
# two different output bases, and compares the SHA256SUMS. Any difference fails and is named.
#   tools/repro_check.sh           the full release (every shipped variant, three CLIs)
#   tools/repro_check.sh --quick   //:release_quick (default package, linux/amd64 CLI): CI's form
# The quick form reuses the hash-pinned conversion venv and weights already fetched by this
# checkout's output base (--override_repository) to save the multi-GB install; the full form
# fetches everything again in each output base.
set -euo pipefail
cd "$(dirname "$0")/.."
target=//:release
quick=0
if [ "${1:-}" = "--quick" ]; then target=//:release_quick; quick=1; fi
name="${target#//:}"
rev="$(git rev-parse HEAD)"
[ -z "$(git status --porcelain)" ] || echo "note: uncommitted changes are not part of the check (it builds $rev)" >&2

work="$(mktemp -d)"
cleanup() {
  for ob in "$work"/ob_*; do
    [ -d "$ob" ] && timeout 60 bazel --output_base="$ob" shutdown >/dev/null 2>&1 || true
  done
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

extra=()
if [ $quick = 1 ]; then
  main_ob="$(bazel info output_base 2>/dev/null)"
  bazel fetch //models:minilm_mlpackage >/dev/null 2>&1
  extra=("--override_repository=conversion_venv=$main_ob/external/conversion_venv"
    "--override_repository=minilm_weights=$main_ob/external/minilm_weights")
fi

i=0
for dir in "$work/a/src" "$work/b/deeper/checkout"; do
  i=$((i + 1))
  git clone -q "$PWD" "$dir"
  git -C "$dir" checkout -q "$rev"
  echo "--- build $i in $dir"
  (cd "$dir" && timeout 2400 bazel --output_base="$work/ob_$i" build --config=release "${extra[@]}" "$target" \
    >"$work/build_$i.log" 2>&1) || { tail -30 "$work/build_$i.log" >&2; echo "FAIL: build $i" >&2; exit 1; }
  cp "$dir/bazel-bin/$name.SHA256SUMS" "$work/sums_$i"
  # Only the sums are compared: free this output base (a Go SDK, std per configuration)
  # before the next build, so the check needs the disk of one release build, not two.
  timeout 60 bazel --output_base="$work/ob_$i" shutdown >/dev/null 2>&1 || true
  chmod -R u+w "$work/ob_$i" "$dir" 2>/dev/null || true
  rm -rf "$work/ob_$i" "$dir"
done

if diff -u "$work/sums_1" "$work/sums_2" >"$work/diff"; then
  echo "ok: identical SHA256SUMS from two checkouts and two output bases ($(wc -l <"$work/sums_1") entries):"
  tail -1 "$work/sums_1"
else
  echo "FAIL: the two release builds differ in:" >&2
  grep -E '^[-+][0-9a-f]{64}' "$work/diff" | awk '{print "  " $2}' | sort -u >&2
  exit 1
fi

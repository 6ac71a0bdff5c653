#!/usr/bin/env bash
# Shows that a team shares the conversion through a real Bazel remote cache:
#  1. starts tools/httpcache (Bazel's HTTP cache protocol) on loopback;
#  2. builds //models:minilm_mlpackage in an empty output base A with --config=remote-cache:
#     the conversion runs and its result is uploaded;
#  3. builds it again in another empty output base B and reads B's execution log: the
#     CoreMLConvert action must be a remote cache hit, not executed.
# The server and both Bazel servers are stopped on exit; everything is bounded in time.
# Repositories already fetched by the main output base (the multi-GB conversion venv, the
# weights) are reused through --override_repository: they are pinned by hash, and only
# action execution is under test.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
main_ob="$(bazel info output_base 2>/dev/null)"
bazel build //tools/httpcache //models:minilm_weights >/dev/null 2>&1
bazel fetch //models:minilm_mlpackage >/dev/null 2>&1
httpcache="$(bazel info bazel-bin 2>/dev/null)/tools/httpcache/httpcache_/httpcache"

pid=""
cleanup() {
  for ob in "$work/ob_a" "$work/ob_b"; do
    [ -d "$ob" ] && timeout 60 bazel --output_base="$ob" shutdown >/dev/null 2>&1 || true
  done
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

timeout 900 "$httpcache" -dir "$work/cache" -addr 127.0.0.1:0 -addr-file "$work/addr" 2>"$work/server.log" &
pid=$!
for _ in $(seq 50); do [ -s "$work/addr" ] && break; sleep 0.1; done
[ -s "$work/addr" ] || { cat "$work/server.log" >&2; echo "FAIL: cache server did not start" >&2; exit 1; }
url="http://$(cat "$work/addr")"
echo "cache server: $url"

overrides=(
  "--override_repository=conversion_venv=$main_ob/external/conversion_venv"
  "--override_repository=minilm_weights=$main_ob/external/minilm_weights"
)
build() {
  local ob="$1"
  shift
  timeout 1200 bazel --output_base="$ob" build --config=remote-cache --remote_cache="$url" \
    "${overrides[@]}" "$@" //models:minilm_mlpackage
}

echo "--- build A (empty output base): converts and uploads"
build "$work/ob_a" --execution_log_json_file="$work/a.json" 2>"$work/a.log" || { tail -30 "$work/a.log" >&2; exit 1; }
echo "--- build B (another empty output base): must hit the cache"
build "$work/ob_b" --execution_log_json_file="$work/b.json" 2>"$work/b.log" || { tail -30 "$work/b.log" >&2; exit 1; }

python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys

def spawns(path):
    text = open(path).read()
    dec, i, out = json.JSONDecoder(), 0, []
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
    return [s for s in out if s.get("mnemonic") == "CoreMLConvert"]

a, b = spawns(sys.argv[1]), spawns(sys.argv[2])
if len(a) != 1 or a[0].get("remoteCacheHit"):
    sys.exit("FAIL: build A should have executed the conversion once: %r" % [(s.get("mnemonic"), s.get("remoteCacheHit")) for s in a])
if len(b) != 1 or not b[0].get("remoteCacheHit"):
    sys.exit("FAIL: build B did not take the conversion from the remote cache: %r" % [(s.get("mnemonic"), s.get("remoteCacheHit")) for s in b])
print("ok: build A executed CoreMLConvert (runner %r); build B: remoteCacheHit=%s (runner %r)" % (
    a[0].get("runner"), b[0].get("remoteCacheHit"), b[0].get("runner")))
PY
grep -E "processes" "$work/b.log" | tail -1

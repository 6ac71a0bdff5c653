"""release_archive: one deterministic .tar.gz of the models and CLIs, plus its SHA256SUMS."""

load(":coreml.bzl", "CoreMLPackageInfo")

def _release_archive_impl(ctx):
    prefix = ctx.attr.prefix
    mappings = []
    inputs = []
    variants = {}
    for t in ctx.attr.packages:
        info = t[CoreMLPackageInfo]
        variants[info.variant] = info.flags
        mappings.append("models/%s/%s=%s" % (info.variant, info.package.basename, info.package.path))
        inputs.append(info.package)
    for t in ctx.attr.compiled:
        for f in t.files.to_list():
            mappings.append("models/compiled/%s/%s=%s" % (t.label.name, f.basename, f.path))
            inputs.append(f)
    binaries = {}
    for t, name in ctx.attr.binaries.items():
        binaries[name] = t
        f = t.files_to_run.executable
        mappings.append("bin/%s=%s" % (name, f.path))
        inputs.append(f)

    manifest = ctx.actions.declare_file(ctx.attr.name + ".manifest.json")
    ctx.actions.write(manifest, json.encode_indent(struct(
        name = prefix,
        pins = ctx.attr.pins,
        conversion_lock_sha256 = "see conversion-lock.sha256",
        variants = variants,
        binaries = sorted(binaries.keys()),
    ), indent = "  ") + "\n")
    mappings.append("MANIFEST.json=" + manifest.path)
    inputs.append(manifest)
    mappings.append("conversion-lock.sha256=" + ctx.file.lock_digest.path)
    inputs.append(ctx.file.lock_digest)

    # The source revision, through Bazel stamping (--config=release runs
    # tools/workspace_status.sh). Only the revision is kept: stable-status also records the
    # host and user, which must not reach a reproducible archive.
    revision = ctx.actions.declare_file(ctx.attr.name + ".REVISION")
    if ctx.attr.stamp:
        ctx.actions.run_shell(
            inputs = [ctx.info_file],
            outputs = [revision],
            command = "sed -n 's/^STABLE_GIT_COMMIT //p' \"$1\" > \"$2\"; [ -s \"$2\" ] || echo unknown > \"$2\"",
            arguments = [ctx.info_file.path, revision.path],
            mnemonic = "ReleaseRevision",
        )
    else:
        ctx.actions.write(revision, "unstamped\n")
    mappings.append("REVISION=" + revision.path)
    inputs.append(revision)

    archive = ctx.actions.declare_file(ctx.attr.name + ".tar.gz")
    sums = ctx.actions.declare_file(ctx.attr.name + ".SHA256SUMS")
    args = ctx.actions.args()
    args.add("-o", archive)
    args.add("-sums", sums)
    args.add("-prefix", prefix)
    args.add("-x", "bin/*/*")
    args.add_all(mappings)
    ctx.actions.run(
        executable = ctx.executable._dettar,
        arguments = [args],
        inputs = inputs,
        outputs = [archive, sums],
        mnemonic = "ReleaseArchive",
        progress_message = "Packing %s" % archive.short_path,
    )
    return [DefaultInfo(files = depset([archive, sums]))]

release_archive = rule(
    implementation = _release_archive_impl,
    doc = "Packs Core ML packages, compiled models and binaries into a reproducible archive.",
    attrs = {
        "prefix": attr.string(mandatory = True, doc = "Top-level directory in the archive."),
        "packages": attr.label_list(providers = [CoreMLPackageInfo]),
        "compiled": attr.label_list(doc = ".mlmodelc targets (macOS builds only)."),
        "binaries": attr.label_keyed_string_dict(doc = "Executable target -> name in the archive's bin/.", cfg = "target"),
        "pins": attr.string_dict(doc = "Pinned inputs recorded in the manifest."),
        "lock_digest": attr.label(allow_single_file = True, default = "@conversion_venv//:lock.sha256"),
        "stamp": attr.bool(default = True),
        "_dettar": attr.label(default = "//tools/dettar", executable = True, cfg = "exec"),
    },
)

"""model_dir: gathers a model's files into one directory (a tree artifact).

A directory lets tests and tools receive the whole model as one path
(`$(rootpath //models:minilm_weights)`) while Bazel still tracks every file.
"""

ModelDirInfo = provider(
    doc = "A model directory in the Hugging Face layout (config.json, tokenizer.json, model.safetensors, ...).",
    fields = {"dir": "The tree artifact holding the files."},
)

def _model_dir_impl(ctx):
    out = ctx.actions.declare_directory(ctx.attr.name)
    prefix = ctx.attr.strip_prefix
    cmds = []
    for f in ctx.files.srcs:
        path = f.short_path
        i = path.find(prefix)
        if i < 0:
            fail("%s is not under %s" % (path, prefix))
        rel = path[i + len(prefix):]
        cmds.append('mkdir -p "$OUT/$(dirname %s)" && cp "%s" "$OUT/%s"' % (rel, f.path, rel))
    ctx.actions.run_shell(
        outputs = [out],
        inputs = ctx.files.srcs,
        command = "set -e\nOUT=%s\n%s\n" % (out.path, "\n".join(cmds)),
        mnemonic = "ModelDir",
        progress_message = "Gathering model files into %s" % out.short_path,
    )
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        ModelDirInfo(dir = out),
    ]

model_dir = rule(
    implementation = _model_dir_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = True, mandatory = True),
        "strip_prefix": attr.string(mandatory = True, doc = "Path prefix removed from each file's short path."),
    },
)

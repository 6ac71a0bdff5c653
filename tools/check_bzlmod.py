#!/usr/bin/env python3
"""Checks, on any OS, the parts of the macOS build that only a Mac would otherwise exercise.

The bzlmod build (MODULE.bazel, tools/extensions.bzl, tools/bzlmod.bazelrc) and
.github/workflows/macos.yml run only on GitHub's macOS runners; Linux CI builds in WORKSPACE
mode and never reads them. This check catches, before a Mac does:

MODULE.bazel / tools/extensions.bzl
  - a repository the BUILD and .bzl files reference (`@name//...`) that the root module does not
    import (bazel_dep or use_repo): in bzlmod such a label does not resolve;
  - a use_repo name nothing references (a stale import);
  - a use_repo of the minilm extension that tools/extensions.bzl does not create, or a
    repository it creates that is not imported;
  - go_deps imports that differ from go.mod's direct requirements under gazelle's repository
    names (gazelle internal/bzlmod/go_deps.bzl, _repo_name), and go_sdk imports that no
    go_sdk.download(name = ...) creates.
.github/workflows/macos.yml
  - it parses; every job runs on macos-15; USE_BAZEL_VERSION pins Bazel >= 7 (and there is no
    .bazelversion, which Debian's bazel wrapper rejects); the bzlmod flags are used; the job
    builds //models:minilm_mlmodelc, uploads it, and runs `bazel test //go/...`;
  - MINILM_COREML_* is set only on steps, never for the whole workflow or job, and never on the
    step that runs the general Go tests (issue 11, item 5).

Usage: check_bzlmod.py [--root DIR]   (default: the source tree this file lives in, found through
its real path). Needs PyYAML (Debian: python3-yaml).
"""

import argparse
import ast
import os
import re
import sys

WORKFLOW = ".github/workflows/macos.yml"
BZLMOD_RC = "tools/bzlmod.bazelrc"
MINILM_EXTENSION = ("//tools:extensions.bzl", "minilm")
GO_DEPS_EXTENSION = ("@bazel_gazelle//:extensions.bzl", "go_deps")
GO_SDK_EXTENSION = ("@io_bazel_rules_go//go:extensions.bzl", "go_sdk")
# Repositories every Bazel provides without an import.
BUILTIN_REPOS = {"bazel_tools"}
SKIP_DIRS = {".git", "third_party"}  # third_party: WORKSPACE-mode stubs of Bazel's own rule sets

LABEL_RE = re.compile(r"""["']@@?([A-Za-z0-9_][A-Za-z0-9_.~-]*)//""")


class Failures(list):
    def check(self, ok, message):
        if not ok:
            self.append(message)
        return ok


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def const_str(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return const_str(kw.value)
    return None


def parse_module(text):
    """Returns (apparent names of bazel_deps, {extension: set of use_repo names},
    go_sdk.download names) from MODULE.bazel, which is Starlark within Python's grammar."""
    tree = ast.parse(text, "MODULE.bazel")
    deps, extension_of, imports, sdk_names = set(), {}, {}, set()
    for stmt in tree.body:
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if not isinstance(value, ast.Call):
            continue
        fn = value.func
        if isinstance(fn, ast.Name) and fn.id == "bazel_dep":
            deps.add(keyword(value, "repo_name") or keyword(value, "name"))
        elif isinstance(fn, ast.Name) and fn.id == "use_extension" and isinstance(stmt, ast.Assign):
            ext = (const_str(value.args[0]), const_str(value.args[1]))
            for target in stmt.targets:
                extension_of[target.id] = ext
        elif isinstance(fn, ast.Name) and fn.id == "use_repo":
            ext = extension_of[value.args[0].id]
            names = imports.setdefault(ext, set())
            names.update(const_str(a) for a in value.args[1:])
            names.update(kw.arg for kw in value.keywords)
        elif (isinstance(fn, ast.Attribute) and fn.attr == "download" and isinstance(fn.value, ast.Name)
              and extension_of.get(fn.value.id) == GO_SDK_EXTENSION):
            name = keyword(value, "name")
            if name:
                sdk_names.add(name)
    return deps, imports, sdk_names


def extension_repos(text):
    """Names of the repositories the minilm extension's implementation creates."""
    tree = ast.parse(text, "tools/extensions.bzl")
    impls = {
        keyword_value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "module_extension"
        for kw in node.keywords
        if kw.arg == "implementation"
        for keyword_value in [kw.value]
    }
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in impls:
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    name = keyword(call, "name")
                    if name:
                        names.add(name)
    return names


def gazelle_repo_name(importpath):
    """gazelle internal/bzlmod/go_deps.bzl _repo_name: reversed host labels, path, `_` joins."""
    segments = importpath.split("/")
    parts = list(reversed(segments[0].split("."))) + segments[1:]
    candidate = "_".join(parts).replace("-", "_")
    return "".join(c.lower() if c.isalnum() else "_" for c in candidate)


def go_mod_direct(text):
    """Module paths go.mod requires directly (no `// indirect`)."""
    direct, in_block = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("require ("):
            in_block = True
            continue
        if in_block and s == ")":
            in_block = False
            continue
        if s.startswith("require ") and not s.endswith("("):
            s = s[len("require "):]
        elif not in_block:
            continue
        if s and not s.startswith("//") and "// indirect" not in s:
            direct.append(s.split()[0])
    return direct


def referenced_repos(root):
    """Repository names in labels of every BUILD and .bzl file of the source tree."""
    refs = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [
            d for d in dirnames
            if d not in SKIP_DIRS and not d.startswith("bazel-") and not os.path.islink(os.path.join(dirpath, d))
        ]
        if rel_dir.split(os.sep)[0] in SKIP_DIRS:
            continue
        for f in filenames:
            if f in ("BUILD", "BUILD.bazel") or f.endswith(".bzl"):
                rel = os.path.normpath(os.path.join(rel_dir, f))
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    for name in LABEL_RE.findall(fh.read()):
                        refs.setdefault(name, rel)
    return refs


def check_module(root, fails):
    deps, imports, sdk_names = parse_module(read(root, "MODULE.bazel"))
    imported = set().union(*imports.values()) if imports else set()
    visible = deps | imported | BUILTIN_REPOS
    refs = referenced_repos(root)

    for name, where in sorted(refs.items()):
        fails.check(name in visible, "%s references @%s, which MODULE.bazel does not import "
                    "(bazel_dep repo_name or use_repo): the label does not resolve under bzlmod" % (where, name))
    for name in sorted(imported):
        fails.check(name in refs, "MODULE.bazel imports %s with use_repo, but no BUILD or .bzl file uses it" % name)

    created = extension_repos(read(root, "tools/extensions.bzl"))
    minilm = imports.get(MINILM_EXTENSION, set())
    for name in sorted(minilm - created):
        fails.check(False, "use_repo(minilm, %r): tools/extensions.bzl does not create it" % name)
    for name in sorted(created - minilm):
        fails.check(False, "tools/extensions.bzl creates %r but MODULE.bazel does not use_repo it" % name)

    want = {gazelle_repo_name(p) for p in go_mod_direct(read(root, "go.mod"))}
    got = imports.get(GO_DEPS_EXTENSION, set())
    fails.check(got == want, "use_repo(go_deps, ...) must list go.mod's direct requirements under gazelle's "
                "names: missing %s, extra %s" % (sorted(want - got), sorted(got - want)))

    sdks = imports.get(GO_SDK_EXTENSION, set())
    fails.check(sdks <= sdk_names, "use_repo(go_sdk, %s): no go_sdk.download(name = ...) creates %s"
                % (sorted(sdks), sorted(sdks - sdk_names)))
    return len(refs), len(imported)


def check_workflow(root, fails):
    try:
        import yaml
    except ImportError:
        fails.check(False, "PyYAML is missing: install python3-yaml (Debian) or `pip install pyyaml`")
        return
    try:
        wf = yaml.safe_load(read(root, WORKFLOW))
    except yaml.YAMLError as e:
        fails.check(False, "%s does not parse: %s" % (WORKFLOW, e))
        return
    if not fails.check(isinstance(wf, dict) and isinstance(wf.get("jobs"), dict) and wf["jobs"],
                       "%s has no jobs" % WORKFLOW):
        return
    wf_env = wf.get("env") or {}
    fails.check(not os.path.exists(os.path.join(root, ".bazelversion")),
                ".bazelversion exists: Debian's bazel wrapper rejects a version it does not have; "
                "pin with USE_BAZEL_VERSION in the workflow")
    fails.check(os.path.exists(os.path.join(root, BZLMOD_RC)), "%s is missing" % BZLMOD_RC)

    for job_name, job in wf["jobs"].items():
        where = "%s job %s" % (WORKFLOW, job_name)
        fails.check(job.get("runs-on") == "macos-15", "%s runs on %r, not macos-15 (the model needs "
                    "macOS 15 / Xcode 16)" % (where, job.get("runs-on")))
        env = dict(wf_env)
        env.update(job.get("env") or {})
        version = str(env.get("USE_BAZEL_VERSION", ""))
        m = re.match(r"^(\d+)\.(\d+)\.(\d+)$", version)
        fails.check(bool(m) and int(m.group(1)) >= 7,
                    "%s: USE_BAZEL_VERSION=%r is not a pinned Bazel 7+ release (x.y.z)" % (where, version))
        for key in env:
            fails.check(not key.startswith("MINILM_COREML"),
                        "%s sets %s for every step: only Core ML steps may set it" % (where, key))
        steps = job.get("steps") or []
        runs = "\n".join(str(s.get("run", "")) for s in steps)
        fails.check(BZLMOD_RC in runs, "%s never uses %s (the bzlmod flags)" % (where, BZLMOD_RC))
        fails.check(re.search(r"\bbazel(isk)? build [^\n]*//models:minilm_mlmodelc", runs) is not None,
                    "%s does not build //models:minilm_mlmodelc" % where)
        fails.check(any("upload-artifact" in str(s.get("uses", "")) and "mlmodelc" in str(s.get("with", {}).get("path", ""))
                        for s in steps), "%s does not upload the .mlmodelc" % where)
        bazel_go_tests = [s for s in steps if re.search(r"\bbazel(isk)? test [^\n]*//go/\.\.\.", str(s.get("run", "")))]
        fails.check(bazel_go_tests, "%s does not run `bazel test //go/...`" % where)
        go_tool_tests = [s for s in steps if re.search(r"\bgo test [^\n]*\./go/\.\.\.", str(s.get("run", "")))]
        for s in bazel_go_tests + go_tool_tests:
            for key in (s.get("env") or {}):
                fails.check(not key.startswith("MINILM_COREML"),
                            "%s: step %r runs the general Go tests with %s set" % (where, s.get("name"), key))
        fails.check(any("MINILM_COREML_MODEL" in (s.get("env") or {}) for s in steps),
                    "%s never runs the Core ML parity test with MINILM_COREML_MODEL" % where)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="source tree (default: the one holding this file)")
    args = ap.parse_args()
    root = args.root
    if root is None:
        # Under `bazel test` this file is a runfiles symlink into the source tree: the tree is read
        # from there (the test is tagged "external", so it is never served from the cache).
        root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    fails = Failures()
    nrefs, nimports = check_module(root, fails)
    check_workflow(root, fails)
    if fails:
        for f in fails:
            print("FAIL: " + f, file=sys.stderr)
        return 1
    print("ok: %d repositories referenced by the build, all imported by MODULE.bazel; %d use_repo names, "
          "all used; %s checked" % (nrefs, nimports, WORKFLOW))
    return 0


if __name__ == "__main__":
    sys.exit(main())

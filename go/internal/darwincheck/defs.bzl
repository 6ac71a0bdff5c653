"""darwincheck_srcs: a package's Go sources for the darwin type-check guard (this package)."""

def darwincheck_srcs(include_tests = False):
    """Declares :srcs, the package's Go sources, visible to //go/internal/darwincheck.

    The guard type-checks go/backend/coreml and every package it imports (tests included) for
    darwin, from sources, since darwinkit cannot be built here; each such package declares its
    sources with this macro and the guard lists them as data.

    Args:
      include_tests: also the _test.go files (for the package whose darwin tests are checked).
    """
    native.filegroup(
        name = "srcs",
        srcs = native.glob(["*.go"], exclude = [] if include_tests else ["*_test.go"]),
        visibility = ["//go/internal/darwincheck:__pkg__"],
    )

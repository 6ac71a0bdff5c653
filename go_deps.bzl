"""Go module dependencies as go_repository rules, maintained by gazelle.

Regenerate after changing go.mod:
    bazel run //:gazelle-update-repos
Review the diff: update-repos rewrites pins set by hand (see README, "Bazel offline").
"""

load("@bazel_gazelle//:deps.bzl", "go_repository")

def go_dependencies():
    """Declares every Go module the build uses, pinned by its go.sum hash."""
    go_repository(
        name = "org_golang_x_tools",
        importpath = "golang.org/x/tools",
        sum = "h1:loJ25fNOEhSXfHrpoGj91eCUThwdNX6u24rO1xnNteY=",
        version = "v0.1.11",
    )
    go_repository(
        name = "org_golang_x_sys",
        importpath = "golang.org/x/sys",
        sum = "h1:v4INt8xihDGvnrfjMDVXGxw9wrfxYyCjk0KbXjhR55s=",
        version = "v0.0.0-20220722155257-8c9f86f7a55f",
    )

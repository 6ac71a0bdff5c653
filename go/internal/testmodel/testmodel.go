// Package testmodel locates the model files and reference fixtures for tests.
//
// Under Bazel, go_test rules set MINILM_MODEL_DIR to the runfiles path of
// //models:minilm_weights and run from the runfiles root (rundir = "."), where that path
// resolves. With plain `go test`, set MINILM_MODEL_DIR to a directory holding
// config.json, tokenizer.json and model.safetensors (.ci/run points it at Bazel's output);
// tests that need the model are skipped with a message when it is unset.
package testmodel

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvModelDir names the environment variable that points at the model directory.
const EnvModelDir = "MINILM_MODEL_DIR"

// ModelDir returns the absolute model directory, or skips the test if none is configured.
func ModelDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(EnvModelDir)
	if dir == "" {
		tb.Skipf("%s is not set: run under `bazel test`, or point it at the model files (see README)", EnvModelDir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatalf("resolving %s=%q: %v", EnvModelDir, dir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, "config.json")); err != nil {
		tb.Fatalf("%s=%q does not hold the model: %v", EnvModelDir, dir, err)
	}
	return abs
}

// RepoFile returns the path of a file given relative to the repository root, found by
// walking up from the working directory (the package directory under both `go test` and
// `bazel test`, whose runfiles mirror the repository layout).
func RepoFile(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("%s not found above the working directory (is it in the test's data?)", rel)
		}
		dir = parent
	}
}

// Package testmodel locates the model files and reference fixtures for tests.
//
// Under Bazel, go_test rules set MINILM_MODEL_DIR to the runfiles path of
// //models:minilm_weights and run from the runfiles root (rundir = "."), where that path
// resolves. With plain `go test`, set MINILM_MODEL_DIR to a directory holding
// config.json, tokenizer.json and model.safetensors (.ci/run points it at Bazel's output);
// tests that need the model are skipped with a message when it is unset, and a package whose
// TestMain calls Main says how many were.
package testmodel

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// EnvModelDir names the environment variable that points at the model directory.
const EnvModelDir = "MINILM_MODEL_DIR"

// ModelDir returns the absolute model directory, or skips the test if none is configured.
func ModelDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(EnvModelDir)
	if dir == "" {
		Skipf(tb, "%s is not set: run under `bazel test`, or point it at the model files (see README)", EnvModelDir)
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

// skipped counts the tests Skipf skipped.
var skipped int64

// Skipf skips a test that needs model files which are not configured (ModelDir uses it), and
// counts it for Main's summary.
func Skipf(tb testing.TB, format string, args ...interface{}) {
	tb.Helper()
	atomic.AddInt64(&skipped, 1)
	tb.Skipf(format, args...)
}

// Main runs the tests of a package that has model tests and returns the exit code; call it
// as TestMain's body: os.Exit(testmodel.Main(m)). When tests were skipped because EnvModelDir
// is unset (or other model files, through Skipf), it says how many, on standard output (shown by `go test -v`, on failure, and in
// Bazel's test log) and, because plain `go test` hides what passing packages print, also on
// the terminal (/dev/tty) when the process has one and -v is off.
func Main(m *testing.M) int {
	code := m.Run()
	n := atomic.LoadInt64(&skipped)
	if n == 0 {
		return code
	}
	msg := fmt.Sprintf("%d model tests skipped: model files not configured (%s, see README; -v shows each reason)\n", n, EnvModelDir)
	fmt.Print(msg)
	if f := flag.Lookup("test.v"); f != nil && f.Value.String() != "false" {
		return code
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
		fmt.Fprintf(tty, "%s: %s", pkg, msg)
		tty.Close()
	}
	return code
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

// ModelFiles are the files of a model directory.
var ModelFiles = []string{"config.json", "tokenizer.json", "model.safetensors"}

// CopyWith makes a model directory of links to the files of ModelDir, with the file name
// replaced by data, or left out when data is nil: a broken model for error tests.
func CopyWith(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	src := ModelDir(tb)
	dir := tb.TempDir()
	for _, f := range ModelFiles {
		p := filepath.Join(dir, f)
		if f == name {
			if data != nil {
				if err := os.WriteFile(p, data, 0o644); err != nil {
					tb.Fatal(err)
				}
			}
			continue
		}
		if err := os.Symlink(filepath.Join(src, f), p); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

package coreml

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

// fakeCompile mimics compileModelAtURL: it writes an .mlmodelc into a fresh temp dir.
func fakeCompile(t *testing.T, count *int) compileFunc {
	return func(src string) (string, error) {
		*count++
		tmp := t.TempDir()
		out := filepath.Join(tmp, "x.mlmodelc")
		b, err := os.ReadFile(filepath.Join(src, "Data", "model.mlmodel"))
		if err != nil {
			return "", err
		}
		writeTree(t, out, map[string]string{"coremldata.bin": "compiled:" + string(b), "weights/weight.bin": "w"})
		return out, nil
	}
}

func TestResolveModelCompilesOnceAndCaches(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "all-MiniLM-L6-v2.mlpackage")
	writeTree(t, pkg, map[string]string{"Manifest.json": "{}", "Data/model.mlmodel": "v1"})
	cache := filepath.Join(dir, "cache")
	n := 0

	p1, err := resolveModel(pkg, cache, fakeCompile(t, &n))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, compiledModelName, filepath.Base(p1))
	b, err := os.ReadFile(filepath.Join(p1, "coremldata.bin"))
	require.NoError(t, err)
	require.Equal(t, "compiled:v1", string(b))

	p2, err := resolveModel(pkg, cache, fakeCompile(t, &n))
	require.NoError(t, err)
	require.Equal(t, p1, p2)
	require.Equal(t, 1, n, "second use hits the cache")

	// A changed package gets a new entry.
	writeTree(t, pkg, map[string]string{"Data/model.mlmodel": "v2"})
	p3, err := resolveModel(pkg, cache, fakeCompile(t, &n))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NotEqual(t, p1, p3)

	// No staging directories are left behind.
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	require.Len(t, entries, 2)
}

func TestResolveModelPassesCompiledThrough(t *testing.T) {
	dir := t.TempDir()
	mc := filepath.Join(dir, "m.mlmodelc")
	require.NoError(t, os.Mkdir(mc, 0o755))
	got, err := resolveModel(mc, "", func(string) (string, error) { panic("must not compile") })
	require.NoError(t, err)
	require.Equal(t, mc, got)
}

func TestResolveModelErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := resolveModel(filepath.Join(dir, "missing.mlmodelc"), "", nil)
	require.True(t, errors.Is(err, fs.ErrNotExist), "callers fall back on fs.ErrNotExist: %v", err)

	other := filepath.Join(dir, "model.onnx")
	require.NoError(t, os.WriteFile(other, nil, 0o644))
	_, err = resolveModel(other, "", nil)
	require.ErrorContains(t, err, "want a compiled .mlmodelc directory")

	pkg := filepath.Join(dir, "m.mlpackage")
	writeTree(t, pkg, map[string]string{"Manifest.json": "{}"})
	boom := errors.New("coremlcompiler: bad spec")
	_, err = resolveModel(pkg, filepath.Join(dir, "cache"), func(string) (string, error) { return "", boom })
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "coreml: compiling "+pkg)
}

func TestCopyTreeFallback(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a")
	writeTree(t, src, map[string]string{"x/y.bin": "1", "z": "2"})
	dst := filepath.Join(t.TempDir(), "b")
	require.NoError(t, copyTree(src, dst))
	h1, err := hashTree(src)
	require.NoError(t, err)
	h2, err := hashTree(dst)
	require.NoError(t, err)
	require.Equal(t, h1, h2)
}

// TestHashFollowsSymlinks mimics a Bazel runfiles tree: the package directory and each file
// in it are symbolic links into another tree. The hash is that of the content reached, equal
// to the real package's, and the package compiles through the cache as usual.
func TestHashFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "out", "m.mlpackage")
	writeTree(t, real, map[string]string{
		"Manifest.json": "{}", "Data/model.mlmodel": "v1", "Data/weights/weight.bin": "w",
	})
	// runfiles/a.mlpackage -> a directory of per-file links, with a linked subdirectory.
	links := filepath.Join(dir, "runfiles", "links.mlpackage")
	require.NoError(t, os.MkdirAll(filepath.Join(links, "Data"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(real, "Manifest.json"), filepath.Join(links, "Manifest.json")))
	require.NoError(t, os.Symlink(filepath.Join(real, "Data", "model.mlmodel"), filepath.Join(links, "Data", "model.mlmodel")))
	require.NoError(t, os.Symlink(filepath.Join(real, "Data", "weights"), filepath.Join(links, "Data", "weights")))
	whole := filepath.Join(dir, "runfiles", "whole.mlpackage")
	require.NoError(t, os.Symlink(real, whole))

	want, err := hashTree(real)
	require.NoError(t, err)
	for _, p := range []string{links, whole} {
		got, err := hashTree(p)
		require.NoError(t, err, p)
		require.Equal(t, want, got, p)
	}

	n := 0
	compiled, err := resolveModel(whole, filepath.Join(dir, "cache"), fakeCompile(t, &n))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.DirExists(t, compiled)

	// Content changes through a link change the hash.
	writeTree(t, real, map[string]string{"Data/weights/weight.bin": "w2"})
	got, err := hashTree(links)
	require.NoError(t, err)
	require.NotEqual(t, want, got)

	// A link cycle is an error, not an endless walk.
	require.NoError(t, os.Symlink(links, filepath.Join(links, "Data", "loop")))
	_, err = hashTree(links)
	require.ErrorContains(t, err, "symbolic link cycle")
	// A dangling link is an error naming it.
	require.NoError(t, os.Remove(filepath.Join(links, "Data", "loop")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(links, "dangling")))
	_, err = hashTree(links)
	require.ErrorContains(t, err, "dangling")
}

// TestCompileTempFolderRemoved: compileModelAtURL returns the .mlmodelc inside a temporary
// folder of its own; after the model is cached, that folder is gone too. The system
// temporary directory itself is never removed.
func TestCompileTempFolderRemoved(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "m.mlpackage")
	writeTree(t, pkg, map[string]string{"Manifest.json": "{}", "Data/model.mlmodel": "v1"})
	tmpRoot := filepath.Join(dir, "T")
	require.NoError(t, os.Mkdir(tmpRoot, 0o755))
	t.Setenv("TMPDIR", tmpRoot)
	var folder string
	compile := func(src string) (string, error) {
		var err error
		folder, err = os.MkdirTemp(tmpRoot, "coreml-compile-")
		if err != nil {
			return "", err
		}
		out := filepath.Join(folder, "m.mlmodelc")
		writeTree(t, out, map[string]string{"coremldata.bin": "c"})
		return out, nil
	}
	_, err := resolveModel(pkg, filepath.Join(dir, "cache"), compile)
	require.NoError(t, err)
	require.NoDirExists(t, folder)
	require.DirExists(t, tmpRoot)

	// A compiled model placed directly in the temporary directory: only the model goes.
	direct := filepath.Join(tmpRoot, "direct.mlmodelc")
	writeTree(t, direct, map[string]string{"coremldata.bin": "c"})
	removeCompileOutput(direct)
	require.NoDirExists(t, direct)
	require.DirExists(t, tmpRoot)

	// A folder that still holds something else stays.
	keep := filepath.Join(tmpRoot, "shared")
	writeTree(t, keep, map[string]string{"other": "x", "m.mlmodelc/coremldata.bin": "c"})
	removeCompileOutput(filepath.Join(keep, "m.mlmodelc"))
	require.FileExists(t, filepath.Join(keep, "other"))
}

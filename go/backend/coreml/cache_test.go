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

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func writeTree(t *testing.T, root string, files map[string]string, mode os.FileMode) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), mode))
	}
}

func TestArchiveIsIndependentOfTimesModesAndOrder(t *testing.T) {
	files := map[string]string{"b/2.txt": "two", "a/1.txt": "one", "c.bin": "\x00\x01"}
	var outputs [][]byte
	for i, mode := range []os.FileMode{0o600, 0o664} {
		dir := t.TempDir()
		writeTree(t, dir, files, mode)
		// Different mtimes per run.
		ts := time.Unix(int64(1000000+i*12345), 0)
		require.NoError(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			require.NoError(t, err)
			return os.Chtimes(p, ts, ts)
		}))
		out := filepath.Join(t.TempDir(), "r.tar.gz")
		sums := filepath.Join(t.TempDir(), "SHA256SUMS")
		require.NoError(t, run(out, sums, "pkg", nil, []string{"data=" + dir}))
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		outputs = append(outputs, b)
		s, err := os.ReadFile(sums)
		require.NoError(t, err)
		require.Contains(t, string(s), "  pkg/data/a/1.txt\n")
		require.True(t, strings.HasSuffix(string(s), "  r.tar.gz\n"))
	}
	require.Equal(t, outputs[0], outputs[1], "archives differ between runs")

	// Entries are sorted, owned by 0:0 with the fixed epoch and normalized modes.
	gz, err := gzip.NewReader(bytes.NewReader(outputs[0]))
	require.NoError(t, err)
	require.True(t, gz.Header.ModTime.IsZero() || gz.Header.ModTime.Unix() == 0)
	require.Empty(t, gz.Header.Name)
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		require.Equal(t, 0, h.Uid)
		require.Equal(t, 0, h.Gid)
		require.True(t, h.ModTime.Equal(epoch), h.Name)
		if h.Typeflag == tar.TypeReg {
			require.Equal(t, int64(0o644), h.Mode, h.Name)
		}
	}
	require.Equal(t, []string{"pkg/", "pkg/data/", "pkg/data/a/", "pkg/data/a/1.txt", "pkg/data/b/", "pkg/data/b/2.txt", "pkg/data/c.bin"}, names)
}

func TestExecutablesByPatternOnly(t *testing.T) {
	dir := t.TempDir()
	// Bazel outputs are all executable: the source mode must not leak into the archive.
	writeTree(t, dir, map[string]string{"tool": "#!/bin/sh\n", "data.txt": "x"}, 0o755)
	out := filepath.Join(t.TempDir(), "r.tar.gz")
	require.NoError(t, run(out, "", "", []string{"bin/*"}, []string{"bin/tool=" + filepath.Join(dir, "tool"), "data.txt=" + filepath.Join(dir, "data.txt")}))
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch h.Name {
		case "bin/tool":
			require.Equal(t, int64(0o755), h.Mode)
		case "data.txt":
			require.Equal(t, int64(0o644), h.Mode)
		}
	}
}

func TestBadMappings(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, mapping, want string }{
		{"no equals", "foo", "not DEST=SRC"},
		{"empty dest", "=" + dir, "not DEST=SRC"},
		{"escapes root", "../x=" + dir, "leaves the archive root"},
		{"missing source", "x=" + filepath.Join(dir, "nope"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(filepath.Join(t.TempDir(), "o.tar.gz"), "", "", nil, []string{tc.mapping})
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

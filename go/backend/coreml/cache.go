package coreml

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cacheSubdir is the directory under os.UserCacheDir that holds compiled models.
const cacheSubdir = "minilm-coreml"

// compiledModelName is the name of the compiled model inside its cache entry.
const compiledModelName = "model.mlmodelc"

// compileFunc compiles a model package (or .mlmodel file) and returns the path of the
// compiled .mlmodelc, which the caller may move or delete (Core ML puts it in a temporary
// directory).
type compileFunc func(src string) (string, error)

// resolveModel returns the path of a compiled .mlmodelc for modelPath.
//
// A .mlmodelc is used in place. A .mlpackage (or .mlmodel) is compiled once and cached in
// cacheDir/<sha256 of its contents>/model.mlmodelc, so changing the package changes the key
// and a stale compile is never used. The entry appears with one rename, so concurrent
// processes never see a half-written one; the loser of a race discards its copy.
func resolveModel(modelPath, cacheDir string, compile compileFunc) (string, error) {
	fi, err := os.Stat(modelPath)
	if err != nil {
		return "", fmt.Errorf("coreml: model: %w", err)
	}
	ext := strings.ToLower(filepath.Ext(strings.TrimRight(modelPath, `/\`)))
	switch {
	case ext == ".mlmodelc" && fi.IsDir():
		return modelPath, nil
	case ext == ".mlpackage" && fi.IsDir(), ext == ".mlmodel" && !fi.IsDir():
	default:
		return "", fmt.Errorf("coreml: model %s: want a compiled .mlmodelc directory, an .mlpackage directory or an .mlmodel file", modelPath)
	}
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("coreml: no cache directory for compiled models (use WithCacheDir): %w", err)
		}
		cacheDir = filepath.Join(base, cacheSubdir)
	}
	key, err := hashTree(modelPath)
	if err != nil {
		return "", fmt.Errorf("coreml: hashing %s: %w", modelPath, err)
	}
	entry := filepath.Join(cacheDir, key)
	compiled := filepath.Join(entry, compiledModelName)
	if st, err := os.Stat(compiled); err == nil && st.IsDir() {
		return compiled, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("coreml: creating model cache: %w", err)
	}
	tmpOut, err := compile(modelPath)
	if err != nil {
		return "", fmt.Errorf("coreml: compiling %s: %w", modelPath, err)
	}
	defer os.RemoveAll(tmpOut)
	staging, err := os.MkdirTemp(cacheDir, key+".tmp-")
	if err != nil {
		return "", fmt.Errorf("coreml: creating model cache entry: %w", err)
	}
	defer os.RemoveAll(staging) // a no-op once renamed
	if err := moveTree(tmpOut, filepath.Join(staging, compiledModelName)); err != nil {
		return "", fmt.Errorf("coreml: caching compiled model: %w", err)
	}
	if err := os.Rename(staging, entry); err != nil {
		// Another process may have installed the same entry meanwhile.
		if st, err2 := os.Stat(compiled); err2 == nil && st.IsDir() {
			return compiled, nil
		}
		return "", fmt.Errorf("coreml: installing compiled model in cache: %w", err)
	}
	return compiled, nil
}

// hashTree hashes the relative paths, kinds and contents of every file under root (or root
// itself if it is a file), in a fixed order.
func hashTree(root string) (string, error) {
	h := sha256.New()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: symbolic links are not supported in model packages", p)
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, p := range files {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return "", err
		}
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%d\x00", n)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// moveTree moves src to dst, copying when a rename is impossible (e.g. across volumes).
func moveTree(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	return copyTree(src, dst)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, target)
		default:
			return fmt.Errorf("%s: unsupported file type %v", p, d.Type())
		}
	})
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}

package coreml

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
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
	defer removeCompileOutput(tmpOut)
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

// hashTree hashes the relative paths and contents of every regular file under root (or root
// itself if it is a file), in a fixed order.
//
// Symbolic links are followed: Bazel hands a package to tests and `bazel run` as a runfiles
// tree whose files (or the package directory itself) are symlinks into the output base, and
// the hash must be that of the content reached. A link to a directory that is already being
// walked (a cycle) is an error.
func hashTree(root string) (string, error) {
	h := sha256.New()
	var files []string // relative, slash-separated
	var walk func(dir, rel string, active []os.FileInfo) error
	walk = func(dir, rel string, active []os.FileInfo) error {
		fi, err := os.Stat(dir) // follows links
		if err != nil {
			return err
		}
		for _, a := range active {
			if os.SameFile(a, fi) {
				return fmt.Errorf("%s: symbolic link cycle", dir)
			}
		}
		active = append(active, fi)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			r := path.Join(rel, e.Name())
			st, err := os.Stat(p) // follows links
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			switch {
			case st.IsDir():
				if err := walk(p, r, active); err != nil {
					return err
				}
			case st.Mode().IsRegular():
				files = append(files, r)
			default:
				return fmt.Errorf("%s: unsupported file type %v", p, st.Mode().Type())
			}
		}
		return nil
	}
	st, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		if err := walk(root, "", nil); err != nil {
			return "", err
		}
	} else {
		files = append(files, ".")
	}
	sort.Strings(files)
	for _, rel := range files {
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", rel)
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%d\x00", n)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// removeCompileOutput deletes a compiled model that +compileModelAtURL:error: left in a
// temporary location ("The URL of the compiled model in a temporary location", Apple's
// compileModelAtURL: docs) once it has been moved into the cache, and the folder Core ML
// created around it. The folder is removed only if it is then empty and is not the system
// temporary directory itself, so nothing but Core ML's own leftovers can go.
func removeCompileOutput(out string) {
	os.RemoveAll(out)
	parent := filepath.Dir(filepath.Clean(out))
	for _, tmp := range []string{os.TempDir(), os.Getenv("TMPDIR")} {
		if tmp != "" && sameDir(parent, tmp) {
			return
		}
	}
	os.Remove(parent) // fails, harmlessly, unless empty
}

func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
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

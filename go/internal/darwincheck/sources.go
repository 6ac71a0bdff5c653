package darwincheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Environment variables that configure the checker under Bazel (see BUILD.bazel). Values are
// runfiles paths as $(rootpath ...) expands them; a path to a file stands for the directory
// that holds it.
const (
	// EnvGOROOT points into the Go distribution: its root, or any file below it (the
	// distribution root is the nearest ancestor that holds src/runtime).
	EnvGOROOT = "DARWINCHECK_GOROOT"
	// EnvRoots is a ;-separated list of importPathPrefix=path.
	EnvRoots = "DARWINCHECK_ROOTS"
)

// FromEnv builds a Config from EnvGOROOT and EnvRoots. ok is false if EnvGOROOT is unset.
func FromEnv() (cfg Config, ok bool, err error) {
	gr := os.Getenv(EnvGOROOT)
	if gr == "" {
		return Config{}, false, nil
	}
	p, err := runfile(gr)
	if err != nil {
		return Config{}, true, err
	}
	for d := p; ; d = filepath.Dir(d) {
		if isDir(filepath.Join(d, "src", "runtime")) {
			cfg.GOROOT = d
			break
		}
		if filepath.Dir(d) == d {
			return Config{}, true, fmt.Errorf("darwincheck: %s=%s: no ancestor of %s holds src/runtime", EnvGOROOT, gr, p)
		}
	}
	cfg.Roots = map[string]string{}
	for _, kv := range strings.Split(os.Getenv(EnvRoots), ";") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		i := strings.IndexByte(kv, '=')
		if i < 1 {
			return Config{}, true, fmt.Errorf("darwincheck: %s: entry %q is not prefix=path", EnvRoots, kv)
		}
		p, err := runfile(kv[i+1:])
		if err != nil {
			return Config{}, true, err
		}
		if !isDir(p) {
			p = filepath.Dir(p)
		}
		cfg.Roots[kv[:i]] = p
	}
	return cfg, true, nil
}

// runfile finds a $(rootpath) value: relative to the main repository's runfiles directory
// (external repositories appear as ../repo/... or external/repo/...), or to the working
// directory.
func runfile(p string) (string, error) {
	if filepath.IsAbs(p) {
		return p, nil
	}
	var cands []string
	if srcdir := os.Getenv("TEST_SRCDIR"); srcdir != "" {
		ws := os.Getenv("TEST_WORKSPACE")
		cands = append(cands, filepath.Join(srcdir, ws, p))
		if strings.HasPrefix(p, "external/") {
			cands = append(cands, filepath.Join(srcdir, strings.TrimPrefix(p, "external/")))
		}
	}
	if rf := os.Getenv("RUNFILES_DIR"); rf != "" {
		cands = append(cands, filepath.Join(rf, os.Getenv("TEST_WORKSPACE"), p))
	}
	cands = append(cands, p)
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("darwincheck: runfile %q not found (tried %v)", p, cands)
}

// FromGoList builds a Config with the `go` command, for plain `go test`: GOROOT is the
// running toolchain's, and Roots maps every module that the packages matching patterns
// (and their tests) depend on, for darwin/arm64 with cgo, to its directory. moduleDir is
// where `go list` runs. It uses only modules already in the module cache or downloadable
// as `go list` would.
func FromGoList(moduleDir string, patterns ...string) (Config, error) {
	goroot := runtime.GOROOT()
	gobin := filepath.Join(goroot, "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			return Config{}, fmt.Errorf("darwincheck: no go command: %w", err)
		}
	}
	args := append([]string{"list", "-e", "-deps", "-test", "-json"}, patterns...)
	cmd := exec.Command(gobin, args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=1", "GOROOT="+goroot, "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Config{}, fmt.Errorf("darwincheck: %s %s: %v\n%s", gobin, strings.Join(args, " "), err, stderr.String())
	}
	type module struct {
		Path, Dir string
		Replace   *module
	}
	cfg := Config{GOROOT: goroot, Roots: map[string]string{}}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Module     *module
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return Config{}, fmt.Errorf("darwincheck: decoding go list output: %w", err)
		}
		if p.Error != nil {
			return Config{}, fmt.Errorf("darwincheck: go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		if m := p.Module; m != nil {
			dir := m.Dir
			if m.Replace != nil && m.Replace.Dir != "" {
				dir = m.Replace.Dir
			}
			if dir != "" {
				cfg.Roots[m.Path] = dir
			}
		}
	}
	return cfg, nil
}

// ModuleRoot walks up from dir to the directory holding go.mod.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("darwincheck: no go.mod above %s", dir)
		}
	}
}

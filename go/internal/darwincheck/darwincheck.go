// Package darwincheck type-checks darwin-only Go packages on any OS.
//
// Code that imports github.com/progrium/darwinkit needs cgo, Xcode and the macOS SDK to
// build, so on Linux it can be neither compiled nor vetted. It can still be type-checked:
// go/types with FakeImportC accepts references to the C pseudo-package without a C
// compiler. This catches wrong binding names, wrong argument types and wrong result types
// against darwinkit's real API; it does not link, and it cannot check Objective-C
// selectors sent with objc.Call or anything on the C side.
//
// The checker resolves imports itself, with go/build (GOOS=darwin, GOARCH=arm64, cgo on) for
// file selection and go/parser, so that it needs no `go` command and no module cache: it
// works from plain source trees, as inside a Bazel test sandbox. Dependencies are checked
// without function bodies; the target packages fully.
package darwincheck

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Config says where sources are and what platform to check for.
type Config struct {
	// GOROOT is the Go distribution whose src/ holds the standard library.
	GOROOT string
	// Roots maps an import path prefix (a module path, usually) to the directory holding
	// the package with that import path. The longest matching prefix wins.
	Roots map[string]string
	// GOOS and GOARCH default to darwin and arm64. Cgo is always enabled.
	GOOS, GOARCH string
}

// Target is a package to check with function bodies.
type Target struct {
	ImportPath string
	// Tests also checks the package's darwin-only _test.go files: in-package ones together
	// with the package, external ones (package x_test) as their own package.
	Tests bool
}

// Error is one type error, with its position made relative to the source root it is in.
type Error struct {
	Package string // import path, " [test]" or "_test" appended for test variants
	Pos     string
	Msg     string
	Dep     bool // in a dependency, not in a target
}

// Error implements error.
func (e Error) Error() string {
	kind := ""
	if e.Dep {
		kind = " (dependency; is the source tree or GOROOT version right?)"
	}
	return fmt.Sprintf("%s: %s%s", e.Pos, e.Msg, kind)
}

// Result lists what was checked and what failed.
type Result struct {
	Checked []string // target package variants, in order
	Loaded  int      // packages type-checked in all (targets and dependencies)
	Errors  []Error
}

// Check type-checks the targets and everything they import.
func Check(cfg Config, targets []Target) (*Result, error) {
	if cfg.GOOS == "" {
		cfg.GOOS = "darwin"
	}
	if cfg.GOARCH == "" {
		cfg.GOARCH = "arm64"
	}
	if st, err := os.Stat(filepath.Join(cfg.GOROOT, "src", "runtime")); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("darwincheck: GOROOT %q has no src/runtime", cfg.GOROOT)
	}
	minor, err := goMinor(cfg.GOROOT)
	if err != nil {
		return nil, err
	}
	c := &checker{
		cfg:  cfg,
		fset: token.NewFileSet(),
		pkgs: map[string]*types.Package{},
		busy: map[string]bool{},
		res:  &Result{},
	}
	c.ctx = build.Context{
		GOOS:        cfg.GOOS,
		GOARCH:      cfg.GOARCH,
		GOROOT:      cfg.GOROOT,
		CgoEnabled:  true,
		Compiler:    "gc",
		ReleaseTags: releaseTags(minor),
		ToolTags:    toolTags(cfg.GOARCH),
	}
	c.sizes = types.SizesFor("gc", cfg.GOARCH)
	if c.sizes == nil {
		return nil, fmt.Errorf("darwincheck: unknown GOARCH %q", cfg.GOARCH)
	}
	for _, t := range targets {
		if err := c.checkTarget(t); err != nil {
			return c.res, err
		}
	}
	c.res.Loaded = len(c.pkgs)
	return c.res, nil
}

type checker struct {
	cfg   Config
	ctx   build.Context
	fset  *token.FileSet
	sizes types.Sizes
	pkgs  map[string]*types.Package // by directory
	busy  map[string]bool           // import cycle detection, by directory
	res   *Result
}

func (c *checker) checkTarget(t Target) error {
	dir, err := c.resolve(t.ImportPath, "")
	if err != nil {
		return err
	}
	bp, err := c.ctx.ImportDir(dir, 0)
	if err != nil {
		return fmt.Errorf("darwincheck: %s (%s): %w", t.ImportPath, dir, err)
	}
	files := append(append([]string(nil), bp.GoFiles...), bp.CgoFiles...)
	name := t.ImportPath
	var tests, xtests []string
	if t.Tests {
		tests, xtests = c.darwinOnlyTests(dir, bp)
	}
	if len(tests) > 0 {
		files = append(files, tests...)
		name += " [test]"
	}
	if _, err := c.typeCheck(name, t.ImportPath, dir, files, true); err != nil {
		return err
	}
	c.res.Checked = append(c.res.Checked, name)
	if len(xtests) > 0 {
		xname := t.ImportPath + "_test"
		if _, err := c.typeCheck(xname, xname, dir, xtests, true); err != nil {
			return err
		}
		c.res.Checked = append(c.res.Checked, xname)
	}
	return nil
}

// darwinOnlyTests returns the package's _test.go files that build for darwin but not for
// linux. The other test files run with go test on any OS already, and may import test-only
// modules (testify) whose sources a Bazel sandbox does not provide; darwin-only test files
// must therefore not depend on them.
func (c *checker) darwinOnlyTests(dir string, bp *build.Package) (tests, xtests []string) {
	other := c.ctx
	other.GOOS = "linux"
	onLinux := map[string]bool{}
	if lp, err := other.ImportDir(dir, 0); err == nil {
		for _, f := range append(append([]string(nil), lp.TestGoFiles...), lp.XTestGoFiles...) {
			onLinux[f] = true
		}
	}
	for _, f := range bp.TestGoFiles {
		if !onLinux[f] {
			tests = append(tests, f)
		}
	}
	for _, f := range bp.XTestGoFiles {
		if !onLinux[f] {
			xtests = append(xtests, f)
		}
	}
	return tests, xtests
}

// resolve maps an import path to a directory. from is the directory of the importing package
// ("" for targets): standard library packages see GOROOT/src/vendor first.
func (c *checker) resolve(path, from string) (string, error) {
	src := filepath.Join(c.cfg.GOROOT, "src")
	if from != "" && within(from, src) {
		if d := filepath.Join(src, "vendor", filepath.FromSlash(path)); isDir(d) {
			return d, nil
		}
	}
	best := ""
	for prefix := range c.cfg.Roots {
		if (path == prefix || strings.HasPrefix(path, prefix+"/")) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best != "" {
		d := filepath.Join(c.cfg.Roots[best], filepath.FromSlash(strings.TrimPrefix(path[len(best):], "/")))
		if isDir(d) {
			return d, nil
		}
		return "", fmt.Errorf("darwincheck: package %s: no directory %s (root %s=%s)", path, d, best, c.cfg.Roots[best])
	}
	if d := filepath.Join(src, filepath.FromSlash(path)); isDir(d) {
		return d, nil
	}
	return "", fmt.Errorf("darwincheck: cannot find package %s: not in GOROOT %s and no root maps a prefix of it", path, c.cfg.GOROOT)
}

// ImportFrom implements types.ImporterFrom for dependencies.
func (c *checker) ImportFrom(path, fromDir string, _ types.ImportMode) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	dir, err := c.resolve(path, fromDir)
	if err != nil {
		return nil, err
	}
	if p := c.pkgs[dir]; p != nil {
		return p, nil
	}
	if c.busy[dir] {
		return nil, fmt.Errorf("darwincheck: import cycle through %s", path)
	}
	bp, err := c.ctx.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("darwincheck: %s (%s): %w", path, dir, err)
	}
	pkgPath := path
	if rel, ok := relTo(dir, filepath.Join(c.cfg.GOROOT, "src")); ok {
		pkgPath = rel // vendored std packages keep their "vendor/..." path, as gc does
	}
	c.busy[dir] = true
	defer delete(c.busy, dir)
	p, err := c.typeCheck(pkgPath, pkgPath, dir, append(append([]string(nil), bp.GoFiles...), bp.CgoFiles...), false)
	if err != nil {
		return nil, err
	}
	c.pkgs[dir] = p
	return p, nil
}

// Import implements types.Importer.
func (c *checker) Import(path string) (*types.Package, error) { return c.ImportFrom(path, "", 0) }

func (c *checker) typeCheck(name, pkgPath, dir string, fileNames []string, target bool) (*types.Package, error) {
	var files []*ast.File
	for _, fn := range fileNames {
		f, err := parser.ParseFile(c.fset, filepath.Join(dir, fn), nil, parser.SkipObjectResolution)
		if err != nil {
			c.res.Errors = append(c.res.Errors, Error{Package: name, Pos: c.shortPath(filepath.Join(dir, fn)), Msg: err.Error(), Dep: !target})
			continue
		}
		files = append(files, f)
	}
	conf := types.Config{
		Importer:         c,
		FakeImportC:      true,
		IgnoreFuncBodies: !target,
		Sizes:            c.sizes,
		Error: func(err error) {
			e := Error{Package: name, Msg: err.Error(), Dep: !target}
			if te, ok := err.(types.Error); ok {
				e.Msg = te.Msg
				e.Pos = c.shortPos(te.Fset.Position(te.Pos))
			}
			c.res.Errors = append(c.res.Errors, e)
		},
	}
	var info *types.Info
	if target {
		info = &types.Info{Uses: map[*ast.Ident]types.Object{}, Instances: map[*ast.Ident]types.Instance{}, Types: map[ast.Expr]types.TypeAndValue{}}
	}
	// Type errors are collected by conf.Error; the returned package is usable regardless.
	p, _ := conf.Check(pkgPath, c.fset, files, info)
	if target {
		for _, v := range nsArrayViolations(c.fset, files, info) {
			c.res.Errors = append(c.res.Errors, Error{Package: name, Pos: c.shortPos(v.pos), Msg: v.msg})
		}
	}
	return p, nil
}

func (c *checker) shortPos(p token.Position) string {
	return fmt.Sprintf("%s:%d:%d", c.shortPath(p.Filename), p.Line, p.Column)
}

// shortPath shows a file as <root prefix>/<rest> or GOROOT/src/<rest>.
func (c *checker) shortPath(file string) string {
	best, bestDir := "", ""
	for prefix, d := range c.cfg.Roots {
		if within(file, d) && len(d) > len(bestDir) {
			best, bestDir = prefix, d
		}
	}
	if bestDir != "" {
		rel, _ := filepath.Rel(bestDir, file)
		return best + "/" + filepath.ToSlash(rel)
	}
	if rel, ok := relTo(file, filepath.Join(c.cfg.GOROOT, "src")); ok {
		return "GOROOT/src/" + rel
	}
	return file
}

// Failures returns the errors as one readable report, or "" if there are none.
func (r *Result) Failures() string {
	if len(r.Errors) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d type error(s) checking %s for darwin/arm64 with cgo:\n", len(r.Errors), strings.Join(r.Checked, ", "))
	errs := append([]Error(nil), r.Errors...)
	sort.SliceStable(errs, func(i, j int) bool { return !errs[i].Dep && errs[j].Dep })
	for _, e := range errs {
		fmt.Fprintf(&b, "\t%s\n", e.Error())
	}
	return b.String()
}

var goVersionRE = regexp.MustCompile(`(?m)^const Version = (\d+)`)

// goMinor reads the Go 1.x minor version of the GOROOT sources.
func goMinor(goroot string) (int, error) {
	b, err := os.ReadFile(filepath.Join(goroot, "src", "internal", "goversion", "goversion.go"))
	if err != nil {
		return 0, fmt.Errorf("darwincheck: reading the Go version of GOROOT %s: %w", goroot, err)
	}
	m := goVersionRE.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("darwincheck: no Version constant in %s/src/internal/goversion/goversion.go", goroot)
	}
	return strconv.Atoi(string(m[1]))
}

func releaseTags(minor int) []string {
	var tags []string
	for i := 1; i <= minor; i++ {
		tags = append(tags, fmt.Sprintf("go1.%d", i))
	}
	return tags
}

// toolTags keeps the GOEXPERIMENT tags of the toolchain this checker was built with (they
// select runtime files; the GOROOT checked should be the same Go release) and replaces the
// host's architecture feature level with the target's baseline.
func toolTags(goarch string) []string {
	var tags []string
	for _, t := range build.Default.ToolTags {
		if strings.HasPrefix(t, "goexperiment.") {
			tags = append(tags, t)
		}
	}
	switch goarch {
	case "arm64":
		tags = append(tags, "arm64.v8.0")
	case "amd64":
		tags = append(tags, "amd64.v1")
	}
	return tags
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func within(p, dir string) bool {
	_, ok := relTo(p, dir)
	return ok
}

func relTo(p, dir string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

package darwincheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Packages lists every package of this module that only builds on darwin (it imports
// darwinkit). TestAllDarwinPackagesListed keeps the list complete.
var Packages = []string{
	"github.com/minilm-coreml/minilm/go/backend/coreml",
}

const modulePath = "github.com/minilm-coreml/minilm"

// config returns the checker configuration: from the environment under Bazel, else from
// `go list` and the module cache.
func config(t *testing.T) Config {
	t.Helper()
	cfg, ok, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		return cfg
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = FromGoList(root, Packages...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDarwinPackagesTypeCheck(t *testing.T) {
	cfg := config(t)
	var targets []Target
	for _, p := range Packages {
		targets = append(targets, Target{ImportPath: p, Tests: true})
	}
	res, err := Check(cfg, targets)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failures(); f != "" {
		t.Fatal(f)
	}
	t.Logf("type-checked %s for darwin/arm64 (cgo) against %d packages, no errors", strings.Join(res.Checked, ", "), res.Loaded)
}

// TestCatchesMisuse checks testdata/bad, which misuses darwinkit on purpose, and requires
// a readable error for each misuse.
func TestCatchesMisuse(t *testing.T) {
	cfg := config(t)
	bad, err := filepath.Abs(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Roots["example.com/darwincheck/bad"] = bad
	res, err := Check(cfg, []Target{{ImportPath: "example.com/darwincheck/bad"}})
	if err != nil {
		t.Fatal(err)
	}
	report := res.Failures()
	t.Logf("report for testdata/bad:\n%s", report)
	for _, want := range []string{
		"bad.go:17:",
		"Model_CompileModelAtURLError",
		"bad.go:21:",
		"ComputeUnitsCPUAndNeuralEngine",
		"bad.go:23:",
		"cannot use src (variable of type string) as",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, e := range res.Errors {
		if e.Dep {
			t.Errorf("unexpected error in a dependency: %v", e)
		}
	}
	if len(res.Errors) != 3 {
		t.Errorf("got %d errors, want 3", len(res.Errors))
	}
}

// TestCatchesNSArrayConversion checks testdata/badnsarray, which lets darwinkit convert
// NSArrays to slices (undefined for an empty array: to_c_array in objc/type_convertion.m),
// and requires exactly the marked lines to be reported.
func TestCatchesNSArrayConversion(t *testing.T) {
	cfg := config(t)
	bad, err := filepath.Abs(filepath.Join("testdata", "badnsarray"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Roots["example.com/darwincheck/badnsarray"] = bad
	res, err := Check(cfg, []Target{{ImportPath: "example.com/darwincheck/badnsarray"}})
	if err != nil {
		t.Fatal(err)
	}
	report := res.Failures()
	t.Logf("report for testdata/badnsarray:\n%s", report)
	want := []string{
		"bad.go:25:14: coreml.MultiArrayConstraint.Shape returns []foundation.Number",
		"bad.go:26:9: coreml.MultiArrayShapeConstraint.EnumeratedShapes returns [][]foundation.Number",
		"bad.go:27:11: coreml.MultiArray.Strides returns []foundation.Number",
		"bad.go:29:11: objc.Call returns []objc.Object",
		"bad.go:30:69: block passed to objc.Call has a parameter of type []foundation.Number",
	}
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if len(res.Errors) != len(want) {
		t.Errorf("got %d errors, want %d", len(res.Errors), len(want))
	}
}

// TestAllDarwinPackagesListed finds every package of the module that imports darwinkit and
// requires it in Packages. It needs the whole source tree, so it runs only under go test.
func TestAllDarwinPackagesListed(t *testing.T) {
	if _, ok, _ := FromEnv(); ok {
		t.Skip("the source tree is not available under Bazel; go test runs this check")
	}
	wd, _ := os.Getwd()
	root, err := ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, p := range Packages {
		listed[p] = true
	}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || strings.HasPrefix(n, "bazel-") || n == "third_party") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		usesDarwinkit := false
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "github.com/progrium/darwinkit/") {
				usesDarwinkit = true
			}
		}
		if !usesDarwinkit {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := modulePath + "/" + filepath.ToSlash(rel)
		if !listed[pkg] {
			t.Errorf("%s imports darwinkit, but its package %s is not in darwincheck.Packages", p, pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/mil"
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// TestMain says how many tests were skipped for want of the model directory.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		weights, activations, want string
	}{
		{"float16", "float16", "fp16"},
		{"int8", "float16", "int8"},
		{"int8", "int8", "int8"},
		{"float16", "int8", "int8"},
		{"palette8", "float16", "int8"},
		{"palette6", "float16", "int8"},
		{"int4", "float16", "4bit"},
		{"palette4", "float16", "4bit"},
		{"palette2", "int8", "4bit"},
	} {
		got, err := ClassOf(Compression{Weights: tc.weights, Activations: tc.activations})
		if err != nil || got != tc.want {
			t.Errorf("ClassOf(%s, %s) = %q, %v; want %q", tc.weights, tc.activations, got, err, tc.want)
		}
	}
	for _, c := range []Compression{{"float8", "float16"}, {"int8", "int4x"}, {"palette9", "float16"}, {"", ""}} {
		if got, err := ClassOf(c); err == nil {
			t.Errorf("ClassOf(%v) = %q, want an error", c, got)
		}
	}
	if _, err := classOfMetadata(map[string]string{"minilm.variant": "w8_per_channel"}); err == nil {
		t.Error("a package without minilm.compression got a class (from its name?)")
	}
	if got, err := classOfMetadata(map[string]string{CompressionKey: `{"weights":"int8","activations":"int8"}`}); err != nil || got != "int8" {
		t.Errorf("classOfMetadata(W8A8) = %q, %v; want int8", got, err)
	}
}

// declarationPath finds models/variants.bzl: from the runfiles root under Bazel (rundir "."),
// from this package's directory under go test.
func declarationPath(t *testing.T) string {
	for _, p := range []string{"models/variants.bzl", "../../../models/variants.bzl"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("models/variants.bzl not found (data dependency //models:variants.bzl)")
	return ""
}

// declaredVariant is one entry of models/variants.bzl's VARIANTS_JSON.
type declaredVariant struct {
	Name        string      `json:"name"`
	Flags       []string    `json:"flags"`
	Compression Compression `json:"compression"`
	Calibrated  bool        `json:"calibrated"`
	Release     bool        `json:"release"`
}

func readDeclaration(t *testing.T) []declaredVariant {
	b, err := os.ReadFile(declarationPath(t))
	if err != nil {
		t.Fatal(err)
	}
	const open = "VARIANTS_JSON = \"\"\""
	s := string(b)
	i := strings.Index(s, "\n"+open)
	if i < 0 {
		t.Fatalf("models/variants.bzl: no %s block", open)
	}
	s = s[i+1+len(open):]
	j := strings.Index(s, "\"\"\"")
	if j < 0 {
		t.Fatal("models/variants.bzl: VARIANTS_JSON block not closed")
	}
	var vs []declaredVariant
	if err := json.Unmarshal([]byte(s[:j]), &vs); err != nil {
		t.Fatalf("models/variants.bzl: VARIANTS_JSON: %v", err)
	}
	return vs
}

// TestDeclaredVariantsHaveAClass: every variant declared in models/variants.bzl gets its
// threshold class from its declared compression, and the class has thresholds. The
// converter records the same compression in each package (python/tests/
// test_variants_declaration.py checks the presets produce it), so the gate of every
// declared variant is defined.
func TestDeclaredVariantsHaveAClass(t *testing.T) {
	vs := readDeclaration(t)
	if len(vs) == 0 {
		t.Fatal("no variants declared")
	}
	for _, v := range vs {
		class, err := ClassOf(v.Compression)
		if err != nil {
			t.Errorf("variant %s: %v", v.Name, err)
			continue
		}
		if _, ok := thresholdsFor(class, true); !ok {
			t.Errorf("variant %s: class %q has no thresholds", v.Name, class)
		}
	}
}

func TestThresholdsCheck(t *testing.T) {
	th, _ := thresholdsFor("fp16", true)
	ok := &Result{Scores: &Scores{MeanCos: 0.99999, MinCos: 0.9995, Spearman: 0.82}, RefSpearman: 0.8203, DeltaSpearman: -0.0003}
	if f := th.check(ok); len(f) != 0 {
		t.Errorf("good result fails: %v", f)
	}
	nan := Float(math.NaN())
	bad := &Result{Scores: &Scores{MeanCos: nan, MinCos: -1, NonFinite: 3, Spearman: nan}, DeltaSpearman: nan}
	if f := th.check(bad); len(f) != 4 {
		t.Errorf("NaN result: %v", f)
	}
}

func TestUsage(t *testing.T) {
	if code := Main(nil, io.Discard, io.Discard); code != 2 {
		t.Errorf("no flags: exit %d, want 2", code)
	}
}

// envNoSkip, when set (//models:mlgate_broken_variants_test sets it), turns the skips of the
// tests on real converted packages into failures: there, a test that cannot run (a package
// missing, or without the constant or tables the test breaks) must not pass as skipped.
const envNoSkip = "MLGATE_TEST_NO_SKIP"

// skipf skips the test, or fails it when envNoSkip is set.
func skipf(t *testing.T, format string, args ...interface{}) {
	t.Helper()
	if os.Getenv(envNoSkip) != "" {
		t.Fatalf("%s is set, so this test must run: "+format, append([]interface{}{envNoSkip}, args...)...)
	}
	testmodel.Skipf(t, format, args...)
}

// realPackage returns $MINILM_MLPACKAGE (a converted all-MiniLM-L6-v2 .mlpackage) or skips.
func realPackage(t *testing.T) string {
	t.Helper()
	p := os.Getenv("MINILM_MLPACKAGE")
	if p == "" {
		skipf(t, "MINILM_MLPACKAGE is not set: point it at a converted .mlpackage (bazel test sets it)")
	}
	return p
}

func smallConfig(t *testing.T, pkg string, fp16 bool) config {
	return config{
		pkg: pkg, modelDir: testmodel.ModelDir(t),
		fixtures: filepath.Dir(testmodel.RepoFile(t, "testdata/fixtures/corpus.jsonl")),
		stsb:     testmodel.RepoFile(t, "testdata/stsb/stsb-test.tsv"),
		fp16:     fp16, quick: true, reference: "none", threads: 2, maxSeq: 256,
		limitTexts: 40, limitPairs: 40,
	}
}

// TestGateFailsFloat32MinMask rebuilds the classic float16 failure in a real package — the
// attention mask scaled by finfo(float32).min instead of -10000 — and checks that the gate
// fails it in --fp16 mode (NaN), while plain float32 execution would have let it through.
func TestGateFailsFloat32MinMask(t *testing.T) {
	path := realPackage(t)
	for _, fp16 := range []bool{true, false} {
		pkg, err := mlpackage.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if !mil.ReplaceMaskConstant(pkg, -math.MaxFloat32) {
			skipf(t, "%s has no -10000 mask constant to replace", path)
		}
		c := smallConfig(t, path, fp16)
		c.class = "fp16"
		res, err := RunPackage(context.Background(), c, pkg, io.Discard, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fp16=%v: pass=%v NaN/Inf=%d min cos %.6f failures %v", fp16, res.Pass, res.Scores.NonFinite, res.Scores.MinCos, res.Failures)
		if fp16 && (res.Pass || res.Scores.NonFinite == 0) {
			t.Errorf("fp16 mode passed a float32-min mask (NaN/Inf %d)", res.Scores.NonFinite)
		}
		if !fp16 && res.Scores.NonFinite != 0 {
			t.Errorf("fp32 mode: %d NaN/Inf with a float32-min mask", res.Scores.NonFinite)
		}
	}
}

// TestGateFailsCorruptLUT copies a palettized package, flips the sign byte of every
// palette entry in its weight file and checks that the gate fails the copy.
func TestGateFailsCorruptLUT(t *testing.T) {
	path := os.Getenv("MINILM_MLPACKAGE_PALETTIZED")
	if path == "" {
		path = realPackage(t)
	}
	pkg, err := mlpackage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	luts := lutBlobOffsets(t, pkg)
	if len(luts) == 0 {
		skipf(t, "%s has no constexpr_lut_to_dense (set MINILM_MLPACKAGE_PALETTIZED to a palettized package)", path)
	}
	dst := filepath.Join(t.TempDir(), "broken.mlpackage")
	copyTree(t, path, dst)
	wpath, err := pkg.BlobFilePath("@model_path/weights/weight.bin")
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(path, wpath)
	wfile := filepath.Join(dst, rel)
	data, err := os.ReadFile(wfile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mlpackage.ParseBlobFile(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range luts {
		m, err := f.Meta(off)
		if err != nil {
			t.Fatal(err)
		}
		if m.DataType != mlpackage.BlobFloat16 {
			t.Fatalf("lut blob of type %v", m.DataType)
		}
		for i := m.DataOffset; i+1 < m.DataOffset+m.Size; i += 2 {
			h := binary.LittleEndian.Uint16(data[i:])
			binary.LittleEndian.PutUint16(data[i:], h^0x8000) // negate the palette entry
		}
	}
	if err := os.WriteFile(wfile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c := smallConfig(t, dst, false)
	res, err := Run(context.Background(), c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("corrupt LUT: pass=%v mean cos %.4f min cos %.4f failures %v", res.Pass, res.Scores.MeanCos, res.Scores.MinCos, res.Failures)
	if res.Pass {
		t.Error("the gate passed a package with corrupted palettes")
	}
}

func lutBlobOffsets(t *testing.T, pkg *mlpackage.Package) []uint64 {
	blk, err := pkg.Model.Program.Functions["main"].Block()
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]*mlpackage.Value{}
	for _, op := range blk.Operations {
		if op.Type == "const" && len(op.Outputs) == 1 {
			consts[op.Outputs[0].Name] = op.Attributes["val"]
		}
	}
	var offs []uint64
	for _, op := range blk.Operations {
		if op.Type != "constexpr_lut_to_dense" {
			continue
		}
		for _, b := range op.Inputs["lut"] {
			v := b.Value
			if v == nil {
				v = consts[b.Name]
			}
			if v != nil && v.Blob != nil {
				offs = append(offs, v.Blob.Offset)
			}
		}
	}
	return offs
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil && !strings.Contains(err.Error(), "exist") {
		t.Fatal(err)
	}
}

package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/mil"
	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// The SmoothQuant rescaling of W8A8 (python/minilm_convert/smooth.py) must not change the
// float model: //models:smoothing_equivalence_test points envSmoothed at the float16 model
// converted with --smooth-quant (no quantization) and envUnsmoothed at the plain float16
// model. Unset, the test skips, so that //go/... never needs the conversion toolchain.
const (
	envSmoothed   = "MINILM_MLPACKAGE_SMOOTHED"
	envUnsmoothed = "MINILM_MLPACKAGE_UNSMOOTHED"
)

// smoothingMinCos is issue 17's bound: the smoothed float model equals the original before
// quantization, executed by go/mil.
const smoothingMinCos = 0.99999

// TestSmoothedFloatModelEqualsOriginal runs both packages with go/mil (float32 arithmetic
// on their float16 weights) on the whole fixture corpus and compares the pooled vectors.
func TestSmoothedFloatModelEqualsOriginal(t *testing.T) {
	smoothed := packageFromEnv(t, envSmoothed)
	plain := packageFromEnv(t, envUnsmoothed)
	modelDir := testmodel.ModelDir(t)
	d, err := LoadData(filepath.Dir(testmodel.RepoFile(t, "testdata/fixtures/corpus.jsonl")), testmodel.RepoFile(t, "testdata/stsb/stsb-test.tsv"), false)
	if err != nil {
		t.Fatal(err)
	}
	var vecs [2][][]float32
	var muls [2]int
	for i, pkg := range []*mlpackage.Package{smoothed, plain} {
		be, err := mil.NewBackendFromPackage(pkg)
		if err != nil {
			t.Fatal(err)
		}
		muls[i] = be.Program.Ops["mul"]
		vecs[i] = embedWith(t, be, modelDir, d.Texts)
	}
	// The smoothing adds an explicit 1/s mul before query/key/value, intermediate and output
	// dense in each of the 6 layers: a package without them was not smoothed.
	if muls[0] < muls[1]+18 {
		t.Errorf("the smoothed package has %d mul ops, the plain one %d: was it smoothed?", muls[0], muls[1])
	}
	minCos, sum, at := math.Inf(1), 0.0, -1
	for i := range d.Texts {
		c := float64(embed.Cosine(vecs[0][i], vecs[1][i]))
		if c != c {
			c = -1
		}
		sum += c
		if c < minCos {
			minCos, at = c, i
		}
	}
	t.Logf("smoothed vs original float model, go/mil, %d texts: min cosine %.7f (text %d), mean %.8f", len(d.Texts), minCos, at, sum/float64(len(d.Texts)))
	if !(minCos >= smoothingMinCos) {
		t.Errorf("min cosine %.7f < %g (text %d %q)", minCos, smoothingMinCos, at, d.Texts[at])
	}
}

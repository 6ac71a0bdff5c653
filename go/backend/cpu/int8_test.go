package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
)

// TestInt8Parity: the int8 encoder stays close to sentence-transformers on the fixture
// texts, each encoded alone (the corpus-wide thresholds are in go/embed's quality test).
func TestInt8Parity(t *testing.T) {
	b, err := New(testmodel.ModelDir(t), WithPrecision(Int8))
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, "cpu(int8)", b.Name())
	fx := loadFixture(t)
	sum, worst := 0.0, 1.0
	for _, c := range fx.Cases {
		cos := vecmath.Cosine(embedBatch(t, b, []refCase{c}, len(c.IDs))[0], c.Embedding)
		sum += cos
		if cos < worst {
			worst = cos
		}
		require.GreaterOrEqualf(t, cos, 0.98, "text %q (%d tokens)", c.Text, len(c.IDs))
	}
	ks := int8Kernels(&options{})
	t.Logf("int8 (%s) vs sentence-transformers over %d texts: mean cosine %.5f, min %.5f",
		ks.Name(), len(fx.Cases), sum/float64(len(fx.Cases)), worst)
}

// TestInt8FallbacksAgree: the encoder gives the same vectors with each int8 kernel set, the
// fallbacks forced on. The kernels agree bit for bit (go/internal/kernels tests that); the
// margin covers fma32's rare double rounding, which can move an activation one quantization
// step in the next layer.
func TestInt8FallbacksAgree(t *testing.T) {
	dir := testmodel.ModelDir(t)
	fx := loadFixture(t)
	cases := fx.Cases[:6]
	seq := maxLen(cases)
	var ref [][]float32
	var refName string
	for _, level := range []int{kernels.Int8Best, kernels.Int8AVXVNNI, kernels.Int8AVX2, kernels.Int8Go} {
		ks := kernels.SelectInt8(level)
		name := ks.Name()
		if name == refName {
			continue
		}
		b, err := New(dir, WithPrecision(Int8), withInt8Level(level), WithThreads(2))
		require.NoError(t, err)
		got := embedBatch(t, b, cases, seq)
		b.Close()
		if ref == nil {
			ref, refName = got, name
			continue
		}
		for i := range cases {
			require.GreaterOrEqualf(t, vecmath.Cosine(got[i], ref[i]), 0.99999, "%s vs %s, text %q", name, refName, cases[i].Text)
		}
		t.Logf("%s agrees with %s", name, refName)
	}
}

// BenchmarkForwardInt8 is BenchmarkForward with int8 weights and activations.
func BenchmarkForwardInt8(b *testing.B) {
	be, err := New(testmodel.ModelDir(b), WithPrecision(Int8))
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	benchForward(b, be)
}

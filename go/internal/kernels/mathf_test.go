package kernels

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

func ulpDiff(a, b float32) int64 {
	ia, ib := int64(int32(math.Float32bits(a))), int64(int32(math.Float32bits(b)))
	if ia < 0 {
		ia = math.MinInt32 - ia
	}
	if ib < 0 {
		ib = math.MinInt32 - ib
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

func TestExpf(t *testing.T) {
	var worst int64
	for x := float32(-87); x < 88; x += 0.00731 {
		want := float32(math.Exp(float64(x)))
		got := expf(x)
		if d := ulpDiff(got, want); d > worst {
			worst = d
		}
	}
	t.Logf("expf: worst %d ulp", worst)
	require.LessOrEqual(t, worst, int64(2))
	require.Equal(t, float32(0), expf(-1000))
	require.Equal(t, float32(1), expf(0))
	require.True(t, math.IsInf(float64(expf(1000)), 1))
}

func TestErff(t *testing.T) {
	var worstAbs float64
	for x := float32(-6); x < 6; x += 0.000913 {
		want := math.Erf(float64(x))
		d := math.Abs(float64(erff(x)) - want)
		if d > worstAbs {
			worstAbs = d
		}
	}
	t.Logf("erff: worst abs error %g", worstAbs)
	require.Less(t, worstAbs, 5e-7) // a few float32 ulps of values near ±1
}

func TestGELU(t *testing.T) {
	xs := []float32{-10, -5, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 3, 5, 10}
	v := append([]float32(nil), xs...)
	geluGo(v)
	for i, x := range xs {
		want := 0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2))
		require.InDelta(t, want, float64(v[i]), 1e-6*math.Max(1, math.Abs(want)), "x=%g", x)
	}
}

func TestVectorElementwiseMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, ks := range allKernels() {
		for _, n := range []int{1, 7, 8, 9, 16, 24, 31, 32, 48, 63, 128, 384, 513, 1536} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 4)
			}
			x[0] = -100 // exp underflow / erf clamp
			if n > 1 {
				x[n-1] = 9
			}
			g, want := append([]float32(nil), x...), append([]float32(nil), x...)
			ks.gelu(g)
			geluGo(want)
			for i := range g {
				require.InDeltaf(t, float64(want[i]), float64(g[i]), 1e-6*math.Max(1, math.Abs(float64(want[i]))), "%s gelu n=%d i=%d x=%g", ks.name, n, i, x[i])
			}
			s, want := append([]float32(nil), x...), append([]float32(nil), x...)
			ks.softmax(s)
			softmaxGo(want)
			var sum float64
			for i := range s {
				sum += float64(s[i])
				require.InDeltaf(t, float64(want[i]), float64(s[i]), 3e-6*math.Max(1e-3, float64(want[i])), "%s softmax n=%d i=%d", ks.name, n, i)
			}
			require.InDelta(t, 1, sum, 1e-5)
			if n%8 == 0 {
				l, want := append([]float32(nil), x...), append([]float32(nil), x...)
				g, bb := randVec(rng, n), randVec(rng, n)
				ks.layerNorm(l, g, bb, 1e-12)
				layerNormGo(want, g, bb, 1e-12)
				for i := range l {
					require.InDeltaf(t, float64(want[i]), float64(l[i]), 2e-5*math.Max(1, math.Abs(float64(want[i]))), "%s layerNorm n=%d i=%d", ks.name, n, i)
				}
			}
			y := randVec(rng, n)
			a, want := append([]float32(nil), x...), append([]float32(nil), x...)
			ks.Add(a, y)
			for i := range want {
				want[i] += y[i]
			}
			require.Equalf(t, want, a, "%s add n=%d", ks.name, n)
			e, want := append([]float32(nil), x...), append([]float32(nil), x...)
			inv, wantInv := ks.expNorm(e), expNormGo(want)
			require.InDelta(t, float64(wantInv), float64(inv), 3e-6*float64(wantInv), "%s expNorm n=%d", ks.name, n)
			for i := range e {
				require.InDeltaf(t, float64(want[i]), float64(e[i]), 1e-6*math.Max(1, float64(want[i])), "%s expNorm n=%d i=%d", ks.name, n, i)
			}
		}
	}
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}
